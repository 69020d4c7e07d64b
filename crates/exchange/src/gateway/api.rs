//! The gateway's interfaces: `/r1/…` (the X-Road REST message protocol), `/listClients`, and
//! under `/api/v1/exchange/messages` a department's message log and the receipts of its
//! exchanges.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::message::Receipt;
pub use super::receipts::{MessageQuery, MessageView};
use super::service::{Incoming, exchange};
use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;
use crate::web::extract::ApiActor;

/// The X-Road and directory routes, outside `/api/v1`.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/r1/{*rest}", any(gateway))
        .route("/listClients", get(list_clients))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(messages))
        .routes(routes!(receipt))
}

async fn gateway(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    actor: Result<ApiActor, AppError>,
    body: Bytes,
) -> Response {
    let rest = uri.path().strip_prefix("/r1/").unwrap_or("").to_owned();
    let out = exchange(
        &state,
        actor.ok().map(|a| a.0),
        Incoming {
            method,
            rest,
            query: uri.query().map(str::to_owned),
            headers,
            body,
        },
    )
    .await;
    let mut response = (
        StatusCode::from_u16(out.status).unwrap_or(StatusCode::BAD_GATEWAY),
        out.body,
    )
        .into_response();
    // The provider's content type or none, never the default of a byte body.
    response
        .headers_mut()
        .remove(axum::http::header::CONTENT_TYPE);
    for (name, value) in out.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

async fn list_clients(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<serde_json::Value>> {
    if !crate::authz::can(
        &actor,
        crate::authz::Action::ViewDataCatalogue,
        crate::authz::Resource::Platform,
    ) {
        return Err(AppError::Forbidden);
    }
    Ok(Json(super::metadata::list_clients(&state).await?))
}

/// The department's message log (its administrators): the exchanges it took part in as
/// consumer or provider, newest first.
#[utoipa::path(get, path = "/api/v1/exchange/messages", tag = "exchange", security(("bearer" = [])), params(MessageQuery),
    responses((status = 200, body = [MessageView]), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn messages(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(query): Query<MessageQuery>,
) -> AppResult<Json<Vec<MessageView>>> {
    Ok(Json(
        super::receipts::messages(&state, &actor, &query).await?,
    ))
}

/// A receipt of one exchange (an administrator of either party): the signed record as the
/// transparency log holds it, its inclusion proof and a signed checkpoint. `tongban exchange
/// verify` checks it offline against the region's trust list.
#[utoipa::path(get, path = "/api/v1/exchange/messages/{id}/receipt", tag = "exchange", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Receipt), (status = 404, body = Problem)))]
async fn receipt(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<Receipt>> {
    Ok(Json(super::receipts::receipt(&state, &actor, &id).await?))
}
