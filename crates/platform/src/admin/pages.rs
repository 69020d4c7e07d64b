//! The admin console of the three administrators: what each sees depends on their role.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use tongban_core::RegionCode;

use super::service::{self, By, NewAccountRequest, NewDepartment, NewRegion};
use super::store::{self, Department, Region};
use crate::authz::{Action, Resource, can};
use crate::error::{AppError, AppResult};
use crate::identity::model::{Actor, Role};
use crate::state::AppState;
use crate::web::extract::{PageForm, PageQuery};
use crate::web::pages::{PageBase, PageCtx, PageError, role_name};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(overview))
        .route("/admin/users", get(users).post(create_user))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/grants", get(grants).post(grant))
        .route("/admin/grant-requests/{id}/{decision}", post(decide_grant))
        .route("/admin/regions", get(structure).post(create_region))
        .route("/admin/departments", get(structure).post(create_department))
        .route("/admin/events", get(events))
}

struct UserRow {
    id: String,
    username: String,
    display_name: String,
    roles: String,
    region: String,
    can_reset: bool,
}

#[derive(Template)]
#[template(path = "console.html")]
struct Console {
    base: PageBase,
    /// The part of the console this page shows: `overview`, `users`, `grants`, `structure`
    /// or `events`.
    section: &'static str,
    notice: Option<String>,
    secrets: Vec<String>,
    can_manage_accounts: bool,
    can_grant: bool,
    can_audit: bool,
    /// Whether the service catalogue's console opens for this administrator.
    can_edit_services: bool,
    users: Vec<UserRow>,
    /// (request id, account, role, scope, requested by) awaiting this security administrator.
    grant_requests: Vec<(String, String, String, String, String)>,
    regions: Vec<Region>,
    departments: Vec<Department>,
    events: Vec<(String, String, String, String)>,
    /// The audit view's filters as asked, and the actions to choose from: (code, words).
    filters: EventQuery,
    actions: Vec<(String, String)>,
    staff_roles: Vec<(String, String)>,
    all_roles: Vec<(String, String)>,
}

/// What a console page is asked: the outcome of the form sent before it (post/redirect/get),
/// and the audit view's filters.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventQuery {
    #[serde(default)]
    done: Option<String>,
    /// The account a form created or changed (shown in the notice).
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    action: Option<String>,
    /// The acting account's username.
    #[serde(default)]
    actor: Option<String>,
    /// Days, YYYY-MM-DD, in the deployment's zone.
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// The actions of administrative events, for the audit view's filter.
const EVENT_ACTIONS: [&str; 13] = [
    "account.create",
    "account.register",
    "account.reset_password",
    "role.grant",
    "role.request",
    "role.approve",
    "role.refuse",
    "role.revoke",
    "region.create",
    "department.create",
    "trust.proposed",
    "trust.approved",
    "trust.removed",
];

/// Renders a part of the console for the actor, with the notice of the form sent before.
async fn render_console(
    state: &AppState,
    ctx: &PageCtx,
    section: &'static str,
    query: EventQuery,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    if !can(actor, Action::ListRoles, Resource::Platform) {
        return Err(ctx.error(AppError::Forbidden));
    }
    let (notice, secrets) = notice_of(ctx, &query);
    let load = async {
        let can_manage_accounts = can(actor, Action::ManageAccounts, Resource::Platform);
        let can_grant = can(actor, Action::ManageGrants, Resource::Platform);
        let can_audit = can(actor, Action::ReadAuditRecords, Resource::Platform);
        let users = if can_manage_accounts || can_grant {
            user_rows(state, ctx, actor).await?
        } else {
            Vec::new()
        };
        let events = if can_audit && section == "events" {
            let mut names: std::collections::HashMap<String, String> = Default::default();
            let mut events = Vec::new();
            let filter = event_filter(state, ctx, &query).await?;
            for e in service::list_events_where(state, actor, &filter, 100).await? {
                // Who acted, by their username (the operator's command line is "operator").
                if !names.contains_key(&e.actor_id) {
                    let name = crate::identity::store::account(state.pool(), &e.actor_id)
                        .await?
                        .map_or_else(|| e.actor_id.clone(), |a| a.username);
                    names.insert(e.actor_id.clone(), name);
                }
                let action_key = format!("event.{}", e.action);
                let action = match ctx.t.get(&action_key) {
                    words if words == action_key => e.action.clone(),
                    words => words.to_owned(),
                };
                events.push((
                    state.zone().display(e.at),
                    names.get(&e.actor_id).cloned().unwrap_or_default(),
                    action,
                    format!("{} {}", e.target, e.detail),
                ));
            }
            events
        } else {
            Vec::new()
        };
        let grant_requests = if can_grant {
            service::pending_grants(state, actor)
                .await?
                .into_iter()
                .map(|request| {
                    let scope = request
                        .scope
                        .scope
                        .region()
                        .map(|r| r.to_string())
                        .unwrap_or_default();
                    (
                        request.id,
                        format!("{} ({})", request.display_name, request.username),
                        role_name(&ctx.t, request.role),
                        scope,
                        request.requested_by,
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        let staff_roles = Role::ALL
            .iter()
            .filter(|r| r.is_staff() && !r.is_trio())
            .map(|r| (r.as_str().to_owned(), role_name(&ctx.t, *r)))
            .collect();
        let all_roles = Role::ALL
            .iter()
            .map(|r| (r.as_str().to_owned(), role_name(&ctx.t, *r)))
            .collect();
        let actions = EVENT_ACTIONS
            .iter()
            .map(|a| ((*a).to_owned(), ctx.t.get(&format!("event.{a}")).to_owned()))
            .collect();
        AppResult::Ok(Console {
            base: ctx.base("console.title"),
            section,
            filters: query.clone(),
            actions,
            notice,
            secrets,
            can_manage_accounts,
            can_grant,
            can_audit,
            can_edit_services: can(actor, Action::OpenServiceCatalogue, Resource::Platform),
            users,
            grant_requests,
            regions: store::regions(state.pool()).await?,
            departments: store::departments(state.pool()).await?,
            events,
            staff_roles,
            all_roles,
        })
    };
    let console = load.await.map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&console))
}

impl Console {
    /// A region's name (its code when it is not on the list).
    fn region_name(&self, code: &str) -> String {
        self.regions
            .iter()
            .find(|r| r.code.as_str() == code)
            .map_or_else(|| code.to_owned(), |r| r.name.clone())
    }

    /// A department kind in words (its code when it is one the deployment made up).
    fn kind_name(&self, kind: &str) -> String {
        let key = format!("kind.{kind}");
        match self.base.t.get(&key) {
            words if words == key => kind.to_owned(),
            words => words.to_owned(),
        }
    }

    /// A region level in words.
    fn level_name(&self, level: &str) -> String {
        let key = format!("level.{level}");
        match self.base.t.get(&key) {
            words if words == key => level.to_owned(),
            words => words.to_owned(),
        }
    }
}

async fn user_rows(state: &AppState, ctx: &PageCtx, actor: &Actor) -> AppResult<Vec<UserRow>> {
    let accounts = if can(actor, Action::ManageAccounts, Resource::Platform) {
        service::list_accounts(state, actor, 500, 0).await?
    } else {
        service::grantable_accounts(state, actor, 500).await?
    };
    Ok(accounts
        .into_iter()
        .map(|entry| {
            let holds_trio_role = entry.roles.iter().any(|g| g.role.is_trio());
            let resource = Resource::Account {
                id: &entry.account.id,
                region: &entry.account.home_region,
                holds_trio_role,
            };
            UserRow {
                can_reset: can(actor, Action::ResetPassword, resource),
                id: entry.account.id.clone(),
                username: entry.account.username.clone(),
                display_name: entry.account.display_name.clone(),
                roles: entry
                    .roles
                    .iter()
                    .map(|g| role_name(&ctx.t, g.role))
                    .collect::<Vec<_>>()
                    .join("、"),
                region: entry.account.home_region.to_string(),
            }
        })
        .collect())
}

async fn overview(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageQuery(query): PageQuery<EventQuery>,
) -> Result<Response, PageError> {
    render_console(&state, &ctx, "overview", query).await
}

async fn users(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageQuery(query): PageQuery<EventQuery>,
) -> Result<Response, PageError> {
    render_console(&state, &ctx, "users", query).await
}

async fn grants(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageQuery(query): PageQuery<EventQuery>,
) -> Result<Response, PageError> {
    render_console(&state, &ctx, "grants", query).await
}

async fn structure(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageQuery(query): PageQuery<EventQuery>,
) -> Result<Response, PageError> {
    render_console(&state, &ctx, "structure", query).await
}

async fn events(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageQuery(query): PageQuery<EventQuery>,
) -> Result<Response, PageError> {
    render_console(&state, &ctx, "events", query).await
}

/// The notice of a form's outcome, from the redirect's query (a fixed set of outcomes; an
/// unknown one shows nothing).
fn notice_of(ctx: &PageCtx, query: &EventQuery) -> (Option<String>, Vec<String>) {
    let created = query.account.is_some();
    let key = match query.done.as_deref() {
        Some("created") => "console.created",
        // A new account whose role waits for the second administrator.
        Some("pending") if created => "console.created",
        Some("pending") => "console.grant_pending",
        Some("reset") => "console.password_reset",
        Some("done") => "console.done",
        _ => return (None, Vec::new()),
    };
    let mut lines = Vec::new();
    if let Some(account) = &query.account {
        lines.push(format!("{}: {account}", ctx.t.get("login.username")));
    }
    if created || query.done.as_deref() == Some("reset") {
        lines.push(ctx.t.get("console.activation_sent").to_owned());
    }
    if created && query.done.as_deref() == Some("pending") {
        lines.push(ctx.t.get("console.grant_pending").to_owned());
    }
    (Some(ctx.t.get(key).to_owned()), lines)
}

/// The audit view's filter from its query: an unknown username or an unreadable day is a
/// readable refusal.
async fn event_filter(
    state: &AppState,
    ctx: &PageCtx,
    query: &EventQuery,
) -> AppResult<store::EventFilter> {
    let given = |value: &Option<String>| value.clone().filter(|v| !v.trim().is_empty());
    let actor_id = match given(&query.actor) {
        None => None,
        Some(name) if name == "operator" || name == "registration" => Some(name),
        Some(name) => Some(
            crate::identity::store::account_by_username(state.pool(), name.trim())
                .await?
                .ok_or_else(|| AppError::invalid("actor", ctx.t.get("console.no_such_actor")))?
                .id,
        ),
    };
    let day = |field: &'static str, value: &Option<String>| -> AppResult<Option<i64>> {
        match given(value) {
            None => Ok(None),
            Some(text) => tongban_core::zone::parse_ymd(text.trim())
                .map(|day| Some(state.zone().start_of(day)))
                .ok_or_else(|| AppError::invalid(field, ctx.t.get("console.bad_day"))),
        }
    };
    let from = day("from", &query.from)?;
    // Up to and including the last day asked.
    let to = day("to", &query.to)?.map(|start| start + 86_400_000);
    Ok(store::EventFilter {
        action: given(&query.action),
        actor_id,
        from,
        to,
    })
}

/// Where a console form's outcome is shown: its section, told what happened.
fn done(ctx: &PageCtx, section: &str, outcome: &str, account: Option<&str>) -> Response {
    let mut target = format!("{section}?done={outcome}");
    if let Some(account) = account {
        target.push_str("&account=");
        target.push_str(&url_escape(account));
    }
    ctx.redirect(&target)
}

/// A username in a query: letters, digits and . _ - pass as they are; anything else is
/// percent-encoded.
fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn actor_of(ctx: &PageCtx) -> Result<&Actor, PageError> {
    ctx.actor()
}

#[derive(Deserialize)]
struct CreateUserForm {
    csrf: String,
    username: String,
    display_name: String,
    role: String,
    department_id: String,
}

async fn create_user(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<CreateUserForm>,
) -> Result<Response, PageError> {
    let actor = actor_of(&ctx)?;
    ctx.check_csrf(&form.csrf)?;
    let role: Role = form
        .role
        .parse()
        .map_err(|_| ctx.error(AppError::invalid("role", "unknown role")))?;
    let request = NewAccountRequest {
        username: form.username,
        display_name: form.display_name,
        role,
        department_id: Some(form.department_id),
        region_code: None,
        person_id: None,
        enterprise_id: None,
        password: None,
    };
    let created = service::create_account(&state, By::Actor(actor), request)
        .await
        .map_err(|e| ctx.error(e))?;
    let outcome = if created.pending_grant.is_some() {
        "pending"
    } else {
        "created"
    };
    Ok(done(
        &ctx,
        "/admin/users",
        outcome,
        Some(&created.account.username),
    ))
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

async fn reset_password(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let actor = actor_of(&ctx)?;
    ctx.check_csrf(&form.csrf)?;
    service::reset_password(&state, By::Actor(actor), &id, None)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(done(&ctx, "/admin/users", "reset", None))
}

#[derive(Deserialize)]
struct GrantForm {
    csrf: String,
    account_id: String,
    role: String,
    department_id: String,
}

async fn grant(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<GrantForm>,
) -> Result<Response, PageError> {
    let actor = actor_of(&ctx)?;
    ctx.check_csrf(&form.csrf)?;
    let role: Role = form
        .role
        .parse()
        .map_err(|_| ctx.error(AppError::invalid("role", "unknown role")))?;
    let outcome = service::grant_role(
        &state,
        By::Actor(actor),
        &form.account_id,
        role,
        None,
        Some(form.department_id),
    )
    .await
    .map_err(|e| ctx.error(e))?;
    let outcome = match outcome {
        service::GrantOutcome::Granted(_) => "done",
        service::GrantOutcome::Pending(_) => "pending",
    };
    Ok(done(&ctx, "/admin/grants", outcome, None))
}

/// A security administrator approves or refuses another administrator's grant request.
async fn decide_grant(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((id, decision)): Path<(String, String)>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let actor = actor_of(&ctx)?;
    ctx.check_csrf(&form.csrf)?;
    let approve = match decision.as_str() {
        "approve" => true,
        "refuse" => false,
        _ => return Err(ctx.error(AppError::NotFound)),
    };
    service::decide_grant(&state, actor, &id, approve)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(done(&ctx, "/admin/grants", "done", None))
}

#[derive(Deserialize)]
struct RegionForm {
    csrf: String,
    code: String,
    name: String,
    name_en: String,
}

async fn create_region(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<RegionForm>,
) -> Result<Response, PageError> {
    let actor = actor_of(&ctx)?;
    ctx.check_csrf(&form.csrf)?;
    let code: RegionCode = form
        .code
        .trim()
        .parse()
        .map_err(|e| ctx.error(AppError::invalid("code", e)))?;
    service::create_region(
        &state,
        By::Actor(actor),
        NewRegion {
            code,
            name: form.name,
            name_en: form.name_en,
        },
    )
    .await
    .map_err(|e| ctx.error(e))?;
    Ok(done(&ctx, "/admin/regions", "done", None))
}

#[derive(Deserialize)]
struct DepartmentForm {
    csrf: String,
    region_code: String,
    name: String,
    name_en: String,
    kind: String,
}

async fn create_department(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<DepartmentForm>,
) -> Result<Response, PageError> {
    let actor = actor_of(&ctx)?;
    ctx.check_csrf(&form.csrf)?;
    let region_code: RegionCode = form
        .region_code
        .trim()
        .parse()
        .map_err(|e| ctx.error(AppError::invalid("region_code", e)))?;
    let new = NewDepartment {
        region_code,
        name: form.name,
        name_en: form.name_en,
        kind: form.kind,
        uscc: None,
    };
    service::create_department(&state, By::Actor(actor), new)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(done(&ctx, "/admin/departments", "done", None))
}
