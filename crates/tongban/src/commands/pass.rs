//! Passes: offline verification against a trust list.

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
