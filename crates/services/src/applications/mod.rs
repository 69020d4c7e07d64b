//! 办件: online applications for service items. A citizen or enterprise applies once with a
//! form generated from the item (what the platform knows is filled in), materials pulled from
//! the certificate library through authorised use (免证办) or uploaded; the implementing
//! department's clerks move it through the item's workflow within the promised working days;
//! on approval a certificate result goes straight to the applicant's wallet; every step is
//! logged and noticed to the applicant.

pub mod api;
pub mod bundle;
pub mod drafts;
pub mod evaluation;
pub mod govstack;
pub mod pages;
pub(crate) mod store;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::authz::{Action, Resource, can};
use crate::error::{AppError, AppResult};
use crate::identity::model::{AccountKind, Actor};
use crate::identity::personal::{self, Purpose};
use crate::services::item::{FormField, Prefill, ResultKind, ServiceDefinition, Source};
use crate::state::AppState;
use store::{ApplicationRow, NewMaterial};
use tongban_workflow::table::{self as workflow, Workflow};

fn form_context(id: &str) -> String {
    format!("applications.form/{id}")
}

fn material_context(id: &str, name: &str) -> String {
    format!("application_materials.data/{id}/{name}")
}

fn reason_context(id: &str) -> String {
    format!("application_events.reason/{id}")
}

fn upload_context(id: &str) -> String {
    format!("uploads.data/{id}")
}

/// A form field with what the platform fills in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldView {
    #[schema(value_type = Object)]
    pub field: FormField,
    /// The known value of a prefilled field.
    pub value: Option<String>,
}

/// What the platform knows of the applicant, for prefilling.
async fn known(
    state: &AppState,
    actor: &Actor,
    fields: &[FormField],
) -> AppResult<BTreeMap<Prefill, String>> {
    let mut values = BTreeMap::new();
    if !tongban_forms::needs_known(fields) {
        return Ok(values);
    }
    if let Some(person) = &actor.account.person_id {
        let record =
            personal::read_person(state, actor, person, Purpose::SelfService, None).await?;
        values.insert(Prefill::Name, record.name.expose().to_owned());
        values.insert(Prefill::ResidentId, record.resident_id.clone());
        if let Some(phone) = &record.phone {
            values.insert(Prefill::Phone, phone.expose().to_owned());
        }
    } else if let Some(enterprise) = &actor.account.enterprise_id {
        let record = personal::read_enterprise(state, actor, enterprise).await?;
        values.insert(Prefill::Name, record.name);
        values.insert(Prefill::Uscc, record.uscc.as_str().to_owned());
    }
    Ok(values)
}

/// The form of an item for this applicant, with the known values in.
pub async fn form_for(
    state: &AppState,
    actor: &Actor,
    item: &ServiceDefinition,
) -> AppResult<Vec<FieldView>> {
    let values = known(state, actor, &item.form).await?;
    Ok(tongban_forms::prefilled(&item.form, &values)
        .into_iter()
        .map(|(field, value)| FieldView {
            field: field.clone(),
            value,
        })
        .collect())
}

/// Checks submitted values against the form ([`tongban_forms::check`]); the first problem is
/// the answer, naming the field by its label.
fn check_form(
    fields: &[FormField],
    submitted: &BTreeMap<String, String>,
    known: &BTreeMap<Prefill, String>,
) -> AppResult<BTreeMap<String, Value>> {
    tongban_forms::check(fields, submitted, known).map_err(|errors| {
        let first = errors
            .first()
            .map(|error| error.message(fields))
            .unwrap_or_default();
        AppError::invalid("form", first)
    })
}

/// An application as submitted.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    /// Field code → value (a list's entries separated by 、 or commas).
    #[serde(default)]
    pub form: BTreeMap<String, String>,
    /// Material name → the id of an upload (`POST /api/v1/uploads`), for materials the
    /// applicant provides.
    #[serde(default)]
    pub uploads: BTreeMap<String, String>,
    /// The applicant agrees that the department obtains the certificates the item names from
    /// the certificate library (免证办); required when it names any.
    #[serde(default)]
    pub use_certificates: bool,
}

pub(crate) fn applicant_kind(actor: &Actor) -> AppResult<(&'static str, String)> {
    match actor.account.kind {
        AccountKind::Citizen | AccountKind::Enterprise => crate::certs::holder_of(actor),
        AccountKind::Staff => Err(AppError::Forbidden),
    }
}

/// The working-day calendar of a region (its holidays and exchanged working days).
pub async fn calendar_of(state: &AppState, region: &str) -> AppResult<tongban_workflow::Calendar> {
    type Calendars = std::sync::Arc<crate::cache::Coherent<tongban_workflow::Calendar>>;
    let Some(cache) = state.try_module::<Calendars>() else {
        return read_calendar(state, region).await;
    };
    let entry = cache
        .get_or_load(state.now(), region, || async {
            Ok(Some(read_calendar(state, region).await?))
        })
        .await?;
    Ok(entry.map(|entry| entry.value.clone()).unwrap_or_default())
}

/// The scope of working-day calendars in the nodes' caches: a region's code is published
/// when its calendar changes.
pub const CALENDARS: &str = "calendars";

async fn read_calendar(state: &AppState, region: &str) -> AppResult<tongban_workflow::Calendar> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let mut holidays = Vec::new();
    let mut workdays = Vec::new();
    for (day, kind) in store::calendar_days(state.pool(), region).await? {
        let Ok(day) = time::Date::parse(&day, format) else {
            continue;
        };
        if kind == "workday" {
            workdays.push(day);
        } else {
            holidays.push(day);
        }
    }
    Ok(tongban_workflow::Calendar::new(holidays, workdays))
}

/// Applies for an item: the form checked, certificate materials obtained from the library,
/// uploads taken over, the due day counted in working days; stored in one transaction.
pub async fn apply(
    state: &AppState,
    actor: &Actor,
    code: &str,
    request: ApplyRequest,
    idempotency_key: Option<&str>,
) -> AppResult<ApplicationView> {
    let key = idempotency_key
        .map(|key| request_key(code, &request, key))
        .transpose()?;
    apply_keyed(state, actor, code, request, key).await
}

/// Applies from the apply page. The page's form carries a key of its own (`form_key`); the
/// same filling of the form sent again — a second click, or sent again after going back —
/// shows the application the first sending made. Its files are new uploads each time it is
/// sent, so what was sent is not compared, as an API request's is.
pub async fn apply_from_page(
    state: &AppState,
    actor: &Actor,
    code: &str,
    request: ApplyRequest,
    form_key: Option<&str>,
) -> AppResult<ApplicationView> {
    let key = form_key.map(|key| store::RequestKey {
        key: format!("page:{key}"),
        fingerprint: format!("page:{code}"),
    });
    apply_keyed(state, actor, code, request, key).await
}

async fn apply_keyed(
    state: &AppState,
    actor: &Actor,
    code: &str,
    request: ApplyRequest,
    key: Option<store::RequestKey>,
) -> AppResult<ApplicationView> {
    if let Some(key) = &key
        && let Some(made) = made_with(state, actor, key).await?
    {
        return Ok(made);
    }
    let stored = crate::services::item_by_code(state, code)
        .await?
        .ok_or(AppError::NotFound)?;
    for name in request.uploads.keys() {
        if !stored.definition.materials.iter().any(|m| &m.name == name) {
            return Err(AppError::invalid(
                "uploads",
                format!("{name} is not a material of this item"),
            ));
        }
    }
    let plan = plan(state, actor, stored, &request).await?;
    let view = match execute(state, actor, plan, None, true, key.as_ref()).await {
        Ok(view) => view,
        Err(error) => match &key {
            Some(key) => made_by_twin(state, actor, key).await?.ok_or(error)?,
            None => return Err(error),
        },
    };
    // The application is stored: the applicant's draft of it has done its work. Were this to
    // fail, the draft would stay until its thirty days end — nothing is lost.
    if let Err(error) = drafts::discard(state, actor.id(), code).await {
        tracing::warn!(%error, "a draft outlived its application");
    }
    Ok(view)
}

/// An Idempotency-Key (RFC draft `draft-ietf-httpapi-idempotency-key-header`): 1–255
/// visible ASCII characters, kept with a fingerprint of the item and the request.
fn request_key(code: &str, request: &ApplyRequest, key: &str) -> AppResult<store::RequestKey> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::invalid(
            "Idempotency-Key",
            "1 to 255 visible ASCII characters",
        ));
    }
    let body = serde_json::to_vec(&(code, request)).map_err(|e| AppError::Internal(e.into()))?;
    Ok(store::RequestKey {
        key: key.to_owned(),
        fingerprint: data_encoding::HEXLOWER.encode(&<sha2::Sha256 as sha2::Digest>::digest(&body)),
    })
}

/// The application an applicant's key already made, if it did; a key used for another request
/// is refused.
async fn made_with(
    state: &AppState,
    actor: &Actor,
    key: &store::RequestKey,
) -> AppResult<Option<ApplicationView>> {
    let Some((fingerprint, id)) = store::request_of(state.pool(), actor.id(), &key.key).await?
    else {
        return Ok(None);
    };
    if fingerprint != key.fingerprint {
        return Err(AppError::invalid(
            "Idempotency-Key",
            "this key was sent with another application; use a new key for a new application",
        ));
    }
    let row = store::by_id(state.pool(), &id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(views(state, vec![row]).await?.pop())
}

/// After a failure with a key: the same key may be in flight in another request (a client
/// that sent twice at once), which took what this one needed — the one-time authorisation of
/// a certificate, an upload, the key's row — and is about to store the application. Waits a
/// little for it; `None` when no application comes of the key.
async fn made_by_twin(
    state: &AppState,
    actor: &Actor,
    key: &store::RequestKey,
) -> AppResult<Option<ApplicationView>> {
    for _ in 0..40 {
        if let Some(made) = made_with(state, actor, key).await? {
            return Ok(Some(made));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(None)
}

/// The daily clean-up: drafts past their thirty days, uploads no application took within a
/// day of `before` (a draft's files stay with it), and the Idempotency-Keys older than that.
/// Returns the uploads deleted.
pub async fn purge_unclaimed(state: &AppState, before: i64) -> AppResult<u64> {
    drafts::purge(state).await?;
    store::delete_requests_before(state.pool(), before).await?;
    store::delete_uploads_before(state.pool(), before).await
}

/// An application checked and ready to store.
struct Plan {
    stored: crate::services::StoredItem,
    kind: &'static str,
    holder: String,
    values: BTreeMap<String, Value>,
    /// (material name, certificate type) obtained from the library.
    pulled: Vec<(String, crate::certs::CertType)>,
    uploads: Vec<(String, store::UploadRow)>,
}

/// Every check of an application, without side effects: the form (of this item's fields),
/// consent, the certificates present in the wallet, an upload for each other required
/// material.
async fn plan(
    state: &AppState,
    actor: &Actor,
    stored: crate::services::StoredItem,
    request: &ApplyRequest,
) -> AppResult<Plan> {
    let (kind, holder) = applicant_kind(actor)?;
    let item = &stored.definition;
    let values = check_form(
        &item.form,
        &request.form,
        &known(state, actor, &item.form).await?,
    )?;
    // Which materials come from the library: certificate types this applicant can hold.
    let mut pulled = Vec::new();
    for material in &item.materials {
        let Some(type_code) = material.certificate_type.as_deref() else {
            continue;
        };
        if material.source != Source::CertificateLibrary {
            continue;
        }
        let Some(t) = crate::certs::cert_type(state, type_code).await? else {
            continue;
        };
        if t.holder_kind == kind {
            pulled.push((material.name.clone(), material.required, t));
        }
    }
    if !pulled.is_empty() && !request.use_certificates {
        return Err(AppError::invalid(
            "use_certificates",
            "confirm that the department may obtain your certificates for this application",
        ));
    }
    let today = tongban_core::zone::ymd(state.today());
    for (_, required, t) in &pulled {
        if *required
            && crate::certs::current_of_holder(state, kind, &holder, &t.code, &today)
                .await?
                .is_none()
        {
            return Err(AppError::Conflict(format!(
                "you have no valid {} in your wallet; it is needed for this application",
                t.name
            )));
        }
    }
    // Uploads for every other required material.
    let mut uploads = Vec::new();
    for material in &item.materials {
        let is_pulled = pulled.iter().any(|(name, _, _)| *name == material.name);
        if is_pulled || material.source == Source::Department {
            continue;
        }
        match request.uploads.get(&material.name) {
            Some(upload_id) => {
                let upload = store::upload(state.pool(), upload_id, actor.id())
                    .await?
                    .ok_or_else(|| {
                        AppError::invalid("uploads", format!("{}: no such upload", material.name))
                    })?;
                uploads.push((material.name.clone(), upload));
            }
            None if material.required => {
                return Err(AppError::invalid(
                    "uploads",
                    format!("{} is required: upload it", material.name),
                ));
            }
            None => {}
        }
    }
    Ok(Plan {
        kind,
        holder,
        values,
        pulled: pulled.into_iter().map(|(name, _, t)| (name, t)).collect(),
        uploads,
        stored,
    })
}

/// Stores a checked application: obtains its certificates (each a logged use), seals its
/// materials, counts its due day, logs and notices it. `consume` deletes the uploads it took
/// (a bundle shares them among its applications and deletes them at the end).
async fn execute(
    state: &AppState,
    actor: &Actor,
    plan: Plan,
    bundle: Option<&str>,
    consume: bool,
    key: Option<&store::RequestKey>,
) -> AppResult<ApplicationView> {
    let item = &plan.stored.definition;
    let id = crate::random::new_id();
    let mut materials = Vec::new();
    for (name, t) in &plan.pulled {
        let copy = crate::certs::usage::obtain_for_application(
            state,
            actor,
            &plan.stored.department_id,
            &crate::certs::usage::UseRequest {
                holder: crate::certs::usage::HolderRef {
                    resident_id: None,
                    uscc: None,
                },
                type_code: t.code.clone(),
                service_code: item.code.clone(),
                cause: format!("办理「{}」（办件 {id}）", item.name),
                copy_days: Some(30),
            },
        )
        .await?;
        let bytes = serde_json::to_vec(&copy).map_err(|e| AppError::Internal(e.into()))?;
        materials.push(NewMaterial {
            name: name.clone(),
            source: "certificate".into(),
            content_type: Some("application/json".into()),
            size: bytes.len() as i64,
            data_sealed: state.vault.seal_field(&material_context(&id, name), &bytes),
        });
    }
    let mut used = Vec::new();
    for (name, upload) in &plan.uploads {
        let bytes = state
            .vault
            .open_field(&upload_context(&upload.id), &upload.data_sealed)?;
        materials.push(NewMaterial {
            name: name.clone(),
            source: "upload".into(),
            content_type: Some(upload.content_type.clone()),
            size: upload.size,
            data_sealed: state.vault.seal_field(&material_context(&id, name), &bytes),
        });
        if consume {
            used.push(upload.id.clone());
        }
    }
    let department = crate::admin::directory::department(state, &plan.stored.department_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let calendar = calendar_of(state, department.region_code.as_str()).await?;
    let due = calendar.add_working_days(state.today(), limit_days(item));
    let form = serde_json::to_vec(&plan.values).map_err(|e| AppError::Internal(e.into()))?;
    let now = state.now();
    let row = ApplicationRow {
        id: id.clone(),
        item_code: item.code.clone(),
        department_id: plan.stored.department_id.clone(),
        applicant_kind: plan.kind.to_owned(),
        applicant_id: plan.holder.clone(),
        applicant_account: actor.id().to_owned(),
        state: workflow::START.into(),
        version: 1,
        form_sealed: state.vault.seal_field(&form_context(&id), &form),
        submitted_at: now,
        due_day: tongban_core::zone::ymd(due),
        state_since: now,
        result_certificate: None,
        bundle_id: bundle.map(str::to_owned),
    };
    log_step(state, &row, actor.id(), "submit", workflow::START).await?;
    store::insert(
        state,
        &row,
        materials,
        &used,
        &notice(&item.name, workflow::START),
        key,
    )
    .await?;
    count(state, RECEIVED, &department);
    view_row(state, &row, item, &calendar).await
}

/// The files a resubmission brings, as materials of the application: each names a material
/// the applicant provides (not one the library or the department provides) and is an upload
/// of the applicant's own.
async fn corrected_materials(
    state: &AppState,
    actor: &Actor,
    application_id: &str,
    item: &ServiceDefinition,
    uploads: &BTreeMap<String, String>,
) -> AppResult<(Vec<NewMaterial>, Vec<String>)> {
    let mut materials = Vec::new();
    let mut used = Vec::new();
    for (name, upload_id) in uploads {
        if !item
            .materials
            .iter()
            .any(|m| &m.name == name && m.source != Source::Department)
        {
            return Err(AppError::invalid(
                "uploads",
                format!("{name} is not a material of this item to upload"),
            ));
        }
        let upload = store::upload(state.pool(), upload_id, actor.id())
            .await?
            .ok_or_else(|| AppError::invalid("uploads", format!("{name}: no such upload")))?;
        let bytes = state
            .vault
            .open_field(&upload_context(&upload.id), &upload.data_sealed)?;
        materials.push(NewMaterial {
            name: name.clone(),
            source: "upload".into(),
            content_type: Some(upload.content_type.clone()),
            size: upload.size,
            data_sealed: state
                .vault
                .seal_field(&material_context(application_id, name), &bytes),
        });
        used.push(upload.id);
    }
    Ok((materials, used))
}

fn limit_days(item: &ServiceDefinition) -> u32 {
    match item.promised_limit {
        crate::services::item::TimeLimit::Immediate => 0,
        crate::services::item::TimeLimit::WorkingDays { days } => days,
    }
}

async fn log_step(
    state: &AppState,
    app: &ApplicationRow,
    actor: &str,
    action: &str,
    to: &str,
) -> AppResult<()> {
    let entry = serde_json::json!({
        "kind": "application_step",
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": actor,
        "application": app.id,
        "item": app.item_code,
        "department": app.department_id,
        "action": action,
        "from": app.state,
        "to": to,
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    Ok(())
}

/// Tells the applicant (in-app inbox; other channels later) that the application moved.
/// The text of the applicant's notice of a step (item name and the state reached), written
/// with the step.
fn notice(item_name: &str, to: &str) -> String {
    format!("{item_name}|{to}")
}

/// An action on an application.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    pub action: String,
    /// The version the actor saw; an action on an older one is refused with 409.
    pub version: i64,
    /// Required for reject, deny and request_correction.
    pub reason: Option<String>,
    /// A resubmission's corrected form.
    pub form: Option<BTreeMap<String, String>>,
    /// A resubmission's new files: material name → the id of an upload
    /// (`POST /api/v1/uploads`). They join the application beside the earlier ones.
    #[serde(default)]
    pub uploads: BTreeMap<String, String>,
}

/// Takes an action: allowed for the actor's role in the current state by the item's workflow,
/// on the version the actor saw. Approval of an item whose result is a certificate issues it
/// to the applicant's wallet. Logged, noticed.
pub async fn act(
    state: &AppState,
    actor: &Actor,
    id: &str,
    request: ActionRequest,
) -> AppResult<ApplicationView> {
    let app = store::by_id(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let by = role_on(actor, &app).ok_or(AppError::NotFound)?;
    let stored = crate::services::item_by_code(state, &app.item_code)
        .await?
        .ok_or(AppError::NotFound)?;
    let item = &stored.definition;
    let flow = Workflow::from_steps(&item.steps);
    let Some(action) = flow.allowed(&app.state, &request.action, by) else {
        let exists_for_other = flow
            .state(&app.state)
            .is_some_and(|s| s.actions.iter().any(|a| a.name == request.action));
        return Err(if exists_for_other {
            AppError::Forbidden
        } else {
            AppError::Conflict(format!(
                "{} is not possible while the application is {}",
                request.action, app.state
            ))
        });
    };
    let reason = request
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if action.needs_reason && reason.is_none_or(|r| r.chars().count() > 500) {
        return Err(AppError::invalid(
            "reason",
            "give the reason (1–500 characters)",
        ));
    }
    if request.version != app.version {
        return Err(AppError::Conflict(
            "the application changed since you opened it; reload it".into(),
        ));
    }
    let department = crate::admin::directory::department(state, &app.department_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let calendar = calendar_of(state, department.region_code.as_str()).await?;
    if !request.uploads.is_empty() && request.action != "resubmit" {
        return Err(AppError::invalid(
            "uploads",
            "only a resubmission carries files",
        ));
    }
    // A resubmission brings a corrected form (and the materials asked for) and restarts the
    // time limit.
    let resubmission = match (&request.form, request.action.as_str()) {
        (Some(form), "resubmit") => {
            let values = check_form(&item.form, form, &known(state, actor, &item.form).await?)?;
            let bytes = serde_json::to_vec(&values).map_err(|e| AppError::Internal(e.into()))?;
            let due = calendar.add_working_days(state.today(), limit_days(item));
            let (materials, used_uploads) =
                corrected_materials(state, actor, &app.id, item, &request.uploads).await?;
            Some(store::FormChange {
                form_sealed: state.vault.seal_field(&form_context(&app.id), &bytes),
                due_day: tongban_core::zone::ymd(due),
                materials,
                used_uploads,
            })
        }
        (Some(_), _) => {
            return Err(AppError::invalid(
                "form",
                "only a resubmission carries a form",
            ));
        }
        (None, "resubmit") if !request.uploads.is_empty() => {
            return Err(AppError::invalid(
                "form",
                "a resubmission with files carries its form too",
            ));
        }
        (None, _) => None,
    };
    let result =
        if request.action == workflow::APPROVE && item.result.kind == ResultKind::Certificate {
            draft_result(state, actor, &app, item, &department).await?
        } else {
            None
        };
    let event_id_reason = reason.map(|r| {
        state
            .vault
            .seal_field(&reason_context(&app.id), r.as_bytes())
    });
    let to = action.next.clone();
    let pending = result
        .as_ref()
        .map(|draft| pending_result(state, &app.id, &department.id, draft))
        .transpose()?;
    log_step(state, &app, actor.id(), &request.action, &to).await?;
    if !store::transition(
        state,
        &app,
        request.version,
        &request.action,
        actor.id(),
        &to,
        event_id_reason,
        resubmission,
        &notice(&item.name, &to),
        pending,
    )
    .await?
    {
        return Err(AppError::Conflict(
            "another action was taken on this application first; reload it".into(),
        ));
    }
    if let Some(figure) = figure_of_state(&to) {
        count(state, figure, &department);
        // On time: completed on or before the due day (days compare as `YYYY-MM-DD`).
        if figure == DELIVERED && tongban_core::zone::ymd(state.today()) <= app.due_day {
            count(state, DELIVERED_ON_TIME, &department);
        }
    }
    if let Some(draft) = result {
        issue_result(state, &app.id, &department, draft, actor.id()).await?;
    }
    let app = store::by_id(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    view_row(state, &app, item, &calendar).await
}

/// 办件's figures for the operations view (by the handling department's region).
pub const RECEIVED: &str = "services.received";
const DELIVERED: &str = "services.delivered";
const REFUSED: &str = "services.refused";
const CORRECTION: &str = "services.correction";
const WITHDRAWN: &str = "services.withdrawn";

const DELIVERED_ON_TIME: &str = "services.delivered_on_time";
pub(crate) const RATED: &str = "services.rated";
pub(crate) const RATED_GOOD: &str = "services.rated_good";
pub(crate) const RATED_POOR: &str = "services.rated_poor";
const IN_PROGRESS: &str = "services.in_progress";
const OVERDUE: &str = "services.overdue";
const RECTIFICATIONS_OPEN: &str = "services.rectifications_open";

/// The figures of applications, as the module declares them.
pub const FIGURES: &[tongban_platform::figures::Figure] = &[
    counted(RECEIVED, "收件", "Applications received"),
    counted(DELIVERED, "办结", "Applications completed"),
    counted(DELIVERED_ON_TIME, "按时办结", "Completed on time"),
    counted(REFUSED, "不予受理或不予许可", "Applications refused"),
    counted(CORRECTION, "一次性告知补正", "Corrections asked"),
    counted(WITHDRAWN, "申请人撤回", "Applications withdrawn"),
    counted(RATED, "好差评评价", "Services rated"),
    counted(
        RATED_GOOD,
        "好评（满意及以上）",
        "Rated satisfied or better",
    ),
    counted(RATED_POOR, "差评", "Rated dissatisfied"),
];

/// What the applications module measures: how many are open now.
pub const LEVELS: &[tongban_platform::figures::Figure] = &[
    counted(IN_PROGRESS, "在办件", "Applications in progress"),
    counted(OVERDUE, "超期件", "Applications overdue"),
    counted(RECTIFICATIONS_OPEN, "待整改差评", "Rectifications open"),
];

/// The rates of applications.
pub const RATES: &[tongban_platform::figures::Rate] = &[
    rate(
        "services.on_time_rate",
        "按时办结率",
        "On-time rate",
        DELIVERED_ON_TIME,
        DELIVERED,
    ),
    rate(
        "services.correction_rate",
        "补正率",
        "Correction rate",
        CORRECTION,
        RECEIVED,
    ),
    rate(
        "services.overdue_rate",
        "超期率",
        "Overdue rate",
        OVERDUE,
        IN_PROGRESS,
    ),
    rate(
        "services.good_rate",
        "好评率",
        "Satisfaction rate",
        RATED_GOOD,
        RATED,
    ),
    rate(
        "services.poor_rate",
        "差评率",
        "Dissatisfaction rate",
        RATED_POOR,
        RATED,
    ),
];

const fn rate(
    key: &'static str,
    zh: &'static str,
    en: &'static str,
    of: &'static str,
    per: &'static str,
) -> tongban_platform::figures::Rate {
    tongban_platform::figures::Rate {
        key,
        group: "services",
        zh,
        en,
        of,
        per,
    }
}

/// Measures the open applications and rectifications by the handling department's region: in
/// progress (not finished), overdue (past the due day while the department holds them — not
/// while the applicant corrects), rectifications not yet answered.
pub async fn measure(state: &AppState) -> AppResult<Vec<tongban_platform::figures::Measured>> {
    let today = tongban_core::zone::ymd(state.today());
    let by_department = store::open_by_department(state.pool(), &today).await?;
    let rectifications = store::open_rectifications_by_department(state.pool()).await?;
    let departments = crate::admin::directory::departments(state).await?;
    let region_of = |id: &str| {
        departments
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.region_code.as_str().to_owned())
    };
    let mut measured = Vec::new();
    // Each department's value, and its region's as their sum.
    let mut push = |figure: &'static str, department: &str, value: i64| {
        if let Some(region) = region_of(department) {
            for part in [None, Some(department.to_owned())] {
                measured.push(tongban_platform::figures::Measured {
                    figure,
                    region: region.clone(),
                    part,
                    value,
                });
            }
        }
    };
    for (department, in_progress, overdue) in by_department {
        push(IN_PROGRESS, &department, in_progress);
        push(OVERDUE, &department, overdue);
    }
    for (department, open) in rectifications {
        push(RECTIFICATIONS_OPEN, &department, open);
    }
    Ok(measured)
}

/// Counts one event of an application's figure in its department's region and for the
/// department.
pub(crate) fn count(
    state: &AppState,
    figure: &'static str,
    department: &tongban_platform::admin::store::Department,
) {
    let region = department.region_code.as_str();
    tongban_platform::figures::count(state, figure, region);
    tongban_platform::figures::count_part(state, figure, region, &department.id);
}

/// A figure of applications, kept by the department that holds them as well.
const fn counted(
    key: &'static str,
    zh: &'static str,
    en: &'static str,
) -> tongban_platform::figures::Figure {
    figure(key, zh, en).by(tongban_platform::figures::PartKind::Department)
}

const fn figure(
    key: &'static str,
    zh: &'static str,
    en: &'static str,
) -> tongban_platform::figures::Figure {
    tongban_platform::figures::Figure::of_persons(key, "services", zh, en)
}

/// The figure an application entering `state` counts, if any.
fn figure_of_state(state: &str) -> Option<&'static str> {
    match state {
        workflow::DELIVERED => Some(DELIVERED),
        workflow::CORRECTION => Some(CORRECTION),
        "rejected" | "denied" => Some(REFUSED),
        "withdrawn" => Some(WITHDRAWN),
        _ => None,
    }
}

/// An operator's amendment of an application's form data (the GovStack operator's `PUT`): by
/// a clerk of the handling department while the application waits at one of the department's
/// steps before the decision. The given fields replace those values, the whole form is checked as an applicant's
/// is, and the history records which fields changed (the applicant sees it, and is told).
pub async fn amend(
    state: &AppState,
    actor: &Actor,
    id: &str,
    changes: &BTreeMap<String, String>,
) -> AppResult<ApplicationView> {
    let app = store::by_id(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    match role_on(actor, &app) {
        Some(workflow::Actor::Clerk) => {}
        Some(workflow::Actor::Applicant) => return Err(AppError::Forbidden),
        None => return Err(AppError::NotFound),
    }
    let stored = crate::services::item_by_code(state, &app.item_code)
        .await?
        .ok_or(AppError::NotFound)?;
    let item = &stored.definition;
    let flow = Workflow::from_steps(&item.steps);
    // Before the decision only: once approved, the result was made from the form.
    let before_decision = flow.state(&app.state).is_some_and(|s| {
        s.actions
            .iter()
            .any(|a| a.by == workflow::Actor::Clerk && a.name != "deliver")
    });
    if !before_decision {
        return Err(AppError::Conflict(format!(
            "the application is {}: its data can be amended only while the department handles it, before the decision",
            app.state
        )));
    }
    if changes.is_empty() {
        return Err(AppError::invalid("formData", "give the fields to change"));
    }
    let current: BTreeMap<String, Value> = serde_json::from_slice(
        &state
            .vault
            .open_field(&form_context(&app.id), &app.form_sealed)?,
    )
    .map_err(|e| AppError::Internal(e.into()))?;
    if app.applicant_kind == "person" {
        personal::record_application_access(state, actor, &app.applicant_id, None).await?;
    }
    // Stored values back as the form takes them (a list as its items joined).
    let as_text = |value: &Value| match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join("、"),
        other => other.to_string(),
    };
    let mut submitted: BTreeMap<String, String> = current
        .iter()
        .map(|(k, v)| (k.clone(), as_text(v)))
        .collect();
    let mut changed = Vec::new();
    for (field, value) in changes {
        if !item.form.iter().any(|f| &f.code == field) {
            return Err(AppError::invalid(
                "formData",
                format!("{field} is not a field of this form"),
            ));
        }
        if submitted.get(field) != Some(value) {
            changed.push(field.clone());
        }
        submitted.insert(field.clone(), value.clone());
    }
    let values = check_form(&item.form, &submitted, &BTreeMap::new())?;
    let bytes = serde_json::to_vec(&values).map_err(|e| AppError::Internal(e.into()))?;
    let note = format!("修改字段 / fields changed: {}", changed.join("、"));
    let reason = state
        .vault
        .seal_field(&reason_context(&app.id), note.as_bytes());
    log_step(state, &app, actor.id(), "amend", &app.state).await?;
    if !store::transition(
        state,
        &app,
        app.version,
        "amend",
        actor.id(),
        &app.state,
        Some(reason),
        Some(store::FormChange {
            form_sealed: state.vault.seal_field(&form_context(&app.id), &bytes),
            due_day: app.due_day.clone(),
            materials: Vec::new(),
            used_uploads: Vec::new(),
        }),
        &notice(&item.name, &app.state),
        None,
    )
    .await?
    {
        return Err(AppError::Conflict(
            "another action was taken on this application first; reload it".into(),
        ));
    }
    let department = crate::admin::directory::department(state, &app.department_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let calendar = calendar_of(state, department.region_code.as_str()).await?;
    let app = store::by_id(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    view_row(state, &app, item, &calendar).await
}

/// A certificate result ready to issue: its type, holder and checked items.
struct ResultDraft {
    t: crate::certs::CertType,
    holder: crate::certs::HolderInfo,
    items: BTreeMap<String, Value>,
}

fn pending_context(id: &str) -> String {
    format!("application_pending_results.draft/{id}")
}

/// The draft of an approval's certificate as it waits in the approval's transaction.
fn pending_result(
    state: &AppState,
    application_id: &str,
    department_id: &str,
    draft: &ResultDraft,
) -> AppResult<store::PendingResult> {
    let json = serde_json::json!({
        "holder": {
            "kind": draft.holder.kind,
            "id": draft.holder.id,
            "name": draft.holder.name,
            "code": draft.holder.code,
        },
        "items": draft.items,
    });
    let bytes = serde_json::to_vec(&json).map_err(|e| AppError::Internal(e.into()))?;
    Ok(store::PendingResult {
        type_code: draft.t.code.clone(),
        department_id: department_id.to_owned(),
        draft_sealed: state
            .vault
            .seal_field(&pending_context(application_id), &bytes),
    })
}

/// Issues an approval's certificate and records it as the application's result. An issuance
/// cut off before this ends is finished by [`finish_cut_results`]; the certificate names the
/// application, so it is never issued twice.
async fn issue_result(
    state: &AppState,
    application_id: &str,
    department: &crate::admin::directory::Department,
    draft: ResultDraft,
    issued_by: &str,
) -> AppResult<()> {
    let certificate = match crate::certs::issued_for_application(state, application_id).await? {
        Some(id) => id,
        None => {
            crate::certs::issue_from(
                state,
                department,
                &draft.t,
                &draft.holder,
                draft.items,
                issued_by,
                Some(application_id),
            )
            .await?
            .certificate
            .id
        }
    };
    store::settle_result(state, application_id, &certificate).await
}

/// Finishes the approvals whose certificate was not issued and recorded within a minute — the
/// node died or the database went away between the approval and its certificate — from the
/// draft stored with the approval. Returns how many it finished.
pub async fn finish_cut_results(state: &AppState) -> AppResult<usize> {
    let pending = store::pending_results(state.pool(), state.now() - 60_000).await?;
    let mut finished = 0;
    for row in pending {
        // One that cannot be finished (its type withdrawn since) must not hold up the others.
        match finish_cut_result(state, &row).await {
            Ok(()) => finished += 1,
            Err(AppError::Unavailable) => return Err(AppError::Unavailable),
            Err(error) => tracing::error!(
                %error,
                application = %row.application_id,
                "an approval's certificate could not be finished"
            ),
        }
    }
    Ok(finished)
}

async fn finish_cut_result(state: &AppState, row: &store::PendingResultRow) -> AppResult<()> {
    let department = crate::admin::directory::department(state, &row.department_id)
        .await?
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("a pending result's department is gone"))
        })?;
    let t = crate::certs::cert_type(state, &row.type_code)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a pending result's type is gone")))?;
    let draft: Value = serde_json::from_slice(
        &state
            .vault
            .open_field(&pending_context(&row.application_id), &row.draft_sealed)?,
    )
    .map_err(|e| AppError::Internal(e.into()))?;
    let holder = &draft["holder"];
    let text = |key: &str| holder[key].as_str().unwrap_or_default().to_owned();
    let draft = ResultDraft {
        t,
        holder: crate::certs::HolderInfo {
            kind: if holder["kind"] == "enterprise" {
                "enterprise"
            } else {
                "person"
            },
            id: text("id"),
            name: text("name"),
            code: text("code"),
        },
        items: serde_json::from_value(draft["items"].clone())
            .map_err(|e| AppError::Internal(e.into()))?,
    };
    issue_result(
        state,
        &row.application_id,
        &department,
        draft,
        &row.issued_by,
    )
    .await
}

/// Drafts the item's certificate result for the applicant: the form's values for the items of
/// the type, the operator's name and today's date where the type asks for them; checked
/// against the type, so an approval that could not issue its result changes nothing.
async fn draft_result(
    state: &AppState,
    clerk: &Actor,
    app: &ApplicationRow,
    item: &ServiceDefinition,
    department: &crate::admin::directory::Department,
) -> AppResult<Option<ResultDraft>> {
    let Some(type_code) = &item.result.certificate_type else {
        return Ok(None);
    };
    let t = crate::certs::cert_type(state, type_code)
        .await?
        .ok_or_else(|| AppError::Conflict("the result's certificate type is gone".into()))?;
    if !crate::certs::may_issue(state, &t.code, &department.id).await? {
        return Err(AppError::Conflict(format!(
            "{} may not issue {}",
            department.name, t.name
        )));
    }
    let form: BTreeMap<String, Value> = serde_json::from_slice(
        &state
            .vault
            .open_field(&form_context(&app.id), &app.form_sealed)?,
    )
    .map_err(|e| AppError::Internal(e.into()))?;
    let holder = match app.applicant_kind.as_str() {
        "person" => {
            let record = personal::read_person(
                state,
                clerk,
                &app.applicant_id,
                Purpose::ServiceHandling,
                None,
            )
            .await?;
            crate::certs::HolderInfo {
                kind: "person",
                id: app.applicant_id.clone(),
                name: record.name.expose().to_owned(),
                code: record.resident_id,
            }
        }
        _ => {
            let record = personal::read_enterprise(state, clerk, &app.applicant_id).await?;
            crate::certs::HolderInfo {
                kind: "enterprise",
                id: app.applicant_id.clone(),
                name: record.name,
                code: record.uscc.as_str().to_owned(),
            }
        }
    };
    let today = tongban_core::zone::ymd(state.today());
    let mut items = BTreeMap::new();
    for spec in &t.items {
        let value = match (form.get(&spec.code), spec.code.as_str(), spec.kind.as_str()) {
            (Some(value), _, _) => Some(value.clone()),
            (None, "operator" | "legal_representative", _) => {
                Some(Value::String(holder.name.clone()))
            }
            (None, _, "date") => Some(Value::String(today.clone())),
            _ => None,
        };
        if let Some(value) = value {
            items.insert(spec.code.clone(), value);
        }
    }
    crate::certs::check_items(&t, &items).map_err(|e| {
        AppError::Conflict(format!(
            "the result {} cannot be issued from this application: {e}",
            t.name
        ))
    })?;
    Ok(Some(ResultDraft { t, holder, items }))
}

/// How the actor stands to an application: its applicant, or a clerk of its department.
fn role_on(actor: &Actor, app: &ApplicationRow) -> Option<workflow::Actor> {
    if actor.id() == app.applicant_account {
        Some(workflow::Actor::Applicant)
    } else if can(
        actor,
        Action::HandleApplications,
        Resource::Department {
            id: &app.department_id,
        },
    ) {
        Some(workflow::Actor::Clerk)
    } else {
        None
    }
}

/// An application as its applicant or a clerk sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApplicationView {
    pub id: String,
    pub item_code: String,
    pub item_name: String,
    pub state: String,
    pub version: i64,
    /// RFC 3339.
    pub submitted_at: String,
    pub due_day: String,
    /// Working days to the due day (negative: overdue); none once finished.
    pub days_left: Option<i64>,
    pub overdue: bool,
    /// The current step has outlasted its own time limit (acceptance within one working day,
    /// delivery within one after approval).
    pub step_overdue: bool,
    /// The certificate issued as the result.
    pub result_certificate: Option<String>,
}

async fn view_row(
    state: &AppState,
    app: &ApplicationRow,
    item: &ServiceDefinition,
    calendar: &tongban_workflow::Calendar,
) -> AppResult<ApplicationView> {
    let flow = Workflow::from_steps(&item.steps);
    let finished = flow.state(&app.state).is_none_or(workflow::State::is_final);
    let days_left = (!finished).then(|| {
        let due = time::Date::parse(
            &app.due_day,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .unwrap_or(time::Date::MIN);
        calendar.working_days_left(state.today(), due)
    });
    let today = state.today();
    let step_overdue = flow
        .state(&app.state)
        .and_then(|s| s.sla_days)
        .is_some_and(|days| {
            calendar.add_working_days(state.zone().date_of(app.state_since), days) < today
        });
    Ok(ApplicationView {
        step_overdue,
        id: app.id.clone(),
        item_code: app.item_code.clone(),
        item_name: item.name.clone(),
        state: app.state.clone(),
        version: app.version,
        submitted_at: crate::time_fmt::rfc3339(app.submitted_at),
        due_day: app.due_day.clone(),
        overdue: days_left.is_some_and(|d| d < 0),
        days_left,
        result_certificate: app.result_certificate.clone(),
    })
}

/// Views of many applications, each item and calendar read once.
async fn views(state: &AppState, rows: Vec<ApplicationRow>) -> AppResult<Vec<ApplicationView>> {
    let mut items: BTreeMap<String, ServiceDefinition> = BTreeMap::new();
    let mut calendars: BTreeMap<String, tongban_workflow::Calendar> = BTreeMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if !items.contains_key(&row.item_code) {
            let Some(stored) = crate::services::item_by_code(state, &row.item_code).await? else {
                continue;
            };
            items.insert(row.item_code.clone(), stored.definition);
        }
        if !calendars.contains_key(&row.department_id) {
            let region = crate::admin::directory::department(state, &row.department_id)
                .await?
                .map(|d| d.region_code.as_str().to_owned())
                .unwrap_or_default();
            calendars.insert(
                row.department_id.clone(),
                calendar_of(state, &region).await?,
            );
        }
        if let (Some(item), Some(calendar)) =
            (items.get(&row.item_code), calendars.get(&row.department_id))
        {
            out.push(view_row(state, &row, item, calendar).await?);
        }
    }
    Ok(out)
}

/// The actor's own applications, newest first.
pub async fn mine(state: &AppState, actor: &Actor) -> AppResult<Vec<ApplicationView>> {
    applicant_kind(actor)?;
    views(state, store::of_account(state.pool(), actor.id()).await?).await
}

/// The clerk's department's open applications, soonest due first.
pub async fn queue(state: &AppState, actor: &Actor) -> AppResult<Vec<ApplicationView>> {
    let department = actor
        .clerk_department()
        .ok_or(AppError::Forbidden)?
        .to_owned();
    views(
        state,
        store::queue(state.pool(), &department, &workflow::FINAL).await?,
    )
    .await
}

/// For a clerk: the department's applications that wait for it (not finished, not back with
/// the applicant for correction), as items of the to-do list, each due at the end of its due
/// day in the region's zone.
pub async fn todo_part(
    state: &AppState,
    actor: &Actor,
    t: crate::web::i18n::Tr,
    limit: usize,
) -> AppResult<crate::module::TodoPart> {
    if actor.clerk_department().is_none() {
        return Ok(crate::module::TodoPart::default());
    }
    let zone = state.zone();
    let mut waiting: Vec<ApplicationView> = queue(state, actor)
        .await?
        .into_iter()
        .filter(|a| a.state != workflow::CORRECTION)
        .collect();
    let total = waiting.len();
    waiting.sort_by(|a, b| a.due_day.cmp(&b.due_day));
    waiting.truncate(limit);
    let items = waiting
        .into_iter()
        .map(|a| {
            let due = tongban_core::zone::parse_ymd(&a.due_day)
                .and_then(|day| day.next_day())
                .map(|next| zone.start_of(next) - 1);
            crate::module::TodoItem {
                module: "applications",
                kind: format!(
                    "{} · {}",
                    t.get("todo.application"),
                    t.get(&format!("app.state.{}", a.state))
                ),
                title: a.item_name,
                link: format!("/applications/{}", a.id),
                due,
                urgency: 0,
                at: crate::time_fmt::parse_millis(&a.submitted_at).unwrap_or_default(),
            }
        })
        .collect();
    Ok(crate::module::TodoPart { items, total })
}

/// For a clerk: how many of the department's applications wait for it (not finished, not
/// back with the applicant for a correction) and how many of those are overdue; `None` for
/// anyone who handles no applications.
pub async fn queue_counts(state: &AppState, actor: &Actor) -> AppResult<Option<(i64, i64)>> {
    let Some(department) = actor.clerk_department() else {
        return Ok(None);
    };
    let mut not_waiting: Vec<&str> = workflow::FINAL.to_vec();
    not_waiting.push(workflow::CORRECTION);
    let today = tongban_core::zone::ymd(state.today());
    Ok(Some(
        store::queue_counts(state.pool(), department, &not_waiting, &today).await?,
    ))
}

/// One application in full: the view, the form as entered, the materials, the history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ApplicationDetail)]
pub struct Detail {
    pub application: ApplicationView,
    /// (label, value as text).
    pub form: Vec<(String, String)>,
    pub materials: Vec<MaterialView>,
    pub history: Vec<EventView>,
    /// The actions the caller may take now.
    pub actions: Vec<String>,
    /// The applicant's rating (好差评) and the department's reply, once rated.
    pub evaluation: Option<evaluation::EvaluationView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MaterialView {
    pub id: String,
    pub name: String,
    /// `certificate` (an annotated copy from the library) or `upload`.
    pub source: String,
    pub size: i64,
    /// Brought with a resubmission (补正), after the application was first submitted.
    pub corrected: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub at: String,
    /// Who acted: the name of the member of staff, or none for the applicant (and the
    /// platform's own steps).
    pub by: Option<String>,
    pub action: String,
    pub from: String,
    pub to: String,
    pub reason: Option<String>,
}

/// Reads an application as its applicant or a clerk of its department (a clerk's read of a
/// person's application is a recorded access).
pub async fn detail(state: &AppState, actor: &Actor, id: &str) -> AppResult<Detail> {
    let app = store::by_id(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let by = role_on(actor, &app).ok_or(AppError::NotFound)?;
    if by == workflow::Actor::Clerk && app.applicant_kind == "person" {
        personal::record_application_access(state, actor, &app.applicant_id, None).await?;
    }
    let stored = crate::services::item_by_code(state, &app.item_code)
        .await?
        .ok_or(AppError::NotFound)?;
    let item = &stored.definition;
    let form: BTreeMap<String, Value> = serde_json::from_slice(
        &state
            .vault
            .open_field(&form_context(&app.id), &app.form_sealed)?,
    )
    .map_err(|e| AppError::Internal(e.into()))?;
    let form = item
        .form
        .iter()
        .filter_map(|f| {
            let value = form.get(&f.code)?;
            Some((f.label.clone(), crate::certs::item_text(value)))
        })
        .collect();
    let materials = store::materials_of(state.pool(), &app.id)
        .await?
        .into_iter()
        .map(|m| MaterialView {
            corrected: m.added_at > app.submitted_at,
            id: m.id,
            name: m.name,
            source: m.source,
            size: m.size,
        })
        .collect();
    let mut history = Vec::new();
    let mut names: BTreeMap<String, Option<String>> = BTreeMap::new();
    for e in store::events_of(state.pool(), &app.id).await? {
        if !names.contains_key(&e.actor_id) {
            let name = match crate::identity::store::account(state.pool(), &e.actor_id).await? {
                Some(account) if account.kind == AccountKind::Staff => Some(account.display_name),
                _ => None,
            };
            names.insert(e.actor_id.clone(), name);
        }
        let reason = match &e.reason_sealed {
            Some(sealed) => Some(
                String::from_utf8_lossy(&state.vault.open_field(&reason_context(&app.id), sealed)?)
                    .into_owned(),
            ),
            None => None,
        };
        history.push(EventView {
            at: crate::time_fmt::rfc3339(e.at),
            by: names.get(&e.actor_id).cloned().flatten(),
            action: e.action,
            from: e.from_state,
            to: e.to_state,
            reason,
        });
    }
    let flow = Workflow::from_steps(&item.steps);
    let actions = flow
        .state(&app.state)
        .map(|s| {
            s.actions
                .iter()
                .filter(|a| a.by == by)
                .map(|a| a.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let department = crate::admin::directory::department(state, &app.department_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let calendar = calendar_of(state, department.region_code.as_str()).await?;
    Ok(Detail {
        application: view_row(state, &app, item, &calendar).await?,
        form,
        materials,
        history,
        actions,
        evaluation: evaluation::evaluation(state, &app.id).await?,
    })
}

/// A material's bytes and type, for download by the applicant or a clerk of the department
/// (a clerk's download of a person's document is a recorded access).
pub async fn material(
    state: &AppState,
    actor: &Actor,
    id: &str,
    material_id: &str,
) -> AppResult<MaterialFile> {
    let app = store::by_id(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let by = role_on(actor, &app).ok_or(AppError::NotFound)?;
    let m = store::materials_of(state.pool(), id)
        .await?
        .into_iter()
        .find(|m| m.id == material_id)
        .ok_or(AppError::NotFound)?;
    // A clerk's download of a person's document is an access, recorded before it is opened.
    if by == workflow::Actor::Clerk && app.applicant_kind == "person" {
        personal::record_application_access(state, actor, &app.applicant_id, None).await?;
    }
    let bytes = state
        .vault
        .open_field(&material_context(id, &m.name), &m.data_sealed)?;
    Ok(MaterialFile {
        name: m.name,
        content_type: m
            .content_type
            .unwrap_or_else(|| "application/octet-stream".into()),
        bytes: bytes.to_vec(),
    })
}

/// A material's file: its name, its type as recognised when it came in, its bytes.
pub struct MaterialFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl MaterialFile {
    /// The file name a download gets: the material's name with the extension of its type
    /// (`出生医学证明.pdf`; a certificate copy from the library is `.json`).
    pub fn file_name(&self) -> String {
        let extension = match self.content_type.as_str() {
            "application/pdf" => ".pdf",
            "image/jpeg" => ".jpg",
            "image/png" => ".png",
            "application/json" => ".json",
            _ => "",
        };
        format!("{}{extension}", self.name)
    }
}

/// The kinds of file accepted for materials, recognised by their first bytes (the declared
/// type is not trusted).
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}

/// Stores an upload for a later application: at most the configured size, a PDF, JPEG or PNG
/// by its content. Sealed at rest. Returns its id.
pub async fn upload(state: &AppState, actor: &Actor, bytes: &[u8]) -> AppResult<String> {
    applicant_kind(actor)?;
    if bytes.len() > state.config.max_upload_bytes {
        return Err(AppError::PayloadTooLarge);
    }
    if bytes.is_empty() {
        return Err(AppError::invalid("file", "the file is empty"));
    }
    let content_type =
        sniff(bytes).ok_or(AppError::UnsupportedMediaType("a PDF, JPEG or PNG file"))?;
    let id = crate::random::new_id();
    store::insert_upload(
        state,
        &store::UploadRow {
            id: id.clone(),
            account_id: actor.id().to_owned(),
            content_type: content_type.to_owned(),
            size: bytes.len() as i64,
            data_sealed: state.vault.seal_field(&upload_context(&id), bytes),
        },
    )
    .await?;
    Ok(id)
}

/// The actor's notices: (RFC 3339, application id, item name, state).
pub async fn notices(
    state: &AppState,
    actor: &Actor,
) -> AppResult<Vec<(String, Option<String>, String, String)>> {
    Ok(store::notices_of(state.pool(), actor.id())
        .await?
        .into_iter()
        .map(|(at, app, text)| {
            let (item, to) = text.split_once('|').unwrap_or((text.as_str(), ""));
            (
                crate::time_fmt::rfc3339(at),
                app,
                item.to_owned(),
                to.to_owned(),
            )
        })
        .collect())
}

/// An application as another department reads it through the data-sharing gateway, under a
/// grant of the department handling it: its number, service item, state and dates — nothing
/// of the applicant nor of the form.
#[derive(Debug, Clone, Serialize)]
pub struct SharedApplication {
    pub id: String,
    pub item_code: String,
    pub state: String,
    /// RFC 3339.
    pub submitted_at: String,
    /// RFC 3339: since when the application is in its state.
    pub state_since: String,
    /// The promised limit's last working day, `YYYY-MM-DD`.
    pub due_day: String,
    /// The number of the certificate issued as its result, once issued.
    pub result_certificate: Option<String>,
}

/// The application `id` if a department within `department`'s region handles it (the
/// government-services administration keeps the 办件库 of its city and districts); `None`
/// otherwise.
pub async fn shared(
    state: &AppState,
    department: &str,
    id: &str,
) -> AppResult<Option<SharedApplication>> {
    let Some(row) = store::by_id(state.pool(), id).await? else {
        return Ok(None);
    };
    let keeper = crate::admin::store::department(state.pool(), department).await?;
    let handler = crate::admin::store::department(state.pool(), &row.department_id).await?;
    let within = match (keeper, handler) {
        (Some(keeper), Some(handler)) => keeper.region_code.contains(&handler.region_code),
        _ => false,
    };
    Ok(within.then(|| SharedApplication {
        id: row.id,
        item_code: row.item_code,
        state: row.state,
        submitted_at: crate::time_fmt::rfc3339(row.submitted_at),
        state_since: crate::time_fmt::rfc3339(row.state_since),
        due_day: row.due_day,
        result_certificate: row.result_certificate,
    }))
}
