//! tongban-pades: signatures on PDF files as PAdES baseline B (ETSI EN 319 142-1, level B-B)
//! makes them — a detached CMS SignedData (RFC 5652) over the file's byte range, with the
//! signed attributes content-type, message-digest and ESS signing-certificate-v2, and the
//! signing time in the signature dictionary's `/M` — and the X.509 certificates ([`cert`]) the
//! platform issues for the keys that sign. No IO: the office module keeps the keys and files.
//!
//! The three algorithms of the platform map to CMS as follows: ECDSA P-256 with SHA-256
//! (ecdsa-with-SHA256), Ed25519 with SHA-512 message digests (RFC 8419), and SM2 with SM3
//! (GM/T 0010, OID 1.2.156.10197.1.501). Independent validators (pyHanko, Adobe) read the first
//! two; the third is read by `tongban office verify`.
#![forbid(unsafe_code)]

pub mod cert;

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode, Sequence};
use tongban_crypto::{PublicKey, SignatureAlgorithm, Signer};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;

/// Bytes kept for the signature in `/Contents`: room for the CMS structure with two
/// certificates, several times over.
pub const CONTENTS_LEN: usize = 16_384;

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PadesError {
    /// The file has no signature slot (a `/ByteRange` placeholder and zero-filled `/Contents`).
    NoSlot,
    /// The signature does not fit the room the file keeps for it.
    SlotTooSmall,
    /// A certificate could not be made or read; the part named.
    Certificate(&'static str),
    /// The file carries no signature.
    Unsigned,
    /// The signature is not well formed; the part named.
    Malformed(&'static str),
    /// The signature does not cover the whole file: something was added after signing.
    NotWholeFile,
    /// The file's bytes are not the bytes signed.
    Altered,
    /// The signature does not verify under the signer's certificate.
    BadSignature,
    /// A certificate of the chain is not signed by the next one, or the chain has no root.
    BadChain,
    /// An algorithm this platform does not sign with.
    Algorithm,
}

impl std::fmt::Display for PadesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoSlot => f.write_str("the file keeps no room for a signature"),
            Self::SlotTooSmall => f.write_str("the signature does not fit its slot"),
            Self::Certificate(part) => write!(f, "certificate: {part}"),
            Self::Unsigned => f.write_str("the file is not signed"),
            Self::Malformed(part) => write!(f, "the signature is malformed: {part}"),
            Self::NotWholeFile => f.write_str("the signature does not cover the whole file"),
            Self::Altered => f.write_str("the file was changed after it was signed"),
            Self::BadSignature => f.write_str("the signature does not verify"),
            Self::BadChain => f.write_str("the certificate chain does not verify"),
            Self::Algorithm => f.write_str("an algorithm tongban does not use"),
        }
    }
}

impl std::error::Error for PadesError {}

/// The algorithms, as CMS and X.509 name them.
mod algorithm {
    use super::*;
    use spki::AlgorithmIdentifierOwned;

    pub(crate) struct Suite {
        pub algorithm: SignatureAlgorithm,
        signature: ObjectIdentifier,
        digest: ObjectIdentifier,
    }

    const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
    const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
    const SM2_SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.501");
    const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
    const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
    const SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.401");

    pub(crate) fn of(algorithm: SignatureAlgorithm) -> Suite {
        let (signature, digest) = match algorithm {
            SignatureAlgorithm::Es256 => (ECDSA_SHA256, SHA256),
            SignatureAlgorithm::Ed25519 => (ED25519, SHA512),
            SignatureAlgorithm::Sm2Sm3 => (SM2_SM3, SM3),
        };
        Suite {
            algorithm,
            signature,
            digest,
        }
    }

    pub(crate) fn by_signature(oid: &ObjectIdentifier) -> Option<Suite> {
        SignatureAlgorithm::ALL
            .into_iter()
            .map(of)
            .find(|s| s.signature == *oid)
    }

    pub(crate) fn digest_by(oid: &ObjectIdentifier, parts: &[&[u8]]) -> Option<Vec<u8>> {
        use sha2::Digest as _;
        fn run<D: sha2::Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            for part in parts {
                d.update(part);
            }
            d.finalize().to_vec()
        }
        let _ = sha2::Sha256::new;
        match *oid {
            SHA256 => Some(run::<sha2::Sha256>(parts)),
            SHA512 => Some(run::<sha2::Sha512>(parts)),
            SM3 => Some(run::<sm3::Sm3>(parts)),
            _ => None,
        }
    }

    #[derive(Sequence)]
    struct EcdsaSignature<'a> {
        r: der::asn1::UintRef<'a>,
        s: der::asn1::UintRef<'a>,
    }

    impl Suite {
        pub(crate) fn signature(&self) -> AlgorithmIdentifierOwned {
            AlgorithmIdentifierOwned {
                oid: self.signature,
                parameters: None,
            }
        }

        pub(crate) fn digest(&self) -> AlgorithmIdentifierOwned {
            AlgorithmIdentifierOwned {
                oid: self.digest,
                parameters: None,
            }
        }

        pub(crate) fn hash(&self, parts: &[&[u8]]) -> Vec<u8> {
            digest_by(&self.digest, parts).unwrap_or_default()
        }

        /// The platform's r‖s (or Ed25519's 64 bytes) as X.509 and CMS carry it.
        pub(crate) fn encode_signature(&self, raw: &[u8]) -> Result<Vec<u8>, PadesError> {
            if self.algorithm == SignatureAlgorithm::Ed25519 {
                return Ok(raw.to_vec());
            }
            let (r, s) = raw.split_at_checked(32).ok_or(PadesError::BadSignature)?;
            let bad = |_| PadesError::BadSignature;
            EcdsaSignature {
                r: der::asn1::UintRef::new(r).map_err(bad)?,
                s: der::asn1::UintRef::new(s).map_err(bad)?,
            }
            .to_der()
            .map_err(bad)
        }

        pub(crate) fn decode_signature(&self, encoded: &[u8]) -> Result<Vec<u8>, PadesError> {
            if self.algorithm == SignatureAlgorithm::Ed25519 {
                return Ok(encoded.to_vec());
            }
            let signature =
                EcdsaSignature::from_der(encoded).map_err(|_| PadesError::BadSignature)?;
            let mut raw = vec![0u8; 64];
            for (value, at) in [(signature.r, 0), (signature.s, 32)] {
                let bytes = value.as_bytes();
                if bytes.len() > 32 {
                    return Err(PadesError::BadSignature);
                }
                raw[at + 32 - bytes.len()..at + 32].copy_from_slice(bytes);
            }
            Ok(raw)
        }
    }
}

/// ESSCertIDv2 (RFC 5035), the hash algorithm SHA-256 (the default, so not written) or SM3.
#[derive(Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<spki::AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
}

#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// Where the signature slot lies: the `/ByteRange` array's inside and the `/Contents` string.
struct Slot {
    range: std::ops::Range<usize>,
    contents: std::ops::Range<usize>,
}

fn slot(pdf: &[u8]) -> Result<Slot, PadesError> {
    let marker = b"/ByteRange [0 1000000000 1000000000 1000000000]";
    let at = find(pdf, marker).ok_or(PadesError::NoSlot)?;
    let range = at + b"/ByteRange [".len()..at + marker.len() - 1;
    let open = find(pdf, b"/Contents (0").ok_or(PadesError::NoSlot)? + b"/Contents ".len();
    let zeros = pdf[open + 1..].iter().take_while(|b| **b == b'0').count();
    let close = open + 1 + zeros;
    if pdf.get(close) != Some(&b')') || zeros % 2 != 0 {
        return Err(PadesError::NoSlot);
    }
    Ok(Slot {
        range,
        contents: open..close + 1,
    })
}

fn attribute(oid: ObjectIdentifier, value: impl Encode) -> Result<Attribute, PadesError> {
    let bad = |_| PadesError::Malformed("attribute");
    let value = Any::from_der(&value.to_der().map_err(bad)?).map_err(bad)?;
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).map_err(bad)?,
    })
}

fn signing_certificate(
    suite: &algorithm::Suite,
    certificate: &[u8],
) -> Result<SigningCertificateV2, PadesError> {
    let sm = suite.algorithm == SignatureAlgorithm::Sm2Sm3;
    let hash_oid = if sm {
        ObjectIdentifier::new_unwrap("1.2.156.10197.1.401")
    } else {
        ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1")
    };
    let hash = algorithm::digest_by(&hash_oid, &[certificate]).unwrap_or_default();
    Ok(SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: sm.then_some(spki::AlgorithmIdentifierOwned {
                oid: hash_oid,
                parameters: None,
            }),
            cert_hash: OctetString::new(hash)
                .map_err(|_| PadesError::Malformed("signing certificate"))?,
        }],
    })
}

/// Signs a file that keeps a signature slot (see `tongban_gongwen::pdf`): sets the byte
/// range, digests the file around `/Contents`, and writes the CMS signature there. `chain`
/// is the signer's certificate first, then its issuers.
pub fn sign(
    mut pdf: Vec<u8>,
    signer: &dyn Signer,
    chain: &[Vec<u8>],
) -> Result<Vec<u8>, PadesError> {
    let slot = slot(&pdf)?;
    let bad = |part| move |_| PadesError::Malformed(part);
    let len = pdf.len();
    let ranges = [
        0,
        slot.contents.start,
        slot.contents.end,
        len - slot.contents.end,
    ];
    let written = format!("{} {} {} {}", ranges[0], ranges[1], ranges[2], ranges[3]);
    let room = slot.range.len();
    if written.len() > room {
        return Err(PadesError::NoSlot);
    }
    pdf[slot.range.clone()].copy_from_slice(format!("{written:<room$}").as_bytes());

    let suite = algorithm::of(signer.algorithm());
    let message_digest = suite.hash(&[&pdf[..slot.contents.start], &pdf[slot.contents.end..]]);
    let certificate_der = chain.first().ok_or(PadesError::Certificate("chain"))?;
    let certificate =
        Certificate::from_der(certificate_der).map_err(|_| PadesError::Certificate("signer"))?;
    let signed_attrs = SetOfVec::try_from(vec![
        attribute(ID_CONTENT_TYPE, ID_DATA)?,
        attribute(
            ID_MESSAGE_DIGEST,
            OctetString::new(message_digest).map_err(bad("digest"))?,
        )?,
        attribute(
            ID_SIGNING_CERTIFICATE_V2,
            signing_certificate(&suite, certificate_der)?,
        )?,
    ])
    .map_err(bad("attributes"))?;
    let to_sign = signed_attrs.to_der().map_err(bad("attributes"))?;
    let signature = suite.encode_signature(&signer.sign(&to_sign))?;
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: certificate.tbs_certificate().issuer().clone(),
            serial_number: certificate.tbs_certificate().serial_number().clone(),
        }),
        digest_alg: suite.digest(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: suite.signature(),
        signature: OctetString::new(signature).map_err(bad("signature"))?,
        unsigned_attrs: None,
    };
    let certificates = chain
        .iter()
        .map(|der| {
            Certificate::from_der(der)
                .map(cms::cert::CertificateChoices::Certificate)
                .map_err(|_| PadesError::Certificate("chain"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![suite.digest()]).map_err(bad("digests"))?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet::try_from(certificates).map_err(bad("certificates"))?),
        crls: None,
        signer_infos: SignerInfos::try_from(vec![signer_info]).map_err(bad("signer"))?,
    };
    let content = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(bad("signed data"))?,
    }
    .to_der()
    .map_err(bad("content info"))?;
    let hex = hex_upper(&content);
    let room = slot.contents.len() - 2;
    if hex.len() > room {
        return Err(PadesError::SlotTooSmall);
    }
    let filled = format!("<{hex:0<room$}>");
    pdf[slot.contents].copy_from_slice(filled.as_bytes());
    Ok(pdf)
}

fn hex_upper(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

fn unhex(text: &[u8]) -> Option<Vec<u8>> {
    let value = |c: u8| (c as char).to_digit(16).map(|v| v as u8);
    text.chunks(2)
        .map(|pair| match pair {
            [a, b] => Some(value(*a)? << 4 | value(*b)?),
            _ => None,
        })
        .collect()
}

/// What a verified signature says.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The signer's certificate subject (RFC 4514).
    pub signer: String,
    pub algorithm: SignatureAlgorithm,
    /// The claimed signing time, as the file writes it (`D:20261207101500+08'00'`).
    pub time: Option<String>,
    /// The certificates from the signer's to the root, DER.
    pub chain: Vec<Vec<u8>>,
}

impl Verified {
    /// The root certificate the chain ends in.
    pub fn root(&self) -> &[u8] {
        self.chain.last().map_or(&[], |c| c.as_slice())
    }
}

fn ints(text: &[u8]) -> Option<[usize; 4]> {
    let text = std::str::from_utf8(text).ok()?;
    let mut numbers = text
        .split_ascii_whitespace()
        .map(|n| n.parse::<usize>().ok());
    let out = [
        numbers.next()??,
        numbers.next()??,
        numbers.next()??,
        numbers.next()??,
    ];
    numbers.next().is_none().then_some(out)
}

/// Verifies the last signature of a file: it covers the whole file, its digest is the file's,
/// it verifies under the signer's certificate, and the certificates chain to a self-signed
/// root that the caller then compares with the root it trusts.
pub fn verify(pdf: &[u8]) -> Result<Verified, PadesError> {
    let at = find(pdf, b"/ByteRange").ok_or(PadesError::Unsigned)?;
    let open = at
        + pdf[at..]
            .iter()
            .position(|b| *b == b'[')
            .ok_or(PadesError::Malformed("byte range"))?;
    let close = open
        + pdf[open..]
            .iter()
            .position(|b| *b == b']')
            .ok_or(PadesError::Malformed("byte range"))?;
    let [a, b, c, d] = ints(&pdf[open + 1..close]).ok_or(PadesError::Malformed("byte range"))?;
    if a != 0 || b >= c || c.checked_add(d) != Some(pdf.len()) {
        return Err(PadesError::NotWholeFile);
    }
    let gap = &pdf[b..c];
    let hex = gap
        .strip_prefix(b"<")
        .and_then(|g| g.strip_suffix(b">"))
        .ok_or(PadesError::Malformed("contents"))?;
    let bytes = unhex(hex).ok_or(PadesError::Malformed("contents"))?;
    let mut reader =
        der::SliceReader::new(&bytes).map_err(|_| PadesError::Malformed("contents"))?;
    let content = ContentInfo::decode(&mut reader).map_err(|_| PadesError::Malformed("CMS"))?;
    if content.content_type != ID_SIGNED_DATA {
        return Err(PadesError::Malformed("content type"));
    }
    let signed: SignedData = content
        .content
        .decode_as()
        .map_err(|_| PadesError::Malformed("signed data"))?;
    let [info] = signed.signer_infos.0.as_slice() else {
        return Err(PadesError::Malformed("signer count"));
    };
    let certificates: Vec<Certificate> = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    let SignerIdentifier::IssuerAndSerialNumber(sid) = &info.sid else {
        return Err(PadesError::Malformed("signer identifier"));
    };
    let signer_cert = certificates
        .iter()
        .find(|c| {
            c.tbs_certificate().issuer() == &sid.issuer
                && c.tbs_certificate().serial_number() == &sid.serial_number
        })
        .ok_or(PadesError::Certificate("signer"))?;
    let suite =
        algorithm::by_signature(&info.signature_algorithm.oid).ok_or(PadesError::Algorithm)?;
    if info.digest_alg.oid != suite.digest().oid {
        return Err(PadesError::Algorithm);
    }
    let attrs = info
        .signed_attrs
        .as_ref()
        .ok_or(PadesError::Malformed("signed attributes"))?;
    let value = |oid: ObjectIdentifier| {
        attrs
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.iter().next())
            .ok_or(PadesError::Malformed("signed attributes"))
    };
    let content_type: ObjectIdentifier = value(ID_CONTENT_TYPE)?
        .decode_as()
        .map_err(|_| PadesError::Malformed("content type"))?;
    if content_type != ID_DATA {
        return Err(PadesError::Malformed("content type"));
    }
    let digest: OctetString = value(ID_MESSAGE_DIGEST)?
        .decode_as()
        .map_err(|_| PadesError::Malformed("message digest"))?;
    if digest.as_bytes() != suite.hash(&[&pdf[..b], &pdf[c..]]).as_slice() {
        return Err(PadesError::Altered);
    }
    let signer_der = signer_cert
        .to_der()
        .map_err(|_| PadesError::Certificate("signer"))?;
    let essential: SigningCertificateV2 = value(ID_SIGNING_CERTIFICATE_V2)?
        .decode_as()
        .map_err(|_| PadesError::Malformed("signing certificate"))?;
    let expected = signing_certificate(&suite, &signer_der)?;
    if essential.certs.first().map(|c| c.cert_hash.as_bytes())
        != expected.certs.first().map(|c| c.cert_hash.as_bytes())
    {
        return Err(PadesError::Certificate("signing certificate attribute"));
    }
    let key = public_key(signer_cert)?;
    if key.algorithm != suite.algorithm {
        return Err(PadesError::Algorithm);
    }
    let message = attrs
        .to_der()
        .map_err(|_| PadesError::Malformed("signed attributes"))?;
    let raw = suite.decode_signature(info.signature.as_bytes())?;
    tongban_crypto::verify(&key, &message, &raw).map_err(|_| PadesError::BadSignature)?;
    let chain = chain(signer_cert, &certificates)?;
    let time = find(pdf, b"/M (D:").and_then(|m| {
        let start = m + 4;
        let end = start + pdf[start..].iter().position(|b| *b == b')')?;
        String::from_utf8(pdf[start..end].to_vec()).ok()
    });
    Ok(Verified {
        signer: signer_cert.tbs_certificate().subject().to_string(),
        algorithm: suite.algorithm,
        time,
        chain,
    })
}

fn public_key(certificate: &Certificate) -> Result<PublicKey, PadesError> {
    let spki = certificate
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|_| PadesError::Certificate("public key"))?;
    PublicKey::from_spki_der(&spki).map_err(|_| PadesError::Certificate("public key"))
}

/// Checks each certificate's signature under its issuer's key, up to a self-signed root.
fn chain(signer: &Certificate, all: &[Certificate]) -> Result<Vec<Vec<u8>>, PadesError> {
    let mut out = Vec::new();
    let mut current = signer.clone();
    for _ in 0..4 {
        let tbs = current.tbs_certificate();
        let issuer = all
            .iter()
            .find(|c| c.tbs_certificate().subject() == tbs.issuer())
            .ok_or(PadesError::BadChain)?;
        let suite = algorithm::by_signature(&current.signature_algorithm().oid)
            .ok_or(PadesError::Algorithm)?;
        let key = public_key(issuer)?;
        let message = tbs.to_der().map_err(|_| PadesError::BadChain)?;
        let raw = suite.decode_signature(current.signature().raw_bytes())?;
        tongban_crypto::verify(&key, &message, &raw).map_err(|_| PadesError::BadChain)?;
        out.push(current.to_der().map_err(|_| PadesError::BadChain)?);
        if issuer == &current {
            return Ok(out);
        }
        current = issuer.clone();
    }
    Err(PadesError::BadChain)
}
