//! SQL of venues, their staff and people's entitlements.

use super::Venue;
use crate::error::AppResult;
use crate::random;
use crate::state::AppState;
use tongban_platform::db::Exec;

/// The venue a staff account checks passes at, if any.
pub async fn venue_of(db: impl Exec<'_>, account_id: &str) -> AppResult<Option<Venue>> {
    let sql = format!(
        "SELECT {VENUE_COLUMNS} FROM venues v JOIN venue_staff s ON s.venue_id = v.id WHERE s.account_id = $1 AND v.status = 'active' ORDER BY v.name LIMIT 1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account_id.to_owned())
        .fetch_optional(db)
        .await?;
    row.as_ref().map(venue_from_row).transpose()
}

const VENUE_COLUMNS: &str =
    "v.id, v.name, v.kind, v.records_checkins, v.no, v.region_code, v.status";

/// A venue's row (`VENUE_COLUMNS`); its flag is 0/1.
#[derive(sqlx::FromRow)]
struct VenueRow {
    id: String,
    name: String,
    kind: String,
    records_checkins: i64,
    no: i64,
    region_code: String,
    status: String,
}

fn venue_from_row(row: &sqlx::any::AnyRow) -> AppResult<Venue> {
    let r = <VenueRow as sqlx::FromRow<_>>::from_row(row)?;
    Ok(Venue {
        id: r.id,
        name: r.name,
        kind: r.kind,
        records_checkins: r.records_checkins != 0,
        no: r.no,
        region_code: r.region_code,
        status: r.status,
    })
}

pub async fn venue_by_id(db: impl Exec<'_>, id: &str) -> AppResult<Option<Venue>> {
    let sql = format!("SELECT {VENUE_COLUMNS} FROM venues v WHERE v.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_owned())
        .fetch_optional(db)
        .await?;
    row.as_ref().map(venue_from_row).transpose()
}

pub async fn venue_by_no(db: impl Exec<'_>, no: i64) -> AppResult<Option<Venue>> {
    let sql = format!("SELECT {VENUE_COLUMNS} FROM venues v WHERE v.no = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(no)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(venue_from_row).transpose()
}

/// Venues awaiting a decision, oldest first (at most 200).
pub async fn pending_venues(db: impl Exec<'_>) -> AppResult<Vec<Venue>> {
    let sql = format!(
        "SELECT {VENUE_COLUMNS} FROM venues v WHERE v.status = 'pending' ORDER BY v.created_at LIMIT 200"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(db).await?;
    rows.iter().map(venue_from_row).collect()
}

/// Every venue an account works at, whatever its status.
pub async fn venues_of_staff(db: impl Exec<'_>, account_id: &str) -> AppResult<Vec<Venue>> {
    let sql = format!(
        "SELECT {VENUE_COLUMNS} FROM venues v JOIN venue_staff s ON s.venue_id = v.id WHERE s.account_id = $1 ORDER BY v.name"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account_id.to_owned())
        .fetch_all(db)
        .await?;
    rows.iter().map(venue_from_row).collect()
}

/// Whether an account works at a venue.
pub async fn is_staff_of(db: impl Exec<'_>, account_id: &str, venue_id: &str) -> AppResult<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM venue_staff WHERE account_id = $1 AND venue_id = $2")
            .bind(account_id.to_owned())
            .bind(venue_id.to_owned())
            .fetch_optional(db)
            .await?;
    Ok(found.is_some())
}

/// A pending application; its operator becomes the venue's staff.
#[allow(clippy::too_many_arguments)]
pub async fn insert_application(
    state: &AppState,
    id: &str,
    name: &str,
    kind: &str,
    region: &str,
    address: &str,
    capacity: i64,
    operator: &str,
) -> AppResult<()> {
    let mut tx = state.pool().begin().await?;
    sqlx::query("INSERT INTO venues (id, name, kind, region_code, created_at, records_checkins, no, address, capacity, status, applied_by) VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, 'pending', $9)")
        .bind(id.to_owned())
        .bind(name.to_owned())
        .bind(kind.to_owned())
        .bind(region.to_owned())
        .bind(state.now())
        .bind(super::venue_number(id))
        .bind(address.to_owned())
        .bind(capacity)
        .bind(operator.to_owned())
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO venue_staff (account_id, venue_id) VALUES ($1, $2)")
        .bind(operator.to_owned())
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Moves a venue from `from` to `to`; false when it was not in `from`.
pub async fn set_status(
    state: &AppState,
    id: &str,
    from: &str,
    to: &str,
    by: &str,
) -> AppResult<bool> {
    let result = sqlx::query("UPDATE venues SET status = $3, decided_by = $4, decided_at = $5 WHERE id = $1 AND status = $2")
        .bind(id.to_owned())
        .bind(from.to_owned())
        .bind(to.to_owned())
        .bind(by.to_owned())
        .bind(state.now())
        .execute(state.pool())
        .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn insert_companion(
    state: &AppState,
    holder: &str,
    person: &str,
    relation: &str,
    masked_name: &str,
) -> AppResult<()> {
    sqlx::query("INSERT INTO companions (holder_person_id, person_id, relation, masked_name, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (holder_person_id, person_id) DO NOTHING")
        .bind(holder.to_owned())
        .bind(person.to_owned())
        .bind(relation.to_owned())
        .bind(masked_name.to_owned())
        .bind(state.now())
        .execute(state.pool())
        .await?;
    Ok(())
}

/// A citizen's companions: (person id, relation, masked name, consented).
pub async fn companions_of(
    db: impl Exec<'_>,
    holder: &str,
) -> AppResult<Vec<(String, String, String, bool)>> {
    let rows: Vec<(String, String, String, Option<i64>)> = sqlx::query_as("SELECT person_id, relation, masked_name, consented_at FROM companions WHERE holder_person_id = $1 ORDER BY created_at")
        .bind(holder.to_owned())
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, relation, masked, consented)| (id, relation, masked, consented.is_some()))
        .collect())
}

/// Companions a holder added since `since` (consented or not).
pub async fn companions_added_since(db: impl Exec<'_>, holder: &str, since: i64) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM companions WHERE holder_person_id = $1 AND created_at > $2",
    )
    .bind(holder.to_owned())
    .bind(since)
    .fetch_one(db)
    .await?)
}

/// Who asks to check this person in along, not yet consented: (holder person id, relation).
pub async fn companion_requests(
    db: impl Exec<'_>,
    person: &str,
) -> AppResult<Vec<(String, String)>> {
    Ok(sqlx::query_as("SELECT holder_person_id, relation FROM companions WHERE person_id = $1 AND consented_at IS NULL ORDER BY created_at")
        .bind(person.to_owned())
        .fetch_all(db)
        .await?)
}

/// Records the companion's consent; false when there is no such request.
pub async fn consent_companion(
    db: impl Exec<'_>,
    holder: &str,
    person: &str,
    by: &str,
    now: i64,
) -> AppResult<bool> {
    Ok(sqlx::query("UPDATE companions SET consented_at = $3, consented_by = $4 WHERE holder_person_id = $1 AND person_id = $2 AND consented_at IS NULL")
        .bind(holder.to_owned())
        .bind(person.to_owned())
        .bind(now)
        .bind(by.to_owned())
        .execute(db)
        .await?
        .rows_affected()
        == 1)
}

/// Removes a companion (declined by the companion, or withdrawn); false when there was none.
pub async fn remove_companion(db: impl Exec<'_>, holder: &str, person: &str) -> AppResult<bool> {
    Ok(
        sqlx::query("DELETE FROM companions WHERE holder_person_id = $1 AND person_id = $2")
            .bind(holder.to_owned())
            .bind(person.to_owned())
            .execute(db)
            .await?
            .rows_affected()
            == 1,
    )
}

/// The services a person is entitled to.
pub async fn entitlements_of(db: impl Exec<'_>, person_id: &str) -> AppResult<Vec<String>> {
    Ok(
        sqlx::query_scalar(
            "SELECT service FROM entitlements WHERE person_id = $1 ORDER BY service",
        )
        .bind(person_id.to_owned())
        .fetch_all(db)
        .await?,
    )
}

/// Entitlements of many people in one statement: (person, service), by service within each.
pub async fn entitlements_of_many(
    db: impl Exec<'_>,
    person_ids: &[String],
) -> AppResult<Vec<(String, String)>> {
    if person_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT person_id, service FROM entitlements WHERE person_id IN ({}) ORDER BY person_id, service",
        tongban_platform::db::in_list(1, person_ids.len())
    );
    let mut query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
    for id in person_ids {
        query = query.bind(id.clone());
    }
    Ok(query.fetch_all(db).await?)
}

pub async fn grant_entitlement(db: impl Exec<'_>, person_id: &str, service: &str) -> AppResult<()> {
    sqlx::query("INSERT INTO entitlements (person_id, service) VALUES ($1, $2) ON CONFLICT (person_id, service) DO NOTHING")
        .bind(person_id.to_owned())
        .bind(service.to_owned())
        .execute(db)
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
        region_code: region.to_owned(),
        status: "active".into(),
    })
}
