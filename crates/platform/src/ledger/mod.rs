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
        let signing = state.clone();
        // The first checkpoint comes an interval after the node starts, not at once.
        let started = std::sync::atomic::AtomicBool::new(false);
        vec![crate::module::Job::once_every(
            state.clone(),
            "sign checkpoints",
            interval,
            move || {
                let state = signing.clone();
                let first = !started.swap(true, std::sync::atomic::Ordering::Relaxed);
                async move {
                    if first {
                        return Ok(());
                    }
                    service::latest_checkpoint(&state).await.map(|_| ())
                }
            },
        )]
    }
}
