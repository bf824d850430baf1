//! The function library (XPath 1.0 §4 and RFC 7950 §10) and the
//! string/number conversions it shares with the evaluator.

use super::ast::Expr;
use super::eval::{Evaluator, Focus};
use super::lexer::is_xml_space;
use super::{Document, ErrorKind, Value, XPathError};

/// The type an expression is known to have before evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StaticType {
    NodeSet,
    Boolean,
    Number,
    String,
    /// Variables (never valid in YANG, but syntactically allowed).
    Unknown,
}

impl StaticType {
    pub(crate) fn name(self) -> &'static str {
        match self {
            StaticType::NodeSet => "node-set",
            StaticType::Boolean => "boolean",
            StaticType::Number => "number",
            StaticType::String => "string",
            StaticType::Unknown => "value",
        }
    }
}

/// Arity, result type and node-set arguments of a library function.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Signature {
    pub min: usize,
    /// `None` for no upper bound (`concat`).
    pub max: Option<usize>,
    pub returns: StaticType,
    /// Indices of the arguments that must be node-sets.
    pub node_set_args: &'static [usize],
}

impl Signature {
    pub(crate) fn check_arity(&self, name: &str, n: usize, pos: usize) -> Result<(), XPathError> {
        if n >= self.min && self.max.is_none_or(|m| n <= m) {
            return Ok(());
        }
        let expected = match self.max {
            None => format!("at least {}", self.min),
            Some(m) if m == self.min => format!("{m}"),
            Some(m) => format!("{} to {m}", self.min),
        };
        Err(XPathError::new(
            ErrorKind::WrongArity,
            pos,
            format!("{name}() takes {expected} argument(s), {n} given"),
        ))
    }
}

/// The signature of a known function, or `None`.
pub(crate) fn signature(name: &str) -> Option<Signature> {
    use StaticType::*;
    const NONE: &[usize] = &[];
    const FIRST: &[usize] = &[0];
    let (min, max, returns, node_set_args) = match name {
        "last" | "position" => (0, Some(0), Number, NONE),
        "count" | "sum" => (1, Some(1), Number, FIRST),
        "id" => (1, Some(1), NodeSet, NONE),
        "local-name" | "namespace-uri" | "name" => (0, Some(1), String, FIRST),
        "string" | "normalize-space" => (0, Some(1), String, NONE),
        "string-length" | "number" => (0, Some(1), Number, NONE),
        "concat" => (2, None, String, NONE),
        "starts-with" | "contains" => (2, Some(2), Boolean, NONE),
        "substring-before" | "substring-after" => (2, Some(2), String, NONE),
        "substring" => (2, Some(3), String, NONE),
        "translate" => (3, Some(3), String, NONE),
        "boolean" | "not" | "lang" => (1, Some(1), Boolean, NONE),
        "true" | "false" => (0, Some(0), Boolean, NONE),
        "floor" | "ceiling" | "round" => (1, Some(1), Number, NONE),
        "current" => (0, Some(0), NodeSet, NONE),
        "deref" => (1, Some(1), NodeSet, FIRST),
        "derived-from" | "derived-from-or-self" => (2, Some(2), Boolean, FIRST),
        "re-match" => (2, Some(2), Boolean, NONE),
        "enum-value" => (1, Some(1), Number, FIRST),
        "bit-is-set" => (2, Some(2), Boolean, FIRST),
        _ => return None,
    };
    Some(Signature {
        min,
        max,
        returns,
        node_set_args,
    })
}

/// XPath 1.0 number-to-string conversion (§4.2): `NaN`, `Infinity`,
/// `-Infinity`, integers without a decimal point, otherwise the shortest
/// decimal form that round-trips, never in exponent notation.
pub fn number_to_string(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if x == 0.0 {
        "0".to_string()
    } else {
        // Rust's `Display` for f64 never uses exponent notation and prints
        // the shortest representation that round-trips.
        format!("{x}")
    }
}

/// XPath 1.0 string-to-number conversion (§4.4): optional whitespace, an
/// optional minus sign, `Digits ('.' Digits?)? | '.' Digits`, optional
/// whitespace; anything else is NaN.
pub fn string_to_number(s: &str) -> f64 {
    let t = s.trim_matches(is_xml_space);
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let digits = body.bytes().filter(u8::is_ascii_digit).count();
    let dots = body.bytes().filter(|&b| b == b'.').count();
    if digits == 0 || dots > 1 || digits + dots != body.len() {
        return f64::NAN;
    }
    match body.parse::<f64>() {
        Ok(x) if neg => -x,
        Ok(x) => x,
        Err(_) => f64::NAN,
    }
}

/// XPath `round()`: the closest integer, halves toward positive infinity;
/// NaN, infinities and zeros unchanged; `-0.5 <= x < 0` gives -0.
pub(crate) fn xpath_round(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let f = x.floor();
    let r = if x - f >= 0.5 { f + 1.0 } else { f };
    if r == 0.0 && x < 0.0 {
        -0.0
    } else {
        r
    }
}

fn substring(s: &str, start: f64, len: Option<f64>) -> String {
    let start = xpath_round(start);
    let end = len.map(|l| start + xpath_round(l));
    s.chars()
        .enumerate()
        .filter(|&(i, _)| {
            let p = (i + 1) as f64;
            p >= start && end.is_none_or(|e| p < e)
        })
        .map(|(_, c)| c)
        .collect()
}

fn translate(s: &str, from: &str, to: &str) -> String {
    let from: Vec<char> = from.chars().collect();
    let to: Vec<char> = to.chars().collect();
    s.chars()
        .filter_map(|c| match from.iter().position(|&f| f == c) {
            Some(i) => to.get(i).copied(),
            None => Some(c),
        })
        .collect()
}

fn normalize_space(s: &str) -> String {
    s.split(is_xml_space)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn first<N: Copy>(v: &Value<N>) -> Option<N> {
    match v {
        Value::NodeSet(ns) => ns.first().copied(),
        _ => None,
    }
}

impl<'a, D: Document> Evaluator<'a, D> {
    /// The string argument `i`, or the string-value of the context node if
    /// the argument is absent.
    fn string_arg(&self, vals: &[Value<D::Node>], i: usize, focus: Focus<D::Node>) -> String {
        match vals.get(i) {
            Some(v) => self.value_string(v),
            None => self.node_string(focus.node),
        }
    }

    /// The name of a node as `prefix:local`, using a prefix of the context
    /// that maps to the node's namespace if there is one.
    fn qualified_name(&self, ns: &str, local: &str) -> String {
        let prefix = self
            .ctx
            .prefixes
            .iter()
            .filter(|(_, uri)| uri.as_str() == ns)
            .map(|(p, _)| p.as_str())
            .min();
        match prefix {
            Some(p) => format!("{p}:{local}"),
            None => local.to_string(),
        }
    }

    /// Resolve an identity reference string (`prefix:name` or `name`).
    fn identity(&self, s: &str, pos: usize) -> Result<(&'a str, String), XPathError> {
        let s = s.trim_matches(is_xml_space);
        match s.split_once(':') {
            Some((p, name)) => match self.ctx.prefixes.get(p) {
                Some(ns) => Ok((ns.as_str(), name.to_string())),
                None => Err(XPathError::new(
                    ErrorKind::UnknownPrefix,
                    pos,
                    format!("unknown namespace prefix {p:?} in identity {s:?}"),
                )),
            },
            None => Ok((self.ctx.default_namespace, s.to_string())),
        }
    }

    /// Call the library function `name`.
    pub(crate) fn call(
        &mut self,
        name: &str,
        args: &[Expr],
        pos: usize,
        focus: Focus<D::Node>,
    ) -> Result<Value<D::Node>, XPathError> {
        let Some(sig) = signature(name) else {
            return Err(XPathError::new(
                ErrorKind::UnknownFunction,
                pos,
                format!("unknown function {name}()"),
            ));
        };
        sig.check_arity(name, args.len(), pos)?;
        let mut vals = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            let v = self.eval(a, focus)?;
            if sig.node_set_args.contains(&i) && !matches!(v, Value::NodeSet(_)) {
                return Err(XPathError::new(
                    ErrorKind::NodeSetRequired,
                    pos,
                    format!("argument {} of {name}() must be a node-set", i + 1),
                ));
            }
            vals.push(v);
        }
        let doc = self.doc;
        let s = |i: usize| self.string_arg(&vals, i, focus);
        let num = |i: usize| vals.get(i).map(|v| self.value_number(v));
        let node = || match vals.first() {
            Some(v) => first(v),
            None => Some(focus.node),
        };
        let v = match name {
            "last" => Value::Number(focus.size as f64),
            "position" => Value::Number(focus.position as f64),
            "count" => Value::Number(match &vals[0] {
                Value::NodeSet(ns) => ns.len() as f64,
                _ => 0.0,
            }),
            "id" => Value::NodeSet(Vec::new()),
            "local-name" | "namespace-uri" | "name" => {
                let n = node().and_then(|n| doc.name(n));
                Value::String(match (name, n) {
                    (_, None) => String::new(),
                    ("local-name", Some((_, l))) => l.to_string(),
                    ("namespace-uri", Some((ns, _))) => ns.to_string(),
                    (_, Some((ns, l))) => self.qualified_name(ns, l),
                })
            }
            "string" => Value::String(s(0)),
            "concat" => Value::String((0..vals.len()).map(s).collect()),
            "starts-with" => Value::Boolean(s(0).starts_with(&s(1))),
            "contains" => Value::Boolean(s(0).contains(&s(1))),
            "substring-before" => {
                let (a, b) = (s(0), s(1));
                Value::String(a.find(&b).map_or_else(String::new, |i| a[..i].to_string()))
            }
            "substring-after" => {
                let (a, b) = (s(0), s(1));
                Value::String(
                    a.find(&b)
                        .map_or_else(String::new, |i| a[i + b.len()..].to_string()),
                )
            }
            "substring" => Value::String(substring(&s(0), num(1).unwrap_or(f64::NAN), num(2))),
            "string-length" => Value::Number(s(0).chars().count() as f64),
            "normalize-space" => Value::String(normalize_space(&s(0))),
            "translate" => Value::String(translate(&s(0), &s(1), &s(2))),
            "boolean" => Value::Boolean(vals[0].to_boolean()),
            "not" => Value::Boolean(!vals[0].to_boolean()),
            "true" => Value::Boolean(true),
            "false" | "lang" => Value::Boolean(false),
            "number" => Value::Number(match num(0) {
                Some(x) => x,
                None => string_to_number(&self.node_string(focus.node)),
            }),
            "sum" => Value::Number(match &vals[0] {
                Value::NodeSet(ns) => ns
                    .iter()
                    .map(|&n| string_to_number(&self.node_string(n)))
                    .sum(),
                _ => f64::NAN,
            }),
            "floor" => Value::Number(num(0).unwrap_or(f64::NAN).floor()),
            "ceiling" => Value::Number(num(0).unwrap_or(f64::NAN).ceil()),
            "round" => Value::Number(xpath_round(num(0).unwrap_or(f64::NAN))),
            "current" => Value::NodeSet(vec![self.current]),
            "deref" => Value::NodeSet(
                first(&vals[0])
                    .and_then(|n| doc.deref(n))
                    .into_iter()
                    .collect(),
            ),
            "derived-from" | "derived-from-or-self" => {
                let (ns, id) = self.identity(&s(1), pos)?;
                let or_self = name == "derived-from-or-self";
                Value::Boolean(match &vals[0] {
                    Value::NodeSet(nodes) => nodes
                        .iter()
                        .any(|&n| doc.identity_derived_from(n, ns, &id, or_self)),
                    _ => false,
                })
            }
            "re-match" => {
                let (subject, pattern) = (s(0), s(1));
                Value::Boolean(doc.re_match(&subject, &pattern).map_err(|m| {
                    XPathError::new(
                        ErrorKind::InvalidPattern,
                        pos,
                        format!("invalid pattern {pattern:?}: {m}"),
                    )
                })?)
            }
            "enum-value" => Value::Number(
                first(&vals[0])
                    .and_then(|n| doc.enum_value(n))
                    .map_or(f64::NAN, |v| v as f64),
            ),
            "bit-is-set" => {
                let bit = s(1);
                Value::Boolean(
                    first(&vals[0])
                        .and_then(|n| doc.value(n))
                        .is_some_and(|v| v.split(is_xml_space).any(|b| !b.is_empty() && b == bit)),
                )
            }
            _ => {
                return Err(XPathError::new(
                    ErrorKind::UnknownFunction,
                    pos,
                    format!("unknown function {name}()"),
                ));
            }
        };
        Ok(v)
    }
}
