//! JSON API of 协同办公: the codes of an organ, outgoing documents and the acts on them, and
//! the documents waiting for the caller.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::directory::{Directory, NewPhone, NewPost, NewUnit, Phone, Post, Unit};
use crate::documents::{ActOnDocument, DocumentView, DraftChange, NewDocument, Todo};
use crate::error::{AppResult, Problem};
use crate::incoming::{ActOnIncoming, IncomingLine, IncomingView};
use crate::notices::{NewNotice, NoticeView, Notices};
use crate::state::AppState;
use crate::web::extract::{ApiActor, ApiJson, RequestId};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(codes, add_code))
        .routes(routes!(documents, create))
        .routes(routes!(one, change))
        .routes(routes!(act))
        .routes(routes!(pdf))
        .routes(routes!(root_certificate))
        .routes(routes!(todo))
        .routes(routes!(incoming_list))
        .routes(routes!(incoming_one))
        .routes(routes!(incoming_act))
        .routes(routes!(notices, send_notice))
        .routes(routes!(notice))
        .routes(routes!(remind))
        .routes(routes!(directory))
        .routes(routes!(add_unit))
        .routes(routes!(change_unit))
        .routes(routes!(add_post))
        .routes(routes!(remove_post))
        .routes(routes!(phone, set_phone))
}

/// What to look up in the directory.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DirectoryQuery {
    /// A name, the initials of its pinyin (`wjg` for 王建国), a post (局长) or a whole phone
    /// number; 1–50 characters.
    pub q: Option<String>,
    /// An organ (a department's id): its units and people.
    pub organ: Option<String>,
}

/// The directory (通讯录): with `q`, the organs, units and people found; with `organ`, its
/// units and people (leaders first); with neither, the organs. Phones are not shown: each is
/// read on its own, on record.
#[utoipa::path(get, path = "/api/v1/office/directory", tag = "office", security(("bearer" = [])), params(DirectoryQuery),
    responses((status = 200, body = Directory), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn directory(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    axum::extract::Query(query): axum::extract::Query<DirectoryQuery>,
) -> AppResult<Json<Directory>> {
    Ok(Json(
        crate::directory::look_up(&state, &actor, query.q.as_deref(), query.organ.as_deref())
            .await?,
    ))
}

/// Add a unit under the caller's organ or one of its units, down to the sixth level (the
/// organ's administrators).
#[utoipa::path(post, path = "/api/v1/office/directory/units", tag = "office", security(("bearer" = [])), request_body = NewUnit,
    responses((status = 201, body = Unit), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add_unit(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(new): ApiJson<NewUnit>,
) -> AppResult<(StatusCode, Json<Unit>)> {
    Ok((
        StatusCode::CREATED,
        Json(crate::directory::add_unit(&state, &actor, new).await?),
    ))
}

/// Rename a unit of the caller's organ or move it, with the units under it (the organ's
/// administrators): the body is the unit as it is to be.
#[utoipa::path(put, path = "/api/v1/office/directory/units/{id}", tag = "office", security(("bearer" = [])), params(("id" = String, Path)), request_body = NewUnit,
    responses((status = 200, body = Unit), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn change_unit(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<NewUnit>,
) -> AppResult<Json<Unit>> {
    Ok(Json(
        crate::directory::change_unit(&state, &actor, &id, change).await?,
    ))
}

/// Give a staff member of the caller's organ a post, a leader's or not (the organ's
/// administrators); the change is in the transparency log.
#[utoipa::path(post, path = "/api/v1/office/directory/posts", tag = "office", security(("bearer" = [])), request_body = NewPost,
    responses((status = 201, body = Post), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add_post(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(new): ApiJson<NewPost>,
) -> AppResult<(StatusCode, Json<Post>)> {
    Ok((
        StatusCode::CREATED,
        Json(crate::directory::add_post(&state, &actor, new).await?),
    ))
}

/// Take a post away (the organ's administrators); in the transparency log.
#[utoipa::path(delete, path = "/api/v1/office/directory/posts/{id}", tag = "office", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn remove_post(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    crate::directory::remove_post(&state, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A staff member's work phone, opened through the audited accessor: the read counts
/// against the caller's hourly limit and is on record before the number is answered.
#[utoipa::path(get, path = "/api/v1/office/directory/people/{account}/phone", tag = "office", security(("bearer" = [])), params(("account" = String, Path)),
    responses((status = 200, body = Phone), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 429, body = Problem)))]
async fn phone(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    RequestId(request_id): RequestId,
    Path(account): Path<String>,
) -> AppResult<Json<Phone>> {
    Ok(Json(
        crate::directory::phone(&state, &actor, &account, request_id.as_deref()).await?,
    ))
}

/// Keep a staff member's work phone, sealed (their organ's administrators, or the person).
#[utoipa::path(put, path = "/api/v1/office/directory/people/{account}/phone", tag = "office", security(("bearer" = [])), params(("account" = String, Path)), request_body = NewPhone,
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn set_phone(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(account): Path<String>,
    ApiJson(new): ApiJson<NewPhone>,
) -> AppResult<StatusCode> {
    crate::directory::set_phone(&state, &actor, &account, &new.phone).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The notices to the caller and those their department sent, newest first.
#[utoipa::path(get, path = "/api/v1/office/notices", tag = "office", security(("bearer" = [])),
    responses((status = 200, body = Notices), (status = 401, body = Problem)))]
async fn notices(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Notices>> {
    Ok(Json(crate::notices::list(&state, &actor).await?))
}

/// Send a notice to units (their staff) and people (a clerk or administrator of the
/// department); each recipient gets a receipt.
#[utoipa::path(post, path = "/api/v1/office/notices", tag = "office", security(("bearer" = [])), request_body = NewNotice,
    responses((status = 201, body = NoticeView), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn send_notice(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(new): ApiJson<NewNotice>,
) -> AppResult<(StatusCode, Json<NoticeView>)> {
    Ok((
        StatusCode::CREATED,
        Json(crate::notices::send(&state, &actor, new).await?),
    ))
}

/// A notice: a recipient's reading dates their receipt; the sending department's staff see
/// every receipt, read and unread.
#[utoipa::path(get, path = "/api/v1/office/notices/{id}", tag = "office", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = NoticeView), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn notice(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<NoticeView>> {
    Ok(Json(crate::notices::view(&state, &actor, &id).await?))
}

/// How many were reminded.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Reminded {
    pub reminded: usize,
}

/// Remind those who have not read a notice (the sending department's staff).
#[utoipa::path(post, path = "/api/v1/office/notices/{id}/reminders", tag = "office", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Reminded), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn remind(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<Reminded>> {
    Ok(Json(Reminded {
        reminded: crate::notices::remind(&state, &actor, &id).await?,
    }))
}

/// A code (机关代字) for the caller's department.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCode {
    pub code: String,
}

/// The codes the caller's department numbers its documents under.
#[utoipa::path(get, path = "/api/v1/office/codes", tag = "office", security(("bearer" = [])),
    responses((status = 200, body = [String]), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn codes(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<String>>> {
    Ok(Json(crate::documents::codes(&state, &actor).await?))
}

/// Claim a code for the caller's department (its administrators); a code is one organ's.
#[utoipa::path(post, path = "/api/v1/office/codes", tag = "office", security(("bearer" = [])), request_body = NewCode,
    responses((status = 201, body = [String]), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add_code(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(new): ApiJson<NewCode>,
) -> AppResult<(StatusCode, Json<Vec<String>>)> {
    Ok((
        StatusCode::CREATED,
        Json(crate::documents::add_code(&state, &actor, &new.code).await?),
    ))
}

/// The caller's department's documents, newest first.
#[utoipa::path(get, path = "/api/v1/office/documents", tag = "office", security(("bearer" = [])),
    responses((status = 200, body = [Todo]), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn documents(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<Todo>>> {
    Ok(Json(crate::documents::list(&state, &actor, 200).await?))
}

/// Draft a document (a clerk or administrator of the department). A draft that breaks a rule
/// of its kind is refused with every broken rule named.
#[utoipa::path(post, path = "/api/v1/office/documents", tag = "office", security(("bearer" = [])), request_body = NewDocument,
    responses((status = 201, body = DocumentView), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(new): ApiJson<NewDocument>,
) -> AppResult<(StatusCode, Json<DocumentView>)> {
    Ok((
        StatusCode::CREATED,
        Json(crate::documents::create(&state, &actor, new).await?),
    ))
}

/// A document with its parties and history (流转记录), for its parties and its department.
#[utoipa::path(get, path = "/api/v1/office/documents/{id}", tag = "office", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = DocumentView), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn one(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<DocumentView>> {
    Ok(Json(crate::documents::view(&state, &actor, &id).await?))
}

/// Change a draft (its drafter, while it is in drafting).
#[utoipa::path(put, path = "/api/v1/office/documents/{id}", tag = "office", security(("bearer" = [])), params(("id" = String, Path)), request_body = DraftChange,
    responses((status = 200, body = DocumentView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn change(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<DraftChange>,
) -> AppResult<Json<DocumentView>> {
    Ok(Json(
        crate::documents::change(&state, &actor, &id, change).await?,
    ))
}

/// Act on a document: send it for review, agree, send back, sign off, recheck (which numbers
/// it), seal, register, send, withdraw — each only by the party whose step it is.
#[utoipa::path(post, path = "/api/v1/office/documents/{id}/acts", tag = "office", security(("bearer" = [])), params(("id" = String, Path)), request_body = ActOnDocument,
    responses((status = 200, body = DocumentView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn act(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ActOnDocument>,
) -> AppResult<Json<DocumentView>> {
    Ok(Json(
        crate::documents::act(&state, &actor, &id, request).await?,
    ))
}

/// The documents the caller's organ received (收文), newest first, and those given to the
/// caller to handle or circulated to them to read.
#[utoipa::path(get, path = "/api/v1/office/incoming", tag = "office", security(("bearer" = [])),
    responses((status = 200, body = [IncomingLine]), (status = 401, body = Problem)))]
async fn incoming_list(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<IncomingLine>>> {
    Ok(Json(crate::incoming::list(&state, &actor, 500).await?))
}

/// A received document with its history, its handler, those it was circulated to and what
/// the caller may do (the organ's staff, its handler and its readers).
#[utoipa::path(get, path = "/api/v1/office/incoming/{id}", tag = "office", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = IncomingView), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn incoming_one(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<IncomingView>> {
    Ok(Json(crate::incoming::view(&state, &actor, &id).await?))
}

/// Act on a received document: sign for it or refuse it, register it, give it to a handler
/// with a limit or return it, circulate it, remind its handler, read it, answer it — each
/// only by whom the step is for.
#[utoipa::path(post, path = "/api/v1/office/incoming/{id}/acts", tag = "office", security(("bearer" = [])), params(("id" = String, Path)), request_body = ActOnIncoming,
    responses((status = 200, body = IncomingView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn incoming_act(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ActOnIncoming>,
) -> AppResult<Json<IncomingView>> {
    Ok(Json(
        crate::incoming::act(&state, &actor, &id, request).await?,
    ))
}

/// The documents waiting for the caller (待办), most urgent first, then the longest waiting.
#[utoipa::path(get, path = "/api/v1/office/todo", tag = "office", security(("bearer" = [])),
    responses((status = 200, body = [Todo]), (status = 401, body = Problem)))]
async fn todo(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<Todo>>> {
    Ok(Json(crate::documents::todo(&state, &actor, 500).await?))
}

/// A sealed document's final file: PDF in the GB/T 9704 layout, signed (PAdES baseline B)
/// under the organ's certificate. Made once, on the first read after sealing; 409 before.
#[utoipa::path(get, path = "/api/v1/office/documents/{id}/pdf", tag = "office", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, content_type = "application/pdf"), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 503, body = Problem)))]
async fn pdf(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<axum::response::Response> {
    let file = crate::seal::file(&state, &actor, &id).await?;
    Ok(crate::seal::response(&id, file))
}

/// The root certificate (PEM) under which organs' keys sign documents, for verifiers to pin
/// (`tongban office verify --root FILE`).
#[utoipa::path(get, path = "/api/v1/office/root-certificate", tag = "office",
    responses((status = 200, content_type = "application/x-pem-file"), (status = 503, body = Problem)))]
async fn root_certificate(State(state): State<AppState>) -> AppResult<axum::response::Response> {
    use axum::http::header;
    use axum::response::IntoResponse as _;
    Ok((
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        crate::seal::root_pem(&state).await?,
    )
        .into_response())
}
