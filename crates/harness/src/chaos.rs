//! `tongban chaos crash`: a node under mixed load is killed with SIGKILL at a random moment,
//! round after round, and after each kill the harness checks that nothing acknowledged was lost
//! and nothing unacknowledged is half there.
//!
//! Each round starts the node (`tongban demo` on the same data, at a fresh port), checks what
//! the previous round left (every application acknowledged can be read back by its applicant,
//! the log extends the last checkpoint published before the kill), then drives the load:
//! holders at the metro's door (each holder once, so every acknowledged scan is a check-in to
//! store), pass reads, applications with an upload (免证办 materials obtained in the same
//! transaction), an official issuing certificates, a department reading another's register
//! through the data-sharing gateway, and checkpoints asked for. At a random moment the node
//! is killed; with the node down the harness counts in the database: check-ins stored lie
//! between those acknowledged and those acknowledged plus those whose answer was lost, the
//! same for applications, certificates and exchanges; every application has its upload and
//! its first event; every acknowledged certificate is stored and so is every certificate the
//! log says was issued; every acknowledged exchange's message is in the gateway's log; the
//! database passes its integrity check and `tongban audit verify` passes. One round also
//! takes an online backup under the load (`tongban backup`), restores it elsewhere and
//! verifies its log.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine as _;
use serde_json::{Value, json};

use crate::bench::SplitMix;

/// What a crash run drives, and where.
pub struct CrashRun {
    /// The tongban binary to start and kill.
    pub binary: PathBuf,
    pub data_dir: PathBuf,
    /// PostgreSQL instead of the embedded SQLite file.
    pub database_url: Option<String>,
    pub rounds: usize,
    /// Synthetic holders seeded for the door (each is scanned once over the whole run).
    pub holders: usize,
    pub connections: usize,
    pub seed: u64,
    /// A shell command that restarts the database (PostgreSQL), run under the load in every
    /// other round: the node must answer 503 meanwhile and take writes again afterwards
    /// without a restart of its own.
    pub restart_database: Option<String>,
    /// Where the node's output goes (appended).
    pub log: PathBuf,
}

/// The service the load applies for, and the form its applicant fills in.
pub(crate) const ITEM: &str = "339900-SJ-0001";
pub(crate) const APPLICANT: &str = "citizen.zhangwei";
pub(crate) const DOOR: &str = "demo.venue.metro";
/// The official who issues certificates under the load, and the enterprise they go to.
pub(crate) const ISSUER: &str = "demo.clerk.market";
/// The department administrator whose department reads another's register through the
/// gateway.
const CONSUMER: &str = "demo.deptadmin";
const LICENSEE: &str = "enterprise.yunqi";
pub(crate) const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];

pub(crate) fn application_form() -> Value {
    json!({
        "phone": "13800000000",
        "name": "临江市张伟小吃店",
        "place": "临江市江北区解放路12号",
        "business_scope": "小吃服务、预包装食品销售",
        "capital": "5",
    })
}

/// A running node.
pub(crate) struct Node {
    child: Child,
    pub(crate) base: String,
    pub(crate) demo: Value,
}

impl Node {
    /// The node's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn token(&self, username: &str) -> anyhow::Result<String> {
        crate::load::token(&self.demo, username)
    }

    /// SIGKILL: no shutdown, no flush, nothing the process could still finish.
    pub(crate) fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill().context("killing the node")?;
        self.child.wait().context("waiting for the killed node")?;
        Ok(())
    }
}

/// How one request ended.
enum Answer {
    Ok(reqwest::Response),
    /// 503 or 429, or the connection was refused: the request did nothing.
    Refused,
    /// 503: refused, or — when the node lost its database while committing — perhaps done.
    /// A node cannot know which; nor can its client.
    Unavailable,
    /// The connection broke after the request may have been sent: its outcome is unknown.
    Lost,
    /// Anything else is a defect.
    Wrong(String),
}

async fn answer(what: &str, sent: reqwest::Result<reqwest::Response>) -> Answer {
    match sent {
        Ok(response) if response.status().is_success() => Answer::Ok(response),
        Ok(response) if response.status() == 503 => Answer::Unavailable,
        Ok(response) if response.status() == 429 => Answer::Refused,
        Ok(response) => {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            Answer::Wrong(format!(
                "{what}: {status} {}",
                body.chars().take(200).collect::<String>()
            ))
        }
        Err(error) if error.is_connect() => Answer::Refused,
        Err(_) => Answer::Lost,
    }
}

/// A checkpoint as published: its size and root.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Published {
    size: u64,
    root: [u8; 32],
}

fn parse_checkpoint(text: &str) -> Option<Published> {
    let mut lines = text.lines();
    let _origin = lines.next()?;
    let size = lines.next()?.parse().ok()?;
    let root = base64::engine::general_purpose::STANDARD
        .decode(lines.next()?)
        .ok()?
        .try_into()
        .ok()?;
    Some(Published { size, root })
}

/// What one round's load saw.
#[derive(Default)]
struct Tally {
    checkins_acknowledged: u64,
    checkins_lost: u64,
    /// Scans answered 503: nothing stored, unless the database went away during the commit.
    checkins_unavailable: u64,
    applications_acknowledged: Vec<String>,
    applications_lost: u64,
    applications_unavailable: u64,
    /// Applications whose answer was lost or 503: their Idempotency-Key and body, sent again
    /// after the restart.
    applications_unsure: Vec<(String, Value)>,
    certificates_acknowledged: Vec<String>,
    certificates_lost: u64,
    certificates_unavailable: u64,
    /// Exchanges through the data-sharing gateway answered with their message id.
    exchanges_acknowledged: Vec<String>,
    exchanges_lost: u64,
    exchanges_unavailable: u64,
    pass_reads: u64,
    refused: u64,
    checkpoint: Option<Published>,
    wrong: Vec<String>,
}

impl Tally {
    fn acknowledged(&self) -> u64 {
        self.checkins_acknowledged
            + self.applications_acknowledged.len() as u64
            + self.certificates_acknowledged.len() as u64
            + self.exchanges_acknowledged.len() as u64
    }
}

/// What the database holds, counted with the node down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    checkins: i64,
    applications: i64,
    /// Applications without their upload or their first event: half-written.
    incomplete: i64,
    certificates: i64,
    /// Exchanges in the gateway's message log.
    exchanges: i64,
    /// Entries in the transparency log.
    log_size: i64,
}

fn database_url(run: &CrashRun) -> String {
    run.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            run.data_dir.join("tongban.db").display()
        )
    })
}

/// `tongban <subcommand…>` on a data folder (and the run's database).
fn tongban(run: &CrashRun, subcommand: &[&str], data_dir: &Path) -> Command {
    let mut command = Command::new(&run.binary);
    command
        .args(subcommand)
        .arg("--data-dir")
        .arg(data_dir)
        // The demo serves its city; the offline commands take the same region.
        .env("TONGBAN_REGION_CODE", tongban_app::demo::CITY)
        .env("TONGBAN_LOG", "warn")
        .stdin(Stdio::null());
    if let Some(url) = &run.database_url {
        command.arg("--database-url").arg(url);
    }
    command
}

fn node_log(run: &CrashRun) -> anyhow::Result<std::fs::File> {
    Ok(std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&run.log)?)
}

/// Starts the demo node on the run's data at a free port; ready once it has written its
/// credentials and answers /readyz.
pub(crate) async fn start(run: &CrashRun, client: &reqwest::Client) -> anyhow::Result<Node> {
    let credentials = run.data_dir.join("demo-credentials.json");
    let _ = std::fs::remove_file(&credentials);
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let log = node_log(run)?;
    let child = tongban(run, &["demo"], &run.data_dir)
        .arg("--bind")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--load-holders")
        .arg(run.holders.to_string())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", run.binary.display()))?;
    let mut node = Node {
        child,
        base: format!("http://127.0.0.1:{port}"),
        demo: Value::Null,
    };
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        if let Some(status) = node.child.try_wait()? {
            anyhow::bail!(
                "the node exited while starting ({status}); see {}",
                run.log.display()
            );
        }
        if Instant::now() > deadline {
            node.kill()?;
            anyhow::bail!("the node was not ready within 15 minutes");
        }
        // The file is written in one go but may be read half-written: parse or wait.
        if let Some(demo) = std::fs::read_to_string(&credentials)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        {
            let ready = client.get(format!("{}/readyz", node.base)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                node.demo = demo;
                return Ok(node);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn count(db: &tongban_app::Db, sql: String) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(db.pool())
        .await?)
}

/// Counts what the database holds; on SQLite also its integrity check.
async fn counts(run: &CrashRun) -> anyhow::Result<(Counts, Option<String>)> {
    let db = tongban_app::Db::connect(&database_url(run), 1).await?;
    let counts = Counts {
        checkins: count(
            &db,
            "SELECT (SELECT COUNT(*) FROM checkin_log) + (SELECT COUNT(*) FROM checkins)".into(),
        )
        .await?,
        applications: count(&db, "SELECT COUNT(*) FROM applications".into()).await?,
        incomplete: count(
            &db,
            "SELECT COUNT(*) FROM applications a \
             WHERE NOT EXISTS (SELECT 1 FROM application_events e WHERE e.application_id = a.id) \
                OR (a.item_code = 'ITEM' AND NOT EXISTS (SELECT 1 FROM application_materials m \
                    WHERE m.application_id = a.id AND m.source = 'upload'))"
                .replace("ITEM", ITEM),
        )
        .await?,
        certificates: count(&db, "SELECT COUNT(*) FROM certificates".into()).await?,
        exchanges: count(&db, "SELECT COUNT(*) FROM exchange_messages".into()).await?,
        log_size: count(&db, "SELECT COUNT(*) FROM ledger_entries".into()).await?,
    };
    let integrity = if run.database_url.is_none() {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(db.pool())
            .await?;
        Some(rows.join("; "))
    } else {
        None
    };
    db.close().await;
    Ok((counts, integrity))
}

/// What a round stored of one kind of write against what was answered: nothing acknowledged
/// lost, nothing stored beyond the acknowledged and those of unknown outcome.
fn accounting(what: &str, stored: i64, acknowledged: i64, unknown: i64) -> Vec<String> {
    let mut problems = Vec::new();
    if stored < acknowledged {
        problems.push(format!(
            "{acknowledged} {what} acknowledged, {stored} stored"
        ));
    }
    if stored > acknowledged + unknown {
        problems.push(format!(
            "{stored} {what} stored, more than {acknowledged} acknowledged and {unknown} of unknown outcome"
        ));
    }
    problems
}

/// Those of `ids` that have no row in `table` (a table of the harness's own list, keyed `id`).
async fn missing(
    run: &CrashRun,
    table: &'static str,
    ids: &[String],
) -> anyhow::Result<Vec<String>> {
    let db = tongban_app::Db::connect(&database_url(run), 1).await?;
    let sql = format!("SELECT 1 FROM {table} WHERE id = $1");
    let mut missing = Vec::new();
    for id in ids {
        let found: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id.clone())
            .fetch_optional(db.pool())
            .await?;
        if found.is_none() {
            missing.push(id.clone());
        }
    }
    db.close().await;
    Ok(missing)
}

/// The certificates the log says were issued (its entries from `from` on) that are not stored:
/// an issuance half made.
async fn logged_not_stored(run: &CrashRun, from: i64) -> anyhow::Result<Vec<String>> {
    let db = tongban_app::Db::connect(&database_url(run), 1).await?;
    let entries: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT data FROM ledger_entries WHERE idx >= $1 ORDER BY idx")
            .bind(from)
            .fetch_all(db.pool())
            .await?;
    db.close().await;
    let named: Vec<String> = entries
        .iter()
        .filter_map(|entry| serde_json::from_slice::<Value>(entry).ok())
        .filter(|entry| entry["kind"] == "certificate_issued")
        .filter_map(|entry| entry["certificate"].as_str().map(str::to_owned))
        .collect();
    missing(run, "certificates", &named).await
}

/// The exchange the load makes: the city's government services reading one enterprise from
/// the market regulator's register through the gateway (the demo's grant): the path and the
/// consumer's X-Road client.
async fn exchange_call(run: &CrashRun) -> anyhow::Result<(String, String)> {
    let db = tongban_app::Db::connect(&database_url(run), 1).await?;
    let uscc_of = |kind: &'static str| {
        let db = &db;
        async move {
            let uscc: Option<String> = sqlx::query_scalar(
                "SELECT uscc FROM departments WHERE kind = $1 AND region_code = '339900' AND uscc IS NOT NULL",
            )
            .bind(kind)
            .fetch_optional(db.pool())
            .await?;
            uscc.with_context(|| format!("the demo city has no {kind} department"))
        }
    };
    let government = uscc_of("government_services").await?;
    let market = uscc_of("market_regulation").await?;
    let enterprise: String =
        sqlx::query_scalar("SELECT uscc FROM enterprises ORDER BY uscc LIMIT 1")
            .fetch_one(db.pool())
            .await?;
    db.close().await;
    Ok((
        format!("/r1/CN/GOV/{market}/DATA/SJ-QYDJ-001/enterprises/{enterprise}"),
        format!("CN/GOV/{government}/CASES"),
    ))
}

/// `tongban audit verify` on a data folder (and the run's database, or `url`): the whole log
/// recomputed, every checkpoint checked.
fn audit_verify(run: &CrashRun, data_dir: &Path, url: Option<&str>) -> anyhow::Result<()> {
    let mut command = tongban(run, &["audit", "verify"], data_dir);
    if let Some(url) = url {
        command.arg("--database-url").arg(url);
    }
    let out = command.output()?;
    anyhow::ensure!(
        out.status.success(),
        "tongban audit verify failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

enum Action {
    CheckIn,
    ReadPass,
    Apply,
    Issue,
    Exchange,
    Checkpoint,
}

/// What the issuing official sends: a food business licence for the enterprise, its type
/// looked up by name in the node's catalogue.
pub(crate) async fn licence_request(
    node: &Node,
    client: &reqwest::Client,
) -> anyhow::Result<Value> {
    let issuer = node.token(ISSUER)?;
    let types: Value = client
        .get(format!("{}/api/v1/cert-types", node.base))
        .bearer_auth(&issuer)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let food = types
        .as_array()
        .and_then(|all| all.iter().find(|t| t["name"] == "食品经营许可证"))
        .and_then(|t| t["code"].as_str())
        .context("the demo's catalogue has no food business licence")?;
    let uscc = node.demo["accounts"]
        .as_array()
        .and_then(|all| all.iter().find(|a| a["username"] == LICENSEE))
        .and_then(|a| a["uscc"].as_str())
        .context("the demo has no licensee")?;
    Ok(json!({
        "type_code": food,
        "uscc": uscc,
        "items": {"operator": "临江云启科技有限公司", "main_format": "餐饮服务经营者", "scope": ["热食类食品制售"]},
    }))
}

/// Drives the mixed load until `stop`; each worker with its own generator.
async fn drive(
    run: &CrashRun,
    node: &Node,
    client: &reqwest::Client,
    next_holder: &Arc<AtomicUsize>,
    acknowledged: &Arc<AtomicU64>,
    seed: u64,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<Tally>>> {
    let holders = Arc::new(crate::load::load_tokens(&node.demo));
    anyhow::ensure!(!holders.is_empty(), "the node seeded no load holders");
    let door = node.token(DOOR)?;
    let applicant = node.token(APPLICANT)?;
    let issuer = node.token(ISSUER)?;
    let licence = Arc::new(licence_request(node, client).await?);
    let consumer = node.token(CONSUMER)?;
    let exchange = Arc::new(exchange_call(run).await?);
    let mut workers = Vec::new();
    for worker in 0..run.connections.max(1) {
        let acknowledged = acknowledged.clone();
        let (client, base, holders, next_holder, stop, door, applicant) = (
            client.clone(),
            node.base.clone(),
            holders.clone(),
            next_holder.clone(),
            stop.clone(),
            door.clone(),
            applicant.clone(),
        );
        let (issuer, licence) = (issuer.clone(), licence.clone());
        let (consumer, exchange) = (consumer.clone(), exchange.clone());
        let mut random = SplitMix(seed ^ (worker as u64).wrapping_mul(0x1234_5678_9abc_def1));
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while !stop.load(Ordering::Relaxed) {
                // One applicant applies one application at a time, as a person does, and
                // one official issues one certificate at a time; the other workers are the
                // door and the holders.
                let action = match (worker, random.below(10)) {
                    (0, 0..=7) => Action::Apply,
                    (1, 0..=5) => Action::Issue,
                    (2, 0..=5) => Action::Exchange,
                    (0, _) | (_, 9) => Action::Checkpoint,
                    (_, 0..=4) => Action::CheckIn,
                    _ => Action::ReadPass,
                };
                let any_holder = holders[random.below(holders.len() as u64) as usize].clone();
                let (refused_before, acknowledged_before) = (tally.refused, tally.acknowledged());
                match action {
                    Action::CheckIn => match holders
                        .get(next_holder.fetch_add(1, Ordering::Relaxed))
                    {
                        Some(holder) => check_in(&client, &base, holder, &door, &mut tally).await,
                        None => read_pass(&client, &base, &any_holder, &mut tally).await,
                    },
                    Action::ReadPass => read_pass(&client, &base, &any_holder, &mut tally).await,
                    Action::Apply => apply(&client, &base, &applicant, &mut tally).await,
                    Action::Issue => issue(&client, &base, &issuer, &licence, &mut tally).await,
                    Action::Exchange => {
                        exchange_once(&client, &base, &consumer, &exchange, &mut tally).await
                    }
                    Action::Checkpoint => checkpoint(&client, &base, &mut tally).await,
                }
                acknowledged.fetch_add(
                    tally.acknowledged() - acknowledged_before,
                    Ordering::Relaxed,
                );
                if tally.refused > refused_before {
                    // The node is down or shedding: do not spin.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            tally
        }));
    }
    Ok(workers)
}

async fn read_pass(client: &reqwest::Client, base: &str, holder: &str, tally: &mut Tally) {
    let sent = client
        .get(format!("{base}/api/v1/pass/me"))
        .bearer_auth(holder)
        .send()
        .await;
    match answer("GET /api/v1/pass/me", sent).await {
        Answer::Ok(_) => tally.pass_reads += 1,
        Answer::Refused | Answer::Unavailable | Answer::Lost => tally.refused += 1,
        Answer::Wrong(what) => tally.wrong.push(what),
    }
}

/// A holder at the door: their code, then the scan that stores the check-in.
async fn check_in(client: &reqwest::Client, base: &str, holder: &str, door: &str, t: &mut Tally) {
    let sent = client
        .get(format!("{base}/api/v1/pass/me"))
        .bearer_auth(holder)
        .send()
        .await;
    let code = match answer("GET /api/v1/pass/me", sent).await {
        Answer::Ok(response) => response
            .json::<Value>()
            .await
            .ok()
            .and_then(|pass| pass["code"].as_str().map(str::to_owned)),
        Answer::Wrong(what) => return t.wrong.push(what),
        Answer::Refused | Answer::Unavailable | Answer::Lost => None,
    };
    let Some(code) = code else {
        t.refused += 1;
        return;
    };
    let sent = client
        .post(format!("{base}/api/v1/pass/verify"))
        .bearer_auth(door)
        .json(&json!({ "code": code }))
        .send()
        .await;
    match answer("POST /api/v1/pass/verify", sent).await {
        Answer::Ok(response) => match response.json::<Value>().await {
            Ok(outcome) if outcome["checked_in"] == true => t.checkins_acknowledged += 1,
            Ok(outcome) => t
                .wrong
                .push(format!("a first scan not checked in: {outcome}")),
            // The answer was cut off: the check-in may or may not be stored.
            Err(_) => t.checkins_lost += 1,
        },
        Answer::Refused => t.refused += 1,
        Answer::Unavailable => t.checkins_unavailable += 1,
        Answer::Lost => t.checkins_lost += 1,
        Answer::Wrong(what) => t.wrong.push(what),
    }
}

/// An upload, then the application that takes it with the certificates from the library.
/// Idempotency-Keys unique over the run (and over runs: the process and its start).
fn new_key() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static RUN: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    let run = RUN.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    });
    format!(
        "chaos-{run:x}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Sends an application with its Idempotency-Key.
async fn send_application(
    client: &reqwest::Client,
    base: &str,
    applicant: &str,
    key: &str,
    body: &Value,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{base}/api/v1/services/{ITEM}/applications"))
        .bearer_auth(applicant)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
}

async fn apply(client: &reqwest::Client, base: &str, applicant: &str, t: &mut Tally) {
    let sent = client
        .post(format!("{base}/api/v1/uploads"))
        .bearer_auth(applicant)
        .header("content-type", "application/octet-stream")
        .body(PNG.to_vec())
        .send()
        .await;
    let upload = match answer("POST /api/v1/uploads", sent).await {
        Answer::Ok(response) => response
            .json::<Value>()
            .await
            .ok()
            .and_then(|u| u["id"].as_str().map(str::to_owned)),
        Answer::Wrong(what) => return t.wrong.push(what),
        Answer::Refused | Answer::Unavailable | Answer::Lost => None,
    };
    let Some(upload) = upload else {
        t.refused += 1;
        return;
    };
    let body = json!({
        "form": application_form(),
        "uploads": {"经营场所使用证明": upload},
        "use_certificates": true,
    });
    let key = new_key();
    let sent = send_application(client, base, applicant, &key, &body).await;
    match answer("POST /api/v1/services/{item}/applications", sent).await {
        Answer::Ok(response) => match response.json::<Value>().await {
            Ok(submitted) => match submitted["id"].as_str() {
                Some(id) => t.applications_acknowledged.push(id.to_owned()),
                None => t
                    .wrong
                    .push(format!("an application without an id: {submitted}")),
            },
            Err(_) => {
                t.applications_lost += 1;
                t.applications_unsure.push((key, body));
            }
        },
        Answer::Refused => t.refused += 1,
        Answer::Unavailable => {
            t.applications_unavailable += 1;
            t.applications_unsure.push((key, body));
        }
        Answer::Lost => {
            t.applications_lost += 1;
            t.applications_unsure.push((key, body));
        }
        Answer::Wrong(what) => t.wrong.push(what),
    }
}

/// The applications whose answer was lost, sent again with their keys after the restart, as a
/// client does: each must be answered with one application — the one stored before the kill,
/// or one made now. Returns their ids.
async fn retry_unsure(
    node: &Node,
    client: &reqwest::Client,
    unsure: &[(String, Value)],
    problems: &mut Vec<String>,
) -> anyhow::Result<Vec<String>> {
    let applicant = node.token(APPLICANT)?;
    let mut ids = Vec::new();
    for (key, body) in unsure {
        let response = send_application(client, &node.base, &applicant, key, body).await?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        match answer["id"].as_str() {
            Some(id) if status.is_success() => ids.push(id.to_owned()),
            _ => problems.push(format!(
                "an application sent again with its key was answered {status}: {answer}"
            )),
        }
    }
    Ok(ids)
}

/// The ids of the applicant's applications in the database.
async fn applications_of_applicant(run: &CrashRun) -> anyhow::Result<HashSet<String>> {
    let db = tongban_app::Db::connect(&database_url(run), 1).await?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT a.id FROM applications a JOIN accounts u ON u.id = a.applicant_account WHERE u.username = $1",
    )
    .bind(APPLICANT)
    .fetch_all(db.pool())
    .await?;
    db.close().await;
    Ok(ids.into_iter().collect())
}

/// An official issues a certificate: acknowledged with its id once stored and logged.
async fn issue(client: &reqwest::Client, base: &str, issuer: &str, body: &Value, t: &mut Tally) {
    let sent = client
        .post(format!("{base}/api/v1/certs"))
        .bearer_auth(issuer)
        .json(body)
        .send()
        .await;
    match answer("POST /api/v1/certs", sent).await {
        Answer::Ok(response) => match response.json::<Value>().await {
            Ok(signed) => match signed["certificate"]["id"].as_str() {
                Some(id) => t.certificates_acknowledged.push(id.to_owned()),
                None => t
                    .wrong
                    .push(format!("a certificate without an id: {signed}")),
            },
            Err(_) => t.certificates_lost += 1,
        },
        Answer::Refused => t.refused += 1,
        Answer::Unavailable => t.certificates_unavailable += 1,
        Answer::Lost => t.certificates_lost += 1,
        Answer::Wrong(what) => t.wrong.push(what),
    }
}

/// One exchange through the gateway: acknowledged with its message id (`X-Road-Id`) once its
/// signed record is in the log.
async fn exchange_once(
    client: &reqwest::Client,
    base: &str,
    consumer: &str,
    (path, x_road_client): &(String, String),
    t: &mut Tally,
) {
    let sent = client
        .get(format!("{base}{path}"))
        .bearer_auth(consumer)
        .header("X-Road-Client", x_road_client)
        .header("Accept", "application/json")
        .send()
        .await;
    match answer("GET /r1/…/enterprises/{uscc}", sent).await {
        Answer::Ok(response) => {
            let id = response
                .headers()
                .get("x-road-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            match (id, response.bytes().await) {
                (Some(id), Ok(_)) => t.exchanges_acknowledged.push(id),
                (None, _) => t.wrong.push("an exchange without its X-Road-Id".to_owned()),
                (Some(_), Err(_)) => t.exchanges_lost += 1,
            }
        }
        Answer::Refused => t.refused += 1,
        Answer::Unavailable => t.exchanges_unavailable += 1,
        Answer::Lost => t.exchanges_lost += 1,
        Answer::Wrong(what) => t.wrong.push(what),
    }
}

/// Asks for a checkpoint (made on demand at most once a second) and keeps the largest seen.
async fn checkpoint(client: &reqwest::Client, base: &str, t: &mut Tally) {
    let sent = client
        .get(format!("{base}/api/v1/ledger/checkpoint"))
        .send()
        .await;
    match answer("GET /api/v1/ledger/checkpoint", sent).await {
        Answer::Ok(response) => match response
            .text()
            .await
            .ok()
            .and_then(|text| parse_checkpoint(&text).ok_or(text).ok())
        {
            Some(published) => {
                if t.checkpoint.is_none_or(|seen| seen.size < published.size) {
                    t.checkpoint = Some(published);
                }
            }
            None => t.refused += 1,
        },
        Answer::Refused | Answer::Unavailable | Answer::Lost => t.refused += 1,
        Answer::Wrong(what) => t.wrong.push(what),
    }
}

/// After a restart: every application acknowledged is there for its applicant, submitted with
/// its upload; the log's newest checkpoint extends the one published before the kill.
async fn check_after_restart(
    node: &Node,
    client: &reqwest::Client,
    acknowledged: &[String],
    published: Option<Published>,
) -> anyhow::Result<Vec<String>> {
    let mut failed = Vec::new();
    let applicant = node.token(APPLICANT)?;
    for id in acknowledged {
        let response = client
            .get(format!("{}/api/v1/applications/{id}", node.base))
            .bearer_auth(&applicant)
            .send()
            .await?;
        if !response.status().is_success() {
            failed.push(format!(
                "application {id} was acknowledged, and is {} after the restart",
                response.status()
            ));
            continue;
        }
        let detail: Value = response.json().await?;
        let has_upload = detail["materials"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["source"] == "upload"));
        if !has_upload {
            failed.push(format!("application {id} lost its upload"));
        }
    }
    if let Some(before) = published {
        let text = client
            .get(format!("{}/api/v1/ledger/checkpoint", node.base))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        let now = parse_checkpoint(&text).context("a malformed checkpoint")?;
        if now.size < before.size {
            failed.push(format!(
                "the log shrank: {} entries published before the kill, {} after",
                before.size, now.size
            ));
        } else if !extends(node, client, before, now).await? {
            failed.push(format!(
                "the log of {} entries does not extend the checkpoint of {} published before the kill",
                now.size, before.size
            ));
        }
    }
    Ok(failed)
}

/// Whether the tree `now` extends `before` by the node's consistency proof. The log hashes
/// with SHA-256 or SM3 by profile: the proof must verify under one of them.
async fn extends(
    node: &Node,
    client: &reqwest::Client,
    before: Published,
    now: Published,
) -> anyhow::Result<bool> {
    if before.size == 0 {
        return Ok(true);
    }
    let proof: Value = client
        .get(format!(
            "{}/api/v1/ledger/proof/consistency?from={}&to={}",
            node.base, before.size, now.size
        ))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let hashes: Vec<tongban_ledger::Digest32> = proof["hashes"]
        .as_array()
        .context("a proof without hashes")?
        .iter()
        .filter_map(|h| h.as_str())
        .filter_map(|h| base64::engine::general_purpose::STANDARD.decode(h).ok())
        .filter_map(|h| h.try_into().ok())
        .collect();
    Ok([
        tongban_ledger::HashAlgorithm::Sha256,
        tongban_ledger::HashAlgorithm::Sm3,
    ]
    .into_iter()
    .any(|algorithm| {
        tongban_ledger::verify_consistency(
            algorithm,
            before.size,
            now.size,
            &hashes,
            &before.root,
            &now.root,
        )
        .is_ok()
    }))
}

/// Takes an online backup of the node's database while the load runs; restores and verifies
/// it once the round is over.
fn backup(run: &CrashRun) -> anyhow::Result<PathBuf> {
    let file = run.data_dir.join("chaos-backup.db");
    let _ = std::fs::remove_file(&file);
    let out = tongban(run, &["backup"], &run.data_dir)
        .arg("--out")
        .arg(&file)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "tongban backup under load failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(file)
}

fn restore_and_verify(run: &CrashRun, file: &Path) -> anyhow::Result<()> {
    let elsewhere = run.data_dir.join("chaos-restored");
    let _ = std::fs::remove_dir_all(&elsewhere);
    std::fs::create_dir_all(&elsewhere)?;
    let out = Command::new(&run.binary)
        .arg("restore")
        .arg("--data-dir")
        .arg(&elsewhere)
        .env("TONGBAN_LOG", "warn")
        .arg("--from")
        .arg(file)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "tongban restore failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = format!(
        "sqlite://{}?mode=rwc",
        elsewhere.join("tongban.db").display()
    );
    audit_verify(run, &elsewhere, Some(&url))
}

/// The crash rounds; fails with the report when any check failed.
pub async fn crash(run: CrashRun) -> anyhow::Result<Value> {
    std::fs::create_dir_all(&run.data_dir)?;
    let client = tongban_app::outbound::plain()
        .pool_max_idle_per_host(run.connections)
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut random = SplitMix(run.seed);
    let next_holder = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut rounds = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    let mut carried: (Vec<String>, Option<Published>) = (Vec::new(), None);
    let backup_round = if run.database_url.is_none() && run.rounds > 1 {
        Some(1)
    } else {
        None
    };
    if run.database_url.is_some() {
        // A node refuses to serve an unmigrated PostgreSQL database: migrate it as an
        // operator does, once.
        let out = tongban(&run, &["migrate"], &run.data_dir).output()?;
        anyhow::ensure!(
            out.status.success(),
            "tongban migrate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut node = start(&run, &client).await?;
    let (mut before, _) = counts(&run).await?;
    // Every application of the load is named by an answer: its first, or its retry's.
    let applications_before = applications_of_applicant(&run).await?;
    let mut named: HashSet<String> = HashSet::new();
    let mut unsure: Vec<(String, Value)> = Vec::new();
    let mut retried = 0;
    for round in 0..run.rounds {
        let mut problems = check_after_restart(&node, &client, &carried.0, carried.1).await?;
        if !unsure.is_empty() {
            retried += unsure.len();
            named.extend(retry_unsure(&node, &client, &unsure, &mut problems).await?);
            unsure.clear();
            // What the retries stored belongs to none of this round's counts.
            before = counts(&run).await?.0;
        }

        // The load, and the kill at a random moment within it.
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(AtomicU64::new(0));
        let workers = drive(
            &run,
            &node,
            &client,
            &next_holder,
            &acknowledged,
            random.next(),
            &stop,
        )
        .await?;
        let load_ms = 1_500 + random.below(3_500);
        let half = Duration::from_millis(load_ms / 2);
        tokio::time::sleep(half).await;
        let backup_file = if backup_round == Some(round) {
            let run_ref = &run;
            Some(tokio::task::block_in_place(|| backup(run_ref))?)
        } else {
            None
        };
        let database_restarted = match &run.restart_database {
            Some(command) if round % 2 == 1 => {
                let restarted = Instant::now();
                let status = tokio::task::block_in_place(|| {
                    Command::new("sh").arg("-c").arg(command).status()
                })?;
                anyhow::ensure!(status.success(), "`{command}` failed: {status}");
                let seconds = restarted.elapsed().as_secs_f64();
                // The node takes writes again, on its own, within a minute.
                let since = acknowledged.load(Ordering::Relaxed);
                let deadline = Instant::now() + Duration::from_secs(60);
                while acknowledged.load(Ordering::Relaxed) == since && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                let recovered = acknowledged.load(Ordering::Relaxed) > since;
                if !recovered {
                    problems.push(
                        "no write was acknowledged within a minute of the database's restart"
                            .to_owned(),
                    );
                }
                Some(
                    json!({"restart_seconds": seconds, "recovered_in_seconds": recovered.then(|| restarted.elapsed().as_secs_f64() - seconds)}),
                )
            }
            _ => None,
        };
        tokio::time::sleep(half).await;
        node.kill()?;
        // The workers see the node gone; let them finish what they had in flight.
        tokio::time::sleep(Duration::from_millis(200)).await;
        stop.store(true, Ordering::Relaxed);
        let mut tally = Tally::default();
        for worker in workers {
            let t = worker.await?;
            tally.checkins_acknowledged += t.checkins_acknowledged;
            tally.checkins_lost += t.checkins_lost;
            tally.checkins_unavailable += t.checkins_unavailable;
            tally.applications_unavailable += t.applications_unavailable;
            tally
                .applications_acknowledged
                .extend(t.applications_acknowledged);
            tally.applications_lost += t.applications_lost;
            tally.applications_unsure.extend(t.applications_unsure);
            tally
                .certificates_acknowledged
                .extend(t.certificates_acknowledged);
            tally.certificates_lost += t.certificates_lost;
            tally.certificates_unavailable += t.certificates_unavailable;
            tally
                .exchanges_acknowledged
                .extend(t.exchanges_acknowledged);
            tally.exchanges_lost += t.exchanges_lost;
            tally.exchanges_unavailable += t.exchanges_unavailable;
            tally.pass_reads += t.pass_reads;
            tally.refused += t.refused;
            tally.wrong.extend(t.wrong);
            if let Some(seen) = t.checkpoint
                && tally.checkpoint.is_none_or(|c| c.size < seen.size)
            {
                tally.checkpoint = Some(seen);
            }
        }

        // With the node down: what the database holds.
        let (after, integrity) = counts(&run).await?;
        // A 503 is unknown only where the database itself went away: on SQLite, and in a
        // round that did not restart the database, a 503 changed nothing.
        let unknown_503 = |n: u64| {
            if database_restarted.is_some() {
                n as i64
            } else {
                0
            }
        };
        let checkins = after.checkins - before.checkins;
        let acknowledged_checkins = tally.checkins_acknowledged as i64;
        let applications = after.applications - before.applications;
        let acknowledged_apps = tally.applications_acknowledged.len() as i64;
        let certificates = after.certificates - before.certificates;
        let acknowledged_certificates = tally.certificates_acknowledged.len() as i64;
        let exchanges = after.exchanges - before.exchanges;
        let acknowledged_exchanges = tally.exchanges_acknowledged.len() as i64;
        for (what, stored, acknowledged, lost, unavailable) in [
            (
                "check-ins",
                checkins,
                acknowledged_checkins,
                tally.checkins_lost,
                tally.checkins_unavailable,
            ),
            (
                "applications",
                applications,
                acknowledged_apps,
                tally.applications_lost,
                tally.applications_unavailable,
            ),
            (
                "certificates",
                certificates,
                acknowledged_certificates,
                tally.certificates_lost,
                tally.certificates_unavailable,
            ),
            (
                "exchanges",
                exchanges,
                acknowledged_exchanges,
                tally.exchanges_lost,
                tally.exchanges_unavailable,
            ),
        ] {
            problems.extend(accounting(
                what,
                stored,
                acknowledged,
                lost as i64 + unknown_503(unavailable),
            ));
        }
        let unstored = missing(&run, "certificates", &tally.certificates_acknowledged)
            .await?
            .len();
        if unstored > 0 {
            problems.push(format!(
                "{unstored} certificates acknowledged and not stored"
            ));
        }
        let logged_only = logged_not_stored(&run, before.log_size).await?;
        if !logged_only.is_empty() {
            problems.push(format!(
                "{} certificates in the log as issued and not stored",
                logged_only.len()
            ));
        }
        let unlogged = missing(&run, "exchange_messages", &tally.exchanges_acknowledged)
            .await?
            .len();
        if unlogged > 0 {
            problems.push(format!("{unlogged} exchanges acknowledged and not logged"));
        }
        if after.incomplete != before.incomplete {
            problems.push(format!(
                "{} applications half-written (without their upload or first event)",
                after.incomplete - before.incomplete
            ));
        }
        if let Some(integrity) = &integrity
            && integrity != "ok"
        {
            problems.push(format!("the SQLite integrity check: {integrity}"));
        }
        if let Err(error) = audit_verify(&run, &run.data_dir, None) {
            problems.push(format!("{error:#}"));
        }
        if let Some(file) = &backup_file
            && let Err(error) = restore_and_verify(&run, file)
        {
            problems.push(format!("the backup taken under load: {error:#}"));
        }
        problems.extend(tally.wrong.iter().take(10).cloned());
        if tally.acknowledged() == 0 {
            problems.push("nothing was acknowledged before the kill: no load".to_owned());
        }

        rounds.push(json!({
            "round": round,
            "killed_after_ms": load_ms,
            "checkins": {"acknowledged": acknowledged_checkins, "lost_in_flight": tally.checkins_lost, "answered_503": tally.checkins_unavailable, "stored": checkins},
            "applications": {"acknowledged": acknowledged_apps, "lost_in_flight": tally.applications_lost, "answered_503": tally.applications_unavailable, "stored": applications},
            "certificates": {"acknowledged": acknowledged_certificates, "lost_in_flight": tally.certificates_lost, "answered_503": tally.certificates_unavailable, "stored": certificates, "logged_not_stored": logged_only.len()},
            "exchanges": {"acknowledged": acknowledged_exchanges, "lost_in_flight": tally.exchanges_lost, "answered_503": tally.exchanges_unavailable, "stored": exchanges},
            "pass_reads": tally.pass_reads,
            "refused_or_cut": tally.refused,
            "wrong_answers": tally.wrong.len(),
            "checkpoint_before_kill": tally.checkpoint.map(|c| c.size),
            "backup_restored_and_verified": backup_file.is_some(),
            "database_restarted": database_restarted,
            "problems": problems,
        }));
        failed.extend(problems.iter().map(|p| format!("round {round}: {p}")));
        before = after;
        named.extend(tally.applications_acknowledged.iter().cloned());
        unsure = tally.applications_unsure;
        carried = (tally.applications_acknowledged, tally.checkpoint);
        node = start(&run, &client).await?;
    }
    // What the last round left, read back; then a clean stop.
    let mut problems = check_after_restart(&node, &client, &carried.0, carried.1).await?;
    retried += unsure.len();
    named.extend(retry_unsure(&node, &client, &unsure, &mut problems).await?);
    failed.extend(
        problems
            .iter()
            .map(|p| format!("after the last round: {p}")),
    );
    node.kill()?;
    let unnamed = applications_of_applicant(&run)
        .await?
        .difference(&applications_before)
        .filter(|id| !named.contains(*id))
        .count();
    if unnamed > 0 {
        failed.push(format!(
            "{unnamed} applications stored that no answer named: a retry made a second"
        ));
    }

    let total = |key: &str, field: &str| -> i64 {
        rounds
            .iter()
            .map(|r| r[key][field].as_i64().unwrap_or(0))
            .sum()
    };
    let summary = json!({
        "benchmark": "chaos-crash",
        "engine": if run.database_url.is_some() { "postgres" } else { "sqlite" },
        "rounds": run.rounds,
        "database_restarts": rounds.iter().filter(|r| !r["database_restarted"].is_null()).count(),
        "seed": run.seed,
        "connections": run.connections,
        "seconds": started.elapsed().as_secs_f64(),
        "checkins": {"acknowledged": total("checkins", "acknowledged"), "stored": total("checkins", "stored"), "lost_in_flight": total("checkins", "lost_in_flight"), "answered_503": total("checkins", "answered_503")},
        "applications": {"acknowledged": total("applications", "acknowledged"), "stored": total("applications", "stored"), "lost_in_flight": total("applications", "lost_in_flight"), "answered_503": total("applications", "answered_503"), "sent_again_with_their_key": retried, "stored_unnamed": unnamed},
        "certificates": {"acknowledged": total("certificates", "acknowledged"), "stored": total("certificates", "stored"), "lost_in_flight": total("certificates", "lost_in_flight"), "answered_503": total("certificates", "answered_503"), "logged_not_stored": total("certificates", "logged_not_stored")},
        "exchanges": {"acknowledged": total("exchanges", "acknowledged"), "stored": total("exchanges", "stored"), "lost_in_flight": total("exchanges", "lost_in_flight"), "answered_503": total("exchanges", "answered_503")},
        "each_round": rounds,
        "failed": failed,
        "machine": crate::bench::machine(),
    });
    if !failed.is_empty() {
        anyhow::bail!(
            "the crash checks failed: {}\n{}",
            failed.join("; "),
            serde_json::to_string_pretty(&summary)?
        );
    }
    Ok(summary)
}

/// What a full-disk run drives.
pub struct FullDiskRun {
    pub binary: PathBuf,
    /// The size of the file system the data lives on, in MiB.
    pub size_mib: u64,
    pub holders: usize,
}

/// A tmpfs of a fixed size, unmounted (and its folder removed) when dropped.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(size_mib: u64) -> anyhow::Result<SmallDisk> {
        let dir = std::env::temp_dir().join(format!("tongban-full-disk-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(&dir)
            .status()
            .context("running mount")?;
        anyhow::ensure!(
            status.success(),
            "mounting a {size_mib} MiB tmpfs at {} failed ({status}): the full-disk run needs root",
            dir.display()
        );
        Ok(SmallDisk { dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Fills the file system with one file until it refuses; its size.
fn fill(file: &Path) -> anyhow::Result<u64> {
    use std::io::Write as _;
    let mut out = std::fs::File::create(file)?;
    let chunk = vec![0u8; 256 * 1024];
    let mut written = 0u64;
    loop {
        match out.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(error) if error.raw_os_error() == Some(28) => break, // ENOSPC
            Err(error) => return Err(error.into()),
        }
    }
    let _ = out.sync_all();
    Ok(written)
}

/// One write at the door or by the applicant, classified.
enum Write {
    Acknowledged,
    Refused,
    Lost,
    Wrong(String),
}

async fn one_write(
    client: &reqwest::Client,
    node: &Node,
    holder: Option<&str>,
    door: &str,
    applicant: &str,
) -> Write {
    let mut tally = Tally::default();
    match holder {
        Some(holder) => check_in(client, &node.base, holder, door, &mut tally).await,
        None => apply(client, &node.base, applicant, &mut tally).await,
    }
    if tally.acknowledged() > 0 {
        Write::Acknowledged
    } else if let Some(wrong) = tally.wrong.pop() {
        Write::Wrong(wrong)
    } else if tally.checkins_lost + tally.applications_lost > 0 {
        Write::Lost
    } else {
        // 503 (the SQLite transaction rolled back) or refused before it was sent.
        Write::Refused
    }
}

/// `tongban chaos full-disk`: the node's data on a small file system that is then filled.
/// While it is full, writes are refused with 503 and change nothing, reads that need no
/// record keep answering, and nothing answers 500; once space is freed, writes are taken again
/// without a restart; killed at the end, the database is intact, every acknowledged write is
/// there and the log verifies.
pub async fn full_disk(run: FullDiskRun) -> anyhow::Result<Value> {
    let disk = SmallDisk::mount(run.size_mib)?;
    let crash = CrashRun {
        binary: run.binary.clone(),
        data_dir: disk.dir.join("data"),
        database_url: None,
        rounds: 0,
        holders: run.holders,
        connections: 1,
        seed: 0,
        restart_database: None,
        // Outside the small disk, and kept.
        log: std::env::temp_dir().join(format!("tongban-full-disk-{}.log", std::process::id())),
    };
    std::fs::create_dir_all(&crash.data_dir)?;
    let client = tongban_app::outbound::plain()
        .timeout(Duration::from_secs(20))
        .build()?;
    let node = start(&crash, &client).await?;
    let (before, _) = counts(&crash).await?;
    let holders = crate::load::load_tokens(&node.demo);
    let door = node.token(DOOR)?;
    let applicant = node.token(APPLICANT)?;
    let mut next_holder = holders.iter();
    let mut failed = Vec::new();
    let mut acknowledged = 0i64;
    let mut lost = 0i64;

    // Room to write: both kinds of write are taken.
    for kind in [true, false] {
        let holder = if kind { next_holder.next() } else { None };
        match one_write(
            &client,
            &node,
            holder.map(String::as_str),
            &door,
            &applicant,
        )
        .await
        {
            Write::Acknowledged => acknowledged += 1,
            _ => failed.push("a write was not taken before the disk filled".to_owned()),
        }
    }

    let filler = disk.dir.join("filler");
    let filled = tokio::task::block_in_place(|| fill(&filler))?;

    // Full: writes until a good number were refused; reads alongside.
    let (mut refused, mut taken_while_full, mut reads_ok, mut reads_refused) = (0, 0, 0, 0);
    let mut attempts = 0;
    while refused < 20 && attempts < 3000 {
        attempts += 1;
        let holder = if attempts % 4 == 0 {
            None
        } else {
            match next_holder.next() {
                Some(holder) => Some(holder.as_str()),
                None => break,
            }
        };
        match one_write(&client, &node, holder, &door, &applicant).await {
            Write::Acknowledged => {
                acknowledged += 1;
                taken_while_full += 1;
            }
            Write::Refused => refused += 1,
            Write::Lost => lost += 1,
            Write::Wrong(what) => failed.push(format!("while full: {what}")),
        }
        let me = client
            .get(format!("{}/api/v1/me", node.base))
            .bearer_auth(&applicant)
            .send()
            .await;
        match answer("GET /api/v1/me", me).await {
            Answer::Ok(_) => reads_ok += 1,
            Answer::Refused | Answer::Unavailable | Answer::Lost => reads_refused += 1,
            Answer::Wrong(what) => failed.push(format!("while full: {what}")),
        }
    }
    if refused == 0 {
        failed.push(format!(
            "{attempts} writes on a full disk and none refused: the database never felt it"
        ));
    }
    if reads_ok == 0 {
        failed.push("no read answered while the disk was full".to_owned());
    }

    // Freed: writes are taken again, without a restart.
    std::fs::remove_file(&filler)?;
    let freed = Instant::now();
    let mut recovered_after = None;
    while freed.elapsed() < Duration::from_secs(60) {
        match one_write(
            &client,
            &node,
            next_holder.next().map(String::as_str),
            &door,
            &applicant,
        )
        .await
        {
            Write::Acknowledged => {
                acknowledged += 1;
                recovered_after = Some(freed.elapsed().as_secs_f64());
                break;
            }
            Write::Wrong(what) => failed.push(format!("after freeing: {what}")),
            Write::Lost => lost += 1,
            Write::Refused => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    if recovered_after.is_none() {
        failed.push("no write was taken within a minute of freeing the disk".to_owned());
    }

    node.kill()?;
    let (after, integrity) = counts(&crash).await?;
    let stored = (after.checkins - before.checkins) + (after.applications - before.applications);
    // A write whose answer was lost may or may not be stored; a refused one must not be.
    failed.extend(accounting("writes", stored, acknowledged, lost));
    if after.incomplete != before.incomplete {
        failed.push("an application was half-written".to_owned());
    }
    if let Some(integrity) = integrity.filter(|i| i != "ok") {
        failed.push(format!("the SQLite integrity check: {integrity}"));
    }
    if let Err(error) = audit_verify(&crash, &crash.data_dir, None) {
        failed.push(format!("{error:#}"));
    }
    let summary = json!({
        "benchmark": "chaos-full-disk",
        "file_system_mib": run.size_mib,
        "filler_bytes": filled,
        "writes_while_full": {"attempted": attempts, "refused_503": refused, "taken": taken_while_full, "lost": lost},
        "reads_while_full": {"answered": reads_ok, "refused": reads_refused},
        "first_write_after_freeing_seconds": recovered_after,
        "node_log": crash.log.display().to_string(),
        "acknowledged": acknowledged,
        "stored": stored,
        "failed": failed,
        "machine": crate::bench::machine(),
    });
    drop(disk);
    if !failed.is_empty() {
        anyhow::bail!(
            "the full-disk checks failed: {}\n{}",
            failed.join("; "),
            serde_json::to_string_pretty(&summary)?
        );
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_note_gives_its_size_and_root() {
        let root = [7u8; 32];
        let text = format!(
            "tongban.339900/audit\n42\n{}\n\n— tongban.339900/audit AAAA\n",
            base64::engine::general_purpose::STANDARD.encode(root)
        );
        assert_eq!(parse_checkpoint(&text), Some(Published { size: 42, root }));
        assert_eq!(
            parse_checkpoint("tongban.339900/audit\nforty\nAAAA\n"),
            None
        );
        assert_eq!(parse_checkpoint("tongban.339900/audit\n42\nAAAA\n"), None);
    }
}
