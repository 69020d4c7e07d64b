//! SQL of check-ins. Rows are keyed (day, venue_no, at, subject): see the migration.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};

use super::writer::NewCheckin;
use crate::error::AppResult;
use crate::state::AppState;

pub const DAY_MS: i64 = 86_400_000;
/// Rows per multi-row INSERT (5 parameters each).
const ROWS_PER_INSERT: usize = 100;
/// Subjects per `IN (…)` list.
const SUBJECTS_PER_QUERY: usize = 500;

pub fn day_of(at: i64) -> i64 {
    at.div_euclid(DAY_MS)
}

fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The latest check-in at or after `since` of each (subject, venue) pair of `subjects`.
pub async fn latest_visits(
    conn: &mut AnyConnection,
    subjects: &[[u8; 16]],
    since: i64,
) -> AppResult<HashMap<([u8; 16], i64), i64>> {
    let mut latest = HashMap::new();
    for chunk in subjects.chunks(SUBJECTS_PER_QUERY) {
        let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT subject, venue_no, MAX(at) AS latest FROM checkins WHERE at >= $1 AND subject IN ({}) GROUP BY subject, venue_no",
            list.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(since);
        for subject in chunk {
            query = query.bind(subject.to_vec());
        }
        for row in query.fetch_all(&mut *conn).await? {
            let subject: Vec<u8> = row.try_get("subject")?;
            let Ok(subject) = <[u8; 16]>::try_from(subject.as_slice()) else {
                continue;
            };
            latest.insert((subject, row.try_get("venue_no")?), row.try_get("latest")?);
        }
    }
    Ok(latest)
}

pub async fn insert_checkins(conn: &mut AnyConnection, rows: &[&NewCheckin]) -> AppResult<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO checkins (day, venue_no, at, subject, method) VALUES {} ON CONFLICT DO NOTHING",
            placeholders(chunk.len(), 5)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for c in chunk {
            query = query
                .bind(day_of(c.at))
                .bind(c.venue_no)
                .bind(c.at)
                .bind(c.subject.to_vec())
                .bind(c.method);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Maps each new pseudonym to its sealed person id; a pseudonym seen before keeps its row.
pub async fn insert_subjects(conn: &mut AnyConnection, rows: &[&NewCheckin]) -> AppResult<()> {
    let mut seen = std::collections::HashSet::new();
    let distinct: Vec<&&NewCheckin> = rows.iter().filter(|c| seen.insert(c.subject)).collect();
    for chunk in distinct.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO checkin_subjects (subject, person_sealed) VALUES {} ON CONFLICT DO NOTHING",
            placeholders(chunk.len(), 2)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for c in chunk {
            query = query.bind(c.subject.to_vec()).bind(c.person_sealed.clone());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// One stored check-in, as contact matching reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub venue_no: i64,
    pub at: i64,
    pub subject: [u8; 16],
}

fn visit(row: &sqlx::any::AnyRow) -> AppResult<Option<Visit>> {
    let subject: Vec<u8> = row.try_get("subject")?;
    Ok(<[u8; 16]>::try_from(subject.as_slice())
        .ok()
        .map(|subject| Visit {
            venue_no: row.try_get("venue_no").unwrap_or_default(),
            at: row.try_get("at").unwrap_or_default(),
            subject,
        }))
}

/// A person's check-ins in `[from, to]`, oldest first (the subject index).
pub async fn visits_of(
    state: &AppState,
    subject: &[u8; 16],
    from: i64,
    to: i64,
) -> AppResult<Vec<Visit>> {
    let rows = sqlx::query(
        "SELECT venue_no, at, subject FROM checkins WHERE subject = $1 AND at >= $2 AND at <= $3 ORDER BY at",
    )
    .bind(subject.to_vec())
    .bind(from)
    .bind(to)
    .fetch_all(state.pool())
    .await?;
    rows.iter()
        .filter_map(|r| visit(r).transpose())
        .collect::<AppResult<_>>()
}

/// Everyone checked in at a venue in `[from, to]` (ranges of the primary key, one per day).
pub async fn visits_at(
    state: &AppState,
    venue_no: i64,
    from: i64,
    to: i64,
) -> AppResult<Vec<Visit>> {
    let rows = sqlx::query(
        "SELECT venue_no, at, subject FROM checkins WHERE day >= $1 AND day <= $2 AND venue_no = $3 AND at >= $4 AND at <= $5",
    )
    .bind(day_of(from))
    .bind(day_of(to))
    .bind(venue_no)
    .bind(from)
    .bind(to)
    .fetch_all(state.pool())
    .await?;
    rows.iter()
        .filter_map(|r| visit(r).transpose())
        .collect::<AppResult<_>>()
}

/// The sealed person id behind a pseudonym, if it still has check-ins.
pub async fn sealed_person(state: &AppState, subject: &[u8; 16]) -> AppResult<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar("SELECT person_sealed FROM checkin_subjects WHERE subject = $1")
            .bind(subject.to_vec())
            .fetch_optional(state.pool())
            .await?,
    )
}

/// Deletes check-ins made before `before` (whole days from the front of the primary key, then
/// the rest of the boundary day), then the pseudonyms that have none left. Returns how many
/// check-ins went.
pub async fn delete_before(state: &AppState, before: i64) -> AppResult<u64> {
    let day = day_of(before);
    let mut deleted = sqlx::query("DELETE FROM checkins WHERE day < $1")
        .bind(day)
        .execute(state.pool())
        .await?
        .rows_affected();
    deleted += sqlx::query("DELETE FROM checkins WHERE day = $1 AND at < $2")
        .bind(day)
        .bind(before)
        .execute(state.pool())
        .await?
        .rows_affected();
    if deleted > 0 {
        sqlx::query("DELETE FROM checkin_subjects WHERE NOT EXISTS (SELECT 1 FROM checkins c WHERE c.subject = checkin_subjects.subject)")
            .execute(state.pool())
            .await?;
    }
    Ok(deleted)
}

/// Check-ins at a venue since `since`.
pub async fn count_at(state: &AppState, venue_no: i64, since: i64) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM checkins WHERE day >= $1 AND venue_no = $2 AND at >= $3",
    )
    .bind(day_of(since))
    .bind(venue_no)
    .bind(since)
    .fetch_one(state.pool())
    .await?)
}
