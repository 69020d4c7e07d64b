//! JSON API of the publisher's side of the portal that CKAN has no action for: what the
//! personal-data gate found in an upload, the treatments of its columns, and publication by a
//! second person. Everything else is CKAN's Action API ([`crate::ckan`]).

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{AppError, AppResult, Problem};
use crate::gate::{Finding, Treatment};
use crate::model::Resource;
use crate::state::AppState;
use crate::web::extract::{ApiActor, ApiJson};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(review))
        .routes(routes!(treat))
        .routes(routes!(publish))
        .routes(routes!(set_fields))
        .routes(routes!(harvest_sources, add_harvest_source))
        .routes(routes!(run_harvest))
}

/// A catalogue to harvest.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HarvestSourceRequest {
    /// The address of another portal's DCAT-AP catalogue (Turtle, JSON-LD or RDF/XML).
    pub url: String,
}

/// The catalogues the actor's department harvests, with how their last run went.
#[utoipa::path(get, path = "/api/v1/opendata/harvest-sources", tag = "open-data", security(("bearer" = [])),
    responses((status = 200, body = [crate::model::HarvestSource]), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn harvest_sources(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<crate::model::HarvestSource>>> {
    Ok(Json(crate::harvest::sources(&state, &actor).await?))
}

/// Register another portal's DCAT-AP catalogue: its datasets are published under the
/// department and kept in step every hour (an administrator of a publishing department).
#[utoipa::path(post, path = "/api/v1/opendata/harvest-sources", tag = "open-data", security(("bearer" = [])), request_body = HarvestSourceRequest,
    responses((status = 201, body = crate::model::HarvestSource), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn add_harvest_source(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<HarvestSourceRequest>,
) -> AppResult<(axum::http::StatusCode, Json<crate::model::HarvestSource>)> {
    Ok((
        axum::http::StatusCode::CREATED,
        Json(crate::harvest::add_source(&state, &actor, &request.url).await?),
    ))
}

/// Harvest a source now, and say what changed (an administrator of its department).
#[utoipa::path(post, path = "/api/v1/opendata/harvest-sources/{id}/run", tag = "open-data", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = crate::harvest::Report), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn run_harvest(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<crate::harvest::Report>> {
    Ok(Json(crate::harvest::run_now(&state, &actor, &id).await?))
}

/// An upload as its department reviews it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    pub id: String,
    pub dataset_id: String,
    pub name: String,
    /// `review` (waiting), `published`, or `link`.
    pub publication: String,
    /// Everything the gate found in the treated table.
    pub findings: Vec<Finding>,
    /// What still stops publication.
    pub blocking: Vec<Finding>,
    pub treatments: Vec<ColumnTreatment>,
    pub quasi_identifiers: Vec<String>,
    pub k: i64,
    /// The account that last uploaded or treated it: someone else publishes.
    pub changed_by: String,
    pub published_by: Option<String>,
    pub rows: i64,
    /// The columns of the treated table with their types (inferred, or as chosen).
    pub fields: Vec<crate::table::Field>,
    /// The first rows, treated (for the reviewer's eyes only).
    pub columns: Vec<String>,
    pub preview: Vec<Vec<String>>,
}

/// What is done to one column.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnTreatment {
    pub column: String,
    /// `drop`, `mask` or `declare` (the column's name misleads; a reason is required).
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ColumnTreatment {
    fn from_pair((column, treatment): &(String, Treatment)) -> ColumnTreatment {
        let (action, reason) = match treatment {
            Treatment::Drop => ("drop", None),
            Treatment::Mask => ("mask", None),
            Treatment::Declare { reason } => ("declare", Some(reason.clone())),
        };
        ColumnTreatment {
            column: column.clone(),
            action: action.into(),
            reason,
        }
    }

    fn into_pair(self) -> AppResult<(String, Treatment)> {
        let treatment = match (self.action.as_str(), self.reason) {
            ("drop", _) => Treatment::Drop,
            ("mask", _) => Treatment::Mask,
            ("declare", Some(reason)) => Treatment::Declare { reason },
            ("declare", None) => {
                return Err(AppError::invalid(
                    "treatments",
                    "a declaration needs its reason",
                ));
            }
            _ => {
                return Err(AppError::invalid(
                    "treatments",
                    "the action is drop, mask or declare",
                ));
            }
        };
        Ok((self.column, treatment))
    }
}

/// The treatments of an upload's columns, replacing those set before.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TreatmentsRequest {
    pub treatments: Vec<ColumnTreatment>,
}

async fn view(
    state: &AppState,
    actor: &crate::identity::model::Actor,
    resource: Resource,
) -> AppResult<ReviewView> {
    let (columns, preview) = crate::service::preview(
        state,
        Some(actor),
        &resource.id,
        crate::service::PREVIEW_ROWS,
    )
    .await?;
    Ok(ReviewView {
        blocking: resource.blocking(),
        id: resource.id,
        dataset_id: resource.dataset_id,
        name: resource.name,
        publication: resource.state.as_str().into(),
        findings: resource.findings,
        treatments: resource
            .treatments
            .iter()
            .map(ColumnTreatment::from_pair)
            .collect(),
        quasi_identifiers: resource.quasi,
        k: resource.k,
        changed_by: resource.changed_by,
        published_by: resource.published_by,
        rows: resource.row_count,
        fields: resource.fields,
        columns,
        preview,
    })
}

/// What the personal-data gate found in an upload, its treatments and the first rows treated
/// (the publishing department's staff).
#[utoipa::path(get, path = "/api/v1/opendata/resources/{id}/review", tag = "open-data", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ReviewView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn review(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<ReviewView>> {
    let (dataset, resource) = crate::service::resource_for(&state, Some(&actor), &id).await?;
    if !crate::service::may_prepare(&actor, &dataset.department_id) {
        return Err(AppError::Forbidden);
    }
    Ok(Json(view(&state, &actor, resource).await?))
}

/// Set what is done to each column of an upload under review — drop it, mask it, or declare
/// that its name misleads — and scan it again (the department's clerks and administrators).
#[utoipa::path(put, path = "/api/v1/opendata/resources/{id}/treatments", tag = "open-data", security(("bearer" = [])), params(("id" = String, Path)), request_body = TreatmentsRequest,
    responses((status = 200, body = ReviewView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn treat(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<TreatmentsRequest>,
) -> AppResult<Json<ReviewView>> {
    let treatments = request
        .treatments
        .into_iter()
        .map(ColumnTreatment::into_pair)
        .collect::<AppResult<Vec<_>>>()?;
    let resource = crate::service::treat(&state, &actor, &id, treatments).await?;
    Ok(Json(view(&state, &actor, resource).await?))
}

/// The column types a publisher chooses over the inferred ones.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldsRequest {
    /// Columns and their types (`int`, `numeric`, `date`, `text`); columns not named keep
    /// their inferred type.
    pub fields: Vec<crate::table::Field>,
}

/// Choose column types — a code read as a number kept as text, say. Every cell of a column
/// must fit its type. Under review, the department's clerks and administrators; on a
/// published resource an administrator, and the datastore is loaded again.
#[utoipa::path(put, path = "/api/v1/opendata/resources/{id}/fields", tag = "open-data", security(("bearer" = [])), params(("id" = String, Path)), request_body = FieldsRequest,
    responses((status = 200, body = ReviewView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn set_fields(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<FieldsRequest>,
) -> AppResult<Json<ReviewView>> {
    let chosen = request.fields.into_iter().map(|f| (f.id, f.kind)).collect();
    let resource = crate::service::set_column_types(&state, &actor, &id, chosen).await?;
    Ok(Json(view(&state, &actor, resource).await?))
}

/// Publish an upload once nothing blocks it: an administrator of the department who did not
/// upload or treat it last. The treated table is served and queryable; the raw upload is
/// deleted.
#[utoipa::path(post, path = "/api/v1/opendata/resources/{id}/publication", tag = "open-data", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ReviewView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn publish(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<ReviewView>> {
    let resource = crate::service::publish_resource(&state, &actor, &id).await?;
    Ok(Json(view(&state, &actor, resource).await?))
}
