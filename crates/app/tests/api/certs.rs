//! 电子证照: the demo's filled wallets, issuance by an authorised department only, items that
//! follow the type, and signatures that verify against the issuers' keys.

use serde_json::{Value, json};

use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn every_demo_holder_starts_with_two_certificates_that_verify() {
    let app = spawn_app().await;
    let mut keys = tongban_crypto::KeyRing::new();
    for key in tongban_app::keys::service::verification_keys(&app.state)
        .await
        .expect("keys")
    {
        if let Some(public) = key.public_key() {
            keys.insert(key.kid.clone(), public);
        }
    }
    let today = time::OffsetDateTime::now_utc().date();
    for username in [
        "citizen.zhangwei",
        "citizen.lina",
        "citizen.wangfang",
        "citizen.chenming",
        "enterprise.qingyuan",
        "enterprise.yunqi",
    ] {
        let token = app.account(username).api_token.clone();
        let wallet: Value = app
            .get_as(&token, "/api/v1/wallet")
            .await
            .json()
            .await
            .expect("json");
        let wallet = wallet.as_array().expect("list");
        assert_eq!(wallet.len(), 2, "{username}: {wallet:?}");
        for entry in wallet {
            assert_eq!(entry["status"], "valid");
            let id = entry["id"].as_str().expect("id");
            assert!(id.parse::<tongban_core::CertificateId>().is_ok(), "{id}");
            let item: Value = app
                .get_as(&token, &format!("/api/v1/wallet/{id}"))
                .await
                .json()
                .await
                .expect("json");
            let signed: tongban_certs::SignedCertificate =
                serde_json::from_value(item["signed"].clone()).expect("a signed certificate");
            assert_eq!(tongban_certs::verify(&signed, &keys, today), Ok(()), "{id}");
        }
    }
    // Stored sealed: no holder name in clear.
    let documents: Vec<Vec<u8>> = sqlx::query_scalar("SELECT document_sealed FROM certificates")
        .fetch_all(app.state.pool())
        .await
        .expect("rows");
    let name = "张伟".as_bytes();
    assert!(
        documents
            .iter()
            .all(|d| !d.windows(name.len()).any(|w| w == name))
    );
    // One holder cannot open another's certificate.
    let theirs: Value = app
        .get_as(&app.account("citizen.lina").api_token, "/api/v1/wallet")
        .await
        .json()
        .await
        .expect("json");
    let other = theirs[0]["id"].as_str().expect("id");
    assert_eq!(
        app.get_as(
            &app.account("citizen.zhangwei").api_token,
            &format!("/api/v1/wallet/{other}")
        )
        .await
        .status(),
        404
    );
}

#[tokio::test]
async fn only_an_authorised_department_issues_and_only_what_the_type_defines() {
    let app = spawn_app().await;
    let types: Value = app
        .get_as(
            &app.account("demo.clerk.market").api_token,
            "/api/v1/cert-types",
        )
        .await
        .json()
        .await
        .expect("json");
    let code_of = |name: &str| {
        types
            .as_array()
            .and_then(|list| list.iter().find(|t| t["name"] == name))
            .and_then(|t| t["code"].as_str())
            .expect("type")
            .to_owned()
    };
    let food = code_of("食品经营许可证");
    let yunqi = app.account("enterprise.yunqi").uscc.clone().expect("uscc");
    let good = json!({
        "type_code": food,
        "uscc": yunqi,
        "items": {"operator": "临江云栖餐饮有限公司", "main_format": "餐饮服务经营者", "scope": ["热食类食品制售"]},
    });
    let market = app.account("demo.clerk.market").api_token.clone();
    let before = app.count("certificates").await;

    let mut missing = good.clone();
    missing["items"]
        .as_object_mut()
        .expect("items")
        .remove("scope");
    let mut unknown = good.clone();
    unknown["items"]["colour"] = json!("red");
    let mut wrong_kind = good.clone();
    wrong_kind["items"]["scope"] = json!("热食类食品制售");
    let mut to_a_person = good.clone();
    to_a_person.as_object_mut().expect("body").remove("uscc");
    to_a_person["resident_id"] = json!(app.account("citizen.lina").resident_id);
    let mut no_type = good.clone();
    no_type["type_code"] = json!("91350100M000100Y43999");
    for (token, body, status) in [
        (market.clone(), missing, 422),
        (market.clone(), unknown, 422),
        (market.clone(), wrong_kind, 422),
        (market.clone(), to_a_person, 422),
        (market.clone(), no_type, 422),
        // A clerk of a department not authorised for the type.
        (
            app.account("demo.clerk.tax").api_token.clone(),
            good.clone(),
            403,
        ),
        (
            app.account("demo.clerk").api_token.clone(),
            good.clone(),
            403,
        ),
        (
            app.account("enterprise.yunqi").api_token.clone(),
            good.clone(),
            403,
        ),
    ] {
        let (got, detail) = problem(app.post_as(&token, "/api/v1/certs", &body).await).await;
        assert_eq!(got, status, "{body}: {detail}");
    }
    assert_eq!(app.count("certificates").await, before, "nothing issued");

    let issued = app.post_as(&market, "/api/v1/certs", &good).await;
    assert_eq!(issued.status(), 201);
    let issued: Value = issued.json().await.expect("json");
    assert_eq!(issued["certificate"]["type_name"], "食品经营许可证");
    assert_eq!(issued["certificate"]["holder"]["code"], yunqi.as_str());
    let wallet: Value = app
        .get_as(&app.account("enterprise.yunqi").api_token, "/api/v1/wallet")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(wallet.as_array().map(Vec::len), Some(3));
}
