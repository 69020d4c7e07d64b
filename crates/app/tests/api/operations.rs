//! Health, readiness, metrics, the OpenAPI document, security headers, and the promise that
//! personal data is never released when its access cannot be recorded.

use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("text"),
        "ok"
    );
    assert_eq!(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("request")
            .status(),
        200
    );
    app.get_as(&app.first_with_role("citizen").api_token, "/api/v1/me")
        .await;
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains(
            "tongban_http_requests_total{method=\"GET\",route=\"/api/v1/me\",status=\"200\"}"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("tongban_http_request_duration_seconds_bucket"));
    assert!(metrics.contains("tongban_db_pool_connections"));
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.state.db.close().await;
    assert_eq!(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("request")
            .status(),
        503
    );
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("request")
            .status(),
        200
    );
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_describes_the_interfaces_scripts_rely_on() {
    let app = spawn_app().await;
    let document: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert!(
        document["openapi"]
            .as_str()
            .expect("version")
            .starts_with("3.1")
    );
    for path in [
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/admin/users",
        "/api/v1/persons/{id}",
    ] {
        assert!(
            document["paths"].get(path).is_some(),
            "{path} is documented"
        );
    }
    assert!(
        document["components"]["securitySchemes"]
            .get("bearer")
            .is_some()
    );
    assert!(document["components"]["schemas"].get("Problem").is_some());
}

/// The document is merged from every module's: a schema two modules name alike would be one
/// of them in the merged document, and the other module's answers would be checked against
/// the wrong shape. Each name means one shape across the modules.
#[test]
fn no_two_modules_give_one_schema_name_two_shapes() {
    let mut shapes: std::collections::BTreeMap<String, (String, Value)> = Default::default();
    let mut clashes = Vec::new();
    for module in tongban_app::modules() {
        let (_, openapi) = module.api().split_for_parts();
        let document = serde_json::to_value(openapi).expect("json");
        let schemas = document["components"]["schemas"].as_object().cloned();
        for (name, shape) in schemas.into_iter().flatten() {
            match shapes.get(&name) {
                Some((other, seen)) if *seen != shape => {
                    clashes.push(format!("{name}: {} and {other}", module.name()))
                }
                Some(_) => {}
                None => {
                    shapes.insert(name, (module.name().to_owned(), shape));
                }
            }
        }
    }
    assert!(!shapes.is_empty());
    assert!(
        clashes.is_empty(),
        "schema names with two shapes: {clashes:?}"
    );
}

/// Every operation documents the problem+json answers any handler can give, so that a client
/// checking answers against the document finds each one described.
#[test]
fn every_operation_documents_its_error_answers_as_problem_json() {
    let document =
        serde_json::to_value(tongban_app::web::openapi_document(&tongban_app::modules()))
            .expect("json");
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            operations += 1;
            let responses = &operation["responses"];
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            let mut expected = vec!["400", "404", "422", "503"];
            if secured {
                expected.extend(["401", "403"]);
            }
            for status in expected {
                assert!(
                    responses[status]["content"]["application/problem+json"].is_object(),
                    "{method} {path} does not document {status} as problem+json"
                );
            }
            for (status, response) in responses.as_object().expect("responses") {
                assert!(
                    response["description"].is_string(),
                    "{method} {path} {status} has no description"
                );
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"].get("application/json").is_none(),
                        "{method} {path} {status}: an error is problem+json"
                    );
                }
            }
        }
    }
    assert!(operations > 100, "{operations} operations");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/login", "/api/v1/me", "/static/app.css", "/nowhere"] {
        let response = app.client.get(app.url(path)).send().await.expect("request");
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().expect("ascii");
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(
            headers["strict-transport-security"]
                .to_str()
                .expect("ascii")
                .starts_with("max-age=31536000"),
            "{path}"
        );
        assert!(headers.contains_key("x-request-id"), "{path}");
    }
}

#[tokio::test]
async fn the_vendored_files_match_their_recorded_digests() {
    let app = spawn_app().await;
    let recorded = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../platform/static/VENDORED.md"
    ))
    .expect("VENDORED.md");
    for path in ["/static/htmx.min.js", "/static/jsQR.js"] {
        let body = app
            .client
            .get(app.url(path))
            .send()
            .await
            .expect("request")
            .bytes()
            .await
            .expect("bytes");
        let digest =
            tongban_app::random::hex_encode(&<sha2::Sha256 as sha2::Digest>::digest(&body));
        assert!(
            recorded.contains(&digest),
            "static/VENDORED.md records {digest} for {path}"
        );
    }
}

#[tokio::test]
async fn personal_data_is_not_released_when_its_access_cannot_be_recorded() {
    let app = spawn_app().await;
    let clerk = &app.account("demo.clerk").api_token;
    let person = app.person_id_of("citizen.zhangwei").await;
    let path = format!("/api/v1/persons/{person}?purpose=service_handling");
    let released = app.get_as(clerk, &path).await;
    assert_eq!(released.status(), 200);
    let record: Value = released.json().await.expect("json");
    assert_eq!(record["name"], "张伟");
    let recorded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM personal_data_access WHERE subject_key = $1 AND purpose = 'service_handling'")
        .bind(tongban_app::identity::personal::access_subject_key(&app.state, &person))
        .fetch_one(app.state.pool())
        .await
        .expect("count");
    assert_eq!(recorded, 1, "the read was recorded");

    // Make the access record unwritable, as a full disk or a lost log table would.
    sqlx::query("DROP TABLE personal_data_access")
        .execute(app.state.pool())
        .await
        .expect("drop");
    let response = app.get_as(clerk, &path).await;
    let text = response.text().await.expect("text");
    assert!(text.contains("\"status\":503"), "{text}");
    assert!(
        !text.contains("张伟") && !text.contains("339901198503120"),
        "nothing personal leaves: {text}"
    );
}

#[tokio::test]
async fn citizens_see_who_read_their_data_with_purpose_and_department() {
    let app = spawn_app().await;
    let person = app.person_id_of("citizen.zhangwei").await;
    app.get_as(
        &app.account("demo.clerk").api_token,
        &format!("/api/v1/persons/{person}?purpose=service_handling"),
    )
    .await;
    let log: Value = app
        .get_as(
            &app.account("citizen.zhangwei").api_token,
            "/api/v1/me/access-log",
        )
        .await
        .json()
        .await
        .expect("json");
    let entry = log
        .as_array()
        .expect("list")
        .iter()
        .find(|e| e["purpose"] == "service_handling")
        .expect("the clerk's read");
    assert_eq!(entry["actor_role"], "clerk");
    assert_eq!(entry["department"], "江北区政务服务管理局");
    let other: Value = app
        .get_as(
            &app.account("citizen.lina").api_token,
            "/api/v1/me/access-log",
        )
        .await
        .json()
        .await
        .expect("json");
    assert!(
        other
            .as_array()
            .expect("list")
            .iter()
            .all(|e| e["purpose"] != "service_handling"),
        "another citizen's log is theirs alone"
    );
}

#[tokio::test]
async fn past_capacity_other_paths_are_shed_while_the_pass_keeps_answering() {
    let app = crate::helpers::spawn_app_with(|config| {
        config.max_concurrent_requests = 1;
        config.max_concurrent_pass_requests = 1000;
    })
    .await;
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let mut general = Vec::new();
    let mut passes = Vec::new();
    for _ in 0..60 {
        let (client, url, token) = (
            app.client.clone(),
            app.url("/api/v1/me/access-log"),
            citizen.clone(),
        );
        general.push(tokio::spawn(async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("request")
        }));
        let (client, url, token) = (
            app.client.clone(),
            app.url("/api/v1/pass/me"),
            citizen.clone(),
        );
        passes.push(tokio::spawn(async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("request")
        }));
    }
    let mut shed = 0;
    for task in general {
        let response = task.await.expect("task");
        if response.status() == 503 {
            assert_eq!(response.headers()["retry-after"], "1");
            shed += 1;
        } else {
            assert_eq!(response.status(), 200);
        }
    }
    assert!(
        shed > 0,
        "a budget of one request sheds some of sixty at once"
    );
    for task in passes {
        assert_eq!(
            task.await.expect("task").status(),
            200,
            "the pass path keeps answering"
        );
    }
}
