//! `/office`: 协同办公 as officials use it. The desk lists the documents waiting for the
//! official, the department's documents and a form to draft one; a document's page shows it
//! laid out as the format standard lays a document out (the red organ mark and line, number,
//! title, recipients, body, signature and date), its history (流转记录) with the digests the
//! transparency log witnesses, and the acts the reader may take now.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::documents::{self, ActOnDocument, DocumentView, NewDocument, Todo};
use crate::error::AppError;
use crate::gongwen::draft::{Draft, Recipient, Relation, Urgency};
use crate::gongwen::flow::Act;
use crate::gongwen::kind::{Direction, Kind};
use crate::layout::Layout;
use crate::state::AppState;
use crate::web::extract::PageForm;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/office", get(desk))
        .route("/office/documents", post(create))
        .route("/office/documents/{id}", get(document))
        .route("/office/documents/{id}/acts", post(act))
        .route("/office/documents/{id}/pdf", get(file))
        .route("/office/notices", get(notices).post(send_notice))
        .route("/office/notices/{id}", get(notice))
        .route("/office/notices/{id}/reminders", post(remind))
        .merge(crate::directory_page::routes())
}

#[derive(Template)]
#[template(path = "office_notices.html")]
struct NoticesPage {
    base: PageBase,
    /// (id, title, sent, read) of those received; (id, title, sent, read, of) of those sent.
    received: Vec<(String, String, String, bool)>,
    sent: Vec<(String, String, String, usize, usize)>,
    /// The units a notice may go to (id, name), when the reader may send one.
    units: Vec<(String, String)>,
}

async fn notices(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let list = crate::notices::list(&state, actor)
        .await
        .map_err(|e| ctx.error(e))?;
    let may_send = actor.account.department_id.as_deref().is_some_and(|id| {
        crate::authz::can(
            actor,
            crate::authz::Action::HandleDocuments,
            crate::authz::Resource::Department { id },
        )
    });
    let units = if may_send {
        crate::admin::store::departments(state.pool())
            .await
            .map_err(|e| ctx.error(e))?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect()
    } else {
        Vec::new()
    };
    Ok(ctx.render(&NoticesPage {
        base: ctx.base("office.notices"),
        received: list
            .received
            .into_iter()
            .map(|n| {
                (
                    n.id,
                    n.title,
                    ctx.zone.display_rfc3339(&n.sent_at),
                    n.read == Some(true),
                )
            })
            .collect(),
        sent: list
            .sent
            .into_iter()
            .map(|n| {
                let (read, of) = n.receipts.unwrap_or_default();
                (
                    n.id,
                    n.title,
                    ctx.zone.display_rfc3339(&n.sent_at),
                    read,
                    of,
                )
            })
            .collect(),
        units,
    }))
}

async fn send_notice(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let one = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    ctx.check_csrf(&one("csrf"))?;
    // A day typed on the page: read by the end of it, in the region's zone.
    let read_by = match one("read_by").trim() {
        "" => None,
        day => Some(
            tongban_core::zone::parse_ymd(day)
                .and_then(|d| d.next_day())
                .map(|next| crate::time_fmt::rfc3339(ctx.zone.start_of(next) - 1))
                .ok_or_else(|| ctx.error(AppError::invalid("read_by", "a day as 2026-12-31")))?,
        ),
    };
    let sent = crate::notices::send(
        &state,
        actor,
        crate::notices::NewNotice {
            title: one("title"),
            body: one("body"),
            departments: fields
                .iter()
                .filter(|(k, v)| k == "unit" && !v.is_empty())
                .map(|(_, v)| v.clone())
                .collect(),
            accounts: Vec::new(),
            read_by,
        },
    )
    .await
    .map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect(&format!("/office/notices/{}", sent.id)))
}

#[derive(Template)]
#[template(path = "office_notice.html")]
struct NoticePage {
    base: PageBase,
    notice: crate::notices::NoticeView,
    sent_at: String,
    read_by: Option<String>,
    /// (name, read at) of every recipient, for the sending department.
    receipts: Option<Vec<(String, Option<String>)>>,
    reminded: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Reminded {
    #[serde(default)]
    reminded: Option<usize>,
}

async fn notice(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Query(reminded): Query<Reminded>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let notice = crate::notices::view(&state, actor, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&NoticePage {
        base: ctx.base("office.notices"),
        sent_at: ctx.zone.display_rfc3339(&notice.sent_at),
        read_by: notice
            .read_by
            .as_deref()
            .map(|t| ctx.zone.display_rfc3339(t)),
        receipts: notice.receipts.as_ref().map(|receipts| {
            receipts
                .iter()
                .map(|r| {
                    (
                        r.name.clone(),
                        r.read_at.as_deref().map(|t| ctx.zone.display_rfc3339(t)),
                    )
                })
                .collect()
        }),
        reminded: reminded
            .reminded
            .map(|n| format!("{} {n}", ctx.t.get("office.notice_reminded"))),
        notice,
    }))
}

async fn remind(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let reminded = crate::notices::remind(&state, actor, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect(&format!("/office/notices/{id}?reminded={reminded}")))
}

type Fields = BTreeMap<String, String>;

fn field(fields: &Fields, name: &str) -> String {
    fields.get(name).cloned().unwrap_or_default()
}

/// A list row: the document and its step's name.
struct Row {
    todo: Todo,
    step: String,
    /// Since when it waits, in the region's zone.
    since: String,
}

#[derive(Template)]
#[template(path = "office_desk.html")]
struct DeskPage {
    base: PageBase,
    waiting: Vec<Row>,
    documents: Vec<Row>,
    codes: Vec<String>,
    /// (value, 中文 name) of the kinds and directions.
    kinds: Vec<(&'static str, &'static str)>,
    directions: Vec<(&'static str, &'static str)>,
    can_draft: bool,
}

fn rows(ctx: &PageCtx, todos: Vec<Todo>) -> Vec<Row> {
    todos
        .into_iter()
        .map(|todo| Row {
            step: ctx.t.get(documents::step_key(todo.step)).to_owned(),
            since: ctx.zone.display_rfc3339(&todo.since),
            todo,
        })
        .collect()
}

fn kind_value(kind: Kind) -> &'static str {
    match kind {
        Kind::Resolution => "resolution",
        Kind::Decision => "decision",
        Kind::Order => "order",
        Kind::Communique => "communique",
        Kind::Announcement => "announcement",
        Kind::PublicNotice => "public_notice",
        Kind::Opinion => "opinion",
        Kind::Notice => "notice",
        Kind::Bulletin => "bulletin",
        Kind::Report => "report",
        Kind::Request => "request",
        Kind::Reply => "reply",
        Kind::Motion => "motion",
        Kind::Letter => "letter",
        Kind::Minutes => "minutes",
    }
}

const DIRECTIONS: [(Direction, &str, &str); 4] = [
    (Direction::Downward, "downward", "下行文（主送下级机关）"),
    (Direction::Upward, "upward", "上行文（主送上级机关）"),
    (
        Direction::Parallel,
        "parallel",
        "平行文（主送不相隶属机关）",
    ),
    (Direction::Public, "public", "普发（不写主送机关）"),
];

async fn desk(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let waiting = documents::todo(&state, actor, 200)
        .await
        .map_err(|e| ctx.error(e))?;
    // Only the department's staff have a department's list, codes and drafts.
    let (list, codes, can_draft) = match documents::list(&state, actor, 200).await {
        Ok(list) => (
            list,
            documents::codes(&state, actor)
                .await
                .map_err(|e| ctx.error(e))?,
            true,
        ),
        Err(AppError::Forbidden) => (Vec::new(), Vec::new(), false),
        Err(e) => return Err(ctx.error(e)),
    };
    Ok(ctx.render(&DeskPage {
        base: ctx.base("office.title"),
        waiting: rows(&ctx, waiting),
        documents: rows(&ctx, list),
        codes,
        kinds: Kind::ALL.iter().map(|k| (kind_value(*k), k.zh())).collect(),
        directions: DIRECTIONS.iter().map(|(_, v, zh)| (*v, *zh)).collect(),
        can_draft,
    }))
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A draft from the desk's form: the main recipients stand to the issuer as the direction
/// says; organs copied are taken as outside its line.
fn draft_from(fields: &Fields) -> Result<Draft, AppError> {
    let kind = Kind::ALL
        .into_iter()
        .find(|k| kind_value(*k) == field(fields, "kind"))
        .ok_or_else(|| AppError::invalid("kind", "choose a kind of document"))?;
    let (direction, _, _) = DIRECTIONS
        .into_iter()
        .find(|(_, v, _)| *v == field(fields, "direction"))
        .ok_or_else(|| AppError::invalid("direction", "choose a direction"))?;
    let relation = match direction {
        Direction::Upward => Relation::Superior,
        Direction::Downward => Relation::Subordinate,
        Direction::Parallel | Direction::Public => Relation::Unrelated,
    };
    let organs = |name: &str, relation: Relation| -> Vec<Recipient> {
        lines(&field(fields, name))
            .into_iter()
            .map(|name| Recipient { name, relation })
            .collect()
    };
    let urgency = match field(fields, "urgency").as_str() {
        "urgent" => Some(Urgency::Urgent),
        "immediate" => Some(Urgency::Immediate),
        _ => None,
    };
    let signer = Some(field(fields, "signer"))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    Ok(Draft {
        kind,
        direction,
        title: field(fields, "title").trim().to_owned(),
        main_recipients: organs("main_recipients", relation),
        copied_to: organs("copied_to", Relation::Unrelated),
        signer,
        secrecy: None,
        copies: None,
        urgency,
        body: field(fields, "body"),
        requests: lines(&field(fields, "requests")),
        attachments: lines(&field(fields, "attachments")),
        answers: None,
    })
}

async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let draft = draft_from(&fields).map_err(|e| ctx.error(e))?;
    let made = documents::create(
        &state,
        actor,
        NewDocument {
            code: field(&fields, "code"),
            draft,
        },
    )
    .await
    .map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect(&format!("/office/documents/{}", made.id)))
}

/// A history row as shown: the step's and act's names, who, when, the opinion, the digests
/// and the log's entry.
struct Shown {
    step: String,
    act: String,
    by: String,
    at: String,
    opinion: String,
    opinion_digest: String,
    content_digest: String,
    log_index: Option<i64>,
}

#[derive(Template)]
#[template(path = "office_document.html")]
struct DocumentPage {
    base: PageBase,
    notice: Option<String>,
    doc: DocumentView,
    layout: Layout,
    step: String,
    kind: String,
    history: Vec<Shown>,
    /// The acts the reader may take: (value, name, needs an opinion).
    acts: Vec<(&'static str, String, bool)>,
    /// For sending it for review: the department's staff (id, name) and its leaders.
    staff: Vec<(String, String)>,
    leaders: Vec<(String, String)>,
    /// The drafter may send it for review.
    can_submit: bool,
    /// Sealed: its signed file can be downloaded.
    sealed: bool,
}

#[derive(Debug, Deserialize)]
struct Notice {
    #[serde(default)]
    done: Option<String>,
}

async fn document(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Query(notice): Query<Notice>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let doc = documents::view(&state, actor, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let organ = crate::admin::store::department(state.pool(), &doc.department_id)
        .await
        .map_err(|e| ctx.error(e))?
        .map(|d| d.name)
        .unwrap_or_default();
    let staff = if doc.acts.contains(&Act::Submit) {
        crate::store::staff_of(state.pool(), &doc.department_id)
            .await
            .map_err(|e| ctx.error(e))?
    } else {
        Vec::new()
    };
    let zone = state.zone();
    let dated = doc
        .history
        .iter()
        .rev()
        .find(|h| h.act == Act::Sign)
        .and_then(|h| crate::time_fmt::parse_millis(&h.at))
        .map(|at| {
            let day = zone.date_of(at);
            format!("{}年{}月{}日", day.year(), u8::from(day.month()), day.day())
        });
    let history = doc
        .history
        .iter()
        .map(|h| Shown {
            step: ctx.t.get(documents::step_key(h.step)).to_owned(),
            act: ctx.t.get(documents::act_key(h.act)).to_owned(),
            by: h.by.clone(),
            at: zone.display_rfc3339(&h.at),
            opinion: h.opinion.clone(),
            opinion_digest: h.opinion_digest.chars().take(16).collect(),
            content_digest: h.content_digest.chars().take(16).collect(),
            log_index: h.log_index,
        })
        .collect();
    let acts = doc
        .acts
        .iter()
        .filter(|a| **a != Act::Submit)
        .map(|a| {
            (
                a.as_str(),
                ctx.t.get(documents::act_key(*a)).to_owned(),
                matches!(a, Act::Agree | Act::Return | Act::Sign),
            )
        })
        .collect();
    let me = actor.id().to_owned();
    Ok(ctx.render(&DocumentPage {
        base: ctx.base("office.title"),
        notice: notice
            .done
            .and_then(|a| Act::parse(&a))
            .map(|a| ctx.t.get(documents::act_key(a)).to_owned()),
        layout: Layout {
            organ,
            draft: doc.draft.clone(),
            number: doc.number.clone(),
            dated,
            upward: doc.draft.direction == Direction::Upward,
        },
        step: ctx.t.get(documents::step_key(doc.step)).to_owned(),
        kind: doc.draft.kind.zh().to_owned(),
        history,
        acts,
        leaders: staff
            .iter()
            .filter(|(id, _, admin)| *admin && *id != doc.drafter.account_id)
            .map(|(id, name, _)| (id.clone(), name.clone()))
            .collect(),
        staff: staff
            .into_iter()
            .filter(|(id, _, _)| *id != me)
            .map(|(id, name, _)| (id, name))
            .collect(),
        can_submit: doc.acts.contains(&Act::Submit),
        sealed: crate::seal::sealed(doc.step),
        doc,
    }))
}

/// The signed PDF, for the session's reader.
async fn file(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let file = crate::seal::file(&state, actor, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(crate::seal::response(&id, file))
}

async fn act(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let one = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    ctx.check_csrf(&one("csrf"))?;
    let act = Act::parse(&one("act"))
        .ok_or_else(|| ctx.error(AppError::invalid("act", "choose what to do")))?;
    let reviewers = fields
        .iter()
        .filter(|(k, v)| k == "reviewer" && !v.is_empty())
        .map(|(_, v)| v.clone())
        .collect();
    let leader = Some(one("leader")).filter(|l| !l.is_empty());
    documents::act(
        &state,
        actor,
        &id,
        ActOnDocument {
            act,
            opinion: one("opinion"),
            reviewers,
            leader,
        },
    )
    .await
    .map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect(&format!("/office/documents/{id}?done={}", act.as_str())))
}
