//! 互认: two regions on loopback. Region B refuses region A's passes until its administrator
//! imports A's trust list under A's pinned root key; then A's citizen is admitted at B's venue
//! on the colour A signed, checked against A's keys only; removal stops recognition at once.

use serde_json::{Value, json};
use tongban_crypto::Signer as _;

use crate::helpers::{TestApp, problem, spawn_app, spawn_app_with};

async fn root_key_of(app: &TestApp) -> String {
    use base64::Engine as _;
    let region = app.state.config.region_code.clone();
    let signer =
        tongban_app::keys::service::signer(&app.state, &region, tongban_app::keys::service::ROOT)
            .await
            .expect("root key");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signer.public_key().bytes)
}

#[tokio::test]
async fn a_region_admits_passes_of_a_region_it_recognises_and_only_then() {
    let a = spawn_app().await;
    let b = spawn_app_with(|config| config.region_code = "440300".into()).await;
    assert_ne!(a.state.config.region_code, b.state.config.region_code);

    // B's checkpoint officer runs a government hall.
    let officer = b.account("demo.checkpoint").api_token.clone();
    let officer_id = b.account_id_of("demo.checkpoint").await;
    tongban_app::venues::ensure_venue(
        &b.state,
        "市民中心",
        "government_hall",
        "339901",
        &officer_id,
        false,
    )
    .await
    .expect("venue");
    let pass: Value = a
        .get_as(&a.account("citizen.zhangwei").api_token, "/api/v1/pass/me")
        .await
        .json()
        .await
        .expect("json");
    let code = pass["code"].as_str().expect("code").to_owned();
    let check = |code: String| {
        let (b, officer) = (&b, officer.clone());
        async move {
            let response = b
                .post_as(&officer, "/api/v1/pass/verify", &json!({"code": code}))
                .await;
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.expect("json")
        }
    };
    let unknown = check(code.clone()).await;
    assert_eq!(
        (unknown["valid"].clone(), unknown["reason"].clone()),
        (json!(false), json!("unknown_kid"))
    );

    // B's system administrator imports A's trust list, pinned to A's root key.
    let list: Value = crate::helpers::get_url(a.url("/api/v1/trust-list"))
        .await
        .expect("fetch")
        .json()
        .await
        .expect("json");
    let admin = b.account("demo.secadmin").api_token.clone();
    let import = |root: String| {
        let (b, admin, list) = (&b, admin.clone(), list.clone());
        async move {
            b.post_as(
                &admin,
                "/api/v1/admin/trusted-regions",
                &json!({"trust_list": list, "root_key": root}),
            )
            .await
        }
    };
    // The wrong root key, a tampered list, a clerk: refused, nothing imported.
    let (status, _) = problem(import(root_key_of(&b).await).await).await;
    assert_eq!(status, 422);
    let mut tampered = list.clone();
    // One byte more: still the same JSON, no longer the signed text.
    tampered["payload"] = json!(format!("{} ", list["payload"].as_str().expect("payload")));
    let (status, _) = problem(
        b.post_as(
            &admin,
            "/api/v1/admin/trusted-regions",
            &json!({"trust_list": tampered, "root_key": root_key_of(&a).await}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    let clerk = b.account("demo.clerk.market").api_token.clone();
    let (status, _) = problem(
        b.post_as(
            &clerk,
            "/api/v1/admin/trusted-regions",
            &json!({"trust_list": list, "root_key": root_key_of(&a).await}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    assert!(check(code.clone()).await["valid"] == false);

    let proposed = import(root_key_of(&a).await).await;
    assert_eq!(
        proposed.status(),
        202,
        "one security administrator only proposes"
    );
    assert!(check(code.clone()).await["valid"] == false, "not yet");
    assert_eq!(b.approve_trust(proposed).await, 204);
    let regions: Value = b
        .get_as(&admin, "/api/v1/admin/trusted-regions")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        regions[0]["region_code"],
        a.state.config.region_code.as_str()
    );
    assert!(regions[0]["pass_keys"].as_u64().expect("count") >= 1);

    let admitted = check(code.clone()).await;
    assert_eq!(admitted["valid"], true, "{admitted}");
    assert_eq!(admitted["colour"], pass["colour"]);
    assert_eq!(admitted["region"], a.state.config.region_code.as_str());
    assert_eq!(admitted["venue"], "市民中心");
    assert_eq!(
        admitted["admitted"],
        pass["colour"] == "green" || pass["colour"] == "yellow"
    );
    assert!(
        admitted["checked_in"].is_null(),
        "a visitor is not a person of this region"
    );

    // Removal stops recognition at once.
    let removed = b
        .client
        .delete(b.url(&format!(
            "/api/v1/admin/trusted-regions/{}",
            a.state.config.region_code
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("delete");
    assert_eq!(removed.status(), 204);
    assert_eq!(check(code).await["reason"], "unknown_kid");
}

/// The second security administrator opens the trust page and approves the proposal waiting
/// there; the page that answers.
async fn approve_on_the_trust_page(app: &TestApp) -> reqwest::Response {
    let mut second = app.page_login(app.account("demo.secadmin2")).await;
    // The proposal waits in their to-do list, not in the proposer's.
    let todo = second.get(app, "/todo").await.text().await.expect("html");
    assert!(
        todo.contains("信任变更复核") && todo.contains("/admin/trust"),
        "{todo}"
    );
    let proposer = tongban_app::identity::service::actor_of_username(&app.state, "demo.secadmin")
        .await
        .expect("read")
        .expect("the proposer");
    let own = tongban_app::module::todo_list(
        &app.state,
        &proposer,
        tongban_app::web::i18n::Tr(tongban_app::identity::model::Language::Zh),
        50,
    )
    .await
    .expect("their list");
    assert!(
        own.items.iter().all(|item| item.module != "trust"),
        "not for the proposer"
    );
    let trust = second
        .get(app, "/admin/trust")
        .await
        .text()
        .await
        .expect("html");
    let approve = trust
        .split("action=\"/admin/trust-proposals/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the proposal awaits them")
        .to_owned();
    second
        .post_form(
            app,
            &format!("/admin/trust-proposals/{approve}"),
            &[("csrf", &crate::helpers::hidden_csrf(&trust))],
        )
        .await
}

#[tokio::test]
async fn the_console_imports_and_removes_a_region() {
    let a = spawn_app().await;
    let b = spawn_app_with(|config| config.region_code = "440300".into()).await;
    let list = crate::helpers::get_url(a.url("/api/v1/trust-list"))
        .await
        .expect("fetch")
        .text()
        .await
        .expect("text");
    let admin = b.account("demo.secadmin").clone();
    let mut browser = b.page_login(&admin).await;
    let console = browser.get(&b, "/admin").await.text().await.expect("html");
    let csrf = crate::helpers::hidden_csrf(&console);
    let root = root_key_of(&a).await;
    let wrong = browser
        .post_form(
            &b,
            "/admin/trusted-regions",
            &[("csrf", &csrf), ("trust_list", &list), ("root_key", "AAAA")],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    let imported = browser
        .post_form(
            &b,
            "/admin/trusted-regions",
            &[("csrf", &csrf), ("trust_list", &list), ("root_key", &root)],
        )
        .await;
    assert_eq!(imported.status(), 200);
    let proposed = imported.text().await.expect("html");
    assert!(
        proposed.contains("须另一名安全管理员批准后生效"),
        "one security administrator only proposes"
    );
    assert!(
        !proposed.contains("/admin/trust-proposals/"),
        "and cannot approve their own proposal"
    );
    // The second security administrator approves on the same page.
    let approved = approve_on_the_trust_page(&b).await;
    assert_eq!(approved.status(), 200);
    let page = approved.text().await.expect("html");
    let region = a.state.config.region_code.clone();
    assert!(page.contains(&format!("/admin/trusted-regions/{region}/remove")));
    let removed = browser
        .post_form(
            &b,
            &format!("/admin/trusted-regions/{region}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status(), 200);
    let after = removed.text().await.expect("html");
    assert!(
        after.contains("尚未互认其他地区"),
        "the list is empty again"
    );
    assert!(
        tongban_app::trust::regions::list(&b.state)
            .await
            .expect("list")
            .is_empty()
    );
}

/// A SMART Health Card at the door: verified against the issuer the administrator configured,
/// admitted by the visitors' CertLogic rule, and refused when forged or from an unknown issuer.
/// Uses the spec's example issuer and cards (skipped with a note where the vectors are absent).
#[tokio::test]
async fn a_smart_health_card_is_checked_at_the_door_by_the_visitors_rule() {
    let Some(vectors) = tongban_harness::conformance::vectors_dir() else {
        eprintln!(
            "note: conformance vectors not found; the SMART Health Card door check is skipped"
        );
        return;
    };
    let shc = vectors.join("shc");
    let read = |path: &str| std::fs::read_to_string(shc.join(path)).expect("vector");
    let app = spawn_app().await;
    let admin = app.account("demo.secadmin").api_token.clone();
    let officer = app.account("demo.checkpoint").api_token.clone();
    let card = read("dev-tools/testdata/test-example-1195-byte-qrnumeric.txt");
    let check = |code: String| {
        let (app, officer) = (&app, officer.clone());
        async move {
            let response = app
                .post_as(
                    &officer,
                    "/api/v1/pass/verify",
                    &json!({"code": code.trim()}),
                )
                .await;
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.expect("json")
        }
    };
    assert_eq!(check(card.clone()).await["reason"], "unknown_issuer");

    let jwks: Value =
        serde_json::from_str(&read("spec/generate-examples/issuer/.well-known/jwks.json"))
            .expect("jwks");
    let issuer = json!({"iss": "https://spec.smarthealth.cards/examples/issuer", "jwks": jwks});
    let clerk = app.account("demo.clerk.tax").api_token.clone();
    let (status, _) = problem(
        app.post_as(&clerk, "/api/v1/admin/shc-issuers", &issuer)
            .await,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = problem(
        app.post_as(
            &admin,
            "/api/v1/admin/shc-issuers",
            &json!({"iss": "http://insecure.example", "jwks": jwks}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    let response = app
        .post_as(&admin, "/api/v1/admin/shc-issuers", &issuer)
        .await;
    assert_eq!(app.approve_trust(response).await, 204);

    let admitted = check(card.clone()).await;
    assert_eq!(admitted["valid"], true, "{admitted}");
    assert_eq!(admitted["foreign"]["format"], "shc");
    assert_eq!(
        admitted["foreign"]["issuer"],
        "https://spec.smarthealth.cards/examples/issuer"
    );
    assert_eq!(
        admitted["admitted"], true,
        "an immunization card passes the default rule"
    );

    // A stricter rule: laboratory results only.
    let put = |rule: Value| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let proposed = app
                .client
                .put(app.url("/api/v1/admin/visitor-rule"))
                .bearer_auth(admin)
                .json(&rule)
                .send()
                .await
                .expect("put");
            app.approve_trust(proposed).await
        }
    };
    assert_eq!(put(json!({"no-such-operator": [1]})).await, 422);
    // A constant is CertLogic too, and a truthy one would admit everyone: refused.
    assert_eq!(put(json!("AAA")).await, 422);
    assert_eq!(put(json!(true)).await, 422);
    assert_eq!(
        put(json!({"in": ["https://smarthealth.cards#laboratory", {"var": "types"}]})).await,
        204
    );
    let refused = check(card).await;
    assert_eq!(
        (refused["valid"].clone(), refused["admitted"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(refused["admission_reason"], "visitor_rule");
    // A forged signature is refused at its step.
    let forged = check(read(
        "dev-tools/testdata/test-example-00-d-jws-invalid-signature.txt",
    ))
    .await;
    assert_eq!(forged["reason"], "bad_signature");
}

/// An EU DCC at the door: refused while its signer is not trusted, verified and admitted once
/// the administrator imports the signer list, refused again at once when the signer is removed;
/// a signer list that is not one changes nothing. Uses the DCC test data (skipped where absent).
#[tokio::test]
async fn an_eu_dcc_is_checked_at_the_door_against_imported_signers() {
    let Some(vectors) = tongban_harness::conformance::vectors_dir() else {
        eprintln!("note: conformance vectors not found; the DCC door check is skipped");
        return;
    };
    let dcc = vectors.join("dcc");
    let case: Value = serde_json::from_str(
        &std::fs::read_to_string(dcc.join("testdata/common/2DCode/raw/CO28.json")).expect("case"),
    )
    .expect("json");
    let code = case["PREFIX"].as_str().expect("code").to_owned();
    let certificate = case["TESTCTX"]["CERTIFICATE"]
        .as_str()
        .expect("dsc")
        .to_owned();
    let clock = case["TESTCTX"]["VALIDATIONCLOCK"].as_str().expect("clock");
    let app = spawn_app().await;
    app.clock.set(
        time::OffsetDateTime::parse(clock, &time::format_description::well_known::Rfc3339)
            .expect("clock"),
    );
    let admin = app.account("demo.secadmin").api_token.clone();
    let officer = app.account("demo.checkpoint").api_token.clone();
    let check = |code: String| {
        let (app, officer) = (&app, officer.clone());
        async move {
            let response = app
                .post_as(&officer, "/api/v1/pass/verify", &json!({"code": code}))
                .await;
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.expect("json")
        }
    };
    assert_eq!(check(code.clone()).await["reason"], "unknown_kid");

    // Not a list, and a certificate that is not one: 422, nothing trusted.
    for bad in [
        json!({"pem": "hello"}),
        json!([{"rawData": "AAAA"}]),
        json!(7),
    ] {
        let (status, _) =
            problem(app.post_as(&admin, "/api/v1/admin/dcc-signers", &bad).await).await;
        assert_eq!(status, 422, "{bad}");
    }
    let clerk = app.account("demo.clerk.tax").api_token.clone();
    let list = json!([{"country": "XX", "certificateType": "DSC", "rawData": certificate}]);
    let (status, _) = problem(
        app.post_as(&clerk, "/api/v1/admin/dcc-signers", &list)
            .await,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(check(code.clone()).await["reason"], "unknown_kid");

    // A signer alone is no anchor: it needs its country's CSCA or a signed list.
    let (status, bare) = problem(
        app.post_as(&admin, "/api/v1/admin/dcc-signers", &list)
            .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        bare["detail"]
            .as_str()
            .is_some_and(|d| d.contains("vouched")),
        "{bare}"
    );
    app.trust_dcc_signers(&list).await;
    let admitted = check(code.clone()).await;
    assert_eq!(admitted["valid"], true, "{admitted}");
    assert_eq!(admitted["foreign"]["format"], "dcc");
    assert_eq!(admitted["foreign"]["types"], json!(["vaccination"]));
    assert_eq!(admitted["initials"], "L*O", "LOEVSTROEM, OSCAR");
    // The scanner page says the same in words.
    let page = app.scan_on_page("demo.checkpoint", &code).await;
    assert!(
        page.contains("欧盟新冠证书：疫苗接种")
            && page.contains("L*O")
            && page.contains("有效期至"),
        "{page}"
    );
    assert_eq!(
        admitted["admitted"], true,
        "a verified DCC passes the default rule"
    );

    // The schemas: once imported, the certificate is also checked against its version's.
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(dcc.join("schema/release/1.0.0/DGC.combined-schema.json"))
            .expect("schema"),
    )
    .expect("json");
    let response = app
        .client
        .put(app.url("/api/v1/admin/dcc-schemas/1.0.0?current=true"))
        .bearer_auth(&admin)
        .json(&schema)
        .send()
        .await
        .expect("put");
    assert_eq!(app.approve_trust(response).await, 204);
    let response = app
        .client
        .put(app.url("/api/v1/admin/dcc-schemas/latest"))
        .bearer_auth(&admin)
        .json(&schema)
        .send()
        .await
        .expect("put");
    assert_eq!(response.status(), 422);
    assert_eq!(check(code.clone()).await["valid"], true);

    // A rule written as EU business rules are: full course, and the last dose at least 14 days
    // before the moment of checking.
    let eu_rule = json!({"and": [
        {">=": [{"var": "payload.v.0.dn"}, {"var": "payload.v.0.sd"}]},
        {"not-after": [
            {"plusTime": [{"var": "payload.v.0.dt"}, 14, "day"]},
            {"plusTime": [{"var": "external.validationClock"}, 0, "day"]}
        ]}
    ]});
    let response = app
        .client
        .put(app.url("/api/v1/admin/visitor-rule"))
        .bearer_auth(&admin)
        .json(&eu_rule)
        .send()
        .await
        .expect("put");
    assert_eq!(app.approve_trust(response).await, 204);
    assert_eq!(check(code.clone()).await["admitted"], true);

    // A rule that admits only test results refuses the vaccination.
    let response = app
        .client
        .put(app.url("/api/v1/admin/visitor-rule"))
        .bearer_auth(&admin)
        .json(&json!({"in": ["test", {"var": "types"}]}))
        .send()
        .await
        .expect("put");
    assert_eq!(app.approve_trust(response).await, 204);
    let refused = check(code.clone()).await;
    assert_eq!(
        (refused["valid"].clone(), refused["admitted"].clone()),
        (json!(true), json!(false))
    );

    // Tampered: one character of the signature changed.
    let mut tampered = code.clone();
    let at = tampered.len() - 3;
    let replacement = if &tampered[at..at + 1] == "A" {
        "B"
    } else {
        "A"
    };
    tampered.replace_range(at..at + 1, replacement);
    assert_ne!(check(tampered).await["valid"], true);

    let listed: Value = app
        .get_as(&admin, "/api/v1/admin/dcc-signers")
        .await
        .json()
        .await
        .expect("json");
    let kid = listed[0]["kid"].as_str().expect("kid");
    assert_eq!(listed[0]["country"], "XX");
    let kid_url = kid.replace('+', "-").replace('/', "_").replace('=', "");
    let response = app
        .client
        .delete(app.url(&format!("/api/v1/admin/dcc-signers/{kid_url}")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), 204);
    assert_eq!(check(code).await["reason"], "unknown_kid");
}

/// A test certificate of `crates/codes/tests/fixtures/csca` (made by its `make.sh`).
pub fn csca_fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../codes/tests/fixtures/csca")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The trust page's DCC section, reached from the console: a country signing CA with its
/// signer (PEM) is imported and listed, then the signer removed; a paste that is not a signer
/// list, or a signer without its CA, is a readable 422 that changes nothing.
#[tokio::test]
async fn the_console_imports_and_removes_a_dcc_signer() {
    let Some(vectors) = tongban_harness::conformance::vectors_dir() else {
        eprintln!("note: conformance vectors not found; the DCC console test is skipped");
        return;
    };
    let case: Value = serde_json::from_str(
        &std::fs::read_to_string(vectors.join("dcc/testdata/common/2DCode/raw/CO3.json"))
            .expect("case"),
    )
    .expect("json");
    let certificate = case["TESTCTX"]["CERTIFICATE"].as_str().expect("dsc");
    let bare = format!("-----BEGIN CERTIFICATE-----\n{certificate}\n-----END CERTIFICATE-----\n");
    // A country's signing CA with a signer it issued, as PEM.
    let pem = format!(
        "{}{}",
        csca_fixture("csca-xa.pem"),
        csca_fixture("dsc-xa.pem")
    );
    let app = spawn_app().await;
    let admin = app.account("demo.secadmin").clone();
    let mut browser = app.page_login(&admin).await;
    let console = browser
        .get(&app, "/admin")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        console.contains("href=\"/admin/trust\""),
        "the console links the trust page"
    );
    let trust = browser
        .get(&app, "/admin/trust")
        .await
        .text()
        .await
        .expect("html");
    assert!(trust.contains("尚未信任任何签名证书"));
    let csrf = crate::helpers::hidden_csrf(&trust);
    // The page and its forms are the security administrators' alone.
    let clerk = app.first_with_role("clerk").clone();
    let mut other = app.page_login(&clerk).await;
    assert_eq!(other.get(&app, "/admin/trust").await.status(), 403);
    let wrong = browser
        .post_form(
            &app,
            "/admin/dcc-signers",
            &[("csrf", &csrf), ("list", "hello")],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().await.expect("html").contains("PEM"));
    // A signer without its country's CA is refused, readably.
    let alone = browser
        .post_form(
            &app,
            "/admin/dcc-signers",
            &[("csrf", &csrf), ("list", &bare)],
        )
        .await;
    assert_eq!(alone.status(), 422);
    assert!(alone.text().await.expect("html").contains("vouched"));
    let imported = browser
        .post_form(
            &app,
            "/admin/dcc-signers",
            &[("csrf", &csrf), ("list", &pem)],
        )
        .await;
    assert_eq!(imported.status(), 200);
    assert!(
        tongban_app::trust::dcc::list_signers(&app.state)
            .await
            .expect("list")
            .is_empty(),
        "a proposal until a second security administrator approves"
    );
    let approved = approve_on_the_trust_page(&app).await;
    assert_eq!(approved.status(), 200);
    let page = approved.text().await.expect("html");
    let listed = tongban_app::trust::dcc::list_signers(&app.state)
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert!(page.contains(&listed[0].kid), "the signer is listed");
    let removed = browser
        .post_form(
            &app,
            "/admin/dcc-signers/remove",
            &[("csrf", &csrf), ("kid", &listed[0].kid)],
        )
        .await;
    assert_eq!(removed.status(), 200);
    let page = removed.text().await.expect("html");
    assert!(page.contains("尚未信任任何签名证书"));
    // The country's CA stays an anchor until it is removed too.
    let anchors = tongban_app::trust::dcc::list_anchors(&app.state)
        .await
        .expect("anchors");
    assert_eq!(anchors.len(), 1);
    assert!(
        page.contains("国家签名 CA") && page.contains(&anchors[0].fingerprint),
        "{page}"
    );
    let removed = browser
        .post_form(
            &app,
            "/admin/dcc-anchors/remove",
            &[("csrf", &csrf), ("fingerprint", &anchors[0].fingerprint)],
        )
        .await;
    assert_eq!(removed.status(), 200);
    assert!(removed.text().await.expect("html").contains("尚无信任锚"));
}
