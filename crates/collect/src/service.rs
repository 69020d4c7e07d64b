//! 一表通's rules: who designs, approves and collects; forms read from XLSForms and approved
//! by the burden-reduction office with an overlap report; submissions checked against their
//! form, kept once per instanceID, sealed at rest.
//!
//! Who may do what:
//! - A department's clerks and administrators run its projects: they upload forms, make app
//!   users for the collectors' devices, and read what was collected.
//! - A department administrator opens a project for the department.
//! - The burden-reduction office (减负办) — staff of the county's or city's government-services
//!   department ([`APPROVING_OFFICE`]) — approves a form before it goes to villages and
//!   communities, or sends it back; never a form its own approver designed, and only forms of
//!   departments in its own region or below (a district's office does not approve the city's).
//! - App users (a collector's device, by its token) list and fetch the approved forms of
//!   their project and submit to them.

use md5::{Digest as _, Md5};
use tongban_xform::check::Refusal;
use tongban_xform::xpath::Env;
use tongban_xform::{Checker, Form, Kind, xform, xlsform};

use crate::error::{AppError, AppResult};
use crate::identity::model::{Actor, Role};
use crate::random;
use crate::state::AppState;
use crate::store::{self, Collector, FormRow, Project, SubmissionRow};

/// The kind of department whose staff act as the burden-reduction office.
pub const APPROVING_OFFICE: &str = "government_services";
/// The largest XLSForm taken.
pub const MAX_XLSFORM: usize = 5 * 1024 * 1024;
/// The largest submission XML taken.
pub const MAX_SUBMISSION_XML: usize = 2 * 1024 * 1024;
/// The largest file sent with a submission, and the most files in one request.
pub const MAX_FILE: usize = 10 * 1024 * 1024;
pub const MAX_FILES: usize = 10;

/// Submissions stored, by the district (county) of the unit they were collected for — or
/// the project's region for devices without a unit: a count of persons (households, shops)
/// visited, shown with small counts hidden.
pub const SUBMISSIONS: &str = "forms.submissions";

pub const FIGURES: &[tongban_platform::figures::Figure] = &[tongban_platform::figures::Figure {
    key: SUBMISSIONS,
    group: "forms",
    zh: "一表通填报",
    en: "Forms collected",
    about_persons: true,
    by: None,
}];

/// A form's states.
pub const DRAFT: &str = "draft";
pub const PENDING: &str = "pending";
pub const APPROVED: &str = "approved";
pub const RETURNED: &str = "returned";

/// Who is submitting or reading.
pub enum Caller {
    Staff(Actor),
    AppUser(Collector),
}

fn is_department_staff(actor: &Actor) -> bool {
    actor.has_role(Role::Clerk) || actor.has_role(Role::DeptAdmin)
}

/// Staff of the project's own department.
pub fn runs(actor: &Actor, project: &Project) -> bool {
    is_department_staff(actor)
        && actor.account.department_id.as_deref() == Some(&project.department_id)
}

/// Staff of the burden-reduction office.
pub async fn in_office(state: &AppState, actor: &Actor) -> AppResult<bool> {
    let Some(department) = actor.account.department_id.as_deref() else {
        return Ok(false);
    };
    if !is_department_staff(actor) {
        return Ok(false);
    }
    Ok(store::department_kind(state.pool(), department)
        .await?
        .as_deref()
        == Some(APPROVING_OFFICE))
}

/// Whether the project lies in the region of the actor's department (or below it).
fn within_reach(actor: &Actor, project: &Project) -> bool {
    let Ok(region) = project.region_code.parse::<tongban_core::RegionCode>() else {
        return false;
    };
    actor
        .department_region
        .as_ref()
        .is_some_and(|mine| mine.contains(&region))
}

/// Staff of the burden-reduction office whose region holds the project.
pub async fn office_over(state: &AppState, actor: &Actor, project: &Project) -> AppResult<bool> {
    Ok(within_reach(actor, project) && in_office(state, actor).await?)
}

/// The projects an actor sees: the office those of its region, department staff their
/// department's.
pub async fn visible_projects(state: &AppState, actor: &Actor) -> AppResult<Vec<Project>> {
    let all = store::projects(state.pool()).await?;
    let office = in_office(state, actor).await?;
    Ok(all
        .into_iter()
        .filter(|p| runs(actor, p) || (office && within_reach(actor, p)))
        .collect())
}

/// A project the actor may see, else not found (its existence is not revealed).
pub async fn project_for(state: &AppState, actor: &Actor, id: i64) -> AppResult<Project> {
    let project = project_by_id(state, id).await?.ok_or(AppError::NotFound)?;
    if runs(actor, &project) || office_over(state, actor, &project).await? {
        Ok(project)
    } else {
        Err(AppError::NotFound)
    }
}

/// A project the actor runs (designs and collects in).
pub async fn project_run_by(state: &AppState, actor: &Actor, id: i64) -> AppResult<Project> {
    let project = project_for(state, actor, id).await?;
    if runs(actor, &project) {
        Ok(project)
    } else {
        Err(AppError::Forbidden)
    }
}

/// Opens a project for the administrator's department.
pub async fn create_project(state: &AppState, actor: &Actor, name: &str) -> AppResult<Project> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::Invalid {
            field: "name",
            reason: "a project's name has 1 to 100 characters".into(),
        });
    }
    let Some(department) = actor
        .account
        .department_id
        .clone()
        .filter(|_| actor.has_role(Role::DeptAdmin))
    else {
        return Err(AppError::Forbidden);
    };
    let id = store::add_project(state.pool(), name, &department, actor.id(), state.now()).await?;
    log(
        state,
        actor,
        "collect.project_opened",
        serde_json::json!({"project": id, "department": department}),
    )
    .await?;
    project_by_id(state, id).await?.ok_or(AppError::NotFound)
}

/// An MD5 as OpenRosa form lists give it.
pub fn md5_hex(bytes: &[u8]) -> String {
    random::hex_encode(&Md5::digest(bytes))
}

/// Reads an uploaded XLSForm into a form of the project, as a draft (`send` false: ODK
/// Central's two steps, create then publish) or sent straight to the office.
pub async fn upload_form(
    state: &AppState,
    actor: &Actor,
    project_id: i64,
    bytes: &[u8],
    file_stem: &str,
    send: bool,
) -> AppResult<FormRow> {
    let project = project_run_by(state, actor, project_id).await?;
    if bytes.len() > MAX_XLSFORM {
        return Err(AppError::PayloadTooLarge);
    }
    let form = xlsform::read(bytes, file_stem).map_err(|errors| AppError::Invalid {
        field: "xlsform",
        reason: errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
    })?;
    Checker::new(form.clone()).map_err(|(path, e)| AppError::Invalid {
        field: "xlsform",
        reason: format!("{path}: {e}"),
    })?;
    let row = form_row(
        &project,
        &form,
        actor.id(),
        state.now(),
        if send { PENDING } else { DRAFT },
    );
    store::save_form(state.pool(), &row).await?;
    Ok(row)
}

/// The stored row of a form read from an XLSForm.
pub fn form_row(project: &Project, form: &Form, by: &str, at: i64, state: &str) -> FormRow {
    let xml = xform::write(form);
    FormRow {
        project_id: project.id,
        xml_form_id: form.id.clone(),
        version: form.version.clone().unwrap_or_default(),
        title: form.title.clone(),
        definition: serde_json::to_string(form).unwrap_or_default(),
        hash: md5_hex(xml.as_bytes()),
        xform: xml,
        state: state.to_owned(),
        due_day: None,
        target_regions: None,
        opens_day: None,
        created_by: by.to_owned(),
        created_at: at,
        decided_by: None,
        decided_at: None,
        decision_note: None,
    }
}

/// Sends a draft to the office (ODK Central's "publish").
pub async fn send_for_approval(
    state: &AppState,
    actor: &Actor,
    project_id: i64,
    xml_form_id: &str,
) -> AppResult<FormRow> {
    project_run_by(state, actor, project_id).await?;
    let mut form = store::form(state.pool(), project_id, xml_form_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if form.state != DRAFT && form.state != RETURNED {
        return Err(AppError::Conflict(format!(
            "the form is {}; only a draft or a returned form is sent for approval",
            form.state
        )));
    }
    form.state = PENDING.into();
    store::save_form(state.pool(), &form).await?;
    Ok(form)
}

/// The office approves a pending form (it opens for collection) or sends it back with a note.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    project_id: i64,
    xml_form_id: &str,
    approve: bool,
    note: &str,
) -> AppResult<FormRow> {
    let project = project_by_id(state, project_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !office_over(state, actor, &project).await? {
        return Err(AppError::Forbidden);
    }
    let form = store::form(state.pool(), project_id, xml_form_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if form.created_by == actor.id() {
        return Err(AppError::NotAuthorised(
            "a form is approved by someone other than its designer".into(),
        ));
    }
    let note = note.trim();
    if !approve && note.is_empty() {
        return Err(AppError::Invalid {
            field: "note",
            reason: "say why the form is sent back".into(),
        });
    }
    if note.chars().count() > 1000 {
        return Err(AppError::Invalid {
            field: "note",
            reason: "at most 1000 characters".into(),
        });
    }
    let to = if approve { APPROVED } else { RETURNED };
    if approve && form.state == PENDING {
        // The list the form saves to, and its properties, exist before it collects.
        let definition: Form =
            serde_json::from_str(&form.definition).map_err(|e| AppError::Internal(e.into()))?;
        crate::entities::made::declare(state, project_id, &definition, &form.created_by).await?;
    }
    if !store::decide(
        state.pool(),
        project_id,
        xml_form_id,
        to,
        actor.id(),
        state.now(),
        note,
    )
    .await?
    {
        return Err(AppError::Conflict(format!(
            "the form is {}, not waiting for approval",
            form.state
        )));
    }
    log(
        state,
        actor,
        if approve {
            "collect.form_approved"
        } else {
            "collect.form_returned"
        },
        serde_json::json!({
            "project": project_id,
            "form": xml_form_id,
            "version": form.version,
            "xform_md5": form.hash,
            "note": note,
        }),
    )
    .await?;
    store::form(state.pool(), project_id, xml_form_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The forms waiting for this office: pending forms of projects in its region, oldest first.
pub async fn waiting_for(state: &AppState, actor: &Actor, limit: i64) -> AppResult<Vec<FormRow>> {
    if !in_office(state, actor).await? {
        return Err(AppError::Forbidden);
    }
    let mut out = Vec::new();
    for form in store::forms_in_state(state.pool(), PENDING, limit).await? {
        if let Some(project) = project_by_id(state, form.project_id).await?
            && within_reach(actor, &project)
        {
            out.push(form);
        }
    }
    Ok(out)
}

/// The forms waiting for the approving office, as its part of the to-do list (its page
/// `/collect` holds the overlap report and the decision).
pub async fn todo_part(
    state: &AppState,
    actor: &Actor,
    t: crate::web::i18n::Tr,
    limit: usize,
) -> AppResult<tongban_platform::module::TodoPart> {
    let mut part = tongban_platform::module::TodoPart::default();
    if in_office(state, actor).await? {
        let waiting = waiting_for(state, actor, 500).await?;
        part.total += waiting.len();
        part.items
            .extend(waiting.into_iter().take(limit).map(|form| {
                tongban_platform::module::TodoItem {
                    module: "collect",
                    kind: t.get("collect.todo_kind").to_owned(),
                    title: form.title,
                    link: "/collect".to_owned(),
                    due: None,
                    urgency: 0,
                    at: form.created_at,
                }
            }));
    }
    Ok(part)
}

/// A question of a form that other approved forms, or the platform's registers, already
/// collect.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FieldOverlap {
    pub name: String,
    pub label: String,
    /// Approved forms with the same question (by name or by label): "title (form id)".
    pub forms: Vec<String>,
    /// The register that already holds it, for a name, ID number, phone or address.
    pub register: Option<String>,
}

/// The overlap report the office reads before approving.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Overlap {
    pub questions: usize,
    /// Questions already collected elsewhere.
    pub already: usize,
    pub fields: Vec<FieldOverlap>,
}

/// The questions a collector answers (not notes, calculations or device metadata).
fn questions(form: &Form) -> Vec<(String, String)> {
    form.nodes()
        .into_iter()
        .filter(|(_, n)| {
            !n.kind.is_container()
                && !n.kind.is_metadata()
                && !matches!(n.kind, Kind::Note | Kind::Calculate)
        })
        .map(|(_, n)| (n.name.clone(), n.label.clone()))
        .collect()
}

fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// How many approved forms the overlap report reads at most.
pub const OVERLAP_FORMS: i64 = 5_000;

pub async fn overlap(
    state: &AppState,
    actor: &Actor,
    project_id: i64,
    xml_form_id: &str,
) -> AppResult<Overlap> {
    project_for(state, actor, project_id).await?;
    let row = store::form(state.pool(), project_id, xml_form_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form: Form =
        serde_json::from_str(&row.definition).map_err(|e| AppError::Internal(e.into()))?;
    let others = store::approved_definitions(state.pool(), OVERLAP_FORMS).await?;
    Ok(overlap_of(&form, (project_id, xml_form_id), &others))
}

/// The report for `form` against other forms' definitions (project, form id, title, JSON).
pub fn overlap_of(
    form: &Form,
    own: (i64, &str),
    others: &[(i64, String, String, String)],
) -> Overlap {
    let mine = questions(form);
    let wanted_names: std::collections::HashMap<String, usize> = mine
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (fold(n), i))
        .collect();
    let wanted_labels: std::collections::HashMap<String, usize> = mine
        .iter()
        .enumerate()
        .filter(|(_, (_, l))| !l.is_empty())
        .map(|(i, (_, l))| (fold(l), i))
        .collect();
    let mut found: Vec<Vec<String>> = vec![Vec::new(); mine.len()];
    for (project, id, title, definition) in others {
        if (*project, id.as_str()) == own {
            continue;
        }
        let Ok(other) = serde_json::from_str::<Form>(definition) else {
            continue;
        };
        let mut hit = vec![false; mine.len()];
        for (name, label) in questions(&other) {
            for i in [
                wanted_names.get(&fold(&name)),
                wanted_labels.get(&fold(&label)),
            ]
            .into_iter()
            .flatten()
            {
                hit[*i] = true;
            }
        }
        for (i, h) in hit.into_iter().enumerate() {
            if h {
                found[i].push(format!("{title} ({id})"));
            }
        }
    }
    let fields: Vec<FieldOverlap> = mine
        .into_iter()
        .zip(found)
        .map(|((name, label), forms)| {
            let register = register_of(&name, &label);
            FieldOverlap {
                name,
                label,
                forms,
                register,
            }
        })
        .collect();
    Overlap {
        questions: fields.len(),
        already: fields
            .iter()
            .filter(|f| !f.forms.is_empty() || f.register.is_some())
            .count(),
        fields,
    }
}

/// The platform register that holds a question's answer already, by what its name or label
/// says (the personal-data gate's reading of column names, and phones).
fn register_of(name: &str, label: &str) -> Option<String> {
    use tongban_tables::gate::{Kind as Said, column_kind};
    let said = column_kind(name).or_else(|| column_kind(label));
    let phone = ["电话", "手机", "phone", "mobile", "tel"]
        .iter()
        .any(|w| name.to_lowercase().contains(w) || label.contains(w));
    match said {
        Some(Said::IdColumn | Said::ResidentId) => {
            Some("人口库：公民身份号码 (population register: ID number)".into())
        }
        Some(Said::NameColumn) => Some("人口库：姓名 (population register: name)".into()),
        Some(Said::AddressColumn) => Some("人口库：住址 (population register: address)".into()),
        _ if phone => Some("人口库：联系电话 (population register: phone)".into()),
        _ => None,
    }
}

/// Makes an app user (a collector's device) for the project; the token is shown once.
pub async fn add_app_user(
    state: &AppState,
    actor: &Actor,
    project_id: i64,
    display_name: &str,
    unit: Option<&str>,
    holder: Option<&str>,
) -> AppResult<(Collector, String)> {
    let project = project_run_by(state, actor, project_id).await?;
    let unit = crate::reach::collector_unit(state, &project, unit).await?;
    let holder = match holder.map(str::trim).filter(|h| !h.is_empty()) {
        None => None,
        Some(username) => Some(staff_holder(state, username).await?),
    };
    let display_name = display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 100 {
        return Err(AppError::Invalid {
            field: "displayName",
            reason: "1 to 100 characters".into(),
        });
    }
    let token = random::secret_token();
    let at = state.now();
    let id = store::add_collector(
        state.pool(),
        &store::NewCollector {
            project_id,
            kind: "app_user",
            display_name,
            account_id: None,
            token_hash: Some(&random::secret_digest(&token)),
            region_code: unit.as_deref(),
            holder_id: holder.as_deref(),
            by: actor.id(),
            at,
        },
    )
    .await?;
    log(
        state,
        actor,
        "collect.app_user_made",
        serde_json::json!({"project": project_id, "app_user": id, "unit": unit, "holder": holder}),
    )
    .await?;
    Ok((
        Collector {
            id,
            project_id,
            kind: "app_user".into(),
            display_name: display_name.to_owned(),
            account_id: None,
            created_at: at,
            revoked_at: None,
            region_code: unit,
            holder_id: holder,
        },
        token,
    ))
}

/// The account of a staff member (a clerk or a department's administrator) named to carry a
/// device, by username; else invalid.
async fn staff_holder(state: &AppState, username: &str) -> AppResult<String> {
    use tongban_platform::identity::model::Role;
    let not_staff = || AppError::Invalid {
        field: "holder",
        reason: format!("{username:?} is not a staff member's username"),
    };
    let holder = crate::identity::service::actor_of_username(state, username)
        .await?
        .ok_or_else(not_staff)?;
    if holder.has_role(Role::Clerk) || holder.has_role(Role::DeptAdmin) {
        Ok(holder.id().to_owned())
    } else {
        Err(not_staff())
    }
}

/// Withdraws a device of the project: its token stops working at once.
pub async fn revoke_app_user(
    state: &AppState,
    actor: &Actor,
    project_id: i64,
    id: i64,
) -> AppResult<()> {
    project_run_by(state, actor, project_id).await?;
    if !store::revoke_app_user(state.pool(), project_id, id, state.now()).await? {
        return Err(AppError::NotFound);
    }
    log(
        state,
        actor,
        "collect.app_user_revoked",
        serde_json::json!({"project": project_id, "app_user": id}),
    )
    .await
}

/// Records an act of the module's governance in the transparency log: who opened a project,
/// approved or sent back a form, planned it, made or withdrew a device.
pub async fn log(
    state: &AppState,
    actor: &Actor,
    kind: &str,
    what: serde_json::Value,
) -> AppResult<()> {
    log_as(state, actor.id(), kind, what).await
}

/// Records an act in the transparency log under the id of who did it (an account, or a
/// collector's device as `collect-device:{id}`).
pub async fn log_as(
    state: &AppState,
    actor_id: &str,
    kind: &str,
    what: serde_json::Value,
) -> AppResult<()> {
    let entry = serde_json::json!({
        "kind": kind,
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": actor_id,
        "what": what,
    });
    crate::ledger::service::append(state, &entry).await?;
    Ok(())
}

/// The app user of a token, or unauthenticated.
pub async fn app_user(state: &AppState, token: &str) -> AppResult<Collector> {
    if token.is_empty() || token.len() > 100 {
        return Err(AppError::Unauthenticated);
    }
    store::app_user_by_token(state.pool(), &random::secret_digest(token))
        .await?
        .ok_or(AppError::Unauthenticated)
}

/// The numeric id ODK clients know a staff account by.
pub async fn staff_id(state: &AppState, actor: &Actor) -> AppResult<i64> {
    let fixed = state.module::<Fixed>();
    if let Some(id) = fixed.staff.get(actor.id()) {
        return Ok(id);
    }
    let id = store::add_collector(
        state.pool(),
        &store::NewCollector {
            project_id: 0,
            kind: "account",
            display_name: &actor.account.display_name,
            account_id: Some(actor.id()),
            token_hash: None,
            region_code: None,
            holder_id: None,
            by: actor.id(),
            at: state.now(),
        },
    )
    .await?;
    fixed.staff.insert(actor.id().to_owned(), id);
    Ok(id)
}

/// Forms ready to check against, by project, form id and the XForm's hash (a new version is
/// a new entry; an old one ages out).
pub struct Checkers(quick_cache::sync::Cache<(i64, String, String), std::sync::Arc<Checker>>);

impl Default for Checkers {
    fn default() -> Self {
        Checkers(quick_cache::sync::Cache::new(256))
    }
}

/// What never changes once written, kept by each node: projects by id (a project is never
/// edited) and the numeric ids of staff accounts (never reassigned).
pub struct Fixed {
    projects: quick_cache::sync::Cache<i64, Project>,
    staff: quick_cache::sync::Cache<String, i64>,
}

impl Default for Fixed {
    fn default() -> Self {
        Fixed {
            projects: quick_cache::sync::Cache::new(1024),
            staff: quick_cache::sync::Cache::new(4096),
        }
    }
}

pub async fn project_by_id(state: &AppState, id: i64) -> AppResult<Option<Project>> {
    let fixed = state.module::<Fixed>();
    if let Some(project) = fixed.projects.get(&id) {
        return Ok(Some(project));
    }
    let found = store::project(state.pool(), id).await?;
    if let Some(project) = &found {
        fixed.projects.insert(id, project.clone());
    }
    Ok(found)
}

pub async fn checker_of(
    state: &AppState,
    project_id: i64,
    xml_form_id: &str,
    hash: &str,
) -> AppResult<std::sync::Arc<Checker>> {
    let key = (project_id, xml_form_id.to_owned(), hash.to_owned());
    let cache = &state.module::<Checkers>().0;
    if let Some(found) = cache.get(&key) {
        return Ok(found);
    }
    let text = store::form_definition(state.pool(), project_id, xml_form_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let definition: Form = serde_json::from_str(&text).map_err(|e| AppError::Internal(e.into()))?;
    let checker = std::sync::Arc::new(
        Checker::new(definition)
            .map_err(|(path, e)| AppError::Internal(anyhow::anyhow!("{path}: {e}")))?,
    );
    cache.insert(key, checker.clone());
    Ok(checker)
}

/// A submission as received: the instance's XML and the files sent with it.
pub struct Incoming {
    pub xml: String,
    pub files: Vec<(String, String, Vec<u8>)>,
    pub device_id: Option<String>,
    /// The grassroots unit of the app user who sent it.
    pub unit: Option<String>,
}

/// What became of a submission.
pub enum Stored {
    /// Stored now.
    Created(SubmissionRow),
    /// The same instance was already stored (sent again); any new files were added.
    Again(SubmissionRow),
}

fn xml_context(project: i64, form: &str, instance: &str) -> String {
    format!("collect-submission:{project}:{form}:{instance}")
}

pub(crate) fn file_context(project: i64, form: &str, instance: &str, name: &str) -> String {
    format!("collect-file:{project}:{form}:{instance}:{name}")
}

/// The form id an instance names (its root's `id`), without checking anything else.
pub fn form_id_of(xml: &str) -> AppResult<String> {
    let doc = tongban_xform::Instance::parse(xml).map_err(|e| AppError::Invalid {
        field: "xml_submission_file",
        reason: e.to_string(),
    })?;
    doc.attribute(tongban_xform::Instance::ROOT, "id")
        .map(str::to_owned)
        .ok_or_else(|| AppError::Invalid {
            field: "xml_submission_file",
            reason: "the instance's root element has no id attribute naming its form".into(),
        })
}

/// Checks and stores a submission to an approved form of the project.
pub async fn submit(
    state: &AppState,
    project: &Project,
    submitter_id: i64,
    xml_form_id: &str,
    incoming: Incoming,
) -> AppResult<Stored> {
    if incoming.xml.len() > MAX_SUBMISSION_XML {
        return Err(AppError::PayloadTooLarge);
    }
    let (form_state, hash, targets) = store::form_head(state.pool(), project.id, xml_form_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if form_state != APPROVED {
        return Err(AppError::Conflict(format!(
            "the form {xml_form_id} is not open for collection (it is {form_state})"
        )));
    }
    let targets = crate::reach::parse_targets(targets.as_deref());
    if !crate::reach::reaches(&targets, incoming.unit.as_deref()) {
        return Err(AppError::Conflict(format!(
            "the form {xml_form_id} is not sent to this collector's unit"
        )));
    }
    let checker = checker_of(state, project.id, xml_form_id, &hash).await?;
    let checked = checker
        .check(
            &incoming.xml,
            &Env {
                today: state.today(),
            },
        )
        .map_err(|refusal| match refusal {
            Refusal::OtherForm(id) => AppError::Invalid {
                field: "xml_submission_file",
                reason: format!("the instance is for the form {id:?}, not {xml_form_id:?}"),
            },
            other => AppError::Invalid {
                field: "xml_submission_file",
                reason: other.to_string(),
            },
        })?;
    // An entity chosen from a list must be one of the list (deleted since, it still was).
    for (path, node) in checker.form().nodes() {
        let Kind::SelectOneFromFile(file) = &node.kind else {
            continue;
        };
        let Some(list) = tongban_xform::file_list(file) else {
            continue;
        };
        for answer in checked.answers.iter().filter(|a| a.field == path) {
            let known = match crate::entities::content::check_uuid(&answer.value) {
                Ok(uuid) => crate::entities::store::entity(state.pool(), project.id, list, &uuid)
                    .await?
                    .is_some(),
                Err(_) => false,
            };
            if !known {
                return Err(AppError::Invalid {
                    field: "xml_submission_file",
                    reason: format!(
                        "{}: {:?} is not an entity of the list {list}",
                        answer.path, answer.value
                    ),
                });
            }
        }
    }
    // Files must be ones the instance names in a photo or file question.
    let file_fields: Vec<String> = checker
        .form()
        .nodes()
        .into_iter()
        .filter(|(_, n)| matches!(n.kind, Kind::Image | Kind::File))
        .map(|(path, _)| path)
        .collect();
    let named: Vec<&str> = checked
        .answers
        .iter()
        .filter(|a| file_fields.contains(&a.field))
        .map(|a| a.value.as_str())
        .collect();
    if incoming.files.len() > MAX_FILES {
        return Err(AppError::Invalid {
            field: "files",
            reason: format!("at most {MAX_FILES} files in one request"),
        });
    }
    let mut sealed_files = Vec::new();
    for (name, content_type, body) in &incoming.files {
        if !named.contains(&name.as_str()) {
            return Err(AppError::Invalid {
                field: "files",
                reason: format!(
                    "the file {name:?} is not named by any photo or file question of the instance"
                ),
            });
        }
        if body.len() > MAX_FILE {
            return Err(AppError::PayloadTooLarge);
        }
        sealed_files.push((
            name.clone(),
            content_type.clone(),
            state.vault.seal_field(
                &file_context(project.id, xml_form_id, &checked.instance_id, name),
                body,
            ),
        ));
    }
    let hash = random::secret_digest(&incoming.xml);
    let row = SubmissionRow {
        project_id: project.id,
        xml_form_id: xml_form_id.to_owned(),
        instance_id: checked.instance_id.clone(),
        submitter_id,
        device_id: incoming.device_id.filter(|d| d.len() <= 200),
        version: checked.version.clone().unwrap_or_default(),
        xml_hash: hash.clone(),
        xml_sealed: state.vault.seal_field(
            &xml_context(project.id, xml_form_id, &checked.instance_id),
            incoming.xml.as_bytes(),
        ),
        created_at: state.now(),
        region_code: incoming.unit.clone(),
        review_state: None,
    };
    let again = |existing: SubmissionRow| -> AppResult<SubmissionRow> {
        if existing.xml_hash == hash {
            Ok(existing)
        } else {
            Err(AppError::Conflict(format!(
                "a submission with the instanceID {} was already received with other content",
                checked.instance_id
            )))
        }
    };
    let entity = crate::entities::made::from_submission(
        state,
        checker.form(),
        &incoming.xml,
        &checked.answers,
        &crate::entities::made::Source {
            project_id: project.id,
            submitter_id,
            region_code: row.region_code.as_deref(),
            instance_id: &row.instance_id,
            at: row.created_at,
        },
        false,
    )
    .await?;
    let files_again = sealed_files.clone();
    let written = state
        .module::<crate::writer::Submissions>()
        .write(crate::writer::NewSubmission {
            row: row.clone(),
            files: sealed_files,
            tallies: crate::tally::tallies_of(checker.form(), &checked.answers),
            entity,
        })
        .await?;
    if written {
        let unit = row.region_code.as_deref().unwrap_or(&project.region_code);
        let district = unit.get(..6).unwrap_or(unit);
        tongban_platform::figures::count(state, SUBMISSIONS, district);
        return Ok(Stored::Created(row));
    }
    // Received before: the same content is accepted again (with any files not yet kept).
    let existing = store::submission(state.pool(), project.id, xml_form_id, &checked.instance_id)
        .await?
        .ok_or(AppError::Contention)?;
    let existing = again(existing)?;
    store::add_more_files(state.pool(), &existing, &files_again).await?;
    Ok(Stored::Again(existing))
}

/// ODK's review states a reviewer may set.
pub const REVIEW_STATES: [&str; 3] = ["approved", "hasIssues", "rejected"];

/// The project's staff set a submission's review state. Approving the submission of a form
/// that makes entities makes its entity, where the list waited for approval (and it is not
/// there yet), in the same transaction.
pub async fn review(
    state: &AppState,
    actor: &Actor,
    project_id: i64,
    xml_form_id: &str,
    instance_id: &str,
    review_state: &str,
) -> AppResult<SubmissionRow> {
    let project = project_run_by(state, actor, project_id).await?;
    if !REVIEW_STATES.contains(&review_state) {
        return Err(AppError::Invalid {
            field: "reviewState",
            reason: format!("one of {}", REVIEW_STATES.join(", ")),
        });
    }
    let mut row = store::submission(state.pool(), project.id, xml_form_id, instance_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut entity = None;
    if review_state == "approved" {
        let form = store::form(state.pool(), project.id, xml_form_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let checker = checker_of(state, project.id, xml_form_id, &form.hash).await?;
        if checker.form().entity.is_some() {
            let xml = submission_xml(state, &row)?;
            let env = Env {
                today: state.today(),
            };
            // Checked again as the form now stands, for the answers the entity takes.
            let answers = checker
                .check(&xml, &env)
                .map(|c| c.answers)
                .map_err(|refusal| {
                    AppError::Conflict(format!(
                        "the submission no longer passes its form's checks: {refusal}"
                    ))
                })?;
            entity = crate::entities::made::from_submission(
                state,
                checker.form(),
                &xml,
                &answers,
                &crate::entities::made::Source {
                    project_id: project.id,
                    submitter_id: row.submitter_id,
                    region_code: row.region_code.as_deref(),
                    instance_id: &row.instance_id,
                    at: state.now(),
                },
                true,
            )
            .await?;
        }
    }
    row.review_state = Some(review_state.to_owned());
    store::set_review(state.pool(), &row, entity.as_ref()).await?;
    Ok(row)
}

/// A stored submission's XML, opened.
pub fn submission_xml(state: &AppState, row: &SubmissionRow) -> AppResult<String> {
    let plain = state.vault.open_field(
        &xml_context(row.project_id, &row.xml_form_id, &row.instance_id),
        &row.xml_sealed,
    )?;
    String::from_utf8(plain.to_vec()).map_err(|e| AppError::Internal(e.into()))
}

/// The form of a project the caller may collect with: approved (for app users), any (for
/// the project's staff).
pub async fn form_for(
    state: &AppState,
    caller: &Caller,
    project: &Project,
    xml_form_id: &str,
) -> AppResult<FormRow> {
    let form = store::form(state.pool(), project.id, xml_form_id)
        .await?
        .ok_or(AppError::NotFound)?;
    match caller {
        Caller::AppUser(user)
            if !crate::reach::is_open(&form, state.today())
                || !crate::reach::reaches(
                    &crate::reach::targets(&form),
                    user.region_code.as_deref(),
                ) =>
        {
            Err(AppError::NotFound)
        }
        _ => Ok(form),
    }
}
