//! Bad input gets a clear 4xx as problem+json and changes nothing.

use serde_json::json;

use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn malformed_identifiers_are_refused_field_by_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    let admin = &app.first_with_role("system_admin").api_token;
    let persons = app.count("persons").await;
    let enterprises = app.count("enterprises").await;
    let regions = app.count("regions").await;
    let cases = [
        (
            "/api/v1/admin/persons",
            json!({"region_code": "339901", "name": "赵六", "resident_id": "33990119850312011X"}),
            "resident_id",
        ),
        (
            "/api/v1/admin/persons",
            json!({"region_code": "339901", "name": "赵六", "resident_id": "339901198502300110"}),
            "resident_id",
        ),
        (
            "/api/v1/admin/persons",
            json!({"region_code": "33990", "name": "赵六", "resident_id": "339901198503120119"}),
            "region_code",
        ),
        (
            "/api/v1/admin/persons",
            json!({"region_code": "339901", "name": "", "resident_id": "339901198503120119"}),
            "name",
        ),
        (
            "/api/v1/admin/persons",
            json!({"region_code": "339901", "name": "赵六", "resident_id": "339901198503120191", "phone": "call me"}),
            "phone",
        ),
        (
            "/api/v1/admin/persons",
            json!({"region_code": "339901", "name": "赵六", "resident_id": "339901198503120191", "address": "长".repeat(201)}),
            "address",
        ),
        (
            "/api/v1/admin/enterprises",
            json!({"uscc": "91339901MA2QY001XI", "name": "坏代码公司", "region_code": "339901"}),
            "uscc",
        ),
        (
            "/api/v1/admin/enterprises",
            json!({"uscc": "91339901MA2QY0010", "name": "短代码公司", "region_code": "339901"}),
            "uscc",
        ),
        (
            "/api/v1/admin/regions",
            json!({"code": "99999x", "name": "坏区", "name_en": "Bad"}),
            "code",
        ),
        (
            "/api/v1/admin/regions",
            json!({"code": "330001", "name": "坏区", "name_en": "Bad"}),
            "code",
        ),
    ];
    for (path, body, field) in cases {
        let (status, problem) = problem(app.post_as(admin, path, &body).await).await;
        assert_eq!(status, 422, "{path} {body}");
        assert_eq!(problem["field"], field, "{path} {body}");
        assert_eq!(problem["type"], "/problems/invalid-field");
    }
    assert_eq!(app.count("persons").await, persons);
    assert_eq!(app.count("enterprises").await, enterprises);
    assert_eq!(app.count("regions").await, regions);
}

#[tokio::test]
async fn unknown_fields_wrong_types_bad_json_and_wrong_content_types_are_refused() {
    let app = spawn_app().await;
    let login = app.url("/api/v1/auth/login");
    let unknown = app
        .client
        .post(&login)
        .json(&json!({"username": "a", "password": "b", "admin": true}))
        .send()
        .await
        .expect("request");
    assert_eq!(problem(unknown).await.0, 422);
    let wrong_type = app
        .client
        .post(&login)
        .json(&json!({"username": 7, "password": "b"}))
        .send()
        .await
        .expect("request");
    assert_eq!(problem(wrong_type).await.0, 422);
    let syntax = app
        .client
        .post(&login)
        .header("content-type", "application/json")
        .body("{\"username\":")
        .send()
        .await
        .expect("request");
    assert_eq!(problem(syntax).await.0, 400);
    let form = app
        .client
        .post(&login)
        .form(&[("username", "a"), ("password", "b")])
        .send()
        .await
        .expect("request");
    assert_eq!(problem(form).await.0, 415);
}

#[tokio::test]
async fn oversize_bodies_are_refused_with_413() {
    let app = spawn_app().await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": huge, "password": "b"}))
        .send()
        .await
        .expect("request");
    assert_eq!(problem(response).await.0, 413);
    let mut browser = crate::helpers::Browser::default();
    let page = browser
        .post_form(
            &app,
            "/login",
            &[("csrf", "x"), ("username", &huge), ("password", "b")],
        )
        .await;
    assert_eq!(page.status(), 413);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn unknown_routes_methods_and_query_values_are_described() {
    let app = spawn_app().await;
    let citizen = &app.first_with_role("citizen").api_token;
    assert_eq!(
        problem(app.get_as(citizen, "/api/v1/no-such-thing").await)
            .await
            .0,
        404
    );
    let delete = app
        .client
        .delete(app.url("/api/v1/me"))
        .bearer_auth(citizen)
        .send()
        .await
        .expect("request");
    assert_eq!(problem(delete).await.0, 405);
    let person = app.person_id_of("citizen.zhangwei").await;
    let (status, body) = problem(
        app.get_as(
            citizen,
            &format!("/api/v1/persons/{person}?purpose=curiosity"),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["type"], "/problems/bad-request");
    let page = app
        .client
        .get(app.url("/no-such-page"))
        .send()
        .await
        .expect("request");
    assert_eq!(page.status(), 404);
    assert!(
        page.text()
            .await
            .expect("html")
            .contains("找不到该页面或记录")
    );
}

#[tokio::test]
async fn missing_and_forged_credentials_get_401() {
    let app = spawn_app().await;
    assert_eq!(
        problem(
            app.client
                .get(app.url("/api/v1/me"))
                .send()
                .await
                .expect("request")
        )
        .await
        .0,
        401
    );
    assert_eq!(
        problem(app.get_as("tbk_forged", "/api/v1/me").await)
            .await
            .0,
        401
    );
    let basic = app
        .client
        .get(app.url("/api/v1/me"))
        .header("authorization", "Basic YTpi")
        .send()
        .await
        .expect("request");
    assert_eq!(problem(basic).await.0, 401);
    let forged_cookie = app
        .client
        .get(app.url("/api/v1/me"))
        .header("cookie", "__Host-tongban-session=forged")
        .send()
        .await
        .expect("request");
    assert_eq!(problem(forged_cookie).await.0, 401);
}

#[tokio::test]
async fn a_duplicate_username_is_a_conflict_and_creates_nothing() {
    let app = spawn_app().await;
    let admin = &app.first_with_role("system_admin").api_token;
    let accounts = app.count("accounts").await;
    let body = json!({"username": "demo.clerk", "display_name": "重复", "role": "clerk", "region_code": "339901"});
    let (status, problem) = problem(app.post_as(admin, "/api/v1/admin/users", &body).await).await;
    assert_eq!(
        (status, problem["type"].as_str()),
        (409, Some("/problems/conflict"))
    );
    assert_eq!(app.count("accounts").await, accounts);
    let bad_name = json!({"username": "Bad Name!", "display_name": "x", "role": "clerk", "region_code": "339901"});
    assert_eq!(
        crate::helpers::problem(app.post_as(admin, "/api/v1/admin/users", &bad_name).await)
            .await
            .0,
        422
    );
    let weak = json!({"username": "weak.user", "display_name": "x", "role": "clerk", "region_code": "339901", "password": "short"});
    assert_eq!(
        crate::helpers::problem(app.post_as(admin, "/api/v1/admin/users", &weak).await)
            .await
            .0,
        422
    );
    assert_eq!(app.count("accounts").await, accounts);
}

/// The endpoints of certificates, services, applications and trust answer unknown records,
/// malformed queries and malformed bodies with a problem document, and change nothing.
#[tokio::test]
async fn unknown_and_malformed_requests_to_the_newer_endpoints_are_refused() {
    let app = spawn_app().await;
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let clerk = app.account("demo.clerk.market").api_token.clone();
    // Trust settings are the security administrators'.
    let trust = app.account("demo.secadmin").api_token.clone();
    let gets = [
        (
            &citizen,
            "/api/v1/certs/status-lists/91339900MA00000000/nothing".to_owned(),
            404,
        ),
        (
            &citizen,
            format!("/api/v1/services?q={}", "长".repeat(101)),
            422,
        ),
        (&citizen, "/api/v1/services?colour=red".to_owned(), 400),
        (&citizen, "/api/v1/services/NO-SUCH/form".to_owned(), 404),
        (
            &citizen,
            "/api/v1/applications/no-such-application".to_owned(),
            404,
        ),
        (
            &citizen,
            "/api/v1/bundle-applications/no-such".to_owned(),
            404,
        ),
        (
            &citizen,
            "/api/v1/departments/no-such/statistics".to_owned(),
            404,
        ),
        (&citizen, "/api/v1/applications/queue".to_owned(), 403),
    ];
    for (token, path, want) in gets {
        let (status, body) = problem(app.get_as(token, &path).await).await;
        assert_eq!(status, want, "{path}: {body}");
    }
    let posts = [
        (
            &citizen,
            "/api/v1/me/cert-authorisations/no-such",
            json!({"decision": "once"}),
            409,
        ),
        (
            &citizen,
            "/api/v1/me/cert-authorisations/no-such",
            json!({"decision": "forever"}),
            422,
        ),
        (
            &citizen,
            "/api/v1/me/cert-authorisations/no-such",
            json!({"decision": "until", "until": "next week"}),
            422,
        ),
        (
            &citizen,
            "/api/v1/bundles/NO-SUCH/applications",
            json!({}),
            404,
        ),
        (
            &citizen,
            "/api/v1/applications/no-such/evaluation",
            json!({"grade": "satisfied"}),
            404,
        ),
        (
            &citizen,
            "/api/v1/applications/no-such/actions",
            json!({"action": "withdraw", "version": 1}),
            404,
        ),
        (
            &clerk,
            "/api/v1/rectifications/no-such/reply",
            json!({"reply": "已整改"}),
            404,
        ),
        (
            &clerk,
            "/api/v1/services",
            json!({"item": {"code": "x"}}),
            422,
        ),
        (
            &trust,
            "/api/v1/admin/trusted-regions",
            json!({"trust_list": {"payload": "{}"}, "root_key": "AAAA"}),
            422,
        ),
        (
            &trust,
            "/api/v1/admin/shc-issuers",
            json!({"iss": "https://issuer.example", "jwks": {"keys": []}}),
            422,
        ),
        (&trust, "/api/v1/admin/dcc-signers", json!([]), 422),
        (
            &trust,
            "/api/v1/admin/dcc-signers",
            json!({"pem": "x"}),
            422,
        ),
        (
            &trust,
            "/api/v1/admin/dcc-signers",
            json!([{"kid": "AAAA", "rawData": "MIIB"}]),
            422,
        ),
        (
            &trust,
            "/api/v1/admin/dcc-signers",
            json!({"certificates": 7}),
            422,
        ),
        // A signed list that is not one: bad base64, a header that is not JSON, not ES256.
        (
            &trust,
            "/api/v1/admin/dcc-signers",
            json!({"signed": "a.b.c"}),
            422,
        ),
        (
            &trust,
            "/api/v1/admin/dcc-signers",
            json!({"signed": "bm90IGpzb24.W10.AAAA"}),
            422,
        ),
        (
            &trust,
            "/api/v1/admin/dcc-signers",
            json!({"signed": "eyJhbGciOiJub25lIn0.W10.AAAA"}),
            422,
        ),
        (
            &trust,
            "/api/v1/admin/dcc-signers",
            json!([{"certificateType": "LIST_SIGNER", "rawData": "AAAA"}]),
            422,
        ),
        (
            &trust,
            "/api/v1/admin/dcc-signers",
            json!([{"certificateType": "CSCA", "rawData": "MIIB"}]),
            422,
        ),
    ];
    for (token, path, body, want) in posts {
        let (status, problem_body) = problem(app.post_as(token, path, &body).await).await;
        assert_eq!(status, want, "{path} {body}: {problem_body}");
    }
    let removed = app
        .client
        .delete(app.url("/api/v1/admin/trusted-regions/440300"))
        .bearer_auth(&trust)
        .send()
        .await
        .expect("delete");
    assert_eq!(problem(removed).await.0, 404);
    for (path, want) in [
        ("/api/v1/admin/dcc-signers/AAAAAAAAAAA", 404),
        ("/api/v1/admin/dcc-signers/not%20base64", 422),
        ("/api/v1/admin/dcc-anchors/abc", 422),
        (
            "/api/v1/admin/dcc-anchors/0000000000000000000000000000000000000000000000000000000000000000",
            404,
        ),
    ] {
        let response = app
            .client
            .delete(app.url(path))
            .bearer_auth(&trust)
            .send()
            .await
            .expect("delete");
        assert_eq!(problem(response).await.0, want, "{path}");
    }
    for (path, body) in [
        ("/api/v1/admin/dcc-schemas/latest", json!({})),
        ("/api/v1/admin/dcc-schemas/1.3.0", json!({"type": 7})),
    ] {
        let response = app
            .client
            .put(app.url(path))
            .bearer_auth(&trust)
            .json(&body)
            .send()
            .await
            .expect("put");
        assert_eq!(problem(response).await.0, 422, "{path}");
    }
    for table in [
        "dcc_signers",
        "dcc_schemas",
        "applications",
        "cert_authorisations",
        "evaluations",
        "trusted_regions",
        "shc_issuers",
    ] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
}

/// A client that trickles its request line and headers (slowloris) loses its connection when
/// the header deadline passes, while other clients are served meanwhile; headers larger than
/// the node takes are answered 431, and a connection in order keeps working.
#[tokio::test]
async fn slow_and_oversized_headers_lose_their_connection_and_others_are_served() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = crate::helpers::spawn_app_with(|config| config.header_read_timeout_seconds = 1).await;
    let address = app.address.trim_start_matches("http://").to_owned();

    let mut slow = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: tongban\r\n")
        .await
        .expect("a start");
    // Meanwhile an ordinary request is answered.
    let healthz = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .expect("healthz");
    assert_eq!(healthz.status(), 200);
    // One more header line now and then: never the blank line that ends them.
    let mut closed = false;
    for i in 0..8 {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        if slow
            .write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
            .await
            .is_err()
        {
            closed = true;
            break;
        }
    }
    if !closed {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            slow.read_to_end(&mut rest),
        )
        .await
        .expect("the server ends the connection, not the test's timeout");
        closed = read.is_err() || !String::from_utf8_lossy(&rest).contains("200 OK");
    }
    assert!(
        closed,
        "a client trickling its headers loses the connection"
    );

    let mut large = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let padding = "a".repeat(100 * 1024);
    let request = format!("GET /healthz HTTP/1.1\r\nHost: tongban\r\nX-Padding: {padding}\r\n\r\n");
    let _ = large.write_all(request.as_bytes()).await;
    let mut answer = vec![0u8; 64];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), large.read(&mut answer))
        .await
        .expect("an answer");
    let head = String::from_utf8_lossy(&answer[..read.unwrap_or(0)]).into_owned();
    assert!(
        head.starts_with("HTTP/1.1 431"),
        "oversized headers: {head}"
    );

    let again = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .expect("healthz");
    assert_eq!(again.status(), 200);
}

/// JSON nested far deeper than any form, a body that is not UTF-8, and a body cut off before
/// its announced length: each is refused with a 4xx problem (or the connection ends), nothing
/// is stored, and the node goes on serving.
#[tokio::test]
async fn deep_nesting_invalid_utf8_and_truncated_bodies_are_refused() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = spawn_app().await;
    let token = app.account("citizen.zhangwei").api_token.clone();
    let before = app.count("status_requests").await;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let not_utf8 = b"{\"reason\": \"\xff\xfe\xfd\"}".to_vec();
    for body in [deep.into_bytes(), not_utf8] {
        let response = app
            .client
            .post(app.url("/api/v1/pass/me/requests"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("send");
        let status = response.status().as_u16();
        assert!((400..500).contains(&status), "{status}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }

    // Announced 4096 bytes, sent 10, then the client goes away.
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut cut = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let head = format!(
        "POST /api/v1/pass/me/requests HTTP/1.1\r\nHost: tongban\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{{\"reason\":"
    );
    cut.write_all(head.as_bytes()).await.expect("write");
    cut.shutdown().await.expect("half-close");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        cut.read_to_end(&mut answer),
    )
    .await
    .expect("the node ends the exchange");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "a cut-off body: {answer}"
    );

    assert_eq!(app.count("status_requests").await, before, "nothing stored");
    let healthz = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(healthz.status(), 200);
}
