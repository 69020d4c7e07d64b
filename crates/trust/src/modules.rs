//! The Module values this crate registers with the platform.

/// The trust module, as the platform registers it.
pub struct TrustModule;

impl crate::module::Module for TrustModule {
    fn name(&self) -> &'static str {
        "trust"
    }

    fn migrations(&self) -> Option<&'static crate::module::Migrations> {
        Some(&crate::MIGRATIONS)
    }

    fn texts(&self) -> crate::web::i18n::Texts {
        crate::texts::TEXTS
    }

    fn init(&self, _: &crate::module::InitContext<'_>, extensions: &mut crate::module::Extensions) {
        extensions.insert(crate::trust::dcc::DccCache::default());
        extensions.insert(crate::trust::regions::Verified::default());
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        crate::trust::api::routes()
    }

    /// Trust changes another security administrator proposed, to approve.
    fn todo<'a>(
        &'a self,
        state: &'a crate::state::AppState,
        actor: &'a tongban_platform::identity::model::Actor,
        t: tongban_platform::web::i18n::Tr,
        limit: usize,
    ) -> tongban_platform::module::Todos<'a> {
        Box::pin(crate::trust::proposals::todo_part(state, actor, t, limit))
    }

    fn routes(&self) -> axum::Router<crate::state::AppState> {
        crate::trust::pages::routes()
    }
}
