//! Accounts, roles and the acting party of a request.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tongban_core::RegionCode;

/// A role a person holds within a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 系统管理员: accounts, regions, departments — not roles, not audit.
    SystemAdmin,
    /// 安全管理员: role grants and the passwords of the three administrators — not accounts, not audit.
    SecurityAdmin,
    /// 审计管理员: reads the audit records of everyone, changes nothing.
    AuditAdmin,
    /// Administers one department's staff and settings.
    DeptAdmin,
    /// 窗口/审批人员: accepts, reviews and decides applications.
    Clerk,
    /// Records health facts; runs contact matching.
    HealthOfficer,
    /// 场所: scans passes at a venue.
    VenueOperator,
    /// 卡口: checks passes and ID cards at a checkpoint.
    CheckpointOfficer,
    /// 值班员: watches the operations view of a region and handles its alerts — no power over
    /// persons, applications or accounts.
    DutyOfficer,
    /// 办事群众: a natural person using the services.
    Citizen,
    /// 企业: a legal person using the services.
    Enterprise,
}

impl Role {
    pub const ALL: [Role; 11] = [
        Role::SystemAdmin,
        Role::SecurityAdmin,
        Role::AuditAdmin,
        Role::DeptAdmin,
        Role::Clerk,
        Role::HealthOfficer,
        Role::VenueOperator,
        Role::CheckpointOfficer,
        Role::DutyOfficer,
        Role::Citizen,
        Role::Enterprise,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::SystemAdmin => "system_admin",
            Role::SecurityAdmin => "security_admin",
            Role::AuditAdmin => "audit_admin",
            Role::DeptAdmin => "dept_admin",
            Role::Clerk => "clerk",
            Role::HealthOfficer => "health_officer",
            Role::VenueOperator => "venue_operator",
            Role::CheckpointOfficer => "checkpoint_officer",
            Role::DutyOfficer => "duty_officer",
            Role::Citizen => "citizen",
            Role::Enterprise => "enterprise",
        }
    }

    /// One of the three separated administrators (三员).
    pub fn is_trio(self) -> bool {
        matches!(
            self,
            Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin
        )
    }

    /// Staff roles log in with two factors.
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Citizen | Role::Enterprise)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(text: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or(UnknownRole)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown role")]
pub struct UnknownRole;

/// Where a role applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// A region and everything below it.
    Region {
        #[schema(value_type = String)]
        code: RegionCode,
    },
    /// One department (and so the region it belongs to, for reading).
    Department {
        id: String,
        #[schema(value_type = String)]
        region: RegionCode,
    },
    /// The account's own records only.
    Own,
}

impl Scope {
    pub fn kind(&self) -> &'static str {
        match self {
            Scope::Region { .. } => "region",
            Scope::Department { .. } => "department",
            Scope::Own => "own",
        }
    }

    /// The region the scope reaches, if any.
    pub fn region(&self) -> Option<&RegionCode> {
        match self {
            Scope::Region { code } => Some(code),
            Scope::Department { region, .. } => Some(region),
            Scope::Own => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RoleGrant {
    pub role: Role,
    pub scope: Scope,
}

/// What kind of party an account stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Staff,
    Citizen,
    Enterprise,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Staff => "staff",
            AccountKind::Citizen => "citizen",
            AccountKind::Enterprise => "enterprise",
        }
    }

    pub fn parse(text: &str) -> Option<AccountKind> {
        match text {
            "staff" => Some(AccountKind::Staff),
            "citizen" => Some(AccountKind::Citizen),
            "enterprise" => Some(AccountKind::Enterprise),
            _ => None,
        }
    }
}

/// The user's interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    Zh,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Zh => "zh",
            Language::En => "en",
        }
    }

    pub fn parse(text: &str) -> Option<Language> {
        match text {
            "zh" | "zh-CN" | "zh-Hans" => Some(Language::Zh),
            "en" | "en-US" | "en-GB" => Some(Language::En),
            _ => None,
        }
    }
}

/// An account as stored, without its secrets.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub kind: AccountKind,
    /// The region the account belongs to, against which administrators' scopes are checked.
    #[schema(value_type = String)]
    pub home_region: RegionCode,
    pub department_id: Option<String>,
    pub person_id: Option<String>,
    pub enterprise_id: Option<String>,
    pub language: Language,
    pub large_text: bool,
    pub disabled: bool,
    pub totp_enabled: bool,
}

/// How the actor proved who they are on this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A page session; forms must carry its CSRF token.
    Session { csrf_token: String },
    /// A bearer token, by its id.
    Token { token_id: String },
}

/// The authenticated party of a request: the account, its roles with scopes, and how it logged in.
#[derive(Debug, Clone)]
pub struct Actor {
    pub account: Account,
    pub grants: Vec<RoleGrant>,
    /// The region of the account's own department, for staff.
    pub department_region: Option<RegionCode>,
    pub credential: Credential,
}

impl Actor {
    pub fn id(&self) -> &str {
        &self.account.id
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|grant| grant.role == role)
    }

    /// The department a clerk acts for: `None` unless the actor is a clerk of a department.
    pub fn clerk_department(&self) -> Option<&str> {
        self.account
            .department_id
            .as_deref()
            .filter(|_| self.has_role(Role::Clerk))
    }

    /// The grants of one role.
    pub fn grants_of(&self, role: Role) -> impl Iterator<Item = &RoleGrant> {
        self.grants.iter().filter(move |grant| grant.role == role)
    }

    /// The role to name in audit records: the first staff role, else the first role.
    pub fn primary_role(&self) -> Role {
        self.grants
            .iter()
            .map(|grant| grant.role)
            .find(|role| role.is_staff())
            .or_else(|| self.grants.first().map(|grant| grant.role))
            .unwrap_or(Role::Citizen)
    }
}
