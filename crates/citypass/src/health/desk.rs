//! The health officer's desk (`/health`): record a health fact, ask for a manual colour, ask
//! for a contact match, answer people's correction and review requests, and read the policy in
//! force. Everything that changes a person's colour still waits for a second officer, on the
//! inbox page (`/health/approvals`).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::service::{self, NewFact, OVERRIDE_REASONS};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::{PageForm, PageQuery};
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(desk))
        .route("/health/facts", post(record_fact))
        .route("/health/overrides", post(request_override))
        .route("/health/contacts", post(request_match))
        .route("/health/contacts/{id}/run", post(run_match))
        .route("/health/contacts/designate", post(designate))
        .route("/health/emergency", post(propose_emergency))
        .route("/health/requests/{id}/resolve", post(resolve))
}

/// What may be recorded on the page: (kind, value, text key). A risk area (a region code) is
/// recorded through the API.
const OBSERVATIONS: [(&str, &str, &str); 10] = [
    ("test_result", "positive", "desk.obs.positive"),
    ("test_result", "negative", "desk.obs.negative"),
    ("vaccination", "dose_1", "desk.obs.dose_1"),
    ("vaccination", "dose_2", "desk.obs.dose_2"),
    ("vaccination", "dose_3", "desk.obs.dose_3"),
    ("vaccination", "booster", "desk.obs.booster"),
    ("recovery", "recovered", "desk.obs.recovered"),
    ("quarantine_order", "home", "desk.obs.home"),
    ("quarantine_order", "centralised", "desk.obs.centralised"),
    (
        "contact_designation",
        "close_contact",
        "desk.obs.close_contact",
    ),
];

#[derive(Template)]
#[template(path = "health_desk.html")]
struct DeskPage {
    base: PageBase,
    /// What the last step did, or why it was refused.
    notice: Option<String>,
    refused: Option<String>,
    observations: Vec<(String, &'static str)>,
    reasons: Vec<(&'static str, &'static str)>,
    requests: Vec<service::RequestView>,
    /// Approved contact matches this officer may run: (id, purpose, period).
    runnable: Vec<(String, String, String)>,
    policy_version: Option<i64>,
    emergency: bool,
    /// Today in the region's zone, for the date inputs.
    today: String,
}

#[derive(Deserialize, Default)]
struct DeskQuery {
    done: Option<String>,
}

/// The officer's desk: only for health officers.
async fn desk(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageQuery(query): PageQuery<DeskQuery>,
) -> Result<Response, PageError> {
    let notice = query
        .done
        .as_deref()
        .filter(|done| DONE.contains(done))
        .map(|done| ctx.t.get(&format!("desk.done.{done}")).to_owned());
    render(&state, &ctx, notice, None).await
}

/// The results a step may come back with (`?done=`).
const DONE: [&str; 8] = [
    "policy",
    "fact_in_force",
    "fact_pending",
    "override",
    "match",
    "resolved",
    "designated",
    "emergency",
];

async fn render(
    state: &AppState,
    ctx: &PageCtx,
    notice: Option<String>,
    refused: Option<String>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    if !super::approvals::is_health_officer(actor) {
        return Err(ctx.error(AppError::Forbidden));
    }
    let english = ctx.t.lang() == "en";
    let mut requests = service::open_requests(state, actor)
        .await
        .map_err(|e| ctx.error(e))?;
    for request in &mut requests {
        request.created_at = state.zone().display_rfc3339(&request.created_at);
    }
    let policy = super::store::active_policy(state.pool())
        .await
        .map_err(|e| ctx.error(e))?;
    let zone = state.zone();
    let runnable = crate::checkins::contacts::runnable_requests(state, actor)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .map(|r| {
            let (from, to) = r.period;
            let last = zone.date_of(to - 1);
            let period = format!(
                "{} – {}",
                tongban_core::zone::ymd(zone.date_of(from)),
                tongban_core::zone::ymd(last)
            );
            (r.id, r.purpose, period)
        })
        .collect();
    let page = DeskPage {
        runnable,
        base: ctx.base("desk.title"),
        notice,
        refused,
        observations: OBSERVATIONS
            .iter()
            .map(|(kind, value, key)| (format!("{kind}:{value}"), *key))
            .collect(),
        reasons: OVERRIDE_REASONS
            .iter()
            .map(|(code, zh, en)| (*code, if english { *en } else { *zh }))
            .collect(),
        requests,
        policy_version: policy.map(|p| p.version),
        emergency: service::emergency(state).await.map_err(|e| ctx.error(e))?,
        today: tongban_core::zone::ymd(state.today()),
    };
    Ok(ctx.render(&page))
}

/// A refusal a person can act on comes back on the desk with its reason; others are errors.
async fn refused(state: &AppState, ctx: &PageCtx, error: AppError) -> Result<Response, PageError> {
    let reason = match &error {
        AppError::Invalid { field, reason } => format!("{field}: {reason}"),
        AppError::Conflict(text) | AppError::BadRequest(text) => text.clone(),
        AppError::NotFound => ctx.t.get("desk.no_person").to_owned(),
        _ => return Err(ctx.error(error)),
    };
    let message = format!(
        "{} {reason}",
        ctx.t.get(&format!("problem.{}", error.slug()))
    );
    render(state, ctx, None, Some(message)).await
}

/// A date and time typed in the region's zone (`YYYY-MM-DDTHH:MM`, as a browser's
/// datetime-local input sends it), as Unix milliseconds.
fn local_time(state: &AppState, text: &str) -> Option<i64> {
    let (day, time) = text.trim().split_once('T')?;
    let day = tongban_core::zone::parse_ymd(day)?;
    let (hour, minute) = time.split_once(':')?;
    let (hour, minute): (i64, i64) = (hour.parse().ok()?, minute.get(..2)?.parse().ok()?);
    ((0..24).contains(&hour) && (0..60).contains(&minute))
        .then(|| state.zone().start_of(day) + (hour * 60 + minute) * 60_000)
}

#[derive(Deserialize)]
struct FactForm {
    csrf: String,
    resident_id: String,
    observation: String,
    observed_at: String,
    legal_basis: String,
    #[serde(default)]
    evidence_ref: String,
}

async fn record_fact(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<FactForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let fact = (|| {
        let resident_id = form
            .resident_id
            .trim()
            .parse()
            .map_err(|e| AppError::invalid("resident_id", e))?;
        let (kind, value) = form
            .observation
            .split_once(':')
            .ok_or_else(|| AppError::invalid("observation", "choose what was observed"))?;
        let observed_at = local_time(&state, &form.observed_at)
            .ok_or_else(|| AppError::invalid("observed_at", "a date and time"))?;
        Ok(NewFact {
            resident_id,
            kind: kind.to_owned(),
            value: value.to_owned(),
            observed_at,
            legal_basis: form.legal_basis.clone(),
            evidence_ref: Some(form.evidence_ref.trim().to_owned()).filter(|e| !e.is_empty()),
        })
    })();
    let recorded = match fact {
        Ok(fact) => service::record_fact(&state, actor, fact).await,
        Err(error) => Err(error),
    };
    match recorded {
        Ok(fact) if fact.in_force => Ok(ctx.redirect("/health?done=fact_in_force")),
        Ok(_) => Ok(ctx.redirect("/health?done=fact_pending")),
        Err(error) => refused(&state, &ctx, error).await,
    }
}

#[derive(Deserialize)]
struct OverrideForm {
    csrf: String,
    resident_id: String,
    colour: String,
    reason_code: String,
    /// The last day the colour holds (`YYYY-MM-DD`, in the region's zone).
    until: String,
}

async fn request_override(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<OverrideForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let asked = async {
        let resident_id = form
            .resident_id
            .trim()
            .parse()
            .map_err(|e| AppError::invalid("resident_id", e))?;
        let until = tongban_core::zone::parse_ymd(form.until.trim())
            .and_then(|day| day.next_day())
            .ok_or_else(|| AppError::invalid("until", "a date"))?;
        let expires = state.zone().start_of(until) - 1;
        service::request_override(
            &state,
            actor,
            &resident_id,
            &form.colour,
            &form.reason_code,
            expires,
        )
        .await
    }
    .await;
    match asked {
        Ok(_) => Ok(ctx.redirect("/health?done=override")),
        Err(error) => refused(&state, &ctx, error).await,
    }
}

#[derive(Deserialize)]
struct MatchForm {
    csrf: String,
    resident_id: String,
    from: String,
    to: String,
    #[serde(default)]
    dwell_minutes: String,
    purpose: String,
}

async fn request_match(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<MatchForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let zone = state.zone();
    let day = |text: &str, field: &'static str| {
        tongban_core::zone::parse_ymd(text.trim()).ok_or(AppError::invalid(field, "a date"))
    };
    let asked = async {
        let from = zone.start_of(day(&form.from, "from")?);
        let to = day(&form.to, "to")?
            .next_day()
            .map(|d| zone.start_of(d))
            .ok_or(AppError::invalid("to", "a date"))?;
        let dwell = match form.dwell_minutes.trim() {
            "" => None,
            text => Some(
                text.parse()
                    .map_err(|_| AppError::invalid("dwell_minutes", "minutes, 5 to 240"))?,
            ),
        };
        let request = crate::checkins::contacts::MatchRequest {
            resident_id: form.resident_id.clone(),
            from: crate::time_fmt::rfc3339(from),
            to: crate::time_fmt::rfc3339(to),
            dwell_minutes: dwell,
            purpose: form.purpose.clone(),
        };
        crate::checkins::contacts::request_match(&state, actor, &request).await
    }
    .await;
    match asked {
        Ok(_) => Ok(ctx.redirect("/health?done=match")),
        Err(error) => refused(&state, &ctx, error).await,
    }
}

#[derive(Deserialize)]
struct ResolveForm {
    csrf: String,
    outcome: String,
}

async fn resolve(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(form): PageForm<ResolveForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    match service::resolve_request(&state, actor, &id, &form.outcome).await {
        Ok(()) => Ok(ctx.redirect("/health?done=resolved")),
        Err(error) => refused(&state, &ctx, error).await,
    }
}

/// A match's contacts, for the officer to judge: each row a reference (no name), when they
/// overlapped and for how long; the ones ticked are designated, each waiting for a second
/// officer's confirmation.
#[derive(Template)]
#[template(path = "health_contacts.html")]
struct ContactsPage {
    base: PageBase,
    case_visits: usize,
    /// (reference, first overlap as local time, minutes, shared visits, a visitor).
    contacts: Vec<(String, String, i64, u32, bool)>,
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn run_match(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(form): PageForm<CsrfForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let found = match crate::checkins::contacts::run_match(&state, actor, &id).await {
        Ok(found) => found,
        Err(error) => return refused(&state, &ctx, error).await,
    };
    let contacts = found
        .contacts
        .into_iter()
        .map(|c| {
            (
                c.reference,
                state.zone().display_rfc3339(&c.first_overlap_at),
                c.overlap_minutes,
                c.shared_visits,
                c.visitor,
            )
        })
        .collect();
    Ok(ctx.render(&ContactsPage {
        base: ctx.base("desk.contacts"),
        case_visits: found.case_visits,
        contacts,
    }))
}

async fn designate(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    let mut references: Vec<String> = form
        .iter()
        .filter(|(key, _)| key.starts_with("contact."))
        .map(|(_, reference)| reference.clone())
        .collect();
    references.sort();
    let request = crate::checkins::contacts::ConfirmRequest {
        references,
        legal_basis: form.get("legal_basis").cloned().unwrap_or_default(),
    };
    match crate::checkins::contacts::confirm(&state, actor, &request).await {
        Ok(_) => Ok(ctx.redirect("/health?done=designated")),
        Err(error) => refused(&state, &ctx, error).await,
    }
}

#[derive(Deserialize)]
struct EmergencyForm {
    csrf: String,
    /// `on` or `off`.
    mode: String,
}

/// Proposes switching the emergency mode; a second officer approves it in the inbox.
async fn propose_emergency(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<EmergencyForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let on = match form.mode.as_str() {
        "on" => true,
        "off" => false,
        _ => return refused(&state, &ctx, AppError::invalid("mode", "on or off")).await,
    };
    match service::propose_control(&state, actor, service::Control::Emergency(on)).await {
        Ok(_) => Ok(ctx.redirect("/health?done=emergency")),
        Err(error) => refused(&state, &ctx, error).await,
    }
}
