//! The EU DCC test data (dgc-testdata): every `*.json` case under a directory, each step its
//! `EXPECTEDRESULTS` asks for, with the steps of tongban's own DCC verifier
//! ([`tongban_codes::dcc`]). A step expected to succeed must succeed; one expected to fail must
//! fail. A failing step listed in `known_issues.csv` (upstream defects of the data) is reported
//! as known, not failed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use ciborium::value::Value as Cbor;
use serde_json::{Value as Json, json};
use tongban_codes::dcc::{self, Dsc, Schemas};

use super::Summary;

/// The steps: the flag each checks, and the name the upstream test suite (and so its
/// `known_issues.csv`) gives it.
const STEPS: [(&str, &[&str]); 13] = [
    ("EXPECTEDPICTUREDECODE", &["test_picture_decode"]),
    ("EXPECTEDUNPREFIX", &["test_un_prefix"]),
    ("EXPECTEDB45DECODE", &["test_b45decode"]),
    ("EXPECTEDCOMPRESSION", &["test_compression"]),
    ("EXPECTEDVERIFY", &["test_verification_check"]),
    ("EXPECTEDDECODE", &["test_cose_json", "test_cose_cbor"]),
    ("EXPECTEDVALIDJSON", &["test_cbor_json"]),
    ("EXPECTEDSCHEMAVALIDATION", &["test_cose_schema"]),
    ("EXPECTEDEXPIRATIONCHECK", &["test_expiration_check"]),
    ("EXPECTEDKEYUSAGE", &["test_expected_key_usage"]),
    // The upstream suite has no test of its own for this flag: the same JSON's schema defects
    // are recorded under its schema test.
    ("EXPECTEDVALIDOBJECT", &["test_cose_schema"]),
    ("EXPECTEDENCODE", &["test_encode"]),
    // Not a step: a flag some cases set for the whole file.
    ("EXPECTEDRESULTS", &[]),
];

/// Why a step could not run: the case lacks the data it needs.
const MISSING: &str = "missing";

/// One known issue: test name, country, test set (file stem); empty matches any.
struct KnownIssue {
    test: String,
    country: String,
    set: String,
    reason: String,
}

fn known_issues(dir: &Path) -> anyhow::Result<Vec<KnownIssue>> {
    let Some(path) = find_file(dir, "known_issues.csv")? else {
        return Ok(Vec::new());
    };
    let mut reader = csv::Reader::from_path(path)?;
    let mut issues = Vec::new();
    for row in reader.records() {
        let row = row?;
        let field = |i: usize| row.get(i).unwrap_or("").trim().to_owned();
        issues.push(KnownIssue {
            test: field(0),
            country: field(1).to_uppercase(),
            set: field(2),
            reason: field(3),
        });
    }
    Ok(issues)
}

fn find_file(dir: &Path, name: &str) -> anyhow::Result<Option<PathBuf>> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name)? {
                return Ok(Some(found));
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

fn case_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            case_files(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Compiles the schemas of a schema directory ([`tongban_app::trust::dcc::schema_releases`]).
pub fn load_schemas(dir: &Path) -> anyhow::Result<Schemas> {
    let (releases, current) = tongban_app::trust::dcc::schema_releases(dir)?;
    let mut schemas = Schemas::new();
    if let Some(schema) = current {
        schemas
            .add("current", &schema, true)
            .map_err(anyhow::Error::msg)?;
    }
    for (version, schema) in releases {
        schemas
            .add(&version, &schema, false)
            .map_err(anyhow::Error::msg)?;
    }
    Ok(schemas)
}

/// Runs the cases under `dir` (any depth, any folder casing). Schemas are read from
/// `schema_dir`; without any, schema steps fail.
pub fn run(dir: &Path, schema_dir: &Path) -> anyhow::Result<Json> {
    let schemas = load_schemas(schema_dir)?;
    let known = known_issues(dir)?;
    let mut files = Vec::new();
    case_files(dir, &mut files)?;
    files.sort();
    let mut summary = Summary::new("dcc");
    let mut known_failures = Vec::new();
    let mut files_seen = 0;
    for path in &files {
        let relative = path.strip_prefix(dir).unwrap_or(path);
        let id = relative.to_string_lossy().replace('\\', "/");
        let Ok(case) = std::fs::read_to_string(path)
            .map_err(anyhow::Error::from)
            .and_then(|text| Ok(serde_json::from_str::<Json>(&text)?))
        else {
            summary.fail(id, "the case is not JSON".into());
            continue;
        };
        let Some(expected) = case.get("EXPECTEDRESULTS").and_then(Json::as_object) else {
            continue; // not a test case (e.g. a schema or a value set)
        };
        files_seen += 1;
        let country = country_of(relative);
        let set = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (flag, names) in STEPS {
            let Some(want) = expected.get(flag).and_then(Json::as_bool) else {
                continue;
            };
            if names.is_empty() {
                continue;
            }
            let outcome = step(flag, &case, &schemas);
            let step_id = format!("{id} {flag}");
            match outcome {
                Err(reason) if reason == MISSING => summary.skip(),
                outcome if outcome.is_ok() == want => summary.pass(),
                outcome => {
                    let why = match outcome {
                        Ok(()) => "succeeded, expected to fail".to_owned(),
                        Err(reason) => format!("failed, expected to succeed: {reason}"),
                    };
                    let issue = known.iter().find(|issue| {
                        (issue.test.is_empty() || names.contains(&issue.test.as_str()))
                            && issue.country == country
                            && (issue.set.is_empty() || issue.set == set)
                    });
                    match issue {
                        Some(issue) => {
                            summary.skip();
                            known_failures.push(json!({
                                "id": step_id, "why": why, "known_issue": issue.reason,
                            }));
                        }
                        None => summary.fail(step_id, why),
                    }
                }
            }
        }
    }
    let mut report = serde_json::to_value(&summary)?;
    report["files"] = json!(files_seen);
    report["schema_versions"] = json!(schemas.versions());
    report["known_issues"] = Json::Array(known_failures);
    Ok(report)
}

/// The country of a case: the folder above `2DCode` (any casing), else the first folder.
fn country_of(relative: &Path) -> String {
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("2DCode"))
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| parts.get(i))
        .or(parts.first())
        .map(|c| c.to_uppercase())
        .unwrap_or_default()
}

fn text<'a>(case: &'a Json, field: &str) -> Result<&'a str, String> {
    case.get(field)
        .and_then(Json::as_str)
        .ok_or_else(|| MISSING.to_owned())
}

fn hex(case: &Json, field: &str) -> Result<Vec<u8>, String> {
    let text = text(case, field)?;
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(text.trim().as_bytes())
        .map_err(|e| format!("{field} is not hex: {e}"))
}

fn context<'a>(case: &'a Json, field: &str) -> Result<&'a str, String> {
    case.get("TESTCTX")
        .and_then(|c| c.get(field))
        .and_then(Json::as_str)
        .ok_or_else(|| MISSING.to_owned())
}

fn signer(case: &Json) -> Result<Dsc, String> {
    let certificate = context(case, "CERTIFICATE")?;
    Dsc::from_text(certificate).map_err(|e| format!("signer certificate: {e}"))
}

fn sign1(case: &Json) -> Result<tongban_codes::CoseSign1, String> {
    let cose = hex(case, "COSE")?;
    tongban_codes::parse_sign1(&cose).map_err(|e| e.code().to_owned())
}

fn claims(case: &Json) -> Result<dcc::DccClaims, String> {
    dcc::claims(&sign1(case)?).map_err(|e| e.to_string())
}

/// Runs one step; `Err` says why it failed.
fn step(flag: &str, case: &Json, schemas: &Schemas) -> Result<(), String> {
    match flag {
        "EXPECTEDPICTUREDECODE" => {
            let prefix = text(case, "PREFIX")?;
            let image = text(case, "2DCODE")?;
            let png =
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, image.trim())
                    .map_err(|e| format!("2DCODE is not base64: {e}"))?;
            let content = crate::qr_image::decode_png(&png)?;
            same(
                content == prefix,
                "the picture holds other text than PREFIX",
            )
        }
        "EXPECTEDUNPREFIX" => {
            let prefix = text(case, "PREFIX")?;
            let base45 = text(case, "BASE45")?;
            let body = prefix
                .strip_prefix(dcc::DCC_PREFIX)
                .ok_or("PREFIX does not start with HC1:")?;
            same(body == base45, "PREFIX without HC1: is not BASE45")
        }
        "EXPECTEDB45DECODE" => {
            let base45 = text(case, "BASE45")?;
            let compressed = hex(case, "COMPRESSED")?;
            let decoded = base45::decode(base45).map_err(|e| format!("Base45: {e}"))?;
            same(
                decoded == compressed,
                "BASE45 decodes to other bytes than COMPRESSED",
            )
        }
        "EXPECTEDCOMPRESSION" => {
            let compressed = hex(case, "COMPRESSED")?;
            let cose = hex(case, "COSE")?;
            let inflated = tongban_codes::inflate(&compressed).map_err(|e| e.to_string())?;
            same(
                inflated == cose,
                "COMPRESSED inflates to other bytes than COSE",
            )
        }
        "EXPECTEDVERIFY" => {
            let sign1 = sign1(case)?;
            let dsc = signer(case)?;
            let kid = dcc::kid(&sign1).ok_or("the message names no kid")?;
            same(kid == dsc.kid(), "the kid is not the signer certificate's")?;
            dsc.verify(&sign1).map_err(|e| e.to_string())
        }
        "EXPECTEDDECODE" => {
            let hcert = claims(case)?.hcert;
            let cbor = cbor_hcert(&hex(case, "CBOR")?)?;
            same(
                normalise(&hcert) == normalise(&cbor),
                "the COSE payload differs from CBOR",
            )?;
            let json = case.get("JSON").ok_or(MISSING)?;
            same(
                normalise(&cbor) == normalise(json),
                "CBOR differs from JSON",
            )
        }
        "EXPECTEDVALIDJSON" => {
            let json = case.get("JSON").ok_or(MISSING)?;
            let prefix = text(case, "PREFIX")?;
            let cose = dcc::cose_bytes(prefix).map_err(|e| e.code().to_owned())?;
            let sign1 = tongban_codes::parse_sign1(&cose).map_err(|e| e.code().to_owned())?;
            let hcert = dcc::claims(&sign1).map_err(|e| e.to_string())?.hcert;
            same(
                normalise(&hcert) == normalise(json),
                "the decoded certificate differs from JSON",
            )
        }
        "EXPECTEDSCHEMAVALIDATION" => {
            let claims = claims(case)?;
            schemas.validate(&claims.hcert).map_err(|e| e.to_string())?;
            claims.cert_type().map(drop).map_err(|e| e.to_string())
        }
        "EXPECTEDEXPIRATIONCHECK" => {
            let clock = context(case, "VALIDATIONCLOCK")?;
            let now = tongban_rules::parse_datetime(clock)
                .ok_or_else(|| format!("VALIDATIONCLOCK {clock} is not a date-time"))?
                / 1000;
            let claims = claims(case)?;
            dcc::check_validity(&claims, &signer(case)?, now).map_err(|e| e.to_string())
        }
        "EXPECTEDKEYUSAGE" => {
            let claims = claims(case)?;
            dcc::check_key_usage(&claims, &signer(case)?)
                .map(drop)
                .map_err(|e| e.to_string())
        }
        "EXPECTEDVALIDOBJECT" => {
            // The generation side: the JSON against the schema the test context names.
            let json = case.get("JSON").ok_or(MISSING)?;
            let version = context(case, "SCHEMA")?;
            schemas
                .validate_as(version, json)
                .map_err(|e| e.to_string())
        }
        "EXPECTEDENCODE" => {
            // Encoding JSON to CBOR and back must give the JSON again, and the case's CBOR.
            let json = case.get("JSON").ok_or(MISSING)?;
            let mut encoded = Vec::new();
            ciborium::ser::into_writer(json, &mut encoded).map_err(|e| e.to_string())?;
            let back = cbor_hcert(&encoded)?;
            let cbor = cbor_hcert(&hex(case, "CBOR")?)?;
            same(
                normalise(&back) == normalise(json) && normalise(&back) == normalise(&cbor),
                "the JSON encodes to other CBOR",
            )
        }
        _ => Err(MISSING.to_owned()),
    }
}

fn same(equal: bool, otherwise: &str) -> Result<(), String> {
    if equal {
        Ok(())
    } else {
        Err(otherwise.to_owned())
    }
}

/// The certificate in a CBOR field: either the certificate itself or whole CWT claims.
fn cbor_hcert(bytes: &[u8]) -> Result<Json, String> {
    let value: Cbor = ciborium::de::from_reader(bytes).map_err(|e| format!("CBOR: {e}"))?;
    let hcert = match &value {
        Cbor::Map(entries) => entries
            .iter()
            .find(|(key, _)| key.as_integer().map(i128::from) == Some(-260))
            .and_then(|(_, certificates)| certificates.as_map())
            .and_then(|certificates| {
                certificates
                    .iter()
                    .find(|(key, _)| key.as_integer().map(i128::from) == Some(1))
            })
            .map(|(_, hcert)| hcert)
            .unwrap_or(&value),
        _ => &value,
    };
    dcc::cbor_to_json(hcert).ok_or_else(|| "CBOR is not JSON data".to_owned())
}

/// A form of a JSON value in which equal content compares equal: numbers as floats, and
/// date-times to the second without their offset (as the upstream suite compares).
fn normalise(value: &Json) -> Json {
    match value {
        Json::Number(n) => json!(n.as_f64()),
        Json::String(s) => Json::String(normal_datetime(s).unwrap_or_else(|| s.clone())),
        Json::Array(items) => Json::Array(items.iter().map(normalise).collect()),
        Json::Object(map) => {
            Json::Object(map.iter().map(|(k, v)| (k.clone(), normalise(v))).collect())
        }
        other => other.clone(),
    }
}

fn normal_datetime(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    if !(digits(0..4)
        && bytes.get(4) == Some(&b'-')
        && digits(5..7)
        && bytes.get(7) == Some(&b'-')
        && digits(8..10))
    {
        return None;
    }
    let date = &text[..10];
    if text.len() == 10 {
        return Some(format!("{date}T00:00:00Z"));
    }
    if !matches!(bytes.get(10), Some(b'T' | b' ')) || !digits(11..13) {
        return None;
    }
    let hour = &text[11..13];
    let minute = if digits(14..16) { &text[14..16] } else { "00" };
    let second = if digits(17..19) { &text[17..19] } else { "00" };
    Some(format!("{date}T{hour}:{minute}:{second}Z"))
}

/// The HC1 codes of the cases expected to pass every step they name, signature included, with
/// their signers and validation clocks: the data of `tongban bench dcc-verify`. Codes whose
/// signer cannot be read are left out.
pub fn verifiable_codes(dir: &Path) -> anyhow::Result<Vec<(String, Dsc, i64)>> {
    let mut files = Vec::new();
    case_files(dir, &mut files)?;
    files.sort();
    let mut seen = HashSet::new();
    let mut codes = Vec::new();
    for path in files {
        let Ok(case) = serde_json::from_str::<Json>(&std::fs::read_to_string(&path)?) else {
            continue;
        };
        let expected = &case["EXPECTEDRESULTS"];
        let good = expected
            .as_object()
            .is_some_and(|flags| flags.values().all(|v| v == &json!(true)));
        if expected["EXPECTEDVERIFY"] != json!(true) || !good {
            continue;
        }
        let (Ok(prefix), Ok(dsc)) = (text(&case, "PREFIX"), signer(&case)) else {
            continue;
        };
        let Some(clock) = context(&case, "VALIDATIONCLOCK")
            .ok()
            .and_then(tongban_rules::parse_datetime)
            .map(|millis| millis / 1000)
        else {
            continue;
        };
        if seen.insert(prefix.to_owned()) {
            codes.push((prefix.to_owned(), dsc, clock));
        }
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dcc_dir() -> Option<PathBuf> {
        let dir = super::super::vectors_dir()?.join("dcc");
        if dir.is_dir() {
            Some(dir)
        } else {
            eprintln!("note: no dcc vectors (set TONGBAN_CONFORMANCE_DIR); skipped");
            None
        }
    }

    #[test]
    fn every_dcc_case_passes_but_the_upstream_known_issues() {
        let Some(dir) = dcc_dir() else { return };
        let report = run(&dir.join("testdata"), &dir.join("schema")).expect("runs");
        assert_eq!(report["failed"], 0, "{:#}", report["failures"]);
        assert!(report["files"].as_u64() > Some(400), "{}", report["files"]);
        assert!(
            report["passed"].as_u64() > Some(4000),
            "{}",
            report["passed"]
        );
    }

    /// The crafted negatives of `common/`, run through the whole verifier a door uses: each is
    /// refused, at the step it was crafted to break.
    #[test]
    fn crafted_negatives_are_refused_at_their_step() {
        let Some(dir) = dcc_dir() else { return };
        let schemas = load_schemas(&dir.join("schema")).expect("schemas");
        let raw = dir.join("testdata/common/2DCode/raw");
        let expected = [
            ("B1", "bad_base45"),
            ("CBO1", "bad_claims"),
            ("CBO2", "bad_cose"),
            ("CO5", "bad_signature"),
            ("CO6", "wrong_key_usage"),
            ("CO7", "wrong_key_usage"),
            ("CO8", "wrong_key_usage"),
            ("CO9", "wrong_key_usage"),
            ("CO10", "wrong_key_usage"),
            ("CO11", "wrong_key_usage"),
            ("CO16", "not_yet_valid"),
            ("CO17", "expired"),
            ("CO22", "unknown_kid"),
            ("CO23", "unknown_kid"),
            ("DGC1", "schema_invalid"),
            ("DGC2", "bad_claims"),
            ("H1", "bad_prefix"),
            ("H2", "bad_prefix"),
            ("H3", "bad_prefix"),
            ("Z1", "bad_compression"),
            ("Z2", "bad_compression"),
        ];
        let mut wrong = Vec::new();
        for (name, reason) in expected {
            let case: Json = serde_json::from_str(
                &std::fs::read_to_string(raw.join(format!("{name}.json"))).expect("case"),
            )
            .expect("json");
            let mut trust = dcc::TrustList::new();
            trust.insert(signer(&case).expect("signer"));
            let clock = context(&case, "VALIDATIONCLOCK").expect("clock");
            let now = tongban_rules::parse_datetime(clock).expect("clock") / 1000;
            let prefix = text(&case, "PREFIX").expect("prefix");
            match dcc::verify(prefix, &trust, now, Some(&schemas)) {
                Err(error) if error.code() == reason => {}
                outcome => wrong.push(format!(
                    "{name}: wanted {reason}, got {:?}",
                    outcome.map(|v| v.cert_type)
                )),
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
        // The unreadable picture.
        let case: Json =
            serde_json::from_str(&std::fs::read_to_string(raw.join("Q1.json")).expect("case"))
                .expect("json");
        let png = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            text(&case, "2DCODE").expect("picture"),
        )
        .expect("base64");
        assert!(crate::qr_image::decode_png(&png).is_err());
    }

    /// The good codes of every country verify end to end with their signer as the only anchor;
    /// with a trust list that lacks it, they are refused as unknown.
    #[test]
    fn good_codes_verify_only_against_their_signer() {
        let Some(dir) = dcc_dir() else { return };
        let codes = verifiable_codes(&dir.join("testdata")).expect("codes");
        assert!(codes.len() > 250, "{}", codes.len());
        let mut verified = 0;
        for (code, dsc, now) in &codes {
            let mut trust = dcc::TrustList::new();
            trust.insert(dsc.clone());
            match dcc::verify(code, &trust, *now, None) {
                Ok(_) => verified += 1,
                Err(error) => eprintln!("{}: {error}", &code[..20]),
            }
            let empty = dcc::TrustList::new();
            assert_eq!(
                dcc::verify(code, &empty, *now, None)
                    .map(drop)
                    .map_err(|e| e.code()),
                Err("unknown_kid")
            );
        }
        // Some good signatures carry upstream defects in their dates or key usage; the rest
        // must verify end to end.
        assert!(
            verified * 10 > codes.len() * 9,
            "{verified} of {}",
            codes.len()
        );
        eprintln!("{verified} of {} verified end to end", codes.len());
    }
}
