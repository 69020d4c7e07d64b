//! SQL of foreign credentials at the door: the SMART Health Card issuers and the EU DCC signer
//! certificates and schemas trusted here, and the visitors' acceptance rule.

use sqlx::AnyPool;
use sqlx::FromRow;

use crate::error::AppResult;
use tongban_platform::db::Exec;

/// The visitors' rule (CertLogic, as JSON text), if one was set.
pub async fn visitor_rule(db: impl Exec<'_>) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT rule FROM visitor_rules WHERE id = 'visitors'")
            .fetch_optional(db)
            .await?,
    )
}

pub async fn set_visitor_rule(db: impl Exec<'_>, rule: &str, at: i64, by: &str) -> AppResult<()> {
    sqlx::query("INSERT INTO visitor_rules (id, rule, updated_at, updated_by) VALUES ('visitors', $1, $2, $3) ON CONFLICT (id) DO UPDATE SET rule = excluded.rule, updated_at = excluded.updated_at, updated_by = excluded.updated_by")
        .bind(rule.to_owned())
        .bind(at)
        .bind(by.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// Adds or replaces a SMART Health Card issuer: its JWKS and CRLs as JSON text.
pub async fn upsert_shc_issuer(
    db: impl Exec<'_>,
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
        .execute(db)
        .await?;
    Ok(())
}

/// Every trusted issuer: (iss, JWKS text, CRLs text).
pub async fn shc_issuers(db: impl Exec<'_>) -> AppResult<Vec<(String, String, String)>> {
    Ok(sqlx::query_as("SELECT iss, jwks, crls FROM shc_issuers")
        .fetch_all(db)
        .await?)
}

/// A trusted DCC signer certificate, as stored.
#[derive(sqlx::FromRow)]
pub struct SignerRow {
    pub fingerprint: String,
    pub kid: String,
    pub country: Option<String>,
    pub subject: String,
    pub not_after: i64,
    pub certificate: String,
    /// The anchor (its fingerprint) that vouched for the signer; None for one imported before
    /// anchors existed.
    pub vouched_by: Option<String>,
}

/// A trust anchor of DCC signers: a country signing CA, or a signer-list key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AnchorRow {
    pub fingerprint: String,
    /// `csca` or `list_signer`.
    pub kind: String,
    pub kid: String,
    pub country: Option<String>,
    pub subject: String,
    pub not_after: Option<i64>,
    /// base64: the certificate's DER, or the list signer's key (a SEC1 P-256 point).
    pub material: String,
}

/// Adds anchors and the signers they vouch for, in one transaction (an existing row of either
/// is kept as it is). Returns how many signers were new.
pub async fn insert_dcc_trust(
    pool: &AnyPool,
    anchors: &[AnchorRow],
    signers: &[SignerRow],
    at: i64,
) -> AppResult<u64> {
    let mut tx = pool.begin().await?;
    for anchor in anchors {
        sqlx::query("INSERT INTO dcc_anchors (fingerprint, kind, kid, country, subject, not_after, material, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (fingerprint) DO NOTHING")
            .bind(anchor.fingerprint.clone())
            .bind(anchor.kind.clone())
            .bind(anchor.kid.clone())
            .bind(anchor.country.clone())
            .bind(anchor.subject.clone())
            .bind(anchor.not_after)
            .bind(anchor.material.clone())
            .bind(at)
            .execute(&mut *tx)
            .await?;
    }
    let mut added = 0;
    for row in signers {
        added += sqlx::query("INSERT INTO dcc_signers (fingerprint, kid, country, subject, not_after, certificate, imported_at, vouched_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (fingerprint) DO NOTHING")
            .bind(row.fingerprint.clone())
            .bind(row.kid.clone())
            .bind(row.country.clone())
            .bind(row.subject.clone())
            .bind(row.not_after)
            .bind(row.certificate.clone())
            .bind(at)
            .bind(row.vouched_by.clone())
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    tx.commit().await?;
    Ok(added)
}

pub async fn dcc_anchors(db: impl Exec<'_>) -> AppResult<Vec<AnchorRow>> {
    let rows = sqlx::query("SELECT fingerprint, kind, kid, country, subject, not_after, material FROM dcc_anchors ORDER BY kind, country, subject")
        .fetch_all(db)
        .await?;
    rows.iter().map(|r| Ok(AnchorRow::from_row(r)?)).collect()
}

/// Stops trusting an anchor, and with it every signer it vouched for.
pub async fn delete_dcc_anchor(pool: &AnyPool, fingerprint: &str) -> AppResult<u64> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM dcc_signers WHERE vouched_by = $1")
        .bind(fingerprint.to_owned())
        .execute(&mut *tx)
        .await?;
    let removed = sqlx::query("DELETE FROM dcc_anchors WHERE fingerprint = $1")
        .bind(fingerprint.to_owned())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(removed)
}

/// Removes the signer certificates with a key id; how many there were.
pub async fn delete_dcc_signers(db: impl Exec<'_>, kid: &str) -> AppResult<u64> {
    Ok(sqlx::query("DELETE FROM dcc_signers WHERE kid = $1")
        .bind(kid.to_owned())
        .execute(db)
        .await?
        .rows_affected())
}

pub async fn dcc_signers(db: impl Exec<'_>) -> AppResult<Vec<SignerRow>> {
    let rows = sqlx::query("SELECT fingerprint, kid, country, subject, not_after, certificate, vouched_by FROM dcc_signers ORDER BY country, kid")
        .fetch_all(db)
        .await?;
    rows.iter().map(|r| Ok(SignerRow::from_row(r)?)).collect()
}

/// Adds or replaces a DCC schema release; `current` makes it the one for undeclared versions.
pub async fn upsert_dcc_schema(
    pool: &AnyPool,
    version: &str,
    schema: &str,
    current: bool,
    at: i64,
) -> AppResult<()> {
    let mut tx = pool.begin().await?;
    if current {
        sqlx::query("UPDATE dcc_schemas SET is_current = 0")
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("INSERT INTO dcc_schemas (version, schema_text, is_current, imported_at) VALUES ($1, $2, $3, $4) ON CONFLICT (version) DO UPDATE SET schema_text = excluded.schema_text, is_current = excluded.is_current, imported_at = excluded.imported_at")
        .bind(version.to_owned())
        .bind(schema.to_owned())
        .bind(i64::from(current))
        .bind(at)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Every schema release: (version, schema text, current).
pub async fn dcc_schemas(db: impl Exec<'_>) -> AppResult<Vec<(String, String, bool)>> {
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT version, schema_text, is_current FROM dcc_schemas")
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(version, text, current)| (version, text, current != 0))
        .collect())
}

/// What the DCC trust is made of now: a stamp that changes with any import or removal.
pub async fn dcc_stamp(db: impl Exec<'_>) -> AppResult<(i64, i64, i64, i64)> {
    Ok(sqlx::query_as("SELECT (SELECT COUNT(*) FROM dcc_signers) + (SELECT COUNT(*) FROM dcc_anchors) AS signers, (SELECT COALESCE(MAX(imported_at), 0) FROM dcc_signers) AS signers_at, (SELECT COUNT(*) FROM dcc_schemas) AS schemas, (SELECT COALESCE(MAX(imported_at), 0) FROM dcc_schemas) AS schemas_at")
        .fetch_one(db)
        .await?)
}

/// A region this one recognises: its pinned root key and the signed trust list kept whole.
#[derive(sqlx::FromRow)]
pub struct TrustedRegionRow {
    pub region_code: String,
    pub root_alg: String,
    pub root_key: String,
    pub list_text: String,
    pub issued_at: String,
    pub imported_at: i64,
}

const TRUSTED_COLUMNS: &str = "region_code, root_alg, root_key, list_text, issued_at, imported_at";

fn trusted_region_row(r: &sqlx::any::AnyRow) -> AppResult<TrustedRegionRow> {
    Ok(TrustedRegionRow::from_row(r)?)
}

/// Adds a recognised region, or replaces its list (the pinned root stays as first stored).
pub async fn upsert_trusted_region(
    db: impl Exec<'_>,
    row: &TrustedRegionRow,
    imported_by: &str,
) -> AppResult<()> {
    sqlx::query("INSERT INTO trusted_regions (region_code, root_alg, root_key, list_text, issued_at, imported_at, imported_by) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (region_code) DO UPDATE SET list_text = excluded.list_text, issued_at = excluded.issued_at, imported_at = excluded.imported_at, imported_by = excluded.imported_by")
        .bind(row.region_code.clone())
        .bind(row.root_alg.clone())
        .bind(row.root_key.clone())
        .bind(row.list_text.clone())
        .bind(row.issued_at.clone())
        .bind(row.imported_at)
        .bind(imported_by.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

pub async fn trusted_region(
    db: impl Exec<'_>,
    region: &str,
) -> AppResult<Option<TrustedRegionRow>> {
    let sql = format!("SELECT {TRUSTED_COLUMNS} FROM trusted_regions WHERE region_code = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(region.to_owned())
        .fetch_optional(db)
        .await?;
    row.as_ref().map(trusted_region_row).transpose()
}

pub async fn trusted_regions(db: impl Exec<'_>) -> AppResult<Vec<TrustedRegionRow>> {
    let sql = format!("SELECT {TRUSTED_COLUMNS} FROM trusted_regions ORDER BY region_code");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(db).await?;
    rows.iter().map(trusted_region_row).collect()
}

/// False when the region was not recognised.
pub async fn delete_trusted_region(db: impl Exec<'_>, region: &str) -> AppResult<bool> {
    Ok(
        sqlx::query("DELETE FROM trusted_regions WHERE region_code = $1")
            .bind(region.to_owned())
            .execute(db)
            .await?
            .rows_affected()
            == 1,
    )
}

/// A trust change waiting for its second approver, as listed.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Proposal {
    pub id: String,
    pub kind: String,
    pub summary: String,
    pub proposed_by: String,
    pub proposed_at: i64,
}

pub async fn insert_proposal(db: impl Exec<'_>, row: &Proposal, change: &str) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO trust_proposals (id, kind, change, summary, proposed_by, proposed_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(row.id.clone())
    .bind(row.kind.clone())
    .bind(change.to_owned())
    .bind(row.summary.clone())
    .bind(row.proposed_by.clone())
    .bind(row.proposed_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Proposals made since `since` and not approved, oldest first.
pub async fn open_proposals(db: impl Exec<'_>, since: i64) -> AppResult<Vec<Proposal>> {
    Ok(sqlx::query_as(
        "SELECT id, kind, summary, proposed_by, proposed_at FROM trust_proposals
         WHERE approved_at IS NULL AND proposed_at > $1 ORDER BY proposed_at LIMIT 100",
    )
    .bind(since)
    .fetch_all(db)
    .await?)
}

/// A proposal's change (JSON) and proposer.
pub async fn proposal(db: impl Exec<'_>, id: &str) -> AppResult<Option<(String, String)>> {
    Ok(
        sqlx::query_as("SELECT change, proposed_by FROM trust_proposals WHERE id = $1")
            .bind(id.to_owned())
            .fetch_optional(db)
            .await?,
    )
}

/// Approves an open proposal made since `since` by someone other than its proposer.
pub async fn approve_proposal(
    db: impl Exec<'_>,
    id: &str,
    by: &str,
    now: i64,
    since: i64,
) -> AppResult<bool> {
    let result = sqlx::query(
        "UPDATE trust_proposals SET approved_by = $2, approved_at = $3
         WHERE id = $1 AND approved_at IS NULL AND proposed_by <> $2 AND proposed_at > $4",
    )
    .bind(id.to_owned())
    .bind(by.to_owned())
    .bind(now)
    .bind(since)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Opens an approved proposal again (its change could not be made).
pub async fn reopen_proposal(db: impl Exec<'_>, id: &str) -> AppResult<()> {
    sqlx::query("UPDATE trust_proposals SET approved_by = NULL, approved_at = NULL WHERE id = $1")
        .bind(id.to_owned())
        .execute(db)
        .await?;
    Ok(())
}
