//! `tongban chaos soak`: one node under steady mixed load for a long time — holders reading
//! their pass, the metro's door scanning them (a repeat within the minute folds into the same
//! visit, later ones are new visits), an applicant applying with an upload, an official
//! issuing certificates, checkpoints asked for — with the node's resident memory read from
//! `/proc` every ten seconds. It checks that no answer was anything but success, and reports
//! the memory over time and how much it grew after the first tenth of the run (the warm-up:
//! caches filling, pools opening).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::bench::SplitMix;
use crate::chaos::{self, CrashRun};

/// What a soak drives, and for how long.
pub struct SoakRun {
    pub node: CrashRun,
    pub duration: Duration,
    /// Pause after each request of a worker, so that the load is steady rather than the most
    /// the machine can take (the overload bench measures that).
    pub pause: Duration,
}

/// The answers one worker saw, by what it asked.
#[derive(Default)]
struct Tally {
    ok: u64,
    failed: Vec<String>,
    latencies_us: Vec<u64>,
}

impl Tally {
    /// Sends a request and records its answer; the body of a success (`null` when it is not
    /// JSON).
    async fn call(&mut self, what: &str, request: reqwest::RequestBuilder) -> Option<Value> {
        let started = Instant::now();
        match request.send().await {
            Ok(response) if response.status().is_success() => {
                self.ok += 1;
                self.latencies_us
                    .push(started.elapsed().as_micros().min(u64::MAX as u128) as u64);
                Some(response.json().await.unwrap_or(Value::Null))
            }
            Ok(response) => {
                self.failed
                    .push(format!("{what}: {}", response.status().as_u16()));
                None
            }
            Err(error) => {
                self.failed.push(format!("{what}: {error}"));
                None
            }
        }
    }
}

/// Resident memory of a process in KiB, from `/proc/<pid>/status`.
fn rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

pub async fn soak(run: SoakRun) -> anyhow::Result<Value> {
    std::fs::create_dir_all(&run.node.data_dir)?;
    let client = tongban_app::outbound::plain()
        .pool_max_idle_per_host(run.node.connections)
        .timeout(Duration::from_secs(10))
        .build()?;
    let node = chaos::start(&run.node, &client).await?;
    let pid = node.pid();
    let holders = Arc::new(crate::load::load_tokens(&node.demo));
    anyhow::ensure!(!holders.is_empty(), "the node seeded no load holders");
    let door = node.token(chaos::DOOR)?;
    let applicant = node.token(chaos::APPLICANT)?;
    let issuer = node.token(chaos::ISSUER)?;
    let licence = Arc::new(chaos::licence_request(&node, &client).await?);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..run.node.connections.max(2) {
        let (client, base, holders, stop) = (
            client.clone(),
            node.base.clone(),
            holders.clone(),
            stop.clone(),
        );
        let (door, applicant, issuer, licence) = (
            door.clone(),
            applicant.clone(),
            issuer.clone(),
            licence.clone(),
        );
        let pause = run.pause;
        let mut random = SplitMix(run.node.seed ^ (worker as u64).wrapping_mul(0x9e37_79b9));
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while !stop.load(Ordering::Relaxed) {
                let holder = &holders[random.below(holders.len() as u64) as usize];
                let pass = || {
                    client
                        .get(format!("{base}/api/v1/pass/me"))
                        .bearer_auth(holder)
                };
                match (worker, random.below(10)) {
                    (0, _) => {
                        let upload = client
                            .post(format!("{base}/api/v1/uploads"))
                            .bearer_auth(&applicant)
                            .header("content-type", "application/octet-stream")
                            .body(chaos::PNG.to_vec());
                        if let Some(upload) = tally.call("POST /api/v1/uploads", upload).await {
                            let body = json!({
                                "form": chaos::application_form(),
                                "uploads": {"经营场所使用证明": upload["id"]},
                                "use_certificates": true,
                            });
                            let apply = client
                                .post(format!(
                                    "{base}/api/v1/services/{}/applications",
                                    chaos::ITEM
                                ))
                                .bearer_auth(&applicant)
                                .json(&body);
                            tally.call("POST …/applications", apply).await;
                        }
                    }
                    (1, _) => {
                        let issue = client
                            .post(format!("{base}/api/v1/certs"))
                            .bearer_auth(&issuer)
                            .json(licence.as_ref());
                        tally.call("POST /api/v1/certs", issue).await;
                    }
                    // A door scan: repeats within the minute fold into the visit, later
                    // ones are new visits; either is a success.
                    (_, 0..=3) => {
                        if let Some(pass) = tally.call("GET /api/v1/pass/me", pass()).await {
                            let scan = client
                                .post(format!("{base}/api/v1/pass/verify"))
                                .bearer_auth(&door)
                                .json(&json!({ "code": pass["code"] }));
                            tally.call("POST /api/v1/pass/verify", scan).await;
                        }
                    }
                    (_, 4) => {
                        let checkpoint = client.get(format!("{base}/api/v1/ledger/checkpoint"));
                        tally
                            .call("GET /api/v1/ledger/checkpoint", checkpoint)
                            .await;
                    }
                    _ => {
                        tally.call("GET /api/v1/pass/me", pass()).await;
                    }
                }
                tokio::time::sleep(pause).await;
            }
            tally
        }));
    }

    // Memory every ten seconds while the load runs.
    let mut samples: Vec<(f64, u64)> = Vec::new();
    while started.elapsed() < run.duration {
        if let Some(kib) = rss_kib(pid) {
            samples.push((started.elapsed().as_secs_f64(), kib));
        }
        tokio::time::sleep(Duration::from_secs(10).min(run.duration)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut tally = Tally::default();
    for worker in workers {
        let t = worker.await?;
        tally.ok += t.ok;
        tally.failed.extend(t.failed);
        tally.latencies_us.extend(t.latencies_us);
    }
    if let Some(kib) = rss_kib(pid) {
        samples.push((started.elapsed().as_secs_f64(), kib));
    }
    let ready = client
        .get(format!("{}/readyz", node.base))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    node.kill()?;

    tally.latencies_us.sort_unstable();
    let percentile = |p: f64| {
        let n = tally.latencies_us.len();
        (n > 0).then(|| tally.latencies_us[((n as f64 * p) as usize).min(n - 1)] as f64 / 1000.0)
    };
    let seconds = started.elapsed().as_secs_f64();
    let warm = run.duration.as_secs_f64() / 10.0;
    let after_warm_up: Vec<u64> = samples
        .iter()
        .filter(|(at, _)| *at >= warm)
        .map(|(_, kib)| *kib)
        .collect();
    let mib = |kib: u64| (kib as f64 / 1024.0 * 10.0).round() / 10.0;
    let growth = match (after_warm_up.first(), after_warm_up.last()) {
        (Some(first), Some(last)) => Some(mib(last.saturating_sub(*first))),
        _ => None,
    };
    let mut failed = Vec::new();
    if !tally.failed.is_empty() {
        failed.push(format!(
            "{} answers were not a success: {:?}",
            tally.failed.len(),
            &tally.failed[..tally.failed.len().min(10)]
        ));
    }
    if !ready {
        failed.push("the node was not ready at the end".to_owned());
    }
    if tally.ok == 0 {
        failed.push("no request succeeded".to_owned());
    }
    let summary = json!({
        "benchmark": "chaos-soak",
        "engine": if run.node.database_url.is_some() { "postgres" } else { "sqlite" },
        "seconds": seconds,
        "connections": run.node.connections,
        "pause_ms": run.pause.as_millis() as u64,
        "answered": tally.ok,
        "per_second": tally.ok as f64 / seconds.max(1e-9),
        "latency_ms": {"p50": percentile(0.5), "p99": percentile(0.99), "max": percentile(1.0)},
        "not_success": tally.failed.len(),
        "rss_mib": {
            "first": samples.first().map(|s| mib(s.1)),
            "at_end_of_warm_up": after_warm_up.first().map(|k| mib(*k)),
            "last": samples.last().map(|s| mib(s.1)),
            "max": samples.iter().map(|s| s.1).max().map(mib),
            "growth_after_warm_up": growth,
        },
        "rss_mib_every_minute": samples
            .iter()
            .step_by(6)
            .map(|(at, kib)| json!([(*at / 60.0 * 10.0).round() / 10.0, mib(*kib)]))
            .collect::<Vec<_>>(),
        "failed": failed,
        "machine": crate::bench::machine(),
    });
    if !failed.is_empty() {
        anyhow::bail!(
            "the soak failed: {}\n{}",
            failed.join("; "),
            serde_json::to_string_pretty(&summary)?
        );
    }
    Ok(summary)
}
