//! 跨区域交换: two regions, two databases, two gateways. A department of region A reads a
//! resource of region B under the grant B's owner gave it; trust comes from the trust lists
//! each region imported (two security administrators each); the consumer's key signs the
//! request, the provider's the answer, and both regions log the same signed pair, whose
//! receipts verify offline under the two lists. Forged, stale and replayed requests are
//! refused; the provider region restarting in the middle costs one refused (and logged) call,
//! not the path.

use serde_json::{Value, json};
use tongban_crypto::Signer as _;

use crate::helpers::{TestApp, problem, spawn_app_with};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A node of `region` that publishes its gateway at its own address.
pub(crate) async fn region(code: &str) -> TestApp {
    let port = free_port();
    let code = code.to_owned();
    spawn_app_with(move |config| {
        config.region_code = code;
        config.bind = format!("127.0.0.1:{port}").parse().expect("addr");
        config.public_url = Some(format!("http://127.0.0.1:{port}"));
    })
    .await
}

/// Both demo cities seed the same departments; region B's get USCCs of their own (with B's
/// region code in them), as two real regions' departments have.
pub(crate) async fn own_members(app: &TestApp) {
    let region = app.state.config.region_code.clone();
    let departments = tongban_app::admin::store::departments(app.state.pool())
        .await
        .expect("departments");
    for department in departments {
        let Some(old) = department.uscc else { continue };
        let body = &old[8..16];
        let new = tongban_app::demo::demo_uscc(&old[..2], &region, body)
            .expect("uscc")
            .to_string();
        sqlx::query("UPDATE departments SET uscc = $1 WHERE id = $2")
            .bind(new)
            .bind(department.id.clone())
            .execute(app.state.pool())
            .await
            .expect("renumber");
    }
}

pub(crate) async fn uscc(app: &TestApp, kind: &str) -> String {
    tongban_app::admin::store::departments(app.state.pool())
        .await
        .expect("departments")
        .into_iter()
        .find(|d| d.kind == kind && d.region_code.as_str() == "339900")
        .and_then(|d| d.uscc)
        .expect("a city department with a USCC")
}

async fn root_key_of(app: &TestApp) -> String {
    use base64::Engine as _;
    let region = app.state.config.region_code.clone();
    let signer =
        tongban_app::keys::service::signer(&app.state, &region, tongban_app::keys::service::ROOT)
            .await
            .expect("root key");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signer.public_key().bytes)
}

async fn trust_list(app: &TestApp) -> String {
    crate::helpers::get_url(app.url("/api/v1/trust-list"))
        .await
        .expect("trust list")
        .text()
        .await
        .expect("text")
}

/// `to` recognises `from`: one security administrator proposes, another approves.
pub(crate) async fn recognise(to: &TestApp, from: &TestApp) {
    let list: Value = serde_json::from_str(&trust_list(from).await).expect("list");
    let proposed = to
        .post_as(
            &to.account("demo.secadmin").api_token,
            "/api/v1/admin/trusted-regions",
            &json!({"trust_list": list, "root_key": root_key_of(from).await}),
        )
        .await;
    assert_eq!(to.approve_trust(proposed).await, 204);
}

/// `app` stops recognising `region` (two security administrators).
async fn stop_recognising(app: &TestApp, region: &str) {
    let removed = app
        .client
        .delete(app.url(&format!("/api/v1/admin/trusted-regions/{region}")))
        .bearer_auth(&app.account("demo.secadmin").api_token)
        .send()
        .await
        .expect("remove");
    assert_eq!(app.approve_trust(removed).await, 204);
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn call(app: &TestApp, token: &str, client: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .header("X-Road-Client", client)
        .header("Accept", "application/json")
        .send()
        .await
        .expect("call")
}

async fn receipt(app: &TestApp, token: &str, id: &str) -> String {
    let response = app
        .get_as(token, &format!("/api/v1/exchange/messages/{id}/receipt"))
        .await;
    assert_eq!(response.status(), 200);
    response.text().await.expect("receipt")
}

pub(crate) async fn logged(app: &TestApp, token: &str, id: &str) -> Value {
    let log: Value = app
        .get_as(token, "/api/v1/exchange/messages")
        .await
        .json()
        .await
        .expect("log");
    log.as_array()
        .expect("list")
        .iter()
        .find(|e| e["id"] == json!(id))
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn two_regions_exchange_through_their_gateways_and_both_log_the_signed_pair() {
    let a = region("339900").await;
    let mut b = region("440300").await;
    // Two regions' clocks agree (each node's test clock stands still otherwise).
    let common = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    a.clock.set(common);
    b.clock.set(common);
    own_members(&b).await;
    recognise(&b, &a).await;
    recognise(&a, &b).await;

    let consumer_uscc = uscc(&a, "government_services").await;
    let market = uscc(&b, "market_regulation").await;
    let police = uscc(&b, "public_security").await;
    assert_ne!(market, uscc(&a, "market_regulation").await);
    let consumer = a.account("demo.deptadmin").api_token.clone();
    let client = format!("CN/GOV/{consumer_uscc}/CASES");
    let enterprise: String = sqlx::query_scalar("SELECT uscc FROM enterprises ORDER BY uscc")
        .fetch_one(b.state.pool())
        .await
        .expect("an enterprise of B");
    let path = format!("/r1/CN/GOV/{market}/DATA/SJ-QYDJ-001/enterprises/{enterprise}");

    // No grant yet: B refuses, signs the refusal, and both regions log it.
    let refused = call(&a, &consumer, &client, &path).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(header(&refused, "x-road-error"), "Client.AccessDenied");
    let refused_id = header(&refused, "x-road-id");
    let owner = b.account("demo.deptadmin.market").api_token.clone();
    assert_eq!(logged(&a, &consumer, &refused_id).await["status"], 403);
    assert_eq!(logged(&b, &owner, &refused_id).await["direction"], "in");

    // B's owner grants two items to A's department, named by the USCC A's trust list binds.
    let until = tongban_core::zone::ymd(b.state.today() + time::Duration::days(90));
    let grant = |uscc: String, token: String| {
        let (b, until) = (&b, until.clone());
        async move {
            b.post_as(
                &token,
                "/api/v1/exchange/foreign-grants",
                &json!({"resource": "SJ-QYDJ-001", "uscc": uscc, "name": "临江市政务服务管理局",
                    "items": ["uscc", "name"], "purpose": "跨省通办：企业开办核验",
                    "legal_basis": "《优化营商环境条例》第三十七条", "until": until}),
            )
            .await
        }
    };
    let unknown = tongban_app::demo::demo_uscc("11", "110000", "MB777777")
        .expect("uscc")
        .to_string();
    let (status, _) = problem(grant(unknown, owner.clone()).await).await;
    assert_eq!(status, 422, "a USCC no recognised region lists");
    let clerk = b.account("demo.clerk.market").api_token.clone();
    let (status, _) = problem(grant(consumer_uscc.clone(), clerk).await).await;
    assert_eq!(status, 403);
    for (bad, why) in [
        (
            json!({"resource": "SJ-QYDJ-001", "uscc": consumer_uscc, "name": "某部门", "items": ["secret"],
            "purpose": "核验", "legal_basis": "某条例", "until": until}),
            "an item the resource has not",
        ),
        (
            json!({"resource": "SJ-QYDJ-001", "uscc": consumer_uscc, "name": "某部门", "items": ["uscc"],
            "purpose": "核验", "legal_basis": "某条例", "until": "2099-01-01"}),
            "more than a year away",
        ),
        (
            json!({"resource": "GA-AJ-001", "uscc": consumer_uscc, "name": "某部门", "items": ["case_id"],
            "purpose": "核验", "legal_basis": "某条例", "until": until}),
            "a resource that is not shared",
        ),
        (
            json!({"resource": "SJ-QYDJ-001", "uscc": consumer_uscc}),
            "a body missing its fields",
        ),
    ] {
        let token = if why == "a resource that is not shared" {
            b.account("demo.deptadmin.police").api_token.clone()
        } else {
            owner.clone()
        };
        let (status, body) = problem(
            b.post_as(&token, "/api/v1/exchange/foreign-grants", &bad)
                .await,
        )
        .await;
        assert!((400..500).contains(&status), "{why}: {status} {body}");
        assert_eq!(body["status"], status, "problem+json: {why}");
    }
    assert_eq!(
        b.count("data_foreign_grants").await,
        0,
        "nothing refused was kept"
    );
    let granted = grant(consumer_uscc.clone(), owner.clone()).await;
    assert_eq!(granted.status(), 201);
    let granted: Value = granted.json().await.expect("grant");
    assert_eq!(granted["region"], "339900");
    assert_eq!(granted["state"], "in_force");

    let response = call(&a, &consumer, &client, &path).await;
    assert_eq!(response.status(), 200);
    let id = header(&response, "x-road-id");
    let head = tongban_app::exchange::message::request_head(
        "GET",
        &path,
        &[("x-road-client", &client), ("accept", "application/json")],
    );
    assert_eq!(
        header(&response, "x-road-request-hash"),
        tongban_app::exchange::message::message_hash(&head, b"")
    );
    assert!(!header(&response, "x-tongban-response-signature").is_empty());
    let record: Value = response.json().await.expect("json");
    let mut keys: Vec<&str> = record
        .as_object()
        .expect("record")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["name", "uscc"], "only the items B granted");

    // Both regions hold the same signed pair; each receipt verifies under both lists, not
    // under one alone (the other side's key is in the other list).
    let (list_a, list_b) = (trust_list(&a).await, trust_list(&b).await);
    let from_a = receipt(&a, &consumer, &id).await;
    let from_b = receipt(&b, &owner, &id).await;
    let both = [(list_a.as_str(), None), (list_b.as_str(), None)];
    let record_a =
        tongban_app::exchange::verify_receipt_across(&both, &from_a).expect("A's receipt");
    let record_b =
        tongban_app::exchange::verify_receipt_across(&both, &from_b).expect("B's receipt");
    assert_eq!(record_a, record_b, "the same signed pair on both sides");
    assert_eq!(record_a.status, 200);
    let refusal = tongban_app::exchange::verify_receipt_across(&both[..1], &from_a)
        .expect_err("B's key is not in A's list");
    assert_eq!(refusal.reason, "unknown_key");
    assert_eq!(logged(&a, &consumer, &id).await["direction"], "out");
    assert_eq!(logged(&b, &owner, &id).await["direction"], "in");

    // A person's data read from the other region is in that person's access view.
    let police_grant = b
        .post_as(
            &b.account("demo.deptadmin.police").api_token,
            "/api/v1/exchange/foreign-grants",
            &json!({"resource": "GA-RK-001", "uscc": consumer_uscc, "name": "临江市政务服务管理局",
                "items": ["name", "resident_id"], "purpose": "跨省通办：户籍核验",
                "legal_basis": "《国务院办公厅关于加快推进政务服务跨省通办的指导意见》", "until": until}),
        )
        .await;
    assert_eq!(
        police_grant.status(),
        201,
        "{}",
        police_grant.text().await.unwrap_or_default()
    );
    let zhang = b
        .account("citizen.zhangwei")
        .resident_id
        .clone()
        .expect("id");
    let person = call(
        &a,
        &consumer,
        &client,
        &format!("/r1/CN/GOV/{police}/DATA/GA-RK-001/persons/{zhang}"),
    )
    .await;
    assert_eq!(person.status(), 200);
    let person_id = header(&person, "x-road-id");
    let person: Value = person.json().await.expect("json");
    assert_eq!(person["name"], "张伟");
    assert!(person.get("phone").is_none());
    let access: Value = b
        .get_as(
            &b.account("citizen.zhangwei").api_token,
            "/api/v1/me/access-log",
        )
        .await
        .json()
        .await
        .expect("access log");
    let read = access
        .as_array()
        .expect("list")
        .iter()
        .find(|r| r["purpose"] == "data_sharing")
        .expect("the read from region A is in the person's view")
        .clone();
    assert_eq!(read["categories"], "name,resident_id");
    assert!(
        read["department"]
            .as_str()
            .is_some_and(|d| d.contains("339900") && d.contains(&consumer_uscc)),
        "{read}"
    );
    let _ = person_id;

    // The certificate library is not opened to another region: authorised use is a clerk's
    // act for a service item of this region.
    let library_grant = b
        .post_as(
            &b.account("demo.deptadmin").api_token,
            "/api/v1/exchange/foreign-grants",
            &json!({"resource": "ZW-DZZZ-001", "uscc": consumer_uscc, "name": "临江市政务服务管理局",
                "items": ["copy", "alg", "kid", "signature"], "purpose": "跨省通办：营业执照核验",
                "legal_basis": "《优化营商环境条例》", "until": until}),
        )
        .await;
    assert_eq!(library_grant.status(), 201);
    let government_b = uscc(&b, "government_services").await;
    let library = a
        .client
        .post(a.url(&format!(
            "/r1/CN/GOV/{government_b}/DATA/ZW-DZZZ-001/certificates/use"
        )))
        .bearer_auth(&consumer)
        .header("X-Road-Client", client.as_str())
        .json(&json!({"holder": {"resident_id": zhang}, "type_code": "x", "service_code": "x", "cause": "核验"}))
        .send()
        .await
        .expect("use");
    assert_eq!(library.status(), 403);
    let problem: Value = library.json().await.expect("problem");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("clerks of this region")),
        "{problem}"
    );

    // Forged, stale and replayed requests sent straight to B's gateway are refused.
    let department_id = tongban_app::admin::store::departments(a.state.pool())
        .await
        .expect("departments")
        .into_iter()
        .find(|d| d.uscc.as_deref() == Some(consumer_uscc.as_str()))
        .expect("consumer")
        .id;
    let key = tongban_app::keys::service::signer(
        &a.state,
        &department_id,
        tongban_app::exchange::EXCHANGE_KEY,
    )
    .await
    .expect("key");
    let service = format!("CN/GOV/{market}/DATA/SJ-QYDJ-001");
    let direct = |message_id: String, at: i64, tamper: bool| {
        let (b, key, client, path, service) =
            (&b, &key, client.clone(), path.clone(), service.clone());
        async move {
            use base64::Engine as _;
            let at = tongban_app::time_fmt::rfc3339(at);
            let hash = tongban_app::exchange::message::message_hash(
                &tongban_app::exchange::message::request_head(
                    "GET",
                    &path,
                    &[("x-road-client", &client), ("accept", "application/json")],
                ),
                b"",
            );
            let mut signature = key.sign(&tongban_app::exchange::message::request_bytes(
                &message_id,
                &client,
                &service,
                &hash,
                &at,
            ));
            if tamper {
                signature[3] ^= 1;
            }
            b.client
                .get(b.url(&path))
                .header("X-Road-Client", client.as_str())
                .header("Accept", "application/json")
                .header("X-Road-Id", message_id.as_str())
                .header("X-Tongban-Requested-At", at.as_str())
                .header("X-Tongban-Request-Kid", key.kid())
                .header(
                    "X-Tongban-Request-Signature",
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature),
                )
                .send()
                .await
                .expect("direct")
        }
    };
    let now = b.state.now();
    let fresh = uuid::Uuid::new_v4().to_string();
    let forged = direct(fresh.clone(), now, true).await;
    assert_eq!(forged.status(), 403);
    assert_eq!(header(&forged, "x-road-error"), "Client.InvalidSignature");
    let stale = direct(fresh.clone(), now - 10 * 60 * 1000, false).await;
    assert_eq!(stale.status(), 403);
    let logged_before = b.count("exchange_messages").await;
    let malformed = b
        .client
        .get(b.url(&path))
        .header("X-Road-Client", client.as_str())
        .header("X-Road-Id", "malformed-1")
        .header("X-Tongban-Requested-At", "yesterday")
        .header("X-Tongban-Request-Kid", key.kid())
        .header("X-Tongban-Request-Signature", "%%%")
        .send()
        .await
        .expect("malformed");
    assert_eq!(malformed.status(), 403);
    assert_eq!(
        header(&malformed, "x-road-error"),
        "Client.InvalidSignature"
    );
    assert_eq!(
        header(&malformed, "content-type"),
        "application/problem+json"
    );
    assert_eq!(
        b.count("exchange_messages").await,
        logged_before,
        "what cannot be authenticated is neither served nor logged"
    );
    let signed = direct(fresh.clone(), now, false).await;
    assert_eq!(signed.status(), 200, "a well-signed call from A's key");
    let replayed = direct(fresh.clone(), now, false).await;
    assert_eq!(replayed.status(), 409);
    assert_eq!(
        header(&replayed, "x-road-error"),
        "Client.DuplicateMessageId"
    );
    let replayed_id = direct(id.clone(), now, false).await;
    assert_eq!(replayed_id.status(), 409, "the id of an exchange B logged");

    // B restarts: meanwhile A refuses the call itself, signs and logs that; afterwards the
    // path works again with nothing reconfigured.
    b.stop().await;
    let down = call(&a, &consumer, &client, &path).await;
    assert_eq!(down.status(), 502);
    assert_eq!(
        header(&down, "x-road-error"),
        "Server.ClientProxy.NetworkError"
    );
    let down_id = header(&down, "x-road-id");
    let down_receipt = receipt(&a, &consumer, &down_id).await;
    let down_record = tongban_app::exchange::verify_receipt_across(&both[..1], &down_receipt)
        .expect("A's own refusal verifies under A's list");
    assert_eq!(down_record.status, 502);
    b.start().await;
    let again = call(&a, &consumer, &client, &path).await;
    assert_eq!(again.status(), 200);
    let again_id = header(&again, "x-road-id");
    assert_eq!(logged(&b, &owner, &again_id).await["status"], 200);
    assert_eq!(
        logged(&b, &owner, &down_id).await,
        Value::Null,
        "B never saw it"
    );

    // The owner's page lists the grant and revokes it; from then on B refuses at once.
    let mut page_owner = b.page_login(b.account("demo.deptadmin.market")).await;
    let page = page_owner
        .get(&b, "/exchange/requests")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("跨区域授权")
            && page.contains(&consumer_uscc)
            && page.contains("foreign-form-SJ-QYDJ-001"),
        "{page}"
    );
    // Both regions' pages check the same record against both trust lists.
    let verified = page_owner
        .get(&b, &format!("/exchange/messages/{id}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(verified.contains("核验通过"), "{verified}");
    let mut page_consumer = a.page_login(a.account("demo.deptadmin")).await;
    let verified = page_consumer
        .get(&a, &format!("/exchange/messages/{id}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(verified.contains("核验通过"), "{verified}");
    let csrf = crate::helpers::hidden_csrf(&page);
    let unknown_uscc = tongban_app::demo::demo_uscc("11", "110000", "MB777777")
        .expect("uscc")
        .to_string();
    let refused_form = page_owner
        .post_form(
            &b,
            "/exchange/foreign-grants",
            &[
                ("csrf", &csrf),
                ("resource", "SJ-QYDJ-001"),
                ("uscc", &unknown_uscc),
                ("name", "某部门"),
                ("item.name", "on"),
                ("purpose", "核验"),
                ("legal_basis", "某条例"),
                ("until", &until),
            ],
        )
        .await;
    assert_eq!(refused_form.status(), 422, "a department no region lists");
    let grant_id = granted["id"].as_str().expect("id");
    let revoked = page_owner
        .post_form(
            &b,
            &format!("/exchange/foreign-grants/{grant_id}/revoke"),
            &[("csrf", &csrf), ("note", "协议到期")],
        )
        .await;
    assert_eq!(revoked.status(), 200);
    assert!(revoked.text().await.expect("html").contains("已撤销"));
    let after = call(&a, &consumer, &client, &path).await;
    assert_eq!(after.status(), 403);
    assert_eq!(header(&after, "x-road-error"), "Client.AccessDenied");
}

#[tokio::test]
async fn a_member_two_recognised_regions_claim_is_trusted_in_neither() {
    let a = region("339900").await;
    let b = region("440300").await;
    // A third region whose departments claim A's member codes.
    let c = region("110000").await;
    for department in tongban_app::admin::store::departments(a.state.pool())
        .await
        .expect("A's departments")
    {
        sqlx::query("UPDATE departments SET uscc = $1 WHERE kind = $2 AND region_code = $3")
            .bind(department.uscc.clone())
            .bind(department.kind.clone())
            .bind(department.region_code.as_str().to_owned())
            .execute(c.state.pool())
            .await
            .expect("claim A's codes");
    }
    let common = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    for app in [&a, &b, &c] {
        app.clock.set(common);
    }
    own_members(&b).await;
    recognise(&b, &a).await;
    recognise(&a, &b).await;
    let consumer = a.account("demo.deptadmin").api_token.clone();
    let client = format!("CN/GOV/{}/CASES", uscc(&a, "government_services").await);
    let path = format!(
        "/r1/CN/GOV/{}/DATA/SJ-QYDJ-001/enterprises",
        uscc(&b, "market_regulation").await
    );
    let known = call(&a, &consumer, &client, &path).await;
    assert_eq!(known.status(), 403);
    assert_eq!(
        header(&known, "x-road-error"),
        "Client.AccessDenied",
        "B knows A's department; it holds no grant"
    );
    recognise(&b, &c).await;
    // B refuses A's department without signing (it cannot authenticate it); A says so.
    let ambiguous = call(&a, &consumer, &client, &path).await;
    assert_eq!(ambiguous.status(), 502);
    assert_eq!(
        header(&ambiguous, "x-road-error"),
        "Server.ClientProxy.InvalidSignature"
    );
    let body: Value = ambiguous.json().await.expect("problem");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("403 Client.NotAuthorised")),
        "two regions claim the member, so B trusts neither for it: {body}"
    );
    // B stops recognising C: A's department is A's again at once (B's node kept neither
    // answer past the change).
    stop_recognising(&b, "110000").await;
    let again = call(&a, &consumer, &client, &path).await;
    assert_eq!(again.status(), 403);
    assert_eq!(header(&again, "x-road-error"), "Client.AccessDenied");
    // And once B stops recognising A, A's departments are no one's there, from the next call.
    stop_recognising(&b, "339900").await;
    let gone = call(&a, &consumer, &client, &path).await;
    assert_eq!(gone.status(), 502);
    let body: Value = gone.json().await.expect("problem");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("403 Client.NotAuthorised")),
        "B no longer knows A's department: {body}"
    );
}
