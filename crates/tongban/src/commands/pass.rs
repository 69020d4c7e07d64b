//! Passes and exchange receipts: offline verification against a trust list.

use super::trust::trust_list_and_root;

pub(crate) fn pass_verify(
    trust_list: &std::path::Path,
    root_key: Option<&str>,
    code: &str,
) -> anyhow::Result<()> {
    let (text, root) = trust_list_and_root(trust_list, root_key)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    match tongban_app::pass::offline::verify_with_trust_list(&text, root.as_ref(), code, now) {
        Ok(claims) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({"valid": true, "pass": claims}))?
            );
            Ok(())
        }
        Err(refusal) => {
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"valid": false, "reason": refusal.reason, "message": refusal.message})
                )?
            );
            std::process::exit(1);
        }
    }
}

pub(crate) fn exchange_verify(
    trust_lists: &[std::path::PathBuf],
    root_keys: &[String],
    file: &std::path::Path,
) -> anyhow::Result<()> {
    if root_keys.len() > trust_lists.len() {
        anyhow::bail!("more --root-key than --trust-list");
    }
    let mut lists = Vec::with_capacity(trust_lists.len());
    for (n, list) in trust_lists.iter().enumerate() {
        lists.push(trust_list_and_root(
            list,
            root_keys.get(n).map(String::as_str),
        )?);
    }
    let receipt = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let given: Vec<(&str, Option<&tongban_crypto::PublicKey>)> = lists
        .iter()
        .map(|(text, root)| (text.as_str(), root.as_ref()))
        .collect();
    match tongban_app::exchange::verify_receipt_across(&given, &receipt) {
        Ok(record) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "valid": true,
                    "id": record.id,
                    "client": record.client,
                    "service": record.service,
                    "status": record.status,
                    "error": record.error,
                    "requested_at": record.requested_at,
                    "responded_at": record.responded_at,
                    "request_hash": record.request_hash,
                    "response_hash": record.response_hash,
                }))?
            );
            Ok(())
        }
        Err(refusal) => {
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"valid": false, "reason": refusal.reason, "message": refusal.message})
                )?
            );
            std::process::exit(1);
        }
    }
}
