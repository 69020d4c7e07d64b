//! Grants to departments of other regions (跨区域共享). A department of a recognised region
//! cannot ask here (it has no account here); the owner of a resource grants it items directly,
//! on the other region's request received through official channels, and may revoke the
//! grant at any time. The department is named by its USCC, which its region's trust list must
//! bind to an exchange key; the owner records its name. Every grant and revocation is in the
//! transparency log, and the gateway keeps to the grants in force.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::model::ShareType;
use super::store::{self, ForeignGrantRow};
use crate::authz::{Action, Resource as On, can};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::state::AppState;

/// What the owner grants a department of another region.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForeignGrantDraft {
    pub resource: String,
    /// The USCC of the department, as its region's trust list names it.
    pub uscc: String,
    /// Its name, as the owner records it.
    pub name: String,
    /// The item codes granted (a subset of the resource's).
    pub items: Vec<String>,
    pub purpose: String,
    pub legal_basis: String,
    /// The last day of use (`YYYY-MM-DD`), at most a year away.
    pub until: String,
}

/// A grant to a department of another region.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ForeignGrant {
    pub id: String,
    pub resource: String,
    /// The region the department belongs to, from its trust list.
    pub region: String,
    pub uscc: String,
    pub name: String,
    pub items: Vec<String>,
    pub purpose: String,
    pub legal_basis: String,
    pub until: String,
    /// `in_force`, `expired` or `revoked`.
    pub state: String,
    pub granted_at: String,
    pub revoke_note: Option<String>,
}

fn view(row: ForeignGrantRow, today: &str) -> ForeignGrant {
    let state = if row.revoked_at.is_some() {
        "revoked"
    } else if row.until_day.as_str() < today {
        "expired"
    } else {
        "in_force"
    };
    ForeignGrant {
        id: row.id,
        resource: row.resource_code,
        region: row.region_code,
        uscc: row.consumer_uscc,
        name: row.consumer_name,
        items: serde_json::from_str(&row.items).unwrap_or_default(),
        purpose: row.purpose,
        legal_basis: row.legal_basis,
        until: row.until_day,
        state: state.to_owned(),
        granted_at: crate::time_fmt::rfc3339(row.granted_at),
        revoke_note: row.revoke_note,
    }
}

fn today(state: &AppState) -> String {
    tongban_core::zone::ymd(state.today())
}

fn text(field: &'static str, value: &str, max: usize) -> AppResult<()> {
    let n = value.trim().chars().count();
    if n == 0 || n > max || value.chars().any(char::is_control) {
        return Err(AppError::invalid(field, format!("1–{max} characters")));
    }
    Ok(())
}

async fn log(state: &AppState, entry: serde_json::Value) -> AppResult<()> {
    crate::ledger::service::append(state, &entry)
        .await
        .map(|_| ())
        .map_err(|_| AppError::Unavailable)
}

/// Grants items of one of the actor's department's resources to a department of a
/// recognised region.
pub async fn grant(
    state: &AppState,
    actor: &Actor,
    draft: ForeignGrantDraft,
) -> AppResult<ForeignGrant> {
    let own = actor.account.department_id.as_deref().unwrap_or_default();
    if !can(actor, Action::DecideDataRequest, On::Department { id: own }) {
        return Err(AppError::Forbidden);
    }
    let resource = store::resource(state.pool(), &draft.resource)
        .await?
        .ok_or_else(|| AppError::invalid("resource", "no such resource in the catalogue"))?;
    let owner = On::Department {
        id: &resource.department_id,
    };
    if !can(actor, Action::DecideDataRequest, owner) {
        return Err(AppError::Forbidden);
    }
    if resource.share_type == ShareType::None {
        return Err(AppError::Conflict(format!(
            "{} is not shared ({})",
            resource.name,
            resource.legal_basis.clone().unwrap_or_default()
        )));
    }
    let uscc = draft.uscc.trim();
    if tongban_codes::xroad::parse_client(&format!("CN/GOV/{uscc}/X")).is_err() || uscc.is_empty() {
        return Err(AppError::invalid("uscc", "not a member code"));
    }
    let member = crate::gateway::members::remote_member(state, uscc)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "uscc",
                "no recognised region's trust list names this department",
            )
        })?;
    text("name", &draft.name, 100)?;
    text("purpose", &draft.purpose, 500)?;
    text("legal_basis", &draft.legal_basis, 500)?;
    let mut items = draft.items.clone();
    items.sort();
    items.dedup();
    if items.is_empty() || items.len() > super::service::MAX_ITEMS {
        return Err(AppError::invalid("items", "name the items granted"));
    }
    if let Some(item) = items
        .iter()
        .find(|item| !resource.items.iter().any(|i| &i.code == *item))
    {
        return Err(AppError::invalid(
            "items",
            format!("{item} is not an item of {}", resource.code),
        ));
    }
    let until = tongban_core::zone::parse_ymd(draft.until.trim())
        .ok_or_else(|| AppError::invalid("until", "a day such as 2027-06-30"))?;
    let today_date = state.today();
    if until < today_date || (until - today_date).whole_days() > 366 {
        return Err(AppError::invalid("until", "from today to a year from now"));
    }
    let row = ForeignGrantRow {
        id: tongban_platform::random::new_id(),
        resource_code: resource.code.clone(),
        owner_department_id: resource.department_id.clone(),
        region_code: member.region.clone(),
        consumer_uscc: uscc.to_owned(),
        consumer_name: draft.name.trim().to_owned(),
        items: serde_json::to_string(&items).map_err(|e| AppError::Internal(e.into()))?,
        purpose: draft.purpose.trim().to_owned(),
        legal_basis: draft.legal_basis.trim().to_owned(),
        until_day: tongban_core::zone::ymd(until),
        granted_by: actor.id().to_owned(),
        granted_at: state.now(),
        revoked_at: None,
        revoke_note: None,
    };
    log(
        state,
        json!({
            "kind": "data_foreign_granted",
            "at": crate::time_fmt::rfc3339(state.now()),
            "actor": actor.id(),
            "grant": row.id,
            "resource": row.resource_code,
            "region": row.region_code,
            "consumer": row.consumer_uscc,
            "items": items,
            "purpose": row.purpose,
            "legal_basis": row.legal_basis,
            "until": row.until_day,
        }),
    )
    .await?;
    store::insert_foreign_grant(state.pool(), &row).await?;
    grants_changed(state).await;
    Ok(view(row, &today(state)))
}

/// The owner stops a grant to another region at once, with a reason.
pub async fn revoke(
    state: &AppState,
    actor: &Actor,
    id: &str,
    note: &str,
) -> AppResult<ForeignGrant> {
    let row = store::foreign_grant(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let owner = On::Department {
        id: &row.owner_department_id,
    };
    if !can(actor, Action::DecideDataRequest, owner) {
        return Err(AppError::Forbidden);
    }
    text("note", note, 500)?;
    if row.revoked_at.is_some() {
        return Err(AppError::Conflict("the grant was revoked already".into()));
    }
    log(
        state,
        json!({
            "kind": "data_foreign_grant_revoked",
            "at": crate::time_fmt::rfc3339(state.now()),
            "actor": actor.id(),
            "grant": id,
            "resource": row.resource_code,
            "region": row.region_code,
            "consumer": row.consumer_uscc,
        }),
    )
    .await?;
    if !store::revoke_foreign_grant(state.pool(), id, actor.id(), state.now(), note.trim()).await? {
        return Err(AppError::Conflict("the grant was revoked already".into()));
    }
    grants_changed(state).await;
    let row = store::foreign_grant(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(view(row, &today(state)))
}

/// The grants to other regions of the actor's department's resources.
pub async fn grants(state: &AppState, actor: &Actor) -> AppResult<Vec<ForeignGrant>> {
    let department = actor.account.department_id.as_deref().unwrap_or_default();
    if !can(
        actor,
        Action::DecideDataRequest,
        On::Department { id: department },
    ) {
        return Err(AppError::Forbidden);
    }
    let today = today(state);
    Ok(store::foreign_grants_of(state.pool(), department)
        .await?
        .into_iter()
        .map(|row| view(row, &today))
        .collect())
}

/// The grants not revoked to a member of `region` for a resource, in force or expired: what
/// the gateway keeps on the node for [`in_force`] (the day is checked at each call).
pub(crate) async fn unrevoked(
    state: &AppState,
    region: &str,
    uscc: &str,
    resource: &str,
) -> AppResult<Vec<store::ForeignGrantRow>> {
    store::foreign_grants_for(state.pool(), region, uscc, resource).await
}

/// What the gateway keeps to: of a member's [`unrevoked`] grants for a resource, the items
/// granted today, with the name the owner recorded; `None` when no grant is in force.
pub(crate) fn in_force(
    state: &AppState,
    grants: &[store::ForeignGrantRow],
) -> Option<(Vec<String>, String)> {
    let today = today(state);
    let mut items: Vec<String> = Vec::new();
    let mut name = None;
    for row in grants {
        if row.until_day.as_str() < today.as_str() {
            continue;
        }
        for item in serde_json::from_str::<Vec<String>>(&row.items).unwrap_or_default() {
            if !items.contains(&item) {
                items.push(item);
            }
        }
        name.get_or_insert_with(|| row.consumer_name.clone());
    }
    name.map(|name| (items, name))
}

/// Tells every node's gateway that a grant to another region changed.
async fn grants_changed(state: &AppState) {
    crate::cache::changed(state, super::CHANGES, crate::cache::ALL).await;
}
