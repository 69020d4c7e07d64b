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

/// How holders who miss the cache are read: together when they miss together (the first
/// passes after a restart, the morning peak), with one statement per table for everyone
/// waiting (see [`cache::Gather`]), so a holder's first pass costs a share of four statements
/// instead of four.
pub type HolderReads = Arc<cache::Gather<HolderInputs>>;

/// Readers at work at once (one per core of the machine measured; more only split batches).
const READERS: usize = 2;
/// Holders per batch.
pub const BATCH: usize = 200;

/// The health module's gatherer of holders' reads.
pub fn holder_reads() -> HolderReads {
    cache::Gather::new(
        READERS,
        BATCH,
        |state: AppState, ids: Vec<String>| async move { read_batch(&state, ids).await },
    )
}

async fn read(state: &AppState, person_id: &str) -> AppResult<Option<HolderInputs>> {
    state.module::<HolderReads>().read(state, person_id).await
}

/// What the statements return for one holder, before the facts are opened.
#[derive(Default)]
struct Parts {
    facts: Vec<super::store::FactRow>,
    overrides: Vec<OverrideRow>,
    entitlements: Vec<String>,
    initials: Option<String>,
}

/// The inputs of distinct holders: their rows in four statements, then each holder's facts
/// opened and, when there are any, the reading logged — side by side, so the log's appends of
/// a batch share its group commits.
async fn read_batch(state: &AppState, ids: Vec<String>) -> AppResult<cache::Found<HolderInputs>> {
    let now = state.now();
    let parts = read_parts(state, &ids, now).await?;
    let mut finishing = tokio::task::JoinSet::new();
    for (id, holder) in parts {
        let state = state.clone();
        finishing.spawn(async move {
            let inputs = finish(&state, &id, holder).await;
            (id, inputs)
        });
    }
    let mut found = cache::Found::new();
    while let Some(done) = finishing.join_next().await {
        let (id, inputs) =
            done.map_err(|error| AppError::Internal(anyhow::anyhow!("reading a holder: {error}")))?;
        found.insert(id, inputs);
    }
    Ok(found)
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
