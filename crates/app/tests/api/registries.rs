//! Digital registries (the GovStack Digital Registries Data API): a department keeps its
//! records — checked against its resource's items, sealed at rest — through every operation
//! of the specification; other departments read them only through the gateway and only the
//! items granted; a person sees who read their data. Every path and response shape of the
//! published specification is exercised (skipped with a note where it is absent).

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

fn spec() -> Option<Value> {
    let dir = tongban_harness::conformance::vectors_dir()?;
    let text = std::fs::read_to_string(dir.join(
        "govstack/digital-registries/api/GovStack_Digital_registries_BB_Data_API_template-1.3.0.json",
    ))
    .ok()?;
    serde_json::from_str(&text).ok()
}

async fn uscc(app: &TestApp, kind: &str) -> String {
    tongban_app::admin::store::departments(app.state.pool())
        .await
        .expect("departments")
        .into_iter()
        .find(|d| d.kind == kind && d.region_code.as_str() == "339900")
        .and_then(|d| d.uscc)
        .expect("a USCC")
}

struct Keeper {
    token: String,
    client: String,
}

async fn send(
    app: &TestApp,
    who: &Keeper,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = app
        .client
        .request(method, app.url(path))
        .bearer_auth(&who.token)
        .header("Information-Mediator-Client", &who.client);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The market regulator's food-licence register, as a registry `licences/1.0`.
async fn licence_registry(app: &TestApp) -> Keeper {
    let token = app.account("demo.deptadmin.market").api_token.clone();
    let saved = app
        .client
        .put(app.url("/api/v1/exchange/resources/SJ-SPXK-003"))
        .bearer_auth(&token)
        .json(&json!({
            "name": "食品经营许可信息",
            "description": "食品经营许可证的编号、经营者、有效期与负责人。",
            "share_type": "conditional",
            "share_conditions": "仅限食品相关事项",
            "open_type": "none",
            "update_cycle": "daily",
            "format": "api",
            "service": "digital-registry",
            "items": [
                {"code": "licence_no", "name": "许可证编号", "kind": "string", "length": 20},
                {"code": "holder", "name": "经营者名称", "kind": "string"},
                {"code": "valid_until", "name": "有效期至", "kind": "date"},
                {"code": "staff", "name": "从业人数", "kind": "integer"},
                {"code": "manager_phone", "name": "负责人电话", "kind": "string", "personal": "phone"},
            ],
        }))
        .send()
        .await
        .expect("save");
    assert_eq!(saved.status(), 200);
    let defined = app
        .client
        .put(app.url("/api/v1/exchange/registries/licences/1.0"))
        .bearer_auth(&token)
        .json(&json!({"resource": "SJ-SPXK-003", "id_item": "licence_no"}))
        .send()
        .await
        .expect("define");
    assert_eq!(defined.status(), 201);
    Keeper {
        token,
        client: format!("CN/GOV/{}/licensing", uscc(app, "market_regulation").await),
    }
}

#[tokio::test]
async fn a_department_keeps_its_registry_through_every_operation_of_the_data_api() {
    let app = spawn_app().await;
    let keeper = licence_registry(&app).await;
    let base = "/data/licences/1.0";
    let record = json!({"licence_no": "JY13399010001", "holder": "临江清源食品有限公司", "valid_until": "2029-06-30", "staff": 12, "manager_phone": "13800000001"});

    let (status, created) = send(
        &app,
        &keeper,
        "POST",
        &format!("{base}/create"),
        Some(json!({"write": {"content": record}})),
    )
    .await;
    assert_eq!((status, &created["content"]), (200, &record));
    let (status, _) = send(
        &app,
        &keeper,
        "POST",
        &format!("{base}/create"),
        Some(json!({"write": {"content": record}})),
    )
    .await;
    assert_eq!(status, 409, "an ID is registered once");
    for bad in [
        json!({"write": {"content": {"licence_no": "X1", "staff": "twelve"}}}),
        json!({"write": {"content": {"licence_no": "X2", "valid_until": "30/06/2029"}}}),
        json!({"write": {"content": {"licence_no": "X3", "colour": "red"}}}),
        json!({"write": {"content": {"holder": "no ID"}}}),
        json!({"write": {"content": {"licence_no": "X".repeat(21)}}}),
        json!({"write": {}}),
        json!({"content": {}}),
    ] {
        let (status, body) = send(
            &app,
            &keeper,
            "POST",
            &format!("{base}/create"),
            Some(bad.clone()),
        )
        .await;
        assert_eq!(status, 422, "{bad} → {body}");
    }
    for n in 2..=12 {
        let (status, _) = send(&app, &keeper, "POST", &format!("{base}/create"), Some(json!({"write": {"content": {
            "licence_no": format!("JY133990100{n:02}"), "holder": format!("临江测试餐饮店{n}"), "valid_until": "2027-12-31", "staff": n}}}))).await;
        assert_eq!(status, 200);
    }

    let (status, read) = send(
        &app,
        &keeper,
        "POST",
        &format!("{base}/read"),
        Some(json!({"query": {"content": {"licence_no": "JY13399010001"}}})),
    )
    .await;
    assert_eq!(
        (status, &read["content"]["holder"]),
        (200, &json!("临江清源食品有限公司"))
    );
    let (status, missing) = send(
        &app,
        &keeper,
        "POST",
        &format!("{base}/read"),
        Some(json!({"query": {"content": {"licence_no": "NONE"}}})),
    )
    .await;
    assert_eq!(
        (status, &missing["detail"]),
        (404, &json!("no record found"))
    );
    let (_, found) = send(
        &app,
        &keeper,
        "POST",
        &format!("{base}/exists"),
        Some(json!({"query": {"content": {"holder": "临江测试餐饮店3"}}})),
    )
    .await;
    assert_eq!(found["answer"]["status"], true);
    let (_, absent) = send(
        &app,
        &keeper,
        "POST",
        &format!("{base}/exists"),
        Some(json!({"query": {"content": {"holder": "nobody"}}})),
    )
    .await;
    assert_eq!(absent["answer"]["status"], false);

    let (status, page) = send(
        &app,
        &keeper,
        "GET",
        &format!(
            "{base}?search=%E6%B5%8B%E8%AF%95&filter=holder&ordering=descending&page=2&pageSize=5"
        ),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["count"], 11);
    assert_eq!(page["results"].as_array().map(Vec::len), Some(5));
    assert_eq!(
        page["results"][0]["licence_no"], "JY13399010007",
        "descending by ID, second page"
    );
    assert!(page["next"].as_str().is_some_and(|n| n.contains("page=3")));
    assert!(
        page["previous"]
            .as_str()
            .is_some_and(|n| n.contains("page=1"))
    );
    let (_, exact) = send(
        &app,
        &keeper,
        "GET",
        &format!("{base}?query.staff=12"),
        None,
    )
    .await;
    assert_eq!(exact["count"], 2);
    let (status, _) = send(
        &app,
        &keeper,
        "GET",
        &format!("{base}?query.colour=red"),
        None,
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = send(&app, &keeper, "GET", &format!("{base}?pageSize=0"), None).await;
    assert_eq!(status, 422);

    let (status, _) = send(&app, &keeper, "PUT", &format!("{base}/update"), Some(json!({"query": {"content": {"licence_no": "JY13399010001"}}, "write": {"content": {"staff": 15}}}))).await;
    assert_eq!(status, 200);
    let (status, _) = send(&app, &keeper, "PUT", &format!("{base}/update"), Some(json!({"query": {"content": {"licence_no": "JY13399010001"}}, "write": {"content": {"licence_no": "OTHER"}}}))).await;
    assert_eq!(status, 422, "an ID does not change");
    let (status, updated) = send(&app, &keeper, "PUT", &format!("{base}/updateEntries"), Some(json!({"query": {"content": {"valid_until": "2027-12-31"}}, "write": {"content": {"valid_until": "2028-12-31"}}}))).await;
    assert_eq!((status, &updated["updated"]), (200, &json!(11)));
    let (status, upserted) = send(&app, &keeper, "POST", &format!("{base}/updateOrCreate"), Some(json!({"query": {"content": {"licence_no": "JY13399010099"}}, "write": {"content": {"licence_no": "JY13399010099", "holder": "新开业餐饮店"}}}))).await;
    assert_eq!(
        (status, &upserted["content"]["holder"]),
        (200, &json!("新开业餐饮店"))
    );
    let (_, upserted) = send(&app, &keeper, "POST", &format!("{base}/updateOrCreate"), Some(json!({"query": {"content": {"licence_no": "JY13399010099"}}, "write": {"content": {"staff": 3}}}))).await;
    assert_eq!(
        upserted["content"],
        json!({"licence_no": "JY13399010099", "holder": "新开业餐饮店", "staff": 3})
    );

    let (status, value) = send(
        &app,
        &keeper,
        "GET",
        &format!("{base}/JY13399010001/readValue/staff.json"),
        None,
    )
    .await;
    assert_eq!((status, value), (200, json!({"value": 15})));
    let (status, value) = send(
        &app,
        &keeper,
        "GET",
        &format!("{base}/JY13399010001/readValue/holder.txt"),
        None,
    )
    .await;
    assert_eq!((status, value), (200, json!("临江清源食品有限公司")));
    let (status, _) = send(
        &app,
        &keeper,
        "GET",
        &format!("{base}/JY13399010001/readValue/colour.json"),
        None,
    )
    .await;
    assert_eq!(status, 404);

    let (status, _) = send(
        &app,
        &keeper,
        "DELETE",
        &format!("{base}/JY13399010099/delete"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = send(
        &app,
        &keeper,
        "DELETE",
        &format!("{base}/JY13399010099/delete"),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // Sealed at rest: the holder's name and the manager's phone are nowhere in clear.
    let raw: Vec<Vec<u8>> = sqlx::query_scalar("SELECT content_sealed FROM registry_records")
        .fetch_all(app.state.pool())
        .await
        .expect("rows");
    assert!(
        raw.iter()
            .all(|r| !String::from_utf8_lossy(r).contains("13800000001"))
    );
    let keys: Vec<String> = sqlx::query_scalar("SELECT record_key FROM registry_records")
        .fetch_all(app.state.pool())
        .await
        .expect("keys");
    assert!(
        keys.iter().all(|k| !k.contains("JY1339901")),
        "IDs are blind-indexed"
    );

    // Only the owner keeps it: another department, a wrong client, no client.
    let other = Keeper {
        token: app.account("demo.deptadmin").api_token.clone(),
        client: format!("CN/GOV/{}/cases", uscc(&app, "government_services").await),
    };
    assert_eq!(send(&app, &other, "GET", base, None).await.0, 403);
    let wrong = Keeper {
        token: keeper.token.clone(),
        client: other.client.clone(),
    };
    assert_eq!(send(&app, &wrong, "GET", base, None).await.0, 403);
    let none = Keeper {
        token: keeper.token.clone(),
        client: "CN/GOV".into(),
    };
    assert_eq!(send(&app, &none, "GET", base, None).await.0, 400);
    assert_eq!(
        send(&app, &keeper, "GET", "/data/unknown/1.0", None)
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn other_departments_read_a_registry_through_the_gateway_only_as_granted() {
    let app = spawn_app().await;
    let admin = app.account("demo.deptadmin").api_token.clone();
    let client = format!("CN/GOV/{}/CASES", uscc(&app, "government_services").await);
    let base = format!(
        "/r1/CN/GOV/{}/DATA/RS-JYDJ-001/data/employment/1.0",
        uscc(&app, "human_resources").await
    );
    let list: Value = app
        .client
        .get(app.url(&format!("{base}?query.status=employed&pageSize=100")))
        .bearer_auth(&admin)
        .header("X-Road-Client", &client)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let results = list["results"].as_array().expect("results");
    assert!(list["count"].as_u64().unwrap_or(0) >= 100, "{list}");
    assert!(results.iter().all(|r| r["status"] == "employed"));
    assert!(
        results
            .iter()
            .all(|r| r.get("name").is_none() && r.get("resident_id").is_none()),
        "identity not granted"
    );
    let zhang = app
        .account("citizen.zhangwei")
        .resident_id
        .clone()
        .expect("id");
    let read = app
        .client
        .post(app.url(&format!("{base}/read")))
        .bearer_auth(&admin)
        .header("X-Road-Client", &client)
        .json(&json!({"query": {"content": {"resident_id": zhang}}}))
        .send()
        .await
        .expect("read");
    assert_eq!(read.status(), 200);
    let content: Value = read.json().await.expect("json");
    assert_eq!(content["content"]["cert_no"], "339900000001");
    assert!(content["content"].get("resident_id").is_none());
    // Writing is the owner's alone.
    let write = app
        .client
        .post(app.url(&format!("{base}/create")))
        .bearer_auth(&admin)
        .header("X-Road-Client", &client)
        .json(&json!({"write": {"content": {"cert_no": "1"}}}))
        .send()
        .await
        .expect("create");
    assert_eq!(write.status(), 405);
}

#[tokio::test]
async fn every_path_of_the_specification_answers_in_its_documented_shape() {
    let app = spawn_app().await;
    let Some(spec) = spec() else {
        eprintln!(
            "note: Digital Registries specification not found (set TONGBAN_CONFORMANCE_DIR); skipped"
        );
        assert!(
            std::env::var("CI").is_err(),
            "the conformance vectors are required under CI"
        );
        return;
    };
    let keeper = licence_registry(&app).await;
    let record = json!({"licence_no": "JY1", "holder": "清源食品", "staff": 2});
    send(
        &app,
        &keeper,
        "POST",
        "/data/licences/1.0/create",
        Some(json!({"write": {"content": record}})),
    )
    .await;
    let citizen = app.account("citizen.zhangwei").clone();
    let mut exercised = 0;
    for (template, operations) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in operations.as_object().expect("operations") {
            // The description's one registry-specific example (`/data/mcts/createEntries`) is
            // served for every registry version.
            let path = template
                .replace("/data/mcts/", "/data/licences/1.0/")
                .replace("{registryName}", "licences")
                .replace("{versionNumber}", "1.0")
                .replace("{ID}", "JY1")
                .replace("{id}", "JY2")
                .replace("{uuid}", "JY1")
                .replace("{field}.{ext}", "holder.json");
            let body = match operation["operationId"].as_str() {
                Some("GDB-MCTS-create-entries") => Some(json!({"write": [
                    {"content": {"licence_no": "JY3", "holder": "甲店"}},
                    {"content": {"licence_no": "JY4", "holder": "乙店"}}]})),
                Some("create") => {
                    Some(json!({"write": {"content": {"licence_no": "JY2", "holder": "新店"}}}))
                }
                Some("exists" | "read") => {
                    Some(json!({"query": {"content": {"licence_no": "JY1"}}}))
                }
                Some("update" | "updateEntries" | "update-or-create") => Some(
                    json!({"query": {"content": {"licence_no": "JY1"}}, "write": {"content": {"staff": 3}}}),
                ),
                _ => None,
            };
            let (who, path) = if operation["operationId"] == "DPU" {
                let person = Keeper {
                    token: citizen.api_token.clone(),
                    client: "CN/GOV/portal/citizen".into(),
                };
                (
                    person,
                    format!(
                        "{path}?userId={}&databaseId=licences",
                        citizen.resident_id.clone().expect("id")
                    ),
                )
            } else {
                (
                    Keeper {
                        token: keeper.token.clone(),
                        client: keeper.client.clone(),
                    },
                    path,
                )
            };
            let (status, value) = send(&app, &who, &method.to_uppercase(), &path, body).await;
            let documented = &operation["responses"][status.to_string()];
            assert!(
                documented.is_object(),
                "{method} {template}: {status} is not documented: {value}"
            );
            if let Some(schema) = documented["content"]["application/json"]["schema"].as_object() {
                let schema = Value::Object(schema.clone());
                for required in schema["required"].as_array().into_iter().flatten() {
                    let key = required.as_str().expect("key");
                    assert!(
                        value.get(key).is_some(),
                        "{method} {template}: {key} missing in {value}"
                    );
                }
                match schema["type"].as_str() {
                    Some("array") => assert!(value.is_array(), "{method} {template}: an array"),
                    Some("object") => assert!(value.is_object(), "{method} {template}: an object"),
                    _ => {}
                }
                if let Some(answer) = value.get("answer") {
                    assert!(answer["status"].is_boolean());
                }
                for (key, property) in schema["properties"].as_object().into_iter().flatten() {
                    if property["type"] == "array" {
                        assert!(
                            value[key].is_array(),
                            "{method} {template}: {key} is an array"
                        );
                    }
                }
            }
            exercised += 1;
        }
    }
    assert_eq!(exercised, 11, "every operation of the specification");
}

#[tokio::test]
async fn a_registry_read_of_a_persons_data_through_the_gateway_shows_in_their_access_view() {
    let app = spawn_app().await;
    let market = app.account("demo.deptadmin.market").api_token.clone();
    let saved = app
        .client
        .put(app.url("/api/v1/exchange/resources/SJ-JKZ-005"))
        .bearer_auth(&market)
        .json(&json!({
            "name": "食品从业人员健康证明",
            "description": "食品从业人员健康证明的编号、持证人与有效期。",
            "share_type": "conditional",
            "share_conditions": "仅限食品相关事项",
            "open_type": "none",
            "update_cycle": "daily",
            "format": "api",
            "service": "digital-registry",
            "items": [
                {"code": "cert_no", "name": "证明编号", "kind": "string"},
                {"code": "holder_name", "name": "持证人姓名", "kind": "string", "personal": "name"},
                {"code": "holder_id", "name": "持证人身份证号", "kind": "string", "personal": "id_number"},
                {"code": "valid_until", "name": "有效期至", "kind": "date"},
            ],
        }))
        .send()
        .await
        .expect("save");
    assert_eq!(saved.status(), 200);
    let defined = app
        .client
        .put(app.url("/api/v1/exchange/registries/health-certs/1"))
        .bearer_auth(&market)
        .json(&json!({"resource": "SJ-JKZ-005", "id_item": "cert_no"}))
        .send()
        .await
        .expect("define");
    assert_eq!(defined.status(), 201);
    let zhang = app
        .account("citizen.zhangwei")
        .resident_id
        .clone()
        .expect("id");
    let keeper = Keeper {
        token: market.clone(),
        client: format!("CN/GOV/{}/hygiene", uscc(&app, "market_regulation").await),
    };
    let (status, _) = send(&app, &keeper, "POST", "/data/health-certs/1/create", Some(json!({"write": {"content": {
        "cert_no": "JK2026001", "holder_name": "张伟", "holder_id": zhang, "valid_until": "2027-06-30"}}}))).await;
    assert_eq!(status, 200);

    // The government-services administration is granted the holder's name, not the number.
    let admin = app.account("demo.deptadmin").api_token.clone();
    let until = tongban_core::zone::ymd(app.state.today() + time::Duration::days(30));
    let asked: Value = app
        .post_as(&admin, "/api/v1/exchange/requests", &json!({"resource": "SJ-JKZ-005",
            "items": ["cert_no", "holder_name", "holder_id", "valid_until"], "purpose": "食品经营许可：核验从业人员健康证明",
            "legal_basis": "《食品安全法》第四十五条", "until": until}))
        .await
        .json()
        .await
        .expect("asked");
    let id = asked["id"].as_str().expect("id");
    let decided = app
        .post_as(&market, &format!("/api/v1/exchange/requests/{id}/decide"),
            &json!({"grant": true, "items": ["cert_no", "holder_name", "valid_until"], "note": "不含身份证号"}))
        .await;
    assert_eq!(decided.status(), 200);
    let client = format!("CN/GOV/{}/CASES", uscc(&app, "government_services").await);
    let read = app
        .client
        .post(app.url(&format!(
            "/r1/CN/GOV/{}/DATA/SJ-JKZ-005/data/health-certs/1/read",
            uscc(&app, "market_regulation").await
        )))
        .bearer_auth(&admin)
        .header("X-Road-Client", &client)
        .json(&json!({"query": {"content": {"cert_no": "JK2026001"}}}))
        .send()
        .await
        .expect("read");
    assert_eq!(read.status(), 200);
    let message = read.headers()["x-road-id"].to_str().expect("id").to_owned();
    let content: Value = read.json().await.expect("json");
    assert_eq!(
        content["content"],
        json!({"cert_no": "JK2026001", "holder_name": "张伟", "valid_until": "2027-06-30"})
    );

    // Zhang Wei sees the read, under the exchange's message id, as GovStack's usage view too.
    let citizen = app.account("citizen.zhangwei").clone();
    let usage = app
        .client
        .get(app.url(&format!(
            "/data/myPersonalDataUsage?userId={zhang}&databaseId=health-certs"
        )))
        .bearer_auth(&citizen.api_token)
        .header("Information-Mediator-Client", "CN/GOV/portal/citizen")
        .send()
        .await
        .expect("usage");
    assert_eq!(usage.status(), 200);
    let usage: Value = usage.json().await.expect("json");
    let read = usage
        .as_array()
        .expect("list")
        .iter()
        .find(|u| u["readerApplicationName"] == "data_sharing")
        .unwrap_or_else(|| panic!("the read is listed: {usage}"));
    assert_eq!(read["refrences"][0]["ReferenceID"], json!(message));
    // Someone else's usage is not theirs to see.
    let other = app
        .account("citizen.wangfang")
        .resident_id
        .clone()
        .expect("id");
    let refused = app
        .client
        .get(app.url(&format!(
            "/data/myPersonalDataUsage?userId={other}&databaseId=x"
        )))
        .bearer_auth(&citizen.api_token)
        .header("Information-Mediator-Client", "CN/GOV/portal/citizen")
        .send()
        .await
        .expect("usage");
    assert_eq!(refused.status(), 404);
}
