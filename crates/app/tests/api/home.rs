//! What a holder sees first and where they start: the home with its tiles and popular
//! services, certificates drawn as their documents, service guides that say where to go and how
//! an item is handled in either language, a clerk's page of a certificate the platform pulled,
//! and a resident's own registration.

use serde_json::json;

use crate::helpers::{Browser, TestApp, apply_through_the_api, hidden_csrf, spawn_app};

/// 个体工商户注册登记 applied for by zhangwei with the platform pulling his certificates; the
/// application's id.
async fn apply_for_a_shop(app: &TestApp) -> String {
    apply_through_the_api(app, &app.account("citizen.zhangwei").api_token).await
}

async fn html(browser: &mut Browser, app: &TestApp, path: &str) -> String {
    let page = browser.get(app, path).await;
    assert_eq!(page.status(), 200, "{path}");
    page.text().await.expect("html")
}

#[tokio::test]
async fn a_holders_home_opens_with_tiles_and_the_services_most_applied_for() {
    let app = spawn_app().await;
    apply_for_a_shop(&app).await;
    let mut citizen = app.page_login(app.account("citizen.zhangwei")).await;
    let home = html(&mut citizen, &app, "/home").await;
    let tiles = &home[home.find("class=\"tiles\"").expect("the tiles")..];
    let tiles = &tiles[..tiles.find("</nav>").expect("end of tiles")];
    for href in [
        "/pass",
        "/services",
        "/wallet",
        "/applications",
        "/messages",
    ] {
        assert!(
            tiles.contains(&format!("href=\"{href}\"")),
            "a tile for {href}"
        );
    }
    assert!(!tiles.contains("/security"), "settings are not a tile");
    // The item applied for comes first among the popular services, above the person's details.
    let popular = home.find("id=\"popular\"").expect("popular services");
    assert!(popular < home.find("id=\"profile\"").expect("profile"));
    let first = home[popular..]
        .split("href=\"/services/")
        .nth(1)
        .expect("a service tile");
    assert!(
        first.starts_with("339900-SJ-0001\""),
        "the item applied for leads"
    );
    assert!(home.contains("href=\"/services?life_event="), "life events");
    assert!(home.contains("href=\"/bundles/"), "the 一件事 bundles");

    // Large text: fewer, bigger things; the details folded away.
    let large = html(&mut citizen, &app, "/home?large=1").await;
    let tiles = large.matches("class=\"tile\"").count();
    assert!((1..=6).contains(&tiles), "{tiles} tiles in large text");
    let popular = &large[large.find("id=\"popular\"").expect("popular")..];
    let popular = &popular[..popular.find("</section>").expect("end")];
    assert!(popular.matches("href=\"/services/").count() <= 4);
    assert!(large.contains("<details class=\"card fold\" aria-labelledby=\"profile\">"));
    assert!(
        home.contains("<details class=\"card fold\" aria-labelledby=\"profile\" open>"),
        "open on the normal page"
    );

    // In English, the popular services by their English names.
    let english = html(&mut citizen, &app, "/home?lang=en").await;
    assert!(english.contains("Registering a sole proprietorship"));
}

#[tokio::test]
async fn certificates_are_drawn_as_their_documents_in_the_wallet_and_alone() {
    let app = spawn_app().await;
    let mut citizen = app.page_login(app.account("citizen.zhangwei")).await;
    let wallet = html(&mut citizen, &app, "/wallet").await;
    let cards = wallet.matches("<article class=\"document tone-").count();
    assert!(cards >= 2, "{cards} document cards");
    assert!(wallet.contains("class=\"seal\""), "with the issuer's seal");
    assert!(wallet.contains("居民身份证"));
    let english = html(&mut citizen, &app, "/wallet?lang=en").await;
    assert!(
        english.contains("Resident identity card record"),
        "the type's English name"
    );
    let link = wallet
        .split("href=\"/wallet/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a certificate link")
        .to_owned();
    let alone = html(&mut citizen, &app, &format!("/wallet/{link}")).await;
    assert!(alone.contains("<article class=\"document tone-"));
    assert!(alone.contains("张伟"), "the holder on the document");
}

#[tokio::test]
async fn a_guide_says_where_to_go_whom_to_call_and_how_the_item_is_handled_in_either_language() {
    let app = spawn_app().await;
    let mut visitor = Browser::default();
    let guide = html(&mut visitor, &app, "/services/339900-SJ-0003").await;
    // The process chart in the workflow's order: the inspection before the decision.
    let chart = &guide[guide.find("class=\"process\"").expect("the chart")..];
    let chart = &chart[..chart.find("</ol>").expect("end")];
    let order: Vec<usize> = [
        "提交申请",
        "受理",
        "审查",
        "现场核查",
        "决定",
        "送达",
        "办结",
    ]
    .iter()
    .map(|step| chart.find(step).unwrap_or_else(|| panic!("{step}")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(guide.contains("市场监管窗口"), "where to go");
    assert!(guide.contains("工作日 9:00"), "the hours");
    assert!(guide.contains("href=\"tel:12345\""), "whom to call");
    assert!(guide.contains("href=\"tel:0339-88001205\""));

    let english = html(&mut visitor, &app, "/services/339900-SJ-0003?lang=en").await;
    assert!(english.contains("<h1>Food business permit</h1>"));
    assert!(english.contains("Inspection on site"));
    assert!(english.contains("Floor plan of the premises"));
    assert!(english.contains("market regulation windows"));
    assert!(
        english.contains("<dd lang=\"zh-CN\">《中华人民共和国食品安全法》"),
        "the legal basis stays Chinese, marked as such"
    );
    assert!(!english.contains("id=\"chinese-only\""));
    let search = html(&mut visitor, &app, "/services?lang=en&q=marriage").await;
    assert!(
        search.contains("Marriage registration"),
        "English words find"
    );
    let all = html(&mut visitor, &app, "/services?lang=en").await;
    assert!(
        all.contains("id=\"bundles-chinese-only\""),
        "the bundles, Chinese alone, say so"
    );

    // An item without English says so, and its text is marked as Chinese.
    let deptadmin = &app.account("demo.deptadmin.market").api_token;
    let detail: serde_json::Value = app
        .get_as(deptadmin, "/api/v1/services/339900-SJ-0004")
        .await
        .json()
        .await
        .expect("json");
    let mut item = detail["item"].clone();
    item.as_object_mut().expect("object").remove("en");
    let saved = app
        .client
        .put(app.url("/api/v1/services/339900-SJ-0004"))
        .bearer_auth(deptadmin)
        .json(&json!({"item": item, "version": detail["version"]}))
        .send()
        .await
        .expect("put");
    assert_eq!(saved.status(), 200);
    let untranslated = html(&mut visitor, &app, "/services/339900-SJ-0004?lang=en").await;
    assert!(untranslated.contains("id=\"chinese-only\""));
    assert!(untranslated.contains("<h1 lang=\"zh-CN\">企业名称自主申报</h1>"));

    // English that names a material the item lacks is refused, saying why.
    let mut wrong = detail["item"].clone();
    wrong["en"]["materials"] = json!({"不存在的材料": "No such material"});
    let refused = app
        .client
        .put(app.url("/api/v1/services/339900-SJ-0004"))
        .bearer_auth(deptadmin)
        .json(&json!({"item": wrong, "version": 2}))
        .send()
        .await
        .expect("put");
    assert_eq!(refused.status(), 422);
    let problem: serde_json::Value = refused.json().await.expect("problem");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("不存在的材料")
    );
}

#[tokio::test]
async fn the_apply_form_speaks_english_where_the_item_does() {
    let app = spawn_app().await;
    let mut citizen = app.page_login(app.account("citizen.zhangwei")).await;
    let form = html(&mut citizen, &app, "/services/339900-SJ-0001/apply?lang=en").await;
    assert!(form.contains("Registering a sole proprietorship"));
    assert!(form.contains("Name of the shop"));
    assert!(form.contains("Capital (10,000 yuan)"));
    // And the application is listed by the item's English name.
    let id = apply_for_a_shop(&app).await;
    let mine = html(&mut citizen, &app, "/applications?lang=en").await;
    assert!(mine.contains(&format!(
        "href=\"/applications/{id}\">Registering a sole proprietorship<"
    )));
    let detail = html(&mut citizen, &app, &format!("/applications/{id}?lang=en")).await;
    assert!(detail.contains("Registering a sole proprietorship"));
}

#[tokio::test]
async fn a_clerk_reads_a_pulled_certificate_as_its_document_with_the_use_it_was_released_for() {
    let app = spawn_app().await;
    let application = apply_for_a_shop(&app).await;
    let mut clerk = app.page_login(app.account("demo.clerk.market")).await;
    let page = html(&mut clerk, &app, &format!("/applications/{application}")).await;
    let link = page
        .split(&format!("href=\"/applications/{application}/materials/"))
        .skip(1)
        .find_map(|rest| {
            rest.split('"')
                .next()
                .filter(|path| path.ends_with("/certificate"))
        })
        .expect("a pulled certificate opens as a page")
        .to_owned();
    let pulled = html(
        &mut clerk,
        &app,
        &format!("/applications/{application}/materials/{link}"),
    )
    .await;
    assert!(pulled.contains("<article class=\"document tone-"));
    assert!(pulled.contains("status status-valid\" id=\"copy-verdict\""));
    assert!(pulled.contains("已核验"));
    assert!(pulled.contains("用证单位"));
    assert!(pulled.contains("临江市市场监督管理局"));
    assert!(
        pulled.contains("download>"),
        "the signed copy can still be downloaded"
    );
    // An uploaded material has no certificate page.
    let upload = page
        .split(&format!("href=\"/applications/{application}/materials/"))
        .skip(1)
        .find_map(|rest| {
            let path = rest.split('"').next()?;
            (!path.ends_with("/certificate") && rest.contains("经营场所使用证明"))
                .then(|| path.to_owned())
        })
        .expect("the uploaded material");
    let none = clerk
        .get(
            &app,
            &format!("/applications/{application}/materials/{upload}/certificate"),
        )
        .await;
    assert_eq!(none.status(), 404);
}

#[tokio::test]
async fn a_resident_registers_with_their_id_number_and_activates_with_the_code_sent_to_their_phone()
{
    let app = spawn_app().await;
    let resident_id = tongban_app::demo::demo_resident_id("339902", "19950618", "208")
        .expect("id")
        .expose()
        .to_owned();
    let mut visitor = Browser::default();
    let form = html(&mut visitor, &app, "/register").await;
    let csrf = hidden_csrf(&form);
    // A username that is taken is said beside its field, and nothing is sent.
    let taken = visitor
        .post_form(
            &app,
            "/register",
            &[
                ("csrf", csrf.as_str()),
                ("username", "citizen.zhangwei"),
                ("resident_id", resident_id.as_str()),
            ],
        )
        .await;
    assert_eq!(taken.status(), 422);
    assert!(
        taken
            .text()
            .await
            .expect("html")
            .contains("id=\"username-problem\"")
    );
    // An ID number nobody on the register has gets the same answer as a real one, and sends
    // nothing.
    let nobody = tongban_app::demo::demo_resident_id("339902", "19600101", "999")
        .expect("id")
        .expose()
        .to_owned();
    let unknown = visitor
        .post_form(
            &app,
            "/register",
            &[
                ("csrf", csrf.as_str()),
                ("username", "someone.else"),
                ("resident_id", nobody.as_str()),
            ],
        )
        .await;
    assert_eq!(unknown.status(), 200);
    let unknown = unknown.text().await.expect("html");
    assert!(unknown.contains("id=\"register-sent\""));
    let sent = visitor
        .post_form(
            &app,
            "/register",
            &[
                ("csrf", csrf.as_str()),
                ("username", "zhao.min"),
                ("resident_id", resident_id.as_str()),
            ],
        )
        .await;
    assert_eq!(sent.status(), 200);
    let sent = sent.text().await.expect("html");
    assert_eq!(
        sent.replace("zhao.min", "someone.else"),
        unknown,
        "the answer says nothing of the register"
    );
    let delivered = tongban_app::identity::activation::take_deliveries(&app.state)
        .await
        .expect("deliveries");
    assert_eq!(delivered.len(), 1, "one message, for the real resident");
    assert_eq!(delivered[0].username, "zhao.min");
    assert!(
        delivered[0].recipient.is_some(),
        "to the phone on the record"
    );
    let code = tongban_app::identity::activation::code_in(&delivered[0].body).expect("a code");
    // Registering the same person again sends nothing new for ten minutes, and makes no
    // second account.
    let again = visitor
        .post_form(
            &app,
            "/register",
            &[
                ("csrf", csrf.as_str()),
                ("username", "zhao.min2"),
                ("resident_id", resident_id.as_str()),
            ],
        )
        .await;
    assert_eq!(again.status(), 200);
    let none = tongban_app::identity::activation::take_deliveries(&app.state)
        .await
        .expect("deliveries");
    assert!(none.is_empty());
    let accounts: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM accounts WHERE username IN ('zhao.min', 'zhao.min2')",
    )
    .fetch_one(app.state.pool())
    .await
    .expect("count");
    assert_eq!(accounts, 1);

    // The code activates the account: a password of their own, no second factor required.
    let begin = visitor
        .post_form(
            &app,
            "/activate",
            &[
                ("csrf", csrf.as_str()),
                ("username", "zhao.min"),
                ("code", code.as_str()),
            ],
        )
        .await;
    assert_eq!(begin.status(), 200);
    assert!(begin.text().await.expect("html").contains("totp-secret"));
    let password = "a long passphrase of zhao min";
    let done = visitor
        .post_form(
            &app,
            "/activate/complete",
            &[
                ("csrf", csrf.as_str()),
                ("username", "zhao.min"),
                ("code", code.as_str()),
                ("password", password),
                ("totp", ""),
            ],
        )
        .await;
    assert_eq!(done.status(), 200);
    let mut resident = Browser::default();
    let login = html(&mut resident, &app, "/login").await;
    let answer = resident
        .post_form(
            &app,
            "/login",
            &[
                ("csrf", hidden_csrf(&login).as_str()),
                ("username", "zhao.min"),
                ("password", password),
                ("totp", ""),
            ],
        )
        .await;
    assert_eq!(answer.status(), 303);
    let home = html(&mut resident, &app, "/home").await;
    assert!(home.contains("赵敏"), "the account is bound to her record");
}

#[tokio::test]
async fn an_application_is_saved_as_a_draft_with_its_file_and_finished_later() {
    use reqwest::multipart::{Form, Part};
    let app = spawn_app().await;
    let path = "/services/339900-SJ-0001/apply";
    let mut citizen = app.page_login(app.account("citizen.zhangwei")).await;
    let csrf = hidden_csrf(&html(&mut citizen, &app, path).await);
    let pdf = Part::bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n".to_vec()).file_name("lease.pdf");
    // Half done, with a required field left empty: a draft takes it as it is.
    let form = Form::new()
        .text("csrf", csrf.clone())
        .text("field.name", "张记小吃")
        .text("field.place", "")
        .part("file.0", pdf)
        .text("draft", "1");
    let saved = citizen.post_multipart(&app, path, form).await;
    assert_eq!(saved.status(), 303);
    assert_eq!(saved.headers()["location"], format!("{path}?draft=saved"));
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT form_sealed FROM application_drafts")
        .fetch_one(app.state.pool())
        .await
        .expect("a draft");
    assert!(
        !String::from_utf8_lossy(&sealed).contains("张记小吃"),
        "sealed at rest"
    );

    // Two days later the file is still there (uploads no application took go after a day,
    // but not a draft's), and the form opens as it was left.
    app.clock.advance(time::Duration::days(2));
    let a_day_ago = tongban_core::Clock::now_millis(&*app.clock) - 86_400_000;
    tongban_app::applications::purge_unclaimed(&app.state, a_day_ago)
        .await
        .expect("purge");
    // A new session: the old one idled out meanwhile.
    let mut citizen = app.page_login(app.account("citizen.zhangwei")).await;
    let page = html(&mut citizen, &app, path).await;
    assert!(page.contains("id=\"draft-notice\""));
    assert!(page.contains("value=\"张记小吃\""));
    let kept = page
        .split("name=\"kept.0\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the file kept with the draft")
        .to_owned();
    let mine = html(&mut citizen, &app, "/applications").await;
    assert!(mine.contains("id=\"drafts\"") && mine.contains(&format!("href=\"{path}\"")));

    // Finished: the application takes the draft's file, and the draft is gone.
    let form = Form::new()
        .text("csrf", hidden_csrf(&page))
        .text("field.name", "张记小吃")
        .text("field.place", "临江市江北区滨江路 2 号")
        .text("field.business_scope", "小吃")
        .text("kept.0", kept)
        .text("use_certificates", "1");
    let applied = citizen.post_multipart(&app, path, form).await;
    assert_eq!(applied.status(), 303);
    assert!(
        applied.headers()["location"]
            .to_str()
            .expect("ascii")
            .starts_with("/applications/")
    );
    assert_eq!(app.count("application_drafts").await, 0);
    assert_eq!(app.count("application_draft_uploads").await, 0);
    let mine = html(&mut citizen, &app, "/applications").await;
    assert!(!mine.contains("id=\"drafts\""));

    // A draft left alone goes after thirty days.
    let csrf = hidden_csrf(&html(&mut citizen, &app, path).await);
    let form = Form::new()
        .text("csrf", csrf)
        .text("field.name", "另一家店")
        .text("draft", "1");
    assert_eq!(citizen.post_multipart(&app, path, form).await.status(), 303);
    app.clock.advance(time::Duration::days(29));
    assert_eq!(
        tongban_app::applications::drafts::purge(&app.state)
            .await
            .expect("purge"),
        0,
        "kept for thirty days"
    );
    app.clock.advance(time::Duration::days(2));
    assert_eq!(
        tongban_app::applications::drafts::purge(&app.state)
            .await
            .expect("purge"),
        1
    );
    assert_eq!(app.count("application_drafts").await, 0);
}
