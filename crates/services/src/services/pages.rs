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
        .route("/console/services/{code}/json", get(edit_form).post(save))
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
    /// The attribute that marks Chinese text on an English page.
    zh_only: &'static str,
}

async fn search(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageQuery(query): PageQuery<super::Query>,
) -> Result<Response, PageError> {
    let mut results = super::list(&state, &query)
        .await
        .map_err(|e| ctx.error(e))?;
    let (themes, life_events) = super::facets(&state).await.map_err(|e| ctx.error(e))?;
    let implementing: std::collections::BTreeSet<String> = super::store::all(state.pool())
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .map(|i| i.definition.department)
        .collect();
    let departments: Vec<(String, String)> = crate::admin::directory::departments(&state)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .filter_map(|d| {
            let name = if ctx.t.english() { d.name_en } else { d.name };
            d.uscc
                .filter(|u| implementing.contains(u))
                .map(|u| (u, name))
        })
        .collect();
    // On an English page, names in English where the catalogue has them (`name_en` stays to
    // tell the page which are still in Chinese).
    if ctx.t.english() {
        for r in &mut results {
            if let Some(en) = &r.name_en {
                r.name = en.clone();
            }
            if let Some((_, name)) = departments.iter().find(|(u, _)| *u == r.department_uscc) {
                r.department = name.clone();
            }
        }
    }
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
        zh_only: zh_marker(&ctx),
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

/// A place to go, in the page's language: (name, address, hours, phone, phone as a `tel:`
/// target).
type PlaceView = (String, String, String, Option<(String, String)>);

#[derive(Template)]
#[template(path = "service.html")]
struct GuidePage {
    base: PageBase,
    item: ServiceDefinition,
    /// The item's text in the page's language where it has one.
    name: String,
    guide: String,
    conditions: String,
    result: String,
    /// The reason for visits, and the attribute marking it when it is in Chinese alone.
    visits_reason: Option<(String, &'static str)>,
    /// False on an English page for an item whose text exists in Chinese alone (it is then
    /// shown in Chinese, marked as such).
    translated: bool,
    /// The attribute that marks text in Chinese on an English page: for text that exists in
    /// Chinese alone (legal bases, addresses), and for the item's text when untranslated.
    zh_only: &'static str,
    untranslated: &'static str,
    department: String,
    statutory: String,
    promised: String,
    depth: &'static str,
    /// (name, form, required, pulled from the certificate library).
    materials: Vec<(String, String, bool, bool)>,
    /// The process chart: submission, the workflow's steps, completion.
    steps: Vec<String>,
    places: Vec<PlaceView>,
    consultation: Option<(String, String)>,
    complaint: Option<(String, String)>,
}

/// A telephone number and its `tel:` target.
fn phone_link(phone: &str) -> (String, String) {
    let target: String = phone.chars().filter(|c| !c.is_whitespace()).collect();
    (phone.to_owned(), target)
}

/// The name of a workflow step for the process chart.
fn step_name(ctx: &PageCtx, step: &str) -> String {
    let key = format!("services.step.{step}");
    if crate::web::i18n::Tr::has(&key) {
        ctx.t.get(&key).to_owned()
    } else {
        step.replace('_', " ")
    }
}

/// An item's English text, on an English page, where it has one.
pub fn english<'a>(ctx: &PageCtx, item: &'a ServiceDefinition) -> Option<&'a super::item::English> {
    item.en.as_ref().filter(|_| ctx.t.english())
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
    let en = english(&ctx, &item);
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
            let name = en
                .and_then(|en| en.materials.get(&m.name))
                .unwrap_or(&m.name);
            (
                name.clone(),
                form,
                m.required,
                m.source == Source::CertificateLibrary,
            )
        })
        .collect();
    let mut steps = vec![ctx.t.get("services.step.submit").to_owned()];
    steps.extend(
        tongban_workflow::table::Workflow::stages(&item.steps)
            .into_iter()
            .map(|s| step_name(&ctx, s)),
    );
    steps.push(ctx.t.get("services.step.done").to_owned());
    let places = item
        .places
        .iter()
        .map(|p| {
            let pick = |zh: &String, en: &Option<String>| match en {
                Some(en) if ctx.t.english() => en.clone(),
                _ => zh.clone(),
            };
            (
                pick(&p.name, &p.name_en),
                p.address.clone(),
                pick(&p.hours, &p.hours_en),
                p.phone.as_deref().map(phone_link),
            )
        })
        .collect();
    let department = department_name(&state, &ctx, &item.department)
        .await
        .unwrap_or(detail.department_name);
    Ok(ctx.render(&GuidePage {
        base: ctx.base("services.guide"),
        name: en.map_or(&item.name, |en| &en.name).clone(),
        guide: en.map_or(&item.guide, |en| &en.guide).clone(),
        conditions: en
            .and_then(|en| en.acceptance_conditions.clone())
            .unwrap_or_else(|| item.acceptance_conditions.clone()),
        result: en
            .and_then(|en| en.result.clone())
            .unwrap_or_else(|| item.result.name.clone()),
        visits_reason: match en.and_then(|en| en.visits_reason.clone()) {
            Some(reason) => Some((reason, "")),
            None => item
                .visits_reason
                .clone()
                .map(|reason| (reason, zh_marker(&ctx))),
        },
        translated: !ctx.t.english() || en.is_some(),
        zh_only: zh_marker(&ctx),
        untranslated: if en.is_none() { zh_marker(&ctx) } else { "" },
        department,
        statutory: limit_text(&ctx, item.statutory_limit),
        promised: limit_text(&ctx, item.promised_limit),
        depth: ["", "Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"][usize::from(item.online_depth.min(4))],
        materials,
        steps,
        places,
        consultation: item.consultation_phone.as_deref().map(phone_link),
        complaint: item.complaint_phone.as_deref().map(phone_link),
        item,
    }))
}

/// ` lang="zh-CN"` on an English page, for an element whose text is in Chinese.
pub fn zh_marker(ctx: &PageCtx) -> &'static str {
    if ctx.t.english() {
        " lang=\"zh-CN\""
    } else {
        ""
    }
}

/// A department's name in the page's language, by its USCC.
async fn department_name(state: &AppState, ctx: &PageCtx, uscc: &str) -> Option<String> {
    let department = crate::admin::directory::department_by_uscc(state, uscc)
        .await
        .ok()
        .flatten()?;
    Some(if ctx.t.english() {
        department.name_en
    } else {
        department.name
    })
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
