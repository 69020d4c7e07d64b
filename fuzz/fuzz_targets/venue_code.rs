//! Fuzzes the venue-code parser: no text may panic it, and what it accepts prints back as the
//! same text (one spelling per code, so a tag is checked against exactly what was issued).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_core::VenueCode;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(code) = text.parse::<VenueCode>() {
        assert_eq!(code.to_string(), text);
        assert!(code.number >= 0);
    }
});
