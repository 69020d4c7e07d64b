//! Fuzzes the proof verifiers with arbitrary sizes, indexes, paths and roots: they must answer
//! and never panic, and against a real tree's root only its real audit path verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_ledger::{HashAlgorithm, MemoryTree, inclusion_proof, root, verify_consistency, verify_inclusion};

fuzz_target!(|data: &[u8]| {
    if data.len() < 17 {
        return;
    }
    let a = u64::from_le_bytes(data[..8].try_into().unwrap_or_default());
    let b = u64::from_le_bytes(data[8..16].try_into().unwrap_or_default());
    let algorithm = if data[16] & 1 == 0 { HashAlgorithm::Sha256 } else { HashAlgorithm::Sm3 };
    let hashes: Vec<[u8; 32]> = data[17..].chunks_exact(32).map(|c| c.try_into().unwrap_or([0; 32])).collect();
    let (first, rest) = hashes.split_first().map(|(f, r)| (*f, r)).unwrap_or(([0; 32], &[]));
    let (second, path) = rest.split_first().map(|(s, r)| (*s, r)).unwrap_or(([0; 32], &[]));
    let _ = verify_inclusion(algorithm, &first, a, b, path, &second);
    let _ = verify_consistency(algorithm, a, b, path, &first, &second);

    // Small trees: against the real root, only the real audit path proves a real leaf (any
    // other path that verifies would be a hash collision).
    let size = (b % 64) + 1;
    let mut tree = MemoryTree::new(algorithm);
    for i in 0..size {
        tree.push(&i.to_le_bytes());
    }
    let index = a % size;
    if let (Some(leaf), Ok(real_root), Ok(Some(real_path))) =
        (tree.leaf(index), root(&tree, size), inclusion_proof(&tree, index, size))
        && verify_inclusion(algorithm, &leaf, index, size, path, &real_root).is_ok()
    {
        assert_eq!(path, &real_path[..]);
    }
});
