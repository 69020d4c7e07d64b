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
        .route("/wallet/{id}/show", axum::routing::post(show))
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
    /// (item code, item name, value as text).
    items: Vec<(String, String, String)>,
    /// After 亮证: the QR (SVG) of the shown code, and until when it scans.
    shown_qr: Option<String>,
    shown_until: String,
}

async fn certificate(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    render_certificate(&state, &ctx, &id, None).await
}

/// The form: `csrf`, and one `item.<code>` field per item to reveal.
async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    crate::web::extract::PageForm(form): crate::web::extract::PageForm<
        std::collections::HashMap<String, String>,
    >,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    let request = super::ShowRequest {
        items: form
            .keys()
            .filter_map(|key| key.strip_prefix("item."))
            .map(str::to_owned)
            .collect(),
    };
    let shown = super::show(&state, actor, &id, &request)
        .await
        .map_err(|e| ctx.error(e))?;
    render_certificate(&state, &ctx, &id, Some(shown)).await
}

async fn render_certificate(
    state: &AppState,
    ctx: &PageCtx,
    id: &str,
    shown: Option<super::Shown>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let item = super::wallet_item(state, actor, id)
        .await
        .map_err(|e| ctx.error(e))?;
    let (shown_qr, shown_until) = match shown {
        Some(shown) => {
            let svg = crate::pass::api::inline_qr_svg(&shown.code).map_err(|e| ctx.error(e))?;
            let until = time::OffsetDateTime::parse(
                &shown.expires_at,
                &time::format_description::well_known::Rfc3339,
            )
            .map(|t| crate::time_fmt::display_cst((t.unix_timestamp_nanos() / 1_000_000) as i64))
            .unwrap_or(shown.expires_at);
            (Some(svg), until)
        }
        None => (None, String::new()),
    };
    let c = item.signed.certificate;
    // Item names from the catalogue (the code when the type is gone).
    let specs = super::store::cert_type_by_code(state, &c.type_code)
        .await
        .map_err(|e| ctx.error(e))?
        .map(|t| t.items)
        .unwrap_or_default();
    let name_of = |code: &str| {
        specs
            .iter()
            .find(|s| s.code == code)
            .map_or_else(|| code.to_owned(), |s| s.name.clone())
    };
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
            (code.clone(), name_of(code), text)
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
        shown_qr,
        shown_until,
    }))
}
