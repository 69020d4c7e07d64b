//! Signing and verifying certificates: every suite verifies; any change to any field, a key not
//! in the trust list, a swapped algorithm or a date outside the validity is refused; key order
//! in a copy does not matter (RFC 8785).

use serde_json::json;
use tongban_certs::{CertError, SignedCertificate, sign, verify};
use tongban_crypto::{SignatureAlgorithm, SoftwareSigner};

mod common;
use common::{day, licence, ring};

#[test]
fn every_suite_signs_and_verifies() {
    for algorithm in SignatureAlgorithm::ALL {
        let signer = SoftwareSigner::generate(algorithm, "scjgj-2026");
        let signed = sign(licence(), &signer).expect("signs");
        assert_eq!(signed.alg, algorithm.as_str());
        assert_eq!(verify(&signed, &ring(&signer), day("2026-11-26")), Ok(()));
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
    assert_eq!(verify(&copy, &ring(&signer), day("2026-11-26")), Ok(()));
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
            verify(&tampered, &keys, day("2026-11-26")),
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
        verify(&unknown, &keys, day("2026-11-26")),
        Err(CertError::UnknownKey)
    );

    let mut swapped = signed.clone();
    swapped.alg = "ES256".into();
    assert_eq!(
        verify(&swapped, &keys, day("2026-11-26")),
        Err(CertError::AlgorithmMismatch)
    );

    assert_eq!(
        verify(&signed, &keys, day("2047-01-01")),
        Err(CertError::OutsideValidity)
    );
    assert_eq!(
        verify(&signed, &keys, day("2025-12-31")),
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
