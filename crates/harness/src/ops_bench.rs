//! `tongban bench ops`: what the operations view costs. Two questions, in one run on one
//! database:
//!
//! - **The view.** A city with twelve districts of five streets each and a year and more of
//!   hourly figures behind it (the counts summing to the applications and check-ins asked for),
//!   written straight into the figures' tables; then the city's and a district's view for a
//!   day, a week and a month, each asked many times: p50 and p99.
//! - **Counting on the write paths.** The workflow bench's steps (each counts when it ends in a
//!   state with a figure) and check-ins through the module's path (each counts one), run in
//!   rounds with counting on and off in turn; the rates and their ratio.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use tongban_app::figures::{HOUR_MS, Tally};
use tongban_app::state::AppState;

use crate::bench::{WorkflowBench, machine};

/// The districts and streets of the synthetic city (under the demo's 339900).
fn synthetic_regions() -> Vec<(String, String, &'static str)> {
    let mut regions = Vec::new();
    for d in 0..12 {
        let district = format!("3399{:02}", 11 + d);
        regions.push((district.clone(), "339900".to_owned(), "county"));
        for s in 1..=5 {
            regions.push((format!("{district}{s:03}"), district.clone(), "township"));
        }
    }
    regions
}

/// Figures of persons the history is spread over, with their share of a district-hour's events.
const HISTORY: [(&str, u64); 8] = [
    ("checkins.recorded", 100),
    ("pass.shown", 140),
    ("pass.checks", 60),
    ("pass.checked_yellow", 1),
    ("services.received", 10),
    ("services.delivered", 8),
    ("certificates.issued", 5),
    ("certificates.used", 6),
];

async fn seed_regions(state: &AppState) -> anyhow::Result<Vec<String>> {
    let now = state.now();
    let mut leaves = Vec::new();
    for (code, parent, level) in synthetic_regions() {
        sqlx::query("INSERT INTO regions (code, parent_code, level, name, name_en, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO NOTHING")
            .bind(code.clone())
            .bind(parent)
            .bind(level)
            .bind(format!("测试{code}"))
            .bind(format!("Bench {code}"))
            .bind(now)
            .execute(state.pool())
            .await?;
        if level == "township" {
            leaves.push(code);
        }
    }
    Ok(leaves)
}

/// Writes `days` of hourly and daily history for every street, scaled so that the check-ins
/// sum to `checkins` and the applications received to `applications`. Returns the rows written.
async fn seed_history(
    state: &AppState,
    streets: &[String],
    days: i64,
    checkins: u64,
    applications: u64,
) -> anyhow::Result<(u64, u64)> {
    let zone = state.zone();
    let today = state.today();
    let hours = (days * 24) as u64;
    let cells = hours * streets.len() as u64;
    // Events per street-hour of each figure, so that the two named ones reach their sums.
    let per_cell = |figure: &str, share: u64| -> i64 {
        match figure {
            "checkins.recorded" => (checkins / cells.max(1)) as i64,
            "services.received" => (applications / cells.max(1)).max(1) as i64,
            _ => ((checkins / cells.max(1)) * share / 100).max(1) as i64,
        }
    };
    let mut hourly = 0u64;
    let mut daily = 0u64;
    let first = today - time::Duration::days(days - 1);
    for d in 0..days {
        let day = first + time::Duration::days(d);
        let (start, _) = zone.day_span(day);
        let mut tx = state.pool().begin().await?;
        let mut rows: Vec<(&str, &str, i64, i64)> = Vec::new();
        let mut day_rows: Vec<(&str, &str, i64, i64)> = Vec::new();
        for street in streets {
            for (figure, share) in HISTORY {
                let n = per_cell(figure, share);
                for hour in 0..24 {
                    rows.push((figure, street, start + hour * HOUR_MS, n));
                }
                day_rows.push((figure, street, start, n * 24));
            }
        }
        hourly += rows.len() as u64;
        daily += day_rows.len() as u64;
        for (table, column, rows) in [
            ("ops_counts", "hour", &rows),
            ("ops_daily", "day", &day_rows),
        ] {
            for chunk in rows.chunks(200) {
                let values: Vec<String> = (0..chunk.len())
                    .map(|r| {
                        let at = r * 4;
                        format!("(${}, ${}, ${}, ${})", at + 1, at + 2, at + 3, at + 4)
                    })
                    .collect();
                let sql = format!(
                    "INSERT INTO {table} (figure, region_code, {column}, count) VALUES {} ON CONFLICT (figure, region_code, {column}) DO NOTHING",
                    values.join(", ")
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (figure, region, at, n) in chunk {
                    query = query
                        .bind((*figure).to_owned())
                        .bind((*region).to_owned())
                        .bind(*at)
                        .bind(*n);
                }
                query.execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
    }
    Ok((hourly, daily))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

async fn time_views(
    state: &AppState,
    actor: &tongban_app::identity::model::Actor,
    region: &str,
    period: tongban_ops::view::Period,
    asks: usize,
) -> anyhow::Result<Value> {
    let ask = tongban_ops::view::Ask {
        region: region.to_owned(),
        period,
        date: state.today() - time::Duration::days(1),
        figures: Vec::new(),
        english: false,
    };
    let mut millis = Vec::with_capacity(asks);
    let mut total = None;
    for _ in 0..asks {
        let started = Instant::now();
        let view = tongban_ops::view::view(state, actor, &ask)
            .await
            .map_err(|e| anyhow::anyhow!("the view: {e}"))?;
        millis.push(started.elapsed().as_secs_f64() * 1000.0);
        total = view
            .figures
            .iter()
            .find(|f| f.key == "checkins.recorded")
            .and_then(|f| f.total);
    }
    millis.sort_by(f64::total_cmp);
    Ok(json!({
        "region": region,
        "period": period.as_str(),
        "asks": asks,
        "p50_ms": percentile(&millis, 0.5),
        "p99_ms": percentile(&millis, 0.99),
        "checkins_in_the_period": total,
    }))
}

/// Check-ins through the module's path (sealed, group-committed, counted) by `concurrency`
/// doors at once; each a person of their own, so none folds as a repeat.
async fn checkin_round(
    state: &AppState,
    venue: &tongban_app::venues::Venue,
    round: u64,
    count: u64,
    concurrency: usize,
) -> anyhow::Result<f64> {
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (state, venue, next) = (state.clone(), venue.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= count {
                    return Ok::<_, anyhow::Error>(());
                }
                let person = format!("bench-{round}-{n}");
                tongban_app::checkins::record(
                    &state,
                    &venue,
                    &person,
                    tongban_app::checkins::Method::PassScan,
                )
                .await
                .map_err(|e| anyhow::anyhow!("check-in: {e}"))?;
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// Empties the check-in log after a round (and gives SQLite's log back to the file), so that
/// every round writes into a log of the same size: a log that grows from round to round slows
/// each a little more, three times more than counting could (an earlier run's lesson).
async fn empty_checkin_log(state: &AppState) -> anyhow::Result<()> {
    // Every check-in of the round is durable: `record` answers once its batch is committed.
    for sql in ["DELETE FROM checkin_log", "DELETE FROM checkin_subjects"] {
        sqlx::query(sql).execute(state.pool()).await?;
    }
    if state.db.engine() == tongban_app::db::Engine::Sqlite {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(state.pool())
            .await?;
    }
    Ok(())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    percentile(values, 0.5)
}

pub struct OpsBench {
    pub days: i64,
    pub applications: u64,
    pub checkins: u64,
    pub asks: usize,
    pub rounds: usize,
    pub workflow_applications: usize,
    pub checkins_per_round: u64,
}

pub async fn ops(
    state: &AppState,
    credentials: &tongban_app::demo::DemoCredentials,
    bench: OpsBench,
) -> anyhow::Result<Value> {
    let token = credentials
        .accounts
        .iter()
        .find(|a| a.username == "demo.sysadmin")
        .map(|a| a.api_token.clone())
        .ok_or_else(|| anyhow::anyhow!("no demo.sysadmin"))?;
    let admin = tongban_app::identity::service::actor_from_token(state, &token)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| anyhow::anyhow!("the administrator's token"))?;

    // The view over a city's history.
    let streets = seed_regions(state).await?;
    let seeding = Instant::now();
    let (hourly, daily) = seed_history(
        state,
        &streets,
        bench.days,
        bench.checkins,
        bench.applications,
    )
    .await?;
    let seeding = seeding.elapsed().as_secs_f64();
    // The history's pages out of SQLite's write-ahead log before anything is timed, or its
    // checkpoints would land in the first rounds.
    if state.db.engine() == tongban_app::db::Engine::Sqlite {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(state.pool())
            .await?;
    }
    let mut views = Vec::new();
    for (region, period) in [
        ("339900", tongban_ops::view::Period::Day),
        ("339900", tongban_ops::view::Period::Week),
        ("339900", tongban_ops::view::Period::Month),
        ("339911", tongban_ops::view::Period::Day),
        ("339911", tongban_ops::view::Period::Month),
    ] {
        views.push(time_views(state, &admin, region, period, bench.asks).await?);
    }

    // Counting on the write paths, in rounds with counting on and off in turn.
    let tally = state.module::<Tally>();
    let workflow = WorkflowBench::new(state, credentials).await?;
    let venue_operator = credentials
        .accounts
        .iter()
        .find(|a| a.username == "demo.venue")
        .map(|a| a.api_token.clone())
        .ok_or_else(|| anyhow::anyhow!("no demo.venue"))?;
    let operator = tongban_app::identity::service::actor_from_token(state, &venue_operator)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| anyhow::anyhow!("the venue operator's token"))?;
    let venue = tongban_app::venues::venue_of(state.pool(), operator.id())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| anyhow::anyhow!("the demo venue"))?;
    let (mut steps_on, mut steps_off, mut checkins_on, mut checkins_off) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // A first round of each path, not recorded (caches, the writer's first batches); then
    // rounds in the order on, off, off, on, on, off … so that a drift over the run (the
    // database growing) weighs on both alike.
    let ids = workflow.apply(state, bench.workflow_applications).await?;
    workflow.run(state, ids, 16).await?;
    checkin_round(state, &venue, u64::MAX, bench.checkins_per_round, 256).await?;
    empty_checkin_log(state).await?;
    for round in 0..bench.rounds * 2 {
        let counting = (round % 4 == 0) || (round % 4 == 3);
        tally.set_counting(counting);
        let ids = workflow.apply(state, bench.workflow_applications).await?;
        let (steps, seconds) = workflow.run(state, ids, 16).await?;
        let checkins =
            checkin_round(state, &venue, round as u64, bench.checkins_per_round, 256).await?;
        empty_checkin_log(state).await?;
        if counting {
            steps_on.push(steps as f64 / seconds);
            checkins_on.push(checkins);
        } else {
            steps_off.push(steps as f64 / seconds);
            checkins_off.push(checkins);
        }
    }
    tally.set_counting(true);
    // What one count costs on its own: a lock and a hash map, on this thread.
    let adds = 2_000_000u32;
    let started = Instant::now();
    let at = state.now();
    for n in 0..adds {
        tally.add(
            "checkins.recorded",
            if n % 2 == 0 { "339911001" } else { "339912001" },
            at,
            1,
        );
    }
    let add_ns = started.elapsed().as_secs_f64() * 1e9 / f64::from(adds);
    // The minute's measure of the levels (open applications from their partial index, open
    // rectifications, waiting requests, the database's size, the nodes), over what the
    // workflow rounds left (their applications, open or done, counted and reported).
    let (applications, open): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE state NOT IN ('delivered', 'rejected', 'denied', 'withdrawn')) FROM applications",
    )
    .fetch_one(state.pool())
    .await?;
    let mut measures = Vec::new();
    for _ in 0..50 {
        let started = Instant::now();
        tongban_app::figures::measure(state)
            .await
            .map_err(|e| anyhow::anyhow!("measure: {e}"))?;
        measures.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    measures.sort_by(f64::total_cmp);
    // Rounds 2i and 2i + 1 are one with counting and one without, next to each other in
    // time: the ratio of each pair leaves out a drift over the run, and their median is the
    // measure (the medians of each side are given too).
    let pairs =
        |on: &[f64], off: &[f64]| -> Vec<f64> { on.iter().zip(off).map(|(a, b)| a / b).collect() };
    let (mut steps_pairs, mut checkins_pairs) = (
        pairs(&steps_on, &steps_off),
        pairs(&checkins_on, &checkins_off),
    );
    let (steps_in_order, checkins_in_order) = (
        json!({"counting": steps_on.clone(), "not_counting": steps_off.clone()}),
        json!({"counting": checkins_on.clone(), "not_counting": checkins_off.clone()}),
    );
    let (steps_on_rate, steps_off_rate) = (median(&mut steps_on), median(&mut steps_off));
    let (checkins_on_rate, checkins_off_rate) =
        (median(&mut checkins_on), median(&mut checkins_off));
    let (steps_ratio, checkins_ratio) = (median(&mut steps_pairs), median(&mut checkins_pairs));
    Ok(json!({
        "benchmark": "ops",
        "engine": state.db.engine().as_str(),
        "history": {
            "days": bench.days,
            "regions": streets.len() + 13,
            "hourly_rows": hourly,
            "daily_rows": daily,
            "applications_behind": bench.applications,
            "checkins_behind": bench.checkins,
            "seeding_seconds": seeding,
        },
        "views": views,
        "levels_measure_ms": {"p50": percentile(&measures, 0.5), "p99": percentile(&measures, 0.99),
            "applications": applications, "open": open},
        "counting": {
            "one_count_ns": add_ns,
            "rounds_each": bench.rounds,
            "workflow_steps_per_second": {"counting": steps_on_rate, "not_counting": steps_off_rate,
                "ratio_of_pairs": steps_ratio, "pair_ratios": steps_pairs, "each_round": steps_in_order},
            "checkins_per_second": {"counting": checkins_on_rate, "not_counting": checkins_off_rate,
                "ratio_of_pairs": checkins_ratio, "pair_ratios": checkins_pairs, "each_round": checkins_in_order},
        },
        "machine": machine(),
    }))
}
