//! Exchange between regions (跨区域), as X-Road's security servers do it between members of a
//! federation: the consumer's gateway signs the request with the consumer department's key
//! and sends it to the provider region's gateway; that gateway checks the signature against
//! the consumer region's trust list, checks the grant it gave, calls the provider, signs the
//! answer with the provider department's key and logs the signed pair; the consumer's gateway
//! checks that signature against the provider region's trust list and logs the same pair.
//! Either side's receipt proves the exchange under the two trust lists.
//!
//! The signatures travel in headers beside the X-Road ones: `X-Tongban-Requested-At`,
//! `X-Tongban-Request-Kid` and `X-Tongban-Request-Signature` with the request, and the
//! `X-Tongban-Respon…` three with the answer. A request is fresh for five minutes, and its
//! message id is taken once.

use std::time::{Duration, Instant};

use axum::http::HeaderMap;

use super::ids::{ClientId, ServiceId, safe_path};
use super::members::RemoteMember;
use super::message::{
    EXCHANGE_KEY, message_hash, request_bytes, response_bytes, response_head, sign,
};
use super::parties::{GatewayError, Incoming, Outgoing, error, platform, provider_of};
use super::providers::{Answer, Failure, HttpProviders, read_answer};
use super::signed::{
    Delivered, Exchange, RESPONDED_AT, RESPONSE_KID, RESPONSE_SIGNATURE, Side, deliver, finish,
    hashed_request, header_of, message_id, refuse,
};
use crate::admin::store::Department;
use crate::identity::model::{Account, AccountKind, Actor, Credential, Language};
use crate::state::AppState;

pub const REQUESTED_AT: &str = "x-tongban-requested-at";
pub const REQUEST_KID: &str = "x-tongban-request-kid";
pub const REQUEST_SIGNATURE: &str = "x-tongban-request-signature";

/// How far a request's signing time may lie from the provider gateway's clock.
const FRESH_MS: i64 = 5 * 60 * 1000;

/// Whether a call comes from another region's gateway (it carries the consumer's signature).
pub fn is_peer_call(headers: &HeaderMap) -> bool {
    headers.contains_key(REQUEST_SIGNATURE)
}

/// How the index and the accessor name a department of another region.
fn peer_name(region: &str, uscc: &str) -> String {
    format!("peer/{region}/{uscc}")
}

fn invalid(message: impl Into<String>) -> GatewayError {
    error(403, "Client.InvalidSignature", message)
}

/// The provider's side: a call another region's gateway sent for one of its departments.
pub async fn serve(
    state: &AppState,
    incoming: &Incoming,
    client: &ClientId,
    service: &ServiceId,
    path: &str,
    started: Instant,
) -> Result<Outgoing, GatewayError> {
    let provider = provider_of(state, &service.provider).await?;
    let not_member = || {
        error(
            403,
            "Client.NotAuthorised",
            format!("{client} is not a department of a region recognised here"),
        )
    };
    if client.instance != state.config.xroad_instance || client.class != "GOV" {
        return Err(not_member());
    }
    let member = super::members::remote_member(state, &client.member)
        .await
        .map_err(platform)?
        .ok_or_else(not_member)?;
    let signed = |name: &str| {
        header_of(&incoming.headers, name)
            .map(str::to_owned)
            .ok_or_else(|| invalid(format!("the {name} header is required")))
    };
    let (at, kid, signature) = (
        signed(REQUESTED_AT)?,
        signed(REQUEST_KID)?,
        signed(REQUEST_SIGNATURE)?,
    );
    let requested_at = crate::time_fmt::parse_millis(&at)
        .ok_or_else(|| invalid("the signing time is not an RFC 3339 time"))?;
    if (state.now() - requested_at).abs() > FRESH_MS {
        return Err(invalid(
            "the request was signed more than five minutes from now",
        ));
    }
    if header_of(&incoming.headers, "x-road-id").is_none() {
        return Err(invalid("a signed request carries its X-Road-Id"));
    }
    let client_text = client.to_string();
    let (_, request_hash) = hashed_request(incoming, &client_text);
    let key = member
        .key(&kid, &at)
        .ok_or_else(|| invalid(format!("the key {kid} is not {client}'s in force")))?;
    let public = key
        .public_key()
        .ok_or_else(|| invalid(format!("the key {kid} does not parse")))?;
    let signature_bytes = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&signature)
            .map_err(|_| invalid("the signature is not base64url"))?
    };
    let (id, _claim) = message_id(state, &incoming.headers).await?;
    let bytes = request_bytes(&id, &client_text, &service.to_string(), &request_hash, &at);
    tongban_crypto::verify(&public, &bytes, &signature_bytes)
        .map_err(|_| invalid("the request's signature does not verify"))?;
    let exchange = Exchange {
        id,
        client,
        service,
        consumer_row: peer_name(&member.region, &client.member),
        provider_row: provider.id.clone(),
        resource: &service.code,
        method: &incoming.method,
        request_hash,
        requested_at,
        request: Side::Signed { kid, signature, at },
        started,
    };
    let served = served(state, &member.region, &client.member, &service.code)
        .await
        .map_err(platform)?;
    let grant = served
        .as_ref()
        .and_then(|s| crate::catalogue::foreign::in_force(state, &s.grants));
    let served = served.filter(|s| s.resource.department_id == provider.id);
    let (Some((granted, name)), Some(served)) = (grant, served) else {
        let refusal = error(
            403,
            "Client.AccessDenied",
            format!("{client} holds no grant in force for {service}"),
        );
        return refuse(state, &exchange, &provider.id, refusal).await;
    };
    let Ok(home_region) = member.region.parse() else {
        return Err(not_member());
    };
    let actor = foreign_actor(home_region, &member.region, &client.member, &name);
    deliver(
        state,
        &exchange,
        &provider.id,
        &served.resource,
        &granted,
        served.endpoints.as_deref(),
        &actor,
        incoming,
        path,
    )
    .await
}

/// A resource as the provider's side serves it to one member of another region: the resource,
/// its registered endpoints, and the grants not revoked to that member (whether one is in
/// force today is decided at each call).
pub struct Served {
    resource: crate::catalogue::model::Resource,
    endpoints: Option<Vec<crate::catalogue::described::Endpoint>>,
    grants: Vec<crate::catalogue::store::ForeignGrantRow>,
}

/// What [`Served`] holds for a member and a resource code, from the node's cache (scope
/// [`crate::catalogue::CHANGES`]: a change of the resource, its description or a grant to
/// another region evicts it on every node) or else read; `None` when there is no such
/// resource (nothing is cached then).
async fn served(
    state: &AppState,
    region: &str,
    uscc: &str,
    code: &str,
) -> crate::error::AppResult<Option<std::sync::Arc<crate::cache::Entry<Served>>>> {
    let key = format!("{region}|{uscc}|{code}");
    let cache = state.module::<std::sync::Arc<crate::cache::Coherent<Served>>>();
    cache
        .get_or_load(state.now(), &key, || async {
            let Some(resource) = crate::catalogue::store::resource(state.pool(), code).await?
            else {
                return Ok(None);
            };
            Ok(Some(Served {
                endpoints: crate::catalogue::described::endpoints(state, code).await?,
                grants: crate::catalogue::foreign::unrevoked(state, region, uscc, code).await?,
                resource,
            }))
        })
        .await
}

/// The party the provider's side acts for when a department of another region reads: it
/// holds no role here, and the personal-data accessor records it by its region and USCC.
fn foreign_actor(
    home_region: tongban_core::RegionCode,
    region: &str,
    uscc: &str,
    name: &str,
) -> Actor {
    let id = peer_name(region, uscc);
    Actor {
        account: Account {
            id: id.clone(),
            username: id.clone(),
            display_name: name.to_owned(),
            kind: AccountKind::Staff,
            home_region: home_region.clone(),
            department_id: Some(id.clone()),
            person_id: None,
            enterprise_id: None,
            language: Language::Zh,
            large_text: false,
            disabled: false,
            totp_enabled: false,
        },
        grants: Vec::new(),
        department_region: Some(home_region),
        credential: Credential::Token { token_id: id },
    }
}

/// The consumer's side: a department of this region calls a member of another.
#[allow(clippy::too_many_arguments)]
pub async fn forward(
    state: &AppState,
    consumer: &Department,
    member: &RemoteMember,
    client: &ClientId,
    service: &ServiceId,
    path: &str,
    incoming: &Incoming,
    started: Instant,
) -> Result<Outgoing, GatewayError> {
    if !safe_path(path) {
        return Err(error(
            400,
            "Client.BadRequest",
            "the path may not hold dot segments, encoded separators or spaces",
        ));
    }
    let client_text = client.to_string();
    let (target, request_hash) = hashed_request(incoming, &client_text);
    let url = member.gateway.as_deref().and_then(|base| {
        let url = reqwest::Url::parse(&format!("{}{target}", base.trim_end_matches('/'))).ok()?;
        // The URL must carry the target exactly as hashed.
        let carried = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        (carried == target).then_some(url)
    });
    let (id, _claim) = message_id(state, &incoming.headers).await?;
    let requested_at = state.now();
    let at = crate::time_fmt::rfc3339(requested_at);
    let key = crate::keys::service::cached_signer(state, &consumer.id, EXCHANGE_KEY)
        .await
        .map_err(platform)?;
    let (kid, signature) = sign(
        &*key,
        &request_bytes(&id, &client_text, &service.to_string(), &request_hash, &at),
    );
    let exchange = Exchange {
        id,
        client,
        service,
        consumer_row: consumer.id.clone(),
        provider_row: peer_name(&member.region, &service.provider.member),
        resource: &service.code,
        method: &incoming.method,
        request_hash,
        requested_at,
        request: Side::Signed {
            kid: kid.clone(),
            signature: signature.clone(),
            at: at.clone(),
        },
        started,
    };
    // What this side answers itself is signed by the consumer's key: the provider's never
    // spoke. Its X-Road type says so (`Server.ClientProxy.…`).
    let here = |refusal: GatewayError| {
        let delivered = Delivered::failure(&refusal, &exchange.id);
        finish(
            state,
            &exchange,
            delivered,
            0,
            Side::Key(consumer.id.clone()),
        )
    };
    let Some(url) = url else {
        return here(error(
            502,
            "Server.ClientProxy.NetworkError",
            format!(
                "region {} publishes no gateway this path can reach",
                member.region
            ),
        ))
        .await;
    };
    let mut request = state
        .module::<HttpProviders>()
        .client
        .request(incoming.method.clone(), url)
        .timeout(Duration::from_millis(
            state.config.exchange_timeout_ms.max(1),
        ))
        .header("x-road-client", client_text.as_str())
        .header("x-road-id", exchange.id.as_str())
        .header(REQUESTED_AT, at.as_str())
        .header(REQUEST_KID, kid.as_str())
        .header(REQUEST_SIGNATURE, signature.as_str())
        .body(incoming.body.clone());
    for name in ["content-type", "accept"] {
        if let Some(value) = header_of(&incoming.headers, name) {
            request = request.header(name, value);
        }
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(failure) if failure.is_timeout() => {
            return here(error(
                504,
                "Server.ClientProxy.ServiceTimeout",
                format!("region {}'s gateway did not answer in time", member.region),
            ))
            .await;
        }
        Err(_) => {
            return here(error(
                502,
                "Server.ClientProxy.NetworkError",
                format!("region {}'s gateway could not be reached", member.region),
            ))
            .await;
        }
    };
    let heard = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (echoed, response_kid, response_signature, responded_at, kind) = (
        heard("x-road-request-hash"),
        heard(RESPONSE_KID),
        heard(RESPONSE_SIGNATURE),
        heard(RESPONDED_AT),
        heard("x-road-error"),
    );
    let answer = match read_answer(response).await {
        Ok(answer) => answer,
        Err(Failure::Timeout) => {
            return here(error(
                504,
                "Server.ClientProxy.ServiceTimeout",
                format!("region {}'s gateway did not answer in time", member.region),
            ))
            .await;
        }
        Err(Failure::Unreachable(why)) => {
            return here(error(502, "Server.ClientProxy.NetworkError", why)).await;
        }
        Err(Failure::Platform(failure)) => return Err(platform(failure)),
    };
    let checked = check_answer(
        member,
        &service.provider.member,
        &exchange,
        &answer,
        kind.as_deref(),
        echoed.as_deref(),
        (response_kid, response_signature, responded_at),
    );
    let (response_kid, response_signature, responded_at) = match checked {
        Ok(signed) => signed,
        Err(why) => {
            // The other gateway refuses calls it cannot authenticate without signing (it does
            // not log them either); say what it said, as its unsigned word.
            let why = match &kind {
                Some(kind) if echoed.is_none() => {
                    let detail = serde_json::from_slice::<serde_json::Value>(&answer.body)
                        .ok()
                        .and_then(|v| v["detail"].as_str().map(str::to_owned))
                        .unwrap_or_default();
                    format!(
                        "region {}'s gateway refused without signing: {} {kind}: {detail}",
                        member.region, answer.status
                    )
                }
                _ => why,
            };
            return here(error(502, "Server.ClientProxy.InvalidSignature", why)).await;
        }
    };
    let mut headers = answer.headers;
    if let Some(kind) = &kind {
        headers.push(("x-road-error".to_owned(), kind.clone()));
    }
    let delivered = Delivered {
        status: answer.status,
        error: kind,
        content_type: answer.content_type,
        body: answer.body,
        headers,
    };
    finish(
        state,
        &exchange,
        delivered,
        0,
        Side::Signed {
            kid: response_kid,
            signature: response_signature,
            at: responded_at,
        },
    )
    .await
}

/// A module of this platform calls a member of another region in the name of one of this
/// region's departments (the department's own system, not an account): the same signed,
/// logged exchange as [`forward`] makes for a department's client. `target` is the path after
/// the service code, `subsystem` the calling system's name in the `X-Road-Client` header,
/// `content_type` the body's (JSON unless `Some`).
#[allow(clippy::too_many_arguments)]
pub async fn send(
    state: &AppState,
    consumer: &Department,
    subsystem: &str,
    provider: &str,
    code: &str,
    method: axum::http::Method,
    target: &str,
    body: Vec<u8>,
    content_type: Option<&'static str>,
) -> Result<Outgoing, GatewayError> {
    let started = Instant::now();
    let instance = &state.config.xroad_instance;
    let uscc = consumer.uscc.as_deref().ok_or_else(|| {
        error(
            403,
            "Client.NotAuthorised",
            "a department calls across regions under its USCC",
        )
    })?;
    let client_text = format!("{instance}/GOV/{uscc}/{subsystem}");
    let client = super::ids::parse_client(&client_text)
        .map_err(|why| error(400, "Client.BadRequest", why))?;
    let rest = format!(
        "{instance}/GOV/{provider}/{}/{code}{target}",
        super::ids::DATA_SUBSYSTEM
    );
    let (service, path) =
        super::ids::split_service(&rest).map_err(|why| error(400, "Client.BadRequest", why))?;
    let member = super::members::remote_member(state, provider)
        .await
        .map_err(platform)?
        .ok_or_else(|| {
            error(
                404,
                "Server.ClientProxy.UnknownMember",
                format!("no recognised region lists {provider}"),
            )
        })?;
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("content-type", content_type.unwrap_or("application/json")),
        ("accept", "application/json"),
    ] {
        headers.insert(name, axum::http::HeaderValue::from_static(value));
    }
    let incoming = Incoming {
        method,
        rest,
        query: None,
        headers,
        body: body.into(),
    };
    forward(
        state, consumer, &member, &client, &service, &path, &incoming, started,
    )
    .await
}

/// Checks the other region's answer: bound to this request, signed by the provider's key
/// that its region's trust list lists. Returns the signature's key id, signature and time.
fn check_answer(
    member: &RemoteMember,
    provider: &str,
    exchange: &Exchange<'_>,
    answer: &Answer,
    kind: Option<&str>,
    echoed: Option<&str>,
    signed: (Option<String>, Option<String>, Option<String>),
) -> Result<(String, String, String), String> {
    if echoed != Some(exchange.request_hash.as_str()) {
        return Err(format!(
            "the answer of {provider} is not bound to this request"
        ));
    }
    let (Some(kid), Some(signature), Some(at)) = signed else {
        return Err(format!("the answer of {provider} is not signed"));
    };
    let key = member
        .key(&kid, &at)
        .ok_or_else(|| format!("the key {kid} is not {provider}'s in force"))?;
    let public = key
        .public_key()
        .ok_or_else(|| format!("the key {kid} does not parse"))?;
    let bytes = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&signature)
            .map_err(|_| "the answer's signature is not base64url".to_owned())?
    };
    let hash = message_hash(
        &response_head(answer.status, answer.content_type.as_deref()),
        &answer.body,
    );
    let signed_bytes = response_bytes(
        &exchange.id,
        &exchange.request_hash,
        answer.status,
        kind,
        &hash,
        &at,
    );
    tongban_crypto::verify(&public, &signed_bytes, &bytes)
        .map_err(|_| format!("the answer of {provider} does not verify"))?;
    Ok((kid, signature, at))
}
