//! Values a hot path reads on every request and the database holds — the pass's signer, the
//! health code's policy and emergency switch — kept for a short lifetime and read again without
//! making the hot path wait.
//!
//! A value past its lifetime is read again by one caller, in the background, while every caller
//! goes on with the one held. Were each caller that finds it old to read it itself, every
//! request of that moment would queue for a database connection behind whatever else the node
//! is doing (a flood of searches holds them all), and the hot path's tail would be the
//! database's. Only past the stale limit (the database unreachable that long) does a caller
//! read the value itself, and fail with it. A change made on this node [`Refreshing::forget`]s
//! the value, so the next caller reads it at once, and a reading that began before the change
//! cannot put its older answer back.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::AppResult;

struct Slot<V> {
    loaded: i64,
    value: V,
    /// A caller is reading the value again.
    refreshing: bool,
}

/// Values by key, each kept `lifetime_ms` and used up to `stale_limit_ms` while it is read
/// again.
pub struct Refreshing<V> {
    lifetime_ms: i64,
    stale_limit_ms: i64,
    slots: Mutex<HashMap<String, Slot<V>>>,
    /// Bumped by every [`Refreshing::forget`]: a reading that began before does not put its
    /// answer.
    generation: AtomicU64,
}

/// What is held for a key at a moment.
enum Held<V> {
    Fresh(V),
    /// Usable; `refresh` for the one caller that is to read it again.
    Stale {
        value: V,
        refresh: bool,
    },
    Missing,
}

impl<V: Clone + Send + Sync + 'static> Refreshing<V> {
    pub fn new(lifetime_ms: i64, stale_limit_ms: i64) -> Refreshing<V> {
        Refreshing {
            lifetime_ms,
            stale_limit_ms: stale_limit_ms.max(lifetime_ms),
            slots: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }

    fn held(&self, key: &str, now: i64) -> Held<V> {
        let Ok(mut slots) = self.slots.lock() else {
            return Held::Missing;
        };
        let Some(slot) = slots.get_mut(key) else {
            return Held::Missing;
        };
        let age = now - slot.loaded;
        if (0..self.lifetime_ms).contains(&age) {
            return Held::Fresh(slot.value.clone());
        }
        if !(0..self.stale_limit_ms).contains(&age) {
            return Held::Missing;
        }
        let refresh = !slot.refreshing;
        slot.refreshing = true;
        Held::Stale {
            value: slot.value.clone(),
            refresh,
        }
    }

    fn put(&self, key: &str, loaded: i64, value: V, generation: u64) {
        if let Ok(mut slots) = self.slots.lock()
            && self.generation.load(Ordering::Acquire) == generation
        {
            slots.insert(
                key.to_owned(),
                Slot {
                    loaded,
                    value,
                    refreshing: false,
                },
            );
        }
    }

    fn refresh_failed(&self, key: &str) {
        if let Ok(mut slots) = self.slots.lock()
            && let Some(slot) = slots.get_mut(key)
        {
            slot.refreshing = false;
        }
    }

    /// Drops every value (a change was made): the next caller reads it.
    pub fn forget(&self) {
        if let Ok(mut slots) = self.slots.lock() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            slots.clear();
        }
    }

    /// The value of `key` at `now`: held, or read with `load` — in the background when an
    /// older value may be used meanwhile.
    pub async fn get<F, Fut>(self: &Arc<Self>, key: &str, now: i64, load: F) -> AppResult<V>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = AppResult<V>> + Send + 'static,
    {
        let generation = self.generation.load(Ordering::Acquire);
        match self.held(key, now) {
            Held::Fresh(value) => Ok(value),
            Held::Stale { value, refresh } => {
                if refresh {
                    let (this, key, reading) = (self.clone(), key.to_owned(), load());
                    tokio::spawn(async move {
                        match reading.await {
                            Ok(fresh) => this.put(&key, now, fresh, generation),
                            Err(error) => {
                                tracing::warn!(%key, %error, "a value could not be read again; the one held is used meanwhile");
                                this.refresh_failed(&key);
                            }
                        }
                    });
                }
                Ok(value)
            }
            Held::Missing => {
                let fresh = load().await?;
                self.put(key, now, fresh.clone(), generation);
                Ok(fresh)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A reader that counts its readings and answers `answer`.
    fn reader(
        reads: &Arc<AtomicUsize>,
        answer: u32,
    ) -> impl FnOnce() -> std::pin::Pin<Box<dyn Future<Output = AppResult<u32>> + Send>> {
        let reads = reads.clone();
        move || {
            Box::pin(async move {
                reads.fetch_add(1, Ordering::SeqCst);
                Ok(answer)
            })
        }
    }

    #[tokio::test]
    async fn an_old_value_is_used_while_one_caller_reads_it_again() {
        let cache = Arc::new(Refreshing::<u32>::new(1_000, 60_000));
        let reads = Arc::new(AtomicUsize::new(0));
        assert_eq!(cache.get("k", 0, reader(&reads, 1)).await.ok(), Some(1));
        assert_eq!(cache.get("k", 999, reader(&reads, 2)).await.ok(), Some(1));
        assert_eq!(reads.load(Ordering::SeqCst), 1, "fresh: not read again");
        // Past its lifetime: the held value answers; one reading starts in the background.
        assert_eq!(cache.get("k", 1_000, reader(&reads, 2)).await.ok(), Some(1));
        assert_eq!(cache.get("k", 1_001, reader(&reads, 3)).await.ok(), Some(1));
        for _ in 0..100 {
            if cache.get("k", 1_002, reader(&reads, 4)).await.ok() == Some(2) {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(cache.get("k", 1_002, reader(&reads, 4)).await.ok(), Some(2));
        assert_eq!(
            reads.load(Ordering::SeqCst),
            2,
            "one reading, not one per caller"
        );
        // Past the stale limit the caller reads it itself.
        assert_eq!(
            cache.get("k", 70_000, reader(&reads, 5)).await.ok(),
            Some(5)
        );
    }

    #[tokio::test]
    async fn a_reading_that_began_before_a_change_does_not_put_its_answer_back() {
        let cache = Arc::new(Refreshing::<u32>::new(1_000, 60_000));
        let reads = Arc::new(AtomicUsize::new(0));
        cache.get("k", 0, reader(&reads, 1)).await.expect("read");
        let (release, wait) = tokio::sync::oneshot::channel::<()>();
        // A slow reading of the old value starts…
        let old = cache
            .get("k", 1_500, move || {
                Box::pin(async move {
                    let _ = wait.await;
                    Ok(1)
                })
            })
            .await;
        assert_eq!(old.ok(), Some(1));
        // …the value changes on this node, and the next caller reads the new one…
        cache.forget();
        assert_eq!(cache.get("k", 1_600, reader(&reads, 7)).await.ok(), Some(7));
        // …and the slow reading ends: its older answer is not kept.
        let _ = release.send(());
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert_eq!(cache.get("k", 1_700, reader(&reads, 8)).await.ok(), Some(7));
    }

    #[tokio::test]
    async fn a_failed_reading_is_tried_again_by_the_next_caller() {
        let cache = Arc::new(Refreshing::<u32>::new(1_000, 60_000));
        let reads = Arc::new(AtomicUsize::new(0));
        cache.get("k", 0, reader(&reads, 1)).await.expect("read");
        let failing = || {
            Box::pin(async { Err(crate::error::AppError::Unavailable) })
                as std::pin::Pin<Box<dyn Future<Output = AppResult<u32>> + Send>>
        };
        assert_eq!(cache.get("k", 2_000, failing).await.ok(), Some(1));
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert_eq!(cache.get("k", 2_001, reader(&reads, 3)).await.ok(), Some(1));
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert_eq!(cache.get("k", 2_002, reader(&reads, 4)).await.ok(), Some(3));
    }
}
