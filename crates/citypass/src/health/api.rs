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
        .routes(routes!(confirm_fact))
        .routes(routes!(pending_facts))
        .routes(routes!(approve_control))
        .routes(routes!(designate_source))
        .routes(routes!(current_policy))
        .routes(routes!(propose_policy))
        .routes(routes!(approve_policy))
        .routes(routes!(set_emergency))
        .routes(routes!(request_override))
        .routes(routes!(approve_override))
        .routes(routes!(open_requests))
        .routes(routes!(resolve_request))
        .routes(routes!(request_match))
        .routes(routes!(approve_match))
        .routes(routes!(run_match))
        .routes(routes!(designate_contacts))
}

/// 时空伴随: ask for a match about a confirmed case (health officer whose reach covers the
/// case). Nothing is read until a second officer approves; the request is logged.
#[utoipa::path(post, path = "/api/v1/health/contacts/requests", tag = "health", security(("bearer" = [])), request_body = contacts::MatchRequest,
    responses((status = 201, body = Created), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn request_match(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<contacts::MatchRequest>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let id = contacts::request_match(&state, &actor, &request).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Approve a match request (a health officer of the case's reach other than its requester).
#[utoipa::path(post, path = "/api/v1/health/contacts/requests/{id}/approve", tag = "health", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn approve_match(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    contacts::approve_match(&state, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Run an approved match (its requester or approver, within a day): people with overlapping
/// presence, without names or venues. The run is logged.
#[utoipa::path(post, path = "/api/v1/health/contacts/requests/{id}/run", tag = "health", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = contacts::MatchResult), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn run_match(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<contacts::MatchResult>> {
    Ok(Json(contacts::run_match(&state, &actor, &id).await?))
}

/// Designate reviewed contacts: each becomes a contact-designation fact, logged, in force
/// once a second officer confirms it.
#[utoipa::path(post, path = "/api/v1/health/contacts/designate", tag = "health", security(("bearer" = [])), request_body = contacts::ConfirmRequest,
    responses((status = 201, body = contacts::Confirmed), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn designate_contacts(
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
    /// The sample or report number the result rests on; with it, a result recorded by a
    /// health source (a laboratory or hospital department) is in force at once.
    pub evidence_ref: Option<String>,
}

/// Record a health fact about a person (health officer of the person's region). Logged. In
/// force at once when a health source records it with its evidence (and it lifts no recent
/// positive); otherwise it waits for a second officer.
#[utoipa::path(post, path = "/api/v1/health/facts", tag = "health", security(("bearer" = [])), request_body = FactRequest,
    responses((status = 201, body = service::RecordedFact), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn record_fact(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<FactRequest>,
) -> AppResult<(StatusCode, Json<service::RecordedFact>)> {
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
        evidence_ref: request.evidence_ref,
    };
    let recorded = service::record_fact(&state, &actor, fact).await?;
    Ok((StatusCode::CREATED, Json(recorded)))
}

/// Confirm a pending fact (a health officer of the person's region other than its recorder);
/// it is in force from then on. Logged.
#[utoipa::path(post, path = "/api/v1/health/facts/{id}/confirm", tag = "health", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn confirm_fact(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    service::confirm_fact(&state, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What awaits the officer's second signature: facts, manual colours, policies, switches of
/// the emergency mode and match requests that others proposed, within the officer's reach.
#[utoipa::path(get, path = "/api/v1/health/pending", tag = "health", security(("bearer" = [])),
    responses((status = 200, body = [super::approvals::Pending]), (status = 403, body = Problem)))]
async fn pending_facts(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<super::approvals::Pending>>> {
    Ok(Json(super::approvals::pending(&state, &actor).await?))
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
    /// Days after a positive test in which a negative result or a recovery needs a second
    /// officer (1–28; default 7).
    pub positive_hold_days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Proposed {
    pub version: i64,
}

/// Propose a new policy version (the health authority: an officer whose scope covers the
/// deployment's region); it needs a second approver.
#[utoipa::path(post, path = "/api/v1/health/policies", tag = "health", security(("bearer" = [])), request_body = ProposeRequest,
    responses((status = 201, body = Proposed), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn propose_policy(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<ProposeRequest>,
) -> AppResult<(StatusCode, Json<Proposed>)> {
    let version =
        service::propose_policy(&state, &actor, request.rules, request.positive_hold_days).await?;
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

/// Propose switching the public-health emergency mode (the health authority). Off: passes
/// carry no colour. It takes effect when a second officer of the authority approves it.
#[utoipa::path(put, path = "/api/v1/health/emergency", tag = "health", security(("bearer" = [])), request_body = EmergencyRequest,
    responses((status = 202, body = Created), (status = 403, body = Problem)))]
async fn set_emergency(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<EmergencyRequest>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let id =
        service::propose_control(&state, &actor, service::Control::Emergency(request.on)).await?;
    Ok((StatusCode::ACCEPTED, Json(Created { id })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceRequest {
    /// `laboratory` or `hospital`; null withdraws the designation.
    pub kind: Option<String>,
}

/// Propose designating a department a health source, or withdrawing it (the health
/// authority). A source's results with their evidence take effect at once. It takes effect
/// when a second officer of the authority approves it.
#[utoipa::path(put, path = "/api/v1/health/sources/{department_id}", tag = "health", security(("bearer" = [])), params(("department_id" = String, Path)),
    request_body = SourceRequest,
    responses((status = 202, body = Created), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn designate_source(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(department_id): Path<String>,
    ApiJson(request): ApiJson<SourceRequest>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let control = service::Control::Source {
        department_id,
        kind: request.kind,
    };
    let id = service::propose_control(&state, &actor, control).await?;
    Ok((StatusCode::ACCEPTED, Json(Created { id })))
}

/// Approve a proposed change of a city-wide control — the emergency mode, a health source —
/// (an officer of the health authority other than its proposer, within a day); it takes
/// effect at once.
#[utoipa::path(post, path = "/api/v1/health/controls/{id}/approve", tag = "health", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn approve_control(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    service::approve_control(&state, &actor, &id).await?;
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
