//! SMART Health Cards against the spec's example issuer and the dev-tools test data
//! (../shared/conformance/shc): cards signed with the example issuer's key verify in every
//! form; every malformed, forged, stale, revoked or foreign card is refused at its step. Skipped
//! with a note where the vectors are absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use serde_json::{Value, json};
use tongban_codes::shc::{self, Crl, Issuers, Jwks};

const ISSUER: &str = "https://spec.smarthealth.cards/examples/issuer";
const NOW: i64 = 1_800_000_000;

fn vectors() -> Option<PathBuf> {
    let dir = match std::env::var("TONGBAN_CONFORMANCE_DIR") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
    }
    .join("shc");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "note: SMART Health Card vectors not found (set TONGBAN_CONFORMANCE_DIR); skipped"
        );
        None
    }
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn issuers(dir: &Path) -> Issuers {
    let issuer = dir.join("spec/generate-examples/issuer/.well-known");
    let jwks: Jwks = serde_json::from_str(&read(issuer.join("jwks.json"))).expect("jwks");
    let mut crls = BTreeMap::new();
    for entry in std::fs::read_dir(issuer.join("crl")).expect("crl dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let crl: Crl = serde_json::from_str(&read(path)).expect("crl");
            crls.insert(crl.kid.clone(), crl);
        }
    }
    Issuers {
        jwks: BTreeMap::from([(ISSUER.to_owned(), jwks)]),
        crls,
    }
}

/// Signs a card with the example issuer's first private key.
fn sign(dir: &Path, claims: &Value) -> String {
    let private: Value = serde_json::from_str(&read(
        dir.join("spec/generate-examples/src/config/issuer.jwks.private.json"),
    ))
    .expect("private jwks");
    let key = &private["keys"][0];
    let d = URL_SAFE_NO_PAD
        .decode(key["d"].as_str().expect("d"))
        .expect("base64url");
    let signing = p256::ecdsa::SigningKey::from_slice(&d).expect("P-256 key");
    let header = json!({"zip": "DEF", "alg": "ES256", "kid": key["kid"]});
    let payload = miniz_oxide::deflate::compress_to_vec(claims.to_string().as_bytes(), 9);
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature: p256::ecdsa::Signature = signing.sign(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn claims(dir: &Path, nbf: f64, extra: Value) -> Value {
    let bundle: Value = serde_json::from_str(&read(
        dir.join("spec/generate-examples/src/fixtures/covid-vaccines-bundle.json"),
    ))
    .expect("bundle");
    let mut claims = json!({
        "iss": ISSUER,
        "nbf": nbf,
        "vc": {
            "type": [shc::HEALTH_CARD, "https://smarthealth.cards#immunization"],
            "credentialSubject": {"fhirVersion": "4.0.1", "fhirBundle": bundle},
        },
    });
    if let (Some(target), Some(more)) = (claims.as_object_mut(), extra.as_object()) {
        target.extend(more.clone());
    }
    claims
}

fn numeric(jws: &str) -> String {
    let digits: String = jws.bytes().map(|b| format!("{:02}", b - 45)).collect();
    format!("{}{digits}", shc::SHC_PREFIX)
}

#[test]
fn the_example_issuers_kids_are_their_thumbprints() {
    let Some(dir) = vectors() else { return };
    let issuers = issuers(&dir);
    let key = &issuers.jwks[ISSUER].keys[0];
    let (x, y) = (key.x.as_deref().expect("x"), key.y.as_deref().expect("y"));
    assert_eq!(shc::thumbprint("P-256", x, y), key.kid);
}

#[test]
fn cards_signed_by_the_example_issuer_verify_in_every_form() {
    let Some(dir) = vectors() else { return };
    let issuers = issuers(&dir);
    let jws = sign(&dir, &claims(&dir, 1_700_000_000.5, json!({})));
    let card = shc::verify_jws(&jws, &issuers, NOW).expect("verifies");
    assert_eq!(card.issuer, ISSUER);
    assert_eq!(card.not_before, 1_700_000_000);
    assert!(card.types.iter().any(|t| t.ends_with("#immunization")));
    assert_eq!(card.bundle["resourceType"], "Bundle");
    // As QR text and as a file.
    assert_eq!(
        shc::verify_any(&numeric(&jws), &issuers, NOW)
            .expect("numeric")
            .len(),
        1
    );
    let file = json!({"verifiableCredential": [jws, jws]}).to_string();
    assert_eq!(
        shc::verify_any(&file, &issuers, NOW).expect("file").len(),
        2
    );
    // The spec's own examples in the dev-tools data.
    let data = dir.join("dev-tools/testdata");
    for (name, cards) in [
        ("test-example-00-e-file-multi-jws.smart-health-card", 2),
        ("test-example-1195-byte-qrnumeric.txt", 1),
    ] {
        let verified = shc::verify_any(&read(data.join(name)), &issuers, NOW)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(verified.len(), cards, "{name}");
    }
}

#[test]
fn time_revocation_and_tampering_are_refused() {
    let Some(dir) = vectors() else { return };
    let issuers = issuers(&dir);
    let check = |claims: Value| shc::verify_jws(&sign(&dir, &claims), &issuers, NOW).map(|_| ());
    assert_eq!(
        check(claims(&dir, (NOW + 60) as f64, json!({}))),
        Err(shc::ShcError::NotYetValid)
    );
    assert_eq!(
        check(claims(&dir, 1_700_000_000.0, json!({"exp": NOW - 1}))),
        Err(shc::ShcError::Expired)
    );
    assert_eq!(
        check(claims(&dir, 1_700_000_000_000.0, json!({}))).map_err(|e| e.code()),
        Err("bad_payload"),
        "nbf in milliseconds"
    );
    // "FKDIxsTCGlU" is revoked outright; "vwAjHdarZuc" only for cards issued before 1664492124.
    let mut revoked = claims(&dir, 1_700_000_000.0, json!({}));
    revoked["vc"]["rid"] = json!("FKDIxsTCGlU");
    assert_eq!(check(revoked), Err(shc::ShcError::Revoked));
    let mut before = claims(&dir, 1_600_000_000.0, json!({}));
    before["vc"]["rid"] = json!("vwAjHdarZuc");
    assert_eq!(check(before), Err(shc::ShcError::Revoked));
    let mut after = claims(&dir, 1_700_000_000.0, json!({}));
    after["vc"]["rid"] = json!("vwAjHdarZuc");
    assert_eq!(check(after), Ok(()));
    // Not a health card; another issuer.
    let mut other_type = claims(&dir, 1_700_000_000.0, json!({}));
    other_type["vc"]["type"] = json!(["https://smarthealth.cards#immunization"]);
    assert_eq!(check(other_type).map_err(|e| e.code()), Err("bad_payload"));
    assert_eq!(
        check(claims(
            &dir,
            1_700_000_000.0,
            json!({"iss": "https://example.org/issuer"})
        )),
        Err(shc::ShcError::UnknownIssuer)
    );
    // A changed payload under the old signature.
    let jws = sign(&dir, &claims(&dir, 1_700_000_000.0, json!({})));
    let other = sign(&dir, &claims(&dir, 1_700_000_001.0, json!({})));
    let (head, _) = jws.rsplit_once('.').expect("signed");
    let (_, signature) = other.rsplit_once('.').expect("signature");
    assert_eq!(
        shc::verify_jws(&format!("{head}.{signature}"), &issuers, NOW),
        Err(shc::ShcError::BadSignature)
    );
}

#[test]
fn every_negative_file_of_the_dev_tools_is_refused_at_its_step() {
    let Some(dir) = vectors() else { return };
    let issuers = issuers(&dir);
    let data = dir.join("dev-tools/testdata");
    let expect = [
        ("test-example-00-d-jws-bad-fhir-metadata.txt", "bad_payload"),
        ("test-example-00-d-jws-der-signature.txt", "bad_jws"),
        ("test-example-00-d-jws-der-signature-r-neg.txt", "bad_jws"),
        (
            "test-example-00-d-jws-invalid-signature.txt",
            "bad_signature",
        ),
        (
            "test-example-00-d-jws-issuer-kid-mismatch.txt",
            "unknown_kid",
        ),
        (
            "test-example-00-d-jws-issuer-not-valid-with-smart-key.txt",
            "unknown_issuer",
        ),
        ("test-example-00-d-jws-no_deflate.txt", "bad_jws"),
        ("test-example-00-d-jws-no_jws_header_alg.txt", "bad_jws"),
        ("test-example-00-d-jws-no_jws_header_kid.txt", "bad_jws"),
        ("test-example-00-d-jws-trailing_chars.txt", "bad_jws"),
        ("test-example-00-d-jws-utf8_bom_prefix.txt", "bad_payload"),
        (
            "test-example-00-d-jws-wrong_jws_header_kid.txt",
            "unknown_kid",
        ),
        (
            "test-example-00-e-file-invalid_deflate.smart-health-card",
            "bad_deflate",
        ),
        (
            "test-example-00-e-file-multi-jws-issues.smart-health-card",
            "bad_jws",
        ),
        (
            "test-example-00-e-file-trailing_chars.smart-health-card",
            "bad_jws",
        ),
        (
            "test-example-00-f-qr-code-numeric-value-0-number-too-big.txt",
            "bad_numeric",
        ),
        (
            "test-example-00-f-qr-code-numeric-value-0-odd-count.txt",
            "bad_numeric",
        ),
        (
            "test-example-00-f-qr-code-numeric-value-0-wrong-multi-chunk.txt",
            "bad_numeric",
        ),
    ];
    for (name, reason) in expect {
        let outcome = shc::verify_any(&read(data.join(name)), &issuers, NOW);
        assert_eq!(
            outcome.map(|_| ()).map_err(|e| e.code()),
            Err(reason),
            "{name}"
        );
    }
    // And every other file named for a defect, whatever the step.
    for entry in std::fs::read_dir(&data).expect("testdata") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let defect = ["-d-jws-", "-e-file-", "-f-qr-code-"]
            .iter()
            .any(|kind| name.contains(kind))
            && !name.ends_with("e-file-multi-jws.smart-health-card");
        if defect && let Ok(text) = std::fs::read_to_string(&path) {
            assert!(
                shc::verify_any(&text, &issuers, NOW).is_err(),
                "{name} was accepted"
            );
        }
    }
}
