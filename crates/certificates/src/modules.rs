//! The Module values this crate registers with the platform.

/// The certs module, as the platform registers it.
pub struct CertsModule;

impl crate::module::Module for CertsModule {
    fn figures(&self) -> &'static [tongban_platform::figures::Figure] {
        crate::certs::FIGURES
    }

    fn jobs(&self, state: &crate::state::AppState) -> Vec<crate::module::Job> {
        let state = state.clone();
        vec![crate::module::Job::once_every(
            state.clone(),
            "purge certificate uses past their retention",
            std::time::Duration::from_secs(3600),
            move || {
                let state = state.clone();
                async move {
                    crate::certs::usage::purge_old_uses(&state)
                        .await
                        .map(|_| ())
                }
            },
        )]
    }

    fn name(&self) -> &'static str {
        "certs"
    }

    fn migrations(&self) -> Option<&'static crate::module::Migrations> {
        Some(&crate::MIGRATIONS)
    }

    fn demo<'a>(
        &'a self,
        state: &'a crate::state::AppState,
        city: &'a tongban_platform::demo::DemoCity,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = crate::error::AppResult<()>> + Send + 'a>>
    {
        Box::pin(async move {
            crate::certs::demo::seed_certificates(state, &city.departments, &city.accounts).await
        })
    }

    fn texts(&self) -> crate::web::i18n::Texts {
        crate::texts::TEXTS
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        crate::certs::api::routes()
    }

    fn key_scopes<'a>(
        &'a self,
        state: &'a crate::state::AppState,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = crate::error::AppResult<Vec<crate::keys::service::OwnerScope>>,
                > + Send
                + 'a,
        >,
    > {
        Box::pin(crate::certs::issuer_scopes(state))
    }

    fn routes(&self) -> axum::Router<crate::state::AppState> {
        crate::certs::pages::routes()
    }

    /// Departments' requests to use the holder's certificates that wait for an answer.
    fn messages<'a>(
        &'a self,
        state: &'a crate::state::AppState,
        actor: &'a crate::identity::model::Actor,
        t: crate::web::i18n::Tr,
    ) -> crate::module::Messages<'a> {
        Box::pin(async move {
            if crate::certs::holder_of(actor).is_err() {
                return Ok(Vec::new());
            }
            Ok(crate::certs::usage::authorisations(state, actor)
                .await?
                .into_iter()
                .filter(|a| a.state == "requested")
                .filter_map(|a| {
                    let at = time::OffsetDateTime::parse(
                        &a.created_at,
                        &time::format_description::well_known::Rfc3339,
                    )
                    .ok()?;
                    Some(crate::module::Message {
                        at: (at.unix_timestamp_nanos() / 1_000_000) as i64,
                        text: format!(
                            "{} {} {}（{}）",
                            a.department,
                            t.get("wallet.asks_for"),
                            a.type_name,
                            a.service_item
                        ),
                        link: Some("/wallet#authorisations".to_owned()),
                    })
                })
                .collect())
        })
    }

    fn nav(&self, actor: &crate::identity::model::Actor) -> Vec<crate::module::NavLink> {
        use crate::authz::{Action, Resource, can};
        if can(actor, Action::ManageGrants, Resource::Platform) {
            vec![crate::module::NavLink {
                href: "/admin/consent-free",
                text: "consent_free.title",
                rank: 60,
            }]
        } else {
            Vec::new()
        }
    }
}
