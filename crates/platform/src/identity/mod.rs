//! Identity and access: accounts, roles with scopes, login with two factors, sessions, API
//! tokens, and the audited accessor for personal data.

pub mod activation;
pub mod api;
pub mod matching;
pub mod messages;
pub mod model;
pub mod pages;
pub mod password;
pub mod personal;
pub mod registration;
pub mod security_pages;
pub mod service;
pub mod store;
pub mod throttle;
pub mod todo;
pub mod totp;

/// The identity module, as the platform registers it.
pub struct IdentityModule;

impl crate::module::Module for IdentityModule {
    fn name(&self) -> &'static str {
        "identity"
    }

    fn init(
        &self,
        _context: &crate::module::InitContext<'_>,
        extensions: &mut crate::module::Extensions,
    ) {
        extensions.insert(throttle::LoginThrottle::default());
    }

    fn nav(&self, actor: &crate::identity::model::Actor) -> Vec<crate::module::NavLink> {
        let mut links = vec![crate::module::NavLink {
            href: "/security",
            text: "nav.security",
            rank: 90,
        }];
        // Officials' work from every module, in one list.
        if actor.grants.iter().any(|grant| grant.role.is_staff()) {
            links.push(crate::module::NavLink {
                href: "/todo",
                text: "todo.title",
                rank: 5,
            });
        }
        links
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        api::routes()
    }

    fn upgrade<'a>(
        &'a self,
        state: &'a crate::state::AppState,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = crate::error::AppResult<()>> + Send + 'a>>
    {
        Box::pin(async move {
            let indexed = matching::index_unmatched_persons(state).await?;
            if indexed > 0 {
                tracing::info!(indexed, "persons registered before match keys are indexed");
            }
            let rewritten = personal::key_access_subjects(state).await?;
            if rewritten > 0 {
                tracing::info!(
                    rewritten,
                    "access rows now name their person by a keyed index"
                );
            }
            Ok(())
        })
    }

    fn routes(&self) -> axum::Router<crate::state::AppState> {
        pages::routes()
            .merge(security_pages::routes())
            .merge(messages::routes())
            .merge(todo::routes())
    }

    fn jobs(&self, state: &crate::state::AppState) -> Vec<crate::module::Job> {
        let state = state.clone();
        vec![crate::module::Job::once_every(
            state.clone(),
            "end idle sessions",
            std::time::Duration::from_secs(300),
            move || {
                let state = state.clone();
                async move {
                    let idle_ms = state.config.session_idle_minutes * 60_000;
                    store::delete_expired_sessions(state.pool(), state.now(), idle_ms).await?;
                    personal::forget_record_reads(&state).await?;
                    personal::purge_old_access_rows(&state).await?;
                    Ok(())
                }
            },
        )]
    }
}
