//! The transparency log: what a client holding a checkpoint can check without trusting the
//! server, bad proof requests, the offline verifier against tampering, and log-then-release.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use tongban_app::ledger::service::{self, verify_all};
use tongban_ledger::{
    Digest32, HashAlgorithm, SignedCheckpoint, leaf_hash, verify_consistency, verify_inclusion,
};

use crate::helpers::{TestApp, problem, spawn_app};

fn hashes(value: &Value) -> Vec<Digest32> {
    value["hashes"]
        .as_array()
        .expect("hashes")
        .iter()
        .map(|h| {
            STANDARD
                .decode(h.as_str().expect("text"))
                .expect("base64")
                .try_into()
                .expect("32 bytes")
        })
        .collect()
}

/// Makes `count` audited reads, so the log has entries.
async fn read_people(app: &TestApp, count: usize) {
    let clerk = &app.account("demo.clerk").api_token;
    let person = app.person_id_of("citizen.zhangwei").await;
    for _ in 0..count {
        let response = app
            .get_as(
                clerk,
                &format!("/api/v1/persons/{person}?purpose=service_handling"),
            )
            .await;
        assert_eq!(response.status(), 200);
    }
}

async fn checkpoint(app: &TestApp) -> SignedCheckpoint {
    let text = app
        .client
        .get(app.url("/api/v1/ledger/checkpoint"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    let (name, key) = service::checkpoint_key(&app.state).await.expect("key");
    SignedCheckpoint::verify(&text, &name, &key)
        .expect("the checkpoint verifies under the ledger key")
}

#[tokio::test]
async fn a_client_with_a_checkpoint_checks_entries_and_proofs_without_trusting_the_server() {
    let app = spawn_app().await;
    read_people(&app, 5).await;
    let first = checkpoint(&app).await.checkpoint;
    assert!(first.size >= 5);
    read_people(&app, 6).await;
    // Checkpoints asked for are signed at most once a second.
    app.clock.advance(time::Duration::seconds(1));
    let second = checkpoint(&app).await.checkpoint;
    assert_eq!(second.size, first.size + 6);

    // The public sees leaf hashes: enough to check, nothing to read.
    let public: Value = app
        .client
        .get(app.url(&format!(
            "/api/v1/ledger/entries?start=0&end={}",
            second.size
        )))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let public = public.as_array().expect("list");
    assert_eq!(public.len() as u64, second.size);
    assert!(public.iter().all(|leaf| leaf.get("leaf").is_none()));
    // The content is the audit administrator's to read, no one else's.
    let contents = format!("/api/v1/ledger/entries/content?start=0&end={}", second.size);
    let anonymous = app
        .client
        .get(app.url(&contents))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        app.get_as(&app.account("demo.clerk").api_token, &contents)
            .await
            .status(),
        403
    );
    let entries: Value = app
        .get_as(&app.first_with_role("audit_admin").api_token, &contents)
        .await
        .json()
        .await
        .expect("json");
    let entries = entries.as_array().expect("list");
    assert_eq!(entries.len() as u64, second.size);
    let mut subjects = std::collections::BTreeSet::new();
    let mut reads = 0;
    for (entry, public) in entries.iter().zip(public) {
        let index = entry["index"].as_u64().expect("index");
        let data = STANDARD
            .decode(entry["leaf"].as_str().expect("leaf"))
            .expect("base64");
        assert_eq!(
            STANDARD.encode(leaf_hash(HashAlgorithm::Sha256, &data)),
            public["leaf_hash"].as_str().expect("hash"),
            "the public leaf hash is the entry's"
        );
        let record: Value = serde_json::from_slice(&data).expect("an entry is JSON");
        assert!(record["kind"].is_string(), "every entry names its kind");
        if record["kind"] == "personal_data_access" {
            let basis = record["legal_basis"].as_str().unwrap_or_default();
            assert!(basis.starts_with("PIPL"), "each read names its legal basis");
            if record["actor_role"] == "clerk" || record["role"] == "clerk" {
                reads += 1;
                subjects.insert(record["subject"].as_str().expect("subject").to_owned());
            }
        }
        assert!(
            !String::from_utf8_lossy(&data).contains("张伟"),
            "entries carry no personal data"
        );
        let proof: Value = app
            .client
            .get(app.url(&format!(
                "/api/v1/ledger/proof/inclusion?index={index}&size={}",
                second.size
            )))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json");
        let leaf = leaf_hash(HashAlgorithm::Sha256, &data);
        assert_eq!(
            verify_inclusion(
                HashAlgorithm::Sha256,
                &leaf,
                index,
                second.size,
                &hashes(&proof),
                &second.root
            ),
            Ok(())
        );
    }
    // Eleven reads of one person, and no two entries name them alike: nobody without the key
    // can follow a person through the log.
    assert_eq!(reads, 11);
    assert_eq!(subjects.len(), 11, "a fresh commitment in every entry");
    let proof: Value = app
        .client
        .get(app.url(&format!(
            "/api/v1/ledger/proof/consistency?from={}&to={}",
            first.size, second.size
        )))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(
        verify_consistency(
            HashAlgorithm::Sha256,
            first.size,
            second.size,
            &hashes(&proof),
            &first.root,
            &second.root
        ),
        Ok(())
    );

    let log: Value = app
        .get_as(
            &app.account("citizen.zhangwei").api_token,
            "/api/v1/me/access-log",
        )
        .await
        .json()
        .await
        .expect("json");
    assert!(
        log.as_array()
            .expect("list")
            .iter()
            .all(|a| a["ledger_index"].as_u64().is_some()),
        "each access names its log entry"
    );
}

#[tokio::test]
async fn malformed_proof_and_entry_requests_are_refused() {
    let app = spawn_app().await;
    read_people(&app, 3).await;
    let size = checkpoint(&app).await.checkpoint.size;
    for path in [
        format!("/api/v1/ledger/proof/inclusion?index={size}&size={size}"),
        format!("/api/v1/ledger/proof/inclusion?index=0&size={}", size + 1),
        "/api/v1/ledger/proof/consistency?from=3&to=2".to_owned(),
        format!("/api/v1/ledger/proof/consistency?from=0&to={size}"),
        format!("/api/v1/ledger/proof/consistency?from=1&to={}", size + 5),
        "/api/v1/ledger/entries?start=5&end=5".to_owned(),
        "/api/v1/ledger/entries?start=0&end=5000".to_owned(),
    ] {
        let (status, _) = problem(
            app.client
                .get(app.url(&path))
                .send()
                .await
                .expect("request"),
        )
        .await;
        assert_eq!(status, 422, "{path}");
    }
    for path in [
        "/api/v1/ledger/proof/inclusion?index=-1&size=3",
        "/api/v1/ledger/proof/inclusion?index=a&size=3",
        "/api/v1/ledger/entries?start=0",
    ] {
        let (status, _) =
            problem(app.client.get(app.url(path)).send().await.expect("request")).await;
        assert_eq!(status, 400, "{path}");
    }
}

#[tokio::test]
async fn the_offline_verifier_finds_the_first_altered_deleted_or_reordered_entry() {
    let app = spawn_app().await;
    // The demo's own decisions (the emergency switch) are in the log already.
    let base = tongban_app::ledger::store::size(app.state.pool())
        .await
        .expect("size");
    read_people(&app, 4).await;
    checkpoint(&app).await;
    read_people(&app, 4).await;
    app.clock.advance(time::Duration::seconds(1));
    checkpoint(&app).await;
    let origin = service::origin(&app.state);
    let verify = || verify_all(app.state.pool(), HashAlgorithm::Sha256, &origin);
    let clean = verify().await.expect("verifies");
    assert_eq!(
        (clean.entries, clean.checkpoints, clean.first_bad_index),
        (base as u64 + 8, 2, None)
    );

    let pool = app.state.pool();
    let at = |offset: i64| base + offset;
    let entry = |index: i64| async move {
        sqlx::query_scalar::<_, Vec<u8>>("SELECT data FROM ledger_entries WHERE idx = $1")
            .bind(index)
            .fetch_one(pool)
            .await
            .expect("entry")
    };
    let set = |index: i64, data: Vec<u8>| async move {
        sqlx::query("UPDATE ledger_entries SET data = $1 WHERE idx = $2")
            .bind(data)
            .bind(index)
            .execute(pool)
            .await
            .expect("update");
    };
    let original = entry(at(5)).await;
    set(at(5), b"{\"kind\":\"nothing happened\"}".to_vec()).await;
    assert_eq!(
        verify().await.expect("runs").first_bad_index,
        Some(at(5) as u64),
        "an altered entry"
    );
    set(at(5), original).await;

    let (two, three) = (entry(at(2)).await, entry(at(3)).await);
    set(at(2), three.clone()).await;
    set(at(3), two.clone()).await;
    assert_eq!(
        verify().await.expect("runs").first_bad_index,
        Some(at(2) as u64),
        "reordered entries"
    );
    set(at(2), two).await;
    set(at(3), three).await;
    assert_eq!(verify().await.expect("runs").first_bad_index, None);

    // Rewriting an entry together with its leaf hash still breaks the signed checkpoints.
    let forged = b"{\"kind\":\"forged\"}".to_vec();
    set(at(6), forged.clone()).await;
    sqlx::query("UPDATE ledger_entries SET leaf_hash = $1 WHERE idx = $2")
        .bind(leaf_hash(HashAlgorithm::Sha256, &forged).to_vec())
        .bind(at(6))
        .execute(pool)
        .await
        .expect("alter");
    let report = verify().await.expect("runs");
    assert_eq!(
        report.first_bad_index,
        Some(at(4) as u64),
        "the lowest index the failing checkpoint covers beyond the last good one"
    );

    sqlx::query("DELETE FROM ledger_entries WHERE idx = $1")
        .bind(at(1))
        .execute(pool)
        .await
        .expect("delete");
    assert_eq!(
        verify().await.expect("runs").first_bad_index,
        Some(at(1) as u64),
        "a deleted entry"
    );
}

#[tokio::test]
async fn nothing_personal_is_released_when_the_log_cannot_be_written() {
    let app = spawn_app().await;
    let clerk = &app.account("demo.clerk").api_token;
    let person = app.person_id_of("citizen.zhangwei").await;
    sqlx::query("DROP TABLE ledger_entries")
        .execute(app.state.pool())
        .await
        .expect("drop");
    let response = app
        .get_as(
            clerk,
            &format!("/api/v1/persons/{person}?purpose=service_handling"),
        )
        .await;
    let (status, body) = problem(response).await;
    assert_eq!(status, 503);
    assert!(!body.to_string().contains("张伟"));
    let recorded: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM personal_data_access WHERE purpose = 'service_handling'",
    )
    .fetch_one(app.state.pool())
    .await
    .expect("count");
    assert_eq!(recorded, 0, "no access record without its log entry");
}

#[tokio::test]
async fn two_nodes_appending_at_once_build_one_log_without_a_fork() {
    let app = spawn_app().await;
    let other = crate::story::second_node(&app).await;
    let before = tongban_app::ledger::store::size(app.state.pool())
        .await
        .expect("size") as u64;
    let mut tasks = Vec::new();
    for n in 0..200u32 {
        let node = if n % 2 == 0 {
            app.state.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            service::append(&node, &serde_json::json!({"kind": "test", "n": n})).await
        }));
    }
    let mut indexes = Vec::new();
    for task in tasks {
        indexes.push(task.await.expect("task").expect("appended"));
    }
    indexes.sort_unstable();
    assert_eq!(
        indexes,
        (before..before + 200).collect::<Vec<_>>(),
        "every index once, no gaps"
    );
    checkpoint(&app).await;
    let report = verify_all(
        app.state.pool(),
        HashAlgorithm::Sha256,
        &service::origin(&app.state),
    )
    .await
    .expect("verifies");
    assert_eq!(
        (report.entries, report.first_bad_index),
        (before + 200, None)
    );
}
