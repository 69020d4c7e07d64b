//! The HTTP edge: the routes every module brings, the middleware stack (request ids, security
//! headers, limits, timeouts, load shedding, metrics, problem details), health, metrics,
//! OpenAPI and the embedded static files.

mod admission;
pub mod cookies;
pub mod document;
mod error_answers;
pub mod extract;
pub mod i18n;
pub mod pages;
pub mod qr;
mod reference;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use crate::error::{AppError, PROBLEM_JSON, Problem};
use crate::module::Module;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "tongban API", description = "The tongban (通办) digital-government platform. Errors are RFC 9457 problem+json."),
    tags((name = "identity", description = "Login, the caller's account, audited reads of people"), (name = "admin", description = "The three administrators' work"), (name = "keys", description = "The signed trust list"), (name = "ledger", description = "The transparency log: checkpoints, proofs, entries"), (name = "health", description = "Health facts, status policies, the emergency mode"), (name = "pass", description = "The city pass: codes and checks")),
    components(schemas(Problem)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API routes of every module and the OpenAPI document generated from them.
fn api(modules: &[Box<dyn Module>]) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut openapi) = modules
        .iter()
        .fold(
            OpenApiRouter::with_openapi(ApiDoc::openapi()),
            |api, module| api.merge(module.api()),
        )
        .split_for_parts();
    error_answers::document(&mut openapi);
    (routes, openapi)
}

/// The OpenAPI 3.1 document of these modules, as served at `/api/openapi.json`.
pub fn openapi_document(modules: &[Box<dyn Module>]) -> utoipa::openapi::OpenApi {
    api(modules).1
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

async fn drop_client_request_id(mut request: axum::extract::Request) -> axum::extract::Request {
    request.headers_mut().remove("x-request-id");
    request
}

/// The whole application: every route and the middleware around them.
pub fn router(state: AppState) -> Router {
    let (api_routes, mut openapi) = api(crate::module::modules(&state));
    // The API is served where the pages are: one relative server for every deployment.
    openapi.servers = Some(vec![utoipa::openapi::Server::new("/")]);
    let openapi_json = serde_json::to_string(&openapi).unwrap_or_default();
    let config = state.config.clone();
    let reference = std::sync::Arc::new(reference::sections(
        &serde_json::to_value(&openapi).unwrap_or_default(),
        config.public_url.as_deref().unwrap_or("https://<host>"),
    ));

    let pages = crate::module::modules(&state)
        .iter()
        .fold(Router::new(), |pages, module| pages.merge(module.routes()));

    let operations = Router::new()
        .route(
            "/docs",
            get(move |ctx: pages::PageCtx| async move { reference::page(&reference, &ctx) }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/api/openapi.json",
            get(
                move || async move { ([(header::CONTENT_TYPE, "application/json")], openapi_json) },
            ),
        )
        .route(
            "/static/htmx.min.js",
            get(|| async { static_file("text/javascript", HTMX) }),
        )
        .route(
            "/static/app.css",
            get(|| async { static_file("text/css", APP_CSS) }),
        )
        .route(
            "/static/verify.js",
            get(|| async { static_file("text/javascript", VERIFY_JS) }),
        )
        .route(
            "/static/scan.js",
            get(|| async { static_file("text/javascript", SCAN_JS) }),
        )
        .route(
            "/static/jsQR.js",
            get(|| async { static_file("text/javascript", JSQR) }),
        )
        // Browsers ask for /favicon.ico whatever the page says; both answer the one icon.
        .route(
            "/favicon.svg",
            get(|| async { static_file("image/svg+xml", FAVICON) }),
        )
        .route(
            "/favicon.ico",
            get(|| async { static_file("image/svg+xml", FAVICON) }),
        );

    let admission = Arc::new(admission::Admission::new(
        config.max_concurrent_requests,
        config.max_concurrent_pass_requests,
        Duration::from_millis(config.pass_wait_ms),
    ));

    let app = Router::new()
        .merge(api_routes)
        .merge(pages)
        .merge(operations)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn_with_state(
            Arc::new(Deadlines {
                usual: Duration::from_secs(config.request_timeout_seconds),
                long: Duration::from_secs(config.long_request_seconds),
                long_requests: crate::module::modules(&state)
                    .iter()
                    .flat_map(|m| m.long_requests().iter().copied())
                    .collect(),
            }),
            deadline,
        ))
        .layer(middleware::from_fn_with_state(
            (admission, state.clone()),
            admission::shed_load,
        ))
        .layer(middleware::from_fn(problem_for_bare_errors))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::Internal(anyhow::anyhow!("a handler panicked")).into_response()
        }))
        .layer(PropagateRequestIdLayer::new(HeaderName::from_static(
            "x-request-id",
        )))
        .layer(SetRequestIdLayer::new(
            HeaderName::from_static("x-request-id"),
            MakeRequestUuid,
        ))
        // The id goes into access records and the permanent log: it is always the server's
        // own, never one a client chose (which could plant text there or link requests).
        .layer(middleware::map_request(drop_client_request_id))
        .with_state(state);
    SECURITY_HEADERS
        .into_iter()
        .fold(app, |app, (name, value)| {
            app.layer(SetResponseHeaderLayer::if_not_present(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            ))
        })
}

/// How long requests may take: the usual limit, and the longer one for the requests modules
/// declare long.
struct Deadlines {
    usual: Duration,
    long: Duration,
    long_requests: Vec<crate::module::LongRequest>,
}

/// Answers 503 to a request not answered within its deadline (the work is dropped with it).
async fn deadline(
    State(deadlines): State<Arc<Deadlines>>,
    request: Request,
    next: Next,
) -> Response {
    let long = deadlines
        .long_requests
        .iter()
        .any(|l| l.matches(request.method().as_str(), request.uri().path()));
    let limit = if long {
        deadlines.long
    } else {
        deadlines.usual
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        AppError::NotFound.into_response()
    } else {
        pages::error_page(StatusCode::NOT_FOUND, "not-found", None, None, false)
    }
}

/// Headers set on every response that did not set its own.
const SECURITY_HEADERS: [(&str, &str); 7] = [
    ("content-security-policy", CSP),
    // Browsers keep to HTTPS for a year once they have seen the site over it (they ignore
    // the header on plain HTTP, as on a development machine).
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cache-control", "no-store"),
];

const HTMX: &[u8] = include_bytes!("../../static/htmx.min.js");
const APP_CSS: &[u8] = include_bytes!("../../static/app.css");
const VERIFY_JS: &[u8] = include_bytes!("../../static/verify.js");
const SCAN_JS: &[u8] = include_bytes!("../../static/scan.js");
const JSQR: &[u8] = include_bytes!("../../static/jsQR.js");
const FAVICON: &[u8] = include_bytes!("../../static/favicon.svg");

fn static_file(content_type: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => "ready".into_response(),
        Err(error) => {
            tracing::warn!(%error, "database not reachable");
            AppError::Unavailable.into_response()
        }
    }
}

/// Whether `/metrics` may answer: with a configured token, to a caller that sends it; without
/// one, to a caller on this machine only. The figures describe the node's load and the
/// platform's activity, which is not for the public.
pub fn metrics_allowed(
    token: Option<&str>,
    peer: Option<std::net::SocketAddr>,
    authorization: Option<&str>,
) -> bool {
    match token {
        Some(token) => authorization
            .and_then(|value| value.strip_prefix("Bearer "))
            .is_some_and(|sent| cookies::tokens_match(sent, token)),
        None => peer.is_some_and(|peer| peer.ip().is_loopback()),
    }
}

async fn metrics(State(state): State<AppState>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0);
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let token = state.config.metrics_token.as_ref().map(|t| t.0.as_str());
    if !metrics_allowed(token, peer, authorization) {
        return AppError::NotFound.into_response();
    }
    let (size, idle) = state.db.pool_state();
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(size, idle, &state.cache.stats()),
    )
        .into_response()
}

/// Counts every request and its latency by matched route (never by raw path, so ids in paths
/// do not explode the label space), and logs it without query strings.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64();
    state
        .metrics
        .observe(&method, &route, response.status().as_u16(), elapsed);
    let region = state.config.region_code.as_str();
    crate::figures::count(&state, crate::figures::REQUESTS, region);
    if response.status().is_server_error() {
        crate::figures::count(&state, crate::figures::ERRORS, region);
    }
    tracing::info!(%method, %route, status = response.status().as_u16(), ms = elapsed * 1000.0, "request");
    response
}

/// Error answers made below the handlers (unknown method, path or query rejections, timeouts,
/// load shedding) come without a body or as plain text; give them problem+json on the API and
/// a readable page elsewhere.
/// The page a form's address belongs to: the address without its last segment, with the
/// query kept (`/wallet/x/show?lang=en` → `/wallet/x?lang=en`).
fn page_above(uri: &axum::http::Uri) -> String {
    let path = uri.path().trim_end_matches('/');
    let parent = match path.rfind('/') {
        Some(0) | None => "/",
        Some(at) => &path[..at],
    };
    match uri.query() {
        Some(query) => format!("{parent}?{query}"),
        None => parent.to_owned(),
    }
}

async fn problem_for_bare_errors(request: Request, next: Next) -> Response {
    // The API, and the building-block interfaces beside it (GovStack under `/govstack/`,
    // Digital Registries under `/data/`, the exchange gateway under `/r1/`, ODK Central's and
    // OpenRosa's addresses under `/v1/`).
    let is_api = ["/api/", "/govstack/", "/data/", "/r1/", "/v1/"]
        .iter()
        .any(|prefix| request.uri().path().starts_with(prefix));
    let reading = matches!(*request.method(), Method::GET | Method::HEAD);
    let uri = request.uri().clone();
    let response = next.run(request).await;
    let status = response.status();
    // A page that answers a form (亮证, a decision, a search of the log …) has no address of its
    // own to read again: reloading it, or its language switch, goes to the page it belongs to.
    if status == StatusCode::METHOD_NOT_ALLOWED && reading && !is_api {
        return Redirect::to(&page_above(&uri)).into_response();
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // A handler's own JSON error (the Digital Registries' documented `{"detail": …}`) is
    // described already; and what the data-sharing gateway answers (it names the message) is
    // signed and logged exactly as sent, whatever the provider's content type; an OpenRosa
    // answer is read by ODK Collect as it is.
    let media = content_type.split(';').next().unwrap_or_default().trim();
    let already_described = content_type.starts_with(PROBLEM_JSON)
        || content_type.starts_with("text/html")
        || media == "application/json"
        || media.ends_with("+json")
        || response.headers().contains_key("x-road-id")
        // OpenRosa answers (一表通's collectors) carry their message in the protocol's XML.
        || response.headers().contains_key("x-openrosa-version")
        || response.headers().contains_key("x-road-error");
    if !(status.is_client_error() || status.is_server_error()) || already_described {
        return response;
    }
    let detail = if content_type.starts_with("text/plain") {
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap_or_default();
        Some(
            String::from_utf8_lossy(&bytes)
                .chars()
                .take(300)
                .collect::<String>(),
        )
    } else {
        None
    };
    let slug = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::PAYLOAD_TOO_LARGE => "payload-too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        status if status.is_server_error() => "internal",
        _ => "bad-request",
    };
    let detail = if status.is_server_error() {
        None
    } else {
        detail
    };
    if is_api {
        Problem::new(status, slug, detail).into_response_with(status)
    } else {
        pages::error_page(status, slug, detail, None, false)
    }
}
