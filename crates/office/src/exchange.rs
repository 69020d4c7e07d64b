//! 跨地区公文交换: official documents sent to the organs of another region, through the
//! data-sharing exchange between the two regions' gateways (resource GW-TB-001, provider
//! `office`), as 跨省通办 sends its packages.
//!
//! Each region's document exchange answers the list of its organs (`GET /organs`: each
//! department's USCC and full name) and takes documents (`POST /documents`). A region keeps the
//! lists of its partners (the regions 跨省通办 works with); when a sent document names an organ
//! that is not one of its own but is on a partner's list, the sending writes — in the
//! transaction of its delivery — one package per partner region to the outbox, which the
//! `office.exchange` job sends until that region takes it (with backoff while it cannot be
//! reached) or refuses it for good. The other region makes one received copy per organ named,
//! once however often the package arrives, and answers which organs took it. The gateway has
//! checked both regions' signatures and the grant before a call reaches the provider, and logs
//! the signed pair on both sides.

use std::future::Future;
use std::pin::Pin;

use axum::http::Method;
use serde_json::json;
use tongban_exchange::gateway::calls::{Answer, Call, json_answer, problem};

use crate::error::{AppError, AppResult};
use crate::parcel::{Organ, Package};
use crate::state::AppState;
use crate::store;

/// The resource through which a region takes other regions' documents and lists its organs.
pub const RESOURCE: &str = "GW-TB-001";
/// The name of the provider the exchange calls for it.
pub const PROVIDER: &str = "office";
/// The calling system's name in the `X-Road-Client` header.
pub const SUBSYSTEM: &str = "GWJH";

/// The data items of the resource (what its answers and packages hold).
pub const ITEMS: [(&str, &str, &str); 9] = [
    ("uscc", "机关统一社会信用代码", "code"),
    ("name", "机关名称", "string"),
    ("document", "公文标识", "string"),
    ("number", "发文字号", "string"),
    ("title", "标题", "string"),
    ("dated", "成文日期", "string"),
    ("delivered", "已送达机关", "code"),
    ("unknown", "未找到的机关", "code"),
    ("duplicate", "重复送达", "boolean"),
];

/// The most organs of one region a document names.
const MAX_RECIPIENTS: usize = 100;
/// The first wait after a failed attempt; it doubles with each attempt, up to [`MAX_WAIT_MS`].
const FIRST_WAIT_MS: i64 = 2_000;
const MAX_WAIT_MS: i64 = 5 * 60 * 1000;
/// How long an attempt holds an entry before another node may try it.
const LEASE_MS: i64 = 60_000;
/// Entries sent per round.
const PER_ROUND: i64 = 64;

/// The provider the exchange calls.
pub struct Provider;

impl tongban_exchange::gateway::providers::Provider for Provider {
    fn endpoints(&self) -> &'static [(&'static str, &'static str)] {
        &[("GET", "/organs"), ("POST", "/documents")]
    }

    fn call<'a>(
        &'a self,
        call: &'a Call<'a>,
    ) -> Pin<Box<dyn Future<Output = AppResult<Answer>> + Send + 'a>> {
        Box::pin(answer(call))
    }
}

async fn answer(call: &Call<'_>) -> AppResult<Answer> {
    match (call.method.clone(), call.path) {
        (Method::GET, "/organs") => organs(call.state).await,
        (Method::POST, "/documents") => {
            let Some((region, _)) = call.peer() else {
                return Ok(problem(
                    403,
                    "Forbidden",
                    "documents come from another region's document exchange",
                ));
            };
            receive(call.state, region, call.body).await
        }
        (_, "/organs" | "/documents") => Ok(problem(
            405,
            "Method Not Allowed",
            "GET /organs; POST /documents",
        )),
        _ => Ok(problem(
            404,
            "Not Found",
            "the document exchange answers /organs and /documents",
        )),
    }
}

/// This region's organs that take documents: every department with a USCC.
async fn organs(state: &AppState) -> AppResult<Answer> {
    let records: Vec<Organ> = crate::admin::store::departments(state.pool())
        .await?
        .into_iter()
        .filter_map(|d| {
            Some(Organ {
                uscc: d.uscc?,
                name: d.name,
            })
        })
        .collect();
    let total = records.len();
    Ok(json_answer(
        200,
        &json!({"records": records, "total": total}),
    ))
}

fn plain(text: &str, max: usize) -> bool {
    !text.trim().is_empty() && text.chars().count() <= max && !text.chars().any(char::is_control)
}

/// Why a package cannot be taken, or `None`.
fn fault(package: &Package) -> Option<String> {
    if !plain(&package.document, 64) {
        return Some("document: 1 to 64 characters".into());
    }
    if !plain(&package.sender.name, 200) || !plain(&package.sender.uscc, 18) {
        return Some("sender: a USCC and a name of at most 200 characters".into());
    }
    if package.number.chars().count() > 60 || package.dated.chars().count() > 40 {
        return Some("number or dated: too long".into());
    }
    if !plain(&package.draft.title, 500) {
        return Some("draft: a title of at most 500 characters".into());
    }
    if package.recipients.is_empty() || package.recipients.len() > MAX_RECIPIENTS {
        return Some(format!("recipients: 1 to {MAX_RECIPIENTS}"));
    }
    if package
        .recipients
        .iter()
        .any(|r| !plain(&r.uscc, 18) || !plain(&r.name, 200))
    {
        return Some("recipients: each a USCC and a name".into());
    }
    None
}

/// Takes a package from `region`: one received copy per organ of this region named (an organ
/// named twice, or a package that arrives again, makes no second copy).
pub async fn receive(state: &AppState, region: &str, body: &[u8]) -> AppResult<Answer> {
    let package: Package = match serde_json::from_slice(body) {
        Ok(package) => package,
        Err(e) => return Ok(problem(400, "Bad Request", &format!("not a package: {e}"))),
    };
    if let Some(why) = fault(&package) {
        return Ok(problem(422, "Unprocessable Content", &why));
    }
    let draft = serde_json::to_string(&package.draft).map_err(|e| AppError::Internal(e.into()))?;
    let source = format!("{region}/{}", package.document);
    let now = state.now();
    let mut delivered = Vec::new();
    let mut unknown = Vec::new();
    let mut fresh = 0;
    let mut tx = state.pool().begin().await?;
    for recipient in &package.recipients {
        let organ = crate::admin::store::department_by_uscc(&mut *tx, &recipient.uscc).await?;
        let Some(organ) = organ else {
            unknown.push(recipient.uscc.clone());
            continue;
        };
        if delivered.contains(&recipient.uscc) {
            continue;
        }
        let row = crate::incoming::arrived(&crate::incoming::Arrival {
            organ: &organ.id,
            source: &source,
            sender_id: &format!("uscc:{}", package.sender.uscc),
            sender_name: &package.sender.name,
            copied: recipient.copied,
            draft: &package.draft,
            draft_json: &draft,
            number: &package.number,
            dated: &package.dated,
            at: now,
        });
        if store::insert_incoming_once(&mut *tx, &row).await? {
            fresh += 1;
        }
        delivered.push(recipient.uscc.clone());
    }
    tx.commit().await?;
    if delivered.is_empty() {
        return Ok(problem(
            422,
            "Unprocessable Content",
            "recipients: none is an organ of this region",
        ));
    }
    let duplicate = fresh == 0;
    Ok(json_answer(
        if duplicate { 200 } else { 201 },
        &json!({"delivered": delivered, "unknown": unknown, "duplicate": duplicate}),
    ))
}

/// The department this region's document exchange belongs to: it sends and receives the
/// packages in the region's name.
pub async fn exchange_department(
    state: &AppState,
) -> AppResult<Option<tongban_platform::admin::store::Department>> {
    let Some(id) = tongban_exchange::catalogue::service::owner_of(state, RESOURCE).await? else {
        return Ok(None);
    };
    tongban_platform::admin::directory::department(state, &id).await
}

/// The value of an answer's header.
fn header<'a>(out: &'a tongban_exchange::gateway::parties::Outgoing, name: &str) -> &'a str {
    out.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map_or("", |(_, v)| v.as_str())
}

fn detail(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["detail"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(300).collect())
}

/// Reads a partner region's organs through the gateway and keeps them, with the id of the
/// exchange that brought them; how many it lists.
pub async fn refresh(state: &AppState, region: &str, exchange_uscc: &str) -> AppResult<usize> {
    let department = exchange_department(state)
        .await?
        .ok_or_else(|| AppError::Conflict(format!("this region has no resource {RESOURCE}")))?;
    let out = tongban_exchange::gateway::peers::send(
        state,
        &department,
        SUBSYSTEM,
        exchange_uscc,
        RESOURCE,
        Method::GET,
        "/organs",
        Vec::new(),
        None,
    )
    .await
    .map_err(|failure| AppError::Conflict(format!("{}: {}", failure.kind, failure.message)))?;
    if out.status != 200 {
        return Err(AppError::Conflict(format!(
            "region {region} answered {}: {}",
            out.status,
            detail(&out.body)
        )));
    }
    let answer: serde_json::Value =
        serde_json::from_slice(&out.body).map_err(|e| AppError::Internal(e.into()))?;
    let organs: Vec<Organ> = answer["records"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .take(5_000)
        .filter_map(|record| serde_json::from_value::<Organ>(record.clone()).ok())
        .filter(|o| plain(&o.uscc, 18) && plain(&o.name, 200))
        .collect();
    store::replace_remote_organs(
        state.pool(),
        region,
        organs.iter().map(|o| (o.uscc.as_str(), o.name.as_str())),
        header(&out, "x-road-id"),
        state.now(),
    )
    .await?;
    Ok(organs.len())
}

/// Refreshes the organ lists of every partner region (a failing partner keeps its last list).
pub async fn refresh_all(state: &AppState) -> AppResult<()> {
    for partner in tongban_crossregion::partners::list(state).await? {
        if let Err(error) = refresh(state, &partner.region, &partner.intake_uscc).await {
            tracing::warn!(%error, region = %partner.region, "a partner's organs could not be read");
        }
    }
    Ok(())
}

/// The wait before the attempt after `attempts` failed ones.
fn backoff_ms(attempts: i64) -> i64 {
    FIRST_WAIT_MS
        .saturating_mul(1_i64 << attempts.clamp(0, 20))
        .min(MAX_WAIT_MS)
}

/// Sends every package that is due; how many the other regions took.
pub async fn send_due(state: &AppState) -> AppResult<usize> {
    let now = state.now();
    let due = store::exchange_due(state.pool(), now, PER_ROUND).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let Some(department) = exchange_department(state).await? else {
        tracing::warn!("this region has no document exchange to send documents from");
        return Ok(0);
    };
    let mut taken = 0;
    for entry in due {
        // Held while it is tried, so that another node leaves it alone.
        if !store::claim_exchange(state.pool(), &entry.id, entry.next_at, now + LEASE_MS).await? {
            continue;
        }
        let sent = tongban_exchange::gateway::peers::send(
            state,
            &department,
            SUBSYSTEM,
            &entry.to_uscc,
            RESOURCE,
            Method::POST,
            "/documents",
            entry.body.into_bytes(),
            None,
        )
        .await;
        let at = state.now();
        match sent {
            Ok(out) if (200..300).contains(&out.status) => {
                taken += 1;
                let answer = String::from_utf8_lossy(&out.body)
                    .chars()
                    .take(2_000)
                    .collect::<String>();
                store::exchange_done(state.pool(), &entry.id, "delivered", &answer, at).await?;
            }
            // The other region's own refusal (not its gateway's, not the way there): final.
            Ok(out)
                if header(&out, "x-road-error").is_empty()
                    && (400..500).contains(&out.status)
                    && out.status != 429 =>
            {
                tracing::warn!(entry = %entry.id, "another region refused a document");
                let why = format!("{}: {}", out.status, detail(&out.body));
                store::exchange_done(state.pool(), &entry.id, "refused", &why, at).await?;
            }
            other => {
                let why = match other {
                    Ok(out) => format!(
                        "{} {}: {}",
                        out.status,
                        header(&out, "x-road-error"),
                        detail(&out.body)
                    ),
                    Err(failure) => {
                        format!("{} {}: {}", failure.status, failure.kind, failure.message)
                    }
                };
                store::exchange_later(
                    state.pool(),
                    &entry.id,
                    at + backoff_ms(entry.attempts),
                    &why,
                )
                .await?;
            }
        }
    }
    Ok(taken)
}

/// The text key of a package's outcome, as the sender's page shows it.
pub fn outcome_key(outcome: &str) -> &'static str {
    match outcome {
        "delivered" => "office.exchange_delivered",
        "refused" => "office.exchange_refused",
        _ => "office.exchange_sending",
    }
}
