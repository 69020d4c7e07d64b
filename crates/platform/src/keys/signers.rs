//! Signers kept unsealed in memory for a short while, so a hot path (the pass) does not read and
//! unseal its key on every request. A signer past its lifetime is read again in the background
//! while the one held goes on signing (see [`crate::refreshing`]); a rotation on any node
//! is picked up within the lifetime and the time one reading takes.

use std::sync::Arc;

use tongban_crypto::SoftwareSigner;

/// How long an unsealed signer is used before its key is read again.
pub const LIFETIME_MS: i64 = 10_000;
/// How long a signer is used while its key cannot be read again.
pub const STALE_LIMIT_MS: i64 = 60_000;

/// The signers held, by owner and purpose.
pub type SignerCache = crate::refreshing::Refreshing<Arc<SoftwareSigner>>;

pub fn cache() -> SignerCache {
    SignerCache::new(LIFETIME_MS, STALE_LIMIT_MS)
}

/// The key of an owner's signer for a purpose.
pub fn key(owner: &str, purpose: &str) -> String {
    format!("{owner}\u{1f}{purpose}")
}
