//! The metadata services (X-Road PR-MREST, GovStack IM Directory Services): `listClients` at
//! the root, and under a provider `listMethods`, `allowedMethods` and
//! `getOpenAPI?serviceCode=`. Answers use the GovStack schema (`member` lists, camelCase),
//! which is the X-Road Annex A schema with GovStack's names.

use serde_json::{Value, json};

use super::ids::{DATA_SUBSYSTEM, ServiceId};
use super::parties::{GatewayError, Incoming, Outgoing, provider_of};
use crate::admin::store::Department;
use crate::catalogue::model::{Resource, ShareType};
use crate::state::AppState;

const CODES: [&str; 3] = ["listMethods", "allowedMethods", "getOpenAPI"];

pub fn is_metadata(code: &str) -> bool {
    CODES.contains(&code)
}

fn json_reply(value: &Value) -> Outgoing {
    Outgoing {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: serde_json::to_vec(value).unwrap_or_default(),
    }
}

fn failed(status: u16, kind: &'static str, message: &str) -> GatewayError {
    GatewayError {
        status,
        kind,
        message: message.into(),
    }
}

/// The registered descriptions' endpoints, by resource code.
type Described = std::collections::HashMap<String, Vec<crate::catalogue::described::Endpoint>>;

/// A service's endpoints in X-Road's form (`*` for a path parameter): a platform registry's
/// own, those of an external system's registered description, or any path when it has none.
fn endpoints(
    state: &AppState,
    resource: &Resource,
    described: &Described,
) -> Vec<(String, String)> {
    let owned = |list: &[(&str, &str)]| {
        list.iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect()
    };
    match resource.service.as_deref() {
        Some(name) if let Some(own) = super::providers::own_endpoints(state, name) => owned(own),
        Some(_) => match described.get(&resource.code) {
            Some(list) => list
                .iter()
                .map(|(method, template)| {
                    let path: Vec<&str> = template
                        .split('/')
                        .map(|s| if s.starts_with('{') { "*" } else { s })
                        .collect();
                    (method.clone(), path.join("/"))
                })
                .collect(),
            None => owned(&[("GET", "/*"), ("POST", "/*")]),
        },
        None => Vec::new(),
    }
}

fn database(_: crate::error::AppError) -> GatewayError {
    failed(
        503,
        "Server.ServerProxy.DatabaseError",
        "the catalogue could not be read",
    )
}

/// The services a department offers: its shared resources that a system serves.
async fn offered(state: &AppState, provider: &Department) -> Result<Vec<Resource>, GatewayError> {
    let all = crate::catalogue::store::resources(state.pool())
        .await
        .map_err(|_| {
            failed(
                503,
                "Server.ServerProxy.DatabaseError",
                "the catalogue could not be read",
            )
        })?;
    Ok(all
        .into_iter()
        .filter(|r| {
            r.department_id == provider.id && r.share_type != ShareType::None && r.service.is_some()
        })
        .collect())
}

fn service_json(
    state: &AppState,
    provider: &Department,
    resource: &Resource,
    described: &Described,
) -> Value {
    let external = resource
        .service
        .as_deref()
        .is_some_and(|s| super::providers::own_endpoints(state, s).is_none());
    json!({
        "objectType": "SERVICE",
        "serviceType": if external { "REST" } else { "OPENAPI" },
        "instanceId": state.config.xroad_instance,
        "memberClass": "GOV",
        "memberCode": provider.uscc,
        "applicationCode": DATA_SUBSYSTEM,
        "serviceCode": resource.code,
        "serviceVersion": resource.version.to_string(),
        "endpointList": {"member": endpoints(state, resource, described).into_iter()
            .map(|(method, path)| json!({"method": method, "path": path}))
            .collect::<Vec<_>>()},
    })
}

pub async fn answer(
    state: &AppState,
    consumer: &Department,
    service: &ServiceId,
    incoming: &Incoming,
) -> Result<Outgoing, GatewayError> {
    if incoming.method != axum::http::Method::GET {
        return Err(failed(
            405,
            "Client.BadRequest",
            "metadata services are read with GET",
        ));
    }
    let provider = provider_of(state, &service.provider).await?;
    let offered = offered(state, &provider).await?;
    let described = crate::catalogue::described::all_endpoints(state)
        .await
        .map_err(database)?;
    match service.code.as_str() {
        "listMethods" => Ok(json_reply(&json!({"member": offered.iter()
            .map(|r| service_json(state, &provider, r, &described)).collect::<Vec<_>>()}))),
        "allowedMethods" => {
            let mut allowed = Vec::new();
            for resource in &offered {
                let grant =
                    crate::catalogue::service::grant_in_force(state, &consumer.id, &resource.code)
                        .await
                        .map_err(|_| {
                            failed(
                                503,
                                "Server.ServerProxy.DatabaseError",
                                "the grants could not be read",
                            )
                        })?;
                if grant.is_some() {
                    allowed.push(service_json(state, &provider, resource, &described));
                }
            }
            Ok(json_reply(&json!({"member": allowed})))
        }
        _ => {
            let code = incoming
                .query
                .as_deref()
                .unwrap_or("")
                .split('&')
                .find_map(|pair| pair.strip_prefix("serviceCode="))
                .ok_or_else(|| failed(400, "Client.BadRequest", "getOpenAPI needs serviceCode="))?;
            let resource = offered.iter().find(|r| r.code == code).ok_or_else(|| {
                failed(
                    404,
                    "Server.ServerProxy.UnknownService",
                    "the provider offers no such service",
                )
            })?;
            Ok(json_reply(
                &description(state, &provider, resource)
                    .await
                    .map_err(database)?,
            ))
        }
    }
}

fn item_schema(kind: &str) -> Value {
    match kind {
        "integer" => json!({"type": "integer"}),
        "decimal" => json!({"type": "number"}),
        "boolean" => json!({"type": "boolean"}),
        "date" => json!({"type": "string", "format": "date"}),
        "datetime" => json!({"type": "string", "format": "date-time"}),
        _ => json!({"type": "string"}),
    }
}

/// An OpenAPI 3 description of a resource's service, made from the catalogue: its endpoints
/// and its record of items. A consumer receives only the items its grant covers.
/// The OpenAPI description of a service as consumers get it: the external system's registered
/// document (its servers replaced by the gateway's address of the service), or one made from
/// the catalogue.
pub async fn description(
    state: &AppState,
    provider: &Department,
    resource: &Resource,
) -> crate::error::AppResult<Value> {
    if let Some(mut document) =
        crate::catalogue::described::description(state, &resource.code).await?
    {
        // The consumer calls the service through the gateway, never directly.
        if let Some(obj) = document.as_object_mut() {
            obj.insert(
                "servers".into(),
                json!([{"url": gateway_url(state, provider, resource)}]),
            );
        }
        return Ok(document);
    }
    Ok(openapi(state, provider, resource, &Described::new()))
}

fn gateway_url(state: &AppState, provider: &Department, resource: &Resource) -> String {
    format!(
        "/r1/{}/GOV/{}/{}/{}",
        state.config.xroad_instance,
        provider.uscc.as_deref().unwrap_or(""),
        DATA_SUBSYSTEM,
        resource.code
    )
}

fn openapi(
    state: &AppState,
    provider: &Department,
    resource: &Resource,
    described: &Described,
) -> Value {
    let mut properties = serde_json::Map::new();
    for item in &resource.items {
        let mut schema = item_schema(&item.kind);
        if let (Some(obj), Some(length)) = (schema.as_object_mut(), item.length)
            && item.kind == "string"
        {
            obj.insert("maxLength".into(), json!(length));
        }
        if let Some(obj) = schema.as_object_mut() {
            obj.insert("title".into(), json!(item.name));
            if let Some(category) = &item.personal {
                obj.insert("x-personal-data".into(), json!(category));
            }
        }
        properties.insert(item.code.clone(), schema);
    }
    let mut paths = serde_json::Map::new();
    for (method, path) in endpoints(state, resource, described) {
        let mut template = String::new();
        let mut parameters = Vec::new();
        for (n, piece) in path.split('*').enumerate() {
            if n > 0 {
                let name = if n == 1 {
                    "id".to_owned()
                } else {
                    format!("p{n}")
                };
                template.push_str(&format!("{{{name}}}"));
                parameters.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
            }
            template.push_str(piece);
        }
        let operation = json!({
            "summary": resource.name,
            "parameters": parameters,
            "responses": {"200": {"description": "Only the items your grant covers",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Record"}}}}},
        });
        let entry = paths.entry(template).or_insert_with(|| json!({}));
        if let Some(obj) = entry.as_object_mut() {
            obj.insert(method.to_ascii_lowercase(), operation);
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": resource.name,
            "version": resource.version.to_string(),
            "description": resource.description,
        },
        "servers": [{"url": gateway_url(state, provider, resource)}],
        "paths": paths,
        "components": {"schemas": {"Record": {"type": "object", "properties": properties}}},
    })
}

/// `listClients`: the members of this instance (departments, by USCC) and their data
/// subsystems.
pub async fn list_clients(state: &AppState) -> crate::error::AppResult<Value> {
    let mut members = Vec::new();
    for department in crate::admin::directory::departments(state).await? {
        let Some(uscc) = department.uscc.clone() else {
            continue;
        };
        let id = |object_type: &str, application: Option<&str>| {
            let mut id = json!({
                "objectType": object_type,
                "instanceId": state.config.xroad_instance,
                "memberClass": "GOV",
                "memberCode": uscc,
            });
            if let (Some(app), Some(obj)) = (application, id.as_object_mut()) {
                obj.insert("applicationCode".into(), json!(app));
            }
            id
        };
        members.push(json!({"name": department.name, "id": id("MEMBER", None)}));
        members
            .push(json!({"name": department.name, "id": id("APPLICATION", Some(DATA_SUBSYSTEM))}));
    }
    Ok(json!({"member": members}))
}
