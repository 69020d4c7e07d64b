//! The Module values this crate registers with the platform.

/// The services module, as the platform registers it.
pub struct ServicesModule;

impl crate::module::Module for ServicesModule {
    fn name(&self) -> &'static str {
        "services"
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
            crate::services::demo::seed_service_items(state, &city.departments).await?;
            crate::services::demo::seed_calendar(state).await?;
            crate::services::demo::seed_bundles(state).await
        })
    }

    fn texts(&self) -> crate::web::i18n::Texts {
        crate::texts::TEXTS
    }

    fn nav(&self, actor: &crate::identity::model::Actor) -> Vec<crate::module::NavLink> {
        let _ = actor;
        vec![crate::module::NavLink {
            href: "/services",
            text: "services.title",
            rank: 20,
        }]
    }

    fn init(
        &self,
        _context: &crate::module::InitContext<'_>,
        extensions: &mut crate::module::Extensions,
    ) {
        extensions.insert_cache(
            crate::cache::Coherent::<crate::services::store::StoredItem>::new(
                crate::services::ITEMS,
                10_000,
            ),
        );
        extensions.insert(crate::services::home::Popular::default());
    }

    /// The services come first on a holder's home.
    fn home_rank(&self) -> u8 {
        10
    }

    /// On a holder's home: the services most applied for, life events and bundles.
    fn home<'a>(
        &'a self,
        home: crate::module::Home,
        state: &'a crate::state::AppState,
        ctx: &'a crate::module::HomeCtx<'a>,
    ) -> crate::module::Sections<'a> {
        Box::pin(crate::services::home::holder_sections(home, state, ctx))
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        crate::services::api::routes()
    }

    fn routes(&self) -> axum::Router<crate::state::AppState> {
        crate::services::pages::routes().merge(crate::services::editor::routes())
    }
}

/// The applications module, as the platform registers it.
pub struct ApplicationsModule;

impl crate::module::Module for ApplicationsModule {
    fn figures(&self) -> &'static [tongban_platform::figures::Figure] {
        crate::applications::FIGURES
    }

    fn levels(&self) -> &'static [tongban_platform::figures::Figure] {
        crate::applications::LEVELS
    }

    fn measure<'a>(&'a self, state: &'a crate::state::AppState) -> crate::module::Measuring<'a> {
        Box::pin(crate::applications::measure(state))
    }

    fn rates(&self) -> &'static [tongban_platform::figures::Rate] {
        crate::applications::RATES
    }

    fn name(&self) -> &'static str {
        "applications"
    }

    fn migrations(&self) -> Option<&'static crate::module::Migrations> {
        Some(&crate::MIGRATIONS)
    }

    fn init(
        &self,
        _context: &crate::module::InitContext<'_>,
        extensions: &mut crate::module::Extensions,
    ) {
        extensions.insert_cache(crate::cache::Coherent::<tongban_workflow::Calendar>::new(
            crate::applications::CALENDARS,
            1_000,
        ));
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        crate::applications::api::routes()
    }

    fn home<'a>(
        &'a self,
        home: crate::module::Home,
        state: &'a crate::state::AppState,
        ctx: &'a crate::module::HomeCtx<'a>,
    ) -> crate::module::Sections<'a> {
        Box::pin(crate::applications::pages::home_sections(home, state, ctx))
    }

    fn todo<'a>(
        &'a self,
        state: &'a crate::state::AppState,
        actor: &'a crate::identity::model::Actor,
        t: crate::web::i18n::Tr,
        limit: usize,
    ) -> crate::module::Todos<'a> {
        Box::pin(crate::applications::todo_part(state, actor, t, limit))
    }

    /// Each step of the actor's applications, as its inbox records it.
    fn messages<'a>(
        &'a self,
        state: &'a crate::state::AppState,
        actor: &'a crate::identity::model::Actor,
        t: crate::web::i18n::Tr,
    ) -> crate::module::Messages<'a> {
        Box::pin(async move {
            Ok(
                crate::applications::store::notices_of(state.pool(), actor.id())
                    .await?
                    .into_iter()
                    .map(|(at, application, text)| {
                        let (item, to) = text.split_once('|').unwrap_or((text.as_str(), ""));
                        crate::module::Message {
                            at,
                            text: format!("「{item}」{}", t.get(&format!("app.state.{to}"))),
                            link: application.map(|id| format!("/applications/{id}")),
                        }
                    })
                    .collect(),
            )
        })
    }

    fn routes(&self) -> axum::Router<crate::state::AppState> {
        crate::applications::pages::routes().nest(
            crate::applications::govstack::PREFIX,
            crate::applications::govstack::routes(),
        )
    }

    fn jobs(&self, state: &crate::state::AppState) -> Vec<crate::module::Job> {
        let results = state.clone();
        let state = state.clone();
        vec![
            crate::module::Job::once_every(
                results.clone(),
                "issue the certificates of approvals cut off before them",
                std::time::Duration::from_secs(30),
                move || {
                    let state = results.clone();
                    async move {
                        crate::applications::finish_cut_results(&state)
                            .await
                            .map(|_| ())
                    }
                },
            ),
            crate::module::Job::once_every(
                state.clone(),
                "delete uploads no application took, and drafts past their time",
                std::time::Duration::from_secs(300),
                move || {
                    let state = state.clone();
                    async move {
                        let a_day_ago = state.now() - 86_400_000;
                        crate::applications::purge_unclaimed(&state, a_day_ago)
                            .await
                            .map(|_| ())
                    }
                },
            ),
        ]
    }
}
