//! The pages of venue codes: the check-in page a citizen's phone opens from the venue's QR
//! code, and the printable poster of a venue's code.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use super::service::{self, CheckinOutcome, CheckinRequest, Companion};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::{PageForm, PageQuery};
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v/{code}", get(show).post(check_in))
        .route("/venues/{id}/poster", get(poster))
        .route("/checkins/statistics", get(statistics))
        .route("/venues/apply", axum::routing::post(apply))
        .route("/venues/{id}/decision", axum::routing::post(decide))
        .route("/me/companions", axum::routing::post(add_companion))
        .route(
            "/me/companion-requests/{holder}",
            axum::routing::post(answer_companion_request),
        )
}

#[derive(Template)]
#[template(path = "checkin.html")]
struct CheckinPage {
    base: PageBase,
    code: String,
    venue: String,
    companions: Vec<Companion>,
    outcome: Option<CheckinOutcome>,
    answer: String,
}

async fn page(
    state: &AppState,
    ctx: &PageCtx,
    code: &str,
    outcome: Option<CheckinOutcome>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let venue = service::resolve(state, code)
        .await
        .map_err(|e| ctx.error(e))?;
    // Only companions who consented can be checked in along.
    let companions = service::companions(state, actor)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .filter(|companion| companion.consented)
        .collect();
    let answer = outcome
        .as_ref()
        .map(|o| ctx.t.get(&format!("pass.{}", o.colour)).to_owned())
        .unwrap_or_default();
    Ok(ctx.render(&CheckinPage {
        base: ctx.base("checkin.title"),
        code: code.to_owned(),
        venue: venue.name,
        companions,
        outcome,
        answer,
    }))
}

async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    if ctx.actor.is_none() {
        // Codes are digits, hex and dashes; anything else is not sent on.
        let next = if code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            format!("?next=/v/{code}")
        } else {
            String::new()
        };
        return Ok(ctx.redirect(&format!("/login{next}")));
    }
    page(&state, &ctx, &code, None).await
}

/// The form: `csrf`, and one `companion.<id>` field per companion checked in along.
async fn check_in(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    PageForm(form): PageForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    let request = CheckinRequest {
        venue_code: code.clone(),
        companions: form
            .keys()
            .filter_map(|key| key.strip_prefix("companion."))
            .map(str::to_owned)
            .collect(),
        at: None,
    };
    let outcome = service::check_in_by_code(&state, actor, &request)
        .await
        .map_err(|e| ctx.error(e))?;
    page(&state, &ctx, &code, Some(outcome)).await
}

#[derive(Template)]
#[template(path = "poster.html")]
struct PosterPage {
    base: PageBase,
    venue: String,
    code: String,
    qr_svg: String,
}

/// The printable poster of a venue's code (the venue's staff).
async fn poster(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let venue = service::staff_venue(&state, actor.id(), &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let url = service::code_url(&state, &state.config.public_url(), &venue);
    let qr_svg = crate::web::qr::inline_qr_svg(&url).map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&PosterPage {
        base: ctx.base("poster.title"),
        venue: venue.name.clone(),
        code: service::code_for(&state, &venue),
        qr_svg,
    }))
}

#[derive(Template)]
#[template(path = "checkin_statistics.html")]
struct StatisticsPage {
    base: PageBase,
    date: String,
    k: i64,
    cells: Vec<super::service::DistrictHour>,
}

#[derive(serde::Deserialize)]
struct DateQuery {
    date: Option<String>,
}

/// The operations view: check-ins per district and hour of a day, cells of at least k people.
async fn statistics(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageQuery(query): PageQuery<DateQuery>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let date = query
        .date
        .unwrap_or_else(|| tongban_core::zone::ymd(state.today()));
    let day = time::Date::parse(
        date.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| ctx.error(AppError::invalid("date", "must be YYYY-MM-DD")))?;
    let cells = service::district_hours(&state, actor, day, state.config.statistics_k)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&StatisticsPage {
        base: ctx.base("stats.title"),
        date,
        k: state.config.statistics_k,
        cells,
    }))
}

#[derive(serde::Deserialize)]
struct ApplyForm {
    csrf: String,
    name: String,
    kind: String,
    region_code: String,
    address: String,
    capacity: String,
}

/// A venue operator applies on the scanner page; back there, where the venue now shows.
async fn apply(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<ApplyForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let capacity = form
        .capacity
        .trim()
        .parse()
        .map_err(|_| ctx.error(AppError::invalid("capacity", "must be a whole number")))?;
    let application = service::Application {
        name: form.name,
        kind: form.kind,
        region_code: form.region_code,
        address: form.address,
        capacity,
    };
    service::apply(&state, actor, &application)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect("/scan"))
}

#[derive(serde::Deserialize)]
struct DecisionForm {
    csrf: String,
    decision: String,
}

/// Staff decide on the workbench; back there.
async fn decide(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(form): PageForm<DecisionForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let decision = match form.decision.as_str() {
        "approve" => service::Decision::Approve,
        "refuse" => service::Decision::Refuse,
        "revoke" => service::Decision::Revoke,
        _ => {
            return Err(ctx.error(AppError::invalid("decision", "approve, refuse or revoke")));
        }
    };
    service::decide(&state, actor, &id, decision)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect("/home"))
}

#[derive(serde::Deserialize)]
struct CompanionForm {
    csrf: String,
    name: String,
    resident_id: String,
    relation: String,
}

/// A citizen registers a companion on their home page; back there.
async fn add_companion(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<CompanionForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let new = service::NewCompanion {
        resident_id: form.resident_id,
        name: form.name,
        relation: form.relation,
    };
    service::add_companion(&state, actor, &new)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect("/home"))
}

#[derive(serde::Deserialize)]
struct AnswerForm {
    csrf: String,
    answer: String,
}

/// A companion consents (or declines) on their home page; back there.
async fn answer_companion_request(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(holder): Path<String>,
    PageForm(form): PageForm<AnswerForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let accept = match form.answer.as_str() {
        "accept" => true,
        "decline" => false,
        _ => return Err(ctx.error(AppError::invalid("answer", "accept or decline"))),
    };
    service::answer_companion_request(&state, actor, &holder, accept)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect("/home"))
}

/// The holder's companions without phones (同行人员), and who asks to check them in along, on
/// their home page.
#[derive(Template)]
#[template(path = "companions.html")]
struct CompanionsSection {
    t: crate::web::i18n::Tr,
    csrf: String,
    companions: Vec<Companion>,
    requests: Vec<service::CompanionRequest>,
}

/// Venues awaiting the actor's decision, on the workbench.
#[derive(Template)]
#[template(path = "venues_pending.html")]
struct PendingSection {
    t: crate::web::i18n::Tr,
    csrf: String,
    /// (id, name, kind, region).
    pending_venues: Vec<(String, String, String, String)>,
}

/// The venue sections of a home page: a person's companions, or the venues awaiting the
/// actor's decision (none when nothing waits).
pub async fn home_sections(
    home: crate::module::Home,
    state: &AppState,
    ctx: &crate::module::HomeCtx<'_>,
) -> crate::error::AppResult<Vec<String>> {
    use crate::module::Home;
    let actor = ctx.actor;
    let section = match home {
        Home::Holder if actor.account.person_id.is_some() => CompanionsSection {
            t: ctx.t,
            csrf: ctx.csrf.to_owned(),
            companions: service::companions(state, actor).await?,
            requests: service::companion_requests(state, actor).await?,
        }
        .render(),
        Home::Holder => return Ok(Vec::new()),
        Home::Workbench => {
            let pending_venues: Vec<_> = service::pending_for(state, actor)
                .await?
                .into_iter()
                .map(|v| (v.id, v.name, v.kind, v.region_code))
                .collect();
            if pending_venues.is_empty() {
                return Ok(Vec::new());
            }
            PendingSection {
                t: ctx.t,
                csrf: ctx.csrf.to_owned(),
                pending_venues,
            }
            .render()
        }
    };
    Ok(vec![section.map_err(|e| AppError::Internal(e.into()))?])
}
