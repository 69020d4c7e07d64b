//! Status lists and annotated copies: a list tells each certificate's status by its own bit and
//! no other; a list from another issuer, a stale one, a tampered one or a compression bomb is
//! refused; a copy verifies until its expiry and not after, and no part of it can be changed.

use tongban_certs::copy::{self, AnnotatedCopy, Annotation};
use tongban_certs::status::{self, ListedStatus, StatusList};
use tongban_certs::{Authority, CertError, StatusEntry, sign};
use tongban_crypto::{SignatureAlgorithm, SoftwareSigner};

mod common;
use common::{licence, ring};

const NOW: i64 = 1_795_000_000;

fn list(revoked: &[u64], suspended: &[u64]) -> StatusList {
    let c = licence();
    StatusList {
        id: format!("{}/{}", c.issuer.code, c.type_code),
        issuer: c.issuer.clone(),
        type_code: c.type_code.clone(),
        issued_at: NOW,
        valid_until: NOW + 600,
        revocation: status::encode(status::list_bits(1000), revoked.iter().copied()),
        suspension: status::encode(status::list_bits(1000), suspended.iter().copied()),
    }
}

fn at_index(index: u64) -> tongban_certs::Certificate {
    let mut c = licence();
    c.status = Some(StatusEntry {
        list: format!("{}/{}", c.issuer.code, c.type_code),
        index,
    });
    c
}

#[test]
fn each_certificate_reads_its_own_bit() {
    let signer = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "scjgj");
    let signed_list = status::sign(list(&[0, 9, 131_071], &[9, 10]), &signer);
    status::verify(&signed_list, &ring(&signer), NOW + 1).expect("current list");
    let expect = [
        (0, ListedStatus::Revoked),
        (1, ListedStatus::Valid),
        (8, ListedStatus::Valid),
        (9, ListedStatus::Revoked),
        (10, ListedStatus::Suspended),
        (11, ListedStatus::Valid),
        (131_071, ListedStatus::Revoked),
    ];
    for (index, want) in expect {
        let cert = sign(at_index(index), &signer).expect("signs");
        assert_eq!(
            status::status_of(&signed_list, &cert),
            Ok(want),
            "bit {index}"
        );
    }
    // Past the end of the list: the verifier needs a newer list.
    let later = sign(at_index(131_072), &signer).expect("signs");
    assert_eq!(
        status::status_of(&signed_list, &later),
        Err(CertError::BadStatusList)
    );
}

#[test]
fn lists_hold_at_least_sixteen_kibibytes_and_compress() {
    let encoded = status::encode(status::list_bits(5), [3]);
    let bytes = status::decode(&encoded).expect("decodes");
    assert_eq!(bytes.len(), 16 * 1024);
    assert!(encoded.len() < 200, "an almost empty list compresses");
    assert_eq!(bytes[0], 0b0001_0000);
}

#[test]
fn a_stale_foreign_or_tampered_list_is_refused() {
    let signer = SoftwareSigner::generate(SignatureAlgorithm::Es256, "scjgj");
    let keys = ring(&signer);
    let signed_list = status::sign(list(&[], &[]), &signer);
    assert_eq!(
        status::verify(&signed_list, &keys, NOW + 601),
        Err(CertError::BadStatusList)
    );
    let mut tampered = signed_list.clone();
    tampered.list.revocation = status::encode(status::list_bits(0), [4]);
    assert_eq!(
        status::verify(&tampered, &keys, NOW),
        Err(CertError::BadSignature)
    );
    let stranger = SoftwareSigner::generate(SignatureAlgorithm::Es256, "scjgj");
    assert_eq!(
        status::verify(&signed_list, &ring(&stranger), NOW),
        Err(CertError::BadSignature)
    );
    // A list of another type does not speak for this certificate.
    let mut other = list(&[], &[]);
    other.type_code.push('9');
    let other = status::sign(other, &signer);
    let cert = sign(at_index(4), &signer).expect("signs");
    assert_eq!(
        status::status_of(&other, &cert),
        Err(CertError::BadStatusList)
    );
    // A certificate without a status entry has no place in any list.
    let bare = sign(licence(), &signer).expect("signs");
    assert_eq!(
        status::status_of(&signed_list, &bare),
        Err(CertError::BadStatusList)
    );
}

#[test]
fn a_compression_bomb_or_garbage_is_refused() {
    use std::io::Write as _;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..20 {
        gzip.write_all(&zeros).expect("writes");
    }
    let bomb = gzip.finish().expect("gzip");
    use base64::Engine as _;
    let encoded = format!(
        "u{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bomb)
    );
    assert_eq!(status::decode(&encoded), Err(CertError::BadStatusList));
    for garbage in ["", "u", "zAAAA", "u!!!!", "uH4sIAAAAAAAA"] {
        assert_eq!(status::decode(garbage), Err(CertError::BadStatusList));
    }
}

fn annotation(used_at: &str, expires_at: &str) -> Annotation {
    Annotation {
        use_id: "0193-use".into(),
        using_unit: Authority {
            name: "临江市税务局".into(),
            code: "11350100M000200Y4X".into(),
        },
        service_code: "TAX-REG-001".into(),
        service_name: "税务登记".into(),
        cause: "办理税务登记核验营业执照".into(),
        basis: "consent".into(),
        used_at: used_at.into(),
        expires_at: expires_at.into(),
    }
}

#[test]
fn a_copy_verifies_until_it_expires() {
    let issuer = SoftwareSigner::generate(SignatureAlgorithm::Sm2Sm3, "scjgj");
    let platform = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "platform");
    let copy = AnnotatedCopy {
        certificate: sign(licence(), &issuer).expect("signs"),
        annotation: annotation("2026-11-26T10:00:00+08:00", "2026-12-03T10:00:00+08:00"),
    };
    let signed = copy::sign(copy, &platform).expect("signs");
    let (platform_keys, issuer_keys) = (ring(&platform), ring(&issuer));
    let before = time::macros::datetime!(2026-12-03 01:59:59 UTC).unix_timestamp();
    let after = before + 1;
    assert_eq!(
        copy::verify(&signed, &platform_keys, &issuer_keys, before),
        Ok(())
    );
    assert_eq!(
        copy::verify(&signed, &platform_keys, &issuer_keys, after),
        Err(CertError::CopyExpired)
    );
    // Neither the annotation nor the certificate inside can be changed.
    let mut later = signed.clone();
    later.copy.annotation.expires_at = "2027-12-03T10:00:00+08:00".into();
    let mut cause = signed.clone();
    cause.copy.annotation.cause.push('等');
    let mut items = signed.clone();
    items.copy.certificate.certificate.number.push('1');
    for forged in [later, cause] {
        assert_eq!(
            copy::verify(&forged, &platform_keys, &issuer_keys, before),
            Err(CertError::BadSignature)
        );
    }
    assert_eq!(
        copy::verify(&items, &platform_keys, &issuer_keys, before),
        Err(CertError::BadSignature)
    );
    // A copy signed by anyone but the platform is refused.
    assert_eq!(
        copy::verify(&signed, &issuer_keys, &issuer_keys, before),
        Err(CertError::UnknownKey)
    );
}

#[test]
fn a_copy_must_expire_after_it_is_made() {
    let platform = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "platform");
    let issuer = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "scjgj");
    for (used, expires) in [
        ("2026-11-26T10:00:00+08:00", "2026-11-26T10:00:00+08:00"),
        ("2026-11-26T10:00:00+08:00", "yesterday"),
    ] {
        let copy = AnnotatedCopy {
            certificate: sign(licence(), &issuer).expect("signs"),
            annotation: annotation(used, expires),
        };
        assert_eq!(copy::sign(copy, &platform).err(), Some(CertError::BadDates));
    }
}
