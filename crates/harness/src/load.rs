//! The HTTP load generator of `tongban bench pass-http`: many connections against a running
//! server, latency percentiles per phase.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;

/// What one phase of the load generator saw.
#[derive(Default)]
struct Phase {
    latencies_us: Vec<u64>,
    errors: u64,
    shed: u64,
    seconds: f64,
}

impl Phase {
    fn summary(mut self) -> serde_json::Value {
        self.latencies_us.sort_unstable();
        let latencies = &self.latencies_us;
        let percentile = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
                .map(|us| *us as f64 / 1000.0)
        };
        serde_json::json!({
            "seconds": self.seconds,
            "requests_ok": latencies.len(),
            "requests_shed": self.shed,
            "errors": self.errors,
            "requests_per_second": latencies.len() as f64 / self.seconds.max(1e-9),
            "latency_ms": {"p50": percentile(0.50), "p90": percentile(0.90), "p99": percentile(0.99), "max": latencies.last().map(|us| *us as f64 / 1000.0)},
        })
    }
}

/// Sends GET `url` on `connections` connections, each request with the next of `tokens` (if
/// any), until `until` passes or, with `once`, until every token was used once.
async fn drive(
    client: &reqwest::Client,
    url: &str,
    tokens: &Arc<Vec<String>>,
    connections: usize,
    until: std::time::Instant,
    once: bool,
) -> anyhow::Result<Phase> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = std::time::Instant::now();
    let mut workers = Vec::new();
    for _ in 0..connections.max(1) {
        let (client, url, tokens, next) =
            (client.clone(), url.to_owned(), tokens.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut phase = Phase::default();
            while std::time::Instant::now() < until {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if once && n >= tokens.len() {
                    break;
                }
                let mut request = client.get(&url);
                if !tokens.is_empty() {
                    request = request.bearer_auth(&tokens[n % tokens.len()]);
                }
                let sent = std::time::Instant::now();
                match request.send().await {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        phase.latencies_us.push(sent.elapsed().as_micros() as u64);
                    }
                    Ok(response) if response.status() == 503 => phase.shed += 1,
                    _ => phase.errors += 1,
                }
            }
            phase
        }));
    }
    let mut all = Phase::default();
    for worker in workers {
        let phase = worker.await?;
        all.latencies_us.extend(phase.latencies_us);
        all.errors += phase.errors;
        all.shed += phase.shed;
    }
    all.seconds = started.elapsed().as_secs_f64();
    Ok(all)
}

/// A `--duration` such as `20s`, in seconds.
pub fn seconds(duration: &str) -> anyhow::Result<u64> {
    duration
        .trim_end_matches('s')
        .parse()
        .context("--duration is a number of seconds, like 20s")
}

/// The demo's credentials file, and the address to drive: `base_url` when given (a balancer in
/// front of several nodes), else the one the demo was served at.
pub fn demo_target(
    credentials: &std::path::Path,
    base_url: Option<&str>,
) -> anyhow::Result<(serde_json::Value, String)> {
    let text = std::fs::read_to_string(credentials)
        .with_context(|| format!("reading {}", credentials.display()))?;
    let demo: serde_json::Value = serde_json::from_str(&text)?;
    let base_url = match base_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => demo["base_url"]
            .as_str()
            .context("no base_url in the credentials")?
            .to_owned(),
    };
    Ok((demo, base_url))
}

/// One of the demo's accounts in the credentials file.
pub(crate) fn account<'a>(
    demo: &'a serde_json::Value,
    username: &str,
) -> anyhow::Result<&'a serde_json::Value> {
    demo["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["username"] == username)
        .with_context(|| format!("no {username} in the credentials"))
}

/// The API token of one of the demo's accounts.
pub(crate) fn token(demo: &serde_json::Value, username: &str) -> anyhow::Result<String> {
    Ok(account(demo, username)?["api_token"]
        .as_str()
        .context("no api_token")?
        .to_owned())
}

/// The tokens of the synthetic holders seeded with `tongban demo --load-holders N`.
pub fn load_tokens(demo: &serde_json::Value) -> Vec<String> {
    demo["load_tokens"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect()
}

/// The load generator of `tongban bench pass-http`: the HTTP floor of the same server
/// (`/healthz`), then every holder's first pass (read from the database), then the steady
/// state for `duration`, each request for the next holder in turn.
pub async fn pass_http(
    credentials: &std::path::Path,
    duration: &str,
    connections: usize,
    base_url: Option<&str>,
) -> anyhow::Result<serde_json::Value> {
    let seconds = seconds(duration)?;
    let (demo, base_url) = demo_target(credentials, base_url)?;
    let mut tokens = load_tokens(&demo);
    if tokens.is_empty() {
        tokens = demo["accounts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["role"] == "citizen")
            .filter_map(|a| a["api_token"].as_str().map(str::to_owned))
            .collect();
    }
    anyhow::ensure!(!tokens.is_empty(), "no citizen tokens in the credentials");
    let holders = tokens.len();
    let tokens = Arc::new(tokens);
    let client = tongban_app::outbound::plain()
        .pool_max_idle_per_host(connections)
        .build()?;
    let seconds_from_now = |s: u64| std::time::Instant::now() + std::time::Duration::from_secs(s);
    let floor = drive(
        &client,
        &format!("{base_url}/healthz"),
        &Arc::new(Vec::new()),
        connections,
        seconds_from_now(5),
        false,
    )
    .await?;
    let pass_url = format!("{base_url}/api/v1/pass/me");
    let first = drive(
        &client,
        &pass_url,
        &tokens,
        connections,
        seconds_from_now(600),
        true,
    )
    .await?;
    let steady = drive(
        &client,
        &pass_url,
        &tokens,
        connections,
        seconds_from_now(seconds),
        false,
    )
    .await?;
    let (floor, first, steady) = (floor.summary(), first.summary(), steady.summary());
    let ratio = steady["requests_per_second"].as_f64().unwrap_or(0.0)
        / floor["requests_per_second"]
            .as_f64()
            .unwrap_or(1.0)
            .max(1e-9);
    Ok(serde_json::json!({
        "benchmark": "pass-http",
        "base_url": base_url,
        "connections": connections,
        "holders": holders,
        "http_floor_healthz": floor,
        "first_pass_per_holder": first,
        "steady": steady,
        "steady_to_floor_ratio": ratio,
        "machine": crate::bench::machine(),
    }))
}

/// `tongban bench checkins-http`: the door of a recording venue (the metro's) scans the
/// holders `from..from + count`, each once, so that every scan is a new visit to store. Their
/// codes are fetched first (untimed, through the same address); then the scans are timed.
/// Each holder once keeps folding out of the figure: a repeat within a minute is not stored.
pub async fn checkins_http(
    credentials: &std::path::Path,
    base_url: Option<&str>,
    connections: usize,
    from: usize,
    count: Option<usize>,
) -> anyhow::Result<serde_json::Value> {
    let (demo, base_url) = demo_target(credentials, base_url)?;
    let tokens = load_tokens(&demo);
    let until = count.map_or(tokens.len(), |count| from + count);
    anyhow::ensure!(
        from < until && until <= tokens.len(),
        "holders {from}..{until} asked for, {} seeded (`tongban demo --load-holders N`)",
        tokens.len()
    );
    let holders = Arc::new(tokens[from..until].to_vec());
    let door = token(&demo, "demo.venue.metro")?;
    let client = tongban_app::outbound::plain()
        .pool_max_idle_per_host(connections)
        .timeout(std::time::Duration::from_secs(30))
        .build()?;

    // The codes the holders show, fetched on as many connections.
    let fetched = Instant::now();
    let codes = Arc::new(
        each_once(&holders, connections, {
            let (client, url) = (client.clone(), format!("{base_url}/api/v1/pass/me"));
            move |holder: String| {
                let (client, url) = (client.clone(), url.clone());
                async move {
                    let pass: serde_json::Value = client
                        .get(&url)
                        .bearer_auth(holder)
                        .send()
                        .await?
                        .error_for_status()?
                        .json()
                        .await?;
                    pass["code"]
                        .as_str()
                        .map(str::to_owned)
                        .context("a pass without a code")
                }
            }
        })
        .await?,
    );
    let fetch_seconds = fetched.elapsed().as_secs_f64();

    let started = Instant::now();
    let outcomes = each_once(&codes, connections, {
        let (client, url) = (client.clone(), format!("{base_url}/api/v1/pass/verify"));
        move |code: String| {
            let (client, url, door) = (client.clone(), url.clone(), door.clone());
            async move {
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .bearer_auth(door)
                    .json(&serde_json::json!({"code": code}))
                    .send()
                    .await?;
                let status = response.status();
                let outcome: serde_json::Value = response.json().await.unwrap_or_default();
                Ok((
                    status.as_u16(),
                    outcome["checked_in"] == true,
                    sent.elapsed(),
                ))
            }
        }
    })
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    let mut phase = Phase {
        seconds,
        ..Phase::default()
    };
    let (mut stored, mut folded) = (0u64, 0u64);
    for (status, checked_in, took) in outcomes {
        match status {
            200 => {
                phase.latencies_us.push(took.as_micros() as u64);
                if checked_in { stored += 1 } else { folded += 1 }
            }
            503 => phase.shed += 1,
            _ => phase.errors += 1,
        }
    }
    Ok(serde_json::json!({
        "benchmark": "checkins-http",
        "base_url": base_url,
        "connections": connections,
        "holders": holders.len(),
        "codes_fetched_in_seconds": fetch_seconds,
        "scans": phase.summary(),
        "checked_in": stored,
        "folded_as_repeats": folded,
        "check_ins_per_second": stored as f64 / seconds.max(1e-9),
        "machine": crate::bench::machine(),
    }))
}

/// Runs `call` once for each of `items` on `connections` workers; the answers in any order.
async fn each_once<T, F, Fut>(
    items: &Arc<Vec<String>>,
    connections: usize,
    call: F,
) -> anyhow::Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(String) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send,
{
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..connections.max(1) {
        let (items, next, call) = (items.clone(), next.clone(), call.clone());
        workers.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(item) = items.get(n) else { break };
                answers.push(call(item.clone()).await?);
            }
            anyhow::Ok(answers)
        }));
    }
    let mut all = Vec::with_capacity(items.len());
    for worker in workers {
        all.extend(worker.await??);
    }
    Ok(all)
}
