//! Pages: the citizen's own page, language and large text, the workbench and the console.

use crate::helpers::{hidden_csrf, spawn_app};

#[tokio::test]
async fn a_citizen_sees_their_details_masked_and_who_read_them() {
    let app = spawn_app().await;
    let person = app.person_id_of("citizen.zhangwei").await;
    app.get_as(
        &app.account("demo.clerk").api_token,
        &format!("/api/v1/persons/{person}?purpose=service_handling"),
    )
    .await;
    let citizen = app.account("citizen.zhangwei");
    let mut browser = app.page_login(citizen).await;
    let html = browser.get(&app, "/home").await.text().await.expect("html");
    assert!(html.contains("张伟"));
    let resident_id = citizen.resident_id.as_deref().expect("id");
    assert!(
        !html.contains(resident_id),
        "the full ID number is not shown"
    );
    assert!(html.contains(&format!("33**************{}", &resident_id[16..])));
    assert!(html.contains("谁查看了我的数据"));
    assert!(
        html.contains("江北区政务服务管理局"),
        "the clerk's department is named"
    );
    assert!(html.contains("办理业务"));
}

#[tokio::test]
async fn language_and_large_text_switch_and_stay_with_the_account() {
    let app = spawn_app().await;
    let citizen = app.first_with_role("citizen");
    let mut browser = app.page_login(citizen).await;
    let english = browser
        .get(&app, "/home?lang=en")
        .await
        .text()
        .await
        .expect("html");
    assert!(english.contains("<html lang=\"en\">") && english.contains("Who accessed my data"));
    let large = browser
        .get(&app, "/home?large=1")
        .await
        .text()
        .await
        .expect("html");
    assert!(large.contains("class=\"large-text\""));
    // A new login on another device keeps both choices.
    let mut other = app.page_login(citizen).await;
    let html = other.get(&app, "/home").await.text().await.expect("html");
    assert!(html.contains("Who accessed my data") && html.contains("class=\"large-text\""));
    let chinese = other
        .get(&app, "/home?lang=zh")
        .await
        .text()
        .await
        .expect("html");
    assert!(chinese.contains("<html lang=\"zh-CN\" class=\"large-text\">"));
}

#[tokio::test]
async fn visitors_choose_a_language_before_logging_in() {
    let app = spawn_app().await;
    let mut browser = crate::helpers::Browser::default();
    assert!(
        browser
            .get(&app, "/login?lang=en")
            .await
            .text()
            .await
            .expect("html")
            .contains("Log in")
    );
    assert!(
        browser
            .get(&app, "/login")
            .await
            .text()
            .await
            .expect("html")
            .contains("One-time code"),
        "the choice is remembered"
    );
}

#[tokio::test]
async fn staff_land_on_the_workbench_and_administrators_on_their_console_sections() {
    let app = spawn_app().await;
    let mut clerk = app.page_login(app.account("demo.clerk")).await;
    let html = clerk.get(&app, "/home").await.text().await.expect("html");
    assert!(html.contains("工作台") && html.contains("江北区政务服务管理局"));
    assert_eq!(
        clerk.get(&app, "/admin").await.status(),
        403,
        "a clerk has no console"
    );

    let mut system = app.page_login(app.first_with_role("system_admin")).await;
    let console = system.get(&app, "/admin").await.text().await.expect("html");
    assert!(
        console.contains("href=\"/admin/users\"") && !console.contains("href=\"/admin/events\""),
        "the overview leads to the parts this administrator has"
    );
    let users = system
        .get(&app, "/admin/users")
        .await
        .text()
        .await
        .expect("html");
    assert!(users.contains("新建用户") && !users.contains("<h2 id=\"regions\""));
    let structure = system
        .get(&app, "/admin/regions")
        .await
        .text()
        .await
        .expect("html");
    assert!(structure.contains("<h2 id=\"regions\"") && !structure.contains("新建用户"));

    let mut audit = app.page_login(app.first_with_role("audit_admin")).await;
    let overview = audit.get(&app, "/admin").await.text().await.expect("html");
    assert!(overview.contains("href=\"/admin/events\"") && !overview.contains("新建用户"));
    let console = audit
        .get(&app, "/admin/events")
        .await
        .text()
        .await
        .expect("html");
    assert!(console.contains("管理操作记录") && !console.contains("新建用户"));
    assert!(
        console.contains("<td>创建账号</td>"),
        "the seeding is on record, in words"
    );
    assert!(
        console.contains("<td>operator</td>"),
        "who acted by name (the seeding ran as the operator), not by account id"
    );

    let mut security = app.page_login(app.first_with_role("security_admin")).await;
    let console = security
        .get(&app, "/admin/grants")
        .await
        .text()
        .await
        .expect("html");
    assert!(console.contains("授予角色") && !console.contains("新建用户"));
    assert!(
        console.contains(">demo.clerk<"),
        "accounts to grant roles to are listed"
    );
    assert!(
        !console.contains(">demo.secadmin<"),
        "but not the security administrator itself"
    );
}

#[tokio::test]
async fn the_system_administrator_creates_a_clerk_on_the_console_who_can_then_log_in() {
    let app = spawn_app().await;
    let mut system = app.page_login(app.first_with_role("system_admin")).await;
    let console = system
        .get(&app, "/admin/users")
        .await
        .text()
        .await
        .expect("html");
    let department = console
        .split("name=\"department_id\"><option value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a department");
    let created = system
        .post_form(
            &app,
            "/admin/users",
            &[
                ("csrf", hidden_csrf(&console).as_str()),
                ("username", "new.window"),
                ("display_name", "新窗口"),
                ("role", "clerk"),
                ("department_id", department),
            ],
        )
        .await;
    // Post, then redirect to the part of the console that tells what happened.
    assert_eq!(created.status(), 303);
    let told = created.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(told, "/admin/users?done=pending&account=new.window");
    let html = system.get(&app, &told).await.text().await.expect("html");
    assert!(html.contains("激活码已通过送达渠道发给本人"), "{html}");
    assert!(html.contains("new.window"));
    assert!(
        !html.contains("TOTP:") && !html.contains("密码:"),
        "the administrator sees no credential"
    );
    let account = tongban_app::identity::store::account_by_username(app.state.pool(), "new.window")
        .await
        .expect("query")
        .expect("created");
    assert!(
        tongban_app::identity::store::grants(app.state.pool(), &account.id)
            .await
            .expect("grants")
            .is_empty(),
        "a clerk's role waits for the security administrator"
    );

    // The security administrator approves it on their console.
    let mut security = app.page_login(app.first_with_role("security_admin")).await;
    let console = security
        .get(&app, "/admin/grants")
        .await
        .text()
        .await
        .expect("html");
    let approve = console
        .split("action=\"/admin/grant-requests/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the request is listed")
        .to_owned();
    assert!(approve.ends_with("/approve"));
    let approved = security
        .post_form(
            &app,
            &format!("/admin/grant-requests/{approve}"),
            &[("csrf", hidden_csrf(&console).as_str())],
        )
        .await;
    assert_eq!(approved.status(), 303);
    assert_eq!(
        tongban_app::identity::store::grants(app.state.pool(), &account.id)
            .await
            .expect("grants")
            .len(),
        1
    );

    // The holder receives the code and activates the account on the activation pages.
    let delivered = tongban_app::identity::activation::take_deliveries(&app.state)
        .await
        .expect("deliveries");
    let body = &delivered
        .iter()
        .find(|d| d.username == "new.window")
        .expect("a message to the holder")
        .body;
    let code = tongban_app::identity::activation::code_in(body).expect("a code");
    let mut holder = crate::helpers::Browser::default();
    let form = holder
        .get(&app, "/activate")
        .await
        .text()
        .await
        .expect("html");
    let step = holder
        .post_form(
            &app,
            "/activate",
            &[
                ("csrf", hidden_csrf(&form).as_str()),
                ("username", "new.window"),
                ("code", code.as_str()),
            ],
        )
        .await
        .text()
        .await
        .expect("html");
    let secret = step
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("a factor to enrol")
        .to_owned();
    let now = tongban_core::Clock::now(&*app.clock).unix_timestamp();
    let code_now = tongban_app::identity::totp::current_code(&secret, now).expect("code");
    let done = holder
        .post_form(
            &app,
            "/activate/complete",
            &[
                ("csrf", hidden_csrf(&step).as_str()),
                ("username", "new.window"),
                ("code", code.as_str()),
                ("password", "my own window password"),
                ("totp", code_now.as_str()),
            ],
        )
        .await;
    assert_eq!(done.status(), 200);
    app.clock.advance(time::Duration::seconds(31));
    let next = tongban_app::identity::totp::current_code(
        &secret,
        tongban_core::Clock::now(&*app.clock).unix_timestamp(),
    )
    .expect("code");
    assert_eq!(
        app.api_login("new.window", "my own window password", Some(&next))
            .await
            .status(),
        200
    );

    let forged = system
        .post_form(
            &app,
            "/admin/users",
            &[
                ("csrf", "forged"),
                ("username", "forged.user"),
                ("display_name", "x"),
                ("role", "clerk"),
                ("department_id", department),
            ],
        )
        .await;
    assert_eq!(forged.status(), 403);
    assert!(
        tongban_app::identity::store::account_by_username(app.state.pool(), "forged.user")
            .await
            .expect("query")
            .is_none()
    );
}

#[tokio::test]
async fn a_citizen_turns_on_one_time_codes_and_manages_tokens_on_the_security_page() {
    let app = spawn_app().await;
    let citizen = app.account("citizen.lina");
    let mut browser = app.page_login(citizen).await;
    let page = browser
        .get(&app, "/security")
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("未启用"));
    let csrf = hidden_csrf(&page);
    let enrolling = browser
        .post_form(
            &app,
            "/security/totp",
            &[
                ("csrf", csrf.as_str()),
                ("password", citizen.password.as_str()),
            ],
        )
        .await
        .text()
        .await
        .expect("html");
    let secret = enrolling
        .split("<p><code>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("secret shown")
        .to_owned();
    let now = tongban_core::Clock::now(&*app.clock).unix_timestamp();
    let code = tongban_app::identity::totp::current_code(&secret, now).expect("code");
    let done = browser
        .post_form(
            &app,
            "/security/totp/confirm",
            &[("csrf", csrf.as_str()), ("code", code.as_str())],
        )
        .await;
    assert_eq!(done.status(), 200);
    assert!(done.text().await.expect("html").contains("已启用"));
    assert_eq!(
        app.api_login(&citizen.username, &citizen.password, None)
            .await
            .status(),
        401,
        "a code is now needed"
    );

    // A new token needs the password and a fresh code again.
    app.clock.advance(time::Duration::seconds(30));
    let now = tongban_core::Clock::now(&*app.clock).unix_timestamp();
    let fresh = tongban_app::identity::totp::current_code(&secret, now).expect("code");
    let without = browser
        .post_form(
            &app,
            "/security/tokens",
            &[
                ("csrf", csrf.as_str()),
                ("label", "家用脚本"),
                ("days", "7"),
                ("password", citizen.password.as_str()),
            ],
        )
        .await;
    assert_eq!(without.status(), 403, "the code is missing");
    let created = browser
        .post_form(
            &app,
            "/security/tokens",
            &[
                ("csrf", csrf.as_str()),
                ("label", "家用脚本"),
                ("days", "7"),
                ("password", citizen.password.as_str()),
                ("totp", fresh.as_str()),
            ],
        )
        .await
        .text()
        .await
        .expect("html");
    let token = created
        .split("<p><code>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("token shown once")
        .to_owned();
    assert_eq!(app.get_as(&token, "/api/v1/me").await.status(), 200);
    let row = created
        .split("<td>家用脚本</td>")
        .nth(1)
        .expect("the new token is listed");
    let id = row
        .split("action=\"/security/tokens/")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("a revoke form")
        .to_owned();
    let bad_days = browser
        .post_form(
            &app,
            "/security/tokens",
            &[
                ("csrf", csrf.as_str()),
                ("label", "x"),
                ("days", "forever"),
                ("password", citizen.password.as_str()),
            ],
        )
        .await;
    assert_eq!(bad_days.status(), 422);
    let forged = browser
        .post_form(
            &app,
            &format!("/security/tokens/{id}/revoke"),
            &[("csrf", "forged")],
        )
        .await;
    assert_eq!(forged.status(), 403);
    assert_eq!(
        browser
            .post_form(
                &app,
                &format!("/security/tokens/{id}/revoke"),
                &[("csrf", csrf.as_str())]
            )
            .await
            .status(),
        200
    );
    let listed: serde_json::Value = app
        .get_as(&citizen.api_token, "/api/v1/me/tokens")
        .await
        .json()
        .await
        .expect("json");
    let revoked = listed
        .as_array()
        .expect("list")
        .iter()
        .filter(|t| !t["revoked_at"].is_null())
        .count();
    assert!(revoked >= 1);
}

/// The navigation is what the modules give each actor: the pass to citizens, the scanner to
/// checkpoint staff, the statistics to health officers, the console to the administrators —
/// and no link that answers 404 (an account that is no person's has no pass).
#[tokio::test]
async fn each_actor_sees_the_navigation_of_their_roles() {
    let app = spawn_app().await;
    // What the navigation shows answers (each link is followed in the same session).
    let nav_of = |username: &str| {
        let (app, account) = (&app, app.account(username).clone());
        let username = username.to_owned();
        async move {
            let mut browser = app.page_login(&account).await;
            let html = browser.get(app, "/home").await.text().await.expect("html");
            for href in html
                .split("</header>")
                .next()
                .unwrap_or_default()
                .split("href=\"")
                .skip(1)
                .filter_map(|rest| rest.split('"').next())
                .filter(|href| href.starts_with('/') && !href.contains("lang="))
            {
                let status = browser.get(app, href).await.status();
                assert!(
                    status.is_success() || status.is_redirection(),
                    "{username}: {href} answered {status}"
                );
            }
            let header = html
                .split("</header>")
                .next()
                .unwrap_or_default()
                .to_owned();
            [
                "/admin",
                "/services",
                "/scan",
                "/pass",
                "/checkins/statistics",
                "/security",
            ]
            .into_iter()
            .filter(|href| header.contains(&format!("href=\"{href}\"")))
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        nav_of("citizen.zhangwei").await,
        ["/services", "/pass", "/security"]
    );
    let checker = app.first_with_role("checkpoint_officer").username.clone();
    assert_eq!(nav_of(&checker).await, ["/services", "/scan", "/security"]);
    assert_eq!(
        nav_of("demo.health").await,
        ["/services", "/checkins/statistics", "/security"]
    );
    assert_eq!(
        nav_of("demo.sysadmin").await,
        ["/admin", "/services", "/checkins/statistics", "/security"]
    );
    assert_eq!(
        nav_of("enterprise.qingyuan").await,
        ["/services", "/security"]
    );
}

/// The kernel's and every module's interface text together: every key a template uses has
/// both languages, and no key is defined twice.
#[test]
fn every_key_a_template_uses_has_both_languages_and_none_is_defined_twice() {
    use tongban_app::web::i18n::{self, Tr};
    i18n::register(tongban_app::modules().iter().map(|m| m.texts()).collect());
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut checked = 0;
    // Every crate's templates: the kernel's and each module's.
    for owner in std::fs::read_dir(&crates).expect("crates") {
        let owner = owner.expect("entry").path();
        let dir = owner.join("templates");
        if !dir.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(&dir).expect("templates folder") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("template");
            for piece in text.split("t.get(\"").skip(1) {
                let key = piece.split('"').next().unwrap_or_default();
                assert!(Tr::has(key), "{owner:?}: missing interface text for {key}");
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "expected the templates to use the tables");
    let mut keys = i18n::keys();
    let before = keys.len();
    assert!(
        before > 400,
        "the modules' tables are registered: {before} keys"
    );
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(before, keys.len(), "a key is defined twice");
}

#[tokio::test]
async fn a_citizen_changes_their_password_on_the_security_page_only_with_the_current_one() {
    let app = spawn_app().await;
    let citizen = app.account("citizen.wangfang").clone();
    let mut browser = app.page_login(&citizen).await;
    let page = browser
        .get(&app, "/security")
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("action=\"/security/password\""));
    let csrf = hidden_csrf(&page);
    let change = |current: &'static str, new: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("password", current.to_owned()),
            ("new_password", new.to_owned()),
        ]
    };
    for (current, new, status) in [
        ("not-the-password", "a-new-passphrase-2026", 403),
        ("", "short", 422),
    ] {
        let form = change(current, new);
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = browser.post_form(&app, "/security/password", &pairs).await;
        assert_eq!(refused.status(), status);
        assert!(
            refused.text().await.expect("html").contains("<main"),
            "a page, not a bare error"
        );
    }
    assert_eq!(
        app.api_login(&citizen.username, &citizen.password, None)
            .await
            .status(),
        200,
        "nothing changed"
    );
    let pairs = [
        ("csrf", csrf.as_str()),
        ("password", citizen.password.as_str()),
        ("new_password", "a-new-passphrase-2026"),
    ];
    let done = browser.post_form(&app, "/security/password", &pairs).await;
    assert_eq!(done.status(), 200);
    assert!(done.text().await.expect("html").contains("密码已修改"));
    assert_eq!(
        browser.get(&app, "/security").await.status(),
        200,
        "this session stays"
    );
    assert_eq!(
        app.api_login(&citizen.username, "a-new-passphrase-2026", None)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn the_audit_view_filters_events_by_action_actor_and_day() {
    let app = spawn_app().await;
    let mut audit = app.page_login(app.first_with_role("audit_admin")).await;
    let rows = |html: &str| -> Vec<String> {
        let body = html.split("<tbody>").nth(1).unwrap_or_default();
        let body = body.split("</tbody>").next().unwrap_or_default();
        body.split("<tr>").skip(1).map(str::to_owned).collect()
    };
    let all = audit
        .get(&app, "/admin/events")
        .await
        .text()
        .await
        .expect("html");
    let everything = rows(&all);
    assert!(everything.iter().any(|r| r.contains("<td>创建部门</td>")));
    let created = audit
        .get(
            &app,
            "/admin/events?action=account.create&actor=operator&from=2000-01-01",
        )
        .await;
    assert_eq!(created.status(), 200);
    let created = created.text().await.expect("html");
    let kept = rows(&created);
    assert!(!kept.is_empty());
    assert!(kept.len() < everything.len(), "the filter narrows");
    assert!(
        kept.iter()
            .all(|r| r.contains("<td>创建账号</td>") && r.contains("<td>operator</td>"))
    );
    assert!(
        created.contains("<option value=\"account.create\" selected>"),
        "the filter stays chosen"
    );
    // A day before any event finds nothing; an unknown username is a readable refusal.
    let none = audit
        .get(&app, "/admin/events?to=2000-01-01")
        .await
        .text()
        .await
        .expect("html");
    assert!(rows(&none).is_empty());
    let unknown = audit.get(&app, "/admin/events?actor=nobody.here").await;
    assert_eq!(unknown.status(), 422);
    assert!(
        unknown
            .text()
            .await
            .expect("html")
            .contains("没有这个用户名的账号")
    );
    let bad_day = audit.get(&app, "/admin/events?from=yesterday").await;
    assert_eq!(bad_day.status(), 422);
}
