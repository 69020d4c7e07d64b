//! Property tests: every generated valid identifier parses, and any single-character change to a
//! valid identifier is refused.

use proptest::prelude::*;
use tongban_core::{CertificateId, CertificateType, RegionCode, RegionLevel, ResidentId, Uscc};

const COUNTIES: [&str; 6] = ["110105", "310104", "330106", "440305", "510107", "650102"];
const USCC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const ANY_ASCII: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz-* ";

fn resident_id() -> impl Strategy<Value = String> {
    (
        0..COUNTIES.len(),
        1900i32..2025,
        1u8..=12,
        1u8..=28,
        0u16..1000,
    )
        .prop_map(|(c, y, m, d, seq)| {
            let first17 = format!("{}{y:04}{m:02}{d:02}{seq:03}", COUNTIES[c]);
            let check = ResidentId::check_character(&first17).expect("17 digits");
            format!("{first17}{check}")
        })
}

fn uscc() -> impl Strategy<Value = String> {
    let authority = prop::sample::select(vec!['1', '5', '9', 'Y']);
    let kind = prop::sample::select(vec!['1', '2', '3', '9']);
    let body = prop::collection::vec(
        prop::sample::select(USCC_ALPHABET.chars().collect::<Vec<_>>()),
        9,
    );
    (authority, kind, 0..COUNTIES.len(), body).prop_map(|(a, k, c, body)| {
        let first17: String = format!(
            "{a}{k}{}{}",
            COUNTIES[c],
            body.into_iter().collect::<String>()
        );
        let check = Uscc::check_character(&first17).expect("alphabet");
        format!("{first17}{check}")
    })
}

const SERIAL_ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn certificate_id() -> impl Strategy<Value = String> {
    let serial = prop::collection::vec(
        prop::sample::select(SERIAL_ALPHABET.chars().collect::<Vec<_>>()),
        1..=20,
    );
    (uscc(), 1u16..=999, uscc(), serial, 1u16..=999).prop_map(
        |(authority, number, issuer, serial, version)| {
            let kind =
                CertificateType::new(authority.parse().expect("uscc"), number).expect("number");
            let serial: String = serial.into_iter().collect();
            CertificateId::new(kind, issuer.parse().expect("uscc"), &serial, version)
                .expect("valid parts")
                .to_string()
        },
    )
}

fn replace_at(text: &str, position: usize, with: char) -> String {
    text.chars()
        .enumerate()
        .map(|(i, c)| if i == position { with } else { c })
        .collect()
}

proptest! {
    #[test]
    fn every_generated_resident_id_parses(id in resident_id()) {
        let parsed: ResidentId = id.parse().expect("generated ids are valid");
        prop_assert_eq!(parsed.expose(), id.as_str());
    }

    #[test]
    fn any_single_character_change_to_a_resident_id_is_refused(
        id in resident_id(), position in 0usize..18, with in prop::sample::select(ANY_ASCII.chars().collect::<Vec<_>>())
    ) {
        let changed = replace_at(&id, position, with);
        prop_assume!(changed != id);
        prop_assert!(changed.parse::<ResidentId>().is_err(), "{} was accepted", changed);
    }

    #[test]
    fn every_generated_uscc_parses(code in uscc()) {
        let parsed: Uscc = code.parse().expect("valid");
        prop_assert_eq!(parsed.as_str(), code.as_str());
    }

    #[test]
    fn any_single_character_change_to_a_uscc_is_refused(
        code in uscc(), position in 0usize..18, with in prop::sample::select(ANY_ASCII.chars().collect::<Vec<_>>())
    ) {
        let changed = replace_at(&code, position, with);
        prop_assume!(changed != code);
        prop_assert!(changed.parse::<Uscc>().is_err(), "{} was accepted", changed);
    }

    #[test]
    fn every_county_code_has_a_prefecture_and_a_province_above_it(c in 0..COUNTIES.len()) {
        let county: RegionCode = COUNTIES[c].parse().expect("valid");
        prop_assert_eq!(county.level(), RegionLevel::County);
        let prefecture = county.parent().expect("parent");
        let province = prefecture.parent().expect("parent");
        prop_assert!(province.contains(&county));
        prop_assert_eq!(province.level(), RegionLevel::Province);
    }
}

proptest! {
    #[test]
    fn every_generated_certificate_id_parses_and_prints_back(id in certificate_id()) {
        let parsed: CertificateId = id.parse().expect("generated ids are valid");
        prop_assert_eq!(parsed.to_string(), id);
    }

    /// GB/T 36904's check character: a single changed character of the type code, issuer,
    /// serial, version or check is caught (the fixed arc is checked by its own comparison).
    #[test]
    fn any_single_character_change_to_a_certificate_id_is_refused(
        id in certificate_id(),
        offset in 0usize..100,
        with in prop::sample::select(ANY_ASCII.chars().collect::<Vec<_>>()),
    ) {
        let length = id.chars().count();
        let position = "1.2.156.3005.2.".len() + offset % (length - "1.2.156.3005.2.".len());
        let original = id.chars().nth(position).expect("in range");
        prop_assume!(original != with && original != '.');
        let changed = replace_at(&id, position, with);
        prop_assert!(changed.parse::<CertificateId>().is_err(), "{} was accepted", changed);
    }
}

proptest! {
    /// Any text spells as letters A–Z only, in boundedly many ways, without panicking.
    #[test]
    fn any_name_spells_as_bounded_capital_letters(name in "\\PC{0,40}", other in "\\PC{0,10}") {
        let spellings = tongban_core::names::spellings(&[&name, &other]);
        prop_assert!(spellings.len() <= tongban_core::names::MAX_SPELLINGS);
        prop_assert!(spellings.iter().all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase())));
        prop_assert!(tongban_core::names::registered_spellings(&name).len() <= 2 * tongban_core::names::MAX_SPELLINGS);
    }
}
