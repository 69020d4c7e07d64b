//! The log's public interface: checkpoints, proofs and entries, so anyone holding a
//! checkpoint can check the log without trusting the server.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{service, store};
use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(checkpoint))
        .routes(routes!(inclusion))
        .routes(routes!(consistency))
        .routes(routes!(entries))
        .routes(routes!(entry_contents))
}

/// The latest signed checkpoint, as a C2SP signed note (text/plain).
#[utoipa::path(get, path = "/api/v1/ledger/checkpoint", tag = "ledger",
    responses((status = 200, body = String, content_type = "text/plain"), (status = 503, body = Problem)))]
async fn checkpoint(State(state): State<AppState>) -> AppResult<impl IntoResponse> {
    let note = service::latest_checkpoint(&state).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    pub index: u64,
    pub size: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    /// The audit path, leaf upwards, base64.
    pub hashes: Vec<String>,
}

/// The inclusion proof of entry `index` in the tree of `size` entries (RFC 9162 §2.1.3).
#[utoipa::path(get, path = "/api/v1/ledger/proof/inclusion", tag = "ledger", params(InclusionQuery),
    responses((status = 200, body = InclusionProof), (status = 422, body = Problem)))]
async fn inclusion(
    State(state): State<AppState>,
    Query(query): Query<InclusionQuery>,
) -> AppResult<Json<InclusionProof>> {
    let hashes = service::inclusion(&state, query.index, query.size)
        .await
        .map_err(AppError::from)?;
    Ok(Json(InclusionProof {
        index: query.index,
        size: query.size,
        hashes,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    pub from: u64,
    pub to: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    pub hashes: Vec<String>,
}

/// The consistency proof between the trees of `from` and `to` entries (RFC 9162 §2.1.4).
#[utoipa::path(get, path = "/api/v1/ledger/proof/consistency", tag = "ledger", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof), (status = 422, body = Problem)))]
async fn consistency(
    State(state): State<AppState>,
    Query(query): Query<ConsistencyQuery>,
) -> AppResult<Json<ConsistencyProof>> {
    let hashes = service::consistency(&state, query.from, query.to)
        .await
        .map_err(AppError::from)?;
    Ok(Json(ConsistencyProof {
        from: query.from,
        to: query.to,
        hashes,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EntriesQuery {
    pub start: u64,
    pub end: u64,
}

/// A leaf of the log as the public sees it: verifiable, not readable.
#[derive(Debug, Serialize, ToSchema)]
pub struct Leaf {
    pub index: u64,
    /// HASH(0x00 ‖ entry), base64: enough to check inclusion and consistency proofs; the
    /// entry itself is for the audit administrator and the person it is about.
    pub leaf_hash: String,
}

/// Leaf hashes `[start, end)`, at most 1000 at a time. The log is public so that anyone can
/// check it; its entries are not, so that nobody can follow a person through it.
#[utoipa::path(get, path = "/api/v1/ledger/entries", tag = "ledger", params(EntriesQuery),
    responses((status = 200, body = [Leaf]), (status = 422, body = Problem)))]
async fn entries(
    State(state): State<AppState>,
    Query(query): Query<EntriesQuery>,
) -> AppResult<Json<Vec<Leaf>>> {
    let (start, end) = range(&query)?;
    let rows = store::leaf_hashes(state.pool(), start, end).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(index, hash)| Leaf {
                index: index as u64,
                leaf_hash: STANDARD.encode(hash),
            })
            .collect(),
    ))
}

fn range(query: &EntriesQuery) -> AppResult<(i64, i64)> {
    if query.start >= query.end || query.end - query.start > 1000 {
        return Err(AppError::invalid(
            "end",
            "end must be above start, by at most 1000",
        ));
    }
    let start = i64::try_from(query.start).map_err(|_| AppError::invalid("start", "too large"))?;
    let end = i64::try_from(query.end).map_err(|_| AppError::invalid("end", "too large"))?;
    Ok((start, end))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Entry {
    pub index: u64,
    /// The entry bytes, base64; the leaf hash is HASH(0x00 ‖ these bytes).
    pub leaf: String,
}

/// Entries `[start, end)` with their content, at most 1000 at a time: for the audit
/// administrator (a person reads their own entries on their page and at `/api/v1/me/access`).
#[utoipa::path(get, path = "/api/v1/ledger/entries/content", tag = "ledger", security(("bearer" = [])), params(EntriesQuery),
    responses((status = 200, body = [Entry]), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn entry_contents(
    State(state): State<AppState>,
    crate::web::extract::ApiActor(actor): crate::web::extract::ApiActor,
    Query(query): Query<EntriesQuery>,
) -> AppResult<Json<Vec<Entry>>> {
    use crate::authz::{Action, Resource, can};
    if !can(&actor, Action::ReadAuditRecords, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
    let (start, end) = range(&query)?;
    let rows = store::entries(state.pool(), start, end).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(index, data)| Entry {
                index: index as u64,
                leaf: STANDARD.encode(data),
            })
            .collect(),
    ))
}
