//! tongban-trust: the trust module (see [`trust`]).
#![forbid(unsafe_code)]

mod modules;
mod texts;

pub mod trust;

pub use modules::TrustModule;
pub(crate) use tongban_platform::{
    authz, cache, error, identity, keys, ledger, module, state, time_fmt, web,
};

/// The tables of this crate's modules: recognised regions, SHC issuers, visitor rules, DCC signers and schemas.
pub static MIGRATIONS: tongban_platform::migrations::Migrations =
    tongban_platform::migrations::Migrations {
        owner: "trust",
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
