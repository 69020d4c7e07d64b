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
        .get_or_load(now, person_id, || load(state, person_id, now))
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("holder inputs always load")))
}

async fn load(state: &AppState, person_id: &str, now: i64) -> AppResult<Option<HolderInputs>> {
    let facts = super::store::facts_of(state.pool(), person_id, now)
        .await?
        .into_iter()
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
        .collect::<AppResult<Vec<_>>>()?;
    if !facts.is_empty() {
        crate::identity::personal::record_status_computation(state, person_id).await?;
    }
    Ok(Some(HolderInputs {
        facts,
        overrides: super::store::active_overrides(state.pool(), &state.vault, person_id, now)
            .await?,
        entitlements: crate::venues::entitlements_of(state.pool(), person_id).await?,
        initials: crate::identity::personal::masked_name_of(state, person_id).await?,
    }))
}

/// Call after a change to a person's facts, overrides or entitlements has been committed.
pub async fn person_changed(state: &AppState, person_id: &str) {
    cache::changed(state, PERSON, person_id).await;
}

/// Call after facts of many people were deleted at once (retention).
pub async fn holders_changed(state: &AppState) {
    cache::changed(state, PERSON, cache::ALL).await;
}
