//! SQL of venues, their staff and people's entitlements.

use sqlx::Row;

use super::Venue;
use crate::error::AppResult;
use crate::random;
use crate::state::AppState;

/// The venue a staff account checks passes at, if any.
pub async fn venue_of(state: &AppState, account_id: &str) -> AppResult<Option<Venue>> {
    let row = sqlx::query("SELECT v.id, v.name, v.kind, v.records_checkins, v.no FROM venues v JOIN venue_staff s ON s.venue_id = v.id WHERE s.account_id = $1 ORDER BY v.name LIMIT 1")
        .bind(account_id.to_owned())
        .fetch_optional(state.pool())
        .await?;
    row.map(|row| {
        Ok(Venue {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            kind: row.try_get("kind")?,
            records_checkins: row.try_get::<i64, _>("records_checkins")? != 0,
            no: row.try_get("no")?,
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
    records_checkins: bool,
) -> AppResult<Venue> {
    let existing: Option<String> = sqlx::query_scalar("SELECT id FROM venues WHERE name = $1")
        .bind(name.to_owned())
        .fetch_optional(state.pool())
        .await?;
    let id = match existing {
        Some(id) => {
            sqlx::query("UPDATE venues SET records_checkins = $2, no = $3 WHERE id = $1")
                .bind(id.clone())
                .bind(i64::from(records_checkins))
                .bind(super::venue_number(&id))
                .execute(state.pool())
                .await?;
            id
        }
        None => {
            let id = random::new_id();
            sqlx::query("INSERT INTO venues (id, name, kind, region_code, created_at, records_checkins, no) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(id.clone())
                .bind(name.to_owned())
                .bind(kind.to_owned())
                .bind(region.to_owned())
                .bind(state.now())
                .bind(i64::from(records_checkins))
                .bind(super::venue_number(&id))
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
        no: super::venue_number(&id),
        id,
        name: name.to_owned(),
        kind: kind.to_owned(),
        records_checkins,
    })
}
