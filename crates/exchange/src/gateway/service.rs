//! One exchange through the gateway, as X-Road's security servers do it between them, inside
//! one platform: authenticate the consumer, find the service and the grant, pass the call to
//! the provider, remove every item the grant does not cover, sign both sides, log the signed
//! pair, and answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Method};

use super::filter::{Filtered, filter};
use super::ids::{ClientId, ServiceId, safe_path, split_service};
use super::log::MessageRow;
use super::message::{
    EXCHANGE_KEY, ExchangeRecord, message_hash, request_bytes, request_head, response_bytes,
    response_head, sign,
};
pub(super) use super::parties::header as header_of;
pub use super::parties::{GatewayError, Incoming, Outgoing, client_of, consumer_of, provider_of};
use super::parties::{error, header, platform};
use super::providers::{self, Answer, Failure};
use crate::admin::store::Department;
use crate::catalogue::described::Endpoint;
use crate::catalogue::model::Resource;
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::state::AppState;

/// The grant and the parties behind a (consumer, resource) pair, cached per node.
pub struct Route {
    pub resource: Resource,
    pub provider: Department,
    pub consumer: Department,
    pub granted: Vec<String>,
    /// The grant's last day, `YYYY-MM-DD`.
    pub until: String,
    /// The endpoints of the external system's registered description, if it has one.
    pub endpoints: Option<Vec<Endpoint>>,
}

/// The route for a consumer and a resource code: from the cache, or loaded. `None`: no
/// grant is in force (nothing is cached then).
async fn route(
    state: &AppState,
    consumer: &Department,
    code: &str,
) -> AppResult<Option<Arc<crate::cache::Entry<Route>>>> {
    let key = format!("{}|{code}", consumer.id);
    let cache = state.module::<Arc<crate::cache::Coherent<Route>>>();
    cache
        .get_or_load(state.now(), &key, || async {
            let Some(resource) = crate::catalogue::store::resource(state.pool(), code).await?
            else {
                return Ok(None);
            };
            let Some(grant) =
                crate::catalogue::service::grant_in_force(state, &consumer.id, code).await?
            else {
                return Ok(None);
            };
            let Some(provider) =
                crate::admin::directory::department(state, &resource.department_id).await?
            else {
                return Ok(None);
            };
            let endpoints = crate::catalogue::described::endpoints(state, code).await?;
            Ok(Some(Route {
                resource,
                provider,
                consumer: consumer.clone(),
                granted: grant.0,
                until: grant.1,
                endpoints,
            }))
        })
        .await
}

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

/// Handles one call to `/r1/…`.
pub async fn exchange(state: &AppState, actor: Option<Actor>, incoming: Incoming) -> Outgoing {
    let started = Instant::now();
    let fallback_id = uuid::Uuid::new_v4().to_string();
    match run(state, actor, &incoming, started).await {
        Ok(out) => out,
        Err(failure) => gateway_error(&failure, &fallback_id, &[]),
    }
}

fn gateway_error(failure: &GatewayError, id: &str, extra: &[(String, String)]) -> Outgoing {
    let mut headers = vec![
        (
            "content-type".to_owned(),
            "application/problem+json".to_owned(),
        ),
        ("x-road-error".to_owned(), failure.kind.to_owned()),
    ];
    headers.extend_from_slice(extra);
    Outgoing {
        status: failure.status,
        headers,
        body: failure.body(id),
    }
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

async fn run(
    state: &AppState,
    actor: Option<Actor>,
    incoming: &Incoming,
    started: Instant,
) -> Result<Outgoing, GatewayError> {
    let client = client_of(&incoming.headers)?;
    let (service, path) =
        split_service(&incoming.rest).map_err(|why| error(400, "Client.BadRequest", why))?;
    if super::peers::is_peer_call(&incoming.headers) {
        return super::peers::serve(state, incoming, &client, &service, &path, started).await;
    }
    let actor = actor.ok_or_else(|| {
        error(
            401,
            "Client.Unauthenticated",
            "send the bearer token of an account of the calling department",
        )
    })?;
    let consumer = consumer_of(state, &actor, &client).await?;
    if super::metadata::is_metadata(&service.code) {
        return super::metadata::answer(state, &consumer, &service, incoming).await;
    }
    if crate::pubsub::api::is_pubsub(&service.code) {
        return pubsub(
            state, &actor, &consumer, &client, &service, &path, incoming, started,
        )
        .await;
    }
    if service.provider.instance == state.config.xroad_instance
        && super::parties::department(state, &service.provider.member)
            .await
            .map_err(platform)?
            .is_none()
        && let Some(member) = super::members::remote_member(state, &service.provider.member)
            .await
            .map_err(platform)?
    {
        return super::peers::forward(
            state, &consumer, &member, &client, &service, &path, incoming, started,
        )
        .await;
    }
    let provider = provider_of(state, &service.provider).await?;
    let (id, _claim) = message_id(state, &incoming.headers).await?;
    let requested_at = state.now();
    let client_text = client.to_string();
    let (_, request_hash) = hashed_request(incoming, &client_text);
    let exchange = Exchange {
        id,
        client: &client,
        service: &service,
        consumer_row: consumer.id.clone(),
        provider_row: provider.id.clone(),
        resource: &service.code,
        method: &incoming.method,
        request_hash,
        requested_at,
        request: Side::Key(consumer.id.clone()),
        started,
    };
    let route = route(state, &consumer, &service.code)
        .await
        .map_err(platform)?
        .filter(|r| {
            r.provider.id == provider.id && r.until >= tongban_core::zone::ymd(state.today())
        });
    let Some(route) = route else {
        // The attempt is signed and logged like any exchange.
        let refusal = error(
            403,
            "Client.AccessDenied",
            format!(
                "{consumer} holds no grant in force for {service}",
                consumer = consumer.name
            ),
        );
        return refuse(state, &exchange, &provider.id, refusal).await;
    };
    deliver(
        state,
        &exchange,
        &provider.id,
        &route.resource,
        &route.granted,
        route.endpoints.as_deref(),
        &actor,
        incoming,
        &path,
    )
    .await
}

/// A call to a room's publish/subscribe service. Everything but publishing itself (event
/// types, subscriptions, pulls and their confirmations) is an exchange like any other: signed
/// by the caller's and the room's departments and logged. Publications are numbered and kept
/// by the room as they are written, a few thousand to a transaction; signing and logging each
/// would bound publishing by the log (see docs/exchange.md).
#[allow(clippy::too_many_arguments)]
async fn pubsub(
    state: &AppState,
    actor: &Actor,
    consumer: &Department,
    client: &ClientId,
    service: &ServiceId,
    path: &str,
    incoming: &Incoming,
    started: Instant,
) -> Result<Outgoing, GatewayError> {
    let answer =
        || crate::pubsub::api::answer(state, actor.id(), consumer, client, service, path, incoming);
    if service.code == "pub" {
        return answer().await;
    }
    let Some(owner) = super::parties::department(state, &service.provider.member)
        .await
        .map_err(platform)?
    else {
        return answer().await;
    };
    let (id, _claim) = message_id(state, &incoming.headers).await?;
    let (_, request_hash) = hashed_request(incoming, &client.to_string());
    let exchange = Exchange {
        id,
        client,
        service,
        consumer_row: consumer.id.clone(),
        provider_row: owner.id.clone(),
        resource: &service.code,
        method: &incoming.method,
        request_hash,
        requested_at: state.now(),
        request: Side::Key(consumer.id.clone()),
        started,
    };
    let delivered = match answer().await {
        Ok(out) => {
            let mut content_type = None;
            let mut error = None;
            let mut headers = Vec::new();
            for (name, value) in out.headers {
                if name.eq_ignore_ascii_case("content-type") {
                    content_type = Some(value);
                } else {
                    if name.eq_ignore_ascii_case("x-road-error") {
                        error = Some(value.clone());
                    }
                    headers.push((name, value));
                }
            }
            Delivered {
                status: out.status,
                error,
                content_type,
                body: out.body,
                headers,
            }
        }
        Err(failure) => Delivered::failure(&failure, &exchange.id),
    };
    finish(state, &exchange, delivered, 0, Side::Key(owner.id.clone())).await
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
