//! tongban-collect: 一表通 — one-form collection, as a module. Departments design forms as
//! XLSForms ([`tongban_xform`]); the burden-reduction office approves each before it reaches
//! villages and communities, reading an overlap report of what other forms and the platform's
//! registers already collect ([`service`]); collectors fill them in with ODK Collect or any
//! client of ODK Central's API ([`odk`]), and every submission is checked against its form and
//! kept once, sealed at rest.
#![forbid(unsafe_code)]

mod demo;
mod device;
pub mod entities;
pub mod export;
mod modules;
mod texts;

pub mod api;
pub mod odk;
pub mod pages;
pub mod plan;
pub mod prefill;
pub mod reach;
pub mod rollup;
pub mod service;
pub mod starter;
pub mod store;
pub mod tally;
pub mod writer;

pub use demo::business_survey as demo_business_survey;
pub use modules::CollectModule;
pub(crate) use tongban_platform::{
    db, error, identity, ledger, random, state, suppress, time_fmt, web,
};

/// The tables of this crate's module.
pub static MIGRATIONS: tongban_platform::migrations::Migrations =
    tongban_platform::migrations::Migrations {
        owner: "collect",
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
