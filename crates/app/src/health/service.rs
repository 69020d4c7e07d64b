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

const DAY_MS: i64 = 86_400_000;
/// How long a fact is kept before it is purged.
const FACT_RETENTION_DAYS: i64 = 28;
const EMERGENCY: &str = "health.emergency";

/// A fact as a health source records it.
pub struct NewFact {
    pub resident_id: ResidentId,
    pub kind: String,
    pub value: String,
    /// Unix milliseconds.
    pub observed_at: i64,
    pub legal_basis: String,
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
    let ok = match kind {
        "test_result" => matches!(value, "positive" | "negative"),
        _ => {
            !value.trim().is_empty()
                && value.chars().count() <= 64
                && !value.chars().any(char::is_control)
        }
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "value",
            "not a value this kind of fact takes (test_result: positive or negative)",
        ))
    }
}

/// Records a fact about a person. Only a health officer whose scope covers the person may.
pub async fn record_fact(state: &AppState, actor: &Actor, fact: NewFact) -> AppResult<String> {
    valid_value(&fact.kind, &fact.value)?;
    let legal_basis = fact.legal_basis.trim();
    if legal_basis.is_empty() || legal_basis.chars().count() > 200 {
        return Err(AppError::invalid(
            "legal_basis",
            "must name the legal basis (1–200 characters)",
        ));
    }
    let now = state.now();
    if fact.observed_at > now + 5 * 60_000 || fact.observed_at < now - 365 * DAY_MS {
        return Err(AppError::invalid(
            "observed_at",
            "must lie within the past year and not in the future",
        ));
    }
    let person_id = personal::person_id_by_resident_id(state, &fact.resident_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let region = personal::person_region(state, &person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !can(
        actor,
        Action::RecordHealthFact,
        Resource::Person {
            id: &person_id,
            region: &region,
        },
    ) {
        return Err(AppError::Forbidden);
    }
    let id = random::new_id();
    let detail = json!({"fact": id, "fact_kind": fact.kind, "observed_at": rfc3339(fact.observed_at), "legal_basis": legal_basis});
    let subject = Some(state.vault.blind_index("subject", &person_id));
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
            .seal_field(&format!("health_facts.value/{id}"), fact.value.as_bytes()),
        id: id.clone(),
        person_id,
        kind: fact.kind,
        observed_at: fact.observed_at,
        legal_basis: legal_basis.to_owned(),
        department_id: actor.account.department_id.clone(),
        recorded_by: actor.id().to_owned(),
        recorded_at: now,
        expires_at: fact.observed_at + FACT_RETENTION_DAYS * DAY_MS,
    };
    store::insert_fact(state.pool(), &row).await?;
    Ok(id)
}

/// Whether the public-health emergency mode is on (colours shown) or off (service pass only).
pub async fn emergency(state: &AppState) -> AppResult<bool> {
    Ok(store::setting(state.pool(), EMERGENCY).await?.as_deref() == Some("on"))
}

pub async fn set_emergency(state: &AppState, actor: Option<&Actor>, on: bool) -> AppResult<()> {
    let actor_id = match actor {
        Some(actor) if can(actor, Action::ManageHealthPolicy, Resource::Platform) => {
            actor.id().to_owned()
        }
        Some(_) => return Err(AppError::Forbidden),
        None => "operator".to_owned(),
    };
    log_decision(
        state,
        &actor_id,
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
        &actor_id,
        state.now(),
    )
    .await
}

/// A person's status: the colour, the policy version, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    if !emergency(state).await? {
        return Ok(Status {
            colour: "service_only".into(),
            policy_version: None,
            verdict: None,
            fact_refs: Vec::new(),
        });
    }
    let Some(policy) = store::active_policy(state.pool()).await? else {
        return Ok(Status {
            colour: "green".into(),
            policy_version: None,
            verdict: None,
            fact_refs: Vec::new(),
        });
    };
    let rules: Vec<StatusRule> =
        serde_json::from_str(&policy.rules).map_err(|e| AppError::Internal(e.into()))?;
    let now = state.now();
    let facts = store::facts_of(state.pool(), person_id, now).await?;
    // The latest fact of each kind.
    let mut latest: Map<String, Json> = Map::new();
    let mut ids: Vec<(String, String)> = Vec::new();
    for fact in &facts {
        let value = state.vault.open_field(
            &format!("health_facts.value/{}", fact.id),
            &fact.value_sealed,
        )?;
        latest.insert(fact.kind.clone(), json!({"value": String::from_utf8_lossy(&value), "observed_at": rfc3339(fact.observed_at)}));
        ids.retain(|(kind, _)| kind != &fact.kind);
        ids.push((fact.kind.clone(), fact.id.clone()));
    }
    let verdict = policy::apply(&rules, &Json::Object(latest), &rfc3339(now));
    let fact_refs = ids
        .into_iter()
        .filter(|(kind, _)| verdict.facts_used.contains(kind))
        .map(|(_, id)| id)
        .collect();
    Ok(Status {
        colour: verdict.colour.clone(),
        policy_version: Some(policy.version),
        verdict: Some(verdict),
        fact_refs,
    })
}

/// Proposes a new policy version; it takes effect when another health officer approves it.
pub async fn propose_policy(
    state: &AppState,
    actor: &Actor,
    rules: Vec<StatusRule>,
) -> AppResult<i64> {
    if !can(actor, Action::ManageHealthPolicy, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
    policy::compile(&rules).map_err(|e| AppError::invalid("rules", e))?;
    let text = serde_json::to_string(&rules).map_err(|e| AppError::Internal(e.into()))?;
    let version = store::insert_policy(state.pool(), &text, actor.id(), None, state.now()).await?;
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
    if !can(actor, Action::ManageHealthPolicy, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
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
            "operator",
            Some("operator"),
            state.now(),
        )
        .await?;
    }
    if store::setting(state.pool(), EMERGENCY).await?.is_none() {
        set_emergency(state, None, emergency_on).await?;
    }
    Ok(())
}
