//! 电子证照: the catalogue of certificate types, issuance by authorised departments, and the
//! holder's wallet. Certificates are signed by the issuing department's key over canonical
//! JSON (`tongban-certs`, docs/certificate-format.md) and stored sealed.

pub mod api;
pub mod consent_free;
pub(crate) mod demo;
pub mod elsewhere;
pub mod import;
pub mod pages;
pub mod status_list;
pub(crate) mod store;
pub mod usage;

/// Checks a signed certificate (JSON) offline against a trust list file: the issuing
/// departments' certificate keys, the signature and the validity on `now` (Unix seconds); and,
/// given the issuer's signed status list, the certificate's status in it (`valid`, `suspended`
/// or `revoked`). Without a list the status is unknown offline.
pub fn verify_offline(
    trust_list: &str,
    root: Option<&tongban_crypto::PublicKey>,
    document: &str,
    status_list: Option<&str>,
    now: i64,
) -> Result<(SignedCertificate, Option<String>), crate::keys::offline::Refusal> {
    use crate::keys::offline::Refusal;
    let (payload, all_keys) = crate::keys::offline::trusted_keys(trust_list, root, CERT_KEY, now)?;
    let signed: SignedCertificate = serde_json::from_str(document).map_err(|_| Refusal {
        reason: "bad_document",
        message: "not a signed certificate".into(),
    })?;
    // Only the keys the list binds to the issuer the certificate names, for its type: a key of
    // another department, however trusted, does not speak for this one.
    let certificate = &signed.certificate;
    let mut keys = tongban_crypto::KeyRing::new();
    for key in payload.keys.iter().filter(|k| {
        k.purpose == CERT_KEY && k.may_sign(&certificate.issuer.code, &certificate.type_code)
    }) {
        if let Some(public) = all_keys.get(&key.kid) {
            keys.insert(key.kid.clone(), public.clone());
        }
    }
    if keys.get(&signed.kid).is_none() && all_keys.get(&signed.kid).is_some() {
        return Err(Refusal {
            reason: "issuer_not_permitted",
            message: format!(
                "key {} does not sign for issuer {} or type {}",
                signed.kid, certificate.issuer.code, certificate.type_code
            ),
        });
    }
    if keys.is_empty() {
        return Err(Refusal {
            reason: "issuer_not_permitted",
            message: format!(
                "the trust list binds no key to issuer {} for type {}",
                certificate.issuer.code, certificate.type_code
            ),
        });
    }
    let refusal = |e: tongban_certs::CertError| Refusal {
        reason: e.code(),
        message: e.to_string(),
    };
    tongban_certs::verify(&signed, &keys, now).map_err(refusal)?;
    let Some(text) = status_list else {
        return Ok((signed, None));
    };
    let list: tongban_certs::status::SignedStatusList =
        serde_json::from_str(text).map_err(|_| Refusal {
            reason: "bad_status_list",
            message: "not a signed status list".into(),
        })?;
    tongban_certs::status::verify(&list, &keys, now).map_err(refusal)?;
    let status = tongban_certs::status::status_of(&list, &signed).map_err(refusal)?;
    Ok((signed, Some(status.as_str().to_owned())))
}

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tongban_certs::{Authority, Certificate, Holder, HolderCodeType, SignedCertificate};
use tongban_core::zone::ymd;
use tongban_core::{CertificateId, CertificateType, ResidentId, Uscc, Zone};

use crate::admin::directory::Department;
use crate::authz::{Action, Resource, can};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::identity::personal::{self, Purpose};
use crate::state::AppState;
pub use store::{CertRow, CertType};

pub use crate::keys::CERT_KEY;

fn document_context(id: &str) -> String {
    format!("certificates.document/{id}")
}

/// Who a certificate is for, as the issuer knows them.
pub struct HolderInfo {
    /// `person` or `enterprise`, and the id of that record.
    pub kind: &'static str,
    pub id: String,
    pub name: String,
    /// The resident ID number or USCC.
    pub code: String,
}

/// Checks data items against the type: every required item present, nothing unknown, each of
/// its kind.
pub fn check_items(t: &CertType, items: &BTreeMap<String, Value>) -> AppResult<()> {
    for key in items.keys() {
        if !t.items.iter().any(|spec| &spec.code == key) {
            return Err(AppError::invalid(
                "items",
                format!("{key} is not an item of {}", t.name),
            ));
        }
    }
    for spec in &t.items {
        let Some(value) = items.get(&spec.code) else {
            if spec.required {
                return Err(AppError::invalid(
                    "items",
                    format!("{} ({}) is required", spec.name, spec.code),
                ));
            }
            continue;
        };
        let text_ok = |v: &Value| {
            v.as_str()
                .is_some_and(|s| !s.trim().is_empty() && s.chars().count() <= 500)
        };
        let ok = match spec.kind.as_str() {
            "text" => text_ok(value),
            "date" => value.as_str().is_some_and(|s| {
                time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
                    .is_ok()
            }),
            "list" => value
                .as_array()
                .is_some_and(|list| list.len() <= 50 && list.iter().all(text_ok)),
            _ => false,
        };
        if !ok {
            return Err(AppError::invalid(
                "items",
                format!("{} ({}) must be a {}", spec.name, spec.code, spec.kind),
            ));
        }
    }
    Ok(())
}

/// Makes unsigned certificates of one type from one department on one day (in the region's
/// time zone, which the certificates carry).
#[derive(Clone)]
struct Drafter {
    t: CertType,
    department: Department,
    issuer: Uscc,
    kind: CertificateType,
    zone: Zone,
    day: time::Date,
    valid_until: Option<String>,
}

impl Drafter {
    fn new(state: &AppState, t: &CertType, department: &Department) -> AppResult<Drafter> {
        let issuer: Uscc = department
            .uscc
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|_| AppError::Conflict("the issuing department has no USCC".into()))?;
        let kind: CertificateType = t
            .code
            .parse()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("stored type code {}", t.code)))?;
        let zone = state.zone();
        let day = state.today();
        let valid_until = t.validity_years.map(|years| {
            ymd(day
                .replace_year(day.year() + years as i32)
                .unwrap_or(day)
                .previous_day()
                .unwrap_or(day))
        });
        Ok(Drafter {
            t: t.clone(),
            department: department.clone(),
            issuer,
            kind,
            zone,
            day,
            valid_until,
        })
    }

    /// The status list this drafter's certificates are listed in.
    fn status_list(&self) -> String {
        format!("{}/{}", self.issuer.as_str(), self.t.code)
    }

    /// A certificate with a fresh random serial, version 1, at `status_index` of the status
    /// list.
    fn draft(
        &self,
        holder: &HolderInfo,
        items: BTreeMap<String, Value>,
        status_index: i64,
    ) -> AppResult<Certificate> {
        let serial: String = tongban_crypto::random_bytes(10)
            .iter()
            .map(|b| char::from(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[usize::from(*b) % 36]))
            .collect();
        let id = CertificateId::new(self.kind.clone(), self.issuer.clone(), &serial, 1)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("certificate id parts")))?;
        Ok(Certificate {
            id: id.to_string(),
            type_name: self.t.name.clone(),
            type_code: self.t.code.clone(),
            number: serial,
            holder: Holder {
                name: holder.name.clone(),
                code: holder.code.clone(),
                code_type: if holder.kind == "person" {
                    HolderCodeType::ResidentId
                } else {
                    HolderCodeType::Uscc
                },
            },
            issuer: Authority {
                name: self.department.name.clone(),
                code: self.issuer.as_str().to_owned(),
            },
            issued_on: ymd(self.day),
            valid_from: ymd(self.day),
            valid_until: self.valid_until.clone(),
            time_zone: Some(self.zone),
            region: self.department.region_code.as_str().to_owned(),
            items,
            status: Some(tongban_certs::StatusEntry {
                list: self.status_list(),
                index: u64::try_from(status_index)
                    .map_err(|_| AppError::Internal(anyhow::anyhow!("status index")))?,
            }),
        })
    }
}

/// Issues a certificate of `t` from `department` to `holder`: signs it with the department's
/// key, stores it sealed, and logs the issuance.
pub async fn issue_from(
    state: &AppState,
    department: &Department,
    t: &CertType,
    holder: &HolderInfo,
    items: BTreeMap<String, Value>,
    issued_by: &str,
    source_application: Option<&str>,
) -> AppResult<SignedCertificate> {
    check_items(t, &items)?;
    let now = state.now();
    let drafter = Drafter::new(state, t, department)?;
    let status_index = store::reserve_status_bits(state.pool(), &department.id, &t.code, 1).await?;
    let certificate = drafter.draft(holder, items, status_index)?;
    let valid_until = drafter.valid_until.clone();
    let signer = crate::keys::service::signer(state, &department.id, CERT_KEY).await?;
    let signed = tongban_certs::sign(certificate, &signer)
        .map_err(|e| AppError::invalid("certificate", e.to_string()))?;
    let entry = serde_json::json!({
        "kind": "certificate_issued",
        "at": crate::time_fmt::rfc3339(now),
        "actor": issued_by,
        "department": department.id,
        "certificate": signed.certificate.id,
        "type": t.code,
        "subject": state.vault.subject_commitment(&holder.id),
    });
    let document = serde_json::to_vec(&signed).map_err(|e| AppError::Internal(e.into()))?;
    let row = CertRow {
        id: signed.certificate.id.clone(),
        type_code: t.code.clone(),
        holder_kind: holder.kind.to_owned(),
        holder_id: holder.id.clone(),
        issuer_department: department.id.clone(),
        document_sealed: state
            .vault
            .seal_field(&document_context(&signed.certificate.id), &document),
        status: "valid".into(),
        status_reason: None,
        issued_at: now,
        valid_until,
        status_index: Some(status_index),
    };
    // The entry and the certificate in one transaction: a crash leaves both or neither.
    crate::ledger::service::append_indexed(
        state,
        &entry,
        store::index_row(row, source_application.map(str::to_owned)),
    )
    .await?;
    tongban_platform::figures::count(state, ISSUED, department.region_code.as_str());
    Ok(signed)
}

/// 电子证照's figures for the operations view (by the issuing or using department's region).
pub const ISSUED: &str = "certificates.issued";
pub(crate) const USED: &str = "certificates.used";
pub(crate) const USE_REFUSED: &str = "certificates.use_refused";
const SHOWN: &str = "certificates.shown";

/// The figures of certificates, as the module declares them.
pub const FIGURES: &[tongban_platform::figures::Figure] = &[
    figure(ISSUED, "证照签发", "Certificates issued"),
    figure(SHOWN, "亮证", "Certificates shown by holders"),
    figure(USED, "部门用证", "Certificates used by departments"),
    figure(USE_REFUSED, "用证被拒", "Certificate uses refused"),
];

const fn figure(
    key: &'static str,
    zh: &'static str,
    en: &'static str,
) -> tongban_platform::figures::Figure {
    tongban_platform::figures::Figure::of_persons(key, "certificates", zh, en)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    pub type_code: String,
    /// For a person: the resident ID number.
    pub resident_id: Option<String>,
    /// For an enterprise: the USCC.
    pub uscc: Option<String>,
    #[schema(value_type = Object)]
    pub items: BTreeMap<String, Value>,
}

/// A clerk of a department authorised for the type issues a certificate.
pub async fn issue(
    state: &AppState,
    actor: &Actor,
    request: IssueRequest,
    request_id: Option<&str>,
) -> AppResult<SignedCertificate> {
    let department_id = actor
        .account
        .department_id
        .clone()
        .ok_or(AppError::Forbidden)?;
    if !can(
        actor,
        Action::IssueCertificates,
        Resource::Department { id: &department_id },
    ) {
        return Err(AppError::Forbidden);
    }
    let department = crate::admin::directory::department(state, &department_id)
        .await?
        .ok_or(AppError::Forbidden)?;
    let t = store::cert_type_by_code(state.pool(), request.type_code.trim())
        .await?
        .ok_or_else(|| AppError::invalid("type_code", "no such certificate type"))?;
    if !store::may_issue(state.pool(), &t.code, &department.id).await? {
        return Err(AppError::Forbidden);
    }
    let holder = match (t.holder_kind.as_str(), &request.resident_id, &request.uscc) {
        ("person", Some(number), None) => {
            let resident_id: ResidentId = number
                .trim()
                .parse()
                .map_err(|e| AppError::invalid("resident_id", e))?;
            let record = personal::find_person(
                state,
                actor,
                &resident_id,
                Purpose::ServiceHandling,
                request_id,
            )
            .await?;
            HolderInfo {
                kind: "person",
                id: record.id,
                name: record.name.expose().to_owned(),
                code: record.resident_id,
            }
        }
        ("enterprise", None, Some(code)) => {
            let uscc: Uscc = code
                .trim()
                .parse()
                .map_err(|e| AppError::invalid("uscc", e))?;
            let id = personal::enterprise_id_by_uscc(state, &uscc)
                .await?
                .ok_or_else(|| AppError::invalid("uscc", "no registered enterprise"))?;
            let enterprise = personal::read_enterprise(state, actor, &id).await?;
            HolderInfo {
                kind: "enterprise",
                id,
                name: enterprise.name,
                code: enterprise.uscc.as_str().to_owned(),
            }
        }
        ("person", _, _) => {
            return Err(AppError::invalid(
                "resident_id",
                "this type is issued to a person: send resident_id only",
            ));
        }
        _ => {
            return Err(AppError::invalid(
                "uscc",
                "this type is issued to an enterprise: send uscc only",
            ));
        }
    };
    issue_from(
        state,
        &department,
        &t,
        &holder,
        request.items,
        actor.id(),
        None,
    )
    .await
}

/// One certificate in a wallet.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WalletEntry {
    pub id: String,
    /// The certificate type's code (in the issuing region's catalogue).
    pub type_code: String,
    pub type_name: String,
    pub number: String,
    pub issuer: String,
    pub issued_on: String,
    pub valid_until: Option<String>,
    /// valid, suspended, revoked or expired.
    pub status: String,
    /// For a certificate another region issued (held from elsewhere): that region.
    pub region: Option<String>,
}

/// An item's value as text: a list joined with 、.
pub fn item_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(list) => list
            .iter()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join("、"),
        other => other.to_string(),
    }
}

/// The actor's own holder kind and record id.
pub fn holder_of(actor: &Actor) -> AppResult<(&'static str, String)> {
    match (&actor.account.person_id, &actor.account.enterprise_id) {
        (Some(person), _) => Ok(("person", person.clone())),
        (None, Some(enterprise)) => Ok(("enterprise", enterprise.clone())),
        _ => Err(AppError::Forbidden),
    }
}

pub(crate) fn open(state: &AppState, row: &CertRow) -> AppResult<SignedCertificate> {
    let plain = state
        .vault
        .open_field(&document_context(&row.id), &row.document_sealed)?;
    serde_json::from_slice(&plain).map_err(|e| AppError::Internal(e.into()))
}

/// A stored certificate's status today, in the region's time zone (in which this platform's
/// certificates are dated): `expired` after its last day.
pub(crate) fn status_now(state: &AppState, row: &CertRow) -> String {
    let today = ymd(state.today());
    let expired = row
        .valid_until
        .as_deref()
        .is_some_and(|until| until < today.as_str());
    if row.status == "valid" && expired {
        "expired".into()
    } else {
        row.status.clone()
    }
}

/// Logs a person's opening of their own certificates (an enterprise's are not personal data).
async fn record_own_read(state: &AppState, actor: &Actor, kind: &str, id: &str) -> AppResult<()> {
    if kind == "person" {
        personal::record_certificate_access(
            state,
            actor,
            id,
            "read_certificates",
            Purpose::SelfService,
            None,
        )
        .await?;
    }
    Ok(())
}

/// The actor's certificates, newest first.
pub async fn wallet(state: &AppState, actor: &Actor) -> AppResult<Vec<WalletEntry>> {
    let (kind, id) = holder_of(actor)?;
    record_own_read(state, actor, kind, &id).await?;
    let mut entries = store::of_holder(state.pool(), kind, &id)
        .await?
        .iter()
        .map(|row| {
            let signed = open(state, row)?;
            let c = &signed.certificate;
            Ok(WalletEntry {
                id: c.id.clone(),
                type_code: c.type_code.clone(),
                type_name: c.type_name.clone(),
                number: c.number.clone(),
                issuer: c.issuer.name.clone(),
                issued_on: c.issued_on.clone(),
                valid_until: c.valid_until.clone(),
                status: status_now(state, row),
                region: None,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    for row in elsewhere::of_holder(state, kind, &id).await? {
        let signed = elsewhere::open(state, &id, &row)?;
        entries.push(WalletEntry {
            id: row.id.clone(),
            type_code: signed.certificate.type_code.clone(),
            type_name: row.type_name.clone(),
            number: signed.certificate.number.clone(),
            issuer: row.issuer_name.clone(),
            issued_on: row.issued_on.clone(),
            valid_until: row.valid_until.clone(),
            status: elsewhere::status(state, &row),
            region: Some(row.region.clone()),
        });
    }
    Ok(entries)
}

/// One of the actor's own certificates in full, with its status.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WalletItem {
    #[schema(value_type = Object)]
    pub signed: SignedCertificate,
    pub status: String,
    /// For a certificate another region issued: that region.
    pub region: Option<String>,
}

pub async fn wallet_item(state: &AppState, actor: &Actor, id: &str) -> AppResult<WalletItem> {
    let (kind, holder) = holder_of(actor)?;
    let row = store::by_id(state.pool(), id)
        .await?
        .filter(|row| row.holder_kind == kind && row.holder_id == holder);
    let Some(row) = row else {
        let row = elsewhere::one(state, kind, &holder, id)
            .await?
            .ok_or(AppError::NotFound)?;
        record_own_read(state, actor, kind, &holder).await?;
        return Ok(WalletItem {
            signed: elsewhere::open(state, &holder, &row)?,
            status: elsewhere::status(state, &row),
            region: Some(row.region),
        });
    };
    record_own_read(state, actor, kind, &holder).await?;
    Ok(WalletItem {
        signed: open(state, &row)?,
        status: status_now(state, &row),
        region: None,
    })
}

/// What an issuer does to a certificate's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusAction {
    Suspend,
    Reinstate,
    /// Final: a revoked certificate is never valid again.
    Revoke,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub action: StatusAction,
    pub reason: String,
}

/// A clerk of the issuing department suspends, reinstates or revokes a certificate, with a
/// reason. Logged; online verifiers see it at once.
pub async fn change_status(
    state: &AppState,
    actor: &Actor,
    id: &str,
    change: &StatusChange,
) -> AppResult<()> {
    let reason = change.reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(AppError::invalid(
            "reason",
            "must give a reason (1–200 characters)",
        ));
    }
    let row = store::by_id(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !can(
        actor,
        Action::IssueCertificates,
        Resource::Department {
            id: &row.issuer_department,
        },
    ) {
        return Err(AppError::Forbidden);
    }
    let (from, to): (&[&str], &str) = match change.action {
        StatusAction::Suspend => (&["valid"], "suspended"),
        StatusAction::Reinstate => (&["suspended"], "valid"),
        StatusAction::Revoke => (&["valid", "suspended"], "revoked"),
    };
    let entry = serde_json::json!({
        "kind": "certificate_status",
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": actor.id(),
        "certificate": id,
        "status": to,
        "reason": reason,
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    if !store::set_status(state, id, from, to, reason).await? {
        return Err(AppError::Conflict(format!(
            "the certificate is {}, which cannot become {to}",
            row.status
        )));
    }
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// A shown certificate (`TC1:…`) as scanned from the holder's QR.
    pub code: Option<String>,
    /// Or a full signed certificate.
    #[schema(value_type = Option<Object>)]
    pub certificate: Option<SignedCertificate>,
}

/// The key purpose of the platform's shown-certificate codes.
pub const SHOW_KEY: &str = "show";
/// How long a shown certificate can be scanned.
const SHOW_SECONDS: i64 = 300;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowRequest {
    /// The item codes to reveal (the metadata — type, issuer, holder, validity — always shows).
    pub items: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Shown {
    pub code: String,
    /// RFC 3339.
    pub expires_at: String,
}

fn issuer_name(state: &AppState) -> String {
    format!("tongban.{}", state.config.region_code)
}

/// 亮证: the holder shows one of their certificates as a short-lived code that reveals only the
/// chosen items.
pub async fn show(
    state: &AppState,
    actor: &Actor,
    id: &str,
    request: &ShowRequest,
) -> AppResult<Shown> {
    let item = wallet_item(state, actor, id).await?;
    let c = &item.signed.certificate;
    let mut items = BTreeMap::new();
    for code in &request.items {
        let value = c.items.get(code).ok_or_else(|| {
            AppError::invalid(
                "items",
                format!("{code} is not an item of this certificate"),
            )
        })?;
        items.insert(code.clone(), item_text(value));
    }
    let holder = match c.holder.code_type {
        HolderCodeType::ResidentId => personal::masked_name(&c.holder.name),
        HolderCodeType::Uscc => c.holder.name.clone(),
    };
    let now = state.now() / 1000;
    let claims = tongban_codes::ShownClaims {
        issuer: issuer_name(state),
        certificate_id: c.id.clone(),
        type_name: c.type_name.clone(),
        issuing_authority: c.issuer.name.clone(),
        holder,
        items,
        valid_until: c.valid_until.clone(),
        issued_at: now,
        expires_at: now + SHOW_SECONDS,
    };
    let signer =
        crate::keys::service::cached_signer(state, &state.config.region_code, SHOW_KEY).await?;
    // Counted in the holder's home region.
    tongban_platform::figures::count(state, SHOWN, actor.account.home_region.as_str());
    Ok(Shown {
        code: tongban_codes::issue_shown(&claims, signer.as_ref()),
        expires_at: crate::time_fmt::rfc3339((now + SHOW_SECONDS) * 1000),
    })
}

pub(crate) async fn keys_of(state: &AppState, purpose: &str) -> AppResult<tongban_crypto::KeyRing> {
    let mut keys = tongban_crypto::KeyRing::new();
    for key in crate::keys::service::verification_keys(state)
        .await?
        .into_iter()
        .filter(|k| k.purpose == purpose)
    {
        if let Some(public) = key.public_key() {
            keys.insert(key.kid.clone(), public);
        }
    }
    Ok(keys)
}

/// The keys that may have signed this certificate: the certificate keys owned by the department
/// the certificate names as its issuer (by USCC), when that department issues this type. A key
/// of another department — even one this platform trusts — does not verify it. `Err(reason)`
/// when no department or no permission stands behind the issuer named.
pub(crate) async fn issuer_keys(
    state: &AppState,
    certificate: &tongban_certs::Certificate,
) -> AppResult<Result<tongban_crypto::KeyRing, &'static str>> {
    let Some(department) =
        crate::admin::store::department_by_uscc(state.pool(), &certificate.issuer.code).await?
    else {
        return Ok(Err("unknown_issuer"));
    };
    if !store::may_issue(state.pool(), &certificate.type_code, &department.id).await? {
        return Ok(Err("issuer_not_permitted"));
    }
    let mut keys = tongban_crypto::KeyRing::new();
    for key in crate::keys::service::verification_keys(state)
        .await?
        .into_iter()
        .filter(|k| k.purpose == CERT_KEY && k.owner == department.id)
    {
        if let Some(public) = key.public_key() {
            keys.insert(key.kid.clone(), public);
        }
    }
    Ok(Ok(keys))
}

/// What each issuing department's certificate keys may sign, for the trust list.
pub async fn issuer_scopes(state: &AppState) -> AppResult<Vec<crate::keys::service::OwnerScope>> {
    let mut scopes: Vec<crate::keys::service::OwnerScope> = Vec::new();
    for (owner, code, type_code) in store::issuers(state.pool()).await? {
        match scopes.last_mut() {
            Some(last) if last.owner == owner => last.scope.kinds.push(type_code),
            _ => scopes.push(crate::keys::service::OwnerScope {
                owner,
                purpose: CERT_KEY.into(),
                scope: crate::keys::service::KeyScope {
                    code,
                    kinds: vec![type_code],
                },
            }),
        }
    }
    Ok(scopes)
}

/// Verifies what a verifier scanned or was handed: a shown certificate or a full one.
pub async fn verify_request(state: &AppState, request: &VerifyRequest) -> AppResult<Verification> {
    match (&request.code, &request.certificate) {
        (Some(code), None) => verify_shown(state, code).await,
        (None, Some(certificate)) => verify_online(state, certificate).await,
        _ => Err(AppError::invalid(
            "code",
            "send either code (TC1:…) or certificate, not both",
        )),
    }
}

async fn verify_shown(state: &AppState, code: &str) -> AppResult<Verification> {
    let keys = keys_of(state, SHOW_KEY).await?;
    let claims = match tongban_codes::verify_shown(
        code.trim(),
        &keys,
        state.now() / 1000,
        &[issuer_name(state)],
    ) {
        Ok(claims) => claims,
        Err(error) => {
            return Ok(Verification {
                valid: false,
                status: "unknown".into(),
                reason: Some(error.code().to_owned()),
                type_name: String::new(),
                issuer: String::new(),
                holder: None,
                items: BTreeMap::new(),
            });
        }
    };
    let status = match store::by_id(state.pool(), &claims.certificate_id).await? {
        Some(row) => status_now(state, &row),
        None => "unknown".into(),
    };
    Ok(Verification {
        valid: status == "valid",
        status,
        reason: None,
        type_name: claims.type_name,
        issuer: claims.issuing_authority,
        holder: Some(claims.holder),
        items: claims.items,
    })
}

/// What a verifier learns about a certificate.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Verification {
    /// Signed by a trusted issuer, within its validity, and neither suspended nor revoked.
    pub valid: bool,
    /// valid, suspended, revoked, expired, or unknown (not issued here).
    pub status: String,
    /// A reason code when the signature or content is refused.
    pub reason: Option<String>,
    pub type_name: String,
    pub issuer: String,
    /// From a shown certificate: the holder (masked for a person) and the items shown.
    pub holder: Option<String>,
    pub items: BTreeMap<String, String>,
}

/// Verifies a full certificate online: its signature against this platform's issuer keys, and
/// its status now.
pub async fn verify_online(
    state: &AppState,
    signed: &SignedCertificate,
) -> AppResult<Verification> {
    let now = state.now();
    let checked = match issuer_keys(state, &signed.certificate).await? {
        Ok(keys) => tongban_certs::verify(signed, &keys, now.div_euclid(1000))
            .map_err(|e| e.code().to_owned()),
        Err(reason) => Err(reason.to_owned()),
    };
    let row = store::by_id(state.pool(), &signed.certificate.id).await?;
    let outside = tongban_certs::CertError::OutsideValidity.code();
    let status = match (&checked, &row) {
        (Err(reason), _) if reason == outside => "expired".to_owned(),
        (_, Some(row)) => status_now(state, row),
        (_, None) => "unknown".to_owned(),
    };
    Ok(Verification {
        valid: checked.is_ok() && status == "valid",
        reason: checked.err(),
        status,
        type_name: signed.certificate.type_name.clone(),
        issuer: signed.certificate.issuer.name.clone(),
        holder: None,
        items: BTreeMap::new(),
    })
}

/// One certificate of a bulk issuance.
pub struct BulkRow {
    pub holder: HolderInfo,
    pub items: BTreeMap<String, Value>,
}

/// What a bulk issuance did: the identifiers issued (in row order), and each refused row with
/// its reason.
#[derive(Debug, Default, Serialize)]
pub struct BulkOutcome {
    pub issued: Vec<String>,
    pub failed: Vec<(usize, String)>,
}

/// Rows stored and logged together.
const BULK_BATCH: usize = 2000;

/// A certificate signed and sealed for storage: (row, holder id, identifier, status bit,
/// sealed document).
type Sealed = (usize, String, String, i64, Vec<u8>);
/// A row that could not be issued, with the reason.
type Failed = (usize, String);

/// Drafts, signs and seals a batch on every core; the handles yield each row's result.
fn spawn_signing(
    batch: Vec<(usize, BulkRow, i64)>,
    drafter: &std::sync::Arc<Drafter>,
    signer: &std::sync::Arc<tongban_crypto::SoftwareSigner>,
    vault: &std::sync::Arc<crate::keys::vault::Vault>,
) -> Vec<tokio::task::JoinHandle<Vec<Result<Sealed, Failed>>>> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let per_worker = batch.len().div_ceil(workers).max(1);
    let mut batch = batch.into_iter();
    let mut tasks = Vec::new();
    loop {
        let part: Vec<_> = batch.by_ref().take(per_worker).collect();
        if part.is_empty() {
            return tasks;
        }
        let (drafter, signer, vault) = (drafter.clone(), signer.clone(), vault.clone());
        tasks.push(tokio::task::spawn_blocking(move || {
            part.into_iter()
                .map(|(index, row, bit)| {
                    let certificate = drafter
                        .draft(&row.holder, row.items, bit)
                        .map_err(|e| (index, e.to_string()))?;
                    let signed = tongban_certs::sign(certificate, signer.as_ref())
                        .map_err(|e| (index, e.to_string()))?;
                    let document =
                        serde_json::to_vec(&signed).map_err(|e| (index, e.to_string()))?;
                    let sealed =
                        vault.seal_field(&document_context(&signed.certificate.id), &document);
                    Ok((index, row.holder.id, signed.certificate.id, bit, sealed))
                })
                .collect()
        }));
    }
}

/// Issues many certificates of one type from one department: items checked per row, signing
/// spread over the cores while the previous batch is written, rows stored a thousand to a
/// transaction and each batch logged once (naming every identifier). A row is either issued or
/// reported with its error: a batch whose log entry cannot be written is deleted again and
/// reported failed.
pub async fn issue_many(
    state: &AppState,
    department: &Department,
    t: &CertType,
    rows: Vec<BulkRow>,
    issued_by: &str,
    progress: &(dyn Fn(usize) + Sync),
) -> AppResult<BulkOutcome> {
    let mut outcome = BulkOutcome::default();
    let signer =
        std::sync::Arc::new(crate::keys::service::signer(state, &department.id, CERT_KEY).await?);
    let now = state.now();
    let drafter = std::sync::Arc::new(Drafter::new(state, t, department)?);
    let valid_until = drafter.valid_until.clone();
    let checked: Vec<(usize, BulkRow)> = rows
        .into_iter()
        .enumerate()
        .filter_map(|(index, row)| match check_items(t, &row.items) {
            Ok(()) => Some((index, row)),
            Err(error) => {
                outcome.failed.push((index, error.to_string()));
                None
            }
        })
        .collect();
    let first_bit = store::reserve_status_bits(
        state.pool(),
        &department.id,
        &t.code,
        i64::try_from(checked.len()).unwrap_or(i64::MAX),
    )
    .await?;
    let mut batches = (first_bit..)
        .zip(checked)
        .map(|(bit, (index, row))| (index, row, bit));
    let mut next_batch = move || batches.by_ref().take(BULK_BATCH).collect::<Vec<_>>();
    let mut signing = spawn_signing(next_batch(), &drafter, &signer, &state.vault);
    while !signing.is_empty() {
        let mut stored = Vec::with_capacity(BULK_BATCH);
        for task in signing {
            for result in task.await.map_err(|e| AppError::Internal(e.into()))? {
                match result {
                    Ok(row) => stored.push(row),
                    Err(failure) => outcome.failed.push(failure),
                }
            }
        }
        // The next batch signs while this one is written.
        signing = spawn_signing(next_batch(), &drafter, &signer, &state.vault);
        let indices: Vec<usize> = stored.iter().map(|(index, ..)| *index).collect();
        let rows: Vec<CertRow> = stored
            .into_iter()
            .map(|(_, holder_id, id, bit, sealed)| CertRow {
                id,
                type_code: t.code.clone(),
                holder_kind: t.holder_kind.clone(),
                holder_id,
                issuer_department: department.id.clone(),
                document_sealed: sealed,
                status: "valid".into(),
                status_reason: None,
                issued_at: now,
                valid_until: valid_until.clone(),
                status_index: Some(bit),
            })
            .collect();
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        store::insert_many(state, rows).await?;
        let entry = serde_json::json!({
            "kind": "certificates_issued",
            "at": crate::time_fmt::rfc3339(now),
            "actor": issued_by,
            "department": department.id,
            "type": t.code,
            "certificates": ids,
        });
        if crate::ledger::service::append(state, &entry).await.is_err() {
            store::delete_many(state.pool(), &ids).await?;
            for index in indices {
                outcome
                    .failed
                    .push((index, "the issuance could not be logged".into()));
            }
            continue;
        }
        tongban_platform::figures::count_n(
            state,
            ISSUED,
            department.region_code.as_str(),
            ids.len() as i64,
        );
        outcome.issued.extend(ids);
        progress(outcome.issued.len() + outcome.failed.len());
    }
    Ok(outcome)
}

/// The certificate type of this code: how other modules read the catalogue of types.
pub async fn cert_type(state: &AppState, code: &str) -> AppResult<Option<CertType>> {
    store::cert_type_by_code(state.pool(), code).await
}

/// A certificate by its identifier, as another module names it to people: its type's name
/// and its status (`valid`, `suspended`, `revoked`). Reads no personal data.
pub async fn name_and_status(state: &AppState, id: &str) -> AppResult<Option<(String, String)>> {
    let Some(row) = store::by_id(state.pool(), id).await? else {
        return Ok(None);
    };
    let name = store::cert_type_by_code(state.pool(), &row.type_code)
        .await?
        .map_or(row.type_code, |t| t.name);
    Ok(Some((name, row.status)))
}

/// Every certificate type of the catalogue.
pub async fn cert_types(state: &AppState) -> AppResult<Vec<CertType>> {
    store::types(state.pool()).await
}

/// Every certificate of a holder (`person` or `enterprise`), newest first, as stored.
pub async fn of_holder(state: &AppState, kind: &str, holder_id: &str) -> AppResult<Vec<CertRow>> {
    store::of_holder(state.pool(), kind, holder_id).await
}

/// The certificate issued as the result of an application, if one was.
pub async fn issued_for_application(
    state: &AppState,
    application_id: &str,
) -> AppResult<Option<String>> {
    store::issued_for_application(state.pool(), application_id).await
}

/// The valid certificate issued for an application or a case (the source it names), signed as
/// it was issued, if there is one: a decision retried after an unknown outcome issues no second.
pub async fn valid_for_source(
    state: &AppState,
    source: &str,
) -> AppResult<Option<SignedCertificate>> {
    for id in store::issued_for_source(state.pool(), source).await? {
        if let Some(row) = store::by_id(state.pool(), &id).await?
            && row.status == "valid"
        {
            return open(state, &row).map(Some);
        }
    }
    Ok(None)
}

/// Revokes a certificate issued for a decision that was then not stored (another clerk moved
/// the case first): it was never delivered, and must not stay valid. Logged with the reason.
pub async fn revoke_undelivered(state: &AppState, id: &str, reason: &str) -> AppResult<()> {
    let entry = serde_json::json!({
        "kind": "certificate_status",
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": "system",
        "certificate": id,
        "status": "revoked",
        "reason": reason,
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    store::set_status(state, id, &["valid", "suspended"], "revoked", reason).await?;
    Ok(())
}

/// Whether the department may issue certificates of the type.
pub async fn may_issue(state: &AppState, type_code: &str, department_id: &str) -> AppResult<bool> {
    store::may_issue(state.pool(), type_code, department_id).await
}

/// The holder's current certificate of a type on `today` (`YYYY-MM-DD`, the region's day),
/// if any.
pub async fn current_of_holder(
    state: &AppState,
    kind: &str,
    holder_id: &str,
    type_code: &str,
    today: &str,
) -> AppResult<Option<CertRow>> {
    store::current_of_holder(state.pool(), kind, holder_id, type_code, today).await
}
