//! Signed status lists, in the style of the W3C Bitstring Status List: per issuing department
//! and certificate type, one bit per certificate for revocation and one for suspension, each
//! bitstring GZIP-compressed and Base64url-encoded with the multibase prefix `u`. A bitstring
//! holds at least 131,072 bits (16 KiB) so that fetching a list does not tell which certificate a
//! verifier is checking. The issuing department signs the list; a verifier caches it until its
//! `valid_until` and checks certificates offline.

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use tongban_crypto::{KeyRing, Signer};

use crate::{Authority, CertError, SignedCertificate};

/// The fewest bits in a list (16 KiB), for herd privacy.
pub const MIN_BITS: u64 = 131_072;
/// The most bits a verifier decodes (16 MiB of bitstring), which bounds memory on a
/// compression bomb.
pub const MAX_BITS: u64 = 1 << 27;

/// One issuer's status list for one certificate type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusList {
    /// `<issuer USCC>/<type code>`, as certificates name it.
    pub id: String,
    pub issuer: Authority,
    pub type_code: String,
    /// Unix seconds: when the list was made, and until when a verifier may rely on it.
    pub issued_at: i64,
    pub valid_until: i64,
    /// The revocation bitstring (`u` + Base64url of GZIP).
    pub revocation: String,
    /// The suspension bitstring.
    pub suspension: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedStatusList {
    pub list: StatusList,
    pub alg: String,
    pub kid: String,
    pub signature: String,
}

/// A certificate's status as a list tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListedStatus {
    Valid,
    Suspended,
    Revoked,
}

impl ListedStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ListedStatus::Valid => "valid",
            ListedStatus::Suspended => "suspended",
            ListedStatus::Revoked => "revoked",
        }
    }
}

/// The bits to hold `highest` (exclusive) positions: at least [`MIN_BITS`], a whole number of
/// bytes.
pub fn list_bits(highest: u64) -> u64 {
    highest.max(MIN_BITS).div_ceil(8) * 8
}

/// Encodes a bitstring of `bits` bits with the given positions set. Position 0 is the most
/// significant bit of the first byte. Positions at or past `bits` are ignored.
pub fn encode(bits: u64, set: impl IntoIterator<Item = u64>) -> String {
    let mut bytes = vec![0u8; usize::try_from(bits.div_ceil(8)).unwrap_or(0)];
    for index in set {
        if let Some(byte) = usize::try_from(index / 8)
            .ok()
            .and_then(|i| bytes.get_mut(i))
        {
            *byte |= 0x80 >> (index % 8);
        }
    }
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = gzip.write_all(&bytes);
    let compressed = gzip.finish().unwrap_or_default();
    format!("u{}", URL_SAFE_NO_PAD.encode(compressed))
}

/// Decodes a bitstring, refusing more than [`MAX_BITS`].
pub fn decode(encoded: &str) -> Result<Vec<u8>, CertError> {
    let compressed = encoded
        .strip_prefix('u')
        .and_then(|b64| URL_SAFE_NO_PAD.decode(b64).ok())
        .ok_or(CertError::BadStatusList)?;
    let limit = MAX_BITS / 8;
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| CertError::BadStatusList)?;
    if bytes.len() as u64 > limit || (bytes.len() as u64) * 8 < MIN_BITS {
        return Err(CertError::BadStatusList);
    }
    Ok(bytes)
}

/// Whether position `index` is set; `None` past the end.
pub fn bit(bytes: &[u8], index: u64) -> Option<bool> {
    let byte = bytes.get(usize::try_from(index / 8).ok()?)?;
    Some(byte & (0x80 >> (index % 8)) != 0)
}

/// Signs a status list with the issuing department's key.
pub fn sign(list: StatusList, signer: &dyn Signer) -> SignedStatusList {
    let (alg, kid, signature) = crate::seal_envelope("list", &list, signer);
    SignedStatusList {
        list,
        alg,
        kid,
        signature,
    }
}

/// Checks a list's signature against the issuers' keys and that it is still current at `now`
/// (Unix seconds).
pub fn verify(signed: &SignedStatusList, keys: &KeyRing, now: i64) -> Result<(), CertError> {
    crate::open_envelope(
        "list",
        &signed.list,
        &signed.alg,
        &signed.kid,
        &signed.signature,
        keys,
    )?;
    if now < signed.list.issued_at - 300 || now > signed.list.valid_until {
        return Err(CertError::BadStatusList);
    }
    Ok(())
}

/// A certificate's status from a verified list. The list must be the one the certificate
/// names, from the certificate's issuer; revocation outranks suspension.
pub fn status_of(
    list: &SignedStatusList,
    certificate: &SignedCertificate,
) -> Result<ListedStatus, CertError> {
    let entry = certificate
        .certificate
        .status
        .as_ref()
        .ok_or(CertError::BadStatusList)?;
    if entry.list != list.list.id
        || list.list.issuer.code != certificate.certificate.issuer.code
        || list.list.type_code != certificate.certificate.type_code
    {
        return Err(CertError::BadStatusList);
    }
    let revoked = bit(&decode(&list.list.revocation)?, entry.index);
    let suspended = bit(&decode(&list.list.suspension)?, entry.index);
    match (revoked, suspended) {
        (Some(true), _) => Ok(ListedStatus::Revoked),
        (Some(false), Some(true)) => Ok(ListedStatus::Suspended),
        (Some(false), Some(false)) => Ok(ListedStatus::Valid),
        _ => Err(CertError::BadStatusList),
    }
}
