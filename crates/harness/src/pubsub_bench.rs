//! `tongban bench pubsub`: durable events published through the publish/subscribe service and
//! pushed to subscribers on this machine. Publishers call the service in process (as the
//! gateway's handler does); each event is numbered, sealed and committed before its publisher
//! is answered. Subscribers are HTTP endpoints on this machine; each receives every event,
//! signed — in order when they subscribed with FIFO, side by side otherwise (the
//! specification's default). The run counts what the subscribers received.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};
use tongban_app::config::Config;
use tongban_core::SystemClock;

pub async fn pubsub(
    count: usize,
    subscribers: usize,
    publishers: usize,
    fifo: bool,
) -> anyhow::Result<Value> {
    let scratch = std::env::temp_dir().join(format!("tongban-bench-pubsub-{}", std::process::id()));
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
    let departments = tongban_app::admin::store::departments(state.pool()).await?;
    let uscc = |kind: &str| {
        departments
            .iter()
            .find(|d| d.kind == kind && d.region_code.as_str() == "339900")
            .and_then(|d| d.uscc.clone())
            .context("a city department")
    };
    let client = tongban_app::outbound::plain().build()?;
    let call =
        |token: String, client_id: String, method: reqwest::Method, path: String, body: Value| {
            let client = client.clone();
            let url = format!("{base}{path}");
            async move {
                let response = client
                    .request(method, url)
                    .bearer_auth(token)
                    .header("X-GovStack-Client", client_id)
                    .json(&body)
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "{}: {}",
                    response.status(),
                    response.text().await?
                );
                Ok::<(), anyhow::Error>(())
            }
        };
    let market = token("demo.deptadmin.market")?;
    let consumer = token("demo.deptadmin")?;
    let room_client = format!("CN/GOV/{}/LICENSING", uscc("market_regulation")?);
    let room = format!("/r1/{room_client}");
    // SJ-QYDJ-001 is shared unconditionally and the government-services administration holds
    // a grant of three of its four items.
    call(
        market.clone(),
        room_client.clone(),
        reqwest::Method::POST,
        format!("{room}/api/v1/eventType"),
        json!({
            "eventType": "enterprise-registered", "resource": "SJ-QYDJ-001",
            "schema": {"type": "object", "required": ["uscc", "name"]},
        }),
    )
    .await?;

    // Subscribers: HTTP endpoints counting what arrives (and checking the order).
    let received = Arc::new(AtomicUsize::new(0));
    let out_of_order = Arc::new(AtomicUsize::new(0));
    for n in 0..subscribers {
        let (received, out_of_order) = (received.clone(), out_of_order.clone());
        let last = Arc::new(std::sync::atomic::AtomicI64::new(0));
        let router = axum::Router::new().route(
            "/events",
            axum::routing::post(move |body: axum::body::Bytes| {
                let (received, out_of_order, last) =
                    (received.clone(), out_of_order.clone(), last.clone());
                async move {
                    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let seq = value["sequence"].as_i64().unwrap_or(0);
                    if seq != last.swap(seq, Ordering::Relaxed) + 1 {
                        out_of_order.fetch_add(1, Ordering::Relaxed);
                    }
                    received.fetch_add(1, Ordering::Relaxed);
                    axum::http::StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = format!("http://{}/events", listener.local_addr()?);
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        call(
            consumer.clone(),
            format!("CN/GOV/{}/SUB{n}", uscc("government_services")?),
            reqwest::Method::POST,
            format!("{room}/api/v1/subs/enterprise-registered"),
            json!({"eventType": "enterprise-registered", "delivery": "PUSH", "pushUrl": address,
                "options": {"FIFO": fifo}}),
        )
        .await?;
    }

    let room_id =
        tongban_codes::xroad::parse_client(&room_client).map_err(|e| anyhow::anyhow!(e))?;
    let owner = departments
        .iter()
        .find(|d| d.uscc.as_deref() == Some(room_id.member.as_str()))
        .context("the room's department")?
        .clone();
    let room = Arc::new(tongban_app::pubsub::service::Room {
        key: room_client.clone(),
        id: room_id,
        owner,
    });
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..publishers.max(1) {
        let (state, room, next, client_id) = (
            state.clone(),
            room.clone(),
            next.clone(),
            room_client.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return Ok::<(), anyhow::Error>(());
                }
                let body = json!({"eventType": "enterprise-registered", "event": {
                    "uscc": format!("91339900MA{n:08}"), "name": format!("临江测试商贸有限公司{n}"),
                    "region_code": "339901", "registered_on": "2026-12-04"}});
                tongban_app::pubsub::service::publish(
                    &state,
                    &client_id,
                    &room,
                    "enterprise-registered",
                    &body,
                )
                .await
                .map_err(|e| anyhow::anyhow!("publishing: {e}"))?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    let published_in = started.elapsed().as_secs_f64();
    let wanted = count * subscribers;
    let deadline = Instant::now() + Duration::from_secs(600);
    while received.load(Ordering::Relaxed) < wanted && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivered_in = started.elapsed().as_secs_f64();
    let got = received.load(Ordering::Relaxed);
    anyhow::ensure!(got >= wanted, "{got} of {wanted} deliveries arrived");
    let out_of_order = out_of_order.load(Ordering::Relaxed);
    anyhow::ensure!(
        !fifo || out_of_order == 0,
        "{out_of_order} FIFO deliveries arrived out of order"
    );
    let _ = stop.send(());
    tokio::time::sleep(Duration::from_millis(100)).await;
    state.db.close().await;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(json!({
        "bench": "pubsub",
        "machine": crate::bench::machine(),
        "events": count,
        "publishers": publishers,
        "subscribers": subscribers,
        "fifo": fifo,
        "published_per_second": count as f64 / published_in,
        "deliveries": got,
        "delivered_per_second": got as f64 / delivered_in,
        "out_of_order": out_of_order,
        "seconds_to_publish": published_in,
        "seconds_to_deliver_all": delivered_in,
    }))
}
