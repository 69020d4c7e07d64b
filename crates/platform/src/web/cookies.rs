//! Reading and setting the few cookies tongban uses.

use axum::http::{HeaderMap, HeaderValue, header};
use subtle::ConstantTimeEq;

/// The page session. `__Host-` binds it to this host, over HTTPS (or localhost), path `/`.
pub const SESSION: &str = "__Host-tongban-session";
/// The CSRF token of a visitor who has not logged in yet (double-submit).
pub const ANON_CSRF: &str = "__Host-tongban-csrf";
/// Interface preferences of a visitor who has not logged in (not secret).
pub const LANGUAGE: &str = "__Host-tongban-lang";
pub const LARGE_TEXT: &str = "__Host-tongban-large";

/// The value of the named cookie in the request, if any.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty() && value.len() <= 256)
}

/// A `Set-Cookie` value. `http_only` for secrets; `max_age` `None` for a browser-session cookie.
pub fn set(name: &str, value: &str, http_only: bool, max_age_seconds: Option<i64>) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; Secure; SameSite=Lax");
    if http_only {
        cookie.push_str("; HttpOnly");
    }
    if let Some(age) = max_age_seconds {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&cookie)
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

pub fn clear(name: &str) -> HeaderValue {
    set(name, "", true, Some(0))
}

/// Whether a sent CSRF (or other secret) token is the expected one, in constant time.
pub fn tokens_match(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}
