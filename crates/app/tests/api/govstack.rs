//! The GovStack Registration building block API over tongban: every response carries what the
//! published specification (../shared/conformance/govstack/registration/api) requires, and an
//! application goes from submission through operator tasks to APPROVED on this surface alone.
//! The shape checks read the specification itself and are skipped with a note where the
//! conformance vectors are absent.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const PREFIX: &str = "/govstack/registration/v1";
const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];

fn spec() -> Option<Value> {
    let dir = tongban_harness::conformance::vectors_dir()?;
    let text = std::fs::read_to_string(
        dir.join("govstack/registration/api/GovStack_Registration_BB_API.json"),
    )
    .ok()?;
    serde_json::from_str(&text).ok()
}

/// Checks a value against a component schema of the spec: required properties present, enum
/// values among the allowed, UUID-format strings parse, nested `$ref`s and arrays followed.
fn conforms(spec: &Value, schema: &Value, value: &Value, at: &str) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().expect("name");
        return conforms(spec, &spec["components"]["schemas"][name], value, at);
    }
    if schema["type"] == "array" || schema.get("items").is_some() {
        for (i, item) in value
            .as_array()
            .unwrap_or_else(|| panic!("{at}: an array"))
            .iter()
            .enumerate()
        {
            conforms(spec, &schema["items"], item, &format!("{at}[{i}]"));
        }
        return;
    }
    if let Some(allowed) = schema["enum"].as_array() {
        assert!(
            allowed.contains(value),
            "{at}: {value} is not one of {allowed:?}"
        );
    }
    if schema["format"] == "uuid" {
        let text = value.as_str().unwrap_or_else(|| panic!("{at}: a string"));
        assert!(
            uuid::Uuid::parse_str(text).is_ok(),
            "{at}: {text} is not a UUID"
        );
    }
    for required in schema["required"].as_array().into_iter().flatten() {
        let key = required.as_str().expect("name");
        assert!(
            !value[key].is_null(),
            "{at}: required {key} is missing in {value}"
        );
    }
    // What the specification types as an object is one, and so is each value of a map whose
    // values it types as objects.
    if schema["type"] == "object" {
        assert!(value.is_object(), "{at}: an object, not {value}");
    }
    if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
        for (key, item) in value.as_object().into_iter().flatten() {
            conforms(spec, values, item, &format!("{at}.{key}"));
        }
    }
    if let Some(properties) = schema["properties"].as_object() {
        for (key, property) in properties {
            if !value[key].is_null()
                && (property.get("$ref").is_some()
                    || property.get("enum").is_some()
                    || property["format"] == "uuid"
                    || property["type"] == "object"
                    || property.get("additionalProperties").is_some())
            {
                conforms(spec, property, &value[key], &format!("{at}.{key}"));
            }
        }
    }
}

fn response_schema(spec: &Value, path: &str, method: &str, status: &str) -> Value {
    let content = &spec["paths"][path][method]["responses"][status]["content"];
    let media = content
        .as_object()
        .and_then(|m| m.values().next())
        .unwrap_or_else(|| panic!("{method} {path} {status} has content"));
    media["schema"].clone()
}

async fn call(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method, app.url(&format!("{PREFIX}{path}")))
        .bearer_auth(token)
        .header("Information-Mediator-Client", app.govstack_client().await);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    call(app, token, reqwest::Method::GET, path, None).await
}

#[tokio::test]
async fn an_application_runs_through_the_registration_building_block_api() {
    let app = spawn_app().await;
    let spec = spec();
    if spec.is_none() {
        eprintln!(
            "note: GovStack specification not found (set TONGBAN_CONFORMANCE_DIR); shape checks are skipped"
        );
    }
    let check = |path: &str, method: &str, status: &str, value: &Value| {
        if let Some(spec) = &spec {
            conforms(
                spec,
                &response_schema(spec, path, method, status),
                value,
                &format!("{method} {path}"),
            );
        }
    };
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let clerk = app.account("demo.clerk.market").api_token.clone();

    // The mandatory header.
    let bare = app
        .client
        .get(app.url(&format!("{PREFIX}/services")))
        .bearer_auth(&citizen)
        .send()
        .await
        .expect("request");
    assert_eq!(bare.status(), 400);

    let (status, services) = get(&app, &citizen, "/services").await;
    assert_eq!(status, 200);
    assert!(services.as_array().expect("list").len() >= 20);
    check("/services", "get", "200", &services);
    let (_, found) = get(&app, &citizen, "/services?name=%E4%B8%AA%E4%BD%93%E6%88%B7").await;
    assert_eq!(found[0]["name"], "个体工商户注册登记");
    let service = found[0]["id"].as_str().expect("id").to_owned();
    let (_, one) = get(&app, &citizen, &format!("/services/{service}")).await;
    check("/services/{serviceId}", "get", "200", &one);
    let (_, forms) = get(&app, &citizen, &format!("/services/{service}/eForms")).await;
    check("/services/{serviceId}/eForms", "get", "200", &forms);
    let eform = forms[0]["eFormId"].as_str().expect("form id").to_owned();
    let (status, form) = get(&app, &citizen, &format!("/eForms/{eform}")).await;
    assert_eq!(status, 200);
    assert!(form["schema"]["properties"]["place"].is_object());
    assert_eq!(form["schema"]["properties"]["operator"]["readOnly"], true);

    // A document, then the application file.
    let part = reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("lease.png");
    let uploaded: Value = app
        .client
        .post(app.url(&format!("{PREFIX}/documents")))
        .bearer_auth(&citizen)
        .header("Information-Mediator-Client", app.govstack_client().await)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    let url = uploaded["url"].as_str().expect("url").to_owned();
    let applicant = app.account_id_of("citizen.zhangwei").await;
    let submission = json!({
        "applicantId": applicant,
        "formData": {"eFormId": eform, "data": {
            "phone": "13800000000", "name": "临江市张伟小吃店", "place": "临江市江北区解放路12号",
            "business_scope": ["小吃服务", "预包装食品销售"]}},
        "documentUrls": [url],
    });
    let (status, file) = call(
        &app,
        &citizen,
        reqwest::Method::POST,
        &format!("/services/{service}/applications"),
        Some(submission.clone()),
    )
    .await;
    assert_eq!(status, 200, "{file}");
    check("/services/{serviceId}/applications", "post", "200", &file);
    assert_eq!(file["status"]["code"], "PENDING");
    let file_id = file["fileId"].as_str().expect("file").to_owned();
    let mut someone_else = submission.clone();
    someone_else["applicantId"] = json!("another-account");
    let (status, _) = call(
        &app,
        &citizen,
        reqwest::Method::POST,
        &format!("/services/{service}/applications"),
        Some(someone_else),
    )
    .await;
    assert_eq!(status, 403, "an applicant submits for themselves only");

    // The operator completes the tasks; a stale task is refused.
    let mut state = String::new();
    for action in ["accept", "pass", "approve"] {
        let (_, tasks) = get(&app, &clerk, &format!("/tasks?fileId={file_id}")).await;
        check("/tasks", "get", "200", &tasks);
        let task = tasks[0]["taskId"].as_str().expect("task").to_owned();
        let (status, detail) = get(&app, &clerk, &format!("/tasks/{task}")).await;
        assert_eq!(status, 200);
        check("/tasks/{taskId}", "get", "200", &detail);
        let (status, done) = call(
            &app,
            &clerk,
            reqwest::Method::POST,
            &format!("/tasks/{task}/complete"),
            Some(json!({"data": {"action": action}})),
        )
        .await;
        assert_eq!(status, 200, "{action}: {done}");
        check("/tasks/{taskId}/complete", "post", "200", &done);
        let (status, _) = call(
            &app,
            &clerk,
            reqwest::Method::POST,
            &format!("/tasks/{task}/complete"),
            Some(json!({"data": {"action": action}})),
        )
        .await;
        assert_eq!(status, 404, "the task was completed already: it is gone");
        state = done["status"]["code"].as_str().expect("code").to_owned();
    }
    assert_eq!(state, "APPROVED");

    let (_, file) = get(&app, &citizen, &format!("/applications/{file_id}")).await;
    check("/applications/{fileId}", "get", "200", &file);
    assert_eq!(file["status"]["code"], "APPROVED");
    let (_, mine) = get(&app, &citizen, "/applications").await;
    check("/applications", "get", "200", &mine);
    assert_eq!(mine.as_array().expect("list").len(), 1);
    // Once decided, the file waits at no step of the department: no amendment.
    let (status, _) = call(
        &app,
        &clerk,
        reqwest::Method::PUT,
        &format!("/applications/{file_id}"),
        Some(submission),
    )
    .await;
    assert_eq!(status, 409);
    let (_, stats) = get(&app, &clerk, "/data/statistics").await;
    assert_eq!(
        (
            stats[0]["approved"].as_i64(),
            stats[0]["processed"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let stranger = app.account("citizen.lina").api_token.clone();
    let (status, _) = get(&app, &stranger, &format!("/applications/{file_id}")).await;
    assert_eq!(status, 404);
}

/// The header names a calling system this deployment knows: four non-empty parts, this
/// federation's instance, a member class, a member registered here. Malformed is 400, unknown
/// 403, both as problem+json.
#[tokio::test]
async fn the_mediator_header_names_a_known_client() {
    let app = spawn_app().await;
    let known = app.govstack_client().await;
    let uscc = known.split('/').nth(2).expect("member").to_owned();
    let enterprise = app
        .account("enterprise.qingyuan")
        .uscc
        .clone()
        .expect("uscc");
    let unregistered = "91339900MA2ZZZ9990";
    let cases: Vec<(Option<String>, u16)> = vec![
        (None, 400),
        (Some(String::new()), 400),
        (Some("CN/GOV/portal".into()), 400),
        (Some(format!("CN//{uscc}/portal")), 400),
        (Some(format!("CN/GOV/{uscc}/")), 400),
        (Some(format!("CN/GOV/{uscc}/portal/extra")), 400),
        (Some(format!("CN/GOV/{uscc} /portal")), 400),
        (Some(format!("EE/GOV/{uscc}/portal")), 403),
        (Some(format!("CN/XYZ/{uscc}/portal")), 403),
        (Some("CN/GOV/90000009/portal".into()), 403),
        (Some(format!("CN/GOV/{unregistered}/portal")), 403),
        (Some(format!("CN/GOV/{enterprise}/portal")), 403),
        (Some(format!("CN/COM/{enterprise}/erp")), 200),
        (Some(known), 200),
    ];
    for (header, want) in cases {
        let mut request = app.client.get(app.url(&format!("{PREFIX}/services")));
        if let Some(value) = &header {
            request = request.header("Information-Mediator-Client", value);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status().as_u16(), want, "{header:?}");
        if want != 200 {
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json",
                "{header:?}"
            );
        }
    }
}

/// Submits the sole-proprietor registration as a demo citizen; the service id and file id.
async fn submit_registration(app: &TestApp, username: &str, name: &str) -> (String, String) {
    let token = app.account(username).api_token.clone();
    let (_, found) = get(app, &token, "/services?name=%E4%B8%AA%E4%BD%93%E6%88%B7").await;
    let service = found[0]["id"].as_str().expect("id").to_owned();
    let part = reqwest::multipart::Part::bytes(PNG.to_vec())
        .file_name("lease.png")
        .mime_str("image/png")
        .expect("mime");
    let uploaded: Value = app
        .client
        .post(app.url(&format!("{PREFIX}/documents")))
        .bearer_auth(&token)
        .header("Information-Mediator-Client", app.govstack_client().await)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    let submission = json!({
        "applicantId": app.account_id_of(username).await,
        "formData": {"data": {
            "phone": {"value": "13800000000"}, "name": {"value": name},
            "place": "临江市江北区解放路12号", "business_scope": ["小吃服务"]}},
        "documentUrls": [uploaded["url"]],
    });
    let (status, file) = call(
        app,
        &token,
        reqwest::Method::POST,
        &format!("/services/{service}/applications"),
        Some(submission),
    )
    .await;
    assert_eq!(status, 200, "{file}");
    (service, file["fileId"].as_str().expect("file").to_owned())
}

/// Every query parameter the specification documents does what it says: the applications'
/// applicant, service and order; the tasks' main task and assignee; bad values are 400.
#[tokio::test]
async fn every_documented_filter_is_honoured() {
    let app = spawn_app().await;
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let (service, zhang_file) = submit_registration(&app, "citizen.zhangwei", "张伟小吃店").await;
    app.clock.advance(time::Duration::minutes(5));
    let (_, lina_file) = submit_registration(&app, "citizen.lina", "李娜小吃店").await;
    let zhang = app.account_id_of("citizen.zhangwei").await;

    let files = |list: &Value| -> Vec<String> {
        list.as_array()
            .expect("list")
            .iter()
            .map(|f| f["fileId"].as_str().expect("id").to_owned())
            .collect()
    };
    let (_, all) = get(&app, &clerk, "/applications").await;
    assert_eq!(
        files(&all),
        vec![lina_file.clone(), zhang_file.clone()],
        "newest first"
    );
    let (_, his) = get(&app, &clerk, &format!("/applications?applicantId={zhang}")).await;
    assert_eq!(files(&his), vec![zhang_file.clone()]);
    let (status, nobody) = get(&app, &clerk, "/applications?applicantId=nobody").await;
    assert_eq!((status, nobody), (200, json!([])));
    let (_, of_service) = get(&app, &clerk, &format!("/applications?serviceId={service}")).await;
    assert_eq!(files(&of_service).len(), 2);
    let (_, other) = get(
        &app,
        &clerk,
        &format!("/applications?serviceId={}", uuid::Uuid::nil()),
    )
    .await;
    assert_eq!(other, json!([]));
    let (_, ascending) = get(&app, &clerk, "/applications?sortBy=created&sortOrder=asc").await;
    assert_eq!(
        files(&ascending),
        vec![zhang_file.clone(), lina_file.clone()]
    );
    let (_, second) = get(
        &app,
        &clerk,
        "/applications?sortBy=created&sortOrder=asc&firstResult=1&maxResult=1",
    )
    .await;
    assert_eq!(files(&second), vec![lina_file.clone()]);
    for bad in [
        "/applications?sortBy=colour",
        "/applications?sortOrder=sideways",
        "/applications?firstResult=first",
        "/tasks?maxResult=many",
    ] {
        let (status, problem) = get(&app, &clerk, bad).await;
        assert_eq!(status, 400, "{bad}: {problem}");
    }

    let (status, none) = get(&app, &clerk, "/tasks?maxResult=-1&sortOrder=").await;
    assert_eq!(
        (status, none),
        (200, json!([])),
        "the specification allows any integer"
    );
    let (_, tasks) = get(&app, &clerk, "/tasks").await;
    assert_eq!(tasks.as_array().expect("list").len(), 2);
    let task = tasks[0]["taskId"].as_str().expect("task").to_owned();
    let (_, one) = get(&app, &clerk, &format!("/tasks?mainTaskId={task}")).await;
    assert_eq!(one.as_array().expect("list").len(), 1);
    assert_eq!(one[0]["taskId"], task.as_str());
    let me = app.account_id_of("demo.clerk.market").await;
    let (_, mine) = get(&app, &clerk, &format!("/tasks?assigneeId={me}")).await;
    assert_eq!(mine.as_array().expect("list").len(), 2);
    assert!(
        mine.as_array()
            .expect("list")
            .iter()
            .all(|t| t["assigneeId"] == me.as_str())
    );
    let (_, someone) = get(&app, &clerk, "/tasks?assigneeId=someone-else").await;
    assert_eq!(someone, json!([]));
    let (_, by_file) = get(&app, &clerk, &format!("/tasks?fileId={zhang_file}")).await;
    assert_eq!(by_file[0]["fileId"], zhang_file.as_str());
}

/// A task completes with the specification's free-form `data`: the action is the one of the
/// task's `formVariables` that `data` names, with its reason inside; anything else is 400 and
/// changes nothing, and a task that is gone is 404.
#[tokio::test]
async fn a_task_completes_by_the_action_its_data_names() {
    let app = spawn_app().await;
    let spec = spec();
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let (_, file) = submit_registration(&app, "citizen.zhangwei", "张伟小吃店").await;
    let task_of = || {
        let (app, clerk, file) = (&app, clerk.clone(), file.clone());
        async move {
            let (_, tasks) = get(app, &clerk, &format!("/tasks?fileId={file}")).await;
            tasks[0]["taskId"].as_str().expect("task").to_owned()
        }
    };
    let task = task_of().await;
    let (_, detail) = get(&app, &clerk, &format!("/tasks/{task}")).await;
    if let Some(spec) = &spec {
        conforms(
            spec,
            &response_schema(spec, "/tasks/{taskId}", "get", "200"),
            &detail,
            "task",
        );
    }
    assert!(detail["formVariables"]["accept"].is_object(), "{detail}");
    assert_eq!(detail["formVariables"]["reject"]["reasonRequired"], true);
    assert_eq!(detail["data"]["name"]["value"], "张伟小吃店");
    let complete = |task: String, body: Value| {
        let (app, clerk) = (&app, clerk.clone());
        async move {
            call(
                app,
                &clerk,
                reqwest::Method::POST,
                &format!("/tasks/{task}/complete"),
                Some(body),
            )
            .await
        }
    };
    for refused in [
        json!({"data": {}}),
        json!({"data": {"accept": {}, "reject": {"reason": "x"}}}),
        json!({"data": {"fly": {}}}),
        json!({"data": {"reject": {}}}),
        json!({"data": "accept"}),
        json!([]),
    ] {
        let (status, problem) = complete(task.clone(), refused.clone()).await;
        assert_eq!(status, 400, "{refused}: {problem}");
    }
    assert_eq!(task_of().await, task, "nothing changed");
    let (status, done) = complete(
        task.clone(),
        json!({"data": {"request_correction": {"reason": "经营场所证明不清晰"}}}),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    if let Some(spec) = &spec {
        conforms(
            spec,
            &response_schema(spec, "/tasks/{taskId}/complete", "post", "200"),
            &done,
            "completed",
        );
    }
    assert_eq!(done["status"]["code"], "SENDBACK");
    let (status, _) = complete(task.clone(), json!({"data": {"accept": {}}})).await;
    assert_eq!(status, 404, "that task is gone");
    let (status, _) = complete(
        format!("{file}.submitted.99"),
        json!({"data": {"accept": {}}}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = complete("no-such-task".into(), json!({"data": {"accept": {}}})).await;
    assert_eq!(status, 404);
}

/// Documents as the specification describes them: the multipart field `file`, raw or base64
/// text, one part per document; a body that is not multipart, or one without a file, is a 400
/// problem, never a page.
#[tokio::test]
async fn documents_are_taken_raw_or_as_base64() {
    use base64::Engine as _;
    let app = spawn_app().await;
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let client = app.govstack_client().await;
    let upload = |form: reqwest::multipart::Form| {
        let (app, citizen, client) = (&app, citizen.clone(), client.clone());
        async move {
            let response = app
                .client
                .post(app.url(&format!("{PREFIX}/documents?additionalMetadata=lease")))
                .bearer_auth(&citizen)
                .header("Information-Mediator-Client", client)
                .multipart(form)
                .send()
                .await
                .expect("upload");
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(PNG);
    let (status, one) = upload(reqwest::multipart::Form::new().text("file", encoded.clone())).await;
    assert_eq!(status, 200, "{one}");
    if let Some(spec) = spec() {
        conforms(
            &spec,
            &response_schema(&spec, "/documents", "post", "200"),
            &one,
            "upload",
        );
    }
    let (status, two) = upload(
        reqwest::multipart::Form::new().text("file", encoded).part(
            "file",
            reqwest::multipart::Part::bytes(PNG.to_vec())
                .file_name("b.png")
                .mime_str("image/png")
                .expect("mime"),
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        two["message"]
            .as_str()
            .expect("message")
            .contains("2 documents"),
        "{two}"
    );
    let (status, _) = upload(reqwest::multipart::Form::new().text("other", "x")).await;
    assert_eq!(status, 400);

    // The base64 document, once part of an application, is the file it encoded.
    let url = one["url"].as_str().expect("url").to_owned();
    let (_, found) = get(&app, &citizen, "/services?name=%E4%B8%AA%E4%BD%93%E6%88%B7").await;
    let service = found[0]["id"].as_str().expect("id").to_owned();
    let (status, file) = call(
        &app,
        &citizen,
        reqwest::Method::POST,
        &format!("/services/{service}/applications"),
        Some(json!({
            "applicantId": app.account_id_of("citizen.zhangwei").await,
            "formData": {"data": {"phone": "13800000000", "name": "张伟小吃店", "place": "临江市江北区解放路12号", "business_scope": ["小吃服务"]}},
            "documentUrls": [url],
        })),
    )
    .await;
    assert_eq!(status, 200, "{file}");
    let id = file["fileId"].as_str().expect("file");
    let detail: Value = app
        .get_as(&citizen, &format!("/api/v1/applications/{id}"))
        .await
        .json()
        .await
        .expect("json");
    let material = detail["materials"]
        .as_array()
        .expect("materials")
        .iter()
        .find(|m| m["source"] == "upload")
        .expect("the uploaded material");
    let bytes = app
        .get_as(
            &citizen,
            &format!(
                "/api/v1/applications/{id}/materials/{}",
                material["id"].as_str().expect("id")
            ),
        )
        .await
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(bytes.as_ref(), PNG);

    // A body that is not multipart, and a broken boundary: problem+json.
    for (content_type, body) in [
        (
            "multipart/form-data; boundary=XYZ",
            "--ABC\r\nnot a part\r\n--ABC--\r\n",
        ),
        ("multipart/form-data", "no boundary"),
        ("application/json", "{}"),
    ] {
        let response = app
            .client
            .post(app.url(&format!("{PREFIX}/documents")))
            .bearer_auth(&citizen)
            .header("Information-Mediator-Client", app.govstack_client().await)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 400, "{content_type}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{content_type}"
        );
    }
}

/// The operator's `PUT` amends the file's form data while the department handles it, as the
/// specification defines it; the history shows it to the applicant. An unknown file is 404
/// whatever the body; an applicant cannot; after the decision it is 409.
#[tokio::test]
async fn the_operator_amends_a_file_before_the_decision() {
    let app = spawn_app().await;
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let (_, file) = submit_registration(&app, "citizen.zhangwei", "张伟小吃店").await;
    let put = |token: String, id: String, body: Value| {
        let app = &app;
        async move {
            call(
                app,
                &token,
                reqwest::Method::PUT,
                &format!("/applications/{id}"),
                Some(body),
            )
            .await
        }
    };
    let amendment = json!({
        "applicantId": app.account_id_of("citizen.zhangwei").await,
        "formData": {"data": {"name": {"value": "临江市张伟小吃店"}}},
    });
    let (status, _) = put(
        clerk.clone(),
        "no-such-file".into(),
        json!("not even a file"),
    )
    .await;
    assert_eq!(status, 404, "unknown before anything else");
    let (status, _) = put(citizen.clone(), file.clone(), amendment.clone()).await;
    assert_eq!(status, 403, "not the applicant");
    let (status, _) = put(
        clerk.clone(),
        file.clone(),
        json!({"formData": {"data": {"colour": "red"}}}),
    )
    .await;
    assert_eq!(status, 400, "a field the form does not have");
    let (status, _) = put(
        clerk.clone(),
        file.clone(),
        json!({"formData": {"data": {"name": {"value": ""}}}}),
    )
    .await;
    assert_eq!(status, 400, "checked as the applicant's form is");
    let (status, updated) = put(clerk.clone(), file.clone(), amendment.clone()).await;
    assert_eq!(status, 200, "{updated}");
    if let Some(spec) = spec() {
        conforms(
            &spec,
            &response_schema(&spec, "/applications/{fileId}", "put", "200"),
            &updated,
            "updated",
        );
    }
    let (_, read) = get(&app, &citizen, &format!("/applications/{file}")).await;
    assert_eq!(
        read["applicationData"]["formData"]["data"]["name"]["value"],
        "临江市张伟小吃店"
    );
    // The applicant sees who changed what on their page.
    let mut browser = app.page_login(app.account("citizen.zhangwei")).await;
    let page = browser
        .get(&app, &format!("/applications/{file}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("承办部门修改申请信息") && page.contains("name"),
        "{page}"
    );
    // After the decision: no more amendments.
    for action in ["accept", "pass", "approve"] {
        let (_, tasks) = get(&app, &clerk, &format!("/tasks?fileId={file}")).await;
        let task = tasks[0]["taskId"].as_str().expect("task").to_owned();
        let (status, _) = call(
            &app,
            &clerk,
            reqwest::Method::POST,
            &format!("/tasks/{task}/complete"),
            Some(json!({"data": {action: {}}})),
        )
        .await;
        assert_eq!(status, 200);
    }
    let (status, _) = put(clerk, file, amendment).await;
    assert_eq!(status, 409);
}

/// Statistics answer the specification's shape — an array of figures, each with what was
/// asked — and honour its filters; a filter naming nothing here is 404, a malformed one 400.
#[tokio::test]
async fn statistics_answer_the_specifications_array_with_its_filters() {
    let app = spawn_app().await;
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let (_, file) = submit_registration(&app, "citizen.zhangwei", "张伟小吃店").await;
    let (_, tasks) = get(&app, &clerk, &format!("/tasks?fileId={file}")).await;
    let task = tasks[0]["taskId"].as_str().expect("task").to_owned();
    let (status, _) = call(
        &app,
        &clerk,
        reqwest::Method::POST,
        &format!("/tasks/{task}/complete"),
        Some(json!({"data": {"reject": {"reason": "不属于本部门"}}})),
    )
    .await;
    assert_eq!(status, 200);
    let today = tongban_core::zone::ymd(
        app.state
            .zone()
            .date_of(tongban_core::Clock::now_millis(&*app.clock)),
    );

    let (status, all) = get(&app, &clerk, "/data/statistics").await;
    assert_eq!(status, 200);
    assert_eq!(all[0]["rejected"], 1);
    assert_eq!(all[0]["processed"], 1);
    let name = "%E4%B8%AA%E4%BD%93%E5%B7%A5%E5%95%86%E6%88%B7%E6%B3%A8%E5%86%8C%E7%99%BB%E8%AE%B0";
    let (status, by_day) = get(
        &app,
        &clerk,
        &format!("/data/statistics?startDate={today}&endDate={today}&registrationName={name}&timeframe=day&role=clerk"),
    )
    .await;
    assert_eq!(status, 200, "{by_day}");
    assert_eq!(by_day.as_array().expect("array").len(), 1);
    assert_eq!(by_day[0]["rejected"], 1);
    assert_eq!(by_day[0]["references"]["timeframeDay"], true);
    assert_eq!(by_day[0]["references"]["period"], today.as_str());
    let (_, earlier) = get(&app, &clerk, "/data/statistics?endDate=2020-01-01").await;
    assert_eq!(earlier[0]["processed"], 0, "{earlier}");
    for (query, want) in [
        ("registrationName=no%20such%20service", 404),
        ("operator=Nobody%20Here", 404),
        ("role=wizard", 404),
        ("startDate=yesterday", 400),
        ("startDate=2026-12-05&endDate=2026-12-01", 400),
        ("timeframe=fortnight", 400),
    ] {
        let (status, problem) = get(&app, &clerk, &format!("/data/statistics?{query}")).await;
        assert_eq!(status, want, "{query}: {problem}");
    }
    if let Some(dir) = tongban_harness::conformance::vectors_dir() {
        let stats: Value = serde_json::from_str(
            &std::fs::read_to_string(
                dir.join("govstack/registration/api/GovStack_Registration_BB_API_statistics.json"),
            )
            .expect("statistics spec"),
        )
        .expect("json");
        conforms(
            &stats,
            &response_schema(&stats, "/data/statistics", "get", "200"),
            &by_day,
            "statistics",
        );
    }
}
