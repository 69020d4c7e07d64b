//! Reading an exported trust list offline: its signature under the region's root key, and the
//! keys of one purpose current at a moment. Verifiers of passes, certificates and copies use it.

use tongban_crypto::{KeyRing, PublicKey};

use super::service::{ROOT, SignedTrustList, verify_trust_list};

/// Why an offline check failed, with a stable reason code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {message}")]
pub struct Refusal {
    pub reason: &'static str,
    pub message: String,
}

pub fn refuse(reason: &'static str, message: impl ToString) -> Refusal {
    Refusal {
        reason,
        message: message.to_string(),
    }
}

/// Checks a trust list (against `root` when pinned, else against the root key it lists itself,
/// which only detects damage) and returns it with the keys of `purpose` current at `now` (Unix
/// seconds).
pub fn trusted_keys(
    trust_list: &str,
    root: Option<&PublicKey>,
    purpose: &str,
    now: i64,
) -> Result<(crate::keys::service::TrustListPayload, KeyRing), Refusal> {
    let list: SignedTrustList = serde_json::from_str(trust_list)
        .map_err(|_| refuse("bad_trust_list", "the trust list is not well formed"))?;
    let listed_root = || -> Option<PublicKey> {
        let payload: crate::keys::service::TrustListPayload =
            serde_json::from_str(&list.payload).ok()?;
        payload
            .keys
            .iter()
            .find(|k| k.kid == list.kid && k.purpose == ROOT)?
            .public_key()
    };
    let root = match root {
        Some(root) => root.clone(),
        None => listed_root().ok_or_else(|| {
            refuse(
                "bad_trust_list",
                "the trust list does not list its root key",
            )
        })?,
    };
    let payload = verify_trust_list(trust_list, &root).map_err(|e| refuse("bad_trust_list", e))?;
    let now_text = crate::time_fmt::rfc3339(now * 1000);
    let mut keys = KeyRing::new();
    for key in payload.keys.iter().filter(|k| k.purpose == purpose) {
        // RFC 3339 texts of the same form compare in time order.
        let current = key.not_before.as_str() <= now_text.as_str()
            && key
                .not_after
                .as_deref()
                .is_none_or(|end| now_text.as_str() < end);
        if let (true, Some(public)) = (current, key.public_key()) {
            keys.insert(key.kid.clone(), public);
        }
    }
    Ok((payload, keys))
}
