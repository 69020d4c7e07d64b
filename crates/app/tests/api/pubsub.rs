//! Publish/subscribe (GovStack IM PubSub) through the gateway: a department defines event
//! types on its resources and publishes; a department with a grant subscribes and receives only
//! the granted items — pulled and confirmed, or pushed in order, signed, retried, dead-lettered
//! and replayed. Every path of the published specification answers a documented status.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn uscc(app: &TestApp, kind: &str) -> String {
    tongban_app::admin::store::departments(app.state.pool())
        .await
        .expect("departments")
        .into_iter()
        .find(|d| d.kind == kind && d.region_code.as_str() == "339900")
        .and_then(|d| d.uscc)
        .expect("a USCC")
}

struct Party {
    token: String,
    client: String,
}

async fn send(
    app: &TestApp,
    who: &Party,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
            app.url(path),
        )
        .bearer_auth(&who.token)
        .header("X-GovStack-Client", &who.client);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The market regulator's room with an event type on its licence resource, and the
/// government-services administration granted two of its three items.
async fn setting(app: &TestApp) -> (Party, Party, String) {
    let market = app.account("demo.deptadmin.market").api_token.clone();
    let saved = app
        .client
        .put(app.url("/api/v1/exchange/resources/SJ-SPXK-003"))
        .bearer_auth(&market)
        .json(&json!({
            "name": "食品经营许可信息", "description": "许可证的编号、经营者与负责人电话。",
            "share_type": "conditional", "share_conditions": "仅限食品相关事项",
            "open_type": "none", "update_cycle": "realtime", "format": "api",
            "items": [
                {"code": "licence_no", "name": "许可证编号", "kind": "string"},
                {"code": "holder", "name": "经营者名称", "kind": "string"},
                {"code": "manager_phone", "name": "负责人电话", "kind": "string", "personal": "phone"},
            ],
        }))
        .send()
        .await
        .expect("save");
    assert_eq!(saved.status(), 200);
    let admin = app.account("demo.deptadmin").api_token.clone();
    let until = tongban_core::zone::ymd(app.state.today() + time::Duration::days(30));
    let asked: Value = app
        .post_as(
            &admin,
            "/api/v1/exchange/requests",
            &json!({"resource": "SJ-SPXK-003",
            "items": ["licence_no", "holder", "manager_phone"], "purpose": "食品经营许可变更提醒",
            "legal_basis": "《食品安全法》", "until": until}),
        )
        .await
        .json()
        .await
        .expect("asked");
    let decided = app
        .post_as(
            &market,
            &format!(
                "/api/v1/exchange/requests/{}/decide",
                asked["id"].as_str().expect("id")
            ),
            &json!({"grant": true, "items": ["licence_no", "holder"], "note": "不含电话"}),
        )
        .await;
    assert_eq!(decided.status(), 200);
    let market_uscc = uscc(app, "market_regulation").await;
    let owner = Party {
        token: market,
        client: format!("CN/GOV/{market_uscc}/LICENSING"),
    };
    let subscriber = Party {
        token: admin,
        client: format!("CN/GOV/{}/CASES", uscc(app, "government_services").await),
    };
    let room = format!("/r1/CN/GOV/{market_uscc}/LICENSING");
    let (status, body) = send(app, &owner, "POST", &format!("{room}/api/v1/eventType"), Some(json!({
        "eventType": "licence-issued",
        "resource": "SJ-SPXK-003",
        "schema": {"type": "object", "required": ["licence_no", "holder"],
                   "properties": {"licence_no": {"type": "string", "pattern": "^JY"}, "holder": {"type": "string"}}},
    }))).await;
    assert_eq!(status, 200, "{body}");
    (owner, subscriber, room)
}

fn event(n: u32) -> Value {
    json!({"eventType": "licence-issued", "event": {"licence_no": format!("JY{n:04}"), "holder": format!("清源食品{n}"), "manager_phone": "13800000000"}})
}

#[tokio::test]
async fn a_subscriber_pulls_the_granted_items_of_each_event_in_order_and_confirms_them() {
    let app = spawn_app().await;
    let (owner, subscriber, room) = setting(&app).await;
    let (status, _) = send(
        &app,
        &owner,
        "POST",
        &format!("{room}/api/v1/eventType"),
        Some(json!({"eventType": "licence-issued", "resource": "SJ-SPXK-003", "schema": {}})),
    )
    .await;
    assert_eq!(status, 409);
    let (status, types) = send(
        &app,
        &owner,
        "GET",
        &format!("{room}/api/v1/eventType"),
        None,
    )
    .await;
    assert_eq!((status, types), (200, json!(["licence-issued"])));

    // Subscribing needs a grant: the owner holds none of its own resource.
    let (status, _) = send(
        &app,
        &owner,
        "POST",
        &format!("{room}/api/v1/subs/licence-issued"),
        Some(json!({"eventType": "licence-issued", "delivery": "PULL"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, sub) = send(
        &app,
        &subscriber,
        "POST",
        &format!("{room}/api/v1/subs/licence-issued"),
        Some(json!({"eventType": "licence-issued", "delivery": "PULL"})),
    )
    .await;
    assert_eq!(status, 200, "{sub}");
    assert_eq!(sub["delivery"], "PULL");
    let (status, _) = send(
        &app,
        &subscriber,
        "POST",
        &format!("{room}/api/v1/subs/licence-issued"),
        Some(json!({"eventType": "licence-issued", "delivery": "PULL"})),
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = send(
        &app,
        &subscriber,
        "GET",
        &format!("{room}/pull/v1/licence-issued"),
        None,
    )
    .await;
    assert_eq!(status, 404, "nothing published yet");

    let mut ids = Vec::new();
    for n in 1..=3 {
        let (status, published) = send(
            &app,
            &owner,
            "POST",
            &format!("{room}/pub/v1/licence-issued"),
            Some(event(n)),
        )
        .await;
        assert_eq!(status, 201, "{published}");
        ids.push(published["id"].as_str().expect("id").to_owned());
    }
    // Only the room's department publishes; events keep to the resource and the schema.
    assert_eq!(
        send(
            &app,
            &subscriber,
            "POST",
            &format!("{room}/pub/v1/licence-issued"),
            Some(event(9))
        )
        .await
        .0,
        403
    );
    for bad in [
        json!({"event": {"licence_no": "XX1", "holder": "a"}}),
        json!({"event": {"licence_no": "JY1"}}),
        json!({"event": {"licence_no": "JY1", "holder": "a", "colour": "red"}}),
        json!({"event": "text"}),
    ] {
        let (status, body) = send(
            &app,
            &owner,
            "POST",
            &format!("{room}/pub/v1/licence-issued"),
            Some(bad.clone()),
        )
        .await;
        assert_eq!(status, 400, "{bad} → {body}");
    }
    assert_eq!(
        send(
            &app,
            &owner,
            "POST",
            &format!("{room}/pub/v1/no-such-type"),
            Some(event(1))
        )
        .await
        .0,
        404
    );

    // The second is withdrawn before anyone pulls it.
    let (status, item) = send(
        &app,
        &owner,
        "GET",
        &format!("{room}/pub/v1/licence-issued/{}", ids[1]),
        None,
    )
    .await;
    assert_eq!((status, &item["sequence"]), (200, &json!(2)));
    assert_eq!(
        send(
            &app,
            &owner,
            "DELETE",
            &format!("{room}/pub/v1/licence-issued/{}", ids[1]),
            None
        )
        .await
        .0,
        204
    );

    let (status, first) = send(
        &app,
        &subscriber,
        "GET",
        &format!("{room}/pull/v1/licence-issued"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(first["id"], json!(ids[0]));
    assert_eq!(
        first["event"],
        json!({"licence_no": "JY0001", "holder": "清源食品1"}),
        "the phone was not granted"
    );
    assert_eq!(first["publisherId"]["applicationCode"], "LICENSING");
    assert_eq!(
        send(
            &app,
            &subscriber,
            "DELETE",
            &format!("{room}/pull/v1/licence-issued/{}", ids[0]),
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        send(
            &app,
            &subscriber,
            "DELETE",
            &format!("{room}/pull/v1/licence-issued/{}", ids[0]),
            None
        )
        .await
        .0,
        409
    );
    let (_, next) = send(
        &app,
        &subscriber,
        "GET",
        &format!("{room}/pull/v1/licence-issued"),
        None,
    )
    .await;
    assert_eq!(next["id"], json!(ids[2]), "the withdrawn event is skipped");
    assert_eq!(
        send(
            &app,
            &subscriber,
            "DELETE",
            &format!("{room}/pull/v1/licence-issued/{}", ids[2]),
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        send(
            &app,
            &subscriber,
            "GET",
            &format!("{room}/pull/v1/licence-issued"),
            None
        )
        .await
        .0,
        404
    );

    // Sealed at rest.
    let raw: Vec<Vec<u8>> = sqlx::query_scalar("SELECT body_sealed FROM pubsub_events")
        .fetch_all(app.state.pool())
        .await
        .expect("rows");
    assert!(
        raw.iter()
            .all(|r| !String::from_utf8_lossy(r).contains("13800000000"))
    );
    let (status, listed) = send(
        &app,
        &subscriber,
        "GET",
        &format!("{room}/api/v1/subs"),
        None,
    )
    .await;
    assert_eq!((status, listed.as_array().map(Vec::len)), (200, Some(1)));
    assert_eq!(
        send(
            &app,
            &subscriber,
            "DELETE",
            &format!("{room}/api/v1/subs/licence-issued"),
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        send(
            &app,
            &subscriber,
            "GET",
            &format!("{room}/api/v1/subs/licence-issued"),
            None
        )
        .await
        .0,
        404
    );
    // Every call but publishing is an exchange of the message log: the pulls and confirmations
    // are signed by both departments, and their receipts verify offline.
    let admin = app.account("demo.deptadmin").api_token.clone();
    let log: Value = app
        .get_as(&admin, "/api/v1/exchange/messages?resource=pull")
        .await
        .json()
        .await
        .expect("log");
    let pulls = log.as_array().expect("list");
    assert!(!pulls.is_empty(), "the pulls are logged");
    let id = pulls[0]["id"].as_str().expect("id");
    let receipt = app
        .get_as(&admin, &format!("/api/v1/exchange/messages/{id}/receipt"))
        .await
        .text()
        .await
        .expect("receipt");
    let trust_list = app
        .client
        .get(app.url("/api/v1/trust-list"))
        .send()
        .await
        .expect("list")
        .text()
        .await
        .expect("text");
    let record = tongban_app::exchange::verify_receipt(&trust_list, None, &receipt)
        .expect("the pull's receipt verifies");
    assert!(record.service.ends_with("/pull"), "{}", record.service);
    let market = app.account("demo.deptadmin.market").api_token.clone();
    let in_room: Value = app
        .get_as(&market, "/api/v1/exchange/messages?resource=pull")
        .await
        .json()
        .await
        .expect("log");
    assert_eq!(
        in_room.as_array().map(Vec::len),
        Some(pulls.len()),
        "the room's department logs them too"
    );
    let published: Value = app
        .get_as(&market, "/api/v1/exchange/messages?resource=pub")
        .await
        .json()
        .await
        .expect("log");
    assert_eq!(
        published.as_array().map(Vec::len),
        Some(0),
        "publications are kept by the room, not the message log"
    );
}

/// A subscriber's push address: answers 500 to the first `fail` posts, then 200; keeps what
/// it received.
async fn webhook(fail: usize) -> (String, Arc<Mutex<Vec<(Value, String, String)>>>) {
    use axum::routing::post;
    let seen: Arc<Mutex<Vec<(Value, String, String)>>> = Arc::default();
    let failures = Arc::new(Mutex::new(fail));
    let (kept, left) = (seen.clone(), failures.clone());
    let router = axum::Router::new().route(
        "/events",
        post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let (kept, left) = (kept.clone(), left.clone());
                async move {
                    let mut left = left.lock().expect("lock");
                    if *left > 0 {
                        *left -= 1;
                        return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    let header = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let _ = body;
                    kept.lock().expect("lock").push((
                        value,
                        header("x-tongban-key-id"),
                        header("x-tongban-signature"),
                    ));
                    axum::http::StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = format!("http://{}/events", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (address, seen)
}

/// Runs push rounds, moving the clock past every back-off, until `done` or ten seconds.
/// The test drives deliveries itself, with a clock it moves a minute at a time: the node's own
/// delivery job is kept off by a lease held for the test (a push the job began would otherwise
/// outlive its subscription's lease on that clock, and a second push start beside it).
async fn hold_delivery_job(app: &TestApp) {
    sqlx::query(
        "INSERT INTO job_leases (job, holder, expires_at) VALUES ($1, 'the test', $2) \
         ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
    )
    .bind("push published events")
    .bind(i64::MAX / 2)
    .execute(app.state.pool())
    .await
    .expect("lease held for the test");
}

async fn push_until(app: &TestApp, done: impl Fn() -> bool) {
    hold_delivery_job(app).await;
    for _ in 0..200 {
        if done() {
            return;
        }
        app.clock.advance(time::Duration::seconds(61));
        let _ = tongban_app::pubsub::push::deliver_due(&app.state).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn without_fifo_events_are_pushed_side_by_side_and_each_arrives_at_least_once() {
    let app = spawn_app().await;
    let (owner, subscriber, room) = setting(&app).await;
    let (address, seen) = webhook(3).await;
    let (status, sub) = send(&app, &subscriber, "POST", &format!("{room}/api/v1/subs/licence-issued"),
        Some(json!({"eventType": "licence-issued", "delivery": "PUSH", "pushUrl": address, "options": {"TTL": 86400}}))).await;
    assert_eq!(status, 200, "{sub}");
    assert_eq!(sub["options"]["FIFO"], false, "the specification's default");
    for n in 1..=40 {
        let (status, _) = send(
            &app,
            &owner,
            "POST",
            &format!("{room}/pub/v1/licence-issued"),
            Some(event(n)),
        )
        .await;
        assert_eq!(status, 201);
    }
    let all = || {
        seen.lock()
            .map(|s| {
                let got: std::collections::BTreeSet<i64> = s
                    .iter()
                    .filter_map(|(v, _, _)| v["sequence"].as_i64())
                    .collect();
                got.len() == 40
            })
            .unwrap_or(false)
    };
    push_until(&app, all).await;
    let sequences: std::collections::BTreeSet<i64> = seen
        .lock()
        .expect("lock")
        .iter()
        .filter_map(|(v, _, _)| v["sequence"].as_i64())
        .collect();
    assert_eq!(
        sequences,
        (1..=40).collect(),
        "every event, after the first pushes failed"
    );
    assert_eq!(app.count("pubsub_dead_letters").await, 0);
}

#[tokio::test]
async fn pushed_events_arrive_in_order_signed_after_retries_and_the_dead_letters_replay() {
    let app = spawn_app().await;
    let (owner, subscriber, room) = setting(&app).await;
    let (address, seen) = webhook(2).await;
    let (status, sub) = send(&app, &subscriber, "POST", &format!("{room}/api/v1/subs/licence-issued"),
        Some(json!({"eventType": "licence-issued", "delivery": "PUSH", "pushUrl": address, "options": {"TTL": 86400, "FIFO": true}}))).await;
    assert_eq!(status, 200, "{sub}");
    for n in 1..=5 {
        assert_eq!(
            send(
                &app,
                &owner,
                "POST",
                &format!("{room}/pub/v1/licence-issued"),
                Some(event(n))
            )
            .await
            .0,
            201
        );
    }
    push_until(&app, || seen.lock().map(|s| s.len() >= 5).unwrap_or(false)).await;
    let received = seen.lock().expect("lock").clone();
    let numbers: Vec<&str> = received
        .iter()
        .filter_map(|(v, _, _)| v["event"]["licence_no"].as_str())
        .collect();
    assert_eq!(
        numbers,
        ["JY0001", "JY0002", "JY0003", "JY0004", "JY0005"],
        "in order, after two failures, once each"
    );
    assert!(
        received
            .iter()
            .all(|(v, _, _)| v["event"].get("manager_phone").is_none())
    );

    // Each push is signed by the market regulator's exchange key, as the trust list binds it.
    let trust_list: String = app
        .client
        .get(app.url("/api/v1/trust-list"))
        .send()
        .await
        .expect("list")
        .text()
        .await
        .expect("text");
    let list: Value = serde_json::from_str(&trust_list).expect("json");
    let payload: Value =
        serde_json::from_str(list["payload"].as_str().expect("payload")).expect("payload");
    let (value, kid, signature) = &received[0];
    let key = payload["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == json!(kid))
        .expect("the key is listed");
    assert_eq!(key["purpose"], "exchange");
    assert_eq!(
        key["scope"]["code"],
        json!(uscc(&app, "market_regulation").await)
    );
    let public: tongban_app::keys::service::TrustedKey =
        serde_json::from_value(key.clone()).expect("key");
    use base64::Engine as _;
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .expect("b64");
    let body = serde_json::to_vec(value).expect("bytes");
    assert!(
        tongban_crypto::verify(&public.public_key().expect("public"), &body, &signature).is_ok()
    );

    // An address that never answers well: after every retry the events go to the dead letters.
    let (status, _) = send(
        &app,
        &subscriber,
        "PATCH",
        &format!("{room}/api/v1/subs/licence-issued"),
        Some(json!({"eventType": "licence-issued", "pushUrl": "http://127.0.0.1:9/events"})),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        send(
            &app,
            &owner,
            "POST",
            &format!("{room}/pub/v1/licence-issued"),
            Some(event(6))
        )
        .await
        .0,
        201
    );
    for _ in 0..50 {
        if app.count("pubsub_dead_letters").await > 0 {
            break;
        }
        app.clock.advance(time::Duration::seconds(61));
        let _ = tongban_app::pubsub::push::deliver_due(&app.state).await;
    }
    let (status, letters) = send(
        &app,
        &subscriber,
        "GET",
        &format!("{room}/api/v1/subs/licence-issued/dead-letters"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(letters.as_array().map(Vec::len), Some(1), "{letters}");
    assert_eq!(letters[0]["sequence"], 6);
    // Both departments see it on their publish/subscribe page.
    let mut consumer = app.page_login(app.account("demo.deptadmin")).await;
    let page = consumer
        .get(&app, "/exchange/subscriptions")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("licence-issued") && page.contains("127.0.0.1:9/events"),
        "{page}"
    );
    let mut room_owner = app.page_login(app.account("demo.deptadmin.market")).await;
    let page = room_owner
        .get(&app, "/exchange/subscriptions")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("licence-issued") && page.contains("SJ-SPXK-003"),
        "{page}"
    );
    let mut citizen = app.page_login(app.account("citizen.zhangwei")).await;
    assert_eq!(
        citizen.get(&app, "/exchange/subscriptions").await.status(),
        403
    );

    // Replay from the start to a working address: everything again, in order.
    seen.lock().expect("lock").clear();
    let (status, _) = send(
        &app,
        &subscriber,
        "PATCH",
        &format!("{room}/api/v1/subs/licence-issued"),
        Some(json!({"eventType": "licence-issued", "pushUrl": address, "position": 0})),
    )
    .await;
    assert_eq!(status, 201);
    push_until(&app, || seen.lock().map(|s| s.len() >= 6).unwrap_or(false)).await;
    let again: Vec<i64> = seen
        .lock()
        .expect("lock")
        .iter()
        .filter_map(|(v, _, _)| v["sequence"].as_i64())
        .collect();
    assert_eq!(again, [1, 2, 3, 4, 5, 6]);
}

#[tokio::test]
async fn every_path_of_the_pubsub_specification_answers_a_documented_status() {
    let app = spawn_app().await;
    let Some(dir) = tongban_harness::conformance::vectors_dir() else {
        eprintln!("note: IM PubSub specification not found (set TONGBAN_CONFORMANCE_DIR); skipped");
        assert!(
            std::env::var("CI").is_err(),
            "the conformance vectors are required under CI"
        );
        return;
    };
    let text = std::fs::read_to_string(
        dir.join("govstack/information-mediator/api/GovStack_IM_PubSub_API.yaml"),
    )
    .expect("spec");
    // The paths, their methods and each method's documented statuses, read by indentation.
    let mut operations: Vec<(String, String, Vec<String>)> = Vec::new();
    let (mut path, mut in_responses) = (String::new(), false);
    for line in text.lines() {
        if let Some(p) = line.strip_prefix("  /").filter(|_| line.ends_with(':')) {
            path = format!("/{}", p.trim_end_matches(':'));
        } else if let Some(m) = ["get", "post", "patch", "delete"]
            .iter()
            .find(|m| line == format!("    {m}:"))
        {
            operations.push((path.clone(), m.to_uppercase(), Vec::new()));
            in_responses = false;
        } else if line == "      responses:" {
            in_responses = true;
        } else if in_responses && line.starts_with("        '") && line.ends_with("':") {
            if let Some(op) = operations.last_mut() {
                op.2.push(
                    line.trim()
                        .trim_matches(|c| c == '\'' || c == ':')
                        .to_owned(),
                );
            }
        } else if line.starts_with("      ")
            && !line.starts_with("       ")
            && !line.contains("responses")
        {
            in_responses = false;
        }
    }
    assert_eq!(
        operations.len(),
        14,
        "the specification's operations: {operations:?}"
    );
    let (owner, subscriber, room) = setting(&app).await;
    let (_, published) = send(
        &app,
        &owner,
        "POST",
        &format!("{room}/pub/v1/licence-issued"),
        Some(event(1)),
    )
    .await;
    let event_id = published["id"].as_str().expect("id").to_owned();
    let market = uscc(&app, "market_regulation").await;
    for (template, method, documented) in &operations {
        let path = template
            .replace("{instanceId}", "CN")
            .replace("{memberClass}", "GOV")
            .replace("{memberCode}", &market)
            .replace("{applicationCode}", "LICENSING")
            .replace("{eventId}", &event_id);
        // The type the list's POST created is the one its DELETE removes.
        let path = if method == "DELETE" && template.ends_with("/api/v1/eventType/{eventType}") {
            path.replace("{eventType}", "licence-renewed")
        } else {
            path.replace("{eventType}", "licence-issued")
        };
        let who = if path.contains("/subs") || path.contains("/pull/") {
            &subscriber
        } else {
            &owner
        };
        let body = if path.contains("/subs/") {
            Some(json!({"eventType": "licence-issued", "delivery": "PULL"}))
        } else if path.ends_with("/eventType") && method == "POST" {
            Some(
                json!({"eventType": "licence-renewed", "resource": "SJ-SPXK-003", "schema": {"type": "object"}}),
            )
        } else if path.contains("/pub/") && method == "POST" {
            Some(event(2))
        } else {
            None
        };
        let (status, value) = send(&app, who, method, &path, body).await;
        assert!(
            documented.contains(&status.to_string()),
            "{method} {template}: {status} is not among {documented:?}: {value}"
        );
    }
}
