//! Two persons before this region trusts more: recognising a region, trusting DCC signers or
//! schemas or a SMART Health Card issuer, changing the visitors' rule. One security
//! administrator proposes (the change is checked then, so a bad one is refused at once);
//! another approves within a day, and the change is made. Removing trust takes one: it can
//! only refuse more.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::authz::{Action, Resource, can};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::state::AppState;

/// How long a proposal waits for its second approver.
const LIFETIME_MS: i64 = 24 * 3_600_000;

/// A change that widens what this region trusts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TrustChange {
    /// Recognise (or refresh) a region under a pinned root key.
    Region {
        trust_list: String,
        root_key: String,
    },
    /// Trust EU DCC signer certificates (PEM, or the gateway's JSON list).
    DccSigners { list: String },
    /// Trust (or refresh) a SMART Health Card issuer.
    ShcIssuer(super::foreign::IssuerRequest),
    /// Replace the visitors' rule.
    VisitorRule { rule: Value },
    /// Import a DCC schema release.
    DccSchema {
        version: String,
        schema: Value,
        current: bool,
    },
}

impl TrustChange {
    fn kind(&self) -> &'static str {
        match self {
            TrustChange::Region { .. } => "region",
            TrustChange::DccSigners { .. } => "dcc_signers",
            TrustChange::ShcIssuer(_) => "shc_issuer",
            TrustChange::VisitorRule { .. } => "visitor_rule",
            TrustChange::DccSchema { .. } => "dcc_schema",
        }
    }

    /// Checks the change as making it would, without making it; what it does, in words.
    async fn check(&self, state: &AppState) -> AppResult<String> {
        Ok(match self {
            TrustChange::Region {
                trust_list,
                root_key,
            } => {
                let root = super::regions::root_key(trust_list, root_key)?;
                let payload = crate::keys::service::verify_trust_list(trust_list, &root)
                    .map_err(|e| AppError::invalid("trust_list", e.to_string()))?;
                if payload.region == state.config.region_code {
                    return Err(AppError::invalid(
                        "trust_list",
                        "this is this region's own trust list",
                    ));
                }
                format!(
                    "recognise region {} ({} keys, list of {})",
                    payload.region,
                    payload.keys.len(),
                    payload.issued_at
                )
            }
            TrustChange::DccSigners { list } => {
                let parsed = super::dcc::parse_signer_list(list)
                    .map_err(|why| AppError::invalid("list", why))?;
                let (anchors, signers) = super::dcc::vouch(state, &parsed).await?;
                let subjects: Vec<&str> = anchors
                    .iter()
                    .map(|a| a.subject.as_str())
                    .chain(signers.iter().map(|s| s.subject.as_str()))
                    .take(5)
                    .collect();
                format!(
                    "trust {} anchor(s) and {} EU DCC signer(s): {}",
                    anchors.len(),
                    signers.len(),
                    subjects.join("; ")
                )
            }
            TrustChange::ShcIssuer(request) => {
                let (iss, jwks, _) = super::foreign::check_shc_issuer(request)?;
                format!(
                    "trust SMART Health Card issuer {iss} ({} keys)",
                    jwks.keys.len()
                )
            }
            TrustChange::VisitorRule { rule } => {
                // A constant is valid CertLogic, and a truthy one would accept every
                // credential: a rule is an operation over the credential.
                if !rule.is_object() {
                    return Err(AppError::invalid(
                        "rule",
                        "a rule is a CertLogic operation (a JSON object), not a constant",
                    ));
                }
                if let Some(issue) = tongban_rules::validate(rule).into_iter().next() {
                    return Err(AppError::invalid(
                        "rule",
                        format!("not valid CertLogic: {}", issue.message),
                    ));
                }
                format!("set the visitors' rule to {rule}")
            }
            TrustChange::DccSchema {
                version,
                schema,
                current,
            } => {
                super::dcc::check_schema(version, schema, *current)?;
                format!("import DCC schema {version}")
            }
        })
    }

    /// Makes the change, in the approver's name.
    async fn apply(&self, state: &AppState, by: &str) -> AppResult<()> {
        match self {
            TrustChange::Region {
                trust_list,
                root_key,
            } => {
                let root = super::regions::root_key(trust_list, root_key)?;
                super::regions::import(state, trust_list, &root, by).await?;
            }
            TrustChange::DccSigners { list } => {
                super::dcc::import_signers(state, list, by).await?;
            }
            TrustChange::ShcIssuer(request) => {
                super::foreign::set_shc_issuer(state, request, by).await?;
            }
            TrustChange::VisitorRule { rule } => {
                super::foreign::set_visitor_rule(state, rule, by).await?;
            }
            TrustChange::DccSchema {
                version,
                schema,
                current,
            } => {
                super::dcc::import_schema(state, version, schema, *current, by).await?;
            }
        }
        Ok(())
    }
}

/// Forbidden unless the actor keeps this region's trust settings (a security administrator).
pub fn ensure_trust_keeper(actor: &Actor) -> AppResult<()> {
    if can(actor, Action::ManageTrust, Resource::Platform) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

pub use super::store::Proposal;

/// Proposes a change (checked now); returns the proposal's id. Logged.
pub async fn propose(state: &AppState, actor: &Actor, change: TrustChange) -> AppResult<String> {
    ensure_trust_keeper(actor)?;
    let summary = change.check(state).await?;
    let id = tongban_platform::random::new_id();
    let now = state.now();
    log(state, actor, "trust_change_proposed", &id, change.kind()).await?;
    let row = Proposal {
        id: id.clone(),
        kind: change.kind().to_owned(),
        summary: summary.chars().take(500).collect(),
        proposed_by: actor.id().to_owned(),
        proposed_at: now,
    };
    let text = serde_json::to_string(&change).map_err(|e| AppError::Internal(e.into()))?;
    super::store::insert_proposal(state.pool(), &row, &text).await?;
    Ok(id)
}

/// The open proposals (made within a day), oldest first.
pub async fn open(state: &AppState, actor: &Actor) -> AppResult<Vec<Proposal>> {
    ensure_trust_keeper(actor)?;
    super::store::open_proposals(state.pool(), state.now() - LIFETIME_MS).await
}

/// The proposals waiting for this security administrator's approval (those another proposed),
/// as their part of the to-do list: each due when it lapses, urgent in its last two hours.
pub async fn todo_part(
    state: &AppState,
    actor: &Actor,
    t: crate::web::i18n::Tr,
    limit: usize,
) -> AppResult<tongban_platform::module::TodoPart> {
    if ensure_trust_keeper(actor).is_err() {
        return Ok(tongban_platform::module::TodoPart::default());
    }
    let now = state.now();
    let waiting: Vec<Proposal> = open(state, actor)
        .await?
        .into_iter()
        .filter(|p| p.proposed_by != actor.id())
        .collect();
    let total = waiting.len();
    let items = waiting
        .into_iter()
        .take(limit)
        .map(|p| {
            let due = p.proposed_at + LIFETIME_MS;
            tongban_platform::module::TodoItem {
                module: "trust",
                kind: t.get("trust.todo_kind").to_owned(),
                title: p.summary,
                link: "/admin/trust".to_owned(),
                due: Some(due),
                urgency: u8::from(due - now < 2 * 3_600_000),
                at: p.proposed_at,
            }
        })
        .collect();
    Ok(tongban_platform::module::TodoPart { items, total })
}

/// The second security administrator approves: the change is made in their name. Logged.
pub async fn approve(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    ensure_trust_keeper(actor)?;
    let (change, proposed_by) = super::store::proposal(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if proposed_by == actor.id() {
        return Err(AppError::Conflict(
            "a trust change needs a second security administrator, not its proposer".into(),
        ));
    }
    let change: TrustChange =
        serde_json::from_str(&change).map_err(|e| AppError::Internal(e.into()))?;
    let now = state.now();
    if !super::store::approve_proposal(state.pool(), id, actor.id(), now, now - LIFETIME_MS).await?
    {
        return Err(AppError::Conflict(
            "the proposal is approved already or older than a day".into(),
        ));
    }
    log(state, actor, "trust_change_approved", id, change.kind()).await?;
    if let Err(error) = change.apply(state, actor.id()).await {
        // Refused when made (a region pinned to another root meanwhile, say): the proposal is
        // open again, for another try or to lapse.
        super::store::reopen_proposal(state.pool(), id).await?;
        return Err(error);
    }
    Ok(())
}

async fn log(state: &AppState, actor: &Actor, kind: &str, id: &str, change: &str) -> AppResult<()> {
    let entry = json!({
        "kind": kind,
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": actor.id(),
        "proposal": id,
        "change": change,
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    Ok(())
}
