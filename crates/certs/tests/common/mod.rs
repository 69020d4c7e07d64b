//! What the tests of certificates share: a business licence, instants, and a key ring.
#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::json;
use tongban_certs::{Authority, Certificate, Holder, HolderCodeType};
use tongban_core::{CertificateId, CertificateType};
use tongban_crypto::{KeyRing, Signer, SoftwareSigner};

pub const MARKET_REGULATOR: &str = "91350100M000100Y43";

/// An RFC 3339 instant as Unix seconds, as verifiers take the time of verification.
pub fn at(text: &str) -> i64 {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339")
        .unix_timestamp()
}

pub fn licence() -> Certificate {
    let authority = MARKET_REGULATOR.parse().expect("uscc");
    let kind = CertificateType::new(authority, 1).expect("type");
    let id = CertificateId::new(
        kind.clone(),
        MARKET_REGULATOR.parse().expect("uscc"),
        "LJ2026000001",
        1,
    )
    .expect("id");
    let mut items = BTreeMap::new();
    items.insert("name".to_owned(), json!("临江清源食品有限公司"));
    items.insert("registered_capital".to_owned(), json!("500万元"));
    items.insert("business_scope".to_owned(), json!(["食品销售", "餐饮服务"]));
    Certificate {
        id: id.to_string(),
        type_name: "营业执照".into(),
        type_code: kind.to_string(),
        number: "91339901MA2AAAAA1X".into(),
        holder: Holder {
            name: "临江清源食品有限公司".into(),
            code: "91339901MA2AAAAA1X".into(),
            code_type: HolderCodeType::Uscc,
        },
        issuer: Authority {
            name: "临江市市场监督管理局".into(),
            code: MARKET_REGULATOR.into(),
        },
        issued_on: "2026-01-15".into(),
        valid_from: "2026-01-15".into(),
        valid_until: Some("2046-01-14".into()),
        time_zone: Some(tongban_core::Zone::CHINA),
        region: "339900".into(),
        items,
        status: None,
    }
}

pub fn ring(signer: &SoftwareSigner) -> KeyRing {
    let mut ring = KeyRing::new();
    ring.insert(signer.kid(), signer.public_key());
    ring
}
