//! Group commit for check-ins: check-ins from every request of this node gather in a queue and
//! are written in one transaction, a few thousand at a time. A check-in is acknowledged only
//! once its transaction is durable, so no acknowledged check-in is lost when the process dies.
//! Repeated scans of one person at one venue within a minute are one visit: the writer drops
//! them, against the batch and against what is stored.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot};

use super::store;
use crate::db::{Db, retrying};
use crate::error::{AppError, AppResult};

/// Most check-ins written in one transaction.
const MAX_BATCH: usize = 8192;
/// A second scan of the same person at the same venue within this time is the same visit.
pub const SAME_VISIT_MS: i64 = 60_000;

/// One check-in, ready to store: the person only as pseudonym and sealed id.
#[derive(Debug, Clone)]
pub struct NewCheckin {
    pub venue_no: i64,
    pub at: i64,
    pub subject: [u8; 16],
    pub person_sealed: Vec<u8>,
    pub method: i64,
}

struct Pending {
    checkin: NewCheckin,
    done: oneshot::Sender<AppResult<bool>>,
}

/// The handle through which this node records check-ins.
#[derive(Clone)]
pub struct CheckinWriter {
    queue: mpsc::Sender<Pending>,
}

impl CheckinWriter {
    /// Starts the writer task on the current runtime.
    pub fn start(db: Db) -> CheckinWriter {
        let (queue, receiver) = mpsc::channel(MAX_BATCH * 4);
        tokio::spawn(write_batches(db, receiver));
        CheckinWriter { queue }
    }

    /// Records a check-in once it is durable. `Ok(false)`: the same person was checked in at
    /// the same venue within the minute before, and nothing new was stored.
    pub async fn record(&self, checkin: NewCheckin) -> AppResult<bool> {
        let (done, outcome) = oneshot::channel();
        self.queue
            .send(Pending { checkin, done })
            .await
            .map_err(|_| AppError::Unavailable)?;
        outcome.await.map_err(|_| AppError::Unavailable)?
    }
}

async fn write_batches(db: Db, mut receiver: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let checkins: Vec<&NewCheckin> = batch.iter().map(|p| &p.checkin).collect();
        match retrying(|| write(&db, &checkins)).await {
            Ok(kept) => {
                for (pending, kept) in batch.drain(..).zip(kept) {
                    let _ = pending.done.send(Ok(kept));
                }
            }
            Err(error) => {
                tracing::error!(%error, count = batch.len(), "check-ins could not be written");
                for pending in batch.drain(..) {
                    let _ = pending.done.send(Err(AppError::Unavailable));
                }
            }
        }
    }
}

/// Which of `checkins` are new visits, given the latest stored check-in of each (subject,
/// venue) pair before the batch.
fn new_visits(checkins: &[&NewCheckin], latest: &HashMap<([u8; 16], i64), i64>) -> Vec<bool> {
    let mut seen: HashMap<([u8; 16], i64), i64> = HashMap::new();
    checkins
        .iter()
        .map(|c| {
            let key = (c.subject, c.venue_no);
            let before = seen.get(&key).or_else(|| latest.get(&key)).copied();
            let repeat = before.is_some_and(|at| (0..SAME_VISIT_MS).contains(&(c.at - at)));
            if !repeat {
                seen.insert(key, c.at);
            }
            !repeat
        })
        .collect()
}

async fn write(db: &Db, checkins: &[&NewCheckin]) -> AppResult<Vec<bool>> {
    let mut tx = db.pool().begin().await?;
    let earliest = checkins.iter().map(|c| c.at).min().unwrap_or(0);
    let mut subjects: Vec<[u8; 16]> = checkins.iter().map(|c| c.subject).collect();
    subjects.sort_unstable();
    subjects.dedup();
    let latest = store::latest_visits(&mut tx, &subjects, earliest - SAME_VISIT_MS).await?;
    let kept = new_visits(checkins, &latest);
    let rows: Vec<&NewCheckin> = checkins
        .iter()
        .zip(&kept)
        .filter(|(_, kept)| **kept)
        .map(|(c, _)| *c)
        .collect();
    store::insert_checkins(&mut tx, &rows).await?;
    store::insert_subjects(&mut tx, &rows).await?;
    tx.commit().await?;
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(subject: u8, venue_no: i64, at: i64) -> NewCheckin {
        NewCheckin {
            venue_no,
            at,
            subject: [subject; 16],
            person_sealed: Vec::new(),
            method: 1,
        }
    }

    #[test]
    fn a_second_scan_within_the_minute_is_the_same_visit() {
        let batch = [
            at(1, 7, 1_000),
            at(1, 7, 30_000),
            at(1, 8, 30_000),
            at(2, 7, 30_000),
            at(1, 7, 61_000),
            at(3, 7, 100_000),
        ];
        let refs: Vec<&NewCheckin> = batch.iter().collect();
        let mut stored = HashMap::new();
        stored.insert(([3; 16], 7), 50_000);
        assert_eq!(
            new_visits(&refs, &stored),
            [true, false, true, true, true, false]
        );
    }
}
