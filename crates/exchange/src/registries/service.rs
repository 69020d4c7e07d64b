//! Registries: their definition by a department's administrators, and the Data API's
//! operations on records, each recorded in the transparency log.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::store::{self, RegistryRow};
use crate::authz::{Action, Resource as On, can};
use crate::catalogue::model::{DataItem, Resource};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::state::AppState;

/// The most records a registry's search reads.
const MAX_SCAN: i64 = 100_000;

/// What an administrator sends to define a registry.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistryDraft {
    /// The catalogue resource whose items the records hold (of the administrator's
    /// department).
    pub resource: String,
    /// The item that identifies a record (its `ID` in the Data API).
    pub id_item: String,
}

/// A registry as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegistryView {
    pub name: String,
    pub version: String,
    pub resource: String,
    pub resource_name: String,
    pub department_id: String,
    pub department_name: String,
    pub id_item: String,
    pub items: Vec<DataItem>,
}

/// A registry with its resource.
pub struct Registry {
    pub name: String,
    pub version: String,
    pub id_item: String,
    pub resource: Resource,
}

impl Registry {
    fn view(&self) -> RegistryView {
        RegistryView {
            name: self.name.clone(),
            version: self.version.clone(),
            resource: self.resource.code.clone(),
            resource_name: self.resource.name.clone(),
            department_id: self.resource.department_id.clone(),
            department_name: self.resource.department_name.clone(),
            id_item: self.id_item.clone(),
            items: self.resource.items.clone(),
        }
    }

    fn item(&self, code: &str) -> Option<&DataItem> {
        self.resource.items.iter().find(|i| i.code == code)
    }
}

fn valid_name(name: &str) -> bool {
    (2..=40).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn valid_version(version: &str) -> bool {
    (1..=20).contains(&version.len())
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

async fn with_resource(state: &AppState, row: RegistryRow) -> AppResult<Registry> {
    let resource = crate::catalogue::store::resource(state.pool(), &row.resource_code)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("registry without its resource")))?;
    Ok(Registry {
        name: row.name,
        version: row.version,
        id_item: row.id_item,
        resource,
    })
}

/// A registry by name and version.
pub async fn open(state: &AppState, name: &str, version: &str) -> AppResult<Registry> {
    if !valid_name(name) || !valid_version(version) {
        return Err(AppError::NotFound);
    }
    let row = store::registry(state.pool(), name, version)
        .await?
        .ok_or(AppError::NotFound)?;
    with_resource(state, row).await
}

/// The registry kept for a resource, if any (its latest version).
pub async fn of_resource(state: &AppState, code: &str) -> AppResult<Vec<Registry>> {
    let mut out = Vec::new();
    for row in store::registries(state.pool()).await? {
        if row.resource_code == code {
            out.push(with_resource(state, row).await?);
        }
    }
    Ok(out)
}

async fn log(state: &AppState, entry: Value) -> AppResult<()> {
    crate::ledger::service::append(state, &entry)
        .await
        .map(|_| ())
        .map_err(|_| AppError::Unavailable)
}

/// Defines a registry over one of the administrator's department's resources.
pub async fn define(
    state: &AppState,
    actor: &Actor,
    name: &str,
    version: &str,
    draft: RegistryDraft,
) -> AppResult<RegistryView> {
    if !valid_name(name) {
        return Err(AppError::invalid("name", "2–40 of A-Z, a-z, 0-9, - and _"));
    }
    if !valid_version(version) {
        return Err(AppError::invalid(
            "version",
            "1–20 of A-Z, a-z, 0-9, . and -",
        ));
    }
    let resource = crate::catalogue::store::resource(state.pool(), &draft.resource)
        .await?
        .ok_or_else(|| AppError::invalid("resource", "no such resource in the catalogue"))?;
    if !can(
        actor,
        Action::ManageDataCatalogue,
        On::Department {
            id: &resource.department_id,
        },
    ) {
        return Err(AppError::Forbidden);
    }
    if !resource.items.iter().any(|i| i.code == draft.id_item) {
        return Err(AppError::invalid("id_item", "one of the resource's items"));
    }
    log(
        state,
        json!({
            "kind": "registry_defined",
            "at": crate::time_fmt::rfc3339(state.now()),
            "actor": actor.id(),
            "registry": name,
            "version": version,
            "resource": resource.code,
        }),
    )
    .await?;
    let row = RegistryRow {
        name: name.to_owned(),
        version: version.to_owned(),
        resource_code: resource.code.clone(),
        id_item: draft.id_item,
    };
    if !store::insert_registry(state.pool(), &row, actor.id(), state.now()).await? {
        return Err(AppError::Conflict(
            "this registry version exists; define a new version".into(),
        ));
    }
    Ok(with_resource(state, row).await?.view())
}

/// Every registry (staff).
pub async fn registries(state: &AppState, actor: &Actor) -> AppResult<Vec<RegistryView>> {
    if !can(actor, Action::ViewDataCatalogue, On::Platform) {
        return Err(AppError::Forbidden);
    }
    let mut out = Vec::new();
    for row in store::registries(state.pool()).await? {
        out.push(with_resource(state, row).await?.view());
    }
    Ok(out)
}

/// Checks that the actor keeps this registry in its department's name, as the
/// `Information-Mediator-Client` header names it (`INSTANCE/GOV/<USCC>/<SUBSYSTEM>`).
pub async fn keeper(
    state: &AppState,
    actor: &Actor,
    client: Option<&str>,
    registry: &Registry,
) -> AppResult<()> {
    let client = client.ok_or_else(|| {
        AppError::BadRequest("the Information-Mediator-Client header is required".into())
    })?;
    let client = tongban_codes::xroad::parse_client(client)
        .ok()
        .filter(|c| c.subsystem.is_some())
        .ok_or_else(|| {
            AppError::BadRequest(
                "the Information-Mediator-Client header is INSTANCE/CLASS/MEMBER/SUBSYSTEM".into(),
            )
        })?;
    let department = crate::admin::directory::department(state, &registry.resource.department_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let own = client.instance == state.config.xroad_instance
        && client.class == "GOV"
        && department.uscc.as_deref() == Some(client.member.as_str());
    if !own
        || !can(
            actor,
            Action::KeepRegistry,
            On::Department { id: &department.id },
        )
    {
        return Err(AppError::NotAuthorised(
            "only the owning department's staff keep a registry; others read it through the gateway under a grant".into(),
        ));
    }
    Ok(())
}

fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Checks a record's (or a query's) fields against the resource's items.
fn check(registry: &Registry, content: &Map<String, Value>, field: &'static str) -> AppResult<()> {
    for (key, value) in content {
        let item = registry.item(key).ok_or_else(|| {
            AppError::invalid(field, format!("{key} is not an item of this registry"))
        })?;
        if value.is_null() {
            continue;
        }
        let fits = match item.kind.as_str() {
            "integer" => value.as_i64().is_some(),
            "decimal" => value.is_number(),
            "boolean" => value.is_boolean(),
            "date" => value.as_str().is_some_and(|s| {
                time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
                    .is_ok()
            }),
            "datetime" => value.as_str().is_some_and(|s| {
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                    .is_ok()
            }),
            _ => {
                value.as_str().is_some_and(|s| {
                    item.length.is_none_or(|n| s.chars().count() as i64 <= n)
                        && s.chars().count() <= 10_000
                }) || (key == &registry.id_item && value.is_number())
            }
        };
        if !fits {
            return Err(AppError::invalid(
                field,
                format!("{key} must be a {} value", item.kind),
            ));
        }
    }
    Ok(())
}

fn context(registry: &Registry, key: &str) -> String {
    format!(
        "registry_records/{}/{}/{key}",
        registry.name, registry.version
    )
}

fn key_of(state: &AppState, registry: &Registry, id: &str) -> String {
    state
        .vault
        .blind_index(&format!("registry:{}", registry.name), id)
}

fn seal(
    state: &AppState,
    registry: &Registry,
    key: &str,
    content: &Map<String, Value>,
) -> AppResult<Vec<u8>> {
    let bytes = serde_json::to_vec(content).map_err(|e| AppError::Internal(e.into()))?;
    Ok(state.vault.seal_field(&context(registry, key), &bytes))
}

fn unseal(
    state: &AppState,
    registry: &Registry,
    key: &str,
    sealed: &[u8],
) -> AppResult<Map<String, Value>> {
    let bytes = state.vault.open_field(&context(registry, key), sealed)?;
    serde_json::from_slice(&bytes).map_err(|e| AppError::Internal(e.into()))
}

async fn all(
    state: &AppState,
    registry: &Registry,
) -> AppResult<Vec<(String, Map<String, Value>)>> {
    let mut out = Vec::new();
    for (key, sealed) in
        store::records(state.pool(), &registry.name, &registry.version, MAX_SCAN).await?
    {
        let content = unseal(state, registry, &key, &sealed)?;
        out.push((key, content));
    }
    Ok(out)
}

fn matches(record: &Map<String, Value>, query: &Map<String, Value>) -> bool {
    query.iter().all(|(k, v)| {
        record.get(k) == Some(v)
            || (record.get(k).and_then(id_text).is_some()
                && record.get(k).and_then(id_text) == id_text(v))
    })
}

/// The records matching `query`: by key when it names the ID, else by scanning.
async fn find(
    state: &AppState,
    registry: &Registry,
    query: &Map<String, Value>,
) -> AppResult<Vec<(String, Map<String, Value>)>> {
    check(registry, query, "query")?;
    if let Some(id) = query.get(&registry.id_item).and_then(id_text) {
        let key = key_of(state, registry, &id);
        let Some(sealed) =
            store::record(state.pool(), &registry.name, &registry.version, &key).await?
        else {
            return Ok(Vec::new());
        };
        let content = unseal(state, registry, &key, &sealed)?;
        return Ok(if matches(&content, query) {
            vec![(key, content)]
        } else {
            Vec::new()
        });
    }
    Ok(all(state, registry)
        .await?
        .into_iter()
        .filter(|(_, content)| matches(content, query))
        .collect())
}

/// Records an operation in the transparency log (the registry, what was done, how many
/// records, never their content).
async fn audit(
    state: &AppState,
    actor: &Actor,
    registry: &Registry,
    operation: &str,
    records: usize,
) -> AppResult<()> {
    log(
        state,
        json!({
            "kind": "registry_access",
            "at": crate::time_fmt::rfc3339(state.now()),
            "actor": actor.id(),
            "department": actor.account.department_id,
            "registry": registry.name,
            "version": registry.version,
            "operation": operation,
            "records": records,
        }),
    )
    .await
}

/// Another department reading through the gateway: the items it was granted, and the
/// message id its reads of personal data are recorded under.
#[derive(Clone, Copy)]
pub struct SharedRead<'a> {
    pub granted: &'a [String],
    pub message_id: &'a str,
}

/// Keeps only the granted items of records read for another department and, where they hold
/// personal data of a registered person (the record names them by an `id_number` item),
/// records the read in that person's access view before anything is released.
async fn release(
    state: &AppState,
    actor: &Actor,
    registry: &Registry,
    records: Vec<Map<String, Value>>,
    shared: Option<SharedRead<'_>>,
) -> AppResult<Vec<Map<String, Value>>> {
    let Some(shared) = shared else {
        return Ok(records);
    };
    let personal: Vec<&str> = registry
        .resource
        .items
        .iter()
        .filter(|i| i.personal.is_some() && shared.granted.contains(&i.code))
        .filter_map(|i| i.personal.as_deref())
        .collect();
    let id_item = registry
        .resource
        .items
        .iter()
        .find(|i| i.personal.as_deref() == Some("id_number"))
        .map(|i| i.code.clone());
    let mut out = Vec::with_capacity(records.len());
    for record in records {
        if !personal.is_empty()
            && let Some(number) = id_item
                .as_ref()
                .and_then(|code| record.get(code))
                .and_then(Value::as_str)
            && let Ok(resident) = number.parse::<tongban_core::ResidentId>()
            && let Some(person) =
                crate::identity::personal::person_id_by_resident_id(state, &resident).await?
        {
            crate::identity::personal::record_shared_read(
                state,
                actor,
                &person,
                &personal.join(","),
                shared.message_id,
            )
            .await?;
        }
        out.push(
            record
                .into_iter()
                .filter(|(k, _)| shared.granted.iter().any(|g| g == k))
                .collect(),
        );
    }
    Ok(out)
}

/// The list operation's parameters.
#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    pub search: Option<String>,
    pub filter: Option<String>,
    pub descending: bool,
    pub page: usize,
    pub page_size: usize,
    pub fields: Vec<(String, String)>,
}

/// Searches records: `fields` must equal (as text), `search` must occur (case-insensitive) in
/// the `filter` item or any text item; ordered by ID; one page.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    registry: &Registry,
    query: &ListQuery,
    shared: Option<SharedRead<'_>>,
) -> AppResult<Value> {
    if let Some(filter) = &query.filter
        && registry.item(filter).is_none()
    {
        return Err(AppError::invalid("filter", "an item of this registry"));
    }
    for (field, _) in &query.fields {
        if registry.item(field).is_none() {
            return Err(AppError::invalid(
                "query",
                format!("{field} is not an item of this registry"),
            ));
        }
    }
    let needle = query.search.as_deref().map(str::to_lowercase);
    let mut found: Vec<Map<String, Value>> = all(state, registry)
        .await?
        .into_iter()
        .map(|(_, c)| c)
        .filter(|c| {
            query.fields.iter().all(|(f, v)| {
                c.get(f)
                    .and_then(|x| id_text(x).or_else(|| x.as_bool().map(|b| b.to_string())))
                    .as_deref()
                    == Some(v.as_str())
            })
        })
        .filter(|c| match &needle {
            None => true,
            Some(needle) => c.iter().any(|(k, v)| {
                query.filter.as_ref().is_none_or(|f| f == k)
                    && v.as_str()
                        .is_some_and(|s| s.to_lowercase().contains(needle.as_str()))
            }),
        })
        .collect();
    let id = |c: &Map<String, Value>| {
        c.get(&registry.id_item)
            .and_then(id_text)
            .unwrap_or_default()
    };
    found.sort_by_key(|c| id(c));
    if query.descending {
        found.reverse();
    }
    let count = found.len();
    let size = query.page_size.clamp(1, 100);
    let page = query.page.max(1);
    let page_of: Vec<Map<String, Value>> = found
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .collect();
    let results: Vec<Value> = release(state, actor, registry, page_of, shared)
        .await?
        .into_iter()
        .map(Value::Object)
        .collect();
    audit(state, actor, registry, "list", results.len()).await?;
    // Links are absolute URIs, as the specification's `format: uri` says, and left out when
    // there is no such page (the specification's `x-nullable` is not JSON Schema).
    let base = state.config.public_url();
    let link = |p: usize| {
        format!(
            "{}/data/{}/{}?page={p}&pageSize={size}",
            base.trim_end_matches('/'),
            registry.name,
            registry.version
        )
    };
    let mut answer = json!({"count": count, "results": results});
    if page * size < count {
        answer["next"] = json!(link(page + 1));
    }
    if page > 1 {
        answer["previous"] = json!(link(page - 1));
    }
    Ok(answer)
}

/// Creates a record; its ID must be new.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    registry: &Registry,
    content: Map<String, Value>,
) -> AppResult<Map<String, Value>> {
    check(registry, &content, "content")?;
    let id = content
        .get(&registry.id_item)
        .and_then(id_text)
        .ok_or_else(|| {
            AppError::invalid(
                "content",
                format!("{} (the ID) is required", registry.id_item),
            )
        })?;
    let key = key_of(state, registry, &id);
    audit(state, actor, registry, "create", 1).await?;
    let sealed = seal(state, registry, &key, &content)?;
    if !store::insert(
        state.pool(),
        &registry.name,
        &registry.version,
        &key,
        &sealed,
        state.now(),
    )
    .await?
    {
        return Err(AppError::Conflict("a record with this ID exists".into()));
    }
    Ok(content)
}

/// Creates several records, all or none: every one checked, and no ID taken, before any is
/// written.
pub async fn create_all(
    state: &AppState,
    actor: &Actor,
    registry: &Registry,
    records: Vec<Map<String, Value>>,
) -> AppResult<Vec<Map<String, Value>>> {
    let mut keyed = Vec::with_capacity(records.len());
    for content in records {
        check(registry, &content, "write")?;
        let id = content
            .get(&registry.id_item)
            .and_then(id_text)
            .ok_or_else(|| {
                AppError::invalid(
                    "write",
                    format!("{} (the ID) is required", registry.id_item),
                )
            })?;
        let key = key_of(state, registry, &id);
        if keyed.iter().any(|(k, _)| k == &key)
            || store::record(state.pool(), &registry.name, &registry.version, &key)
                .await?
                .is_some()
        {
            return Err(AppError::Conflict(format!("a record with ID {id} exists")));
        }
        keyed.push((key, content));
    }
    audit(state, actor, registry, "createEntries", keyed.len()).await?;
    let mut tx = state.pool().begin().await?;
    for (key, content) in &keyed {
        let sealed = seal(state, registry, key, content)?;
        let done = sqlx::query(
            "INSERT INTO registry_records (registry, version, record_key, content_sealed, updated_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(registry.name.clone())
        .bind(registry.version.clone())
        .bind(key.clone())
        .bind(sealed)
        .bind(state.now())
        .execute(&mut *tx)
        .await;
        if done.is_err() {
            return Err(AppError::Conflict(
                "a record with one of these IDs exists".into(),
            ));
        }
    }
    tx.commit().await?;
    Ok(keyed.into_iter().map(|(_, c)| c).collect())
}

/// Whether a record matches.
pub async fn exists(
    state: &AppState,
    actor: &Actor,
    registry: &Registry,
    query: &Map<String, Value>,
) -> AppResult<bool> {
    let found = !find(state, registry, query).await?.is_empty();
    audit(state, actor, registry, "exists", 0).await?;
    Ok(found)
}

/// The first record that matches.
pub async fn read(
    state: &AppState,
    actor: &Actor,
    registry: &Registry,
    query: &Map<String, Value>,
    shared: Option<SharedRead<'_>>,
) -> AppResult<Option<Map<String, Value>>> {
    let first: Vec<Map<String, Value>> = find(state, registry, query)
        .await?
        .into_iter()
        .take(1)
        .map(|(_, c)| c)
        .collect();
    audit(state, actor, registry, "read", first.len()).await?;
    Ok(release(state, actor, registry, first, shared)
        .await?
        .into_iter()
        .next())
}

/// Writes `write` into the records `query` finds (the first only, unless `every`); without a
/// query, the record the write's ID names. The ID of a record does not change.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    registry: &Registry,
    query: Option<&Map<String, Value>>,
    write: &Map<String, Value>,
    every: bool,
) -> AppResult<usize> {
    check(registry, write, "write")?;
    let by_id;
    let query = match query {
        Some(query) => query,
        None => {
            let id = write
                .get(&registry.id_item)
                .cloned()
                .ok_or_else(|| AppError::invalid("query", "a query, or the ID in write.content"))?;
            by_id = Map::from_iter([(registry.id_item.clone(), id)]);
            &by_id
        }
    };
    let mut found = find(state, registry, query).await?;
    if !every {
        found.truncate(1);
    }
    for (_, content) in &found {
        if let Some(id) = write.get(&registry.id_item)
            && content.get(&registry.id_item).and_then(id_text) != id_text(id)
        {
            return Err(AppError::invalid(
                "write",
                "the ID of a record does not change; delete it and create another",
            ));
        }
    }
    audit(
        state,
        actor,
        registry,
        if every { "updateEntries" } else { "update" },
        found.len(),
    )
    .await?;
    for (key, mut content) in found.iter().cloned() {
        for (k, v) in write {
            content.insert(k.clone(), v.clone());
        }
        let sealed = seal(state, registry, &key, &content)?;
        store::replace(
            state.pool(),
            &registry.name,
            &registry.version,
            &key,
            &sealed,
            state.now(),
        )
        .await?;
    }
    Ok(found.len())
}

/// Updates the first record `query` finds, or creates one from `write`.
pub async fn update_or_create(
    state: &AppState,
    actor: &Actor,
    registry: &Registry,
    query: Option<&Map<String, Value>>,
    write: Map<String, Value>,
) -> AppResult<Map<String, Value>> {
    let updated = update(state, actor, registry, query, &write, false).await;
    match updated {
        Ok(0) | Err(AppError::Invalid { field: "query", .. }) => {
            create(state, actor, registry, write).await
        }
        Ok(_) => {
            let query = query.cloned().unwrap_or_else(|| {
                Map::from_iter(
                    write
                        .get(&registry.id_item)
                        .map(|id| (registry.id_item.clone(), id.clone())),
                )
            });
            Ok(find(state, registry, &query)
                .await?
                .into_iter()
                .next()
                .map(|(_, c)| c)
                .unwrap_or(write))
        }
        Err(other) => Err(other),
    }
}

/// Deletes the record of this ID.
pub async fn delete(
    state: &AppState,
    actor: &Actor,
    registry: &Registry,
    id: &str,
) -> AppResult<bool> {
    let key = key_of(state, registry, id);
    audit(state, actor, registry, "delete", 1).await?;
    store::delete(state.pool(), &registry.name, &registry.version, &key).await
}

/// One field of the record of this ID.
pub async fn read_value(
    state: &AppState,
    actor: &Actor,
    registry: &Registry,
    id: &str,
    field: &str,
) -> AppResult<Value> {
    if registry.item(field).is_none() {
        return Err(AppError::NotFound);
    }
    let query = Map::from_iter([(registry.id_item.clone(), Value::String(id.to_owned()))]);
    let record = find(state, registry, &query)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    audit(state, actor, registry, "readValue", 1).await?;
    record.1.get(field).cloned().ok_or(AppError::NotFound)
}

/// Loads records in bulk in the platform's name (the demo city, imports): each checked and
/// sealed like a created one; one log entry for the load. Records whose ID exists are skipped.
pub async fn load(
    state: &AppState,
    registry: &Registry,
    records: Vec<Map<String, Value>>,
) -> AppResult<usize> {
    let mut loaded = 0;
    for content in records {
        check(registry, &content, "content")?;
        let id = content
            .get(&registry.id_item)
            .and_then(id_text)
            .ok_or_else(|| AppError::invalid("content", "the ID is required"))?;
        let key = key_of(state, registry, &id);
        let sealed = seal(state, registry, &key, &content)?;
        if store::insert(
            state.pool(),
            &registry.name,
            &registry.version,
            &key,
            &sealed,
            state.now(),
        )
        .await?
        {
            loaded += 1;
        }
    }
    log(
        state,
        json!({
            "kind": "registry_loaded",
            "at": crate::time_fmt::rfc3339(state.now()),
            "registry": registry.name,
            "version": registry.version,
            "records": loaded,
        }),
    )
    .await?;
    Ok(loaded)
}

/// Defines a registry in the platform's name (the demo city).
pub async fn define_for_demo(
    state: &AppState,
    name: &str,
    version: &str,
    draft: RegistryDraft,
) -> AppResult<Option<Registry>> {
    let row = RegistryRow {
        name: name.to_owned(),
        version: version.to_owned(),
        resource_code: draft.resource,
        id_item: draft.id_item,
    };
    if !store::insert_registry(state.pool(), &row, "demo", state.now()).await? {
        return Ok(None);
    }
    Ok(Some(with_resource(state, row).await?))
}
