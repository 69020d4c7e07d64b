//! Fuzzes the identifier parsers and the name speller: no input may panic them, and whatever parses keeps the
//! invariants the rest of tongban relies on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_core::{CertificateId, RegionCode, RegionLevel, ResidentId, Uscc, Zone};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(id) = text.parse::<ResidentId>() {
        assert_eq!(id.expose(), text);
        assert_eq!(id.masked().chars().count(), 18);
        assert!(!format!("{id:?}").contains(&text[2..16]), "Debug never shows the number");
        let _ = id.birth_date();
    }
    if let Ok(code) = text.parse::<Uscc>() {
        assert_eq!(code.as_str(), text);
        assert_eq!(Uscc::check_character(&text[..17]), text.chars().nth(17));
    }
    if let Ok(id) = text.parse::<CertificateId>() {
        // One spelling per certificate: what parses prints back the same.
        assert_eq!(id.to_string(), text);
    }
    if let Ok(zone) = text.parse::<Zone>() {
        // A zone prints back as it was written (`Z` as `+00:00`), and any instant has a day.
        if text != "Z" {
            assert_eq!(zone.to_string(), text);
        }
        let _ = zone.date_of(i64::from_le_bytes(*b"tongban!"));
    }
    if let Ok(region) = text.parse::<RegionCode>() {
        // Every region reaches the nation in at most five steps, each one containing the last.
        let mut current = region.clone();
        for _ in 0..6 {
            match current.parent() {
                Some(parent) => {
                    assert!(parent.contains(&region), "{parent:?} should contain {region:?}");
                    assert!(parent.level() < current.level());
                    current = parent;
                }
                None => break,
            }
        }
        assert_eq!(current.level(), RegionLevel::National);
    }
    // Any name spells as letters A–Z only, and boundedly many ways.
    let parts: Vec<&str> = text.split('\u{0}').collect();
    let spellings = tongban_core::names::spellings(&parts);
    assert!(spellings.len() <= tongban_core::names::MAX_SPELLINGS);
    assert!(spellings.iter().all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase())));
    assert!(tongban_core::names::registered_spellings(text).len() <= 2 * tongban_core::names::MAX_SPELLINGS);
});
