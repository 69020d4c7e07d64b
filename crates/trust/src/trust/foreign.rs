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

/// Whom a foreign credential names, to find a resident of this region who shows one: the
/// name's spellings as the card gives them (surname first) and the birth date. Neither shown
/// nor kept.
#[derive(Debug, Clone, Default)]
pub struct Holder {
    pub names: Vec<Vec<String>>,
    pub birth_date: Option<time::Date>,
}

impl Holder {
    /// The name spellings as the matcher takes them.
    pub fn name_parts(&self) -> Vec<Vec<&str>> {
        self.names
            .iter()
            .map(|parts| parts.iter().map(String::as_str).collect())
            .collect()
    }
}

/// A full date `YYYY-MM-DD` (a time after it is ignored); None for a year or month alone.
fn full_date(text: &str) -> Option<time::Date> {
    let mut parts = text.get(..10)?.split('-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

/// The holder of an EU DCC: the ICAO-transliterated names (`fnt`, `gnt`), the names as
/// written (`fn`, `gn`), and `dob`.
fn dcc_holder(hcert: &Value) -> Holder {
    let field = |name: &str| {
        hcert
            .pointer(&format!("/nam/{name}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut names = Vec::new();
    for (surname, given) in [("fnt", "gnt"), ("fn", "gn")] {
        let given = field(given);
        // Also with the first given name alone: a resident may have registered without the
        // others.
        let first = given
            .split(['<', ' '])
            .find(|g| !g.is_empty())
            .unwrap_or_default()
            .to_owned();
        for parts in [
            vec![field(surname), given.clone()],
            vec![field(surname), first],
        ] {
            if parts.iter().any(|p| !p.is_empty()) && !names.contains(&parts) {
                names.push(parts);
            }
        }
    }
    Holder {
        names,
        birth_date: hcert.get("dob").and_then(Value::as_str).and_then(full_date),
    }
}

/// The holder of a SMART Health Card: the Patient's names (family, then given) and birth date.
fn shc_holder(bundle: &Value) -> Holder {
    let Some(patient) = bundle
        .get("entry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.get("resource"))
        .find(|resource| resource.get("resourceType") == Some(&json!("Patient")))
    else {
        return Holder::default();
    };
    let names = patient
        .get("name")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(4)
        .map(|name| {
            let mut parts: Vec<String> = name
                .get("family")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .into_iter()
                .collect();
            parts.extend(
                name.get("given")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned),
            );
            parts
        })
        .filter(|parts: &Vec<String>| !parts.is_empty())
        // Also with the first given name alone.
        .flat_map(|parts| {
            let first: Vec<String> = parts.iter().take(2).cloned().collect();
            if first.len() < parts.len() {
                vec![parts, first]
            } else {
                vec![parts]
            }
        })
        .collect();
    Holder {
        names,
        birth_date: patient
            .get("birthDate")
            .and_then(Value::as_str)
            .and_then(full_date),
    }
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
) -> AppResult<Result<(ForeignCredential, bool, Holder), String>> {
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
    Ok(Ok((credential, accepted, shc_holder(&card.bundle))))
}

/// Verifies an EU DCC against the signers and schemas trusted here and applies the visitors'
/// rule. The rule sees what was verified and, laid out as EU business rules read it, the
/// certificate under `payload` and the moment under `external.validationClock`; none of it is
/// kept.
pub async fn check_dcc(
    state: &AppState,
    code: &str,
) -> AppResult<Result<(ForeignCredential, bool, Holder), String>> {
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
    Ok(Ok((credential, accepted, dcc_holder(&claims.hcert))))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dcc_names_its_holder_as_transliterated_and_as_written() {
        let holder = dcc_holder(&json!({
            "nam": {"fn": "Lövström", "fnt": "LOEVSTROEM", "gn": "Oscar", "gnt": "OSCAR"},
            "dob": "1958-11-11",
        }));
        assert_eq!(
            holder.names,
            vec![vec!["LOEVSTROEM", "OSCAR"], vec!["Lövström", "Oscar"]]
        );
        assert_eq!(
            holder.birth_date,
            time::Date::from_calendar_date(1958, time::Month::November, 11).ok()
        );
        // A year or a month alone names no day: nobody is matched on it.
        for partial in ["1958", "1958-11", "", "1958-13-01", "19581111"] {
            assert_eq!(
                dcc_holder(&json!({"dob": partial})).birth_date,
                None,
                "{partial}"
            );
        }
        assert!(dcc_holder(&json!({})).names.is_empty());
        let two = dcc_holder(&json!({"nam": {"fnt": "SMITH", "gnt": "JOHN<PAUL"}}));
        assert_eq!(
            two.names,
            vec![vec!["SMITH", "JOHN<PAUL"], vec!["SMITH", "JOHN"]]
        );
    }

    #[test]
    fn a_health_card_names_its_patient() {
        let holder = shc_holder(&json!({"entry": [
            {"resource": {"resourceType": "Immunization"}},
            {"resource": {"resourceType": "Patient", "name": [{"family": "Anyperson", "given": ["John", "B."]}], "birthDate": "1951-01-20"}},
        ]}));
        assert_eq!(
            holder.names,
            vec![vec!["Anyperson", "John", "B."], vec!["Anyperson", "John"]]
        );
        assert_eq!(
            holder.birth_date,
            time::Date::from_calendar_date(1951, time::Month::January, 20).ok()
        );
        assert!(shc_holder(&json!({"entry": "none"})).names.is_empty());
    }
}
