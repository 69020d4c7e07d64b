//! tongban-xform: forms as ODK knows them, with no IO. An XLSForm workbook (survey, choices and
//! settings sheets) is read into a [`Form`] — with every mistake named by sheet, row and column
//! — and written as an ODK XForm that agrees with what `pyxform` makes of the same workbook;
//! a submitted instance is checked against the form (required answers, types, choices,
//! constraints, relevance) with the XPath subset XLSForm uses ([`xpath`]).
#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};

pub mod check;
pub mod instance;
pub mod xform;
pub mod xlsform;
pub mod xpath;

pub use check::{Answer, Checker, Invalid, Review, Rule};
pub use instance::Instance;
pub use xlsform::SheetError;

/// The name of every instance's root element (as pyxform writes it).
pub const ROOT: &str = "data";

/// A form: its identity, its questions (a tree of groups and repeats) and its choice lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    /// The form's id (`form_id`): letters, digits, `_`, `-` and `.`.
    pub id: String,
    pub title: String,
    /// The version, a text that changes with every published change.
    #[serde(default)]
    pub version: Option<String>,
    /// How a submission is named in lists (`instance_name`), an expression.
    #[serde(default)]
    pub instance_name: Option<String>,
    pub children: Vec<Node>,
    /// Every list of the choices sheet, in its order.
    #[serde(default)]
    pub choices: Vec<ChoiceList>,
    /// The entity each submission makes in a list of the project (the `entities` sheet).
    #[serde(default)]
    pub entity: Option<EntityDeclaration>,
}

/// A form that makes an entity with each submission: the list it goes to and how its label
/// is worked out; the questions marked `save_to` give its properties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityDeclaration {
    /// The entity list (ODK's dataset).
    pub dataset: String,
    /// The label, an expression (references are paths).
    pub label: String,
}

/// The ODK entities namespace and the version of the entities specification written.
pub const ENTITIES_NAMESPACE: &str = "http://www.opendatakit.org/xforms/entities";
pub const ENTITIES_VERSION: &str = "2024.1.0";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceList {
    pub name: String,
    pub choices: Vec<Choice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub name: String,
    pub label: String,
}

/// What a node of the form is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "list")]
pub enum Kind {
    Text,
    Integer,
    Decimal,
    Date,
    Time,
    DateTime,
    /// One choice from the named list.
    SelectOne(String),
    /// Any number of choices from the named list, separated by spaces.
    SelectMultiple(String),
    /// One item of a CSV file attached to the form (`households.csv`): on a platform, an
    /// entity list of the project, the answer the chosen entity's id.
    SelectOneFromFile(String),
    /// Text shown to the collector; no answer.
    Note,
    /// A value worked out from other answers.
    Calculate,
    /// `latitude longitude [altitude [accuracy]]`.
    Geopoint,
    Image,
    File,
    Group,
    Repeat,
    /// When the collector opened the form (recorded by the device).
    Start,
    /// When the collector finished it.
    End,
    /// The day it was filled in.
    Today,
    /// The device's identifier.
    DeviceId,
}

impl Kind {
    /// The XForm data type of the bind (`None` for groups and repeats).
    pub fn xform_type(&self) -> Option<&'static str> {
        Some(match self {
            Kind::Integer => "int",
            Kind::Decimal => "decimal",
            Kind::Date | Kind::Today => "date",
            Kind::Time => "time",
            Kind::DateTime | Kind::Start | Kind::End => "dateTime",
            Kind::Geopoint => "geopoint",
            Kind::Image | Kind::File => "binary",
            Kind::Group | Kind::Repeat => return None,
            Kind::Text
            | Kind::SelectOne(_)
            | Kind::SelectMultiple(_)
            | Kind::SelectOneFromFile(_)
            | Kind::Note
            | Kind::Calculate
            | Kind::DeviceId => "string",
        })
    }

    /// Whether the node holds other nodes.
    pub fn is_container(&self) -> bool {
        matches!(self, Kind::Group | Kind::Repeat)
    }

    /// Recorded by the device rather than asked (no control in the body).
    pub fn is_metadata(&self) -> bool {
        matches!(self, Kind::Start | Kind::End | Kind::Today | Kind::DeviceId)
    }
}

/// A question, a group or a repeat. Expressions are in XForm syntax: references are paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    pub kind: Kind,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub hint: String,
    /// `true()`, `false()` or an expression.
    #[serde(default)]
    pub required: Option<String>,
    #[serde(default)]
    pub required_message: Option<String>,
    #[serde(default)]
    pub constraint: Option<String>,
    #[serde(default)]
    pub constraint_message: Option<String>,
    #[serde(default)]
    pub relevant: Option<String>,
    #[serde(default)]
    pub calculation: Option<String>,
    /// A fixed starting value.
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub appearance: Option<String>,
    /// The property of the form's entity this answer is saved to (`save_to`).
    #[serde(default)]
    pub save_to: Option<String>,
    /// tongban's addition: what the platform already holds that fills this question in
    /// ([`PREFILL`]); ODK's tools ignore it.
    #[serde(default)]
    pub prefill: Option<String>,
    #[serde(default)]
    pub children: Vec<Node>,
}

/// What a question may be prefilled from (the `prefill` column): a person found by the ID
/// number typed in the question marked `person.resident_id` (their name, phone, address, region of
/// residence), or an enterprise found by the USCC typed in the question marked
/// `enterprise.uscc` (its name, its region).
pub const PREFILL: [&str; 8] = [
    "person.resident_id",
    "person.name",
    "person.phone",
    "person.address",
    "person.region",
    "enterprise.uscc",
    "enterprise.name",
    "enterprise.region",
];

/// The keys a prefill is looked up by.
pub const PREFILL_KEYS: [&str; 2] = ["person.resident_id", "enterprise.uscc"];

/// A prefill from an entity list, `entity.{list}.{property}` (or `entity.{list}.label`):
/// filled from the entity chosen in the form's question that selects from `{list}.csv`.
pub fn entity_prefill(prefill: &str) -> Option<(&str, &str)> {
    let (list, property) = prefill.strip_prefix("entity.")?.split_once('.')?;
    (is_xml_name(list) && !list.contains('.') && is_xml_name(property)).then_some((list, property))
}

/// The list a `select_one_from_file` file names: `households.csv` is the list `households`.
pub fn file_list(file: &str) -> Option<&str> {
    file.strip_suffix(".csv")
        .filter(|stem| is_xml_name(stem) && !stem.contains('.'))
}

impl Node {
    pub fn new(name: &str, kind: Kind) -> Node {
        Node {
            name: name.to_owned(),
            kind,
            label: String::new(),
            hint: String::new(),
            required: None,
            required_message: None,
            constraint: None,
            constraint_message: None,
            relevant: None,
            calculation: None,
            default: None,
            read_only: false,
            appearance: None,
            save_to: None,
            prefill: None,
            children: Vec::new(),
        }
    }
}

impl Form {
    /// The choice list of that name.
    /// The files the form's `select_one_from_file` questions choose from, each once, in the
    /// order of the questions.
    pub fn files(&self) -> Vec<&str> {
        let mut files: Vec<&str> = Vec::new();
        for (_, node) in self.nodes() {
            if let Kind::SelectOneFromFile(file) = &node.kind
                && !files.contains(&file.as_str())
            {
                files.push(file);
            }
        }
        files
    }

    pub fn list(&self, name: &str) -> Option<&ChoiceList> {
        self.choices.iter().find(|l| l.name == name)
    }

    /// Every node with its absolute path (`/data/group/name`), depth first.
    pub fn nodes(&self) -> Vec<(String, &Node)> {
        fn walk<'a>(prefix: &str, nodes: &'a [Node], out: &mut Vec<(String, &'a Node)>) {
            for node in nodes {
                let path = format!("{prefix}/{}", node.name);
                out.push((path.clone(), node));
                walk(&path, &node.children, out);
            }
        }
        let mut out = Vec::new();
        walk(&format!("/{ROOT}"), &self.children, &mut out);
        out
    }
}

/// Text made safe inside an XML element or attribute (`&`, `<`, `>`, `"`, `'` escaped), for
/// instances and answers written by hand.
pub fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// Whether `name` may name an element: an XML name without a namespace prefix.
pub fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.to_ascii_lowercase().starts_with("xml")
}
