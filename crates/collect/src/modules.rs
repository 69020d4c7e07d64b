//! The Module value this crate registers with the platform.

/// 一表通, as the platform registers it.
pub struct CollectModule;

impl tongban_platform::module::Module for CollectModule {
    fn name(&self) -> &'static str {
        "collect"
    }

    fn figures(&self) -> &'static [tongban_platform::figures::Figure] {
        crate::service::FIGURES
    }

    fn migrations(&self) -> Option<&'static tongban_platform::module::Migrations> {
        Some(&crate::MIGRATIONS)
    }

    fn init(
        &self,
        context: &tongban_platform::module::InitContext<'_>,
        extensions: &mut tongban_platform::module::Extensions,
    ) {
        extensions.insert(crate::writer::Submissions::start(context.db.pool().clone()));
        extensions.insert(crate::service::Checkers::default());
        extensions.insert(crate::service::Fixed::default());
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        crate::api::routes()
    }

    /// The burden-reduction office's forms to approve.
    fn todo<'a>(
        &'a self,
        state: &'a crate::state::AppState,
        actor: &'a tongban_platform::identity::model::Actor,
        t: tongban_platform::web::i18n::Tr,
        limit: usize,
    ) -> tongban_platform::module::Todos<'a> {
        Box::pin(async move {
            let (mut part, fills) = tokio::try_join!(
                crate::service::todo_part(state, actor, t, limit),
                crate::plan::fill_todo_part(state, actor, t, limit),
            )?;
            part.total += fills.total;
            part.items.extend(fills.items);
            Ok(part)
        })
    }

    fn routes(&self) -> axum::Router<crate::state::AppState> {
        crate::odk::routes()
            .merge(crate::pages::routes())
            .merge(crate::device::routes())
            .merge(crate::entities::routes())
    }

    fn nav(
        &self,
        actor: &tongban_platform::identity::model::Actor,
    ) -> Vec<tongban_platform::module::NavLink> {
        use tongban_platform::identity::model::Role;
        if actor.has_role(Role::Clerk) || actor.has_role(Role::DeptAdmin) {
            vec![tongban_platform::module::NavLink {
                href: "/collect",
                text: "nav.collect",
                rank: 65,
            }]
        } else {
            Vec::new()
        }
    }

    /// Collectors in villages and communities fill in their forms without a staff account.
    fn public_nav(&self) -> Vec<tongban_platform::module::NavLink> {
        vec![tongban_platform::module::NavLink {
            href: "/collect/device",
            text: "nav.collect_device",
            rank: 90,
        }]
    }

    fn texts(&self) -> tongban_platform::web::i18n::Texts {
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
