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

/// Pushed subscriptions due now (not leased, with events after their position), at most 100.
pub async fn due_pushes(db: &AnyPool, now: i64) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM pubsub_subscriptions
         WHERE delivery = 'PUSH' AND next_attempt_at <= $1 AND leased_until < $1
           AND position < (SELECT COALESCE(MAX(seq), 0) FROM pubsub_events e
                           WHERE e.room = pubsub_subscriptions.room AND e.event_type = pubsub_subscriptions.event_type)
         LIMIT 100",
    )
    .bind(now)
    .fetch_all(db)
    .await?)
}

/// Takes the lease of a subscription until `until`; false when another node holds it.
pub async fn lease(db: &AnyPool, id: &str, now: i64, until: i64) -> AppResult<bool> {
    Ok(sqlx::query(
        "UPDATE pubsub_subscriptions SET leased_until = $2 WHERE id = $1 AND leased_until < $3",
    )
    .bind(id.to_owned())
    .bind(until)
    .bind(now)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

pub async fn release(db: &AnyPool, id: &str) -> AppResult<()> {
    sqlx::query("UPDATE pubsub_subscriptions SET leased_until = 0 WHERE id = $1")
        .bind(id.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// The room, event type and subscriber of a subscription.
pub async fn subscription_key(
    db: &AnyPool,
    id: &str,
) -> AppResult<Option<(String, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT room, event_type, subscriber FROM pubsub_subscriptions WHERE id = $1",
    )
    .bind(id.to_owned())
    .fetch_optional(db)
    .await?)
}

/// Records failed attempts and when to try next.
pub async fn retry_at(db: &AnyPool, id: &str, attempts: i64, at: i64) -> AppResult<()> {
    sqlx::query(
        "UPDATE pubsub_subscriptions SET attempts = $2, next_attempt_at = $3 WHERE id = $1",
    )
    .bind(id.to_owned())
    .bind(attempts)
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}

/// Puts off a subscription's next push until `at`.
pub async fn put_off(db: &AnyPool, id: &str, at: i64) -> AppResult<()> {
    sqlx::query("UPDATE pubsub_subscriptions SET next_attempt_at = $2 WHERE id = $1")
        .bind(id.to_owned())
        .bind(at)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn insert_dead_letter(
    db: &AnyPool,
    subscription: &str,
    seq: i64,
    reason: &str,
    at: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO pubsub_dead_letters (subscription_id, seq, reason, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(subscription.to_owned())
    .bind(seq)
    .bind(reason.to_owned())
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}
