//! 授权用证: a department obtains a holder's certificate only with the holder's consent (once, or
//! standing until a date) or the service item's legal basis; refusals are recorded and ask the
//! holder; copies are signed, expire, and cannot be altered; every use and attempt is in the
//! holder's usage record and the transparency log.

use serde_json::{Value, json};

use crate::certs::issuer_keys;
use crate::helpers::{TestApp, problem, spawn_app};

const QINGYUAN: &str = "enterprise.qingyuan";

async fn uscc_of(app: &TestApp, username: &str) -> String {
    app.account(username).uscc.clone().expect("an enterprise")
}

async fn licence_type(app: &TestApp) -> String {
    let types: Value = app
        .get_as(&app.account(QINGYUAN).api_token, "/api/v1/cert-types")
        .await
        .json()
        .await
        .expect("json");
    types
        .as_array()
        .and_then(|l| l.iter().find(|t| t["name"] == "营业执照"))
        .and_then(|t| t["code"].as_str())
        .expect("the licence type")
        .to_owned()
}

fn request(uscc: &str, type_code: &str, service: &str, cause: &str) -> Value {
    json!({
        "holder": {"uscc": uscc},
        "type_code": type_code,
        "service_code": service,
        "cause": cause,
    })
}

async fn ledger_kinds(app: &TestApp, kind: &str) -> usize {
    let rows: Vec<Vec<u8>> = sqlx::query_scalar("SELECT data FROM ledger_entries")
        .fetch_all(app.state.pool())
        .await
        .expect("entries");
    rows.iter()
        .filter_map(|data| serde_json::from_slice::<Value>(data).ok())
        .filter(|entry| entry["kind"] == kind)
        .count()
}

async fn list(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let response = app.get_as(token, path).await;
    assert_eq!(response.status(), 200, "{path}");
    response
        .json::<Value>()
        .await
        .expect("json")
        .as_array()
        .cloned()
        .expect("list")
}

async fn decide(app: &TestApp, token: &str, id: &str, body: Value) -> u16 {
    app.post_as(
        token,
        &format!("/api/v1/me/cert-authorisations/{id}"),
        &body,
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test]
async fn a_department_uses_a_certificate_only_as_the_holder_authorises() {
    let app = spawn_app().await;
    let holder = app.account(QINGYUAN).api_token.clone();
    let tax = app.account("demo.clerk.tax").api_token.clone();
    let uscc = uscc_of(&app, QINGYUAN).await;
    let licence = licence_type(&app).await;
    let ask = |cause: &'static str| request(&uscc, &licence, "339900-SW-0001", cause);

    // Without consent: refused, recorded, and the holder is asked (once, however often tried).
    for _ in 0..2 {
        let (status, body) = problem(
            app.post_as(&tax, "/api/v1/certs/use", &ask("新办纳税人核验营业执照"))
                .await,
        )
        .await;
        assert_eq!(status, 403, "{body}");
        assert!(body["detail"].as_str().expect("detail").contains("wallet"));
    }
    assert_eq!(ledger_kinds(&app, "certificate_use_refused").await, 2);
    let requests = list(&app, &holder, "/api/v1/me/cert-authorisations").await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["state"], "requested");
    assert_eq!(requests[0]["service_item"], "新办纳税人套餐式服务");
    assert_eq!(requests[0]["type_name"], "营业执照");
    let uses = list(&app, &holder, "/api/v1/me/cert-uses").await;
    assert_eq!(uses.len(), 2);
    assert!(uses.iter().all(|u| u["outcome"] == "refused"));
    assert_eq!(uses[0]["cause"], "新办纳税人核验营业执照");

    // Nobody else decides for the holder; a grant once allows exactly one use.
    let id = requests[0]["id"].as_str().expect("id").to_owned();
    let other = app.account("enterprise.yunqi").api_token.clone();
    assert_eq!(
        decide(&app, &other, &id, json!({"decision": "once"})).await,
        409
    );
    assert_eq!(
        decide(&app, &holder, &id, json!({"decision": "once"})).await,
        204
    );
    assert_eq!(
        decide(&app, &holder, &id, json!({"decision": "decline"})).await,
        409,
        "decided already"
    );
    let response = app
        .post_as(&tax, "/api/v1/certs/use", &ask("新办纳税人核验营业执照"))
        .await;
    assert_eq!(response.status(), 200);
    let copy: Value = response.json().await.expect("json");
    assert_eq!(
        copy["copy"]["annotation"]["cause"],
        "新办纳税人核验营业执照"
    );
    assert_eq!(copy["copy"]["annotation"]["basis"], "consent");
    assert_eq!(
        copy["copy"]["certificate"]["certificate"]["holder"]["code"],
        uscc
    );
    let (status, _) = problem(
        app.post_as(&tax, "/api/v1/certs/use", &ask("再次核验"))
            .await,
    )
    .await;
    assert_eq!(status, 403, "the one-time grant is used up");

    // A standing grant allows uses until its last day, and ends when withdrawn.
    let requests = list(&app, &holder, "/api/v1/me/cert-authorisations").await;
    let waiting = requests
        .iter()
        .find(|r| r["state"] == "requested")
        .expect("asked again");
    let id = waiting["id"].as_str().expect("id").to_owned();
    let tomorrow = app.state.today() + time::Duration::days(1);
    assert_eq!(
        decide(
            &app,
            &holder,
            &id,
            json!({"decision": "until", "until": "2020-01-01"})
        )
        .await,
        422
    );
    assert_eq!(
        decide(
            &app,
            &holder,
            &id,
            json!({"decision": "until", "until": tomorrow.to_string()})
        )
        .await,
        204
    );
    for cause in ["核验一", "核验二"] {
        let response = app.post_as(&tax, "/api/v1/certs/use", &ask(cause)).await;
        assert_eq!(response.status(), 200, "{cause}");
    }
    app.clock.advance(time::Duration::days(3));
    let (status, _) = problem(app.post_as(&tax, "/api/v1/certs/use", &ask("过期后")).await).await;
    assert_eq!(status, 403, "the grant has ended");
    app.clock.advance(time::Duration::days(-3));
    assert_eq!(
        decide(&app, &holder, &id, json!({"decision": "withdraw"})).await,
        204
    );
    let (status, _) = problem(app.post_as(&tax, "/api/v1/certs/use", &ask("撤回后")).await).await;
    assert_eq!(status, 403, "withdrawn");

    // The usage record holds every use and attempt; the log has each one.
    let uses = list(&app, &holder, "/api/v1/me/cert-uses").await;
    let released: Vec<&Value> = uses.iter().filter(|u| u["outcome"] == "released").collect();
    assert_eq!(released.len(), 3);
    assert!(released.iter().all(|u| u["department"] == "临江市税务局"));
    assert!(released.iter().all(|u| u["copy_expires_at"].is_string()));
    assert_eq!(ledger_kinds(&app, "certificate_used").await, 3);
    assert_eq!(
        uses.len(),
        3 + ledger_kinds(&app, "certificate_use_refused").await
    );
    // The cause is sealed at rest.
    let causes: Vec<Vec<u8>> = sqlx::query_scalar("SELECT cause_sealed FROM cert_uses")
        .fetch_all(app.state.pool())
        .await
        .expect("rows");
    let needle = "新办纳税人".as_bytes();
    assert!(
        causes
            .iter()
            .all(|c| !c.windows(needle.len()).any(|w| w == needle))
    );
}

#[tokio::test]
async fn a_legal_basis_permits_use_without_consent_and_only_for_its_types() {
    let app = spawn_app().await;
    let tax = app.account("demo.clerk.tax").api_token.clone();
    let uscc = uscc_of(&app, QINGYUAN).await;
    let licence = licence_type(&app).await;
    let response = app
        .post_as(
            &tax,
            "/api/v1/certs/use",
            &request(&uscc, &licence, "339900-SW-0002", "确认税务登记信息"),
        )
        .await;
    assert_eq!(response.status(), 200);
    let copy: Value = response.json().await.expect("json");
    assert_eq!(copy["copy"]["annotation"]["basis"], "legal_basis");
    let uses = list(
        &app,
        &app.account(QINGYUAN).api_token,
        "/api/v1/me/cert-uses",
    )
    .await;
    assert_eq!(uses.len(), 1);
    assert!(
        uses[0]["basis"]
            .as_str()
            .expect("basis")
            .contains("税收征收管理法")
    );
    // The same item does not cover the tax certificate: that needs consent.
    let types: Value = app
        .get_as(&tax, "/api/v1/cert-types")
        .await
        .json()
        .await
        .expect("json");
    let tax_clearance = types
        .as_array()
        .and_then(|l| l.iter().find(|t| t["name"] == "完税证明"))
        .and_then(|t| t["code"].as_str())
        .expect("type");
    let (status, _) = problem(
        app.post_as(
            &tax,
            "/api/v1/certs/use",
            &request(&uscc, tax_clearance, "339900-SW-0002", "确认税务登记信息"),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn bad_use_requests_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let tax = app.account("demo.clerk.tax").api_token.clone();
    let market = app.account("demo.clerk.market").api_token.clone();
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let uscc = uscc_of(&app, QINGYUAN).await;
    let licence = licence_type(&app).await;
    let cases = [
        (
            &tax,
            request(&uscc, &licence, "339900-SW-0001", "  "),
            422,
            "empty cause",
        ),
        (
            &tax,
            request(&uscc, &licence, "NO-SUCH", "核验"),
            422,
            "no such item",
        ),
        (
            &tax,
            request(&uscc, "11350100M000100Y43999", "339900-SW-0001", "核验"),
            422,
            "no such type",
        ),
        (
            &tax,
            request("91350100M000100Y4X", &licence, "339900-SW-0001", "核验"),
            422,
            "bad USCC",
        ),
        (
            &tax,
            json!({"holder": {}, "type_code": licence, "service_code": "339900-SW-0001", "cause": "核验"}),
            422,
            "no holder",
        ),
        (
            &tax,
            json!({"holder": {"uscc": uscc}, "type_code": licence, "service_code": "339900-SW-0001", "cause": "核验", "copy_days": 90}),
            422,
            "copy too long",
        ),
        (
            &citizen,
            request(&uscc, &licence, "339900-SW-0001", "核验"),
            403,
            "not a clerk",
        ),
    ];
    for (token, body, want, what) in cases {
        let (status, problem_body) =
            problem(app.post_as(token, "/api/v1/certs/use", &body).await).await;
        assert_eq!(status, want, "{what}: {problem_body}");
    }
    assert_eq!(app.count("cert_uses").await, 0);
    assert_eq!(app.count("cert_authorisations").await, 0);
    // Another department's service item: refused and logged as an attempt.
    let (status, _) = problem(
        app.post_as(
            &market,
            "/api/v1/certs/use",
            &request(&uscc, &licence, "339900-SW-0001", "核验"),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(ledger_kinds(&app, "certificate_use_refused").await, 1);
    assert_eq!(ledger_kinds(&app, "certificate_used").await, 0);
}

#[tokio::test]
async fn copies_are_signed_expire_and_cannot_be_altered() {
    let app = spawn_app().await;
    let tax = app.account("demo.clerk.tax").api_token.clone();
    let uscc = uscc_of(&app, QINGYUAN).await;
    let licence = licence_type(&app).await;
    let mut body = request(&uscc, &licence, "339900-SW-0002", "确认税务登记信息");
    body["copy_days"] = json!(2);
    let copy: Value = app
        .post_as(&tax, "/api/v1/certs/use", &body)
        .await
        .json()
        .await
        .expect("json");
    let check = |copy: Value| {
        let (app, tax) = (&app, tax.clone());
        async move {
            let response = app
                .post_as(&tax, "/api/v1/certs/copies/verify", &copy)
                .await;
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.expect("json")
        }
    };
    let fine = check(copy.clone()).await;
    assert_eq!(fine["valid"], true, "{fine}");
    assert_eq!(fine["using_unit"], "临江市税务局");
    // Offline, with the published keys.
    let signed: tongban_certs::copy::SignedCopy =
        serde_json::from_value(copy.clone()).expect("a copy");
    let keys = issuer_keys(&app).await;
    let now = app.now_seconds();
    assert_eq!(
        tongban_certs::copy::verify(&signed, &keys, &keys, now),
        Ok(())
    );
    let mut forged = copy.clone();
    forged["copy"]["annotation"]["expires_at"] = json!("2099-01-01T00:00:00+08:00");
    let refused = check(forged).await;
    assert_eq!(
        (refused["valid"].clone(), refused["reason"].clone()),
        (json!(false), json!("bad_signature"))
    );
    let mut other_cause = copy.clone();
    other_cause["copy"]["annotation"]["cause"] = json!("另作他用");
    assert_eq!(check(other_cause).await["reason"], "bad_signature");
    app.clock.advance(time::Duration::days(2));
    let expired = check(copy.clone()).await;
    assert_eq!(
        (expired["valid"].clone(), expired["reason"].clone()),
        (json!(false), json!("copy_expired"))
    );
    // Not a copy at all.
    let (status, _) = problem(
        app.post_as(&tax, "/api/v1/certs/copies/verify", &json!({"copy": 1}))
            .await,
    )
    .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn a_persons_certificate_used_by_a_department_is_in_their_access_log() {
    let app = spawn_app().await;
    let market = app.account("demo.clerk.market").api_token.clone();
    let citizen = app.account("citizen.zhangwei");
    let (token, resident_id) = (
        citizen.api_token.clone(),
        citizen.resident_id.clone().expect("a person"),
    );
    let types: Value = app
        .get_as(&token, "/api/v1/cert-types")
        .await
        .json()
        .await
        .expect("json");
    let id_card = types
        .as_array()
        .and_then(|l| l.iter().find(|t| t["name"] == "居民身份证"))
        .and_then(|t| t["code"].as_str())
        .expect("type")
        .to_owned();
    let body = json!({
        "holder": {"resident_id": resident_id},
        "type_code": id_card,
        "service_code": "339900-SJ-0003",
        "cause": "核验食品经营许可申请人身份",
    });
    let (status, _) = problem(app.post_as(&market, "/api/v1/certs/use", &body).await).await;
    assert_eq!(status, 403);
    let requests = list(&app, &token, "/api/v1/me/cert-authorisations").await;
    let id = requests[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        decide(&app, &token, &id, json!({"decision": "once"})).await,
        204
    );
    let access = |token: String| {
        let app = &app;
        async move {
            list(app, &token, "/api/v1/me/access-log")
                .await
                .into_iter()
                .filter(|a| {
                    a["categories"] == "certificates"
                        && a["department"] == "临江市市场监督管理局"
                        && a["purpose"] == "service_handling"
                })
                .count()
        }
    };
    assert_eq!(access(token.clone()).await, 0);
    let response = app.post_as(&market, "/api/v1/certs/use", &body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        access(token.clone()).await,
        1,
        "the department's use is listed"
    );
}
