//! 一网通办: the service catalogue — items with the national implementation-list fields,
//! checked by consistency rules on every save, searched by citizens in Chinese, each with its
//! plain-language guide (办事指南).

pub mod api;
pub(crate) mod demo;
pub mod editor;
pub mod home;
pub mod item;
pub mod pages;
pub mod search;
pub(crate) mod store;

use serde::{Deserialize, Serialize};

use crate::authz::{Action, Resource, can};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::state::AppState;
use item::ServiceDefinition;
pub use store::StoredItem;

/// Checks an item: the consistency rules (the first broken one is the answer, as a 422 naming
/// its field), then that its department and every certificate type it names exist. Returns
/// the implementing department's id.
pub async fn validate(state: &AppState, definition: &ServiceDefinition) -> AppResult<String> {
    if let Some(broken) = definition.violations().into_iter().next() {
        return Err(AppError::invalid(broken.field, broken.message));
    }
    let department =
        crate::admin::directory::department_by_uscc(state, definition.department.trim())
            .await?
            .ok_or_else(|| AppError::invalid("department", "no department has this USCC"))?;
    let named = definition
        .materials
        .iter()
        .filter_map(|m| m.certificate_type.as_deref())
        .map(|code| ("materials", code))
        .chain(
            definition
                .result
                .certificate_type
                .as_deref()
                .map(|code| ("result", code)),
        )
        .chain(
            definition
                .consent_free_types
                .iter()
                .map(|code| ("consent_free_types", code.as_str())),
        );
    for (field, code) in named {
        if crate::certs::cert_type(state, code).await?.is_none() {
            return Err(AppError::invalid(
                field,
                format!("{code} is not a certificate type of the catalogue"),
            ));
        }
    }
    Ok(department.id)
}

/// Whether the actor may edit the items of a department: the system administrator edits any,
/// a department administrator those of their own department.
fn may_edit(actor: &Actor, department_id: &str) -> bool {
    can(
        actor,
        Action::EditServiceItems,
        Resource::Department { id: department_id },
    )
}

/// A save: the item, and for a change the version it was read at.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveRequest {
    pub item: ServiceDefinition,
    /// The version the editor started from; absent for a new item.
    pub version: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Saved {
    pub code: String,
    pub version: i64,
}

/// Creates (no version) or changes (the version read) an item, after every check. A change
/// from a stale version is a conflict. Logged.
pub async fn save(state: &AppState, actor: &Actor, request: SaveRequest) -> AppResult<Saved> {
    if !can(actor, Action::OpenServiceCatalogue, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
    let definition = request.item;
    let department_id = validate(state, &definition).await?;
    if !may_edit(actor, &department_id) {
        return Err(AppError::Forbidden);
    }
    let existing = store::by_code(state.pool(), &definition.code).await?;
    let version = match (request.version, &existing) {
        (None, None) => {
            store::insert(state, &definition, &department_id).await?;
            1
        }
        (None, Some(_)) => {
            return Err(AppError::Conflict(format!(
                "an item with the code {} exists; edit it with its version",
                definition.code
            )));
        }
        (Some(_), None) => return Err(AppError::NotFound),
        (Some(version), Some(item)) => {
            if !may_edit(actor, &item.department_id) {
                return Err(AppError::Forbidden);
            }
            store::update(state, &definition, &department_id, version)
                .await?
                .ok_or_else(|| {
                    AppError::Conflict(
                        "the item was changed since you opened it; reload and edit again".into(),
                    )
                })?
        }
    };
    let entry = serde_json::json!({
        "kind": "service_item_saved",
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": actor.id(),
        "item": definition.code,
        "version": version,
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    Ok(Saved {
        code: definition.code,
        version,
    })
}

/// One item in a listing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub code: String,
    pub name: String,
    /// The name in English, where the catalogue is bilingual.
    pub name_en: Option<String>,
    pub department: String,
    /// The implementing department's USCC.
    pub department_uscc: String,
    #[schema(value_type = String)]
    pub item_type: item::ItemType,
    pub online_depth: u8,
    pub visits: u8,
    #[schema(value_type = Object)]
    pub promised_limit: item::TimeLimit,
    pub theme: Option<String>,
}

/// Search terms and filters of the catalogue.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// Words of the name or keywords, in Chinese or not.
    pub q: Option<String>,
    /// The implementing department's USCC.
    pub department: Option<String>,
    pub theme: Option<String>,
    pub life_event: Option<String>,
}

/// The items matching a query, best first.
pub async fn list(state: &AppState, query: &Query) -> AppResult<Vec<Summary>> {
    let words = search::words("q", query.q.as_deref())?;
    let items: Vec<ServiceDefinition> = store::all(state.pool())
        .await?
        .into_iter()
        .map(|s| s.definition)
        .collect();
    let names = department_names(state).await?;
    let filters = search::Filters {
        department: query.department.clone().filter(|d| !d.is_empty()),
        theme: query.theme.clone().filter(|t| !t.is_empty()),
        life_event: query.life_event.clone().filter(|e| !e.is_empty()),
    };
    Ok(search::find(items, words.unwrap_or_default(), filters)
        .await?
        .into_iter()
        .map(|i| Summary {
            code: i.code.clone(),
            name: i.name.clone(),
            name_en: i.en.as_ref().map(|en| en.name.clone()),
            department: names.get(&i.department).cloned().unwrap_or_default(),
            department_uscc: i.department.clone(),
            item_type: i.item_type,
            online_depth: i.online_depth,
            visits: i.visits,
            promised_limit: i.promised_limit,
            theme: i.theme.clone(),
        })
        .collect())
}

/// Department names by USCC.
async fn department_names(
    state: &AppState,
) -> AppResult<std::collections::HashMap<String, String>> {
    Ok(crate::admin::directory::departments(state)
        .await?
        .into_iter()
        .filter_map(|d| d.uscc.map(|u| (u, d.name)))
        .collect())
}

/// The themes and life events items are filed under, for browsing.
pub async fn facets(state: &AppState) -> AppResult<(Vec<String>, Vec<String>)> {
    let mut themes = std::collections::BTreeSet::new();
    let mut events = std::collections::BTreeSet::new();
    for item in store::all(state.pool()).await? {
        themes.extend(item.definition.theme);
        events.extend(item.definition.life_events);
    }
    Ok((themes.into_iter().collect(), events.into_iter().collect()))
}

/// One item in full, with its version and its department's name.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ServiceItemDetail)]
pub struct Detail {
    #[schema(value_type = Object)]
    pub item: ServiceDefinition,
    pub version: i64,
    pub department_name: String,
}

pub async fn detail(state: &AppState, code: &str) -> AppResult<Detail> {
    let stored = store::by_code(state.pool(), code)
        .await?
        .ok_or(AppError::NotFound)?;
    let department_name = crate::admin::directory::department(state, &stored.department_id)
        .await?
        .map(|d| d.name)
        .unwrap_or_default();
    Ok(Detail {
        item: stored.definition,
        version: stored.version,
        department_name,
    })
}

/// The scope of service items in the nodes' caches: an item's code is published when it is
/// added or saved.
pub const ITEMS: &str = "service-items";

/// The stored item of this code (its definition, department and version): how other areas
/// read the catalogue. Applications and packages from other regions ask it on every call, so
/// the node keeps it until the item is saved (on any node: see [`ITEMS`]).
pub async fn item_by_code(state: &AppState, code: &str) -> AppResult<Option<store::StoredItem>> {
    type Items = std::sync::Arc<crate::cache::Coherent<store::StoredItem>>;
    let Some(cache) = state.try_module::<Items>() else {
        return store::by_code(state.pool(), code).await;
    };
    Ok(cache
        .get_or_load(state.now(), code, || store::by_code(state.pool(), code))
        .await?
        .map(|entry| entry.value.clone()))
}

/// Every stored item, by code.
pub async fn all_items(state: &AppState) -> AppResult<Vec<store::StoredItem>> {
    store::all(state.pool()).await
}
