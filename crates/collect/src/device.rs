//! `/collect/device`: 一表通 on a collector's phone, in the browser, with no script. A
//! grassroots collector signs in with the device token their department gave them (the one
//! ODK Collect takes), sees "my forms" — the approved forms sent to their unit, the soonest
//! due first, with what the unit has sent — and fills one in. The form is drawn as plain HTML:
//! "check" sends the answers back and the page returns with every problem beside its question
//! and the questions that do not apply hidden; "send" stores it through the same checks as
//! ODK Collect's submissions, once per instance even when sent twice.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use tongban_xform::xpath::Env;
use tongban_xform::{Form, Invalid, Kind, Node, ROOT, Rule};

use crate::error::AppError;
use crate::plan;
use crate::service::{self, Incoming};
use crate::state::AppState;
use crate::store::{Collector, FormRow};
use crate::web::cookies;
use crate::web::extract::PageForm;
use crate::web::pages::{PageBase, PageCtx, PageError};
use tongban_xform::escape;

/// The device's token, kept by the browser for this session only.
pub const COOKIE: &str = "__Host-tongban-collector";
/// The most instances of one repeat a page draws.
const MAX_REPEAT: usize = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/collect/device", get(my_forms))
        .route("/collect/device/sign-in", post(sign_in))
        .route("/collect/device/sign-out", post(sign_out))
        .route("/collect/device/held/{id}", get(hold))
        .route("/collect/device/forms/{form}", get(blank).post(fill))
}

/// The device a signed-in staff member carries and chose to fill for (its id), kept by the
/// browser for this session only; it counts only with its holder's own session.
pub const HELD_COOKIE: &str = "__Host-tongban-held-device";

/// The collector this browser fills for: the device whose token it holds, else the device the
/// signed-in staff member carries and chose.
async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    ctx: &PageCtx,
) -> Result<Option<Collector>, AppError> {
    if let Some(token) = cookies::get(headers, COOKIE) {
        match service::app_user(state, &token).await {
            Ok(user) => return Ok(Some(user)),
            Err(AppError::Unauthenticated) => {}
            Err(other) => return Err(other),
        }
    }
    let (Some(actor), Some(held)) = (&ctx.actor, cookies::get(headers, HELD_COOKIE)) else {
        return Ok(None);
    };
    let Ok(id) = held.parse::<i64>() else {
        return Ok(None);
    };
    Ok(crate::store::held_by(state.pool(), actor.id())
        .await?
        .into_iter()
        .find(|device| device.id == id))
}

/// A staff member opens the forms of a device they carry (from the to-do list): the page then
/// fills for that device under the member's own session. Anyone else: not found.
async fn hold(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let account = ctx.actor()?.id().to_owned();
    let carried = crate::store::held_by(state.pool(), &account)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .any(|device| device.id == id);
    if !carried {
        return Err(ctx.error(AppError::NotFound));
    }
    ctx.add_cookie(cookies::set(HELD_COOKIE, &id.to_string(), true, None));
    ctx.add_cookie(cookies::clear(COOKIE));
    Ok(ctx.redirect("/collect/device"))
}

/// A line of "my forms".
pub struct TodoLine {
    pub id: String,
    pub title: String,
    pub due: String,
    pub overdue: bool,
    pub sent: i64,
}

#[derive(Template)]
#[template(path = "collect_device.html")]
struct DevicePage {
    base: PageBase,
    notice: Option<String>,
    /// The collector signed in: its name and its unit's name.
    who: Option<(String, String)>,
    todo: Vec<TodoLine>,
    /// Why the token was not taken.
    problem: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct Sent {
    #[serde(default)]
    sent: Option<String>,
}

async fn my_forms(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Query(query): Query<Sent>,
) -> Result<Response, PageError> {
    let fail = |e| ctx.error(e);
    let Some(user) = signed_in(&state, &headers, &ctx).await.map_err(fail)? else {
        return Ok(ctx.render(&DevicePage {
            base: ctx.base("collect.device.title"),
            notice: None,
            who: None,
            todo: Vec::new(),
            problem: None,
        }));
    };
    let todo = plan::todo(&state, &user).await.map_err(fail)?;
    let notice = query.sent.as_ref().and_then(|sent| {
        todo.iter()
            .find(|t| &t.form.xml_form_id == sent)
            .map(|t| format!("{} {}", ctx.t.get("collect.device.received"), t.form.title))
    });
    let unit = unit_name(&state, &user).await.map_err(fail)?;
    Ok(ctx.render(&DevicePage {
        base: ctx.base("collect.device.title"),
        notice,
        who: Some((user.display_name.clone(), unit)),
        todo: todo
            .into_iter()
            .map(|t| TodoLine {
                id: t.form.xml_form_id,
                title: t.form.title,
                due: t.form.due_day.unwrap_or_default(),
                overdue: t.overdue,
                sent: t.sent,
            })
            .collect(),
        problem: None,
    }))
}

async fn unit_name(state: &AppState, user: &Collector) -> Result<String, AppError> {
    let Some(code) = &user.region_code else {
        return Ok(String::new());
    };
    Ok(crate::store::grassroots_units(state.pool())
        .await?
        .into_iter()
        .find(|(c, _)| c == code)
        .map_or_else(|| code.clone(), |(_, name)| name))
}

type Fields = Vec<(String, String)>;

fn first<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

async fn sign_in(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    ctx.check_csrf(first(&fields, "csrf"))?;
    let token = first(&fields, "token").trim().to_owned();
    let user = match service::app_user(&state, &token).await {
        Ok(user) => user,
        Err(AppError::Unauthenticated) => {
            let mut page = ctx.render(&DevicePage {
                base: ctx.base("collect.device.title"),
                notice: None,
                who: None,
                todo: Vec::new(),
                problem: Some(ctx.t.get("collect.device.unknown").to_owned()),
            });
            *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(page);
        }
        Err(other) => return Err(ctx.error(other)),
    };
    tracing::info!(app_user = user.id, "a collector signed in on the web");
    ctx.add_cookie(cookies::set(COOKIE, &token, true, None));
    Ok(ctx.redirect("/collect/device"))
}

async fn sign_out(
    mut ctx: PageCtx,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    ctx.check_csrf(first(&fields, "csrf"))?;
    ctx.add_cookie(cookies::clear(COOKIE));
    ctx.add_cookie(cookies::clear(HELD_COOKIE));
    Ok(ctx.redirect("/collect/device"))
}

/// One line of the fill page.
pub struct Line {
    /// `open` / `close` (a group or a repeat instance), `add` (another instance), `note`,
    /// `question`.
    pub kind: &'static str,
    /// The instance path, which is also the input's name.
    pub name: String,
    pub label: String,
    pub hint: String,
    /// `text`, `number`, `date`, `time`, `datetime-local`, `radio`, `checkbox`.
    pub input: &'static str,
    pub step: &'static str,
    pub value: String,
    pub options: Vec<(String, String, bool)>,
    pub required: bool,
    pub error: Option<String>,
    /// The key a prefill is looked up by (an ID number, a USCC): the page offers to look it up.
    pub prefill_key: bool,
    /// Filled in from what the platform holds: the collector checks it with the person.
    pub prefilled: bool,
}

impl Line {
    /// The input's element id: the path, which is unique and has no spaces.
    pub fn id(&self) -> String {
        format!("q{}", self.name)
    }
}

#[derive(Template)]
#[template(path = "collect_fill.html")]
struct FillPage {
    base: PageBase,
    form_id: String,
    title: String,
    due: String,
    instance: String,
    started: String,
    /// Repeat counts, carried between views.
    counts: Vec<(String, usize)>,
    /// The questions filled in from what the platform holds, carried between views.
    prefilled: Vec<String>,
    lines: Vec<Line>,
    problems: usize,
    notice: Option<String>,
}

/// The device's project form, open and sent to its unit.
async fn open_form(
    state: &AppState,
    user: &Collector,
    form_id: &str,
) -> Result<(crate::store::Project, FormRow, Form), AppError> {
    let project = service::project_by_id(state, user.project_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let caller = service::Caller::AppUser(user.clone());
    let row = service::form_for(state, &caller, &project, form_id).await?;
    let form: Form =
        serde_json::from_str(&row.definition).map_err(|e| AppError::Internal(e.into()))?;
    Ok((project, row, form))
}

/// A draft's answers: values by instance path, and repeat counts.
struct Draft {
    values: BTreeMap<String, Vec<String>>,
    counts: BTreeMap<String, usize>,
    prefilled: std::collections::BTreeSet<String>,
}

impl Draft {
    fn from_fields(fields: &Fields) -> Draft {
        let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut counts = BTreeMap::new();
        let mut prefilled = std::collections::BTreeSet::new();
        for (name, value) in fields {
            if let Some(path) = name.strip_prefix("prefilled:") {
                prefilled.insert(path.to_owned());
            } else if let Some(path) = name.strip_prefix("count:") {
                let n = value.parse::<usize>().unwrap_or(1).min(MAX_REPEAT);
                counts.insert(path.to_owned(), n);
            } else if name.starts_with('/') {
                values.entry(name.clone()).or_default().push(value.clone());
            }
        }
        Draft {
            values,
            counts,
            prefilled,
        }
    }

    fn count(&self, path: &str) -> usize {
        self.counts.get(path).copied().unwrap_or(1)
    }

    fn value(&self, path: &str) -> String {
        self.values
            .get(path)
            .map(|v| {
                v.iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    }
}

/// What the device records itself, as ODK Collect does.
struct Recorded<'a> {
    started: &'a str,
    now: String,
    today: String,
    device: String,
}

/// The instance XML of a draft.
fn instance_xml(form: &Form, draft: &Draft, instance: &str, recorded: &Recorded<'_>) -> String {
    fn walk(
        nodes: &[Node],
        prefix: &str,
        draft: &Draft,
        recorded: &Recorded<'_>,
        out: &mut String,
    ) {
        for node in nodes {
            let path = format!("{prefix}/{}", node.name);
            match &node.kind {
                Kind::Repeat => {
                    for n in 1..=draft.count(&path) {
                        out.push_str(&format!("<{}>", node.name));
                        walk(
                            &node.children,
                            &format!("{path}[{n}]"),
                            draft,
                            recorded,
                            out,
                        );
                        out.push_str(&format!("</{}>", node.name));
                    }
                }
                Kind::Group => {
                    out.push_str(&format!("<{}>", node.name));
                    walk(&node.children, &path, draft, recorded, out);
                    out.push_str(&format!("</{}>", node.name));
                }
                kind => {
                    let value = match kind {
                        Kind::Start => recorded.started.to_owned(),
                        Kind::End => recorded.now.clone(),
                        Kind::Today => recorded.today.clone(),
                        Kind::DeviceId => recorded.device.clone(),
                        Kind::Note | Kind::Calculate | Kind::Image | Kind::File => String::new(),
                        _ => draft.value(&path),
                    };
                    out.push_str(&format!("<{0}>{1}</{0}>", node.name, escape(&value)));
                }
            }
        }
    }
    let mut body = String::new();
    walk(
        &form.children,
        &format!("/{ROOT}"),
        draft,
        recorded,
        &mut body,
    );
    // The entity the submission makes takes the instance's random id; its label is worked
    // out by the server from the form's expression.
    let entity = form.entity.as_ref().map_or_else(String::new, |e| {
        format!(
            r#"<entity dataset="{}" create="1" id="{}"><label/></entity>"#,
            escape(&e.dataset),
            escape(instance.strip_prefix("uuid:").unwrap_or(instance))
        )
    });
    format!(
        r#"<{ROOT} xmlns:jr="http://openrosa.org/javarosa" id="{}" version="{}">{body}<meta>{entity}<instanceID>{}</instanceID></meta></{ROOT}>"#,
        escape(&form.id),
        escape(form.version.as_deref().unwrap_or("")),
        escape(instance)
    )
}

/// A problem as the collector reads it.
fn message(ctx: &PageCtx, node_message: Option<&str>, invalid: &Invalid) -> String {
    match &invalid.rule {
        Rule::Required => node_message
            .map(str::to_owned)
            .unwrap_or_else(|| ctx.t.get("collect.fill.required").to_owned()),
        Rule::Constraint(Some(text)) => text.clone(),
        Rule::Constraint(None) => ctx.t.get("collect.fill.constraint").to_owned(),
        Rule::Type(kind) => format!("{} ({kind})", ctx.t.get("collect.fill.type")),
        Rule::NotAChoice(value) => format!("{} {value:?}", ctx.t.get("collect.fill.choice")),
        Rule::Unknown | Rule::Twice => invalid.to_string(),
    }
}

/// Whether `path` lies under (or is) one of the hidden paths.
fn is_hidden(hidden: &[String], path: &str) -> bool {
    hidden.iter().any(|h| {
        path == h
            || path
                .strip_prefix(h.as_str())
                .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('['))
    })
}

struct View<'a> {
    ctx: &'a PageCtx,
    form: &'a Form,
    draft: &'a Draft,
    hidden: &'a [String],
    errors: &'a BTreeMap<String, String>,
    /// The entities each `select_one_from_file` file offers this device: (id, label).
    entities: &'a BTreeMap<String, Vec<(String, String)>>,
    lines: Vec<Line>,
    counts: Vec<(String, usize)>,
}

impl View<'_> {
    fn line(&self, kind: &'static str, path: &str, node: &Node) -> Line {
        Line {
            kind,
            name: path.to_owned(),
            label: node.label.clone(),
            hint: node.hint.clone(),
            input: "text",
            step: "",
            value: String::new(),
            options: Vec::new(),
            required: node.required.as_deref() == Some("true()"),
            error: self.errors.get(path).cloned(),
            prefill_key: node
                .prefill
                .as_deref()
                .is_some_and(|p| tongban_xform::PREFILL_KEYS.contains(&p))
                || self.fills_from(node),
            prefilled: self.draft.prefilled.contains(path),
        }
    }

    /// Whether the node chooses an entity that other questions are prefilled from.
    fn fills_from(&self, node: &Node) -> bool {
        let Kind::SelectOneFromFile(file) = &node.kind else {
            return false;
        };
        let list = tongban_xform::file_list(file);
        self.form.nodes().iter().any(|(_, n)| {
            n.prefill
                .as_deref()
                .and_then(tongban_xform::entity_prefill)
                .is_some_and(|(l, _)| Some(l) == list)
        })
    }

    fn nodes(&mut self, nodes: &[Node], prefix: &str) {
        for node in nodes {
            let path = format!("{prefix}/{}", node.name);
            match &node.kind {
                Kind::Repeat => {
                    let count = self.draft.count(&path);
                    self.counts.push((path.clone(), count));
                    for n in 1..=count {
                        let at = format!("{path}[{n}]");
                        if is_hidden(self.hidden, &at) {
                            continue;
                        }
                        let mut open = self.line("open", &at, node);
                        open.hint = format!("{} {n}", self.ctx.t.get("collect.fill.instance"));
                        self.lines.push(open);
                        self.nodes(&node.children, &at);
                        self.lines.push(self.line("close", &at, node));
                    }
                    if count < MAX_REPEAT {
                        self.lines.push(self.line("add", &path, node));
                    }
                }
                Kind::Group => {
                    if is_hidden(self.hidden, &path) {
                        continue;
                    }
                    self.lines.push(self.line("open", &path, node));
                    self.nodes(&node.children, &path);
                    self.lines.push(self.line("close", &path, node));
                }
                kind if kind.is_metadata() || *kind == Kind::Calculate => {}
                _ if is_hidden(self.hidden, &path) => {}
                Kind::Note => self.lines.push(self.line("note", &path, node)),
                kind => {
                    let mut line = self.line("question", &path, node);
                    line.value = self.draft.value(&path);
                    let chosen: Vec<&str> = line.value.split_whitespace().collect();
                    let options = |list: &str| {
                        self.form
                            .list(list)
                            .map(|l| {
                                l.choices
                                    .iter()
                                    .map(|c| {
                                        let on = chosen.contains(&c.name.as_str());
                                        (c.name.clone(), c.label.clone(), on)
                                    })
                                    .collect()
                            })
                            .unwrap_or_default()
                    };
                    match kind {
                        Kind::Integer => (line.input, line.step) = ("number", "1"),
                        Kind::Decimal => (line.input, line.step) = ("number", "any"),
                        Kind::Date => line.input = "date",
                        Kind::Time => line.input = "time",
                        Kind::DateTime => line.input = "datetime-local",
                        Kind::SelectOne(list) => {
                            line.input = "radio";
                            line.options = options(list);
                        }
                        Kind::SelectMultiple(list) => {
                            line.input = "checkbox";
                            line.options = options(list);
                        }
                        Kind::SelectOneFromFile(file) => {
                            line.input = "select";
                            line.options = self
                                .entities
                                .get(file)
                                .map(|items| {
                                    items
                                        .iter()
                                        .map(|(id, label)| {
                                            (id.clone(), label.clone(), line.value == *id)
                                        })
                                        .collect()
                                })
                                .unwrap_or_default();
                        }
                        Kind::Image | Kind::File => {
                            line.kind = "note";
                            line.hint = self.ctx.t.get("collect.fill.media").to_owned();
                        }
                        _ => {}
                    }
                    self.lines.push(line);
                }
            }
        }
    }
}

/// A new instance id, as ODK Collect makes them (`uuid:` and a random UUID).
fn new_instance_id() -> String {
    let mut bytes = [0u8; 16];
    crate::random::fill(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = crate::random::hex_encode(&bytes);
    format!(
        "uuid:{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn is_instance_id(text: &str) -> bool {
    text.strip_prefix("uuid:").is_some_and(|rest| {
        rest.len() == 36 && rest.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
    })
}

/// What a view adds to the page: a notice, and a problem beside one question.
#[derive(Default)]
struct Said {
    notice: Option<String>,
    problem: Option<(String, String)>,
}

/// The form a device has open: who, the stored form and its definition.
struct Opened<'a> {
    user: &'a Collector,
    row: &'a FormRow,
    form: &'a Form,
}

async fn draw(
    state: &AppState,
    ctx: &PageCtx,
    opened: &Opened<'_>,
    fields: &Fields,
    show_problems: bool,
    said: Said,
) -> Result<Response, PageError> {
    let Opened { user, row, form } = *opened;
    let fail = |e| ctx.error(e);
    let instance = match first(fields, "instance") {
        id if is_instance_id(id) => id.to_owned(),
        _ => new_instance_id(),
    };
    let started = started_of(state, fields);
    let draft = Draft::from_fields(fields);
    let recorded = recorded(state, &started);
    let xml = instance_xml(form, &draft, &instance, &recorded);
    let checker = service::checker_of(state, row.project_id, &row.xml_form_id, &row.hash)
        .await
        .map_err(fail)?;
    let review = checker
        .review(
            &xml,
            &Env {
                today: state.today(),
            },
        )
        .map_err(|e| fail(AppError::invalid("answers", e.to_string())))?;
    let nodes = form.nodes();
    let mut errors = BTreeMap::new();
    if show_problems {
        for invalid in &review.invalid {
            let field = strip_indexes(&invalid.path);
            let node_message = nodes
                .iter()
                .find(|(p, _)| *p == field)
                .and_then(|(_, n)| n.required_message.as_deref());
            errors
                .entry(invalid.path.clone())
                .or_insert_with(|| message(ctx, node_message, invalid));
        }
    }
    if let Some((path, problem)) = said.problem {
        errors.insert(path, problem);
    }
    let mut entities = BTreeMap::new();
    for file in form.files() {
        let Some(list) = tongban_xform::file_list(file) else {
            continue;
        };
        let unit = user.region_code.as_deref();
        let items = crate::entities::lists::visible(state, row.project_id, list, unit)
            .await
            .map_err(fail)?;
        entities.insert(
            file.to_owned(),
            items
                .into_iter()
                .map(|i| (i.uuid, i.content.label))
                .collect::<Vec<_>>(),
        );
    }
    let mut view = View {
        ctx,
        form,
        draft: &draft,
        hidden: &review.hidden,
        errors: &errors,
        entities: &entities,
        lines: Vec::new(),
        counts: Vec::new(),
    };
    view.nodes(&form.children, &format!("/{ROOT}"));
    let (lines, counts) = (view.lines, view.counts);
    Ok(ctx.render(&FillPage {
        base: ctx.base("collect.device.title"),
        form_id: row.xml_form_id.clone(),
        title: row.title.clone(),
        due: row.due_day.clone().unwrap_or_default(),
        instance,
        started,
        counts,
        prefilled: draft.prefilled.iter().cloned().collect(),
        lines,
        problems: errors.len(),
        notice: said.notice,
    }))
}

fn strip_indexes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut skipping = false;
    for c in path.chars() {
        match c {
            '[' => skipping = true,
            ']' => skipping = false,
            c if !skipping => out.push(c),
            _ => {}
        }
    }
    out
}

/// When the collector opened the form: carried by the page, else now.
fn started_of(state: &AppState, fields: &Fields) -> String {
    let sent = first(fields, "started");
    if crate::time_fmt::parse_millis(sent).is_some() {
        sent.to_owned()
    } else {
        now_text(state)
    }
}

fn now_text(state: &AppState) -> String {
    crate::time_fmt::rfc3339(state.now())
}

fn recorded<'a>(state: &AppState, started: &'a str) -> Recorded<'a> {
    Recorded {
        started,
        now: now_text(state),
        today: state.today().to_string(),
        device: String::new(),
    }
}

async fn blank(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(form_id): Path<String>,
) -> Result<Response, PageError> {
    let fail = |e| ctx.error(e);
    let Some(user) = signed_in(&state, &headers, &ctx).await.map_err(fail)? else {
        return Ok(ctx.redirect("/collect/device"));
    };
    let (_, row, form) = open_form(&state, &user, &form_id).await.map_err(fail)?;
    let opened = Opened {
        user: &user,
        row: &row,
        form: &form,
    };
    // Opening a form that chooses from entity lists sends the device those lists, as ODK
    // Collect's download of the form's files does: recorded the same way.
    for file in form.files() {
        if let Some(list) = tongban_xform::file_list(file) {
            service::log_as(
                &state,
                &format!("collect-device:{}", user.id),
                "collect.entity_list_sent",
                serde_json::json!({"project": row.project_id, "form": row.xml_form_id, "list": list, "unit": user.region_code, "page": true}),
            )
            .await
            .map_err(fail)?;
        }
    }
    draw(&state, &ctx, &opened, &Vec::new(), false, Said::default()).await
}

async fn fill(
    State(state): State<AppState>,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(form_id): Path<String>,
    PageForm(mut fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    ctx.check_csrf(first(&fields, "csrf"))?;
    let fail = |e| ctx.error(e);
    let Some(user) = signed_in(&state, &headers, &ctx).await.map_err(fail)? else {
        return Ok(ctx.redirect("/collect/device"));
    };
    let (project, row, form) = open_form(&state, &user, &form_id).await.map_err(fail)?;
    let opened = Opened {
        user: &user,
        row: &row,
        form: &form,
    };
    let action = first(&fields, "action").to_owned();
    // Another instance of a repeat, or one fewer: the page comes back with the answers kept.
    for (verb, delta) in [("add:", 1_isize), ("remove:", -1)] {
        if let Some(path) = action.strip_prefix(verb) {
            let draft = Draft::from_fields(&fields);
            let n = (draft.count(path) as isize + delta).clamp(0, MAX_REPEAT as isize);
            fields.retain(|(k, _)| k.strip_prefix("count:") != Some(path));
            fields.push((format!("count:{path}"), n.to_string()));
            return draw(&state, &ctx, &opened, &fields, false, Said::default()).await;
        }
    }
    if let Some(key_path) = action.strip_prefix("prefill:") {
        let said = prefill(
            &state,
            &ctx,
            &user,
            &project,
            &row,
            &form,
            key_path,
            &mut fields,
        )
        .await?;
        return draw(&state, &ctx, &opened, &fields, false, said).await;
    }
    if action != "send" {
        return draw(&state, &ctx, &opened, &fields, true, Said::default()).await;
    }
    let instance = first(&fields, "instance").to_owned();
    if !is_instance_id(&instance) {
        return Err(ctx.error(AppError::invalid(
            "instance",
            "the page is out of date: open the form again",
        )));
    }
    let draft = Draft::from_fields(&fields);
    let started = started_of(&state, &fields);
    let mut recorded = recorded(&state, &started);
    recorded.device = format!("web:{}", user.id);
    let checker = service::checker_of(&state, row.project_id, &row.xml_form_id, &row.hash)
        .await
        .map_err(fail)?;
    let env = Env {
        today: state.today(),
    };
    // Answers to questions that no longer apply are dropped, as ODK Collect drops them.
    let mut draft = draft;
    if let Ok(review) = checker.review(&instance_xml(&form, &draft, &instance, &recorded), &env) {
        draft
            .values
            .retain(|path, _| !is_hidden(&review.hidden, path));
    }
    let xml = instance_xml(&form, &draft, &instance, &recorded);
    let clean = checker
        .review(&xml, &env)
        .is_ok_and(|review| review.invalid.is_empty());
    if !clean {
        return draw(&state, &ctx, &opened, &fields, true, Said::default()).await;
    }
    service::submit(
        &state,
        &project,
        user.id,
        &row.xml_form_id,
        Incoming {
            xml,
            files: Vec::new(),
            device_id: Some(recorded.device.clone()),
            unit: user.region_code.clone(),
        },
    )
    .await
    .map_err(fail)?;
    Ok(ctx.redirect(&format!(
        "/collect/device?sent={}",
        percent(&row.xml_form_id)
    )))
}

/// Looks up the key typed in `key_path` and writes what it fills into the page's fields,
/// marking them; says what happened.
#[allow(clippy::too_many_arguments)]
async fn prefill(
    state: &AppState,
    ctx: &PageCtx,
    user: &Collector,
    project: &crate::store::Project,
    row: &FormRow,
    form: &Form,
    key_path: &str,
    fields: &mut Fields,
) -> Result<Said, PageError> {
    let key = first(fields, key_path).to_owned();
    let filled = match crate::prefill::lookup(state, user, project, row, form, key_path, &key).await
    {
        Ok(filled) => filled,
        Err(AppError::Invalid { .. }) => {
            return Ok(Said {
                notice: None,
                problem: Some((
                    key_path.to_owned(),
                    ctx.t.get("collect.fill.bad_key").to_owned(),
                )),
            });
        }
        Err(other) => return Err(ctx.error(other)),
    };
    if !filled.found {
        return Ok(Said {
            notice: Some(ctx.t.get("collect.fill.not_found").to_owned()),
            problem: None,
        });
    }
    for (path, value) in &filled.values {
        fields.retain(|(k, _)| k != path && k.strip_prefix("prefilled:") != Some(path));
        fields.push((path.clone(), value.clone()));
        fields.push((format!("prefilled:{path}"), "1".into()));
    }
    Ok(Said {
        notice: Some(format!(
            "{} {}",
            ctx.t.get("collect.fill.prefilled"),
            filled.values.len()
        )),
        problem: None,
    })
}

/// A form id in a query (ids are letters, digits, `_`, `-` and `.`; anything else is
/// escaped).
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
