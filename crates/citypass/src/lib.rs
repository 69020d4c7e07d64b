//! tongban-citypass: 一码通 — health facts and status ([`health`]), the city pass ([`pass`]),
//! venue codes ([`venues`]) and check-ins ([`checkins`]), one module of the platform in four
//! areas that share the holder's status.
#![forbid(unsafe_code)]

mod modules;
mod texts;

pub mod checkins;
pub mod health;
pub mod pass;
pub mod venues;

pub use modules::{CheckinsModule, HealthModule, PassModule, VenuesModule};
pub(crate) use tongban_certificates::certs;
pub(crate) use tongban_platform::{
    admin, authz, cache, db, error, identity, keys, ledger, module, random, state, time_fmt, web,
};
pub(crate) use tongban_trust::trust;

/// The tables of this crate's modules: health facts and rules, status overrides and requests,
/// notices, venues and their staff, check-ins, companions, identity-check counts.
pub static MIGRATIONS: tongban_platform::migrations::Migrations =
    tongban_platform::migrations::Migrations {
        owner: "citypass",
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
