//! 一码通: the city pass. A citizen's short-lived signed code with their colour (or a pure
//! service pass outside an emergency), online checks at venues, and offline verification
//! against an exported trust list.

pub mod api;
pub mod offline;
pub mod pages;
pub mod scan_pages;
pub mod service;

/// The pass module, as the platform registers it.
pub struct PassModule;

impl crate::module::Module for PassModule {
    fn name(&self) -> &'static str {
        "pass"
    }

    fn texts(&self) -> crate::web::i18n::Texts {
        crate::texts::TEXTS
    }

    fn nav(&self, actor: &crate::identity::model::Actor) -> Vec<crate::module::NavLink> {
        use crate::authz::{Action, Resource, can};
        // Staff who check others scan; everyone else shows their own pass.
        vec![if can(actor, Action::UseScanner, Resource::Platform) {
            crate::module::NavLink {
                href: "/scan",
                text: "nav.scan",
                rank: 30,
            }
        } else {
            crate::module::NavLink {
                href: "/pass",
                text: "nav.pass",
                rank: 30,
            }
        }]
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        api::routes()
    }

    fn routes(&self) -> axum::Router<crate::state::AppState> {
        pages::routes().merge(scan_pages::routes())
    }
}
