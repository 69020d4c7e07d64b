//! The part of ODK Central's API that ODK Collect and `pyodk` use, and the OpenRosa protocol,
//! at Central's addresses (`/v1/…`), so that those apps and scripts work unchanged:
//!
//! - staff, with an API token as the bearer (`/v1/users/current` answers who it is; passwords
//!   with one-time codes are not taken at `/v1/sessions`): projects, forms (an XLSForm
//!   uploaded as a draft; "publish" sends it to the burden-reduction office, which opens it),
//!   app users, submissions (JSON, XML, their files) and the OData table of submissions;
//! - app users (a collector's device, by the token in the path, `/v1/key/{token}/…`): the
//!   OpenRosa form list of approved forms, each form's XForm and manifest, and submissions
//!   (multipart, with `xml_submission_file` and the photos and files it names). The same
//!   instance sent again is accepted and kept once; other content under the same instanceID
//!   is refused.
//!
//! Errors are answered as Central answers them: JSON `{"code", "message"}`, or an OpenRosa
//! response on the OpenRosa routes.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};
use tongban_xform::{Form, Kind, Node};

use crate::entities::lists as entity_lists;
use crate::error::AppError;
use crate::identity::model::Actor;
use crate::plan;
use crate::service::{self, Caller, Incoming, Stored};
use crate::state::AppState;
use crate::store::{self, FormRow, Project, SubmissionRow};
use crate::time_fmt::rfc3339;
use tongban_xform::escape;

/// The most rows of the OData table in one answer.
pub const MAX_TOP: i64 = 1_000;

pub fn routes() -> Router<AppState> {
    let uploads = DefaultBodyLimit::max(
        service::MAX_SUBMISSION_XML + service::MAX_FILES * service::MAX_FILE + 64 * 1024,
    );
    let forms = DefaultBodyLimit::max(service::MAX_XLSFORM + 64 * 1024);
    Router::new()
        .route("/v1/users/current", get(current_user))
        .route("/v1/sessions", post(sessions))
        .route("/v1/projects", get(projects).post(create_project))
        .route("/v1/projects/{project}", get(project))
        .route(
            "/v1/projects/{project}/app-users",
            get(app_users).post(add_app_user),
        )
        .route(
            "/v1/projects/{project}/app-users/{user}",
            axum::routing::delete(revoke_app_user),
        )
        .route(
            "/v1/projects/{project}/forms",
            get(forms_list).post(create_form).layer(forms),
        )
        .route("/v1/projects/{project}/forms/{form}", get(form_or_xml))
        .route(
            "/v1/projects/{project}/forms/{form}/draft/publish",
            post(publish),
        )
        .route(
            "/v1/projects/{project}/forms/{form}/manifest",
            get(staff_manifest),
        )
        .route(
            "/v1/projects/{project}/forms/{form}/attachments/{file}",
            get(staff_attachment),
        )
        .route(
            "/v1/projects/{project}/forms/{form}/submissions",
            get(submissions).post(create_submission).layer(uploads),
        )
        .route(
            "/v1/projects/{project}/forms/{form}/submissions.csv",
            get(export_csv),
        )
        .route(
            "/v1/projects/{project}/forms/{form}/submissions.csv.zip",
            get(export_zip),
        )
        .route(
            "/v1/projects/{project}/forms/{form}/submissions/{instance}",
            get(submission).patch(review),
        )
        .route(
            "/v1/projects/{project}/forms/{form}/submissions/{instance}/attachments",
            get(attachments),
        )
        .route("/v1/projects/{project}/forms/{form}/{table}", get(odata))
        .route(
            "/v1/projects/{project}/forms/{form}/{table}/{*repeat}",
            get(odata_navigation),
        )
        .route(
            "/v1/projects/{project}/submission",
            post(staff_openrosa_submission)
                .head(openrosa_head)
                .layer(uploads),
        )
        .route(
            "/v1/key/{token}/projects/{project}/formList",
            get(form_list),
        )
        .route(
            "/v1/key/{token}/projects/{project}/forms/{form}",
            get(app_form_xml),
        )
        .route(
            "/v1/key/{token}/projects/{project}/forms/{form}/manifest",
            get(app_manifest),
        )
        .route(
            "/v1/key/{token}/projects/{project}/forms/{form}/attachments/{file}",
            get(app_attachment),
        )
        .route(
            "/v1/key/{token}/projects/{project}/submission",
            post(app_openrosa_submission)
                .head(openrosa_head)
                .layer(uploads),
        )
}

/// An error as Central writes it.
pub(crate) struct OdkError(pub(crate) AppError);

impl From<AppError> for OdkError {
    fn from(e: AppError) -> Self {
        OdkError(e)
    }
}

impl IntoResponse for OdkError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if let AppError::Internal(source) = &self.0 {
            tracing::error!(error = %source, "internal error");
        }
        let code = f64::from(status.as_u16()) + 0.1;
        let message = match &self.0 {
            AppError::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        };
        (
            status,
            axum::Json(json!({"code": code, "message": message})),
        )
            .into_response()
    }
}

pub(crate) type OdkResult<T> = Result<T, OdkError>;

/// A query string read for an ODK route: one that does not read (a parameter twice, a value
/// of the wrong kind) is refused in Central's error shape, as the rest of these routes answer.
pub(crate) struct OdkQuery<T>(pub(crate) T);

impl<T, S> axum::extract::FromRequestParts<S> for OdkQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = OdkError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(value)| OdkQuery(value))
            .map_err(|e| {
                OdkError(AppError::Invalid {
                    field: "query",
                    reason: e.body_text(),
                })
            })
    }
}

/// Central's flags that extend a listing (`?forms=true` nests each project's forms,
/// `?deleted=true` lists deleted forms): not offered, so refused rather than ignored; `false`
/// or absent is the plain listing.
#[derive(serde::Deserialize)]
pub(crate) struct ListingQuery {
    forms: Option<String>,
    datasets: Option<String>,
    deleted: Option<String>,
}

impl ListingQuery {
    pub(crate) fn plain(&self) -> OdkResult<()> {
        for (name, value) in [
            ("forms", &self.forms),
            ("datasets", &self.datasets),
            ("deleted", &self.deleted),
        ] {
            match value.as_deref() {
                None | Some("false") => {}
                Some("true") => {
                    return Err(OdkError(AppError::Invalid {
                        field: "query",
                        reason: format!("{name}=true is not offered"),
                    }));
                }
                Some(other) => {
                    return Err(OdkError(AppError::Invalid {
                        field: "query",
                        reason: format!("{name} is true or false, not {other:?}"),
                    }));
                }
            }
        }
        Ok(())
    }
}

pub(crate) async fn staff(state: &AppState, headers: &HeaderMap) -> OdkResult<Actor> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AppError::Unauthenticated)?;
    Ok(crate::identity::service::actor_from_token(state, token)
        .await?
        .ok_or(AppError::Unauthenticated)?)
}

pub(crate) fn project_id(text: &str) -> OdkResult<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(OdkError(AppError::NotFound))
}

fn project_json(project: &Project, forms: usize) -> Value {
    json!({
        "id": project.id,
        "name": project.name,
        "description": null,
        "archived": false,
        "keyId": null,
        "forms": forms,
        "createdAt": rfc3339(project.created_at),
        "updatedAt": null,
    })
}

fn form_json(form: &FormRow) -> Value {
    json!({
        "projectId": form.project_id,
        "xmlFormId": form.xml_form_id,
        "name": form.title,
        "version": form.version,
        "hash": form.hash,
        "state": if form.state == service::APPROVED { "open" } else { "closed" },
        "enketoId": null,
        "keyId": null,
        "createdAt": rfc3339(form.created_at),
        "updatedAt": form.decided_at.map(rfc3339),
        "publishedAt": (form.state == service::APPROVED).then(|| form.decided_at.map(rfc3339)).flatten(),
        // tongban's own: where the form stands in its approval.
        "approval": form.state,
        "approvalNote": form.decision_note,
    })
}

async fn current_user(State(state): State<AppState>, headers: HeaderMap) -> OdkResult<Response> {
    let actor = staff(&state, &headers).await?;
    let id = service::staff_id(&state, &actor).await?;
    Ok(axum::Json(json!({
        "id": id,
        "type": "user",
        "displayName": actor.account.display_name,
        "email": actor.account.username,
        "createdAt": rfc3339(state.now()),
        "updatedAt": null,
        "deletedAt": null,
    }))
    .into_response())
}

async fn sessions() -> OdkResult<Response> {
    Err(OdkError(AppError::NotAuthorised(
        "tongban does not take passwords here: staff sign in with a one-time code, so ODK clients use an API token (Authorization: Bearer …) made on the account page".into(),
    )))
}

async fn projects(
    State(state): State<AppState>,
    headers: HeaderMap,
    OdkQuery(query): OdkQuery<ListingQuery>,
) -> OdkResult<Response> {
    query.plain()?;
    let actor = staff(&state, &headers).await?;
    let mut out = Vec::new();
    for project in service::visible_projects(&state, &actor).await? {
        let forms = store::forms(state.pool(), project.id).await?.len();
        out.push(project_json(&project, forms));
    }
    Ok(axum::Json(out).into_response())
}

#[derive(serde::Deserialize)]
struct NewProject {
    name: String,
}

/// A project for the department of the administrator who asks.
async fn create_project(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> OdkResult<Response> {
    let actor = staff(&state, &headers).await?;
    let request: NewProject = serde_json::from_slice(&body).map_err(|e| AppError::Invalid {
        field: "body",
        reason: format!("expected {{\"name\": …}}: {e}"),
    })?;
    let project = service::create_project(&state, &actor, &request.name).await?;
    Ok(axum::Json(project_json(&project, 0)).into_response())
}

async fn project(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> OdkResult<Response> {
    let actor = staff(&state, &headers).await?;
    let project = service::project_for(&state, &actor, project_id(&id)?).await?;
    let forms = store::forms(state.pool(), project.id).await?.len();
    Ok(axum::Json(project_json(&project, forms)).into_response())
}

async fn app_users(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> OdkResult<Response> {
    let actor = staff(&state, &headers).await?;
    let project = service::project_run_by(&state, &actor, project_id(&id)?).await?;
    let users: Vec<Value> = store::app_users(state.pool(), project.id)
        .await?
        .iter()
        .map(|u| {
            json!({
                "id": u.id,
                "type": "field_key",
                "displayName": u.display_name,
                "projectId": u.project_id,
                "regionCode": u.region_code,
                "createdAt": rfc3339(u.created_at),
                "deletedAt": u.revoked_at.map(rfc3339),
                "token": null,
            })
        })
        .collect();
    Ok(axum::Json(users).into_response())
}

/// Withdraws a device, as Central's `DELETE …/app-users/{id}` does: its token stops working.
async fn revoke_app_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((project, user)): Path<(String, String)>,
) -> OdkResult<Response> {
    let actor = staff(&state, &headers).await?;
    let user = user.parse::<i64>().map_err(|_| AppError::NotFound)?;
    service::revoke_app_user(&state, &actor, project_id(&project)?, user).await?;
    Ok(axum::Json(json!({"success": true})).into_response())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(deny_unknown_fields)]
struct NewAppUser {
    display_name: String,
    /// tongban's addition: the grassroots unit (township or village code) the device collects
    /// for.
    #[serde(default)]
    region_code: Option<String>,
    /// tongban's addition: the username of the staff member who carries the device (its forms
    /// join that person's to-do list).
    #[serde(default)]
    holder: Option<String>,
}

async fn add_app_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> OdkResult<Response> {
    let actor = staff(&state, &headers).await?;
    let request: NewAppUser = serde_json::from_slice(&body).map_err(|e| AppError::Invalid {
        field: "body",
        reason: format!("expected {{\"displayName\": …}}: {e}"),
    })?;
    let (user, token) = service::add_app_user(
        &state,
        &actor,
        project_id(&id)?,
        &request.display_name,
        request.region_code.as_deref(),
        request.holder.as_deref(),
    )
    .await?;
    Ok(axum::Json(json!({
        "id": user.id,
        "type": "field_key",
        "displayName": user.display_name,
        "projectId": user.project_id,
        "regionCode": user.region_code,
        "createdAt": rfc3339(user.created_at),
        "token": token,
    }))
    .into_response())
}

async fn forms_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    OdkQuery(query): OdkQuery<ListingQuery>,
) -> OdkResult<Response> {
    query.plain()?;
    let actor = staff(&state, &headers).await?;
    let project = service::project_for(&state, &actor, project_id(&id)?).await?;
    let forms: Vec<Value> = store::forms(state.pool(), project.id)
        .await?
        .iter()
        .map(form_json)
        .collect();
    Ok(axum::Json(forms).into_response())
}

#[derive(serde::Deserialize)]
struct CreateQuery {
    publish: Option<String>,
}

/// An XLSForm uploaded as the body (Central's "create a form"): a draft, or sent to the office
/// at once with `?publish=true`. An XForm (XML) body is not taken: forms are designed as
/// XLSForms, so that the office's overlap report can read them.
async fn create_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    OdkQuery(query): OdkQuery<CreateQuery>,
    body: Bytes,
) -> OdkResult<Response> {
    let actor = staff(&state, &headers).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.contains("spreadsheetml") && !content_type.contains("octet-stream") {
        return Err(OdkError(AppError::UnsupportedMediaType(
            "an XLSForm (application/vnd.openxmlformats-officedocument.spreadsheetml.sheet)",
        )));
    }
    let fallback = headers
        .get("x-xlsform-formid-fallback")
        .and_then(|v| v.to_str().ok())
        .map(percent_decode)
        .unwrap_or_else(|| "form".to_owned());
    let send = query.publish.as_deref() == Some("true");
    let row =
        service::upload_form(&state, &actor, project_id(&id)?, &body, &fallback, send).await?;
    Ok(axum::Json(form_json(&row)).into_response())
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn publish(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, form)): Path<(String, String)>,
) -> OdkResult<Response> {
    let actor = staff(&state, &headers).await?;
    service::send_for_approval(&state, &actor, project_id(&id)?, &form).await?;
    Ok(axum::Json(json!({"success": true})).into_response())
}

/// A form's or a submission's XML as the JSON API gives it (`application/xml`, as Central).
fn document_response(body: String) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    response
}

/// An OpenRosa answer (`text/xml`, with the protocol's headers).
fn xml_response(body: String) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    openrosa_headers(&mut response);
    response
}

fn openrosa_headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert("x-openrosa-version", HeaderValue::from_static("1.0"));
    headers.insert(
        "x-openrosa-accept-content-length",
        HeaderValue::from_static("104857600"),
    );
}

async fn form_or_xml(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, form)): Path<(String, String)>,
) -> OdkResult<Response> {
    let actor = staff(&state, &headers).await?;
    let project = service::project_for(&state, &actor, project_id(&id)?).await?;
    if let Some(form) = form.strip_suffix(".xml") {
        let row = service::form_for(&state, &Caller::Staff(actor), &project, form).await?;
        return Ok(document_response(row.xform));
    }
    let row = service::form_for(&state, &Caller::Staff(actor), &project, &form).await?;
    let count = store::submission_count(state.pool(), project.id, &row.xml_form_id).await?;
    let mut value = form_json(&row);
    value["submissions"] = json!(count);
    Ok(axum::Json(value).into_response())
}

/// The unit whose entities a caller receives: an app user's, none (all) for the staff.
fn unit_of_caller(caller: &Caller) -> Option<&str> {
    match caller {
        Caller::AppUser(user) => user.region_code.as_deref(),
        Caller::Staff(_) => None,
    }
}

/// A form's manifest: the entity lists it chooses from, each as a CSV file with the hash of
/// what this caller receives (so that ODK Collect fetches it again when it changes).
async fn manifest(
    state: &AppState,
    caller: &Caller,
    project: &Project,
    row: &FormRow,
    base: &str,
) -> OdkResult<Response> {
    let definition: Form =
        serde_json::from_str(&row.definition).map_err(|e| AppError::Internal(e.into()))?;
    let mut out = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><manifest xmlns="http://openrosa.org/xforms/xformsManifest">"#,
    );
    for (file, list) in entity_lists::files_of(state, project.id, &definition).await? {
        let (body, _) = entity_lists::csv(state, project.id, &list, unit_of_caller(caller)).await?;
        out.push_str(&format!(
            "<mediaFile><filename>{0}</filename><hash>md5:{1}</hash><downloadUrl>{base}/forms/{2}/attachments/{0}</downloadUrl></mediaFile>",
            escape(&file),
            service::md5_hex(&body),
            escape(&row.xml_form_id),
        ));
    }
    out.push_str("</manifest>");
    Ok(xml_response(out))
}

/// A file of a form's manifest: an entity list as CSV, of the caller's unit. A device's
/// download is recorded in the transparency log (the list may name persons).
async fn attachment(
    state: &AppState,
    caller: &Caller,
    project: &Project,
    form: &str,
    file: &str,
) -> OdkResult<Response> {
    let row = service::form_for(state, caller, project, form).await?;
    let definition: Form =
        serde_json::from_str(&row.definition).map_err(|e| AppError::Internal(e.into()))?;
    let Some((_, list)) = entity_lists::files_of(state, project.id, &definition)
        .await?
        .into_iter()
        .find(|(f, _)| f == file)
    else {
        return Err(OdkError(AppError::NotFound));
    };
    let unit = unit_of_caller(caller);
    let (body, count) = entity_lists::csv(state, project.id, &list, unit).await?;
    let sender = match caller {
        Caller::AppUser(user) => format!("collect-device:{}", user.id),
        Caller::Staff(actor) => actor.id().to_owned(),
    };
    service::log_as(
        state,
        &sender,
        "collect.entity_list_sent",
        json!({"project": project.id, "form": row.xml_form_id, "list": list, "unit": unit, "entities": count}),
    )
    .await?;
    let mut response = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response();
    openrosa_headers(&mut response);
    Ok(response)
}

async fn staff_manifest(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, form)): Path<(String, String)>,
) -> OdkResult<Response> {
    let actor = staff(&state, &headers).await?;
    let project = service::project_for(&state, &actor, project_id(&id)?).await?;
    let caller = Caller::Staff(actor);
    let row = service::form_for(&state, &caller, &project, &form).await?;
    let base = format!("{}/v1/projects/{}", base_url(&state, &headers), project.id);
    manifest(&state, &caller, &project, &row, &base).await
}

async fn staff_attachment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, form, file)): Path<(String, String, String)>,
) -> OdkResult<Response> {
    let actor = staff(&state, &headers).await?;
    let project = service::project_run_by(&state, &actor, project_id(&id)?).await?;
    attachment(&state, &Caller::Staff(actor), &project, &form, &file).await
}

async fn app_attachment(
    State(state): State<AppState>,
    Path((token, id, form, file)): Path<(String, String, String, String)>,
) -> OdkResult<Response> {
    let (caller, project) = app_caller(&state, &token, &id).await?;
    attachment(&state, &caller, &project, &form, &file).await
}

async fn app_caller(state: &AppState, token: &str, project: &str) -> OdkResult<(Caller, Project)> {
    let user = service::app_user(state, token).await?;
    let id = project_id(project)?;
    if user.project_id != id {
        return Err(OdkError(AppError::Forbidden));
    }
    let project = service::project_by_id(state, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((Caller::AppUser(user), project))
}

fn base_url(state: &AppState, headers: &HeaderMap) -> String {
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

/// The OpenRosa form list: the project's approved forms.
async fn form_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((token, id)): Path<(String, String)>,
) -> OdkResult<Response> {
    let (caller, project) = app_caller(&state, &token, &id).await?;
    let base = format!(
        "{}/v1/key/{}/projects/{}",
        base_url(&state, &headers),
        escape(&token),
        project.id
    );
    let mut out = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><xforms xmlns="http://openrosa.org/xforms/xformsList">"#,
    );
    let unit = match &caller {
        Caller::AppUser(user) => user.region_code.clone(),
        Caller::Staff(_) => None,
    };
    let today = state.today();
    for form in store::forms(state.pool(), project.id).await? {
        if !plan::is_open(&form, today) || !plan::reaches(&plan::targets(&form), unit.as_deref()) {
            continue;
        }
        let fid = escape(&form.xml_form_id);
        out.push_str(&format!(
            "<xform><formID>{fid}</formID><name>{}</name><version>{}</version><hash>md5:{}</hash><downloadUrl>{base}/forms/{fid}.xml</downloadUrl><manifestUrl>{base}/forms/{fid}/manifest</manifestUrl></xform>",
            escape(&form.title),
            escape(&form.version),
            form.hash,
        ));
    }
    out.push_str("</xforms>");
    Ok(xml_response(out))
}

async fn app_form_xml(
    State(state): State<AppState>,
    Path((token, id, form)): Path<(String, String, String)>,
) -> OdkResult<Response> {
    let (caller, project) = app_caller(&state, &token, &id).await?;
    let Some(form) = form.strip_suffix(".xml") else {
        return Err(OdkError(AppError::NotFound));
    };
    let row = service::form_for(&state, &caller, &project, form).await?;
    Ok(xml_response(row.xform))
}

async fn app_manifest(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((token, id, form)): Path<(String, String, String)>,
) -> OdkResult<Response> {
    let (caller, project) = app_caller(&state, &token, &id).await?;
    let row = service::form_for(&state, &caller, &project, &form).await?;
    let base = format!(
        "{}/v1/key/{}/projects/{}",
        base_url(&state, &headers),
        escape(&token),
        project.id
    );
    manifest(&state, &caller, &project, &row, &base).await
}

async fn openrosa_head() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    openrosa_headers(&mut response);
    response
}

/// An OpenRosa answer: a message in the response envelope.
fn openrosa(status: StatusCode, message: &str) -> Response {
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><OpenRosaResponse xmlns="http://openrosa.org/http/response" items="0"><message nature="{}">{}</message></OpenRosaResponse>"#,
        if status.is_success() { "" } else { "error" },
        escape(message)
    );
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    openrosa_headers(&mut response);
    response
}

fn openrosa_error(error: AppError) -> Response {
    if let AppError::Internal(source) = &error {
        tracing::error!(error = %source, "internal error");
        return openrosa(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
    }
    openrosa(error.status(), &error.to_string())
}

/// The parts of an OpenRosa submission: `xml_submission_file` and the files it names.
async fn read_multipart(request: Request, state: &AppState) -> Result<Incoming, AppError> {
    let device_id = request.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("deviceID="))
            .map(percent_decode)
    });
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| AppError::BadRequest(format!("a multipart body is expected: {e}")))?;
    let mut xml = None;
    let mut files = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("the multipart body cannot be read: {e}")))?
    {
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        let body = field
            .bytes()
            .await
            .map_err(|e| AppError::BadRequest(format!("the part {name} cannot be read: {e}")))?;
        if name == "xml_submission_file" {
            let text = String::from_utf8(body.to_vec()).map_err(|_| AppError::Invalid {
                field: "xml_submission_file",
                reason: "the instance is not UTF-8".into(),
            })?;
            xml = Some(text);
        } else {
            let file_name = file_name.unwrap_or(name);
            if file_name.is_empty() || file_name.contains(['/', '\\']) || file_name.len() > 255 {
                return Err(AppError::Invalid {
                    field: "files",
                    reason: "a file's name is empty, too long or has a path".into(),
                });
            }
            files.push((file_name, content_type, body.to_vec()));
        }
    }
    let xml = xml.ok_or_else(|| AppError::Invalid {
        field: "xml_submission_file",
        reason: "the part xml_submission_file is missing".into(),
    })?;
    Ok(Incoming {
        xml,
        files,
        device_id,
        unit: None,
    })
}

async fn openrosa_submit(
    state: &AppState,
    project: &Project,
    submitter: i64,
    unit: Option<String>,
    request: Request,
) -> Response {
    let outcome = async {
        let mut incoming = read_multipart(request, state).await?;
        incoming.unit = unit;
        let form = service::form_id_of(&incoming.xml)?;
        service::submit(state, project, submitter, &form, incoming).await
    }
    .await;
    match outcome {
        Ok(Stored::Created(_)) => openrosa(
            StatusCode::CREATED,
            "full submission upload was successful!",
        ),
        Ok(Stored::Again(_)) => openrosa(
            StatusCode::CREATED,
            "this submission was already received; it is kept once",
        ),
        Err(error) => openrosa_error(error),
    }
}

async fn app_openrosa_submission(
    State(state): State<AppState>,
    Path((token, id)): Path<(String, String)>,
    request: Request,
) -> Response {
    let (user, project) = match app_caller(&state, &token, &id).await {
        Ok((Caller::AppUser(user), project)) => (user, project),
        Ok(_) => return openrosa_error(AppError::Forbidden),
        Err(OdkError(error)) => return openrosa_error(error),
    };
    openrosa_submit(&state, &project, user.id, user.region_code, request).await
}

async fn staff_openrosa_submission(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let prepared = async {
        let actor = staff(&state, &headers).await?;
        let project = service::project_run_by(&state, &actor, project_id(&id)?).await?;
        let submitter = service::staff_id(&state, &actor).await?;
        Ok::<_, OdkError>((project, submitter))
    }
    .await;
    match prepared {
        Ok((project, submitter)) => {
            openrosa_submit(&state, &project, submitter, None, request).await
        }
        Err(OdkError(error)) => openrosa_error(error),
    }
}

/// A submission created with its XML as the body (`pyodk`'s `submissions.create`). As Central
/// does, an instanceID already received is refused with 409 here.
async fn create_submission(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, form)): Path<(String, String)>,
    OdkQuery(query): OdkQuery<std::collections::HashMap<String, String>>,
    body: Bytes,
) -> OdkResult<Response> {
    let actor = staff(&state, &headers).await?;
    let project = service::project_run_by(&state, &actor, project_id(&id)?).await?;
    let submitter = service::staff_id(&state, &actor).await?;
    let xml = String::from_utf8(body.to_vec()).map_err(|_| AppError::Invalid {
        field: "body",
        reason: "the instance is not UTF-8".into(),
    })?;
    let incoming = Incoming {
        xml,
        files: Vec::new(),
        device_id: query.get("deviceID").cloned(),
        unit: None,
    };
    match service::submit(&state, &project, submitter, &form, incoming).await? {
        Stored::Created(row) => Ok(axum::Json(submission_json(&row, None)).into_response()),
        Stored::Again(row) => Err(OdkError(AppError::Conflict(format!(
            "A resource already exists with instanceID {}",
            row.instance_id
        )))),
    }
}

fn submission_json(row: &SubmissionRow, instance_name: Option<String>) -> Value {
    json!({
        "instanceId": row.instance_id,
        "submitterId": row.submitter_id,
        "deviceId": row.device_id,
        "createdAt": rfc3339(row.created_at),
        "updatedAt": null,
        "reviewState": row.review_state,
        "instanceName": instance_name,
    })
}

/// Central's paging of the submissions list.
#[derive(serde::Deserialize)]
struct Paging {
    limit: Option<String>,
    offset: Option<String>,
    deleted: Option<String>,
}

async fn submissions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, form)): Path<(String, String)>,
    OdkQuery(query): OdkQuery<Paging>,
) -> OdkResult<Response> {
    let actor = staff(&state, &headers).await?;
    let project = service::project_run_by(&state, &actor, project_id(&id)?).await?;
    service::form_for(&state, &Caller::Staff(actor), &project, &form).await?;
    let number = |name: &'static str, text: Option<&str>, default: i64, most: i64| {
        text.map_or(Ok(default), |t| match t.parse::<i64>() {
            Ok(n) if (0..=most).contains(&n) => Ok(n),
            _ => Err(OdkError(AppError::Invalid {
                field: name,
                reason: format!("a whole number from 0 to {most}"),
            })),
        })
    };
    let limit = number("limit", query.limit.as_deref(), MAX_TOP * 10, MAX_TOP * 10)?;
    let offset = number("offset", query.offset.as_deref(), 0, i64::MAX / 2)?;
    ListingQuery {
        forms: None,
        datasets: None,
        deleted: query.deleted,
    }
    .plain()?;
    let rows = store::submissions(state.pool(), project.id, &form, offset, limit).await?;
    Ok(axum::Json(
        rows.iter()
            .map(|r| submission_json(r, None))
            .collect::<Vec<_>>(),
    )
    .into_response())
}

async fn submission(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, form, instance)): Path<(String, String, String)>,
) -> OdkResult<Response> {
    let actor = staff(&state, &headers).await?;
    let project = service::project_run_by(&state, &actor, project_id(&id)?).await?;
    let (instance, as_xml) = match instance.strip_suffix(".xml") {
        Some(bare) => (bare.to_owned(), true),
        None => (instance, false),
    };
    let row = store::submission(state.pool(), project.id, &form, &instance)
        .await?
        .ok_or(AppError::NotFound)?;
    if as_xml {
        return Ok(document_response(service::submission_xml(&state, &row)?));
    }
    Ok(axum::Json(submission_json(&row, None)).into_response())
}

/// The options of Central's CSV export.
#[derive(serde::Deserialize)]
struct ExportQuery {
    #[serde(rename = "groupPaths")]
    group_paths: Option<String>,
    #[serde(rename = "splitSelectMultiples")]
    split_select_multiples: Option<String>,
    attachments: Option<String>,
    #[serde(rename = "deletedFields")]
    deleted_fields: Option<String>,
    #[serde(rename = "$filter")]
    filter: Option<String>,
}

impl ExportQuery {
    fn options(&self) -> OdkResult<crate::export::Options> {
        let flag =
            |name: &'static str, value: &Option<String>, default: bool| match value.as_deref() {
                None => Ok(default),
                Some("true") => Ok(true),
                Some("false") => Ok(false),
                Some(other) => Err(OdkError(AppError::Invalid {
                    field: name,
                    reason: format!("true or false, not {other:?}"),
                })),
            };
        if self.filter.is_some() {
            return Err(OdkError(AppError::BadRequest(
                "$filter is not offered by this server yet".into(),
            )));
        }
        if flag("deletedFields", &self.deleted_fields, false)? {
            return Err(OdkError(AppError::Invalid {
                field: "deletedFields",
                reason: "a form's fields are never deleted here".into(),
            }));
        }
        Ok(crate::export::Options {
            group_paths: flag("groupPaths", &self.group_paths, true)?,
            split_select_multiples: flag(
                "splitSelectMultiples",
                &self.split_select_multiples,
                false,
            )?,
            attachments: flag("attachments", &self.attachments, true)?,
        })
    }
}

async fn export_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, form)): Path<(String, String)>,
    OdkQuery(query): OdkQuery<ExportQuery>,
) -> OdkResult<Response> {
    export(&state, &headers, &id, &form, &query, false).await
}

async fn export_zip(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, form)): Path<(String, String)>,
    OdkQuery(query): OdkQuery<ExportQuery>,
) -> OdkResult<Response> {
    export(&state, &headers, &id, &form, &query, true).await
}

async fn export(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    form: &str,
    query: &ExportQuery,
    zip: bool,
) -> OdkResult<Response> {
    let actor = staff(state, headers).await?;
    let options = query.options()?;
    let project = service::project_run_by(state, &actor, project_id(id)?).await?;
    Ok(crate::export::export(state, &actor, &project, form, options, zip).await?)
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReviewRequest {
    review_state: String,
}

/// The project's staff review a submission (`{"reviewState": "approved" | "hasIssues" |
/// "rejected"}`); an approved one makes its entity in a list that waits for approval.
async fn review(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, form, instance)): Path<(String, String, String)>,
    bytes: axum::body::Bytes,
) -> OdkResult<Response> {
    if instance.ends_with(".xml") {
        // The submission's XML is read, not reviewed.
        let mut refused = (
            StatusCode::METHOD_NOT_ALLOWED,
            axum::Json(json!({"code": 405.1, "message": "the XML of a submission is only read"})),
        )
            .into_response();
        refused
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET,HEAD"));
        return Ok(refused);
    }
    let actor = staff(&state, &headers).await?;
    let request: ReviewRequest = serde_json::from_slice(&bytes).map_err(|e| AppError::Invalid {
        field: "body",
        reason: format!("expected {{\"reviewState\": …}}: {e}"),
    })?;
    let row = service::review(
        &state,
        &actor,
        project_id(&id)?,
        &form,
        &instance,
        &request.review_state,
    )
    .await?;
    Ok(axum::Json(submission_json(&row, None)).into_response())
}

async fn attachments(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, form, instance)): Path<(String, String, String)>,
) -> OdkResult<Response> {
    let actor = staff(&state, &headers).await?;
    let project = service::project_run_by(&state, &actor, project_id(&id)?).await?;
    let row = store::submission(state.pool(), project.id, &form, &instance)
        .await?
        .ok_or(AppError::NotFound)?;
    let form_row = store::form(state.pool(), project.id, &form)
        .await?
        .ok_or(AppError::NotFound)?;
    let definition: Form =
        serde_json::from_str(&form_row.definition).map_err(|e| AppError::Internal(e.into()))?;
    let stored = store::attachment_names(state.pool(), project.id, &form, &instance).await?;
    let xml = service::submission_xml(&state, &row)?;
    let doc = tongban_xform::Instance::parse(&xml).map_err(|e| AppError::Internal(e.into()))?;
    let mut named = Vec::new();
    collect_files(
        &doc,
        tongban_xform::Instance::ROOT,
        &definition.children,
        &mut named,
    );
    let list: Vec<Value> = named
        .into_iter()
        .map(|name| json!({"exists": stored.contains(&name), "name": name}))
        .collect();
    Ok(axum::Json(list).into_response())
}

fn collect_files(doc: &tongban_xform::Instance, at: usize, nodes: &[Node], out: &mut Vec<String>) {
    for node in nodes {
        for element in doc.children_named(at, &node.name) {
            match node.kind {
                Kind::Image | Kind::File => {
                    let name = doc.text(element).trim();
                    if !name.is_empty() && !out.iter().any(|n| n == name) {
                        out.push(name.to_owned());
                    }
                }
                Kind::Group | Kind::Repeat => collect_files(doc, element, &node.children, out),
                _ => {}
            }
        }
    }
}

/// The query of an OData table: paging and a count; filters, expansions and selections are
/// refused rather than ignored.
#[derive(serde::Deserialize)]
pub(crate) struct ODataQuery {
    #[serde(rename = "$top")]
    top: Option<String>,
    #[serde(rename = "$skip")]
    skip: Option<String>,
    #[serde(rename = "$count")]
    count: Option<String>,
    #[serde(rename = "$filter")]
    filter: Option<String>,
    #[serde(rename = "$expand")]
    expand: Option<String>,
    #[serde(rename = "$select")]
    select: Option<String>,
    #[serde(rename = "$wkt")]
    wkt: Option<String>,
}

impl ODataQuery {
    /// Refuses what the tables do not offer yet (answering as if it were applied would
    /// mislead).
    pub(crate) fn refuse_unsupported(&self) -> OdkResult<()> {
        for (given, name) in [
            (&self.filter, "$filter"),
            (&self.expand, "$expand"),
            (&self.select, "$select"),
        ] {
            if given.is_some() {
                return Err(OdkError(AppError::BadRequest(format!(
                    "{name} is not offered by this server yet"
                ))));
            }
        }
        for (given, name) in [(&self.count, "$count"), (&self.wkt, "$wkt")] {
            if let Some(value) = given.as_deref()
                && !value.eq_ignore_ascii_case("true")
                && !value.eq_ignore_ascii_case("false")
            {
                return Err(OdkError(AppError::BadRequest(format!(
                    "{name} is true or false, not {value:?}"
                ))));
            }
        }
        Ok(())
    }

    /// `$skip` and `$top` (at most [`MAX_TOP`]).
    pub(crate) fn page(&self) -> OdkResult<(i64, i64)> {
        Ok((
            odata_number(&self.skip, "$skip", 0, i64::MAX / 2)?,
            odata_number(&self.top, "$top", MAX_TOP, MAX_TOP)?,
        ))
    }

    pub(crate) fn wants_count(&self) -> bool {
        self.count
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("true"))
    }
}

fn odata_number(
    text: &Option<String>,
    name: &'static str,
    default: i64,
    most: i64,
) -> OdkResult<i64> {
    match text {
        None => Ok(default),
        Some(t) => t
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=most).contains(n))
            .ok_or_else(|| {
                OdkError(AppError::Invalid {
                    field: name,
                    reason: format!("a whole number from 0 to {most}"),
                })
            }),
    }
}

/// The OData table of a form's submissions (`{form}.svc/Submissions`): one row per
/// submission, groups as nested objects, numbers as numbers, a repeat as a link to its own
/// table. `$top`, `$skip` and `$count` are taken; `$filter`, `$expand` and `$select` are not
/// offered yet and are refused rather than ignored.
async fn odata(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, service_name, table)): Path<(String, String, String)>,
    OdkQuery(query): OdkQuery<ODataQuery>,
) -> OdkResult<Response> {
    let actor = staff(&state, &headers).await?;
    let Some(form) = service_name.strip_suffix(".svc") else {
        return Err(OdkError(AppError::NotFound));
    };
    if table != "Submissions" {
        let Some(repeat) = table.strip_prefix("Submissions.") else {
            return Err(OdkError(AppError::NotFound));
        };
        let path: Vec<String> = repeat.split('.').map(str::to_owned).collect();
        return repeat_table(&state, &headers, &actor, &id, form, &path, None, &query).await;
    }
    query.refuse_unsupported()?;
    let project = service::project_run_by(&state, &actor, project_id(&id)?).await?;
    let row = service::form_for(&state, &Caller::Staff(actor), &project, form).await?;
    let definition: Form =
        serde_json::from_str(&row.definition).map_err(|e| AppError::Internal(e.into()))?;
    let (skip, top) = query.page()?;
    let rows = store::submissions(state.pool(), project.id, form, skip, top).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.submitter_id).collect();
    let names: std::collections::HashMap<i64, String> = store::collector_names(state.pool(), &ids)
        .await?
        .into_iter()
        .collect();
    let mut value = Vec::new();
    for submission in &rows {
        let xml = service::submission_xml(&state, submission)?;
        let doc = tongban_xform::Instance::parse(&xml).map_err(|e| AppError::Internal(e.into()))?;
        let mut record = Map::new();
        record.insert("__id".into(), json!(submission.instance_id));
        let key = format!(
            "Submissions('{}')",
            submission.instance_id.replace('\'', "''")
        );
        fill(
            &doc,
            tongban_xform::Instance::ROOT,
            &definition.children,
            &key,
            &mut record,
        );
        let meta: Map<String, Value> = doc
            .children_named(tongban_xform::Instance::ROOT, "meta")
            .next()
            .map(|m| {
                doc.children(m)
                    .iter()
                    .map(|c| (doc.name(*c).to_owned(), json!(doc.text(*c))))
                    .collect()
            })
            .unwrap_or_default();
        record.insert("meta".into(), Value::Object(meta));
        record.insert(
            "__system".into(),
            json!({
                "submissionDate": rfc3339(submission.created_at),
                "updatedAt": null,
                "submitterId": submission.submitter_id.to_string(),
                "submitterName": names.get(&submission.submitter_id),
                "attachmentsPresent": 0,
                "attachmentsExpected": 0,
                "status": null,
                "reviewState": submission.review_state,
                "deviceId": submission.device_id,
                "edits": 0,
                "formVersion": submission.version,
            }),
        );
        value.push(Value::Object(record));
    }
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1/projects/{}/forms/{}.svc/$metadata#Submissions",
            base_url(&state, &headers),
            project.id,
            form
        )),
    );
    if query.wants_count() {
        out.insert(
            "@odata.count".into(),
            json!(store::submission_count(state.pool(), project.id, form).await?),
        );
    }
    out.insert("value".into(), Value::Array(value));
    Ok(axum::Json(Value::Object(out)).into_response())
}

/// The answers under `at`, typed as OData types them.
/// A repeat's rows of one submission, as its navigation link names them
/// (`Submissions('uuid:…')/member`).
async fn odata_navigation(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, service_name, parent, repeat)): Path<(String, String, String, String)>,
    OdkQuery(query): OdkQuery<ODataQuery>,
) -> OdkResult<Response> {
    let actor = staff(&state, &headers).await?;
    let Some(form) = service_name.strip_suffix(".svc") else {
        return Err(OdkError(AppError::NotFound));
    };
    let Some(instance) = parent
        .strip_prefix("Submissions('")
        .and_then(|rest| rest.strip_suffix("')"))
        .map(|quoted| quoted.replace("''", "'"))
    else {
        return Err(OdkError(AppError::NotFound));
    };
    let path: Vec<String> = repeat.split('/').map(str::to_owned).collect();
    repeat_table(
        &state,
        &headers,
        &actor,
        &id,
        form,
        &path,
        Some(&instance),
        &query,
    )
    .await
}

/// The nodes from the root to a repeat, named by the path of their names; `None` when the
/// path does not end at a repeat.
fn repeat_at<'a>(nodes: &'a [Node], path: &[String]) -> Option<(&'a Node, Vec<&'a Node>)> {
    let (first, rest) = path.split_first()?;
    let node = nodes.iter().find(|n| &n.name == first)?;
    if rest.is_empty() {
        return (node.kind == Kind::Repeat).then(|| (node, vec![node]));
    }
    let (end, mut chain) = repeat_at(&node.children, rest)?;
    chain.insert(0, node);
    Some((end, chain))
}

/// Walks the chain of groups and repeats from `at`, calling `each` with every instance of the
/// last repeat, its key and its parent's id.
fn walk_repeats(
    doc: &tongban_xform::Instance,
    at: usize,
    chain: &[&Node],
    key: &str,
    parent_id: &str,
    each: &mut dyn FnMut(usize, &str, &str),
) {
    let Some((node, rest)) = chain.split_first() else {
        return;
    };
    for (n, element) in doc.children_named(at, &node.name).enumerate() {
        if node.kind == Kind::Repeat {
            let row_key = format!("{key}/{}[{}]", node.name, n + 1);
            if rest.is_empty() {
                each(element, &row_key, parent_id);
            } else {
                walk_repeats(doc, element, rest, &row_key, &row_key, each);
            }
        } else {
            walk_repeats(doc, element, rest, key, parent_id, each);
        }
    }
}

/// A repeat's table (`Submissions.member`, `Submissions.household.member`): one row per
/// instance of the repeat, with its own `__id` and its parent's (`__Submissions-id` for a
/// repeat of the root, else the enclosing repeat's row).
#[allow(clippy::too_many_arguments)]
async fn repeat_table(
    state: &AppState,
    headers: &HeaderMap,
    actor: &Actor,
    id: &str,
    form: &str,
    path: &[String],
    only: Option<&str>,
    query: &ODataQuery,
) -> OdkResult<Response> {
    query.refuse_unsupported()?;
    let project = service::project_run_by(state, actor, project_id(id)?).await?;
    let row = service::form_for(state, &Caller::Staff(actor.clone()), &project, form).await?;
    let definition: Form =
        serde_json::from_str(&row.definition).map_err(|e| AppError::Internal(e.into()))?;
    let Some((repeat, chain)) = repeat_at(&definition.children, path) else {
        return Err(OdkError(AppError::NotFound));
    };
    let parent_name = {
        let repeats_above = chain.iter().filter(|n| n.kind == Kind::Repeat).count();
        if repeats_above > 1 {
            let names: Vec<&str> = chain[..chain.len() - 1]
                .iter()
                .map(|n| n.name.as_str())
                .collect();
            format!("__Submissions-{}-id", names.join("-"))
        } else {
            "__Submissions-id".to_owned()
        }
    };
    let (skip, top) = query.page()?;
    let submissions = match only {
        Some(instance) => store::submission(state.pool(), project.id, form, instance)
            .await?
            .into_iter()
            .collect(),
        None => store::submissions(state.pool(), project.id, form, 0, MAX_TOP * 10).await?,
    };
    let mut value = Vec::new();
    for submission in &submissions {
        let xml = service::submission_xml(state, submission)?;
        let doc = tongban_xform::Instance::parse(&xml).map_err(|e| AppError::Internal(e.into()))?;
        let key = format!(
            "Submissions('{}')",
            submission.instance_id.replace('\'', "''")
        );
        walk_repeats(
            &doc,
            tongban_xform::Instance::ROOT,
            &chain,
            &submission.instance_id,
            &submission.instance_id,
            &mut |element, row_key, parent_id| {
                let mut record = Map::new();
                record.insert("__id".into(), json!(row_key));
                record.insert(parent_name.clone(), json!(parent_id));
                // A repeat inside this one links to its rows of the whole submission, each
                // naming its parent row.
                fill(
                    &doc,
                    element,
                    &repeat.children,
                    &format!("{key}/{}", path.join("/")),
                    &mut record,
                );
                value.push(Value::Object(record));
            },
        );
    }
    let count = value.len();
    let page: Vec<Value> = value
        .into_iter()
        .skip(usize::try_from(skip).unwrap_or(usize::MAX))
        .take(usize::try_from(top).unwrap_or(0))
        .collect();
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1/projects/{}/forms/{}.svc/$metadata#Submissions.{}",
            base_url(state, headers),
            project.id,
            form,
            path.join(".")
        )),
    );
    if query.wants_count() {
        out.insert("@odata.count".into(), json!(count));
    }
    out.insert("value".into(), Value::Array(page));
    Ok(axum::Json(Value::Object(out)).into_response())
}

fn fill(
    doc: &tongban_xform::Instance,
    at: usize,
    nodes: &[Node],
    key: &str,
    out: &mut Map<String, Value>,
) {
    for node in nodes {
        let element = doc.children_named(at, &node.name).next();
        match node.kind {
            Kind::Repeat => {
                out.insert(
                    format!("{}@odata.navigationLink", node.name),
                    json!(format!("{key}/{}", node.name)),
                );
            }
            Kind::Group => {
                let mut inner = Map::new();
                if let Some(element) = element {
                    fill(doc, element, &node.children, key, &mut inner);
                }
                out.insert(node.name.clone(), Value::Object(inner));
            }
            _ => {
                let text = element.map(|e| doc.text(e).trim()).unwrap_or("");
                let value = if text.is_empty() {
                    Value::Null
                } else {
                    match node.kind {
                        Kind::Integer => text.parse::<i64>().map_or(json!(text), |n| json!(n)),
                        Kind::Decimal => text.parse::<f64>().map_or(json!(text), |n| json!(n)),
                        _ => json!(text),
                    }
                };
                out.insert(node.name.clone(), value);
            }
        }
    }
}
