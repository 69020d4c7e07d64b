//! Signers kept unsealed in memory for a short while, so a hot path (the pass) does not read and
//! unseal its key on every request. A rotation on any node is picked up within the lifetime
//! and the time one read of the key takes.
//!
//! A signer past its lifetime is read again by one request, in the background, while every
//! request goes on signing with the one held: were each request that finds it old to read the
//! key itself, every pass answered at that moment would queue for a database connection behind
//! whatever else the node is doing (a flood of searches holds them all) — the pass path's tail
//! would be the database's. Only past [`STALE_LIMIT_MS`] (the database unreachable that long)
//! does a request read the key itself, and fail with it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tongban_crypto::SoftwareSigner;

/// How long an unsealed signer is used before its key is read again.
pub const LIFETIME_MS: i64 = 10_000;
/// How long a signer is used while its key cannot be read again.
pub const STALE_LIMIT_MS: i64 = 60_000;

struct Slot {
    loaded: i64,
    signer: Arc<SoftwareSigner>,
    /// A request is reading the key again.
    refreshing: bool,
}

/// (owner, purpose) → the signer held.
type Entries = HashMap<(String, String), Slot>;

#[derive(Default)]
pub struct SignerCache {
    entries: Mutex<Entries>,
}

/// What the cache holds for a signer at a moment.
pub enum Held {
    /// Within its lifetime.
    Fresh(Arc<SoftwareSigner>),
    /// Past its lifetime, within the stale limit: use it; `refresh` is true for the one caller
    /// that is to read the key again (and then [`SignerCache::put`] or
    /// [`SignerCache::refresh_failed`]).
    Stale {
        signer: Arc<SoftwareSigner>,
        refresh: bool,
    },
    /// Nothing usable: read the key now.
    Missing,
}

impl SignerCache {
    /// The signer of (owner, purpose) as held at `now`.
    pub fn held(&self, owner: &str, purpose: &str, now: i64) -> Held {
        let Ok(mut entries) = self.entries.lock() else {
            return Held::Missing;
        };
        let Some(slot) = entries.get_mut(&(owner.to_owned(), purpose.to_owned())) else {
            return Held::Missing;
        };
        let age = now - slot.loaded;
        if age < LIFETIME_MS {
            return Held::Fresh(slot.signer.clone());
        }
        if age >= STALE_LIMIT_MS {
            return Held::Missing;
        }
        let refresh = !slot.refreshing;
        slot.refreshing = true;
        Held::Stale {
            signer: slot.signer.clone(),
            refresh,
        }
    }

    /// Keeps `signer` as loaded at `now`.
    pub fn put(&self, owner: &str, purpose: &str, now: i64, signer: Arc<SoftwareSigner>) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(
                (owner.to_owned(), purpose.to_owned()),
                Slot {
                    loaded: now,
                    signer,
                    refreshing: false,
                },
            );
        }
    }

    /// A reading of the key again failed: the next request past the lifetime tries again.
    pub fn refresh_failed(&self, owner: &str, purpose: &str) {
        if let Ok(mut entries) = self.entries.lock()
            && let Some(slot) = entries.get_mut(&(owner.to_owned(), purpose.to_owned()))
        {
            slot.refreshing = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a_signer() -> Arc<SoftwareSigner> {
        Arc::new(SoftwareSigner::generate(
            tongban_crypto::SignatureAlgorithm::Ed25519,
            "k",
        ))
    }

    #[test]
    fn an_old_signer_is_used_while_one_caller_reads_it_again() {
        let cache = SignerCache::default();
        assert!(matches!(cache.held("r", "pass", 0), Held::Missing));
        cache.put("r", "pass", 0, a_signer());
        assert!(matches!(
            cache.held("r", "pass", LIFETIME_MS - 1),
            Held::Fresh(_)
        ));
        // Past its lifetime: the first caller refreshes, the others only use it.
        assert!(matches!(
            cache.held("r", "pass", LIFETIME_MS),
            Held::Stale { refresh: true, .. }
        ));
        assert!(matches!(
            cache.held("r", "pass", LIFETIME_MS + 5),
            Held::Stale { refresh: false, .. }
        ));
        // The reading failed: the next caller tries again.
        cache.refresh_failed("r", "pass");
        assert!(matches!(
            cache.held("r", "pass", LIFETIME_MS + 10),
            Held::Stale { refresh: true, .. }
        ));
        // Past the stale limit nothing is used without reading the key.
        assert!(matches!(
            cache.held("r", "pass", STALE_LIMIT_MS),
            Held::Missing
        ));
        // Read again: fresh from then.
        cache.put("r", "pass", STALE_LIMIT_MS, a_signer());
        assert!(matches!(
            cache.held("r", "pass", STALE_LIMIT_MS + 1),
            Held::Fresh(_)
        ));
    }
}
