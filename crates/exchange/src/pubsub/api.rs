//! The IM PubSub paths under the gateway: `/r1/{room}/api/v1/…` (event types, subscriptions),
//! `/r1/{room}/pub/v1/…` (publish, status, withdraw) and `/r1/{room}/pull/v1/…` (pull,
//! confirm), where the room is `INSTANCE/GOV/<USCC>/<subsystem>`.

use axum::http::Method;
use serde_json::{Value, json};

use super::service::{self as pubsub, Room};
use crate::admin::store::Department;
use crate::error::AppError;
use crate::gateway::ids::{ClientId, ServiceId};
use crate::gateway::parties::{GatewayError, Incoming, Outgoing};
use crate::state::AppState;

/// The service codes the building block uses.
pub fn is_pubsub(code: &str) -> bool {
    matches!(code, "api" | "pub" | "pull")
}

fn failed(error: AppError) -> GatewayError {
    let (status, kind, message) = match error {
        AppError::Invalid { field, reason } => {
            (400, "Client.BadRequest", format!("{field}: {reason}"))
        }
        AppError::BadRequest(why) => (400, "Client.BadRequest", why),
        AppError::NotFound => (404, "Client.NotFound", "not found".to_owned()),
        AppError::Conflict(why) => (409, "Client.Conflict", why),
        AppError::NotAuthorised(why) => (403, "Client.AccessDenied", why),
        AppError::Forbidden => (403, "Client.AccessDenied", "not allowed".to_owned()),
        AppError::Unavailable | AppError::Contention => (
            503,
            "Server.ServerProxy.DatabaseError",
            "the gateway could not reach its database".to_owned(),
        ),
        other => {
            tracing::error!(error = %other, "publish/subscribe failed");
            (
                500,
                "Server.ServerProxy.InternalError",
                "publish/subscribe failed".to_owned(),
            )
        }
    };
    GatewayError {
        status,
        kind,
        message,
    }
}

fn reply(status: u16, value: Option<Value>) -> Outgoing {
    match value {
        Some(value) => Outgoing {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(&value).unwrap_or_default(),
        },
        None => Outgoing {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        },
    }
}

fn body(incoming: &Incoming) -> Result<Value, GatewayError> {
    if incoming.body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(&incoming.body)
        .map_err(|_| failed(AppError::BadRequest("the body is not JSON".into())))
}

/// The room a service identifier names: a department's subsystem of this instance.
async fn room(state: &AppState, id: &ClientId) -> Result<Room, GatewayError> {
    let unknown = || GatewayError {
        status: 404,
        kind: "Server.ServerProxy.UnknownService",
        message: format!("{id} is no room here"),
    };
    if id.instance != state.config.xroad_instance || id.class != "GOV" || id.subsystem.is_none() {
        return Err(unknown());
    }
    let owner = crate::gateway::parties::department(state, &id.member)
        .await
        .map_err(failed)?
        .ok_or_else(unknown)?;
    Ok(Room {
        key: id.to_string(),
        id: id.clone(),
        owner,
    })
}

pub async fn answer(
    state: &AppState,
    actor_id: &str,
    caller: &Department,
    client: &ClientId,
    service: &ServiceId,
    path: &str,
    incoming: &Incoming,
) -> Result<Outgoing, GatewayError> {
    let room = room(state, &service.provider).await?;
    let owner = caller.id == room.owner.id;
    let only_owner = || {
        if owner {
            Ok(())
        } else {
            Err(failed(AppError::NotAuthorised(
                "only the room's department does this".into(),
            )))
        }
    };
    let subscriber = client.to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = &incoming.method;
    let unknown = || failed(AppError::NotFound);
    let out = match (service.code.as_str(), segments.as_slice()) {
        ("api", ["v1", "eventType"]) if method == Method::GET => {
            only_owner()?;
            let names = pubsub::event_types(state, &room).await.map_err(failed)?;
            if names.is_empty() {
                reply(204, None)
            } else {
                reply(200, Some(json!(names)))
            }
        }
        ("api", ["v1", "eventType"]) if method == Method::POST => {
            only_owner()?;
            pubsub::create_event_type(state, actor_id, &room, &body(incoming)?)
                .await
                .map_err(failed)?;
            reply(200, Some(json!({})))
        }
        ("api", ["v1", "eventType", kind]) if method == Method::GET => {
            let found = pubsub::event_type(state, &room, kind)
                .await
                .map_err(failed)?;
            reply(
                200,
                Some(
                    json!({"eventType": found.event_type, "schema": found.schema, "resource": found.resource_code}),
                ),
            )
        }
        ("api", ["v1", "eventType", kind]) if method == Method::DELETE => {
            only_owner()?;
            pubsub::delete_event_type(state, &room, kind)
                .await
                .map_err(failed)?;
            reply(204, None)
        }
        ("api", ["v1", "subs"]) if method == Method::GET => {
            let subs = pubsub::subscriptions_of(state, &room.key, &subscriber)
                .await
                .map_err(failed)?;
            reply(
                200,
                Some(Value::Array(
                    subs.iter().map(pubsub::Subscription::json).collect(),
                )),
            )
        }
        ("api", ["v1", "subs", kind]) if method == Method::POST => {
            let created =
                pubsub::subscribe(state, &room, kind, &subscriber, caller, &body(incoming)?)
                    .await
                    .map_err(failed)?;
            reply(200, Some(created.json()))
        }
        ("api", ["v1", "subs", kind, rest @ ..]) => {
            let current = pubsub::subscription(state, &room.key, kind, &subscriber)
                .await
                .map_err(failed)?;
            match (rest, method.as_str()) {
                ([], "GET") => reply(200, Some(current.json())),
                ([], "PATCH") => {
                    pubsub::update_subscription(state, &current, &body(incoming)?)
                        .await
                        .map_err(failed)?;
                    reply(201, None)
                }
                ([], "DELETE") => {
                    pubsub::unsubscribe(state, &current).await.map_err(failed)?;
                    reply(204, None)
                }
                (["dead-letters"], "GET") => {
                    let letters = pubsub::dead_letters(state, &current.id)
                        .await
                        .map_err(failed)?;
                    reply(200, Some(Value::Array(letters.into_iter().map(|(seq, reason, at)| {
                        json!({"sequence": seq, "reason": reason, "at": crate::time_fmt::rfc3339(at)})
                    }).collect())))
                }
                _ => return Err(unknown()),
            }
        }
        ("pub", ["v1", kind]) if method == Method::POST => {
            only_owner()?;
            let id = pubsub::publish(state, &subscriber, &room, kind, &body(incoming)?)
                .await
                .map_err(failed)?;
            reply(201, Some(json!({"id": id})))
        }
        ("pub", ["v1", kind, id]) if method == Method::GET => {
            only_owner()?;
            let event = pubsub::event_by_id(state, &room, kind, id)
                .await
                .map_err(failed)?;
            let mut item = pubsub::event_item(&room, kind, &event, None);
            item["withdrawn"] = json!(event.withdrawn);
            reply(200, Some(item))
        }
        ("pub", ["v1", kind, id]) if method == Method::DELETE => {
            only_owner()?;
            pubsub::withdraw(state, &room, kind, id)
                .await
                .map_err(failed)?;
            reply(204, None)
        }
        ("pull", ["v1", kind, rest @ ..]) => {
            let current = pubsub::subscription(state, &room.key, kind, &subscriber)
                .await
                .map_err(failed)?;
            if current.delivery != "PULL" {
                return Err(failed(AppError::Conflict(
                    "the subscription is pushed, not pulled".into(),
                )));
            }
            let kind_row = pubsub::event_type(state, &room, kind)
                .await
                .map_err(failed)?;
            let granted = crate::catalogue::service::grant_in_force(
                state,
                &caller.id,
                &kind_row.resource_code,
            )
            .await
            .map_err(failed)?
            .ok_or_else(|| {
                failed(AppError::NotAuthorised(
                    "the grant of this event type's resource has ended".into(),
                ))
            })?
            .0;
            match (rest, method.as_str()) {
                ([], "GET") => {
                    let next = pubsub::events_after(state, &room, kind, current.position, 1)
                        .await
                        .map_err(failed)?;
                    match next.first() {
                        Some(event) => reply(
                            200,
                            Some(pubsub::event_item(&room, kind, event, Some(&granted))),
                        ),
                        None => return Err(failed(AppError::NotFound)),
                    }
                }
                ([id], "DELETE") => {
                    let event = pubsub::event_by_id(state, &room, kind, id)
                        .await
                        .map_err(failed)?;
                    if event.seq <= current.position {
                        return Err(failed(AppError::Conflict(
                            "this event was confirmed already".into(),
                        )));
                    }
                    pubsub::advance(state, &current.id, event.seq)
                        .await
                        .map_err(failed)?;
                    reply(204, None)
                }
                _ => return Err(unknown()),
            }
        }
        _ => return Err(unknown()),
    };
    Ok(out)
}
