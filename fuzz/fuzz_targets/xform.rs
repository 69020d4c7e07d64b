//! Fuzzes 一表通's readers: the XPath subset (any text is parsed or refused, and what parses
//! evaluates against an instance without a panic), submitted instances (any text is read or
//! refused, and what is read is checked against a form), and XLSForm workbooks (any bytes are
//! read into a form, whose XForm is well-formed, or refused with each mistake placed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongban_xform::xpath::{self, Env};
use tongban_xform::{Checker, Instance, Kind, Node, xform, xlsform};

fn form() -> tongban_xform::Form {
    let mut age = Node::new("age", Kind::Integer);
    age.label = "Age".into();
    age.constraint = Some(". >= 0 and . < 150".into());
    age.required = Some("true()".into());
    let mut name = Node::new("name", Kind::Text);
    name.label = "Name".into();
    name.relevant = Some("/data/age > 17".into());
    let mut person = Node::new("person", Kind::Repeat);
    person.children = vec![name];
    tongban_xform::Form {
        id: "f".into(),
        title: "F".into(),
        version: None,
        instance_name: Some("concat('x', /data/age)".into()),
        children: vec![age, person],
        choices: Vec::new(),
    }
}

fuzz_target!(|data: &[u8]| {
    let env = Env {
        today: time::macros::date!(2026 - 12 - 06),
    };
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(expr) = xpath::parse(text) {
            let mut doc = Instance::new("data");
            let person = doc.add(Instance::ROOT, "person", "");
            let age = doc.add(person, "age", "41");
            let _ = xpath::eval(&expr, &doc, age, &env).text(&doc);
        }
        if let Ok(checker) = Checker::new(form()) {
            let _ = checker.check(text, &env);
        }
    }
    if let Ok(form) = xlsform::read(data, "fuzz") {
        let xml = xform::write(&form);
        assert!(Instance::parse(&xml).is_ok(), "a written XForm reads back");
        assert!(Checker::new(form).is_ok(), "a form that reads compiles");
    }
});
