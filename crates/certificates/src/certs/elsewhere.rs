//! Certificates held from elsewhere: what another region issued to a holder of this region (the
//! result of a 跨省通办 case), kept in the holder's wallet beside this region's own. The module
//! that receives one has verified it against the issuing region's trust list and that it names
//! the holder; here it is kept sealed, listed, opened and shown like any other. Its status is
//! the issuing region's: valid when received, then what that region's signed status list says
//! when it is read again ([`held`], [`set_status`]), and expired after its last day. The SQL is
//! in `store` (`elsewhere_*`).

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use tongban_certs::SignedCertificate;

pub(crate) use super::store::ElsewhereRow as Row;

fn context(holder: &str, id: &str) -> String {
    format!("certificates_elsewhere.document/{holder}/{id}")
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
    let document = serde_json::to_vec(signed).map_err(|e| AppError::Internal(e.into()))?;
    let sealed = state
        .vault
        .seal_field(&context(person_id, &signed.certificate.id), &document);
    super::store::elsewhere_keep(
        state.pool(),
        person_id,
        region,
        &signed.certificate,
        sealed,
        source,
        state.now(),
    )
    .await
}

pub(crate) async fn of_holder(state: &AppState, kind: &str, holder: &str) -> AppResult<Vec<Row>> {
    super::store::elsewhere_of_holder(state.pool(), kind, holder).await
}

pub(crate) async fn one(
    state: &AppState,
    kind: &str,
    holder: &str,
    id: &str,
) -> AppResult<Option<Row>> {
    super::store::elsewhere_one(state.pool(), kind, holder, id).await
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

/// The certificates held from elsewhere whose status may still change (not revoked), the ones
/// read longest ago first.
pub async fn held(state: &AppState, limit: i64) -> AppResult<Vec<Held>> {
    super::store::elsewhere_unrevoked(state.pool(), limit)
        .await?
        .into_iter()
        .map(|(holder_kind, holder_id, row)| {
            let signed = open(state, &holder_id, &row)?;
            Ok(Held {
                holder_kind,
                holder_id,
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
    super::store::elsewhere_set_status(
        state.pool(),
        (
            &held.holder_kind,
            &held.holder_id,
            &held.signed.certificate.id,
        ),
        status,
        state.now(),
    )
    .await
}
