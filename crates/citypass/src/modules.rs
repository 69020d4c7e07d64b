//! The Module values this crate registers with the platform.

/// The health module, as the platform registers it.
pub struct HealthModule;

impl crate::module::Module for HealthModule {
    fn name(&self) -> &'static str {
        "health"
    }

    /// What changed the person's pass (a fact in force, a manual colour, an answer to their
    /// request), as the pass page lists it.
    fn messages<'a>(
        &'a self,
        state: &'a crate::state::AppState,
        actor: &'a crate::identity::model::Actor,
        t: crate::web::i18n::Tr,
    ) -> crate::module::Messages<'a> {
        Box::pin(async move {
            let Some(person) = &actor.account.person_id else {
                return Ok(Vec::new());
            };
            let chinese = t.0 == crate::identity::model::Language::Zh;
            Ok(crate::health::service::notices_of(state, person)
                .await?
                .into_iter()
                .map(|(at, zh, en)| crate::module::Message {
                    at,
                    text: if chinese { zh } else { en },
                    link: Some("/pass".to_owned()),
                })
                .collect())
        })
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
            // Every district's disease-control centre runs a laboratory whose results are
            // health facts at once.
            for department in city
                .departments
                .iter()
                .filter(|d| d.kind == "disease_control")
            {
                crate::health::service::designate_source_as_operator(
                    state,
                    &department.id,
                    "laboratory",
                )
                .await?;
            }
            // The demo runs in emergency mode with the default status policy, so passes show
            // colours.
            crate::health::service::seed_defaults(state, true).await
        })
    }

    fn routes(&self) -> axum::Router<crate::state::AppState> {
        crate::health::pages::routes()
            .merge(crate::health::desk::routes())
            .merge(crate::health::policy_page::routes())
    }

    fn upgrade<'a>(
        &'a self,
        state: &'a crate::state::AppState,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = crate::error::AppResult<()>> + Send + 'a>>
    {
        Box::pin(async move {
            let rewritten =
                crate::health::store::key_override_persons(state.pool(), &state.vault).await?;
            if rewritten > 0 {
                tracing::info!(
                    rewritten,
                    "overrides now name their person by a keyed index"
                );
            }
            Ok(())
        })
    }

    fn home<'a>(
        &'a self,
        home: crate::module::Home,
        state: &'a crate::state::AppState,
        ctx: &'a crate::module::HomeCtx<'a>,
    ) -> crate::module::Sections<'a> {
        Box::pin(crate::health::pages::home_sections(home, state, ctx))
    }

    fn todo<'a>(
        &'a self,
        state: &'a crate::state::AppState,
        actor: &'a crate::identity::model::Actor,
        t: crate::web::i18n::Tr,
        _limit: usize,
    ) -> crate::module::Todos<'a> {
        Box::pin(crate::health::approvals::todo_part(state, actor, t))
    }

    fn nav(&self, actor: &crate::identity::model::Actor) -> Vec<crate::module::NavLink> {
        if crate::health::approvals::is_health_officer(actor) {
            vec![
                crate::module::NavLink {
                    href: "/health",
                    text: "desk.title",
                    rank: 34,
                },
                crate::module::NavLink {
                    href: "/health/approvals",
                    text: "health.approvals",
                    rank: 35,
                },
            ]
        } else {
            Vec::new()
        }
    }

    fn init(
        &self,
        context: &crate::module::InitContext<'_>,
        extensions: &mut crate::module::Extensions,
    ) {
        extensions.insert(crate::health::service::StatusCache::default());
        extensions.insert(crate::health::inputs::holder_reads());
        extensions.insert_cache(
            crate::cache::Coherent::<crate::health::inputs::HolderInputs>::new(
                crate::health::inputs::PERSON,
                context.config.holder_cache_entries,
            ),
        );
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        crate::health::api::routes()
    }

    fn jobs(&self, state: &crate::state::AppState) -> Vec<crate::module::Job> {
        let state = state.clone();
        vec![crate::module::Job::once_every(
            state.clone(),
            "purge health facts past their retention",
            std::time::Duration::from_secs(300),
            move || {
                let state = state.clone();
                async move {
                    crate::health::service::purge_expired_facts(&state).await?;
                    crate::health::service::purge_old_notices_and_requests(&state).await?;
                    Ok(())
                }
            },
        )]
    }
}

/// The pass module, as the platform registers it.
pub struct PassModule;

impl crate::module::Module for PassModule {
    fn figures(&self) -> &'static [tongban_platform::figures::Figure] {
        crate::pass::service::FIGURES
    }

    fn name(&self) -> &'static str {
        "pass"
    }

    fn migrations(&self) -> Option<&'static crate::module::Migrations> {
        Some(&crate::MIGRATIONS)
    }

    fn texts(&self) -> crate::web::i18n::Texts {
        crate::texts::TEXTS
    }

    fn init(
        &self,
        context: &crate::module::InitContext<'_>,
        extensions: &mut crate::module::Extensions,
    ) {
        extensions.insert(crate::pass::service::ReusedCodes::new(
            context.config.holder_cache_entries,
        ));
    }

    fn nav(&self, actor: &crate::identity::model::Actor) -> Vec<crate::module::NavLink> {
        use crate::authz::{Action, Resource, can};
        // Staff who check others scan; a person shows their own pass. An account that is no
        // person's (an enterprise's, an official's work account) has no pass to show.
        if can(actor, Action::UseScanner, Resource::Platform) {
            vec![crate::module::NavLink {
                href: "/scan",
                text: "nav.scan",
                rank: 30,
            }]
        } else if actor.account.person_id.is_some() {
            vec![crate::module::NavLink {
                href: "/pass",
                text: "nav.pass",
                rank: 30,
            }]
        } else {
            Vec::new()
        }
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        crate::pass::api::routes()
    }

    fn routes(&self) -> axum::Router<crate::state::AppState> {
        crate::pass::pages::routes().merge(crate::pass::scan_pages::routes())
    }

    fn jobs(&self, state: &crate::state::AppState) -> Vec<crate::module::Job> {
        let state = state.clone();
        vec![crate::module::Job::once_every(
            state.clone(),
            "forget identity-check counts",
            std::time::Duration::from_secs(3600),
            move || {
                let state = state.clone();
                async move {
                    let an_hour_ago = (state.now() - 3_600_000).div_euclid(60_000);
                    crate::pass::store::forget_id_checks_before(state.pool(), an_hour_ago).await?;
                    Ok(())
                }
            },
        )]
    }
}

/// The venues module, as the platform registers it.
pub struct VenuesModule;

impl crate::module::Module for VenuesModule {
    fn name(&self) -> &'static str {
        "venues"
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
        Box::pin(async move { crate::venues::demo::seed_venues(state, city).await })
    }

    fn init(
        &self,
        context: &crate::module::InitContext<'_>,
        extensions: &mut crate::module::Extensions,
    ) {
        extensions.insert(crate::pass::service::ReusedCodes::new(
            context.config.holder_cache_entries,
        ));
    }

    fn nav(&self, actor: &crate::identity::model::Actor) -> Vec<crate::module::NavLink> {
        use crate::authz::{Action, Resource, can};
        if can(actor, Action::ReadCheckinStatistics, Resource::Platform) {
            vec![crate::module::NavLink {
                href: "/checkins/statistics",
                text: "stats.title",
                rank: 40,
            }]
        } else {
            Vec::new()
        }
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        crate::venues::api::routes()
    }

    fn routes(&self) -> axum::Router<crate::state::AppState> {
        crate::venues::pages::routes()
    }

    fn home<'a>(
        &'a self,
        home: crate::module::Home,
        state: &'a crate::state::AppState,
        ctx: &'a crate::module::HomeCtx<'a>,
    ) -> crate::module::Sections<'a> {
        Box::pin(crate::venues::pages::home_sections(home, state, ctx))
    }
}

/// The checkins module, as the platform registers it.
pub struct CheckinsModule;

impl crate::module::Module for CheckinsModule {
    fn figures(&self) -> &'static [tongban_platform::figures::Figure] {
        crate::checkins::FIGURES
    }

    fn levels(&self) -> &'static [tongban_platform::figures::Figure] {
        crate::checkins::LEVELS
    }

    fn measure<'a>(&'a self, state: &'a crate::state::AppState) -> crate::module::Measuring<'a> {
        Box::pin(crate::checkins::measure(state))
    }

    fn name(&self) -> &'static str {
        "checkins"
    }

    fn migrations(&self) -> Option<&'static crate::module::Migrations> {
        Some(&crate::MIGRATIONS)
    }

    fn init(
        &self,
        context: &crate::module::InitContext<'_>,
        extensions: &mut crate::module::Extensions,
    ) {
        extensions.insert(crate::checkins::CheckinWriter::start(
            context.db.clone(),
            context.clock.clone(),
        ));
    }

    fn jobs(&self, state: &crate::state::AppState) -> Vec<crate::module::Job> {
        let (purging, compacting) = (state.clone(), state.clone());
        let compactor = std::sync::Arc::new(crate::checkins::writer::Compactor::default());
        vec![
            crate::module::Job::once_every(
                state.clone(),
                "compact check-ins",
                crate::checkins::writer::COMPACT_EVERY,
                move || {
                    let (state, compactor) = (compacting.clone(), compactor.clone());
                    async move { compactor.compact_now(&state.db, &*state.clock).await }
                },
            ),
            crate::module::Job::once_every(
                state.clone(),
                "purge check-ins past their retention",
                std::time::Duration::from_secs(300),
                move || {
                    let state = purging.clone();
                    async move {
                        crate::checkins::purge_expired(&state).await?;
                        crate::checkins::contacts::purge_requests(&state).await?;
                        Ok(())
                    }
                },
            ),
        ]
    }
}
