//! A submitted instance checked against its form, as ODK Collect checks it before sending: an
//! answer required (where relevant) is there, each answer has its type and, for selects, is one
//! of the list's choices, and each constraint holds. Questions that are not relevant are not
//! checked. Every problem is reported with the question's path (repeat instances numbered from
//! 1) and the rule it breaks.

use std::fmt;

use crate::instance::{Instance, NodeId, XmlError};
use crate::xpath::{self, Env, Expr, ParseError};
use crate::{Form, Kind, Node, ROOT};

/// The longest `instanceID` taken.
pub const MAX_INSTANCE_ID: usize = 128;

#[derive(Debug, Clone, Default)]
struct Rules {
    required: Option<Expr>,
    constraint: Option<Expr>,
    relevant: Option<Expr>,
    children: Vec<Rules>,
}

/// A form ready to check submissions against: its expressions parsed once.
#[derive(Debug, Clone)]
pub struct Checker {
    form: Form,
    rules: Vec<Rules>,
    instance_name: Option<Expr>,
}

/// Which rule an answer breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Required and empty.
    Required,
    /// Not a value of the question's type (the XForm type named).
    Type(&'static str),
    /// Not a choice of the question's list.
    NotAChoice(String),
    /// The constraint does not hold; the form's message for it, if it has one.
    Constraint(Option<String>),
    /// An element the form does not have.
    Unknown,
    /// A question answered twice (two elements of its name outside a repeat).
    Twice,
}

/// One problem with a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Where, as `/data/group/name` with repeat instances as `[n]`.
    pub path: String,
    /// The question's label (empty for an unknown element).
    pub label: String,
    pub rule: Rule,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.label.is_empty() {
            self.path.clone()
        } else {
            format!("{} ({})", self.path, self.label)
        };
        match &self.rule {
            Rule::Required => write!(f, "{name}: an answer is required"),
            Rule::Type(kind) => write!(f, "{name}: not a valid {kind}"),
            Rule::NotAChoice(value) => write!(f, "{name}: {value:?} is not one of the choices"),
            Rule::Constraint(Some(message)) => {
                write!(f, "{name}: the constraint does not hold: {message}")
            }
            Rule::Constraint(None) => write!(f, "{name}: the constraint does not hold"),
            Rule::Unknown => write!(f, "{name}: the form has no such question"),
            Rule::Twice => write!(f, "{name}: answered more than once"),
        }
    }
}

/// Why a submission was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Xml(XmlError),
    /// The instance is for another form (its root's `id`).
    OtherForm(String),
    /// `meta/instanceID` is missing, empty or too long.
    NoInstanceId,
    Invalid(Vec<Invalid>),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Xml(e) => write!(f, "{e}"),
            Refusal::OtherForm(id) => write!(f, "the submission is for the form {id:?}"),
            Refusal::NoInstanceId => write!(
                f,
                "meta/instanceID is missing, empty or longer than {MAX_INSTANCE_ID} characters"
            ),
            Refusal::Invalid(list) => {
                let lines: Vec<String> = list.iter().map(ToString::to_string).collect();
                write!(f, "{}", lines.join("; "))
            }
        }
    }
}

/// One answer of an accepted submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The question's path in the form (`/data/group/name`).
    pub field: String,
    /// Where in this submission (`/data/r[2]/name`).
    pub path: String,
    pub value: String,
}

/// An accepted submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub instance_id: String,
    /// The instance this one corrects (`meta/deprecatedID`), for an edit.
    pub deprecated_id: Option<String>,
    /// The form version the collector filled in.
    pub version: Option<String>,
    pub instance_name: Option<String>,
    /// The relevant, non-empty answers, in the form's order.
    pub answers: Vec<Answer>,
}

fn compile(nodes: &[Node], at: &str) -> Result<Vec<Rules>, (String, ParseError)> {
    nodes
        .iter()
        .map(|node| {
            let path = format!("{at}/{}", node.name);
            let parse = |text: &Option<String>| -> Result<Option<Expr>, (String, ParseError)> {
                text.as_deref()
                    .map(xpath::parse)
                    .transpose()
                    .map_err(|e| (path.clone(), e))
            };
            Ok(Rules {
                required: parse(&node.required)?,
                constraint: parse(&node.constraint)?,
                relevant: parse(&node.relevant)?,
                children: compile(&node.children, &path)?,
            })
        })
        .collect()
}

impl Checker {
    /// Parses the form's expressions; `Err` names the node whose expression cannot be read.
    pub fn new(form: Form) -> Result<Checker, (String, ParseError)> {
        let rules = compile(&form.children, &format!("/{ROOT}"))?;
        let instance_name = form
            .instance_name
            .as_deref()
            .map(xpath::parse)
            .transpose()
            .map_err(|e| (format!("/{ROOT}/meta/instanceName"), e))?;
        Ok(Checker {
            form,
            rules,
            instance_name,
        })
    }

    pub fn form(&self) -> &Form {
        &self.form
    }

    /// Checks a submitted instance.
    pub fn check(&self, xml: &str, env: &Env) -> Result<Checked, Refusal> {
        let review = self.review(xml, env)?;
        if review.invalid.is_empty() {
            Ok(review.checked)
        } else {
            Err(Refusal::Invalid(review.invalid))
        }
    }

    /// Reads an instance as a collector's draft: every problem, and which questions are not
    /// relevant to these answers (a page without scripts hides them on the next view). `Err`
    /// only where the instance cannot be read at all.
    pub fn review(&self, xml: &str, env: &Env) -> Result<Review, Refusal> {
        let mut doc = Instance::parse(xml).map_err(Refusal::Xml)?;
        let id = doc.attribute(Instance::ROOT, "id").unwrap_or_default();
        if id != self.form.id {
            return Err(Refusal::OtherForm(id.to_owned()));
        }
        let meta = doc.children_named(Instance::ROOT, "meta").next();
        let meta_text = |doc: &Instance, name: &str| {
            meta.and_then(|m| doc.children_named(m, name).next())
                .map(|n| doc.text(n).trim().to_owned())
                .filter(|t| !t.is_empty())
        };
        let instance_id = meta_text(&doc, "instanceID")
            .filter(|id| id.len() <= MAX_INSTANCE_ID)
            .ok_or(Refusal::NoInstanceId)?;
        let deprecated_id = meta_text(&doc, "deprecatedID");
        let version = doc.attribute(Instance::ROOT, "version").map(str::to_owned);
        complete(&mut doc, Instance::ROOT, &self.form.children);
        let mut walk = Walk {
            form: &self.form,
            doc: &doc,
            env,
            invalid: Vec::new(),
            answers: Vec::new(),
            hidden: Vec::new(),
        };
        let root = format!("/{ROOT}");
        walk.unknown(Instance::ROOT, &self.form.children, &root, true);
        walk.nodes(
            Instance::ROOT,
            &self.form.children,
            &self.rules,
            &root,
            &root,
            true,
        );
        let instance_name = self.instance_name.as_ref().map(|expr| {
            let at = meta.unwrap_or(Instance::ROOT);
            xpath::eval(expr, &doc, at, env).text(&doc)
        });
        Ok(Review {
            checked: Checked {
                instance_id,
                deprecated_id,
                version,
                instance_name,
                answers: walk.answers,
            },
            invalid: walk.invalid,
            hidden: walk.hidden,
        })
    }
}

/// An instance read as a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// What was accepted (meaningful when `invalid` is empty).
    pub checked: Checked,
    pub invalid: Vec<Invalid>,
    /// The questions and groups that are not relevant to these answers, by their path in this
    /// instance (`/data/r[2]/name`).
    pub hidden: Vec<String>,
}

/// Adds an empty element for every question the submission left out (outside repeats), so
/// that expressions see the shape the form has.
fn complete(doc: &mut Instance, at: NodeId, nodes: &[Node]) {
    for node in nodes {
        let present: Vec<NodeId> = doc.children_named(at, &node.name).collect();
        match (&node.kind, present.as_slice()) {
            (Kind::Repeat, instances) => {
                for &instance in instances {
                    complete(doc, instance, &node.children);
                }
            }
            (_, []) => {
                let added = doc.add(at, &node.name, "");
                complete(doc, added, &node.children);
            }
            (_, [first, ..]) => complete(doc, *first, &node.children),
        }
    }
}

struct Walk<'a> {
    form: &'a Form,
    doc: &'a Instance,
    env: &'a Env,
    invalid: Vec<Invalid>,
    answers: Vec<Answer>,
    hidden: Vec<String>,
}

impl Walk<'_> {
    fn fail(&mut self, path: &str, node: &Node, rule: Rule) {
        self.invalid.push(Invalid {
            path: path.to_owned(),
            label: node.label.clone(),
            rule,
        });
    }

    /// Elements under `at` that the form does not have.
    fn unknown(&mut self, at: NodeId, nodes: &[Node], path: &str, root: bool) {
        for &child in self.doc.children(at) {
            let name = self.doc.name(child);
            if root && name == "meta" {
                continue;
            }
            match nodes.iter().find(|n| n.name == name) {
                Some(node) if node.kind.is_container() => {
                    self.unknown(child, &node.children, &format!("{path}/{name}"), false);
                }
                Some(_) => {}
                None => self.invalid.push(Invalid {
                    path: format!("{path}/{name}"),
                    label: String::new(),
                    rule: Rule::Unknown,
                }),
            }
        }
    }

    fn nodes(
        &mut self,
        at: NodeId,
        nodes: &[Node],
        rules: &[Rules],
        field_prefix: &str,
        path_prefix: &str,
        relevant: bool,
    ) {
        for (node, rule) in nodes.iter().zip(rules) {
            let field = format!("{field_prefix}/{}", node.name);
            let elements: Vec<NodeId> = self.doc.children_named(at, &node.name).collect();
            if node.kind == Kind::Repeat {
                for (n, element) in elements.iter().enumerate() {
                    let path = format!("{path_prefix}/{}[{}]", node.name, n + 1);
                    let here = relevant && self.holds(&rule.relevant, *element, true);
                    if !here {
                        self.hidden.push(path.clone());
                    }
                    self.nodes(
                        *element,
                        &node.children,
                        &rule.children,
                        &field,
                        &path,
                        here,
                    );
                }
                continue;
            }
            let path = format!("{path_prefix}/{}", node.name);
            let Some(&element) = elements.first() else {
                continue;
            };
            if elements.len() > 1 {
                self.fail(&path, node, Rule::Twice);
            }
            let here = relevant && self.holds(&rule.relevant, element, true);
            if !here {
                self.hidden.push(path.clone());
            }
            if node.kind == Kind::Group {
                self.nodes(element, &node.children, &rule.children, &field, &path, here);
                continue;
            }
            if !here {
                continue;
            }
            let value = self.doc.text(element).trim();
            if value.is_empty() {
                if node.kind != Kind::Note && self.holds(&rule.required, element, false) {
                    self.fail(&path, node, Rule::Required);
                }
                continue;
            }
            if let Some(problem) = value_problem(self.form, node, value) {
                self.fail(&path, node, problem);
                continue;
            }
            if !self.holds(&rule.constraint, element, true) {
                self.fail(
                    &path,
                    node,
                    Rule::Constraint(node.constraint_message.clone()),
                );
                continue;
            }
            self.answers.push(Answer {
                field,
                path,
                value: value.to_owned(),
            });
        }
    }

    fn holds(&self, expr: &Option<Expr>, at: NodeId, otherwise: bool) -> bool {
        expr.as_ref().map_or(otherwise, |e| {
            xpath::eval(e, self.doc, at, self.env).truth()
        })
    }
}

fn value_problem(form: &Form, node: &Node, value: &str) -> Option<Rule> {
    let kind = node.kind.xform_type().unwrap_or("string");
    let bad = || Some(Rule::Type(kind));
    match &node.kind {
        Kind::Integer => value.parse::<i64>().err().and(bad()),
        Kind::Decimal => match value.parse::<f64>() {
            Ok(n) if n.is_finite() && !value.contains(['e', 'E', 'i', 'n', 'N']) => None,
            _ => bad(),
        },
        Kind::Date | Kind::Today => (!is_date(value)).then_some(Rule::Type(kind)),
        Kind::Time => (!is_time(value)).then_some(Rule::Type(kind)),
        Kind::DateTime | Kind::Start | Kind::End => {
            let ok = value
                .split_once('T')
                .is_some_and(|(d, t)| is_date(d) && is_time(t));
            (!ok).then_some(Rule::Type(kind))
        }
        Kind::Geopoint => (!is_geopoint(value)).then_some(Rule::Type(kind)),
        Kind::SelectOne(list) => {
            let known = form
                .list(list)
                .is_some_and(|l| l.choices.iter().any(|c| c.name == value));
            (!known).then(|| Rule::NotAChoice(value.to_owned()))
        }
        // An entity's id: one token (the list itself is the platform's to check).
        Kind::SelectOneFromFile(_) => value
            .contains(char::is_whitespace)
            .then(|| Rule::NotAChoice(value.to_owned())),
        Kind::SelectMultiple(list) => {
            let choices = form.list(list).map_or(&[][..], |l| l.choices.as_slice());
            value
                .split_whitespace()
                .find(|v| !choices.iter().any(|c| c.name == *v))
                .map(|v| Rule::NotAChoice(v.to_owned()))
        }
        Kind::Image | Kind::File => {
            let ok = !value.contains(['/', '\\']) && value != "." && value != "..";
            (!ok).then_some(Rule::Type(kind))
        }
        Kind::Text | Kind::Note | Kind::Calculate | Kind::DeviceId | Kind::Group | Kind::Repeat => {
            None
        }
    }
}

fn is_date(text: &str) -> bool {
    text.len() == 10 && xpath::date_days(text).is_some()
}

/// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.sss`, with an optional zone (`Z`, `+08:00`).
fn is_time(text: &str) -> bool {
    let (clock, zone) = match text.find(['Z', '+']).or_else(|| text.rfind('-')) {
        Some(i) => (&text[..i], &text[i..]),
        None => (text, ""),
    };
    let zone_ok = zone.is_empty()
        || zone == "Z"
        || (zone.len() == 6
            && zone[1..3].parse::<u8>().is_ok_and(|h| h <= 14)
            && &zone[3..4] == ":"
            && zone[4..].parse::<u8>().is_ok_and(|m| m < 60));
    let mut parts = clock.split(':');
    let hour = parts
        .next()
        .and_then(|h| (h.len() == 2).then(|| h.parse::<u8>().ok()).flatten());
    let minute = parts
        .next()
        .and_then(|m| (m.len() == 2).then(|| m.parse::<u8>().ok()).flatten());
    let second_ok = match parts.next() {
        None => true,
        Some(s) => {
            let whole = s.split('.').next().unwrap_or("");
            whole.len() == 2
                && whole.parse::<u8>().is_ok_and(|v| v < 61)
                && s.split('.')
                    .nth(1)
                    .is_none_or(|f| f.chars().all(|c| c.is_ascii_digit()))
        }
    };
    zone_ok
        && parts.next().is_none()
        && hour.is_some_and(|h| h < 24)
        && minute.is_some_and(|m| m < 60)
        && second_ok
}

fn is_geopoint(text: &str) -> bool {
    let numbers: Vec<f64> = text
        .split_whitespace()
        .map_while(|p| p.parse::<f64>().ok().filter(|n| n.is_finite()))
        .collect();
    let count = text.split_whitespace().count();
    numbers.len() == count
        && (2..=4).contains(&count)
        && (-90.0..=90.0).contains(&numbers[0])
        && (-180.0..=180.0).contains(&numbers[1])
}
