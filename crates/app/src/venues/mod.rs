//! 码上服务: venues and admission. A venue has a kind; admission needs a valid pass, a colour
//! the kind admits, and — for some kinds — an entitlement on the pass (a library card).

use serde::Serialize;
use sqlx::Row;

use crate::error::AppResult;
use crate::random;
use crate::state::AppState;

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

/// The venue a staff account checks passes at, if any.
pub async fn venue_of(state: &AppState, account_id: &str) -> AppResult<Option<Venue>> {
    let row = sqlx::query("SELECT v.id, v.name, v.kind FROM venues v JOIN venue_staff s ON s.venue_id = v.id WHERE s.account_id = $1 ORDER BY v.name LIMIT 1")
        .bind(account_id.to_owned())
        .fetch_optional(state.pool())
        .await?;
    row.map(|row| {
        Ok(Venue {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            kind: row.try_get("kind")?,
        })
    })
    .transpose()
}

/// The services a person is entitled to.
pub async fn entitlements_of(state: &AppState, person_id: &str) -> AppResult<Vec<String>> {
    Ok(
        sqlx::query_scalar(
            "SELECT service FROM entitlements WHERE person_id = $1 ORDER BY service",
        )
        .bind(person_id.to_owned())
        .fetch_all(state.pool())
        .await?,
    )
}

pub async fn grant_entitlement(state: &AppState, person_id: &str, service: &str) -> AppResult<()> {
    sqlx::query("INSERT INTO entitlements (person_id, service) VALUES ($1, $2) ON CONFLICT (person_id, service) DO NOTHING")
        .bind(person_id.to_owned())
        .bind(service.to_owned())
        .execute(state.pool())
        .await?;
    Ok(())
}

/// Creates a venue (unless one of that name exists) and assigns a staff account to it.
pub async fn ensure_venue(
    state: &AppState,
    name: &str,
    kind: &str,
    region: &str,
    staff_account: &str,
) -> AppResult<Venue> {
    let existing: Option<String> = sqlx::query_scalar("SELECT id FROM venues WHERE name = $1")
        .bind(name.to_owned())
        .fetch_optional(state.pool())
        .await?;
    let id = match existing {
        Some(id) => id,
        None => {
            let id = random::new_id();
            sqlx::query("INSERT INTO venues (id, name, kind, region_code, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(id.clone())
                .bind(name.to_owned())
                .bind(kind.to_owned())
                .bind(region.to_owned())
                .bind(state.now())
                .execute(state.pool())
                .await?;
            id
        }
    };
    sqlx::query("INSERT INTO venue_staff (account_id, venue_id) VALUES ($1, $2) ON CONFLICT (account_id, venue_id) DO NOTHING")
        .bind(staff_account.to_owned())
        .bind(id.clone())
        .execute(state.pool())
        .await?;
    Ok(Venue {
        id,
        name: name.to_owned(),
        kind: kind.to_owned(),
    })
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
