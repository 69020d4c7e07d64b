//! `tongban bench opendata`: the open-data portal on this machine, through its HTTP interfaces
//! as clients call them, beside the pure parts measured alone:
//! - the personal-data gate and the CSV reader over a synthetic table (MB/s of CSV);
//! - loading a table: an upload through `resource_create` (read, typed, scanned, sealed) and its
//!   publication by a second person (read again, treated, scanned, served, loaded into the
//!   datastore), in rows a second — until the publication answers (the rows are queryable) and
//!   until the table's indexes, built after it, are all there;
//! - `datastore_search` with a filter, one call at a time: p50 and p99; with `--big-rows`, the
//!   same on a table of that many rows, uploaded as one CSV file and published (upload,
//!   publication and index times reported);
//! - `package_search` with facets and a filter over many datasets, one call at a time: p50 and
//!   p99 (the first search after the datasets were made, which builds the node's catalogue, is
//!   reported apart), and the first search after a publisher changes one dataset (which
//!   patches the catalogue with it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};
use tongban_app::config::Config;
use tongban_core::SystemClock;
use tongban_tables::{gate, table};

const DISTRICTS: [&str; 10] = [
    "江北区",
    "江南区",
    "东湖区",
    "西山区",
    "临港新区",
    "高新区",
    "北塘镇",
    "南岭乡",
    "青石镇",
    "白沙乡",
];
const TOPICS: [&str; 12] = [
    "空气质量",
    "公交线路",
    "企业登记",
    "医疗机构",
    "学校名录",
    "养老机构",
    "停车场",
    "公共厕所",
    "财政预算",
    "就业人数",
    "户籍人口",
    "道路养护",
];

/// A synthetic table of `rows` rows: a date, a district, a category, two numbers and a note —
/// the shape of the statistics departments publish, and nothing personal in it.
fn synthetic_csv(rows: usize) -> Vec<u8> {
    let mut out = String::with_capacity(rows * 64);
    out.push_str("日期,区县,类别,数量,金额（万元）,备注\n");
    let mut x: u64 = 0x2026_1204;
    for i in 0..rows {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let district = DISTRICTS[(x >> 33) as usize % DISTRICTS.len()];
        let topic = TOPICS[(x >> 40) as usize % TOPICS.len()];
        out.push_str(&format!(
            "2026-{:02}-{:02},{district},{topic},{},{}.{},第{}批\n",
            i % 12 + 1,
            i % 28 + 1,
            (x >> 20) % 10_000,
            (x >> 12) % 1_000,
            (x >> 8) % 10,
            i / 1000
        ));
    }
    out.into_bytes()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at].as_secs_f64() * 1000.0
}

/// Times `calls` one after another; (p50 ms, p99 ms).
async fn latency<F, Fut>(calls: usize, mut call: F) -> anyhow::Result<(f64, f64)>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut times = Vec::with_capacity(calls);
    for i in 0..calls {
        let start = Instant::now();
        call(i).await?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok((percentile(&times, 0.5), percentile(&times, 0.99)))
}

pub async fn opendata(
    datasets: usize,
    rows: usize,
    searches: usize,
    big_rows: usize,
) -> anyhow::Result<Value> {
    // The pure parts, alone.
    let csv = synthetic_csv(rows);
    let megabytes = csv.len() as f64 / 1e6;
    let start = Instant::now();
    let read = table::parse(&csv, table::Format::Csv).map_err(|e| anyhow::anyhow!("{e}"))?;
    let parse_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let findings = gate::scan(
        &read.columns,
        read.rows.iter().map(Vec::as_slice),
        &[],
        gate::DEFAULT_K,
    );
    let gate_seconds = start.elapsed().as_secs_f64();
    anyhow::ensure!(
        findings.is_empty(),
        "the synthetic table has nothing personal: {findings:?}"
    );
    drop(read);

    let scratch =
        std::env::temp_dir().join(format!("tongban-bench-opendata-{}", std::process::id()));
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
    let (clerk, admin) = (token("demo.clerk.market")?, token("demo.deptadmin.market")?);
    let client = tongban_app::outbound::plain().build()?;
    let action = |token: Option<String>, name: &str, body: Value| {
        let client = client.clone();
        let url = format!("{base}/api/3/action/{name}");
        async move {
            let mut request = client.post(url).json(&body);
            if let Some(token) = token {
                request = request.header("Authorization", token);
            }
            let response = request.send().await?;
            let status = response.status();
            let body: Value = response.json().await?;
            anyhow::ensure!(status.is_success(), "{status}: {body}");
            Ok::<Value, anyhow::Error>(body["result"].clone())
        }
    };

    // Loading a table: the upload, then publication by the administrator.
    let dataset = action(
        Some(admin.clone()),
        "package_create",
        json!({"name": "bench-table", "title": "基准数据表", "owner_org": "linjiang-scjg", "groups": [{"name": "economy"}]}),
    )
    .await?;
    let dataset_id = dataset["id"].as_str().unwrap_or_default().to_owned();
    let publisher = Publisher {
        client: &client,
        base: &base,
        clerk: &clerk,
        admin: &admin,
        dataset_id: &dataset_id,
        state: &state,
    };
    let table_loaded = publish_table(&publisher, csv).await?;
    let resource_id = table_loaded.resource_id.clone();
    let (upload_seconds, publish_seconds, indexed_seconds) = (
        table_loaded.upload_seconds,
        table_loaded.publish_seconds,
        table_loaded.indexed_seconds,
    );

    // datastore_search with a filter, one call at a time; the first call on a column reads
    // its value counts, and is reported apart.
    let filter_first_ms = first_filter(&action, &resource_id).await?;
    let (filter_p50, filter_p99) = filter_latency(&action, &resource_id, searches).await?;

    // A second table of the same shape and `big_rows` rows, uploaded as one CSV file (stored in
    // sealed parts as it arrives and scanned as a stream) and published (read, scanned again,
    // served and loaded in one pass), then searched through the API; its first filter reads
    // the value counts of the table, and is checked against them.
    let big = if big_rows > rows {
        let csv = synthetic_csv(big_rows);
        let megabytes = csv.len() as f64 / 1e6;
        let loaded = publish_table(&publisher, csv).await?;
        let resource_id = loaded.resource_id.clone();
        let first_ms = first_filter(&action, &resource_id).await?;
        let (counted,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {} WHERE c1 = $1",
            datastore_table(&resource_id)?
        )))
        .bind(DISTRICTS[0])
        .fetch_one(state.pool())
        .await?;
        let answered = action(
            None,
            "datastore_search",
            json!({"resource_id": resource_id, "filters": {"区县": DISTRICTS[0]}, "limit": 1}),
        )
        .await?;
        anyhow::ensure!(
            answered["total"].as_i64() == Some(counted),
            "datastore_search counted {} rows of {} where the table has {counted}",
            answered["total"],
            DISTRICTS[0]
        );
        let (p50, p99) = filter_latency(&action, &resource_id, searches).await?;
        json!({
            "rows": big_rows,
            "megabytes": megabytes.round(),
            "upload_seconds": (loaded.upload_seconds * 10.0).round() / 10.0,
            "publish_seconds": (loaded.publish_seconds * 10.0).round() / 10.0,
            "publish_rows_per_second": (big_rows as f64 / loaded.publish_seconds).round(),
            "indexed_seconds": (loaded.indexed_seconds * 10.0).round() / 10.0,
            "first_call_ms": first_ms.round(),
            "calls": searches,
            "p50_ms": (p50 * 100.0).round() / 100.0,
            "p99_ms": (p99 * 100.0).round() / 100.0,
        })
    } else {
        Value::Null
    };

    // Many datasets, made through the API by the three departments whose administrators the
    // demo has, in parallel.
    let owners = [
        ("linjiang-scjg", token("demo.deptadmin.market")?),
        ("linjiang-zwfw", token("demo.deptadmin")?),
        ("linjiang-gaj", token("demo.deptadmin.police")?),
    ];
    let formats = ["CSV", "JSON", "XLSX", "HTML", "API"];
    let themes = [
        "economy",
        "transport",
        "health",
        "society",
        "environment",
        "education",
        "government",
    ];
    let start = Instant::now();
    let mut made = 0;
    let mut batch = tokio::task::JoinSet::new();
    for n in 0..datasets {
        let (org, token) = owners[n % owners.len()].clone();
        let body = json!({
            "name": format!("bench-{n:06}"),
            "title": format!("{}{}{}年度统计（第{}号）", DISTRICTS[n % 10], TOPICS[(n / 10) % 12], 2010 + n % 16, n),
            "notes": format!("{}发布的{}数据，按月更新。", org, TOPICS[(n / 10) % 12]),
            "owner_org": org,
            "groups": [{"name": themes[n % themes.len()]}],
            "tags": [{"name": TOPICS[(n / 10) % 12]}, {"name": DISTRICTS[n % 10]}],
            "resources": [{"name": "数据", "url": format!("https://data.example.cn/{n}"), "format": formats[n % formats.len()]}],
        });
        batch.spawn(action(Some(token), "package_create", body));
        if batch.len() >= 16
            && let Some(done) = batch.join_next().await
        {
            done??;
            made += 1;
        }
    }
    while let Some(done) = batch.join_next().await {
        done??;
        made += 1;
    }
    let create_seconds = start.elapsed().as_secs_f64();
    let facets = json!(["organization", "groups", "res_format", "tags", "license_id"]);
    let start = Instant::now();
    let first = action(
        None,
        "package_search",
        json!({"q": "空气质量", "facet.field": facets, "rows": 10}),
    )
    .await?;
    let first_search_ms = start.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(
        first["count"].as_u64().unwrap_or(0) > 0,
        "the first search found nothing"
    );
    let (search_p50, search_p99) = latency(searches, |i| {
        let body = json!({
            "q": format!("{}{}", DISTRICTS[i % 10], TOPICS[i % 12]),
            "fq": format!("groups:{}", themes[i % themes.len()]),
            "facet.field": facets,
            "rows": 20,
        });
        let call = action(None, "package_search", body);
        async move {
            call.await?;
            Ok(())
        }
    })
    .await?;

    // A publisher changes one dataset, and the next search finds the change: the node patches
    // its catalogue with that dataset instead of reading the catalogue again.
    let mut after_change = Vec::new();
    for n in 0..5 {
        let (_, token) = owners[n % owners.len()].clone();
        let title = format!("共享单车停放点第{n}次更新");
        action(
            Some(token),
            "package_patch",
            json!({"id": format!("bench-{:06}", n * 7 % datasets.max(1)), "title": title}),
        )
        .await?;
        let start = Instant::now();
        let found = action(
            None,
            "package_search",
            json!({"q": title, "facet.field": facets, "rows": 10}),
        )
        .await?;
        after_change.push(start.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            found["results"][0]["title"] == title.as_str(),
            "the search right after a change did not find it"
        );
    }
    after_change.sort_by(f64::total_cmp);

    let _ = stop.send(());
    state.db.close().await;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(json!({
        "bench": "opendata",
        "csv": {"rows": rows, "megabytes": (megabytes * 10.0).round() / 10.0},
        "read_csv_mb_per_s": (megabytes / parse_seconds).round(),
        "gate_scan_mb_per_s": (megabytes / gate_seconds).round(),
        "upload_seconds": (upload_seconds * 100.0).round() / 100.0,
        "publish_seconds": (publish_seconds * 100.0).round() / 100.0,
        "publish_rows_per_s": (rows as f64 / publish_seconds).round(),
        "indexed_seconds": (indexed_seconds * 100.0).round() / 100.0,
        "indexed_rows_per_s": (rows as f64 / indexed_seconds).round(),
        "datastore_search_filter": {"rows": rows, "first_call_ms": filter_first_ms.round(), "calls": searches, "p50_ms": (filter_p50 * 100.0).round() / 100.0, "p99_ms": (filter_p99 * 100.0).round() / 100.0},
        "datastore_search_filter_big": big,
        "datasets_made": made,
        "datasets_made_per_s": (made as f64 / create_seconds).round(),
        "package_search_first_ms": first_search_ms.round(),
        "package_search_after_change_ms": {"changes": after_change.len(), "median": (after_change[after_change.len() / 2] * 10.0).round() / 10.0, "max": (after_change[after_change.len() - 1] * 10.0).round() / 10.0},
        "package_search": {"datasets": made + 9, "calls": searches, "p50_ms": (search_p50 * 100.0).round() / 100.0, "p99_ms": (search_p99 * 100.0).round() / 100.0},
        "machine": {"cpus": std::thread::available_parallelism().map(usize::from).unwrap_or(1)},
    }))
}

/// Who and where a table is published.
struct Publisher<'a> {
    client: &'a reqwest::Client,
    base: &'a str,
    clerk: &'a str,
    admin: &'a str,
    dataset_id: &'a str,
    state: &'a tongban_app::AppState,
}

/// A table uploaded by the clerk and published by the administrator, and when.
struct Loaded {
    resource_id: String,
    upload_seconds: f64,
    /// From the publication's request to its answer (the rows are queryable).
    publish_seconds: f64,
    /// From the publication's request to the last of the indexes built after it.
    indexed_seconds: f64,
}

async fn publish_table(who: &Publisher<'_>, csv: Vec<u8>) -> anyhow::Result<Loaded> {
    let base = who.base;
    let form = reqwest::multipart::Form::new()
        .text("package_id", who.dataset_id.to_owned())
        .part(
            "upload",
            reqwest::multipart::Part::bytes(csv).file_name("bench.csv"),
        );
    let start = Instant::now();
    let response = who
        .client
        .post(format!("{base}/api/3/action/resource_create"))
        .header("Authorization", who.clerk.to_owned())
        .multipart(form)
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "upload: {}",
        response.text().await?
    );
    let resource: Value = response.json().await?;
    let upload_seconds = start.elapsed().as_secs_f64();
    let resource_id = resource["result"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let start = Instant::now();
    let response = who
        .client
        .post(format!(
            "{base}/api/v1/opendata/resources/{resource_id}/publication"
        ))
        .bearer_auth(who.admin)
        .json(&json!({}))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "publication: {}",
        response.text().await?
    );
    let publish_seconds = start.elapsed().as_secs_f64();
    // The indexes are built after the publication committed: wait for them before timing the
    // filters, and report when they were all there.
    let table = datastore_table(&resource_id)?;
    loop {
        let (indexes,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = $1",
        )
        .bind(table.clone())
        .fetch_one(who.state.pool())
        .await?;
        // Every column but the amount (a number) is indexed.
        if indexes >= 5 {
            break;
        }
        anyhow::ensure!(start.elapsed() < Duration::from_secs(600), "no indexes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(Loaded {
        resource_id,
        upload_seconds,
        publish_seconds,
        indexed_seconds: start.elapsed().as_secs_f64(),
    })
}

/// Times `datastore_search` filtering on each district in turn, one call at a time: (p50 ms,
/// p99 ms).
async fn filter_latency<F, Fut>(
    action: &F,
    resource_id: &str,
    calls: usize,
) -> anyhow::Result<(f64, f64)>
where
    F: Fn(Option<String>, &str, Value) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Value>>,
{
    latency(calls, |i| {
        let call = action(
            None,
            "datastore_search",
            json!({"resource_id": resource_id, "filters": {"区县": DISTRICTS[i % DISTRICTS.len()]}, "limit": 100}),
        );
        async move {
            let result = call.await?;
            anyhow::ensure!(result["total"].as_u64().unwrap_or(0) > 0, "nothing found");
            Ok(())
        }
    })
    .await
}

/// Times one `datastore_search` filtering on a district (ms).
async fn first_filter<F, Fut>(action: &F, resource_id: &str) -> anyhow::Result<f64>
where
    F: Fn(Option<String>, &str, Value) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Value>>,
{
    let start = Instant::now();
    let result = action(
        None,
        "datastore_search",
        json!({"resource_id": resource_id, "filters": {"区县": DISTRICTS[0]}, "limit": 100}),
    )
    .await?;
    anyhow::ensure!(result["total"].as_u64().unwrap_or(0) > 0, "nothing found");
    Ok(start.elapsed().as_secs_f64() * 1000.0)
}

/// The datastore table of a resource (`ods_` and the id's hex digits).
fn datastore_table(resource_id: &str) -> anyhow::Result<String> {
    let hex = resource_id.replace('-', "").to_ascii_lowercase();
    anyhow::ensure!(
        !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()),
        "a resource id"
    );
    Ok(format!("ods_{hex}"))
}
