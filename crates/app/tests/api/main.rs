//! The story and API tests of tongban, run against SQLite by default and against PostgreSQL
//! when TONGBAN_TEST_DATABASE_URL is set. Each test has a node and a database of its own:
//! `spawn_app()` copies the demo city seeded once per test process and hour (its database,
//! data directory, master key and credentials), `spawn_app_with(…)` seeds its own.

mod helpers;

mod abuse;
mod across;
mod applications;
mod auth;
mod authz_matrix;
mod bad_input;
mod cert_use;
mod certs;
mod collect;
mod cross_region;
mod dates;
mod directory;
mod documents_across;
mod exchange;
mod experience;
mod gateway;
mod govstack;
mod home;
mod incoming;
mod keys;
mod leases;
mod ledger;
mod migrations;
mod office;
mod opendata;
mod operations;
mod ops;
mod pages;
mod pass;
mod postgres_tls;
mod pubsub;
mod registries;
mod releases;
mod services;
mod story;
mod trust;
mod venues;
