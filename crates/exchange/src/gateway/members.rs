//! Members of other regions (跨区域): a department of a recognised region is known by the
//! exchange key that region's trust list binds to its USCC — the trust list is to tongban what
//! X-Road's global configuration is to its security servers. The list also names the region's
//! gateway, where calls to its members go.

use super::message::{EXCHANGE_KEY, EXCHANGE_KIND};
use crate::error::AppResult;
use crate::keys::service::TrustedKey;
use crate::state::AppState;

/// A department of another region, as that region's signed trust list describes it.
#[derive(Debug, Clone)]
pub struct RemoteMember {
    /// The region's code.
    pub region: String,
    /// The region's gateway (its public address), when the list names one.
    pub gateway: Option<String>,
    /// The member's exchange keys.
    pub keys: Vec<TrustedKey>,
}

impl RemoteMember {
    /// The member's exchange key `kid`, if it was in force at `at` (RFC 3339).
    pub fn key(&self, kid: &str, at: &str) -> Option<&TrustedKey> {
        self.keys.iter().find(|key| {
            key.kid == kid
                && key.not_before.as_str() <= at
                && key.not_after.as_deref().is_none_or(|end| at < end)
        })
    }
}

/// The recognised region whose trust list binds an exchange key to `uscc`, if any. A member
/// code two regions' lists both claim is trusted in neither: one region cannot speak for
/// another's department, and which one is right is for the security administrators to settle.
///
/// Every call between regions asks this on both sides, so the answer is kept on the node
/// (scope [`crate::cache::MEMBERS`]) until a trust list is imported or removed or a department
/// is created — on this node at once, on the others when they read the cache feed, about a
/// second later — and at most [`crate::cache::MAX_AGE_MS`]. Whether a key was in force when a
/// message was signed is decided at each use ([`RemoteMember::key`]), not when it was cached.
pub async fn remote_member(state: &AppState, uscc: &str) -> AppResult<Option<RemoteMember>> {
    let cache = state.module::<std::sync::Arc<crate::cache::Coherent<RemoteMember>>>();
    Ok(cache
        .get_or_load(state.now(), uscc, || load(state, uscc))
        .await?
        .map(|entry| entry.value.clone()))
}

async fn load(state: &AppState, uscc: &str) -> AppResult<Option<RemoteMember>> {
    if crate::admin::directory::department_by_uscc(state, uscc)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let mut found: Option<RemoteMember> = None;
    for (region, payload) in tongban_trust::trust::regions::recognised(state).await? {
        let keys: Vec<TrustedKey> = payload
            .keys
            .into_iter()
            .filter(|key| key.purpose == EXCHANGE_KEY && key.may_sign(uscc, EXCHANGE_KIND))
            .collect();
        if keys.is_empty() {
            continue;
        }
        if let Some(first) = &found {
            tracing::warn!(
                member = uscc,
                first = %first.region,
                second = %region,
                "two recognised regions list the same member; neither is trusted for it"
            );
            return Ok(None);
        }
        found = Some(RemoteMember {
            region,
            gateway: payload.gateway,
            keys,
        });
    }
    Ok(found)
}
