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
use crate::view::{self, FigureView, OpsView, Period};
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
    let section = AlertsSection {
        t: ctx.t,
        csrf: ctx.csrf.to_owned(),
        alerts,
        raised,
    }
    .render()
    .map_err(|e| crate::error::AppError::Internal(e.into()))?;
    Ok(vec![section])
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
}

/// A figure as the page draws it.
struct FigureCard {
    figure: FigureView,
    /// The total as shown: a number, or "< k".
    total: String,
    series_svg: String,
    breakdown_svg: String,
    /// (label, shown) of the series and of the breakdown, for the tables.
    series: Vec<(String, String)>,
    breakdown: Vec<(String, String, String)>,
}

struct Group {
    key: &'static str,
    cards: Vec<FigureCard>,
}

#[derive(Template)]
#[template(path = "ops.html")]
struct OpsPage {
    base: PageBase,
    ops: OpsView,
    groups: Vec<Group>,
    hidden_text: String,
    /// Links: the periods, the previous and next period, this view (for the refresh).
    periods: Vec<(String, &'static str, bool)>,
    earlier: String,
    later: Option<String>,
    here: String,
    date: String,
    period_name: String,
    /// When the view was read, in the deployment's time zone.
    read_at: String,
}

const GROUPS: [&str; 7] = [
    "services",
    "certificates",
    "pass",
    "checkins",
    "exchange",
    "opendata",
    "platform",
];

fn link(region: &str, period: Period, date: &str) -> String {
    format!(
        "/ops?region={region}&period={}&date={date}",
        period.as_str()
    )
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
    let Some(region) = query.region.clone().filter(|r| !r.trim().is_empty()) else {
        return Ok(Redirect::to(&link(
            home.as_str(),
            Period::Day,
            &tongban_core::zone::ymd(state.today()),
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
    let mut groups: Vec<Group> = GROUPS
        .iter()
        .map(|key| Group {
            key,
            cards: Vec::new(),
        })
        .collect();
    for figure in &view.figures {
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
        let card = FigureCard {
            total: shown(figure.total),
            series_svg: tongban_tables::chart::draw(
                if ask.period == Period::Day {
                    "bar"
                } else {
                    "line"
                },
                &series,
                &figure.name,
            ),
            breakdown_svg: if parts.len() > 1 {
                tongban_tables::chart::draw("bar", &parts, &figure.name)
            } else {
                String::new()
            },
            series: figure
                .series
                .iter()
                .map(|p| (p.label.clone(), shown(p.value)))
                .collect(),
            breakdown: figure
                .breakdown
                .iter()
                .map(|p| (p.region.clone(), p.name.clone(), shown(p.value)))
                .collect(),
            figure: figure.clone(),
        };
        match groups.iter_mut().find(|g| g.key == figure.group) {
            Some(group) => group.cards.push(card),
            None => tracing::warn!(group = %figure.group, "a figure of an unknown group"),
        }
    }
    groups.retain(|g| !g.cards.is_empty());
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
    );
    let later = after
        .filter(|day| *day <= state.today())
        .map(|day| link(&view.region, ask.period, &tongban_core::zone::ymd(day)));
    let periods = [Period::Day, Period::Week, Period::Month]
        .into_iter()
        .map(|p| (link(&view.region, p, &date), p.as_str(), p == ask.period))
        .collect();
    let here = link(&view.region, ask.period, &date);
    Ok(ctx.render(&OpsPage {
        base,
        ops: view,
        groups,
        hidden_text,
        periods,
        earlier,
        later,
        here,
        date,
        read_at: state.zone().display(state.now()),
        period_name: ctx
            .base("ops.title")
            .t
            .get(&format!("ops.period.{}", ask.period.as_str()))
            .to_owned(),
    }))
}
