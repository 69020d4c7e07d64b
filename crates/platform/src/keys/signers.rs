//! Signers kept unsealed in memory for a short while, so a hot path (the pass) does not read and
//! unseal its key on every request. A rotation on any node is picked up within the lifetime.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tongban_crypto::SoftwareSigner;

/// How long an unsealed signer is used before its key is read again.
const LIFETIME_MS: i64 = 10_000;

/// (owner, purpose) → (when loaded, the signer).
type Entries = HashMap<(String, String), (i64, Arc<SoftwareSigner>)>;

#[derive(Default)]
pub struct SignerCache {
    entries: Mutex<Entries>,
}

impl SignerCache {
    /// The signer of (owner, purpose) when it was loaded less than its lifetime before `now`.
    pub fn fresh(&self, owner: &str, purpose: &str, now: i64) -> Option<Arc<SoftwareSigner>> {
        let entries = self.entries.lock().ok()?;
        let (loaded, signer) = entries.get(&(owner.to_owned(), purpose.to_owned()))?;
        (now - loaded < LIFETIME_MS).then(|| signer.clone())
    }

    /// Keeps `signer` as loaded at `now`.
    pub fn put(&self, owner: &str, purpose: &str, now: i64, signer: Arc<SoftwareSigner>) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert((owner.to_owned(), purpose.to_owned()), (now, signer));
        }
    }
}
