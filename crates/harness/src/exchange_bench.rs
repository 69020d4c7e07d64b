//! `tongban bench exchange`: exchanges through the data-sharing gateway against a provider on
//! the same machine, beside calls to that provider directly, in the same run. Every gateway
//! exchange is authenticated, checked against its grant, filtered item by item, signed by both
//! departments' keys and written to the transparency log and the message index before it is
//! answered; the run counts the log rows afterwards to show none was skipped.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};
use tongban_app::config::Config;
use tongban_core::SystemClock;

/// One phase: latencies of the successful calls, failures, wall time.
struct Phase {
    latencies_us: Vec<u64>,
    errors: u64,
    seconds: f64,
}

impl Phase {
    fn percentile_ms(&self, p: f64) -> f64 {
        let n = self.latencies_us.len();
        if n == 0 {
            return f64::NAN;
        }
        self.latencies_us[((n as f64 * p) as usize).min(n - 1)] as f64 / 1000.0
    }

    fn summary(&self) -> Value {
        json!({
            "calls": self.latencies_us.len(),
            "errors": self.errors,
            "seconds": self.seconds,
            "per_second": self.latencies_us.len() as f64 / self.seconds.max(1e-9),
            "latency_ms": {"p50": self.percentile_ms(0.5), "p90": self.percentile_ms(0.9), "p99": self.percentile_ms(0.99)},
        })
    }
}

/// Sends `count` GETs to `url` on `connections` connections with `headers`.
async fn drive(
    client: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    count: usize,
    connections: usize,
) -> anyhow::Result<Phase> {
    let next = Arc::new(AtomicUsize::new(0));
    let headers = Arc::new(headers.to_vec());
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..connections.max(1) {
        let (client, url, headers, next) = (
            client.clone(),
            url.to_owned(),
            headers.clone(),
            next.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while next.fetch_add(1, Ordering::Relaxed) < count {
                let mut request = client.get(&url);
                for (name, value) in headers.iter() {
                    request = request.header(name.as_str(), value.as_str());
                }
                let sent = Instant::now();
                match request.send().await {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        latencies.push(sent.elapsed().as_micros() as u64);
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut phase = Phase {
        latencies_us: Vec::with_capacity(count),
        errors: 0,
        seconds: 0.0,
    };
    for worker in workers {
        let (latencies, errors) = worker.await?;
        phase.latencies_us.extend(latencies);
        phase.errors += errors;
    }
    phase.seconds = started.elapsed().as_secs_f64();
    phase.latencies_us.sort_unstable();
    Ok(phase)
}

/// The provider: a department's licence register, answering a record of four items.
async fn provider() -> anyhow::Result<String> {
    use axum::routing::get;
    let router = axum::Router::new().route(
        "/licences/{no}",
        get(
            |axum::extract::Path(no): axum::extract::Path<String>| async move {
                axum::Json(json!({
                    "licence_no": no,
                    "holder": "临江清源食品有限公司",
                    "valid_until": "2029-06-30",
                    "inspector": "内部字段",
                }))
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(address)
}

pub async fn exchange(
    count: usize,
    connections: usize,
    sequential: usize,
    database_url: Option<String>,
) -> anyhow::Result<Value> {
    let scratch =
        std::env::temp_dir().join(format!("tongban-bench-exchange-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let engine = if database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let config = Config {
        data_dir: scratch.clone(),
        bind: "127.0.0.1:0".parse()?,
        database_url: Some(database_url.unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", scratch.join("bench.db").display())
        })),
        master_key: Some(tongban_app::config::SecretText(
            tongban_app::keys::master::generate_text().to_string(),
        )),
        region_code: "339900".into(),
        max_concurrent_requests: 100_000,
        ..Config::default()
    };
    let state = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
    let app = tongban_app::Application::build(state.clone()).await?;
    let base = format!("http://{}", app.local_addr()?);
    let credentials = tongban_app::demo::seed(&state, &base)
        .await
        .map_err(|e| anyhow::anyhow!("seeding: {e}"))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let token_of = |username: &str| {
        credentials
            .accounts
            .iter()
            .find(|a| a.username == username)
            .map(|a| a.api_token.clone())
            .context("a demo account")
    };
    let actor = |token: String| {
        let state = state.clone();
        async move {
            tongban_app::identity::service::actor_from_token(&state, &token)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .context("the demo account's token")
        }
    };
    let owner = actor(token_of("demo.deptadmin.market")?).await?;
    let consumer_token = token_of("demo.deptadmin")?;
    let consumer = actor(consumer_token.clone()).await?;
    let provider_url = provider().await?;
    let resource = serde_json::from_value(json!({
        "name": "食品经营许可信息",
        "description": "食品经营许可证的编号、主体与有效期。",
        "share_type": "unconditional",
        "open_type": "unconditional",
        "update_cycle": "daily",
        "format": "api",
        "service": provider_url,
        "items": [
            {"code": "licence_no", "name": "许可证编号", "kind": "string"},
            {"code": "holder", "name": "经营者名称", "kind": "string"},
            {"code": "valid_until", "name": "有效期至", "kind": "date"},
            {"code": "inspector", "name": "检查员", "kind": "string"},
        ],
    }))?;
    tongban_app::catalogue::service::save(&state, &owner, "SJ-SPXK-BENCH", resource)
        .await
        .map_err(|e| anyhow::anyhow!("saving the resource: {e}"))?;
    let until = tongban_core::zone::ymd(state.today() + time::Duration::days(30));
    tongban_app::catalogue::service::ask(
        &state,
        &consumer,
        serde_json::from_value(json!({
            "resource": "SJ-SPXK-BENCH",
            "items": ["licence_no", "holder", "valid_until"],
            "purpose": "食品经营许可核验",
            "legal_basis": "《食品安全法》",
            "until": until,
        }))?,
    )
    .await
    .map_err(|e| anyhow::anyhow!("asking for the grant: {e}"))?;
    let departments = tongban_app::admin::store::departments(state.pool()).await?;
    let uscc = |kind: &str| {
        departments
            .iter()
            .find(|d| d.kind == kind && d.region_code.as_str() == "339900")
            .and_then(|d| d.uscc.clone())
            .context("a city department")
    };
    let client_id = format!("CN/GOV/{}/CASES", uscc("government_services")?);
    let gateway_url = format!(
        "{base}/r1/CN/GOV/{}/DATA/SJ-SPXK-BENCH/licences/JY13399000001",
        uscc("market_regulation")?
    );
    let direct_url = format!("{provider_url}/licences/JY13399000001");
    let gateway_headers = vec![
        (
            "authorization".to_owned(),
            format!("Bearer {consumer_token}"),
        ),
        ("x-road-client".to_owned(), client_id),
        ("accept".to_owned(), "application/json".to_owned()),
    ];
    let direct_headers = vec![("accept".to_owned(), "application/json".to_owned())];
    let client = tongban_app::outbound::plain()
        .pool_max_idle_per_host(connections.max(1))
        .tcp_nodelay(true)
        .build()?;

    // Check once that the gateway filters, then warm both paths up.
    let sample: Value = {
        let mut request = client.get(&gateway_url);
        for (name, value) in &gateway_headers {
            request = request.header(name.as_str(), value.as_str());
        }
        request.send().await?.json().await?
    };
    anyhow::ensure!(
        sample.get("inspector").is_none() && sample.get("holder").is_some(),
        "the gateway did not filter: {sample}"
    );
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM exchange_messages")
        .fetch_one(state.pool())
        .await?;
    drive(&client, &direct_url, &direct_headers, 2000, connections).await?;
    drive(&client, &gateway_url, &gateway_headers, 2000, connections).await?;

    // Latency one call at a time, then throughput with many connections, each path in turn.
    let direct_one = drive(&client, &direct_url, &direct_headers, sequential, 1).await?;
    let gateway_one = drive(&client, &gateway_url, &gateway_headers, sequential, 1).await?;
    let direct = drive(&client, &direct_url, &direct_headers, count, connections).await?;
    let gateway = drive(&client, &gateway_url, &gateway_headers, count, connections).await?;

    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM exchange_messages")
        .fetch_one(state.pool())
        .await?;
    let logged = after - before;
    let expected = (2000 + sequential + count) as i64;
    anyhow::ensure!(
        gateway.errors == 0 && gateway_one.errors == 0,
        "gateway calls failed: {} + {}",
        gateway.errors,
        gateway_one.errors
    );
    anyhow::ensure!(
        logged == expected,
        "{logged} exchanges logged of {expected}"
    );
    let _ = stop.send(());
    tokio::time::sleep(Duration::from_millis(100)).await;
    state.db.close().await;
    let _ = std::fs::remove_dir_all(&scratch);
    let added_p50 = gateway_one.percentile_ms(0.5) - direct_one.percentile_ms(0.5);
    let direct_rate = direct.latencies_us.len() as f64 / direct.seconds.max(1e-9);
    let gateway_rate = gateway.latencies_us.len() as f64 / gateway.seconds.max(1e-9);
    Ok(json!({
        "bench": "exchange",
        "engine": engine,
        "machine": crate::bench::machine(),
        "profile": state.config.profile.as_str(),
        "sequential": {"direct": direct_one.summary(), "gateway": gateway_one.summary(),
                       "added_p50_ms": added_p50},
        "concurrent": {"connections": connections, "direct": direct.summary(), "gateway": gateway.summary(),
                       "gateway_to_direct": gateway_rate / direct_rate.max(1e-9)},
        "signed_and_logged_exchanges": logged,
    }))
}
