//! 办件: a citizen applies once with the form prefilled, certificates pulled from the library
//! (免证办) and one upload; the department's clerks move it through the workflow, two at once
//! cannot both act, roles and states gate every action; approval puts the licence in the
//! citizen's wallet; bad forms, uploads and actions change nothing.

use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app, spawn_app_with};

const ITEM: &str = "339900-SJ-0001";
const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];

async fn upload(app: &TestApp, token: &str, bytes: &[u8]) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .expect("upload")
}

fn form() -> Value {
    json!({
        "phone": "13800000000",
        "name": "临江市张伟小吃店",
        "place": "临江市江北区解放路12号",
        "business_scope": "小吃服务、预包装食品销售",
        "capital": "5",
    })
}

async fn apply(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post_as(
        token,
        &format!("/api/v1/services/{ITEM}/applications"),
        &body,
    )
    .await
}

async fn act(app: &TestApp, token: &str, id: &str, body: Value) -> (u16, Value) {
    let response = app
        .post_as(token, &format!("/api/v1/applications/{id}/actions"), &body)
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_citizen_applies_without_paper_and_the_licence_reaches_the_wallet() {
    let app = spawn_app().await;
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let other_clerk = app.account("demo.clerk.tax").api_token.clone();

    // The form knows who is applying.
    let fields: Value = app
        .get_as(&citizen, &format!("/api/v1/services/{ITEM}/form"))
        .await
        .json()
        .await
        .expect("json");
    let operator = fields
        .as_array()
        .and_then(|f| f.iter().find(|f| f["field"]["code"] == "operator"))
        .expect("operator field");
    assert_eq!(operator["value"], "张伟");

    let upload_id = upload(&app, &citizen, PNG)
        .await
        .json::<Value>()
        .await
        .expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let response = apply(
        &app,
        &citizen,
        json!({"form": form(), "uploads": {"经营场所使用证明": upload_id}, "use_certificates": true}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let submitted: Value = response.json().await.expect("json");
    assert_eq!(submitted["state"], "submitted");
    assert!(submitted["days_left"].as_i64().expect("days") >= 0);
    let id = submitted["id"].as_str().expect("id").to_owned();
    // The identity card and household register came from the library, as the citizen agreed.
    let uses: Value = app
        .get_as(&citizen, "/api/v1/me/cert-uses")
        .await
        .json()
        .await
        .expect("json");
    let released: Vec<&Value> = uses
        .as_array()
        .expect("list")
        .iter()
        .filter(|u| u["outcome"] == "released")
        .collect();
    assert_eq!(released.len(), 2, "{uses}");

    // The clerk's queue has it; the detail shows the form, three materials, the actions.
    let queue: Value = app
        .get_as(&clerk, "/api/v1/applications/queue")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        queue
            .as_array()
            .expect("list")
            .iter()
            .any(|a| a["id"] == id.as_str())
    );
    let detail: Value = app
        .get_as(&clerk, &format!("/api/v1/applications/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(detail["materials"].as_array().expect("materials").len(), 3);
    assert_eq!(
        detail["actions"],
        json!(["accept", "reject", "request_correction"])
    );
    assert!(detail["form"].to_string().contains("临江市张伟小吃店"));
    assert_eq!(
        app.get_as(&other_clerk, &format!("/api/v1/applications/{id}"))
            .await
            .status(),
        404,
        "another department's clerk"
    );

    // Roles, states and versions gate every action.
    assert_eq!(
        act(
            &app,
            &citizen,
            &id,
            json!({"action": "accept", "version": 1})
        )
        .await
        .0,
        403
    );
    assert_eq!(
        act(
            &app,
            &clerk,
            &id,
            json!({"action": "approve", "version": 1})
        )
        .await
        .0,
        409
    );
    assert_eq!(
        act(&app, &clerk, &id, json!({"action": "reject", "version": 1}))
            .await
            .0,
        422
    );
    assert_eq!(
        act(&app, &clerk, &id, json!({"action": "accept", "version": 1}))
            .await
            .0,
        200
    );
    // Two clerks pass the review at once: one wins, the other is told to reload.
    let (first, second) = tokio::join!(
        act(&app, &clerk, &id, json!({"action": "pass", "version": 2})),
        act(&app, &clerk, &id, json!({"action": "pass", "version": 2})),
    );
    let mut outcomes = [first.0, second.0];
    outcomes.sort_unstable();
    assert_eq!(outcomes, [200, 409]);
    let (status, approved) = act(
        &app,
        &clerk,
        &id,
        json!({"action": "approve", "version": 3}),
    )
    .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["state"], "deliver");
    let certificate = approved["result_certificate"]
        .as_str()
        .expect("a result")
        .to_owned();
    assert_eq!(
        act(
            &app,
            &clerk,
            &id,
            json!({"action": "deliver", "version": 4})
        )
        .await
        .0,
        200
    );

    // The licence is in the citizen's wallet, with the form's values.
    let item: Value = app
        .get_as(&citizen, &format!("/api/v1/wallet/{certificate}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        item["signed"]["certificate"]["type_name"],
        "个体工商户营业执照"
    );
    assert_eq!(
        item["signed"]["certificate"]["items"]["name"],
        "临江市张伟小吃店"
    );
    assert_eq!(item["signed"]["certificate"]["items"]["operator"], "张伟");
    // A notice at every step; the history names each.
    let notices: Value = app
        .get_as(&citizen, "/api/v1/me/notices")
        .await
        .json()
        .await
        .expect("json");
    let states: Vec<&str> = notices
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|n| n["state"].as_str())
        .collect();
    assert_eq!(
        states,
        ["delivered", "deliver", "decide", "review", "submitted"]
    );
    let mine: Value = app
        .get_as(&citizen, "/api/v1/applications")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(mine[0]["state"], "delivered");
    assert!(mine[0]["days_left"].is_null(), "finished: no countdown");

    // Materials download as attachments only, to the parties only.
    let material = detail["materials"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["source"] == "upload"))
        .and_then(|m| m["id"].as_str())
        .expect("upload material");
    let download = app
        .get_as(
            &citizen,
            &format!("/api/v1/applications/{id}/materials/{material}"),
        )
        .await;
    assert_eq!(download.status(), 200);
    assert_eq!(
        download.headers()["content-type"],
        "application/octet-stream"
    );
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .expect("text")
            .starts_with("attachment")
    );
    assert_eq!(download.bytes().await.expect("bytes").as_ref(), PNG);
    // The clerk's download of the person's document is in the person's access record.
    let application_reads = || async {
        app.get_as(&citizen, "/api/v1/me/access-log")
            .await
            .json::<Value>()
            .await
            .expect("json")
            .as_array()
            .expect("list")
            .iter()
            .filter(|a| a["categories"] == "application")
            .count()
    };
    let before = application_reads().await;
    let by_clerk = app
        .get_as(
            &clerk,
            &format!("/api/v1/applications/{id}/materials/{material}"),
        )
        .await;
    assert_eq!(by_clerk.status(), 200);
    assert_eq!(by_clerk.bytes().await.expect("bytes").as_ref(), PNG);
    assert_eq!(application_reads().await, before + 1);
    let stranger = app.account("citizen.lina").api_token.clone();
    assert_eq!(
        app.get_as(
            &stranger,
            &format!("/api/v1/applications/{id}/materials/{material}")
        )
        .await
        .status(),
        404
    );
}

#[tokio::test]
async fn bad_applications_and_uploads_change_nothing() {
    let app = spawn_app_with(|config| config.max_upload_bytes = 1024).await;
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let big = [PNG, &[0u8; 2000][..]].concat();
    assert_eq!(upload(&app, &citizen, &big).await.status(), 413);
    assert_eq!(
        upload(&app, &citizen, b"<html>not a document</html>")
            .await
            .status(),
        415
    );
    assert_eq!(app.count("uploads").await, 0);
    let good = upload(&app, &citizen, PNG)
        .await
        .json::<Value>()
        .await
        .expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let uploads = json!({"经营场所使用证明": good});
    let mut missing = form();
    missing.as_object_mut().expect("object").remove("place");
    let mut wrong = form();
    wrong["capital"] = json!("五万");
    let mut unknown = form();
    unknown["colour"] = json!("red");
    let cases = [
        (
            json!({"form": missing, "uploads": uploads, "use_certificates": true}),
            422,
            "form",
        ),
        (
            json!({"form": wrong, "uploads": uploads, "use_certificates": true}),
            422,
            "form",
        ),
        (
            json!({"form": unknown, "uploads": uploads, "use_certificates": true}),
            422,
            "form",
        ),
        (
            json!({"form": form(), "uploads": uploads}),
            422,
            "use_certificates",
        ),
        (
            json!({"form": form(), "use_certificates": true}),
            422,
            "uploads",
        ),
        (
            json!({"form": form(), "uploads": {"经营场所使用证明": "no-such-upload"}, "use_certificates": true}),
            422,
            "uploads",
        ),
    ];
    for (body, want, field) in cases {
        let (status, problem_body) = problem(apply(&app, &citizen, body).await).await;
        assert_eq!(
            (status, problem_body["field"].as_str()),
            (want, Some(field)),
            "{problem_body}"
        );
    }
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let (status, _) = problem(apply(&app, &clerk, json!({"form": form()})).await).await;
    assert_eq!(status, 403, "staff do not apply");
    assert_eq!(app.count("applications").await, 0);
    assert_eq!(
        app.count("cert_uses").await,
        0,
        "no certificate was obtained"
    );
}

#[tokio::test]
async fn correction_resubmission_and_withdrawal() {
    let app = spawn_app().await;
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let id = submitted(&app).await;
    let (status, sent_back) = act(
        &app,
        &clerk,
        &id,
        json!({"action": "request_correction", "version": 1, "reason": "经营场所地址不完整，请补充门牌号"}),
    )
    .await;
    assert_eq!(
        (status, sent_back["state"].as_str()),
        (200, Some("correction"))
    );
    let mut corrected = form();
    corrected["place"] = json!("临江市江北区解放路12号101室");
    let (status, again) = act(
        &app,
        &citizen,
        &id,
        json!({"action": "resubmit", "version": 2, "form": corrected}),
    )
    .await;
    assert_eq!((status, again["state"].as_str()), (200, Some("submitted")));
    let detail: Value = app
        .get_as(&citizen, &format!("/api/v1/applications/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert!(detail["form"].to_string().contains("101室"));
    assert!(detail["history"].to_string().contains("请补充门牌号"));
    let (status, withdrawn) = act(
        &app,
        &citizen,
        &id,
        json!({"action": "withdraw", "version": 3}),
    )
    .await;
    assert_eq!(
        (status, withdrawn["state"].as_str()),
        (200, Some("withdrawn"))
    );
    assert_eq!(
        act(&app, &clerk, &id, json!({"action": "accept", "version": 4}))
            .await
            .0,
        409
    );
}

/// Applies as 张伟 and takes the application through to delivery; returns its id.
async fn delivered(app: &TestApp) -> String {
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let id = submitted(app).await;
    for (version, action) in [(1, "accept"), (2, "pass"), (3, "approve")] {
        assert_eq!(
            act(
                app,
                &clerk,
                &id,
                json!({"action": action, "version": version})
            )
            .await
            .0,
            200
        );
    }
    id
}

#[tokio::test]
async fn a_poor_rating_opens_a_rectification_closed_only_by_a_reply() {
    let app = spawn_app().await;
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let id = delivered(&app).await;
    let rate = |token: String, body: Value| {
        let (app, id) = (&app, id.clone());
        async move {
            let response = app
                .post_as(
                    &token,
                    &format!("/api/v1/applications/{id}/evaluation"),
                    &body,
                )
                .await;
            let status = response.status().as_u16();
            if status >= 400 {
                assert_eq!(problem(response).await.0, status, "a problem document");
            }
            status
        }
    };
    let poor = json!({"grade": "dissatisfied", "indicators": {"efficiency": "very_dissatisfied"}, "comment": "等了很久才送达"});
    assert_eq!(
        rate(citizen.clone(), poor.clone()).await,
        409,
        "not yet delivered"
    );
    assert_eq!(
        act(
            &app,
            &clerk,
            &id,
            json!({"action": "deliver", "version": 4})
        )
        .await
        .0,
        200
    );
    let stranger = app.account("citizen.lina").api_token.clone();
    assert_eq!(rate(stranger, poor.clone()).await, 404, "not the rater's");
    assert_eq!(
        rate(
            citizen.clone(),
            json!({"grade": "satisfied", "indicators": {"speed": "fair"}})
        )
        .await,
        422
    );
    assert_eq!(rate(citizen.clone(), json!({"grade": "great"})).await, 422);
    assert_eq!(rate(citizen.clone(), poor.clone()).await, 201);
    assert_eq!(rate(citizen.clone(), poor.clone()).await, 409, "once");

    // The department has fifteen working days to answer.
    let tasks: Value = app
        .get_as(&clerk, "/api/v1/rectifications")
        .await
        .json()
        .await
        .expect("json");
    let task = &tasks.as_array().expect("list")[0];
    assert_eq!(task["state"], "open");
    assert_eq!(task["comment"], "等了很久才送达");
    assert_eq!(task["grade"], 2);
    let today = tongban_core::zone::ymd(app.state.today());
    assert!(task["due_day"].as_str().expect("day") > today.as_str());
    let task_id = task["id"].as_str().expect("id").to_owned();
    let reply = |body: Value| {
        let (app, clerk, task_id) = (&app, clerk.clone(), task_id.clone());
        async move {
            app.post_as(
                &clerk,
                &format!("/api/v1/rectifications/{task_id}/reply"),
                &body,
            )
            .await
            .status()
            .as_u16()
        }
    };
    assert_eq!(reply(json!({"reply": " "})).await, 422);
    assert_eq!(
        reply(json!({"reply": "已优化送达流程，今后当日送达。"})).await,
        204
    );
    assert_eq!(reply(json!({"reply": "再次答复"})).await, 409);
    let detail: Value = app
        .get_as(&citizen, &format!("/api/v1/applications/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        detail["evaluation"]["reply"],
        "已优化送达流程，今后当日送达。"
    );
    assert_eq!(detail["evaluation"]["rectification"], "closed");
    let notices: Value = app
        .get_as(&citizen, "/api/v1/me/notices")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(notices[0]["state"], "rectified");

    // The department's record.
    let department =
        tongban_app::identity::store::account_by_username(app.state.pool(), "demo.clerk.market")
            .await
            .expect("read")
            .and_then(|a| a.department_id)
            .expect("department");
    let stats: Value = app
        .get_as(
            &citizen,
            &format!("/api/v1/departments/{department}/statistics"),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(stats["ratings"], 1);
    assert_eq!(stats["satisfaction"], 0.0);
    assert_eq!(stats["poor_ratings"], 1);
    assert_eq!(stats["delivered"], 1);
    assert_eq!(stats["on_time_rate"], 1.0);
    assert_eq!(stats["median_working_days"], 0);
    assert_eq!(stats["open_rectifications"], 0);
}

#[tokio::test]
async fn a_bundle_applies_once_and_fans_out_to_its_departments() {
    let app = spawn_app().await;
    let enterprise = app.account("enterprise.qingyuan").api_token.clone();
    let market = app.account("demo.clerk.market").api_token.clone();
    let tax = app.account("demo.clerk.tax").api_token.clone();
    let bundles: Value = crate::helpers::get_url(app.url("/api/v1/bundles"))
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert!(bundles.as_array().expect("list").len() >= 2);
    let mut uploads = serde_json::Map::new();
    for name in ["食品安全管理制度", "经营场所平面图", "经营情况申报表"] {
        let id = upload(&app, &enterprise, PNG)
            .await
            .json::<Value>()
            .await
            .expect("json")["id"]
            .clone();
        uploads.insert(name.to_owned(), id);
    }
    let form = json!({"main_format": "餐饮服务经营者", "scope": "热食类食品制售、冷食类食品制售", "monthly_turnover": "80000"});
    let path = "/api/v1/bundles/339900-YJS-0002/applications";
    // One missing material: nothing is made, at any department.
    let mut short = uploads.clone();
    short.remove("经营情况申报表");
    let (status, _) = problem(
        app.post_as(
            &enterprise,
            path,
            &json!({"form": form, "uploads": short, "use_certificates": true}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(app.count("applications").await, 0);
    assert_eq!(app.count("cert_uses").await, 0);

    let response = app
        .post_as(
            &enterprise,
            path,
            &json!({"form": form, "uploads": uploads, "use_certificates": true}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let bundle: Value = response.json().await.expect("json");
    assert_eq!(bundle["status"], "in_progress");
    let parts = bundle["applications"].as_array().expect("parts").clone();
    assert_eq!(parts.len(), 3);
    assert_eq!(
        app.count("uploads").await,
        0,
        "the uploads went into the applications"
    );
    // Each department sees its own part.
    let queue = |token: String| {
        let app = &app;
        async move {
            app.get_as(&token, "/api/v1/applications/queue")
                .await
                .json::<Value>()
                .await
                .expect("json")
                .as_array()
                .expect("list")
                .len()
        }
    };
    assert_eq!(queue(market.clone()).await, 1);
    assert_eq!(queue(tax.clone()).await, 2);
    // Every department finishes its part; the bundle is completed.
    for part in &parts {
        let id = part["id"].as_str().expect("id");
        let (token, actions): (&String, &[&str]) = match part["item_code"].as_str().expect("code") {
            "339900-SJ-0003" => (&market, &["accept", "pass", "pass", "approve", "deliver"]),
            "339900-SW-0001" => (&tax, &["accept", "approve", "deliver"]),
            _ => (&tax, &["accept", "pass", "approve", "deliver"]),
        };
        for (n, action) in actions.iter().enumerate() {
            let (status, body) = act(
                &app,
                token,
                id,
                json!({"action": action, "version": n as i64 + 1}),
            )
            .await;
            assert_eq!(status, 200, "{action}: {body}");
        }
    }
    let done: Value = app
        .get_as(
            &enterprise,
            &format!(
                "/api/v1/bundle-applications/{}",
                bundle["id"].as_str().expect("id")
            ),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(done["status"], "completed");
    // The food business licence came out of it, into the enterprise's wallet.
    let wallet: Value = app
        .get_as(&enterprise, "/api/v1/wallet")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        wallet
            .as_array()
            .expect("list")
            .iter()
            .any(|c| c["type_name"] == "食品经营许可证")
    );
    let stranger = app.account("enterprise.yunqi").api_token.clone();
    assert_eq!(
        app.get_as(
            &stranger,
            &format!(
                "/api/v1/bundle-applications/{}",
                bundle["id"].as_str().expect("id")
            )
        )
        .await
        .status(),
        404
    );
}

#[tokio::test]
async fn the_queue_warns_when_a_step_or_the_whole_application_runs_late() {
    let app = spawn_app().await;
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let id = submitted(&app).await;
    let queued = |token: String| {
        let (app, id) = (&app, id.clone());
        async move {
            let queue: Value = app
                .get_as(&token, "/api/v1/applications/queue")
                .await
                .json()
                .await
                .expect("json");
            queue
                .as_array()
                .expect("list")
                .iter()
                .find(|a| a["id"] == id.as_str())
                .cloned()
                .expect("queued")
        }
    };
    let fresh = queued(clerk.clone()).await;
    assert_eq!(
        (fresh["step_overdue"].clone(), fresh["overdue"].clone()),
        (json!(false), json!(false))
    );
    // Two weeks later: acceptance (one working day) and the promise (three) are both past.
    app.clock.advance(time::Duration::days(14));
    let late = queued(clerk.clone()).await;
    assert_eq!(
        (late["step_overdue"].clone(), late["overdue"].clone()),
        (json!(true), json!(true))
    );
    assert!(late["days_left"].as_i64().expect("days") < 0);
    // Accepting ends the late step; the application as a whole stays late.
    assert_eq!(
        act(&app, &clerk, &id, json!({"action": "accept", "version": 1}))
            .await
            .0,
        200
    );
    let accepted = queued(clerk).await;
    assert_eq!(
        (
            accepted["step_overdue"].clone(),
            accepted["overdue"].clone()
        ),
        (json!(false), json!(true))
    );
}

/// A PNG uploaded by the account of `token`; its id.
async fn uploaded(app: &TestApp, token: &str) -> String {
    upload(app, token, PNG)
        .await
        .json::<Value>()
        .await
        .expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// 张伟's application for the sole-proprietorship registration, submitted; its id.
pub(crate) async fn submitted(app: &TestApp) -> String {
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let upload_id = uploaded(app, &citizen).await;
    let body = json!({"form": form(), "uploads": {"经营场所使用证明": upload_id}, "use_certificates": true});
    let submitted: Value = apply(app, &citizen, body).await.json().await.expect("json");
    submitted["id"].as_str().expect("id").to_owned()
}

/// An approval stored when its certificate could not be (the database refused it after the
/// approval's transaction) keeps the certificate's draft; a minute later the job issues it
/// from that draft, records it as the result, and never issues it twice.
#[tokio::test]
async fn an_approval_cut_off_before_its_certificate_gets_it_later_and_once() {
    let app = spawn_app().await;
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let id = submitted(&app).await;
    for (action, version) in [("accept", 1), ("pass", 2)] {
        let (status, body) = act(
            &app,
            &clerk,
            &id,
            json!({"action": action, "version": version}),
        )
        .await;
        assert_eq!(status, 200, "{action}: {body}");
    }

    // The database refuses certificates from now on, as a full disk or a lost primary would
    // after the approval's commit.
    let pool = app.state.pool();
    let postgres = app.database_url.starts_with("postgres");
    let refuse: &[&str] = if postgres {
        &[
            "CREATE FUNCTION refuse_certificates() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_certificates BEFORE INSERT ON certificates FOR EACH ROW EXECUTE FUNCTION refuse_certificates()",
        ]
    } else {
        &[
            "CREATE TRIGGER refuse_certificates BEFORE INSERT ON certificates BEGIN SELECT RAISE(ABORT, 'refused'); END",
        ]
    };
    for sql in refuse {
        sqlx::query(sqlx::AssertSqlSafe(*sql))
            .execute(pool)
            .await
            .expect("trigger");
    }
    let certificates = app.count("certificates").await;
    let (status, body) = act(
        &app,
        &clerk,
        &id,
        json!({"action": "approve", "version": 3}),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    let detail: Value = app
        .get_as(&clerk, &format!("/api/v1/applications/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        detail["application"]["state"], "deliver",
        "the approval is stored"
    );
    assert!(
        detail["application"]["result_certificate"].is_null(),
        "{detail}"
    );
    assert_eq!(app.count("application_pending_results").await, 1);
    assert_eq!(app.count("certificates").await, certificates);

    sqlx::query("DROP TRIGGER refuse_certificates ON certificates")
        .execute(pool)
        .await
        .ok();
    sqlx::query("DROP TRIGGER IF EXISTS refuse_certificates")
        .execute(pool)
        .await
        .ok();
    // Within the minute the request itself may still be finishing it: the job waits.
    assert_eq!(
        tongban_app::applications::finish_cut_results(&app.state)
            .await
            .expect("job"),
        0
    );
    app.clock.advance(time::Duration::seconds(61));
    assert_eq!(
        tongban_app::applications::finish_cut_results(&app.state)
            .await
            .expect("job"),
        1
    );
    let detail: Value = app
        .get_as(&clerk, &format!("/api/v1/applications/{id}"))
        .await
        .json()
        .await
        .expect("json");
    let certificate = detail["application"]["result_certificate"]
        .as_str()
        .expect("the result, issued by the job")
        .to_owned();
    let item: Value = app
        .get_as(&citizen, &format!("/api/v1/wallet/{certificate}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        item["signed"]["certificate"]["type_name"],
        "个体工商户营业执照"
    );
    assert_eq!(
        item["signed"]["certificate"]["items"]["operator"], "张伟",
        "{item}"
    );
    assert_eq!(
        tongban_app::applications::finish_cut_results(&app.state)
            .await
            .expect("job"),
        0,
        "finished once"
    );
    assert_eq!(app.count("application_pending_results").await, 0);
    assert_eq!(app.count("certificates").await, certificates + 1);
}

/// An application sent again with its Idempotency-Key — a retry after an answer that was lost
/// — answers the application the first request made; the key with another request is refused;
/// two requests with one key at once make one application; a day later the key is forgotten.
#[tokio::test]
async fn a_retried_application_with_its_idempotency_key_is_made_once() {
    let app = spawn_app().await;
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let send = |key: &'static str, body: Value| {
        let (client, url, citizen) = (
            app.client.clone(),
            app.url(&format!("/api/v1/services/{ITEM}/applications")),
            citizen.clone(),
        );
        async move {
            let response = client
                .post(url)
                .bearer_auth(citizen)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .expect("send");
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let fresh_upload = || uploaded(&app, &citizen);
    let body = |upload: String| json!({"form": form(), "uploads": {"经营场所使用证明": upload}, "use_certificates": true});
    let before = app.count("applications").await;

    let first_body = body(fresh_upload().await);
    let (status, first) = send("retry-1", first_body.clone()).await;
    assert_eq!(status, 201, "{first}");
    // The upload was taken by the first: without the key the retry would be refused, and
    // an item without uploads would be applied for twice.
    let (status, again) = send("retry-1", first_body.clone()).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(app.count("applications").await, before + 1);

    // The key with another request.
    let mut other = first_body.clone();
    other["form"]["capital"] = json!("9");
    let (status, refused) = send("retry-1", other).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(app.count("applications").await, before + 1);

    // Two at once with one key: one application.
    let together = body(fresh_upload().await);
    let ((a, one), (b, two)) = tokio::join!(
        send("together", together.clone()),
        send("together", together.clone())
    );
    assert_eq!((a, b), (201, 201), "{one} {two}");
    assert_eq!(one["id"], two["id"]);
    assert_eq!(app.count("applications").await, before + 2);

    // A key that is not 1–255 visible ASCII characters.
    let (status, _) = send("two words", body(fresh_upload().await)).await;
    assert_eq!(status, 422);

    // A day later the key is forgotten: the same key makes a new application.
    app.clock.advance(time::Duration::days(2));
    tongban_app::applications::purge_unclaimed(&app.state, app.state.now() - 86_400_000)
        .await
        .expect("purge");
    assert_eq!(app.count("application_requests").await, 0);
    let (status, later) = send("retry-1", body(fresh_upload().await)).await;
    assert_eq!(status, 201, "{later}");
    assert_ne!(later["id"], first["id"]);
    assert_eq!(app.count("applications").await, before + 3);
}
