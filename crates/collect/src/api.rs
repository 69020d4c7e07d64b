//! JSON API of 一表通 beyond ODK's: the burden-reduction office's queue, a form's overlap
//! report, and the office's decision.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{AppResult, Problem};
use crate::plan::{self, PlanRequest, UnitProgress};
use crate::rollup::{Level, Rollup};
use crate::service::{self, Overlap};
use crate::state::AppState;
use crate::store::FormRow;
use crate::web::extract::{ApiActor, ApiJson};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(approvals))
        .routes(routes!(overlap))
        .routes(routes!(decide))
        .routes(routes!(set_plan))
        .routes(routes!(progress))
        .routes(routes!(rollup))
}

/// A form as the office and its designers see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FormSummary {
    pub project_id: i64,
    pub xml_form_id: String,
    pub title: String,
    pub version: String,
    /// `draft`, `pending`, `approved`, `returned` or `closed`.
    pub state: String,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    pub decision_note: Option<String>,
    /// The grassroots units (township or village codes) it is sent to; empty: every unit of
    /// the project's region.
    pub target: Vec<String>,
    /// The first day of collection (`YYYY-MM-DD`), if not from approval.
    pub opens: Option<String>,
    /// The due day (`YYYY-MM-DD`).
    pub due: Option<String>,
}

impl From<&FormRow> for FormSummary {
    fn from(row: &FormRow) -> Self {
        FormSummary {
            project_id: row.project_id,
            xml_form_id: row.xml_form_id.clone(),
            title: row.title.clone(),
            version: row.version.clone(),
            state: row.state.clone(),
            created_at: row.created_at,
            decided_at: row.decided_at,
            decision_note: row.decision_note.clone(),
            target: plan::targets(row),
            opens: row.opens_day.clone(),
            due: row.due_day.clone(),
        }
    }
}

/// The forms waiting for the burden-reduction office, oldest first: those of its region (its
/// staff only).
#[utoipa::path(get, path = "/api/v1/collect/approvals", tag = "collect", security(("bearer" = [])),
    responses((status = 200, body = [FormSummary]), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn approvals(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<FormSummary>>> {
    let rows = service::waiting_for(&state, &actor, 500).await?;
    Ok(Json(rows.iter().map(FormSummary::from).collect()))
}

/// Which of a form's questions other approved forms or the platform's registers already
/// collect (the office and the project's staff).
#[utoipa::path(get, path = "/api/v1/collect/projects/{project}/forms/{form}/overlap", tag = "collect", security(("bearer" = [])),
    params(("project" = i64, Path), ("form" = String, Path)),
    responses((status = 200, body = Overlap), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn overlap(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((project, form)): Path<(i64, String)>,
) -> AppResult<Json<Overlap>> {
    Ok(Json(
        service::overlap(&state, &actor, project, &form).await?,
    ))
}

/// The office's decision on a pending form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormDecision {
    /// True opens the form for collection; false sends it back to its designers.
    pub approve: bool,
    /// Why (required when sending back).
    #[serde(default)]
    pub note: String,
}

/// Approve a pending form or send it back (staff of the burden-reduction office, never the
/// form's own designer).
#[utoipa::path(post, path = "/api/v1/collect/projects/{project}/forms/{form}/decision", tag = "collect", security(("bearer" = [])),
    params(("project" = i64, Path), ("form" = String, Path)), request_body = FormDecision,
    responses((status = 200, body = FormSummary), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn decide(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((project, form)): Path<(i64, String)>,
    ApiJson(decision): ApiJson<FormDecision>,
) -> AppResult<Json<FormSummary>> {
    let row = service::decide(
        &state,
        &actor,
        project,
        &form,
        decision.approve,
        &decision.note,
    )
    .await?;
    Ok(Json(FormSummary::from(&row)))
}

/// Where and until when a form is collected (the project's staff): a draft's or a returned
/// form's plan changes as a whole; an approved form's due day may only move later.
#[utoipa::path(put, path = "/api/v1/collect/projects/{project}/forms/{form}/plan", tag = "collect", security(("bearer" = [])),
    params(("project" = i64, Path), ("form" = String, Path)), request_body = PlanRequest,
    responses((status = 200, body = FormSummary), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn set_plan(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((project, form)): Path<(i64, String)>,
    ApiJson(request): ApiJson<PlanRequest>,
) -> AppResult<Json<FormSummary>> {
    let row = plan::set_plan(&state, &actor, project, &form, &request).await?;
    Ok(Json(FormSummary::from(&row)))
}

/// A form's submissions by the units it is sent to (the project's staff and the office).
#[utoipa::path(get, path = "/api/v1/collect/projects/{project}/forms/{form}/progress", tag = "collect", security(("bearer" = [])),
    params(("project" = i64, Path), ("form" = String, Path)),
    responses((status = 200, body = [UnitProgress]), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn progress(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((project, form)): Path<(i64, String)>,
) -> AppResult<Json<Vec<UnitProgress>>> {
    let project = service::project_for(&state, &actor, project).await?;
    let row = crate::store::form(state.pool(), project.id, &form)
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    Ok(Json(plan::progress(&state, &project, &row).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RollupQuery {
    /// `county`, `township` (the default) or `village` (the project's staff only).
    pub level: Option<String>,
}

/// A form's results rolled up by unit: counts per choice, sums and means of numbers; above the
/// village level small counts of persons are `null` and the others rounded (the project's
/// staff, and the office over its region above the village level).
#[utoipa::path(get, path = "/api/v1/collect/projects/{project}/forms/{form}/rollup", tag = "collect", security(("bearer" = [])),
    params(("project" = i64, Path), ("form" = String, Path), RollupQuery),
    responses((status = 200, body = Rollup), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn rollup(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((project, form)): Path<(i64, String)>,
    axum::extract::Query(query): axum::extract::Query<RollupQuery>,
) -> AppResult<Json<Rollup>> {
    let level = level_of(query.level.as_deref())?;
    Ok(Json(
        crate::rollup::rollup(&state, &actor, project, &form, level).await?,
    ))
}

/// The level asked for, `township` when none.
pub fn level_of(text: Option<&str>) -> AppResult<Level> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(Level::Township),
        Some(text) => Level::parse(text).ok_or_else(|| crate::error::AppError::Invalid {
            field: "level",
            reason: "county, township or village".into(),
        }),
    }
}
