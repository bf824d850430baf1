//! instance-identifier values (RFC 7950 §9.13): `/p:a/p:list[p:key='v']/p:leaf`.

use std::fmt;

use crate::schema::types::PrefixResolver;
use crate::schema::{ModuleId, NodeId, NodeKind, Schema};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Predicate {
    /// `[prefix:key = 'value']`
    Key {
        module: ModuleId,
        name: String,
        value: String,
    },
    /// `[. = 'value']` for leaf-list entries.
    Value(String),
    /// `[N]`, 1-based position.
    Position(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub module: ModuleId,
    pub name: String,
    pub predicates: Vec<Predicate>,
    pub node: NodeId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceIdError(pub String);

impl fmt::Display for InstanceIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(m: impl Into<String>) -> Result<T, InstanceIdError> {
    Err(InstanceIdError(m.into()))
}

struct Cursor<'s> {
    s: &'s str,
    pos: usize,
}

impl<'s> Cursor<'s> {
    fn ws(&mut self) {
        while self.s[self.pos..].starts_with(char::is_whitespace) {
            self.pos += self.s[self.pos..].chars().next().map_or(1, char::len_utf8);
        }
    }
    fn eat(&mut self, c: char) -> bool {
        self.ws();
        if self.s[self.pos..].starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }
    fn ident(&mut self) -> Option<&'s str> {
        self.ws();
        let rest = &self.s[self.pos..];
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')))
            .unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        self.pos += len;
        Some(&rest[..len])
    }
    fn quoted(&mut self) -> Result<String, InstanceIdError> {
        self.ws();
        let rest = &self.s[self.pos..];
        let q = match rest.chars().next() {
            Some(c @ ('\'' | '"')) => c,
            _ => return err("expected a quoted value"),
        };
        let Some(end) = rest[1..].find(q) else {
            return err("unterminated quoted value");
        };
        self.pos += end + 2;
        Ok(rest[1..end + 1].to_string())
    }
}

/// Parse and resolve against the schema.
pub fn parse(
    schema: &Schema,
    text: &str,
    prefixes: &dyn PrefixResolver,
) -> Result<Vec<Step>, InstanceIdError> {
    let mut c = Cursor { s: text, pos: 0 };
    let mut steps = Vec::new();
    let mut parent: Option<NodeId> = None;
    loop {
        c.ws();
        if c.pos == text.len() {
            break;
        }
        if !c.eat('/') {
            return err(format!("expected '/' at offset {}", c.pos));
        }
        let Some(qname) = c.ident() else {
            return err("expected a node name");
        };
        let Some((p, name)) = qname.split_once(':') else {
            return err(format!("'{qname}' needs a module prefix"));
        };
        let Some(module) = prefixes.module_for_prefix(p) else {
            return err(format!("unknown prefix '{p}'"));
        };
        let ns = &schema.module(module).namespace;
        let Some(node) = schema.find_child(parent, ns, name) else {
            return err(format!("no schema node '{qname}'"));
        };
        let mut predicates = Vec::new();
        while c.eat('[') {
            c.ws();
            let rest = &c.s[c.pos..];
            if rest.starts_with(|ch: char| ch.is_ascii_digit()) {
                let len = rest
                    .find(|ch: char| !ch.is_ascii_digit())
                    .unwrap_or(rest.len());
                let n: u64 = rest[..len]
                    .parse()
                    .map_err(|_| InstanceIdError("bad position".into()))?;
                if n == 0 {
                    return err("positions start at 1");
                }
                c.pos += len;
                predicates.push(Predicate::Position(n));
            } else if c.eat('.') {
                if !c.eat('=') {
                    return err("expected '=' after '.'");
                }
                predicates.push(Predicate::Value(c.quoted()?));
            } else {
                let Some(kq) = c.ident() else {
                    return err("expected a key name");
                };
                let Some((kp, kname)) = kq.split_once(':') else {
                    return err(format!("key '{kq}' needs a module prefix"));
                };
                let Some(kmod) = prefixes.module_for_prefix(kp) else {
                    return err(format!("unknown prefix '{kp}'"));
                };
                if !c.eat('=') {
                    return err("expected '=' in predicate");
                }
                let value = c.quoted()?;
                let is_key = schema
                    .node(node)
                    .keys
                    .iter()
                    .any(|&k| schema.node(k).name == kname);
                if !is_key {
                    return err(format!("'{kq}' is not a key of '{qname}'"));
                }
                predicates.push(Predicate::Key {
                    module: kmod,
                    name: kname.to_string(),
                    value,
                });
            }
            if !c.eat(']') {
                return err("expected ']'");
            }
        }
        let kind = schema.node(node).kind;
        if !predicates.is_empty() && !matches!(kind, NodeKind::List | NodeKind::LeafList) {
            return err(format!("'{qname}' is not a list or leaf-list"));
        }
        steps.push(Step {
            module,
            name: name.to_string(),
            predicates,
            node,
        });
        parent = Some(node);
    }
    if steps.is_empty() {
        return err("empty instance-identifier");
    }
    Ok(steps)
}

/// Canonical text: module prefixes as the modules declare them, values in single quotes
/// (double quotes when the value contains a single quote).
pub fn format(schema: &Schema, steps: &[Step]) -> String {
    let mut out = String::new();
    for s in steps {
        out.push('/');
        out.push_str(&schema.module(s.module).prefix);
        out.push(':');
        out.push_str(&s.name);
        for p in &s.predicates {
            match p {
                Predicate::Key {
                    module,
                    name,
                    value,
                } => {
                    out.push_str(&format!(
                        "[{}:{}={}]",
                        schema.module(*module).prefix,
                        name,
                        quote(value)
                    ));
                }
                Predicate::Value(v) => out.push_str(&format!("[.={}]", quote(v))),
                Predicate::Position(n) => out.push_str(&format!("[{n}]")),
            }
        }
    }
    out
}

pub fn quote(v: &str) -> String {
    if v.contains('\'') {
        format!("\"{v}\"")
    } else {
        format!("'{v}'")
    }
}

/// Check an instance-identifier against the schema and return its canonical form.
pub fn canonical(
    schema: &Schema,
    text: &str,
    prefixes: &dyn PrefixResolver,
) -> Result<String, InstanceIdError> {
    Ok(format(schema, &parse(schema, text, prefixes)?))
}

/// Split an instance-identifier into its steps' text (`/p:a`, `/p:b[p:k='x/y']`), respecting
/// quoted predicate values.
pub fn split_steps(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in path.char_indices() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' if depth > 0 => quote = Some(c),
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '/' if depth == 0 => {
                if let Some(s) = start {
                    out.push(&path[s..i]);
                }
                start = Some(i);
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(&path[s..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split_steps;

    #[test]
    fn steps_respect_quotes() {
        assert_eq!(
            split_steps("/a:x/a:l[a:k='1/2'][a:j=\"]\"]/a:y"),
            ["/a:x", "/a:l[a:k='1/2'][a:j=\"]\"]", "/a:y"]
        );
        assert!(split_steps("").is_empty());
    }
}
