//! 一网统管: what the modules do is counted as it happens and shown per region and period;
//! small counts of persons are hidden, with whatever would reveal them; a viewer sees only
//! the regions of their scope; bad questions are refused.

use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app, spawn_app_with};

async fn view(app: &TestApp, who: &str, query: &str) -> Value {
    let response = app
        .get_as(
            &app.account(who).api_token,
            &format!("/api/v1/ops/view?{query}"),
        )
        .await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.expect("json")
}

fn figure<'a>(view: &'a Value, key: &str) -> &'a Value {
    view["figures"]
        .as_array()
        .expect("figures")
        .iter()
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no figure {key}"))
}

fn part(figure: &Value, region: &str) -> Value {
    figure["breakdown"]
        .as_array()
        .expect("breakdown")
        .iter()
        .find(|p| p["region"] == region)
        .map(|p| p["value"].clone())
        .unwrap_or(json!(0))
}

fn total(view: &Value, key: &str) -> i64 {
    figure(view, key)["total"].as_i64().expect("a shown total")
}

#[tokio::test]
async fn what_the_modules_do_is_counted_where_it_happens_and_shown_by_district() {
    // With a threshold of 1 nothing is hidden, so every count can be compared.
    let app = spawn_app_with(|config| config.statistics_k = 1).await;
    tongban_app::figures::flush(&app.state)
        .await
        .expect("flush");
    let before = view(&app, "demo.sysadmin", "region=339900&period=day").await;

    // A citizen applies (the department is the city's; two certificates are used from the
    // library), shows the pass, and a venue in Jiangbei checks it.
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    let uploaded: Value = app
        .client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(&citizen)
        .header("content-type", "application/octet-stream")
        .body(png.to_vec())
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    let body = json!({"form": {
        "phone": "13800000000", "name": "临江市张伟小吃店", "place": "临江市江北区解放路12号",
        "business_scope": "小吃服务", "capital": "5"},
        "uploads": {"经营场所使用证明": uploaded["id"]}, "use_certificates": true});
    let applied = app
        .post_as(
            &citizen,
            "/api/v1/services/339900-SJ-0001/applications",
            &body,
        )
        .await;
    let status = applied.status();
    assert_eq!(status, 201, "{}", applied.text().await.unwrap_or_default());
    let pass: Value = app
        .get_as(&citizen, "/api/v1/pass/me")
        .await
        .json()
        .await
        .expect("pass");
    let checked = app
        .post_as(
            &app.account("demo.venue").api_token,
            "/api/v1/pass/verify",
            &json!({"code": pass["code"]}),
        )
        .await;
    assert_eq!(checked.status(), 200);
    tongban_app::figures::flush(&app.state)
        .await
        .expect("flush");
    let after = view(&app, "demo.sysadmin", "region=339900&period=day").await;

    let grew = |key: &str| total(&after, key) - total(&before, key);
    assert_eq!(grew("services.received"), 1);
    // And for the department that received it: one department's count grew, by one.
    let received = |v: &Value| -> Vec<(String, String, i64)> {
        let f = figure(v, "services.received");
        assert_eq!(f["part_kind"], "department");
        f["parts"]
            .as_array()
            .expect("parts")
            .iter()
            .map(|p| {
                (
                    p["id"].as_str().expect("id").to_owned(),
                    p["name"].as_str().expect("name").to_owned(),
                    p["value"].as_i64().expect("shown with k 1"),
                )
            })
            .collect()
    };
    let earlier = received(&before);
    let grown: Vec<(String, String, i64)> = received(&after)
        .into_iter()
        .filter(|(id, _, n)| {
            *n != earlier
                .iter()
                .find(|(e, _, _)| e == id)
                .map_or(0, |(_, _, n)| *n)
        })
        .collect();
    assert_eq!(grown.len(), 1, "{grown:?}");
    assert!(
        grown[0].1.starts_with("临江市"),
        "a department of the city: {grown:?}"
    );
    assert_eq!(grew("certificates.used"), 2);
    assert_eq!(grew("pass.shown"), 1);
    assert_eq!(grew("pass.checks"), 1);
    assert!(grew("platform.requests") >= 3, "the API calls themselves");
    // The pass path's own two requests (showing and checking), answered at the gate's pace.
    assert_eq!(grew("pass.offered"), 2);
    assert_eq!(grew("pass.shed"), 0);
    assert!(grew("pass.fast") <= 2);
    // Each of the two answered falls in one band of the answer times, and the view gives
    // the distribution's quantiles as the bound of a band.
    let latency = |v: &Value| -> Value {
        v["distributions"]
            .as_array()
            .expect("distributions")
            .iter()
            .find(|d| d["key"] == "pass.latency")
            .cloned()
            .expect("pass.latency")
    };
    let counted = |d: &Value| -> i64 {
        d["bands"]
            .as_array()
            .expect("bands")
            .iter()
            .map(|b| b["count"].as_i64().expect("count"))
            .sum()
    };
    assert_eq!(counted(&latency(&after)) - counted(&latency(&before)), 2);
    let bounds: Vec<Option<i64>> = latency(&after)["bands"]
        .as_array()
        .expect("bands")
        .iter()
        .map(|b| b["up_to"].as_i64())
        .collect();
    for q in latency(&after)["quantiles"].as_array().expect("quantiles") {
        let at_most = q["at_most"].as_i64();
        assert!(
            at_most.is_some_and(|b| bounds.contains(&Some(b))) || q["above"] == 1000,
            "{q}"
        );
    }
    // The check is counted in the venue's district.
    let checks = |v: &Value| {
        part(figure(v, "pass.checks"), "339901")
            .as_i64()
            .expect("shown")
    };
    assert_eq!(checks(&after) - checks(&before), 1);
    // The series adds up to the total, and so does the breakdown.
    for key in ["pass.checks", "pass.shown", "platform.requests"] {
        let f = figure(&after, key);
        let series: i64 = f["series"]
            .as_array()
            .expect("series")
            .iter()
            .map(|p| p["value"].as_i64().expect("shown"))
            .sum();
        let parts: i64 = f["breakdown"]
            .as_array()
            .expect("parts")
            .iter()
            .map(|p| p["value"].as_i64().expect("shown"))
            .sum();
        assert_eq!(series, total(&after, key), "{key}");
        assert_eq!(parts, total(&after, key), "{key}");
    }
    // A hall in Jiangbei that records who comes in checks the pass; once the log is
    // compacted, the hall is an active venue (a level, measured).
    let officer = app.account("demo.checkpoint").api_token.clone();
    let officer_id = app.account_id_of("demo.checkpoint").await;
    tongban_app::venues::ensure_venue(
        &app.state,
        "江北区政务服务大厅",
        "government_hall",
        "339901",
        &officer_id,
        true,
    )
    .await
    .expect("venue");
    let pass: Value = app
        .get_as(&citizen, "/api/v1/pass/me")
        .await
        .json()
        .await
        .expect("pass");
    let checked: Value = app
        .post_as(
            &officer,
            "/api/v1/pass/verify",
            &json!({"code": pass["code"]}),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(checked["checked_in"], true, "{checked}");
    tongban_app::checkins::writer::compact(&app.state.db, i64::MAX)
        .await
        .expect("compact");
    tongban_app::figures::measure(&app.state)
        .await
        .expect("measure");
    let active = view(
        &app,
        "demo.sysadmin",
        "region=339900&figures=checkins.active_venues",
    )
    .await;
    let venues = figure(&active, "checkins.active_venues");
    assert_eq!(venues["kind"], "level");
    assert!(total(&active, "checkins.active_venues") >= 1);
    assert!(part(venues, "339901").as_i64().is_some_and(|n| n >= 1));
    // Drilled down to Jiangbei: the same count, and the way back up.
    let district = view(&app, "demo.sysadmin", "region=339901&period=day").await;
    assert_eq!(total(&district, "pass.checks"), checks(&after));
    assert_eq!(district["parent"], "339900");
    assert_eq!(district["region_name"], "江北区");
}

#[tokio::test]
async fn small_counts_of_persons_are_hidden_with_what_would_reveal_them() {
    let app = spawn_app().await;
    // A day a month ahead, which nothing else has counted in: three check-ins in Jiangbei and
    // forty in Jiangnan at nine, twelve requests at ten.
    let zone = app.state.zone();
    let day = app.state.today() + time::Duration::days(30);
    let (start, _) = zone.day_span(day);
    let tally = app.state.module::<tongban_app::figures::Tally>();
    let nine = start + 9 * tongban_app::figures::HOUR_MS;
    tally.add("checkins.recorded", "339901", nine, 3);
    tally.add("checkins.recorded", "339902", nine, 40);
    tally.add("platform.requests", "339900", nine + 3_600_000, 12);
    tally.add("pass.checked_red", "339901", nine, 2);
    tongban_app::figures::flush(&app.state)
        .await
        .expect("flush");
    let date = tongban_core::zone::ymd(day);
    let city = view(
        &app,
        "demo.health",
        &format!("region=339900&period=day&date={date}"),
    )
    .await;
    assert_eq!(city["k"], 10);
    let checkins = figure(&city, "checkins.recorded");
    assert_eq!(checkins["total"], 45, "43, rounded to 5");
    assert_eq!(
        checkins["series"][9]["value"], 45,
        "the hour's total is not small"
    );
    // Jiangbei's 3 is hidden; so is Jiangnan's 40, or it would give 43 − 40 = 3.
    assert_eq!(part(checkins, "339901"), Value::Null);
    assert_eq!(part(checkins, "339902"), Value::Null);
    // Two red codes in a city: hidden everywhere, the total too.
    let red = figure(&city, "pass.checked_red");
    assert_eq!(red["total"], Value::Null);
    assert_eq!(red["series"][9]["value"], Value::Null);
    // Counts of no one (requests) are shown as they are.
    assert_eq!(
        figure(&city, "platform.requests")["series"][10]["value"],
        12
    );
    // In Jiangbei's own view its 3 is the total, hidden as well.
    let district = view(
        &app,
        "demo.lab",
        &format!("region=339901&period=day&date={date}&figures=checkins.recorded"),
    )
    .await;
    assert_eq!(district["figures"].as_array().expect("figures").len(), 1);
    assert_eq!(figure(&district, "checkins.recorded")["total"], Value::Null);
    // Jiangnan's 40, hidden in the city's line, is its own view's total: shown there, and
    // rounded like the city's 43, so the difference of the two (45 − 40) is not the 3.
    let jiangnan = view(
        &app,
        "demo.health",
        &format!("region=339902&period=day&date={date}&figures=checkins.recorded"),
    )
    .await;
    let jiangnan_total = figure(&jiangnan, "checkins.recorded")["total"]
        .as_i64()
        .expect("shown");
    assert_eq!(jiangnan_total, 40);
    assert_ne!(45 - jiangnan_total, 3);
    // The week shows the day's 43 (not small, rounded), and the same hidden parts.
    let week = view(
        &app,
        "demo.health",
        &format!("region=339900&period=week&date={date}&figures=checkins.recorded"),
    )
    .await;
    let weekly = figure(&week, "checkins.recorded");
    assert_eq!(weekly["total"], 45);
    assert_eq!(part(weekly, "339901"), Value::Null);
    assert_eq!(part(weekly, "339902"), Value::Null);

    // Prometheus text gives what the view gives for today, and nothing hidden.
    let today = app.state.today();
    let now_hour = app.state.now();
    tally.add("checkins.recorded", "339901", now_hour, 4);
    tongban_app::figures::flush(&app.state)
        .await
        .expect("flush");
    let shown = view(
        &app,
        "demo.health",
        &format!(
            "region=339900&figures=checkins.recorded&date={}",
            tongban_core::zone::ymd(today)
        ),
    )
    .await;
    let metrics = app
        .get_as(
            &app.account("demo.health").api_token,
            "/api/v1/ops/metrics?region=339900",
        )
        .await;
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );
    let text = metrics.text().await.expect("text");
    let line = |region: &str, scope: &str| {
        text.lines()
            .find(|l| {
                l.starts_with(&format!(
                    "tongban_ops_today{{figure=\"checkins.recorded\",region=\"{region}\",scope=\"{scope}\"}}"
                ))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<i64>().ok())
    };
    let checkins = figure(&shown, "checkins.recorded");
    assert_eq!(line("339900", "total"), checkins["total"].as_i64());
    assert_eq!(line("339901", "part"), part(checkins, "339901").as_i64());
    assert_eq!(line("339902", "part"), part(checkins, "339902").as_i64());
}

#[tokio::test]
async fn a_viewer_sees_the_regions_of_their_scope_and_bad_questions_are_refused() {
    let app = spawn_app().await;
    let lab = app.account("demo.lab").api_token.clone();
    // A district's officer: their district, not the city (and no way up).
    let district = view(&app, "demo.lab", "region=339901").await;
    assert_eq!(district["parent"], Value::Null);
    let (status, _) = problem(app.get_as(&lab, "/api/v1/ops/view?region=339900").await).await;
    assert_eq!(status, 403);
    // Not a viewer of operations at all.
    for who in ["demo.clerk", "citizen.zhangwei", "demo.venue"] {
        let token = app.account(who).api_token.clone();
        let (status, _) = problem(app.get_as(&token, "/api/v1/ops/view?region=339901").await).await;
        assert_eq!(status, 403, "{who}");
        let (status, _) = problem(app.get_as(&token, "/api/v1/ops/figures").await).await;
        assert_eq!(status, 403, "{who}");
    }
    let anonymous = app
        .client
        .get(app.url("/api/v1/ops/view?region=339900"))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);
    // Questions that cannot be answered.
    let admin = app.account("demo.sysadmin").api_token.clone();
    for (query, field) in [
        ("region=339900&period=year", "period"),
        ("region=339900&date=2026-13-01", "date"),
        ("region=339900&date=yesterday", "date"),
        ("region=339900&date=1899-12-31", "date"),
        ("region=339900&date=-9999-01-01", "date"),
        ("region=abc", "region"),
        ("region=440300", "region"),
        ("region=339900&figures=pass.secret", "figures"),
    ] {
        let (status, body) = problem(
            app.get_as(&admin, &format!("/api/v1/ops/view?{query}"))
                .await,
        )
        .await;
        assert_eq!(status, 422, "{query}");
        assert_eq!(body["field"], field, "{query}");
    }
    let (status, _) = problem(
        app.get_as(&admin, "/api/v1/ops/view?region=339900&colour=red")
            .await,
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = problem(app.get_as(&admin, "/api/v1/ops/view").await).await;
    assert_eq!(status, 400);
    // Every declared figure has its names and says whether it counts persons.
    let figures: Value = app
        .get_as(&admin, "/api/v1/ops/figures")
        .await
        .json()
        .await
        .expect("json");
    let figures = figures.as_array().expect("list");
    assert!(figures.len() >= 15);
    for key in [
        "services.received",
        "pass.checks",
        "checkins.recorded",
        "certificates.issued",
    ] {
        let f = figures.iter().find(|f| f["key"] == key).expect(key);
        assert_eq!(f["about_persons"], true, "{key}");
    }
}

#[tokio::test]
async fn the_operations_page_draws_each_figure_with_its_numbers_and_drills_down() {
    // The deployment's map of its districts (the demo city's).
    let boundaries =
        std::env::temp_dir().join(format!("tongban-boundaries-{}.geojson", std::process::id()));
    std::fs::write(&boundaries, tongban_app::ops::boundaries::DEMO).expect("write");
    let app = spawn_app_with(|config| config.ops_boundaries = Some(boundaries.clone())).await;
    let mut browser = app.page_login(app.account("demo.health")).await;
    let opened = browser.get(&app, "/ops").await;
    assert_eq!(opened.status(), 303, "to the viewer's own region");
    let to = opened.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(to.starts_with("/ops?region=339900&period=day"), "{to}");
    // This hour's counts: the demo's history of today is empty just after local midnight.
    // Answers of the pass path, check-ins in two districts (for the map), a few red codes.
    let tally = app.state.module::<tongban_app::figures::Tally>();
    let now = app.state.now();
    tally.add("pass.latency_2ms", "339900", now, 120);
    tally.add("pass.latency_25ms", "339900", now, 3);
    tally.add("checkins.recorded", "339901", now, 30);
    tally.add("checkins.recorded", "339902", now, 40);
    tally.add("pass.checked_red", "339901", now, 3);
    tongban_app::figures::flush(&app.state)
        .await
        .expect("flush");
    let html = browser.get(&app, &to).await.text().await.expect("html");
    assert!(html.contains("一网统管 · 临江市"));
    // A chart and a table of numbers for each figure.
    assert!(html.contains("data-figure=\"pass.checks\""));
    // The pass path's answer times on one card, by quantile and by band, not a card a band.
    assert!(html.contains("data-figure=\"pass.latency\""));
    assert!(!html.contains("data-figure=\"pass.latency_2ms\""));
    assert!(
        html.contains("p99 ≤ "),
        "this hour's answer times have a p99"
    );
    assert!(html.contains("按应答时间"));
    // Stacked by hour, from the fast layer up, with the same numbers in a table.
    assert!(html.contains("chart-stacked") && html.contains("class=\"ops-stack\""));
    assert!(html.contains("<svg") && html.contains("<table"));
    // The districts coloured on the map, each with its name and number in its title.
    assert!(html.contains("class=\"chart map\""));
    for district in ["339901", "339902"] {
        assert!(html.contains(&format!("class=\"map-area\" data-region=\"{district}\"")));
    }
    let _ = std::fs::remove_file(&boundaries);
    assert!(
        html.contains("href=\"/ops?region=339901&amp;period=day")
            || html.contains("href=\"/ops?region=339901&period=day")
    );
    assert!(
        html.contains("hx-trigger=\"every 30s\""),
        "refreshes in place"
    );
    // Small counts read "< 10", never a number below it.
    assert!(html.contains("&#60; 10"), "three red codes in Jiangbei");
    assert!(
        html.contains("其余涉及个人的数字按 5取整"),
        "the page says shown counts are rounded"
    );
    let week = browser
        .get(&app, "/ops?region=339901&period=week&lang=en")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        week.contains("Operations view · Jiangbei District"),
        "{}",
        &week[..week.len().min(400)]
    );
    assert!(week.contains("Up to the region above"));
    // The health officer's dashboard is the pass and check-ins; the city overview has the
    // services too, with their levels and rates; the duty officer's opens with the alerts.
    assert!(to.contains("lens=health"), "{to}");
    assert!(!html.contains("data-figure=\"services.received\""));
    let overview = browser
        .get(&app, "/ops?region=339900&period=day&lens=leader")
        .await
        .text()
        .await
        .expect("html");
    for key in [
        "services.received",
        "services.in_progress",
        "services.on_time_rate",
    ] {
        assert!(
            overview.contains(&format!("data-figure=\"{key}\"")),
            "{key}"
        );
    }
    assert!(overview.contains("ops-card ops-level") && overview.contains("ops-card ops-rate"));
    let duty = browser
        .get(&app, "/ops?region=339900&period=day&lens=duty")
        .await
        .text()
        .await
        .expect("html");
    // (In English: the page above chose it.)
    assert!(duty.contains("Operations alerts"));
    assert!(duty.contains("data-figure=\"platform.requests\""));
    // Bad questions are readable pages, not errors.
    for bad in [
        "/ops?region=339900&period=year",
        "/ops?region=339900&lens=mayor",
    ] {
        assert_eq!(browser.get(&app, bad).await.status(), 422, "{bad}");
    }
    // The duty officer's own page opens on the duty lens, alerts first; the role reaches
    // nothing else — no person, no application, no account.
    let mut officer = app.page_login(app.account("demo.duty")).await;
    let opened = officer.get(&app, "/ops").await;
    let to = opened.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(to.contains("lens=duty"), "{to}");
    let own = officer.get(&app, &to).await.text().await.expect("html");
    assert!(own.contains("待处理预警"), "the alerts come first");
    assert!(own.contains("data-figure=\"pass.latency\""));
    let token = app.account("demo.duty").api_token.clone();
    for (path, refused) in [("/api/v1/admin/users", 403), ("/api/v1/admin/events", 403)] {
        assert_eq!(app.get_as(&token, path).await.status(), refused, "{path}");
    }
    // A citizen has no operations view.
    let mut citizen = app.page_login(app.account("citizen.zhangwei")).await;
    assert_eq!(citizen.get(&app, "/ops").await.status(), 403);
}

#[tokio::test]
async fn a_threshold_raises_one_alert_for_its_period_on_the_viewers_workbench() {
    let app = spawn_app().await;
    let admin = app.account("demo.sysadmin").api_token.clone();
    let rule = |body: Value| {
        let (app, admin) = (&app, admin.clone());
        async move { app.post_as(&admin, "/api/v1/ops/alert-rules", &body).await }
    };
    // Below k on a figure of persons it would tell what the view hides.
    let (status, body) = problem(
        rule(json!({"region": "339901", "figure": "pass.checked_red", "per": "hour", "threshold": 3}))
            .await,
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("threshold")));
    for (bad, field) in [
        (
            json!({"region": "339901", "figure": "pass.secret", "per": "hour", "threshold": 20}),
            "figure",
        ),
        (
            json!({"region": "339901", "figure": "pass.checks", "per": "week", "threshold": 20}),
            "per",
        ),
        (
            json!({"region": "440300", "figure": "pass.checks", "per": "hour", "threshold": 20}),
            "region",
        ),
    ] {
        let (status, body) = problem(rule(bad).await).await;
        assert_eq!((status, body["field"].as_str()), (422, Some(field)));
    }
    let made = rule(
        json!({"region": "339901", "figure": "pass.checked_red", "per": "hour", "threshold": 10}),
    )
    .await;
    assert_eq!(made.status(), 201);
    // A district's officer sees the rule; a clerk may not set one.
    let lab = app.account("demo.lab").api_token.clone();
    let rules: Value = app
        .get_as(&lab, "/api/v1/ops/alert-rules")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(rules.as_array().map(Vec::len), Some(1));
    let clerk = app.account("demo.clerk").api_token.clone();
    let (status, _) = problem(
        app.post_as(
            &clerk,
            "/api/v1/ops/alert-rules",
            &json!({"region": "339901", "figure": "pass.checks", "per": "hour", "threshold": 20}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);

    // Nine red codes this hour: nothing. Twelve: one alert, however often the job runs.
    let tally = app.state.module::<tongban_app::figures::Tally>();
    let now = app.state.now();
    tally.add("pass.checked_red", "339901", now, 9);
    tongban_app::figures::flush(&app.state)
        .await
        .expect("flush");
    assert_eq!(
        tongban_app::ops::alerts::check(&app.state)
            .await
            .expect("check"),
        0
    );
    tally.add("pass.checked_red", "339901", now, 3);
    tongban_app::figures::flush(&app.state)
        .await
        .expect("flush");
    assert_eq!(
        tongban_app::ops::alerts::check(&app.state)
            .await
            .expect("check"),
        1
    );
    assert_eq!(
        tongban_app::ops::alerts::check(&app.state)
            .await
            .expect("check"),
        0
    );
    // Jiangnan raised 250 alerts since, all newer: Jiangbei's officer still sees Jiangbei's.
    sqlx::query("INSERT INTO ops_alert_rules (id, region_code, figure, per, threshold, created_by, created_at) VALUES ('jiangnan-rule', '339902', 'pass.checks', 'hour', 20, 'test', 0)")
        .execute(app.state.pool())
        .await
        .expect("rule");
    for i in 0..250_i64 {
        sqlx::query("INSERT INTO ops_alerts (id, rule_id, period_start, value, raised_at) VALUES ($1, 'jiangnan-rule', $2, 20, $3)")
            .bind(format!("jiangnan-{i}"))
            .bind(i * 3_600_000)
            .bind(now + 1_000 + i)
            .execute(app.state.pool())
            .await
            .expect("alert");
    }
    let open: Value = app
        .get_as(&lab, "/api/v1/ops/alerts")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        open.as_array().map(Vec::len),
        Some(1),
        "Jiangbei's one alert"
    );
    let alert = &open.as_array().expect("list")[0];
    assert_eq!(alert["value"], 10, "12, rounded to 5 as the view shows it");
    assert!(
        alert["link"]
            .as_str()
            .expect("link")
            .starts_with("/ops?region=339901")
    );
    // On the workbench of the district's officer, with the chart a click away.
    let mut browser = app.page_login(app.account("demo.lab")).await;
    let home = browser.get(&app, "/home").await.text().await.expect("html");
    assert!(
        home.contains("运行预警") && home.contains("验码为红码"),
        "the alert on the workbench"
    );
    // Acknowledged once, it leaves every viewer's list; a second time is a conflict.
    let id = alert["id"].as_str().expect("id").to_owned();
    let (status, _) = problem(
        app.post_as(
            &clerk,
            &format!("/api/v1/ops/alerts/{id}/acknowledge"),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404, "not the clerk's to see");
    let done = app
        .post_as(
            &admin,
            &format!("/api/v1/ops/alerts/{id}/acknowledge"),
            &json!({}),
        )
        .await;
    assert_eq!(done.status(), 204);
    let open: Value = app
        .get_as(&lab, "/api/v1/ops/alerts")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(open.as_array().map(Vec::len), Some(0));
    let (status, _) = problem(
        app.post_as(
            &admin,
            &format!("/api/v1/ops/alerts/{id}/acknowledge"),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409);
}

/// Forgets the figures stored before the test (what the demo's seeding counted), for tests
/// that count from zero.
async fn forget_stored_figures(app: &TestApp) {
    for table in ["ops_counts", "ops_daily", "ops_parts"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
            .execute(app.state.pool())
            .await
            .expect("delete");
    }
}

fn parts_of(figure: &Value) -> Vec<(String, Value)> {
    figure["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .map(|p| (p["id"].as_str().expect("id").to_owned(), p["value"].clone()))
        .collect()
}

#[tokio::test]
async fn figures_are_kept_by_department_and_resource_and_small_ones_hidden_there_too() {
    let app = spawn_app().await;
    forget_stored_figures(&app).await;
    let departments = tongban_app::admin::directory::departments(&app.state)
        .await
        .expect("departments");
    let of = |region: &str| -> Vec<String> {
        departments
            .iter()
            .filter(|d| d.region_code.as_str() == region)
            .map(|d| d.id.clone())
            .collect()
    };
    let (city, jiangbei, jiangnan) = (of("339900"), of("339901"), of("339902"));
    assert!(city.len() >= 3 && jiangbei.len() >= 2 && !jiangnan.is_empty());
    let tally = app.state.module::<tongban_app::figures::Tally>();
    let now = app.state.now();
    let count = |figure: &'static str, region: &str, department: &str, n: i64| {
        tally.add(figure, region, now, n);
        tally.add_part(figure, region, department, now, n);
    };
    // In the city: three departments, 50, 40 and 3 completed; 45, 20 and 3 on time.
    for (department, delivered, on_time) in
        [(&city[0], 50, 45), (&city[1], 40, 20), (&city[2], 3, 3)]
    {
        count("services.delivered", "339900", department, delivered);
        count("services.delivered_on_time", "339900", department, on_time);
    }
    // In Jiangbei: 30 and 25 completed, all on time. In Jiangnan: 4, so the district's count
    // is hidden in the city's line.
    for (department, n) in [(&jiangbei[0], 30), (&jiangbei[1], 25)] {
        count("services.delivered", "339901", department, n);
        count("services.delivered_on_time", "339901", department, n);
    }
    count("services.delivered", "339902", &jiangnan[0], 4);
    count("services.delivered_on_time", "339902", &jiangnan[0], 4);
    // The exchange's calls by resource (not about persons: nothing hidden).
    tally.add("exchange.calls", "339900", now, 9);
    tally.add_part("exchange.calls", "339900", "RK-BASIC", now, 7);
    tally.add_part("exchange.calls", "339900", "SC-LICENCE", now, 2);
    tongban_app::figures::flush(&app.state)
        .await
        .expect("flush");

    let view_of = |region: &'static str| {
        let app = &app;
        async move {
            view(
                app,
                "demo.sysadmin",
                &format!("region={region}&period=day&figures=services.on_time_rate,exchange.calls"),
            )
            .await
        }
    };
    let whole = view_of("339900").await;
    let delivered = parts_of(figure(&whole, "services.delivered"));
    let value = |parts: &[(String, Value)], id: &str| {
        parts
            .iter()
            .find(|(p, _)| p == id)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no part {id}: {parts:?}"))
    };
    // The city's own departments: 3 is below k, and 40 is hidden beside it (else 93 − 50 − 40
    // would give the 3 away); 50 is shown. Most first, the hidden last.
    assert_eq!(value(&delivered, &city[0]), 50);
    assert_eq!(value(&delivered, &city[1]), Value::Null);
    assert_eq!(value(&delivered, &city[2]), Value::Null);
    // Jiangnan's 4 is hidden in the city's line of districts, and Jiangbei's 55 beside it:
    // their departments are hidden with them.
    for department in [&jiangbei[0], &jiangbei[1], &jiangnan[0]] {
        assert_eq!(value(&delivered, department), Value::Null);
    }
    assert_eq!(delivered[0].0, city[0]);
    assert!(delivered[delivered.len() - 1].1.is_null());
    // The rate by department, where both of its counts are shown: 90 % for the first.
    let on_time = rate(&whole, "services.on_time_rate");
    let rates: Vec<(String, Value)> = on_time["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .map(|p| (p["id"].as_str().expect("id").to_owned(), p["value"].clone()))
        .collect();
    assert_eq!(value(&rates, &city[0]), 90.0);
    assert_eq!(value(&rates, &city[1]), Value::Null);
    assert_eq!(value(&rates, &jiangbei[0]), Value::Null);
    // Highest rate first, the hidden after every shown one.
    let shown: Vec<f64> = rates.iter().map_while(|(_, v)| v.as_f64()).collect();
    assert!(shown.windows(2).all(|w| w[0] >= w[1]), "{rates:?}");
    assert!(
        rates[shown.len()..].iter().all(|(_, v)| v.is_null()),
        "{rates:?}"
    );
    // Named as the directory names them.
    let named = figure(&whole, "services.delivered")["parts"][0]["name"].clone();
    let first = departments.iter().find(|d| d.id == city[0]).expect("first");
    assert_eq!(named, first.name.as_str());
    // Calls by resource, all shown; an unnamed code is shown as itself.
    let calls = figure(&whole, "exchange.calls");
    assert_eq!(calls["part_kind"], "resource");
    assert_eq!(
        parts_of(calls),
        vec![
            ("RK-BASIC".to_owned(), json!(7)),
            ("SC-LICENCE".to_owned(), json!(2))
        ]
    );
    // A district's view has its own departments only.
    let district = view_of("339901").await;
    assert_eq!(
        parts_of(figure(&district, "services.delivered")),
        vec![
            (jiangbei[0].clone(), json!(30)),
            (jiangbei[1].clone(), json!(25))
        ]
    );
    assert_eq!(
        value(
            &parts_of(rate(&district, "services.on_time_rate")),
            &jiangbei[1]
        ),
        100.0
    );
    // The page draws them, with the table for screen readers.
    let mut browser = app.page_login(app.account("demo.sysadmin")).await;
    let html = browser
        .get(&app, "/ops?region=339900&period=day&lens=leader")
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("按部门"));
    assert!(html.contains(&format!("data-part=\"{}\"", city[0])));
    assert!(html.contains("data-part=\"RK-BASIC\""));
}

fn rate<'a>(view: &'a Value, key: &str) -> &'a Value {
    view["rates"]
        .as_array()
        .expect("rates")
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no rate {key}"))
}

#[tokio::test]
async fn open_work_is_measured_as_a_level_and_its_overdue_part_counted_when_the_due_day_passes() {
    let app = spawn_app_with(|config| config.statistics_k = 1).await;
    let levels = "region=339900&period=day&figures=services.in_progress,services.overdue";
    tongban_app::figures::measure(&app.state)
        .await
        .expect("measure");
    let before = view(&app, "demo.sysadmin", levels).await;
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    crate::helpers::apply_through_the_api(&app, &citizen).await;
    // Nothing moves until the level is measured again: the view reads no application.
    assert_eq!(
        view(&app, "demo.sysadmin", levels).await["figures"],
        before["figures"]
    );
    tongban_app::figures::measure(&app.state)
        .await
        .expect("measure");
    let after = view(&app, "demo.sysadmin", levels).await;
    // The node is serving (its presence renewed with its tally).
    let nodes = view(
        &app,
        "demo.sysadmin",
        "region=339900&figures=platform.nodes",
    )
    .await;
    assert!(total(&nodes, "platform.nodes") >= 1);
    let in_progress = figure(&after, "services.in_progress");
    assert_eq!(in_progress["kind"], "level");
    // By the department that holds them, too: the departments' values add up to the level.
    assert_eq!(in_progress["part_kind"], "department");
    let by_department: Vec<i64> = parts_of(in_progress)
        .iter()
        .map(|(_, v)| v.as_i64().expect("shown with k 1"))
        .collect();
    assert!(!by_department.is_empty());
    assert_eq!(
        by_department.iter().sum::<i64>(),
        total(&after, "services.in_progress")
    );
    assert_eq!(
        total(&after, "services.in_progress") - total(&before, "services.in_progress"),
        1
    );
    assert_eq!(
        total(&after, "services.overdue"),
        total(&before, "services.overdue")
    );
    // A level's total is its value now: the current hour's point, not the sum of the hours;
    // the hours to come are not measured, not zero.
    let series = in_progress["series"].as_array().expect("series");
    let now = app.state.now();
    let current = series
        .iter()
        .rposition(|p| p["measured"] == true)
        .expect("measured now");
    assert_eq!(series[current]["value"], in_progress["total"]);
    let hour_of = |p: &Value| {
        time::OffsetDateTime::parse(
            p["start"].as_str().expect("start"),
            &time::format_description::well_known::Rfc3339,
        )
        .expect("rfc3339")
        .unix_timestamp()
            * 1000
    };
    assert!(hour_of(&series[current]) <= now && now < hour_of(&series[current]) + 3_600_000);
    assert!(
        series[current + 1..]
            .iter()
            .all(|p| p["measured"] == false && p["value"].is_null())
    );

    // Eight days on, the application is past its due day (three working days).
    app.clock.advance(time::Duration::days(8));
    tongban_app::figures::measure(&app.state)
        .await
        .expect("measure");
    let later = view(&app, "demo.sysadmin", levels).await;
    assert!(total(&later, "services.overdue") >= 1);
    assert_eq!(
        total(&later, "services.overdue"),
        total(&later, "services.in_progress"),
        "everything open was applied for eight days ago or more"
    );
}

#[tokio::test]
async fn a_rate_is_worked_out_from_what_is_shown_and_can_raise_an_alert() {
    let app = spawn_app().await;
    forget_stored_figures(&app).await;
    let admin = app.account("demo.sysadmin").api_token.clone();
    let tally = app.state.module::<tongban_app::figures::Tally>();
    let now = app.state.now();
    // In Jiangbei this hour: 40 completed, 30 on time.
    tally.add("services.delivered", "339901", now, 40);
    tally.add("services.delivered_on_time", "339901", now, 30);
    // In Jiangnan: 40 completed, 4 on time — a count below k, so no rate.
    tally.add("services.delivered", "339902", now, 40);
    tally.add("services.delivered_on_time", "339902", now, 4);
    tongban_app::figures::flush(&app.state)
        .await
        .expect("flush");
    let jiangbei = view(
        &app,
        "demo.sysadmin",
        "region=339901&period=day&figures=services.on_time_rate",
    )
    .await;
    // Asking for a rate brings its two figures.
    assert_eq!(total(&jiangbei, "services.delivered"), 40);
    assert_eq!(rate(&jiangbei, "services.on_time_rate")["value"], 75.0);
    let jiangnan = view(
        &app,
        "demo.sysadmin",
        "region=339902&period=day&figures=services.on_time_rate",
    )
    .await;
    assert!(rate(&jiangnan, "services.on_time_rate")["value"].is_null());
    let city = view(
        &app,
        "demo.sysadmin",
        "region=339900&period=day&figures=services.on_time_rate",
    )
    .await;
    let by_district: Vec<(String, Value)> = rate(&city, "services.on_time_rate")["breakdown"]
        .as_array()
        .expect("breakdown")
        .iter()
        .map(|p| {
            (
                p["region"].as_str().unwrap_or("").to_owned(),
                p["value"].clone(),
            )
        })
        .collect();
    // In the city's line Jiangnan's 4 is hidden, and Jiangbei's 30 with it (else 34 − 30
    // would give it away): neither district's rate is shown there, though the city's is.
    assert!(by_district.contains(&("339901".to_owned(), Value::Null)));
    assert!(by_district.contains(&("339902".to_owned(), Value::Null)));
    // Worked out from the counts as shown, rounded to 5: 35 of 80 (34 of 80 exactly).
    assert_eq!(rate(&city, "services.on_time_rate")["value"], 43.8);

    // A rate's threshold is a percentage.
    let (status, body) = problem(
        app.post_as(
            &admin,
            "/api/v1/ops/alert-rules",
            &json!({"region": "339901", "figure": "services.on_time_rate", "per": "hour", "threshold": 150}),
        )
        .await,
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("threshold")));
    for (region, threshold) in [("339901", 70), ("339902", 5)] {
        let made = app
            .post_as(
                &admin,
                "/api/v1/ops/alert-rules",
                &json!({"region": region, "figure": "services.on_time_rate", "per": "hour", "threshold": threshold}),
            )
            .await;
        assert_eq!(made.status(), 201);
    }
    // Jiangbei's 75 % reaches 70; Jiangnan's 10 % would reach 5, but rests on 4 persons.
    assert_eq!(
        tongban_app::ops::alerts::check(&app.state)
            .await
            .expect("check"),
        1
    );
    let open: Value = app
        .get_as(&admin, "/api/v1/ops/alerts")
        .await
        .json()
        .await
        .expect("json");
    let alerts = open.as_array().expect("alerts");
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["rule"]["region"], "339901");
    assert_eq!(alerts[0]["value"], 75);

    // The list of figures names the rate with its parts; an unknown one is refused.
    let listed: Value = app
        .get_as(&admin, "/api/v1/ops/figures")
        .await
        .json()
        .await
        .expect("json");
    let on_time = listed
        .as_array()
        .expect("list")
        .iter()
        .find(|f| f["key"] == "services.on_time_rate")
        .expect("listed");
    assert_eq!(
        (&on_time["kind"], &on_time["of"], &on_time["per"]),
        (
            &json!("rate"),
            &json!("services.delivered_on_time"),
            &json!("services.delivered")
        )
    );
    let (status, _) = problem(
        app.get_as(
            &admin,
            "/api/v1/ops/view?region=339900&figures=services.made_up_rate",
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn the_demo_city_starts_with_weeks_of_drawn_figures_and_without_them_counts_from_zero() {
    let week_ago =
        |app: &TestApp| tongban_core::zone::ymd(app.state.today() - time::Duration::days(7));
    let query = |date: String| format!("region=339900&period=week&date={date}");
    let drawn = spawn_app_with(|config| config.demo_ops_history = true).await;
    let past = view(&drawn, "demo.sysadmin", &query(week_ago(&drawn))).await;
    // A whole week of a city's days: passes shown and checked, the platform's requests.
    assert!(total(&past, "pass.shown") > 1_000, "{past}");
    assert!(total(&past, "platform.requests") > 10_000, "{past}");
    assert!(total(&past, "services.received") > 0, "{past}");
    let plain = spawn_app().await;
    let past = view(&plain, "demo.sysadmin", &query(week_ago(&plain))).await;
    assert_eq!(total(&past, "pass.shown"), 0, "{past}");
    assert_eq!(total(&past, "platform.requests"), 0, "{past}");
}
