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
use crate::web::extract::PageForm;
use crate::web::pages::{PageBase, PageCtx, PageError, role_name};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(console))
        .route("/admin/users", post(create_user))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/grants", post(grant))
        .route("/admin/grant-requests/{id}/{decision}", post(decide_grant))
        .route("/admin/regions", post(create_region))
        .route("/admin/departments", post(create_department))
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
    staff_roles: Vec<(String, String)>,
    all_roles: Vec<(String, String)>,
}

/// Renders the console for the actor, with an optional notice and one-time secrets.
async fn render_console(
    state: &AppState,
    ctx: &PageCtx,
    notice: Option<String>,
    secrets: Vec<String>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    if !can(actor, Action::ListRoles, Resource::Platform) {
        return Err(ctx.error(AppError::Forbidden));
    }
    let load = async {
        let can_manage_accounts = can(actor, Action::ManageAccounts, Resource::Platform);
        let can_grant = can(actor, Action::ManageGrants, Resource::Platform);
        let can_audit = can(actor, Action::ReadAuditRecords, Resource::Platform);
        let users = if can_manage_accounts || can_grant {
            user_rows(state, ctx, actor).await?
        } else {
            Vec::new()
        };
        let events = if can_audit {
            let mut names: std::collections::HashMap<String, String> = Default::default();
            let mut events = Vec::new();
            for e in service::list_events(state, actor, 100).await? {
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
        AppResult::Ok(Console {
            base: ctx.base("console.title"),
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

async fn console(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    render_console(&state, &ctx, None, Vec::new()).await
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
    let mut lines = vec![
        format!(
            "{}: {}",
            ctx.t.get("login.username"),
            created.account.username
        ),
        ctx.t.get("console.activation_sent").to_owned(),
    ];
    if created.pending_grant.is_some() {
        lines.push(ctx.t.get("console.grant_pending").to_owned());
    }
    render_console(
        &state,
        &ctx,
        Some(ctx.t.get("console.created").to_owned()),
        lines,
    )
    .await
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
    render_console(
        &state,
        &ctx,
        Some(ctx.t.get("console.password_reset").to_owned()),
        vec![ctx.t.get("console.activation_sent").to_owned()],
    )
    .await
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
    let notice = match outcome {
        service::GrantOutcome::Granted(_) => "console.done",
        service::GrantOutcome::Pending(_) => "console.grant_pending",
    };
    render_console(&state, &ctx, Some(ctx.t.get(notice).to_owned()), Vec::new()).await
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
    render_console(
        &state,
        &ctx,
        Some(ctx.t.get("console.done").to_owned()),
        Vec::new(),
    )
    .await
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
    render_console(
        &state,
        &ctx,
        Some(ctx.t.get("console.done").to_owned()),
        Vec::new(),
    )
    .await
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
    render_console(
        &state,
        &ctx,
        Some(ctx.t.get("console.done").to_owned()),
        Vec::new(),
    )
    .await
}
