//! The city pass with health status: facts recorded by health officers only, colours with
//! their explanation, online checks that never change a colour, two-approver policies.

use serde_json::{Value, json};
use time::Duration;

use crate::helpers::{TestApp, problem, spawn_app, spawn_app_with};

async fn my_pass(app: &TestApp, username: &str) -> Value {
    let response = app
        .get_as(&app.account(username).api_token, "/api/v1/pass/me")
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

async fn record(
    app: &TestApp,
    token: &str,
    resident_id: &str,
    kind: &str,
    value: &str,
) -> reqwest::Response {
    let observed_at =
        tongban_app::time_fmt::rfc3339(tongban_core::Clock::now_millis(&*app.clock) - 3_600_000);
    let body = json!({"resident_id": resident_id, "kind": kind, "value": value, "observed_at": observed_at, "legal_basis": "传染病防治法 第三十一条"});
    app.post_as(token, "/api/v1/health/facts", &body).await
}

/// Records a positive test result for the person with this ID number; when it waits for a
/// second officer, the city's second health officer confirms it. Checks it took.
async fn record_positive(app: &TestApp, token: &str, resident_id: &str) {
    let response = record(app, token, resident_id, "test_result", "positive").await;
    assert_eq!(response.status(), 201);
    let recorded: Value = response.json().await.expect("json");
    if recorded["in_force"] == false {
        confirm(app, "demo.health2", &recorded).await;
    }
}

/// A second officer confirms a recorded fact.
async fn confirm(app: &TestApp, username: &str, recorded: &Value) {
    let id = recorded["id"].as_str().expect("id");
    let confirmed = app
        .post_as(
            &app.account(username).api_token,
            &format!("/api/v1/health/facts/{id}/confirm"),
            &json!({}),
        )
        .await;
    assert_eq!(confirmed.status(), 204, "{username} confirms {id}");
}

async fn check(app: &TestApp, code: &str) -> Value {
    let response = app
        .post_as(
            &app.account("demo.venue").api_token,
            "/api/v1/pass/verify",
            &json!({"code": code}),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

#[tokio::test]
async fn a_positive_test_turns_the_pass_red_with_its_explanation_and_a_venue_sees_it() {
    let app = spawn_app().await;
    let zhang = app.account("citizen.zhangwei");
    let before = my_pass(&app, "citizen.zhangwei").await;
    assert_eq!(before["colour"], "green");
    let code = before["code"].as_str().expect("code").to_owned();
    assert!(code.starts_with("TB1:"));
    assert_eq!(before["explanation"]["policy_version"], 1);

    let health = app.account("demo.health").api_token.clone();
    record_positive(&app, &health, zhang.resident_id.as_deref().expect("id")).await;

    let after = my_pass(&app, "citizen.zhangwei").await;
    assert_eq!(after["colour"], "red");
    assert_eq!(after["explanation"]["verdict"]["rule"], "positive-test-14d");
    assert_eq!(
        after["explanation"]["verdict"]["facts_used"],
        json!(["test_result"])
    );
    assert_eq!(
        after["explanation"]["fact_refs"]
            .as_array()
            .expect("refs")
            .len(),
        1
    );
    assert_eq!(
        my_pass(&app, "citizen.lina").await["colour"],
        "green",
        "other people keep their colour"
    );

    // The venue sees the colour now, even on the code made before the fact.
    let seen = check(&app, &code).await;
    assert_eq!(
        (seen["valid"].as_bool(), seen["colour"].as_str()),
        (Some(true), Some("red"))
    );
    assert_eq!(seen["initials"], "张*");
    let lina = my_pass(&app, "citizen.lina").await;
    assert_eq!(
        check(&app, lina["code"].as_str().expect("code")).await["colour"],
        "green"
    );
    assert_eq!(
        my_pass(&app, "citizen.lina").await["colour"],
        "green",
        "a scan never changes a colour"
    );

    let log: Value = app
        .get_as(&zhang.api_token, "/api/v1/me/access-log")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        log.as_array()
            .expect("list")
            .iter()
            .any(|a| a["purpose"] == "pass_check" && a["actor_role"] == "venue_operator")
    );
}

#[tokio::test]
async fn every_request_gets_a_fresh_code_unless_the_node_reuses_them_and_reuse_never_hides_a_change()
 {
    let app = spawn_app().await;
    let first = my_pass(&app, "citizen.zhangwei").await;
    let second = my_pass(&app, "citizen.zhangwei").await;
    assert_ne!(first["code"], second["code"], "fresh codes by default");

    let app = spawn_app_with(|config| config.pass_reuse_seconds = 30).await;
    let first = my_pass(&app, "citizen.zhangwei").await;
    let again = my_pass(&app, "citizen.zhangwei").await;
    assert_eq!(first["code"], again["code"], "the code signed moments ago");
    assert_eq!(first["expires_at"], again["expires_at"]);
    let lina = my_pass(&app, "citizen.lina").await;
    assert_ne!(lina["code"], first["code"], "each person has their own");

    // A change of colour is never hidden behind a reused code.
    let zhang = app.account("citizen.zhangwei");
    let health = app.account("demo.health").api_token.clone();
    record_positive(&app, &health, zhang.resident_id.as_deref().expect("id")).await;
    let red = my_pass(&app, "citizen.zhangwei").await;
    assert_eq!(red["colour"], "red");
    assert_ne!(red["code"], first["code"]);
    let seen = check(&app, red["code"].as_str().expect("code")).await;
    assert_eq!(
        (seen["valid"].as_bool(), seen["colour"].as_str()),
        (Some(true), Some("red"))
    );

    // Past the window a new code is signed.
    let held = my_pass(&app, "citizen.zhangwei").await;
    assert_eq!(held["code"], red["code"]);
    app.clock.advance(Duration::seconds(31));
    let later = my_pass(&app, "citizen.zhangwei").await;
    assert_ne!(later["code"], red["code"]);
    assert_eq!(later["colour"], "red");
}

#[tokio::test]
async fn the_code_carries_no_name_id_number_or_fact() {
    let app = spawn_app().await;
    let zhang = app.account("citizen.zhangwei");
    let code = my_pass(&app, "citizen.zhangwei").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let sealed = tongban_codes::decode("TB1:", &code).expect("decodes");
    let payload = sealed.sign1.payload.expect("payload");
    let text = String::from_utf8_lossy(&payload);
    assert!(!text.contains("张伟") && !text.contains(zhang.resident_id.as_deref().expect("id")));
    assert!(!text.contains("positive") && !text.contains("test_result"));
    let second = my_pass(&app, "citizen.zhangwei").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let subject = |code: &str| {
        let sealed = tongban_codes::decode("TB1:", code).expect("decodes");
        <coset::cwt::ClaimsSet as coset::CborSerializable>::from_slice(
            &sealed.sign1.payload.expect("payload"),
        )
        .expect("claims")
        .subject
    };
    assert_ne!(
        subject(&code),
        subject(&second),
        "the subject reference changes with every code"
    );
}

#[tokio::test]
async fn only_health_officers_record_facts_and_bad_facts_are_refused() {
    let app = spawn_app().await;
    let zhang = app
        .account("citizen.zhangwei")
        .resident_id
        .clone()
        .expect("id");
    let clerk = app.account("demo.clerk").api_token.clone();
    assert_eq!(
        problem(record(&app, &clerk, &zhang, "test_result", "positive").await)
            .await
            .0,
        403
    );
    let citizen = app.account("citizen.lina").api_token.clone();
    assert_eq!(
        problem(record(&app, &citizen, &zhang, "test_result", "positive").await)
            .await
            .0,
        403
    );
    let health = app.account("demo.health").api_token.clone();
    let (status, body) =
        problem(record(&app, &health, &zhang, "bank_blacklist", "yes").await).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("kind")));
    assert_eq!(
        problem(record(&app, &health, &zhang, "test_result", "maybe").await)
            .await
            .0,
        422
    );
    assert_eq!(
        problem(
            record(
                &app,
                &health,
                "339901198503120191",
                "test_result",
                "positive"
            )
            .await
        )
        .await
        .0,
        404
    );
    assert_eq!(
        problem(
            record(
                &app,
                &health,
                "33990119850312011X",
                "test_result",
                "positive"
            )
            .await
        )
        .await
        .0,
        422
    );
    assert_eq!(
        my_pass(&app, "citizen.zhangwei").await["colour"],
        "green",
        "nothing was recorded"
    );
}

#[tokio::test]
async fn checks_refuse_bad_and_expired_codes_and_are_for_checkers_only() {
    let app = spawn_app().await;
    let code = my_pass(&app, "citizen.zhangwei").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let refused = |v: &Value| {
        (
            v["valid"].as_bool(),
            v["reason"].as_str().map(str::to_owned),
        )
    };
    assert_eq!(
        refused(&check(&app, "XX1:whatever").await),
        (Some(false), Some("bad_prefix".into()))
    );
    // An EU DCC is read as one, and refused at its own step.
    assert_eq!(
        refused(&check(&app, "HC1:whatever").await),
        (Some(false), Some("bad_base45".into()))
    );
    assert_eq!(
        refused(&check(&app, &code[..code.len() - 6]).await).0,
        Some(false)
    );
    let citizen = app
        .post_as(
            &app.account("citizen.lina").api_token,
            "/api/v1/pass/verify",
            &json!({"code": code}),
        )
        .await;
    assert_eq!(problem(citizen).await.0, 403);
    app.clock.advance(Duration::minutes(6));
    assert_eq!(
        refused(&check(&app, &code).await),
        (Some(false), Some("expired".into()))
    );
}

#[tokio::test]
async fn a_policy_takes_effect_only_with_a_second_approver_and_only_reads_health_facts() {
    let app = spawn_app().await;
    let health = app.account("demo.health").api_token.clone();
    let second = second_health_officer(&app).await;

    let current: Value = app
        .get_as(&health, "/api/v1/health/policy")
        .await
        .json()
        .await
        .expect("json");
    let mut rules = current["rules"].clone();
    let bad = json!({"rules": [{"id": "petition", "colour": "red", "description_zh": "上访", "description_en": "petitioner", "logic": {"var": "facts.complaint_record"}}]});
    assert_eq!(
        problem(app.post_as(&health, "/api/v1/health/policies", &bad).await)
            .await
            .0,
        422
    );
    rules[0]["description_en"] = json!("A positive test result within 14 days (v2).");
    let proposed: Value = app
        .post_as(&health, "/api/v1/health/policies", &json!({"rules": rules}))
        .await
        .json()
        .await
        .expect("json");
    let version = proposed["version"].as_i64().expect("version");
    assert_eq!(version, 2);
    assert_eq!(
        problem(
            app.post_as(
                &health,
                &format!("/api/v1/health/policies/{version}/approve"),
                &json!({})
            )
            .await
        )
        .await
        .0,
        409,
        "not by its proposer"
    );
    assert_eq!(
        app.get_as(&health, "/api/v1/health/policy")
            .await
            .json::<Value>()
            .await
            .expect("json")["version"],
        1
    );
    assert_eq!(
        app.post_as(
            &second,
            &format!("/api/v1/health/policies/{version}/approve"),
            &json!({})
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        app.get_as(&health, "/api/v1/health/policy")
            .await
            .json::<Value>()
            .await
            .expect("json")["version"],
        2
    );
    assert_eq!(
        my_pass(&app, "citizen.lina").await["explanation"]["policy_version"],
        2
    );
}

#[tokio::test]
async fn outside_an_emergency_the_pass_is_a_service_pass_without_colour() {
    let app = spawn_app().await;
    let health = app.account("demo.health").api_token.clone();
    let switch = |token: String, on: bool| {
        let app = &app;
        async move {
            app.client
                .put(app.url("/api/v1/health/emergency"))
                .bearer_auth(token)
                .json(&json!({"on": on}))
                .send()
                .await
                .expect("request")
        }
    };
    let proposed = switch(health.clone(), false).await;
    assert_eq!(proposed.status(), 202);
    let id = proposed.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // One officer's proposal changes nothing; its proposer cannot approve it.
    assert_eq!(my_pass(&app, "citizen.zhangwei").await["colour"], "green");
    let approve = |username: &str| {
        let (app, token, id) = (&app, app.account(username).api_token.clone(), id.clone());
        async move {
            app.post_as(
                &token,
                &format!("/api/v1/health/controls/{id}/approve"),
                &json!({}),
            )
            .await
        }
    };
    assert_eq!(problem(approve("demo.health").await).await.0, 409);
    // A district's officer (the laboratory's) is not the city's health authority.
    assert_eq!(problem(approve("demo.lab").await).await.0, 403);
    assert_eq!(
        problem(switch(app.account("demo.lab").api_token.clone(), true).await)
            .await
            .0,
        403
    );
    assert_eq!(approve("demo.health2").await.status(), 204);
    let pass = my_pass(&app, "citizen.zhangwei").await;
    assert_eq!(pass["colour"], "service_only");
    assert_eq!(
        problem(approve("demo.health2").await).await.0,
        409,
        "approved once"
    );
    let clerk = switch(app.account("demo.clerk").api_token.clone(), true).await;
    assert_eq!(problem(clerk).await.0, 403);
    let svg = app
        .get_as(
            &app.account("citizen.zhangwei").api_token,
            "/api/v1/pass/me/qr.svg",
        )
        .await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.expect("svg").contains("<svg"));
}

#[tokio::test]
async fn the_pass_page_shows_the_qr_and_the_colour_with_its_reason() {
    let app = spawn_app().await;
    let zhang = app.account("citizen.zhangwei");
    let mut browser = app.page_login(zhang).await;
    let page = browser.get(&app, "/pass").await.text().await.expect("html");
    assert!(page.contains("绿码") && page.contains("<svg") && page.contains("hx-trigger=\"every "));
    let health = app.account("demo.health").api_token.clone();
    record_positive(&app, &health, zhang.resident_id.as_deref().expect("id")).await;
    let page = browser
        .get(&app, "/pass?lang=en")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("pass-red")
            && page.contains("A positive test result within the last 14 days.")
            && page.contains("positive-test-14d")
    );
}

#[tokio::test]
async fn the_scanner_page_answers_large_and_checkpoints_check_people_without_phones() {
    let app = spawn_app().await;
    let zhang = app.account("citizen.zhangwei");
    let health = app.account("demo.health").api_token.clone();
    record_positive(&app, &health, zhang.resident_id.as_deref().expect("id")).await;
    let red_code = my_pass(&app, "citizen.zhangwei").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let green_code = my_pass(&app, "citizen.lina").await["code"]
        .as_str()
        .expect("code")
        .to_owned();

    let mut venue = app.page_login(app.account("demo.venue")).await;
    let page = venue.get(&app, "/scan").await.text().await.expect("html");
    let csrf = crate::helpers::hidden_csrf(&page);
    let red = venue
        .post_form(
            &app,
            "/scan",
            &[("csrf", csrf.as_str()), ("code", red_code.as_str())],
        )
        .await
        .text()
        .await
        .expect("html");
    assert!(red.contains("pass-red") && red.contains("红码") && red.contains("张*"));
    let green = venue
        .post_form(
            &app,
            "/scan",
            &[("csrf", csrf.as_str()), ("code", green_code.as_str())],
        )
        .await
        .text()
        .await
        .expect("html");
    assert!(green.contains("pass-green") && green.contains("绿码"));
    let junk = venue
        .post_form(
            &app,
            "/scan",
            &[("csrf", csrf.as_str()), ("code", "TB1:%%%")],
        )
        .await
        .text()
        .await
        .expect("html");
    assert!(junk.contains("pass-refused") && junk.contains("通行码不完整或已损坏"));
    assert!(
        !page.contains("action=\"/scan/id\""),
        "venues do not check ID numbers"
    );
    assert_eq!(
        venue
            .post_form(
                &app,
                "/scan/id",
                &[
                    ("csrf", csrf.as_str()),
                    ("resident_id", zhang.resident_id.as_deref().expect("id"))
                ]
            )
            .await
            .status(),
        403
    );

    let mut checkpoint = app.page_login(app.account("demo.checkpoint")).await;
    let page = checkpoint
        .get(&app, "/scan")
        .await
        .text()
        .await
        .expect("html");
    let csrf = crate::helpers::hidden_csrf(&page);
    let by_id = checkpoint
        .post_form(
            &app,
            "/scan/id",
            &[
                ("csrf", csrf.as_str()),
                ("resident_id", zhang.resident_id.as_deref().expect("id")),
            ],
        )
        .await
        .text()
        .await
        .expect("html");
    assert!(
        by_id.contains("红码") && by_id.contains("张*") && !by_id.contains("张伟"),
        "colour and masked name only"
    );
    let log: Value = app
        .get_as(&zhang.api_token, "/api/v1/me/access-log")
        .await
        .json()
        .await
        .expect("json");
    assert!(log.as_array().expect("list").iter().any(
        |a| a["actor_role"] == "checkpoint_officer" && a["categories"] == "name,health_status"
    ));
    let bad = checkpoint
        .post_form(
            &app,
            "/scan/id",
            &[("csrf", csrf.as_str()), ("resident_id", "123")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    // Rate limit: twenty checks a minute per officer.
    for _ in 0..19 {
        checkpoint
            .post_form(
                &app,
                "/scan/id",
                &[
                    ("csrf", csrf.as_str()),
                    ("resident_id", zhang.resident_id.as_deref().expect("id")),
                ],
            )
            .await;
    }
    let limited = checkpoint
        .post_form(
            &app,
            "/scan/id",
            &[
                ("csrf", csrf.as_str()),
                ("resident_id", zhang.resident_id.as_deref().expect("id")),
            ],
        )
        .await;
    assert_eq!(limited.status(), 429);
    app.clock.advance(Duration::seconds(61));
    assert_eq!(
        checkpoint
            .post_form(
                &app,
                "/scan/id",
                &[
                    ("csrf", csrf.as_str()),
                    ("resident_id", zhang.resident_id.as_deref().expect("id"))
                ]
            )
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn health_facts_are_purged_when_their_retention_ends_and_the_purge_is_logged() {
    let app = spawn_app().await;
    let zhang = app.account("citizen.zhangwei");
    let health = app.account("demo.health").api_token.clone();
    record_positive(&app, &health, zhang.resident_id.as_deref().expect("id")).await;
    assert_eq!(my_pass(&app, "citizen.zhangwei").await["colour"], "red");
    assert_eq!(app.count("health_facts").await, 1);
    app.clock.advance(Duration::days(27));
    let purge = || tongban_app::health::service::purge_expired_facts(&app.state);
    assert_eq!(purge().await.expect("purge"), 0);
    app.clock.advance(Duration::days(2));
    let logged_before = app.count("ledger_entries").await;
    assert_eq!(purge().await.expect("purge"), 1);
    assert_eq!(app.count("health_facts").await, 0);
    // The deletion is logged: how many and up to when, not what.
    assert_eq!(app.count("ledger_entries").await, logged_before + 1);
    let entry: Vec<u8> =
        sqlx::query_scalar("SELECT data FROM ledger_entries ORDER BY idx DESC LIMIT 1")
            .fetch_one(app.state.pool())
            .await
            .expect("entry");
    let entry: Value = serde_json::from_slice(&entry).expect("json entry");
    assert_eq!(entry["kind"], "health_facts_purged");
    assert_eq!(entry["detail"]["count"], 1);
    assert!(entry["subject"].is_null());
    assert_eq!(my_pass(&app, "citizen.zhangwei").await["colour"], "green");
}

/// A second node on the same database: what one node changes, the other sees after reading
/// the cache feed, however long its own cache would otherwise have kept the old answer.
#[tokio::test]
async fn a_change_made_on_one_node_reaches_the_cache_of_another() {
    let app = spawn_app().await;
    let other = tongban_app::open_state((*app.state.config).clone(), app.clock.clone())
        .await
        .expect("second node");
    tongban_app::cache::start_feed(&other).await.expect("feed");
    let zhang = app.account("citizen.zhangwei");
    let person: String =
        sqlx::query_scalar("SELECT person_id FROM accounts WHERE username = 'citizen.zhangwei'")
            .fetch_one(app.state.pool())
            .await
            .expect("person");
    let colour = |state: &tongban_app::state::AppState| {
        let (state, person) = (state.clone(), person.clone());
        async move {
            tongban_app::health::service::status_of(&state, &person)
                .await
                .expect("status")
                .colour
        }
    };
    assert_eq!(colour(&other).await, "green");
    assert_eq!(
        other
            .module::<tongban_app::health::inputs::HolderCache>()
            .len(),
        1,
        "the second node now holds the holder"
    );

    // A positive test recorded through the first node: that node evicts at once…
    let health = app.account("demo.health").api_token.clone();
    record_positive(&app, &health, zhang.resident_id.as_deref().expect("id")).await;
    assert_eq!(colour(&app.state).await, "red");
    // …the second still answers from its cache until it reads the feed.
    assert_eq!(colour(&other).await, "green");
    assert!(tongban_app::cache::read_feed(&other).await.expect("feed") >= 1);
    assert_eq!(colour(&other).await, "red");
    // Reading again applies nothing twice.
    assert_eq!(
        tongban_app::cache::read_feed(&other).await.expect("feed"),
        0
    );

    // A token revoked on the first node stops working on the second after the feed is read.
    let token = zhang.api_token.clone();
    let actor = |state: &tongban_app::state::AppState| {
        let (state, token) = (state.clone(), token.clone());
        async move {
            tongban_app::identity::service::actor_from_token(&state, &token)
                .await
                .expect("lookup")
                .is_some()
        }
    };
    assert!(actor(&other).await);
    let tokens: Value = app
        .get_as(&token, "/api/v1/me/tokens")
        .await
        .json()
        .await
        .expect("json");
    let id = tokens
        .as_array()
        .and_then(|list| list.iter().find(|t| t["label"] == "demo"))
        .and_then(|t| t["id"].as_str())
        .expect("the demo token")
        .to_owned();
    let revoked = app
        .client
        .delete(format!("{}/api/v1/me/tokens/{id}", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), 204);
    assert!(!actor(&app.state).await, "revoked on its own node at once");
    tongban_app::cache::read_feed(&other).await.expect("feed");
    assert!(!actor(&other).await, "and on the other after the feed");
}

/// The city's second health officer, by API.
async fn second_health_officer(app: &TestApp) -> String {
    app.account("demo.health2").api_token.clone()
}

#[tokio::test]
async fn a_manual_colour_needs_two_officers_a_listed_reason_an_expiry_and_tells_the_person() {
    let app = spawn_app().await;
    let zhang = app.account("citizen.zhangwei");
    let id = zhang.resident_id.clone().expect("id");
    let health = app.account("demo.health").api_token.clone();
    let second = second_health_officer(&app).await;
    let until = tongban_app::time_fmt::rfc3339(
        tongban_core::Clock::now_millis(&*app.clock) + 3 * 86_400_000,
    );
    let bad_reason = app.post_as(&health, "/api/v1/health/overrides", &json!({"resident_id": id, "colour": "red", "reason_code": "petitioner", "expires_at": until})).await;
    assert_eq!(problem(bad_reason).await.1["field"], "reason_code");
    let too_long = tongban_app::time_fmt::rfc3339(
        tongban_core::Clock::now_millis(&*app.clock) + 90 * 86_400_000,
    );
    let forever = app.post_as(&health, "/api/v1/health/overrides", &json!({"resident_id": id, "colour": "red", "reason_code": "data_entry_error", "expires_at": too_long})).await;
    assert_eq!(problem(forever).await.1["field"], "expires_at");
    let clerk = app.post_as(&app.account("demo.clerk").api_token, "/api/v1/health/overrides", &json!({"resident_id": id, "colour": "red", "reason_code": "data_entry_error", "expires_at": until})).await;
    assert_eq!(problem(clerk).await.0, 403);

    let created: Value = app
        .post_as(&health, "/api/v1/health/overrides", &json!({"resident_id": id, "colour": "yellow", "reason_code": "confirmed_case_pending_record", "expires_at": until}))
        .await
        .json()
        .await
        .expect("json");
    let override_id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(
        my_pass(&app, "citizen.zhangwei").await["colour"],
        "green",
        "one officer is not enough"
    );
    let own = app
        .post_as(
            &health,
            &format!("/api/v1/health/overrides/{override_id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(problem(own).await.0, 409);
    assert_eq!(
        app.post_as(
            &second,
            &format!("/api/v1/health/overrides/{override_id}/approve"),
            &json!({})
        )
        .await
        .status(),
        204
    );
    let pass = my_pass(&app, "citizen.zhangwei").await;
    assert_eq!(pass["colour"], "yellow");
    assert_eq!(
        pass["explanation"]["verdict"]["rule"],
        "override:confirmed_case_pending_record"
    );
    let notices: Value = app
        .get_as(&zhang.api_token, "/api/v1/pass/me/notices")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        notices[0]["text_zh"]
            .as_str()
            .expect("text")
            .contains("黄码")
    );
    app.clock.advance(Duration::days(4));
    assert_eq!(
        my_pass(&app, "citizen.zhangwei").await["colour"],
        "green",
        "an override ends at its expiry"
    );
}

#[tokio::test]
async fn citizens_ask_for_correction_and_review_and_hear_the_outcome() {
    let app = spawn_app().await;
    let zhang = app.account("citizen.zhangwei").api_token.clone();
    let bad = app
        .post_as(
            &zhang,
            "/api/v1/pass/me/requests",
            &json!({"kind": "complaint", "message": "x"}),
        )
        .await;
    assert_eq!(problem(bad).await.1["field"], "kind");
    let created: Value = app
        .post_as(
            &zhang,
            "/api/v1/pass/me/requests",
            &json!({"kind": "correction", "message": "我没有做过这次检测"}),
        )
        .await
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT message_sealed FROM status_requests WHERE id = $1")
            .bind(id.clone())
            .fetch_one(app.state.pool())
            .await
            .expect("row");
    assert!(
        !String::from_utf8_lossy(&stored).contains("检测"),
        "the message is sealed at rest"
    );
    let health = app.account("demo.health").api_token.clone();
    let open: Value = app
        .get_as(&health, "/api/v1/health/requests")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(open[0]["message"], "我没有做过这次检测");
    assert_eq!(
        problem(
            app.get_as(
                &app.account("demo.clerk").api_token,
                "/api/v1/health/requests"
            )
            .await
        )
        .await
        .0,
        403
    );
    assert_eq!(
        app.post_as(
            &health,
            &format!("/api/v1/health/requests/{id}/resolve"),
            &json!({"outcome": "已核实并删除错误记录"})
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        problem(
            app.post_as(
                &health,
                &format!("/api/v1/health/requests/{id}/resolve"),
                &json!({"outcome": "again"})
            )
            .await
        )
        .await
        .0,
        409
    );
    let mine: Value = app
        .get_as(&zhang, "/api/v1/pass/me/requests")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(mine[0]["outcome"], "已核实并删除错误记录");
    let notices: Value = app
        .get_as(&zhang, "/api/v1/pass/me/notices")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        notices[0]["text_zh"]
            .as_str()
            .expect("text")
            .contains("已核实")
    );
}

#[tokio::test]
async fn a_citizen_asks_for_review_on_the_pass_page() {
    let app = spawn_app().await;
    let mut browser = app.page_login(app.account("citizen.lina")).await;
    let page = browser.get(&app, "/pass").await.text().await.expect("html");
    let csrf = crate::helpers::hidden_csrf(&page);
    let sent = browser
        .post_form(
            &app,
            "/pass/requests",
            &[
                ("csrf", csrf.as_str()),
                ("kind", "review"),
                ("message", "请人工复核"),
            ],
        )
        .await
        .text()
        .await
        .expect("html");
    assert!(sent.contains("已提交"));
    let forged = browser
        .post_form(
            &app,
            "/pass/requests",
            &[("csrf", "forged"), ("kind", "review"), ("message", "x")],
        )
        .await;
    assert_eq!(forged.status(), 403);
    assert_eq!(app.count("status_requests").await, 1);
}

#[tokio::test]
async fn a_library_needs_a_library_card_and_the_metro_a_transit_entitlement() {
    let app = spawn_app().await;
    let library = app.account("demo.venue").api_token.clone();
    let metro = app.account("demo.venue.metro").api_token.clone();
    let check_at = |token: String, code: String| {
        let app = &app;
        async move {
            app.post_as(&token, "/api/v1/pass/verify", &json!({"code": code}))
                .await
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    let zhang = my_pass(&app, "citizen.zhangwei").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let lina = my_pass(&app, "citizen.lina").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let at_library = check_at(library.clone(), zhang.clone()).await;
    assert_eq!(
        (
            at_library["admitted"].as_bool(),
            at_library["venue"].as_str()
        ),
        (Some(true), Some("江北区图书馆"))
    );
    let no_card = check_at(library.clone(), lina.clone()).await;
    assert_eq!(
        (
            no_card["admitted"].as_bool(),
            no_card["admission_reason"].as_str()
        ),
        (Some(false), Some("no_entitlement"))
    );
    assert_eq!(
        check_at(metro.clone(), lina.clone()).await["admitted"],
        true,
        "everyone may ride"
    );

    let health = app.account("demo.health").api_token.clone();
    let id = app
        .account("citizen.zhangwei")
        .resident_id
        .clone()
        .expect("id");
    record_positive(&app, &health, &id).await;
    let red = check_at(metro, zhang).await;
    assert_eq!(
        (
            red["colour"].as_str(),
            red["admitted"].as_bool(),
            red["admission_reason"].as_str()
        ),
        (Some("red"), Some(false), Some("colour_not_admitted"))
    );
}

#[tokio::test]
async fn notices_and_request_outcomes_are_sealed_at_rest() {
    let app = spawn_app().await;
    let zhang = app.account("citizen.zhangwei").api_token.clone();
    let created: Value = app
        .post_as(
            &zhang,
            "/api/v1/pass/me/requests",
            &json!({"kind": "review", "message": "请复核"}),
        )
        .await
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    let health = app.account("demo.health").api_token.clone();
    assert_eq!(
        app.post_as(
            &health,
            &format!("/api/v1/health/requests/{id}/resolve"),
            &json!({"outcome": "复核后维持绿码"})
        )
        .await
        .status(),
        204
    );
    let outcome: Vec<u8> =
        sqlx::query_scalar("SELECT outcome_sealed FROM status_requests WHERE id = $1")
            .bind(id)
            .fetch_one(app.state.pool())
            .await
            .expect("row");
    assert!(!String::from_utf8_lossy(&outcome).contains("维持"));
    let notices: Vec<Vec<u8>> = sqlx::query_scalar("SELECT text_zh_sealed FROM notices")
        .fetch_all(app.state.pool())
        .await
        .expect("rows");
    assert!(
        !notices.is_empty()
            && notices
                .iter()
                .all(|n| !String::from_utf8_lossy(n).contains("维持"))
    );
    let shown: Value = app
        .get_as(&zhang, "/api/v1/pass/me/notices")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        shown[0]["text_zh"]
            .as_str()
            .expect("text")
            .contains("复核后维持绿码")
    );
}

/// 一证通行 over the API: the number typed, or the card's text block from a reader.
#[tokio::test]
async fn checkpoints_check_a_person_by_the_card_a_reader_read() {
    use base64::Engine as _;
    let app = spawn_app().await;
    let wang = app.account("citizen.wangfang");
    let number = wang.resident_id.clone().expect("id");
    let card = |birth: &str, until: &str| {
        base64::engine::general_purpose::STANDARD.encode(tongban_core::id_card::encode_text_block(
            wang.name.as_deref().expect("name"),
            "2",
            "01",
            birth,
            "临江市江南区滨江路8号",
            &number,
            "临江市公安局江南分局",
            "20200101",
            until,
        ))
    };
    let birth = &number[6..14];
    let checkpoint = app.account("demo.checkpoint").api_token.clone();
    let ask = |token: String, body: Value| {
        let app = &app;
        async move {
            app.post_as(&token, "/api/v1/pass/check-person", &body)
                .await
        }
    };
    let accesses = app.count("personal_data_access").await;

    let read = ask(
        checkpoint.clone(),
        json!({"card_text": card(birth, "长期")}),
    )
    .await;
    assert_eq!(read.status(), 200);
    let outcome: Value = read.json().await.expect("json");
    assert_eq!(outcome["valid"], true);
    assert_eq!(outcome["colour"], "green");
    assert_eq!(outcome["initials"], wang.display_name.as_str());
    assert_eq!(app.count("personal_data_access").await, accesses + 1);

    let typed = ask(checkpoint.clone(), json!({"resident_id": number})).await;
    assert_eq!(typed.status(), 200);
    assert_eq!(app.count("personal_data_access").await, accesses + 2);

    // Refused, and nothing recorded: an expired card, a card whose birth date disagrees with
    // its number, garbage, both fields at once, and a venue operator instead of a checkpoint.
    for (token, body, status) in [
        (
            checkpoint.clone(),
            json!({"card_text": card(birth, "20210101")}),
            422,
        ),
        (
            checkpoint.clone(),
            json!({"card_text": card("19000101", "长期")}),
            422,
        ),
        (
            checkpoint.clone(),
            json!({"card_text": "not base64 at all, surely not"}),
            422,
        ),
        (
            checkpoint.clone(),
            json!({"resident_id": number, "card_text": card(birth, "长期")}),
            422,
        ),
        (checkpoint.clone(), json!({}), 422),
        (
            app.account("demo.venue").api_token.clone(),
            json!({"resident_id": number}),
            403,
        ),
    ] {
        let response = ask(token, body.clone()).await;
        let (got, problem) = problem(response).await;
        assert_eq!(got, status, "{body} → {problem}");
    }
    assert_eq!(app.count("personal_data_access").await, accesses + 2);
}

/// A venue configured to record check-ins records each admission once per visit, keeps the
/// person only as a pseudonym and a sealed id, and deletes check-ins after their retention.
#[tokio::test]
async fn admissions_at_a_recording_venue_become_check_ins_kept_for_28_days() {
    let app = spawn_app().await;
    let metro = app.account("demo.venue.metro").api_token.clone();
    let library = app.account("demo.venue").api_token.clone();
    let scan = |token: &str, code: &str| {
        let (app, token, code) = (&app, token.to_owned(), code.to_owned());
        async move {
            let response = app
                .post_as(&token, "/api/v1/pass/verify", &json!({"code": code}))
                .await;
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.expect("json")
        }
    };
    let zhang = my_pass(&app, "citizen.zhangwei").await;
    let code = zhang["code"].as_str().expect("code").to_owned();

    let first = scan(&metro, &code).await;
    assert_eq!(first["admitted"], true);
    assert_eq!(first["checked_in"], true);
    // The same person at the same door within a minute is the same visit.
    assert_eq!(scan(&metro, &code).await["checked_in"], false);
    assert_eq!(app.checkins_stored().await, 1);
    // The library is not configured to record.
    assert!(scan(&library, &code).await["checked_in"].is_null());
    assert_eq!(app.checkins_stored().await, 1);

    // Stored as a pseudonym and a sealed id: no person id in clear.
    let person: String =
        sqlx::query_scalar("SELECT person_id FROM accounts WHERE username = 'citizen.zhangwei'")
            .fetch_one(app.state.pool())
            .await
            .expect("person");
    // Acknowledged check-ins wait in the log; compaction moves them to the indexed table.
    assert_eq!(app.count("checkin_log").await, 1);
    tongban_app::checkins::writer::compact(&app.state.db, i64::MAX)
        .await
        .expect("compact");
    assert_eq!(app.count("checkin_log").await, 0);
    assert_eq!(app.checkins_stored().await, 1);
    let (subject, sealed): (Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT c.subject, s.person_sealed FROM checkins c JOIN checkin_subjects s ON s.subject = c.subject",
    )
    .fetch_one(app.state.pool())
    .await
    .expect("row");
    assert_eq!(subject.len(), 16);
    for stored in [&subject, &sealed] {
        assert!(!stored.windows(person.len()).any(|w| w == person.as_bytes()));
    }
    assert_eq!(
        tongban_app::checkins::person_of(&app.state, &subject.try_into().expect("16 bytes"))
            .await
            .expect("opens"),
        Some(person.clone())
    );

    // Someone red is not admitted, so not checked in.
    let health = app.account("demo.health").api_token.clone();
    let li = app.account("citizen.lina");
    record_positive(&app, &health, li.resident_id.as_deref().expect("id")).await;
    let li_code = my_pass(&app, "citizen.lina").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let refused = scan(&metro, &li_code).await;
    assert_eq!(refused["admitted"], false);
    assert!(refused["checked_in"].is_null());

    app.clock.advance(Duration::seconds(61));
    let again = my_pass(&app, "citizen.zhangwei").await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    assert_eq!(scan(&metro, &again).await["checked_in"], true);
    assert_eq!(app.checkins_stored().await, 2);

    app.clock.advance(Duration::days(27));
    let purge = || tongban_app::checkins::purge_expired(&app.state);
    assert_eq!(purge().await.expect("purge"), 0);
    let logged_before = app.count("ledger_entries").await;
    app.clock.advance(Duration::days(2));
    assert_eq!(purge().await.expect("purge"), 2);
    assert_eq!(app.checkins_stored().await, 0);
    assert_eq!(
        app.count("checkin_subjects").await,
        0,
        "pseudonyms go with their check-ins"
    );
    assert_eq!(app.count("ledger_entries").await, logged_before + 1);
}

/// Reading a holder's facts to compute their own pass is logged when the facts are read from
/// storage, not each time the kept status is shown again.
#[tokio::test]
async fn the_platform_reading_facts_for_the_holders_own_pass_is_logged() {
    let app = spawn_app().await;
    let health = app.account("demo.health").api_token.clone();
    let zhang = app.account("citizen.zhangwei");
    record_positive(&app, &health, zhang.resident_id.as_deref().expect("id")).await;
    let before = app.count("ledger_entries").await;
    assert_eq!(my_pass(&app, "citizen.zhangwei").await["colour"], "red");
    assert_eq!(app.count("ledger_entries").await, before + 1);
    let entry: Vec<u8> =
        sqlx::query_scalar("SELECT data FROM ledger_entries ORDER BY idx DESC LIMIT 1")
            .fetch_one(app.state.pool())
            .await
            .expect("entry");
    let entry: Value = serde_json::from_slice(&entry).expect("json entry");
    assert_eq!(entry["action"], "compute_status");
    assert_eq!(entry["actor"], "system");
    assert_eq!(entry["categories"], "health_facts");
    my_pass(&app, "citizen.zhangwei").await;
    assert_eq!(app.count("ledger_entries").await, before + 1);
}

/// 时空伴随: a health officer matches a case's check-ins against everyone else's, reviews,
/// and confirms; only the confirmation changes anything.
#[tokio::test]
async fn contact_matching_finds_overlapping_presence_and_only_confirmation_designates() {
    let app = spawn_app().await;
    let metro = app.account("demo.venue.metro").api_token.clone();
    let health = app.account("demo.health").api_token.clone();
    let check_in = |username: &'static str| {
        let (app, metro) = (&app, metro.clone());
        async move {
            let code = my_pass(app, username).await["code"]
                .as_str()
                .expect("code")
                .to_owned();
            let outcome: Value = app
                .post_as(&metro, "/api/v1/pass/verify", &json!({"code": code}))
                .await
                .json()
                .await
                .expect("json");
            assert_eq!(outcome["checked_in"], true, "{username}");
        }
    };
    let started = tongban_core::Clock::now_millis(&*app.clock);
    check_in("citizen.zhangwei").await;
    app.clock.advance(Duration::minutes(10));
    check_in("citizen.wangfang").await;
    app.clock.advance(Duration::minutes(35));
    check_in("citizen.chenming").await;
    app.clock.advance(Duration::minutes(5));

    let zhang = app.account("citizen.zhangwei");
    let request = |purpose: &str, dwell: i64| {
        json!({
            "resident_id": zhang.resident_id.clone().expect("id"),
            "from": tongban_app::time_fmt::rfc3339(started - 3_600_000),
            "to": tongban_app::time_fmt::rfc3339(tongban_core::Clock::now_millis(&*app.clock)),
            "dwell_minutes": dwell,
            "purpose": purpose,
        })
    };
    let health2 = app.account("demo.health2").api_token.clone();
    let ask = |body: Value| {
        let (app, health) = (&app, health.clone());
        async move {
            app.post_as(&health, "/api/v1/health/contacts/requests", &body)
                .await
        }
    };
    // No match about someone who is not a confirmed case.
    let facts = app.count("health_facts").await;
    assert_eq!(problem(ask(request("确诊病例流调", 30)).await).await.0, 409);
    record_positive(&app, &health, zhang.resident_id.as_deref().expect("id")).await;
    // Asked by one officer, approved by another, run by either.
    let run = |body: Value| {
        let (app, health, health2) = (&app, health.clone(), health2.clone());
        async move {
            let asked = ask(body).await;
            assert_eq!(asked.status(), 201);
            let id = asked.json::<Value>().await.expect("json")["id"]
                .as_str()
                .expect("id")
                .to_owned();
            let run_path = format!("/api/v1/health/contacts/requests/{id}/run");
            assert_eq!(
                problem(app.post_as(&health, &run_path, &json!({})).await)
                    .await
                    .0,
                409,
                "not before the approval"
            );
            let approve_path = format!("/api/v1/health/contacts/requests/{id}/approve");
            assert_eq!(
                problem(app.post_as(&health, &approve_path, &json!({})).await)
                    .await
                    .0,
                409,
                "not by its requester"
            );
            assert_eq!(
                app.post_as(&health2, &approve_path, &json!({}))
                    .await
                    .status(),
                204
            );
            let response = app.post_as(&health, &run_path, &json!({})).await;
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.expect("json")
        }
    };
    assert_eq!(my_pass(&app, "citizen.zhangwei").await["colour"], "red");
    let logged = app.count("ledger_entries").await;
    let found = run(request("确诊病例流调", 30)).await;
    assert_eq!(found["case_visits"], 1);
    let contacts = found["contacts"].as_array().expect("list");
    assert_eq!(
        contacts.len(),
        1,
        "王芳 overlapped 20 minutes; 陈明 came after: {found}"
    );
    assert_eq!(contacts[0]["overlap_minutes"], 20);
    assert!(!found.to_string().contains("王"), "no names in a match");
    assert!(
        !found.to_string().contains("地铁"),
        "no venues in a match: {found}"
    );
    assert_eq!(
        app.count("ledger_entries").await,
        logged + 3,
        "the request, its approval and the run are logged"
    );
    // The same answer once the log is compacted into the indexed table.
    tongban_app::checkins::writer::compact(&app.state.db, i64::MAX)
        .await
        .expect("compact");
    let without_references = |found: &Value| {
        let mut list = found["contacts"].clone();
        for row in list.as_array_mut().into_iter().flatten() {
            row.as_object_mut().map(|o| o.remove("reference"));
        }
        list
    };
    assert_eq!(
        without_references(&run(request("确诊病例流调", 30)).await),
        without_references(&found)
    );
    // A longer dwell window reaches 陈明 too.
    assert_eq!(
        run(request("确诊病例流调", 60)).await["contacts"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // A raw match changed nobody's colour.
    assert_eq!(my_pass(&app, "citizen.wangfang").await["colour"], "green");

    // Refused, and nothing recorded.
    let facts = app.count("health_facts").await.max(facts + 1);
    for (token, path, body, status) in [
        (metro.clone(), "requests", request("流调", 30), 403),
        (health.clone(), "requests", request(" ", 30), 422),
        (health.clone(), "requests", request("流调", 1), 422),
        (
            health.clone(),
            "designate",
            json!({"references": ["bm90IG91cnM"], "legal_basis": "传染病防治法"}),
            422,
        ),
        (
            health.clone(),
            "designate",
            json!({"references": [], "legal_basis": "传染病防治法"}),
            422,
        ),
        (
            metro.clone(),
            "designate",
            json!({"references": [contacts[0]["reference"]], "legal_basis": "传染病防治法"}),
            403,
        ),
    ] {
        let response = app
            .post_as(&token, &format!("/api/v1/health/contacts/{path}"), &body)
            .await;
        assert_eq!(problem(response).await.0, status, "{path} {body}");
    }
    assert_eq!(app.count("health_facts").await, facts);

    // The officer designates: a contact designation, logged, in force only once a second
    // officer confirms it.
    let designated = app
        .post_as(
            &health,
            "/api/v1/health/contacts/designate",
            &json!({"references": [contacts[0]["reference"]], "legal_basis": "传染病防治法 第四十二条"}),
        )
        .await;
    assert_eq!(designated.status(), 201);
    let designated: Value = designated.json().await.expect("json");
    assert_eq!(app.count("health_facts").await, facts + 1);
    assert_eq!(
        my_pass(&app, "citizen.wangfang").await["colour"],
        "green",
        "not before a second officer confirms"
    );
    let fact = json!({"id": designated["facts"][0]});
    confirm(&app, "demo.health2", &fact).await;
    assert_ne!(my_pass(&app, "citizen.wangfang").await["colour"], "green");
    assert_eq!(my_pass(&app, "citizen.chenming").await["colour"], "green");
    // Match requests go with the check-ins they could read.
    assert_eq!(app.count("contact_match_requests").await, 3);
    app.clock.advance(Duration::days(29));
    tongban_app::checkins::contacts::purge_requests(&app.state)
        .await
        .expect("purge");
    assert_eq!(app.count("contact_match_requests").await, 0);
}

/// Two nodes behind a load balancer: the same person scanned at the same door through each
/// within a minute is one visit once the log is compacted, also when a compaction falls
/// between the two scans; a scan more than a minute after the one kept is a visit of its own.
#[tokio::test]
async fn repeat_scans_through_two_nodes_fold_into_one_visit() {
    use tongban_app::checkins::writer::Compactor;
    let app = spawn_app().await;
    let (_other, other_address) = app.second_node().await;
    let metro = app.account("demo.venue.metro").api_token.clone();
    let scan = |address: &str| {
        let (app, metro, address) = (&app, metro.clone(), address.to_owned());
        async move {
            let pass = my_pass(app, "citizen.zhangwei").await;
            let response = app
                .client
                .post(format!("{address}/api/v1/pass/verify"))
                .bearer_auth(&metro)
                .json(&json!({"code": pass["code"]}))
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.expect("json")["checked_in"]
                .as_bool()
                .expect("a recording venue")
        }
    };
    let compactor = Compactor::default();
    let compact = || compactor.compact(&app.state.db, i64::MAX);

    assert!(scan(&app.address).await);
    assert_eq!(compact().await.expect("compact"), 1);
    app.clock.advance(Duration::seconds(30));
    assert!(
        scan(&other_address).await,
        "the other node has not seen the first scan"
    );
    assert_eq!(app.count("checkin_log").await, 1);
    assert_eq!(compact().await.expect("compact"), 1, "it leaves the log");
    assert_eq!(app.checkins_stored().await, 1, "folded across the seam");

    // 95 s after the first: a visit of its own, through either node.
    app.clock.advance(Duration::seconds(65));
    assert!(scan(&other_address).await);
    compact().await.expect("compact");
    assert_eq!(app.checkins_stored().await, 2);

    // Two nodes within one compaction's rows, with a compactor that has seen nothing before
    // (the job taken over by another node).
    app.clock.advance(Duration::seconds(120));
    assert!(scan(&app.address).await);
    app.clock.advance(Duration::seconds(10));
    assert!(scan(&other_address).await);
    assert_eq!(app.count("checkin_log").await, 2);
    Compactor::default()
        .compact(&app.state.db, i64::MAX)
        .await
        .expect("compact");
    assert_eq!(app.count("checkin_log").await, 0);
    assert_eq!(app.checkins_stored().await, 3);
}

/// The node's metrics count what each cache answered from memory and what it read from the
/// database: a holder's second pass comes from the cache, and a change to the holder's facts
/// makes the next one read again.
#[tokio::test]
async fn the_metrics_count_the_pass_caches_hits_and_misses() {
    let app = spawn_app().await;
    let lookups = || async {
        let text = app
            .client
            .get(app.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        let count = |outcome: &str| {
            let label = format!(
                "tongban_cache_lookups_total{{cache=\"HolderInputs\",scope=\"person\",outcome=\"{outcome}\"}} "
            );
            text.lines()
                .find_map(|line| line.strip_prefix(label.as_str()))
                .map_or(0, |n| n.parse::<u64>().expect("a count"))
        };
        (count("hit"), count("miss"))
    };
    my_pass(&app, "citizen.zhangwei").await;
    let (hits, misses) = lookups().await;
    assert!(misses >= 1, "the first pass read the holder: {misses}");
    my_pass(&app, "citizen.zhangwei").await;
    let (hits_after, misses_after) = lookups().await;
    assert!(hits_after > hits, "the second pass came from the cache");
    assert_eq!(misses_after, misses, "and read nothing");

    let officer = app.account("demo.health").api_token.clone();
    let resident_id = app
        .account("citizen.zhangwei")
        .resident_id
        .clone()
        .expect("a resident");
    let recorded = record(&app, &officer, &resident_id, "test_result", "negative").await;
    assert_eq!(recorded.status(), 201);
    let recorded: Value = recorded.json().await.expect("json");
    if recorded["in_force"] == false {
        let id = recorded["id"].as_str().expect("id");
        let second = app.account("demo.health2").api_token.clone();
        let confirmed = app
            .post_as(
                &second,
                &format!("/api/v1/health/facts/{id}/confirm"),
                &json!({}),
            )
            .await;
        assert_eq!(confirmed.status(), 204);
    }
    my_pass(&app, "citizen.zhangwei").await;
    let (_, misses_changed) = lookups().await;
    assert!(
        misses_changed > misses_after,
        "a change to the holder's facts is read again"
    );
}

/// Many holders missing the cache at once (the first passes after a restart) are read
/// together, a statement per table for all of them; each gets exactly what it would get read
/// alone, an unknown person is refused, and each read of facts is logged once.
#[tokio::test]
async fn holders_read_together_get_what_each_would_get_alone() {
    let app = spawn_app().await;
    let zhang = app.account("citizen.zhangwei");
    let health = app.account("demo.health").api_token.clone();
    record_positive(&app, &health, zhang.resident_id.as_deref().expect("id")).await;
    let zhang_id = app.person_id_of("citizen.zhangwei").await;
    // A fresh node over the same database: nothing cached.
    let node = tongban_app::open_state((*app.state.config).clone(), app.clock.clone())
        .await
        .expect("second node");
    let mut people: Vec<String> = sqlx::query_scalar("SELECT id FROM persons ORDER BY id LIMIT 40")
        .fetch_all(app.state.pool())
        .await
        .expect("persons");
    assert!(people.len() >= 3, "the demo registers people");
    if !people.contains(&zhang_id) {
        people.push(zhang_id.clone());
    }
    people.push("no-such-person".to_owned());
    let twice = people
        .iter()
        .find(|id| **id != zhang_id)
        .expect("another person")
        .clone();
    people.push(twice);

    let logged_before = app.count("ledger_entries").await;
    let reads = people.iter().map(|id| {
        let node = node.clone();
        let id = id.clone();
        tokio::spawn(async move { tongban_app::health::inputs::holder(&node, &id).await })
    });
    let mut together = Vec::new();
    for read in reads.collect::<Vec<_>>() {
        together.push(read.await.expect("task"));
    }
    let logged = app.count("ledger_entries").await - logged_before;
    assert_eq!(logged, 1, "one holder has facts: one read of facts logged");

    let now = tongban_core::Clock::now_millis(&*app.clock);
    for (id, read) in people.iter().zip(together) {
        if id == "no-such-person" {
            assert!(matches!(read, Err(tongban_app::error::AppError::NotFound)));
            continue;
        }
        let together = read.expect("inputs");
        let alone = tongban_app::health::inputs::load_one(&node, id, now)
            .await
            .expect("alone");
        let facts = |inputs: &tongban_app::health::inputs::HolderInputs| {
            inputs
                .facts
                .iter()
                .map(|f| (f.id.clone(), f.kind.clone(), f.value.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(facts(&together), facts(&alone), "{id}");
        assert_eq!(together.entitlements, alone.entitlements, "{id}");
        assert_eq!(together.initials, alone.initials, "{id}");
        assert_eq!(together.overrides.len(), alone.overrides.len(), "{id}");
        if *id == zhang_id {
            assert_eq!(facts(&together).len(), 1);
            assert_eq!(together.initials, "张*");
        }
    }
}

/// The same work from the health desk's pages: an approved match is run on the page, its
/// contacts (no names) ticked and designated for a second officer's confirmation; the
/// emergency mode is proposed for a second officer's approval.
#[tokio::test]
async fn a_health_officer_runs_an_approved_match_and_designates_contacts_on_the_desk() {
    let app = spawn_app().await;
    let metro = app.account("demo.venue.metro").api_token.clone();
    let health = app.account("demo.health").api_token.clone();
    let started = tongban_core::Clock::now_millis(&*app.clock);
    for (username, later) in [("citizen.zhangwei", 10), ("citizen.wangfang", 35)] {
        let code = my_pass(&app, username).await["code"]
            .as_str()
            .expect("code")
            .to_owned();
        let checked = app
            .post_as(&metro, "/api/v1/pass/verify", &json!({"code": code}))
            .await;
        assert_eq!(checked.status(), 200);
        app.clock.advance(Duration::minutes(later));
    }
    let zhang = app.account("citizen.zhangwei");
    record_positive(&app, &health, zhang.resident_id.as_deref().expect("id")).await;
    let asked: Value = app
        .post_as(
            &health,
            "/api/v1/health/contacts/requests",
            &json!({
                "resident_id": zhang.resident_id.clone().expect("id"),
                "from": tongban_app::time_fmt::rfc3339(started - 3_600_000),
                "to": tongban_app::time_fmt::rfc3339(tongban_core::Clock::now_millis(&*app.clock)),
                "dwell_minutes": 30,
                "purpose": "确诊病例流调",
            }),
        )
        .await
        .json()
        .await
        .expect("json");
    let id = asked["id"].as_str().expect("id");
    let approve = format!("/api/v1/health/contacts/requests/{id}/approve");
    let second = app.account("demo.health2").api_token.clone();
    assert_eq!(
        app.post_as(&second, &approve, &json!({})).await.status(),
        204
    );

    let mut desk = app.page_login(app.account("demo.health")).await;
    let html = desk.get(&app, "/health").await.text().await.expect("html");
    let run = format!("/health/contacts/{id}/run");
    assert!(
        html.contains(&format!("action=\"{run}\"")),
        "the match to run"
    );
    let csrf = crate::helpers::hidden_csrf(&html);
    let found = desk.post_form(&app, &run, &[("csrf", csrf.as_str())]).await;
    assert_eq!(found.status(), 200);
    let found = found.text().await.expect("html");
    assert!(!found.contains("王芳"), "no names in a match");
    let reference = found
        .split("name=\"contact.0\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a contact to tick")
        .to_owned();
    let pending = app.count("health_facts").await;
    let designated = desk
        .post_form(
            &app,
            "/health/contacts/designate",
            &[
                ("csrf", csrf.as_str()),
                ("contact.0", reference.as_str()),
                ("legal_basis", "《传染病防治法》第十二条"),
            ],
        )
        .await;
    assert_eq!(designated.status(), 303);
    assert_eq!(designated.headers()["location"], "/health?done=designated");
    assert_eq!(app.count("health_facts").await, pending + 1);
    assert_eq!(
        my_pass(&app, "citizen.wangfang").await["colour"],
        "green",
        "nothing changes before the second officer confirms"
    );

    // The emergency mode: proposed here, waiting in the second officer's inbox.
    let proposed = desk
        .post_form(
            &app,
            "/health/emergency",
            &[("csrf", csrf.as_str()), ("mode", "off")],
        )
        .await;
    assert_eq!(proposed.status(), 303);
    let mut other = app.page_login(app.account("demo.health2")).await;
    let inbox = other
        .get(&app, "/health/approvals")
        .await
        .text()
        .await
        .expect("html");
    assert!(inbox.contains("action=\"/health/approvals/emergency/"));
}

/// The status policy on the desk: read in words, proposed from the form as a new version that
/// waits for a second officer; a condition that is not JSON comes back with what was typed.
#[tokio::test]
async fn a_health_officer_proposes_the_status_policy_on_its_page() {
    use crate::helpers::form_values;
    let app = spawn_app().await;
    let mut desk = app.page_login(app.account("demo.health")).await;
    let page = desk
        .get(&app, "/health/policy")
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("name=\"rule.0.logic\""), "the rules in force");
    let versions = app.count("status_policies").await;
    let values = form_values(&page, "/health/policy");
    let mut broken = values.clone();
    for (name, value) in &mut broken {
        if name == "rule.0.logic" {
            *value = "{not json".into();
        }
    }
    let form: Vec<(&str, &str)> = broken
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let refused = desk.post_form(&app, "/health/policy", &form).await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.expect("html");
    assert!(html.contains("id=\"policy-problem\""));
    assert!(html.contains("{not json"), "what was typed stays");
    assert_eq!(app.count("status_policies").await, versions);

    let form: Vec<(&str, &str)> = values
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let proposed = desk.post_form(&app, "/health/policy", &form).await;
    assert_eq!(proposed.status(), 303);
    assert_eq!(proposed.headers()["location"], "/health?done=policy");
    assert_eq!(app.count("status_policies").await, versions + 1);
    let mut other = app.page_login(app.account("demo.health2")).await;
    let inbox = other
        .get(&app, "/health/approvals")
        .await
        .text()
        .await
        .expect("html");
    assert!(inbox.contains("action=\"/health/approvals/policy/"));
}
