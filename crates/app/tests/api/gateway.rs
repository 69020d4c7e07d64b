//! The data-sharing gateway: a consumer reads only the items its grant covers (JSON records,
//! lists, CSV exports, the population register through the audited accessor); every exchange
//! and every refused attempt is signed by both departments' keys and logged, and a receipt
//! verifies offline; external providers' time-outs answer 504; the metadata services describe
//! what may be called; bad identifiers, missing credentials and replays are refused.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

struct Members {
    government: String,
    market: String,
    police: String,
    health: String,
}

async fn members(app: &TestApp) -> Members {
    let departments = tongban_app::admin::store::departments(app.state.pool())
        .await
        .expect("departments");
    let uscc = |kind: &str| {
        departments
            .iter()
            .find(|d| d.kind == kind && d.region_code.as_str() == "339900")
            .and_then(|d| d.uscc.clone())
            .expect("a city department with a USCC")
    };
    Members {
        government: uscc("government_services"),
        market: uscc("market_regulation"),
        police: uscc("public_security"),
        health: uscc("health"),
    }
}

async fn call(
    app: &TestApp,
    token: Option<&str>,
    client: Option<&str>,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(client) = client {
        request = request.header("X-Road-Client", client);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("call")
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn an_enterprise(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT uscc FROM enterprises ORDER BY uscc LIMIT 1")
        .fetch_one(app.state.pool())
        .await
        .expect("an enterprise")
}

async fn trust_list(app: &TestApp) -> String {
    app.client
        .get(app.url("/api/v1/trust-list"))
        .send()
        .await
        .expect("trust list")
        .text()
        .await
        .expect("text")
}

#[tokio::test]
async fn a_consumer_reads_only_its_granted_items_and_the_signed_pair_verifies_offline() {
    let app = spawn_app().await;
    let m = members(&app).await;
    let admin = app.account("demo.deptadmin").api_token.clone();
    let client = format!("CN/GOV/{}/CASES", m.government);
    let uscc = an_enterprise(&app).await;
    let path = format!(
        "/r1/CN/GOV/{}/DATA/SJ-QYDJ-001/enterprises/{uscc}",
        m.market
    );

    let response = call(
        &app,
        Some(&admin),
        Some(&client),
        &path,
        &[("Accept", "application/json")],
    )
    .await;
    assert_eq!(response.status(), 200);
    let id = header(&response, "x-road-id");
    assert_eq!(
        uuid::Uuid::parse_str(&id).map(|u| u.get_version_num()),
        Ok(4)
    );
    assert_eq!(header(&response, "x-road-client"), client);
    assert_eq!(
        header(&response, "x-road-service"),
        format!("CN/GOV/{}/DATA/SJ-QYDJ-001", m.market)
    );
    assert_eq!(header(&response, "x-road-error"), "");
    // The request hash is X-Road's, over what the consumer sent.
    let head = tongban_app::exchange::message::request_head(
        "GET",
        &path,
        &[("x-road-client", &client), ("accept", "application/json")],
    );
    assert_eq!(
        header(&response, "x-road-request-hash"),
        tongban_app::exchange::message::message_hash(&head, b"")
    );
    let record: Value = response.json().await.expect("json");
    // Granted: uscc, name, region_code — never registered_on.
    let mut keys: Vec<&str> = record
        .as_object()
        .expect("record")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["name", "region_code", "uscc"]);
    assert_eq!(record["uscc"], json!(uscc));

    // A bulk export loses the column not granted, too.
    let csv = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("/r1/CN/GOV/{}/DATA/SJ-QYDJ-001/enterprises.csv", m.market),
        &[],
    )
    .await;
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.expect("csv");
    assert!(text.starts_with("uscc,name,region_code\n"), "{text}");
    assert!(text.contains(&uscc));
    let list: Value = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("/r1/CN/GOV/{}/DATA/SJ-QYDJ-001/enterprises", m.market),
        &[],
    )
    .await
    .json()
    .await
    .expect("list");
    assert!(list["total"].as_u64().unwrap_or(0) >= 1);
    assert!(
        list["records"]
            .as_array()
            .expect("records")
            .iter()
            .all(|r| r.get("registered_on").is_none())
    );

    // The department's log shows the exchange; the receipt verifies offline.
    let log: Value = app
        .get_as(&admin, "/api/v1/exchange/messages?outcome=ok")
        .await
        .json()
        .await
        .expect("log");
    let entry = log
        .as_array()
        .expect("list")
        .iter()
        .find(|e| e["id"] == json!(id))
        .expect("the exchange is in the consumer's log")
        .clone();
    assert_eq!(entry["direction"], "out");
    assert_eq!(entry["removed_values"], 1);
    let receipt = app
        .get_as(&admin, &format!("/api/v1/exchange/messages/{id}/receipt"))
        .await;
    assert_eq!(receipt.status(), 200);
    let receipt: Value = receipt.json().await.expect("receipt");
    let list_text = trust_list(&app).await;
    let root =
        tongban_app::keys::service::signer(&app.state, "339900", tongban_app::keys::service::ROOT)
            .await
            .expect("root");
    let root = tongban_crypto::Signer::public_key(&root);
    let text = receipt.to_string();
    let verified = tongban_app::exchange::verify_receipt(&list_text, Some(&root), &text)
        .expect("the receipt verifies");
    assert_eq!(verified.id, id);
    assert_eq!(verified.status, 200);
    // The market regulator, the provider, holds the same receipt.
    let market = app.account("demo.deptadmin.market").api_token.clone();
    assert_eq!(
        app.get_as(&market, &format!("/api/v1/exchange/messages/{id}/receipt"))
            .await
            .status(),
        200
    );
    // Altered, it does not.
    let mut forged = receipt.clone();
    forged["entry"] = json!(
        receipt["entry"]
            .as_str()
            .expect("entry")
            .replace("\"status\":200", "\"status\":204")
    );
    let refusal =
        tongban_app::exchange::verify_receipt(&list_text, Some(&root), &forged.to_string())
            .expect_err("a changed status is refused");
    assert_eq!(refusal.reason, "bad_signature");
    let mut moved = receipt.clone();
    moved["index"] = json!(receipt["index"].as_u64().expect("index") + 1);
    assert!(
        tongban_app::exchange::verify_receipt(&list_text, Some(&root), &moved.to_string()).is_err()
    );
    // Another department sees neither the exchange nor its receipt.
    let health = app.account("demo.health").api_token.clone();
    assert_eq!(
        app.get_as(&health, &format!("/api/v1/exchange/messages/{id}/receipt"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn the_population_register_opens_only_granted_fields_and_the_person_sees_the_read() {
    let app = spawn_app().await;
    let m = members(&app).await;
    let admin = app.account("demo.deptadmin").api_token.clone();
    let client = format!("CN/GOV/{}/CASES", m.government);
    let zhang = app
        .account("citizen.zhangwei")
        .resident_id
        .clone()
        .expect("id");
    let response = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("/r1/CN/GOV/{}/DATA/GA-RK-001/persons/{zhang}", m.police),
        &[],
    )
    .await;
    assert_eq!(response.status(), 200);
    let id = header(&response, "x-road-id");
    let record: Value = response.json().await.expect("json");
    assert_eq!(record["resident_id"], json!(zhang));
    assert_eq!(record["name"], "张伟");
    assert!(
        record.get("phone").is_none(),
        "the phone was not granted: {record}"
    );
    assert!(record.get("region_code").is_none());

    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let access: Value = app
        .get_as(&citizen, "/api/v1/me/access-log")
        .await
        .json()
        .await
        .expect("access log");
    let read = access
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["purpose"] == "data_sharing")
        .expect("the read is in the person's view");
    assert_eq!(
        read["categories"], "name,resident_id",
        "only the fields read: {read}"
    );
    use base64::Engine as _;
    let entry: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(read["entry"].as_str().expect("entry"))
            .expect("base64"),
    )
    .expect("entry json");
    assert_eq!(
        entry["request_id"],
        json!(id),
        "the message id is recorded with the read"
    );

    // A grant of the region of residence alone is a read of personal data too, and recorded.
    let actor = tongban_app::identity::service::actor_from_token(&app.state, &admin)
        .await
        .expect("token")
        .expect("actor");
    let person = app.person_id_of("citizen.zhangwei").await;
    let region = tongban_app::identity::personal::read_person_shared(
        &app.state,
        &actor,
        &person,
        &["region_code"],
        "region-only",
    )
    .await
    .expect("read");
    assert_eq!(region.len(), 1);
    assert_eq!(region[0].0, "region_code");
    let access: Value = app
        .get_as(&citizen, "/api/v1/me/access-log")
        .await
        .json()
        .await
        .expect("access log");
    assert!(
        access
            .as_array()
            .expect("list")
            .iter()
            .any(|a| a["categories"] == "region_code" && a["purpose"] == "data_sharing"),
        "{access}"
    );
}

#[tokio::test]
async fn without_a_grant_the_call_is_refused_signed_and_logged_and_a_revocation_takes_effect_at_once()
 {
    let app = spawn_app().await;
    let m = members(&app).await;
    let uscc = an_enterprise(&app).await;
    let admin = app.account("demo.deptadmin").api_token.clone();
    let client = format!("CN/GOV/{}/CASES", m.government);

    // SJ-GTH-002 is shared only on the owner's decision, still pending.
    let response = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("/r1/CN/GOV/{}/DATA/SJ-GTH-002/x", m.market),
        &[],
    )
    .await;
    assert_eq!(response.status(), 403);
    assert_eq!(header(&response, "x-road-error"), "Client.AccessDenied");
    assert!(header(&response, "content-type").starts_with("application/problem+json"));
    let refused_id = header(&response, "x-road-id");
    let body: Value = response.json().await.expect("problem");
    assert_eq!(body["type"], "Client.AccessDenied");
    assert_eq!(body["status"], 403);
    let log: Value = app
        .get_as(&admin, "/api/v1/exchange/messages?outcome=refused")
        .await
        .json()
        .await
        .expect("log");
    assert!(
        log.as_array()
            .expect("list")
            .iter()
            .any(|e| e["id"] == json!(refused_id) && e["status"] == 403),
        "the attempt is logged: {log}"
    );

    // The market regulator revokes the enterprise-register grant: the next call is refused.
    let path = format!(
        "/r1/CN/GOV/{}/DATA/SJ-QYDJ-001/enterprises/{uscc}",
        m.market
    );
    assert_eq!(
        call(&app, Some(&admin), Some(&client), &path, &[])
            .await
            .status(),
        200
    );
    let market = app.account("demo.deptadmin.market").api_token.clone();
    let requests: Value = app
        .get_as(&market, "/api/v1/exchange/requests")
        .await
        .json()
        .await
        .expect("requests");
    let grant = requests
        .as_array()
        .expect("list")
        .iter()
        .find(|r| r["resource"] == "SJ-QYDJ-001" && r["state"] == "granted")
        .expect("the grant")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let revoked = app
        .post_as(
            &market,
            &format!("/api/v1/exchange/requests/{grant}/revoke"),
            &json!({"note": "用途已结束"}),
        )
        .await;
    assert_eq!(revoked.status(), 200);
    let response = call(&app, Some(&admin), Some(&client), &path, &[]).await;
    assert_eq!(response.status(), 403, "the cached route was dropped");
    assert_eq!(header(&response, "x-road-error"), "Client.AccessDenied");
}

#[tokio::test]
async fn bad_identifiers_missing_credentials_and_replays_are_refused_before_anything_is_called() {
    let app = spawn_app().await;
    let m = members(&app).await;
    let admin = app.account("demo.deptadmin").api_token.clone();
    let client = format!("CN/GOV/{}/CASES", m.government);
    let good = format!("/r1/CN/GOV/{}/DATA/SJ-QYDJ-001/enterprises", m.market);
    let before = app.count("exchange_messages").await;

    type Case<'a> = (
        Option<&'a str>,
        Option<String>,
        String,
        Vec<(&'a str, &'a str)>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            Some(&admin),
            None,
            good.clone(),
            vec![],
            400,
            "Client.BadRequest",
        ),
        (
            Some(&admin),
            Some("CN/GOV".into()),
            good.clone(),
            vec![],
            400,
            "Client.BadRequest",
        ),
        (
            Some(&admin),
            Some(format!("CN/GOV/{}/A%0AB", m.government)),
            good.clone(),
            vec![],
            400,
            "Client.BadRequest",
        ),
        (
            None,
            Some(client.clone()),
            good.clone(),
            vec![],
            401,
            "Client.Unauthenticated",
        ),
        // In another department's name.
        (
            Some(&admin),
            Some(format!("CN/GOV/{}/CASES", m.health)),
            good.clone(),
            vec![],
            403,
            "Client.NotAuthorised",
        ),
        (
            Some(&admin),
            Some(format!("XX/GOV/{}/CASES", m.government)),
            good.clone(),
            vec![],
            403,
            "Client.NotAuthorised",
        ),
        (
            Some(&admin),
            Some(client.clone()),
            format!("/r1/CN/GOV/{}/DATA", m.market),
            vec![],
            400,
            "Client.BadRequest",
        ),
        (
            Some(&admin),
            Some(client.clone()),
            format!("/r1/CN/GOV/{}/OTHER/SJ-QYDJ-001/x", m.market),
            vec![],
            404,
            "Server.ServerProxy.UnknownService",
        ),
        (
            Some(&admin),
            Some(client.clone()),
            "/r1/CN/GOV/91000000000000000X/DATA/SJ-QYDJ-001/x".into(),
            vec![],
            404,
            "Server.ServerProxy.UnknownService",
        ),
        (
            Some(&admin),
            Some(client.clone()),
            good.clone(),
            vec![("X-Road-Id", "a b")],
            400,
            "Client.BadRequest",
        ),
    ];
    for (token, client_header, path, headers, status, kind) in &cases {
        let response = call(&app, *token, client_header.as_deref(), path, headers).await;
        assert_eq!(response.status(), *status, "{path} {client_header:?}");
        assert_eq!(header(&response, "x-road-error"), *kind, "{path}");
        let body: Value = response.json().await.expect("problem+json");
        assert_eq!(body["status"], json!(status));
    }
    assert_eq!(
        app.count("exchange_messages").await,
        before,
        "nothing was logged or called"
    );

    // A path that climbs out of the provider is refused after the grant check, and logged.
    let response = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("{good}/..%2Fadmin"),
        &[],
    )
    .await;
    assert_eq!(response.status(), 400);
    // A message id is used once.
    let id = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        call(
            &app,
            Some(&admin),
            Some(&client),
            &good,
            &[("X-Road-Id", &id)]
        )
        .await
        .status(),
        200
    );
    let replay = call(
        &app,
        Some(&admin),
        Some(&client),
        &good,
        &[("X-Road-Id", &id)],
    )
    .await;
    assert_eq!(replay.status(), 409);
    assert_eq!(header(&replay, "x-road-error"), "Client.DuplicateMessageId");
}

/// A department's own system behind the gateway: a record with more fields than granted, a
/// slow path, and an answer in a format the gateway cannot filter.
async fn external_provider() -> (String, tokio::task::JoinHandle<()>) {
    use axum::routing::get;
    let router = axum::Router::new()
        .route(
            "/licences/{no}",
            get(|| async {
                (
                    [("x-provider-note", "kept")],
                    axum::Json(
                        json!({"licence_no": "JY1", "holder": "清源食品", "inspector": "internal"}),
                    ),
                )
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                axum::Json(json!({}))
            }),
        )
        .route("/text", get(|| async { "holder=清源食品" }))
        .route(
            "/missing",
            get(|| async {
                (
                    axum::http::StatusCode::NOT_FOUND,
                    axum::Json(json!({"detail": "no such licence", "holder": "清源食品"})),
                )
            }),
        )
        .route(
            "/huge",
            get(|| async { ([("content-type", "application/json")], vec![b' '; 33 << 20]) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (address, task)
}

/// The market regulator's food licences, served by its own system at `address`.
async fn save_food_licences(app: &TestApp, market: &str, address: &str) {
    let saved = app
        .client
        .put(app.url("/api/v1/exchange/resources/SJ-SPXK-003"))
        .bearer_auth(market)
        .json(&json!({
            "name": "食品经营许可信息",
            "description": "食品经营许可证的编号、主体与有效期。",
            "share_type": "unconditional",
            "open_type": "unconditional",
            "update_cycle": "daily",
            "format": "api",
            "service": address,
            "items": [
                {"code": "licence_no", "name": "许可证编号", "kind": "string"},
                {"code": "holder", "name": "经营者名称", "kind": "string"},
                {"code": "valid_until", "name": "有效期至", "kind": "date"},
            ],
        }))
        .send()
        .await
        .expect("save");
    assert_eq!(saved.status(), 200);
}

#[tokio::test]
async fn an_external_provider_is_filtered_timed_out_and_its_absence_reported() {
    let app = spawn_app_with(|config| config.exchange_timeout_ms = 500).await;
    let m = members(&app).await;
    let (address, provider) = external_provider().await;
    let market = app.account("demo.deptadmin.market").api_token.clone();
    save_food_licences(&app, &market, &address).await;
    let admin = app.account("demo.deptadmin").api_token.clone();
    let until = tongban_core::zone::ymd(app.state.today() + time::Duration::days(30));
    let asked = app
        .post_as(
            &admin,
            "/api/v1/exchange/requests",
            &json!({"resource": "SJ-SPXK-003", "items": ["licence_no"], "purpose": "食品经营许可核验",
                    "legal_basis": "《食品安全法》", "until": until}),
        )
        .await;
    assert_eq!(asked.status(), 201);
    let client = format!("CN/GOV/{}/CASES", m.government);
    let base = format!("/r1/CN/GOV/{}/DATA/SJ-SPXK-003", m.market);

    let response = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("{base}/licences/JY1"),
        &[],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "x-provider-note"),
        "kept",
        "user headers pass"
    );
    assert_eq!(
        response.json::<Value>().await.expect("json"),
        json!({"licence_no": "JY1"})
    );

    let slow = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("{base}/slow"),
        &[],
    )
    .await;
    assert_eq!(slow.status(), 504);
    assert_eq!(
        header(&slow, "x-road-error"),
        "Server.ServerProxy.ServiceTimeout"
    );

    let text = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("{base}/text"),
        &[],
    )
    .await;
    assert_eq!(text.status(), 502);
    assert_eq!(
        header(&text, "x-road-error"),
        "Server.ServerProxy.UnfilterableResponse"
    );
    assert!(
        !text.text().await.expect("body").contains("清源"),
        "nothing of it passes"
    );

    // A provider's error passes with only a problem's members, and exactly as signed.
    let missing = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("{base}/missing"),
        &[],
    )
    .await;
    assert_eq!(missing.status(), 404);
    let missing_id = header(&missing, "x-road-id");
    let content_type = header(&missing, "content-type");
    let body = missing.bytes().await.expect("body");
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("json"),
        json!({"detail": "no such licence"})
    );
    let receipt: Value = app
        .get_as(
            &admin,
            &format!("/api/v1/exchange/messages/{missing_id}/receipt"),
        )
        .await
        .json()
        .await
        .expect("receipt");
    let entry: Value =
        serde_json::from_str(receipt["entry"].as_str().expect("entry")).expect("record");
    assert_eq!(
        entry["response_hash"],
        json!(tongban_app::exchange::message::message_hash(
            &tongban_app::exchange::message::response_head(404, Some(&content_type)),
            &body
        )),
        "the consumer receives what was signed"
    );

    let huge = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("{base}/huge"),
        &[],
    )
    .await;
    assert_eq!(
        huge.status(),
        502,
        "an answer too large to filter is refused"
    );
    assert_eq!(
        header(&huge, "x-road-error"),
        "Server.ServerProxy.ServiceFailed"
    );

    provider.abort();
    let _ = provider.await;
    let gone = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("{base}/licences/JY1"),
        &[],
    )
    .await;
    assert_eq!(gone.status(), 502);
    assert_eq!(
        header(&gone, "x-road-error"),
        "Server.ServerProxy.ServiceFailed"
    );
    let log: Value = app
        .get_as(&admin, "/api/v1/exchange/messages?resource=SJ-SPXK-003")
        .await
        .json()
        .await
        .expect("log");
    let statuses: Vec<i64> = log
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|e| e["status"].as_i64())
        .collect();
    assert_eq!(
        statuses,
        [502, 502, 404, 502, 504, 200],
        "every exchange is logged, newest first"
    );
}

#[tokio::test]
async fn a_registered_openapi_description_lists_the_endpoints_and_keeps_calls_to_them() {
    let app = spawn_app().await;
    let m = members(&app).await;
    let (address, _provider) = external_provider().await;
    let market = app.account("demo.deptadmin.market").api_token.clone();
    save_food_licences(&app, &market, &address).await;
    let document = json!({
        "openapi": "3.0.3",
        "info": {"title": "食品经营许可", "version": "2.1"},
        "servers": [{"url": address}],
        "paths": {"/licences/{no}": {"get": {"summary": "一张许可证",
            "parameters": [{"name": "no", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "许可证"}}}}},
    });
    let describe = |token: String, document: Value| {
        let app = &app;
        async move {
            app.client
                .put(app.url("/api/v1/exchange/resources/SJ-SPXK-003/openapi"))
                .bearer_auth(token)
                .json(&document)
                .send()
                .await
                .expect("describe")
        }
    };
    let admin = app.account("demo.deptadmin").api_token.clone();
    assert_eq!(
        describe(admin.clone(), document.clone()).await.status(),
        403,
        "not theirs"
    );
    assert_eq!(
        describe(market.clone(), json!({"swagger": "2.0", "paths": {}}))
            .await
            .status(),
        422
    );
    let described = describe(market.clone(), document.clone()).await;
    assert_eq!(described.status(), 200);
    assert_eq!(
        described.json::<Value>().await.expect("json")["endpoints"],
        json!([{"method": "GET", "path": "/licences/{no}"}])
    );
    // The platform's own registries describe themselves.
    let own = app
        .client
        .put(app.url("/api/v1/exchange/resources/SJ-QYDJ-001/openapi"))
        .bearer_auth(&market)
        .json(&document)
        .send()
        .await
        .expect("describe");
    assert_eq!(own.status(), 409);

    let until = tongban_core::zone::ymd(app.state.today() + time::Duration::days(30));
    let asked = app
        .post_as(
            &admin,
            "/api/v1/exchange/requests",
            &json!({"resource": "SJ-SPXK-003", "items": ["licence_no"], "purpose": "食品经营许可核验",
                    "legal_basis": "《食品安全法》", "until": until}),
        )
        .await;
    assert_eq!(asked.status(), 201);
    let client = format!("CN/GOV/{}/CASES", m.government);
    let base = format!("/r1/CN/GOV/{}/DATA", m.market);
    let methods: Value = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("{base}/listMethods"),
        &[],
    )
    .await
    .json()
    .await
    .expect("json");
    let service = methods["member"]
        .as_array()
        .expect("members")
        .iter()
        .find(|s| s["serviceCode"] == "SJ-SPXK-003")
        .expect("the service is listed")
        .clone();
    assert_eq!(
        service["endpointList"]["member"],
        json!([{"method": "GET", "path": "/licences/*"}])
    );
    let openapi: Value = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("{base}/getOpenAPI?serviceCode=SJ-SPXK-003"),
        &[],
    )
    .await
    .json()
    .await
    .expect("json");
    assert_eq!(openapi["info"]["version"], "2.1", "the registered document");
    assert_eq!(
        openapi["servers"][0]["url"],
        format!("/r1/CN/GOV/{}/DATA/SJ-SPXK-003", m.market),
        "consumers are sent through the gateway, never to the system itself"
    );

    let described_call = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("{base}/SJ-SPXK-003/licences/JY1"),
        &[],
    )
    .await;
    assert_eq!(described_call.status(), 200);
    assert_eq!(
        described_call.json::<Value>().await.expect("json"),
        json!({"licence_no": "JY1"})
    );
    let undescribed = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("{base}/SJ-SPXK-003/text"),
        &[],
    )
    .await;
    assert_eq!(undescribed.status(), 404);
    assert_eq!(
        header(&undescribed, "x-road-error"),
        "Server.ServerProxy.UnknownEndpoint"
    );
    let log: Value = app
        .get_as(&admin, "/api/v1/exchange/messages?resource=SJ-SPXK-003")
        .await
        .json()
        .await
        .expect("log");
    assert_eq!(
        log.as_array().map(Vec::len),
        Some(2),
        "the refused call is logged too"
    );

    // The owner keeps the description on the resource's editor page.
    let mut owner = app.page_login(app.account("demo.deptadmin.market")).await;
    let editor = owner
        .get(&app, "/exchange/resources/SJ-SPXK-003/edit")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        editor.contains("id=\"openapi\"") && editor.contains("/licences/{no}"),
        "{editor}"
    );
    let csrf = crate::helpers::hidden_csrf(&editor);
    let refused = owner
        .post_form(
            &app,
            "/exchange/resources/SJ-SPXK-003/openapi",
            &[
                ("csrf", &csrf),
                ("document", "{\"openapi\": \"3.0.0\", \"paths\": {}}"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.expect("html").contains("服务描述"));
    let replaced = document
        .to_string()
        .replace("/licences/{no}", "/permits/{no}");
    let saved = owner
        .post_form(
            &app,
            "/exchange/resources/SJ-SPXK-003/openapi",
            &[("csrf", &csrf), ("document", &replaced)],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let now_described = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("{base}/SJ-SPXK-003/licences/JY1"),
        &[],
    )
    .await;
    assert_eq!(
        now_described.status(),
        404,
        "the replaced description counts at once"
    );
}

#[tokio::test]
async fn certificates_come_through_the_gateway_only_by_authorised_use_and_applications_without_the_applicant()
 {
    let app = spawn_app().await;
    let m = members(&app).await;
    let departments = tongban_app::admin::store::departments(app.state.pool())
        .await
        .expect("departments");
    let city = |kind: &str| {
        departments
            .iter()
            .find(|d| d.kind == kind && d.region_code.as_str() == "339900")
            .cloned()
            .expect("a city department")
    };
    let tax = city("taxation");
    let clerk = app.account("demo.clerk.tax").api_token.clone();
    let client = format!("CN/GOV/{}/CASES", tax.uscc.clone().expect("uscc"));
    let path = format!(
        "/r1/CN/GOV/{}/DATA/ZW-DZZZ-001/certificates/use",
        m.government
    );
    let holder = app.account("enterprise.qingyuan").clone();
    let types: Value = app
        .get_as(&holder.api_token, "/api/v1/cert-types")
        .await
        .json()
        .await
        .expect("types");
    let licence = types
        .as_array()
        .and_then(|l| l.iter().find(|t| t["name"] == "营业执照"))
        .and_then(|t| t["code"].as_str())
        .expect("the licence type")
        .to_owned();
    let ask = || {
        let (app, clerk, client, path) = (&app, clerk.clone(), client.clone(), path.clone());
        let body = json!({"holder": {"uscc": holder.uscc.clone().expect("uscc")},
            "type_code": licence, "service_code": "339900-SW-0001", "cause": "新办纳税人核验营业执照"});
        async move {
            app.client
                .post(app.url(&path))
                .bearer_auth(clerk)
                .header("X-Road-Client", client)
                .json(&body)
                .send()
                .await
                .expect("use")
        }
    };
    // Without the holder's consent the library refuses; the holder is asked.
    let refused = ask().await;
    assert_eq!(refused.status(), 403);
    let requests: Value = app
        .get_as(&holder.api_token, "/api/v1/me/cert-authorisations")
        .await
        .json()
        .await
        .expect("json");
    let id = requests[0]["id"]
        .as_str()
        .expect("a request to the holder")
        .to_owned();
    let decided = app
        .post_as(
            &holder.api_token,
            &format!("/api/v1/me/cert-authorisations/{id}"),
            &json!({"decision": "once"}),
        )
        .await;
    assert_eq!(decided.status(), 204);
    let used = ask().await;
    assert_eq!(used.status(), 200);
    let exchange_id = header(&used, "x-road-id");
    let copy: Value = used.json().await.expect("copy");
    assert_eq!(copy["copy"]["annotation"]["basis"], "consent");
    assert!(copy["signature"].is_string() && copy["kid"].is_string());
    let verified = app
        .post_as(&clerk, "/api/v1/certs/copies/verify", &copy)
        .await;
    assert_eq!(verified.status(), 200);
    assert_eq!(
        verified.json::<Value>().await.expect("json")["valid"],
        true,
        "the copy passes the gateway unaltered"
    );
    assert_eq!(ask().await.status(), 403, "the one-time consent is used up");
    let uses: Value = app
        .get_as(&holder.api_token, "/api/v1/me/cert-uses")
        .await
        .json()
        .await
        .expect("uses");
    assert_eq!(
        uses.as_array()
            .map(|u| u.iter().filter(|u| u["outcome"] == "released").count()),
        Some(1),
        "the holder's usage record has the use: {uses}"
    );
    let admin_log: Value = app
        .get_as(
            &app.account("demo.deptadmin").api_token,
            "/api/v1/exchange/messages?resource=ZW-DZZZ-001",
        )
        .await
        .json()
        .await
        .expect("log");
    assert!(
        admin_log
            .as_array()
            .expect("list")
            .iter()
            .any(|e| e["id"] == json!(exchange_id)),
        "the library's department logs the exchange"
    );

    // The market regulator reads an application's state — not who applied, nor the form.
    // A citizen's application, handled by a department of the city.
    let application = crate::applications::submitted(&app).await;
    let market = app.account("demo.deptadmin.market").api_token.clone();
    let market_client = format!("CN/GOV/{}/CASES", m.market);
    let read = call(
        &app,
        Some(&market),
        Some(&market_client),
        &format!(
            "/r1/CN/GOV/{}/DATA/ZW-BJ-001/applications/{application}",
            m.government
        ),
        &[],
    )
    .await;
    assert_eq!(read.status(), 200);
    let record: Value = read.json().await.expect("record");
    let mut keys: Vec<&str> = record
        .as_object()
        .expect("record")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["due_day", "id", "item_code", "state"],
        "only the granted items"
    );
    assert_eq!(record["id"], json!(application));
    let unknown = call(
        &app,
        Some(&market),
        Some(&market_client),
        &format!(
            "/r1/CN/GOV/{}/DATA/ZW-BJ-001/applications/{}",
            m.government,
            uuid::Uuid::new_v4()
        ),
        &[],
    )
    .await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn the_metadata_services_describe_what_may_be_called() {
    let app = spawn_app().await;
    let m = members(&app).await;
    let admin = app.account("demo.deptadmin").api_token.clone();
    let client = format!("CN/GOV/{}/CASES", m.government);
    let list: Value = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("/r1/CN/GOV/{}/DATA/listMethods", m.market),
        &[],
    )
    .await
    .json()
    .await
    .expect("listMethods");
    let codes: Vec<&str> = list["member"]
        .as_array()
        .expect("member")
        .iter()
        .filter_map(|s| s["serviceCode"].as_str())
        .collect();
    assert_eq!(
        codes,
        ["SJ-QYDJ-001"],
        "only resources a system serves, never unshared ones"
    );
    let service = &list["member"][0];
    assert_eq!(service["objectType"], "SERVICE");
    assert_eq!(service["memberCode"], json!(m.market));
    assert_eq!(service["applicationCode"], "DATA");
    assert!(
        service["endpointList"]["member"]
            .as_array()
            .expect("endpoints")
            .iter()
            .any(|e| e["path"] == "/enterprises/*")
    );

    let allowed: Value = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("/r1/CN/GOV/{}/DATA/allowedMethods", m.police),
        &[],
    )
    .await
    .json()
    .await
    .expect("allowedMethods");
    assert_eq!(allowed["member"][0]["serviceCode"], "GA-RK-001");
    // The market regulator's administrator has no grant of the population register.
    let market = app.account("demo.deptadmin.market").api_token.clone();
    let none: Value = call(
        &app,
        Some(&market),
        Some(&format!("CN/GOV/{}/X", m.market)),
        &format!("/r1/CN/GOV/{}/DATA/allowedMethods", m.police),
        &[],
    )
    .await
    .json()
    .await
    .expect("allowedMethods");
    assert_eq!(none["member"], json!([]));

    let openapi: Value = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!(
            "/r1/CN/GOV/{}/DATA/getOpenAPI?serviceCode=GA-RK-001",
            m.police
        ),
        &[],
    )
    .await
    .json()
    .await
    .expect("getOpenAPI");
    assert_eq!(openapi["openapi"], "3.0.3");
    assert_eq!(
        openapi["components"]["schemas"]["Record"]["properties"]["resident_id"]["x-personal-data"],
        "id_number"
    );
    assert!(openapi["paths"]["/persons/{id}"]["get"].is_object());
    let missing = call(
        &app,
        Some(&admin),
        Some(&client),
        &format!("/r1/CN/GOV/{}/DATA/getOpenAPI", m.police),
        &[],
    )
    .await;
    assert_eq!(missing.status(), 400);

    let clients: Value = app
        .get_as(&admin, "/listClients")
        .await
        .json()
        .await
        .expect("listClients");
    let members = clients["member"].as_array().expect("member");
    assert!(
        members
            .iter()
            .any(|c| c["id"]["memberCode"] == json!(m.police)
                && c["id"]["objectType"] == "APPLICATION"
                && c["id"]["applicationCode"] == "DATA")
    );
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    assert_eq!(app.get_as(&citizen, "/listClients").await.status(), 403);
}

#[tokio::test]
async fn the_pages_show_what_may_be_called_and_the_log_with_its_receipts() {
    let app = spawn_app().await;
    let m = members(&app).await;
    let admin = app.account("demo.deptadmin").clone();
    let client = format!("CN/GOV/{}/CASES", m.government);
    let uscc = an_enterprise(&app).await;
    let path = format!(
        "/r1/CN/GOV/{}/DATA/SJ-QYDJ-001/enterprises/{uscc}",
        m.market
    );
    let called = call(&app, Some(&admin.api_token), Some(&client), &path, &[]).await;
    let id = header(&called, "x-road-id");

    let mut browser = app.page_login(&admin).await;
    let services = browser.get(&app, "/exchange/services").await;
    assert_eq!(services.status(), 200);
    let html = services.text().await.expect("html");
    assert!(
        html.contains("id=\"service-GA-RK-001\""),
        "the population register grant"
    );
    assert!(html.contains(&format!("/r1/CN/GOV/{}/DATA/SJ-QYDJ-001", m.market)));
    assert!(html.contains("/exchange/services/SJ-QYDJ-001/openapi.json"));
    let openapi = browser
        .get(&app, "/exchange/services/SJ-QYDJ-001/openapi.json")
        .await;
    assert_eq!(openapi.status(), 200);
    let openapi: Value = openapi.json().await.expect("openapi");
    assert!(openapi["paths"]["/enterprises/{id}"]["get"].is_object());

    let log = browser.get(&app, "/exchange/messages?outcome=ok").await;
    assert_eq!(log.status(), 200);
    let html = log.text().await.expect("html");
    assert!(
        html.contains(&format!("id=\"message-{id}\"")),
        "the exchange is listed"
    );
    assert!(html.contains(&format!("/api/v1/exchange/messages/{id}/receipt")));
    let receipt = browser
        .get(&app, &format!("/api/v1/exchange/messages/{id}/receipt"))
        .await;
    assert_eq!(
        receipt.status(),
        200,
        "the receipt downloads with the page session"
    );
    let none = browser
        .get(&app, "/exchange/messages?resource=GA-RK-001")
        .await;
    assert!(
        !none
            .text()
            .await
            .expect("html")
            .contains(&format!("message-{id}"))
    );
    let checked = browser
        .get(&app, &format!("/exchange/messages/{id}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(
        checked.contains("核验通过") && checked.contains(&client),
        "{checked}"
    );
    let mut health = app.page_login(app.account("demo.health")).await;
    assert_eq!(
        health
            .get(&app, &format!("/exchange/messages/{id}"))
            .await
            .status(),
        404,
        "another department's exchange is not found"
    );
    let bad = browser.get(&app, "/exchange/messages?from=yesterday").await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.expect("html").contains("YYYY-MM-DD"));

    let mut citizen = app.page_login(app.account("citizen.zhangwei")).await;
    assert_eq!(citizen.get(&app, "/exchange/messages").await.status(), 403);
    assert_eq!(citizen.get(&app, "/exchange/services").await.status(), 403);
}
