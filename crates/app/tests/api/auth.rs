//! Login with two factors, lockout, replay, sessions and tokens.

use serde_json::{Value, json};
use time::Duration;

use crate::helpers::{Browser, hidden_csrf, problem, spawn_app};

#[tokio::test]
async fn staff_log_in_with_password_and_totp_and_receive_a_working_token() {
    let app = spawn_app().await;
    let clerk = app.first_with_role("clerk");
    let (status, body) = problem(app.api_login(&clerk.username, &clerk.password, None).await).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (401, Some("/problems/invalid-credentials"))
    );

    let response = app
        .api_login(&clerk.username, &clerk.password, Some(&app.totp_now(clerk)))
        .await;
    assert_eq!(response.status(), 200);
    let login: Value = response.json().await.expect("json");
    let token = login["token"].as_str().expect("token");
    assert!(login["expires_at"].as_str().expect("expiry").ends_with('Z'));

    let me: Value = app
        .get_as(token, "/api/v1/me")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["username"], clerk.username.as_str());
    assert_eq!(me["roles"][0]["role"], "clerk");
    assert_eq!(me["roles"][0]["scope"]["kind"], "department");
    assert_eq!(me["roles"][0]["scope"]["region"], "339901");
}

#[tokio::test]
async fn a_one_time_code_cannot_be_used_twice_within_its_window() {
    let app = spawn_app().await;
    let admin = app.first_with_role("system_admin");
    let code = app.totp_now(admin);
    assert_eq!(
        app.api_login(&admin.username, &admin.password, Some(&code))
            .await
            .status(),
        200
    );
    let (status, _) = problem(
        app.api_login(&admin.username, &admin.password, Some(&code))
            .await,
    )
    .await;
    assert_eq!(status, 401, "a replayed code is refused");
    app.clock.advance(Duration::seconds(30));
    assert_eq!(
        app.api_login(&admin.username, &admin.password, Some(&app.totp_now(admin)))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn citizens_log_in_with_a_password_alone() {
    let app = spawn_app().await;
    let citizen = app.first_with_role("citizen");
    assert_eq!(
        app.api_login(&citizen.username, &citizen.password, None)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.api_login(&citizen.username, "wrong password", None)
            .await
            .status(),
        401
    );
    assert_eq!(
        app.api_login("no.such.user", "whatever password", None)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn repeated_failures_lock_the_account_until_the_lock_ends() {
    let app = spawn_app().await;
    let citizen = app.first_with_role("citizen");
    for _ in 0..5 {
        assert_eq!(
            app.api_login(&citizen.username, "not the password", None)
                .await
                .status(),
            401
        );
    }
    // Locked: even the right password is refused, with the answer a wrong one gets, so the
    // lock tells nobody that the name exists.
    let locked = app
        .api_login(&citizen.username, &citizen.password, None)
        .await;
    let (status, body) = problem(locked).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (401, Some("/problems/invalid-credentials"))
    );

    app.clock.advance(Duration::minutes(16));
    assert_eq!(
        app.api_login(&citizen.username, &citizen.password, None)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn logging_out_revokes_the_token_and_expired_tokens_are_refused() {
    let app = spawn_app().await;
    let citizen = app.first_with_role("citizen");
    let login: Value = app
        .api_login(&citizen.username, &citizen.password, None)
        .await
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token").to_owned();
    assert_eq!(
        app.post_as(&token, "/api/v1/auth/logout", &json!({}))
            .await
            .status(),
        204
    );
    assert_eq!(app.get_as(&token, "/api/v1/me").await.status(), 401);

    let login: Value = app
        .api_login(&citizen.username, &citizen.password, None)
        .await
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token").to_owned();
    app.clock.advance(Duration::hours(13));
    let (status, body) = problem(app.get_as(&token, "/api/v1/me").await).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (401, Some("/problems/unauthenticated"))
    );
}

#[tokio::test]
async fn tokens_and_sessions_are_stored_only_as_digests() {
    let app = spawn_app().await;
    let citizen = app.first_with_role("citizen");
    let browser = app.page_login(citizen).await;
    let session = browser
        .cookies
        .iter()
        .find(|(n, _)| n == "__Host-tongban-session")
        .map(|(_, v)| v.clone())
        .expect("session");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE id_hash = $1")
        .bind(session.clone())
        .fetch_one(app.state.pool())
        .await
        .expect("query");
    assert_eq!(stored, 0, "the raw session id is not stored");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1")
        .bind(citizen.api_token.clone())
        .fetch_one(app.state.pool())
        .await
        .expect("query");
    assert_eq!(stored, 0, "the raw token is not stored");
    assert!(app.count("sessions").await >= 1);
}

#[tokio::test]
async fn the_session_cookie_is_host_bound_secure_http_only_and_same_site() {
    let app = spawn_app().await;
    let mut browser = Browser::default();
    let html = browser
        .get(&app, "/login")
        .await
        .text()
        .await
        .expect("html");
    let citizen = app.first_with_role("citizen");
    let response = browser
        .post_form(
            &app,
            "/login",
            &[
                ("csrf", hidden_csrf(&html).as_str()),
                ("username", &citizen.username),
                ("password", &citizen.password),
                ("totp", ""),
            ],
        )
        .await;
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-tongban-session="))
        .expect("session cookie")
        .to_owned();
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(!cookie.contains("Domain="));
}

#[tokio::test]
async fn idle_page_sessions_end_and_send_the_user_back_to_login() {
    let app = spawn_app().await;
    let mut browser = app.page_login(app.first_with_role("citizen")).await;
    assert_eq!(browser.get(&app, "/home").await.status(), 200);
    app.clock.advance(Duration::minutes(20));
    assert_eq!(
        browser.get(&app, "/home").await.status(),
        200,
        "activity keeps the session alive"
    );
    app.clock.advance(Duration::minutes(31));
    let response = browser.get(&app, "/home").await;
    assert_eq!(response.status(), 303);
    // Back to the login, which returns to the page afterwards.
    assert_eq!(response.headers()["location"], "/login?next=%2Fhome");
}

#[tokio::test]
async fn a_login_form_without_the_right_csrf_token_is_refused_and_starts_no_session() {
    let app = spawn_app().await;
    let citizen = app.first_with_role("citizen");
    let sessions_before = app.count("sessions").await;
    let mut browser = Browser::default();
    browser.get(&app, "/login").await;
    let forged = browser
        .post_form(
            &app,
            "/login",
            &[
                ("csrf", "forged"),
                ("username", &citizen.username),
                ("password", &citizen.password),
            ],
        )
        .await;
    assert_eq!(forged.status(), 403);
    assert!(forged.text().await.expect("html").contains("表单已过期"));
    let mut stranger = Browser::default();
    let missing = stranger
        .post_form(
            &app,
            "/login",
            &[
                ("username", &citizen.username),
                ("password", &citizen.password),
            ],
        )
        .await;
    assert_eq!(
        missing.status(),
        400,
        "a form without its token is malformed"
    );
    assert_eq!(app.count("sessions").await, sessions_before);
}

#[tokio::test]
async fn logging_out_of_a_page_needs_the_session_token_and_ends_the_session() {
    let app = spawn_app().await;
    let mut browser = app.page_login(app.first_with_role("citizen")).await;
    let html = browser.get(&app, "/home").await.text().await.expect("html");
    assert_eq!(
        browser
            .post_form(&app, "/logout", &[("csrf", "forged")])
            .await
            .status(),
        403
    );
    assert_eq!(
        browser.get(&app, "/home").await.status(),
        200,
        "a forged logout changes nothing"
    );
    assert_eq!(
        browser
            .post_form(&app, "/logout", &[("csrf", hidden_csrf(&html).as_str())])
            .await
            .status(),
        303
    );
    assert_eq!(browser.get(&app, "/home").await.status(), 303);
}

#[tokio::test]
async fn the_api_called_with_a_session_cookie_needs_the_csrf_header_to_change_anything() {
    let app = spawn_app().await;
    let mut browser = app.page_login(app.first_with_role("citizen")).await;
    let html = browser.get(&app, "/home").await.text().await.expect("html");
    let cookie = browser
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let body = json!({"language": "en", "large_text": true});
    let without = app
        .client
        .put(app.url("/api/v1/me/preferences"))
        .header("cookie", &cookie)
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(problem(without).await.1["type"], "/problems/csrf");
    let with = app
        .client
        .put(app.url("/api/v1/me/preferences"))
        .header("cookie", &cookie)
        .header("x-csrf-token", hidden_csrf(&html))
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(with.status(), 204);
}

#[tokio::test]
async fn a_citizen_adds_a_second_factor_and_from_then_on_needs_it() {
    let app = spawn_app().await;
    let citizen = app.first_with_role("citizen");
    let token = &citizen.api_token;
    let (status, _) = problem(
        app.post_as(token, "/api/v1/me/totp/confirm", &json!({"code": "123456"}))
            .await,
    )
    .await;
    assert_eq!(status, 409, "nothing is being enrolled yet");
    let (status, body) = problem(app.post_as(token, "/api/v1/me/totp", &json!({})).await).await;
    assert_eq!(status, 422, "the password is asked for again: {body}");
    let (status, body) = problem(
        app.post_as(
            token,
            "/api/v1/me/totp",
            &json!({"password": "not-the-password"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (403, Some("/problems/reauthenticate"))
    );
    let enrolment: Value = app
        .post_as(
            token,
            "/api/v1/me/totp",
            &json!({"password": citizen.password}),
        )
        .await
        .json()
        .await
        .expect("json");
    let secret = enrolment["secret"].as_str().expect("secret").to_owned();
    assert!(
        enrolment["uri"]
            .as_str()
            .expect("uri")
            .starts_with("otpauth://totp/tongban:citizen.")
    );
    let now = || tongban_core::Clock::now(&*app.clock).unix_timestamp();
    let wrong =
        if tongban_app::identity::totp::current_code(&secret, now()).as_deref() == Some("000000") {
            "111111"
        } else {
            "000000"
        };
    let (status, body) = problem(
        app.post_as(token, "/api/v1/me/totp/confirm", &json!({"code": wrong}))
            .await,
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("code")));
    assert_eq!(
        app.api_login(&citizen.username, &citizen.password, None)
            .await
            .status(),
        200,
        "not yet required"
    );

    let code = tongban_app::identity::totp::current_code(&secret, now()).expect("code");
    assert_eq!(
        app.post_as(token, "/api/v1/me/totp/confirm", &json!({"code": code}))
            .await
            .status(),
        204
    );
    assert_eq!(
        app.api_login(&citizen.username, &citizen.password, None)
            .await
            .status(),
        401
    );
    assert_eq!(
        app.api_login(&citizen.username, &citizen.password, Some(&code))
            .await
            .status(),
        401,
        "the confirming code is spent"
    );
    app.clock.advance(Duration::seconds(30));
    let next = tongban_app::identity::totp::current_code(&secret, now()).expect("code");
    assert_eq!(
        app.api_login(&citizen.username, &citizen.password, Some(&next))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn accounts_issue_list_and_revoke_their_own_api_tokens_only() {
    let app = spawn_app().await;
    let citizen = &app.account("citizen.zhangwei").api_token;
    let password = app.account("citizen.zhangwei").password.clone();
    let (status, body) = problem(
        app.post_as(
            citizen,
            "/api/v1/me/tokens",
            &json!({"label": "script", "expires_in_days": 0, "password": password}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("expires_in_days"))
    );
    let created: Value = app
        .post_as(
            citizen,
            "/api/v1/me/tokens",
            &json!({"label": "my script", "expires_in_days": 30, "password": password}),
        )
        .await
        .json()
        .await
        .expect("json");
    let secret = created["token"].as_str().expect("token").to_owned();
    assert_eq!(app.get_as(&secret, "/api/v1/me").await.status(), 200);
    let listed: Value = app
        .get_as(citizen, "/api/v1/me/tokens")
        .await
        .json()
        .await
        .expect("json");
    let entry = listed
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["label"] == "my script")
        .expect("listed")
        .clone();
    assert!(
        !listed.to_string().contains(&secret),
        "secrets are never listed"
    );
    let id = entry["id"].as_str().expect("id");

    let other = &app.account("citizen.lina").api_token;
    let foreign = app
        .client
        .delete(app.url(&format!("/api/v1/me/tokens/{id}")))
        .bearer_auth(other)
        .send()
        .await
        .expect("request");
    assert_eq!(problem(foreign).await.0, 404);
    assert_eq!(
        app.get_as(&secret, "/api/v1/me").await.status(),
        200,
        "another account cannot revoke it"
    );
    let own = app
        .client
        .delete(app.url(&format!("/api/v1/me/tokens/{id}")))
        .bearer_auth(citizen)
        .send()
        .await
        .expect("request");
    assert_eq!(own.status(), 204);
    assert_eq!(app.get_as(&secret, "/api/v1/me").await.status(), 401);
}

#[tokio::test]
async fn every_demo_account_logs_in_on_the_pages_and_with_its_api_token() {
    let app = spawn_app().await;
    for account in &app.demo.accounts {
        let me: Value = app
            .get_as(&account.api_token, "/api/v1/me")
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(me["username"], account.username.as_str());
        assert_eq!(me["roles"][0]["role"], account.role.as_str());
        let mut browser = app.page_login(account).await;
        assert_eq!(
            browser.get(&app, "/home").await.status(),
            200,
            "{}",
            account.username
        );
        // Each staff login spends the current code; the next account has its own secret.
    }
}

/// A fresh node's first requests bring many tokens at once: their owners are read together (a
/// statement for the tokens, one for the grants), and each token gets exactly the owner a node
/// reading it alone finds — its account, grants, department and token — while a revoked
/// token, a disabled account's token and an unknown one get none.
#[tokio::test]
async fn tokens_read_together_get_the_owner_each_gets_alone() {
    let app = spawn_app().await;
    let pool = app.state.pool();
    let revoked = app.first_with_role("clerk").api_token.clone();
    sqlx::query("UPDATE api_tokens SET revoked_at = 1 WHERE token_hash = $1")
        .bind(tongban_app::random::secret_digest(&revoked))
        .execute(pool)
        .await
        .expect("revoke");
    let disabled = app.account("citizen.zhangwei");
    sqlx::query("UPDATE accounts SET disabled = 1 WHERE username = $1")
        .bind(disabled.username.clone())
        .execute(pool)
        .await
        .expect("disable");
    let mut tokens: Vec<String> = app
        .demo
        .accounts
        .iter()
        .map(|a| a.api_token.clone())
        .collect();
    tokens.push("tbk_no_such_token".to_owned());
    // Every token asked twice at once: the second asker waits for the next batch.
    let asked: Vec<String> = tokens.iter().chain(tokens.iter()).cloned().collect();

    let together_node = tongban_app::open_state((*app.state.config).clone(), app.clock.clone())
        .await
        .expect("a fresh node");
    let reads: Vec<_> = asked
        .iter()
        .map(|token| {
            let (node, token) = (together_node.clone(), token.clone());
            tokio::spawn(async move {
                tongban_app::identity::service::actor_from_token(&node, &token).await
            })
        })
        .collect();
    let mut together = Vec::new();
    for read in reads {
        together.push(read.await.expect("task").expect("read"));
    }

    let alone_node = tongban_app::open_state((*app.state.config).clone(), app.clock.clone())
        .await
        .expect("another fresh node");
    let mut owners = 0;
    for (token, actor) in asked.iter().zip(&together) {
        let alone = tongban_app::identity::service::actor_from_token(&alone_node, token)
            .await
            .expect("read alone");
        assert_eq!(format!("{actor:?}"), format!("{alone:?}"), "{token}");
        let refused = *token == revoked
            || *token == disabled.api_token
            || token.as_str() == "tbk_no_such_token";
        assert_eq!(actor.is_none(), refused, "{token}");
        owners += usize::from(actor.is_some());
    }
    assert_eq!(
        owners,
        2 * (tokens.len() - 3),
        "every live token has its owner"
    );
    let clerk = together
        .iter()
        .flatten()
        .find(|actor| actor.account.department_id.is_some())
        .expect("a staff member among the demo accounts");
    assert!(!clerk.grants.is_empty(), "staff carry their grants");
    assert!(
        clerk.department_region.is_some(),
        "and their department's region"
    );
}
