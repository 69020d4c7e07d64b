//! tongban-forms: the form engine. A form is a list of typed fields; a field may be bound to
//! something the platform already knows about the person filling it in (prefill), which they
//! then cannot change. Submissions are checked against the form — every problem found, not
//! only the first — and turned into typed values; a form can be described as JSON Schema for
//! other systems. Application forms use it today; one-form collection (一表通) and open data
//! are meant to. No IO: the known values come in from the caller.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The most characters one value may have.
pub const MAX_VALUE_CHARS: usize = 500;

/// What a form field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    /// `YYYY-MM-DD`.
    Date,
    /// A decimal number, not negative.
    Number,
    /// Several texts, separated by 、 or commas in a form.
    List,
}

/// What the platform already knows and fills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Prefill {
    /// The name of the one filling it in (a person's, or an enterprise's).
    Name,
    ResidentId,
    Phone,
    Uscc,
}

/// A field of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FormField {
    pub code: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    /// Filled from the record of the one filling it in, and not editable.
    #[serde(default)]
    pub prefill: Option<Prefill>,
}

/// What the platform knows, by binding.
pub type Known = BTreeMap<Prefill, String>;

/// One problem with a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's code (or the unknown key sent).
    pub field: String,
    pub problem: Problem,
}

/// What is wrong with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// A key that is no field of the form.
    Unknown,
    Required,
    TooLong,
    NotADate,
    NotANumber,
}

impl FieldError {
    /// The problem in words, naming the field by its label (as forms show it).
    pub fn message(&self, fields: &[FormField]) -> String {
        let label = fields
            .iter()
            .find(|f| f.code == self.field)
            .map_or(self.field.as_str(), |f| f.label.as_str());
        match self.problem {
            Problem::Unknown => format!("{} is not a field of this form", self.field),
            Problem::Required => format!("{label} is required"),
            Problem::TooLong => format!("{label}: at most {MAX_VALUE_CHARS} characters"),
            Problem::NotADate => format!("{label} must be a date, YYYY-MM-DD"),
            Problem::NotANumber => format!("{label} must be a number"),
        }
    }
}

/// The form with the known values in: what a person sees before filling it in.
pub fn prefilled<'f>(
    fields: &'f [FormField],
    known: &Known,
) -> Vec<(&'f FormField, Option<String>)> {
    fields
        .iter()
        .map(|field| (field, field.prefill.and_then(|p| known.get(&p).cloned())))
        .collect()
}

/// Whether any field is bound to a known value (so the caller need read nothing otherwise).
pub fn needs_known(fields: &[FormField]) -> bool {
    fields.iter().any(|f| f.prefill.is_some())
}

/// Checks a submission against the form. Bound fields take the known values, whatever was
/// sent (no one fills in a form as someone else); required fields must have a value; each
/// value must be of its kind and at most [`MAX_VALUE_CHARS`] long; no unknown key may be sent.
/// Returns the typed values by field code, or every problem found, in the form's order (unknown
/// keys first).
pub fn check(
    fields: &[FormField],
    submitted: &BTreeMap<String, String>,
    known: &Known,
) -> Result<BTreeMap<String, Value>, Vec<FieldError>> {
    let mut errors: Vec<FieldError> = submitted
        .keys()
        .filter(|key| !fields.iter().any(|f| &f.code == *key))
        .map(|key| FieldError {
            field: key.clone(),
            problem: Problem::Unknown,
        })
        .collect();
    let mut values = BTreeMap::new();
    for field in fields {
        let text = match field.prefill.and_then(|p| known.get(&p)) {
            Some(value) => value.clone(),
            None => submitted
                .get(&field.code)
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
        };
        match value_of(field, text) {
            Ok(Some(value)) => {
                values.insert(field.code.clone(), value);
            }
            Ok(None) => {}
            Err(problem) => errors.push(FieldError {
                field: field.code.clone(),
                problem,
            }),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// The typed value of one field's text; `None` for an optional field left empty.
fn value_of(field: &FormField, text: String) -> Result<Option<Value>, Problem> {
    if text.is_empty() {
        return if field.required {
            Err(Problem::Required)
        } else {
            Ok(None)
        };
    }
    if text.chars().count() > MAX_VALUE_CHARS {
        return Err(Problem::TooLong);
    }
    let value = match field.kind {
        FieldKind::Text => Value::String(text),
        FieldKind::Date => {
            time::Date::parse(
                &text,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| Problem::NotADate)?;
            Value::String(text)
        }
        FieldKind::Number => {
            if !text.parse::<f64>().is_ok_and(|n| n.is_finite() && n >= 0.0) {
                return Err(Problem::NotANumber);
            }
            Value::String(text)
        }
        FieldKind::List => Value::Array(
            text.split(['、', ',', '，', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        ),
    };
    Ok(Some(value))
}

/// The form as a JSON Schema (2020-12): one property per field, bound ones read-only and not
/// required of the sender.
pub fn json_schema(fields: &[FormField]) -> Value {
    let mut properties = serde_json::Map::new();
    for f in fields {
        let mut p = match f.kind {
            FieldKind::Text => json!({"type": "string", "maxLength": MAX_VALUE_CHARS}),
            FieldKind::Date => json!({"type": "string", "format": "date"}),
            FieldKind::Number => json!({"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"}),
            FieldKind::List => {
                json!({"type": "string", "description": "entries separated by 、 or commas"})
            }
        };
        p["title"] = json!(f.label);
        if f.prefill.is_some() {
            p["readOnly"] = json!(true);
        }
        properties.insert(f.code.clone(), p);
    }
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required && f.prefill.is_none())
        .map(|f| f.code.as_str())
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(code: &str, kind: FieldKind, required: bool, prefill: Option<Prefill>) -> FormField {
        FormField {
            code: code.into(),
            label: format!("「{code}」"),
            kind,
            required,
            prefill,
        }
    }

    fn form() -> Vec<FormField> {
        vec![
            field("operator", FieldKind::Text, true, Some(Prefill::Name)),
            field("opened", FieldKind::Date, false, None),
            field("capital", FieldKind::Number, true, None),
            field("scope", FieldKind::List, false, None),
        ]
    }

    fn sent(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn known() -> Known {
        [(Prefill::Name, "张伟".to_owned())].into_iter().collect()
    }

    #[test]
    fn a_bound_field_takes_the_known_value_whatever_was_sent() {
        let values = check(
            &form(),
            &sent(&[
                ("operator", "李四"),
                ("capital", " 5 "),
                ("scope", "小吃、饮品, 外卖"),
            ]),
            &known(),
        )
        .expect("valid");
        assert_eq!(values["operator"], "张伟");
        assert_eq!(values["capital"], "5");
        assert_eq!(values["scope"], json!(["小吃", "饮品", "外卖"]));
        assert!(
            !values.contains_key("opened"),
            "an empty optional field is left out"
        );
    }

    #[test]
    fn every_problem_is_reported_in_the_forms_order() {
        let errors = check(
            &form(),
            &sent(&[
                ("colour", "red"),
                ("opened", "2026-13-01"),
                ("capital", "-1"),
            ]),
            &Known::new(),
        )
        .expect_err("invalid");
        let found: Vec<(&str, Problem)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.problem))
            .collect();
        assert_eq!(
            found,
            [
                ("colour", Problem::Unknown),
                ("operator", Problem::Required),
                ("opened", Problem::NotADate),
                ("capital", Problem::NotANumber),
            ]
        );
        assert_eq!(errors[1].message(&form()), "「operator」 is required");
        assert_eq!(
            errors[0].message(&form()),
            "colour is not a field of this form"
        );
    }

    #[test]
    fn values_are_bounded_and_numbers_are_finite() {
        let long = "字".repeat(MAX_VALUE_CHARS + 1);
        for (capital, problem) in [
            ("NaN", Problem::NotANumber),
            ("inf", Problem::NotANumber),
            (long.as_str(), Problem::TooLong),
        ] {
            let errors =
                check(&form(), &sent(&[("capital", capital)]), &known()).expect_err("invalid");
            assert_eq!(errors[0].problem, problem, "{capital}");
        }
    }

    #[test]
    fn the_prefilled_form_and_its_schema_mark_bound_fields() {
        let form = form();
        let shown = prefilled(&form, &known());
        assert_eq!(shown[0].1.as_deref(), Some("张伟"));
        assert_eq!(shown[1].1, None);
        assert!(needs_known(&form));
        let schema = json_schema(&form);
        assert_eq!(schema["properties"]["operator"]["readOnly"], true);
        assert_eq!(schema["required"], json!(["capital"]));
        assert_eq!(schema["additionalProperties"], false);
    }
}
