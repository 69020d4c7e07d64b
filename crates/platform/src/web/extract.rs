//! Extractors that turn a request into typed input: the acting party, JSON and form bodies.
//! Every rejection is a clear 4xx: problem+json on the API, a readable page on pages.

use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use serde::de::DeserializeOwned;

use super::cookies::{self, tokens_match};
use super::pages::PageError;
use crate::error::AppError;
use crate::identity::model::{Actor, Credential};
use crate::identity::service;
use crate::state::AppState;

/// Header a script sends the session's CSRF token in, when it calls the API with the cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated caller of an API route: a bearer token, or the page session (then a
/// state-changing request must carry the session's CSRF token in `X-CSRF-Token`).
pub struct ApiActor(pub Actor);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or(AppError::Unauthenticated)?;
            return service::actor_from_token(state, token.trim())
                .await?
                .map(ApiActor)
                .ok_or(AppError::Unauthenticated);
        }
        let raw =
            cookies::get(&parts.headers, cookies::SESSION).ok_or(AppError::Unauthenticated)?;
        let actor = service::actor_from_session(state, &raw)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let Credential::Session { csrf_token } = &actor.credential else {
                return Err(AppError::Csrf);
            };
            if !tokens_match(sent, csrf_token) {
                return Err(AppError::Csrf);
            }
        }
        Ok(ApiActor(actor))
    }
}

/// The network address of the caller, as the listener saw it (`None` where the router runs
/// without a listener, as in some tests). A proxy in front is one address for all: throttles
/// keyed by it are then per proxy.
pub struct PeerAddress(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddress(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}

/// The request id set by the request-id layer, for audit records.
pub struct RequestId(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestId(
            parts
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ))
    }
}

/// A JSON body whose every rejection (syntax, unknown field, wrong type, wrong content type,
/// too large) becomes problem+json.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            AppError::UnsupportedMediaType("application/json")
        }
        JsonRejection::JsonDataError(error) => AppError::Invalid {
            field: "body",
            reason: error.body_text(),
        },
        JsonRejection::JsonSyntaxError(_) => {
            AppError::BadRequest("the body is not valid JSON".into())
        }
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        _ => AppError::BadRequest("the body could not be read".into()),
    }
}

/// A form body for pages; a rejection is a readable page.
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &S) -> Result<Self, PageError> {
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(value)) => Ok(PageForm(value)),
            Err(FormRejection::InvalidFormContentType(_)) => {
                Err(PageError::new(AppError::UnsupportedMediaType("a form")))
            }
            Err(other) if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(PageError::new(AppError::PayloadTooLarge))
            }
            Err(_) => Err(PageError::new(AppError::BadRequest(
                "the form is incomplete or malformed".into(),
            ))),
        }
    }
}

/// A page's query string, without the shell's `lang` and `large` (which every page accepts and
/// [`super::pages::PageCtx`] reads); a rejection is a readable page.
pub struct PageQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for PageQuery<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, PageError> {
        let query = super::pages::own_query(parts.uri.query()).unwrap_or_default();
        serde_urlencoded::from_str(&query)
            .map(PageQuery)
            .map_err(|error| {
                PageError::new(AppError::BadRequest(format!(
                    "the address's parameters are not understood ({error})"
                )))
            })
    }
}
