//! The EU Digital COVID Certificate (HC1): `HC1:` ‖ Base45(zlib(COSE_Sign1(CWT))), with the
//! health certificate under claim −260. It shares the pipeline of tongban's own pass
//! ([`crate::unwrap`], [`crate::parse_sign1`]); what is its own is here: the signers'
//! certificates (DSC, X.509) as trust anchors, ES256 and PS256, the validity of a code against
//! its signer's, the extended key usage per certificate type, and the JSON schema the payload
//! declares.
//!
//! Every step is a public function so that a test harness can run them one by one; [`verify`]
//! runs them all, in order, and names the step that refused.

use std::collections::HashMap;

use base64::Engine as _;
use ciborium::value::Value as Cbor;
use coset::{CoseSign1, RegisteredLabelWithPrivate, iana};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use x509_cert::der::{Decode, Encode};

use crate::pipeline::{DecodeError, parse_sign1, unwrap};

/// The text prefix of EU DCC codes.
pub const DCC_PREFIX: &str = "HC1:";

const CLAIM_ISSUER: i64 = 1;
const CLAIM_EXPIRES: i64 = 4;
const CLAIM_ISSUED: i64 = 6;
const CLAIM_HCERT: i64 = -260;

/// Extended key usages that restrict a signer to one type of certificate. Both the registered
/// arc and the mistyped one (with `.0.`) that early signers used are in circulation.
const USAGE_TEST: [&str; 2] = ["1.3.6.1.4.1.1847.2021.1.1", "1.3.6.1.4.1.0.1847.2021.1.1"];
const USAGE_VACCINATION: [&str; 2] = ["1.3.6.1.4.1.1847.2021.1.2", "1.3.6.1.4.1.0.1847.2021.1.2"];
const USAGE_RECOVERY: [&str; 2] = ["1.3.6.1.4.1.1847.2021.1.3", "1.3.6.1.4.1.0.1847.2021.1.3"];

const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";
const OID_EXTENDED_KEY_USAGE: &str = "2.5.29.37";

/// The kind of statement a certificate makes: exactly one per certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertType {
    Vaccination,
    Test,
    Recovery,
}

impl CertType {
    pub fn as_str(self) -> &'static str {
        match self {
            CertType::Vaccination => "vaccination",
            CertType::Test => "test",
            CertType::Recovery => "recovery",
        }
    }

    fn usages(self) -> [&'static str; 2] {
        match self {
            CertType::Vaccination => USAGE_VACCINATION,
            CertType::Test => USAGE_TEST,
            CertType::Recovery => USAGE_RECOVERY,
        }
    }
}

/// Why a DCC was refused, at which step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DccError {
    #[error("{0}")]
    Decode(#[from] DecodeError),
    #[error("the code names no key id")]
    MissingKid,
    #[error("no trusted signer certificate has the code's key id")]
    UnknownKid,
    #[error("the code is signed with an algorithm other than ES256 or PS256")]
    UnsupportedAlgorithm,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the claims are malformed: {0}")]
    BadClaims(&'static str),
    #[error("the certificate was issued after the moment of checking")]
    NotYetValid,
    #[error("the certificate has expired")]
    Expired,
    #[error("the certificate's issue or expiry lies outside its signer's validity")]
    OutsideSignerValidity,
    #[error("the signer may not sign {} certificates", .0.as_str())]
    KeyUsage(CertType),
    #[error("the certificate does not match its schema: {0}")]
    Schema(String),
}

impl DccError {
    /// A stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            DccError::Decode(error) => error.code(),
            DccError::MissingKid => "missing_kid",
            DccError::UnknownKid => "unknown_kid",
            DccError::UnsupportedAlgorithm => "unsupported_algorithm",
            DccError::BadSignature => "bad_signature",
            DccError::BadClaims(_) => "bad_claims",
            DccError::NotYetValid => "not_yet_valid",
            DccError::Expired => "expired",
            DccError::OutsideSignerValidity => "outside_signer_validity",
            DccError::KeyUsage(_) => "wrong_key_usage",
            DccError::Schema(_) => "schema_invalid",
        }
    }
}

/// Why a signer's certificate could not be taken as a trust anchor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DscError {
    #[error("not a DER X.509 certificate (base64 or PEM)")]
    Encoding,
    #[error("the certificate's key is neither P-256 nor RSA")]
    UnsupportedKey,
}

/// A signer's public key, as the verifier (ring) takes it: for P-256 the uncompressed point,
/// for RSA the PKCS #1 `RSAPublicKey`.
#[derive(Clone)]
enum SignerKey {
    Es256(Vec<u8>),
    Ps256(Vec<u8>),
}

/// A document signer certificate (DSC): the X.509 certificate whose key signs DCCs.
#[derive(Clone)]
pub struct Dsc {
    der: Vec<u8>,
    kid: Vec<u8>,
    key: SignerKey,
    not_before: i64,
    not_after: i64,
    usages: Vec<String>,
    subject: String,
    /// What a country signing CA's check needs: the issuer's name (DER), the signed part of the
    /// certificate (DER), its signature algorithm (dotted OID) and signature.
    pub(crate) issued: Issued,
}

impl std::fmt::Debug for Dsc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dsc")
            .field(
                "kid",
                &base64::engine::general_purpose::STANDARD.encode(&self.kid),
            )
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl Dsc {
    /// Reads a certificate from DER.
    pub fn from_der(der: &[u8]) -> Result<Dsc, DscError> {
        let certificate = x509_cert::Certificate::from_der(der).map_err(|_| DscError::Encoding)?;
        let tbs = certificate.tbs_certificate();
        let spki = tbs.subject_public_key_info();
        let algorithm = spki.algorithm.oid.to_string();
        let key_bytes = spki.subject_public_key.raw_bytes();
        let key = match algorithm.as_str() {
            OID_EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|parameters| {
                        parameters
                            .decode_as::<x509_cert::der::asn1::ObjectIdentifier>()
                            .ok()
                    })
                    .map(|oid| oid.to_string());
                if curve.as_deref() != Some(OID_P256) {
                    return Err(DscError::UnsupportedKey);
                }
                // Checked to be a point of the curve, and kept uncompressed.
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes)
                    .map_err(|_| DscError::UnsupportedKey)?;
                SignerKey::Es256(key.to_sec1_point(false).as_bytes().to_vec())
            }
            OID_RSA | OID_RSA_PSS => {
                rsa_modulus_bits(key_bytes)
                    .filter(|bits| (2048..=8192).contains(bits))
                    .ok_or(DscError::UnsupportedKey)?;
                SignerKey::Ps256(key_bytes.to_vec())
            }
            _ => return Err(DscError::UnsupportedKey),
        };
        // An extended key usage that does not read would otherwise count as none, which allows
        // every type: such a certificate is refused.
        let mut usages = Vec::new();
        for extension in tbs.extensions().into_iter().flatten() {
            if extension.extn_id.to_string() == OID_EXTENDED_KEY_USAGE {
                let usage = x509_cert::ext::pkix::ExtendedKeyUsage::from_der(
                    extension.extn_value.as_bytes(),
                )
                .map_err(|_| DscError::Encoding)?;
                usages.extend(usage.0.into_iter().map(|oid| oid.to_string()));
            }
        }
        let validity = tbs.validity();
        let seconds = |time: x509_cert::time::Time| {
            i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
        };
        let encoded = certificate.to_der().map_err(|_| DscError::Encoding)?;
        let issued = Issued::of(&certificate).ok_or(DscError::Encoding)?;
        Ok(Dsc {
            issued,
            kid: Sha256::digest(&encoded)[..8].to_vec(),
            der: encoded,
            key,
            not_before: seconds(validity.not_before),
            not_after: seconds(validity.not_after),
            usages,
            subject: tbs.subject().to_string(),
        })
    }

    /// Reads a certificate from base64 DER, with or without PEM armour.
    pub fn from_text(text: &str) -> Result<Dsc, DscError> {
        Dsc::from_der(&der_from_text(text).ok_or(DscError::Encoding)?)
    }

    /// The DCC key id: the first 8 bytes of the SHA-256 of the certificate's DER.
    pub fn kid(&self) -> &[u8] {
        &self.kid
    }

    /// The certificate, DER.
    pub fn der_bytes(&self) -> &[u8] {
        &self.der
    }

    /// The certificate, DER in base64.
    pub fn der_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.der)
    }

    /// Start of the certificate's validity, Unix seconds.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// End of the certificate's validity, Unix seconds.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// The certificate's subject (RFC 4514).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The extended key usages, dotted OIDs.
    pub fn usages(&self) -> &[String] {
        &self.usages
    }

    /// The signing algorithm this key verifies.
    pub fn algorithm(&self) -> &'static str {
        match self.key {
            SignerKey::Es256(_) => "ES256",
            SignerKey::Ps256(_) => "PS256",
        }
    }

    /// Verifies a COSE_Sign1 against this key. The algorithm in the message must be the one the
    /// key is for: ES256 (raw r‖s) for P-256, PS256 for RSA.
    pub fn verify(&self, sign1: &CoseSign1) -> Result<(), DccError> {
        use ring::signature::{
            ECDSA_P256_SHA256_FIXED, RSA_PSS_2048_8192_SHA256, UnparsedPublicKey,
        };
        let algorithm = sign1
            .protected
            .header
            .alg
            .as_ref()
            .or(sign1.unprotected.alg.as_ref());
        let es256 = RegisteredLabelWithPrivate::Assigned(iana::Algorithm::ES256);
        let ps256 = RegisteredLabelWithPrivate::Assigned(iana::Algorithm::PS256);
        let tbs = sign1.tbs_data(b"");
        let (key, verifier): (_, &'static dyn ring::signature::VerificationAlgorithm) = match &self
            .key
        {
            SignerKey::Es256(key) if algorithm == Some(&es256) => (key, &ECDSA_P256_SHA256_FIXED),
            SignerKey::Ps256(key) if algorithm == Some(&ps256) => (key, &RSA_PSS_2048_8192_SHA256),
            _ => return Err(DccError::UnsupportedAlgorithm),
        };
        UnparsedPublicKey::new(verifier, key)
            .verify(&tbs, &sign1.signature)
            .map_err(|_| DccError::BadSignature)
    }

    /// Whether this signer may sign the type: a signer certificate without extended key usages
    /// may sign all three; one with any may sign only the types whose usage it names.
    pub fn may_sign(&self, cert_type: CertType) -> bool {
        self.usages.is_empty()
            || cert_type
                .usages()
                .iter()
                .any(|usage| self.usages.iter().any(|have| have == usage))
    }
}

/// The parts of an issued certificate its issuer's check reads.
#[derive(Clone)]
pub(crate) struct Issued {
    pub(crate) issuer: Vec<u8>,
    pub(crate) tbs: Vec<u8>,
    pub(crate) algorithm: String,
    pub(crate) signature: Vec<u8>,
}

impl Issued {
    pub(crate) fn of(certificate: &x509_cert::Certificate) -> Option<Issued> {
        Some(Issued {
            issuer: certificate.tbs_certificate().issuer().to_der().ok()?,
            tbs: certificate.tbs_certificate().to_der().ok()?,
            algorithm: certificate.signature_algorithm().oid.to_string(),
            signature: certificate.signature().as_bytes()?.to_vec(),
        })
    }
}

/// The DER of a certificate given as base64, with or without PEM armour.
pub(crate) fn der_from_text(text: &str) -> Option<Vec<u8>> {
    let body: String = text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

/// The size of an RSA key in PKCS #1 form (`SEQUENCE { n INTEGER, e INTEGER }`), in bits.
fn rsa_modulus_bits(pkcs1: &[u8]) -> Option<usize> {
    use x509_cert::der::{Reader as _, SliceReader, asn1::UintRef};
    let mut reader = SliceReader::new(pkcs1).ok()?;
    let modulus = reader
        .sequence(|body| {
            let modulus: UintRef<'_> = body.decode()?;
            let _exponent: UintRef<'_> = body.decode()?;
            Ok::<_, x509_cert::der::Error>(modulus)
        })
        .ok()?;
    reader.finish().ok()?;
    let bytes = modulus.as_bytes();
    let leading = bytes.first().map_or(8, |b| b.leading_zeros() as usize);
    Some(bytes.len() * 8 - leading)
}

/// The key id of a message: the protected header's, or else the unprotected one's.
pub fn kid(sign1: &CoseSign1) -> Option<&[u8]> {
    [&sign1.protected.header.key_id, &sign1.unprotected.key_id]
        .into_iter()
        .find(|kid| !kid.is_empty())
        .map(Vec::as_slice)
}

/// The signers trusted here, by key id.
#[derive(Debug, Clone, Default)]
pub struct TrustList {
    by_kid: HashMap<Vec<u8>, Vec<Dsc>>,
}

impl TrustList {
    pub fn new() -> TrustList {
        TrustList::default()
    }

    /// Trusts a signer. Two certificates may share a key id; both are kept.
    pub fn insert(&mut self, dsc: Dsc) {
        self.by_kid.entry(dsc.kid.clone()).or_default().push(dsc);
    }

    pub fn get(&self, kid: &[u8]) -> &[Dsc] {
        self.by_kid.get(kid).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn len(&self) -> usize {
        self.by_kid.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_kid.is_empty()
    }
}

/// The claims of a DCC.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DccClaims {
    /// The issuing country (ISO 3166-1 alpha-2), when given.
    pub issuer: Option<String>,
    /// Unix seconds.
    pub issued_at: i64,
    pub expires_at: i64,
    /// The health certificate (claim −260, key 1) as JSON.
    pub hcert: Value,
}

impl DccClaims {
    /// The certificate's type: it must hold exactly one of `v`, `t`, `r`.
    pub fn cert_type(&self) -> Result<CertType, DccError> {
        let types: Vec<CertType> = [
            ("v", CertType::Vaccination),
            ("t", CertType::Test),
            ("r", CertType::Recovery),
        ]
        .into_iter()
        .filter(|(key, _)| self.hcert.get(key).is_some())
        .map(|(_, cert_type)| cert_type)
        .collect();
        match types.as_slice() {
            [one] => Ok(*one),
            [] => Err(DccError::BadClaims(
                "the certificate holds no v, t or r entry",
            )),
            _ => Err(DccError::BadClaims(
                "the certificate holds more than one type",
            )),
        }
    }
}

/// Reads the CWT claims of a message's payload.
pub fn claims(sign1: &CoseSign1) -> Result<DccClaims, DccError> {
    let payload = sign1
        .payload
        .as_deref()
        .ok_or(DccError::BadClaims("no payload"))?;
    let value: Cbor = ciborium::de::from_reader(payload)
        .map_err(|_| DccError::BadClaims("the payload is not CBOR"))?;
    let Cbor::Map(entries) = value else {
        return Err(DccError::BadClaims("the payload is not a map"));
    };
    let claim = |key: i64| {
        entries
            .iter()
            .find(|(label, _)| label.as_integer().and_then(|i| i64::try_from(i).ok()) == Some(key))
            .map(|(_, value)| value)
    };
    let seconds = |key: i64| -> Result<i64, DccError> {
        match claim(key) {
            Some(Cbor::Integer(i)) => i64::try_from(*i).map_err(|_| DccError::BadClaims("time")),
            Some(Cbor::Float(f)) if f.is_finite() => Ok(*f as i64),
            Some(Cbor::Tag(1, inner)) => match inner.as_ref() {
                Cbor::Integer(i) => i64::try_from(*i).map_err(|_| DccError::BadClaims("time")),
                _ => Err(DccError::BadClaims("time")),
            },
            _ => Err(DccError::BadClaims("iat or exp is missing or not a time")),
        }
    };
    let issuer = match claim(CLAIM_ISSUER) {
        Some(Cbor::Text(text)) => Some(text.clone()),
        None => None,
        Some(_) => return Err(DccError::BadClaims("iss is not text")),
    };
    let hcert = match claim(CLAIM_HCERT) {
        Some(Cbor::Map(certificates)) if certificates.len() == 1 => certificates
            .iter()
            .find(|(key, _)| key.as_integer().map(i128::from) == Some(1))
            .map(|(_, certificate)| certificate)
            .ok_or(DccError::BadClaims("hcert has no entry 1"))?,
        Some(_) => return Err(DccError::BadClaims("hcert must hold exactly entry 1")),
        None => return Err(DccError::BadClaims("no hcert claim (-260)")),
    };
    let hcert = cbor_to_json(hcert).ok_or(DccError::BadClaims("hcert is not JSON data"))?;
    if !hcert.is_object() {
        return Err(DccError::BadClaims("hcert is not a map"));
    }
    Ok(DccClaims {
        issuer,
        issued_at: seconds(CLAIM_ISSUED)?,
        expires_at: seconds(CLAIM_EXPIRES)?,
        hcert,
    })
}

/// Converts CBOR to JSON: dates (tags 0, 1 and 1004) become their text; byte strings, NaN and
/// maps with non-text keys are refused.
pub fn cbor_to_json(value: &Cbor) -> Option<Value> {
    Some(match value {
        Cbor::Integer(i) => {
            let i = i128::from(*i);
            if let Ok(small) = i64::try_from(i) {
                Value::from(small)
            } else {
                Value::from(u64::try_from(i).ok()?)
            }
        }
        Cbor::Float(f) => Value::Number(serde_json::Number::from_f64(*f)?),
        Cbor::Text(text) => Value::String(text.clone()),
        Cbor::Bool(b) => Value::Bool(*b),
        Cbor::Null => Value::Null,
        Cbor::Array(items) => Value::Array(items.iter().map(cbor_to_json).collect::<Option<_>>()?),
        Cbor::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(key, value)| Some((key.as_text()?.to_owned(), cbor_to_json(value)?)))
                .collect::<Option<_>>()?,
        ),
        Cbor::Tag(1, inner) => {
            let seconds = match inner.as_ref() {
                Cbor::Integer(i) => i64::try_from(*i).ok()?,
                Cbor::Float(f) if f.is_finite() => *f as i64,
                _ => return None,
            };
            let time = time::OffsetDateTime::from_unix_timestamp(seconds).ok()?;
            Value::String(
                time.format(&time::format_description::well_known::Rfc3339)
                    .ok()?,
            )
        }
        Cbor::Tag(_, inner) => cbor_to_json(inner)?,
        _ => return None,
    })
}

/// Checks the moment against the certificate and the certificate against its signer: the
/// signer was valid when it signed and still is at expiry, it was issued before now, and it has
/// not expired.
pub fn check_validity(claims: &DccClaims, dsc: &Dsc, now: i64) -> Result<(), DccError> {
    if claims.issued_at < dsc.not_before || claims.expires_at > dsc.not_after {
        return Err(DccError::OutsideSignerValidity);
    }
    if claims.issued_at > now {
        return Err(DccError::NotYetValid);
    }
    if now > claims.expires_at {
        return Err(DccError::Expired);
    }
    Ok(())
}

/// Checks that the signer may sign the certificate's type.
pub fn check_key_usage(claims: &DccClaims, dsc: &Dsc) -> Result<CertType, DccError> {
    let cert_type = claims.cert_type()?;
    if dsc.may_sign(cert_type) {
        Ok(cert_type)
    } else {
        Err(DccError::KeyUsage(cert_type))
    }
}

/// The DCC JSON schemas, by version. A certificate is validated against the schema of the
/// version it declares (`ver`); a version held by none is validated against the current one.
#[derive(Default)]
pub struct Schemas {
    versions: HashMap<String, jsonschema::Validator>,
    current: Option<jsonschema::Validator>,
}

impl Schemas {
    pub fn new() -> Schemas {
        Schemas::default()
    }

    /// Adds the schema of a release; `current` marks it as the one for unknown versions.
    pub fn add(&mut self, version: &str, schema: &Value, current: bool) -> Result<(), String> {
        let validator = jsonschema::validator_for(schema).map_err(|error| error.to_string())?;
        if current {
            self.current = Some(jsonschema::validator_for(schema).map_err(|e| e.to_string())?);
        }
        self.versions.insert(version.to_owned(), validator);
        Ok(())
    }

    /// Whether any schema is held.
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty() && self.current.is_none()
    }

    /// The versions held.
    pub fn versions(&self) -> Vec<String> {
        let mut versions: Vec<String> = self.versions.keys().cloned().collect();
        versions.sort();
        versions
    }

    /// Validates a certificate against the schema of its declared version (`ver`).
    pub fn validate(&self, hcert: &Value) -> Result<(), DccError> {
        let version = hcert
            .get("ver")
            .and_then(Value::as_str)
            .ok_or_else(|| DccError::Schema("no schema version (ver)".into()))?;
        self.validate_as(version, hcert)
    }

    /// Validates a certificate against the schema of the given version.
    pub fn validate_as(&self, version: &str, hcert: &Value) -> Result<(), DccError> {
        let validator = self
            .versions
            .get(version)
            .or(self.current.as_ref())
            .ok_or_else(|| DccError::Schema(format!("no schema for version {version}")))?;
        if let Some(error) = validator.iter_errors(hcert).next() {
            return Err(DccError::Schema(format!(
                "{} at {}",
                error,
                error.instance_path()
            )));
        }
        Ok(())
    }
}

/// A verified DCC: what a checker is told.
#[derive(Debug, Clone, Serialize)]
pub struct VerifiedDcc {
    pub claims: DccClaims,
    pub cert_type: CertType,
    /// The signer certificate's subject.
    pub signer: String,
    pub algorithm: &'static str,
}

/// Verifies an `HC1:` code end to end: decode, key id, signature, claims, the schema (when
/// schemas are given), validity against the moment and the signer, and key usage.
pub fn verify(
    text: &str,
    trust: &TrustList,
    now: i64,
    schemas: Option<&Schemas>,
) -> Result<VerifiedDcc, DccError> {
    let sign1 = parse_sign1(&unwrap(DCC_PREFIX, text)?)?;
    let kid = kid(&sign1).ok_or(DccError::MissingKid)?;
    let candidates = trust.get(kid);
    if candidates.is_empty() {
        return Err(DccError::UnknownKid);
    }
    let mut last = DccError::BadSignature;
    let dsc = candidates
        .iter()
        .find(|dsc| match dsc.verify(&sign1) {
            Ok(()) => true,
            Err(error) => {
                last = error;
                false
            }
        })
        .ok_or(last)?;
    let claims = claims(&sign1)?;
    if let Some(schemas) = schemas {
        schemas.validate(&claims.hcert)?;
    }
    check_validity(&claims, dsc, now)?;
    let cert_type = check_key_usage(&claims, dsc)?;
    Ok(VerifiedDcc {
        claims,
        cert_type,
        signer: dsc.subject.clone(),
        algorithm: dsc.algorithm(),
    })
}

/// Decodes the COSE bytes of an `HC1:` code: the unprefix, Base45 and zlib steps.
pub fn cose_bytes(text: &str) -> Result<Vec<u8>, DccError> {
    Ok(unwrap(DCC_PREFIX, text)?)
}

#[cfg(test)]
mod tests {
    use super::rsa_modulus_bits;

    /// A DER length (definite, minimal).
    fn length(len: usize) -> Vec<u8> {
        match len {
            0..=0x7f => vec![len as u8],
            0x80..=0xff => vec![0x81, len as u8],
            _ => vec![0x82, (len >> 8) as u8, len as u8],
        }
    }

    /// PKCS #1 `RSAPublicKey` with a modulus of `bytes` bytes, top bit set, exponent 65537.
    fn pkcs1(bytes: usize) -> Vec<u8> {
        let mut modulus = vec![0x00, 0xc0];
        modulus.resize(bytes + 1, 0x01);
        let mut body = vec![0x02];
        body.extend(length(modulus.len()));
        body.extend(&modulus);
        body.extend([0x02, 0x03, 0x01, 0x00, 0x01]);
        let mut der = vec![0x30];
        der.extend(length(body.len()));
        der.extend(body);
        der
    }

    #[test]
    fn rsa_key_sizes_are_read_from_pkcs1() {
        assert_eq!(rsa_modulus_bits(&pkcs1(256)), Some(2048));
        assert_eq!(rsa_modulus_bits(&pkcs1(384)), Some(3072));
        assert_eq!(rsa_modulus_bits(&pkcs1(128)), Some(1024));
        let mut trailing = pkcs1(256);
        trailing.push(0);
        assert_eq!(rsa_modulus_bits(&trailing), None);
        assert_eq!(rsa_modulus_bits(&[0x30, 0x00]), None);
        assert_eq!(rsa_modulus_bits(b"not der"), None);
    }
}
