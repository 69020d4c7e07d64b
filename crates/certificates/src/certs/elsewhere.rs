//! Certificates held from elsewhere: what another region issued to a holder of this region (the
//! result of a 跨省通办 case), kept in the holder's wallet beside this region's own. The module
//! that receives one has verified it against the issuing region's trust list and that it names
//! the holder; here it is kept sealed, listed, opened and shown like any other. Its status is
//! the issuing region's: valid when received, then what that region's signed status list says
//! when it is read again ([`held`], [`set_status`]), and expired after its last day.

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
    pub status: String,
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
         issuer_name, issued_on, valid_until, document_sealed, source, received_at, status, \
         status_at) VALUES ($1, 'person', $2, $3, $4, $5, $6, $7, $8, $9, $10, 'valid', $10) \
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

const COLUMNS: &str =
    "id, region, type_name, issuer_name, issued_on, valid_until, document_sealed, status";

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

/// The issuing region's status as last read, `expired` after its last day (in this region's
/// calendar) while that says valid.
pub(crate) fn status(state: &AppState, row: &Row) -> String {
    let today = tongban_core::zone::ymd(state.today());
    match &row.valid_until {
        Some(until) if row.status == "valid" && until.as_str() < today.as_str() => "expired".into(),
        _ => row.status.clone(),
    }
}

/// One certificate held from elsewhere, for reading its status again.
pub struct Held {
    pub holder_kind: String,
    pub holder_id: String,
    pub region: String,
    pub signed: SignedCertificate,
}

#[derive(sqlx::FromRow)]
struct HeldRow {
    id: String,
    holder_kind: String,
    holder_id: String,
    region: String,
    document_sealed: Vec<u8>,
}

/// The certificates held from elsewhere whose status may still change (not revoked), the ones
/// read longest ago first.
pub async fn held(state: &AppState, limit: i64) -> AppResult<Vec<Held>> {
    let rows: Vec<HeldRow> = sqlx::query_as(
        "SELECT id, holder_kind, holder_id, region, document_sealed \
         FROM certificates_elsewhere WHERE status <> 'revoked' ORDER BY status_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(state.pool())
    .await?;
    rows.into_iter()
        .map(|row| {
            let plain = state
                .vault
                .open_field(&context(&row.holder_id, &row.id), &row.document_sealed)?;
            let signed =
                serde_json::from_slice(&plain).map_err(|e| AppError::Internal(e.into()))?;
            Ok(Held {
                holder_kind: row.holder_kind,
                holder_id: row.holder_id,
                region: row.region,
                signed,
            })
        })
        .collect()
}

/// Records what the issuing region's signed status list says of a certificate held here.
pub async fn set_status(state: &AppState, held: &Held, status: &str) -> AppResult<()> {
    if !matches!(status, "valid" | "suspended" | "revoked") {
        return Err(AppError::invalid("status", "valid, suspended or revoked"));
    }
    sqlx::query(
        "UPDATE certificates_elsewhere SET status = $1, status_at = $2 \
         WHERE holder_kind = $3 AND holder_id = $4 AND id = $5",
    )
    .bind(status.to_owned())
    .bind(state.now())
    .bind(held.holder_kind.clone())
    .bind(held.holder_id.clone())
    .bind(held.signed.certificate.id.clone())
    .execute(state.pool())
    .await?;
    Ok(())
}
