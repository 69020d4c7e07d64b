//! EU Digital COVID Certificates at the door. The administrator imports the document signer
//! certificates (DSC) this region trusts — a PEM bundle or the EU gateway's trust-list JSON —
//! and the DCC schema releases; a scanned `HC1:` code is then verified offline against them
//! ([`tongban_codes::dcc::verify`]) and admitted by the visitors' rule.
//!
//! The verifier (signers by key id, compiled schemas) is built once and kept until the stored
//! trust changes, on this node or another: each check compares a stamp of the two tables.

use std::sync::{Arc, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tongban_codes::csca::{self, ChainError, Csca};
use tongban_codes::dcc::{self, Dsc, Schemas, TrustList, VerifiedDcc};

use super::store::{self, SignerRow};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The most certificates one import may carry (the EU gateway lists a few thousand).
const MAX_SIGNERS: usize = 20_000;

/// The built verifier, with the stamp of the trust it was built from.
#[derive(Default)]
pub struct DccCache {
    built: RwLock<Option<(Stamp, Arc<Verifier>)>>,
}

type Stamp = (i64, i64, i64, i64);

pub struct Verifier {
    pub trust: TrustList,
    pub schemas: Schemas,
}

/// Whether a scanned text is an EU DCC.
pub fn is_dcc(code: &str) -> bool {
    code.trim_start().starts_with(dcc::DCC_PREFIX)
}

/// A trusted signer, as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignerSummary {
    /// The DCC key id, base64.
    pub kid: String,
    pub country: Option<String>,
    pub subject: String,
    /// RFC 3339.
    pub not_after: String,
    /// The fingerprint of the anchor that vouched for the signer (a CSCA or a list signer);
    /// null for a signer imported before anchors existed.
    pub vouched_by: Option<String>,
}

/// One entry of a signer list in the EU gateway's JSON form.
#[derive(Deserialize)]
struct GatewayEntry {
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default, rename = "certificateType")]
    certificate_type: Option<String>,
    #[serde(rename = "rawData")]
    raw_data: String,
}

/// A certificate of a signer list: the country the list gives, the signer, its DER.
pub type ListedSigner = (Option<String>, Dsc, Vec<u8>);

/// What a signer list carries: signers, and the anchors they are checked against — country
/// signing CAs, and keys of signed lists (`LIST_SIGNER`: a P-256 point, base64).
#[derive(Default)]
pub struct SignerList {
    pub signers: Vec<ListedSigner>,
    pub cscas: Vec<Csca>,
    /// Key id and SEC1 point of each list signer.
    pub list_signers: Vec<(String, Vec<u8>)>,
    /// For a signed list (a JWS): the key id of its signer, the signed input, the signature.
    pub signed: Option<(String, Vec<u8>, Vec<u8>)>,
}

/// The key id of a list signer's key: the first 8 bytes of the SHA-256 of its point, base64.
pub fn list_signer_kid(point: &[u8]) -> String {
    STANDARD.encode(&Sha256::digest(point)[..8])
}

/// Reads a signer list: PEM certificates (a CA certificate is a country signing CA, any other
/// a signer), or JSON — the EU gateway's array of `{kid, country, certificateType, rawData}`
/// (`DSC`, `CSCA`, `LIST_SIGNER`), or `{"certificates": [...]}` of the same — or a signed list:
/// a JWS (ES256) whose payload is such a JSON list of signers. A `kid` given in the list must
/// be the certificate's own.
pub fn parse_signer_list(text: &str) -> Result<SignerList, String> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    let mut out = SignerList::default();
    if trimmed.starts_with("-----BEGIN") {
        for block in trimmed.split("-----END CERTIFICATE-----") {
            let Some(start) = block.find("-----BEGIN CERTIFICATE-----") else {
                continue;
            };
            let body: String = block[start + 27..]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let der = STANDARD
                .decode(body)
                .map_err(|_| "a PEM certificate is not base64".to_owned())?;
            if csca::is_ca(&der) {
                out.cscas
                    .push(Csca::from_der(&der).map_err(|e| e.to_string())?);
            } else {
                let dsc = Dsc::from_der(&der).map_err(|e| e.to_string())?;
                out.signers.push((None, dsc, der));
            }
        }
    } else if !trimmed.starts_with(['[', '{']) && trimmed.split('.').count() == 3 {
        let mut parts = trimmed.split('.');
        let (header, payload, signature) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| "a signed list's parts must be base64url".to_owned())
        };
        let header: Value = serde_json::from_slice(&decode(header)?)
            .map_err(|_| "a signed list's header is not JSON".to_owned())?;
        if header.get("alg").and_then(Value::as_str) != Some("ES256") {
            return Err("a signed list must be signed with ES256".into());
        }
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .ok_or("a signed list's header must name its signer's kid")?
            .to_owned();
        let inner = String::from_utf8(decode(payload)?)
            .map_err(|_| "a signed list's payload is not text".to_owned())?;
        let inner = parse_signer_list(&inner)?;
        if inner.signed.is_some() || !inner.cscas.is_empty() || !inner.list_signers.is_empty() {
            return Err("a signed list carries signers only, not anchors or other lists".into());
        }
        let input = trimmed.as_bytes()[..header_and_payload_len(trimmed)].to_vec();
        out.signers = inner.signers;
        out.signed = Some((kid, input, decode(signature)?));
    } else {
        let value: Value =
            serde_json::from_str(trimmed).map_err(|_| "neither PEM nor JSON".to_owned())?;
        let entries = match value {
            Value::Array(entries) => entries,
            Value::Object(mut map) => match map.remove("certificates") {
                Some(Value::Array(entries)) => entries,
                _ => return Err("a JSON list must be an array or {\"certificates\": [...]}".into()),
            },
            _ => return Err("a JSON list must be an array".into()),
        };
        for (i, entry) in entries.into_iter().enumerate() {
            let entry: GatewayEntry = serde_json::from_value(entry)
                .map_err(|_| format!("entry {i}: needs rawData (base64 DER)"))?;
            let kind = entry
                .certificate_type
                .as_deref()
                .unwrap_or("DSC")
                .to_ascii_uppercase();
            let raw = STANDARD
                .decode(entry.raw_data.trim())
                .map_err(|_| format!("entry {i}: rawData is not base64"))?;
            match kind.as_str() {
                "DSC" => {
                    let dsc = Dsc::from_der(&raw).map_err(|e| format!("entry {i}: {e}"))?;
                    if let Some(kid) = &entry.kid
                        && STANDARD.decode(kid).ok().as_deref() != Some(dsc.kid())
                    {
                        return Err(format!("entry {i}: kid {kid} is not the certificate's"));
                    }
                    out.signers.push((entry.country, dsc, raw));
                }
                "CSCA" => out
                    .cscas
                    .push(Csca::from_der(&raw).map_err(|e| format!("entry {i}: {e}"))?),
                "LIST_SIGNER" => {
                    tongban_crypto::PublicKey::new(
                        tongban_crypto::SignatureAlgorithm::Es256,
                        raw.clone(),
                    )
                    .map_err(|_| format!("entry {i}: a list signer is a P-256 point"))?;
                    out.list_signers.push((list_signer_kid(&raw), raw));
                }
                // Upload and authentication certificates sign no DCC and vouch for none.
                _ => continue,
            }
        }
    }
    if out.signers.is_empty() && out.cscas.is_empty() && out.list_signers.is_empty() {
        return Err("no signer certificate in the list".into());
    }
    if out.signers.len() + out.cscas.len() + out.list_signers.len() > MAX_SIGNERS {
        return Err(format!("more than {MAX_SIGNERS} certificates"));
    }
    Ok(out)
}

/// The length of a JWS's `header.payload`, the part its signature covers.
fn header_and_payload_len(jws: &str) -> usize {
    jws.rfind('.').unwrap_or(jws.len())
}

/// Signs a list of signers (the gateway's JSON form) as a signer list: a JWS (ES256) a region
/// that trusts the key as a list signer imports without a CSCA for each signer.
pub fn sign_signer_list(list: &str, signer: &dyn tongban_crypto::Signer) -> String {
    let point = signer.public_key().bytes;
    let header = json!({"alg": "ES256", "kid": list_signer_kid(&point)}).to_string();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(list)
    );
    let signature = signer.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn fingerprint(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
}

/// A signer list checked against the anchors: the anchors it adds and every signer with the
/// anchor that vouches for it. Refused when a signer has none — no signer is trusted bare.
pub async fn vouch(
    state: &AppState,
    list: &SignerList,
) -> AppResult<(Vec<store::AnchorRow>, Vec<SignerRow>)> {
    let stored = store::dcc_anchors(state.pool()).await?;
    let mut anchors: Vec<store::AnchorRow> = list
        .cscas
        .iter()
        .map(|csca| store::AnchorRow {
            fingerprint: fingerprint(csca.der()),
            kind: "csca".into(),
            kid: STANDARD.encode(&Sha256::digest(csca.der())[..8]),
            country: csca.country(),
            subject: csca.subject().to_owned(),
            not_after: Some(csca.not_after()),
            material: STANDARD.encode(csca.der()),
        })
        .collect();
    anchors.extend(
        list.list_signers
            .iter()
            .map(|(kid, point)| store::AnchorRow {
                fingerprint: fingerprint(point),
                kind: "list_signer".into(),
                kid: kid.clone(),
                country: None,
                subject: format!("signer-list key {kid}"),
                not_after: None,
                material: STANDARD.encode(point),
            }),
    );
    let signed_by = match &list.signed {
        None => None,
        Some((kid, input, signature)) => {
            let anchor = stored
                .iter()
                .find(|a| a.kind == "list_signer" && &a.kid == kid)
                .ok_or_else(|| {
                    AppError::invalid("list", format!("no trusted list signer has kid {kid}"))
                })?;
            let key = STANDARD
                .decode(&anchor.material)
                .ok()
                .and_then(|point| {
                    tongban_crypto::PublicKey::new(tongban_crypto::SignatureAlgorithm::Es256, point)
                        .ok()
                })
                .ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!("a stored list signer does not read"))
                })?;
            tongban_crypto::verify(&key, input, signature).map_err(|_| {
                AppError::invalid("list", "the list's signature is not its signer's")
            })?;
            Some(anchor.fingerprint.clone())
        }
    };
    let mut cscas: Vec<(String, Csca)> = anchors
        .iter()
        .zip(&list.cscas)
        .map(|(row, csca)| (row.fingerprint.clone(), csca.clone()))
        .collect();
    for row in stored.iter().filter(|a| a.kind == "csca") {
        if let Ok(csca) = Csca::from_text(&row.material) {
            cscas.push((row.fingerprint.clone(), csca));
        }
    }
    let mut signers = Vec::new();
    for (i, (country, dsc, der)) in list.signers.iter().enumerate() {
        let vouched_by = match &signed_by {
            Some(anchor) => anchor.clone(),
            None => {
                let mut reason = "no country signing CA of its country is trusted".to_owned();
                let mut found = None;
                for (anchor, csca) in &cscas {
                    match csca.issued(dsc) {
                        Ok(()) => {
                            found = Some(anchor.clone());
                            break;
                        }
                        Err(ChainError::OtherIssuer | ChainError::OtherCountry) => {}
                        Err(error) => reason = format!("{} ({})", error, error.code()),
                    }
                }
                found.ok_or_else(|| {
                    AppError::invalid(
                        "list",
                        format!(
                            "signer {i} ({}) is not vouched for: {reason}",
                            dsc.subject()
                        ),
                    )
                })?
            }
        };
        signers.push(SignerRow {
            fingerprint: fingerprint(der),
            kid: STANDARD.encode(dsc.kid()),
            country: country.clone().or_else(|| csca::country_of(dsc.subject())),
            subject: dsc.subject().to_owned(),
            not_after: dsc.not_after(),
            certificate: STANDARD.encode(der),
            vouched_by: Some(vouched_by),
        });
    }
    Ok((anchors, signers))
}

/// Imports a signer list: its anchors, and its signers, each vouched for by a country signing
/// CA or the list's signer, are trusted from now on. Logged. Returns how many signers were new.
pub async fn import_signers(state: &AppState, text: &str, by: &str) -> AppResult<u64> {
    let list = parse_signer_list(text).map_err(|why| AppError::invalid("list", why))?;
    let (anchors, rows) = vouch(state, &list).await?;
    let entry = json!({
        "kind": "dcc_signers_imported",
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": by,
        "anchors": anchors.iter().map(|a| json!({"kind": a.kind, "fingerprint": a.fingerprint, "subject": a.subject})).collect::<Vec<_>>(),
        "kids": rows.iter().map(|r| &r.kid).collect::<Vec<_>>(),
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    store::insert_dcc_trust(state.pool(), &anchors, &rows, state.now()).await
}

/// Stops trusting an anchor and every signer it vouched for, at once. Logged.
pub async fn remove_anchor(state: &AppState, fingerprint: &str, by: &str) -> AppResult<bool> {
    let entry = json!({
        "kind": "dcc_anchor_removed",
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": by,
        "fingerprint": fingerprint,
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    Ok(store::delete_dcc_anchor(state.pool(), fingerprint).await? > 0)
}

/// A trust anchor of DCC signers, as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AnchorSummary {
    /// SHA-256 of the certificate (or key), hex.
    pub fingerprint: String,
    /// `csca` or `list_signer`.
    pub kind: String,
    pub kid: String,
    pub country: Option<String>,
    pub subject: String,
    /// RFC 3339, for a CSCA.
    pub not_after: Option<String>,
}

impl AnchorSummary {
    /// The text key of the anchor's kind, for pages.
    pub fn kind_text(&self) -> &'static str {
        if self.kind == "csca" {
            "dcc.kind.csca"
        } else {
            "dcc.kind.list_signer"
        }
    }
}

pub async fn list_anchors(state: &AppState) -> AppResult<Vec<AnchorSummary>> {
    Ok(store::dcc_anchors(state.pool())
        .await?
        .into_iter()
        .map(|row| AnchorSummary {
            fingerprint: row.fingerprint,
            kind: row.kind,
            kid: row.kid,
            country: row.country,
            subject: row.subject,
            not_after: row
                .not_after
                .map(|t| crate::time_fmt::rfc3339(t.saturating_mul(1000))),
        })
        .collect())
}

/// Stops trusting the signers with a key id (base64), at once. Logged.
pub async fn remove_signer(state: &AppState, kid: &str, by: &str) -> AppResult<bool> {
    let entry = json!({
        "kind": "dcc_signer_removed",
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": by,
        "kid": kid,
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    Ok(store::delete_dcc_signers(state.pool(), kid).await? > 0)
}

pub async fn list_signers(state: &AppState) -> AppResult<Vec<SignerSummary>> {
    Ok(store::dcc_signers(state.pool())
        .await?
        .into_iter()
        .map(|row| SignerSummary {
            kid: row.kid,
            country: row.country,
            subject: row.subject,
            not_after: crate::time_fmt::rfc3339(row.not_after.saturating_mul(1000)),
            vouched_by: row.vouched_by,
        })
        .collect())
}

/// Imports a DCC schema release (checked to compile). Logged.
/// Checks a schema release: a version such as 1.3.0 and a usable JSON schema.
pub fn check_schema(version: &str, schema: &Value, current: bool) -> AppResult<()> {
    let valid_version = !version.is_empty()
        && version.len() <= 20
        && version.split('.').count() == 3
        && version
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !valid_version {
        return Err(AppError::invalid("version", "a release such as 1.3.0"));
    }
    Schemas::new()
        .add(version, schema, current)
        .map_err(|why| AppError::invalid("schema", format!("not a usable JSON schema: {why}")))?;
    Ok(())
}

pub async fn import_schema(
    state: &AppState,
    version: &str,
    schema: &Value,
    current: bool,
    by: &str,
) -> AppResult<()> {
    check_schema(version, schema, current)?;
    let entry = json!({
        "kind": "dcc_schema_imported",
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": by,
        "version": version,
        "current": current,
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    store::upsert_dcc_schema(
        state.pool(),
        version,
        &schema.to_string(),
        current,
        state.now(),
    )
    .await
}

/// Schema releases by version, and the current schema.
pub type SchemaReleases = (Vec<(String, Value)>, Option<Value>);

/// The DCC schemas of a directory laid out like the schema repository: each `release/<v>/`
/// combined schema by version (sorted), and the top-level combined schema, the current one.
pub fn schema_releases(dir: &std::path::Path) -> anyhow::Result<SchemaReleases> {
    let combined = |dir: &std::path::Path| -> Option<std::path::PathBuf> {
        ["DCC.combined-schema.json", "DGC.combined-schema.json"]
            .iter()
            .map(|name| dir.join(name))
            .find(|path| path.is_file())
    };
    let read = |path: std::path::PathBuf| -> anyhow::Result<Value> {
        let text = std::fs::read_to_string(&path)?;
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    };
    let current = combined(dir).map(read).transpose()?;
    let mut releases = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir.join("release")) {
        for entry in entries {
            let path = entry?.path();
            let (Some(version), Some(file)) = (
                path.file_name().and_then(|n| n.to_str()).map(str::to_owned),
                combined(&path),
            ) else {
                continue;
            };
            releases.push((version, read(file)?));
        }
    }
    releases.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((releases, current))
}

/// Imports the schemas of a schema directory ([`schema_releases`]): every release, and the
/// top-level schema as the current one (without it, the newest release is current). Returns
/// the releases imported.
pub async fn import_schema_dir(
    state: &AppState,
    dir: &std::path::Path,
    by: &str,
) -> AppResult<Vec<String>> {
    let (releases, current) =
        schema_releases(dir).map_err(|e| AppError::invalid("dir", e.to_string()))?;
    if releases.is_empty() && current.is_none() {
        return Err(AppError::invalid(
            "dir",
            "no DCC schema found (release/<version>/)",
        ));
    }
    let newest = releases.last().map(|(v, _)| v.clone());
    for (version, schema) in &releases {
        let is_current = current.is_none() && Some(version) == newest.as_ref();
        import_schema(state, version, schema, is_current, by).await?;
    }
    if let Some(schema) = current {
        // The schema names its release in its comment ("Schema version 1.3.3").
        let version = schema
            .get("$comment")
            .and_then(Value::as_str)
            .and_then(|c| c.strip_prefix("Schema version "))
            .map(str::to_owned)
            .or(newest)
            .ok_or_else(|| AppError::invalid("dir", "no schema release found"))?;
        import_schema(state, &version, &schema, true, by).await?;
    }
    Ok(releases.into_iter().map(|(v, _)| v).collect())
}

/// The verifier for the trust stored now: rebuilt only when an import or removal changed it.
pub async fn verifier(state: &AppState) -> AppResult<Arc<Verifier>> {
    let stamp = store::dcc_stamp(state.pool()).await?;
    if let Ok(built) = state.module::<DccCache>().built.read()
        && let Some((built_stamp, verifier)) = built.as_ref()
        && *built_stamp == stamp
    {
        return Ok(verifier.clone());
    }
    let mut trust = TrustList::new();
    for row in store::dcc_signers(state.pool()).await? {
        // A signer no anchor vouched for (imported before anchors existed) is not trusted:
        // the administrators import it again with its CSCA or in a signed list.
        if row.vouched_by.is_none() {
            continue;
        }
        // Stored rows were read when imported; one that no longer reads is left out.
        if let Ok(dsc) = Dsc::from_text(&row.certificate) {
            trust.insert(dsc);
        }
    }
    let mut schemas = Schemas::new();
    for (version, text, current) in store::dcc_schemas(state.pool()).await? {
        let Ok(schema) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if let Err(why) = schemas.add(&version, &schema, current) {
            tracing::warn!(%version, %why, "a stored DCC schema does not compile; left out");
        }
    }
    let verifier = Arc::new(Verifier { trust, schemas });
    if let Ok(mut built) = state.module::<DccCache>().built.write() {
        *built = Some((stamp, verifier.clone()));
    }
    Ok(verifier)
}

/// Verifies a DCC. Without any schema imported, the schema step is left out (and the answer
/// says so); a region that wants it imports the releases.
pub async fn check(state: &AppState, code: &str) -> AppResult<Result<VerifiedDcc, String>> {
    let verifier = verifier(state).await?;
    let schemas = (!verifier.schemas.is_empty()).then_some(&verifier.schemas);
    Ok(
        dcc::verify(code.trim(), &verifier.trust, state.now() / 1000, schemas)
            .map_err(|e| e.code().to_owned()),
    )
}
