//! XPath 1.0 parser and evaluator for YANG `must`, `when` and leafref `path`
//! expressions (RFC 7950 §6.4 and §10).
//!
//! # Overview
//!
//! * [`parse`] turns an expression string into an [`Expr`] syntax tree. The
//!   whole XPath 1.0 grammar is accepted (all 13 axes, abbreviations, filter
//!   expressions, every operator with the right precedence, the lexical
//!   disambiguation rules of XPath 1.0 §3.7). Function names and arities are
//!   checked against the XPath 1.0 core library plus the YANG 1.1 functions,
//!   and arguments that must be node-sets are type-checked statically, so a
//!   YANG compiler gets these errors at parse time. Every error is an
//!   [`XPathError`] carrying the byte position in the input.
//! * [`Expr`] implements [`std::fmt::Display`], printing a normalized
//!   expression (abbreviated syntax where it is exactly equivalent, single
//!   spaces around binary operators, parentheses only where needed).
//!   Re-parsing the printed form gives an equivalent tree.
//! * [`referenced_prefixes`] lists the namespace prefixes used in name tests,
//!   so a compiler can check that the module imports them.
//! * [`evaluate`] / [`evaluate_bool`] run an expression over any data tree
//!   implementing [`Document`].
//!
//! # Data model
//!
//! The evaluator sees the data tree through [`Document`]: a root node (the
//! parent of the top-level data nodes, without a name), and named data nodes
//! (containers, lists, leaves, leaf-lists ...). Leaf and leaf-list nodes have
//! a value (their canonical string form), which acts as their text content:
//! the string-value of a leaf is its value, and the string-value of an
//! interior node is the concatenation of the values of its descendant leaves
//! in document order (XPath 1.0 §5). There are no separate text nodes, so the
//! `text()`, `comment()` and `processing-instruction()` node tests select
//! nothing, and the `attribute` and `namespace` axes are always empty.
//!
//! Node-sets are returned de-duplicated and in document order. Document order
//! is computed by the evaluator from `parent`/`children`; sibling positions
//! are cached per evaluation so that large node-sets sort in
//! `O(n log n * depth)`.
//!
//! # Names
//!
//! A prefixed name test `p:name` matches nodes whose namespace is the URI that
//! `p` maps to in [`Context::prefixes`] (an unknown prefix is an error when
//! the step is evaluated). Unprefixed names are in
//! [`Context::default_namespace`] (RFC 7950 §6.4.1).
//!
//! # Functions
//!
//! The XPath 1.0 core function library (`id()` always returns an empty
//! node-set and `lang()` always returns false, since YANG data has neither ID
//! attributes nor `xml:lang`), plus the YANG 1.1 functions `current()`,
//! `deref()`, `derived-from()`, `derived-from-or-self()`, `re-match()`,
//! `enum-value()` and `bit-is-set()` (RFC 7950 §10).
//!
//! `name()` returns `prefix:local` using a prefix of [`Context::prefixes`]
//! that maps to the node's namespace (the lexicographically smallest if
//! several do), or just the local name if none does.
//!
//! Variables are parsed but YANG defines none, so evaluating one is an error.
//!
//! # Errors and limits
//!
//! Parse errors point at the offending token (the earliest error wins when a
//! lexical error follows a syntax error). Evaluation errors point at the
//! function name, the prefixed name test, the variable, the first `|` of a
//! union, or the start of a filtered expression. Nesting of parentheses,
//! predicates, function arguments and unary minus is limited to
//! [`MAX_DEPTH`] levels ([`ErrorKind::TooDeep`]) so that no input can
//! exhaust the stack; long flat chains (`a or b or ...`, `a/b/...`,
//! `a | b | ...`) are not limited.
//!
//! # Example
//!
//! ```
//! use yang::xpath::parse;
//! let e = parse("/if:interfaces/if:interface[if:name = current()/../ifname]").unwrap();
//! assert_eq!(
//!     e.to_string(),
//!     "/if:interfaces/if:interface[if:name = current()/../ifname]"
//! );
//! assert_eq!(yang::xpath::referenced_prefixes(&e), vec!["if".to_string()]);
//! ```

mod ast;
mod eval;
mod functions;
mod lexer;
mod parser;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

pub use ast::{Axis, BinaryOp, Expr, NodeTest, Step};
pub use eval::string_value;
pub use functions::{number_to_string, string_to_number};
pub use parser::MAX_DEPTH;

/// The data tree an expression is evaluated over.
pub trait Document {
    /// A handle to one node of the tree.
    type Node: Copy + Eq + std::hash::Hash + std::fmt::Debug;
    /// The root node (parent of all top-level data nodes); has no name.
    fn root(&self) -> Self::Node;
    /// The parent of `n`; `None` only for the root.
    fn parent(&self, n: Self::Node) -> Option<Self::Node>;
    /// Children in document order.
    fn children(&self, n: Self::Node) -> Vec<Self::Node>;
    /// (namespace URI, local name); None only for the root.
    fn name(&self, n: Self::Node) -> Option<(&str, &str)>;
    /// Leaf / leaf-list value in canonical string form; None for containers/lists/root.
    fn value(&self, n: Self::Node) -> Option<Cow<'_, str>>;
    /// deref(): target of a leafref or instance-identifier leaf, if it exists.
    fn deref(&self, n: Self::Node) -> Option<Self::Node>;
    /// derived-from(): is the identityref value of `n` derived from (or equal,
    /// if or_self) the identity (base_ns, base_name)?
    fn identity_derived_from(
        &self,
        n: Self::Node,
        base_ns: &str,
        base_name: &str,
        or_self: bool,
    ) -> bool;
    /// enum-value(): the integer value of an enumeration leaf.
    fn enum_value(&self, n: Self::Node) -> Option<i64>;
    /// re-match(): YANG/XSD regular expression match (the caller supplies XSD
    /// semantics); Err if the pattern is invalid.
    fn re_match(&self, value: &str, pattern: &str) -> Result<bool, String>;
}

/// The result of evaluating an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<N> {
    /// Nodes, de-duplicated and in document order.
    NodeSet(Vec<N>),
    Boolean(bool),
    Number(f64),
    String(String),
}

impl<N> Value<N> {
    /// The XPath `boolean()` conversion (needs no document).
    pub fn to_boolean(&self) -> bool {
        match self {
            Value::NodeSet(ns) => !ns.is_empty(),
            Value::Boolean(b) => *b,
            Value::Number(x) => *x != 0.0 && !x.is_nan(),
            Value::String(s) => !s.is_empty(),
        }
    }
}

/// Static evaluation context.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// prefix -> namespace URI, for prefixes in the expression (from the YANG
    /// module's imports).
    pub prefixes: &'a HashMap<String, String>,
    /// Namespace of unprefixed names (YANG 1.1 §6.4.1: the module the
    /// expression is defined in).
    pub default_namespace: &'a str,
    /// Unprefixed names match their local name in any namespace (for NETCONF filters typed by
    /// hand, as ConfD accepts them); otherwise they are in `default_namespace`.
    pub unprefixed_any_namespace: bool,
    // Variables are not used by YANG; an unknown variable is an error.
}

impl<'a> Context<'a> {
    /// A context with the given prefix map and default namespace.
    pub fn new(prefixes: &'a HashMap<String, String>, default_namespace: &'a str) -> Self {
        Context {
            prefixes,
            default_namespace,
            unprefixed_any_namespace: false,
        }
    }

    /// Unprefixed names match any namespace.
    pub fn unprefixed_any_namespace(self) -> Self {
        Context {
            unprefixed_any_namespace: true,
            ..self
        }
    }
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The expression does not follow the XPath 1.0 grammar (including bad
    /// characters, unterminated literals, unbalanced brackets).
    Syntax,
    /// The expression nests deeper than the parser allows.
    TooDeep,
    /// A function that is neither XPath 1.0 core nor YANG 1.1.
    UnknownFunction,
    /// A known function called with the wrong number of arguments.
    WrongArity,
    /// A value of the wrong type where a node-set is required (function
    /// argument, `|` operand, filtered or `/`-continued expression).
    NodeSetRequired,
    /// A namespace prefix not in [`Context::prefixes`].
    UnknownPrefix,
    /// A variable reference (YANG defines no variables).
    UnknownVariable,
    /// `re-match()` was given a pattern the document rejected.
    InvalidPattern,
}

/// An error from parsing or evaluation, with the byte offset in the
/// expression string where it was detected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XPathError {
    pub kind: ErrorKind,
    /// Byte offset in the expression string.
    pub position: usize,
    pub message: String,
}

impl XPathError {
    pub(crate) fn new(kind: ErrorKind, position: usize, message: impl Into<String>) -> Self {
        XPathError {
            kind,
            position,
            message: message.into(),
        }
    }
}

impl fmt::Display for XPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.position)
    }
}

impl std::error::Error for XPathError {}

/// Parse an XPath 1.0 expression.
pub fn parse(expr: &str) -> Result<Expr, XPathError> {
    parser::parse(expr)
}

/// Every namespace prefix used in a name test (`p:name` or `p:*`), in order of
/// first appearance, without duplicates.
pub fn referenced_prefixes(expr: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    ast::collect_prefixes(expr, &mut out);
    out
}

/// Evaluate `expr` with `context_node` as the context node (position and size
/// 1) and `current_node` as the result of `current()`.
pub fn evaluate<D: Document>(
    doc: &D,
    expr: &Expr,
    ctx: &Context,
    context_node: D::Node,
    current_node: D::Node,
) -> Result<Value<D::Node>, XPathError> {
    eval::Evaluator::new(doc, ctx, current_node).eval_top(expr, context_node)
}

/// Evaluate `expr` like [`evaluate`] and convert the result with `boolean()`.
pub fn evaluate_bool<D: Document>(
    doc: &D,
    expr: &Expr,
    ctx: &Context,
    context_node: D::Node,
    current_node: D::Node,
) -> Result<bool, XPathError> {
    Ok(evaluate(doc, expr, ctx, context_node, current_node)?.to_boolean())
}
