//! tongban-services: 一网通办 — the service catalogue ([`services`]) and applications
//! ([`applications`]) with their workflow, bundles and evaluations.
#![forbid(unsafe_code)]

mod modules;
mod texts;

pub mod applications;
pub mod services;

pub use modules::{ApplicationsModule, ServicesModule};
pub(crate) use tongban_certificates::certs;
pub(crate) use tongban_platform::{
    admin, authz, error, identity, ledger, module, random, state, time_fmt, web,
};
