//! The Module value this crate registers with the platform.

use std::sync::Arc;

/// 跨省通办, as the platform registers it (after the exchange module, whose gateway carries
/// its packages).
pub struct CrossRegionModule;

impl crate::module::Module for CrossRegionModule {
    fn name(&self) -> &'static str {
        "cross-region"
    }

    fn migrations(&self) -> Option<&'static crate::module::Migrations> {
        Some(&crate::MIGRATIONS)
    }

    fn init(
        &self,
        context: &crate::module::InitContext<'_>,
        extensions: &mut crate::module::Extensions,
    ) {
        extensions.insert(crate::writer::Intake::start(context.db.pool().clone()));
        extensions.insert(crate::outbox::Rounds::default());
        match extensions.get::<tongban_exchange::gateway::providers::InProcess>() {
            Some(providers) => providers.register(crate::PROVIDER, Arc::new(crate::intake::Intake)),
            None => tracing::error!(
                "跨省通办 needs the exchange module listed before it: its intake is not served"
            ),
        }
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        crate::api::routes()
    }

    fn routes(&self) -> axum::Router<crate::state::AppState> {
        crate::pages::routes()
    }

    fn nav(&self, actor: &crate::identity::model::Actor) -> Vec<crate::module::NavLink> {
        if actor.account.person_id.is_some() || actor.account.department_id.is_some() {
            vec![crate::module::NavLink {
                href: "/cross-region",
                text: "nav.cross_region",
                rank: 45,
            }]
        } else {
            Vec::new()
        }
    }

    fn texts(&self) -> crate::web::i18n::Texts {
        crate::texts::TEXTS
    }

    /// The cases waiting at the clerk's window or in their departments' inboxes.
    fn todo<'a>(
        &'a self,
        state: &'a crate::state::AppState,
        actor: &'a crate::identity::model::Actor,
        t: crate::web::i18n::Tr,
        limit: usize,
    ) -> crate::module::Todos<'a> {
        Box::pin(crate::cases::todo_part(state, actor, t, limit))
    }

    fn demo<'a>(
        &'a self,
        state: &'a crate::state::AppState,
        city: &'a tongban_platform::demo::DemoCity,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = crate::error::AppResult<()>> + Send + 'a>>
    {
        Box::pin(crate::demo::seed(state, city))
    }

    fn jobs(&self, state: &crate::state::AppState) -> Vec<crate::module::Job> {
        let (deliver, refresh, statuses) = (state.clone(), state.clone(), state.clone());
        vec![
            crate::module::Job::once_every(
                state.clone(),
                "deliver cross-region packages",
                crate::outbox::PERIOD,
                move || {
                    let state = deliver.clone();
                    async move { crate::outbox::deliver_due(&state).await.map(|_| ()) }
                },
            ),
            crate::module::Job::once_every(
                state.clone(),
                "read partners' 跨省通办 catalogues",
                std::time::Duration::from_secs(600),
                move || {
                    let state = refresh.clone();
                    async move { crate::intake::refresh_all(&state).await }
                },
            ),
            crate::module::Job::once_every(
                state.clone(),
                "read the status of certificates held from other regions",
                crate::statuses::PERIOD,
                move || {
                    let state = statuses.clone();
                    async move { crate::statuses::refresh(&state).await.map(|_| ()) }
                },
            ),
        ]
    }
}
