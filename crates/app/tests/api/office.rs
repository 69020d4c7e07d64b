//! 协同办公: an outgoing document from draft to sent, each step only by the party whose step it
//! is, every act in its history and the transparency log; drafts that break their kind's rules
//! refused with the rules named; and document numbers (发文字号) issued without a gap or a
//! repeat while many issuers work at once — on PostgreSQL as on several nodes, since every
//! issuer has a connection of its own — and while some of them fail after taking a number.

use base64::Engine as _;
use serde_json::{Value, json};
use tongban_app::error::{AppError, retrying};
use tongban_app::office::{numbering, store};

use crate::helpers::{TestApp, problem, spawn_app};

async fn put_as(app: &TestApp, token: &str, path: &str, body: &Value) -> reqwest::Response {
    app.client
        .put(app.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request")
}

pub(crate) async fn act(app: &TestApp, who: &str, id: &str, body: Value) -> reqwest::Response {
    let token = app.account(who).api_token.clone();
    app.post_as(
        &token,
        &format!("/api/v1/office/documents/{id}/acts"),
        &body,
    )
    .await
}

pub(crate) async fn acted(app: &TestApp, who: &str, id: &str, body: Value) -> Value {
    let response = act(app, who, id, body.clone()).await;
    assert_eq!(
        response.status(),
        200,
        "{who} {body}: {}",
        response.text().await.unwrap_or_default()
    );
    response.json().await.expect("json")
}

#[tokio::test]
async fn a_notice_goes_from_draft_to_sent_each_step_by_its_own_party_and_witnessed() {
    let app = spawn_app().await;
    let drafter = "demo.clerk.city";
    let leader = "demo.deptadmin";
    let token = |who: &str| app.account(who).api_token.clone();
    // The department's administrator claims its code; another organ cannot take it.
    let claimed = app
        .post_as(
            &token(leader),
            "/api/v1/office/codes",
            &json!({"code": "临政办发"}),
        )
        .await;
    assert_eq!(claimed.status(), 201);
    let taken = app
        .post_as(
            &token("demo.deptadmin.market"),
            "/api/v1/office/codes",
            &json!({"code": "临政办发"}),
        )
        .await;
    assert_eq!(problem(taken).await.0, 409);
    let by_clerk = app
        .post_as(
            &token(drafter),
            "/api/v1/office/codes",
            &json!({"code": "临政办函"}),
        )
        .await;
    assert_eq!(problem(by_clerk).await.0, 403);

    // A 请示 to two superiors asking two things, without 签发人: refused, every rule named.
    let mut request = serde_json::to_value(tongban_app::office::examples::notice(1)).expect("json");
    request["kind"] = json!("request");
    request["direction"] = json!("upward");
    request["title"] = json!("临江区政务服务管理办公室关于增设夜间窗口的请示");
    request["main_recipients"] = json!([
        {"name": "临江区人民政府", "relation": "superior"},
        {"name": "临江市政务服务管理局", "relation": "superior"}
    ]);
    request["requests"] = json!(["增设夜间窗口", "增加编制两名"]);
    let refused = app
        .post_as(
            &token(drafter),
            "/api/v1/office/documents",
            &json!({"code": "临政办发", "draft": request}),
        )
        .await;
    let (status, body) = problem(refused).await;
    assert_eq!(status, 422);
    let detail = body["detail"].as_str().unwrap_or_default();
    for rule in [
        "request_one_recipient",
        "request_one_matter",
        "upward_signer",
        "请示应当只主送一个上级机关",
    ] {
        assert!(detail.contains(rule), "{rule} named in {detail}");
    }
    // A code that is not the department's.
    let notice = serde_json::to_value(tongban_app::office::examples::notice(1)).expect("json");
    let foreign = app
        .post_as(
            &token(drafter),
            "/api/v1/office/documents",
            &json!({"code": "临市监发", "draft": notice}),
        )
        .await;
    assert_eq!(problem(foreign).await.0, 422);

    let created = app
        .post_as(
            &token(drafter),
            "/api/v1/office/documents",
            &json!({"code": "临政办发", "draft": notice}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let document: Value = created.json().await.expect("json");
    let id = document["id"].as_str().expect("id").to_owned();
    assert_eq!(document["step"], "drafting");
    assert_eq!(document["acts"], json!(["submit", "withdraw"]));
    // Outside the department the document does not exist.
    let outsider = app
        .get_as(
            &token("demo.clerk.market"),
            &format!("/api/v1/office/documents/{id}"),
        )
        .await;
    assert_eq!(problem(outsider).await.0, 404);
    // The drafter changes it; a change from an older reading is refused.
    let mut changed = notice.clone();
    changed["urgency"] = json!("urgent");
    let path = format!("/api/v1/office/documents/{id}");
    let first = put_as(
        &app,
        &token(drafter),
        &path,
        &json!({"draft": changed, "version": 0}),
    )
    .await;
    assert_eq!(first.status(), 200);
    let stale = put_as(
        &app,
        &token(drafter),
        &path,
        &json!({"draft": notice, "version": 0}),
    )
    .await;
    assert_eq!(problem(stale).await.0, 409);

    // Nobody signs a draft; the drafter does not review or sign their own.
    let early = act(&app, leader, &id, json!({"act": "sign", "opinion": "同意"})).await;
    assert_eq!(problem(early).await.0, 409);
    let leader_id = app.account_id_of(leader).await;
    let drafter_id = app.account_id_of(drafter).await;
    let market_admin = app.account_id_of("demo.deptadmin.market").await;
    for (reviewers, leader_named) in [
        (json!([drafter_id]), leader_id.clone()),
        (json!([leader_id]), market_admin.clone()),
        (json!([leader_id]), drafter_id.clone()),
        (json!([]), leader_id.clone()),
    ] {
        let wrong = act(
            &app,
            drafter,
            &id,
            json!({"act": "submit", "reviewers": reviewers, "leader": leader_named}),
        )
        .await;
        assert_eq!(problem(wrong).await.0, 422, "{reviewers} {leader_named}");
    }
    let sent = acted(
        &app,
        drafter,
        &id,
        json!({"act": "submit", "reviewers": [leader_id], "leader": leader_id}),
    )
    .await;
    assert_eq!(sent["step"], "reviewing");
    assert_eq!(
        sent["draft"]["signer"], "冯部门",
        "the 签发人 is the leader who signs"
    );
    // The leader's to-do list holds it; the drafter cannot agree in the reviewer's place.
    let todo: Value = app
        .get_as(&token(leader), "/api/v1/office/todo")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        todo.as_array()
            .expect("list")
            .iter()
            .any(|t| t["document_id"] == id.as_str() && t["acts"] == json!(["agree", "return"]))
    );
    let not_theirs = act(&app, drafter, &id, json!({"act": "agree"})).await;
    let (status, body) = problem(not_theirs).await;
    assert_eq!(status, 403);
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("reviewer"),
        "{body}"
    );

    // Sent back once, with the reason; then round again.
    let no_reason = act(&app, leader, &id, json!({"act": "return"})).await;
    assert_eq!(problem(no_reason).await.0, 422);
    let returned = acted(
        &app,
        leader,
        &id,
        json!({"act": "return", "opinion": "请补充兑现时限"}),
    )
    .await;
    assert_eq!(returned["step"], "drafting");
    acted(
        &app,
        drafter,
        &id,
        json!({"act": "submit", "reviewers": [leader_id], "leader": leader_id}),
    )
    .await;
    let agreed = acted(
        &app,
        leader,
        &id,
        json!({"act": "agree", "opinion": "已核"}),
    )
    .await;
    assert_eq!(agreed["step"], "signing");
    let by_clerk = act(
        &app,
        drafter,
        &id,
        json!({"act": "sign", "opinion": "同意"}),
    )
    .await;
    assert_eq!(problem(by_clerk).await.0, 403);
    let signed = acted(
        &app,
        leader,
        &id,
        json!({"act": "sign", "opinion": "同意印发"}),
    )
    .await;
    assert_eq!(signed["step"], "rechecking");
    // The leader who signed does not also check and seal it.
    let own_seal = act(&app, leader, &id, json!({"act": "recheck"})).await;
    assert_eq!(problem(own_seal).await.0, 403);
    let rechecked = acted(&app, drafter, &id, json!({"act": "recheck"})).await;
    assert_eq!(rechecked["step"], "sealing");
    let number = rechecked["number"].as_str().expect("numbered").to_owned();
    assert!(
        number.starts_with("临政办发〔") && number.ends_with("〕1号"),
        "{number}"
    );
    let sealed = acted(&app, drafter, &id, json!({"act": "seal"})).await;
    assert_eq!(sealed["step"], "registering");
    // Once sealed, the sign-off stands: nothing sends it back or signs it again.
    for (who, body) in [
        (drafter, json!({"act": "return", "opinion": "改一下"})),
        (leader, json!({"act": "sign", "opinion": "改签"})),
    ] {
        let response = act(&app, who, &id, body).await;
        assert_eq!(problem(response).await.0, 409);
    }
    let changed_late = put_as(
        &app,
        &token(drafter),
        &path,
        &json!({"draft": notice, "version": sealed["version"]}),
    )
    .await;
    assert_eq!(problem(changed_late).await.0, 409);
    acted(&app, drafter, &id, json!({"act": "register"})).await;
    let done = acted(&app, drafter, &id, json!({"act": "distribute"})).await;
    assert_eq!(done["step"], "sent");
    assert_eq!(done["acts"], json!([]));

    // The history: every act, in order, each witnessed by an entry of the log that holds the
    // digests of its opinion and of the text. (The log has the entry before the act is
    // answered; its index is noted on the row by the desk's next transaction.)
    let done = witnessed(&app, drafter, &id).await;
    let history = done["history"].as_array().expect("history");
    let acts: Vec<&str> = history
        .iter()
        .map(|h| h["act"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        acts,
        [
            "submit",
            "return",
            "submit",
            "agree",
            "sign",
            "recheck",
            "seal",
            "register",
            "distribute"
        ]
    );
    assert_eq!(history[4]["opinion"], "同意印发");
    assert_eq!(history[4]["by"], "冯部门");
    for entry in history {
        let index = entry["log_index"].as_i64().expect("witnessed in the log");
        let logged = log_entry(&app, index).await;
        assert_eq!(logged["kind"], "office_act");
        assert_eq!(logged["document"], id.as_str());
        assert_eq!(logged["opinion_digest"], entry["opinion_digest"]);
        assert_eq!(logged["content_digest"], entry["content_digest"]);
    }
    // The drafter's to-do list is empty of it; nothing waits on a sent document.
    let todo: Value = app
        .get_as(&token(drafter), "/api/v1/office/todo")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        !todo
            .as_array()
            .expect("list")
            .iter()
            .any(|t| t["document_id"] == id.as_str())
    );
}

#[tokio::test]
async fn ten_thousand_documents_numbered_at_once_have_no_gap_and_no_repeat() {
    let app = spawn_app().await;
    let issued = 10_000;
    let issuers = 32;
    let mut work = tokio::task::JoinSet::new();
    for issuer in 0..issuers {
        let state = app.state.clone();
        work.spawn(async move {
            let mut kept = 0usize;
            for n in (issuer..issued).step_by(issuers) {
                // One in ten fails after taking its number: the number must come back.
                let fails = n % 10 == 7;
                let outcome = retrying(|| {
                    let state = state.clone();
                    async move {
                        let mut tx = state.pool().begin().await?;
                        let number = numbering::issue(&mut tx, "临政发", 2026).await?;
                        let mut document = store::Document::new(
                            format!("doc-{n}"),
                            "linjiang-zwfw",
                            "临政发",
                            tongban_app::office::examples::notice(n),
                            "demo.deptadmin",
                            0,
                        );
                        document.state = "sealing".into();
                        document.number = Some(number);
                        store::insert_document(&mut *tx, &document).await?;
                        if fails {
                            tx.rollback().await?;
                            return Err(AppError::Conflict("failed on purpose".into()));
                        }
                        tx.commit().await?;
                        Ok(())
                    }
                })
                .await;
                match outcome {
                    Ok(()) => kept += 1,
                    Err(AppError::Conflict(_)) if fails => {}
                    Err(other) => panic!("issuing {n}: {other}"),
                }
            }
            kept
        });
    }
    let mut kept = 0;
    while let Some(done) = work.join_next().await {
        kept += done.expect("issuer");
    }
    assert_eq!(kept, issued - issued / 10);
    let numbers = store::numbers_of(app.state.pool(), "临政发", 2026)
        .await
        .expect("numbers");
    let expected: Vec<i64> = (1..=kept as i64).collect();
    assert_eq!(
        numbers, expected,
        "numbers run from 1 without a gap or a repeat"
    );
    // Another year and another code start again from 1.
    let mut tx = app.state.pool().begin().await.expect("tx");
    let next_year = numbering::issue(&mut tx, "临政发", 2027)
        .await
        .expect("issue");
    let other_code = numbering::issue(&mut tx, "临政办函", 2026)
        .await
        .expect("issue");
    tx.commit().await.expect("commit");
    assert_eq!(next_year.to_string(), "临政发〔2027〕1号");
    assert_eq!(other_code.to_string(), "临政办函〔2026〕1号");
}

/// The text between `start` (after the last occurrence before `anchor`) and the next `"`: the
/// id in the link nearest before a title.
fn id_before(html: &str, anchor: &str) -> String {
    let at = html
        .find(anchor)
        .unwrap_or_else(|| panic!("{anchor} on the page"));
    let link = html[..at]
        .rfind("/office/documents/")
        .expect("a link before the title");
    let rest = &html[link + "/office/documents/".len()..];
    rest[..rest.find('"').expect("end of the link")].to_owned()
}

#[tokio::test]
async fn officials_find_their_documents_in_one_to_do_list_and_act_on_the_page() {
    let app = spawn_app().await;
    let leader = app.account("demo.deptadmin").clone();
    let mut browser = app.page_login(&leader).await;
    // The demo city's 请示 waits for the leader's sign-off in the one list, beside the other
    // modules' work; the workbench counts it.
    let todo = browser.get(&app, "/todo").await.text().await.expect("page");
    let title = "关于增设政务服务大厅夜间延时服务窗口的请示";
    assert!(todo.contains(title), "{todo}");
    // The administration is the burden-reduction office: the demo's second form waits for its
    // approval in the same list.
    assert!(todo.contains("一表通表单审核"), "{todo}");
    assert!(todo.contains("公文签发"));
    let workbench = browser.get(&app, "/home").await.text().await.expect("page");
    assert!(workbench.contains("件待办") && workbench.contains(title));
    let desk = browser
        .get(&app, "/office")
        .await
        .text()
        .await
        .expect("page");
    let id = id_before(&desk, title);
    let path = format!("/office/documents/{id}");
    let page = browser.get(&app, &path).await.text().await.expect("page");
    // Laid out as an upward document: the organ's mark, the 签发人 beside the number.
    assert!(
        page.contains("临江市政务服务管理局文件") || page.contains("文件</p>"),
        "{page}"
    );
    assert!(page.contains("签发人：冯部门"));
    let csrf = crate::helpers::hidden_csrf(&page);
    // A sign-off without an opinion is refused in words, and changes nothing.
    let refused = browser
        .post_form(
            &app,
            &format!("{path}/acts"),
            &[("csrf", &csrf), ("act", "sign")],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let signed = browser
        .post_form(
            &app,
            &format!("{path}/acts"),
            &[
                ("csrf", &csrf),
                ("act", "sign"),
                ("opinion", "同意报市政府"),
            ],
        )
        .await;
    assert!(signed.status().is_redirection() || signed.status().is_success());
    let page = browser.get(&app, &path).await.text().await.expect("page");
    assert!(
        page.contains("同意报市政府") && page.contains("公文复核"),
        "{page}"
    );
    // 已办 keeps it.
    let done = browser
        .get(&app, "/todo?tab=done")
        .await
        .text()
        .await
        .expect("page");
    assert!(done.contains(title) && done.contains("签发公文"));

    // The secretariat's list: the urgent notice first, then the 请示 the leader just signed.
    let clerk = app.account("demo.clerk.city").clone();
    let mut secretariat = app.page_login(&clerk).await;
    let todo = secretariat
        .get(&app, "/todo")
        .await
        .text()
        .await
        .expect("page");
    let urgent = todo.find("寒潮天气").expect("the urgent notice waits");
    let request = todo.find(title).expect("the signed request waits");
    assert!(urgent < request, "the urgent one first");
    // The clerk drafts a document on the desk; a 请示 without its matter is refused in words.
    let desk = secretariat
        .get(&app, "/office")
        .await
        .text()
        .await
        .expect("page");
    let csrf = crate::helpers::hidden_csrf(&desk);
    let form = [
        ("csrf", csrf.as_str()),
        ("kind", "request"),
        ("direction", "upward"),
        ("code", "临政服发"),
        (
            "title",
            "临江市政务服务管理局关于调整大厅午间服务时间的请示",
        ),
        ("main_recipients", "临江市人民政府"),
        ("body", "拟自明年起午间不间断服务。妥否，请批示。"),
        ("signer", "冯部门"),
    ];
    let refused = secretariat
        .post_form(&app, "/office/documents", &form)
        .await;
    assert_eq!(refused.status(), 422);
    let text = refused.text().await.expect("page");
    assert!(
        text.contains("请示应当一文一事") || text.contains("request_one_matter"),
        "{text}"
    );
    let mut form = form.to_vec();
    form.push(("requests", "调整午间服务时间"));
    let made = secretariat
        .post_form(&app, "/office/documents", &form)
        .await;
    assert!(made.status().is_redirection() || made.status().is_success());
    let desk = secretariat
        .get(&app, "/office")
        .await
        .text()
        .await
        .expect("page");
    assert!(desk.contains("关于调整大厅午间服务时间的请示"));
}

#[tokio::test]
async fn documents_rechecked_at_once_are_numbered_without_gap_and_a_repeated_act_is_refused_alone()
{
    use tongban_app::office::documents::{self, ActOnDocument};
    use tongban_app::office::gongwen::flow::Act;
    let app = spawn_app().await;
    let state = app.state.clone();
    let actor = |name: &'static str| {
        let state = state.clone();
        async move {
            tongban_app::identity::service::actor_of_username(&state, name)
                .await
                .expect("read")
                .expect("an actor")
        }
    };
    let (clerk, leader) = (
        actor("demo.clerk.city").await,
        actor("demo.deptadmin").await,
    );
    documents::add_code(&state, &leader, "临政服函").await.ok();
    let department = clerk.account.department_id.clone().expect("department");
    let mut ids = Vec::new();
    let mut tx = state.pool().begin().await.expect("tx");
    for n in 0..300 {
        let id = format!("signed-{n}");
        let mut document = store::Document::new(
            id.clone(),
            &department,
            "临政服函",
            tongban_app::office::examples::notice(n),
            clerk.id(),
            0,
        );
        document.state = "rechecking".into();
        store::insert_document(&mut *tx, &document)
            .await
            .expect("insert");
        store::name_parties(&mut tx, &id, &[leader.id().to_owned()], leader.id())
            .await
            .expect("parties");
        ids.push(id);
    }
    tx.commit().await.expect("commit");
    // Every document rechecked at once, one in ten twice: the second is refused alone.
    let clerk = std::sync::Arc::new(clerk);
    let mut work = tokio::task::JoinSet::new();
    for (n, id) in ids.iter().enumerate() {
        let times = if n % 10 == 0 { 2 } else { 1 };
        for _ in 0..times {
            let (state, clerk, id) = (state.clone(), clerk.clone(), id.clone());
            work.spawn(async move {
                documents::act(
                    &state,
                    &clerk,
                    &id,
                    ActOnDocument {
                        act: Act::Recheck,
                        opinion: String::new(),
                        reviewers: Vec::new(),
                        leader: None,
                    },
                )
                .await
                .map(|view| view.number)
            });
        }
    }
    let (mut numbered, mut refused) = (0, 0);
    while let Some(outcome) = work.join_next().await {
        match outcome.expect("task") {
            Ok(Some(_)) => numbered += 1,
            Err(AppError::Conflict(_)) => refused += 1,
            other => panic!("unexpected: {other:?}"),
        }
    }
    assert_eq!((numbered, refused), (300, 30));
    let year = state.today().year();
    let numbers = store::numbers_of(state.pool(), "临政服函", year)
        .await
        .expect("numbers");
    assert_eq!(numbers, (1..=300).collect::<Vec<i64>>());
    // Each document has one recheck in its history, witnessed.
    let mut history = Vec::new();
    for _ in 0..100 {
        history = store::history(state.pool(), "signed-0")
            .await
            .expect("history");
        if history.iter().all(|h| h.log_index.is_some()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(history.len(), 1);
    assert!(history[0].log_index.is_some());
}

#[tokio::test]
async fn a_notice_reaches_a_units_staff_who_read_it_and_the_sender_sees_and_reminds_who_has_not() {
    let app = spawn_app().await;
    let token = |who: &str| app.account(who).api_token.clone();
    let market =
        tongban_app::identity::store::account_by_username(app.state.pool(), "demo.clerk.market")
            .await
            .expect("read")
            .expect("account")
            .department_id
            .expect("department");
    let notice = json!({
        "title": "关于开展2027年度政务服务满意度调查的通知",
        "body": "请各单位于12月20日前组织窗口人员完成培训。",
        "departments": [market],
        "read_by": "2099-12-20T23:59:59+08:00",
    });
    // A citizen sends nothing; a notice for nobody, or with a limit in the past, is refused.
    let citizen = app
        .post_as(
            &token("citizen.zhangwei"),
            "/api/v1/office/notices",
            &notice,
        )
        .await;
    assert_eq!(problem(citizen).await.0, 403);
    let mut nobody = notice.clone();
    nobody["departments"] = json!([]);
    let refused = app
        .post_as(&token("demo.clerk.city"), "/api/v1/office/notices", &nobody)
        .await;
    assert_eq!(problem(refused).await.0, 422);
    let mut past = notice.clone();
    past["read_by"] = json!("2001-01-01T00:00:00Z");
    let refused = app
        .post_as(&token("demo.clerk.city"), "/api/v1/office/notices", &past)
        .await;
    assert_eq!(problem(refused).await.0, 422);

    let sent = app
        .post_as(&token("demo.clerk.city"), "/api/v1/office/notices", &notice)
        .await;
    assert_eq!(sent.status(), 201);
    let sent: Value = sent.json().await.expect("json");
    let id = sent["id"].as_str().expect("id").to_owned();
    assert_eq!(
        sent["recipients"], 2,
        "the regulator's clerk and administrator"
    );
    assert_eq!(sent["read"], 0);
    // It waits in the recipients' to-do lists until read.
    let mut reader = app
        .page_login(&app.account("demo.clerk.market").clone())
        .await;
    let todo = reader.get(&app, "/todo").await.text().await.expect("page");
    assert!(todo.contains("满意度调查") && todo.contains("通知公告待阅"));
    let path = format!("/api/v1/office/notices/{id}");
    let read: Value = app
        .get_as(&token("demo.clerk.market"), &path)
        .await
        .json()
        .await
        .expect("json");
    assert!(
        read["receipts"].is_null(),
        "a recipient does not see the others' receipts"
    );
    let todo = reader.get(&app, "/todo").await.text().await.expect("page");
    assert!(!todo.contains("满意度调查"));
    // Outside the sender and the recipients it does not exist.
    let outsider = app.get_as(&token("demo.clerk.tax"), &path).await;
    assert_eq!(problem(outsider).await.0, 404);
    // The sending department sees who has read it, and reminds the one who has not.
    let seen: Value = app
        .get_as(&token("demo.deptadmin"), &path)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(seen["read"], 1);
    let receipts = seen["receipts"].as_array().expect("receipts");
    assert_eq!(receipts.len(), 2);
    assert_eq!(
        receipts.iter().filter(|r| r["read_at"].is_null()).count(),
        1
    );
    let reminded: Value = app
        .post_as(
            &token("demo.clerk.city"),
            &format!("{path}/reminders"),
            &json!({}),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(reminded["reminded"], 1);
    let by_recipient = app
        .post_as(
            &token("demo.deptadmin.market"),
            &format!("{path}/reminders"),
            &json!({}),
        )
        .await;
    assert_eq!(problem(by_recipient).await.0, 404);
    let mut late = app
        .page_login(&app.account("demo.deptadmin.market").clone())
        .await;
    let todo = late.get(&app, "/todo").await.text().await.expect("page");
    let at = todo
        .find("满意度调查")
        .expect("waits for the one who has not read it");
    let row_start = todo[..at].rfind("<tr").expect("a row");
    assert!(
        todo[row_start..at].contains("加急"),
        "a reminded notice stands out"
    );
}

/// The transparency log's entry at `index`, as JSON (read by the audit administrator).
/// A document once the log's index of every act in its history is noted on it (within a
/// moment of the last act).
async fn witnessed(app: &TestApp, who: &str, id: &str) -> Value {
    let token = app.account(who).api_token.clone();
    let mut seen = Value::Null;
    for _ in 0..100 {
        seen = app
            .get_as(&token, &format!("/api/v1/office/documents/{id}"))
            .await
            .json()
            .await
            .expect("json");
        let history = seen["history"].as_array().expect("history");
        if history.iter().all(|h| h["log_index"].is_i64()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    seen
}

pub(crate) async fn log_entry(app: &TestApp, index: i64) -> Value {
    let audit = app.account("demo.auditadmin").api_token.clone();
    let contents: Value = app
        .get_as(
            &audit,
            &format!(
                "/api/v1/ledger/entries/content?start={index}&end={}",
                index + 1
            ),
        )
        .await
        .json()
        .await
        .expect("json");
    let leaf = base64::engine::general_purpose::STANDARD
        .decode(contents[0]["leaf"].as_str().expect("leaf"))
        .expect("base64");
    serde_json::from_slice(&leaf).expect("entry json")
}

/// Takes a new notice of the government-services department from draft to sealed: the
/// drafter a clerk, the department's administrator reviewing and signing.
async fn sealed_notice(app: &TestApp, code: &str) -> String {
    let drafter = "demo.clerk.city";
    let leader = "demo.deptadmin";
    let token = |who: &str| app.account(who).api_token.clone();
    let claimed = app
        .post_as(
            &token(leader),
            "/api/v1/office/codes",
            &json!({"code": code}),
        )
        .await;
    assert_eq!(claimed.status(), 201);
    let notice = serde_json::to_value(tongban_app::office::examples::notice(3)).expect("json");
    let created: Value = app
        .post_as(
            &token(drafter),
            "/api/v1/office/documents",
            &json!({"code": code, "draft": notice}),
        )
        .await
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    let leader_id = app.account_id_of(leader).await;
    acted(
        app,
        drafter,
        &id,
        json!({"act": "submit", "reviewers": [leader_id], "leader": leader_id}),
    )
    .await;
    acted(app, leader, &id, json!({"act": "agree", "opinion": "同意"})).await;
    acted(
        app,
        leader,
        &id,
        json!({"act": "sign", "opinion": "同意印发"}),
    )
    .await;
    acted(app, drafter, &id, json!({"act": "recheck"})).await;
    // Before the seal there is no file.
    let early = app
        .get_as(
            &token(drafter),
            &format!("/api/v1/office/documents/{id}/pdf"),
        )
        .await;
    assert_eq!(problem(early).await.0, 409);
    acted(app, drafter, &id, json!({"act": "seal"})).await;
    id
}

#[tokio::test]
async fn a_sealed_document_is_a_signed_pdf_that_chains_to_the_deployments_root() {
    if !std::path::Path::new("/usr/share/fonts/truetype/arphic/uming.ttc").exists() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "the document faces are missing under CI: install fonts-arphic-uming fonts-arphic-ukai"
        );
        eprintln!("skipped: fonts-arphic-uming and fonts-arphic-ukai are not installed");
        return;
    }
    let app = spawn_app().await;
    let id = sealed_notice(&app, "临政办发").await;
    let clerk = app.account("demo.clerk.city").api_token.clone();
    let path = format!("/api/v1/office/documents/{id}/pdf");
    let response = app.get_as(&clerk, &path).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or_default(),
        "application/pdf"
    );
    let file = response.bytes().await.expect("body").to_vec();
    let verified = tongban_pades::verify(&file).expect("the signature verifies");
    assert_eq!(verified.signer, "CN=临江市政务服务管理局,C=CN");
    // The international profile seals with ECDSA P-256, which PDF readers take.
    assert_eq!(
        verified.algorithm,
        tongban_crypto::SignatureAlgorithm::Es256
    );
    assert!(
        verified
            .time
            .as_deref()
            .is_some_and(|t| t.ends_with("+08'00'"))
    );
    // The chain ends in the root the deployment publishes.
    let pem = app
        .client
        .get(app.url("/api/v1/office/root-certificate"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("pem");
    let root = tongban_pades::cert::from_pem(&pem).expect("a PEM certificate");
    assert_eq!(verified.root(), root.as_slice());
    // The same bytes on every read (made once), its digest in the transparency log.
    let again = app.get_as(&clerk, &path).await.bytes().await.expect("body");
    assert_eq!(again.as_ref(), file.as_slice());
    let stored = sqlx::query_as::<_, (String, Option<i64>)>(
        "SELECT digest, log_index FROM office_files WHERE document_id = $1",
    )
    .bind(id.clone())
    .fetch_one(app.state.pool())
    .await
    .expect("stored");
    let index = stored.1.expect("logged");
    let logged = log_entry(&app, index).await;
    assert_eq!(logged["kind"], "office_file");
    assert_eq!(logged["document"], id.as_str());
    assert_eq!(logged["digest"], stored.0.as_str());
    // Outside the department there is no such document, nor its file.
    let outsider = app
        .get_as(&app.account("demo.clerk.market").api_token.clone(), &path)
        .await;
    assert_eq!(problem(outsider).await.0, 404);
    // The page links it, and serves it to the session.
    let mut browser = app
        .page_login(&app.account("demo.clerk.city").clone())
        .await;
    let page = browser
        .get(&app, &format!("/office/documents/{id}"))
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains(&format!("/office/documents/{id}/pdf")));
    let download = browser
        .get(&app, &format!("/office/documents/{id}/pdf"))
        .await;
    assert_eq!(download.status(), 200);
    assert_eq!(
        download.bytes().await.expect("body").as_ref(),
        file.as_slice()
    );
    // A changed byte is caught.
    let mut altered = file.clone();
    let at = altered.len() / 3;
    altered[at] ^= 0x01;
    assert!(tongban_pades::verify(&altered).is_err());
    if let Ok(out) = std::env::var("TONGBAN_OFFICE_PDF_OUT") {
        std::fs::write(&out, &file).expect("written");
        std::fs::write(format!("{out}.root.pem"), &pem).expect("written");
    }
}
