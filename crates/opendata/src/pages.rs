//! The pages of the open-data portal: the portal itself (`/opendata`: themes, search with
//! facets that understands Chinese, results), a dataset's page (its resources with a preview
//! table, a chart of their numbers, downloads, the licence and ready API calls), the download
//! of a published file, and the publisher's console (`/opendata/console`: the department's
//! datasets, uploads, what the personal-data gate found, treatments, publication).

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::chart::Chart;
use crate::ckan;
use crate::error::AppError;
use crate::gate::{Finding, Treatment};
use crate::model::{self, Resource, ResourceState};
use crate::service::{self, Entry, Upload};
use crate::state::AppState;
use crate::web::extract::PageForm;
use crate::web::pages::{PageBase, PageCtx, PageError};

/// Results on one page of the portal's search.
const PAGE_SIZE: usize = 10;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/opendata", get(portal))
        .route("/opendata/dataset/{name}", get(dataset))
        .route("/opendata/console", get(console))
        .route("/opendata/console/datasets", post(create_dataset))
        .route(
            "/opendata/console/datasets/{id}/upload",
            post(upload).layer(axum::extract::DefaultBodyLimit::max(
                service::MAX_UPLOAD + 1024 * 1024,
            )),
        )
        .route(
            "/opendata/console/datasets/{id}/visibility",
            post(visibility),
        )
        .route("/opendata/console/resources/{id}/treat", post(treat))
        .route("/opendata/console/resources/{id}/publish", post(publish))
        .route(
            "/dataset/{dataset}/resource/{id}/download/{file}",
            get(download),
        )
        .route(
            "/catalog.ttl",
            get(|s, h, q| catalogue_export(s, h, q, "ttl")),
        )
        .route(
            "/catalog.jsonld",
            get(|s, h, q| catalogue_export(s, h, q, "jsonld")),
        )
        .route(
            "/catalog.rdf",
            get(|s, h, q| catalogue_export(s, h, q, "rdf")),
        )
        .route("/dataset/{file}", get(dataset_export))
}

/// The catalogue in DCAT-AP, one page (`?page=`, from 1) of [`crate::dcat::PAGE_SIZE`]
/// datasets.
async fn catalogue_export(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    RawQuery(raw): RawQuery,
    extension: &'static str,
) -> Result<Response, AppError> {
    let syntax = crate::dcat::Syntax::from_extension(extension).ok_or(AppError::NotFound)?;
    let page = ckan::form_pairs(raw.unwrap_or_default().as_bytes())
        .into_iter()
        .find(|(k, _)| k == "page")
        .map(|(_, v)| {
            v.parse::<usize>()
                .map_err(|_| AppError::invalid("page", "a page number from 1"))
        })
        .transpose()?
        .unwrap_or(1);
    let catalogue = service::catalogue(&state).await?;
    let body = crate::dcat::catalogue_page(
        &ckan::site_url(&state, &headers),
        &catalogue,
        &state.config.region_code,
        page,
        syntax,
        extension,
    )
    .ok_or(AppError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, syntax.media_type())], body).into_response())
}

/// One dataset in DCAT-AP: `/dataset/{id or name}.ttl` (or `.jsonld`, `.rdf`).
async fn dataset_export(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let (name, extension) = file.rsplit_once('.').ok_or(AppError::NotFound)?;
    let syntax = crate::dcat::Syntax::from_extension(extension).ok_or(AppError::NotFound)?;
    let catalogue = service::catalogue(&state).await?;
    let entry = catalogue
        .entry(name)
        .filter(|e| !e.dataset.private)
        .ok_or(AppError::NotFound)?;
    let body = crate::dcat::dataset(&ckan::site_url(&state, &headers), entry, syntax);
    Ok(([(header::CONTENT_TYPE, syntax.media_type())], body).into_response())
}

/// A published file, as CKAN serves it.
async fn download(
    State(state): State<AppState>,
    Path((_, id, _)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    let file = service::download(&state, &id).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                format!("{}; charset=utf-8", file.media_type),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file.file_name),
            ),
            (header::CONTENT_LENGTH, file.size.to_string()),
        ],
        file.body,
    )
        .into_response())
}

/// The portal's query: text and one value per facet (unknown parameters, such as the
/// language switch's, are ignored).
#[derive(Debug, Default)]
pub struct PortalQuery {
    q: String,
    organization: String,
    groups: String,
    res_format: String,
    tags: String,
    license_id: String,
    page: usize,
}

impl PortalQuery {
    fn read(raw: Option<&str>) -> PortalQuery {
        let mut query = PortalQuery::default();
        for (key, value) in ckan::form_pairs(raw.unwrap_or_default().as_bytes()) {
            match key.as_str() {
                "q" => query.q = value,
                "organization" => query.organization = value,
                "groups" => query.groups = value,
                "res_format" => query.res_format = value,
                "tags" => query.tags = value,
                "license_id" => query.license_id = value,
                "page" => query.page = value.parse().unwrap_or_default(),
                _ => {}
            }
        }
        query
    }
}

/// One facet value as a link: (text, count, href, chosen).
pub struct FacetLink {
    pub text: String,
    pub count: usize,
    pub href: String,
    pub chosen: bool,
}

/// A facet: its title key and values.
pub struct FacetView {
    pub key: &'static str,
    pub links: Vec<FacetLink>,
}

/// A dataset as a result line shows it.
pub struct ResultView {
    pub name: String,
    pub title: String,
    pub notes: String,
    pub organization: String,
    pub formats: Vec<String>,
    pub themes: Vec<String>,
    pub modified: String,
}

fn result_view(entry: &Entry, ctx: &PageCtx) -> ResultView {
    let english = ctx.t.lang() == "en";
    let pick = |zh: &str, en: &str| {
        if english && !en.is_empty() {
            en.to_owned()
        } else {
            zh.to_owned()
        }
    };
    ResultView {
        name: entry.dataset.name.clone(),
        title: pick(&entry.dataset.title, &entry.dataset.title_en),
        notes: entry.dataset.notes.chars().take(120).collect(),
        organization: pick(&entry.organization.title, &entry.organization.title_en),
        formats: entry.formats(),
        themes: entry
            .dataset
            .themes
            .iter()
            .filter_map(|t| model::theme_named(t))
            .map(|t| pick(t.title, t.title_en))
            .collect(),
        modified: ctx.zone.display(entry.dataset.modified_at),
    }
}

#[derive(Template)]
#[template(path = "opendata_portal.html")]
struct PortalPage {
    base: PageBase,
    q: String,
    /// (name, title, count) of each theme.
    themes: Vec<(String, String, usize)>,
    facets: Vec<FacetView>,
    results: Vec<ResultView>,
    count: usize,
    /// (page number from 1, href, current)
    pages: Vec<(usize, String, bool)>,
    searching: bool,
    datasets: usize,
    organizations: usize,
    publisher: bool,
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl PortalQuery {
    fn facet(&self, field: &str) -> &str {
        match field {
            "organization" => &self.organization,
            "groups" => &self.groups,
            "res_format" => &self.res_format,
            "tags" => &self.tags,
            "license_id" => &self.license_id,
            _ => "",
        }
    }

    /// The portal's address with this query, one facet set (or cleared) and the page.
    fn href(&self, set: Option<(&str, &str)>, page: usize) -> String {
        let mut parts = Vec::new();
        if !self.q.is_empty() {
            parts.push(format!("q={}", encode(&self.q)));
        }
        for field in ckan::FACETS {
            let value = match set {
                Some((f, v)) if f == field => v,
                _ => self.facet(field),
            };
            if !value.is_empty() {
                parts.push(format!("{field}={}", encode(value)));
            }
        }
        if page > 0 {
            parts.push(format!("page={page}"));
        }
        if parts.is_empty() {
            "/opendata".into()
        } else {
            format!("/opendata?{}", parts.join("&"))
        }
    }
}

async fn portal(
    State(state): State<AppState>,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let query = PortalQuery::read(raw.as_deref());
    let catalogue = service::catalogue(&state).await.map_err(|e| ctx.error(e))?;
    let q: String = query
        .q
        .chars()
        .take(tongban_search::Query::MAX_CHARS)
        .collect();
    let terms: Vec<ckan::Term> = ckan::FACETS
        .iter()
        .filter(|f| !query.facet(f).is_empty())
        .map(|f| ckan::Term::new(f, query.facet(f), false))
        .collect();
    let sort = ckan::parse_sort(None)
        .map_err(|_| ctx.error(AppError::Internal(anyhow::anyhow!("the default sort"))))?;
    let found = ckan::search(&catalogue, ctx.actor.as_ref(), &q, &terms, &sort, false);
    let facets = ckan::FACETS
        .iter()
        .map(|field| {
            let counts = ckan::facet_counts(&catalogue, &found, field);
            let chosen = query.facet(field);
            FacetView {
                key: match *field {
                    "organization" => "od.facet.organization",
                    "groups" => "od.facet.groups",
                    "res_format" => "od.facet.res_format",
                    "tags" => "od.facet.tags",
                    _ => "od.facet.license_id",
                },
                links: counts
                    .into_iter()
                    .take(12)
                    .map(|(value, count)| FacetLink {
                        text: ckan::facet_display(&catalogue, field, &value),
                        count,
                        chosen: value == chosen,
                        href: query
                            .href(Some((field, if value == chosen { "" } else { &value })), 0),
                    })
                    .collect(),
            }
        })
        .filter(|f| !f.links.is_empty())
        .collect();
    let pages = found.len().div_ceil(PAGE_SIZE);
    let page = query.page.min(pages.saturating_sub(1));
    let english = ctx.t.lang() == "en";
    let public: Vec<&Entry> = catalogue.entries().filter(|e| !e.dataset.private).collect();
    let themes = model::THEMES
        .iter()
        .map(|t| {
            let count = public
                .iter()
                .filter(|e| e.dataset.themes.iter().any(|x| x == t.name))
                .count();
            (
                t.name.to_owned(),
                if english { t.title_en } else { t.title }.to_owned(),
                count,
            )
        })
        .filter(|(_, _, count)| *count > 0)
        .collect();
    let publisher = ctx
        .actor
        .as_ref()
        .and_then(|a| {
            a.account
                .department_id
                .as_deref()
                .map(|d| service::may_prepare(a, d))
        })
        .unwrap_or(false);
    Ok(ctx.render(&PortalPage {
        base: ctx.base("od.title"),
        searching: !q.is_empty() || !terms.is_empty(),
        themes,
        results: found
            .iter()
            .skip(page * PAGE_SIZE)
            .take(PAGE_SIZE)
            .filter_map(|&at| catalogue.at(at))
            .map(|entry| result_view(entry, &ctx))
            .collect(),
        count: found.len(),
        pages: (0..pages)
            .map(|p| (p + 1, query.href(None, p), p == page))
            .collect(),
        facets,
        q,
        datasets: public.len(),
        organizations: catalogue.organizations.len(),
        publisher,
    }))
}

/// A resource as the dataset page shows it.
pub struct ResourceView {
    pub resource: Resource,
    pub download: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub chart: Option<Chart>,
}

#[derive(Template)]
#[template(path = "opendata_dataset.html")]
struct DatasetPage {
    base: PageBase,
    view: ResultView,
    entry: Entry,
    licence: Option<&'static model::Licence>,
    frequency: String,
    resources: Vec<ResourceView>,
    site: String,
}

async fn dataset(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(name): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, PageError> {
    let catalogue = service::catalogue(&state).await.map_err(|e| ctx.error(e))?;
    let entry = catalogue
        .visible(ctx.actor.as_ref())
        .find(|e| e.dataset.name == name || e.dataset.id == name)
        .cloned()
        .ok_or_else(|| ctx.error(AppError::NotFound))?;
    let own = ctx
        .actor
        .as_ref()
        .is_some_and(|a| service::may_prepare(a, &entry.dataset.department_id));
    let mut resources = Vec::new();
    for resource in entry
        .resources
        .iter()
        .filter(|r| own || r.state != ResourceState::Review)
    {
        let (columns, rows, chart) = if resource.state == ResourceState::Published {
            let (columns, rows) = service::preview(&state, ctx.actor.as_ref(), &resource.id, 500)
                .await
                .map_err(|e| ctx.error(e))?;
            let chart = crate::chart::chart(&resource.fields, &rows);
            (
                columns,
                rows.into_iter().take(service::PREVIEW_ROWS).collect(),
                chart,
            )
        } else {
            (Vec::new(), Vec::new(), None)
        };
        resources.push(ResourceView {
            download: ckan::download_path(resource),
            resource: resource.clone(),
            columns,
            rows,
            chart,
        });
    }
    let english = ctx.t.lang() == "en";
    let frequency = model::FREQUENCIES
        .iter()
        .find(|f| f.0 == entry.dataset.frequency)
        .map(|f| if english { f.2 } else { f.1 })
        .unwrap_or_default()
        .to_owned();
    Ok(ctx.render(&DatasetPage {
        base: PageBase {
            title: result_view(&entry, &ctx).title,
            ..ctx.base("od.title")
        },
        view: result_view(&entry, &ctx),
        licence: model::licence(&entry.dataset.license_id),
        frequency,
        resources,
        site: ckan::site_url(&state, &headers),
        entry,
    }))
}

/// A column of an upload under review: what is done to it and its type.
pub struct ColumnRow {
    pub name: String,
    /// The treatment set: `""`, `drop`, `mask` or `declare`, with the reason.
    pub action: String,
    pub reason: String,
    /// The type chosen over the inferred one (`""` where none is).
    pub chosen: String,
    /// The type it has now (`""` for a dropped column).
    pub current: String,
}

/// An upload under review as the console shows it.
pub struct ReviewRow {
    pub resource: Resource,
    pub findings: Vec<(Finding, bool)>,
    pub columns: Vec<ColumnRow>,
    pub preview: Vec<Vec<String>>,
    pub preview_columns: Vec<String>,
    /// Whether this actor may publish it now (an administrator, not its last changer).
    pub can_publish: bool,
}

#[derive(Template)]
#[template(path = "opendata_console.html")]
struct ConsolePage {
    base: PageBase,
    notice: Option<String>,
    organization: Option<model::Organization>,
    datasets: Vec<(Entry, Vec<ReviewRow>)>,
    admin: bool,
    themes: Vec<(String, String)>,
    licences: Vec<(String, String)>,
    frequencies: Vec<(String, String)>,
    /// Resources of the department's data catalogue whose open type allows opening:
    /// (code, name).
    sources: Vec<(String, String)>,
}

async fn render_console(
    state: &AppState,
    ctx: &PageCtx,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let department = actor
        .account
        .department_id
        .clone()
        .filter(|d| service::may_prepare(actor, d))
        .ok_or_else(|| ctx.error(AppError::Forbidden))?;
    let catalogue = service::catalogue(state).await.map_err(|e| ctx.error(e))?;
    let organization = catalogue.organization(&department).cloned();
    let admin = service::may_publish(actor, &department);
    let mut datasets = Vec::new();
    for entry in catalogue
        .entries()
        .filter(|e| e.dataset.department_id == department)
    {
        let mut reviews = Vec::new();
        for resource in entry
            .resources
            .iter()
            .filter(|r| r.state == ResourceState::Review)
        {
            let (preview_columns, preview) = service::preview(state, Some(actor), &resource.id, 5)
                .await
                .map_err(|e| ctx.error(e))?;
            let columns = service::upload_columns(state, resource)
                .await
                .map_err(|e| ctx.error(e))?
                .into_iter()
                .map(|c| {
                    let (action, reason) = match resource.treatments.iter().find(|(t, _)| *t == c) {
                        Some((_, Treatment::Drop)) => ("drop", String::new()),
                        Some((_, Treatment::Mask)) => ("mask", String::new()),
                        Some((_, Treatment::Declare { reason })) => ("declare", reason.clone()),
                        None => ("", String::new()),
                    };
                    ColumnRow {
                        chosen: resource
                            .column_types
                            .iter()
                            .find(|(t, _)| *t == c)
                            .map(|(_, kind)| kind.as_str().to_owned())
                            .unwrap_or_default(),
                        current: resource
                            .fields
                            .iter()
                            .find(|f| f.id == c)
                            .map(|f| f.kind.as_str().to_owned())
                            .unwrap_or_default(),
                        name: c,
                        action: action.to_owned(),
                        reason,
                    }
                })
                .collect();
            let blocking = resource.blocking();
            reviews.push(ReviewRow {
                findings: resource
                    .findings
                    .iter()
                    .map(|f| (f.clone(), blocking.contains(f)))
                    .collect(),
                columns,
                preview,
                preview_columns,
                can_publish: admin && resource.changed_by != actor.id() && blocking.is_empty(),
                resource: resource.clone(),
            });
        }
        datasets.push((entry.clone(), reviews));
    }
    let english = ctx.t.lang() == "en";
    let sources = service::openable_sources(state, actor, &department)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&ConsolePage {
        base: ctx.base("od.console"),
        notice,
        organization,
        datasets,
        admin,
        themes: model::THEMES
            .iter()
            .map(|t| {
                (
                    t.name.to_owned(),
                    if english { t.title_en } else { t.title }.to_owned(),
                )
            })
            .collect(),
        licences: model::LICENCES
            .iter()
            .map(|l| (l.id.to_owned(), l.title.to_owned()))
            .collect(),
        frequencies: model::FREQUENCIES
            .iter()
            .map(|f| (f.0.to_owned(), if english { f.2 } else { f.1 }.to_owned()))
            .collect(),
        sources,
    }))
}

async fn console(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    render_console(&state, &ctx, None).await
}

type Fields = BTreeMap<String, String>;

fn field(fields: &Fields, name: &str) -> String {
    fields
        .get(name)
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

/// After a change: the console again, with a notice.
async fn done(state: &AppState, ctx: &PageCtx, key: &str) -> Result<Response, PageError> {
    render_console(state, ctx, Some(ctx.t.get(key).to_owned())).await
}

async fn create_dataset(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let department = actor.account.department_id.clone().unwrap_or_default();
    let catalogue = service::catalogue(&state).await.map_err(|e| ctx.error(e))?;
    let owner = catalogue
        .organization(&department)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    let input = service::DatasetInput {
        id: None,
        name: field(&fields, "name"),
        owner_org: owner,
        title: field(&fields, "title"),
        title_en: field(&fields, "title_en"),
        notes: field(&fields, "notes"),
        notes_en: String::new(),
        themes: Some(field(&fields, "theme"))
            .filter(|t| !t.is_empty())
            .into_iter()
            .collect(),
        tags: field(&fields, "tags")
            .split([',', '，', '、'])
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect(),
        license_id: field(&fields, "license_id"),
        frequency: field(&fields, "frequency"),
        temporal_start: None,
        temporal_end: None,
        spatial: state.config.region_code.clone(),
        contact_name: field(&fields, "contact_name"),
        contact_email: field(&fields, "contact_email"),
        source: Some(field(&fields, "source")).filter(|s| !s.is_empty()),
        private: true,
    };
    service::create_dataset(&state, actor, input)
        .await
        .map_err(|e| ctx.error(e))?;
    done(&state, &ctx, "od.notice.created").await
}

async fn upload(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    if !service::may_upload(Some(actor)) {
        return Err(ctx.error(AppError::NotAuthorised(
            "only a department's open-data staff send files".into(),
        )));
    }
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::BadRequest("the form could not be read".into())
        }
    };
    let mut csrf_checked = false;
    let mut input = service::ResourceInput::default();
    let mut file: Option<Upload> = None;
    let read = async {
        while let Some(mut part) = multipart.next_field().await.map_err(unreadable)? {
            let name = part.name().unwrap_or_default().to_owned();
            if !csrf_checked && name != "csrf" {
                return Err(AppError::Csrf);
            }
            if let ("file", Some(file_name), None) =
                (name.as_str(), part.file_name().map(str::to_owned), &file)
            {
                let sent = service::spool(&state, file_name, &mut part, unreadable).await?;
                if sent.file.size == 0 {
                    crate::files::discard(&state, &sent.file.file_id).await;
                } else {
                    file = Some(sent);
                }
                continue;
            }
            let bytes =
                service::field_bytes(&mut part, state.config.max_body_bytes, unreadable).await?;
            match name.as_str() {
                "csrf" => {
                    ctx.check_csrf(&String::from_utf8_lossy(&bytes))
                        .map_err(|_| AppError::Csrf)?;
                    csrf_checked = true;
                }
                "name" => input.name = Some(String::from_utf8_lossy(&bytes).trim().to_owned()),
                "quasi" => {
                    input.quasi = Some(
                        String::from_utf8_lossy(&bytes)
                            .split([',', '，', '、'])
                            .map(|c| c.trim().to_owned())
                            .filter(|c| !c.is_empty())
                            .collect(),
                    )
                }
                _ => {}
            }
        }
        Ok(())
    }
    .await;
    if let Err(error) = read {
        if let Some(sent) = &file {
            crate::files::discard(&state, &sent.file.file_id).await;
        }
        return Err(ctx.error(error));
    }
    let Some(file) = file else {
        return Err(ctx.error(AppError::invalid(
            "upload",
            "choose a CSV, JSON or XLSX file",
        )));
    };
    let file_id = file.file.file_id.clone();
    let added = service::add_resource(&state, actor, &id, input, Some(file)).await;
    // A file the call did not keep (refused before it was read) goes.
    crate::files::discard_unless_kept(&state, &file_id).await;
    added.map_err(|e| ctx.error(e))?;
    done(&state, &ctx, "od.notice.uploaded").await
}

async fn treat(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let mut treatments = Vec::new();
    for (key, action) in &fields {
        let Some(column) = key.strip_prefix("action.") else {
            continue;
        };
        let treatment = match action.as_str() {
            "drop" => Treatment::Drop,
            "mask" => Treatment::Mask,
            "declare" => Treatment::Declare {
                reason: field(&fields, &format!("reason.{column}")),
            },
            _ => continue,
        };
        treatments.push((column.to_owned(), treatment));
    }
    let resource = service::treat(&state, actor, &id, treatments)
        .await
        .map_err(|e| ctx.error(e))?;
    let mut types = Vec::new();
    for (key, kind) in &fields {
        let Some(column) = key.strip_prefix("type.") else {
            continue;
        };
        if kind.is_empty() {
            continue;
        }
        let kind = crate::table::ColumnType::parse(kind)
            .ok_or_else(|| ctx.error(AppError::invalid("type", "int, numeric, date or text")))?;
        // A dropped column has no type to choose.
        if resource.fields.iter().any(|f| f.id == column) {
            types.push((column.to_owned(), kind));
        }
    }
    if types != resource.column_types {
        service::set_column_types(&state, actor, &id, types)
            .await
            .map_err(|e| ctx.error(e))?;
    }
    done(&state, &ctx, "od.notice.treated").await
}

async fn publish(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    service::publish_resource(&state, actor, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    done(&state, &ctx, "od.notice.published").await
}

async fn visibility(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let dataset = service::dataset_for(&state, Some(actor), &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let catalogue = service::catalogue(&state).await.map_err(|e| ctx.error(e))?;
    let organization = catalogue
        .organization(&dataset.department_id)
        .cloned()
        .ok_or_else(|| ctx.error(AppError::NotFound))?;
    let mut input = service::input_of(&dataset, &organization);
    input.private = field(&fields, "private") == "1";
    service::update_dataset(&state, actor, &dataset.id, input)
        .await
        .map_err(|e| ctx.error(e))?;
    done(&state, &ctx, "od.notice.visibility").await
}
