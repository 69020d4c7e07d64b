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
    admin, authz, cache, error, identity, ledger, module, random, state, time_fmt, web,
};

/// The tables of this crate's modules: the service catalogue, the working-day calendar, applications, evaluations, bundles.
pub static MIGRATIONS: tongban_platform::migrations::Migrations =
    tongban_platform::migrations::Migrations {
        owner: "services",
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
