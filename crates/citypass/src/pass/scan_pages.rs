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
use crate::authz::{Action, Resource, can};
use crate::error::AppError;
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
    /// The operator's own venues: (id, name, status, check-ins in the last 24 hours).
    venues: Vec<(String, String, String, i64)>,
    is_operator: bool,
    kinds: Vec<&'static str>,
    /// A shown certificate (TC1) that was scanned, and its status in words.
    certificate: Option<crate::certs::Verification>,
    certificate_status: String,
    /// A foreign credential's types and validity, in words.
    foreign_detail: String,
}

async fn render(
    state: &AppState,
    ctx: &PageCtx,
    outcome: Option<CheckOutcome>,
) -> Result<Response, PageError> {
    render_with(state, ctx, outcome, None).await
}

async fn render_with(
    state: &AppState,
    ctx: &PageCtx,
    outcome: Option<CheckOutcome>,
    certificate: Option<crate::certs::Verification>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    if !can(actor, Action::UseScanner, Resource::Platform) {
        return Err(ctx.error(AppError::Forbidden));
    }
    let answer = match outcome.as_ref() {
        Some(CheckOutcome {
            valid: true,
            colour: Some(colour),
            ..
        }) => ctx.t.get(&format!("pass.{colour}")).to_owned(),
        Some(CheckOutcome {
            valid: true,
            foreign: Some(_),
            ..
        }) => ctx.t.get("scan.foreign").to_owned(),
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
    let foreign_detail = outcome
        .as_ref()
        .and_then(|o| o.foreign.as_ref())
        .map(|f| {
            let types: Vec<String> = f
                .types
                .iter()
                .map(|t| match f.format.as_str() {
                    "dcc" => ctx.t.get(&format!("scan.dcc.{t}")).to_owned(),
                    _ => t.clone(),
                })
                .collect();
            match &f.valid_until {
                Some(until) => format!(
                    "{} · {} {}",
                    types.join(" · "),
                    ctx.t.get("scan.valid_until"),
                    state.zone().display_rfc3339(until)
                ),
                None => types.join(" · "),
            }
        })
        .unwrap_or_default();
    let mut venues = Vec::new();
    for venue in crate::venues::venues_of_staff(state.pool(), actor.id())
        .await
        .map_err(|e| ctx.error(e))?
    {
        let now = state.now();
        let count = crate::checkins::count_at(state.pool(), venue.no, now - 86_400_000, now)
            .await
            .map_err(|e| ctx.error(e))?;
        venues.push((venue.id, venue.name, venue.status, count));
    }
    let certificate_status = certificate
        .as_ref()
        .map(|c| match c.reason {
            Some(_) => ctx.t.get("scan.refused").to_owned(),
            None => ctx.t.get(&format!("wallet.status.{}", c.status)).to_owned(),
        })
        .unwrap_or_default();
    let page = ScanPage {
        certificate,
        certificate_status,
        foreign_detail,
        venues,
        is_operator: can(actor, Action::ApplyVenue, Resource::Platform),
        kinds: crate::venues::KINDS.iter().map(|k| k.kind).collect(),
        base: ctx.base("scan.title"),
        outcome,
        answer,
        reason,
        admission,
        id_checks: can(actor, Action::CheckPersonById, Resource::Platform),
    };
    Ok(ctx.render(&page))
}

async fn show(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    render(&state, &ctx, None).await
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
    // A shown certificate (亮证) scans here too.
    if form.code.trim().starts_with(tongban_codes::SHOWN_PREFIX) {
        let request = crate::certs::VerifyRequest {
            code: Some(form.code.trim().to_owned()),
            certificate: None,
        };
        let verification = crate::certs::verify_request(&state, &request)
            .await
            .map_err(|e| ctx.error(e))?;
        return render_with(&state, &ctx, None, Some(verification)).await;
    }
    let outcome = service::check(&state, actor, form.code.trim(), request_id.as_deref())
        .await
        .map_err(|e| ctx.error(e))?;
    render(&state, &ctx, Some(outcome)).await
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
    render(&state, &ctx, Some(outcome)).await
}
