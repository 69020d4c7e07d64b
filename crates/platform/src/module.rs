//! Modules plug into the platform. A module (the pass, venues, certificates, services …) is one
//! value that says what it brings — its own state, API routes with their OpenAPI, pages and
//! other routes, sections of the home pages, navigation, interface text, its part of the demo
//! city, background jobs — and the platform asks every registered module for each. Adding a
//! module is one value in the list of modules (`tongban_app::modules`), never an edit of the
//! kernel's files.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use tongban_core::Clock;
use utoipa_axum::router::OpenApiRouter;

use crate::config::Config;
use crate::db::Db;
use crate::error::AppResult;
pub use crate::extensions::Extensions;
use crate::identity::model::Actor;
use crate::keys::vault::Vault;
pub use crate::migrations::Migrations;
use crate::state::AppState;
use crate::web::i18n::Tr;

/// Work a module runs in the background for as long as the node serves.
pub struct Job {
    /// Named in logs.
    pub name: &'static str,
    pub run: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl Job {
    pub fn new(name: &'static str, run: impl Future<Output = ()> + Send + 'static) -> Job {
        Job {
            name,
            run: Box::pin(run),
        }
    }

    /// A job that runs `step` when the node starts and then every `period` (so a node that
    /// restarts often still runs it); a step that fails is logged and the job goes on.
    pub fn every<F, Fut>(name: &'static str, period: std::time::Duration, mut step: F) -> Job
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = crate::error::AppResult<()>> + Send + 'static,
    {
        Job::new(name, async move {
            let mut interval = tokio::time::interval(period);
            loop {
                interval.tick().await;
                if let Err(error) = step().await {
                    tracing::warn!(%error, job = name, "a background step failed");
                }
            }
        })
    }
}

impl Job {
    /// A job like [`Job::every`] whose steps run on one node of those sharing the database at a
    /// time: the node holding the job's lease ([`crate::lease`]). The lease outlives each step by
    /// half a period (at least half a minute), so a step runs about once a period across the
    /// nodes; when the holder dies, another node takes the job over once the lease expires.
    pub fn once_every<F, Fut>(
        state: AppState,
        name: &'static str,
        period: std::time::Duration,
        mut step: F,
    ) -> Job
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = crate::error::AppResult<()>> + Send + 'static,
    {
        Job::new(name, async move {
            let ttl = crate::lease::ttl(period);
            let mut interval = tokio::time::interval(period);
            loop {
                interval.tick().await;
                let turn = crate::lease::run(&state, name, ttl, step()).await;
                if let Ok(turn) = &turn {
                    state.metrics.job_turn(name, turn.name());
                }
                match turn {
                    Ok(crate::lease::Turn::Ran(Err(error))) => {
                        tracing::warn!(%error, job = name, "a background step failed");
                    }
                    Err(error) => {
                        tracing::warn!(%error, job = name, "could not take the job's lease");
                    }
                    Ok(_) => {}
                }
            }
        })
    }
}

/// The home pages a module may add sections to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    /// A citizen's or an enterprise's own page.
    Holder,
    /// The staff workbench: sections there are the actor's work to do.
    Workbench,
}

/// A link of the page shell's navigation: where it leads, the key of its text, and its place
/// (links are shown by rank, lowest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NavLink {
    pub href: &'static str,
    pub text: &'static str,
    pub rank: u8,
}

/// Sections of a page, rendered, in the order they are shown.
pub type Sections<'a> = Pin<Box<dyn Future<Output = AppResult<Vec<String>>> + Send + 'a>>;

/// What a module's `init` may use to make its own state.
pub struct InitContext<'a> {
    pub db: &'a Db,
    pub clock: &'a Arc<dyn Clock>,
    pub config: &'a Config,
}

/// What a module's home sections are rendered for: the logged-in actor, in their language,
/// with the page's CSRF token for the forms a section holds.
pub struct HomeCtx<'a> {
    pub actor: &'a Actor,
    pub t: Tr,
    pub csrf: &'a str,
    /// Large-text mode: a section shows fewer, bigger things.
    pub large_text: bool,
}

/// A message to an account from a module: something that happened to the account's
/// applications, pass, certificates … (Unix milliseconds, the text in the page's language,
/// where to read more).
#[derive(Debug, Clone)]
pub struct Message {
    pub at: i64,
    pub text: String,
    pub link: Option<String>,
}

/// A module's messages for an actor, as it computes them.
pub type Messages<'a> = Pin<Box<dyn Future<Output = AppResult<Vec<Message>>> + Send + 'a>>;

/// Every module's messages for the actor, newest first, at most `limit`.
pub async fn messages(
    state: &AppState,
    actor: &Actor,
    t: Tr,
    limit: usize,
) -> AppResult<Vec<Message>> {
    let mut all = Vec::new();
    for module in modules(state) {
        all.extend(module.messages(state, actor, t).await?);
    }
    all.sort_by_key(|m| std::cmp::Reverse(m.at));
    all.truncate(limit);
    Ok(all)
}

/// An item of a person's to-do list (待办) or of what they handled (已办), from any module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TodoItem {
    /// The module it comes from (its name).
    pub module: &'static str,
    /// What kind of work it is, in the page's language (公文签发, 办件审核 …).
    pub kind: String,
    pub title: String,
    /// The page where it is handled.
    pub link: String,
    /// When it is due (Unix milliseconds), where it has a limit.
    pub due: Option<i64>,
    /// 0 ordinary, 1 urgent (加急), 2 most urgent (特急).
    pub urgency: u8,
    /// Since when it waits; for what was handled, when.
    pub at: i64,
}

/// A module's part of a to-do list: the items (at most the limit asked) and how many there
/// are in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TodoPart {
    pub items: Vec<TodoItem>,
    pub total: usize,
}

/// A module's part of a to-do list, under way.
pub type Todos<'a> = Pin<Box<dyn Future<Output = AppResult<TodoPart>> + Send + 'a>>;

/// Every module's to-do items for the actor: the most urgent first, then the soonest due
/// (items without a limit after those with one), then the longest waiting; at most `limit`
/// items, with the total of all.
pub async fn todo_list(
    state: &AppState,
    actor: &Actor,
    t: Tr,
    limit: usize,
) -> AppResult<TodoPart> {
    // The modules' parts are asked for at once: each is a query or two on its own connection.
    let parts = futures_util::future::try_join_all(
        modules(state)
            .iter()
            .map(|module| module.todo(state, actor, t, limit)),
    )
    .await?;
    let mut all = TodoPart::default();
    for part in parts {
        all.total += part.total;
        all.items.extend(part.items);
    }
    all.items.sort_by_key(|item| {
        (
            std::cmp::Reverse(item.urgency),
            item.due.unwrap_or(i64::MAX),
            item.at,
        )
    });
    all.items.truncate(limit);
    Ok(all)
}

/// What the actor handled in every module (已办), newest first, at most `limit`.
pub async fn done_list(
    state: &AppState,
    actor: &Actor,
    t: Tr,
    limit: usize,
) -> AppResult<Vec<TodoItem>> {
    let parts = futures_util::future::try_join_all(
        modules(state)
            .iter()
            .map(|module| module.done(state, actor, t, limit)),
    )
    .await?;
    let mut all: Vec<TodoItem> = parts.into_iter().flat_map(|part| part.items).collect();
    all.sort_by_key(|item| std::cmp::Reverse(item.at));
    all.truncate(limit);
    Ok(all)
}

/// The registered modules, in their order, as the node's state holds them.
pub struct Modules(Arc<[Box<dyn Module>]>);

/// The registered modules, in their order.
pub fn modules(state: &AppState) -> &[Box<dyn Module>] {
    &state.module::<Modules>().0
}

/// The migrations of these modules' tables, each crate's once, in the modules' order.
pub fn migrations(modules: &[Box<dyn Module>]) -> Vec<&'static crate::migrations::Migrations> {
    let mut sets: Vec<&'static crate::migrations::Migrations> = Vec::new();
    for set in modules.iter().filter_map(|module| module.migrations()) {
        if !sets.iter().any(|known| std::ptr::eq(*known, set)) {
            sets.push(set);
        }
    }
    sets
}

/// Builds the node's state: starts the kernel's writers, lets each module make its own state,
/// registers the modules' texts, and keeps the module list (call inside the runtime).
pub fn build_state(
    db: Db,
    clock: Arc<dyn Clock>,
    config: Config,
    vault: Vault,
    modules: Vec<Box<dyn Module>>,
) -> AppState {
    let mut extensions = Extensions::default();
    let context = InitContext {
        db: &db,
        clock: &clock,
        config: &config,
    };
    for module in &modules {
        module.init(&context, &mut extensions);
    }
    crate::web::i18n::register(modules.iter().map(|module| module.texts()).collect());
    extensions.insert(Modules(modules.into()));
    // The kernel's own part: how token owners that miss the cache are read.
    extensions.insert(crate::identity::service::token_reads());
    AppState::new(db, clock, config, vault, extensions)
}

/// Runs every module's [`Module::upgrade`], in the modules' order.
pub async fn upgrade(state: &AppState) -> AppResult<()> {
    for module in modules(state) {
        module.upgrade(state).await?;
    }
    Ok(())
}

/// The sections every module adds to a home page, by the modules' home ranks.
pub async fn home_sections(
    home: Home,
    state: &AppState,
    ctx: &HomeCtx<'_>,
) -> AppResult<Vec<String>> {
    let mut ranked = Vec::new();
    for module in modules(state) {
        let rank = module.home_rank();
        ranked.extend(
            module
                .home(home, state, ctx)
                .await?
                .into_iter()
                .map(|section| (rank, section)),
        );
    }
    // By rank, and in the modules' order within a rank.
    ranked.sort_by_key(|(rank, _)| *rank);
    Ok(ranked.into_iter().map(|(_, section)| section).collect())
}

/// A figure a module keeps: its key (`services.received`), the group it is shown in, its
/// names, and whether it counts what persons did — such a figure is never shown below the
/// view's threshold (see the ops module's suppression); counted with [`crate::figures::count`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figure {
    pub key: &'static str,
    /// The section of the view: `services`, `certificates`, `pass`, `checkins`, `exchange`,
    /// `opendata`, `platform`.
    pub group: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub about_persons: bool,
    /// What its counts are also kept by, beside the region (counted with
    /// [`crate::figures::count_part`]): the view shows them by department or by resource.
    pub by: Option<PartKind>,
}

/// What a figure's counts can be kept by, beside the region: the department that did the work
/// (an application's), or the shared resource that was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    Department,
    Resource,
}

impl PartKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PartKind::Department => "department",
            PartKind::Resource => "resource",
        }
    }
}

impl Figure {
    /// The figure, kept by `kind` as well.
    pub const fn by(self, kind: PartKind) -> Figure {
        Figure {
            by: Some(kind),
            ..self
        }
    }

    /// A figure that counts what persons did.
    pub const fn of_persons(
        key: &'static str,
        group: &'static str,
        zh: &'static str,
        en: &'static str,
    ) -> Figure {
        Figure {
            key,
            group,
            zh,
            en,
            about_persons: true,
            by: None,
        }
    }
}

/// A level a module measured: how many of a thing there are now in a region (applications in
/// progress, overdue, grants waiting), as opposed to a [`Figure`]'s count of events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measured {
    pub figure: &'static str,
    pub region: String,
    /// The part of the region measured (a department), for a level kept by part; none for
    /// the region's value. A part's value is measured beside the region's, not instead of it.
    pub part: Option<String>,
    pub value: i64,
}

/// The names of a part figures are kept by (a department, a resource), for the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartName {
    pub kind: PartKind,
    pub id: String,
    pub zh: String,
    pub en: String,
}

/// A module's naming of its parts, under way.
pub type PartNaming<'a> = Pin<Box<dyn Future<Output = AppResult<Vec<PartName>>> + Send + 'a>>;

/// A module's measuring of its levels, under way.
pub type Measuring<'a> = Pin<Box<dyn Future<Output = AppResult<Vec<Measured>>> + Send + 'a>>;

/// A rate the view works out from two figures of the same module (`of` out of `per`): the
/// on-time rate of completed applications, the failure rate of exchanges. Shown as a
/// percentage, and only where both figures are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub key: &'static str,
    pub group: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    /// The numerator's figure key.
    pub of: &'static str,
    /// The denominator's figure key.
    pub per: &'static str,
}

/// A distribution the view shows by its quantiles (the pass path's answer times): counted in
/// bands, each band a figure of the same module (declared among its figures) counting the
/// events above the band before it and up to its bound; the last band has no bound. The view
/// gives each quantile as the bound of the band it falls in ("p99 ≤ 5 ms"), never finer than
/// the bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Distribution {
    pub key: &'static str,
    pub group: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    /// The unit of the bounds (`ms`).
    pub unit: &'static str,
    /// The bands, from the lowest: (figure key, upper bound; none for the last).
    pub bands: &'static [(&'static str, Option<i64>)],
}

/// Requests that may take longer than the node's usual limit (`request_timeout_seconds`):
/// those whose method is `method` and whose path starts with `prefix` and ends with `suffix`
/// get `long_request_seconds`.
#[derive(Debug, Clone, Copy)]
pub struct LongRequest {
    pub method: &'static str,
    pub prefix: &'static str,
    pub suffix: &'static str,
}

impl LongRequest {
    pub fn matches(&self, method: &str, path: &str) -> bool {
        method == self.method
            && path.len() >= self.prefix.len() + self.suffix.len()
            && path.starts_with(self.prefix)
            && path.ends_with(self.suffix)
    }
}

/// One area of the platform, as the kernel sees it.
pub trait Module: Send + Sync + 'static {
    /// A short name, for logs.
    fn name(&self) -> &'static str;

    /// Puts the module's own state (caches, writers) among the node's extensions, before the
    /// node serves. Runs inside the runtime, so a writer may start its task here.
    fn init(&self, _context: &InitContext<'_>, _extensions: &mut Extensions) {}

    /// The migrations of the module's tables (the same value from every module of one crate;
    /// they run once). None by default.
    fn migrations(&self) -> Option<&'static Migrations> {
        None
    }

    /// The module's API routes under `/api/v1`, with their OpenAPI descriptions.
    fn api(&self) -> OpenApiRouter<AppState> {
        OpenApiRouter::new()
    }

    /// The module's other routes: its pages, and interfaces outside `/api/v1` (such as a
    /// GovStack building block's).
    fn routes(&self) -> Router<AppState> {
        Router::new()
    }

    /// Where the module's home sections stand among the others' (lowest first; 50 unless
    /// the module says otherwise).
    fn home_rank(&self) -> u8 {
        50
    }

    /// The sections the module adds to a home page for the logged-in actor (`ctx.actor`),
    /// rendered: on a holder's page what the module keeps for them, on the workbench what
    /// awaits the actor. None by default.
    fn home<'a>(
        &'a self,
        _home: Home,
        _state: &'a AppState,
        _ctx: &'a HomeCtx<'a>,
    ) -> Sections<'a> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// The actor's messages from this module (the message centre gathers every module's):
    /// what happened to their applications, their pass, their certificates. None by default.
    fn messages<'a>(&'a self, _state: &'a AppState, _actor: &'a Actor, _t: Tr) -> Messages<'a> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// What waits for the actor in this module (待办): applications to act on, documents to
    /// handle, requests to decide, approvals of the two-person rules … at most `limit` items,
    /// the most urgent first, with the total. None by default.
    fn todo<'a>(
        &'a self,
        _state: &'a AppState,
        _actor: &'a Actor,
        _t: Tr,
        _limit: usize,
    ) -> Todos<'a> {
        Box::pin(async { Ok(TodoPart::default()) })
    }

    /// What the actor handled in this module (已办), newest first, at most `limit`. None by
    /// default.
    fn done<'a>(
        &'a self,
        _state: &'a AppState,
        _actor: &'a Actor,
        _t: Tr,
        _limit: usize,
    ) -> Todos<'a> {
        Box::pin(async { Ok(TodoPart::default()) })
    }

    /// The module's interface text (key, 中文, English).
    fn texts(&self) -> crate::web::i18n::Texts {
        &[]
    }

    /// The links the module adds to the navigation of every page for this actor.
    fn nav(&self, _actor: &Actor) -> Vec<NavLink> {
        Vec::new()
    }

    /// The links the module adds for visitors who have not signed in (public pages).
    fn public_nav(&self) -> Vec<NavLink> {
        Vec::new()
    }

    /// Adds the module's part of the demo city (catalogues, venues, certificates …), reusing
    /// what exists; modules run in their order, so a module finds what earlier ones made.
    fn demo<'a>(
        &'a self,
        _state: &'a AppState,
        _city: &'a crate::demo::DemoCity,
    ) -> Pin<Box<dyn Future<Output = AppResult<()>> + Send + 'a>> {
        Box::pin(async { Ok(()) })
    }

    /// Rewrites rows that an earlier version stored in a form only the node's keys can change
    /// (a migration cannot reach the keys). Runs when the node starts, after the migrations and
    /// before it serves; it must be idempotent, since every node runs it. Nothing by default.
    fn upgrade<'a>(
        &'a self,
        _state: &'a AppState,
    ) -> Pin<Box<dyn Future<Output = AppResult<()>> + Send + 'a>> {
        Box::pin(async { Ok(()) })
    }

    /// What the keys the module uses may sign, for the trust list: offline verifiers hold a
    /// key to its owner's documents and kinds (a department's certificate key to the types it
    /// issues). None by default.
    fn key_scopes<'a>(
        &'a self,
        _state: &'a AppState,
    ) -> Pin<Box<dyn Future<Output = AppResult<Vec<crate::keys::scope::OwnerScope>>> + Send + 'a>>
    {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// The figures the module counts for the operations view (see [`crate::figures`]).
    /// None by default.
    fn figures(&self) -> &'static [Figure] {
        &[]
    }

    /// The levels the module measures (figures of how many there are, not of what happened),
    /// each a minute by [`Module::measure`]. None by default.
    fn levels(&self) -> &'static [Figure] {
        &[]
    }

    /// Measures the module's levels now, by region: a few indexed counts over what is open,
    /// never a scan of what is done. Run on one node at a time, once a minute.
    fn measure<'a>(&'a self, _state: &'a AppState) -> Measuring<'a> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// The names of the parts the module's figures are kept by that the module holds (the
    /// exchange its resources; the platform its departments). None by default.
    fn part_names<'a>(&'a self, _state: &'a AppState) -> PartNaming<'a> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// The rates the view works out from the module's figures. None by default.
    fn rates(&self) -> &'static [Rate] {
        &[]
    }

    /// The distributions the view shows by quantiles, from the module's figures. None by
    /// default.
    fn distributions(&self) -> &'static [Distribution] {
        &[]
    }

    /// The module's background jobs, started when the node serves and stopped with it.
    /// The requests of this module that may take long: large uploads, loads of big tables.
    fn long_requests(&self) -> &'static [LongRequest] {
        &[]
    }

    fn jobs(&self, _state: &AppState) -> Vec<Job> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_periodic_job_runs_its_first_step_when_the_node_starts() {
        let (ran, first) = tokio::sync::oneshot::channel::<()>();
        let ran = std::sync::Mutex::new(Some(ran));
        let job = Job::every("test", std::time::Duration::from_secs(3600), move || {
            if let Some(ran) = ran.lock().ok().and_then(|mut ran| ran.take()) {
                let _ = ran.send(());
            }
            async { Ok(()) }
        });
        let running = tokio::spawn(job.run);
        // Not an hour later: at once (the wait only bounds a broken job).
        let started = tokio::time::timeout(std::time::Duration::from_secs(30), first).await;
        running.abort();
        assert!(matches!(started, Ok(Ok(()))));
    }
}

#[cfg(test)]
mod long_request_tests {
    use super::LongRequest;

    #[test]
    fn a_long_request_is_matched_by_method_prefix_and_suffix() {
        let publication = LongRequest {
            method: "POST",
            prefix: "/api/v1/opendata/resources/",
            suffix: "/publication",
        };
        assert!(publication.matches("POST", "/api/v1/opendata/resources/ab-12/publication"));
        assert!(!publication.matches("GET", "/api/v1/opendata/resources/ab-12/publication"));
        assert!(!publication.matches("POST", "/api/v1/opendata/resources/ab-12/review"));
        // The prefix and the suffix may not share characters.
        assert!(!publication.matches("POST", "/api/v1/opendata/resources/publication"));
    }
}
