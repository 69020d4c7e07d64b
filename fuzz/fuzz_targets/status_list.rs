//! Fuzzes what a verifier decodes from outside: a status list's bitstring (Base64url of GZIP,
//! bounded against compression bombs), and a status list or annotated copy as JSON. Nothing may
//! panic; a decoded bitstring is within the bounds, and every bit of it can be read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_certs::status;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(bytes) = status::decode(text) {
        let bits = bytes.len() as u64 * 8;
        assert!((status::MIN_BITS..=status::MAX_BITS).contains(&bits));
        assert!(status::bit(&bytes, bits - 1).is_some());
        assert!(status::bit(&bytes, bits).is_none());
    }
    let _ = serde_json::from_str::<status::SignedStatusList>(text);
    let _ = serde_json::from_str::<tongban_certs::copy::SignedCopy>(text);
});
