//! The pass code end to end, and every way a bad code is refused with its reason.

use coset::{CborSerializable, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable};
use tongban_codes::{Colour, PASS_PREFIX, PassClaims, decode, encode, issue_pass, verify_pass};
use tongban_crypto::{KeyRing, SignatureAlgorithm, Signer, SoftwareSigner};

const NOW: i64 = 1_790_000_000;

fn claims() -> PassClaims {
    PassClaims {
        issuer: "tongban.339900".into(),
        subject: "c2VhbGVkLXJlZmVyZW5jZQ".into(),
        colour: Colour::Green,
        initials: "Z*W".into(),
        entitlements: vec!["transit".into(), "library".into()],
        issued_at: NOW,
        expires_at: NOW + 300,
    }
}

fn ring(signer: &SoftwareSigner) -> KeyRing {
    let mut ring = KeyRing::new();
    ring.insert(signer.kid(), signer.public_key());
    ring
}

fn trusted() -> Vec<String> {
    vec!["tongban.339900".into()]
}

#[test]
fn a_pass_round_trips_under_every_suite() {
    for algorithm in SignatureAlgorithm::ALL {
        let signer = SoftwareSigner::generate(algorithm, "pass-1");
        let code = issue_pass(&claims(), &signer);
        assert!(
            code.starts_with("TB1:") && code.len() < 600,
            "{algorithm}: {} characters",
            code.len()
        );
        assert!(
            code[4..]
                .chars()
                .all(|c| "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(c)),
            "QR alphanumeric mode"
        );
        assert_eq!(
            verify_pass(&code, &ring(&signer), NOW + 10, &trusted()),
            Ok(claims()),
            "{algorithm}"
        );
    }
}

#[test]
fn expired_and_future_codes_are_refused_even_with_a_valid_signature() {
    let signer = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "pass-1");
    let code = issue_pass(&claims(), &signer);
    assert_eq!(
        verify_pass(&code, &ring(&signer), NOW + 300, &trusted()).map_err(|e| e.code()),
        Err("expired")
    );
    assert_eq!(
        verify_pass(&code, &ring(&signer), NOW - 301, &trusted()).map_err(|e| e.code()),
        Err("not_yet_valid")
    );
}

#[test]
fn keys_and_issuers_outside_the_trust_list_are_refused() {
    let signer = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "pass-1");
    let code = issue_pass(&claims(), &signer);
    assert_eq!(
        verify_pass(&code, &KeyRing::new(), NOW, &trusted()).map_err(|e| e.code()),
        Err("unknown_kid")
    );
    let impostor = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "pass-1");
    assert_eq!(
        verify_pass(&code, &ring(&impostor), NOW, &trusted()).map_err(|e| e.code()),
        Err("bad_signature")
    );
    let other_suite = SoftwareSigner::generate(SignatureAlgorithm::Es256, "pass-1");
    assert_eq!(
        verify_pass(&code, &ring(&other_suite), NOW, &trusted()).map_err(|e| e.code()),
        Err("bad_signature")
    );
    assert_eq!(
        verify_pass(&code, &ring(&signer), NOW, &["tongban.110000".into()]).map_err(|e| e.code()),
        Err("untrusted_issuer")
    );
}

#[test]
fn altered_truncated_and_malformed_codes_get_their_reason() {
    let signer = SoftwareSigner::generate(SignatureAlgorithm::Sm2Sm3, "pass-1");
    let code = issue_pass(&claims(), &signer);
    let keys = ring(&signer);
    let reason = |text: &str| {
        verify_pass(text, &keys, NOW, &trusted())
            .map_err(|e| e.code())
            .err()
    };
    assert_eq!(
        reason(&code.replacen("TB1:", "HC1:", 1)),
        Some("bad_prefix")
    );
    assert_eq!(reason("TB1:abc"), Some("bad_base45"));
    assert!(
        reason(&code[..code.len() - 9]).is_some(),
        "a truncated code is refused"
    );
    assert_eq!(reason(&"TB1:".repeat(3000)), Some("too_long"));
    // Change one character of the body: whatever it breaks, the code is refused.
    for position in [10, code.len() / 2, code.len() - 2] {
        let mut altered: Vec<char> = code.chars().collect();
        altered[position] = if altered[position] == '0' { '1' } else { '0' };
        let altered: String = altered.into_iter().collect();
        assert!(reason(&altered).is_some(), "altered at {position}");
    }
}

#[test]
fn a_zip_bomb_stops_at_the_inflation_limit() {
    let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&vec![0u8; 20 * 1024 * 1024], 10);
    let text = format!("{PASS_PREFIX}{}", base45::encode(&bomb));
    assert!(text.len() < 60_000);
    assert_eq!(
        decode(PASS_PREFIX, &text).err().map(|e| e.code()),
        Some("too_long")
    );
    let small_bomb = miniz_oxide::deflate::compress_to_vec_zlib(&vec![0u8; 1024 * 1024], 10);
    let text = format!("{PASS_PREFIX}{}", base45::encode(&small_bomb));
    assert!(text.len() < 8 * 1024, "{} characters", text.len());
    assert_eq!(
        decode(PASS_PREFIX, &text).err().map(|e| e.code()),
        Some("bad_compression")
    );
}

#[test]
fn a_cbor_nesting_bomb_is_refused_without_overflowing_the_stack() {
    let mut cbor = vec![0x81u8; 5000];
    cbor.push(0x00);
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&cbor, 9);
    let text = format!("{PASS_PREFIX}{}", base45::encode(&compressed));
    assert_eq!(
        decode(PASS_PREFIX, &text).err().map(|e| e.code()),
        Some("bad_cose")
    );
}

#[test]
fn a_signed_message_with_claims_that_are_not_a_pass_is_refused() {
    let signer = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "pass-1");
    let mut protected = HeaderBuilder::new().key_id(b"pass-1".to_vec()).build();
    protected.alg = Some(coset::RegisteredLabelWithPrivate::Assigned(
        coset::iana::Algorithm::EdDSA,
    ));
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(b"not claims".to_vec())
        .create_signature(b"", |tbs| signer.sign(tbs))
        .build();
    let text = encode(PASS_PREFIX, sign1.clone()).expect("encodes");
    assert_eq!(
        verify_pass(&text, &ring(&signer), NOW, &trusted()).map_err(|e| e.code()),
        Err("bad_claims")
    );
    // Untagged COSE_Sign1 decodes too, as DCC verifiers accept it.
    let untagged =
        miniz_oxide::deflate::compress_to_vec_zlib(&sign1.clone().to_vec().expect("cbor"), 9);
    assert!(
        decode(
            PASS_PREFIX,
            &format!("{PASS_PREFIX}{}", base45::encode(&untagged))
        )
        .is_ok()
    );
    let tagged = sign1.to_tagged_vec().expect("cbor");
    assert_eq!(tagged[0], 0xd2, "tag 18");
}
