//! Trust of what others sign: the regions this one recognises (互认, their trust lists under
//! pinned root keys), and foreign credentials at the door — SMART Health Card issuers, EU DCC
//! signers and schemas, and the visitors' CertLogic rule. The system administrator keeps it,
//! on the API, the trust page and the command line (`tongban trust`, `tongban dcc`).

pub mod api;
pub mod dcc;
pub mod foreign;
pub mod pages;
pub mod regions;
pub mod store;

/// The trust module, as the platform registers it.
pub struct TrustModule;

impl crate::module::Module for TrustModule {
    fn name(&self) -> &'static str {
        "trust"
    }

    fn texts(&self) -> crate::web::i18n::Texts {
        crate::texts::TEXTS
    }

    fn init(&self, _: &crate::module::InitContext<'_>, extensions: &mut crate::module::Extensions) {
        extensions.insert(dcc::DccCache::default());
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        api::routes()
    }

    fn routes(&self) -> axum::Router<crate::state::AppState> {
        pages::routes()
    }
}
