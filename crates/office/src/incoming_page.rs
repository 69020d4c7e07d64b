//! `/office/incoming`: the documents an organ received (收文) as its staff handle them — the
//! inbox, and each document laid out as sent with the acts the reader may take (签收, 登记, 交办
//! with a handler and a limit, 传阅, 催办, 阅, 答复), those it was circulated to and its history.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::error::AppError;
use crate::gongwen::draft::Urgency;
use crate::gongwen::kind::Direction;
use crate::incoming::{self, ActOnIncoming, InAct, IncomingView};
use crate::layout::Layout;
use crate::state::AppState;
use crate::web::extract::PageForm;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/office/incoming", get(inbox))
        .route("/office/incoming/{id}", get(one))
        .route("/office/incoming/{id}/acts", post(act))
}

#[derive(Template)]
#[template(path = "office_inbox.html")]
struct InboxPage {
    base: PageBase,
    /// (id, title, kind, sender, number, step, register number, due, received).
    rows: Vec<[String; 9]>,
}

async fn inbox(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let lines = incoming::list(&state, actor, 200)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&InboxPage {
        base: ctx.base("office.incoming"),
        rows: lines
            .into_iter()
            .map(|l| {
                [
                    l.id,
                    l.title,
                    l.kind,
                    l.sender,
                    l.number,
                    ctx.t.get(l.step.key()).to_owned(),
                    l.register_number.unwrap_or_default(),
                    l.due_day.unwrap_or_default(),
                    ctx.zone.display_rfc3339(&l.received_at),
                ]
            })
            .collect(),
    }))
}

/// An act in the history, as the page shows it.
struct Shown {
    at: String,
    act: String,
    by: String,
    opinion: String,
    digest: String,
    log_index: Option<i64>,
}

#[derive(Template)]
#[template(path = "office_incoming.html")]
struct IncomingPage {
    base: PageBase,
    notice: Option<String>,
    doc: IncomingView,
    layout: Layout,
    step: String,
    kind: String,
    history: Vec<Shown>,
    /// The acts the reader may take: (value, name, needs an opinion).
    acts: Vec<(&'static str, String, bool)>,
    /// The organ's staff (id, name), for giving it to a handler and circulating it.
    staff: Vec<(String, String)>,
    /// The same, less the reader, for circulating it.
    colleagues: Vec<(String, String)>,
    can_assign: bool,
    can_circulate: bool,
    /// (name, read at) of those it was circulated to.
    readers: Vec<(String, Option<String>)>,
}

#[derive(Debug, Deserialize)]
struct Done {
    #[serde(default)]
    done: Option<String>,
}

async fn one(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let doc = incoming::view(&state, actor, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let can_assign = doc.acts.contains(&InAct::Assign);
    let can_circulate = doc.acts.contains(&InAct::Circulate);
    let staff: Vec<(String, String)> = match actor.account.department_id.as_deref() {
        Some(department) if can_assign || can_circulate => {
            crate::store::staff_of(state.pool(), department)
                .await
                .map_err(|e| ctx.error(e))?
                .into_iter()
                .map(|(id, name, _)| (id, name))
                .collect()
        }
        _ => Vec::new(),
    };
    let history = doc
        .history
        .iter()
        .map(|h| Shown {
            at: ctx.zone.display_rfc3339(&h.at),
            act: ctx.t.get(h.act.key()).to_owned(),
            by: h.by.clone(),
            opinion: h.opinion.clone(),
            digest: h.opinion_digest.chars().take(16).collect(),
            log_index: h.log_index,
        })
        .collect();
    let acts = doc
        .acts
        .iter()
        .filter(|a| !matches!(a, InAct::Assign | InAct::Circulate))
        .map(|a| {
            (
                a.as_str(),
                ctx.t.get(a.key()).to_owned(),
                a.needs_opinion() || *a == InAct::Read,
            )
        })
        .collect();
    Ok(ctx.render(&IncomingPage {
        base: ctx.base("office.incoming"),
        notice: done
            .done
            .and_then(|a| InAct::parse(&a))
            .map(|a| ctx.t.get(a.key()).to_owned()),
        layout: Layout {
            organ: doc.sender.clone(),
            draft: doc.draft.clone(),
            number: Some(doc.number.clone()).filter(|n| !n.is_empty()),
            dated: Some(doc.dated.clone()).filter(|d| !d.is_empty()),
            upward: doc.draft.direction == Direction::Upward,
        },
        step: ctx.t.get(doc.step.key()).to_owned(),
        kind: doc.draft.kind.zh().to_owned(),
        readers: doc
            .readers
            .iter()
            .map(|r| {
                (
                    r.name.clone(),
                    r.read_at.as_deref().map(|t| ctx.zone.display_rfc3339(t)),
                )
            })
            .collect(),
        history,
        acts,
        colleagues: staff
            .iter()
            .filter(|(id, _)| id != actor.id())
            .cloned()
            .collect(),
        staff,
        can_assign,
        can_circulate,
        doc,
    }))
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
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    ctx.check_csrf(&one("csrf"))?;
    let act = InAct::parse(&one("act"))
        .ok_or_else(|| ctx.error(AppError::invalid("act", "choose what to do")))?;
    let days = match one("days").as_str() {
        "" => None,
        text => Some(
            text.parse::<u32>()
                .map_err(|_| ctx.error(AppError::invalid("days", "a number of working days")))?,
        ),
    };
    incoming::act(
        &state,
        actor,
        &id,
        ActOnIncoming {
            act: Some(act),
            opinion: one("opinion"),
            handler: Some(one("handler")).filter(|h| !h.is_empty()),
            days,
            readers: fields
                .iter()
                .filter(|(k, v)| k == "reader" && !v.is_empty())
                .map(|(_, v)| v.clone())
                .collect(),
        },
    )
    .await
    .map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect(&format!("/office/incoming/{id}?done={}", act.as_str())))
}
