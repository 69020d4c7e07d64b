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

pub async fn seed(state: &AppState, city: &tongban_platform::demo::DemoCity) -> AppResult<()> {
    if !state.config.demo_ops_history {
        return Ok(());
    }
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
    // The levels' history ends at what is open now (measured first), so the chart meets the
    // live figure rather than jumping to it.
    figures::measure(state).await?;
    let hour_now = now.div_euclid(HOUR_MS) * HOUR_MS;
    let regions = [CITY.to_owned(), JIANGBEI.to_owned(), JIANGNAN.to_owned()];
    let real = figures::sums(
        state,
        figures::Grain::Hour,
        true,
        &LEVEL_KEYS,
        &regions,
        hour_now,
        hour_now + HOUR_MS,
    )
    .await?;
    let mut open = Open {
        now: real
            .into_iter()
            .map(|c| ((c.figure, c.region), c.count))
            .collect(),
        ..Open::default()
    };
    // The catalogue's resources, the ones every department asks for first (the population
    // register, enterprises, the certificate library), busiest first.
    let mut resources: Vec<(usize, String)> = figures::part_names(state)
        .await?
        .into_iter()
        .filter(|n| n.kind == figures::PartKind::Resource)
        .map(|n| {
            let rank = ["人口", "企业", "证照"]
                .iter()
                .position(|word| n.zh.contains(word))
                .unwrap_or(3);
            (rank, n.id)
        })
        .collect();
    resources.sort();
    let resources: Vec<String> = resources.into_iter().map(|(_, id)| id).collect();
    let departments: [Vec<String>; 3] = [CITY, JIANGBEI, JIANGNAN].map(|region| {
        city.departments
            .iter()
            .filter(|d| d.region_code.as_str() == region)
            .map(|d| d.id.clone())
            .collect()
    });
    let mut drawn = Vec::new();
    for d in 0..=35 {
        let day = first_day + time::Duration::days(d);
        let weekend = day.weekday().number_days_from_monday() >= 5;
        let (start, _) = zone.day_span(day);
        for hour in 0..24 {
            let at = start + hour * HOUR_MS;
            if at + HOUR_MS > now {
                break;
            }
            let (level, office) = busy(hour, weekend);
            drawn.push((
                at,
                levels(&mut open, &mut draw, at, now, office, &departments),
            ));
            let open = office;
            let add = |figure: &'static str, region: &str, n: i64| {
                if n > 0 {
                    tally.add(figure, region, at, n);
                }
            };
            let mut pass_path = 0;
            for (district, size) in [(JIANGBEI, 3), (JIANGNAN, 2)] {
                let shown = level * size * (60 + draw.next(40));
                add("pass.shown", district, shown);
                let checks = shown / 3 + draw.next(20);
                pass_path += shown + checks;
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
                add(
                    "certificates.shown",
                    district,
                    level * size * (1 + draw.next(4)),
                );
            }
            add("pass.id_checks", CITY, level * (1 + draw.next(3)));
            // The pass path at the gates' pace: a few in a thousand slower than 100 ms, a
            // handful shed at the morning peak.
            let shed = if level >= 10 { draw.next(6) } else { 0 };
            add("pass.offered", CITY, pass_path + shed);
            // Every check and decision leaves an entry in the permanent log.
            add(
                "platform.log_appends",
                CITY,
                pass_path / 4 + level * (10 + draw.next(10)),
            );
            add("pass.shed", CITY, shed);
            let slow = pass_path * draw.next(4) / 1000;
            add("pass.fast", CITY, pass_path - slow);
            // The answer times of the same requests: most within a few milliseconds, the
            // morning peak's tail longer, the slow ones past 100 ms.
            let peak = if level >= 10 { 2 } else { 1 };
            let fast = pass_path - slow;
            let mut left = fast;
            for (band, share) in [
                ("pass.latency_2ms", 220 * peak),
                ("pass.latency_5ms", 60 * peak),
                ("pass.latency_10ms", 12 * peak + draw.next(6)),
                ("pass.latency_25ms", 4 * peak + draw.next(3)),
                ("pass.latency_50ms", peak + draw.next(2)),
                ("pass.latency_100ms", draw.next(2)),
            ] {
                let n = (fast * share / 1000).min(left);
                add(band, CITY, n);
                left -= n;
            }
            add("pass.latency_1ms", CITY, left);
            let past = slow * draw.next(3) / 10;
            add("pass.latency_250ms", CITY, slow - past);
            add("pass.latency_1000ms", CITY, past);
            if open {
                // Each department's applications, and its region's as their sum: the view's
                // figures by department add up to its figures by region.
                for (region, size) in [(CITY, 24), (JIANGBEI, 8), (JIANGNAN, 6)] {
                    let departments = city
                        .departments
                        .iter()
                        .filter(|d| d.region_code.as_str() == region);
                    for (i, department) in departments.enumerate() {
                        let received = draw.next(size / (i as u64 + 1) + 1);
                        let delivered = received * 4 / 5 + draw.next(2);
                        let on_time =
                            delivered - draw.next(if i == 2 { 3 } else { 2 }).min(delivered);
                        let rated = delivered * 3 / 5;
                        let poor = draw.next(2).min(rated);
                        for (figure, n) in [
                            ("services.received", received),
                            ("services.delivered", delivered),
                            ("services.delivered_on_time", on_time),
                            ("services.rated", rated),
                            ("services.rated_poor", poor),
                            ("services.rated_good", (rated - poor - draw.next(3)).max(0)),
                            ("services.correction", received / 12 + draw.next(2)),
                            ("services.refused", draw.next(2)),
                            ("services.withdrawn", draw.next(2)),
                        ] {
                            if n > 0 {
                                add(figure, region, n);
                                tally.add_part(figure, region, &department.id, at, n);
                            }
                        }
                    }
                }
                add("certificates.issued", CITY, 4 + draw.next(12));
                add("certificates.used", CITY, 5 + draw.next(20));
                add("certificates.use_refused", CITY, draw.next(2));
                // The exchange's calls by the resource called, the busiest first.
                for (i, resource) in resources.iter().enumerate() {
                    let calls = draw.next(60 / (i as u64 + 1) + 2);
                    let failed = draw.next(if i == 1 { 4 } else { 2 }).min(calls);
                    for (figure, n) in [("exchange.calls", calls), ("exchange.failed", failed)] {
                        if n > 0 {
                            add(figure, CITY, n);
                            tally.add_part(figure, CITY, resource, at, n);
                        }
                    }
                }
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
    figures::store_levels(state, &LEVEL_KEYS, &drawn).await?;
    // Today's value is the live one again (the drawn hours replaced the day's).
    figures::measure(state).await?;
    figures::flush(state).await
}

/// The demo's open work, hour by hour: applications in progress and overdue, rectifications
/// and sharing requests waiting — rising through office hours, worked down after.
#[derive(Default)]
struct Open {
    in_progress: [i64; 3],
    rectifications: i64,
    pending: i64,
    /// The levels measured now, by figure and region.
    now: std::collections::HashMap<(String, String), i64>,
}

impl Open {
    /// A drawn level `hours_ago`, drawn toward the value now over the last day.
    fn toward_now(&self, figure: &str, region: &str, drawn: i64, hours_ago: i64) -> i64 {
        let real = self
            .now
            .get(&(figure.to_owned(), region.to_owned()))
            .copied()
            .unwrap_or(0);
        if hours_ago >= 24 {
            return drawn;
        }
        (drawn * hours_ago + real * (24 - hours_ago)) / 24
    }
}

/// `value` in `n` shares weighted 1, 1/2, 1/3 …, the remainder to the first: they sum to it.
fn split(value: i64, n: usize) -> Vec<i64> {
    let weights: Vec<i64> = (1..=n as i64).map(|i| 420 / i).collect();
    let sum: i64 = weights.iter().sum();
    let mut shares: Vec<i64> = weights.iter().map(|w| value * w / sum.max(1)).collect();
    let remainder = value - shares.iter().sum::<i64>();
    if let Some(first) = shares.first_mut() {
        *first += remainder;
    }
    shares
}

/// The levels with a drawn history (the database's size has only its live measures).
const LEVEL_KEYS: [&str; 4] = [
    "services.in_progress",
    "services.overdue",
    "services.rectifications_open",
    "exchange.grants_pending",
];

fn levels(
    open: &mut Open,
    draw: &mut Draw,
    at: i64,
    now: i64,
    office: bool,
    departments: &[Vec<String>; 3],
) -> Vec<figures::Measured> {
    let hours_ago = (now - at) / HOUR_MS;
    let regions = [CITY, JIANGBEI, JIANGNAN];
    let mut measured = Vec::new();
    for (n, region) in regions.iter().enumerate() {
        let base = [180, 60, 40][n];
        let level = &mut open.in_progress[n];
        if *level == 0 {
            *level = base;
        }
        *level = (*level
            + if office {
                draw.next(9) - 3
            } else {
                -draw.next(2)
            })
        .clamp(base / 2, base * 2);
        let in_progress = *level;
        let overdue = in_progress / 12 + draw.next(4);
        for (figure, value) in [
            ("services.in_progress", in_progress),
            ("services.overdue", overdue),
        ] {
            let value = open.toward_now(figure, region, value, hours_ago);
            measured.push(figures::Measured {
                figure,
                region: (*region).to_owned(),
                part: None,
                value,
            });
            // The region's open work shared among its departments, the first busiest.
            for (department, share) in departments[n]
                .iter()
                .zip(split(value, departments[n].len()))
            {
                measured.push(figures::Measured {
                    figure,
                    region: (*region).to_owned(),
                    part: Some(department.clone()),
                    value: share,
                });
            }
        }
    }
    if office {
        open.rectifications = (open.rectifications + draw.next(3) - 1).clamp(2, 30);
        open.pending = (open.pending + draw.next(3) - 1).clamp(0, 12);
    }
    for (figure, value) in [
        ("services.rectifications_open", open.rectifications),
        ("exchange.grants_pending", open.pending),
    ] {
        measured.push(figures::Measured {
            figure,
            region: CITY.to_owned(),
            part: None,
            value: open.toward_now(figure, CITY, value, hours_ago),
        });
    }
    measured
}
