//! The security page of every account: the second factor and the account's own API tokens.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::service::{self, TotpEnrolment};
use super::store;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::PageForm;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/security", get(show))
        .route("/security/totp", post(begin_totp))
        .route("/security/totp/confirm", post(confirm_totp))
        .route("/security/tokens", post(create_token))
        .route("/security/tokens/{id}/revoke", post(revoke_token))
        .route("/security/password", post(change_password))
}

struct TokenRow {
    id: String,
    label: String,
    created: String,
    expires: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    base: PageBase,
    notice: Option<String>,
    secrets: Vec<String>,
    totp_enabled: bool,
    enrolment: Option<TotpEnrolment>,
    tokens: Vec<TokenRow>,
}

async fn render(
    state: &AppState,
    ctx: &PageCtx,
    notice: Option<&str>,
    secrets: Vec<String>,
    enrolment: Option<TotpEnrolment>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let now = state.now();
    let account = store::account(state.pool(), actor.id())
        .await
        .map_err(|e| ctx.error(e))?;
    let tokens = store::tokens_of(state.pool(), actor.id())
        .await
        .map_err(|e| ctx.error(e))?;
    let page = SecurityPage {
        base: ctx.base("security.title"),
        notice: notice.map(|key| ctx.t.get(key).to_owned()),
        secrets,
        totp_enabled: account.is_some_and(|a| a.totp_enabled),
        enrolment,
        tokens: tokens
            .into_iter()
            .map(|t| TokenRow {
                active: t.revoked_at.is_none() && t.expires_at.is_none_or(|end| end > now),
                id: t.id,
                label: t.label,
                created: state.zone().display(t.created_at),
                expires: t
                    .expires_at
                    .map(|t| state.zone().display(t))
                    .unwrap_or_else(|| "—".into()),
            })
            .collect(),
    };
    Ok(ctx.render(&page))
}

async fn show(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    render(&state, &ctx, None, Vec::new(), None).await
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

/// A form that confirms the password (and one-time code) again.
#[derive(Deserialize)]
struct ConfirmedForm {
    csrf: String,
    password: String,
    #[serde(default)]
    totp: Option<String>,
}

/// The password and code a form sent, as the service checks them (an empty code field is no
/// code).
fn confirmation(password: String, totp: Option<String>) -> service::Confirmation {
    service::Confirmation {
        password,
        totp: totp.filter(|code| !code.trim().is_empty()),
    }
}

async fn begin_totp(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<ConfirmedForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let enrolment =
        service::begin_totp_enrolment(&state, actor, &confirmation(form.password, form.totp))
            .await
            .map_err(|e| ctx.error(e))?;
    render(&state, &ctx, None, Vec::new(), Some(enrolment)).await
}

#[derive(Deserialize)]
struct ConfirmForm {
    csrf: String,
    code: String,
}

async fn confirm_totp(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    service::confirm_totp_enrolment(&state, actor, &form.code)
        .await
        .map_err(|e| ctx.error(e))?;
    render(&state, &ctx, Some("security.totp_done"), Vec::new(), None).await
}

#[derive(Deserialize)]
struct TokenForm {
    csrf: String,
    label: String,
    days: String,
    password: String,
    #[serde(default)]
    totp: Option<String>,
}

async fn create_token(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<TokenForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let days: i64 = form.days.trim().parse().map_err(|_| {
        ctx.error(AppError::invalid(
            "expires_in_days",
            "must be a number of days",
        ))
    })?;
    let confirmation = confirmation(form.password, form.totp);
    let token = service::create_own_token(&state, actor, &form.label, days, &confirmation)
        .await
        .map_err(|e| ctx.error(e))?;
    render(
        &state,
        &ctx,
        Some("security.token_created"),
        vec![token],
        None,
    )
    .await
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    password: String,
    #[serde(default)]
    totp: Option<String>,
    new_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<PasswordForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let confirmation = confirmation(form.password, form.totp);
    service::change_own_password(
        &state,
        actor,
        ctx.raw_session.as_deref(),
        &confirmation,
        &form.new_password,
    )
    .await
    .map_err(|e| ctx.error(e))?;
    render(
        &state,
        &ctx,
        Some("security.password_changed"),
        Vec::new(),
        None,
    )
    .await
}

async fn revoke_token(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    service::revoke_own_token(&state, actor, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    render(&state, &ctx, Some("console.done"), Vec::new(), None).await
}
