//! Trust: other regions' trust lists and EU DCC signers and schemas.

use std::sync::Arc;

use anyhow::Context;
use tongban_app::Config;
use tongban_core::SystemClock;

use crate::cli::*;

pub(crate) async fn dcc(config: Config, command: DccCommand) -> anyhow::Result<()> {
    use tongban_app::error::AppError;
    let state = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
    let outcome = match command {
        DccCommand::ImportSigners { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            tongban_app::trust::dcc::import_signers(&state, &text, "operator")
                .await
                .map(|added| serde_json::json!({"added": added}))
        }
        DccCommand::Signers => tongban_app::trust::dcc::list_signers(&state)
            .await
            .and_then(|list| serde_json::to_value(list).map_err(|e| AppError::Internal(e.into()))),
        DccCommand::RemoveSigner { kid } => {
            tongban_app::trust::dcc::remove_signer(&state, &kid, "operator")
                .await
                .map(|removed| serde_json::json!({"kid": kid, "removed": removed}))
        }
        DccCommand::ImportSchemas { dir } => {
            tongban_app::trust::dcc::import_schema_dir(&state, &dir, "operator")
                .await
                .map(|releases| serde_json::json!({"releases": releases}))
        }
    };
    state.db.close().await;
    let value = outcome.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

pub(crate) async fn trust(config: Config, command: TrustCommand) -> anyhow::Result<()> {
    let state = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
    let outcome = match command {
        TrustCommand::Import { source, root_key } => {
            let text = if source.starts_with("http://") || source.starts_with("https://") {
                tongban_app::outbound::builder(&state.config)
                    .build()?
                    .get(&source)
                    .send()
                    .await
                    .with_context(|| format!("fetching {source}"))?
                    .error_for_status()?
                    .text()
                    .await?
            } else {
                std::fs::read_to_string(&source).with_context(|| format!("reading {source}"))?
            };
            let root = tongban_app::trust::regions::root_key(&text, &root_key)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            tongban_app::trust::regions::import(&state, &text, &root, "operator")
                .await
                .map(|payload| {
                    serde_json::json!({"region": payload.region, "issued_at": payload.issued_at, "keys": payload.keys.len()})
                })
        }
        TrustCommand::List => tongban_app::trust::regions::list(&state)
            .await
            .and_then(|list| {
                serde_json::to_value(list)
                    .map_err(|e| tongban_app::error::AppError::Internal(e.into()))
            }),
        TrustCommand::Remove { region } => {
            tongban_app::trust::regions::remove(&state, &region, "operator")
                .await
                .map(|removed| serde_json::json!({"region": region, "removed": removed}))
        }
    };
    state.db.close().await;
    let value = outcome.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

/// Reads a trust list file and the pinned root key, if given.
pub(crate) fn trust_list_and_root(
    trust_list: &std::path::Path,
    root_key: Option<&str>,
) -> anyhow::Result<(String, Option<tongban_crypto::PublicKey>)> {
    use base64::Engine as _;
    let text = std::fs::read_to_string(trust_list)
        .with_context(|| format!("reading {}", trust_list.display()))?;
    let list: tongban_app::keys::service::SignedTrustList =
        serde_json::from_str(&text).context("the trust list is not well formed")?;
    let root = match root_key {
        Some(encoded) => {
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(encoded.trim())
                .context("--root-key is not base64url")?;
            let algorithm = list
                .alg
                .parse()
                .map_err(|_| anyhow::anyhow!("unknown algorithm {}", list.alg))?;
            Some(
                tongban_crypto::PublicKey::new(algorithm, bytes)
                    .map_err(|_| anyhow::anyhow!("--root-key is not a valid key"))?,
            )
        }
        None => {
            eprintln!(
                "note: no --root-key given; the trust list is checked only against the root key it carries"
            );
            None
        }
    };
    Ok((text, root))
}
