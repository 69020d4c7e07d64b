//! SQL of the log: the head (its size, which sequences appends across nodes), entries, the
//! hashes of perfect subtrees, and checkpoints.

use std::collections::HashMap;

use sqlx::AnyConnection;
use sqlx::FromRow;
use tongban_ledger::Digest32;

use crate::db::Exec;
use crate::error::{AppError, AppResult};

/// Rows per multi-row INSERT: well below every engine's limit on bound parameters.
const ROWS_PER_INSERT: usize = 100;

/// Reserves `count` indexes at the end of the log and returns the first. The row lock on the
/// head serialises appenders on every node until their transaction ends.
pub async fn reserve(conn: &mut AnyConnection, count: i64) -> AppResult<i64> {
    let end: i64 =
        sqlx::query_scalar("UPDATE ledger_head SET size = size + $1 WHERE id = 1 RETURNING size")
            .bind(count)
            .fetch_one(&mut *conn)
            .await?;
    Ok(end - count)
}

pub async fn size(db: impl Exec<'_>) -> AppResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT size FROM ledger_head WHERE id = 1")
            .fetch_one(db)
            .await?,
    )
}

fn to_digest(bytes: Vec<u8>) -> AppResult<Digest32> {
    bytes
        .try_into()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("a stored log hash is not 32 bytes")))
}

/// The hashes of the given perfect subtrees, by (level, index): level 0 from the entries'
/// leaf hashes, the levels above from the node table.
pub async fn nodes(
    conn: &mut AnyConnection,
    wanted: &[(u32, u64)],
) -> AppResult<HashMap<(u32, u64), Digest32>> {
    let mut found = HashMap::with_capacity(wanted.len());
    let leaves: Vec<u64> = wanted
        .iter()
        .filter(|(level, _)| *level == 0)
        .map(|(_, index)| *index)
        .collect();
    for chunk in leaves.chunks(200) {
        let sql = format!(
            "SELECT idx, leaf_hash FROM ledger_entries WHERE idx IN ({})",
            crate::db::in_list(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (i64, Vec<u8>)>(sqlx::AssertSqlSafe(sql));
        for index in chunk {
            query = query.bind(*index as i64);
        }
        for (index, leaf_hash) in query.fetch_all(&mut *conn).await? {
            found.insert((0, index as u64), to_digest(leaf_hash)?);
        }
    }
    let inner: Vec<(u32, u64)> = wanted
        .iter()
        .filter(|(level, _)| *level > 0)
        .copied()
        .collect();
    for chunk in inner.chunks(200) {
        let conditions: Vec<String> = (0..chunk.len())
            .map(|i| format!("(level = ${} AND idx = ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let sql = format!(
            "SELECT level, idx, hash FROM ledger_nodes WHERE {}",
            conditions.join(" OR ")
        );
        let mut query = sqlx::query_as::<_, (i64, i64, Vec<u8>)>(sqlx::AssertSqlSafe(sql));
        for (level, index) in chunk {
            query = query.bind(i64::from(*level)).bind(*index as i64);
        }
        for (level, index, hash) in query.fetch_all(&mut *conn).await? {
            found.insert((level as u32, index as u64), to_digest(hash)?);
        }
    }
    Ok(found)
}

/// Inserts entries `first…` with their leaf hashes.
pub async fn insert_entries(
    conn: &mut AnyConnection,
    first: i64,
    entries: &[(&[u8], Digest32)],
) -> AppResult<()> {
    for (chunk_number, chunk) in entries.chunks(ROWS_PER_INSERT).enumerate() {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO ledger_entries (idx, leaf_hash, data) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (i, (data, hash)) in chunk.iter().enumerate() {
            query = query
                .bind(first + (chunk_number * ROWS_PER_INSERT + i) as i64)
                .bind(hash.to_vec())
                .bind(data.to_vec());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts perfect-subtree hashes of level 1 and above.
pub async fn insert_nodes(
    conn: &mut AnyConnection,
    nodes: &[(u32, u64, Digest32)],
) -> AppResult<()> {
    for chunk in nodes.chunks(ROWS_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
            .collect();
        let sql = format!(
            "INSERT INTO ledger_nodes (level, idx, hash) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (level, index, hash) in chunk {
            query = query
                .bind(i64::from(*level))
                .bind(*index as i64)
                .bind(hash.to_vec());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Entries `[start, end)` in order, as (index, data).
pub async fn entries(db: impl Exec<'_>, start: i64, end: i64) -> AppResult<Vec<(i64, Vec<u8>)>> {
    Ok(sqlx::query_as(
        "SELECT idx, data FROM ledger_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
    )
    .bind(start)
    .bind(end)
    .fetch_all(db)
    .await?)
}

/// Stored leaf hashes `[start, end)` in order, as (index, hash).
pub async fn leaf_hashes(
    db: impl Exec<'_>,
    start: i64,
    end: i64,
) -> AppResult<Vec<(i64, Vec<u8>)>> {
    Ok(sqlx::query_as(
        "SELECT idx, leaf_hash FROM ledger_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
    )
    .bind(start)
    .bind(end)
    .fetch_all(db)
    .await?)
}

/// A stored checkpoint.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct CheckpointRow {
    pub size: i64,
    pub root: Vec<u8>,
    pub note: String,
    pub created_at: i64,
}

pub async fn insert_checkpoint(db: impl Exec<'_>, row: &CheckpointRow) -> AppResult<()> {
    sqlx::query("INSERT INTO ledger_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING")
        .bind(row.size)
        .bind(row.root.clone())
        .bind(row.note.clone())
        .bind(row.created_at)
        .execute(db)
        .await?;
    Ok(())
}

fn checkpoint_from_row(row: &sqlx::any::AnyRow) -> AppResult<CheckpointRow> {
    Ok(CheckpointRow::from_row(row)?)
}

pub async fn latest_checkpoint(db: impl Exec<'_>) -> AppResult<Option<CheckpointRow>> {
    let row = sqlx::query(
        "SELECT size, root, note, created_at FROM ledger_checkpoints ORDER BY size DESC LIMIT 1",
    )
    .fetch_optional(db)
    .await?;
    row.as_ref().map(checkpoint_from_row).transpose()
}

pub async fn checkpoints(db: impl Exec<'_>) -> AppResult<Vec<CheckpointRow>> {
    let rows =
        sqlx::query("SELECT size, root, note, created_at FROM ledger_checkpoints ORDER BY size")
            .fetch_all(db)
            .await?;
    rows.iter().map(checkpoint_from_row).collect()
}
