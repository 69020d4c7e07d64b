//! Cross-checks with an independent implementation: what tongban signs, the `openssl` command
//! verifies, and what `openssl` signs, tongban verifies — for Ed25519, ES256 and SM2-SM3.
//! Skipped, with a note, where `openssl` is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use tongban_crypto::{PublicKey, SignatureAlgorithm, Signer, SoftwareSigner, verify};

fn openssl_available() -> bool {
    let found = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("note: `openssl` is not installed; the interoperability checks are skipped");
    }
    found
}

fn work_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tongban-openssl-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn openssl(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl")
}

/// DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` from r‖s.
fn der_signature(raw: &[u8]) -> Vec<u8> {
    fn integer(bytes: &[u8]) -> Vec<u8> {
        let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
        let mut value = if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
            vec![0]
        } else {
            Vec::new()
        };
        value.extend_from_slice(&trimmed);
        let mut out = vec![0x02, value.len() as u8];
        out.extend(value);
        out
    }
    let body = [integer(&raw[..32]), integer(&raw[32..])].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

/// r‖s from a DER `ECDSA-Sig-Value`.
fn raw_signature(der: &[u8]) -> Vec<u8> {
    assert_eq!(der[0], 0x30);
    let mut at = 2;
    let mut out = Vec::new();
    for _ in 0..2 {
        assert_eq!(der[at], 0x02);
        let len = usize::from(der[at + 1]);
        let value = &der[at + 2..at + 2 + len];
        let value: Vec<u8> = value.iter().copied().skip_while(|&b| b == 0).collect();
        out.extend(std::iter::repeat_n(0, 32 - value.len()));
        out.extend(value);
        at += 2 + len;
    }
    out
}

/// The pkeyutl options of each suite (digest and SM2 distinguishing ID).
fn pkeyutl_options(algorithm: SignatureAlgorithm) -> Vec<&'static str> {
    match algorithm {
        SignatureAlgorithm::Ed25519 => vec!["-rawin"],
        SignatureAlgorithm::Es256 => vec!["-rawin", "-digest", "sha256"],
        SignatureAlgorithm::Sm2Sm3 => vec![
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            "distid:1234567812345678",
        ],
    }
}

#[test]
fn openssl_verifies_what_tongban_signs() {
    if !openssl_available() {
        return;
    }
    for algorithm in SignatureAlgorithm::ALL {
        let dir = work_dir(algorithm.as_str());
        let signer = SoftwareSigner::generate(algorithm, "interop");
        let message = "通办 interoperability check".as_bytes();
        let signature = signer.sign(message);
        let encoded = if algorithm == SignatureAlgorithm::Ed25519 {
            signature.clone()
        } else {
            der_signature(&signature)
        };
        std::fs::write(dir.join("pub.der"), signer.public_key().to_spki_der()).expect("write");
        std::fs::write(dir.join("msg"), message).expect("write");
        std::fs::write(dir.join("sig"), &encoded).expect("write");
        let mut args = vec![
            "pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey", "pub.der", "-in", "msg",
            "-sigfile", "sig",
        ];
        args.extend(pkeyutl_options(algorithm));
        let output = openssl(&args, &dir);
        assert!(
            output.status.success(),
            "{algorithm}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );

        std::fs::write(dir.join("msg"), b"another message").expect("write");
        assert!(
            !openssl(&args, &dir).status.success(),
            "{algorithm}: openssl must refuse a changed message"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn tongban_verifies_what_openssl_signs() {
    if !openssl_available() {
        return;
    }
    for algorithm in SignatureAlgorithm::ALL {
        let dir = work_dir(&format!("rev-{}", algorithm.as_str()));
        let generate: &[&str] = match algorithm {
            SignatureAlgorithm::Ed25519 => &["genpkey", "-algorithm", "ed25519", "-out", "key.pem"],
            SignatureAlgorithm::Es256 => &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "key.pem",
            ],
            SignatureAlgorithm::Sm2Sm3 => &["genpkey", "-algorithm", "SM2", "-out", "key.pem"],
        };
        assert!(
            openssl(generate, &dir).status.success(),
            "{algorithm}: genpkey"
        );
        assert!(
            openssl(
                &[
                    "pkey", "-in", "key.pem", "-pubout", "-outform", "DER", "-out", "pub.der"
                ],
                &dir
            )
            .status
            .success()
        );
        let message = b"signed by openssl";
        std::fs::write(dir.join("msg"), message).expect("write");
        let mut args = vec![
            "pkeyutl", "-sign", "-inkey", "key.pem", "-in", "msg", "-out", "sig",
        ];
        args.extend(pkeyutl_options(algorithm));
        let output = openssl(&args, &dir);
        assert!(
            output.status.success(),
            "{algorithm}: {}",
            String::from_utf8_lossy(&output.stderr)
        );

        let public = PublicKey::from_spki_der(&std::fs::read(dir.join("pub.der")).expect("read"))
            .expect("tongban reads the openssl key");
        assert_eq!(public.algorithm, algorithm);
        let signature = std::fs::read(dir.join("sig")).expect("read");
        let raw = if algorithm == SignatureAlgorithm::Ed25519 {
            signature
        } else {
            raw_signature(&signature)
        };
        assert_eq!(verify(&public, message, &raw), Ok(()), "{algorithm}");
        assert!(
            verify(&public, b"signed by someone else", &raw).is_err(),
            "{algorithm}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
