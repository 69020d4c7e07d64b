//! Status policies: ordered CertLogic rules over a person's health facts. The compiler admits
//! only the health whitelist — a rule that reads anything else (a bank list, a complaint
//! record, a location) is refused, so a colour can never be given for non-health reasons.

use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use tongban_rules::{evaluate, validate};

/// The fact kinds a policy may read.
pub const FACT_KINDS: [&str; 6] = [
    "test_result",
    "vaccination",
    "recovery",
    "quarantine_order",
    "contact_designation",
    "risk_area",
];

/// The values a fact of each kind may take: code lists, never free text, so a fact cannot
/// carry a reason that is not about health ("debtor", "petitioner"). A risk area is named by
/// its region code.
pub fn value_allowed(kind: &str, value: &str) -> bool {
    match kind {
        "test_result" => matches!(value, "positive" | "negative"),
        "vaccination" => matches!(value, "dose_1" | "dose_2" | "dose_3" | "booster"),
        "recovery" => value == "recovered",
        "quarantine_order" => matches!(value, "home" | "centralised"),
        "contact_designation" => matches!(value, "close_contact" | "secondary_contact"),
        "risk_area" => value.parse::<tongban_core::RegionCode>().is_ok(),
        _ => false,
    }
}

/// One rule: when `logic` is truthy the person gets `colour`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRule {
    pub id: String,
    /// `red` or `yellow`; a person no rule fires for is green.
    pub colour: String,
    pub description_zh: String,
    pub description_en: String,
    #[schema(value_type = Object)]
    pub logic: Json,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("rule {rule}: {reason}")]
    Refused { rule: String, reason: String },
    #[error("a policy needs at least one rule and at most 50")]
    Size,
}

fn var_paths(expression: &Json, out: &mut Vec<String>) {
    match expression {
        Json::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("var", Json::String(path)) => out.push(path.clone()),
                    _ => var_paths(value, out),
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|item| var_paths(item, out)),
        _ => {}
    }
}

/// The fact kinds a rule reads.
pub fn kinds_read(rule: &StatusRule) -> Vec<String> {
    let mut paths = Vec::new();
    var_paths(&rule.logic, &mut paths);
    let mut kinds: Vec<String> = paths
        .iter()
        .filter_map(|p| p.strip_prefix("facts."))
        .map(|rest| rest.split('.').next().unwrap_or("").to_owned())
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// The fact kind whose value `expression` reads (`{"var": "facts.<kind>.value"}`), if it does.
fn value_var(expression: &Json) -> Option<&str> {
    let path = expression.get("var")?.as_str()?;
    let kind = path.strip_prefix("facts.")?.strip_suffix(".value")?;
    FACT_KINDS.contains(&kind).then_some(kind)
}

/// Literal values compared with a fact's value that are not in its kind's code list: a rule
/// cannot test a health field for "debtor" any more than a fact can carry it.
fn foreign_literals(expression: &Json, out: &mut Vec<String>) {
    match expression {
        Json::Object(map) => {
            for (operator, operands) in map {
                if let (Some(kind), Json::Array(items)) = (
                    matches!(operator.as_str(), "===" | "!==" | "in")
                        .then(|| operands.as_array())
                        .flatten()
                        .and_then(|items| items.iter().find_map(value_var)),
                    operands,
                ) {
                    for item in items {
                        let literals: Vec<&Json> = match item {
                            Json::Array(values) => values.iter().collect(),
                            other => vec![other],
                        };
                        for literal in literals {
                            if let Json::String(value) = literal
                                && !value_allowed(kind, value)
                            {
                                out.push(format!("{kind} = \"{value}\""));
                            }
                        }
                    }
                }
                foreign_literals(operands, out);
            }
        }
        Json::Array(items) => items.iter().for_each(|item| foreign_literals(item, out)),
        _ => {}
    }
}

/// Checks every rule: valid CertLogic, a known colour, data access only to whitelisted fact
/// kinds and the evaluation time, and fact values compared only with their code lists.
pub fn compile(rules: &[StatusRule]) -> Result<(), PolicyError> {
    if rules.is_empty() || rules.len() > 50 {
        return Err(PolicyError::Size);
    }
    for rule in rules {
        let refuse = |reason: String| PolicyError::Refused {
            rule: rule.id.clone(),
            reason,
        };
        if !matches!(rule.colour.as_str(), "red" | "yellow") {
            return Err(refuse(format!(
                "colour must be red or yellow, not {}",
                rule.colour
            )));
        }
        if let Some(issue) = validate(&rule.logic).first() {
            return Err(refuse(format!("not valid CertLogic: {}", issue.message)));
        }
        let mut paths = Vec::new();
        var_paths(&rule.logic, &mut paths);
        for path in paths {
            let allowed = path == "external.now"
                || path
                    .strip_prefix("facts.")
                    .is_some_and(|rest| FACT_KINDS.contains(&rest.split('.').next().unwrap_or("")));
            if !allowed {
                return Err(refuse(format!(
                    "reads \"{path}\", which is not a health fact"
                )));
            }
        }
        let mut literals = Vec::new();
        foreign_literals(&rule.logic, &mut literals);
        if let Some(literal) = literals.first() {
            return Err(refuse(format!(
                "compares {literal}, which is not in that kind's code list"
            )));
        }
    }
    Ok(())
}

/// The colour a policy gives and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    pub colour: String,
    /// The rule that fired, if any.
    pub rule: Option<String>,
    pub reason_zh: String,
    pub reason_en: String,
    /// The kinds of the facts the rule read.
    pub facts_used: Vec<String>,
}

/// Applies the rules in order to `facts` (`{kind: {"value", "observed_at"}}`) at `now`
/// (RFC 3339). A rule that fails to evaluate does not fire.
pub fn apply(rules: &[StatusRule], facts: &Json, now: &str) -> Verdict {
    let data = json!({"facts": facts, "external": {"now": now}});
    for rule in rules {
        if evaluate(&rule.logic, &data).is_ok_and(|value| value.is_truthy()) {
            return Verdict {
                colour: rule.colour.clone(),
                rule: Some(rule.id.clone()),
                reason_zh: rule.description_zh.clone(),
                reason_en: rule.description_en.clone(),
                facts_used: kinds_read(rule),
            };
        }
    }
    Verdict {
        colour: "green".into(),
        rule: None,
        reason_zh: "没有需要关注的健康事实。".into(),
        reason_en: "No health fact calls for attention.".into(),
        facts_used: Vec::new(),
    }
}

/// The first policy of a new deployment: red within 14 days of a positive test, yellow within
/// 7 days of a contact designation or while a quarantine order runs.
pub fn default_rules() -> Vec<StatusRule> {
    let within = |kind: &str, days: i64| {
        json!({"and": [
            {"var": format!("facts.{kind}.observed_at")},
            {"after": [{"plusTime": [{"var": format!("facts.{kind}.observed_at")}, days, "day"]}, {"plusTime": [{"var": "external.now"}, 0, "day"]}]}
        ]})
    };
    vec![
        StatusRule {
            id: "positive-test-14d".into(),
            colour: "red".into(),
            description_zh: "14 天内核酸检测结果为阳性。".into(),
            description_en: "A positive test result within the last 14 days.".into(),
            logic: json!({"and": [{"===": [{"var": "facts.test_result.value"}, "positive"]}, within("test_result", 14)]}),
        },
        StatusRule {
            id: "contact-7d".into(),
            colour: "yellow".into(),
            description_zh: "7 天内被认定为密切接触者。".into(),
            description_en: "Designated a close contact within the last 7 days.".into(),
            logic: within("contact_designation", 7),
        },
        StatusRule {
            id: "quarantine-order".into(),
            colour: "yellow".into(),
            description_zh: "正在执行居家健康监测或隔离。".into(),
            description_en: "Under a home-monitoring or quarantine order.".into(),
            logic: within("quarantine_order", 7),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_compares_fact_values_only_with_their_code_lists() {
        let rule = |logic: Json| StatusRule {
            id: "r".into(),
            colour: "red".into(),
            description_zh: String::new(),
            description_en: String::new(),
            logic,
        };
        let value = |kind: &str| json!({"var": format!("facts.{kind}.value")});
        for refused in [
            json!({"===": [value("test_result"), "bank_depositor"]}),
            json!({"===": ["petitioner", value("quarantine_order")]}),
            json!({"!==": [value("vaccination"), "unpaid_loan"]}),
            json!({"in": [value("contact_designation"), ["close_contact", "protester"]]}),
            json!({"and": [true, {"===": [value("risk_area"), "henan_bank"]}]}),
        ] {
            assert!(
                matches!(
                    compile(&[rule(refused.clone())]),
                    Err(PolicyError::Refused { .. })
                ),
                "{refused}"
            );
        }
        for allowed in [
            json!({"===": [value("test_result"), "positive"]}),
            json!({"in": [value("vaccination"), ["dose_1", "booster"]]}),
            json!({"===": [value("risk_area"), "339901"]}),
        ] {
            assert_eq!(compile(&[rule(allowed.clone())]), Ok(()), "{allowed}");
        }
    }

    #[test]
    fn the_default_policy_compiles_and_colours_by_the_facts() {
        let rules = default_rules();
        assert_eq!(compile(&rules), Ok(()));
        let now = "2026-11-26T00:00:00Z";
        assert_eq!(apply(&rules, &json!({}), now).colour, "green");
        let positive =
            json!({"test_result": {"value": "positive", "observed_at": "2026-11-20T08:00:00Z"}});
        let verdict = apply(&rules, &positive, now);
        assert_eq!(
            (verdict.colour.as_str(), verdict.rule.as_deref()),
            ("red", Some("positive-test-14d"))
        );
        assert_eq!(verdict.facts_used, vec!["test_result".to_owned()]);
        let old =
            json!({"test_result": {"value": "positive", "observed_at": "2026-10-01T08:00:00Z"}});
        assert_eq!(apply(&rules, &old, now).colour, "green");
        let negative =
            json!({"test_result": {"value": "negative", "observed_at": "2026-11-25T08:00:00Z"}});
        assert_eq!(apply(&rules, &negative, now).colour, "green");
        let contact = json!({"contact_designation": {"value": "close_contact", "observed_at": "2026-11-24T08:00:00Z"}});
        assert_eq!(apply(&rules, &contact, now).colour, "yellow");
    }

    #[test]
    fn a_rule_reading_anything_but_health_facts_is_refused() {
        let mut rules = default_rules();
        rules.push(StatusRule {
            id: "debtors".into(),
            colour: "red".into(),
            description_zh: "".into(),
            description_en: "".into(),
            logic: json!({"in": [{"var": "payload.id"}, {"var": "external.bank_blacklist"}]}),
        });
        assert!(
            matches!(compile(&rules), Err(PolicyError::Refused { rule, .. }) if rule == "debtors")
        );
        let complaint = StatusRule {
            id: "petitioner".into(),
            colour: "red".into(),
            description_zh: "".into(),
            description_en: "".into(),
            logic: json!({"var": "facts.complaint_record"}),
        };
        assert!(compile(&[complaint]).is_err());
        let invalid = StatusRule {
            id: "broken".into(),
            colour: "red".into(),
            description_zh: "".into(),
            description_en: "".into(),
            logic: json!({"nope": []}),
        };
        assert!(compile(&[invalid]).is_err());
        let green = StatusRule {
            id: "g".into(),
            colour: "green".into(),
            description_zh: "".into(),
            description_en: "".into(),
            logic: json!(true),
        };
        assert!(compile(&[green]).is_err(), "rules only raise a colour");
    }
}
