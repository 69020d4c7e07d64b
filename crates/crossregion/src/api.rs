//! JSON API of 跨省通办: partners and their items, applying, the clerks' work and steps, and
//! the applicant's tracking and rating.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::cases::{ActRequest, ApplyRequest, CaseView};
use crate::error::{AppResult, Problem};
use crate::partners::PartnerDraft;
use crate::state::AppState;
use crate::store::{CrossItem, Partner};
use crate::web::extract::{ApiActor, ApiJson};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(items))
        .routes(routes!(partners, add_partner))
        .routes(routes!(mine, apply))
        .routes(routes!(work))
        .routes(routes!(one))
        .routes(routes!(forward))
        .routes(routes!(act))
        .routes(routes!(rate))
        .routes(routes!(supplement))
}

/// The partner regions' 跨省通办 items, as their catalogues last answered (signed and logged
/// exchanges, refreshed every few minutes).
#[utoipa::path(get, path = "/api/v1/cross-region/items", tag = "cross-region", security(("bearer" = [])),
    responses((status = 200, body = [CrossItem]), (status = 401, body = Problem)))]
async fn items(
    State(state): State<AppState>,
    ApiActor(_actor): ApiActor,
) -> AppResult<Json<Vec<CrossItem>>> {
    Ok(Json(crate::store::items(state.pool()).await?))
}

/// The regions this one handles applications with.
#[utoipa::path(get, path = "/api/v1/cross-region/partners", tag = "cross-region", security(("bearer" = [])),
    responses((status = 200, body = [Partner]), (status = 401, body = Problem)))]
async fn partners(
    State(state): State<AppState>,
    ApiActor(_actor): ApiActor,
) -> AppResult<Json<Vec<Partner>>> {
    Ok(Json(crate::partners::list(&state).await?))
}

/// Record a partner region and its intake department (an administrator of this region's
/// intake department); its catalogue is read at once.
#[utoipa::path(post, path = "/api/v1/cross-region/partners", tag = "cross-region", security(("bearer" = [])), request_body = PartnerDraft,
    responses((status = 201, body = Partner), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn add_partner(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(draft): ApiJson<PartnerDraft>,
) -> AppResult<(StatusCode, Json<Partner>)> {
    Ok((
        StatusCode::CREATED,
        Json(crate::partners::add(&state, &actor, draft).await?),
    ))
}

/// The applicant's own applications to other regions, with every step.
#[utoipa::path(get, path = "/api/v1/cross-region/applications", tag = "cross-region", security(("bearer" = [])),
    responses((status = 200, body = [CaseView]), (status = 401, body = Problem)))]
async fn mine(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<CaseView>>> {
    Ok(Json(crate::cases::mine(&state, &actor).await?))
}

/// Apply for a partner region's item: online by the applicant (全程网办), or at the window
/// by a clerk of the intake department for the applicant whose ID card they checked (代收;
/// forwarded once the materials are checked). The signed package waits in the outbox until
/// the competent region takes it.
#[utoipa::path(post, path = "/api/v1/cross-region/applications", tag = "cross-region", security(("bearer" = [])), request_body = ApplyRequest,
    responses((status = 201, body = CaseView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn apply(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<ApplyRequest>,
) -> AppResult<(StatusCode, Json<CaseView>)> {
    Ok((
        StatusCode::CREATED,
        Json(crate::cases::apply(&state, &actor, request).await?),
    ))
}

/// A clerk's work: the 代收 queue of the intake department and the 跨省 inbox of the
/// departments the clerk handles.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Work {
    pub window: Vec<CaseView>,
    pub inbox: Vec<CaseView>,
}

#[utoipa::path(get, path = "/api/v1/cross-region/work", tag = "cross-region", security(("bearer" = [])),
    responses((status = 200, body = Work), (status = 401, body = Problem)))]
async fn work(State(state): State<AppState>, ApiActor(actor): ApiActor) -> AppResult<Json<Work>> {
    let (window, inbox) = crate::cases::work(&state, &actor).await?;
    Ok(Json(Work { window, inbox }))
}

/// One case, for its applicant and the clerks of either end.
#[utoipa::path(get, path = "/api/v1/cross-region/cases/{id}", tag = "cross-region", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = Problem)))]
async fn one(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<CaseView>> {
    Ok(Json(crate::cases::one(&state, &actor, &id).await?))
}

/// Forward a case received at the window, its materials checked (the intake's clerks).
#[utoipa::path(post, path = "/api/v1/cross-region/cases/{id}/forward", tag = "cross-region", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn forward(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<CaseView>> {
    Ok(Json(crate::cases::forward(&state, &actor, &id).await?))
}

/// A step of the competent department's clerk: accept, correct (补正), approve, reject, issue.
#[utoipa::path(post, path = "/api/v1/cross-region/cases/{id}/act", tag = "cross-region", security(("bearer" = [])), params(("id" = String, Path)), request_body = ActRequest,
    responses((status = 200, body = CaseView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn act(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ActRequest>,
) -> AppResult<Json<CaseView>> {
    Ok(Json(crate::cases::act(&state, &actor, &id, request).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = CrossRegionRating)]
#[serde(deny_unknown_fields)]
pub struct Rating {
    /// 1 (非常不满意) to 5 (非常满意).
    pub grade: i64,
}

/// The applicant rates a decided case (好差评); the rating reaches the competent department.
#[utoipa::path(post, path = "/api/v1/cross-region/cases/{id}/rating", tag = "cross-region", security(("bearer" = [])), params(("id" = String, Path)), request_body = Rating,
    responses((status = 200, body = CaseView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn rate(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(rating): ApiJson<Rating>,
) -> AppResult<Json<CaseView>> {
    Ok(Json(
        crate::cases::rate(&state, &actor, &id, rating.grade).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Supplement {
    pub materials: Vec<crate::cases::MaterialIn>,
}

/// Send the materials the competent region asked for (补正材料): the applicant, or the
/// window that received the case; only while a correction is asked.
#[utoipa::path(post, path = "/api/v1/cross-region/cases/{id}/supplement", tag = "cross-region", security(("bearer" = [])), params(("id" = String, Path)), request_body = Supplement,
    responses((status = 200, body = CaseView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn supplement(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<Supplement>,
) -> AppResult<Json<CaseView>> {
    Ok(Json(
        crate::cases::supplement(&state, &actor, &id, &request.materials).await?,
    ))
}
