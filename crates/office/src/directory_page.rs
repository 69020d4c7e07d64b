//! `/office/directory`: the directory (通讯录) as officials use it, on the phone and the desk —
//! a search box (name, pinyin initials, post, phone number), the organs by region, an organ's
//! units as a tree and its people with their posts (leaders first), a button that opens a
//! work phone (on record), and for the organ's administrators the forms that keep its part.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::authz::{self, Action, Resource};
use crate::directory::{self, Directory, NewPost, NewUnit};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::PageForm;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/office/directory", get(page))
        .route("/office/directory/units", post(add_unit))
        .route("/office/directory/units/{id}", post(change_unit))
        .route("/office/directory/posts", post(add_post))
        .route("/office/directory/posts/{id}/remove", post(remove_post))
        .route("/office/directory/phones", post(set_phone))
        .route("/office/directory/people/{account}/phone", post(open_phone))
}

/// A unit as the page draws it: indented by its level.
struct UnitLine {
    id: String,
    parent_id: Option<String>,
    name: String,
    path: String,
    indent: usize,
}

/// A person as the page lists them.
struct PersonLine {
    account_id: String,
    name: String,
    /// (post id, place, title, leader) of each post.
    posts: Vec<(String, String, String, bool)>,
    has_phone: bool,
    /// The phone, once opened on this page.
    phone: Option<String>,
}

#[derive(Template)]
#[template(path = "office_directory.html")]
struct DirectoryPage {
    base: PageBase,
    query: String,
    /// (id, name, region) of the organs listed.
    organs: Vec<(String, String, String)>,
    /// The organ shown, when one is.
    organ: Option<(String, String)>,
    units: Vec<UnitLine>,
    people: Vec<PersonLine>,
    /// The reader keeps the organ's part: the forms are shown.
    keeps: bool,
    /// (account id, name) of the organ's staff, for the forms.
    staff: Vec<(String, String)>,
    searched: bool,
}

#[derive(Debug, Deserialize)]
struct Ask {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    organ: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(ask): Query<Ask>,
) -> Result<Response, PageError> {
    render(&state, &ctx, ask.q.as_deref(), ask.organ.as_deref(), None).await
}

async fn render(
    state: &AppState,
    ctx: &PageCtx,
    query: Option<&str>,
    organ: Option<&str>,
    opened: Option<(String, String)>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let found: Directory = directory::look_up(state, actor, query, organ)
        .await
        .map_err(|e| ctx.error(e))?;
    let searched = query.is_some_and(|q| !q.trim().is_empty());
    let shown = (!searched)
        .then(|| found.organs.first().filter(|_| organ.is_some()))
        .flatten()
        .map(|o| (o.id.clone(), o.name.clone()));
    let keeps = shown.as_ref().is_some_and(|(id, _)| {
        authz::can(actor, Action::KeepDirectory, Resource::Department { id })
    });
    let staff = if keeps {
        found
            .people
            .iter()
            .map(|p| (p.account_id.clone(), p.name.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let regions = crate::admin::store::regions(state.pool())
        .await
        .map_err(|e| ctx.error(e))?;
    let region_name = |code: &str| {
        regions
            .iter()
            .find(|r| r.code.as_str() == code)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| code.to_owned())
    };
    Ok(ctx.render(&DirectoryPage {
        base: ctx.base("office.directory"),
        query: query.unwrap_or_default().to_owned(),
        organs: found
            .organs
            .iter()
            .map(|o| (o.id.clone(), o.name.clone(), region_name(&o.region_code)))
            .collect(),
        organ: shown,
        units: found
            .units
            .iter()
            .map(|u| UnitLine {
                id: u.id.clone(),
                parent_id: u.parent_id.clone(),
                name: u.name.clone(),
                path: u.path.clone(),
                indent: usize::try_from(u.level - 2).unwrap_or(0),
            })
            .collect(),
        people: found
            .people
            .into_iter()
            .map(|p| PersonLine {
                phone: opened
                    .as_ref()
                    .filter(|(account, _)| *account == p.account_id)
                    .map(|(_, phone)| phone.clone()),
                posts: p
                    .posts
                    .into_iter()
                    .map(|post| (post.id, post.place, post.title, post.leader))
                    .collect(),
                account_id: p.account_id,
                name: p.name,
                has_phone: p.has_phone,
            })
            .collect(),
        keeps,
        staff,
        searched,
    }))
}

type Fields = std::collections::BTreeMap<String, String>;

fn field(fields: &Fields, name: &str) -> String {
    fields.get(name).cloned().unwrap_or_default()
}

fn optional(fields: &Fields, name: &str) -> Option<String> {
    fields
        .get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A change the organ's administrator makes on the page, then the organ's page again.
async fn keep(
    state: &AppState,
    ctx: &PageCtx,
    fields: &Fields,
    change: impl AsyncFnOnce(&AppState, &crate::identity::model::Actor) -> Result<(), AppError>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(fields, "csrf"))?;
    let organ = actor
        .account
        .department_id
        .clone()
        .ok_or_else(|| ctx.error(AppError::Forbidden))?;
    change(state, actor).await.map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect(&format!("/office/directory?organ={organ}")))
}

async fn add_unit(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let new = NewUnit {
        parent: optional(&fields, "parent"),
        name: field(&fields, "name"),
    };
    keep(&state, &ctx, &fields, async |state, actor| {
        directory::add_unit(state, actor, new).await.map(drop)
    })
    .await
}

async fn change_unit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let change = NewUnit {
        parent: optional(&fields, "parent"),
        name: field(&fields, "name"),
    };
    keep(&state, &ctx, &fields, async |state, actor| {
        directory::change_unit(state, actor, &id, change)
            .await
            .map(drop)
    })
    .await
}

async fn add_post(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let new = NewPost {
        account: field(&fields, "account"),
        unit: optional(&fields, "unit"),
        title: field(&fields, "title"),
        leader: fields
            .get("leader")
            .is_some_and(|v| v == "on" || v == "true"),
    };
    keep(&state, &ctx, &fields, async |state, actor| {
        directory::add_post(state, actor, new).await.map(drop)
    })
    .await
}

async fn remove_post(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    keep(&state, &ctx, &fields, async |state, actor| {
        directory::remove_post(state, actor, &id).await
    })
    .await
}

async fn set_phone(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let (account, phone) = (field(&fields, "account"), field(&fields, "phone"));
    keep(&state, &ctx, &fields, async |state, actor| {
        directory::set_phone(state, actor, &account, &phone).await
    })
    .await
}

/// Opens a phone and shows the organ's page (or the search) again with it: a POST, so that
/// no link or prefetch reads a phone, and the read is on record.
async fn open_phone(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(account): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let phone = directory::phone(&state, actor, &account, None)
        .await
        .map_err(|e| ctx.error(e))?;
    let query = optional(&fields, "q");
    let organ = optional(&fields, "organ");
    render(
        &state,
        &ctx,
        query.as_deref(),
        organ.as_deref(),
        Some((phone.account_id, phone.phone)),
    )
    .await
}
