//! The office's tables.

use crate::db::Exec;
use crate::error::AppResult;
use crate::gongwen::draft::Draft;
use crate::gongwen::number::Number;

/// A document as stored.
#[derive(Debug, Clone)]
pub struct Document {
    pub id: String,
    pub department_id: String,
    pub draft: Draft,
    pub state: String,
    pub number: Option<Number>,
    pub created_by: String,
    pub created_at: i64,
    pub modified_at: i64,
}

pub async fn insert_document<'e>(db: impl Exec<'e>, document: &Document) -> AppResult<()> {
    let draft = serde_json::to_string(&document.draft)
        .map_err(|e| crate::error::AppError::Internal(e.into()))?;
    sqlx::query(
        "INSERT INTO office_documents (id, department_id, kind, title, draft, state, number_code, \
         number_year, number_seq, created_by, created_at, modified_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(document.id.clone())
    .bind(document.department_id.clone())
    .bind(document.draft.kind.zh())
    .bind(document.draft.title.clone())
    .bind(draft)
    .bind(document.state.clone())
    .bind(document.number.as_ref().map(|n| n.code.clone()))
    .bind(document.number.as_ref().map(|n| i64::from(n.year)))
    .bind(document.number.as_ref().map(|n| i64::from(n.seq)))
    .bind(document.created_by.clone())
    .bind(document.created_at)
    .bind(document.modified_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Writes a document's number and state.
pub async fn set_number<'e>(
    db: impl Exec<'e>,
    id: &str,
    number: &Number,
    state: &str,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE office_documents SET number_code = $1, number_year = $2, number_seq = $3, \
         state = $4, modified_at = $5 WHERE id = $6",
    )
    .bind(number.code.clone())
    .bind(i64::from(number.year))
    .bind(i64::from(number.seq))
    .bind(state.to_owned())
    .bind(now)
    .bind(id.to_owned())
    .execute(db)
    .await?;
    Ok(())
}

/// The numbers issued for a code and year, in order.
pub async fn numbers_of<'e>(db: impl Exec<'e>, code: &str, year: i32) -> AppResult<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT number_seq FROM office_documents WHERE number_code = $1 AND number_year = $2 \
         ORDER BY number_seq",
    )
    .bind(code.to_owned())
    .bind(i64::from(year))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(n,)| n).collect())
}

/// Raises the counter of a code and year by one (from 1) and returns it; the row stays locked
/// (on PostgreSQL) until the caller's transaction ends.
pub async fn next_number<'e>(db: impl Exec<'e>, code: &str, year: i32) -> AppResult<i64> {
    let (seq,): (i64,) = sqlx::query_as(
        "INSERT INTO office_numbers (code, year, last) VALUES ($1, $2, 1) \
         ON CONFLICT (code, year) DO UPDATE SET last = office_numbers.last + 1 RETURNING last",
    )
    .bind(code.to_owned())
    .bind(i64::from(year))
    .fetch_one(db)
    .await?;
    Ok(seq)
}
