//! 授权用证: a department uses a holder's certificate for one of its service items, with a
//! cause, when the holder has authorised that department, type and item — once, or standing
//! until a date — or when the item's legal basis permits use without consent. What it receives
//! is an annotated copy (加注件) signed by the platform and usable until its expiry. Every use,
//! and every refused attempt, is in the holder's usage record (用证记录) and the transparency
//! log.
//!
//! [`obtain`] is the service function that online applications call to satisfy a material
//! from the certificate library instead of an upload (免证办).

use serde::{Deserialize, Serialize};
use tongban_certs::Authority;
use tongban_certs::copy::{AnnotatedCopy, Annotation, SignedCopy};
use tongban_core::{ResidentId, Uscc};

use super::store::{self, Authorisation, ServiceItem, UseRow};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::identity::personal;
use crate::state::AppState;

/// The key purpose of the platform's annotated copies.
pub const COPY_KEY: &str = "copy";
/// How long a copy may be relied on unless the department asks for less, and at most.
const COPY_DAYS_DEFAULT: i64 = 7;
const COPY_DAYS_MAX: i64 = 30;
const DAY_MS: i64 = 86_400_000;

/// Whose certificate: a person by ID number or an enterprise by USCC.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolderRef {
    pub resident_id: Option<String>,
    pub uscc: Option<String>,
}

/// A department's request to use a certificate.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UseRequest {
    pub holder: HolderRef,
    /// The certificate type wanted.
    pub type_code: String,
    /// The department's service item the certificate is used for.
    pub service_code: String,
    /// 用证事由: why, in a sentence (required).
    pub cause: String,
    /// Days the copy may be relied on (1–30; 7 when absent).
    pub copy_days: Option<i64>,
}

/// The holder as stored: kind and record id.
struct Holder {
    kind: &'static str,
    id: String,
}

async fn resolve_holder(state: &AppState, holder: &HolderRef) -> AppResult<Holder> {
    match (&holder.resident_id, &holder.uscc) {
        (Some(number), None) => {
            let resident_id: ResidentId = number
                .trim()
                .parse()
                .map_err(|e| AppError::invalid("resident_id", e))?;
            let id = personal::person_id_by_resident_id(state, &resident_id)
                .await?
                .ok_or_else(|| AppError::invalid("resident_id", "no registered person"))?;
            Ok(Holder { kind: "person", id })
        }
        (None, Some(code)) => {
            let uscc: Uscc = code
                .trim()
                .parse()
                .map_err(|e| AppError::invalid("uscc", e))?;
            let id = personal::enterprise_id_by_uscc(state, &uscc)
                .await?
                .ok_or_else(|| AppError::invalid("uscc", "no registered enterprise"))?;
            Ok(Holder {
                kind: "enterprise",
                id,
            })
        }
        _ => Err(AppError::invalid(
            "holder",
            "give the holder's resident_id or uscc, one of them",
        )),
    }
}

/// Why a use may go ahead.
enum Basis {
    /// The holder's grant (its id; a one-time grant is used up on release).
    Consent(Authorisation),
    /// The service item's legal basis.
    LegalBasis(String),
}

/// Obtains a holder's certificate for one of the actor's department's service items: the
/// service function of 免证办. Returns the annotated copy; refuses with 403 (and records the
/// attempt in the holder's usage record and the log) when there is neither consent nor a legal
/// basis, and asks the holder for their consent.
pub async fn obtain(
    state: &AppState,
    actor: &Actor,
    request: &UseRequest,
) -> AppResult<SignedCopy> {
    let department_id = actor
        .clerk_department()
        .ok_or(AppError::Forbidden)?
        .to_owned();
    check_terms(request)?;
    let holder = resolve_holder(state, &request.holder).await?;
    // A department reaches the holders of its own region (a city's, every district's).
    let department = crate::admin::store::department(state.pool(), &department_id)
        .await?
        .ok_or(AppError::Forbidden)?;
    let holder_region = match holder.kind {
        "person" => personal::person_region(state, &holder.id).await?,
        _ => personal::enterprise(state, &holder.id)
            .await?
            .map(|enterprise| enterprise.region_code),
    };
    if !holder_region.is_some_and(|region| department.region_code.contains(&region)) {
        return Err(AppError::Forbidden);
    }
    release(state, actor, &department_id, &holder, request).await
}

/// 免证办: an applicant's confirmation on an application form is their consent for the
/// department handling it to use their certificate of the type once, for that item. Records
/// the grant, then obtains the copy as [`obtain`] does (`request.holder` is ignored: the
/// holder is the applicant).
pub async fn obtain_for_application(
    state: &AppState,
    applicant: &Actor,
    department_id: &str,
    request: &UseRequest,
) -> AppResult<SignedCopy> {
    check_terms(request)?;
    let (kind, id) = super::holder_of(applicant)?;
    let holder = Holder { kind, id };
    let grant = Authorisation {
        id: uuid::Uuid::now_v7().to_string(),
        holder_kind: kind.to_owned(),
        holder_id: holder.id.clone(),
        department_id: department_id.to_owned(),
        type_code: request.type_code.trim().to_owned(),
        service_code: request.service_code.trim().to_owned(),
        state: "granted".into(),
        once: true,
        valid_until: None,
        created_at: state.now(),
    };
    store::insert_authorisation(state, &grant).await?;
    release(state, applicant, department_id, &holder, request).await
}

/// The cause and the copy's days are within bounds.
fn check_terms(request: &UseRequest) -> AppResult<()> {
    let cause = request.cause.trim();
    if cause.is_empty() || cause.chars().count() > 200 {
        return Err(AppError::invalid(
            "cause",
            "give the cause of use (用证事由), 1–200 characters",
        ));
    }
    let copy_days = request.copy_days.unwrap_or(COPY_DAYS_DEFAULT);
    if !(1..=COPY_DAYS_MAX).contains(&copy_days) {
        return Err(AppError::invalid("copy_days", "must be 1–30"));
    }
    Ok(())
}

/// Releases the holder's certificate to the department when consent or a legal basis
/// permits; otherwise records the refusal and asks the holder.
async fn release(
    state: &AppState,
    actor: &Actor,
    department_id: &str,
    holder: &Holder,
    request: &UseRequest,
) -> AppResult<SignedCopy> {
    let cause = request.cause.trim();
    let copy_days = request.copy_days.unwrap_or(COPY_DAYS_DEFAULT);
    let department_id = department_id.to_owned();
    let item = store::service_item_by_code(state.pool(), request.service_code.trim())
        .await?
        .ok_or_else(|| AppError::invalid("service_code", "no such service item"))?;
    let t = store::cert_type_by_code(state.pool(), request.type_code.trim())
        .await?
        .ok_or_else(|| AppError::invalid("type_code", "no such certificate type"))?;
    if t.holder_kind != holder.kind {
        return Err(AppError::invalid(
            "holder",
            format!("{} is held by {}s", t.name, t.holder_kind),
        ));
    }
    let now = state.now();
    let attempt = UseRow {
        id: uuid::Uuid::now_v7().to_string(),
        holder_kind: holder.kind.to_owned(),
        holder_id: holder.id.clone(),
        department_id: department_id.clone(),
        actor_id: actor.id().to_owned(),
        service_code: item.code.clone(),
        type_code: t.code.clone(),
        certificate_id: None,
        cause_sealed: Vec::new(),
        outcome: "refused".into(),
        basis: None,
        at: now,
        copy_expires_at: None,
    };
    let attempt = UseRow {
        cause_sealed: state
            .vault
            .seal_field(&cause_context(&attempt.id), cause.as_bytes()),
        ..attempt
    };
    if item.department_id != department_id {
        refuse(state, &attempt, "service_item_of_another_department").await?;
        return Err(AppError::NotAuthorised(format!(
            "{} is a service item of another department",
            item.name
        )));
    }
    let Some(basis) = basis_for(state, &item, &attempt, now).await? else {
        refuse(state, &attempt, "no_authorisation").await?;
        ask_holder(state, &attempt).await?;
        return Err(AppError::NotAuthorised(
            "the holder has not authorised this use; they have been asked to, on their wallet page"
                .into(),
        ));
    };
    let today = tongban_core::zone::ymd(state.today());
    let row = store::current_of_holder(state.pool(), holder.kind, &holder.id, &t.code, &today)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(format!("the holder has no valid {} at present", t.name))
        })?;
    let (basis_code, basis_record) = match &basis {
        Basis::Consent(grant) => {
            if grant.once && !store::consume_once(state.pool(), &grant.id).await? {
                return Err(AppError::Conflict(
                    "the holder's one-time authorisation was used by another request".into(),
                ));
            }
            ("consent", format!("consent:{}", grant.id))
        }
        Basis::LegalBasis(text) => ("legal_basis", format!("legal_basis:{text}")),
    };
    let department = crate::admin::directory::department(state, &department_id)
        .await?
        .ok_or(AppError::Forbidden)?;
    if holder.kind == "person" {
        personal::record_certificate_access(
            state,
            actor,
            &holder.id,
            "use_certificate",
            personal::Purpose::ServiceHandling,
            None,
        )
        .await?;
    }
    let expires = now + copy_days * DAY_MS;
    let copy = AnnotatedCopy {
        certificate: super::open(state, &row)?,
        annotation: Annotation {
            use_id: attempt.id.clone(),
            using_unit: Authority {
                name: department.name.clone(),
                code: department.uscc.clone().unwrap_or_default(),
            },
            service_code: item.code.clone(),
            service_name: item.name.clone(),
            cause: cause.to_owned(),
            basis: basis_code.to_owned(),
            used_at: crate::time_fmt::rfc3339(now),
            expires_at: crate::time_fmt::rfc3339(expires),
        },
    };
    let signer =
        crate::keys::service::cached_signer(state, &state.config.region_code, COPY_KEY).await?;
    let signed = tongban_certs::copy::sign(copy, signer.as_ref())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("copy: {e}")))?;
    let entry = serde_json::json!({
        "kind": "certificate_used",
        "at": crate::time_fmt::rfc3339(now),
        "actor": actor.id(),
        "department": department_id,
        "certificate": row.id,
        "type": t.code,
        "service_item": item.code,
        "basis": basis_record,
        "use": attempt.id,
        "subject": state.vault.subject_commitment(&holder.id),
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    store::insert_use(
        state.pool(),
        &UseRow {
            certificate_id: Some(row.id.clone()),
            outcome: "released".into(),
            basis: Some(basis_record),
            copy_expires_at: Some(expires),
            ..attempt
        },
    )
    .await?;
    tongban_platform::figures::count(state, super::USED, department.region_code.as_str());
    Ok(signed)
}

fn cause_context(use_id: &str) -> String {
    format!("cert_uses.cause/{use_id}")
}

/// The legal basis or the holder's grant that permits the use, if any.
async fn basis_for(
    state: &AppState,
    item: &ServiceItem,
    attempt: &UseRow,
    now: i64,
) -> AppResult<Option<Basis>> {
    // Listed by the item and approved, with a basis of the maintained list, by the security
    // administrator: an item's own list is only a request.
    if item.consent_free_types.contains(&attempt.type_code)
        && let Some(code) =
            super::consent_free::approved_basis(state, &item.code, &attempt.type_code).await?
    {
        let listed = super::consent_free::basis(&code)
            .map(|(zh, _)| zh.to_owned())
            .unwrap_or(code);
        let wording = match &item.legal_basis {
            Some(law) => format!("{law}；{listed}"),
            None => listed,
        };
        return Ok(Some(Basis::LegalBasis(wording)));
    }
    let grants = store::authorisations_for(state, &scope(attempt), &["granted"]).await?;
    Ok(grants
        .into_iter()
        .find(|grant| grant.once || grant.valid_until.is_some_and(|until| now < until))
        .map(Basis::Consent))
}

/// The department × type × service item × holder an attempt is about.
fn scope(attempt: &UseRow) -> Authorisation {
    Authorisation {
        id: String::new(),
        holder_kind: attempt.holder_kind.clone(),
        holder_id: attempt.holder_id.clone(),
        department_id: attempt.department_id.clone(),
        type_code: attempt.type_code.clone(),
        service_code: attempt.service_code.clone(),
        state: String::new(),
        once: false,
        valid_until: None,
        created_at: attempt.at,
    }
}

/// Records a refused attempt in the log and the holder's usage record.
async fn refuse(state: &AppState, attempt: &UseRow, reason: &str) -> AppResult<()> {
    let entry = serde_json::json!({
        "kind": "certificate_use_refused",
        "at": crate::time_fmt::rfc3339(attempt.at),
        "actor": attempt.actor_id,
        "department": attempt.department_id,
        "type": attempt.type_code,
        "service_item": attempt.service_code,
        "reason": reason,
        "use": attempt.id,
        "subject": state.vault.subject_commitment(&attempt.holder_id),
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    store::insert_use(state.pool(), attempt).await?;
    if let Some(department) =
        crate::admin::directory::department(state, &attempt.department_id).await?
    {
        tongban_platform::figures::count(
            state,
            super::USE_REFUSED,
            department.region_code.as_str(),
        );
    }
    Ok(())
}

/// Asks the holder for consent, unless a request for the same scope is already waiting.
async fn ask_holder(state: &AppState, attempt: &UseRow) -> AppResult<()> {
    let mut request = scope(attempt);
    if !store::authorisations_for(state, &request, &["requested"])
        .await?
        .is_empty()
    {
        return Ok(());
    }
    request.id = uuid::Uuid::now_v7().to_string();
    request.state = "requested".into();
    store::insert_authorisation(state, &request).await
}

/// One authorisation or request as its holder sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthorisationView {
    pub id: String,
    pub department: String,
    pub type_name: String,
    pub service_item: String,
    /// requested, granted, declined, withdrawn or used.
    pub state: String,
    pub once: bool,
    /// RFC 3339, for a standing grant.
    pub valid_until: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// Names of departments, types and service items, looked up once per listing.
struct Names {
    departments: std::collections::HashMap<String, String>,
    types: std::collections::HashMap<String, String>,
}

impl Names {
    async fn load(state: &AppState) -> AppResult<Names> {
        Ok(Names {
            departments: crate::admin::directory::departments(state)
                .await?
                .into_iter()
                .map(|d| (d.id, d.name))
                .collect(),
            types: store::types(state.pool())
                .await?
                .into_iter()
                .map(|t| (t.code, t.name))
                .collect(),
        })
    }

    fn department(&self, id: &str) -> String {
        self.departments.get(id).cloned().unwrap_or_default()
    }

    fn cert_type(&self, code: &str) -> String {
        self.types
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_owned())
    }
}

async fn service_name(state: &AppState, code: &str) -> AppResult<String> {
    Ok(store::service_item_by_code(state.pool(), code)
        .await?
        .map_or_else(|| code.to_owned(), |item| item.name))
}

/// The actor's authorisations and the requests waiting for them, newest first.
pub async fn authorisations(state: &AppState, actor: &Actor) -> AppResult<Vec<AuthorisationView>> {
    let (kind, id) = super::holder_of(actor)?;
    let names = Names::load(state).await?;
    let mut views = Vec::new();
    for a in store::authorisations_of_holder(state.pool(), kind, &id).await? {
        views.push(AuthorisationView {
            department: names.department(&a.department_id),
            type_name: names.cert_type(&a.type_code),
            service_item: service_name(state, &a.service_code).await?,
            state: a.state,
            once: a.once,
            valid_until: a.valid_until.map(crate::time_fmt::rfc3339),
            created_at: crate::time_fmt::rfc3339(a.created_at),
            id: a.id,
        });
    }
    Ok(views)
}

/// What the holder decides on a request, or on a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Allow one use.
    Once,
    /// Allow uses until `until`.
    Until,
    Decline,
    /// End a grant.
    Withdraw,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub decision: Decision,
    /// `YYYY-MM-DD`, the last day of a standing grant (at most a year ahead).
    pub until: Option<String>,
}

/// The holder decides on a request (grant once, grant until a date, or decline) or withdraws a
/// grant. Logged.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    id: &str,
    request: &DecisionRequest,
) -> AppResult<()> {
    let (kind, holder) = super::holder_of(actor)?;
    let now = state.now();
    let (from, to, once, valid_until) = match request.decision {
        Decision::Once => ("requested", "granted", true, None),
        Decision::Until => {
            let text = request
                .until
                .as_deref()
                .ok_or_else(|| AppError::invalid("until", "give the last day of the grant"))?;
            let day = tongban_core::zone::parse_ymd(text.trim())
                .ok_or_else(|| AppError::invalid("until", "must be a date, YYYY-MM-DD"))?;
            let today = state.today();
            if day < today || day > today.saturating_add(time::Duration::days(366)) {
                return Err(AppError::invalid(
                    "until",
                    "must be between today and a year from now",
                ));
            }
            // The grant ends when its last day ends, in the region's time zone.
            let (_, end) = state.zone().day_span(day);
            ("requested", "granted", false, Some(end))
        }
        Decision::Decline => ("requested", "declined", false, None),
        Decision::Withdraw => ("granted", "withdrawn", false, None),
    };
    if request.decision != Decision::Until && request.until.is_some() {
        return Err(AppError::invalid(
            "until",
            "only a standing grant has an end",
        ));
    }
    let entry = serde_json::json!({
        "kind": "certificate_authorisation",
        "at": crate::time_fmt::rfc3339(now),
        "actor": actor.id(),
        "authorisation": id,
        "state": to,
        "once": once,
        "until": valid_until.map(crate::time_fmt::rfc3339),
    });
    if !store::decide_authorisation(state, id, kind, &holder, from, to, once, valid_until).await? {
        return Err(match request.decision {
            Decision::Withdraw => AppError::Conflict("there is no such grant to withdraw".into()),
            _ => AppError::Conflict("there is no such request waiting for a decision".into()),
        });
    }
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    Ok(())
}

/// One entry of the usage record (用证记录) as its holder sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UseView {
    pub id: String,
    /// RFC 3339.
    pub at: String,
    pub department: String,
    pub service_item: String,
    pub type_name: String,
    pub cause: String,
    /// released or refused.
    pub outcome: String,
    /// consent or legal_basis (with the basis), for a release.
    pub basis: Option<String>,
    pub certificate_id: Option<String>,
    /// RFC 3339: until when the department may rely on its copy.
    pub copy_expires_at: Option<String>,
}

/// The actor's usage record, newest first.
pub async fn uses(state: &AppState, actor: &Actor) -> AppResult<Vec<UseView>> {
    let (kind, id) = super::holder_of(actor)?;
    let names = Names::load(state).await?;
    let mut views = Vec::new();
    for row in store::uses_of_holder(state.pool(), kind, &id).await? {
        let cause = state
            .vault
            .open_field(&cause_context(&row.id), &row.cause_sealed)?;
        views.push(UseView {
            at: crate::time_fmt::rfc3339(row.at),
            department: names.department(&row.department_id),
            service_item: service_name(state, &row.service_code).await?,
            type_name: names.cert_type(&row.type_code),
            cause: String::from_utf8_lossy(&cause).into_owned(),
            outcome: row.outcome,
            basis: row.basis.map(|b| match b.split_once(':') {
                Some(("consent", _)) => "consent".to_owned(),
                _ => b,
            }),
            certificate_id: row.certificate_id,
            copy_expires_at: row.copy_expires_at.map(crate::time_fmt::rfc3339),
            id: row.id,
        });
    }
    Ok(views)
}

/// What a department learns when it checks an annotated copy it holds or was handed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CopyVerification {
    /// Signed by the platform, not expired, the certificate inside signed by its issuer and
    /// within its validity, and the certificate still valid now.
    pub valid: bool,
    /// A reason code when refused.
    pub reason: Option<String>,
    /// The certificate's status now.
    pub status: String,
    pub using_unit: String,
    pub service_item: String,
    pub cause: String,
    pub expires_at: String,
}

/// Checks an annotated copy: the platform's signature, its expiry, the certificate inside, and
/// the certificate's status now.
pub async fn verify_copy(state: &AppState, copy: &SignedCopy) -> AppResult<CopyVerification> {
    let platform = super::keys_of(state, COPY_KEY).await?;
    let now = state.now();
    let checked = match super::issuer_keys(state, &copy.copy.certificate.certificate).await? {
        Ok(issuers) => tongban_certs::copy::verify(copy, &platform, &issuers, now.div_euclid(1000))
            .map_err(|e| e.code().to_owned()),
        Err(reason) => Err(reason.to_owned()),
    };
    let status = match store::by_id(state.pool(), &copy.copy.certificate.certificate.id).await? {
        Some(row) => super::status_now(state, &row),
        None => "unknown".into(),
    };
    let a = &copy.copy.annotation;
    Ok(CopyVerification {
        valid: checked.is_ok() && status == "valid",
        reason: checked.err(),
        status,
        using_unit: a.using_unit.name.clone(),
        service_item: a.service_name.clone(),
        cause: a.cause.clone(),
        expires_at: a.expires_at.clone(),
    })
}

/// How long a holder's records of certificate uses are kept.
pub const USE_RETENTION_DAYS: i64 = 3 * 365;

/// Deletes certificate-use records older than their retention; returns how many.
pub async fn purge_old_uses(state: &AppState) -> AppResult<u64> {
    let before = state.now() - USE_RETENTION_DAYS * 86_400_000;
    store::delete_uses_before(state.pool(), before).await
}
