//! Data sharing: the resource catalogue's consistency rules, requests granted at once or by the
//! owner (narrowed to fewer items), refusals with a reason, revocation and expiry, each decision
//! in the transparency log, and the pages where administrators ask and decide.

use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app};

async fn put(app: &TestApp, token: &str, code: &str, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .put(app.url(&format!("/api/v1/exchange/resources/{code}")))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("put");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn resource(share: &str, open: &str, personal: bool) -> Value {
    json!({
        "name": "食品经营许可信息",
        "description": "食品经营许可证的编号、主体与有效期。",
        "share_type": share,
        "share_conditions": "仅限办理食品相关事项",
        "open_type": open,
        "update_cycle": "daily",
        "format": "api",
        "items": [
            {"code": "licence_no", "name": "许可证编号", "kind": "string", "length": 20},
            {"code": "holder", "name": "经营者名称", "kind": "string"},
            {"code": "contact_phone", "name": "联系电话", "kind": "string", "personal": if personal { json!("phone") } else { Value::Null }},
        ],
    })
}

#[tokio::test]
async fn a_resource_keeps_the_catalogues_rules_and_belongs_to_its_department() {
    let app = spawn_app().await;
    let market = app.account("demo.deptadmin.market").api_token.clone();
    let field = |body: &Value| body["field"].as_str().unwrap_or_default().to_owned();

    let (status, body) = put(
        &app,
        &market,
        "SJ-SPXK-003",
        &resource("unconditional", "none", true),
    )
    .await;
    assert_eq!(
        (status, field(&body)),
        (422, "share_type".into()),
        "personal data shared unconditionally"
    );
    let (status, body) = put(
        &app,
        &market,
        "SJ-SPXK-003",
        &resource("conditional", "unconditional", true),
    )
    .await;
    assert_eq!(
        (status, field(&body)),
        (422, "open_type".into()),
        "personal data opened"
    );
    let mut unshared = resource("none", "none", false);
    let (status, body) = put(&app, &market, "SJ-SPXK-003", &unshared).await;
    assert_eq!(
        (status, field(&body)),
        (422, "legal_basis".into()),
        "not shared without a basis"
    );
    unshared["legal_basis"] = json!("《食品安全法》");
    let mut no_conditions = resource("conditional", "none", true);
    no_conditions["share_conditions"] = Value::Null;
    let (status, body) = put(&app, &market, "SJ-SPXK-003", &no_conditions).await;
    assert_eq!((status, field(&body)), (422, "share_conditions".into()));
    let mut twice = resource("conditional", "none", false);
    twice["items"][1]["code"] = json!("licence_no");
    assert_eq!(put(&app, &market, "SJ-SPXK-003", &twice).await.0, 422);
    let mut odd = resource("conditional", "none", false);
    odd["items"][0]["kind"] = json!("photo");
    assert_eq!(put(&app, &market, "SJ-SPXK-003", &odd).await.0, 422);
    assert_eq!(
        put(
            &app,
            &market,
            "bad code",
            &resource("conditional", "none", false)
        )
        .await
        .0,
        422
    );
    assert!(
        app.get_as(&market, "/api/v1/exchange/resources/SJ-SPXK-003")
            .await
            .status()
            == 404,
        "nothing refused was saved"
    );

    let (status, saved) = put(
        &app,
        &market,
        "SJ-SPXK-003",
        &resource("conditional", "none", true),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["items"][2]["personal"], "phone");
    let (status, saved) = put(&app, &market, "SJ-SPXK-003", &unshared).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        (saved["version"].as_i64(), saved["share_type"].as_str()),
        (Some(2), Some("none"))
    );

    // Another department's administrator, a clerk of the same one, a citizen: not theirs.
    let other = app.account("demo.deptadmin").api_token.clone();
    assert_eq!(
        put(
            &app,
            &other,
            "SJ-SPXK-003",
            &resource("conditional", "none", false)
        )
        .await
        .0,
        403
    );
    let clerk = app.account("demo.clerk.market").api_token.clone();
    assert_eq!(
        put(
            &app,
            &clerk,
            "SJ-SPXK-004",
            &resource("conditional", "none", false)
        )
        .await
        .0,
        403
    );
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    assert_eq!(
        app.get_as(&citizen, "/api/v1/exchange/resources")
            .await
            .status(),
        403
    );
    // Every official browses the catalogue.
    let listed: Value = app
        .get_as(&clerk, "/api/v1/exchange/resources")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        listed
            .as_array()
            .expect("list")
            .iter()
            .any(|r| r["code"] == "SJ-SPXK-003")
    );
}

async fn ask(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let response = app.post_as(token, "/api/v1/exchange/requests", &body).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn in_days(app: &TestApp, days: i64) -> String {
    tongban_core::zone::ymd(
        app.state
            .today()
            .checked_add(time::Duration::days(days))
            .expect("day"),
    )
}

#[tokio::test]
async fn requests_are_granted_by_the_catalogue_or_the_owner_item_by_item() {
    let app = spawn_app().await;
    let consumer = app.account("demo.deptadmin").api_token.clone();
    let owner = app.account("demo.deptadmin.market").api_token.clone();
    let until = in_days(&app, 30);
    let departments = tongban_app::admin::store::departments(app.state.pool())
        .await
        .expect("departments");
    let gov = departments
        .iter()
        .find(|d| d.kind == "government_services" && d.region_code.as_str() == "339900")
        .expect("government services")
        .id
        .clone();

    // What cannot be asked: one's own resource, a resource not shared, an item it lacks, a
    // period beyond a year, no items.
    let base = json!({"resource": "SJ-GTH-002", "items": ["place"], "purpose": "个体工商户注销：核验经营场所", "legal_basis": "《优化营商环境条例》", "until": until});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    assert_eq!(
        ask(&app, &consumer, with("resource", json!("ZW-BJ-001")))
            .await
            .0,
        422
    );
    assert_eq!(
        ask(&app, &consumer, with("resource", json!("GA-AJ-001")))
            .await
            .0,
        409
    );
    assert_eq!(
        ask(&app, &consumer, with("items", json!(["salary"])))
            .await
            .0,
        422
    );
    assert_eq!(ask(&app, &consumer, with("items", json!([]))).await.0, 422);
    assert_eq!(
        ask(&app, &consumer, with("until", json!(in_days(&app, 400))))
            .await
            .0,
        422
    );
    assert_eq!(
        ask(&app, &consumer, with("until", json!("tomorrow")))
            .await
            .0,
        422
    );
    assert_eq!(
        ask(&app, &consumer, with("purpose", json!(""))).await.0,
        422
    );
    let clerk = app.account("demo.clerk").api_token.clone();
    assert_eq!(
        ask(&app, &clerk, base.clone()).await.0,
        403,
        "a clerk does not ask in the department's name"
    );

    // Shared unconditionally: granted at once.
    let (status, open) = ask(
        &app,
        &consumer,
        with("resource", json!("SJ-QYDJ-001"))
            .clone()
            .as_object()
            .map(|o| {
                let mut o = o.clone();
                o.insert("items".into(), json!(["uscc", "registered_on"]));
                Value::Object(o)
            })
            .expect("body"),
    )
    .await;
    assert_eq!(status, 201, "{open}");
    assert_eq!(open["state"], "granted");
    assert_eq!(open["granted_items"], json!(["registered_on", "uscc"]));

    // On conditions: the owner decides, and may narrow the items.
    let (status, asked) = ask(
        &app,
        &consumer,
        with("items", json!(["operator_name", "operator_id", "place"])),
    )
    .await;
    assert_eq!(status, 201, "{asked}");
    assert_eq!(asked["state"], "pending");
    let id = asked["id"].as_str().expect("id").to_owned();
    assert_eq!(
        tongban_app::catalogue::service::granted_items(&app.state, &gov, "SJ-GTH-002")
            .await
            .expect("grants"),
        None,
        "nothing is granted while it waits"
    );
    let decide = |token: String, body: Value| {
        let (app, id) = (&app, id.clone());
        async move {
            let response = app
                .post_as(
                    &token,
                    &format!("/api/v1/exchange/requests/{id}/decide"),
                    &body,
                )
                .await;
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    assert_eq!(
        decide(consumer.clone(), json!({"grant": true})).await.0,
        403,
        "not the consumer's to decide"
    );
    assert_eq!(
        decide(
            owner.clone(),
            json!({"grant": true, "items": ["operator_phone"]})
        )
        .await
        .0,
        422,
        "not asked for"
    );
    assert_eq!(
        decide(owner.clone(), json!({"grant": true, "items": []}))
            .await
            .0,
        422
    );
    assert_eq!(
        decide(owner.clone(), json!({"grant": false})).await.0,
        422,
        "a refusal says why"
    );
    let (status, granted) = decide(owner.clone(), json!({"grant": true, "items": ["place", "operator_name"], "note": "经营者身份证号不属最少必要"})).await;
    assert_eq!(status, 200, "{granted}");
    assert_eq!(granted["state"], "granted");
    assert_eq!(granted["granted_items"], json!(["operator_name", "place"]));
    assert_eq!(
        decide(owner.clone(), json!({"grant": false, "note": "again"}))
            .await
            .0,
        409,
        "decided once"
    );
    let mut items = tongban_app::catalogue::service::granted_items(&app.state, &gov, "SJ-GTH-002")
        .await
        .expect("grants")
        .expect("a grant");
    items.sort();
    assert_eq!(items, ["operator_name", "place"]);
    // The decision is in the transparency log.
    let decided: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ledger_entries WHERE data LIKE '%data_request_decided%'",
    )
    .fetch_one(app.state.pool())
    .await
    .expect("count");
    assert_eq!(decided, 1);

    // Revoked by the owner, with a reason: nothing is granted any more.
    let revoke = app
        .post_as(
            &owner,
            &format!("/api/v1/exchange/requests/{id}/revoke"),
            &json!({"note": ""}),
        )
        .await;
    assert_eq!(problem(revoke).await.0, 422);
    let revoked = app
        .post_as(
            &owner,
            &format!("/api/v1/exchange/requests/{id}/revoke"),
            &json!({"note": "注销事项已办结"}),
        )
        .await;
    assert_eq!(revoked.status(), 200);
    assert_eq!(
        tongban_app::catalogue::service::granted_items(&app.state, &gov, "SJ-GTH-002")
            .await
            .expect("grants"),
        None
    );
    // A grant ends on its day.
    assert!(
        tongban_app::catalogue::service::granted_items(&app.state, &gov, "SJ-QYDJ-001")
            .await
            .expect("grants")
            .is_some()
    );
    app.clock.advance(time::Duration::days(200));
    assert_eq!(
        tongban_app::catalogue::service::granted_items(&app.state, &gov, "SJ-QYDJ-001")
            .await
            .expect("grants"),
        None
    );
    let admin = app.account("demo.deptadmin").clone();
    let login: Value = app
        .api_login(
            &admin.username,
            &admin.password,
            Some(&app.totp_now(&admin)),
        )
        .await
        .json()
        .await
        .expect("json");
    let fresh = login["token"].as_str().expect("token").to_owned();
    let listed: Value = app
        .get_as(&fresh, "/api/v1/exchange/requests")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        listed
            .as_array()
            .expect("list")
            .iter()
            .filter(|r| r["resource"] == "SJ-QYDJ-001")
            .all(|r| r["state"] == "expired"),
        "{listed}"
    );
}

#[tokio::test]
async fn administrators_ask_and_decide_on_the_pages() {
    let app = spawn_app().await;
    // The owner's workbench shows the demo's waiting request; the page decides it.
    let mut owner = app.page_login(app.account("demo.deptadmin.market")).await;
    let workbench = owner.get(&app, "/home").await.text().await.expect("html");
    assert!(
        workbench.contains("exchange-todo") && workbench.contains("/exchange/requests"),
        "{workbench}"
    );
    let page = owner
        .get(&app, "/exchange/requests")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("个体工商户经营者信息") && page.contains("/decide"),
        "{page}"
    );
    let action = page
        .split("action=\"")
        .find_map(|rest| rest.split('"').next().filter(|a| a.ends_with("/decide")))
        .expect("a decision form")
        .to_owned();
    let csrf = crate::helpers::hidden_csrf(&page);
    let forged = owner
        .post_form(
            &app,
            &action,
            &[("csrf", "forged"), ("grant", "yes"), ("item.place", "on")],
        )
        .await;
    assert_eq!(forged.status(), 403);
    let decided = owner
        .post_form(
            &app,
            &action,
            &[
                ("csrf", csrf.as_str()),
                ("grant", "yes"),
                ("item.place", "on"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(decided.status(), 200);
    let decided = decided.text().await.expect("html");
    assert!(decided.contains("已授权"), "{decided}");

    // The consumer's administrator asks on the catalogue page.
    let mut consumer = app.page_login(app.account("demo.deptadmin")).await;
    let catalogue = consumer
        .get(&app, "/exchange")
        .await
        .text()
        .await
        .expect("html");
    assert!(catalogue.contains("政务信息资源目录") && catalogue.contains("SJ-QYDJ-001"));
    assert!(
        catalogue.contains("不予共享"),
        "a resource not shared is shown as such"
    );
    let csrf = crate::helpers::hidden_csrf(&catalogue);
    let until = in_days(&app, 10);
    let asked = consumer
        .post_form(
            &app,
            "/exchange/requests",
            &[
                ("csrf", csrf.as_str()),
                ("resource", "SJ-QYDJ-001"),
                ("item.name", "on"),
                ("purpose", "企业开办核验"),
                ("legal_basis", "《优化营商环境条例》"),
                ("until", until.as_str()),
                ("service_item", ""),
            ],
        )
        .await;
    assert_eq!(asked.status(), 200);
    assert!(asked.text().await.expect("html").contains("已授权"));
    // Nothing ticked: a readable refusal, nothing asked.
    let empty = consumer
        .post_form(
            &app,
            "/exchange/requests",
            &[
                ("csrf", csrf.as_str()),
                ("resource", "SJ-QYDJ-001"),
                ("purpose", "x"),
                ("legal_basis", "y"),
                ("until", until.as_str()),
            ],
        )
        .await;
    assert_eq!(empty.status(), 422);
    // A citizen has no catalogue.
    let mut citizen = app.page_login(app.account("citizen.zhangwei")).await;
    assert_eq!(citizen.get(&app, "/exchange").await.status(), 403);
}

#[tokio::test]
async fn an_administrator_registers_and_edits_resources_on_the_editor_page() {
    let app = spawn_app().await;
    let admin = app.account("demo.deptadmin.market").clone();
    let mut browser = app.page_login(&admin).await;
    let catalogue = browser
        .get(&app, "/exchange")
        .await
        .text()
        .await
        .expect("html");
    assert!(catalogue.contains("/exchange/resources/new"));
    assert!(
        catalogue.contains("/exchange/resources/SJ-QYDJ-001/edit"),
        "its own resources are editable"
    );
    assert!(
        !catalogue.contains("/exchange/resources/GA-RK-001/edit"),
        "another's are not"
    );

    let form = browser.get(&app, "/exchange/resources/new").await;
    assert_eq!(form.status(), 200);
    let csrf = crate::helpers::hidden_csrf(&form.text().await.expect("html"));
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("code", "SJ-GGXK-007"),
        ("name", "广告发布登记信息"),
        ("description", "广告发布登记的编号、单位与有效期。"),
        ("share_type", "unconditional"),
        ("open_type", "none"),
        ("update_cycle", "weekly"),
        ("format", "api"),
        ("service", ""),
        ("item.0.code", "reg_no"),
        ("item.0.name", "登记编号"),
        ("item.0.kind", "string"),
        ("item.0.length", "30"),
        ("item.0.personal", ""),
        ("item.1.code", "contact"),
        ("item.1.name", "联系人电话"),
        ("item.1.kind", "string"),
        ("item.1.length", ""),
        ("item.1.personal", "phone"),
        ("item.2.code", ""),
        ("item.2.name", ""),
        ("item.2.kind", "string"),
        ("item.2.length", ""),
        ("item.2.personal", ""),
    ];
    // A phone shared unconditionally breaks the rules: the form comes back as filled.
    let refused = browser
        .post_form(&app, "/exchange/resources/new", &fields)
        .await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.expect("html");
    assert!(
        html.contains("id=\"editor-error\"") && html.contains("共享类型"),
        "the rule is named"
    );
    assert!(
        html.contains("value=\"广告发布登记信息\"") && html.contains("value=\"联系人电话\""),
        "nothing typed is lost"
    );
    assert_eq!(
        app.count("data_resources WHERE code = 'SJ-GGXK-007'").await,
        0
    );

    for field in fields.iter_mut() {
        if field.0 == "share_type" {
            field.1 = "conditional";
        }
    }
    fields.push(("share_conditions", "仅限广告监管事项"));
    let saved = browser
        .post_form(&app, "/exchange/resources/new", &fields)
        .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(
        saved.headers()["location"],
        "/exchange#resource-SJ-GGXK-007"
    );
    let api: Value = app
        .get_as(&admin.api_token, "/api/v1/exchange/resources/SJ-GGXK-007")
        .await
        .json()
        .await
        .expect("resource");
    assert_eq!(api["share_type"], "conditional");
    assert_eq!(
        api["items"].as_array().map(Vec::len),
        Some(2),
        "the blank row is not an item"
    );
    assert_eq!(api["items"][1]["personal"], "phone");

    let edit = browser
        .get(&app, "/exchange/resources/SJ-GGXK-007/edit")
        .await;
    assert_eq!(edit.status(), 200);
    assert!(
        edit.text()
            .await
            .expect("html")
            .contains("value=\"reg_no\"")
    );

    let mut other = app.page_login(app.account("demo.deptadmin")).await;
    assert_eq!(
        other
            .get(&app, "/exchange/resources/SJ-GGXK-007/edit")
            .await
            .status(),
        403
    );
}
