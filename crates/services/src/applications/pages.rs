//! Pages of applications: apply (/services/{code}/apply), my applications and inbox
//! (/applications), one application with its actions (/applications/{id}), and the clerk's
//! queue (/workbench/applications).

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::{ApplicationView, Detail, FieldView};
use crate::error::AppError;
use crate::services::item::Source;
use crate::state::AppState;
use crate::web::extract::{PageForm, PageQuery};
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
        .route("/services/{code}/draft/discard", post(discard_draft))
        .route("/bundle-applications/{id}", get(bundle_status))
        .route("/applications", get(mine))
        .route("/applications/{id}", get(detail))
        .route("/applications/{id}/act", post(act))
        .route(
            "/applications/{id}/resubmit",
            post(resubmit).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/applications/{id}/materials/{material}", get(material))
        .route(
            "/applications/{id}/materials/{material}/certificate",
            get(pulled_certificate),
        )
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
    fields: Vec<FormRow>,
    /// Materials the library provides, and those to upload.
    pulled: Vec<String>,
    uploads: Vec<UploadSlot>,
    /// Whether the applicant has agreed that the library's certificates be obtained.
    consent: bool,
    consent_error: Option<String>,
    /// What stopped the submission besides its fields (in the page's language).
    message: Option<String>,
    /// For a single item: where its draft is discarded (the form may be saved as a draft).
    draft_discard: Option<String>,
    /// The notice of a draft restored or just saved.
    draft_notice: Option<String>,
    /// This filling of the form: sent again (a second click, the form sent again after going
    /// back), it shows the application the first sending made instead of making another.
    form_key: String,
}

/// One field of a form as a page shows it: the input's type, the value (known, or as typed)
/// and what is wrong with it, beside it.
pub struct FormRow {
    pub code: String,
    pub label: String,
    /// `text`, `date` or `number`.
    pub input: &'static str,
    pub required: bool,
    /// Filled in from the record; not editable.
    pub prefilled: bool,
    pub value: String,
    pub error: Option<String>,
}

/// A material to upload: its slot in the form, its name, whether it is required, a file
/// already received for it (kept when the form comes back with a problem), and the problem.
pub struct UploadSlot {
    pub index: usize,
    pub name: String,
    pub required: bool,
    pub kept: Option<String>,
    pub error: Option<String>,
}

/// The rows of a form: each field with its known value or the value typed, and its problem.
fn form_rows(
    views: &[FieldView],
    typed: &BTreeMap<String, String>,
    problems: &BTreeMap<String, String>,
) -> Vec<FormRow> {
    views
        .iter()
        .map(|view| FormRow {
            code: view.field.code.clone(),
            label: view.field.label.clone(),
            input: match view.field.kind {
                tongban_forms::FieldKind::Date => "date",
                tongban_forms::FieldKind::Number => "number",
                tongban_forms::FieldKind::Text | tongban_forms::FieldKind::List => "text",
            },
            required: view.field.required,
            prefilled: view.value.is_some(),
            value: view
                .value
                .clone()
                .or_else(|| typed.get(&view.field.code).cloned())
                .unwrap_or_default(),
            error: problems.get(&view.field.code).cloned(),
        })
        .collect()
}

/// Every problem of the typed values, by field code, in the page's language (a prefilled
/// field has its known value and no problem).
fn field_problems(
    t: &crate::web::i18n::Tr,
    views: &[FieldView],
    typed: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let fields: Vec<_> = views.iter().map(|v| v.field.clone()).collect();
    let mut submitted: BTreeMap<String, String> = typed
        .iter()
        .filter(|(code, _)| fields.iter().any(|f| &&f.code == code))
        .map(|(code, value)| (code.clone(), value.clone()))
        .collect();
    for view in views {
        if let Some(known) = &view.value {
            submitted.insert(view.field.code.clone(), known.clone());
        }
    }
    let unbound: Vec<_> = fields
        .into_iter()
        .map(|mut f| {
            f.prefill = None;
            f
        })
        .collect();
    match tongban_forms::check(&unbound, &submitted, &tongban_forms::Known::new()) {
        Ok(_) => BTreeMap::new(),
        Err(errors) => errors
            .into_iter()
            .map(|e| {
                let key = match e.problem {
                    tongban_forms::Problem::Required => "form.problem.required",
                    tongban_forms::Problem::TooLong => "form.problem.too_long",
                    tongban_forms::Problem::NotADate => "form.problem.date",
                    tongban_forms::Problem::NotANumber => "form.problem.number",
                    tongban_forms::Problem::Unknown => "form.problem.unknown",
                };
                (e.field, t.get(key).to_owned())
            })
            .collect(),
    }
}

/// The upload slots of a form, with the files received so far and what is missing.
fn upload_slots(
    t: &crate::web::i18n::Tr,
    slots: &[(usize, String, bool)],
    received: &BTreeMap<String, String>,
    check: bool,
) -> Vec<UploadSlot> {
    slots
        .iter()
        .map(|(index, name, required)| {
            let kept = received.get(name).cloned();
            UploadSlot {
                index: *index,
                name: name.clone(),
                required: *required,
                error: (check && *required && kept.is_none())
                    .then(|| t.get("form.problem.file").to_owned()),
                kept,
            }
        })
        .collect()
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

/// The item's name and its form's labels in the page's language, where the item has them
/// (in Chinese otherwise).
fn in_language(
    ctx: &PageCtx,
    item: &crate::services::item::ServiceDefinition,
    fields: &mut [super::FieldView],
) -> String {
    let en = crate::services::pages::english(ctx, item);
    for view in fields.iter_mut() {
        if let Some(label) = en.and_then(|en| en.form.get(&view.field.code)) {
            view.field.label = label.clone();
        }
    }
    en.map_or(&item.name, |en| &en.name).clone()
}

/// `?draft=saved` after a draft was saved.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftQuery {
    #[serde(default)]
    draft: Option<String>,
}

async fn apply_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    PageQuery(query): PageQuery<DraftQuery>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let stored = crate::services::item_by_code(&state, &code)
        .await
        .map_err(|e| ctx.error(e))?
        .ok_or_else(|| ctx.error(AppError::NotFound))?;
    let item = stored.definition;
    let (kind, _) = super::applicant_kind(actor).map_err(|e| ctx.error(e))?;
    let mut fields = super::form_for(&state, actor, &item)
        .await
        .map_err(|e| ctx.error(e))?;
    let name = in_language(&ctx, &item, &mut fields);
    let (pulled, uploads) = material_slots(&state, kind, &[&item])
        .await
        .map_err(|e| ctx.error(e))?;
    let no_problems = BTreeMap::new();
    // A draft saved before fills the form again, with its files.
    let draft = super::drafts::load(&state, actor, &code)
        .await
        .map_err(|e| ctx.error(e))?
        .unwrap_or_default();
    let draft_notice = (draft.saved_at > 0).then(|| {
        let key = match query.draft.as_deref() {
            Some("saved") => "draft.saved",
            _ => "draft.restored",
        };
        format!(
            "{} {}",
            ctx.t.get(key),
            state.zone().display(draft.saved_at)
        )
    });
    Ok(ctx.render(&ApplyPage {
        base: ctx.base("apply.title"),
        action: format!("/services/{code}/apply"),
        name,
        parts: Vec::new(),
        fields: form_rows(&fields, &draft.form, &no_problems),
        pulled,
        uploads: upload_slots(&ctx.t, &uploads, &draft.uploads, false),
        consent: false,
        consent_error: None,
        message: None,
        draft_discard: Some(format!("/services/{code}/draft/discard")),
        draft_notice,
        form_key: crate::random::new_id(),
    }))
}

/// The applicant discards their draft of an item; the form opens empty again.
async fn discard_draft(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    super::drafts::discard(&state, actor.id(), &code)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect(&format!("/services/{code}/apply")))
}

#[derive(serde::Deserialize)]
struct CsrfOnly {
    csrf: String,
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
    let no_problems = BTreeMap::new();
    Ok(ctx.render(&ApplyPage {
        base: ctx.base("apply.title"),
        action: format!("/bundles/{code}/apply"),
        name: bundle.name,
        parts: items.into_iter().map(|i| i.definition.name).collect(),
        fields: form_rows(&fields, &no_problems, &no_problems),
        pulled,
        uploads: upload_slots(&ctx.t, &uploads, &no_problems, false),
        consent: false,
        consent_error: None,
        message: None,
        draft_discard: None,
        draft_notice: None,
        form_key: crate::random::new_id(),
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

/// Reads the apply form — `csrf` first, then `use_certificates`, `field.<code>`,
/// `file.<slot>` per material to upload and `kept.<slot>` for a file received before — and
/// returns the request and any other text parts (a resubmission's `version`). The token is checked
/// before anything else is read, so a forged form costs one small part; there are at most
/// [`MAX_TEXT_PARTS`] text parts of 4 KiB and one file per material, each stored as it is
/// read (at most one file is held at a time).
async fn read_apply_form(
    state: &AppState,
    ctx: &PageCtx,
    items: &[&crate::services::item::ServiceDefinition],
    mut multipart: Multipart,
) -> Result<(super::ApplyRequest, BTreeMap<String, String>), PageError> {
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
    let mut files = std::collections::BTreeSet::new();
    let mut others = BTreeMap::new();
    let slot_of = |slot: &str| {
        slot.parse::<usize>()
            .ok()
            .and_then(|i| slots.get(i))
            .ok_or_else(|| ctx.error(AppError::invalid("uploads", "no such material")))
    };
    while let Some(mut field) = multipart.next_field().await.map_err(|_| unreadable())? {
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(slot) = name.strip_prefix("file.") {
            let material = slot_of(slot)?;
            if !files.insert(material.1.clone()) {
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
                } else if let Some(slot) = other.strip_prefix("kept.") {
                    // A file received with an earlier try of this form (the page keeps it);
                    // a new file for the material replaces it. Whose it is, the service checks.
                    let material = slot_of(slot)?;
                    if !value.is_empty() && !files.contains(&material.1) {
                        request.uploads.insert(material.1.clone(), value);
                    }
                } else {
                    others.insert(other.to_owned(), value);
                }
            }
        }
    }
    Ok((request, others))
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
    let (request, others) = read_apply_form(&state, &ctx, &[&stored.definition], multipart).await?;
    if others.get("draft").map(String::as_str) == Some("1") {
        // Saved as it is, problems and all: a draft is finished later.
        super::drafts::save(&state, actor, &code, &request.form, &request.uploads)
            .await
            .map_err(|e| ctx.error(e))?;
        return Ok(ctx.redirect(&format!("/services/{code}/apply?draft=saved")));
    }
    let (kind, _) = super::applicant_kind(actor).map_err(|e| ctx.error(e))?;
    let mut fields = super::form_for(&state, actor, &stored.definition)
        .await
        .map_err(|e| ctx.error(e))?;
    let name = in_language(&ctx, &stored.definition, &mut fields);
    let (pulled, slots) = material_slots(&state, kind, &[&stored.definition])
        .await
        .map_err(|e| ctx.error(e))?;
    let form = FormSpec {
        action: format!("/services/{code}/apply"),
        draft_discard: Some(format!("/services/{code}/draft/discard")),
        name,
        parts: Vec::new(),
        fields,
        pulled,
        slots,
        form_key: form_key_of(&others)
            .map(str::to_owned)
            .unwrap_or_else(crate::random::new_id),
    };
    if let Some(page) = form.problems(&ctx, &request, None) {
        return Ok(page);
    }
    let received = request.clone();
    match super::apply_from_page(&state, actor, &code, request, form_key_of(&others)).await {
        Ok(view) => Ok(ctx.redirect(&format!("/applications/{}", view.id))),
        Err(error) => form.refused(&ctx, &received, error),
    }
}

/// An apply form as it was shown, to show again with its problems.
struct FormSpec {
    action: String,
    /// For a single item: where its draft is discarded.
    draft_discard: Option<String>,
    name: String,
    parts: Vec<String>,
    fields: Vec<FieldView>,
    pulled: Vec<String>,
    slots: Vec<(usize, String, bool)>,
    /// The key of the filling of the form, kept when it is shown again with its problems.
    form_key: String,
}

/// The form key a page sent, when it is one the page could have made.
fn form_key_of(others: &BTreeMap<String, String>) -> Option<&str> {
    others.get("form_key").map(String::as_str).filter(|key| {
        (1..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

impl FormSpec {
    /// The form again with every problem beside its field, what was typed and the files
    /// received kept — or `None` when the page finds nothing wrong. `message` is a problem
    /// the service found (shown above the form).
    fn problems(
        &self,
        ctx: &PageCtx,
        request: &super::ApplyRequest,
        message: Option<String>,
    ) -> Option<Response> {
        let problems = field_problems(&ctx.t, &self.fields, &request.form);
        let uploads = upload_slots(&ctx.t, &self.slots, &request.uploads, true);
        let consent_error = (!self.pulled.is_empty() && !request.use_certificates)
            .then(|| ctx.t.get("form.problem.consent").to_owned());
        if problems.is_empty()
            && uploads.iter().all(|u| u.error.is_none())
            && consent_error.is_none()
            && message.is_none()
        {
            return None;
        }
        let page = ApplyPage {
            base: ctx.base("apply.title"),
            action: self.action.clone(),
            name: self.name.clone(),
            parts: self.parts.clone(),
            fields: form_rows(&self.fields, &request.form, &problems),
            pulled: self.pulled.clone(),
            uploads,
            consent: request.use_certificates,
            consent_error,
            message: Some(message.unwrap_or_else(|| ctx.t.get("form.problems").to_owned())),
            draft_discard: self.draft_discard.clone(),
            draft_notice: None,
            form_key: self.form_key.clone(),
        };
        Some((StatusCode::UNPROCESSABLE_ENTITY, ctx.render(&page)).into_response())
    }

    /// The form again after the service refused it for a reason a person can fix (a
    /// certificate missing from the wallet, say); any other error is an error page.
    fn refused(
        &self,
        ctx: &PageCtx,
        request: &super::ApplyRequest,
        error: AppError,
    ) -> Result<Response, PageError> {
        let detail = match &error {
            AppError::Invalid { reason, .. } => reason.clone(),
            AppError::Conflict(text) | AppError::BadRequest(text) => text.clone(),
            _ => return Err(ctx.error(error)),
        };
        let message = format!(
            "{} {detail}",
            ctx.t.get(&format!("problem.{}", error.slug()))
        );
        Ok(self
            .problems(ctx, request, Some(message))
            .unwrap_or_else(|| ctx.error(error).into_response()))
    }
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
    let (request, others) = read_apply_form(&state, &ctx, &definitions, multipart).await?;
    let (kind, _) = super::applicant_kind(actor).map_err(|e| ctx.error(e))?;
    let (bundle, _, fields) = super::bundle::merged(&state, actor, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let (pulled, slots) = material_slots(&state, kind, &definitions)
        .await
        .map_err(|e| ctx.error(e))?;
    let form = FormSpec {
        action: format!("/bundles/{code}/apply"),
        draft_discard: None,
        name: bundle.name,
        parts: items.iter().map(|i| i.definition.name.clone()).collect(),
        fields,
        pulled,
        slots,
        form_key: form_key_of(&others)
            .map(str::to_owned)
            .unwrap_or_else(crate::random::new_id),
    };
    if let Some(page) = form.problems(&ctx, &request, None) {
        return Ok(page);
    }
    let received = request.clone();
    match super::bundle::apply(&state, actor, &code, request).await {
        Ok(view) => Ok(ctx.redirect(&format!("/bundle-applications/{}", view.id))),
        Err(error) => form.refused(&ctx, &received, error),
    }
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
    /// Saved drafts: (item code, item name, saved at).
    drafts: Vec<(String, String, String)>,
    applications: Vec<ApplicationView>,
    /// (when, application id, item, state).
    notices: Vec<(String, Option<String>, String, String)>,
}

async fn mine(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let mut applications = super::mine(&state, actor).await.map_err(|e| ctx.error(e))?;
    for a in &mut applications {
        for_page(&state, &ctx, a).await;
    }
    let notices = super::notices(&state, actor)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .map(|(at, app, item, to)| (state.zone().display_rfc3339(&at), app, item, to))
        .collect();
    let mut drafts = Vec::new();
    for (code, saved_at) in super::drafts::list(&state, actor)
        .await
        .map_err(|e| ctx.error(e))?
    {
        let name = match crate::services::item_by_code(&state, &code)
            .await
            .map_err(|e| ctx.error(e))?
        {
            Some(item) => {
                let en = crate::services::pages::english(&ctx, &item.definition);
                en.map_or(item.definition.name.clone(), |en| en.name.clone())
            }
            None => code.clone(),
        };
        drafts.push((code, name, state.zone().display(saved_at)));
    }
    Ok(ctx.render(&MinePage {
        base: ctx.base("applications.title"),
        drafts,
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
    /// For a resubmission: the form's fields with the values as entered, and the materials
    /// the applicant may bring.
    fields: Vec<FormRow>,
    uploads: Vec<UploadSlot>,
    /// Actions that need a reason.
    with_reason: Vec<String>,
    /// What the clerk asked to correct, while the application waits for it.
    correction: Option<String>,
    /// Why the last resubmission was not taken (in the page's language).
    message: Option<String>,
    /// The certificate issued as the result, for the clerk: its type's name and status.
    result: Option<(String, String)>,
}

async fn detail(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    detail_page(&state, &ctx, &id, None).await
}

/// A resubmission that came back with problems: what was typed and received, the problems.
struct Retry {
    request: super::ApplyRequest,
    message: String,
}

async fn detail_page(
    state: &AppState,
    ctx: &PageCtx,
    id: &str,
    retry: Option<Retry>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let mut detail = super::detail(state, actor, id)
        .await
        .map_err(|e| ctx.error(e))?;
    for e in &mut detail.history {
        e.at = state.zone().display_rfc3339(&e.at);
    }
    for_page(state, ctx, &mut detail.application).await;
    let applicant = super::applicant_kind(actor).is_ok();
    let correction = (detail.application.state == tongban_workflow::table::CORRECTION)
        .then(|| {
            detail
                .history
                .iter()
                .rev()
                .find(|e| e.action == "request_correction")
                .and_then(|e| e.reason.clone())
        })
        .flatten();
    let mut fields = Vec::new();
    let mut uploads = Vec::new();
    let mut with_reason = Vec::new();
    if let Some(stored) = crate::services::item_by_code(state, &detail.application.item_code)
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
            let views = super::form_for(state, actor, &stored.definition)
                .await
                .map_err(|e| ctx.error(e))?;
            let (kind, _) = super::applicant_kind(actor).map_err(|e| ctx.error(e))?;
            let (_, slots) = material_slots(state, kind, &[&stored.definition])
                .await
                .map_err(|e| ctx.error(e))?;
            let (typed, received, problems) = match &retry {
                Some(retry) => (
                    retry.request.form.clone(),
                    retry.request.uploads.clone(),
                    field_problems(&ctx.t, &views, &retry.request.form),
                ),
                None => {
                    // The values as entered before, by label.
                    let entered: BTreeMap<&str, &str> = detail
                        .form
                        .iter()
                        .map(|(label, value)| (label.as_str(), value.as_str()))
                        .collect();
                    let typed = views
                        .iter()
                        .filter_map(|v| {
                            entered
                                .get(v.field.label.as_str())
                                .map(|value| (v.field.code.clone(), (*value).to_owned()))
                        })
                        .collect();
                    (typed, BTreeMap::new(), BTreeMap::new())
                }
            };
            fields = form_rows(&views, &typed, &problems);
            uploads = upload_slots(&ctx.t, &slots, &received, false);
        }
    }
    let result = match &detail.application.result_certificate {
        Some(id) if !applicant => crate::certs::name_and_status(state, id)
            .await
            .map_err(|e| ctx.error(e))?
            .map(|(name, status)| {
                let status = ctx.t.get(&format!("wallet.status.{status}")).to_owned();
                (name, status)
            }),
        _ => None,
    };
    let status = if retry.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = DetailPage {
        base: ctx.base("applications.one"),
        detail,
        applicant,
        fields,
        uploads,
        with_reason,
        correction,
        message: retry.map(|r| r.message),
        result,
    };
    Ok((status, ctx.render(&page)).into_response())
}

/// The action form: `csrf`, `action`, `version`, and `reason` (required by some actions, an
/// opinion on the others).
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
    if action == "withdraw" && form.get("confirm").map(String::as_str) != Some("1") {
        return Err(ctx.error(AppError::invalid(
            "confirm",
            ctx.t.get("applications.withdraw_confirm"),
        )));
    }
    let request = super::ActionRequest {
        form: None,
        uploads: BTreeMap::new(),
        action,
        version,
        reason: form.get("reason").cloned().filter(|r| !r.trim().is_empty()),
    };
    super::act(&state, actor, &id, request)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect(&format!("/applications/{id}")))
}

/// A resubmission (补正): `csrf` first, then `version`, the corrected `field.<code>` and a
/// file for any material (`file.<slot>`, `kept.<slot>`). Problems come back beside their
/// fields, with what was typed and received kept.
async fn resubmit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let application = super::detail(&state, actor, &id)
        .await
        .map_err(|e| ctx.error(e))?
        .application;
    let stored = crate::services::item_by_code(&state, &application.item_code)
        .await
        .map_err(|e| ctx.error(e))?
        .ok_or_else(|| ctx.error(AppError::NotFound))?;
    let (request, others) = read_apply_form(&state, &ctx, &[&stored.definition], multipart).await?;
    let version = others
        .get("version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ctx.error(AppError::BadRequest("the form has no version".into())))?;
    let views = super::form_for(&state, actor, &stored.definition)
        .await
        .map_err(|e| ctx.error(e))?;
    if !field_problems(&ctx.t, &views, &request.form).is_empty() {
        let message = ctx.t.get("form.problems").to_owned();
        return detail_page(&state, &ctx, &id, Some(Retry { request, message })).await;
    }
    let action = super::ActionRequest {
        action: "resubmit".into(),
        version,
        reason: None,
        form: Some(request.form.clone()),
        uploads: request.uploads.clone(),
    };
    match super::act(&state, actor, &id, action).await {
        Ok(_) => Ok(ctx.redirect(&format!("/applications/{id}"))),
        Err(error @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            let detail = match &error {
                AppError::Invalid { reason, .. } => reason.clone(),
                AppError::Conflict(text) => text.clone(),
                _ => String::new(),
            };
            let message = format!(
                "{} {detail}",
                ctx.t.get(&format!("problem.{}", error.slug()))
            );
            detail_page(&state, &ctx, &id, Some(Retry { request, message })).await
        }
        Err(error) => Err(ctx.error(error)),
    }
}

async fn material(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((id, material)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let file = super::material(&state, actor, &id, &material)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(super::api::attachment(&material, file))
}

/// A certificate the platform pulled for an application, as its annotated copy (加注件) says
/// it: the document, for which use it was released, until when, and whether it checks now.
#[derive(Template)]
#[template(path = "pulled_certificate.html")]
struct PulledPage {
    base: PageBase,
    doc: crate::web::document::DocumentCard,
    application: String,
    material: String,
    /// (label, value) of the annotation.
    annotation: Vec<(String, String)>,
    verified: bool,
    verdict: String,
}

async fn pulled_certificate(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((id, material)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let file = super::material(&state, actor, &id, &material)
        .await
        .map_err(|e| ctx.error(e))?;
    // Only a material the library provided holds a copy; an upload has no certificate page.
    let copy: tongban_certs::copy::SignedCopy = match file.content_type.as_str() {
        "application/json" => serde_json::from_slice(&file.bytes).ok(),
        _ => None,
    }
    .ok_or_else(|| ctx.error(AppError::NotFound))?;
    let checked = crate::certs::usage::verify_copy(&state, &copy)
        .await
        .map_err(|e| ctx.error(e))?;
    let c = &copy.copy.certificate.certificate;
    let cert_type = crate::certs::cert_type(&state, &c.type_code)
        .await
        .map_err(|e| ctx.error(e))?;
    let name_of = |code: &str| {
        cert_type
            .as_ref()
            .and_then(|t| t.items.iter().find(|i| i.code == code))
            .map_or_else(|| code.to_owned(), |i| i.name.clone())
    };
    let title = cert_type
        .as_ref()
        .map(|t| t.name_en.clone())
        .filter(|name| ctx.t.english() && !name.is_empty())
        .unwrap_or_else(|| c.type_name.clone());
    let status = checked.status.clone();
    let doc = crate::web::document::DocumentCard {
        key: c.id.clone(),
        title,
        number: c.number.clone(),
        holder: Some(c.holder.name.clone()),
        issuer: c.issuer.name.clone(),
        issued_on: c.issued_on.clone(),
        valid_until: c
            .valid_until
            .clone()
            .unwrap_or_else(|| ctx.t.get("wallet.no_end").to_owned()),
        items: c
            .items
            .iter()
            .map(|(code, value)| (name_of(code), crate::certs::item_text(value)))
            .collect(),
        status_label: ctx.t.get(&format!("wallet.status.{status}")).to_owned(),
        status,
        link: None,
        tone: crate::web::document::tone(&c.type_code),
    };
    let a = &copy.copy.annotation;
    let zone = state.zone();
    let annotation = vec![
        (
            ctx.t.get("pulled.unit").to_owned(),
            a.using_unit.name.clone(),
        ),
        (ctx.t.get("pulled.item").to_owned(), a.service_name.clone()),
        (ctx.t.get("pulled.cause").to_owned(), a.cause.clone()),
        (
            ctx.t.get("pulled.basis").to_owned(),
            ctx.t.get(&format!("pulled.basis.{}", a.basis)).to_owned(),
        ),
        (
            ctx.t.get("pulled.used_at").to_owned(),
            zone.display_rfc3339(&a.used_at),
        ),
        (
            ctx.t.get("pulled.expires_at").to_owned(),
            zone.display_rfc3339(&a.expires_at),
        ),
    ];
    let verdict = match &checked.reason {
        None if checked.valid => ctx.t.get("pulled.valid").to_owned(),
        None => ctx.t.get("pulled.not_valid_now").to_owned(),
        Some(reason) => format!("{} ({reason})", ctx.t.get("pulled.refused")),
    };
    Ok(ctx.render(&PulledPage {
        base: ctx.base("pulled.title"),
        doc,
        application: id,
        material,
        annotation,
        verified: checked.valid,
        verdict,
    }))
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    base: PageBase,
    applications: Vec<ApplicationView>,
    rectifications: Vec<super::evaluation::RectificationView>,
    statistics: super::evaluation::Statistics,
}

/// An application as a page shows it: its time in the region's zone, and on an English page
/// the item's English name where the catalogue has one.
async fn for_page(state: &AppState, ctx: &PageCtx, a: &mut ApplicationView) {
    a.submitted_at = state.zone().display_rfc3339(&a.submitted_at);
    if ctx.t.english()
        && let Ok(Some(item)) = crate::services::item_by_code(state, &a.item_code).await
        && let Some(en) = &item.definition.en
    {
        a.item_name = en.name.clone();
    }
}

async fn queue(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let mut applications = super::queue(&state, actor)
        .await
        .map_err(|e| ctx.error(e))?;
    for a in &mut applications {
        for_page(&state, &ctx, a).await;
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

/// The workbench's line for a clerk: the applications waiting for the department, and how many
/// are overdue.
#[derive(Template)]
#[template(path = "applications_todo.html")]
struct TodoSection {
    t: crate::web::i18n::Tr,
    waiting: i64,
    overdue: i64,
}

pub async fn home_sections(
    home: crate::module::Home,
    state: &AppState,
    ctx: &crate::module::HomeCtx<'_>,
) -> crate::error::AppResult<Vec<String>> {
    if home != crate::module::Home::Workbench {
        return Ok(Vec::new());
    }
    let Some((waiting, overdue)) = super::queue_counts(state, ctx.actor).await? else {
        return Ok(Vec::new());
    };
    let section = TodoSection {
        t: ctx.t,
        waiting,
        overdue,
    }
    .render()
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok(vec![section])
}
