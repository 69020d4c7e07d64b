//! The Module value this crate registers with the platform.

use crate::state::AppState;

/// 协同办公, as the platform registers it.
pub struct OfficeModule;

impl crate::module::Module for OfficeModule {
    fn name(&self) -> &'static str {
        "office"
    }

    fn migrations(&self) -> Option<&'static crate::module::Migrations> {
        Some(&crate::MIGRATIONS)
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<AppState> {
        crate::api::routes()
    }

    fn jobs(&self, state: &AppState) -> Vec<crate::module::Job> {
        let witness = state.clone();
        vec![crate::module::Job::once_every(
            state.clone(),
            "office.witness",
            std::time::Duration::from_secs(60),
            move || {
                let state = witness.clone();
                async move { crate::documents::witness_left(&state).await }
            },
        )]
    }
}
