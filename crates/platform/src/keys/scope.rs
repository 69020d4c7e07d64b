//! What a key may sign, beyond its purpose: modules bind an owner's keys to the issuer code
//! and kinds of document they sign, and the trust list publishes it for offline verifiers.

use serde::{Deserialize, Serialize};

/// What an owner's keys of one purpose may sign: documents naming `code` as their issuer, of
/// the kinds in `kinds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeyScope {
    /// The issuer code documents name (a department's USCC).
    pub code: String,
    /// The kinds of document (certificate type codes).
    pub kinds: Vec<String>,
}

/// A module's binding of one owner's keys of one purpose to a [`KeyScope`]
/// (see [`crate::module::Module::key_scopes`]).
#[derive(Debug, Clone)]
pub struct OwnerScope {
    pub owner: String,
    pub purpose: String,
    pub scope: KeyScope,
}
