//! tongban-app: the platform assembled — the kernel (`tongban-platform`) and the list of
//! modules that plug into it ([`modules`]), the node that serves them ([`Application`]), and
//! the demo city. It re-exports the kernel's and the modules' areas under one name, for the
//! binary, the tooling and the tests.
#![forbid(unsafe_code)]

pub mod demo;
mod listen;

pub use tongban_certificates::certs;
pub use tongban_citypass::{checkins, health, pass, venues};
pub use tongban_collect as collect;
pub use tongban_crossregion as crossregion;
pub use tongban_exchange::catalogue;
pub use tongban_exchange::gateway as exchange;
pub use tongban_exchange::pubsub;
pub use tongban_office as office;
pub use tongban_opendata as opendata;
pub use tongban_ops as ops;
pub use tongban_platform::{
    admin, authz, cache, config, db, error, figures, identity, keys, lease, ledger, metrics,
    migrations, module, outbound, random, state, time_fmt, web,
};
pub use tongban_services::{applications, services};
pub use tongban_trust::trust;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tongban_core::Clock;

pub use config::Config;
pub use db::Db;
pub use state::AppState;

/// How long after the request timeout a stopping node still waits for open connections.
pub const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
/// How long a stopping node waits for the database to take its job leases back.
pub const RELEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A built application: its state and a bound listener (port 0 picks a free port, for tests).
pub struct Application {
    state: AppState,
    listener: TcpListener,
}

impl Application {
    pub async fn build(state: AppState) -> std::io::Result<Application> {
        let listener = TcpListener::bind(state.config.bind).await?;
        Ok(Application { state, listener })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight and gives up
    /// the node's job leases, so that another node takes its jobs over at once.
    ///
    /// The stop is bounded: requests are answered within `request_timeout_seconds`, so a
    /// connection still open [`STOP_GRACE`] after that (a client that never finishes sending,
    /// a request stuck on a database that went away) is dropped; and the leases are given up
    /// within [`RELEASE_WAIT`] or left to expire.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let state = self.state.clone();
        let mut jobs = vec![tokio::spawn(cache::follow_feed(state.clone()))];
        for module in module::modules(&state) {
            for job in module.jobs(&state) {
                tracing::debug!(module = module.name(), job = job.name, "starting");
                jobs.push(tokio::spawn(job.run));
            }
        }
        let grace =
            std::time::Duration::from_secs(state.config.request_timeout_seconds) + STOP_GRACE;
        let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
        let signal = async move {
            shutdown.await;
            let _ = stopping.send(());
        };
        let header_read_timeout =
            std::time::Duration::from_secs(state.config.header_read_timeout_seconds.max(1));
        let serving = listen::serve(
            self.listener,
            web::router(state),
            header_read_timeout,
            signal,
        );
        let overdue = async move {
            // The signal future is dropped unsent only when serving ended first.
            if stopped.await.is_err() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(grace).await;
        };
        let result = tokio::select! {
            result = serving => result,
            () = overdue => {
                tracing::warn!(
                    seconds = grace.as_secs(),
                    "connections still open after the grace period; stopping without them"
                );
                Ok(())
            }
        };
        for job in jobs {
            job.abort();
        }
        // What this node counted since the last turn, before it goes.
        match tokio::time::timeout(RELEASE_WAIT, tongban_platform::figures::flush(&self.state))
            .await
        {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "this node's last figures could not be added"),
            Err(_) => {
                tracing::warn!("the database did not answer; this node's last figures are lost")
            }
        }
        match tokio::time::timeout(RELEASE_WAIT, lease::release_all(&self.state)).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, "could not give up this node's job leases; they expire")
            }
            Err(_) => tracing::warn!(
                "the database did not answer while giving up this node's job leases; they expire"
            ),
        }
        result
    }
}

/// The modules of the platform, in the order their routes and jobs are added.
pub fn modules() -> Vec<Box<dyn module::Module>> {
    vec![
        Box::new(identity::IdentityModule),
        Box::new(admin::AdminModule),
        Box::new(keys::KeysModule),
        Box::new(ledger::LedgerModule),
        Box::new(tongban_platform::figures::FiguresModule),
        Box::new(tongban_citypass::HealthModule),
        Box::new(tongban_trust::TrustModule),
        Box::new(tongban_citypass::PassModule),
        Box::new(tongban_citypass::VenuesModule),
        Box::new(tongban_citypass::CheckinsModule),
        Box::new(tongban_certificates::CertsModule),
        Box::new(tongban_services::ServicesModule),
        Box::new(tongban_services::ApplicationsModule),
        Box::new(tongban_exchange::ExchangeModule),
        Box::new(tongban_crossregion::CrossRegionModule),
        Box::new(tongban_opendata::OpenDataModule),
        Box::new(tongban_collect::CollectModule),
        Box::new(tongban_ops::OpsModule),
        Box::new(tongban_office::OfficeModule),
    ]
}

/// Applies every pending migration of the kernel and of the registered modules.
pub async fn migrate(db: &Db) -> Result<(), db::DbError> {
    migrations::run(db, &module::migrations(&modules())).await
}

/// True when every migration of the kernel and of the registered modules has been applied.
pub async fn is_migrated(db: &Db) -> Result<bool, db::DbError> {
    migrations::applied(db, &module::migrations(&modules())).await
}

/// Opens the database and, for SQLite, applies migrations (PostgreSQL is migrated only by
/// `tongban migrate`, so that many nodes can start without racing).
pub async fn open_state(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    tongban_platform::outbound::check(&config)?;
    let url = config.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let db = Db::connect(&url, config.max_db_connections).await?;
    match db.engine() {
        db::Engine::Sqlite => migrate(&db).await?,
        db::Engine::Postgres => {
            if !is_migrated(&db).await? {
                anyhow::bail!(
                    "the PostgreSQL database is not migrated: run `tongban migrate --database-url …` first"
                );
            }
        }
    }
    let master = keys::master::load(&config)?;
    let vault = keys::vault::Vault::open(db.pool(), config.profile, &master, clock.clone())
        .await
        .map_err(|error| match error {
            error::AppError::Internal(source) => source.context("opening the key vault"),
            other => anyhow::anyhow!("opening the key vault: {other}"),
        })?;
    let state = module::build_state(db, clock, config, vault, modules());
    module::upgrade(&state)
        .await
        .map_err(|error| anyhow::anyhow!("upgrading stored rows: {error}"))?;
    Ok(state)
}
