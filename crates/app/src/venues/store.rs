//! SQL of venues, their staff and people's entitlements.

use sqlx::Row;

use super::Venue;
use crate::error::AppResult;
use crate::random;
use crate::state::AppState;

/// The venue a staff account checks passes at, if any.
pub async fn venue_of(state: &AppState, account_id: &str) -> AppResult<Option<Venue>> {
    let row = sqlx::query("SELECT v.id, v.name, v.kind, v.records_checkins FROM venues v JOIN venue_staff s ON s.venue_id = v.id WHERE s.account_id = $1 ORDER BY v.name LIMIT 1")
        .bind(account_id.to_owned())
        .fetch_optional(state.pool())
        .await?;
    row.map(|row| {
        Ok(Venue {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            kind: row.try_get("kind")?,
            records_checkins: row.try_get::<i64, _>("records_checkins")? != 0,
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
            sqlx::query("UPDATE venues SET records_checkins = $2 WHERE id = $1")
                .bind(id.clone())
                .bind(i64::from(records_checkins))
                .execute(state.pool())
                .await?;
            id
        }
        None => {
            let id = random::new_id();
            sqlx::query("INSERT INTO venues (id, name, kind, region_code, created_at, records_checkins) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id.clone())
                .bind(name.to_owned())
                .bind(kind.to_owned())
                .bind(region.to_owned())
                .bind(state.now())
                .bind(i64::from(records_checkins))
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
        records_checkins,
    })
}

/// Whether a person (by check-in pseudonym) was checked in at the venue since `since`.
pub async fn visited_since(
    state: &AppState,
    venue_id: &str,
    subject: &str,
    since: i64,
) -> AppResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM checkins WHERE subject = $1 AND venue_id = $2 AND at > $3 LIMIT 1",
    )
    .bind(subject.to_owned())
    .bind(venue_id.to_owned())
    .bind(since)
    .fetch_optional(state.pool())
    .await?;
    Ok(found.is_some())
}

pub async fn insert_checkin(
    state: &AppState,
    id: &str,
    venue_id: &str,
    subject: &str,
    person_sealed: &[u8],
    at: i64,
    method: &str,
) -> AppResult<()> {
    sqlx::query("INSERT INTO checkins (id, venue_id, subject, person_sealed, at, method) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id.to_owned())
        .bind(venue_id.to_owned())
        .bind(subject.to_owned())
        .bind(person_sealed.to_vec())
        .bind(at)
        .bind(method.to_owned())
        .execute(state.pool())
        .await?;
    Ok(())
}

pub async fn delete_checkins_before(state: &AppState, before: i64) -> AppResult<u64> {
    Ok(sqlx::query("DELETE FROM checkins WHERE at < $1")
        .bind(before)
        .execute(state.pool())
        .await?
        .rows_affected())
}
