//! The service catalogue: citizens find items by shortened Chinese names and filters without
//! logging in; every consistency rule refuses a bad save with its own message and changes
//! nothing; only the system administrator or the implementing department's administrator
//! edits, and two editors at once cannot overwrite each other.

use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app};

async fn public(app: &TestApp, path: &str) -> reqwest::Response {
    crate::helpers::get_url(app.url(path))
        .await
        .expect("request")
}

async fn names(app: &TestApp, path: &str) -> Vec<String> {
    let response = public(app, path).await;
    assert_eq!(response.status(), 200, "{path}");
    response
        .json::<Value>()
        .await
        .expect("json")
        .as_array()
        .expect("list")
        .iter()
        .map(|i| i["name"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn citizens_find_items_by_what_they_type() {
    let app = spawn_app().await;
    assert!(names(&app, "/api/v1/services").await.len() >= 20);
    let q = |q: &str| format!("/api/v1/services?q={}", urlencode(q));
    // A shortened name, an exact name, a keyword, spaces and punctuation.
    assert_eq!(names(&app, &q("个体户注册")).await[0], "个体工商户注册登记");
    assert_eq!(names(&app, &q("结婚登记")).await[0], "结婚登记");
    assert_eq!(names(&app, &q("社保卡")).await[0], "社会保障卡申领");
    assert_eq!(
        names(&app, &q(" 食品 经营，许可 ")).await[0],
        "食品经营许可"
    );
    assert!(names(&app, &q("火星移民")).await.is_empty());
    // Filters: a life event, a theme, a department.
    let opening = names(&app, "/api/v1/services?life_event=开办餐饮店").await;
    assert_eq!(opening, vec!["食品经营许可".to_owned()]);
    let marriage = names(
        &app,
        &format!("/api/v1/services?theme={}", urlencode("婚姻登记")),
    )
    .await;
    assert_eq!(marriage.len(), 2);
    let detail: Value = public(&app, "/api/v1/services/339900-SJ-0001")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(detail["version"], 1);
    let uscc = detail["item"]["department"].as_str().expect("uscc");
    let market = names(&app, &format!("/api/v1/services?department={uscc}")).await;
    assert!(market.len() >= 5 && market.contains(&"个体工商户注册登记".to_owned()));
    // The guide page, and the search page.
    let page = public(&app, "/services/339900-SJ-0001")
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("个体工商户注册登记") && page.contains("平台调取"));
    let page = public(&app, &format!("/services?q={}", urlencode("个体户")))
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("/services/339900-SJ-0001"));
    assert_eq!(public(&app, "/services/NO-SUCH").await.status(), 404);
    let (status, _) = problem(public(&app, "/api/v1/services/NO-SUCH").await).await;
    assert_eq!(status, 404);
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A valid new item of the government-services department, to break one rule at a time.
async fn new_item(app: &TestApp) -> Value {
    let detail: Value = public(app, "/api/v1/services/339900-ZW-0001")
        .await
        .json()
        .await
        .expect("json");
    let mut item = detail["item"].clone();
    item["code"] = json!("339900-ZW-0099");
    item["name"] = json!("政务服务中心延时服务预约");
    item
}

#[tokio::test]
async fn every_rule_refuses_with_its_own_message_and_nothing_changes() {
    let app = spawn_app().await;
    let admin = app.account("demo.sysadmin").api_token.clone();
    let base = new_item(&app).await;
    type Break = fn(&mut Value);
    let cases: Vec<(Break, &str, &str)> = vec![
        (
            |i| i["promised_limit"] = json!({"unit": "working_days", "days": 3}),
            "promised_limit",
            "immediate item",
        ),
        (
            |i| {
                i["handling_kind"] = json!("promised");
            },
            "promised_limit",
            "only an immediate item",
        ),
        (|i| i["visits"] = json!(1), "visits", "level IV"),
        (
            |i| {
                i["online_depth"] = json!(3);
                i["visits"] = json!(1);
            },
            "visits_reason",
            "reason",
        ),
        (
            |i| i["fees"] = json!([{"name": "工本费", "standard": "10元", "basis": " "}]),
            "fees",
            "basis",
        ),
        (
            |i| {
                i["handling_kind"] = json!("promised");
                i["statutory_limit"] = json!({"unit": "working_days", "days": 5});
                i["promised_limit"] = json!({"unit": "working_days", "days": 10});
            },
            "promised_limit",
            "exceed",
        ),
        (
            |i| {
                i["item_type"] = json!("administrative_licence");
                i["steps"] = json!(["accept", "decide", "deliver"]);
            },
            "steps",
            "review",
        ),
        (|i| i["basic_code"] = json!("0001"), "basic_code", "12"),
        (|i| i["online_depth"] = json!(5), "online_depth", "I–IV"),
        (
            |i| i["result"] = json!({"kind": "certificate", "name": "证", "certificate_type": "11339900XXXXXXXXXX999"}),
            "result",
            "not a certificate type",
        ),
        (
            |i| i["department"] = json!("91339900MA00000000"),
            "department",
            "no department",
        ),
    ];
    for (breaks, field, words) in cases {
        let mut item = base.clone();
        breaks(&mut item);
        let (status, body) = problem(
            app.post_as(&admin, "/api/v1/services", &json!({"item": item}))
                .await,
        )
        .await;
        assert_eq!(status, 422, "{field}: {body}");
        assert_eq!(body["field"], field, "{body}");
        assert!(
            body["detail"].as_str().expect("detail").contains(words),
            "{field}: {body}"
        );
    }
    assert_eq!(
        public(&app, "/api/v1/services/339900-ZW-0099")
            .await
            .status(),
        404,
        "nothing was saved"
    );
    let response = app
        .post_as(&admin, "/api/v1/services", &json!({"item": base}))
        .await;
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn only_the_departments_administrator_edits_and_stale_edits_conflict() {
    let app = spawn_app().await;
    let deptadmin = app.account("demo.deptadmin").api_token.clone();
    let admin = app.account("demo.sysadmin").api_token.clone();
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let item = new_item(&app).await;
    let create = |token: String, item: Value| {
        let app = &app;
        async move {
            app.post_as(&token, "/api/v1/services", &json!({"item": item}))
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(create(citizen.clone(), item.clone()).await, 403);
    // The government-services administrator adds an item of their department…
    assert_eq!(create(deptadmin.clone(), item.clone()).await, 201);
    assert_eq!(
        create(deptadmin.clone(), item.clone()).await,
        409,
        "the code is taken"
    );
    // …but not one of the market regulator.
    let theirs: Value = public(&app, "/api/v1/services/339900-SJ-0001")
        .await
        .json()
        .await
        .expect("json");
    let mut changed = theirs["item"].clone();
    changed["guide"] = json!("改写的指南");
    let put = |token: String, body: Value| {
        let app = &app;
        async move {
            let response = app
                .client
                .put(app.url("/api/v1/services/339900-SJ-0001"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("put");
            response.status().as_u16()
        }
    };
    assert_eq!(
        put(deptadmin.clone(), json!({"item": changed, "version": 1})).await,
        403
    );
    // Two edits from version 1: the first wins, the second conflicts.
    assert_eq!(
        put(admin.clone(), json!({"item": changed, "version": 1})).await,
        200
    );
    let mut other = changed.clone();
    other["guide"] = json!("另一个人的改写");
    assert_eq!(
        put(admin.clone(), json!({"item": other, "version": 1})).await,
        409
    );
    let now: Value = public(&app, "/api/v1/services/339900-SJ-0001")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(now["version"], 2);
    assert_eq!(now["item"]["guide"], "改写的指南");
}

#[tokio::test]
async fn the_console_editor_saves_and_shows_each_broken_rule() {
    let app = spawn_app().await;
    let admin = app.account("demo.sysadmin").clone();
    let mut browser = app.page_login(&admin).await;
    let listing = browser
        .get(&app, "/console/services")
        .await
        .text()
        .await
        .expect("html");
    assert!(listing.contains("/console/services/339900-ZW-0001"));
    let page = browser
        .get(&app, "/console/services/339900-ZW-0001/json")
        .await
        .text()
        .await
        .expect("html");
    let csrf = crate::helpers::hidden_csrf(&page);
    let detail: Value = public(&app, "/api/v1/services/339900-ZW-0001")
        .await
        .json()
        .await
        .expect("json");
    let mut item = detail["item"].clone();
    item["guide"] = json!("在线预约后到场取号。");
    let save = |item: Value, version: &'static str| {
        let csrf = csrf.clone();
        let text = serde_json::to_string_pretty(&item).expect("json");
        (csrf, text, version)
    };
    let (c, text, v) = save(item.clone(), "1");
    let saved = browser
        .post_form(
            &app,
            "/console/services/339900-ZW-0001/json",
            &[("csrf", &c), ("version", v), ("definition", &text)],
        )
        .await;
    assert_eq!(saved.status(), 200);
    assert!(saved.text().await.expect("html").contains("已保存"));
    // A broken rule comes back on the page, with its message, and nothing is saved.
    let mut broken = item.clone();
    broken["visits"] = json!(2);
    let (c, text, v) = save(broken, "2");
    let refused = browser
        .post_form(
            &app,
            "/console/services/339900-ZW-0001/json",
            &[("csrf", &c), ("version", v), ("definition", &text)],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.expect("html").contains("level IV"));
    // A stale version is a conflict.
    let (c, text, v) = save(item.clone(), "1");
    let stale = browser
        .post_form(
            &app,
            "/console/services/339900-ZW-0001/json",
            &[("csrf", &c), ("version", v), ("definition", &text)],
        )
        .await;
    assert_eq!(stale.status(), 409);
    let now: Value = public(&app, "/api/v1/services/339900-ZW-0001")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(now["version"], 2);
    assert_eq!(now["item"]["visits"], 0);
    // Not JSON at all.
    let garbled = browser
        .post_form(
            &app,
            "/console/services/339900-ZW-0001/json",
            &[
                ("csrf", &csrf),
                ("version", "2"),
                ("definition", "{not json"),
            ],
        )
        .await;
    assert_eq!(garbled.status(), 422);
}

#[tokio::test]
async fn the_console_edits_an_item_as_a_form_and_creates_one() {
    use crate::helpers::form_values;
    let app = spawn_app().await;
    let admin = app.account("demo.sysadmin").clone();
    let mut browser = app.page_login(&admin).await;
    let code = "339900-SJ-0003";
    let before: Value = public(&app, &format!("/api/v1/services/{code}"))
        .await
        .json()
        .await
        .expect("json");
    let page = browser
        .get(&app, &format!("/console/services/{code}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(!page.contains("class=\"code\""), "no JSON to edit");
    let action = format!("/console/services/{code}");
    let values = form_values(&page, &action);
    let form: Vec<(&str, &str)> = values
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    // Sent back unchanged, the form saves the same item as a new version.
    let saved = browser.post_form(&app, &action, &form).await;
    assert_eq!(saved.status(), 303);
    let after: Value = public(&app, &format!("/api/v1/services/{code}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(after["version"], 2);
    assert_eq!(
        after["item"], before["item"],
        "the form holds the whole item"
    );

    // A change through the form: a fee in the spare row, a material removed, a broken rule
    // beside its part with everything typed kept.
    let page = browser
        .get(&app, &format!("{action}?saved=1"))
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("id=\"item-saved\""));
    let mut values = form_values(&page, &action);
    for (name, value) in &mut values {
        match name.as_str() {
            "fee.0.name" => *value = "工本费".into(),
            "fee.0.standard" => *value = "10 元".into(),
            "material.2.name" => value.clear(),
            "visits" => *value = "0".into(),
            _ => {}
        }
    }
    let form: Vec<(&str, &str)> = values
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let refused = browser.post_form(&app, &action, &form).await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.expect("html");
    let fees = html.find("id=\"part-fees\"").expect("the fees part");
    let problem = html[fees..]
        .find("收费“工本费”须写明名称、收费标准和收费依据")
        .expect("the fee's problem beside it, in the page's language");
    assert!(problem < html[fees..].find("</fieldset>").expect("end of part"));
    assert!(html.contains("value=\"10 元\""), "the typed text is kept");
    for (name, value) in &mut values {
        if name == "fee.0.basis" {
            *value = "《行政事业性收费项目目录》".into();
        }
    }
    let form: Vec<(&str, &str)> = values
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(browser.post_form(&app, &action, &form).await.status(), 303);
    let changed: Value = public(&app, &format!("/api/v1/services/{code}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(changed["item"]["fees"][0]["standard"], "10 元");
    assert_eq!(
        changed["item"]["materials"].as_array().map(Vec::len),
        Some(2),
        "the material whose name was cleared is gone"
    );

    // A new item from the blank form.
    let blank = browser
        .get(&app, "/console/services/new")
        .await
        .text()
        .await
        .expect("html");
    let mut values = form_values(&blank, "/console/services/new");
    for (name, value) in &mut values {
        match name.as_str() {
            "code" => *value = "339900-ZW-0002".into(),
            "basic_code" => *value = "000199002000".into(),
            "name" => *value = "政务服务好差评".into(),
            "legal_basis" => *value = "《政务服务评价工作指南》".into(),
            "conditions" => *value = "办理过政务服务事项的群众和企业。".into(),
            "result_name" => *value = "评价回复".into(),
            "guide" => *value = "对办过的事项打分，差评有专人回访整改。".into(),
            "en_name" => *value = "Rating a service".into(),
            "en_guide" => *value = "Rate what you had done; a poor grade is followed up.".into(),
            _ => {}
        }
    }
    let form: Vec<(&str, &str)> = values
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let created = browser
        .post_form(&app, "/console/services/new", &form)
        .await;
    assert_eq!(created.status(), 303);
    let new: Value = public(&app, "/api/v1/services/339900-ZW-0002")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(new["version"], 1);
    assert_eq!(new["item"]["en"]["name"], "Rating a service");
    assert_eq!(
        new["item"]["steps"],
        json!(["accept", "review", "decide", "deliver"])
    );
}
