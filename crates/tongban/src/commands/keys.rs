//! Keys and the audit log: listing, rotating, exporting the trust list, verifying the log.

use std::sync::Arc;

use anyhow::Context;
use tongban_app::{Config, Db};
use tongban_core::SystemClock;

use crate::cli::*;

pub(crate) async fn manage_keys(config: Config, command: KeysCommand) -> anyhow::Result<()> {
    use tongban_app::keys::{master, service as keys, store as key_store};
    if let KeysCommand::GenerateMaster = command {
        println!("{}", master::generate_text().as_str());
        return Ok(());
    }
    let state = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
    let failed = |e: tongban_app::error::AppError| anyhow::anyhow!("{e}");
    match command {
        KeysCommand::RootKey => {
            use base64::Engine as _;
            use tongban_crypto::Signer as _;
            let region = state.config.region_code.clone();
            let root = tongban_app::keys::service::signer(
                &state,
                &region,
                tongban_app::keys::service::ROOT,
            )
            .await
            .map_err(failed)?;
            println!(
                "{} {} {}",
                region,
                root.algorithm().as_str(),
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(root.public_key().bytes)
            );
        }
        KeysCommand::List => {
            for key in key_store::signing_keys(state.pool())
                .await
                .map_err(failed)?
            {
                let until = key
                    .not_after
                    .map(tongban_app::time_fmt::rfc3339)
                    .unwrap_or_else(|| "(signing)".into());
                println!(
                    "{:<22} {:<8} {:<8} {:<8} from {} until {}",
                    key.kid,
                    key.owner,
                    key.purpose,
                    key.algorithm,
                    tongban_app::time_fmt::rfc3339(key.not_before),
                    until
                );
            }
        }
        KeysCommand::Rotate {
            purpose,
            owner,
            overlap_days,
        } => {
            if ![keys::ROOT, keys::LEDGER].contains(&purpose.as_str()) {
                anyhow::bail!("purpose must be `root` or `ledger`");
            }
            let owner = owner.unwrap_or_else(|| state.config.region_code.clone());
            let kid = keys::rotate(&state, &owner, &purpose, overlap_days)
                .await
                .map_err(failed)?;
            println!(
                "{kid} now signs for {owner}/{purpose}; earlier keys verify for {overlap_days} more days"
            );
        }
        KeysCommand::RotateDataKey => {
            let id = state
                .vault
                .rotate_field_key(state.pool(), state.now())
                .await
                .map_err(failed)?;
            println!(
                "{id} seals personal fields from {} minutes on (every node loads it first); fields sealed before keep opening under their keys",
                tongban_app::keys::vault::ROTATION_LEAD_MS / 60_000
            );
        }
        KeysCommand::ExportTrustList { out } => {
            let list = keys::trust_list(&state).await.map_err(failed)?;
            let text = serde_json::to_string_pretty(&list)?;
            match out {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => println!("{text}"),
            }
        }
        KeysCommand::GenerateMaster => {}
    }
    state.db.close().await;
    Ok(())
}

pub(crate) async fn audit_verify(config: Config) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url(), 2).await?;
    let origin = format!("tongban.{}/audit", config.region_code);
    let report =
        tongban_app::ledger::service::verify_all(db.pool(), config.profile.hash(), &origin)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    db.close().await;
    if let Some(index) = report.first_bad_index {
        eprintln!("the log is NOT intact: first bad index {index}");
        std::process::exit(1);
    }
    Ok(())
}
