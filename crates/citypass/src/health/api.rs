//! JSON API of health status.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::policy::StatusRule;
use super::service::{self, NewFact};
use super::store;
use crate::checkins::contacts;
use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;
use crate::web::extract::{ApiActor, ApiJson};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record_fact))
        .routes(routes!(current_policy))
        .routes(routes!(propose_policy))
        .routes(routes!(approve_policy))
        .routes(routes!(set_emergency))
        .routes(routes!(request_override))
        .routes(routes!(approve_override))
        .routes(routes!(open_requests))
        .routes(routes!(resolve_request))
        .routes(routes!(match_contacts))
        .routes(routes!(confirm_contacts))
}

/// 时空伴随: people checked in at the same venues as a case with overlapping presence (health
/// officer whose reach covers the case). The run is logged with its purpose; nothing changes
/// anyone's colour until contacts are confirmed.
#[utoipa::path(post, path = "/api/v1/health/contacts/match", tag = "health", security(("bearer" = [])), request_body = contacts::MatchRequest,
    responses((status = 200, body = contacts::MatchResult), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn match_contacts(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<contacts::MatchRequest>,
) -> AppResult<Json<contacts::MatchResult>> {
    Ok(Json(contacts::run_match(&state, &actor, &request).await?))
}

/// Confirm reviewed contacts: each becomes a contact-designation fact, logged.
#[utoipa::path(post, path = "/api/v1/health/contacts/confirm", tag = "health", security(("bearer" = [])), request_body = contacts::ConfirmRequest,
    responses((status = 201, body = contacts::Confirmed), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn confirm_contacts(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<contacts::ConfirmRequest>,
) -> AppResult<(StatusCode, Json<contacts::Confirmed>)> {
    Ok((
        StatusCode::CREATED,
        Json(contacts::confirm(&state, &actor, &request).await?),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactRequest {
    /// GB 11643 citizen ID number of the person.
    pub resident_id: String,
    /// test_result, vaccination, recovery, quarantine_order, contact_designation, risk_area.
    pub kind: String,
    /// From the kind's code list: test_result positive or negative; vaccination dose_1,
    /// dose_2, dose_3 or booster; recovery recovered; quarantine_order home or centralised;
    /// contact_designation close_contact or secondary_contact; risk_area a region code.
    pub value: String,
    /// RFC 3339.
    pub observed_at: String,
    pub legal_basis: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedFact {
    pub id: String,
}

/// Record a health fact about a person (health officer of the person's region). Logged.
#[utoipa::path(post, path = "/api/v1/health/facts", tag = "health", security(("bearer" = [])), request_body = FactRequest,
    responses((status = 201, body = RecordedFact), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn record_fact(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<FactRequest>,
) -> AppResult<(StatusCode, Json<RecordedFact>)> {
    let resident_id = request
        .resident_id
        .trim()
        .parse()
        .map_err(|e| AppError::invalid("resident_id", e))?;
    let observed_at = time::OffsetDateTime::parse(
        request.observed_at.trim(),
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|_| AppError::invalid("observed_at", "must be an RFC 3339 date-time"))?;
    let millis = (observed_at.unix_timestamp_nanos() / 1_000_000) as i64;
    let fact = NewFact {
        resident_id,
        kind: request.kind,
        value: request.value,
        observed_at: millis,
        legal_basis: request.legal_basis,
    };
    let id = service::record_fact(&state, &actor, fact).await?;
    Ok((StatusCode::CREATED, Json(RecordedFact { id })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyView {
    pub version: i64,
    pub emergency: bool,
    pub rules: Vec<StatusRule>,
}

/// The status policy in force and whether the emergency mode is on (any logged-in user).
#[utoipa::path(get, path = "/api/v1/health/policy", tag = "health", security(("bearer" = [])),
    responses((status = 200, body = PolicyView), (status = 404, body = Problem)))]
async fn current_policy(
    State(state): State<AppState>,
    ApiActor(_actor): ApiActor,
) -> AppResult<Json<PolicyView>> {
    let policy = store::active_policy(state.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let rules = serde_json::from_str(&policy.rules).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Json(PolicyView {
        version: policy.version,
        emergency: service::emergency(&state).await?,
        rules,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeRequest {
    pub rules: Vec<StatusRule>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Proposed {
    pub version: i64,
}

/// Propose a new policy version (health officer); it needs a second approver.
#[utoipa::path(post, path = "/api/v1/health/policies", tag = "health", security(("bearer" = [])), request_body = ProposeRequest,
    responses((status = 201, body = Proposed), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn propose_policy(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<ProposeRequest>,
) -> AppResult<(StatusCode, Json<Proposed>)> {
    let version = service::propose_policy(&state, &actor, request.rules).await?;
    Ok((StatusCode::CREATED, Json(Proposed { version })))
}

/// Approve a proposed policy (a health officer other than its proposer).
#[utoipa::path(post, path = "/api/v1/health/policies/{version}/approve", tag = "health", security(("bearer" = [])), params(("version" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn approve_policy(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(version): Path<i64>,
) -> AppResult<StatusCode> {
    service::approve_policy(&state, &actor, version).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmergencyRequest {
    pub on: bool,
}

/// Switch the public-health emergency mode (health officer). Off: passes carry no colour.
#[utoipa::path(put, path = "/api/v1/health/emergency", tag = "health", security(("bearer" = [])), request_body = EmergencyRequest,
    responses((status = 204), (status = 403, body = Problem)))]
async fn set_emergency(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<EmergencyRequest>,
) -> AppResult<StatusCode> {
    service::set_emergency(&state, Some(&actor), request.on).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideRequest {
    pub resident_id: String,
    /// green, yellow or red.
    pub colour: String,
    /// lab_error, data_entry_error, confirmed_case_pending_record, recovery_confirmed.
    pub reason_code: String,
    /// RFC 3339, within 30 days.
    pub expires_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

/// Request a manual colour for a person (health officer); a second officer must approve.
#[utoipa::path(post, path = "/api/v1/health/overrides", tag = "health", security(("bearer" = [])), request_body = OverrideRequest,
    responses((status = 201, body = Created), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn request_override(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<OverrideRequest>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let resident_id = request
        .resident_id
        .trim()
        .parse()
        .map_err(|e| AppError::invalid("resident_id", e))?;
    let expires = time::OffsetDateTime::parse(
        request.expires_at.trim(),
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|_| AppError::invalid("expires_at", "must be an RFC 3339 date-time"))?;
    let expires = (expires.unix_timestamp_nanos() / 1_000_000) as i64;
    let id = service::request_override(
        &state,
        &actor,
        &resident_id,
        &request.colour,
        &request.reason_code,
        expires,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Approve a manual colour (a health officer other than the requester); the person is told.
#[utoipa::path(post, path = "/api/v1/health/overrides/{id}/approve", tag = "health", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn approve_override(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    service::approve_override(&state, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Open correction and review requests (health officer).
#[utoipa::path(get, path = "/api/v1/health/requests", tag = "health", security(("bearer" = [])),
    responses((status = 200, body = [service::RequestView]), (status = 403, body = Problem)))]
async fn open_requests(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<service::RequestView>>> {
    Ok(Json(service::open_requests(&state, &actor).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    pub outcome: String,
}

/// Answer a request (health officer); the person is told.
#[utoipa::path(post, path = "/api/v1/health/requests/{id}/resolve", tag = "health", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = ResolveRequest, responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn resolve_request(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ResolveRequest>,
) -> AppResult<StatusCode> {
    service::resolve_request(&state, &actor, &id, &request.outcome).await?;
    Ok(StatusCode::NO_CONTENT)
}
