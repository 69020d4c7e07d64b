//! Days at their edges. A day is counted in the region's time zone (here Beijing, UTC+8), so at
//! 00:30 Beijing time it is already tomorrow while UTC is still on today, and at 23:30 the two
//! agree. Each date-sensitive path runs with the clock set to 23:30 and 00:30 in the region's
//! zone and just after midnight UTC, so the suite passes whatever the hour it runs at.

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime, Time};
use tongban_core::Zone;
use tongban_core::zone::ymd;

use crate::certs::issuer_keys;
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// Moments after the app's start, in order: 23:30 and 00:30 in the region's zone, then 30
/// seconds past the next midnight UTC.
fn edges(app: &TestApp) -> Vec<(&'static str, OffsetDateTime)> {
    let zone = app.state.zone();
    let day = app.state.today() + Duration::days(1);
    let at = |day: time::Date, h: u8, m: u8| {
        day.with_time(Time::from_hms(h, m, 0).expect("time"))
            .assume_offset(zone.offset())
    };
    let late = at(day, 23, 30);
    let early = at(day + Duration::days(1), 0, 30);
    let utc_midnight = (early.to_offset(time::UtcOffset::UTC).date() + Duration::days(1))
        .midnight()
        .assume_utc()
        + Duration::seconds(30);
    vec![
        ("23:30 local", late),
        ("00:30 local", early),
        ("00:00:30 UTC", utc_midnight),
    ]
}

fn local_today(app: &TestApp) -> String {
    ymd(app.state.today())
}

const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
const FOOD_LICENCE: &str = "食品经营许可证";

async fn type_code(app: &TestApp, name: &str) -> String {
    let types: Value = app
        .get_as(
            &app.account("demo.clerk.market").api_token,
            "/api/v1/cert-types",
        )
        .await
        .json()
        .await
        .expect("json");
    types
        .as_array()
        .and_then(|list| list.iter().find(|t| t["name"] == name))
        .and_then(|t| t["code"].as_str())
        .expect("type")
        .to_owned()
}

/// The market regulator issues a food licence to 云栖餐饮 now; the signed certificate.
async fn issue_food_licence(app: &TestApp, food: &str) -> Value {
    let yunqi = app.account("enterprise.yunqi").uscc.clone().expect("uscc");
    let body = json!({
        "type_code": food,
        "uscc": yunqi,
        "items": {"operator": "临江云栖餐饮有限公司", "main_format": "餐饮服务经营者", "scope": ["热食类食品制售"]},
    });
    let issued = app
        .post_as(
            &app.account("demo.clerk.market").api_token,
            "/api/v1/certs",
            &body,
        )
        .await;
    assert_eq!(issued.status(), 201);
    issued.json().await.expect("json")
}

#[tokio::test]
async fn a_certificate_issued_at_either_edge_of_the_day_is_valid_at_once_everywhere() {
    let app = spawn_app().await;
    let keys = issuer_keys(&app).await;
    let food = type_code(&app, FOOD_LICENCE).await;
    let tax = app.account("demo.clerk.tax").api_token.clone();
    for (edge, at) in edges(&app) {
        app.clock.set(at);
        let signed = issue_food_licence(&app, &food).await;
        let certificate = &signed["certificate"];
        // Dated by the region's calendar, and saying so.
        assert_eq!(certificate["valid_from"], local_today(&app), "{edge}");
        assert_eq!(certificate["issued_on"], local_today(&app), "{edge}");
        assert_eq!(certificate["time_zone"], "+08:00", "{edge}");
        // Offline, by the published keys, at this moment.
        let parsed: tongban_certs::SignedCertificate =
            serde_json::from_value(signed.clone()).expect("a signed certificate");
        assert_eq!(
            tongban_certs::verify(&parsed, &keys, app.now_seconds()),
            Ok(()),
            "{edge}"
        );
        // Online.
        let online: Value = app
            .post_as(
                &tax,
                "/api/v1/certs/verify",
                &json!({"certificate": signed}),
            )
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(online["status"], "valid", "{edge}: {online}");
        // In the holder's wallet.
        let wallet: Value = app
            .get_as(&app.account("enterprise.yunqi").api_token, "/api/v1/wallet")
            .await
            .json()
            .await
            .expect("json");
        let id = certificate["id"].as_str().expect("id");
        let entry = wallet
            .as_array()
            .and_then(|list| list.iter().find(|c| c["id"] == id))
            .expect("in the wallet");
        assert_eq!(entry["status"], "valid", "{edge}");
    }
}

#[tokio::test]
async fn an_annotated_copy_made_at_either_edge_of_the_day_verifies_at_once() {
    let app = spawn_app().await;
    let tax = app.account("demo.clerk.tax").api_token.clone();
    let qingyuan = app
        .account("enterprise.qingyuan")
        .uscc
        .clone()
        .expect("uscc");
    let licence = type_code(&app, "营业执照").await;
    for (edge, at) in edges(&app) {
        app.clock.set(at);
        // The licence the demo issued days before, used under the tax item's legal basis.
        let response = app
            .post_as(
                &tax,
                "/api/v1/certs/use",
                &json!({"holder": {"uscc": qingyuan}, "type_code": licence,
                        "service_code": "339900-SW-0002", "cause": "确认税务登记信息"}),
            )
            .await;
        assert_eq!(response.status(), 200, "{edge}");
        let copy: Value = response.json().await.expect("json");
        let checked: Value = app
            .post_as(&tax, "/api/v1/certs/copies/verify", &copy)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(checked["valid"], true, "{edge}: {checked}");
        // The platform's copy key is made when the first copy is.
        let keys = issuer_keys(&app).await;
        let signed: tongban_certs::copy::SignedCopy = serde_json::from_value(copy).expect("a copy");
        assert_eq!(
            tongban_certs::copy::verify(&signed, &keys, &keys, app.now_seconds()),
            Ok(()),
            "{edge}"
        );
    }
}

#[tokio::test]
async fn a_standing_grant_may_end_today_in_the_regions_calendar_not_in_utcs() {
    let app = spawn_app().await;
    let tax = app.account("demo.clerk.tax").api_token.clone();
    let holder = app.account("enterprise.qingyuan").api_token.clone();
    let qingyuan = app
        .account("enterprise.qingyuan")
        .uscc
        .clone()
        .expect("uscc");
    let licence = type_code(&app, "营业执照").await;
    let (_, early) = edges(&app)[1];
    app.clock.set(early);
    // 00:30 in Beijing: the region's today is a day after UTC's.
    let utc_today = early.to_offset(time::UtcOffset::UTC).date();
    assert_eq!(app.state.today(), utc_today + Duration::days(1));
    // A use the holder has not authorised asks them.
    let asked = app
        .post_as(
            &tax,
            "/api/v1/certs/use",
            &json!({"holder": {"uscc": qingyuan}, "type_code": licence,
                    "service_code": "339900-SW-0001", "cause": "新办纳税人核验营业执照"}),
        )
        .await;
    assert_eq!(asked.status(), 403);
    let requests: Value = app
        .get_as(&holder, "/api/v1/me/cert-authorisations")
        .await
        .json()
        .await
        .expect("json");
    let id = requests
        .as_array()
        .and_then(|list| list.iter().find(|r| r["state"] == "requested"))
        .and_then(|r| r["id"].as_str())
        .expect("a request")
        .to_owned();
    let decide = |until: String| {
        let (app, holder, id) = (&app, holder.clone(), id.clone());
        async move {
            app.post_as(
                &holder,
                &format!("/api/v1/me/cert-authorisations/{id}"),
                &json!({"decision": "until", "until": until}),
            )
            .await
            .status()
            .as_u16()
        }
    };
    // UTC's today is yesterday here.
    assert_eq!(decide(ymd(utc_today)).await, 422);
    assert_eq!(decide(local_today(&app)).await, 204);
    // The grant lasts until the end of that day in Beijing: 23:59 yes, 00:00 no.
    let (_, end) = app.state.zone().day_span(app.state.today());
    let body = json!({"holder": {"uscc": qingyuan}, "type_code": licence,
                      "service_code": "339900-SW-0001", "cause": "核验营业执照"});
    let use_it = || app.post_as(&tax, "/api/v1/certs/use", &body);
    app.clock.set(millis_to_time(end - 60_000));
    assert_eq!(use_it().await.status(), 200);
    app.clock.set(millis_to_time(end));
    assert_eq!(use_it().await.status(), 403);
}

fn millis_to_time(millis: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).expect("instant")
}

#[tokio::test]
async fn an_application_is_due_in_working_days_from_the_regions_today() {
    let app = spawn_app().await;
    let citizen = app.account("citizen.zhangwei").api_token.clone();
    let calendar = tongban_app::applications::calendar_of(&app.state, "339900")
        .await
        .expect("calendar");
    for (edge, at) in edges(&app) {
        app.clock.set(at);
        let upload: Value = app
            .client
            .post(app.url("/api/v1/uploads"))
            .bearer_auth(&citizen)
            .header("content-type", "application/octet-stream")
            .body(PNG.to_vec())
            .send()
            .await
            .expect("upload")
            .json()
            .await
            .expect("json");
        let response = app
            .post_as(
                &citizen,
                "/api/v1/services/339900-SJ-0001/applications",
                &json!({"form": {
                    "phone": "13800000000", "name": "临江市张伟小吃店",
                    "place": "临江市江北区解放路12号",
                    "business_scope": "小吃服务、预包装食品销售", "capital": "5"},
                    "uploads": {"经营场所使用证明": upload["id"]},
                    "use_certificates": true}),
            )
            .await;
        let status = response.status();
        let submitted: Value = response.json().await.expect("json");
        assert_eq!(status, 201, "{edge}: {submitted}");
        // The item promises three working days, counted from the region's today.
        let due = calendar.add_working_days(app.state.today(), 3);
        assert_eq!(submitted["due_day"], ymd(due), "{edge}: {submitted}");
    }
}

#[tokio::test]
async fn pages_show_times_in_the_regions_zone_and_say_which() {
    let app = spawn_app().await;
    let (_, early) = edges(&app)[1];
    app.clock.set(early);
    let mut browser = app.page_login(app.account("citizen.zhangwei")).await;
    let html = browser.get(&app, "/pass").await.text().await.expect("html");
    // The code expires minutes from now; the page shows that in Beijing time, on the region's
    // date (UTC is still on the day before), and names the zone.
    let expires = app.state.zone().display(
        (early + Duration::seconds(app.state.config.pass_lifetime_seconds)).unix_timestamp() * 1000,
    );
    assert!(expires.starts_with(&local_today(&app)), "{expires}");
    assert!(html.contains(&expires), "the pass page shows {expires}");
    assert!(html.contains("UTC+08:00"));
    assert!(!html.contains(" UTC<"), "no bare UTC times");
}

#[tokio::test]
async fn a_region_west_of_utc_dates_its_certificates_in_its_own_zone() {
    let zone: Zone = "-05:00".parse().expect("zone");
    let app = spawn_app_with(|config| config.time_zone = zone).await;
    let food = type_code(&app, FOOD_LICENCE).await;
    let keys = issuer_keys(&app).await;
    // 23:30 there is 04:30 UTC on the next day.
    let (_, late) = edges(&app)[0];
    app.clock.set(late);
    let signed = issue_food_licence(&app, &food).await;
    let certificate = &signed["certificate"];
    assert_eq!(certificate["time_zone"], "-05:00");
    assert_eq!(certificate["valid_from"], ymd(late.date()));
    assert_ne!(
        certificate["valid_from"],
        ymd(late.to_offset(time::UtcOffset::UTC).date())
    );
    let parsed: tongban_certs::SignedCertificate =
        serde_json::from_value(signed.clone()).expect("a signed certificate");
    assert_eq!(
        tongban_certs::verify(&parsed, &keys, app.now_seconds()),
        Ok(())
    );
}
