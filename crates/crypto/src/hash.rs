//! SHA-256 and SM3 (both 32-byte digests), and keyed digests (HMAC) for blind indexes.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use sm3::Sm3;

use crate::HashAlgorithm;

pub type Digest32 = [u8; 32];

pub fn digest(algorithm: HashAlgorithm, data: &[u8]) -> Digest32 {
    digest_parts(algorithm, &[data])
}

/// The digest of the concatenation of `parts`, without building it.
pub fn digest_parts(algorithm: HashAlgorithm, parts: &[&[u8]]) -> Digest32 {
    fn run<D: Digest>(parts: &[&[u8]]) -> Digest32 {
        let mut hasher = D::new();
        for part in parts {
            hasher.update(part);
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(&hasher.finalize()[..32]);
        out
    }
    match algorithm {
        HashAlgorithm::Sha256 => run::<Sha256>(parts),
        HashAlgorithm::Sm3 => run::<Sm3>(parts),
    }
}

/// HMAC-SHA-256 or HMAC-SM3 of `data` under `key`.
pub fn keyed_digest(algorithm: HashAlgorithm, key: &[u8], data: &[u8]) -> Digest32 {
    fn run<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Digest32 {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <M as KeyInit>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(data);
        let mut out = [0u8; 32];
        out.copy_from_slice(&mac.finalize().into_bytes()[..32]);
        out
    }
    match algorithm {
        HashAlgorithm::Sha256 => run::<Hmac<Sha256>>(key, data),
        HashAlgorithm::Sm3 => run::<Hmac<Sm3>>(key, data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sm3_matches_the_examples_of_gb_t_32905() {
        // Example 1: "abc".
        assert_eq!(
            hex(&digest(HashAlgorithm::Sm3, b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        // Example 2: "abcd" repeated 16 times (512 bits).
        assert_eq!(
            hex(&digest(HashAlgorithm::Sm3, "abcd".repeat(16).as_bytes())),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
    }

    #[test]
    fn sha256_matches_fips_180_4() {
        assert_eq!(
            hex(&digest(HashAlgorithm::Sha256, b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn parts_hash_like_their_concatenation() {
        for algorithm in [HashAlgorithm::Sha256, HashAlgorithm::Sm3] {
            assert_eq!(
                digest_parts(algorithm, &[b"\x00", b"leaf"]),
                digest(algorithm, b"\x00leaf")
            );
        }
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231_case_2() {
        let mac = keyed_digest(
            HashAlgorithm::Sha256,
            b"Jefe",
            b"what do ya want for nothing?",
        );
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
