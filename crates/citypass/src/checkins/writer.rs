//! Group commit for check-ins. Check-ins from every request of this node gather in a queue and
//! are appended to `checkin_log` in one transaction, a few thousand at a time; each is
//! acknowledged only once that transaction is durable, so no acknowledged check-in is lost when
//! the process dies. A second task ([`compact`]) moves log rows older than a minute into the
//! indexed `checkins` table, sorted, in large batches.
//!
//! Repeat scans of one person at one venue within a minute are one visit: the writer keeps the
//! last minute of this node's check-ins in memory (reloaded from the log on start) and drops
//! repeats before they are written. Repeats that reached different nodes (the load balancer
//! sent the two scans to two nodes) are folded by the compactor ([`Compactor`]), which sees
//! every node's rows: until then, for at most a minute and a compaction period, both are in
//! the log and a venue's live count may count that person twice.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot};

use super::store;
pub use super::store::NewCheckin;
use crate::db::Db;
use crate::error::retrying;
use crate::error::{AppError, AppResult};

/// Most requests' check-ins written in one transaction.
const MAX_BATCH: usize = 8192;
/// A second scan of the same person at the same venue within this time is the same visit.
pub const SAME_VISIT_MS: i64 = 60_000;
/// Most log rows one compaction moves.
const MAX_COMPACTION: i64 = 250_000;

/// One request's check-ins (a person and the companions they bring): written in the same
/// transaction, so that they are stored or refused together.
struct Pending {
    checkins: Vec<NewCheckin>,
    done: oneshot::Sender<AppResult<Vec<bool>>>,
}

/// The handle through which this node records check-ins.
#[derive(Clone)]
pub struct CheckinWriter {
    queue: mpsc::Sender<Pending>,
}

impl CheckinWriter {
    /// Starts the writer task on the current runtime.
    pub fn start(db: Db, clock: std::sync::Arc<dyn tongban_core::Clock>) -> CheckinWriter {
        let (queue, receiver) = mpsc::channel(MAX_BATCH * 4);
        tokio::spawn(write_batches(db, clock.now_millis(), receiver));
        CheckinWriter { queue }
    }

    /// Records a check-in once it is durable. `Ok(false)`: the same person was checked in at
    /// the same venue within the minute before, and nothing new was stored.
    pub async fn record(&self, checkin: NewCheckin) -> AppResult<bool> {
        let kept = self.record_all(vec![checkin]).await?;
        Ok(kept.first().copied().unwrap_or(false))
    }

    /// Records check-ins together, all durable or none: for each, whether it was new (see
    /// [`CheckinWriter::record`]).
    pub async fn record_all(&self, checkins: Vec<NewCheckin>) -> AppResult<Vec<bool>> {
        if checkins.is_empty() {
            return Ok(Vec::new());
        }
        let (done, outcome) = oneshot::channel();
        self.queue
            .send(Pending { checkins, done })
            .await
            .map_err(|_| AppError::Unavailable)?;
        outcome.await.map_err(|_| AppError::Unavailable)?
    }
}

/// The last minute of check-ins kept, by (subject, venue), for folding repeat scans.
#[derive(Default, Clone)]
struct Recent {
    latest: HashMap<([u8; 16], i64), i64>,
    newest: i64,
}

impl Recent {
    /// Notes a check-in; false when it comes within a minute of the last one kept of the same
    /// person at the same venue (before or, out of order, after it).
    fn admit(&mut self, subject: [u8; 16], venue_no: i64, at: i64) -> bool {
        let key = (subject, venue_no);
        match self.latest.get(&key) {
            Some(before) if (at - before).abs() < SAME_VISIT_MS => return false,
            // An older scan, more than a minute before: kept, and the later one stays the
            // one that later scans are measured from.
            Some(before) if at < *before => return true,
            _ => {}
        }
        self.latest.insert(key, at);
        self.newest = self.newest.max(at);
        true
    }

    /// True when exactly this scan (same person, venue and millisecond) is the one kept.
    fn is_kept(&self, subject: [u8; 16], venue_no: i64, at: i64) -> bool {
        self.latest.get(&(subject, venue_no)) == Some(&at)
    }

    fn forget_old(&mut self) {
        let horizon = self.newest - SAME_VISIT_MS;
        self.latest.retain(|_, at| *at > horizon);
    }
}

async fn write_batches(db: Db, started: i64, mut receiver: mpsc::Receiver<Pending>) {
    let mut recent = Recent::default();
    match store::log_since(db.pool(), started - SAME_VISIT_MS).await {
        Ok(rows) => {
            for (subject, venue_no, at) in rows {
                recent.admit(subject, venue_no, at);
            }
        }
        Err(error) => tracing::warn!(%error, "could not read the last minute of check-ins"),
    }
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let kept: Vec<Vec<bool>> = batch
            .iter()
            .map(|p| {
                p.checkins
                    .iter()
                    .map(|c| recent.admit(c.subject, c.venue_no, c.at))
                    .collect()
            })
            .collect();
        let rows: Vec<&NewCheckin> = batch
            .iter()
            .zip(&kept)
            .flat_map(|(p, kept)| p.checkins.iter().zip(kept))
            .filter(|(_, kept)| **kept)
            .map(|(c, _)| c)
            .collect();
        match retrying(|| store::append_log(&db, &rows)).await {
            Ok(()) => {
                for (pending, kept) in batch.drain(..).zip(kept) {
                    let _ = pending.done.send(Ok(kept));
                }
            }
            Err(error) => {
                tracing::error!(%error, count = rows.len(), "check-ins could not be written");
                // Not written, so not seen: a retry must not count as a repeat.
                for c in batch.iter().flat_map(|p| &p.checkins) {
                    if recent.latest.get(&(c.subject, c.venue_no)) == Some(&c.at) {
                        recent.latest.remove(&(c.subject, c.venue_no));
                    }
                }
                for pending in batch.drain(..) {
                    let _ = pending.done.send(Err(AppError::Unavailable));
                }
            }
        }
        recent.forget_old();
    }
}

/// Moves the log into the indexed table, folding the repeat scans that reached different
/// nodes. It runs on one node at a time (the job's lease) and remembers the last minute of
/// what it kept, so that a repeat split by the seam between two compactions folds too; a node
/// that takes the job over starts with an empty memory, and the first seam it compacts folds
/// only within its own rows.
#[derive(Default)]
pub struct Compactor {
    kept: tokio::sync::Mutex<Recent>,
}

impl Compactor {
    /// Moves log rows made before `before` into `checkins`, at most [`MAX_COMPACTION`] at a
    /// time, sorted by the table's key, in one transaction each. Returns how many left the
    /// log (stored or folded).
    pub async fn compact(&self, db: &Db, before: i64) -> AppResult<u64> {
        let mut kept = self.kept.lock().await;
        let mut moved = 0;
        loop {
            // Each attempt starts from the memory as the last committed step left it.
            let (step, after) = retrying(|| {
                let mut trial = kept.clone();
                async move {
                    // The same scan twice (two nodes in the same millisecond) is kept: the
                    // indexed table, keyed by all three, keeps one, and a fold could not
                    // delete one of two identical log rows alone.
                    let step = store::compact_log(db, before, MAX_COMPACTION, &mut |s, v, at| {
                        trial.is_kept(s, v, at) || trial.admit(s, v, at)
                    })
                    .await?;
                    Ok((step, trial))
                }
            })
            .await?;
            *kept = after;
            kept.forget_old();
            moved += step;
            if step < MAX_COMPACTION as u64 {
                return Ok(moved);
            }
        }
    }

    /// Compacts the check-ins older than a visit's minute (the job's step).
    pub async fn compact_now(&self, db: &Db, clock: &dyn tongban_core::Clock) -> AppResult<()> {
        self.compact(db, clock.now_millis() - SAME_VISIT_MS)
            .await
            .map(|_| ())
    }
}

/// Compacts once, with a compactor of its own (tools and tests): see [`Compactor::compact`].
pub async fn compact(db: &Db, before: i64) -> AppResult<u64> {
    Compactor::default().compact(db, before).await
}

/// How often the check-in log is compacted.
pub const COMPACT_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_scan_within_the_minute_is_the_same_visit() {
        let mut recent = Recent::default();
        let seen: Vec<bool> = [
            (1, 7, 1_000),
            (1, 7, 30_000),
            (1, 8, 30_000),
            (2, 7, 30_000),
            (1, 7, 61_000),
            (1, 7, 62_000),
        ]
        .into_iter()
        .map(|(s, v, at)| recent.admit([s; 16], v, at))
        .collect();
        assert_eq!(seen, [true, false, true, true, true, false]);
        recent.forget_old();
        assert_eq!(
            recent.latest.len(),
            3,
            "all within the minute before the newest"
        );
        assert!(recent.admit([3; 16], 7, 200_000));
        recent.forget_old();
        assert_eq!(recent.latest.len(), 1, "only the last minute is kept");
    }

    #[test]
    fn a_scan_seen_out_of_order_folds_within_the_minute_and_moves_nothing_back() {
        let mut recent = Recent::default();
        assert!(recent.admit([1; 16], 7, 100_000));
        assert!(
            !recent.admit([1; 16], 7, 50_000),
            "within the minute before"
        );
        assert!(
            recent.admit([1; 16], 7, 30_000),
            "more than a minute before"
        );
        assert!(
            !recent.admit([1; 16], 7, 150_000),
            "still measured from the later scan"
        );
        assert!(recent.admit([1; 16], 7, 160_000));
        assert!(
            !recent.admit([1; 16], 7, 160_000),
            "the same scan twice is one visit"
        );
    }
}
