//! `tongban bench overload`: the pass path driven past its capacity at a fixed rate, with a
//! login flood and a search flood at the same time.
//!
//! First the pass path's capacity is measured (closed loop, as `bench pass-http`'s steady
//! state). Then requests are sent at `factor` times that rate, open loop — each at its moment
//! whether or not earlier ones were answered, as people arriving at gates do — while other
//! clients hammer the login and the service search. What counts: the latency of the pass
//! requests admitted, that the rest are refused at once with 503 and `Retry-After`, that no
//! answer is any other error, and that the floods do not take the pass path's capacity.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

/// Most pass requests in flight from this generator; past it a request is counted as not sent
/// (the generator, not the node, would be the limit).
const MAX_IN_FLIGHT: usize = 16_384;

#[derive(Default)]
struct Outcomes {
    admitted_us: Vec<u64>,
    shed_us: Vec<u64>,
    shed_without_retry_after: u64,
    other: std::collections::BTreeMap<String, u64>,
}

fn percentile(sorted: &[u64], p: f64) -> Option<f64> {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .map(|us| *us as f64 / 1000.0)
}

/// A closed-loop flood of one request shape until `stop`; the statuses it got.
fn flood(
    client: &reqwest::Client,
    connections: usize,
    stop: &Arc<AtomicBool>,
    make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync + Clone + 'static,
) -> Vec<tokio::task::JoinHandle<std::collections::BTreeMap<u16, u64>>> {
    (0..connections)
        .map(|_| {
            let (client, stop, make) = (client.clone(), stop.clone(), make.clone());
            tokio::spawn(async move {
                let mut statuses = std::collections::BTreeMap::new();
                while !stop.load(Ordering::Relaxed) {
                    let status = match make(&client).send().await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let _ = response.bytes().await;
                            status
                        }
                        Err(_) => 0,
                    };
                    *statuses.entry(status).or_insert(0) += 1;
                }
                statuses
            })
        })
        .collect()
}

async fn totals(
    workers: Vec<tokio::task::JoinHandle<std::collections::BTreeMap<u16, u64>>>,
    seconds: f64,
) -> anyhow::Result<Value> {
    let mut all = std::collections::BTreeMap::<u16, u64>::new();
    for worker in workers {
        for (status, n) in worker.await? {
            *all.entry(status).or_insert(0) += n;
        }
    }
    let total: u64 = all.values().sum();
    Ok(json!({
        "requests": total,
        "per_second": total as f64 / seconds.max(1e-9),
        "statuses": all.iter().map(|(s, n)| (if *s == 0 { "connection_error".to_owned() } else { s.to_string() }, *n)).collect::<std::collections::BTreeMap<_, _>>(),
    }))
}

/// The node's own latency histogram of `GET /api/v1/pass/me` (admitted requests only: shed
/// ones never reach it), as cumulative counts by upper bound in seconds.
async fn pass_histogram(client: &reqwest::Client, base: &str) -> anyhow::Result<Vec<(f64, u64)>> {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let mut buckets = Vec::new();
    for line in text.lines() {
        if !line.starts_with("tongban_http_request_duration_seconds_bucket")
            || !line.contains("route=\"/api/v1/pass/me\"")
            || !line.contains("method=\"GET\"")
        {
            continue;
        }
        let le = line
            .split("le=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .context("a bucket without le")?;
        let bound = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse()?
        };
        let count = line
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse::<f64>().ok())
            .context("a bucket without a count")? as u64;
        buckets.push((bound, count));
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(buckets)
}

/// The upper bound (ms) of the bucket holding the `p` quantile of what was added between two
/// readings of the histogram.
fn bucket_quantile(before: &[(f64, u64)], after: &[(f64, u64)], p: f64) -> Option<f64> {
    let added: Vec<(f64, u64)> = after
        .iter()
        .map(|(bound, n)| {
            let was = before
                .iter()
                .find(|(b, _)| b == bound)
                .map_or(0, |(_, n)| *n);
            (*bound, n.saturating_sub(was))
        })
        .collect();
    let total = added.last()?.1;
    let wanted = (total as f64 * p).ceil() as u64;
    added
        .iter()
        .find(|(_, n)| *n >= wanted.max(1))
        .map(|(bound, _)| bound * 1000.0)
}

/// The overload run against a demo node with load holders.
pub async fn overload(
    credentials: &std::path::Path,
    base_url: Option<&str>,
    duration: &str,
    factor: f64,
    flood_connections: usize,
) -> anyhow::Result<Value> {
    let seconds = crate::load::seconds(duration)?;
    let (demo, base) = crate::load::demo_target(credentials, base_url)?;
    let tokens = Arc::new(crate::load::load_tokens(&demo));
    anyhow::ensure!(
        !tokens.is_empty(),
        "no load holders (`tongban demo --load-holders N`)"
    );
    let client = tongban_app::outbound::plain()
        .pool_max_idle_per_host(4096)
        .timeout(Duration::from_secs(30))
        .build()?;

    // Capacity: the steady state, closed loop (every holder read once first).
    let capacity = crate::load::pass_http(credentials, "10s", 64, base_url).await?;
    let capacity_rps = capacity["steady"]["requests_per_second"]
        .as_f64()
        .context("no steady rate")?;
    let rate = capacity_rps * factor;

    let histogram_before = pass_histogram(&client, &base).await?;

    // The floods.
    let stop = Arc::new(AtomicBool::new(false));
    let login_url = format!("{base}/api/v1/auth/login");
    let logins = flood(&client, flood_connections, &stop, move |c| {
        c.post(&login_url)
            .json(&json!({"username": "citizen.zhangwei", "password": "not-the-password"}))
    });
    let search_url = format!("{base}/api/v1/services?q=营业执照");
    let searches = flood(&client, flood_connections, &stop, move |c| {
        c.get(&search_url)
    });

    // The pass path at `rate`, open loop.
    let outcomes = Arc::new(std::sync::Mutex::new(Outcomes::default()));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let (mut sent, mut not_sent) = (0u64, 0u64);
    let mut tasks = tokio::task::JoinSet::new();
    let pass_url = Arc::new(format!("{base}/api/v1/pass/me"));
    while Instant::now() < until {
        let due = (started.elapsed().as_secs_f64() * rate) as u64;
        while sent + not_sent < due {
            let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                not_sent += 1;
                continue;
            };
            let token = tokens[(sent as usize) % tokens.len()].clone();
            let (client, url, outcomes) = (client.clone(), pass_url.clone(), outcomes.clone());
            sent += 1;
            tasks.spawn(async move {
                let _permit = permit;
                let at = Instant::now();
                let answer = client.get(url.as_str()).bearer_auth(token).send().await;
                let took = at.elapsed().as_micros() as u64;
                let mut outcomes = outcomes.lock().unwrap_or_else(|p| p.into_inner());
                match answer {
                    Ok(response) if response.status().is_success() => {
                        outcomes.admitted_us.push(took)
                    }
                    Ok(response) if response.status() == 503 => {
                        if !response.headers().contains_key("retry-after") {
                            outcomes.shed_without_retry_after += 1;
                        }
                        outcomes.shed_us.push(took);
                    }
                    Ok(response) => {
                        *outcomes
                            .other
                            .entry(response.status().as_u16().to_string())
                            .or_insert(0) += 1
                    }
                    Err(error) => {
                        let kind = if error.is_timeout() {
                            "timeout"
                        } else {
                            "connection_error"
                        };
                        *outcomes.other.entry(kind.to_owned()).or_insert(0) += 1
                    }
                }
            });
        }
        // Reap what finished; then wait for the next millisecond's requests.
        while tasks.try_join_next().is_some() {}
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let offered_seconds = started.elapsed().as_secs_f64();
    while tasks.join_next().await.is_some() {}
    stop.store(true, Ordering::Relaxed);
    let (logins, searches) = (
        totals(logins, offered_seconds).await?,
        totals(searches, offered_seconds).await?,
    );

    let histogram_after = pass_histogram(&client, &base).await?;
    let node_side = json!({
        "admitted": histogram_after.last().map(|b| b.1).unwrap_or(0)
            .saturating_sub(histogram_before.last().map(|b| b.1).unwrap_or(0)),
        "p50_at_most_ms": bucket_quantile(&histogram_before, &histogram_after, 0.50),
        "p99_at_most_ms": bucket_quantile(&histogram_before, &histogram_after, 0.99),
    });
    let mut outcomes = std::mem::take(&mut *outcomes.lock().unwrap_or_else(|p| p.into_inner()));
    outcomes.admitted_us.sort_unstable();
    outcomes.shed_us.sort_unstable();
    let admitted = outcomes.admitted_us.len() as u64;
    Ok(json!({
        "benchmark": "overload",
        "base_url": base,
        "capacity_closed_loop": capacity["steady"],
        "offered_rate_per_second": rate,
        "factor": factor,
        "seconds": offered_seconds,
        "pass": {
            "sent": sent,
            "not_sent_generator_full": not_sent,
            "admitted": admitted,
            "admitted_per_second": admitted as f64 / offered_seconds.max(1e-9),
            "admitted_latency_ms": {"p50": percentile(&outcomes.admitted_us, 0.50), "p99": percentile(&outcomes.admitted_us, 0.99), "max": outcomes.admitted_us.last().map(|us| *us as f64 / 1000.0)},
            "shed_503": outcomes.shed_us.len(),
            "shed_latency_ms": {"p50": percentile(&outcomes.shed_us, 0.50), "p99": percentile(&outcomes.shed_us, 0.99)},
            "shed_without_retry_after": outcomes.shed_without_retry_after,
            // Measured by the node from admission to answer: what the generator's own
            // scheduling on the same cores adds is not in it.
            "admitted_latency_in_the_node": node_side,
            "other_answers": outcomes.other,
        },
        "login_flood": logins,
        "search_flood": searches,
        "machine": crate::bench::machine(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quantile_comes_from_the_buckets_added_between_two_readings() {
        let before = [(0.001, 10), (0.002, 10), (f64::INFINITY, 10)];
        let after = [(0.001, 60), (0.002, 109), (f64::INFINITY, 110)];
        // 100 added: 50 within 1 ms, 99 within 2 ms, one beyond.
        assert_eq!(bucket_quantile(&before, &after, 0.50), Some(1.0));
        assert_eq!(bucket_quantile(&before, &after, 0.99), Some(2.0));
        assert_eq!(bucket_quantile(&before, &after, 1.0), Some(f64::INFINITY));
    }
}
