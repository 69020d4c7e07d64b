//! The transparency log (审计日志) on the database: group-committed appends sequenced by the
//! database, signed checkpoints, proofs and entries for anyone to check, and an offline
//! verifier of the whole log.

pub mod api;
pub mod appender;
pub mod service;
pub mod store;
