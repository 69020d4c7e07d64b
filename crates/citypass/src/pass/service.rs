//! Issuing a citizen's pass and checking passes online.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use tongban_codes::{Colour, PassClaims, issue_pass, verify_pass};
use tongban_crypto::KeyRing;
use tongban_platform::figures;

use crate::authz::{Action, Resource, can};
use crate::error::{AppError, AppResult};
use crate::health::service::{self as health, Status};
use crate::identity::model::Actor;
use crate::identity::personal;
use crate::keys::service as keys;
use crate::state::AppState;

const SUBJECT_CONTEXT: &str = "pass.subject";

fn colour(name: &str) -> Colour {
    match name {
        "green" => Colour::Green,
        "yellow" => Colour::Yellow,
        "red" => Colour::Red,
        _ => Colour::ServiceOnly,
    }
}

/// A pass as issued to its holder.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IssuedPass {
    pub code: String,
    /// RFC 3339.
    pub expires_at: String,
    pub colour: String,
    pub explanation: Status,
}

fn issuer(state: &AppState) -> String {
    format!("tongban.{}", state.config.region_code)
}

/// Codes this node signed in the last `pass_reuse_seconds`, by person. Off by default (a
/// fresh code per request: two scans of one person cannot be linked by the code); where an
/// operator turns it on, a code is served again only while everything it shows — the status
/// and its explanation, the entitlements, the initials — is what would be signed now, so a
/// change of colour is never hidden. See docs/pass-format.md, "Fresh codes".
pub struct ReusedCodes {
    codes: std::sync::Mutex<std::collections::HashMap<String, Reused>>,
    capacity: usize,
}

struct Reused {
    issued_at: i64,
    entitlements: Vec<String>,
    initials: String,
    pass: IssuedPass,
}

impl ReusedCodes {
    pub fn new(capacity: usize) -> ReusedCodes {
        ReusedCodes {
            codes: Default::default(),
            capacity: capacity.max(1),
        }
    }

    fn get(
        &self,
        person_id: &str,
        now: i64,
        window: i64,
        status: &Status,
        holder: &crate::health::inputs::HolderInputs,
    ) -> Option<IssuedPass> {
        let codes = self.codes.lock().ok()?;
        let reused = codes.get(person_id)?;
        let fresh = (0..window).contains(&(now - reused.issued_at));
        (fresh
            && reused.pass.explanation == *status
            && reused.entitlements == holder.entitlements
            && reused.initials == holder.initials)
            .then(|| reused.pass.clone())
    }

    fn put(&self, person_id: &str, reused: Reused, now: i64, window: i64) {
        let Ok(mut codes) = self.codes.lock() else {
            return;
        };
        if codes.len() >= self.capacity && !codes.contains_key(person_id) {
            codes.retain(|_, r| now - r.issued_at < window);
            if codes.len() >= self.capacity {
                codes.clear();
            }
        }
        codes.insert(person_id.to_owned(), reused);
    }
}

/// The longest reuse window an operator may set: a reused code keeps at least 4 of its 5
/// minutes.
const MAX_REUSE_SECONDS: i64 = 60;

/// The pass's figures for the operations view: codes shown (by the holder's region), checks
/// (by the venue's region, or the checker's), their colours, and ID-card checks.
const SHOWN: &str = "pass.shown";
const CHECKS: &str = "pass.checks";
const CHECKED_YELLOW: &str = "pass.checked_yellow";
const CHECKED_RED: &str = "pass.checked_red";
const NOT_ADMITTED: &str = "pass.not_admitted";
const ID_CHECKS: &str = "pass.id_checks";

/// The figures of the pass, as the module declares them.
pub const FIGURES: &[figures::Figure] = &[
    figure(SHOWN, "亮码", "Pass codes shown"),
    figure(CHECKS, "验码", "Passes checked"),
    figure(CHECKED_YELLOW, "验码为黄码", "Checks showing yellow"),
    figure(CHECKED_RED, "验码为红码", "Checks showing red"),
    figure(NOT_ADMITTED, "验码未准入", "Checks not admitted"),
    figure(ID_CHECKS, "一证通行核验", "ID-card checks"),
];

const fn figure(key: &'static str, zh: &'static str, en: &'static str) -> figures::Figure {
    figures::Figure::of_persons(key, "pass", zh, en)
}

fn colour_figure(colour: &str) -> Option<&'static str> {
    match colour {
        "yellow" => Some(CHECKED_YELLOW),
        "red" => Some(CHECKED_RED),
        _ => None,
    }
}

/// Issues a code for the actor's own person: a fresh one, or where the node reuses codes
/// (`pass_reuse_seconds`), the one it signed moments ago if nothing it shows has changed.
pub async fn issue_for(state: &AppState, actor: &Actor) -> AppResult<IssuedPass> {
    let person_id = actor
        .account
        .person_id
        .as_deref()
        .ok_or(AppError::NotFound)?;
    let status = health::status_of(state, person_id).await?;
    let holder = crate::health::inputs::holder(state, person_id).await?;
    figures::count(state, SHOWN, actor.account.home_region.as_str());
    let window = state.config.pass_reuse_seconds.clamp(0, MAX_REUSE_SECONDS);
    let reuse = (window > 0).then(|| state.module::<ReusedCodes>());
    if let Some(codes) = reuse
        && let Some(pass) = codes.get(person_id, state.now() / 1000, window, &status, &holder)
    {
        return Ok(pass);
    }
    let entitlements = holder.entitlements.clone();
    // The subject is the person id sealed under the vault key: it differs in every code and
    // only the issuer can resolve it.
    let subject = URL_SAFE_NO_PAD.encode(
        state
            .vault
            .seal_field(SUBJECT_CONTEXT, person_id.as_bytes()),
    );
    let now = state.now() / 1000;
    let expires = now + state.config.pass_lifetime_seconds.clamp(30, 3600);
    let claims = PassClaims {
        issuer: issuer(state),
        subject,
        colour: colour(&status.colour),
        initials: holder.initials.clone(),
        entitlements,
        issued_at: now,
        expires_at: expires,
    };
    let signer = keys::cached_signer(state, &state.config.region_code, keys::PASS).await?;
    let pass = IssuedPass {
        code: issue_pass(&claims, signer.as_ref()),
        expires_at: crate::time_fmt::rfc3339(expires * 1000),
        colour: status.colour.clone(),
        explanation: status,
    };
    if let Some(codes) = reuse {
        let reused = Reused {
            issued_at: now,
            entitlements: holder.entitlements.clone(),
            initials: holder.initials.clone(),
            pass: pass.clone(),
        };
        codes.put(person_id, reused, now, window);
    }
    Ok(pass)
}

/// The outcome of a check, shown large on the scanner.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckOutcome {
    pub valid: bool,
    /// A reason code when not valid (expired, bad_signature, …).
    pub reason: Option<String>,
    /// The holder's colour now (it may have changed since the code was made).
    pub colour: Option<String>,
    pub initials: Option<String>,
    /// At a venue: whether the holder may enter, and why not.
    pub admitted: Option<bool>,
    pub admission_reason: Option<String>,
    pub venue: Option<String>,
    /// At a venue that records check-ins: whether this check recorded a new one (false when
    /// the same person was checked in there within the last minute).
    pub checked_in: Option<bool>,
    /// For a pass of another, recognised region (互认): that region's code. Its colour is the
    /// one the region signed; no record of the person exists here, so nothing is checked in.
    pub region: Option<String>,
    /// For a foreign credential (a SMART Health Card, an EU DCC): what was verified. `admitted` is then
    /// the region's acceptance rule for visitors.
    pub foreign: Option<crate::trust::foreign::ForeignCredential>,
}

fn refused(reason: &str) -> CheckOutcome {
    CheckOutcome {
        valid: false,
        reason: Some(reason.to_owned()),
        colour: None,
        initials: None,
        admitted: None,
        admission_reason: None,
        venue: None,
        checked_in: None,
        region: None,
        foreign: None,
    }
}

/// Checks a code online: offline verification against this region's pass keys, then the
/// holder's current status. The check is logged in the holder's access record. A check never
/// changes anyone's colour.
pub async fn check(
    state: &AppState,
    actor: &Actor,
    code: &str,
    request_id: Option<&str>,
) -> AppResult<CheckOutcome> {
    if !can(actor, Action::CheckPass, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
    if crate::trust::foreign::is_shc(code) || crate::trust::dcc::is_dcc(code) {
        return check_visitor(state, actor, code, request_id).await;
    }
    let mut ring = KeyRing::new();
    for key in keys::verification_keys(state)
        .await?
        .into_iter()
        .filter(|k| k.purpose == keys::PASS)
    {
        if let Some(public) = key.public_key() {
            ring.insert(key.kid.clone(), public);
        }
    }
    let claims = match verify_pass(code, &ring, state.now() / 1000, &[issuer(state)]) {
        Ok(claims) => claims,
        Err(tongban_codes::PassError::UnknownKid) => {
            return check_foreign(state, actor, code).await;
        }
        Err(error) => return Ok(refused(error.code())),
    };
    let sealed = URL_SAFE_NO_PAD
        .decode(&claims.subject)
        .map_err(|_| AppError::invalid("code", "the subject reference is malformed"))?;
    let person_id = state
        .vault
        .open_field(SUBJECT_CONTEXT, &sealed)
        .map_err(|_| AppError::invalid("code", "the subject reference does not resolve"))?;
    let person_id = String::from_utf8(person_id.to_vec())
        .map_err(|_| AppError::invalid("code", "the subject reference does not resolve"))?;
    let status = health::status_of(state, &person_id).await?;
    // The access record is written while the door's venue is read; the check-in only once the
    // record is durable. Written side by side, a disk that filled between the two commits left
    // a visit stored behind an answer of 503 — an error must change nothing. A record without
    // a check-in (the check-in then refused) is true: the status was read.
    let recorded = personal::record_status_check(state, actor, &person_id, request_id);
    let door = crate::venues::venue_of(state.pool(), actor.id());
    let ((), venue) = tokio::try_join!(recorded, door)?;
    let admission = venue
        .as_ref()
        .map(|v| crate::venues::admits(&v.kind, &status.colour, &claims.entitlements));
    let checked_in = match (&venue, admission) {
        (Some(venue), Some(Ok(()))) if venue.records_checkins => Some(
            crate::checkins::record(state, venue, &person_id, crate::checkins::Method::PassScan)
                .await?,
        ),
        _ => None,
    };
    let region = venue
        .as_ref()
        .map_or(actor.account.home_region.as_str(), |v| {
            v.region_code.as_str()
        });
    figures::count(state, CHECKS, region);
    if let Some(figure) = colour_figure(&status.colour) {
        figures::count(state, figure, region);
    }
    if admission.is_some_and(|a| a.is_err()) {
        figures::count(state, NOT_ADMITTED, region);
    }
    Ok(CheckOutcome {
        valid: true,
        reason: None,
        colour: Some(status.colour),
        initials: Some(claims.initials),
        admitted: admission.map(|a| a.is_ok()),
        admission_reason: admission.and_then(|a| a.err()).map(str::to_owned),
        venue: venue.map(|v| v.name),
        checked_in,
        region: None,
        foreign: None,
    })
}

/// Checks a foreign credential (a SMART Health Card or an EU DCC) and applies the visitors'
/// rule. When the card's holder — name and birth date — matches a person registered here, that
/// person's own status applies as well: a resident whose colour does not admit them is not
/// admitted on a foreign card (the door asks for their own pass). Logged without any personal
/// data; a matched resident's status read is recorded in their access list.
async fn check_visitor(
    state: &AppState,
    actor: &Actor,
    code: &str,
    request_id: Option<&str>,
) -> AppResult<CheckOutcome> {
    let verified = if crate::trust::dcc::is_dcc(code) {
        crate::trust::foreign::check_dcc(state, code).await?
    } else {
        crate::trust::foreign::check_shc(state, code).await?
    };
    let (credential, accepted, holder) = match verified {
        Ok(verified) => verified,
        Err(reason) => return Ok(refused(&reason)),
    };
    let venue = crate::venues::venue_of(state.pool(), actor.id()).await?;
    let residents = match holder.birth_date {
        Some(birth) => {
            crate::identity::matching::residents_matching(state, &holder.name_parts(), birth)
                .await?
        }
        None => Vec::new(),
    };
    let mut held_by_own_status = false;
    for person_id in &residents {
        let status = health::status_of(state, person_id).await?;
        personal::record_status_check(state, actor, person_id, request_id).await?;
        let admits = match &venue {
            Some(venue) => crate::venues::admits(&venue.kind, &status.colour, &[]).is_ok(),
            None => status.colour == "green",
        };
        held_by_own_status |= !admits;
    }
    let admitted = accepted && !held_by_own_status;
    let entry = serde_json::json!({
        "kind": "foreign_credential_checked",
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": actor.id(),
        "format": credential.format,
        "issuer": credential.issuer,
        "accepted": accepted,
        "resident_status_applied": !residents.is_empty(),
        "admitted": admitted,
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    // An admitted visitor at a venue that records check-ins is recorded like anyone, under a
    // pseudonym of the credential: contact matching then counts them too.
    let checked_in = match &venue {
        Some(venue) if venue.records_checkins && admitted => Some(
            crate::checkins::record(
                state,
                venue,
                &crate::checkins::visitor_id(code),
                crate::checkins::Method::PassScan,
            )
            .await?,
        ),
        _ => None,
    };
    let admission_reason = if held_by_own_status {
        Some("resident_status")
    } else if !accepted {
        Some("visitor_rule")
    } else {
        None
    };
    Ok(CheckOutcome {
        valid: true,
        reason: None,
        colour: None,
        initials: credential.initials.clone(),
        admitted: Some(admitted),
        admission_reason: admission_reason.map(str::to_owned),
        venue: venue.map(|v| v.name),
        checked_in,
        region: None,
        foreign: Some(credential),
    })
}

/// Checks a pass of another region this one recognises: verified against that region's own
/// keys only (a key of one region cannot speak for another), admitted on the colour the region
/// signed. Entitlements are the other region's and are not honoured here. The check is logged
/// without any subject (the reference resolves only in the issuing region).
async fn check_foreign(state: &AppState, actor: &Actor, code: &str) -> AppResult<CheckOutcome> {
    let now = state.now() / 1000;
    for (issuer, ring) in crate::trust::regions::foreign_keys(state, keys::PASS).await? {
        let claims = match verify_pass(code, &ring, now, std::slice::from_ref(&issuer)) {
            Ok(claims) => claims,
            Err(tongban_codes::PassError::UnknownKid) => continue,
            Err(error) => return Ok(refused(error.code())),
        };
        let region = issuer.trim_start_matches("tongban.").to_owned();
        let colour = claims.colour.as_str().to_owned();
        let venue = crate::venues::venue_of(state.pool(), actor.id()).await?;
        let admission = venue
            .as_ref()
            .map(|v| crate::venues::admits(&v.kind, &colour, &[]));
        let entry = serde_json::json!({
            "kind": "foreign_pass_checked",
            "at": crate::time_fmt::rfc3339(state.now()),
            "actor": actor.id(),
            "region": region,
            "colour": colour,
            "admitted": admission.map(|a| a.is_ok()),
        });
        crate::ledger::service::append(state, &entry)
            .await
            .map_err(|_| AppError::Unavailable)?;
        return Ok(CheckOutcome {
            valid: true,
            reason: None,
            colour: Some(colour),
            initials: Some(claims.initials),
            admitted: admission.map(|a| a.is_ok()),
            admission_reason: admission.and_then(|a| a.err()).map(str::to_owned),
            venue: venue.map(|v| v.name),
            checked_in: None,
            region: Some(region),
            foreign: None,
        });
    }
    Ok(refused(tongban_codes::PassError::UnknownKid.code()))
}

/// The ID number an officer typed (or a keyboard-mode reader typed), or the one in the text
/// block a card reader returned (Base64). A card past its validity on `now` (China time) is
/// refused. Nothing else of the card is kept.
pub fn resident_id_from_input(input: &str, now: i64) -> AppResult<tongban_core::ResidentId> {
    let input = input.trim();
    if input.chars().count() <= 18 {
        return input
            .parse()
            .map_err(|e| AppError::invalid("resident_id", e));
    }
    let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    let block = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| {
            AppError::invalid(
                "card_text",
                "neither an 18-character ID number nor a card reader's Base64 text block",
            )
        })?;
    let card =
        tongban_core::CardText::parse(&block).map_err(|e| AppError::invalid("card_text", e))?;
    // A resident ID card's dates are days in China Standard Time, wherever it is checked.
    if !card.valid_on(tongban_core::Zone::CHINA.date_of(now)) {
        return Err(AppError::invalid(
            "card_text",
            "the card is outside its validity period",
        ));
    }
    Ok(card.resident_id)
}

/// Identity checks one officer may make per minute.
const ID_CHECKS_PER_MINUTE: i64 = 20;

/// 一证通行: the colour and masked name of a person without a phone, by ID number, for a
/// checkpoint officer. Rate-limited per officer (counted in the database, so across nodes).
pub async fn check_by_resident_id(
    state: &AppState,
    actor: &Actor,
    resident_id: &tongban_core::ResidentId,
    request_id: Option<&str>,
) -> AppResult<CheckOutcome> {
    if !can(actor, Action::CheckPersonById, Resource::Platform) {
        return Err(AppError::Forbidden);
    }
    // Counted before the lookup, whether the number is known or not: otherwise unknown
    // numbers would be free guesses, and checks made at the same moment would all pass.
    let now = state.now();
    let minute = now.div_euclid(60_000);
    if super::store::count_id_check(state.pool(), actor.id(), minute).await? > ID_CHECKS_PER_MINUTE
    {
        return Err(AppError::LockedOut {
            retry_after_seconds: 60 - now.rem_euclid(60_000) / 1000,
        });
    }
    let Some(person_id) = personal::person_id_by_resident_id(state, resident_id).await? else {
        return Ok(refused("unknown_person"));
    };
    let masked = personal::identity_check(state, actor, &person_id, request_id).await?;
    let status = health::status_of(state, &person_id).await?;
    figures::count(state, ID_CHECKS, actor.account.home_region.as_str());
    Ok(CheckOutcome {
        valid: true,
        reason: None,
        colour: Some(status.colour),
        initials: Some(masked),
        admitted: None,
        admission_reason: None,
        venue: None,
        checked_in: None,
        region: None,
        foreign: None,
    })
}
