//! The CKAN Action API, at `/api/3/action/{name}` and `/api/action/{name}`, GET and POST, so
//! that CKAN's clients (ckanapi, harvesters, the scripts portals already run) work unchanged.
//!
//! Every answer is CKAN's envelope: `{"help", "success": true, "result"}`, or `"success":
//! false` with an `error` whose `__type` a client turns back into its exception: `Not Found
//! Error` (404), `Validation Error` (409, each field with its messages), `Authorization
//! Error` (403), `Search Query Error` (409), `Bad Request` (400). Parameters come as the query
//! (GET), a JSON object, a form, or a multipart form with the file in `upload`. Publishers
//! authenticate with an API token in `Authorization` (bare, as CKAN sends it, or `Bearer`) or
//! `X-CKAN-API-Key`.
//!
//! The API level is CKAN 2.10's. What tongban adds to a dataset (English title and notes,
//! frequency, temporal and spatial coverage) are top-level fields, as ckanext-scheming adds
//! them; what the personal-data gate found is shown to the publishing department only.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value, json};

use crate::error::AppError;
use crate::identity::model::Actor;
use crate::model::{self, Dataset, Organization, Resource, ResourceState};
use crate::service::{self, Catalogue, DatasetInput, Entry, FacetColumn, ResourceInput, Upload};
pub use crate::service::{FACETS, facet_values};
use crate::state::AppState;
use crate::store;
use crate::table::{ColumnType, Field};

/// The most rows `package_search` returns at once.
pub const MAX_ROWS: i64 = 1000;
/// The most records `datastore_search` returns at once (CKAN's).
pub const MAX_RECORDS: i64 = 32_000;

pub fn routes() -> Router<AppState> {
    let limit = axum::extract::DefaultBodyLimit::max(service::MAX_UPLOAD + 1024 * 1024);
    Router::new()
        .route("/api/3/action/{name}", any(action).layer(limit))
        .route("/api/action/{name}", any(action).layer(limit))
        .route(
            "/api/3",
            any(|| async { axum::Json(json!({"version": 3})) }),
        )
        .route("/datastore/dump/{id}", axum::routing::get(dump))
}

/// The most rows one export holds.
pub const MAX_DUMP: i64 = 10_000_000;
/// Rows read from the datastore per step of an export.
const DUMP_STEP: i64 = 5_000;

/// `/datastore/dump/{id}`: the rows of a published resource's datastore as CSV, with the
/// query parameters of `datastore_search` (`filters`, `q`, `sort`, `fields`, `limit`,
/// `offset`) and `bom=true` for a UTF-8 byte-order mark (which spreadsheet programs set to
/// Chinese need to read UTF-8). Streamed in steps, so an export of millions of rows holds
/// only one step in memory.
async fn dump(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Response {
    let headers = request.headers().clone();
    let prepared = async {
        let actor = caller(&state, &headers).await?;
        let params = read_params(&state, request, None, 0).await?;
        let format = params.text("format").unwrap_or_else(|| "csv".into());
        if !format.eq_ignore_ascii_case("csv") {
            return Err(CkanError::validation("format", "Only csv is offered"));
        }
        let fields = service::datastore_fields(&state, actor.as_ref(), &id).await?;
        let query = datastore_query(&params, &fields, MAX_DUMP, MAX_DUMP)?;
        let bom = params.boolean("bom", false)?;
        let (_, resource) = service::resource_for(&state, actor.as_ref(), &id).await?;
        Ok((actor, fields, query, bom, resource))
    }
    .await;
    let (actor, fields, query, bom, resource) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => return answer("datastore_dump", Err(error)),
    };
    let mut columns = vec!["_id".to_owned()];
    columns.extend(
        query
            .fields
            .iter()
            .filter_map(|&i| fields.get(i))
            .map(|f| f.id.clone()),
    );
    let mut head = if bom {
        b"\xEF\xBB\xBF".to_vec()
    } else {
        Vec::new()
    };
    head.extend(crate::table::to_csv(&columns, std::iter::empty()));
    // Keyset paging in `_id` order where nothing else sorts; offsets otherwise.
    struct Step {
        state: AppState,
        actor: Option<Actor>,
        id: String,
        columns: Vec<String>,
        query: store::DatastoreQuery,
        left: i64,
        head: Option<Vec<u8>>,
    }
    let keyset = query.sort.is_empty();
    let first = Step {
        state,
        actor,
        id: resource.id,
        columns,
        left: query.limit,
        query,
        head: Some(head),
    };
    let stream = futures_util::stream::try_unfold(first, move |mut step| async move {
        if let Some(head) = step.head.take() {
            return Ok::<_, std::io::Error>(Some((Bytes::from(head), step)));
        }
        if step.left <= 0 {
            return Ok(None);
        }
        let mut query = step.query.clone();
        query.limit = step.left.min(DUMP_STEP);
        let (_, _, records) =
            service::datastore_search(&step.state, step.actor.as_ref(), &step.id, query)
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        if records.is_empty() {
            return Ok(None);
        }
        step.left -= records.len() as i64;
        if keyset {
            step.query.after = records
                .last()
                .and_then(|r| r.get("_id"))
                .and_then(Value::as_i64);
            // The offset asked for counts once, before the first step.
            step.query.offset = 0;
        } else {
            step.query.offset += records.len() as i64;
        }
        let rows: Vec<Vec<String>> = records
            .iter()
            .map(|record| {
                step.columns
                    .iter()
                    .map(|c| store::cell_text(record.get(c)))
                    .collect()
            })
            .collect();
        let bytes = crate::table::csv_rows(rows.iter().map(Vec::as_slice));
        Ok(Some((Bytes::from(bytes), step)))
    });
    let file_name = resource
        .file_name
        .rsplit_once('.')
        .map_or(resource.file_name.as_str(), |(stem, _)| stem)
        .to_owned();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}.csv\""),
            ),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

/// A failure as CKAN reports it.
#[derive(Debug)]
pub struct CkanError {
    status: StatusCode,
    error: Map<String, Value>,
}

impl CkanError {
    fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> CkanError {
        let mut error = Map::new();
        error.insert("__type".into(), kind.into());
        error.insert("message".into(), Value::String(message.into()));
        CkanError { status, error }
    }

    fn validation(field: &str, message: impl Into<String>) -> CkanError {
        let mut error = Map::new();
        error.insert("__type".into(), "Validation Error".into());
        error.insert(field.into(), json!([message.into()]));
        CkanError {
            status: StatusCode::CONFLICT,
            error,
        }
    }

    fn search(message: impl Into<String>) -> CkanError {
        CkanError::new(StatusCode::CONFLICT, "Search Query Error", message)
    }

    fn bad_request(message: impl Into<String>) -> CkanError {
        CkanError::new(StatusCode::BAD_REQUEST, "Bad Request", message)
    }
}

impl From<AppError> for CkanError {
    fn from(error: AppError) -> CkanError {
        match error {
            AppError::NotFound => {
                CkanError::new(StatusCode::NOT_FOUND, "Not Found Error", "Not found")
            }
            AppError::Invalid { field, reason } => CkanError::validation(field, reason),
            AppError::Conflict(message) => {
                let mut error = CkanError::validation("gate", message.clone());
                error.error.insert("message".into(), message.into());
                error
            }
            AppError::Unauthenticated | AppError::InvalidCredentials => CkanError::new(
                StatusCode::FORBIDDEN,
                "Authorization Error",
                "Access denied: an API token is needed",
            ),
            AppError::Forbidden => CkanError::new(
                StatusCode::FORBIDDEN,
                "Authorization Error",
                "Access denied: you are not allowed to do this",
            ),
            AppError::NotAuthorised(message) => {
                CkanError::new(StatusCode::FORBIDDEN, "Authorization Error", message)
            }
            AppError::BadRequest(message) => CkanError::bad_request(message),
            AppError::PayloadTooLarge => CkanError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Bad Request",
                "the upload is too large",
            ),
            other => {
                let status = other.status();
                if status.is_server_error() {
                    tracing::error!(error = %other, "a CKAN action failed");
                }
                CkanError::new(status, "Internal Error", other.to_string())
            }
        }
    }
}

fn help(action: &str) -> String {
    format!("/api/3/action/help_show?name={action}")
}

fn answer(name: &str, result: Result<Value, CkanError>) -> Response {
    match result {
        Ok(result) => (
            StatusCode::OK,
            axum::Json(json!({"help": help(name), "success": true, "result": result})),
        )
            .into_response(),
        Err(error) => (
            error.status,
            axum::Json(json!({"help": help(name), "success": false, "error": error.error})),
        )
            .into_response(),
    }
}

/// The parameters of a call, whichever way they came.
#[derive(Default)]
pub struct Params {
    values: Map<String, Value>,
    upload: Option<Upload>,
}

impl Params {
    fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key).filter(|v| !v.is_null())
    }

    fn text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    fn required(&self, key: &str) -> Result<String, CkanError> {
        self.text(key)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| CkanError::validation(key, "Missing value"))
    }

    fn int(&self, key: &str, default: i64) -> Result<i64, CkanError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Number(n)) => n
                .as_i64()
                .ok_or_else(|| CkanError::validation(key, "Invalid integer")),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(default),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map_err(|_| CkanError::validation(key, "Invalid integer")),
            Some(_) => Err(CkanError::validation(key, "Invalid integer")),
        }
    }

    fn boolean(&self, key: &str, default: bool) -> Result<bool, CkanError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" | "" => Ok(false),
                _ => Err(CkanError::validation(key, "Invalid boolean")),
            },
            Some(Value::Number(n)) => Ok(n.as_i64() != Some(0)),
            Some(_) => Err(CkanError::validation(key, "Invalid boolean")),
        }
    }

    /// A list: a JSON array, or a string holding one (as GET sends it), or one value.
    fn list(&self, key: &str) -> Result<Vec<Value>, CkanError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(Value::String(s)) if s.trim_start().starts_with('[') => {
                match serde_json::from_str::<Value>(s) {
                    Ok(Value::Array(items)) => Ok(items),
                    _ => Err(CkanError::validation(key, "Invalid list")),
                }
            }
            Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
            Some(other) => Ok(vec![other.clone()]),
        }
    }

    /// An object: a JSON object, or a string holding one.
    fn object(&self, key: &str) -> Result<Map<String, Value>, CkanError> {
        match self.get(key) {
            None => Ok(Map::new()),
            Some(Value::Object(map)) => Ok(map.clone()),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(Map::new()),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(map)) => Ok(map),
                _ => Err(CkanError::validation(key, "Invalid JSON object")),
            },
            Some(_) => Err(CkanError::validation(key, "Invalid JSON object")),
        }
    }
}

/// The actions that take a file: only they read a body past the node's usual limit.
const UPLOADS: [&str; 3] = ["resource_create", "resource_patch", "resource_update"];

/// Reads the parameters; a body over `limit` is refused, and only an upload action takes a
/// multipart body — from a caller who may send files (its file is stored as it arrives).
async fn read_params(
    state: &AppState,
    request: Request,
    upload: Option<bool>,
    limit: usize,
) -> Result<Params, CkanError> {
    let mut params = Params::default();
    if let Some(query) = request.uri().query() {
        for (key, value) in form_pairs(query.as_bytes()) {
            params.values.insert(key, Value::String(value));
        }
    }
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return Ok(params);
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        match upload {
            None => {
                return Err(CkanError::bad_request(
                    "Bad request - only resource_create, resource_patch and resource_update take multipart",
                ));
            }
            Some(false) => {
                return Err(CkanError::from(AppError::NotAuthorised(
                    "only a department's open-data staff send files".into(),
                )));
            }
            Some(true) => {}
        }
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|e| CkanError::bad_request(e.body_text()))?;
        let text_limit = state.config.max_body_bytes;
        let unreadable = |e: axum::extract::multipart::MultipartError| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::BadRequest(e.body_text())
            }
        };
        while let Some(mut field) = multipart
            .next_field()
            .await
            .map_err(|e| CkanError::bad_request(e.body_text()))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            match field.file_name().map(str::to_owned) {
                Some(file_name) if name == "upload" && params.upload.is_none() => {
                    params.upload =
                        Some(service::spool(state, file_name, &mut field, unreadable).await?);
                }
                _ => {
                    let bytes = service::field_bytes(&mut field, text_limit, unreadable).await?;
                    let text = String::from_utf8(bytes)
                        .map_err(|_| CkanError::bad_request(format!("{name} is not UTF-8")))?;
                    params.values.insert(name, Value::String(text));
                }
            }
        }
        return Ok(params);
    }
    let body: Bytes = axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| CkanError::from(AppError::PayloadTooLarge))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(params);
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        for (key, value) in form_pairs(&body) {
            params.values.insert(key, Value::String(value));
        }
        return Ok(params);
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => params.values.extend(map),
        _ => {
            return Err(CkanError::bad_request(
                "Bad request - JSON Error: the body is not a JSON object",
            ));
        }
    }
    Ok(params)
}

/// `application/x-www-form-urlencoded` pairs, with `+` as a space and percent escapes.
pub(crate) fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    fn decode(part: &[u8]) -> String {
        let mut out = Vec::with_capacity(part.len());
        let mut i = 0;
        while i < part.len() {
            match part[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < part.len() => {
                    let hex = std::str::from_utf8(&part[i + 1..i + 3]).ok();
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(byte) => {
                            out.push(byte);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                other => out.push(other),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    bytes
        .split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.iter().position(|&b| b == b'=') {
            Some(at) => (decode(&pair[..at]), decode(&pair[at + 1..])),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// The caller, from an API token as CKAN clients send it; none for anonymous calls.
async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Option<Actor>, CkanError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .or_else(|| headers.get("x-ckan-api-key"))
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim().to_owned())
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Ok(None);
    };
    match crate::identity::service::actor_from_token(state, &token).await? {
        Some(actor) => Ok(Some(actor)),
        None => Err(CkanError::new(
            StatusCode::FORBIDDEN,
            "Authorization Error",
            "Access denied: the API token is not valid",
        )),
    }
}

/// Where the portal is reached: the configured public address, else the request's host.
pub(crate) fn site_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

async fn action(
    State(state): State<AppState>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let method = request.method().clone();
    tongban_platform::figures::count(&state, crate::service::API_CALLS, &state.config.region_code);
    let mut spooled: Option<String> = None;
    let result = async {
        let actor = caller(&state, &headers).await?;
        let upload = UPLOADS.contains(&name.as_str());
        let limit = if upload {
            service::MAX_UPLOAD + 1024 * 1024
        } else {
            state.config.max_body_bytes
        };
        let may_upload = upload.then(|| service::may_upload(actor.as_ref()));
        let params = read_params(&state, request, may_upload, limit).await?;
        spooled = params.upload.as_ref().map(|u| u.file.file_id.clone());
        let site = site_url(&state, &headers);
        let call = Call {
            state: &state,
            actor: actor.as_ref(),
            params: &params,
            site: &site,
        };
        let writes = !matches!(
            name.as_str(),
            "status_show"
                | "site_read"
                | "package_list"
                | "package_show"
                | "package_search"
                | "current_package_list_with_resources"
                | "organization_list"
                | "organization_show"
                | "group_list"
                | "group_show"
                | "tag_list"
                | "license_list"
                | "resource_show"
                | "resource_view_list"
                | "datastore_search"
        );
        if writes && method == Method::GET {
            return Err(CkanError::bad_request(format!(
                "Bad request - {name} changes data and is called with POST"
            )));
        }
        call.run(&name).await
    }
    .await;
    // A file sent with a call that did not keep it (refused, or not a resource's) goes.
    if let Some(file_id) = spooled {
        crate::files::discard_unless_kept(&state, &file_id).await;
    }
    answer(&name, result)
}

/// A datastore query from CKAN's parameters (`filters`, `q`, `sort`, `fields`, `limit`,
/// `offset`), checked against the resource's fields.
fn datastore_query(
    params: &Params,
    fields: &[Field],
    default_limit: i64,
    max_limit: i64,
) -> Result<store::DatastoreQuery, CkanError> {
    let limit = params.int("limit", default_limit)?;
    if !(0..=max_limit).contains(&limit) {
        return Err(CkanError::validation(
            "limit",
            format!("Must be between 0 and {max_limit}"),
        ));
    }
    let offset = params.int("offset", 0)?;
    if offset < 0 {
        return Err(CkanError::validation("offset", "Must be a natural number"));
    }
    let position = |name: &str, key: &str| -> Result<usize, CkanError> {
        fields
            .iter()
            .position(|f| f.id == name)
            .ok_or_else(|| CkanError::validation(key, format!("field \"{name}\" not in table")))
    };
    let mut query = store::DatastoreQuery {
        limit,
        offset,
        ..Default::default()
    };
    for (name, wanted) in params.object("filters")? {
        let at = position(&name, "filters")?;
        let values = match wanted {
            Value::Array(values) => values,
            one => vec![one],
        };
        let mut typed = Vec::new();
        for value in values {
            typed.push(filter_value(&fields[at], &value)?);
        }
        query.filters.push((at, typed));
    }
    match params.get("q") {
        None => {}
        Some(Value::String(q)) if q.trim().is_empty() => {}
        Some(Value::String(q)) => query.q = Some(q.trim().to_lowercase()),
        Some(_) => {
            return Err(CkanError::validation(
                "q",
                "Search by field is not supported; send text",
            ));
        }
    }
    if let Some(sort) = params.text("sort").filter(|s| !s.trim().is_empty()) {
        for part in sort.split(',') {
            let mut words = part.split_whitespace();
            let name = words.next().unwrap_or_default().trim_matches('"');
            let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(_) => return Err(CkanError::validation("sort", "Invalid sort direction")),
            };
            if name == "_id" {
                continue;
            }
            query.sort.push((position(name, "sort")?, descending));
        }
    }
    let asked = params.list("fields")?;
    let asked: Vec<Value> = match params.get("fields") {
        Some(Value::String(s)) if !s.trim_start().starts_with('[') => s
            .split(',')
            .map(|f| Value::String(f.trim().to_owned()))
            .collect(),
        _ => asked,
    };
    query.fields = if asked.is_empty() {
        (0..fields.len()).collect()
    } else {
        let mut chosen = Vec::new();
        for name in asked {
            let Value::String(name) = name else {
                return Err(CkanError::validation("fields", "Invalid list"));
            };
            if name != "_id" {
                chosen.push(position(&name, "fields")?);
            }
        }
        chosen
    };
    Ok(query)
}

struct Call<'a> {
    state: &'a AppState,
    actor: Option<&'a Actor>,
    params: &'a Params,
    site: &'a str,
}

impl Call<'_> {
    async fn run(&self, name: &str) -> Result<Value, CkanError> {
        match name {
            "status_show" => Ok(self.status_show()),
            "site_read" => Ok(Value::Bool(true)),
            "package_list" => self.package_list().await,
            "package_show" => self.package_show().await,
            "package_search" => self.package_search().await,
            "current_package_list_with_resources" => self.recent().await,
            "organization_list" => self.organization_list().await,
            "organization_show" => self.organization_show().await,
            "group_list" => self.group_list().await,
            "group_show" => self.group_show().await,
            "tag_list" => self.tag_list().await,
            "license_list" => Ok(license_list()),
            "resource_show" => self.resource_show().await,
            "resource_view_list" => Ok(json!([])),
            "datastore_search" => self.datastore_search().await,
            "package_create" => self.package_create().await,
            "package_update" => self.package_update(false).await,
            "package_patch" => self.package_update(true).await,
            "package_delete" => self.package_delete().await,
            "resource_create" => self.resource_create().await,
            "resource_patch" | "resource_update" => self.resource_patch().await,
            "organization_create" => self.organization_create().await,
            other => Err(CkanError::bad_request(format!(
                "Bad request - Action name not known: {other}"
            ))),
        }
    }

    fn actor(&self) -> Result<&Actor, CkanError> {
        self.actor.ok_or_else(|| AppError::Unauthenticated.into())
    }

    fn status_show(&self) -> Value {
        json!({
            "site_title": format!("数据开放 · {}", self.state.config.region_code),
            "site_description": "Open data of the region's departments, checked for personal data before publication.",
            "site_url": self.site,
            "ckan_version": "2.10.0",
            "api_version": 3,
            "locale_default": "zh_Hans_CN",
            "extensions": ["datastore", "dcat"],
        })
    }

    fn paging(&self, default_limit: i64) -> Result<(usize, usize), CkanError> {
        let limit = self.params.int("limit", default_limit)?;
        let offset = self.params.int("offset", 0)?;
        if limit < 0 {
            return Err(CkanError::validation("limit", "Must be a natural number"));
        }
        if offset < 0 {
            return Err(CkanError::validation("offset", "Must be a natural number"));
        }
        Ok((limit as usize, offset as usize))
    }

    async fn catalogue(&self) -> Result<std::sync::Arc<Catalogue>, CkanError> {
        Ok(service::catalogue(self.state).await?)
    }

    async fn package_list(&self) -> Result<Value, CkanError> {
        let (limit, offset) = self.paging(i64::MAX)?;
        let catalogue = self.catalogue().await?;
        let names: Vec<&str> = catalogue
            .entries()
            .filter(|e| !e.dataset.private)
            .map(|e| e.dataset.name.as_str())
            .skip(offset)
            .take(limit)
            .collect();
        Ok(json!(names))
    }

    async fn entry_for(&self, id: &str) -> Result<Entry, CkanError> {
        // Read from the database, not the catalogue: right after a write the catalogue is
        // rebuilt on its next search, not for one dataset.
        let dataset = service::dataset_for(self.state, self.actor, id).await?;
        let organization = service::organization(self.state, &dataset.department_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let resources = store_resources(self.state, &dataset.id).await?;
        Ok(Entry {
            dataset,
            organization,
            resources,
        })
    }

    async fn package_show(&self) -> Result<Value, CkanError> {
        let id = self.params.required("id")?;
        let entry = self.entry_for(&id).await?;
        Ok(package_dict(&entry, self.actor, self.site))
    }

    async fn recent(&self) -> Result<Value, CkanError> {
        let (limit, offset) = self.paging(i64::MAX)?;
        let catalogue = self.catalogue().await?;
        let mut entries: Vec<&Entry> = catalogue.entries().filter(|e| !e.dataset.private).collect();
        entries.sort_by(|a, b| {
            b.dataset
                .modified_at
                .cmp(&a.dataset.modified_at)
                .then_with(|| a.dataset.name.cmp(&b.dataset.name))
        });
        Ok(Value::Array(
            entries
                .into_iter()
                .skip(offset)
                .take(limit)
                .map(|e| package_dict(e, self.actor, self.site))
                .collect(),
        ))
    }

    async fn package_search(&self) -> Result<Value, CkanError> {
        let rows = self.params.int("rows", 10)?;
        if !(0..=MAX_ROWS).contains(&rows) {
            return Err(CkanError::validation(
                "rows",
                format!("Must be between 0 and {MAX_ROWS}"),
            ));
        }
        let start = self.params.int("start", 0)?;
        if start < 0 {
            return Err(CkanError::validation("start", "Must be a natural number"));
        }
        let include_private = self.params.boolean("include_private", false)?;
        let facet_limit = self.params.int("facet.limit", 50)?;
        let mut facet_fields = Vec::new();
        for field in self.params.list("facet.field")? {
            let Value::String(field) = field else {
                return Err(CkanError::validation("facet.field", "Invalid list"));
            };
            if !FACETS.contains(&field.as_str()) {
                return Err(CkanError::search(format!(
                    "cannot facet on {field}; facets are {}",
                    FACETS.join(", ")
                )));
            }
            facet_fields.push(field);
        }
        let (text, mut terms) = split_query(&self.params.text("q").unwrap_or_default())?;
        terms.extend(parse_fq(&self.params.text("fq").unwrap_or_default())?);
        let sort = parse_sort(self.params.text("sort").as_deref())?;
        let catalogue = self.catalogue().await?;
        let found = search(
            &catalogue,
            self.actor,
            &text,
            &terms,
            &sort,
            include_private,
        );
        let mut facets = Map::new();
        let mut search_facets = Map::new();
        for field in &facet_fields {
            let counts = facet_counts(&catalogue, &found, field);
            let limited: Vec<&(String, usize)> = if facet_limit < 0 {
                counts.iter().collect()
            } else {
                counts.iter().take(facet_limit as usize).collect()
            };
            facets.insert(
                field.clone(),
                Value::Object(limited.iter().map(|(v, n)| (v.clone(), json!(n))).collect()),
            );
            search_facets.insert(
                field.clone(),
                json!({
                    "title": field,
                    "items": limited.iter().map(|(v, n)| json!({
                        "name": v,
                        "display_name": facet_display(&catalogue, field, v),
                        "count": n,
                    })).collect::<Vec<_>>(),
                }),
            );
        }
        let results: Vec<Value> = found
            .iter()
            .skip(start as usize)
            .take(rows as usize)
            .filter_map(|&at| catalogue.at(at))
            .map(|entry| package_dict(entry, self.actor, self.site))
            .collect();
        Ok(json!({
            "count": found.len(),
            "sort": sort.iter().map(|(k, d)| format!("{k} {}", if *d { "desc" } else { "asc" })).collect::<Vec<_>>().join(", "),
            "results": results,
            "facets": facets,
            "search_facets": search_facets,
        }))
    }

    async fn organization_list(&self) -> Result<Value, CkanError> {
        let (limit, offset) = self.paging(i64::MAX)?;
        let all_fields = self.params.boolean("all_fields", false)?;
        let catalogue = self.catalogue().await?;
        let orgs = catalogue.organizations.iter().skip(offset).take(limit);
        Ok(if all_fields {
            Value::Array(orgs.map(|o| organization_dict(o, &catalogue)).collect())
        } else {
            json!(orgs.map(|o| o.name.clone()).collect::<Vec<_>>())
        })
    }

    async fn organization_show(&self) -> Result<Value, CkanError> {
        let id = self.params.required("id")?;
        let catalogue = self.catalogue().await?;
        let org = catalogue.organization(&id).ok_or(AppError::NotFound)?;
        let mut dict = organization_dict(org, &catalogue);
        if self.params.boolean("include_datasets", false)? {
            dict["packages"] = Value::Array(
                catalogue
                    .entries()
                    .filter(|e| !e.dataset.private && e.organization.name == org.name)
                    .map(|e| package_dict(e, self.actor, self.site))
                    .collect(),
            );
        }
        Ok(dict)
    }

    async fn group_list(&self) -> Result<Value, CkanError> {
        let (limit, offset) = self.paging(i64::MAX)?;
        let all_fields = self.params.boolean("all_fields", false)?;
        let catalogue = self.catalogue().await?;
        let themes = model::THEMES.iter().skip(offset).take(limit);
        Ok(if all_fields {
            Value::Array(themes.map(|t| group_dict(t, &catalogue)).collect())
        } else {
            json!(themes.map(|t| t.name).collect::<Vec<_>>())
        })
    }

    async fn group_show(&self) -> Result<Value, CkanError> {
        let id = self.params.required("id")?;
        let theme = model::theme_named(&id).ok_or(AppError::NotFound)?;
        let catalogue = self.catalogue().await?;
        let mut dict = group_dict(theme, &catalogue);
        if self.params.boolean("include_datasets", false)? {
            dict["packages"] = Value::Array(
                catalogue
                    .entries()
                    .filter(|e| {
                        !e.dataset.private && e.dataset.themes.iter().any(|t| t == theme.name)
                    })
                    .map(|e| package_dict(e, self.actor, self.site))
                    .collect(),
            );
        }
        Ok(dict)
    }

    async fn tag_list(&self) -> Result<Value, CkanError> {
        let query = self
            .params
            .text("query")
            .or(self.params.text("q"))
            .unwrap_or_default();
        let catalogue = self.catalogue().await?;
        let mut tags: Vec<&str> = catalogue
            .entries()
            .filter(|e| !e.dataset.private)
            .flat_map(|e| e.dataset.tags.iter().map(String::as_str))
            .filter(|t| query.is_empty() || t.contains(query.as_str()))
            .collect();
        tags.sort_unstable();
        tags.dedup();
        Ok(if self.params.boolean("all_fields", false)? {
            Value::Array(
                tags.iter()
                    .map(|t| json!({"name": t, "display_name": t, "id": t}))
                    .collect(),
            )
        } else {
            json!(tags)
        })
    }

    async fn resource_show(&self) -> Result<Value, CkanError> {
        let id = self.params.required("id")?;
        let (dataset, resource) = service::resource_for(self.state, self.actor, &id).await?;
        Ok(resource_dict(&resource, &dataset, self.actor, self.site))
    }

    async fn datastore_search(&self) -> Result<Value, CkanError> {
        let id = self
            .params
            .text("resource_id")
            .or(self.params.text("id"))
            .ok_or_else(|| CkanError::validation("resource_id", "Missing value"))?;
        let fields = service::datastore_fields(self.state, self.actor, &id).await?;
        let mut query = datastore_query(self.params, &fields, 100, MAX_RECORDS)?;
        query.include_total = self.params.boolean("include_total", true)?;
        let (limit, offset) = (query.limit, query.offset);
        let (fields, total, records) =
            service::datastore_search(self.state, self.actor, &id, query.clone()).await?;
        let mut described = vec![json!({"id": "_id", "type": "int"})];
        described.extend(
            query
                .fields
                .iter()
                .filter_map(|&i| fields.get(i))
                .map(|f| json!({"id": f.id, "type": f.kind.as_str()})),
        );
        let base = format!("/api/3/action/datastore_search?resource_id={id}");
        let mut result = json!({
            "resource_id": id,
            "fields": described,
            "records": records,
            "limit": limit,
            "offset": offset,
            "_links": {
                "start": base,
                "next": format!("{base}&offset={}", offset + limit),
            },
        });
        if let Some(total) = total {
            result["total"] = total.into();
            result["total_was_estimated"] = false.into();
        }
        Ok(result)
    }

    fn dataset_input(&self, base: Option<DatasetInput>) -> Result<DatasetInput, CkanError> {
        let p = self.params;
        let mut input = base.unwrap_or_else(|| DatasetInput {
            license_id: "cc-by-4.0".into(),
            frequency: "IRREG".into(),
            spatial: self.state.config.region_code.clone(),
            ..Default::default()
        });
        let text = |key: &str, into: &mut String| {
            if let Some(value) = p.text(key) {
                *into = value;
            }
        };
        text("name", &mut input.name);
        text("owner_org", &mut input.owner_org);
        text("notes", &mut input.notes);
        text("title_en", &mut input.title_en);
        text("notes_en", &mut input.notes_en);
        text("license_id", &mut input.license_id);
        text("frequency", &mut input.frequency);
        text("spatial", &mut input.spatial);
        text("maintainer", &mut input.contact_name);
        text("maintainer_email", &mut input.contact_email);
        text("contact_name", &mut input.contact_name);
        text("contact_email", &mut input.contact_email);
        if input.license_id.is_empty() {
            input.license_id = "cc-by-4.0".into();
        }
        if input.frequency.is_empty() {
            input.frequency = "IRREG".into();
        }
        match p.text("title") {
            Some(title) if !title.trim().is_empty() => input.title = title,
            _ if input.title.is_empty() => input.title = input.name.clone(),
            _ => {}
        }
        if let Some(id) = p.text("id") {
            input.id = Some(id);
        }
        for (key, into) in [
            ("temporal_start", &mut input.temporal_start),
            ("temporal_end", &mut input.temporal_end),
            ("source", &mut input.source),
        ] {
            if p.values.contains_key(key) {
                *into = p.text(key).filter(|v| !v.is_empty());
            }
        }
        if p.values.contains_key("private") {
            input.private = p.boolean("private", false)?;
        }
        if p.values.contains_key("groups") {
            input.themes = names_of(p.list("groups")?, "groups")?;
        }
        if p.values.contains_key("tags") {
            input.tags = names_of(p.list("tags")?, "tags")?;
        } else if let Some(tags) = p.text("tag_string") {
            input.tags = tags
                .split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect();
        }
        input.tags.dedup();
        Ok(input)
    }

    async fn package_create(&self) -> Result<Value, CkanError> {
        let actor = self.actor()?;
        let mut input = self.dataset_input(None)?;
        if input.name.is_empty() {
            return Err(CkanError::validation("name", "Missing value"));
        }
        // A dataset moved from another portal names its owner by that portal's id: its
        // organization's name is the same here.
        if service::organization(self.state, &input.owner_org)
            .await?
            .is_none()
            && let Some(name) = self
                .params
                .get("organization")
                .and_then(|o| o.get("name"))
                .and_then(Value::as_str)
            && service::organization(self.state, name).await?.is_some()
        {
            input.owner_org = name.to_owned();
        }
        if input.owner_org.is_empty() {
            // A publisher of one department publishes as it.
            let department = actor.account.department_id.clone().unwrap_or_default();
            if let Some(org) = service::organization(self.state, &department).await? {
                input.owner_org = org.name.clone();
            }
        }
        let resources = self.params.list("resources")?;
        let dataset = service::create_dataset(self.state, actor, input).await?;
        for resource in resources {
            let Value::Object(map) = resource else {
                return Err(CkanError::validation("resources", "Invalid resource"));
            };
            service::add_resource(self.state, actor, &dataset.id, resource_input(&map)?, None)
                .await?;
        }
        let entry = self.entry_for(&dataset.id).await?;
        Ok(package_dict(&entry, self.actor, self.site))
    }

    async fn package_update(&self, patch: bool) -> Result<Value, CkanError> {
        let actor = self.actor()?;
        let id = self
            .params
            .text("id")
            .or(self.params.text("name"))
            .ok_or_else(|| CkanError::validation("id", "Missing value"))?;
        let existing = self.entry_for(&id).await?;
        let base = if patch {
            Some(service::input_of(&existing.dataset, &existing.organization))
        } else {
            Some(DatasetInput {
                name: existing.dataset.name.clone(),
                owner_org: existing.organization.name.clone(),
                license_id: "cc-by-4.0".into(),
                frequency: "IRREG".into(),
                spatial: self.state.config.region_code.clone(),
                ..Default::default()
            })
        };
        let mut input = self.dataset_input(base)?;
        input.id = Some(existing.dataset.id.clone());
        let dataset =
            service::update_dataset(self.state, actor, &existing.dataset.id, input).await?;
        if self.params.values.contains_key("resources") {
            let wanted = self.params.list("resources")?;
            let kept: Vec<String> = wanted
                .iter()
                .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect();
            for old in existing.resources.iter().filter(|r| !kept.contains(&r.id)) {
                service::remove_resource(self.state, actor, &old.id).await?;
            }
            for resource in wanted {
                let Value::Object(map) = resource else {
                    return Err(CkanError::validation("resources", "Invalid resource"));
                };
                let known = map
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|id| existing.resources.iter().any(|r| r.id == *id));
                match known {
                    Some(id) => {
                        let mut input = resource_input(&map)?;
                        // An upload keeps its file: only its texts change here.
                        if existing
                            .resources
                            .iter()
                            .any(|r| r.id == id && r.is_upload())
                        {
                            input.url = None;
                            input.format = None;
                        } else if existing
                            .resources
                            .iter()
                            .any(|r| r.id == id && Some(&r.url) == input.url.as_ref())
                        {
                            input.url = None;
                        }
                        service::patch_resource(self.state, actor, id, input, None).await?;
                    }
                    None => {
                        service::add_resource(
                            self.state,
                            actor,
                            &dataset.id,
                            resource_input(&map)?,
                            None,
                        )
                        .await?;
                    }
                }
            }
        }
        let entry = self.entry_for(&dataset.id).await?;
        Ok(package_dict(&entry, self.actor, self.site))
    }

    async fn package_delete(&self) -> Result<Value, CkanError> {
        let actor = self.actor()?;
        let id = self.params.required("id")?;
        service::delete_dataset(self.state, actor, &id).await?;
        Ok(Value::Null)
    }

    async fn resource_create(&self) -> Result<Value, CkanError> {
        let actor = self.actor()?;
        let dataset_id = self.params.required("package_id")?;
        let input = resource_input(&self.params.values)?;
        let upload = self.upload();
        let resource = service::add_resource(self.state, actor, &dataset_id, input, upload).await?;
        let (dataset, resource) =
            service::resource_for(self.state, self.actor, &resource.id).await?;
        Ok(resource_dict(&resource, &dataset, self.actor, self.site))
    }

    async fn resource_patch(&self) -> Result<Value, CkanError> {
        let actor = self.actor()?;
        let id = self.params.required("id")?;
        let mut input = resource_input(&self.params.values)?;
        let (_, existing) = service::resource_for(self.state, self.actor, &id).await?;
        if input.url.as_deref() == Some(existing.url.as_str())
            || (existing.is_upload()
                && input
                    .url
                    .as_deref()
                    .is_some_and(|u| u.contains("/download/")))
        {
            input.url = None;
        }
        let resource =
            service::patch_resource(self.state, actor, &id, input, self.upload()).await?;
        let (dataset, resource) =
            service::resource_for(self.state, self.actor, &resource.id).await?;
        Ok(resource_dict(&resource, &dataset, self.actor, self.site))
    }

    fn upload(&self) -> Option<Upload> {
        self.params.upload.as_ref().map(|u| Upload {
            file_name: u.file_name.clone(),
            file: u.file.clone(),
        })
    }

    async fn organization_create(&self) -> Result<Value, CkanError> {
        let actor = self.actor()?;
        let name = self.params.required("name")?;
        let org = service::create_organization(
            self.state,
            actor,
            &name,
            self.params.text("title"),
            self.params.text("description").unwrap_or_default(),
        )
        .await?;
        let catalogue = self.catalogue().await?;
        Ok(organization_dict(&org, &catalogue))
    }
}

async fn store_resources(state: &AppState, dataset_id: &str) -> Result<Vec<Resource>, CkanError> {
    Ok(service::resources_of(state, dataset_id).await?)
}

fn names_of(items: Vec<Value>, field: &str) -> Result<Vec<String>, CkanError> {
    items
        .into_iter()
        .map(|item| match item {
            Value::String(name) => Ok(name),
            Value::Object(map) => map
                .get("name")
                .or_else(|| map.get("id"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| CkanError::validation(field, "Each needs a name")),
            _ => Err(CkanError::validation(field, "Invalid list")),
        })
        .collect()
}

fn resource_input(map: &Map<String, Value>) -> Result<ResourceInput, CkanError> {
    let text = |key: &str| match map.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let quasi = match map.get("quasi_identifiers") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(names_of(items.clone(), "quasi_identifiers")?),
        Some(Value::String(s)) if s.trim_start().starts_with('[') => Some(
            serde_json::from_str::<Vec<String>>(s)
                .map_err(|_| CkanError::validation("quasi_identifiers", "Invalid list"))?,
        ),
        Some(Value::String(s)) => Some(
            s.split(',')
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect(),
        ),
        Some(_) => return Err(CkanError::validation("quasi_identifiers", "Invalid list")),
    };
    let k = match text("k") {
        None => None,
        Some(k) => Some(
            k.parse::<i64>()
                .map_err(|_| CkanError::validation("k", "Invalid integer"))?,
        ),
    };
    Ok(ResourceInput {
        name: text("name"),
        description: text("description"),
        format: text("format"),
        url: text("url").filter(|u| !u.is_empty()),
        quasi,
        k,
    })
}

fn filter_value(field: &Field, value: &Value) -> Result<store::Value, CkanError> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => {
            return Err(CkanError::validation(
                "filters",
                format!("invalid value for \"{}\"", field.id),
            ));
        }
    };
    let wrong = || {
        CkanError::validation(
            "filters",
            format!(
                "invalid value for \"{}\" ({})",
                field.id,
                field.kind.as_str()
            ),
        )
    };
    Ok(match field.kind {
        ColumnType::Integer => store::Value::Int(text.trim().parse().map_err(|_| wrong())?),
        ColumnType::Number => store::Value::Number(
            text.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(wrong)?,
        ),
        ColumnType::Date | ColumnType::Text => store::Value::Text(text),
    })
}

/// A term on a facet field: the field's values, and the number of the value asked for (none:
/// no entry carries it).
type FacetTerm<'c> = (&'c FacetColumn, Option<u32>);

/// The entries the actor may see that match the text and every term, as positions in the
/// catalogue's entries, in the order asked (best match first by default).
pub fn search(
    catalogue: &Catalogue,
    actor: Option<&Actor>,
    text: &str,
    terms: &[Term],
    sort: &[(&'static str, bool)],
    include_private: bool,
) -> Vec<usize> {
    let query = tongban_search::Query::new(text);
    // Each facet term once as a value number (none: no entry carries the value).
    let compiled: Vec<(&Term, Option<FacetTerm<'_>>)> = terms
        .iter()
        .map(|t| {
            let facet = catalogue
                .facet(&t.field)
                .filter(|_| t.field != "res_format");
            (t, facet.map(|f| (f, f.id(&t.value))))
        })
        .collect();
    let mut found: Vec<(u32, usize, &Entry)> = catalogue
        .index
        .matches(&query)
        .into_iter()
        .filter_map(|(at, score)| {
            let e = catalogue.at(at)?;
            let keep = e.visible_to(actor)
                && (include_private || !e.dataset.private)
                && compiled.iter().all(|(term, facet)| match facet {
                    Some((column, id)) => {
                        id.is_some_and(|id| column.of(at).contains(&id)) != term.negated
                    }
                    None => term.matches(e),
                });
            keep.then_some((score, at, e))
        })
        .collect();
    found.sort_by(|&(sa, _, a), &(sb, _, b)| {
        for (key, descending) in sort {
            let order = match *key {
                "score" => sa.cmp(&sb),
                "metadata_modified" => a.dataset.modified_at.cmp(&b.dataset.modified_at),
                "metadata_created" => a.dataset.created_at.cmp(&b.dataset.created_at),
                "name" => a.dataset.name.cmp(&b.dataset.name),
                _ => a.dataset.title.cmp(&b.dataset.title),
            };
            let order = if *descending { order.reverse() } else { order };
            if order != std::cmp::Ordering::Equal {
                return order;
            }
        }
        a.dataset.name.cmp(&b.dataset.name)
    });
    found.into_iter().map(|(_, at, _)| at).collect()
}

/// How many of the found entries carry each value of a facet field, most first, then by
/// value.
pub fn facet_counts(catalogue: &Catalogue, found: &[usize], field: &str) -> Vec<(String, usize)> {
    catalogue
        .facet(field)
        .map(|column| column.counts(found))
        .unwrap_or_default()
}

pub fn facet_display(catalogue: &Catalogue, field: &str, value: &str) -> String {
    match field {
        "organization" => catalogue
            .organization(value)
            .map_or_else(|| value.to_owned(), |o| o.title.clone()),
        "groups" => {
            model::theme_named(value).map_or_else(|| value.to_owned(), |t| t.title.to_owned())
        }
        "license_id" => {
            model::licence(value).map_or_else(|| value.to_owned(), |l| l.title.to_owned())
        }
        _ => value.to_owned(),
    }
}

/// One `field:value` condition of a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    field: String,
    value: String,
    negated: bool,
}

impl Term {
    /// `field` is `value` (or is not, negated).
    pub fn new(field: &str, value: &str, negated: bool) -> Term {
        Term {
            field: field.to_owned(),
            value: value.to_owned(),
            negated,
        }
    }

    fn matches(&self, entry: &Entry) -> bool {
        let hit = match self.field.as_str() {
            "dataset_type" | "type" => self.value == "dataset",
            "name" => entry.dataset.name == self.value,
            "id" => entry.dataset.id == self.value,
            "owner_org" => entry.organization.department_id == self.value,
            "capacity" => (self.value == "public") != entry.dataset.private,
            "res_format" => entry
                .resources
                .iter()
                .any(|r| !r.format.is_empty() && r.format.eq_ignore_ascii_case(&self.value)),
            "organization" => entry.organization.name == self.value,
            "groups" => entry.dataset.themes.contains(&self.value),
            "tags" => entry.dataset.tags.contains(&self.value),
            "license_id" => entry.dataset.license_id == self.value,
            _ => false,
        };
        hit != self.negated
    }
}

const TERM_FIELDS: [&str; 11] = [
    "organization",
    "groups",
    "tags",
    "res_format",
    "license_id",
    "dataset_type",
    "type",
    "name",
    "id",
    "owner_org",
    "capacity",
];

/// Parses Solr-style filter terms: `field:value`, `field:"a value"`, with `+` or `-` before,
/// joined by spaces or `AND`.
pub fn parse_fq(fq: &str) -> Result<Vec<Term>, CkanError> {
    let mut terms = Vec::new();
    let mut rest = fq.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("AND ") {
            rest = after.trim_start();
            continue;
        }
        let (negated, body) = match rest.as_bytes()[0] {
            b'-' => (true, &rest[1..]),
            b'+' => (false, &rest[1..]),
            _ => (false, rest),
        };
        let colon = body
            .find(':')
            .ok_or_else(|| CkanError::search(format!("cannot read the filter at \"{rest}\"")))?;
        let field = &body[..colon];
        if !TERM_FIELDS.contains(&field) {
            return Err(CkanError::search(format!("cannot filter by \"{field}\"")));
        }
        let after = &body[colon + 1..];
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or_else(|| CkanError::search("a quoted value is not closed"))?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        if value.is_empty() {
            return Err(CkanError::search(format!("\"{field}\" has no value")));
        }
        terms.push(Term {
            field: field.to_owned(),
            value: value.to_owned(),
            negated,
        });
        rest = remaining.trim_start();
    }
    Ok(terms)
}

/// A `q`: its `field:value` terms (as `fq` reads them) apart from the text; `*:*` is all.
fn split_query(q: &str) -> Result<(String, Vec<Term>), CkanError> {
    let q = q.trim();
    if q.is_empty() || q == "*:*" {
        return Ok((String::new(), Vec::new()));
    }
    let mut text = Vec::new();
    let mut filters = Vec::new();
    for word in q.split_whitespace() {
        match word.split_once(':') {
            Some((field, _)) if TERM_FIELDS.contains(&field.trim_start_matches(['+', '-'])) => {
                filters.push(word)
            }
            _ => text.push(word),
        }
    }
    Ok((text.join(" "), parse_fq(&filters.join(" "))?))
}

/// Parses `sort`: `field direction` pairs by commas; the default is CKAN's.
pub fn parse_sort(sort: Option<&str>) -> Result<Vec<(&'static str, bool)>, CkanError> {
    const KEYS: [&str; 5] = [
        "score",
        "metadata_modified",
        "metadata_created",
        "name",
        "title_string",
    ];
    let sort = sort
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("score desc, metadata_modified desc");
    let mut keys = Vec::new();
    for part in sort.split(',') {
        let mut words = part.split_whitespace();
        let field = words.next().unwrap_or_default();
        let key = KEYS
            .iter()
            .find(|k| **k == field || (field == "title" && **k == "title_string"))
            .ok_or_else(|| CkanError::search(format!("cannot sort by \"{field}\"")))?;
        let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => return Err(CkanError::search(format!("cannot sort \"{other}\""))),
        };
        if words.next().is_some() {
            return Err(CkanError::search(format!(
                "cannot read the sort \"{part}\""
            )));
        }
        keys.push((*key, descending));
    }
    Ok(keys)
}

fn license_list() -> Value {
    Value::Array(
        model::LICENCES
            .iter()
            .map(|l| json!({"id": l.id, "title": l.title, "url": l.url, "od_conformance": "approved", "status": "active"}))
            .collect(),
    )
}

fn organization_dict(org: &Organization, catalogue: &Catalogue) -> Value {
    let count = catalogue
        .entries()
        .filter(|e| !e.dataset.private && e.organization.name == org.name)
        .count();
    json!({
        "id": org.department_id,
        "name": org.name,
        "title": org.title,
        "display_name": org.title,
        "title_en": org.title_en,
        "description": org.description,
        "image_url": "",
        "type": "organization",
        "is_organization": true,
        "state": "active",
        "approval_status": "approved",
        "created": crate::time_fmt::rfc3339(org.created_at),
        "package_count": count,
    })
}

fn group_dict(theme: &model::Theme, catalogue: &Catalogue) -> Value {
    let count = catalogue
        .entries()
        .filter(|e| !e.dataset.private && e.dataset.themes.iter().any(|t| t == theme.name))
        .count();
    json!({
        "id": theme.name,
        "name": theme.name,
        "title": theme.title,
        "display_name": theme.title,
        "title_en": theme.title_en,
        "description": theme.title_en,
        "image_url": "",
        "type": "group",
        "is_organization": false,
        "state": "active",
        "approval_status": "approved",
        "package_count": count,
        "eu_theme": format!("http://publications.europa.eu/resource/authority/data-theme/{}", theme.eu),
    })
}

/// Where an upload is downloaded, as CKAN names it.
pub fn download_path(resource: &Resource) -> String {
    format!(
        "/dataset/{}/resource/{}/download/{}",
        resource.dataset_id, resource.id, resource.file_name
    )
}

fn resource_dict(
    resource: &Resource,
    dataset: &Dataset,
    actor: Option<&Actor>,
    site: &str,
) -> Value {
    let url = if resource.is_upload() {
        format!("{site}{}", download_path(resource))
    } else {
        resource.url.clone()
    };
    let mut dict = json!({
        "id": resource.id,
        "package_id": resource.dataset_id,
        "name": resource.name,
        "description": resource.description,
        "format": resource.format,
        "url": url,
        "url_type": if resource.is_upload() { "upload" } else { "" },
        "mimetype": resource.media_type,
        "size": if resource.is_upload() { json!(resource.size) } else { Value::Null },
        "hash": resource.sha256,
        "position": resource.position,
        "state": "active",
        "created": crate::time_fmt::rfc3339(resource.created_at),
        "last_modified": crate::time_fmt::rfc3339(resource.modified_at),
        "metadata_modified": crate::time_fmt::rfc3339(resource.modified_at),
        "datastore_active": resource.state == ResourceState::Published,
        "publication": resource.state.as_str(),
        "downloads": resource.downloads,
    });
    if resource.is_upload() {
        dict["rows"] = json!(resource.row_count);
        dict["fields"] = json!(resource.fields);
    }
    if actor.is_some_and(|a| service::may_prepare(a, &dataset.department_id))
        && resource.state == ResourceState::Review
    {
        dict["findings"] = json!(resource.findings);
        dict["blocking"] = json!(resource.blocking());
        dict["treatments"] = json!(resource.treatments);
        dict["quasi_identifiers"] = json!(resource.quasi);
        dict["k"] = json!(resource.k);
    }
    dict
}

/// A dataset as CKAN's `package_show` gives it; resources under review only to its department.
pub fn package_dict(entry: &Entry, actor: Option<&Actor>, site: &str) -> Value {
    let d = &entry.dataset;
    let own = actor.is_some_and(|a| service::may_prepare(a, &d.department_id));
    let licence = model::licence(&d.license_id);
    let resources: Vec<Value> = entry
        .resources
        .iter()
        .filter(|r| own || r.state != ResourceState::Review)
        .map(|r| resource_dict(r, d, actor, site))
        .collect();
    let org = &entry.organization;
    json!({
        "id": d.id,
        "name": d.name,
        "title": d.title,
        "title_en": d.title_en,
        "notes": d.notes,
        "notes_en": d.notes_en,
        "type": "dataset",
        "state": d.state,
        "private": d.private,
        "owner_org": org.department_id,
        "organization": {
            "id": org.department_id,
            "name": org.name,
            "title": org.title,
            "description": org.description,
            "type": "organization",
            "is_organization": true,
            "state": "active",
            "image_url": "",
            "approval_status": "approved",
            "created": crate::time_fmt::rfc3339(org.created_at),
        },
        "license_id": d.license_id,
        "license_title": licence.map_or("", |l| l.title),
        "license_url": licence.map_or("", |l| l.url),
        "isopen": licence.is_some(),
        "tags": d.tags.iter().map(|t| json!({"name": t, "display_name": t, "state": "active"})).collect::<Vec<_>>(),
        "num_tags": d.tags.len(),
        "groups": d.themes.iter().filter_map(|t| model::theme_named(t)).map(|t| json!({
            "id": t.name, "name": t.name, "title": t.title, "display_name": t.title, "description": t.title_en, "image_display_url": "",
        })).collect::<Vec<_>>(),
        "resources": resources,
        "num_resources": resources.len(),
        "frequency": d.frequency,
        "temporal_start": d.temporal_start,
        "temporal_end": d.temporal_end,
        "spatial": d.spatial,
        "source": d.source,
        "maintainer": d.contact_name,
        "maintainer_email": d.contact_email,
        "author": org.title,
        "author_email": Value::Null,
        "url": format!("{site}/opendata/dataset/{}", d.name),
        "version": Value::Null,
        "extras": [],
        "relationships_as_object": [],
        "relationships_as_subject": [],
        "metadata_created": crate::time_fmt::rfc3339(d.created_at),
        "metadata_modified": crate::time_fmt::rfc3339(d.modified_at),
        "creator_user_id": d.created_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_queries_read_as_solr_writes_them() {
        let terms =
            parse_fq("+organization:linjiang-market AND tags:\"空气 质量\" -res_format:PDF")
                .expect("reads");
        assert_eq!(terms.len(), 3);
        assert_eq!(terms[1].value, "空气 质量");
        assert!(terms[2].negated);
        assert!(parse_fq("nosuchfield:x").is_err());
        assert!(parse_fq("tags:\"open").is_err());
        assert!(parse_fq("tags:").is_err());
        assert!(parse_fq("just words").is_err());
        let (text, terms) = split_query("公交 groups:transport").expect("reads");
        assert_eq!((text.as_str(), terms.len()), ("公交", 1));
    }

    #[test]
    fn sorts_are_known_fields_with_a_direction() {
        assert_eq!(
            parse_sort(Some("name asc, metadata_modified desc")).expect("reads"),
            vec![("name", false), ("metadata_modified", true)]
        );
        assert!(parse_sort(Some("views desc")).is_err());
        assert!(parse_sort(Some("name sideways")).is_err());
        assert_eq!(parse_sort(None).expect("default").len(), 2);
    }

    #[test]
    fn forms_decode_plus_and_percent() {
        assert_eq!(
            form_pairs(b"q=%E5%85%AC%E4%BA%A4+x&rows=5&bad=%zz&flag"),
            vec![
                ("q".into(), "公交 x".into()),
                ("rows".into(), "5".into()),
                ("bad".into(), "%zz".into()),
                ("flag".into(), String::new()),
            ]
        );
    }
}
