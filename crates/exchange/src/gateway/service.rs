//! One exchange through the gateway, as X-Road's security servers do it between them, inside
//! one platform: authenticate the consumer, find the service and the grant, pass the call to
//! the provider, remove every item the grant does not cover, sign both sides, log the signed
//! pair, and answer.

use std::sync::Arc;
use std::time::Instant;

use super::ids::{ClientId, ServiceId, split_service};
pub use super::parties::{GatewayError, Incoming, Outgoing, client_of, consumer_of, provider_of};
use super::parties::{error, platform};
pub use super::signed::InFlight;
use super::signed::{
    Delivered, Exchange, Side, deliver, finish, hashed_request, message_id, refuse,
};
use crate::admin::store::Department;
use crate::catalogue::described::Endpoint;
use crate::catalogue::model::Resource;
use crate::error::AppResult;
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

/// Handles one call to `/r1/…`.
pub async fn exchange(state: &AppState, actor: Option<Actor>, incoming: Incoming) -> Outgoing {
    let started = Instant::now();
    let fallback_id = uuid::Uuid::new_v4().to_string();
    let out = match run(state, actor, &incoming, started).await {
        Ok(out) => out,
        Err(failure) => gateway_error(&failure, &fallback_id, &[]),
    };
    let region = state.config.region_code.as_str();
    tongban_platform::figures::count(state, CALLS, region);
    if out.status >= 400 {
        tongban_platform::figures::count(state, FAILED, region);
    }
    out
}

/// The exchange's figures for the operations view (by the deployment's region).
const CALLS: &str = "exchange.calls";
const FAILED: &str = "exchange.failed";

/// The figures of the exchange, as the module declares them.
pub const FIGURES: &[tongban_platform::figures::Figure] = &[
    tongban_platform::figures::Figure {
        key: CALLS,
        group: "exchange",
        zh: "数据共享交换调用",
        en: "Data exchange calls",
        about_persons: false,
        by: Some(tongban_platform::figures::PartKind::Resource),
    },
    tongban_platform::figures::Figure {
        key: FAILED,
        group: "exchange",
        zh: "交换失败或被拒",
        en: "Exchange calls failed or refused",
        about_persons: false,
        by: Some(tongban_platform::figures::PartKind::Resource),
    },
];

const GRANTS_PENDING: &str = "exchange.grants_pending";

/// What the exchange measures: requests for data waiting for the holder's decision.
pub const LEVELS: &[tongban_platform::figures::Figure] = &[tongban_platform::figures::Figure {
    key: GRANTS_PENDING,
    group: "exchange",
    zh: "待审批共享申请",
    en: "Sharing requests awaiting decision",
    about_persons: false,
    by: None,
}];

/// The exchange's rates.
pub const RATES: &[tongban_platform::figures::Rate] = &[tongban_platform::figures::Rate {
    key: "exchange.failure_rate",
    group: "exchange",
    zh: "交换失败率",
    en: "Exchange failure rate",
    of: FAILED,
    per: CALLS,
}];

/// Measures the pending requests, by the holding department's region.
pub async fn measure(state: &AppState) -> AppResult<Vec<tongban_platform::figures::Measured>> {
    Ok(crate::catalogue::store::pending_by_region(state.pool())
        .await?
        .into_iter()
        .map(|(region, value)| tongban_platform::figures::Measured {
            figure: GRANTS_PENDING,
            region,
            part: None,
            value,
        })
        .collect())
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
    let out = deliver(
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
    .await;
    // By resource, the calls that reached one in the catalogue (a call refused before — no
    // grant, a bad address — counts for the region only).
    let region = state.config.region_code.as_str();
    let code = route.resource.code.as_str();
    tongban_platform::figures::count_part(state, CALLS, region, code);
    if out.as_ref().map_or(true, |o| o.status >= 400) {
        tongban_platform::figures::count_part(state, FAILED, region, code);
    }
    out
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
