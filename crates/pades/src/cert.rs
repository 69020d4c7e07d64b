//! X.509 certificates (RFC 5280) the platform issues for the keys that sign PDF files: a root
//! for the deployment, and one certificate for each organ's key under it.

use std::str::FromStr;
use std::time::Duration;

use der::asn1::{BitString, GeneralizedTime, OctetString};
use der::{Decode, Encode};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use tongban_crypto::{PublicKey, Signer};
use x509_cert::builder::{Builder, CertificateBuilder, profile::BuilderProfile};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate};

use crate::{PadesError, algorithm};

/// What a certificate says.
pub struct Request<'a> {
    /// The subject as RFC 4514 writes it (`CN=临江区政务服务管理局,O=临江区,C=CN`).
    pub subject: &'a str,
    pub public_key: &'a PublicKey,
    /// A positive serial number, unique under its issuer (16 random bytes serve).
    pub serial: [u8; 16],
    /// Unix seconds.
    pub not_before: u64,
    pub not_after: u64,
    /// A certificate authority (the root), or a key that signs documents.
    pub ca: bool,
}

/// The issuer: its key, and its certificate unless the certificate is self-signed.
pub struct Issuer<'a> {
    pub signer: &'a dyn Signer,
    pub certificate: Option<&'a [u8]>,
}

struct Profile {
    subject: Name,
    issuer: Option<Name>,
    ca: bool,
}

/// The key identifier of a public key: the first 20 bytes of its SHA-256 (RFC 7093, method 1).
fn key_id(spki: &SubjectPublicKeyInfoRef<'_>) -> der::Result<OctetString> {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(spki.subject_public_key.raw_bytes());
    OctetString::new(&digest[..20])
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, subject: &Name) -> Name {
        self.issuer.clone().unwrap_or_else(|| subject.clone())
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let subject = tbs.subject();
        let usage = if self.ca {
            KeyUsages::KeyCertSign | KeyUsages::CRLSign | KeyUsages::DigitalSignature
        } else {
            KeyUsages::DigitalSignature | KeyUsages::NonRepudiation
        };
        Ok(vec![
            (&BasicConstraints {
                ca: self.ca,
                path_len_constraint: self.ca.then_some(0),
            })
                .to_extension(subject, &[])?,
            (&KeyUsage(usage)).to_extension(subject, &[])?,
            (&SubjectKeyIdentifier(key_id(&spk)?)).to_extension(subject, &[])?,
            (&AuthorityKeyIdentifier {
                key_identifier: Some(key_id(&issuer_spk)?),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            })
                .to_extension(subject, &[])?,
        ])
    }
}

/// The issuer's key as the builder wants it: its public key and its algorithm.
struct Key {
    public: PublicKey,
}

#[derive(Clone)]
struct Public(Vec<u8>);

impl spki::EncodePublicKey for Public {
    fn to_public_key_der(&self) -> spki::Result<der::Document> {
        Ok(der::Document::from_der(&self.0)?)
    }
}

impl signature::Keypair for Key {
    type VerifyingKey = Public;

    fn verifying_key(&self) -> Public {
        Public(self.public.to_spki_der())
    }
}

impl spki::DynSignatureAlgorithmIdentifier for Key {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        Ok(algorithm::of(self.public.algorithm).signature())
    }
}

fn time(seconds: u64) -> Result<Time, PadesError> {
    GeneralizedTime::from_unix_duration(Duration::from_secs(seconds))
        .map(Time::GeneralTime)
        .map_err(|_| PadesError::Certificate("time"))
}

/// Issues a certificate: self-signed when the issuer has no certificate.
pub fn issue(request: &Request<'_>, issuer: &Issuer<'_>) -> Result<Vec<u8>, PadesError> {
    let bad = PadesError::Certificate;
    let subject = Name::from_str(request.subject).map_err(|_| bad("subject"))?;
    let issuer_name = match issuer.certificate {
        Some(der) => Some(
            Certificate::from_der(der)
                .map_err(|_| bad("issuer"))?
                .tbs_certificate()
                .subject()
                .clone(),
        ),
        None => None,
    };
    let mut serial = request.serial;
    // Positive, and not starting with a zero byte DER would drop.
    serial[0] = (serial[0] & 0x7f) | 0x01;
    let spki = SubjectPublicKeyInfoOwned::from_der(&request.public_key.to_spki_der())
        .map_err(|_| bad("public key"))?;
    let validity = Validity::new(time(request.not_before)?, time(request.not_after)?);
    let mut builder = CertificateBuilder::new(
        Profile {
            subject,
            issuer: issuer_name,
            ca: request.ca,
        },
        SerialNumber::new(&serial).map_err(|_| bad("serial"))?,
        validity,
        spki,
    )
    .map_err(|_| bad("builder"))?;
    let key = Key {
        public: issuer.signer.public_key(),
    };
    let tbs = builder.finalize(&key).map_err(|_| bad("tbs"))?;
    let raw = issuer.signer.sign(&tbs);
    let encoded = algorithm::of(issuer.signer.algorithm()).encode_signature(&raw)?;
    let certificate = builder
        .assemble(
            BitString::from_bytes(&encoded).map_err(|_| bad("signature"))?,
            &key,
        )
        .map_err(|_| bad("assemble"))?;
    certificate.to_der().map_err(|_| bad("encoding"))
}

/// A certificate's subject, as RFC 4514 writes it.
pub fn subject(der: &[u8]) -> Result<String, PadesError> {
    let certificate =
        Certificate::from_der(der).map_err(|_| PadesError::Certificate("encoding"))?;
    Ok(certificate.tbs_certificate().subject().to_string())
}

/// A certificate in PEM.
pub fn pem(der: &[u8]) -> Result<String, PadesError> {
    use der::EncodePem as _;
    Certificate::from_der(der)
        .and_then(|c| c.to_pem(der::pem::LineEnding::LF))
        .map_err(|_| PadesError::Certificate("encoding"))
}

/// The DER inside a PEM certificate.
pub fn from_pem(text: &str) -> Result<Vec<u8>, PadesError> {
    use der::DecodePem as _;
    Certificate::from_pem(text.trim())
        .and_then(|c| c.to_der())
        .map_err(|_| PadesError::Certificate("PEM"))
}
