//! The publish/subscribe tables as the department's overview reads them.

use sqlx::AnyPool;

use crate::error::AppResult;

/// One of a department's event types: room, type, resource, events published, subscriptions,
/// dead letters.
pub type TypeRow = (String, String, String, i64, i64, i64);

/// The event types of a department's rooms, with their counts.
pub async fn types_of(db: &AnyPool, department: &str) -> AppResult<Vec<TypeRow>> {
    Ok(sqlx::query_as(
        "SELECT t.room, t.event_type, t.resource_code, t.last_seq,
                (SELECT COUNT(*) FROM pubsub_subscriptions s WHERE s.room = t.room AND s.event_type = t.event_type),
                (SELECT COUNT(*) FROM pubsub_dead_letters d JOIN pubsub_subscriptions s ON s.id = d.subscription_id
                  WHERE s.room = t.room AND s.event_type = t.event_type)
         FROM pubsub_event_types t WHERE t.department_id = $1 ORDER BY t.room, t.event_type",
    )
    .bind(department.to_owned())
    .fetch_all(db)
    .await?)
}

/// One of a department's subscriptions: room, type, subscriber, delivery, push address, FIFO,
/// position, the type's last event, failed attempts, next attempt, dead letters.
#[derive(sqlx::FromRow)]
pub struct SubscriptionRow {
    pub room: String,
    pub event_type: String,
    pub subscriber: String,
    pub delivery: String,
    pub push_url: Option<String>,
    pub fifo: i64,
    pub position: i64,
    pub last_seq: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub dead_letters: i64,
}

/// The subscriptions a department holds, with how far behind each is.
pub async fn subscriptions_of(db: &AnyPool, department: &str) -> AppResult<Vec<SubscriptionRow>> {
    Ok(sqlx::query_as(
        "SELECT s.room, s.event_type, s.subscriber, s.delivery, s.push_url, s.fifo, s.position,
                COALESCE(t.last_seq, 0) AS last_seq, s.attempts, s.next_attempt_at,
                (SELECT COUNT(*) FROM pubsub_dead_letters d WHERE d.subscription_id = s.id) AS dead_letters
         FROM pubsub_subscriptions s
         LEFT JOIN pubsub_event_types t ON t.room = s.room AND t.event_type = s.event_type
         WHERE s.department_id = $1 ORDER BY s.room, s.event_type, s.subscriber",
    )
    .bind(department.to_owned())
    .fetch_all(db)
    .await?)
}
