//! Use-cases of health status: recording facts, computing a person's colour with its
//! explanation, and publishing policies with two approvers. Every fact recorded and every
//! policy published is a decision the transparency log records.

use serde::Serialize;
use serde_json::{Map, Value as Json, json};
use tongban_core::ResidentId;

use super::policy::{self, StatusRule, Verdict};
use super::store::{self, FactRow};
use crate::authz::{Action, Resource, can};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::identity::personal;
use crate::random;
use crate::state::AppState;
use crate::time_fmt::rfc3339;

pub const DAY_MS: i64 = 86_400_000;
/// How long a fact is kept before it is purged.
pub const FACT_RETENTION_DAYS: i64 = 28;
const EMERGENCY: &str = "health.emergency";
/// Days after a positive test in which a fact lowering risk needs a second officer, unless a
/// policy sets otherwise.
pub const DEFAULT_POSITIVE_HOLD_DAYS: i64 = 7;
/// How long a proposed switch of the emergency mode waits for its second approver.
const PROPOSAL_LIFETIME_MS: i64 = DAY_MS;

/// A fact as a health source records it.
pub struct NewFact {
    pub resident_id: ResidentId,
    pub kind: String,
    pub value: String,
    /// Unix milliseconds.
    pub observed_at: i64,
    pub legal_basis: String,
    /// The laboratory's sample or report number, from a health source.
    pub evidence_ref: Option<String>,
}

/// A fact as recorded: in force at once, or waiting for a second officer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordedFact {
    pub id: String,
    /// False while the fact waits for a second officer's confirmation; no colour reads it.
    pub in_force: bool,
}

#[derive(Serialize)]
struct DecisionEntry<'a> {
    kind: &'a str,
    at: String,
    actor: &'a str,
    role: &'a str,
    department: Option<&'a str>,
    subject: Option<String>,
    detail: Json,
}

async fn log_decision(
    state: &AppState,
    actor_id: &str,
    role: &str,
    department: Option<&str>,
    kind: &str,
    subject: Option<String>,
    detail: Json,
) -> AppResult<u64> {
    let entry = DecisionEntry {
        kind,
        at: rfc3339(state.now()),
        actor: actor_id,
        role,
        department,
        subject,
        detail,
    };
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)
}

fn valid_value(kind: &str, value: &str) -> AppResult<()> {
    if !policy::FACT_KINDS.contains(&kind) {
        return Err(AppError::invalid(
            "kind",
            format!("must be one of {}", policy::FACT_KINDS.join(", ")),
        ));
    }
    if policy::value_allowed(kind, value) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "value",
            "not a value of this kind's code list (test_result: positive, negative; \
             vaccination: dose_1, dose_2, dose_3, booster; recovery: recovered; \
             quarantine_order: home, centralised; contact_designation: close_contact, \
             secondary_contact; risk_area: a region code)",
        ))
    }
}

/// The person with this ID number, when the actor is a health officer whose scope covers them.
async fn person_in_reach(
    state: &AppState,
    actor: &Actor,
    resident_id: &ResidentId,
) -> AppResult<String> {
    let person_id = personal::person_id_by_resident_id(state, resident_id)
        .await?
        .ok_or(AppError::NotFound)?;
    ensure_health_reach(state, actor, &person_id).await?;
    Ok(person_id)
}

/// Whether the actor is a health officer whose reach covers the person (false for no such
/// person).
pub async fn in_health_reach(state: &AppState, actor: &Actor, person_id: &str) -> AppResult<bool> {
    Ok(personal::person_region(state, person_id)
        .await?
        .is_some_and(|region| {
            can(
                actor,
                Action::RecordHealthFact,
                Resource::Person {
                    id: person_id,
                    region: &region,
                },
            )
        }))
}

/// Forbidden unless the actor is a health officer whose reach covers the person; not found
/// when there is no such person.
pub async fn ensure_health_reach(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
) -> AppResult<()> {
    if in_health_reach(state, actor, person_id).await? {
        return Ok(());
    }
    match personal::person_region(state, person_id).await? {
        Some(_) => Err(AppError::Forbidden),
        None => Err(AppError::NotFound),
    }
}

/// The legal basis a health decision names, trimmed: 1–200 characters.
fn legal_basis_of(text: &str) -> AppResult<&str> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 200 {
        return Err(AppError::invalid(
            "legal_basis",
            "must name the legal basis (1–200 characters)",
        ));
    }
    Ok(text)
}

/// A fact that lowers risk: it could lift a positive.
fn lowers_risk(kind: &str, value: &str) -> bool {
    matches!(
        (kind, value),
        ("test_result", "negative") | ("recovery", "recovered")
    )
}

/// The evidence reference a health source gives, trimmed: 1–64 printable characters.
fn evidence_of(text: Option<&str>) -> AppResult<Option<String>> {
    let Some(text) = text.map(str::trim) else {
        return Ok(None);
    };
    if text.is_empty() || text.chars().count() > 64 || text.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "evidence_ref",
            "must be the sample or report number (1–64 characters)",
        ));
    }
    Ok(Some(text.to_owned()))
}

/// Whether the person had a positive test, in force, within the policy's hold window.
async fn recent_positive(state: &AppState, person_id: &str) -> AppResult<bool> {
    let now = state.now();
    let hold_days = inputs(state).await?.positive_hold_days;
    let holder = crate::health::inputs::holder(state, person_id).await?;
    Ok(holder.facts_at(now).any(|fact| {
        fact.kind == "test_result"
            && fact.value == "positive"
            && fact.observed_at > now - hold_days * DAY_MS
    }))
}

/// Whether the person is a confirmed case: a positive test in force.
pub async fn is_confirmed_case(state: &AppState, person_id: &str) -> AppResult<bool> {
    let now = state.now();
    let holder = crate::health::inputs::holder(state, person_id).await?;
    Ok(holder
        .facts_at(now)
        .any(|fact| fact.kind == "test_result" && fact.value == "positive"))
}

/// Records a fact about a person (a health officer whose scope covers them). It is in force
/// at once only when it comes from a health source (a laboratory or hospital department) with
/// the evidence it rests on, and does not lift a positive within the policy's hold window;
/// otherwise it waits for a second officer ([`confirm_fact`]).
pub async fn record_fact(
    state: &AppState,
    actor: &Actor,
    fact: NewFact,
) -> AppResult<RecordedFact> {
    valid_value(&fact.kind, &fact.value)?;
    let legal_basis = legal_basis_of(&fact.legal_basis)?;
    let evidence = evidence_of(fact.evidence_ref.as_deref())?;
    let now = state.now();
    if fact.observed_at > now + 5 * 60_000 || fact.observed_at < now - 365 * DAY_MS {
        return Err(AppError::invalid(
            "observed_at",
            "must lie within the past year and not in the future",
        ));
    }
    let person_id = person_in_reach(state, actor, &fact.resident_id).await?;
    let from_source = match (&actor.account.department_id, &evidence) {
        (Some(department), Some(_)) => store::health_source(state.pool(), department)
            .await?
            .is_some(),
        _ => false,
    };
    let in_force = from_source
        && !(lowers_risk(&fact.kind, &fact.value) && recent_positive(state, &person_id).await?);
    let id = store_fact(
        state,
        actor,
        person_id,
        (fact.kind, fact.value, fact.observed_at),
        (legal_basis, evidence),
        in_force,
    )
    .await?;
    Ok(RecordedFact { id, in_force })
}

/// Records that a person is a contact of a case, as an officer judged it after reviewing an
/// approved contact match. It takes effect only when a second officer confirms it.
/// `observed_at` is when the contact happened.
pub async fn record_contact_designation(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
    observed_at: i64,
    legal_basis: &str,
) -> AppResult<String> {
    ensure_health_reach(state, actor, person_id).await?;
    let legal_basis = legal_basis_of(legal_basis)?;
    // The fact names no one else: neither the case nor the venue.
    let fact = (
        "contact_designation".into(),
        "close_contact".into(),
        observed_at,
    );
    store_fact(
        state,
        actor,
        person_id.to_owned(),
        fact,
        (legal_basis, None),
        false,
    )
    .await
}

async fn store_fact(
    state: &AppState,
    actor: &Actor,
    person_id: String,
    (kind, value, observed_at): (String, String, i64),
    (legal_basis, evidence_ref): (&str, Option<String>),
    in_force: bool,
) -> AppResult<String> {
    let now = state.now();
    let id = random::new_id();
    let detail = json!({"fact": id, "fact_kind": kind, "observed_at": rfc3339(observed_at), "legal_basis": legal_basis, "in_force": in_force});
    let subject = Some(state.vault.subject_commitment(&person_id));
    log_decision(
        state,
        actor.id(),
        actor.primary_role().as_str(),
        actor.account.department_id.as_deref(),
        "health_fact_recorded",
        subject,
        detail,
    )
    .await?;
    let row = FactRow {
        value_sealed: state
            .vault
            .seal_field(&format!("health_facts.value/{id}"), value.as_bytes()),
        id: id.clone(),
        person_id,
        kind,
        observed_at,
        legal_basis: legal_basis.to_owned(),
        department_id: actor.account.department_id.clone(),
        recorded_by: actor.id().to_owned(),
        recorded_at: now,
        expires_at: observed_at + FACT_RETENTION_DAYS * DAY_MS,
        evidence_ref,
        confirmed_by: in_force.then(|| actor.id().to_owned()),
    };
    store::insert_fact(state.pool(), &row).await?;
    if in_force {
        crate::health::inputs::person_changed(state, &row.person_id).await;
    }
    Ok(id)
}

/// The second officer's confirmation of a pending fact: a health officer whose scope covers
/// the person, not the one who recorded it. From then on the fact is in force.
pub async fn confirm_fact(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    let fact = store::fact_by_id(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    ensure_health_reach(state, actor, &fact.person_id).await?;
    if fact.confirmed_by.is_some() {
        return Err(AppError::Conflict("this fact is in force already".into()));
    }
    if fact.recorded_by == actor.id() {
        return Err(AppError::Conflict(
            "a fact needs a second officer, not the one who recorded it".into(),
        ));
    }
    let subject = Some(state.vault.subject_commitment(&fact.person_id));
    log_decision(
        state,
        actor.id(),
        actor.primary_role().as_str(),
        actor.account.department_id.as_deref(),
        "health_fact_confirmed",
        subject,
        json!({"fact": id, "fact_kind": fact.kind}),
    )
    .await?;
    if !store::confirm_fact(state.pool(), id, actor.id(), state.now()).await? {
        return Err(AppError::Conflict(
            "the fact was confirmed meanwhile or its retention ended".into(),
        ));
    }
    crate::health::inputs::person_changed(state, &fact.person_id).await;
    Ok(())
}

/// A negative test result two days old for a synthetic holder of the load-test fixture
/// (`tongban demo --load-holders`), recorded by the operator. Not logged: the holder is no
/// person, and thousands of them would fill the log with nothing.
pub async fn seed_load_test_result(state: &AppState, person_id: &str) -> AppResult<()> {
    let (id, now) = (random::new_id(), state.now());
    let observed_at = now - 2 * DAY_MS;
    let row = FactRow {
        value_sealed: state
            .vault
            .seal_field(&format!("health_facts.value/{id}"), b"negative"),
        id,
        person_id: person_id.to_owned(),
        kind: "test_result".into(),
        observed_at,
        legal_basis: "load test".into(),
        department_id: None,
        recorded_by: "operator".into(),
        recorded_at: now,
        expires_at: observed_at + FACT_RETENTION_DAYS * DAY_MS,
        evidence_ref: None,
        confirmed_by: Some("operator".into()),
    };
    store::insert_fact(state.pool(), &row).await?;
    crate::health::inputs::person_changed(state, person_id).await;
    Ok(())
}

/// How long notices, and answered correction and review requests, are kept.
pub const NOTICE_RETENTION_DAYS: i64 = 180;

/// Deletes notices, and requests answered, longer ago than their retention; returns how many.
pub async fn purge_old_notices_and_requests(state: &AppState) -> AppResult<u64> {
    let before = state.now() - NOTICE_RETENTION_DAYS * DAY_MS;
    store::purge_notices_and_requests(state.pool(), before).await
}

/// Deletes the facts whose retention has ended, and logs how many (never which).
pub async fn purge_expired_facts(state: &AppState) -> AppResult<u64> {
    let now = state.now();
    let purged = store::purge_facts(state.pool(), now).await?;
    if purged > 0 {
        crate::health::inputs::holders_changed(state).await;
        log_decision(
            state,
            "operator",
            "system",
            None,
            "health_facts_purged",
            None,
            json!({"count": purged, "retention_days": FACT_RETENTION_DAYS, "ended_before": rfc3339(now)}),
        )
        .await?;
    }
    Ok(purged)
}

/// Whether the public-health emergency mode is on (colours shown) or off (service pass only).
pub async fn emergency(state: &AppState) -> AppResult<bool> {
    Ok(inputs(state).await?.emergency)
}

/// What every status computation needs besides the person's own facts: the emergency switch
/// and the policy in force. Kept per node for a second (the pass is a hot path); a change made
/// on this node clears it at once, one made on another node shows within the second and the
/// time one reading takes.
pub struct StatusInputs {
    emergency: bool,
    policy: Option<(i64, Vec<StatusRule>)>,
    /// Of the policy in force (7 days with none).
    positive_hold_days: i64,
}

/// The per-node cache of [`StatusInputs`]: past its second it is read again in the
/// background while the one held answers (see [`tongban_platform::refreshing`]), for at most
/// [`STATUS_STALE_LIMIT_MS`] when the database cannot be read.
pub struct StatusCache(
    std::sync::Arc<tongban_platform::refreshing::Refreshing<std::sync::Arc<StatusInputs>>>,
);

impl Default for StatusCache {
    fn default() -> StatusCache {
        StatusCache(std::sync::Arc::new(
            tongban_platform::refreshing::Refreshing::new(STATUS_CACHE_MS, STATUS_STALE_LIMIT_MS),
        ))
    }
}

const STATUS_CACHE_MS: i64 = 1000;
const STATUS_STALE_LIMIT_MS: i64 = 30_000;

async fn inputs(state: &AppState) -> AppResult<std::sync::Arc<StatusInputs>> {
    let reading = {
        let state = state.clone();
        move || async move { read_inputs(&state).await }
    };
    state
        .module::<StatusCache>()
        .0
        .get("", state.now(), reading)
        .await
}

async fn read_inputs(state: &AppState) -> AppResult<std::sync::Arc<StatusInputs>> {
    let emergency = store::setting(state.pool(), EMERGENCY).await?.as_deref() == Some("on");
    let (policy, positive_hold_days) = match store::active_policy(state.pool()).await? {
        Some(row) => (
            Some((
                row.version,
                serde_json::from_str(&row.rules).map_err(|e| AppError::Internal(e.into()))?,
            )),
            row.positive_hold_days,
        ),
        None => (None, DEFAULT_POSITIVE_HOLD_DAYS),
    };
    Ok(std::sync::Arc::new(StatusInputs {
        emergency,
        policy,
        positive_hold_days,
    }))
}

fn forget_inputs(state: &AppState) {
    state.module::<StatusCache>().0.forget();
}

/// The region the deployment serves: the emergency switch and the status policy cover it.
fn deployment_region(state: &AppState) -> AppResult<tongban_core::RegionCode> {
    state
        .config
        .region_code
        .parse()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("the configured region_code: {e}")))
}

/// Forbidden unless the actor is of the deployment's health authority: a health officer whose
/// scope covers the whole region the deployment serves (never a district's officer).
pub fn ensure_health_authority(state: &AppState, actor: &Actor) -> AppResult<()> {
    let region = deployment_region(state)?;
    if can(actor, Action::ManageHealthPolicy, Resource::Region(&region)) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Switches the emergency mode at once: for the operator (the command line, a new
/// deployment), never for an officer alone — officers propose and approve.
pub async fn set_emergency_as_operator(state: &AppState, on: bool) -> AppResult<()> {
    apply_emergency(state, "operator", on).await
}

async fn apply_emergency(state: &AppState, by: &str, on: bool) -> AppResult<()> {
    log_decision(
        state,
        by,
        "health_officer",
        None,
        "emergency_mode",
        None,
        json!({"on": on}),
    )
    .await?;
    store::set_setting(
        state.pool(),
        EMERGENCY,
        if on { "on" } else { "off" },
        by,
        state.now(),
    )
    .await?;
    forget_inputs(state);
    Ok(())
}

/// A city-wide health control, changed only by two officers of the health authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// The public-health emergency mode on or off.
    Emergency(bool),
    /// A department designated as a health source (`laboratory`, `hospital`), or no longer.
    Source {
        department_id: String,
        kind: Option<String>,
    },
}

const SOURCE_PREFIX: &str = "health.source/";
/// The kinds of health source.
pub const SOURCE_KINDS: [&str; 2] = ["laboratory", "hospital"];

impl Control {
    fn to_setting(&self) -> (String, String) {
        match self {
            Control::Emergency(on) => (EMERGENCY.into(), if *on { "on" } else { "off" }.into()),
            Control::Source {
                department_id,
                kind,
            } => (
                format!("{SOURCE_PREFIX}{department_id}"),
                kind.clone().unwrap_or_else(|| "none".into()),
            ),
        }
    }

    pub fn from_setting(name: &str, value: &str) -> Option<Control> {
        if name == EMERGENCY {
            return Some(Control::Emergency(value == "on"));
        }
        let department_id = name.strip_prefix(SOURCE_PREFIX)?;
        Some(Control::Source {
            department_id: department_id.to_owned(),
            kind: SOURCE_KINDS.contains(&value).then(|| value.to_owned()),
        })
    }
}

/// Proposes a change of a city-wide control (the health authority); a second officer of the
/// authority approves it within a day ([`approve_control`]).
pub async fn propose_control(
    state: &AppState,
    actor: &Actor,
    control: Control,
) -> AppResult<String> {
    ensure_health_authority(state, actor)?;
    if let Control::Source {
        department_id,
        kind,
    } = &control
    {
        if kind
            .as_deref()
            .is_some_and(|kind| !SOURCE_KINDS.contains(&kind))
        {
            return Err(AppError::invalid("kind", "must be laboratory or hospital"));
        }
        crate::admin::directory::department(state, department_id)
            .await?
            .ok_or(AppError::NotFound)?;
    }
    let id = random::new_id();
    let (name, value) = control.to_setting();
    log_decision(
        state,
        actor.id(),
        "health_officer",
        actor.account.department_id.as_deref(),
        "health_control_proposed",
        None,
        json!({"proposal": id, "control": name, "value": value}),
    )
    .await?;
    let row = store::SettingProposal {
        id: id.clone(),
        name,
        value,
        proposed_by: actor.id().into(),
        proposed_at: state.now(),
    };
    store::insert_setting_proposal(state.pool(), &row).await?;
    Ok(id)
}

/// The second approval of a change of a city-wide control, which then takes effect.
pub async fn approve_control(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    ensure_health_authority(state, actor)?;
    let proposal = store::setting_proposal(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let control =
        Control::from_setting(&proposal.name, &proposal.value).ok_or(AppError::NotFound)?;
    if proposal.proposed_by == actor.id() {
        return Err(AppError::Conflict(
            "a change needs a second approver, not its proposer".into(),
        ));
    }
    let now = state.now();
    if !store::approve_setting_proposal(
        state.pool(),
        id,
        actor.id(),
        now,
        now - PROPOSAL_LIFETIME_MS,
    )
    .await?
    {
        return Err(AppError::Conflict(
            "the proposal is approved already or older than a day".into(),
        ));
    }
    let applied = match control {
        Control::Emergency(on) => apply_emergency(state, actor.id(), on).await,
        Control::Source {
            department_id,
            kind,
        } => apply_source(state, actor, id, &department_id, kind.as_deref(), now).await,
    };
    if applied.is_err() {
        // Not made (the log unavailable, say): the proposal is open again.
        store::reopen_setting_proposal(state.pool(), id).await?;
    }
    applied
}

async fn apply_source(
    state: &AppState,
    actor: &Actor,
    proposal: &str,
    department_id: &str,
    kind: Option<&str>,
    now: i64,
) -> AppResult<()> {
    log_decision(
        state,
        actor.id(),
        "health_officer",
        actor.account.department_id.as_deref(),
        "health_source_designated",
        None,
        json!({"proposal": proposal, "department": department_id, "kind": kind}),
    )
    .await?;
    match kind {
        Some(kind) => {
            store::designate_source(state.pool(), department_id, kind, actor.id(), now).await
        }
        None => store::remove_source(state.pool(), department_id).await,
    }
}

/// Designates a health source at once: for a new deployment or the demo (the operator).
pub async fn designate_source_as_operator(
    state: &AppState,
    department_id: &str,
    kind: &str,
) -> AppResult<()> {
    store::designate_source(state.pool(), department_id, kind, "operator", state.now()).await
}

/// Open proposals of city-wide controls, for the authority's inbox.
pub async fn pending_controls(
    state: &AppState,
    actor: &Actor,
) -> AppResult<Vec<(store::SettingProposal, Control)>> {
    if ensure_health_authority(state, actor).is_err() {
        return Ok(Vec::new());
    }
    Ok(
        store::pending_setting_proposals(state.pool(), state.now() - PROPOSAL_LIFETIME_MS)
            .await?
            .into_iter()
            .filter_map(|row| {
                let control = Control::from_setting(&row.name, &row.value)?;
                Some((row, control))
            })
            .collect(),
    )
}

/// A person's status: the colour, the policy version, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Status {
    /// `green`, `yellow`, `red`, or `service_only` when the emergency mode is off.
    pub colour: String,
    pub policy_version: Option<i64>,
    pub verdict: Option<Verdict>,
    /// References (ids) of the facts the firing rule read.
    pub fact_refs: Vec<String>,
}

/// Computes a person's status now. The facts are opened inside; only the colour and the
/// explanation leave.
pub async fn status_of(state: &AppState, person_id: &str) -> AppResult<Status> {
    let inputs = inputs(state).await?;
    if !inputs.emergency {
        return Ok(Status {
            colour: "service_only".into(),
            policy_version: None,
            verdict: None,
            fact_refs: Vec::new(),
        });
    }
    let now = state.now();
    let holder = crate::health::inputs::holder(state, person_id).await?;
    if let Some(manual) = holder.override_at(now) {
        let (_, zh, en) = OVERRIDE_REASONS
            .iter()
            .find(|(code, _, _)| *code == manual.reason_code)
            .copied()
            .unwrap_or(("", "", ""));
        let verdict = Verdict {
            colour: manual.colour.clone(),
            rule: Some(format!("override:{}", manual.reason_code)),
            reason_zh: format!("经两名工作人员人工调整：{zh}。"),
            reason_en: format!("Set by hand by two officers: {en}."),
            facts_used: Vec::new(),
        };
        return Ok(Status {
            colour: manual.colour.clone(),
            policy_version: None,
            verdict: Some(verdict),
            fact_refs: vec![manual.id.clone()],
        });
    }
    let Some((version, rules)) = inputs.policy.as_ref() else {
        return Ok(Status {
            colour: "green".into(),
            policy_version: None,
            verdict: None,
            fact_refs: Vec::new(),
        });
    };
    // The latest fact of each kind.
    let mut latest: Map<String, Json> = Map::new();
    let mut ids: Vec<(String, String)> = Vec::new();
    for fact in holder.facts_at(now) {
        latest.insert(
            fact.kind.clone(),
            json!({"value": fact.value, "observed_at": rfc3339(fact.observed_at)}),
        );
        ids.retain(|(kind, _)| kind != &fact.kind);
        ids.push((fact.kind.clone(), fact.id.clone()));
    }
    let verdict = policy::apply(rules, &Json::Object(latest), &rfc3339(now));
    let fact_refs = ids
        .into_iter()
        .filter(|(kind, _)| verdict.facts_used.contains(kind))
        .map(|(_, id)| id)
        .collect();
    Ok(Status {
        colour: verdict.colour.clone(),
        policy_version: Some(*version),
        verdict: Some(verdict),
        fact_refs,
    })
}

/// Proposes a new policy version; it takes effect when another health officer approves it.
pub async fn propose_policy(
    state: &AppState,
    actor: &Actor,
    rules: Vec<StatusRule>,
    positive_hold_days: Option<i64>,
) -> AppResult<i64> {
    ensure_health_authority(state, actor)?;
    policy::compile(&rules).map_err(|e| AppError::invalid("rules", e))?;
    let hold_days = positive_hold_days.unwrap_or(DEFAULT_POSITIVE_HOLD_DAYS);
    if !(1..=FACT_RETENTION_DAYS).contains(&hold_days) {
        return Err(AppError::invalid(
            "positive_hold_days",
            "must lie between 1 and 28 days",
        ));
    }
    let text = serde_json::to_string(&rules).map_err(|e| AppError::Internal(e.into()))?;
    let version = store::insert_policy(
        state.pool(),
        &text,
        hold_days,
        actor.id(),
        None,
        state.now(),
    )
    .await?;
    log_decision(
        state,
        actor.id(),
        "health_officer",
        actor.account.department_id.as_deref(),
        "policy_proposed",
        None,
        json!({"version": version}),
    )
    .await?;
    Ok(version)
}

/// Approves a proposed policy: a second, different health officer.
pub async fn approve_policy(state: &AppState, actor: &Actor, version: i64) -> AppResult<()> {
    ensure_health_authority(state, actor)?;
    let proposal = store::policy(state.pool(), version)
        .await?
        .ok_or(AppError::NotFound)?;
    if proposal.approved_by.is_some() {
        return Err(AppError::Conflict(
            "this version is already in force".into(),
        ));
    }
    if proposal.proposed_by == actor.id() {
        return Err(AppError::Conflict(
            "a policy needs a second approver, not its proposer".into(),
        ));
    }
    log_decision(
        state,
        actor.id(),
        "health_officer",
        actor.account.department_id.as_deref(),
        "policy_published",
        None,
        json!({"version": version}),
    )
    .await?;
    if !store::approve_policy(state.pool(), version, actor.id(), state.now()).await? {
        return Err(AppError::Conflict("the proposal changed meanwhile".into()));
    }
    forget_inputs(state);
    Ok(())
}

/// For a new deployment or the demo: the default policy in force and the emergency mode on.
pub async fn seed_defaults(state: &AppState, emergency_on: bool) -> AppResult<()> {
    if store::active_policy(state.pool()).await?.is_none() {
        let text = serde_json::to_string(&policy::default_rules())
            .map_err(|e| AppError::Internal(e.into()))?;
        store::insert_policy(
            state.pool(),
            &text,
            DEFAULT_POSITIVE_HOLD_DAYS,
            "operator",
            Some("operator"),
            state.now(),
        )
        .await?;
    }
    if store::setting(state.pool(), EMERGENCY).await?.is_none() {
        set_emergency_as_operator(state, emergency_on).await?;
    }
    forget_inputs(state);
    Ok(())
}

/// The closed list of reasons a colour may be changed by hand, with their wording.
pub const OVERRIDE_REASONS: [(&str, &str, &str); 4] = [
    (
        "lab_error",
        "检测机构更正了检测结果",
        "The laboratory corrected a test result",
    ),
    (
        "data_entry_error",
        "更正录入错误",
        "A data-entry error was corrected",
    ),
    (
        "confirmed_case_pending_record",
        "已确诊、记录尚未同步",
        "A confirmed case whose record has not arrived yet",
    ),
    (
        "recovery_confirmed",
        "经医疗机构确认已康复",
        "Recovery confirmed by a medical institution",
    ),
];

/// Tells a person something (sealed at rest: notices speak of health).
async fn notify(state: &AppState, person_id: &str, text_zh: &str, text_en: &str) -> AppResult<()> {
    let id = random::new_id();
    let zh = state
        .vault
        .seal_field(&format!("notices.text_zh/{id}"), text_zh.as_bytes());
    let en = state
        .vault
        .seal_field(&format!("notices.text_en/{id}"), text_en.as_bytes());
    store::insert_notice(state.pool(), &id, person_id, zh, en, state.now()).await
}

/// A person's notices, newest first: (when, Chinese, English).
pub async fn notices_of(
    state: &AppState,
    person_id: &str,
) -> AppResult<Vec<(i64, String, String)>> {
    let open = |column: &str, id: &str, sealed: &[u8]| -> AppResult<String> {
        Ok(String::from_utf8_lossy(
            &state
                .vault
                .open_field(&format!("notices.{column}/{id}"), sealed)?,
        )
        .into_owned())
    };
    store::notices(state.pool(), person_id)
        .await?
        .into_iter()
        .map(|(id, at, zh, en)| Ok((at, open("text_zh", &id, &zh)?, open("text_en", &id, &en)?)))
        .collect()
}

/// Requests a manual colour for a person; it takes effect when a second officer approves.
pub async fn request_override(
    state: &AppState,
    actor: &Actor,
    resident_id: &ResidentId,
    colour: &str,
    reason_code: &str,
    expires_at: i64,
) -> AppResult<String> {
    if !matches!(colour, "green" | "yellow" | "red") {
        return Err(AppError::invalid("colour", "must be green, yellow or red"));
    }
    if !OVERRIDE_REASONS
        .iter()
        .any(|(code, _, _)| *code == reason_code)
    {
        return Err(AppError::invalid(
            "reason_code",
            "not one of the permitted reasons",
        ));
    }
    let now = state.now();
    if expires_at <= now || expires_at > now + 30 * DAY_MS {
        return Err(AppError::invalid(
            "expires_at",
            "must lie within the next 30 days",
        ));
    }
    let person_id = person_in_reach(state, actor, resident_id).await?;
    let id = random::new_id();
    let subject = Some(state.vault.subject_commitment(&person_id));
    let detail = json!({"override": id, "colour": colour, "reason_code": reason_code, "expires_at": rfc3339(expires_at)});
    log_decision(
        state,
        actor.id(),
        "health_officer",
        actor.account.department_id.as_deref(),
        "override_requested",
        subject,
        detail,
    )
    .await?;
    let row = store::OverrideRow {
        id: id.clone(),
        person_id,
        colour: colour.into(),
        reason_code: reason_code.into(),
        requested_by: actor.id().into(),
        requested_at: now,
        approved_by: None,
        expires_at,
    };
    store::insert_override(state.pool(), &state.vault, &row).await?;
    Ok(id)
}

/// The second approval; the person is told.
pub async fn approve_override(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    let row = store::override_by_id(state.pool(), &state.vault, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let region = personal::person_region(state, &row.person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !can(
        actor,
        Action::RecordHealthFact,
        Resource::Person {
            id: &row.person_id,
            region: &region,
        },
    ) {
        return Err(AppError::Forbidden);
    }
    if row.requested_by == actor.id() {
        return Err(AppError::Conflict(
            "an override needs a second approver, not its requester".into(),
        ));
    }
    let subject = Some(state.vault.subject_commitment(&row.person_id));
    log_decision(
        state,
        actor.id(),
        "health_officer",
        actor.account.department_id.as_deref(),
        "override_approved",
        subject,
        json!({"override": id}),
    )
    .await?;
    if !store::approve_override(state.pool(), id, actor.id(), state.now()).await? {
        return Err(AppError::Conflict(
            "the override is approved already or has expired".into(),
        ));
    }
    crate::health::inputs::person_changed(state, &row.person_id).await;
    let (_, zh, en) = OVERRIDE_REASONS
        .iter()
        .find(|(code, _, _)| *code == row.reason_code)
        .copied()
        .unwrap_or(("", "", ""));
    let until = state.zone().display(row.expires_at);
    let colour_zh = match row.colour.as_str() {
        "green" => "绿码",
        "yellow" => "黄码",
        _ => "红码",
    };
    notify(
        state,
        &row.person_id,
        &format!("您的健康码已由两名工作人员人工调整为{colour_zh}，原因：{zh}，有效至 {until}。如有异议可申请人工复核。"),
        &format!("Two officers set your colour to {} by hand. Reason: {en}. Until {until}. You may ask for a review.", row.colour),
    )
    .await
}

/// A citizen's request for correction or review.
pub async fn submit_request(
    state: &AppState,
    actor: &Actor,
    kind: &str,
    message: &str,
) -> AppResult<String> {
    let person_id = actor
        .account
        .person_id
        .as_deref()
        .ok_or(AppError::NotFound)?;
    if !matches!(kind, "correction" | "review") {
        return Err(AppError::invalid("kind", "must be correction or review"));
    }
    let message = message.trim();
    if message.is_empty() || message.chars().count() > 1000 {
        return Err(AppError::invalid("message", "must have 1–1000 characters"));
    }
    let id = random::new_id();
    let subject = Some(state.vault.subject_commitment(person_id));
    log_decision(
        state,
        actor.id(),
        "citizen",
        None,
        "status_request",
        subject,
        json!({"request": id, "request_kind": kind}),
    )
    .await?;
    let row = store::RequestRow {
        message_sealed: state
            .vault
            .seal_field(&format!("status_requests.message/{id}"), message.as_bytes()),
        id: id.clone(),
        person_id: person_id.to_owned(),
        kind: kind.to_owned(),
        created_at: state.now(),
        outcome_sealed: None,
    };
    store::insert_request(state.pool(), &row).await?;
    Ok(id)
}

/// A request as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestView {
    pub id: String,
    pub kind: String,
    pub message: String,
    pub created_at: String,
    pub outcome: Option<String>,
}

fn view(state: &AppState, row: store::RequestRow) -> AppResult<RequestView> {
    let message = state.vault.open_field(
        &format!("status_requests.message/{}", row.id),
        &row.message_sealed,
    )?;
    let outcome = match &row.outcome_sealed {
        Some(sealed) => {
            let plain = state
                .vault
                .open_field(&format!("status_requests.outcome/{}", row.id), sealed)?;
            Some(String::from_utf8_lossy(&plain).into_owned())
        }
        None => None,
    };
    Ok(RequestView {
        id: row.id,
        kind: row.kind,
        message: String::from_utf8_lossy(&message).into_owned(),
        created_at: rfc3339(row.created_at),
        outcome,
    })
}

pub async fn my_requests(state: &AppState, actor: &Actor) -> AppResult<Vec<RequestView>> {
    let person_id = actor
        .account
        .person_id
        .as_deref()
        .ok_or(AppError::NotFound)?;
    store::requests_of(state.pool(), person_id)
        .await?
        .into_iter()
        .map(|row| view(state, row))
        .collect()
}

/// Open requests of people in the officer's region, each read recorded as a read of the
/// person's data before its text is opened.
pub async fn open_requests(state: &AppState, actor: &Actor) -> AppResult<Vec<RequestView>> {
    if !can(actor, Action::ManageHealthPolicy, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
    let mut views = Vec::new();
    for row in store::open_requests(state.pool()).await? {
        if !in_health_reach(state, actor, &row.person_id).await? {
            continue;
        }
        personal::record_health_access(state, actor, &row.person_id, "read_status_request").await?;
        views.push(view(state, row)?);
    }
    Ok(views)
}

/// Answers a request; the person is told the outcome.
pub async fn resolve_request(
    state: &AppState,
    actor: &Actor,
    id: &str,
    outcome: &str,
) -> AppResult<()> {
    if !can(actor, Action::ManageHealthPolicy, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
    let outcome = outcome.trim();
    if outcome.is_empty() || outcome.chars().count() > 1000 {
        return Err(AppError::invalid("outcome", "must have 1–1000 characters"));
    }
    let row = store::request_by_id(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    ensure_health_reach(state, actor, &row.person_id).await?;
    let subject = Some(state.vault.subject_commitment(&row.person_id));
    log_decision(
        state,
        actor.id(),
        "health_officer",
        actor.account.department_id.as_deref(),
        "status_request_resolved",
        subject,
        json!({"request": id}),
    )
    .await?;
    let sealed = state
        .vault
        .seal_field(&format!("status_requests.outcome/{id}"), outcome.as_bytes());
    if !store::resolve_request(state.pool(), id, sealed, actor.id(), state.now()).await? {
        return Err(AppError::Conflict("the request is answered already".into()));
    }
    notify(
        state,
        &row.person_id,
        &format!("您的申请已处理：{outcome}"),
        &format!("Your request was answered: {outcome}"),
    )
    .await
}
