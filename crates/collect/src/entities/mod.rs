//! Entity lists (ODK calls them datasets): a project's named lists of things collected once and
//! used again — the households of a village, the shops of a street — each entity with a label
//! and string properties, versioned, at Central's addresses so that `pyodk`'s entity calls work
//! unchanged:
//!
//! | | |
//! | --- | --- |
//! | `GET, POST /v1/projects/{id}/datasets` | the project's lists; make one (`{"name", "approvalRequired"}`) |
//! | `GET /v1/projects/{id}/datasets/{name}` | a list with its properties |
//! | `POST …/datasets/{name}/properties` | add a property (`{"name"}`) |
//! | `GET, POST …/datasets/{name}/entities` | the entities (metadata); make one (`{"uuid", "label", "data"}`) or many (`{"entities": […], "source": {"name"}}`) |
//! | `GET, PATCH, DELETE …/entities/{uuid}` | one entity with its data; update it from the version it was based on (`?baseVersion=n`, or `?force=true`); delete it |
//! | `GET …/datasets/{name}.svc/Entities` | the OData table (`$top`, `$skip`, `$count`) |
//!
//! Only the project's own staff read and write its lists (the office approves forms, it does
//! not read what they collect). An entity's label and data may name persons: they are sealed at
//! rest together, under the entity's own context.

pub mod content;
pub mod lists;
pub mod made;
pub mod store;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::odk::{OdkError, OdkQuery, OdkResult, project_id, staff};
use crate::service;
use crate::state::AppState;
use crate::store::Project;
use crate::time_fmt::rfc3339;
use content::{Content, check_uuid, invalid, open, seal};
pub use content::{MAX_BULK, MAX_PROPERTIES, MAX_TEXT};
use store::{Dataset, EntityRow};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/projects/{project}/datasets",
            get(list_datasets).post(create_dataset),
        )
        .route("/v1/projects/{project}/datasets/{name}", get(get_dataset))
        .route(
            "/v1/projects/{project}/datasets/{name}/properties",
            axum::routing::post(add_property),
        )
        .route(
            "/v1/projects/{project}/datasets/{name}/entities",
            get(list_entities).post(create_entities),
        )
        .route(
            "/v1/projects/{project}/datasets/{name}/entities/{uuid}",
            get(get_entity).patch(update_entity).delete(delete_entity),
        )
        .route(
            "/v1/projects/{project}/datasets/{name}/{table}",
            get(entity_table),
        )
}

/// A list's or a property's name: an XML name, not starting with `__` (ODK's rule), at most
/// 64 characters.
fn check_name(field: &'static str, name: &str) -> AppResult<()> {
    if name.chars().count() > 64 || name.starts_with("__") || !tongban_xform::is_xml_name(name) {
        return Err(invalid(
            field,
            format!(
                "{name:?} is not a valid name: a letter or _ first, then letters, digits, _, - or ., at most 64 characters"
            ),
        ));
    }
    Ok(())
}

async fn project_of(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> OdkResult<(Actor, Project)> {
    let actor = staff(state, headers).await?;
    let project = service::project_run_by(state, &actor, project_id(id)?).await?;
    Ok((actor, project))
}

async fn dataset_of(state: &AppState, project: &Project, name: &str) -> AppResult<Dataset> {
    store::dataset(state.pool(), project.id, name)
        .await?
        .ok_or(AppError::NotFound)
}

fn dataset_json(d: &Dataset) -> Value {
    json!({
        "name": d.name,
        "createdAt": rfc3339(d.created_at),
        "projectId": d.project_id,
        "approvalRequired": d.approval_required != 0,
        "ownerOnly": false,
    })
}

async fn dataset_metadata(state: &AppState, d: &Dataset) -> AppResult<Value> {
    let properties: Vec<Value> = store::properties(state.pool(), d.project_id, &d.name)
        .await?
        .into_iter()
        .map(|(name, at)| {
            json!({"name": name, "odataName": name.replace(['.', '-'], "_"), "publishedAt": rfc3339(at), "forms": []})
        })
        .collect();
    let mut out = dataset_json(d);
    if let Value::Object(map) = &mut out {
        map.insert("properties".into(), Value::Array(properties));
        map.insert("sourceForms".into(), json!([]));
        map.insert("linkedForms".into(), json!([]));
    }
    Ok(out)
}

async fn list_datasets(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    OdkQuery(query): OdkQuery<crate::odk::ListingQuery>,
) -> OdkResult<Response> {
    query.plain()?;
    let (_, project) = project_of(&state, &headers, &id).await?;
    let list: Vec<Value> = store::datasets(state.pool(), project.id)
        .await?
        .iter()
        .map(dataset_json)
        .collect();
    Ok(axum::Json(list).into_response())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewDataset {
    name: String,
    #[serde(default)]
    approval_required: bool,
    #[serde(default)]
    owner_only: bool,
}

fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes, shape: &str) -> AppResult<T> {
    serde_json::from_slice(bytes).map_err(|e| invalid("body", format!("expected {shape}: {e}")))
}

async fn create_dataset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> OdkResult<Response> {
    let (actor, project) = project_of(&state, &headers, &id).await?;
    let request: NewDataset = body(&bytes, "{\"name\": …}")?;
    check_name("name", &request.name)?;
    if request.owner_only {
        return Err(OdkError(invalid(
            "ownerOnly",
            "lists limited to their creators are not offered",
        )));
    }
    let dataset = Dataset {
        project_id: project.id,
        name: request.name.clone(),
        approval_required: i64::from(request.approval_required),
        created_by: actor.id().to_owned(),
        created_at: state.now(),
    };
    if !store::add_dataset(state.pool(), &dataset).await? {
        return Err(OdkError(AppError::Conflict(format!(
            "A resource already exists with name,projectId value(s) of {},{}.",
            request.name, project.id
        ))));
    }
    Ok(axum::Json(dataset_metadata(&state, &dataset).await?).into_response())
}

async fn get_dataset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, name)): Path<(String, String)>,
) -> OdkResult<Response> {
    let (_, project) = project_of(&state, &headers, &id).await?;
    let dataset = dataset_of(&state, &project, &name).await?;
    Ok(axum::Json(dataset_metadata(&state, &dataset).await?).into_response())
}

#[derive(serde::Deserialize)]
struct NewProperty {
    name: String,
}

async fn add_property(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, name)): Path<(String, String)>,
    bytes: Bytes,
) -> OdkResult<Response> {
    let (_, project) = project_of(&state, &headers, &id).await?;
    let dataset = dataset_of(&state, &project, &name).await?;
    let request: NewProperty = body(&bytes, "{\"name\": …}")?;
    check_name("name", &request.name)?;
    if matches!(request.name.as_str(), "name" | "label") {
        return Err(OdkError(invalid(
            "name",
            "name and label are not property names",
        )));
    }
    let existing = store::properties(state.pool(), project.id, &dataset.name).await?;
    if existing.len() >= MAX_PROPERTIES {
        return Err(OdkError(invalid(
            "name",
            format!("at most {MAX_PROPERTIES} properties"),
        )));
    }
    if !store::add_property(
        state.pool(),
        project.id,
        &dataset.name,
        &request.name,
        state.now(),
    )
    .await?
    {
        return Err(OdkError(AppError::Conflict(format!(
            "the list {} has the property {} already",
            dataset.name, request.name
        ))));
    }
    Ok(axum::Json(json!({"success": true})).into_response())
}

/// Checks a label and data against the list's properties (every value a string).
fn check_content(
    label: Option<&str>,
    data: &Map<String, Value>,
    properties: &[(String, i64)],
) -> AppResult<()> {
    if let Some(label) = label
        && (label.trim().is_empty() || label.chars().count() > MAX_TEXT)
    {
        return Err(invalid("label", "a label of 1 to 10,000 characters"));
    }
    for (key, value) in data {
        if !properties.iter().any(|(name, _)| name == key) {
            return Err(invalid(
                "data",
                format!("the list has no property {key:?}: add it first"),
            ));
        }
        match value {
            Value::String(text) if text.chars().count() <= MAX_TEXT => {}
            Value::String(_) => {
                return Err(invalid("data", format!("{key}: at most 10,000 characters")));
            }
            _ => return Err(invalid("data", format!("{key}: every value is a string"))),
        }
    }
    Ok(())
}

fn entity_json(row: &EntityRow, content: &Content, with_data: bool) -> Value {
    let mut version = json!({
        "label": content.label,
        "current": true,
        "createdAt": rfc3339(row.updated_at.unwrap_or(row.created_at)),
        "creatorId": row.creator_id,
        "userAgent": "",
        "version": row.version,
        "baseVersion": (row.version > 1).then_some(row.version - 1),
        "conflictingProperties": null,
    });
    if with_data && let Value::Object(map) = &mut version {
        map.insert("data".into(), Value::Object(content.data.clone()));
    }
    json!({
        "uuid": row.uuid,
        "creatorId": row.creator_id,
        "createdAt": rfc3339(row.created_at),
        "updatedAt": row.updated_at.map(rfc3339),
        "deletedAt": row.deleted_at.map(rfc3339),
        "conflict": null,
        "currentVersion": version,
    })
}

async fn list_entities(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, name)): Path<(String, String)>,
) -> OdkResult<Response> {
    let (_, project) = project_of(&state, &headers, &id).await?;
    let dataset = dataset_of(&state, &project, &name).await?;
    let rows = store::entities(state.pool(), project.id, &dataset.name, 0, 100_000).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(entity_json(row, &open(&state, row)?, false));
    }
    Ok(axum::Json(out).into_response())
}

#[derive(serde::Deserialize)]
struct NewEntity {
    #[serde(default)]
    uuid: Option<String>,
    label: String,
    #[serde(default)]
    data: Map<String, Value>,
}

#[derive(serde::Deserialize)]
struct NewEntities {
    entities: Vec<NewEntity>,
    source: Value,
}

async fn create_entities(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, name)): Path<(String, String)>,
    bytes: Bytes,
) -> OdkResult<Response> {
    let (actor, project) = project_of(&state, &headers, &id).await?;
    let dataset = dataset_of(&state, &project, &name).await?;
    let properties = store::properties(state.pool(), project.id, &dataset.name).await?;
    let value: Value = body(&bytes, "an entity or {\"entities\": […], \"source\": …}")?;
    let bulk = value.get("entities").is_some();
    let requests: Vec<NewEntity> = if bulk {
        let many: NewEntities = serde_json::from_value(value).map_err(|e| {
            invalid(
                "body",
                format!("expected {{\"entities\": […], \"source\": {{\"name\": …}}}}: {e}"),
            )
        })?;
        if many
            .source
            .get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(OdkError(invalid("source", "a source with its name")));
        }
        if many.entities.is_empty() || many.entities.len() > MAX_BULK {
            return Err(OdkError(invalid(
                "entities",
                format!("1 to {MAX_BULK} entities"),
            )));
        }
        many.entities
    } else {
        vec![serde_json::from_value(value).map_err(|e| {
            invalid(
                "body",
                format!("expected {{\"label\": …, \"data\": {{…}}}}: {e}"),
            )
        })?]
    };
    let creator = service::staff_id(&state, &actor).await?;
    let now = state.now();
    let mut rows = Vec::with_capacity(requests.len());
    let mut contents = Vec::with_capacity(requests.len());
    for request in requests {
        check_content(Some(&request.label), &request.data, &properties)?;
        let uuid = match &request.uuid {
            Some(given) => check_uuid(given)?,
            None => uuid::Uuid::new_v4().to_string(),
        };
        let mut row = EntityRow {
            project_id: project.id,
            dataset: dataset.name.clone(),
            uuid,
            body_sealed: Vec::new(),
            version: 1,
            creator_id: creator,
            created_at: now,
            updated_at: None,
            deleted_at: None,
            region_code: None,
            source_instance: None,
        };
        let content = Content {
            label: request.label,
            data: request.data,
        };
        seal(&state, &mut row, &content)?;
        rows.push(row);
        contents.push(content);
    }
    if !store::add_entities(state.pool(), &rows).await? {
        return Err(OdkError(AppError::Conflict(
            "an entity with one of these uuids exists already; nothing was added".into(),
        )));
    }
    if bulk {
        return Ok(axum::Json(json!({"success": true})).into_response());
    }
    Ok(axum::Json(entity_json(&rows[0], &contents[0], true)).into_response())
}

async fn entity_of(
    state: &AppState,
    project: &Project,
    dataset: &str,
    uuid: &str,
) -> AppResult<EntityRow> {
    let uuid = check_uuid(uuid).map_err(|_| AppError::NotFound)?;
    store::entity(state.pool(), project.id, dataset, &uuid)
        .await?
        .filter(|row| row.deleted_at.is_none())
        .ok_or(AppError::NotFound)
}

async fn get_entity(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, name, uuid)): Path<(String, String, String)>,
) -> OdkResult<Response> {
    let (_, project) = project_of(&state, &headers, &id).await?;
    let dataset = dataset_of(&state, &project, &name).await?;
    let row = entity_of(&state, &project, &dataset.name, &uuid).await?;
    let content = open(&state, &row)?;
    Ok(axum::Json(entity_json(&row, &content, true)).into_response())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateQuery {
    #[serde(default)]
    base_version: Option<i64>,
    #[serde(default)]
    force: Option<bool>,
}

#[derive(serde::Deserialize)]
struct EntityChange {
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    data: Map<String, Value>,
}

/// Updates an entity from the version it was based on: the label if given, the properties
/// given (an empty string clears one), the others kept. A stale base version is refused (409)
/// rather than overwriting another collector's change; `force=true` overwrites knowingly.
async fn update_entity(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, name, uuid)): Path<(String, String, String)>,
    OdkQuery(query): OdkQuery<UpdateQuery>,
    bytes: Bytes,
) -> OdkResult<Response> {
    let (_, project) = project_of(&state, &headers, &id).await?;
    let dataset = dataset_of(&state, &project, &name).await?;
    let change: EntityChange = body(&bytes, "{\"label\": …, \"data\": {…}}")?;
    let properties = store::properties(state.pool(), project.id, &dataset.name).await?;
    check_content(change.label.as_deref(), &change.data, &properties)?;
    let current = entity_of(&state, &project, &dataset.name, &uuid).await?;
    let base = match (query.base_version, query.force) {
        (Some(base), None) => base,
        (None, Some(true)) => current.version,
        _ => {
            return Err(OdkError(invalid(
                "baseVersion",
                "give the version the change is based on (baseVersion), or force=true",
            )));
        }
    };
    if base != current.version {
        return Err(OdkError(AppError::Conflict(format!(
            "the entity is at version {}, not {base}: read it again and apply the change to it",
            current.version
        ))));
    }
    let mut content = open(&state, &current)?;
    if let Some(label) = change.label {
        content.label = label;
    }
    for (key, value) in change.data {
        content.data.insert(key, value);
    }
    let mut next = current.clone();
    next.version = current.version + 1;
    next.updated_at = Some(state.now());
    seal(&state, &mut next, &content)?;
    if !store::update_entity(state.pool(), &next, current.version).await? {
        return Err(OdkError(AppError::Conflict(
            "the entity was changed meanwhile: read it again".into(),
        )));
    }
    Ok(axum::Json(entity_json(&next, &content, true)).into_response())
}

async fn delete_entity(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, name, uuid)): Path<(String, String, String)>,
) -> OdkResult<Response> {
    let (_, project) = project_of(&state, &headers, &id).await?;
    let dataset = dataset_of(&state, &project, &name).await?;
    let row = entity_of(&state, &project, &dataset.name, &uuid).await?;
    store::delete_entity(
        state.pool(),
        project.id,
        &dataset.name,
        &row.uuid,
        state.now(),
    )
    .await?;
    Ok(axum::Json(json!({"success": true})).into_response())
}

/// The OData table of a list's entities (`{name}.svc/Entities`).
async fn entity_table(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, service_name, table)): Path<(String, String, String)>,
    OdkQuery(query): OdkQuery<crate::odk::ODataQuery>,
) -> OdkResult<Response> {
    let (Some(name), "Entities") = (service_name.strip_suffix(".svc"), table.as_str()) else {
        return Err(OdkError(AppError::NotFound));
    };
    query.refuse_unsupported()?;
    let (_, project) = project_of(&state, &headers, &id).await?;
    let dataset = dataset_of(&state, &project, name).await?;
    let (skip, top) = query.page()?;
    let rows = store::entities(state.pool(), project.id, &dataset.name, skip, top).await?;
    let creators: std::collections::HashMap<i64, String> = crate::store::collector_names(
        state.pool(),
        &rows.iter().map(|r| r.creator_id).collect::<Vec<_>>(),
    )
    .await?
    .into_iter()
    .collect();
    let mut value = Vec::with_capacity(rows.len());
    for row in &rows {
        let content = open(&state, row)?;
        let mut record = Map::new();
        record.insert("__id".into(), json!(row.uuid));
        record.insert("label".into(), json!(content.label));
        record.insert(
            "__system".into(),
            json!({
                "createdAt": rfc3339(row.created_at),
                "creatorId": row.creator_id.to_string(),
                "creatorName": creators.get(&row.creator_id),
                "updates": row.version - 1,
                "updatedAt": row.updated_at.map(rfc3339),
                "version": row.version,
                "conflict": null,
            }),
        );
        for (key, value) in content.data {
            record.insert(key.replace(['.', '-'], "_"), value);
        }
        value.push(Value::Object(record));
    }
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(format!(
            "/v1/projects/{}/datasets/{}.svc/$metadata#Entities",
            project.id, dataset.name
        )),
    );
    if query.wants_count() {
        out.insert(
            "@odata.count".into(),
            json!(store::entity_count(state.pool(), project.id, &dataset.name).await?),
        );
    }
    out.insert("value".into(), Value::Array(value));
    Ok(axum::Json(Value::Object(out)).into_response())
}
