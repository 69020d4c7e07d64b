//! SQL of foreign credentials at the door: the SMART Health Card issuers trusted here and the
//! visitors' acceptance rule.

use sqlx::{AnyPool, Row};

use crate::error::AppResult;

/// The visitors' rule (CertLogic, as JSON text), if one was set.
pub async fn visitor_rule(pool: &AnyPool) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT rule FROM visitor_rules WHERE id = 'visitors'")
            .fetch_optional(pool)
            .await?,
    )
}

pub async fn set_visitor_rule(pool: &AnyPool, rule: &str, at: i64, by: &str) -> AppResult<()> {
    sqlx::query("INSERT INTO visitor_rules (id, rule, updated_at, updated_by) VALUES ('visitors', $1, $2, $3) ON CONFLICT (id) DO UPDATE SET rule = excluded.rule, updated_at = excluded.updated_at, updated_by = excluded.updated_by")
        .bind(rule.to_owned())
        .bind(at)
        .bind(by.to_owned())
        .execute(pool)
        .await?;
    Ok(())
}

/// Adds or replaces a SMART Health Card issuer: its JWKS and CRLs as JSON text.
pub async fn upsert_shc_issuer(
    pool: &AnyPool,
    iss: &str,
    jwks: &str,
    crls: &str,
    at: i64,
) -> AppResult<()> {
    sqlx::query("INSERT INTO shc_issuers (iss, jwks, crls, imported_at) VALUES ($1, $2, $3, $4) ON CONFLICT (iss) DO UPDATE SET jwks = excluded.jwks, crls = excluded.crls, imported_at = excluded.imported_at")
        .bind(iss.to_owned())
        .bind(jwks.to_owned())
        .bind(crls.to_owned())
        .bind(at)
        .execute(pool)
        .await?;
    Ok(())
}

/// Every trusted issuer: (iss, JWKS text, CRLs text).
pub async fn shc_issuers(pool: &AnyPool) -> AppResult<Vec<(String, String, String)>> {
    let rows = sqlx::query("SELECT iss, jwks, crls FROM shc_issuers")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("iss")?, r.try_get("jwks")?, r.try_get("crls")?)))
        .collect()
}
