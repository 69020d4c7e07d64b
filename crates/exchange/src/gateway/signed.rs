//! One exchange as the gateway signs, logs and answers it, whoever the parties are: the
//! message id and its replay check, the request's hash, the call to the provider with the
//! grant's filter, and the signed pair written to the transparency log before anything is
//! released. `service` routes calls here within the region; `peers` between regions.

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Method};

use super::filter::{Filtered, filter};
use super::ids::{ClientId, ServiceId, safe_path};
use super::log::MessageRow;
use super::message::{
    EXCHANGE_KEY, ExchangeRecord, message_hash, request_bytes, request_head, response_bytes,
    response_head, sign,
};
pub(super) use super::parties::header as header_of;
use super::parties::{GatewayError, Incoming, Outgoing, error, header, platform};
use super::providers::{self, Answer, Failure};
use crate::catalogue::described::Endpoint;
use crate::catalogue::model::Resource;
use crate::error::AppError;
use crate::identity::model::Actor;
use crate::state::AppState;

/// Who signs one side of an exchange: a department of this region with its own key, or the
/// other region's gateway, whose signature arrived with the message.
pub(super) enum Side {
    Key(String),
    Signed {
        kid: String,
        signature: String,
        at: String,
    },
}

/// What the gateway learnt before it answered, for the log.
pub(super) struct Exchange<'a> {
    pub id: String,
    pub client: &'a ClientId,
    pub service: &'a ServiceId,
    /// The parties as the message log's index names them: a department id, or
    /// `peer/{region}/{USCC}` for a department of another region.
    pub consumer_row: String,
    pub provider_row: String,
    pub resource: &'a str,
    pub method: &'a Method,
    pub request_hash: String,
    pub requested_at: i64,
    /// The request's side: signed here by the consumer's key, or by the other region's.
    pub request: Side,
    pub started: Instant,
}

/// An answer as it is logged and delivered: the provider's, or the gateway's own error.
pub(super) struct Delivered {
    pub status: u16,
    pub error: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl Delivered {
    pub fn answer(answer: Answer) -> Delivered {
        Delivered {
            status: answer.status,
            error: None,
            content_type: answer.content_type,
            body: answer.body,
            headers: answer.headers,
        }
    }

    pub fn failure(failure: &GatewayError, id: &str) -> Delivered {
        Delivered {
            status: failure.status,
            error: Some(failure.kind.to_owned()),
            content_type: Some("application/problem+json".to_owned()),
            body: failure.body(id),
            headers: vec![("x-road-error".to_owned(), failure.kind.to_owned())],
        }
    }
}

/// The response headers that carry the answering side's signature to the consumer (and to
/// the consumer's gateway, when it is another region's).
pub const RESPONDED_AT: &str = "x-tongban-responded-at";
pub const RESPONSE_KID: &str = "x-tongban-response-kid";
pub const RESPONSE_SIGNATURE: &str = "x-tongban-response-signature";

/// The message ids consumers sent that this node is handling now: a second call with the
/// same id while the first is in flight is a replay, before either is in the log.
#[derive(Default)]
pub struct InFlight(std::sync::Mutex<std::collections::HashSet<String>>);

/// A consumer's message id held for the duration of its exchange.
pub(super) struct Claim<'a> {
    set: &'a InFlight,
    id: String,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if let Ok(mut ids) = self.set.0.lock() {
            ids.remove(&self.id);
        }
    }
}

/// The message id: the consumer's `X-Road-Id` when it sent one (printable, at most 100
/// characters, never used before), else a new UUID.
pub(super) async fn message_id<'a>(
    state: &'a AppState,
    headers: &HeaderMap,
) -> Result<(String, Option<Claim<'a>>), GatewayError> {
    let Some(sent) = header(headers, "x-road-id") else {
        return Ok((uuid::Uuid::new_v4().to_string(), None));
    };
    if sent.is_empty() || sent.len() > 100 || !sent.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(error(
            400,
            "Client.BadRequest",
            "X-Road-Id must be 1–100 printable characters (a UUID is best)",
        ));
    }
    let replay = || {
        error(
            409,
            "Client.DuplicateMessageId",
            "this X-Road-Id was used before; a message is sent once",
        )
    };
    let set = state.module::<InFlight>();
    let fresh = set
        .0
        .lock()
        .map(|mut ids| ids.insert(sent.to_owned()))
        .unwrap_or(false);
    if !fresh {
        return Err(replay());
    }
    let claim = Claim {
        set,
        id: sent.to_owned(),
    };
    if super::log::seen(state.pool(), sent)
        .await
        .map_err(platform)?
    {
        return Err(replay());
    }
    Ok((sent.to_owned(), Some(claim)))
}

/// The target of a request as its hash covers it, and the hash.
pub(super) fn hashed_request(incoming: &Incoming, client: &str) -> (String, String) {
    let target = match &incoming.query {
        Some(query) => format!("/r1/{}?{query}", incoming.rest),
        None => format!("/r1/{}", incoming.rest),
    };
    let mut travelling: Vec<(&str, &str)> = vec![("x-road-client", client)];
    for name in ["content-type", "accept"] {
        if let Some(value) = header(&incoming.headers, name) {
            travelling.push((name, value));
        }
    }
    let hash = message_hash(
        &request_head(incoming.method.as_str(), &target, &travelling),
        &incoming.body,
    );
    (target, hash)
}

/// Calls the provider for a consumer holding a grant of `granted` items, removes every other
/// item from the answer, and logs the signed pair.
#[allow(clippy::too_many_arguments)]
pub(super) async fn deliver(
    state: &AppState,
    exchange: &Exchange<'_>,
    provider_id: &str,
    resource: &Resource,
    granted: &[String],
    endpoints: Option<&[Endpoint]>,
    actor: &Actor,
    incoming: &Incoming,
    path: &str,
) -> Result<Outgoing, GatewayError> {
    if !safe_path(path) {
        let refusal = error(
            400,
            "Client.BadRequest",
            "the path may not hold dot segments, encoded separators or spaces",
        );
        return refuse(state, exchange, provider_id, refusal).await;
    }
    if let Some(endpoints) = endpoints
        && !crate::catalogue::described::matches(endpoints, incoming.method.as_str(), path)
    {
        let refusal = error(
            404,
            "Server.ServerProxy.UnknownEndpoint",
            format!(
                "the service's description has no endpoint {} {path}",
                incoming.method
            ),
        );
        return refuse(state, exchange, provider_id, refusal).await;
    }
    let Some(service_name) = resource.service.as_deref() else {
        let refusal = error(
            404,
            "Server.ServerProxy.UnknownService",
            "no system serves this resource through the gateway",
        );
        return refuse(state, exchange, provider_id, refusal).await;
    };
    let mut headers = Vec::new();
    for (name, value) in &incoming.headers {
        if !providers::filtered_header(name.as_str())
            && let Ok(value) = value.to_str()
        {
            headers.push((name.as_str().to_owned(), value.to_owned()));
        }
    }
    if header(&incoming.headers, "accept").is_none() {
        headers.push(("accept".into(), "application/json".into()));
    }
    headers.push(("x-road-client".into(), exchange.client.to_string()));
    headers.push(("x-road-service".into(), exchange.service.to_string()));
    headers.push(("x-road-id".into(), exchange.id.clone()));
    let call = providers::Call {
        state,
        actor,
        message_id: &exchange.id,
        method: &incoming.method,
        path,
        query: incoming.query.as_deref(),
        headers,
        body: &incoming.body,
        granted,
        resource: &resource.code,
        provider: provider_id,
    };
    let answer = match providers::call(
        service_name,
        &call,
        Duration::from_millis(state.config.exchange_timeout_ms.max(1)),
    )
    .await
    {
        Ok(answer) => answer,
        Err(Failure::Timeout) => {
            let refusal = error(
                504,
                "Server.ServerProxy.ServiceTimeout",
                "the provider did not answer in time",
            );
            return refuse(state, exchange, provider_id, refusal).await;
        }
        Err(Failure::Unreachable(why)) => {
            let refusal = error(502, "Server.ServerProxy.ServiceFailed", why);
            return refuse(state, exchange, provider_id, refusal).await;
        }
        Err(Failure::Platform(failure)) => {
            return refuse(state, exchange, provider_id, platform(failure)).await;
        }
    };
    let all: Vec<String> = resource.items.iter().map(|i| i.code.clone()).collect();
    let (body, removed) = match filter(
        answer.status,
        answer.content_type.as_deref(),
        &answer.body,
        granted,
        &all,
    ) {
        Filtered::Body(body, removed) => (body, removed),
        Filtered::Unfilterable(why) => {
            let refusal = error(502, "Server.ServerProxy.UnfilterableResponse", why);
            return refuse(state, exchange, provider_id, refusal).await;
        }
    };
    let delivered = Delivered::answer(Answer { body, ..answer });
    finish(
        state,
        exchange,
        delivered,
        removed,
        Side::Key(provider_id.to_owned()),
    )
    .await
}

/// Logs a refusal after the consumer was authenticated, signed by the provider's side, and
/// answers it.
pub(super) async fn refuse(
    state: &AppState,
    exchange: &Exchange<'_>,
    provider_id: &str,
    refusal: GatewayError,
) -> Result<Outgoing, GatewayError> {
    let delivered = Delivered::failure(&refusal, &exchange.id);
    finish(
        state,
        exchange,
        delivered,
        0,
        Side::Key(provider_id.to_owned()),
    )
    .await
}

/// Signs what this side signs, writes the record to the transparency log and its row to the
/// index, and only then answers. When logging fails nothing of the answer is released.
pub(super) async fn finish(
    state: &AppState,
    exchange: &Exchange<'_>,
    delivered: Delivered,
    removed: usize,
    response: Side,
) -> Result<Outgoing, GatewayError> {
    let response_hash = message_hash(
        &response_head(delivered.status, delivered.content_type.as_deref()),
        &delivered.body,
    );
    let client = exchange.client.to_string();
    let service = exchange.service.to_string();
    let (request_kid, request_signature, requested_at) = match &exchange.request {
        Side::Key(department) => {
            let requested_at = crate::time_fmt::rfc3339(exchange.requested_at);
            let key = crate::keys::service::cached_signer(state, department, EXCHANGE_KEY)
                .await
                .map_err(platform)?;
            let (kid, signature) = sign(
                &*key,
                &request_bytes(
                    &exchange.id,
                    &client,
                    &service,
                    &exchange.request_hash,
                    &requested_at,
                ),
            );
            (kid, signature, requested_at)
        }
        Side::Signed { kid, signature, at } => (kid.clone(), signature.clone(), at.clone()),
    };
    let (response_kid, response_signature, responded_at) = match response {
        Side::Key(department) => {
            let responded_at = crate::time_fmt::rfc3339(state.now());
            let key = crate::keys::service::cached_signer(state, &department, EXCHANGE_KEY)
                .await
                .map_err(platform)?;
            let (kid, signature) = sign(
                &*key,
                &response_bytes(
                    &exchange.id,
                    &exchange.request_hash,
                    delivered.status,
                    delivered.error.as_deref(),
                    &response_hash,
                    &responded_at,
                ),
            );
            (kid, signature, responded_at)
        }
        Side::Signed { kid, signature, at } => (kid, signature, at),
    };
    let record = ExchangeRecord {
        kind: "data_exchange".into(),
        id: exchange.id.clone(),
        client: client.clone(),
        service: service.clone(),
        request_hash: exchange.request_hash.clone(),
        requested_at,
        request_kid,
        request_signature,
        status: delivered.status,
        error: delivered.error.clone(),
        response_hash,
        responded_at: responded_at.clone(),
        response_kid: response_kid.clone(),
        response_signature: response_signature.clone(),
    };
    let row = super::log::index_row(MessageRow {
        id: exchange.id.clone(),
        at: exchange.requested_at,
        client: client.clone(),
        service: service.clone(),
        resource_code: exchange.resource.to_owned(),
        consumer_department_id: exchange.consumer_row.clone(),
        provider_department_id: exchange.provider_row.clone(),
        method: exchange.method.as_str().to_owned(),
        status: i64::from(delivered.status),
        error_type: delivered.error.clone(),
        removed_values: removed as i64,
        micros: exchange.started.elapsed().as_micros() as i64,
        ledger_index: 0,
    });
    crate::ledger::service::append_indexed(state, &record, row)
        .await
        .map_err(|_| platform(AppError::Unavailable))?;
    let mut headers = vec![
        ("x-road-client".to_owned(), client),
        ("x-road-service".to_owned(), service),
        ("x-road-id".to_owned(), exchange.id.clone()),
        ("x-road-request-id".to_owned(), exchange.id.clone()),
        (
            "x-road-request-hash".to_owned(),
            exchange.request_hash.clone(),
        ),
        (RESPONDED_AT.to_owned(), responded_at),
        (RESPONSE_KID.to_owned(), response_kid),
        (RESPONSE_SIGNATURE.to_owned(), response_signature),
    ];
    if let Some(content_type) = delivered.content_type {
        headers.push(("content-type".into(), content_type));
    }
    headers.extend(delivered.headers);
    Ok(Outgoing {
        status: delivered.status,
        headers,
        body: delivered.body,
    })
}
