//! What passes between the gateway and a provider: the call as the gateway passes it on,
//! and the provider's answer or why there is none.

use axum::http::Method;
use serde_json::{Value, json};

use crate::error::AppError;
use crate::identity::model::Actor;
use crate::state::AppState;

/// A provider's answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// Headers of the provider's own to pass on (user-defined headers, cache headers).
    pub headers: Vec<(String, String)>,
}

/// Why a provider gave no answer.
#[derive(Debug)]
pub enum Failure {
    /// No answer within the time allowed.
    Timeout,
    /// The provider could not be reached or broke off.
    Unreachable(String),
    /// The platform itself failed (a registry's database).
    Platform(AppError),
}

/// One call as the gateway passes it on.
pub struct Call<'a> {
    pub state: &'a AppState,
    pub actor: &'a Actor,
    pub message_id: &'a str,
    pub method: &'a Method,
    /// The path after the service code (`/enterprises/…`), checked safe.
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
    /// The items the consumer was granted: a registry opens no others.
    pub granted: &'a [String],
    /// The resource called.
    pub resource: &'a str,
    /// The providing department (its id).
    pub provider: &'a str,
}

impl Call<'_> {
    /// The other region's department behind a call that came through a peer gateway: its
    /// region and USCC (the caller is `peer/{region}/{uscc}`); `None` for a caller of this
    /// region.
    pub fn peer(&self) -> Option<(&str, &str)> {
        self.actor.id().strip_prefix("peer/")?.split_once('/')
    }
}

/// The largest answer the gateway takes from a provider: it filters answers in memory.
pub const MAX_ANSWER_BYTES: usize = 32 << 20;

/// A JSON answer.
pub fn json_answer(status: u16, value: &Value) -> Answer {
    Answer {
        status,
        content_type: Some("application/json".into()),
        body: serde_json::to_vec(value).unwrap_or_default(),
        headers: Vec::new(),
    }
}

/// An RFC 9457 problem answer.
pub fn problem(status: u16, title: &str, detail: &str) -> Answer {
    Answer {
        status,
        content_type: Some("application/problem+json".into()),
        body: serde_json::to_vec(&json!({"title": title, "status": status, "detail": detail}))
            .unwrap_or_default(),
        headers: Vec::new(),
    }
}
