//! The gateway's pages: `/exchange/services`, what the actor's department may call (each
//! service's address, the items granted, its OpenAPI description); `/exchange/messages`, the
//! department's message log with search, each exchange with its receipt.

use askama::Template;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::api::{MessageQuery, MessageView};
use super::ids::DATA_SUBSYSTEM;
use crate::authz::{Action, Resource as On, can};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::PageQuery;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/exchange/services", get(services))
        .route("/exchange/services/{code}/openapi.json", get(openapi))
        .route("/exchange/messages", get(messages))
        .route("/exchange/messages/{id}", get(message))
}

#[derive(Template)]
#[template(path = "exchange_message.html")]
struct MessagePage {
    base: PageBase,
    id: String,
    record: Option<super::message::ExchangeRecord>,
    refusal: Option<String>,
    index: u64,
    tree_size: u64,
}

/// One exchange of the department's log, its signed record checked by the gateway against the
/// trust lists, and its receipt for checking offline.
async fn message(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let checked = super::receipts::check(&state, actor, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&MessagePage {
        base: ctx.base("exchange.message"),
        id,
        record: checked.record,
        refusal: checked.refusal,
        index: checked.receipt.index,
        tree_size: checked.receipt.tree_size,
    }))
}

/// A service the department may call.
pub struct Callable {
    pub code: String,
    pub name: String,
    pub provider: String,
    /// `/r1/INSTANCE/GOV/USCC/DATA/CODE`.
    pub address: String,
    pub items: String,
    pub until: String,
    pub served: bool,
}

#[derive(Template)]
#[template(path = "exchange_services.html")]
struct ServicesPage {
    base: PageBase,
    /// The other exchange pages this actor may open.
    tabs: Vec<(&'static str, &'static str)>,
    client: String,
    services: Vec<Callable>,
}

async fn services(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let Some(department) = actor.account.department_id.clone() else {
        return Err(ctx.error(AppError::Forbidden));
    };
    if !can(
        actor,
        Action::CallDataService,
        On::Department { id: &department },
    ) {
        return Err(ctx.error(AppError::Forbidden));
    }
    let departments = crate::admin::directory::departments(&state)
        .await
        .map_err(|e| ctx.error(e))?;
    let uscc_of = |id: &str| {
        departments
            .iter()
            .find(|d| d.id == id)
            .and_then(|d| d.uscc.clone())
            .unwrap_or_default()
    };
    let instance = state.config.xroad_instance.clone();
    let resources = crate::catalogue::store::resources(state.pool())
        .await
        .map_err(|e| ctx.error(e))?;
    let mut services = Vec::new();
    for request in crate::catalogue::service::requests(&state, actor)
        .await
        .map_err(|e| ctx.error(e))?
    {
        if request.consumer_department_id != department || request.state != "granted" {
            continue;
        }
        let resource = resources.iter().find(|r| r.code == request.resource);
        services.push(Callable {
            address: format!(
                "/r1/{instance}/GOV/{}/{DATA_SUBSYSTEM}/{}",
                uscc_of(&request.owner_department_id),
                request.resource
            ),
            code: request.resource.clone(),
            name: request.resource_name.clone(),
            provider: resource
                .map(|r| r.department_name.clone())
                .unwrap_or_default(),
            items: request.item_names(),
            until: request.until.clone(),
            served: resource.is_some_and(|r| r.service.is_some()),
        });
    }
    Ok(ctx.render(&ServicesPage {
        tabs: crate::tabs::tabs(actor, "/exchange/services"),
        base: ctx.base("exchange.services"),
        client: format!("{instance}/GOV/{}/…", uscc_of(&department)),
        services,
    }))
}

async fn openapi(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let resource = crate::catalogue::service::resource(&state, actor, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let provider = crate::admin::directory::department(&state, &resource.department_id)
        .await
        .map_err(|e| ctx.error(e))?
        .ok_or_else(|| ctx.error(AppError::NotFound))?;
    let document = super::metadata::description(&state, &provider, &resource)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Json(document).into_response())
}

/// The search form's fields: dates as the page's date inputs send them.
#[derive(Debug, Default, Deserialize)]
pub struct LogSearch {
    #[serde(default)]
    resource: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

#[derive(Template)]
#[template(path = "exchange_messages.html")]
struct MessagesPage {
    base: PageBase,
    /// The other exchange pages this actor may open.
    tabs: Vec<(&'static str, &'static str)>,
    search: LogSearch,
    rows: Vec<(MessageView, String)>,
}

fn day(text: &str) -> Option<time::Date> {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

async fn messages(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageQuery(search): PageQuery<LogSearch>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let zone = state.config.time_zone;
    let bad_day = |field: &'static str| ctx.error(AppError::invalid(field, "a date, YYYY-MM-DD"));
    let from = match search.from.as_str() {
        "" => None,
        text => Some(day(text).ok_or_else(|| bad_day("from"))?),
    };
    let to = match search.to.as_str() {
        "" => None,
        text => Some(day(text).ok_or_else(|| bad_day("to"))?),
    };
    let query = MessageQuery {
        resource: Some(search.resource.trim().to_owned()).filter(|r| !r.is_empty()),
        outcome: Some(search.outcome.clone()).filter(|o| !o.is_empty()),
        from: from.map(|d| crate::time_fmt::rfc3339(zone.start_of(d))),
        to: to
            .and_then(|d| d.next_day())
            .map(|d| crate::time_fmt::rfc3339(zone.start_of(d))),
        limit: Some(200),
    };
    let views = super::receipts::messages(&state, actor, &query)
        .await
        .map_err(|e| ctx.error(e))?;
    let rows = views
        .into_iter()
        .map(|v| {
            let shown = zone.display_rfc3339(&v.at);
            (v, shown)
        })
        .collect();
    Ok(ctx.render(&MessagesPage {
        tabs: crate::tabs::tabs(actor, "/exchange/messages"),
        base: ctx.base("exchange.messages"),
        search,
        rows,
    }))
}
