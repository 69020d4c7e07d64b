//! SMART Health Cards: `shc:/` numeric QR text, `.smart-health-card` files and bare compact
//! JWS. A card is a JWS (ES256, raw r‖s) whose header names `zip: "DEF"` and a `kid` equal to
//! the RFC 7638 thumbprint of the issuer's P-256 key, over a raw-DEFLATE payload of JSON with
//! `iss`, `nbf`, optional `exp` and `rid`, and a `vc` of type health card. There is no network
//! here: the issuers' JWKS (and CRLs) are configured locally, per `iss`.
//!
//! Every step caps its input: a QR's numeric text, the JWS, the inflated payload.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::Value;
use tongban_crypto::{HashAlgorithm, PublicKey, SignatureAlgorithm};

/// The QR text prefix.
pub const SHC_PREFIX: &str = "shc:/";
/// The spec's limit for a JWS in a single QR code (version 22 at low error correction).
pub const MAX_JWS: usize = 1195;
/// The most a payload may inflate to.
const MAX_PAYLOAD: usize = 64 * 1024;
/// The credential type every health card carries.
pub const HEALTH_CARD: &str = "https://smarthealth.cards#health-card";

/// Why a card was refused, at which step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShcError {
    #[error("not a shc:/ numeric QR text: {0}")]
    Numeric(&'static str),
    #[error("not a .smart-health-card file")]
    File,
    #[error("not a compact JWS: {0}")]
    Jws(&'static str),
    #[error("the payload does not inflate (raw DEFLATE), or is too large")]
    Deflate,
    #[error("the payload is not a health card: {0}")]
    Payload(&'static str),
    #[error("the issuer is not configured here")]
    UnknownIssuer,
    #[error("the key is not in the issuer's JWKS, or is not a SMART Health Cards key")]
    UnknownKey,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the card is not yet valid")]
    NotYetValid,
    #[error("the card has expired")]
    Expired,
    #[error("the card has been revoked")]
    Revoked,
}

impl ShcError {
    /// A stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            ShcError::Numeric(_) => "bad_numeric",
            ShcError::File => "bad_file",
            ShcError::Jws(_) => "bad_jws",
            ShcError::Deflate => "bad_deflate",
            ShcError::Payload(_) => "bad_payload",
            ShcError::UnknownIssuer => "unknown_issuer",
            ShcError::UnknownKey => "unknown_kid",
            ShcError::BadSignature => "bad_signature",
            ShcError::NotYetValid => "not_yet_valid",
            ShcError::Expired => "expired",
            ShcError::Revoked => "revoked",
        }
    }
}

/// Decodes `shc:/` numeric text to the JWS: each pair of digits is a character, its value plus
/// 45. Chunked codes (`shc:/1/2/…`) are not accepted: the spec has deprecated them.
pub fn numeric_to_jws(text: &str) -> Result<String, ShcError> {
    let digits = text
        .strip_prefix(SHC_PREFIX)
        .ok_or(ShcError::Numeric("no shc:/ prefix"))?;
    if digits.contains('/') {
        return Err(ShcError::Numeric("chunked codes are not accepted"));
    }
    if digits.len() > MAX_JWS * 2 {
        return Err(ShcError::Numeric("too long"));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ShcError::Numeric("not digits only"));
    }
    if digits.len() % 2 != 0 {
        return Err(ShcError::Numeric("an odd number of digits"));
    }
    digits
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let value = (pair[0] - b'0') * 10 + (pair[1] - b'0');
            if value > 77 {
                return Err(ShcError::Numeric("a pair above 77"));
            }
            Ok(char::from(value + 45))
        })
        .collect()
}

/// The JWS strings of a `.smart-health-card` file.
pub fn file_to_jws(text: &str) -> Result<Vec<String>, ShcError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct File {
        verifiable_credential: Vec<String>,
    }
    let file: File = serde_json::from_str(text).map_err(|_| ShcError::File)?;
    if file.verifiable_credential.is_empty() {
        return Err(ShcError::File);
    }
    Ok(file.verifiable_credential)
}

/// One issuer key from a JWKS.
#[derive(Debug, Clone, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub kid: String,
    #[serde(default)]
    pub alg: Option<String>,
    #[serde(rename = "use", default)]
    pub usage: Option<String>,
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
    #[serde(rename = "crlVersion", default)]
    pub crl_version: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// An issuer's revocation list for one key: revoked `rid`s, each optionally with the time
/// (Unix seconds) before which cards are revoked (`rid.timestamp`).
#[derive(Debug, Clone, Deserialize)]
pub struct Crl {
    pub kid: String,
    pub method: String,
    pub ctr: u64,
    pub rids: Vec<String>,
}

/// The issuers a verifier knows: `iss` → JWKS, and CRLs by kid.
#[derive(Debug, Clone, Default)]
pub struct Issuers {
    pub jwks: BTreeMap<String, Jwks>,
    pub crls: BTreeMap<String, Crl>,
}

/// The RFC 7638 thumbprint of a P-256 key: base64url of SHA-256 over
/// `{"crv":…,"kty":…,"x":…,"y":…}`.
pub fn thumbprint(crv: &str, x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"{crv}","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(tongban_crypto::digest(
        HashAlgorithm::Sha256,
        canonical.as_bytes(),
    ))
}

fn public_key(jwk: &Jwk) -> Result<PublicKey, ShcError> {
    let ok = jwk.kty == "EC"
        && jwk.crv.as_deref() == Some("P-256")
        && jwk.alg.as_deref() == Some("ES256")
        && jwk.usage.as_deref() == Some("sig");
    let (Some(x), Some(y)) = (&jwk.x, &jwk.y) else {
        return Err(ShcError::UnknownKey);
    };
    if !ok || thumbprint("P-256", x, y) != jwk.kid {
        return Err(ShcError::UnknownKey);
    }
    let (x, y) = (
        URL_SAFE_NO_PAD
            .decode(x)
            .map_err(|_| ShcError::UnknownKey)?,
        URL_SAFE_NO_PAD
            .decode(y)
            .map_err(|_| ShcError::UnknownKey)?,
    );
    if x.len() != 32 || y.len() != 32 {
        return Err(ShcError::UnknownKey);
    }
    let mut point = vec![0x04];
    point.extend(x);
    point.extend(y);
    PublicKey::new(SignatureAlgorithm::Es256, point).map_err(|_| ShcError::UnknownKey)
}

/// What a verified card says.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    pub issuer: String,
    pub kid: String,
    /// Unix seconds.
    pub not_before: i64,
    pub expires: Option<i64>,
    /// The credential's types (health card, immunization, covid19, laboratory, …).
    pub types: Vec<String>,
    /// The FHIR bundle.
    pub bundle: Value,
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    zip: Option<String>,
    kid: Option<String>,
}

/// Verifies a compact JWS card at `now` (Unix seconds) against the configured issuers.
pub fn verify_jws(jws: &str, issuers: &Issuers, now: i64) -> Result<Card, ShcError> {
    if jws.len() > MAX_JWS * 4 {
        return Err(ShcError::Jws("too long"));
    }
    let mut parts = jws.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ShcError::Jws("not three parts"));
    };
    let header_bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| ShcError::Jws("the header is not base64url"))?;
    let header: Header = serde_json::from_slice(&header_bytes)
        .map_err(|_| ShcError::Jws("the header is not JSON"))?;
    if header.alg.as_deref() != Some("ES256") {
        return Err(ShcError::Jws("alg is not ES256"));
    }
    if header.zip.as_deref() != Some("DEF") {
        return Err(ShcError::Jws("zip is not DEF"));
    }
    let kid = header.kid.ok_or(ShcError::Jws("no kid"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| ShcError::Jws("the signature is not base64url"))?;
    if signature.len() != 64 {
        return Err(ShcError::Jws("the signature is not raw r‖s"));
    }
    let compressed = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| ShcError::Jws("the payload is not base64url"))?;
    let inflated = miniz_oxide::inflate::decompress_to_vec_with_limit(&compressed, MAX_PAYLOAD)
        .map_err(|_| ShcError::Deflate)?;
    let claims: Value =
        serde_json::from_slice(&inflated).map_err(|_| ShcError::Payload("not JSON"))?;
    let issuer = claims["iss"]
        .as_str()
        .ok_or(ShcError::Payload("no iss"))?
        .to_owned();
    let jwks = issuers.jwks.get(&issuer).ok_or(ShcError::UnknownIssuer)?;
    let jwk = jwks
        .keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or(ShcError::UnknownKey)?;
    let key = public_key(jwk)?;
    let signed = parts_before_signature(jws);
    tongban_crypto::verify(&key, signed.as_bytes(), &signature)
        .map_err(|_| ShcError::BadSignature)?;
    // Times are seconds (fractions allowed, as issuers write them); a value in milliseconds
    // would put a card three hundred centuries ahead, and is refused.
    let seconds = |v: &Value| {
        v.as_f64()
            .filter(|s| (0.0..1e11).contains(s))
            .map(|s| s.floor() as i64)
    };
    let not_before = seconds(&claims["nbf"]).ok_or(ShcError::Payload("no nbf in seconds"))?;
    let expires = match &claims["exp"] {
        Value::Null => None,
        other => Some(seconds(other).ok_or(ShcError::Payload("exp not in seconds"))?),
    };
    if now < not_before {
        return Err(ShcError::NotYetValid);
    }
    if expires.is_some_and(|exp| now >= exp) {
        return Err(ShcError::Expired);
    }
    let types: Vec<String> = claims["vc"]["type"]
        .as_array()
        .ok_or(ShcError::Payload("no vc.type"))?
        .iter()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    if !types.iter().any(|t| t == HEALTH_CARD) {
        return Err(ShcError::Payload("not a health card"));
    }
    let bundle = claims["vc"]["credentialSubject"]["fhirBundle"].clone();
    if bundle["resourceType"] != "Bundle" {
        return Err(ShcError::Payload("no FHIR bundle"));
    }
    // The spec keeps resources minimal: of `meta`, only `security` may be present.
    let entries = bundle["entry"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for entry in entries {
        if let Some(meta) = entry["resource"]["meta"].as_object()
            && meta.keys().any(|k| k != "security")
        {
            return Err(ShcError::Payload(
                "a resource's meta carries more than security",
            ));
        }
    }
    if let (Some(crl), Some(rid)) = (
        issuers.crls.get(&kid),
        claims["vc"]["rid"].as_str().or(claims["rid"].as_str()),
    ) {
        revoked(crl, rid, not_before)?;
    }
    Ok(Card {
        issuer,
        kid,
        not_before,
        expires,
        types,
        bundle,
    })
}

fn parts_before_signature(jws: &str) -> &str {
    jws.rsplit_once('.').map_or(jws, |(signed, _)| signed)
}

/// Refuses a card whose `rid` is on the CRL (for cards issued before the listed time, when the
/// entry has one).
fn revoked(crl: &Crl, rid: &str, not_before: i64) -> Result<(), ShcError> {
    if crl.method != "rid" {
        return Ok(());
    }
    for entry in &crl.rids {
        let (listed, until) = match entry.split_once('.') {
            Some((rid, time)) => (rid, time.parse::<i64>().ok()),
            None => (entry.as_str(), None),
        };
        if listed == rid && until.is_none_or(|t| not_before < t) {
            return Err(ShcError::Revoked);
        }
    }
    Ok(())
}

/// Verifies whatever a scanner or a file gives: `shc:/` text, a `.smart-health-card` file
/// (every card in it), or a bare JWS.
pub fn verify_any(input: &str, issuers: &Issuers, now: i64) -> Result<Vec<Card>, ShcError> {
    // A scanner or an editor may end the text with a line break; nothing else is forgiven.
    let input = input.trim_end();
    if input.starts_with(SHC_PREFIX) {
        let jws = numeric_to_jws(input)?;
        return Ok(vec![verify_jws(&jws, issuers, now)?]);
    }
    if input.starts_with('{') {
        return file_to_jws(input)?
            .iter()
            .map(|jws| verify_jws(jws, issuers, now))
            .collect();
    }
    Ok(vec![verify_jws(input, issuers, now)?])
}
