//! The Merkle tree against published test vectors, and proofs checked both ways.

use proptest::prelude::*;
use tongban_crypto::{SignatureAlgorithm, Signer, SoftwareSigner};
use tongban_ledger::{
    Checkpoint, CheckpointError, HashAlgorithm, MemoryTree, ProofError, SignedCheckpoint,
    consistency_proof, inclusion_proof, root, verify_consistency, verify_inclusion,
};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The eight leaves of the Certificate Transparency reference tests (RFC 6962 trees are the
/// same as RFC 9162's), with the root after each.
const LEAVES: [&[u8]; 8] = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
];
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn tree(algorithm: HashAlgorithm, size: u64) -> MemoryTree {
    let mut tree = MemoryTree::new(algorithm);
    for i in 0..size {
        tree.push(&i.to_be_bytes());
    }
    tree
}

#[test]
fn roots_match_the_reference_vectors() {
    let mut tree = MemoryTree::new(HashAlgorithm::Sha256);
    assert_eq!(
        hex(&root(&tree, 0).expect("root")),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    for (leaf, expected) in LEAVES.iter().zip(ROOTS) {
        tree.push(leaf);
        assert_eq!(
            hex(&root(&tree, tree.size()).expect("root")),
            expected,
            "size {}",
            tree.size()
        );
    }
}

#[test]
fn proofs_out_of_range_are_refused_not_invented() {
    let tree = tree(HashAlgorithm::Sha256, 5);
    assert_eq!(inclusion_proof(&tree, 5, 5).expect("no error"), None);
    assert_eq!(consistency_proof(&tree, 0, 5).expect("no error"), None);
    assert_eq!(consistency_proof(&tree, 4, 3).expect("no error"), None);
    assert!(
        root(&tree, 6).is_err(),
        "a size beyond the tree is an error"
    );
    let leaf = tree.leaf(0).expect("leaf");
    let r = root(&tree, 5).expect("root");
    assert_eq!(
        verify_inclusion(HashAlgorithm::Sha256, &leaf, 5, 5, &[], &r),
        Err(ProofError::OutOfRange)
    );
    assert_eq!(
        verify_consistency(HashAlgorithm::Sha256, 0, 5, &[], &r, &r),
        Err(ProofError::OutOfRange)
    );
    assert_eq!(
        verify_consistency(HashAlgorithm::Sha256, 3, 5, &[], &r, &r),
        Err(ProofError::WrongLength)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_inclusion_proof_verifies_and_a_changed_one_does_not(size in 1u64..300, pick in any::<u64>(), sm3 in any::<bool>()) {
        let algorithm = if sm3 { HashAlgorithm::Sm3 } else { HashAlgorithm::Sha256 };
        let tree = tree(algorithm, size);
        let index = pick % size;
        let r = root(&tree, size).expect("root");
        let leaf = tree.leaf(index).expect("leaf");
        let path = inclusion_proof(&tree, index, size).expect("no error").expect("in range");
        prop_assert_eq!(verify_inclusion(algorithm, &leaf, index, size, &path, &r), Ok(()));
        if size > 1 {
            prop_assert!(verify_inclusion(algorithm, &leaf, (index + 1) % size, size, &path, &r).is_err());
            let mut changed = path.clone();
            changed[0][0] ^= 1;
            prop_assert!(verify_inclusion(algorithm, &leaf, index, size, &changed, &r).is_err());
            prop_assert!(verify_inclusion(algorithm, &leaf, index, size, &path[..path.len() - 1], &r).is_err());
        }
        let other = tree.leaf((index + 1) % size).expect("leaf");
        if other != leaf {
            prop_assert!(verify_inclusion(algorithm, &other, index, size, &path, &r).is_err());
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_a_forked_tree_does_not(second in 1u64..300, pick in any::<u64>(), sm3 in any::<bool>()) {
        let algorithm = if sm3 { HashAlgorithm::Sm3 } else { HashAlgorithm::Sha256 };
        let tree = tree(algorithm, second);
        let first = pick % second + 1;
        let proof = consistency_proof(&tree, first, second).expect("no error").expect("in range");
        let (r1, r2) = (root(&tree, first).expect("root"), root(&tree, second).expect("root"));
        prop_assert_eq!(verify_consistency(algorithm, first, second, &proof, &r1, &r2), Ok(()));
        // A log that rewrote an old entry cannot prove consistency with the old head.
        let mut forked = MemoryTree::new(algorithm);
        for i in 0..second {
            forked.push(&(if i == 0 { u64::MAX } else { i }).to_be_bytes());
        }
        let forked_proof = consistency_proof(&forked, first, second).expect("no error").expect("in range");
        let forked_root = root(&forked, second).expect("root");
        prop_assert!(verify_consistency(algorithm, first, second, &forked_proof, &r1, &forked_root).is_err());
        if first < second {
            let mut changed = proof.clone();
            let last = changed.len() - 1;
            changed[last][5] ^= 0x80;
            prop_assert!(verify_consistency(algorithm, first, second, &changed, &r1, &r2).is_err());
        }
    }
}

#[test]
fn checkpoints_verify_under_their_key_in_every_suite_and_not_otherwise() {
    for algorithm in SignatureAlgorithm::ALL {
        let signer = SoftwareSigner::generate(algorithm, "log-1");
        let tree = tree(HashAlgorithm::Sha256, 10);
        let checkpoint = Checkpoint {
            origin: "tongban.339900/audit".into(),
            size: 10,
            root: root(&tree, 10).expect("root"),
        };
        let signed = checkpoint.sign("tongban.339900/audit", &signer);
        assert!(signed.text.starts_with("tongban.339900/audit\n10\n"));
        let parsed =
            SignedCheckpoint::verify(&signed.text, "tongban.339900/audit", &signer.public_key())
                .expect("verifies");
        assert_eq!(parsed.checkpoint, checkpoint);

        let other = SoftwareSigner::generate(algorithm, "log-2").public_key();
        assert_eq!(
            SignedCheckpoint::verify(&signed.text, "tongban.339900/audit", &other).err(),
            Some(CheckpointError::NoSignature)
        );
        let altered = signed.text.replacen("\n10\n", "\n11\n", 1);
        assert_eq!(
            SignedCheckpoint::verify(&altered, "tongban.339900/audit", &signer.public_key()).err(),
            Some(CheckpointError::BadSignature)
        );
        assert_eq!(
            SignedCheckpoint::verify("garbage", "x", &signer.public_key()).err(),
            Some(CheckpointError::Malformed)
        );
    }
}
