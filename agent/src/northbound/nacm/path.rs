//! Data-node rule paths (`node-instance-identifier`, RFC 8341 §3.2.2) and the view of the data
//! node being checked.
//!
//! A rule path is an absolute instance-identifier whose key predicates are optional:
//! `/ietf-interfaces:interfaces/interface[name='eth0']`, `/nacm:nacm`, or `/` for everything.
//! A step's prefix may be a module name or a module's prefix; a step without one belongs to the
//! module of the step before it (RFC 7951 style).

use std::fmt;

/// The data node being checked, from the top: the caller implements this over its tree, so a
/// check reads the path where it is instead of building one.
pub trait DataPath {
    /// Number of nodes from the top-level one down to the checked node (0: the datastore root).
    fn depth(&self) -> usize;
    /// The name of the module the node at `level` is defined in.
    fn module(&self, level: usize) -> &str;
    /// The node's name.
    fn name(&self, level: usize) -> &str;
    /// How many keys the node has (list entry: its keys; leaf-list entry: 1, named `.`).
    fn key_count(&self, level: usize) -> usize;
    /// The `index`th key: its local name and value.
    fn key(&self, level: usize, index: usize) -> (&str, &str);

    /// The value of the key named `name` (`.` for a leaf-list entry's value).
    fn key_value(&self, level: usize, name: &str) -> Option<&str> {
        (0..self.key_count(level))
            .map(|i| self.key(level, i))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }
}

/// One node of a [`DataPath`] given as a slice: `&[Segment]` is a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    pub module: &'a str,
    pub name: &'a str,
    /// Key names and values of a list entry (`.` and the value for a leaf-list entry).
    pub keys: &'a [(&'a str, &'a str)],
}

impl DataPath for [Segment<'_>] {
    fn depth(&self) -> usize {
        self.len()
    }
    fn module(&self, level: usize) -> &str {
        self[level].module
    }
    fn name(&self, level: usize) -> &str {
        self[level].name
    }
    fn key_count(&self, level: usize) -> usize {
        self[level].keys.len()
    }
    fn key(&self, level: usize, index: usize) -> (&str, &str) {
        self[level].keys[index]
    }
}

/// A data path as text: `/module:name[key='value']/child`, the module written where it changes.
pub fn display_path<P: DataPath + ?Sized>(node: &P) -> String {
    if node.depth() == 0 {
        return "/".to_string();
    }
    let mut out = String::new();
    let mut module = "";
    for level in 0..node.depth() {
        let m = node.module(level);
        let keys = (0..node.key_count(level)).map(|i| node.key(level, i));
        write_step(&mut out, (m != module).then_some(m), node.name(level), keys);
        module = m;
    }
    out
}

/// Append `/[module:]name[k='v']...`.
fn write_step<'k>(
    out: &mut String,
    module: Option<&str>,
    name: &str,
    keys: impl Iterator<Item = (&'k str, &'k str)>,
) {
    out.push('/');
    if let Some(m) = module {
        out.push_str(m);
        out.push(':');
    }
    out.push_str(name);
    for (k, v) in keys {
        let q = if v.contains('\'') { '"' } else { '\'' };
        out.push('[');
        out.push_str(k);
        out.push('=');
        out.push(q);
        out.push_str(v);
        out.push(q);
        out.push(']');
    }
}

/// Why a rule path is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// Not the grammar of an instance-identifier.
    #[error("expected {expected} at offset {offset}")]
    Syntax {
        offset: usize,
        expected: &'static str,
    },
    /// A prefix that is neither a known module name nor a module's prefix.
    #[error("unknown module or prefix '{0}'")]
    UnknownPrefix(String),
    /// The first step must say which module it is in.
    #[error("the first node '{0}' needs a module name or prefix")]
    MissingModule(String),
    /// A node the schema does not have at that place.
    #[error("the schema has no node '{0}'")]
    UnknownNode(String),
    /// A positional predicate (`[1]`): entries are named by their keys.
    #[error("position predicates are not supported (offset {0}); name the entry by its keys")]
    Position(usize),
}

/// A compiled rule path: the nodes it names, top first, each with its key predicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePath {
    text: String,
    steps: Vec<Step>,
}

/// One node of a rule path; keys compare by local name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Step {
    pub(super) module: String,
    pub(super) name: String,
    pub(super) keys: Vec<(String, String)>,
}

impl NodePath {
    /// Compile `text`; `resolve` turns a module name or prefix into a module name.
    pub fn parse(
        text: &str,
        resolve: &dyn Fn(&str) -> Option<String>,
    ) -> Result<NodePath, PathError> {
        let steps = Parser::new(text, resolve).path()?;
        Ok(NodePath {
            text: text.to_string(),
            steps,
        })
    }

    /// The path as configured.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `/`: every data node.
    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    /// The nodes the path names, top first.
    pub(super) fn steps(&self) -> &[Step] {
        &self.steps
    }
}

impl NodePath {
    /// Canonical text of some steps (see the `Display` of a path).
    pub(super) fn display_steps(steps: &[Step]) -> String {
        if steps.is_empty() {
            return "/".to_string();
        }
        let mut out = String::new();
        let mut module = "";
        for s in steps {
            let keys = s.keys.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            write_step(
                &mut out,
                (s.module != module).then_some(&s.module),
                &s.name,
                keys,
            );
            module = &s.module;
        }
        out
    }
}

/// Canonical text: module names, written where the module changes.
impl fmt::Display for NodePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&NodePath::display_steps(&self.steps))
    }
}

/// A recursive-descent parser over the path text.
struct Parser<'t, 'r> {
    text: &'t str,
    pos: usize,
    resolve: &'r dyn Fn(&str) -> Option<String>,
}

impl<'t, 'r> Parser<'t, 'r> {
    fn new(text: &'t str, resolve: &'r dyn Fn(&str) -> Option<String>) -> Self {
        Parser {
            text,
            pos: 0,
            resolve,
        }
    }

    /// `/` alone, or one or more `/step`.
    fn path(mut self) -> Result<Vec<Step>, PathError> {
        self.skip_ws();
        if self.rest().trim_end() == "/" {
            return Ok(Vec::new());
        }
        let mut steps: Vec<Step> = Vec::new();
        loop {
            self.skip_ws();
            if self.rest().is_empty() && !steps.is_empty() {
                return Ok(steps);
            }
            self.expect('/', "'/'")?;
            let inherited = steps.last().map(|s| s.module.clone());
            steps.push(self.step(inherited)?);
        }
    }

    /// `[prefix:]name` followed by key predicates.
    fn step(&mut self, inherited: Option<String>) -> Result<Step, PathError> {
        let (prefix, name) = self.qname("a node name")?;
        let module = match (prefix, inherited) {
            (Some(p), _) => self.module(p)?,
            (None, Some(m)) => m,
            (None, None) => return Err(PathError::MissingModule(name.to_string())),
        };
        let mut keys = Vec::new();
        while self.eat('[') {
            keys.push(self.predicate()?);
        }
        Ok(Step {
            module,
            name: name.to_string(),
            keys,
        })
    }

    /// After `[`: `[prefix:]key = 'value']` or `. = 'value']`.
    fn predicate(&mut self) -> Result<(String, String), PathError> {
        self.skip_ws();
        if self.rest().starts_with(|c: char| c.is_ascii_digit()) {
            return Err(PathError::Position(self.pos));
        }
        let key = if self.eat('.') {
            ".".to_string()
        } else {
            let (prefix, name) = self.qname("a key name or '.'")?;
            if let Some(p) = prefix {
                self.module(p)?;
            }
            name.to_string()
        };
        self.expect('=', "'='")?;
        let value = self.quoted()?;
        self.expect(']', "']'")?;
        Ok((key, value.to_string()))
    }

    /// An identifier, optionally prefixed: (prefix, name).
    fn qname(&mut self, what: &'static str) -> Result<(Option<&'t str>, &'t str), PathError> {
        self.skip_ws();
        let first = self.identifier().ok_or(PathError::Syntax {
            offset: self.pos,
            expected: what,
        })?;
        if !self.rest().starts_with(':') {
            return Ok((None, first));
        }
        self.pos += 1;
        let name = self.identifier().ok_or(PathError::Syntax {
            offset: self.pos,
            expected: "a name after ':'",
        })?;
        Ok((Some(first), name))
    }

    /// A YANG identifier: a letter or `_`, then letters, digits, `_`, `-`, `.`.
    fn identifier(&mut self) -> Option<&'t str> {
        let rest = self.rest();
        if !rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            return None;
        }
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .unwrap_or(rest.len());
        self.pos += len;
        Some(&rest[..len])
    }

    /// A single- or double-quoted string (no escapes, as in XPath 1.0 literals).
    fn quoted(&mut self) -> Result<&'t str, PathError> {
        self.skip_ws();
        let rest = self.rest();
        let quote = match rest.chars().next() {
            Some(q @ ('\'' | '"')) => q,
            _ => {
                return Err(PathError::Syntax {
                    offset: self.pos,
                    expected: "a quoted value",
                })
            }
        };
        let end = rest[1..].find(quote).ok_or(PathError::Syntax {
            offset: self.text.len(),
            expected: "a closing quote",
        })?;
        self.pos += end + 2;
        Ok(&rest[1..end + 1])
    }

    fn module(&self, prefix: &str) -> Result<String, PathError> {
        (self.resolve)(prefix).ok_or_else(|| PathError::UnknownPrefix(prefix.to_string()))
    }

    fn rest(&self) -> &'t str {
        &self.text[self.pos..]
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        let hit = self.rest().starts_with(c);
        if hit {
            self.pos += c.len_utf8();
        }
        hit
    }

    fn expect(&mut self, c: char, what: &'static str) -> Result<(), PathError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(PathError::Syntax {
                offset: self.pos,
                expected: what,
            })
        }
    }
}
