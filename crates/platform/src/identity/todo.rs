//! The to-do list (`/todo`): what waits for the official in every module (待办) in one list —
//! the most urgent first, then the soonest due — and what they handled (已办, `/todo?tab=done`).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use crate::state::AppState;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new().route("/todo", get(list))
}

/// At most this many items are listed.
pub const LIMIT: usize = 200;

#[derive(Debug, Deserialize)]
struct Tab {
    #[serde(default)]
    tab: Option<String>,
}

/// An item as the page shows it.
struct Shown {
    kind: String,
    title: String,
    link: String,
    /// When it waits since, or was handled.
    at: String,
    due: Option<String>,
    overdue: bool,
    urgency: u8,
}

#[derive(Template)]
#[template(path = "todo.html")]
struct TodoPage {
    base: PageBase,
    done: bool,
    items: Vec<Shown>,
    /// Items in all (to do), beyond those listed.
    total: usize,
}

async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(tab): Query<Tab>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let done = tab.tab.as_deref() == Some("done");
    let (items, total) = if done {
        let items = crate::module::done_list(&state, actor, ctx.t, LIMIT)
            .await
            .map_err(|e| ctx.error(e))?;
        let total = items.len();
        (items, total)
    } else {
        let part = crate::module::todo_list(&state, actor, ctx.t, LIMIT)
            .await
            .map_err(|e| ctx.error(e))?;
        (part.items, part.total)
    };
    let zone = state.zone();
    let now = state.now();
    Ok(ctx.render(&TodoPage {
        base: ctx.base("todo.title"),
        done,
        total,
        items: items
            .into_iter()
            .map(|item| Shown {
                at: zone.display(item.at),
                due: item.due.map(|due| zone.display(due)),
                overdue: !done && item.due.is_some_and(|due| due < now),
                kind: item.kind,
                title: item.title,
                link: item.link,
                urgency: item.urgency,
            })
            .collect(),
    }))
}
