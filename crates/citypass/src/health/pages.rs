//! The health officer's inbox of second signatures (`/health/approvals`), and its line on the
//! workbench: what others proposed that waits for this officer before it takes effect.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::approvals::{self, Pending};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::extract::PageForm;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health/approvals", get(inbox))
        .route("/health/approvals/{kind}/{id}", post(approve))
}

#[derive(Template)]
#[template(path = "health_approvals.html")]
struct InboxPage {
    base: PageBase,
    items: Vec<Pending>,
    english: bool,
}

/// Every item awaiting the officer, each with its approve button. Opening the page records a
/// read of each pending fact's person.
async fn inbox(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let items = approvals::pending(&state, actor)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&InboxPage {
        base: ctx.base("health.approvals"),
        english: ctx.t.lang() == "en",
        items,
    }))
}

#[derive(serde::Deserialize)]
struct ApproveForm {
    csrf: String,
}

/// The second signature, given on the page; back to the inbox.
async fn approve(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((kind, id)): Path<(String, String)>,
    PageForm(form): PageForm<ApproveForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let done: AppResult<()> = match kind.as_str() {
        "health_fact" => super::service::confirm_fact(&state, actor, &id).await,
        "override" => super::service::approve_override(&state, actor, &id).await,
        "policy" => match id.parse() {
            Ok(version) => super::service::approve_policy(&state, actor, version).await,
            Err(_) => Err(AppError::NotFound),
        },
        "emergency" | "health_source" => super::service::approve_control(&state, actor, &id).await,
        "contact_match" => crate::checkins::contacts::approve_match(&state, actor, &id).await,
        _ => Err(AppError::NotFound),
    };
    done.map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect("/health/approvals"))
}

/// The workbench's line: how many items wait, linking to the inbox (nothing is opened).
#[derive(Template)]
#[template(path = "health_inbox_section.html")]
struct InboxSection {
    t: crate::web::i18n::Tr,
    waiting: usize,
}

pub async fn home_sections(
    home: crate::module::Home,
    state: &AppState,
    ctx: &crate::module::HomeCtx<'_>,
) -> AppResult<Vec<String>> {
    if home != crate::module::Home::Workbench || !approvals::is_health_officer(ctx.actor) {
        return Ok(Vec::new());
    }
    let waiting = approvals::count(state, ctx.actor).await?;
    let section = InboxSection { t: ctx.t, waiting }
        .render()
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(vec![section])
}
