//! Outgoing documents (发文) from draft to sent: who may do what, in one transaction per act.
//!
//! A clerk or administrator of a department drafts a document under one of the department's
//! codes; the draft keeps the rules of its kind or is refused with each broken rule named. The
//! drafter sends it to one or more reviewers of the department and a leader (an administrator
//! of it); each reviewer agrees or sends it back with an opinion; the leader signs it off (the
//! 签发人 on the document is the leader who signs); the secretariat — the department's clerks
//! and administrators other than that leader — checks it again, which gives it its number,
//! seals, registers and sends it. Every act is written to the document's history (流转记录)
//! with the digests of its opinion and of the text at that moment, and witnessed in the
//! transparency log; nothing in the history is ever changed.

use serde::{Deserialize, Serialize};

use crate::authz::{self, Action, Resource};
use crate::desk::{Desk, Effect, Job};
use crate::error::{AppError, AppResult, retrying};
use crate::gongwen::draft::{self, Draft, Urgency};
use crate::gongwen::flow::{self, Act, Party, Step};
use crate::identity::model::{Actor, Role};
use crate::people::{PartyView, digest, party_view, staff_member};
use crate::state::AppState;
use crate::store::{self, Document, HistoryRow, Waiting};

/// The most reviewers a document is sent to at once.
const MAX_REVIEWERS: usize = 10;
/// The longest opinion, in characters.
const MAX_OPINION: usize = 2_000;
/// The longest body, in characters (a long report runs to some tens of thousands).
const MAX_BODY: usize = 200_000;

/// A new draft.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDocument {
    /// One of the department's codes (机关代字), which the number is issued under.
    pub code: String,
    pub draft: Draft,
}

/// A changed draft, as the drafter last read it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftChange {
    pub draft: Draft,
    /// The version read; a draft changed since is not overwritten.
    pub version: i64,
}

/// An act on a document.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActOnDocument {
    pub act: Act,
    /// The opinion (意见): required to send back and to sign off.
    #[serde(default)]
    pub opinion: String,
    /// For `submit`: the reviewers' accounts, in order.
    #[serde(default)]
    pub reviewers: Vec<String>,
    /// For `submit`: the leader's account, who signs it off.
    #[serde(default)]
    pub leader: Option<String>,
}

/// An act in a document's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryView {
    pub seq: i64,
    /// The step the act was taken in.
    pub step: Step,
    pub act: Act,
    pub by: String,
    pub opinion: String,
    /// Hex digests (the profile's hash) of the opinion and of the document's text after it.
    pub opinion_digest: String,
    pub content_digest: String,
    /// The transparency log's entry that witnesses the act, once written.
    pub log_index: Option<i64>,
    pub at: String,
}

/// A document as its parties read it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub id: String,
    pub department_id: String,
    pub code: String,
    pub step: Step,
    /// The number (发文字号), once rechecked.
    pub number: Option<String>,
    pub draft: Draft,
    pub drafter: PartyView,
    pub reviewers: Vec<PartyView>,
    pub leader: Option<PartyView>,
    pub history: Vec<HistoryView>,
    /// What the reader may do now.
    pub acts: Vec<Act>,
    /// Once sent: where it went, and where it stands with each recipient of this deployment.
    pub deliveries: Vec<crate::incoming::DeliveryView>,
    pub version: i64,
    pub created_at: String,
    pub modified_at: String,
}

/// One item of a to-do list: a document and what waits on it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Todo {
    pub document_id: String,
    pub title: String,
    pub kind: String,
    pub step: Step,
    pub acts: Vec<Act>,
    pub urgency: Option<Urgency>,
    /// Since when it waits (the last act on it).
    pub since: String,
    pub number: Option<String>,
}

fn department_of(actor: &Actor) -> AppResult<&str> {
    crate::own_department(actor, Action::HandleDocuments)
}

fn check_draft(draft: &Draft) -> AppResult<()> {
    if draft.body.chars().count() > MAX_BODY {
        return Err(AppError::invalid(
            "draft",
            format!("the body is at most {MAX_BODY} characters"),
        ));
    }
    let broken = draft::check(draft);
    if broken.is_empty() {
        return Ok(());
    }
    let named: Vec<String> = broken
        .iter()
        .map(|rule| {
            let key = serde_json::to_value(rule)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{key}: {} ({})", rule.en(), rule.zh())
        })
        .collect();
    Err(AppError::invalid("draft", named.join("; ")))
}

/// Claims a code (机关代字) for the administrator's department.
pub async fn add_code(state: &AppState, actor: &Actor, code: &str) -> AppResult<Vec<String>> {
    let department = actor
        .account
        .department_id
        .as_deref()
        .ok_or(AppError::Forbidden)?;
    if !authz::can(
        actor,
        Action::SignDocuments,
        Resource::Department { id: department },
    ) {
        return Err(AppError::Forbidden);
    }
    let code = code.trim();
    crate::gongwen::number::check_code(code)
        .map_err(|e| AppError::invalid("code", e.to_string()))?;
    if !store::insert_code(state.pool(), code, department, actor.id(), state.now()).await?
        && store::code_owner(state.pool(), code).await?.as_deref() != Some(department)
    {
        return Err(AppError::Conflict(format!(
            "the code {code} is another organ's"
        )));
    }
    store::codes_of(state.pool(), department).await
}

/// The codes of the actor's department.
pub async fn codes(state: &AppState, actor: &Actor) -> AppResult<Vec<String>> {
    store::codes_of(state.pool(), department_of(actor)?).await
}

/// Drafts a document in the actor's department.
pub async fn create(state: &AppState, actor: &Actor, new: NewDocument) -> AppResult<DocumentView> {
    let department = department_of(actor)?;
    check_draft(&new.draft)?;
    if store::code_owner(state.pool(), &new.code).await?.as_deref() != Some(department) {
        return Err(AppError::invalid(
            "code",
            "not one of the department's codes",
        ));
    }
    let document = Document::new(
        uuid::Uuid::new_v4().to_string(),
        department,
        &new.code,
        new.draft,
        actor.id(),
        state.now(),
    );
    let mut tx = state.pool().begin().await?;
    store::insert_document(&mut *tx, &document).await?;
    store::replace_waiting(
        &mut tx,
        &document.id,
        store::urgency_rank(&document.draft),
        document.created_at,
        &[Waiting::account(actor.id())],
    )
    .await?;
    tx.commit().await?;
    view(state, actor, &document.id).await
}

/// Changes a draft (its drafter, while it is in drafting).
pub async fn change(
    state: &AppState,
    actor: &Actor,
    id: &str,
    change: DraftChange,
) -> AppResult<DocumentView> {
    let document = readable(state, actor, id).await?;
    if document.created_by != actor.id() {
        return Err(AppError::NotAuthorised(
            "only the drafter changes a draft".into(),
        ));
    }
    if document.state != Step::Drafting.as_str() {
        return Err(AppError::Conflict(
            "the document has left drafting: send it back to change it".into(),
        ));
    }
    check_draft(&change.draft)?;
    if !store::update_draft(state.pool(), id, change.version, &change.draft, state.now()).await? {
        return Err(AppError::Conflict(
            "the draft changed since it was read".into(),
        ));
    }
    store::set_waiting_urgency(state.pool(), id, store::urgency_rank(&change.draft)).await?;
    view(state, actor, id).await
}

/// The document, if the actor may read it: its drafter and named parties, and the staff of
/// its department. Anyone else is told it does not exist.
async fn readable(state: &AppState, actor: &Actor, id: &str) -> AppResult<Document> {
    let document = store::document(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let staff = authz::can(
        actor,
        Action::HandleDocuments,
        Resource::Department {
            id: &document.department_id,
        },
    );
    if staff || document.created_by == actor.id() {
        return Ok(document);
    }
    let parties = store::parties(state.pool(), id).await?;
    if parties.iter().any(|p| p.account_id == actor.id()) {
        Ok(document)
    } else {
        Err(AppError::NotFound)
    }
}

/// The parties the actor is on a document at its step.
fn parties_of(actor: &Actor, document: &Document, named: &[store::PartyRow]) -> Vec<Party> {
    let mut parties = Vec::new();
    if document.created_by == actor.id() {
        parties.push(Party::Drafter);
    }
    let named_as = |party: &str| {
        named
            .iter()
            .find(|p| p.party == party && p.account_id == actor.id())
    };
    if named_as("reviewer").is_some_and(|p| p.agreed_at.is_none()) {
        parties.push(Party::Reviewer);
    }
    let leader = named_as("leader").is_some();
    if leader {
        parties.push(Party::Leader);
    }
    let staff = authz::can(
        actor,
        Action::HandleDocuments,
        Resource::Department {
            id: &document.department_id,
        },
    );
    // The leader who signed does not also seal and send.
    if staff && !leader {
        parties.push(Party::Secretary);
    }
    parties
}

fn acts_for(step: Step, parties: &[Party]) -> Vec<Act> {
    flow::moves(step)
        .iter()
        .filter(|m| parties.contains(&m.by))
        .map(|m| m.act)
        .collect()
}

fn party_name(party: Party) -> &'static str {
    match party {
        Party::Drafter => "the drafter",
        Party::Reviewer => "a reviewer it was sent to",
        Party::Leader => "the leader it was sent to for sign-off",
        Party::Secretary => "the department's secretariat (not the leader who signed it)",
    }
}

/// Checks whom the drafter sends the document to; returns the leader's name (the 签发人).
async fn check_parties(
    state: &AppState,
    document: &Document,
    request: &ActOnDocument,
) -> AppResult<String> {
    let reviewers = &request.reviewers;
    if reviewers.is_empty() || reviewers.len() > MAX_REVIEWERS {
        return Err(AppError::invalid(
            "reviewers",
            format!("name one to {MAX_REVIEWERS} reviewers"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for reviewer in reviewers {
        if !seen.insert(reviewer.as_str()) || *reviewer == document.created_by {
            return Err(AppError::invalid(
                "reviewers",
                "each reviewer once, and not the drafter",
            ));
        }
        if staff_member(
            state,
            reviewer,
            &document.department_id,
            &[Role::Clerk, Role::DeptAdmin],
        )
        .await?
        .is_none()
        {
            return Err(AppError::invalid(
                "reviewers",
                "a reviewer is a clerk or an administrator of the department",
            ));
        }
    }
    let leader = request
        .leader
        .as_deref()
        .ok_or_else(|| AppError::invalid("leader", "name the leader who signs it off"))?;
    if leader == document.created_by {
        return Err(AppError::invalid(
            "leader",
            "the drafter does not sign off their own draft",
        ));
    }
    let leader = staff_member(state, leader, &document.department_id, &[Role::DeptAdmin])
        .await?
        .ok_or_else(|| {
            AppError::invalid("leader", "the leader is an administrator of the department")
        })?;
    if !crate::directory::may_sign_off(state, &document.department_id, &leader.id).await? {
        return Err(AppError::invalid(
            "leader",
            "the leader is one the organ's directory marks as a leader",
        ));
    }
    Ok(leader.display_name)
}

/// Takes an act on a document, written by the node's desk with the acts of others in one
/// transaction ([`crate::desk`]): the document moves only from the version read (two people
/// acting at once: one wins, the other is told), and its history row is written with it; the
/// transparency log then witnesses the act.
pub async fn act(
    state: &AppState,
    actor: &Actor,
    id: &str,
    request: ActOnDocument,
) -> AppResult<DocumentView> {
    take(state, actor, id, request).await?;
    view(state, actor, id).await
}

/// Takes an act as [`act`] does and answers the history row written (with the log's index
/// once witnessed), without reading the document back.
pub async fn take(
    state: &AppState,
    actor: &Actor,
    id: &str,
    request: ActOnDocument,
) -> AppResult<HistoryRow> {
    let opinion = request.opinion.trim().to_owned();
    if opinion.chars().count() > MAX_OPINION {
        return Err(AppError::invalid(
            "opinion",
            format!("at most {MAX_OPINION} characters"),
        ));
    }
    if request.act.needs_opinion() && opinion.is_empty() {
        return Err(AppError::invalid(
            "opinion",
            "give the opinion for this act",
        ));
    }
    let row = retrying(|| act_once(state, actor, id, &request, &opinion)).await?;
    witness(state, &row).await;
    if request.act == Act::Distribute {
        // Into the recipients' inboxes; what fails here the office's job delivers.
        if let Err(error) = crate::incoming::deliver(state, id).await {
            tracing::warn!(%error, "a sent document waits to be delivered");
        }
    }
    Ok(row)
}

async fn act_once(
    state: &AppState,
    actor: &Actor,
    id: &str,
    request: &ActOnDocument,
    opinion: &str,
) -> AppResult<HistoryRow> {
    let mut document = readable(state, actor, id).await?;
    let step = Step::parse(&document.state)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown step {}", document.state)))?;
    let named = store::parties(state.pool(), id).await?;
    let parties = parties_of(actor, &document, &named);
    let Some(allowed) = flow::allowed(step, request.act, &parties) else {
        return Err(
            match flow::moves(step).iter().find(|m| m.act == request.act) {
                Some(m) => AppError::NotAuthorised(format!(
                    "{} ({}) in {} is for {}",
                    request.act.as_str(),
                    request.act.zh(),
                    step.zh(),
                    party_name(m.by)
                )),
                None => AppError::Conflict(format!(
                    "the document is at {} ({}): {} cannot be done now",
                    step.as_str(),
                    step.zh(),
                    request.act.as_str()
                )),
            },
        );
    };
    let now = state.now();
    if request.act == Act::Submit {
        check_draft(&document.draft)?;
        if store::code_owner(state.pool(), &document.code)
            .await?
            .as_deref()
            != Some(document.department_id.as_str())
        {
            return Err(AppError::Conflict(
                "the document's code is no longer the department's".into(),
            ));
        }
        let leader = check_parties(state, &document, request).await?;
        // The 签发人 element names the leader who signs it off.
        document.draft.signer = Some(leader);
    }
    let reviewers_left = named
        .iter()
        .filter(|p| p.party == "reviewer" && p.agreed_at.is_none() && p.account_id != actor.id())
        .count();
    let next = flow::after(step, allowed.act, reviewers_left).unwrap_or(allowed.next);
    let effect = match allowed.act {
        Act::Submit => Effect::NameParties {
            reviewers: request.reviewers.clone(),
            leader: request.leader.clone().unwrap_or_default(),
        },
        Act::Agree => Effect::Agree {
            account: actor.id().to_owned(),
        },
        Act::Recheck => Effect::Number {
            year: state.today().year(),
        },
        _ => Effect::None,
    };
    let history = HistoryRow {
        document_id: id.to_owned(),
        seq: document.version + 1,
        step: step.as_str().to_owned(),
        act: allowed.act.as_str().to_owned(),
        actor_id: actor.id().to_owned(),
        actor_name: actor.account.display_name.clone(),
        opinion: opinion.to_owned(),
        opinion_digest: digest(state, opinion.as_bytes()),
        // Written by the desk, once the number is known.
        content_digest: String::new(),
        log_index: None,
        at: now,
    };
    let leader = match &effect {
        Effect::NameParties { leader, .. } => Some(leader.clone()),
        _ => named
            .iter()
            .find(|p| p.party == "leader")
            .map(|p| p.account_id.clone()),
    }
    .unwrap_or_default();
    let waiting = match next {
        Step::Drafting => vec![Waiting::account(&document.created_by)],
        Step::Reviewing => match &effect {
            Effect::NameParties { reviewers, .. } => {
                reviewers.iter().map(|r| Waiting::account(r)).collect()
            }
            _ => named
                .iter()
                .filter(|p| {
                    p.party == "reviewer" && p.agreed_at.is_none() && p.account_id != actor.id()
                })
                .map(|p| Waiting::account(&p.account_id))
                .collect(),
        },
        Step::Signing => vec![Waiting::account(&leader)],
        Step::Rechecking | Step::Sealing | Step::Registering | Step::Distributing => {
            vec![Waiting::secretariat(&document.department_id, &leader)]
        }
        Step::Sent | Step::Withdrawn => Vec::new(),
    };
    state
        .module::<Desk>()
        .act(Job {
            document,
            next,
            effect,
            history,
            waiting,
            draft_changed: request.act == Act::Submit,
        })
        .await
}

/// What the transparency log records of an act: enough to prove later that this opinion was
/// given on this text by this person at this step, without the text itself.
#[derive(Serialize)]
struct Witnessed<'a> {
    kind: &'static str,
    document: &'a str,
    seq: i64,
    step: &'a str,
    act: &'a str,
    actor: &'a str,
    opinion_digest: &'a str,
    content_digest: &'a str,
    at: i64,
}

/// Appends an act to the transparency log and notes the entry on its history row. A failure
/// is logged; the office's witness job appends what is left.
async fn witness(state: &AppState, row: &HistoryRow) {
    let entry = Witnessed {
        kind: "office_act",
        document: &row.document_id,
        seq: row.seq,
        step: &row.step,
        act: &row.act,
        actor: &row.actor_id,
        opinion_digest: &row.opinion_digest,
        content_digest: &row.content_digest,
        at: row.at,
    };
    let outcome = async {
        let index = crate::ledger::service::append(state, &entry).await?;
        state
            .module::<Desk>()
            .witnessed(
                &row.document_id,
                row.seq,
                i64::try_from(index).unwrap_or(i64::MAX),
            )
            .await
    }
    .await;
    if let Err(error) = outcome {
        tracing::warn!(%error, "an office act waits for the transparency log");
    }
}

/// Appends to the log the acts it does not witness yet (after a failure or a crash between
/// the act and its entry).
pub async fn witness_left(state: &AppState) -> AppResult<()> {
    // Not the last moments' acts: their entries are in the log, their indexes on the way.
    let before = state.now() - 30_000;
    for row in store::unlogged(state.pool(), before, 500).await? {
        witness(state, &row).await;
    }
    Ok(())
}

/// A document with its parties, its history and what the actor may do.
pub async fn view(state: &AppState, actor: &Actor, id: &str) -> AppResult<DocumentView> {
    let document = readable(state, actor, id).await?;
    let step = Step::parse(&document.state)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown step {}", document.state)))?;
    let named = store::parties(state.pool(), id).await?;
    let acts = acts_for(step, &parties_of(actor, &document, &named));
    let mut reviewers = Vec::new();
    let mut leader = None;
    for party in &named {
        let seen = party_view(state, &party.account_id, party.agreed_at).await?;
        if party.party == "leader" {
            leader = Some(seen);
        } else {
            reviewers.push(seen);
        }
    }
    let history = store::history(state.pool(), id)
        .await?
        .into_iter()
        .map(|row| HistoryView {
            seq: row.seq,
            step: Step::parse(&row.step).unwrap_or(Step::Drafting),
            act: Act::parse(&row.act).unwrap_or(Act::Submit),
            by: row.actor_name,
            opinion: row.opinion,
            opinion_digest: row.opinion_digest,
            content_digest: row.content_digest,
            log_index: row.log_index,
            at: crate::time_fmt::rfc3339(row.at),
        })
        .collect();
    Ok(DocumentView {
        id: document.id.clone(),
        department_id: document.department_id.clone(),
        code: document.code.clone(),
        step,
        number: document.number.as_ref().map(ToString::to_string),
        drafter: party_view(state, &document.created_by, None).await?,
        draft: document.draft,
        reviewers,
        leader,
        history,
        acts,
        deliveries: crate::incoming::deliveries(state, id).await?,
        version: document.version,
        created_at: crate::time_fmt::rfc3339(document.created_at),
        modified_at: crate::time_fmt::rfc3339(document.modified_at),
    })
}

/// The documents waiting for the actor, most urgent first.
pub async fn todo(state: &AppState, actor: &Actor, limit: i64) -> AppResult<Vec<Todo>> {
    let secretariat = actor.account.department_id.as_deref().filter(|department| {
        authz::can(
            actor,
            Action::HandleDocuments,
            Resource::Department { id: department },
        )
    });
    let waiting = store::waiting_for(state.pool(), actor.id(), secretariat, limit).await?;
    let mut items = Vec::with_capacity(waiting.len());
    for document in waiting {
        let step = Step::parse(&document.state).unwrap_or(Step::Drafting);
        // The list's query already knows why each waits; the acts are those of the parties
        // it found (the leader's sign-off, a reviewer's agreement, the drafter's draft, the
        // secretariat's step).
        let acts = flow::moves(step)
            .iter()
            .filter(|m| match step {
                Step::Drafting => m.by == Party::Drafter,
                Step::Reviewing => m.by == Party::Reviewer,
                Step::Signing => m.by == Party::Leader,
                _ => m.by == Party::Secretary,
            })
            .map(|m| m.act)
            .collect();
        items.push(Todo {
            document_id: document.id,
            title: document.draft.title,
            kind: document.draft.kind.zh().to_owned(),
            step,
            acts,
            urgency: document.draft.urgency,
            since: crate::time_fmt::rfc3339(document.modified_at),
            number: document.number.as_ref().map(ToString::to_string),
        });
    }
    Ok(items)
}

/// The department's documents, newest first (its staff).
pub async fn list(state: &AppState, actor: &Actor, limit: i64) -> AppResult<Vec<Todo>> {
    let department = department_of(actor)?;
    let documents = store::documents_of(state.pool(), department, limit).await?;
    Ok(documents
        .into_iter()
        .map(|document| {
            let step = Step::parse(&document.state).unwrap_or(Step::Drafting);
            Todo {
                document_id: document.id,
                title: document.draft.title,
                kind: document.draft.kind.zh().to_owned(),
                step,
                acts: Vec::new(),
                urgency: document.draft.urgency,
                since: crate::time_fmt::rfc3339(document.modified_at),
                number: document.number.as_ref().map(ToString::to_string),
            }
        })
        .collect())
}

/// The office's part of the actor's to-do list.
pub async fn todo_part(
    state: &AppState,
    actor: &Actor,
    t: crate::web::i18n::Tr,
    limit: usize,
) -> AppResult<crate::module::TodoPart> {
    let secretariat = secretariat_of(actor);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let (lines, total) = store::waiting_lines(state.pool(), actor.id(), secretariat, limit).await?;
    let items = lines
        .into_iter()
        .map(|line| {
            let step = Step::parse(&line.state).unwrap_or(Step::Drafting);
            crate::module::TodoItem {
                module: "office",
                kind: t.get(step_key(step)).to_owned(),
                title: line.title,
                link: format!("/office/documents/{}", line.id),
                due: None,
                urgency: u8::try_from(line.urgency).unwrap_or(0),
                at: line.modified_at,
            }
        })
        .collect();
    Ok(crate::module::TodoPart {
        items,
        total: usize::try_from(total).unwrap_or(0),
    })
}

/// The office's part of what the actor handled.
pub async fn done_part(
    state: &AppState,
    actor: &Actor,
    t: crate::web::i18n::Tr,
    limit: usize,
) -> AppResult<crate::module::TodoPart> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = store::handled_by(state.pool(), actor.id(), limit).await?;
    let items: Vec<crate::module::TodoItem> = rows
        .into_iter()
        .map(|(id, title, act, at)| crate::module::TodoItem {
            module: "office",
            kind: t
                .get(act_key(Act::parse(&act).unwrap_or(Act::Submit)))
                .to_owned(),
            title,
            link: format!("/office/documents/{id}"),
            due: None,
            urgency: 0,
            at,
        })
        .collect();
    Ok(crate::module::TodoPart {
        total: items.len(),
        items,
    })
}

/// The department whose secretariat the actor is part of, if any.
fn secretariat_of(actor: &Actor) -> Option<&str> {
    actor.account.department_id.as_deref().filter(|department| {
        authz::can(
            actor,
            Action::HandleDocuments,
            Resource::Department { id: department },
        )
    })
}

/// The text key naming the work of a step (公文签发 …).
pub fn step_key(step: Step) -> &'static str {
    match step {
        Step::Drafting => "office.step.drafting",
        Step::Reviewing => "office.step.reviewing",
        Step::Signing => "office.step.signing",
        Step::Rechecking => "office.step.rechecking",
        Step::Sealing => "office.step.sealing",
        Step::Registering => "office.step.registering",
        Step::Distributing => "office.step.distributing",
        Step::Sent => "office.step.sent",
        Step::Withdrawn => "office.step.withdrawn",
    }
}

/// The text key naming an act.
pub fn act_key(act: Act) -> &'static str {
    match act {
        Act::Submit => "office.act.submit",
        Act::Agree => "office.act.agree",
        Act::Return => "office.act.return",
        Act::Sign => "office.act.sign",
        Act::Recheck => "office.act.recheck",
        Act::Seal => "office.act.seal",
        Act::Register => "office.act.register",
        Act::Distribute => "office.act.distribute",
        Act::Withdraw => "office.act.withdraw",
    }
}
