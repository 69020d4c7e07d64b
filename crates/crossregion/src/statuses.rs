//! A certificate another region issued and this region keeps in a holder's wallet follows its
//! issuer's status: every ten minutes each node reads the issuing department's signed status
//! list from that region's public address (as its trust list publishes it), checks the list
//! against the same trust list, and records what it says (valid, suspended, revoked). A list
//! that cannot be read or does not verify changes nothing; the wallet keeps the last status.

use std::collections::HashMap;
use std::time::Duration;

use tongban_certificates::certs::elsewhere;

use crate::error::AppResult;
use crate::state::AppState;

/// How often the statuses are read again.
pub const PERIOD: Duration = Duration::from_secs(600);

/// Reads the status of every certificate held from elsewhere (not yet revoked) again;
/// returns how many were checked against a list.
pub async fn refresh(state: &AppState) -> AppResult<usize> {
    let held = elsewhere::held(state, 1_000).await?;
    if held.is_empty() {
        return Ok(0);
    }
    // Each issuing region's list, root key and public address, read once per run.
    let mut regions = HashMap::new();
    for one in &held {
        if !regions.contains_key(&one.region) {
            let found = tongban_trust::trust::regions::recognised_list_of(state, &one.region)
                .await?
                .and_then(|(text, root, payload)| Some((text, root, payload.gateway?)));
            regions.insert(one.region.clone(), found);
        }
    }
    let client = tongban_platform::outbound::builder(&state.config)
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| crate::error::AppError::Internal(e.into()))?;
    let mut lists: HashMap<String, Option<String>> = HashMap::new();
    let now = state.now() / 1000;
    let mut checked = 0;
    for one in &held {
        let (Some(Some((text, root, gateway))), Some(entry)) = (
            regions.get(&one.region),
            one.signed.certificate.status.as_ref(),
        ) else {
            continue;
        };
        let url = format!(
            "{}/api/v1/certs/status-lists/{}",
            gateway.trim_end_matches('/'),
            entry.list
        );
        if !lists.contains_key(&url) {
            let read = match client.get(&url).send().await {
                Ok(response) if response.status().is_success() => limited(response).await,
                Ok(response) => {
                    tracing::warn!(%url, status = %response.status(), "a status list could not be read");
                    None
                }
                Err(error) => {
                    tracing::warn!(%url, %error, "a status list could not be read");
                    None
                }
            };
            lists.insert(url.clone(), read);
        }
        let Some(Some(list)) = lists.get(&url) else {
            continue;
        };
        let document = serde_json::to_string(&one.signed)
            .map_err(|e| crate::error::AppError::Internal(e.into()))?;
        match tongban_certificates::certs::verify_offline(
            text,
            Some(root),
            &document,
            Some(list),
            now,
        ) {
            Ok((_, Some(status))) => {
                elsewhere::set_status(state, one, &status).await?;
                checked += 1;
            }
            Ok((_, None)) => {}
            Err(refusal) => {
                tracing::warn!(region = %one.region, reason = refusal.reason, "a status list from another region does not verify: kept the last status");
            }
        }
    }
    Ok(checked)
}

/// The largest status list read (a list of a million certificates is 128 KiB of bits, base64).
const MAX_LIST_BYTES: usize = 4 << 20;

/// The body as text, if it is UTF-8 and no larger than [`MAX_LIST_BYTES`].
async fn limited(mut response: reqwest::Response) -> Option<String> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        if body.len() + chunk.len() > MAX_LIST_BYTES {
            tracing::warn!(url = %response.url(), "a status list is larger than any should be");
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).ok()
}
