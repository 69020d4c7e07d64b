//! Checkpoints: the log's origin, size and root, signed in the C2SP signed-note shape:
//!
//! ```text
//! <origin>
//! <size>
//! <root, base64>
//!
//! — <key name> <base64(key id(4) ‖ signature)>
//! ```
//!
//! The key id is the first four bytes of SHA-256(key name ‖ "\n" ‖ type ‖ public key), with
//! type 0x01 for Ed25519 as the signed-note specification assigns, and 0xff followed by
//! "tongban/ES256" or "tongban/SM2-SM3" for the other suites.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tongban_crypto::{
    Digest32, HashAlgorithm, PublicKey, SignatureAlgorithm, Signer, digest_parts, verify,
};

/// A tree head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Names the log, e.g. `tongban.339900/audit`.
    pub origin: String,
    pub size: u64,
    pub root: Digest32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("the checkpoint text is malformed")]
    Malformed,
    #[error("no signature by the expected key")]
    NoSignature,
    #[error("the signature does not verify")]
    BadSignature,
}

/// The type bytes that enter the key id.
fn key_type(algorithm: SignatureAlgorithm) -> Vec<u8> {
    match algorithm {
        SignatureAlgorithm::Ed25519 => vec![0x01],
        other => [
            &[0xff][..],
            format!("tongban/{}", other.as_str()).as_bytes(),
        ]
        .concat(),
    }
}

/// The 4-byte id of a key under a name.
pub fn key_id(name: &str, key: &PublicKey) -> [u8; 4] {
    let hash = digest_parts(
        HashAlgorithm::Sha256,
        &[name.as_bytes(), b"\n", &key_type(key.algorithm), &key.bytes],
    );
    [hash[0], hash[1], hash[2], hash[3]]
}

impl Checkpoint {
    /// The note body that is signed: three lines, each ending in a newline.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    pub fn sign(&self, key_name: &str, signer: &dyn Signer) -> SignedCheckpoint {
        let body = self.body();
        let signature = signer.sign(body.as_bytes());
        let id = key_id(key_name, &signer.public_key());
        let line = format!(
            "— {key_name} {}\n",
            STANDARD.encode([&id[..], &signature].concat())
        );
        SignedCheckpoint {
            checkpoint: self.clone(),
            text: format!("{body}\n{line}"),
        }
    }

    fn parse_body(body: &str) -> Result<Checkpoint, CheckpointError> {
        let mut lines = body
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed)?
            .split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(CheckpointError::Malformed)?;
        let size = lines
            .next()
            .and_then(|s| s.parse::<u64>().ok().filter(|n| n.to_string() == s))
            .ok_or(CheckpointError::Malformed)?;
        let root = lines
            .next()
            .and_then(|r| STANDARD.decode(r).ok())
            .and_then(|r| <Digest32>::try_from(r).ok())
            .ok_or(CheckpointError::Malformed)?;
        // Extension lines may follow; tongban writes none and accepts none.
        if lines.next().is_some() {
            return Err(CheckpointError::Malformed);
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

/// A checkpoint with its note text, as served and stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub text: String,
}

impl SignedCheckpoint {
    /// Parses a signed note and checks the signature of `key_name` with `key`. Other
    /// signatures (co-signers, witnesses) are ignored.
    pub fn verify(
        text: &str,
        key_name: &str,
        key: &PublicKey,
    ) -> Result<SignedCheckpoint, CheckpointError> {
        if text.len() > 64 * 1024 {
            return Err(CheckpointError::Malformed);
        }
        let (body, signatures) = text.split_once("\n\n").ok_or(CheckpointError::Malformed)?;
        let body = format!("{body}\n");
        let checkpoint = Checkpoint::parse_body(&body)?;
        let id = key_id(key_name, key);
        let prefix = format!("— {key_name} ");
        let mut found = false;
        for line in signatures.lines() {
            let Some(encoded) = line.strip_prefix(&prefix) else {
                continue;
            };
            let Ok(bytes) = STANDARD.decode(encoded) else {
                return Err(CheckpointError::Malformed);
            };
            if bytes.len() < 4 || bytes[..4] != id {
                continue;
            }
            found = true;
            if verify(key, body.as_bytes(), &bytes[4..]).is_ok() {
                return Ok(SignedCheckpoint {
                    checkpoint,
                    text: text.to_owned(),
                });
            }
        }
        Err(if found {
            CheckpointError::BadSignature
        } else {
            CheckpointError::NoSignature
        })
    }
}
