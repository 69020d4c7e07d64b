//! Signing and verifying under each of the platform's algorithms, and the ways a signed file
//! is refused: altered, extended, signed under another chain.

use tongban_crypto::{SignatureAlgorithm, Signer, SoftwareSigner};
use tongban_pades::cert::{self, Issuer, Request};
use tongban_pades::{CONTENTS_LEN, PadesError};

const NOW: u64 = 1_796_000_000;

/// A small PDF with a signature slot, as `tongban_gongwen::pdf` writes one.
fn unsigned() -> Vec<u8> {
    format!(
        "%PDF-1.7\n1 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached \
         /M (D:20261207101500+08'00') /ByteRange [0 1000000000 1000000000 1000000000] \
         /Contents ({}) >>\nendobj\n%%EOF\n",
        "0".repeat(CONTENTS_LEN)
    )
    .into_bytes()
}

fn chain(algorithm: SignatureAlgorithm) -> (SoftwareSigner, Vec<Vec<u8>>) {
    let root_key = SoftwareSigner::generate(algorithm, "root");
    let root = cert::issue(
        &Request {
            subject: "CN=临江市电子公文根证书,O=临江市,C=CN",
            public_key: &root_key.public_key(),
            serial: [7; 16],
            not_before: NOW - 86_400,
            not_after: NOW + 20 * 365 * 86_400,
            ca: true,
        },
        &Issuer {
            signer: &root_key,
            certificate: None,
        },
    )
    .expect("root");
    let key = SoftwareSigner::generate(algorithm, "organ");
    let organ = cert::issue(
        &Request {
            subject: "CN=临江区政务服务管理局,O=临江市,C=CN",
            public_key: &key.public_key(),
            serial: [9; 16],
            not_before: NOW - 86_400,
            not_after: NOW + 3 * 365 * 86_400,
            ca: false,
        },
        &Issuer {
            signer: &root_key,
            certificate: Some(&root),
        },
    )
    .expect("organ");
    (key, vec![organ, root])
}

#[test]
fn each_algorithm_signs_and_verifies() {
    for algorithm in SignatureAlgorithm::ALL {
        let (key, chain) = chain(algorithm);
        let signed = tongban_pades::sign(unsigned(), &key, &chain).expect("signed");
        assert_eq!(
            signed.len(),
            unsigned().len(),
            "{algorithm}: signed in place"
        );
        let verified = tongban_pades::verify(&signed).expect("verifies");
        assert_eq!(verified.algorithm, algorithm);
        assert_eq!(verified.signer, "CN=临江区政务服务管理局,O=临江市,C=CN");
        assert_eq!(verified.root(), chain[1].as_slice());
        assert_eq!(verified.chain.len(), 2);
        assert_eq!(verified.time.as_deref(), Some("D:20261207101500+08'00'"));
    }
}

#[test]
fn a_changed_or_extended_file_is_refused() {
    let (key, chain) = chain(SignatureAlgorithm::Es256);
    let signed = tongban_pades::sign(unsigned(), &key, &chain).expect("signed");
    let mut altered = signed.clone();
    altered[3] = b'X';
    assert_eq!(
        tongban_pades::verify(&altered).expect_err("refused"),
        PadesError::Altered
    );
    let mut extended = signed.clone();
    extended.extend_from_slice(b"1 0 obj\n(more)\nendobj\n");
    assert_eq!(
        tongban_pades::verify(&extended).expect_err("refused"),
        PadesError::NotWholeFile
    );
    // The signature itself changed: one hex digit inside the CMS.
    let text = String::from_utf8(signed.clone()).expect("ASCII");
    let at = text.find("/Contents <").expect("signed") + 400;
    let mut forged = signed.clone();
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    assert!(tongban_pades::verify(&forged).is_err());
    assert_eq!(
        tongban_pades::verify(&unsigned()).expect_err("refused"),
        PadesError::NotWholeFile
    );
    assert_eq!(
        tongban_pades::verify(b"%PDF-1.7\n%%EOF").expect_err("refused"),
        PadesError::Unsigned
    );
}

#[test]
fn a_chain_not_signed_by_its_root_is_refused() {
    let (key, mut own) = chain(SignatureAlgorithm::Es256);
    let (_, other) = chain(SignatureAlgorithm::Es256);
    // The organ's certificate with another deployment's root of the same name.
    own[1] = other[1].clone();
    let signed = tongban_pades::sign(unsigned(), &key, &own).expect("signed");
    assert_eq!(
        tongban_pades::verify(&signed).expect_err("refused"),
        PadesError::BadChain
    );
}

#[test]
fn a_file_without_a_slot_or_too_small_a_slot_is_not_signed() {
    let (key, chain) = chain(SignatureAlgorithm::Es256);
    assert_eq!(
        tongban_pades::sign(b"%PDF-1.7\n%%EOF".to_vec(), &key, &chain).expect_err("refused"),
        PadesError::NoSlot
    );
    let small = String::from_utf8(unsigned())
        .expect("ASCII")
        .replace(&"0".repeat(CONTENTS_LEN), &"0".repeat(64))
        .into_bytes();
    assert_eq!(
        tongban_pades::sign(small, &key, &chain).expect_err("refused"),
        PadesError::SlotTooSmall
    );
}

#[test]
fn certificates_round_trip_through_pem() {
    let (_, chain) = chain(SignatureAlgorithm::Sm2Sm3);
    let pem = cert::pem(&chain[1]).expect("pem");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(cert::from_pem(&pem).expect("der"), chain[1]);
    assert_eq!(
        cert::subject(&chain[0]).expect("subject"),
        "CN=临江区政务服务管理局,O=临江市,C=CN"
    );
}
