//! 场所码: applying, approving and revoking venue codes; citizens checking in by code with
//! companions; what venues and the operations view may count.

use serde_json::{Value, json};
use time::Duration;

use crate::helpers::{problem, spawn_app_with};

#[tokio::test]
async fn a_venue_code_is_applied_for_approved_scanned_with_companions_and_revoked() {
    let app = spawn_app_with(|config| config.statistics_k = 2).await;
    let operator = app.account("demo.venue").api_token.clone();
    let clerk = app.account("demo.clerk").api_token.clone();
    let zhang = app.account("citizen.zhangwei");
    let wang = app.account("citizen.wangfang");

    // Apply: pending, no code yet.
    let applied = app
        .post_as(
            &operator,
            "/api/v1/venues",
            &json!({"name": "江北区人民医院", "kind": "hospital", "region_code": "339901", "address": "江北区人民路100号", "capacity": 800}),
        )
        .await;
    assert_eq!(applied.status(), 201);
    let venue: Value = applied.json().await.expect("json");
    assert_eq!(venue["status"], "pending");
    assert!(venue["code"].is_null());
    let id = venue["id"].as_str().expect("id").to_owned();
    for (body, field) in [
        (
            json!({"name": " ", "kind": "hospital", "region_code": "339901", "address": "x", "capacity": 1}),
            "name",
        ),
        (
            json!({"name": "x", "kind": "casino", "region_code": "339901", "address": "x", "capacity": 1}),
            "kind",
        ),
        (
            json!({"name": "x", "kind": "other", "region_code": "339901", "address": "x", "capacity": 0}),
            "capacity",
        ),
    ] {
        let (status, problem) =
            problem(app.post_as(&operator, "/api/v1/venues", &body).await).await;
        assert_eq!(status, 422, "{field}: {problem}");
    }

    // Staff of another district may not decide; the district's clerk approves.
    let decide = |token: String, decision: &'static str| {
        let (app, id) = (&app, id.clone());
        async move {
            app.post_as(
                &token,
                &format!("/api/v1/venues/{id}/decision"),
                &json!({"decision": decision}),
            )
            .await
            .status()
            .as_u16()
        }
    };
    let jiangnan = app.account("demo.clerk.jiangnan").api_token.clone();
    assert_eq!(decide(jiangnan, "approve").await, 403);
    assert_eq!(decide(operator.clone(), "approve").await, 403);
    assert_eq!(decide(clerk.clone(), "approve").await, 204);
    assert_eq!(decide(clerk.clone(), "approve").await, 409);
    let mine: Value = app
        .get_as(&operator, "/api/v1/venues/mine")
        .await
        .json()
        .await
        .expect("json");
    let code = mine
        .as_array()
        .and_then(|list| list.iter().find(|v| v["id"] == id.as_str()))
        .and_then(|v| v["code"].as_str())
        .expect("an active venue has a code")
        .to_owned();
    let qr = app
        .get_as(&operator, &format!("/api/v1/venues/{id}/qr.svg"))
        .await;
    assert_eq!(qr.status(), 200);
    assert!(qr.text().await.expect("svg").starts_with("<?xml"));

    // A companion must be a registered person whose name matches.
    let companion = |name: &str| json!({"resident_id": wang.resident_id.clone().expect("id"), "name": name, "relation": "母亲"});
    let refused = app
        .post_as(
            &zhang.api_token,
            "/api/v1/me/companions",
            &companion("李四"),
        )
        .await;
    assert_eq!(problem(refused).await.0, 422);
    let added = app
        .post_as(
            &zhang.api_token,
            "/api/v1/me/companions",
            &companion(wang.name.as_deref().expect("name")),
        )
        .await;
    assert_eq!(added.status(), 201);
    let companion_id = added.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // The comparison shows in the family member's own access list.
    let log: Value = app
        .get_as(&wang.api_token, "/api/v1/me/access-log")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        log.as_array()
            .expect("list")
            .iter()
            .any(|a| a["actor_role"] == "citizen" && a["categories"] == "name"),
        "{log}"
    );

    // Check in by code, with the companion: not before she consents.
    let check_in = |body: Value| {
        let (app, token) = (&app, zhang.api_token.clone());
        async move { app.post_as(&token, "/api/v1/checkins", &body).await }
    };
    let early = check_in(json!({"venue_code": code, "companions": [companion_id]})).await;
    assert_eq!(problem(early).await.0, 422);
    let requests: Value = app
        .get_as(&wang.api_token, "/api/v1/me/companion-requests")
        .await
        .json()
        .await
        .expect("json");
    let holder = requests[0]["holder"].as_str().expect("holder").to_owned();
    assert_eq!(requests[0]["holder_name"], "张*");
    let consented = app
        .post_as(
            &wang.api_token,
            &format!("/api/v1/me/companion-requests/{holder}"),
            &json!({"accept": true}),
        )
        .await;
    assert_eq!(consented.status(), 204);
    let done = check_in(json!({"venue_code": code, "companions": [companion_id]})).await;
    assert_eq!(done.status(), 200);
    let done: Value = done.json().await.expect("json");
    assert_eq!(done["recorded"], true);
    assert_eq!(done["companions_recorded"], 1);
    assert_eq!(done["colour"], "green");
    assert_eq!(done["venue"], "江北区人民医院");
    assert_eq!(app.checkins_stored().await, 2);
    // The same scan within a minute is counted once.
    let again: Value = check_in(json!({"venue_code": code}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(again["recorded"], false);
    assert_eq!(app.checkins_stored().await, 2);

    // Refused, and nothing recorded.
    let chen_person: String =
        sqlx::query_scalar("SELECT person_id FROM accounts WHERE username = 'citizen.chenming'")
            .fetch_one(app.state.pool())
            .await
            .expect("person");
    let now = tongban_core::Clock::now_millis(&*app.clock);
    let other_region = format!("110101-{}", code.split_once('-').expect("code").1);
    let mut forged = code.clone();
    forged.pop();
    forged.push(if code.ends_with('0') { '1' } else { '0' });
    for body in [
        json!({"venue_code": code, "companions": [chen_person]}),
        json!({"venue_code": code, "at": tongban_app::time_fmt::rfc3339(now + 3_600_000)}),
        json!({"venue_code": code, "at": tongban_app::time_fmt::rfc3339(now - 7 * 3_600_000)}),
        json!({"venue_code": other_region}),
        json!({"venue_code": forged}),
        json!({"venue_code": "not a code"}),
    ] {
        let (status, problem) = problem(check_in(body.clone()).await).await;
        assert_eq!(status, 422, "{body}: {problem}");
    }
    assert_eq!(app.checkins_stored().await, 2);

    // The venue's staff see their counts; another venue's staff see nothing.
    let counts: Value = app
        .get_as(&operator, &format!("/api/v1/venues/{id}/counts"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(counts["last_24_hours"], 2);
    let metro = app.account("demo.venue.metro").api_token.clone();
    assert_eq!(
        app.get_as(&metro, &format!("/api/v1/venues/{id}/counts"))
            .await
            .status(),
        404
    );

    // The operations view: a district-hour cell with at least k (here 2) people.
    let today = tongban_core::zone::ymd(app.state.zone().date_of(now));
    let date = today.as_str();
    let health = app.account("demo.health").api_token.clone();
    let cells: Value = app
        .get_as(&health, &format!("/api/v1/checkins/statistics?date={date}"))
        .await
        .json()
        .await
        .expect("json");
    let cells = cells.as_array().expect("list");
    assert_eq!(cells.len(), 1, "{cells:?}");
    assert_eq!(cells[0]["district"], "339901");
    assert_eq!(cells[0]["checkins"], 2);
    assert_eq!(
        app.get_as(
            &zhang.api_token,
            &format!("/api/v1/checkins/statistics?date={date}")
        )
        .await
        .status(),
        403
    );

    // The same on the operations page.
    let mut officer = app.page_login(app.account("demo.health")).await;
    let page = officer
        .get(&app, &format!("/checkins/statistics?date={date}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("<td>339901</td>") && page.contains("<td>2</td>"),
        "{page}"
    );
    let mut citizen = app.page_login(zhang).await;
    assert_eq!(
        citizen
            .get(&app, &format!("/checkins/statistics?date={date}"))
            .await
            .status(),
        403
    );

    // Revoked: the code stops working at once.
    assert_eq!(decide(clerk.clone(), "revoke").await, 204);
    app.clock.advance(Duration::minutes(2));
    let (status, problem) = problem(check_in(json!({"venue_code": code})).await).await;
    assert_eq!(status, 422);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("revoked")
            || problem.to_string().contains("revoked")
    );
    assert_eq!(app.checkins_stored().await, 2);
}

#[tokio::test]
async fn cells_of_fewer_than_k_people_are_not_shown() {
    let app = spawn_app_with(|_| {}).await;
    let metro = app.account("demo.venue.metro").api_token.clone();
    let code = app
        .get_as(
            &app.account("citizen.zhangwei").api_token,
            "/api/v1/pass/me",
        )
        .await
        .json::<Value>()
        .await
        .expect("json")["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let checked: Value = app
        .post_as(&metro, "/api/v1/pass/verify", &json!({"code": code}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(checked["checked_in"], true);
    let now = tongban_core::Clock::now_millis(&*app.clock);
    let date = tongban_core::zone::ymd(app.state.zone().date_of(now));
    let cells: Value = app
        .get_as(
            &app.account("demo.health").api_token,
            &format!("/api/v1/checkins/statistics?date={date}"),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(cells, json!([]), "one person is fewer than k = 10");
}

/// The phone opens the venue's QR: log in if needed and come back, check in with a companion,
/// show the colour. The venue prints its poster.
#[tokio::test]
async fn the_check_in_page_and_the_poster() {
    let app = spawn_app_with(|_| {}).await;
    let operator = app.account("demo.venue.metro").api_token.clone();
    let mine: Value = app
        .get_as(&operator, "/api/v1/venues/mine")
        .await
        .json()
        .await
        .expect("json");
    let venue = &mine[0];
    let code = venue["code"].as_str().expect("code").to_owned();
    let id = venue["id"].as_str().expect("id").to_owned();
    let zhang = app.account("citizen.zhangwei");
    let wang = app.account("citizen.wangfang");
    let added = app
        .post_as(
            &zhang.api_token,
            "/api/v1/me/companions",
            &json!({"resident_id": wang.resident_id, "name": wang.name, "relation": "母亲"}),
        )
        .await;
    assert_eq!(added.status(), 201);
    let companion = added.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // 王芳 consents on her own page.
    let mut her = app.page_login(wang).await;
    let home = her.get(&app, "/home").await.text().await.expect("html");
    assert!(home.contains("id=\"companion-requests\""), "{home}");
    let form = home
        .split("action=\"/me/companion-requests/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a request to answer")
        .to_owned();
    let answered = her
        .post_form(
            &app,
            &format!("/me/companion-requests/{form}"),
            &[
                ("csrf", crate::helpers::hidden_csrf(&home).as_str()),
                ("answer", "accept"),
            ],
        )
        .await;
    assert_eq!(answered.status(), 303);

    // Not logged in: to the login page, which brings the citizen back.
    let anonymous = app
        .client
        .get(app.url(&format!("/v/{code}")))
        .send()
        .await
        .expect("get");
    assert_eq!(anonymous.status(), 303);
    assert_eq!(
        anonymous.headers()["location"].to_str().expect("location"),
        format!("/login?next=/v/{code}")
    );
    let login = app
        .client
        .get(app.url("/login?next=//evil.example/"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("html");
    assert!(
        login.contains("name=\"next\" value=\"/home\""),
        "other sites are dropped"
    );

    let mut phone = app.page_login(zhang).await;
    let page = phone
        .get(&app, &format!("/v/{code}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("临江地铁1号线江南站") && page.contains("王*"),
        "{page}"
    );
    let csrf = crate::helpers::hidden_csrf(&page);
    let field = format!("companion.{companion}");
    let done = phone
        .post_form(
            &app,
            &format!("/v/{code}"),
            &[("csrf", csrf.as_str()), (field.as_str(), "1")],
        )
        .await;
    assert_eq!(done.status(), 200);
    let done = done.text().await.expect("html");
    assert!(
        done.contains("绿码") && done.contains("已登记进场"),
        "{done}"
    );
    assert_eq!(app.checkins_stored().await, 2);
    let bad = phone.get(&app, "/v/339902-1-0000").await;
    assert_eq!(bad.status(), 422);

    // The poster: the venue's staff only.
    let mut staff = app.page_login(app.account("demo.venue.metro")).await;
    let poster = staff
        .get(&app, &format!("/venues/{id}/poster"))
        .await
        .text()
        .await
        .expect("html");
    assert!(poster.contains("<svg") && poster.contains(&code));
    // The scanner page lists the operator's venues with their counts and posters.
    let scanner = staff.get(&app, "/scan").await.text().await.expect("html");
    assert!(
        scanner.contains("<td>2</td>") && scanner.contains(&format!("/venues/{id}/poster")),
        "{scanner}"
    );
    let mut other = app.page_login(app.account("demo.venue")).await;
    assert_eq!(
        other
            .get(&app, &format!("/venues/{id}/poster"))
            .await
            .status(),
        404
    );
}

/// The same flows on pages: an operator applies on the scanner page, a clerk approves on the
/// workbench, a citizen registers a companion on the home page.
#[tokio::test]
async fn venues_are_applied_for_and_approved_and_companions_added_on_pages() {
    let app = spawn_app_with(|_| {}).await;
    let mut operator = app.page_login(app.account("demo.venue")).await;
    let page = operator
        .get(&app, "/scan")
        .await
        .text()
        .await
        .expect("html");
    let csrf = crate::helpers::hidden_csrf(&page);
    let applied = operator
        .post_form(
            &app,
            "/venues/apply",
            &[
                ("csrf", csrf.as_str()),
                ("name", "江北区政务服务中心"),
                ("kind", "government_hall"),
                ("region_code", "339901"),
                ("address", "江北区市民大道1号"),
                ("capacity", "300"),
            ],
        )
        .await;
    assert_eq!(applied.status(), 303);
    let page = operator
        .get(&app, "/scan")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("江北区政务服务中心") && page.contains("待审核"),
        "{page}"
    );

    let mut clerk = app.page_login(app.account("demo.clerk")).await;
    let home = clerk.get(&app, "/home").await.text().await.expect("html");
    assert!(home.contains("江北区政务服务中心"), "{home}");
    let action = home
        .split("action=\"/venues/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a decision form")
        .to_owned();
    let csrf = crate::helpers::hidden_csrf(&home);
    let decided = clerk
        .post_form(
            &app,
            &format!("/venues/{action}"),
            &[("csrf", csrf.as_str()), ("decision", "approve")],
        )
        .await;
    assert_eq!(decided.status(), 303);
    let page = operator
        .get(&app, "/scan")
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("已启用"), "{page}");

    let zhang = app.account("citizen.zhangwei");
    let wang = app.account("citizen.wangfang");
    let mut citizen = app.page_login(zhang).await;
    let home = citizen.get(&app, "/home").await.text().await.expect("html");
    let csrf = crate::helpers::hidden_csrf(&home);
    let added = citizen
        .post_form(
            &app,
            "/me/companions",
            &[
                ("csrf", csrf.as_str()),
                ("name", wang.name.as_deref().expect("name")),
                ("resident_id", wang.resident_id.as_deref().expect("id")),
                ("relation", "母亲"),
            ],
        )
        .await;
    assert_eq!(added.status(), 303);
    let home = citizen.get(&app, "/home").await.text().await.expect("html");
    assert!(home.contains("王*（母亲）"), "{home}");
    let wrong = citizen
        .post_form(
            &app,
            "/me/companions",
            &[
                ("csrf", csrf.as_str()),
                ("name", "某某"),
                ("resident_id", wang.resident_id.as_deref().expect("id")),
                ("relation", "母亲"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 422);
}

/// The statistics refuse a malformed day, on the API and the page.
#[tokio::test]
async fn statistics_refuse_a_malformed_date() {
    let app = spawn_app_with(|_| {}).await;
    let health = app.account("demo.health").api_token.clone();
    for date in ["2026-13-01", "yesterday", ""] {
        let (status, detail) = problem(
            app.get_as(&health, &format!("/api/v1/checkins/statistics?date={date}"))
                .await,
        )
        .await;
        assert_eq!(status, 422, "{date}: {detail}");
    }
    let mut officer = app.page_login(app.account("demo.health")).await;
    assert_eq!(
        officer
            .get(&app, "/checkins/statistics?date=2026-02-30")
            .await
            .status(),
        422
    );
}

/// The venue module's sections on the home pages: a district clerk's workbench lists the venue
/// awaiting their decision (and only theirs), and a citizen's page keeps their companions.
#[tokio::test]
async fn home_pages_carry_the_venue_modules_sections() {
    let app = spawn_app_with(|_| {}).await;
    let operator = app.account("demo.venue").api_token.clone();
    let applied = app
        .post_as(
            &operator,
            "/api/v1/venues",
            &json!({"name": "江北区青少年宫", "kind": "other", "region_code": "339901", "address": "江北区人民路8号", "capacity": 300}),
        )
        .await;
    assert_eq!(applied.status(), 201);
    let id = applied.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let clerk = app.account("demo.clerk").clone();
    let mut browser = app.page_login(&clerk).await;
    let workbench = browser.get(&app, "/home").await.text().await.expect("html");
    assert!(
        workbench.contains("江北区青少年宫"),
        "pending on the workbench"
    );
    assert!(workbench.contains(&format!("/venues/{id}/decision")));
    let other = app.account("demo.clerk.jiangnan").clone();
    let mut elsewhere = app.page_login(&other).await;
    let theirs = elsewhere
        .get(&app, "/home")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        !theirs.contains("江北区青少年宫"),
        "another district's clerk does not see it"
    );

    let citizen = app.account("citizen.zhangwei").clone();
    let mut holder = app.page_login(&citizen).await;
    let home = holder.get(&app, "/home").await.text().await.expect("html");
    assert!(home.contains("id=\"companions\""), "the companions section");
    assert!(home.contains("action=\"/me/companions\""));
}
