//! The pages of the open-data portal.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/dataset/{dataset}/resource/{id}/download/{file}",
        get(download),
    )
}

/// A published file, as CKAN serves it.
async fn download(
    State(state): State<AppState>,
    Path((_, id, _)): Path<(String, String, String)>,
) -> Result<Response, crate::error::AppError> {
    let (file_name, media_type, bytes) = crate::service::download(&state, &id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, format!("{media_type}; charset=utf-8")),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
