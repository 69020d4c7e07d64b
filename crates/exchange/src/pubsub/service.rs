//! Publish/subscribe through the gateway, as the GovStack IM PubSub API describes it: under a
//! room (a department's subsystem) its staff define event types — each bound to one of the
//! department's catalogue resources, with a JSON Schema — and publish events; departments
//! holding a grant of that resource subscribe, and receive each event with only the items
//! their grant covers, pushed to their address (signed, in order, retried, dead-lettered) or
//! pulled and confirmed.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::writer::{NewEvent, Publisher};
use crate::admin::store::Department;
use crate::error::{AppError, AppResult};
use crate::gateway::ids::ClientId;
use crate::state::AppState;

/// Pushes a subscription gets before an event goes to its dead letters.
pub const MAX_ATTEMPTS: i64 = 6;

/// What a publication is checked against: the event type's resource's item codes and its
/// compiled schema. Kept per node in a coherent cache of the catalogue's change scope, keyed
/// `room/type`, so a catalogue change or a deleted type drops it on every node.
pub struct Publishing {
    pub items: Vec<String>,
    pub validator: jsonschema::Validator,
}

/// A room: a department's subsystem.
pub struct Room {
    pub id: ClientId,
    pub key: String,
    pub owner: Department,
}

impl Room {
    pub fn publisher_json(&self) -> Value {
        json!({
            "instanceId": self.id.instance,
            "memberClass": self.id.class,
            "memberCode": self.id.member,
            "applicationCode": self.id.subsystem,
        })
    }
}

pub struct EventType {
    pub event_type: String,
    pub resource_code: String,
    pub schema: Value,
}

fn valid_name(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

pub async fn event_type(state: &AppState, room: &Room, name: &str) -> AppResult<EventType> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT resource_code, schema_json FROM pubsub_event_types WHERE room = $1 AND event_type = $2",
    )
    .bind(room.key.clone())
    .bind(name.to_owned())
    .fetch_optional(state.pool())
    .await?;
    let (resource_code, schema) = row.ok_or(AppError::NotFound)?;
    Ok(EventType {
        event_type: name.to_owned(),
        resource_code,
        schema: serde_json::from_str(&schema).unwrap_or(Value::Bool(true)),
    })
}

pub async fn event_types(state: &AppState, room: &Room) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT event_type FROM pubsub_event_types WHERE room = $1 ORDER BY event_type",
    )
    .bind(room.key.clone())
    .fetch_all(state.pool())
    .await?)
}

async fn log(state: &AppState, entry: Value) -> AppResult<()> {
    crate::ledger::service::append(state, &entry)
        .await
        .map(|_| ())
        .map_err(|_| AppError::Unavailable)
}

/// Defines an event type in the owner's room, bound to one of its resources
/// (`{"eventType", "schema", "resource"}`).
pub async fn create_event_type(
    state: &AppState,
    actor_id: &str,
    room: &Room,
    body: &Value,
) -> AppResult<()> {
    let name = body["eventType"].as_str().unwrap_or_default();
    if !valid_name(name) {
        return Err(AppError::invalid(
            "eventType",
            "1–64 of A-Z, a-z, 0-9, - _ .",
        ));
    }
    let schema = body
        .get("schema")
        .filter(|s| s.is_object())
        .ok_or_else(|| AppError::invalid("schema", "a JSON Schema (an object)"))?;
    jsonschema::validator_for(schema)
        .map_err(|e| AppError::invalid("schema", format!("not a valid JSON Schema: {e}")))?;
    let resource_code = body["resource"].as_str().unwrap_or_default();
    let resource = crate::catalogue::store::resource(state.pool(), resource_code)
        .await?
        .filter(|r| r.department_id == room.owner.id)
        .ok_or_else(|| {
            AppError::invalid(
                "resource",
                "one of the room's department's catalogue resources",
            )
        })?;
    log(
        state,
        json!({"kind": "event_type_created", "at": crate::time_fmt::rfc3339(state.now()),
               "actor": actor_id, "room": room.key, "event_type": name, "resource": resource.code}),
    )
    .await?;
    let done = sqlx::query(
        "INSERT INTO pubsub_event_types (room, event_type, department_id, resource_code, schema_json, last_seq, created_at)
         VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT DO NOTHING",
    )
    .bind(room.key.clone())
    .bind(name.to_owned())
    .bind(room.owner.id.clone())
    .bind(resource.code)
    .bind(schema.to_string())
    .bind(state.now())
    .execute(state.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::Conflict("this event type exists".into()));
    }
    Ok(())
}

pub async fn delete_event_type(state: &AppState, room: &Room, name: &str) -> AppResult<()> {
    let done = sqlx::query("DELETE FROM pubsub_event_types WHERE room = $1 AND event_type = $2")
        .bind(room.key.clone())
        .bind(name.to_owned())
        .execute(state.pool())
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    crate::cache::changed(
        state,
        crate::catalogue::CHANGES,
        &format!("{}/{name}", room.key),
    )
    .await;
    Ok(())
}

async fn publishing(state: &AppState, room: &Room, name: &str) -> AppResult<Arc<Publishing>> {
    let key = format!("{}/{name}", room.key);
    let cache = state.module::<Arc<crate::cache::Coherent<Arc<Publishing>>>>();
    let entry = cache
        .get_or_load(state.now(), &key, || async {
            let kind = event_type(state, room, name).await?;
            let resource = crate::catalogue::store::resource(state.pool(), &kind.resource_code)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(Some(Arc::new(Publishing {
                items: resource.items.into_iter().map(|i| i.code).collect(),
                validator: jsonschema::validator_for(&kind.schema)
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("stored schema: {e}")))?,
            })))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(entry.value.clone())
}

fn seal_context(room: &Room, kind: &str, id: &str) -> String {
    format!("pubsub_events/{}/{kind}/{id}", room.key)
}

/// Publishes an event (`{"eventType", "event"}`): it must be an object of the resource's items
/// that the event type's schema accepts. Returns its id once it is durable.
pub async fn publish(
    state: &AppState,
    publisher: &str,
    room: &Room,
    name: &str,
    body: &Value,
) -> AppResult<String> {
    let checks = publishing(state, room, name).await?;
    if body["eventType"].as_str().is_some_and(|t| t != name) {
        return Err(AppError::invalid(
            "eventType",
            "differs from the path's event type",
        ));
    }
    let event = body
        .get("event")
        .and_then(Value::as_object)
        .ok_or_else(|| AppError::invalid("event", "an object"))?;
    if let Some(key) = event.keys().find(|k| !checks.items.contains(k)) {
        return Err(AppError::invalid(
            "event",
            format!("{key} is not an item of the event type's resource"),
        ));
    }
    let value = Value::Object(event.clone());
    if let Some(error) = checks.validator.iter_errors(&value).next() {
        return Err(AppError::invalid(
            "event",
            format!("the event type's schema refuses it: {error}"),
        ));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let bytes = serde_json::to_vec(&value).map_err(|e| AppError::Internal(e.into()))?;
    let body_sealed = state
        .vault
        .seal_field(&seal_context(room, name, &id), &bytes);
    state
        .module::<Publisher>()
        .publish(NewEvent {
            room: room.key.clone(),
            event_type: name.to_owned(),
            id: id.clone(),
            publisher: publisher.to_owned(),
            body_sealed,
            at: state.now(),
        })
        .await?;
    Ok(id)
}

/// One stored event.
pub struct StoredEvent {
    pub id: String,
    pub seq: i64,
    pub published_at: i64,
    pub withdrawn: bool,
    pub event: Map<String, Value>,
}

type EventRow = (String, i64, Vec<u8>, i64, i64);

fn open_event(state: &AppState, room: &Room, kind: &str, row: EventRow) -> AppResult<StoredEvent> {
    let (id, seq, sealed, published_at, withdrawn) = row;
    let bytes = state
        .vault
        .open_field(&seal_context(room, kind, &id), &sealed)?;
    let event = serde_json::from_slice(&bytes).map_err(|e| AppError::Internal(e.into()))?;
    Ok(StoredEvent {
        id,
        seq,
        published_at,
        withdrawn: withdrawn != 0,
        event,
    })
}

pub async fn event_by_id(
    state: &AppState,
    room: &Room,
    kind: &str,
    id: &str,
) -> AppResult<StoredEvent> {
    let row: Option<EventRow> = sqlx::query_as(
        "SELECT id, seq, body_sealed, published_at, withdrawn FROM pubsub_events
         WHERE room = $1 AND event_type = $2 AND id = $3",
    )
    .bind(room.key.clone())
    .bind(kind.to_owned())
    .bind(id.to_owned())
    .fetch_optional(state.pool())
    .await?;
    open_event(state, room, kind, row.ok_or(AppError::NotFound)?)
}

/// Events after `position`, in order, not withdrawn.
pub async fn events_after(
    state: &AppState,
    room: &Room,
    kind: &str,
    position: i64,
    limit: i64,
) -> AppResult<Vec<StoredEvent>> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT id, seq, body_sealed, published_at, withdrawn FROM pubsub_events
         WHERE room = $1 AND event_type = $2 AND seq > $3 AND withdrawn = 0 ORDER BY seq LIMIT $4",
    )
    .bind(room.key.clone())
    .bind(kind.to_owned())
    .bind(position)
    .bind(limit)
    .fetch_all(state.pool())
    .await?;
    rows.into_iter()
        .map(|r| open_event(state, room, kind, r))
        .collect()
}

pub async fn withdraw(state: &AppState, room: &Room, kind: &str, id: &str) -> AppResult<()> {
    let done = sqlx::query(
        "UPDATE pubsub_events SET withdrawn = 1 WHERE room = $1 AND event_type = $2 AND id = $3",
    )
    .bind(room.key.clone())
    .bind(kind.to_owned())
    .bind(id.to_owned())
    .execute(state.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// An event as the building block shows it, with only `granted` items when given.
pub fn event_item(
    room: &Room,
    kind: &str,
    event: &StoredEvent,
    granted: Option<&[String]>,
) -> Value {
    let body = match granted {
        Some(granted) => event
            .event
            .iter()
            .filter(|(k, _)| granted.iter().any(|g| g == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        None => event.event.clone(),
    };
    json!({
        "id": event.id,
        "sequence": event.seq,
        "publisherId": room.publisher_json(),
        "eventType": kind,
        "publishedAt": crate::time_fmt::rfc3339(event.published_at),
        "event": body,
    })
}

/// A subscription.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: String,
    pub room: String,
    pub event_type: String,
    pub subscriber: String,
    pub department_id: String,
    pub delivery: String,
    pub push_url: Option<String>,
    pub ttl_seconds: i64,
    pub fifo: bool,
    pub position: i64,
    pub attempts: i64,
}

type SubRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    i64,
    i64,
);

const SUB_COLUMNS: &str = "id, room, event_type, subscriber, department_id, delivery, push_url, ttl_seconds, fifo, position, attempts";

fn sub(row: SubRow) -> Subscription {
    Subscription {
        id: row.0,
        room: row.1,
        event_type: row.2,
        subscriber: row.3,
        department_id: row.4,
        delivery: row.5,
        push_url: row.6,
        ttl_seconds: row.7,
        fifo: row.8 != 0,
        position: row.9,
        attempts: row.10,
    }
}

impl Subscription {
    pub fn json(&self) -> Value {
        let parts: Vec<&str> = self.subscriber.split('/').collect();
        json!({
            "id": self.id,
            "subscriberId": {
                "instanceId": parts.first(), "memberClass": parts.get(1),
                "memberCode": parts.get(2), "applicationCode": parts.get(3),
            },
            "eventType": self.event_type,
            "delivery": self.delivery,
            "options": {"TTL": self.ttl_seconds, "FIFO": self.fifo},
            "pushUrl": self.push_url,
            "position": self.position,
        })
    }
}

pub async fn subscription(
    state: &AppState,
    room: &str,
    kind: &str,
    subscriber: &str,
) -> AppResult<Subscription> {
    let row: Option<SubRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SUB_COLUMNS} FROM pubsub_subscriptions WHERE room = $1 AND event_type = $2 AND subscriber = $3"
    )))
    .bind(room.to_owned())
    .bind(kind.to_owned())
    .bind(subscriber.to_owned())
    .fetch_optional(state.pool())
    .await?;
    row.map(sub).ok_or(AppError::NotFound)
}

pub async fn subscriptions_of(
    state: &AppState,
    room: &str,
    subscriber: &str,
) -> AppResult<Vec<Subscription>> {
    let rows: Vec<SubRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SUB_COLUMNS} FROM pubsub_subscriptions WHERE room = $1 AND subscriber = $2 ORDER BY event_type"
    )))
    .bind(room.to_owned())
    .bind(subscriber.to_owned())
    .fetch_all(state.pool())
    .await?;
    Ok(rows.into_iter().map(sub).collect())
}

/// Reads a subscription item's fields: delivery, options, and the push address.
struct SubscriptionFields {
    delivery: String,
    push_url: Option<String>,
    ttl: i64,
    fifo: bool,
}

fn fields(body: &Value, current: Option<&Subscription>) -> AppResult<SubscriptionFields> {
    let delivery = match body.get("delivery").and_then(Value::as_str) {
        Some(d @ ("PUSH" | "PULL")) => d.to_owned(),
        Some(_) => return Err(AppError::invalid("delivery", "PUSH or PULL")),
        None => current.map_or("PUSH".to_owned(), |c| c.delivery.clone()),
    };
    let push_url = match body.get("pushUrl").and_then(Value::as_str) {
        Some(url) => {
            let parsed = reqwest::Url::parse(url)
                .ok()
                .filter(|u| {
                    matches!(u.scheme(), "http" | "https") && u.host().is_some() && url.len() <= 300
                })
                .ok_or_else(|| AppError::invalid("pushUrl", "an http(s) address"))?;
            Some(parsed.to_string())
        }
        None => current.and_then(|c| c.push_url.clone()),
    };
    if delivery == "PUSH" && push_url.is_none() {
        return Err(AppError::invalid(
            "pushUrl",
            "PUSH delivery needs the address events are pushed to",
        ));
    }
    let options = body.get("options");
    let ttl = match options.and_then(|o| o.get("TTL")) {
        Some(v) => v
            .as_i64()
            .filter(|n| (1..=30 * 86_400).contains(n))
            .ok_or_else(|| AppError::invalid("options", "TTL is 1–2592000 seconds"))?,
        None => current.map_or(3600, |c| c.ttl_seconds),
    };
    let fifo = match options.and_then(|o| o.get("FIFO")) {
        Some(v) => v
            .as_bool()
            .ok_or_else(|| AppError::invalid("options", "FIFO is true or false"))?,
        None => current.is_some_and(|c| c.fifo),
    };
    Ok(SubscriptionFields {
        delivery,
        push_url,
        ttl,
        fifo,
    })
}

/// Subscribes the caller's system to an event type: its department must hold a grant in force
/// of the type's resource.
pub async fn subscribe(
    state: &AppState,
    room: &Room,
    kind: &str,
    subscriber: &str,
    department: &Department,
    body: &Value,
) -> AppResult<Subscription> {
    let kind = event_type(state, room, kind).await?;
    if body["eventType"]
        .as_str()
        .is_some_and(|t| t != kind.event_type)
    {
        return Err(AppError::invalid(
            "eventType",
            "differs from the path's event type",
        ));
    }
    if crate::catalogue::service::grant_in_force(state, &department.id, &kind.resource_code)
        .await?
        .is_none()
    {
        return Err(AppError::NotAuthorised(format!(
            "subscribing needs a grant of {} in force",
            kind.resource_code
        )));
    }
    let f = fields(body, None)?;
    let id = uuid::Uuid::new_v4().to_string();
    let done = sqlx::query(
        "INSERT INTO pubsub_subscriptions (id, room, event_type, subscriber, department_id, delivery, push_url, ttl_seconds, fifo, position, attempts, next_attempt_at, leased_until, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, (SELECT COALESCE(MAX(seq), 0) FROM pubsub_events WHERE room = $2 AND event_type = $3), 0, 0, 0, $10)
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(room.key.clone())
    .bind(kind.event_type.clone())
    .bind(subscriber.to_owned())
    .bind(department.id.clone())
    .bind(f.delivery)
    .bind(f.push_url)
    .bind(f.ttl)
    .bind(i64::from(f.fifo))
    .bind(state.now())
    .execute(state.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::Conflict("this subscription exists".into()));
    }
    subscription(state, &room.key, &kind.event_type, subscriber).await
}

/// Changes a subscription; `position` (tongban's extension) replays from after that event.
pub async fn update_subscription(
    state: &AppState,
    current: &Subscription,
    body: &Value,
) -> AppResult<()> {
    let f = fields(body, Some(current))?;
    let position = match body.get("position") {
        Some(v) => v
            .as_i64()
            .filter(|n| *n >= 0)
            .ok_or_else(|| AppError::invalid("position", "an event sequence number, 0 for all"))?,
        None => current.position,
    };
    sqlx::query(
        "UPDATE pubsub_subscriptions SET delivery = $2, push_url = $3, ttl_seconds = $4, fifo = $5, position = $6, attempts = 0, next_attempt_at = 0 WHERE id = $1",
    )
    .bind(current.id.clone())
    .bind(f.delivery)
    .bind(f.push_url)
    .bind(f.ttl)
    .bind(i64::from(f.fifo))
    .bind(position)
    .execute(state.pool())
    .await?;
    Ok(())
}

pub async fn unsubscribe(state: &AppState, current: &Subscription) -> AppResult<()> {
    sqlx::query("DELETE FROM pubsub_subscriptions WHERE id = $1")
        .bind(current.id.clone())
        .execute(state.pool())
        .await?;
    Ok(())
}

/// Moves a subscription past `seq` (delivered, confirmed or dead-lettered).
pub async fn advance(state: &AppState, subscription: &str, seq: i64) -> AppResult<()> {
    sqlx::query(
        "UPDATE pubsub_subscriptions SET position = $2, attempts = 0, next_attempt_at = 0 WHERE id = $1 AND position < $2",
    )
    .bind(subscription.to_owned())
    .bind(seq)
    .execute(state.pool())
    .await?;
    Ok(())
}

/// The dead letters of a subscription: (sequence, reason, when).
pub async fn dead_letters(
    state: &AppState,
    subscription: &str,
) -> AppResult<Vec<(i64, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT seq, reason, at FROM pubsub_dead_letters WHERE subscription_id = $1 ORDER BY seq",
    )
    .bind(subscription.to_owned())
    .fetch_all(state.pool())
    .await?)
}
