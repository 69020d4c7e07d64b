//! The trust page of the security administrators (`/admin/trust`): recognised regions (互认)
//! and the EU DCC signer certificates — imports proposed by one and approved by a second,
//! removals at once.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::authz::{Action, Resource, can};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::extract::PageForm;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/trust", get(show))
        .route("/admin/trusted-regions", post(import_region))
        .route(
            "/admin/trusted-regions/{region}/remove",
            post(remove_region),
        )
        .route("/admin/dcc-signers", post(import_dcc_signers))
        .route("/admin/dcc-signers/remove", post(remove_dcc_signer))
        .route("/admin/dcc-anchors/remove", post(remove_dcc_anchor))
        .route(
            "/admin/trust-proposals/{id}/approve",
            post(approve_proposal),
        )
}

#[derive(Template)]
#[template(path = "trust.html")]
struct TrustPage {
    base: PageBase,
    notice: Option<String>,
    /// 互认: the regions recognised.
    trusted: Vec<super::regions::TrustedRegion>,
    /// The EU DCC signer certificates trusted.
    dcc_signers: Vec<super::dcc::SignerSummary>,
    /// What the signers are checked against.
    dcc_anchors: Vec<super::dcc::AnchorSummary>,
    /// Changes waiting for a second security administrator: (id, what, by whom, when, mine).
    proposals: Vec<(String, String, String, String, bool)>,
}

async fn show(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    render(&state, &ctx, None).await
}

/// The page for the security administrators, with an optional notice; anyone else is refused.
async fn render(
    state: &AppState,
    ctx: &PageCtx,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    if !can(actor, Action::ManageTrust, Resource::Platform) {
        return Err(ctx.error(AppError::Forbidden));
    }
    let load = async {
        let mut trusted = super::regions::list(state).await?;
        for region in &mut trusted {
            region.issued_at = state.zone().display_rfc3339(&region.issued_at);
        }
        let mut dcc_signers = super::dcc::list_signers(state).await?;
        for signer in &mut dcc_signers {
            signer.not_after = state.zone().display_rfc3339(&signer.not_after);
        }
        let mut proposals = Vec::new();
        for p in super::proposals::open(state, actor).await? {
            let by = crate::identity::store::account(state.pool(), &p.proposed_by)
                .await?
                .map(|a| a.display_name)
                .unwrap_or_else(|| p.proposed_by.clone());
            let mine = p.proposed_by == actor.id();
            proposals.push((
                p.id,
                p.summary,
                by,
                state.zone().display(p.proposed_at),
                mine,
            ));
        }
        AppResult::Ok(TrustPage {
            base: ctx.base("trust.page"),
            notice,
            trusted,
            dcc_signers,
            dcc_anchors: super::dcc::list_anchors(state).await?,
            proposals,
        })
    };
    let page = load.await.map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&page))
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

#[derive(Deserialize)]
struct ImportRegionForm {
    csrf: String,
    trust_list: String,
    root_key: String,
}

/// A security administrator proposes importing another region's trust list under its pinned
/// root key.
async fn import_region(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<ImportRegionForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    if !can(actor, Action::ManageTrust, Resource::Platform) {
        return Err(ctx.error(AppError::Forbidden));
    }
    let change = super::proposals::TrustChange::Region {
        trust_list: form.trust_list.trim().to_owned(),
        root_key: form.root_key,
    };
    super::proposals::propose(&state, actor, change)
        .await
        .map_err(|e| ctx.error(e))?;
    render(&state, &ctx, Some(ctx.t.get("trust.proposed").to_owned())).await
}

/// A second security administrator approves a proposed change; it is made at once.
async fn approve_proposal(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    super::proposals::approve(&state, actor, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    render(&state, &ctx, Some(ctx.t.get("trust.approved").to_owned())).await
}

async fn remove_region(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(region): Path<String>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    if !can(actor, Action::ManageTrust, Resource::Platform) {
        return Err(ctx.error(AppError::Forbidden));
    }
    if !super::regions::remove(&state, &region, actor.id())
        .await
        .map_err(|e| ctx.error(e))?
    {
        return Err(ctx.error(AppError::NotFound));
    }
    render(
        &state,
        &ctx,
        Some(format!("{} {region}", ctx.t.get("trust.removed"))),
    )
    .await
}

#[derive(serde::Deserialize)]
struct DccSignersForm {
    csrf: String,
    list: String,
}

/// A security administrator proposes trusting DCC signer certificates (PEM or the gateway's
/// JSON).
async fn import_dcc_signers(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<DccSignersForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    if !can(actor, Action::ManageTrust, Resource::Platform) {
        return Err(ctx.error(AppError::Forbidden));
    }
    let change = super::proposals::TrustChange::DccSigners { list: form.list };
    super::proposals::propose(&state, actor, change)
        .await
        .map_err(|e| ctx.error(e))?;
    render(&state, &ctx, Some(ctx.t.get("trust.proposed").to_owned())).await
}

#[derive(serde::Deserialize)]
struct DccSignerForm {
    csrf: String,
    kid: String,
}

async fn remove_dcc_signer(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<DccSignerForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    if !can(actor, Action::ManageTrust, Resource::Platform) {
        return Err(ctx.error(AppError::Forbidden));
    }
    if !super::dcc::remove_signer(&state, &form.kid, actor.id())
        .await
        .map_err(|e| ctx.error(e))?
    {
        return Err(ctx.error(AppError::NotFound));
    }
    let notice = format!("{} {}", ctx.t.get("dcc.removed"), form.kid);
    render(&state, &ctx, Some(notice)).await
}

#[derive(Deserialize)]
struct DccAnchorForm {
    csrf: String,
    fingerprint: String,
}

async fn remove_dcc_anchor(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<DccAnchorForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    if !can(actor, Action::ManageTrust, Resource::Platform) {
        return Err(ctx.error(AppError::Forbidden));
    }
    if !super::dcc::remove_anchor(&state, form.fingerprint.trim(), actor.id())
        .await
        .map_err(|e| ctx.error(e))?
    {
        return Err(ctx.error(AppError::NotFound));
    }
    let notice = format!("{} {}", ctx.t.get("dcc.removed"), form.fingerprint.trim());
    render(&state, &ctx, Some(notice)).await
}
