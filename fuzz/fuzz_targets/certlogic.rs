//! Fuzzes the CertLogic validator and evaluator with arbitrary JSON expressions and data: they
//! answer or refuse, never panic, and never overflow the stack.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // First line: the expression; the rest: the data context.
    let text = String::from_utf8_lossy(data);
    let (expression, context) = text.split_once('\n').unwrap_or((&text, "null"));
    let Ok(expression) = serde_json::from_str::<Value>(expression) else { return };
    let context = serde_json::from_str::<Value>(context).unwrap_or(Value::Null);
    let issues = tongban_rules::validate(&expression);
    let outcome = tongban_rules::evaluate_json(&expression, &context);
    // Operands are evaluated lazily, so a malformed branch that is never taken does not stop
    // evaluation; but a malformed top-level expression must never evaluate to a value.
    // (A badly formed `var` path only reads nothing, so it is left out.)
    let malformed_top = issues.iter().any(|i| {
        i.expression == expression && !i.message.starts_with("the expression is nested") && !i.message.starts_with("data access path")
    });
    if malformed_top {
        assert!(outcome.is_err(), "{expression} evaluated although invalid");
    }
});
