//! The citizen's pass page: the QR large, the colour and why, refreshed before expiry.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::service;
use crate::identity::model::Language;
use crate::state::AppState;
use crate::web::pages::{PageBase, PageCtx, PageError};
use crate::web::qr::inline_qr_svg;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/pass", get(show))
        .route("/pass/requests", axum::routing::post(submit_request))
}

#[derive(Template)]
#[template(path = "pass.html")]
struct PassPage {
    base: PageBase,
    qr: String,
    colour: String,
    colour_name: String,
    reason: String,
    rule: Option<String>,
    policy_version: Option<i64>,
    /// When the code expires: in the region's zone, and as RFC 3339 for machines.
    expires: String,
    expires_at: String,
    refresh_seconds: i64,
    notices: Vec<(String, String)>,
    notice: Option<String>,
}

async fn show(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    render(&state, &ctx, None).await
}

#[derive(serde::Deserialize)]
struct RequestForm {
    csrf: String,
    kind: String,
    message: String,
}

async fn submit_request(
    State(state): State<AppState>,
    ctx: PageCtx,
    crate::web::extract::PageForm(form): crate::web::extract::PageForm<RequestForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    crate::health::service::submit_request(&state, actor, &form.kind, &form.message)
        .await
        .map_err(|e| ctx.error(e))?;
    render(
        &state,
        &ctx,
        Some(ctx.t.get("pass.request_sent").to_owned()),
    )
    .await
}

async fn render(
    state: &AppState,
    ctx: &PageCtx,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let state = state.clone();
    let actor = ctx.actor()?;
    let pass = service::issue_for(&state, actor)
        .await
        .map_err(|e| ctx.error(e))?;
    let verdict = pass.explanation.verdict.as_ref();
    let reason = match (verdict, ctx.t.0) {
        (Some(v), Language::Zh) => v.reason_zh.clone(),
        (Some(v), Language::En) => v.reason_en.clone(),
        (None, _) => String::new(),
    };
    let page = PassPage {
        base: ctx.base("pass.title"),
        qr: inline_qr_svg(&pass.code).map_err(|e| ctx.error(e))?,
        colour_name: ctx.t.get(&format!("pass.{}", pass.colour)).to_owned(),
        colour: pass.colour.clone(),
        reason,
        rule: verdict.and_then(|v| v.rule.clone()),
        policy_version: pass.explanation.policy_version,
        expires: ctx.zone.display_rfc3339(&pass.expires_at),
        expires_at: pass.expires_at.clone(),
        refresh_seconds: (state.config.pass_lifetime_seconds - 30).max(20),
        notices: match &actor.account.person_id {
            Some(person) => crate::health::service::notices_of(&state, person)
                .await
                .map_err(|e| ctx.error(e))?
                .into_iter()
                .map(|(at, zh, en)| {
                    (
                        state.zone().display(at),
                        if ctx.t.0 == Language::Zh { zh } else { en },
                    )
                })
                .collect(),
            None => Vec::new(),
        },
        notice,
    };
    Ok(ctx.render(&page))
}
