//! The authorization matrix: every demo role against every guarded endpoint, allow or deny.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

const ROLES: [&str; 11] = [
    "system_admin",
    "security_admin",
    "audit_admin",
    "dept_admin",
    "clerk",
    "health_officer",
    "venue_operator",
    "checkpoint_officer",
    "duty_officer",
    "citizen",
    "enterprise",
];

/// One row per endpoint: the expected status for each role, in the order of `ROLES`.
struct Case {
    name: &'static str,
    method: &'static str,
    path: String,
    body: Option<Value>,
    expected: [u16; 11],
}

#[tokio::test]
async fn every_role_gets_exactly_the_access_the_policy_grants() {
    let app = spawn_app().await;
    let zhangwei = app.person_id_of("citizen.zhangwei").await;
    let wangfang = app.person_id_of("citizen.wangfang").await;
    let clerk = app.account_id_of("demo.clerk").await;
    let auditor = app.account_id_of("demo.auditadmin").await;
    let jiangnan_clerk = app.account_id_of("demo.clerk.jiangnan").await;
    let enterprise: Value = app
        .get_as(&app.account("enterprise.qingyuan").api_token, "/api/v1/me")
        .await
        .json()
        .await
        .expect("json");
    let qingyuan = enterprise["enterprise_id"]
        .as_str()
        .expect("enterprise id")
        .to_owned();

    let zhang_id = app
        .account("citizen.zhangwei")
        .resident_id
        .clone()
        .expect("id");
    let now = tongban_core::Clock::now_millis(&*app.clock);
    let cases = [
        Case {
            name: "read own account",
            method: "GET",
            path: "/api/v1/me".into(),
            body: None,
            expected: [200; 11],
        },
        Case {
            name: "list users",
            method: "GET",
            path: "/api/v1/admin/users".into(),
            body: None,
            expected: [200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            name: "list roles",
            method: "GET",
            path: "/api/v1/admin/roles".into(),
            body: None,
            expected: [200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            name: "read admin events",
            method: "GET",
            path: "/api/v1/admin/events".into(),
            body: None,
            expected: [403, 403, 200, 403, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            name: "list regions",
            method: "GET",
            path: "/api/v1/admin/regions".into(),
            body: None,
            expected: [200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 403],
        },
        Case {
            name: "create a region",
            method: "POST",
            path: "/api/v1/admin/regions".into(),
            body: Some(
                json!({"code": "REGION", "name": "测试街道", "name_en": "Test Subdistrict"}),
            ),
            expected: [201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            // A role over personal data waits for a second security administrator: 202.
            name: "ask to grant a health officer's role",
            method: "POST",
            path: format!("/api/v1/admin/users/{jiangnan_clerk}/roles"),
            body: Some(json!({"role": "health_officer", "region_code": "339902"})),
            expected: [403, 202, 403, 403, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            name: "grant a district's venue operator role",
            method: "POST",
            path: format!("/api/v1/admin/users/{jiangnan_clerk}/roles"),
            body: Some(json!({"role": "venue_operator", "region_code": "339902"})),
            expected: [403, 201, 403, 403, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            name: "reset a clerk's password",
            method: "POST",
            path: format!("/api/v1/admin/users/{clerk}/password"),
            body: Some(json!({})),
            expected: [200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403],
        },
        Case {
            name: "reset the audit administrator's password",
            method: "POST",
            path: format!("/api/v1/admin/users/{auditor}/password"),
            body: Some(json!({})),
            expected: [403, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403],
        },
        // Reaching the person is not enough: the purpose must be one the role serves (422).
        Case {
            name: "read a Jiangbei citizen to handle a service",
            method: "GET",
            path: format!("/api/v1/persons/{zhangwei}?purpose=service_handling"),
            body: None,
            expected: [404, 404, 404, 404, 200, 422, 404, 404, 404, 422, 404],
        },
        Case {
            name: "read a Jiangbei citizen for public health",
            method: "GET",
            path: format!("/api/v1/persons/{zhangwei}?purpose=health_management"),
            body: None,
            expected: [404, 404, 404, 404, 422, 200, 404, 404, 404, 422, 404],
        },
        Case {
            name: "read one's own record",
            method: "GET",
            path: format!("/api/v1/persons/{zhangwei}?purpose=self_service"),
            body: None,
            expected: [404, 404, 404, 404, 422, 422, 404, 404, 404, 200, 404],
        },
        Case {
            name: "read a Jiangnan citizen for public health",
            method: "GET",
            path: format!("/api/v1/persons/{wangfang}?purpose=health_management"),
            body: None,
            expected: [404, 404, 404, 404, 404, 200, 404, 404, 404, 404, 404],
        },
        Case {
            name: "read a Jiangbei enterprise",
            method: "GET",
            path: format!("/api/v1/enterprises/{qingyuan}"),
            body: None,
            expected: [404, 404, 404, 404, 200, 404, 404, 404, 404, 404, 200],
        },
        Case {
            // A health officer may ask; the citizen is no confirmed case, so the answer is 409.
            name: "ask to match a Jiangbei citizen's contacts",
            method: "POST",
            path: "/api/v1/health/contacts/requests".into(),
            body: Some(json!({
                "resident_id": zhang_id,
                "from": tongban_app::time_fmt::rfc3339(now - 86_400_000),
                "to": tongban_app::time_fmt::rfc3339(now),
                "purpose": "流行病学调查",
            })),
            expected: [403, 403, 403, 403, 403, 409, 403, 403, 403, 403, 403],
        },
        Case {
            name: "check a person without a phone",
            method: "POST",
            path: "/api/v1/pass/check-person".into(),
            body: Some(json!({"resident_id": zhang_id})),
            expected: [403, 403, 403, 403, 403, 403, 403, 200, 403, 403, 403],
        },
    ];

    // A password reset ends the account's tokens: an actor whose account a case reset gets a
    // fresh token before its next call, as its owner would by logging in again.
    let mut actors = Vec::new();
    for role in ROLES {
        let account = app.first_with_role(role);
        let id = app.account_id_of(&account.username).await;
        actors.push((id, account.api_token.clone()));
    }
    let mut mismatches = Vec::new();
    let mut region_serial = 0;
    for case in &cases {
        for (index, role) in ROLES.iter().enumerate() {
            let (account_id, token) = &mut actors[index];
            if app.get_as(token, "/api/v1/me").await.status() == 401 {
                *token = tongban_app::identity::service::issue_token(
                    &app.state, account_id, "matrix", None,
                )
                .await
                .expect("a fresh token");
            }
            let mut body = case.body.clone();
            if let Some(Value::Object(map)) = body.as_mut()
                && map.get("code") == Some(&json!("REGION"))
            {
                region_serial += 1;
                map.insert(
                    "code".into(),
                    json!(format!("339901{:03}", 100 + region_serial)),
                );
            }
            let request = match case.method {
                "GET" => app.client.get(app.url(&case.path)),
                _ => app
                    .client
                    .post(app.url(&case.path))
                    .json(&body.unwrap_or(json!({}))),
            };
            let status = request
                .bearer_auth(&*token)
                .send()
                .await
                .expect("request")
                .status()
                .as_u16();
            if status != case.expected[index] {
                mismatches.push(format!(
                    "{:<40} {role:<20} expected {} got {status}",
                    case.name, case.expected[index]
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "authorization matrix mismatches:\n{}",
        mismatches.join("\n")
    );
}

#[tokio::test]
async fn the_security_administrator_cannot_grant_itself_a_role() {
    let app = spawn_app().await;
    let security = app.first_with_role("security_admin");
    let own = app.account_id_of(&security.username).await;
    let response = app
        .post_as(
            &security.api_token,
            &format!("/api/v1/admin/users/{own}/roles"),
            &json!({"role": "clerk", "region_code": "339900"}),
        )
        .await;
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn an_account_holds_at_most_one_of_the_three_administrator_roles() {
    let app = spawn_app().await;
    let security = app.first_with_role("security_admin");
    let auditor = app.account_id_of("demo.auditadmin").await;
    let response = app
        .post_as(
            &security.api_token,
            &format!("/api/v1/admin/users/{auditor}/roles"),
            &json!({"role": "system_admin", "region_code": "339900"}),
        )
        .await;
    assert_eq!(response.status(), 409);
}

#[tokio::test]
async fn the_system_administrator_cannot_create_another_administrator() {
    let app = spawn_app().await;
    let admin = app.first_with_role("system_admin");
    let response = app
        .post_as(&admin.api_token, "/api/v1/admin/users", &json!({"username": "new.auditor", "display_name": "新审计", "role": "audit_admin", "region_code": "339900"}))
        .await;
    assert_eq!(response.status(), 403);
    let created = app
        .post_as(&admin.api_token, "/api/v1/admin/users", &json!({"username": "new.clerk", "display_name": "新窗口", "role": "clerk", "region_code": "339902"}))
        .await;
    assert_eq!(created.status(), 201);
    let body: Value = created.json().await.expect("json");
    assert_eq!(body["activation_sent"], true);
    assert!(
        body.get("password").is_none() && body.get("totp_secret").is_none(),
        "the administrator sees no credential: {body}"
    );
    assert!(
        body["pending_grant"].is_string(),
        "a clerk's role waits for the security administrator"
    );
}

/// Every API route the registered modules serve, read from their OpenAPI document — so a new
/// module's routes join without an edit here — called anonymously and as every demo role,
/// with placeholder ids and the smallest body and query its OpenAPI schema allows (so that
/// most calls reach the authorization check rather than stop at the body's shape): a route that declares the bearer scheme refuses
/// the anonymous caller with 401, no route answers any caller with a server error, and what
/// every caller gets from every route is the reviewed matrix in `authz_matrix.txt`. A change
/// of access anywhere shows there as a changed line; after reviewing it, write the new
/// matrix with `TONGBAN_UPDATE_MATRIX=1` (never under CI).
#[tokio::test]
async fn every_registered_route_gives_every_role_the_reviewed_access() {
    let app = spawn_app().await;
    let document =
        serde_json::to_value(tongban_app::web::openapi_document(&tongban_app::modules()))
            .expect("json");
    let paths = document["paths"].as_object().expect("paths");
    let mut operations = Vec::new();
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            let secured = operation["security"]
                .as_array()
                .is_some_and(|list| list.iter().any(|s| s.get("bearer").is_some()));
            // Placeholder ids: a route must refuse or not find them, never fail on them.
            let mut concrete = path
                .split('/')
                .map(|part| if part.starts_with('{') { "x0" } else { part })
                .collect::<Vec<_>>()
                .join("/");
            let query: Vec<String> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query" && p["required"] == true)
                .map(|p| {
                    let value = match smallest(&document, &p["schema"], 0) {
                        Value::String(text) => text,
                        other => other.to_string(),
                    };
                    format!("{}={value}", p["name"].as_str().unwrap_or_default())
                })
                .collect();
            if !query.is_empty() {
                concrete = format!("{concrete}?{}", query.join("&"));
            }
            let body = operation["requestBody"]["content"]["application/json"]["schema"]
                .as_object()
                .map(|_| {
                    smallest(
                        &document,
                        &operation["requestBody"]["content"]["application/json"]["schema"],
                        0,
                    )
                });
            operations.push((method.to_uppercase(), concrete, secured, body));
        }
    }
    assert!(operations.len() > 60, "only {} routes", operations.len());
    // Logging out ends the token it is called with: the last call of each caller.
    operations.sort_by_key(|(_, path, _, _)| path.ends_with("/auth/logout"));
    let send = |method: &str, path: &str, token: Option<&str>, body: &Option<Value>| {
        let mut request = app
            .client
            .request(method.parse().expect("method"), app.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if method != "GET" && method != "DELETE" {
            request = request.json(body.as_ref().unwrap_or(&json!({})));
        }
        async move { request.send().await.expect("request").status().as_u16() }
    };
    // Failed logins and activations count against the caller's address for the minute; every
    // call here comes from one address, so each public route's call gets a minute of its own
    // and the matrix shows access, not the throttle.
    let next_minute = |secured: bool| {
        if !secured {
            app.clock.advance(time::Duration::seconds(61));
        }
    };
    let mut matrix: Vec<Vec<u16>> = vec![Vec::new(); operations.len()];
    for (n, (method, path, secured, body)) in operations.iter().enumerate() {
        let status = send(method, path, None, body).await;
        assert!(status < 500, "{method} {path} anonymously: {status}");
        if *secured {
            assert_eq!(
                status, 401,
                "{method} {path} must refuse an anonymous caller"
            );
        }
        matrix[n].push(status);
        next_minute(*secured);
    }
    for role in ROLES {
        let token = app.first_with_role(role).api_token.clone();
        for (n, (method, path, secured, body)) in operations.iter().enumerate() {
            let status = send(method, path, Some(&token), body).await;
            assert!(status < 500, "{method} {path} as {role}: {status}");
            matrix[n].push(status);
            next_minute(*secured);
        }
    }
    let mut text = format!(
        "# Every API route × anonymous and every demo role: the status each gets, called with\n\
         # placeholder ids and the smallest body its schema allows (authz_matrix.rs writes it).\n\
         # route | anonymous {}\n",
        ROLES.join(" ")
    );
    for ((method, path, _, _), statuses) in operations.iter().zip(&matrix) {
        let statuses: Vec<String> = statuses.iter().map(u16::to_string).collect();
        text.push_str(&format!("{method} {path} | {}\n", statuses.join(" ")));
    }
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/authz_matrix.txt");
    let reviewed = std::fs::read_to_string(&file).unwrap_or_default();
    if reviewed != text {
        let update = std::env::var_os("TONGBAN_UPDATE_MATRIX").is_some()
            && std::env::var("CI").as_deref() != Ok("true");
        if update {
            std::fs::write(&file, &text).expect("write the matrix");
        } else {
            let old: std::collections::BTreeSet<&str> = reviewed.lines().collect();
            let new: std::collections::BTreeSet<&str> = text.lines().collect();
            let gone: Vec<_> = old.difference(&new).collect();
            let came: Vec<_> = new.difference(&old).collect();
            panic!(
                "access differs from the reviewed matrix ({}):\n  reviewed: {gone:#?}\n  now: {came:#?}\n\
                 review the change; TONGBAN_UPDATE_MATRIX=1 writes the new matrix",
                file.display()
            );
        }
    }
}

/// The smallest value a JSON Schema of the OpenAPI document accepts, as far as its shape
/// goes: required properties only, the first of an enum or of alternatives, empty arrays,
/// placeholder text. Formats get a value of their form.
fn smallest(document: &Value, schema: &Value, depth: usize) -> Value {
    if depth > 12 {
        return Value::Null;
    }
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return smallest(
            document,
            &document["components"]["schemas"][name],
            depth + 1,
        );
    }
    if let Some(first) = schema["enum"].as_array().and_then(|values| values.first()) {
        return first.clone();
    }
    if schema.get("const").is_some() {
        return schema["const"].clone();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let option = options
                .iter()
                .find(|o| o["type"] != "null")
                .unwrap_or(&Value::Null);
            return smallest(document, option, depth + 1);
        }
    }
    if let Some(parts) = schema["allOf"].as_array() {
        let mut merged = serde_json::Map::new();
        for part in parts {
            if let Value::Object(fields) = smallest(document, part, depth + 1) {
                merged.extend(fields);
            }
        }
        return Value::Object(merged);
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null")
            .unwrap_or("null"),
        Value::String(kind) => kind.as_str(),
        _ if schema.get("properties").is_some() => "object",
        _ => "null",
    };
    match kind {
        "object" => {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let fields = required
                .iter()
                .map(|name| {
                    let value = smallest(document, &schema["properties"][*name], depth + 1);
                    ((*name).to_owned(), value)
                })
                .collect();
            Value::Object(fields)
        }
        "array" => json!([]),
        "integer" | "number" => json!(schema["minimum"].as_i64().unwrap_or(0).max(0)),
        "boolean" => json!(false),
        "string" => match schema["format"].as_str() {
            Some("date-time") => json!("2026-01-01T00:00:00Z"),
            Some("date") => json!("2026-01-01"),
            _ => json!("x0"),
        },
        _ => Value::Null,
    }
}
