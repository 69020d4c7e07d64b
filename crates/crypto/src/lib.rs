//! tongban-crypto: the signing suites (Ed25519, ECDSA P-256, SM2 with SM3), hashes (SHA-256,
//! SM3), sealing (AES-256-GCM, SM4-GCM) and keyed digests of tongban, chosen by profile.
//! No IO. Private key bytes never leave this crate except sealed under another key, so a
//! hardware module can stand behind the same [`Signer`] interface.
#![forbid(unsafe_code)]

mod aead;
mod hash;
mod keyring;
mod sign;
mod spki;
mod suite;

pub use aead::{SealingKey, random_bytes};
pub use hash::{Digest32, digest, digest_parts, keyed_digest};
pub use keyring::KeyRing;
pub use sign::{PublicKey, Signer, SoftwareSigner, verify};
pub use suite::{AeadAlgorithm, HashAlgorithm, Profile, SignatureAlgorithm};

/// Why a cryptographic operation failed. Carries no secret and no detail an attacker could use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the key is malformed or of another algorithm")]
    BadKey,
    #[error("the sealed data is malformed or was altered")]
    BadSeal,
    #[error("unknown algorithm")]
    UnknownAlgorithm,
    #[error("no key with that id")]
    UnknownKey,
}
