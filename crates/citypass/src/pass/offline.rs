//! Offline verification of a pass code against a trust list file.

use tongban_codes::{PassClaims, verify_pass};
use tongban_crypto::PublicKey;

pub use crate::keys::offline::Refusal;
use crate::keys::offline::{refuse, trusted_keys};
use crate::keys::service::PASS;

/// Checks the trust list, then the code against the list's pass keys and region. `now` is Unix
/// seconds.
pub fn verify_with_trust_list(
    trust_list: &str,
    root: Option<&PublicKey>,
    code: &str,
    now: i64,
) -> Result<PassClaims, Refusal> {
    let (payload, keys) = trusted_keys(trust_list, root, PASS, now)?;
    let issuers = [format!("tongban.{}", payload.region)];
    verify_pass(code, &keys, now, &issuers).map_err(|e| refuse(e.code(), e))
}
