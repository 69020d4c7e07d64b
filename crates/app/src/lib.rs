//! tongban-app: the platform. Each area (identity, admin, …) is a folder with its model,
//! store (SQL), service (use-cases), api (JSON) and pages (HTML); `web` is the HTTP edge.
#![forbid(unsafe_code)]

pub mod admin;
pub mod applications;
pub mod authz;
pub mod bench;
pub mod cache;
pub mod certs;
pub mod checkins;
pub mod config;
pub mod conformance;
pub mod db;
pub mod demo;
pub mod error;
pub mod health;
pub mod identity;
pub mod keys;
pub mod ledger;
pub mod metrics;
pub mod pass;
pub mod qr_image;
pub mod random;
pub mod services;
pub mod state;
pub mod time_fmt;
pub mod venues;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tongban_core::Clock;

pub use config::Config;
pub use db::Db;
pub use state::AppState;

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

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let state = self.state.clone();
        let sweeper = tokio::spawn(sweep_sessions(state.clone()));
        let feed = tokio::spawn(cache::follow_feed(state.clone()));
        let compactor = tokio::spawn(checkins::writer::compact_periodically(
            state.db.clone(),
            state.clock.clone(),
        ));
        let interval =
            std::time::Duration::from_secs(state.config.checkpoint_interval_seconds.max(1));
        let checkpoints = tokio::spawn(ledger::service::checkpoint_periodically(
            state.clone(),
            interval,
        ));
        let result = axum::serve(self.listener, web::router(state))
            .with_graceful_shutdown(shutdown)
            .await;
        sweeper.abort();
        feed.abort();
        compactor.abort();
        checkpoints.abort();
        result
    }
}

/// Opens the database and, for SQLite, applies migrations (PostgreSQL is migrated only by
/// `tongban migrate`, so that many nodes can start without racing).
pub async fn open_state(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let url = config.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let db = Db::connect(&url, config.max_db_connections).await?;
    match db.engine() {
        db::Engine::Sqlite => db.migrate().await?,
        db::Engine::Postgres => {
            if !db.is_migrated().await? {
                anyhow::bail!(
                    "the PostgreSQL database is not migrated: run `tongban migrate --database-url …` first"
                );
            }
        }
    }
    let master = keys::master::load(&config)?;
    let vault = keys::vault::Vault::open(db.pool(), config.profile, &master, clock.now_millis())
        .await
        .map_err(|error| match error {
            error::AppError::Internal(source) => source.context("opening the key vault"),
            other => anyhow::anyhow!("opening the key vault: {other}"),
        })?;
    Ok(AppState::new(db, clock, config, vault))
}

/// Deletes ended sessions, health facts and check-ins past their retention, and uploads no
/// application took within a day, every few minutes.
async fn sweep_sessions(state: AppState) {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        interval.tick().await;
        let idle_ms = state.config.session_idle_minutes * 60_000;
        if let Err(error) =
            identity::store::delete_expired_sessions(state.pool(), state.now(), idle_ms).await
        {
            tracing::warn!(%error, "could not sweep ended sessions");
        }
        if let Err(error) = health::service::purge_expired_facts(&state).await {
            tracing::warn!(%error, "could not purge health facts past their retention");
        }
        if let Err(error) = checkins::purge_expired(&state).await {
            tracing::warn!(%error, "could not purge check-ins past their retention");
        }
        let a_day_ago = state.now() - 86_400_000;
        if let Err(error) = applications::store::delete_uploads_before(&state, a_day_ago).await {
            tracing::warn!(%error, "could not delete uploads no application took");
        }
    }
}
