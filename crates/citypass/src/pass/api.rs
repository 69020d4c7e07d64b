//! JSON API of the pass.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, CheckOutcome, IssuedPass};
use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;
use crate::web::extract::{ApiActor, ApiJson, RequestId};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_pass))
        .routes(routes!(my_qr))
        .routes(routes!(check))
        .routes(routes!(check_person))
        .routes(routes!(my_requests, submit_request))
        .routes(routes!(my_notices))
}

/// The caller's pass: a fresh signed code, its expiry, colour and explanation (citizen).
#[utoipa::path(get, path = "/api/v1/pass/me", tag = "pass", security(("bearer" = [])),
    responses((status = 200, body = IssuedPass), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn my_pass(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<IssuedPass>> {
    Ok(Json(service::issue_for(&state, &actor).await?))
}

/// The caller's pass as a QR code (SVG).
#[utoipa::path(get, path = "/api/v1/pass/me/qr.svg", tag = "pass", security(("bearer" = [])),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 404, body = Problem)))]
async fn my_qr(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<impl IntoResponse> {
    let pass = service::issue_for(&state, &actor).await?;
    Ok((
        [(header::CONTENT_TYPE, "image/svg+xml")],
        crate::web::qr::qr_svg(&pass.code)?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    pub code: String,
}

/// Check a pass (venue operator or checkpoint officer): validity and the holder's colour now.
#[utoipa::path(post, path = "/api/v1/pass/verify", tag = "pass", security(("bearer" = [])), request_body = CheckRequest,
    responses((status = 200, body = CheckOutcome), (status = 403, body = Problem)))]
async fn check(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    RequestId(request_id): RequestId,
    ApiJson(request): ApiJson<CheckRequest>,
) -> AppResult<Json<CheckOutcome>> {
    Ok(Json(
        service::check(&state, &actor, &request.code, request_id.as_deref()).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonCheckRequest {
    /// The 18-character ID number, typed.
    pub resident_id: Option<String>,
    /// Or the card's 256-byte text block as a GA 467 card reader returns it, in Base64.
    pub card_text: Option<String>,
}

/// 一证通行: check a person without a phone by ID number or ID card (checkpoint officer).
/// Rate-limited per officer; the person sees the check in "who accessed my data".
#[utoipa::path(post, path = "/api/v1/pass/check-person", tag = "pass", security(("bearer" = [])), request_body = PersonCheckRequest,
    responses((status = 200, body = CheckOutcome), (status = 403, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn check_person(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    RequestId(request_id): RequestId,
    ApiJson(request): ApiJson<PersonCheckRequest>,
) -> AppResult<Json<CheckOutcome>> {
    let input = match (&request.resident_id, &request.card_text) {
        (Some(number), None) if number.trim().chars().count() <= 18 => number,
        (None, Some(card)) if card.trim().chars().count() > 18 => card,
        _ => {
            return Err(AppError::invalid(
                "resident_id",
                "send either resident_id (18 characters) or card_text (Base64), not both",
            ));
        }
    };
    let resident_id = service::resident_id_from_input(input, state.now())?;
    Ok(Json(
        service::check_by_resident_id(&state, &actor, &resident_id, request_id.as_deref()).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequestBody {
    /// correction (纠错) or review (人工复核).
    pub kind: String,
    pub message: String,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct SubmittedRequest {
    pub id: String,
}

/// Ask for a correction or for review by a person (citizen).
#[utoipa::path(post, path = "/api/v1/pass/me/requests", tag = "pass", security(("bearer" = [])), request_body = StatusRequestBody,
    responses((status = 201, body = SubmittedRequest), (status = 422, body = Problem)))]
async fn submit_request(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<StatusRequestBody>,
) -> AppResult<(axum::http::StatusCode, Json<SubmittedRequest>)> {
    let id =
        crate::health::service::submit_request(&state, &actor, &request.kind, &request.message)
            .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(SubmittedRequest { id }),
    ))
}

/// The caller's requests and their outcomes.
#[utoipa::path(get, path = "/api/v1/pass/me/requests", tag = "pass", security(("bearer" = [])),
    responses((status = 200, body = [crate::health::service::RequestView])))]
async fn my_requests(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<crate::health::service::RequestView>>> {
    Ok(Json(
        crate::health::service::my_requests(&state, &actor).await?,
    ))
}

#[derive(Debug, serde::Serialize, ToSchema)]
#[schema(as = PassNotice)]
pub struct Notice {
    pub at: String,
    pub text_zh: String,
    pub text_en: String,
}

/// Notices to the caller (a changed colour, an answered request).
#[utoipa::path(get, path = "/api/v1/pass/me/notices", tag = "pass", security(("bearer" = [])), responses((status = 200, body = [Notice])))]
async fn my_notices(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<Notice>>> {
    let person_id = actor
        .account
        .person_id
        .as_deref()
        .ok_or(AppError::NotFound)?;
    let notices = crate::health::service::notices_of(&state, person_id).await?;
    Ok(Json(
        notices
            .into_iter()
            .map(|(at, text_zh, text_en)| Notice {
                at: crate::time_fmt::rfc3339(at),
                text_zh,
                text_en,
            })
            .collect(),
    ))
}
