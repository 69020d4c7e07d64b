//! Certificates held from elsewhere: what another region issued to a holder of this region (the
//! result of a 跨省通办 case), kept in the holder's wallet beside this region's own. The module
//! that receives one has verified it against the issuing region's trust list and that it names
//! the holder; here it is kept sealed, listed, opened and shown like any other. Its status is
//! the issuing region's: this region knows it as valid when received, and expired after its
//! last day.

use sqlx::AnyPool;

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use tongban_certs::SignedCertificate;

fn context(holder: &str, id: &str) -> String {
    format!("certificates_elsewhere.document/{holder}/{id}")
}

/// One kept certificate, as the wallet lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Row {
    pub id: String,
    pub region: String,
    pub type_name: String,
    pub issuer_name: String,
    pub issued_on: String,
    pub valid_until: Option<String>,
    pub document_sealed: Vec<u8>,
}

/// Keeps a certificate region `region` issued, verified there, in a person's wallet. Kept once:
/// the same certificate again changes nothing.
pub async fn keep_for_person(
    state: &AppState,
    person_id: &str,
    region: &str,
    signed: &SignedCertificate,
    source: &str,
) -> AppResult<()> {
    let c = &signed.certificate;
    let document = serde_json::to_vec(signed).map_err(|e| AppError::Internal(e.into()))?;
    sqlx::query(
        "INSERT INTO certificates_elsewhere (id, holder_kind, holder_id, region, type_name, \
         issuer_name, issued_on, valid_until, document_sealed, source, received_at) \
         VALUES ($1, 'person', $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (holder_kind, holder_id, id) DO NOTHING",
    )
    .bind(c.id.clone())
    .bind(person_id.to_owned())
    .bind(region.to_owned())
    .bind(c.type_name.clone())
    .bind(c.issuer.name.clone())
    .bind(c.issued_on.clone())
    .bind(c.valid_until.clone())
    .bind(
        state
            .vault
            .seal_field(&context(person_id, &c.id), &document),
    )
    .bind(source.to_owned())
    .bind(state.now())
    .execute(state.pool())
    .await?;
    Ok(())
}

const COLUMNS: &str = "id, region, type_name, issuer_name, issued_on, valid_until, document_sealed";

pub(crate) async fn of_holder(db: &AnyPool, kind: &str, holder: &str) -> AppResult<Vec<Row>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM certificates_elsewhere WHERE holder_kind = $1 AND holder_id = $2 \
         ORDER BY received_at DESC LIMIT 200"
    )))
    .bind(kind.to_owned())
    .bind(holder.to_owned())
    .fetch_all(db)
    .await?)
}

pub(crate) async fn one(
    db: &AnyPool,
    kind: &str,
    holder: &str,
    id: &str,
) -> AppResult<Option<Row>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM certificates_elsewhere WHERE holder_kind = $1 AND holder_id = $2 \
         AND id = $3"
    )))
    .bind(kind.to_owned())
    .bind(holder.to_owned())
    .bind(id.to_owned())
    .fetch_optional(db)
    .await?)
}

pub(crate) fn open(state: &AppState, holder: &str, row: &Row) -> AppResult<SignedCertificate> {
    let plain = state
        .vault
        .open_field(&context(holder, &row.id), &row.document_sealed)?;
    serde_json::from_slice(&plain).map_err(|e| AppError::Internal(e.into()))
}

/// `valid` as received, `expired` after its last day (in this region's calendar).
pub(crate) fn status(state: &AppState, row: &Row) -> String {
    let today = tongban_core::zone::ymd(state.today());
    match &row.valid_until {
        Some(until) if until.as_str() < today.as_str() => "expired".into(),
        _ => "valid".into(),
    }
}
