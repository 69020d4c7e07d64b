//! 一表通: who sees and approves forms, submissions checked and kept once, the OpenRosa
//! protocol for collectors' devices, and bad input answered without harm.

use serde_json::{Value, json};
use tongban_tables::xlsx::fixtures::workbook_of;

use crate::helpers::{TestApp, spawn_app};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn rows(table: &[&[&str]]) -> Vec<Vec<String>> {
    table
        .iter()
        .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
        .collect()
}

/// A small form: a household's head, the number of residents (1 to 20), a door photo.
fn visit_form(form_id: &str) -> Vec<u8> {
    let survey = rows(&[
        &[
            "type",
            "name",
            "label",
            "required",
            "constraint",
            "constraint_message",
        ],
        &["text", "household_head", "户主姓名", "yes", "", ""],
        &[
            "integer",
            "residents",
            "常住人数",
            "yes",
            ". >= 1 and . <= 20",
            "1至20人",
        ],
        &["image", "door_photo", "门牌照片", "", "", ""],
    ]);
    let settings = rows(&[
        &["form_title", "form_id", "version"],
        &["入户走访", form_id, "1"],
    ]);
    workbook_of(&[("survey", &survey), ("settings", &settings)])
}

fn instance(form_id: &str, id: &str, head: &str, residents: &str) -> String {
    format!(
        r#"<data id="{form_id}" version="1"><household_head>{head}</household_head><residents>{residents}</residents><door_photo/><meta><instanceID>{id}</instanceID></meta></data>"#
    )
}

async fn upload(
    app: &TestApp,
    token: &str,
    project: i64,
    body: Vec<u8>,
    publish: bool,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v1/projects/{project}/forms?publish={publish}")))
        .bearer_auth(token)
        .header("content-type", XLSX)
        .body(body)
        .send()
        .await
        .expect("request")
}

async fn submit_xml(
    app: &TestApp,
    token: &str,
    project: i64,
    form: &str,
    xml: String,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v1/projects/{project}/forms/{form}/submissions")))
        .bearer_auth(token)
        .header("content-type", "application/xml")
        .body(xml)
        .send()
        .await
        .expect("request")
}

async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn forms_are_approved_by_a_second_office_and_submissions_are_checked_and_kept_once() {
    let app = spawn_app().await;
    let designer = app.account("demo.deptadmin.market").api_token.clone();
    let colleague = app.account("demo.clerk.market").api_token.clone();
    let office = app.account("demo.deptadmin").api_token.clone();
    let tax = app.account("demo.clerk.tax").api_token.clone();
    let citizen = app.account("citizen.zhangwei").api_token.clone();

    // Projects are seen by their department and by the office, by no one else.
    let (status, projects) = json_of(app.get_as(&designer, "/v1/projects").await).await;
    assert_eq!((status, projects[0]["id"].as_i64()), (200, Some(1)));
    for outsider in [&tax, &citizen] {
        let (_, seen) = json_of(app.get_as(outsider, "/v1/projects").await).await;
        assert_eq!(seen, json!([]));
        assert_eq!(app.get_as(outsider, "/v1/projects/1").await.status(), 404);
    }
    assert_eq!(app.get_as(&office, "/v1/projects/1").await.status(), 200);
    let (status, body) = json_of(
        app.client
            .get(app.url("/v1/projects"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], json!(401.1));

    // An XLSForm with mistakes is refused with the sheet, row and column named.
    let broken = workbook_of(&[(
        "survey",
        &rows(&[&["type", "name", "label"], &["frobnicate", "q", "Q"]]),
    )]);
    let (status, body) = json_of(upload(&app, &designer, 1, broken, true).await).await;
    assert_eq!(status, 422);
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("sheet survey, row 2, column type"),
        "{message}"
    );
    // Not a spreadsheet at all; another department's project.
    let (status, _) = json_of(upload(&app, &designer, 1, b"PK junk".to_vec(), true).await).await;
    assert_eq!(status, 422);
    assert_eq!(
        upload(&app, &tax, 1, visit_form("visit"), true)
            .await
            .status(),
        404
    );

    // Uploaded and sent for approval: not open, so nothing can be submitted yet.
    let (status, form) = json_of(upload(&app, &designer, 1, visit_form("visit"), true).await).await;
    assert_eq!(
        (status, form["approval"].as_str(), form["state"].as_str()),
        (200, Some("pending"), Some("closed"))
    );
    let first = instance("visit", "uuid:visit-1", "刘秀英", "3");
    assert_eq!(
        submit_xml(&app, &designer, 1, "visit", first.clone())
            .await
            .status(),
        409
    );

    // Only the office decides: not the designer's department, and a return needs a reason.
    let decision = "/api/v1/collect/projects/1/forms/visit/decision";
    assert_eq!(
        app.post_as(&designer, decision, &json!({"approve": true}))
            .await
            .status(),
        403
    );
    assert_eq!(
        app.post_as(&colleague, decision, &json!({"approve": true}))
            .await
            .status(),
        403
    );
    assert_eq!(
        app.post_as(&office, decision, &json!({"approve": false}))
            .await
            .status(),
        422
    );
    let (status, decided) = json_of(
        app.post_as(&office, decision, &json!({"approve": true, "note": "同意"}))
            .await,
    )
    .await;
    assert_eq!((status, decided["state"].as_str()), (200, Some("approved")));
    assert_eq!(
        app.post_as(&office, decision, &json!({"approve": true}))
            .await
            .status(),
        409
    );
    // An approved form is never replaced by a new upload under the same id.
    assert_eq!(
        upload(&app, &designer, 1, visit_form("visit"), true)
            .await
            .status(),
        409
    );

    // Submissions: checked against the form, kept once per instanceID.
    let (status, made) =
        json_of(submit_xml(&app, &designer, 1, "visit", first.clone()).await).await;
    assert_eq!(
        (status, made["instanceId"].as_str()),
        (200, Some("uuid:visit-1"))
    );
    assert_eq!(
        submit_xml(&app, &designer, 1, "visit", first.clone())
            .await
            .status(),
        409
    );
    for (xml, wanted) in [
        (
            instance("visit", "uuid:visit-2", "刘秀英", "40"),
            "residents",
        ),
        (
            instance("visit", "uuid:visit-3", "", "2"),
            "an answer is required",
        ),
        (
            instance("other", "uuid:visit-4", "刘秀英", "2"),
            "for the form \"other\"",
        ),
        (
            "<data id=\"visit\"><unclosed>".to_owned(),
            "the XML cannot be read",
        ),
        (instance("visit", "", "刘秀英", "2"), "instanceID"),
    ] {
        let (status, body) = json_of(submit_xml(&app, &designer, 1, "visit", xml).await).await;
        assert_eq!(status, 422, "{body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(wanted), "{message} should name {wanted}");
    }
    let huge = instance("visit", "uuid:visit-5", &"长".repeat(1_000_000), "2");
    assert_eq!(
        submit_xml(&app, &designer, 1, "visit", huge).await.status(),
        413
    );
    let (_, listed) = json_of(
        app.get_as(&designer, "/v1/projects/1/forms/visit/submissions")
            .await,
    )
    .await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    // Another department reads none of it, not even through the OData table.
    assert_eq!(
        app.get_as(&tax, "/v1/projects/1/forms/visit/submissions")
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get_as(&office, "/v1/projects/1/forms/visit.svc/Submissions")
            .await
            .status(),
        403
    );
    let (status, table) = json_of(
        app.get_as(
            &designer,
            "/v1/projects/1/forms/visit.svc/Submissions?$count=true",
        )
        .await,
    )
    .await;
    assert_eq!((status, table["@odata.count"].as_i64()), (200, Some(1)));
    assert_eq!(table["value"][0]["residents"], json!(3));
    for bad in [
        "?$top=-1",
        "?$top=abc",
        "?$filter=residents gt 2",
        "?$skip=99999999999999999999",
    ] {
        let status = app
            .get_as(
                &designer,
                &format!("/v1/projects/1/forms/visit.svc/Submissions{bad}"),
            )
            .await
            .status()
            .as_u16();
        assert!((400..500).contains(&status), "{bad}: {status}");
    }
    // The instance is sealed at rest: the stored bytes do not hold the name.
    let sealed: Vec<u8> = sqlx::query_scalar(
        "SELECT xml_sealed FROM collect_submissions WHERE instance_id = 'uuid:visit-1'",
    )
    .fetch_one(app.state.pool())
    .await
    .expect("row");
    assert!(
        !sealed
            .windows("刘秀英".len())
            .any(|w| w == "刘秀英".as_bytes())
    );
    let (status, body) = json_of(
        app.get_as(
            &designer,
            "/v1/projects/1/forms/visit/submissions/uuid:visit-1.xml",
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn collectors_devices_speak_openrosa_with_their_app_user_token() {
    let app = spawn_app().await;
    let designer = app.account("demo.deptadmin.market").api_token.clone();
    let office = app.account("demo.deptadmin").api_token.clone();
    upload(&app, &designer, 1, visit_form("visit"), true).await;
    app.post_as(
        &office,
        "/api/v1/collect/projects/1/forms/visit/decision",
        &json!({"approve": true}),
    )
    .await;
    let (status, user) = json_of(
        app.post_as(
            &designer,
            "/v1/projects/1/app-users",
            &json!({"displayName": "城东社区 平板"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let key = user["token"].as_str().expect("a token").to_owned();
    // The office does not make devices for a department's project.
    assert_eq!(
        app.post_as(
            &office,
            "/v1/projects/1/app-users",
            &json!({"displayName": "x"})
        )
        .await
        .status(),
        403
    );

    let list = app
        .client
        .get(app.url(&format!("/v1/key/{key}/projects/1/formList")))
        .send()
        .await
        .expect("request");
    assert_eq!(
        list.headers()
            .get("x-openrosa-version")
            .and_then(|v| v.to_str().ok()),
        Some("1.0")
    );
    let list = list.text().await.expect("text");
    assert!(
        list.contains("<formID>visit</formID>")
            && list.contains("<formID>business_survey</formID>")
    );
    assert!(
        !list.contains("shop_recheck"),
        "a pending form is not listed: {list}"
    );
    for (path, status) in [
        (format!("/v1/key/{key}/projects/1/forms/visit.xml"), 200),
        (
            format!("/v1/key/{key}/projects/1/forms/shop_recheck.xml"),
            404,
        ),
        (format!("/v1/key/{key}/projects/2/formList"), 403),
        ("/v1/key/not-a-token/projects/1/formList".to_owned(), 401),
    ] {
        let got = app
            .client
            .get(app.url(&path))
            .send()
            .await
            .expect("request")
            .status();
        assert_eq!(got, status, "{path}");
    }

    let photo = vec![0x89, b'P', b'N', b'G', 1, 2, 3];
    let send = |xml: String, with_photo: bool| {
        let mut form = reqwest::multipart::Form::new().part(
            "xml_submission_file",
            reqwest::multipart::Part::bytes(xml.into_bytes()).file_name("submission.xml"),
        );
        if with_photo {
            form = form.part(
                "door.png",
                reqwest::multipart::Part::bytes(photo.clone()).file_name("door.png"),
            );
        }
        app.client
            .post(app.url(&format!("/v1/key/{key}/projects/1/submission")))
            .multipart(form)
            .send()
    };
    let xml = instance("visit", "uuid:device-1", "陈建国", "1")
        .replace("<door_photo/>", "<door_photo>door.png</door_photo>");
    let first = send(xml.clone(), true).await.expect("request");
    assert_eq!(first.status(), 201);
    assert!(
        first
            .text()
            .await
            .expect("text")
            .contains("OpenRosaResponse")
    );
    assert_eq!(
        send(xml.clone(), true).await.expect("request").status(),
        201
    );
    assert_eq!(
        send(xml.replace("陈建国", "陈建军"), true)
            .await
            .expect("request")
            .status(),
        409
    );
    // A file the instance does not name; an invalid answer; no instance at all.
    let stray = instance("visit", "uuid:device-2", "陈建国", "1");
    assert_eq!(send(stray, true).await.expect("request").status(), 422);
    let invalid = send(instance("visit", "uuid:device-3", "陈建国", "0"), false)
        .await
        .expect("request");
    assert_eq!(invalid.status(), 422);
    let text = invalid.text().await.expect("text");
    assert!(text.contains("1至20人"), "{text}");
    let empty = app
        .client
        .post(app.url(&format!("/v1/key/{key}/projects/1/submission")))
        .multipart(reqwest::multipart::Form::new().text("note", "x"))
        .send()
        .await
        .expect("request");
    assert_eq!(empty.status(), 422);
    let kept: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM collect_submissions WHERE xml_form_id = 'visit'")
            .fetch_one(app.state.pool())
            .await
            .expect("count");
    assert_eq!(kept, 1);
    let (_, files) = json_of(
        app.get_as(
            &designer,
            "/v1/projects/1/forms/visit/submissions/uuid:device-1/attachments",
        )
        .await,
    )
    .await;
    assert_eq!(files, json!([{"exists": true, "name": "door.png"}]));
}

#[tokio::test]
async fn the_overlap_report_names_what_is_already_collected() {
    let app = spawn_app().await;
    let office = app.account("demo.deptadmin").api_token.clone();
    let (status, queue) = json_of(app.get_as(&office, "/api/v1/collect/approvals").await).await;
    assert_eq!(status, 200);
    assert_eq!(queue[0]["xml_form_id"], json!("shop_recheck"));
    assert_eq!(
        app.get_as(
            &app.account("demo.clerk.market").api_token,
            "/api/v1/collect/approvals"
        )
        .await
        .status(),
        403
    );
    let (status, report) = json_of(
        app.get_as(
            &office,
            "/api/v1/collect/projects/1/forms/shop_recheck/overlap",
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["questions"].as_i64(), report["already"].as_i64()),
        (Some(6), Some(5))
    );
    let field = |name: &str| {
        report["fields"]
            .as_array()
            .and_then(|f| f.iter().find(|x| x["name"] == name))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        field("staff")["forms"],
        json!(["个体工商户经营情况摸底 (business_survey)"])
    );
    assert!(
        field("operator_id")["register"]
            .as_str()
            .unwrap_or_default()
            .contains("人口库")
    );
    assert_eq!(field("fire_check")["forms"], json!([]));
    assert_eq!(field("fire_check")["register"], Value::Null);

    // A district's government-services staff are not the city's office: they see no city
    // project, no city form waits for them, and they cannot decide one.
    let district = app.account("demo.clerk").api_token.clone();
    let (status, queue) = json_of(app.get_as(&district, "/api/v1/collect/approvals").await).await;
    assert_eq!((status, queue), (200, json!([])));
    assert_eq!(app.get_as(&district, "/v1/projects/1").await.status(), 404);
    let decision = "/api/v1/collect/projects/1/forms/shop_recheck/decision";
    assert_eq!(
        app.post_as(&district, decision, &json!({"approve": true}))
            .await
            .status(),
        403
    );

    // A department administrator opens a project for the department, as ODK Central's API
    // does; others cannot.
    let police = app.account("demo.deptadmin.police").api_token.clone();
    let (status, made) = json_of(
        app.post_as(&police, "/v1/projects", &json!({"name": "社区警务走访"}))
            .await,
    )
    .await;
    assert_eq!((status, made["name"].as_str()), (200, Some("社区警务走访")));
    let clerk = app.account("demo.clerk.market").api_token.clone();
    assert_eq!(
        app.post_as(&clerk, "/v1/projects", &json!({"name": "x"}))
            .await
            .status(),
        403
    );
    assert_eq!(
        app.post_as(&police, "/v1/projects", &json!({"name": ""}))
            .await
            .status(),
        422
    );
    let (_, seen) = json_of(
        app.get_as(
            &app.account("demo.deptadmin.market").api_token,
            "/v1/projects",
        )
        .await,
    )
    .await;
    assert_eq!(
        seen.as_array().map(Vec::len),
        Some(1),
        "the market bureau does not see the police's project"
    );
}

#[tokio::test]
async fn the_page_lets_the_office_send_a_form_back_and_its_designers_see_why() {
    let app = spawn_app().await;
    let mut office = app.page_login(app.account("demo.deptadmin")).await;
    let page = office
        .get(&app, "/collect")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("门店安全与经营复查") && page.contains("已有采集 5 / 6"),
        "the queue with its report"
    );
    let csrf = crate::helpers::hidden_csrf(&page);
    // Sending back needs a reason: the page says so and nothing changes.
    let refused = office
        .post_form(
            &app,
            "/collect/projects/1/forms/shop_recheck/decision",
            &[("csrf", &csrf), ("action", "return"), ("note", "")],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let done = office
        .post_form(
            &app,
            "/collect/projects/1/forms/shop_recheck/decision",
            &[
                ("csrf", &csrf),
                ("action", "return"),
                ("note", "店铺名称、经营者信息已在摸底表中，请复用"),
            ],
        )
        .await;
    assert_eq!(done.status(), 200);
    assert!(done.text().await.expect("html").contains("已退回"));

    let mut designer = app.page_login(app.account("demo.deptadmin.market")).await;
    let page = designer
        .get(&app, "/collect")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("请复用") && page.contains("提交审核"),
        "the note and the way to send it again"
    );
    // A designer without a form yet starts from the example, which reads as a valid form.
    assert!(page.contains("href=\"/collect/starter.xlsx\""));
    let starter = designer.get(&app, "/collect/starter.xlsx").await;
    assert_eq!(starter.status(), 200);
    let bytes = starter.bytes().await.expect("bytes");
    let form = tongban_xform::xlsform::read(&bytes, "starter").expect("the example is a form");
    assert_eq!(
        form.entity.map(|e| e.dataset),
        Some("households".to_owned())
    );
    let csrf = crate::helpers::hidden_csrf(&page);
    // A device for a community: its token is shown once, with the address for ODK Collect.
    let made = designer
        .post_form(
            &app,
            "/collect/projects/1/app-users",
            &[("csrf", &csrf), ("name", "滨江社区 平板2")],
        )
        .await
        .text()
        .await
        .expect("html");
    assert!(made.contains("/v1/key/") && made.contains("滨江社区 平板2"));
    // The device is withdrawn from the page (the last one in the list is the newest).
    let revoke = made
        .split("action=\"")
        .filter_map(|rest| rest.split('"').next())
        .filter(|action| action.ends_with("/revoke"))
        .last()
        .expect("a withdraw button")
        .to_owned();
    let withdrawn = designer
        .post_form(&app, &revoke, &[("csrf", &csrf)])
        .await
        .text()
        .await
        .expect("html");
    assert!(withdrawn.contains("设备已收回"), "{withdrawn}");
    assert!(
        !withdrawn.contains(&format!("action=\"{revoke}\"")),
        "no longer listed"
    );
    // An XLSForm uploaded from the page goes to the office; a broken one is refused readably.
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(visit_form("visit_page")).file_name("visit_page.xlsx"),
        );
    let sent = designer
        .post_multipart(&app, "/collect/projects/1/forms", form)
        .await;
    assert_eq!(sent.status(), 200);
    assert!(
        sent.text()
            .await
            .expect("html")
            .contains("已提交减负办审核")
    );
    let broken = workbook_of(&[(
        "survey",
        &rows(&[&["type", "name", "label"], &["frobnicate", "q", "Q"]]),
    )]);
    let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
        "file",
        reqwest::multipart::Part::bytes(broken).file_name("broken.xlsx"),
    );
    let refused = designer
        .post_multipart(&app, "/collect/projects/1/forms", form)
        .await;
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .text()
            .await
            .expect("html")
            .contains("sheet survey, row 2, column type")
    );

    // Another department's clerk sees no project.
    let mut tax = app.page_login(app.account("demo.clerk.tax")).await;
    let page = tax.get(&app, "/collect").await.text().await.expect("html");
    assert!(page.contains("没有您可以查看的采集项目") && !page.contains("个体工商户走访"));
}

/// The hidden fields of the fill page's form (csrf, instance, started, repeat counts).
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    crate::helpers::form_values(html, "/collect/device/forms/business_survey")
        .into_iter()
        .filter(|(name, _)| !name.starts_with('/') && name != "action")
        .collect()
}

async fn post_fill(
    browser: &mut crate::helpers::Browser,
    app: &TestApp,
    hidden: &[(String, String)],
    answers: &[(&str, &str)],
) -> reqwest::Response {
    let mut form: Vec<(&str, &str)> = hidden
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    form.extend_from_slice(answers);
    browser
        .post_form(app, "/collect/device/forms/business_survey", &form)
        .await
}

#[tokio::test]
async fn a_collector_fills_a_form_sent_to_their_unit_on_a_phone_without_scripts() {
    let app = spawn_app().await;
    let designer = app.account("demo.deptadmin.market").api_token.clone();

    // A device for a village: its unit must be a township or village of the project's region.
    for (unit, status) in [("339901", 422), ("339901009", 422), ("33990100100", 422)] {
        let made = app
            .post_as(
                &designer,
                "/v1/projects/1/app-users",
                &json!({"displayName": "x", "regionCode": unit}),
            )
            .await;
        assert_eq!(made.status(), status, "{unit}");
    }
    let (status, user) = json_of(
        app.post_as(
            &designer,
            "/v1/projects/1/app-users",
            &json!({"displayName": "桥头村 网格员", "regionCode": "339901001002"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, user["regionCode"].as_str()),
        (200, Some("339901001002"))
    );
    let token = user["token"].as_str().expect("token").to_owned();

    // Signing in on the phone with the device token; a wrong one is refused readably.
    let mut phone = crate::helpers::Browser::default();
    let page = phone
        .get(&app, "/collect/device")
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("name=\"token\""), "the sign-in form");
    let csrf = crate::helpers::hidden_csrf(&page);
    let wrong = phone
        .post_form(
            &app,
            "/collect/device/sign-in",
            &[("csrf", &csrf), ("token", "nope")],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().await.expect("html").contains("设备令牌无效"));
    let signed = phone
        .post_form(
            &app,
            "/collect/device/sign-in",
            &[("csrf", &csrf), ("token", &token)],
        )
        .await;
    assert_eq!(signed.status(), 303);

    // My forms: the survey sent to the village's subdistrict, with its due day.
    let mine = phone
        .get(&app, "/collect/device")
        .await
        .text()
        .await
        .expect("html");
    assert!(mine.contains("桥头村"), "the unit is named");
    assert!(mine.contains("href=\"/collect/device/forms/business_survey\""));
    assert!(mine.contains("截止"), "the due day");
    assert!(
        !mine.contains("shop_recheck"),
        "a form still waiting for the office is not listed"
    );

    // The blank form: the questions that apply only when the shop was affected are hidden.
    let blank = phone
        .get(&app, "/collect/device/forms/business_survey")
        .await
        .text()
        .await
        .expect("html");
    assert!(blank.contains("name=\"/data/shop_name\""));
    assert!(!blank.contains("name=\"/data/impacts\""));
    let hidden = hidden_fields(&blank);

    // Sent with mistakes: each is named beside its question, and nothing is stored.
    let before = app.count("collect_submissions").await;
    let wrong = post_fill(
        &mut phone,
        &app,
        &hidden,
        &[
            ("/data/shop_name", "桥头小卖部"),
            ("/data/operator_phone", "12345"),
            ("/data/staff", "0"),
            ("action", "send"),
        ],
    )
    .await;
    assert_eq!(wrong.status(), 200);
    let wrong = wrong.text().await.expect("html");
    assert!(
        wrong.contains("请填写11位手机号"),
        "the phone's constraint message"
    );
    assert!(
        wrong.contains("1至500人"),
        "the staff count's constraint message"
    );
    assert!(
        wrong.contains("请填写此项"),
        "a required question left empty"
    );
    assert!(wrong.contains("value=\"桥头小卖部\""), "answers are kept");
    assert_eq!(app.count("collect_submissions").await, before);
    // A page whose instance id was tampered with, or a question the form does not have:
    // refused readably, nothing stored.
    let forged: Vec<(String, String)> = hidden
        .iter()
        .map(|(k, v)| {
            let v = if k == "instance" {
                "uuid:not-one".to_owned()
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect();
    let refused = post_fill(&mut phone, &app, &forged, &[("action", "send")]).await;
    assert_eq!(refused.status(), 422);
    let unknown = post_fill(
        &mut phone,
        &app,
        &hidden,
        &[("action", "prefill:/data/nowhere")],
    )
    .await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(app.count("collect_submissions").await, before);

    // "Check" with the shop affected: the questions about it appear.
    let affected = post_fill(
        &mut phone,
        &app,
        &hidden,
        &[("/data/affected", "yes"), ("action", "check")],
    )
    .await
    .text()
    .await
    .expect("html");
    assert!(affected.contains("name=\"/data/impacts\""));

    // Sent right: stored for the village, and sent twice it is kept once.
    let answers = [
        ("/data/shop_name", "桥头小卖部"),
        ("/data/operator_name", "赵桥"),
        ("/data/operator_phone", "13900001234"),
        ("/data/industry", "retail"),
        ("/data/staff", "2"),
        ("/data/monthly_sales", "3.5"),
        ("/data/affected", "yes"),
        ("/data/impacts", "rent"),
        ("/data/impacts", "supply"),
        ("/data/visit_day", "2026-12-01"),
        ("action", "send"),
    ];
    for _ in 0..2 {
        let sent = post_fill(&mut phone, &app, &hidden, &answers).await;
        assert_eq!(sent.status(), 303);
        assert_eq!(
            sent.headers()["location"],
            "/collect/device?sent=business_survey"
        );
    }
    assert_eq!(app.count("collect_submissions").await, before + 1);
    let mine = phone
        .get(&app, "/collect/device?sent=business_survey")
        .await
        .text()
        .await
        .expect("html");
    assert!(mine.contains("已收到"), "{mine}");
    assert!(mine.contains("本单位已报 1"));

    // The department sees it under the subdistrict the village belongs to.
    let (status, progress) = json_of(
        app.get_as(
            &designer,
            "/api/v1/collect/projects/1/forms/business_survey/progress",
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let row = |code: &str| {
        progress
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["code"] == code))
            .map(|r| {
                (
                    r["name"].as_str().unwrap_or_default().to_owned(),
                    r["submissions"].as_i64(),
                )
            })
    };
    assert_eq!(row("339901001"), Some(("城东街道".into(), Some(25))));
    assert_eq!(row("339902001"), Some(("滨江街道".into(), Some(24))));
    // The village's answers are in the roll-up at once.
    let (_, villages) = json_of(
        app.get_as(
            &designer,
            "/api/v1/collect/projects/1/forms/business_survey/rollup?level=village",
        )
        .await,
    )
    .await;
    let village = villages["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["code"] == "339901001002"))
        .expect("the village's row");
    assert_eq!(village["submissions"], 1);
    let column = |field: &str, choice: Option<&str>, measure: &str| {
        villages["columns"]
            .as_array()
            .and_then(|c| {
                c.iter().position(|c| {
                    c["field"] == field && c["choice"].as_str() == choice && c["measure"] == measure
                })
            })
            .expect("the column")
    };
    assert_eq!(
        village["cells"][column("/data/industry", Some("retail"), "count")],
        1.0
    );
    assert_eq!(
        village["cells"][column("/data/impacts", Some("supply"), "count")],
        1.0
    );
    assert_eq!(village["cells"][column("/data/staff", None, "sum")], 2.0);
    let tax = app.account("demo.clerk.tax").api_token.clone();
    let progress = "/api/v1/collect/projects/1/forms/business_survey/progress";
    assert_eq!(app.get_as(&tax, progress).await.status(), 404);

    // Withdrawn, the device's token stops working at once: on the phone and in ODK Collect.
    let id = user["id"].as_i64().expect("id");
    let withdraw = format!("/v1/projects/1/app-users/{id}");
    let delete = |token: String| {
        let app = &app;
        let path = withdraw.clone();
        async move {
            let response = app
                .client
                .delete(app.url(&path))
                .bearer_auth(token)
                .send()
                .await;
            response.expect("request").status().as_u16()
        }
    };
    assert_eq!(
        delete(tax.clone()).await,
        404,
        "another department's device"
    );
    assert_eq!(delete(designer.clone()).await, 200);
    assert_eq!(delete(designer.clone()).await, 404, "withdrawn once");
    let page = phone
        .get(&app, "/collect/device")
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("name=\"token\""), "back to the sign-in form");
    let list = app
        .client
        .get(app.url(&format!("/v1/key/{token}/projects/1/formList")))
        .send()
        .await
        .expect("request");
    assert_eq!(list.status(), 401);

    // Signed out, the form is not reachable.
    let page = phone
        .get(&app, "/collect/device")
        .await
        .text()
        .await
        .expect("html");
    let csrf = crate::helpers::hidden_csrf(&page);
    let out = phone
        .post_form(&app, "/collect/device/sign-out", &[("csrf", &csrf)])
        .await;
    assert_eq!(out.status(), 303);
    let gone = phone
        .get(&app, "/collect/device/forms/business_survey")
        .await;
    assert_eq!(gone.status(), 303);
}

#[tokio::test]
async fn an_approved_forms_due_day_only_moves_later() {
    let app = spawn_app().await;
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let plan = "/api/v1/collect/projects/1/forms/business_survey/plan";
    let (_, forms) = json_of(
        app.get_as(
            &app.account("demo.deptadmin").api_token,
            "/api/v1/collect/approvals",
        )
        .await,
    )
    .await;
    assert_eq!(forms[0]["xml_form_id"], "shop_recheck");
    let put = |body: Value| {
        let app = &app;
        let clerk = clerk.clone();
        async move {
            let response = app
                .client
                .put(app.url(plan))
                .bearer_auth(&clerk)
                .json(&body)
                .send()
                .await
                .expect("request");
            json_of(response).await
        }
    };
    let target = json!(["339901001", "339902001"]);
    let later = "2099-01-31";
    let (status, moved) = put(json!({"target": target, "due": later})).await;
    assert_eq!((status, moved["due"].as_str()), (200, Some(later)));
    assert_eq!(moved["target"], target);
    // The plan, who made it and when, is in the transparency log.
    let last = last_log_entries(&app, 1).await.remove(0);
    assert!(
        last.contains("collect.form_planned") && last.contains(later),
        "{last}"
    );
    // Earlier, or sent elsewhere, once approved: refused, nothing changes.
    assert_eq!(
        put(json!({"target": target, "due": "2098-01-01"})).await.0,
        409
    );
    assert_eq!(
        put(json!({"target": ["339901001"], "due": later})).await.0,
        409
    );
    // Not a grassroots unit, not a day, a day gone: refused with the field named.
    let (status, problem) = put(json!({"target": ["339901"], "due": later})).await;
    assert_eq!((status, problem["field"].as_str()), (422, Some("target")));
    assert_eq!(
        put(json!({"target": target, "due": "31/01/2099"})).await.0,
        422
    );
    assert_eq!(
        put(json!({"target": target, "due": "2020-01-01"})).await.0,
        422
    );
    assert_eq!(put(json!({"whatever": 1})).await.0, 422);
    // The pending form's plan waits for the office.
    let pending = "/api/v1/collect/projects/1/forms/shop_recheck/plan";
    let response = app
        .client
        .put(app.url(pending))
        .bearer_auth(&clerk)
        .json(&json!({"due": later}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 409);
    // Another department cannot plan it at all.
    let tax = app.account("demo.clerk.tax").api_token.clone();
    let response = app
        .client
        .put(app.url(plan))
        .bearer_auth(&tax)
        .json(&json!({"due": later}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn results_roll_up_by_unit_with_small_counts_hidden_above_the_village() {
    let app = spawn_app().await;
    let staff = app.account("demo.clerk.market").api_token.clone();
    let office = app.account("demo.deptadmin").api_token.clone();
    let tax = app.account("demo.clerk.tax").api_token.clone();
    let base = "/api/v1/collect/projects/1/forms/business_survey/rollup";
    let k = app.state.config.statistics_k;

    // The village level, exact, is the project's staff's alone.
    let (status, villages) =
        json_of(app.get_as(&staff, &format!("{base}?level=village")).await).await;
    assert_eq!((status, villages["exact"].as_bool()), (200, Some(true)));
    let status = app
        .get_as(&office, &format!("{base}?level=village"))
        .await
        .status();
    assert_eq!(status, 403);
    assert_eq!(app.get_as(&tax, base).await.status(), 404);
    assert_eq!(
        app.get_as(&staff, &format!("{base}?level=planet"))
            .await
            .status(),
        422
    );

    // The township level, for the office too: each figure is the villages' exact sum, hidden
    // below k, rounded when shown.
    let (status, towns) =
        json_of(app.get_as(&office, &format!("{base}?level=township")).await).await;
    assert_eq!(
        (status, towns["exact"].as_bool(), towns["k"].as_i64()),
        (200, Some(false), Some(k))
    );
    let columns = towns["columns"].as_array().expect("columns").clone();
    assert_eq!(
        columns,
        villages["columns"].as_array().expect("columns").clone()
    );
    let staff_sum = columns
        .iter()
        .position(|c| c["field"] == "/data/staff" && c["measure"] == "sum")
        .expect("the sum of staff");
    let rows = |rollup: &Value| rollup["rows"].as_array().cloned().unwrap_or_default();
    let mut checked = 0;
    for town in rows(&towns) {
        let code = town["code"].as_str().expect("code").to_owned();
        assert!(
            ["339901001", "339902001"].contains(&code.as_str()),
            "{code}"
        );
        let within: Vec<Value> = rows(&villages)
            .into_iter()
            .filter(|v| v["code"].as_str().is_some_and(|c| c.starts_with(&code)))
            .collect();
        let exact = |column: usize| -> i64 {
            within
                .iter()
                .map(|v| v["cells"][column].as_f64().expect("exact") as i64)
                .sum()
        };
        let submitted: i64 = within
            .iter()
            .map(|v| v["submissions"].as_i64().expect("n"))
            .sum();
        assert_eq!(
            town["submissions"].as_i64(),
            Some(tongban_platform::figures::rounded(submitted, k))
        );
        for column in 0..columns.len() {
            if columns[column]["measure"] != "count" {
                continue;
            }
            let exact = exact(column);
            let shown = town["cells"][column].as_f64().map(|v| v as i64);
            if exact > 0 && exact < k {
                assert_eq!(shown, None, "{code} {} hidden", columns[column]["choice"]);
            }
            if let Some(shown) = shown {
                assert_eq!(shown, tongban_platform::figures::rounded(exact, k));
                checked += 1;
            }
        }
        assert_eq!(
            town["cells"][staff_sum].as_f64(),
            Some(exact(staff_sum) as f64)
        );
    }
    assert!(checked > 0, "some counts are shown");

    // Exports of the same table from the page: CSV for spreadsheets, and XLSX.
    let mut page = app.page_login(app.account("demo.clerk.market")).await;
    let html = page
        .get(
            &app,
            "/collect/projects/1/forms/business_survey/rollup?level=township",
        )
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("<svg"), "a chart of each choice question");
    assert!(html.contains("城东街道") && html.contains("滨江街道"));
    let csv = page
        .get(
            &app,
            "/collect/projects/1/forms/business_survey/rollup.csv?level=township",
        )
        .await;
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.expect("text");
    assert!(csv.starts_with('\u{feff}'), "a byte-order mark for Excel");
    assert_eq!(csv.lines().count(), 2 + rows(&towns).len());
    assert!(csv.contains("行业: 零售"));
    let xlsx = page
        .get(
            &app,
            "/collect/projects/1/forms/business_survey/rollup.xlsx?level=township",
        )
        .await
        .bytes()
        .await
        .expect("bytes");
    let table = tongban_tables::xlsx::parse(&xlsx).expect("a workbook");
    assert_eq!(
        table.rows.len(),
        1 + rows(&towns).len(),
        "the units and the total"
    );
}

#[tokio::test]
async fn a_persons_name_and_phone_arrive_prefilled_and_the_read_is_in_their_access_log() {
    let app = spawn_app().await;
    let civil = app.account("demo.clerk.civil").api_token.clone();
    let (status, projects) = json_of(app.get_as(&civil, "/v1/projects").await).await;
    assert_eq!(status, 200);
    let project = projects
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "独居老人关爱走访"))
        .and_then(|p| p["id"].as_i64())
        .expect("the civil-affairs project");
    let (status, user) = json_of(
        app.post_as(
            &civil,
            &format!("/v1/projects/{project}/app-users"),
            &json!({"displayName": "桥头村 平板", "regionCode": "339901001002"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let token = user["token"].as_str().expect("token").to_owned();

    let mut phone = crate::helpers::Browser::default();
    let page = phone
        .get(&app, "/collect/device")
        .await
        .text()
        .await
        .expect("html");
    let csrf = crate::helpers::hidden_csrf(&page);
    let signed = phone
        .post_form(
            &app,
            "/collect/device/sign-in",
            &[("csrf", &csrf), ("token", &token)],
        )
        .await;
    assert_eq!(signed.status(), 303);
    let mine = phone
        .get(&app, "/collect/device")
        .await
        .text()
        .await
        .expect("html");
    assert!(mine.contains("/collect/device/forms/elderly_visit"));
    assert!(!mine.contains("business_survey"), "another project's form");

    let path = "/collect/device/forms/elderly_visit";
    let blank = phone.get(&app, path).await.text().await.expect("html");
    assert!(
        blank.contains("value=\"prefill:/data/elder_id\""),
        "the look-up button"
    );
    let hidden: Vec<(String, String)> = crate::helpers::form_values(&blank, path)
        .into_iter()
        .filter(|(name, _)| !name.starts_with('/') && name != "action")
        .collect();
    let post = |answers: Vec<(&'static str, String)>| {
        let mut form: Vec<(String, String)> = hidden.clone();
        form.extend(answers.into_iter().map(|(k, v)| (k.to_owned(), v)));
        form
    };

    // Not an ID number: said beside the question, nothing read.
    let wrong = send(
        &mut phone,
        &app,
        path,
        post(vec![
            ("/data/elder_id", "12345".into()),
            ("action", "prefill:/data/elder_id".into()),
        ]),
    )
    .await
    .text()
    .await
    .expect("html");
    assert!(wrong.contains("号码格式不对"), "{wrong}");

    // A resident: the name, phone, address and district arrive, marked, editable.
    let zhangwei = app.account("citizen.zhangwei");
    let id_number = zhangwei.resident_id.clone().expect("an ID number");
    let before = app
        .get_as(&zhangwei.api_token, "/api/v1/me/access-log")
        .await;
    let before: Value = before.json().await.expect("json");
    let filled = send(
        &mut phone,
        &app,
        path,
        post(vec![
            ("/data/elder_id", id_number.clone()),
            ("action", "prefill:/data/elder_id".into()),
        ]),
    )
    .await
    .text()
    .await
    .expect("html");
    assert!(filled.contains("value=\"张伟\""), "the name");
    assert!(filled.contains("value=\"13800001001\""), "the phone");
    assert!(filled.contains("value=\"江北区\""), "the district");
    assert!(
        filled.contains("value=\"城东街道桥头村11号\""),
        "the address"
    );
    assert!(
        filled.contains("class=\"prefilled\""),
        "marked as prefilled"
    );
    assert!(
        filled.contains("name=\"prefilled:/data/elder_name\""),
        "the mark is kept"
    );

    // The read is in the person's own log: a collector, for the form.
    let after: Value = app
        .get_as(&zhangwei.api_token, "/api/v1/me/access-log")
        .await
        .json()
        .await
        .expect("json");
    let added = after.as_array().map_or(0, Vec::len) - before.as_array().map_or(0, Vec::len);
    assert_eq!(added, 1);
    assert_eq!(after[0]["purpose"], "form_prefill");
    assert_eq!(after[0]["actor_role"], "collector");

    // Someone the register does not hold: fill in by hand.
    let unknown = "110101199003070011";
    let none = send(
        &mut phone,
        &app,
        path,
        post(vec![
            ("/data/elder_id", unknown.into()),
            ("action", "prefill:/data/elder_id".into()),
        ]),
    )
    .await
    .text()
    .await
    .expect("html");
    assert!(none.contains("平台中没有找到"), "{none}");

    // The prefilled answers are sent like any other.
    let before = app.count("collect_submissions").await;
    let sent = send(
        &mut phone,
        &app,
        path,
        post(vec![
            ("/data/elder_id", id_number),
            ("/data/elder_name", "张伟".into()),
            ("/data/elder_phone", "13800001001".into()),
            ("/data/elder_district", "江北区".into()),
            ("/data/living", "alone".into()),
            ("/data/health", "good".into()),
            ("/data/needs", "meals".into()),
            ("/data/visits", "2".into()),
            ("/data/visit_day", "2026-12-01".into()),
            ("prefilled:/data/elder_name", "1".into()),
            ("action", "send".into()),
        ]),
    )
    .await;
    assert_eq!(sent.status(), 303);
    assert_eq!(app.count("collect_submissions").await, before + 1);
    // The visit keeps the person in the project's list of those cared for.
    let (_, cared) = json_of(
        app.get_as(
            &civil,
            &format!("/v1/projects/{project}/datasets/elders/entities"),
        )
        .await,
    )
    .await;
    let labels: Vec<&str> = cared
        .as_array()
        .expect("entities")
        .iter()
        .filter_map(|e| e["currentVersion"]["label"].as_str())
        .collect();
    assert!(labels.contains(&"张伟（江北区）"), "{labels:?}");
}

async fn send(
    browser: &mut crate::helpers::Browser,
    app: &TestApp,
    path: &str,
    pairs: Vec<(String, String)>,
) -> reqwest::Response {
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    browser.post_form(app, path, &borrowed).await
}

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    json_of(request.send().await.expect("request")).await
}

#[tokio::test]
async fn entity_lists_keep_what_was_collected_once_sealed_and_versioned() {
    use reqwest::Method;
    let app = spawn_app().await;
    let staff = app.account("demo.clerk.market").api_token.clone();
    let tax = app.account("demo.clerk.tax").api_token.clone();
    let lists = "/v1/projects/1/datasets";

    let (status, made) = call(
        &app,
        Method::POST,
        &staff,
        lists,
        Some(json!({"name": "shops"})),
    )
    .await;
    assert_eq!((status, made["name"].as_str()), (200, Some("shops")));
    assert_eq!(made["properties"], json!([]));
    let (status, _) = call(
        &app,
        Method::POST,
        &staff,
        lists,
        Some(json!({"name": "Shops"})),
    )
    .await;
    assert_eq!(status, 409, "one name in any capitalisation");
    let (status, _) = call(
        &app,
        Method::POST,
        &staff,
        lists,
        Some(json!({"name": "__x"})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        call(&app, Method::GET, &tax, lists, None).await.0,
        404,
        "another department"
    );

    let properties = "/v1/projects/1/datasets/shops/properties";
    for name in ["street", "owner"] {
        let (status, done) = call(
            &app,
            Method::POST,
            &staff,
            properties,
            Some(json!({"name": name})),
        )
        .await;
        assert_eq!((status, done["success"].as_bool()), (200, Some(true)));
    }
    let entities = "/v1/projects/1/datasets/shops/entities";
    let uuid = "0c3a7922-b611-42ca-a961-944e09fa9aa2";
    let (status, one) = call(
        &app,
        Method::POST,
        &staff,
        entities,
        Some(json!({"uuid": uuid, "label": "老王面馆", "data": {"street": "解放路 12 号", "owner": "王建国"}})),
    )
    .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["currentVersion"]["version"], 1);
    assert_eq!(one["currentVersion"]["data"]["owner"], "王建国");
    // Unknown properties, values that are not strings, a uuid taken: refused, nothing kept.
    let bad = [
        json!({"label": "x", "data": {"age": "3"}}),
        json!({"label": "x", "data": {"street": 3}}),
        json!({"label": "", "data": {}}),
        json!({"uuid": uuid, "label": "again", "data": {}}),
    ];
    for body in bad {
        let (status, _) = call(&app, Method::POST, &staff, entities, Some(body.clone())).await;
        assert!(status == 422 || status == 409, "{body} → {status}");
    }
    let (status, bulk) = call(
        &app,
        Method::POST,
        &staff,
        entities,
        Some(json!({"entities": [
            {"label": "惠民便利店", "data": {"street": "人民路 3 号"}},
            {"label": "顺发五金", "data": {"street": "人民路 5 号"}}
        ], "source": {"name": "shops.csv", "size": 2}})),
    )
    .await;
    assert_eq!((status, bulk["success"].as_bool()), (200, Some(true)));
    let (_, listed) = call(&app, Method::GET, &tax, entities, None).await;
    assert_eq!(listed["code"].as_f64().map(|c| c as i64), Some(404));
    let (status, listed) = call(&app, Method::GET, &staff, entities, None).await;
    assert_eq!((status, listed.as_array().map(Vec::len)), (200, Some(3)));

    // An update names the version it was based on; a stale one is refused.
    let one_path = format!("{entities}/{uuid}");
    let (status, updated) = call(
        &app,
        Method::PATCH,
        &staff,
        &format!("{one_path}?baseVersion=1"),
        Some(json!({"data": {"owner": "王秀英"}})),
    )
    .await;
    assert_eq!(
        (status, updated["currentVersion"]["version"].as_i64()),
        (200, Some(2))
    );
    assert_eq!(
        updated["currentVersion"]["data"]["street"], "解放路 12 号",
        "kept"
    );
    let (status, _) = call(
        &app,
        Method::PATCH,
        &staff,
        &format!("{one_path}?baseVersion=1"),
        Some(json!({"data": {"owner": "someone else"}})),
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = call(
        &app,
        Method::PATCH,
        &staff,
        &one_path,
        Some(json!({"label": "x"})),
    )
    .await;
    assert_eq!(status, 422, "neither a base version nor force");

    // The OData table, with the count.
    let (status, table) = call(
        &app,
        Method::GET,
        &staff,
        "/v1/projects/1/datasets/shops.svc/Entities?$count=true&$top=2",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(table["@odata.count"], 3);
    assert_eq!(table["value"].as_array().map(Vec::len), Some(2));
    let (_, whole) = call(
        &app,
        Method::GET,
        &staff,
        "/v1/projects/1/datasets/shops.svc/Entities",
        None,
    )
    .await;
    let row = whole["value"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["__id"] == uuid))
        .expect("the updated entity's row")
        .clone();
    assert_eq!(row["owner"], "王秀英");
    assert_eq!(row["__system"]["version"], 2);

    // Sealed at rest: the stored row holds neither the label nor a value.
    let sealed: Vec<u8> =
        sqlx::query_scalar("SELECT body_sealed FROM collect_entities WHERE uuid = $1")
            .bind(uuid)
            .fetch_one(app.state.pool())
            .await
            .expect("row");
    let text = String::from_utf8_lossy(&sealed);
    assert!(!text.contains("王秀英") && !text.contains("老王面馆"));

    // Deleted, it is gone from the list and the table.
    let (status, _) = call(&app, Method::DELETE, &staff, &one_path, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        call(&app, Method::GET, &staff, &one_path, None).await.0,
        404
    );
    let (_, listed) = call(&app, Method::GET, &staff, entities, None).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn forms_collected_are_counted_in_the_operations_view() {
    let app = crate::helpers::spawn_app_with(|config| config.statistics_k = 1).await;
    let sysadmin = app.account("demo.sysadmin").api_token.clone();
    let total = |view: &Value| {
        view["figures"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["key"] == "forms.submissions"))
            .map(|f| (f["group"].clone(), f["total"].as_i64()))
    };
    let read = || async {
        tongban_app::figures::flush(&app.state)
            .await
            .expect("flush");
        let (status, view) = json_of(
            app.get_as(&sysadmin, "/api/v1/ops/view?region=339900&period=day")
                .await,
        )
        .await;
        assert_eq!(status, 200);
        view
    };
    let before = total(&read().await).expect("the figure is declared");
    assert_eq!(before.0, "forms");
    let staff = app.account("demo.clerk.market").api_token.clone();
    let xml = r#"<data id="business_survey" version="2026110101"><shop_name>桥头小卖部</shop_name><operator_name>赵桥</operator_name><operator_phone>13900001234</operator_phone><industry>retail</industry><staff>2</staff><monthly_sales/><affected>no</affected><impacts/><needs/><visit_day>2026-12-01</visit_day><meta><instanceID>uuid:ops-count-1</instanceID></meta></data>"#;
    let made = submit_xml(&app, &staff, 1, "business_survey", xml.to_owned()).await;
    assert_eq!(made.status(), 200);
    let after = total(&read().await).expect("the figure");
    assert_eq!(after.1.zip(before.1).map(|(a, b)| a - b), Some(1));
}

/// The entities of the market bureau's project (the demo's civil-affairs project has its own).
async fn project_entities(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM collect_entities WHERE project_id = 1")
        .fetch_one(app.state.pool())
        .await
        .expect("count")
}

/// The last `n` entries of the transparency log, as text.
async fn last_log_entries(app: &TestApp, n: u64) -> Vec<String> {
    use base64::Engine as _;
    app.clock.advance(time::Duration::seconds(1));
    let checkpoint = app
        .client
        .get(app.url("/api/v1/ledger/checkpoint"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    let size: u64 = checkpoint
        .lines()
        .nth(1)
        .and_then(|line| line.parse().ok())
        .expect("the checkpoint's size");
    let auditor = app.first_with_role("audit_admin").api_token.clone();
    let (_, entries) = json_of(
        app.get_as(
            &auditor,
            &format!(
                "/api/v1/ledger/entries/content?start={}&end={size}",
                size.saturating_sub(n)
            ),
        )
        .await,
    )
    .await;
    entries
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|e| e["leaf"].as_str())
                .filter_map(|leaf| base64::engine::general_purpose::STANDARD.decode(leaf).ok())
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A household register that makes an entity in `list` with each submission.
fn register_form(form_id: &str, list: &str) -> Vec<u8> {
    let survey = rows(&[
        &["type", "name", "label", "required", "save_to"],
        &["text", "head", "户主姓名", "yes", "head_name"],
        &["integer", "members", "家庭人数", "yes", "members"],
    ]);
    let settings = rows(&[
        &["form_title", "form_id", "version"],
        &["户籍登记", form_id, "1"],
    ]);
    let entities = rows(&[&["list_name", "label"], &[list, "concat(${head}, ' 户')"]]);
    workbook_of(&[
        ("survey", &survey),
        ("settings", &settings),
        ("entities", &entities),
    ])
}

fn register_instance(form_id: &str, list: &str, id: &str, entity: &str, head: &str) -> String {
    format!(
        r#"<data id="{form_id}" version="1"><head>{head}</head><members>3</members><meta><entity dataset="{list}" create="1" id="{entity}"><label>{head} 户</label></entity><instanceID>{id}</instanceID></meta></data>"#
    )
}

#[tokio::test]
async fn submissions_make_entities_that_later_forms_choose_from_and_are_prefilled_with() {
    use reqwest::Method;
    let app = spawn_app().await;
    let designer = app.account("demo.deptadmin.market").api_token.clone();
    let office = app.account("demo.deptadmin").api_token.clone();
    let approve = |form: &'static str| {
        let (app, office) = (&app, office.clone());
        async move {
            app.post_as(
                &office,
                &format!("/api/v1/collect/projects/1/forms/{form}/decision"),
                &json!({"approve": true}),
            )
            .await
            .status()
        }
    };
    // The register makes the list, with the properties it saves, when the office approves it.
    assert_eq!(
        upload(
            &app,
            &designer,
            1,
            register_form("register", "households"),
            true
        )
        .await
        .status(),
        200
    );
    let list = "/v1/projects/1/datasets/households";
    assert_eq!(call(&app, Method::GET, &designer, list, None).await.0, 404);
    assert_eq!(approve("register").await, 200);
    let (status, made) = call(&app, Method::GET, &designer, list, None).await;
    assert_eq!(status, 200);
    let properties: Vec<&str> = made["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(properties, ["head_name", "members"]);

    // A follow-up form chooses a household from the list, prefilled from it.
    let survey = rows(&[
        &["type", "name", "label", "prefill"],
        &["select_one_from_file households.csv", "hh", "哪一户", ""],
        &["text", "head", "户主", "entity.households.label"],
        &[
            "integer",
            "members_now",
            "现有人数",
            "entity.households.members",
        ],
    ]);
    let settings = rows(&[
        &["form_title", "form_id", "version"],
        &["户情回访", "followup", "1"],
    ]);
    let followup = workbook_of(&[("survey", &survey), ("settings", &settings)]);
    assert_eq!(
        upload(&app, &designer, 1, followup, true).await.status(),
        200
    );
    assert_eq!(approve("followup").await, 200);

    // Two villages' devices.
    let mut keys = Vec::new();
    for (name, unit) in [
        ("桥头村 平板", "339901001002"),
        ("滨江社区 平板", "339902001001"),
    ] {
        let (status, user) = json_of(
            app.post_as(
                &designer,
                "/v1/projects/1/app-users",
                &json!({"displayName": name, "regionCode": unit}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200);
        keys.push(user["token"].as_str().expect("token").to_owned());
    }
    let openrosa = |key: &str, xml: String| {
        let request = app
            .client
            .post(app.url(&format!("/v1/key/{key}/projects/1/submission")))
            .multipart(reqwest::multipart::Form::new().part(
                "xml_submission_file",
                reqwest::multipart::Part::bytes(xml.into_bytes()).file_name("submission.xml"),
            ));
        async move { request.send().await.expect("request").status().as_u16() }
    };
    let qiaotou = "5d6b9c1e-8a43-4c7e-9f10-2b3c4d5e6f70";
    let binjiang = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
    // An entity for another list, or without a UUID: refused, nothing stored.
    let before = app.count("collect_submissions").await;
    for (list, entity) in [("wells", qiaotou), ("households", "not-a-uuid")] {
        let xml = register_instance("register", list, "uuid:r-bad", entity, "王建华");
        assert_eq!(openrosa(&keys[0], xml).await, 422, "{list} {entity}");
    }
    assert_eq!(app.count("collect_submissions").await, before);
    assert_eq!(project_entities(&app).await, 0);
    let first = register_instance("register", "households", "uuid:r-1", qiaotou, "王建华");
    assert_eq!(openrosa(&keys[0], first.clone()).await, 201);
    assert_eq!(
        openrosa(&keys[0], first).await,
        201,
        "sent again: kept once"
    );
    let second = register_instance("register", "households", "uuid:r-2", binjiang, "李桂兰");
    assert_eq!(openrosa(&keys[1], second).await, 201);
    let (status, entity) = call(
        &app,
        Method::GET,
        &designer,
        &format!("{list}/entities/{qiaotou}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(entity["currentVersion"]["label"], "王建华 户");
    assert_eq!(
        entity["currentVersion"]["data"],
        json!({"head_name": "王建华", "members": "3"})
    );
    assert_eq!(project_entities(&app).await, 2);
    // Sealed at rest: the name is not in the row.
    let sealed: Vec<u8> = sqlx::query_scalar(
        "SELECT body_sealed FROM collect_entities WHERE uuid = '5d6b9c1e-8a43-4c7e-9f10-2b3c4d5e6f70'",
    )
    .fetch_one(app.state.pool())
    .await
    .expect("row");
    assert!(!String::from_utf8_lossy(&sealed).contains("王建华"));

    // ODK Collect: the follow-up's manifest names households.csv, which holds the village's
    // household and not the other village's.
    let manifest = app
        .client
        .get(app.url(&format!(
            "/v1/key/{}/projects/1/forms/followup/manifest",
            keys[0]
        )))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    assert!(
        manifest.contains("<filename>households.csv</filename>"),
        "{manifest}"
    );
    assert!(manifest.contains("<hash>md5:"), "{manifest}");
    let url = format!(
        "/v1/key/{}/projects/1/forms/followup/attachments/households.csv",
        keys[0]
    );
    assert!(manifest.contains(&url), "{manifest}");
    let csv = app
        .client
        .get(app.url(&url))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "name,label,__version,head_name,members");
    assert_eq!(lines[1], format!("{qiaotou},王建华 户,1,王建华,3"));
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        last_log_entries(&app, 1).await[0].contains("collect.entity_list_sent"),
        "the sending is logged"
    );
    let other = app
        .client
        .get(app.url(&format!(
            "/v1/key/{}/projects/1/forms/followup/attachments/nothing.csv",
            keys[0]
        )))
        .send()
        .await
        .expect("request");
    assert_eq!(other.status(), 404);

    // The phone page: the village's households to choose from; the chosen one fills the
    // follow-up, marked, and the read is logged; another village's is not found.
    let mut phone = crate::helpers::Browser::default();
    let page = phone
        .get(&app, "/collect/device")
        .await
        .text()
        .await
        .expect("html");
    let csrf = crate::helpers::hidden_csrf(&page);
    let signed = phone
        .post_form(
            &app,
            "/collect/device/sign-in",
            &[("csrf", &csrf), ("token", &keys[0])],
        )
        .await;
    assert_eq!(signed.status(), 303);
    let path = "/collect/device/forms/followup";
    let blank = phone.get(&app, path).await.text().await.expect("html");
    assert!(
        blank.contains(&format!("<option value=\"{qiaotou}\">王建华 户</option>")),
        "{blank}"
    );
    assert!(!blank.contains(binjiang), "another village's household");
    assert!(
        blank.contains("value=\"prefill:/data/hh\""),
        "the look-up button"
    );
    let hidden: Vec<(String, String)> = crate::helpers::form_values(&blank, path)
        .into_iter()
        .filter(|(name, _)| !name.starts_with('/') && name != "action")
        .collect();
    let with = |answers: &[(&str, &str)]| {
        let mut form = hidden.clone();
        form.extend(
            answers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        form
    };
    let filled = send(
        &mut phone,
        &app,
        path,
        with(&[("/data/hh", qiaotou), ("action", "prefill:/data/hh")]),
    )
    .await
    .text()
    .await
    .expect("html");
    let values = crate::helpers::form_values(&filled, path);
    let value = |name: &str| {
        values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(value("/data/members_now"), "3");
    assert_eq!(value("/data/head"), "王建华 户");
    assert_eq!(value("prefilled:/data/members_now"), "1");
    let log = last_log_entries(&app, 1).await;
    assert!(
        log[0].contains("collect.entity_prefilled") && log[0].contains(qiaotou),
        "{log:?}"
    );
    let elsewhere = send(
        &mut phone,
        &app,
        path,
        with(&[("/data/hh", binjiang), ("action", "prefill:/data/hh")]),
    )
    .await
    .text()
    .await
    .expect("html");
    assert!(elsewhere.contains("没有找到"), "{elsewhere}");
    assert!(!elsewhere.contains("李桂兰"));

    // The register filled on the phone page makes its entity too, the label worked out by
    // the server.
    let blank = phone
        .get(&app, "/collect/device/forms/register")
        .await
        .text()
        .await
        .expect("html");
    let mut form: Vec<(String, String)> =
        crate::helpers::form_values(&blank, "/collect/device/forms/register")
            .into_iter()
            .filter(|(name, _)| !name.starts_with('/') && name != "action")
            .collect();
    for (k, v) in [
        ("/data/head", "赵德明"),
        ("/data/members", "2"),
        ("action", "send"),
    ] {
        form.push((k.to_owned(), v.to_owned()));
    }
    let sent = send(&mut phone, &app, "/collect/device/forms/register", form).await;
    assert_eq!(sent.status(), 303);
    let (_, listed) = call(
        &app,
        Method::GET,
        &designer,
        &format!("{list}/entities"),
        None,
    )
    .await;
    let labels: Vec<&str> = listed
        .as_array()
        .expect("entities")
        .iter()
        .filter_map(|e| e["currentVersion"]["label"].as_str())
        .collect();
    assert!(labels.contains(&"赵德明 户"), "{listed}");

    // A follow-up names an entity of the list, or it is refused and nothing is stored.
    let followup = |id: &str, hh: &str| {
        format!(
            r#"<data id="followup" version="1"><hh>{hh}</hh><head>王建华 户</head><members_now>4</members_now><meta><instanceID>{id}</instanceID></meta></data>"#
        )
    };
    let before = app.count("collect_submissions").await;
    for stranger in ["9f9f9f9f-0000-4000-8000-000000000000", "nobody"] {
        assert_eq!(
            openrosa(&keys[0], followup("uuid:f-0", stranger)).await,
            422
        );
    }
    assert_eq!(app.count("collect_submissions").await, before);
    assert_eq!(openrosa(&keys[0], followup("uuid:f-1", qiaotou)).await, 201);
}

#[tokio::test]
async fn a_list_that_requires_approval_gets_an_entity_when_its_submission_is_approved() {
    use reqwest::Method;
    let app = spawn_app().await;
    let designer = app.account("demo.deptadmin.market").api_token.clone();
    let office = app.account("demo.deptadmin").api_token.clone();
    let (status, _) = call(
        &app,
        Method::POST,
        &designer,
        "/v1/projects/1/datasets",
        Some(json!({"name": "wells", "approvalRequired": true})),
    )
    .await;
    assert_eq!(status, 200);
    upload(
        &app,
        &designer,
        1,
        register_form("well_check", "wells"),
        true,
    )
    .await;
    assert_eq!(
        app.post_as(
            &office,
            "/api/v1/collect/projects/1/forms/well_check/decision",
            &json!({"approve": true}),
        )
        .await
        .status(),
        200
    );
    let entity = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    let xml = register_instance("well_check", "wells", "uuid:w-1", entity, "东井");
    let (status, _) = json_of(submit_xml(&app, &designer, 1, "well_check", xml).await).await;
    assert_eq!(status, 200);
    assert_eq!(project_entities(&app).await, 0, "waits for approval");

    let review = "/v1/projects/1/forms/well_check/submissions/uuid:w-1";
    // Not a review state; not the project's staff: refused, nothing changes.
    let (status, problem) = call(
        &app,
        Method::PATCH,
        &designer,
        review,
        Some(json!({"reviewState": "great"})),
    )
    .await;
    assert_eq!(status, 422);
    let message = problem["message"].as_str().unwrap_or_default();
    assert!(message.contains("reviewState"), "{message}");
    let (status, _) = call(
        &app,
        Method::PATCH,
        &office,
        review,
        Some(json!({"reviewState": "approved"})),
    )
    .await;
    assert_eq!(
        status, 403,
        "the office sees the project, it does not review"
    );
    let (status, _) = call(
        &app,
        Method::PATCH,
        &designer,
        review,
        Some(json!({"reviewState": "hasIssues"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(project_entities(&app).await, 0);
    let (status, reviewed) = call(
        &app,
        Method::PATCH,
        &designer,
        review,
        Some(json!({"reviewState": "approved"})),
    )
    .await;
    assert_eq!(
        (status, reviewed["reviewState"].as_str()),
        (200, Some("approved"))
    );
    let (status, made) = call(
        &app,
        Method::GET,
        &designer,
        &format!("/v1/projects/1/datasets/wells/entities/{entity}"),
        None,
    )
    .await;
    assert_eq!(
        (status, made["currentVersion"]["label"].as_str()),
        (200, Some("东井 户"))
    );
    // Approved again: still one entity.
    call(
        &app,
        Method::PATCH,
        &designer,
        review,
        Some(json!({"reviewState": "approved"})),
    )
    .await;
    assert_eq!(project_entities(&app).await, 1);
}

#[tokio::test]
async fn submissions_export_as_central_exports_them_root_csv_and_a_zip_with_repeats_and_files() {
    use std::io::Read;
    let app = spawn_app().await;
    let designer = app.account("demo.deptadmin.market").api_token.clone();
    let office = app.account("demo.deptadmin").api_token.clone();
    let survey = rows(&[
        &["type", "name", "label"],
        &["begin group", "addr", "地址"],
        &["text", "street", "街道"],
        &["end group", "", ""],
        &["geopoint", "loc", "位置"],
        &["select_multiple needs", "needs", "需要"],
        &["image", "photo", "照片"],
        &["begin repeat", "member", "成员"],
        &["text", "pname", "姓名"],
        &["end repeat", "", ""],
    ]);
    let choices = rows(&[
        &["list_name", "name", "label"],
        &["needs", "meals", "助餐"],
        &["needs", "medical", "助医"],
    ]);
    let settings = rows(&[
        &["form_title", "form_id", "version"],
        &["户情", "census", "3"],
    ]);
    let book = workbook_of(&[
        ("survey", &survey),
        ("choices", &choices),
        ("settings", &settings),
    ]);
    assert_eq!(upload(&app, &designer, 1, book, true).await.status(), 200);
    app.post_as(
        &office,
        "/api/v1/collect/projects/1/forms/census/decision",
        &json!({"approve": true}),
    )
    .await;
    let (status, user) = json_of(
        app.post_as(
            &designer,
            "/v1/projects/1/app-users",
            &json!({"displayName": "桥头村 平板"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let key = user["token"].as_str().expect("token").to_owned();
    let xml = r#"<data id="census" version="3"><addr><street>桥头村5号</street></addr><loc>30.1 120.2 10 5</loc><needs>meals medical</needs><photo>door.png</photo><member><pname>王建华</pname></member><member><pname>王小明</pname></member><meta><instanceID>uuid:census-1</instanceID></meta></data>"#;
    let sent = app
        .client
        .post(app.url(&format!("/v1/key/{key}/projects/1/submission")))
        .multipart(
            reqwest::multipart::Form::new()
                .part(
                    "xml_submission_file",
                    reqwest::multipart::Part::bytes(xml.as_bytes().to_vec())
                        .file_name("submission.xml"),
                )
                .part(
                    "door.png",
                    reqwest::multipart::Part::bytes(b"\x89PNG door".to_vec()).file_name("door.png"),
                ),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(sent.status(), 201);

    let get = |path: String| {
        let request = app.client.get(app.url(&path)).bearer_auth(&designer);
        async move { request.send().await.expect("request") }
    };
    let csv = get("/v1/projects/1/forms/census/submissions.csv".into()).await;
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/csv")
    );
    let text = csv.text().await.expect("text");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "SubmissionDate,addr-street,loc-Latitude,loc-Longitude,loc-Altitude,loc-Accuracy,needs,photo,meta-instanceID,KEY,SubmitterID,SubmitterName,AttachmentsPresent,AttachmentsExpected,Status,ReviewState,DeviceID,Edits,FormVersion"
    );
    assert!(
        lines[1].contains(
            ",桥头村5号,30.1,120.2,10,5,meals medical,door.png,uuid:census-1,uuid:census-1,"
        ),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains(",桥头村 平板,1,1,"), "{}", lines[1]);
    assert_eq!(lines.len(), 2);

    // Options: names without group paths, a column per choice.
    let split = get(
        "/v1/projects/1/forms/census/submissions.csv?groupPaths=false&splitSelectMultiples=true"
            .into(),
    )
    .await
    .text()
    .await
    .expect("text");
    assert!(
        split.starts_with("SubmissionDate,street,loc-Latitude"),
        "{split}"
    );
    assert!(
        split.contains(",needs,needs/meals,needs/medical,"),
        "{split}"
    );
    assert!(split.contains(",meals medical,1,1,"), "{split}");

    // The zip: the root, the repeat with its keys, the photo.
    let zipped = get("/v1/projects/1/forms/census/submissions.csv.zip".into()).await;
    assert_eq!(zipped.status(), 200);
    let bytes = zipped.bytes().await.expect("bytes");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let mut names: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .collect();
    names.sort();
    assert_eq!(names, ["census-member.csv", "census.csv", "media/door.png"]);
    let mut member = String::new();
    archive
        .by_name("census-member.csv")
        .expect("the repeat")
        .read_to_string(&mut member)
        .expect("utf-8");
    assert_eq!(
        member.lines().collect::<Vec<_>>(),
        [
            "pname,PARENT_KEY,KEY",
            "王建华,uuid:census-1,uuid:census-1/member[1]",
            "王小明,uuid:census-1,uuid:census-1/member[2]",
        ]
    );
    let mut photo = Vec::new();
    archive
        .by_name("media/door.png")
        .expect("the photo")
        .read_to_end(&mut photo)
        .expect("bytes");
    assert_eq!(photo, b"\x89PNG door");
    let without = get("/v1/projects/1/forms/census/submissions.csv.zip?attachments=false".into())
        .await
        .bytes()
        .await
        .expect("bytes");
    let archive = zip::ZipArchive::new(std::io::Cursor::new(without.to_vec())).expect("a zip");
    assert_eq!(archive.len(), 2, "no media");

    // The repeat as an OData table, and the root row's link to its rows.
    let (status, table) = json_of(
        get("/v1/projects/1/forms/census.svc/Submissions.member?%24count=true".into()).await,
    )
    .await;
    assert_eq!((status, table["@odata.count"].as_i64()), (200, Some(2)));
    assert_eq!(table["value"][1]["pname"], "王小明");
    assert_eq!(table["value"][1]["__Submissions-id"], "uuid:census-1");
    assert_eq!(table["value"][1]["__id"], "uuid:census-1/member[2]");
    let (_, root) = json_of(get("/v1/projects/1/forms/census.svc/Submissions".into()).await).await;
    let link = root["value"][0]["member@odata.navigationLink"]
        .as_str()
        .expect("a link")
        .to_owned();
    assert_eq!(link, "Submissions('uuid:census-1')/member");
    let (status, linked) =
        json_of(get(format!("/v1/projects/1/forms/census.svc/{link}")).await).await;
    assert_eq!(status, 200);
    assert_eq!(linked["value"].as_array().map(Vec::len), Some(2));
    let (status, _) =
        json_of(get("/v1/projects/1/forms/census.svc/Submissions.nothing".into()).await).await;
    assert_eq!(status, 404);

    // Each export is in the transparency log; the office, which does not run the project,
    // exports nothing; a bad option is refused.
    let log = last_log_entries(&app, 1).await;
    assert!(log[0].contains("collect.submissions_exported"), "{log:?}");
    let office_try = app
        .client
        .get(app.url("/v1/projects/1/forms/census/submissions.csv"))
        .bearer_auth(&office)
        .send()
        .await
        .expect("request");
    assert_eq!(office_try.status(), 403);
    let bad = get("/v1/projects/1/forms/census/submissions.csv?groupPaths=maybe".into()).await;
    assert_eq!(bad.status(), 422);
    let filtered = get("/v1/projects/1/forms/census/submissions.csv?%24filter=x".into()).await;
    assert_eq!(filtered.status(), 400);
}

/// The to-do items of the 一表通 module for an account: (kind, title, link, due).
async fn collect_todo(app: &TestApp, who: &str) -> Vec<(String, String, String, Option<i64>)> {
    use tongban_app::identity::model::Language;
    use tongban_app::web::i18n::Tr;
    let actor = tongban_app::identity::service::actor_of_username(&app.state, who)
        .await
        .expect("actor")
        .expect("exists");
    tongban_app::module::todo_list(&app.state, &actor, Tr(Language::Zh), 200)
        .await
        .expect("todo")
        .items
        .into_iter()
        .filter(|item| item.module == "collect")
        .map(|item| (item.kind, item.title, item.link, item.due))
        .collect()
}

#[tokio::test]
async fn a_staff_member_finds_the_forms_of_the_device_they_carry_on_their_to_do_list_and_fills_them()
 {
    let app = spawn_app().await;
    let designer = app.account("demo.deptadmin.market").api_token.clone();

    // Only a staff member may carry a device; a resident or an unknown name is refused.
    for holder in ["demo.citizen", "nobody.here"] {
        let made = app
            .post_as(
                &designer,
                "/v1/projects/1/app-users",
                &json!({"displayName": "x", "regionCode": "339901001002", "holder": holder}),
            )
            .await;
        assert_eq!(made.status(), 422, "{holder}");
    }
    let before = app.count("collect_actors").await;
    let (status, user) = json_of(
        app.post_as(
            &designer,
            "/v1/projects/1/app-users",
            &json!({"displayName": "桥头村 走访", "regionCode": "339901001002", "holder": "demo.clerk"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(app.count("collect_actors").await, before + 1);
    let device = user["id"].as_i64().expect("id");
    let link = format!("/collect/device/held/{device}");

    // The survey sent to the village's subdistrict waits on the carrier's to-do list, due at
    // the end of its due day; nobody else's list has it.
    let mine = collect_todo(&app, "demo.clerk").await;
    let item = mine
        .iter()
        .find(|(_, _, l, _)| *l == link)
        .unwrap_or_else(|| panic!("the device's form on the list: {mine:?}"));
    assert_eq!(item.0, "一表通待填报");
    assert!(item.1.contains("桥头村 走访"), "{item:?}");
    assert!(item.3.is_some(), "the form's due day");
    for other in ["demo.clerk.jiangnan", "demo.clerk.tax"] {
        assert!(
            collect_todo(&app, other)
                .await
                .iter()
                .all(|(_, _, l, _)| *l != link),
            "{other}"
        );
    }

    // Another staff member cannot fill for the device; an address that names no device is
    // refused.
    let mut tax = app.page_login(app.account("demo.clerk.tax")).await;
    assert_eq!(tax.get(&app, &link).await.status(), 404);
    let nonsense = tax
        .get(&app, "/collect/device/held/not-a-device")
        .await
        .status();
    assert!(nonsense.is_client_error(), "{nonsense}");
    let page = tax
        .get(&app, "/collect/device")
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("name=\"token\""), "still the sign-in form");

    // The carrier, signed in, opens it from the list and fills the form without the token.
    let mut clerk = app.page_login(app.account("demo.clerk")).await;
    let opened = clerk.get(&app, &link).await;
    assert_eq!(opened.status(), 303);
    let forms = clerk
        .get(&app, "/collect/device")
        .await
        .text()
        .await
        .expect("html");
    assert!(forms.contains("桥头村"), "the unit is named");
    assert!(forms.contains("href=\"/collect/device/forms/business_survey\""));
    let blank = clerk
        .get(&app, "/collect/device/forms/business_survey")
        .await
        .text()
        .await
        .expect("html");
    let hidden = hidden_fields(&blank);
    let submissions = app.count("collect_submissions").await;
    let sent = post_fill(
        &mut clerk,
        &app,
        &hidden,
        &[
            ("/data/shop_name", "桥头小卖部"),
            ("/data/operator_name", "赵桥"),
            ("/data/operator_phone", "13900001234"),
            ("/data/industry", "retail"),
            ("/data/staff", "2"),
            ("/data/monthly_sales", "3.5"),
            ("/data/affected", "no"),
            ("/data/visit_day", "2026-12-01"),
            ("action", "send"),
        ],
    )
    .await;
    assert_eq!(sent.status(), 303);
    assert_eq!(app.count("collect_submissions").await, submissions + 1);

    // Withdrawn, the device leaves the carrier's list and its page.
    let revoked = app
        .client
        .delete(app.url(&format!("/v1/projects/1/app-users/{device}")))
        .bearer_auth(&designer)
        .send()
        .await
        .expect("revoked");
    assert_eq!(revoked.status(), 200);
    assert!(
        collect_todo(&app, "demo.clerk")
            .await
            .iter()
            .all(|(_, _, l, _)| *l != link)
    );
    assert_eq!(clerk.get(&app, &link).await.status(), 404);
}
