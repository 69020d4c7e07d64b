//! The Module value this crate registers with the platform.

use crate::state::AppState;

/// 协同办公, as the platform registers it.
pub struct OfficeModule;

impl crate::module::Module for OfficeModule {
    fn name(&self) -> &'static str {
        "office"
    }

    fn migrations(&self) -> Option<&'static crate::module::Migrations> {
        Some(&crate::MIGRATIONS)
    }

    fn init(
        &self,
        context: &crate::module::InitContext<'_>,
        extensions: &mut crate::module::Extensions,
    ) {
        extensions.insert(crate::desk::Desk::start(
            context.db.pool().clone(),
            context.config.profile.hash(),
        ));
        match extensions.get::<tongban_exchange::gateway::providers::InProcess>() {
            Some(providers) => providers.register(
                crate::exchange::PROVIDER,
                std::sync::Arc::new(crate::exchange::Provider),
            ),
            None => tracing::error!(
                "协同办公 needs the exchange module listed before it: its document exchange is not served"
            ),
        }
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<AppState> {
        crate::api::routes()
    }

    fn routes(&self) -> axum::Router<AppState> {
        crate::pages::routes().merge(crate::incoming_page::routes())
    }

    fn nav(&self, actor: &crate::identity::model::Actor) -> Vec<crate::module::NavLink> {
        // The department's staff, and anyone a document was sent to (they are staff too).
        if actor.grants.iter().any(|g| {
            matches!(
                g.role,
                crate::identity::model::Role::Clerk | crate::identity::model::Role::DeptAdmin
            )
        }) {
            vec![crate::module::NavLink {
                href: "/office",
                text: "nav.office",
                rank: 60,
            }]
        } else {
            Vec::new()
        }
    }

    fn demo<'a>(
        &'a self,
        state: &'a AppState,
        city: &'a tongban_platform::demo::DemoCity,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = crate::error::AppResult<()>> + Send + 'a>>
    {
        Box::pin(crate::demo::seed(state, city))
    }

    fn texts(&self) -> crate::web::i18n::Texts {
        crate::texts::TEXTS
    }

    fn todo<'a>(
        &'a self,
        state: &'a AppState,
        actor: &'a crate::identity::model::Actor,
        t: crate::web::i18n::Tr,
        limit: usize,
    ) -> crate::module::Todos<'a> {
        Box::pin(async move {
            let (mut part, notices, received) = tokio::try_join!(
                crate::documents::todo_part(state, actor, t, limit),
                crate::notices::todo_part(state, actor, t, limit),
                crate::incoming::todo_part(state, actor, t, limit),
            )?;
            for other in [notices, received] {
                part.total += other.total;
                part.items.extend(other.items);
            }
            Ok(part)
        })
    }

    fn done<'a>(
        &'a self,
        state: &'a AppState,
        actor: &'a crate::identity::model::Actor,
        t: crate::web::i18n::Tr,
        limit: usize,
    ) -> crate::module::Todos<'a> {
        Box::pin(async move {
            let (mut part, received) = tokio::try_join!(
                crate::documents::done_part(state, actor, t, limit),
                crate::incoming::done_part(state, actor, t, limit),
            )?;
            part.total += received.total;
            part.items.extend(received.items);
            // The newest first, within the limit.
            part.items.sort_by_key(|item| std::cmp::Reverse(item.at));
            part.items.truncate(limit);
            part.total = part.items.len();
            Ok(part)
        })
    }

    fn jobs(&self, state: &AppState) -> Vec<crate::module::Job> {
        let witness = state.clone();
        vec![
            crate::module::Job::once_every(
                state.clone(),
                "office.witness",
                std::time::Duration::from_secs(60),
                move || {
                    let state = witness.clone();
                    async move {
                        crate::documents::witness_left(&state).await?;
                        crate::incoming::deliver_left(&state).await?;
                        crate::incoming::witness_left(&state).await
                    }
                },
            ),
            crate::module::Job::once_every(
                state.clone(),
                "office.exchange",
                std::time::Duration::from_secs(15),
                {
                    let state = state.clone();
                    move || {
                        let state = state.clone();
                        async move { crate::exchange::send_due(&state).await.map(|_| ()) }
                    }
                },
            ),
            crate::module::Job::once_every(
                state.clone(),
                "office.organs",
                std::time::Duration::from_secs(3600),
                {
                    let state = state.clone();
                    move || {
                        let state = state.clone();
                        async move { crate::exchange::refresh_all(&state).await }
                    }
                },
            ),
            crate::module::Job::once_every(
                state.clone(),
                "office.urge",
                std::time::Duration::from_secs(600),
                {
                    let state = state.clone();
                    move || {
                        let state = state.clone();
                        async move { crate::incoming::urge_due(&state).await.map(|_| ()) }
                    }
                },
            ),
        ]
    }
}
