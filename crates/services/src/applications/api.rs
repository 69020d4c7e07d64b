//! JSON API of applications (办件): apply, follow, act, upload, download, notices.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ActionRequest, ApplicationView, ApplyRequest, Detail, FieldView};
use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;
use crate::web::extract::{ApiActor, ApiJson};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(form))
        .routes(routes!(apply))
        .routes(routes!(mine))
        .routes(routes!(queue))
        .routes(routes!(detail))
        .routes(routes!(act))
        .routes(routes!(material))
        .routes(routes!(notices))
        .routes(routes!(rate))
        .routes(routes!(rectifications))
        .routes(routes!(reply))
        .routes(routes!(statistics))
        .routes(routes!(bundles))
        .routes(routes!(apply_bundle))
        .routes(routes!(bundle_status))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(upload))
                // The handler reads the body up to the configured upload size itself.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
}

/// The application form of an item, with what the platform knows filled in.
#[utoipa::path(get, path = "/api/v1/services/{code}/form", tag = "applications", security(("bearer" = [])), params(("code" = String, Path)),
    responses((status = 200, body = [FieldView]), (status = 404, body = Problem)))]
async fn form(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(code): Path<String>,
) -> AppResult<Json<Vec<FieldView>>> {
    let item = crate::services::item_by_code(&state, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(
        super::form_for(&state, &actor, &item.definition).await?,
    ))
}

/// Apply for an item (a citizen or an enterprise): the form, uploads for the materials the
/// applicant provides, and consent to obtain the certificates the item names (免证办). With an
/// `Idempotency-Key`, the same request sent again (after an answer that was lost) answers the
/// application the first made instead of making another; the key sent with another request
/// is refused (422). Keys are kept a day.
#[utoipa::path(post, path = "/api/v1/services/{code}/applications", tag = "applications", security(("bearer" = [])),
    params(("code" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters, new for each application")),
    request_body = ApplyRequest,
    responses((status = 201, body = ApplicationView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn apply(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(code): Path<String>,
    headers: axum::http::HeaderMap,
    ApiJson(request): ApiJson<ApplyRequest>,
) -> AppResult<(StatusCode, Json<ApplicationView>)> {
    let key = match headers.get("idempotency-key") {
        Some(value) => Some(value.to_str().map_err(|_| {
            AppError::invalid("Idempotency-Key", "1 to 255 visible ASCII characters")
        })?),
        None => None,
    };
    Ok((
        StatusCode::CREATED,
        Json(super::apply(&state, &actor, &code, request, key).await?),
    ))
}

/// The caller's applications, newest first.
#[utoipa::path(get, path = "/api/v1/applications", tag = "applications", security(("bearer" = [])),
    responses((status = 200, body = [ApplicationView]), (status = 403, body = Problem)))]
async fn mine(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<ApplicationView>>> {
    Ok(Json(super::mine(&state, &actor).await?))
}

/// The clerk's department's open applications, soonest due first, with working days left.
#[utoipa::path(get, path = "/api/v1/applications/queue", tag = "applications", security(("bearer" = [])),
    responses((status = 200, body = [ApplicationView]), (status = 403, body = Problem)))]
async fn queue(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<ApplicationView>>> {
    Ok(Json(super::queue(&state, &actor).await?))
}

/// One application: form, materials, history, and the actions the caller may take.
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "applications", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Detail), (status = 404, body = Problem)))]
async fn detail(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<Detail>> {
    Ok(Json(super::detail(&state, &actor, &id).await?))
}

/// Take an action (accept, reject, request_correction, pass, approve, deny, deliver;
/// resubmit, withdraw), naming the version seen: 409 when it is stale or the state does not
/// have the action, 403 when the caller's role may not take it.
#[utoipa::path(post, path = "/api/v1/applications/{id}/actions", tag = "applications", security(("bearer" = [])), params(("id" = String, Path)), request_body = ActionRequest,
    responses((status = 200, body = ApplicationView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn act(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ActionRequest>,
) -> AppResult<Json<ApplicationView>> {
    Ok(Json(super::act(&state, &actor, &id, request).await?))
}

/// Download a material: always as an attachment, never shown inline.
#[utoipa::path(get, path = "/api/v1/applications/{id}/materials/{material}", tag = "applications", security(("bearer" = [])), params(("id" = String, Path), ("material" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream"), (status = 404, body = Problem)))]
async fn material(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, material)): Path<(String, String)>,
) -> AppResult<impl IntoResponse> {
    let file = super::material(&state, &actor, &id, &material).await?;
    Ok(attachment(&material, file))
}

/// A material as a download: never rendered inline, never sniffed (the API and the pages).
/// The name is the material's (RFC 6266 `filename*`, UTF-8), with an ASCII fallback.
pub(super) fn attachment(material: &str, file: super::MaterialFile) -> axum::response::Response {
    let name = file.file_name();
    let fallback = format!(
        "material-{}{}",
        material
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>(),
        name.rfind('.').map_or("", |dot| &name[dot..])
    );
    let bytes = file.bytes;
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
                    rfc5987(&name)
                ),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

/// A header parameter value as RFC 5987 writes it: attribute characters as they are, every
/// other byte of the UTF-8 as `%XX`.
fn rfc5987(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct Uploaded {
    id: String,
}

/// Upload a file for a material (the raw bytes as the body): a PDF, JPEG or PNG, recognised
/// by its content, up to the configured size (8 MiB by default). Sealed at rest; deleted after
/// a day unless an application takes it.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "applications", security(("bearer" = [])), request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Uploaded), (status = 413, body = Problem), (status = 415, body = Problem)))]
async fn upload(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    body: axum::body::Body,
) -> AppResult<(StatusCode, Json<Uploaded>)> {
    let body: Bytes = axum::body::to_bytes(body, state.config.max_upload_bytes)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    let id = super::upload(&state, &actor, &body).await?;
    Ok((StatusCode::CREATED, Json(Uploaded { id })))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = ApplicationNotice)]
struct Notice {
    at: String,
    application: Option<String>,
    item: String,
    state: String,
}

/// The caller's inbox: a notice at each step of their applications.
#[utoipa::path(get, path = "/api/v1/me/notices", tag = "applications", security(("bearer" = [])),
    responses((status = 200, body = [Notice])))]
async fn notices(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<Notice>>> {
    Ok(Json(
        super::notices(&state, &actor)
            .await?
            .into_iter()
            .map(|(at, application, item, state)| Notice {
                at,
                application,
                item,
                state,
            })
            .collect(),
    ))
}

/// 好差评: rate a delivered application of one's own, once, on the five national grades (per
/// indicator if wished), with a comment. A poor rating opens a rectification for the
/// department.
#[utoipa::path(post, path = "/api/v1/applications/{id}/evaluation", tag = "applications", security(("bearer" = [])), params(("id" = String, Path)), request_body = super::evaluation::Rating,
    responses((status = 201), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn rate(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(rating): ApiJson<super::evaluation::Rating>,
) -> AppResult<StatusCode> {
    super::evaluation::rate(&state, &actor, &id, &rating).await?;
    Ok(StatusCode::CREATED)
}

/// The clerk's department's rectification tasks, open ones first.
#[utoipa::path(get, path = "/api/v1/rectifications", tag = "applications", security(("bearer" = [])),
    responses((status = 200, body = [super::evaluation::RectificationView]), (status = 403, body = Problem)))]
async fn rectifications(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<super::evaluation::RectificationView>>> {
    Ok(Json(
        super::evaluation::rectifications(&state, &actor).await?,
    ))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Reply {
    reply: String,
}

/// Answer a poor rating: closes the rectification and tells the applicant.
#[utoipa::path(post, path = "/api/v1/rectifications/{id}/reply", tag = "applications", security(("bearer" = [])), params(("id" = String, Path)), request_body = Reply,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn reply(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reply>,
) -> AppResult<StatusCode> {
    super::evaluation::reply(&state, &actor, &id, &body.reply).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A department's service record: satisfaction, on-time rate, processing times, open
/// rectifications (any logged-in account).
#[utoipa::path(get, path = "/api/v1/departments/{id}/statistics", tag = "applications", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = super::evaluation::Statistics), (status = 404, body = Problem)))]
async fn statistics(
    State(state): State<AppState>,
    ApiActor(_actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<super::evaluation::Statistics>> {
    Ok(Json(super::evaluation::statistics(&state, &id).await?))
}

/// 一件事一次办: the bundles of the catalogue (public).
#[utoipa::path(get, path = "/api/v1/bundles", tag = "applications",
    responses((status = 200, body = [super::bundle::BundleView])))]
async fn bundles(State(state): State<AppState>) -> AppResult<Json<Vec<super::bundle::BundleView>>> {
    Ok(Json(super::bundle::list(&state).await?))
}

/// Apply for every item of a bundle with one merged form and one set of materials; one
/// application per item goes to its department. Nothing is made unless every part passes.
#[utoipa::path(post, path = "/api/v1/bundles/{code}/applications", tag = "applications", security(("bearer" = [])), params(("code" = String, Path)), request_body = ApplyRequest,
    responses((status = 201, body = super::bundle::BundleApplicationView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn apply_bundle(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(code): Path<String>,
    ApiJson(request): ApiJson<ApplyRequest>,
) -> AppResult<(StatusCode, Json<super::bundle::BundleApplicationView>)> {
    Ok((
        StatusCode::CREATED,
        Json(super::bundle::apply(&state, &actor, &code, request).await?),
    ))
}

/// A bundle application: its parts and their aggregate status.
#[utoipa::path(get, path = "/api/v1/bundle-applications/{id}", tag = "applications", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = super::bundle::BundleApplicationView), (status = 404, body = Problem)))]
async fn bundle_status(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<super::bundle::BundleApplicationView>> {
    Ok(Json(super::bundle::status(&state, &actor, &id).await?))
}
