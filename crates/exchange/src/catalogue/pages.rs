//! The catalogue's pages: `/exchange`, the catalogue every official may browse, where a
//! department's administrator asks for the items they need; `/exchange/requests`, their
//! department's requests and grants, and what waits for their decision.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::foreign::{ForeignGrant, ForeignGrantDraft};
use super::model::{DataRequest, RequestDraft, Resource, ShareType};
use super::service;
use crate::authz::{Action, Resource as On, can};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::extract::PageForm;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/exchange", get(catalogue))
        .route("/exchange/requests", get(requests).post(ask))
        .route("/exchange/requests/{id}/decide", post(decide))
        .route("/exchange/requests/{id}/revoke", post(revoke))
        .route("/exchange/foreign-grants", post(grant_foreign))
        .route("/exchange/foreign-grants/{id}/revoke", post(revoke_foreign))
}

#[derive(Template)]
#[template(path = "exchange_catalogue.html")]
struct CataloguePage {
    base: PageBase,
    /// The other exchange pages this actor may open.
    tabs: Vec<(&'static str, &'static str)>,
    resources: Vec<Resource>,
    /// The codes of the resources the actor may ask for in their department's name.
    askable: Vec<String>,
    /// Whether the actor keeps their department's part of the catalogue (and its codes).
    manages: bool,
    editable: Vec<String>,
    today: String,
}

async fn catalogue(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let resources = service::resources(&state, actor)
        .await
        .map_err(|e| ctx.error(e))?;
    let department = actor.account.department_id.clone().unwrap_or_default();
    let may_ask = can(
        actor,
        Action::RequestData,
        On::Department { id: &department },
    );
    let askable = resources
        .iter()
        .filter(|r| may_ask && r.department_id != department && r.share_type != ShareType::None)
        .map(|r| r.code.clone())
        .collect();
    let manages = can(
        actor,
        Action::ManageDataCatalogue,
        On::Department { id: &department },
    );
    let editable = resources
        .iter()
        .filter(|r| manages && r.department_id == department)
        .map(|r| r.code.clone())
        .collect();
    Ok(ctx.render(&CataloguePage {
        tabs: crate::tabs::tabs(actor, "/exchange"),
        base: ctx.base("exchange.catalogue"),
        resources,
        askable,
        manages,
        editable,
        today: tongban_core::zone::ymd(state.today()),
    }))
}

#[derive(Template)]
#[template(path = "exchange_requests.html")]
struct RequestsPage {
    base: PageBase,
    /// The other exchange pages this actor may open.
    tabs: Vec<(&'static str, &'static str)>,
    notice: Option<String>,
    department: String,
    /// Waiting for this department's decision.
    pending: Vec<DataRequest>,
    /// Everything else: this department's requests, and its grants to others.
    others: Vec<DataRequest>,
    /// The department's resources it may grant to departments of other regions (for its
    /// administrators), and those grants.
    own: Vec<Resource>,
    foreign: Vec<ForeignGrant>,
    today: String,
}

async fn render_requests(
    state: &AppState,
    ctx: &PageCtx,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let department = actor.account.department_id.clone().unwrap_or_default();
    let all = service::requests(state, actor)
        .await
        .map_err(|e| ctx.error(e))?;
    let (pending, others) = all
        .into_iter()
        .partition(|r| r.state == "pending" && r.owner_department_id == department);
    let decides = can(
        actor,
        Action::DecideDataRequest,
        On::Department { id: &department },
    );
    let (own, foreign) = if decides {
        let own = service::resources(state, actor)
            .await
            .map_err(|e| ctx.error(e))?
            .into_iter()
            .filter(|r| r.department_id == department && r.share_type != ShareType::None)
            .collect();
        let foreign = super::foreign::grants(state, actor)
            .await
            .map_err(|e| ctx.error(e))?;
        (own, foreign)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(ctx.render(&RequestsPage {
        tabs: crate::tabs::tabs(actor, "/exchange/requests"),
        base: ctx.base("exchange.requests"),
        notice,
        department,
        pending,
        others,
        own,
        foreign,
        today: tongban_core::zone::ymd(state.today()),
    }))
}

async fn requests(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    render_requests(&state, &ctx, None).await
}

/// The form fields as posted: `csrf`, and for asking `resource`, `purpose`, `legal_basis`,
/// `until`, `service_item` and one `item.<code>` per item ticked; for deciding `grant`
/// (`yes`/`no`), `note` and the items kept.
type Fields = BTreeMap<String, String>;

fn ticked(fields: &Fields) -> Vec<String> {
    fields
        .keys()
        .filter_map(|k| k.strip_prefix("item."))
        .map(str::to_owned)
        .collect()
}

fn field(fields: &Fields, name: &str) -> String {
    fields.get(name).cloned().unwrap_or_default()
}

async fn ask(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let service_item = Some(field(&fields, "service_item")).filter(|s| !s.trim().is_empty());
    let draft = RequestDraft {
        resource: field(&fields, "resource"),
        items: ticked(&fields),
        purpose: field(&fields, "purpose"),
        legal_basis: field(&fields, "legal_basis"),
        service_item,
        until: field(&fields, "until"),
    };
    let asked = service::ask(&state, actor, draft)
        .await
        .map_err(|e| ctx.error(e))?;
    let notice = format!(
        "{} {} · {}",
        ctx.t.get("exchange.asked"),
        asked.resource_name,
        ctx.t.get(&format!("exchange.state.{}", asked.state))
    );
    render_requests(&state, &ctx, Some(notice)).await
}

async fn decide(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let grant = field(&fields, "grant") == "yes";
    let note = Some(field(&fields, "note"));
    let items = grant.then(|| ticked(&fields));
    let decided = service::decide(&state, actor, &id, grant, items, note)
        .await
        .map_err(|e| ctx.error(e))?;
    let notice = format!(
        "{} · {}",
        decided.resource_name,
        ctx.t.get(&format!("exchange.state.{}", decided.state))
    );
    render_requests(&state, &ctx, Some(notice)).await
}

async fn revoke(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let revoked = service::revoke(&state, actor, &id, &field(&fields, "note"))
        .await
        .map_err(|e| ctx.error(e))?;
    let notice = format!(
        "{} · {}",
        revoked.resource_name,
        ctx.t.get("exchange.state.revoked")
    );
    render_requests(&state, &ctx, Some(notice)).await
}

async fn grant_foreign(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let draft = ForeignGrantDraft {
        resource: field(&fields, "resource"),
        uscc: field(&fields, "uscc"),
        name: field(&fields, "name"),
        items: ticked(&fields),
        purpose: field(&fields, "purpose"),
        legal_basis: field(&fields, "legal_basis"),
        until: field(&fields, "until"),
    };
    let granted = super::foreign::grant(&state, actor, draft)
        .await
        .map_err(|e| ctx.error(e))?;
    let notice = format!(
        "{} {}（{}）· {}",
        ctx.t.get("exchange.foreign_granted"),
        granted.name,
        granted.region,
        granted.resource
    );
    render_requests(&state, &ctx, Some(notice)).await
}

async fn revoke_foreign(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let revoked = super::foreign::revoke(&state, actor, &id, &field(&fields, "note"))
        .await
        .map_err(|e| ctx.error(e))?;
    let notice = format!(
        "{}（{}）· {}",
        revoked.name,
        revoked.region,
        ctx.t.get("exchange.state.revoked")
    );
    render_requests(&state, &ctx, Some(notice)).await
}

/// The workbench's line for a department's administrators: requests waiting for them.
#[derive(Template)]
#[template(path = "exchange_todo.html")]
struct TodoSection {
    t: crate::web::i18n::Tr,
    waiting: i64,
}

pub async fn home_sections(
    home: crate::module::Home,
    state: &AppState,
    ctx: &crate::module::HomeCtx<'_>,
) -> AppResult<Vec<String>> {
    let department = ctx.actor.account.department_id.clone().unwrap_or_default();
    if home != crate::module::Home::Workbench
        || !can(
            ctx.actor,
            Action::DecideDataRequest,
            On::Department { id: &department },
        )
    {
        return Ok(Vec::new());
    }
    let waiting = service::pending_count(state, ctx.actor).await?;
    let section = TodoSection { t: ctx.t, waiting }
        .render()
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(vec![section])
}
