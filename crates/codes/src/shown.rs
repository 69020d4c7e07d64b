//! The shown certificate (亮证): a short-lived code a holder shows from their wallet, carrying
//! only the items they chose to reveal, signed by the platform. Same pipeline as the pass,
//! prefix `TC1:`. The issuer's own signature covers the whole certificate, so a subset cannot
//! carry it; the platform vouches that these items are those of certificate `certificate_id`,
//! and a verifier asks the platform for the certificate's status. Format:
//! docs/certificate-format.md.

use std::collections::BTreeMap;

use ciborium::value::Value as Cbor;
use coset::cwt::{ClaimName, ClaimsSet, ClaimsSetBuilder, Timestamp};
use tongban_crypto::{KeyRing, Signer};

use crate::pass::{PassError, check_time_and_issuer, open_claims, seconds, sign_claims};

/// The text prefix of shown certificates.
pub const SHOWN_PREFIX: &str = "TC1:";
/// The private CWT claim that holds the shown certificate.
const SHOWN_CLAIM: i64 = -70200;

/// What a shown certificate says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShownClaims {
    /// The platform that vouches, e.g. `tongban.339900`.
    pub issuer: String,
    /// The GB/T 36904 identifier, for the status lookup.
    pub certificate_id: String,
    pub type_name: String,
    pub issuing_authority: String,
    /// The holder's name, masked.
    pub holder: String,
    /// The items the holder chose to show, as text.
    pub items: BTreeMap<String, String>,
    pub valid_until: Option<String>,
    /// Unix seconds.
    pub issued_at: i64,
    pub expires_at: i64,
}

/// Signs a shown certificate and returns its text (`TC1:…`).
pub fn issue_shown(claims: &ShownClaims, signer: &dyn Signer) -> String {
    let text = |s: &str| Cbor::Text(s.to_owned());
    let fields = Cbor::Map(vec![
        (Cbor::Integer(1.into()), text(&claims.certificate_id)),
        (Cbor::Integer(2.into()), text(&claims.type_name)),
        (Cbor::Integer(3.into()), text(&claims.issuing_authority)),
        (Cbor::Integer(4.into()), text(&claims.holder)),
        (
            Cbor::Integer(5.into()),
            Cbor::Map(
                claims
                    .items
                    .iter()
                    .map(|(k, v)| (text(k), text(v)))
                    .collect(),
            ),
        ),
        (
            Cbor::Integer(6.into()),
            claims.valid_until.as_deref().map_or(Cbor::Null, text),
        ),
    ]);
    let claims_set = ClaimsSetBuilder::new()
        .issuer(claims.issuer.clone())
        .issued_at(Timestamp::WholeSeconds(claims.issued_at))
        .expiration_time(Timestamp::WholeSeconds(claims.expires_at))
        .private_claim(SHOWN_CLAIM, fields)
        .build();
    sign_claims(SHOWN_PREFIX, claims_set, signer)
}

fn shown_fields(claims: &ClaimsSet) -> Option<ShownFields> {
    let (_, value) = claims
        .rest
        .iter()
        .find(|(name, _)| *name == ClaimName::PrivateUse(SHOWN_CLAIM))?;
    let Cbor::Map(entries) = value else {
        return None;
    };
    let field = |key: i64| {
        entries
            .iter()
            .find(|(k, _)| {
                k.as_integer()
                    .is_some_and(|i| i128::from(i) == i128::from(key))
            })
            .map(|(_, v)| v)
    };
    let text = |key: i64| field(key).and_then(Cbor::as_text).map(str::to_owned);
    let items = field(5)?
        .as_map()?
        .iter()
        .map(|(k, v)| Some((k.as_text()?.to_owned(), v.as_text()?.to_owned())))
        .collect::<Option<BTreeMap<_, _>>>()?;
    let valid_until = match field(6)? {
        Cbor::Null => None,
        other => Some(other.as_text()?.to_owned()),
    };
    Some(ShownFields {
        certificate_id: text(1)?,
        type_name: text(2)?,
        issuing_authority: text(3)?,
        holder: text(4)?,
        items,
        valid_until,
    })
}

struct ShownFields {
    certificate_id: String,
    type_name: String,
    issuing_authority: String,
    holder: String,
    items: BTreeMap<String, String>,
    valid_until: Option<String>,
}

/// Verifies a shown certificate offline: decoding with limits, key, signature, claims, expiry
/// and the vouching platform. The certificate's status needs the online check.
pub fn verify_shown(
    text: &str,
    keys: &KeyRing,
    now: i64,
    trusted_issuers: &[String],
) -> Result<ShownClaims, PassError> {
    let claims = open_claims(SHOWN_PREFIX, text, keys)?;
    let issuer = claims.issuer.clone().ok_or(PassError::BadClaims)?;
    let issued_at = seconds(claims.issued_at.as_ref()).ok_or(PassError::BadClaims)?;
    let expires_at = seconds(claims.expiration_time.as_ref()).ok_or(PassError::BadClaims)?;
    let fields = shown_fields(&claims).ok_or(PassError::BadClaims)?;
    check_time_and_issuer(&issuer, issued_at, expires_at, now, trusted_issuers)?;
    Ok(ShownClaims {
        issuer,
        certificate_id: fields.certificate_id,
        type_name: fields.type_name,
        issuing_authority: fields.issuing_authority,
        holder: fields.holder,
        items: fields.items,
        valid_until: fields.valid_until,
        issued_at,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tongban_crypto::{SignatureAlgorithm, SoftwareSigner};

    fn claims() -> ShownClaims {
        let mut items = BTreeMap::new();
        items.insert("name".to_owned(), "临江清源食品有限公司".to_owned());
        ShownClaims {
            issuer: "tongban.339900".into(),
            certificate_id: "1.2.156.3005.2.X".into(),
            type_name: "营业执照".into(),
            issuing_authority: "临江市市场监督管理局".into(),
            holder: "临江清源食品有限公司".into(),
            items,
            valid_until: None,
            issued_at: 1_800_000_000,
            expires_at: 1_800_000_300,
        }
    }

    #[test]
    fn a_shown_certificate_verifies_and_refuses_what_a_pass_refuses() {
        let signer = SoftwareSigner::generate(SignatureAlgorithm::Ed25519, "show-1");
        let mut keys = KeyRing::new();
        keys.insert("show-1", signer.public_key());
        let trusted = ["tongban.339900".to_owned()];
        let code = issue_shown(&claims(), &signer);
        assert!(code.starts_with(SHOWN_PREFIX));
        assert_eq!(
            verify_shown(&code, &keys, 1_800_000_100, &trusted),
            Ok(claims())
        );
        assert_eq!(
            verify_shown(&code, &keys, 1_800_000_300, &trusted),
            Err(PassError::Expired)
        );
        assert_eq!(
            verify_shown(&code, &keys, 1_800_000_100, &["tongban.110000".to_owned()]),
            Err(PassError::UntrustedIssuer)
        );
        // A pass is not a shown certificate, nor the other way round.
        let pass_like = code.replacen(SHOWN_PREFIX, crate::PASS_PREFIX, 1);
        assert!(verify_shown(&pass_like, &keys, 1_800_000_100, &trusted).is_err());
        let mut cut = code.clone();
        cut.truncate(code.len() - 4);
        assert!(verify_shown(&cut, &keys, 1_800_000_100, &trusted).is_err());
    }
}
