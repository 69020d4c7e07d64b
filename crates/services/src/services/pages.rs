//! Citizens' pages of the catalogue — search (/services) and each item's guide
//! (/services/{code}) — and the administrators' editor (/console/services).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use super::Summary;
use super::item::{ServiceDefinition, Source, TimeLimit};
use crate::authz::{Action, Resource, can};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::{PageForm, PageQuery};
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/services", get(search))
        .route("/services/{code}", get(guide))
        .route("/console/services", get(console))
        .route("/console/services/{code}", get(edit_form).post(save))
}

#[derive(Template)]
#[template(path = "services.html")]
struct SearchPage {
    base: PageBase,
    q: String,
    theme: String,
    life_event: String,
    department: String,
    /// Departments that implement items: (USCC, name).
    departments: Vec<(String, String)>,
    themes: Vec<String>,
    life_events: Vec<String>,
    results: Vec<Summary>,
    /// Whether anything was asked (to say "nothing found" only then).
    asked: bool,
    /// Whether a filter (theme, life event, department) is chosen: the filters are then open.
    filtered: bool,
    /// Whether the viewer may apply (a visitor is asked to sign in first; staff do not apply).
    may_apply: bool,
    /// 一件事: the bundles of the chosen life event, or all when none is chosen.
    bundles: Vec<crate::applications::bundle::BundleView>,
}

async fn search(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageQuery(query): PageQuery<super::Query>,
) -> Result<Response, PageError> {
    let results = super::list(&state, &query)
        .await
        .map_err(|e| ctx.error(e))?;
    let (themes, life_events) = super::facets(&state).await.map_err(|e| ctx.error(e))?;
    let implementing: std::collections::BTreeSet<String> = super::store::all(state.pool())
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .map(|i| i.definition.department)
        .collect();
    let departments = crate::admin::directory::departments(&state)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .filter_map(|d| {
            d.uscc
                .filter(|u| implementing.contains(u))
                .map(|u| (u, d.name))
        })
        .collect();
    let bundles = crate::applications::bundle::list(&state)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .filter(|b| {
            let event = query
                .life_event
                .as_deref()
                .is_none_or(|e| e.is_empty() || b.life_event.as_deref() == Some(e));
            // Words that name the bundle's life event or part of its name find it too.
            let words = query.q.as_deref().map(str::trim).unwrap_or_default();
            event
                && (words.is_empty()
                    || b.life_event.as_deref() == Some(words)
                    || b.name.contains(words))
        })
        .collect();
    Ok(ctx.render(&SearchPage {
        bundles,
        base: ctx.base("services.title"),
        asked: query.q.is_some()
            || query.theme.is_some()
            || query.life_event.is_some()
            || query.department.is_some(),
        may_apply: ctx
            .actor
            .as_ref()
            .is_none_or(|a| crate::applications::applicant_kind(a).is_ok()),
        filtered: [&query.theme, &query.life_event, &query.department]
            .iter()
            .any(|f| f.as_deref().is_some_and(|v| !v.is_empty())),
        department: query.department.clone().unwrap_or_default(),
        departments,
        q: query.q.unwrap_or_default(),
        theme: query.theme.unwrap_or_default(),
        life_event: query.life_event.unwrap_or_default(),
        themes,
        life_events,
        results,
    }))
}

/// A time limit for people.
pub fn limit_text(ctx: &PageCtx, limit: TimeLimit) -> String {
    match limit {
        TimeLimit::Immediate => ctx.t.get("services.immediate").to_owned(),
        TimeLimit::WorkingDays { days } => {
            format!("{days} {}", ctx.t.get("services.working_days"))
        }
    }
}

#[derive(Template)]
#[template(path = "service.html")]
struct GuidePage {
    base: PageBase,
    item: ServiceDefinition,
    department: String,
    statutory: String,
    promised: String,
    depth: &'static str,
    /// (name, form, required, pulled from the certificate library).
    materials: Vec<(String, String, bool, bool)>,
}

async fn guide(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let detail = super::detail(&state, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let item = detail.item;
    let materials = item
        .materials
        .iter()
        .map(|m| {
            let form = serde_json::to_value(m.form)
                .ok()
                .and_then(|v| {
                    v.as_str()
                        .map(|s| ctx.t.get(&format!("services.form.{s}")).to_owned())
                })
                .unwrap_or_default();
            (
                m.name.clone(),
                form,
                m.required,
                m.source == Source::CertificateLibrary,
            )
        })
        .collect();
    Ok(ctx.render(&GuidePage {
        base: ctx.base("services.guide"),
        department: detail.department_name,
        statutory: limit_text(&ctx, item.statutory_limit),
        promised: limit_text(&ctx, item.promised_limit),
        depth: ["", "Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"][usize::from(item.online_depth.min(4))],
        materials,
        item,
    }))
}

#[derive(Template)]
#[template(path = "service_console.html")]
struct ConsolePage {
    base: PageBase,
    results: Vec<Summary>,
}

/// The catalogue for its administrators (the system administrator and department
/// administrators).
async fn console(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    if !can(actor, Action::OpenServiceCatalogue, Resource::Platform) {
        return Err(ctx.error(AppError::Forbidden));
    }
    let results = super::list(&state, &super::Query::default())
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&ConsolePage {
        base: ctx.base("services.console"),
        results,
    }))
}

#[derive(Template)]
#[template(path = "service_edit.html")]
struct EditPage {
    base: PageBase,
    code: String,
    version: i64,
    text: String,
    /// The refusal of the last save, or the confirmation.
    message: Option<String>,
    saved: bool,
}

async fn edit_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    ctx.actor()?;
    let detail = super::detail(&state, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let text = serde_json::to_string_pretty(&detail.item)
        .map_err(|e| ctx.error(AppError::Internal(e.into())))?;
    Ok(ctx.render(&EditPage {
        base: ctx.base("services.console"),
        code,
        version: detail.version,
        text,
        message: None,
        saved: false,
    }))
}

#[derive(serde::Deserialize)]
struct EditForm {
    csrf: String,
    version: i64,
    definition: String,
}

/// Saves the edited definition; a broken rule or a stale version comes back on the same page
/// with its message and the text as typed.
async fn save(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    PageForm(form): PageForm<EditForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let outcome = match serde_json::from_str::<ServiceDefinition>(&form.definition) {
        Err(error) => Err(AppError::invalid("definition", error)),
        Ok(item) if item.code != code => Err(AppError::invalid(
            "code",
            "the item's code cannot change here",
        )),
        Ok(item) => {
            super::save(
                &state,
                actor,
                super::SaveRequest {
                    item,
                    version: Some(form.version),
                },
            )
            .await
        }
    };
    let (version, message, status) = match outcome {
        Ok(saved) => (saved.version, None, axum::http::StatusCode::OK),
        Err(error @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            (form.version, Some(error.to_string()), error.status())
        }
        Err(error) => return Err(ctx.error(error)),
    };
    let mut response = ctx.render(&EditPage {
        base: ctx.base("services.console"),
        code,
        version,
        text: form.definition,
        saved: message.is_none(),
        message,
    });
    *response.status_mut() = status;
    Ok(response)
}
