//! 互认: the regions this one recognises. An administrator imports another region's signed
//! trust list, checked against the root key they pinned (obtained out of band); from then on
//! that region's passes verify here, online and at the door. A refresh replaces the keys (only
//! with a list at least as new, under the same pinned root); removal stops recognition at
//! once. Every import and removal is logged.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use tongban_crypto::{KeyRing, PublicKey};

use super::store::{self, TrustedRegionRow};
use crate::error::{AppError, AppResult};
use crate::keys::service::{TrustListPayload, verify_trust_list};
use crate::state::AppState;

/// A recognised region as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrustedRegion {
    pub region_code: String,
    /// The pinned root key: algorithm and base64url.
    pub root_alg: String,
    pub root_key: String,
    /// When the region signed the list kept, and when it was imported.
    pub issued_at: String,
    pub imported_at: String,
    /// Keys in the list, by purpose.
    pub pass_keys: usize,
    pub certificate_keys: usize,
}

/// Parses a root key given as base64url for the algorithm the list names.
pub fn root_key(list_text: &str, encoded: &str) -> AppResult<PublicKey> {
    let list: crate::keys::service::SignedTrustList = serde_json::from_str(list_text)
        .map_err(|_| AppError::invalid("trust_list", "the trust list is not well formed"))?;
    let algorithm = list
        .alg
        .parse()
        .map_err(|_| AppError::invalid("trust_list", format!("unknown algorithm {}", list.alg)))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded.trim())
        .map_err(|_| AppError::invalid("root_key", "not base64url"))?;
    PublicKey::new(algorithm, bytes).map_err(|_| AppError::invalid("root_key", "not a valid key"))
}

/// Imports (or refreshes) another region's trust list under a pinned root key.
pub async fn import(
    state: &AppState,
    list_text: &str,
    root: &PublicKey,
    imported_by: &str,
) -> AppResult<TrustListPayload> {
    let payload = verify_trust_list(list_text, root)
        .map_err(|e| AppError::invalid("trust_list", e.to_string()))?;
    if payload.region == state.config.region_code {
        return Err(AppError::invalid(
            "trust_list",
            "this is this region's own trust list",
        ));
    }
    if payload.region.parse::<tongban_core::RegionCode>().is_err() {
        return Err(AppError::invalid(
            "trust_list",
            "the list names no valid region",
        ));
    }
    let root_text = URL_SAFE_NO_PAD.encode(&root.bytes);
    if let Some(existing) = store::trusted_region(state.pool(), &payload.region).await? {
        if existing.root_key != root_text {
            return Err(AppError::Conflict(format!(
                "region {} is pinned to another root key; remove it first to pin a new one",
                payload.region
            )));
        }
        if payload.issued_at < existing.issued_at {
            return Err(AppError::Conflict(
                "this trust list is older than the one already imported".into(),
            ));
        }
    }
    let entry = serde_json::json!({
        "kind": "trust_list_imported",
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": imported_by,
        "region": payload.region,
        "issued_at": payload.issued_at,
        "keys": payload.keys.iter().map(|k| &k.kid).collect::<Vec<_>>(),
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    store::upsert_trusted_region(
        state.pool(),
        &TrustedRegionRow {
            region_code: payload.region.clone(),
            root_alg: root.algorithm.as_str().to_owned(),
            root_key: root_text,
            list_text: list_text.to_owned(),
            issued_at: payload.issued_at.clone(),
            imported_at: state.now(),
        },
        imported_by,
    )
    .await?;
    crate::cache::changed(state, crate::cache::MEMBERS, crate::cache::ALL).await;
    Ok(payload)
}

/// Stops recognising a region at once; false when it was not recognised.
pub async fn remove(state: &AppState, region: &str, removed_by: &str) -> AppResult<bool> {
    if store::trusted_region(state.pool(), region).await?.is_none() {
        return Ok(false);
    }
    let entry = serde_json::json!({
        "kind": "trust_list_removed",
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": removed_by,
        "region": region,
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    let removed = store::delete_trusted_region(state.pool(), region).await?;
    crate::cache::changed(state, crate::cache::MEMBERS, crate::cache::ALL).await;
    Ok(removed)
}

/// Every recognised region, each list checked again against its pinned root.
/// Trust lists already verified on this node, by the SHA-256 of their root key and text: a
/// list that verified once under a root verifies again, so each is checked once, not on every
/// call between regions. A new or changed list has another digest.
#[derive(Default)]
pub struct Verified(std::sync::Mutex<std::collections::HashMap<[u8; 32], TrustListPayload>>);

/// The most lists remembered (a region keeps one; old ones are dropped when it is full).
const VERIFIED_MAX: usize = 256;

/// The root key a region is pinned to, as stored (algorithm name, base64url key).
fn pinned_root(alg: &str, key: &str) -> Option<PublicKey> {
    let algorithm = alg.parse().ok()?;
    PublicKey::new(algorithm, URL_SAFE_NO_PAD.decode(key).ok()?).ok()
}

fn verified(state: &AppState, alg: &str, key: &str, text: &str) -> Option<TrustListPayload> {
    use sha2::Digest as _;
    let digest: [u8; 32] = sha2::Sha256::new()
        .chain_update(alg.as_bytes())
        .chain_update([0])
        .chain_update(key.as_bytes())
        .chain_update([0])
        .chain_update(text.as_bytes())
        .finalize()
        .into();
    let memo = state.module::<Verified>();
    if let Some(payload) = memo.0.lock().ok()?.get(&digest) {
        return Some(payload.clone());
    }
    let root = pinned_root(alg, key)?;
    let payload = verify_trust_list(text, &root).ok()?;
    if let Ok(mut memo) = memo.0.lock() {
        if memo.len() >= VERIFIED_MAX {
            memo.clear();
        }
        memo.insert(digest, payload.clone());
    }
    Some(payload)
}

async fn lists(
    state: &AppState,
) -> AppResult<Vec<(String, TrustListPayload, String, String, i64)>> {
    let mut out = Vec::new();
    for r in store::trusted_regions(state.pool()).await? {
        let (region, alg, key, text, at) = (
            r.region_code,
            r.root_alg,
            r.root_key,
            r.list_text,
            r.imported_at,
        );
        let Some(payload) = verified(state, &alg, &key, &text) else {
            tracing::warn!(%region, "a stored trust list no longer verifies; it is ignored");
            continue;
        };
        out.push((region, payload, alg, key, at));
    }
    Ok(out)
}

pub async fn list(state: &AppState) -> AppResult<Vec<TrustedRegion>> {
    Ok(lists(state)
        .await?
        .into_iter()
        .map(|(region, payload, alg, key, at)| TrustedRegion {
            pass_keys: payload
                .keys
                .iter()
                .filter(|k| k.purpose == crate::keys::service::PASS)
                .count(),
            certificate_keys: payload
                .keys
                .iter()
                .filter(|k| k.purpose == crate::keys::CERT_KEY)
                .count(),
            region_code: region,
            root_alg: alg,
            root_key: key,
            issued_at: payload.issued_at,
            imported_at: crate::time_fmt::rfc3339(at),
        })
        .collect())
}

/// Each recognised region with its trust list, checked again against its pinned root: what
/// the region's gateway and departments' keys are (the data-sharing exchange between regions).
pub async fn recognised(state: &AppState) -> AppResult<Vec<(String, TrustListPayload)>> {
    Ok(lists(state)
        .await?
        .into_iter()
        .map(|(region, payload, ..)| (region, payload))
        .collect())
}

/// Each recognised region's trust list as imported, with the root key it is pinned to (for
/// checking receipts of exchanges with that region).
pub async fn recognised_lists(state: &AppState) -> AppResult<Vec<(String, PublicKey)>> {
    let mut out = Vec::new();
    for row in store::trusted_regions(state.pool()).await? {
        if let Some(root) = pinned_root(&row.root_alg, &row.root_key) {
            out.push((row.list_text, root));
        }
    }
    Ok(out)
}

/// One recognised region's trust list as imported, with its pinned root key and the payload
/// (checked against that root): what checks that region's certificates and status lists.
pub async fn recognised_list_of(
    state: &AppState,
    region: &str,
) -> AppResult<Option<(String, PublicKey, TrustListPayload)>> {
    for row in store::trusted_regions(state.pool()).await? {
        if row.region_code != region {
            continue;
        }
        let Some(payload) = verified(state, &row.root_alg, &row.root_key, &row.list_text) else {
            return Ok(None);
        };
        let root = pinned_root(&row.root_alg, &row.root_key);
        return Ok(root.map(|root| (row.list_text, root, payload)));
    }
    Ok(None)
}

/// Each recognised region's issuer name (`tongban.<region>`) with its keys of `purpose`
/// valid now. A region's codes verify only against its own keys.
pub async fn foreign_keys(state: &AppState, purpose: &str) -> AppResult<Vec<(String, KeyRing)>> {
    let now = crate::time_fmt::rfc3339(state.now());
    let mut out = Vec::new();
    for (region, payload, _, _, _) in lists(state).await? {
        let mut ring = KeyRing::new();
        for key in payload.keys.iter().filter(|k| k.purpose == purpose) {
            let current =
                key.not_before <= now && key.not_after.as_ref().is_none_or(|end| now < *end);
            if let (true, Some(public)) = (current, key.public_key()) {
                ring.insert(key.kid.clone(), public);
            }
        }
        out.push((format!("tongban.{region}"), ring));
    }
    Ok(out)
}
