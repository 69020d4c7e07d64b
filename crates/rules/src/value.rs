//! The values CertLogic computes with: JSON values, plus date-times (which only `plusTime` and
//! `dccDateOfBirth` can make).

use serde_json::Map;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// A number from the data context that is not an integer; CertLogic cannot operate on it.
    Float(f64),
    Str(String),
    Array(Vec<Value>),
    Object(Map<String, serde_json::Value>),
    /// Milliseconds since the Unix epoch, UTC.
    DateTime(i64),
}

impl Value {
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::Int(f as i64),
                    Some(f) => Value::Float(f),
                    None => Value::Null,
                },
            },
            serde_json::Value::String(s) => Value::Str(s.clone()),
            serde_json::Value::Array(items) => {
                Value::Array(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::Object(map.clone()),
        }
    }

    /// The JSON form; date-times become ISO 8601 strings with milliseconds.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Value::from(*f),
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Object(map) => serde_json::Value::Object(map.clone()),
            Value::DateTime(ms) => serde_json::Value::String(crate::format_datetime(*ms)),
        }
    }

    /// `false`, `null`, `""`, `0`, `[]` and `{}`.
    pub fn is_falsy(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Bool(b) => !b,
            Value::Int(i) => *i == 0,
            Value::Str(s) => s.is_empty(),
            Value::Array(items) => items.is_empty(),
            Value::Object(map) => map.is_empty(),
            Value::Float(_) | Value::DateTime(_) => false,
        }
    }

    /// `true`, non-empty strings, non-zero integers, non-empty arrays and objects.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Str(s) => !s.is_empty(),
            Value::Array(items) => !items.is_empty(),
            Value::Object(map) => !map.is_empty(),
            Value::Null | Value::Float(_) | Value::DateTime(_) => false,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "non-integer number",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            Value::DateTime(_) => "date-time",
        }
    }
}
