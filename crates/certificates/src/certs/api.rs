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
        .routes(routes!(use_certificate))
        .routes(routes!(verify_copy))
        .routes(routes!(status_list))
        .routes(routes!(authorisations))
        .routes(routes!(decide))
        .routes(routes!(uses))
        .routes(routes!(consent_free_uses))
        .routes(routes!(approve_consent_free))
        .routes(routes!(withdraw_consent_free))
}

/// 授权用证: obtain a holder's certificate for one of the caller's department's service items,
/// with a cause (a clerk). Released as an annotated copy signed by the platform when the holder
/// has authorised the use or the item's legal basis permits it; otherwise 403, the attempt is
/// recorded, and the holder is asked. The service function of 免证办.
#[utoipa::path(post, path = "/api/v1/certs/use", tag = "certificates", security(("bearer" = [])), request_body = super::usage::UseRequest,
    responses((status = 200, body = Object, description = "the annotated copy (加注件)"), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn use_certificate(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<super::usage::UseRequest>,
) -> AppResult<Json<tongban_certs::copy::SignedCopy>> {
    Ok(Json(super::usage::obtain(&state, &actor, &request).await?))
}

/// Check an annotated copy: platform signature, expiry, the certificate inside and its status
/// now (any logged-in account).
#[utoipa::path(post, path = "/api/v1/certs/copies/verify", tag = "certificates", security(("bearer" = [])), request_body = Object,
    responses((status = 200, body = super::usage::CopyVerification), (status = 422, body = Problem)))]
async fn verify_copy(
    State(state): State<AppState>,
    ApiActor(_actor): ApiActor,
    ApiJson(copy): ApiJson<tongban_certs::copy::SignedCopy>,
) -> AppResult<Json<super::usage::CopyVerification>> {
    Ok(Json(super::usage::verify_copy(&state, &copy).await?))
}

/// The signed status list of an issuing department (by USCC) for a certificate type: one
/// revocation and one suspension bit per certificate. Public; cache until `valid_until`.
#[utoipa::path(get, path = "/api/v1/certs/status-lists/{issuer}/{type_code}", tag = "certificates", params(("issuer" = String, Path), ("type_code" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
async fn status_list(
    State(state): State<AppState>,
    Path((issuer, type_code)): Path<(String, String)>,
) -> AppResult<impl axum::response::IntoResponse> {
    let list = super::status_list::current(&state, &issuer, &type_code).await?;
    Ok((
        [(
            axum::http::header::CACHE_CONTROL,
            format!("public, max-age={}", super::status_list::LIST_SECONDS / 2),
        )],
        Json(list),
    ))
}

/// The caller's authorisations of certificate use, and departments' requests waiting for a
/// decision.
#[utoipa::path(get, path = "/api/v1/me/cert-authorisations", tag = "certificates", security(("bearer" = [])),
    responses((status = 200, body = [super::usage::AuthorisationView]), (status = 403, body = Problem)))]
async fn authorisations(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<super::usage::AuthorisationView>>> {
    Ok(Json(super::usage::authorisations(&state, &actor).await?))
}

/// Decide on a request (`once`, `until` a date, `decline`) or `withdraw` a grant. Logged.
#[utoipa::path(post, path = "/api/v1/me/cert-authorisations/{id}", tag = "certificates", security(("bearer" = [])), params(("id" = String, Path)), request_body = super::usage::DecisionRequest,
    responses((status = 204), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn decide(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<super::usage::DecisionRequest>,
) -> AppResult<StatusCode> {
    super::usage::decide(&state, &actor, &id, &request).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's usage record (用证记录): every use of their certificates, and every refused
/// attempt.
#[utoipa::path(get, path = "/api/v1/me/cert-uses", tag = "certificates", security(("bearer" = [])),
    responses((status = 200, body = [super::usage::UseView]), (status = 403, body = Problem)))]
async fn uses(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<super::usage::UseView>>> {
    Ok(Json(super::usage::uses(&state, &actor).await?))
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
    Ok(Json(store::types(state.pool()).await?))
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

/// Consent-free uses the service items ask for, with their approved basis if any (security
/// administrators).
#[utoipa::path(get, path = "/api/v1/consent-free", tag = "certificates", security(("bearer" = [])),
    responses((status = 200, body = [super::consent_free::ConsentFreeUse]), (status = 403, body = Problem)))]
async fn consent_free_uses(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<super::consent_free::ConsentFreeUse>>> {
    Ok(Json(super::consent_free::list(&state, &actor).await?))
}

/// Approve a consent-free use an item asks for, with a basis from the maintained list (a
/// security administrator whose scope covers the item's department). Logged.
#[utoipa::path(post, path = "/api/v1/consent-free/approve", tag = "certificates", security(("bearer" = [])),
    request_body = super::consent_free::Approval,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn approve_consent_free(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(approval): ApiJson<super::consent_free::Approval>,
) -> AppResult<StatusCode> {
    super::consent_free::approve(&state, &actor, &approval).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    pub service_code: String,
    pub type_code: String,
}

/// Withdraw an approved consent-free use (a security administrator). Logged.
#[utoipa::path(post, path = "/api/v1/consent-free/withdraw", tag = "certificates", security(("bearer" = [])),
    request_body = Withdrawal,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn withdraw_consent_free(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(withdrawal): ApiJson<Withdrawal>,
) -> AppResult<StatusCode> {
    super::consent_free::withdraw(
        &state,
        &actor,
        withdrawal.service_code.trim(),
        withdrawal.type_code.trim(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
