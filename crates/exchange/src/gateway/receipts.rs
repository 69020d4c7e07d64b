//! A department's view of the message log, and receipts of single exchanges.

use serde::{Deserialize, Serialize};

use super::log::{self, Search};
use super::message::{RECEIPT_FORMAT, Receipt};
use crate::authz::{Action, Resource as On, can};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::state::AppState;

/// Filters of the message log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MessageQuery {
    /// A resource code.
    pub resource: Option<String>,
    /// `ok`, `refused` (the gateway refused or failed) or `failed` (the provider answered
    /// with an error).
    pub outcome: Option<String>,
    /// RFC 3339; from this instant on.
    pub from: Option<String>,
    /// RFC 3339; before this instant.
    pub to: Option<String>,
    /// At most this many, newest first (1–1000, default 100).
    pub limit: Option<i64>,
}

/// One exchange of the department's log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: String,
    /// RFC 3339.
    pub at: String,
    /// `out` (the department consumed) or `in` (it provided).
    pub direction: String,
    pub client: String,
    pub service: String,
    pub resource: String,
    pub method: String,
    pub status: i64,
    /// The gateway's X-Road error type, when it refused or failed.
    pub error: Option<String>,
    /// Item values the gateway removed from the answer.
    pub removed_values: i64,
    /// Time in the gateway, microseconds.
    pub micros: i64,
    /// The entry of the transparency log that holds the signed record.
    pub ledger_index: i64,
}

fn instant(field: &'static str, text: Option<&str>) -> AppResult<Option<i64>> {
    text.map(|t| {
        crate::time_fmt::parse_millis(t)
            .ok_or_else(|| AppError::invalid(field, "an RFC 3339 instant"))
    })
    .transpose()
}

/// The log of the actor's department (its administrators).
pub async fn messages(
    state: &AppState,
    actor: &Actor,
    query: &MessageQuery,
) -> AppResult<Vec<MessageView>> {
    let department = actor
        .account
        .department_id
        .clone()
        .ok_or(AppError::Forbidden)?;
    if !can(
        actor,
        Action::ReadExchangeLog,
        On::Department { id: &department },
    ) {
        return Err(AppError::Forbidden);
    }
    if let Some(outcome) = &query.outcome
        && !["ok", "refused", "failed"].contains(&outcome.as_str())
    {
        return Err(AppError::invalid("outcome", "one of ok, refused, failed"));
    }
    if query.limit.is_some_and(|l| !(1..=1000).contains(&l)) {
        return Err(AppError::invalid("limit", "1–1000"));
    }
    let search = Search {
        resource: query.resource.clone(),
        outcome: query.outcome.clone(),
        from: instant("from", query.from.as_deref())?,
        to: instant("to", query.to.as_deref())?,
        limit: query.limit.unwrap_or(100),
    };
    Ok(log::messages_of(state.pool(), &department, &search)
        .await?
        .into_iter()
        .map(|row| MessageView {
            at: crate::time_fmt::rfc3339(row.at),
            direction: if row.consumer_department_id == department {
                "out".into()
            } else {
                "in".into()
            },
            id: row.id,
            client: row.client,
            service: row.service,
            resource: row.resource_code,
            method: row.method,
            status: row.status,
            error: row.error_type,
            removed_values: row.removed_values,
            micros: row.micros,
            ledger_index: row.ledger_index,
        })
        .collect())
}

/// A receipt of an exchange, for an administrator of either party. Another department's
/// exchange is not found.
pub async fn receipt(state: &AppState, actor: &Actor, id: &str) -> AppResult<Receipt> {
    let row = log::message(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let party = |department: &str| {
        can(
            actor,
            Action::ReadExchangeLog,
            On::Department { id: department },
        )
    };
    if !party(&row.consumer_department_id) && !party(&row.provider_department_id) {
        return Err(AppError::NotFound);
    }
    let index = u64::try_from(row.ledger_index)
        .map_err(|_| AppError::Internal(anyhow::anyhow!("negative ledger index")))?;
    let entries =
        crate::ledger::store::entries(state.pool(), row.ledger_index, row.ledger_index + 1).await?;
    let entry = entries
        .into_iter()
        .next()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the log misses entry {index}")))?
        .1;
    let entry = String::from_utf8(entry)
        .map_err(|_| AppError::Internal(anyhow::anyhow!("entry {index} is not UTF-8")))?;
    let (name, key) = crate::ledger::service::checkpoint_key(state).await?;
    let text = crate::ledger::service::latest_checkpoint(state).await?;
    let mut checkpoint = tongban_ledger::SignedCheckpoint::verify(&text, &name, &key)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("own checkpoint: {e}")))?;
    if checkpoint.checkpoint.size <= index {
        checkpoint = crate::ledger::service::make_checkpoint(state).await?;
    }
    let size = checkpoint.checkpoint.size;
    let inclusion = crate::ledger::service::inclusion(state, index, size)
        .await
        .map_err(AppError::from)?;
    Ok(Receipt {
        format: RECEIPT_FORMAT.into(),
        entry,
        index,
        tree_size: size,
        inclusion,
        checkpoint: checkpoint.text,
    })
}

/// What the gateway's own check of a receipt found: the record, and the reason it was refused,
/// if it was.
pub struct Checked {
    pub receipt: Receipt,
    pub record: Option<super::message::ExchangeRecord>,
    pub refusal: Option<String>,
}

/// Checks the receipt of an exchange as `tongban exchange verify` does offline, against this
/// region's trust list and those of the regions it recognises (an exchange with another region
/// is signed on one side by that region's department).
pub async fn check(state: &AppState, actor: &Actor, id: &str) -> AppResult<Checked> {
    let receipt = receipt(state, actor, id).await?;
    let own = serde_json::to_string(&crate::keys::service::trust_list(state).await?)
        .map_err(|e| AppError::Internal(e.into()))?;
    let others = tongban_trust::trust::regions::recognised_lists(state).await?;
    let mut lists: Vec<(&str, Option<&tongban_crypto::PublicKey>)> = vec![(own.as_str(), None)];
    lists.extend(
        others
            .iter()
            .map(|(text, root)| (text.as_str(), Some(root))),
    );
    let text = serde_json::to_string(&receipt).map_err(|e| AppError::Internal(e.into()))?;
    let (record, refusal) = match super::message::verify_receipt_across(&lists, &text) {
        Ok(record) => (Some(record), None),
        Err(refusal) => (
            serde_json::from_str(&receipt.entry).ok(),
            Some(format!("{}: {}", refusal.reason, refusal.message)),
        ),
    };
    Ok(Checked {
        receipt,
        record,
        refusal,
    })
}
