//! tongban-ops: 一网统管 — the operations view, as a module. Every module counts its figures
//! through the kernel ([`tongban_platform::figures`]); this module shows them per region and
//! period ([`view`]), drilling down from a city to its districts, with every small count of
//! persons hidden and what would reveal it hidden too ([`suppress`]): as pages with charts
//! drawn on the server ([`pages`]), as JSON and as Prometheus text ([`api`]).
#![forbid(unsafe_code)]

mod demo;
mod modules;
mod texts;

pub mod api;
pub mod pages;
pub mod suppress;
pub mod view;

pub use modules::OpsModule;
pub(crate) use tongban_platform::{admin, authz, error, identity, module, state, time_fmt, web};
