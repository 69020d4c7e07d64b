//! Country signing CAs (CSCA). In the EU DCC trust framework each country's CSCA issues its
//! document signers (DSC); a verifier that trusts a country's CSCA takes a signer only when the
//! CSCA signed its certificate. This checks that one link: the signer names the CSCA as its
//! issuer, the CSCA's key signed it (ECDSA on P-256 or P-384, RSA PKCS #1 v1.5 or PSS), the
//! signer was issued while the CSCA was valid, and both belong to the same country.

use x509_cert::der::{Decode, Encode};

use crate::dcc::Dsc;

const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";
const OID_ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
const OID_ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
const OID_RSA_SHA256: &str = "1.2.840.113549.1.1.11";
const OID_RSA_SHA384: &str = "1.2.840.113549.1.1.12";
const OID_RSA_SHA512: &str = "1.2.840.113549.1.1.13";
const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";

/// Why a certificate is not a country signing CA, or a signer is not the CSCA's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("not a DER X.509 certificate (base64 or PEM)")]
    Encoding,
    #[error("the certificate is not a CA (basic constraints without cA)")]
    NotCa,
    #[error("the CA's key is neither P-256, P-384 nor RSA")]
    UnsupportedKey,
    #[error("the signer names another issuer")]
    OtherIssuer,
    #[error("the signer and the CA are of different countries")]
    OtherCountry,
    #[error("the signature algorithm of the signer's certificate is not supported")]
    UnsupportedAlgorithm,
    #[error("the CA's key did not sign the signer's certificate")]
    BadSignature,
    #[error("the signer was issued outside the CA's validity")]
    OutsideValidity,
}

impl ChainError {
    /// A stable reason code for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            ChainError::Encoding => "bad_certificate",
            ChainError::NotCa => "not_a_ca",
            ChainError::UnsupportedKey => "unsupported_key",
            ChainError::OtherIssuer => "other_issuer",
            ChainError::OtherCountry => "other_country",
            ChainError::UnsupportedAlgorithm => "unsupported_algorithm",
            ChainError::BadSignature => "bad_signature",
            ChainError::OutsideValidity => "outside_ca_validity",
        }
    }
}

#[derive(Clone)]
enum CaKey {
    P256(Vec<u8>),
    P384(Vec<u8>),
    /// PKCS #1 `RSAPublicKey`.
    Rsa(Vec<u8>),
}

/// A country signing CA certificate.
#[derive(Clone)]
pub struct Csca {
    der: Vec<u8>,
    subject_der: Vec<u8>,
    subject: String,
    key: CaKey,
    not_before: i64,
    not_after: i64,
}

impl std::fmt::Debug for Csca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Csca")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

fn seconds(time: x509_cert::time::Time) -> i64 {
    i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// The country (`C=`) of a name in RFC 4514 form.
pub fn country_of(name: &str) -> Option<String> {
    name.split(',')
        .find_map(|part| part.trim().strip_prefix("C="))
        .map(str::to_owned)
}

/// Whether a certificate says it is a CA (basic constraints with cA set).
pub fn is_ca(der: &[u8]) -> bool {
    let Ok(certificate) = x509_cert::Certificate::from_der(der) else {
        return false;
    };
    ca_flag(&certificate) == Some(true)
}

fn ca_flag(certificate: &x509_cert::Certificate) -> Option<bool> {
    certificate
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .find(|e| e.extn_id.to_string() == OID_BASIC_CONSTRAINTS)
        .map(|e| {
            x509_cert::ext::pkix::BasicConstraints::from_der(e.extn_value.as_bytes())
                .is_ok_and(|constraints| constraints.ca)
        })
}

impl Csca {
    /// Reads a CA certificate from DER; it must say it is a CA.
    pub fn from_der(der: &[u8]) -> Result<Csca, ChainError> {
        let certificate =
            x509_cert::Certificate::from_der(der).map_err(|_| ChainError::Encoding)?;
        if ca_flag(&certificate) != Some(true) {
            return Err(ChainError::NotCa);
        }
        let tbs = certificate.tbs_certificate();
        let spki = tbs.subject_public_key_info();
        let bits = spki.subject_public_key.raw_bytes().to_vec();
        let key = match spki.algorithm.oid.to_string().as_str() {
            OID_EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<x509_cert::der::asn1::ObjectIdentifier>().ok())
                    .map(|oid| oid.to_string());
                match curve.as_deref() {
                    Some(OID_P256) => CaKey::P256(bits),
                    Some(OID_P384) => CaKey::P384(bits),
                    _ => return Err(ChainError::UnsupportedKey),
                }
            }
            OID_RSA | OID_RSA_PSS => CaKey::Rsa(bits),
            _ => return Err(ChainError::UnsupportedKey),
        };
        let validity = tbs.validity();
        Ok(Csca {
            der: certificate.to_der().map_err(|_| ChainError::Encoding)?,
            subject_der: tbs.subject().to_der().map_err(|_| ChainError::Encoding)?,
            subject: tbs.subject().to_string(),
            key,
            not_before: seconds(validity.not_before),
            not_after: seconds(validity.not_after),
        })
    }

    /// Reads a CA certificate from base64 DER, with or without PEM armour.
    pub fn from_text(text: &str) -> Result<Csca, ChainError> {
        Csca::from_der(&crate::dcc::der_from_text(text).ok_or(ChainError::Encoding)?)
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate's subject (RFC 4514).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn country(&self) -> Option<String> {
        country_of(&self.subject)
    }

    /// End of the certificate's validity, Unix seconds.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// Whether this CA issued the signer: its name, its key's signature, its validity when the
    /// signer was issued, and the same country.
    pub fn issued(&self, signer: &Dsc) -> Result<(), ChainError> {
        use ring::signature::{
            ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA384_ASN1, ECDSA_P384_SHA256_ASN1,
            ECDSA_P384_SHA384_ASN1, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_2048_8192_SHA384,
            RSA_PKCS1_2048_8192_SHA512, RSA_PSS_2048_8192_SHA256, RSA_PSS_2048_8192_SHA384,
            RSA_PSS_2048_8192_SHA512, UnparsedPublicKey, VerificationAlgorithm,
        };
        let issued = &signer.issued;
        if issued.issuer != self.subject_der {
            return Err(ChainError::OtherIssuer);
        }
        if country_of(signer.subject()).is_none() || country_of(signer.subject()) != self.country()
        {
            return Err(ChainError::OtherCountry);
        }
        let (key, candidates): (&[u8], Vec<&'static dyn VerificationAlgorithm>) =
            match (&self.key, issued.algorithm.as_str()) {
                (CaKey::P256(key), OID_ECDSA_SHA256) => (key, vec![&ECDSA_P256_SHA256_ASN1]),
                (CaKey::P256(key), OID_ECDSA_SHA384) => (key, vec![&ECDSA_P256_SHA384_ASN1]),
                (CaKey::P384(key), OID_ECDSA_SHA256) => (key, vec![&ECDSA_P384_SHA256_ASN1]),
                (CaKey::P384(key), OID_ECDSA_SHA384) => (key, vec![&ECDSA_P384_SHA384_ASN1]),
                (CaKey::Rsa(key), OID_RSA_SHA256) => (key, vec![&RSA_PKCS1_2048_8192_SHA256]),
                (CaKey::Rsa(key), OID_RSA_SHA384) => (key, vec![&RSA_PKCS1_2048_8192_SHA384]),
                (CaKey::Rsa(key), OID_RSA_SHA512) => (key, vec![&RSA_PKCS1_2048_8192_SHA512]),
                // The PSS parameters name the hash; each one a CSCA uses is tried.
                (CaKey::Rsa(key), OID_RSA_PSS) => (
                    key,
                    vec![
                        &RSA_PSS_2048_8192_SHA256,
                        &RSA_PSS_2048_8192_SHA384,
                        &RSA_PSS_2048_8192_SHA512,
                    ],
                ),
                // A known algorithm of another kind of key: not the CA's signature.
                (
                    _,
                    OID_ECDSA_SHA256 | OID_ECDSA_SHA384 | OID_RSA_SHA256 | OID_RSA_SHA384
                    | OID_RSA_SHA512 | OID_RSA_PSS,
                ) => return Err(ChainError::BadSignature),
                _ => return Err(ChainError::UnsupportedAlgorithm),
            };
        if !candidates.into_iter().any(|algorithm| {
            UnparsedPublicKey::new(algorithm, key)
                .verify(&issued.tbs, &issued.signature)
                .is_ok()
        }) {
            return Err(ChainError::BadSignature);
        }
        if signer.not_before() < self.not_before || signer.not_before() > self.not_after {
            return Err(ChainError::OutsideValidity);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/csca")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn csca(name: &str) -> Csca {
        Csca::from_text(&fixture(name)).expect("a CSCA")
    }

    fn dsc(name: &str) -> Dsc {
        Dsc::from_text(&fixture(name)).expect("a DSC")
    }

    #[test]
    fn a_country_signing_ca_vouches_for_its_own_signers_only() {
        let (xa, xb) = (csca("csca-xa.pem"), csca("csca-xb.pem"));
        assert_eq!(xa.country().as_deref(), Some("XA"));
        // P-384 with SHA-384, and RSA with SHA-256.
        assert_eq!(xa.issued(&dsc("dsc-xa.pem")), Ok(()));
        assert_eq!(xb.issued(&dsc("dsc-xb.pem")), Ok(()));
        assert_eq!(xb.issued(&dsc("dsc-xa.pem")), Err(ChainError::OtherIssuer));
        // XA's name over XB's key.
        assert_eq!(
            xa.issued(&dsc("dsc-forged.pem")),
            Err(ChainError::BadSignature)
        );
        // XA's CA signing a signer of XB.
        assert_eq!(
            xa.issued(&dsc("dsc-cross.pem")),
            Err(ChainError::OtherCountry)
        );
    }

    #[test]
    fn a_signer_is_no_ca() {
        assert!(!is_ca(dsc("dsc-xa.pem").der_bytes()));
        assert!(is_ca(csca("csca-xb.pem").der()));
        assert_eq!(
            Csca::from_text(&fixture("dsc-xa.pem")).map(|_| ()),
            Err(ChainError::NotCa)
        );
        assert_eq!(
            Csca::from_text("not base64").map(|_| ()),
            Err(ChainError::Encoding)
        );
    }
}
