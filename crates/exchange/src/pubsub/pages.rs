//! `/exchange/subscriptions`: a department's publish/subscribe at a glance — the event types
//! of its rooms with their subscribers and dead letters, and the subscriptions it holds, how
//! far behind each is and whether its pushes are failing.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::store::{self, SubscriptionRow, TypeRow};
use crate::authz::{Action, Resource as On, can};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new().route("/exchange/subscriptions", get(subscriptions))
}

#[derive(Template)]
#[template(path = "exchange_subscriptions.html")]
struct SubscriptionsPage {
    base: PageBase,
    /// The other exchange pages this actor may open.
    tabs: Vec<(&'static str, &'static str)>,
    types: Vec<TypeRow>,
    subscriptions: Vec<(SubscriptionRow, String)>,
}

async fn subscriptions(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let department = actor.account.department_id.clone().unwrap_or_default();
    if !can(
        actor,
        Action::ReadExchangeLog,
        On::Department { id: &department },
    ) {
        return Err(ctx.error(AppError::Forbidden));
    }
    let types = store::types_of(state.pool(), &department)
        .await
        .map_err(|e| ctx.error(e))?;
    let zone = state.config.time_zone;
    let subscriptions = store::subscriptions_of(state.pool(), &department)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .map(|s| {
            let next = if s.attempts > 0 {
                zone.display_rfc3339(&crate::time_fmt::rfc3339(s.next_attempt_at))
            } else {
                String::new()
            };
            (s, next)
        })
        .collect();
    Ok(ctx.render(&SubscriptionsPage {
        tabs: crate::tabs::tabs(actor, "/exchange/subscriptions"),
        base: ctx.base("exchange.subscriptions"),
        types,
        subscriptions,
    }))
}
