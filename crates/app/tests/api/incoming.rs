//! 收文: a sent document reaches the inboxes of the organs of this deployment it names (and
//! only those), where each step is taken by whom it is for — 签收, 登记 with a register number,
//! 交办 with a limit in working days, 传阅, 催办 (by the secretariat, and once by the platform as
//! the limit nears), 阅, 答复 — every act in its history and the transparency log, and the
//! sender sees where it went and the answer.

use serde_json::{Value, json};
use tongban_app::identity::model::Language;
use tongban_app::identity::service::actor_of_username;
use tongban_app::web::i18n::Tr;

use crate::helpers::{TestApp, problem, spawn_app};
use crate::office::{acted, log_entry};

const TITLE: &str = "临江市政务服务管理局关于开展政务服务“好差评”交叉检查的通知";

/// Takes a notice of the government-services administration to 江北区政务服务管理局, copied to
/// the market regulator and to an organ that is not this deployment's, from draft to sent.
async fn sent_notice(app: &TestApp) -> String {
    sent_document(
        app,
        TITLE,
        &["临江市市场监督管理局", "临江市人民政府办公室"],
    )
    .await
}

/// A notice of the city's government-services administration titled `title`, to
/// 江北区政务服务管理局 and copied to `copied`, taken from draft to sent.
pub(crate) async fn sent_document(app: &TestApp, title: &str, copied: &[&str]) -> String {
    let drafter = "demo.clerk.city";
    let leader = "demo.deptadmin";
    let mut notice = serde_json::to_value(tongban_app::office::examples::notice(7)).expect("json");
    notice["title"] = json!(title);
    notice["main_recipients"] = json!([
        {"name": "江北区政务服务管理局", "relation": "subordinate"}
    ]);
    notice["copied_to"] = copied
        .iter()
        .map(|name| json!({"name": name, "relation": "unrelated"}))
        .collect();
    let token = app.account(drafter).api_token.clone();
    let created = app
        .post_as(
            &token,
            "/api/v1/office/documents",
            &json!({"code": "临政服发", "draft": notice}),
        )
        .await;
    assert_eq!(
        created.status(),
        201,
        "{}",
        created.text().await.unwrap_or_default()
    );
    let created: Value = created.json().await.expect("json");
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
    for act in ["recheck", "seal", "register", "distribute"] {
        acted(app, drafter, &id, json!({"act": act})).await;
    }
    id
}

pub(crate) async fn act_in(app: &TestApp, who: &str, id: &str, body: Value) -> reqwest::Response {
    let token = app.account(who).api_token.clone();
    app.post_as(&token, &format!("/api/v1/office/incoming/{id}/acts"), &body)
        .await
}

async fn acted_in(app: &TestApp, who: &str, id: &str, body: Value) -> Value {
    let response = act_in(app, who, id, body.clone()).await;
    assert_eq!(
        response.status(),
        200,
        "{who} {body}: {}",
        response.text().await.unwrap_or_default()
    );
    response.json().await.expect("json")
}

/// The id of the received copy of `TITLE` in `who`'s organ.
async fn received_by(app: &TestApp, who: &str) -> String {
    let token = app.account(who).api_token.clone();
    let list: Value = app
        .get_as(&token, "/api/v1/office/incoming")
        .await
        .json()
        .await
        .expect("json");
    let found = list
        .as_array()
        .expect("list")
        .iter()
        .find(|l| l["title"] == TITLE)
        .unwrap_or_else(|| panic!("{who} received it: {list}"));
    assert_eq!(found["step"], "receiving");
    assert_eq!(found["sender"], "临江市政务服务管理局");
    found["id"].as_str().expect("id").to_owned()
}

async fn todo_kinds(app: &TestApp, who: &str) -> Vec<(String, String, u8, Option<i64>)> {
    let actor = actor_of_username(&app.state, who)
        .await
        .expect("actor")
        .expect("exists");
    tongban_app::module::todo_list(&app.state, &actor, Tr(Language::Zh), 50)
        .await
        .expect("todo")
        .items
        .into_iter()
        .map(|i| (i.kind, i.title, i.urgency, i.due))
        .collect()
}

#[tokio::test]
async fn a_sent_document_is_received_registered_handled_circulated_and_answered_in_each_organ_named()
 {
    let app = spawn_app().await;
    let document = sent_notice(&app).await;
    let sender = app.account("demo.clerk.city").api_token.clone();

    // Delivered to the two organs of this deployment it names; the third is sent outside.
    let seen: Value = app
        .get_as(&sender, &format!("/api/v1/office/documents/{document}"))
        .await
        .json()
        .await
        .expect("json");
    let deliveries = seen["deliveries"].as_array().expect("deliveries");
    assert_eq!(deliveries.len(), 3, "{seen}");
    assert_eq!(deliveries[0]["recipient"], "江北区政务服务管理局");
    assert_eq!(deliveries[0]["step"], "receiving");
    assert_eq!(deliveries[1]["copied"], true);
    assert_eq!(deliveries[1]["step"], "receiving");
    assert!(deliveries[2]["step"].is_null());

    let market = received_by(&app, "demo.clerk.market").await;
    let jiangbei = received_by(&app, "demo.clerk").await;
    // An organ it was not sent to neither finds it nor acts on it.
    let tax = app.account("demo.clerk.tax").api_token.clone();
    let hidden = app
        .get_as(&tax, &format!("/api/v1/office/incoming/{market}"))
        .await;
    assert_eq!(problem(hidden).await.0, 404);
    let stranger = act_in(&app, "demo.clerk.tax", &market, json!({"act": "receive"})).await;
    assert_eq!(problem(stranger).await.0, 404);
    // Its secretariat has it to sign for in the one to-do list.
    let todo = todo_kinds(&app, "demo.clerk.market").await;
    assert!(
        todo.iter()
            .any(|(k, t, _, _)| k == "收文签收" && t.starts_with(TITLE)),
        "{todo:?}"
    );

    // Steps in their order only; a refusal without its reason is refused and changes nothing.
    let early = act_in(
        &app,
        "demo.clerk.market",
        &market,
        json!({"act": "register"}),
    )
    .await;
    assert_eq!(problem(early).await.0, 409);
    let bare = act_in(&app, "demo.clerk", &jiangbei, json!({"act": "refuse"})).await;
    assert_eq!(problem(bare).await.0, 422);
    acted_in(
        &app,
        "demo.clerk",
        &jiangbei,
        json!({"act": "refuse", "opinion": "非本机关职责，请改送区行政服务中心"}),
    )
    .await;

    acted_in(
        &app,
        "demo.clerk.market",
        &market,
        json!({"act": "receive"}),
    )
    .await;
    let registered = acted_in(
        &app,
        "demo.clerk.market",
        &market,
        json!({"act": "register"}),
    )
    .await;
    let year = app.state.today().year();
    let number = registered["register_number"].as_str().expect("number");
    assert!(number.starts_with(&format!("收〔{year}〕")), "{number}");
    // A handler from another organ, or a limit of no days, is refused.
    let handler = app.account_id_of("demo.clerk.market").await;
    let other = app.account_id_of("demo.clerk.tax").await;
    for body in [
        json!({"act": "assign", "handler": other, "days": 3}),
        json!({"act": "assign", "handler": handler, "days": 0}),
        json!({"act": "assign", "handler": handler}),
    ] {
        let refused = act_in(&app, "demo.deptadmin.market", &market, body).await;
        assert_eq!(problem(refused).await.0, 422);
    }
    let assigned = acted_in(
        &app,
        "demo.deptadmin.market",
        &market,
        json!({"act": "assign", "handler": handler, "days": 3, "opinion": "请登记注册处办理"}),
    )
    .await;
    assert_eq!(assigned["step"], "handling");
    let due = assigned["due_day"].as_str().expect("due").to_owned();
    assert!(due > tongban_core::zone::ymd(app.state.today()), "{due}");
    // The handler has it, due at the end of its last day.
    let todo = todo_kinds(&app, "demo.clerk.market").await;
    let item = todo
        .iter()
        .find(|(k, t, _, _)| k == "收文承办" && t.starts_with(TITLE))
        .unwrap_or_else(|| panic!("{todo:?}"));
    assert!(item.3.is_some() && item.2 == 0);

    // Circulated to the organ's head, who reads it once; only the handler answers.
    let head = app.account_id_of("demo.deptadmin.market").await;
    let circulated = acted_in(
        &app,
        "demo.clerk.market",
        &market,
        json!({"act": "circulate", "readers": [head]}),
    )
    .await;
    assert_eq!(circulated["readers"][0]["read_at"], Value::Null);
    let todo = todo_kinds(&app, "demo.deptadmin.market").await;
    assert!(
        todo.iter()
            .any(|(k, t, _, _)| k == "公文传阅" && t.starts_with(TITLE))
    );
    let not_theirs = act_in(
        &app,
        "demo.deptadmin.market",
        &market,
        json!({"act": "reply", "opinion": "已阅"}),
    )
    .await;
    assert_eq!(problem(not_theirs).await.0, 403);
    acted_in(
        &app,
        "demo.deptadmin.market",
        &market,
        json!({"act": "read", "opinion": "请认真组织落实"}),
    )
    .await;
    let twice = act_in(
        &app,
        "demo.deptadmin.market",
        &market,
        json!({"act": "read"}),
    )
    .await;
    assert_eq!(problem(twice).await.0, 403);
    let todo = todo_kinds(&app, "demo.deptadmin.market").await;
    assert!(!todo.iter().any(|(k, _, _, _)| k == "公文传阅"), "{todo:?}");

    // The secretariat reminds the handler: the item stands out as urgent.
    acted_in(
        &app,
        "demo.deptadmin.market",
        &market,
        json!({"act": "urge"}),
    )
    .await;
    let todo = todo_kinds(&app, "demo.clerk.market").await;
    assert!(
        todo.iter()
            .any(|(k, t, u, _)| k == "收文承办" && t.starts_with(TITLE) && *u >= 1)
    );

    let answer = "已按通知要求组织交叉检查，检查情况另行报送。";
    let done = acted_in(
        &app,
        "demo.clerk.market",
        &market,
        json!({"act": "reply", "opinion": answer}),
    )
    .await;
    assert_eq!(done["step"], "done");
    let acts: Vec<&str> = done["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["act"].as_str().expect("act"))
        .collect();
    assert_eq!(
        acts,
        [
            "receive",
            "register",
            "assign",
            "circulate",
            "read",
            "urge",
            "reply"
        ]
    );
    let again = act_in(
        &app,
        "demo.clerk.market",
        &market,
        json!({"act": "reply", "opinion": "x"}),
    )
    .await;
    assert_eq!(problem(again).await.0, 409);

    // Every act is witnessed in the transparency log with its opinion's digest.
    let last = done["history"]
        .as_array()
        .expect("history")
        .last()
        .expect("reply")
        .clone();
    let index = last["log_index"].as_i64().expect("witnessed");
    let entry = log_entry(&app, index).await;
    assert_eq!(entry["kind"], "office_incoming_act");
    assert_eq!(entry["incoming"], market.as_str());
    assert_eq!(entry["opinion_digest"], last["opinion_digest"]);

    // The sender sees where it went: refused in one organ, answered in the other.
    let seen: Value = app
        .get_as(&sender, &format!("/api/v1/office/documents/{document}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(seen["deliveries"][0]["step"], "refused");
    assert_eq!(seen["deliveries"][1]["step"], "done");
    assert_eq!(seen["deliveries"][1]["reply"], answer);
}

#[tokio::test]
async fn the_platform_reminds_a_handler_once_as_the_limit_nears_and_the_inbox_pages_work() {
    let app = spawn_app().await;
    // The demo city's notice waits with Jiangbei's clerk, five working days from the seeding.
    let clerk = app.account("demo.clerk").clone();
    let mut browser = app.page_login(&clerk).await;
    let inbox = browser
        .get(&app, "/office/incoming")
        .await
        .text()
        .await
        .expect("page");
    let title = "临江市政务服务管理局关于推行“一件事一次办”集成服务的通知";
    assert!(
        inbox.contains(title) && inbox.contains("收文承办"),
        "{inbox}"
    );
    let start = inbox.find(title).expect("listed");
    let link = inbox[..start].rfind("/office/incoming/").expect("link");
    let id: String = inbox[link + "/office/incoming/".len()..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();
    // Nothing to remind of yet.
    assert_eq!(
        tongban_app::office::incoming::urge_due(&app.state)
            .await
            .expect("urge"),
        0
    );
    // A week on, the limit has come: one reminder, not two.
    app.clock.advance(time::Duration::days(7));
    let urged = tongban_app::office::incoming::urge_due(&app.state)
        .await
        .expect("urge");
    assert!(urged >= 1);
    assert_eq!(
        tongban_app::office::incoming::urge_due(&app.state)
            .await
            .expect("urge"),
        0
    );
    // (A week on, the session has lapsed: the clerk signs in again.)
    let mut browser = app.page_login(&clerk).await;
    let page = browser
        .get(&app, &format!("/office/incoming/{id}"))
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("系统催办") && page.contains("催办"), "{page}");
    // Laid out as sent: the sender's mark and number, and the handler's act.
    assert!(page.contains("临江市政务服务管理局文件") && page.contains("临政服发〔"));
    let todo = todo_kinds(&app, "demo.clerk").await;
    assert!(
        todo.iter()
            .any(|(k, t, u, _)| k == "收文承办" && t.starts_with(title) && *u >= 1)
    );
    // Answered on the page; an answer left empty is refused in words.
    let csrf = crate::helpers::hidden_csrf(&page);
    let path = format!("/office/incoming/{id}/acts");
    let empty = browser
        .post_form(&app, &path, &[("csrf", &csrf), ("act", "reply")])
        .await;
    assert_eq!(empty.status(), 422);
    let answered = browser
        .post_form(
            &app,
            &path,
            &[
                ("csrf", &csrf),
                ("act", "reply"),
                ("opinion", "培训已完成，名单已报市局"),
            ],
        )
        .await;
    assert!(answered.status().is_redirection() || answered.status().is_success());
    let page = browser
        .get(&app, &format!("/office/incoming/{id}"))
        .await
        .text()
        .await
        .expect("page");
    assert!(
        page.contains("已办结") && page.contains("培训已完成"),
        "{page}"
    );
}
