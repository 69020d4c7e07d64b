//! What every use-case receives: the database, the clock, the configuration, the keys, the
//! transparency log — and each module's own state, which the kernel holds without naming its
//! type ([`Extensions`]).

use std::sync::Arc;

use tongban_core::Clock;

use crate::config::Config;
use crate::db::Db;
use crate::extensions::Extensions;
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
    /// Recently used signing keys, unsealed.
    pub signers: Arc<crate::keys::signers::SignerCache>,
    /// Token owners and the modules' coherent caches, until their data changes (see
    /// [`crate::cache`]).
    pub cache: Arc<crate::cache::coherent::NodeCache>,
    /// This node among those sharing the database: a random name for this process, which
    /// the leases of jobs that run once name as their holder.
    pub node: String,
    /// Each module's own state.
    extensions: Extensions,
}

impl AppState {
    /// Builds the state around the modules' own (see `crate::module::build_state`) and starts
    /// this node's log writer (call inside the runtime).
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        config: Config,
        vault: Vault,
        mut extensions: Extensions,
    ) -> AppState {
        let ledger = Appender::start(db.clone(), config.profile.hash());
        let cache = Arc::new(crate::cache::coherent::NodeCache::new(
            config.holder_cache_entries,
            std::mem::take(&mut extensions.caches),
        ));
        AppState(Arc::new(Parts {
            db,
            clock,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::new()),
            vault: Arc::new(vault),
            ledger,
            signers: Arc::new(crate::keys::signers::cache()),
            cache,
            node: crate::random::new_id(),
            extensions,
        }))
    }

    /// A module's own state, as its `init` set it. A module reads only its own; one missing
    /// means the module that owns it is not in the module list, a wiring error that every
    /// test of that module's paths shows at once.
    #[track_caller]
    /// The module state of type `T`, if a registered module set one.
    pub fn try_module<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.extensions.get::<T>()
    }

    pub fn module<T: Send + Sync + 'static>(&self) -> &T {
        match self.extensions.get::<T>() {
            Some(value) => value,
            None => panic!(
                "no {} among the modules' state: is its module registered?",
                std::any::type_name::<T>()
            ),
        }
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
