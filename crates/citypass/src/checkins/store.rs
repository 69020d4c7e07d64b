//! SQL of check-ins: the append-only log, its compaction into the indexed table, and the reads
//! contact matching makes. See the migration for the layout.

use crate::db::Db;
use crate::error::AppResult;
use crate::state::AppState;
use tongban_platform::db::Exec;

/// One check-in, ready to store: the person only as pseudonym and sealed id.
#[derive(Debug, Clone)]
pub struct NewCheckin {
    pub venue_no: i64,
    pub at: i64,
    pub subject: [u8; 16],
    pub person_sealed: Vec<u8>,
    pub method: i64,
}

pub const DAY_MS: i64 = 86_400_000;
/// Rows per multi-row INSERT (6 parameters each).
const ROWS_PER_INSERT: usize = 80;

pub fn day_of(at: i64) -> i64 {
    at.div_euclid(DAY_MS)
}

/// A check-in's row as matching reads it; a subject of another length is skipped.
#[derive(sqlx::FromRow)]
struct VisitRow {
    subject: Vec<u8>,
    venue_no: i64,
    at: i64,
}

impl VisitRow {
    fn visit(self) -> Option<Visit> {
        Some(Visit {
            subject: <[u8; 16]>::try_from(self.subject.as_slice()).ok()?,
            venue_no: self.venue_no,
            at: self.at,
        })
    }
}

/// The days from `from` to `to` as an SQL list, so that each day is one seek of an index that
/// starts with the day (a range on the day would scan every entry of those days instead).
fn day_list(from: i64, to: i64) -> String {
    let days: Vec<String> = (day_of(from)..=day_of(to).max(day_of(from)))
        .take(400)
        .map(|d| d.to_string())
        .collect();
    days.join(", ")
}

/// The log's check-ins since `since`: (subject, venue, time).
pub async fn log_since(db: impl Exec<'_>, since: i64) -> AppResult<Vec<([u8; 16], i64, i64)>> {
    let rows: Vec<VisitRow> =
        sqlx::query_as("SELECT subject, venue_no, at FROM checkin_log WHERE at >= $1")
            .bind(since)
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(VisitRow::visit)
        .map(|v| (v.subject, v.venue_no, v.at))
        .collect())
}

/// Appends check-ins to the log in one transaction.
pub async fn append_log(db: &Db, rows: &[&NewCheckin]) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut tx = db.pool().begin().await?;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|r| {
                let cells: Vec<String> = (1..=6).map(|c| format!("${}", r * 6 + c)).collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO checkin_log (id, venue_no, at, subject, person_sealed, method) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for c in chunk {
            query = query
                .bind(crate::random::new_id())
                .bind(c.venue_no)
                .bind(c.at)
                .bind(c.subject.to_vec())
                .bind(c.person_sealed.clone())
                .bind(c.method);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Folded log rows deleted in one statement.
const FOLDED_PER_DELETE: usize = 100;

/// Moves up to `max` log rows made before `before` into `checkins` (sorted by its key) and
/// their pseudonyms into `checkin_subjects`, in one transaction, inside the database. Rows
/// already there (another node compacted them first) are left as they are. Each row is first
/// shown to `keep` (subject, venue, time; in time order): those it refuses — repeat scans that
/// reached different nodes — leave the log without being stored.
pub async fn compact_log(
    db: &Db,
    before: i64,
    max: i64,
    keep: &mut (dyn FnMut([u8; 16], i64, i64) -> bool + Send),
) -> AppResult<u64> {
    let mut tx = db.pool().begin().await?;
    // Stop at a time boundary so that at most `max` rows move.
    let bound: Option<i64> = sqlx::query_scalar(
        "SELECT at FROM checkin_log WHERE at < $1 ORDER BY at LIMIT 1 OFFSET $2",
    )
    .bind(before)
    .bind(max)
    .fetch_optional(&mut *tx)
    .await?;
    let cut = bound.unwrap_or(before);
    // Only the three columns the fold needs (a repeat is rare: it is deleted by them).
    let rows: Vec<VisitRow> =
        sqlx::query_as("SELECT subject, venue_no, at FROM checkin_log WHERE at < $1 ORDER BY at")
            .bind(cut)
            .fetch_all(&mut *tx)
            .await?;
    let folded: Vec<Visit> = rows
        .into_iter()
        .filter_map(VisitRow::visit)
        .filter(|v| !keep(v.subject, v.venue_no, v.at))
        .collect();
    for chunk in folded.chunks(FOLDED_PER_DELETE) {
        let each: Vec<String> = (0..chunk.len())
            .map(|i| {
                format!(
                    "(at = ${} AND venue_no = ${} AND subject = ${})",
                    3 * i + 1,
                    3 * i + 2,
                    3 * i + 3
                )
            })
            .collect();
        let sql = format!("DELETE FROM checkin_log WHERE {}", each.join(" OR "));
        // Only placeholders are formatted in; the values are bound.
        let mut delete = sqlx::query(sqlx::AssertSqlSafe(sql));
        for visit in chunk {
            delete = delete
                .bind(visit.at)
                .bind(visit.venue_no)
                .bind(visit.subject.to_vec());
        }
        delete.execute(&mut *tx).await?;
    }
    sqlx::query(
        "INSERT INTO checkins (day, venue_no, at, subject, method)
         SELECT at / 86400000, venue_no, at, subject, method FROM checkin_log WHERE at < $1
         ORDER BY at / 86400000, venue_no, at, subject
         ON CONFLICT DO NOTHING",
    )
    .bind(cut)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO checkin_subjects (day, subject, person_sealed)
         SELECT at / 86400000, subject, person_sealed FROM checkin_log WHERE at < $1
         ON CONFLICT DO NOTHING",
    )
    .bind(cut)
    .execute(&mut *tx)
    .await?;
    // Each venue's latest check-in, for the operations view's active venues.
    sqlx::query(
        "INSERT INTO venue_seen (venue_no, last_at)
         SELECT venue_no, MAX(at) FROM checkin_log WHERE at < $1 GROUP BY venue_no
         ON CONFLICT (venue_no) DO UPDATE SET last_at = CASE
             WHEN excluded.last_at > venue_seen.last_at THEN excluded.last_at
             ELSE venue_seen.last_at END",
    )
    .bind(cut)
    .execute(&mut *tx)
    .await?;
    let moved = sqlx::query("DELETE FROM checkin_log WHERE at < $1")
        .bind(cut)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(moved + folded.len() as u64)
}

/// One stored check-in, as contact matching reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub venue_no: i64,
    pub at: i64,
    pub subject: [u8; 16],
}

fn visits(rows: &[sqlx::any::AnyRow]) -> AppResult<Vec<Visit>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.extend(<VisitRow as sqlx::FromRow<_>>::from_row(row)?.visit());
    }
    Ok(out)
}

/// A person's check-ins in `[from, to]` (compacted and still in the log), oldest first.
pub async fn visits_of(
    db: impl Exec<'_>,
    subject: &[u8; 16],
    from: i64,
    to: i64,
) -> AppResult<Vec<Visit>> {
    let sql = format!(
        "SELECT venue_no, at, subject FROM checkins WHERE day IN ({}) AND subject = $1 AND at >= $2 AND at <= $3
         UNION ALL
         SELECT venue_no, at, subject FROM checkin_log WHERE at >= $2 AND at <= $3 AND subject = $1",
        day_list(from, to)
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(subject.to_vec())
        .bind(from)
        .bind(to)
        .fetch_all(db)
        .await?;
    let mut found = visits(&rows)?;
    found.sort_by_key(|v| v.at);
    Ok(found)
}

/// Everyone checked in at a venue in `[from, to]`.
pub async fn visits_at(
    db: impl Exec<'_>,
    venue_no: i64,
    from: i64,
    to: i64,
) -> AppResult<Vec<Visit>> {
    let sql = format!(
        "SELECT venue_no, at, subject FROM checkins WHERE day IN ({}) AND venue_no = $1 AND at >= $2 AND at <= $3
         UNION ALL
         SELECT venue_no, at, subject FROM checkin_log WHERE at >= $2 AND at <= $3 AND venue_no = $1",
        day_list(from, to)
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(venue_no)
        .bind(from)
        .bind(to)
        .fetch_all(db)
        .await?;
    visits(&rows)
}

/// The sealed person id behind a pseudonym seen between `from` and `to`.
pub async fn sealed_person(
    db: impl Exec<'_>,
    subject: &[u8; 16],
    from: i64,
    to: i64,
) -> AppResult<Option<Vec<u8>>> {
    let sql = format!(
        "SELECT person_sealed FROM checkin_subjects WHERE day IN ({}) AND subject = $1
         UNION ALL
         SELECT person_sealed FROM checkin_log WHERE subject = $1 AND at >= $2",
        day_list(from, to)
    );
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(subject.to_vec())
        .bind(from)
        .fetch_all(db)
        .await?
        .into_iter()
        .next())
}

/// Deletes check-ins made before `before`: whole days from the front of the keys, then the
/// rest of the boundary day, with their pseudonym rows and any left in the log. Returns how
/// many check-ins went.
pub async fn delete_before(state: &AppState, before: i64) -> AppResult<u64> {
    let day = day_of(before);
    let mut tx = state.pool().begin().await?;
    let mut deleted = sqlx::query("DELETE FROM checkins WHERE day < $1")
        .bind(day)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    deleted += sqlx::query("DELETE FROM checkins WHERE day = $1 AND at < $2")
        .bind(day)
        .bind(before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    deleted += sqlx::query("DELETE FROM checkin_log WHERE at < $1")
        .bind(before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    // A pseudonym row of the boundary day may still be needed by later check-ins that day.
    sqlx::query("DELETE FROM checkin_subjects WHERE day < $1")
        .bind(day)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(deleted)
}

/// Check-ins at a venue since `since` (compacted and in the log).
pub async fn count_at(db: impl Exec<'_>, venue_no: i64, since: i64, now: i64) -> AppResult<i64> {
    let sql = format!(
        "SELECT (SELECT COUNT(*) FROM checkins WHERE day IN ({}) AND venue_no = $1 AND at >= $2)
              + (SELECT COUNT(*) FROM checkin_log WHERE at >= $2 AND venue_no = $1)",
        day_list(since, now)
    );
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(venue_no)
        .bind(since)
        .fetch_one(db)
        .await?)
}

/// Check-ins per district (the venue's region, to six digits) and hour of `[from, to)`, with
/// the number of distinct people in each: (district, hour from `from`, check-ins, people).
pub async fn district_hours(
    db: impl Exec<'_>,
    from: i64,
    to: i64,
) -> AppResult<Vec<(String, i64, i64, i64)>> {
    let sql = format!(
        "SELECT district, hour, COUNT(*) AS total, COUNT(DISTINCT subject) AS people FROM (
            SELECT SUBSTR(v.region_code, 1, 6) AS district, (c.at - $1) / 3600000 AS hour, c.subject AS subject
              FROM checkins c JOIN venues v ON v.no = c.venue_no
             WHERE c.day IN ({}) AND c.at >= $1 AND c.at < $2
            UNION ALL
            SELECT SUBSTR(v.region_code, 1, 6), (l.at - $1) / 3600000, l.subject
              FROM checkin_log l JOIN venues v ON v.no = l.venue_no
             WHERE l.at >= $1 AND l.at < $2
         ) t GROUP BY district, hour ORDER BY district, hour",
        day_list(from, to - 1)
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(from)
        .bind(to)
        .fetch_all(db)
        .await?)
}

/// A contact match asked for about a case: what it may read, and who asked and approved.
#[derive(sqlx::FromRow)]
pub struct MatchRequestRow {
    pub id: String,
    pub case_sealed: Vec<u8>,
    pub region_code: String,
    pub period_from: i64,
    pub period_to: i64,
    pub dwell_minutes: i64,
    pub purpose: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
}

const MATCH_REQUEST_COLUMNS: &str = "id, case_sealed, region_code, period_from, period_to, dwell_minutes, purpose, requested_by, requested_at, approved_by, approved_at";

pub async fn insert_match_request(db: impl Exec<'_>, row: &MatchRequestRow) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO contact_match_requests (id, case_sealed, region_code, period_from, period_to, dwell_minutes, purpose, requested_by, requested_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(row.id.clone())
    .bind(row.case_sealed.clone())
    .bind(row.region_code.clone())
    .bind(row.period_from)
    .bind(row.period_to)
    .bind(row.dwell_minutes)
    .bind(row.purpose.clone())
    .bind(row.requested_by.clone())
    .bind(row.requested_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn match_request(db: impl Exec<'_>, id: &str) -> AppResult<Option<MatchRequestRow>> {
    let sql = format!("SELECT {MATCH_REQUEST_COLUMNS} FROM contact_match_requests WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id.to_owned())
        .fetch_optional(db)
        .await?)
}

/// Requests made since `since` and not yet approved, oldest first (at most 200).
pub async fn open_match_requests(db: impl Exec<'_>, since: i64) -> AppResult<Vec<MatchRequestRow>> {
    let sql = format!(
        "SELECT {MATCH_REQUEST_COLUMNS} FROM contact_match_requests
         WHERE approved_at IS NULL AND requested_at > $1 ORDER BY requested_at LIMIT 200"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(since)
        .fetch_all(db)
        .await?)
}

/// Requests approved since `since`, newest first: those whose match may still run.
pub async fn approved_match_requests(
    db: impl Exec<'_>,
    since: i64,
) -> AppResult<Vec<MatchRequestRow>> {
    let sql = format!(
        "SELECT {MATCH_REQUEST_COLUMNS} FROM contact_match_requests
         WHERE approved_at IS NOT NULL AND approved_at > $1 ORDER BY approved_at DESC LIMIT 200"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(since)
        .fetch_all(db)
        .await?)
}

/// Approves an open request made since `since` by someone other than its requester.
pub async fn approve_match_request(
    db: impl Exec<'_>,
    id: &str,
    by: &str,
    now: i64,
    since: i64,
) -> AppResult<bool> {
    let result = sqlx::query(
        "UPDATE contact_match_requests SET approved_by = $2, approved_at = $3
         WHERE id = $1 AND approved_at IS NULL AND requested_by <> $2 AND requested_at > $4",
    )
    .bind(id.to_owned())
    .bind(by.to_owned())
    .bind(now)
    .bind(since)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Deletes requests made before `before` (they can no longer be approved or run).
pub async fn purge_match_requests(db: impl Exec<'_>, before: i64) -> AppResult<u64> {
    Ok(
        sqlx::query("DELETE FROM contact_match_requests WHERE requested_at < $1")
            .bind(before)
            .execute(db)
            .await?
            .rows_affected(),
    )
}

/// Venues with a check-in at or after `since` (moved out of the log), by the venue's region.
pub async fn active_venues(db: impl Exec<'_>, since: i64) -> AppResult<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT v.region_code, COUNT(*) FROM venue_seen s JOIN venues v ON v.no = s.venue_no WHERE s.last_at >= $1 GROUP BY v.region_code",
    )
    .bind(since)
    .fetch_all(db)
    .await?)
}
