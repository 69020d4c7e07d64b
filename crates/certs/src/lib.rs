//! tongban-certs: an electronic certificate (电子证照) as data, and its signature.
//!
//! A certificate carries the GB/T 36903 metadata (identifier, type, number, holder, issuing
//! authority, dates, region) and its data items. The issuing department signs the RFC 8785
//! canonical JSON of `{"alg", "certificate", "kid"}`, so the signature covers the algorithm and
//! key it names as well as every byte of the certificate, whatever order a copy's keys come in.
//! Status (valid, suspended, revoked) is not part of the signed document: it changes, and is
//! looked up online or in a signed status list ([`status`]), at the position the certificate
//! names. A department using a certificate receives an annotated copy ([`copy`]) signed by the
//! platform. The format is in `docs/certificate-format.md`.
#![forbid(unsafe_code)]

pub mod copy;
pub mod status;

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tongban_core::{CertificateId, Zone};
use tongban_crypto::{KeyRing, SignatureAlgorithm, Signer};

/// What kind of code identifies the holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolderCodeType {
    /// 公民身份号码 (GB 11643).
    ResidentId,
    /// 统一社会信用代码 (GB 32100).
    Uscc,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holder {
    pub name: String,
    pub code: String,
    pub code_type: HolderCodeType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authority {
    pub name: String,
    /// The issuing department's USCC.
    pub code: String,
}

/// A certificate's content: the GB/T 36903 metadata and the data items of its type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// 证照标识, GB/T 36904.
    pub id: String,
    /// 证照类型名称 and 证照类型代码.
    pub type_name: String,
    pub type_code: String,
    /// 证照编号: the number printed on the certificate.
    pub number: String,
    pub holder: Holder,
    /// 发证机构.
    pub issuer: Authority,
    /// Dates as `YYYY-MM-DD`, calendar days in [`Certificate::time_zone`].
    pub issued_on: String,
    pub valid_from: String,
    /// `None`: valid without end (长期).
    pub valid_until: Option<String>,
    /// The issuing region's time zone, in which the dates above are days (`+08:00`). Absent
    /// in certificates issued before certificates named their zone, which were issued in China
    /// Standard Time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<Zone>,
    /// 行政区划代码 of the issuing region.
    pub region: String,
    /// The data items of the type, by item code.
    pub items: BTreeMap<String, Value>,
    /// Where the certificate's status is published offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusEntry>,
}

/// A certificate's place in its issuer's status list (W3C Bitstring Status List style).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusEntry {
    /// The list: `<issuer USCC>/<type code>`, served at `/api/v1/certs/status-lists/<list>`.
    pub list: String,
    /// The certificate's bit in the list.
    pub index: u64,
}

/// A certificate with its issuer's signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedCertificate {
    pub certificate: Certificate,
    /// `Ed25519`, `ES256` or `SM2-SM3`.
    pub alg: String,
    pub kid: String,
    /// Base64url without padding.
    pub signature: String,
}

/// Why a certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("the certificate identifier is not valid")]
    BadIdentifier,
    #[error("the identifier does not match the type code or the issuer")]
    IdentifierMismatch,
    #[error("a date is not YYYY-MM-DD, or the validity ends before it starts")]
    BadDates,
    #[error("the signing key is not in the trust list")]
    UnknownKey,
    #[error("the algorithm named does not match the key")]
    AlgorithmMismatch,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the certificate is not valid on that day")]
    OutsideValidity,
    #[error("the annotated copy has expired")]
    CopyExpired,
    #[error("the status list is malformed, stale, or not the certificate's")]
    BadStatusList,
}

impl CertError {
    /// A stable reason code for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            CertError::BadIdentifier => "bad_identifier",
            CertError::IdentifierMismatch => "identifier_mismatch",
            CertError::BadDates => "bad_dates",
            CertError::UnknownKey => "unknown_kid",
            CertError::AlgorithmMismatch => "algorithm_mismatch",
            CertError::BadSignature => "bad_signature",
            CertError::OutsideValidity => "outside_validity",
            CertError::CopyExpired => "copy_expired",
            CertError::BadStatusList => "bad_status_list",
        }
    }
}

fn date(text: &str) -> Result<time::Date, CertError> {
    tongban_core::zone::parse_ymd(text).ok_or(CertError::BadDates)
}

impl Certificate {
    /// Checks what the signature cannot: the identifier is well formed and names this type and
    /// issuer, and the dates are dates in order.
    pub fn check(&self) -> Result<CertificateId, CertError> {
        let id: CertificateId = self.id.parse().map_err(|_| CertError::BadIdentifier)?;
        if id.certificate_type.to_string() != self.type_code
            || id.issuer.as_str() != self.issuer.code
        {
            return Err(CertError::IdentifierMismatch);
        }
        date(&self.issued_on)?;
        let from = date(&self.valid_from)?;
        if let Some(until) = &self.valid_until
            && date(until)? < from
        {
            return Err(CertError::BadDates);
        }
        Ok(id)
    }

    /// The zone in which the certificate's dates are days.
    pub fn zone(&self) -> Zone {
        self.time_zone.unwrap_or(Zone::CHINA)
    }

    /// The day it is in the certificate's zone at the instant `now` (Unix seconds).
    pub fn day_at(&self, now: i64) -> time::Date {
        self.zone().date_of_seconds(now)
    }

    /// Whether the certificate is within its validity at the instant `now` (Unix seconds): the
    /// day then, in the issuing region's zone, lies within `valid_from` … `valid_until`.
    pub fn valid_at(&self, now: i64) -> Result<bool, CertError> {
        self.valid_on(self.day_at(now))
    }

    /// Whether the certificate's validity covers `day` (a day in the certificate's zone).
    pub fn valid_on(&self, day: time::Date) -> Result<bool, CertError> {
        let from = date(&self.valid_from)?;
        let until = self.valid_until.as_deref().map(date).transpose()?;
        Ok(from <= day && until.is_none_or(|end| day <= end))
    }
}

/// An envelope's signed fields: `alg`, the content under its field name, and `kid`.
struct EnvelopeInput<'a, T> {
    field: &'a str,
    content: &'a T,
    alg: &'a str,
    kid: &'a str,
}

impl<T: Serialize> Serialize for EnvelopeInput<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("alg", self.alg)?;
        map.serialize_entry(self.field, self.content)?;
        map.serialize_entry("kid", self.kid)?;
        map.end()
    }
}

/// The bytes a signature covers: the canonical JSON (keys sorted) of the algorithm, the content
/// under its field name, and the key id.
fn envelope_input<T: Serialize>(field: &str, content: &T, alg: &str, kid: &str) -> Vec<u8> {
    // Serialising plain data (strings, maps, JSON values) cannot fail.
    serde_json_canonicalizer::to_vec(&EnvelopeInput {
        field,
        content,
        alg,
        kid,
    })
    .unwrap_or_default()
}

/// The bytes a certificate's signature covers: the canonical JSON of algorithm, certificate and
/// key id.
pub fn signing_input(certificate: &Certificate, alg: &str, kid: &str) -> Vec<u8> {
    envelope_input("certificate", certificate, alg, kid)
}

/// Signs `content` as `field` of an envelope: the algorithm, key id and Base64url signature.
fn seal_envelope<T: Serialize>(
    field: &str,
    content: &T,
    signer: &dyn Signer,
) -> (String, String, String) {
    let alg = signer.algorithm().as_str();
    let signature = signer.sign(&envelope_input(field, content, alg, signer.kid()));
    (
        alg.to_owned(),
        signer.kid().to_owned(),
        URL_SAFE_NO_PAD.encode(signature),
    )
}

/// Checks an envelope's signature: the key is trusted, of the algorithm named, and signed
/// exactly this content.
fn open_envelope<T: Serialize>(
    field: &str,
    content: &T,
    alg: &str,
    kid: &str,
    signature: &str,
    keys: &KeyRing,
) -> Result<(), CertError> {
    let key = keys.get(kid).ok_or(CertError::UnknownKey)?;
    let algorithm = SignatureAlgorithm::ALL
        .into_iter()
        .find(|a| a.as_str() == alg)
        .ok_or(CertError::AlgorithmMismatch)?;
    if key.algorithm != algorithm {
        return Err(CertError::AlgorithmMismatch);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| CertError::BadSignature)?;
    keys.verify(kid, &envelope_input(field, content, alg, kid), &signature)
        .map_err(|_| CertError::BadSignature)
}

/// Signs a certificate (after checking its identifier and dates).
pub fn sign(certificate: Certificate, signer: &dyn Signer) -> Result<SignedCertificate, CertError> {
    certificate.check()?;
    let (alg, kid, signature) = seal_envelope("certificate", &certificate, signer);
    Ok(SignedCertificate {
        certificate,
        alg,
        kid,
        signature,
    })
}

/// Verifies a signed certificate against the issuers' keys, and its validity at the instant
/// `now` (Unix seconds), whose day is taken in the certificate's own zone. Says nothing about
/// status (suspension, revocation), which is looked up separately.
pub fn verify(signed: &SignedCertificate, keys: &KeyRing, now: i64) -> Result<(), CertError> {
    signed.certificate.check()?;
    open_envelope(
        "certificate",
        &signed.certificate,
        &signed.alg,
        &signed.kid,
        &signed.signature,
        keys,
    )?;
    if !signed.certificate.valid_at(now)? {
        return Err(CertError::OutsideValidity);
    }
    Ok(())
}
