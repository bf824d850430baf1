//! An in-memory [`Document`] for the tests, built from a compact literal:
//!
//! ```text
//! doc   := stmt*
//! stmt  := NAME ['#' LABEL] ( '{' stmt* '}' | STRING ['=' INT] ['->' LABEL] ';' )
//! ```
//!
//! `NAME` is `prefix:local` or `local` (namespace `urn:t`); `#label` names a
//! node for the tests; `= INT` gives an enumeration leaf its integer value;
//! `-> label` makes `deref()` of the leaf return the labelled node.
//! Identityref values are `prefix:name` strings, with derivations given by
//! [`TestDoc::identity`].

use std::borrow::Cow;
use std::collections::HashMap;

use crate::xpath::Document;

pub const DEFAULT_NS: &str = "urn:t";

/// The prefix map used both for names in the literal and as the evaluation
/// context's prefixes.
pub fn prefixes() -> HashMap<String, String> {
    [
        ("t", "urn:t"),
        ("if", "urn:if"),
        ("ianaift", "urn:ianaift"),
        ("x", "urn:x"),
    ]
    .into_iter()
    .map(|(p, u)| (p.to_string(), u.to_string()))
    .collect()
}

#[derive(Debug, Default)]
struct NodeData {
    name: Option<(String, String)>,
    value: Option<String>,
    parent: Option<usize>,
    children: Vec<usize>,
    enum_value: Option<i64>,
    deref: Option<String>,
    label: Option<String>,
}

#[derive(Debug)]
pub struct TestDoc {
    nodes: Vec<NodeData>,
    prefixes: HashMap<String, String>,
    /// identity -> its bases
    bases: HashMap<(String, String), Vec<(String, String)>>,
}

impl TestDoc {
    pub fn new() -> TestDoc {
        TestDoc {
            nodes: vec![NodeData::default()],
            prefixes: prefixes(),
            bases: HashMap::new(),
        }
    }

    fn resolve(&self, qname: &str) -> (String, String) {
        match qname.split_once(':') {
            Some((p, l)) => (
                self.prefixes
                    .get(p)
                    .unwrap_or_else(|| panic!("test prefix {p}"))
                    .clone(),
                l.to_string(),
            ),
            None => (DEFAULT_NS.to_string(), qname.to_string()),
        }
    }

    /// Add a node under `parent`; returns its id.
    pub fn add(&mut self, parent: usize, qname: &str, value: Option<&str>) -> usize {
        let id = self.nodes.len();
        let name = self.resolve(qname);
        self.nodes.push(NodeData {
            name: Some(name),
            value: value.map(str::to_string),
            parent: Some(parent),
            ..NodeData::default()
        });
        self.nodes[parent].children.push(id);
        id
    }

    /// Declare that identity `derived` has base `base` (both `prefix:name`).
    pub fn identity(&mut self, derived: &str, base: &str) -> &mut Self {
        let d = self.resolve(derived);
        let b = self.resolve(base);
        self.bases.entry(d).or_default().push(b);
        self
    }

    /// The node with the given label.
    pub fn node(&self, label: &str) -> usize {
        self.nodes
            .iter()
            .position(|n| n.label.as_deref() == Some(label))
            .unwrap_or_else(|| panic!("no node labelled {label}"))
    }

    /// A short description of a node: its label, else its local name.
    pub fn describe(&self, n: usize) -> String {
        let d = &self.nodes[n];
        match (&d.label, &d.name) {
            (Some(l), _) => l.clone(),
            (None, Some((_, local))) => local.clone(),
            (None, None) => "root".to_string(),
        }
    }

    /// Build a document from the compact literal described in the module docs.
    pub fn parse(src: &str) -> TestDoc {
        let mut doc = TestDoc::new();
        let toks = lex(src);
        let mut i = 0;
        let mut stack = vec![0usize];
        while i < toks.len() {
            let parent = *stack.last().unwrap();
            if toks[i] == "}" {
                stack.pop();
                i += 1;
                continue;
            }
            let id = doc.add(parent, &toks[i], None);
            i += 1;
            if let Some(l) = toks[i].strip_prefix('#') {
                doc.nodes[id].label = Some(l.to_string());
                i += 1;
            }
            if toks[i] == "{" {
                stack.push(id);
                i += 1;
                continue;
            }
            let v = toks[i]
                .strip_prefix('"')
                .unwrap_or_else(|| panic!("expected a value, got {}", toks[i]));
            doc.nodes[id].value = Some(v.to_string());
            i += 1;
            while toks[i] != ";" {
                if let Some(n) = toks[i].strip_prefix('=') {
                    doc.nodes[id].enum_value = Some(n.parse().unwrap());
                } else if let Some(l) = toks[i].strip_prefix("->") {
                    doc.nodes[id].deref = Some(l.to_string());
                } else {
                    panic!("unexpected {}", toks[i]);
                }
                i += 1;
            }
            i += 1;
        }
        doc
    }
}

/// Tokens: `{`, `}`, `;`, `"value` (string with the opening quote kept as a
/// marker), `#label`, `=INT`, `->label`, and names.
fn lex(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = src.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if "{};".contains(c) {
            out.push(c.to_string());
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::from('"');
            for d in chars.by_ref() {
                if d == '"' {
                    break;
                }
                s.push(d);
            }
            out.push(s);
        } else {
            let mut s = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_whitespace() || "{};\"".contains(d) {
                    break;
                }
                s.push(d);
                chars.next();
            }
            if s == "->" || s == "=" {
                // allow "-> label" / "= 1" with a space
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                while let Some(&d) = chars.peek() {
                    if d.is_whitespace() || "{};\"".contains(d) {
                        break;
                    }
                    s.push(d);
                    chars.next();
                }
            }
            out.push(s);
        }
    }
    out
}

/// A tiny anchored regular expression matcher for the tests: literal
/// characters, `.`, and `*` after an atom. `[` and `(` are rejected as
/// invalid patterns.
fn tiny_match(pattern: &[char], text: &[char]) -> bool {
    if pattern.is_empty() {
        return text.is_empty();
    }
    let atom_matches = |t: Option<&char>| t.is_some_and(|&t| pattern[0] == '.' || pattern[0] == t);
    if pattern.get(1) == Some(&'*') {
        let mut i = 0;
        loop {
            if tiny_match(&pattern[2..], &text[i..]) {
                return true;
            }
            if !atom_matches(text.get(i)) {
                return false;
            }
            i += 1;
        }
    }
    atom_matches(text.first()) && tiny_match(&pattern[1..], &text[1..])
}

impl Document for TestDoc {
    type Node = usize;

    fn root(&self) -> usize {
        0
    }

    fn parent(&self, n: usize) -> Option<usize> {
        self.nodes[n].parent
    }

    fn children(&self, n: usize) -> Vec<usize> {
        self.nodes[n].children.clone()
    }

    fn name(&self, n: usize) -> Option<(&str, &str)> {
        self.nodes[n]
            .name
            .as_ref()
            .map(|(ns, l)| (ns.as_str(), l.as_str()))
    }

    fn value(&self, n: usize) -> Option<Cow<'_, str>> {
        self.nodes[n].value.as_deref().map(Cow::Borrowed)
    }

    fn deref(&self, n: usize) -> Option<usize> {
        let label = self.nodes[n].deref.as_deref()?;
        self.nodes
            .iter()
            .position(|d| d.label.as_deref() == Some(label))
    }

    fn identity_derived_from(
        &self,
        n: usize,
        base_ns: &str,
        base_name: &str,
        or_self: bool,
    ) -> bool {
        let Some(v) = self.nodes[n].value.as_deref() else {
            return false;
        };
        let start = self.resolve(v);
        let target = (base_ns.to_string(), base_name.to_string());
        if or_self && start == target {
            return true;
        }
        let mut todo = vec![start];
        let mut steps = 0;
        while let Some(id) = todo.pop() {
            steps += 1;
            if steps > 1000 {
                return false;
            }
            for b in self.bases.get(&id).into_iter().flatten() {
                if *b == target {
                    return true;
                }
                todo.push(b.clone());
            }
        }
        false
    }

    fn enum_value(&self, n: usize) -> Option<i64> {
        self.nodes[n].enum_value
    }

    fn re_match(&self, value: &str, pattern: &str) -> Result<bool, String> {
        if pattern.contains(['[', '(']) {
            return Err("unsupported or unbalanced group".to_string());
        }
        let p: Vec<char> = pattern.chars().collect();
        let t: Vec<char> = value.chars().collect();
        Ok(tiny_match(&p, &t))
    }
}
