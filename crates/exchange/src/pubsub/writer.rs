//! Group commit for publications: events from every request of this node gather in a queue and
//! are numbered and written in one transaction, a few thousand at a time; each publisher is
//! answered once its event is durable.

use std::collections::HashMap;

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use crate::error::{AppError, AppResult};

const MAX_BATCH: usize = 4096;
const ROWS_PER_INSERT: usize = 100;

/// An event to write.
pub struct NewEvent {
    pub room: String,
    pub event_type: String,
    pub id: String,
    pub publisher: String,
    pub body_sealed: Vec<u8>,
    pub at: i64,
}

struct Pending {
    event: NewEvent,
    done: oneshot::Sender<AppResult<i64>>,
}

/// The handle through which this node publishes.
#[derive(Clone)]
pub struct Publisher {
    queue: mpsc::Sender<Pending>,
}

impl Publisher {
    pub fn start(pool: AnyPool) -> Publisher {
        let (queue, receiver) = mpsc::channel(MAX_BATCH * 4);
        tokio::spawn(write_batches(pool, receiver));
        Publisher { queue }
    }

    /// Writes an event; returns its sequence number once durable.
    pub async fn publish(&self, event: NewEvent) -> AppResult<i64> {
        let (done, outcome) = oneshot::channel();
        self.queue
            .send(Pending { event, done })
            .await
            .map_err(|_| AppError::Unavailable)?;
        outcome.await.map_err(|_| AppError::Unavailable)?
    }
}

async fn write_batches(pool: AnyPool, mut receiver: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let events: Vec<&NewEvent> = batch.iter().map(|p| &p.event).collect();
        match crate::error::retrying(|| write(&pool, &events)).await {
            Ok(numbers) => {
                for (pending, seq) in batch.drain(..).zip(numbers) {
                    let _ = pending.done.send(Ok(seq));
                }
            }
            Err(error) => {
                tracing::error!(%error, count = batch.len(), "events could not be written");
                for pending in batch.drain(..) {
                    let _ = pending.done.send(Err(AppError::Unavailable));
                }
            }
        }
    }
}

/// Numbers the events after the last of their type — reserving the numbers first, which takes
/// the write lock at the start of the transaction — and writes them.
async fn write(pool: &AnyPool, events: &[&NewEvent]) -> AppResult<Vec<i64>> {
    let mut tx = pool.begin().await?;
    let mut counts: Vec<((&str, &str), i64)> = Vec::new();
    for event in events {
        let key = (event.room.as_str(), event.event_type.as_str());
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => counts.push((key, 1)),
        }
    }
    let mut next: HashMap<(&str, &str), i64> = HashMap::new();
    for ((room, kind), n) in &counts {
        let last: Option<i64> = sqlx::query_scalar(
            "UPDATE pubsub_event_types SET last_seq = last_seq + $3 WHERE room = $1 AND event_type = $2 RETURNING last_seq",
        )
        .bind((*room).to_owned())
        .bind((*kind).to_owned())
        .bind(*n)
        .fetch_optional(&mut *tx)
        .await?;
        // A type deleted while its events waited: they cannot be numbered.
        let last = last.ok_or(AppError::NotFound)?;
        next.insert((room, kind), last - n + 1);
    }
    let mut numbers = Vec::with_capacity(events.len());
    for event in events {
        let key = (event.room.as_str(), event.event_type.as_str());
        let seq = next.get(&key).copied().unwrap_or(1);
        next.insert(key, seq + 1);
        numbers.push(seq);
    }
    for (chunk_no, chunk) in events.chunks(ROWS_PER_INSERT).enumerate() {
        let tuples: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = i * 7;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, 0)",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO pubsub_events (room, event_type, seq, id, publisher, body_sealed, published_at, withdrawn) VALUES {}",
            tuples.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (i, event) in chunk.iter().enumerate() {
            query = query
                .bind(event.room.clone())
                .bind(event.event_type.clone())
                .bind(numbers[chunk_no * ROWS_PER_INSERT + i])
                .bind(event.id.clone())
                .bind(event.publisher.clone())
                .bind(event.body_sealed.clone())
                .bind(event.at);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(numbers)
}
