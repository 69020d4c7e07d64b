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

/// Renders text as a QR code in SVG.
pub fn qr_svg(text: &str) -> AppResult<String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("qr: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(280, 280)
        .quiet_zone(true)
        .build())
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
        qr_svg(&pass.code)?,
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
