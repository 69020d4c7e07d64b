//! `tongban bench forms`: 一表通 on this machine.
//! - checking a submission against its form alone (the XML read, every rule evaluated), per
//!   second on one core;
//! - durable submissions through a node (SQLite), as ODK clients send them: the instance's XML
//!   posted to `/v1/projects/1/forms/business_survey/submissions` over `--connections`
//!   connections, each answered once it is committed; submissions a second, p50 and p99;
//! - the office's overlap report for a new form against `--forms` approved forms registered
//!   beside the demo's: p50 and p99 of `GET …/overlap`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};
use tongban_app::config::Config;
use tongban_core::SystemClock;
use tongban_xform::xpath::Env;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at].as_secs_f64() * 1000.0
}

/// A valid instance of the demo's survey, numbered `i`.
fn instance(i: usize, run: u32) -> String {
    format!(
        r#"<data id="business_survey" version="2026110101"><shop_name>基准店铺{i}</shop_name><operator_name>王芳</operator_name><operator_phone>1380000{:04}</operator_phone><industry>retail</industry><staff>{}</staff><monthly_sales>12.5</monthly_sales><affected>yes</affected><impacts>rent supply</impacts><needs>减免房租</needs><visit_day>2026-11-20</visit_day><meta><instanceID>uuid:bench-{run}-{i}</instanceID></meta></data>"#,
        i % 10_000,
        1 + i % 40
    )
}

pub async fn forms(count: usize, connections: usize, forms: usize) -> anyhow::Result<Value> {
    // Checking alone.
    let form =
        tongban_xform::xlsform::read(&tongban_collect::demo_business_survey(), "business_survey")
            .map_err(|e| anyhow::anyhow!("the survey does not read: {}", e[0]))?;
    let checker = tongban_xform::Checker::new(form.clone())
        .map_err(|(path, e)| anyhow::anyhow!("{path}: {e}"))?;
    let env = Env {
        today: time::macros::date!(2026 - 12 - 06),
    };
    let samples: Vec<String> = (0..1000).map(|i| instance(i, 0)).collect();
    let started = Instant::now();
    let mut checked = 0usize;
    while started.elapsed() < Duration::from_secs(2) {
        for xml in &samples {
            checker
                .check(xml, &env)
                .map_err(|e| anyhow::anyhow!("the sample is refused: {e}"))?;
            checked += 1;
        }
    }
    let check_per_second = checked as f64 / started.elapsed().as_secs_f64();

    // A node on SQLite with the demo city.
    let scratch = std::env::temp_dir().join(format!("tongban-bench-forms-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let config = Config {
        data_dir: scratch.clone(),
        bind: "127.0.0.1:0".parse()?,
        database_url: Some(format!(
            "sqlite://{}?mode=rwc",
            scratch.join("bench.db").display()
        )),
        master_key: Some(tongban_app::config::SecretText(
            tongban_app::keys::master::generate_text().to_string(),
        )),
        region_code: "339900".into(),
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
    let token = |username: &str| {
        credentials
            .accounts
            .iter()
            .find(|a| a.username == username)
            .map(|a| a.api_token.clone())
            .context("a demo account")
    };
    let designer = token("demo.deptadmin.market")?;
    let office = token("demo.deptadmin")?;
    let client = tongban_app::outbound::plain()
        .pool_max_idle_per_host(connections)
        .build()?;

    // Durable submissions, `connections` at a time.
    let url = format!("{base}/v1/projects/1/forms/business_survey/submissions");
    let per_worker = count.div_ceil(connections.max(1));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..connections.max(1) {
        let (client, url, designer) = (client.clone(), url.clone(), designer.clone());
        workers.spawn(async move {
            let mut times = Vec::with_capacity(per_worker);
            for k in 0..per_worker {
                let i = w * per_worker + k;
                if i >= count {
                    break;
                }
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .bearer_auth(&designer)
                    .header("content-type", "application/xml")
                    .body(instance(i, 1))
                    .send()
                    .await?;
                let status = response.status();
                anyhow::ensure!(
                    status.is_success(),
                    "{status}: {}",
                    response.text().await.unwrap_or_default()
                );
                times.push(sent.elapsed());
            }
            Ok::<_, anyhow::Error>(times)
        });
    }
    let mut times = Vec::with_capacity(count);
    while let Some(done) = workers.join_next().await {
        times.extend(done??);
    }
    let submit_seconds = started.elapsed().as_secs_f64();
    times.sort();
    let stored: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM collect_submissions WHERE instance_id LIKE 'uuid:bench-1-%'",
    )
    .fetch_one(state.pool())
    .await?;
    anyhow::ensure!(
        stored as usize == count,
        "{stored} of {count} submissions stored"
    );

    // The overlap report against `forms` approved forms.
    let project = tongban_collect::store::project(state.pool(), 1)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .context("the demo project")?;
    let now = state.now();
    for n in 0..forms {
        let mut variant = form.clone();
        variant.id = format!("registered_{n:05}");
        variant.title = format!("登记表 {n}");
        for (k, node) in variant.children.iter_mut().enumerate() {
            if (n + k) % 3 == 0 {
                node.name = format!("{}_{n}", node.name);
                node.label = format!("{} {n}", node.label);
            }
        }
        let row = tongban_collect::service::form_row(
            &project,
            &variant,
            "bench",
            now,
            tongban_collect::service::APPROVED,
        );
        tongban_collect::store::save_form(state.pool(), &row)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let overlap_url = format!("{base}/api/v1/collect/projects/1/forms/shop_recheck/overlap");
    let mut report_times = Vec::new();
    let mut already = 0;
    for _ in 0..20 {
        let sent = Instant::now();
        let response = client.get(&overlap_url).bearer_auth(&office).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "overlap: {}",
            response.status()
        );
        let body: Value = response.json().await?;
        report_times.push(sent.elapsed());
        already = body["already"].as_i64().unwrap_or_default();
    }
    report_times.sort();
    let _ = stop.send(());
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(json!({
        "check_per_second_one_core": check_per_second.round(),
        "submissions": count,
        "connections": connections,
        "submissions_per_second": (count as f64 / submit_seconds).round(),
        "submit_p50_ms": percentile(&times, 0.5),
        "submit_p99_ms": percentile(&times, 0.99),
        "registered_forms": forms + 1,
        "overlap_already": already,
        "overlap_p50_ms": percentile(&report_times, 0.5),
        "overlap_p99_ms": percentile(&report_times, 0.99),
    }))
}
