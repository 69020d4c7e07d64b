//! Group commit for the intake: the cases that packages from other regions make, from every
//! request of this node, gather in a queue and are written in one transaction; each delivery is
//! answered once its case is durable. A region's outbox sends many packages at once, and one
//! commit for each would bound the intake by the disk's flushes.

use tokio::sync::{mpsc, oneshot};

use crate::error::{AppError, AppResult};
use crate::store::{CaseRow, Step};

const MAX_BATCH: usize = 512;

/// A received case to write, with its first event.
pub struct NewCase {
    pub row: CaseRow,
    pub actor: String,
}

struct Pending {
    case: NewCase,
    done: oneshot::Sender<AppResult<bool>>,
}

/// The handle through which this node's intake writes cases.
#[derive(Clone)]
pub struct Intake {
    queue: mpsc::Sender<Pending>,
}

impl Intake {
    pub fn start(pool: sqlx::AnyPool) -> Intake {
        let (queue, receiver) = mpsc::channel(MAX_BATCH * 4);
        tokio::spawn(write_batches(pool, receiver));
        Intake { queue }
    }

    /// Writes a case; `false` when a case of its id exists (nothing was written).
    pub async fn write(&self, case: NewCase) -> AppResult<bool> {
        let (done, outcome) = oneshot::channel();
        self.queue
            .send(Pending { case, done })
            .await
            .map_err(|_| AppError::Unavailable)?;
        outcome.await.map_err(|_| AppError::Unavailable)?
    }
}

async fn write_batches(pool: sqlx::AnyPool, mut receiver: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let cases: Vec<&NewCase> = batch.iter().map(|p| &p.case).collect();
        match crate::error::retrying(|| write(&pool, &cases)).await {
            Ok(inserted) => {
                for (pending, inserted) in batch.drain(..).zip(inserted) {
                    let _ = pending.done.send(Ok(inserted));
                }
            }
            Err(error) => {
                tracing::error!(%error, count = batch.len(), "received cases could not be written");
                for pending in batch.drain(..) {
                    let _ = pending.done.send(Err(AppError::Unavailable));
                }
            }
        }
    }
}

async fn write(pool: &sqlx::AnyPool, cases: &[&NewCase]) -> AppResult<Vec<bool>> {
    let steps: Vec<Step<'_>> = cases
        .iter()
        .map(|case| Step {
            case_id: &case.row.id,
            state: &case.row.state,
            seq: case.row.seq,
            actor: &case.actor,
            note: None,
            result_sealed: None,
            rating: None,
            due_day: None,
            peer_seq: None,
            supplement: None,
            send: None,
            at: case.row.created_at,
        })
        .collect();
    let rows: Vec<(&CaseRow, &Step<'_>)> = cases.iter().map(|c| &c.row).zip(&steps).collect();
    let mut tx = pool.begin().await?;
    let inserted = crate::store::insert_cases_in(&mut tx, &rows).await?;
    tx.commit().await?;
    Ok(inserted)
}
