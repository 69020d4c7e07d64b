//! 跨地区公文交换: two regions, two databases, two gateways. Region A reads the organs of its
//! partner B through the exchange; a document A sends that names an organ of B (抄送) goes to B
//! as one package, written with the sending and sent by A's exchange job; B makes one received
//! copy in that organ's inbox however often the package arrives; A's sender sees that B took
//! it. Packages that are not documents, or name none of B's organs, are refused and change
//! nothing.

use serde_json::{Value, json};

use crate::across::{own_members, recognise, region, uscc};
use crate::helpers::TestApp;

const TITLE: &str = "临江市政务服务管理局关于开展跨地区政务服务协作的通知";
const B_MARKET: &str = "深圳市市场监督管理局";

/// Each region grants the other's government-services administration its document exchange,
/// and records it as a partner.
async fn partners(a: &TestApp, b: &TestApp) {
    let until = tongban_core::zone::ymd(b.state.today() + time::Duration::days(365));
    let items: Vec<&str> = tongban_app::office::exchange::ITEMS
        .iter()
        .map(|(code, _, _)| *code)
        .collect();
    for (owner, other) in [(b, a), (a, b)] {
        let token = owner.account("demo.deptadmin").api_token.clone();
        let granted = owner
            .post_as(
                &token,
                "/api/v1/exchange/foreign-grants",
                &json!({"resource": "GW-TB-001", "uscc": uscc(other, "government_services").await,
                    "name": "合作地区政务服务管理局", "items": items,
                    "purpose": "跨地区公文交换：公文送达与机关名录",
                    "legal_basis": "《党政机关公文处理工作条例》", "until": until}),
            )
            .await;
        assert_eq!(
            granted.status(),
            201,
            "{}",
            granted.text().await.unwrap_or_default()
        );
    }
    for (here, other) in [(a, b), (b, a)] {
        let token = here.account("demo.deptadmin").api_token.clone();
        let added = here
            .post_as(
                &token,
                "/api/v1/cross-region/partners",
                &json!({"region": other.state.config.region_code,
                    "intake_uscc": uscc(other, "government_services").await, "name": "合作地区"}),
            )
            .await;
        assert_eq!(
            added.status(),
            201,
            "{}",
            added.text().await.unwrap_or_default()
        );
    }
}

async fn copies_in(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM office_incoming WHERE title = $1")
        .bind(TITLE)
        .fetch_one(app.state.pool())
        .await
        .expect("count")
}

async fn sent_to(app: &TestApp, id: &str) -> Value {
    let token = app.account("demo.clerk.city").api_token.clone();
    let document: Value = app
        .get_as(&token, &format!("/api/v1/office/documents/{id}"))
        .await
        .json()
        .await
        .expect("document");
    document["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .find(|d| d["recipient"] == B_MARKET)
        .cloned()
        .unwrap_or_else(|| panic!("{B_MARKET} among {document}"))
}

#[tokio::test]
async fn a_document_reaches_an_organ_of_another_region_through_the_exchange_once() {
    let a = region("339900").await;
    let b = region("440300").await;
    let common = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    a.clock.set(common);
    b.clock.set(common);
    own_members(&b).await;
    // B's organs have B's names (both demo cities seed the same ones).
    sqlx::query("UPDATE departments SET name = $1 WHERE kind = 'market_regulation' AND region_code = '339900'")
        .bind(B_MARKET)
        .execute(b.state.pool())
        .await
        .expect("renamed");
    recognise(&b, &a).await;
    recognise(&a, &b).await;
    partners(&a, &b).await;

    // A reads B's organs through the exchange.
    tongban_app::office::exchange::refresh_all(&a.state)
        .await
        .expect("refreshed");
    let listed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM office_remote_organs WHERE region = '440300' AND name = $1 AND message_id <> ''",
    )
    .bind(B_MARKET)
    .fetch_one(a.state.pool())
    .await
    .expect("count");
    assert_eq!(
        listed, 1,
        "B's market regulator on A's list, with the exchange's id"
    );

    // Sent in A: 江北区 receives it there, B's organ waits for the exchange, the third is
    // sent outside the platform.
    let id = crate::incoming::sent_document(&a, TITLE, &[B_MARKET, "某省人民政府办公厅"]).await;
    assert_eq!(copies_in(&a).await, 1, "江北区's copy in A");
    assert_eq!(
        copies_in(&b).await,
        0,
        "nothing in B before the exchange sends"
    );
    let waiting = sent_to(&a, &id).await;
    assert_eq!(waiting["region"], "440300");
    assert_eq!(waiting["exchange"], "sending");

    // A's exchange job sends it; B's market regulator has it to sign for.
    let taken = tongban_app::office::exchange::send_due(&a.state)
        .await
        .expect("sent");
    assert_eq!(taken, 1);
    assert_eq!(copies_in(&b).await, 1);
    let clerk = b.account("demo.clerk.market").api_token.clone();
    let inbox: Value = b
        .get_as(&clerk, "/api/v1/office/incoming")
        .await
        .json()
        .await
        .expect("inbox");
    let copy = inbox
        .as_array()
        .expect("list")
        .iter()
        .find(|l| l["title"] == TITLE)
        .unwrap_or_else(|| panic!("in B's market regulator's inbox: {inbox}"))
        .clone();
    assert_eq!(copy["sender"], "临江市政务服务管理局");
    assert_eq!(copy["step"], "receiving");
    assert!(
        copy["number"]
            .as_str()
            .unwrap_or_default()
            .starts_with("临政服发〔")
    );
    let incoming = copy["id"].as_str().expect("id");
    let signed =
        crate::incoming::act_in(&b, "demo.clerk.market", incoming, json!({"act": "receive"})).await;
    assert_eq!(signed.status(), 200);
    assert_eq!(sent_to(&a, &id).await["exchange"], "delivered");

    // Sent again (an answer lost on the way): B keeps one copy.
    sqlx::query("UPDATE office_exchange_out SET outcome = NULL, next_at = 0")
        .execute(a.state.pool())
        .await
        .expect("undone");
    assert_eq!(
        tongban_app::office::exchange::send_due(&a.state)
            .await
            .expect("sent"),
        1
    );
    assert_eq!(copies_in(&b).await, 1, "one copy however often it arrives");
    let answer: String = sqlx::query_scalar("SELECT answer FROM office_exchange_out")
        .fetch_one(a.state.pool())
        .await
        .expect("answer");
    assert!(answer.contains("\"duplicate\":true"), "{answer}");

    // What is not a document, or names none of B's organs, is refused and writes nothing.
    let before = b.count("office_incoming").await;
    let garbage = tongban_app::office::exchange::receive(&b.state, "339900", b"{\"document\": 1}")
        .await
        .expect("answered");
    assert_eq!(garbage.status, 400);
    let mut stranger: Value = serde_json::from_str(
        &sqlx::query_scalar::<_, String>("SELECT body FROM office_exchange_out")
            .fetch_one(a.state.pool())
            .await
            .expect("body"),
    )
    .expect("package");
    stranger["document"] = json!("another");
    stranger["recipients"] = json!([{"uscc": "91110000000000000X", "name": "无此机关"}]);
    let refused =
        tongban_app::office::exchange::receive(&b.state, "339900", stranger.to_string().as_bytes())
            .await
            .expect("answered");
    assert_eq!(refused.status, 422);
    stranger["recipients"] = json!([]);
    let empty =
        tongban_app::office::exchange::receive(&b.state, "339900", stranger.to_string().as_bytes())
            .await
            .expect("answered");
    assert_eq!(empty.status, 422);
    assert_eq!(b.count("office_incoming").await, before);
}
