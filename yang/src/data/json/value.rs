//! Leaf values between their canonical text in the tree and their RFC 7951 §6 JSON form, and
//! instance-identifiers between the tree's form (module prefixes on every step) and the JSON
//! form (module names where the module changes, RFC 7951 §6.11).

use super::parse::Value;
use crate::data::encode::module_for_prefix;
use crate::instance_id::{self, Predicate};
use crate::schema::types::ValueError;
use crate::schema::{ModuleId, Schema, Type, TypeKind};

/// The JSON shape of a non-union type's values (RFC 7951 §6.1-§6.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// int8..int32, uint8..uint32.
    Number,
    /// int64, uint64, decimal64 and every textual type.
    String,
    Boolean,
    /// `[null]`.
    Empty,
}

impl Shape {
    fn of(kind: &TypeKind) -> Shape {
        match kind {
            TypeKind::Int { bits, .. } if *bits <= 32 => Shape::Number,
            TypeKind::Boolean => Shape::Boolean,
            TypeKind::Empty => Shape::Empty,
            _ => Shape::String,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Shape::Number => "a JSON number",
            Shape::String => "a JSON string",
            Shape::Boolean => "true or false",
            Shape::Empty => "[null]",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Encode
// ---------------------------------------------------------------------------------------------

/// Write a leaf or leaf-list value of type `ty` (canonical text) as JSON.
pub(super) fn write_value(schema: &Schema, ty: Option<&Type>, value: &str, out: &mut String) {
    let Some(ty) = ty else {
        return write_string(value, out);
    };
    match &ty.kind {
        TypeKind::Union(members) => {
            // The member whose canonical form the value is: the one that took it (a string
            // "007" in a union of int32 and string stays a string).
            let resolver = |p: &str| module_for_prefix(schema, p);
            match members.iter().find(|m| {
                m.canonical(schema, value, &resolver, None)
                    .is_ok_and(|c| c == value)
            }) {
                Some(m) => write_value(schema, Some(m), value, out),
                None => write_string(value, out),
            }
        }
        TypeKind::Leafref { target, .. } => {
            let tt = target.and_then(|t| schema.node(t).ty.as_ref());
            write_value(schema, tt, value, out)
        }
        TypeKind::IdentityRef(_) => write_string(&identity_to_json(schema, value), out),
        TypeKind::InstanceIdentifier { .. } => match to_json_path(schema, value) {
            Some(p) => write_string(&p, out),
            None => write_string(value, out),
        },
        kind => match Shape::of(kind) {
            // The tree holds canonical values; anything else still makes valid JSON.
            Shape::Number if is_integer(value) => out.push_str(value),
            Shape::Boolean if value == "true" || value == "false" => out.push_str(value),
            Shape::Empty => out.push_str("[null]"),
            _ => write_string(value, out),
        },
    }
}

/// A JSON number's integer form: no sign but '-', no leading zeros.
fn is_integer(v: &str) -> bool {
    let digits = v.strip_prefix('-').unwrap_or(v);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

/// `prefix:identity` (the tree's form) -> `module-name:identity`.
fn identity_to_json(schema: &Schema, value: &str) -> String {
    match value.split_once(':') {
        Some((p, name)) => match module_for_prefix(schema, p) {
            Some(m) => format!("{}:{name}", schema.module(m).name),
            None => value.to_string(),
        },
        None => value.to_string(),
    }
}

/// A JSON string literal.
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let bytes = s.as_bytes();
    // Most strings need no escape: one scan, one copy.
    if !bytes.iter().any(|&b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{b:04x}"));
        } else {
            out.push_str(escape);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// An instance-identifier in the tree's form (`/if:interfaces/if:interface[if:name='x']`, as
/// values and error paths are written) in the RFC 7951 §6.11 JSON form
/// (`/ne-interfaces:interfaces/interface[name='x']`); None if it does not resolve.
pub fn to_json_path(schema: &Schema, path: &str) -> Option<String> {
    let resolver = |p: &str| module_for_prefix(schema, p);
    let steps = instance_id::parse(schema, path, &resolver).ok()?;
    let mut out = String::new();
    let mut parent: Option<ModuleId> = None;
    for s in &steps {
        out.push('/');
        push_name(schema, s.module, parent, &s.name, &mut out);
        for p in &s.predicates {
            out.push('[');
            match p {
                Predicate::Key {
                    module,
                    name,
                    value,
                } => {
                    push_name(schema, *module, Some(s.module), name, &mut out);
                    out.push('=');
                    out.push_str(&instance_id::quote(value));
                }
                Predicate::Value(v) => {
                    out.push_str(".=");
                    out.push_str(&instance_id::quote(v));
                }
                Predicate::Position(n) => out.push_str(&n.to_string()),
            }
            out.push(']');
        }
        parent = Some(s.module);
    }
    Some(out)
}

fn push_name(
    schema: &Schema,
    module: ModuleId,
    parent: Option<ModuleId>,
    name: &str,
    out: &mut String,
) {
    if parent != Some(module) {
        out.push_str(&schema.module(module).name);
        out.push(':');
    }
    out.push_str(name);
}

// ---------------------------------------------------------------------------------------------
// Decode
// ---------------------------------------------------------------------------------------------

/// Check a JSON value against a leaf's type and return its canonical text. `module` is the
/// leaf's module: an identity written without a module name belongs to it (RFC 7951 §6.8).
pub(super) fn canonical(
    schema: &Schema,
    ty: &Type,
    v: &Value<'_>,
    module: ModuleId,
) -> Result<String, ValueError> {
    let resolver = |m: &str| schema.module_by_name(m);
    match &ty.kind {
        TypeKind::Union(members) => {
            // RFC 7951 §6.10: the JSON type takes part in choosing the member.
            let mut errs = Vec::new();
            for m in members {
                match canonical(schema, m, v, module) {
                    Ok(c) => return Ok(c),
                    Err(e) => errs.push(e.message),
                }
            }
            Err(verr(format!(
                "{} matches no member of the union ({})",
                show(v),
                errs.join("; ")
            )))
        }
        TypeKind::Leafref { target, .. } => match target.and_then(|t| schema.node(t).ty.as_ref()) {
            Some(tt) => canonical(schema, tt, v, module),
            None => Ok(text(ty, v, Shape::String)?.to_string()),
        },
        TypeKind::InstanceIdentifier { .. } => {
            let qualified = qualify_json_path(text(ty, v, Shape::String)?)
                .map_err(|e| verr(format!("invalid instance-identifier: {e}")))?;
            ty.canonical(schema, &qualified, &resolver, Some(module))
        }
        kind => {
            let t = text(ty, v, Shape::of(kind))?;
            ty.canonical(schema, t, &resolver, Some(module))
        }
    }
}

/// The text a value of shape `want` carries, or why it has the wrong JSON type.
fn text<'v>(ty: &Type, v: &'v Value<'_>, want: Shape) -> Result<&'v str, ValueError> {
    let t = match (want, v) {
        (Shape::Number, Value::Number(n)) => n,
        (Shape::String, Value::String(s)) => {
            check_characters(s)?;
            s.as_ref()
        }
        (Shape::Boolean, Value::Bool(true)) => "true",
        (Shape::Boolean, Value::Bool(false)) => "false",
        (Shape::Empty, Value::Array(items)) if matches!(items.as_slice(), [Value::Null]) => "",
        _ => {
            let builtin = ty.kind.builtin_name();
            let named = if ty.name == builtin {
                builtin.to_string()
            } else {
                format!("{} ({builtin})", ty.name)
            };
            return Err(verr(format!(
                "{} is not a value of {named}: RFC 7951 writes it as {}",
                show(v),
                want.describe()
            )));
        }
    };
    Ok(t)
}

/// YANG strings hold no C0 control characters but tab, line feed and carriage return
/// (RFC 7950 §9.4), which is also all XML can carry.
fn check_characters(s: &str) -> Result<(), ValueError> {
    match s.chars().find(|&c| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{fffe}' | '\u{ffff}')
    }) {
        Some(c) => Err(verr(format!(
            "character U+{:04X} is not allowed in a YANG value",
            c as u32
        ))),
        None => Ok(()),
    }
}

/// A JSON value for messages: scalars as written (cut short), containers by kind.
fn show(v: &Value<'_>) -> String {
    match v {
        Value::Number(n) => (*n).chars().take(40).collect(),
        Value::String(s) => format!("\"{}\"", s.chars().take(40).collect::<String>()),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Array(a) if matches!(a.as_slice(), [Value::Null]) => "[null]".into(),
        other => other.kind().to_string(),
    }
}

fn verr(message: String) -> ValueError {
    ValueError {
        message,
        app_tag: None,
    }
}

/// An instance-identifier in the RFC 7951 §6.11 JSON form in the tree's form (module prefixes,
/// as [`crate::data::DataTree::find`] takes it), checked against the schema.
pub fn from_json_path(schema: &Schema, path: &str) -> Result<String, String> {
    let resolver = |m: &str| schema.module_by_name(m);
    instance_id::canonical(schema, &qualify_json_path(path)?, &resolver).map_err(|e| e.0)
}

/// An instance-identifier in the JSON form with every node name qualified by its module's
/// name: a name without one takes the module of the step before it (a key name, that of its
/// list), RFC 7951 §6.11.
fn qualify_json_path(path: &str) -> Result<String, String> {
    let mut out = String::with_capacity(path.len() + 32);
    let mut module: Option<&str> = None;
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut rest = path;
    while let Some(c) = rest.chars().next() {
        let len = c.len_utf8();
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            out.push(c);
            rest = &rest[len..];
            continue;
        }
        out.push(c);
        rest = &rest[len..];
        match c {
            '\'' | '"' if depth > 0 => quote = Some(c),
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        let step = c == '/' && depth == 0;
        if !(step || c == '[') {
            continue;
        }
        let trimmed = rest.trim_start();
        out.push_str(&rest[..rest.len() - trimmed.len()]);
        rest = trimmed;
        if !rest.starts_with(|c: char| c.is_alphabetic() || c == '_') {
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')))
            .unwrap_or(rest.len());
        let qname = &rest[..end];
        rest = &rest[end..];
        match qname.split_once(':') {
            Some((m, _)) => {
                if step {
                    module = Some(m);
                }
                out.push_str(qname);
            }
            None => {
                let Some(m) = module else {
                    return Err(format!(
                        "the first node, '{qname}', needs its module name (module:{qname})"
                    ));
                };
                out.push_str(m);
                out.push(':');
                out.push_str(qname);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_what_json_requires() {
        let mut out = String::new();
        write_string("a\"b\\c\nd\u{1}e\u{7f}é/", &mut out);
        assert_eq!(out, r#""a\"b\\c\nd\u0001e"#.to_string() + "\u{7f}é/\"");
        assert_eq!(
            super::super::parse::parse(&out).unwrap(),
            Value::String("a\"b\\c\nd\u{1}e\u{7f}é/".to_string().into())
        );
    }

    #[test]
    fn json_paths_are_qualified_where_the_module_changes() {
        assert_eq!(
            qualify_json_path("/a:x/y[k='1/2'][b:j=\"]\"]/b:z/w[.='v'][2]").unwrap(),
            "/a:x/a:y[a:k='1/2'][b:j=\"]\"]/b:z/b:w[.='v'][2]"
        );
        assert_eq!(
            qualify_json_path("/a:x/y[ k = 'v' ]").unwrap(),
            "/a:x/a:y[ a:k = 'v' ]"
        );
        assert!(qualify_json_path("/x").unwrap_err().contains("module name"));
    }
}
