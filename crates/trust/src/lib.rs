//! tongban-trust: the trust module (see [`trust`]).
#![forbid(unsafe_code)]

mod modules;
mod texts;

pub mod trust;

pub use modules::TrustModule;
pub(crate) use tongban_platform::{
    authz, error, identity, keys, ledger, module, state, time_fmt, web,
};
