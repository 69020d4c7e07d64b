//! SQL of the pass's own counters.

use tongban_platform::db::Exec;

use crate::error::AppResult;

/// Counts one identity check of `actor_id` in `minute` and returns the minute's count so far,
/// in one statement (so two checks at the same moment are both counted).
pub async fn count_id_check(db: impl Exec<'_>, actor_id: &str, minute: i64) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO id_check_attempts (actor_id, minute, attempts) VALUES ($1, $2, 1)
         ON CONFLICT (actor_id, minute) DO UPDATE SET attempts = id_check_attempts.attempts + 1
         RETURNING attempts",
    )
    .bind(actor_id.to_owned())
    .bind(minute)
    .fetch_one(db)
    .await?)
}

/// Forgets the counts of minutes before `minute`.
pub async fn forget_id_checks_before(db: impl Exec<'_>, minute: i64) -> AppResult<u64> {
    Ok(
        sqlx::query("DELETE FROM id_check_attempts WHERE minute < $1")
            .bind(minute)
            .execute(db)
            .await?
            .rows_affected(),
    )
}
