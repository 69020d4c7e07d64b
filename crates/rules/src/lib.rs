//! tongban-rules: CertLogic, the restricted JsonLogic of the EU Digital COVID Certificate
//! business rules (specification 1.3.3), used for tongban's health-status policies.
//! [`validate`] checks an expression before use; [`evaluate`] computes it over a data
//! context and never panics: an invalid expression or a type mismatch is an [`EvalError`].
#![forbid(unsafe_code)]

mod datetime;
mod eval;
mod validate;
mod value;

pub use datetime::{format_datetime, parse_datetime};
pub use eval::{EvalError, evaluate, evaluate_json};
pub use validate::{Issue, validate};
pub use value::Value;
