//! tongban-crossregion: 跨省通办 — applications handled across regions, as a module. A person
//! applies in their own region for an item whose competent department is in another; the
//! application travels as a signed package through the data-sharing exchange between the two
//! regions' gateways, is delivered once however often it is sent, and its progress comes back
//! the same way (see [`cases`], [`package`], [`outbox`]).
#![forbid(unsafe_code)]

mod demo;
mod modules;
mod texts;

pub mod api;
pub mod cases;
pub mod intake;
pub mod outbox;
/// The signed application package (in `tongban-codes`, with its fuzz target).
pub use tongban_codes::cross_package as package;
pub mod pages;
pub mod partners;
pub mod statuses;
mod store;
pub mod writer;

pub use modules::CrossRegionModule;
pub(crate) use tongban_platform::{authz, error, identity, keys, module, state, time_fmt, web};

/// The code of the resource through which a region takes other regions' packages and status
/// updates and answers its catalogue of 跨省通办 items (its intake department's).
pub const INTAKE_RESOURCE: &str = "KS-TB-001";
/// The name of the provider the exchange calls for it.
pub const PROVIDER: &str = "cross-region";
/// The calling system's name in the `X-Road-Client` header.
pub const SUBSYSTEM: &str = "KSTB";

/// The tables of this crate's module.
pub static MIGRATIONS: tongban_platform::migrations::Migrations =
    tongban_platform::migrations::Migrations {
        owner: "crossregion",
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
