//! The GovStack Registration building block API (0.1.1) over tongban's catalogue and
//! applications, served under `/govstack/registration/v1` beside tongban's own `/api/v1`.
//!
//! Mapping:
//! - a service is a service item; its `id` is a UUIDv5 of the item's code (the spec wants
//!   UUIDs), stable across nodes and restarts;
//! - a service has one e-form (its form fields as a JSON Schema), id `<serviceId>.v<version>`;
//! - an application file is an application; `documentUrls` are upload ids (`POST /documents`),
//!   matched in order to the item's materials the applicant provides; submitting through this
//!   API is the applicant's consent to the certificates the item names being obtained
//!   (免证办), as ticking the box on the page is;
//! - a task is the step an application waits at; completing it takes the action named in
//!   `data.action` (with `data.reason` where the step needs one) on the version the task was
//!   read at, so a stale task is refused with 409;
//! - statuses: PENDING while being handled, SENDBACK while waiting for a correction,
//!   APPROVED once approved, REJECTED when not accepted, denied or withdrawn.
//!
//! Operators do not change applicants' forms in tongban (they send back for correction), so
//! `PUT /applications/{fileId}` answers 409. Every call needs the `Information-Mediator-Client`
//! header the spec makes mandatory, and a bearer token as `/api/v1` does.

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ApplicationView;
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::services::StoredItem;
use crate::services::item::{ServiceDefinition, Source};
use crate::state::AppState;
use crate::web::extract::{ApiActor, ApiJson};

pub const PREFIX: &str = "/govstack/registration/v1";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/services", get(services))
        .route("/services/{service}", get(service))
        .route("/services/{service}/eForms", get(eforms))
        .route("/eForms/{eform}", get(eform))
        .route("/services/{service}/applications", post(submit))
        .route(
            "/documents",
            post(document).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/applications", get(applications))
        .route("/applications/{file}", get(application).put(update))
        .route("/tasks", get(tasks))
        .route("/tasks/{task}", get(task))
        .route("/tasks/{task}/complete", post(complete))
        .route("/data/statistics", get(statistics))
}

/// The spec's mandatory header; its value names the calling system (X-Road style).
fn mediator(headers: &HeaderMap) -> AppResult<()> {
    match headers
        .get("information-mediator-client")
        .and_then(|v| v.to_str().ok())
    {
        Some(value) if !value.trim().is_empty() && value.len() <= 200 => Ok(()),
        _ => Err(AppError::BadRequest(
            "the Information-Mediator-Client header is required (INSTANCE/CLASS/MEMBER/SUBSYSTEM)"
                .into(),
        )),
    }
}

fn service_id(code: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("tongban:service:{code}").as_bytes(),
    )
    .to_string()
}

async fn item_by_service_id(state: &AppState, id: &str) -> AppResult<StoredItem> {
    crate::services::all_items(state)
        .await?
        .into_iter()
        .find(|i| service_id(&i.definition.code) == id)
        .ok_or(AppError::NotFound)
}

fn service_json(item: &StoredItem) -> Value {
    let d = &item.definition;
    let limit = match d.promised_limit {
        crate::services::item::TimeLimit::Immediate => "immediate".to_owned(),
        crate::services::item::TimeLimit::WorkingDays { days } => format!("{days} working days"),
    };
    json!({
        "id": service_id(&d.code),
        "name": d.name,
        "version": item.version.to_string(),
        "type": "Public",
        "isExecutable": true,
        "isClosed": true,
        "description": d.guide,
        "serviceBody": [
            {"code": "implementationCode", "value": d.code},
            {"code": "basicCode", "value": d.basic_code},
            {"code": "department", "value": d.department},
            {"code": "promisedLimit", "value": limit},
            {"code": "onlineDepth", "value": d.online_depth.to_string()},
            {"code": "legalBasis", "value": d.legal_basis},
        ],
    })
}

#[derive(Deserialize)]
struct NameQuery {
    name: Option<String>,
}

async fn services(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<NameQuery>,
) -> AppResult<Json<Vec<Value>>> {
    mediator(&headers)?;
    let wanted = crate::services::search::words("name", query.name.as_deref())?;
    let items = crate::services::all_items(&state).await?;
    let chosen: Vec<&StoredItem> = match wanted {
        Some(name) => {
            let definitions: Vec<ServiceDefinition> =
                items.iter().map(|i| i.definition.clone()).collect();
            let found =
                crate::services::search::find(definitions, name, Default::default()).await?;
            found
                .iter()
                .filter_map(|d| items.iter().find(|i| i.definition.code == d.code))
                .collect()
        }
        None => items.iter().collect(),
    };
    Ok(Json(chosen.into_iter().map(service_json).collect()))
}

async fn service(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    mediator(&headers)?;
    Ok(Json(service_json(&item_by_service_id(&state, &id).await?)))
}

fn eform_id(item: &StoredItem) -> String {
    format!("{}.v{}", service_id(&item.definition.code), item.version)
}

fn eform_item(item: &StoredItem) -> Value {
    json!({
        "eFormId": eform_id(item),
        "name": item.definition.name,
        "description": format!("The application form of {}", item.definition.name),
        "version": item.version.to_string(),
        "latest": true,
    })
}

async fn eforms(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<Value>>> {
    mediator(&headers)?;
    Ok(Json(vec![eform_item(
        &item_by_service_id(&state, &id).await?,
    )]))
}

/// The form as a JSON Schema (2020-12): one property per field, prefilled ones read-only.
fn form_schema(d: &ServiceDefinition) -> Value {
    tongban_forms::json_schema(&d.form)
}

async fn eform(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    mediator(&headers)?;
    let (service, _) = id.split_once(".v").ok_or(AppError::NotFound)?;
    let item = item_by_service_id(&state, service).await?;
    if eform_id(&item) != id {
        return Err(AppError::NotFound);
    }
    let mut body = eform_item(&item);
    body["schema"] = form_schema(&item.definition);
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileSubmit {
    applicant_id: String,
    #[serde(default)]
    form_data: Option<FormData>,
    #[serde(default)]
    document_urls: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FormData {
    #[serde(default)]
    data: BTreeMap<String, Value>,
    #[serde(default)]
    e_form_id: Option<String>,
}

fn status(state: &str) -> Value {
    let (code, title) = match state {
        "correction" => ("SENDBACK", "Sent back for correction"),
        "deliver" | "delivered" => ("APPROVED", "Approved"),
        "rejected" | "denied" | "withdrawn" => ("REJECTED", "Rejected"),
        _ => ("PENDING", "Pending"),
    };
    json!({"code": code, "title": title})
}

fn file_json(view: &ApplicationView, applicant: &str) -> Value {
    json!({
        "fileId": view.id,
        "applicantId": applicant,
        "registered": view.submitted_at,
        "serviceId": service_id(&view.item_code),
        "serviceName": view.item_name,
        "status": status(&view.state),
        "ended": tongban_workflow::table::FINAL.contains(&view.state.as_str()),
        "applicationData": {"applicantId": applicant, "applicationName": view.item_name},
    })
}

async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<FileSubmit>,
) -> AppResult<Json<Value>> {
    mediator(&headers)?;
    if body.applicant_id != actor.id() {
        return Err(AppError::invalid(
            "applicantId",
            "must be the id of the account submitting",
        ));
    }
    let item = item_by_service_id(&state, &id).await?;
    let form_data = body.form_data.unwrap_or(FormData {
        data: BTreeMap::new(),
        e_form_id: None,
    });
    if let Some(eform) = &form_data.e_form_id
        && *eform != eform_id(&item)
    {
        return Err(AppError::Conflict(format!(
            "the e-form {eform} is not the current form of this service ({})",
            eform_id(&item)
        )));
    }
    let form = form_data
        .data
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                Value::Array(list) => list
                    .iter()
                    .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join("、"),
                other => other.to_string(),
            };
            (k, text)
        })
        .collect();
    // Documents fill the materials the applicant provides, in order.
    let (kind, _) = super::applicant_kind(&actor)?;
    let mut provided = Vec::new();
    for m in &item.definition.materials {
        let library = match (&m.certificate_type, m.source) {
            (Some(code), Source::CertificateLibrary) => crate::certs::cert_type(&state, code)
                .await?
                .is_some_and(|t| t.holder_kind == kind),
            _ => false,
        };
        if !library && m.source != Source::Department {
            provided.push(m.name.clone());
        }
    }
    if body.document_urls.len() > provided.len() {
        return Err(AppError::invalid(
            "documentUrls",
            format!("this service takes at most {} documents", provided.len()),
        ));
    }
    let uploads = provided
        .into_iter()
        .zip(body.document_urls)
        .map(|(name, url)| {
            let id = url.rsplit('/').next().unwrap_or_default().to_owned();
            (name, id)
        })
        .collect();
    let request = super::ApplyRequest {
        form,
        uploads,
        use_certificates: true,
    };
    let view = super::apply(&state, &actor, &item.definition.code, request).await?;
    Ok(Json(file_json(&view, actor.id())))
}

async fn document(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiActor(actor): ApiActor,
    mut multipart: Multipart,
) -> AppResult<Json<Value>> {
    mediator(&headers)?;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest("the upload could not be read".into()))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|_| AppError::BadRequest("the upload could not be read".into()))?
        {
            if bytes.len() + chunk.len() > state.config.max_upload_bytes {
                return Err(AppError::PayloadTooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        let id = super::upload(&state, &actor, &bytes).await?;
        return Ok(Json(json!({
            "code": 200,
            "type": "document",
            "message": "uploaded",
            "url": format!("{PREFIX}/documents/{id}"),
        })));
    }
    Err(AppError::invalid(
        "file",
        "send the document as the multipart field file",
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    service_id: Option<String>,
    first_result: Option<usize>,
    max_result: Option<usize>,
}

/// The caller's applications (an applicant) or their department's open ones (an operator).
async fn visible(state: &AppState, actor: &Actor) -> AppResult<Vec<ApplicationView>> {
    if super::applicant_kind(actor).is_ok() {
        super::mine(state, actor).await
    } else {
        super::queue(state, actor).await
    }
}

fn page<T>(items: Vec<T>, first: Option<usize>, max: Option<usize>) -> Vec<T> {
    items
        .into_iter()
        .skip(first.unwrap_or(0))
        .take(max.unwrap_or(100).min(500))
        .collect()
}

async fn applications(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiActor(actor): ApiActor,
    Query(query): Query<ListQuery>,
) -> AppResult<Json<Vec<Value>>> {
    mediator(&headers)?;
    let views = visible(&state, &actor).await?;
    let list = views
        .iter()
        .filter(|v| {
            query
                .service_id
                .as_ref()
                .is_none_or(|s| *s == service_id(&v.item_code))
        })
        .map(|v| {
            json!({
                "fileId": v.id,
                "mainTaskId": task_id(v),
                "taskTitle": v.item_name,
                "status": status(&v.state),
                "created": v.submitted_at,
                "registered": v.submitted_at,
                "serviceName": v.item_name,
                "serviceId": service_id(&v.item_code),
            })
        })
        .collect();
    Ok(Json(page(list, query.first_result, query.max_result)))
}

async fn application(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    mediator(&headers)?;
    let detail = super::detail(&state, &actor, &id).await?;
    let row = super::store::by_id(state.pool(), &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut body = file_json(&detail.application, &row.applicant_account);
    body["applicationData"]["formData"] = json!({
        "data": detail.form.iter().map(|(label, value)| (label.clone(), json!(value))).collect::<serde_json::Map<_, _>>(),
    });
    Ok(Json(body))
}

async fn update(headers: HeaderMap, ApiActor(_actor): ApiActor) -> AppResult<Json<Value>> {
    mediator(&headers)?;
    Err(AppError::Conflict(
        "operators do not change an applicant's form in tongban: complete the task with action request_correction instead".into(),
    ))
}

/// A task names the application, the step it waits at and the version it was read at.
fn task_id(v: &ApplicationView) -> String {
    format!("{}.{}.{}", v.id, v.state, v.version)
}

fn task_json(v: &ApplicationView) -> Value {
    json!({
        "taskId": task_id(v),
        "mainTaskId": task_id(v),
        "name": v.state,
        "created": v.submitted_at,
        "description": format!("{} · due {}", v.item_name, v.due_day),
        "serviceId": service_id(&v.item_code),
        "serviceName": v.item_name,
        "fileId": v.id,
        "status": status(&v.state),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskQuery {
    file_id: Option<String>,
    first_result: Option<usize>,
    max_result: Option<usize>,
}

async fn tasks(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiActor(actor): ApiActor,
    Query(query): Query<TaskQuery>,
) -> AppResult<Json<Vec<Value>>> {
    mediator(&headers)?;
    let list = visible(&state, &actor)
        .await?
        .iter()
        .filter(|v| !tongban_workflow::table::FINAL.contains(&v.state.as_str()))
        .filter(|v| query.file_id.as_ref().is_none_or(|f| *f == v.id))
        .map(task_json)
        .collect();
    Ok(Json(page(list, query.first_result, query.max_result)))
}

fn parse_task(id: &str) -> AppResult<(&str, &str, i64)> {
    let mut parts = id.rsplitn(3, '.');
    let version = parts.next().and_then(|v| v.parse().ok());
    let step = parts.next();
    let file = parts.next();
    match (file, step, version) {
        (Some(file), Some(step), Some(version)) => Ok((file, step, version)),
        _ => Err(AppError::NotFound),
    }
}

async fn task(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    mediator(&headers)?;
    let (file, _, _) = parse_task(&id)?;
    let detail = super::detail(&state, &actor, file).await?;
    if task_id(&detail.application) != id {
        return Err(AppError::NotFound);
    }
    let mut body = task_json(&detail.application);
    body["taskName"] = body["name"].clone();
    body["formVariables"] = json!({"actions": detail.actions});
    body["data"] = json!(
        detail
            .form
            .iter()
            .map(|(label, value)| (label.clone(), json!(value)))
            .collect::<serde_json::Map<_, _>>()
    );
    Ok(Json(body))
}

#[derive(Deserialize, Serialize)]
struct Additional {
    #[serde(default)]
    data: BTreeMap<String, Value>,
}

async fn complete(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Additional>,
) -> AppResult<Json<Value>> {
    mediator(&headers)?;
    let (file, _, version) = parse_task(&id)?;
    let text = |key: &str| {
        body.data
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let action = text("action")
        .ok_or_else(|| AppError::invalid("data", "name the action in data.action"))?;
    let view = super::act(
        &state,
        &actor,
        file,
        super::ActionRequest {
            action,
            version,
            reason: text("reason"),
            form: None,
        },
    )
    .await?;
    Ok(Json(json!({
        "taskId": id,
        "fileId": view.id,
        "serviceId": service_id(&view.item_code),
        "status": status(&view.state),
        "variables": {"next": {"data": {"taskId": task_id(&view), "state": view.state}}},
    })))
}

async fn statistics(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Value>> {
    mediator(&headers)?;
    let department = actor
        .clerk_department()
        .ok_or(AppError::Forbidden)?
        .to_owned();
    let counts = super::store::action_counts(state.pool(), &department).await?;
    let count = |names: &[&str]| -> i64 {
        counts
            .iter()
            .filter(|(a, _)| names.contains(&a.as_str()))
            .map(|(_, n)| n)
            .sum()
    };
    Ok(Json(json!({
        "processed": count(&["approve", "deny", "reject"]),
        "approved": count(&["approve"]),
        "sentBack": count(&["request_correction"]),
        "rejected": count(&["deny", "reject"]),
    })))
}
