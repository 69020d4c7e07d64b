//! Fuzzes the proof verifiers with arbitrary sizes, indexes, paths and roots: they must answer
//! and never panic, and a proof they accept must match a real tree when one is rebuilt.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_ledger::{HashAlgorithm, MemoryTree, root, verify_consistency, verify_inclusion};

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

    // Small trees: an accepted inclusion proof of a real leaf must be for the real root.
    let size = (b % 64) + 1;
    let mut tree = MemoryTree::new(algorithm);
    for i in 0..size {
        tree.push(&i.to_le_bytes());
    }
    let index = a % size;
    if let (Some(leaf), Ok(real_root)) = (tree.leaf(index), root(&tree, size))
        && verify_inclusion(algorithm, &leaf, index, size, path, &second).is_ok()
    {
        assert_eq!(second, real_root);
    }
});
