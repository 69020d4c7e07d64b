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
pub use super::parties::{GatewayError, Incoming, Outgoing, client_of, consumer_of, provider_of};
use super::parties::{error, header, platform};
use super::providers::{self, Answer, Failure};
use crate::admin::store::Department;
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
            Ok(Some(Route {
                resource,
                provider,
                consumer: consumer.clone(),
                granted: grant.0,
                until: grant.1,
            }))
        })
        .await
}

/// What the gateway learnt before it answered, for the log.
struct Exchange<'a> {
    id: String,
    client: &'a ClientId,
    service: &'a ServiceId,
    consumer: &'a Department,
    provider: &'a Department,
    resource: &'a str,
    method: &'a Method,
    request_hash: String,
    requested_at: i64,
    started: Instant,
}

/// The message ids consumers sent that this node is handling now: a second call with the
/// same id while the first is in flight is a replay, before either is in the log.
#[derive(Default)]
pub struct InFlight(std::sync::Mutex<std::collections::HashSet<String>>);

/// A consumer's message id held for the duration of its exchange.
struct Claim<'a> {
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
async fn message_id<'a>(
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

async fn run(
    state: &AppState,
    actor: Option<Actor>,
    incoming: &Incoming,
    started: Instant,
) -> Result<Outgoing, GatewayError> {
    let client = client_of(&incoming.headers)?;
    let (service, path) =
        split_service(&incoming.rest).map_err(|why| error(400, "Client.BadRequest", why))?;
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
        return crate::pubsub::api::answer(
            state,
            actor.id(),
            &consumer,
            &client,
            &service,
            &path,
            incoming,
        )
        .await;
    }
    let provider = provider_of(state, &service.provider).await?;
    let (id, _claim) = message_id(state, &incoming.headers).await?;
    let requested_at = state.now();
    let target = match &incoming.query {
        Some(query) => format!("/r1/{}?{query}", incoming.rest),
        None => format!("/r1/{}", incoming.rest),
    };
    let client_text = client.to_string();
    let mut travelling: Vec<(&str, &str)> = vec![("x-road-client", client_text.as_str())];
    for name in ["content-type", "accept"] {
        if let Some(value) = header(&incoming.headers, name) {
            travelling.push((name, value));
        }
    }
    let request_hash = message_hash(
        &request_head(incoming.method.as_str(), &target, &travelling),
        &incoming.body,
    );
    let exchange = Exchange {
        id,
        client: &client,
        service: &service,
        consumer: &consumer,
        provider: &provider,
        resource: &service.code,
        method: &incoming.method,
        request_hash,
        requested_at,
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
        return refuse(state, &exchange, refusal).await;
    };
    if !safe_path(&path) {
        let refusal = error(
            400,
            "Client.BadRequest",
            "the path may not hold dot segments, encoded separators or spaces",
        );
        return refuse(state, &exchange, refusal).await;
    }
    let Some(service_name) = route.resource.service.as_deref() else {
        let refusal = error(
            404,
            "Server.ServerProxy.UnknownService",
            "no system serves this resource through the gateway",
        );
        return refuse(state, &exchange, refusal).await;
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
    headers.push(("x-road-client".into(), client_text.clone()));
    headers.push(("x-road-service".into(), service.to_string()));
    headers.push(("x-road-id".into(), exchange.id.clone()));
    let call = providers::Call {
        state,
        actor: &actor,
        message_id: &exchange.id,
        method: &incoming.method,
        path: &path,
        query: incoming.query.as_deref(),
        headers,
        body: &incoming.body,
        granted: &route.granted,
        resource: &route.resource.code,
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
            return refuse(state, &exchange, refusal).await;
        }
        Err(Failure::Unreachable(why)) => {
            return refuse(
                state,
                &exchange,
                error(502, "Server.ServerProxy.ServiceFailed", why),
            )
            .await;
        }
        Err(Failure::Platform(failure)) => {
            return refuse(state, &exchange, platform(failure)).await;
        }
    };
    let all: Vec<String> = route
        .resource
        .items
        .iter()
        .map(|i| i.code.clone())
        .collect();
    let (body, removed) = match filter(
        answer.status,
        answer.content_type.as_deref(),
        &answer.body,
        &route.granted,
        &all,
    ) {
        Filtered::Body(body, removed) => (body, removed),
        Filtered::Unfilterable(why) => {
            let refusal = error(502, "Server.ServerProxy.UnfilterableResponse", why);
            return refuse(state, &exchange, refusal).await;
        }
    };
    let delivered = Answer { body, ..answer };
    finish(state, &exchange, Ok(delivered), removed).await
}

/// Logs a refusal after the consumer was authenticated, and answers it.
async fn refuse(
    state: &AppState,
    exchange: &Exchange<'_>,
    refusal: GatewayError,
) -> Result<Outgoing, GatewayError> {
    finish(state, exchange, Err(refusal), 0).await
}

/// Signs both sides, writes the record to the transparency log and its row to the index,
/// and only then answers. When logging fails nothing of the answer is released.
async fn finish(
    state: &AppState,
    exchange: &Exchange<'_>,
    outcome: Result<Answer, GatewayError>,
    removed: usize,
) -> Result<Outgoing, GatewayError> {
    let (status, error_kind, content_type, body) = match &outcome {
        Ok(answer) => (
            answer.status,
            None,
            answer.content_type.clone(),
            answer.body.clone(),
        ),
        Err(failure) => (
            failure.status,
            Some(failure.kind),
            Some("application/problem+json".to_owned()),
            failure.body(&exchange.id),
        ),
    };
    let response_hash = message_hash(&response_head(status, content_type.as_deref()), &body);
    let client = exchange.client.to_string();
    let service = exchange.service.to_string();
    let requested_at = crate::time_fmt::rfc3339(exchange.requested_at);
    let responded_at = crate::time_fmt::rfc3339(state.now());
    let consumer_key =
        crate::keys::service::cached_signer(state, &exchange.consumer.id, EXCHANGE_KEY)
            .await
            .map_err(platform)?;
    let provider_key =
        crate::keys::service::cached_signer(state, &exchange.provider.id, EXCHANGE_KEY)
            .await
            .map_err(platform)?;
    let (request_kid, request_signature) = sign(
        &*consumer_key,
        &request_bytes(
            &exchange.id,
            &client,
            &service,
            &exchange.request_hash,
            &requested_at,
        ),
    );
    let (response_kid, response_signature) = sign(
        &*provider_key,
        &response_bytes(
            &exchange.id,
            &exchange.request_hash,
            status,
            error_kind,
            &response_hash,
            &responded_at,
        ),
    );
    let record = ExchangeRecord {
        kind: "data_exchange".into(),
        id: exchange.id.clone(),
        client: client.clone(),
        service: service.clone(),
        request_hash: exchange.request_hash.clone(),
        requested_at,
        request_kid,
        request_signature,
        status,
        error: error_kind.map(str::to_owned),
        response_hash,
        responded_at,
        response_kid,
        response_signature,
    };
    let row = super::log::index_row(MessageRow {
        id: exchange.id.clone(),
        at: exchange.requested_at,
        client: client.clone(),
        service: service.clone(),
        resource_code: exchange.resource.to_owned(),
        consumer_department_id: exchange.consumer.id.clone(),
        provider_department_id: exchange.provider.id.clone(),
        method: exchange.method.as_str().to_owned(),
        status: i64::from(status),
        error_type: error_kind.map(str::to_owned),
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
    ];
    match outcome {
        Ok(answer) => {
            if let Some(content_type) = answer.content_type {
                headers.push(("content-type".into(), content_type));
            }
            headers.extend(answer.headers);
            Ok(Outgoing {
                status,
                headers,
                body,
            })
        }
        Err(failure) => Ok(gateway_error(&failure, &exchange.id, &headers)),
    }
}
