//! What a stored submission adds to its form's tallies, from which results roll up
//! ([`crate::rollup`]) without opening the sealed instances.

use std::collections::BTreeMap;

use tongban_xform::{Answer, Form, Kind};

use crate::store::Tally;

/// What a stored submission adds to its form's tallies.
pub fn tallies_of(form: &Form, answers: &[Answer]) -> Vec<Tally> {
    let kinds: BTreeMap<String, &Kind> = form
        .nodes()
        .into_iter()
        .map(|(path, node)| (path, &node.kind))
        .collect();
    let mut out = Vec::new();
    for answer in answers {
        let one = |value: &str, total: f64| Tally {
            field: answer.field.clone(),
            value: value.to_owned(),
            count: 1,
            total,
        };
        match kinds.get(&answer.field) {
            Some(Kind::SelectOne(_)) => out.push(one(&answer.value, 0.0)),
            Some(Kind::SelectMultiple(_)) => {
                for choice in answer.value.split_whitespace() {
                    out.push(one(choice, 0.0));
                }
            }
            Some(Kind::Integer | Kind::Decimal) => {
                if let Ok(n) = answer.value.parse::<f64>()
                    && n.is_finite()
                {
                    out.push(one("", n));
                }
            }
            _ => {}
        }
    }
    out
}
