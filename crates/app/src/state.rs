//! What every use-case receives: the database, the clock, the configuration and the keys.

use std::sync::Arc;

use tongban_core::Clock;

use crate::config::Config;
use crate::db::Db;
use crate::keys::vault::Vault;
use crate::ledger::appender::Appender;
use crate::metrics::Metrics;

/// Cloned for every request, so one reference count instead of one per part.
#[derive(Clone)]
pub struct AppState(Arc<Parts>);

impl std::ops::Deref for AppState {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

pub struct Parts {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// The unsealed data keys (field encryption, blind indexes) and the key-encryption key.
    pub vault: Arc<Vault>,
    /// Appends to the transparency log (group commit).
    pub ledger: Appender,
    /// Records check-ins (group commit).
    pub checkins: crate::checkins::CheckinWriter,
    /// Recently used signing keys, unsealed.
    pub signers: Arc<crate::keys::service::SignerCache>,
    /// The emergency switch and the policy in force, for a second.
    pub status_cache: Arc<crate::health::service::StatusCache>,
    /// Token owners and holders' status inputs, until they change (see [`crate::cache`]).
    pub cache: Arc<crate::cache::NodeCache>,
    /// The EU DCC verifier, until the trusted signers or schemas change.
    pub dcc: Arc<crate::pass::dcc::DccCache>,
}

impl AppState {
    /// Builds the state and starts this node's log writer (call inside the runtime).
    pub fn new(db: Db, clock: Arc<dyn Clock>, config: Config, vault: Vault) -> AppState {
        let ledger = Appender::start(db.clone(), config.profile.hash());
        let checkins = crate::checkins::CheckinWriter::start(db.clone(), clock.clone());
        let cache = Arc::new(crate::cache::NodeCache::new(config.holder_cache_entries));
        AppState(Arc::new(Parts {
            db,
            clock,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::new()),
            vault: Arc::new(vault),
            ledger,
            checkins,
            signers: Arc::new(crate::keys::service::SignerCache::default()),
            status_cache: Arc::new(crate::health::service::StatusCache::default()),
            dcc: Arc::new(crate::pass::dcc::DccCache::default()),
            cache,
        }))
    }

    pub fn now(&self) -> i64 {
        self.clock.now_millis()
    }

    /// The region's time zone, in which days are counted and times are shown.
    pub fn zone(&self) -> tongban_core::Zone {
        self.config.time_zone
    }

    /// Today in the region's time zone.
    pub fn today(&self) -> time::Date {
        self.zone().date_of(self.now())
    }

    pub fn pool(&self) -> &sqlx::AnyPool {
        self.db.pool()
    }
}
