//! tongban-certificates: the electronic-certificate module (see [`certs`]).
#![forbid(unsafe_code)]

mod modules;
mod texts;

pub mod certs;

pub use modules::CertsModule;
pub(crate) use tongban_platform::{
    admin, authz, error, identity, keys, ledger, module, state, time_fmt, web,
};

/// The tables of this crate's modules: certificate types and their issuers, certificates, status lists, authorised uses.
pub static MIGRATIONS: tongban_platform::migrations::Migrations =
    tongban_platform::migrations::Migrations {
        owner: "certificates",
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
