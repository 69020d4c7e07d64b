//! The XPath subset: what expressions mean, and that no text makes the parser or evaluator fail.

use proptest::prelude::*;
use tongban_xform::Instance;
use tongban_xform::xpath::{self, Env};

fn env() -> Env {
    Env {
        today: time::macros::date!(2026 - 12 - 06),
    }
}

/// /data with a=5, empty e, s="fever cough", d=2026-12-01, and two repeat instances r with x.
fn doc() -> (Instance, usize, usize) {
    let mut doc = Instance::new("data");
    doc.add(Instance::ROOT, "a", "5");
    doc.add(Instance::ROOT, "e", "");
    doc.add(Instance::ROOT, "s", "fever cough");
    doc.add(Instance::ROOT, "d", "2026-12-01");
    doc.add(Instance::ROOT, "name", "王芳");
    let r1 = doc.add(Instance::ROOT, "r", "");
    let x1 = doc.add(r1, "x", "3");
    let r2 = doc.add(Instance::ROOT, "r", "");
    let x2 = doc.add(r2, "x", "4");
    (doc, x1, x2)
}

fn eval(text: &str, at: usize) -> String {
    let (doc, _, _) = doc();
    let expr = xpath::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    xpath::eval(&expr, &doc, at, &env()).text(&doc)
}

fn truth(text: &str, at: usize) -> bool {
    let (doc, _, _) = doc();
    let expr = xpath::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    xpath::eval(&expr, &doc, at, &env()).truth()
}

#[test]
fn expressions_mean_what_xlsform_designers_expect() {
    let (_, x1, x2) = doc();
    let root = Instance::ROOT;
    for (text, expected) in [
        ("/data/a > 4 and /data/a < 6", true),
        ("/data/a = 5", true),
        ("/data/a = '5'", true),
        ("/data/a != 5", false),
        // An empty answer is NaN as a number: neither above nor below.
        ("/data/e > 0", false),
        ("/data/e < 0", false),
        ("/data/e = ''", true),
        ("selected(/data/s, 'cough')", true),
        ("selected(/data/s, 'cou')", false),
        ("count-selected(/data/s) = 2", true),
        ("string-length(/data/name) = 2", true),
        ("regex(/data/a, '^[0-9]+$')", true),
        ("regex(/data/name, '^[0-9]+$')", false),
        // Dates compare as days, and today() is the region's day.
        ("/data/d <= today()", true),
        ("/data/d > date('2026-12-01')", false),
        ("today() - /data/d = 5", true),
        ("count(/data/r) = 2", true),
        ("sum(/data/r/x) = 7", true),
        ("/data/a mod 2 = 1", true),
        ("/data/a div 2 = 2.5", true),
        ("-/data/a = -5", true),
        ("not(/data/e)", false),
        ("not(/data/missing)", true),
        ("if(/data/a > 3, 'big', 'small') = 'big'", true),
        ("coalesce(/data/e, 'x') = 'x'", true),
        ("int(7.9) = 7 and round(2.45, 1) = 2.5", true),
        ("concat(/data/name, '-', 1) = '王芳-1'", true),
        (
            "contains(/data/s, 'ever') and starts-with(/data/s, 'fe')",
            true,
        ),
        ("substr('abcdef', 1, 3) = 'bc'", true),
        ("max(1, 9, 4) = 9 and min(3, 2) = 2", true),
        ("true() or 1 div 0", true),
    ] {
        assert_eq!(truth(text, root), expected, "{text}");
    }
    // Relative paths and the repeat instance holding the context node.
    assert_eq!(eval(".", x2), "4");
    assert_eq!(eval("../x", x1), "3");
    assert_eq!(eval("/data/r/x", x2), "4");
    assert_eq!(eval("/data/r/x + ../../a", x1), "8");
    assert_eq!(eval("today()", root), "2026-12-06");
    assert_eq!(eval("1 div 0", root), "Infinity");
    assert_eq!(eval("number('abc')", root), "NaN");
}

#[test]
fn what_is_outside_the_subset_is_refused_where_it_is() {
    for (text, at, start) in [
        ("/data/a[1]", 7, "'['"),
        ("//a", 0, "'//'"),
        ("@id", 0, "'@'"),
        ("jr:choice-name(., 'x')", 0, "the function jr:choice-name()"),
        (
            "regex(., /data/a)",
            9,
            "the pattern of regex() must be a quoted string",
        ),
        ("regex(., '(')", 9, "the pattern of regex() is not valid"),
        ("'open", 0, "a string that is never closed"),
        ("(1 + 2", 6, "a ')' is missing"),
        ("1 +", 3, "the expression ends too early"),
        ("not(1, 2)", 0, "not() takes 1 argument"),
        ("${a} > 1", 0, "'$'"),
    ] {
        let error = xpath::parse(text).expect_err(text);
        assert_eq!(error.at, at, "{text}: {error}");
        assert!(
            error.problem.starts_with(start) || error.problem.contains(start),
            "{text}: {error}"
        );
    }
    let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
    assert!(xpath::parse(&deep).is_err());
    assert!(xpath::parse(&"1 + ".repeat(1000)).is_err());
}

proptest! {
    #[test]
    fn no_text_makes_parsing_or_evaluation_fail(text in "[ -~一二]{0,80}") {
        if let Ok(expr) = xpath::parse(&text) {
            let (doc, x1, _) = doc();
            let _ = xpath::eval(&expr, &doc, x1, &env()).text(&doc);
        }
    }

    #[test]
    fn expressions_from_the_grammar_evaluate(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("/data/a"), Just("."), Just("../x"), Just("1.5"), Just("'t'"),
                Just("today()"), Just("count(/data/r)"), Just("selected(/data/s, 'fever')"),
            ],
            1..6,
        ),
        ops in proptest::collection::vec(
            prop_oneof![Just(" + "), Just(" * "), Just(" div "), Just(" = "), Just(" < "), Just(" and "), Just(" or "), Just(" mod ")],
            5,
        ),
    ) {
        let mut text = String::from(parts[0]);
        for (part, op) in parts[1..].iter().zip(&ops) {
            text.push_str(op);
            text.push_str(part);
        }
        let expr = xpath::parse(&text);
        prop_assert!(expr.is_ok(), "{text}: {:?}", expr.err());
        let (doc, x1, _) = doc();
        if let Ok(expr) = expr {
            let _ = xpath::eval(&expr, &doc, x1, &env()).truth();
        }
    }

    #[test]
    fn no_bytes_make_the_instance_reader_fail(text in "[<>/a-z =\"'&;#x0-9]{0,200}") {
        let _ = Instance::parse(&text);
    }
}
