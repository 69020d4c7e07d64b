//! Validation of CertLogic expressions before use: a rule that would fail on some input is
//! refused when it is published, not when a person is checked.

use serde_json::Value as Json;

/// One problem found in an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub expression: Json,
    pub message: String,
}

const MAX_DEPTH: usize = 96;

fn valid_path(path: &str) -> bool {
    path.is_empty()
        || path.split('.').all(|fragment| {
            !fragment.is_empty()
                && fragment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

/// Every issue with the expression; empty when it is valid.
pub fn validate(expression: &Json) -> Vec<Issue> {
    let mut issues = Vec::new();
    check(expression, 0, &mut issues);
    issues
}

fn issue(expression: &Json, message: impl Into<String>, issues: &mut Vec<Issue>) {
    issues.push(Issue {
        expression: expression.clone(),
        message: message.into(),
    });
}

fn check(expression: &Json, depth: usize, issues: &mut Vec<Issue>) {
    if depth > MAX_DEPTH {
        return issue(expression, "the expression is nested too deeply", issues);
    }
    match expression {
        Json::Null => issue(expression, "invalid CertLogic expression", issues),
        Json::Number(n) if n.as_i64().is_none() && n.as_f64().is_none_or(|f| f.fract() != 0.0) => {
            issue(expression, format!("{n} is a non-integer number"), issues)
        }
        Json::Bool(_) | Json::Number(_) | Json::String(_) => {}
        Json::Array(items) => items.iter().for_each(|item| check(item, depth + 1, issues)),
        Json::Object(map) => {
            if map.len() != 1 {
                return issue(
                    expression,
                    format!(
                        "expression object must have exactly one key, but it has {}",
                        map.len()
                    ),
                    issues,
                );
            }
            let Some((operator, argument)) = map.iter().next() else {
                return;
            };
            if operator == "var" {
                match argument {
                    Json::String(path) if valid_path(path) => {}
                    Json::String(path) => issue(
                        expression,
                        format!("data access path doesn't have a valid format: {path}"),
                        issues,
                    ),
                    _ => issue(
                        expression,
                        "not of the form { \"var\": \"<path>\" }",
                        issues,
                    ),
                }
                return;
            }
            let Json::Array(args) = argument else {
                return issue(
                    expression,
                    "operation not of the form { \"<operator>\": [ <values...> ] }",
                    issues,
                );
            };
            check_operation(expression, operator, args, depth, issues);
        }
    }
}

fn check_operation(
    expression: &Json,
    operator: &str,
    args: &[Json],
    depth: usize,
    issues: &mut Vec<Issue>,
) {
    let arity_ok = match operator {
        "if" | "plusTime" | "reduce" => args.len() == 3,
        "===" | "in" | "+" | "extractFromUVCI" => args.len() == 2,
        "and" => args.len() >= 2,
        "<" | ">" | "<=" | ">=" | "after" | "before" | "not-after" | "not-before" => {
            matches!(args.len(), 2 | 3)
        }
        "!" | "dccDateOfBirth" => args.len() == 1,
        _ => {
            return issue(
                expression,
                format!("unrecognised operator: \"{operator}\""),
                issues,
            );
        }
    };
    if !arity_ok {
        return issue(
            expression,
            format!(
                "an operation with operator \"{operator}\" has the wrong number of operands: {}",
                args.len()
            ),
            issues,
        );
    }
    match operator {
        "plusTime" => {
            check(&args[0], depth + 1, issues);
            if args[1].as_i64().is_none() {
                issue(
                    expression,
                    "the second operand of plusTime must be an integer literal",
                    issues,
                );
            }
            if !args[2]
                .as_str()
                .is_some_and(|u| matches!(u, "year" | "month" | "day" | "hour"))
            {
                issue(
                    expression,
                    "the third operand of plusTime must be \"year\", \"month\", \"day\" or \"hour\"",
                    issues,
                );
            }
        }
        "extractFromUVCI" => {
            check(&args[0], depth + 1, issues);
            if args[1].as_i64().is_none() {
                issue(
                    expression,
                    "the second operand of extractFromUVCI must be an integer literal",
                    issues,
                );
            }
        }
        _ => args.iter().for_each(|arg| check(arg, depth + 1, issues)),
    }
}
