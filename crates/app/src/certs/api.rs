//! JSON API of electronic certificates: the type catalogue, issuance, and the holder's wallet.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{IssueRequest, WalletEntry, WalletItem, store};
use crate::error::{AppResult, Problem};
use crate::state::AppState;
use crate::web::extract::{ApiActor, ApiJson, RequestId};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(types))
        .routes(routes!(issue))
        .routes(routes!(wallet))
        .routes(routes!(wallet_item))
        .routes(routes!(change_status))
        .routes(routes!(verify))
        .routes(routes!(show))
}

/// 亮证: show one of the caller's certificates as a short-lived QR code revealing only the
/// chosen items.
#[utoipa::path(post, path = "/api/v1/wallet/{id}/show", tag = "certificates", security(("bearer" = [])), params(("id" = String, Path)), request_body = super::ShowRequest,
    responses((status = 200, body = super::Shown), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn show(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<super::ShowRequest>,
) -> AppResult<Json<super::Shown>> {
    Ok(Json(super::show(&state, &actor, &id, &request).await?))
}

/// Suspend, reinstate or revoke a certificate, with a reason (a clerk of the issuing
/// department). Logged.
#[utoipa::path(post, path = "/api/v1/certs/{id}/status", tag = "certificates", security(("bearer" = [])), params(("id" = String, Path)), request_body = super::StatusChange,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn change_status(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<super::StatusChange>,
) -> AppResult<StatusCode> {
    super::change_status(&state, &actor, &id, &change).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Verify a shown certificate (`{"code": "TC1:…"}`, as scanned) or a full signed one
/// (`{"certificate": …}`): signature, validity and status now (any logged-in account).
#[utoipa::path(post, path = "/api/v1/certs/verify", tag = "certificates", security(("bearer" = [])), request_body = super::VerifyRequest,
    responses((status = 200, body = super::Verification), (status = 422, body = Problem)))]
async fn verify(
    State(state): State<AppState>,
    ApiActor(_actor): ApiActor,
    ApiJson(request): ApiJson<super::VerifyRequest>,
) -> AppResult<Json<super::Verification>> {
    Ok(Json(super::verify_request(&state, &request).await?))
}

/// The catalogue of certificate types (any logged-in account).
#[utoipa::path(get, path = "/api/v1/cert-types", tag = "certificates", security(("bearer" = [])),
    responses((status = 200, body = [store::CertType])))]
async fn types(
    State(state): State<AppState>,
    ApiActor(_actor): ApiActor,
) -> AppResult<Json<Vec<store::CertType>>> {
    Ok(Json(store::types(&state).await?))
}

/// Issue a certificate (a clerk of a department authorised for the type). Logged.
#[utoipa::path(post, path = "/api/v1/certs", tag = "certificates", security(("bearer" = [])), request_body = IssueRequest,
    responses((status = 201, body = Object), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn issue(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    RequestId(request_id): RequestId,
    ApiJson(request): ApiJson<IssueRequest>,
) -> AppResult<(StatusCode, Json<tongban_certs::SignedCertificate>)> {
    let signed = super::issue(&state, &actor, request, request_id.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(signed)))
}

/// The caller's certificates (citizen or enterprise).
#[utoipa::path(get, path = "/api/v1/wallet", tag = "certificates", security(("bearer" = [])),
    responses((status = 200, body = [WalletEntry]), (status = 403, body = Problem)))]
async fn wallet(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<WalletEntry>>> {
    Ok(Json(super::wallet(&state, &actor).await?))
}

/// One of the caller's certificates in full, signed, with its status.
#[utoipa::path(get, path = "/api/v1/wallet/{id}", tag = "certificates", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = WalletItem), (status = 404, body = Problem)))]
async fn wallet_item(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<WalletItem>> {
    Ok(Json(super::wallet_item(&state, &actor, &id).await?))
}
