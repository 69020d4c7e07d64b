//! Certificates: bulk import from CSV, offline verification.

use std::sync::Arc;

use anyhow::Context;
use tongban_app::Config;
use tongban_core::SystemClock;

use super::trust::trust_list_and_root;

pub(crate) async fn certs_import(
    config: Config,
    type_code: &str,
    issuer: &str,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    let input = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let state = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} certificates ({per_sec})",
        )?
        .progress_chars("=> "),
    );
    let report = tongban_app::certs::import::import_csv(
        &state,
        issuer,
        type_code,
        std::io::BufReader::new(input),
        &|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )
    .await;
    bar.finish();
    state.db.close().await;
    let report = report.map_err(|e| anyhow::anyhow!("{e}"))?;
    for (line, reason) in &report.failed {
        eprintln!("line {line}: {reason}");
    }
    println!(
        "{}",
        serde_json::json!({"issued": report.issued, "failed": report.failed.len()})
    );
    if !report.failed.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}

pub(crate) fn certs_verify(
    trust_list: &std::path::Path,
    root_key: Option<&str>,
    status_list: Option<&std::path::Path>,
    at: i64,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    let (text, root) = trust_list_and_root(trust_list, root_key)?;
    let document =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let status_list = status_list
        .map(|path| {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
        })
        .transpose()?;
    match tongban_app::certs::verify_offline(
        &text,
        root.as_ref(),
        &document,
        status_list.as_deref(),
        at,
    ) {
        Ok((signed, status)) => {
            let c = &signed.certificate;
            let valid = status.as_deref().is_none_or(|s| s == "valid");
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "valid": valid, "id": c.id, "type": c.type_name, "issuer": c.issuer.name,
                    "valid_until": c.valid_until,
                    "status": status.as_deref().unwrap_or("not checked: give --status-list, or verify online"),
                }))?
            );
            if !valid {
                std::process::exit(1);
            }
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
