//! The pass code (一码通): a short-lived signed code carrying the issuer, a pseudonymous
//! subject reference, the colour (or "service only"), masked initials and entitlements — no
//! name, no ID number, no health facts. Format: docs/pass-format.md.

use ciborium::value::Value as Cbor;
use coset::cwt::{ClaimName, ClaimsSet, ClaimsSetBuilder, Timestamp};
use coset::{CborSerializable, CoseSign1Builder, HeaderBuilder, RegisteredLabelWithPrivate, iana};
use tongban_crypto::{KeyRing, SignatureAlgorithm, Signer};

use crate::pipeline::{DecodeError, decode, encode, sign1_to_be_signed};

/// The text prefix of tongban pass codes.
pub const PASS_PREFIX: &str = "TB1:";

/// The private CWT claim that holds tongban's pass fields.
const PASS_CLAIM: i64 = -70100;
/// Seconds of clock difference tolerated between issuer and checker.
const SKEW_SECONDS: i64 = 300;

/// The health colour a pass carries, or none when the emergency mode is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    ServiceOnly,
    Green,
    Yellow,
    Red,
}

impl Colour {
    fn code(self) -> i64 {
        match self {
            Colour::ServiceOnly => 0,
            Colour::Green => 1,
            Colour::Yellow => 2,
            Colour::Red => 3,
        }
    }

    fn from_code(code: i64) -> Option<Colour> {
        match code {
            0 => Some(Colour::ServiceOnly),
            1 => Some(Colour::Green),
            2 => Some(Colour::Yellow),
            3 => Some(Colour::Red),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Colour::ServiceOnly => "service_only",
            Colour::Green => "green",
            Colour::Yellow => "yellow",
            Colour::Red => "red",
        }
    }
}

/// What a pass says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PassClaims {
    /// The issuing region, e.g. `tongban.339900`.
    pub issuer: String,
    /// A reference to the person that changes with every code; only the issuer can resolve it.
    pub subject: String,
    pub colour: Colour,
    /// Masked initials for the checker to compare with the face in front of them (e.g. `Z*W`).
    pub initials: String,
    /// Services the holder may use (e.g. `library`).
    pub entitlements: Vec<String>,
    /// Unix seconds.
    pub issued_at: i64,
    pub expires_at: i64,
}

/// Why a pass was refused, with a stable reason code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassError {
    #[error("{0}")]
    Decode(#[from] DecodeError),
    #[error("the code names a key that is not in the trust list")]
    UnknownKid,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the code's claims are malformed")]
    BadClaims,
    #[error("the code has expired")]
    Expired,
    #[error("the code is not valid yet")]
    NotYetValid,
    #[error("the code comes from an issuer that is not trusted")]
    UntrustedIssuer,
}

impl PassError {
    pub fn code(&self) -> &'static str {
        match self {
            PassError::Decode(error) => error.code(),
            PassError::UnknownKid => "unknown_kid",
            PassError::BadSignature => "bad_signature",
            PassError::BadClaims => "bad_claims",
            PassError::Expired => "expired",
            PassError::NotYetValid => "not_yet_valid",
            PassError::UntrustedIssuer => "untrusted_issuer",
        }
    }
}

fn cose_algorithm(algorithm: SignatureAlgorithm) -> coset::Algorithm {
    match algorithm {
        SignatureAlgorithm::Ed25519 => RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA),
        SignatureAlgorithm::Es256 => RegisteredLabelWithPrivate::Assigned(iana::Algorithm::ES256),
        SignatureAlgorithm::Sm2Sm3 => RegisteredLabelWithPrivate::PrivateUse(algorithm.cose()),
    }
}

/// Signs a pass and returns its text (`TB1:…`) for a QR code.
pub fn issue_pass(claims: &PassClaims, signer: &dyn Signer) -> String {
    let fields = Cbor::Map(vec![
        (
            Cbor::Integer(1.into()),
            Cbor::Integer(claims.colour.code().into()),
        ),
        (Cbor::Integer(2.into()), Cbor::Text(claims.initials.clone())),
        (
            Cbor::Integer(3.into()),
            Cbor::Array(
                claims
                    .entitlements
                    .iter()
                    .cloned()
                    .map(Cbor::Text)
                    .collect(),
            ),
        ),
    ]);
    let claims_set = ClaimsSetBuilder::new()
        .issuer(claims.issuer.clone())
        .subject(claims.subject.clone())
        .issued_at(Timestamp::WholeSeconds(claims.issued_at))
        .expiration_time(Timestamp::WholeSeconds(claims.expires_at))
        .private_claim(PASS_CLAIM, fields)
        .build();
    sign_claims(PASS_PREFIX, claims_set, signer)
}

/// Signs CWT claims into a COSE_Sign1 (kid and algorithm in the protected header) and encodes
/// it with `prefix`: the pipeline every tongban code shares.
pub(crate) fn sign_claims(prefix: &str, claims_set: ClaimsSet, signer: &dyn Signer) -> String {
    let mut protected = HeaderBuilder::new()
        .key_id(signer.kid().as_bytes().to_vec())
        .build();
    protected.alg = Some(cose_algorithm(signer.algorithm()));
    // Encoding claims we built ourselves cannot fail.
    let payload = claims_set.to_vec().unwrap_or_default();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(b"", |tbs| signer.sign(tbs))
        .build();
    encode(prefix, sign1).unwrap_or_default()
}

pub(crate) fn seconds(timestamp: Option<&Timestamp>) -> Option<i64> {
    match timestamp? {
        Timestamp::WholeSeconds(s) => Some(*s),
        Timestamp::FractionalSeconds(f) => Some(f.floor() as i64),
    }
}

fn pass_fields(claims: &ClaimsSet) -> Option<(Colour, String, Vec<String>)> {
    let (_, value) = claims
        .rest
        .iter()
        .find(|(name, _)| *name == ClaimName::PrivateUse(PASS_CLAIM))?;
    let Cbor::Map(entries) = value else {
        return None;
    };
    let field = |key: i64| {
        entries
            .iter()
            .find(|(k, _)| {
                k.as_integer()
                    .is_some_and(|i| i128::from(i) == i128::from(key))
            })
            .map(|(_, v)| v)
    };
    let colour = Colour::from_code(i64::try_from(field(1)?.as_integer()?).ok()?)?;
    let initials = field(2)?.as_text()?.to_owned();
    let entitlements = field(3)?
        .as_array()?
        .iter()
        .map(|v| v.as_text().map(str::to_owned))
        .collect::<Option<Vec<_>>>()?;
    Some((colour, initials, entitlements))
}

/// Verifies a pass offline: decoding with limits, the key by kid from the trust list, the
/// signature, the claims, expiry and the issuer.
pub fn verify_pass(
    text: &str,
    keys: &KeyRing,
    now: i64,
    trusted_issuers: &[String],
) -> Result<PassClaims, PassError> {
    let claims = open_claims(PASS_PREFIX, text, keys)?;
    let issuer = claims.issuer.clone().ok_or(PassError::BadClaims)?;
    let subject = claims.subject.clone().ok_or(PassError::BadClaims)?;
    let issued_at = seconds(claims.issued_at.as_ref()).ok_or(PassError::BadClaims)?;
    let expires_at = seconds(claims.expiration_time.as_ref()).ok_or(PassError::BadClaims)?;
    let (colour, initials, entitlements) = pass_fields(&claims).ok_or(PassError::BadClaims)?;
    check_time_and_issuer(&issuer, issued_at, expires_at, now, trusted_issuers)?;
    Ok(PassClaims {
        issuer,
        subject,
        colour,
        initials,
        entitlements,
        issued_at,
        expires_at,
    })
}

/// Refuses an untrusted issuer, an expired code and one from the future.
pub(crate) fn check_time_and_issuer(
    issuer: &str,
    issued_at: i64,
    expires_at: i64,
    now: i64,
    trusted_issuers: &[String],
) -> Result<(), PassError> {
    if !trusted_issuers.iter().any(|t| t == issuer) {
        return Err(PassError::UntrustedIssuer);
    }
    if now >= expires_at {
        return Err(PassError::Expired);
    }
    if issued_at > now + SKEW_SECONDS {
        return Err(PassError::NotYetValid);
    }
    Ok(())
}

/// Decodes a code of `prefix` with limits, finds its key by kid, checks the algorithm and the
/// signature, and returns its CWT claims.
pub(crate) fn open_claims(
    prefix: &str,
    text: &str,
    keys: &KeyRing,
) -> Result<ClaimsSet, PassError> {
    let sealed = decode(prefix, text)?;
    let kid = String::from_utf8(sealed.kid()).map_err(|_| PassError::UnknownKid)?;
    let key = keys.get(&kid).ok_or(PassError::UnknownKid)?;
    if sealed.sign1.protected.header.alg != Some(cose_algorithm(key.algorithm)) {
        return Err(PassError::BadSignature);
    }
    keys.verify(
        &kid,
        &sign1_to_be_signed(&sealed.sign1),
        &sealed.sign1.signature,
    )
    .map_err(|_| PassError::BadSignature)?;
    let payload = sealed
        .sign1
        .payload
        .as_deref()
        .ok_or(PassError::BadClaims)?;
    ClaimsSet::from_slice(payload).map_err(|_| PassError::BadClaims)
}
