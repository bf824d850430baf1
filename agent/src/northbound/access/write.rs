//! Write access (RFC 8341 §3.4.5): the first node of a change list the user may not create,
//! update or delete.
//!
//! The changes are a datastore's diff ([`yang::diff`]), so only what really changes is checked
//! (RFC 8341 §3.2.5: writing a value that is already there needs no write access). A created
//! subtree is checked node by node (`create`), a deleted one too (`delete`: removing a
//! container removes everything in it), a changed leaf or a moved entry is an `update`. Nodes
//! the server made for schema defaults are not the user's writes and are not checked.

use yang::data::{DataNode, DataTree};
use yang::diff::{Change, ChangeOp};
use yang::Schema;

use super::{decide, Above};
use crate::northbound::nacm::{Decision, Denial, Operation, TreePath, UserAccess};

/// The first denied node of `changes` (which turn `old` into `new`): the denial and the node's
/// instance-identifier for error-path.
pub(super) fn first_denied<'a>(
    schema: &Schema,
    homogeneous: &[bool],
    access: &UserAccess<'a>,
    old: &DataTree,
    new: &DataTree,
    changes: &[Change],
) -> Option<(Denial<'a>, String)> {
    let w = Writer {
        schema,
        homogeneous,
        access,
    };
    // A created subtree is walked whole at its root; its nodes' own changes follow it.
    let mut covered: Option<&str> = None;
    for c in changes {
        if covered.is_some_and(|p| below(&c.path, p)) {
            continue;
        }
        covered = None;
        let found = match c.op {
            ChangeOp::Create => {
                covered = Some(&c.path);
                w.subtree(Operation::Create, new, &c.path)
            }
            ChangeOp::Delete => w.subtree(Operation::Delete, old, &c.path),
            ChangeOp::Modify => {
                // A leaf set back to its default was deleted; one set where only its default
                // was is created.
                let now_default = new.find(schema, &c.path).is_some_and(|n| n.default);
                let was_default = old.find(schema, &c.path).is_some_and(|n| n.default);
                let op = match (was_default, now_default) {
                    (_, true) => Operation::Delete,
                    (true, false) => Operation::Create,
                    (false, false) => Operation::Update,
                };
                w.one(op, new, &c.path)
            }
            ChangeOp::Move => w.one(Operation::Update, new, &c.path),
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// Is `path` a descendant of `root`?
fn below(path: &str, root: &str) -> bool {
    path.len() > root.len() && path.starts_with(root) && path.as_bytes()[root.len()] == b'/'
}

struct Writer<'s, 'a> {
    schema: &'s Schema,
    homogeneous: &'s [bool],
    access: &'s UserAccess<'a>,
}

impl<'s, 'a> Writer<'s, 'a> {
    /// The path to the node at `at` in `tree`, and the mark above it. None if it is not there
    /// (a change list always names nodes of its trees).
    fn locate<'d>(&self, tree: &'d DataTree, at: &str) -> Option<(TreePath<'s, 'd>, Above)> {
        let chain = tree.find_chain(self.schema, at)?;
        let mut path = TreePath::new(self.schema);
        let (last, ancestors) = chain.split_last()?;
        for n in ancestors {
            path.push(n);
        }
        let parent = ancestors.last().map(|p| p.schema);
        let above = Above {
            // The ancestors are not written: decide the node itself.
            uniform: false,
            module: self.schema.node(last.schema).module,
            mark: parent.and_then(|p| self.schema.effective_default_deny(p)),
        };
        path.push(last);
        Some((path, above))
    }

    /// `op` on the one node at `at`.
    fn one(&self, op: Operation, tree: &DataTree, at: &str) -> Option<(Denial<'a>, String)> {
        let (path, above) = self.locate(tree, at)?;
        let node = *path.nodes().last()?;
        let (decision, _) = decide(
            self.access,
            self.schema,
            op,
            &path,
            node.schema,
            Some(above),
        );
        self.denial(op, &path, decision)
    }

    /// `op` on the node at `at` and every node below it.
    fn subtree(&self, op: Operation, tree: &DataTree, at: &str) -> Option<(Denial<'a>, String)> {
        let (mut path, above) = self.locate(tree, at)?;
        let node = path.pop()?;
        self.walk(op, &mut path, node, Some(above))
    }

    fn walk<'d>(
        &self,
        op: Operation,
        path: &mut TreePath<'s, 'd>,
        n: &'d DataNode,
        above: Option<Above>,
    ) -> Option<(Denial<'a>, String)> {
        if !n.has_explicit() {
            return None;
        }
        path.push(n);
        let (decision, here) = decide(self.access, self.schema, op, &*path, n.schema, above);
        let mut found = self.denial(op, path, decision);
        let whole = here.uniform && self.homogeneous[n.schema.0 as usize];
        if found.is_none() && !whole {
            found = n
                .children
                .iter()
                .find_map(|c| self.walk(op, path, c, Some(here)));
        }
        path.pop();
        found
    }

    fn denial(
        &self,
        op: Operation,
        path: &TreePath<'_, '_>,
        decision: Option<Decision<'a>>,
    ) -> Option<(Denial<'a>, String)> {
        let d = self.access.data_denial(op, path, decision?)?;
        Some((d, instance_id(self.schema, path)))
    }
}

/// The instance-identifier of the last node of `path` (module prefixes, as error paths are).
fn instance_id(schema: &Schema, path: &TreePath<'_, '_>) -> String {
    let mut out = String::new();
    for n in path.nodes() {
        out = yang::diff::step(schema, n, &out);
    }
    out
}
