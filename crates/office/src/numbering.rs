//! Document numbers (发文字号) issued without gaps or repeats per organ's code and year.
//!
//! The number is taken in the transaction that writes it on its document: the counter's row is
//! raised (and, on PostgreSQL, locked until the transaction ends, so concurrent issuers on any
//! node queue on it), and a transaction that fails gives its number back with the rest of its
//! work. A unique index on the documents' numbers makes a repeat impossible whatever happens.

use crate::error::AppResult;
use crate::gongwen::number::Number;

/// Takes the next number of a code and year inside the caller's transaction.
pub async fn issue(tx: &mut crate::db::Tx<'_>, code: &str, year: i32) -> AppResult<Number> {
    let seq = crate::store::next_number(&mut **tx, code, year).await?;
    Number::new(code, year, u32::try_from(seq).unwrap_or(u32::MAX))
        .map_err(|e| crate::error::AppError::invalid("code", e.to_string()))
}
