//! Group commit: appends from every request of this node gather in a queue and are written in
//! one transaction — entries, leaf hashes and the new perfect-subtree hashes — so that the log
//! is never the bottleneck. An append returns only once its transaction is durable.
//!
//! An entry may bring a row that indexes it in a module's table ([`IndexRow`]); the row is
//! written in the same transaction, with the entry's index, so the two are durable together.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot};
use tongban_ledger::{Digest32, HashAlgorithm, leaf_hash, node_hash};

use super::store;
use crate::db::Db;
use crate::error::retrying;
use crate::error::{AppError, AppResult};

/// Most entries written in one transaction.
const MAX_BATCH: usize = 8192;

/// A value of an index row.
#[derive(Debug, Clone)]
pub enum IndexValue {
    Text(String),
    OptionalText(Option<String>),
    Int(i64),
    OptionalInt(Option<i64>),
    Bytes(Vec<u8>),
}

/// A row of a module's table that indexes an entry: written in the entry's transaction, with
/// the entry's index bound to the column `ledger_index` after `columns`. An existing row with
/// the same key is left as it is (`ON CONFLICT DO NOTHING`), so a duplicate cannot fail the
/// other entries of its batch.
#[derive(Debug, Clone)]
pub struct IndexRow {
    pub table: &'static str,
    pub columns: &'static [&'static str],
    pub values: Vec<IndexValue>,
}

struct Pending {
    data: Vec<u8>,
    index_row: Option<IndexRow>,
    done: oneshot::Sender<AppResult<u64>>,
}

/// The handle through which this node appends to the log.
#[derive(Clone)]
pub struct Appender {
    queue: mpsc::Sender<Pending>,
}

impl Appender {
    /// Starts the writer task on the current runtime.
    pub fn start(db: Db, algorithm: HashAlgorithm) -> Appender {
        let (queue, receiver) = mpsc::channel(MAX_BATCH * 4);
        tokio::spawn(write_batches(db, algorithm, receiver));
        Appender { queue }
    }

    /// Appends one entry and returns its index once the entry is durable. Any failure to
    /// write is `Unavailable`: the caller must not release what the entry records.
    pub async fn append(&self, data: Vec<u8>) -> AppResult<u64> {
        self.send(data, None).await
    }

    /// Appends one entry and writes `row` with it, in one transaction.
    pub async fn append_indexed(&self, data: Vec<u8>, row: IndexRow) -> AppResult<u64> {
        if row.columns.len() != row.values.len() {
            return Err(AppError::Internal(anyhow::anyhow!(
                "an index row of {} has {} columns and {} values",
                row.table,
                row.columns.len(),
                row.values.len()
            )));
        }
        self.send(data, Some(row)).await
    }

    async fn send(&self, data: Vec<u8>, index_row: Option<IndexRow>) -> AppResult<u64> {
        let (done, outcome) = oneshot::channel();
        self.queue
            .send(Pending {
                data,
                index_row,
                done,
            })
            .await
            .map_err(|_| AppError::Unavailable)?;
        outcome.await.map_err(|_| AppError::Unavailable)?
    }
}

async fn write_batches(db: Db, algorithm: HashAlgorithm, mut receiver: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let entries: Vec<&[u8]> = batch.iter().map(|p| p.data.as_slice()).collect();
        let rows: Vec<(usize, &IndexRow)> = batch
            .iter()
            .enumerate()
            .filter_map(|(offset, p)| p.index_row.as_ref().map(|row| (offset, row)))
            .collect();
        let outcome = retrying(|| write(&db, algorithm, &entries, &rows)).await;
        match outcome {
            Ok(first) => {
                for (offset, pending) in batch.drain(..).enumerate() {
                    let _ = pending.done.send(Ok(first + offset as u64));
                }
            }
            Err(error) => {
                tracing::error!(%error, count = batch.len(), "the transparency log could not be written");
                for pending in batch.drain(..) {
                    let _ = pending.done.send(Err(AppError::Unavailable));
                }
            }
        }
    }
}

/// The left siblings still waiting for a right one in a tree of `size` leaves: for each bit
/// `level` set in `size`, the perfect subtree `(level, (size >> level) - 1)`.
fn frontier(size: u64) -> Vec<(u32, u64)> {
    (0..64)
        .filter(|level| size >> level & 1 == 1)
        .map(|level| (level, (size >> level) - 1))
        .collect()
}

/// Adds one leaf at `index` and every perfect subtree it completes to `out`.
fn add_leaf(
    algorithm: HashAlgorithm,
    waiting: &mut HashMap<u32, Digest32>,
    index: u64,
    leaf: Digest32,
    out: &mut Vec<(u32, u64, Digest32)>,
) {
    let (mut level, mut position, mut hash) = (0u32, index, leaf);
    loop {
        out.push((level, position, hash));
        if position % 2 == 0 {
            waiting.insert(level, hash);
            return;
        }
        let Some(left) = waiting.remove(&level) else {
            return;
        };
        hash = node_hash(algorithm, &left, &hash);
        level += 1;
        position /= 2;
    }
}

async fn write(
    db: &Db,
    algorithm: HashAlgorithm,
    entries: &[&[u8]],
    rows: &[(usize, &IndexRow)],
) -> AppResult<u64> {
    let mut tx = db.pool().begin().await?;
    let first = store::reserve(&mut tx, entries.len() as i64).await?;
    let first = u64::try_from(first)
        .map_err(|_| AppError::Internal(anyhow::anyhow!("negative log size")))?;
    let wanted = frontier(first);
    let found = store::nodes(&mut tx, &wanted).await?;
    let mut waiting = HashMap::with_capacity(wanted.len());
    for coordinate in &wanted {
        let hash = found.get(coordinate).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("the log misses node {coordinate:?}"))
        })?;
        waiting.insert(coordinate.0, *hash);
    }
    let mut nodes = Vec::with_capacity(entries.len() * 2);
    let mut with_hashes = Vec::with_capacity(entries.len());
    for (offset, data) in entries.iter().enumerate() {
        let hash = leaf_hash(algorithm, data);
        add_leaf(
            algorithm,
            &mut waiting,
            first + offset as u64,
            hash,
            &mut nodes,
        );
        with_hashes.push((*data, hash));
    }
    // Leaf hashes live in the entry rows; the node table holds the levels above.
    nodes.retain(|(level, _, _)| *level > 0);
    store::insert_entries(&mut tx, first as i64, &with_hashes).await?;
    store::insert_nodes(&mut tx, &nodes).await?;
    insert_index_rows(&mut tx, first as i64, rows).await?;
    tx.commit().await?;
    Ok(first)
}

/// Index rows per INSERT statement.
const INDEX_ROWS_PER_INSERT: usize = 50;

async fn insert_index_rows(
    conn: &mut sqlx::AnyConnection,
    first: i64,
    rows: &[(usize, &IndexRow)],
) -> AppResult<()> {
    let mut start = 0;
    while start < rows.len() {
        let shape = rows[start].1;
        let end = rows[start..]
            .iter()
            .take(INDEX_ROWS_PER_INSERT)
            .take_while(|(_, r)| r.table == shape.table && r.columns == shape.columns)
            .count()
            + start;
        let width = shape.columns.len() + 1;
        let tuples: Vec<String> = (0..end - start)
            .map(|i| {
                let placeholders: Vec<String> =
                    (1..=width).map(|c| format!("${}", i * width + c)).collect();
                format!("({})", placeholders.join(", "))
            })
            .collect();
        // Table and column names are static strings of the modules, never input.
        let sql = format!(
            "INSERT INTO {} ({}, ledger_index) VALUES {} ON CONFLICT DO NOTHING",
            shape.table,
            shape.columns.join(", "),
            tuples.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (offset, row) in &rows[start..end] {
            for value in &row.values {
                query = match value {
                    IndexValue::Text(text) => query.bind(text.clone()),
                    IndexValue::OptionalText(text) => query.bind(text.clone()),
                    IndexValue::Int(n) => query.bind(*n),
                    IndexValue::OptionalInt(n) => query.bind(*n),
                    IndexValue::Bytes(bytes) => query.bind(bytes.clone()),
                };
            }
            query = query.bind(first + *offset as i64);
        }
        query.execute(&mut *conn).await?;
        start = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tongban_ledger::{MemoryTree, Nodes};

    #[test]
    fn incremental_nodes_match_a_tree_built_in_memory_across_batch_boundaries() {
        let algorithm = HashAlgorithm::Sha256;
        let mut memory = MemoryTree::new(algorithm);
        let mut stored: HashMap<(u32, u64), Digest32> = HashMap::new();
        let mut size = 0u64;
        for batch in [1usize, 2, 3, 7, 1, 16, 5, 30] {
            let mut waiting: HashMap<u32, Digest32> = frontier(size)
                .into_iter()
                .map(|(l, i)| (l, stored[&(l, i)]))
                .collect();
            let mut out = Vec::new();
            for _ in 0..batch {
                let data = size.to_be_bytes();
                memory.push(&data);
                add_leaf(
                    algorithm,
                    &mut waiting,
                    size,
                    leaf_hash(algorithm, &data),
                    &mut out,
                );
                size += 1;
            }
            for (level, index, hash) in out {
                assert_eq!(
                    Ok(hash),
                    memory.perfect(level, index),
                    "node ({level}, {index})"
                );
                stored.insert((level, index), hash);
            }
        }
        assert_eq!(size, 65);
        assert_eq!(stored.len(), 65 + 32 + 16 + 8 + 4 + 2 + 1);
    }
}
