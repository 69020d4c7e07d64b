//! Administration by the three separated administrators (三员): regions, departments, accounts,
//! passwords, role grants and the record of administrative events.

pub mod api;
pub mod directory;
pub mod pages;
pub mod service;
pub mod store;

/// The admin module, as the platform registers it.
pub struct AdminModule;

impl crate::module::Module for AdminModule {
    fn name(&self) -> &'static str {
        "admin"
    }

    fn nav(&self, actor: &crate::identity::model::Actor) -> Vec<crate::module::NavLink> {
        use crate::authz::{Action, Resource, can};
        if can(actor, Action::ListRoles, Resource::Platform) {
            vec![crate::module::NavLink {
                href: "/admin",
                text: "nav.console",
                rank: 10,
            }]
        } else {
            Vec::new()
        }
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        api::routes()
    }

    fn routes(&self) -> axum::Router<crate::state::AppState> {
        pages::routes()
    }
}
