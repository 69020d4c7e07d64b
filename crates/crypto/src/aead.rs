//! Sealing with AES-256-GCM or SM4-GCM: `tag ‖ nonce(12) ‖ ciphertext ‖ gcm-tag(16)`, where the
//! first byte names the algorithm so that a sealed value says how to open it.

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm, Nonce};
use zeroize::Zeroizing;

use crate::{AeadAlgorithm, CryptoError};

type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

const NONCE_LEN: usize = 12;

/// Fills a new buffer from the operating system's generator.
pub fn random_bytes(len: usize) -> Zeroizing<Vec<u8>> {
    let mut bytes = Zeroizing::new(vec![0u8; len]);
    if let Err(error) = getrandom::fill(&mut bytes) {
        // Without an operating-system generator no key can be made safely.
        panic!("the operating system's random generator failed: {error}");
    }
    bytes
}

/// A symmetric key for sealing: a data key, or a key-encryption key that seals other keys.
pub struct SealingKey {
    algorithm: AeadAlgorithm,
    bytes: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealingKey({}, <redacted>)", self.algorithm.as_str())
    }
}

impl SealingKey {
    pub fn generate(algorithm: AeadAlgorithm) -> SealingKey {
        SealingKey {
            algorithm,
            bytes: random_bytes(algorithm.key_len()),
        }
    }

    /// A key from raw bytes (a master key read from its file or variable).
    pub fn from_bytes(algorithm: AeadAlgorithm, bytes: &[u8]) -> Result<SealingKey, CryptoError> {
        if bytes.len() != algorithm.key_len() {
            return Err(CryptoError::BadKey);
        }
        Ok(SealingKey {
            algorithm,
            bytes: Zeroizing::new(bytes.to_vec()),
        })
    }

    /// A key derived from a master secret for one purpose (HMAC of the label under the secret,
    /// cut to the key length), so that one master key yields independent keys.
    pub fn derive(
        algorithm: AeadAlgorithm,
        hash: crate::HashAlgorithm,
        master: &[u8],
        label: &str,
    ) -> Result<SealingKey, CryptoError> {
        if master.len() < 16 {
            return Err(CryptoError::BadKey);
        }
        let derived = Zeroizing::new(crate::keyed_digest(hash, master, label.as_bytes()));
        SealingKey::from_bytes(algorithm, &derived[..algorithm.key_len()])
    }

    pub fn algorithm(&self) -> AeadAlgorithm {
        self.algorithm
    }

    /// Seals `plaintext`, binding `aad` (context such as table, column and row id).
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce = random_bytes(NONCE_LEN);
        let payload = Payload {
            msg: plaintext,
            aad,
        };
        let nonce_array: [u8; NONCE_LEN] = nonce[..].try_into().unwrap_or([0; NONCE_LEN]);
        let nonce_value = Nonce::<U12>::from(nonce_array);
        let sealed = match self.algorithm {
            AeadAlgorithm::Aes256Gcm => Aes256Gcm::new_from_slice(&self.bytes)
                .ok()
                .and_then(|c| c.encrypt(&nonce_value, payload).ok()),
            AeadAlgorithm::Sm4Gcm => Sm4Gcm::new_from_slice(&self.bytes)
                .ok()
                .and_then(|c| c.encrypt(&nonce_value, payload).ok()),
        };
        // Key lengths are checked when the key is made and GCM takes any message this size,
        // so encryption cannot fail.
        let sealed = sealed.unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(self.algorithm.tag());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens what [`SealingKey::seal`] made with this key and the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let (&tag, rest) = sealed.split_first().ok_or(CryptoError::BadSeal)?;
        if AeadAlgorithm::from_tag(tag) != Some(self.algorithm) || rest.len() < NONCE_LEN + 16 {
            return Err(CryptoError::BadSeal);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce_array: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::BadSeal)?;
        let nonce_value = Nonce::<U12>::from(nonce_array);
        let payload = Payload {
            msg: ciphertext,
            aad,
        };
        let opened = match self.algorithm {
            AeadAlgorithm::Aes256Gcm => Aes256Gcm::new_from_slice(&self.bytes)
                .map_err(|_| CryptoError::BadKey)?
                .decrypt(&nonce_value, payload),
            AeadAlgorithm::Sm4Gcm => Sm4Gcm::new_from_slice(&self.bytes)
                .map_err(|_| CryptoError::BadKey)?
                .decrypt(&nonce_value, payload),
        };
        opened.map(Zeroizing::new).map_err(|_| CryptoError::BadSeal)
    }

    /// Seals another key under this one (key wrapping).
    pub fn wrap(&self, key: &SealingKey, aad: &[u8]) -> Vec<u8> {
        let mut plain = Zeroizing::new(vec![key.algorithm.tag()]);
        plain.extend_from_slice(&key.bytes);
        self.seal(aad, &plain)
    }

    pub fn unwrap_key(&self, wrapped: &[u8], aad: &[u8]) -> Result<SealingKey, CryptoError> {
        let plain = self.open(aad, wrapped)?;
        let (&tag, bytes) = plain.split_first().ok_or(CryptoError::BadKey)?;
        SealingKey::from_bytes(
            AeadAlgorithm::from_tag(tag).ok_or(CryptoError::BadKey)?,
            bytes,
        )
    }

    /// Keyed digest under this key, for blind indexes (the key bytes stay inside the crate).
    pub fn keyed_digest(&self, algorithm: crate::HashAlgorithm, data: &[u8]) -> crate::Digest32 {
        crate::keyed_digest(algorithm, &self.bytes, data)
    }

    #[cfg(test)]
    pub(crate) fn raw(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap_or(0))
            .collect()
    }

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        for algorithm in [AeadAlgorithm::Aes256Gcm, AeadAlgorithm::Sm4Gcm] {
            let key = SealingKey::generate(algorithm);
            let sealed = key.seal(b"persons.name/42", "张伟".as_bytes());
            assert_eq!(
                &key.open(b"persons.name/42", &sealed).expect("opens")[..],
                "张伟".as_bytes()
            );
            assert_eq!(
                key.open(b"persons.name/43", &sealed).err(),
                Some(CryptoError::BadSeal)
            );
            assert_eq!(
                SealingKey::generate(algorithm)
                    .open(b"persons.name/42", &sealed)
                    .err(),
                Some(CryptoError::BadSeal)
            );
            let mut altered = sealed.clone();
            let last = altered.len() - 1;
            altered[last] ^= 1;
            assert_eq!(
                key.open(b"persons.name/42", &altered).err(),
                Some(CryptoError::BadSeal)
            );
            assert_eq!(key.open(b"", &[]).err(), Some(CryptoError::BadSeal));
        }
    }

    #[test]
    fn derived_keys_differ_by_label_and_repeat_for_the_same_label() {
        let master = [7u8; 32];
        let a = SealingKey::derive(
            AeadAlgorithm::Sm4Gcm,
            crate::HashAlgorithm::Sm3,
            &master,
            "kek",
        )
        .expect("derives");
        let b = SealingKey::derive(
            AeadAlgorithm::Sm4Gcm,
            crate::HashAlgorithm::Sm3,
            &master,
            "kek",
        )
        .expect("derives");
        let c = SealingKey::derive(
            AeadAlgorithm::Sm4Gcm,
            crate::HashAlgorithm::Sm3,
            &master,
            "index",
        )
        .expect("derives");
        assert_eq!(a.raw(), b.raw());
        assert_ne!(a.raw(), c.raw());
        assert_eq!(a.raw().len(), 16);
        assert!(
            SealingKey::derive(
                AeadAlgorithm::Aes256Gcm,
                crate::HashAlgorithm::Sha256,
                &[1; 8],
                "kek"
            )
            .is_err()
        );
    }

    #[test]
    fn wrapped_keys_unwrap_to_the_same_key() {
        let master = SealingKey::generate(AeadAlgorithm::Aes256Gcm);
        let data_key = SealingKey::generate(AeadAlgorithm::Sm4Gcm);
        let wrapped = master.wrap(&data_key, b"data-key/1");
        let unwrapped = master.unwrap_key(&wrapped, b"data-key/1").expect("unwraps");
        assert_eq!(unwrapped.raw(), data_key.raw());
        assert_eq!(unwrapped.algorithm(), AeadAlgorithm::Sm4Gcm);
    }

    #[test]
    fn sm4_matches_the_example_of_gb_t_32907() {
        // GB/T 32907-2016 appendix A, example 1: one block with key = plaintext.
        use sm4::cipher::{BlockCipherEncrypt, KeyInit as _};
        let key = hex("0123456789abcdeffedcba9876543210");
        let cipher = sm4::Sm4::new_from_slice(&key).expect("16-byte key");
        let mut block = sm4::cipher::Block::<sm4::Sm4>::default();
        block.copy_from_slice(&key);
        cipher.encrypt_block(&mut block);
        assert_eq!(block.to_vec(), hex("681edf34d206965e86b3e94f536e4246"));
    }

    #[test]
    fn aes_256_gcm_matches_a_published_vector() {
        // NIST GCM test vector (gcmEncryptExtIV256, Count 0 with empty plaintext and AAD).
        let key = SealingKey::from_bytes(
            AeadAlgorithm::Aes256Gcm,
            &hex("b52c505a37d78eda5dd34f20c22540ea1b58963cf8e5bf8ffa85f9f2492505b4"),
        )
        .expect("key");
        let cipher = Aes256Gcm::new_from_slice(key.raw()).expect("key");
        let nonce: [u8; 12] = hex("516c33929df5a3284ff463d7")
            .try_into()
            .expect("12 bytes");
        let tag = cipher
            .encrypt(&Nonce::<U12>::from(nonce), Payload { msg: b"", aad: b"" })
            .expect("encrypts");
        assert_eq!(tag, hex("bdc1ac884d332457a1d2664f168c76f0"));
    }
}
