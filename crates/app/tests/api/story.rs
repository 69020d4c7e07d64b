//! Store stories, run on SQLite and on PostgreSQL: what several nodes share through the
//! database, and the demo seeding that can run again.

use tongban_app::identity::service::{self, LoginAttempt};
use tongban_app::{AppState, Config};

use crate::helpers::spawn_app;

/// A second node on the same database, as a scale-out deployment runs.
pub async fn second_node(app: &crate::helpers::TestApp) -> AppState {
    let config = Config {
        max_db_connections: 2,
        ..(*app.state.config).clone()
    };
    tongban_app::open_state(config, app.clock.clone())
        .await
        .expect("a second node opens")
}

#[tokio::test]
async fn failed_logins_on_different_nodes_add_up_to_one_lockout() {
    let app = spawn_app().await;
    let other = second_node(&app).await;
    let citizen = app.first_with_role("citizen");
    let wrong = |_: usize| LoginAttempt {
        username: citizen.username.clone(),
        password: "wrong password".into(),
        totp: None,
        from: None,
    };
    for attempt in 0..5 {
        let node = if attempt % 2 == 0 { &app.state } else { &other };
        assert!(service::authenticate(node, wrong(attempt)).await.is_err());
    }
    let right = LoginAttempt {
        username: citizen.username.clone(),
        password: citizen.password.clone(),
        totp: None,
        from: None,
    };
    // Locked: the right password is refused, with the same answer as a wrong one.
    let error = service::authenticate(&other, right)
        .await
        .expect_err("locked");
    assert_eq!(error.slug(), "invalid-credentials");
}

#[tokio::test]
async fn a_session_started_on_one_node_is_known_to_another() {
    let app = spawn_app().await;
    let other = second_node(&app).await;
    let citizen = app.first_with_role("citizen");
    let account = service::authenticate(
        &app.state,
        LoginAttempt {
            username: citizen.username.clone(),
            password: citizen.password.clone(),
            totp: None,
            from: None,
        },
    )
    .await
    .expect("login");
    let session = service::start_session(&app.state, &account.id)
        .await
        .expect("session");
    let actor = service::actor_from_session(&other, &session.raw_id)
        .await
        .expect("lookup")
        .expect("known");
    assert_eq!(actor.account.username, citizen.username);
    service::end_session(&other, &session.raw_id)
        .await
        .expect("end");
    assert!(
        service::actor_from_session(&app.state, &session.raw_id)
            .await
            .expect("lookup")
            .is_none()
    );
}

#[tokio::test]
async fn a_totp_code_used_on_one_node_is_refused_on_another() {
    let app = spawn_app().await;
    let other = second_node(&app).await;
    let clerk = app.account("demo.clerk");
    let code = app.totp_now(clerk);
    let attempt = || LoginAttempt {
        username: clerk.username.clone(),
        password: clerk.password.clone(),
        totp: Some(code.clone()),
        from: None,
    };
    service::authenticate(&app.state, attempt())
        .await
        .expect("first use");
    assert!(service::authenticate(&other, attempt()).await.is_err());
}

#[tokio::test]
async fn seeding_the_demo_again_reuses_the_city_and_hands_out_working_credentials() {
    let app = spawn_app().await;
    let regions = app.count("regions").await;
    let departments = app.count("departments").await;
    let accounts = app.count("accounts").await;
    let persons = app.count("persons").await;
    assert_eq!(
        departments, 24,
        "eight departments in the city and in each district"
    );
    let again = tongban_app::demo::seed(&app.state, &app.address)
        .await
        .expect("reseed");
    assert_eq!(
        (app.count("regions").await, app.count("departments").await),
        (regions, departments)
    );
    assert_eq!(
        (app.count("accounts").await, app.count("persons").await),
        (accounts, persons)
    );
    let citizen = again
        .accounts
        .iter()
        .find(|a| a.role == "citizen")
        .expect("citizen");
    assert_eq!(
        app.api_login(&citizen.username, &citizen.password, None)
            .await
            .status(),
        200
    );
    let old = app.first_with_role("citizen");
    assert_eq!(
        app.get_as(&old.api_token, "/api/v1/me").await.status(),
        401,
        "the previous demo token is revoked"
    );
    assert_eq!(
        app.get_as(&citizen.api_token, "/api/v1/me").await.status(),
        200
    );
}

#[tokio::test]
async fn demo_credentials_cover_every_role_with_what_each_needs() {
    let app = spawn_app().await;
    for role in tongban_app::identity::model::Role::ALL {
        let account = app.first_with_role(role.as_str());
        assert!(!account.password.is_empty() && account.api_token.starts_with("tbk_"));
        assert_eq!(account.totp_secret.is_some(), role.is_staff(), "{role}");
    }
    for citizen in app.demo.accounts.iter().filter(|a| a.role == "citizen") {
        let id: tongban_core::ResidentId = citizen
            .resident_id
            .as_deref()
            .expect("id")
            .parse()
            .expect("valid ID number");
        assert!(citizen.name.is_some() && id.region().starts_with("3399"));
    }
    for enterprise in app.demo.accounts.iter().filter(|a| a.role == "enterprise") {
        let _: tongban_core::Uscc = enterprise
            .uscc
            .as_deref()
            .expect("uscc")
            .parse()
            .expect("valid USCC");
    }
}
