//! The message log's index: one row per exchange, written in the same transaction as the
//! exchange's signed record in the transparency log (the log's group commit carries it), so
//! thousands of exchanges a second cost a few transactions and the two are durable together.
//! An exchange is answered only after that transaction.

use sqlx::AnyPool;

use crate::error::AppResult;
use crate::ledger::appender::{IndexRow, IndexValue};

/// One exchange as the index keeps it (`ledger_index` is set by the log when written).
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

/// The columns of the index row written with each exchange's log entry (the entry's index
/// goes to `ledger_index`).
const COLUMNS: &[&str] = &[
    "id",
    "at",
    "client",
    "service",
    "resource_code",
    "consumer_department_id",
    "provider_department_id",
    "method",
    "status",
    "error_type",
    "removed_values",
    "micros",
];

/// The index row of an exchange, for [`crate::ledger::service::append_indexed`].
pub fn index_row(row: MessageRow) -> IndexRow {
    IndexRow {
        table: "exchange_messages",
        columns: COLUMNS,
        values: vec![
            IndexValue::Text(row.id),
            IndexValue::Int(row.at),
            IndexValue::Text(row.client),
            IndexValue::Text(row.service),
            IndexValue::Text(row.resource_code),
            IndexValue::Text(row.consumer_department_id),
            IndexValue::Text(row.provider_department_id),
            IndexValue::Text(row.method),
            IndexValue::Int(row.status),
            IndexValue::OptionalText(row.error_type),
            IndexValue::Int(row.removed_values),
            IndexValue::Int(row.micros),
        ],
    }
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
