//! The links between the exchange's pages, each shown only to those who may open it.

use crate::authz::{Action, Resource, can};
use crate::identity::model::Actor;

/// The exchange's pages: (path, text key, what opening it takes).
const TABS: [(&str, &str, Option<Action>); 5] = [
    ("/exchange", "exchange.catalogue", None),
    (
        "/exchange/requests",
        "exchange.requests",
        Some(Action::RequestData),
    ),
    (
        "/exchange/services",
        "exchange.services",
        Some(Action::CallDataService),
    ),
    (
        "/exchange/messages",
        "exchange.messages",
        Some(Action::ReadExchangeLog),
    ),
    (
        "/exchange/subscriptions",
        "exchange.subscriptions",
        Some(Action::ReadExchangeLog),
    ),
];

/// The pages other than `current` that the actor may open, as (path, text key). The requests
/// page is also the deciding department's; the services page lists what the department was
/// granted, so it takes reading the requests as well as calling.
pub fn tabs(actor: &Actor, current: &str) -> Vec<(&'static str, &'static str)> {
    let department = actor.account.department_id.as_deref().unwrap_or_default();
    let on = Resource::Department { id: department };
    let reads_requests =
        can(actor, Action::RequestData, on) || can(actor, Action::DecideDataRequest, on);
    TABS.iter()
        .filter(|(path, _, _)| *path != current)
        .filter(|(path, _, action)| match (*path, action) {
            (_, None) => true,
            ("/exchange/requests", _) => reads_requests,
            ("/exchange/services", Some(action)) => can(actor, *action, on) && reads_requests,
            (_, Some(action)) => can(actor, *action, on),
        })
        .map(|(path, text, _)| (*path, *text))
        .collect()
}
