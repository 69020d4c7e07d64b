//! The message log's index: one row per exchange, written in batches (group commit) so that
//! thousands of exchanges a second cost a few transactions. An exchange is answered only once
//! its signed record is in the transparency log and its row is durable.

use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use crate::error::{AppError, AppResult};

/// Most rows written in one transaction.
const MAX_BATCH: usize = 4096;
/// Rows per INSERT statement.
const ROWS_PER_STATEMENT: usize = 100;

/// One exchange as the index keeps it.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub id: String,
    pub at: i64,
    pub client: String,
    pub service: String,
    pub resource_code: String,
    pub consumer_department_id: String,
    pub provider_department_id: String,
    pub method: String,
    pub status: i64,
    pub error_type: Option<String>,
    pub removed_values: i64,
    pub micros: i64,
    pub ledger_index: i64,
}

struct Pending {
    row: MessageRow,
    done: oneshot::Sender<AppResult<()>>,
}

/// The handle through which this node writes the index.
#[derive(Clone)]
pub struct MessageLog {
    queue: mpsc::Sender<Pending>,
}

impl MessageLog {
    /// Starts the writer task on the current runtime.
    pub fn start(pool: AnyPool) -> MessageLog {
        let (queue, receiver) = mpsc::channel(MAX_BATCH * 4);
        tokio::spawn(write_batches(pool, receiver));
        MessageLog { queue }
    }

    /// Writes a row; returns once it is durable.
    pub async fn write(&self, row: MessageRow) -> AppResult<()> {
        let (done, outcome) = oneshot::channel();
        self.queue
            .send(Pending { row, done })
            .await
            .map_err(|_| AppError::Unavailable)?;
        outcome.await.map_err(|_| AppError::Unavailable)?
    }
}

async fn write_batches(pool: AnyPool, mut receiver: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let rows: Vec<&MessageRow> = batch.iter().map(|p| &p.row).collect();
        let outcome = crate::error::retrying(|| write(&pool, &rows)).await;
        let failed = outcome.is_err();
        if let Err(error) = outcome {
            tracing::error!(%error, count = batch.len(), "the message log could not be written");
        }
        for pending in batch.drain(..) {
            let _ = pending.done.send(if failed {
                Err(AppError::Unavailable)
            } else {
                Ok(())
            });
        }
    }
}

async fn write(pool: &AnyPool, rows: &[&MessageRow]) -> AppResult<()> {
    let mut tx = pool.begin().await?;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO exchange_messages (id, at, client, service, resource_code, consumer_department_id, provider_department_id, method, status, error_type, removed_values, micros, ledger_index) VALUES ",
        );
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            let b = i * 13;
            sql.push('(');
            for column in 1..=13 {
                if column > 1 {
                    sql.push(',');
                }
                sql.push_str(&format!("${}", b + column));
            }
            sql.push(')');
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            query = query
                .bind(row.id.clone())
                .bind(row.at)
                .bind(row.client.clone())
                .bind(row.service.clone())
                .bind(row.resource_code.clone())
                .bind(row.consumer_department_id.clone())
                .bind(row.provider_department_id.clone())
                .bind(row.method.clone())
                .bind(row.status)
                .bind(row.error_type.clone())
                .bind(row.removed_values)
                .bind(row.micros)
                .bind(row.ledger_index);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Whether a message id was used already.
pub async fn seen(pool: &AnyPool, id: &str) -> AppResult<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM exchange_messages WHERE id = $1")
        .bind(id.to_owned())
        .fetch_optional(pool)
        .await?;
    Ok(found.is_some())
}

/// One row, by id.
pub async fn message(pool: &AnyPool, id: &str) -> AppResult<Option<MessageRow>> {
    let row = sqlx::query_as::<_, RowTuple>(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
        .bind(id.to_owned())
        .fetch_optional(pool)
        .await?;
    Ok(row.map(from_tuple))
}

type RowTuple = (
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    i64,
    i64,
    i64,
);

const SELECT: &str = "SELECT id, at, client, service, resource_code, consumer_department_id, provider_department_id, method, status, error_type, removed_values, micros, ledger_index FROM exchange_messages";

fn from_tuple(t: RowTuple) -> MessageRow {
    MessageRow {
        id: t.0,
        at: t.1,
        client: t.2,
        service: t.3,
        resource_code: t.4,
        consumer_department_id: t.5,
        provider_department_id: t.6,
        method: t.7,
        status: t.8,
        error_type: t.9,
        removed_values: t.10,
        micros: t.11,
        ledger_index: t.12,
    }
}

/// What a search of the log asks for.
#[derive(Debug, Default, Clone)]
pub struct Search {
    pub resource: Option<String>,
    /// `ok` (2xx), `refused` (a gateway error) or `failed` (any other).
    pub outcome: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub limit: i64,
}

/// The exchanges a department took part in, as consumer or provider, newest first.
pub async fn messages_of(
    pool: &AnyPool,
    department: &str,
    search: &Search,
) -> AppResult<Vec<MessageRow>> {
    let rows = sqlx::query_as::<_, RowTuple>(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE (consumer_department_id = $1 OR provider_department_id = $1)
           AND ($2 = '' OR resource_code = $2)
           AND at >= $3 AND at < $4
           AND ($5 = '' OR ($5 = 'ok' AND status BETWEEN 200 AND 299)
                OR ($5 = 'refused' AND error_type IS NOT NULL)
                OR ($5 = 'failed' AND error_type IS NULL AND (status < 200 OR status > 299)))
         ORDER BY at DESC, ledger_index DESC LIMIT $6"
    )))
    .bind(department.to_owned())
    .bind(search.resource.clone().unwrap_or_default())
    .bind(search.from.unwrap_or(0))
    .bind(search.to.unwrap_or(i64::MAX))
    .bind(search.outcome.clone().unwrap_or_default())
    .bind(search.limit.clamp(1, 1000))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(from_tuple).collect())
}
