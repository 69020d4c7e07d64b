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

/// The most operations a description may hold.
pub const MAX_OPERATIONS: usize = 500;

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "patch", "head", "options"];

/// One endpoint: an upper-case method and a path template (`/persons/{id}`).
pub type Endpoint = (String, String);

/// A path template is `/`-separated segments, each a literal or one `{name}`: no dot
/// segments, no empty segments, no query.
fn valid_template(path: &str) -> bool {
    path.starts_with('/')
        && path.len() <= 500
        && (path == "/"
            || path[1..].split('/').all(|segment| {
                !segment.is_empty()
                    && segment != "."
                    && segment != ".."
                    && !segment.contains(['?', '#', '%', '\\'])
                    && !segment.chars().any(char::is_whitespace)
                    && (!segment.contains(['{', '}'])
                        || (segment.starts_with('{')
                            && segment.ends_with('}')
                            && segment.len() > 2
                            && !segment[1..segment.len() - 1].contains(['{', '}'])))
            }))
}

/// The endpoints an OpenAPI 3 document describes, or why it is not one that can be used.
pub fn endpoints_of(document: &Value) -> Result<Vec<Endpoint>, String> {
    let version = document
        .get("openapi")
        .and_then(Value::as_str)
        .ok_or("the document has no `openapi` version")?;
    if !version.starts_with("3.") {
        return Err(format!("OpenAPI {version} is not 3.x"));
    }
    let paths = document
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("the document has no `paths`")?;
    let mut endpoints = Vec::new();
    for (path, operations) in paths {
        if !valid_template(path) {
            return Err(format!(
                "{path} is not a path template the gateway can match"
            ));
        }
        let operations = operations
            .as_object()
            .ok_or_else(|| format!("{path} is not an object"))?;
        for method in operations.keys().filter(|m| METHODS.contains(&m.as_str())) {
            endpoints.push((method.to_ascii_uppercase(), path.clone()));
        }
    }
    if endpoints.is_empty() {
        return Err("the document describes no operation".into());
    }
    if endpoints.len() > MAX_OPERATIONS {
        return Err(format!("more than {MAX_OPERATIONS} operations"));
    }
    Ok(endpoints)
}

/// Whether a call (`GET`, `/persons/42`) is to one of the endpoints.
pub fn matches(endpoints: &[Endpoint], method: &str, path: &str) -> bool {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    endpoints.iter().any(|(m, template)| {
        let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
        (m == method || (m == "GET" && method == "HEAD"))
            && parts.len() == segments.len()
            && parts.iter().zip(&segments).all(|(part, segment)| {
                if part.starts_with('{') {
                    !segment.is_empty()
                } else {
                    part == segment
                }
            })
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_come_from_the_paths_and_match_by_segment() {
        let document = json!({"openapi": "3.0.3", "paths": {
            "/licences/{id}": {"get": {}, "parameters": []},
            "/licences": {"post": {}, "get": {}},
        }});
        let endpoints = endpoints_of(&document).expect("endpoints");
        assert_eq!(endpoints.len(), 3);
        assert!(matches(&endpoints, "GET", "/licences/42"));
        assert!(matches(&endpoints, "HEAD", "/licences/42"));
        assert!(matches(&endpoints, "POST", "/licences"));
        assert!(!matches(&endpoints, "DELETE", "/licences/42"));
        assert!(!matches(&endpoints, "GET", "/licences/42/owner"));
        assert!(!matches(&endpoints, "GET", "/admin"));
        assert!(!matches(&endpoints, "GET", "/licences/"));
    }

    #[test]
    fn documents_the_gateway_cannot_match_are_refused() {
        for bad in [
            json!({"swagger": "2.0", "paths": {"/a": {"get": {}}}}),
            json!({"openapi": "3.0.0"}),
            json!({"openapi": "3.0.0", "paths": {}}),
            json!({"openapi": "3.0.0", "paths": {"a": {"get": {}}}}),
            json!({"openapi": "3.0.0", "paths": {"/../a": {"get": {}}}}),
            json!({"openapi": "3.0.0", "paths": {"/a{b}": {"get": {}}}}),
            json!({"openapi": "3.0.0", "paths": {"/a": {"parameters": []}}}),
        ] {
            assert!(endpoints_of(&bad).is_err(), "{bad}");
        }
    }
}
