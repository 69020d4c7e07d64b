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
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
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

/// Reads a signer list: PEM certificates, or JSON — the EU gateway's array of
/// `{kid, country, certificateType, rawData}`, or `{"certificates": [...]}` of the same. A
/// `kid` given in the list must be the certificate's own.
pub fn parse_signer_list(text: &str) -> Result<Vec<ListedSigner>, String> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    let mut out = Vec::new();
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
            let dsc = Dsc::from_der(&der).map_err(|e| e.to_string())?;
            out.push((None, dsc, der));
        }
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
            if entry
                .certificate_type
                .as_deref()
                .is_some_and(|t| !t.eq_ignore_ascii_case("DSC"))
            {
                continue; // CSCA, upload and authentication certificates sign no DCC.
            }
            let der = STANDARD
                .decode(entry.raw_data.trim())
                .map_err(|_| format!("entry {i}: rawData is not base64"))?;
            let dsc = Dsc::from_der(&der).map_err(|e| format!("entry {i}: {e}"))?;
            if let Some(kid) = &entry.kid
                && STANDARD.decode(kid).ok().as_deref() != Some(dsc.kid())
            {
                return Err(format!("entry {i}: kid {kid} is not the certificate's"));
            }
            out.push((entry.country, dsc, der));
        }
    }
    if out.is_empty() {
        return Err("no signer certificate in the list".into());
    }
    if out.len() > MAX_SIGNERS {
        return Err(format!("more than {MAX_SIGNERS} certificates"));
    }
    Ok(out)
}

/// Imports a signer list: every certificate is trusted from now on. Logged. Returns how many
/// were new.
pub async fn import_signers(state: &AppState, text: &str, by: &str) -> AppResult<u64> {
    let list = parse_signer_list(text).map_err(|why| AppError::invalid("list", why))?;
    let rows: Vec<SignerRow> = list
        .iter()
        .map(|(country, dsc, der)| SignerRow {
            fingerprint: data_encoding::HEXLOWER.encode(&Sha256::digest(der)),
            kid: STANDARD.encode(dsc.kid()),
            country: country.clone().or_else(|| country_of(dsc.subject())),
            subject: dsc.subject().to_owned(),
            not_after: dsc.not_after(),
            certificate: STANDARD.encode(der),
        })
        .collect();
    let entry = json!({
        "kind": "dcc_signers_imported",
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": by,
        "kids": rows.iter().map(|r| &r.kid).collect::<Vec<_>>(),
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    store::insert_dcc_signers(state.pool(), &rows, state.now()).await
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

/// The country (`C=`) of a certificate subject in RFC 4514 form.
fn country_of(subject: &str) -> Option<String> {
    subject
        .split(',')
        .find_map(|part| part.trim().strip_prefix("C="))
        .map(str::to_owned)
}
