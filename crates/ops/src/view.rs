//! The operations view of one region over one period: every figure the modules keep, as a
//! series over the period (hours of a day, days of a week or a month) and as a breakdown by
//! the regions directly under it, each line published through [`crate::suppress`]. Read from
//! the figures' hourly rows (`ops_counts`): a view of a city over a month reads at most
//! figures × regions × 744 rows, however many applications or check-ins lie behind them.

use std::collections::HashMap;

use serde::Serialize;
use tongban_core::RegionCode;
use tongban_platform::figures::{self, Distribution, Figure, HOUR_MS, Rate};

use crate::authz::{Action, Resource, can};
use crate::error::{AppError, AppResult};
use crate::identity::model::{Actor, Role};
use crate::state::AppState;
use crate::suppress::{self, Shown};

/// The span a view covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// One day, by hour.
    Day,
    /// The week (Monday to Sunday) of the date, by day.
    Week,
    /// The calendar month of the date, by day.
    Month,
}

impl Period {
    pub fn parse(text: &str) -> AppResult<Period> {
        match text.trim() {
            "" | "day" => Ok(Period::Day),
            "week" => Ok(Period::Week),
            "month" => Ok(Period::Month),
            _ => Err(AppError::invalid("period", "day, week or month")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }
}

/// What a view is asked for.
#[derive(Debug, Clone)]
pub struct Ask {
    pub region: String,
    pub period: Period,
    /// A day in the period, in the deployment's time zone.
    pub date: time::Date,
    /// The figures to show (keys); all when empty.
    pub figures: Vec<String>,
    /// Names in English rather than Chinese.
    pub english: bool,
}

/// A number as published: `null` when hidden (below the threshold, or hidden so that another
/// hidden number cannot be worked out).
pub type Published = Option<i64>;

/// One point of a series.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Point {
    /// `00:00` … `23:00` for a day; `YYYY-MM-DD` for a week or a month.
    pub label: String,
    /// The bucket's start, RFC 3339.
    pub start: String,
    pub value: Published,
    /// False for a level's bucket in which it was not measured (the hours to come): the value
    /// is unknown, not hidden.
    pub measured: bool,
}

/// What a figure is: a count of events over each bucket (summed over the period), or a level —
/// how many there were at the bucket's last measure (its total is the level now).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FigureKind {
    Count,
    Level,
}

/// A rate of the view, in percent to one decimal: `of` out of `per`, worked out from the two
/// figures as published, so shown only where both are.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RateView {
    pub key: String,
    pub group: String,
    pub name: String,
    /// The numerator's and the denominator's figure keys.
    pub of: String,
    pub per: String,
    pub value: Option<f64>,
    pub series: Vec<RatePoint>,
    pub breakdown: Vec<RatePart>,
    /// By department or resource, where both figures are kept so.
    pub parts: Vec<FigurePartRate>,
}

/// A rate of one department or resource.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FigurePartRate {
    pub id: String,
    pub name: String,
    pub value: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RatePoint {
    pub label: String,
    pub value: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RatePart {
    pub region: String,
    pub name: String,
    pub value: Option<f64>,
}

/// `of` out of `per` in percent, to one decimal; none when either is hidden or `per` is 0.
pub fn percent(of: Published, per: Published) -> Option<f64> {
    match (of, per) {
        (Some(of), Some(per)) if per > 0 => {
            Some((of * 1000 + per / 2).div_euclid(per) as f64 / 10.0)
        }
        _ => None,
    }
}

fn rate_view(rate: &Rate, views: &[FigureView], english: bool) -> Option<RateView> {
    let of = views.iter().find(|v| v.key == rate.of)?;
    let per = views.iter().find(|v| v.key == rate.per)?;
    Some(RateView {
        key: rate.key.to_owned(),
        group: rate.group.to_owned(),
        name: if english { rate.en } else { rate.zh }.to_owned(),
        of: rate.of.to_owned(),
        per: rate.per.to_owned(),
        value: percent(of.total, per.total),
        series: of
            .series
            .iter()
            .zip(&per.series)
            .map(|(a, b)| RatePoint {
                label: a.label.clone(),
                value: percent(a.value, b.value),
            })
            .collect(),
        breakdown: of
            .breakdown
            .iter()
            .filter_map(|a| {
                let b = per.breakdown.iter().find(|b| b.region == a.region)?;
                Some(RatePart {
                    region: a.region.clone(),
                    name: a.name.clone(),
                    value: percent(a.value, b.value),
                })
            })
            .collect(),
        parts: {
            let mut parts: Vec<FigurePartRate> = of
                .parts
                .iter()
                .filter_map(|a| {
                    let b = per.parts.iter().find(|b| b.id == a.id)?;
                    Some(FigurePartRate {
                        id: a.id.clone(),
                        name: a.name.clone(),
                        value: percent(a.value, b.value),
                    })
                })
                .collect();
            // Highest rate first, the hidden last, by name among equals.
            parts.sort_by(|x, y| {
                y.value
                    .partial_cmp(&x.value)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| x.name.cmp(&y.name))
            });
            parts
        },
    })
}

/// What a view shows: figures, the rates worked out from them, the distributions counted in
/// their bands.
type Chosen = (Vec<Figure>, Vec<Rate>, Vec<Distribution>);

/// The figures, rates and distributions asked for (keys of any; a rate brings its two
/// figures, a distribution its bands), all when none is named.
fn choose(state: &AppState, asked: &[String]) -> AppResult<Chosen> {
    let declared = figures::declared(state);
    let all_rates = figures::rates(state);
    let all_distributions = figures::distributions(state);
    if asked.is_empty() {
        return Ok((declared, all_rates, all_distributions));
    }
    let mut chosen: Vec<Figure> = Vec::new();
    let mut rates: Vec<Rate> = Vec::new();
    let mut distributions: Vec<Distribution> = Vec::new();
    let find = |key: &str| {
        declared
            .iter()
            .find(|f| f.key == key)
            .copied()
            .ok_or_else(|| AppError::invalid("figures", format!("no figure {key}")))
    };
    for key in asked {
        let wanted = if let Some(rate) = all_rates.iter().find(|r| r.key == key.as_str()) {
            if !rates.contains(rate) {
                rates.push(*rate);
            }
            vec![find(rate.of)?, find(rate.per)?]
        } else if let Some(distribution) = all_distributions.iter().find(|d| d.key == key.as_str())
        {
            if !distributions.contains(distribution) {
                distributions.push(*distribution);
            }
            distribution
                .bands
                .iter()
                .map(|(band, _)| find(band))
                .collect::<AppResult<Vec<_>>>()?
        } else {
            vec![find(key)?]
        };
        for figure in wanted {
            if !chosen.contains(&figure) {
                chosen.push(figure);
            }
        }
    }
    Ok((chosen, rates, distributions))
}

/// A distribution of the view (the pass path's answer times): its quantiles over the period
/// and in each bucket, and its counts by band.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DistributionView {
    pub key: String,
    pub group: String,
    pub name: String,
    /// The unit of the bounds (`ms`).
    pub unit: String,
    /// p50, p95 and p99 over the period.
    pub quantiles: Vec<Quantile>,
    /// p50, p95 and p99 in each bucket of the period.
    pub series: Vec<QuantilePoint>,
    /// The counts by band over the period, from the lowest.
    pub bands: Vec<BandCount>,
}

/// A quantile, as the bound of the band it falls in: `at_most` 5 reads "p99 ≤ 5 ms"; in the
/// last band (no bound) `above` the last bound; both none when nothing was counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Quantile {
    /// `p50`, `p95`, `p99`.
    pub name: String,
    pub at_most: Option<i64>,
    pub above: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuantilePoint {
    pub label: String,
    pub quantiles: Vec<Quantile>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BandCount {
    /// The band's figure key.
    pub figure: String,
    /// Its upper bound; none for the last band.
    pub up_to: Option<i64>,
    pub count: i64,
}

/// The quantiles shown of a distribution.
const QUANTILES: [(&str, i64); 3] = [("p50", 50), ("p95", 95), ("p99", 99)];

/// The quantiles of counts by band (`bands`: upper bounds, the last none): each the bound of
/// the lowest band where the running count reaches the quantile's share of the whole.
pub fn quantiles(bands: &[Option<i64>], counts: &[i64]) -> Vec<Quantile> {
    let whole: i64 = counts.iter().map(|c| (*c).max(0)).sum();
    let last_bound = bands.iter().rev().find_map(|b| *b);
    QUANTILES
        .iter()
        .map(|(name, percent)| {
            // The rank of the quantile, 1-based: ⌈whole × percent / 100⌉.
            let rank = (whole * percent + 99) / 100;
            let mut running = 0;
            let band = (whole > 0)
                .then(|| {
                    bands.iter().zip(counts).find(|(_, c)| {
                        running += (**c).max(0);
                        running >= rank
                    })
                })
                .flatten();
            let (at_most, above) = match band {
                Some((Some(bound), _)) => (Some(*bound), None),
                Some((None, _)) => (None, last_bound),
                None => (None, None),
            };
            Quantile {
                name: (*name).to_owned(),
                at_most,
                above,
            }
        })
        .collect()
}

fn distribution_view(
    distribution: &Distribution,
    views: &[FigureView],
    english: bool,
) -> Option<DistributionView> {
    let bands: Vec<&FigureView> = distribution
        .bands
        .iter()
        .map(|(key, _)| views.iter().find(|v| v.key == *key))
        .collect::<Option<_>>()?;
    let bounds: Vec<Option<i64>> = distribution.bands.iter().map(|(_, b)| *b).collect();
    let buckets = bands.first().map_or(0, |b| b.series.len());
    Some(DistributionView {
        key: distribution.key.to_owned(),
        group: distribution.group.to_owned(),
        name: if english {
            distribution.en
        } else {
            distribution.zh
        }
        .to_owned(),
        unit: distribution.unit.to_owned(),
        quantiles: quantiles(
            &bounds,
            &bands
                .iter()
                .map(|b| b.total.unwrap_or(0))
                .collect::<Vec<_>>(),
        ),
        series: (0..buckets)
            .map(|at| QuantilePoint {
                label: bands[0].series[at].label.clone(),
                quantiles: quantiles(
                    &bounds,
                    &bands
                        .iter()
                        .map(|b| b.series.get(at).and_then(|p| p.value).unwrap_or(0))
                        .collect::<Vec<_>>(),
                ),
            })
            .collect(),
        bands: bands
            .iter()
            .zip(&bounds)
            .map(|(band, up_to)| BandCount {
                figure: band.key.clone(),
                up_to: *up_to,
                count: band.total.unwrap_or(0),
            })
            .collect(),
    })
}

/// One region's part of a figure.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegionPart {
    /// The region's code; the viewed region itself for what was counted there directly (a
    /// city's own departments), not under any region below it.
    pub region: String,
    pub name: String,
    pub value: Published,
}

/// One figure of the view.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FigureView {
    pub key: String,
    pub group: String,
    pub name: String,
    /// Whether it counts what persons did (and hides counts below `k`).
    pub about_persons: bool,
    pub kind: FigureKind,
    /// False for a level never measured in the period.
    pub measured: bool,
    /// A count's sum over the period; a level's value at its last measure.
    pub total: Published,
    pub series: Vec<Point>,
    pub breakdown: Vec<RegionPart>,
    /// What `parts` are: `department` or `resource`; none for a figure not kept by part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part_kind: Option<String>,
    /// The figure over the period by department (the one that did the work) or by resource
    /// (the one called), most first; hidden ones last. A department's count of persons is
    /// hidden below k, with another beside it in its region, and every department of a
    /// region whose count is hidden is hidden too.
    pub parts: Vec<FigurePart>,
}

/// One department's or resource's part of a figure.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FigurePart {
    pub id: String,
    pub name: String,
    pub value: Published,
}

/// A region under the viewed one, to drill down to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Below {
    pub code: String,
    pub name: String,
}

/// The operations view of a region over a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OpsView {
    pub region: String,
    pub region_name: String,
    /// The region above, if the viewer's scope reaches it.
    pub parent: Option<String>,
    pub period: Period,
    /// The first and the last day of the period, `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
    /// Counts of persons below this are hidden.
    pub k: i64,
    pub figures: Vec<FigureView>,
    pub rates: Vec<RateView>,
    pub distributions: Vec<DistributionView>,
    pub below: Vec<Below>,
    /// When the view was read, RFC 3339: counts reach the view within seconds of the event.
    pub read_at: String,
}

/// The buckets of a period: (label, start, end) in Unix milliseconds.
fn buckets(state: &AppState, period: Period, date: time::Date) -> Vec<(String, i64, i64)> {
    let zone = state.zone();
    let days = |first: time::Date, count: u8| -> Vec<(String, i64, i64)> {
        (0..count)
            .filter_map(|n| first.checked_add(time::Duration::days(i64::from(n))))
            .map(|day| {
                let (from, to) = zone.day_span(day);
                (tongban_core::zone::ymd(day), from, to)
            })
            .collect()
    };
    match period {
        Period::Day => {
            let (from, _) = zone.day_span(date);
            (0..24)
                .map(|hour| {
                    let start = from + hour * HOUR_MS;
                    (format!("{hour:02}:00"), start, start + HOUR_MS)
                })
                .collect()
        }
        Period::Week => {
            let monday = date
                .checked_sub(time::Duration::days(i64::from(
                    date.weekday().number_days_from_monday(),
                )))
                .unwrap_or(date);
            days(monday, 7)
        }
        Period::Month => {
            let first = date.replace_day(1).unwrap_or(date);
            days(first, date.month().length(date.year()))
        }
    }
}

/// The widest region the actor views operations of, if they may view any: where `/ops`
/// opens for them.
pub fn home_region(actor: &Actor) -> Option<RegionCode> {
    actor
        .grants
        .iter()
        .filter(|g| {
            matches!(
                g.role,
                Role::SystemAdmin | Role::DeptAdmin | Role::HealthOfficer | Role::DutyOfficer
            )
        })
        .filter_map(|g| g.scope.region().cloned())
        .filter(|code| may_view(actor, code))
        .min_by_key(|code| code.as_str().trim_end_matches('0').len())
}

/// The regions the viewer may see: those their scope reaches.
pub fn may_view(actor: &Actor, region: &RegionCode) -> bool {
    can(actor, Action::ViewOperations, Resource::Region(region))
}

/// The view, for an actor whose scope reaches the region.
pub async fn view(state: &AppState, actor: &Actor, ask: &Ask) -> AppResult<OpsView> {
    // Someone with no operations view anywhere learns nothing, not even what a good question is.
    if home_region(actor).is_none() {
        return Err(AppError::Forbidden);
    }
    let code: RegionCode = ask
        .region
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("region", "a region code of six to twelve digits"))?;
    let regions = crate::admin::directory::regions(state).await?;
    let Some(region) = regions.iter().find(|r| r.code == code) else {
        return Err(AppError::invalid("region", "no such region"));
    };
    if !may_view(actor, &code) {
        return Err(AppError::Forbidden);
    }
    let (chosen, rates, distributions) = choose(state, &ask.figures)?;
    let name_of = |r: &tongban_platform::admin::store::Region| {
        if ask.english {
            r.name_en.clone()
        } else {
            r.name.clone()
        }
    };
    let below: Vec<&tongban_platform::admin::store::Region> = regions
        .iter()
        .filter(|r| r.parent_code.as_deref() == Some(code.as_str()))
        .collect();
    let within = within_of(&regions, &code);
    let spans = buckets(state, ask.period, ask.date);
    let (from, to) = match (spans.first(), spans.last()) {
        (Some(first), Some(last)) => (first.1, last.2),
        _ => return Err(AppError::invalid("date", "no such period")),
    };
    let is_level = |f: &Figure| figures::is_level(state, f.key);
    let keys: Vec<&str> = chosen.iter().map(|f| f.key).collect();
    let counted: Vec<&str> = chosen
        .iter()
        .filter(|f| !is_level(f))
        .map(|f| f.key)
        .collect();
    let levels: Vec<&str> = chosen
        .iter()
        .filter(|f| is_level(f))
        .map(|f| f.key)
        .collect();
    let grain = match ask.period {
        Period::Day => figures::Grain::Hour,
        Period::Week | Period::Month => figures::Grain::Day,
    };
    let parted: Vec<&str> = chosen
        .iter()
        .filter(|f| f.by.is_some() && !is_level(f))
        .map(|f| f.key)
        .collect();
    let (by_time, mut by_region, measured, mut by_part_rows) = tokio::try_join!(
        figures::sums(state, grain, false, &keys, &within, from, to),
        figures::sums(state, grain, true, &counted, &within, from, to),
        figures::measured_buckets(state, grain, &levels, from, to),
        figures::part_sums(state, &parted, &within, from, to),
    )?;
    let part_names = if chosen.iter().all(|f| f.by.is_none()) {
        Vec::new()
    } else {
        figures::part_names(state).await?
    };
    // The buckets in which each level was measured; by region, a level is its value in the
    // last of them (now, for today).
    let measured_at: HashMap<&str, Vec<bool>> = levels
        .iter()
        .map(|key| {
            let at = spans
                .iter()
                .map(|(_, start, end)| {
                    measured
                        .iter()
                        .any(|(f, m)| f == key && m >= start && m < end)
                })
                .collect();
            (*key, at)
        })
        .collect();
    let last_of = |key: &str| {
        measured_at
            .get(key)
            .and_then(|at| at.iter().rposition(|m| *m))
    };
    let mut lasts: Vec<usize> = levels.iter().filter_map(|key| last_of(key)).collect();
    lasts.sort_unstable();
    lasts.dedup();
    for last in lasts {
        let keys: Vec<&str> = levels
            .iter()
            .copied()
            .filter(|key| last_of(key) == Some(last))
            .collect();
        let (_, start, end) = &spans[last];
        by_region.extend(figures::sums(state, grain, true, &keys, &within, *start, *end).await?);
        // A level's parts (a department's applications in progress) are kept as each day's
        // last measure: the day of the last measured bucket.
        let level_parts: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|key| chosen.iter().any(|f| f.key == *key && f.by.is_some()))
            .collect();
        let (day_from, day_to) = match ask.period {
            Period::Day => (from, to),
            Period::Week | Period::Month => (*start, *end),
        };
        by_part_rows
            .extend(figures::part_sums(state, &level_parts, &within, day_from, day_to).await?);
    }
    // Which part of the breakdown each counted region falls in: the region below that holds
    // it, or the viewed region itself.
    let part_of: HashMap<&str, usize> = within
        .iter()
        .map(|w| {
            let part = below
                .iter()
                .position(|b| {
                    b.code.as_str() == w.as_str()
                        || regions
                            .iter()
                            .find(|r| r.code.as_str() == w.as_str())
                            .is_some_and(|r| within_region(&regions, r, &b.code))
                })
                .unwrap_or(below.len());
            (w.as_str(), part)
        })
        .collect();
    let k = state.config.statistics_k.max(1);
    let zone = state.zone();
    let mut views = Vec::with_capacity(chosen.len());
    for figure in &chosen {
        let level = is_level(figure);
        let mut by_bucket = vec![0_i64; spans.len()];
        let mut by_part = vec![0_i64; below.len() + 1];
        for row in by_time.iter().filter(|r| r.figure == figure.key) {
            if let Some(at) = spans
                .iter()
                .position(|(_, start, end)| row.hour >= *start && row.hour < *end)
            {
                by_bucket[at] += row.count;
            }
        }
        for row in by_region.iter().filter(|r| r.figure == figure.key) {
            if let Some(part) = part_of.get(row.region.as_str()) {
                by_part[*part] += row.count;
            }
        }
        let publish = |cells: &[i64]| {
            if figure.about_persons {
                suppress::line(cells, k)
            } else {
                suppress::open_line(cells)
            }
        };
        let parts = publish(&by_part);
        // A count's two lines share their total: hidden in one, hidden in both. A level's
        // total is its value now, the sum of its parts; its hours are each a level, none a
        // part of a published sum, each hidden alone below k.
        let last_measured = last_of(figure.key);
        let (series, total): (Vec<Option<Shown>>, Published) = if level {
            let measured_at = measured_at.get(figure.key).cloned().unwrap_or_default();
            let cells = if figure.about_persons {
                suppress::each(&by_bucket, k)
            } else {
                suppress::open_line(&by_bucket).cells
            };
            let mut series: Vec<Option<Shown>> = cells
                .into_iter()
                .zip(&measured_at)
                .map(|(shown, measured)| measured.then_some(shown))
                .collect();
            let total = last_measured.and(parts.total.value());
            // The last hour is the total: hidden in one, hidden in both.
            if let Some(last) = last_measured
                && total.is_none()
            {
                series[last] = Some(Shown::Hidden);
            }
            (series, total)
        } else {
            let line = publish(&by_bucket);
            let total = match (line.total, parts.total) {
                (Shown::Value(v), Shown::Value(_)) => Some(v),
                _ => None,
            };
            (line.cells.into_iter().map(Some).collect(), total)
        };
        let unmeasured = level && last_measured.is_none();
        let mut breakdown: Vec<RegionPart> = below
            .iter()
            .zip(&parts.cells)
            .map(|(b, shown)| RegionPart {
                region: b.code.as_str().to_owned(),
                name: name_of(b),
                value: if unmeasured { None } else { shown.value() },
            })
            .collect();
        // What was counted in the region itself, when there was any.
        if let Some(own) = parts.cells.last()
            && by_part.last().is_some_and(|n| *n != 0)
        {
            breakdown.push(RegionPart {
                region: code.as_str().to_owned(),
                name: format!(
                    "{}{}",
                    name_of(region),
                    if ask.english { " (itself)" } else { "本级" }
                ),
                value: own.value(),
            });
        }
        let kept_by = match figure.by.filter(|_| !unmeasured) {
            Some(kind) => {
                let rows: Vec<&figures::PartCount> = by_part_rows
                    .iter()
                    .filter(|r| r.figure == figure.key)
                    .collect();
                let named = |id: &str| {
                    part_names
                        .iter()
                        .find(|n| n.kind == kind && n.id == id)
                        .map(|n| if ask.english { &n.en } else { &n.zh }.clone())
                        .unwrap_or_else(|| id.to_owned())
                };
                publish_parts(
                    &rows,
                    &part_of,
                    &parts.cells,
                    figure.about_persons,
                    k,
                    named,
                )
            }
            None => Vec::new(),
        };
        views.push(FigureView {
            key: figure.key.to_owned(),
            group: figure.group.to_owned(),
            name: if ask.english { figure.en } else { figure.zh }.to_owned(),
            about_persons: figure.about_persons,
            kind: if level {
                FigureKind::Level
            } else {
                FigureKind::Count
            },
            measured: !unmeasured,
            total,
            series: spans
                .iter()
                .zip(&series)
                .map(|((label, start, _), shown)| Point {
                    label: label.clone(),
                    start: crate::time_fmt::rfc3339(*start),
                    value: shown.and_then(Shown::value),
                    measured: shown.is_some(),
                })
                .collect(),
            breakdown,
            part_kind: figure.by.map(|kind| kind.as_str().to_owned()),
            parts: kept_by,
        });
    }
    let rates = rates
        .iter()
        .filter_map(|rate| rate_view(rate, &views, ask.english))
        .collect();
    let distributions = distributions
        .iter()
        .filter_map(|d| distribution_view(d, &views, ask.english))
        .collect();
    let parent = region
        .parent_code
        .as_deref()
        .and_then(|p| p.parse::<RegionCode>().ok())
        .filter(|p| may_view(actor, p))
        .map(|p| p.as_str().to_owned());
    let last_day = zone.at(to - 1).date();
    let first_day = zone.at(from).date();
    Ok(OpsView {
        region: code.as_str().to_owned(),
        region_name: name_of(region),
        parent,
        period: ask.period,
        from: tongban_core::zone::ymd(first_day),
        to: tongban_core::zone::ymd(last_day),
        k,
        figures: views,
        rates,
        distributions,
        below: below
            .iter()
            .map(|b| Below {
                code: b.code.as_str().to_owned(),
                name: name_of(b),
            })
            .collect(),
        read_at: crate::time_fmt::rfc3339(state.now()),
    })
}

/// A figure's counts by part (department, resource), as they may be published. Parts fall in
/// the region breakdown's parts (`part_of`, whose published cells are `regions`); for counts of
/// persons each region's parts are published as a line of their own (hidden below k, with a
/// second hidden beside a lone one), and all of them hidden where the region's count is, so
/// that no hidden count of a region or a part can be worked out from the others.
fn publish_parts(
    rows: &[&figures::PartCount],
    part_of: &HashMap<&str, usize>,
    regions: &[Shown],
    about_persons: bool,
    k: i64,
    named: impl Fn(&str) -> String,
) -> Vec<FigurePart> {
    // By region part, then part id: a department or resource counted in several regions
    // below one part is one cell there.
    let mut groups: std::collections::BTreeMap<usize, std::collections::BTreeMap<&str, i64>> =
        std::collections::BTreeMap::new();
    for row in rows {
        if let Some(group) = part_of.get(row.region.as_str()) {
            *groups
                .entry(*group)
                .or_default()
                .entry(row.part.as_str())
                .or_insert(0) += row.count;
        }
    }
    let mut out: Vec<(Published, FigurePart)> = Vec::new();
    for (group, cells) in &groups {
        let counts: Vec<i64> = cells.values().copied().collect();
        let shown: Vec<Shown> = if !about_persons {
            suppress::open_line(&counts).cells
        } else if regions.get(*group).is_none_or(|r| r.value().is_none()) {
            vec![Shown::Hidden; counts.len()]
        } else {
            suppress::line(&counts, k).cells
        };
        for ((id, _), shown) in cells.iter().zip(shown) {
            let value = shown.value();
            out.push((
                value,
                FigurePart {
                    id: (*id).to_owned(),
                    name: named(id),
                    value,
                },
            ));
        }
    }
    // Most first, the hidden last, by name among equals.
    out.sort_by(|(a, x), (b, y)| b.cmp(a).then_with(|| x.name.cmp(&y.name)));
    out.into_iter().map(|(_, part)| part).collect()
}

/// The codes of a region and of every region under it.
pub(crate) fn within_of(
    regions: &[tongban_platform::admin::store::Region],
    code: &RegionCode,
) -> Vec<String> {
    regions
        .iter()
        .filter(|r| r.code == *code || within_region(regions, r, code))
        .map(|r| r.code.as_str().to_owned())
        .collect()
}

/// Whether region `r` lies under `above` in the region tree (following parents).
fn within_region(
    regions: &[tongban_platform::admin::store::Region],
    r: &tongban_platform::admin::store::Region,
    above: &RegionCode,
) -> bool {
    let mut parent = r.parent_code.as_deref();
    // A tree deeper than the five levels of the code is a loop in the data.
    for _ in 0..8 {
        match parent {
            Some(p) if p == above.as_str() => return true,
            Some(p) => {
                parent = regions
                    .iter()
                    .find(|x| x.code.as_str() == p)
                    .and_then(|x| x.parent_code.as_deref())
            }
            None => return false,
        }
    }
    false
}

/// A declared figure or rate, for the API's list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FigureInfo {
    pub key: String,
    pub group: String,
    pub zh: String,
    pub en: String,
    pub about_persons: bool,
    /// `count`, `level`, `rate` or `distribution`.
    pub kind: String,
    /// A rate's numerator and denominator figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub of: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per: Option<String>,
    /// A distribution's bands: their figures, from the lowest.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bands: Vec<String>,
}

pub fn declared(state: &AppState) -> Vec<FigureInfo> {
    let figures = figures::declared(state);
    let mut list: Vec<FigureInfo> = figures
        .iter()
        .map(|f| FigureInfo {
            key: f.key.to_owned(),
            group: f.group.to_owned(),
            zh: f.zh.to_owned(),
            en: f.en.to_owned(),
            about_persons: f.about_persons,
            kind: if figures::is_level(state, f.key) {
                "level"
            } else {
                "count"
            }
            .to_owned(),
            of: None,
            per: None,
            bands: Vec::new(),
        })
        .collect();
    list.extend(figures::rates(state).into_iter().map(|r| {
        FigureInfo {
            key: r.key.to_owned(),
            group: r.group.to_owned(),
            zh: r.zh.to_owned(),
            en: r.en.to_owned(),
            about_persons: figures
                .iter()
                .any(|f| (f.key == r.of || f.key == r.per) && f.about_persons),
            kind: "rate".to_owned(),
            of: Some(r.of.to_owned()),
            per: Some(r.per.to_owned()),
            bands: Vec::new(),
        }
    }));
    list.extend(
        figures::distributions(state)
            .into_iter()
            .map(|d| FigureInfo {
                key: d.key.to_owned(),
                group: d.group.to_owned(),
                zh: d.zh.to_owned(),
                en: d.en.to_owned(),
                about_persons: false,
                kind: "distribution".to_owned(),
                of: None,
                per: None,
                bands: d.bands.iter().map(|(b, _)| (*b).to_owned()).collect(),
            }),
    );
    list
}

/// Today's view of a region as Prometheus text: per figure, the count of each region below it
/// and of the region itself, as published in the view (hidden counts are left out), so that
/// Grafana shows what the view shows and nothing it hides.
pub async fn prometheus(state: &AppState, actor: &Actor, region: &str) -> AppResult<String> {
    let today = view(
        state,
        actor,
        &Ask {
            region: region.to_owned(),
            period: Period::Day,
            date: state.today(),
            figures: Vec::new(),
            english: true,
        },
    )
    .await?;
    let mut out = String::new();
    out.push_str("# HELP tongban_ops_today Today's count of a figure in a region (local day), as the operations view publishes it.\n");
    out.push_str("# TYPE tongban_ops_today gauge\n");
    for figure in &today.figures {
        if let Some(total) = figure.total {
            out.push_str(&format!(
                "tongban_ops_today{{figure=\"{}\",region=\"{}\",scope=\"total\"}} {total}\n",
                figure.key, today.region
            ));
        }
        for part in &figure.breakdown {
            if let Some(value) = part.value {
                out.push_str(&format!(
                    "tongban_ops_today{{figure=\"{}\",region=\"{}\",scope=\"part\"}} {value}\n",
                    figure.key, part.region
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(q: &[Quantile]) -> Vec<(Option<i64>, Option<i64>)> {
        q.iter().map(|q| (q.at_most, q.above)).collect()
    }

    #[test]
    fn a_quantile_is_the_bound_of_the_band_it_falls_in() {
        let bands = [Some(1), Some(5), Some(100), None];
        // 100 answers: 60 within 1 ms, 36 within 5, 3 within 100, 1 slower.
        let q = quantiles(&bands, &[60, 36, 3, 1]);
        assert_eq!(
            q.iter().map(|q| q.name.as_str()).collect::<Vec<_>>(),
            ["p50", "p95", "p99"]
        );
        assert_eq!(
            read(&q),
            [(Some(1), None), (Some(5), None), (Some(100), None)]
        );
        // The 99th of 100 is the first slower than 100 ms when two are.
        assert_eq!(
            read(&quantiles(&bands, &[60, 36, 2, 2]))[2],
            (None, Some(100))
        );
        // Nothing counted: no quantile.
        assert_eq!(read(&quantiles(&bands, &[0, 0, 0, 0]))[0], (None, None));
        // One answer: every quantile is its band.
        assert_eq!(
            read(&quantiles(&bands, &[0, 1, 0, 0])),
            [(Some(5), None); 3]
        );
    }
}
