//! The wallet page (证照夹): a citizen's or enterprise's certificates, and one opened.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use super::WalletEntry;
use crate::state::AppState;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/wallet", get(wallet))
        .route("/wallet/{id}", get(certificate))
}

#[derive(Template)]
#[template(path = "wallet.html")]
struct WalletPage {
    base: PageBase,
    entries: Vec<WalletEntry>,
}

async fn wallet(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let entries = super::wallet(&state, actor)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&WalletPage {
        base: ctx.base("wallet.title"),
        entries,
    }))
}

#[derive(Template)]
#[template(path = "certificate.html")]
struct CertificatePage {
    base: PageBase,
    status: String,
    status_label: String,
    type_name: String,
    number: String,
    holder: String,
    issuer: String,
    issued_on: String,
    valid_until: String,
    id: String,
    /// (item code, value as text).
    items: Vec<(String, String)>,
}

async fn certificate(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let item = super::wallet_item(&state, actor, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let c = item.signed.certificate;
    let items = c
        .items
        .iter()
        .map(|(code, value)| {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(list) => list
                    .iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join("、"),
                other => other.to_string(),
            };
            (code.clone(), text)
        })
        .collect();
    Ok(ctx.render(&CertificatePage {
        base: ctx.base("wallet.title"),
        status_label: ctx
            .t
            .get(&format!("wallet.status.{}", item.status))
            .to_owned(),
        status: item.status,
        type_name: c.type_name,
        number: c.number,
        holder: c.holder.name,
        issuer: c.issuer.name,
        issued_on: c.issued_on,
        valid_until: c
            .valid_until
            .unwrap_or_else(|| ctx.t.get("wallet.no_end").to_owned()),
        id: c.id,
        items,
    }))
}
