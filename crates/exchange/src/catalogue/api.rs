//! The catalogue's API: browse resources; a department's administrators save its resources,
//! ask for others', and decide what is asked of theirs.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::foreign::{ForeignGrant, ForeignGrantDraft};
use super::model::{DataRequest, RequestDraft, Resource, ResourceDraft};
use super::service;
use crate::error::{AppResult, Problem};
use crate::state::AppState;
use crate::web::extract::{ApiActor, ApiJson};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(resources))
        .routes(routes!(resource, save_resource))
        .routes(routes!(requests, ask))
        .routes(routes!(decide))
        .routes(routes!(revoke))
        .routes(routes!(foreign_grants, grant_foreign))
        .routes(routes!(revoke_foreign))
        .routes(routes!(service_description, describe))
}

/// The OpenAPI description registered for the external system that serves a resource (any
/// staff, as the catalogue).
#[utoipa::path(get, path = "/api/v1/exchange/resources/{code}/openapi", tag = "exchange", security(("bearer" = [])), params(("code" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn service_description(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(code): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    service::resource(&state, &actor, &code).await?;
    Ok(Json(
        super::described::description(&state, &code)
            .await?
            .ok_or(crate::error::AppError::NotFound)?,
    ))
}

/// Register (or replace) the OpenAPI 3 description of the external system that serves one of
/// one's department's resources (its administrators). The gateway then passes on only calls
/// to the endpoints it describes; answers the endpoints as (method, path) pairs.
#[utoipa::path(put, path = "/api/v1/exchange/resources/{code}/openapi", tag = "exchange", security(("bearer" = [])), params(("code" = String, Path)), request_body = Object,
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn describe(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(code): Path<String>,
    ApiJson(document): ApiJson<serde_json::Value>,
) -> AppResult<Json<serde_json::Value>> {
    let endpoints = super::described::describe(&state, &actor, &code, document).await?;
    Ok(Json(serde_json::json!({
        "endpoints": endpoints
            .into_iter()
            .map(|(method, path)| serde_json::json!({"method": method, "path": path}))
            .collect::<Vec<_>>(),
    })))
}

/// The resource catalogue (any staff): every department's resources with their data items,
/// share and open types.
#[utoipa::path(get, path = "/api/v1/exchange/resources", tag = "exchange", security(("bearer" = [])),
    responses((status = 200, body = [Resource]), (status = 403, body = Problem)))]
async fn resources(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<Resource>>> {
    Ok(Json(service::resources(&state, &actor).await?))
}

#[utoipa::path(get, path = "/api/v1/exchange/resources/{code}", tag = "exchange", security(("bearer" = [])), params(("code" = String, Path)),
    responses((status = 200, body = Resource), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn resource(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(code): Path<String>,
) -> AppResult<Json<Resource>> {
    Ok(Json(service::resource(&state, &actor, &code).await?))
}

/// Create or replace a resource of one's department (its administrators). The consistency
/// rules apply on every save: not shared needs a legal basis, conditional sharing its
/// conditions, and items of personal data are never shared unconditionally nor opened.
#[utoipa::path(put, path = "/api/v1/exchange/resources/{code}", tag = "exchange", security(("bearer" = [])), params(("code" = String, Path)), request_body = ResourceDraft,
    responses((status = 200, body = Resource), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn save_resource(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(code): Path<String>,
    ApiJson(draft): ApiJson<ResourceDraft>,
) -> AppResult<Json<Resource>> {
    Ok(Json(service::save(&state, &actor, &code, draft).await?))
}

/// The requests one's department made and those it must decide (its administrators).
#[utoipa::path(get, path = "/api/v1/exchange/requests", tag = "exchange", security(("bearer" = [])),
    responses((status = 200, body = [DataRequest]), (status = 403, body = Problem)))]
async fn requests(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<DataRequest>>> {
    Ok(Json(service::requests(&state, &actor).await?))
}

/// Ask for items of another department's resource (its administrators): granted at once when
/// it is shared unconditionally, else waiting for the owner.
#[utoipa::path(post, path = "/api/v1/exchange/requests", tag = "exchange", security(("bearer" = [])), request_body = RequestDraft,
    responses((status = 201, body = DataRequest), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn ask(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(draft): ApiJson<RequestDraft>,
) -> AppResult<(StatusCode, Json<DataRequest>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::ask(&state, &actor, draft).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = ExchangeRequestDecision)]
#[serde(deny_unknown_fields)]
struct Decision {
    grant: bool,
    /// The items granted (fewer than asked narrows the grant); all asked when absent.
    #[serde(default)]
    items: Option<Vec<String>>,
    /// Required to refuse.
    #[serde(default)]
    note: Option<String>,
}

/// The owner's decision on a request (its administrators).
#[utoipa::path(post, path = "/api/v1/exchange/requests/{id}/decide", tag = "exchange", security(("bearer" = [])), params(("id" = String, Path)), request_body = Decision,
    responses((status = 200, body = DataRequest), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn decide(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(decision): ApiJson<Decision>,
) -> AppResult<Json<DataRequest>> {
    Ok(Json(
        service::decide(
            &state,
            &actor,
            &id,
            decision.grant,
            decision.items,
            decision.note,
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Revocation {
    note: String,
}

/// The owner stops a grant at once, with a reason.
#[utoipa::path(post, path = "/api/v1/exchange/requests/{id}/revoke", tag = "exchange", security(("bearer" = [])), params(("id" = String, Path)), request_body = Revocation,
    responses((status = 200, body = DataRequest), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn revoke(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(revocation): ApiJson<Revocation>,
) -> AppResult<Json<DataRequest>> {
    Ok(Json(
        service::revoke(&state, &actor, &id, &revocation.note).await?,
    ))
}

/// The grants of one's department's resources to departments of other regions (its
/// administrators).
#[utoipa::path(get, path = "/api/v1/exchange/foreign-grants", tag = "exchange", security(("bearer" = [])),
    responses((status = 200, body = [ForeignGrant]), (status = 403, body = Problem)))]
async fn foreign_grants(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<ForeignGrant>>> {
    Ok(Json(super::foreign::grants(&state, &actor).await?))
}

/// Grant items of one of one's department's resources to a department of a recognised
/// region, named by the USCC its region's trust list binds to an exchange key. Its calls
/// arrive through that region's gateway, signed by its key.
#[utoipa::path(post, path = "/api/v1/exchange/foreign-grants", tag = "exchange", security(("bearer" = [])), request_body = ForeignGrantDraft,
    responses((status = 201, body = ForeignGrant), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn grant_foreign(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(draft): ApiJson<ForeignGrantDraft>,
) -> AppResult<(StatusCode, Json<ForeignGrant>)> {
    Ok((
        StatusCode::CREATED,
        Json(super::foreign::grant(&state, &actor, draft).await?),
    ))
}

/// Stop a grant to another region at once, with a reason.
#[utoipa::path(post, path = "/api/v1/exchange/foreign-grants/{id}/revoke", tag = "exchange", security(("bearer" = [])), params(("id" = String, Path)), request_body = Revocation,
    responses((status = 200, body = ForeignGrant), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn revoke_foreign(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(revocation): ApiJson<Revocation>,
) -> AppResult<Json<ForeignGrant>> {
    Ok(Json(
        super::foreign::revoke(&state, &actor, &id, &revocation.note).await?,
    ))
}
