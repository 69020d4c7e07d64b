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

/// A fresh SQLite database in a scratch folder, its master key, and the state over it (in
/// `region`, else the default one the binary also uses).
async fn fresh_state(
    label: &str,
    region: Option<&str>,
) -> (
    std::path::PathBuf,
    String,
    String,
    tongban_app::state::AppState,
) {
    let dir = std::env::temp_dir().join(format!("{label}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("tongban.db").display());
    let key = master::generate_text().to_string();
    let config = Config {
        database_url: Some(url.clone()),
        master_key: Some(SecretText(key.clone())),
        data_dir: dir.clone(),
        region_code: region.map_or_else(|| Config::default().region_code, str::to_owned),
        ..Config::default()
    };
    let state = tongban_app::open_state(config, Arc::new(tongban_core::SystemClock))
        .await
        .expect("state");
    (dir, url, key, state)
}

#[tokio::test]
async fn audit_verify_passes_an_intact_log_and_names_the_first_tampered_entry() {
    let (dir, url, key, state) = fresh_state("tongban-cli", None).await;
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

#[tokio::test]
async fn pass_verify_checks_a_code_offline_against_an_exported_trust_list() {
    use tongban_app::keys::service as keys;
    use tongban_crypto::Signer;
    let (dir, _, key, state) = fresh_state("tongban-cli-pass", Some("339900")).await;
    let list = keys::trust_list(&state).await.expect("trust list");
    let list_path = dir.join("trust.json");
    std::fs::write(&list_path, serde_json::to_string(&list).expect("json")).expect("write");
    let signer = keys::signer(&state, "339900", keys::PASS)
        .await
        .expect("pass key");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64;
    let claims = tongban_codes::PassClaims {
        issuer: "tongban.339900".into(),
        subject: "ref".into(),
        colour: tongban_codes::Colour::Green,
        initials: "Z*".into(),
        entitlements: vec!["transit".into()],
        issued_at: now,
        expires_at: now + 300,
    };
    let code = tongban_codes::issue_pass(&claims, &signer);
    let root = keys::signer(&state, "339900", keys::ROOT)
        .await
        .expect("root")
        .public_key();
    let root_text = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&root.bytes)
    };
    let list_arg = list_path.to_str().expect("path");
    let ok = tongban(
        &[
            "pass",
            "verify",
            "--trust-list",
            list_arg,
            "--root-key",
            &root_text,
            &code,
        ],
        &key,
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("\"colour\": \"green\""));

    let stranger = tongban_crypto::SoftwareSigner::generate(root.algorithm, "x").public_key();
    let stranger_text = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&stranger.bytes)
    };
    let pinned_wrong = tongban(
        &[
            "pass",
            "verify",
            "--trust-list",
            list_arg,
            "--root-key",
            &stranger_text,
            &code,
        ],
        &key,
    );
    assert_eq!(pinned_wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&pinned_wrong.stdout).contains("bad_trust_list"));
    let mut altered = code.clone();
    altered.truncate(code.len() - 5);
    let truncated = tongban(
        &["pass", "verify", "--trust-list", list_arg, &altered],
        &key,
    );
    assert_eq!(truncated.status.code(), Some(1));
    state.db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Check-ins are acknowledged only once durable: kill the process in the middle of a burst and
/// every acknowledged check-in is in the database.
#[tokio::test]
async fn no_acknowledged_check_in_is_lost_when_the_process_is_killed() {
    use std::io::BufRead;
    let dir = std::env::temp_dir().join(format!("tongban-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("checkins.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_tongban"))
        .args([
            "bench",
            "checkins",
            "--count",
            "2000000",
            "--print-acks",
            "--database-url",
            &url,
        ])
        .env("TONGBAN_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run tongban");
    let stdout = child.stdout.take().expect("stdout");
    let mut acked = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(rest) = line.strip_prefix("ack ") {
            acked.push(rest.to_owned());
            if acked.len() == 30_000 {
                child.kill().expect("kill");
                break;
            }
        }
    }
    let _ = child.wait();
    assert_eq!(acked.len(), 30_000, "the burst ran long enough to be cut");
    let db = tongban_app::db::Db::connect(&url, 1).await.expect("open");
    let mut stored = std::collections::HashSet::new();
    for table in ["checkin_log", "checkins"] {
        let rows: Vec<(Vec<u8>, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT subject, venue_no, at FROM {table}"
        )))
        .fetch_all(db.pool())
        .await
        .expect("rows");
        for (subject, venue_no, at) in rows {
            let hex: String = subject.iter().map(|b| format!("{b:02x}")).collect();
            stored.insert(format!("{hex} {venue_no} {at}"));
        }
    }
    let lost: Vec<&String> = acked.iter().filter(|a| !stored.contains(*a)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged check-ins lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `tongban certs verify`: a certificate from the wallet verifies offline against the exported
/// trust list; a changed one does not.
#[tokio::test]
async fn certs_verify_checks_a_certificate_offline_against_an_exported_trust_list() {
    let (dir, _, key, state) = fresh_state("tongban-cli-certs", Some("339900")).await;
    let credentials = tongban_app::demo::seed(&state, "http://127.0.0.1:1")
        .await
        .expect("demo");
    let list = tongban_app::keys::service::trust_list(&state)
        .await
        .expect("trust list");
    let list_path = dir.join("trust.json");
    std::fs::write(&list_path, serde_json::to_string(&list).expect("json")).expect("write");
    let account =
        tongban_app::identity::store::account_by_username(state.pool(), "enterprise.qingyuan")
            .await
            .expect("read")
            .expect("the demo enterprise");
    let actor = tongban_app::identity::model::Actor {
        grants: Vec::new(),
        department_region: None,
        credential: tongban_app::identity::model::Credential::Token {
            token_id: "test".into(),
        },
        account,
    };
    let wallet = tongban_app::certs::wallet(&state, &actor)
        .await
        .expect("wallet");
    // One with an end to its validity, whose last day the checks below reach.
    let dated = wallet
        .iter()
        .find(|entry| entry.valid_until.is_some())
        .expect("a certificate valid for some years");
    let item = tongban_app::certs::wallet_item(&state, &actor, &dated.id)
        .await
        .expect("item");
    let file = dir.join("certificate.json");
    std::fs::write(
        &file,
        serde_json::to_string_pretty(&item.signed).expect("json"),
    )
    .expect("write");
    let list_arg = list_path.to_str().expect("path");
    let ok = tongban(
        &[
            "certs",
            "verify",
            "--trust-list",
            list_arg,
            file.to_str().expect("path"),
        ],
        &key,
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("\"valid\": true"));

    // With the issuer's status list: valid, then revoked once the issuer revokes it.
    let entry = item
        .signed
        .certificate
        .status
        .clone()
        .expect("a status entry");
    let (issuer, type_code) = entry.list.split_once('/').expect("issuer/type");
    let status_path = dir.join("status.json");
    let write_status = || async {
        let current = tongban_app::certs::status_list::current(&state, issuer, type_code)
            .await
            .expect("status list");
        std::fs::write(&status_path, serde_json::to_string(&current).expect("json"))
            .expect("write");
    };
    let with_status = || {
        tongban(
            &[
                "certs",
                "verify",
                "--trust-list",
                list_arg,
                "--status-list",
                status_path.to_str().expect("path"),
                file.to_str().expect("path"),
            ],
            &key,
        )
    };
    write_status().await;
    let listed = with_status();
    assert!(listed.status.success());
    assert!(String::from_utf8_lossy(&listed.stdout).contains("\"status\": \"valid\""));
    // Revoked by a clerk of the issuing department, as a page or the API would.
    let issuer = item.signed.certificate.issuer.code.clone();
    let departments = tongban_app::admin::store::departments(state.pool())
        .await
        .expect("departments");
    let issuing = departments
        .iter()
        .find(|d| d.uscc.as_deref() == Some(issuer.as_str()))
        .expect("the issuing department");
    let mut clerk = None;
    for account in credentials.accounts.iter().filter(|a| a.role == "clerk") {
        let actor = tongban_app::identity::service::actor_from_token(&state, &account.api_token)
            .await
            .expect("read")
            .expect("the clerk");
        if actor.account.department_id.as_deref() == Some(issuing.id.as_str()) {
            clerk = Some(actor);
        }
    }
    let clerk = clerk.expect("a demo clerk of the issuing department");
    tongban_app::certs::change_status(
        &state,
        &clerk,
        &item.signed.certificate.id,
        &tongban_app::certs::StatusChange {
            action: tongban_app::certs::StatusAction::Revoke,
            reason: "依法吊销".into(),
        },
    )
    .await
    .expect("revoke");
    write_status().await;
    let revoked = with_status();
    assert_eq!(revoked.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&revoked.stdout).contains("\"status\": \"revoked\""));

    // As of a moment: the day is the certificate's own (Beijing), not UTC's nor this
    // machine's. At 23:30 on its last day it is valid; at 00:30 the next day it is not,
    // though UTC is still on the last day.
    let last_day = item
        .signed
        .certificate
        .valid_until
        .clone()
        .expect("a last day");
    let day_after = tongban_core::zone::parse_ymd(&last_day)
        .and_then(|d| d.next_day())
        .map(tongban_core::zone::ymd)
        .expect("a date");
    let verify_at = |at: String| {
        tongban(
            &[
                "certs",
                "verify",
                "--trust-list",
                list_arg,
                "--at",
                &at,
                file.to_str().expect("path"),
            ],
            &key,
        )
    };
    let late = verify_at(format!("{last_day}T23:30:00+08:00"));
    assert!(
        late.status.success(),
        "{}",
        String::from_utf8_lossy(&late.stdout)
    );
    let after = verify_at(format!("{day_after}T00:30:00+08:00"));
    assert_eq!(after.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&after.stdout).contains("outside_validity"));
    let unreadable = verify_at("tomorrow".into());
    assert_eq!(unreadable.status.code(), Some(2), "a usage error");

    let mut changed = item.signed.clone();
    changed.certificate.holder.name.push('X');
    std::fs::write(&file, serde_json::to_string(&changed).expect("json")).expect("write");
    let refused = tongban(
        &[
            "certs",
            "verify",
            "--trust-list",
            list_arg,
            file.to_str().expect("path"),
        ],
        &key,
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stdout).contains("bad_signature"));
    state.db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// `tongban certs import`: good rows are issued, every bad row is reported with its line and
/// reason, and the exit status says some were refused; a file the type cannot take issues
/// nothing.
#[tokio::test]
async fn certs_import_issues_good_rows_and_reports_each_bad_one() {
    let (dir, url, key, state) = fresh_state("tongban-cli-import", Some("339900")).await;
    tongban_app::demo::seed(&state, "http://127.0.0.1:1")
        .await
        .expect("demo");
    let licence = tongban_app::certs::cert_types(&state)
        .await
        .expect("types")
        .into_iter()
        .find(|t| t.name == "营业执照")
        .expect("licence type");
    let regulator = tongban_app::admin::store::departments(state.pool())
        .await
        .expect("departments")
        .into_iter()
        .find(|d| d.kind == "market_regulation" && d.region_code.as_str() == "339900")
        .and_then(|d| d.uscc)
        .expect("the city market regulator");
    let mut usccs = std::collections::HashMap::new();
    for username in ["enterprise.qingyuan", "enterprise.yunqi"] {
        let account = tongban_app::identity::store::account_by_username(state.pool(), username)
            .await
            .expect("read")
            .expect("demo enterprise");
        let uscc: String = sqlx::query_scalar("SELECT uscc FROM enterprises WHERE id = $1")
            .bind(account.enterprise_id.expect("an enterprise"))
            .fetch_one(state.pool())
            .await
            .expect("uscc");
        usccs.insert(username, uscc);
    }
    let uscc = |username: &str| usccs[username].clone();
    let csv = format!(
        "holder_code,holder_name,name,legal_representative,registered_capital,established_on,business_scope\n\
         {q},临江清源食品有限公司,临江清源食品有限公司,张伟,500万元人民币,2020-06-01,食品销售|餐饮服务\n\
         91339901MA2AAAAA10,某公司,某公司,李四,10万元,2021-01-01,咨询\n\
         {y},云栖科技有限公司,云栖科技有限公司,王五,100万元,2021-13-01,软件开发\n\
         {y},云栖科技有限公司,云栖科技有限公司,王五,,2021-03-01,软件开发\n\
         {y},\"云栖科技有限公司\",\"云栖科技有限公司\",王五,100万元,2021-03-01,软件开发|信息技术咨询\n",
        q = uscc("enterprise.qingyuan"),
        y = uscc("enterprise.yunqi"),
    );
    let file = dir.join("licences.csv");
    std::fs::write(&file, csv).expect("write");
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM certificates WHERE type_code = $1")
            .bind(licence.code.clone())
            .fetch_one(state.pool())
            .await
            .expect("count")
    };
    let start = count().await;
    let run = |path: &std::path::Path| {
        tongban(
            &[
                "certs",
                "import",
                "--database-url",
                &url,
                "--type",
                &licence.code,
                "--issuer",
                &regulator,
                path.to_str().expect("path"),
            ],
            &key,
        )
    };
    let out = run(&file);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("\"issued\":2"), "{stdout}");
    assert!(stdout.contains("\"failed\":3"), "{stdout}");
    assert!(stderr.contains("line 3: holder_code"), "{stderr}");
    assert!(stderr.contains("line 4: items: "), "{stderr}");
    assert!(stderr.contains("line 5: items: "), "{stderr}");
    assert_eq!(count().await, start + 2);

    // A column the type does not have: nothing is issued.
    let wrong = dir.join("wrong.csv");
    std::fs::write(
        &wrong,
        format!(
            "holder_code,holder_name,colour\n{},x,red\n",
            uscc("enterprise.yunqi")
        ),
    )
    .expect("write");
    let out = run(&wrong);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("colour is not an item"));
    assert_eq!(count().await, start + 2);
    state.db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// `tongban trust`: another region's trust list is imported under its pinned root key, listed,
/// refused under a wrong key, and removed.
#[tokio::test]
async fn trust_imports_lists_and_removes_a_region() {
    use base64::Engine as _;
    use tongban_crypto::Signer as _;
    let (dir_a, _, _, region_a) = fresh_state("tongban-cli-trust-a", Some("339900")).await;
    let (dir_b, url_b, key_b, region_b) = fresh_state("tongban-cli-trust-b", Some("440300")).await;
    let list = tongban_app::keys::service::trust_list(&region_a)
        .await
        .expect("trust list");
    let file = dir_b.join("region-a.json");
    std::fs::write(&file, serde_json::to_string(&list).expect("json")).expect("write");
    let root = |state: &tongban_app::state::AppState| {
        let state = state.clone();
        async move {
            let signer = tongban_app::keys::service::signer(
                &state,
                &state.config.region_code,
                tongban_app::keys::service::ROOT,
            )
            .await
            .expect("root");
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signer.public_key().bytes)
        }
    };
    let (root_a, root_b) = (root(&region_a).await, root(&region_b).await);
    let path = file.to_str().expect("path");
    let wrong = tongban(
        &[
            "trust",
            "import",
            path,
            "--root-key",
            &root_b,
            "--database-url",
            &url_b,
        ],
        &key_b,
    );
    assert_eq!(
        wrong.status.code(),
        Some(1),
        "a list not signed by the pinned root"
    );
    // A key may begin with "-": it is still read as the key, not as an option.
    let hyphen = tongban(
        &[
            "trust",
            "import",
            path,
            "--root-key",
            "-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "--database-url",
            &url_b,
        ],
        &key_b,
    );
    assert_eq!(
        hyphen.status.code(),
        Some(1),
        "refused as a key, not as a usage error"
    );
    let imported = tongban(
        &[
            "trust",
            "import",
            path,
            "--root-key",
            &root_a,
            "--database-url",
            &url_b,
        ],
        &key_b,
    );
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    assert!(String::from_utf8_lossy(&imported.stdout).contains("\"region\": \"339900\""));
    let listed = tongban(&["trust", "list", "--database-url", &url_b], &key_b);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("\"region_code\": \"339900\"") && listed.contains(&root_a),
        "{listed}"
    );
    let removed = tongban(
        &["trust", "remove", "339900", "--database-url", &url_b],
        &key_b,
    );
    assert!(String::from_utf8_lossy(&removed.stdout).contains("\"removed\": true"));
    let listed = tongban(&["trust", "list", "--database-url", &url_b], &key_b);
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "[]");
    region_a.db.close().await;
    region_b.db.close().await;
    let _ = std::fs::remove_dir_all(&dir_a);
    let _ = std::fs::remove_dir_all(&dir_b);
}

/// `tongban dcc`: a PEM signer list and the schema releases are imported, listed, and a signer
/// removed; a file that is no list changes nothing. `tongban conformance dcc` runs the crafted
/// cases of the DCC test data (copied to a scratch folder, with a known issue added to show it
/// is honoured). Skipped with a note where the vectors are absent.
#[tokio::test]
async fn dcc_signers_and_schemas_are_imported_and_the_conformance_command_runs_the_cases() {
    use base64::Engine as _;
    let Some(vectors) = tongban_harness::conformance::vectors_dir() else {
        eprintln!("note: conformance vectors not found; the dcc CLI test is skipped");
        return;
    };
    let dcc = vectors.join("dcc");
    let (dir, url, key, state) = fresh_state("tongban-cli-dcc", None).await;
    state.db.close().await;
    let raw = dcc.join("testdata/common/2DCode/raw");
    let mut pem = String::new();
    for name in ["CO1", "CO3"] {
        let case: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(raw.join(format!("{name}.json"))).expect("case"),
        )
        .expect("json");
        let der = base64::engine::general_purpose::STANDARD
            .decode(case["TESTCTX"]["CERTIFICATE"].as_str().expect("dsc"))
            .expect("base64");
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).expect("ascii"));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
    }
    // The vectors' signers come without their countries' CAs: refused, as bare signers.
    let bare = dir.join("bare.pem");
    std::fs::write(&bare, &pem).expect("write");
    // Two countries' signing CAs with a signer each.
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../codes/tests/fixtures/csca");
    let mut vouched = String::new();
    for name in ["csca-xa.pem", "dsc-xa.pem", "csca-xb.pem", "dsc-xb.pem"] {
        vouched.push_str(&std::fs::read_to_string(fixtures.join(name)).expect("fixture"));
    }
    let list = dir.join("signers.pem");
    std::fs::write(&list, &vouched).expect("write");
    let not_a_list = dir.join("not-a-list.pem");
    std::fs::write(
        &not_a_list,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--database-url", &url]);
        tongban(&all, &key)
    };
    let refused = run(&["dcc", "import-signers", not_a_list.to_str().expect("path")]);
    assert_eq!(refused.status.code(), Some(1));
    let refused = run(&["dcc", "import-signers", bare.to_str().expect("path")]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("vouched"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let imported = run(&["dcc", "import-signers", list.to_str().expect("path")]);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    assert!(String::from_utf8_lossy(&imported.stdout).contains("\"added\": 2"));
    let again = run(&["dcc", "import-signers", list.to_str().expect("path")]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("\"added\": 0"));
    let listed: serde_json::Value =
        serde_json::from_slice(&run(&["dcc", "signers"]).stdout).expect("json");
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    let kid = listed[0]["kid"].as_str().expect("kid").to_owned();
    let removed = run(&["dcc", "remove-signer", &kid]);
    assert!(String::from_utf8_lossy(&removed.stdout).contains("\"removed\": true"));
    let listed: serde_json::Value =
        serde_json::from_slice(&run(&["dcc", "signers"]).stdout).expect("json");
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let schemas = run(&[
        "dcc",
        "import-schemas",
        dcc.join("schema").to_str().expect("path"),
    ]);
    assert!(
        schemas.status.success(),
        "{}",
        String::from_utf8_lossy(&schemas.stderr)
    );
    assert!(String::from_utf8_lossy(&schemas.stdout).contains("\"1.3.0\""));

    // The crafted cases, in a folder of another casing, with one known issue.
    let cases = dir.join("data/COMMON/2dcode/RAW");
    std::fs::create_dir_all(&cases).expect("dir");
    for entry in std::fs::read_dir(&raw).expect("raw") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, cases.join(path.file_name().expect("name"))).expect("copy");
    }
    let run_suite = || {
        tongban(
            &[
                "conformance",
                "dcc",
                dir.join("data").to_str().expect("path"),
                "--schemas",
                dcc.join("schema").to_str().expect("path"),
            ],
            &key,
        )
    };
    let clean = run_suite();
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&clean.stdout).expect("json");
    assert_eq!(report["failed"], 0);
    assert!(report["passed"].as_u64() > Some(50), "{report}");
    // A case made wrong fails, and is only excused once known_issues.csv lists it.
    let co5 = cases.join("CO5.json");
    let mut case: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&co5).expect("case")).expect("json");
    case["EXPECTEDRESULTS"]["EXPECTEDVERIFY"] = serde_json::json!(true);
    std::fs::write(&co5, case.to_string()).expect("write");
    let failing = run_suite();
    assert_eq!(failing.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&failing.stdout).expect("json");
    assert_eq!(report["failed"], 1, "{report}");
    std::fs::write(
        dir.join("data/known_issues.csv"),
        "test_name,country,test_set,reason\ntest_verification_check,COMMON,CO5,made wrong here\n",
    )
    .expect("write");
    let excused = run_suite();
    assert!(
        excused.status.success(),
        "{}",
        String::from_utf8_lossy(&excused.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&excused.stdout).expect("json");
    assert_eq!(report["known_issues"][0]["known_issue"], "made wrong here");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `tongban exchange verify`: the receipt of an exchange through the gateway verifies offline
/// against the exported trust list under the pinned root key; an altered one is refused.
#[tokio::test]
async fn exchange_verify_checks_a_receipt_offline_against_an_exported_trust_list() {
    use tongban_app::exchange::{receipts, service};
    use tongban_app::keys::service as keys;
    use tongban_crypto::Signer;
    let (dir, _, key, state) = fresh_state("tongban-cli-exchange", Some("339900")).await;
    let demo = tongban_app::demo::seed(&state, "http://127.0.0.1:1")
        .await
        .expect("demo");
    let token = demo
        .accounts
        .iter()
        .find(|a| a.username == "demo.deptadmin")
        .expect("the administrator")
        .api_token
        .clone();
    let actor = tongban_app::identity::service::actor_from_token(&state, &token)
        .await
        .expect("token")
        .expect("actor");
    let departments = tongban_app::admin::store::departments(state.pool())
        .await
        .expect("departments");
    let uscc = |kind: &str| {
        departments
            .iter()
            .find(|d| d.kind == kind && d.region_code.as_str() == "339900")
            .and_then(|d| d.uscc.clone())
            .expect("uscc")
    };
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        "x-road-client",
        format!("CN/GOV/{}/CASES", uscc("government_services"))
            .parse()
            .expect("header"),
    );
    let answer = service::exchange(
        &state,
        Some(actor.clone()),
        service::Incoming {
            method: axum::http::Method::GET,
            rest: format!(
                "CN/GOV/{}/DATA/SJ-QYDJ-001/enterprises",
                uscc("market_regulation")
            ),
            query: None,
            headers,
            body: axum::body::Bytes::new(),
        },
    )
    .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let id = answer
        .headers
        .iter()
        .find(|(n, _)| n == "x-road-id")
        .expect("message id")
        .1
        .clone();
    let receipt = receipts::receipt(&state, &actor, &id)
        .await
        .expect("receipt");
    let list = keys::trust_list(&state).await.expect("trust list");
    let root = keys::signer(&state, "339900", keys::ROOT)
        .await
        .expect("root")
        .public_key();
    let root_text = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&root.bytes)
    };
    let list_path = dir.join("trust.json");
    std::fs::write(&list_path, serde_json::to_string(&list).expect("json")).expect("write");
    let receipt_path = dir.join("receipt.json");
    std::fs::write(
        &receipt_path,
        serde_json::to_string(&receipt).expect("json"),
    )
    .expect("write");
    let run = |file: &std::path::Path| {
        tongban(
            &[
                "exchange",
                "verify",
                "--trust-list",
                list_path.to_str().expect("path"),
                "--root-key",
                &root_text,
                file.to_str().expect("path"),
            ],
            &key,
        )
    };
    let ok = run(&receipt_path);
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{out}");
    assert!(
        out.contains("\"valid\": true") && out.contains(&id),
        "{out}"
    );

    let mut altered = receipt.clone();
    altered.entry = altered.entry.replace("\"status\":200", "\"status\":403");
    let altered_path = dir.join("altered.json");
    std::fs::write(
        &altered_path,
        serde_json::to_string(&altered).expect("json"),
    )
    .expect("write");
    let refused = run(&altered_path);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stdout).contains("bad_signature"));
    state.db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
