//! The demo city as the modules see it when each adds its part (`Module::demo`): the fictional
//! prefecture city 临江市 (Linjiang) and its two districts, its departments, and the accounts
//! made for it with their credentials. The city itself is made by `tongban-app`'s demo.

use serde::Serialize;

use crate::admin::directory::Department;

/// 临江市, and its districts 江北区 and 江南区.
pub const CITY: &str = "339900";
pub const JIANGBEI: &str = "339901";
pub const JIANGNAN: &str = "339902";

/// One demo account's credentials, as written to `demo-credentials.json`.
#[derive(Debug, Clone, Serialize)]
pub struct DemoAccount {
    pub role: String,
    pub username: String,
    pub display_name: String,
    pub password: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
    pub api_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resident_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
}

/// What the modules build on: the city's departments and accounts.
pub struct DemoCity {
    pub departments: Vec<Department>,
    pub accounts: Vec<DemoAccount>,
}

impl DemoCity {
    /// The accounts of one role (`citizen`, `clerk` …).
    pub fn with_role<'a>(&'a self, role: &'a str) -> impl Iterator<Item = &'a DemoAccount> {
        self.accounts.iter().filter(move |a| a.role == role)
    }
}
