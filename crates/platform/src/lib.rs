//! tongban-platform: the kernel every module plugs into — configuration, the database and its
//! migrations, the error boundary, the clock and metrics, the authorization policy, identity
//! and administration, the key vault and signing keys, the transparency log, the coherent
//! caches, the web shell (extractors, cookies, CSRF, page context, i18n) and the
//! [`module::Module`] interface. It names no module.
#![forbid(unsafe_code)]

pub mod admin;
pub mod authz;
pub mod cache;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod extensions;
pub mod figures;
pub mod identity;
pub mod keys;
pub mod lease;
pub mod ledger;
pub mod metrics;
pub mod migrations;
pub mod module;
pub mod outbound;
pub mod random;
pub mod refreshing;
pub mod state;
pub mod suppress;
pub mod time_fmt;
pub mod web;

pub use config::Config;
pub use db::Db;
pub use state::AppState;
