//! Health facts and status (健康码): facts only authorised health sources record, versioned
//! CertLogic policies that map them to a colour (published only with a second approver), and
//! the public-health emergency switch. Every colour carries its explanation.

pub mod api;
pub mod inputs;
pub mod policy;
pub mod service;
pub mod store;

/// The health module, as the platform registers it.
pub struct HealthModule;

impl crate::module::Module for HealthModule {
    fn name(&self) -> &'static str {
        "health"
    }

    fn demo<'a>(
        &'a self,
        state: &'a crate::state::AppState,
        city: &'a tongban_platform::demo::DemoCity,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = crate::error::AppResult<()>> + Send + 'a>>
    {
        Box::pin(async move {
            let _ = city;
            // The demo runs in emergency mode with the default status policy, so passes show
            // colours.
            service::seed_defaults(state, true).await
        })
    }

    fn init(
        &self,
        context: &crate::module::InitContext<'_>,
        extensions: &mut crate::module::Extensions,
    ) {
        extensions.insert(service::StatusCache::default());
        extensions.insert_cache(crate::cache::Coherent::<inputs::HolderInputs>::new(
            inputs::PERSON,
            context.config.holder_cache_entries,
        ));
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        api::routes()
    }

    fn jobs(&self, state: &crate::state::AppState) -> Vec<crate::module::Job> {
        let state = state.clone();
        vec![crate::module::Job::every(
            "purge health facts past their retention",
            std::time::Duration::from_secs(300),
            move || {
                let state = state.clone();
                async move { service::purge_expired_facts(&state).await.map(|_| ()) }
            },
        )]
    }
}
