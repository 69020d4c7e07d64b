//! What a holder's status and pass are computed from — their health facts (opened), approved
//! overrides and entitlements — held in the node's coherent cache of scope `person` (see
//! [`crate::cache`]). Time is not cached: facts and overrides carry their own end, and the
//! status is computed from them at the moment of each request.

use std::sync::Arc;

use crate::cache::{self, Coherent, Entry};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

use super::store::OverrideRow;

/// The scope of a person's status inputs.
pub const PERSON: &str = "person";

/// A fact with its value opened, for computing a status.
pub struct OpenFact {
    pub id: String,
    pub kind: String,
    pub value: String,
    pub observed_at: i64,
    pub expires_at: i64,
}

/// Everything a holder's status and pass are computed from, besides the policy and the clock.
pub struct HolderInputs {
    /// Within retention when read, oldest first.
    pub facts: Vec<OpenFact>,
    /// Approved and unexpired when read, newest approval first.
    pub overrides: Vec<OverrideRow>,
    pub entitlements: Vec<String>,
    /// The masked registered name the pass shows.
    pub initials: String,
}

impl HolderInputs {
    /// The facts still within retention at `now`.
    pub fn facts_at(&self, now: i64) -> impl Iterator<Item = &OpenFact> {
        self.facts.iter().filter(move |fact| fact.expires_at > now)
    }

    /// The newest approved override still in force at `now`.
    pub fn override_at(&self, now: i64) -> Option<&OverrideRow> {
        self.overrides.iter().find(|row| row.expires_at > now)
    }
}

/// The node's cache of holders' inputs, as the health module registers it.
pub type HolderCache = Arc<Coherent<HolderInputs>>;

/// A holder's status inputs, from the cache or else read (and the facts opened; reading facts
/// is recorded in the transparency log).
pub async fn holder(state: &AppState, person_id: &str) -> AppResult<Arc<Entry<HolderInputs>>> {
    let now = state.now();
    state
        .module::<HolderCache>()
        .get_or_load(now, person_id, || read(state, person_id))
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("holder inputs always load")))
}

/// The holders whose inputs wait to be read, and how many readers are at work. When many
/// holders miss the cache at once — the first passes after a restart, the morning peak — their
/// reads are gathered: a reader takes everyone waiting (up to [`BATCH`]) and reads them with
/// one statement per table, so a holder's first pass costs a share of four statements instead
/// of four. A lone miss is read at once, as a batch of one.
#[derive(Default)]
pub struct HolderReads {
    queue: std::sync::Mutex<Queue>,
}

type Waiting = (
    String,
    tokio::sync::oneshot::Sender<AppResult<HolderInputs>>,
);

#[derive(Default)]
struct Queue {
    waiting: Vec<Waiting>,
    readers: usize,
}

/// Readers at work at once (one per core of the machine measured; more only split batches).
const READERS: usize = 2;
/// Holders per batch: the `IN` lists stay far below every engine's parameter limit.
pub const BATCH: usize = 200;

impl HolderReads {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

async fn read(state: &AppState, person_id: &str) -> AppResult<Option<HolderInputs>> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let reads = state.module::<HolderReads>();
    let start_reader = {
        let mut queue = reads.lock();
        queue.waiting.push((person_id.to_owned(), sender));
        let start = queue.readers < READERS;
        if start {
            queue.readers += 1;
        }
        start
    };
    if start_reader {
        // A task of its own: a request that is dropped must not drop the others' reads.
        tokio::spawn(read_batches(state.clone()));
    }
    match receiver.await {
        Ok(inputs) => inputs.map(Some),
        // The reader ended without answering (the runtime is stopping): read alone.
        Err(_) => load_one(state, person_id, state.now()).await.map(Some),
    }
}

/// A reader's place among the [`READERS`]: given back under the queue's lock when the reader
/// finds the queue empty, or on drop if its task ended otherwise (a panic), so that a lost
/// reader never leaves holders waiting with no one to read them.
struct ReaderPlace {
    state: AppState,
    given_back: bool,
}

impl Drop for ReaderPlace {
    fn drop(&mut self) {
        if !self.given_back {
            self.state.module::<HolderReads>().lock().readers -= 1;
        }
    }
}

async fn read_batches(state: AppState) {
    let mut place = ReaderPlace {
        state: state.clone(),
        given_back: false,
    };
    loop {
        let batch: Vec<Waiting> = {
            let mut queue = state.module::<HolderReads>().lock();
            if queue.waiting.is_empty() {
                queue.readers -= 1;
                place.given_back = true;
                return;
            }
            let take = queue.waiting.len().min(BATCH);
            queue.waiting.drain(..take).collect()
        };
        read_batch(&state, batch).await;
    }
}

/// What the statements return for one holder, before the facts are opened.
#[derive(Default)]
struct Parts {
    facts: Vec<super::store::FactRow>,
    overrides: Vec<OverrideRow>,
    entitlements: Vec<String>,
    initials: Option<String>,
}

async fn read_batch(state: &AppState, batch: Vec<Waiting>) {
    let now = state.now();
    let mut ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
    ids.sort();
    ids.dedup();
    let mut parts = match read_parts(state, &ids, now).await {
        Ok(parts) => parts,
        Err(error) => {
            let text = error.to_string();
            for (_, sender) in batch {
                let _ = sender.send(Err(AppError::Internal(anyhow::anyhow!(
                    "reading holders' inputs: {text}"
                ))));
            }
            return;
        }
    };
    // Each holder's facts are opened and, when there are any, the reading logged; the log's
    // appends of a batch share its group commits, so they run side by side.
    let mut finishing = tokio::task::JoinSet::new();
    for (id, sender) in batch {
        let state = state.clone();
        let holder = parts.remove(&id);
        finishing.spawn(async move {
            let inputs = match holder {
                Some(parts) => finish(&state, &id, parts).await,
                // The same holder twice in one batch: the second reads alone.
                None => load_one(&state, &id, now).await,
            };
            let _ = sender.send(inputs);
        });
    }
    while finishing.join_next().await.is_some() {}
}

async fn read_parts(
    state: &AppState,
    ids: &[String],
    now: i64,
) -> AppResult<std::collections::HashMap<String, Parts>> {
    let (facts, overrides, entitlements, names) = tokio::try_join!(
        super::store::facts_of_many(state.pool(), ids, now),
        super::store::active_overrides_many(state.pool(), &state.vault, ids, now),
        crate::venues::entitlements_of_many(state.pool(), ids),
        crate::identity::personal::masked_names_of(state, ids),
    )?;
    let mut parts: std::collections::HashMap<String, Parts> = ids
        .iter()
        .map(|id| (id.clone(), Parts::default()))
        .collect();
    for fact in facts {
        if let Some(holder) = parts.get_mut(&fact.person_id) {
            holder.facts.push(fact);
        }
    }
    for row in overrides {
        if let Some(holder) = parts.get_mut(&row.person_id) {
            holder.overrides.push(row);
        }
    }
    for (person, service) in entitlements {
        if let Some(holder) = parts.get_mut(&person) {
            holder.entitlements.push(service);
        }
    }
    for (person, initials) in names {
        if let Some(holder) = parts.get_mut(&person) {
            holder.initials = Some(initials);
        }
    }
    Ok(parts)
}

async fn finish(state: &AppState, person_id: &str, parts: Parts) -> AppResult<HolderInputs> {
    let initials = parts.initials.ok_or(AppError::NotFound)?;
    let facts = open_facts(state, parts.facts)?;
    if !facts.is_empty() {
        crate::identity::personal::record_status_computation(state, person_id).await?;
    }
    Ok(HolderInputs {
        facts,
        overrides: parts.overrides,
        entitlements: parts.entitlements,
        initials,
    })
}

fn open_facts(state: &AppState, rows: Vec<super::store::FactRow>) -> AppResult<Vec<OpenFact>> {
    rows.into_iter()
        .map(|fact| {
            let value = state.vault.open_field(
                &format!("health_facts.value/{}", fact.id),
                &fact.value_sealed,
            )?;
            Ok(OpenFact {
                id: fact.id,
                kind: fact.kind,
                value: String::from_utf8_lossy(&value).into_owned(),
                observed_at: fact.observed_at,
                expires_at: fact.expires_at,
            })
        })
        .collect()
}

/// One holder's inputs, read on their own.
pub async fn load_one(state: &AppState, person_id: &str, now: i64) -> AppResult<HolderInputs> {
    let facts = open_facts(
        state,
        super::store::facts_of(state.pool(), person_id, now).await?,
    )?;
    if !facts.is_empty() {
        crate::identity::personal::record_status_computation(state, person_id).await?;
    }
    Ok(HolderInputs {
        facts,
        overrides: super::store::active_overrides(state.pool(), &state.vault, person_id, now)
            .await?,
        entitlements: crate::venues::entitlements_of(state.pool(), person_id).await?,
        initials: crate::identity::personal::masked_name_of(state, person_id).await?,
    })
}

/// Call after a change to a person's facts, overrides or entitlements has been committed.
pub async fn person_changed(state: &AppState, person_id: &str) {
    cache::changed(state, PERSON, person_id).await;
}

/// Call after facts of many people were deleted at once (retention).
pub async fn holders_changed(state: &AppState) {
    cache::changed(state, PERSON, cache::ALL).await;
}
