//! Fuzzes the signed-checkpoint parser: arbitrary text never panics it, and nothing but the
//! real signature verifies.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tongban_crypto::{PublicKey, SignatureAlgorithm, Signer, SoftwareSigner};
use tongban_ledger::SignedCheckpoint;

fn key() -> &'static PublicKey {
    static KEY: OnceLock<PublicKey> = OnceLock::new();
    KEY.get_or_init(|| SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "fuzz").public_key())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The private key is thrown away, so no input can carry a valid signature.
    assert!(SignedCheckpoint::verify(text, "tongban.fuzz/audit", key()).is_err());
});
