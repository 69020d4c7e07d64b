//! The operations view's pages (`/ops`): a region's figures over a day, a week or a month,
//! grouped by module, each with its total, a chart of the period and a chart of the regions
//! below (drawn on the server as SVG), and the same numbers in a table for screen readers.
//! The figures refresh in place every thirty seconds; links drill down to a district and back.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::state::AppState;
use crate::view::{self, OpsView, Period};
use crate::web::extract::PageQuery;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new().route("/ops", get(ops_page)).route(
        "/ops/alerts/{id}/acknowledge",
        axum::routing::post(acknowledge),
    )
}

/// The open alerts on a viewer's workbench.
#[derive(Template)]
#[template(path = "ops_alerts_section.html")]
struct AlertsSection {
    t: crate::web::i18n::Tr,
    csrf: String,
    alerts: Vec<crate::alerts::Alert>,
    /// When each was raised, in the deployment's zone.
    raised: Vec<String>,
}

pub async fn home_sections(
    home: crate::module::Home,
    state: &AppState,
    ctx: &crate::module::HomeCtx<'_>,
) -> crate::error::AppResult<Vec<String>> {
    if home != crate::module::Home::Workbench {
        return Ok(Vec::new());
    }
    let alerts = crate::alerts::open_alerts(state, ctx.actor).await?;
    if alerts.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![alerts_html(state, ctx.t, ctx.csrf, alerts)?])
}

/// The open alerts as a list, each with its chart's link and a button to acknowledge it.
fn alerts_html(
    state: &AppState,
    t: crate::web::i18n::Tr,
    csrf: &str,
    alerts: Vec<crate::alerts::Alert>,
) -> crate::error::AppResult<String> {
    let zone = state.zone();
    let raised = alerts
        .iter()
        .map(|a| {
            time::OffsetDateTime::parse(
                &a.raised_at,
                &time::format_description::well_known::Rfc3339,
            )
            .map(|t| zone.display((t.unix_timestamp_nanos() / 1_000_000) as i64))
            .unwrap_or_else(|_| a.raised_at.clone())
        })
        .collect();
    AlertsSection {
        t,
        csrf: csrf.to_owned(),
        alerts,
        raised,
    }
    .render()
    .map_err(|e| crate::error::AppError::Internal(e.into()))
}

#[derive(Debug, Deserialize)]
struct AcknowledgeForm {
    csrf: String,
}

async fn acknowledge(
    State(state): State<AppState>,
    ctx: PageCtx,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::web::extract::PageForm(form): crate::web::extract::PageForm<AcknowledgeForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    crate::alerts::acknowledge(&state, actor, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(Redirect::to("/home").into_response())
}

pub use crate::view::home_region;

#[derive(Debug, Deserialize, Default)]
struct OpsQuery {
    region: Option<String>,
    period: Option<String>,
    date: Option<String>,
    lang: Option<String>,
    lens: Option<String>,
}

/// A figure or a rate as the page draws it.
struct Card {
    key: String,
    name: String,
    about_persons: bool,
    /// `count`, `level` (its total is the value now) or `rate` (in percent).
    kind: &'static str,
    /// The total as shown: a number, "< k", a percentage or "—".
    total: String,
    /// Nothing to draw (a count of 0, a level never measured, a rate with nothing shown).
    empty: bool,
    series_svg: String,
    breakdown_svg: String,
    /// (label, shown) of the series and of the breakdown, for the tables.
    series: Vec<(String, String)>,
    breakdown: Vec<(String, String, String)>,
    /// By department or by resource: the table's caption, the chart of the first few, and
    /// (id, name, shown) of each.
    parts_title: &'static str,
    parts_svg: String,
    parts: Vec<(String, String, String)>,
    /// A stacked chart's layers and, for each bucket, its numbers: (label, one per layer).
    stack_names: Vec<String>,
    stack_rows: Vec<(String, Vec<String>)>,
}

/// How many departments or resources a card's chart draws (the table holds them all).
const PARTS_DRAWN: usize = 10;

/// The chart of a figure's or a rate's first parts; nothing when none is shown but zeros.
fn parts_chart(parts: &[(String, Option<f64>)], name: &str) -> String {
    let drawn: Vec<(String, Option<f64>)> = parts.iter().take(PARTS_DRAWN).cloned().collect();
    if !drawn.iter().any(|(_, v)| v.is_some_and(|v| v != 0.0)) {
        return String::new();
    }
    tongban_tables::chart::draw("bar", &drawn, name)
}

fn parts_title(t: crate::web::i18n::Tr, kind: Option<&str>) -> &'static str {
    match kind {
        Some("department") => t.get("ops.by_department"),
        Some("resource") => t.get("ops.by_resource"),
        _ => "",
    }
}

struct Group {
    key: &'static str,
    cards: Vec<Card>,
    /// The counts that are 0 over the period (key, name), named on one line rather than drawn.
    quiet: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "ops.html")]
struct OpsPage {
    base: PageBase,
    ops: OpsView,
    groups: Vec<Group>,
    hidden_text: String,
    /// The base counts of persons are rounded to (1: exact).
    rounded_to: i64,
    /// Links: the periods, the lenses, the previous and next period, this view (for the
    /// refresh).
    periods: Vec<(String, &'static str, bool)>,
    lenses: Vec<(String, &'static str, bool)>,
    earlier: String,
    later: Option<String>,
    here: String,
    date: String,
    lens: &'static str,
    period_name: String,
    /// When the view was read, in the deployment's time zone.
    read_at: String,
    /// The open alerts, rendered (the duty officer's lens).
    alerts: String,
}

const GROUPS: [&str; 8] = [
    "services",
    "certificates",
    "pass",
    "checkins",
    "exchange",
    "opendata",
    "forms",
    "platform",
];

/// The dashboards: who looks at what. A lens orders and narrows the groups; it never widens
/// what the viewer's scope shows.
const LENSES: [(&str, &[&str]); 4] = [
    // 城市领导: everything, services first.
    ("leader", &GROUPS),
    // 部门负责人: the department's work and the data it shares.
    (
        "department",
        &["services", "certificates", "exchange", "opendata", "forms"],
    ),
    // 卫健部门: the pass and where people were.
    ("health", &["pass", "checkins"]),
    // 值班员: alerts first, then what breaks: the platform, the exchange, the pass path.
    ("duty", &["platform", "exchange", "pass", "services"]),
];

/// The lens a viewer's page opens with: the health officer's, a department administrator's,
/// or the whole view.
fn default_lens(actor: &crate::identity::model::Actor) -> &'static str {
    use crate::identity::model::Role;
    let has = |role: Role| actor.grants.iter().any(|g| g.role == role);
    if has(Role::SystemAdmin) {
        "leader"
    } else if has(Role::DutyOfficer) {
        "duty"
    } else if has(Role::HealthOfficer) && !has(Role::DeptAdmin) {
        "health"
    } else if has(Role::DeptAdmin) {
        "department"
    } else {
        "leader"
    }
}

fn link(region: &str, period: Period, date: &str, lens: &str) -> String {
    format!(
        "/ops?region={region}&period={}&date={date}&lens={lens}",
        period.as_str()
    )
}

/// The regions' part of a figure: on the deployment's map when it outlines at least two of
/// them, else as bars; nothing when no part is shown but zeros.
fn breakdown_chart<'a>(
    map: Option<&tongban_tables::map::Boundaries>,
    regions: impl Iterator<Item = (&'a String, &'a String, Option<f64>)>,
    parts: &[(String, Option<f64>)],
    name: &str,
    unit: &str,
) -> String {
    if parts.len() < 2 || !parts.iter().any(|(_, v)| v.is_some_and(|v| v != 0.0)) {
        return String::new();
    }
    let values: Vec<(String, String, Option<f64>)> = regions
        .map(|(code, name, value)| (code.clone(), name.clone(), value))
        .collect();
    map.and_then(|map| map.choropleth(&values, name, unit))
        .unwrap_or_else(|| tongban_tables::chart::draw("bar", parts, name))
}

/// A quantile as read: "≤ 5", "> 1000", or "—" when nothing was counted.
fn quantile_text(q: &view::Quantile) -> String {
    match (q.at_most, q.above) {
        (Some(bound), _) => format!("≤ {bound}"),
        (None, Some(bound)) => format!("> {bound}"),
        (None, None) => "—".to_owned(),
    }
}

/// The quantiles of a distribution on one line: "p50 ≤ 1 · p95 ≤ 2 · p99 ≤ 5 ms".
fn quantiles_text(quantiles: &[view::Quantile], unit: &str, named: bool) -> String {
    if quantiles
        .iter()
        .all(|q| q.at_most.is_none() && q.above.is_none())
    {
        return "—".to_owned();
    }
    let parts: Vec<String> = quantiles
        .iter()
        .map(|q| {
            if named {
                format!("{} {}", q.name, quantile_text(q))
            } else {
                quantile_text(q)
            }
        })
        .collect();
    format!("{} {unit}", parts.join(if named { " · " } else { " / " }))
}

/// The layers a distribution's stacked chart groups its bands into, by upper bound (the last
/// takes the rest): fast, slowing, slow, past the gate's pace.
const STACK_BOUNDS: [i64; 3] = [5, 25, 100];

/// A distribution's card: its quantiles over the period, its p99 over the buckets (drawn as a
/// line of the bound, a bucket with nothing counted or beyond the last bound left out), its
/// counts in each bucket stacked by layer of bands, and its counts by band.
fn distribution_card(t: crate::web::i18n::Tr, view: &OpsView, d: &view::DistributionView) -> Card {
    let p99 = |quantiles: &[view::Quantile]| {
        quantiles
            .iter()
            .find(|q| q.name == "p99")
            .and_then(|q| q.at_most)
            .map(|v| v as f64)
    };
    let series: Vec<(String, Option<f64>)> = d
        .series
        .iter()
        .map(|p| (p.label.clone(), p99(&p.quantiles)))
        .collect();
    let mut lower: Option<i64> = None;
    let bands: Vec<(String, String, String)> = d
        .bands
        .iter()
        .map(|b| {
            let label = match (lower, b.up_to) {
                (None, Some(up)) => format!("≤ {up} {}", d.unit),
                (Some(low), Some(up)) => format!("{low}–{up} {}", d.unit),
                (Some(low), None) => format!("> {low} {}", d.unit),
                (None, None) => d.unit.clone(),
            };
            lower = b.up_to.or(lower);
            (b.figure.clone(), label, b.count.to_string())
        })
        .collect();
    // The stacked layers: each band's series added into the layer its bound falls in.
    let labels: Vec<String> = d.series.iter().map(|p| p.label.clone()).collect();
    let mut stack_names: Vec<String> = Vec::new();
    let mut low: Option<i64> = None;
    for bound in STACK_BOUNDS {
        stack_names.push(match low {
            None => format!("≤ {bound} {}", d.unit),
            Some(low) => format!("{low}–{bound} {}", d.unit),
        });
        low = Some(bound);
    }
    stack_names.push(format!("> {} {}", STACK_BOUNDS[2], d.unit));
    let mut layers: Vec<Vec<i64>> = vec![vec![0; labels.len()]; stack_names.len()];
    for band in &d.bands {
        let layer = band
            .up_to
            .and_then(|up| STACK_BOUNDS.iter().position(|b| up <= *b))
            .unwrap_or(STACK_BOUNDS.len());
        if let Some(figure) = view.figures.iter().find(|f| f.key == band.figure) {
            for (at, point) in figure.series.iter().enumerate().take(labels.len()) {
                layers[layer][at] += point.value.unwrap_or(0);
            }
        }
    }
    let drawn: Vec<(String, Vec<Option<f64>>)> = stack_names
        .iter()
        .zip(&layers)
        .map(|(name, values)| {
            (
                name.clone(),
                values.iter().map(|v| Some(*v as f64)).collect(),
            )
        })
        .collect();
    let stack_rows: Vec<(String, Vec<String>)> = labels
        .iter()
        .enumerate()
        .map(|(at, label)| {
            (
                label.clone(),
                layers.iter().map(|layer| layer[at].to_string()).collect(),
            )
        })
        .collect();
    let counted = d.bands.iter().any(|b| b.count > 0);
    Card {
        key: d.key.clone(),
        name: d.name.clone(),
        about_persons: false,
        kind: "distribution",
        total: quantiles_text(&d.quantiles, &d.unit, true),
        empty: !counted,
        series_svg: tongban_tables::chart::draw("line", &series, &format!("{} · p99", d.name)),
        breakdown_svg: tongban_tables::chart::stacked(&labels, &drawn, &d.name),
        series: d
            .series
            .iter()
            .map(|p| {
                (
                    p.label.clone(),
                    quantiles_text(&p.quantiles, &d.unit, false),
                )
            })
            .collect(),
        breakdown: Vec::new(),
        parts_title: t.get("ops.by_answer_time"),
        parts_svg: String::new(),
        parts: bands,
        stack_names,
        stack_rows,
    }
}

/// What a rate's parts are: its numerator's.
fn rate_parts_kind<'a>(view: &'a OpsView, rate: &view::RateView) -> Option<&'a str> {
    view.figures
        .iter()
        .find(|f| f.key == rate.of)
        .and_then(|f| f.part_kind.as_deref())
}

async fn ops_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageQuery(query): PageQuery<OpsQuery>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let Some(home) = home_region(actor) else {
        return Err(ctx.error(crate::error::AppError::Forbidden));
    };
    let lens = match query.lens.as_deref().map(str::trim) {
        None | Some("") => default_lens(actor),
        Some(asked) => LENSES
            .iter()
            .map(|(key, _)| *key)
            .find(|key| *key == asked)
            .ok_or_else(|| {
                ctx.error(crate::error::AppError::invalid(
                    "lens",
                    "leader, department, health or duty",
                ))
            })?,
    };
    let Some(region) = query.region.clone().filter(|r| !r.trim().is_empty()) else {
        return Ok(Redirect::to(&link(
            home.as_str(),
            Period::Day,
            &tongban_core::zone::ymd(state.today()),
            lens,
        ))
        .into_response());
    };
    let english = ctx.base("ops.title").t.lang() == "en";
    let ask = crate::api::ask_of(
        &state,
        &crate::api::ViewQuery {
            region,
            period: query.period.clone(),
            date: query.date.clone(),
            figures: None,
            lang: english.then(|| "en".to_owned()).or(query.lang.clone()),
        },
    )
    .map_err(|e| ctx.error(e))?;
    let view = view::view(&state, actor, &ask)
        .await
        .map_err(|e| ctx.error(e))?;
    let base = ctx.base("ops.title");
    let hidden_text = format!("< {}", view.k);
    let shown = |v: Option<i64>| v.map_or_else(|| hidden_text.clone(), |v| v.to_string());
    let groups_of_lens = LENSES
        .iter()
        .find(|(key, _)| *key == lens)
        .map_or(&GROUPS[..], |(_, groups)| groups);
    let mut groups: Vec<Group> = groups_of_lens
        .iter()
        .map(|key| Group {
            key,
            cards: Vec::new(),
            quiet: Vec::new(),
        })
        .collect();
    let map = crate::boundaries::of(&state);
    let series_kind = if ask.period == Period::Day {
        "bar"
    } else {
        "line"
    };
    // A distribution's bands are drawn on its own card, not each on one.
    let bands: Vec<&str> = view
        .distributions
        .iter()
        .flat_map(|d| d.bands.iter().map(|b| b.figure.as_str()))
        .collect();
    for figure in view
        .figures
        .iter()
        .filter(|f| !bands.contains(&f.key.as_str()))
    {
        let level = figure.kind == view::FigureKind::Level;
        let series: Vec<(String, Option<f64>)> = figure
            .series
            .iter()
            .map(|p| (p.label.clone(), p.value.map(|v| v as f64)))
            .collect();
        let parts: Vec<(String, Option<f64>)> = figure
            .breakdown
            .iter()
            .map(|p| (p.name.clone(), p.value.map(|v| v as f64)))
            .collect();
        let card = Card {
            key: figure.key.clone(),
            name: figure.name.clone(),
            about_persons: figure.about_persons,
            kind: if level { "level" } else { "count" },
            total: if figure.measured {
                shown(figure.total)
            } else {
                "—".to_owned()
            },
            empty: !figure.measured || (!level && figure.total == Some(0)),
            series_svg: tongban_tables::chart::draw(
                if level { "line" } else { series_kind },
                &series,
                &figure.name,
            ),
            breakdown_svg: breakdown_chart(
                map,
                figure
                    .breakdown
                    .iter()
                    .map(|p| (&p.region, &p.name, p.value.map(|v| v as f64))),
                &parts,
                &figure.name,
                "",
            ),
            series: figure
                .series
                .iter()
                .map(|p| {
                    let value = if p.measured {
                        shown(p.value)
                    } else {
                        "—".to_owned()
                    };
                    (p.label.clone(), value)
                })
                .collect(),
            breakdown: figure
                .breakdown
                .iter()
                .map(|p| (p.region.clone(), p.name.clone(), shown(p.value)))
                .collect(),
            parts_title: parts_title(base.t, figure.part_kind.as_deref()),
            parts_svg: parts_chart(
                &figure
                    .parts
                    .iter()
                    .map(|p| (p.name.clone(), p.value.map(|v| v as f64)))
                    .collect::<Vec<_>>(),
                &format!(
                    "{} · {}",
                    figure.name,
                    parts_title(base.t, figure.part_kind.as_deref())
                ),
            ),
            parts: figure
                .parts
                .iter()
                .map(|p| (p.id.clone(), p.name.clone(), shown(p.value)))
                .collect(),
            stack_names: Vec::new(),
            stack_rows: Vec::new(),
        };
        if let Some(group) = groups.iter_mut().find(|g| g.key == figure.group) {
            group.cards.push(card);
        }
    }
    let percent = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}%"));
    for rate in &view.rates {
        let series: Vec<(String, Option<f64>)> = rate
            .series
            .iter()
            .map(|p| (p.label.clone(), p.value))
            .collect();
        let parts: Vec<(String, Option<f64>)> = rate
            .breakdown
            .iter()
            .map(|p| (p.name.clone(), p.value))
            .collect();
        let card = Card {
            key: rate.key.clone(),
            name: rate.name.clone(),
            about_persons: false,
            kind: "rate",
            total: percent(rate.value),
            empty: rate.value.is_none() && series.iter().all(|(_, v)| v.is_none()),
            series_svg: tongban_tables::chart::draw("line", &series, &rate.name),
            breakdown_svg: breakdown_chart(
                map,
                rate.breakdown.iter().map(|p| (&p.region, &p.name, p.value)),
                &parts,
                &rate.name,
                "%",
            ),
            series: rate
                .series
                .iter()
                .map(|p| (p.label.clone(), percent(p.value)))
                .collect(),
            breakdown: rate
                .breakdown
                .iter()
                .map(|p| (p.region.clone(), p.name.clone(), percent(p.value)))
                .collect(),
            parts_title: parts_title(base.t, rate_parts_kind(&view, rate)),
            parts_svg: parts_chart(
                &rate
                    .parts
                    .iter()
                    .map(|p| (p.name.clone(), p.value))
                    .collect::<Vec<_>>(),
                &format!(
                    "{} · {}",
                    rate.name,
                    parts_title(base.t, rate_parts_kind(&view, rate))
                ),
            ),
            parts: rate
                .parts
                .iter()
                .map(|p| (p.id.clone(), p.name.clone(), percent(p.value)))
                .collect(),
            stack_names: Vec::new(),
            stack_rows: Vec::new(),
        };
        if let Some(group) = groups.iter_mut().find(|g| g.key == rate.group) {
            group.cards.push(card);
        }
    }
    for distribution in &view.distributions {
        if let Some(group) = groups.iter_mut().find(|g| g.key == distribution.group) {
            group
                .cards
                .push(distribution_card(base.t, &view, distribution));
        }
    }
    // What stands now first (levels, rates, distributions), then what happened; counts of 0
    // on one line.
    let rank = |kind: &str| match kind {
        "level" => 0,
        "rate" | "distribution" => 1,
        _ => 2,
    };
    for group in &mut groups {
        let (quiet, cards): (Vec<Card>, Vec<Card>) = std::mem::take(&mut group.cards)
            .into_iter()
            .partition(|c| c.kind == "count" && c.empty);
        group.cards = cards;
        group.cards.sort_by_key(|c| rank(c.kind));
        group.quiet = quiet.into_iter().map(|c| (c.key, c.name)).collect();
    }
    groups.retain(|g| !g.cards.is_empty() || !g.quiet.is_empty());
    let alerts = if lens == "duty" {
        let in_view: Vec<crate::alerts::Alert> = crate::alerts::open_alerts(&state, actor)
            .await
            .map_err(|e| ctx.error(e))?;
        alerts_html(&state, base.t, &base.csrf, in_view).map_err(|e| ctx.error(e))?
    } else {
        String::new()
    };
    let date = tongban_core::zone::ymd(ask.date);
    let step = match ask.period {
        Period::Day => time::Duration::days(1),
        Period::Week => time::Duration::days(7),
        // A day of the month before (after) the period's first (last) day.
        Period::Month => time::Duration::days(1),
    };
    let first = time::Date::parse(
        &view.from,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap_or(ask.date);
    let last = time::Date::parse(
        &view.to,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap_or(ask.date);
    let (before, after) = match ask.period {
        Period::Month => (first.checked_sub(step), last.checked_add(step)),
        _ => (ask.date.checked_sub(step), ask.date.checked_add(step)),
    };
    let earlier = link(
        &view.region,
        ask.period,
        &tongban_core::zone::ymd(before.unwrap_or(ask.date)),
        lens,
    );
    let later = after.filter(|day| *day <= state.today()).map(|day| {
        link(
            &view.region,
            ask.period,
            &tongban_core::zone::ymd(day),
            lens,
        )
    });
    let periods = [Period::Day, Period::Week, Period::Month]
        .into_iter()
        .map(|p| {
            (
                link(&view.region, p, &date, lens),
                p.as_str(),
                p == ask.period,
            )
        })
        .collect();
    let lenses = LENSES
        .iter()
        .map(|(key, _)| {
            (
                link(&view.region, ask.period, &date, key),
                *key,
                *key == lens,
            )
        })
        .collect();
    let here = link(&view.region, ask.period, &date, lens);
    let rounded_to = crate::suppress::base(view.k);
    Ok(ctx.render(&OpsPage {
        base,
        ops: view,
        groups,
        hidden_text,
        rounded_to,
        periods,
        lenses,
        earlier,
        later,
        here,
        date,
        lens,
        alerts,
        read_at: state.zone().display(state.now()),
        period_name: ctx
            .base("ops.title")
            .t
            .get(&format!("ops.period.{}", ask.period.as_str()))
            .to_owned(),
    }))
}
