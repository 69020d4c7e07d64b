//! tongban-exchange: data sharing between departments (数据共享交换), as a module — the
//! resource catalogue and its requests and grants, item by item (see [`catalogue`]), and the
//! signing gateway that enforces them (see [`gateway`]).
#![forbid(unsafe_code)]

mod modules;
mod tabs;
mod texts;

pub mod catalogue;
pub mod gateway;
pub mod pubsub;
pub mod registries;

pub use modules::ExchangeModule;
pub(crate) use tongban_platform::{
    admin, authz, cache, error, identity, keys, ledger, module, state, time_fmt, web,
};

/// The tables of this crate's modules: the resource catalogue, its items, requests and grants.
pub static MIGRATIONS: tongban_platform::migrations::Migrations =
    tongban_platform::migrations::Migrations {
        owner: "exchange",
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
