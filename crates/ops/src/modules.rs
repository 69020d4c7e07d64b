//! The Module value this crate registers with the platform.

/// 一网统管, as the platform registers it.
pub struct OpsModule;

impl crate::module::Module for OpsModule {
    fn name(&self) -> &'static str {
        "ops"
    }

    fn migrations(&self) -> Option<&'static crate::module::Migrations> {
        Some(&crate::MIGRATIONS)
    }

    fn init(
        &self,
        context: &crate::module::InitContext<'_>,
        extensions: &mut crate::module::Extensions,
    ) {
        extensions.insert(crate::boundaries::load(
            context.config.ops_boundaries.as_deref(),
        ));
    }

    fn jobs(&self, state: &crate::state::AppState) -> Vec<crate::module::Job> {
        let checking = state.clone();
        vec![crate::module::Job::once_every(
            state.clone(),
            "raise the operations view's alerts",
            std::time::Duration::from_secs(60),
            move || {
                let state = checking.clone();
                async move { crate::alerts::check(&state).await.map(|_| ()) }
            },
        )]
    }

    fn home<'a>(
        &'a self,
        home: crate::module::Home,
        state: &'a crate::state::AppState,
        ctx: &'a crate::module::HomeCtx<'a>,
    ) -> crate::module::Sections<'a> {
        Box::pin(crate::pages::home_sections(home, state, ctx))
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        crate::api::routes()
    }

    fn routes(&self) -> axum::Router<crate::state::AppState> {
        crate::pages::routes()
    }

    fn nav(&self, actor: &crate::identity::model::Actor) -> Vec<crate::module::NavLink> {
        if crate::view::home_region(actor).is_some() {
            vec![crate::module::NavLink {
                href: "/ops",
                text: "nav.ops",
                rank: 70,
            }]
        } else {
            Vec::new()
        }
    }

    fn texts(&self) -> crate::web::i18n::Texts {
        crate::texts::TEXTS
    }

    fn demo<'a>(
        &'a self,
        state: &'a crate::state::AppState,
        city: &'a tongban_platform::demo::DemoCity,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = crate::error::AppResult<()>> + Send + 'a>>
    {
        Box::pin(crate::demo::seed(state, city))
    }
}
