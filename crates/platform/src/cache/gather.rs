//! Cache misses that arrive together, read together.
//!
//! After a restart, or when the morning peak brings holders the node has not seen, every
//! request misses the cache at once. Read one by one, each miss costs its own statements, each
//! handed to the database's worker and waited for; the node then serves a few thousand first
//! passes a second while the same node serves its steady state several times faster. A
//! [`Gather`] queues the keys that miss; a reader takes everyone waiting (up to its batch) and
//! reads them with one statement per table (`WHERE key IN (…)`), so each miss costs a share of
//! a few statements. A lone miss is read at once, as a batch of one: nothing waits for a batch
//! to fill.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// What a batch read gives back: each key found, with its value or its own error. A key
/// missing from the answer has no value (the caller caches nothing).
pub type Found<V> = HashMap<String, AppResult<V>>;

type ReadMany<V> = Box<
    dyn Fn(AppState, Vec<String>) -> Pin<Box<dyn Future<Output = AppResult<Found<V>>> + Send>>
        + Send
        + Sync,
>;

type Waiter<V> = (String, oneshot::Sender<AppResult<Option<V>>>);

struct Queue<V> {
    waiting: Vec<Waiter<V>>,
    readers: usize,
}

/// Gathers the misses of one kind of value; see the module's description.
pub struct Gather<V> {
    queue: Mutex<Queue<V>>,
    /// Readers at work at once: more only split batches (one per core of the machine).
    readers: usize,
    /// Keys per batch: the `IN` lists stay far below every engine's parameter limit.
    batch: usize,
    read_many: ReadMany<V>,
}

impl<V: Send + 'static> Gather<V> {
    /// `read_many` reads a batch of distinct keys, at most `batch` of them.
    pub fn new<F, Fut>(readers: usize, batch: usize, read_many: F) -> Arc<Gather<V>>
    where
        F: Fn(AppState, Vec<String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = AppResult<Found<V>>> + Send + 'static,
    {
        Arc::new(Gather {
            queue: Mutex::new(Queue {
                waiting: Vec::new(),
                readers: 0,
            }),
            readers: readers.max(1),
            batch: batch.max(1),
            read_many: Box::new(move |state, keys| Box::pin(read_many(state, keys))),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Queue<V>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value of `key`, read with whatever other keys wait at the same moment.
    pub async fn read(self: &Arc<Self>, state: &AppState, key: &str) -> AppResult<Option<V>> {
        let (sender, receiver) = oneshot::channel();
        let start_reader = {
            let mut queue = self.lock();
            queue.waiting.push((key.to_owned(), sender));
            let start = queue.readers < self.readers;
            if start {
                queue.readers += 1;
            }
            start
        };
        if start_reader {
            // A task of its own: a request that is dropped must not drop the others' reads.
            let place = ReaderPlace {
                gather: self.clone(),
                given_back: false,
            };
            tokio::spawn(place.run(state.clone()));
        }
        match receiver.await {
            Ok(value) => value,
            // The reader ended without answering (the runtime is stopping): read alone.
            Err(_) => self.read_alone(state, key).await,
        }
    }

    async fn read_alone(&self, state: &AppState, key: &str) -> AppResult<Option<V>> {
        let mut found = (self.read_many)(state.clone(), vec![key.to_owned()]).await?;
        found.remove(key).transpose()
    }

    /// Takes the next batch: the first waiter of each key, up to `batch` keys. A key asked
    /// twice waits for the next batch, which then reads it again (the values need not be
    /// `Clone`, and the second asker may have come after a change).
    fn take_batch(&self, queue: &mut Queue<V>) -> Vec<Waiter<V>> {
        let mut keys = HashSet::new();
        let mut taken = Vec::new();
        let mut left = Vec::new();
        for waiter in queue.waiting.drain(..) {
            if keys.len() < self.batch && keys.insert(waiter.0.clone()) {
                taken.push(waiter);
            } else {
                left.push(waiter);
            }
        }
        queue.waiting = left;
        taken
    }

    async fn read_batch(&self, state: &AppState, batch: Vec<Waiter<V>>) {
        let keys = batch.iter().map(|(key, _)| key.clone()).collect();
        match (self.read_many)(state.clone(), keys).await {
            Ok(mut found) => {
                for (key, sender) in batch {
                    let _ = sender.send(found.remove(&key).transpose());
                }
            }
            Err(error) => {
                for (_, sender) in batch {
                    let _ = sender.send(Err(shared(&error)));
                }
            }
        }
    }
}

/// A batch's failure for each of its waiters: a database that is away or busy stays a 503
/// that may be retried; anything else is an internal error with the same text.
fn shared(error: &AppError) -> AppError {
    match error {
        AppError::Unavailable => AppError::Unavailable,
        AppError::Contention => AppError::Contention,
        AppError::Internal(cause) => {
            AppError::Internal(anyhow::anyhow!("reading a batch: {cause:#}"))
        }
        other => AppError::Internal(anyhow::anyhow!("reading a batch: {other}")),
    }
}

/// A reader's place among the gather's readers: given back under the queue's lock when the
/// reader finds the queue empty, or on drop if its task ended otherwise (a panic), so that a
/// lost reader never leaves keys waiting with no one to read them.
struct ReaderPlace<V> {
    gather: Arc<Gather<V>>,
    given_back: bool,
}

impl<V: Send + 'static> ReaderPlace<V> {
    async fn run(mut self, state: AppState) {
        loop {
            let batch = {
                let mut queue = self.gather.lock();
                if queue.waiting.is_empty() {
                    queue.readers -= 1;
                    self.given_back = true;
                    return;
                }
                self.gather.take_batch(&mut queue)
            };
            self.gather.read_batch(&state, batch).await;
        }
    }
}

impl<V> Drop for ReaderPlace<V> {
    fn drop(&mut self) {
        if !self.given_back {
            self.gather
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .readers -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_failure_keeps_its_kind_for_every_waiter() {
        assert!(matches!(
            shared(&AppError::Unavailable),
            AppError::Unavailable
        ));
        assert!(matches!(
            shared(&AppError::Contention),
            AppError::Contention
        ));
        let internal = shared(&AppError::Internal(anyhow::anyhow!("disk")));
        let AppError::Internal(cause) = internal else {
            unreachable!()
        };
        assert!(format!("{cause:#}").contains("disk"));
    }
}
