//! `tongban bench cross-region`: applications transferred and acknowledged between two nodes
//! of two regions on this machine, each with its own database and keys. Region A's citizens
//! apply for region B's item with a material of the given size; the run then times A's outbox
//! delivering every package: signed by A's intake key, sent through A's gateway (signed,
//! logged), checked by B's gateway against A's trust list, verified by B's intake against the
//! same list, stored as one case with its outbox entry, answered, signed by B, checked and
//! logged by A, and the case marked delivered. Beside it, in the same run, the same bodies are
//! posted over plain HTTP to a server that only reads them — the floor of moving the bytes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};
use tongban_app::config::Config;
use tongban_core::SystemClock;

const ITEM: &str = "339900-SW-0003";

struct Node {
    state: tongban_app::state::AppState,
    base: String,
    tokens: Vec<(String, String)>,
    serving: Option<(
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<std::io::Result<()>>,
    )>,
    scratch: std::path::PathBuf,
}

impl Node {
    /// Serves the node's routes and runs its background jobs.
    async fn serve(&mut self) -> anyhow::Result<()> {
        let app = tongban_app::Application::build(self.state.clone()).await?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        self.serving = Some((stop, served));
        Ok(())
    }

    /// Stops serving, and the jobs with it, and waits until it has.
    async fn halt(&mut self) {
        if let Some((stop, served)) = self.serving.take() {
            let _ = stop.send(());
            let _ = served.await;
        }
    }

    fn region(&self) -> crate::agreement::Region<'_> {
        crate::agreement::Region {
            state: &self.state,
            base: &self.base,
            tokens: &self.tokens,
        }
    }

    fn token(&self, username: &str) -> anyhow::Result<String> {
        self.tokens
            .iter()
            .find(|(name, _)| name == username)
            .map(|(_, token)| token.clone())
            .context("a demo account")
    }
}

async fn node(region: &str) -> anyhow::Result<Node> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let scratch = std::env::temp_dir().join(format!(
        "tongban-bench-cross-{region}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&scratch)?;
    let base = format!("http://127.0.0.1:{port}");
    let config = Config {
        data_dir: scratch.clone(),
        bind: format!("127.0.0.1:{port}").parse()?,
        public_url: Some(base.clone()),
        database_url: Some(format!(
            "sqlite://{}?mode=rwc",
            scratch.join("bench.db").display()
        )),
        master_key: Some(tongban_app::config::SecretText(
            tongban_app::keys::master::generate_text().to_string(),
        )),
        region_code: region.into(),
        max_concurrent_requests: 100_000,
        ..Config::default()
    };
    let state = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
    let credentials = tongban_app::demo::seed(&state, &base)
        .await
        .map_err(|e| anyhow::anyhow!("seeding: {e}"))?;
    let mut node = Node {
        state,
        base,
        tokens: credentials
            .accounts
            .iter()
            .map(|a| (a.username.clone(), a.api_token.clone()))
            .collect(),
        serving: None,
        scratch,
    };
    node.serve().await?;
    Ok(node)
}

/// Both demo cities seed the same departments; the second region's get USCCs of their own.
async fn own_members(node: &Node) -> anyhow::Result<()> {
    let region = node.state.config.region_code.clone();
    for department in tongban_app::admin::store::departments(node.state.pool()).await? {
        let Some(old) = department.uscc else { continue };
        let new = tongban_app::demo::demo_uscc(&old[..2], &region, &old[8..16])
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .to_string();
        sqlx::query("UPDATE departments SET uscc = $1 WHERE id = $2")
            .bind(new)
            .bind(department.id.clone())
            .execute(node.state.pool())
            .await?;
    }
    Ok(())
}

/// A server that reads each body and answers 201: the floor of moving the bytes.
async fn sink() -> anyhow::Result<String> {
    use axum::routing::post;
    let router = axum::Router::new()
        .route(
            "/packages",
            post(|body: axum::body::Bytes| async move {
                (
                    axum::http::StatusCode::CREATED,
                    format!("{{\"bytes\":{}}}", body.len()),
                )
            }),
        )
        .layer(axum::extract::DefaultBodyLimit::max(64 << 20));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(address)
}

pub async fn cross_region(count: usize, material_kib: usize) -> anyhow::Result<Value> {
    let client = tongban_app::outbound::plain()
        .timeout(Duration::from_secs(60))
        .build()?;
    let mut a = node("339900").await?;
    let b = node("440300").await?;
    own_members(&b).await?;
    crate::agreement::agree(&client, &a.region(), &b.region()).await?;
    let citizen =
        tongban_app::identity::service::actor_from_token(&a.state, &a.token("citizen.zhangwei")?)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .context("the citizen")?;
    let material = {
        use base64::Engine as _;
        let bytes: Vec<u8> = (0..material_kib * 1024)
            .map(|n| (n * 31 % 251) as u8)
            .collect();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    let a_state = a.state.clone();
    let apply = |n: usize| {
        let (state, citizen, material) = (a_state.clone(), citizen.clone(), material.clone());
        async move {
            let request: tongban_app::crossregion::cases::ApplyRequest = serde_json::from_value(
                json!({"region": "440300", "item_code": ITEM,
                    "form": {"year": "2025", "n": n},
                    "materials": [{"name": "完税情况说明", "media_type": "application/pdf", "content": material}],
                    "consent": true}),
            )?;
            tongban_app::crossregion::cases::apply(&state, &citizen, request)
                .await
                .map_err(|e| anyhow::anyhow!("applying: {e}"))
        }
    };
    // Warm up: one package end to end, one at a time (its latency).
    let mut one_ms = Vec::new();
    for n in 0..20 {
        apply(n).await?;
        let started = Instant::now();
        let delivered = tongban_app::crossregion::outbox::deliver_due(&a.state)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        // (The node's own delivery job may have taken it first: this round then waited for
        // the job's and found nothing left.)
        let queued: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM cross_cases WHERE state = 'queued'")
                .fetch_one(a.state.pool())
                .await?;
        anyhow::ensure!(
            delivered <= 1 && queued == 0,
            "the warm-up package was not delivered"
        );
        one_ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    one_ms.sort_by(f64::total_cmp);
    let body_bytes: i64 =
        sqlx::query_scalar("SELECT MAX(LENGTH(package_sealed)) FROM cross_case_packages")
            .fetch_one(a.state.pool())
            .await?;

    // Queue `count` packages with region A's node stopped (its delivery job with it), then
    // start it again and time their delivery.
    a.halt().await;
    let queued = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..count {
        while tasks.len() >= 16 {
            tasks.join_next().await.context("apply")???;
        }
        tasks.spawn(apply(1000 + n));
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let queue_seconds = queued.elapsed().as_secs_f64();
    a.serve().await?;
    let started = Instant::now();
    // The node's own delivery job runs beside these rounds, as it does in service; the run
    // ends when nothing waits.
    loop {
        let round = tongban_app::crossregion::outbox::deliver_due(&a.state)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let queued: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM cross_cases WHERE state = 'queued'")
                .fetch_one(a.state.pool())
                .await?;
        if queued == 0 {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "packages still waiting after ten minutes"
        );
        if round == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let retried: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cross_outbox WHERE attempts > 1")
        .fetch_one(a.state.pool())
        .await?;
    let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cross_cases WHERE side = 'received'")
        .fetch_one(b.state.pool())
        .await?;
    anyhow::ensure!(
        taken == (count + 20) as i64,
        "{taken} cases in B of {} sent",
        count + 20
    );
    let still: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cross_cases WHERE state = 'queued'")
        .fetch_one(a.state.pool())
        .await?;
    anyhow::ensure!(still == 0, "{still} cases still queued in A");

    // The floor: the same bodies over plain HTTP, as many at once as the outbox sends.
    let sink = sink().await?;
    let body: Vec<u8> = vec![b'x'; body_bytes as usize];
    let plain_started = Instant::now();
    let mut posts = tokio::task::JoinSet::new();
    for _ in 0..count {
        while posts.len() >= 32 {
            posts.join_next().await.context("post")???;
        }
        let (client, url, body) = (client.clone(), format!("{sink}/packages"), body.clone());
        posts.spawn(async move {
            let response = client.post(url).body(body).send().await?;
            anyhow::ensure!(response.status().is_success(), "the sink refused");
            Ok::<_, anyhow::Error>(())
        });
    }
    while let Some(done) = posts.join_next().await {
        done??;
    }
    let plain_seconds = plain_started.elapsed().as_secs_f64();

    let rate = count as f64 / seconds.max(1e-9);
    let plain_rate = count as f64 / plain_seconds.max(1e-9);
    let result = json!({
        "bench": "cross-region",
        "engine": "sqlite",
        "machine": crate::bench::machine(),
        "profile": a.state.config.profile.as_str(),
        "material_kib": material_kib,
        "package_bytes": body_bytes,
        "applications": count,
        "queued_per_second": count as f64 / queue_seconds.max(1e-9),
        "transferred_and_acknowledged": {"seconds": seconds, "per_second": rate,
            "sent_again_after_a_failed_attempt": retried},
        "one_at_a_time_ms": {"p50": one_ms[one_ms.len() / 2], "max": one_ms[one_ms.len() - 1]},
        "plain_http_per_second": plain_rate,
        "to_plain_http": rate / plain_rate.max(1e-9),
    });
    for mut node in [a, b] {
        node.halt().await;
        node.state.db.close().await;
        let _ = std::fs::remove_dir_all(&node.scratch);
    }
    Ok(result)
}
