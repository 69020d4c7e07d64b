//! Randomness and one-way digests for secrets that are stored only as hashes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Fills `bytes` from the operating system's generator. A machine without one cannot run
/// tongban safely, so failure stops the process rather than hand out weak secrets.
pub fn fill(bytes: &mut [u8]) {
    if let Err(error) = getrandom::fill(bytes) {
        panic!("the operating system's random generator failed: {error}");
    }
}

/// A new 256-bit secret, base64url-encoded (43 characters).
pub fn secret_token() -> String {
    let mut bytes = [0u8; 32];
    fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The form in which a bearer secret (session id, API token) is stored: SHA-256, hex.
/// The secrets carry 256 bits of entropy, so an unsalted fast hash is enough.
pub fn secret_digest(secret: &str) -> String {
    hex_encode(&Sha256::digest(secret.as_bytes()))
}

pub fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new time-ordered unique id (UUID v7) as text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A readable password for generated accounts (demo, admin resets): 4 groups of 4 from an
/// alphabet without look-alikes, about 80 bits.
pub fn readable_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    fill(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}
