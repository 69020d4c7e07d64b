//! 时空伴随: who was at the same venue as a confirmed case at overlapping times. A health
//! officer asks for a match about a confirmed case (a positive test in force) with a stated
//! purpose; a second officer approves it before anything is read; the run shows no names or
//! venues. The officer designates the contacts they judge real; each designation is a
//! `contact_designation` fact that takes effect when a second officer confirms it. Every step
//! is logged. A raw match changes no one's colour.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;

use super::store::{self, Visit};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::identity::personal;
use crate::state::AppState;

/// Presence assumed after a check-in when no check-out is known.
pub const DEFAULT_DWELL_MINUTES: i64 = 30;
/// How long a match's references can be confirmed.
const REFERENCE_LIFETIME_MS: i64 = 24 * 3_600_000;
const REFERENCE_CONTEXT: &str = "contacts.reference";

/// One person found, before anyone knows who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    pub subject: [u8; 16],
    pub venue_no: i64,
    /// Start of the first overlap, Unix ms.
    pub first_at: i64,
    /// Total overlapping presence over all shared visits, ms.
    pub overlap_ms: i64,
    pub shared_visits: u32,
}

/// Everyone whose presence (check-in time plus `dwell_ms`) overlapped the case's at a venue the
/// case visited in `[from, to]`, most overlap first. Pure reads: the case's visits by the
/// subject index, then each visited venue around each visit by the primary key.
pub async fn overlaps(
    pool: &AnyPool,
    case: &[u8; 16],
    from: i64,
    to: i64,
    dwell_ms: i64,
) -> AppResult<Vec<Overlap>> {
    let visits = store::visits_of(pool, case, from, to).await?;
    let mut found: HashMap<[u8; 16], Overlap> = HashMap::new();
    for visit in &visits {
        let others = store::visits_at(
            pool,
            visit.venue_no,
            visit.at - dwell_ms,
            visit.at + dwell_ms,
        )
        .await?;
        for other in others.iter().filter(|o| o.subject != *case) {
            let overlap = shared_presence(visit, other, dwell_ms);
            if overlap <= 0 {
                continue;
            }
            let start = visit.at.max(other.at);
            found
                .entry(other.subject)
                .and_modify(|o| {
                    o.overlap_ms += overlap;
                    o.shared_visits += 1;
                    if start < o.first_at {
                        o.first_at = start;
                        o.venue_no = visit.venue_no;
                    }
                })
                .or_insert(Overlap {
                    subject: other.subject,
                    venue_no: visit.venue_no,
                    first_at: start,
                    overlap_ms: overlap,
                    shared_visits: 1,
                });
        }
    }
    let mut list: Vec<Overlap> = found.into_values().collect();
    list.sort_by(|a, b| {
        b.overlap_ms
            .cmp(&a.overlap_ms)
            .then(a.first_at.cmp(&b.first_at))
    });
    Ok(list)
}

/// How long two presences `[at, at + dwell)` at the same venue overlap.
fn shared_presence(a: &Visit, b: &Visit, dwell_ms: i64) -> i64 {
    (a.at.min(b.at) + dwell_ms - a.at.max(b.at)).max(0)
}

/// A match as the officer sees it: no names, no venues, only what a designation needs — when
/// the contact began and how strong it was — with a reference to confirm it by.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MatchResult {
    /// The case's check-ins in the period.
    pub case_visits: usize,
    pub contacts: Vec<ContactRow>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContactRow {
    /// Opaque; valid for confirmation for a day, by officers only.
    pub reference: String,
    /// RFC 3339.
    pub first_overlap_at: String,
    pub overlap_minutes: i64,
    pub shared_visits: u32,
    /// A visitor checked in with a foreign credential: no person of this region to designate;
    /// their own health authority is told through the credential's issuer.
    pub visitor: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchRequest {
    /// The ID number of a confirmed case (a positive test in force).
    pub resident_id: String,
    /// RFC 3339; the period of the case's history to match, at most 28 days.
    pub from: String,
    pub to: String,
    /// Presence after a check-in, 5–240 minutes; default 30.
    pub dwell_minutes: Option<i64>,
    /// Why the match is run (recorded in the log).
    pub purpose: String,
}

/// How long a request waits for its approval, and an approved one may be run.
const REQUEST_LIFETIME_MS: i64 = 24 * 3_600_000;

#[derive(Serialize)]
struct MatchEntry<'a> {
    kind: &'static str,
    at: String,
    actor: &'a str,
    department: Option<&'a str>,
    subject: String,
    request: &'a str,
    purpose: &'a str,
    period: (String, String),
    dwell_minutes: i64,
    found: Option<usize>,
}

fn parse_time(field: &'static str, text: &str) -> AppResult<i64> {
    let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| AppError::invalid(field, "must be an RFC 3339 date and time"))?;
    Ok((at.unix_timestamp_nanos() / 1_000_000) as i64)
}

async fn log_match(
    state: &AppState,
    actor: &Actor,
    kind: &'static str,
    person_id: &str,
    row: &store::MatchRequestRow,
    found: Option<usize>,
) -> AppResult<()> {
    let entry = MatchEntry {
        kind,
        at: crate::time_fmt::rfc3339(state.now()),
        actor: actor.id(),
        department: actor.account.department_id.as_deref(),
        subject: state.vault.subject_commitment(person_id),
        request: &row.id,
        purpose: &row.purpose,
        period: (
            crate::time_fmt::rfc3339(row.period_from),
            crate::time_fmt::rfc3339(row.period_to),
        ),
        dwell_minutes: row.dwell_minutes,
        found,
    };
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    Ok(())
}

fn case_context(id: &str) -> String {
    format!("contact_match_requests.case/{id}")
}

/// The case a request is about, and the request, when the actor's health reach covers them.
async fn request_in_reach(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> AppResult<(String, store::MatchRequestRow)> {
    let row = store::match_request(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let plain = state
        .vault
        .open_field(&case_context(&row.id), &row.case_sealed)?;
    let person_id = String::from_utf8(plain.to_vec()).map_err(|e| AppError::Internal(e.into()))?;
    crate::health::service::ensure_health_reach(state, actor, &person_id).await?;
    Ok((person_id, row))
}

/// Asks for a match about a confirmed case (a health officer whose reach covers the case).
/// Nothing is read until a second officer approves ([`approve_match`]).
pub async fn request_match(
    state: &AppState,
    actor: &Actor,
    request: &MatchRequest,
) -> AppResult<String> {
    let purpose = request.purpose.trim();
    if purpose.is_empty() || purpose.chars().count() > 200 {
        return Err(AppError::invalid(
            "purpose",
            "must state why (1–200 characters)",
        ));
    }
    let (from, to) = (
        parse_time("from", &request.from)?,
        parse_time("to", &request.to)?,
    );
    let now = state.now();
    let retention = state.config.checkin_retention_days.max(1) * store::DAY_MS;
    if to <= from || to - from > retention || to > now + 60_000 {
        return Err(AppError::invalid(
            "to",
            "the period must be ordered, not in the future, and at most the retention period long",
        ));
    }
    let dwell = request.dwell_minutes.unwrap_or(DEFAULT_DWELL_MINUTES);
    if !(5..=240).contains(&dwell) {
        return Err(AppError::invalid(
            "dwell_minutes",
            "must lie between 5 and 240",
        ));
    }
    let resident_id = request
        .resident_id
        .trim()
        .parse()
        .map_err(|e| AppError::invalid("resident_id", e))?;
    let person_id = personal::person_id_by_resident_id(state, &resident_id)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::health::service::ensure_health_reach(state, actor, &person_id).await?;
    if !crate::health::service::is_confirmed_case(state, &person_id).await? {
        return Err(AppError::Conflict(
            "contact matching is for confirmed cases: this person has no positive test in force"
                .into(),
        ));
    }
    let region = personal::person_region(state, &person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let id = crate::random::new_id();
    let row = store::MatchRequestRow {
        case_sealed: state
            .vault
            .seal_field(&case_context(&id), person_id.as_bytes()),
        id,
        region_code: region.as_str().to_owned(),
        period_from: from,
        period_to: to,
        dwell_minutes: dwell,
        purpose: purpose.to_owned(),
        requested_by: actor.id().to_owned(),
        requested_at: now,
        approved_by: None,
        approved_at: None,
    };
    log_match(
        state,
        actor,
        "contact_match_requested",
        &person_id,
        &row,
        None,
    )
    .await?;
    store::insert_match_request(state.pool(), &row).await?;
    Ok(row.id)
}

/// The second officer's approval of a match request, within a day of it.
pub async fn approve_match(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    let (person_id, row) = request_in_reach(state, actor, id).await?;
    if row.requested_by == actor.id() {
        return Err(AppError::Conflict(
            "a match needs a second officer's approval, not its requester's".into(),
        ));
    }
    let now = state.now();
    if !store::approve_match_request(state.pool(), id, actor.id(), now, now - REQUEST_LIFETIME_MS)
        .await?
    {
        return Err(AppError::Conflict(
            "the request is approved already or older than a day".into(),
        ));
    }
    log_match(
        state,
        actor,
        "contact_match_approved",
        &person_id,
        &row,
        None,
    )
    .await
}

/// Runs an approved match (its requester or approver, within a day of the approval), and logs
/// the run with how many were found.
pub async fn run_match(state: &AppState, actor: &Actor, id: &str) -> AppResult<MatchResult> {
    let (person_id, row) = request_in_reach(state, actor, id).await?;
    let now = state.now();
    let approved_at = row.approved_at.ok_or_else(|| {
        AppError::Conflict("the match waits for a second officer's approval".into())
    })?;
    if now - approved_at > REQUEST_LIFETIME_MS {
        return Err(AppError::Conflict(
            "the approval is older than a day: ask again".into(),
        ));
    }
    if row.requested_by != actor.id() && row.approved_by.as_deref() != Some(actor.id()) {
        return Err(AppError::Forbidden);
    }
    let case = super::subject_of(state, &person_id);
    let (from, to) = (row.period_from, row.period_to);
    let case_visits = store::visits_of(state.pool(), &case, from, to).await?.len();
    let found = overlaps(state.pool(), &case, from, to, row.dwell_minutes * 60_000).await?;
    log_match(
        state,
        actor,
        "contact_match",
        &person_id,
        &row,
        Some(found.len()),
    )
    .await?;
    let mut contacts = Vec::with_capacity(found.len());
    for o in &found {
        let visitor = super::person_of(state, &o.subject)
            .await?
            .is_some_and(|id| id.starts_with(super::VISITOR));
        contacts.push(ContactRow {
            reference: reference(state, &o.subject, o.first_at, now),
            first_overlap_at: crate::time_fmt::rfc3339(o.first_at),
            overlap_minutes: o.overlap_ms / 60_000,
            shared_visits: o.shared_visits,
            visitor,
        });
    }
    Ok(MatchResult {
        case_visits,
        contacts,
    })
}

/// A request waiting for approval, as the approver's inbox shows it.
pub struct OpenRequest {
    pub id: String,
    pub purpose: String,
    pub period: (i64, i64),
    pub dwell_minutes: i64,
    pub requested_by: String,
    pub requested_at: i64,
}

/// Requests the actor may approve: in their reach, not their own, made within a day.
pub async fn open_requests(state: &AppState, actor: &Actor) -> AppResult<Vec<OpenRequest>> {
    let since = state.now() - REQUEST_LIFETIME_MS;
    let mut open = Vec::new();
    for row in store::open_match_requests(state.pool(), since).await? {
        if row.requested_by == actor.id() {
            continue;
        }
        let Ok(region) = row.region_code.parse() else {
            continue;
        };
        // A health officer whose scope covers the case's region.
        let reach = crate::authz::can(
            actor,
            crate::authz::Action::ManageHealthPolicy,
            crate::authz::Resource::Region(&region),
        );
        if reach {
            open.push(OpenRequest {
                id: row.id,
                purpose: row.purpose,
                period: (row.period_from, row.period_to),
                dwell_minutes: row.dwell_minutes,
                requested_by: row.requested_by,
                requested_at: row.requested_at,
            });
        }
    }
    Ok(open)
}

/// Approved requests the actor may run now: theirs or approved by them, within a day of the
/// approval.
pub async fn runnable_requests(state: &AppState, actor: &Actor) -> AppResult<Vec<OpenRequest>> {
    let since = state.now() - REQUEST_LIFETIME_MS;
    Ok(store::approved_match_requests(state.pool(), since)
        .await?
        .into_iter()
        .filter(|row| {
            row.requested_by == actor.id() || row.approved_by.as_deref() == Some(actor.id())
        })
        .map(|row| OpenRequest {
            id: row.id,
            purpose: row.purpose,
            period: (row.period_from, row.period_to),
            dwell_minutes: row.dwell_minutes,
            requested_by: row.requested_by,
            requested_at: row.requested_at,
        })
        .collect())
}

/// Deletes requests older than the check-ins they could read.
pub async fn purge_requests(state: &AppState) -> AppResult<u64> {
    let before = state.now() - state.config.checkin_retention_days.max(1) * store::DAY_MS;
    store::purge_match_requests(state.pool(), before).await
}

/// A reference the officer can hand back to confirm: the pseudonym, the time of contact and
/// the match time, sealed, so that it cannot be made up or reused after a day.
fn reference(state: &AppState, subject: &[u8; 16], at: i64, now: i64) -> String {
    let mut plain = subject.to_vec();
    plain.extend_from_slice(&at.to_be_bytes());
    plain.extend_from_slice(&now.to_be_bytes());
    URL_SAFE_NO_PAD.encode(state.vault.seal_field(REFERENCE_CONTEXT, &plain))
}

fn open_reference(state: &AppState, text: &str) -> AppResult<([u8; 16], i64)> {
    let refused = || AppError::invalid("references", "a reference is not one this platform made");
    let sealed = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| refused())?;
    if sealed.len() > 256 {
        return Err(refused());
    }
    let plain = state
        .vault
        .open_field(REFERENCE_CONTEXT, &sealed)
        .map_err(|_| refused())?;
    if plain.len() != 32 {
        return Err(refused());
    }
    let mut pseudonym = [0u8; 16];
    pseudonym.copy_from_slice(&plain[..16]);
    let at = i64::from_be_bytes(plain[16..24].try_into().map_err(|_| refused())?);
    let made = i64::from_be_bytes(plain[24..32].try_into().map_err(|_| refused())?);
    if state.now() - made > REFERENCE_LIFETIME_MS {
        return Err(AppError::invalid(
            "references",
            "a reference is older than a day: run the match again",
        ));
    }
    Ok((pseudonym, at))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// References from a match, of the contacts the officer judges real (1–500).
    pub references: Vec<String>,
    pub legal_basis: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Confirmed {
    /// The ids of the contact-designation facts recorded, one per reference; each waits for a
    /// second officer's confirmation.
    pub facts: Vec<String>,
}

/// Designates contacts: each reference becomes a contact-designation fact about its person,
/// logged as the officer's decision, in force once a second officer confirms it. All
/// references are checked before anything is recorded.
pub async fn confirm(
    state: &AppState,
    actor: &Actor,
    request: &ConfirmRequest,
) -> AppResult<Confirmed> {
    if request.references.is_empty() || request.references.len() > 500 {
        return Err(AppError::invalid("references", "send 1 to 500 references"));
    }
    let mut people = Vec::with_capacity(request.references.len());
    for text in &request.references {
        let (subject, at) = open_reference(state, text)?;
        let person = super::person_of(state, &subject).await?.ok_or_else(|| {
            AppError::invalid("references", "a contact's check-ins are gone (retention)")
        })?;
        if person.starts_with(super::VISITOR) {
            return Err(AppError::invalid(
                "references",
                "a visitor is no person of this region: tell their health authority through the credential's issuer",
            ));
        }
        crate::health::service::ensure_health_reach(state, actor, &person).await?;
        people.push((person, at));
    }
    let mut facts = Vec::with_capacity(people.len());
    for (person, at) in people {
        facts.push(
            crate::health::service::record_contact_designation(
                state,
                actor,
                &person,
                at,
                &request.legal_basis,
            )
            .await?,
        );
    }
    Ok(Confirmed { facts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visit(at: i64) -> Visit {
        Visit {
            venue_no: 1,
            at,
            subject: [0; 16],
        }
    }

    #[test]
    fn presence_overlaps_by_the_shorter_shared_stretch() {
        let dwell = 30 * 60_000;
        assert_eq!(shared_presence(&visit(0), &visit(0), dwell), dwell);
        assert_eq!(
            shared_presence(&visit(0), &visit(10 * 60_000), dwell),
            20 * 60_000
        );
        assert_eq!(
            shared_presence(&visit(10 * 60_000), &visit(0), dwell),
            20 * 60_000
        );
        assert_eq!(shared_presence(&visit(0), &visit(dwell), dwell), 0);
        assert_eq!(shared_presence(&visit(0), &visit(2 * dwell), dwell), 0);
    }
}
