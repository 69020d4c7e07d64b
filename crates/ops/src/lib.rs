//! tongban-ops: 一网统管 — the operations view, as a module. Every module counts its figures
//! through the kernel ([`tongban_platform::figures`]); this module shows them per region and
//! period ([`view`]), drilling down from a city to its districts, with every small count of
//! persons hidden and what would reveal it hidden too ([`suppress`]): as pages with charts
//! drawn on the server ([`pages`]) — the districts coloured on the deployment's map
//! ([`boundaries`]) — as JSON and as Prometheus text ([`api`]).
#![forbid(unsafe_code)]

mod demo;
mod modules;
mod store;
mod texts;

pub mod alerts;
pub mod api;
pub mod boundaries;
pub mod pages;
pub mod view;

pub use modules::OpsModule;
pub use tongban_platform::suppress;
pub(crate) use tongban_platform::{
    admin, authz, db, error, identity, module, random, state, time_fmt, web,
};

/// The tables of this crate's module.
pub static MIGRATIONS: tongban_platform::migrations::Migrations =
    tongban_platform::migrations::Migrations {
        owner: "ops",
        sqlite: &sqlx::migrate!("migrations/sqlite"),
        postgres: &sqlx::migrate!("migrations/postgres"),
    };

#[cfg(test)]
mod migration_tests {
    #[test]
    fn both_dialects_make_the_same_tables_columns_and_indexes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        tongban_platform::migrations::check_dialects(&root).expect("the dialects agree");
    }
}
