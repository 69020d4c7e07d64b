//! JSON API of administration.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tongban_core::{RegionCode, Uscc};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, AccountWithRoles, By, NewAccountRequest, NewDepartment, NewRegion};
use super::store::{AdminEvent, Department, Region};
use crate::authz::{Action, Resource, can};
use crate::error::{AppError, AppResult, Problem};
use crate::identity::model::{Role, RoleGrant};
use crate::identity::personal::{self, Enterprise};
use crate::state::AppState;
use crate::web::extract::{ApiActor, ApiJson};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(reset_password))
        .routes(routes!(grant_role))
        .routes(routes!(pending_grants))
        .routes(routes!(approve_grant))
        .routes(routes!(refuse_grant))
        .routes(routes!(revoke_role))
        .routes(routes!(list_roles))
        .routes(routes!(list_regions, create_region))
        .routes(routes!(list_departments, create_department))
        .routes(routes!(list_events))
        .routes(routes!(register_person))
        .routes(routes!(register_enterprise))
}

fn parse<T: std::str::FromStr>(field: &'static str, text: &str) -> AppResult<T>
where
    T::Err: std::fmt::Display,
{
    text.trim()
        .parse()
        .map_err(|error: T::Err| AppError::invalid(field, error))
}

fn parse_optional<T: std::str::FromStr>(
    field: &'static str,
    text: Option<&str>,
) -> AppResult<Option<T>>
where
    T::Err: std::fmt::Display,
{
    text.map(|text| parse(field, text)).transpose()
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Page {
    #[serde(default = "default_limit")]
    pub limit: i64,
    #[serde(default)]
    pub offset: i64,
}

fn default_limit() -> i64 {
    100
}

/// The accounts within the system administrator's scope.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])), params(Page),
    responses((status = 200, body = [AccountWithRoles]), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_users(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(page): Query<Page>,
) -> AppResult<Json<Vec<AccountWithRoles>>> {
    Ok(Json(
        service::list_accounts(&state, &actor, page.limit, page.offset).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub username: String,
    pub display_name: String,
    #[schema(value_type = String)]
    pub role: Role,
    pub department_id: Option<String>,
    pub region_code: Option<String>,
    pub person_id: Option<String>,
    pub enterprise_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    /// The account; it has no password or second factor until its holder activates it with
    /// the code delivered to them (never to the administrator).
    pub account: AccountWithRoles,
    /// True: the activation code is queued for delivery to the holder.
    pub activation_sent: bool,
    /// The first role's request, when it waits for a security administrator's approval (roles
    /// over personal data, or reaching a whole city).
    pub pending_grant: Option<String>,
}

/// Create a staff account with its first role (system administrator). Citizens and
/// enterprises enrol through their own verified channel, not here.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])), request_body = CreateUserRequest,
    responses((status = 201, body = CreatedUser), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<CreateUserRequest>,
) -> AppResult<(StatusCode, Json<CreatedUser>)> {
    let region_code = parse_optional::<RegionCode>("region_code", request.region_code.as_deref())?;
    let created = service::create_account(
        &state,
        By::Actor(&actor),
        NewAccountRequest {
            username: request.username,
            display_name: request.display_name,
            role: request.role,
            department_id: request.department_id,
            region_code,
            person_id: request.person_id,
            enterprise_id: request.enterprise_id,
            password: None,
        },
    )
    .await?;
    let roles = crate::identity::store::grants(state.pool(), &created.account.id).await?;
    let account = AccountWithRoles {
        account: created.account,
        roles,
    };
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            account,
            activation_sent: true,
            pending_grant: created.pending_grant,
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResetPasswordResponse {
    /// True: the staff member's sessions, tokens, password and second factor are gone, and an
    /// activation code is queued for delivery to them.
    pub activation_sent: bool,
}

/// Reset a staff account's credentials: its sessions and tokens end, its password and second
/// factor are cleared, and its holder activates it again with a code delivered to them.
/// Citizens' and enterprises' accounts are not reset by administrators.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/password", tag = "admin", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ResetPasswordResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn reset_password(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<ResetPasswordResponse>> {
    service::reset_password(&state, By::Actor(&actor), &id, None).await?;
    Ok(Json(ResetPasswordResponse {
        activation_sent: true,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    #[schema(value_type = String)]
    pub role: Role,
    pub region_code: Option<String>,
    pub department_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrantResponse {
    /// The role as now held (201), or none while it waits for approval (202).
    pub granted: Option<RoleGrant>,
    /// The request awaiting a second security administrator (202).
    pub pending_request: Option<String>,
}

/// Grant a role (security administrator; never to oneself). Roles over personal data, or
/// reaching a whole city, wait for a second security administrator (202).
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/roles", tag = "admin", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = GrantRequest, responses((status = 201, body = GrantResponse), (status = 202, body = GrantResponse), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn grant_role(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<GrantRequest>,
) -> AppResult<(StatusCode, Json<GrantResponse>)> {
    let region_code = parse_optional::<RegionCode>("region_code", request.region_code.as_deref())?;
    let grant = service::grant_role(
        &state,
        By::Actor(&actor),
        &id,
        request.role,
        region_code,
        request.department_id,
    )
    .await?;
    Ok(match grant {
        service::GrantOutcome::Granted(grant) => (
            StatusCode::CREATED,
            Json(GrantResponse {
                granted: Some(grant),
                pending_request: None,
            }),
        ),
        service::GrantOutcome::Pending(id) => (
            StatusCode::ACCEPTED,
            Json(GrantResponse {
                granted: None,
                pending_request: Some(id),
            }),
        ),
    })
}

/// Grant requests the caller may decide: a security administrator who did not ask for them.
#[utoipa::path(get, path = "/api/v1/admin/grant-requests", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [service::PendingGrant]), (status = 403, body = Problem)))]
async fn pending_grants(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<service::PendingGrant>>> {
    Ok(Json(service::pending_grants(&state, &actor).await?))
}

/// Approve a grant request (a security administrator other than the requester): the role is
/// held from now on.
#[utoipa::path(post, path = "/api/v1/admin/grant-requests/{id}/approve", tag = "admin", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn approve_grant(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    service::decide_grant(&state, &actor, &id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Refuse a grant request (a security administrator other than the requester).
#[utoipa::path(post, path = "/api/v1/admin/grant-requests/{id}/refuse", tag = "admin", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn refuse_grant(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    service::decide_grant(&state, &actor, &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke every grant of one role from an account (security administrator).
#[utoipa::path(delete, path = "/api/v1/admin/users/{id}/roles/{role}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path), ("role" = String, Path)), responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn revoke_role(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, role)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let role: Role = role
        .parse()
        .map_err(|_| AppError::invalid("role", "unknown role"))?;
    service::revoke_role(&state, By::Actor(&actor), &id, role).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleInfo {
    pub role: String,
    pub staff: bool,
    pub administrator: bool,
}

/// The roles of the platform (any of the three administrators).
#[utoipa::path(get, path = "/api/v1/admin/roles", tag = "admin", security(("bearer" = [])), responses((status = 200, body = [RoleInfo]), (status = 403, body = Problem)))]
async fn list_roles(ApiActor(actor): ApiActor) -> AppResult<Json<Vec<RoleInfo>>> {
    if !can(&actor, Action::ListRoles, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
    Ok(Json(
        Role::ALL
            .iter()
            .map(|role| RoleInfo {
                role: role.as_str().into(),
                staff: role.is_staff(),
                administrator: role.is_trio(),
            })
            .collect(),
    ))
}

/// The region tree (any staff).
#[utoipa::path(get, path = "/api/v1/admin/regions", tag = "admin", security(("bearer" = [])), responses((status = 200, body = [Region]), (status = 403, body = Problem)))]
async fn list_regions(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<Region>>> {
    Ok(Json(service::list_regions(&state, &actor).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRegionRequest {
    /// GB/T 2260 code (6 digits), or a 9-digit township or 12-digit village code.
    pub code: String,
    pub name: String,
    pub name_en: String,
}

/// Add a region below an existing one (system administrator).
#[utoipa::path(post, path = "/api/v1/admin/regions", tag = "admin", security(("bearer" = [])), request_body = CreateRegionRequest,
    responses((status = 201, body = Region), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_region(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<CreateRegionRequest>,
) -> AppResult<(StatusCode, Json<Region>)> {
    let code = parse::<RegionCode>("code", &request.code)?;
    let region = service::create_region(
        &state,
        By::Actor(&actor),
        NewRegion {
            code,
            name: request.name,
            name_en: request.name_en,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(region)))
}

/// The departments (any staff).
#[utoipa::path(get, path = "/api/v1/admin/departments", tag = "admin", security(("bearer" = [])), responses((status = 200, body = [Department]), (status = 403, body = Problem)))]
async fn list_departments(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<Department>>> {
    Ok(Json(service::list_departments(&state, &actor).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDepartmentRequest {
    pub region_code: String,
    pub name: String,
    pub name_en: String,
    pub kind: String,
    pub uscc: Option<String>,
}

/// Add a department to a region (system administrator).
#[utoipa::path(post, path = "/api/v1/admin/departments", tag = "admin", security(("bearer" = [])), request_body = CreateDepartmentRequest,
    responses((status = 201, body = Department), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_department(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<CreateDepartmentRequest>,
) -> AppResult<(StatusCode, Json<Department>)> {
    let new = NewDepartment {
        region_code: parse("region_code", &request.region_code)?,
        name: request.name,
        name_en: request.name_en,
        kind: request.kind,
        uscc: parse_optional::<Uscc>("uscc", request.uscc.as_deref())?,
    };
    Ok((
        StatusCode::CREATED,
        Json(service::create_department(&state, By::Actor(&actor), new).await?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    #[serde(default = "default_limit")]
    pub limit: i64,
}

/// Administrative events, newest first (audit administrator).
#[utoipa::path(get, path = "/api/v1/admin/events", tag = "admin", security(("bearer" = [])), params(EventsQuery),
    responses((status = 200, body = [AdminEvent]), (status = 403, body = Problem)))]
async fn list_events(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(query): Query<EventsQuery>,
) -> AppResult<Json<Vec<AdminEvent>>> {
    Ok(Json(
        service::list_events(&state, &actor, query.limit).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterPersonRequest {
    pub region_code: String,
    pub name: String,
    /// GB 11643 citizen ID number.
    pub resident_id: String,
    pub phone: Option<String>,
    /// Where the person lives, within the region (sealed at rest like the other fields).
    #[serde(default)]
    pub address: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredPerson {
    pub id: String,
}

/// Register a natural person (system administrator or clerk of the region).
#[utoipa::path(post, path = "/api/v1/admin/persons", tag = "admin", security(("bearer" = [])), request_body = RegisterPersonRequest,
    responses((status = 201, body = RegisteredPerson), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn register_person(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<RegisterPersonRequest>,
) -> AppResult<(StatusCode, Json<RegisteredPerson>)> {
    let region: RegionCode = parse("region_code", &request.region_code)?;
    let fields = personal::parse_fields(
        &request.name,
        &request.resident_id,
        request.phone.as_deref(),
        request.address.as_deref(),
    )?;
    if super::store::region(state.pool(), region.as_str())
        .await?
        .is_none()
    {
        return Err(AppError::invalid("region_code", "no such region"));
    }
    let id = personal::register_person(&state, Some(&actor), &region, &fields).await?;
    Ok((StatusCode::CREATED, Json(RegisteredPerson { id })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterEnterpriseRequest {
    /// GB 32100 unified social credit code.
    pub uscc: String,
    pub name: String,
    pub region_code: String,
    /// The ID number of its legal representative (法定代表人), a person registered here; the
    /// enterprise's account recovers through their phone.
    #[serde(default)]
    pub representative_resident_id: Option<String>,
}

/// Register an enterprise (system administrator or clerk of the region).
#[utoipa::path(post, path = "/api/v1/admin/enterprises", tag = "admin", security(("bearer" = [])), request_body = RegisterEnterpriseRequest,
    responses((status = 201, body = Enterprise), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn register_enterprise(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<RegisterEnterpriseRequest>,
) -> AppResult<(StatusCode, Json<Enterprise>)> {
    let uscc: Uscc = parse("uscc", &request.uscc)?;
    let region: RegionCode = parse("region_code", &request.region_code)?;
    if super::store::region(state.pool(), region.as_str())
        .await?
        .is_none()
    {
        return Err(AppError::invalid("region_code", "no such region"));
    }
    let representative = match request.representative_resident_id.as_deref() {
        None => None,
        Some(text) => {
            let id: tongban_core::ResidentId = parse("representative_resident_id", text)?;
            Some(
                personal::person_id_by_resident_id(&state, &id)
                    .await?
                    .ok_or_else(|| {
                        AppError::invalid(
                            "representative_resident_id",
                            "no person with this ID number is registered",
                        )
                    })?,
            )
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(
            personal::register_enterprise(
                &state,
                Some(&actor),
                &uscc,
                &request.name,
                &region,
                representative.as_deref(),
            )
            .await?,
        ),
    ))
}
