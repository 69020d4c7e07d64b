//! SubjectPublicKeyInfo (RFC 5280) for the three key types, and base64url for serde.
//! The encodings are fixed: an algorithm identifier followed by the key as a BIT STRING.

use crate::{CryptoError, SignatureAlgorithm};

/// AlgorithmIdentifier DER of each key type.
fn algorithm_identifier(algorithm: SignatureAlgorithm) -> &'static [u8] {
    match algorithm {
        // SEQUENCE { OID 1.3.101.112 (Ed25519) }
        SignatureAlgorithm::Ed25519 => &[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70],
        // SEQUENCE { OID 1.2.840.10045.2.1 (ecPublicKey), OID 1.2.840.10045.3.1.7 (P-256) }
        SignatureAlgorithm::Es256 => &[
            0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
            0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
        ],
        // SEQUENCE { OID 1.2.840.10045.2.1 (ecPublicKey), OID 1.2.156.10197.1.301 (SM2) }
        SignatureAlgorithm::Sm2Sm3 => &[
            0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
            0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d,
        ],
    }
}

pub(crate) fn encode(algorithm: SignatureAlgorithm, key: &[u8]) -> Vec<u8> {
    let identifier = algorithm_identifier(algorithm);
    let bit_string_len = key.len() + 1;
    let body_len = identifier.len() + 2 + bit_string_len;
    let mut der = Vec::with_capacity(body_len + 2);
    // Every length here is below 128, so the short form serves.
    der.extend_from_slice(&[0x30, body_len as u8]);
    der.extend_from_slice(identifier);
    der.extend_from_slice(&[0x03, bit_string_len as u8, 0x00]);
    der.extend_from_slice(key);
    der
}

pub(crate) fn decode(der: &[u8]) -> Result<(SignatureAlgorithm, Vec<u8>), CryptoError> {
    for algorithm in SignatureAlgorithm::ALL {
        let identifier = algorithm_identifier(algorithm);
        let Some(rest) = der
            .get(2..)
            .filter(|_| der.first() == Some(&0x30) && usize::from(der[1]) == der.len() - 2)
        else {
            return Err(CryptoError::BadKey);
        };
        if let Some(after) = rest.strip_prefix(identifier)
            && let [0x03, len, 0x00, key @ ..] = after
            && usize::from(*len) == key.len() + 1
        {
            return Ok((algorithm, key.to_vec()));
        }
    }
    Err(CryptoError::BadKey)
}

pub(crate) mod base64url {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        URL_SAFE_NO_PAD
            .decode(text.as_bytes())
            .map_err(|_| serde::de::Error::custom("not base64url without padding"))
    }
}
