//! The API reference for developers (`/docs`): the OpenAPI document the node serves, rendered
//! on the server as a page — every operation by its tag, with its parameters, body, answers and
//! the security it asks for — so that nobody needs a separate viewer or a CDN.

use askama::Template;
use axum::response::Response;
use serde_json::Value;

use super::pages::{PageBase, PageCtx};

/// One tag's operations.
pub struct Section {
    pub name: String,
    pub description: String,
    pub operations: Vec<Operation>,
}

pub struct Operation {
    pub method: String,
    pub path: String,
    /// An anchor for links (`get-api-v1-wallet`).
    pub anchor: String,
    pub summary: String,
    pub description: String,
    /// Whether a bearer token is needed.
    pub secured: bool,
    /// (name, where, required, description).
    pub parameters: Vec<(String, String, bool, String)>,
    /// The body's media type and schema name, if any.
    pub body: Option<(String, String)>,
    /// (status, description, schema name).
    pub answers: Vec<(String, String, String)>,
    /// A call to copy: `curl` with the method, the address and the token header.
    pub example: String,
}

/// The sections of an OpenAPI document, tags in the document's order then any others, paths
/// in order within each.
pub fn sections(document: &Value, server: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = document["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|tag| Section {
            name: text(&tag["name"]),
            description: text(&tag["description"]),
            operations: Vec::new(),
        })
        .collect();
    let Some(paths) = document["paths"].as_object() else {
        return sections;
    };
    let mut paths: Vec<_> = paths.iter().collect();
    paths.sort_by(|a, b| a.0.cmp(b.0));
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(op) = item.get(method) else {
                continue;
            };
            let tag = op["tags"][0].as_str().unwrap_or("other").to_owned();
            let operation = operation(method, path, op, server);
            match sections.iter_mut().find(|s| s.name == tag) {
                Some(section) => section.operations.push(operation),
                None => sections.push(Section {
                    name: tag,
                    description: String::new(),
                    operations: vec![operation],
                }),
            }
        }
    }
    sections.retain(|s| !s.operations.is_empty());
    sections
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// The name of a schema a `$ref` points to (or the type of an inline one).
fn schema_name(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    match (schema["type"].as_str(), schema.get("items")) {
        (Some("array"), Some(items)) => format!("[{}]", schema_name(items)),
        (Some(kind), _) => kind.to_owned(),
        _ => String::new(),
    }
}

fn operation(method: &str, path: &str, op: &Value, server: &str) -> Operation {
    let parameters = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                text(&p["name"]),
                text(&p["in"]),
                p["required"].as_bool().unwrap_or(false),
                text(&p["description"]),
            )
        })
        .collect();
    let body = op["requestBody"]["content"]
        .as_object()
        .and_then(|content| content.iter().next())
        .map(|(media, body)| (media.clone(), schema_name(&body["schema"])));
    let mut answers: Vec<(String, String, String)> = op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, answer)| {
            let schema = answer["content"]
                .as_object()
                .and_then(|content| content.values().next())
                .map(|c| schema_name(&c["schema"]))
                .unwrap_or_default();
            (status.clone(), text(&answer["description"]), schema)
        })
        .collect();
    answers.sort();
    let secured = op["security"]
        .as_array()
        .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
    let mut example = format!("curl -X {} '{server}{path}'", method.to_uppercase());
    if secured {
        example.push_str(" -H 'Authorization: Bearer tbk_…'");
    }
    if let Some((media, _)) = &body {
        example.push_str(&format!(" -H 'Content-Type: {media}' --data @body"));
    }
    let (summary, description) = match op["description"].as_str() {
        Some(description) if op["summary"].is_string() => {
            (text(&op["summary"]), description.to_owned())
        }
        Some(description) => {
            let mut lines = description.splitn(2, '\n');
            (
                lines.next().unwrap_or_default().to_owned(),
                lines.next().unwrap_or_default().trim().to_owned(),
            )
        }
        None => (text(&op["summary"]), String::new()),
    };
    Operation {
        anchor: format!("{method}{}", path.replace(['/', '{', '}'], "-")),
        method: method.to_uppercase(),
        path: path.to_owned(),
        summary,
        description,
        secured,
        parameters,
        body,
        answers,
        example,
    }
}

#[derive(Template)]
#[template(path = "reference.html")]
struct ReferencePage<'a> {
    base: PageBase,
    sections: &'a [Section],
    count: usize,
}

/// The page, from the sections the router built once.
pub fn page(sections: &[Section], ctx: &PageCtx) -> Response {
    ctx.render(&ReferencePage {
        base: ctx.base("docs.title"),
        sections,
        count: sections.iter().map(|s| s.operations.len()).sum(),
    })
}
