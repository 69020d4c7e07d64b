//! The XPath subset that XLSForm expressions use (constraints, relevance, required, calculations),
//! parsed once and evaluated against a submitted [`Instance`].
//!
//! XPath 1.0 semantics where XLSForm relies on them: a comparison with a node-set compares each
//! node's text, `=` with a number compares numbers, an empty answer is `NaN` as a number (so
//! `. > 0` is false for it). As ODK does, a date (`YYYY-MM-DD`) compared or added as a number
//! is its count of days since 1970-01-01, so `. <= today()` means what it says. An absolute path
//! that passes through a repeat resolves to the repeat instance holding the context node.
//!
//! Evaluation never fails: a wrong type gives `NaN`, an empty string or `false`, as XPath does.
//! Parsing refuses what is outside the subset (predicates, axes, unknown functions, a regex
//! pattern that is not a literal) with the character where it stopped.

use std::fmt;

use regex::Regex;

use crate::instance::{Instance, NodeId};

/// The longest expression taken, in bytes.
pub const MAX_EXPRESSION: usize = 2_000;
/// How deeply an expression may nest (parentheses, calls, operators).
const MAX_DEPTH: usize = 48;

/// A parsed expression.
#[derive(Debug, Clone)]
pub enum Expr {
    Number(f64),
    Literal(String),
    Path(Path),
    Neg(Box<Expr>),
    Binary(Op, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
    /// `regex(text, 'pattern')`, the pattern compiled when parsed.
    Regex(Box<Expr>, Box<Regex>),
}

/// A location path: `.`, `..`, `../name`, `name/name`, `/data/group/name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub absolute: bool,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Current,
    Parent,
    Child(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// The functions of the subset, with how many arguments each takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    True,
    False,
    Not,
    Boolean,
    Number,
    String,
    Int,
    Round,
    Floor,
    Ceiling,
    Abs,
    Concat,
    StringLength,
    Contains,
    StartsWith,
    EndsWith,
    Substr,
    NormalizeSpace,
    Selected,
    CountSelected,
    SelectedAt,
    Count,
    Sum,
    Min,
    Max,
    If,
    Coalesce,
    Today,
    Date,
}

impl Func {
    fn by_name(name: &str) -> Option<(Func, usize, usize)> {
        use Func::*;
        let many = usize::MAX;
        Some(match name {
            "true" => (True, 0, 0),
            "false" => (False, 0, 0),
            "not" => (Not, 1, 1),
            "boolean" => (Boolean, 1, 1),
            "number" => (Number, 1, 1),
            "string" => (String, 0, 1),
            "int" => (Int, 1, 1),
            "round" => (Round, 1, 2),
            "floor" => (Floor, 1, 1),
            "ceiling" => (Ceiling, 1, 1),
            "abs" => (Abs, 1, 1),
            "concat" => (Concat, 1, many),
            "string-length" => (StringLength, 0, 1),
            "contains" => (Contains, 2, 2),
            "starts-with" => (StartsWith, 2, 2),
            "ends-with" => (EndsWith, 2, 2),
            "substr" => (Substr, 2, 3),
            "normalize-space" => (NormalizeSpace, 0, 1),
            "selected" => (Selected, 2, 2),
            "count-selected" => (CountSelected, 1, 1),
            "selected-at" => (SelectedAt, 2, 2),
            "count" => (Count, 1, 1),
            "sum" => (Sum, 1, 1),
            "min" => (Min, 1, many),
            "max" => (Max, 1, many),
            "if" => (If, 3, 3),
            "coalesce" => (Coalesce, 2, 2),
            "today" => (Today, 0, 0),
            "date" => (Date, 1, 1),
            _ => return None,
        })
    }
}

/// Why an expression was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The byte offset where the problem was found.
    pub at: usize,
    pub problem: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.problem, self.at + 1)
    }
}

impl std::error::Error for ParseError {}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Literal(String),
    Name(String),
    Dot,
    DotDot,
    Slash,
    LParen,
    RParen,
    Comma,
    Star,
    Plus,
    Minus,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Something outside the subset (`[`, `@`, `|`, `//`, `$`): refused by the parser.
    Other(&'static str),
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, ParseError> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        let fail = |problem: &str| ParseError {
            at,
            problem: problem.to_owned(),
        };
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let token = if c.is_ascii_digit()
            || (c == '.' && text[at + 1..].starts_with(|d: char| d.is_ascii_digit()))
        {
            let mut end = at;
            while let Some(&(i, d)) = chars.peek() {
                if d.is_ascii_digit() || d == '.' {
                    end = i + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let number = text[at..end]
                .parse::<f64>()
                .map_err(|_| fail("a malformed number"))?;
            out.push((at, Token::Number(number)));
            continue;
        } else if c == '\'' || c == '"' {
            chars.next();
            let mut literal = String::new();
            let mut closed = false;
            for (_, d) in chars.by_ref() {
                if d == c {
                    closed = true;
                    break;
                }
                literal.push(d);
            }
            if !closed {
                return Err(fail("a string that is never closed"));
            }
            out.push((at, Token::Literal(literal)));
            continue;
        } else if is_name_start(c) {
            let mut end = at;
            while let Some(&(i, d)) = chars.peek() {
                if is_name_char(d) {
                    end = i + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            out.push((at, Token::Name(text[at..end].to_owned())));
            continue;
        } else {
            chars.next();
            let next = chars.peek().map(|&(_, d)| d);
            let mut two = |token| {
                chars.next();
                token
            };
            match (c, next) {
                ('.', Some('.')) => two(Token::DotDot),
                ('.', _) => Token::Dot,
                ('/', Some('/')) => two(Token::Other("//")),
                ('/', _) => Token::Slash,
                ('(', _) => Token::LParen,
                (')', _) => Token::RParen,
                (',', _) => Token::Comma,
                ('*', _) => Token::Star,
                ('+', _) => Token::Plus,
                ('-', _) => Token::Minus,
                ('=', _) => Token::Eq,
                ('!', Some('=')) => two(Token::Ne),
                ('<', Some('=')) => two(Token::Le),
                ('<', _) => Token::Lt,
                ('>', Some('=')) => two(Token::Ge),
                ('>', _) => Token::Gt,
                ('[', _) => Token::Other("["),
                (']', _) => Token::Other("]"),
                ('{', _) => Token::Other("{"),
                ('}', _) => Token::Other("}"),
                ('@', _) => Token::Other("@"),
                ('|', _) => Token::Other("|"),
                ('$', _) => Token::Other("$"),
                _ => return Err(fail(&format!("an unexpected character '{c}'"))),
            }
        };
        out.push((at, token));
    }
    Ok(out)
}

/// Parses an expression in XForm syntax (references already written as paths).
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    if text.len() > MAX_EXPRESSION {
        return Err(ParseError {
            at: MAX_EXPRESSION,
            problem: format!("longer than {MAX_EXPRESSION} bytes"),
        });
    }
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        next: 0,
        end: text.len(),
        depth: 0,
    };
    let expr = parser.or()?;
    if let Some((at, token)) = parser.tokens.get(parser.next) {
        return Err(ParseError {
            at: *at,
            problem: format!("unexpected {}", describe(token)),
        });
    }
    Ok(expr)
}

fn describe(token: &Token) -> String {
    match token {
        Token::Number(n) => format!("number {n}"),
        Token::Literal(s) => format!("string '{s}'"),
        Token::Name(n) => format!("'{n}'"),
        Token::Other(s) => format!("'{s}', which the supported XPath subset does not have"),
        other => format!("{other:?}").to_lowercase(),
    }
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    next: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.next).map_or(self.end, |(at, _)| *at)
    }

    fn fail<T>(&self, problem: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            at: self.at(),
            problem: problem.into(),
        })
    }

    fn eat(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.next += 1;
            true
        } else {
            false
        }
    }

    /// An operator written as a name (`and`, `or`, `div`, `mod`): only in operator position,
    /// which is where this is called.
    fn eat_word(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Name(n)) if n == word) {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn deeper(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail(format!("nested more than {MAX_DEPTH} deep"));
        }
        Ok(())
    }

    fn binary(
        &mut self,
        operand: fn(&mut Self) -> Result<Expr, ParseError>,
        ops: fn(&mut Self) -> Option<Op>,
    ) -> Result<Expr, ParseError> {
        let mut left = operand(self)?;
        while let Some(op) = ops(self) {
            self.deeper()?;
            let right = operand(self)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        self.binary(Self::and, |p| p.eat_word("or").then_some(Op::Or))
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        self.binary(Self::equality, |p| p.eat_word("and").then_some(Op::And))
    }

    fn equality(&mut self) -> Result<Expr, ParseError> {
        self.binary(Self::relational, |p| {
            if p.eat(&Token::Eq) {
                Some(Op::Eq)
            } else if p.eat(&Token::Ne) {
                Some(Op::Ne)
            } else {
                None
            }
        })
    }

    fn relational(&mut self) -> Result<Expr, ParseError> {
        self.binary(Self::additive, |p| {
            [
                (Token::Le, Op::Le),
                (Token::Lt, Op::Lt),
                (Token::Ge, Op::Ge),
                (Token::Gt, Op::Gt),
            ]
            .into_iter()
            .find_map(|(t, op)| p.eat(&t).then_some(op))
        })
    }

    fn additive(&mut self) -> Result<Expr, ParseError> {
        self.binary(Self::multiplicative, |p| {
            if p.eat(&Token::Plus) {
                Some(Op::Add)
            } else if p.eat(&Token::Minus) {
                Some(Op::Sub)
            } else {
                None
            }
        })
    }

    fn multiplicative(&mut self) -> Result<Expr, ParseError> {
        self.binary(Self::unary, |p| {
            if p.eat(&Token::Star) {
                Some(Op::Mul)
            } else if p.eat_word("div") {
                Some(Op::Div)
            } else if p.eat_word("mod") {
                Some(Op::Mod)
            } else {
                None
            }
        })
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.eat(&Token::Minus) {
            self.deeper()?;
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let Some((at, token)) = self.tokens.get(self.next).cloned() else {
            return self.fail("the expression ends too early");
        };
        match token {
            Token::Number(n) => {
                self.next += 1;
                Ok(Expr::Number(n))
            }
            Token::Literal(s) => {
                self.next += 1;
                Ok(Expr::Literal(s))
            }
            Token::LParen => {
                self.next += 1;
                self.deeper()?;
                let inner = self.or()?;
                if !self.eat(&Token::RParen) {
                    return self.fail("a ')' is missing");
                }
                self.depth -= 1;
                Ok(inner)
            }
            Token::Name(name)
                if matches!(self.tokens.get(self.next + 1), Some((_, Token::LParen))) =>
            {
                self.next += 2;
                self.call(at, &name)
            }
            Token::Dot | Token::DotDot | Token::Slash | Token::Name(_) => {
                Ok(Expr::Path(self.path()?))
            }
            other => self.fail(format!("unexpected {}", describe(&other))),
        }
    }

    fn call(&mut self, at: usize, name: &str) -> Result<Expr, ParseError> {
        if name == "regex" {
            return self.regex();
        }
        let Some((func, least, most)) = Func::by_name(name) else {
            return Err(ParseError {
                at,
                problem: format!("the function {name}() is not in the supported subset"),
            });
        };
        self.deeper()?;
        let mut args = Vec::new();
        if !self.eat(&Token::RParen) {
            loop {
                args.push(self.or()?);
                if self.eat(&Token::RParen) {
                    break;
                }
                if !self.eat(&Token::Comma) {
                    return self.fail(format!("a ',' or ')' is missing in {name}()"));
                }
            }
        }
        self.depth -= 1;
        if args.len() < least || args.len() > most {
            return Err(ParseError {
                at,
                problem: format!("{name}() takes {}", arity(least, most)),
            });
        }
        Ok(Expr::Call(func, args))
    }

    /// `regex(text, 'pattern')`: the pattern must be a literal, compiled here once.
    fn regex(&mut self) -> Result<Expr, ParseError> {
        self.deeper()?;
        let text = self.or()?;
        if !self.eat(&Token::Comma) {
            return self.fail("regex() takes 2 arguments");
        }
        let pattern_at = self.at();
        let Some(Token::Literal(pattern)) = self.peek().cloned() else {
            return self.fail("the pattern of regex() must be a quoted string");
        };
        self.next += 1;
        if !self.eat(&Token::RParen) {
            return self.fail("regex() takes 2 arguments");
        }
        self.depth -= 1;
        let compiled = regex::RegexBuilder::new(&pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| ParseError {
                at: pattern_at,
                problem: format!("the pattern of regex() is not valid: {e}"),
            })?;
        Ok(Expr::Regex(Box::new(text), Box::new(compiled)))
    }

    fn path(&mut self) -> Result<Path, ParseError> {
        let absolute = self.eat(&Token::Slash);
        let mut steps = Vec::new();
        loop {
            let step = match self.peek() {
                Some(Token::Dot) => Step::Current,
                Some(Token::DotDot) => Step::Parent,
                Some(Token::Name(n)) if !n.contains(':') => Step::Child(n.clone()),
                _ => return self.fail("a name, '.' or '..' is expected in the path"),
            };
            self.next += 1;
            steps.push(step);
            if !self.eat(&Token::Slash) {
                break;
            }
        }
        Ok(Path { absolute, steps })
    }
}

fn arity(least: usize, most: usize) -> String {
    match (least, most) {
        (l, m) if l == m => format!("{l} argument{}", if l == 1 { "" } else { "s" }),
        (l, usize::MAX) => format!("at least {l} arguments"),
        (l, m) => format!("{l} to {m} arguments"),
    }
}

/// What evaluation needs besides the instance.
#[derive(Debug, Clone, Copy)]
pub struct Env {
    /// Today in the form's region, for `today()`.
    pub today: time::Date,
}

/// A value met while evaluating.
#[derive(Debug, Clone)]
pub enum Value {
    Number(f64),
    Text(String),
    Bool(bool),
    Nodes(Vec<NodeId>),
    /// Days since 1970-01-01.
    Date(i64),
}

const EPOCH: time::Date = time::macros::date!(1970 - 01 - 01);

/// Days since 1970-01-01 of a `YYYY-MM-DD` text (or the date part of a date and time).
pub fn date_days(text: &str) -> Option<i64> {
    let text = text.trim();
    let day = text.get(..10)?;
    if text.len() > 10 && !text[10..].starts_with('T') {
        return None;
    }
    let date = time::Date::parse(
        day,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()?;
    Some((date - EPOCH).whole_days())
}

fn days_text(days: i64) -> String {
    let date = EPOCH.checked_add(time::Duration::days(days));
    date.map_or_else(String::new, |d| {
        d.format(time::macros::format_description!("[year]-[month]-[day]"))
            .unwrap_or_default()
    })
}

fn text_number(text: &str) -> f64 {
    let text = text.trim();
    if text.is_empty() {
        return f64::NAN;
    }
    // XPath numbers: digits with an optional point and sign; no exponents, no "inf".
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.')
        && let Ok(n) = text.parse::<f64>()
    {
        return n;
    }
    date_days(text).map_or(f64::NAN, |d| d as f64)
}

/// A number as XPath writes it: whole numbers without a point.
pub fn number_text(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_owned()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else if n == n.trunc() && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

impl Value {
    pub fn text(&self, doc: &Instance) -> String {
        match self {
            Value::Number(n) => number_text(*n),
            Value::Text(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Nodes(nodes) => nodes
                .first()
                .map_or_else(String::new, |n| doc.text(*n).to_owned()),
            Value::Date(d) => days_text(*d),
        }
    }

    pub fn number(&self, doc: &Instance) -> f64 {
        match self {
            Value::Number(n) => *n,
            Value::Text(s) => text_number(s),
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Nodes(nodes) => nodes
                .first()
                .map_or(f64::NAN, |n| text_number(doc.text(*n))),
            Value::Date(d) => *d as f64,
        }
    }

    pub fn truth(&self) -> bool {
        match self {
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::Text(s) => !s.is_empty(),
            Value::Bool(b) => *b,
            Value::Nodes(nodes) => !nodes.is_empty(),
            Value::Date(_) => true,
        }
    }
}

/// Evaluates `expr` with `context` as `.`.
pub fn eval(expr: &Expr, doc: &Instance, context: NodeId, env: &Env) -> Value {
    match expr {
        Expr::Number(n) => Value::Number(*n),
        Expr::Literal(s) => Value::Text(s.clone()),
        Expr::Path(path) => Value::Nodes(resolve(doc, path, context)),
        Expr::Neg(inner) => Value::Number(-eval(inner, doc, context, env).number(doc)),
        Expr::Binary(op, left, right) => binary(*op, left, right, doc, context, env),
        Expr::Call(func, args) => call(*func, args, doc, context, env),
        Expr::Regex(text, pattern) => {
            Value::Bool(pattern.is_match(&eval(text, doc, context, env).text(doc)))
        }
    }
}

fn binary(op: Op, left: &Expr, right: &Expr, doc: &Instance, at: NodeId, env: &Env) -> Value {
    let l = eval(left, doc, at, env);
    match op {
        Op::Or => return Value::Bool(l.truth() || eval(right, doc, at, env).truth()),
        Op::And => return Value::Bool(l.truth() && eval(right, doc, at, env).truth()),
        _ => {}
    }
    let r = eval(right, doc, at, env);
    let arithmetic = |f: fn(f64, f64) -> f64| Value::Number(f(l.number(doc), r.number(doc)));
    match op {
        Op::Add => arithmetic(|a, b| a + b),
        Op::Sub => arithmetic(|a, b| a - b),
        Op::Mul => arithmetic(|a, b| a * b),
        Op::Div => arithmetic(|a, b| a / b),
        Op::Mod => arithmetic(|a, b| a % b),
        Op::Eq | Op::Ne => {
            let equal = equals(&l, &r, doc);
            Value::Bool(if op == Op::Eq {
                equal
            } else {
                not_equals(&l, &r, doc)
            })
        }
        _ => {
            let test = |a: f64, b: f64| match op {
                Op::Lt => a < b,
                Op::Le => a <= b,
                Op::Gt => a > b,
                _ => a >= b,
            };
            Value::Bool(
                numbers(&l, doc)
                    .iter()
                    .any(|a| numbers(&r, doc).iter().any(|b| test(*a, *b))),
            )
        }
    }
}

/// The numbers a value stands for in a comparison (each node's, for a node-set).
fn numbers(value: &Value, doc: &Instance) -> Vec<f64> {
    match value {
        Value::Nodes(nodes) => nodes.iter().map(|n| text_number(doc.text(*n))).collect(),
        other => vec![other.number(doc)],
    }
}

fn texts(value: &Value, doc: &Instance) -> Vec<String> {
    match value {
        Value::Nodes(nodes) => nodes.iter().map(|n| doc.text(*n).to_owned()).collect(),
        other => vec![other.text(doc)],
    }
}

fn equals(l: &Value, r: &Value, doc: &Instance) -> bool {
    compare(l, r, doc, |a, b| a == b, |a, b| a == b)
}

fn not_equals(l: &Value, r: &Value, doc: &Instance) -> bool {
    compare(l, r, doc, |a, b| a != b, |a, b| a != b)
}

fn compare(
    l: &Value,
    r: &Value,
    doc: &Instance,
    num: fn(f64, f64) -> bool,
    text: fn(&str, &str) -> bool,
) -> bool {
    use Value::*;
    match (l, r) {
        (Bool(_), _) | (_, Bool(_)) => {
            let (a, b) = (l.truth(), r.truth());
            num(f64::from(u8::from(a)), f64::from(u8::from(b)))
        }
        (Number(_) | Date(_), _) | (_, Number(_) | Date(_)) => {
            let ls = numbers(l, doc);
            let rs = numbers(r, doc);
            ls.iter().any(|a| rs.iter().any(|b| num(*a, *b)))
        }
        _ => {
            let ls = texts(l, doc);
            let rs = texts(r, doc);
            ls.iter().any(|a| rs.iter().any(|b| text(a, b)))
        }
    }
}

fn call(func: Func, args: &[Expr], doc: &Instance, at: NodeId, env: &Env) -> Value {
    let arg = |i: usize| {
        args.get(i)
            .map_or(Value::Nodes(vec![at]), |e| eval(e, doc, at, env))
    };
    let text = |i: usize| arg(i).text(doc);
    let number = |i: usize| arg(i).number(doc);
    let tokens = |i: usize| {
        text(i)
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let nodes = |i: usize| match arg(i) {
        Value::Nodes(nodes) => nodes,
        _ => Vec::new(),
    };
    let all_numbers = || -> Vec<f64> {
        args.iter()
            .flat_map(|e| numbers(&eval(e, doc, at, env), doc))
            .collect()
    };
    match func {
        Func::True => Value::Bool(true),
        Func::False => Value::Bool(false),
        Func::Not => Value::Bool(!arg(0).truth()),
        Func::Boolean => Value::Bool(arg(0).truth()),
        Func::Number => Value::Number(number(0)),
        Func::String => Value::Text(text(0)),
        Func::Int => Value::Number(number(0).trunc()),
        Func::Round => {
            let digits = if args.len() > 1 { number(1) } else { 0.0 };
            let scale = 10f64.powi(digits.clamp(-15.0, 15.0) as i32);
            Value::Number((number(0) * scale).round() / scale)
        }
        Func::Floor => Value::Number(number(0).floor()),
        Func::Ceiling => Value::Number(number(0).ceil()),
        Func::Abs => Value::Number(number(0).abs()),
        Func::Concat => Value::Text((0..args.len()).map(text).collect()),
        Func::StringLength => Value::Number(text(0).chars().count() as f64),
        Func::Contains => Value::Bool(text(0).contains(&text(1))),
        Func::StartsWith => Value::Bool(text(0).starts_with(&text(1))),
        Func::EndsWith => Value::Bool(text(0).ends_with(&text(1))),
        Func::Substr => {
            let whole: Vec<char> = text(0).chars().collect();
            let len = whole.len() as f64;
            let start = number(1).clamp(0.0, len);
            let end = if args.len() > 2 {
                number(2).clamp(start, len)
            } else {
                len
            };
            if start.is_nan() || end.is_nan() {
                return Value::Text(String::new());
            }
            Value::Text(whole[start as usize..end as usize].iter().collect())
        }
        Func::NormalizeSpace => Value::Text(tokens(0).join(" ")),
        Func::Selected => {
            let wanted = text(1);
            let wanted = wanted.trim();
            Value::Bool(tokens(0).iter().any(|t| t == wanted))
        }
        Func::CountSelected => Value::Number(tokens(0).len() as f64),
        Func::SelectedAt => {
            let index = number(1);
            let chosen = tokens(0);
            let picked = (index >= 0.0)
                .then(|| chosen.get(index as usize))
                .flatten()
                .cloned();
            Value::Text(picked.unwrap_or_default())
        }
        Func::Count => Value::Number(nodes(0).len() as f64),
        Func::Sum => Value::Number(nodes(0).iter().map(|n| text_number(doc.text(*n))).sum()),
        Func::Min => Value::Number(all_numbers().into_iter().fold(f64::INFINITY, |a, b| {
            if b.is_nan() { f64::NAN } else { a.min(b) }
        })),
        Func::Max => Value::Number(all_numbers().into_iter().fold(f64::NEG_INFINITY, |a, b| {
            if b.is_nan() { f64::NAN } else { a.max(b) }
        })),
        Func::If => {
            if arg(0).truth() {
                arg(1)
            } else {
                arg(2)
            }
        }
        Func::Coalesce => {
            let first = text(0);
            Value::Text(if first.is_empty() { text(1) } else { first })
        }
        Func::Today => Value::Date((env.today - EPOCH).whole_days()),
        Func::Date => match arg(0) {
            Value::Number(n) if n.is_finite() => Value::Date(n.floor() as i64),
            other => date_days(&other.text(doc)).map_or(Value::Text(String::new()), Value::Date),
        },
    }
}

/// The nodes a path selects from `context`. An absolute path's first step names the root;
/// where a step meets several elements of the name (a repeat) and one of them holds the
/// context node, only that one is followed — the repeat instance being filled in.
pub fn resolve(doc: &Instance, path: &Path, context: NodeId) -> Vec<NodeId> {
    let mut steps = path.steps.iter();
    let mut current: Vec<NodeId> = if path.absolute {
        match steps.next() {
            Some(Step::Child(name)) if doc.name(Instance::ROOT) == name => vec![Instance::ROOT],
            _ => return Vec::new(),
        }
    } else {
        vec![context]
    };
    for step in steps {
        current = match step {
            Step::Current => current,
            Step::Parent => {
                let mut parents: Vec<NodeId> =
                    current.iter().filter_map(|n| doc.parent(*n)).collect();
                parents.dedup();
                parents
            }
            Step::Child(name) => {
                let found: Vec<NodeId> = current
                    .iter()
                    .flat_map(|n| doc.children_named(*n, name))
                    .collect();
                if path.absolute && found.len() > 1 {
                    match found.iter().find(|n| doc.is_ancestor_or_self(**n, context)) {
                        Some(own) => vec![*own],
                        None => found,
                    }
                } else {
                    found
                }
            }
        };
        if current.is_empty() {
            break;
        }
    }
    current
}
