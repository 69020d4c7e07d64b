//! The parties of an exchange and the gateway's own answers: the call as it arrived, the
//! answer, the gateway's errors with their X-Road types, and who the consumer and provider
//! are — shared by the exchange itself and the metadata services.

use std::sync::Arc;

use axum::http::{HeaderMap, Method};

use super::ids::{ClientId, DATA_SUBSYSTEM, parse_client};
use crate::admin::store::Department;
use crate::authz::{Action, Resource as On, can};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::state::AppState;

/// A call as it reached the gateway.
pub struct Incoming {
    pub method: Method,
    /// The path after `/r1/`, as sent (percent-encoded).
    pub rest: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    /// Shared, not copied, on its way through the gateway (a body may weigh megabytes).
    pub body: axum::body::Bytes,
}

/// The gateway's answer.
#[derive(Debug)]
pub struct Outgoing {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// An error of the gateway itself, with its X-Road type (`Client.…`, `Server.…`).
#[derive(Debug)]
pub struct GatewayError {
    pub status: u16,
    pub kind: &'static str,
    pub message: String,
}

pub(super) fn error(status: u16, kind: &'static str, message: impl Into<String>) -> GatewayError {
    GatewayError {
        status,
        kind,
        message: message.into(),
    }
}

impl GatewayError {
    /// The body: an RFC 9457 problem that also carries X-Road's `type`/`message`/`detail`.
    pub fn body(&self, message_id: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "type": self.kind,
            "title": self.kind,
            "status": self.status,
            "detail": self.message,
            "message": self.message,
            "instance": format!("urn:uuid:{message_id}"),
        }))
        .unwrap_or_default()
    }
}

pub(super) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    // The last of repeated headers counts (PR-REST 4.3).
    headers
        .get_all(name)
        .iter()
        .next_back()
        .map(|v| v.to_str().unwrap_or("\u{0}"))
}

/// The consumer the `X-Road-Client` (or GovStack's `X-GovStack-Client`) header names.
pub fn client_of(headers: &HeaderMap) -> Result<ClientId, GatewayError> {
    let value = header(headers, "x-road-client")
        .or_else(|| header(headers, "x-govstack-client"))
        .ok_or_else(|| {
            error(
                400,
                "Client.BadRequest",
                "the X-Road-Client header is required",
            )
        })?;
    parse_client(value).map_err(|why| error(400, "Client.BadRequest", why))
}

/// Checks that the actor may call in the name of `client`: a department of this instance
/// (class GOV, its USCC as member code) whose clerk or administrator the actor is.
pub async fn consumer_of(
    state: &AppState,
    actor: &Actor,
    client: &ClientId,
) -> Result<Department, GatewayError> {
    let refuse = || {
        error(
            403,
            "Client.NotAuthorised",
            format!("you may not call in the name of {client}"),
        )
    };
    if client.instance != state.config.xroad_instance || client.class != "GOV" {
        return Err(refuse());
    }
    let department = department(state, &client.member)
        .await
        .map_err(platform)?
        .ok_or_else(refuse)?;
    if !can(
        actor,
        Action::CallDataService,
        On::Department { id: &department.id },
    ) {
        return Err(refuse());
    }
    Ok(department)
}

/// The provider department a service identifier names, if it is one of this instance's.
pub async fn provider_of(state: &AppState, service: &ClientId) -> Result<Department, GatewayError> {
    let unknown = || {
        error(
            404,
            "Server.ServerProxy.UnknownService",
            format!("{service} offers no services here"),
        )
    };
    if service.instance != state.config.xroad_instance
        || service.class != "GOV"
        || service.subsystem.as_deref() != Some(DATA_SUBSYSTEM)
    {
        return Err(unknown());
    }
    department(state, &service.member)
        .await
        .map_err(platform)?
        .ok_or_else(unknown)
}

/// The department of a member code (USCC), from the node's cache while fresh.
pub async fn department(state: &AppState, uscc: &str) -> AppResult<Option<Department>> {
    let cache = state.module::<Arc<crate::cache::Coherent<Department>>>();
    Ok(cache
        .get_or_load(state.now(), uscc, || {
            crate::admin::directory::department_by_uscc(state, uscc)
        })
        .await?
        .map(|entry| entry.value.clone()))
}

pub(super) fn platform(error_: AppError) -> GatewayError {
    match error_ {
        AppError::LockedOut { .. } => error(
            429,
            "Server.ServerProxy.RateLimited",
            "your hourly limit of personal records is reached",
        ),
        AppError::Unavailable | AppError::Contention => error(
            503,
            "Server.ServerProxy.DatabaseError",
            "the gateway could not reach its database; nothing was released",
        ),
        AppError::Forbidden | AppError::NotAuthorised(_) => {
            error(403, "Client.NotAuthorised", "not authorised")
        }
        other => {
            tracing::error!(error = %other, "the gateway failed");
            error(
                500,
                "Server.ServerProxy.InternalError",
                "the gateway failed",
            )
        }
    }
}
