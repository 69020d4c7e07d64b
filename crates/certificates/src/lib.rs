//! tongban-certificates: the electronic-certificate module (see [`certs`]).
#![forbid(unsafe_code)]

mod texts;

pub mod certs;

pub(crate) use tongban_platform::{
    admin, authz, error, identity, keys, ledger, module, state, time_fmt, web,
};
