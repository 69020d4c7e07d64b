//! The error answers of the API, written into its OpenAPI document for every operation.
//!
//! Every module's handlers fail through [`crate::error::AppError`], so every operation can give
//! the same few problem+json answers whatever its own annotations list: a malformed request
//! (400), a missing or refused login on an operation that needs one (401, 403), something not
//! found (404), a change that lost a race (409), a body too large or of the wrong type (413,
//! 415), a request that breaks a rule (422), and a node shedding load or without its database
//! (503, with `Retry-After`). They are added here, after the modules' routes are merged, so
//! that a client generated from the document, or one checking answers against it, knows them
//! all; an answer an operation documents itself is kept, with its error body named for what
//! it is: `application/problem+json`.

use utoipa::openapi::header::Header;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{Object, Ref, Type};
use utoipa::openapi::{Content, OpenApi, RefOr, Response};

use crate::error::PROBLEM_JSON;

/// Adds the common error answers to every operation of the document.
pub(super) fn document(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let reads = [&mut item.get];
        let writes = [
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in reads.into_iter().flatten() {
            add_answers(operation, false);
        }
        for operation in writes.into_iter().flatten() {
            add_answers(operation, true);
        }
    }
}

fn add_answers(operation: &mut Operation, writes: bool) {
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let has_body = operation.request_body.is_some();
    for (status, response) in operation.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if (status.starts_with('4') || status.starts_with('5'))
            && let Some(content) = response.content.shift_remove("application/json")
        {
            response.content.insert(PROBLEM_JSON.to_owned(), content);
        }
        if response.description.is_empty() {
            response.description = reason(status).to_owned();
        }
    }
    let mut statuses = vec!["400", "404", "422", "503"];
    if secured {
        statuses.extend(["401", "403"]);
    }
    if writes {
        statuses.push("409");
    }
    if has_body {
        statuses.extend(["413", "415"]);
    }
    for status in statuses {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(problem(status)));
    }
}

/// A problem+json answer with the status's reason as its description.
fn problem(status: &str) -> Response {
    let mut response = Response::new(reason(status));
    response.content.insert(
        PROBLEM_JSON.to_owned(),
        RefOr::T(Content::new(Some(Ref::from_schema_name("Problem")))),
    );
    if status == "503" {
        let mut retry_after = Header::new(Object::with_type(Type::Integer));
        retry_after.description = Some("Seconds to wait before trying again.".to_owned());
        response
            .headers
            .insert("Retry-After".to_owned(), RefOr::T(retry_after));
    }
    response
}

fn reason(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted",
        "204" => "No content",
        "303" => "See other",
        "304" => "Not modified",
        "400" => "The request is malformed (problem+json)",
        "401" => "A login or API token is needed (problem+json)",
        "403" => "The caller may not do this (problem+json)",
        "404" => "Not found (problem+json)",
        "409" => "The change conflicts with the current state; nothing changed (problem+json)",
        "410" => "Gone (problem+json)",
        "413" => "The body is too large (problem+json)",
        "415" => "The body's media type is not accepted (problem+json)",
        "422" => "The request breaks a rule; nothing changed (problem+json)",
        "429" => "Too many attempts; try again later (problem+json)",
        "503" => {
            "The node is shedding load or its database is away; try again after Retry-After \
             (problem+json)"
        }
        _ => "See the operation's description",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};
    use utoipa::openapi::security::SecurityRequirement;

    #[test]
    fn every_operation_lists_the_common_error_answers_as_problem_json() {
        let secured = OperationBuilder::new()
            .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
            .response(
                "403",
                utoipa::openapi::ResponseBuilder::new().content(
                    "application/json",
                    Content::new(Some(Ref::from_schema_name("Problem"))),
                ),
            )
            .build();
        let open = OperationBuilder::new().build();
        let mut openapi = OpenApi::new(
            utoipa::openapi::Info::new("t", "1"),
            PathsBuilder::new()
                .path("/a", PathItem::new(HttpMethod::Post, secured))
                .path("/b", PathItem::new(HttpMethod::Get, open)),
        );
        document(&mut openapi);
        let json = serde_json::to_value(&openapi).expect("json");
        let a = &json["paths"]["/a"]["post"]["responses"];
        for status in ["400", "401", "403", "404", "409", "422", "503"] {
            assert!(
                a[status]["content"][PROBLEM_JSON].is_object(),
                "{status}: {a}"
            );
            assert!(a[status]["description"].is_string());
        }
        assert!(a["403"]["content"]["application/json"].is_null());
        assert!(a["503"]["headers"]["Retry-After"].is_object());
        let b = &json["paths"]["/b"]["get"]["responses"];
        assert!(b["401"].is_null(), "an open read needs no login: {b}");
        assert!(b["409"].is_null(), "a read changes nothing: {b}");
        assert!(b["404"]["content"][PROBLEM_JSON].is_object());
    }
}
