//! The trust administrators set: recognised regions (互认), SMART Health Card issuers, EU DCC
//! signers and schemas, and the visitors' rule — the security administrators'. A change that
//! trusts more is a proposal a second one approves ([`super::proposals`]); removing trust is
//! one person's.

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
        .routes(routes!(dcc_anchors))
        .routes(routes!(remove_dcc_anchor))
        .routes(routes!(import_dcc_schema))
        .routes(routes!(trust_proposals))
        .routes(routes!(approve_trust_proposal))
}

fn system_admin(actor: &crate::identity::model::Actor) -> crate::error::AppResult<()> {
    if can(actor, Action::ManageTrust, Resource::Platform) {
        Ok(())
    } else {
        Err(crate::error::AppError::Forbidden)
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct TrustProposed {
    /// The proposal a second security administrator approves
    /// (`POST /api/v1/admin/trust-proposals/{id}/approve`).
    proposal: String,
}

async fn propose(
    state: &AppState,
    actor: &crate::identity::model::Actor,
    change: super::proposals::TrustChange,
) -> crate::error::AppResult<(axum::http::StatusCode, Json<TrustProposed>)> {
    let proposal = super::proposals::propose(state, actor, change).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(TrustProposed { proposal }),
    ))
}

/// Trust changes waiting for a second security administrator.
#[utoipa::path(get, path = "/api/v1/admin/trust-proposals", tag = "trust", security(("bearer" = [])),
    responses((status = 200, body = [super::proposals::Proposal]), (status = 403, body = crate::error::Problem)))]
async fn trust_proposals(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
) -> crate::error::AppResult<Json<Vec<super::proposals::Proposal>>> {
    Ok(Json(super::proposals::open(&state, &actor).await?))
}

/// Approve a trust change (a security administrator other than its proposer, within a day); it
/// is made at once. Logged.
#[utoipa::path(post, path = "/api/v1/admin/trust-proposals/{id}/approve", tag = "trust", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn approve_trust_proposal(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> crate::error::AppResult<axum::http::StatusCode> {
    super::proposals::approve(&state, &actor, &id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// 互认: the regions this one recognises (the security administrators).
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

/// Propose importing or refreshing another region's trust list under a pinned root key (a
/// security administrator; checked now, made when a second approves). Logged.
#[utoipa::path(post, path = "/api/v1/admin/trusted-regions", tag = "trust", security(("bearer" = [])), request_body = ImportRequest,
    responses((status = 202, body = TrustProposed), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn import_region(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    crate::web::extract::ApiJson(request): crate::web::extract::ApiJson<ImportRequest>,
) -> crate::error::AppResult<(axum::http::StatusCode, Json<TrustProposed>)> {
    let trust_list = serde_json::to_string(&request.trust_list)
        .map_err(|e| crate::error::AppError::Internal(e.into()))?;
    let change = super::proposals::TrustChange::Region {
        trust_list,
        root_key: request.root_key,
    };
    propose(&state, &actor, change).await
}

/// Stop recognising a region, at once (the security administrators). Logged.
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

/// Propose trusting (or refreshing) a SMART Health Card issuer: its JWKS and revocation
/// lists, configured here since verifiers do not fetch (a security administrator; a second
/// approves). Logged.
#[utoipa::path(post, path = "/api/v1/admin/shc-issuers", tag = "trust", security(("bearer" = [])), request_body = super::foreign::IssuerRequest,
    responses((status = 202, body = TrustProposed), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn shc_issuer(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    crate::web::extract::ApiJson(request): crate::web::extract::ApiJson<
        super::foreign::IssuerRequest,
    >,
) -> crate::error::AppResult<(axum::http::StatusCode, Json<TrustProposed>)> {
    propose(
        &state,
        &actor,
        super::proposals::TrustChange::ShcIssuer(request),
    )
    .await
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

/// Propose a visitors' acceptance rule (validated as CertLogic now; a second security
/// administrator approves). Logged.
#[utoipa::path(put, path = "/api/v1/admin/visitor-rule", tag = "trust", security(("bearer" = [])), request_body = Object,
    responses((status = 202, body = TrustProposed), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn set_visitor_rule(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    crate::web::extract::ApiJson(rule): crate::web::extract::ApiJson<serde_json::Value>,
) -> crate::error::AppResult<(axum::http::StatusCode, Json<TrustProposed>)> {
    propose(
        &state,
        &actor,
        super::proposals::TrustChange::VisitorRule { rule },
    )
    .await
}

/// The EU DCC signer certificates (DSC) trusted here (the security administrators).
#[utoipa::path(get, path = "/api/v1/admin/dcc-signers", tag = "trust", security(("bearer" = [])),
    responses((status = 200, body = Vec<super::dcc::SignerSummary>), (status = 403, body = crate::error::Problem)))]
async fn dcc_signers(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
) -> crate::error::AppResult<Json<Vec<super::dcc::SignerSummary>>> {
    system_admin(&actor)?;
    Ok(Json(super::dcc::list_signers(&state).await?))
}

/// Propose trusting EU DCC signer certificates and their anchors: the EU gateway's trust-list
/// JSON (an array of `{kid, country, certificateType, rawData}` with `DSC`, `CSCA` or
/// `LIST_SIGNER` entries, or `{"certificates": [...]}`), `{"pem": "<PEM certificates>"}`, or
/// `{"signed": "<JWS>"}`, a list signed by a trusted list signer. Every signer must be issued
/// by a trusted country signing CA of its country (or one in the same list) or come in a signed
/// list (checked now; a second security administrator approves). Logged.
#[utoipa::path(post, path = "/api/v1/admin/dcc-signers", tag = "trust", security(("bearer" = [])), request_body = Object,
    responses((status = 202, body = TrustProposed), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn import_dcc_signers(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    crate::web::extract::ApiJson(list): crate::web::extract::ApiJson<serde_json::Value>,
) -> crate::error::AppResult<(axum::http::StatusCode, Json<TrustProposed>)> {
    let text = match (
        list.get("pem").and_then(serde_json::Value::as_str),
        list.get("signed").and_then(serde_json::Value::as_str),
    ) {
        (Some(pem), _) => pem.to_owned(),
        (None, Some(signed)) => signed.to_owned(),
        (None, None) => list.to_string(),
    };
    propose(
        &state,
        &actor,
        super::proposals::TrustChange::DccSigners { list: text },
    )
    .await
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

/// The anchors DCC signers are checked against: country signing CAs and list signers.
#[utoipa::path(get, path = "/api/v1/admin/dcc-anchors", tag = "trust", security(("bearer" = [])),
    responses((status = 200, body = Vec<super::dcc::AnchorSummary>), (status = 403, body = crate::error::Problem)))]
async fn dcc_anchors(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
) -> crate::error::AppResult<Json<Vec<super::dcc::AnchorSummary>>> {
    system_admin(&actor)?;
    Ok(Json(super::dcc::list_anchors(&state).await?))
}

/// Stop trusting an anchor (by fingerprint, hex) and every signer it vouched for, at once.
/// Logged.
#[utoipa::path(delete, path = "/api/v1/admin/dcc-anchors/{fingerprint}", tag = "trust", security(("bearer" = [])), params(("fingerprint" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn remove_dcc_anchor(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    axum::extract::Path(fingerprint): axum::extract::Path<String>,
) -> crate::error::AppResult<axum::http::StatusCode> {
    system_admin(&actor)?;
    if fingerprint.len() != 64 || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(crate::error::AppError::invalid(
            "fingerprint",
            "the SHA-256 of the anchor, 64 hex digits",
        ));
    }
    if super::dcc::remove_anchor(&state, &fingerprint.to_ascii_lowercase(), actor.id()).await? {
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

/// Propose importing (or replacing) a DCC JSON schema release (the combined schema), by
/// version (checked now; a second security administrator approves). Logged.
#[utoipa::path(put, path = "/api/v1/admin/dcc-schemas/{version}", tag = "trust", security(("bearer" = [])), params(("version" = String, Path), SchemaQuery), request_body = Object,
    responses((status = 202, body = TrustProposed), (status = 403, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
async fn import_dcc_schema(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    axum::extract::Path(version): axum::extract::Path<String>,
    axum::extract::Query(query): axum::extract::Query<SchemaQuery>,
    crate::web::extract::ApiJson(schema): crate::web::extract::ApiJson<serde_json::Value>,
) -> crate::error::AppResult<(axum::http::StatusCode, Json<TrustProposed>)> {
    let change = super::proposals::TrustChange::DccSchema {
        version,
        schema,
        current: query.current,
    };
    propose(&state, &actor, change).await
}
