//! Verification keys by key id: a verifier looks the signer's key up by the `kid` a signature
//! names, and an unknown kid is a failure, never a fallback to some other key.

use std::collections::HashMap;

use crate::{CryptoError, PublicKey, verify};

#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    keys: HashMap<String, PublicKey>,
}

impl KeyRing {
    pub fn new() -> KeyRing {
        KeyRing::default()
    }

    pub fn insert(&mut self, kid: impl Into<String>, key: PublicKey) {
        self.keys.insert(kid.into(), key);
    }

    pub fn get(&self, kid: &str) -> Option<&PublicKey> {
        self.keys.get(kid)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Verifies a signature made by the key `kid`.
    pub fn verify(&self, kid: &str, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let key = self.keys.get(kid).ok_or(CryptoError::UnknownKey)?;
        verify(key, message, signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SignatureAlgorithm, Signer, SoftwareSigner};

    #[test]
    fn verifiers_choose_the_key_by_kid_and_refuse_unknown_kids() {
        let ed = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "pass-1");
        let sm2 = SoftwareSigner::generate(SignatureAlgorithm::Sm2Sm3, "pass-2");
        let mut ring = KeyRing::new();
        ring.insert("pass-1", ed.public_key());
        ring.insert("pass-2", sm2.public_key());
        let signature = sm2.sign(b"code");
        assert_eq!(ring.verify("pass-2", b"code", &signature), Ok(()));
        assert_eq!(
            ring.verify("pass-1", b"code", &signature),
            Err(CryptoError::BadSignature)
        );
        assert_eq!(
            ring.verify("pass-3", b"code", &signature),
            Err(CryptoError::UnknownKey)
        );
        assert_eq!(ring.len(), 2);
    }
}
