//! JSON API of identity: login, logout, the caller's own account, and audited reads of people.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::{AccountKind, Language, RoleGrant};
use super::personal::{self, AccessRecord, Enterprise, Purpose};
use super::service::{self, LoginAttempt};
use super::store;
use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;
use crate::time_fmt::rfc3339;
use crate::web::extract::{ApiActor, ApiJson, PeerAddress, RequestId};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(activation_begin))
        .routes(routes!(activation_complete))
        .routes(routes!(recover))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(update_preferences))
        .routes(routes!(my_access_log))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(begin_totp))
        .routes(routes!(confirm_totp))
        .routes(routes!(change_password))
        .routes(routes!(read_person))
        .routes(routes!(lookup_person))
        .routes(routes!(read_enterprise))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The six-digit one-time code; required for staff and for citizens who enabled it.
    #[serde(default)]
    pub totp: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// A bearer token for `Authorization: Bearer …`.
    pub token: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// Log in with password (and one-time code) and receive a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "identity", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = Problem), (status = 429, body = Problem)))]
async fn login(
    State(state): State<AppState>,
    PeerAddress(from): PeerAddress,
    ApiJson(request): ApiJson<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    let account = service::authenticate(
        &state,
        LoginAttempt {
            username: request.username,
            password: request.password,
            totp: request.totp,
            from,
        },
    )
    .await?;
    let (token, expires_at) = service::issue_login_token(&state, &account).await?;
    Ok(Json(LoginResponse {
        token,
        expires_at: rfc3339(expires_at),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivationBegin {
    pub username: String,
    /// The activation code delivered to the holder.
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivationFactor {
    /// The second factor to enrol, for an authenticator app.
    pub otpauth_uri: String,
    /// The same secret in base32.
    pub secret: String,
    /// Staff must enrol it (send a code from it in the second step); a citizen may leave it.
    pub required: bool,
}

/// Activate an account, first step: with the delivered code, a second factor to enrol. A wrong
/// code counts towards the account's lockout and the address's limit, as a failed login does.
#[utoipa::path(post, path = "/api/v1/activation/begin", tag = "identity", request_body = ActivationBegin,
    responses((status = 200, body = ActivationFactor), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn activation_begin(
    State(state): State<AppState>,
    PeerAddress(from): PeerAddress,
    ApiJson(request): ApiJson<ActivationBegin>,
) -> AppResult<Json<ActivationFactor>> {
    let factor = super::activation::begin(&state, &request.username, &request.code, from).await?;
    Ok(Json(ActivationFactor {
        otpauth_uri: factor.uri,
        secret: factor.secret,
        required: factor.required,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryRequest {
    pub username: String,
    /// The ID number on the citizen's record; for an enterprise's account, its legal
    /// representative's.
    pub resident_id: String,
    /// For an enterprise's account: its unified social credit code.
    #[serde(default)]
    pub uscc: Option<String>,
}

/// A citizen who lost their password: when the username and ID number match a record with a
/// phone, an activation code goes to that phone (continue at `/api/v1/activation/…`). An
/// enterprise's account: the username, its USCC and its legal representative's ID number; the
/// code goes to the representative's phone. The answer is the same whether anything matched.
#[utoipa::path(post, path = "/api/v1/recovery", tag = "identity", request_body = RecoveryRequest,
    responses((status = 202), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn recover(
    State(state): State<AppState>,
    PeerAddress(from): PeerAddress,
    ApiJson(request): ApiJson<RecoveryRequest>,
) -> AppResult<StatusCode> {
    let resident_id = request
        .resident_id
        .trim()
        .parse()
        .map_err(|e| AppError::invalid("resident_id", e))?;
    let uscc = request
        .uscc
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| u.parse().map_err(|e| AppError::invalid("uscc", e)))
        .transpose()?;
    super::activation::recover(&state, &request.username, &resident_id, uscc.as_ref(), from)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivationComplete {
    pub username: String,
    pub code: String,
    /// The holder's own password (12 characters or more).
    pub password: String,
    /// A one-time code from the factor enrolled in the first step (a citizen may send "").
    pub totp: String,
}

/// Activate an account, second step: the holder's own password and a code from the enrolled
/// factor. The activation code is spent; the account can log in.
#[utoipa::path(post, path = "/api/v1/activation/complete", tag = "identity", request_body = ActivationComplete,
    responses((status = 204), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn activation_complete(
    State(state): State<AppState>,
    PeerAddress(from): PeerAddress,
    ApiJson(request): ApiJson<ActivationComplete>,
) -> AppResult<StatusCode> {
    super::activation::complete(
        &state,
        &request.username,
        &request.code,
        request.password,
        &request.totp,
        from,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End the credential used for this request (revoke the token).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "identity", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
async fn logout(State(state): State<AppState>, ApiActor(actor): ApiActor) -> AppResult<StatusCode> {
    service::log_out(&state, &actor, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub account_id: String,
    pub username: String,
    pub display_name: String,
    pub kind: AccountKind,
    pub roles: Vec<RoleGrant>,
    pub department_id: Option<String>,
    pub person_id: Option<String>,
    pub enterprise_id: Option<String>,
    pub language: Language,
    pub large_text: bool,
}

/// The caller's account, roles with scopes, and preferences.
#[utoipa::path(get, path = "/api/v1/me", tag = "identity", security(("bearer" = [])),
    responses((status = 200, body = MeResponse), (status = 401, body = Problem)))]
async fn me(ApiActor(actor): ApiActor) -> Json<MeResponse> {
    let account = actor.account;
    Json(MeResponse {
        account_id: account.id,
        username: account.username,
        display_name: account.display_name,
        kind: account.kind,
        roles: actor.grants,
        department_id: account.department_id,
        person_id: account.person_id,
        enterprise_id: account.enterprise_id,
        language: account.language,
        large_text: account.large_text,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    pub language: Language,
    pub large_text: bool,
}

/// Set the interface language and the large-text mode.
#[utoipa::path(put, path = "/api/v1/me/preferences", tag = "identity", security(("bearer" = [])), request_body = Preferences,
    responses((status = 204), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn update_preferences(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(preferences): ApiJson<Preferences>,
) -> AppResult<StatusCode> {
    store::set_preferences(
        state.pool(),
        actor.id(),
        preferences.language,
        preferences.large_text,
    )
    .await?;
    crate::cache::account_changed(&state, actor.id()).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Who accessed my data: every recorded read of the caller's personal data, newest first.
#[utoipa::path(get, path = "/api/v1/me/access-log", tag = "identity", security(("bearer" = [])),
    responses((status = 200, body = [AccessRecord]), (status = 401, body = Problem)))]
async fn my_access_log(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<AccessRecord>>> {
    Ok(Json(
        personal::my_access_records(&state, &actor, 200).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PurposeQuery {
    /// Why the record is read; recorded with the access.
    pub purpose: Purpose,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonResponse {
    pub id: String,
    pub region_code: String,
    pub name: String,
    pub resident_id: String,
    pub phone: Option<String>,
    pub address: Option<String>,
}

impl From<personal::PersonRecord> for PersonResponse {
    fn from(record: personal::PersonRecord) -> Self {
        PersonResponse {
            id: record.id,
            region_code: record.region_code,
            name: record.name.expose().to_owned(),
            resident_id: record.resident_id,
            phone: record.phone.map(|p| p.expose().to_owned()),
            address: record.address.map(|a| a.expose().to_owned()),
        }
    }
}

/// Read a person's record (the person themself, or staff of the region for a stated purpose).
/// The access is recorded before the data is returned.
#[utoipa::path(get, path = "/api/v1/persons/{id}", tag = "identity", security(("bearer" = [])), params(("id" = String, Path), PurposeQuery),
    responses((status = 200, body = PersonResponse), (status = 401, body = Problem), (status = 404, body = Problem), (status = 503, body = Problem)))]
async fn read_person(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    RequestId(request_id): RequestId,
    Path(id): Path<String>,
    Query(query): Query<PurposeQuery>,
) -> AppResult<Json<PersonResponse>> {
    let record =
        personal::read_person(&state, &actor, &id, query.purpose, request_id.as_deref()).await?;
    Ok(Json(record.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    pub resident_id: String,
    pub purpose: Purpose,
}

/// Find a person by citizen ID number (staff of the person's region only). Recorded.
#[utoipa::path(post, path = "/api/v1/persons/lookup", tag = "identity", security(("bearer" = [])), request_body = LookupRequest,
    responses((status = 200, body = PersonResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn lookup_person(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    RequestId(request_id): RequestId,
    ApiJson(request): ApiJson<LookupRequest>,
) -> AppResult<Json<PersonResponse>> {
    let resident_id = request
        .resident_id
        .trim()
        .parse()
        .map_err(|error| AppError::invalid("resident_id", error))?;
    let record = personal::find_person(
        &state,
        &actor,
        &resident_id,
        request.purpose,
        request_id.as_deref(),
    )
    .await?;
    Ok(Json(record.into()))
}

/// Read an enterprise (its own account, or a clerk of its region).
#[utoipa::path(get, path = "/api/v1/enterprises/{id}", tag = "identity", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Enterprise), (status = 404, body = Problem)))]
async fn read_enterprise(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<Json<Enterprise>> {
    Ok(Json(personal::read_enterprise(&state, &actor, &id).await?))
}

/// The caller's API tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "identity", security(("bearer" = [])),
    responses((status = 200, body = [store::TokenSummary]), (status = 401, body = Problem)))]
async fn list_tokens(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> AppResult<Json<Vec<store::TokenSummary>>> {
    Ok(Json(store::tokens_of(state.pool(), actor.id()).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// What the token is for, e.g. the name of the script that uses it.
    pub label: String,
    /// 1 to 366.
    pub expires_in_days: i64,
    /// The account's password, confirmed again.
    pub password: String,
    /// The current one-time code, when the account has a second factor.
    #[serde(default)]
    pub totp: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The current password.
    pub password: String,
    #[serde(default)]
    pub totp: Option<String>,
    pub new_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The secret, shown once.
    pub token: String,
}

/// Issue an API token for the caller's own account.
#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "identity", security(("bearer" = [])), request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 401, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn create_token(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<CreateTokenRequest>,
) -> AppResult<(StatusCode, Json<CreatedToken>)> {
    let token = service::create_own_token(
        &state,
        &actor,
        &request.label,
        request.expires_in_days,
        &service::Confirmation {
            password: request.password,
            totp: request.totp,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token })))
}

/// Revoke one of the caller's API tokens.
#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "identity", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn revoke_token(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    service::revoke_own_token(&state, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start enrolling a (new) one-time-code secret, confirming the password (and the current
/// code) again; it takes effect once a code of the new secret is confirmed.
#[utoipa::path(post, path = "/api/v1/me/totp", tag = "identity", security(("bearer" = [])), request_body = service::Confirmation,
    responses((status = 200, body = service::TotpEnrolment), (status = 401, body = Problem), (status = 403, body = Problem), (status = 429, body = Problem)))]
async fn begin_totp(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(confirmation): ApiJson<service::Confirmation>,
) -> AppResult<Json<service::TotpEnrolment>> {
    Ok(Json(
        service::begin_totp_enrolment(&state, &actor, &confirmation).await?,
    ))
}

/// Change the caller's own password, confirming the current one (and a one-time code). Every
/// other session and API token of the account ends.
#[utoipa::path(put, path = "/api/v1/me/password", tag = "identity", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn change_password(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<ChangePasswordRequest>,
) -> AppResult<StatusCode> {
    let confirmation = service::Confirmation {
        password: request.password,
        totp: request.totp,
    };
    service::change_own_password(&state, &actor, None, &confirmation, &request.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmTotpRequest {
    pub code: String,
}

/// Confirm the new secret with a code from it; from then on logins need a code.
#[utoipa::path(post, path = "/api/v1/me/totp/confirm", tag = "identity", security(("bearer" = [])), request_body = ConfirmTotpRequest,
    responses((status = 204), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn confirm_totp(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(request): ApiJson<ConfirmTotpRequest>,
) -> AppResult<StatusCode> {
    service::confirm_totp_enrolment(&state, &actor, &request.code).await?;
    Ok(StatusCode::NO_CONTENT)
}
