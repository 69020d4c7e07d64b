//! 跨省通办: two regions, two databases, two gateways. A citizen of region A applies for an
//! item whose competent department is in region B (全程网办), and a window of A receives an
//! application for B (异地代收代办); the signed package travels through the exchange between
//! the regions and becomes one case in B, whose clerk accepts, asks for a correction, approves
//! and issues; every step comes back to A, and the applicant's rating reaches B. B stopped
//! while packages wait costs nothing: they arrive once when it returns. A package delivered
//! twice makes one case; a package altered after signing is refused and logged.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::across::{logged, own_members, recognise, region, uscc};
use crate::helpers::{TestApp, problem};

const ITEM: &str = "339900-SW-0003";

/// How many outbox entries each node had delivered at its last [`drain`] (by its base URL).
static SEEN: std::sync::Mutex<std::collections::BTreeMap<String, i64>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// Runs the outbox of `app` until nothing is due (a case's steps go one per round), and says
/// how many entries were delivered since the last drain of that node — by this call or by the
/// node's own delivery job, which runs beside it (a round waits for the job's round under way).
async fn drain(app: &TestApp) -> usize {
    let before = SEEN
        .lock()
        .expect("lock")
        .get(&app.url(""))
        .copied()
        .unwrap_or(0);
    for _ in 0..10 {
        let delivered = tongban_app::crossregion::outbox::deliver_due(&app.state)
            .await
            .expect("deliver");
        if delivered == 0 {
            break;
        }
    }
    let delivered = mark(app).await;
    usize::try_from(delivered - before).expect("never fewer")
}

/// The entries `app` has delivered, which the next [`drain`] counts from (after a test undoes
/// a delivery to send it again).
async fn mark(app: &TestApp) -> i64 {
    let delivered: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM cross_outbox WHERE outcome = 'delivered'")
            .fetch_one(app.state.pool())
            .await
            .expect("count");
    SEEN.lock().expect("lock").insert(app.url(""), delivered);
    delivered
}

async fn case(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app
        .get_as(token, &format!("/api/v1/cross-region/cases/{id}"))
        .await;
    assert_eq!(response.status(), 200, "case {id}");
    response.json().await.expect("case")
}

async fn cases_in(app: &TestApp, id: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM cross_cases WHERE id = $1")
        .bind(id.to_owned())
        .fetch_one(app.state.pool())
        .await
        .expect("count")
}

/// Each region's government-services administration grants the other's its intake, and
/// records it as a partner.
async fn partners(a: &TestApp, b: &TestApp) {
    let until = tongban_core::zone::ymd(b.state.today() + time::Duration::days(365));
    let items: Vec<&str> = tongban_app::crossregion::intake::ITEMS
        .iter()
        .map(|(code, _, _)| *code)
        .collect();
    for (owner, other) in [(b, a), (a, b)] {
        let token = owner.account("demo.deptadmin").api_token.clone();
        let other_intake = uscc(other, "government_services").await;
        let granted = owner
            .post_as(
                &token,
                "/api/v1/exchange/foreign-grants",
                &json!({"resource": "KS-TB-001", "uscc": other_intake, "name": "合作地区政务服务管理局",
                    "items": items, "purpose": "跨省通办：收件、回执与事项清单",
                    "legal_basis": "《国务院办公厅关于加快推进政务服务“跨省通办”的指导意见》", "until": until}),
            )
            .await;
        assert_eq!(
            granted.status(),
            201,
            "{}",
            granted.text().await.unwrap_or_default()
        );
    }
    for (here, other) in [(a, b), (b, a)] {
        let token = here.account("demo.deptadmin").api_token.clone();
        let added = here
            .post_as(
                &token,
                "/api/v1/cross-region/partners",
                &json!({"region": other.state.config.region_code, "intake_uscc": uscc(other, "government_services").await,
                    "name": "合作地区"}),
            )
            .await;
        assert_eq!(
            added.status(),
            201,
            "{}",
            added.text().await.unwrap_or_default()
        );
    }
}

fn material(bytes: &[u8]) -> Value {
    json!({"name": "完税情况说明", "media_type": "application/pdf",
        "content": base64::engine::general_purpose::STANDARD.encode(bytes)})
}

#[tokio::test]
async fn applications_cross_regions_once_and_their_progress_comes_back() {
    let a = region("339900").await;
    let mut b = region("440300").await;
    let common = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    a.clock.set(common);
    b.clock.set(common);
    own_members(&b).await;
    recognise(&b, &a).await;
    recognise(&a, &b).await;
    partners(&a, &b).await;

    // A lists B's 跨省通办 items, with B's competent departments, as B's catalogue answered.
    let citizen = a.account("citizen.zhangwei").api_token.clone();
    let items: Value = a
        .get_as(&citizen, "/api/v1/cross-region/items")
        .await
        .json()
        .await
        .expect("items");
    let tax_b = uscc(&b, "taxation").await;
    let listed = items
        .as_array()
        .expect("list")
        .iter()
        .find(|i| i["code"] == ITEM && i["region"] == "440300")
        .expect("B's item listed in A");
    assert_eq!(listed["department_uscc"], json!(tax_b));
    assert_eq!(listed["modes"], "online,proxy");
    assert!(!listed["message_id"].as_str().unwrap_or_default().is_empty());
    assert_eq!(
        items.as_array().map(Vec::len),
        Some(7),
        "B's seven 跨省通办 items"
    );

    // Bad applications change nothing.
    for (bad, field) in [
        (
            json!({"region": "440300", "item_code": ITEM, "consent": false}),
            "consent",
        ),
        (
            json!({"region": "440300", "item_code": "339900-SJ-0002", "consent": true}),
            "item_code",
        ),
        (
            json!({"region": "440300", "item_code": "339900-GA-0001", "consent": true}),
            "mode",
        ),
        (
            json!({"region": "440300", "item_code": ITEM, "consent": true,
            "materials": [{"name": "x", "media_type": "text/plain", "content": "%%%"}]}),
            "materials",
        ),
    ] {
        let (status, body) = problem(
            a.post_as(&citizen, "/api/v1/cross-region/applications", &bad)
                .await,
        )
        .await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body.to_string().contains(field), "{body}");
    }
    let none: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cross_cases")
        .fetch_one(a.state.pool())
        .await
        .expect("count");
    assert_eq!(none, 0);

    // 全程网办: the citizen applies in A; the package waits in A's outbox until delivered.
    let applied = a
        .post_as(
            &citizen,
            "/api/v1/cross-region/applications",
            &json!({"region": "440300", "item_code": ITEM, "form": {"year": "2025"},
                "materials": [material(&[7u8; 2048])], "consent": true}),
        )
        .await;
    assert_eq!(applied.status(), 201);
    let applied: Value = applied.json().await.expect("case");
    let id = applied["id"].as_str().expect("id").to_owned();
    assert_eq!(applied["state"], "queued");
    assert_eq!(applied["mode"], "online");
    assert_eq!(cases_in(&b, &id).await, 0);
    assert_eq!(drain(&a).await, 1);
    assert_eq!(cases_in(&b, &id).await, 1);

    // B's tax clerk finds it in the 跨省 inbox, due in B's working days.
    let clerk = b.account("demo.clerk.tax").api_token.clone();
    let work: Value = b
        .get_as(&clerk, "/api/v1/cross-region/work")
        .await
        .json()
        .await
        .expect("work");
    let inbox = work["inbox"].as_array().expect("inbox");
    let received = inbox
        .iter()
        .find(|c| c["id"] == json!(id))
        .expect("in B's inbox");
    assert_eq!(received["state"], "received");
    assert_eq!(received["home_region"], "339900");
    assert_eq!(received["materials"], json!(["完税情况说明"]));
    assert!(received["due_day"].as_str().is_some());
    assert_ne!(received["applicant"], "张伟", "the name is masked in lists");
    // A clerk of another department of B does not see it, nor may act.
    let market = b.account("demo.clerk.market").api_token.clone();
    let other: Value = b
        .get_as(&market, "/api/v1/cross-region/work")
        .await
        .json()
        .await
        .expect("work");
    assert!(
        !other["inbox"]
            .as_array()
            .expect("inbox")
            .iter()
            .any(|c| c["id"] == json!(id))
    );
    let act = |token: String, body: Value| {
        let (b, id) = (&b, id.clone());
        async move {
            b.post_as(
                &token,
                &format!("/api/v1/cross-region/cases/{id}/act"),
                &body,
            )
            .await
        }
    };
    assert_eq!(
        act(market.clone(), json!({"action": "accept"}))
            .await
            .status(),
        404
    );

    // Each step of B reaches A, in order.
    assert_eq!(
        act(clerk.clone(), json!({"action": "accept"}))
            .await
            .status(),
        200
    );
    let (status, _) = problem(act(clerk.clone(), json!({"action": "correct"})).await).await;
    assert_eq!(status, 422, "a correction says what is missing");
    assert_eq!(
        act(
            clerk.clone(),
            json!({"action": "correct", "note": "请补充2025年度完税凭证"})
        )
        .await
        .status(),
        200
    );
    assert_eq!(drain(&b).await, 2, "the two steps, in order");
    let mine = case(&a, &citizen, &id).await;
    assert_eq!(mine["state"], "correction");
    assert_eq!(mine["note"], "请补充2025年度完税凭证");
    // What the clerk wrote is sealed at rest on both sides.
    for app in [&a, &b] {
        let clear: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM cross_case_events WHERE note IS NOT NULL) \
             + (SELECT COUNT(*) FROM cross_cases WHERE note IS NOT NULL)",
        )
        .fetch_one(app.state.pool())
        .await
        .expect("count");
        let sealed: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT note_sealed FROM cross_case_events WHERE note_sealed IS NOT NULL",
        )
        .fetch_all(app.state.pool())
        .await
        .expect("sealed");
        assert_eq!(clear, 0);
        assert!(!sealed.is_empty());
        assert!(
            sealed
                .iter()
                .all(|s| !String::from_utf8_lossy(s).contains("完税凭证"))
        );
    }
    assert_eq!(mine["due_day"], received["due_day"]);
    // The applicant sends what was asked for (补正材料); B's clerk finds it and accepts again.
    let supplement = |token: String, body: Value| {
        let (a, id) = (&a, id.clone());
        async move {
            a.post_as(
                &token,
                &format!("/api/v1/cross-region/cases/{id}/supplement"),
                &body,
            )
            .await
        }
    };
    let (status, _) = problem(supplement(citizen.clone(), json!({"materials": []})).await).await;
    assert_eq!(status, 422);
    let stranger = a.account("citizen.lina").api_token.clone();
    assert_eq!(
        supplement(stranger, json!({"materials": [material(b"x")]}))
            .await
            .status(),
        404
    );
    let sent = supplement(
        citizen.clone(),
        json!({"materials": [{"name": "2025年度完税凭证", "media_type": "application/pdf",
            "content": base64::engine::general_purpose::STANDARD.encode([9u8; 4096])}]}),
    )
    .await;
    assert_eq!(sent.status(), 200);
    assert_eq!(
        supplement(citizen.clone(), json!({"materials": [material(b"again")]}))
            .await
            .status(),
        409,
        "once per correction"
    );
    assert_eq!(drain(&a).await, 1);
    let there = case(&b, &clerk, &id).await;
    assert_eq!(there["state"], "supplemented");
    assert_eq!(
        there["materials"],
        json!(["完税情况说明", "2025年度完税凭证"])
    );
    assert_eq!(
        act(clerk.clone(), json!({"action": "accept"}))
            .await
            .status(),
        200
    );
    assert_eq!(
        act(clerk.clone(), json!({"action": "approve"}))
            .await
            .status(),
        200
    );
    let (status, _) = problem(act(clerk.clone(), json!({"action": "approve"})).await).await;
    assert_eq!(status, 409, "a step from the wrong state");
    let result = json!({"document": "税收完税证明（文书式）", "number": "440300-2026-000123"});
    assert_eq!(
        act(clerk.clone(), json!({"action": "issue", "result": result}))
            .await
            .status(),
        200
    );
    drain(&b).await;
    let mine = case(&a, &citizen, &id).await;
    assert_eq!(mine["state"], "issued");
    assert_eq!(mine["result"], result);
    let steps: Vec<&str> = mine["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["state"].as_str())
        .collect();
    assert_eq!(
        steps,
        [
            "queued",
            "delivered",
            "accepted",
            "correction",
            "supplemented",
            "accepted",
            "approved",
            "issued"
        ]
    );

    // The citizen's page shows B's items with who handles them, and the case with its steps.
    let mut browser = a.page_login(a.account("citizen.zhangwei")).await;
    let page = browser
        .get(&a, "/cross-region")
        .await
        .text()
        .await
        .expect("page");
    assert!(
        page.contains("由 ") && page.contains("（440300 地区）"),
        "the handled-by label"
    );
    assert!(page.contains("已出具结果") && page.contains("440300-2026-000123"));
    assert!(page.contains("评价本次办理"));

    // The applicant rates it; the rating reaches B's case.
    let rate = |grade: i64| {
        let (a, id, citizen) = (&a, id.clone(), citizen.clone());
        async move {
            a.post_as(
                &citizen,
                &format!("/api/v1/cross-region/cases/{id}/rating"),
                &json!({"grade": grade}),
            )
            .await
        }
    };
    assert_eq!(rate(9).await.status(), 422);
    assert_eq!(rate(5).await.status(), 200);
    assert_eq!(rate(4).await.status(), 409, "rated once");
    drain(&a).await;
    assert_eq!(case(&b, &clerk, &id).await["rating"], 5);

    // Another citizen of A sees nothing of it.
    let other_citizen = a.account("citizen.lina").api_token.clone();
    assert_eq!(
        a.get_as(&other_citizen, &format!("/api/v1/cross-region/cases/{id}"))
            .await
            .status(),
        404
    );

    // B stopped while packages wait: nothing is lost, each arrives once when B returns.
    b.stop().await;
    let mut waiting = Vec::new();
    for n in 0..3u8 {
        let applied: Value = a
            .post_as(
                &citizen,
                "/api/v1/cross-region/applications",
                &json!({"region": "440300", "item_code": ITEM, "materials": [material(&[n; 512])], "consent": true}),
            )
            .await
            .json()
            .await
            .expect("case");
        waiting.push(applied["id"].as_str().expect("id").to_owned());
    }
    assert_eq!(drain(&a).await, 0);
    let tried = case(&a, &citizen, &waiting[0]).await;
    assert_eq!(tried["state"], "queued");
    assert_eq!(tried["deliveries"][0]["attempts"], 1);
    assert!(tried["deliveries"][0]["outcome"].is_null());
    assert!(
        tried["deliveries"][0]["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("Server.ClientProxy"),
        "{tried}"
    );
    // Not yet due again: the backoff holds.
    assert_eq!(drain(&a).await, 0);
    b.start().await;
    // Each retry comes when its backoff has passed (a connection to the old B may fail once
    // more); all three arrive, once each.
    let mut delivered = 0;
    for round in 1..=5 {
        let later = common + time::Duration::minutes(10 * round);
        a.clock.set(later);
        b.clock.set(later);
        delivered += drain(&a).await;
        if delivered == 3 {
            break;
        }
    }
    assert_eq!(delivered, 3);
    for id in &waiting {
        assert_eq!(cases_in(&b, id).await, 1);
        drain(&b).await;
        assert_eq!(case(&a, &citizen, id).await["state"], "delivered");
    }
    assert_eq!(
        tongban_app::crossregion::outbox::waiting(&a.state)
            .await
            .expect("waiting"),
        0
    );

    // Delivered twice (the first answer lost): one case.
    sqlx::query(
        "UPDATE cross_outbox SET done_at = NULL, outcome = NULL, next_at = 0 WHERE case_id = $1 AND kind = 'package'",
    )
    .bind(waiting[0].clone())
    .execute(a.state.pool())
    .await
    .expect("send again");
    mark(&a).await;
    assert_eq!(drain(&a).await, 1, "B acknowledges the second delivery");
    assert_eq!(cases_in(&b, &waiting[0]).await, 1);
    let events: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM cross_case_events WHERE case_id = $1")
            .bind(waiting[0].clone())
            .fetch_one(b.state.pool())
            .await
            .expect("events");
    assert_eq!(events, 1, "nothing happened twice in B");

    // Altered after signing (the applicant's name changed in A's outbox): B refuses it and
    // logs the refused exchange; A stops trying and says so.
    let applied: Value = a
        .post_as(
            &citizen,
            "/api/v1/cross-region/applications",
            &json!({"region": "440300", "item_code": ITEM, "consent": true}),
        )
        .await
        .json()
        .await
        .expect("case");
    let forged = applied["id"].as_str().expect("id").to_owned();
    let context = format!("cross_outbox.body/{forged}");
    let sealed: Vec<u8> =
        sqlx::query_scalar("SELECT b.body_sealed FROM cross_outbox_bodies b JOIN cross_outbox o ON o.id = b.id WHERE o.case_id = $1")
            .bind(forged.clone())
            .fetch_one(a.state.pool())
            .await
            .expect("outbox");
    // The package goes as CBOR; the name in it is changed after it was signed.
    let mut package = tongban_app::crossregion::package::Signed::decode(
        &a.state.vault.open_field(&context, &sealed).expect("open"),
    )
    .expect("a package");
    package.package.applicant.name = "李四".into();
    let resealed = a.state.vault.seal_field(&context, &package.encode());
    sqlx::query("UPDATE cross_outbox_bodies SET body_sealed = $1 WHERE id IN (SELECT id FROM cross_outbox WHERE case_id = $2)")
        .bind(resealed)
        .bind(forged.clone())
        .execute(a.state.pool())
        .await
        .expect("tamper");
    // (A connection to the B that stopped may fail once more: then it is tried again later.)
    for round in 1..=5 {
        assert_eq!(drain(&a).await, 0);
        if case(&a, &citizen, &forged).await["state"] != "queued" {
            break;
        }
        let later = common + time::Duration::minutes(60 + 10 * round);
        a.clock.set(later);
        b.clock.set(later);
    }
    assert_eq!(cases_in(&b, &forged).await, 0);
    let refused = case(&a, &citizen, &forged).await;
    assert_eq!(refused["state"], "undeliverable");
    assert_eq!(refused["deliveries"][0]["outcome"], "refused");
    assert!(
        refused["note"].as_str().unwrap_or_default().contains("403"),
        "{refused}"
    );
    assert_eq!(drain(&a).await, 0, "a refused package is not sent again");
    let b_admin = b.account("demo.deptadmin").api_token.clone();
    let log: Value = b
        .get_as(&b_admin, "/api/v1/exchange/messages")
        .await
        .json()
        .await
        .expect("log");
    let refusals = log
        .as_array()
        .expect("log")
        .iter()
        .filter(|e| e["status"] == 403 && e["direction"] == "in")
        .count();
    assert!(refusals >= 1, "B logged the refused package: {log}");
    let _ = logged;
}

#[tokio::test]
async fn a_window_receives_for_another_region_and_forwards_once_checked() {
    let a = region("339900").await;
    let b = region("440300").await;
    let common = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    a.clock.set(common);
    b.clock.set(common);
    own_members(&b).await;
    recognise(&b, &a).await;
    recognise(&a, &b).await;
    partners(&a, &b).await;

    let window = a.account("demo.clerk").api_token.clone();
    let applicant = json!({"resident_id": "11010519491231002X", "name": "王芳"});
    // A citizen cannot apply in someone else's name, nor a clerk of another department.
    let citizen = a.account("citizen.zhangwei").api_token.clone();
    let market = a.account("demo.clerk.market").api_token.clone();
    for token in [&citizen, &market] {
        let refused = a
            .post_as(
                token,
                "/api/v1/cross-region/applications",
                &json!({"region": "440300", "item_code": ITEM, "mode": "proxy", "applicant": applicant, "consent": true}),
            )
            .await;
        assert_eq!(refused.status(), 403);
    }
    let (status, _) = problem(
        a.post_as(
            &window,
            "/api/v1/cross-region/applications",
            &json!({"region": "440300", "item_code": ITEM, "mode": "proxy",
                "applicant": {"resident_id": "110105194912310021", "name": "王芳"}, "consent": true}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "a resident ID whose check character is wrong");
    // A resident registered here: the name read at the window must match the register.
    let resident = a.account("citizen.wangfang");
    let resident_id = resident.resident_id.clone().expect("a resident ID");
    let registered_name = resident.name.clone().expect("a name");
    let (status, body) = problem(
        a.post_as(
            &window,
            "/api/v1/cross-region/applications",
            &json!({"region": "440300", "item_code": ITEM, "mode": "proxy",
                "applicant": {"resident_id": resident_id, "name": "王小芳"}, "consent": true}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let none: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cross_cases")
        .fetch_one(a.state.pool())
        .await
        .expect("count");
    assert_eq!(none, 0);

    // At the window, on the page: the clerk receives the application, checks, forwards.
    let mut browser = a.page_login(a.account("demo.clerk")).await;
    let page = browser
        .get(&a, "/cross-region")
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("异地代收窗口"), "the window's form");
    let option = format!("440300|{ITEM}");
    assert!(page.contains(&option), "B's item offered at the window");
    let csrf = crate::helpers::hidden_csrf(&page);
    let received = browser
        .post_form(
            &a,
            "/cross-region/apply",
            &[
                ("csrf", &csrf),
                ("mode", "proxy"),
                ("item", &option),
                ("name", &registered_name),
                ("resident_id", &resident_id),
                ("statement", "申请人携带2025年度完税凭证复印件"),
                ("consent", "yes"),
            ],
        )
        .await;
    assert_eq!(received.status(), 200);
    let page = received.text().await.expect("page");
    assert!(page.contains("窗口核验中"), "{page}");
    let id: String = sqlx::query_scalar("SELECT id FROM cross_cases WHERE side = 'sent'")
        .fetch_one(a.state.pool())
        .await
        .expect("the case");
    let received = case(&a, &window, &id).await;
    assert_eq!(received["state"], "checking");
    assert_eq!(received["mode"], "proxy");
    assert_eq!(received["materials"], json!(["申请说明"]));
    // Nothing leaves before the materials are checked.
    assert_eq!(drain(&a).await, 0);
    let work: Value = a
        .get_as(&window, "/api/v1/cross-region/work")
        .await
        .json()
        .await
        .expect("work");
    assert!(
        work["window"]
            .as_array()
            .expect("window")
            .iter()
            .any(|c| c["id"] == json!(id))
    );
    // It waits in the window clerk's to-do list until forwarded.
    let todo = browser.get(&a, "/todo").await.text().await.expect("todo");
    assert!(
        todo.contains("跨省代收待核") && todo.contains("href=\"/cross-region\""),
        "{todo}"
    );
    let jiangnan = a.account("demo.clerk.jiangnan").api_token.clone();
    let forward = |token: String| {
        let (a, id) = (&a, id.clone());
        async move {
            a.post_as(
                &token,
                &format!("/api/v1/cross-region/cases/{id}/forward"),
                &json!({}),
            )
            .await
        }
    };
    assert_eq!(
        forward(jiangnan).await.status(),
        404,
        "another window's case"
    );
    let forwarded = browser
        .post_form(
            &a,
            &format!("/cross-region/cases/{id}/forward"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(forwarded.status(), 200);
    assert!(forwarded.text().await.expect("page").contains("已转交"));
    assert_eq!(forward(window.clone()).await.status(), 409);
    assert_eq!(drain(&a).await, 1);

    let clerk = b.account("demo.clerk.tax").api_token.clone();
    let there = case(&b, &clerk, &id).await;
    assert_eq!(there["mode"], "proxy");
    assert_eq!(there["state"], "received");
    let todo = browser.get(&a, "/todo").await.text().await.expect("todo");
    assert!(!todo.contains("跨省代收待核"), "forwarded: {todo}");
    // Received in B, the case waits in the competent clerk's list there.
    let mut competent = b.page_login(b.account("demo.clerk.tax")).await;
    let todo = competent.get(&b, "/todo").await.text().await.expect("todo");
    assert!(todo.contains("跨省通办待办理"), "{todo}");
    drain(&b).await;
    assert_eq!(case(&a, &window, &id).await["state"], "delivered");
    // The resident follows the case received for them at the window on their own page.
    let theirs: Value = a
        .get_as(&resident.api_token, "/api/v1/cross-region/applications")
        .await
        .json()
        .await
        .expect("cases");
    assert_eq!(theirs[0]["id"], json!(id));
    assert_eq!(theirs[0]["mode"], "proxy");
}

#[tokio::test]
async fn a_certificate_issued_in_the_competent_region_verifies_in_the_applicants() {
    let a = region("339900").await;
    let b = region("440300").await;
    let common = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    a.clock.set(common);
    b.clock.set(common);
    own_members(&b).await;
    recognise(&b, &a).await;
    recognise(&a, &b).await;
    partners(&a, &b).await;

    // 个体工商户注册登记 in B, applied for online from A; B's market clerk issues the licence.
    let citizen = a.account("citizen.zhangwei").api_token.clone();
    let applied: Value = a
        .post_as(
            &citizen,
            "/api/v1/cross-region/applications",
            &json!({"region": "440300", "item_code": "339900-SJ-0001",
                "form": {"name": "张伟小吃店"}, "consent": true}),
        )
        .await
        .json()
        .await
        .expect("case");
    let id = applied["id"].as_str().expect("id").to_owned();
    assert_eq!(drain(&a).await, 1);
    let clerk = b.account("demo.clerk.market").api_token.clone();
    let act = |body: Value| {
        let (b, id, clerk) = (&b, id.clone(), clerk.clone());
        async move {
            b.post_as(
                &clerk,
                &format!("/api/v1/cross-region/cases/{id}/act"),
                &body,
            )
            .await
        }
    };
    assert_eq!(act(json!({"action": "accept"})).await.status(), 200);
    assert_eq!(act(json!({"action": "approve"})).await.status(), 200);
    let (status, _) =
        problem(act(json!({"action": "issue", "result": {"document": "x"}})).await).await;
    assert_eq!(status, 422, "a certificate needs its items");
    // The clerk issues it on the page, filling in the type's data items.
    let mut desk = b.page_login(b.account("demo.clerk.market")).await;
    let page = desk
        .get(&b, "/cross-region")
        .await
        .text()
        .await
        .expect("page");
    assert!(
        page.contains("出具电子证照") && page.contains("name=\"item.business_scope\""),
        "the certificate's items to fill in"
    );
    let csrf = crate::helpers::hidden_csrf(&page);
    let issued = desk
        .post_form(
            &b,
            &format!("/cross-region/cases/{id}/act"),
            &[
                ("csrf", csrf.as_str()),
                ("action", "issue"),
                ("note", ""),
                ("result", ""),
                ("item.name", "张伟小吃店"),
                ("item.operator", "张伟"),
                ("item.place", "福田区某路1号"),
                ("item.business_scope", "小吃服务、饮料零售"),
                ("kind.business_scope", "list"),
                ("item.registered_on", "2026-12-04"),
                ("kind.registered_on", "date"),
            ],
        )
        .await;
    assert_eq!(issued.status(), 200);
    let text = issued.text().await.expect("page");
    assert!(text.contains("已出具结果"), "{text}");
    drain(&b).await;

    // In A the case is issued with the signed certificate, which A checked against B's list;
    // it verifies offline under B's trust list too, and is held by the applicant.
    let mine = case(&a, &citizen, &id).await;
    assert_eq!(mine["state"], "issued", "{mine}");
    let certificate = &mine["result"]["certificate"];
    assert_eq!(
        certificate["certificate"]["type_name"],
        "个体工商户营业执照"
    );
    assert_eq!(
        certificate["certificate"]["items"]["business_scope"],
        json!(["小吃服务", "饮料零售"])
    );
    assert_eq!(
        certificate["certificate"]["holder"]["code"],
        json!(a.account("citizen.zhangwei").resident_id)
    );
    let list = crate::helpers::get_url(b.url("/api/v1/trust-list"))
        .await
        .expect("list")
        .text()
        .await
        .expect("text");
    let now = b.now_seconds();
    tongban_app::certs::verify_offline(&list, None, &certificate.to_string(), None, now)
        .expect("verifies under B's trust list");

    // It is in the applicant's wallet in A, labelled with the region that issued it, and opens
    // and shows (亮证) like A's own; nobody else's wallet has it.
    let cert_id = certificate["certificate"]["id"]
        .as_str()
        .expect("certificate id")
        .to_owned();
    // In B it names the case it was issued for: a decision retried after an answer that did
    // not arrive sends this one again rather than issuing a second.
    let stored = tongban_app::certs::valid_for_source(&b.state, &id)
        .await
        .expect("read")
        .expect("issued for the case");
    assert_eq!(stored.certificate.id, cert_id);
    // The certificate's entry in the applicant's wallet, as listed now.
    let held_now = || async {
        let wallet: Value = a
            .get_as(&citizen, "/api/v1/wallet")
            .await
            .json()
            .await
            .expect("wallet");
        wallet
            .as_array()
            .expect("entries")
            .iter()
            .find(|e| e["id"] == json!(cert_id))
            .cloned()
            .expect("in the wallet")
    };
    let held = held_now().await;
    assert_eq!(held["region"], "440300");
    assert_eq!(held["status"], "valid");
    assert_eq!(held["type_name"], "个体工商户营业执照");
    let opened: Value = a
        .get_as(&citizen, &format!("/api/v1/wallet/{cert_id}"))
        .await
        .json()
        .await
        .expect("item");
    assert_eq!(opened["signed"], *certificate);
    let shown = a
        .post_as(
            &citizen,
            &format!("/api/v1/wallet/{cert_id}/show"),
            &json!({"items": ["name"]}),
        )
        .await;
    assert_eq!(shown.status(), 200);
    let other = a.account("citizen.lina").api_token.clone();
    assert_eq!(
        a.get_as(&other, &format!("/api/v1/wallet/{cert_id}"))
            .await
            .status(),
        404
    );
    let mut wallet_page = a.page_login(a.account("citizen.zhangwei")).await;
    let page = wallet_page
        .get(&a, "/wallet")
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("个体工商户营业执照") && page.contains("440300"));
    // The issuing region revokes it; A reads B's signed status list (checked against B's
    // trust list) and the wallet says so.
    assert_eq!(
        tongban_app::crossregion::statuses::refresh(&a.state)
            .await
            .expect("refresh"),
        1
    );
    let revoked = b
        .post_as(
            &b.account("demo.clerk.market").api_token,
            &format!("/api/v1/certs/{cert_id}/status"),
            &json!({"action": "revoke", "reason": "以欺骗手段取得登记"}),
        )
        .await;
    assert_eq!(revoked.status(), 204);
    assert_eq!(
        held_now().await["status"],
        "valid",
        "until the list is read again"
    );
    tongban_app::crossregion::statuses::refresh(&a.state)
        .await
        .expect("refresh");
    assert_eq!(held_now().await["status"], "revoked");
    // One copy, kept sealed (the same certificate again would change nothing).
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM certificates_elsewhere")
        .fetch_one(a.state.pool())
        .await
        .expect("count");
    assert_eq!(kept, 1);

    // Partners: only the intake's administrator records one, for a USCC the named region's
    // own trust list binds; bad requests change nothing.
    let b_intake = uscc(&b, "government_services").await;
    let admin = a.account("demo.deptadmin").api_token.clone();
    let market_admin = a.account("demo.deptadmin.market").api_token.clone();
    for (token, body, expected) in [
        (
            &market_admin,
            json!({"region": "440300", "intake_uscc": b_intake, "name": "合作地区"}),
            403,
        ),
        (
            &admin,
            json!({"region": "110000", "intake_uscc": b_intake, "name": "合作地区"}),
            422,
        ),
        (
            &admin,
            json!({"region": "440300", "intake_uscc": "91110000MA00000000", "name": "合作地区"}),
            422,
        ),
        (
            &admin,
            json!({"region": "440300", "intake_uscc": b_intake, "name": ""}),
            422,
        ),
        (
            &admin,
            json!({"region": "440300", "intake_uscc": b_intake}),
            422,
        ),
    ] {
        let (status, problem_body) = problem(
            a.post_as(token, "/api/v1/cross-region/partners", &body)
                .await,
        )
        .await;
        assert_eq!(status, expected, "{body}: {problem_body}");
    }
    let partners: Value = a
        .get_as(&admin, "/api/v1/cross-region/partners")
        .await
        .json()
        .await
        .expect("partners");
    assert_eq!(partners.as_array().map(Vec::len), Some(1));
    assert_eq!(partners[0]["name"], "合作地区");

    // A body that is no package at all reaches B's intake: B answers 400 and keeps nothing; A
    // stops trying and says so.
    let applied: Value = a
        .post_as(
            &citizen,
            "/api/v1/cross-region/applications",
            &json!({"region": "440300", "item_code": "339900-SJ-0001", "consent": true}),
        )
        .await
        .json()
        .await
        .expect("case");
    let garbled = applied["id"].as_str().expect("id").to_owned();
    let context = format!("cross_outbox.body/{garbled}");
    sqlx::query("UPDATE cross_outbox_bodies SET body_sealed = $1 WHERE id IN (SELECT id FROM cross_outbox WHERE case_id = $2)")
        .bind(a.state.vault.seal_field(&context, b"{\"package\": 42}"))
        .bind(garbled.clone())
        .execute(a.state.pool())
        .await
        .expect("garble");
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cross_cases")
        .fetch_one(b.state.pool())
        .await
        .expect("count");
    assert_eq!(drain(&a).await, 0);
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cross_cases")
        .fetch_one(b.state.pool())
        .await
        .expect("count");
    assert_eq!(before, after);
    let refused = case(&a, &citizen, &garbled).await;
    assert_eq!(refused["state"], "undeliverable");
    assert!(
        refused["note"]
            .as_str()
            .unwrap_or_default()
            .starts_with("400"),
        "{refused}"
    );
    let mut browser = a.page_login(a.account("citizen.zhangwei")).await;
    let page = browser
        .get(&a, "/cross-region")
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("个体工商户营业执照") && page.contains("签名已按签发地区的信任列表验证"));
}

/// A step of the market regulator's clerk on a received case.
async fn market_act(app: &TestApp, id: &str, action: Value) -> reqwest::StatusCode {
    let token = app.account("demo.clerk.market").api_token.clone();
    app.post_as(
        &token,
        &format!("/api/v1/cross-region/cases/{id}/act"),
        &action,
    )
    .await
    .status()
}

/// 多地联办 across three regions: a citizen of A applies once for an enterprise's move from B
/// to C. B's market regulator does its part (迁出) and issues; A sends the case on, with B's
/// result, to C, whose regulator registers the move (迁入); the result and every step come back
/// to A, and the rating reaches C.
#[tokio::test]
async fn a_joint_case_goes_from_region_to_region_in_order() {
    const FIRST: &str = "339900-SJ-0006";
    const SECOND: &str = "339900-SJ-0007";
    let a = region("339900").await;
    let b = region("440300").await;
    let c = region("110000").await;
    let common = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    for app in [&a, &b, &c] {
        app.clock.set(common);
    }
    own_members(&b).await;
    own_members(&c).await;
    for (to, from) in [(&b, &a), (&a, &b), (&c, &a), (&a, &c)] {
        recognise(to, from).await;
    }
    partners(&a, &b).await;
    partners(&a, &c).await;

    let citizen = a.account("citizen.zhangwei").api_token.clone();
    let items: Value = a
        .get_as(&citizen, "/api/v1/cross-region/items")
        .await
        .json()
        .await
        .expect("items");
    let first = items
        .as_array()
        .expect("list")
        .iter()
        .find(|i| i["code"] == FIRST && i["region"] == "440300")
        .expect("B's first part listed in A");
    assert_eq!(first["modes"], "joint");
    assert_eq!(first["joint_next"], SECOND);

    // Routes that cannot be: nothing is made.
    let apply = |body: Value| {
        let (a, citizen) = (&a, citizen.clone());
        async move {
            a.post_as(&citizen, "/api/v1/cross-region/applications", &body)
                .await
        }
    };
    for (regions, item, why) in [
        (json!([]), FIRST, "no region for the next part"),
        (json!(["339900"]), FIRST, "the applicant's own region"),
        (json!(["440300"]), FIRST, "the same region twice"),
        (json!(["120000"]), FIRST, "not a partner"),
        (
            json!(["110000", "120000"]),
            FIRST,
            "more regions than parts",
        ),
        (json!([]), SECOND, "the last part alone"),
    ] {
        let region = if item == FIRST { "440300" } else { "110000" };
        let (status, body) = problem(
            apply(
                json!({"region": region, "item_code": item, "joint_regions": regions,
                "mode": "joint", "consent": true}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 422, "{why}: {body}");
    }
    let none: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cross_cases")
        .fetch_one(a.state.pool())
        .await
        .expect("count");
    assert_eq!(none, 0);

    let applied = apply(
        json!({"region": "440300", "item_code": FIRST, "joint_regions": ["110000"],
        "form": {"name": "深圳某某科技有限公司", "new_address": "北京市海淀区"},
        "materials": [material(&[3u8; 1024])], "consent": true}),
    )
    .await;
    assert_eq!(applied.status(), 201);
    let applied: Value = applied.json().await.expect("case");
    let id = applied["id"].as_str().expect("id").to_owned();
    assert_eq!(applied["mode"], "joint");
    let progress = |case: &Value| -> Vec<String> {
        case["parts"]
            .as_array()
            .expect("parts")
            .iter()
            .map(|p| {
                format!(
                    "{}:{}",
                    p["region"].as_str().unwrap_or_default(),
                    p["progress"].as_str().unwrap_or_default()
                )
            })
            .collect()
    };
    assert_eq!(progress(&applied), ["440300:current", "110000:next"]);
    assert_eq!(drain(&a).await, 1);
    assert_eq!(cases_in(&c, &id).await, 0, "C's part waits for B's");

    // B's regulator does its part.
    let out_of_b = json!({"document": "深市监迁出〔2026〕12号", "archive": "登记档案已移交"});
    for step in [
        json!({"action": "accept"}),
        json!({"action": "approve"}),
        json!({"action": "issue", "result": out_of_b}),
    ] {
        assert_eq!(market_act(&b, &id, step.clone()).await, 200, "{step}");
    }
    drain(&b).await;
    let mine = case(&a, &citizen, &id).await;
    assert_eq!(mine["state"], "queued", "{mine}");
    assert_eq!(mine["competent_region"], "110000");
    assert_eq!(mine["item_code"], SECOND);
    assert!(
        mine["result"].is_null(),
        "the case's result is the last part's"
    );
    assert_eq!(progress(&mine), ["440300:done", "110000:current"]);
    assert_eq!(mine["parts"][0]["result"], out_of_b);

    // A sends it on to C, signed anew with B's result; C's regulator sees what B did.
    assert_eq!(drain(&a).await, 1);
    assert_eq!(cases_in(&c, &id).await, 1);
    let clerk_c = c.account("demo.clerk.market").api_token.clone();
    let there = case(&c, &clerk_c, &id).await;
    assert_eq!(there["state"], "received");
    assert_eq!(there["home_region"], "339900");
    assert_eq!(there["parts"][0]["result"], out_of_b);
    assert!(there["due_day"].as_str().is_some());
    let into_c = json!({"document": "京市监准迁〔2026〕7号"});
    for step in [
        json!({"action": "accept"}),
        json!({"action": "approve"}),
        json!({"action": "issue", "result": into_c}),
    ] {
        assert_eq!(market_act(&c, &id, step.clone()).await, 200, "{step}");
    }
    drain(&c).await;
    let mine = case(&a, &citizen, &id).await;
    assert_eq!(mine["state"], "issued");
    assert_eq!(mine["result"], into_c);
    let steps: Vec<&str> = mine["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["state"].as_str())
        .collect();
    assert_eq!(
        steps,
        [
            "queued",
            "delivered",
            "accepted",
            "approved",
            "queued",
            "delivered",
            "accepted",
            "approved",
            "issued"
        ]
    );
    // B, its part done, speaks for the case no more.
    assert_eq!(
        case(&b, &b.account("demo.clerk.market").api_token, &id).await["state"],
        "issued"
    );

    // The rating reaches the last part's region.
    let rated = a
        .post_as(
            &citizen,
            &format!("/api/v1/cross-region/cases/{id}/rating"),
            &json!({"grade": 5}),
        )
        .await;
    assert_eq!(rated.status(), 200);
    drain(&a).await;
    assert_eq!(case(&c, &clerk_c, &id).await["rating"], 5);

    // The page shows the parts and what each did.
    let mut browser = a.page_login(a.account("citizen.zhangwei")).await;
    let page = browser
        .get(&a, "/cross-region")
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("多地联办") && page.contains("深市监迁出〔2026〕12号"));
}

#[tokio::test]
async fn two_clerks_issuing_one_case_at_once_leave_one_valid_certificate_and_it_is_the_one_sent() {
    let a = region("339900").await;
    let b = region("440300").await;
    let common = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    a.clock.set(common);
    b.clock.set(common);
    own_members(&b).await;
    recognise(&b, &a).await;
    recognise(&a, &b).await;
    partners(&a, &b).await;
    let citizen = a.account("citizen.zhangwei").api_token.clone();
    let applied: Value = a
        .post_as(
            &citizen,
            "/api/v1/cross-region/applications",
            &json!({"region": "440300", "item_code": "339900-SJ-0001",
                "form": {"name": "张伟小吃店"}, "consent": true}),
        )
        .await
        .json()
        .await
        .expect("case");
    let id = applied["id"].as_str().expect("id").to_owned();
    assert_eq!(drain(&a).await, 1);
    for action in ["accept", "approve"] {
        assert_eq!(market_act(&b, &id, json!({"action": action})).await, 200);
    }
    let issue = json!({"action": "issue", "result": {"items": {
        "name": "张伟小吃店", "operator": "张伟", "place": "福田区某路1号",
        "business_scope": ["小吃服务"], "registered_on": "2026-12-04"}}});
    let (one, two) = tokio::join!(
        market_act(&b, &id, issue.clone()),
        market_act(&b, &id, issue.clone())
    );
    let mut statuses = [one.as_u16(), two.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "one decision is taken");
    // Whatever the interleaving: one valid certificate for the case, and it is the one the
    // case sent; any other issued for it was revoked.
    let issued: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, status FROM certificates WHERE source_application = $1 ORDER BY id",
    )
    .bind(id.clone())
    .fetch_all(b.state.pool())
    .await
    .expect("certificates");
    let valid: Vec<&(String, String)> = issued.iter().filter(|(_, s)| s == "valid").collect();
    assert_eq!(valid.len(), 1, "{issued:?}");
    assert!(
        issued.iter().all(|(_, s)| s == "valid" || s == "revoked"),
        "{issued:?}"
    );
    drain(&b).await;
    let mine = case(&a, &citizen, &id).await;
    assert_eq!(mine["state"], "issued", "{mine}");
    assert_eq!(
        mine["result"]["certificate"]["certificate"]["id"].as_str(),
        Some(valid[0].0.as_str())
    );
}
