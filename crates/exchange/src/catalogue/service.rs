//! The catalogue's rules: who may list, change, ask and decide, and the consistency a resource
//! keeps on every save. Every change of the catalogue and every decision is in the
//! transparency log.

use serde_json::json;

use super::model::{
    DataItem, DataRequest, FORMATS, ITEM_KINDS, OpenType, PERSONAL_CATEGORIES, RequestDraft,
    Resource, ResourceDraft, ShareType, UPDATE_CYCLES,
};
use super::store;
use crate::authz::{Action, Resource as On, can};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::state::AppState;

/// The most items a resource may have, and a request may name.
pub const MAX_ITEMS: usize = 200;

fn text(field: &'static str, value: &str, max: usize) -> AppResult<()> {
    let n = value.trim().chars().count();
    if n == 0 || n > max || value.chars().any(char::is_control) {
        return Err(AppError::invalid(field, format!("1–{max} characters")));
    }
    Ok(())
}

fn is_code(code: &str, max: usize) -> bool {
    (1..=max).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A resource code: 3–40 of `A-Z`, `0-9` and `-`, as catalogue codes are written.
pub fn valid_resource_code(code: &str) -> bool {
    (3..=40).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

/// The consistency rules of a resource: its fields from their code lists; items named once;
/// "not shared" with a legal basis, "conditionally shared" with its conditions; and an item of
/// personal data never shared unconditionally nor opened.
pub fn check_draft(state: &AppState, draft: &ResourceDraft) -> AppResult<()> {
    text("name", &draft.name, 100)?;
    if draft.description.chars().count() > 2000 {
        return Err(AppError::invalid("description", "at most 2,000 characters"));
    }
    if !UPDATE_CYCLES.contains(&draft.update_cycle.as_str()) {
        return Err(AppError::invalid(
            "update_cycle",
            format!("one of {}", UPDATE_CYCLES.join(", ")),
        ));
    }
    if !FORMATS.contains(&draft.format.as_str()) {
        return Err(AppError::invalid(
            "format",
            format!("one of {}", FORMATS.join(", ")),
        ));
    }
    if let Some(service) = &draft.service {
        text("service", service, 200)?;
        if !crate::gateway::providers::valid_service(state, service) {
            return Err(AppError::invalid(
                "service",
                format!(
                    "a registry of the platform ({}) or the http(s):// base address of the department's system",
                    crate::gateway::providers::own_names(state).join(", ")
                ),
            ));
        }
    }
    if draft.items.is_empty() || draft.items.len() > MAX_ITEMS {
        return Err(AppError::invalid(
            "items",
            format!("1–{MAX_ITEMS} data items"),
        ));
    }
    let mut seen: Vec<&str> = Vec::new();
    for item in &draft.items {
        check_item(item)?;
        if seen.contains(&item.code.as_str()) {
            return Err(AppError::invalid(
                "items",
                format!("{} is named twice", item.code),
            ));
        }
        seen.push(&item.code);
    }
    match draft.share_type {
        ShareType::None => {
            let basis = draft.legal_basis.as_deref().unwrap_or_default();
            if basis.trim().is_empty() {
                return Err(AppError::invalid(
                    "legal_basis",
                    "a resource that is not shared names the law that keeps it so",
                ));
            }
            text("legal_basis", basis, 500)?;
        }
        ShareType::Conditional => {
            let conditions = draft.share_conditions.as_deref().unwrap_or_default();
            if conditions.trim().is_empty() {
                return Err(AppError::invalid(
                    "share_conditions",
                    "conditional sharing says on what conditions",
                ));
            }
            text("share_conditions", conditions, 500)?;
        }
        ShareType::Unconditional => {}
    }
    let personal: Vec<&str> = draft
        .items
        .iter()
        .filter(|i| i.personal.is_some())
        .map(|i| i.code.as_str())
        .collect();
    if !personal.is_empty() {
        if draft.share_type == ShareType::Unconditional {
            return Err(AppError::invalid(
                "share_type",
                format!(
                    "items {} hold personal data: they cannot be shared unconditionally",
                    personal.join(", ")
                ),
            ));
        }
        if draft.open_type != OpenType::None {
            return Err(AppError::invalid(
                "open_type",
                format!(
                    "items {} hold personal data: they cannot be opened",
                    personal.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn check_item(item: &DataItem) -> AppResult<()> {
    if !is_code(&item.code, 40) {
        return Err(AppError::invalid(
            "items",
            format!("item code {:?}: 1–40 of a-z, 0-9, _", item.code),
        ));
    }
    text("items", &item.name, 60)?;
    if !ITEM_KINDS.contains(&item.kind.as_str()) {
        return Err(AppError::invalid(
            "items",
            format!("{}: kind one of {}", item.code, ITEM_KINDS.join(", ")),
        ));
    }
    if item.length.is_some_and(|n| !(1..=100_000).contains(&n)) {
        return Err(AppError::invalid(
            "items",
            format!("{}: length 1–100000", item.code),
        ));
    }
    if let Some(category) = &item.personal
        && !PERSONAL_CATEGORIES.contains(&category.as_str())
    {
        return Err(AppError::invalid(
            "items",
            format!(
                "{}: personal category one of {}",
                item.code,
                PERSONAL_CATEGORIES.join(", ")
            ),
        ));
    }
    Ok(())
}

async fn log(state: &AppState, entry: serde_json::Value) -> AppResult<()> {
    crate::ledger::service::append(state, &entry)
        .await
        .map(|_| ())
        .map_err(|_| AppError::Unavailable)
}

/// The whole catalogue, for staff.
pub async fn resources(state: &AppState, actor: &Actor) -> AppResult<Vec<Resource>> {
    if !can(actor, Action::ViewDataCatalogue, On::Platform) {
        return Err(AppError::Forbidden);
    }
    store::resources(state.pool()).await
}

pub async fn resource(state: &AppState, actor: &Actor, code: &str) -> AppResult<Resource> {
    if !can(actor, Action::ViewDataCatalogue, On::Platform) {
        return Err(AppError::Forbidden);
    }
    store::resource(state.pool(), code)
        .await?
        .ok_or(AppError::NotFound)
}

/// Creates or replaces a resource of the actor's department (its administrators). A resource of
/// another department is not theirs to change.
pub async fn save(
    state: &AppState,
    actor: &Actor,
    code: &str,
    draft: ResourceDraft,
) -> AppResult<Resource> {
    if !valid_resource_code(code) {
        return Err(AppError::invalid("code", "3–40 of A-Z, 0-9 and -"));
    }
    let department = match store::resource(state.pool(), code).await? {
        Some(existing) => existing.department_id,
        None => actor
            .account
            .department_id
            .clone()
            .ok_or(AppError::Forbidden)?,
    };
    if !can(
        actor,
        Action::ManageDataCatalogue,
        On::Department { id: &department },
    ) {
        return Err(AppError::Forbidden);
    }
    check_draft(state, &draft)?;
    let resource = Resource {
        code: code.to_owned(),
        name: draft.name.trim().to_owned(),
        department_id: department.clone(),
        department_name: String::new(),
        description: draft.description.trim().to_owned(),
        share_type: draft.share_type,
        share_conditions: draft
            .share_conditions
            .filter(|_| draft.share_type == ShareType::Conditional),
        legal_basis: draft
            .legal_basis
            .filter(|_| draft.share_type == ShareType::None),
        open_type: draft.open_type,
        update_cycle: draft.update_cycle,
        format: draft.format,
        service: draft.service,
        version: 0,
        items: draft.items,
    };
    log(
        state,
        json!({
            "kind": "data_resource_saved",
            "at": crate::time_fmt::rfc3339(state.now()),
            "actor": actor.id(),
            "department": department,
            "resource": code,
            "share_type": resource.share_type.as_str(),
            "open_type": resource.open_type.as_str(),
            "items": resource.items.iter().map(|i| &i.code).collect::<Vec<_>>(),
        }),
    )
    .await?;
    store::save_resource(state.pool(), &resource, actor.id(), state.now()).await?;
    routes_changed(state).await;
    store::resource(state.pool(), code)
        .await?
        .ok_or(AppError::NotFound)
}

fn items_of(json: Option<&str>) -> Vec<String> {
    json.and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

fn view(row: store::RequestRow, today: &str) -> DataRequest {
    let state = if row.state == "granted" && row.until_day.as_str() < today {
        "expired".to_owned()
    } else {
        row.state
    };
    DataRequest {
        items: items_of(Some(&row.items)),
        granted_items: items_of(row.granted_items.as_deref()),
        id: row.id,
        resource: row.resource_code,
        resource_name: row.resource_name,
        owner_department_id: row.owner_department_id,
        consumer_department_id: row.consumer_department_id,
        consumer_department_name: row.consumer_department_name,
        purpose: row.purpose,
        legal_basis: row.legal_basis,
        service_item: row.service_item,
        until: row.until_day,
        state,
        requested_at: crate::time_fmt::rfc3339(row.requested_at),
        decision_note: row.decision_note,
        item_details: Vec::new(),
    }
}

async fn one_described(state: &AppState, request: DataRequest) -> AppResult<DataRequest> {
    described(state, vec![request])
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a described request went missing")))
}

/// Fills in the asked items' names and categories from the catalogue.
async fn described(
    state: &AppState,
    mut requests: Vec<DataRequest>,
) -> AppResult<Vec<DataRequest>> {
    let catalogue = store::resources(state.pool()).await?;
    for request in &mut requests {
        if let Some(resource) = catalogue.iter().find(|r| r.code == request.resource) {
            request.item_details = resource
                .items
                .iter()
                .filter(|i| request.items.contains(&i.code))
                .cloned()
                .collect();
        }
    }
    Ok(requests)
}

fn today(state: &AppState) -> String {
    tongban_core::zone::ymd(state.today())
}

/// Asks for items of another department's resource in the actor's department's name (its
/// administrators). Unconditionally shared resources are granted at once; conditional ones
/// wait for the owner.
pub async fn ask(state: &AppState, actor: &Actor, draft: RequestDraft) -> AppResult<DataRequest> {
    let consumer = actor
        .account
        .department_id
        .clone()
        .ok_or(AppError::Forbidden)?;
    if !can(actor, Action::RequestData, On::Department { id: &consumer }) {
        return Err(AppError::Forbidden);
    }
    let resource = store::resource(state.pool(), &draft.resource)
        .await?
        .ok_or_else(|| AppError::invalid("resource", "no such resource in the catalogue"))?;
    if resource.department_id == consumer {
        return Err(AppError::invalid(
            "resource",
            "a department holds its own data already",
        ));
    }
    if resource.share_type == ShareType::None {
        return Err(AppError::Conflict(format!(
            "{} is not shared ({})",
            resource.name,
            resource.legal_basis.clone().unwrap_or_default()
        )));
    }
    if draft.items.is_empty() || draft.items.len() > MAX_ITEMS {
        return Err(AppError::invalid("items", "name the items needed"));
    }
    for item in &draft.items {
        if !resource.items.iter().any(|i| &i.code == item) {
            return Err(AppError::invalid(
                "items",
                format!("{item} is not an item of {}", resource.code),
            ));
        }
    }
    let mut items = draft.items.clone();
    items.sort();
    items.dedup();
    text("purpose", &draft.purpose, 500)?;
    text("legal_basis", &draft.legal_basis, 500)?;
    if let Some(item) = &draft.service_item {
        text("service_item", item, 100)?;
    }
    let until = tongban_core::zone::parse_ymd(draft.until.trim())
        .ok_or_else(|| AppError::invalid("until", "a day such as 2027-06-30"))?;
    let today_date = state.today();
    if until < today_date || (until - today_date).whole_days() > 366 {
        return Err(AppError::invalid("until", "from today to a year from now"));
    }
    let id = tongban_platform::random::new_id();
    let items_json = serde_json::to_string(&items).map_err(|e| AppError::Internal(e.into()))?;
    let until_text = tongban_core::zone::ymd(until);
    log(
        state,
        json!({
            "kind": "data_requested",
            "at": crate::time_fmt::rfc3339(state.now()),
            "actor": actor.id(),
            "request": id,
            "resource": resource.code,
            "consumer": consumer,
            "items": items,
            "purpose": draft.purpose.trim(),
            "legal_basis": draft.legal_basis.trim(),
            "until": until_text,
        }),
    )
    .await?;
    let mut tx = state.pool().begin().await?;
    store::insert_request(
        &mut *tx,
        &store::NewRequest {
            id: &id,
            resource: &resource.code,
            consumer: &consumer,
            items: &items_json,
            purpose: draft.purpose.trim(),
            legal_basis: draft.legal_basis.trim(),
            service_item: draft.service_item.as_deref().map(str::trim),
            until: &until_text,
            by: actor.id(),
            now: state.now(),
        },
    )
    .await?;
    if resource.share_type == ShareType::Unconditional {
        store::decide(
            &mut *tx,
            &id,
            &store::Decision {
                from: "pending",
                to: "granted",
                by: "catalogue",
                now: state.now(),
                note: Some("无条件共享 / shared unconditionally"),
                granted: Some(&items_json),
            },
        )
        .await?;
    }
    tx.commit().await?;
    routes_changed(state).await;
    let row = store::request(state.pool(), &id)
        .await?
        .ok_or(AppError::NotFound)?;
    one_described(state, view(row, &today(state))).await
}

/// The requests the actor's department made or must decide.
pub async fn requests(state: &AppState, actor: &Actor) -> AppResult<Vec<DataRequest>> {
    let department = actor
        .account
        .department_id
        .clone()
        .ok_or(AppError::Forbidden)?;
    if !can(
        actor,
        Action::RequestData,
        On::Department { id: &department },
    ) && !can(
        actor,
        Action::DecideDataRequest,
        On::Department { id: &department },
    ) {
        return Err(AppError::Forbidden);
    }
    let today = today(state);
    let views = store::requests_of(state.pool(), &department)
        .await?
        .into_iter()
        .map(|row| view(row, &today))
        .collect();
    described(state, views).await
}

/// Pending requests for the actor's department's resources (its to-do), when they decide them.
pub async fn pending_count(state: &AppState, actor: &Actor) -> AppResult<i64> {
    let Some(department) = actor.account.department_id.clone() else {
        return Ok(0);
    };
    if !can(
        actor,
        Action::DecideDataRequest,
        On::Department { id: &department },
    ) {
        return Ok(0);
    }
    store::pending_for(state.pool(), &department).await
}

/// The requests waiting for the actor's decision, as items of the to-do list (oldest first).
pub async fn todo_part(
    state: &AppState,
    actor: &Actor,
    t: crate::web::i18n::Tr,
    limit: usize,
) -> AppResult<crate::module::TodoPart> {
    if pending_count(state, actor).await? == 0 {
        return Ok(crate::module::TodoPart::default());
    }
    let mut waiting: Vec<DataRequest> = requests(state, actor)
        .await?
        .into_iter()
        .filter(|r| {
            r.state == "pending"
                && Some(&r.owner_department_id) == actor.account.department_id.as_ref()
        })
        .collect();
    waiting.sort_by(|a, b| a.requested_at.cmp(&b.requested_at));
    let total = waiting.len();
    waiting.truncate(limit);
    let items = waiting
        .into_iter()
        .map(|r| crate::module::TodoItem {
            module: "exchange",
            kind: t.get("exchange.todo_kind").to_owned(),
            title: format!("{} · {}", r.consumer_department_name, r.resource_name),
            link: "/exchange/requests".to_owned(),
            due: None,
            urgency: 0,
            at: crate::time_fmt::parse_millis(&r.requested_at).unwrap_or_default(),
        })
        .collect();
    Ok(crate::module::TodoPart { items, total })
}

/// A request for one of the actor's department's resources, when they decide for it.
async fn owned_request(state: &AppState, actor: &Actor, id: &str) -> AppResult<store::RequestRow> {
    let row = store::request(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let owner = On::Department {
        id: &row.owner_department_id,
    };
    if !can(actor, Action::DecideDataRequest, owner) {
        return Err(AppError::Forbidden);
    }
    Ok(row)
}

/// The owner's decision: grant (all the items asked, or fewer) or refuse with a reason.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    id: &str,
    grant: bool,
    items: Option<Vec<String>>,
    note: Option<String>,
) -> AppResult<DataRequest> {
    let row = owned_request(state, actor, id).await?;
    if row.state != "pending" {
        return Err(AppError::Conflict("the request was decided already".into()));
    }
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if let Some(note) = &note {
        text("note", note, 500)?;
    }
    let asked = items_of(Some(&row.items));
    let granted = if grant {
        let mut granted = items.unwrap_or_else(|| asked.clone());
        granted.sort();
        granted.dedup();
        if granted.is_empty() {
            return Err(AppError::invalid(
                "items",
                "grant at least one item, or refuse",
            ));
        }
        if let Some(extra) = granted.iter().find(|i| !asked.contains(i)) {
            return Err(AppError::invalid(
                "items",
                format!("{extra} was not asked for"),
            ));
        }
        Some(serde_json::to_string(&granted).map_err(|e| AppError::Internal(e.into()))?)
    } else {
        if note.is_none() {
            return Err(AppError::invalid("note", "say why the request is refused"));
        }
        None
    };
    let to = if grant { "granted" } else { "refused" };
    log(
        state,
        json!({
            "kind": "data_request_decided",
            "at": crate::time_fmt::rfc3339(state.now()),
            "actor": actor.id(),
            "request": id,
            "resource": row.resource_code,
            "consumer": row.consumer_department_id,
            "decision": to,
            "items": granted.as_deref().map(|g| items_of(Some(g))),
        }),
    )
    .await?;
    if !store::decide(
        state.pool(),
        id,
        &store::Decision {
            from: "pending",
            to,
            by: actor.id(),
            now: state.now(),
            note: note.as_deref(),
            granted: granted.as_deref(),
        },
    )
    .await?
    {
        return Err(AppError::Conflict("the request was decided already".into()));
    }
    routes_changed(state).await;
    let row = store::request(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    one_described(state, view(row, &today(state))).await
}

/// The owner stops a grant at once, with a reason.
pub async fn revoke(
    state: &AppState,
    actor: &Actor,
    id: &str,
    note: &str,
) -> AppResult<DataRequest> {
    let row = owned_request(state, actor, id).await?;
    if row.state != "granted" {
        return Err(AppError::Conflict(
            "only a grant in force can be revoked".into(),
        ));
    }
    text("note", note, 500)?;
    log(
        state,
        json!({
            "kind": "data_grant_revoked",
            "at": crate::time_fmt::rfc3339(state.now()),
            "actor": actor.id(),
            "request": id,
            "resource": row.resource_code,
            "consumer": row.consumer_department_id,
        }),
    )
    .await?;
    if !store::decide(
        state.pool(),
        id,
        &store::Decision {
            from: "granted",
            to: "revoked",
            by: actor.id(),
            now: state.now(),
            note: Some(note.trim()),
            granted: None,
        },
    )
    .await?
    {
        return Err(AppError::Conflict(
            "only a grant in force can be revoked".into(),
        ));
    }
    routes_changed(state).await;
    let row = store::request(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    one_described(state, view(row, &today(state))).await
}

/// The items a consumer department may read of a resource today, if a grant is in force: what
/// the exchange's gateway keeps to.
pub async fn granted_items(
    state: &AppState,
    consumer: &str,
    resource: &str,
) -> AppResult<Option<Vec<String>>> {
    Ok(grant_in_force(state, consumer, resource)
        .await?
        .map(|(items, _)| items))
}

/// The items of every grant in force for a consumer and a resource, and the last day of the
/// longest (`YYYY-MM-DD`); `None` when no grant is in force.
pub async fn grant_in_force(
    state: &AppState,
    consumer: &str,
    resource: &str,
) -> AppResult<Option<(Vec<String>, String)>> {
    let today = today(state);
    let mut items: Vec<String> = Vec::new();
    let mut until: Option<String> = None;
    for row in store::requests_of(state.pool(), consumer).await? {
        if row.consumer_department_id == consumer
            && row.resource_code == resource
            && row.state == "granted"
            && row.until_day.as_str() >= today.as_str()
        {
            if until.as_deref().is_none_or(|u| u < row.until_day.as_str()) {
                until = Some(row.until_day.clone());
            }
            for item in items_of(row.granted_items.as_deref()) {
                if !items.contains(&item) {
                    items.push(item);
                }
            }
        }
    }
    Ok(until.map(|until| (items, until)))
}

/// Tells every node's gateway that routes and grants changed.
async fn routes_changed(state: &AppState) {
    crate::cache::changed(state, super::CHANGES, crate::cache::ALL).await;
}

/// The department (its id) that holds the resource `code`, if the catalogue lists it: how a
/// module that serves a resource finds whose name it acts in.
pub async fn owner_of(state: &AppState, code: &str) -> AppResult<Option<String>> {
    Ok(store::resource(state.pool(), code)
        .await?
        .map(|resource| resource.department_id))
}
