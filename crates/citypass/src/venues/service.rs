//! 场所码: applying for a venue code, deciding on it, the code itself, citizens checking in by
//! scanning it (with companions), and the counts venues and the operations view may see.

use serde::{Deserialize, Serialize};
use tongban_core::{RegionCode, VenueCode};

use super::{KINDS, Venue, store};
use crate::authz::{Action, Resource, can};
use crate::checkins::{self, Method};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::identity::personal;
use crate::state::AppState;

/// A check-in sent later than this (a phone that was offline) is refused as too old.
/// How far back a check-in may be dated: the clocks' skew, no more (a check-in is made when
/// the code is scanned, not remembered later).
const OLDEST_CHECKIN_MS: i64 = 5 * 60_000;
/// Companions one holder may add in a day, and hold at all.
const COMPANIONS_PER_DAY: i64 = 5;
const MAX_COMPANIONS: usize = 10;
/// Cells of the operations view with fewer people than this are not shown.
pub const DEFAULT_K: i64 = 10;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub name: String,
    /// transit, library, hospital, government_hall or other.
    pub kind: String,
    /// The district (or finer) region the venue lies in.
    pub region_code: String,
    pub address: String,
    /// People the venue holds at once.
    pub capacity: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VenueView {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub region_code: String,
    pub status: String,
    /// The venue code (only once active).
    pub code: Option<String>,
}

fn text(field: &'static str, value: &str, max: usize) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(AppError::invalid(
            field,
            format!("must be 1–{max} characters of text"),
        ));
    }
    Ok(value.to_owned())
}

pub fn view(state: &AppState, venue: &Venue) -> VenueView {
    VenueView {
        id: venue.id.clone(),
        name: venue.name.clone(),
        kind: venue.kind.clone(),
        region_code: venue.region_code.clone(),
        status: venue.status.clone(),
        code: (venue.status == "active").then(|| code_for(state, venue)),
    }
}

/// A venue operator applies for a code; staff of the district decide.
pub async fn apply(state: &AppState, actor: &Actor, application: &Application) -> AppResult<Venue> {
    let name = text("name", &application.name, 100)?;
    let address = text("address", &application.address, 200)?;
    if !KINDS.iter().any(|k| k.kind == application.kind) {
        return Err(AppError::invalid(
            "kind",
            "must be transit, library, hospital, government_hall or other",
        ));
    }
    if !(1..=1_000_000).contains(&application.capacity) {
        return Err(AppError::invalid(
            "capacity",
            "must lie between 1 and 1,000,000",
        ));
    }
    let region: RegionCode = application
        .region_code
        .trim()
        .parse()
        .map_err(|e| AppError::invalid("region_code", e))?;
    if crate::admin::directory::region(state, region.as_str())
        .await?
        .is_none()
    {
        return Err(AppError::invalid("region_code", "no such region"));
    }
    if !can(actor, Action::ApplyVenue, Resource::Region(&region)) {
        return Err(AppError::Forbidden);
    }
    let id = crate::random::new_id();
    store::insert_application(
        state,
        &id,
        &name,
        &application.kind,
        region.as_str(),
        &address,
        application.capacity,
        actor.id(),
    )
    .await?;
    store::venue_by_id(state.pool(), &id)
        .await?
        .ok_or(AppError::NotFound)
}

/// What staff decide about a venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[schema(as = VenueDecision)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Refuse,
    Revoke,
}

/// Approves or refuses a pending venue, or revokes an active one (its code stops working at
/// once). Logged.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    id: &str,
    decision: Decision,
) -> AppResult<()> {
    let venue = store::venue_by_id(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let region: RegionCode = venue
        .region_code
        .parse()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored region: {e}")))?;
    if !can(actor, Action::DecideVenue, Resource::Region(&region)) {
        return Err(AppError::Forbidden);
    }
    let (from, to) = match decision {
        Decision::Approve => ("pending", "active"),
        Decision::Refuse => ("pending", "refused"),
        Decision::Revoke => ("active", "revoked"),
    };
    let entry = serde_json::json!({
        "kind": "venue_decision",
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": actor.id(),
        "venue": venue.id,
        "decision": to,
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    if !store::set_status(state, id, from, to, actor.id()).await? {
        return Err(AppError::Conflict(format!(
            "the venue is {}, not {from}",
            venue.status
        )));
    }
    Ok(())
}

fn code_tag(state: &AppState, region: &str, no: i64) -> String {
    state
        .vault
        .blind_index("venue_code", &format!("{region}:{no}"))
        .chars()
        .take(16)
        .collect()
}

/// The text of a venue's code: region, number and a keyed tag, so that a code cannot be made
/// up and names its region for the scanner to see.
pub fn code_for(state: &AppState, venue: &Venue) -> String {
    match venue.region_code.parse() {
        Ok(region) => VenueCode {
            region,
            number: venue.no,
            tag: code_tag(state, &venue.region_code, venue.no),
        }
        .to_string(),
        Err(_) => String::new(),
    }
}

/// Where the venue's QR code points: the check-in page.
pub fn code_url(state: &AppState, base_url: &str, venue: &Venue) -> String {
    format!(
        "{}/v/{}",
        base_url.trim_end_matches('/'),
        code_for(state, venue)
    )
}

/// The active venue behind a code of this region; a clear refusal for anything else.
pub async fn resolve(state: &AppState, code: &str) -> AppResult<Venue> {
    let refused = |why: &str| AppError::invalid("venue_code", why.to_owned());
    let VenueCode {
        region: region_code,
        number: no,
        tag,
    } = code
        .trim()
        .parse()
        .map_err(|_| refused("not a venue code"))?;
    let region = region_code.as_str();
    let home: RegionCode = state
        .config
        .region_code
        .parse()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("configured region: {e}")))?;
    if !home.contains(&region_code) {
        return Err(refused("the venue code is of another region"));
    }
    if !crate::web::cookies::tokens_match(&tag, &code_tag(state, region, no)) {
        return Err(refused("the venue code is not one this platform issued"));
    }
    let venue = store::venue_by_no(state.pool(), no)
        .await?
        .ok_or_else(|| refused("no such venue"))?;
    match venue.status.as_str() {
        "active" => Ok(venue),
        "revoked" => Err(refused("the venue's code has been revoked")),
        _ => Err(refused("the venue's code is not approved")),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckinRequest {
    pub venue_code: String,
    /// Companions checked in along (their ids from `GET /api/v1/me/companions`).
    #[serde(default)]
    pub companions: Vec<String>,
    /// When the code was scanned (RFC 3339); default now. At most five minutes ago (the
    /// clocks' skew), never in the future.
    pub at: Option<String>,
}

/// What the citizen shows the door staff.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckinOutcome {
    pub venue: String,
    pub colour: String,
    /// False when the same scan came within a minute of the last (counted once).
    pub recorded: bool,
    pub companions_recorded: usize,
    /// When, in China time (`YYYY-MM-DD HH:MM`), for the door staff to see it is not an old
    /// screenshot.
    pub at: String,
}

/// A citizen checks in at a venue by its code, with companions. Every companion is checked to
/// belong to the citizen before anything is recorded.
pub async fn check_in_by_code(
    state: &AppState,
    actor: &Actor,
    request: &CheckinRequest,
) -> AppResult<CheckinOutcome> {
    let person_id = actor.account.person_id.clone().ok_or(AppError::Forbidden)?;
    let now = state.now();
    let at = match &request.at {
        None => now,
        Some(text) => {
            let at = time::OffsetDateTime::parse(
                text.trim(),
                &time::format_description::well_known::Rfc3339,
            )
            .map_err(|_| AppError::invalid("at", "must be an RFC 3339 date and time"))?;
            let at = (at.unix_timestamp_nanos() / 1_000_000) as i64;
            if at > now + 60_000 {
                return Err(AppError::invalid(
                    "at",
                    "a check-in cannot lie in the future",
                ));
            }
            if at < now - OLDEST_CHECKIN_MS {
                return Err(AppError::invalid(
                    "at",
                    "a check-in is dated when the code is scanned: at most five minutes ago",
                ));
            }
            at
        }
    };
    if request.companions.len() > 10 {
        return Err(AppError::invalid("companions", "at most ten companions"));
    }
    let venue = resolve(state, &request.venue_code).await?;
    let mine = store::companions_of(state.pool(), &person_id).await?;
    for companion in &request.companions {
        match mine.iter().find(|(id, _, _, _)| id == companion) {
            Some((_, _, _, true)) => {}
            Some(_) => {
                return Err(AppError::invalid(
                    "companions",
                    "a companion has not consented yet",
                ));
            }
            None => {
                return Err(AppError::invalid(
                    "companions",
                    "a companion is not one you registered",
                ));
            }
        }
    }
    let status = crate::health::service::status_of(state, &person_id).await?;
    // The person and their companions are stored together or, on an error, not at all.
    let people: Vec<(&str, Method)> = std::iter::once((person_id.as_str(), Method::VenueCode))
        .chain(
            request
                .companions
                .iter()
                .map(|companion| (companion.as_str(), Method::Companion)),
        )
        .collect();
    let kept = checkins::record_together(state, &venue, &people, at).await?;
    let recorded = kept.first().copied().unwrap_or(false);
    let companions_recorded = kept.iter().skip(1).filter(|kept| **kept).count();
    Ok(CheckinOutcome {
        venue: venue.name,
        colour: status.colour,
        recorded,
        companions_recorded,
        at: state.zone().display(at),
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCompanion {
    pub resident_id: String,
    /// The family member's full name, as registered.
    pub name: String,
    /// e.g. 父亲, 母亲, 子女.
    pub relation: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Companion {
    pub id: String,
    pub masked_name: String,
    pub relation: String,
    /// False until the companion consents (on their own account, or in person at a window);
    /// until then they are not checked in along.
    pub consented: bool,
}

/// Asks to register a family member the citizen may check in along: their ID number and name
/// must match a registered person (the comparison shows in that person's access list). The
/// companion is checked in along only once they consent. At most five a day, ten in all.
pub async fn add_companion(
    state: &AppState,
    actor: &Actor,
    new: &NewCompanion,
) -> AppResult<Companion> {
    let holder = actor.account.person_id.clone().ok_or(AppError::Forbidden)?;
    let relation = text("relation", &new.relation, 20)?;
    let name = text("name", &new.name, 50)?;
    let resident_id = new
        .resident_id
        .trim()
        .parse()
        .map_err(|e| AppError::invalid("resident_id", e))?;
    let not_found = || {
        AppError::invalid(
            "resident_id",
            "no registered person with this ID number and name",
        )
    };
    let person = personal::person_id_by_resident_id(state, &resident_id)
        .await?
        .ok_or_else(not_found)?;
    if person == holder {
        return Err(AppError::invalid("resident_id", "that is you"));
    }
    let now = state.now();
    if store::companions_of(state.pool(), &holder).await?.len() >= MAX_COMPANIONS
        || store::companions_added_since(state.pool(), &holder, now - 86_400_000).await?
            >= COMPANIONS_PER_DAY
    {
        return Err(AppError::LockedOut {
            retry_after_seconds: 86_400,
        });
    }
    if !personal::name_matches(state, actor, &person, &name).await? {
        return Err(not_found());
    }
    let masked = personal::masked_name(&name);
    store::insert_companion(state, &holder, &person, &relation, &masked).await?;
    Ok(Companion {
        id: person,
        masked_name: masked,
        relation,
        consented: false,
    })
}

/// Someone who asks to check the actor in along, as the actor's page shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CompanionRequest {
    /// The asking holder (to accept or decline).
    pub holder: String,
    /// The holder's masked registered name.
    pub holder_name: String,
    /// How the holder named the relation.
    pub relation: String,
}

/// Who asks to check the actor in along, waiting for their answer.
pub async fn companion_requests(
    state: &AppState,
    actor: &Actor,
) -> AppResult<Vec<CompanionRequest>> {
    let person = actor.account.person_id.clone().ok_or(AppError::Forbidden)?;
    let mut requests = Vec::new();
    for (holder, relation) in store::companion_requests(state.pool(), &person).await? {
        requests.push(CompanionRequest {
            holder_name: personal::masked_name_of(state, &holder).await?,
            holder,
            relation,
        });
    }
    Ok(requests)
}

/// The companion answers on their own account: consent, or decline (the request goes).
pub async fn answer_companion_request(
    state: &AppState,
    actor: &Actor,
    holder: &str,
    accept: bool,
) -> AppResult<()> {
    let person = actor.account.person_id.clone().ok_or(AppError::Forbidden)?;
    let done = if accept {
        store::consent_companion(state.pool(), holder, &person, actor.id(), state.now()).await?
    } else {
        store::remove_companion(state.pool(), holder, &person).await?
    };
    if done {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// A clerk records the consent a companion without a phone gave in person at a service
/// window, after checking their ID card: a clerk whose scope covers the companion.
pub async fn consent_in_person(
    state: &AppState,
    actor: &Actor,
    holder_resident_id: &tongban_core::ResidentId,
    companion_resident_id: &tongban_core::ResidentId,
) -> AppResult<()> {
    let find = |id: &tongban_core::ResidentId| {
        let id = id.clone();
        async move {
            personal::person_id_by_resident_id(state, &id)
                .await?
                .ok_or(AppError::NotFound)
        }
    };
    let (holder, companion) = (
        find(holder_resident_id).await?,
        find(companion_resident_id).await?,
    );
    let region = personal::person_region(state, &companion)
        .await?
        .ok_or(AppError::NotFound)?;
    let resource = Resource::Person {
        id: &companion,
        region: &region,
    };
    if !can(actor, Action::RecordConsentInPerson, resource) {
        return Err(AppError::Forbidden);
    }
    if !store::consent_companion(state.pool(), &holder, &companion, actor.id(), state.now()).await?
    {
        return Err(AppError::NotFound);
    }
    Ok(())
}

pub async fn companions(state: &AppState, actor: &Actor) -> AppResult<Vec<Companion>> {
    let holder = actor.account.person_id.clone().ok_or(AppError::Forbidden)?;
    Ok(store::companions_of(state.pool(), &holder)
        .await?
        .into_iter()
        .map(|(id, relation, masked_name, consented)| Companion {
            id,
            masked_name,
            relation,
            consented,
        })
        .collect())
}

/// Check-in counts of one venue, for its own staff.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VenueCounts {
    pub venue: String,
    pub last_24_hours: i64,
    pub last_7_days: i64,
}

pub async fn counts(state: &AppState, actor: &Actor, venue_id: &str) -> AppResult<VenueCounts> {
    let venue = store::venue_by_id(state.pool(), venue_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !store::is_staff_of(state.pool(), actor.id(), &venue.id).await? {
        return Err(AppError::NotFound);
    }
    let now = state.now();
    Ok(VenueCounts {
        last_24_hours: checkins::store::count_at(state.pool(), venue.no, now - 86_400_000, now)
            .await?,
        last_7_days: checkins::store::count_at(state.pool(), venue.no, now - 7 * 86_400_000, now)
            .await?,
        venue: venue.name,
    })
}

/// One cell of the operations view.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DistrictHour {
    pub district: String,
    /// Hour of the day, China time (0–23).
    pub hour: i64,
    pub checkins: i64,
}

/// Check-ins per district and hour of one day (in the region's time zone; hour 0 begins at its
/// midnight), in the actor's reach, showing only
/// cells where at least `k` distinct people checked in.
pub async fn district_hours(
    state: &AppState,
    actor: &Actor,
    day: time::Date,
    k: i64,
) -> AppResult<Vec<DistrictHour>> {
    if !can(actor, Action::ReadCheckinStatistics, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
    let (from, to) = state.zone().day_span(day);
    let cells = checkins::store::district_hours(state.pool(), from, to).await?;
    let mut shown = Vec::new();
    for (district, hour, total, people) in cells {
        let Ok(code) = district.parse::<RegionCode>() else {
            continue;
        };
        if people >= k.max(1)
            && can(
                actor,
                Action::ReadCheckinStatistics,
                Resource::Region(&code),
            )
        {
            // Rounded as the operations view rounds the same count.
            shown.push(DistrictHour {
                district,
                hour,
                checkins: tongban_platform::figures::rounded(total, k),
            });
        }
    }
    Ok(shown)
}

/// Venues awaiting a decision that the actor may decide.
pub async fn pending_for(state: &AppState, actor: &Actor) -> AppResult<Vec<Venue>> {
    if !actor.grants.iter().any(|g| {
        matches!(
            g.role,
            crate::identity::model::Role::Clerk | crate::identity::model::Role::DeptAdmin
        )
    }) {
        return Ok(Vec::new());
    }
    Ok(store::pending_venues(state.pool())
        .await?
        .into_iter()
        .filter(|v| {
            v.region_code
                .parse::<RegionCode>()
                .is_ok_and(|code| can(actor, Action::DecideVenue, Resource::Region(&code)))
        })
        .collect())
}

/// An active venue the account works at; anything else is "not found".
pub async fn staff_venue(state: &AppState, account_id: &str, id: &str) -> AppResult<super::Venue> {
    let venue = store::venue_by_id(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if venue.status != "active" || !store::is_staff_of(state.pool(), account_id, &venue.id).await? {
        return Err(AppError::NotFound);
    }
    Ok(venue)
}

/// Records that a person may use a service (a library card, a transit account).
pub async fn grant_entitlement(state: &AppState, person_id: &str, service: &str) -> AppResult<()> {
    super::store::grant_entitlement(state.pool(), person_id, service).await?;
    crate::health::inputs::person_changed(state, person_id).await;
    Ok(())
}
