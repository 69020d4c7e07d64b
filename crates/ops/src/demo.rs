//! The demo city's operations history: five weeks of hourly figures for the city and its two
//! districts, shaped as a city's days are (quiet nights, a morning and an afternoon peak,
//! services closed at weekends), so that the view has something to show on its first start.
//! The live figures of the demo's own requests add to them. Seeded once: not when any figure
//! is already stored.

use tongban_platform::demo::{CITY, JIANGBEI, JIANGNAN};
use tongban_platform::figures::{self, HOUR_MS, Tally};

use crate::error::AppResult;
use crate::state::AppState;

/// A small deterministic generator, so the demo's figures are the same on every start.
struct Draw(u64);

impl Draw {
    fn next(&mut self, high: u64) -> i64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % high.max(1)) as i64
    }
}

/// How busy an hour of the day is, 0–10, and whether offices are open.
fn busy(hour: i64, weekend: bool) -> (i64, bool) {
    let level = match hour {
        0..=5 => 0,
        6 | 22 | 23 => 2,
        7 | 8 => 8,
        9..=11 => 10,
        12 | 13 => 7,
        14..=17 => 9,
        18 | 19 => 6,
        _ => 4,
    };
    let open = !weekend && (9..=17).contains(&hour) && hour != 12;
    (level, open)
}

pub async fn seed(state: &AppState, _city: &tongban_platform::demo::DemoCity) -> AppResult<()> {
    let stored = crate::store::any_figures(state.pool()).await?;
    let Some(tally) = state.try_module::<Tally>() else {
        return Ok(());
    };
    if stored {
        return Ok(());
    }
    let zone = state.zone();
    let now = state.now();
    let first_day = state.today() - time::Duration::days(35);
    let mut draw = Draw(2026);
    for d in 0..=35 {
        let day = first_day + time::Duration::days(d);
        let weekend = day.weekday().number_days_from_monday() >= 5;
        let (start, _) = zone.day_span(day);
        for hour in 0..24 {
            let at = start + hour * HOUR_MS;
            if at + HOUR_MS > now {
                break;
            }
            let (level, open) = busy(hour, weekend);
            let add = |figure: &'static str, region: &str, n: i64| {
                if n > 0 {
                    tally.add(figure, region, at, n);
                }
            };
            for (district, size) in [(JIANGBEI, 3), (JIANGNAN, 2)] {
                let shown = level * size * (60 + draw.next(40));
                add("pass.shown", district, shown);
                let checks = shown / 3 + draw.next(20);
                add("pass.checks", district, checks);
                add("pass.checked_yellow", district, checks / 120 + draw.next(3));
                add(
                    "pass.checked_red",
                    district,
                    draw.next(if level > 5 { 3 } else { 1 }),
                );
                add("pass.not_admitted", district, draw.next(4));
                add(
                    "checkins.recorded",
                    district,
                    checks * 2 / 3 + draw.next(30),
                );
            }
            add("pass.id_checks", CITY, level * (1 + draw.next(3)));
            if open {
                let received = 8 + draw.next(25);
                add("services.received", CITY, received);
                add("services.received", JIANGBEI, 2 + draw.next(8));
                add("services.received", JIANGNAN, 1 + draw.next(6));
                add("services.delivered", CITY, received * 4 / 5 + draw.next(4));
                add("services.correction", CITY, received / 12 + draw.next(2));
                add("services.refused", CITY, draw.next(3));
                add("services.withdrawn", CITY, draw.next(2));
                add("certificates.issued", CITY, received / 2 + draw.next(5));
                add("certificates.used", CITY, 5 + draw.next(20));
                add("certificates.use_refused", CITY, draw.next(2));
                add("exchange.calls", CITY, 20 + draw.next(80));
                add("exchange.failed", CITY, draw.next(4));
            }
            add("opendata.downloads", CITY, level * draw.next(3));
            add("opendata.api_calls", CITY, level * (1 + draw.next(6)));
            add(
                "platform.requests",
                CITY,
                level * (400 + draw.next(600)) + 50,
            );
            add(
                "platform.errors",
                CITY,
                draw.next(if level > 8 { 2 } else { 1 }),
            );
        }
    }
    figures::flush(state).await
}
