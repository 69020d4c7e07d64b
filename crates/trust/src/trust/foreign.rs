//! Foreign credentials at the door: a SMART Health Card or an EU DCC scanned at a venue or
//! checkpoint is verified against the issuers this region trusts (configured locally), and the region's
//! acceptance rule for visitors — a CertLogic expression, the engine of the health policy —
//! decides admission from what was verified. The answer says what was verified: format,
//! issuer, credential types, validity.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tongban_codes::shc::{self, Crl, Issuers, Jwks};

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// What the verifier learnt of a foreign credential.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ForeignCredential {
    /// `shc` or `dcc`.
    pub format: String,
    pub issuer: String,
    /// The credential's types (e.g. `https://smarthealth.cards#immunization`; for a DCC
    /// `vaccination`, `test` or `recovery`).
    pub types: Vec<String>,
    /// For the checker to compare with the person's papers: the initials of the surname and
    /// given name, masked (`L*O`), when the credential names the holder in Latin letters.
    pub initials: Option<String>,
    /// RFC 3339.
    pub valid_from: String,
    pub valid_until: Option<String>,
}

/// The rule used until an administrator sets one: a health card of an immunization is
/// accepted; an EU DCC (its signer, validity and key usage checked before the rule runs) of a
/// vaccination or a recovery is accepted, and of a test only when the result is "not
/// detected" (SNOMED CT 260415000). A card of a laboratory result says nothing of the result
/// to the rule, so it is not accepted by default, and a positive test never is.
pub fn default_rule() -> Value {
    // CertLogic has no `or`: `if` stands in for it.
    json!({"if": [
        {"in": ["https://smarthealth.cards#immunization", {"var": "types"}]},
        true,
        {"if": [
            {"===": [{"var": "format"}, "dcc"]},
            {"if": [
                {"var": "payload.v.0"},
                true,
                {"if": [
                    {"var": "payload.r.0"},
                    true,
                    {"===": [{"var": "payload.t.0.tr"}, "260415000"]}
                ]}
            ]},
            false
        ]}
    ]})
}

pub async fn visitor_rule(state: &AppState) -> AppResult<Value> {
    match super::store::visitor_rule(state.pool()).await? {
        Some(text) => serde_json::from_str(&text).map_err(|e| AppError::Internal(e.into())),
        None => Ok(default_rule()),
    }
}

/// Sets the visitors' acceptance rule (checked as CertLogic first). Logged.
pub async fn set_visitor_rule(state: &AppState, rule: &Value, by: &str) -> AppResult<()> {
    if let Some(issue) = tongban_rules::validate(rule).into_iter().next() {
        return Err(AppError::invalid(
            "rule",
            format!("not a valid CertLogic expression: {issue:?}"),
        ));
    }
    let entry = json!({
        "kind": "visitor_rule_set",
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": by,
        "rule": rule,
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    super::store::set_visitor_rule(state.pool(), &rule.to_string(), state.now(), by).await
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuerRequest {
    /// The issuer's `iss` URL, exactly as its cards carry it.
    pub iss: String,
    /// Its JWKS (`<iss>/.well-known/jwks.json`).
    #[schema(value_type = Object)]
    pub jwks: Value,
    /// Its revocation lists (`<iss>/.well-known/crl/<kid>.json`), if any.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub crls: Vec<Value>,
}

/// Checks an issuer request: an https issuer, a JWKS with keys, revocation lists of its keys.
/// Returns the issuer, the JWKS and the lists as stored.
pub fn check_shc_issuer(request: &IssuerRequest) -> AppResult<(String, Jwks, Vec<Value>)> {
    let iss = request.iss.trim();
    if !iss.starts_with("https://") || iss.ends_with('/') || iss.len() > 300 {
        return Err(AppError::invalid(
            "iss",
            "an https:// URL without a trailing slash",
        ));
    }
    let jwks: Jwks = serde_json::from_value(request.jwks.clone())
        .map_err(|_| AppError::invalid("jwks", "not a JWKS"))?;
    if jwks.keys.is_empty() {
        return Err(AppError::invalid("jwks", "no keys"));
    }
    let mut crls = Vec::new();
    for crl in &request.crls {
        let crl: Crl = serde_json::from_value(crl.clone())
            .map_err(|_| AppError::invalid("crls", "not a revocation list"))?;
        if !jwks.keys.iter().any(|k| k.kid == crl.kid) {
            return Err(AppError::invalid(
                "crls",
                format!("no key {} in the JWKS", crl.kid),
            ));
        }
        crls.push(serde_json::json!({"kid": crl.kid, "method": crl.method, "ctr": crl.ctr, "rids": crl.rids}));
    }
    Ok((iss.to_owned(), jwks, crls))
}

/// Trusts (or refreshes) a SMART Health Card issuer. Logged.
pub async fn set_shc_issuer(state: &AppState, request: &IssuerRequest, by: &str) -> AppResult<()> {
    let (iss, jwks, crls) = check_shc_issuer(request)?;
    let iss = iss.as_str();
    let entry = json!({
        "kind": "shc_issuer_trusted",
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": by,
        "iss": iss,
        "keys": jwks.keys.iter().map(|k| &k.kid).collect::<Vec<_>>(),
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    super::store::upsert_shc_issuer(
        state.pool(),
        iss,
        &request.jwks.to_string(),
        &Value::Array(crls).to_string(),
        state.now(),
    )
    .await
}

async fn shc_issuers(state: &AppState) -> AppResult<Issuers> {
    let rows = super::store::shc_issuers(state.pool()).await?;
    let mut issuers = Issuers {
        jwks: BTreeMap::new(),
        crls: BTreeMap::new(),
    };
    for (iss, jwks, crls) in rows {
        let (Ok(jwks), Ok(crls)) = (
            serde_json::from_str::<Jwks>(&jwks),
            serde_json::from_str::<Vec<Crl>>(&crls),
        ) else {
            continue;
        };
        issuers.jwks.insert(iss, jwks);
        for crl in crls {
            issuers.crls.insert(crl.kid.clone(), crl);
        }
    }
    Ok(issuers)
}

/// Whether a scanned text is a SMART Health Card (QR text or a bare JWS).
pub fn is_shc(code: &str) -> bool {
    let code = code.trim();
    code.starts_with(shc::SHC_PREFIX) || (code.starts_with("eyJ") && code.matches('.').count() == 2)
}

/// Verifies a SMART Health Card and applies the visitors' rule. `Ok(Err(reason))` when the
/// card is refused.
pub async fn check_shc(
    state: &AppState,
    code: &str,
) -> AppResult<Result<(ForeignCredential, bool), String>> {
    let issuers = shc_issuers(state).await?;
    let now = state.now() / 1000;
    let cards = match shc::verify_any(code.trim(), &issuers, now) {
        Ok(cards) => cards,
        Err(error) => return Ok(Err(error.code().to_owned())),
    };
    let Some(card) = cards.into_iter().next() else {
        return Ok(Err("bad_jws".into()));
    };
    let credential = ForeignCredential {
        format: "shc".into(),
        issuer: card.issuer.clone(),
        types: card.types.clone(),
        initials: None,
        valid_from: crate::time_fmt::rfc3339(card.not_before * 1000),
        valid_until: card.expires.map(|e| crate::time_fmt::rfc3339(e * 1000)),
    };
    let data = json!({
        "format": "shc",
        "issuer": card.issuer,
        "types": card.types,
        "validFrom": credential.valid_from,
        "validUntil": credential.valid_until,
        "validationClock": crate::time_fmt::rfc3339(state.now()),
    });
    let accepted = admits(state, &data).await?;
    Ok(Ok((credential, accepted)))
}

/// Verifies an EU DCC against the signers and schemas trusted here and applies the visitors'
/// rule. The rule sees what was verified and, laid out as EU business rules read it, the
/// certificate under `payload` and the moment under `external.validationClock`; none of it is
/// kept.
pub async fn check_dcc(
    state: &AppState,
    code: &str,
) -> AppResult<Result<(ForeignCredential, bool), String>> {
    let verified = match super::dcc::check(state, code).await? {
        Ok(verified) => verified,
        Err(reason) => return Ok(Err(reason)),
    };
    let claims = &verified.claims;
    let credential = ForeignCredential {
        format: "dcc".into(),
        issuer: claims
            .issuer
            .clone()
            .unwrap_or_else(|| verified.signer.clone()),
        types: vec![verified.cert_type.as_str().to_owned()],
        initials: dcc_initials(&claims.hcert),
        valid_from: crate::time_fmt::rfc3339(claims.issued_at.saturating_mul(1000)),
        valid_until: Some(crate::time_fmt::rfc3339(
            claims.expires_at.saturating_mul(1000),
        )),
    };
    let data = json!({
        "format": "dcc",
        "issuer": credential.issuer,
        "types": credential.types,
        "validFrom": credential.valid_from,
        "validUntil": credential.valid_until,
        "validationClock": crate::time_fmt::rfc3339(state.now()),
        "payload": claims.hcert,
        "external": {"validationClock": crate::time_fmt::rfc3339(state.now())},
    });
    let accepted = admits(state, &data).await?;
    Ok(Ok((credential, accepted)))
}

/// Whether the visitors' rule admits what was verified.
async fn admits(state: &AppState, data: &Value) -> AppResult<bool> {
    let rule = visitor_rule(state).await?;
    // A rule that fails to evaluate admits no one.
    Ok(match tongban_rules::evaluate_json(&rule, data) {
        Ok(outcome) => outcome == Value::Bool(true),
        Err(error) => {
            tracing::warn!(%error, "the visitors' rule could not be evaluated; not admitted");
            false
        }
    })
}

/// The masked initials of a DCC holder, from the ICAO-transliterated names (`fnt`, `gnt`).
fn dcc_initials(hcert: &Value) -> Option<String> {
    let initial = |field: &str| {
        hcert
            .pointer(&format!("/nam/{field}"))
            .and_then(Value::as_str)
            .and_then(|name| name.chars().find(char::is_ascii_alphabetic))
    };
    match (initial("fnt"), initial("gnt")) {
        (Some(surname), Some(given)) => Some(format!("{surname}*{given}")),
        (Some(surname), None) => Some(format!("{surname}*")),
        _ => None,
    }
}
