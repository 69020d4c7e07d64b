//! Documents as the demo city's offices write them, for the demo, the tests and the bench.

use crate::gongwen::draft::{Draft, Recipient, Relation};
use crate::gongwen::kind::{Direction, Kind};

/// The district government's notice to its streets, the `n`th of a series.
pub fn notice(n: usize) -> Draft {
    Draft {
        kind: Kind::Notice,
        direction: Direction::Downward,
        title: format!("临江区人民政府关于做好第{n}批惠企政策兑现工作的通知"),
        main_recipients: vec![Recipient {
            name: "各街道办事处".into(),
            relation: Relation::Subordinate,
        }],
        copied_to: Vec::new(),
        signer: None,
        secrecy: None,
        copies: None,
        urgency: None,
        body: "为落实惠企政策“免申即享”，现将第一批兑现工作有关事项通知如下：……".into(),
        requests: Vec::new(),
        attachments: vec!["惠企政策兑现企业名单".into()],
        answers: None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_example_keeps_every_rule_of_its_kind() {
        assert!(crate::gongwen::draft::check(&super::notice(3)).is_empty());
    }
}
