//! Administration use-cases: regions, departments, accounts, passwords and role grants, each
//! asked of the policy and recorded as an administrative event.

use sqlx::AnyConnection;
use tongban_core::RegionCode;

use super::store::{self, AdminEvent, Department, Region};
use crate::authz::{Action, Resource, can};
use crate::error::retrying;
use crate::error::{AppError, AppResult};
use crate::identity::model::{Account, AccountKind, Actor, Role, RoleGrant, Scope};
use crate::identity::store::{self as identity_store, NewAccount};
use crate::identity::{password, totp};
use crate::random;
use crate::state::AppState;

/// Who asks: a logged-in administrator, or the operator at the command line (`tongban admin`),
/// who holds the machine and so the database already.
#[derive(Clone, Copy)]
pub enum By<'a> {
    Actor(&'a Actor),
    Operator,
}

impl By<'_> {
    fn allowed(&self, action: Action, resource: Resource<'_>) -> AppResult<()> {
        match self {
            By::Operator => Ok(()),
            By::Actor(actor) if can(actor, action, resource) => Ok(()),
            By::Actor(_) => Err(AppError::Forbidden),
        }
    }

    fn id(&self) -> String {
        match self {
            By::Actor(actor) => actor.id().to_owned(),
            By::Operator => "operator".to_owned(),
        }
    }
}

/// Records an administrative event in the transaction of the change it describes, so there is
/// never a change without its record.
async fn record(
    conn: &mut AnyConnection,
    now: i64,
    by: By<'_>,
    action: &str,
    target: &str,
    detail: String,
) -> AppResult<()> {
    let event = AdminEvent {
        id: random::new_id(),
        at: now,
        actor_id: by.id(),
        action: action.into(),
        target: target.into(),
        detail,
    };
    store::insert_event(conn, &event).await
}

fn require_text(field: &'static str, value: &str, max_chars: usize) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::invalid(field, "must not be empty"));
    }
    if value.chars().count() > max_chars {
        return Err(AppError::invalid(
            field,
            format!("must have at most {max_chars} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(AppError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

pub struct NewRegion {
    pub code: RegionCode,
    pub name: String,
    pub name_en: String,
}

pub async fn create_region(state: &AppState, by: By<'_>, new: NewRegion) -> AppResult<Region> {
    let parent = new.code.parent();
    by.allowed(
        Action::ManageRegions,
        Resource::Region(parent.as_ref().unwrap_or(&new.code)),
    )?;
    if let Some(parent) = &parent
        && store::region(state.pool(), parent.as_str())
            .await?
            .is_none()
    {
        return Err(AppError::invalid(
            "code",
            format!("the parent region {parent} does not exist yet"),
        ));
    }
    let region = Region {
        level: new.code.level().as_str().to_owned(),
        parent_code: parent.map(|p| p.as_str().to_owned()),
        code: new.code,
        name: require_text("name", &new.name, 64)?,
        name_en: require_text("name_en", &new.name_en, 128)?,
    };
    let saved = &region;
    retrying(move || async move {
        let mut tx = state.pool().begin().await?;
        store::insert_region(&mut *tx, saved, state.now()).await?;
        let (code, name) = (saved.code.as_str(), saved.name.clone());
        record(&mut tx, state.now(), by, "region.create", code, name).await?;
        Ok(tx.commit().await?)
    })
    .await?;
    Ok(region)
}

pub struct NewDepartment {
    pub region_code: RegionCode,
    pub name: String,
    pub name_en: String,
    pub kind: String,
    pub uscc: Option<tongban_core::Uscc>,
}

pub async fn create_department(
    state: &AppState,
    by: By<'_>,
    new: NewDepartment,
) -> AppResult<Department> {
    by.allowed(
        Action::ManageDepartments,
        Resource::Region(&new.region_code),
    )?;
    if store::region(state.pool(), new.region_code.as_str())
        .await?
        .is_none()
    {
        return Err(AppError::invalid("region_code", "no such region"));
    }
    let kind = require_text("kind", &new.kind, 32)?;
    if !kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return Err(AppError::invalid(
            "kind",
            "must be lowercase letters and underscores",
        ));
    }
    let department = Department {
        id: random::new_id(),
        region_code: new.region_code,
        name: require_text("name", &new.name, 64)?,
        name_en: require_text("name_en", &new.name_en, 128)?,
        kind,
        uscc: new.uscc.map(|code| code.as_str().to_owned()),
    };
    let saved = &department;
    retrying(move || async move {
        let mut tx = state.pool().begin().await?;
        store::insert_department(&mut *tx, saved, state.now()).await?;
        let (id, name) = (&saved.id, saved.name.clone());
        record(&mut tx, state.now(), by, "department.create", id, name).await?;
        Ok(tx.commit().await?)
    })
    .await?;
    Ok(department)
}

/// A request to create an account with its first role.
pub struct NewAccountRequest {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// For staff roles scoped to a department.
    pub department_id: Option<String>,
    /// For region-scoped roles: the region; defaults to the department's.
    pub region_code: Option<RegionCode>,
    pub person_id: Option<String>,
    pub enterprise_id: Option<String>,
    /// A chosen password; when absent one is generated and returned.
    pub password: Option<String>,
}

/// The new account and the secrets to hand to its holder, shown once.
pub struct CreatedAccount {
    pub account: Account,
    pub password: String,
    pub totp_secret: Option<String>,
}

fn valid_username(username: &str) -> AppResult<String> {
    let username = username.trim();
    let ok = (3..=64).contains(&username.len())
        && username.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(username.to_owned())
    } else {
        Err(AppError::invalid(
            "username",
            "3–64 characters: a–z, 0–9, '.', '_' or '-'",
        ))
    }
}

/// Works out the scope and home region of a first role from the request.
async fn scope_for(
    state: &AppState,
    request: &NewAccountRequest,
) -> AppResult<(Scope, RegionCode)> {
    if matches!(request.role, Role::Citizen | Role::Enterprise) {
        let region = match (&request.person_id, &request.enterprise_id) {
            (Some(person), _) if request.role == Role::Citizen => {
                crate::identity::personal::person_region(state, person).await?
            }
            (_, Some(enterprise)) if request.role == Role::Enterprise => {
                crate::identity::personal::enterprise(state, enterprise)
                    .await?
                    .map(|e| e.region_code)
            }
            _ => None,
        };
        let region = region.ok_or_else(|| AppError::invalid("person_id", "a citizen account needs an existing person, an enterprise account an existing enterprise"))?;
        return Ok((Scope::Own, region));
    }
    match (&request.department_id, &request.region_code) {
        (Some(id), None) => {
            let department = store::department(state.pool(), id)
                .await?
                .ok_or_else(|| AppError::invalid("department_id", "no such department"))?;
            Ok((
                Scope::Department {
                    id: department.id,
                    region: department.region_code.clone(),
                },
                department.region_code,
            ))
        }
        (department, Some(code)) => {
            if store::region(state.pool(), code.as_str()).await?.is_none() {
                return Err(AppError::invalid("region_code", "no such region"));
            }
            if let Some(id) = department
                && store::department(state.pool(), id).await?.is_none()
            {
                return Err(AppError::invalid("department_id", "no such department"));
            }
            Ok((Scope::Region { code: code.clone() }, code.clone()))
        }
        (None, None) => Err(AppError::invalid(
            "department_id",
            "a staff role needs a department or a region",
        )),
    }
}

pub async fn create_account(
    state: &AppState,
    by: By<'_>,
    request: NewAccountRequest,
) -> AppResult<CreatedAccount> {
    let username = valid_username(&request.username)?;
    let display_name = require_text("display_name", &request.display_name, 64)?;
    let (scope, home_region) = scope_for(state, &request).await?;
    by.allowed(Action::CreateAccount, Resource::Region(&home_region))?;
    // The three administrators are appointed by the operator or the security administrator.
    if request.role.is_trio() && matches!(by, By::Actor(_)) {
        return Err(AppError::Forbidden);
    }
    let password = match request.password {
        Some(chosen) => {
            password::check_strength(&chosen)?;
            chosen
        }
        None => random::readable_password(),
    };
    let kind = match request.role {
        Role::Citizen => AccountKind::Citizen,
        Role::Enterprise => AccountKind::Enterprise,
        _ => AccountKind::Staff,
    };
    // Staff always have a second factor; citizens may add one later.
    let totp_secret = (kind == AccountKind::Staff).then(totp::new_secret);
    let new = NewAccount {
        username,
        display_name,
        kind,
        home_region,
        password_hash: password::hash(password.clone()).await?,
        totp_secret: totp_secret.clone(),
        department_id: request.department_id.filter(|_| kind == AccountKind::Staff),
        person_id: request.person_id.filter(|_| kind == AccountKind::Citizen),
        enterprise_id: request
            .enterprise_id
            .filter(|_| kind == AccountKind::Enterprise),
    };
    let id = random::new_id();
    let (id, new, scope, role) = (&id, &new, &scope, request.role);
    retrying(move || async move {
        let mut tx = state.pool().begin().await?;
        let now = state.now();
        identity_store::insert_account(&mut *tx, id, new, now).await?;
        identity_store::insert_grant(&mut *tx, id, role, scope, Some(&by.id()), now).await?;
        let detail = format!("{} as {role}", new.username);
        record(&mut tx, now, by, "account.create", id, detail).await?;
        Ok(tx.commit().await?)
    })
    .await?;
    let account = identity_store::account(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(CreatedAccount {
        account,
        password,
        totp_secret,
    })
}

async fn target(state: &AppState, account_id: &str) -> AppResult<(Account, Vec<RoleGrant>)> {
    let account = identity_store::account(state.pool(), account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let grants = identity_store::grants(state.pool(), account_id).await?;
    Ok((account, grants))
}

/// Sets a new generated password (or the given one), ends the account's sessions and clears
/// its lockout. Returns the password to hand over.
pub async fn reset_password(
    state: &AppState,
    by: By<'_>,
    account_id: &str,
    chosen: Option<String>,
) -> AppResult<String> {
    let (account, grants) = target(state, account_id).await?;
    let holds_trio_role = grants.iter().any(|grant| grant.role.is_trio());
    by.allowed(
        Action::ResetPassword,
        Resource::Account {
            id: &account.id,
            region: &account.home_region,
            holds_trio_role,
        },
    )?;
    let password = match chosen {
        Some(chosen) => {
            password::check_strength(&chosen)?;
            chosen
        }
        None => random::readable_password(),
    };
    let (hash, account) = (&password::hash(password.clone()).await?, &account);
    retrying(move || async move {
        let mut tx = state.pool().begin().await?;
        identity_store::set_password(&mut *tx, &account.id, hash).await?;
        identity_store::delete_sessions_of(&mut *tx, &account.id).await?;
        identity_store::revoke_tokens_of(&mut *tx, &account.id, None, state.now()).await?;
        let (id, username) = (&account.id, account.username.clone());
        record(
            &mut tx,
            state.now(),
            by,
            "account.reset_password",
            id,
            username,
        )
        .await?;
        Ok(tx.commit().await?)
    })
    .await?;
    crate::cache::account_changed(state, &account.id).await;
    Ok(password)
}

/// Grants a role. A person holds at most one of the three administrator roles.
pub async fn grant_role(
    state: &AppState,
    by: By<'_>,
    account_id: &str,
    role: Role,
    region_code: Option<RegionCode>,
    department_id: Option<String>,
) -> AppResult<RoleGrant> {
    let (account, grants) = target(state, account_id).await?;
    let holds_trio_role = grants.iter().any(|grant| grant.role.is_trio());
    by.allowed(
        Action::GrantRole,
        Resource::Account {
            id: &account.id,
            region: &account.home_region,
            holds_trio_role,
        },
    )?;
    if role.is_trio()
        && grants
            .iter()
            .any(|grant| grant.role.is_trio() && grant.role != role)
    {
        return Err(AppError::Conflict(
            "an account holds at most one of the three administrator roles".into(),
        ));
    }
    if role.is_staff() != (account.kind == AccountKind::Staff) {
        return Err(AppError::invalid(
            "role",
            "staff roles go to staff accounts, citizen and enterprise roles to theirs",
        ));
    }
    let scope = match (region_code, department_id) {
        (_, Some(id)) => {
            let department = store::department(state.pool(), &id)
                .await?
                .ok_or_else(|| AppError::invalid("department_id", "no such department"))?;
            Scope::Department {
                id: department.id,
                region: department.region_code,
            }
        }
        (Some(code), None) => {
            if store::region(state.pool(), code.as_str()).await?.is_none() {
                return Err(AppError::invalid("region_code", "no such region"));
            }
            Scope::Region { code }
        }
        (None, None) if !role.is_staff() => Scope::Own,
        (None, None) => {
            return Err(AppError::invalid(
                "region_code",
                "a staff role needs a region or a department",
            ));
        }
    };
    // A role reaching beyond the granting administrator's own scope is not theirs to give.
    if let (By::Actor(actor), Some(reach)) = (by, scope.region())
        && !can(
            actor,
            Action::GrantRole,
            Resource::Account {
                id: &account.id,
                region: reach,
                holds_trio_role,
            },
        )
    {
        return Err(AppError::Forbidden);
    }
    let detail = format!(
        "{role} in {} {}",
        scope.kind(),
        scope.region().map(RegionCode::as_str).unwrap_or("-")
    );
    let (account, scope, detail) = (&account, &scope, &detail);
    retrying(move || async move {
        let mut tx = state.pool().begin().await?;
        let now = state.now();
        identity_store::insert_grant(&mut *tx, &account.id, role, scope, Some(&by.id()), now)
            .await?;
        record(&mut tx, now, by, "role.grant", &account.id, detail.clone()).await?;
        Ok(tx.commit().await?)
    })
    .await?;
    crate::cache::account_changed(state, &account.id).await;
    Ok(RoleGrant {
        role,
        scope: scope.clone(),
    })
}

pub async fn revoke_role(
    state: &AppState,
    by: By<'_>,
    account_id: &str,
    role: Role,
) -> AppResult<()> {
    let (account, grants) = target(state, account_id).await?;
    let holds_trio_role = grants.iter().any(|grant| grant.role.is_trio());
    by.allowed(
        Action::GrantRole,
        Resource::Account {
            id: &account.id,
            region: &account.home_region,
            holds_trio_role,
        },
    )?;
    let account = &account;
    retrying(move || async move {
        let mut tx = state.pool().begin().await?;
        if identity_store::delete_grants(&mut *tx, &account.id, role).await? == 0 {
            return Err(AppError::NotFound);
        }
        record(
            &mut tx,
            state.now(),
            by,
            "role.revoke",
            &account.id,
            role.to_string(),
        )
        .await?;
        Ok(tx.commit().await?)
    })
    .await?;
    crate::cache::account_changed(state, &account.id).await;
    Ok(())
}

/// An account with its roles, as the administrators' lists show it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AccountWithRoles {
    #[serde(flatten)]
    pub account: Account,
    pub roles: Vec<RoleGrant>,
}

/// The accounts within the actor's reach.
pub async fn list_accounts(
    state: &AppState,
    actor: &Actor,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<AccountWithRoles>> {
    if !can(actor, Action::ListAccounts, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
    let accounts =
        identity_store::list_accounts(state.pool(), limit.clamp(1, 500), offset.max(0)).await?;
    let mut listed = Vec::with_capacity(accounts.len());
    for account in accounts {
        if can(
            actor,
            Action::ListAccounts,
            Resource::Region(&account.home_region),
        ) {
            let roles = identity_store::grants(state.pool(), &account.id).await?;
            listed.push(AccountWithRoles { account, roles });
        }
    }
    Ok(listed)
}

/// The accounts the actor may grant roles to (the security administrator's console).
pub async fn grantable_accounts(
    state: &AppState,
    actor: &Actor,
    limit: i64,
) -> AppResult<Vec<AccountWithRoles>> {
    let accounts = identity_store::list_accounts(state.pool(), limit.clamp(1, 500), 0).await?;
    let mut listed = Vec::new();
    for account in accounts {
        let roles = identity_store::grants(state.pool(), &account.id).await?;
        let resource = Resource::Account {
            id: &account.id,
            region: &account.home_region,
            holds_trio_role: roles.iter().any(|grant| grant.role.is_trio()),
        };
        if can(actor, Action::GrantRole, resource) {
            listed.push(AccountWithRoles { account, roles });
        }
    }
    Ok(listed)
}

pub async fn list_events(
    state: &AppState,
    actor: &Actor,
    limit: i64,
) -> AppResult<Vec<AdminEvent>> {
    if !can(actor, Action::ReadAuditRecords, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
    store::events(state.pool(), limit.clamp(1, 1000)).await
}

pub async fn list_regions(state: &AppState, actor: &Actor) -> AppResult<Vec<Region>> {
    if !can(actor, Action::ViewRegions, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
    store::regions(state.pool()).await
}

pub async fn list_departments(state: &AppState, actor: &Actor) -> AppResult<Vec<Department>> {
    if !can(actor, Action::ViewRegions, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
    store::departments(state.pool()).await
}
