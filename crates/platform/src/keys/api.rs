//! The public trust list: this region's verification keys, signed by its root key.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, SignedTrustList};
use crate::error::{AppResult, Problem};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(trust_list))
}

/// The region's verification keys, signed by its root key (format in docs/trust-list.md).
#[utoipa::path(get, path = "/api/v1/trust-list", tag = "keys",
    responses((status = 200, body = SignedTrustList), (status = 503, body = Problem)))]
async fn trust_list(State(state): State<AppState>) -> AppResult<Json<SignedTrustList>> {
    Ok(Json(service::trust_list(&state).await?))
}
