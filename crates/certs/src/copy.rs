//! 加注件: the annotated copy a department receives when it uses a holder's certificate. The
//! copy holds the issuer-signed certificate and an annotation — who uses it, for which service
//! item, why, when, and until when the copy may be relied on — and the platform signs the two
//! together, so a copy cannot be reused under another cause or past its expiry.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tongban_crypto::{KeyRing, Signer};

use crate::{Authority, CertError, SignedCertificate};

/// What the platform adds to a certificate it releases to a using unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Annotation {
    /// The use this copy records (in the holder's 用证记录).
    pub use_id: String,
    /// 用证单位: the department using the certificate.
    pub using_unit: Authority,
    /// The service item (事项) the certificate is used for: code and name.
    pub service_code: String,
    pub service_name: String,
    /// 用证事由.
    pub cause: String,
    /// `consent` (the holder authorised it) or `legal_basis` (the service item's basis permits
    /// use without consent).
    pub basis: String,
    /// RFC 3339: when the copy was made, and the end of its use.
    pub used_at: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnotatedCopy {
    pub certificate: SignedCertificate,
    pub annotation: Annotation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedCopy {
    pub copy: AnnotatedCopy,
    pub alg: String,
    pub kid: String,
    pub signature: String,
}

fn instant(text: &str) -> Result<i64, CertError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(OffsetDateTime::unix_timestamp)
        .map_err(|_| CertError::BadDates)
}

/// Signs a copy with the platform's key, after checking that its times parse and are in order.
pub fn sign(copy: AnnotatedCopy, signer: &dyn Signer) -> Result<SignedCopy, CertError> {
    if instant(&copy.annotation.expires_at)? <= instant(&copy.annotation.used_at)? {
        return Err(CertError::BadDates);
    }
    let (alg, kid, signature) = crate::seal_envelope("copy", &copy, signer);
    Ok(SignedCopy {
        copy,
        alg,
        kid,
        signature,
    })
}

/// Verifies a copy at `now` (Unix seconds): the platform's signature over certificate and
/// annotation, the copy not yet expired, and the certificate inside signed by a trusted issuer
/// and within its validity at `now` (its day taken in the certificate's zone).
pub fn verify(
    signed: &SignedCopy,
    platform_keys: &KeyRing,
    issuer_keys: &KeyRing,
    now: i64,
) -> Result<(), CertError> {
    crate::open_envelope(
        "copy",
        &signed.copy,
        &signed.alg,
        &signed.kid,
        &signed.signature,
        platform_keys,
    )?;
    if now >= instant(&signed.copy.annotation.expires_at)? {
        return Err(CertError::CopyExpired);
    }
    crate::verify(&signed.copy.certificate, issuer_keys, now)
}
