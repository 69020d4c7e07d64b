//! Group commit for submissions: the instances every request of this node receives gather in
//! a queue and are written in one transaction; each request is answered once its submission is
//! durable. Collectors send in bursts (a village's devices come back online together), and one
//! commit for each would bound collection by the disk's flushes.

use tokio::sync::{mpsc, oneshot};

use crate::error::{AppError, AppResult};
pub use crate::store::NewSubmission;

const MAX_BATCH: usize = 512;

struct Pending {
    submission: NewSubmission,
    done: oneshot::Sender<AppResult<bool>>,
}

/// The handle through which this node writes submissions.
#[derive(Clone)]
pub struct Submissions {
    queue: mpsc::Sender<Pending>,
}

impl Submissions {
    pub fn start(pool: sqlx::AnyPool) -> Submissions {
        let (queue, receiver) = mpsc::channel(MAX_BATCH * 4);
        tokio::spawn(write_batches(pool, receiver));
        Submissions { queue }
    }

    /// Writes a submission and its files; `false` when one of its form and instanceID was
    /// already stored (nothing was written).
    pub async fn write(&self, submission: NewSubmission) -> AppResult<bool> {
        let (done, outcome) = oneshot::channel();
        self.queue
            .send(Pending { submission, done })
            .await
            .map_err(|_| AppError::Unavailable)?;
        outcome.await.map_err(|_| AppError::Unavailable)?
    }
}

async fn write_batches(pool: sqlx::AnyPool, mut receiver: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let submissions: Vec<&NewSubmission> = batch.iter().map(|p| &p.submission).collect();
        match crate::error::retrying(|| crate::store::insert_submissions(&pool, &submissions)).await
        {
            Ok(inserted) => {
                for (pending, inserted) in batch.drain(..).zip(inserted) {
                    let _ = pending.done.send(Ok(inserted));
                }
            }
            Err(error) => {
                tracing::error!(%error, count = batch.len(), "submissions could not be written");
                for pending in batch.drain(..) {
                    let _ = pending.done.send(Err(AppError::Unavailable));
                }
            }
        }
    }
}
