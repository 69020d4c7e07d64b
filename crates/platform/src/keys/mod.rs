//! Keys: the master key, the data keys it seals (field encryption, blind indexes), and the
//! signing keys of each authority with rotation and the signed trust list.

pub mod api;
pub mod master;
pub mod offline;
pub mod service;
pub mod signers;
pub mod store;
pub mod vault;

/// The purpose of the issuing departments' keys that sign electronic certificates.
pub const CERT_KEY: &str = "cert";

/// The keys module, as the platform registers it.
pub struct KeysModule;

impl crate::module::Module for KeysModule {
    fn name(&self) -> &'static str {
        "keys"
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        api::routes()
    }
}
