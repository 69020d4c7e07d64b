//! What each subcommand does; `main.rs` parses the command line and calls one of these.

pub(crate) mod admin;
pub(crate) mod backup;
pub(crate) mod certs;
pub(crate) mod forms;
pub(crate) mod keys;
pub(crate) mod office;
pub(crate) mod pass;
pub(crate) mod serve;
pub(crate) mod trust;

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
