//! 场所码 check-ins: recording them at scale, matching contacts (时空伴随) for health
//! officers, retention. Check-ins are whereabouts, the most sensitive data the platform holds:
//! stored under pseudonyms, read only by health officers for a stated purpose, every read
//! logged, deleted after the retention period.

pub mod contacts;
pub(crate) mod store;
pub mod writer;

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::venues::Venue;

pub use store::{DAY_MS, Visit, count_at, visits_of};
pub use writer::{CheckinWriter, NewCheckin, SAME_VISIT_MS};

/// How a check-in was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Venue staff scanned the person's pass.
    PassScan = 1,
    /// The person scanned the venue's code.
    VenueCode = 2,
    /// Checked in as a companion by a family member.
    Companion = 3,
}

/// The pseudonym of a person in check-in rows.
pub fn subject_of(state: &AppState, person_id: &str) -> [u8; 16] {
    state.vault.pseudonym("checkin", person_id)
}

fn sealing_context(subject: &[u8; 16]) -> String {
    format!(
        "checkin_subjects.person/{}",
        crate::random::hex_encode(subject)
    )
}

/// What a visitor checked in with a foreign credential is recorded as: no person of this
/// region, but the same credential gives the same id (a digest of it, never the credential).
pub fn visitor_id(credential: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(credential.trim().as_bytes());
    format!("{VISITOR}{}", crate::random::hex_encode(&digest[..16]))
}

/// The prefix of a visitor's id among check-ins.
pub const VISITOR: &str = "visitor:";

/// Records a check-in now; `Ok(false)` when it repeats one of the last minute at that venue.
pub async fn record(
    state: &AppState,
    venue: &Venue,
    person_id: &str,
    method: Method,
) -> AppResult<bool> {
    record_at(state, venue, person_id, method, state.now()).await
}

/// Records a check-in made at `at` (a scan sent late by a phone that was offline).
pub async fn record_at(
    state: &AppState,
    venue: &Venue,
    person_id: &str,
    method: Method,
    at: i64,
) -> AppResult<bool> {
    let kept = record_together(state, venue, &[(person_id, method)], at).await?;
    Ok(kept.first().copied().unwrap_or(false))
}

/// Records check-ins of several people at one venue at once (a person and the companions they
/// bring): all stored or, on an error, none. For each, whether it was new.
pub async fn record_together(
    state: &AppState,
    venue: &Venue,
    people: &[(&str, Method)],
    at: i64,
) -> AppResult<Vec<bool>> {
    let checkins = people
        .iter()
        .map(|(person_id, method)| {
            let subject = subject_of(state, person_id);
            let person_sealed = state
                .vault
                .seal_field(&sealing_context(&subject), person_id.as_bytes());
            NewCheckin {
                venue_no: venue.no,
                at,
                subject,
                person_sealed,
                method: *method as i64,
            }
        })
        .collect();
    let kept = state.module::<CheckinWriter>().record_all(checkins).await?;
    let new = kept.iter().filter(|kept| **kept).count() as i64;
    tongban_platform::figures::count_n(state, RECORDED, &venue.region_code, new);
    Ok(kept)
}

/// Check-ins stored (a repeat scan within the minute is not one), by the venue's region.
const RECORDED: &str = "checkins.recorded";

/// The figures of check-ins, as the module declares them.
pub const FIGURES: &[tongban_platform::figures::Figure] = &[tongban_platform::figures::Figure {
    key: RECORDED,
    group: "checkins",
    zh: "场所扫码登记",
    en: "Venue check-ins",
    about_persons: true,
    by: None,
}];

const ACTIVE_VENUES: &str = "checkins.active_venues";

/// What check-ins measure: the venues where someone checked in over the last day.
pub const LEVELS: &[tongban_platform::figures::Figure] = &[tongban_platform::figures::Figure {
    key: ACTIVE_VENUES,
    group: "checkins",
    zh: "近24小时有登记的场所",
    en: "Venues with check-ins in the last 24 hours",
    about_persons: false,
    by: None,
}];

/// The venues seen in the last 24 hours, by region: each venue's latest check-in is kept as the
/// compactor moves the log (so the level lags the scans by the log's minute).
pub async fn measure(state: &AppState) -> AppResult<Vec<tongban_platform::figures::Measured>> {
    let since = state.now() - 24 * tongban_platform::figures::HOUR_MS;
    Ok(store::active_venues(state.pool(), since)
        .await?
        .into_iter()
        .map(|(region, value)| tongban_platform::figures::Measured {
            figure: ACTIVE_VENUES,
            region,
            part: None,
            value,
        })
        .collect())
}

/// The person behind a pseudonym checked in within the retention period (for a confirmed
/// contact).
pub async fn person_of(state: &AppState, subject: &[u8; 16]) -> AppResult<Option<String>> {
    let now = state.now();
    let from = now - state.config.checkin_retention_days.max(1) * store::DAY_MS;
    let Some(sealed) = store::sealed_person(state.pool(), subject, from, now).await? else {
        return Ok(None);
    };
    let plain = state.vault.open_field(&sealing_context(subject), &sealed)?;
    String::from_utf8(plain.to_vec())
        .map(Some)
        .map_err(|e| AppError::Internal(e.into()))
}

/// Deletes check-ins older than the retention period and logs how many and up to when.
pub async fn purge_expired(state: &AppState) -> AppResult<u64> {
    let days = state.config.checkin_retention_days.max(1);
    let before = state.now() - days * store::DAY_MS;
    let purged = store::delete_before(state, before).await?;
    if purged > 0 {
        let entry = serde_json::json!({
            "kind": "checkins_purged",
            "at": crate::time_fmt::rfc3339(state.now()),
            "actor": "operator",
            "detail": {"count": purged, "retention_days": days, "before": crate::time_fmt::rfc3339(before)},
        });
        crate::ledger::service::append(state, &entry)
            .await
            .map_err(|_| AppError::Unavailable)?;
    }
    Ok(purged)
}
