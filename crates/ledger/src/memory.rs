//! A Merkle tree held in memory: for verifiers that recompute a whole log, and for tests.

use tongban_crypto::{Digest32, HashAlgorithm};

use crate::merkle::{Nodes, leaf_hash, node_hash};

/// Every perfect subtree hash, level by level, appended leaf by leaf.
#[derive(Debug, Clone)]
pub struct MemoryTree {
    algorithm: HashAlgorithm,
    levels: Vec<Vec<Digest32>>,
}

impl MemoryTree {
    pub fn new(algorithm: HashAlgorithm) -> MemoryTree {
        MemoryTree {
            algorithm,
            levels: vec![Vec::new()],
        }
    }

    pub fn size(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// Appends an entry's bytes and returns its index.
    pub fn push(&mut self, entry: &[u8]) -> u64 {
        self.push_leaf_hash(leaf_hash(self.algorithm, entry))
    }

    /// Appends an already computed leaf hash and returns its index.
    pub fn push_leaf_hash(&mut self, hash: Digest32) -> u64 {
        let index = self.size();
        self.levels[0].push(hash);
        let mut level = 0;
        // Each time a node completes a pair, its parent completes too.
        while self.levels[level].len().is_multiple_of(2) {
            let nodes = &self.levels[level];
            let parent = node_hash(
                self.algorithm,
                &nodes[nodes.len() - 2],
                &nodes[nodes.len() - 1],
            );
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
        index
    }

    pub fn leaf(&self, index: u64) -> Option<Digest32> {
        self.levels[0].get(usize::try_from(index).ok()?).copied()
    }
}

/// A node asked for lies outside the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no such node in the tree")]
pub struct MissingNode;

impl Nodes for MemoryTree {
    type Error = MissingNode;

    fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    fn perfect(&self, level: u32, index: u64) -> Result<Digest32, MissingNode> {
        let level = self
            .levels
            .get(usize::try_from(level).map_err(|_| MissingNode)?)
            .ok_or(MissingNode)?;
        level
            .get(usize::try_from(index).map_err(|_| MissingNode)?)
            .copied()
            .ok_or(MissingNode)
    }
}
