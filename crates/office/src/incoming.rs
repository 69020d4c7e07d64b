//! Incoming documents (收文): what a sent document becomes in each recipient organ of this
//! deployment, and how the organ handles it, as article 24 of the 2012 regulations orders it.
//!
//! Sending a document (分发) delivers it: every organ named on it (主送 or 抄送) that is one of
//! this deployment's departments finds a copy of it in its inbox — its elements, number,
//! sender and date, standing alone. There the organ's secretariat (its clerks and
//! administrators) signs for it (签收) or refuses it with the reason (a document sent to the
//! wrong organ), registers it (登记, which gives it the organ's register number 收文编号 of the
//! year, without gaps), screens it (初审) and either returns it to the sender with the reason
//! (退文) or gives it to a handler with a limit in working days (承办). The handler circulates
//! it to colleagues to read (传阅) and answers it (答复), which closes it (办结) and is shown to
//! the sender beside their document. As the limit nears, the `office.urge` job reminds the
//! handler once (催办), and the secretariat may remind them at any time. Every act is a row of
//! the document's history, with the digests of its opinion and of the document's text, and is
//! witnessed in the transparency log as an `office_incoming_act` entry.

use serde::{Deserialize, Serialize};

use crate::authz::{self, Action, Resource};
use crate::error::{AppError, AppResult, retrying};
use crate::gongwen::draft::Draft;
use crate::identity::model::{Actor, Role};
use crate::people::PartyView;
use crate::state::AppState;
use crate::store::{self, HistoryRow, IncomingRow};

/// The longest opinion or answer, in characters.
const MAX_OPINION: usize = 2_000;
/// The most people a document is circulated to at once.
const MAX_READERS: usize = 20;
/// The longest limit a handler is given, in working days.
const MAX_DAYS: u32 = 60;
/// The code under which an organ's register numbers are counted.
fn register_code(department: &str) -> String {
    format!("收文:{department}")
}

/// Where a received document stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InStep {
    /// 待签收: in the organ's inbox.
    Receiving,
    /// 待登记: signed for, waiting to be registered.
    Registering,
    /// 待初审: registered, waiting to be screened.
    Screening,
    /// 承办中: with its handler.
    Handling,
    /// 已办结: answered.
    Done,
    /// 已拒收: refused at the door (not this organ's).
    Refused,
    /// 已退文: returned to the sender after screening.
    Returned,
}

/// An act on a received document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InAct {
    /// 签收 (the secretariat).
    Receive,
    /// 拒收, with the reason (the secretariat).
    Refuse,
    /// 登记: takes the register number (the secretariat).
    Register,
    /// 承办: gives it to a handler with a limit in working days (the secretariat).
    Assign,
    /// 退文: back to the sender, with the reason (the secretariat).
    Return,
    /// 传阅: to colleagues to read (the handler or the secretariat).
    Circulate,
    /// 催办: reminds the handler (the secretariat; the `office.urge` job as the limit nears).
    Urge,
    /// 阅: a colleague it was circulated to has read it (with a remark, if any).
    Read,
    /// 答复: the handler's answer, which closes it (办结).
    Reply,
}

/// Who one is on a received document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Secretary,
    Handler,
    Reader,
}

impl InStep {
    pub fn as_str(self) -> &'static str {
        match self {
            InStep::Receiving => "receiving",
            InStep::Registering => "registering",
            InStep::Screening => "screening",
            InStep::Handling => "handling",
            InStep::Done => "done",
            InStep::Refused => "refused",
            InStep::Returned => "returned",
        }
    }

    pub fn parse(text: &str) -> Option<InStep> {
        [
            InStep::Receiving,
            InStep::Registering,
            InStep::Screening,
            InStep::Handling,
            InStep::Done,
            InStep::Refused,
            InStep::Returned,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// The text key naming the step.
    pub fn key(self) -> &'static str {
        match self {
            InStep::Receiving => "office.in.receiving",
            InStep::Registering => "office.in.registering",
            InStep::Screening => "office.in.screening",
            InStep::Handling => "office.in.handling",
            InStep::Done => "office.in.done",
            InStep::Refused => "office.in.refused",
            InStep::Returned => "office.in.returned",
        }
    }
}

impl InAct {
    pub const ALL: [InAct; 9] = [
        InAct::Receive,
        InAct::Refuse,
        InAct::Register,
        InAct::Assign,
        InAct::Return,
        InAct::Circulate,
        InAct::Urge,
        InAct::Read,
        InAct::Reply,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InAct::Receive => "receive",
            InAct::Refuse => "refuse",
            InAct::Register => "register",
            InAct::Assign => "assign",
            InAct::Return => "return",
            InAct::Circulate => "circulate",
            InAct::Urge => "urge",
            InAct::Read => "read",
            InAct::Reply => "reply",
        }
    }

    pub fn parse(text: &str) -> Option<InAct> {
        InAct::ALL.into_iter().find(|a| a.as_str() == text)
    }

    /// The text key naming the act.
    pub fn key(self) -> &'static str {
        match self {
            InAct::Receive => "office.in.act.receive",
            InAct::Refuse => "office.in.act.refuse",
            InAct::Register => "office.in.act.register",
            InAct::Assign => "office.in.act.assign",
            InAct::Return => "office.in.act.return",
            InAct::Circulate => "office.in.act.circulate",
            InAct::Urge => "office.in.act.urge",
            InAct::Read => "office.in.act.read",
            InAct::Reply => "office.in.act.reply",
        }
    }

    /// Acts that are not taken without their reason or answer.
    pub fn needs_opinion(self) -> bool {
        matches!(self, InAct::Refuse | InAct::Return | InAct::Reply)
    }
}

/// The acts of each step: (act, by whom, where it leads).
fn moves(step: InStep) -> &'static [(InAct, Who, InStep)] {
    use InAct::*;
    use Who::*;
    match step {
        InStep::Receiving => &[
            (Receive, Secretary, InStep::Registering),
            (Refuse, Secretary, InStep::Refused),
        ],
        InStep::Registering => &[(Register, Secretary, InStep::Screening)],
        InStep::Screening => &[
            (Assign, Secretary, InStep::Handling),
            (Return, Secretary, InStep::Returned),
        ],
        InStep::Handling => &[
            (Circulate, Handler, InStep::Handling),
            (Circulate, Secretary, InStep::Handling),
            (Urge, Secretary, InStep::Handling),
            (Read, Reader, InStep::Handling),
            (Reply, Handler, InStep::Done),
        ],
        InStep::Done => &[(Read, Reader, InStep::Done)],
        InStep::Refused | InStep::Returned => &[],
    }
}

/// An act on a received document.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActOnIncoming {
    pub act: Option<InAct>,
    /// The reason (拒收, 退文), the answer (答复), or a remark.
    #[serde(default)]
    pub opinion: String,
    /// For `assign`: the handler's account (a clerk or administrator of the organ).
    #[serde(default)]
    pub handler: Option<String>,
    /// For `assign`: the limit, in working days from today (1–60).
    #[serde(default)]
    pub days: Option<u32>,
    /// For `circulate`: the accounts to read it (colleagues in the organ).
    #[serde(default)]
    pub readers: Vec<String>,
}

/// A colleague a document was circulated to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReaderView {
    pub account_id: String,
    pub name: String,
    pub read_at: Option<String>,
}

/// An act in a received document's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IncomingHistoryView {
    pub seq: i64,
    pub step: InStep,
    pub act: InAct,
    pub by: String,
    pub opinion: String,
    pub opinion_digest: String,
    pub content_digest: String,
    pub log_index: Option<i64>,
    pub at: String,
}

/// A received document as the organ's staff read it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IncomingView {
    pub id: String,
    pub step: InStep,
    /// The organ that sent it.
    pub sender: String,
    /// Copied to the organ (抄送) rather than addressed to it (主送).
    pub copied: bool,
    /// The sender's number (发文字号).
    pub number: String,
    /// 成文日期, as on the document.
    pub dated: String,
    /// The organ's register number (收文编号), once registered.
    pub register_number: Option<String>,
    pub draft: Draft,
    pub handler: Option<PartyView>,
    /// The last day of the handler's limit (YYYY-MM-DD).
    pub due_day: Option<String>,
    /// When the handler was last reminded.
    pub reminded_at: Option<String>,
    /// The handler's answer.
    pub reply: Option<String>,
    pub readers: Vec<ReaderView>,
    pub history: Vec<IncomingHistoryView>,
    /// What the reader may do now.
    pub acts: Vec<InAct>,
    pub received_at: String,
}

/// A received document in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IncomingLine {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub sender: String,
    pub number: String,
    pub step: InStep,
    pub register_number: Option<String>,
    pub due_day: Option<String>,
    pub received_at: String,
}

/// Where a sent document went, as its sender sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub recipient: String,
    pub copied: bool,
    /// Where it stands in the recipient organ; `None` for an organ that is not one of this
    /// deployment's (it is sent there outside the platform).
    pub step: Option<InStep>,
    /// The recipient's answer, once given.
    pub reply: Option<String>,
    /// The other region, for an organ reached through the exchange.
    pub region: Option<String>,
    /// For an organ of another region: `sending` until that region takes the document, then
    /// `delivered`, or `refused` with its reason in `reply`.
    pub exchange: Option<String>,
}

fn register_number(row: &IncomingRow) -> Option<String> {
    match (row.register_year, row.register_seq) {
        (Some(year), Some(seq)) => Some(format!("收〔{year}〕{seq}号")),
        _ => None,
    }
}

fn staff_of(actor: &Actor, department: &str) -> bool {
    authz::can(
        actor,
        Action::HandleDocuments,
        Resource::Department { id: department },
    )
}

async fn roles_of(state: &AppState, actor: &Actor, row: &IncomingRow) -> AppResult<Vec<Who>> {
    let mut roles = Vec::new();
    if staff_of(actor, &row.department_id) {
        roles.push(Who::Secretary);
    }
    if row.handler_id.as_deref() == Some(actor.id()) {
        roles.push(Who::Handler);
    }
    if store::reader_unread(state.pool(), &row.id, actor.id()).await? {
        roles.push(Who::Reader);
    }
    Ok(roles)
}

/// A received document the actor may read: its organ's staff, its handler and those it was
/// circulated to; anyone else is told it does not exist.
async fn readable(state: &AppState, actor: &Actor, id: &str) -> AppResult<IncomingRow> {
    let row = store::incoming(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if staff_of(actor, &row.department_id)
        || row.handler_id.as_deref() == Some(actor.id())
        || store::is_reader(state.pool(), id, actor.id()).await?
    {
        Ok(row)
    } else {
        Err(AppError::NotFound)
    }
}

fn acts_for(step: InStep, roles: &[Who]) -> Vec<InAct> {
    let mut acts: Vec<InAct> = moves(step)
        .iter()
        .filter(|(_, who, _)| roles.contains(who))
        .map(|(act, _, _)| *act)
        .collect();
    acts.dedup();
    acts
}

/// Delivers a sent document to the inboxes of the organs named on it that are this
/// deployment's, once: a document delivered before is left as it is.
pub async fn deliver(state: &AppState, document_id: &str) -> AppResult<usize> {
    let Some(document) = store::document(state.pool(), document_id).await? else {
        return Ok(0);
    };
    if document.state != "sent" || store::delivered(state.pool(), document_id).await? {
        return Ok(0);
    }
    let departments = crate::admin::store::departments(state.pool()).await?;
    let sender = departments
        .iter()
        .find(|d| d.id == document.department_id)
        .map(|d| d.name.clone())
        .unwrap_or_default();
    let history = store::history(state.pool(), document_id).await?;
    let zone = state.zone();
    let dated = history
        .iter()
        .rev()
        .find(|h| h.act == "sign")
        .map(|h| {
            let day = zone.date_of(h.at);
            format!("{}年{}月{}日", day.year(), u8::from(day.month()), day.day())
        })
        .unwrap_or_default();
    let number = document
        .number
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let draft = serde_json::to_string(&document.draft).map_err(|e| AppError::Internal(e.into()))?;
    let now = state.now();
    let named = document
        .draft
        .main_recipients
        .iter()
        .map(|r| (r, false))
        .chain(document.draft.copied_to.iter().map(|r| (r, true)));
    let named: Vec<(&crate::gongwen::draft::Recipient, bool)> = named.collect();
    // The organs named that are not this deployment's but a partner region's: one package per
    // region, written with the delivery and sent by the office's exchange job.
    let elsewhere: Vec<(usize, &str, bool)> = named
        .iter()
        .enumerate()
        .filter(|(_, (r, _))| !departments.iter().any(|d| d.name == r.name.trim()))
        .map(|(position, (r, copied))| (position, r.name.trim(), *copied))
        .collect();
    let remote = crate::parcel::remote_recipients(state, &elsewhere).await?;
    let sender_uscc = departments
        .iter()
        .find(|d| d.id == document.department_id)
        .and_then(|d| d.uscc.clone());
    let mut tx = state.pool().begin().await?;
    if !store::mark_delivered(&mut *tx, document_id, now).await? {
        // Another node delivered it meanwhile.
        return Ok(0);
    }
    let mut taken = std::collections::HashSet::new();
    let mut delivered = 0;
    let mut regions = std::collections::HashMap::new();
    if let Some(uscc) = &sender_uscc {
        for crate::parcel::Bound {
            region,
            exchange_uscc,
            organs,
        } in &remote
        {
            let package = crate::parcel::Package {
                document: document_id.to_owned(),
                sender: crate::parcel::Organ {
                    uscc: uscc.clone(),
                    name: sender.clone(),
                },
                number: number.clone(),
                dated: dated.clone(),
                draft: document.draft.clone(),
                recipients: organs.iter().map(|(_, a)| a.clone()).collect(),
            };
            let body = serde_json::to_string(&package).map_err(|e| AppError::Internal(e.into()))?;
            store::insert_exchange(&mut *tx, document_id, region, exchange_uscc, &body, now)
                .await?;
            for (position, _) in organs {
                regions.insert(*position, region.as_str());
            }
        }
    }
    for (position, (recipient, copied)) in named.into_iter().enumerate() {
        let organ = departments
            .iter()
            .find(|d| d.name == recipient.name.trim() && d.id != document.department_id);
        let incoming_id = match organ {
            // An organ named twice (主送 and 抄送) receives one copy.
            Some(organ) if taken.insert(organ.id.clone()) => {
                let row = arrived(&Arrival {
                    organ: &organ.id,
                    source: document_id,
                    sender_id: &document.department_id,
                    sender_name: &sender,
                    copied,
                    draft: &document.draft,
                    draft_json: &draft,
                    number: &number,
                    dated: &dated,
                    at: now,
                });
                let id = row.id.clone();
                store::insert_incoming(&mut *tx, &row).await?;
                delivered += 1;
                Some(id)
            }
            _ => None,
        };
        store::insert_delivery(
            &mut *tx,
            &store::NewDelivery {
                document: document_id,
                position: i64::try_from(position).unwrap_or(i64::MAX),
                recipient: recipient.name.trim(),
                copied,
                incoming: incoming_id.as_deref(),
                region: regions.get(&position).copied(),
                at: now,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(delivered)
}

/// Delivers the sent documents not yet delivered (after a failure or a crash between the
/// sending and the delivery).
pub async fn deliver_left(state: &AppState) -> AppResult<()> {
    for id in store::undelivered(state.pool(), 100).await? {
        if let Err(error) = deliver(state, &id).await {
            tracing::warn!(%error, "a sent document waits to be delivered");
        }
    }
    Ok(())
}

/// A sent document as it arrives in an organ's inbox, to be signed for: a copy that stands
/// alone (the elements, number, sender and 成文日期 as sent).
pub struct Arrival<'a> {
    pub organ: &'a str,
    /// The sent document: its id here, or `{region}/{id}` for one of another region.
    pub source: &'a str,
    /// The sending organ: its department id here, or `uscc:{USCC}` for another region's.
    pub sender_id: &'a str,
    pub sender_name: &'a str,
    pub copied: bool,
    pub draft: &'a crate::gongwen::draft::Draft,
    /// The same elements as JSON.
    pub draft_json: &'a str,
    pub number: &'a str,
    pub dated: &'a str,
    pub at: i64,
}

/// The received copy an arrival makes, with a new id.
pub fn arrived(arrival: &Arrival<'_>) -> IncomingRow {
    IncomingRow {
        id: uuid::Uuid::new_v4().to_string(),
        department_id: arrival.organ.to_owned(),
        source_document_id: arrival.source.to_owned(),
        sender_department_id: arrival.sender_id.to_owned(),
        sender_name: arrival.sender_name.to_owned(),
        copied: i64::from(arrival.copied),
        title: arrival.draft.title.clone(),
        number: arrival.number.to_owned(),
        draft: arrival.draft_json.to_owned(),
        dated: arrival.dated.to_owned(),
        urgency: store::urgency_rank(arrival.draft),
        state: InStep::Receiving.as_str().to_owned(),
        register_year: None,
        register_seq: None,
        handler_id: None,
        due_day: None,
        reminded_at: None,
        reply: None,
        version: 0,
        received_at: arrival.at,
        modified_at: arrival.at,
    }
}

/// Where a sent document went (its sender's view).
pub async fn deliveries(state: &AppState, document_id: &str) -> AppResult<Vec<DeliveryView>> {
    Ok(store::deliveries(state.pool(), document_id)
        .await?
        .into_iter()
        .map(|row| {
            let exchange = row
                .region
                .as_ref()
                .map(|_| row.outcome.clone().unwrap_or_else(|| "sending".to_owned()));
            let reply = if exchange.as_deref() == Some("refused") {
                row.answer
            } else {
                row.reply
            };
            DeliveryView {
                recipient: row.recipient,
                copied: row.copied != 0,
                step: row.state.as_deref().and_then(InStep::parse),
                reply,
                region: row.region,
                exchange,
            }
        })
        .collect())
}

/// Takes an act on a received document; the act is then witnessed in the transparency log.
pub async fn act(
    state: &AppState,
    actor: &Actor,
    id: &str,
    request: ActOnIncoming,
) -> AppResult<IncomingView> {
    // What the actor may not see does not exist, whatever is asked of it.
    readable(state, actor, id).await?;
    let act = request
        .act
        .ok_or_else(|| AppError::invalid("act", "choose what to do"))?;
    let opinion = request.opinion.trim().to_owned();
    if opinion.chars().count() > MAX_OPINION {
        return Err(AppError::invalid(
            "opinion",
            format!("at most {MAX_OPINION} characters"),
        ));
    }
    if act.needs_opinion() && opinion.is_empty() {
        return Err(AppError::invalid(
            "opinion",
            "give the reason or the answer for this act",
        ));
    }
    let row = retrying(|| act_once(state, actor, id, act, &request, &opinion)).await?;
    witness(state, &row).await;
    view(state, actor, id).await
}

async fn act_once(
    state: &AppState,
    actor: &Actor,
    id: &str,
    act: InAct,
    request: &ActOnIncoming,
    opinion: &str,
) -> AppResult<HistoryRow> {
    let row = readable(state, actor, id).await?;
    let step = InStep::parse(&row.state)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown step {}", row.state)))?;
    let roles = roles_of(state, actor, &row).await?;
    let Some((_, _, next)) = moves(step)
        .iter()
        .find(|(a, who, _)| *a == act && roles.contains(who))
        .copied()
    else {
        return Err(if moves(step).iter().any(|(a, _, _)| *a == act) {
            AppError::NotAuthorised(format!(
                "{} in {} is for {}",
                act.as_str(),
                step.as_str(),
                match act {
                    InAct::Read => "those it was circulated to, once",
                    InAct::Reply => "its handler",
                    InAct::Circulate => "its handler or the organ's secretariat",
                    _ => "the organ's secretariat",
                }
            ))
        } else {
            AppError::Conflict(format!(
                "the document is at {}: {} cannot be done now",
                step.as_str(),
                act.as_str()
            ))
        });
    };
    let now = state.now();
    let mut changed = row.clone();
    changed.state = next.as_str().to_owned();
    changed.modified_at = now;
    let mut readers = Vec::new();
    match act {
        InAct::Assign => {
            let handler = request
                .handler
                .as_deref()
                .ok_or_else(|| AppError::invalid("handler", "name the handler"))?;
            crate::people::staff_member(
                state,
                handler,
                &row.department_id,
                &[Role::Clerk, Role::DeptAdmin],
            )
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    "handler",
                    "the handler is a clerk or an administrator of the organ",
                )
            })?;
            let days = request
                .days
                .filter(|d| (1..=MAX_DAYS).contains(d))
                .ok_or_else(|| {
                    AppError::invalid("days", format!("1 to {MAX_DAYS} working days"))
                })?;
            let region = crate::admin::store::department(state.pool(), &row.department_id)
                .await?
                .map(|d| d.region_code.as_str().to_owned())
                .unwrap_or_default();
            let calendar = tongban_services::applications::calendar_of(state, &region).await?;
            changed.handler_id = Some(handler.to_owned());
            changed.due_day = Some(tongban_core::zone::ymd(
                calendar.add_working_days(state.today(), days),
            ));
            changed.reminded_at = None;
        }
        InAct::Circulate => {
            if request.readers.is_empty() || request.readers.len() > MAX_READERS {
                return Err(AppError::invalid(
                    "readers",
                    format!("name one to {MAX_READERS} colleagues"),
                ));
            }
            for reader in &request.readers {
                let colleague = crate::people::staff_member(
                    state,
                    reader,
                    &row.department_id,
                    &[Role::Clerk, Role::DeptAdmin],
                )
                .await?;
                if colleague.is_none() || reader == actor.id() {
                    return Err(AppError::invalid(
                        "readers",
                        "each a colleague in the organ, other than oneself",
                    ));
                }
                if !readers.contains(reader) {
                    readers.push(reader.clone());
                }
            }
        }
        InAct::Urge => changed.reminded_at = Some(now),
        InAct::Reply => changed.reply = Some(opinion.to_owned()),
        _ => {}
    }
    let mut tx = state.pool().begin().await?;
    if act == InAct::Register {
        let year = state.today().year();
        let seq = store::next_number(&mut *tx, &register_code(&row.department_id), year).await?;
        changed.register_year = Some(i64::from(year));
        changed.register_seq = Some(seq);
    }
    if !store::advance_incoming(&mut *tx, &changed, row.version).await? {
        return Err(AppError::Conflict(
            "someone acted on the document first: read it again".into(),
        ));
    }
    for reader in &readers {
        store::insert_reader(&mut *tx, id, reader, now).await?;
    }
    if act == InAct::Read {
        store::mark_reader_read(&mut *tx, id, actor.id(), now).await?;
    }
    let history = HistoryRow {
        document_id: id.to_owned(),
        seq: row.version + 1,
        step: step.as_str().to_owned(),
        act: act.as_str().to_owned(),
        actor_id: actor.id().to_owned(),
        actor_name: actor.account.display_name.clone(),
        opinion: opinion.to_owned(),
        opinion_digest: crate::people::digest(state, opinion.as_bytes()),
        content_digest: content_digest(state, &row),
        log_index: None,
        at: now,
    };
    store::insert_incoming_history(&mut *tx, &history).await?;
    tx.commit().await?;
    Ok(history)
}

/// The digest of the document as received: its number and elements.
fn content_digest(state: &AppState, row: &IncomingRow) -> String {
    let mut text = row.number.clone().into_bytes();
    text.push(b'\n');
    text.extend_from_slice(row.draft.as_bytes());
    crate::people::digest(state, &text)
}

#[derive(Serialize)]
struct Witnessed<'a> {
    kind: &'static str,
    incoming: &'a str,
    seq: i64,
    step: &'a str,
    act: &'a str,
    actor: &'a str,
    opinion_digest: &'a str,
    content_digest: &'a str,
    at: i64,
}

async fn witness(state: &AppState, row: &HistoryRow) {
    let entry = Witnessed {
        kind: "office_incoming_act",
        incoming: &row.document_id,
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
        store::set_incoming_log_index(
            state.pool(),
            &row.document_id,
            row.seq,
            i64::try_from(index).unwrap_or(i64::MAX),
        )
        .await
    }
    .await;
    if let Err(error) = outcome {
        tracing::warn!(%error, "an act on a received document waits for the transparency log");
    }
}

/// Appends to the log the acts on received documents it does not witness yet.
pub async fn witness_left(state: &AppState) -> AppResult<()> {
    for row in store::unlogged_incoming(state.pool(), 500).await? {
        witness(state, &row).await;
    }
    Ok(())
}

/// The name the reminders the platform sends stand under in a history.
const URGED_BY: &str = "office.urge";

/// Reminds, once, each handler whose limit ends within a working day (or has passed) and who
/// has not been reminded since they were given the document.
pub async fn urge_due(state: &AppState) -> AppResult<usize> {
    let today = state.today();
    // Working days are never fewer than calendar days: what ends within a working day ends
    // within ten calendar days (a long holiday included).
    let horizon = tongban_core::zone::ymd(today.saturating_add(time::Duration::days(10)));
    let mut urged = 0;
    for row in store::unreminded_due(state.pool(), &horizon, 200).await? {
        let Some(due) = row
            .due_day
            .as_deref()
            .and_then(tongban_core::zone::parse_ymd)
        else {
            continue;
        };
        let region = crate::admin::store::department(state.pool(), &row.department_id)
            .await?
            .map(|d| d.region_code.as_str().to_owned())
            .unwrap_or_default();
        let calendar = tongban_services::applications::calendar_of(state, &region).await?;
        if calendar.working_days_left(today, due) > 1 {
            continue;
        }
        let now = state.now();
        let mut changed = row.clone();
        changed.reminded_at = Some(now);
        changed.modified_at = row.modified_at;
        let opinion = format!("办理时限 {} 将到，请及时办理", tongban_core::zone::ymd(due));
        let history = HistoryRow {
            document_id: row.id.clone(),
            seq: row.version + 1,
            step: InStep::Handling.as_str().to_owned(),
            act: InAct::Urge.as_str().to_owned(),
            actor_id: URGED_BY.to_owned(),
            actor_name: "系统催办".to_owned(),
            opinion_digest: crate::people::digest(state, opinion.as_bytes()),
            opinion,
            content_digest: content_digest(state, &row),
            log_index: None,
            at: now,
        };
        let mut tx = state.pool().begin().await?;
        if !store::advance_incoming(&mut *tx, &changed, row.version).await? {
            continue;
        }
        store::insert_incoming_history(&mut *tx, &history).await?;
        tx.commit().await?;
        witness(state, &history).await;
        urged += 1;
    }
    Ok(urged)
}

/// A received document with its history and what the actor may do.
pub async fn view(state: &AppState, actor: &Actor, id: &str) -> AppResult<IncomingView> {
    let row = readable(state, actor, id).await?;
    let step = InStep::parse(&row.state).unwrap_or(InStep::Receiving);
    let acts = acts_for(step, &roles_of(state, actor, &row).await?);
    let draft: Draft =
        serde_json::from_str(&row.draft).map_err(|e| AppError::Internal(e.into()))?;
    let handler = match row.handler_id.as_deref() {
        Some(handler) => Some(crate::people::party_view(state, handler, None).await?),
        None => None,
    };
    let mut readers = Vec::new();
    for (account, read_at) in store::readers(state.pool(), id).await? {
        let party = crate::people::party_view(state, &account, None).await?;
        readers.push(ReaderView {
            account_id: account,
            name: party.name,
            read_at: read_at.map(crate::time_fmt::rfc3339),
        });
    }
    let history = store::incoming_history(state.pool(), id)
        .await?
        .into_iter()
        .map(|h| IncomingHistoryView {
            seq: h.seq,
            step: InStep::parse(&h.step).unwrap_or(InStep::Receiving),
            act: InAct::parse(&h.act).unwrap_or(InAct::Receive),
            by: h.actor_name,
            opinion: h.opinion,
            opinion_digest: h.opinion_digest,
            content_digest: h.content_digest,
            log_index: h.log_index,
            at: crate::time_fmt::rfc3339(h.at),
        })
        .collect();
    Ok(IncomingView {
        register_number: register_number(&row),
        id: row.id,
        step,
        sender: row.sender_name,
        copied: row.copied != 0,
        number: row.number,
        dated: row.dated,
        draft,
        handler,
        due_day: row.due_day,
        reminded_at: row.reminded_at.map(crate::time_fmt::rfc3339),
        reply: row.reply,
        readers,
        history,
        acts,
        received_at: crate::time_fmt::rfc3339(row.received_at),
    })
}

fn line_of(row: IncomingRow) -> IncomingLine {
    let kind = serde_json::from_str::<Draft>(&row.draft)
        .map(|d| d.kind.zh().to_owned())
        .unwrap_or_default();
    IncomingLine {
        register_number: register_number(&row),
        step: InStep::parse(&row.state).unwrap_or(InStep::Receiving),
        id: row.id,
        title: row.title,
        kind,
        sender: row.sender_name,
        number: row.number,
        due_day: row.due_day,
        received_at: crate::time_fmt::rfc3339(row.received_at),
    }
}

/// The organ's received documents, newest first (its staff), and those given to or
/// circulated to the actor.
pub async fn list(state: &AppState, actor: &Actor, limit: i64) -> AppResult<Vec<IncomingLine>> {
    let department = actor
        .account
        .department_id
        .as_deref()
        .filter(|d| staff_of(actor, d));
    let rows = store::incoming_of(state.pool(), department, actor.id(), limit).await?;
    Ok(rows.into_iter().map(line_of).collect())
}

/// The received documents' part of the actor's to-do list: for the organ's secretariat, those
/// to sign for, register and screen; for a handler, those given to them, due at the end of
/// their limit's last day and urgent once reminded; for a colleague, those circulated to them
/// and not yet read.
pub async fn todo_part(
    state: &AppState,
    actor: &Actor,
    t: crate::web::i18n::Tr,
    limit: usize,
) -> AppResult<crate::module::TodoPart> {
    let department = actor
        .account
        .department_id
        .as_deref()
        .filter(|d| staff_of(actor, d));
    let cap = i64::try_from(limit).unwrap_or(i64::MAX);
    let (rows, total) = store::incoming_waiting(state.pool(), department, actor.id(), cap).await?;
    let zone = state.zone();
    let items = rows
        .into_iter()
        .map(|(row, reading)| {
            let step = InStep::parse(&row.state).unwrap_or(InStep::Receiving);
            let kind = if reading {
                "office.todo_reading"
            } else {
                step.key()
            };
            let urgency = u8::try_from(row.urgency).unwrap_or(0);
            crate::module::TodoItem {
                module: "office",
                kind: t.get(kind).to_owned(),
                title: format!("{} · {}", row.title, row.sender_name),
                link: format!("/office/incoming/{}", row.id),
                due: (!reading && step == InStep::Handling)
                    .then(|| {
                        row.due_day
                            .as_deref()
                            .and_then(tongban_core::zone::parse_ymd)
                    })
                    .flatten()
                    .and_then(|day| day.next_day())
                    .map(|next| zone.start_of(next) - 1),
                urgency: if !reading && row.reminded_at.is_some() {
                    urgency.max(1)
                } else {
                    urgency
                },
                at: row.modified_at,
            }
        })
        .collect();
    Ok(crate::module::TodoPart {
        items,
        total: usize::try_from(total).unwrap_or(0),
    })
}

/// What the actor did to received documents, for the 已办 list.
pub async fn done_part(
    state: &AppState,
    actor: &Actor,
    t: crate::web::i18n::Tr,
    limit: usize,
) -> AppResult<crate::module::TodoPart> {
    let cap = i64::try_from(limit).unwrap_or(i64::MAX);
    let items: Vec<crate::module::TodoItem> =
        store::handled_incoming_by(state.pool(), actor.id(), cap)
            .await?
            .into_iter()
            .map(|(id, title, act, at)| crate::module::TodoItem {
                module: "office",
                kind: t
                    .get(InAct::parse(&act).unwrap_or(InAct::Receive).key())
                    .to_owned(),
                title,
                link: format!("/office/incoming/{id}"),
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
