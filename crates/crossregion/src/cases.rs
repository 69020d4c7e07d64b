//! Cases between regions, on both sides.
//!
//! In the applicant's region (side `sent`): the applicant applies online (全程网办), or a
//! window clerk receives the application and checks the materials (异地代收, state
//! `checking`) and forwards it; either way the package is signed by the intake department's
//! key and put in the outbox (`queued`) in the same transaction; the outbox delivers it
//! (`delivered`) and the competent region's updates move it on.
//!
//! In the competent region (side `received`): the package is verified against the sending
//! region's trust list and becomes a case (`received`), due in the competent department's
//! working days; its clerks accept it, ask for a correction (补正), approve or reject it, and
//! issue the result; each step is an update that goes back through the outbox.
//!
//! States: `checking`, `queued`, `delivered`, `undeliverable` (the applicant's side only),
//! `received`, `accepted`, `correction`, `supplemented` (补正材料 sent), `approved`,
//! `rejected`, `issued`.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::authz::{Action, Resource as On, can};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::package::{self, Applicant, Consent, Material, Mode, Package, Signed};
use crate::state::AppState;
use crate::store::{self, CaseRow, Send, Step};

/// The states a competent clerk's step may lead from and to.
fn clerk_step(from: &str, action: &str) -> Option<&'static str> {
    Some(match (from, action) {
        ("received", "accept") => "accepted",
        ("received" | "accepted" | "correction", "reject") => "rejected",
        ("accepted", "correct") => "correction",
        ("correction" | "supplemented", "accept") => "accepted",
        ("supplemented", "reject") => "rejected",
        ("accepted", "approve") => "approved",
        ("approved", "issue") => "issued",
        _ => return None,
    })
}

/// Whether a case has ended (the applicant may rate it).
pub fn ended(state: &str) -> bool {
    matches!(state, "issued" | "rejected" | "undeliverable")
}

fn seal_context(id: &str) -> String {
    format!("cross_cases.package/{id}")
}

fn result_context(id: &str) -> String {
    format!("cross_cases.result/{id}")
}

fn note_context(case: &str, seq: i64) -> String {
    format!("cross_case_events.note/{case}/{seq}")
}

/// A step's note, sealed: what a clerk writes about a case may say anything about the person.
/// The case's row keeps its last step's note under the same context (its `seq` is that step's).
pub(crate) fn seal_note(
    state: &AppState,
    case: &str,
    seq: i64,
    note: Option<&str>,
) -> Option<Vec<u8>> {
    note.map(|n| {
        state
            .vault
            .seal_field(&note_context(case, seq), n.as_bytes())
    })
}

/// A note as read: opened, or as written before notes were sealed.
fn open_note(
    state: &AppState,
    case: &str,
    seq: i64,
    sealed: Option<&[u8]>,
    legacy: Option<&String>,
) -> AppResult<Option<String>> {
    match sealed {
        Some(sealed) => {
            let plain = state.vault.open_field(&note_context(case, seq), sealed)?;
            Ok(Some(String::from_utf8_lossy(&plain).into_owned()))
        }
        None => Ok(legacy.cloned()),
    }
}

fn outbox_context(case: &str) -> String {
    format!("cross_outbox.body/{case}")
}

/// Seals what the outbox will send for a case.
pub(crate) fn seal_body(state: &AppState, case: &str, body: &[u8]) -> Vec<u8> {
    state.vault.seal_field(&outbox_context(case), body)
}

pub(crate) fn open_body(state: &AppState, case: &str, sealed: &[u8]) -> AppResult<Vec<u8>> {
    Ok(state
        .vault
        .open_field(&outbox_context(case), sealed)?
        .to_vec())
}

/// The department this region's intake resource belongs to: it signs packages and updates,
/// and its clerks receive at the window.
pub async fn intake_department(
    state: &AppState,
) -> AppResult<Option<tongban_platform::admin::store::Department>> {
    let Some(id) =
        tongban_exchange::catalogue::service::owner_of(state, crate::INTAKE_RESOURCE).await?
    else {
        return Ok(None);
    };
    tongban_platform::admin::directory::department(state, &id).await
}

async fn intake_or_conflict(
    state: &AppState,
) -> AppResult<(tongban_platform::admin::store::Department, String)> {
    let department = intake_department(state).await?.ok_or_else(|| {
        AppError::Conflict(format!(
            "this region has no intake resource {} in its data catalogue",
            crate::INTAKE_RESOURCE
        ))
    })?;
    let uscc = department
        .uscc
        .clone()
        .ok_or_else(|| AppError::Conflict("the intake department has no USCC".into()))?;
    Ok((department, uscc))
}

/// A material as an applicant or clerk hands it in.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaterialIn {
    pub name: String,
    pub media_type: String,
    /// The content, base64.
    pub content: String,
}

/// An application to another region's item.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(as = CrossRegionApplyRequest)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    /// The competent region's code.
    pub region: String,
    pub item_code: String,
    /// `online` or `proxy`; by default `proxy` for a window clerk, `online` otherwise.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub mode: Option<Mode>,
    /// For a window clerk (代收): the applicant whose ID card was checked.
    #[serde(default)]
    pub applicant: Option<ApplicantIn>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub form: serde_json::Value,
    #[serde(default)]
    pub materials: Vec<MaterialIn>,
    /// The applicant agrees that the application and its materials go to the competent region.
    pub consent: bool,
    /// For a joint item (多地联办): the region of each later part, in order (where an
    /// enterprise moves to, say).
    #[serde(default)]
    pub joint_regions: Vec<String>,
}

#[derive(Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicantIn {
    pub resident_id: String,
    pub name: String,
}

impl std::fmt::Debug for ApplicantIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApplicantIn(<redacted>)")
    }
}

/// The consent text an applicant agrees to.
pub const CONSENT_TEXT: &str = "本人同意将本次申请的表单、材料与身份信息经数据共享交换通道发送至事项所属地区的主管部门，仅用于办理本事项。";

/// A case as its parties see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub id: String,
    pub side: String,
    pub mode: String,
    pub item_code: String,
    pub item_name: String,
    pub home_region: String,
    pub competent_region: String,
    pub state: String,
    pub due_day: Option<String>,
    pub note: Option<String>,
    /// The applicant's name, masked.
    pub applicant: String,
    pub materials: Vec<String>,
    pub result: Option<serde_json::Value>,
    pub rating: Option<i64>,
    pub created_at: String,
    pub events: Vec<store::Event>,
    /// What this side sent the other and how its delivery went.
    pub deliveries: Vec<Delivery>,
    /// For a joint case (多地联办): its parts in order.
    pub parts: Vec<Part>,
}

/// One part of a joint case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Part {
    pub region: String,
    pub item_code: String,
    /// `done`, `current` or `next`.
    pub progress: String,
    /// What a done part issued.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
}

/// One thing sent to the other region and how its delivery went.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    /// `package` or `update`.
    pub kind: String,
    pub attempts: i64,
    /// `delivered`, `refused`, or none while it is being tried.
    pub outcome: Option<String>,
    pub last_error: Option<String>,
}

async fn view(state: &AppState, row: &CaseRow) -> AppResult<CaseView> {
    let signed = open_package(state, row)?;
    let result = row
        .result_sealed
        .as_deref()
        .map(|sealed| -> AppResult<serde_json::Value> {
            let plain = state.vault.open_field(&result_context(&row.id), sealed)?;
            serde_json::from_slice(&plain).map_err(|e| AppError::Internal(e.into()))
        })
        .transpose()?;
    let package = &signed.package;
    let parts = package
        .route
        .iter()
        .enumerate()
        .map(|(n, leg)| Part {
            region: leg.region.clone(),
            item_code: leg.item_code.clone(),
            progress: match n.cmp(&package.leg) {
                std::cmp::Ordering::Less => "done",
                std::cmp::Ordering::Equal => "current",
                std::cmp::Ordering::Greater => "next",
            }
            .into(),
            result: package.earlier.get(n).map(|e| e.result.clone()),
        })
        .collect();
    Ok(CaseView {
        id: row.id.clone(),
        side: row.side.clone(),
        mode: row.mode.clone(),
        item_code: row.item_code.clone(),
        item_name: row.item_name.clone(),
        home_region: row.home_region.clone(),
        competent_region: row.competent_region.clone(),
        state: row.state.clone(),
        due_day: row.due_day.clone(),
        note: open_note(
            state,
            &row.id,
            row.seq,
            row.note_sealed.as_deref(),
            row.note.as_ref(),
        )?,
        applicant: tongban_platform::identity::personal::masked_name(
            &signed.package.applicant.name,
        ),
        materials: signed
            .package
            .materials
            .iter()
            .map(|m| m.name.clone())
            .chain(store::supplement_names(state.pool(), &row.id).await?)
            .collect(),
        result,
        rating: row.rating,
        created_at: crate::time_fmt::rfc3339(row.created_at),
        events: store::events(state.pool(), &row.id)
            .await?
            .into_iter()
            .map(|mut event| {
                event.note = open_note(
                    state,
                    &row.id,
                    event.seq,
                    event.note_sealed.take().as_deref(),
                    event.note.as_ref(),
                )?;
                Ok(event)
            })
            .collect::<AppResult<Vec<_>>>()?,
        deliveries: store::deliveries(state.pool(), &row.id)
            .await?
            .into_iter()
            .map(|(kind, attempts, outcome, last_error)| Delivery {
                kind,
                attempts,
                outcome,
                last_error,
            })
            .collect(),
        parts,
    })
}

fn open_package(state: &AppState, row: &CaseRow) -> AppResult<Signed> {
    let plain = state
        .vault
        .open_field(&seal_context(&row.id), &row.package_sealed)?;
    Signed::decode(&plain).map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))
}

fn materials_in(list: &[MaterialIn]) -> AppResult<Vec<Material>> {
    use base64::Engine as _;
    if list.len() > package::MAX_MATERIALS {
        return Err(AppError::invalid(
            "materials",
            format!("at most {} materials", package::MAX_MATERIALS),
        ));
    }
    list.iter()
        .map(|m| {
            let name = m.name.trim();
            if name.is_empty() || name.chars().count() > 100 || m.media_type.len() > 100 {
                return Err(AppError::invalid(
                    "materials",
                    "each material has a name (up to 100 characters) and a media type",
                ));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&m.content)
                .map_err(|_| AppError::invalid("materials", "the content is base64"))?;
            if bytes.is_empty() || bytes.len() > package::MAX_MATERIAL_BYTES {
                return Err(AppError::invalid(
                    "materials",
                    "a material holds 1 byte to 5 MiB",
                ));
            }
            Ok(Material::new(name, &m.media_type, &bytes))
        })
        .collect()
}

/// Applies for another region's item: online by the applicant, or at the window by a clerk
/// of the intake department (代收, then [`forward`]).
pub async fn apply(state: &AppState, actor: &Actor, request: ApplyRequest) -> AppResult<CaseView> {
    if !request.consent {
        return Err(AppError::invalid(
            "consent",
            "the application goes to another region only with the applicant's consent",
        ));
    }
    if !request.form.is_null() && !request.form.is_object() {
        return Err(AppError::invalid("form", "the form is an object of fields"));
    }
    let item = store::item(state.pool(), &request.region, &request.item_code)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "item_code",
                "not a 跨省通办 item of a partner region (see /api/v1/cross-region/items)",
            )
        })?;
    let partner = store::partner(state.pool(), &request.region)
        .await?
        .ok_or_else(|| AppError::invalid("region", "not a partner region"))?;
    let (intake, intake_uscc) = intake_or_conflict(state).await?;
    let window = window_of(state, actor).await?;
    let at_window = window.is_some();
    let modes: Vec<&str> = item.modes.split(',').collect();
    let mode = request.mode.unwrap_or(if modes == ["joint"] {
        Mode::Joint
    } else if at_window {
        Mode::Proxy
    } else {
        Mode::Online
    });
    if !modes.contains(&mode.as_str()) {
        return Err(AppError::invalid(
            "mode",
            format!("{} is handled across regions as: {}", item.name, item.modes),
        ));
    }
    let route = match mode {
        Mode::Joint => route_of(state, &item, &request.joint_regions).await?,
        _ if !request.joint_regions.is_empty() => {
            return Err(AppError::invalid(
                "joint_regions",
                "only a joint application names the regions of its later parts",
            ));
        }
        _ => Vec::new(),
    };
    // A joint application is made online, or at the window as for 代收.
    let by_window = match mode {
        Mode::Online => false,
        Mode::Proxy => true,
        Mode::Joint => at_window,
    };
    let materials = materials_in(&request.materials)?;
    let (applicant, account, received_by) = match by_window {
        false => {
            let person = actor
                .account
                .person_id
                .as_deref()
                .ok_or(AppError::Forbidden)?;
            let record = tongban_platform::identity::personal::read_person(
                state,
                actor,
                person,
                tongban_platform::identity::personal::Purpose::SelfService,
                None,
            )
            .await?;
            (
                Applicant {
                    resident_id: record.resident_id.clone(),
                    name: record.name.expose().to_owned(),
                    assurance: "login".into(),
                },
                Some(actor.id().to_owned()),
                None,
            )
        }
        true => {
            if !at_window {
                return Err(AppError::Forbidden);
            }
            let given = request.applicant.as_ref().ok_or_else(|| {
                AppError::invalid("applicant", "give the applicant whose ID card you checked")
            })?;
            let id: tongban_core::ResidentId = given
                .resident_id
                .trim()
                .parse()
                .map_err(|_| AppError::invalid("applicant", "not a resident ID number"))?;
            let name = given.name.trim();
            if name.is_empty() || name.chars().count() > 50 {
                return Err(AppError::invalid("applicant", "the applicant's name"));
            }
            // A resident registered here follows the case on their own page too, once the
            // name the clerk read matches the register (the check is recorded as identity
            // verification at the window).
            let mut account = None;
            if let Some(person) =
                tongban_platform::identity::personal::person_id_by_resident_id(state, &id).await?
            {
                if !tongban_platform::identity::personal::name_matches(state, actor, &person, name)
                    .await?
                {
                    return Err(AppError::invalid(
                        "applicant",
                        "the name does not match the resident register for this ID number",
                    ));
                }
                account =
                    tongban_platform::identity::store::account_of_person(state.pool(), &person)
                        .await?
                        .map(|a| a.id);
            }
            (
                Applicant {
                    resident_id: id.expose().to_owned(),
                    name: name.to_owned(),
                    assurance: "window".into(),
                },
                account,
                Some(actor.account.display_name.clone()),
            )
        }
    };
    let now = state.now();
    let at = crate::time_fmt::rfc3339(now);
    let package = Package {
        id: uuid::Uuid::new_v4().to_string(),
        mode,
        item_code: item.code.clone(),
        from_region: state.config.region_code.clone(),
        to_region: request.region.clone(),
        sent_by: intake_uscc,
        competent: item.department_uscc.clone(),
        created_at: at.clone(),
        applicant,
        form: if request.form.is_null() {
            json!({})
        } else {
            request.form
        },
        materials,
        certificates: Vec::new(),
        consent: Consent {
            given_at: at.clone(),
            text: CONSENT_TEXT.into(),
        },
        received_by,
        route,
        leg: 0,
        earlier: Vec::new(),
    };
    let signer = crate::keys::service::cached_signer(
        state,
        &intake.id,
        tongban_exchange::gateway::EXCHANGE_KEY,
    )
    .await?;
    let signed = package::sign(package, &*signer, &at);
    let body = signed.encode();
    let id = signed.package.id.clone();
    let first_state = if by_window { "checking" } else { "queued" };
    let row = CaseRow {
        id: id.clone(),
        side: "sent".into(),
        mode: mode.as_str().into(),
        item_code: item.code.clone(),
        item_name: item.name.clone(),
        home_region: state.config.region_code.clone(),
        competent_region: request.region.clone(),
        competent_uscc: item.department_uscc.clone(),
        peer_uscc: partner.intake_uscc.clone(),
        applicant_account: account,
        received_by: window.clone(),
        state: first_state.into(),
        seq: 1,
        peer_seq: 0,
        package_sealed: state.vault.seal_field(&seal_context(&id), &body),
        package_hash: signed.fingerprint(),
        due_day: None,
        note: None,
        note_sealed: None,
        result_sealed: None,
        rating: None,
        created_at: now,
        updated_at: now,
        leg: 0,
    };
    let send = (!by_window).then(|| Send {
        kind: "package",
        to_uscc: &partner.intake_uscc,
        body_sealed: seal_body(state, &id, &body),
    });
    store::insert_case(
        state.pool(),
        &row,
        Step {
            case_id: &id,
            state: first_state,
            seq: 1,
            actor: actor.id(),
            note: None,
            result_sealed: None,
            rating: None,
            due_day: None,
            peer_seq: None,
            supplement: None,
            send,
            at: now,
        },
    )
    .await?;
    tracing::info!(case = %id, region = %request.region, item = %item.code, mode = mode.as_str(), "a cross-region application was made");
    view(state, &row).await
}

/// The route of a joint application: the item's own region first, then each later part the
/// items name (`joint_next`) in the region the applicant gives for it. Every part's region is
/// a partner listing that item as joint; none is this region (its share is the intake) and
/// none comes twice.
async fn route_of(
    state: &AppState,
    first: &store::CrossItem,
    later: &[String],
) -> AppResult<Vec<package::Leg>> {
    let mut route = vec![package::Leg {
        region: first.region.clone(),
        item_code: first.code.clone(),
        competent: first.department_uscc.clone(),
    }];
    let mut next = first.joint_next.clone();
    let mut regions = later.iter();
    while let Some(code) = next {
        let region = regions.next().ok_or_else(|| {
            AppError::invalid(
                "joint_regions",
                format!("name the region that handles the next part ({code})"),
            )
        })?;
        let region = region.trim();
        if region == state.config.region_code || route.iter().any(|leg| leg.region == region) {
            return Err(AppError::invalid(
                "joint_regions",
                "each part is handled by another region, once",
            ));
        }
        if route.len() == package::MAX_LEGS {
            return Err(AppError::invalid("joint_regions", "too many parts"));
        }
        let item = store::item(state.pool(), region, &code)
            .await?
            .filter(|item| item.modes.split(',').any(|m| m == "joint"))
            .ok_or_else(|| {
                AppError::invalid(
                    "joint_regions",
                    format!("region {region} is not a partner that handles {code} jointly"),
                )
            })?;
        route.push(package::Leg {
            region: item.region.clone(),
            item_code: item.code.clone(),
            competent: item.department_uscc.clone(),
        });
        next = item.joint_next.clone();
    }
    if regions.next().is_some() {
        return Err(AppError::invalid(
            "joint_regions",
            "more regions than the item has later parts",
        ));
    }
    if route.len() < 2 {
        return Err(AppError::invalid(
            "item_code",
            "this is the last part of a joint case: apply for its first part",
        ));
    }
    Ok(route)
}

/// The service window (government-services department) the actor clerks at, if any: its
/// clerks receive applications for other regions (代收).
async fn window_of(state: &AppState, actor: &Actor) -> AppResult<Option<String>> {
    let Some(id) = actor.clerk_department() else {
        return Ok(None);
    };
    let department = tongban_platform::admin::directory::department(state, id).await?;
    Ok(department
        .filter(|d| {
            d.kind == "government_services"
                && can(
                    actor,
                    Action::HandleApplications,
                    On::Department { id: &d.id },
                )
        })
        .map(|d| d.id))
}

/// Whether the actor clerks at a service window (receives for other regions).
pub async fn is_window_clerk(state: &AppState, actor: &Actor) -> AppResult<bool> {
    Ok(window_of(state, actor).await?.is_some())
}

/// The window clerk forwards a case received at the window, its materials checked (a clerk
/// of the same window).
pub async fn forward(state: &AppState, actor: &Actor, id: &str) -> AppResult<CaseView> {
    let window = window_of(state, actor).await?;
    let row = store::case(state.pool(), id)
        .await?
        .filter(|row| row.side == "sent" && window.is_some() && row.received_by == window)
        .ok_or(AppError::NotFound)?;
    if row.state != "checking" {
        return Err(AppError::Conflict(format!(
            "the case is {}; only a case being checked is forwarded",
            row.state
        )));
    }
    let body = state
        .vault
        .open_field(&seal_context(id), &row.package_sealed)?;
    let seq = row.seq + 1;
    let moved = store::advance(
        state.pool(),
        (&row.state, row.seq),
        Step {
            case_id: id,
            state: "queued",
            seq,
            actor: actor.id(),
            note: None,
            result_sealed: None,
            rating: None,
            due_day: None,
            peer_seq: None,
            supplement: None,
            send: Some(Send {
                kind: "package",
                to_uscc: &row.peer_uscc,
                body_sealed: seal_body(state, id, &body),
            }),
            at: state.now(),
        },
    )
    .await?;
    if !moved {
        return Err(AppError::Conflict("someone moved the case first".into()));
    }
    read(state, id).await
}

async fn read(state: &AppState, id: &str) -> AppResult<CaseView> {
    let row = store::case(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    view(state, &row).await
}

/// What a competent clerk asks.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActRequest {
    /// `accept`, `correct` (补正: say what is missing in `note`), `approve`, `reject`, `issue`.
    pub action: String,
    #[serde(default)]
    pub note: Option<String>,
    /// For `issue`: the result (a document's number and text, or a certificate).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
}

/// A clerk of the competent department moves a received case on; the step goes back to the
/// applicant's region through the outbox.
pub async fn act(
    state: &AppState,
    actor: &Actor,
    id: &str,
    request: ActRequest,
) -> AppResult<CaseView> {
    let row = store::case(state.pool(), id)
        .await?
        .filter(|row| row.side == "received")
        .ok_or(AppError::NotFound)?;
    let department =
        tongban_platform::admin::directory::department_by_uscc(state, &row.competent_uscc)
            .await?
            .ok_or(AppError::NotFound)?;
    if !can(
        actor,
        Action::HandleApplications,
        On::Department { id: &department.id },
    ) {
        return Err(AppError::NotFound);
    }
    let to = clerk_step(&row.state, &request.action).ok_or_else(|| {
        AppError::Conflict(format!(
            "a case that is {} cannot be asked to {}",
            row.state, request.action
        ))
    })?;
    let note = request
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 1000) {
        return Err(AppError::invalid("note", "up to 1000 characters"));
    }
    if matches!(to, "correction" | "rejected") && note.is_none() {
        return Err(AppError::invalid(
            "note",
            "say what is missing, or why the application is rejected",
        ));
    }
    let result = match (to, &request.result) {
        ("issued", Some(result)) if result.is_object() => Some(result.clone()),
        ("issued", _) => {
            return Err(AppError::invalid(
                "result",
                "give the result that is issued",
            ));
        }
        (_, None) => None,
        (_, Some(_)) => return Err(AppError::invalid("result", "only a result is issued")),
    };
    if result
        .as_ref()
        .is_some_and(|r| r.to_string().len() > 64 * 1024)
    {
        return Err(AppError::invalid("result", "up to 64 KiB"));
    }
    let (result, fresh) = match (to, result) {
        ("issued", Some(result)) => {
            let (result, fresh) = issue_result(state, actor, &row, &department, result).await?;
            (Some(result), fresh)
        }
        (_, result) => (result, None),
    };
    let told = Told {
        state: Some(to),
        note,
        due_day: row.due_day.as_deref(),
        result: result.as_ref(),
        rating: None,
        materials: Vec::new(),
    };
    match tell(state, &row, actor.id(), told).await {
        // Another clerk moved the case first: the certificate issued for this decision was
        // never sent, and is revoked. (After an unknown outcome it is kept: a retry finds it
        // and sends the same one.)
        Err(AppError::Conflict(why)) => {
            // Unless the step that won carries it (another clerk found it, issued for this
            // case, and sent it first).
            if let Some(certificate) = fresh {
                let sent = read(state, id).await?.result.is_some_and(|result| {
                    result["certificate"]["certificate"]["id"].as_str()
                        == Some(certificate.as_str())
                });
                if !sent {
                    tongban_certificates::certs::revoke_undelivered(
                        state,
                        &certificate,
                        "the case it was issued for was decided otherwise",
                    )
                    .await?;
                }
            }
            return Err(AppError::Conflict(why));
        }
        told => told?,
    }
    read(state, id).await
}

/// The certificate type an item of this region issues to the person who applied, if its
/// result is one. An enterprise's certificate is not issued to the person who applied: such an
/// item's result is the document the clerk names.
pub async fn person_certificate(
    state: &AppState,
    item_code: &str,
) -> AppResult<Option<tongban_certificates::certs::CertType>> {
    let Some(item) = tongban_services::services::item_by_code(state, item_code).await? else {
        return Ok(None);
    };
    let spec = &item.definition.result;
    let (tongban_services::services::item::ResultKind::Certificate, Some(type_code)) =
        (spec.kind, spec.certificate_type.as_deref())
    else {
        return Ok(None);
    };
    let t = tongban_certificates::certs::cert_type(state, type_code)
        .await?
        .ok_or_else(|| AppError::Conflict(format!("no certificate type {type_code}")))?;
    Ok((t.holder_kind == "person").then_some(t))
}

/// The result the competent clerk issues. For an item whose result is an electronic
/// certificate, the clerk gives its data items (`items`) and the department issues it here to
/// the applicant the package names (their resident ID and name, as the sending region asserted
/// them); the signed certificate travels back in the result, to be checked in the applicant's
/// region against this region's trust list.
async fn issue_result(
    state: &AppState,
    actor: &Actor,
    row: &CaseRow,
    department: &tongban_platform::admin::store::Department,
    mut result: serde_json::Value,
) -> AppResult<(serde_json::Value, Option<String>)> {
    let Some(t) = person_certificate(state, &row.item_code).await? else {
        return Ok((result, None));
    };
    let items: std::collections::BTreeMap<String, serde_json::Value> =
        serde_json::from_value(result["items"].take())
            .map_err(|_| AppError::invalid("result", format!("give the items of {}", t.name)))?;
    let package = open_package(state, row)?.package;
    let holder = tongban_certificates::certs::HolderInfo {
        kind: "person",
        id: format!("peer:{}:{}", row.home_region, row.id),
        name: package.applicant.name.clone(),
        code: package.applicant.resident_id.clone(),
    };
    // The certificate names the case it was issued for: a decision retried after an answer
    // that did not arrive sends the one issued then, not a second.
    let (signed, fresh) =
        match tongban_certificates::certs::valid_for_source(state, &row.id).await? {
            Some(signed) => (signed, None),
            None => {
                let signed = tongban_certificates::certs::issue_from(
                    state,
                    department,
                    &t,
                    &holder,
                    items,
                    actor.id(),
                    Some(&row.id),
                )
                .await?;
                let id = signed.certificate.id.clone();
                (signed, Some(id))
            }
        };
    let certificate = serde_json::to_value(&signed).map_err(|e| AppError::Internal(e.into()))?;
    let mut out = serde_json::Map::new();
    if let Some(document) = result.get("document").filter(|d| d.is_string()) {
        out.insert("document".into(), document.clone());
    }
    out.insert("certificate".into(), certificate);
    Ok((serde_json::Value::Object(out), fresh))
}

/// Checks a certificate another region issued for a case of this region's applicant: signed
/// by a key the competent region's trust list binds to the issuer for its type, valid today,
/// and held by the applicant the package named. Once checked, it is kept in the wallet of the
/// applicant's account here.
async fn check_certificate(
    state: &AppState,
    row: &store::CaseHead,
    certificate: &serde_json::Value,
) -> AppResult<Result<(), String>> {
    let document = certificate.to_string();
    let now = state.now() / 1000;
    let checked =
        match tongban_trust::trust::regions::recognised_list_of(state, &row.competent_region)
            .await?
        {
            Some((text, root, _)) => tongban_certificates::certs::verify_offline(
                &text,
                Some(&root),
                &document,
                None,
                now,
            )
            .map(|(signed, _)| signed)
            .map_err(|refusal| refusal.message),
            None => Err(format!(
                "no trust list of region {} here",
                row.competent_region
            )),
        };
    let signed = match checked {
        Ok(signed) => signed,
        Err(why) => return Ok(Err(why)),
    };
    let Some(full) = store::case(state.pool(), &row.id).await? else {
        return Ok(Err("no such case".into()));
    };
    let package = open_package(state, &full)?.package;
    if signed.certificate.holder.code != package.applicant.resident_id {
        return Ok(Err("the certificate is held by someone else".into()));
    }
    // Verified: it lands in the applicant's wallet here (kept once, however often the step
    // is delivered).
    if let Some(account) = &full.applicant_account
        && let Some(person) = tongban_platform::identity::store::account(state.pool(), account)
            .await?
            .and_then(|a| a.person_id)
    {
        tongban_certificates::certs::elsewhere::keep_for_person(
            state,
            &person,
            &row.competent_region,
            &signed,
            &format!("cross-region case {}", row.id),
        )
        .await?;
    }
    Ok(Ok(()))
}

/// A step of this side that the other region is told of.
struct Told<'a> {
    /// The new state (none for a rating, which leaves the state as it is).
    state: Option<&'a str>,
    note: Option<&'a str>,
    due_day: Option<&'a str>,
    result: Option<&'a serde_json::Value>,
    rating: Option<i64>,
    materials: Vec<Material>,
}

/// Moves a case one step on this side and, in the same transaction, queues the step for the
/// other region. A case moved by someone else in between is a conflict.
async fn tell(state: &AppState, row: &CaseRow, actor: &str, told: Told<'_>) -> AppResult<()> {
    let (id, seq, at) = (row.id.as_str(), row.seq + 1, state.now());
    let update = Update {
        case: id.to_owned(),
        seq,
        state: told.state.map(str::to_owned),
        note: told.note.map(str::to_owned),
        due_day: told.due_day.map(str::to_owned),
        result: told.result.cloned(),
        rating: told.rating,
        materials: told.materials,
        at: crate::time_fmt::rfc3339(at),
    };
    let body = serde_json::to_vec(&update).map_err(|e| AppError::Internal(e.into()))?;
    let supplement = supplement_of(state, id, &update.materials)?;
    let moved = store::advance(
        state.pool(),
        (&row.state, row.seq),
        Step {
            case_id: id,
            state: told.state.unwrap_or(&row.state),
            seq,
            actor,
            note: seal_note(state, id, seq, told.note.or(told.rating.map(|_| "rated"))),
            result_sealed: told.result.map(|r| {
                state
                    .vault
                    .seal_field(&result_context(id), r.to_string().as_bytes())
            }),
            rating: told.rating,
            due_day: None,
            peer_seq: None,
            supplement,
            send: Some(Send {
                kind: "update",
                to_uscc: &row.peer_uscc,
                body_sealed: seal_body(state, id, &body),
            }),
            at,
        },
    )
    .await?;
    if !moved {
        return Err(AppError::Conflict(
            "someone moved the case first; read it again".into(),
        ));
    }
    Ok(())
}

/// The names of materials (one a line) and the materials sealed, for a step that adds them.
fn supplement_of(
    state: &AppState,
    case: &str,
    materials: &[Material],
) -> AppResult<Option<(String, Vec<u8>)>> {
    if materials.is_empty() {
        return Ok(None);
    }
    let names: Vec<&str> = materials.iter().map(|m| m.name.as_str()).collect();
    let plain = serde_json::to_vec(materials).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Some((
        names.join("\n"),
        state
            .vault
            .seal_field(&format!("cross_supplements.materials/{case}"), &plain),
    )))
}

/// The applicant (or the window that received the case) sends the materials the competent
/// region asked for (补正材料); the case waits there to be accepted again.
pub async fn supplement(
    state: &AppState,
    actor: &Actor,
    id: &str,
    materials: &[MaterialIn],
) -> AppResult<CaseView> {
    let row = store::case(state.pool(), id)
        .await?
        .filter(|row| row.side == "sent")
        .ok_or(AppError::NotFound)?;
    if !may_see(state, actor, &row).await? {
        return Err(AppError::NotFound);
    }
    if row.state != "correction" {
        return Err(AppError::Conflict(
            "materials are added when the competent region asks for a correction".into(),
        ));
    }
    let materials = materials_in(materials)?;
    if materials.is_empty() {
        return Err(AppError::invalid("materials", "add at least one material"));
    }
    let told = Told {
        state: Some("supplemented"),
        note: None,
        due_day: row.due_day.as_deref(),
        result: None,
        rating: None,
        materials,
    };
    tell(state, &row, actor.id(), told).await?;
    read(state, id).await
}

/// The applicant rates a case that has ended (好差评, 1–5); the rating goes to the competent
/// department.
pub async fn rate(state: &AppState, actor: &Actor, id: &str, grade: i64) -> AppResult<CaseView> {
    let row = store::case(state.pool(), id)
        .await?
        .filter(|row| row.side == "sent" && row.applicant_account.as_deref() == Some(actor.id()))
        .ok_or(AppError::NotFound)?;
    if !(1..=5).contains(&grade) {
        return Err(AppError::invalid("grade", "a grade from 1 to 5"));
    }
    if !ended(&row.state) || row.state == "undeliverable" {
        return Err(AppError::Conflict(
            "a case is rated once it is decided".into(),
        ));
    }
    if row.rating.is_some() {
        return Err(AppError::Conflict("the case is rated already".into()));
    }
    let told = Told {
        state: None,
        note: None,
        due_day: None,
        result: None,
        rating: Some(grade),
        materials: Vec::new(),
    };
    tell(state, &row, actor.id(), told).await?;
    read(state, id).await
}

/// A step of one side, sent to the other: a new state (with its note, due day and result) from
/// the competent region, a rating from the applicant's.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Update {
    pub case: String,
    /// The step's number on the sending side: a step is applied once, in order.
    pub seq: i64,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub due_day: Option<String>,
    #[serde(default)]
    pub result: Option<serde_json::Value>,
    #[serde(default)]
    pub rating: Option<i64>,
    /// Materials added after a correction request (补正材料), from the applicant's side.
    #[serde(default)]
    pub materials: Vec<Material>,
    pub at: String,
}

/// What a sent package came to in the competent region.
pub(crate) struct Taken {
    pub case: String,
    pub state: String,
    pub due_day: Option<String>,
    pub duplicate: bool,
}

/// Why a package or update is refused for good (the sender stops trying).
#[derive(Debug)]
pub(crate) enum Refused {
    /// 400: it cannot be read.
    Malformed(String),
    /// 403: not signed by the sender the trust list binds, or sent by another region.
    Forbidden(String),
    /// 409: the same id with other content.
    Conflict(String),
    /// 422: not something this region handles.
    Unprocessable(String),
}

/// The competent region takes a package another region's intake sent: checks it against the
/// sending region's trust list, then makes one case of it however often it comes.
pub(crate) async fn receive(
    state: &AppState,
    sender: (&str, &str),
    body: &[u8],
) -> AppResult<Result<Taken, Refused>> {
    let (sender_region, sender_uscc) = sender;
    let signed = match Signed::parse(body) {
        Ok(signed) => signed,
        Err(why) => return Ok(Err(Refused::Malformed(why.to_string()))),
    };
    let package = &signed.package;
    if package.sent_by != sender_uscc || package.from_region != sender_region {
        return Ok(Err(Refused::Forbidden(
            "the package names another sender than the region that sent it".into(),
        )));
    }
    if package.to_region != state.config.region_code {
        return Ok(Err(Refused::Unprocessable(format!(
            "the package is for region {}",
            package.to_region
        ))));
    }
    let member = tongban_exchange::gateway::members::remote_member(state, sender_uscc).await?;
    let key = member
        .as_ref()
        .filter(|m| m.region == sender_region)
        .and_then(|m| m.key(&signed.kid, &signed.at));
    let Some(public) = key.and_then(|k| k.public_key()) else {
        return Ok(Err(Refused::Forbidden(format!(
            "the key {} is not one region {sender_region}'s trust list binds to {sender_uscc}",
            signed.kid
        ))));
    };
    if let Err(why) = signed.verify(&public) {
        tracing::warn!(case = %package.id, region = %sender_region, "a cross-region package was refused: {why}");
        return Ok(Err(Refused::Forbidden(why.to_string())));
    }
    let digest = signed.fingerprint();
    // A package is taken, or else looked for among those taken before: a package delivered
    // again is answered as the first time, whatever changed here since (one read fewer for
    // each package that is new, as nearly all are).
    match take(state, sender, &signed, body, digest.clone()).await? {
        Ok(taken) => Ok(Ok(taken)),
        Err(why) => Ok(taken_before(state, &package.id, &digest, body)
            .await?
            .unwrap_or(Err(why))),
    }
}

/// The answer to a package whose id a case here holds: that case when it came from the same
/// package, a conflict when from another; `None` when no case holds the id.
async fn taken_before(
    state: &AppState,
    id: &str,
    digest: &str,
    body: &[u8],
) -> AppResult<Option<Result<Taken, Refused>>> {
    let Some(known) = store::head(state.pool(), id).await? else {
        return Ok(None);
    };
    Ok(Some(
        // (A case taken before fingerprints were kept holds the digest of the body.)
        if known.side == "received"
            && (known.package_hash == digest || known.package_hash == package::digest(body))
        {
            Ok(Taken {
                case: known.id,
                state: known.state,
                due_day: known.due_day,
                duplicate: true,
            })
        } else {
            Err(Refused::Conflict(
                "a package of this id with other content was taken before".into(),
            ))
        },
    ))
}

/// Makes a case of a package whose signature verified.
async fn take(
    state: &AppState,
    sender: (&str, &str),
    signed: &Signed,
    body: &[u8],
    digest: String,
) -> AppResult<Result<Taken, Refused>> {
    let (sender_region, sender_uscc) = sender;
    let package = &signed.package;
    let Some(item) = tongban_services::services::item_by_code(state, &package.item_code).await?
    else {
        return Ok(Err(Refused::Unprocessable(format!(
            "no item {} here",
            package.item_code
        ))));
    };
    let definition = &item.definition;
    let mode_allowed = definition.cross_modes.iter().any(|m| {
        matches!(
            (m, package.mode),
            (
                tongban_services::services::item::CrossMode::Online,
                Mode::Online
            ) | (
                tongban_services::services::item::CrossMode::Proxy,
                Mode::Proxy
            ) | (
                tongban_services::services::item::CrossMode::Joint,
                Mode::Joint
            )
        )
    });
    let department =
        tongban_exchange::gateway::parties::department(state, &package.competent).await?;
    let Some(department) = department.filter(|d| d.id == item.department_id) else {
        return Ok(Err(Refused::Unprocessable(format!(
            "{} is not {}'s here",
            definition.name, package.competent
        ))));
    };
    if !mode_allowed {
        return Ok(Err(Refused::Unprocessable(format!(
            "{} is not handled here across regions in this mode",
            definition.name
        ))));
    }
    let calendar =
        tongban_services::applications::calendar_of(state, department.region_code.as_str()).await?;
    let days = match definition.promised_limit {
        tongban_services::services::item::TimeLimit::Immediate => 0,
        tongban_services::services::item::TimeLimit::WorkingDays { days } => days,
    };
    let due = tongban_core::zone::ymd(calendar.add_working_days(state.today(), days));
    let now = state.now();
    let row = CaseRow {
        id: package.id.clone(),
        side: "received".into(),
        mode: package.mode.as_str().into(),
        item_code: definition.code.clone(),
        item_name: definition.name.clone(),
        home_region: sender_region.to_owned(),
        competent_region: state.config.region_code.clone(),
        competent_uscc: package.competent.clone(),
        peer_uscc: sender_uscc.to_owned(),
        applicant_account: None,
        received_by: package.received_by.clone(),
        state: "received".into(),
        seq: 1,
        peer_seq: 0,
        package_sealed: state.vault.seal_field(&seal_context(&package.id), body),
        package_hash: digest,
        due_day: Some(due.clone()),
        note: None,
        note_sealed: None,
        result_sealed: None,
        rating: None,
        created_at: now,
        updated_at: now,
        leg: package.leg as i64,
    };
    // The answer tells the sender the case, its state and due day: nothing more goes back
    // until a clerk acts.
    let inserted = state
        .module::<crate::writer::Intake>()
        .write(crate::writer::NewCase {
            row,
            actor: format!("peer/{sender_region}/{sender_uscc}"),
        })
        .await?;
    if !inserted {
        // Delivered before, or twice at the same moment: the case holds the id already.
        return Ok(Err(Refused::Conflict(
            "a package of this id was taken before".into(),
        )));
    }
    tracing::info!(case = %package.id, region = %sender_region, item = %definition.code, "a cross-region application was received");
    Ok(Ok(Taken {
        case: package.id.clone(),
        state: "received".into(),
        due_day: Some(due),
        duplicate: false,
    }))
}

/// Takes an update from the region at the other end of a case. Applied once: an update whose
/// step was applied before is acknowledged and changes nothing.
pub(crate) async fn take_update(
    state: &AppState,
    sender: (&str, &str),
    message_id: &str,
    body: &[u8],
) -> AppResult<Result<(String, bool), Refused>> {
    let Ok(update) = serde_json::from_slice::<Update>(body) else {
        return Ok(Err(Refused::Malformed("not an update".into())));
    };
    let Some(row) = store::head(state.pool(), &update.case).await? else {
        return Ok(Err(Refused::Unprocessable("no such case here".into())));
    };
    let (region, uscc) = sender;
    let from_other_end = row.peer_uscc == uscc
        && match row.side.as_str() {
            "sent" => row.competent_region == region,
            _ => row.home_region == region,
        };
    if !from_other_end {
        // Only the other end of the case speaks for it; to anyone else it does not exist.
        return Ok(Err(Refused::Unprocessable("no such case here".into())));
    }
    if update.seq <= row.peer_seq {
        return Ok(Ok((row.state, true)));
    }
    let next = match (row.side.as_str(), &update.state, update.rating) {
        ("sent", Some(next), None) => match next.as_str() {
            "received" | "accepted" | "correction" | "approved" | "rejected" | "issued" => {
                next.clone()
            }
            _ => return Ok(Err(Refused::Malformed(format!("no state {next}")))),
        },
        ("received", None, Some(grade)) if (1..=5).contains(&grade) && ended(&row.state) => {
            row.state.clone()
        }
        ("received", Some(next), None)
            if next == "supplemented"
                && row.state == "correction"
                && !update.materials.is_empty()
                && update.materials.len() <= crate::package::MAX_MATERIALS =>
        {
            let fits = update.materials.iter().all(|m| {
                m.name.chars().count() <= 100
                    && !m.name.contains('\n')
                    && m.bytes()
                        .is_some_and(|b| b.len() <= crate::package::MAX_MATERIAL_BYTES)
            });
            if !fits {
                return Ok(Err(Refused::Malformed(
                    "a material does not match its digest or is too large".into(),
                )));
            }
            next.clone()
        }
        _ => return Ok(Err(Refused::Malformed("not an update of this case".into()))),
    };
    let next = if next == "received" {
        "delivered".to_owned()
    } else {
        next
    };
    if next == row.state && update.rating.is_none() {
        // What this side knew already (the outbox saw the package taken): keep the due day.
        store::heard(state.pool(), &row.id, update.seq, update.due_day.as_deref()).await?;
        return Ok(Ok((next, false)));
    }
    if row.side == "sent"
        && next == "issued"
        && let Some(full) = store::case(state.pool(), &row.id).await?
        && full.mode == Mode::Joint.as_str()
    {
        match next_part(state, &full, &update, sender, message_id).await? {
            Handed::Last => {}
            Handed::Moved(to) => return Ok(Ok((to, false))),
            Handed::Raced => return Box::pin(take_update(state, sender, message_id, body)).await,
        }
    }
    if row.side == "sent"
        && let Some(certificate) = update.result.as_ref().and_then(|r| r.get("certificate"))
        && let Err(why) = check_certificate(state, &row, certificate).await?
    {
        tracing::warn!(case = %row.id, region = %region, "a certificate from another region was refused: {why}");
        return Ok(Err(Refused::Forbidden(format!(
            "the certificate does not verify here: {why}"
        ))));
    }
    let supplement = supplement_of(state, &row.id, &update.materials)?;
    let moved = store::advance(
        state.pool(),
        (&row.state, row.seq),
        Step {
            case_id: &row.id,
            state: &next,
            seq: row.seq + 1,
            actor: &format!("peer/{region}/{uscc}"),
            note: seal_note(state, &row.id, row.seq + 1, update.note.as_deref()),
            result_sealed: update.result.as_ref().map(|r| {
                state
                    .vault
                    .seal_field(&result_context(&row.id), r.to_string().as_bytes())
            }),
            rating: update.rating,
            due_day: update.due_day.as_deref(),
            peer_seq: Some(update.seq),
            supplement,
            send: None,
            at: state.now(),
        },
    )
    .await?;
    if !moved {
        // Moved by this side in between (the outbox marking it delivered): try once more.
        return Box::pin(take_update(state, sender, message_id, body)).await;
    }
    Ok(Ok((next, false)))
}

/// What became of a joint case whose part ended.
enum Handed {
    /// It was the last part: the case is issued as any other.
    Last,
    /// Sent on to the next part (or stopped where the next region is gone): the new state.
    Moved(String),
    /// Someone moved the case first: read it again.
    Raced,
}

/// A part of a joint case ended with its result: the applicant's region sends the package on
/// to the next part's region, with the results so far, signed anew by its intake.
async fn next_part(
    state: &AppState,
    row: &CaseRow,
    update: &Update,
    (region, uscc): (&str, &str),
    message_id: &str,
) -> AppResult<Handed> {
    let mut package = open_package(state, row)?.package;
    let next = package.leg + 1;
    let Some(leg) = package.route.get(next).cloned() else {
        return Ok(Handed::Last);
    };
    let done = format!("{}（{region}）已办结", row.item_name);
    let partner = store::partner(state.pool(), &leg.region).await?;
    let item = store::item(state.pool(), &leg.region, &leg.item_code).await?;
    let now = state.now();
    let actor = format!("peer/{region}/{uscc}");
    let (Some(partner), Some(item)) = (partner, item) else {
        // The next region is no longer a partner listing the item: the case cannot go on.
        let note = format!("{done}；{} 地区已不再受理 {}", leg.region, leg.item_code);
        let step = Step {
            case_id: &row.id,
            state: "undeliverable",
            seq: row.seq + 1,
            actor: &actor,
            note: seal_note(state, &row.id, row.seq + 1, Some(&note)),
            result_sealed: None,
            rating: None,
            due_day: None,
            peer_seq: Some(update.seq),
            supplement: None,
            send: None,
            at: now,
        };
        return Ok(
            if store::advance(state.pool(), (&row.state, row.seq), step).await? {
                Handed::Moved("undeliverable".into())
            } else {
                Handed::Raced
            },
        );
    };
    package.earlier.push(package::Earlier {
        region: region.to_owned(),
        item_code: package.item_code.clone(),
        at: update.at.clone(),
        message_id: message_id.to_owned(),
        result: update.result.clone().unwrap_or_else(|| json!({})),
    });
    package.leg = next;
    package.to_region = leg.region.clone();
    package.item_code = leg.item_code.clone();
    package.competent = leg.competent.clone();
    let (intake, _) = intake_or_conflict(state).await?;
    let signer = crate::keys::service::cached_signer(
        state,
        &intake.id,
        tongban_exchange::gateway::EXCHANGE_KEY,
    )
    .await?;
    let signed = package::sign(package, &*signer, &crate::time_fmt::rfc3339(now));
    let body = signed.encode();
    let note = format!("{done}，转 {} 地区办理：{}", leg.region, item.name);
    let moved = store::hand_over(
        state.pool(),
        (&row.state, row.seq),
        store::NextLeg {
            leg: next as i64,
            region: &leg.region,
            item_code: &leg.item_code,
            item_name: &item.name,
            competent_uscc: &leg.competent,
            peer_uscc: &partner.intake_uscc,
            package_sealed: state.vault.seal_field(&seal_context(&row.id), &body),
            package_hash: signed.fingerprint(),
        },
        Step {
            case_id: &row.id,
            state: "queued",
            seq: row.seq + 1,
            actor: &actor,
            note: seal_note(state, &row.id, row.seq + 1, Some(&note)),
            result_sealed: None,
            rating: None,
            due_day: None,
            peer_seq: None,
            supplement: None,
            send: Some(Send {
                kind: "package",
                to_uscc: &partner.intake_uscc,
                body_sealed: seal_body(state, &row.id, &body),
            }),
            at: now,
        },
    )
    .await?;
    if !moved {
        return Ok(Handed::Raced);
    }
    tracing::info!(case = %row.id, region = %leg.region, part = next + 1, "a joint case went on to its next part");
    Ok(Handed::Moved("queued".into()))
}

/// What became of a package the outbox sent, for its case (in the transaction that records
/// the round): taken (with the due day the other region gave), or refused for good.
pub(crate) enum Sent<'a> {
    Taken { due_day: Option<&'a str> },
    Refused { why: &'a str },
}

/// Moves queued cases on by what became of their packages, unless an update moved them
/// first (a round's cases together).
pub(crate) async fn settle_all_in(
    state: &AppState,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    sent: &[(&str, Sent<'_>)],
    at: i64,
) -> AppResult<()> {
    let ids: Vec<&str> = sent.iter().map(|(case, _)| *case).collect();
    let heads = store::heads_in(tx, &ids).await?;
    let mut moves = Vec::with_capacity(sent.len());
    let mut seen = std::collections::HashSet::new();
    for (case, sent) in sent {
        let Some(row) = heads.get(*case).filter(|row| row.state == "queued") else {
            continue;
        };
        // A case moves once a round (it has one package out at a time).
        if !seen.insert(*case) {
            continue;
        }
        let (to, note, due_day) = match sent {
            Sent::Taken { due_day } => ("delivered", None, *due_day),
            Sent::Refused { why } => ("undeliverable", Some(*why), None),
        };
        let step = Step {
            case_id: case,
            state: to,
            seq: row.seq + 1,
            actor: "outbox",
            note: seal_note(state, case, row.seq + 1, note),
            result_sealed: None,
            rating: None,
            due_day,
            peer_seq: None,
            supplement: None,
            send: None,
            at,
        };
        moves.push(((row.state.as_str(), row.seq), step));
    }
    let moves: Vec<((&str, i64), &Step<'_>)> =
        moves.iter().map(|(from, step)| (*from, step)).collect();
    store::advance_all_in(tx, &moves).await?;
    Ok(())
}

/// The applicant's own cases.
pub async fn mine(state: &AppState, actor: &Actor) -> AppResult<Vec<CaseView>> {
    let mut views = Vec::new();
    for row in store::of_applicant(state.pool(), actor.id()).await? {
        views.push(view(state, &row).await?);
    }
    Ok(views)
}

/// One case, for whoever may see it: the applicant, the clerks of the window that received it
/// (the applicant's side), the competent department's clerks (the competent side).
pub async fn one(state: &AppState, actor: &Actor, id: &str) -> AppResult<CaseView> {
    let row = store::case(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !may_see(state, actor, &row).await? {
        return Err(AppError::NotFound);
    }
    view(state, &row).await
}

async fn may_see(state: &AppState, actor: &Actor, row: &CaseRow) -> AppResult<bool> {
    if row.applicant_account.as_deref() == Some(actor.id()) {
        return Ok(true);
    }
    let department = match row.side.as_str() {
        "received" => {
            tongban_platform::admin::directory::department_by_uscc(state, &row.competent_uscc)
                .await?
        }
        _ => match &row.received_by {
            Some(window) => tongban_platform::admin::directory::department(state, window).await?,
            None => None,
        },
    };
    Ok(department.is_some_and(|d| {
        can(
            actor,
            Action::HandleApplications,
            On::Department { id: &d.id },
        )
    }))
}

/// The work of a clerk: the 代收 queue of the clerk's window (cases being checked there, and
/// those the other region refused) and the 跨省 inbox of each department the clerk
/// handles (received cases not yet ended).
pub async fn work(state: &AppState, actor: &Actor) -> AppResult<(Vec<CaseView>, Vec<CaseView>)> {
    let mut window = Vec::new();
    if let Some(own) = window_of(state, actor).await? {
        for row in store::queue(state.pool(), "sent", &["checking", "undeliverable"]).await? {
            if row.received_by.as_deref() == Some(own.as_str()) {
                window.push(view(state, &row).await?);
            }
        }
    }
    let mut inbox = Vec::new();
    let rows = store::queue(
        state.pool(),
        "received",
        &[
            "received",
            "accepted",
            "correction",
            "supplemented",
            "approved",
        ],
    )
    .await?;
    let mut allowed: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
    for row in rows {
        let may = match allowed.get(&row.competent_uscc) {
            Some(may) => *may,
            None => {
                let department = tongban_platform::admin::directory::department_by_uscc(
                    state,
                    &row.competent_uscc,
                )
                .await?;
                let may = department.is_some_and(|d| {
                    can(
                        actor,
                        Action::HandleApplications,
                        On::Department { id: &d.id },
                    )
                });
                allowed.insert(row.competent_uscc.clone(), may);
                may
            }
        };
        if may {
            inbox.push(view(state, &row).await?);
        }
    }
    Ok((window, inbox))
}

/// A clerk's cross-region work as their part of the to-do list: the cases at their window
/// waiting to be checked and forwarded (or sent back by the other region), and the cases
/// received for their departments waiting for them — not those back with the applicant for
/// correction. Each is due at the end of its due day, in the region's zone.
pub async fn todo_part(
    state: &AppState,
    actor: &Actor,
    t: crate::web::i18n::Tr,
    limit: usize,
) -> AppResult<crate::module::TodoPart> {
    if !actor.has_role(crate::identity::model::Role::Clerk) {
        return Ok(crate::module::TodoPart::default());
    }
    let (window, inbox) = work(state, actor).await?;
    let zone = state.zone();
    let waiting: Vec<(&'static str, CaseView)> = window
        .into_iter()
        .map(|case| ("cross.todo_window", case))
        .chain(
            inbox
                .into_iter()
                .filter(|case| case.state != "correction")
                .map(|case| ("cross.todo_received", case)),
        )
        .collect();
    let total = waiting.len();
    let items = waiting
        .into_iter()
        .take(limit)
        .map(|(kind, case)| crate::module::TodoItem {
            module: "cross-region",
            kind: t.get(kind).to_owned(),
            title: format!("{} · {}", case.item_name, case.applicant),
            link: "/cross-region".to_owned(),
            due: case
                .due_day
                .as_deref()
                .and_then(tongban_core::zone::parse_ymd)
                .and_then(|day| day.next_day())
                .map(|next| zone.start_of(next) - 1),
            urgency: 0,
            at: crate::time_fmt::parse_millis(&case.created_at).unwrap_or_default(),
        })
        .collect();
    Ok(crate::module::TodoPart { items, total })
}
