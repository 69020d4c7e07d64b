//! JSON API of venue codes, check-ins by code, companions and check-in counts.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, Application, CheckinRequest, Decision, NewCompanion};
use super::store;
use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;
use crate::web::extract::{ApiActor, ApiJson};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(apply))
        .routes(routes!(my_venues))
        .routes(routes!(decide))
        .routes(routes!(venue_qr))
        .routes(routes!(venue_counts))
        .routes(routes!(check_in))
        .routes(routes!(add_companion, list_companions))
        .routes(routes!(companion_requests))
        .routes(routes!(answer_companion_request))
        .routes(routes!(consent_in_person))
        .routes(routes!(statistics))
}

/// Apply for a venue code (venue operator); staff of the district approve it.
#[utoipa::path(post, path = "/api/v1/venues", tag = "venues", security(("bearer" = [])), request_body = Application,
    responses((status = 201, body = service::VenueView), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn apply(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(application): ApiJson<Application>,
) -> AppResult<(StatusCode, Json<service::VenueView>)> {
    let venue = service::apply(&state, &actor, &application).await?;
    Ok((StatusCode::CREATED, Json(service::view(&state, &venue))))
}

/// The venues the caller works at, with their codes once active.
#[utoipa::path(get, path = "/api/v1/venues/mine", tag = "venues", security(("bearer" = [])),
    responses((status = 200, body = [service::VenueView])))]
async fn my_venues(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<service::VenueView>>> {
    let venues = store::venues_of_staff(state.pool(), actor.id()).await?;
    Ok(Json(
        venues.iter().map(|v| service::view(&state, v)).collect(),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = VenueDecisionRequest)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub decision: Decision,
}

/// Approve or refuse a pending venue, or revoke an active one (clerks and department
/// administrators of its district). Logged.
#[utoipa::path(post, path = "/api/v1/venues/{id}/decision", tag = "venues", security(("bearer" = [])), params(("id" = String, Path)), request_body = DecisionRequest,
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn decide(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<DecisionRequest>,
) -> AppResult<StatusCode> {
    service::decide(&state, &actor, &id, request.decision).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The venue code as a QR image (the venue's staff), pointing at the check-in page.
#[utoipa::path(get, path = "/api/v1/venues/{id}/qr.svg", tag = "venues", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, content_type = "image/svg+xml"), (status = 404, body = Problem)))]
async fn venue_qr(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<impl IntoResponse> {
    let venue = service::staff_venue(&state, actor.id(), &id).await?;
    let base = state.config.public_url.clone().unwrap_or_default();
    Ok((
        [(header::CONTENT_TYPE, "image/svg+xml")],
        crate::web::qr::qr_svg(&service::code_url(&state, &base, &venue))?,
    ))
}

/// Check-in counts of the caller's own venue.
#[utoipa::path(get, path = "/api/v1/venues/{id}/counts", tag = "venues", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = service::VenueCounts), (status = 404, body = Problem)))]
async fn venue_counts(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<service::VenueCounts>> {
    Ok(Json(service::counts(&state, &actor, &id).await?))
}

/// Check in at a venue by its code (citizen), with registered companions.
#[utoipa::path(post, path = "/api/v1/checkins", tag = "venues", security(("bearer" = [])), request_body = CheckinRequest,
    responses((status = 200, body = service::CheckinOutcome), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn check_in(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<CheckinRequest>,
) -> AppResult<Json<service::CheckinOutcome>> {
    Ok(Json(
        service::check_in_by_code(&state, &actor, &request).await?,
    ))
}

/// Ask to register a family member as a companion (citizen): their ID number and name must
/// match; they are checked in along once they consent. At most five a day (429), ten in all.
#[utoipa::path(post, path = "/api/v1/me/companions", tag = "venues", security(("bearer" = [])), request_body = NewCompanion,
    responses((status = 201, body = service::Companion), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn add_companion(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(new): ApiJson<NewCompanion>,
) -> AppResult<(StatusCode, Json<service::Companion>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::add_companion(&state, &actor, &new).await?),
    ))
}

/// The caller's companions.
#[utoipa::path(get, path = "/api/v1/me/companions", tag = "venues", security(("bearer" = [])),
    responses((status = 200, body = [service::Companion]), (status = 403, body = Problem)))]
async fn list_companions(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<service::Companion>>> {
    Ok(Json(service::companions(&state, &actor).await?))
}

/// Who asks to check the caller in along, waiting for their answer.
#[utoipa::path(get, path = "/api/v1/me/companion-requests", tag = "venues", security(("bearer" = [])),
    responses((status = 200, body = [service::CompanionRequest]), (status = 403, body = Problem)))]
async fn companion_requests(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<service::CompanionRequest>>> {
    Ok(Json(service::companion_requests(&state, &actor).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanionAnswer {
    /// True to consent, false to decline (the request goes).
    pub accept: bool,
}

/// Answer a companion request on one's own account: consent or decline.
#[utoipa::path(post, path = "/api/v1/me/companion-requests/{holder}", tag = "venues", security(("bearer" = [])), params(("holder" = String, Path)),
    request_body = CompanionAnswer, responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn answer_companion_request(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(holder): Path<String>,
    ApiJson(answer): ApiJson<CompanionAnswer>,
) -> AppResult<StatusCode> {
    service::answer_companion_request(&state, &actor, &holder, answer.accept).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InPersonConsent {
    /// The holder who asked.
    pub holder_resident_id: String,
    /// The companion, who consents in person with their ID card.
    pub companion_resident_id: String,
}

/// Record the consent a companion without a phone gave in person at a service window (a clerk
/// of the companion's region).
#[utoipa::path(post, path = "/api/v1/companions/consent", tag = "venues", security(("bearer" = [])),
    request_body = InPersonConsent, responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn consent_in_person(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<InPersonConsent>,
) -> AppResult<StatusCode> {
    let parse = |field: &'static str, text: &str| {
        text.trim()
            .parse::<tongban_core::ResidentId>()
            .map_err(|e| AppError::invalid(field, e))
    };
    service::consent_in_person(
        &state,
        &actor,
        &parse("holder_resident_id", &request.holder_resident_id)?,
        &parse("companion_resident_id", &request.companion_resident_id)?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatisticsQuery {
    /// The day, YYYY-MM-DD (China time).
    pub date: String,
}

/// Check-ins per district and hour of a day, for health officers and system administrators,
/// showing only cells with at least k = 10 people.
#[utoipa::path(get, path = "/api/v1/checkins/statistics", tag = "venues", security(("bearer" = [])), params(StatisticsQuery),
    responses((status = 200, body = [service::DistrictHour]), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn statistics(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(query): Query<StatisticsQuery>,
) -> AppResult<Json<Vec<service::DistrictHour>>> {
    let day = time::Date::parse(
        query.date.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| AppError::invalid("date", "must be YYYY-MM-DD"))?;
    Ok(Json(
        service::district_hours(&state, &actor, day, state.config.statistics_k).await?,
    ))
}
