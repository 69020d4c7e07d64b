//! tongban-citypass: 一码通 — health facts and status ([`health`]), the city pass ([`pass`]),
//! venue codes ([`venues`]) and check-ins ([`checkins`]), one module of the platform in four
//! areas that share the holder's status.
#![forbid(unsafe_code)]

mod modules;
mod texts;

pub mod checkins;
pub mod health;
pub mod pass;
pub mod venues;

pub use modules::{CheckinsModule, HealthModule, PassModule, VenuesModule};
pub(crate) use tongban_certificates::certs;
pub(crate) use tongban_platform::{
    admin, authz, cache, db, error, identity, keys, ledger, module, random, state, time_fmt, web,
};
pub(crate) use tongban_trust::trust;
