//! The Module values this crate registers with the platform.

/// The data-sharing module, as the platform registers it.
pub struct ExchangeModule;

impl crate::module::Module for ExchangeModule {
    fn figures(&self) -> &'static [tongban_platform::figures::Figure] {
        crate::gateway::service::FIGURES
    }

    fn levels(&self) -> &'static [tongban_platform::figures::Figure] {
        crate::gateway::service::LEVELS
    }

    fn measure<'a>(&'a self, state: &'a crate::state::AppState) -> crate::module::Measuring<'a> {
        Box::pin(crate::gateway::service::measure(state))
    }

    fn rates(&self) -> &'static [tongban_platform::figures::Rate] {
        crate::gateway::service::RATES
    }

    /// The catalogue's resources, which the exchange's calls are kept by.
    fn part_names<'a>(
        &'a self,
        state: &'a crate::state::AppState,
    ) -> crate::module::PartNaming<'a> {
        Box::pin(async move {
            Ok(crate::catalogue::store::resources(state.pool())
                .await?
                .into_iter()
                .map(|r| tongban_platform::figures::PartName {
                    kind: tongban_platform::figures::PartKind::Resource,
                    en: r.code.clone(),
                    zh: r.name,
                    id: r.code,
                })
                .collect())
        })
    }

    fn name(&self) -> &'static str {
        "exchange"
    }

    fn migrations(&self) -> Option<&'static crate::module::Migrations> {
        Some(&crate::MIGRATIONS)
    }

    fn init(
        &self,
        context: &crate::module::InitContext<'_>,
        extensions: &mut crate::module::Extensions,
    ) {
        extensions.insert(crate::gateway::providers::HttpProviders::new(
            context.config,
        ));
        extensions.insert(crate::gateway::providers::InProcess::default());
        extensions.insert(crate::gateway::service::InFlight::default());
        extensions.insert_cache(crate::cache::Coherent::<
            std::sync::Arc<crate::pubsub::service::Publishing>,
        >::new(crate::catalogue::CHANGES, 1_000));
        extensions.insert(crate::pubsub::writer::Publisher::start(
            context.db.pool().clone(),
        ));
        extensions.insert_cache(
            crate::cache::Coherent::<crate::gateway::service::Route>::new(
                crate::catalogue::CHANGES,
                10_000,
            ),
        );
        // Other regions' members by USCC (`gateway::members::remote_member`).
        extensions.insert_cache(crate::cache::Coherent::<
            crate::gateway::members::RemoteMember,
        >::new(crate::cache::MEMBERS, 1_000));
        // What the gateway serves other regions' members (`gateway::peers::serve`).
        extensions.insert_cache(
            crate::cache::Coherent::<crate::gateway::peers::Served>::new(
                crate::catalogue::CHANGES,
                10_000,
            ),
        );
        // Departments by USCC. This node drops them when the catalogue changes; a change of a
        // department's code or name reaches other nodes within the cache's age limit.
        extensions.insert_cache(
            crate::cache::Coherent::<crate::admin::store::Department>::new(
                crate::catalogue::CHANGES,
                1_000,
            ),
        );
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        crate::catalogue::api::routes()
            .merge(crate::gateway::api::api())
            .merge(crate::registries::api::api())
    }

    fn routes(&self) -> axum::Router<crate::state::AppState> {
        crate::catalogue::pages::routes()
            .merge(crate::catalogue::editor::routes())
            .merge(crate::gateway::api::routes())
            .merge(crate::gateway::pages::routes())
            .merge(crate::pubsub::pages::routes())
            .merge(crate::registries::api::routes())
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
        Box::pin(crate::gateway::key_scopes(state))
    }

    fn texts(&self) -> crate::web::i18n::Texts {
        crate::texts::TEXTS
    }

    fn nav(&self, actor: &crate::identity::model::Actor) -> Vec<crate::module::NavLink> {
        use crate::authz::{Action, Resource, can};
        if can(actor, Action::ViewDataCatalogue, Resource::Platform) {
            vec![crate::module::NavLink {
                href: "/exchange",
                text: "nav.exchange",
                rank: 55,
            }]
        } else {
            Vec::new()
        }
    }

    fn todo<'a>(
        &'a self,
        state: &'a crate::state::AppState,
        actor: &'a crate::identity::model::Actor,
        t: crate::web::i18n::Tr,
        limit: usize,
    ) -> crate::module::Todos<'a> {
        Box::pin(crate::catalogue::service::todo_part(state, actor, t, limit))
    }

    fn home<'a>(
        &'a self,
        home: crate::module::Home,
        state: &'a crate::state::AppState,
        ctx: &'a crate::module::HomeCtx<'a>,
    ) -> crate::module::Sections<'a> {
        Box::pin(crate::catalogue::pages::home_sections(home, state, ctx))
    }

    fn demo<'a>(
        &'a self,
        state: &'a crate::state::AppState,
        city: &'a tongban_platform::demo::DemoCity,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = crate::error::AppResult<()>> + Send + 'a>>
    {
        Box::pin(crate::catalogue::demo::seed(state, city))
    }

    fn jobs(&self, state: &crate::state::AppState) -> Vec<crate::module::Job> {
        let state = state.clone();
        vec![crate::module::Job::once_every(
            state.clone(),
            "push published events",
            std::time::Duration::from_millis(200),
            move || {
                let state = state.clone();
                async move { crate::pubsub::push::deliver_due(&state).await.map(|_| ()) }
            },
        )]
    }
}
