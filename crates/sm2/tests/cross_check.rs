//! The specialised implementation against RustCrypto's `sm2` crate (the reference) and the
//! `openssl` command line: byte-equal deterministic signatures, and each side verifying the
//! other's.

use sm2::dsa::signature::{Signer as _, Verifier as _};
use tongban_sm2::{DEFAULT_ID, Error, SigningKey, VerifyingKey};

/// A reproducible stream of bytes (SplitMix64): the same keys and messages on every run.
struct Stream(u64);

impl Stream {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    fn key(&mut self) -> (Vec<u8>, SigningKey, sm2::dsa::SigningKey) {
        loop {
            let secret = self.bytes(32);
            let ours = SigningKey::from_bytes(&secret, DEFAULT_ID);
            let theirs = sm2::dsa::SigningKey::from_slice("1234567812345678", &secret);
            match (ours, theirs) {
                (Ok(ours), Ok(theirs)) => return (secret, ours, theirs),
                (Err(_), Err(_)) => continue,
                (ours, theirs) => panic!(
                    "the implementations disagree on a key: {:?} / {:?}",
                    ours.is_ok(),
                    theirs.is_ok()
                ),
            }
        }
    }
}

#[test]
fn signatures_are_the_references_bytes_and_each_verifies_the_others() {
    let mut stream = Stream(0x5eed_0001);
    for round in 0..64 {
        let (_, ours, theirs) = stream.key();
        let public = theirs.verifying_key().to_sec1_bytes();
        assert_eq!(ours.verifying_key().to_sec1().as_slice(), &public[..]);
        let len = (stream.next() % 300) as usize;
        let message = stream.bytes(len);

        let signature = ours.sign(&message);
        let reference: sm2::dsa::Signature = theirs.sign(&message);
        assert_eq!(signature, reference.to_bytes().as_slice(), "round {round}");

        let verifying = VerifyingKey::from_sec1(&public, DEFAULT_ID).expect("public key");
        let prepared = verifying.clone().with_table();
        assert_eq!(verifying.verify(&message, &signature), Ok(()));
        assert_eq!(prepared.verify(&message, &signature), Ok(()));
        let parsed = sm2::dsa::Signature::from_slice(&signature).expect("signature");
        assert!(theirs.verifying_key().verify(&message, &parsed).is_ok());

        // Any flipped bit in the message or the signature fails on both sides alike.
        let mut tampered = signature;
        let bit = (stream.next() % 512) as usize;
        tampered[bit / 8] ^= 1 << (bit % 8);
        let theirs_accepts = sm2::dsa::Signature::from_slice(&tampered)
            .map(|s| theirs.verifying_key().verify(&message, &s).is_ok())
            .unwrap_or(false);
        assert!(!theirs_accepts);
        assert_eq!(
            verifying.verify(&message, &tampered),
            Err(Error::BadSignature)
        );
        assert_eq!(
            prepared.verify(&message, &tampered),
            Err(Error::BadSignature)
        );
        let mut other = message.clone();
        other.push(0);
        assert_eq!(
            verifying.verify(&other, &signature),
            Err(Error::BadSignature)
        );
    }
}

#[test]
fn malformed_keys_and_signatures_are_refused_not_misread() {
    let mut stream = Stream(0x5eed_0002);
    let (_, ours, _) = stream.key();
    let public = ours.verifying_key().to_sec1();
    let signature = ours.sign(b"x");
    let key = VerifyingKey::from_sec1(&public, DEFAULT_ID).expect("key");

    // Compressed form of the same key verifies the same signature.
    let mut compressed = [0u8; 33];
    compressed[0] = 2 + (public[64] & 1);
    compressed[1..].copy_from_slice(&public[1..33]);
    let decompressed = VerifyingKey::from_sec1(&compressed, DEFAULT_ID).expect("compressed");
    assert_eq!(decompressed.to_sec1(), public);
    assert_eq!(decompressed.verify(b"x", &signature), Ok(()));

    // A point off the curve, a coordinate at or above p, wrong lengths and tags.
    let mut off_curve = public;
    off_curve[64] ^= 1;
    assert_eq!(
        VerifyingKey::from_sec1(&off_curve, DEFAULT_ID).err(),
        Some(Error::BadKey)
    );
    let mut too_big = public;
    too_big[1..33].fill(0xff);
    assert!(VerifyingKey::from_sec1(&too_big, DEFAULT_ID).is_err());
    assert!(VerifyingKey::from_sec1(&public[..64], DEFAULT_ID).is_err());
    assert!(VerifyingKey::from_sec1(&[], DEFAULT_ID).is_err());
    let mut tag = public;
    tag[0] = 5;
    assert!(VerifyingKey::from_sec1(&tag, DEFAULT_ID).is_err());
    // An x with no point on the curve does not decompress (about half of all x).
    let refused = (0u8..40)
        .filter(|i| {
            let mut c = compressed;
            c[32] = *i;
            VerifyingKey::from_sec1(&c, DEFAULT_ID).is_err()
        })
        .count();
    assert!((5..35).contains(&refused), "{refused} of 40 refused");

    // r or s zero or not below n; wrong lengths.
    let order = hex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123");
    for bad in [
        [&[0u8; 32][..], &signature[32..]].concat(),
        [&signature[..32], &[0u8; 32][..]].concat(),
        [&order[..], &signature[32..]].concat(),
        [&signature[..32], &order[..]].concat(),
        signature[..63].to_vec(),
        [&signature[..], &[0u8][..]].concat(),
    ] {
        assert_eq!(key.verify(b"x", &bad), Err(Error::BadSignature));
    }
    // Secret keys outside [1, n − 2].
    assert!(SigningKey::from_bytes(&[0u8; 32], DEFAULT_ID).is_err());
    assert!(SigningKey::from_bytes(&order, DEFAULT_ID).is_err());
    let mut n_minus_1 = order.clone();
    n_minus_1[31] -= 1;
    assert!(SigningKey::from_bytes(&n_minus_1, DEFAULT_ID).is_err());
    assert!(SigningKey::from_bytes(&[1u8; 31], DEFAULT_ID).is_err());
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// The OpenSSL command line, when it is installed (it is on CI: `.ci/run` needs it for the
/// TLS certificates): signatures made by each side verify on the other.
#[test]
fn openssl_verifies_ours_and_we_verify_openssls() {
    use std::process::Command;
    let Ok(version) = Command::new("openssl").arg("version").output() else {
        assert!(
            std::env::var("CI").is_err(),
            "openssl is required under CI for the SM2 cross-check"
        );
        eprintln!("skipped: no openssl command");
        return;
    };
    eprintln!("{}", String::from_utf8_lossy(&version.stdout).trim());
    let dir = std::env::temp_dir().join(format!("tongban-sm2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = |name: &str| dir.join(name);
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl runs");
        (out.status.success(), out.stdout, out.stderr)
    };

    let (ok, _, err) = run(&[
        "genpkey",
        "-algorithm",
        "SM2",
        "-out",
        path("key.pem").to_str().expect("utf-8"),
    ]);
    assert!(ok, "{}", String::from_utf8_lossy(&err));
    // The private scalar and the public point, from OpenSSL's text dump.
    let (ok, text, _) = run(&[
        "pkey",
        "-in",
        path("key.pem").to_str().expect("utf-8"),
        "-text",
        "-noout",
    ]);
    assert!(ok);
    let text = String::from_utf8_lossy(&text);
    let field = |label: &str| -> Vec<u8> {
        let start = text.find(label).expect("field in dump") + label.len();
        let body: String = text[start..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with(' '))
            .collect::<String>()
            .replace([' ', ':'], "");
        hex(&body)
    };
    let mut secret = field("priv:");
    while secret.len() > 32 && secret[0] == 0 {
        secret.remove(0);
    }
    while secret.len() < 32 {
        secret.insert(0, 0);
    }
    let public = field("pub:");
    let ours = SigningKey::from_bytes(&secret, DEFAULT_ID).expect("OpenSSL's key");
    assert_eq!(ours.verifying_key().to_sec1().as_slice(), public.as_slice());

    let message = b"tongban: SM2 cross-check with OpenSSL";
    std::fs::write(path("msg"), message).expect("write");
    let key = path("key.pem");
    let msg = path("msg");
    let sig = path("sig.der");
    let args_for = |op: &str, extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "pkeyutl",
            op,
            "-rawin",
            "-digest",
            "sm3",
            "-inkey",
            key.to_str().expect("utf-8"),
            "-in",
            msg.to_str().expect("utf-8"),
            "-pkeyopt",
            "distid:1234567812345678",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };

    // OpenSSL signs, we verify.
    let sign = args_for("-sign", &["-out", sig.to_str().expect("utf-8")]);
    let (ok, _, err) = run(&sign.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ok, "{}", String::from_utf8_lossy(&err));
    let der = std::fs::read(&sig).expect("signature");
    let raw = der_to_raw(&der);
    let verifying = ours.verifying_key().clone();
    assert_eq!(verifying.verify(message, &raw), Ok(()));
    assert!(verifying.verify(b"other", &raw).is_err());

    // We sign, OpenSSL verifies (and refuses a tampered one).
    let signature = ours.sign(message);
    std::fs::write(&sig, raw_to_der(&signature)).expect("write");
    let verify = args_for("-verify", &["-sigfile", sig.to_str().expect("utf-8")]);
    let verify: Vec<&str> = verify.iter().map(String::as_str).collect();
    let (ok, out, err) = run(&verify);
    assert!(
        ok,
        "{}{}",
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&err)
    );
    let mut tampered = signature;
    tampered[40] ^= 1;
    std::fs::write(&sig, raw_to_der(&tampered)).expect("write");
    let (ok, _, _) = run(&verify);
    assert!(!ok, "OpenSSL refuses a tampered signature");
    let _ = std::fs::remove_dir_all(&dir);
}

/// SEQUENCE { INTEGER r, INTEGER s } (short lengths only: SM2 signatures are under 128 bytes).
fn der_to_raw(der: &[u8]) -> [u8; 64] {
    assert_eq!(der[0], 0x30);
    let mut at = 2;
    let mut out = [0u8; 64];
    for half in 0..2 {
        assert_eq!(der[at], 0x02);
        let len = der[at + 1] as usize;
        let mut value = &der[at + 2..at + 2 + len];
        while value.len() > 32 && value[0] == 0 {
            value = &value[1..];
        }
        out[half * 32 + 32 - value.len()..half * 32 + 32].copy_from_slice(value);
        at += 2 + len;
    }
    out
}

fn raw_to_der(raw: &[u8; 64]) -> Vec<u8> {
    let integer = |bytes: &[u8]| -> Vec<u8> {
        let mut value: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
        if value.first().is_none_or(|b| b & 0x80 != 0) {
            value.insert(0, 0);
        }
        [vec![0x02, value.len() as u8], value].concat()
    };
    let body = [integer(&raw[..32]), integer(&raw[32..])].concat();
    [vec![0x30, body.len() as u8], body].concat()
}
