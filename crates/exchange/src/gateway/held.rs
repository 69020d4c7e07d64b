//! Providers of what the platform's other modules hold: the certificate library (电子证照库),
//! whose certificates a department obtains through the gateway only by authorised use (the
//! holder's consent, or the service item's legal basis, as `tongban-certificates` decides and
//! records in the holder's usage record); and the applications of the providing department's
//! region (办件库), of which other departments read the state and dates, never the applicant
//! nor the form.

use axum::http::Method;
use serde_json::json;

use super::calls::{Answer, Call, json_answer, problem};
use crate::error::{AppError, AppResult};

/// `POST /certificates/use` with a use request (`holder`, `type_code`, `service_code`,
/// `cause`, `copy_days`): the signed annotated copy (加注件), or why not. The certificate
/// module checks the consent or legal basis, the caller's role and region, and records the
/// use or the refused attempt.
pub async fn certificates(call: &Call<'_>) -> AppResult<Answer> {
    if call.path != "/certificates/use" {
        return Ok(problem(
            404,
            "Not Found",
            "the library answers /certificates/use",
        ));
    }
    if call.method != Method::POST {
        return Ok(problem(
            405,
            "Method Not Allowed",
            "a use is asked with POST",
        ));
    }
    if call.actor.clerk_department().is_none() {
        // Authorised use is a clerk's act for a service item of this region (a department of
        // another region uses its own region's library).
        return Ok(problem(
            403,
            "Forbidden",
            "certificates are used by the clerks of this region's departments",
        ));
    }
    let Ok(request) =
        serde_json::from_slice::<tongban_certificates::certs::usage::UseRequest>(call.body)
    else {
        return Ok(problem(
            400,
            "Bad Request",
            "the body is a use request: holder, type_code, service_code, cause",
        ));
    };
    match tongban_certificates::certs::usage::obtain(call.state, call.actor, &request).await {
        Ok(copy) => Ok(json_answer(
            200,
            &serde_json::to_value(&copy).map_err(|e| AppError::Internal(e.into()))?,
        )),
        Err(AppError::Forbidden | AppError::NotAuthorised(_)) => Ok(problem(
            403,
            "Forbidden",
            "no consent of the holder nor legal basis for this use; the holder is asked",
        )),
        Err(AppError::Invalid { field, reason }) => {
            Ok(problem(400, "Bad Request", &format!("{field}: {reason}")))
        }
        Err(AppError::NotFound) => Ok(problem(404, "Not Found", "no such certificate")),
        Err(AppError::Conflict(why)) => Ok(problem(409, "Conflict", &why)),
        Err(other) => Err(other),
    }
}

/// `GET /applications/{id}`: one application handled within the providing department's region.
pub async fn applications(call: &Call<'_>) -> AppResult<Answer> {
    if call.method != Method::GET {
        return Ok(problem(
            405,
            "Method Not Allowed",
            "applications are read with GET",
        ));
    }
    let Some(id) = call
        .path
        .strip_prefix("/applications/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
    else {
        return Ok(problem(
            404,
            "Not Found",
            "the register answers /applications/{id}",
        ));
    };
    Ok(
        match tongban_services::applications::shared(call.state, call.provider, id).await? {
            Some(application) => json_answer(200, &json!(application)),
            None => problem(
                404,
                "Not Found",
                "no application of this number is handled in the region",
            ),
        },
    )
}
