//! What a resource, its items, a request and a grant are, and the rules a resource keeps.

use serde::{Deserialize, Serialize};

/// Whether and how a resource is shared with other departments (共享类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShareType {
    /// 无条件共享: granted on request.
    Unconditional,
    /// 有条件共享: granted when the owner decides, on its conditions.
    Conditional,
    /// 不予共享: not shared, on a legal basis.
    None,
}

/// Whether a resource may be opened to the public (开放类型), for the open-data module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenType {
    Unconditional,
    Conditional,
    None,
}

impl ShareType {
    pub fn as_str(self) -> &'static str {
        match self {
            ShareType::Unconditional => "unconditional",
            ShareType::Conditional => "conditional",
            ShareType::None => "none",
        }
    }

    pub fn parse(text: &str) -> Option<ShareType> {
        match text {
            "unconditional" => Some(ShareType::Unconditional),
            "conditional" => Some(ShareType::Conditional),
            "none" => Some(ShareType::None),
            _ => None,
        }
    }
}

impl OpenType {
    pub fn as_str(self) -> &'static str {
        match self {
            OpenType::Unconditional => "unconditional",
            OpenType::Conditional => "conditional",
            OpenType::None => "none",
        }
    }

    pub fn parse(text: &str) -> Option<OpenType> {
        match text {
            "unconditional" => Some(OpenType::Unconditional),
            "conditional" => Some(OpenType::Conditional),
            "none" => Some(OpenType::None),
            _ => None,
        }
    }
}

/// The kinds of value an item holds.
pub const ITEM_KINDS: [&str; 7] = [
    "string", "integer", "decimal", "date", "datetime", "boolean", "code",
];

/// Personal-data categories of an item (none: not personal).
pub const PERSONAL_CATEGORIES: [&str; 7] = [
    "name",
    "id_number",
    "phone",
    "address",
    "health",
    "whereabouts",
    "other",
];

/// How often a resource is updated.
pub const UPDATE_CYCLES: [&str; 7] = [
    "realtime",
    "daily",
    "weekly",
    "monthly",
    "quarterly",
    "yearly",
    "irregular",
];

/// The formats a resource is served in.
pub const FORMATS: [&str; 5] = ["api", "json", "csv", "xlsx", "file"];

/// One data item (信息项) of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataItem {
    /// A short code, unique in the resource (`a-z`, `0-9`, `_`).
    pub code: String,
    pub name: String,
    /// One of `string`, `integer`, `decimal`, `date`, `datetime`, `boolean`, `code`.
    pub kind: String,
    #[serde(default)]
    pub length: Option<i64>,
    /// The personal-data category (`name`, `id_number`, `phone`, `address`, `health`,
    /// `whereabouts`, `other`); absent when the item holds no personal data.
    #[serde(default)]
    pub personal: Option<String>,
}

/// A resource as its owner writes it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceDraft {
    pub name: String,
    pub description: String,
    pub share_type: ShareType,
    /// For conditional sharing: the conditions a requester must meet.
    #[serde(default)]
    pub share_conditions: Option<String>,
    /// The law or regulation that keeps it unshared (required for `none`).
    #[serde(default)]
    pub legal_basis: Option<String>,
    pub open_type: OpenType,
    pub update_cycle: String,
    pub format: String,
    /// The service that serves it (an API, a registry).
    #[serde(default)]
    pub service: Option<String>,
    pub items: Vec<DataItem>,
}

/// A resource of the catalogue.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Resource {
    pub code: String,
    pub name: String,
    pub department_id: String,
    pub department_name: String,
    pub description: String,
    pub share_type: ShareType,
    pub share_conditions: Option<String>,
    pub legal_basis: Option<String>,
    pub open_type: OpenType,
    pub update_cycle: String,
    pub format: String,
    pub service: Option<String>,
    pub version: i64,
    pub items: Vec<DataItem>,
}

impl Resource {
    /// Whether any item holds personal data.
    pub fn has_personal_data(&self) -> bool {
        self.items.iter().any(|i| i.personal.is_some())
    }
}

/// What a department asks for.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestDraft {
    pub resource: String,
    /// The item codes needed (a subset of the resource's).
    pub items: Vec<String>,
    pub purpose: String,
    pub legal_basis: String,
    /// The service item (事项) the data supports.
    #[serde(default)]
    pub service_item: Option<String>,
    /// The last day of use (`YYYY-MM-DD`), at most a year away.
    pub until: String,
}

/// A request, and once decided, the grant.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DataRequest {
    pub id: String,
    pub resource: String,
    pub resource_name: String,
    pub owner_department_id: String,
    pub consumer_department_id: String,
    pub consumer_department_name: String,
    pub items: Vec<String>,
    pub purpose: String,
    pub legal_basis: String,
    pub service_item: Option<String>,
    pub until: String,
    /// `pending`, `granted`, `refused`, `revoked`, or `expired` (a grant past its day).
    pub state: String,
    /// RFC 3339.
    pub requested_at: String,
    pub decision_note: Option<String>,
    /// The items granted (a subset of those asked).
    pub granted_items: Vec<String>,
    /// The items asked, with their names and personal-data categories, as the catalogue
    /// describes them.
    pub item_details: Vec<DataItem>,
}

impl DataRequest {
    /// The names of the items granted (or asked, before a grant), for pages.
    pub fn item_names(&self) -> String {
        let codes = if self.granted_items.is_empty() {
            &self.items
        } else {
            &self.granted_items
        };
        codes
            .iter()
            .map(|code| {
                self.item_details
                    .iter()
                    .find(|i| &i.code == code)
                    .map_or_else(|| code.clone(), |i| i.name.clone())
            })
            .collect::<Vec<_>>()
            .join("、")
    }
}
