//! RFC 6238 time-based one-time passwords (HMAC-SHA1, 30-second steps, 6 digits), the second
//! factor of staff logins. Each accepted step is remembered so a code cannot be used twice.

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

pub const STEP_SECONDS: i64 = 30;
const DIGITS: u32 = 6;

/// How a sealed secret is stored: this prefix, then the sealed bytes in base64url.
const SEALED: &str = "sealed:";

/// The stored form of an account's TOTP secret (or one being enrolled): sealed under the
/// vault's field key, bound to the account, so a copy of the database yields no second factor.
pub fn seal(vault: &crate::keys::vault::Vault, account_id: &str, secret: &str) -> String {
    use base64::Engine as _;
    let sealed = vault.seal_field(&format!("accounts.totp/{account_id}"), secret.as_bytes());
    format!(
        "{SEALED}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed)
    )
}

/// The secret from its stored form. A secret stored in clear before secrets were sealed is
/// still read (and sealed when next set).
pub fn open(
    vault: &crate::keys::vault::Vault,
    account_id: &str,
    stored: &str,
) -> crate::error::AppResult<zeroize::Zeroizing<String>> {
    use base64::Engine as _;
    let Some(encoded) = stored.strip_prefix(SEALED) else {
        return Ok(zeroize::Zeroizing::new(stored.to_owned()));
    };
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|e| crate::error::AppError::Internal(e.into()))?;
    let plain = vault.open_field(&format!("accounts.totp/{account_id}"), &sealed)?;
    String::from_utf8(plain.to_vec())
        .map(zeroize::Zeroizing::new)
        .map_err(|e| crate::error::AppError::Internal(e.into()))
}

/// A new random 160-bit secret in base32, as authenticator apps expect.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    crate::random::fill(&mut bytes);
    BASE32_NOPAD.encode(&bytes)
}

/// The code for one time step (RFC 4226 HOTP over the step counter).
pub fn code_at_step(secret: &[u8], step: i64) -> u32 {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return 0;
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    binary % 10u32.pow(DIGITS)
}

/// Checks `code` against the steps around `unix_seconds` (one step of drift either way) and
/// returns the step it matched. Steps at or before `last_used_step` never match: replay refused.
pub fn verify(
    secret_base32: &str,
    code: &str,
    unix_seconds: i64,
    last_used_step: i64,
) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let wanted: u32 = code.parse().ok()?;
    let secret = BASE32_NOPAD
        .decode(secret_base32.trim_end_matches('=').as_bytes())
        .ok()?;
    let current = unix_seconds.div_euclid(STEP_SECONDS);
    (current - 1..=current + 1)
        .filter(|&step| step > last_used_step)
        .find(|&step| constant_time_eq(code_at_step(&secret, step), wanted))
}

fn constant_time_eq(a: u32, b: u32) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(&b).into()
}

/// The current code of a base32 secret, for the demo and tests.
pub fn current_code(secret_base32: &str, unix_seconds: i64) -> Option<String> {
    let secret = BASE32_NOPAD.decode(secret_base32.as_bytes()).ok()?;
    Some(format!(
        "{:06}",
        code_at_step(&secret, unix_seconds.div_euclid(STEP_SECONDS))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 column, secret "12345678901234567890" (8-digit values, taken mod 10^6).
    #[test]
    fn matches_the_rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, eight_digits) in [
            (59i64, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
        ] {
            assert_eq!(
                code_at_step(secret, time / STEP_SECONDS),
                eight_digits % 1_000_000,
                "t={time}"
            );
        }
    }

    #[test]
    fn a_code_is_accepted_once_and_then_refused_as_a_replay() {
        let secret = BASE32_NOPAD.encode(b"12345678901234567890");
        let now = 1_111_111_111;
        let code = current_code(&secret, now).expect("code");
        let step = verify(&secret, &code, now, 0).expect("first use");
        assert_eq!(verify(&secret, &code, now, step), None);
    }

    #[test]
    fn codes_from_far_away_steps_and_malformed_codes_are_refused() {
        let secret = BASE32_NOPAD.encode(b"12345678901234567890");
        let code = current_code(&secret, 1_000_000).expect("code");
        assert_eq!(
            verify(&secret, &code, 1_000_000 + 5 * STEP_SECONDS, 0),
            None
        );
        assert_eq!(verify(&secret, "12345", 0, 0), None);
        assert_eq!(verify(&secret, "abcdef", 0, 0), None);
        assert_eq!(verify("not base32!", "123456", 0, 0), None);
    }
}
