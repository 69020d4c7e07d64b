//! The OpenAPI description of an external system (服务描述): the department that serves a
//! resource from its own system registers the system's OpenAPI 3 document. The gateway then
//! lists the document's endpoints in `listMethods` and `allowedMethods`, hands the document out
//! with `getOpenAPI` (its servers replaced by the gateway's address of the service), and passes
//! on only calls to the endpoints it describes — as X-Road's security servers do with a REST
//! service described by OpenAPI.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::store::{self, DescriptionRow};
use crate::authz::{Action, Resource as On, can};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::state::AppState;

pub use tongban_codes::service_description::{Endpoint, MAX_OPERATIONS, endpoints_of, matches};

/// Registers (or replaces) the description of one of the actor's department's resources served
/// by an external system.
pub async fn describe(
    state: &AppState,
    actor: &Actor,
    code: &str,
    document: Value,
) -> AppResult<Vec<Endpoint>> {
    let own = actor.account.department_id.as_deref().unwrap_or_default();
    if !can(
        actor,
        Action::ManageDataCatalogue,
        On::Department { id: own },
    ) {
        return Err(AppError::Forbidden);
    }
    let resource = store::resource(state.pool(), code)
        .await?
        .ok_or(AppError::NotFound)?;
    let owner = On::Department {
        id: &resource.department_id,
    };
    if !can(actor, Action::ManageDataCatalogue, owner) {
        return Err(AppError::Forbidden);
    }
    let external = resource
        .service
        .as_deref()
        .is_some_and(|s| s.starts_with("http://") || s.starts_with("https://"));
    if !external {
        return Err(AppError::Conflict(format!(
            "{code} is not served by an external system; the platform describes its own registries"
        )));
    }
    let endpoints = endpoints_of(&document).map_err(|why| AppError::invalid("document", why))?;
    let text = serde_json::to_string(&document).map_err(|e| AppError::Internal(e.into()))?;
    let digest = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
    };
    crate::ledger::service::append(
        state,
        &json!({
            "kind": "data_service_described",
            "at": crate::time_fmt::rfc3339(state.now()),
            "actor": actor.id(),
            "resource": code,
            "digest": digest,
            "endpoints": endpoints.len(),
        }),
    )
    .await
    .map_err(|_| AppError::Unavailable)?;
    store::save_description(
        state.pool(),
        &DescriptionRow {
            resource_code: code.to_owned(),
            document: text,
            endpoints: serde_json::to_string(&endpoints)
                .map_err(|e| AppError::Internal(e.into()))?,
            digest,
            updated_at: state.now(),
            updated_by: actor.id().to_owned(),
        },
    )
    .await?;
    crate::cache::changed(state, super::CHANGES, crate::cache::ALL).await;
    Ok(endpoints)
}

/// A resource's registered description, if any (any staff may read it, as the catalogue).
pub async fn description(state: &AppState, code: &str) -> AppResult<Option<Value>> {
    Ok(store::description(state.pool(), code)
        .await?
        .and_then(|row| serde_json::from_str(&row.document).ok()))
}

/// The endpoints of a resource's registered description, if any.
pub async fn endpoints(state: &AppState, code: &str) -> AppResult<Option<Vec<Endpoint>>> {
    Ok(store::description(state.pool(), code)
        .await?
        .and_then(|row| serde_json::from_str(&row.endpoints).ok()))
}

/// The endpoints of every registered description, by resource code.
pub async fn all_endpoints(
    state: &AppState,
) -> AppResult<std::collections::HashMap<String, Vec<Endpoint>>> {
    Ok(store::described_endpoints(state.pool())
        .await?
        .into_iter()
        .filter_map(|(code, endpoints)| Some((code, serde_json::from_str(&endpoints).ok()?)))
        .collect())
}
