//! Consent-free use (免授权用证): a department may use a holder's certificate without asking only
//! where the law says so. The legal bases are a maintained list; the security (data-protection)
//! administrator approves each service item × certificate type with one of them. A department
//! administrator listing a type as consent-free on their own item only asks for it.

use serde::{Deserialize, Serialize};

use crate::authz::{Action, Resource, can};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::state::AppState;

/// The legal bases for using a certificate without the holder's consent: (code, 中文, English).
pub const LEGAL_BASES: [(&str, &str, &str); 3] = [
    (
        "pipl_13_1_3",
        "《个人信息保护法》第十三条第一款第三项：为履行法定职责或者法定义务所必需",
        "PIPL art. 13(1)(3): necessary to perform a statutory duty or obligation",
    ),
    (
        "pipl_13_1_4",
        "《个人信息保护法》第十三条第一款第四项：为应对突发公共卫生事件所必需",
        "PIPL art. 13(1)(4): necessary to respond to a public-health emergency",
    ),
    (
        "online_services_regulation",
        "《国务院关于在线政务服务的若干规定》：政务服务机构可直接使用已获取的电子证照办理事项",
        "State Council provisions on online government services: certificates the government holds serve its own procedures",
    ),
];

/// The wording of a basis code, if it is on the list.
pub fn basis(code: &str) -> Option<(&'static str, &'static str)> {
    LEGAL_BASES
        .iter()
        .find(|(known, _, _)| *known == code)
        .map(|(_, zh, en)| (*zh, *en))
}

/// The approved basis of a consent-free use of this type for this item, if any.
pub async fn approved_basis(
    state: &AppState,
    service_code: &str,
    type_code: &str,
) -> AppResult<Option<String>> {
    super::store::consent_free_basis(state.pool(), service_code, type_code).await
}

/// A consent-free use as the security administrator sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConsentFreeUse {
    pub service_code: String,
    pub service_name: String,
    pub department: String,
    pub type_code: String,
    /// The approved basis, or none while the item only asks for it.
    pub basis: Option<String>,
}

/// Every consent-free use the items ask for, approved or not (security administrators).
pub async fn list(state: &AppState, actor: &Actor) -> AppResult<Vec<ConsentFreeUse>> {
    if !can(actor, Action::ManageGrants, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
    let rows = super::store::consent_free_requests(state.pool()).await?;
    let mut uses = Vec::new();
    for (service_code, service_name, department, types) in rows {
        let types: Vec<String> = serde_json::from_str(&types).unwrap_or_default();
        for type_code in types {
            uses.push(ConsentFreeUse {
                basis: approved_basis(state, &service_code, &type_code).await?,
                service_code: service_code.clone(),
                service_name: service_name.clone(),
                department: department.clone(),
                type_code,
            });
        }
    }
    Ok(uses)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    pub service_code: String,
    pub type_code: String,
    /// A code of the maintained list (`pipl_13_1_3`, `pipl_13_1_4`, `online_services_regulation`).
    pub basis: String,
}

/// The security administrator approves a consent-free use the item asks for, naming its basis
/// from the list; a security administrator whose scope covers the item's department.
pub async fn approve(state: &AppState, actor: &Actor, approval: &Approval) -> AppResult<()> {
    if basis(&approval.basis).is_none() {
        return Err(AppError::invalid(
            "basis",
            "not a legal basis of the maintained list",
        ));
    }
    let (service, type_code) = (approval.service_code.trim(), approval.type_code.trim());
    let region = asked_for(state, service, type_code).await?;
    if !can(actor, Action::ManageGrants, Resource::Region(&region)) {
        return Err(AppError::Forbidden);
    }
    log(
        state,
        actor,
        "consent_free_approved",
        service,
        type_code,
        Some(&approval.basis),
    )
    .await?;
    record_approval(state, service, type_code, &approval.basis, actor.id()).await
}

/// Withdraws an approval (security administrators of the department's region).
pub async fn withdraw(
    state: &AppState,
    actor: &Actor,
    service: &str,
    type_code: &str,
) -> AppResult<()> {
    let region = asked_for(state, service, type_code).await?;
    if !can(actor, Action::ManageGrants, Resource::Region(&region)) {
        return Err(AppError::Forbidden);
    }
    log(
        state,
        actor,
        "consent_free_withdrawn",
        service,
        type_code,
        None,
    )
    .await?;
    super::store::delete_consent_free(state.pool(), service, type_code).await
}

/// For the operator (a new deployment, the demo): approves at once.
pub async fn approve_as_operator(
    state: &AppState,
    service: &str,
    type_code: &str,
    basis_code: &str,
) -> AppResult<()> {
    record_approval(state, service, type_code, basis_code, "operator").await
}

async fn record_approval(
    state: &AppState,
    service: &str,
    type_code: &str,
    basis_code: &str,
    by: &str,
) -> AppResult<()> {
    super::store::upsert_consent_free(
        state.pool(),
        service,
        type_code,
        basis_code,
        by,
        state.now(),
    )
    .await
}

/// The region of the department whose item asks for this consent-free type.
async fn asked_for(
    state: &AppState,
    service: &str,
    type_code: &str,
) -> AppResult<tongban_core::RegionCode> {
    let item = super::store::service_item_by_code(state.pool(), service)
        .await?
        .ok_or(AppError::NotFound)?;
    if !item.consent_free_types.iter().any(|t| t == type_code) {
        return Err(AppError::invalid(
            "type_code",
            "the item does not list this type as consent-free",
        ));
    }
    let department = crate::admin::store::department(state.pool(), &item.department_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(department.region_code)
}

async fn log(
    state: &AppState,
    actor: &Actor,
    kind: &str,
    service: &str,
    type_code: &str,
    basis: Option<&str>,
) -> AppResult<()> {
    let entry = serde_json::json!({
        "kind": kind,
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": actor.id(),
        "service_item": service,
        "type_code": type_code,
        "basis": basis,
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    Ok(())
}
