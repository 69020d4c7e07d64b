//! The DCC decoder's own limits and shapes, without test vectors: zip bombs and deep CBOR are
//! refused without exhausting memory or stack, the COSE_Sign1 is read tagged, untagged or
//! inside the CWT tag, and the key id is taken from the protected header first.
//! (The dgc-testdata suite itself runs in `tongban-app`'s conformance tests.)

use coset::{CborSerializable, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana};
use tongban_codes::dcc::{self, DccClaims, DccError, Dsc, TrustList};
use tongban_codes::{DecodeError, parse_sign1};

fn hc1(cose: &[u8]) -> String {
    let zlib = miniz_oxide::deflate::compress_to_vec_zlib(cose, 6);
    format!("HC1:{}", base45::encode(&zlib))
}

fn message(payload: Vec<u8>) -> coset::CoseSign1 {
    CoseSign1Builder::new()
        .protected(
            HeaderBuilder::new()
                .algorithm(iana::Algorithm::ES256)
                .key_id(b"protectd".to_vec())
                .build(),
        )
        .unprotected(HeaderBuilder::new().key_id(b"unprotec".to_vec()).build())
        .payload(payload)
        .signature(vec![0; 64])
        .build()
}

#[test]
fn a_zip_bomb_is_refused_at_the_compression_step() {
    let bomb = vec![0u8; 8 * 1024 * 1024];
    let zlib = miniz_oxide::deflate::compress_to_vec_zlib(&bomb, 9);
    let text = format!("HC1:{}", base45::encode(&zlib));
    assert!(text.len() < 30_000, "{}", text.len());
    // Too long for a QR code in the first place…
    assert_eq!(
        dcc::cose_bytes(&text),
        Err(DccError::Decode(DecodeError::TooLong))
    );
    // …and a short one that inflates past the limit stops there.
    let small = miniz_oxide::deflate::compress_to_vec_zlib(&vec![0u8; 200 * 1024], 9);
    let text = format!("HC1:{}", base45::encode(&small));
    assert!(text.len() < 4_000);
    assert_eq!(
        dcc::cose_bytes(&text),
        Err(DccError::Decode(DecodeError::Compression))
    );
}

#[test]
fn an_uncompressed_body_is_refused() {
    let cose = message(vec![0xa0]).to_tagged_vec().expect("cbor");
    let text = format!("HC1:{}", base45::encode(&cose));
    assert_eq!(
        dcc::cose_bytes(&text),
        Err(DccError::Decode(DecodeError::Compression))
    );
}

#[test]
fn deep_cbor_is_refused_without_exhausting_the_stack() {
    let depth = 200_000;
    let mut deep = vec![0x81u8; depth]; // arrays of one element, nested
    deep.push(0x00);
    assert_eq!(parse_sign1(&deep).map(drop), Err(DecodeError::Cose));
    // The same depth inside the payload of a well-formed message.
    let sign1 = message(deep.clone());
    assert!(matches!(dcc::claims(&sign1), Err(DccError::BadClaims(_))));
    // And as the certificate under claim -260.
    let mut claims = vec![0xa3, 0x04, 0x1a, 0x70, 0, 0, 0, 0x06, 0x1a, 0x60, 0, 0, 0];
    claims.extend([0x39, 0x01, 0x03, 0xa1, 0x01]); // -260: {1: <deep>}
    claims.extend(&deep);
    assert!(matches!(
        dcc::claims(&message(claims)),
        Err(DccError::BadClaims(_))
    ));
}

#[test]
fn the_message_is_read_tagged_untagged_or_inside_the_cwt_tag() {
    let sign1 = message(vec![0xa0]);
    let tagged = sign1.clone().to_tagged_vec().expect("cbor");
    let untagged = sign1.clone().to_vec().expect("cbor");
    let mut cwt = vec![0xd8, 0x3d];
    cwt.extend(&tagged);
    for bytes in [&tagged, &untagged, &cwt] {
        let parsed = parse_sign1(bytes).expect("parses");
        assert_eq!(parsed.signature, vec![0; 64]);
        let text = hc1(bytes);
        assert_eq!(dcc::cose_bytes(&text).as_deref(), Ok(bytes.as_slice()));
    }
    assert_eq!(dcc::kid(&sign1), Some(&b"protectd"[..]));
    let mut unprotected_only = sign1;
    unprotected_only.protected = coset::ProtectedHeader::default();
    assert_eq!(dcc::kid(&unprotected_only), Some(&b"unprotec"[..]));
}

#[test]
fn an_unknown_kid_is_refused_before_any_signature_work() {
    let text = hc1(&message(vec![0xa0]).to_tagged_vec().expect("cbor"));
    assert_eq!(
        dcc::verify(&text, &TrustList::new(), 0, None).map(drop),
        Err(DccError::UnknownKid)
    );
    let mut no_kid = message(vec![0xa0]);
    no_kid.protected = coset::ProtectedHeader::default();
    no_kid.unprotected = coset::Header::default();
    let text = hc1(&no_kid.to_tagged_vec().expect("cbor"));
    assert_eq!(
        dcc::verify(&text, &TrustList::new(), 0, None).map(drop),
        Err(DccError::MissingKid)
    );
}

#[test]
fn a_certificate_holds_exactly_one_type() {
    let claims = |hcert: serde_json::Value| DccClaims {
        issuer: None,
        issued_at: 0,
        expires_at: 1,
        hcert,
    };
    assert_eq!(
        claims(serde_json::json!({"v": [{}]})).cert_type(),
        Ok(dcc::CertType::Vaccination)
    );
    assert!(
        claims(serde_json::json!({"v": [], "t": []}))
            .cert_type()
            .is_err()
    );
    assert!(claims(serde_json::json!({"nam": {}})).cert_type().is_err());
}

#[test]
fn a_signer_certificate_that_is_not_one_is_refused() {
    assert!(Dsc::from_text("not base64!").is_err());
    assert!(Dsc::from_text("AAAA").is_err());
    assert!(Dsc::from_der(&[0x30, 0x03, 0x02, 0x01, 0x01]).is_err());
}
