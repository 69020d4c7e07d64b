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
use crate::identity::{activation, password, totp};
use crate::random;
use crate::state::AppState;

/// Who asks: a logged-in administrator, or the operator at the command line (`tongban admin`),
/// who holds the machine and so the database already.
#[derive(Clone, Copy)]
pub enum By<'a> {
    Actor(&'a Actor),
    Operator,
    /// A citizen registering through their own verified channel (the phone on their record).
    Registration,
}

impl By<'_> {
    fn allowed(&self, action: Action, resource: Resource<'_>) -> AppResult<()> {
        match self {
            By::Operator => Ok(()),
            By::Actor(actor) if can(actor, action, resource) => Ok(()),
            By::Actor(_) | By::Registration => Err(AppError::Forbidden),
        }
    }

    fn id(&self) -> String {
        match self {
            By::Actor(actor) => actor.id().to_owned(),
            By::Operator => "operator".to_owned(),
            By::Registration => "registration".to_owned(),
        }
    }
}

/// Records an administrative event in the transaction of the change it describes, so there is
/// never a change without its record, under the region it concerns (which decides the audit
/// administrators who read it).
async fn record(
    conn: &mut AnyConnection,
    now: i64,
    by: By<'_>,
    (action, target, region): (&str, &str, &RegionCode),
    detail: String,
) -> AppResult<()> {
    let event = AdminEvent {
        id: random::new_id(),
        at: now,
        actor_id: by.id(),
        action: action.into(),
        target: target.into(),
        detail,
        region_code: Some(region.as_str().to_owned()),
    };
    store::insert_event(conn, &event).await
}

#[derive(serde::Serialize)]
struct ChangeEntry<'a> {
    kind: &'static str,
    at: String,
    actor: String,
    action: &'a str,
    target: &'a str,
    region: &'a str,
    role: Option<&'a str>,
}

/// Writes an account or grant change into the transparency log before it is made: the
/// mutable events table is not the only record of who gave whom which power.
async fn log_change(
    state: &AppState,
    by: By<'_>,
    (action, target, region): (&str, &str, &RegionCode),
    role: Option<Role>,
) -> AppResult<()> {
    let entry = ChangeEntry {
        kind: "account_change",
        at: crate::time_fmt::rfc3339(state.now()),
        actor: by.id(),
        action,
        target,
        region: region.as_str(),
        role: role.map(Role::as_str),
    };
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    Ok(())
}

/// Whether a grant gives powers over personal data (clerks, health officers, checkpoint
/// officers) or reaches a whole city or more: such grants need a security administrator's
/// approval besides the administrator who asks.
pub fn needs_second_person(role: Role, scope: &Scope) -> bool {
    matches!(
        role,
        Role::Clerk | Role::HealthOfficer | Role::CheckpointOfficer
    ) || (role.is_staff()
        && !role.is_trio()
        && scope
            .region()
            .is_some_and(|region| region.level() <= tongban_core::RegionLevel::Prefecture))
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
        let what = ("region.create", code, &saved.code);
        record(&mut tx, state.now(), by, what, name).await?;
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
        let what = ("department.create", id.as_str(), &saved.region_code);
        record(&mut tx, state.now(), by, what, name).await?;
        Ok(tx.commit().await?)
    })
    .await?;
    // A member code that was another region's may now be this region's own.
    crate::cache::changed(state, crate::cache::MEMBERS, crate::cache::ALL).await;
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

/// The new account. Created by the operator, with the secrets to hand to its holder; created by
/// an administrator, with none: its holder activates it with the code delivered to them.
pub struct CreatedAccount {
    pub account: Account,
    pub password: Option<String>,
    pub totp_secret: Option<String>,
    /// The first role's request, when it waits for a security administrator's approval.
    pub pending_grant: Option<String>,
}

pub(crate) fn valid_username(username: &str) -> AppResult<String> {
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

/// A citizen's own account, registered with their ID number: it is bound to their record, has
/// no usable password, and its activation code goes to the phone on that record (the caller
/// has checked there is one, and that the person has no account yet). The username is the
/// name shown for it, so the account table holds no name.
pub async fn register_citizen(
    state: &AppState,
    username: &str,
    person_id: &str,
    home_region: RegionCode,
) -> AppResult<()> {
    let username = valid_username(username)?;
    let id = random::new_id();
    let new = NewAccount {
        display_name: username.clone(),
        username,
        kind: AccountKind::Citizen,
        home_region,
        password_hash: activation::unusable_password_hash().await?,
        totp_secret: None,
        department_id: None,
        person_id: Some(person_id.to_owned()),
        enterprise_id: None,
    };
    let what = ("account.register", id.as_str(), &new.home_region);
    log_change(state, By::Registration, what, Some(Role::Citizen)).await?;
    let (id, new) = (&id, &new);
    retrying(move || async move {
        let mut tx = state.pool().begin().await?;
        let now = state.now();
        identity_store::insert_account(&mut *tx, id, new, now).await?;
        let by = Some("registration");
        identity_store::insert_grant(&mut *tx, id, Role::Citizen, &Scope::Own, by, now).await?;
        activation::issue(state, &mut tx, id, &new.username, "registration").await?;
        let what = ("account.register", id.as_str(), &new.home_region);
        let detail = format!("{} as citizen", new.username);
        record(&mut tx, now, By::Registration, what, detail).await?;
        Ok(tx.commit().await?)
    })
    .await
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
    let by_administrator = matches!(by, By::Actor(_));
    // The three administrators are appointed by the operator or the security administrator.
    if request.role.is_trio() && by_administrator {
        return Err(AppError::Forbidden);
    }
    // Citizens and enterprises enrol through their own verified channel; an administrator
    // binding an account to an existing person could act as them.
    if !request.role.is_staff() && by_administrator {
        return Err(AppError::Forbidden);
    }
    if request.password.is_some() && by_administrator {
        return Err(AppError::invalid(
            "password",
            "an administrator does not choose another person's password: the holder sets it when activating the account",
        ));
    }
    let kind = match request.role {
        Role::Citizen => AccountKind::Citizen,
        Role::Enterprise => AccountKind::Enterprise,
        _ => AccountKind::Staff,
    };
    // The operator hands over a password and (staff) a second factor; an administrator's new
    // account has neither until its holder activates it.
    let (password, totp_secret, password_hash) = if by_administrator {
        (None, None, activation::unusable_password_hash().await?)
    } else {
        let password = match request.password {
            Some(chosen) => {
                password::check_strength(&chosen)?;
                chosen
            }
            None => random::readable_password(),
        };
        let hash = password::hash(password.clone()).await?;
        let totp_secret = (kind == AccountKind::Staff).then(totp::new_secret);
        (Some(password), totp_secret, hash)
    };
    let id = random::new_id();
    let new = NewAccount {
        username,
        display_name,
        kind,
        home_region,
        password_hash,
        totp_secret: totp_secret
            .as_deref()
            .map(|secret| totp::seal(&state.vault, &id, secret)),
        department_id: request.department_id.filter(|_| kind == AccountKind::Staff),
        person_id: request.person_id.filter(|_| kind == AccountKind::Citizen),
        enterprise_id: request
            .enterprise_id
            .filter(|_| kind == AccountKind::Enterprise),
    };
    let role = request.role;
    let pending = (by_administrator && needs_second_person(role, &scope)).then(random::new_id);
    log_change(
        state,
        by,
        ("account.create", &id, &new.home_region),
        Some(role),
    )
    .await?;
    let (id, new, scope, pending) = (&id, &new, &scope, &pending);
    retrying(move || async move {
        let mut tx = state.pool().begin().await?;
        let now = state.now();
        identity_store::insert_account(&mut *tx, id, new, now).await?;
        match pending {
            Some(request_id) => {
                store::insert_grant_request(&mut *tx, request_id, id, role, scope, &by.id(), now)
                    .await?;
            }
            None => {
                identity_store::insert_grant(&mut *tx, id, role, scope, Some(&by.id()), now)
                    .await?;
            }
        }
        if by_administrator {
            activation::issue(state, &mut tx, id, &new.username, &by.id()).await?;
        }
        let detail = format!(
            "{} as {role}{}",
            new.username,
            if pending.is_some() {
                " (awaiting approval)"
            } else {
                ""
            }
        );
        let what = ("account.create", id.as_str(), &new.home_region);
        record(&mut tx, now, by, what, detail).await?;
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
        pending_grant: pending.clone(),
    })
}

async fn target(state: &AppState, account_id: &str) -> AppResult<(Account, Vec<RoleGrant>)> {
    let account = identity_store::account(state.pool(), account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let grants = identity_store::grants(state.pool(), account_id).await?;
    Ok((account, grants))
}

/// Resets an account's credentials: every session and API token ends and the lockout clears.
/// The operator sets a new password (generated, or the given one) and gets it back. An
/// administrator never learns one: the account's password and second factor are cleared and
/// its holder activates it again with a code delivered to them. Citizens' and enterprises'
/// accounts are not reset by administrators; they recover through their own verified channel.
pub async fn reset_password(
    state: &AppState,
    by: By<'_>,
    account_id: &str,
    chosen: Option<String>,
) -> AppResult<Option<String>> {
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
    let by_administrator = matches!(by, By::Actor(_));
    if by_administrator && account.kind != AccountKind::Staff {
        return Err(AppError::Forbidden);
    }
    if by_administrator && chosen.is_some() {
        return Err(AppError::invalid(
            "password",
            "an administrator does not choose another person's password: the holder sets it when activating the account",
        ));
    }
    let (password, hash) = if by_administrator {
        (None, activation::unusable_password_hash().await?)
    } else {
        let password = match chosen {
            Some(chosen) => {
                password::check_strength(&chosen)?;
                chosen
            }
            None => random::readable_password(),
        };
        let hash = password::hash(password.clone()).await?;
        (Some(password), hash)
    };
    let what = (
        "account.reset_password",
        account.id.as_str(),
        &account.home_region,
    );
    log_change(state, by, what, None).await?;
    let (hash, account) = (&hash, &account);
    retrying(move || async move {
        let mut tx = state.pool().begin().await?;
        identity_store::set_password(&mut *tx, &account.id, hash).await?;
        identity_store::delete_sessions_of(&mut *tx, &account.id).await?;
        identity_store::revoke_tokens_of(&mut *tx, &account.id, None, state.now()).await?;
        if by_administrator {
            identity_store::set_totp_secret(&mut *tx, &account.id, None).await?;
            activation::issue(state, &mut tx, &account.id, &account.username, &by.id()).await?;
        }
        let what = (
            "account.reset_password",
            account.id.as_str(),
            &account.home_region,
        );
        record(&mut tx, state.now(), by, what, account.username.clone()).await?;
        Ok(tx.commit().await?)
    })
    .await?;
    crate::cache::account_changed(state, &account.id).await;
    Ok(password)
}

/// What a grant did: the role is held, or the request waits for a second person.
#[derive(Debug, Clone)]
pub enum GrantOutcome {
    Granted(RoleGrant),
    /// The id of the request awaiting a security administrator's approval.
    Pending(String),
}

/// Grants a role. A person holds at most one of the three administrator roles. A grant over
/// personal data or a whole city asked by an administrator waits for a second one
/// ([`needs_second_person`], [`approve_grant`]).
pub async fn grant_role(
    state: &AppState,
    by: By<'_>,
    account_id: &str,
    role: Role,
    region_code: Option<RegionCode>,
    department_id: Option<String>,
) -> AppResult<GrantOutcome> {
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
    let region = scope.region().unwrap_or(&account.home_region).clone();
    if matches!(by, By::Actor(_)) && needs_second_person(role, &scope) {
        let request_id = random::new_id();
        log_change(
            state,
            by,
            ("role.request", &account.id, &region),
            Some(role),
        )
        .await?;
        let (account, scope, detail, request_id, region) =
            (&account, &scope, &detail, &request_id, &region);
        retrying(move || async move {
            let mut tx = state.pool().begin().await?;
            let now = state.now();
            store::insert_grant_request(
                &mut *tx,
                request_id,
                &account.id,
                role,
                scope,
                &by.id(),
                now,
            )
            .await?;
            let what = ("role.request", account.id.as_str(), region);
            record(&mut tx, now, by, what, detail.clone()).await?;
            Ok(tx.commit().await?)
        })
        .await?;
        return Ok(GrantOutcome::Pending(request_id.clone()));
    }
    log_change(state, by, ("role.grant", &account.id, &region), Some(role)).await?;
    let (account, scope, detail, region) = (&account, &scope, &detail, &region);
    retrying(move || async move {
        let mut tx = state.pool().begin().await?;
        let now = state.now();
        identity_store::insert_grant(&mut *tx, &account.id, role, scope, Some(&by.id()), now)
            .await?;
        let what = ("role.grant", account.id.as_str(), region);
        record(&mut tx, now, by, what, detail.clone()).await?;
        Ok(tx.commit().await?)
    })
    .await?;
    crate::cache::account_changed(state, &account.id).await;
    Ok(GrantOutcome::Granted(RoleGrant {
        role,
        scope: scope.clone(),
    }))
}

/// A grant request as the security administrator's inbox shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PendingGrant {
    pub id: String,
    pub account_id: String,
    pub username: String,
    pub display_name: String,
    #[schema(value_type = String)]
    pub role: Role,
    pub scope: RoleGrant,
    pub requested_by: String,
    /// RFC 3339.
    pub requested_at: String,
}

/// The request, when the actor may decide it: a security administrator whose scope reaches
/// the account and the grant, who is neither the requester nor the account.
async fn decidable(
    state: &AppState,
    actor: &Actor,
    request: &store::GrantRequestRow,
) -> AppResult<(Account, Scope)> {
    let (account, grants) = target(state, &request.account_id).await?;
    let holds_trio_role = grants.iter().any(|grant| grant.role.is_trio());
    let scope = request.scope(state).await?;
    let region = scope.region().unwrap_or(&account.home_region).clone();
    for reach in [&account.home_region, &region] {
        if !can(
            actor,
            Action::GrantRole,
            Resource::Account {
                id: &account.id,
                region: reach,
                holds_trio_role,
            },
        ) {
            return Err(AppError::Forbidden);
        }
    }
    if request.requested_by == actor.id() {
        return Err(AppError::Conflict(
            "a grant needs a second administrator, not the one who asked for it".into(),
        ));
    }
    Ok((account, scope))
}

/// The open grant requests the actor may decide, oldest first.
pub async fn pending_grants(state: &AppState, actor: &Actor) -> AppResult<Vec<PendingGrant>> {
    if !can(actor, Action::ManageGrants, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
    let mut listed = Vec::new();
    for request in store::open_grant_requests(state.pool()).await? {
        let Ok((account, scope)) = decidable(state, actor, &request).await else {
            continue;
        };
        let requested_by = identity_store::account(state.pool(), &request.requested_by)
            .await?
            .map(|a| a.display_name)
            .unwrap_or_else(|| request.requested_by.clone());
        listed.push(PendingGrant {
            id: request.id.clone(),
            account_id: account.id,
            username: account.username,
            display_name: account.display_name,
            role: request.role()?,
            scope: RoleGrant {
                role: request.role()?,
                scope,
            },
            requested_by,
            requested_at: crate::time_fmt::rfc3339(request.requested_at),
        });
    }
    Ok(listed)
}

/// Decides a grant request: approved, the role is held from now on; refused, it is closed.
pub async fn decide_grant(
    state: &AppState,
    actor: &Actor,
    request_id: &str,
    approve: bool,
) -> AppResult<()> {
    if !can(actor, Action::ManageGrants, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
    let request = store::grant_request(state.pool(), request_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if request.decided_at.is_some() {
        return Err(AppError::Conflict("the request is decided already".into()));
    }
    let (account, scope) = decidable(state, actor, &request).await?;
    let role = request.role()?;
    let region = scope.region().unwrap_or(&account.home_region).clone();
    let action = if approve {
        "role.approve"
    } else {
        "role.refuse"
    };
    let by = By::Actor(actor);
    log_change(state, by, (action, &account.id, &region), Some(role)).await?;
    let (account, scope, region) = (&account, &scope, &region);
    retrying(move || async move {
        let mut tx = state.pool().begin().await?;
        let now = state.now();
        if !store::decide_grant_request(&mut *tx, request_id, actor.id(), approve, now).await? {
            return Err(AppError::Conflict("the request is decided already".into()));
        }
        if approve {
            identity_store::insert_grant(&mut *tx, &account.id, role, scope, Some(actor.id()), now)
                .await?;
        }
        let what = (action, account.id.as_str(), region);
        record(
            &mut tx,
            now,
            by,
            what,
            format!("{role} for {}", account.username),
        )
        .await?;
        Ok(tx.commit().await?)
    })
    .await?;
    crate::cache::account_changed(state, &account.id).await;
    Ok(())
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
    log_change(
        state,
        by,
        ("role.revoke", &account.id, &account.home_region),
        Some(role),
    )
    .await?;
    let account = &account;
    retrying(move || async move {
        let mut tx = state.pool().begin().await?;
        if identity_store::delete_grants(&mut *tx, &account.id, role).await? == 0 {
            return Err(AppError::NotFound);
        }
        let what = ("role.revoke", account.id.as_str(), &account.home_region);
        record(&mut tx, state.now(), by, what, role.to_string()).await?;
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

/// The newest administrative events of the regions the audit administrator's scope covers.
/// Events recorded before events carried a region count as the deployment's.
pub async fn list_events(
    state: &AppState,
    actor: &Actor,
    limit: i64,
) -> AppResult<Vec<AdminEvent>> {
    list_events_where(state, actor, &store::EventFilter::default(), limit).await
}

/// The latest events of the filter that the auditor's regions cover.
pub async fn list_events_where(
    state: &AppState,
    actor: &Actor,
    filter: &store::EventFilter,
    limit: i64,
) -> AppResult<Vec<AdminEvent>> {
    if !can(actor, Action::ReadAuditRecords, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
    let deployment: Option<RegionCode> = state.config.region_code.parse().ok();
    let limit = limit.clamp(1, 1000);
    let events = store::events(state.pool(), filter, limit * 10).await?;
    Ok(events
        .into_iter()
        .filter(|event| {
            let region = match &event.region_code {
                Some(code) => code.parse::<RegionCode>().ok(),
                None => deployment.clone(),
            };
            region.is_some_and(|region| {
                can(actor, Action::ReadAuditRecords, Resource::Region(&region))
            })
        })
        .take(limit as usize)
        .collect())
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
