//! Algorithms and the two deployment profiles.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::CryptoError;

/// A signature algorithm, named as in JOSE/COSE where a name exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SignatureAlgorithm {
    /// Ed25519 (RFC 8032); signatures are 64 bytes.
    #[serde(rename = "Ed25519")]
    Ed25519,
    /// ECDSA on P-256 with SHA-256; signatures are r‖s, 64 bytes.
    #[serde(rename = "ES256")]
    Es256,
    /// SM2 (GB/T 32918) with SM3 and a distinguishing ID (default `1234567812345678`);
    /// signatures are r‖s, 64 bytes.
    #[serde(rename = "SM2-SM3")]
    Sm2Sm3,
}

impl SignatureAlgorithm {
    pub const ALL: [SignatureAlgorithm; 3] = [Self::Ed25519, Self::Es256, Self::Sm2Sm3];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ed25519 => "Ed25519",
            Self::Es256 => "ES256",
            Self::Sm2Sm3 => "SM2-SM3",
        }
    }

    /// The COSE algorithm number. SM2 has none registered; tongban uses -70001 from the
    /// private-use range (below -65536) and documents it.
    pub fn cose(self) -> i64 {
        match self {
            Self::Ed25519 => -8,
            Self::Es256 => -7,
            Self::Sm2Sm3 => -70001,
        }
    }

    pub fn signature_len(self) -> usize {
        64
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignatureAlgorithm {
    type Err = CryptoError;

    fn from_str(text: &str) -> Result<Self, CryptoError> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == text)
            .ok_or(CryptoError::UnknownAlgorithm)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HashAlgorithm {
    #[serde(rename = "SHA-256")]
    Sha256,
    #[serde(rename = "SM3")]
    Sm3,
}

impl HashAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Sm3 => "SM3",
        }
    }
}

impl FromStr for HashAlgorithm {
    type Err = CryptoError;

    fn from_str(text: &str) -> Result<Self, CryptoError> {
        match text {
            "SHA-256" => Ok(Self::Sha256),
            "SM3" => Ok(Self::Sm3),
            _ => Err(CryptoError::UnknownAlgorithm),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AeadAlgorithm {
    #[serde(rename = "A256GCM")]
    Aes256Gcm,
    #[serde(rename = "SM4-GCM")]
    Sm4Gcm,
}

impl AeadAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aes256Gcm => "A256GCM",
            Self::Sm4Gcm => "SM4-GCM",
        }
    }

    /// One byte that names the algorithm inside sealed data.
    pub(crate) fn tag(self) -> u8 {
        match self {
            Self::Aes256Gcm => 1,
            Self::Sm4Gcm => 2,
        }
    }

    pub(crate) fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            1 => Some(Self::Aes256Gcm),
            2 => Some(Self::Sm4Gcm),
            _ => None,
        }
    }

    pub fn key_len(self) -> usize {
        match self {
            Self::Aes256Gcm => 32,
            Self::Sm4Gcm => 16,
        }
    }
}

/// The algorithms a deployment uses, chosen once in configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Ed25519, SHA-256, AES-256-GCM.
    #[default]
    International,
    /// SM2 with SM3, SM3, SM4-GCM (the commercial cryptography of GB/T 39786).
    Gm,
}

impl Profile {
    pub fn signature(self) -> SignatureAlgorithm {
        match self {
            Self::International => SignatureAlgorithm::Ed25519,
            Self::Gm => SignatureAlgorithm::Sm2Sm3,
        }
    }

    pub fn hash(self) -> HashAlgorithm {
        match self {
            Self::International => HashAlgorithm::Sha256,
            Self::Gm => HashAlgorithm::Sm3,
        }
    }

    pub fn aead(self) -> AeadAlgorithm {
        match self {
            Self::International => AeadAlgorithm::Aes256Gcm,
            Self::Gm => AeadAlgorithm::Sm4Gcm,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::International => "international",
            Self::Gm => "gm",
        }
    }
}
