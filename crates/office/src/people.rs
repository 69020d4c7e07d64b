//! The people on documents, sent and received: who a staff member named on one is, how a
//! person is shown on it, and the digest its history and the transparency log keep of a text.

use serde::Serialize;

use crate::error::AppResult;
use crate::identity::model::{Account, Role, Scope};
use crate::state::AppState;

/// A person on a document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartyView {
    pub account_id: String,
    pub name: String,
    /// When a reviewer agreed.
    pub agreed_at: Option<String>,
}

/// A staff member of `department` holding one of `roles`, as named on a document.
pub(crate) async fn staff_member(
    state: &AppState,
    account: &str,
    department: &str,
    roles: &[Role],
) -> AppResult<Option<Account>> {
    let Some(found) = crate::identity::store::account(state.pool(), account).await? else {
        return Ok(None);
    };
    if found.disabled || found.department_id.as_deref() != Some(department) {
        return Ok(None);
    }
    let grants = crate::identity::store::grants(state.pool(), account).await?;
    let holds = grants
        .iter()
        .any(|g| roles.contains(&g.role) && g.scope != Scope::Own);
    Ok(holds.then_some(found))
}

pub(crate) fn digest(state: &AppState, bytes: &[u8]) -> String {
    crate::desk::hex(&tongban_crypto::digest(state.config.profile.hash(), bytes))
}

pub(crate) async fn party_view(
    state: &AppState,
    account: &str,
    agreed_at: Option<i64>,
) -> AppResult<PartyView> {
    let name = crate::identity::store::account(state.pool(), account)
        .await?
        .map(|a| a.display_name)
        .unwrap_or_default();
    Ok(PartyView {
        account_id: account.to_owned(),
        name,
        agreed_at: agreed_at.map(crate::time_fmt::rfc3339),
    })
}
