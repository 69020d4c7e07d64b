//! `tongban bench cluster`: mixed load through a load balancer in front of several nodes that
//! share one database, and the checks only many nodes can fail.
//!
//! - **Load**: holders fetch their pass and a recording door scans it (the gate's two calls),
//!   through the balancer, on many connections; every answer is counted by status.
//! - **Cache coherence**: while the load runs, a health officer changes one citizen's colour
//!   through the first node (a test result, confirmed by a second officer where the policy
//!   asks for one), and every other node is asked for that citizen's pass until it shows the
//!   new colour: the delay is measured against [`COHERENCE_BOUND`].
//! - **Run-once work**: each node's metrics count the turns of the leased jobs it ran and
//!   those another node held; every job must have run on one node only.
//!
//! It fails (an error, exit 1) when a check fails, and prints what it measured otherwise.
//!
//! `tongban bench failover` ([`failover`]) is the accounting of a database failover: holders
//! at the gate through the balancer, each holder once (so that no scan is a repeat), while the
//! script around it kills the primary and promotes the standby; every scan acknowledged must be
//! stored, and the seconds without a gate passing are reported.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use crate::load::{account, token};

/// A colour changed on one node is shown by every other node within this time: the cache
/// feed is read every second (see `tongban_app::cache`), with room for a loaded machine.
pub const COHERENCE_BOUND: Duration = Duration::from_secs(3);

/// What to drive and where.
pub struct ClusterRun {
    /// The demo's credentials file (written by the node that seeded the demo).
    pub credentials: std::path::PathBuf,
    /// The balancer's address, which the load goes through.
    pub through: String,
    /// Every node's own address (the first is where colours are changed).
    pub nodes: Vec<String>,
    pub seconds: u64,
    pub connections: usize,
    /// Colour changes timed across the nodes.
    pub rounds: usize,
}

#[derive(Default)]
struct Tally {
    statuses: BTreeMap<u16, u64>,
    failures: u64,
    gate_us: Vec<u64>,
}

/// Runs the load, the coherence rounds beside it, then reads the nodes' job metrics.
pub async fn cluster(run: ClusterRun) -> anyhow::Result<Value> {
    anyhow::ensure!(run.nodes.len() >= 2, "give at least two nodes (--nodes)");
    let (demo, _) = crate::load::demo_target(&run.credentials, Some(&run.through))?;
    let holders = crate::load::load_tokens(&demo);
    anyhow::ensure!(
        !holders.is_empty(),
        "no load holders: seed with `tongban demo --load-holders N`"
    );
    let door = token(&demo, "demo.venue.metro")?;
    let client = tongban_app::outbound::plain()
        .pool_max_idle_per_host(run.connections)
        .timeout(Duration::from_secs(30))
        .build()?;

    let until = Instant::now() + Duration::from_secs(run.seconds);
    let load = tokio::spawn(gate_load(
        client.clone(),
        run.through.clone(),
        Arc::new(holders),
        door,
        run.connections,
        until,
    ));
    let coherence = colour_rounds(&client, &demo, &run.nodes, run.rounds).await;
    let tally = load.await??;
    let coherence = coherence?;
    let leases = job_turns(&client, &run.nodes).await?;

    let mut failed = Vec::new();
    let errors: u64 = tally
        .statuses
        .iter()
        .filter(|(status, _)| **status >= 500 && **status != 503)
        .map(|(_, n)| n)
        .sum::<u64>()
        + tally.failures;
    if errors > 0 {
        failed.push(format!(
            "{errors} requests failed or answered 5xx other than 503"
        ));
    }
    if tally.gate_us.is_empty() {
        failed.push("no gate passed under load".to_owned());
    }
    let delays: Vec<f64> = coherence.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    if let Some(worst) = coherence.iter().max()
        && *worst > COHERENCE_BOUND
    {
        failed.push(format!(
            "a colour change took {worst:?} to reach another node (bound {COHERENCE_BOUND:?})"
        ));
    }
    for (job, per_node) in &leases {
        let ran_on = per_node.iter().filter(|(ran, _)| *ran > 0).count();
        if ran_on > 1 {
            failed.push(format!("{job} ran on {ran_on} nodes: {per_node:?}"));
        }
    }
    let fast_job = "push published events";
    match leases.get(fast_job) {
        Some(per_node) if per_node.iter().all(|(ran, held)| ran + held > 0) => {}
        _ => failed.push(format!(
            "every node should have taken turns at {fast_job:?}: {:?}",
            leases.get(fast_job)
        )),
    }

    let mut gate = tally.gate_us;
    gate.sort_unstable();
    let percentile = |values: &[u64], p: f64| {
        values
            .get(((values.len() as f64 * p) as usize).min(values.len().saturating_sub(1)))
            .map(|us| *us as f64 / 1000.0)
    };
    let mut sorted_delays = delays.clone();
    sorted_delays.sort_by(f64::total_cmp);
    let summary = json!({
        "benchmark": "cluster",
        "through": run.through,
        "nodes": run.nodes,
        "connections": run.connections,
        "load": {
            "seconds": run.seconds,
            "statuses": tally.statuses,
            "failures": tally.failures,
            "gates_per_second": gate.len() as f64 / run.seconds.max(1) as f64,
            "gate_ms": {"p50": percentile(&gate, 0.5), "p99": percentile(&gate, 0.99), "max": gate.last().map(|us| *us as f64 / 1000.0)},
        },
        "coherence_ms": {
            "bound": COHERENCE_BOUND.as_millis() as u64,
            "rounds": delays.len(),
            "p50": sorted_delays.get(sorted_delays.len() / 2),
            "max": sorted_delays.last(),
            "each": delays,
        },
        "job_turns_by_node": leases.iter().map(|(job, per_node)| {
            (job.clone(), per_node.iter().map(|(ran, held)| json!({"ran": ran, "elsewhere": held})).collect::<Vec<_>>())
        }).collect::<BTreeMap<_, _>>(),
        "failed": failed,
        "machine": crate::bench::machine(),
    });
    if !failed.is_empty() {
        anyhow::bail!(
            "the cluster checks failed: {}\n{}",
            failed.join("; "),
            serde_json::to_string_pretty(&summary)?
        );
    }
    Ok(summary)
}

/// Holders at the gate until `until`: each fetches its pass through the balancer and the
/// door scans the code it shows.
async fn gate_load(
    client: reqwest::Client,
    base: String,
    holders: Arc<Vec<String>>,
    door: String,
    connections: usize,
    until: Instant,
) -> anyhow::Result<Tally> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..connections.max(1) {
        let (client, base, holders, door, next) = (
            client.clone(),
            base.clone(),
            holders.clone(),
            door.clone(),
            next.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while Instant::now() < until {
                let holder = &holders[next.fetch_add(1, Ordering::Relaxed) % holders.len()];
                let started = Instant::now();
                let pass = client
                    .get(format!("{base}/api/v1/pass/me"))
                    .bearer_auth(holder)
                    .send()
                    .await;
                let Some(code) = answered(&mut tally, pass).await else {
                    continue;
                };
                let Some(code) = code["code"].as_str().map(str::to_owned) else {
                    tally.failures += 1;
                    continue;
                };
                let scanned = client
                    .post(format!("{base}/api/v1/pass/verify"))
                    .bearer_auth(&door)
                    .json(&json!({"code": code}))
                    .send()
                    .await;
                if answered(&mut tally, scanned).await.is_some() {
                    tally.gate_us.push(started.elapsed().as_micros() as u64);
                }
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for worker in workers {
        let tally = worker.await?;
        for (status, n) in tally.statuses {
            *all.statuses.entry(status).or_default() += n;
        }
        all.failures += tally.failures;
        all.gate_us.extend(tally.gate_us);
    }
    Ok(all)
}

/// Counts the answer; its JSON body when it is a success.
async fn answered(
    tally: &mut Tally,
    response: Result<reqwest::Response, reqwest::Error>,
) -> Option<Value> {
    let Ok(response) = response else {
        tally.failures += 1;
        return None;
    };
    *tally
        .statuses
        .entry(response.status().as_u16())
        .or_default() += 1;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

/// The colour of `token`'s pass on the node at `base`.
async fn colour(client: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<String> {
    let response = client
        .get(format!("{base}/api/v1/pass/me"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?;
    let pass: Value = response.json().await?;
    Ok(pass["colour"].as_str().unwrap_or_default().to_owned())
}

/// Changes one citizen's colour `rounds` times through the first node (red, then green again)
/// and times how long each other node takes to show it.
async fn colour_rounds(
    client: &reqwest::Client,
    demo: &Value,
    nodes: &[String],
    rounds: usize,
) -> anyhow::Result<Vec<Duration>> {
    let citizen = account(demo, "citizen.zhangwei")?;
    let citizen_token = citizen["api_token"].as_str().context("token")?.to_owned();
    let resident_id = citizen["resident_id"]
        .as_str()
        .context("no resident_id for citizen.zhangwei")?
        .to_owned();
    let (officer, second) = (token(demo, "demo.health")?, token(demo, "demo.health2")?);
    let (first, others) = nodes.split_first().context("no nodes")?;
    let mut delays = Vec::new();
    for round in 0..rounds {
        // Every node holds the citizen's pass in its cache before the change.
        let before = colour(client, first, &citizen_token).await?;
        for node in others {
            colour(client, node, &citizen_token).await?;
        }
        let (value, expected) = if before == "green" {
            ("positive", "red")
        } else {
            ("negative", "green")
        };
        // Facts are dated to the second: one round per second at most.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let observed_at = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
        let observed_at = observed_at
            .replace_nanosecond(0)?
            .format(&time::format_description::well_known::Rfc3339)?;
        let recorded = client
            .post(format!("{first}/api/v1/health/facts"))
            .bearer_auth(&officer)
            .json(
                &json!({"resident_id": resident_id, "kind": "test_result", "value": value,
                "observed_at": observed_at, "legal_basis": "传染病防治法 第三十一条"}),
            )
            .send()
            .await?;
        anyhow::ensure!(
            recorded.status() == 201,
            "round {round}: recording a {value} test answered {}: {}",
            recorded.status(),
            recorded.text().await.unwrap_or_default()
        );
        let recorded: Value = recorded.json().await?;
        if recorded["in_force"] == false {
            let id = recorded["id"].as_str().context("fact id")?;
            let confirmed = client
                .post(format!("{first}/api/v1/health/facts/{id}/confirm"))
                .bearer_auth(&second)
                .json(&json!({}))
                .send()
                .await?;
            anyhow::ensure!(
                confirmed.status() == 204,
                "round {round}: the second officer's confirmation answered {}",
                confirmed.status()
            );
        }
        let changed = Instant::now();
        let now_first = colour(client, first, &citizen_token).await?;
        anyhow::ensure!(
            now_first == expected,
            "round {round}: the node that made the change shows {now_first}, not {expected}"
        );
        for node in others {
            loop {
                if colour(client, node, &citizen_token).await? == expected {
                    break;
                }
                if changed.elapsed() > COHERENCE_BOUND * 4 {
                    anyhow::bail!("round {round}: {node} still shows the old colour");
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        delays.push(changed.elapsed());
    }
    Ok(delays)
}

/// Each leased job's turns on each node, in the order of `nodes`: (ran, held elsewhere).
async fn job_turns(
    client: &reqwest::Client,
    nodes: &[String],
) -> anyhow::Result<BTreeMap<String, Vec<(u64, u64)>>> {
    let mut jobs: BTreeMap<String, Vec<(u64, u64)>> = BTreeMap::new();
    for (index, node) in nodes.iter().enumerate() {
        let text = client
            .get(format!("{node}/metrics"))
            .send()
            .await?
            .error_for_status()
            .with_context(|| format!("{node}/metrics"))?
            .text()
            .await?;
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("tongban_job_turns_total{") else {
                continue;
            };
            let Some((labels, count)) = rest.split_once("} ") else {
                continue;
            };
            // job="…",turn="…" (a job's name has no quotes).
            let Some((job, turn)) = labels.rsplit_once(",turn=") else {
                continue;
            };
            let job = job.trim_start_matches("job=").trim_matches('"').to_owned();
            let turn = turn.trim_matches('"');
            let count: u64 = count.trim().parse().unwrap_or(0);
            let per_node = jobs.entry(job).or_insert_with(|| vec![(0, 0); nodes.len()]);
            match turn {
                "ran" => per_node[index].0 += count,
                "elsewhere" => per_node[index].1 += count,
                _ => {}
            }
        }
    }
    Ok(jobs)
}

/// What the failover accounting drives, and the database it counts in.
pub struct FailoverRun {
    pub credentials: std::path::PathBuf,
    pub through: String,
    /// Every node's own address: each must answer again at the end, without a restart.
    pub nodes: Vec<String>,
    /// The database as the nodes reach it (through the address that follows the primary).
    pub database_url: String,
    pub seconds: u64,
    pub connections: usize,
}

/// One gate's outcome and when it came, in milliseconds from the start.
enum Gate {
    /// The door's scan was acknowledged: a check-in stored.
    Stored(u64),
    /// The pass or the scan was refused with 503 or the connection failed: not acknowledged
    /// (the scan's outcome is unknown when it was the scan that failed).
    Unavailable { at: u64, scan_sent: bool },
    /// Any other answer: a defect.
    Wrong(u64, u16),
}

async fn checkins_stored(url: &str) -> anyhow::Result<i64> {
    let db = tongban_app::Db::connect(url, 1).await?;
    let count = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM checkin_log) + (SELECT COUNT(*) FROM checkins)",
    )
    .fetch_one(db.pool())
    .await?;
    db.close().await;
    Ok(count)
}

/// The gates of a failover, each holder once, and the count of what was stored.
pub async fn failover(run: FailoverRun) -> anyhow::Result<Value> {
    let (demo, _) = crate::load::demo_target(&run.credentials, Some(&run.through))?;
    let holders = Arc::new(crate::load::load_tokens(&demo));
    let door = token(&demo, "demo.venue.metro")?;
    let client = tongban_app::outbound::plain()
        .pool_max_idle_per_host(run.connections)
        .timeout(Duration::from_secs(10))
        .build()?;
    let before = checkins_stored(&run.database_url).await?;
    let started = Instant::now();
    let until = started + Duration::from_secs(run.seconds);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..run.connections.max(1) {
        let (client, base, holders, door, next) = (
            client.clone(),
            run.through.clone(),
            holders.clone(),
            door.clone(),
            next.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut gates = Vec::new();
            let ms = || started.elapsed().as_millis() as u64;
            while Instant::now() < until {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(holder) = holders.get(n) else { break };
                let pass = client
                    .get(format!("{base}/api/v1/pass/me"))
                    .bearer_auth(holder)
                    .send()
                    .await;
                let code = match pass {
                    Ok(r) if r.status().is_success() => r
                        .json::<Value>()
                        .await
                        .ok()
                        .and_then(|p| p["code"].as_str().map(str::to_owned)),
                    Ok(r) if r.status() != 503 => {
                        gates.push(Gate::Wrong(ms(), r.status().as_u16()));
                        continue;
                    }
                    _ => None,
                };
                let Some(code) = code else {
                    gates.push(Gate::Unavailable {
                        at: ms(),
                        scan_sent: false,
                    });
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                let scanned = client
                    .post(format!("{base}/api/v1/pass/verify"))
                    .bearer_auth(&door)
                    .json(&json!({"code": code}))
                    .send()
                    .await;
                match scanned {
                    Ok(r) if r.status().is_success() => {
                        let outcome: Value = r.json().await.unwrap_or_default();
                        if outcome["checked_in"] == true {
                            gates.push(Gate::Stored(ms()));
                        } else {
                            gates.push(Gate::Wrong(ms(), 200));
                        }
                    }
                    Ok(r) if r.status() != 503 => {
                        gates.push(Gate::Wrong(ms(), r.status().as_u16()))
                    }
                    _ => {
                        gates.push(Gate::Unavailable {
                            at: ms(),
                            scan_sent: true,
                        });
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
            gates
        }));
    }
    let mut gates = Vec::new();
    for worker in workers {
        gates.extend(worker.await?);
    }
    let used = next.load(Ordering::Relaxed).min(holders.len());
    // Every node answers again, without a restart.
    let mut nodes_ready = Vec::new();
    for node in &run.nodes {
        let ready = client.get(format!("{node}/readyz")).send().await;
        nodes_ready.push(ready.is_ok_and(|r| r.status().is_success()));
    }
    let stored = checkins_stored(&run.database_url).await? - before;

    let acknowledged = gates
        .iter()
        .filter(|g| matches!(g, Gate::Stored(_)))
        .count() as i64;
    let unknown = gates
        .iter()
        .filter(|g| {
            matches!(
                g,
                Gate::Unavailable {
                    scan_sent: true,
                    ..
                }
            )
        })
        .count() as i64;
    let refused = gates
        .iter()
        .filter(|g| matches!(g, Gate::Unavailable { .. }))
        .count();
    let wrong: Vec<(u64, u16)> = gates
        .iter()
        .filter_map(|g| match g {
            Gate::Wrong(at, status) => Some((*at, *status)),
            _ => None,
        })
        .collect();
    let failures: Vec<u64> = gates
        .iter()
        .filter_map(|g| match g {
            Gate::Unavailable { at, .. } => Some(*at),
            _ => None,
        })
        .collect();
    let (first_failure, last_failure) = (failures.iter().min(), failures.iter().max());
    let recovered_at = last_failure.and_then(|last| {
        gates
            .iter()
            .filter_map(|g| match g {
                Gate::Stored(at) if at > last => Some(*at),
                _ => None,
            })
            .min()
    });
    let mut per_second: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for gate in &gates {
        match gate {
            Gate::Stored(at) => per_second.entry(at / 1000).or_default().0 += 1,
            Gate::Unavailable { at, .. } => per_second.entry(at / 1000).or_default().1 += 1,
            Gate::Wrong(..) => {}
        }
    }

    let mut failed = Vec::new();
    if stored < acknowledged {
        failed.push(format!(
            "{acknowledged} check-ins acknowledged, {stored} stored: {} lost",
            acknowledged - stored
        ));
    }
    if stored > acknowledged + unknown {
        failed.push(format!(
            "{stored} stored, more than the {acknowledged} acknowledged and {unknown} of unknown outcome"
        ));
    }
    if !wrong.is_empty() {
        failed.push(format!(
            "{} answers were neither a stored check-in nor 503: {:?}",
            wrong.len(),
            &wrong[..wrong.len().min(10)]
        ));
    }
    if failures.is_empty() {
        failed.push("no gate failed: the failover did not happen during the load".to_owned());
    } else if recovered_at.is_none() {
        failed.push("no gate passed after the last failure: the nodes did not recover".to_owned());
    }
    if nodes_ready.iter().any(|ready| !ready) {
        failed.push(format!("a node is not ready at the end: {nodes_ready:?}"));
    }
    if used == holders.len() {
        failed.push("every holder was used before the time was up: seed more".to_owned());
    }
    let summary = json!({
        "benchmark": "failover",
        "through": run.through,
        "connections": run.connections,
        "seconds": run.seconds,
        "gates": gates.len(),
        "acknowledged": acknowledged,
        "stored": stored,
        "refused_503_or_connection": refused,
        "scans_of_unknown_outcome": unknown,
        "first_failure_ms": first_failure,
        "last_failure_ms": last_failure,
        "first_gate_after_ms": recovered_at,
        "unavailable_seconds": match (first_failure, recovered_at) {
            (Some(first), Some(after)) => Some((after - first) as f64 / 1000.0),
            _ => None,
        },
        "per_second_stored_and_refused": per_second,
        "nodes_ready_after": nodes_ready,
        "failed": failed,
        "machine": crate::bench::machine(),
    });
    if !failed.is_empty() {
        anyhow::bail!(
            "the failover checks failed: {}\n{}",
            failed.join("; "),
            serde_json::to_string_pretty(&summary)?
        );
    }
    Ok(summary)
}
