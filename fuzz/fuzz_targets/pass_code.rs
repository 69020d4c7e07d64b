//! Fuzzes the pass-code decoder and verifier with arbitrary text: every input is refused with
//! a reason or verified, never a panic, and no input verifies without the real key.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tongban_crypto::{KeyRing, SignatureAlgorithm, Signer, SoftwareSigner};

fn keys() -> &'static KeyRing {
    static KEYS: OnceLock<KeyRing> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut ring = KeyRing::new();
        // The private half is dropped at once, so nothing can carry a valid signature.
        let signer = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "pass-1");
        ring.insert("pass-1", signer.public_key());
        ring
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = tongban_codes::decode("TB1:", &text);
    let _ = tongban_codes::decode("TB1:", &format!("TB1:{}", base45::encode(data)));
    assert!(tongban_codes::verify_pass(&text, keys(), 1_790_000_000, &["tongban.339900".to_owned()]).is_err());
});
