//! Use-cases of the log: recording, checkpoints, proofs and entries, and full verification.

use std::cell::RefCell;
use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use tongban_crypto::{PublicKey, Signer};
use tongban_ledger::{
    Checkpoint, Digest32, HashAlgorithm, MemoryTree, Nodes, SignedCheckpoint, consistency_proof,
    inclusion_proof, leaf_hash, root, verify_consistency,
};

use super::store::{self, CheckpointRow};
use crate::error::{AppError, AppResult};
use crate::keys::service as keys;
use crate::state::AppState;

/// The log's origin line, which names it in checkpoints: `tongban.<region>/audit`.
pub fn origin(state: &AppState) -> String {
    format!("tongban.{}/audit", state.config.region_code)
}

/// Appends an entry; returns once it is durable.
pub async fn append(state: &AppState, entry: &impl Serialize) -> AppResult<u64> {
    let data = serde_json::to_vec(entry).map_err(|e| AppError::Internal(e.into()))?;
    let index = state.ledger.append(data).await?;
    appended(state);
    Ok(index)
}

/// Counts an entry made durable, for the operations view.
fn appended(state: &AppState) {
    crate::figures::count(
        state,
        crate::figures::LOG_APPENDS,
        state.config.region_code.as_str(),
    );
}

/// Appends an entry with a row of a module's table that indexes it, in one transaction;
/// returns once both are durable.
pub async fn append_indexed(
    state: &AppState,
    entry: &impl Serialize,
    row: super::appender::IndexRow,
) -> AppResult<u64> {
    let data = serde_json::to_vec(entry).map_err(|e| AppError::Internal(e.into()))?;
    let index = state.ledger.append_indexed(data, row).await?;
    appended(state);
    Ok(index)
}

/// Answers node requests from a prefetched map; records what the algorithms ask for.
struct Prefetched {
    algorithm: HashAlgorithm,
    known: HashMap<(u32, u64), Digest32>,
    missing: RefCell<Vec<(u32, u64)>>,
}

impl Nodes for Prefetched {
    type Error = ();

    fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    fn perfect(&self, level: u32, index: u64) -> Result<Digest32, ()> {
        match self.known.get(&(level, index)) {
            Some(hash) => Ok(*hash),
            None => {
                self.missing.borrow_mut().push((level, index));
                Ok([0; 32])
            }
        }
    }
}

/// Runs a Merkle computation over the stored nodes: once to learn which nodes it reads (the
/// reads depend only on sizes), then again with those nodes fetched.
async fn with_nodes<T>(state: &AppState, run: impl Fn(&Prefetched) -> T) -> AppResult<T> {
    let algorithm = state.config.profile.hash();
    let probe = Prefetched {
        algorithm,
        known: HashMap::new(),
        missing: RefCell::new(Vec::new()),
    };
    run(&probe);
    let wanted = probe.missing.into_inner();
    let mut conn = state.pool().acquire().await?;
    let known = store::nodes(&mut conn, &wanted).await?;
    if known.len() != wanted.len() {
        return Err(AppError::Internal(anyhow::anyhow!(
            "the log misses {} nodes",
            wanted.len() - known.len()
        )));
    }
    Ok(run(&Prefetched {
        algorithm,
        known,
        missing: RefCell::new(Vec::new()),
    }))
}

async fn current_size(state: &AppState) -> AppResult<u64> {
    Ok(store::size(state.pool()).await?.max(0) as u64)
}

/// Signs and stores a checkpoint of the log as it is now.
pub async fn make_checkpoint(state: &AppState) -> AppResult<SignedCheckpoint> {
    let size = current_size(state).await?;
    let root = with_nodes(state, |nodes| root(nodes, size))
        .await?
        .map_err(|()| AppError::Internal(anyhow::anyhow!("root")))?;
    let checkpoint = Checkpoint {
        origin: origin(state),
        size,
        root,
    };
    let signer = keys::signer(state, &state.config.region_code, keys::LEDGER).await?;
    let signed = checkpoint.sign(&origin(state), &signer);
    let row = CheckpointRow {
        size: size as i64,
        root: root.to_vec(),
        note: signed.text.clone(),
        created_at: state.now(),
    };
    store::insert_checkpoint(state.pool(), &row).await?;
    // Another node may have stored one for the same size first; serve the stored one.
    let stored = store::latest_checkpoint(state.pool())
        .await?
        .filter(|c| c.size == row.size);
    Ok(SignedCheckpoint {
        checkpoint: signed.checkpoint,
        text: stored.map(|c| c.note).unwrap_or(signed.text),
    })
}

/// The shortest time between two checkpoints that callers of [`latest_checkpoint`] cause.
const CHECKPOINT_GAP_MS: i64 = 1_000;

/// The latest checkpoint. When the log has grown since, a new one is signed — but at most
/// once a second, by one request at a time: the endpoint is public, and a crowd of readers
/// must not turn into a crowd of signatures and stored rows.
pub async fn latest_checkpoint(state: &AppState) -> AppResult<String> {
    static SIGNING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let fresh = |state: &AppState, size: u64, row: &CheckpointRow| {
        row.size as u64 == size || state.now() - row.created_at < CHECKPOINT_GAP_MS
    };
    let size = current_size(state).await?;
    if let Some(row) = store::latest_checkpoint(state.pool()).await?
        && fresh(state, size, &row)
    {
        return Ok(row.note);
    }
    let _signing = SIGNING.lock().await;
    // Another request may have signed while this one waited.
    let size = current_size(state).await?;
    if let Some(row) = store::latest_checkpoint(state.pool()).await?
        && fresh(state, size, &row)
    {
        return Ok(row.note);
    }
    Ok(make_checkpoint(state).await?.text)
}

/// Why a proof request was refused.
#[derive(Debug)]
pub enum ProofRequestError {
    OutOfRange(&'static str),
    Failed(AppError),
}

impl From<AppError> for ProofRequestError {
    fn from(error: AppError) -> Self {
        ProofRequestError::Failed(error)
    }
}

impl From<ProofRequestError> for AppError {
    fn from(error: ProofRequestError) -> Self {
        match error {
            ProofRequestError::OutOfRange(reason) => AppError::invalid("size", reason),
            ProofRequestError::Failed(error) => error,
        }
    }
}

fn encode(hashes: &[Digest32]) -> Vec<String> {
    hashes.iter().map(|h| STANDARD.encode(h)).collect()
}

/// The audit path of entry `index` in the tree of `size` entries (base64 hashes).
pub async fn inclusion(
    state: &AppState,
    index: u64,
    size: u64,
) -> Result<Vec<String>, ProofRequestError> {
    if size > current_size(state).await? {
        return Err(ProofRequestError::OutOfRange("the log is not that large"));
    }
    if index >= size {
        return Err(ProofRequestError::OutOfRange(
            "the index must be below the size",
        ));
    }
    let path = with_nodes(state, |nodes| inclusion_proof(nodes, index, size)).await?;
    let path = path
        .ok()
        .flatten()
        .ok_or(ProofRequestError::OutOfRange("no such entry"))?;
    Ok(encode(&path))
}

/// The consistency proof between the trees of `from` and `to` entries (base64 hashes).
pub async fn consistency(
    state: &AppState,
    from: u64,
    to: u64,
) -> Result<Vec<String>, ProofRequestError> {
    if to > current_size(state).await? {
        return Err(ProofRequestError::OutOfRange("the log is not that large"));
    }
    if from == 0 || from > to {
        return Err(ProofRequestError::OutOfRange(
            "from must be at least 1 and at most to",
        ));
    }
    let proof = with_nodes(state, |nodes| consistency_proof(nodes, from, to)).await?;
    let proof = proof
        .ok()
        .flatten()
        .ok_or(ProofRequestError::OutOfRange("no such trees"))?;
    Ok(encode(&proof))
}

/// What `tongban audit verify` found.
#[derive(Debug, Serialize)]
pub struct Verification {
    pub entries: u64,
    pub checkpoints: usize,
    /// The first index at which the log is not what its checkpoints and hashes say.
    pub first_bad_index: Option<u64>,
    pub problem: Option<String>,
}

/// Recomputes the whole tree from the entries, checks every stored leaf hash and every
/// checkpoint's root and signature (under any ledger key the database lists), and the
/// consistency of consecutive checkpoints. Needs no master key.
pub async fn verify_all(
    pool: &sqlx::AnyPool,
    algorithm: HashAlgorithm,
    origin: &str,
) -> AppResult<Verification> {
    let size = store::size(pool).await?.max(0) as u64;
    let ledger_keys: Vec<PublicKey> = crate::keys::store::signing_keys(pool)
        .await?
        .into_iter()
        .filter(|row| row.purpose == keys::LEDGER)
        .filter_map(|row| PublicKey::new(row.algorithm.parse().ok()?, row.public_key).ok())
        .collect();
    let mut tree = MemoryTree::new(algorithm);
    let bad = |index: u64, problem: String, checkpoints: usize| Verification {
        entries: size,
        checkpoints,
        first_bad_index: Some(index),
        problem: Some(problem),
    };
    const PAGE: i64 = 10_000;
    let mut next = 0u64;
    while next < size {
        let end = (next as i64 + PAGE).min(size as i64);
        let entries = store::entries(pool, next as i64, end).await?;
        let stored = store::leaf_hashes(pool, next as i64, end).await?;
        let stored: HashMap<i64, Vec<u8>> = stored.into_iter().collect();
        for (index, data) in entries {
            if index as u64 != next {
                return Ok(bad(next, format!("entry {next} is missing"), 0));
            }
            let hash = leaf_hash(algorithm, &data);
            if stored.get(&index).map(Vec::as_slice) != Some(&hash[..]) {
                return Ok(bad(
                    next,
                    format!("entry {next} does not match its recorded leaf hash"),
                    0,
                ));
            }
            tree.push_leaf_hash(hash);
            next += 1;
        }
        if next < end as u64 {
            return Ok(bad(next, format!("entry {next} is missing"), 0));
        }
    }
    let checkpoints = store::checkpoints(pool).await?;
    let mut previous: Option<(u64, Digest32)> = None;
    for (number, row) in checkpoints.iter().enumerate() {
        let signed = ledger_keys
            .iter()
            .find_map(|key| SignedCheckpoint::verify(&row.note, origin, key).ok());
        let Some(signed) = signed else {
            let named = row.note.lines().next().unwrap_or_default();
            let problem = if named != origin {
                format!(
                    "the checkpoint at size {} names the log {named}, not {origin}: is this deployment's region code the one the log was written under?",
                    row.size
                )
            } else {
                format!(
                    "the checkpoint at size {} is not signed by a ledger key",
                    row.size
                )
            };
            return Ok(bad(previous.map_or(0, |p| p.0), problem, number));
        };
        let checkpoint = signed.checkpoint;
        let recomputed = root(&tree, checkpoint.size)
            .map_err(|_| AppError::Internal(anyhow::anyhow!("checkpoint beyond the log")));
        let from = previous.map_or(0, |p| p.0);
        match recomputed {
            Ok(recomputed)
                if recomputed == checkpoint.root && row.size as u64 == checkpoint.size => {}
            _ => {
                return Ok(bad(
                    from,
                    format!(
                        "the entries do not give the root of the checkpoint at size {}",
                        checkpoint.size
                    ),
                    number,
                ));
            }
        }
        if let Some((old_size, old_root)) = previous
            && old_size > 0
        {
            let proof = consistency_proof(&tree, old_size, checkpoint.size)
                .ok()
                .flatten()
                .unwrap_or_default();
            if verify_consistency(
                algorithm,
                old_size,
                checkpoint.size,
                &proof,
                &old_root,
                &checkpoint.root,
            )
            .is_err()
            {
                return Ok(bad(
                    old_size,
                    format!(
                        "checkpoints at {old_size} and {} are not consistent",
                        checkpoint.size
                    ),
                    number,
                ));
            }
        }
        previous = Some((checkpoint.size, checkpoint.root));
    }
    Ok(Verification {
        entries: size,
        checkpoints: checkpoints.len(),
        first_bad_index: None,
        problem: None,
    })
}

/// The key name and public key that sign checkpoints now, for clients.
pub async fn checkpoint_key(state: &AppState) -> AppResult<(String, PublicKey)> {
    let signer = keys::signer(state, &state.config.region_code, keys::LEDGER).await?;
    Ok((origin(state), signer.public_key()))
}
