//! Signing and verifying certificates: every suite verifies; any change to any field, a key not
//! in the trust list, a swapped algorithm or a date outside the validity is refused; key order
//! in a copy does not matter (RFC 8785).

use serde_json::json;
use tongban_certs::{CertError, SignedCertificate, sign, verify};
use tongban_crypto::{SignatureAlgorithm, SoftwareSigner};

mod common;
use common::{at, licence, ring};

#[test]
fn every_suite_signs_and_verifies() {
    for algorithm in SignatureAlgorithm::ALL {
        let signer = SoftwareSigner::generate(algorithm, "scjgj-2026");
        let signed = sign(licence(), &signer).expect("signs");
        assert_eq!(signed.alg, algorithm.as_str());
        assert_eq!(
            verify(&signed, &ring(&signer), at("2026-11-26T10:00:00+08:00")),
            Ok(())
        );
    }
}

#[test]
fn a_copy_with_its_keys_in_another_order_still_verifies() {
    let signer = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "k1");
    let signed = sign(licence(), &signer).expect("signs");
    // Written in field order, indented: not the canonical form, which sorts keys.
    let text = serde_json::to_string_pretty(&signed).expect("text");
    let canonical = serde_json_canonicalizer::to_string(&signed).expect("canonical");
    assert_ne!(text, canonical);
    assert!(
        text.find("\"type_name\"") < text.find("\"holder\""),
        "field order, not sorted"
    );
    let copy: SignedCertificate = serde_json::from_str(&text).expect("parses");
    assert_eq!(
        verify(&copy, &ring(&signer), at("2026-11-26T10:00:00+08:00")),
        Ok(())
    );
}

/// One way to tamper with a signed certificate.
type Change = Box<dyn Fn(&mut SignedCertificate)>;

#[test]
fn any_changed_field_breaks_the_signature() {
    let signer = SoftwareSigner::generate(SignatureAlgorithm::Es256, "k1");
    let keys = ring(&signer);
    let signed = sign(licence(), &signer).expect("signs");
    let changes: Vec<Change> = vec![
        Box::new(|s| s.certificate.holder.name.push('X')),
        Box::new(|s| s.certificate.number.push('1')),
        Box::new(|s| s.certificate.valid_until = Some("2099-01-01".into())),
        Box::new(|s| s.certificate.valid_until = None),
        Box::new(|s| s.certificate.region = "339901".into()),
        Box::new(|s| s.certificate.time_zone = "-05:00".parse().ok()),
        Box::new(|s| s.certificate.time_zone = None),
        Box::new(|s| {
            s.certificate
                .items
                .insert("registered_capital".into(), json!("5000万元"));
        }),
        Box::new(|s| {
            s.certificate.items.remove("business_scope");
        }),
        Box::new(|s| s.certificate.issuer.name.push('X')),
        Box::new(|s| {
            s.certificate.status = Some(tongban_certs::StatusEntry {
                list: "elsewhere".into(),
                index: 7,
            });
        }),
    ];
    for (n, change) in changes.iter().enumerate() {
        let mut tampered = signed.clone();
        change(&mut tampered);
        assert_eq!(
            verify(&tampered, &keys, at("2026-11-26T10:00:00+08:00")),
            Err(CertError::BadSignature),
            "change {n}"
        );
    }
}

#[test]
fn refusals_name_their_reason() {
    let signer = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "k1");
    let keys = ring(&signer);
    let signed = sign(licence(), &signer).expect("signs");

    let mut unknown = signed.clone();
    unknown.kid = "other".into();
    assert_eq!(
        verify(&unknown, &keys, at("2026-11-26T10:00:00+08:00")),
        Err(CertError::UnknownKey)
    );

    let mut swapped = signed.clone();
    swapped.alg = "ES256".into();
    assert_eq!(
        verify(&swapped, &keys, at("2026-11-26T10:00:00+08:00")),
        Err(CertError::AlgorithmMismatch)
    );

    assert_eq!(
        verify(&signed, &keys, at("2047-01-01T10:00:00+08:00")),
        Err(CertError::OutsideValidity)
    );
    assert_eq!(
        verify(&signed, &keys, at("2025-12-31T10:00:00+08:00")),
        Err(CertError::OutsideValidity)
    );

    let mut bad_id = licence();
    bad_id.id.push('0');
    assert_eq!(sign(bad_id, &signer).err(), Some(CertError::BadIdentifier));

    let mut other_issuer = licence();
    other_issuer.issuer.code = "91339901MA2AAAAA1X".into();
    assert_eq!(
        sign(other_issuer, &signer).err(),
        Some(CertError::IdentifierMismatch)
    );

    let mut backwards = licence();
    backwards.valid_until = Some("2020-01-01".into());
    assert_eq!(sign(backwards, &signer).err(), Some(CertError::BadDates));
}

/// A licence issued on `day` in `zone`, valid from that day for a year.
fn issued_on(day: &str, until: &str, zone: &str) -> tongban_certs::Certificate {
    let mut certificate = licence();
    certificate.issued_on = day.into();
    certificate.valid_from = day.into();
    certificate.valid_until = Some(until.into());
    certificate.time_zone = Some(zone.parse().expect("zone"));
    certificate
}

#[test]
fn a_certificate_issued_after_midnight_in_beijing_is_valid_at_once_wherever_it_is_checked() {
    let signer = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "k1");
    let keys = ring(&signer);
    let signed = sign(issued_on("2026-12-04", "2027-12-03", "+08:00"), &signer).expect("signs");
    // 00:30 in Beijing is 16:30 the day before in UTC, and 08:30 the day before in California.
    assert_eq!(
        verify(&signed, &keys, at("2026-12-04T00:30:00+08:00")),
        Ok(())
    );
    assert_eq!(verify(&signed, &keys, at("2026-12-03T16:00:00Z")), Ok(()));
    assert_eq!(
        verify(&signed, &keys, at("2026-12-03T08:00:00-08:00")),
        Ok(())
    );
    // One second before midnight in Beijing it is not yet valid, whatever the UTC date.
    assert_eq!(
        verify(&signed, &keys, at("2026-12-03T15:59:59Z")),
        Err(CertError::OutsideValidity)
    );
}

#[test]
fn the_last_day_of_validity_ends_at_midnight_in_the_issuing_zone() {
    let signer = SoftwareSigner::generate(SignatureAlgorithm::Es256, "k1");
    let keys = ring(&signer);
    let signed = sign(issued_on("2026-12-04", "2027-12-03", "+08:00"), &signer).expect("signs");
    assert_eq!(
        verify(&signed, &keys, at("2027-12-03T23:30:00+08:00")),
        Ok(())
    );
    // 00:30 on the next day in Beijing, though UTC is still on the last day.
    assert_eq!(
        verify(&signed, &keys, at("2027-12-04T00:30:00+08:00")),
        Err(CertError::OutsideValidity)
    );
}

#[test]
fn a_certificate_from_a_region_west_of_utc_is_read_in_its_own_zone() {
    let signer = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "k1");
    let keys = ring(&signer);
    let signed = sign(issued_on("2026-12-03", "2027-12-02", "-05:00"), &signer).expect("signs");
    // 04:00 UTC on 3 December is still 2 December at UTC-5, and already the 3rd in Beijing.
    assert_eq!(
        verify(&signed, &keys, at("2026-12-03T04:00:00Z")),
        Err(CertError::OutsideValidity)
    );
    assert_eq!(verify(&signed, &keys, at("2026-12-03T05:00:00Z")), Ok(()));
}

#[test]
fn a_certificate_that_names_no_zone_was_issued_in_china_standard_time() {
    let signer = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "k1");
    let keys = ring(&signer);
    let mut older = issued_on("2026-12-04", "2027-12-03", "+08:00");
    older.time_zone = None;
    let signed = sign(older, &signer).expect("signs");
    let text = serde_json::to_string(&signed).expect("json");
    assert!(!text.contains("time_zone"), "absent, not null: {text}");
    assert_eq!(verify(&signed, &keys, at("2026-12-03T16:30:00Z")), Ok(()));
}

#[test]
fn a_zone_that_is_not_an_offset_is_refused_when_read() {
    let signer = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "k1");
    let signed = sign(licence(), &signer).expect("signs");
    let text = serde_json::to_string(&signed).expect("json");
    for zone in ["Asia/Shanghai", "+8", "+25:00", ""] {
        let bad = text.replace("\"+08:00\"", &format!("{zone:?}"));
        assert!(
            serde_json::from_str::<SignedCertificate>(&bad).is_err(),
            "{zone}"
        );
    }
}
