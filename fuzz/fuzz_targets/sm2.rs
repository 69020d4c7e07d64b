//! Differential fuzzing of tongban's SM2 against RustCrypto's `sm2` crate: for any bytes taken
//! as a SEC1 key, a signature and a message, both accept the same keys and both give the same
//! verdict; neither panics. A fixed key's signatures over the message must verify on both.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sm2::dsa::signature::{Signer as _, Verifier as _};

const ID: &str = "1234567812345678";

fn signer() -> &'static (tongban_sm2::SigningKey, sm2::dsa::SigningKey) {
    static KEY: OnceLock<(tongban_sm2::SigningKey, sm2::dsa::SigningKey)> = OnceLock::new();
    KEY.get_or_init(|| {
        let secret = [0x42u8; 32];
        (
            tongban_sm2::SigningKey::from_bytes(&secret, ID.as_bytes()).expect("key"),
            sm2::dsa::SigningKey::from_slice(ID, &secret).expect("key"),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let key_len = match data.first() {
        Some(4) => 65,
        _ => 33,
    };
    if data.len() < key_len + 64 {
        return;
    }
    let (key, rest) = data.split_at(key_len);
    let (signature, message) = rest.split_at(64);

    let ours = tongban_sm2::VerifyingKey::from_sec1(key, ID.as_bytes());
    if key[0] == 5 {
        // RustCrypto also reads the "compact" form (tag 5, x only); tongban takes SEC1's
        // compressed and uncompressed points only.
        assert!(ours.is_err(), "tag 5 refused");
        return;
    }
    let theirs = sm2::dsa::VerifyingKey::from_sec1_bytes(ID, key);
    assert_eq!(ours.is_ok(), theirs.is_ok(), "key acceptance differs");
    if let (Ok(ours), Ok(theirs)) = (ours, theirs) {
        let their_verdict = sm2::dsa::Signature::from_slice(signature)
            .map(|s| theirs.verify(message, &s).is_ok())
            .unwrap_or(false);
        assert_eq!(ours.verify(message, signature).is_ok(), their_verdict);
    }

    let (our_signer, their_signer) = signer();
    let signature = our_signer.sign(message);
    let reference: sm2::dsa::Signature = their_signer.sign(message);
    assert_eq!(signature, reference.to_bytes().as_slice());
    assert!(
        our_signer
            .verifying_key()
            .verify(message, &signature)
            .is_ok()
    );
});
