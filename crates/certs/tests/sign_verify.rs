//! Signing and verifying certificates: every suite verifies; any change to any field, a key not
//! in the trust list, a swapped algorithm or a date outside the validity is refused; key order
//! in a copy does not matter (RFC 8785).

use std::collections::BTreeMap;

use serde_json::json;
use tongban_certs::{
    Authority, CertError, Certificate, Holder, HolderCodeType, SignedCertificate, sign, verify,
};
use tongban_core::{CertificateId, CertificateType};
use tongban_crypto::{KeyRing, SignatureAlgorithm, Signer, SoftwareSigner};

const MARKET_REGULATOR: &str = "91350100M000100Y43";

fn day(text: &str) -> time::Date {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .expect("date")
}

fn licence() -> Certificate {
    let authority = MARKET_REGULATOR.parse().expect("uscc");
    let kind = CertificateType::new(authority, 1).expect("type");
    let id = CertificateId::new(
        kind.clone(),
        MARKET_REGULATOR.parse().expect("uscc"),
        "LJ2026000001",
        1,
    )
    .expect("id");
    let mut items = BTreeMap::new();
    items.insert("name".to_owned(), json!("临江清源食品有限公司"));
    items.insert("registered_capital".to_owned(), json!("500万元"));
    items.insert("business_scope".to_owned(), json!(["食品销售", "餐饮服务"]));
    Certificate {
        id: id.to_string(),
        type_name: "营业执照".into(),
        type_code: kind.to_string(),
        number: "91339901MA2AAAAA1X".into(),
        holder: Holder {
            name: "临江清源食品有限公司".into(),
            code: "91339901MA2AAAAA1X".into(),
            code_type: HolderCodeType::Uscc,
        },
        issuer: Authority {
            name: "临江市市场监督管理局".into(),
            code: MARKET_REGULATOR.into(),
        },
        issued_on: "2026-01-15".into(),
        valid_from: "2026-01-15".into(),
        valid_until: Some("2046-01-14".into()),
        region: "339900".into(),
        items,
    }
}

fn ring(signer: &SoftwareSigner) -> KeyRing {
    let mut ring = KeyRing::new();
    ring.insert(signer.kid(), signer.public_key());
    ring
}

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
