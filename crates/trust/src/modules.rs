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

    fn routes(&self) -> axum::Router<crate::state::AppState> {
        crate::trust::pages::routes()
    }
}
