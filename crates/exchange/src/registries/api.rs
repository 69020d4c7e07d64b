//! The GovStack Digital Registries Data API (`/data/{registryName}/{versionNumber}/…`), for
//! the owning department's systems, and the registries' definition under `/api/v1`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, ListQuery, Registry, RegistryDraft, RegistryView};
use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;
use crate::web::extract::{ApiActor, ApiJson};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/data/myPersonalDataUsage", get(my_personal_data_usage))
        // The published JSON description spells it with a small p.
        .route("/data/mypersonalDataUsage", get(my_personal_data_usage))
        .route("/data/{name}/{version}/createEntries", post(create_entries))
        .route("/data/{name}/{version}", get(list))
        .route("/data/{name}/{version}/create", post(create))
        .route("/data/{name}/{version}/exists", post(exists))
        .route("/data/{name}/{version}/read", post(read))
        .route("/data/{name}/{version}/update", put(update))
        .route("/data/{name}/{version}/updateEntries", put(update_entries))
        .route(
            "/data/{name}/{version}/updateOrCreate",
            post(update_or_create),
        )
        .route("/data/{name}/{version}/{id}/delete", delete(remove))
        .route(
            "/data/{name}/{version}/{id}/readValue/{file}",
            get(read_value),
        )
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(registries))
        .routes(routes!(define))
}

/// Every digital registry (staff): its resource, ID item and items.
#[utoipa::path(get, path = "/api/v1/exchange/registries", tag = "exchange", security(("bearer" = [])),
    responses((status = 200, body = [RegistryView]), (status = 403, body = Problem)))]
async fn registries(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<RegistryView>>> {
    Ok(Json(service::registries(&state, &actor).await?))
}

/// Define a registry version over one of the department's resources (its administrators).
#[utoipa::path(put, path = "/api/v1/exchange/registries/{name}/{version}", tag = "exchange", security(("bearer" = [])),
    params(("name" = String, Path), ("version" = String, Path)), request_body = RegistryDraft,
    responses((status = 201, body = RegistryView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn define(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((name, version)): Path<(String, String)>,
    ApiJson(draft): ApiJson<RegistryDraft>,
) -> AppResult<(StatusCode, Json<RegistryView>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::define(&state, &actor, &name, &version, draft).await?),
    ))
}

/// `{"<key>": {"content": {...}}}` as the Data API nests its bodies.
fn content(
    body: &Value,
    key: &'static str,
    required: bool,
) -> AppResult<Option<Map<String, Value>>> {
    match body.get(key) {
        None if !required => Ok(None),
        None => Err(AppError::invalid(key, format!("{key}.content is required"))),
        Some(wrapper) => match wrapper.get("content") {
            Some(Value::Object(map)) => Ok(Some(map.clone())),
            _ => Err(AppError::invalid(
                key,
                format!("{key}.content must be an object"),
            )),
        },
    }
}

async fn kept(
    state: &AppState,
    actor: &crate::identity::model::Actor,
    headers: &HeaderMap,
    name: &str,
    version: &str,
) -> AppResult<Registry> {
    let registry = service::open(state, name, version).await?;
    let client = headers
        .get("information-mediator-client")
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    service::keeper(state, actor, client, &registry).await?;
    Ok(registry)
}

async fn list(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    Path((name, version)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> AppResult<Json<Value>> {
    let registry = kept(&state, &actor, &headers, &name, &version).await?;
    let query = list_query(&params)?;
    Ok(Json(
        service::list(&state, &actor, &registry, &query, None).await?,
    ))
}

/// Reads the list operation's query parameters.
pub fn list_query(params: &HashMap<String, String>) -> AppResult<ListQuery> {
    let number = |name: &'static str, default: usize| -> AppResult<usize> {
        params.get(name).map_or(Ok(default), |v| {
            v.parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| AppError::invalid(name, "a whole number from 1"))
        })
    };
    let descending = match params.get("ordering").map(String::as_str) {
        None | Some("ascending") | Some("asc") => false,
        Some("descending") | Some("desc") => true,
        Some(_) => return Err(AppError::invalid("ordering", "ascending or descending")),
    };
    let mut fields = Vec::new();
    for (key, value) in params {
        if let Some(field) = key.strip_prefix("query.") {
            fields.push((field.to_owned(), value.clone()));
        } else if !["search", "filter", "ordering", "page", "pageSize"].contains(&key.as_str()) {
            return Err(AppError::invalid(
                "query",
                format!("unknown parameter {key}"),
            ));
        }
    }
    fields.sort();
    Ok(ListQuery {
        search: params.get("search").cloned().filter(|s| !s.is_empty()),
        filter: params.get("filter").cloned().filter(|s| !s.is_empty()),
        descending,
        page: number("page", 1)?,
        page_size: number("pageSize", 10)?.min(100),
        fields,
    })
}

async fn create(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    Path((name, version)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Json<Value>> {
    let registry = kept(&state, &actor, &headers, &name, &version).await?;
    let write = content(&body, "write", true)?.unwrap_or_default();
    let created = service::create(&state, &actor, &registry, write).await?;
    Ok(Json(json!({"content": created})))
}

async fn exists(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    Path((name, version)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Json<Value>> {
    let registry = kept(&state, &actor, &headers, &name, &version).await?;
    let query = content(&body, "query", true)?.unwrap_or_default();
    Ok(Json(exists_answer(
        service::exists(&state, &actor, &registry, &query).await?,
    )))
}

pub fn exists_answer(found: bool) -> Value {
    json!({"answer": {
        "status": found,
        "message": if found { "Object found from database" } else { "Object not found from database" },
    }})
}

async fn read(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    Path((name, version)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Response> {
    let registry = kept(&state, &actor, &headers, &name, &version).await?;
    let query = content(&body, "query", true)?.unwrap_or_default();
    match service::read(&state, &actor, &registry, &query, None).await {
        Ok(found) => Ok(read_answer(found)),
        // Not found answers as the specification documents it, whatever the reason.
        Err(crate::error::AppError::NotFound) => Ok(read_answer(None)),
        Err(other) => Err(other),
    }
}

pub fn read_answer(found: Option<Map<String, Value>>) -> Response {
    match found {
        Some(content) => Json(json!({"content": content})).into_response(),
        // The specification documents this answer as `application/json` with its `detail`.
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"title": "Not Found", "status": 404, "detail": "no record found"})),
        )
            .into_response(),
    }
}

/// Creates several records at once (`{"write": [{"content": {...}}, ...]}`): all or none.
async fn create_entries(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    Path((name, version)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<(StatusCode, Json<Value>)> {
    let registry = kept(&state, &actor, &headers, &name, &version).await?;
    let entries = body["write"]
        .as_array()
        .ok_or_else(|| AppError::invalid("write", "a list of {content: {...}}"))?;
    if entries.is_empty() || entries.len() > 1000 {
        return Err(AppError::invalid("write", "1–1000 entries"));
    }
    let mut records = Vec::with_capacity(entries.len());
    for entry in entries {
        match entry.get("content") {
            Some(Value::Object(map)) => records.push(map.clone()),
            _ => return Err(AppError::invalid("write", "each entry is {content: {...}}")),
        }
    }
    let created = service::create_all(&state, &actor, &registry, records).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"receive": created.into_iter().map(|c| json!({"content": c})).collect::<Vec<_>>()}),
        ),
    ))
}

async fn update(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    Path((name, version)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Json<Value>> {
    let registry = kept(&state, &actor, &headers, &name, &version).await?;
    let query = content(&body, "query", false)?;
    let write = content(&body, "write", true)?.unwrap_or_default();
    let n = service::update(&state, &actor, &registry, query.as_ref(), &write, false).await?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    Ok(Json(json!({"updated": n})))
}

async fn update_entries(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    Path((name, version)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Json<Value>> {
    let registry = kept(&state, &actor, &headers, &name, &version).await?;
    let query = content(&body, "query", false)?;
    let write = content(&body, "write", true)?.unwrap_or_default();
    let n = service::update(&state, &actor, &registry, query.as_ref(), &write, true).await?;
    Ok(Json(json!({"updated": n})))
}

async fn update_or_create(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    Path((name, version)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Json<Value>> {
    let registry = kept(&state, &actor, &headers, &name, &version).await?;
    let query = content(&body, "query", false)?;
    let write = content(&body, "write", true)?.unwrap_or_default();
    let record =
        service::update_or_create(&state, &actor, &registry, query.as_ref(), write).await?;
    Ok(Json(json!({"content": record})))
}

async fn remove(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    Path((name, version, id)): Path<(String, String, String)>,
) -> AppResult<StatusCode> {
    let registry = kept(&state, &actor, &headers, &name, &version).await?;
    if service::delete(&state, &actor, &registry, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

#[derive(Deserialize)]
struct ValuePath {
    name: String,
    version: String,
    id: String,
    file: String,
}

async fn read_value(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    Path(path): Path<ValuePath>,
) -> AppResult<Response> {
    let registry = kept(&state, &actor, &headers, &path.name, &path.version).await?;
    let (field, ext) = path
        .file
        .rsplit_once('.')
        .ok_or_else(|| AppError::invalid("field", "{field}.{ext}, e.g. name.json"))?;
    let value = service::read_value(&state, &actor, &registry, &path.id, field).await?;
    match ext {
        "json" => Ok(Json(json!({"value": value})).into_response()),
        "txt" => Ok(match value {
            Value::String(text) => text,
            other => other.to_string(),
        }
        .into_response()),
        _ => Err(AppError::invalid("ext", "json or txt")),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageQuery {
    user_id: Option<String>,
    database_id: Option<String>,
}

/// `myPersonalDataUsage`: a person sees who read their personal data — every access the
/// audited accessor recorded, through any registry or service. `userId` is the caller's own
/// ID number (anyone else's is refused); `databaseId` is required by the building block and
/// recorded in no way (tongban's access view spans every registry).
async fn my_personal_data_usage(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    Query(query): Query<UsageQuery>,
) -> AppResult<Json<Vec<Value>>> {
    use base64::Engine as _;
    let client = headers
        .get("information-mediator-client")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            AppError::BadRequest("the Information-Mediator-Client header is required".into())
        })?;
    tongban_codes::xroad::parse_client(client).map_err(|why| AppError::BadRequest(why.into()))?;
    let user = query
        .user_id
        .filter(|u| !u.is_empty())
        .ok_or_else(|| AppError::invalid("userId", "required: your ID number"))?;
    query
        .database_id
        .filter(|d| !d.is_empty())
        .ok_or_else(|| AppError::invalid("databaseId", "required"))?;
    let resident: tongban_core::ResidentId = user
        .parse()
        .map_err(|_| AppError::invalid("userId", "not a valid ID number"))?;
    let person = crate::identity::personal::person_id_by_resident_id(&state, &resident).await?;
    if person.is_none() || person != actor.account.person_id {
        return Err(AppError::NotFound);
    }
    let records = crate::identity::personal::my_access_records(&state, &actor, 500).await?;
    Ok(Json(
        records
            .into_iter()
            .map(|r| {
                let entry: Value = r
                    .entry
                    .as_deref()
                    .and_then(|e| base64::engine::general_purpose::STANDARD.decode(e).ok())
                    .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                    .unwrap_or(Value::Null);
                let reference = entry["request_id"]
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| r.ledger_index.map(|i| i.to_string()))
                    .unwrap_or_default();
                json!({
                    "id": r.ledger_index.map(|i| i.to_string()).unwrap_or_default(),
                    "readerId": entry["actor"].as_str().unwrap_or(&r.actor_role),
                    "readerInstitutionId": entry["department"].as_str().unwrap_or_default(),
                    "readerInstitutionName": r.department.unwrap_or_default(),
                    "readerApplicationName": r.purpose,
                    "searchDateTime": crate::time_fmt::rfc3339(r.at),
                    "refrences": [{"ReferenceID": reference}],
                })
            })
            .collect(),
    ))
}
