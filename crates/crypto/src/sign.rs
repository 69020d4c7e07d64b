//! Signing and verification behind one interface, for the three suites.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::aead::random_bytes;
use crate::{CryptoError, SealingKey, SignatureAlgorithm};

/// The distinguishing ID of SM2 signatures (GB/T 35276 default).
pub const SM2_DEFAULT_ID: &str = "1234567812345678";

/// A public verification key: the algorithm and its encoding (Ed25519: 32 bytes; P-256 and
/// SM2: a SEC1 point).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    pub algorithm: SignatureAlgorithm,
    #[serde(with = "crate::spki::base64url")]
    pub bytes: Vec<u8>,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PublicKey({}, {} bytes)",
            self.algorithm,
            self.bytes.len()
        )
    }
}

impl PublicKey {
    /// Parses and checks a public key.
    pub fn new(algorithm: SignatureAlgorithm, bytes: Vec<u8>) -> Result<PublicKey, CryptoError> {
        let key = PublicKey { algorithm, bytes };
        key.check()?;
        Ok(key)
    }

    fn check(&self) -> Result<(), CryptoError> {
        match self.algorithm {
            SignatureAlgorithm::Ed25519 => {
                let bytes: [u8; 32] = self
                    .bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| CryptoError::BadKey)?;
                ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                    .map(|_| ())
                    .map_err(|_| CryptoError::BadKey)
            }
            SignatureAlgorithm::Es256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(&self.bytes)
                .map(|_| ())
                .map_err(|_| CryptoError::BadKey),
            SignatureAlgorithm::Sm2Sm3 => {
                tongban_sm2::VerifyingKey::from_sec1(&self.bytes, SM2_DEFAULT_ID.as_bytes())
                    .map(|_| ())
                    .map_err(|_| CryptoError::BadKey)
            }
        }
    }

    /// The SubjectPublicKeyInfo DER encoding, as OpenSSL and X.509 carry keys.
    pub fn to_spki_der(&self) -> Vec<u8> {
        crate::spki::encode(self.algorithm, &self.bytes)
    }

    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, CryptoError> {
        let (algorithm, bytes) = crate::spki::decode(der)?;
        PublicKey::new(algorithm, bytes)
    }
}

/// Checks `signature` over `message` under `key`. Malformed keys and signatures are simply
/// "does not verify".
pub fn verify(key: &PublicKey, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
    use ed25519_dalek::Verifier as _;
    let bad = |_| CryptoError::BadSignature;
    match key.algorithm {
        SignatureAlgorithm::Ed25519 => {
            let bytes: [u8; 32] = key
                .bytes
                .as_slice()
                .try_into()
                .map_err(|_| CryptoError::BadKey)?;
            let public =
                ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| CryptoError::BadKey)?;
            let signature: [u8; 64] = signature
                .try_into()
                .map_err(|_| CryptoError::BadSignature)?;
            public
                .verify_strict(message, &ed25519_dalek::Signature::from_bytes(&signature))
                .map_err(bad)
        }
        SignatureAlgorithm::Es256 => {
            let public = p256::ecdsa::VerifyingKey::from_sec1_bytes(&key.bytes)
                .map_err(|_| CryptoError::BadKey)?;
            let signature = p256::ecdsa::Signature::from_slice(signature).map_err(bad)?;
            public.verify(message, &signature).map_err(bad)
        }
        SignatureAlgorithm::Sm2Sm3 => sm2_keys::verify(&key.bytes, message, signature),
    }
}

/// SM2 verification keys that verify often, kept with their precomputed tables: a pass
/// verifier checks nearly every code under a handful of keys, and a key's table makes each
/// verification about three times cheaper. A key is prepared once it has verified
/// `PREPARE_AFTER` signatures (a key seen once costs no table), and at most `PREPARED` keys
/// are kept; public keys only, so nothing here is secret.
mod sm2_keys {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, Mutex, RwLock};

    use super::SM2_DEFAULT_ID;
    use crate::CryptoError;

    pub(super) const PREPARE_AFTER: u32 = 16;
    const PREPARED: usize = 64;
    /// Counts of keys not yet prepared are forgotten past this many, so a stream of
    /// one-off keys cannot grow memory.
    const COUNTED: usize = 4096;

    static PREPARED_KEYS: LazyLock<RwLock<HashMap<Vec<u8>, Arc<tongban_sm2::VerifyingKey>>>> =
        LazyLock::new(Default::default);
    static SEEN: LazyLock<Mutex<HashMap<Vec<u8>, u32>>> = LazyLock::new(Default::default);

    pub(super) fn verify(key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let prepared = PREPARED_KEYS
            .read()
            .ok()
            .and_then(|keys| keys.get(key).cloned());
        if let Some(prepared) = prepared {
            return prepared
                .verify(message, signature)
                .map_err(|_| CryptoError::BadSignature);
        }
        let public = tongban_sm2::VerifyingKey::from_sec1(key, SM2_DEFAULT_ID.as_bytes())
            .map_err(|_| CryptoError::BadKey)?;
        let outcome = public
            .verify(message, signature)
            .map_err(|_| CryptoError::BadSignature);
        if outcome.is_ok() && count(key) {
            let prepared = Arc::new(public.with_table());
            if let Ok(mut keys) = PREPARED_KEYS.write()
                && keys.len() < PREPARED
            {
                keys.insert(key.to_vec(), prepared);
            }
        }
        outcome
    }

    #[cfg(test)]
    pub(super) fn is_prepared(key: &[u8]) -> bool {
        PREPARED_KEYS
            .read()
            .map(|keys| keys.contains_key(key))
            .unwrap_or(false)
    }

    /// Counts a good signature under `key`; true when the key has now earned its table.
    fn count(key: &[u8]) -> bool {
        let Ok(mut seen) = SEEN.lock() else {
            return false;
        };
        if seen.len() >= COUNTED && !seen.contains_key(key) {
            seen.clear();
        }
        let uses = seen.entry(key.to_vec()).or_insert(0);
        *uses += 1;
        if *uses >= PREPARE_AFTER {
            seen.remove(key);
            true
        } else {
            false
        }
    }
}

/// Anything that signs under a key identified by `kid`: software keys here, a hardware module
/// (PKCS#11, SDF) later.
pub trait Signer: Send + Sync {
    fn kid(&self) -> &str;
    fn algorithm(&self) -> SignatureAlgorithm;
    fn public_key(&self) -> PublicKey;
    fn sign(&self, message: &[u8]) -> Vec<u8>;
}

/// A private key held in memory, wiped on drop; stored only sealed under a key-encryption key.
pub struct SoftwareSigner {
    kid: String,
    algorithm: SignatureAlgorithm,
    secret: Zeroizing<Vec<u8>>,
    /// The key parsed once: deriving it again for every signature would double the cost of an
    /// Ed25519 signature. Each type wipes itself on drop.
    key: ParsedKey,
    public: PublicKey,
}

enum ParsedKey {
    Ed25519(ed25519_dalek::SigningKey),
    Es256(p256::ecdsa::SigningKey),
    Sm2(Box<tongban_sm2::SigningKey>),
}

impl fmt::Debug for SoftwareSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SoftwareSigner({}, {}, <redacted>)",
            self.kid, self.algorithm
        )
    }
}

impl SoftwareSigner {
    /// A new random key.
    pub fn generate(algorithm: SignatureAlgorithm, kid: impl Into<String>) -> SoftwareSigner {
        let kid = kid.into();
        loop {
            // For the curves, a random 32-byte string is a valid scalar with overwhelming
            // probability; the rare zero or out-of-range value is drawn again.
            if let Ok(signer) =
                SoftwareSigner::from_secret(algorithm, kid.clone(), random_bytes(32))
            {
                return signer;
            }
        }
    }

    fn from_secret(
        algorithm: SignatureAlgorithm,
        kid: String,
        secret: Zeroizing<Vec<u8>>,
    ) -> Result<SoftwareSigner, CryptoError> {
        let (key, public) = match algorithm {
            SignatureAlgorithm::Ed25519 => {
                let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(
                    secret
                        .as_slice()
                        .try_into()
                        .map_err(|_| CryptoError::BadKey)?,
                );
                let key = ed25519_dalek::SigningKey::from_bytes(&bytes);
                let public = key.verifying_key().to_bytes().to_vec();
                (ParsedKey::Ed25519(key), public)
            }
            SignatureAlgorithm::Es256 => {
                let key = p256::ecdsa::SigningKey::from_slice(&secret)
                    .map_err(|_| CryptoError::BadKey)?;
                let public = key.verifying_key().to_sec1_point(false).as_bytes().to_vec();
                (ParsedKey::Es256(key), public)
            }
            SignatureAlgorithm::Sm2Sm3 => {
                let key = tongban_sm2::SigningKey::from_bytes(&secret, SM2_DEFAULT_ID.as_bytes())
                    .map_err(|_| CryptoError::BadKey)?;
                let public = key.verifying_key().to_sec1().to_vec();
                (ParsedKey::Sm2(Box::new(key)), public)
            }
        };
        Ok(SoftwareSigner {
            kid,
            algorithm,
            secret,
            key,
            public: PublicKey {
                algorithm,
                bytes: public,
            },
        })
    }

    /// The key sealed under a key-encryption key, for storage. `aad` binds it to its record.
    pub fn seal(&self, kek: &SealingKey, aad: &[u8]) -> Vec<u8> {
        kek.seal(aad, &self.secret)
    }

    /// A key back from its sealed form.
    pub fn unseal(
        kek: &SealingKey,
        aad: &[u8],
        sealed: &[u8],
        algorithm: SignatureAlgorithm,
        kid: impl Into<String>,
    ) -> Result<SoftwareSigner, CryptoError> {
        SoftwareSigner::from_secret(algorithm, kid.into(), kek.open(aad, sealed)?)
    }
}

impl Signer for SoftwareSigner {
    fn kid(&self) -> &str {
        &self.kid
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        use ed25519_dalek::Signer as _;
        match &self.key {
            ParsedKey::Ed25519(key) => key.sign(message).to_bytes().to_vec(),
            ParsedKey::Es256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                signature.to_bytes().to_vec()
            }
            ParsedKey::Sm2(key) => key.sign(message).to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suite_signs_and_verifies_and_refuses_changes() {
        for algorithm in SignatureAlgorithm::ALL {
            let signer = SoftwareSigner::generate(algorithm, "k1");
            let signature = signer.sign(b"tongban");
            assert_eq!(signature.len(), algorithm.signature_len(), "{algorithm}");
            let public = signer.public_key();
            assert_eq!(
                verify(&public, b"tongban", &signature),
                Ok(()),
                "{algorithm}"
            );
            assert!(
                verify(&public, b"tongbam", &signature).is_err(),
                "{algorithm}"
            );
            let mut altered = signature.clone();
            altered[10] ^= 0x40;
            assert!(
                verify(&public, b"tongban", &altered).is_err(),
                "{algorithm}"
            );
            assert!(
                verify(&public, b"tongban", &signature[..63]).is_err(),
                "truncated {algorithm}"
            );
            let other = SoftwareSigner::generate(algorithm, "k2").public_key();
            assert!(
                verify(&other, b"tongban", &signature).is_err(),
                "{algorithm}"
            );
        }
    }

    #[test]
    fn sealed_keys_come_back_and_sign_the_same_way() {
        let kek = SealingKey::generate(crate::AeadAlgorithm::Aes256Gcm);
        for algorithm in SignatureAlgorithm::ALL {
            let signer = SoftwareSigner::generate(algorithm, "k1");
            let sealed = signer.seal(&kek, b"key/k1");
            let back =
                SoftwareSigner::unseal(&kek, b"key/k1", &sealed, algorithm, "k1").expect("unseals");
            assert_eq!(back.public_key(), signer.public_key());
            assert!(SoftwareSigner::unseal(&kek, b"key/k2", &sealed, algorithm, "k1").is_err());
        }
    }

    #[test]
    fn an_sm2_key_that_verifies_often_keeps_verifying_the_same_way_once_prepared() {
        let signer = SoftwareSigner::generate(SignatureAlgorithm::Sm2Sm3, "pass");
        let public = signer.public_key();
        for round in 0..3 * sm2_keys::PREPARE_AFTER {
            let message = format!("code {round}");
            let signature = signer.sign(message.as_bytes());
            assert_eq!(verify(&public, message.as_bytes(), &signature), Ok(()));
            let mut altered = signature.clone();
            altered[round as usize % 64] ^= 1;
            assert!(verify(&public, message.as_bytes(), &altered).is_err());
            assert!(verify(&public, b"another code", &signature).is_err());
        }
        assert!(sm2_keys::is_prepared(&public.bytes));
    }

    #[test]
    fn malformed_public_keys_are_refused() {
        assert!(PublicKey::new(SignatureAlgorithm::Ed25519, vec![1; 31]).is_err());
        assert!(PublicKey::new(SignatureAlgorithm::Es256, vec![4; 65]).is_err());
        assert!(PublicKey::new(SignatureAlgorithm::Sm2Sm3, vec![]).is_err());
    }
}
