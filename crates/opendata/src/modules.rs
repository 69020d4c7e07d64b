//! The Module value this crate registers with the platform.

/// 数据开放, as the platform registers it.
pub struct OpenDataModule;

impl crate::module::Module for OpenDataModule {
    fn figures(&self) -> &'static [tongban_platform::figures::Figure] {
        crate::service::FIGURES
    }

    fn name(&self) -> &'static str {
        "open-data"
    }

    fn migrations(&self) -> Option<&'static crate::module::Migrations> {
        Some(&crate::MIGRATIONS)
    }

    fn init(
        &self,
        context: &crate::module::InitContext<'_>,
        extensions: &mut crate::module::Extensions,
    ) {
        extensions.insert_evict(crate::service::CatalogueCache::default());
        extensions.insert(crate::harvest::Client::new(context.config));
        extensions.insert(crate::service::ValueCounts::default());
    }

    fn jobs(&self, state: &crate::state::AppState) -> Vec<crate::module::Job> {
        let harvesting = state.clone();
        let indexing = state.clone();
        vec![
            crate::module::Job::once_every(
                state.clone(),
                "harvest other portals' DCAT-AP catalogues",
                crate::harvest::PERIOD,
                move || {
                    let state = harvesting.clone();
                    async move { crate::harvest::run_all(&state).await }
                },
            ),
            crate::module::Job::once_every(
                state.clone(),
                "index datastore tables a crash left unindexed, remove uploads never kept",
                std::time::Duration::from_secs(15 * 60),
                move || {
                    let state = indexing.clone();
                    async move {
                        crate::service::index_datastores(&state).await?;
                        crate::service::sweep_uploads(&state).await
                    }
                },
            ),
        ]
    }

    /// The uploads waiting for a second administrator to publish them.
    fn todo<'a>(
        &'a self,
        state: &'a crate::state::AppState,
        actor: &'a tongban_platform::identity::model::Actor,
        t: tongban_platform::web::i18n::Tr,
        limit: usize,
    ) -> tongban_platform::module::Todos<'a> {
        Box::pin(crate::service::todo_part(state, actor, t, limit))
    }

    fn long_requests(&self) -> &'static [crate::module::LongRequest] {
        LONG_REQUESTS
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        crate::api::routes()
    }

    fn routes(&self) -> axum::Router<crate::state::AppState> {
        crate::ckan::routes().merge(crate::pages::routes())
    }

    fn nav(&self, _actor: &crate::identity::model::Actor) -> Vec<crate::module::NavLink> {
        self.public_nav()
    }

    fn public_nav(&self) -> Vec<crate::module::NavLink> {
        vec![crate::module::NavLink {
            href: "/opendata",
            text: "nav.opendata",
            rank: 60,
        }]
    }

    fn texts(&self) -> crate::web::i18n::Texts {
        crate::texts::TEXTS
    }

    fn demo<'a>(
        &'a self,
        state: &'a crate::state::AppState,
        city: &'a tongban_platform::demo::DemoCity,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = crate::error::AppResult<()>> + Send + 'a>>
    {
        Box::pin(crate::demo::seed(state, city))
    }
}

/// An upload is stored and scanned while its request lasts, and a publication loads the whole
/// table: with files of millions of rows these take minutes.
const LONG_REQUESTS: &[crate::module::LongRequest] = &[
    long("POST", "/api/3/action/resource_", ""),
    long("POST", "/api/action/resource_", ""),
    long("POST", "/api/v1/opendata/resources/", "/publication"),
    long("PUT", "/api/v1/opendata/resources/", "/fields"),
    long("PUT", "/api/v1/opendata/resources/", "/treatments"),
    long("POST", "/opendata/console/datasets/", "/upload"),
    long("POST", "/opendata/console/resources/", "/publish"),
    long("POST", "/opendata/console/resources/", "/treat"),
];

const fn long(
    method: &'static str,
    prefix: &'static str,
    suffix: &'static str,
) -> crate::module::LongRequest {
    crate::module::LongRequest {
        method,
        prefix,
        suffix,
    }
}
