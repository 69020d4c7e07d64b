//! Runs public conformance suites from a directory and summarises them: the CertLogic evaluator
//! and validation suites, and the tests of the EU DCC business rules.

pub mod dcc;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Value as Json, json};
use tongban_rules::{evaluate_json, parse_datetime, validate};

#[derive(Debug, Serialize)]
pub struct Failure {
    pub id: String,
    pub why: String,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub suite: String,
    pub cases: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub failures: Vec<Failure>,
}

impl Summary {
    fn new(suite: &str) -> Summary {
        Summary {
            suite: suite.into(),
            cases: 0,
            passed: 0,
            failed: 0,
            skipped: 0,
            failures: Vec::new(),
        }
    }

    fn pass(&mut self) {
        self.cases += 1;
        self.passed += 1;
    }

    fn skip(&mut self) {
        self.cases += 1;
        self.skipped += 1;
    }

    fn fail(&mut self, id: String, why: String) {
        self.cases += 1;
        self.failed += 1;
        self.failures.push(Failure { id, why });
    }
}

fn json_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    Ok(files)
}

fn read_json(path: &Path) -> anyhow::Result<Json> {
    Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
}

fn skipped(value: &Json) -> bool {
    value.get("directive").and_then(Json::as_str) == Some("skip")
}

/// The CertLogic evaluator suite (`testSuite/`) and validation suite (`validation-testSuite/`)
/// of a directory laid out like the specification's.
pub fn certlogic(dir: &Path) -> anyhow::Result<Summary> {
    let mut summary = Summary::new("certlogic");
    for file in json_files(&dir.join("testSuite"))? {
        let suite = read_json(&file)?;
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("?")
            .to_owned();
        let suite_skipped = skipped(&suite);
        for (c, case) in suite["cases"].as_array().into_iter().flatten().enumerate() {
            for (a, assertion) in case["assertions"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                if suite_skipped || skipped(case) || skipped(assertion) {
                    summary.skip();
                    continue;
                }
                let id = format!("{name}/{c}/{a}");
                let expression = assertion
                    .get("certLogicExpression")
                    .or_else(|| case.get("certLogicExpression"))
                    .unwrap_or(&Json::Null);
                match evaluate_json(expression, &assertion["data"]) {
                    Ok(result) if result == assertion["expected"] => summary.pass(),
                    Ok(result) => summary.fail(
                        id,
                        format!("expected {} but got {result}", assertion["expected"]),
                    ),
                    Err(error) => summary.fail(
                        id,
                        format!(
                            "expected {} but evaluation failed: {error}",
                            assertion["expected"]
                        ),
                    ),
                }
            }
        }
    }
    for file in json_files(&dir.join("validation-testSuite"))? {
        let suite = read_json(&file)?;
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("?")
            .to_owned();
        for (c, case) in suite["cases"].as_array().into_iter().flatten().enumerate() {
            if skipped(&suite) || skipped(case) {
                summary.skip();
                continue;
            }
            let expected: Vec<&str> = case["issues"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["message"].as_str())
                .collect();
            let found = validate(&case["certLogicExpression"]);
            let found: Vec<&str> = found.iter().map(|i| i.message.as_str()).collect();
            if found == expected {
                summary.pass();
            } else {
                summary.fail(
                    format!("validation/{name}/{c}"),
                    format!("expected issues {expected:?} but found {found:?}"),
                );
            }
        }
    }
    Ok(summary)
}

/// The tests of every rule in a directory laid out like the DCC business-rules repository
/// (`<country>/<rule id>/rule.json` and `tests/*.json`). A test whose validation clock lies
/// outside the rule's validity window is skipped; one without a clock runs.
pub fn rules(dir: &Path) -> anyhow::Result<Summary> {
    let mut summary = Summary::new("rules");
    let mut rule_dirs = Vec::new();
    for country in std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
    {
        for rule in std::fs::read_dir(&country)?.filter_map(|e| e.ok().map(|e| e.path())) {
            if rule.join("rule.json").is_file() {
                rule_dirs.push(rule);
            }
        }
    }
    rule_dirs.sort();
    for rule_dir in rule_dirs {
        let rule = read_json(&rule_dir.join("rule.json"))?;
        let rule_id = rule_dir
            .strip_prefix(dir)
            .unwrap_or(&rule_dir)
            .display()
            .to_string();
        let valid_from = rule["ValidFrom"].as_str().and_then(parse_datetime);
        let valid_to = rule["ValidTo"].as_str().and_then(parse_datetime);
        let issues = validate(&rule["Logic"]);
        let tests_dir = rule_dir.join("tests");
        if !tests_dir.is_dir() {
            continue;
        }
        for test_file in json_files(&tests_dir)? {
            let test = read_json(&test_file)?;
            let id = format!(
                "{rule_id}/{}",
                test_file
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("?")
            );
            // A test without a validation clock does not depend on one, so it always runs.
            let clock = test["external"]["validationClock"]
                .as_str()
                .and_then(parse_datetime);
            let in_window = match clock {
                None => true,
                Some(clock) => {
                    valid_from.is_none_or(|from| from <= clock)
                        && valid_to.is_none_or(|to| clock <= to)
                }
            };
            if !in_window || skipped(&test) {
                summary.skip();
                continue;
            }
            if !issues.is_empty() {
                summary.fail(
                    id,
                    format!(
                        "the rule's logic is not valid CertLogic: {}",
                        issues[0].message
                    ),
                );
                continue;
            }
            let data = json!({"payload": test["payload"], "external": test["external"]});
            match evaluate_json(&rule["Logic"], &data) {
                Ok(result) if result == test["expected"] => summary.pass(),
                Ok(result) => summary.fail(
                    id,
                    format!("expected {} but got {result}", test["expected"]),
                ),
                Err(error) => summary.fail(
                    id,
                    format!(
                        "expected {} but evaluation failed: {error}",
                        test["expected"]
                    ),
                ),
            }
        }
    }
    Ok(summary)
}

/// The SMART Health Cards example issuer, whose JWKS and CRLs the suite carries.
const SHC_EXAMPLE_ISSUER: &str = "https://spec.smarthealth.cards/examples/issuer";

/// Runs the SMART Health Card test data (`dev-tools/testdata` under `dir`) with the spec's
/// example issuer configured (`spec/generate-examples/issuer/.well-known`): every card file
/// named for a defect must be refused, every other must verify. Each file's outcome and reason
/// are listed. QR images and SMART Health Links are out of scope and skipped. A JSON card file
/// must carry the `.smart-health-card` extension, as the spec requires.
pub fn shc(dir: &Path, now: i64) -> anyhow::Result<Json> {
    use tongban_codes::shc::{self as card, Crl, Issuers, Jwks};
    let well_known = dir.join("spec/generate-examples/issuer/.well-known");
    let jwks: Jwks = serde_json::from_str(&std::fs::read_to_string(well_known.join("jwks.json"))?)?;
    let mut issuers = Issuers::default();
    issuers.jwks.insert(SHC_EXAMPLE_ISSUER.into(), jwks);
    if let Ok(entries) = std::fs::read_dir(well_known.join("crl")) {
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if path.extension().is_some_and(|e| e == "json") {
                let crl: Crl = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
                issuers.crls.insert(crl.kid.clone(), crl);
            }
        }
    }
    let mut summary = Summary::new("shc");
    let mut results = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("dev-tools/testdata"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Ok(text) = std::fs::read_to_string(&path) else {
            summary.skip(); // images: QR decoding from pictures is not part of the verifier
            continue;
        };
        let trimmed = text.trim_end();
        let is_card = trimmed.starts_with(card::SHC_PREFIX)
            || trimmed.trim_start_matches('\u{feff}').starts_with("eyJ")
            || serde_json::from_str::<Json>(trimmed)
                .is_ok_and(|v| v.get("verifiableCredential").is_some());
        if !is_card || name.starts_with("shlink") {
            summary.skip();
            continue;
        }
        let outcome = if trimmed.starts_with('{') && !name.ends_with(".smart-health-card") {
            Err("bad_file_extension".to_owned())
        } else {
            card::verify_any(&text, &issuers, now)
                .map(|cards| cards.len())
                .map_err(|e| e.code().to_owned())
        };
        let defect = ["-d-jws-", "-f-qr-code-", "-e-file-", "wrong-extension"]
            .iter()
            .any(|marker| name.contains(marker))
            && name != "test-example-00-e-file-multi-jws.smart-health-card";
        results.push(json!({
            "file": name,
            "outcome": if outcome.is_ok() { "verified" } else { "rejected" },
            "cards": outcome.as_ref().ok(),
            "reason": outcome.as_ref().err(),
        }));
        match (defect, &outcome) {
            (true, Err(_)) | (false, Ok(_)) => summary.pass(),
            (true, Ok(_)) => summary.fail(name, "a defective card was accepted".into()),
            (false, Err(reason)) => {
                summary.fail(name, format!("a good card was refused: {reason}"))
            }
        }
    }
    let mut report = serde_json::to_value(&summary)?;
    report["results"] = Json::Array(results);
    Ok(report)
}

/// Where the conformance vectors are: `$TONGBAN_CONFORMANCE_DIR`, or `../shared/conformance`
/// beside the repository.
pub fn vectors_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("TONGBAN_CONFORMANCE_DIR") {
        return Some(PathBuf::from(dir)).filter(|p| p.is_dir());
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance");
    beside.is_dir().then_some(beside)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_health_cards_verify_and_every_defective_one_is_refused() {
        let Some(dir) = vectors_dir() else {
            eprintln!(
                "note: conformance vectors not found (set TONGBAN_CONFORMANCE_DIR); the shc suite is skipped"
            );
            return;
        };
        let report = shc(&dir.join("shc"), 1_800_000_000).expect("the suite runs");
        assert!(report["cases"].as_u64().expect("cases") > 40, "{report}");
        assert_eq!(report["failed"], 0, "{:#}", report["failures"]);
        let verified = report["results"]
            .as_array()
            .expect("results")
            .iter()
            .filter(|r| r["outcome"] == "verified")
            .count();
        assert_eq!(verified, 2, "the spec's two good examples");
    }

    fn run(suite: &str, runner: fn(&Path) -> anyhow::Result<Summary>) {
        let Some(dir) = vectors_dir() else {
            eprintln!(
                "note: conformance vectors not found (set TONGBAN_CONFORMANCE_DIR); the {suite} suite is skipped"
            );
            return;
        };
        let summary = runner(&dir.join(suite)).expect("the suite runs");
        assert!(summary.cases > 0, "the {suite} suite has cases");
        assert!(
            summary.failures.is_empty(),
            "{} of {} failed:\n{:#?}",
            summary.failed,
            summary.cases,
            summary.failures.iter().take(20).collect::<Vec<_>>()
        );
        eprintln!(
            "{suite}: {} cases, {} passed, {} skipped",
            summary.cases, summary.passed, summary.skipped
        );
    }

    #[test]
    fn every_certlogic_evaluator_and_validation_case_passes() {
        run("certlogic", certlogic);
    }

    #[test]
    fn every_test_of_every_dcc_business_rule_passes() {
        run("dcc-rules", rules);
    }
}
