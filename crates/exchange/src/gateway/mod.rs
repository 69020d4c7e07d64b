//! The data-sharing gateway (the X-Road model inside the platform): a consumer department's
//! system calls `/r1/{service id}/{path}` with `X-Road-Client`; the gateway authenticates it,
//! checks its grant, calls the provider, removes every item the grant does not cover, signs
//! both sides with the departments' own keys, writes the signed pair to the transparency log,
//! and answers. Metadata services describe what may be called.

pub mod api;
/// Field-level filtering of answers (in `tongban-codes`, with its fuzz target).
pub use tongban_codes::item_filter as filter;
/// X-Road identifiers (in `tongban-codes`, with its fuzz target).
pub use tongban_codes::xroad as ids;
pub mod calls;
pub mod held;
pub mod log;
pub mod members;
pub mod message;
pub mod metadata;
pub mod pages;
pub mod parties;
pub mod peers;
pub mod providers;
pub mod receipts;
pub mod service;
pub mod signed;

pub use message::{EXCHANGE_KEY, EXCHANGE_KIND, verify_receipt, verify_receipt_across};

/// The exchange keys of every department with a USCC, bound to it in the trust list: a key
/// signs exchanges only for the member it belongs to.
pub async fn key_scopes(
    state: &crate::state::AppState,
) -> crate::error::AppResult<Vec<crate::keys::service::OwnerScope>> {
    Ok(crate::admin::directory::departments(state)
        .await?
        .into_iter()
        .filter_map(|d| {
            Some(crate::keys::service::OwnerScope {
                owner: d.id,
                purpose: EXCHANGE_KEY.into(),
                scope: crate::keys::service::KeyScope {
                    code: d.uscc?,
                    kinds: vec![EXCHANGE_KIND.into()],
                },
            })
        })
        .collect())
}
