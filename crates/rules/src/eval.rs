//! The CertLogic evaluator.

use serde_json::Value as Json;

use crate::datetime::{parse_datetime, plus};
use crate::value::Value;

/// Deepest expression nesting evaluated; deeper input is refused, never a stack overflow.
const MAX_DEPTH: usize = 96;

/// Why an expression could not be evaluated: it is invalid, or its operands have the wrong types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

fn fail<T>(message: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError(message.into()))
}

/// The data context: the JSON given, or the `{ current, accumulator }` of a `reduce` lambda.
enum Context<'a> {
    Json(&'a Json),
    Lambda {
        current: &'a Value,
        accumulator: &'a Value,
    },
}

/// Evaluates `expression` over JSON `data` and returns JSON (date-times as ISO strings).
pub fn evaluate_json(expression: &Json, data: &Json) -> Result<Json, EvalError> {
    Ok(eval(expression, &Context::Json(data), 0)?.to_json())
}

/// Evaluates `expression` over JSON `data`.
pub fn evaluate(expression: &Json, data: &Json) -> Result<Value, EvalError> {
    eval(expression, &Context::Json(data), 0)
}

fn drill_json(mut current: &Json, fragments: &[&str]) -> Value {
    for fragment in fragments {
        current = match current {
            Json::Object(map) => match map.get(*fragment) {
                Some(next) => next,
                None => return Value::Null,
            },
            Json::Array(items) => match fragment.parse::<usize>().ok().and_then(|i| items.get(i)) {
                Some(next) => next,
                None => return Value::Null,
            },
            _ => return Value::Null,
        };
    }
    Value::from_json(current)
}

fn drill_value(current: &Value, fragments: &[&str]) -> Value {
    let Some((first, rest)) = fragments.split_first() else {
        return current.clone();
    };
    match current {
        Value::Array(items) => match first.parse::<usize>().ok().and_then(|i| items.get(i)) {
            Some(next) => drill_value(next, rest),
            None => Value::Null,
        },
        Value::Object(map) => match map.get(*first) {
            Some(next) => drill_json(next, rest),
            None => Value::Null,
        },
        _ => Value::Null,
    }
}

fn var(path: &str, context: &Context<'_>) -> Value {
    let fragments: Vec<&str> = if path.is_empty() {
        Vec::new()
    } else {
        path.split('.').collect()
    };
    match context {
        Context::Json(data) => drill_json(data, &fragments),
        Context::Lambda {
            current,
            accumulator,
        } => match fragments.split_first() {
            None => {
                let mut map = serde_json::Map::new();
                map.insert("current".into(), current.to_json());
                map.insert("accumulator".into(), accumulator.to_json());
                Value::Object(map)
            }
            Some((&"current", rest)) => drill_value(current, rest),
            Some((&"accumulator", rest)) => drill_value(accumulator, rest),
            Some(_) => Value::Null,
        },
    }
}

/// `===` without coercion: equal integers, strings, booleans, or both null.
fn strictly_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        _ => false,
    }
}

fn operands<'e>(operator: &str, value: &'e Json) -> Result<&'e [Json], EvalError> {
    match value {
        Json::Array(items) => Ok(items),
        _ => fail(format!(
            "operation not of the form {{ \"{operator}\": [ <values...> ] }}"
        )),
    }
}

fn arity(operator: &str, args: &[Json], allowed: &[usize]) -> Result<(), EvalError> {
    if allowed.contains(&args.len()) {
        Ok(())
    } else {
        fail(format!(
            "an operation with operator \"{operator}\" must have {allowed:?} operands, not {}",
            args.len()
        ))
    }
}

fn eval(expression: &Json, context: &Context<'_>, depth: usize) -> Result<Value, EvalError> {
    if depth > MAX_DEPTH {
        return fail("the expression is nested too deeply");
    }
    match expression {
        Json::Null => fail("invalid CertLogic expression"),
        Json::Bool(b) => Ok(Value::Bool(*b)),
        Json::Number(_) => match Value::from_json(expression) {
            Value::Int(i) => Ok(Value::Int(i)),
            _ => fail(format!("{expression} is a non-integer number")),
        },
        Json::String(s) => Ok(Value::Str(s.clone())),
        Json::Array(items) => items
            .iter()
            .map(|item| eval(item, context, depth + 1))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Json::Object(map) => {
            if map.len() != 1 {
                return fail(format!(
                    "expression object must have exactly one key, but it has {}",
                    map.len()
                ));
            }
            let Some((operator, argument)) = map.iter().next() else {
                return fail("invalid CertLogic expression");
            };
            if operator == "var" {
                return match argument {
                    Json::String(path) => Ok(var(path, context)),
                    _ => fail("not of the form { \"var\": \"<path>\" }"),
                };
            }
            let args = operands(operator, argument)?;
            operation(operator, args, context, depth + 1)
        }
    }
}

fn operation(
    operator: &str,
    args: &[Json],
    context: &Context<'_>,
    depth: usize,
) -> Result<Value, EvalError> {
    let ev = |e: &Json| eval(e, context, depth);
    match operator {
        "if" => {
            arity(operator, args, &[3])?;
            let guard = ev(&args[0])?;
            if guard.is_truthy() {
                ev(&args[1])
            } else if guard.is_falsy() {
                ev(&args[2])
            } else {
                fail(format!(
                    "if-guard evaluates to something neither truthy, nor falsy: {}",
                    guard.type_name()
                ))
            }
        }
        "===" => {
            arity(operator, args, &[2])?;
            Ok(Value::Bool(strictly_equal(&ev(&args[0])?, &ev(&args[1])?)))
        }
        "in" => {
            arity(operator, args, &[2])?;
            let needle = ev(&args[0])?;
            match ev(&args[1])? {
                Value::Array(items) => Ok(Value::Bool(
                    items.iter().any(|item| strictly_equal(&needle, item)),
                )),
                other => fail(format!(
                    "right-hand side of an \"in\" operation must be an array, not {}",
                    other.type_name()
                )),
            }
        }
        "+" => {
            arity(operator, args, &[2])?;
            match (ev(&args[0])?, ev(&args[1])?) {
                (Value::Int(a), Value::Int(b)) => a
                    .checked_add(b)
                    .map(Value::Int)
                    .ok_or_else(|| EvalError("integer overflow".into())),
                (a, b) => fail(format!(
                    "operands of \"+\" must be integers, not {} and {}",
                    a.type_name(),
                    b.type_name()
                )),
            }
        }
        "and" => {
            if args.len() < 2 {
                return fail("an \"and\" operation must have at least 2 operands");
            }
            let mut last = Value::Null;
            for operand in args {
                last = ev(operand)?;
                if last.is_falsy() {
                    return Ok(last);
                }
                if !last.is_truthy() {
                    return fail(format!(
                        "all operands of an \"and\" operation must be truthy or falsy, not {}",
                        last.type_name()
                    ));
                }
            }
            Ok(last)
        }
        "<" | ">" | "<=" | ">=" | "after" | "before" | "not-after" | "not-before" => {
            arity(operator, args, &[2, 3])?;
            let values = args.iter().map(ev).collect::<Result<Vec<_>, _>>()?;
            let dates = matches!(operator, "after" | "before" | "not-after" | "not-before");
            let numbers: Vec<i64> = values
                .iter()
                .map(|value| match (value, dates) {
                    (Value::Int(i), false) => Ok(*i),
                    (Value::DateTime(ms), true) => Ok(*ms),
                    (other, _) => fail(format!(
                        "all operands of \"{operator}\" must be {}, not {}",
                        if dates { "date-times" } else { "integers" },
                        other.type_name()
                    )),
                })
                .collect::<Result<_, _>>()?;
            let holds = |a: i64, b: i64| match operator {
                "<" | "before" => a < b,
                ">" | "after" => a > b,
                "<=" | "not-after" => a <= b,
                _ => a >= b,
            };
            Ok(Value::Bool(
                numbers.windows(2).all(|pair| holds(pair[0], pair[1])),
            ))
        }
        "!" => {
            arity(operator, args, &[1])?;
            let value = ev(&args[0])?;
            if value.is_falsy() {
                Ok(Value::Bool(true))
            } else if value.is_truthy() {
                Ok(Value::Bool(false))
            } else {
                fail(format!(
                    "operand of \"!\" must be truthy or falsy, not {}",
                    value.type_name()
                ))
            }
        }
        "plusTime" => {
            arity(operator, args, &[3])?;
            let Value::Str(text) = ev(&args[0])? else {
                return fail("the first operand of plusTime must be a date(-time) string");
            };
            let Some(amount) = args[1].as_i64() else {
                return fail("the second operand of plusTime must be an integer");
            };
            let Some(unit) = args[2]
                .as_str()
                .filter(|u| matches!(*u, "year" | "month" | "day" | "hour"))
            else {
                return fail(
                    "the third operand of plusTime must be \"year\", \"month\", \"day\" or \"hour\"",
                );
            };
            let Some(start) = parse_datetime(&text) else {
                return fail(format!("not a date(-time) in an allowed format: {text}"));
            };
            plus(start, amount, unit)
                .map(Value::DateTime)
                .ok_or_else(|| EvalError("date-time out of range".into()))
        }
        "dccDateOfBirth" => {
            arity(operator, args, &[1])?;
            match ev(&args[0])? {
                Value::Str(text) if !text.contains('T') => parse_datetime(&text)
                    .map(Value::DateTime)
                    .ok_or_else(|| EvalError(format!("not a date of birth: {text}"))),
                other => fail(format!(
                    "operand of dccDateOfBirth must be a date string, not {}",
                    other.type_name()
                )),
            }
        }
        "reduce" => {
            arity(operator, args, &[3])?;
            let initial = || ev(&args[2]);
            match ev(&args[0])? {
                Value::Null => initial(),
                Value::Array(items) => {
                    let mut accumulator = initial()?;
                    for current in &items {
                        accumulator = eval(
                            &args[1],
                            &Context::Lambda {
                                current,
                                accumulator: &accumulator,
                            },
                            depth,
                        )?;
                    }
                    Ok(accumulator)
                }
                other => fail(format!(
                    "operand of reduce must be an array or null, not {}",
                    other.type_name()
                )),
            }
        }
        "extractFromUVCI" => {
            arity(operator, args, &[2])?;
            let Some(index) = args[1].as_i64() else {
                return fail("the second operand of extractFromUVCI must be an integer");
            };
            match ev(&args[0])? {
                Value::Null => Ok(Value::Null),
                Value::Str(uvci) => {
                    let body = uvci.strip_prefix("URN:UVCI:").unwrap_or(&uvci);
                    let fragment = usize::try_from(index)
                        .ok()
                        .and_then(|i| body.split(['/', '#', ':']).nth(i));
                    Ok(fragment.map_or(Value::Null, |f| Value::Str(f.to_owned())))
                }
                other => fail(format!(
                    "operand of extractFromUVCI must be a string or null, not {}",
                    other.type_name()
                )),
            }
        }
        other => fail(format!("unrecognised operator: \"{other}\"")),
    }
}
