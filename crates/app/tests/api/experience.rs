//! The experience of a person on the pages: the switches that keep the page's own query, the
//! landing page and the way back after signing in, the apply form that keeps what was typed
//! and shows each problem beside its field, and the correction loop (补正) with its files.

use reqwest::multipart::{Form, Part};

use crate::helpers::{Browser, apply_through_the_api, hidden_csrf, spawn_app};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

fn pdf(name: &str) -> Part {
    Part::bytes(PDF.to_vec()).file_name(name.to_owned())
}

/// The value of the first hidden or text input named `name` in a page.
fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[at..tag_end];
    let value = tag.split("value=\"").nth(1)?;
    Some(value.split('"').next()?.to_owned())
}

#[tokio::test]
async fn the_language_and_text_size_switches_work_on_every_page_and_keep_its_query() {
    let app = spawn_app().await;
    let mut visitor = Browser::default();
    let search = "/services?q=%E7%BB%93%E5%A9%9A";
    let page = visitor.get(&app, search).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    // The switches keep the search, escaped as HTML.
    assert!(
        html.contains("href=\"/services?q=%E7%BB%93%E5%A9%9A&#38;lang=en\""),
        "the English link keeps the search"
    );
    assert!(html.contains("href=\"/services?q=%E7%BB%93%E5%A9%9A&#38;large=1\""));
    let english = visitor
        .get(&app, "/services?q=%E7%BB%93%E5%A9%9A&lang=en")
        .await;
    assert_eq!(english.status(), 200, "the page takes its switch");
    let html = english.text().await.expect("html");
    assert!(html.contains("<html lang=\"en\">"));
    assert!(
        html.contains("Marriage registration"),
        "the search still applies, and the item shows its English name"
    );
    let large = visitor.get(&app, "/services?lang=en&large=1").await;
    assert_eq!(large.status(), 200);
    assert!(
        large
            .text()
            .await
            .expect("html")
            .contains("class=\"large-text\"")
    );
    // A page's own bad parameter is still refused, readably.
    let bad = visitor.get(&app, "/services?nonsense=1&lang=en").await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.expect("html").contains("parameters"));
}

#[tokio::test]
async fn a_visitor_lands_on_what_the_platform_offers_and_comes_back_after_signing_in() {
    let app = spawn_app().await;
    let mut visitor = Browser::default();
    let landing = visitor.get(&app, "/").await;
    assert_eq!(landing.status(), 200, "no bare redirect to the login page");
    let html = landing.text().await.expect("html");
    for link in ["/services", "/opendata", "/login", "/activate"] {
        assert!(
            html.contains(&format!("href=\"{link}")),
            "{link} on the landing page"
        );
    }
    assert!(html.contains("rel=\"icon\""));
    let icon = visitor.get(&app, "/favicon.ico").await;
    assert_eq!(icon.status(), 200);
    // A deep link asks for the login and returns there.
    let deep = visitor.get(&app, "/services/339900-SJ-0001/apply").await;
    assert_eq!(deep.status(), 303);
    let to = deep.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(to, "/login?next=%2Fservices%2F339900-SJ-0001%2Fapply");
    let form = visitor.get(&app, &to).await.text().await.expect("html");
    let csrf = hidden_csrf(&form);
    let next = input_value(&form, "next").expect("the page carries where to go");
    let citizen = app.account("citizen.zhangwei");
    let signed_in = visitor
        .post_form(
            &app,
            "/login",
            &[
                ("csrf", csrf.as_str()),
                ("username", &citizen.username),
                ("password", &citizen.password),
                ("next", &next),
            ],
        )
        .await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(
        signed_in.headers()["location"],
        "/services/339900-SJ-0001/apply"
    );
    // Signed in, / is the person's home.
    let home = visitor.get(&app, "/").await;
    assert_eq!(home.headers()["location"], "/home");
    // A form post is never a place to come back to.
    let mut stranger = Browser::default();
    let post = stranger.post_form(&app, "/applications/x/act", &[]).await;
    assert!(
        post.status().is_client_error() || post.headers()["location"] == "/login",
        "a post never becomes a next= target"
    );
}

#[tokio::test]
async fn an_apply_form_with_problems_comes_back_with_each_beside_its_field_and_nothing_lost() {
    let app = spawn_app().await;
    let path = "/services/339900-SJ-0001/apply";
    let mut browser = app.page_login(app.account("citizen.zhangwei")).await;
    let page = browser.get(&app, path).await.text().await.expect("html");
    assert!(
        page.contains("name=\"field.capital\" type=\"number\""),
        "a number field is a number input"
    );
    let csrf = hidden_csrf(&page);
    let form_key = input_value(&page, "form_key").expect("the form's key");
    let applications = app.count("applications").await;
    let form = Form::new()
        .text("csrf", csrf.clone())
        .text("form_key", form_key.clone())
        .text("field.name", "清源小吃")
        .text("field.capital", "十万")
        .part("file.0", pdf("lease.pdf"));
    let answer = browser.post_multipart(&app, path, form).await;
    assert_eq!(answer.status(), 422);
    let html = answer.text().await.expect("html");
    assert_eq!(
        app.count("applications").await,
        applications,
        "nothing stored"
    );
    // Every problem at once, in Chinese, beside its field.
    for (field, problem) in [
        ("place", "此项必填。"),
        ("business_scope", "此项必填。"),
        ("capital", "请填写数字（不能为负数）。"),
    ] {
        assert!(
            html.contains(&format!(
                "<p class=\"field-error\" id=\"error-{field}\">{problem}</p>"
            )),
            "{field}: {problem}"
        );
    }
    assert!(html.contains("请勾选同意"), "the consent is asked for");
    assert!(!html.contains("must be"), "no English in a Chinese page");
    // What was typed is kept, and the file received is kept for the next try.
    assert_eq!(
        input_value(&html, "field.name").as_deref(),
        Some("清源小吃")
    );
    assert_eq!(input_value(&html, "field.capital").as_deref(), Some("十万"));
    let kept = input_value(&html, "kept.0").expect("the file is kept");
    assert_eq!(
        input_value(&html, "form_key").as_deref(),
        Some(form_key.as_str()),
        "the same filling of the form"
    );
    let corrected = |file: Option<String>| {
        let form = Form::new()
            .text("csrf", csrf.clone())
            .text("form_key", form_key.clone())
            .text("field.name", "清源小吃")
            .text("field.place", "临江市江南区河东路 8 号")
            .text("field.business_scope", "小吃、饮品")
            .text("field.capital", "10")
            .text("use_certificates", "1");
        match file {
            Some(kept) => form.text("kept.0", kept),
            None => form.part("file.0", pdf("lease.pdf")),
        }
    };
    let answer = browser
        .post_multipart(&app, path, corrected(Some(kept)))
        .await;
    assert_eq!(answer.status(), 303, "the corrected form is taken");
    let application = answer.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    // Sent again (a second click; the browser sends the file anew): the same application.
    let again = browser.post_multipart(&app, path, corrected(None)).await;
    assert_eq!(again.status(), 303);
    assert_eq!(again.headers()["location"], application.as_str());
    assert_eq!(
        app.count("applications").await,
        applications + 1,
        "one application of one filling of the form"
    );
    let html = browser
        .get(&app, &application)
        .await
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("经营场所使用证明"),
        "the kept file is a material"
    );
    // In English the problems are English.
    let english = browser.get(&app, &format!("{path}?lang=en")).await;
    let csrf = hidden_csrf(&english.text().await.expect("html"));
    let answer = browser
        .post_multipart(&app, path, Form::new().text("csrf", csrf))
        .await;
    assert_eq!(answer.status(), 422);
    let html = answer.text().await.expect("html");
    assert!(html.contains("This is required.") && html.contains("Upload this material."));
}

#[tokio::test]
async fn a_correction_is_asked_with_its_reason_answered_with_a_file_and_withdrawal_is_confirmed() {
    let app = spawn_app().await;
    let path = "/services/339900-SJ-0001/apply";
    let mut citizen = app.page_login(app.account("citizen.zhangwei")).await;
    let csrf = hidden_csrf(&citizen.get(&app, path).await.text().await.expect("html"));
    let form = Form::new()
        .text("csrf", csrf)
        .text("field.name", "清源小吃")
        .text("field.place", "临江市江南区河东路 8 号")
        .text("field.business_scope", "小吃、饮品")
        .part("file.0", pdf("lease.pdf"))
        .text("use_certificates", "1");
    let answer = citizen.post_multipart(&app, path, form).await;
    assert_eq!(answer.status(), 303);
    let application = answer.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();

    // The market clerk asks for the name pre-registration form.
    let mut clerk = app.page_login(app.account("demo.clerk.market")).await;
    let html = clerk
        .get(&app, &application)
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("意见（可选）"), "a clerk may give an opinion");
    let csrf = hidden_csrf(&html);
    let reason = "请补充个体工商户名称预先登记表";
    let asked = clerk
        .post_form(
            &app,
            &format!("{application}/act"),
            &[
                ("csrf", csrf.as_str()),
                ("version", "1"),
                ("action", "request_correction"),
                ("reason", reason),
            ],
        )
        .await;
    assert_eq!(asked.status(), 303);

    // The applicant sees the reason first, and a form with the values and a file field.
    let html = citizen
        .get(&app, &application)
        .await
        .text()
        .await
        .expect("html");
    let box_at = html.find("需要补正").expect("the correction box");
    let reason_at = html[box_at..].find(reason).expect("the reason in it") + box_at;
    assert!(
        reason_at < html.find("办理过程").expect("history"),
        "above the history"
    );
    assert_eq!(
        input_value(&html, "field.place").as_deref(),
        Some("临江市江南区河东路 8 号")
    );
    assert!(
        html.contains("name=\"file.1\""),
        "a file field for the material asked for"
    );
    let csrf = hidden_csrf(&html);
    // A problem keeps the page, with the reason and what was typed.
    let form = Form::new()
        .text("csrf", csrf.clone())
        .text("version", "2")
        .text("field.name", "")
        .text("field.place", "临江市江南区河东路 8 号")
        .text("field.business_scope", "小吃、饮品");
    let answer = citizen
        .post_multipart(&app, &format!("{application}/resubmit"), form)
        .await;
    assert_eq!(answer.status(), 422);
    let html = answer.text().await.expect("html");
    assert!(html.contains(reason) && html.contains("id=\"error-name\""));
    // The correction comes a little later than the application.
    app.clock.advance(time::Duration::minutes(5));
    let form = Form::new()
        .text("csrf", csrf.clone())
        .text("version", "2")
        .text("field.name", "清源小吃")
        .text("field.place", "临江市江南区河东路 8 号")
        .text("field.business_scope", "小吃、饮品")
        .part("file.1", pdf("name-registration.pdf"));
    let answer = citizen
        .post_multipart(&app, &format!("{application}/resubmit"), form)
        .await;
    assert_eq!(answer.status(), 303, "resubmitted");

    // The clerk sees the new material, named with its extension, and who did what.
    let html = clerk
        .get(&app, &application)
        .await
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("补正材料"),
        "the material brought with the correction"
    );
    assert!(
        html.contains("秦市监 · 退回补正"),
        "the history names the clerk"
    );
    assert!(html.contains("申请人 · 重新提交"));
    let link = html
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .filter(|href| href.contains("/materials/"))
        .last()
        .expect("a material link")
        .to_owned();
    let download = clerk.get(&app, &link).await;
    assert_eq!(download.status(), 200);
    let disposition = download.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(disposition.ends_with(".pdf"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''%E4%B8%AA"),
        "{disposition}"
    );
    assert_eq!(download.bytes().await.expect("bytes").as_ref(), PDF);

    // Withdrawing needs its confirmation.
    let html = citizen
        .get(&app, &application)
        .await
        .text()
        .await
        .expect("html");
    let csrf = hidden_csrf(&html);
    let version = input_value(&html, "version").expect("version");
    let unconfirmed = citizen
        .post_form(
            &app,
            &format!("{application}/act"),
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("action", "withdraw"),
            ],
        )
        .await;
    assert_eq!(unconfirmed.status(), 422);
    let confirmed = citizen
        .post_form(
            &app,
            &format!("{application}/act"),
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("action", "withdraw"),
                ("confirm", "1"),
            ],
        )
        .await;
    assert_eq!(confirmed.status(), 303);
}

#[tokio::test]
async fn the_words_of_a_life_event_find_its_services_and_the_count_is_shown() {
    let app = spawn_app().await;
    let mut visitor = Browser::default();
    // 生孩子
    let html = visitor
        .get(&app, "/services?q=%E7%94%9F%E5%AD%A9%E5%AD%90")
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("出生医学证明签发") && html.contains("预防接种证办理"));
    assert!(
        html.contains("新生儿出生一件事"),
        "the bundle of the life event"
    );
    assert!(html.contains("id=\"results-count\" role=\"status\">找到 2 个事项"));
    // 退休
    let html = visitor
        .get(&app, "/services?q=%E9%80%80%E4%BC%91")
        .await
        .text()
        .await
        .expect("html");
    assert!(!html.contains("找到 0 个事项"), "退休 finds its services");
    // Filters stay folded until one is chosen.
    assert!(html.contains("<details class=\"filters\">"));
    let html = visitor
        .get(&app, "/services?life_event=%E9%80%80%E4%BC%91")
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("<details class=\"filters\" open>"));
}

#[tokio::test]
async fn every_department_with_services_has_a_clerk_whose_workbench_counts_the_waiting() {
    let app = spawn_app().await;
    for (username, item) in [
        ("demo.clerk.police", "339900-GA-0003"),
        ("demo.clerk.civil", "339900-MZ-0001"),
        ("demo.clerk.health", "339900-WJ-0002"),
        ("demo.clerk.hr", "339900-RS-0003"),
        ("demo.clerk.city", "339900-ZW-0001"),
        ("demo.clerk.tax", "339900-SW-0002"),
    ] {
        let mut clerk = app.page_login(app.account(username)).await;
        let html = clerk.get(&app, "/home").await.text().await.expect("html");
        assert!(
            html.contains("没有等待本部门办理的办件"),
            "{username}: nothing yet"
        );
        // The item's department is the clerk's: its guide names it, and the clerk's workbench
        // names the same department.
        let guide = clerk
            .get(&app, &format!("/services/{item}"))
            .await
            .text()
            .await
            .expect("html");
        let department = html
            .split("<dt>所在部门</dt><dd>")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .expect("the clerk's department")
            .to_owned();
        assert!(
            guide.contains(&department),
            "{username} works {item}'s department"
        );
        assert!(!html.contains("(339900)"), "regions by name, not code");
    }
    // An application waiting shows on the market clerk's workbench.
    let mut clerk = app.page_login(app.account("demo.clerk.market")).await;
    let html = clerk.get(&app, "/home").await.text().await.expect("html");
    assert!(html.contains("没有等待本部门办理的办件"));
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    apply_through_the_api(&app, &citizen).await;
    let html = clerk.get(&app, "/home").await.text().await.expect("html");
    assert!(
        html.contains("<strong>1</strong> 件等待办理"),
        "the waiting application is on the to-do list"
    );
}

#[tokio::test]
async fn reading_the_address_of_a_form_goes_to_its_page_and_an_empty_showing_is_refused() {
    let app = spawn_app().await;
    let mut holder = app.page_login(app.account("enterprise.yunqi")).await;
    let wallet: serde_json::Value = app
        .get_as(&app.account("enterprise.yunqi").api_token, "/api/v1/wallet")
        .await
        .json()
        .await
        .expect("json");
    let id = wallet[0]["id"].as_str().expect("id").to_owned();
    let page = holder
        .get(&app, &format!("/wallet/{id}"))
        .await
        .text()
        .await
        .expect("html");
    let csrf = hidden_csrf(&page);
    let shown = holder
        .post_form(&app, &format!("/wallet/{id}/show"), &[("csrf", &csrf)])
        .await;
    assert_eq!(shown.status(), 422, "nothing ticked makes no code");
    let html = shown.text().await.expect("html");
    assert!(html.contains("请至少勾选一项") && !html.contains("class=\"card show\""));
    // The language switch of that answer, or a reload by address, lands on the certificate.
    let switched = holder
        .get(&app, &format!("/wallet/{id}/show?lang=en"))
        .await;
    assert_eq!(switched.status(), 303);
    assert_eq!(
        switched.headers()["location"],
        format!("/wallet/{id}?lang=en").as_str()
    );
    // The API still answers 405 as problem+json.
    let api = app
        .get_as(
            &app.account("enterprise.yunqi").api_token,
            &format!("/api/v1/wallet/{id}/show"),
        )
        .await;
    assert_eq!(api.status(), 405);
}

#[tokio::test]
async fn who_read_my_data_is_told_by_occasion_in_words_with_a_page_that_checks_each_read() {
    let app = spawn_app().await;
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let clerk = app.account("demo.clerk.market").api_token.clone();
    let id = apply_through_the_api(&app, &citizen).await;
    // The clerk opens the application three times and its material once.
    for _ in 0..3 {
        let read = app
            .get_as(&clerk, &format!("/api/v1/applications/{id}"))
            .await;
        assert_eq!(read.status(), 200);
    }
    let mut browser = app.page_login(app.account("citizen.zhangwei")).await;
    let html = browser.get(&app, "/home").await.text().await.expect("html");
    let list = html
        .split("<ul class=\"accesses\">")
        .nth(1)
        .and_then(|rest| rest.split("</ul>").next())
        .expect("the list of accesses");
    assert!(!list.contains("category."), "no raw keys: {list}");
    assert_eq!(
        list.matches("<li>").count(),
        2,
        "one occasion for the clerk's reads, one for the certificates the application obtained: {list}"
    );
    assert!(list.contains("临江市市场监督管理局 · 窗口/审批人员"));
    assert!(list.contains("申请材料") && list.contains("共 3 次读取"));
    assert!(list.contains("经您同意，办理部门调取您的证照"));
    assert!(
        !list.contains("本人查看"),
        "the person's own views are not listed"
    );
    // Each read links to a page that says it in words and checks it.
    let link = list
        .split("href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a record link")
        .to_owned();
    assert!(link.starts_with("/me/accesses/"), "{link}");
    let page = browser.get(&app, &link).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("国家机关履行法定职责") && html.contains("data-ledger-entry="));
    assert!(html.contains("/static/verify.js"));
    // Nobody else sees it.
    let mut other = app.page_login(app.account("citizen.lina")).await;
    assert_eq!(other.get(&app, &link).await.status(), 404);
}

#[tokio::test]
async fn a_health_officer_works_from_pages_and_a_second_officer_confirms() {
    let app = spawn_app().await;
    let person = app.account("citizen.lina").resident_id.clone().expect("id");
    let mut officer = app.page_login(app.account("demo.health")).await;
    let desk = officer.get(&app, "/health").await;
    assert_eq!(desk.status(), 200);
    let html = desk.text().await.expect("html");
    for form in ["/health/facts", "/health/overrides", "/health/contacts"] {
        assert!(html.contains(&format!("action=\"{form}\"")), "{form}");
    }
    let csrf = hidden_csrf(&html);
    // A positive without a sample number waits for a second officer.
    let recorded = officer
        .post_form(
            &app,
            "/health/facts",
            &[
                ("csrf", csrf.as_str()),
                ("resident_id", person.as_str()),
                ("observation", "test_result:positive"),
                ("observed_at", "2026-12-05T09:30"),
                ("legal_basis", "《传染病防治法》第十二条"),
            ],
        )
        .await;
    assert_eq!(recorded.status(), 303);
    assert_eq!(recorded.headers()["location"], "/health?done=fact_pending");
    let html = officer
        .get(&app, "/health?done=fact_pending")
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("等待另一名人员确认后生效"));
    // A mistyped ID number comes back on the desk, nothing recorded.
    let facts = app.count("health_facts").await;
    let refused = officer
        .post_form(
            &app,
            "/health/facts",
            &[
                ("csrf", csrf.as_str()),
                ("resident_id", "12345"),
                ("observation", "test_result:positive"),
                ("observed_at", "2026-12-05T09:30"),
                ("legal_basis", "《传染病防治法》第十二条"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 200);
    assert!(
        refused
            .text()
            .await
            .expect("html")
            .contains("id=\"desk-refused\"")
    );
    assert_eq!(app.count("health_facts").await, facts);
    // A manual colour, asked for on the page.
    let asked = officer
        .post_form(
            &app,
            "/health/overrides",
            &[
                ("csrf", csrf.as_str()),
                ("resident_id", person.as_str()),
                ("colour", "yellow"),
                ("reason_code", "data_entry_error"),
                ("until", "2026-12-10"),
            ],
        )
        .await;
    assert_eq!(asked.headers()["location"], "/health?done=override");
    // The second officer sees both and confirms the fact.
    let mut second = app.page_login(app.account("demo.health2")).await;
    let inbox = second
        .get(&app, "/health/approvals")
        .await
        .text()
        .await
        .expect("html");
    assert!(inbox.contains("阳性") && inbox.contains("黄码"));
    // Staff without the role have no desk.
    let mut clerk = app.page_login(app.account("demo.clerk.market")).await;
    assert_eq!(clerk.get(&app, "/health").await.status(), 403);
}

#[tokio::test]
async fn developers_read_the_api_reference_rendered_from_the_openapi_document() {
    let app = spawn_app().await;
    let document: serde_json::Value = crate::helpers::get_url(app.url("/api/openapi.json"))
        .await
        .expect("document")
        .json()
        .await
        .expect("json");
    assert_eq!(document["servers"][0]["url"], "/", "a servers entry");
    let operations: usize = document["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|item| item.as_object().map_or(0, |m| m.len()))
        .sum();
    let mut visitor = Browser::default();
    let page = visitor.get(&app, "/docs").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert_eq!(
        html.matches("<details class=\"operation\"").count(),
        operations,
        "every operation of the document is on the page"
    );
    assert!(html.contains("id=\"post-api-v1-services--code--applications\""));
    assert!(
        html.contains("Authorization: Bearer"),
        "examples with the token header"
    );
    let english = visitor.get(&app, "/docs?lang=en").await;
    assert!(
        english
            .text()
            .await
            .expect("html")
            .contains("API reference")
    );
}

#[tokio::test]
async fn the_newborn_bundle_asks_about_the_baby() {
    let app = spawn_app().await;
    let mut parent = app.page_login(app.account("citizen.wangfang")).await;
    let html = parent
        .get(&app, "/bundles/339900-YJS-0001/apply")
        .await
        .text()
        .await
        .expect("html");
    for field in ["baby_name", "baby_sex", "birth_date", "birth_place"] {
        assert!(html.contains(&format!("name=\"field.{field}\"")), "{field}");
    }
    assert!(html.contains("name=\"field.birth_date\" type=\"date\""));
    assert!(html.contains("name=\"field.birth_weight\" type=\"number\""));
}

#[tokio::test]
async fn one_message_centre_gathers_every_modules_news_with_an_unread_count() {
    let app = spawn_app().await;
    let citizen = app.account("citizen.zhangwei").clone();
    let mut browser = app.page_login(&citizen).await;
    let home = browser.get(&app, "/home").await.text().await.expect("html");
    assert!(
        home.contains("<nav class=\"tabbar\""),
        "a holder has the tab bar"
    );
    assert!(home.contains("hx-get=\"/messages/unread\""));
    let unread = browser
        .get(&app, "/messages/unread")
        .await
        .text()
        .await
        .expect("html");
    assert_eq!(unread, "", "nothing new yet");
    // An application step and a fact in force about the person: two modules' news.
    apply_through_the_api(&app, &citizen.api_token).await;
    app.clock.advance(time::Duration::minutes(1));
    let lab = app.account("demo.lab").api_token.clone();
    let observed =
        tongban_app::time_fmt::rfc3339(tongban_core::Clock::now_millis(&*app.clock) - 3_600_000);
    let fact = app
        .post_as(
            &lab,
            "/api/v1/health/facts",
            &serde_json::json!({
                "resident_id": citizen.resident_id,
                "kind": "test_result",
                "value": "positive",
                "observed_at": observed,
                "legal_basis": "《传染病防治法》第十二条",
                "evidence_ref": "LAB-2026-0001"
            }),
        )
        .await;
    assert!(fact.status().is_success(), "{}", fact.status());
    let unread = browser
        .get(&app, "/messages/unread")
        .await
        .text()
        .await
        .expect("html");
    assert!(unread.contains("class=\"badge\""), "{unread}");
    let centre = browser
        .get(&app, "/messages")
        .await
        .text()
        .await
        .expect("html");
    assert!(centre.contains("「个体工商户注册登记」已提交，待受理"));
    assert!(
        centre.contains("href=\"/pass\""),
        "the pass's news: {centre}"
    );
    assert_eq!(
        browser
            .get(&app, "/messages/unread")
            .await
            .text()
            .await
            .expect("html"),
        "",
        "read once opened"
    );
    // Staff have no tab bar.
    let mut clerk = app.page_login(app.account("demo.clerk.market")).await;
    let html = clerk.get(&app, "/home").await.text().await.expect("html");
    assert!(!html.contains("<nav class=\"tabbar\""));
}
