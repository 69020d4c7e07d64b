//! Digital registries (GovStack Digital Registries building block): a department keeps the
//! records of one of its catalogue resources as a registry (a name and a version), through the
//! Data API at `/data/{registryName}/{versionNumber}/…`; other departments read it through the
//! gateway under their grants. A record's fields are the resource's data items, checked on
//! every write; the record is sealed at rest and found by a keyed blind index of its ID.

pub mod api;
pub mod service;
mod store;

pub use service::{Registry, RegistryDraft};
