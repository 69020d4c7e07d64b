//! Push delivery: every node looks for pushed subscriptions that are due, takes a short lease
//! on each (so two nodes never push one subscription at once, which keeps its order), and
//! posts its next events to the subscriber's address in order, each signed by the room's
//! department's exchange key. A failure waits and retries with a doubling back-off; after
//! `MAX_ATTEMPTS` the event goes to the dead letters and delivery moves on. Delivery is at
//! least once: a subscriber may see an event again after a node fails mid-push.

use std::time::Duration;

use base64::Engine as _;

use super::service::{self as pubsub, MAX_ATTEMPTS, Room};
use super::store;
use crate::error::AppResult;
use crate::gateway::ids::parse_client;
use crate::state::AppState;

/// How long a node holds a subscription while pushing.
const LEASE_MS: i64 = 30_000;
/// Events pushed per subscription per round.
const PER_ROUND: i64 = 512;
/// Events of a subscription without FIFO in flight at once.
const WINDOW: usize = 64;

/// The back-off before attempt `attempts + 1`: 0.5 s doubling, at most a minute.
pub fn backoff_ms(attempts: i64) -> i64 {
    (500i64 << attempts.clamp(0, 7)).min(60_000)
}

/// Pushes what is due; returns how many events were delivered.
pub async fn deliver_due(state: &AppState) -> AppResult<usize> {
    let now = state.now();
    let due = store::due_pushes(state.pool(), now).await?;
    let mut pushes = tokio::task::JoinSet::new();
    for id in due {
        if !store::lease(state.pool(), &id, now, now + LEASE_MS).await? {
            continue;
        }
        // Subscriptions are pushed side by side; each one's events in order.
        let state = state.clone();
        pushes.spawn(async move {
            let outcome = push_one(&state, &id).await;
            store::release(state.pool(), &id).await?;
            outcome
        });
    }
    let mut delivered = 0;
    while let Some(done) = pushes.join_next().await {
        match done {
            Ok(Ok(n)) => delivered += n,
            Ok(Err(error)) => tracing::warn!(%error, "a push round failed"),
            Err(error) => tracing::error!(%error, "a push task ended abnormally"),
        }
    }
    Ok(delivered)
}

async fn push_one(state: &AppState, id: &str) -> AppResult<usize> {
    let Some((room_key, kind, subscriber)) = store::subscription_key(state.pool(), id).await?
    else {
        return Ok(0);
    };
    let sub = pubsub::subscription(state, &room_key, &kind, &subscriber).await?;
    let Ok(room_id) = parse_client(&room_key) else {
        return Ok(0);
    };
    let Some(owner) = crate::gateway::parties::department(state, &room_id.member).await? else {
        return Ok(0);
    };
    let room = Room {
        id: room_id,
        key: room_key,
        owner,
    };
    let kind_row = pubsub::event_type(state, &room, &kind).await?;
    // Without a grant in force nothing is pushed; the subscription waits for a new one.
    let Some((granted, _)) = crate::catalogue::service::grant_in_force(
        state,
        &sub.department_id,
        &kind_row.resource_code,
    )
    .await?
    else {
        store::put_off(state.pool(), &sub.id, state.now() + 60_000).await?;
        return Ok(0);
    };
    let Some(url) = sub.push_url.clone() else {
        return Ok(0);
    };
    let signer = crate::keys::service::cached_signer(
        state,
        &room.owner.id,
        crate::gateway::message::EXCHANGE_KEY,
    )
    .await?;
    let timeout = Duration::from_millis(state.config.exchange_timeout_ms.max(1));
    let mut attempts = sub.attempts;
    let mut delivered = 0;
    let mut position = sub.position;
    // The last event delivered (or dead-lettered); the subscription's position is moved to it
    // once a page, not once an event, so pushing writes little.
    let mut acknowledged = sub.position;
    let started = std::time::Instant::now();
    // Page after page while the lease lasts, so a busy subscription is not held to one page
    // per round.
    'pages: while started.elapsed() < Duration::from_millis((LEASE_MS / 2) as u64) {
        let events = pubsub::events_after(state, &room, &kind, position, PER_ROUND).await?;
        if events.is_empty() {
            break;
        }
        // A FIFO subscription gets one event at a time; others up to WINDOW side by side,
        // acknowledged in order up to the first failure (what came after it is sent again).
        let window = if sub.fifo { 1 } else { WINDOW };
        for chunk in events.chunks(window) {
            let mut sends = tokio::task::JoinSet::new();
            let mut expired = std::collections::HashSet::new();
            for event in chunk {
                if state.now() - event.published_at > sub.ttl_seconds * 1000 {
                    expired.insert(event.seq);
                    continue;
                }
                let body =
                    serde_json::to_vec(&pubsub::event_item(&room, &kind, event, Some(&granted)))
                        .unwrap_or_default();
                let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(tongban_crypto::Signer::sign(&*signer, &body));
                let headers = [
                    ("content-type", "application/json".to_owned()),
                    ("x-tongban-event-id", event.id.clone()),
                    (
                        "x-tongban-key-id",
                        tongban_crypto::Signer::kid(&*signer).to_owned(),
                    ),
                    ("x-tongban-signature", signature),
                ];
                let (state, url, seq) = (state.clone(), url.clone(), event.seq);
                sends.spawn(async move {
                    let client = state.module::<crate::gateway::providers::HttpProviders>();
                    (seq, client.post(&url, body, timeout, &headers).await)
                });
            }
            let mut outcomes = std::collections::HashMap::new();
            while let Some(done) = sends.join_next().await {
                if let Ok((seq, sent)) = done {
                    outcomes.insert(seq, sent);
                }
            }
            for event in chunk {
                position = event.seq;
                if expired.contains(&event.seq) {
                    let reason = "expired: older than the subscription's TTL";
                    dead_letter(state, &sub.id, event.seq, reason).await?;
                    acknowledged = event.seq;
                    continue;
                }
                let sent = outcomes
                    .remove(&event.seq)
                    .unwrap_or_else(|| Err("the push could not be made".into()));
                match sent {
                    Ok(status) if (200..300).contains(&status) => {
                        acknowledged = event.seq;
                        attempts = 0;
                        delivered += 1;
                    }
                    failure => {
                        attempts += 1;
                        let reason = match failure {
                            Ok(status) => format!("the subscriber answered {status}"),
                            Err(why) => why,
                        };
                        if attempts >= MAX_ATTEMPTS {
                            dead_letter(
                                state,
                                &sub.id,
                                event.seq,
                                &format!("{MAX_ATTEMPTS} attempts failed; the last: {reason}"),
                            )
                            .await?;
                            acknowledged = event.seq;
                            attempts = 0;
                            continue;
                        }
                        // What was delivered before the failure stays delivered.
                        pubsub::advance(state, &sub.id, acknowledged).await?;
                        let at = state.now() + backoff_ms(attempts);
                        store::retry_at(state.pool(), &sub.id, attempts, at).await?;
                        break 'pages;
                    }
                }
            }
        }
        pubsub::advance(state, &sub.id, acknowledged).await?;
    }
    Ok(delivered)
}

async fn dead_letter(
    state: &AppState,
    subscription: &str,
    seq: i64,
    reason: &str,
) -> AppResult<()> {
    store::insert_dead_letter(state.pool(), subscription, seq, reason, state.now()).await?;
    pubsub::advance(state, subscription, seq).await
}
