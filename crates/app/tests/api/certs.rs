//! 电子证照: the demo's filled wallets, issuance by an authorised department only, items that
//! follow the type, and signatures that verify against the issuers' keys.

use serde_json::{Value, json};

use crate::helpers::{problem, spawn_app};

/// Every key the platform publishes (issuers', the platform's own).
pub async fn issuer_keys(app: &crate::helpers::TestApp) -> tongban_crypto::KeyRing {
    let mut keys = tongban_crypto::KeyRing::new();
    for key in tongban_app::keys::service::verification_keys(&app.state)
        .await
        .expect("keys")
    {
        if let Some(public) = key.public_key() {
            keys.insert(key.kid.clone(), public);
        }
    }
    keys
}

#[tokio::test]
async fn every_demo_holder_starts_with_two_certificates_that_verify() {
    let app = spawn_app().await;
    let keys = issuer_keys(&app).await;
    let now = app.now_seconds();
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
            assert_eq!(tongban_certs::verify(&signed, &keys, now), Ok(()), "{id}");
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

/// The issuer suspends, reinstates and revokes; online verifiers see each change at once; the
/// holder's wallet shows it; a changed certificate never verifies.
#[tokio::test]
async fn issuers_suspend_reinstate_and_revoke_and_verifiers_see_it_at_once() {
    let app = spawn_app().await;
    let holder = app.account("enterprise.qingyuan").api_token.clone();
    let market = app.account("demo.clerk.market").api_token.clone();
    let verifier = app.account("demo.clerk.tax").api_token.clone();
    let wallet: Value = app
        .get_as(&holder, "/api/v1/wallet")
        .await
        .json()
        .await
        .expect("json");
    let licence = wallet
        .as_array()
        .and_then(|l| l.iter().find(|c| c["type_name"] == "营业执照"))
        .expect("a licence");
    let id = licence["id"].as_str().expect("id").to_owned();
    let item: Value = app
        .get_as(&holder, &format!("/api/v1/wallet/{id}"))
        .await
        .json()
        .await
        .expect("json");
    let signed = item["signed"].clone();
    let check = |certificate: Value| {
        let (app, verifier) = (&app, verifier.clone());
        async move {
            let response = app
                .post_as(
                    &verifier,
                    "/api/v1/certs/verify",
                    &json!({"certificate": certificate}),
                )
                .await;
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.expect("json")
        }
    };
    let change = |action: &'static str, reason: &'static str, token: String| {
        let (app, id) = (&app, id.clone());
        async move {
            app.post_as(
                &token,
                &format!("/api/v1/certs/{id}/status"),
                &json!({"action": action, "reason": reason}),
            )
            .await
            .status()
            .as_u16()
        }
    };
    let first = check(signed.clone()).await;
    assert_eq!(
        (first["valid"].clone(), first["status"].clone()),
        (json!(true), json!("valid"))
    );

    assert_eq!(
        change("suspend", "涉嫌虚假登记，调查中", verifier.clone()).await,
        403,
        "not the issuer"
    );
    assert_eq!(
        change("suspend", " ", market.clone()).await,
        422,
        "a reason is required"
    );
    assert_eq!(
        change("suspend", "涉嫌虚假登记，调查中", market.clone()).await,
        204
    );
    let suspended = check(signed.clone()).await;
    assert_eq!(
        (suspended["valid"].clone(), suspended["status"].clone()),
        (json!(false), json!("suspended"))
    );
    // Offline: the issuer's signed status list says the same, from the certificate's own bit.
    let certificate: tongban_certs::SignedCertificate =
        serde_json::from_value(signed.clone()).expect("certificate");
    let entry = certificate
        .certificate
        .status
        .clone()
        .expect("a status entry");
    let listed = || {
        let (app, entry, certificate) = (&app, entry.clone(), certificate.clone());
        async move {
            let response = crate::helpers::get_url(
                app.url(&format!("/api/v1/certs/status-lists/{}", entry.list)),
            )
            .await
            .expect("fetch");
            assert_eq!(response.status(), 200, "public, no login");
            assert!(
                response.headers()["cache-control"]
                    .to_str()
                    .expect("text")
                    .contains("max-age")
            );
            let list: tongban_certs::status::SignedStatusList =
                response.json().await.expect("a signed list");
            let keys = issuer_keys(app).await;
            let now = app.now_seconds();
            tongban_certs::status::verify(&list, &keys, now).expect("signed by the issuer");
            tongban_certs::status::status_of(&list, &certificate)
                .expect("listed")
                .as_str()
        }
    };
    assert_eq!(listed().await, "suspended");
    assert_eq!(change("reinstate", "调查结束", market.clone()).await, 204);
    assert_eq!(check(signed.clone()).await["status"], "valid");
    assert_eq!(listed().await, "valid");
    assert_eq!(change("revoke", "依法吊销", market.clone()).await, 204);
    assert_eq!(check(signed.clone()).await["status"], "revoked");
    assert_eq!(listed().await, "revoked");
    assert_eq!(
        change("reinstate", "撤回", market.clone()).await,
        409,
        "revocation is final"
    );
    let wallet: Value = app
        .get_as(&holder, "/api/v1/wallet")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        wallet
            .as_array()
            .expect("list")
            .iter()
            .any(|c| c["id"] == id.as_str() && c["status"] == "revoked")
    );

    let mut forged = signed.clone();
    forged["certificate"]["holder"]["name"] = json!("另一家公司");
    let refused = check(forged).await;
    assert_eq!(refused["valid"], false);
    assert_eq!(refused["reason"], "bad_signature");
}

/// The wallet page lists the holder's certificates and opens one; another holder's is not found.
#[tokio::test]
async fn the_wallet_page_lists_and_opens_certificates() {
    let app = spawn_app().await;
    let mut enterprise = app.page_login(app.account("enterprise.qingyuan")).await;
    let page = enterprise
        .get(&app, "/wallet")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("营业执照") && page.contains("完税证明") && page.contains("有效"),
        "{page}"
    );
    let link = page
        .split("href=\"/wallet/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link")
        .to_owned();
    let opened = enterprise
        .get(&app, &format!("/wallet/{link}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(
        opened.contains("临江市市场监督管理局") || opened.contains("临江市税务局"),
        "{opened}"
    );
    assert!(opened.contains(&link));
    let mut other = app.page_login(app.account("enterprise.yunqi")).await;
    assert_eq!(
        other.get(&app, &format!("/wallet/{link}")).await.status(),
        404
    );
}

/// 亮证: the holder shows chosen items as a short-lived code; a verifier scans it and sees
/// those items, the issuer and the status now; revocation shows at once.
#[tokio::test]
async fn a_shown_certificate_reveals_only_the_chosen_items_and_its_status_now() {
    let app = spawn_app().await;
    let holder = app.account("enterprise.qingyuan").api_token.clone();
    let verifier = app.account("demo.clerk.tax").api_token.clone();
    let wallet: Value = app
        .get_as(&holder, "/api/v1/wallet")
        .await
        .json()
        .await
        .expect("json");
    let id = wallet
        .as_array()
        .and_then(|l| l.iter().find(|c| c["type_name"] == "营业执照"))
        .and_then(|c| c["id"].as_str())
        .expect("a licence")
        .to_owned();
    let show = |items: Value| {
        let (app, holder, id) = (&app, holder.clone(), id.clone());
        async move {
            app.post_as(
                &holder,
                &format!("/api/v1/wallet/{id}/show"),
                &json!({"items": items}),
            )
            .await
        }
    };
    let shown = show(json!(["name", "legal_representative"])).await;
    assert_eq!(shown.status(), 200);
    let shown: Value = shown.json().await.expect("json");
    let code = shown["code"].as_str().expect("code").to_owned();
    assert!(code.starts_with("TC1:"));
    assert!(
        !code.contains("食品销售"),
        "items not chosen are not in the code"
    );

    let scan = |body: Value| {
        let (app, verifier) = (&app, verifier.clone());
        async move { app.post_as(&verifier, "/api/v1/certs/verify", &body).await }
    };
    let seen: Value = scan(json!({"code": code}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(seen["valid"], true);
    assert_eq!(seen["status"], "valid");
    assert_eq!(seen["issuer"], "临江市市场监督管理局");
    let items = seen["items"].as_object().expect("items");
    assert_eq!(items.len(), 2);
    assert!(items.contains_key("name") && !items.contains_key("business_scope"));

    // Refused: an item the certificate lacks, someone else's certificate, both inputs at once.
    assert_eq!(problem(show(json!(["colour"])).await).await.0, 422);
    let other = app
        .post_as(
            &app.account("enterprise.yunqi").api_token,
            &format!("/api/v1/wallet/{id}/show"),
            &json!({"items": []}),
        )
        .await;
    assert_eq!(other.status(), 404);
    assert_eq!(
        problem(scan(json!({"code": code, "certificate": null, "extra": 1})).await)
            .await
            .0,
        422
    );
    let garbage: Value = scan(json!({"code": "TC1:NOT-A-CODE"}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(garbage["valid"], false);
    assert!(garbage["reason"].is_string());

    // Revoked: the same code now scans as revoked.
    let revoked = app
        .post_as(
            &app.account("demo.clerk.market").api_token,
            &format!("/api/v1/certs/{id}/status"),
            &json!({"action": "revoke", "reason": "依法吊销"}),
        )
        .await;
    assert_eq!(revoked.status(), 204);
    let seen: Value = scan(json!({"code": code}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        (seen["valid"].clone(), seen["status"].clone()),
        (json!(false), json!("revoked"))
    );
}

/// The scanner page reads a shown certificate as well as a pass.
#[tokio::test]
async fn the_scanner_page_reads_a_shown_certificate() {
    let app = spawn_app().await;
    let holder = app.account("enterprise.yunqi").api_token.clone();
    let wallet: Value = app
        .get_as(&holder, "/api/v1/wallet")
        .await
        .json()
        .await
        .expect("json");
    let id = wallet[0]["id"].as_str().expect("id").to_owned();
    let shown: Value = app
        .post_as(
            &holder,
            &format!("/api/v1/wallet/{id}/show"),
            &json!({"items": []}),
        )
        .await
        .json()
        .await
        .expect("json");
    let code = shown["code"].as_str().expect("code").to_owned();
    let result = app.scan_on_page("demo.venue", &code).await;
    assert!(
        result.contains("pass-green") && result.contains("有效"),
        "{result}"
    );
    assert!(result.contains(wallet[0]["type_name"].as_str().expect("type")));
}

/// Bulk issuance: each row is issued or reported with its error; nothing half-done.
#[tokio::test]
async fn bulk_issuance_issues_good_rows_and_reports_the_others() {
    use tongban_app::certs::{BulkRow, HolderInfo, cert_types, issue_many};
    let app = spawn_app().await;
    let departments = tongban_app::admin::store::departments(app.state.pool())
        .await
        .expect("departments");
    let market = departments
        .iter()
        .find(|d| d.kind == "market_regulation" && d.region_code.as_str() == "339900")
        .expect("the market regulator");
    let food = cert_types(&app.state)
        .await
        .expect("types")
        .into_iter()
        .find(|t| t.name == "食品经营许可证")
        .expect("type");
    let row = |n: usize, scope: Value| {
        BulkRow {
        holder: HolderInfo {
            kind: "enterprise",
            id: format!("bulk-{n}"),
            name: format!("企业{n}"),
            code: "91339901MA2AAAAA1X".into(),
        },
        items: serde_json::from_value(json!({"operator": format!("企业{n}"), "main_format": "食品销售经营者", "scope": scope}))
            .expect("items"),
    }
    };
    let before = app.count("certificates").await;
    let outcome = issue_many(
        &app.state,
        market,
        &food,
        vec![
            row(0, json!(["预包装食品"])),
            row(1, json!("not a list")),
            row(2, json!(["散装食品"])),
        ],
        "operator",
        &|_| {},
    )
    .await
    .expect("bulk");
    assert_eq!(outcome.issued.len(), 2);
    assert_eq!(outcome.failed.len(), 1);
    assert_eq!(outcome.failed[0].0, 1, "the row with the bad item");
    assert_eq!(app.count("certificates").await, before + 2);
    for id in &outcome.issued {
        assert!(id.parse::<tongban_core::CertificateId>().is_ok());
    }
}
