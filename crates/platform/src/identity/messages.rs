//! The message centre (`/messages`): every module's messages to the account in one list,
//! newest first, with what is new since the account last opened it; and the unread count the
//! tab bar fetches (`/messages/unread`).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::store;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/messages", get(centre))
        .route("/messages/unread", get(unread))
}

/// At most this many messages are listed.
const LIMIT: usize = 200;

#[derive(Template)]
#[template(path = "messages.html")]
struct CentrePage {
    base: PageBase,
    /// (when, text, link, new since the last visit).
    messages: Vec<(String, String, Option<String>, bool)>,
}

async fn centre(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let seen = store::messages_seen_at(state.pool(), actor.id())
        .await
        .map_err(|e| ctx.error(e))?;
    let messages = crate::module::messages(&state, actor, ctx.t, LIMIT)
        .await
        .map_err(|e| ctx.error(e))?;
    if let Some(newest) = messages.first() {
        store::mark_messages_seen(state.pool(), actor.id(), newest.at.max(seen))
            .await
            .map_err(|e| ctx.error(e))?;
    }
    let zone = state.zone();
    Ok(ctx.render(&CentrePage {
        base: ctx.base("messages.title"),
        messages: messages
            .into_iter()
            .map(|m| (zone.display(m.at), m.text, m.link, m.at > seen))
            .collect(),
    }))
}

/// The unread count as a badge (an empty answer when nothing is new, or for a visitor).
async fn unread(State(state): State<AppState>, ctx: PageCtx) -> Response {
    let Some(actor) = &ctx.actor else {
        return Html("").into_response();
    };
    let count = async {
        let seen = store::messages_seen_at(state.pool(), actor.id()).await?;
        let messages = crate::module::messages(&state, actor, ctx.t, LIMIT).await?;
        AppResult::Ok(messages.iter().filter(|m| m.at > seen).count())
    }
    .await
    .unwrap_or(0);
    if count == 0 {
        Html(String::new()).into_response()
    } else {
        Html(format!(
            "<span class=\"badge\" aria-label=\"{count} {}\">{count}</span>",
            ctx.t.get("messages.unread")
        ))
        .into_response()
    }
}
