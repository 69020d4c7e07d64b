//! `tongban bench office`: 协同办公 on this machine. Document numbers (发文字号) issued by
//! `--issuers` at once, each in the transaction that writes its document (as the office does),
//! on SQLite or on the PostgreSQL of `--database-url`; documents a second, and a check that the
//! numbers run from 1 without a gap or a repeat.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use tongban_app::config::Config;
use tongban_app::error::retrying;
use tongban_app::office::{numbering, store};
use tongban_core::SystemClock;

pub async fn office(
    documents: usize,
    issuers: usize,
    database_url: Option<String>,
) -> anyhow::Result<Value> {
    let scratch = std::env::temp_dir().join(format!("tongban-bench-office-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let engine = if database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let config = Config {
        data_dir: scratch.clone(),
        database_url: Some(database_url.unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", scratch.join("bench.db").display())
        })),
        master_key: Some(tongban_app::config::SecretText(
            tongban_app::keys::master::generate_text().to_string(),
        )),
        region_code: "339900".into(),
        ..Config::default()
    };
    let state = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
    // A code of this run's own, so that a PostgreSQL used before starts from 1 too.
    let run: String = (std::process::id() % 1000)
        .to_string()
        .chars()
        .map(|d| {
            "〇一二三四五六七八九"
                .chars()
                .nth(d as usize - '0' as usize)
                .unwrap_or('〇')
        })
        .collect();
    let code = format!("临基准{run}发");
    let issuers = issuers.max(1);
    let started = Instant::now();
    let mut work = tokio::task::JoinSet::new();
    for issuer in 0..issuers {
        let state = state.clone();
        let code = code.clone();
        work.spawn(async move {
            for n in (issuer..documents).step_by(issuers) {
                retrying(|| {
                    let (state, code) = (state.clone(), code.clone());
                    async move {
                        let mut tx = state.pool().begin().await?;
                        let number = numbering::issue(&mut tx, &code, 2026).await?;
                        let mut document = store::Document::new(
                            format!("bench-{}-{n}", std::process::id()),
                            "linjiang-zwfw",
                            &code,
                            tongban_app::office::examples::notice(n),
                            "bench",
                            0,
                        );
                        document.state = "sealing".into();
                        document.number = Some(number);
                        store::insert_document(&mut *tx, &document).await?;
                        tx.commit().await?;
                        Ok(())
                    }
                })
                .await?;
            }
            Ok::<(), tongban_app::error::AppError>(())
        });
    }
    while let Some(done) = work.join_next().await {
        done??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let numbers = store::numbers_of(state.pool(), &code, 2026).await?;
    let expected: Vec<i64> = (1..=documents as i64).collect();
    anyhow::ensure!(
        numbers == expected,
        "the numbers have a gap or a repeat: {} issued, {} distinct up to {:?}",
        documents,
        numbers.len(),
        numbers.last()
    );
    state.db.close().await;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(json!({
        "bench": "office",
        "engine": engine,
        "documents": documents,
        "issuers": issuers,
        "seconds": (seconds * 100.0).round() / 100.0,
        "documents_per_second": (documents as f64 / seconds).round(),
        "numbers_without_gap_or_repeat": true,
    }))
}
