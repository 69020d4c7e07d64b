//! JSON API of the service catalogue: search and read (public), create and change
//! (administrators).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Detail, SaveRequest, Saved, Summary};
use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;
use crate::web::extract::{ApiActor, ApiJson};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(detail, update))
}

/// Search the catalogue (public): by words of the name or keywords (Chinese-aware), and by
/// department, theme or life event.
#[utoipa::path(get, path = "/api/v1/services", tag = "services", params(super::Query),
    responses((status = 200, body = [Summary]), (status = 422, body = Problem)))]
async fn list(
    State(state): State<AppState>,
    Query(query): Query<super::Query>,
) -> AppResult<Json<Vec<Summary>>> {
    Ok(Json(super::list(&state, &query).await?))
}

/// One item in full, with its version (public).
#[utoipa::path(get, path = "/api/v1/services/{code}", tag = "services", params(("code" = String, Path)),
    responses((status = 200, body = Detail), (status = 404, body = Problem)))]
async fn detail(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> AppResult<Json<Detail>> {
    Ok(Json(super::detail(&state, &code).await?))
}

/// Add an item (the system administrator, or the implementing department's administrator).
/// Every consistency rule is checked; the first broken one is the answer. Logged.
#[utoipa::path(post, path = "/api/v1/services", tag = "services", security(("bearer" = [])), request_body = SaveRequest,
    responses((status = 201, body = Saved), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<SaveRequest>,
) -> AppResult<(StatusCode, Json<Saved>)> {
    if request.version.is_some() {
        return Err(AppError::invalid(
            "version",
            "a new item has no version; change an item with PUT",
        ));
    }
    Ok((
        StatusCode::CREATED,
        Json(super::save(&state, &actor, request).await?),
    ))
}

/// Change an item, from the version read (409 when someone saved it in between). Logged.
#[utoipa::path(put, path = "/api/v1/services/{code}", tag = "services", security(("bearer" = [])), params(("code" = String, Path)), request_body = SaveRequest,
    responses((status = 200, body = Saved), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(code): Path<String>,
    ApiJson(request): ApiJson<SaveRequest>,
) -> AppResult<Json<Saved>> {
    if request.item.code != code {
        return Err(AppError::invalid(
            "code",
            "the item's code must match the path",
        ));
    }
    if request.version.is_none() {
        return Err(AppError::invalid("version", "give the version you edited"));
    }
    Ok(Json(super::save(&state, &actor, request).await?))
}
