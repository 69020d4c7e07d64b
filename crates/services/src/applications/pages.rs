//! Pages of applications: apply (/services/{code}/apply), my applications and inbox
//! (/applications), one application with its actions (/applications/{id}), and the clerk's
//! queue (/workbench/applications).

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::{ApplicationView, Detail, FieldView};
use crate::error::AppError;
use crate::services::item::Source;
use crate::state::AppState;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/services/{code}/apply",
            get(apply_form)
                .post(apply)
                // The handler reads each file up to the configured upload size itself.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/bundles/{code}/apply",
            get(bundle_form)
                .post(apply_bundle)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/bundle-applications/{id}", get(bundle_status))
        .route("/applications", get(mine))
        .route("/applications/{id}", get(detail))
        .route("/applications/{id}/act", post(act))
        .route("/applications/{id}/materials/{material}", get(material))
        .route("/workbench/applications", get(queue))
        .route("/applications/{id}/rate", post(rate))
        .route("/rectifications/{id}/reply", post(reply))
}

#[derive(Template)]
#[template(path = "apply.html")]
struct ApplyPage {
    base: PageBase,
    /// Where the form posts.
    action: String,
    name: String,
    /// For a bundle: the items it applies for.
    parts: Vec<String>,
    fields: Vec<FieldView>,
    /// Materials the library provides, and those to upload: (index, name, required).
    pulled: Vec<String>,
    uploads: Vec<(usize, String, bool)>,
}

/// The materials of some items, each name once in item order: those the library provides
/// for this applicant, and those to upload as (slot, name, required).
async fn material_slots(
    state: &AppState,
    kind: &str,
    items: &[&crate::services::item::ServiceDefinition],
) -> crate::error::AppResult<(Vec<String>, Vec<(usize, String, bool)>)> {
    let mut pulled: Vec<String> = Vec::new();
    let mut uploads: Vec<(usize, String, bool)> = Vec::new();
    for m in items.iter().flat_map(|i| i.materials.iter()) {
        if pulled.contains(&m.name) || uploads.iter().any(|(_, n, _)| *n == m.name) {
            continue;
        }
        let library = match (&m.certificate_type, m.source) {
            (Some(code), Source::CertificateLibrary) => crate::certs::cert_type(state, code)
                .await?
                .is_some_and(|t| t.holder_kind == kind),
            _ => false,
        };
        if library {
            pulled.push(m.name.clone());
        } else if m.source != Source::Department {
            uploads.push((uploads.len(), m.name.clone(), m.required));
        }
    }
    Ok((pulled, uploads))
}

async fn apply_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let stored = crate::services::item_by_code(&state, &code)
        .await
        .map_err(|e| ctx.error(e))?
        .ok_or_else(|| ctx.error(AppError::NotFound))?;
    let item = stored.definition;
    let (kind, _) = super::applicant_kind(actor).map_err(|e| ctx.error(e))?;
    let fields = super::form_for(&state, actor, &item)
        .await
        .map_err(|e| ctx.error(e))?;
    let (pulled, uploads) = material_slots(&state, kind, &[&item])
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&ApplyPage {
        base: ctx.base("apply.title"),
        action: format!("/services/{code}/apply"),
        name: item.name,
        parts: Vec::new(),
        fields,
        pulled,
        uploads,
    }))
}

async fn bundle_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let (kind, _) = super::applicant_kind(actor).map_err(|e| ctx.error(e))?;
    let (bundle, items, fields) = super::bundle::merged(&state, actor, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let definitions: Vec<_> = items.iter().map(|i| &i.definition).collect();
    let (pulled, uploads) = material_slots(&state, kind, &definitions)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&ApplyPage {
        base: ctx.base("apply.title"),
        action: format!("/bundles/{code}/apply"),
        name: bundle.name,
        parts: items.into_iter().map(|i| i.definition.name).collect(),
        fields,
        pulled,
        uploads,
    }))
}

/// Reads one multipart field as text, at most `limit` bytes.
async fn read_field(
    field: &mut axum::extract::multipart::Field<'_>,
    limit: usize,
) -> Result<Vec<u8>, AppError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|_| AppError::BadRequest("the form could not be read".into()))?
    {
        if bytes.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Parts an apply form may have besides its files (fields, the token, the certificate switch).
const MAX_TEXT_PARTS: usize = 200;

/// Reads the apply form — `csrf` first, then `use_certificates`, `field.<code>`, and
/// `file.<slot>` per material to upload — and returns the request. The token is checked
/// before anything else is read, so a forged form costs one small part; there are at most
/// [`MAX_TEXT_PARTS`] text parts of 4 KiB and one file per material, each stored as it is
/// read (at most one file is held at a time).
async fn read_apply_form(
    state: &AppState,
    ctx: &PageCtx,
    items: &[&crate::services::item::ServiceDefinition],
    mut multipart: Multipart,
) -> Result<super::ApplyRequest, PageError> {
    let actor = ctx.actor()?;
    let (kind, _) = super::applicant_kind(actor).map_err(|e| ctx.error(e))?;
    let (_, slots) = material_slots(state, kind, items)
        .await
        .map_err(|e| ctx.error(e))?;
    let unreadable = || ctx.error(AppError::BadRequest("the form could not be read".into()));
    // The token comes first, as the page writes it.
    let mut first = multipart
        .next_field()
        .await
        .map_err(|_| unreadable())?
        .ok_or_else(|| ctx.error(AppError::Forbidden))?;
    if first.name() != Some("csrf") {
        return Err(ctx.error(AppError::Forbidden));
    }
    let csrf = read_field(&mut first, 256)
        .await
        .map_err(|e| ctx.error(e))?;
    ctx.check_csrf(&String::from_utf8_lossy(&csrf))?;
    drop(first);
    let mut request = super::ApplyRequest::default();
    let mut text_parts = 0;
    while let Some(mut field) = multipart.next_field().await.map_err(|_| unreadable())? {
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(slot) = name.strip_prefix("file.") {
            let material = slot
                .parse::<usize>()
                .ok()
                .and_then(|i| slots.get(i))
                .ok_or_else(|| ctx.error(AppError::invalid("uploads", "no such material")))?;
            if request.uploads.contains_key(&material.1) {
                return Err(ctx.error(AppError::invalid("uploads", "one file per material")));
            }
            let bytes = read_field(&mut field, state.config.max_upload_bytes)
                .await
                .map_err(|e| ctx.error(e))?;
            if !bytes.is_empty() {
                let id = super::upload(state, actor, &bytes)
                    .await
                    .map_err(|e| ctx.error(e))?;
                request.uploads.insert(material.1.clone(), id);
            }
            continue;
        }
        text_parts += 1;
        if text_parts > MAX_TEXT_PARTS {
            return Err(ctx.error(AppError::PayloadTooLarge));
        }
        let value = String::from_utf8(
            read_field(&mut field, 4096)
                .await
                .map_err(|e| ctx.error(e))?,
        )
        .map_err(|_| ctx.error(AppError::BadRequest("the form is not UTF-8".into())))?;
        match name.as_str() {
            "use_certificates" => request.use_certificates = value == "1",
            other => {
                if let Some(code) = other.strip_prefix("field.") {
                    request.form.insert(code.to_owned(), value);
                }
            }
        }
    }
    Ok(request)
}

async fn apply(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let stored = crate::services::item_by_code(&state, &code)
        .await
        .map_err(|e| ctx.error(e))?
        .ok_or_else(|| ctx.error(AppError::NotFound))?;
    let request = read_apply_form(&state, &ctx, &[&stored.definition], multipart).await?;
    let view = super::apply(&state, actor, &code, request)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect(&format!("/applications/{}", view.id)))
}

async fn apply_bundle(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let (_, items, _) = super::bundle::merged(&state, actor, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let definitions: Vec<_> = items.iter().map(|i| &i.definition).collect();
    let request = read_apply_form(&state, &ctx, &definitions, multipart).await?;
    let view = super::bundle::apply(&state, actor, &code, request)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect(&format!("/bundle-applications/{}", view.id)))
}

#[derive(Template)]
#[template(path = "bundle_application.html")]
struct BundlePage {
    base: PageBase,
    bundle: super::bundle::BundleApplicationView,
}

async fn bundle_status(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let view = super::bundle::status(&state, actor, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&BundlePage {
        base: ctx.base("bundle.title"),
        bundle: view,
    }))
}

#[derive(Template)]
#[template(path = "applications.html")]
struct MinePage {
    base: PageBase,
    applications: Vec<ApplicationView>,
    /// (when, application id, item, state).
    notices: Vec<(String, Option<String>, String, String)>,
}

async fn mine(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let mut applications = super::mine(&state, actor).await.map_err(|e| ctx.error(e))?;
    for a in &mut applications {
        a.submitted_at = state.zone().display_rfc3339(&a.submitted_at);
    }
    let notices = super::notices(&state, actor)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .map(|(at, app, item, to)| (state.zone().display_rfc3339(&at), app, item, to))
        .collect();
    Ok(ctx.render(&MinePage {
        base: ctx.base("applications.title"),
        applications,
        notices,
    }))
}

#[derive(Template)]
#[template(path = "application.html")]
struct DetailPage {
    base: PageBase,
    detail: Detail,
    /// Whether the viewer is the applicant (else a clerk).
    applicant: bool,
    /// For a resubmission: the form's fields with the values as entered.
    fields: Vec<(FieldView, String)>,
    /// Actions that need a reason.
    with_reason: Vec<String>,
}

async fn detail(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let mut detail = super::detail(&state, actor, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    for e in &mut detail.history {
        e.at = state.zone().display_rfc3339(&e.at);
    }
    detail.application.submitted_at = state
        .zone()
        .display_rfc3339(&detail.application.submitted_at);
    let applicant = super::applicant_kind(actor).is_ok();
    let mut fields = Vec::new();
    let mut with_reason = Vec::new();
    if let Some(stored) = crate::services::item_by_code(&state, &detail.application.item_code)
        .await
        .map_err(|e| ctx.error(e))?
    {
        let flow = tongban_workflow::table::Workflow::from_steps(&stored.definition.steps);
        if let Some(s) = flow.state(&detail.application.state) {
            with_reason = s
                .actions
                .iter()
                .filter(|a| a.needs_reason)
                .map(|a| a.name.clone())
                .collect();
        }
        if applicant && detail.actions.iter().any(|a| a == "resubmit") {
            let entered: BTreeMap<&str, &str> = detail
                .form
                .iter()
                .map(|(label, value)| (label.as_str(), value.as_str()))
                .collect();
            for view in super::form_for(&state, actor, &stored.definition)
                .await
                .map_err(|e| ctx.error(e))?
            {
                let value = entered
                    .get(view.field.label.as_str())
                    .map(|v| (*v).to_owned())
                    .unwrap_or_default();
                fields.push((view, value));
            }
        }
    }
    Ok(ctx.render(&DetailPage {
        base: ctx.base("applications.one"),
        detail,
        applicant,
        fields,
        with_reason,
    }))
}

/// The action form: `csrf`, `action`, `version`, `reason`, and for a resubmission
/// `field.<code>`.
async fn act(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    crate::web::extract::PageForm(form): crate::web::extract::PageForm<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    let action = form.get("action").cloned().unwrap_or_default();
    let version = form
        .get("version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ctx.error(AppError::BadRequest("the form has no version".into())))?;
    let fields: BTreeMap<String, String> = form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("field.").map(|c| (c.to_owned(), v.clone())))
        .collect();
    let request = super::ActionRequest {
        form: (action == "resubmit").then_some(fields),
        action,
        version,
        reason: form.get("reason").cloned().filter(|r| !r.trim().is_empty()),
    };
    super::act(&state, actor, &id, request)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect(&format!("/applications/{id}")))
}

async fn material(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((id, material)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let (_, bytes) = super::material(&state, actor, &id, &material)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(super::api::attachment(&material, bytes))
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    base: PageBase,
    applications: Vec<ApplicationView>,
    rectifications: Vec<super::evaluation::RectificationView>,
    statistics: super::evaluation::Statistics,
}

async fn queue(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let mut applications = super::queue(&state, actor)
        .await
        .map_err(|e| ctx.error(e))?;
    for a in &mut applications {
        a.submitted_at = state.zone().display_rfc3339(&a.submitted_at);
    }
    let rectifications = super::evaluation::rectifications(&state, actor)
        .await
        .map_err(|e| ctx.error(e))?;
    let department = actor.account.department_id.clone().unwrap_or_default();
    let statistics = super::evaluation::statistics(&state, &department)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&QueuePage {
        base: ctx.base("queue.title"),
        applications,
        rectifications,
        statistics,
    }))
}

#[derive(serde::Deserialize)]
struct RateForm {
    csrf: String,
    grade: super::evaluation::Grade,
    #[serde(default)]
    comment: String,
}

async fn rate(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    crate::web::extract::PageForm(form): crate::web::extract::PageForm<RateForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let rating = super::evaluation::Rating {
        grade: form.grade,
        indicators: BTreeMap::new(),
        comment: Some(form.comment),
    };
    super::evaluation::rate(&state, actor, &id, &rating)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect(&format!("/applications/{id}#evaluation")))
}

#[derive(serde::Deserialize)]
struct ReplyForm {
    csrf: String,
    reply: String,
}

async fn reply(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    crate::web::extract::PageForm(form): crate::web::extract::PageForm<ReplyForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    super::evaluation::reply(&state, actor, &id, &form.reply)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect("/workbench/applications#rectifications"))
}
