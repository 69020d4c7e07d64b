//! Databases made by earlier builds migrate forward. Each folder of
//! `tests/fixtures/releases/` keeps a SQLite database an earlier build made, its master key and
//! what was made in it (`made.json`); this build opens it as a node does at start (applying the
//! newer migrations), the transparency log verifies, and what the database held is served as
//! before — and new writes, in the tables the newer migrations made, are taken.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tongban_app::{Application, Config};
use tongban_core::ManualClock;

async fn migrates_forward(fixture: &Path) {
    let name = fixture.file_name().expect("name").to_string_lossy();
    let dir = std::env::temp_dir().join(format!(
        "tongban-release-{name}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut packed = Vec::new();
    std::fs::File::open(fixture.join("tongban.db.gz"))
        .expect("the fixture's database")
        .read_to_end(&mut packed)
        .expect("read");
    let mut database = Vec::new();
    flate2::read::GzDecoder::new(packed.as_slice())
        .read_to_end(&mut database)
        .expect("gunzip");
    std::fs::write(dir.join("tongban.db"), database).expect("write");
    let master_key = std::fs::read_to_string(fixture.join("master.key")).expect("master key");
    let made: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture.join("made.json")).expect("made.json"),
    )
    .expect("json");
    let token = |username: &str| {
        made["accounts"]
            .as_array()
            .and_then(|all| all.iter().find(|a| a["username"] == username))
            .and_then(|a| a["api_token"].as_str())
            .unwrap_or_else(|| panic!("{name}: no token for {username}"))
            .to_owned()
    };

    let url = format!("sqlite://{}?mode=rwc", dir.join("tongban.db").display());
    let before = tongban_app::Db::connect(&url, 1).await.expect("open");
    assert!(
        !tongban_app::is_migrated(&before).await.expect("checked"),
        "{name}: the fixture predates this build's migrations"
    );
    before.close().await;
    let config = Config {
        master_key: Some(tongban_app::config::SecretText(
            master_key.trim().to_owned(),
        )),
        data_dir: dir.clone(),
        bind: "127.0.0.1:0".parse().expect("addr"),
        database_url: Some(url),
        max_db_connections: 5,
        region_code: tongban_app::demo::CITY.into(),
        ..Config::default()
    };
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let state = tongban_app::open_state(config, clock)
        .await
        .unwrap_or_else(|e| panic!("{name}: this build opens the database: {e:#}"));
    assert!(tongban_app::is_migrated(&state.db).await.expect("checked"));
    let verified = tongban_app::ledger::service::verify_all(
        state.pool(),
        state.config.profile.hash(),
        &tongban_app::ledger::service::origin(&state),
    )
    .await
    .unwrap_or_else(|e| panic!("{name}: the log verifies: {e}"));
    assert!(
        verified.entries > 0 && verified.problem.is_none() && verified.first_bad_index.is_none(),
        "{name}: {verified:?}"
    );

    let app = Application::build(state.clone()).await.expect("bind");
    let base = format!("http://{}", app.local_addr().expect("addr"));
    tokio::spawn(app.run_until(std::future::pending()));
    let client = tongban_app::outbound::plain().build().expect("client");
    let get = |token: String, path: String| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let response = client
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .expect("get");
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let citizen = token("citizen.zhangwei");
    let clerk = token("demo.clerk.market");

    // What was there: the approved application with its licence, in the wallet.
    let approved = made["approved_application"].as_str().expect("id");
    let (status, detail) = get(citizen.clone(), format!("/api/v1/applications/{approved}")).await;
    assert_eq!(status, StatusCode::OK, "{name}: {detail}");
    assert_eq!(detail["application"]["state"], "deliver", "{name}");
    let licence = detail["application"]["result_certificate"]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: the result kept: {detail}"))
        .to_owned();
    let (status, item) = get(citizen.clone(), format!("/api/v1/wallet/{licence}")).await;
    assert_eq!(status, StatusCode::OK, "{name}: {item}");
    assert_eq!(item["signed"]["certificate"]["items"]["operator"], "张伟");
    // The waiting one, in the clerk's queue.
    let waiting = made["waiting_application"].as_str().expect("id");
    let (status, queue) = get(clerk.clone(), "/api/v1/applications/queue".into()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        queue
            .as_array()
            .is_some_and(|q| q.iter().any(|a| a["id"] == waiting)),
        "{name}: {queue}"
    );
    // The pass, and the door's check-in on record.
    let (status, pass) = get(citizen.clone(), "/api/v1/pass/me".into()).await;
    assert_eq!(status, StatusCode::OK, "{name}: {pass}");
    assert_eq!(
        sqlx::query_scalar::<_, i64>(
            "SELECT (SELECT COUNT(*) FROM checkin_log) + (SELECT COUNT(*) FROM checkins)"
        )
        .fetch_one(state.pool())
        .await
        .expect("count"),
        1,
        "{name}"
    );

    // New writes go on, into the newer tables too: the waiting application approved (its
    // certificate's draft kept with the approval), a draft saved.
    for (action, version) in [("accept", 1), ("pass", 2), ("approve", 3)] {
        let response = client
            .post(format!("{base}/api/v1/applications/{waiting}/actions"))
            .bearer_auth(&clerk)
            .json(&json!({"action": action, "version": version}))
            .send()
            .await
            .expect("act");
        assert_eq!(response.status(), StatusCode::OK, "{name}: {action}");
    }
    let (_, detail) = get(clerk.clone(), format!("/api/v1/applications/{waiting}")).await;
    assert!(
        detail["application"]["result_certificate"].is_string(),
        "{name}: {detail}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn every_kept_release_database_migrates_forward_and_serves_what_it_held() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/releases");
    let mut fixtures: Vec<_> = std::fs::read_dir(&root)
        .expect("the fixtures folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.join("tongban.db.gz").exists())
        .collect();
    fixtures.sort();
    assert!(!fixtures.is_empty(), "no fixture in {}", root.display());
    for fixture in fixtures {
        migrates_forward(&fixture).await;
    }
}
