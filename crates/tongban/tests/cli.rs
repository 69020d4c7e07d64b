//! The binary's commands that operators script: `audit verify` exits non-zero with the first
//! bad index, `keys` lists and rotates, `migrate` is repeatable.

use std::process::Command;
use std::sync::Arc;

use tongban_app::Config;
use tongban_app::config::SecretText;
use tongban_app::keys::master;
use tongban_app::ledger::service;

fn tongban(args: &[&str], master_key: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tongban"))
        .args(args)
        .env("TONGBAN_MASTER_KEY", master_key)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run tongban")
}

#[tokio::test]
async fn audit_verify_passes_an_intact_log_and_names_the_first_tampered_entry() {
    let dir = std::env::temp_dir().join(format!("tongban-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("tongban.db").display());
    let key = master::generate_text().to_string();
    let config = Config {
        database_url: Some(url.clone()),
        master_key: Some(SecretText(key.clone())),
        data_dir: dir.clone(),
        ..Config::default()
    };
    let state = tongban_app::open_state(config, Arc::new(tongban_core::SystemClock))
        .await
        .expect("state");
    for n in 0..10 {
        service::append(&state, &serde_json::json!({"kind": "test", "n": n}))
            .await
            .expect("append");
    }
    service::make_checkpoint(&state).await.expect("checkpoint");

    let intact = tongban(&["audit", "verify", "--database-url", &url], &key);
    assert!(
        intact.status.success(),
        "{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    assert!(String::from_utf8_lossy(&intact.stdout).contains("\"entries\": 10"));

    sqlx::query("UPDATE ledger_entries SET data = $1 WHERE idx = 7")
        .bind(b"{}".to_vec())
        .execute(state.pool())
        .await
        .expect("tamper");
    let tampered = tongban(&["audit", "verify", "--database-url", &url], &key);
    assert_eq!(tampered.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&tampered.stderr).contains("first bad index 7"));

    let listed = tongban(&["keys", "list", "--database-url", &url], &key);
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("ledger-"),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let rotated = tongban(
        &[
            "keys",
            "rotate",
            "--purpose",
            "ledger",
            "--database-url",
            &url,
        ],
        &key,
    );
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let refused = tongban(
        &[
            "keys",
            "rotate",
            "--purpose",
            "everything",
            "--database-url",
            &url,
        ],
        &key,
    );
    assert!(!refused.status.success());
    let wrong_key = tongban(
        &["keys", "list", "--database-url", &url],
        &master::generate_text(),
    );
    assert!(
        !wrong_key.status.success(),
        "another master key opens nothing"
    );
    state.db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
