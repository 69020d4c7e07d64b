//! tongban-ledger: the transparency log (审计日志) as an RFC 9162 Merkle tree — leaf and node
//! hashes, tree heads, inclusion and consistency proofs and their verification — and signed
//! checkpoints in the C2SP signed-note shape. No IO: node storage sits behind [`Nodes`].
#![forbid(unsafe_code)]

mod checkpoint;
mod memory;
mod merkle;

pub use checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
pub use memory::{MemoryTree, MissingNode};
pub use merkle::{
    Nodes, ProofError, consistency_proof, inclusion_proof, leaf_hash, node_hash, root,
    verify_consistency, verify_inclusion,
};
pub use tongban_crypto::{Digest32, HashAlgorithm};
