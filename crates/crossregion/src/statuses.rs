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
    // Each recognised region's list, root key and public address.
    let mut regions = HashMap::new();
    for (text, root) in tongban_trust::trust::regions::recognised_lists(state).await? {
        if let Ok(payload) = tongban_platform::keys::service::verify_trust_list(&text, &root)
            && let Some(gateway) = payload.gateway.clone()
        {
            regions.insert(payload.region.clone(), (text, root, gateway));
        }
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| crate::error::AppError::Internal(e.into()))?;
    let mut lists: HashMap<String, Option<String>> = HashMap::new();
    let now = state.now() / 1000;
    let mut checked = 0;
    for one in &held {
        let (Some((text, root, gateway)), Some(entry)) = (
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
                Ok(response) if response.status().is_success() => response.text().await.ok(),
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
