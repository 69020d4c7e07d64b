//! The OpenAPI description of a service as the data-sharing gateway reads it: the endpoints
//! (method and path template) an OpenAPI 3 document describes, and whether a call is to one of
//! them. A path template is `/`-separated literals and `{parameters}`; anything the gateway
//! could not match exactly (dot segments, empty segments, encoded or partial parameters) is
//! refused when the document is registered.

use serde_json::Value;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
