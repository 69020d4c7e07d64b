//! The operations view as JSON (`/api/v1/ops/…`) and as Prometheus text, for wall screens,
//! other tools and Grafana. The same figures, the same hidden cells as the pages.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;
use crate::view::{self, Ask, FigureInfo, OpsView, Period};
use crate::web::extract::ApiActor;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(figures))
        .routes(routes!(ops_view))
        .routes(routes!(metrics))
        .routes(routes!(alert_rules, add_alert_rule))
        .routes(routes!(alerts))
        .routes(routes!(acknowledge))
}

/// The alert rules of the regions the viewer views.
#[utoipa::path(get, path = "/api/v1/ops/alert-rules", tag = "ops", security(("bearer" = [])),
    responses((status = 200, body = [crate::alerts::Rule]), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn alert_rules(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<crate::alerts::Rule>>> {
    Ok(Json(crate::alerts::rules(&state, &actor).await?))
}

/// Set a threshold on a figure of a region, per hour or per day: an alert is raised once for
/// each period in which the figure reaches it (a viewer of the region; on a figure of persons
/// the threshold starts at k).
#[utoipa::path(post, path = "/api/v1/ops/alert-rules", tag = "ops", security(("bearer" = [])), request_body = crate::alerts::NewRule,
    responses((status = 201, body = crate::alerts::Rule), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn add_alert_rule(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    crate::web::extract::ApiJson(rule): crate::web::extract::ApiJson<crate::alerts::NewRule>,
) -> AppResult<(axum::http::StatusCode, Json<crate::alerts::Rule>)> {
    Ok((
        axum::http::StatusCode::CREATED,
        Json(crate::alerts::add_rule(&state, &actor, rule).await?),
    ))
}

/// The open alerts of the regions the viewer views, newest first.
#[utoipa::path(get, path = "/api/v1/ops/alerts", tag = "ops", security(("bearer" = [])),
    responses((status = 200, body = [crate::alerts::Alert]), (status = 401, body = Problem)))]
async fn alerts(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<crate::alerts::Alert>>> {
    Ok(Json(crate::alerts::open_alerts(&state, &actor).await?))
}

/// Acknowledge an open alert (a viewer of its region): it leaves every viewer's workbench.
#[utoipa::path(post, path = "/api/v1/ops/alerts/{id}/acknowledge", tag = "ops", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn acknowledge(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> AppResult<axum::http::StatusCode> {
    crate::alerts::acknowledge(&state, &actor, &id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The figures the modules keep (a viewer of operations).
#[utoipa::path(get, path = "/api/v1/ops/figures", tag = "ops", security(("bearer" = [])),
    responses((status = 200, body = [FigureInfo]), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn figures(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<FigureInfo>>> {
    if crate::view::home_region(&actor).is_none() {
        return Err(AppError::Forbidden);
    }
    Ok(Json(view::declared(&state)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ViewQuery {
    /// The region's code (the viewer's scope must reach it).
    pub region: String,
    /// `day` (by hour, the default), `week` (Monday to Sunday, by day) or `month` (by day).
    pub period: Option<String>,
    /// A day of the period, YYYY-MM-DD in the deployment's time zone; today by default.
    pub date: Option<String>,
    /// Figure keys, separated by commas; every figure by default.
    pub figures: Option<String>,
    /// `en` for English names.
    pub lang: Option<String>,
}

/// Reads a view's question from the address's parameters.
pub fn ask_of(state: &AppState, query: &ViewQuery) -> AppResult<Ask> {
    let date = match query
        .date
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        None => state.today(),
        Some(text) => time::Date::parse(
            text,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| AppError::invalid("date", "must be YYYY-MM-DD"))?,
    };
    let earliest = time::macros::date!(2000 - 01 - 01);
    let latest = state.today() + time::Duration::days(366);
    if date < earliest || date > latest {
        return Err(AppError::invalid(
            "date",
            "a day from 2000-01-01 to a year from today",
        ));
    }
    let figures: Vec<String> = query
        .figures
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
    if figures.len() > 64 {
        return Err(AppError::invalid("figures", "at most 64 figures"));
    }
    Ok(Ask {
        region: query.region.clone(),
        period: Period::parse(query.period.as_deref().unwrap_or_default())?,
        date,
        figures,
        english: query.lang.as_deref() == Some("en"),
    })
}

/// The figures of a region over a period: each as a series and as a breakdown by the regions
/// directly under it, counts of persons below k shown as `null` (and as many more as keep
/// them from being worked out from the totals).
#[utoipa::path(get, path = "/api/v1/ops/view", tag = "ops", security(("bearer" = [])), params(ViewQuery),
    responses((status = 200, body = OpsView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn ops_view(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(query): Query<ViewQuery>,
) -> AppResult<Json<OpsView>> {
    if crate::view::home_region(&actor).is_none() {
        return Err(AppError::Forbidden);
    }
    let ask = ask_of(&state, &query)?;
    Ok(Json(view::view(&state, &actor, &ask).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MetricsQuery {
    /// The region's code (the viewer's scope must reach it).
    pub region: String,
}

/// Today's figures of a region and of each region directly under it, in Prometheus's text
/// format (`tongban_ops_today{figure, region, scope}`), hidden counts left out: for a
/// Prometheus job with a bearer token of a viewer of operations (see docs/operations.md).
#[utoipa::path(get, path = "/api/v1/ops/metrics", tag = "ops", security(("bearer" = [])), params(MetricsQuery),
    responses((status = 200, body = String, content_type = "text/plain"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn metrics(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(query): Query<MetricsQuery>,
) -> AppResult<Response> {
    let text = view::prometheus(&state, &actor, &query.region).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}
