//! RFC 9162 §2.1: the Merkle tree hash, inclusion proofs (audit paths) and consistency proofs,
//! computed from the hashes of perfect subtrees, and their verification.

use tongban_crypto::{Digest32, HashAlgorithm, digest_parts};

/// `HASH(0x00 ‖ data)`.
pub fn leaf_hash(algorithm: HashAlgorithm, data: &[u8]) -> Digest32 {
    digest_parts(algorithm, &[&[0x00], data])
}

/// `HASH(0x01 ‖ left ‖ right)`.
pub fn node_hash(algorithm: HashAlgorithm, left: &Digest32, right: &Digest32) -> Digest32 {
    digest_parts(algorithm, &[&[0x01], left, right])
}

/// Where the hashes of perfect subtrees come from: `perfect(level, index)` is the hash of the
/// leaves `[index·2^level, (index+1)·2^level)`; level 0 holds the leaf hashes.
pub trait Nodes {
    type Error;

    fn algorithm(&self) -> HashAlgorithm;
    fn perfect(&self, level: u32, index: u64) -> Result<Digest32, Self::Error>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the index or size is out of range for the tree")]
    OutOfRange,
    #[error("the proof does not lead to the expected root")]
    Mismatch,
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
}

/// The largest power of two strictly below `n` (for n ≥ 2).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// MTH of leaves `[start, end)`, end > start. The ranges that the RFC's recursion produces start
/// at a multiple of their left part, so each is a perfect subtree or splits into them.
fn range_hash<N: Nodes>(nodes: &N, start: u64, end: u64) -> Result<Digest32, N::Error> {
    let size = end - start;
    if size.is_power_of_two() && start.is_multiple_of(size) {
        return nodes.perfect(size.trailing_zeros(), start / size);
    }
    let k = split(size);
    let left = range_hash(nodes, start, start + k)?;
    let right = range_hash(nodes, start + k, end)?;
    Ok(node_hash(nodes.algorithm(), &left, &right))
}

/// The root (MTH) of the first `size` leaves; the hash of the empty string for size 0.
pub fn root<N: Nodes>(nodes: &N, size: u64) -> Result<Digest32, N::Error> {
    if size == 0 {
        return Ok(digest_parts(nodes.algorithm(), &[]));
    }
    range_hash(nodes, 0, size)
}

/// The audit path of leaf `index` in the tree of the first `size` leaves (RFC 9162 §2.1.3.1).
/// `Ok(None)` when the index is not in the tree.
pub fn inclusion_proof<N: Nodes>(
    nodes: &N,
    index: u64,
    size: u64,
) -> Result<Option<Vec<Digest32>>, N::Error> {
    if index >= size {
        return Ok(None);
    }
    let mut path = Vec::new();
    let (mut start, mut end, mut m) = (0u64, size, index);
    let mut pending = Vec::new();
    while end - start > 1 {
        let k = split(end - start);
        if m < k {
            pending.push((start + k, end));
            end = start + k;
        } else {
            pending.push((start, start + k));
            start += k;
            m -= k;
        }
    }
    // The path lists siblings from the leaf upwards: the last split first.
    for (a, b) in pending.into_iter().rev() {
        path.push(range_hash(nodes, a, b)?);
    }
    Ok(Some(path))
}

/// The consistency proof between the trees of `first` and `second` leaves (RFC 9162
/// §2.1.4.1). `Ok(None)` unless 0 < first ≤ second.
pub fn consistency_proof<N: Nodes>(
    nodes: &N,
    first: u64,
    second: u64,
) -> Result<Option<Vec<Digest32>>, N::Error> {
    if first == 0 || first > second {
        return Ok(None);
    }
    let mut proof = Vec::new();
    let (mut start, mut end, mut m, mut complete) = (0u64, second, first, true);
    let mut pending = Vec::new();
    loop {
        if m == end - start {
            if !complete {
                pending.push((start, end));
            }
            break;
        }
        let k = split(end - start);
        if m <= k {
            pending.push((start + k, end));
            end = start + k;
        } else {
            pending.push((start, start + k));
            start += k;
            m -= k;
            complete = false;
        }
    }
    for (a, b) in pending.into_iter().rev() {
        proof.push(range_hash(nodes, a, b)?);
    }
    Ok(Some(proof))
}

/// Checks that `leaf` is at `index` in the tree of `size` leaves with root `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    algorithm: HashAlgorithm,
    leaf: &Digest32,
    index: u64,
    size: u64,
    path: &[Digest32],
    root: &Digest32,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::OutOfRange);
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(algorithm, p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(algorithm, &r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength);
    }
    if &r == root {
        Ok(())
    } else {
        Err(ProofError::Mismatch)
    }
}

/// Checks that the tree of `first` leaves with root `first_root` is a prefix of the tree of
/// `second` leaves with root `second_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    algorithm: HashAlgorithm,
    first: u64,
    second: u64,
    proof: &[Digest32],
    first_root: &Digest32,
    second_root: &Digest32,
) -> Result<(), ProofError> {
    if first == 0 || first > second {
        return Err(ProofError::OutOfRange);
    }
    if first == second {
        return if !proof.is_empty() {
            Err(ProofError::WrongLength)
        } else if first_root == second_root {
            Ok(())
        } else {
            Err(ProofError::Mismatch)
        };
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    let mut path: Vec<Digest32> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    let Some((seed, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength);
    };
    let (mut f, mut s) = (first - 1, second - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*seed, *seed);
    for c in rest {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(algorithm, c, &fr);
            sr = node_hash(algorithm, c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(algorithm, &sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength);
    }
    if &fr == first_root && &sr == second_root {
        Ok(())
    } else {
        Err(ProofError::Mismatch)
    }
}
