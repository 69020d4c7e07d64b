//! The error boundary: every failure a client can see is one `AppError`, answered as RFC 9457
//! problem+json with a stable `type`. Internal detail is logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::db::DbError;

/// Media type of RFC 9457 problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    /// A field failed to parse: which field and why (safe to show).
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("authentication required")]
    Unauthenticated,
    #[error(
        "the username, password or one-time code is not correct, or the account is locked for a while after repeated failures"
    )]
    InvalidCredentials,
    #[error("too many failed attempts; try again later")]
    LockedOut { retry_after_seconds: i64 },
    /// A step that needs the password (and one-time code) again was not confirmed.
    #[error("confirm with your password (and one-time code) to do this")]
    Reauthenticate,
    #[error("you are not allowed to do this")]
    Forbidden,
    /// Refused for want of someone else's consent; the message says whose and what next.
    #[error("{0}")]
    NotAuthorised(String),
    #[error("the form has expired or did not come from this site; reload the page and try again")]
    Csrf,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("the request body must be {0}")]
    UnsupportedMediaType(&'static str),
    #[error("the service is temporarily unavailable")]
    Unavailable,
    /// A transaction lost a race (serialization failure, deadlock, busy database); the whole
    /// use-case may be retried. Answered as 503 with `Retry-After` when retries run out.
    #[error("the service is busy; try again")]
    Contention,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    pub fn invalid(field: &'static str, reason: impl ToString) -> AppError {
        AppError::Invalid {
            field,
            reason: reason.to_string(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthenticated | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            AppError::LockedOut { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Forbidden
            | AppError::Csrf
            | AppError::NotAuthorised(_)
            | AppError::Reauthenticate => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unavailable | AppError::Contention => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable problem type slug; the full `type` is `/problems/<slug>`.
    pub fn slug(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad-request",
            AppError::Invalid { .. } => "invalid-field",
            AppError::Unauthenticated => "unauthenticated",
            AppError::InvalidCredentials => "invalid-credentials",
            AppError::LockedOut { .. } => "locked-out",
            AppError::Reauthenticate => "reauthenticate",
            AppError::Forbidden => "forbidden",
            AppError::NotAuthorised(_) => "not-authorised",
            AppError::Csrf => "csrf",
            AppError::NotFound => "not-found",
            AppError::Conflict(_) => "conflict",
            AppError::PayloadTooLarge => "payload-too-large",
            AppError::UnsupportedMediaType(_) => "unsupported-media-type",
            AppError::Unavailable | AppError::Contention => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }
}

impl From<DbError> for AppError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Sqlx(error) => error.into(),
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            error if crate::db::is_unavailable(error) => {
                tracing::warn!(%error, "the database cannot serve now: answering 503");
                AppError::Unavailable
            }
            error if crate::db::is_retryable(error) => AppError::Contention,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                AppError::Conflict("a record with the same key exists already".into())
            }
            _ => AppError::Internal(error.into()),
        }
    }
}

/// RFC 9457 problem details.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, detail: Option<String>) -> Problem {
        Problem {
            problem_type: format!("/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            field: None,
        }
    }

    pub fn into_response_with(self, status: StatusCode) -> Response {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let AppError::Internal(source) = &self {
            tracing::error!(error = %source, "internal error");
        }
        let detail = match &self {
            AppError::Internal(_) => None,
            other => Some(other.to_string()),
        };
        let mut problem = Problem::new(status, self.slug(), detail);
        if let AppError::Invalid { field, .. } = &self {
            problem.field = Some(field);
        }
        let mut response = problem.into_response_with(status);
        if let AppError::LockedOut {
            retry_after_seconds,
        } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_seconds.max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Runs a use-case's transaction again when it lost a race ([`AppError::Contention`]), up to
/// three attempts with a short growing pause; any other outcome is returned as it is.
pub async fn retrying<T, F, Fut>(mut attempt: F) -> AppResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = AppResult<T>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt().await {
            Err(AppError::Contention) if tries < 3 => {
                tokio::time::sleep(std::time::Duration::from_millis(10 * tries)).await
            }
            outcome => return outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn contention_is_retried_and_other_errors_are_not() {
        let mut calls = 0;
        let outcome = retrying(|| {
            calls += 1;
            let result = if calls < 3 {
                Err(AppError::Contention)
            } else {
                Ok(calls)
            };
            async move { result }
        })
        .await;
        assert_eq!(outcome.ok(), Some(3));
        let mut calls = 0;
        let outcome: AppResult<()> = retrying(|| {
            calls += 1;
            async { Err(AppError::Forbidden) }
        })
        .await;
        assert!(matches!(outcome, Err(AppError::Forbidden)));
        assert_eq!(calls, 1);
    }
}
