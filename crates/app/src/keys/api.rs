//! The public trust list.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, SignedTrustList};
use crate::error::{AppResult, Problem};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(trust_list))
        .routes(routes!(trusted_regions, import_region))
        .routes(routes!(remove_region))
        .routes(routes!(shc_issuer))
        .routes(routes!(visitor_rule, set_visitor_rule))
}

/// The region's verification keys, signed by its root key (format in docs/trust-list.md).
#[utoipa::path(get, path = "/api/v1/trust-list", tag = "keys",
    responses((status = 200, body = SignedTrustList), (status = 503, body = Problem)))]
async fn trust_list(State(state): State<AppState>) -> AppResult<Json<SignedTrustList>> {
    Ok(Json(service::trust_list(&state).await?))
}

fn system_admin(actor: &crate::identity::model::Actor) -> crate::error::AppResult<()> {
    if actor.has_role(crate::identity::model::Role::SystemAdmin) {
        Ok(())
    } else {
        Err(crate::error::AppError::Forbidden)
    }
}

/// 互认: the regions this one recognises (the system administrator).
#[utoipa::path(get, path = "/api/v1/admin/trusted-regions", tag = "keys", security(("bearer" = [])),
    responses((status = 200, body = [super::trusted::TrustedRegion]), (status = 403, body = crate::error::Problem)))]
async fn trusted_regions(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
) -> crate::error::AppResult<Json<Vec<super::trusted::TrustedRegion>>> {
    system_admin(&actor)?;
    Ok(Json(super::trusted::list(&state).await?))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ImportRequest {
    /// The other region's signed trust list, as its `GET /api/v1/trust-list` serves it.
    #[schema(value_type = Object)]
    trust_list: serde_json::Value,
    /// Its root key (base64url), obtained out of band and pinned.
    root_key: String,
}

/// Import or refresh another region's trust list under a pinned root key (the system
/// administrator). Logged.
#[utoipa::path(post, path = "/api/v1/admin/trusted-regions", tag = "keys", security(("bearer" = [])), request_body = ImportRequest,
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn import_region(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    crate::web::extract::ApiJson(request): crate::web::extract::ApiJson<ImportRequest>,
) -> crate::error::AppResult<Json<serde_json::Value>> {
    system_admin(&actor)?;
    let text = serde_json::to_string(&request.trust_list)
        .map_err(|e| crate::error::AppError::Internal(e.into()))?;
    let root = super::trusted::root_key(&text, &request.root_key)?;
    let payload = super::trusted::import(&state, &text, &root, actor.id()).await?;
    Ok(Json(
        serde_json::json!({"region": payload.region, "issued_at": payload.issued_at, "keys": payload.keys.len()}),
    ))
}

/// Stop recognising a region, at once (the system administrator). Logged.
#[utoipa::path(delete, path = "/api/v1/admin/trusted-regions/{region}", tag = "keys", security(("bearer" = [])), params(("region" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn remove_region(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    axum::extract::Path(region): axum::extract::Path<String>,
) -> crate::error::AppResult<axum::http::StatusCode> {
    system_admin(&actor)?;
    if super::trusted::remove(&state, &region, actor.id()).await? {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(crate::error::AppError::NotFound)
    }
}

/// Trust (or refresh) a SMART Health Card issuer: its JWKS and revocation lists, configured
/// here since verifiers do not fetch (the system administrator). Logged.
#[utoipa::path(post, path = "/api/v1/admin/shc-issuers", tag = "keys", security(("bearer" = [])), request_body = crate::pass::foreign::IssuerRequest,
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn shc_issuer(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    crate::web::extract::ApiJson(request): crate::web::extract::ApiJson<
        crate::pass::foreign::IssuerRequest,
    >,
) -> crate::error::AppResult<axum::http::StatusCode> {
    system_admin(&actor)?;
    crate::pass::foreign::set_shc_issuer(&state, &request, actor.id()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The acceptance rule for visitors' foreign credentials (CertLogic over `format`, `issuer`,
/// `types`, `validFrom`, `validUntil`, `validationClock`).
#[utoipa::path(get, path = "/api/v1/admin/visitor-rule", tag = "keys", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem)))]
async fn visitor_rule(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
) -> crate::error::AppResult<Json<serde_json::Value>> {
    system_admin(&actor)?;
    Ok(Json(crate::pass::foreign::visitor_rule(&state).await?))
}

/// Set the visitors' acceptance rule (validated as CertLogic). Logged.
#[utoipa::path(put, path = "/api/v1/admin/visitor-rule", tag = "keys", security(("bearer" = [])), request_body = Object,
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn set_visitor_rule(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    crate::web::extract::ApiJson(rule): crate::web::extract::ApiJson<serde_json::Value>,
) -> crate::error::AppResult<axum::http::StatusCode> {
    system_admin(&actor)?;
    crate::pass::foreign::set_visitor_rule(&state, &rule, actor.id()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
