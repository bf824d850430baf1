//! Tests of the CLI core as a whole: the seed procedure, errors, abbreviations, undo, display
//! and its round trip, bad input, help and completion; and of the CLI as a front end over a
//! datastore (`shell`).

mod bsr;
mod display;
mod errors;
mod help;
mod operational;
mod robustness;
mod roundtrip;
mod seed;
mod shell;
mod undo;

use std::sync::{Arc, OnceLock};

use yang::data::{add_defaults, decode_elements, DataNode, DataTree, DecodeOptions};
use yang::schema::Schema;

use super::{ErrorKind, Outcome, Session};

pub fn schema() -> Arc<Schema> {
    static SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| Arc::new(yang::SchemaBuilder::new().embedded().build().unwrap()))
        .clone()
}

/// A session on an empty device.
pub fn session() -> Session {
    Session::new(schema(), &DataTree::new(), "ne-agent")
}

/// Feed a script line by line; every line must succeed. The outcomes, in order.
pub fn run(s: &mut Session, script: &str) -> Vec<Outcome> {
    let mut out = Vec::new();
    for (n, line) in script.lines().enumerate() {
        let prompt = s.prompt();
        let o = s.line(line);
        if let Outcome::Error(e) = &o {
            panic!(
                "line {}: {prompt}{line}\n{}",
                n + 1,
                e.render(prompt.chars().count())
            );
        }
        out.push(o);
    }
    out
}

/// The error a line gives: its kind and caret column.
pub fn error(s: &mut Session, line: &str) -> (ErrorKind, Option<usize>) {
    match s.line(line) {
        Outcome::Error(e) => (e.kind, e.column),
        o => panic!("{line:?} gave {o:?}"),
    }
}

/// A `<config>` document as the datastore holds it (with defaults).
pub fn decode_config(xml: &str) -> DataTree {
    let root = yang::xml::parse(xml).unwrap();
    let mut tree = decode_elements(
        &schema(),
        &root.children,
        DecodeOptions { config_only: true },
    )
    .unwrap();
    add_defaults(&schema(), &mut tree);
    tree
}

/// The same configuration whatever was set explicitly and what is a default: every default
/// filled in, none marked.
pub fn normalize(tree: &DataTree) -> DataTree {
    fn unmark(n: &mut Arc<DataNode>) {
        let n = Arc::make_mut(n);
        n.default = false;
        n.children.iter_mut().for_each(unmark);
    }
    let mut t = tree.clone();
    add_defaults(&schema(), &mut t);
    t.roots.iter_mut().for_each(unmark);
    t
}

/// The changes between two trees, for assertion messages.
pub fn differences(a: &DataTree, b: &DataTree) -> String {
    yang::diff::diff(&schema(), a, b)
        .iter()
        .map(|c| format!("{} {} {:?} -> {:?}\n", c.op.name(), c.path, c.old, c.new))
        .collect()
}

/// The text display shows for a tree.
pub fn display(tree: &DataTree) -> String {
    super::render::text(&super::render::blocks(&schema(), tree))
}
