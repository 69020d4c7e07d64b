//! `/collect`: 一表通 as staff use it. A department's clerks and administrators see their
//! projects' forms (where each stands in its approval, how many submissions came in), upload
//! an XLSForm and send it to the office, and make app users for collectors' devices (the token
//! shown once, with the addresses ODK Collect needs). The burden-reduction office sees the
//! forms waiting for it, each with its overlap report, and approves or sends back with a
//! reason.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use crate::error::AppError;
use crate::plan::{self, PlanRequest, UnitProgress};
use crate::rollup::{self, Rollup};
use crate::service::{self, FieldOverlap};
use crate::state::AppState;
use crate::store::{self, FormRow};
use crate::web::extract::PageForm;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/collect", get(page))
        .route("/collect/starter.xlsx", get(starter))
        .route(
            "/collect/projects/{project}/forms",
            post(upload).layer(DefaultBodyLimit::max(service::MAX_XLSFORM + 64 * 1024)),
        )
        .route("/collect/projects/{project}/forms/{form}/send", post(send))
        .route(
            "/collect/projects/{project}/forms/{form}/decision",
            post(decide),
        )
        .route("/collect/projects/{project}/app-users", post(add_device))
        .route(
            "/collect/projects/{project}/forms/{form}/plan",
            post(set_plan),
        )
        .route(
            "/collect/projects/{project}/app-users/{user}/revoke",
            post(revoke_device),
        )
        .route(
            "/collect/projects/{project}/forms/{form}/rollup",
            get(rollup),
        )
        .route(
            "/collect/projects/{project}/forms/{form}/rollup.csv",
            get(rollup_csv),
        )
        .route(
            "/collect/projects/{project}/forms/{form}/rollup.xlsx",
            get(rollup_xlsx),
        )
}

/// The starter XLSForm: a working example of every part of the subset, to change.
async fn starter() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"starter.xlsx\"",
            ),
        ],
        crate::starter::workbook(),
    )
        .into_response()
}

/// A form as a row shows it.
pub struct FormLine {
    pub form: FormRow,
    pub submissions: i64,
    /// The units it is sent to.
    pub target: Vec<String>,
    /// Submissions by target unit (approved forms).
    pub progress: Vec<UnitProgress>,
}

/// A project with its forms and devices.
pub struct ProjectView {
    pub id: i64,
    pub name: String,
    pub department: String,
    pub forms: Vec<FormLine>,
    pub devices: Vec<(i64, String)>,
    /// The grassroots units of the project's region: (code, name).
    pub units: Vec<(String, String)>,
}

/// A form waiting for the office, with its report.
pub struct Waiting {
    pub form: FormRow,
    pub department: String,
    pub questions: usize,
    pub already: usize,
    pub fields: Vec<FieldOverlap>,
}

#[derive(Template)]
#[template(path = "collect.html")]
struct CollectPage {
    base: PageBase,
    notice: Option<String>,
    /// A device just made: its name, its token and the form-list address for ODK Collect.
    device: Option<(String, String, String)>,
    projects: Vec<ProjectView>,
    office: bool,
    waiting: Vec<Waiting>,
    /// For the office: the approved forms of its region, (project, project name, form), each
    /// with its roll-up.
    approved: Vec<(i64, String, FormRow)>,
}

async fn render(
    state: &AppState,
    ctx: &PageCtx,
    notice: Option<String>,
    device: Option<(String, String, String)>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let fail = |e| ctx.error(e);
    let office = service::in_office(state, actor).await.map_err(fail)?;
    let mut projects = Vec::new();
    for project in service::visible_projects(state, actor)
        .await
        .map_err(fail)?
    {
        if !service::runs(actor, &project) {
            continue;
        }
        let mut forms = Vec::new();
        for form in store::forms(state.pool(), project.id).await.map_err(fail)? {
            let submissions = store::submission_count(state.pool(), project.id, &form.xml_form_id)
                .await
                .map_err(fail)?;
            let progress = if form.state == service::APPROVED {
                plan::progress(state, &project, &form).await.map_err(fail)?
            } else {
                Vec::new()
            };
            let target = plan::targets(&form);
            forms.push(FormLine {
                form,
                submissions,
                target,
                progress,
            });
        }
        let devices = store::app_users(state.pool(), project.id)
            .await
            .map_err(fail)?
            .into_iter()
            .filter(|u| u.revoked_at.is_none())
            .map(|u| (u.id, u.display_name))
            .collect();
        let region = project.region_code.parse::<tongban_core::RegionCode>().ok();
        let units = store::grassroots_units(state.pool())
            .await
            .map_err(fail)?
            .into_iter()
            .filter(|(code, _)| {
                code.parse()
                    .ok()
                    .zip(region.as_ref())
                    .is_some_and(|(c, r)| r.contains(&c))
            })
            .collect();
        let department = store::department_name(state.pool(), &project.department_id)
            .await
            .map_err(fail)?
            .unwrap_or_default();
        projects.push(ProjectView {
            id: project.id,
            name: project.name,
            department,
            forms,
            devices,
            units,
        });
    }
    let mut waiting = Vec::new();
    if office {
        for form in service::waiting_for(state, actor, 50).await.map_err(fail)? {
            let report = service::overlap(state, actor, form.project_id, &form.xml_form_id)
                .await
                .map_err(fail)?;
            let department = match store::project(state.pool(), form.project_id)
                .await
                .map_err(fail)?
            {
                Some(p) => store::department_name(state.pool(), &p.department_id)
                    .await
                    .map_err(fail)?
                    .unwrap_or_default(),
                None => String::new(),
            };
            waiting.push(Waiting {
                form,
                department,
                questions: report.questions,
                already: report.already,
                fields: report.fields,
            });
        }
    }
    let mut approved = Vec::new();
    if office {
        for project in service::visible_projects(state, actor)
            .await
            .map_err(fail)?
        {
            for form in store::forms(state.pool(), project.id).await.map_err(fail)? {
                if form.state == service::APPROVED {
                    approved.push((project.id, project.name.clone(), form));
                }
            }
        }
    }
    Ok(ctx.render(&CollectPage {
        base: ctx.base("collect.title"),
        notice,
        device,
        projects,
        office,
        waiting,
        approved,
    }))
}

async fn page(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    render(&state, &ctx, None, None).await
}

type Fields = BTreeMap<String, String>;

fn field(fields: &Fields, name: &str) -> String {
    fields.get(name).cloned().unwrap_or_default()
}

/// An XLSForm uploaded from the page goes straight to the office.
async fn upload(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(project): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let unreadable = || ctx.error(AppError::BadRequest("the form could not be read".into()));
    let mut csrf_checked = false;
    let mut file = None;
    while let Some(part) = multipart.next_field().await.map_err(|_| unreadable())? {
        let name = part.name().unwrap_or_default().to_owned();
        if !csrf_checked && name != "csrf" {
            return Err(ctx.error(AppError::Csrf));
        }
        let file_name = part.file_name().map(str::to_owned);
        let bytes = part
            .bytes()
            .await
            .map_err(|_| ctx.error(AppError::PayloadTooLarge))?;
        match (name.as_str(), file_name) {
            ("csrf", _) => {
                ctx.check_csrf(&String::from_utf8_lossy(&bytes))?;
                csrf_checked = true;
            }
            ("file", Some(file_name)) if !bytes.is_empty() => {
                file = Some((file_name, bytes.to_vec()))
            }
            _ => {}
        }
    }
    let (file_name, bytes) = file.ok_or_else(|| {
        ctx.error(AppError::invalid(
            "xlsform",
            "choose an XLSForm (.xlsx) file",
        ))
    })?;
    let stem = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(&file_name)
        .trim_end_matches(".xlsx")
        .to_owned();
    let row = service::upload_form(&state, actor, project, &bytes, &stem, true)
        .await
        .map_err(|e| ctx.error(e))?;
    let notice = format!("{} {}", ctx.t.get("collect.notice.sent"), row.title);
    render(&state, &ctx, Some(notice), None).await
}

async fn send(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((project, form)): Path<(i64, String)>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let row = service::send_for_approval(&state, actor, project, &form)
        .await
        .map_err(|e| ctx.error(e))?;
    let notice = format!("{} {}", ctx.t.get("collect.notice.sent"), row.title);
    render(&state, &ctx, Some(notice), None).await
}

async fn decide(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((project, form)): Path<(i64, String)>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let approve = field(&fields, "action") == "approve";
    let row = service::decide(
        &state,
        actor,
        project,
        &form,
        approve,
        &field(&fields, "note"),
    )
    .await
    .map_err(|e| ctx.error(e))?;
    let key = if approve {
        "collect.notice.approved"
    } else {
        "collect.notice.returned"
    };
    let notice = format!("{} {}", ctx.t.get(key), row.title);
    render(&state, &ctx, Some(notice), None).await
}

async fn add_device(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(project): Path<i64>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let unit = field(&fields, "unit");
    let (user, token) = service::add_app_user(
        &state,
        actor,
        project,
        &field(&fields, "name"),
        Some(unit.as_str()),
        Some(field(&fields, "holder").as_str()),
    )
    .await
    .map_err(|e| ctx.error(e))?;
    let base = state
        .config
        .public_url
        .clone()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_owned();
    let address = format!("{base}/v1/key/{token}/projects/{project}");
    render(
        &state,
        &ctx,
        None,
        Some((user.display_name, token, address)),
    )
    .await
}

/// The plan from the form's row on the page: its units (checkboxes), opening and due days.
async fn set_plan(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((project, form)): Path<(i64, String)>,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let one = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    ctx.check_csrf(&one("csrf"))?;
    let request = PlanRequest {
        target: fields
            .iter()
            .filter(|(k, _)| k == "target")
            .map(|(_, v)| v.clone())
            .collect(),
        opens: Some(one("opens")),
        due: Some(one("due")),
    };
    let row = plan::set_plan(&state, actor, project, &form, &request)
        .await
        .map_err(|e| ctx.error(e))?;
    let notice = format!("{} {}", ctx.t.get("collect.notice.planned"), row.title);
    render(&state, &ctx, Some(notice), None).await
}

/// A lost or handed-over device is withdrawn: its token stops working at once.
async fn revoke_device(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((project, user)): Path<(i64, i64)>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    service::revoke_app_user(&state, actor, project, user)
        .await
        .map_err(|e| ctx.error(e))?;
    let notice = ctx.t.get("collect.notice.revoked").to_owned();
    render(&state, &ctx, Some(notice), None).await
}

#[derive(serde::Deserialize, Default)]
struct LevelQuery {
    #[serde(default)]
    level: Option<String>,
}

#[derive(Template)]
#[template(path = "collect_rollup.html")]
struct RollupPage {
    base: PageBase,
    project: i64,
    r: Rollup,
    /// The levels this viewer may switch to: (level, text key).
    levels: Vec<(&'static str, &'static str)>,
    /// A bar chart of each choice question's totals: (question, SVG).
    charts: Vec<(String, String)>,
    header: Vec<String>,
    body: Vec<Vec<String>>,
}

/// The roll-up the page's viewer asked for, with the words of its table's headers.
async fn rollup_for(
    state: &AppState,
    ctx: &PageCtx,
    project: i64,
    form: &str,
    query: &LevelQuery,
) -> Result<(Rollup, Vec<Vec<String>>), PageError> {
    let actor = ctx.actor()?;
    let level = crate::api::level_of(query.level.as_deref()).map_err(|e| ctx.error(e))?;
    let r = rollup::rollup(state, actor, project, form, level)
        .await
        .map_err(|e| ctx.error(e))?;
    let t = |key| ctx.t.get(key);
    let table = rollup::table(
        &r,
        [
            t("collect.rollup.code"),
            t("collect.unit"),
            t("collect.submissions"),
            t("collect.rollup.total"),
            t("collect.rollup.sum"),
            t("collect.rollup.mean"),
            t("collect.no_unit"),
        ],
    );
    Ok((r, table))
}

async fn rollup(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((project, form)): Path<(i64, String)>,
    axum::extract::Query(query): axum::extract::Query<LevelQuery>,
) -> Result<Response, PageError> {
    let (r, mut table) = rollup_for(&state, &ctx, project, &form, &query).await?;
    let actor = ctx.actor()?;
    let staff = service::project_for(&state, actor, project)
        .await
        .is_ok_and(|p| service::runs(actor, &p));
    let mut levels = vec![
        ("county", "collect.rollup.county"),
        ("township", "collect.rollup.township"),
    ];
    if staff {
        levels.push(("village", "collect.rollup.village"));
    }
    let mut charts = Vec::new();
    let mut i = 0;
    while i < r.columns.len() {
        let field = r.columns[i].field.clone();
        let group = r.columns[i..]
            .iter()
            .take_while(|c| c.field == field)
            .count();
        if r.columns[i].measure == "count" {
            let points: Vec<(String, Option<f64>)> = (i..i + group)
                .map(|j| {
                    let label = r.columns[j].choice_label.clone().unwrap_or_default();
                    (label, r.total.cells[j])
                })
                .collect();
            let label = r.columns[i].label.clone();
            charts.push((
                label.clone(),
                tongban_tables::chart::draw("bar", &points, &label),
            ));
        }
        i += group;
    }
    let header = if table.is_empty() {
        Vec::new()
    } else {
        table.remove(0)
    };
    Ok(ctx.render(&RollupPage {
        base: ctx.base("collect.rollup.title"),
        project,
        r,
        levels,
        charts,
        header,
        body: table,
    }))
}

fn attachment(name: &str, media_type: &str, body: Vec<u8>) -> Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, media_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A file name made of the form's id (letters, digits, `_`, `-`, `.`) and the level.
fn export_name(form: &str, level: &str, extension: &str) -> String {
    let safe: String = form
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect();
    format!("{safe}-{level}.{extension}")
}

async fn rollup_csv(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((project, form)): Path<(i64, String)>,
    axum::extract::Query(query): axum::extract::Query<LevelQuery>,
) -> Result<Response, PageError> {
    let (r, table) = rollup_for(&state, &ctx, project, &form, &query).await?;
    Ok(attachment(
        &export_name(&r.form, &r.level, "csv"),
        "text/csv; charset=utf-8",
        rollup::csv(&table).into_bytes(),
    ))
}

async fn rollup_xlsx(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((project, form)): Path<(i64, String)>,
    axum::extract::Query(query): axum::extract::Query<LevelQuery>,
) -> Result<Response, PageError> {
    let (r, table) = rollup_for(&state, &ctx, project, &form, &query).await?;
    let sheet = ctx.t.get("collect.rollup.title");
    Ok(attachment(
        &export_name(&r.form, &r.level, "xlsx"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        tongban_tables::xlsx::write::workbook_of(&[(sheet, &table)]),
    ))
}
