//! 码上服务: venues and admission. A venue has a kind; admission needs a valid pass, a colour
//! the kind admits, and — for some kinds — an entitlement on the pass (a library card).

use serde::Serialize;

pub mod store;

pub use store::{ensure_venue, venue_of};

/// How long check-ins are kept.
pub const CHECKIN_RETENTION_DAYS: i64 = 28;
/// A second scan of the same person at the same venue within this time is the same visit.
const SAME_VISIT_MS: i64 = 60_000;

/// Records that a person was admitted at a venue, unless they were within the last minute.
/// Returns whether a new check-in was recorded.
pub async fn record_checkin(
    state: &AppState,
    venue: &Venue,
    person_id: &str,
    method: &str,
) -> AppResult<bool> {
    let subject = state.vault.blind_index("checkin", person_id);
    let now = state.now();
    if store::visited_since(state, &venue.id, &subject, now - SAME_VISIT_MS).await? {
        return Ok(false);
    }
    let id = crate::random::new_id();
    let sealed = state
        .vault
        .seal_field(&format!("checkins.person/{id}"), person_id.as_bytes());
    store::insert_checkin(state, &id, &venue.id, &subject, &sealed, now, method).await?;
    Ok(true)
}

/// Deletes check-ins past their retention and logs how many (never whose).
pub async fn purge_expired_checkins(state: &AppState) -> AppResult<u64> {
    let before = state.now() - CHECKIN_RETENTION_DAYS * 86_400_000;
    let purged = store::delete_checkins_before(state, before).await?;
    if purged > 0 {
        let entry = serde_json::json!({
            "kind": "checkins_purged",
            "at": crate::time_fmt::rfc3339(state.now()),
            "actor": "operator",
            "detail": {"count": purged, "retention_days": CHECKIN_RETENTION_DAYS, "before": crate::time_fmt::rfc3339(before)},
        });
        crate::ledger::service::append(state, &entry)
            .await
            .map_err(|_| crate::error::AppError::Unavailable)?;
    }
    Ok(purged)
}

use crate::error::AppResult;
use crate::state::AppState;

/// Records that a person may use a service (a library card, a transit account).
pub async fn grant_entitlement(state: &AppState, person_id: &str, service: &str) -> AppResult<()> {
    store::grant_entitlement(state, person_id, service).await?;
    crate::cache::person_changed(state, person_id).await;
    Ok(())
}

/// What a venue kind admits.
pub struct KindRule {
    pub kind: &'static str,
    /// The entitlement the pass must carry, if any.
    pub entitlement: Option<&'static str>,
    /// Colours admitted during an emergency (a service pass is always admitted).
    pub colours: &'static [&'static str],
}

pub const KINDS: [KindRule; 5] = [
    KindRule {
        kind: "transit",
        entitlement: Some("transit"),
        colours: &["green"],
    },
    KindRule {
        kind: "library",
        entitlement: Some("library"),
        colours: &["green"],
    },
    // Essential services stay open to yellow; a hospital admits everyone for care.
    KindRule {
        kind: "hospital",
        entitlement: None,
        colours: &["green", "yellow", "red"],
    },
    KindRule {
        kind: "government_hall",
        entitlement: None,
        colours: &["green", "yellow"],
    },
    KindRule {
        kind: "other",
        entitlement: None,
        colours: &["green"],
    },
];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Venue {
    pub id: String,
    pub name: String,
    pub kind: String,
    /// Whether admissions here are recorded as check-ins.
    pub records_checkins: bool,
}

/// Whether a holder with `colour` and `entitlements` may enter a venue of `kind`, and why not.
pub fn admits(kind: &str, colour: &str, entitlements: &[String]) -> Result<(), &'static str> {
    let rule = KINDS
        .iter()
        .find(|rule| rule.kind == kind)
        .unwrap_or(&KINDS[4]);
    if colour != "service_only" && !rule.colours.contains(&colour) {
        return Err("colour_not_admitted");
    }
    if let Some(needed) = rule.entitlement
        && !entitlements.iter().any(|e| e == needed)
    {
        return Err("no_entitlement");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::admits;

    #[test]
    fn each_kind_admits_by_colour_and_entitlement() {
        let card = vec!["library".to_owned(), "transit".to_owned()];
        let none: Vec<String> = Vec::new();
        assert_eq!(admits("library", "green", &card), Ok(()));
        assert_eq!(admits("library", "green", &none), Err("no_entitlement"));
        assert_eq!(
            admits("library", "yellow", &card),
            Err("colour_not_admitted")
        );
        assert_eq!(admits("transit", "service_only", &card), Ok(()));
        assert_eq!(admits("transit", "red", &card), Err("colour_not_admitted"));
        assert_eq!(admits("hospital", "red", &none), Ok(()));
        assert_eq!(admits("government_hall", "yellow", &none), Ok(()));
    }
}
