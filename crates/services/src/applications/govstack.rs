//! The GovStack Registration building block API (0.1.1) over tongban's catalogue and
//! applications, served under `/govstack/registration/v1` beside tongban's own `/api/v1`.
//!
//! Mapping (docs/services.md has the whole, with what deviates from the specification):
//! - a service is a service item; its `id` is a UUIDv5 of the item's code (the spec wants
//!   UUIDs), stable across nodes and restarts;
//! - a service has one e-form (its form fields as a JSON Schema), id `<serviceId>.v<version>`;
//! - an application file is an application; `documentUrls` are upload ids (`POST /documents`),
//!   matched in order to the item's materials the applicant provides; submitting through this
//!   API is the applicant's consent to the certificates the item names being obtained
//!   (免证办), as ticking the box on the page is;
//! - a task is the step an application waits at, read at a version; completing it takes the
//!   action its `data` names (one of the task's `formVariables`); a task taken meanwhile is
//!   gone (404);
//! - an operator's `PUT` of a file amends its form data while it waits at the department;
//! - statuses: PENDING while being handled, SENDBACK while waiting for a correction,
//!   APPROVED once approved, REJECTED when not accepted, denied or withdrawn.
//!
//! Every call needs the `Information-Mediator-Client` header of a client known here (a
//! department or enterprise registered here, of this federation's instance), and a bearer
//! token as `/api/v1` does. Invalid input is 400, as the specification answers it.

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

/// The calling system an `Information-Mediator-Client` header names, X-Road style:
/// `INSTANCE/CLASS/MEMBER/SUBSYSTEM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub instance: String,
    pub class: String,
    pub member: String,
    pub subsystem: String,
}

/// Member classes and what a member of each is: a department (GOV) or an enterprise or other
/// organisation (COM, ORG, NGO), by its USCC.
const MEMBER_CLASSES: [&str; 4] = ["GOV", "COM", "ORG", "NGO"];

/// Reads the header: four non-empty parts of printable ASCII without spaces, at most 200
/// characters. `Err` says what is wrong.
pub fn parse_client(value: Option<&str>) -> Result<Client, &'static str> {
    let value = value.ok_or("the Information-Mediator-Client header is required")?;
    if value.is_empty() || value.len() > 200 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the Information-Mediator-Client header must be 1–200 printable characters");
    }
    let parts: Vec<&str> = value.split('/').collect();
    match parts.as_slice() {
        [instance, class, member, subsystem] if parts.iter().all(|p| !p.is_empty()) => Ok(Client {
            instance: (*instance).to_owned(),
            class: (*class).to_owned(),
            member: (*member).to_owned(),
            subsystem: (*subsystem).to_owned(),
        }),
        _ => Err(
            "the Information-Mediator-Client header is INSTANCE/CLASS/MEMBER/SUBSYSTEM, four non-empty parts",
        ),
    }
}

/// The spec's mandatory header, checked: well formed (else 400), and a known client (else
/// 403) — of this federation's instance, a member class tongban knows, and a member
/// registered here (a department for GOV, an enterprise for the others, by USCC).
async fn mediator(state: &AppState, headers: &HeaderMap) -> AppResult<Client> {
    let value = headers
        .get("information-mediator-client")
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    let client = parse_client(value).map_err(|why| AppError::BadRequest(why.into()))?;
    let unknown = || {
        AppError::NotAuthorised(format!(
            "{}/{}/{}/{} is not a client known here",
            client.instance, client.class, client.member, client.subsystem
        ))
    };
    if client.instance != state.config.xroad_instance
        || !MEMBER_CLASSES.contains(&client.class.as_str())
    {
        return Err(unknown());
    }
    let Ok(uscc) = client.member.parse::<tongban_core::Uscc>() else {
        return Err(unknown());
    };
    let known = if client.class == "GOV" {
        crate::admin::store::department_by_uscc(state.pool(), uscc.as_str())
            .await?
            .is_some()
    } else {
        crate::identity::personal::enterprise_id_by_uscc(state, &uscc)
            .await?
            .is_some()
    };
    if known { Ok(client) } else { Err(unknown()) }
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
    async {
        mediator(&state, &headers).await?;
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
    .await
    .map_err(spec)
}

async fn service(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    async {
        mediator(&state, &headers).await?;
        Ok(Json(service_json(&item_by_service_id(&state, &id).await?)))
    }
    .await
    .map_err(spec)
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
    async {
        mediator(&state, &headers).await?;
        Ok(Json(vec![eform_item(
            &item_by_service_id(&state, &id).await?,
        )]))
    }
    .await
    .map_err(spec)
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
    async {
        mediator(&state, &headers).await?;
        let (service, _) = id.split_once(".v").ok_or(AppError::NotFound)?;
        let item = item_by_service_id(&state, service).await?;
        if eform_id(&item) != id {
            return Err(AppError::NotFound);
        }
        let mut body = eform_item(&item);
        body["schema"] = form_schema(&item.definition);
        Ok(Json(body))
    }
    .await
    .map_err(spec)
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
    async {
        mediator(&state, &headers).await?;
        if body.applicant_id != actor.id() {
            return Err(AppError::NotAuthorised(
                "applicantId must be the id of the account submitting: nobody applies in another's name here".into(),
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
                // The specification types each value as an object: `{"value": …}` is read as
                // its value; a bare string, number or list is taken as it is.
                let v = match v {
                    Value::Object(mut object) => object.remove("value").unwrap_or(Value::Null),
                    other => other,
                };
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
        let view = super::apply(&state, &actor, &item.definition.code, request, None).await?;
        Ok(Json(file_json(&view, actor.id())))
    }
    .await
    .map_err(spec)
}

/// A document to upload: the multipart field `file` (one part per document), each either the
/// raw file or, as the specification writes it, base64 text (a part without a content type, or
/// `text/plain`, whose content is base64). The answer's `url` names the first document; with
/// several, `message` lists them all. `additionalMetadata` is accepted (at most 500
/// characters) and not kept.
async fn document(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiActor(actor): ApiActor,
    Query(query): Query<DocumentQuery>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<Json<Value>> {
    async {
        mediator(&state, &headers).await?;
        if query
            .additional_metadata
            .as_ref()
            .is_some_and(|m| m.chars().count() > 500)
        {
            return Err(AppError::invalid(
                "additionalMetadata",
                "at most 500 characters",
            ));
        }
        let unreadable =
            || AppError::BadRequest("the upload is not a readable multipart body".into());
        let mut multipart = multipart.map_err(|_| unreadable())?;
        let mut urls = Vec::new();
        while let Some(mut field) = multipart.next_field().await.map_err(|_| unreadable())? {
            if field.name() != Some("file") {
                continue;
            }
            if urls.len() >= MAX_DOCUMENTS {
                return Err(AppError::invalid(
                    "file",
                    format!("at most {MAX_DOCUMENTS} documents per upload"),
                ));
            }
            let textual = field
                .content_type()
                .is_none_or(|t| t.starts_with("text/plain"));
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(|_| unreadable())? {
                if bytes.len() + chunk.len() > state.config.max_upload_bytes * 4 / 3 + 4 {
                    return Err(AppError::PayloadTooLarge);
                }
                bytes.extend_from_slice(&chunk);
            }
            let bytes = if textual {
                base64_document(bytes)
            } else {
                bytes
            };
            if bytes.len() > state.config.max_upload_bytes {
                return Err(AppError::PayloadTooLarge);
            }
            if bytes.is_empty() {
                return Err(AppError::invalid("file", "the document is empty"));
            }
            let id = super::upload(&state, &actor, &bytes).await?;
            urls.push(format!("{PREFIX}/documents/{id}"));
        }
        let Some(first) = urls.first().cloned() else {
            return Err(AppError::invalid(
                "file",
                "send the document as the multipart field file",
            ));
        };
        let message = if urls.len() == 1 {
            "uploaded".to_owned()
        } else {
            format!("uploaded {} documents: {}", urls.len(), urls.join(" "))
        };
        Ok(Json(
            json!({"code": 200, "type": "document", "message": message, "url": first}),
        ))
    }
    .await
    .map_err(spec)
}

/// The most documents one upload may carry.
const MAX_DOCUMENTS: usize = 20;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DocumentQuery {
    additional_metadata: Option<String>,
}

/// A textual part that is base64 (standard or URL-safe, padded or not, line breaks allowed)
/// is the document it encodes; any other is the document itself.
fn base64_document(bytes: Vec<u8>) -> Vec<u8> {
    use base64::Engine as _;
    let compact: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    engines
        .iter()
        .find_map(|engine| engine.decode(&compact).ok())
        .filter(|decoded| !decoded.is_empty())
        .unwrap_or(bytes)
}

/// The specification's statuses: a field that does not pass is a bad request (400), as the
/// specification answers invalid input; everything else keeps its status.
fn spec(error: AppError) -> AppError {
    match error {
        AppError::Invalid { field, reason } => AppError::BadRequest(format!("{field}: {reason}")),
        other => other,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    service_id: Option<String>,
    applicant_id: Option<String>,
    first_result: Option<i64>,
    max_result: Option<i64>,
    sort_by: Option<String>,
    sort_order: Option<String>,
}

/// The caller's applications (an applicant) or their department's open ones (an operator).
async fn visible(state: &AppState, actor: &Actor) -> AppResult<Vec<ApplicationView>> {
    if super::applicant_kind(actor).is_ok() {
        super::mine(state, actor).await
    } else {
        super::queue(state, actor).await
    }
}

/// A page of a list: from `firstResult` (0 below zero), at most `maxResult` (100 by default,
/// 500 at most, none below one).
fn page<T>(items: Vec<T>, first: Option<i64>, max: Option<i64>) -> Vec<T> {
    let first = usize::try_from(first.unwrap_or(0).max(0)).unwrap_or(usize::MAX);
    let max = usize::try_from(max.unwrap_or(100).clamp(0, 500)).unwrap_or(0);
    items.into_iter().skip(first).take(max).collect()
}

/// Sorts listed objects by one of their fields (`sortBy`, a field of the listed objects such as
/// `created`, `serviceName`, `status` or `fileId`), ascending unless `sortOrder` is `desc`.
/// Without `sortBy`, the newest first.
fn sort(
    list: &mut [Value],
    by: Option<&str>,
    order: Option<&str>,
    fields: &[&str],
) -> AppResult<()> {
    let order = order.filter(|o| !o.is_empty());
    let by = by.filter(|b| !b.is_empty());
    let descending = match order.map(str::to_ascii_lowercase).as_deref() {
        None | Some("asc") | Some("ascending") => false,
        Some("desc") | Some("descending") => true,
        Some(_) => return Err(AppError::invalid("sortOrder", "asc or desc")),
    };
    let Some(by) = by else {
        list.sort_by(|a, b| b["created"].as_str().cmp(&a["created"].as_str()));
        return Ok(());
    };
    if !fields.contains(&by) {
        return Err(AppError::invalid(
            "sortBy",
            format!("one of {}", fields.join(", ")),
        ));
    }
    let key = |v: &Value| match &v[by] {
        Value::Object(object) => object.get("code").map(Value::to_string).unwrap_or_default(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    list.sort_by(|a, b| {
        let ordering = key(a).cmp(&key(b));
        if descending {
            ordering.reverse()
        } else {
            ordering
        }
    });
    Ok(())
}

async fn applications(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiActor(actor): ApiActor,
    Query(query): Query<ListQuery>,
) -> AppResult<Json<Vec<Value>>> {
    async {
        mediator(&state, &headers).await?;
        if let Some(service) = &query.service_id
            && uuid::Uuid::parse_str(service).is_err()
        {
            return Err(AppError::invalid("serviceId", "a service id (UUID)"));
        }
        let views = visible(&state, &actor).await?;
        let mut list = Vec::new();
        for v in &views {
            if query
                .service_id
                .as_ref()
                .is_some_and(|s| *s != service_id(&v.item_code))
            {
                continue;
            }
            let row = super::store::by_id(state.pool(), &v.id)
                .await?
                .ok_or(AppError::NotFound)?;
            if query
                .applicant_id
                .as_ref()
                .is_some_and(|a| *a != row.applicant_account)
            {
                continue;
            }
            list.push(json!({
                "fileId": v.id,
                "mainTaskId": task_id(v),
                "taskTitle": v.item_name,
                "status": status(&v.state),
                "created": v.submitted_at,
                "registered": v.submitted_at,
                "serviceName": v.item_name,
                "serviceId": service_id(&v.item_code),
                "applicantId": row.applicant_account,
            }));
        }
        sort(
            &mut list,
            query.sort_by.as_deref(),
            query.sort_order.as_deref(),
            &[
                "created",
                "registered",
                "serviceName",
                "status",
                "fileId",
                "taskTitle",
            ],
        )?;
        Ok(Json(page(list, query.first_result, query.max_result)))
    }
    .await
    .map_err(spec)
}

/// The form's values as the specification types them: an object per field, keyed by the
/// field's code, with its label and value.
async fn form_objects(
    state: &AppState,
    item_code: &str,
    form: &[(String, String)],
) -> AppResult<Value> {
    let item = crate::services::item_by_code(state, item_code)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut out = serde_json::Map::new();
    for (label, value) in form {
        let code = item
            .definition
            .form
            .iter()
            .find(|f| &f.label == label)
            .map_or_else(|| label.clone(), |f| f.code.clone());
        out.insert(code, json!({"label": label, "value": value}));
    }
    Ok(Value::Object(out))
}

async fn application(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    async {
        mediator(&state, &headers).await?;
        let detail = super::detail(&state, &actor, &id).await?;
        let row = super::store::by_id(state.pool(), &id)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut body = file_json(&detail.application, &row.applicant_account);
        body["applicationData"]["formData"] = json!({
            "data": form_objects(&state, &detail.application.item_code, &detail.form).await?,
        });
        Ok(Json(body))
    }
    .await
    .map_err(spec)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileUpdate {
    #[serde(default)]
    form_data: Option<FormData>,
}

/// The operator's update of an application file: the fields in `formData.data` (by code, each
/// a value or `{"value": …}`) replace those of the application, which must wait at a step of
/// the operator's department. An unknown file is 404 before anything else is checked.
async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: Result<axum::Json<FileUpdate>, axum::extract::rejection::JsonRejection>,
) -> AppResult<Json<Value>> {
    async {
        mediator(&state, &headers).await?;
        let row = super::store::by_id(state.pool(), &id)
            .await?
            .ok_or(AppError::NotFound)?;
        let axum::Json(body) = body.map_err(|_| {
            AppError::BadRequest("the body is not an application file (JSON)".into())
        })?;
        let changes: BTreeMap<String, String> = body
            .form_data
            .map(|f| f.data)
            .unwrap_or_default()
            .into_iter()
            .map(|(code, value)| (code, value_text(value)))
            .collect();
        let view = super::amend(&state, &actor, &id, &changes).await?;
        Ok(Json(file_json(&view, &row.applicant_account)))
    }
    .await
    .map_err(spec)
}

/// A submitted value as the form takes it: `{"value": …}` is its value; a list is its items.
fn value_text(value: Value) -> String {
    let value = match value {
        Value::Object(mut object) => object.remove("value").unwrap_or(Value::Null),
        other => other,
    };
    match value {
        Value::String(s) => s,
        Value::Array(list) => list
            .iter()
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join("、"),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A task names the application, the step it waits at and the version it was read at.
fn task_id(v: &ApplicationView) -> String {
    format!("{}.{}.{}", v.id, v.state, v.version)
}

fn task_json(v: &ApplicationView, assignee: Option<&str>) -> Value {
    let mut task = json!({
        "taskId": task_id(v),
        "mainTaskId": task_id(v),
        "name": v.state,
        "created": v.submitted_at,
        "description": format!("{} · due {}", v.item_name, v.due_day),
        "serviceId": service_id(&v.item_code),
        "serviceName": v.item_name,
        "fileId": v.id,
        "status": status(&v.state),
    });
    if let Some(assignee) = assignee {
        task["assigneeId"] = json!(assignee);
    }
    task
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskQuery {
    main_task_id: Option<String>,
    file_id: Option<String>,
    assignee_id: Option<String>,
    first_result: Option<i64>,
    max_result: Option<i64>,
    sort_by: Option<String>,
    sort_order: Option<String>,
}

/// The open tasks the caller may take: an applicant's corrections and withdrawals, an
/// operator's department queue. Every operator of a department may take its tasks, so the
/// caller is the assignee of each: `assigneeId` naming anyone else gives none.
async fn tasks(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiActor(actor): ApiActor,
    Query(query): Query<TaskQuery>,
) -> AppResult<Json<Vec<Value>>> {
    async {
        mediator(&state, &headers).await?;
        if query.assignee_id.as_ref().is_some_and(|a| a != actor.id()) {
            return Ok(Json(Vec::new()));
        }
        let mut list: Vec<Value> = visible(&state, &actor)
            .await?
            .iter()
            .filter(|v| !tongban_workflow::table::FINAL.contains(&v.state.as_str()))
            .filter(|v| query.file_id.as_ref().is_none_or(|f| *f == v.id))
            .filter(|v| query.main_task_id.as_ref().is_none_or(|t| *t == task_id(v)))
            .map(|v| task_json(v, Some(actor.id())))
            .collect();
        sort(
            &mut list,
            query.sort_by.as_deref(),
            query.sort_order.as_deref(),
            &[
                "created",
                "name",
                "serviceName",
                "status",
                "fileId",
                "taskId",
            ],
        )?;
        Ok(Json(page(list, query.first_result, query.max_result)))
    }
    .await
    .map_err(spec)
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

/// The actions a task offers, as the specification's `formVariables` (an object of objects):
/// each action's name with what it does and whether it needs a reason.
fn form_variables(actions: &[String]) -> Value {
    let mut out = serde_json::Map::new();
    for action in actions {
        let needs_reason = matches!(action.as_str(), "reject" | "deny" | "request_correction");
        out.insert(
            action.clone(),
            json!({"type": "action", "reasonRequired": needs_reason}),
        );
    }
    Value::Object(out)
}

async fn task(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    async {
        mediator(&state, &headers).await?;
        let (file, _, _) = parse_task(&id)?;
        let detail = super::detail(&state, &actor, file).await?;
        if task_id(&detail.application) != id {
            return Err(AppError::NotFound);
        }
        let mut body = task_json(&detail.application, Some(actor.id()));
        body["taskName"] = body["name"].clone();
        body["formVariables"] = form_variables(&detail.actions);
        body["data"] = form_objects(&state, &detail.application.item_code, &detail.form).await?;
        Ok(Json(body))
    }
    .await
    .map_err(spec)
}

#[derive(Deserialize, Serialize)]
struct Additional {
    #[serde(default)]
    data: BTreeMap<String, Value>,
}

/// Which action a completion takes, by the rule documented in docs/services.md: `data` names
/// exactly one of the task's actions (its `formVariables`) as a key — `{"approve": {}}`,
/// `{"request_correction": {"reason": "…"}}` — or, as older clients write it, in
/// `data.action` (a string or `{"value": …}`). The reason is the action object's `reason`, or
/// `data.reason`.
fn chosen_action(
    data: &BTreeMap<String, Value>,
    offered: &[String],
) -> AppResult<(String, Option<String>)> {
    let text = |value: &Value| match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(object) => object
            .get("value")
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    };
    let named: Vec<&String> = offered.iter().filter(|a| data.contains_key(*a)).collect();
    let action = match (named.as_slice(), data.get("action").and_then(text)) {
        ([one], None) => (*one).clone(),
        ([], Some(action)) => action,
        ([], None) => {
            return Err(AppError::invalid(
                "data",
                format!(
                    "name one of the task's actions as a key of data: {}",
                    offered.join(", ")
                ),
            ));
        }
        _ => return Err(AppError::invalid("data", "name exactly one action")),
    };
    let reason = data
        .get(&action)
        .and_then(|v| v.get("reason"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| data.get("reason").and_then(text));
    Ok((action, reason))
}

async fn complete(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    body: Result<axum::Json<Additional>, axum::extract::rejection::JsonRejection>,
) -> AppResult<Json<Value>> {
    async {
        mediator(&state, &headers).await?;
        let (file, _, version) = parse_task(&id)?;
        // A task that is no longer the application's current one is not found (the
        // specification's status); so is an application the caller does not see.
        let detail = super::detail(&state, &actor, file).await?;
        if task_id(&detail.application) != id {
            return Err(AppError::NotFound);
        }
        let axum::Json(body) =
            body.map_err(|_| AppError::BadRequest("the body is not {\"data\": {…}} (JSON)".into()))?;
        let (action, reason) = chosen_action(&body.data, &detail.actions)?;
        let view = super::act(
            &state,
            &actor,
            file,
            super::ActionRequest {
                action,
                version,
                reason,
                form: None,
                uploads: BTreeMap::new(),
            },
        )
        .await
        .map_err(|error| match error {
            // Taken by someone else meanwhile: this task is gone.
            AppError::Conflict(_) if version != detail.application.version => AppError::NotFound,
            other => other,
        })?;
        Ok(Json(json!({
            "taskId": id,
            "fileId": view.id,
            "serviceId": service_id(&view.item_code),
            "status": status(&view.state),
            "variables": {"next": {"data": {"taskId": {"value": task_id(&view)}, "state": {"value": view.state}}}},
        })))
    }
    .await
    .map_err(spec)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatisticsQuery {
    start_date: Option<String>,
    end_date: Option<String>,
    registration_name: Option<String>,
    operator: Option<String>,
    role: Option<String>,
    timeframe: Option<String>,
}

/// The department's handling figures, as the specification's statistics: an array with one
/// element for the period asked (or one per day, week, month or year with `timeframe`), each
/// with what was asked in `references`. Filters: `startDate`/`endDate` (dates, inclusive, in
/// the region's zone), `registrationName` (a service's name), `operator` (an operator's
/// display name) and `role` (`clerk`); one that names nothing here is 404.
async fn statistics(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiActor(actor): ApiActor,
    Query(query): Query<StatisticsQuery>,
) -> AppResult<Json<Vec<Value>>> {
    async {
        mediator(&state, &headers).await?;
        let department = actor
            .clerk_department()
            .ok_or(AppError::Forbidden)?
            .to_owned();
        let zone = state.zone();
        let day = |field: &'static str, text: &Option<String>| -> AppResult<Option<time::Date>> {
            text.as_deref()
                .map(|t| {
                    tongban_core::zone::parse_ymd(t)
                        .ok_or_else(|| AppError::invalid(field, "a date such as 2026-01-30"))
                })
                .transpose()
        };
        let (start, end) = (
            day("startDate", &query.start_date)?,
            day("endDate", &query.end_date)?,
        );
        if let (Some(start), Some(end)) = (start, end)
            && start > end
        {
            return Err(AppError::invalid("endDate", "on or after startDate"));
        }
        let timeframe = match query.timeframe.as_deref() {
            None => None,
            Some(t @ ("day" | "week" | "month" | "year")) => Some(t),
            Some(_) => return Err(AppError::invalid("timeframe", "day, week, month or year")),
        };
        let item_code = match &query.registration_name {
            None => None,
            Some(name) => Some(
                crate::services::all_items(&state)
                    .await?
                    .into_iter()
                    .find(|i| i.definition.name == *name)
                    .map(|i| i.definition.code)
                    .ok_or(AppError::NotFound)?,
            ),
        };
        let operator = match &query.operator {
            None => None,
            Some(name) => Some(
                super::store::department_operator(state.pool(), &department, name)
                    .await?
                    .ok_or(AppError::NotFound)?,
            ),
        };
        if query
            .role
            .as_deref()
            .is_some_and(|r| !r.eq_ignore_ascii_case("clerk"))
        {
            return Err(AppError::NotFound);
        }
        let from = start.map(|d| zone.start_of(d));
        let until = end.map(|d| zone.day_span(d).1);
        let events = super::store::handling_events(
            state.pool(),
            &department,
            item_code.as_deref(),
            operator.as_deref(),
            from,
            until,
        )
        .await?;
        let mut periods: BTreeMap<String, [i64; 4]> = BTreeMap::new();
        for (at, action) in events {
            let key = match timeframe {
                None => String::new(),
                Some(frame) => period_of(zone.date_of(at), frame),
            };
            let counts = periods.entry(key).or_insert([0; 4]);
            match action.as_str() {
                "approve" => {
                    counts[0] += 1;
                    counts[1] += 1;
                }
                "deny" | "reject" => {
                    counts[0] += 1;
                    counts[3] += 1;
                }
                "request_correction" => counts[2] += 1,
                _ => {}
            }
        }
        if timeframe.is_none() && periods.is_empty() {
            periods.insert(String::new(), [0; 4]);
        }
        let references = |period: &str| {
            json!({
                "startDate": query.start_date,
                "endDate": query.end_date,
                "registrationName": query.registration_name,
                "operator": query.operator,
                "role": query.role,
                "timeframeDay": timeframe == Some("day"),
                "timeframeWeek": timeframe == Some("week"),
                "timeframeMonth": timeframe == Some("month"),
                "timeframeYear": timeframe == Some("year"),
                "period": (!period.is_empty()).then_some(period),
            })
        };
        Ok(Json(
            periods
                .iter()
                .map(|(period, [processed, approved, sent_back, rejected])| {
                    json!({
                        "processed": processed,
                        "approved": approved,
                        "sentBack": sent_back,
                        "rejected": rejected,
                        "references": references(period),
                    })
                })
                .collect(),
        ))
    }
    .await
    .map_err(spec)
}

/// The period a day falls in: `2026-12-04`, the ISO week `2026-W49`, `2026-12` or `2026`.
fn period_of(day: time::Date, frame: &str) -> String {
    match frame {
        "day" => tongban_core::zone::ymd(day),
        "week" => {
            let (year, week, _) = day.to_iso_week_date();
            format!("{year}-W{week:02}")
        }
        "month" => format!("{:04}-{:02}", day.year(), u8::from(day.month())),
        _ => format!("{:04}", day.year()),
    }
}
