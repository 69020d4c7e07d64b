//! tongban-opendata: 数据开放 — the open-data portal, as a module. Departments publish
//! datasets (their own uploads, or resources of the data-sharing catalogue whose open type
//! allows it); every uploaded cell passes the personal-data gate ([`gate`]) and a second
//! person publishes; the portal serves the files, a datastore to query them, CKAN's Action
//! API ([`ckan`]) and the pages of the portal and of the publisher's console ([`pages`]).
#![forbid(unsafe_code)]

mod demo;
mod modules;
mod texts;

pub mod api;
pub mod ckan;
pub mod dcat;
pub mod files;
pub mod harvest;
pub mod model;
pub mod pages;
pub mod prepare;
pub mod service;
mod store;

pub use modules::OpenDataModule;
pub(crate) use tongban_platform::{
    admin, authz, cache, db, error, identity, module, random, state, time_fmt, web,
};
pub use tongban_tables::{chart, gate, table};

/// The tables of this crate's module.
pub static MIGRATIONS: tongban_platform::migrations::Migrations =
    tongban_platform::migrations::Migrations {
        owner: "opendata",
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
