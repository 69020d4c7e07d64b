//! The trust administrators set: recognised regions (互认), SMART Health Card issuers, EU DCC
//! signers and schemas, and the visitors' rule — all the system administrator's.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::authz::{Action, Resource, can};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(trusted_regions, import_region))
        .routes(routes!(remove_region))
        .routes(routes!(shc_issuer))
        .routes(routes!(visitor_rule, set_visitor_rule))
        .routes(routes!(dcc_signers, import_dcc_signers))
        .routes(routes!(remove_dcc_signer))
        .routes(routes!(import_dcc_schema))
}

fn system_admin(actor: &crate::identity::model::Actor) -> crate::error::AppResult<()> {
    if can(actor, Action::ManageTrust, Resource::Platform) {
        Ok(())
    } else {
        Err(crate::error::AppError::Forbidden)
    }
}

/// 互认: the regions this one recognises (the system administrator).
#[utoipa::path(get, path = "/api/v1/admin/trusted-regions", tag = "trust", security(("bearer" = [])),
    responses((status = 200, body = [super::regions::TrustedRegion]), (status = 403, body = crate::error::Problem)))]
async fn trusted_regions(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
) -> crate::error::AppResult<Json<Vec<super::regions::TrustedRegion>>> {
    system_admin(&actor)?;
    Ok(Json(super::regions::list(&state).await?))
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
#[utoipa::path(post, path = "/api/v1/admin/trusted-regions", tag = "trust", security(("bearer" = [])), request_body = ImportRequest,
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn import_region(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    crate::web::extract::ApiJson(request): crate::web::extract::ApiJson<ImportRequest>,
) -> crate::error::AppResult<Json<serde_json::Value>> {
    system_admin(&actor)?;
    let text = serde_json::to_string(&request.trust_list)
        .map_err(|e| crate::error::AppError::Internal(e.into()))?;
    let root = super::regions::root_key(&text, &request.root_key)?;
    let payload = super::regions::import(&state, &text, &root, actor.id()).await?;
    Ok(Json(
        serde_json::json!({"region": payload.region, "issued_at": payload.issued_at, "keys": payload.keys.len()}),
    ))
}

/// Stop recognising a region, at once (the system administrator). Logged.
#[utoipa::path(delete, path = "/api/v1/admin/trusted-regions/{region}", tag = "trust", security(("bearer" = [])), params(("region" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn remove_region(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    axum::extract::Path(region): axum::extract::Path<String>,
) -> crate::error::AppResult<axum::http::StatusCode> {
    system_admin(&actor)?;
    if super::regions::remove(&state, &region, actor.id()).await? {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(crate::error::AppError::NotFound)
    }
}

/// Trust (or refresh) a SMART Health Card issuer: its JWKS and revocation lists, configured
/// here since verifiers do not fetch (the system administrator). Logged.
#[utoipa::path(post, path = "/api/v1/admin/shc-issuers", tag = "trust", security(("bearer" = [])), request_body = super::foreign::IssuerRequest,
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn shc_issuer(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    crate::web::extract::ApiJson(request): crate::web::extract::ApiJson<
        super::foreign::IssuerRequest,
    >,
) -> crate::error::AppResult<axum::http::StatusCode> {
    system_admin(&actor)?;
    super::foreign::set_shc_issuer(&state, &request, actor.id()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The acceptance rule for visitors' foreign credentials (CertLogic over `format`, `issuer`,
/// `types`, `validFrom`, `validUntil`, `validationClock`).
#[utoipa::path(get, path = "/api/v1/admin/visitor-rule", tag = "trust", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem)))]
async fn visitor_rule(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
) -> crate::error::AppResult<Json<serde_json::Value>> {
    system_admin(&actor)?;
    Ok(Json(super::foreign::visitor_rule(&state).await?))
}

/// Set the visitors' acceptance rule (validated as CertLogic). Logged.
#[utoipa::path(put, path = "/api/v1/admin/visitor-rule", tag = "trust", security(("bearer" = [])), request_body = Object,
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn set_visitor_rule(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    crate::web::extract::ApiJson(rule): crate::web::extract::ApiJson<serde_json::Value>,
) -> crate::error::AppResult<axum::http::StatusCode> {
    system_admin(&actor)?;
    super::foreign::set_visitor_rule(&state, &rule, actor.id()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The EU DCC signer certificates (DSC) trusted here (the system administrator).
#[utoipa::path(get, path = "/api/v1/admin/dcc-signers", tag = "trust", security(("bearer" = [])),
    responses((status = 200, body = Vec<super::dcc::SignerSummary>), (status = 403, body = crate::error::Problem)))]
async fn dcc_signers(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
) -> crate::error::AppResult<Json<Vec<super::dcc::SignerSummary>>> {
    system_admin(&actor)?;
    Ok(Json(super::dcc::list_signers(&state).await?))
}

/// Trust EU DCC signer certificates: the EU gateway's trust-list JSON (an array of
/// `{kid, country, certificateType, rawData}`, or `{"certificates": [...]}`), or
/// `{"pem": "<PEM certificates>"}`. Logged.
#[utoipa::path(post, path = "/api/v1/admin/dcc-signers", tag = "trust", security(("bearer" = [])), request_body = Object,
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn import_dcc_signers(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    crate::web::extract::ApiJson(list): crate::web::extract::ApiJson<serde_json::Value>,
) -> crate::error::AppResult<Json<serde_json::Value>> {
    system_admin(&actor)?;
    let text = match list.get("pem").and_then(serde_json::Value::as_str) {
        Some(pem) => pem.to_owned(),
        None => list.to_string(),
    };
    let added = super::dcc::import_signers(&state, &text, actor.id()).await?;
    Ok(Json(serde_json::json!({"added": added})))
}

/// Stop trusting the DCC signers with a key id (base64url in the path), at once. Logged.
#[utoipa::path(delete, path = "/api/v1/admin/dcc-signers/{kid}", tag = "trust", security(("bearer" = [])), params(("kid" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)))]
async fn remove_dcc_signer(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    axum::extract::Path(kid): axum::extract::Path<String>,
) -> crate::error::AppResult<axum::http::StatusCode> {
    use base64::Engine as _;
    system_admin(&actor)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(kid.trim_end_matches('='))
        .map_err(|_| crate::error::AppError::invalid("kid", "base64url"))?;
    let kid = base64::engine::general_purpose::STANDARD.encode(bytes);
    if super::dcc::remove_signer(&state, &kid, actor.id()).await? {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(crate::error::AppError::NotFound)
    }
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
struct SchemaQuery {
    /// Make this release the one used for versions no imported release matches.
    #[serde(default)]
    current: bool,
}

/// Import (or replace) a DCC JSON schema release (the combined schema), by version. Logged.
#[utoipa::path(put, path = "/api/v1/admin/dcc-schemas/{version}", tag = "trust", security(("bearer" = [])), params(("version" = String, Path), SchemaQuery), request_body = Object,
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn import_dcc_schema(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    axum::extract::Path(version): axum::extract::Path<String>,
    axum::extract::Query(query): axum::extract::Query<SchemaQuery>,
    crate::web::extract::ApiJson(schema): crate::web::extract::ApiJson<serde_json::Value>,
) -> crate::error::AppResult<axum::http::StatusCode> {
    system_admin(&actor)?;
    super::dcc::import_schema(&state, &version, &schema, query.current, actor.id()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
