//! Abuse paths: each test tries one thing an ordinary user or a single official should not be
//! able to do, and checks that it is refused or has no effect on anyone else.

use serde_json::json;

use crate::helpers::spawn_app;

/// An ordinary user's own changes — a preference (API or page link), a token they revoke —
/// evict their own cached token owners only: nobody can empty the cache that every other
/// holder's pass requests rely on by clicking the language switch in a loop.
#[tokio::test]
async fn a_users_own_changes_leave_everyone_elses_cached_tokens_alone() {
    let app = spawn_app().await;
    let others: Vec<String> = ["citizen.zhangwei", "demo.venue", "demo.clerk"]
        .iter()
        .map(|u| app.account(u).api_token.clone())
        .collect();
    let wangfang = app.account("citizen.wangfang").clone();
    let me = |token: String| {
        let app = &app;
        async move { app.get_as(&token, "/api/v1/me").await.status().as_u16() }
    };
    for token in others.iter().chain([&wangfang.api_token]) {
        assert_eq!(me(token.clone()).await, 200);
    }
    let cached = || app.state.cache.actors.len();
    assert_eq!(cached(), 4);

    // A preference through the API: only her own entry goes.
    let changed = app
        .client
        .put(app.url("/api/v1/me/preferences"))
        .bearer_auth(&wangfang.api_token)
        .json(&json!({"language": "en", "large_text": true}))
        .send()
        .await
        .expect("request");
    assert_eq!(changed.status(), 204);
    assert_eq!(cached(), 3, "the others' token owners stay cached");
    // Her own next request reads her account again, with the new preference.
    let mine: serde_json::Value = app
        .get_as(&wangfang.api_token, "/api/v1/me")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(mine["language"], "en");
    assert_eq!(cached(), 4);

    // The language link of any page, many times over.
    let mut browser = app.page_login(&wangfang).await;
    for _ in 0..5 {
        browser.get(&app, "/home?lang=zh").await;
        browser.get(&app, "/home?lang=en").await;
    }
    assert_eq!(cached(), 3, "only her bearer token's entry was evicted");

    // Revoking a token of her own.
    let minted: serde_json::Value = app
        .post_as(
            &wangfang.api_token,
            "/api/v1/me/tokens",
            &json!({"label": "spare", "expires_in_days": 1, "password": wangfang.password}),
        )
        .await
        .json()
        .await
        .expect("json");
    let spare = minted["token"].as_str().expect("token").to_owned();
    assert_eq!(me(spare.clone()).await, 200);
    let listed: serde_json::Value = app
        .get_as(&spare, "/api/v1/me/tokens")
        .await
        .json()
        .await
        .expect("json");
    let spare_id = listed
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["label"] == "spare")
        .and_then(|t| t["id"].as_str())
        .expect("the spare token")
        .to_owned();
    let revoked = app
        .client
        .delete(app.url(&format!("/api/v1/me/tokens/{spare_id}")))
        .bearer_auth(&wangfang.api_token)
        .send()
        .await
        .expect("request");
    assert_eq!(revoked.status(), 204);
    assert_eq!(me(spare).await, 401, "the revoked token is refused at once");
    assert_eq!(cached(), 3, "the three others are still cached");
    for token in &others {
        assert_eq!(me(token.clone()).await, 200);
    }
    assert_eq!(cached(), 3, "and were served from the cache");
}

/// A role taken away on one node reaches the token owners another node caches — for that
/// account only, so the other node keeps serving everyone else from its cache.
#[tokio::test]
async fn a_revoked_role_reaches_the_other_nodes_for_that_account_only() {
    let app = spawn_app().await;
    let other = crate::story::second_node(&app).await;
    // The other node follows the feed from now on, as a serving node does.
    tongban_app::cache::start_feed(&other).await.expect("feed");
    let clerk = app.account("demo.clerk").clone();
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let on_other = |token: String| {
        let other = other.clone();
        async move {
            tongban_app::identity::service::actor_from_token(&other, &token)
                .await
                .expect("read")
                .expect("a known token")
        }
    };
    assert!(
        on_other(clerk.api_token.clone())
            .await
            .grants
            .iter()
            .any(|g| g.role.as_str() == "clerk")
    );
    on_other(citizen.clone()).await;
    assert_eq!(other.cache.actors.len(), 2);

    let clerk_id = app.account_id_of("demo.clerk").await;
    let revoked = app
        .client
        .delete(app.url(&format!("/api/v1/admin/users/{clerk_id}/roles/clerk")))
        .bearer_auth(&app.account("demo.secadmin").api_token)
        .send()
        .await
        .expect("request");
    assert_eq!(revoked.status(), 204);
    assert!(tongban_app::cache::read_feed(&other).await.expect("feed") >= 1);
    assert_eq!(
        other.cache.actors.len(),
        1,
        "the citizen stays cached there"
    );
    assert!(
        !on_other(clerk.api_token.clone())
            .await
            .grants
            .iter()
            .any(|g| g.role.as_str() == "clerk"),
        "the other node no longer sees the role"
    );
}

/// A client's `X-Request-Id` never reaches the access records or the log: the server sets its
/// own id on every request and answers with it.
#[tokio::test]
async fn a_request_id_sent_by_a_client_is_replaced_by_the_servers_own() {
    let app = spawn_app().await;
    let person = app.person_id_of("citizen.zhangwei").await;
    let planted = "planted-id-0001 <script>";
    let read = app
        .client
        .get(app.url(&format!(
            "/api/v1/persons/{person}?purpose=service_handling"
        )))
        .bearer_auth(&app.account("demo.clerk").api_token)
        .header("x-request-id", planted)
        .send()
        .await
        .expect("request");
    assert_eq!(read.status(), 200);
    let answered = read
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("an id")
        .to_owned();
    assert_ne!(answered, planted);
    assert!(uuid::Uuid::parse_str(&answered).is_ok(), "{answered}");
    let recorded: Vec<Option<String>> =
        sqlx::query_scalar("SELECT request_id FROM personal_data_access WHERE subject_key = $1")
            .bind(tongban_app::identity::personal::access_subject_key(
                &app.state, &person,
            ))
            .fetch_all(app.state.pool())
            .await
            .expect("records");
    assert!(recorded.contains(&Some(answered)), "{recorded:?}");
    assert!(!recorded.iter().flatten().any(|id| id.contains("planted")));
}

/// Searches take at most 100 characters wherever they are offered — the catalogue's API and
/// page, and the GovStack services list — and a refused search is a problem, not a slow
/// answer.
#[tokio::test]
async fn an_overlong_search_is_refused_everywhere_search_is_offered() {
    let app = spawn_app().await;
    let long = "户".repeat(101);
    let api = app
        .client
        .get(app.url(&format!("/api/v1/services?q={long}")))
        .send()
        .await
        .expect("request");
    assert_eq!(api.status(), 422);
    let client = app.govstack_client().await;
    let govstack = app
        .client
        .get(app.url(&format!("/govstack/registration/v1/services?name={long}")))
        .header("Information-Mediator-Client", &client)
        .send()
        .await
        .expect("request");
    assert_eq!(
        govstack.status(),
        400,
        "the specification's status for bad input"
    );
    assert_eq!(
        govstack.headers()["content-type"],
        "application/problem+json"
    );
    let page = app
        .client
        .get(app.url(&format!("/services?q={long}")))
        .send()
        .await
        .expect("request");
    assert!(page.status().is_client_error(), "{}", page.status());
    // At the limit, all three answer.
    let fits = "户".repeat(100);
    for path in [
        format!("/api/v1/services?q={fits}"),
        format!("/services?q={fits}"),
    ] {
        let answer = app
            .client
            .get(app.url(&path))
            .send()
            .await
            .expect("request");
        assert_eq!(answer.status(), 200, "{path}");
    }
    let found = app
        .client
        .get(app.url(&format!("/govstack/registration/v1/services?name={fits}")))
        .header("Information-Mediator-Client", &client)
        .send()
        .await
        .expect("request");
    assert_eq!(found.status(), 200);
}

/// `/metrics` is not public: with a token configured it answers only the scraper that sends
/// it; without one, only callers on the node's own machine.
#[tokio::test]
async fn the_metrics_answer_only_their_scraper() {
    let app = crate::helpers::spawn_app_with(|config| {
        config.metrics_token = Some(tongban_app::config::SecretText("scrape-secret-1".into()));
    })
    .await;
    let get = |token: Option<&'static str>| {
        let mut request = app.client.get(app.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.expect("request").status().as_u16() }
    };
    assert_eq!(
        get(None).await,
        404,
        "not even from this machine without the token"
    );
    assert_eq!(get(Some("scrape-secret-2")).await, 404);
    assert_eq!(get(Some("scrape-secret-1")).await, 200);

    // Without a token: the node's own machine only.
    use tongban_app::web::metrics_allowed;
    let local = "127.0.0.1:50000".parse().ok();
    let remote = "203.0.113.7:50000".parse().ok();
    assert!(metrics_allowed(None, local, None));
    assert!(!metrics_allowed(None, remote, None));
    assert!(!metrics_allowed(None, None, None));
    assert!(!metrics_allowed(None, remote, Some("Bearer anything")));
    assert!(metrics_allowed(Some("t"), remote, Some("Bearer t")));
    assert!(!metrics_allowed(Some("t"), local, None));
}

/// Whoever holds a stolen session or token cannot make it permanent: a new API token, a new
/// second factor and a new password each need the password (and code) again, and wrong
/// guesses count towards the lockout. The owner changing their password, or an administrator
/// resetting it, ends every other token.
#[tokio::test]
async fn a_stolen_token_cannot_mint_tokens_replace_the_second_factor_or_the_password() {
    let app = spawn_app().await;
    let owner = app.account("citizen.wangfang").clone();
    let stolen = owner.api_token.clone();
    let problem_type = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.expect("problem");
        (status, body["type"].as_str().unwrap_or_default().to_owned())
    };
    let refused = (403, "/problems/reauthenticate".to_owned());
    let mint =
        |password: &str| json!({"label": "mine now", "expires_in_days": 366, "password": password});
    assert_eq!(
        problem_type(
            app.post_as(&stolen, "/api/v1/me/tokens", &mint("guess-0001"))
                .await
        )
        .await,
        refused
    );
    assert_eq!(
        problem_type(
            app.post_as(
                &stolen,
                "/api/v1/me/totp",
                &json!({"password": "guess-0002"})
            )
            .await
        )
        .await,
        refused
    );
    let change = |password: &str, new: &str| json!({"password": password, "new_password": new});
    let put = |token: String, body: serde_json::Value| {
        let app = &app;
        async move {
            app.client
                .put(app.url("/api/v1/me/password"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("request")
        }
    };
    assert_eq!(
        problem_type(put(stolen.clone(), change("guess-0003", "taken-over-1234")).await).await,
        refused
    );
    // The guesses count: two more and the account is locked for everyone, the thief too.
    for guess in ["guess-0004", "guess-0005"] {
        app.post_as(&stolen, "/api/v1/me/tokens", &mint(guess))
            .await;
    }
    assert_eq!(
        app.api_login(&owner.username, &owner.password, None)
            .await
            .status(),
        401,
        "locked: the right password gets the answer a wrong one gets"
    );
    assert_eq!(
        app.post_as(&stolen, "/api/v1/me/tokens", &mint(&owner.password))
            .await
            .status(),
        429,
        "not even with the right password while locked"
    );

    // The owner, once the lock has passed, changes the password: the other tokens end.
    app.clock.advance(time::Duration::hours(1));
    let spare: serde_json::Value = app
        .post_as(&stolen, "/api/v1/me/tokens", &mint(&owner.password))
        .await
        .json()
        .await
        .expect("json");
    let spare = spare["token"].as_str().expect("token").to_owned();
    let login: serde_json::Value = app
        .api_login(&owner.username, &owner.password, None)
        .await
        .json()
        .await
        .expect("json");
    let session_token = login["token"].as_str().expect("token").to_owned();
    let changed = put(
        session_token.clone(),
        change(&owner.password, "a-new-passphrase-2026"),
    )
    .await;
    assert_eq!(changed.status(), 204);
    assert_eq!(
        app.get_as(&session_token, "/api/v1/me").await.status(),
        200,
        "the token used stays"
    );
    for other in [&stolen, &spare] {
        assert_eq!(
            app.get_as(other, "/api/v1/me").await.status(),
            401,
            "every other token ends"
        );
    }
    assert_eq!(
        app.api_login(&owner.username, &owner.password, None)
            .await
            .status(),
        401
    );
    assert_eq!(
        app.api_login(&owner.username, "a-new-passphrase-2026", None)
            .await
            .status(),
        200
    );

    // An administrator's reset ends the account's tokens too.
    let clerk = app.account("demo.clerk").clone();
    let clerk_id = app.account_id_of("demo.clerk").await;
    let reset = app
        .post_as(
            &app.account("demo.sysadmin").api_token,
            &format!("/api/v1/admin/users/{clerk_id}/password"),
            &json!({}),
        )
        .await;
    assert_eq!(reset.status(), 200);
    assert_eq!(
        app.get_as(&clerk.api_token, "/api/v1/me").await.status(),
        401
    );
}

/// Reading the public checkpoint does not make the node sign: however many anonymous readers
/// ask after the log grew, at most one checkpoint a second is signed and stored.
#[tokio::test]
async fn a_crowd_reading_the_checkpoint_causes_at_most_one_signature_a_second() {
    let app = spawn_app().await;
    let stored = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM ledger_checkpoints")
            .fetch_one(app.state.pool())
            .await
            .expect("count")
    };
    let read = || async {
        let person = app.person_id_of("citizen.zhangwei").await;
        app.get_as(
            &app.account("demo.clerk").api_token,
            &format!("/api/v1/persons/{person}?purpose=service_handling"),
        )
        .await;
    };
    let crowd = || async {
        let mut readers = tokio::task::JoinSet::new();
        for _ in 0..40 {
            let (client, url) = (app.client.clone(), app.url("/api/v1/ledger/checkpoint"));
            readers.spawn(async move { client.get(url).send().await.expect("request").status() });
        }
        while let Some(status) = readers.join_next().await {
            assert_eq!(status.expect("reader").as_u16(), 200);
        }
    };
    app.clock.advance(time::Duration::seconds(2));
    read().await;
    let before = stored().await;
    crowd().await;
    assert_eq!(
        stored().await,
        before + 1,
        "one signature for the whole crowd"
    );
    // The log grows again within the same second: readers get the last checkpoint.
    read().await;
    crowd().await;
    assert_eq!(stored().await, before + 1);
    // A second later, one more.
    app.clock.advance(time::Duration::seconds(1));
    crowd().await;
    assert_eq!(stored().await, before + 2);
}

/// The limit of identity checks by ID number counts every attempt, before the number is looked
/// up: unknown numbers are no free guesses, and checks fired at the same moment do not slip
/// past it together.
#[tokio::test]
async fn identity_checks_are_limited_for_unknown_numbers_and_at_the_same_moment() {
    let app = spawn_app().await;
    let officer = app.account("demo.checkpoint").api_token.clone();
    let unknown = |n: usize| {
        tongban_app::demo::demo_resident_id("339901", "19450101", &format!("{}", 100 + n))
            .expect("a valid number")
            .expose()
            .to_owned()
    };
    let mut checks = tokio::task::JoinSet::new();
    for n in 0..30 {
        let (client, url, token, number) = (
            app.client.clone(),
            app.url("/api/v1/pass/check-person"),
            officer.clone(),
            unknown(n),
        );
        checks.spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"resident_id": number}))
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        });
    }
    let mut answered = Vec::new();
    while let Some(status) = checks.join_next().await {
        answered.push(status.expect("check"));
    }
    answered.sort();
    assert_eq!(
        answered.iter().filter(|s| **s == 200).count(),
        20,
        "{answered:?}"
    );
    assert_eq!(
        answered.iter().filter(|s| **s == 429).count(),
        10,
        "{answered:?}"
    );
    // A known person is refused too, for the rest of the minute.
    let known = app
        .account("citizen.zhangwei")
        .resident_id
        .clone()
        .expect("id");
    let refused = app
        .post_as(
            &officer,
            "/api/v1/pass/check-person",
            &json!({"resident_id": known}),
        )
        .await;
    assert_eq!(refused.status(), 429);
    app.clock.advance(time::Duration::seconds(60));
    let allowed = app
        .post_as(
            &officer,
            "/api/v1/pass/check-person",
            &json!({"resident_id": known}),
        )
        .await;
    assert_eq!(allowed.status(), 200);
}

/// One address guessing logins — over many names, existing or not — is stopped after 20
/// failures a minute, before any password is hashed; another address is not.
#[tokio::test]
async fn an_address_guessing_logins_is_stopped_for_the_minute() {
    let app = spawn_app().await;
    for n in 0..20 {
        let status = app
            .api_login(&format!("guess.{n}"), "password guess", None)
            .await
            .status();
        assert_eq!(status, 401);
    }
    let citizen = app.account("citizen.lina").clone();
    let stopped = app
        .api_login(&citizen.username, &citizen.password, None)
        .await;
    assert_eq!(
        stopped.status(),
        429,
        "even a right password, from this address"
    );
    assert!(stopped.headers().contains_key("retry-after"));
    // The same account from another address (the service, as another listener would see it).
    let elsewhere = tongban_app::identity::service::LoginAttempt {
        username: citizen.username.clone(),
        password: citizen.password.clone(),
        totp: None,
        from: Some("192.0.2.44".parse().expect("address")),
    };
    assert!(
        tongban_app::identity::service::authenticate(&app.state, elsewhere)
            .await
            .is_ok()
    );
    app.clock.advance(time::Duration::seconds(60));
    assert_eq!(
        app.api_login(&citizen.username, &citizen.password, None)
            .await
            .status(),
        200
    );
}

/// A health fact's value comes from its kind's code list: an officer cannot record a reason
/// that is not about health under a health kind.
#[tokio::test]
async fn a_health_fact_cannot_carry_a_reason_that_is_not_about_health() {
    let app = spawn_app().await;
    let officer = app.account("demo.health").api_token.clone();
    let person = app
        .account("citizen.zhangwei")
        .resident_id
        .clone()
        .expect("id");
    let observed_at =
        tongban_app::time_fmt::rfc3339(tongban_core::Clock::now_millis(&*app.clock) - 3_600_000);
    let record = |kind: &str, value: &str| {
        let body = json!({"resident_id": person, "kind": kind, "value": value,
            "observed_at": observed_at, "legal_basis": "传染病防治法 第三十一条"});
        let (app, officer) = (&app, officer.clone());
        async move {
            app.post_as(&officer, "/api/v1/health/facts", &body)
                .await
                .status()
                .as_u16()
        }
    };
    let facts = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM health_facts")
            .fetch_one(app.state.pool())
            .await
            .expect("count")
    };
    let before = facts().await;
    for (kind, value) in [
        ("risk_area", "河南村镇银行储户"),
        ("risk_area", "petitioner"),
        ("vaccination", "refuses to repay"),
        ("quarantine_order", "debtor"),
        ("contact_designation", "protester"),
        ("recovery", "yes"),
        ("test_result", "suspicious"),
    ] {
        assert_eq!(record(kind, value).await, 422, "{kind} = {value}");
    }
    assert_eq!(facts().await, before, "nothing was recorded");
    for (kind, value) in [
        ("vaccination", "dose_2"),
        ("risk_area", "339901"),
        ("quarantine_order", "home"),
    ] {
        assert_eq!(record(kind, value).await, 201, "{kind} = {value}");
    }
    // Nor can a policy test a health field for something that is not about health.
    let policies = app.count("status_policies").await;
    let rule = json!({"rules": [{"id": "depositors", "colour": "red",
        "description_zh": "风险人员", "description_en": "At risk",
        "logic": {"===": [{"var": "facts.risk_area.value"}, "河南村镇银行储户"]}}]});
    let proposed = app
        .post_as(&officer, "/api/v1/health/policies", &rule)
        .await;
    assert_eq!(crate::helpers::problem(proposed).await.0, 422);
    assert_eq!(app.count("status_policies").await, policies);
}

/// The initials a venue sees on a pass come from the person's sealed registered name, not from
/// the account's display name, which is free text: a display name changed to anything does
/// not reach the door.
#[tokio::test]
async fn the_pass_shows_initials_of_the_registered_name_whatever_the_display_name_says() {
    let app = spawn_app().await;
    let zhang = app.account("citizen.zhangwei").clone();
    sqlx::query("UPDATE accounts SET display_name = $1 WHERE username = $2")
        .bind("失信人员 (勿放行)")
        .bind(zhang.username.clone())
        .execute(app.state.pool())
        .await
        .expect("renamed");
    tongban_app::cache::identity_changed(&app.state).await;
    let pass: serde_json::Value = app
        .get_as(&zhang.api_token, "/api/v1/pass/me")
        .await
        .json()
        .await
        .expect("json");
    let seen: serde_json::Value = app
        .post_as(
            &app.account("demo.venue").api_token,
            "/api/v1/pass/verify",
            &json!({"code": pass["code"]}),
        )
        .await
        .json()
        .await
        .expect("json");
    let registered = zhang.name.clone().expect("name");
    let expected = tongban_app::identity::personal::masked_name(&registered);
    assert_eq!(seen["initials"], expected.as_str());
    assert!(!seen.to_string().contains("失信"));
}

/// A checkpoint officer cannot read anyone's full record by ID number: the lookup answers as
/// for no one, records nothing, and the check they are for gives a masked name and a colour.
#[tokio::test]
async fn a_checkpoint_officer_gets_a_masked_name_and_a_colour_never_a_record() {
    let app = spawn_app().await;
    let officer = app.account("demo.checkpoint").api_token.clone();
    let zhang = app.account("citizen.zhangwei").clone();
    let number = zhang.resident_id.clone().expect("id");
    let accesses = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM personal_data_access")
            .fetch_one(app.state.pool())
            .await
            .expect("count")
    };
    let before = accesses().await;
    let lookup = app
        .post_as(
            &officer,
            "/api/v1/persons/lookup",
            &json!({"resident_id": number, "purpose": "identity_verification"}),
        )
        .await;
    assert_eq!(lookup.status(), 404);
    let body = lookup.text().await.expect("body");
    assert!(!body.contains(zhang.name.as_deref().expect("name")));
    assert_eq!(accesses().await, before, "nothing was read");
    let checked: serde_json::Value = app
        .post_as(
            &officer,
            "/api/v1/pass/check-person",
            &json!({"resident_id": number}),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(checked["initials"], zhang.display_name.as_str());
    assert!(checked.get("resident_id").is_none() && checked.get("phone").is_none());
}

/// Records a test result as `username`, with or without the laboratory's evidence; the body
/// of the answer.
async fn record_result(
    app: &crate::helpers::TestApp,
    username: &str,
    citizen: &str,
    value: &str,
    evidence: Option<&str>,
) -> (u16, serde_json::Value) {
    let observed_at =
        tongban_app::time_fmt::rfc3339(tongban_core::Clock::now_millis(&*app.clock) - 3_600_000);
    let mut body = json!({
        "resident_id": app.account(citizen).resident_id.clone().expect("id"),
        "kind": "test_result",
        "value": value,
        "observed_at": observed_at,
        "legal_basis": "传染病防治法 第三十一条",
    });
    if let Some(evidence) = evidence {
        body["evidence_ref"] = json!(evidence);
    }
    let response = app
        .post_as(
            &app.account(username).api_token,
            "/api/v1/health/facts",
            &body,
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn colour_of(app: &crate::helpers::TestApp, citizen: &str) -> String {
    let pass: serde_json::Value = app
        .get_as(&app.account(citizen).api_token, "/api/v1/pass/me")
        .await
        .json()
        .await
        .expect("json");
    pass["colour"].as_str().expect("colour").to_owned()
}

/// One health officer cannot turn a person red (or green): a fact typed in by hand waits for
/// a second officer, who is never its recorder; only a designated laboratory's result with its
/// sample number is in force at once — and even the laboratory cannot lift a recent positive
/// alone. The second officer signs on their inbox page.
#[tokio::test]
async fn one_health_officer_alone_cannot_change_a_colour() {
    let app = spawn_app().await;
    let confirm = |username: &str, id: &str| {
        let (app, token, path) = (
            &app,
            app.account(username).api_token.clone(),
            format!("/api/v1/health/facts/{id}/confirm"),
        );
        async move {
            crate::helpers::problem(app.post_as(&token, &path, &json!({})).await)
                .await
                .0
        }
    };

    // By hand, by the city's officer: recorded, not in force; they cannot confirm it themself.
    let (status, typed) =
        record_result(&app, "demo.health", "citizen.zhangwei", "positive", None).await;
    assert_eq!(status, 201);
    assert_eq!(typed["in_force"], false);
    assert_eq!(colour_of(&app, "citizen.zhangwei").await, "green");
    let id = typed["id"].as_str().expect("id").to_owned();
    assert_eq!(confirm("demo.health", &id).await, 409);
    // Someone who is no health officer cannot either.
    assert_ne!(confirm("demo.clerk", &id).await, 204);
    assert_eq!(colour_of(&app, "citizen.zhangwei").await, "green");

    // A sample number alone does not make a health source: the commission is none.
    let (_, claimed) = record_result(
        &app,
        "demo.health",
        "citizen.lina",
        "positive",
        Some("LAB-2026-0001"),
    )
    .await;
    assert_eq!(claimed["in_force"], false);
    assert_eq!(colour_of(&app, "citizen.lina").await, "green");

    // The laboratory with its sample number: in force at once.
    let (status, from_lab) = record_result(
        &app,
        "demo.lab",
        "citizen.lina",
        "positive",
        Some("JB-20261203-0042"),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(from_lab["in_force"], true);
    assert_eq!(colour_of(&app, "citizen.lina").await, "red");
    // The laboratory of one district reaches no one in another.
    let (status, _) = record_result(
        &app,
        "demo.lab",
        "citizen.wangfang",
        "positive",
        Some("JB-20261203-0043"),
    )
    .await;
    assert_eq!(status, 403);

    // Lifting a positive within the hold window needs a second officer, even from the lab.
    app.clock.advance(time::Duration::hours(2));
    let (_, negative) = record_result(
        &app,
        "demo.lab",
        "citizen.lina",
        "negative",
        Some("JB-20261203-0077"),
    )
    .await;
    assert_eq!(negative["in_force"], false);
    assert_eq!(colour_of(&app, "citizen.lina").await, "red");
    let negative_id = negative["id"].as_str().expect("id").to_owned();
    assert_eq!(confirm("demo.lab", &negative_id).await, 409);

    // The second officer sees both on their inbox, and signs there.
    let mut second = app.page_login(app.account("demo.health2")).await;
    let workbench = second.get(&app, "/home").await.text().await.expect("html");
    assert!(workbench.contains("health-inbox"), "{workbench}");
    let reads = app.count("personal_data_access").await;
    let inbox = second
        .get(&app, "/health/approvals")
        .await
        .text()
        .await
        .expect("html");
    assert!(inbox.contains(&format!("/health/approvals/health_fact/{id}")));
    assert!(inbox.contains(&format!("/health/approvals/health_fact/{negative_id}")));
    assert!(inbox.contains("JB-20261203-0077"), "the evidence is shown");
    assert!(
        app.count("personal_data_access").await >= reads + 2,
        "opening pending facts is recorded as reads"
    );
    // The recorder's own inbox does not offer their own entry.
    let mut recorder = app.page_login(app.account("demo.health")).await;
    let own = recorder
        .get(&app, "/health/approvals")
        .await
        .text()
        .await
        .expect("html");
    assert!(!own.contains(&format!("/health/approvals/health_fact/{id}")));
    // A page form without its CSRF token changes nothing.
    let forged = second
        .post_form(
            &app,
            &format!("/health/approvals/health_fact/{id}"),
            &[("csrf", "forged")],
        )
        .await;
    assert_eq!(forged.status(), 403);
    assert_eq!(colour_of(&app, "citizen.zhangwei").await, "green");
    let csrf = crate::helpers::hidden_csrf(&inbox);
    for fact in [&id, &negative_id] {
        let signed = second
            .post_form(
                &app,
                &format!("/health/approvals/health_fact/{fact}"),
                &[("csrf", csrf.as_str())],
            )
            .await;
        assert_eq!(signed.status(), 303);
    }
    assert_eq!(colour_of(&app, "citizen.zhangwei").await, "red");
    assert_eq!(confirm("demo.lab", &id).await, 409, "confirmed once");
}

/// The city-wide controls belong to the city's health authority and need two of its officers;
/// a district's officer reads and answers only their district's correction requests, and
/// reading one is a recorded read of the person's data.
#[tokio::test]
async fn city_controls_and_requests_are_scoped() {
    let app = spawn_app().await;
    let lab = app.account("demo.lab").api_token.clone();
    // A district's officer proposes no policy, switch or source.
    let rules = app
        .get_as(
            &app.account("demo.health").api_token,
            "/api/v1/health/policy",
        )
        .await
        .json::<serde_json::Value>()
        .await
        .expect("json")["rules"]
        .clone();
    for (path, body) in [
        ("/api/v1/health/policies", json!({"rules": rules})),
        ("/api/v1/health/sources/x0", json!({"kind": "laboratory"})),
    ] {
        let response = if path.contains("sources") {
            app.client
                .put(app.url(path))
                .bearer_auth(&lab)
                .json(&body)
                .send()
                .await
                .expect("request")
        } else {
            app.post_as(&lab, path, &body).await
        };
        assert_eq!(crate::helpers::problem(response).await.0, 403, "{path}");
    }
    // A source designated by one officer is no source until a second approves.
    let departments: serde_json::Value = app
        .get_as(
            &app.first_with_role("system_admin").api_token,
            "/api/v1/admin/departments",
        )
        .await
        .json()
        .await
        .expect("json");
    let commission = departments
        .as_array()
        .expect("list")
        .iter()
        .find(|d| d["kind"] == "health" && d["region_code"] == "339900")
        .expect("city health")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let proposed = app
        .client
        .put(app.url(&format!("/api/v1/health/sources/{commission}")))
        .bearer_auth(&app.account("demo.health").api_token)
        .json(&json!({"kind": "hospital"}))
        .send()
        .await
        .expect("request");
    assert_eq!(proposed.status(), 202);
    let (_, typed) = record_result(
        &app,
        "demo.health",
        "citizen.zhangwei",
        "positive",
        Some("H-1"),
    )
    .await;
    assert_eq!(typed["in_force"], false, "not a source yet");

    // Requests: 张伟 (江北) and 王芳 (江南) each ask for a review.
    for citizen in ["citizen.zhangwei", "citizen.wangfang"] {
        let asked = app
            .post_as(
                &app.account(citizen).api_token,
                "/api/v1/pass/me/requests",
                &json!({"kind": "review", "message": format!("{citizen} 请复核")}),
            )
            .await;
        assert_eq!(asked.status(), 201, "{citizen}");
    }
    let reads = app.count("personal_data_access").await;
    let seen: serde_json::Value = app
        .get_as(&lab, "/api/v1/health/requests")
        .await
        .json()
        .await
        .expect("json");
    let seen = seen.as_array().expect("list");
    assert_eq!(seen.len(), 1, "only the district's own: {seen:?}");
    assert!(
        seen[0]["message"]
            .as_str()
            .expect("text")
            .contains("zhangwei")
    );
    assert_eq!(app.count("personal_data_access").await, reads + 1);
    // The other district's request is out of reach.
    let all: serde_json::Value = app
        .get_as(
            &app.account("demo.health").api_token,
            "/api/v1/health/requests",
        )
        .await
        .json()
        .await
        .expect("json");
    let wang = all
        .as_array()
        .expect("list")
        .iter()
        .find(|r| {
            r["message"]
                .as_str()
                .is_some_and(|m| m.contains("wangfang"))
        })
        .expect("the city sees both")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let answered = app
        .post_as(
            &lab,
            &format!("/api/v1/health/requests/{wang}/resolve"),
            &json!({"outcome": "已复核"}),
        )
        .await;
    assert_eq!(crate::helpers::problem(answered).await.0, 403);
}

/// Makes an account as the operator (the command line), who alone appoints administrators.
async fn operator_creates(
    app: &crate::helpers::TestApp,
    username: &str,
    role: tongban_app::identity::model::Role,
    region: &str,
) -> String {
    let created = tongban_app::admin::service::create_account(
        &app.state,
        tongban_app::admin::service::By::Operator,
        tongban_app::admin::service::NewAccountRequest {
            username: username.into(),
            display_name: username.into(),
            role,
            department_id: None,
            region_code: Some(region.parse().expect("region")),
            person_id: None,
            enterprise_id: None,
            password: None,
        },
    )
    .await
    .expect("created");
    tongban_app::identity::service::issue_token(&app.state, &created.account.id, "test", None)
        .await
        .expect("token")
}

async fn ledger_kinds(app: &crate::helpers::TestApp, kind: &str) -> usize {
    let rows: Vec<Vec<u8>> = sqlx::query_scalar("SELECT data FROM ledger_entries")
        .fetch_all(app.state.pool())
        .await
        .expect("entries");
    rows.iter()
        .filter(|entry| {
            serde_json::from_slice::<serde_json::Value>(entry)
                .is_ok_and(|value| value["kind"] == kind)
        })
        .count()
}

/// The system administrator cannot undo the separation of the three administrators: a role
/// over personal data needs a security administrator besides the one who asks; no
/// administrator sees or sets another person's credentials; citizens' accounts are neither
/// made nor reset by administrators; every account and grant change is in the transparency
/// log; an audit administrator reads the events of their own region.
#[tokio::test]
async fn no_administrator_alone_gives_powers_or_holds_anothers_credentials() {
    let app = spawn_app().await;
    let system = app.first_with_role("system_admin").api_token.clone();
    let security = app.first_with_role("security_admin").api_token.clone();
    let changes = ledger_kinds(&app, "account_change").await;

    // A health officer's account: made, but without its role until a security administrator
    // approves; no credential in the answer.
    let created: serde_json::Value = app
        .post_as(&system, "/api/v1/admin/users", &json!({"username": "rogue.officer", "display_name": "某人", "role": "health_officer", "region_code": "339900"}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(created["activation_sent"], true);
    assert!(created.get("password").is_none() && created.get("totp_secret").is_none());
    assert_eq!(
        created["account"]["roles"].as_array().map(Vec::len),
        Some(0)
    );
    let request = created["pending_grant"]
        .as_str()
        .expect("pending")
        .to_owned();
    let approve = format!("/api/v1/admin/grant-requests/{request}/approve");
    assert_eq!(
        crate::helpers::problem(app.post_as(&system, &approve, &json!({})).await)
            .await
            .0,
        403,
        "the system administrator approves nothing"
    );
    // An administrator cannot choose the password either.
    let chosen = app
        .post_as(&system, "/api/v1/admin/users", &json!({"username": "rogue.two", "display_name": "某人", "role": "venue_operator", "region_code": "339901", "password": "a password I know"}))
        .await;
    assert_eq!(crate::helpers::problem(chosen).await.0, 422);

    // The security administrator's own grant over personal data waits for a second one.
    let account_id = created["account"]["id"].as_str().expect("id").to_owned();
    let asked = app
        .post_as(
            &security,
            &format!("/api/v1/admin/users/{account_id}/roles"),
            &json!({"role": "checkpoint_officer", "region_code": "339901"}),
        )
        .await;
    assert_eq!(asked.status(), 202);
    let own = asked.json::<serde_json::Value>().await.expect("json")["pending_request"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        crate::helpers::problem(
            app.post_as(
                &security,
                &format!("/api/v1/admin/grant-requests/{own}/approve"),
                &json!({})
            )
            .await
        )
        .await
        .0,
        409,
        "not by the one who asked"
    );
    let listed: serde_json::Value = app
        .get_as(&security, "/api/v1/admin/grant-requests")
        .await
        .json()
        .await
        .expect("json");
    let ids: Vec<&str> = listed
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert!(ids.contains(&request.as_str()) && !ids.contains(&own.as_str()));
    // The system administrator's request: approved by the security administrator.
    assert_eq!(
        app.post_as(&security, &approve, &json!({})).await.status(),
        204
    );
    // The security administrator's own: by a second security administrator.
    let second = operator_creates(
        &app,
        "second.security",
        tongban_app::identity::model::Role::SecurityAdmin,
        "339900",
    )
    .await;
    assert_eq!(
        app.post_as(
            &second,
            &format!("/api/v1/admin/grant-requests/{own}/approve"),
            &json!({})
        )
        .await
        .status(),
        204
    );
    let roles = tongban_app::identity::store::grants(app.state.pool(), &account_id)
        .await
        .expect("grants");
    assert_eq!(roles.len(), 2);

    // Citizens: no account bound to an existing person, no reset by an administrator.
    let person = app.person_id_of("citizen.lina").await;
    let bound = app
        .post_as(&system, "/api/v1/admin/users", &json!({"username": "fake.lina", "display_name": "李娜", "role": "citizen", "person_id": person}))
        .await;
    assert_eq!(crate::helpers::problem(bound).await.0, 403);
    let lina = app.account_id_of("citizen.lina").await;
    let reset = app
        .post_as(
            &system,
            &format!("/api/v1/admin/users/{lina}/password"),
            &json!({}),
        )
        .await;
    assert_eq!(crate::helpers::problem(reset).await.0, 403);
    assert_eq!(
        app.get_as(&app.account("citizen.lina").api_token, "/api/v1/me")
            .await
            .status(),
        200
    );

    // A staff reset: the administrator learns nothing; the old password and token are void.
    let clerk = app.account("demo.clerk").clone();
    let clerk_id = app.account_id_of("demo.clerk").await;
    let reset: serde_json::Value = app
        .post_as(
            &system,
            &format!("/api/v1/admin/users/{clerk_id}/password"),
            &json!({}),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(reset, json!({"activation_sent": true}));
    assert_eq!(
        app.get_as(&clerk.api_token, "/api/v1/me").await.status(),
        401
    );
    let totp = app.totp_now(&clerk);
    assert_eq!(
        app.api_login("demo.clerk", &clerk.password, Some(&totp))
            .await
            .status(),
        401
    );
    // Guessing the activation code locks the account: then not even the right code works.
    let delivered = tongban_app::identity::activation::take_deliveries(&app.state)
        .await
        .expect("deliveries");
    let code = tongban_app::identity::activation::code_in(
        &delivered
            .iter()
            .find(|d| d.username == "demo.clerk")
            .expect("delivered")
            .body,
    )
    .expect("code");
    for _ in 0..5 {
        let guess = app
            .client
            .post(app.url("/api/v1/activation/begin"))
            .json(&json!({"username": "demo.clerk", "code": "aaaa-bbbb-cccc-dddd"}))
            .send()
            .await
            .expect("request");
        assert_eq!(guess.status(), 422);
    }
    let right = app
        .client
        .post(app.url("/api/v1/activation/begin"))
        .json(&json!({"username": "demo.clerk", "code": code}))
        .send()
        .await
        .expect("request");
    assert_eq!(right.status(), 422, "locked after five wrong codes");

    // Every change above is in the transparency log: the account made, the two requests,
    // their two approvals, the second security administrator's account, the reset.
    assert_eq!(ledger_kinds(&app, "account_change").await, changes + 6);

    // A district's audit administrator reads the district's events only.
    let district_audit = operator_creates(
        &app,
        "jiangbei.audit",
        tongban_app::identity::model::Role::AuditAdmin,
        "339901",
    )
    .await;
    let events: serde_json::Value = app
        .get_as(&district_audit, "/api/v1/admin/events?limit=1000")
        .await
        .json()
        .await
        .expect("json");
    let events = events.as_array().expect("list");
    assert!(!events.is_empty());
    assert!(
        events.iter().all(|e| e["region_code"]
            .as_str()
            .is_some_and(|r| r.starts_with("339901"))),
        "only 江北's events: {events:?}"
    );
    let city: serde_json::Value = app
        .get_as(
            &app.first_with_role("audit_admin").api_token,
            "/api/v1/admin/events?limit=1000",
        )
        .await
        .json()
        .await
        .expect("json");
    assert!(city.as_array().expect("list").len() > events.len());
}

/// The apply form checks its token before it reads anything else, holds one file at a time,
/// and takes at most one file per material and a bounded number of fields: a forged or
/// oversized form costs a small part, not megabytes of memory or stored uploads.
#[tokio::test]
async fn the_apply_form_checks_its_token_first_and_bounds_its_parts() {
    use reqwest::multipart::{Form, Part};
    let app = spawn_app().await;
    let path = "/services/339900-SJ-0001/apply";
    let mut browser = app.page_login(app.account("citizen.zhangwei")).await;
    let page = browser.get(&app, path).await.text().await.expect("html");
    let csrf = crate::helpers::hidden_csrf(&page);
    let uploads = app.count("uploads").await;
    let big = || Part::bytes(vec![0u8; 4 * 1024 * 1024]).file_name("big.png");

    // Files before the token: refused at the first part.
    let form = Form::new()
        .part("file.0", big())
        .part("file.0", big())
        .text("csrf", csrf.clone());
    assert_eq!(browser.post_multipart(&app, path, form).await.status(), 403);
    // A forged token first.
    let form = Form::new().text("csrf", "forged").part("file.0", big());
    assert_eq!(browser.post_multipart(&app, path, form).await.status(), 403);
    assert_eq!(app.count("uploads").await, uploads, "nothing stored");
    // Two files for one material.
    let small = || Part::bytes(b"%PDF-1.4 lease".to_vec()).file_name("lease.pdf");
    let form = Form::new()
        .text("csrf", csrf.clone())
        .part("file.0", small())
        .part("file.0", small());
    assert_eq!(browser.post_multipart(&app, path, form).await.status(), 422);
    // Endless fields.
    let mut form = Form::new().text("csrf", csrf.clone());
    for n in 0..250 {
        form = form.text(format!("field.f{n}"), "x");
    }
    assert_eq!(browser.post_multipart(&app, path, form).await.status(), 413);
}

/// Whole records are read for a purpose the official's role serves, and at most
/// `RECORD_READS_PER_HOUR` an hour: a bulk extraction by an insider stops at the limit, counted
/// before anything is read; the next hour the official works again.
#[tokio::test]
async fn an_official_reading_records_in_bulk_is_stopped_for_the_hour() {
    let app = spawn_app().await;
    let clerk = app.account("demo.clerk").api_token.clone();
    let person = app.person_id_of("citizen.zhangwei").await;
    let path = format!("/api/v1/persons/{person}?purpose=service_handling");
    let limit = tongban_app::identity::personal::RECORD_READS_PER_HOUR;
    // Start at the top of an hour, so the whole run falls in one.
    let now = tongban_core::Clock::now_millis(&*app.clock);
    app.clock.advance(time::Duration::milliseconds(
        3_600_000 - now.rem_euclid(3_600_000),
    ));
    for _ in 0..limit {
        assert_eq!(app.get_as(&clerk, &path).await.status(), 200);
    }
    let reads = app.count("personal_data_access").await;
    let stopped = app.get_as(&clerk, &path).await;
    assert_eq!(stopped.status(), 429);
    assert!(stopped.headers().contains_key("retry-after"));
    assert_eq!(
        app.count("personal_data_access").await,
        reads,
        "nothing read past the limit"
    );
    // Another official is not stopped by this one's reads.
    let health = app.account("demo.health").api_token.clone();
    let for_health = format!("/api/v1/persons/{person}?purpose=health_management");
    assert_eq!(app.get_as(&health, &for_health).await.status(), 200);
    app.clock.advance(time::Duration::hours(1));
    assert_eq!(app.get_as(&clerk, &path).await.status(), 200);
}

/// What is stored is sealed or goes when its retention ends: a second factor's secret is
/// sealed (a copy of the database yields no one's one-time codes); notices and answered
/// requests go after 180 days, access rows and certificate uses after three years.
#[tokio::test]
async fn secrets_are_sealed_and_records_end_with_their_retention() {
    let app = spawn_app().await;
    let clerk = app.account("demo.clerk").clone();
    let clerk_id = app.account_id_of("demo.clerk").await;
    let stored: Option<String> =
        sqlx::query_scalar("SELECT totp_secret FROM accounts WHERE id = $1")
            .bind(clerk_id)
            .fetch_one(app.state.pool())
            .await
            .expect("row");
    let stored = stored.expect("a second factor");
    assert!(stored.starts_with("sealed:"));
    assert!(!stored.contains(clerk.totp_secret.as_deref().expect("secret")));
    // Logins still work with the sealed secret.
    let totp = app.totp_now(&clerk);
    assert_eq!(
        app.api_login("demo.clerk", &clerk.password, Some(&totp))
            .await
            .status(),
        200
    );

    // A request, answered (a notice to the person), and reads of the person's record.
    let asked: serde_json::Value = app
        .post_as(
            &app.account("citizen.zhangwei").api_token,
            "/api/v1/pass/me/requests",
            &json!({"kind": "review", "message": "请复核"}),
        )
        .await
        .json()
        .await
        .expect("json");
    let id = asked["id"].as_str().expect("id");
    let answered = app
        .post_as(
            &app.account("demo.health").api_token,
            &format!("/api/v1/health/requests/{id}/resolve"),
            &json!({"outcome": "已复核，结果无误"}),
        )
        .await;
    assert_eq!(answered.status(), 204);
    let person = app.person_id_of("citizen.zhangwei").await;
    let read = app
        .get_as(
            &clerk.api_token,
            &format!("/api/v1/persons/{person}?purpose=service_handling"),
        )
        .await;
    assert_eq!(read.status(), 200);
    assert!(app.count("notices").await > 0);
    assert!(app.count("personal_data_access").await > 0);
    // A department asks to use an enterprise's licence without consent: refused, recorded.
    let types: serde_json::Value = app
        .get_as(
            &app.account("enterprise.qingyuan").api_token,
            "/api/v1/cert-types",
        )
        .await
        .json()
        .await
        .expect("json");
    let licence = types
        .as_array()
        .and_then(|l| l.iter().find(|t| t["name"] == "营业执照"))
        .and_then(|t| t["code"].as_str())
        .expect("the licence type")
        .to_owned();
    let uscc = app
        .account("enterprise.qingyuan")
        .uscc
        .clone()
        .expect("uscc");
    let refused = app
        .post_as(
            &app.account("demo.clerk.tax").api_token,
            "/api/v1/certs/use",
            &json!({"holder": {"uscc": uscc}, "type_code": licence, "service_code": "339900-SW-0001", "cause": "核验"}),
        )
        .await;
    assert_eq!(refused.status(), 403);
    let uses = app.count("cert_uses").await;
    assert!(uses > 0);
    app.clock.advance(time::Duration::days(181));
    tongban_app::health::service::purge_old_notices_and_requests(&app.state)
        .await
        .expect("purge");
    assert_eq!(app.count("notices").await, 0);
    assert_eq!(app.count("status_requests").await, 0);
    assert!(
        app.count("personal_data_access").await > 0,
        "access rows stay longer"
    );
    app.clock.advance(time::Duration::days(3 * 365));
    tongban_app::identity::personal::purge_old_access_rows(&app.state)
        .await
        .expect("purge");
    assert_eq!(app.count("personal_data_access").await, 0);
    let purged = tongban_app::certs::usage::purge_old_uses(&app.state)
        .await
        .expect("purge");
    assert_eq!(purged as i64, uses);
    assert_eq!(app.count("cert_uses").await, 0);
}

/// A department's key speaks for that department and the certificate types it issues only:
/// a certificate re-signed by another department of this platform — a trusted key, a valid
/// signature — is refused, because the key's owner is not the issuer the certificate names.
#[tokio::test]
async fn a_department_cannot_sign_certificates_in_another_ones_name() {
    let app = spawn_app().await;
    let holder = app.account("citizen.zhangwei").api_token.clone();
    let wallet: serde_json::Value = app
        .get_as(&holder, "/api/v1/wallet")
        .await
        .json()
        .await
        .expect("json");
    let id = wallet[0]["id"].as_str().expect("id").to_owned();
    let item: serde_json::Value = app
        .get_as(&holder, &format!("/api/v1/wallet/{id}"))
        .await
        .json()
        .await
        .expect("json");
    let genuine: tongban_certs::SignedCertificate =
        serde_json::from_value(item["signed"].clone()).expect("signed");
    let verify = |signed: &tongban_certs::SignedCertificate| {
        let (app, body) = (&app, json!({"certificate": signed}));
        async move {
            app.post_as(
                &app.account("demo.clerk").api_token,
                "/api/v1/certs/verify",
                &body,
            )
            .await
            .json::<serde_json::Value>()
            .await
            .expect("json")
        }
    };
    assert_eq!(verify(&genuine).await["valid"], true);
    // The taxation bureau re-signs it, unchanged, with its own key.
    let departments: Vec<tongban_app::admin::store::Department> =
        tongban_app::admin::store::departments(app.state.pool())
            .await
            .expect("departments");
    let tax = departments
        .iter()
        .find(|d| d.kind == "taxation" && d.region_code.as_str() == "339900")
        .expect("the tax bureau");
    let signer =
        tongban_app::keys::service::signer(&app.state, &tax.id, tongban_app::keys::CERT_KEY)
            .await
            .expect("the bureau's key");
    let forged = tongban_certs::sign(genuine.certificate.clone(), &signer).expect("signed");
    assert_ne!(forged.kid, genuine.kid);
    let answer = verify(&forged).await;
    assert_eq!(answer["valid"], false, "{answer}");

    // Offline, against the exported trust list, the same: the list binds each department's key
    // to its code and the types it issues.
    let list = tongban_app::keys::service::trust_list(&app.state)
        .await
        .expect("trust list");
    let list = serde_json::to_string(&list).expect("text");
    let now = tongban_core::Clock::now_millis(&*app.clock) / 1000;
    let offline = |signed: &tongban_certs::SignedCertificate| {
        tongban_app::certs::verify_offline(
            &list,
            None,
            &serde_json::to_string(signed).expect("json"),
            None,
            now,
        )
        .map(|_| ())
        .map_err(|refusal| refusal.reason)
    };
    assert_eq!(offline(&genuine), Ok(()));
    assert_eq!(offline(&forged), Err("issuer_not_permitted"));
    // The issuing department's own key, on a type it does not issue: refused too.
    let issuer = departments
        .iter()
        .find(|d| d.uscc.as_deref() == Some(genuine.certificate.issuer.code.as_str()))
        .expect("the issuer");
    let own =
        tongban_app::keys::service::signer(&app.state, &issuer.id, tongban_app::keys::CERT_KEY)
            .await
            .expect("the issuer's key");
    let mut other_type = genuine.certificate.clone();
    let id: tongban_core::CertificateId = other_type.id.parse().expect("id");
    let kind = tongban_core::CertificateType::new(id.certificate_type.authority.clone(), 999)
        .expect("type");
    other_type.type_code = kind.to_string();
    other_type.id =
        tongban_core::CertificateId::new(kind, id.issuer.clone(), &id.serial, id.version)
            .expect("id")
            .to_string();
    let other_type = tongban_certs::sign(other_type, &own).expect("signed");
    assert_eq!(offline(&other_type), Err("issuer_not_permitted"));
}

/// The public log is verifiable, not readable: anyone gets leaf hashes and proofs; the person
/// reads their own entries (and checks them against those hashes); two checks of one person
/// carry unrelated subject tags; and the row that says where a pass was checked goes with the
/// check-ins.
#[tokio::test]
async fn the_log_cannot_be_used_to_follow_a_person() {
    use base64::Engine as _;
    let app = spawn_app().await;
    let zhang = app.account("citizen.zhangwei").api_token.clone();
    for _ in 0..2 {
        let code = app
            .get_as(&zhang, "/api/v1/pass/me")
            .await
            .json::<serde_json::Value>()
            .await
            .expect("json")["code"]
            .as_str()
            .expect("code")
            .to_owned();
        let checked = app
            .post_as(
                &app.account("demo.venue").api_token,
                "/api/v1/pass/verify",
                &json!({"code": code}),
            )
            .await;
        assert_eq!(checked.status(), 200);
        app.clock.advance(time::Duration::minutes(2));
    }
    let mine: serde_json::Value = app
        .get_as(&zhang, "/api/v1/me/access-log")
        .await
        .json()
        .await
        .expect("json");
    let checks: Vec<&serde_json::Value> = mine
        .as_array()
        .expect("list")
        .iter()
        .filter(|a| a["categories"] == "health_status")
        .collect();
    assert_eq!(checks.len(), 2);
    let mut subjects = Vec::new();
    for check in &checks {
        let index = check["ledger_index"].as_i64().expect("index");
        let entry = base64::engine::general_purpose::STANDARD
            .decode(
                check["entry"]
                    .as_str()
                    .expect("the person reads their entry"),
            )
            .expect("base64");
        let public: serde_json::Value = app
            .client
            .get(app.url(&format!(
                "/api/v1/ledger/entries?start={index}&end={}",
                index + 1
            )))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json");
        assert_eq!(
            base64::engine::general_purpose::STANDARD.encode(tongban_ledger::leaf_hash(
                tongban_ledger::HashAlgorithm::Sha256,
                &entry
            )),
            public[0]["leaf_hash"].as_str().expect("hash"),
            "the person's entry is the public leaf"
        );
        assert!(public[0].get("leaf").is_none(), "the public reads no entry");
        let record: serde_json::Value = serde_json::from_slice(&entry).expect("json");
        subjects.push(record["subject"].as_str().expect("subject").to_owned());
    }
    assert_ne!(subjects[0], subjects[1], "unlinkable without the key");
    let person = app.person_id_of("citizen.zhangwei").await;
    assert!(
        subjects
            .iter()
            .all(|s| app.state.vault.commitment_names(s, &person)),
        "with the key, both name the person"
    );
    // Where the pass was checked is kept as long as check-ins are.
    app.clock.advance(time::Duration::days(29));
    tongban_app::identity::personal::purge_old_access_rows(&app.state)
        .await
        .expect("purge");
    let after: serde_json::Value = app
        .get_as(&zhang, "/api/v1/me/access-log")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        after
            .as_array()
            .expect("list")
            .iter()
            .all(|a| a["categories"] != "health_status")
    );
}

/// Nobody is checked in along as someone's companion without consenting — on their own
/// account, or in person at a window of their own region; a holder adds at most five a day;
/// and a check-in cannot be dated back beyond the clocks' skew.
#[tokio::test]
async fn companions_consent_and_check_ins_are_not_backdated() {
    let app = spawn_app().await;
    let zhang = app.account("citizen.zhangwei").api_token.clone();
    let lina = app.account("citizen.lina").clone();
    let metro: serde_json::Value = app
        .get_as(
            &app.account("demo.venue.metro").api_token,
            "/api/v1/venues/mine",
        )
        .await
        .json()
        .await
        .expect("json");
    let code = metro[0]["code"].as_str().expect("code").to_owned();
    let added: serde_json::Value = app
        .post_as(
            &zhang,
            "/api/v1/me/companions",
            &json!({"resident_id": lina.resident_id, "name": lina.name, "relation": "妻子"}),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(added["consented"], false);
    let companion = added["id"].as_str().expect("id").to_owned();
    let check_in = |body: serde_json::Value| {
        let (app, token) = (&app, zhang.clone());
        async move { app.post_as(&token, "/api/v1/checkins", &body).await }
    };
    let stored = app.checkins_stored().await;
    let refused = check_in(json!({"venue_code": code, "companions": [companion]})).await;
    assert_eq!(crate::helpers::problem(refused).await.0, 422);
    assert_eq!(app.checkins_stored().await, stored, "nobody checked in");
    // In person: a clerk of another district cannot record her consent; one of hers can.
    let consent = json!({
        "holder_resident_id": app.account("citizen.zhangwei").resident_id,
        "companion_resident_id": lina.resident_id,
    });
    let record = |username: &str| {
        let (app, token, body) = (
            &app,
            app.account(username).api_token.clone(),
            consent.clone(),
        );
        async move {
            app.post_as(&token, "/api/v1/companions/consent", &body)
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(record("demo.clerk.jiangnan").await, 403);
    assert_eq!(record("demo.venue").await, 403);
    assert_eq!(record("demo.clerk").await, 204);
    let done: serde_json::Value = check_in(json!({"venue_code": code, "companions": [companion]}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(done["companions_recorded"], 1);

    // Backdating beyond the clocks' skew is refused.
    let now = tongban_core::Clock::now_millis(&*app.clock);
    let old = tongban_app::time_fmt::rfc3339(now - 3_600_000);
    let backdated = check_in(json!({"venue_code": code, "at": old})).await;
    assert_eq!(crate::helpers::problem(backdated).await.0, 422);
    let skewed = tongban_app::time_fmt::rfc3339(now - 60_000);
    assert_eq!(
        check_in(json!({"venue_code": code, "at": skewed}))
            .await
            .status(),
        200
    );

    // Five new companions a day at most.
    let admin = app.first_with_role("system_admin").api_token.clone();
    let mut added = 1;
    for n in 0..6 {
        let id =
            tongban_app::demo::demo_resident_id("339901", "19700101", &format!("{:03}", 500 + n))
                .expect("id");
        let name = format!("测试{n}");
        let registered = app
            .post_as(
                &admin,
                "/api/v1/admin/persons",
                &json!({"region_code": "339901", "name": name, "resident_id": id.expose()}),
            )
            .await;
        assert_eq!(registered.status(), 201);
        let asked = app
            .post_as(
                &zhang,
                "/api/v1/me/companions",
                &json!({"resident_id": id.expose(), "name": name, "relation": "亲属"}),
            )
            .await;
        if added < 5 {
            assert_eq!(asked.status(), 201);
            added += 1;
        } else {
            assert_eq!(crate::helpers::problem(asked).await.0, 429);
        }
    }
}

/// A department administrator cannot make their own item consent-free: listing a type only
/// asks; the security administrator approves with a basis from the maintained list. And a
/// district's department reaches the holders of its own district only.
#[tokio::test]
async fn consent_free_use_needs_a_listed_basis_and_the_security_administrator() {
    let app = spawn_app().await;
    let market_admin = app.account("demo.deptadmin.market").api_token.clone();
    let market_clerk = app.account("demo.clerk.market").api_token.clone();
    let security = app.first_with_role("security_admin").api_token.clone();
    let types: serde_json::Value = app
        .get_as(&market_clerk, "/api/v1/cert-types")
        .await
        .json()
        .await
        .expect("json");
    let licence = types
        .as_array()
        .and_then(|l| l.iter().find(|t| t["name"] == "营业执照"))
        .and_then(|t| t["code"].as_str())
        .expect("the licence type")
        .to_owned();
    // The market regulator's administrator lists the licence as consent-free on their item.
    let detail: serde_json::Value = app
        .client
        .get(app.url("/api/v1/services/339900-SJ-0001"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let mut item = detail["item"].clone();
    item["consent_free_types"] = json!([licence]);
    let saved = app
        .client
        .put(app.url("/api/v1/services/339900-SJ-0001"))
        .bearer_auth(&market_admin)
        .json(&json!({"item": item, "version": detail["version"]}))
        .send()
        .await
        .expect("put");
    assert_eq!(saved.status(), 200);
    let uscc = app
        .account("enterprise.qingyuan")
        .uscc
        .clone()
        .expect("uscc");
    let use_licence = || {
        let (app, token) = (&app, market_clerk.clone());
        let body = json!({"holder": {"uscc": uscc}, "type_code": licence, "service_code": "339900-SJ-0001", "cause": "核验营业执照"});
        async move { app.post_as(&token, "/api/v1/certs/use", &body).await }
    };
    assert_eq!(
        crate::helpers::problem(use_licence().await).await.0,
        403,
        "listing it only asks"
    );
    let approve = |token: String, basis: &str| {
        let app = &app;
        let body = json!({"service_code": "339900-SJ-0001", "type_code": licence, "basis": basis});
        async move {
            app.post_as(&token, "/api/v1/consent-free/approve", &body)
                .await
        }
    };
    assert_eq!(
        crate::helpers::problem(approve(market_admin.clone(), "pipl_13_1_3").await)
            .await
            .0,
        403,
        "not by the department"
    );
    assert_eq!(
        crate::helpers::problem(approve(security.clone(), "为了方便").await)
            .await
            .0,
        422,
        "a basis from the list"
    );
    assert_eq!(approve(security.clone(), "pipl_13_1_3").await.status(), 204);
    assert_eq!(use_licence().await.status(), 200);

    // A district's window uses the certificates of its own district's holders only.
    let wang = app
        .account("citizen.wangfang")
        .resident_id
        .clone()
        .expect("id");
    let types_of_person = types
        .as_array()
        .and_then(|l| l.iter().find(|t| t["holder_kind"] == "person"))
        .and_then(|t| t["code"].as_str())
        .expect("a person's type")
        .to_owned();
    let (uses, asks) = (
        app.count("cert_uses").await,
        app.count("cert_authorisations").await,
    );
    let elsewhere = app
        .post_as(
            &app.account("demo.clerk").api_token,
            "/api/v1/certs/use",
            &json!({"holder": {"resident_id": wang}, "type_code": types_of_person, "service_code": "339900-SJ-0001", "cause": "核验"}),
        )
        .await;
    assert_eq!(crate::helpers::problem(elsewhere).await.0, 403);
    assert_eq!(
        (
            app.count("cert_uses").await,
            app.count("cert_authorisations").await
        ),
        (uses, asks),
        "refused before anything: no attempt recorded, no holder asked"
    );
}

/// A node at the moment of an EU DCC test case (`clock`, or the case's own), trusting its
/// signer as two security administrators would: the node, the case and its code. None, with
/// a note, where the conformance vectors are absent.
async fn app_trusting_dcc(
    case_path: &str,
    clock: &str,
) -> Option<(crate::helpers::TestApp, serde_json::Value, String)> {
    let Some(vectors) = tongban_harness::conformance::vectors_dir() else {
        eprintln!("note: conformance vectors not found; {case_path} is skipped");
        return None;
    };
    let case: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(vectors.join(case_path)).expect("case"))
            .expect("json");
    let code = case["PREFIX"].as_str().expect("code").to_owned();
    let certificate = case["TESTCTX"]["CERTIFICATE"].as_str().expect("dsc");
    let clock = if clock.is_empty() {
        case["TESTCTX"]["VALIDATIONCLOCK"].as_str().expect("clock")
    } else {
        clock
    };
    let app = spawn_app().await;
    app.clock.set(
        time::OffsetDateTime::parse(clock, &time::format_description::well_known::Rfc3339)
            .expect("clock"),
    );
    app.trust_dcc_signers(&json!([{"certificateType": "DSC", "rawData": certificate}]))
        .await;
    Some((app, case, code))
}

/// The default visitors' rule never admits a positive test: an EU DCC of a detected
/// infection, genuine and from a trusted signer, is verified and refused at the door (the EU
/// test data's Dutch positive test; skipped where the vectors are absent).
#[tokio::test]
async fn a_foreign_positive_test_is_not_admitted_by_the_default_rule() {
    let Some((app, case, code)) = app_trusting_dcc(
        "dcc/testdata/NL/2DCode/raw/008-NL-test.json",
        "2021-05-30T13:38:50Z",
    )
    .await
    else {
        return;
    };
    assert_eq!(
        case["JSON"]["t"][0]["tr"], "260373001",
        "a detected infection"
    );
    let checked: serde_json::Value = app
        .post_as(
            &app.account("demo.checkpoint").api_token,
            "/api/v1/pass/verify",
            &json!({"code": code}),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(checked["valid"], true, "genuine: {checked}");
    assert_eq!(checked["foreign"]["types"], json!(["test"]));
    assert_eq!(checked["admitted"], false, "but positive: {checked}");
    assert_eq!(checked["admission_reason"], "visitor_rule");
}

/// Field keys rotate before their per-key limit: when the sealing key is older than
/// `data_key_rotation_days` a new one is made, loaded first and sealing ten minutes later; what
/// the old key sealed still opens.
#[tokio::test]
async fn field_keys_rotate_and_old_fields_still_open() {
    let app = spawn_app().await;
    let person = app.person_id_of("citizen.zhangwei").await;
    let clerk = app.account_id_of("demo.clerk").await;
    let key_of = |sealed: &[u8]| {
        String::from_utf8(sealed[2..2 + usize::from(sealed[1])].to_vec()).expect("id")
    };
    let before = app.state.vault.seal_field("test/1", b"old");
    assert_eq!(key_of(&before), "fields-1");
    assert_eq!(
        tongban_app::keys::rotate_field_key_when_due(&app.state)
            .await
            .expect("job"),
        None,
        "a fresh key is not rotated"
    );
    app.clock.advance(time::Duration::days(91));
    let rotated = tongban_app::keys::rotate_field_key_when_due(&app.state)
        .await
        .expect("job")
        .expect("rotated");
    assert_eq!(rotated, "fields-2");
    // Loaded, not yet sealing: other nodes load it within the lead time.
    assert_eq!(
        key_of(&app.state.vault.seal_field("test/2", b"x")),
        "fields-1"
    );
    assert_eq!(
        tongban_app::keys::rotate_field_key_when_due(&app.state)
            .await
            .expect("job"),
        None,
        "one rotation at a time"
    );
    app.clock.advance(time::Duration::minutes(11));
    let after = app.state.vault.seal_field("test/3", b"new");
    assert_eq!(key_of(&after), "fields-2");
    assert_eq!(
        &*app
            .state
            .vault
            .open_field("test/1", &before)
            .expect("opens"),
        b"old"
    );
    assert_eq!(
        &*app.state.vault.open_field("test/3", &after).expect("opens"),
        b"new"
    );
    // Personal data sealed under the first key reads as before.
    let token = tongban_app::identity::service::issue_token(&app.state, &clerk, "test", None)
        .await
        .expect("token");
    let read = app
        .get_as(
            &token,
            &format!("/api/v1/persons/{person}?purpose=service_handling"),
        )
        .await;
    assert_eq!(read.status(), 200);
}

/// Trust anchors are security settings: the system administrator sets none, and a security
/// administrator alone cannot widen what the region trusts — a proposal waits for a second
/// one, for a day at most. Removing trust stays one person's.
#[tokio::test]
async fn no_one_alone_widens_what_the_region_trusts() {
    let app = spawn_app().await;
    let system = app.account("demo.sysadmin").api_token.clone();
    let first = app.account("demo.secadmin").api_token.clone();
    let second = app.account("demo.secadmin2").api_token.clone();
    let put_rule = |token: String, rule: serde_json::Value| {
        let app = &app;
        async move {
            app.client
                .put(app.url("/api/v1/admin/visitor-rule"))
                .bearer_auth(token)
                .json(&rule)
                .send()
                .await
                .expect("put")
        }
    };
    let admit_all = json!({"===": [1, 1]});
    assert_eq!(
        crate::helpers::problem(put_rule(system.clone(), admit_all.clone()).await)
            .await
            .0,
        403
    );
    let rule_now = || async {
        app.get_as(&first, "/api/v1/admin/visitor-rule")
            .await
            .json::<serde_json::Value>()
            .await
            .expect("json")
    };
    let before = rule_now().await;
    let proposed = put_rule(first.clone(), admit_all.clone()).await;
    assert_eq!(proposed.status(), 202);
    let id = proposed.json::<serde_json::Value>().await.expect("json")["proposal"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(rule_now().await, before, "a proposal changes nothing");
    let approve = |token: String| {
        let (app, path) = (&app, format!("/api/v1/admin/trust-proposals/{id}/approve"));
        async move {
            app.post_as(&token, &path, &json!({}))
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(approve(first.clone()).await, 409, "not by its proposer");
    assert_eq!(approve(system.clone()).await, 403);
    assert_eq!(rule_now().await, before);
    // Left a day, it lapses.
    app.clock.advance(time::Duration::hours(25));
    assert_eq!(approve(second.clone()).await, 409);
    assert_eq!(rule_now().await, before);
    // Proposed again and approved by the second: in effect.
    let again = put_rule(first.clone(), admit_all.clone()).await;
    assert_eq!(app.approve_trust(again).await, 204);
    assert_eq!(rule_now().await, admit_all);
}

/// An admitted visitor is recorded as a check-in like anyone (under a digest of the credential),
/// so contact matching counts them; they are flagged as a visitor and cannot be designated
/// here, where they are no person (the EU test data's Croatian vaccination; skipped where the
/// vectors are absent).
#[tokio::test]
async fn a_foreign_visitor_is_checked_in_and_counted_by_contact_matching() {
    let Some((app, _, code)) =
        app_trusting_dcc("dcc/testdata/common/2DCode/raw/CO28.json", "").await
    else {
        return;
    };
    let officer = app.account("demo.checkpoint").api_token.clone();
    let officer_id = app.account_id_of("demo.checkpoint").await;
    tongban_app::venues::ensure_venue(
        &app.state,
        "江北口岸大厅",
        "government_hall",
        "339901",
        &officer_id,
        true,
    )
    .await
    .expect("venue");
    let started = tongban_core::Clock::now_millis(&*app.clock);
    let stored = app.checkins_stored().await;
    let verify = |code: String| {
        let (app, officer) = (&app, officer.clone());
        async move {
            app.post_as(&officer, "/api/v1/pass/verify", &json!({"code": code}))
                .await
                .json::<serde_json::Value>()
                .await
                .expect("json")
        }
    };
    let visitor = verify(code).await;
    assert_eq!(visitor["admitted"], true, "{visitor}");
    assert_eq!(visitor["checked_in"], true, "the visitor is recorded");
    assert_eq!(app.checkins_stored().await, stored + 1);
    // 张伟 comes through the same hall, and is a confirmed case.
    let zhang = app.account("citizen.zhangwei").clone();
    let pass = app
        .get_as(&zhang.api_token, "/api/v1/pass/me")
        .await
        .json::<serde_json::Value>()
        .await
        .expect("json");
    assert_eq!(
        verify(pass["code"].as_str().expect("code").to_owned()).await["checked_in"],
        true
    );
    let (status, _) = record_result(
        &app,
        "demo.lab",
        "citizen.zhangwei",
        "positive",
        Some("JB-1"),
    )
    .await;
    assert_eq!(status, 201);
    app.clock.advance(time::Duration::minutes(5));
    let health = app.account("demo.health").api_token.clone();
    let asked: serde_json::Value = app
        .post_as(
            &health,
            "/api/v1/health/contacts/requests",
            &json!({
                "resident_id": zhang.resident_id,
                "from": tongban_app::time_fmt::rfc3339(started - 3_600_000),
                "to": tongban_app::time_fmt::rfc3339(tongban_core::Clock::now_millis(&*app.clock)),
                "purpose": "确诊病例流调",
            }),
        )
        .await
        .json()
        .await
        .expect("json");
    let id = asked["id"].as_str().expect("id");
    let approved = app
        .post_as(
            &app.account("demo.health2").api_token,
            &format!("/api/v1/health/contacts/requests/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(approved.status(), 204);
    let found: serde_json::Value = app
        .post_as(
            &health,
            &format!("/api/v1/health/contacts/requests/{id}/run"),
            &json!({}),
        )
        .await
        .json()
        .await
        .expect("json");
    let contacts = found["contacts"].as_array().expect("list");
    assert_eq!(contacts.len(), 1, "{found}");
    assert_eq!(contacts[0]["visitor"], true);
    let designated = app
        .post_as(
            &health,
            "/api/v1/health/contacts/designate",
            &json!({"references": [contacts[0]["reference"]], "legal_basis": "传染病防治法"}),
        )
        .await;
    assert_eq!(crate::helpers::problem(designated).await.0, 422);
}

/// A citizen recovers through their own verified channel, not an administrator: their
/// username and ID number send a code to the phone on their record; the answer is the same
/// when nothing matches (no probing); the old password and every token end.
#[tokio::test]
async fn a_citizen_recovers_through_their_own_phone() {
    let app = spawn_app().await;
    let lina = app.account("citizen.lina").clone();
    let recover = |username: &str, resident_id: &str| {
        let app = &app;
        let body = json!({"username": username, "resident_id": resident_id});
        async move {
            app.client
                .post(app.url("/api/v1/recovery"))
                .json(&body)
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        }
    };
    let wrong_id = app
        .account("citizen.zhangwei")
        .resident_id
        .clone()
        .expect("id");
    let right_id = lina.resident_id.clone().expect("id");
    // A wrong pairing and an unknown name answer as a right one does, and send nothing.
    assert_eq!(recover("citizen.lina", &wrong_id).await, 202);
    assert_eq!(recover("nobody.here", &right_id).await, 202);
    assert!(
        tongban_app::identity::activation::take_deliveries(&app.state)
            .await
            .expect("deliveries")
            .is_empty()
    );
    assert_eq!(recover("citizen.lina", &right_id).await, 202);
    let delivered = tongban_app::identity::activation::take_deliveries(&app.state)
        .await
        .expect("deliveries");
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].username, "citizen.lina");
    let code = tongban_app::identity::activation::code_in(&delivered[0].body).expect("code");
    // She sets a new password; a citizen may leave the second factor.
    let begun = app
        .client
        .post(app.url("/api/v1/activation/begin"))
        .json(&json!({"username": "citizen.lina", "code": code}))
        .send()
        .await
        .expect("request");
    assert_eq!(
        begun.json::<serde_json::Value>().await.expect("json")["required"],
        false
    );
    let done = app
        .client
        .post(app.url("/api/v1/activation/complete"))
        .json(&json!({"username": "citizen.lina", "code": code, "password": "lina's own new password", "totp": ""}))
        .send()
        .await
        .expect("request");
    assert_eq!(done.status(), 204);
    assert_eq!(
        app.get_as(&lina.api_token, "/api/v1/me").await.status(),
        401,
        "old tokens end"
    );
    assert_eq!(
        app.api_login("citizen.lina", &lina.password, None)
            .await
            .status(),
        401
    );
    assert_eq!(
        app.api_login("citizen.lina", "lina's own new password", None)
            .await
            .status(),
        200
    );
    // The same on the page, linked from the login page.
    let mut browser = crate::helpers::Browser::default();
    let login = browser
        .get(&app, "/login")
        .await
        .text()
        .await
        .expect("html");
    assert!(login.contains("href=\"/recover\""));
    let form = browser
        .get(&app, "/recover")
        .await
        .text()
        .await
        .expect("html");
    let sent = browser
        .post_form(
            &app,
            "/recover",
            &[
                ("csrf", crate::helpers::hidden_csrf(&form).as_str()),
                ("username", "citizen.wangfang"),
                ("resident_id", &right_id),
            ],
        )
        .await
        .text()
        .await
        .expect("html");
    assert!(sent.contains("id=\"recover-sent\""), "{sent}");
    // Staff cannot use it (their resets go through an administrator and a delivered code).
    assert_eq!(recover("demo.clerk", &right_id).await, 202);
    assert!(
        tongban_app::identity::activation::take_deliveries(&app.state)
            .await
            .expect("deliveries")
            .is_empty()
    );
}

/// Neither a manual colour nor a read of a person's data names the person in clear: a copy of
/// those tables does not say whose colour an officer changed or whose record a clerk read.
/// Rows an earlier version wrote with the id in clear are rewritten when a node starts, and
/// still count.
#[tokio::test]
async fn override_and_access_rows_do_not_name_their_person_in_clear() {
    let app = spawn_app().await;
    let zhang = app.account("citizen.zhangwei").clone();
    let person = app.person_id_of("citizen.zhangwei").await;
    let until = tongban_app::time_fmt::rfc3339(
        tongban_core::Clock::now_millis(&*app.clock) + 3 * 86_400_000,
    );
    let created: serde_json::Value = app
        .post_as(
            &app.account("demo.health").api_token,
            "/api/v1/health/overrides",
            &json!({"resident_id": zhang.resident_id, "colour": "yellow", "reason_code": "confirmed_case_pending_record", "expires_at": until}),
        )
        .await
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id");
    let approved = app
        .post_as(
            &app.account("demo.health2").api_token,
            &format!("/api/v1/health/overrides/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(approved.status(), 204);
    let read = app
        .get_as(
            &app.account("demo.clerk").api_token,
            &format!("/api/v1/persons/{person}?purpose=service_handling"),
        )
        .await;
    assert_eq!(read.status(), 200);

    let in_clear = |app: &crate::helpers::TestApp| {
        let (pool, person) = (app.state.pool().clone(), person.clone());
        async move {
            let overrides: Vec<(String, Option<Vec<u8>>)> =
                sqlx::query_as("SELECT person_key, person_sealed FROM status_overrides")
                    .fetch_all(&pool)
                    .await
                    .expect("overrides");
            assert!(!overrides.is_empty());
            let accesses: Vec<String> =
                sqlx::query_scalar("SELECT subject_key FROM personal_data_access")
                    .fetch_all(&pool)
                    .await
                    .expect("accesses");
            assert!(!accesses.is_empty());
            overrides.iter().any(|(key, sealed)| {
                key.contains(&person)
                    || sealed.as_ref().is_none_or(|sealed| {
                        sealed.windows(person.len()).any(|w| w == person.as_bytes())
                    })
            }) || accesses.iter().any(|key| key.contains(&person))
        }
    };
    assert!(!in_clear(&app).await);
    let colour = |state: &tongban_app::state::AppState| {
        let (state, person) = (state.clone(), person.clone());
        async move {
            tongban_app::health::service::status_of(&state, &person)
                .await
                .expect("status")
                .colour
        }
    };
    assert_eq!(colour(&app.state).await.as_str(), "yellow");
    let reads = || {
        let (app, token) = (&app, zhang.api_token.clone());
        async move {
            let mine: serde_json::Value = app
                .get_as(&token, "/api/v1/me/access-log")
                .await
                .json()
                .await
                .expect("json");
            mine.as_array()
                .expect("list")
                .iter()
                .filter(|a| a["purpose"] == "service_handling")
                .count()
        }
    };
    assert_eq!(reads().await, 1, "the person still sees the read");

    // Rows as an earlier version wrote them: the id in clear.
    sqlx::query("UPDATE status_overrides SET person_key = $1, person_sealed = NULL")
        .bind(person.clone())
        .execute(app.state.pool())
        .await
        .expect("old override");
    sqlx::query(
        "UPDATE personal_data_access SET subject_key = $1 WHERE purpose = 'service_handling'",
    )
    .bind(person.clone())
    .execute(app.state.pool())
    .await
    .expect("old access");
    assert!(in_clear(&app).await);
    let restarted = tongban_app::open_state((*app.state.config).clone(), app.clock.clone())
        .await
        .expect("a node starts");
    assert!(!in_clear(&app).await, "the node rewrote them on start");
    assert_eq!(colour(&restarted).await.as_str(), "yellow");
    assert_eq!(reads().await, 1);
}

/// A resident of this region who shows a foreign health card stays under their own status: the
/// card's holder (name and birth date) is matched against the persons registered here, and a
/// resident whose colour does not admit them is not admitted on the card. The check is a read
/// of the resident's status, recorded in their access list; the door sees no colour (the EU
/// test data's Swedish vaccination of Oscar Lövström; skipped where the vectors are absent).
#[tokio::test]
async fn a_foreign_card_does_not_override_a_residents_own_status() {
    let Some((app, case, code)) =
        app_trusting_dcc("dcc/testdata/common/2DCode/raw/CO28.json", "").await
    else {
        return;
    };
    assert_eq!(case["JSON"]["nam"]["fnt"], "LOEVSTROEM");
    assert_eq!(case["JSON"]["dob"], "1958-11-11");
    let officer = app.account("demo.checkpoint").api_token.clone();
    let verify = || {
        let (app, officer, code) = (&app, officer.clone(), code.clone());
        async move {
            app.post_as(&officer, "/api/v1/pass/verify", &json!({"code": code}))
                .await
                .json::<serde_json::Value>()
                .await
                .expect("json")
        }
    };
    let visitor = verify().await;
    assert_eq!(visitor["admitted"], true, "a visitor: {visitor}");

    // The holder lives here: registered under their name as they write it, with a permanent
    // residence number that carries their birth date.
    let first17 = "33990119581111901";
    let resident_id = format!(
        "{first17}{}",
        tongban_core::ids::ResidentId::check_character(first17).expect("check")
    );
    let fields =
        tongban_app::identity::personal::parse_fields("Oscar Lövström", &resident_id, None, None)
            .expect("fields");
    let region: tongban_core::ids::RegionCode = "339901".parse().expect("region");
    let person =
        tongban_app::identity::personal::register_person(&app.state, None, &region, &fields)
            .await
            .expect("registered");
    let checks_of_person = || {
        let (app, key) = (
            &app,
            tongban_app::identity::personal::access_subject_key(&app.state, &person),
        );
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM personal_data_access WHERE subject_key = $1 AND categories = 'health_status'",
            )
            .bind(key)
            .fetch_one(app.state.pool())
            .await
            .expect("count")
        }
    };
    let green = verify().await;
    assert_eq!(
        green["admitted"], true,
        "their own colour is green: {green}"
    );
    assert_eq!(
        checks_of_person().await,
        1,
        "their status was read, and recorded"
    );

    // Their own colour turns red (two officers): the card no longer admits them.
    let until = tongban_app::time_fmt::rfc3339(
        tongban_core::Clock::now_millis(&*app.clock) + 3 * 86_400_000,
    );
    let created: serde_json::Value = app
        .post_as(
            &app.account("demo.health").api_token,
            "/api/v1/health/overrides",
            &json!({"resident_id": resident_id, "colour": "red", "reason_code": "confirmed_case_pending_record", "expires_at": until}),
        )
        .await
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id");
    assert_eq!(
        app.post_as(
            &app.account("demo.health2").api_token,
            &format!("/api/v1/health/overrides/{id}/approve"),
            &json!({})
        )
        .await
        .status(),
        204
    );
    let red = verify().await;
    assert_eq!(red["valid"], true, "the card itself is genuine: {red}");
    assert_eq!(red["admitted"], false, "{red}");
    assert_eq!(red["admission_reason"], "resident_status");
    assert!(red["colour"].is_null(), "the door sees no colour: {red}");
    assert_eq!(checks_of_person().await, 2);

    // Persons registered before match keys existed are indexed when a node starts.
    sqlx::query("DELETE FROM person_match_keys")
        .execute(app.state.pool())
        .await
        .expect("forget keys");
    sqlx::query("UPDATE persons SET match_keyed = NULL")
        .execute(app.state.pool())
        .await
        .expect("unindexed");
    assert_eq!(verify().await["admitted"], true, "unindexed, unmatched");
    tongban_app::open_state((*app.state.config).clone(), app.clock.clone())
        .await
        .expect("a node starts");
    assert_eq!(verify().await["admission_reason"], "resident_status");
}

/// A DCC signer is trusted only when its country's signing CA issued it or a trusted list
/// signer signed the list it comes in — never bare: a signer alone, one the CA never signed
/// (the CA's name over another key), one a CA issued for another country, and a list signed by
/// an unknown key or altered after signing are all refused; removing a CA removes its signers,
/// and a bare signer left from before anchors existed verifies nothing.
#[tokio::test]
async fn a_dcc_signer_needs_its_countrys_ca_or_a_signed_list() {
    use crate::trust::csca_fixture;
    use base64::Engine as _;
    let app = spawn_app().await;
    let admin = app.account("demo.secadmin").api_token.clone();
    let propose = |list: serde_json::Value| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let response = app
                .post_as(&admin, "/api/v1/admin/dcc-signers", &list)
                .await;
            let status = response.status().as_u16();
            if status == 202 {
                return (app.approve_trust(response).await, serde_json::Value::Null);
            }
            let (_, body) = crate::helpers::problem(response).await;
            (status, body)
        }
    };
    let pem =
        |names: &[&str]| json!({"pem": names.iter().map(|n| csca_fixture(n)).collect::<String>()});
    let signers = || async {
        tongban_app::trust::dcc::list_signers(&app.state)
            .await
            .expect("signers")
    };

    let (status, body) = propose(pem(&["dsc-xa.pem"])).await;
    assert_eq!(status, 422, "a signer alone: {body}");
    assert_eq!(
        propose(pem(&["csca-xa.pem", "dsc-forged.pem"])).await.0,
        422
    );
    let (status, body) = propose(pem(&["csca-xa.pem", "dsc-cross.pem"])).await;
    assert_eq!(status, 422, "XA's CA for a signer of XB: {body}");
    assert!(signers().await.is_empty());
    assert!(
        tongban_app::trust::dcc::list_anchors(&app.state)
            .await
            .expect("anchors")
            .is_empty()
    );

    // The CA with its signer: both trusted, the signer naming the CA.
    assert_eq!(propose(pem(&["csca-xa.pem", "dsc-xa.pem"])).await.0, 204);
    let anchors = tongban_app::trust::dcc::list_anchors(&app.state)
        .await
        .expect("anchors");
    assert_eq!(anchors.len(), 1);
    assert_eq!(anchors[0].kind, "csca");
    assert_eq!(anchors[0].country.as_deref(), Some("XA"));
    let listed = signers().await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].vouched_by.as_deref(),
        Some(anchors[0].fingerprint.as_str())
    );
    // A CA trusted before vouches for its later signers; XB's signer still needs XB's CA.
    assert_eq!(propose(pem(&["dsc-xb.pem"])).await.0, 422);
    assert_eq!(propose(pem(&["csca-xb.pem"])).await.0, 204);
    assert_eq!(propose(pem(&["dsc-xb.pem"])).await.0, 204);
    assert_eq!(signers().await.len(), 2);

    // Signed lists: by a key nobody trusts, or altered after signing, refused.
    let stranger = tongban_crypto::SoftwareSigner::generate(
        tongban_crypto::SignatureAlgorithm::Es256,
        "stranger",
    );
    let dsc = csca_fixture("dsc-forged.pem");
    let raw: String = dsc.lines().filter(|l| !l.starts_with("-----")).collect();
    let entries = json!([{"certificateType": "DSC", "rawData": raw}]).to_string();
    let unknown = tongban_app::trust::dcc::sign_signer_list(&entries, &stranger);
    assert_eq!(propose(json!({"signed": unknown})).await.0, 422);
    let trusted = app
        .trust_dcc_signers(&json!([{"certificateType": "DSC", "rawData": csca_fixture("dsc-cross.pem").lines().filter(|l| !l.starts_with("-----")).collect::<String>()}]))
        .await;
    assert_eq!(
        signers().await.len(),
        3,
        "a signed list vouches for its signers"
    );
    let genuine = tongban_app::trust::dcc::sign_signer_list(&entries, &trusted);
    let mut parts: Vec<String> = genuine.split('.').map(str::to_owned).collect();
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!([{"certificateType": "DSC", "rawData": raw}, {"certificateType": "DSC", "rawData": raw}]).to_string());
    assert_eq!(
        propose(json!({"signed": parts.join(".")})).await.0,
        422,
        "altered"
    );
    // A signed list cannot bring anchors of its own.
    let sneaky = tongban_app::trust::dcc::sign_signer_list(
        &json!([{"certificateType": "CSCA", "rawData": csca_fixture("csca-xb.pem").lines().filter(|l| !l.starts_with("-----")).collect::<String>()}]).to_string(),
        &trusted,
    );
    assert_eq!(propose(json!({"signed": sneaky})).await.0, 422);

    // Removing XA's CA removes the signer it vouched for, at once (one administrator).
    let gone = app
        .client
        .delete(app.url(&format!(
            "/api/v1/admin/dcc-anchors/{}",
            anchors[0].fingerprint
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("delete");
    assert_eq!(gone.status(), 204);
    assert!(
        signers()
            .await
            .iter()
            .all(|s| s.country.as_deref() != Some("XA"))
    );
    assert_eq!(signers().await.len(), 2);

    // A signer stored bare, as before anchors existed, verifies nothing.
    let Some((app, _, code)) =
        app_trusting_dcc("dcc/testdata/common/2DCode/raw/CO28.json", "").await
    else {
        return;
    };
    let verify = || {
        let (app, code) = (&app, code.clone());
        async move {
            app.post_as(
                &app.account("demo.checkpoint").api_token,
                "/api/v1/pass/verify",
                &json!({"code": code}),
            )
            .await
            .json::<serde_json::Value>()
            .await
            .expect("json")
        }
    };
    assert_eq!(verify().await["valid"], true);
    sqlx::query("UPDATE dcc_signers SET vouched_by = NULL")
        .execute(app.state.pool())
        .await
        .expect("bare");
    let restarted = tongban_app::open_state((*app.state.config).clone(), app.clock.clone())
        .await
        .expect("a node starts");
    let checked = tongban_app::trust::foreign::check_dcc(&restarted, &code)
        .await
        .expect("checked");
    assert_eq!(checked.err().as_deref(), Some("unknown_kid"));
}

/// An enterprise's account recovers through its legal representative's own phone, as a
/// citizen's does through theirs: with its USCC and the representative's ID number. Anyone
/// else's ID number, another enterprise's code, or a citizen's username with a code answer the
/// same and send nothing; no administrator is involved.
#[tokio::test]
async fn an_enterprise_recovers_through_its_representatives_phone() {
    let app = spawn_app().await;
    let recover = |body: serde_json::Value| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/v1/recovery"))
                .json(&body)
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        }
    };
    let sent = || async {
        tongban_app::identity::activation::take_deliveries(&app.state)
            .await
            .expect("deliveries")
    };
    let qingyuan = app.account("enterprise.qingyuan").clone();
    let uscc = qingyuan.uscc.clone().expect("uscc");
    let other_uscc = app.account("enterprise.yunqi").uscc.clone().expect("uscc");
    // 李娜 represents 清源食品; 张伟 does not.
    let lina_id = app.account("citizen.lina").resident_id.clone().expect("id");
    let zhang_id = app
        .account("citizen.zhangwei")
        .resident_id
        .clone()
        .expect("id");
    for wrong in [
        json!({"username": "enterprise.qingyuan", "resident_id": zhang_id, "uscc": uscc}),
        json!({"username": "enterprise.qingyuan", "resident_id": lina_id, "uscc": other_uscc}),
        json!({"username": "enterprise.qingyuan", "resident_id": lina_id}),
        json!({"username": "citizen.lina", "resident_id": lina_id, "uscc": uscc}),
    ] {
        assert_eq!(recover(wrong.clone()).await, 202, "{wrong}");
        assert!(sent().await.is_empty(), "{wrong}");
    }
    let bad = app
        .client
        .post(app.url("/api/v1/recovery"))
        .json(&json!({"username": "enterprise.qingyuan", "resident_id": lina_id, "uscc": "not a code"}))
        .send()
        .await
        .expect("request");
    assert_eq!(crate::helpers::problem(bad).await.1["field"], "uscc");

    assert_eq!(
        recover(json!({"username": "enterprise.qingyuan", "resident_id": lina_id, "uscc": uscc}))
            .await,
        202
    );
    let delivered = sent().await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].username, "enterprise.qingyuan");
    assert_eq!(
        delivered[0].recipient.as_deref(),
        Some(app.person_id_of("citizen.lina").await.as_str()),
        "to the representative's phone"
    );
    let code = tongban_app::identity::activation::code_in(&delivered[0].body).expect("code");
    let done = app
        .client
        .post(app.url("/api/v1/activation/complete"))
        .json(&json!({"username": "enterprise.qingyuan", "code": code, "password": "qingyuan's own new password", "totp": ""}))
        .send()
        .await
        .expect("request");
    assert_eq!(done.status(), 204);
    assert_eq!(
        app.api_login("enterprise.qingyuan", "qingyuan's own new password", None)
            .await
            .status(),
        200
    );
    // The page takes the code too.
    let mut browser = crate::helpers::Browser::default();
    let form = browser
        .get(&app, "/recover")
        .await
        .text()
        .await
        .expect("html");
    assert!(form.contains("name=\"uscc\""));
    let refused = browser
        .post_form(
            &app,
            "/recover",
            &[
                ("csrf", crate::helpers::hidden_csrf(&form).as_str()),
                ("username", "enterprise.qingyuan"),
                ("resident_id", &lina_id),
                ("uscc", "12345"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
}
