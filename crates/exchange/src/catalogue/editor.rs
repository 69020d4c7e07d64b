//! The catalogue's editor: a department's administrators create and change its resources on
//! `/exchange/resources/new` and `/exchange/resources/{code}/edit`. Items are rows of one form
//! (three empty rows for new items), so the page works without scripts; a save breaking the
//! catalogue's rules comes back with the form as filled and the rule named.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use super::model::{
    DataItem, FORMATS, ITEM_KINDS, OpenType, PERSONAL_CATEGORIES, ResourceDraft, ShareType,
    UPDATE_CYCLES,
};
use super::service;
use crate::authz::{Action, Resource as On, can};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::PageForm;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/exchange/resources/new", get(new).post(save_new))
        .route("/exchange/resources/{code}/edit", get(edit).post(save_edit))
        .route("/exchange/resources/{code}/openapi", post(save_openapi))
}

/// Blank item rows offered below the existing ones.
const BLANK_ROWS: usize = 3;

#[derive(Template)]
#[template(path = "exchange_editor.html")]
struct EditorPage {
    base: PageBase,
    /// None for a new resource.
    code: Option<String>,
    form: Form,
    error: Option<String>,
    kinds: &'static [&'static str],
    categories: &'static [&'static str],
    cycles: &'static [&'static str],
    formats: &'static [&'static str],
    /// For a resource an external system serves: the OpenAPI description, as registered or as
    /// just posted (an empty text when none is).
    openapi: Option<String>,
}

/// The form's values, as shown and as posted.
#[derive(Default)]
struct Form {
    code: String,
    name: String,
    description: String,
    share_type: String,
    share_conditions: String,
    legal_basis: String,
    open_type: String,
    update_cycle: String,
    format: String,
    service: String,
    items: Vec<ItemRow>,
}

#[derive(Default, Clone)]
struct ItemRow {
    code: String,
    name: String,
    kind: String,
    length: String,
    personal: String,
}

impl Form {
    fn with_blank_rows(mut self) -> Form {
        self.items
            .extend(std::iter::repeat_n(ItemRow::default(), BLANK_ROWS));
        self
    }

    fn from_fields(fields: &BTreeMap<String, String>) -> Form {
        let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
        let mut items = Vec::new();
        for i in 0..100 {
            let cell = |part: &str| fields.get(&format!("item.{i}.{part}")).cloned();
            let Some(code) = cell("code") else { break };
            items.push(ItemRow {
                code,
                name: cell("name").unwrap_or_default(),
                kind: cell("kind").unwrap_or_default(),
                length: cell("length").unwrap_or_default(),
                personal: cell("personal").unwrap_or_default(),
            });
        }
        Form {
            code: get("code"),
            name: get("name"),
            description: get("description"),
            share_type: get("share_type"),
            share_conditions: get("share_conditions"),
            legal_basis: get("legal_basis"),
            open_type: get("open_type"),
            update_cycle: get("update_cycle"),
            format: get("format"),
            service: get("service"),
            items,
        }
    }

    /// The draft the form describes: rows without a code are left out.
    fn draft(&self) -> Result<ResourceDraft, AppError> {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let mut items = Vec::new();
        for row in self.items.iter().filter(|r| !r.code.trim().is_empty()) {
            let length = match row.length.trim() {
                "" => None,
                n => Some(n.parse::<i64>().map_err(|_| {
                    AppError::invalid(
                        "items",
                        format!("{}: the length is a whole number", row.code),
                    )
                })?),
            };
            items.push(DataItem {
                code: row.code.trim().to_owned(),
                name: row.name.trim().to_owned(),
                kind: row.kind.clone(),
                length,
                personal: text(&row.personal),
            });
        }
        Ok(ResourceDraft {
            name: self.name.clone(),
            description: self.description.clone(),
            share_type: ShareType::parse(&self.share_type)
                .ok_or_else(|| AppError::invalid("share_type", "choose a share type"))?,
            share_conditions: text(&self.share_conditions),
            legal_basis: text(&self.legal_basis),
            open_type: OpenType::parse(&self.open_type)
                .ok_or_else(|| AppError::invalid("open_type", "choose an open type"))?,
            update_cycle: self.update_cycle.clone(),
            format: self.format.clone(),
            service: text(&self.service),
            items,
        })
    }
}

fn may_edit(ctx: &PageCtx, department: &str) -> Result<(), PageError> {
    let actor = ctx.actor()?;
    if can(
        actor,
        Action::ManageDataCatalogue,
        On::Department { id: department },
    ) {
        Ok(())
    } else {
        Err(ctx.error(AppError::Forbidden))
    }
}

fn page(ctx: &PageCtx, code: Option<String>, form: Form, error: Option<String>) -> Response {
    page_with(ctx, code, form, error, None)
}

fn page_with(
    ctx: &PageCtx,
    code: Option<String>,
    form: Form,
    error: Option<String>,
    openapi: Option<String>,
) -> Response {
    let failed = error.is_some();
    let mut response = ctx.render(&EditorPage {
        base: ctx.base("exchange.editor"),
        code,
        form,
        error,
        kinds: &ITEM_KINDS,
        categories: &PERSONAL_CATEGORIES,
        cycles: &UPDATE_CYCLES,
        formats: &FORMATS,
        openapi,
    });
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

async fn new(ctx: PageCtx) -> Result<Response, PageError> {
    let department = ctx
        .actor()?
        .account
        .department_id
        .clone()
        .unwrap_or_default();
    may_edit(&ctx, &department)?;
    let form = Form {
        share_type: "conditional".into(),
        open_type: "none".into(),
        update_cycle: "daily".into(),
        format: "api".into(),
        ..Form::default()
    };
    Ok(page(&ctx, None, form.with_blank_rows(), None))
}

async fn edit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    edit_page(&state, &ctx, code, None, None).await
}

/// The editor of an existing resource; `openapi` is a description just posted and refused
/// for `error`.
async fn edit_page(
    state: &AppState,
    ctx: &PageCtx,
    code: String,
    openapi: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let state = state.clone();
    let actor = ctx.actor()?;
    let resource = service::resource(&state, actor, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    may_edit(ctx, &resource.department_id)?;
    let external = resource
        .service
        .as_deref()
        .is_some_and(|s| s.starts_with("http://") || s.starts_with("https://"));
    let openapi = match (external, openapi) {
        (false, _) => None,
        (true, Some(posted)) => Some(posted),
        (true, None) => Some(
            super::described::description(&state, &code)
                .await
                .map_err(|e| ctx.error(e))?
                .and_then(|d| serde_json::to_string_pretty(&d).ok())
                .unwrap_or_default(),
        ),
    };
    let form = Form {
        code: resource.code.clone(),
        name: resource.name,
        description: resource.description,
        share_type: resource.share_type.as_str().into(),
        share_conditions: resource.share_conditions.unwrap_or_default(),
        legal_basis: resource.legal_basis.unwrap_or_default(),
        open_type: resource.open_type.as_str().into(),
        update_cycle: resource.update_cycle,
        format: resource.format,
        service: resource.service.unwrap_or_default(),
        items: resource
            .items
            .into_iter()
            .map(|i| ItemRow {
                code: i.code,
                name: i.name,
                kind: i.kind,
                length: i.length.map(|n| n.to_string()).unwrap_or_default(),
                personal: i.personal.unwrap_or_default(),
            })
            .collect(),
    };
    Ok(page_with(
        ctx,
        Some(code),
        form.with_blank_rows(),
        error,
        openapi,
    ))
}

/// Registers the OpenAPI description posted from the editor.
async fn save_openapi(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    PageForm(fields): PageForm<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(fields.get("csrf").map(String::as_str).unwrap_or_default())?;
    let text = fields.get("document").cloned().unwrap_or_default();
    let described = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(document) => super::described::describe(&state, actor, &code, document).await,
        Err(e) => Err(AppError::invalid("document", format!("not JSON: {e}"))),
    };
    match described {
        Ok(_) => Ok(ctx.redirect(&format!("/exchange/resources/{code}/edit#openapi"))),
        Err(AppError::Invalid { reason, .. }) => {
            let error = format!("{}：{reason}", ctx.t.get("exchange.openapi"));
            edit_page(&state, &ctx, code, Some(text), Some(error)).await
        }
        Err(other) => Err(ctx.error(other)),
    }
}

async fn save(
    state: &AppState,
    ctx: &PageCtx,
    code: Option<String>,
    fields: BTreeMap<String, String>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(fields.get("csrf").map(String::as_str).unwrap_or_default())?;
    let form = Form::from_fields(&fields);
    let target = code.clone().unwrap_or_else(|| form.code.trim().to_owned());
    let saved = match form.draft() {
        Ok(draft) => service::save(state, actor, &target, draft).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(resource) => Ok(ctx.redirect(&format!("/exchange#resource-{}", resource.code))),
        Err(AppError::Invalid { field, reason }) => {
            let error = format!(
                "{}：{reason}",
                ctx.t.get(&format!("exchange.field.{field}"))
            );
            Ok(page(ctx, code, form, Some(error)))
        }
        Err(other) => Err(ctx.error(other)),
    }
}

async fn save_new(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(fields): PageForm<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    save(&state, &ctx, None, fields).await
}

async fn save_edit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    PageForm(fields): PageForm<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    save(&state, &ctx, Some(code), fields).await
}
