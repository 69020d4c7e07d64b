//! The scanner page of venue and checkpoint staff: read a pass with the phone camera (the
//! browser's BarcodeDetector) or type it, or — at a checkpoint — check an ID number; a large
//! green, yellow or red answer with the masked initials, usable with one hand.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::service::{self, CheckOutcome};
use crate::error::AppError;
use crate::identity::model::Role;
use crate::state::AppState;
use crate::web::extract::{PageForm, RequestId};
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/scan", get(show).post(check_code))
        .route("/scan/id", axum::routing::post(check_id))
}

#[derive(Template)]
#[template(path = "scan.html")]
struct ScanPage {
    base: PageBase,
    outcome: Option<CheckOutcome>,
    answer: String,
    reason: String,
    admission: String,
    id_checks: bool,
}

fn render(ctx: &PageCtx, outcome: Option<CheckOutcome>) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    if !actor.has_role(Role::VenueOperator) && !actor.has_role(Role::CheckpointOfficer) {
        return Err(ctx.error(AppError::Forbidden));
    }
    let answer = match outcome.as_ref() {
        Some(CheckOutcome {
            valid: true,
            colour: Some(colour),
            ..
        }) => ctx.t.get(&format!("pass.{colour}")).to_owned(),
        Some(_) => ctx.t.get("scan.refused").to_owned(),
        None => String::new(),
    };
    let reason = outcome
        .as_ref()
        .and_then(|o| o.reason.clone())
        .map(|r| ctx.t.get(&format!("scan.reason.{r}")).to_owned())
        .unwrap_or_default();
    let admission = outcome
        .as_ref()
        .and_then(|o| o.admission_reason.clone())
        .map(|r| ctx.t.get(&format!("scan.reason.{r}")).to_owned())
        .unwrap_or_default();
    let page = ScanPage {
        base: ctx.base("scan.title"),
        outcome,
        answer,
        reason,
        admission,
        id_checks: actor.has_role(Role::CheckpointOfficer),
    };
    Ok(ctx.render(&page))
}

async fn show(ctx: PageCtx) -> Result<Response, PageError> {
    render(&ctx, None)
}

#[derive(Deserialize)]
struct CodeForm {
    csrf: String,
    code: String,
}

async fn check_code(
    State(state): State<AppState>,
    ctx: PageCtx,
    RequestId(request_id): RequestId,
    PageForm(form): PageForm<CodeForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let outcome = service::check(&state, actor, form.code.trim(), request_id.as_deref())
        .await
        .map_err(|e| ctx.error(e))?;
    render(&ctx, Some(outcome))
}

#[derive(Deserialize)]
struct IdForm {
    csrf: String,
    resident_id: String,
}

async fn check_id(
    State(state): State<AppState>,
    ctx: PageCtx,
    RequestId(request_id): RequestId,
    PageForm(form): PageForm<IdForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let resident_id = service::resident_id_from_input(&form.resident_id, state.now())
        .map_err(|e| ctx.error(e))?;
    let outcome = service::check_by_resident_id(&state, actor, &resident_id, request_id.as_deref())
        .await
        .map_err(|e| ctx.error(e))?;
    render(&ctx, Some(outcome))
}
