//! tongban-certificates: the electronic-certificate module (see [`certs`]).
#![forbid(unsafe_code)]

mod modules;
mod texts;

pub mod certs;

pub use modules::CertsModule;
pub(crate) use tongban_platform::{
    admin, authz, error, identity, keys, ledger, module, state, time_fmt, web,
};
