//! The transparency log (审计日志) on the database: group-committed appends sequenced by the
//! database, signed checkpoints, proofs and entries for anyone to check, and an offline
//! verifier of the whole log.

pub mod api;
pub mod appender;
pub mod service;
pub mod store;

/// The ledger module, as the platform registers it.
pub struct LedgerModule;

impl crate::module::Module for LedgerModule {
    fn name(&self) -> &'static str {
        "ledger"
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        api::routes()
    }

    fn jobs(&self, state: &crate::state::AppState) -> Vec<crate::module::Job> {
        let interval =
            std::time::Duration::from_secs(state.config.checkpoint_interval_seconds.max(1));
        vec![crate::module::Job::new(
            "sign checkpoints",
            service::checkpoint_periodically(state.clone(), interval),
        )]
    }
}
