//! Fuzzes the SMART Health Card decoders on arbitrary text: numeric QR text, files and JWS.
//! Nothing may panic, and inflating is bounded, whatever the input claims.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_codes::shc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(jws) = shc::numeric_to_jws(text) {
        assert!(jws.len() * 2 + shc::SHC_PREFIX.len() == text.len());
    }
    let _ = shc::verify_any(text, &shc::Issuers::default(), 1_800_000_000);
});
