//! tongban-trust: the trust module (see [`trust`]).
#![forbid(unsafe_code)]

mod texts;

pub mod trust;

pub(crate) use tongban_platform::{
    authz, error, identity, keys, ledger, module, state, time_fmt, web,
};
