//! Unit tests: a test document and tests of parsing, evaluation, the
//! function library, and the YANG module corpus.

mod corpus;
mod eval_tests;
mod function_tests;
mod parse_tests;
mod testdoc;

use std::collections::HashMap;

use super::{evaluate, number_to_string, parse, Context, ErrorKind, Value, XPathError};
use testdoc::{prefixes, TestDoc, DEFAULT_NS};

/// The tree used by the axis tests. Document order:
/// root, a, b1, c1, c2, b2, c3, d1, b3, e.
pub const AXES: &str = r#"
    a #a {
        b #b1 { c #c1 "1"; c #c2 "2"; }
        b #b2 { c #c3 "3"; d #d1 "4"; }
        b #b3 "x";
    }
    e #e "5";
"#;

/// A YANG-like tree: interfaces, identities, leafrefs, enums and bits.
pub const IFACES: &str = r#"
    if:interfaces #ifs {
        if:interface #i1 { if:name #n1 "eth0"; if:type "ianaift:ethernetCsmacd";
                           if:enabled "true"; if:mtu "1500"; }
        if:interface #i2 { if:name #n2 "eth1"; if:type "t:fast-ether";
                           if:enabled "false"; if:mtu "9000"; }
        if:interface #i3 { if:name #n3 "lo"; if:type "ianaift:softwareLoopback";
                           if:mtu "65536"; }
    }
    routing #r {
        ifname "eth1";
        ifref #ifref "eth0" -> n1;
        dangling #dangling "eth9";
        status #status "up" = 1;
        flags #flags "bold  italic";
        x:extra "e";
    }
"#;

/// A document, its prefixes, and evaluation helpers.
pub struct Fixture {
    pub doc: TestDoc,
    pub prefixes: HashMap<String, String>,
}

impl Fixture {
    pub fn new(src: &str) -> Fixture {
        Fixture {
            doc: TestDoc::parse(src),
            prefixes: prefixes(),
        }
    }

    pub fn ifaces() -> Fixture {
        let mut f = Fixture::new(IFACES);
        f.doc
            .identity("ianaift:iana-interface-type", "if:interface-type")
            .identity("ianaift:ethernetCsmacd", "ianaift:iana-interface-type")
            .identity("ianaift:softwareLoopback", "ianaift:iana-interface-type")
            .identity("t:fast-ether", "ianaift:ethernetCsmacd");
        f
    }

    /// Evaluate with the given context and current nodes (by label; "" is
    /// the root).
    pub fn try_eval_at(
        &self,
        expr: &str,
        context: &str,
        current: &str,
    ) -> Result<Value<usize>, XPathError> {
        let e = parse(expr)?;
        let ctx = Context::new(&self.prefixes, DEFAULT_NS);
        let node = |l: &str| if l.is_empty() { 0 } else { self.doc.node(l) };
        evaluate(&self.doc, &e, &ctx, node(context), node(current))
    }

    /// Evaluate and render the result: node-sets as space-separated node
    /// descriptions, other values through XPath string conversion.
    pub fn show_at(&self, expr: &str, context: &str, current: &str) -> String {
        match self.try_eval_at(expr, context, current) {
            Ok(v) => render(&self.doc, &v),
            Err(e) => panic!("{expr}: {e}"),
        }
    }

    pub fn show(&self, expr: &str) -> String {
        self.show_at(expr, "", "")
    }

    pub fn err(&self, expr: &str) -> XPathError {
        match self.try_eval_at(expr, "", "") {
            Ok(v) => panic!("{expr}: expected an error, got {v:?}"),
            Err(e) => e,
        }
    }
}

pub fn render(doc: &TestDoc, v: &Value<usize>) -> String {
    match v {
        Value::NodeSet(ns) => ns
            .iter()
            .map(|&n| doc.describe(n))
            .collect::<Vec<_>>()
            .join(" "),
        Value::Boolean(b) => b.to_string(),
        Value::Number(x) => number_to_string(*x),
        Value::String(s) => format!("'{s}'"),
    }
}

/// Parse `expr`, expecting an error of `kind` at byte `pos`.
pub fn parse_err(expr: &str, kind: ErrorKind, pos: usize) {
    match parse(expr) {
        Ok(e) => panic!("{expr:?}: expected {kind:?} error, parsed as {e}"),
        Err(err) => {
            assert_eq!(
                (err.kind, err.position),
                (kind, pos),
                "{expr:?}: wrong error {err}"
            );
        }
    }
}
