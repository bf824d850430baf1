//! The difference between two data trees as an ordered list of changes.
//!
//! Subtrees shared between the two trees (the same [`Arc`]) are skipped without being visited,
//! so diffing a candidate against the running tree it was copied from costs what was edited.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::data::{compare_values, Children, DataNode, DataTree, Seq};
use crate::instance_id::quote;
use crate::schema::{NodeId, NodeKind, Schema};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOp {
    Create,
    Modify,
    Delete,
    /// An entry of an `ordered-by user` list or leaf-list changed place; `new` holds its new
    /// position (0-based) among the entries.
    Move,
}

impl ChangeOp {
    /// Lower-case name (`create`, `modify`, `delete`, `move`).
    pub fn name(self) -> &'static str {
        match self {
            ChangeOp::Create => "create",
            ChangeOp::Modify => "modify",
            ChangeOp::Delete => "delete",
            ChangeOp::Move => "move",
        }
    }
}

/// One change. A created subtree is listed node by node (pre-order) so consumers see every new
/// value; a deleted subtree is listed once, at its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub op: ChangeOp,
    /// Instance-identifier of the node.
    pub path: String,
    pub schema: NodeId,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// Changes that turn `old` into `new`, in document order.
pub fn diff(schema: &Schema, old: &DataTree, new: &DataTree) -> Vec<Change> {
    let mut out = Vec::new();
    diff_siblings(schema, &old.roots, &new.roots, "", &mut out);
    out
}

/// The instance-identifier of `node` under `parent_path` (module prefixes, keys quoted).
pub fn step(schema: &Schema, node: &DataNode, parent_path: &str) -> String {
    let sn = schema.node(node.schema);
    let mut s = format!(
        "{parent_path}/{}:{}",
        schema.module(sn.module).prefix,
        sn.name
    );
    match sn.kind {
        NodeKind::List => {
            for (&k, v) in sn.keys.iter().zip(node.keys(schema)) {
                let kn = schema.node(k);
                s.push_str(&format!(
                    "[{}:{}={}]",
                    schema.module(kn.module).prefix,
                    kn.name,
                    quote(v)
                ));
            }
        }
        NodeKind::LeafList => {
            s.push_str(&format!(
                "[.={}]",
                quote(node.value.as_deref().unwrap_or(""))
            ));
        }
        _ => {}
    }
    s
}

fn identity_cmp(schema: &Schema, a: &DataNode, b: &DataNode) -> Ordering {
    let sn = schema.node(a.schema);
    match sn.kind {
        NodeKind::LeafList => compare_values(
            a.value.as_deref().unwrap_or(""),
            b.value.as_deref().unwrap_or(""),
        ),
        NodeKind::List => {
            for (x, y) in a.keys(schema).iter().zip(b.keys(schema)) {
                match compare_values(x, y) {
                    Ordering::Equal => continue,
                    o => return o,
                }
            }
            Ordering::Equal
        }
        _ => Ordering::Equal,
    }
}

fn diff_siblings<A: Seq + ?Sized, B: Seq + ?Sized>(
    schema: &Schema,
    old: &A,
    new: &B,
    parent_path: &str,
    out: &mut Vec<Change>,
) {
    let (mut i, mut j) = (0, 0);
    let (mut pieces_old, mut pieces_new) = (Vec::new(), Vec::new());
    while i < old.len() || j < new.len() {
        // Shared subtrees are equal: skip them without looking inside.
        if let (Some(a), Some(b)) = (old.get_at(i), new.get_at(j)) {
            if Arc::ptr_eq(a, b) {
                // A piece of a long list both hold is equal throughout: skip it whole.
                old.pieces_at(i, &mut pieces_old);
                new.pieces_at(j, &mut pieces_new);
                let step = pieces_old
                    .iter()
                    .find(|p| pieces_new.contains(p))
                    .map_or(1, |p| p.1);
                i += step;
                j += step;
                continue;
            }
        }
        let ord = match (old.get_at(i), new.get_at(j)) {
            (Some(a), Some(b)) => schema
                .order(a.schema)
                .cmp(&schema.order(b.schema))
                .then_with(|| {
                    if a.schema == b.schema {
                        identity_cmp(schema, a, b)
                    } else {
                        Ordering::Equal
                    }
                }),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => break,
        };
        // User-ordered entries are not sorted by key: match them by search instead.
        if let (Some(a), Some(b)) = (old.get_at(i), new.get_at(j)) {
            if a.schema == b.schema && schema.node(a.schema).ordered_by_user {
                let id = a.schema;
                let (o, n) = (run(old, i, id), run(new, j, id));
                // Shared entries before `j` were skipped: positions count from the first.
                let key = schema.order(id);
                let first = new.absolute_point(&mut |c| schema.order(c.schema) < key);
                let skipped = new.offset() + j - first;
                diff_user_ordered(schema, &o, &n, skipped, parent_path, out);
                i += o.len();
                j += n.len();
                continue;
            }
        }
        match ord {
            Ordering::Less => {
                let a = old.at(i);
                out.push(Change {
                    op: ChangeOp::Delete,
                    path: step(schema, a, parent_path),
                    schema: a.schema,
                    old: a.value.clone(),
                    new: None,
                });
                i += 1;
            }
            Ordering::Greater => {
                created(schema, new.at(j), parent_path, out);
                j += 1;
            }
            Ordering::Equal => {
                let (a, b) = (old.at(i), new.at(j));
                if !Arc::ptr_eq(a, b) {
                    diff_node(schema, a, b, parent_path, out);
                }
                i += 1;
                j += 1;
            }
        }
    }
}

/// A part of a sequence of siblings: entries `start..len - tail` of it, indexed from 0. The
/// entries around it are the same in both versions a diff compares.
struct Window<'a> {
    all: &'a Children,
    start: usize,
    len: usize,
}

impl<'a> Window<'a> {
    fn new(all: &'a Children, start: usize, tail: usize) -> Window<'a> {
        Window {
            all,
            start,
            len: all.len() - start - tail,
        }
    }
}

impl Seq for Window<'_> {
    fn len(&self) -> usize {
        self.len
    }
    fn at(&self, i: usize) -> &Arc<DataNode> {
        &self.all[self.start + i]
    }
    fn point(&self, pred: &mut dyn FnMut(&Arc<DataNode>) -> bool) -> usize {
        // Positions before the window count as before it, after it as past its end.
        let p = self.all.partition_point(pred);
        p.clamp(self.start, self.start + self.len) - self.start
    }
    fn offset(&self) -> usize {
        self.start
    }
    fn leaf_at(&self, i: usize) -> (&[Arc<DataNode>], usize) {
        // Entries of the whole sequence: the slice is cut to the window.
        let (leaf, start) = self.all.leaf_at(self.start + i);
        let from = self.start.saturating_sub(start);
        let to = (self.start + self.len - start).min(leaf.len());
        (&leaf[from..to], start + from - self.start)
    }
    fn absolute_point(&self, pred: &mut dyn FnMut(&Arc<DataNode>) -> bool) -> usize {
        self.all.partition_point(pred)
    }
}

/// The instances of `id` from index `from` on.
fn run<S: Seq + ?Sized>(s: &S, from: usize, id: NodeId) -> Vec<&Arc<DataNode>> {
    (from..s.len())
        .map(|k| s.at(k))
        .take_while(|n| n.schema == id)
        .collect()
}

fn diff_user_ordered(
    schema: &Schema,
    old: &[&Arc<DataNode>],
    new: &[&Arc<DataNode>],
    skipped: usize,
    parent_path: &str,
    out: &mut Vec<Change>,
) {
    let same = |a: &DataNode, b: &DataNode| identity_cmp(schema, a, b) == Ordering::Equal;
    for a in old {
        if !new.iter().any(|b| same(a, b)) {
            out.push(Change {
                op: ChangeOp::Delete,
                path: step(schema, a, parent_path),
                schema: a.schema,
                old: a.value.clone(),
                new: None,
            });
        }
    }
    // Entries kept on both sides, in old and in new order: where the orders differ, the
    // entries that are out of place are reported as moved.
    let kept_old: Vec<&Arc<DataNode>> = old
        .iter()
        .copied()
        .filter(|a| new.iter().any(|b| same(a, b)))
        .collect();
    let kept_new: Vec<&Arc<DataNode>> = new
        .iter()
        .copied()
        .filter(|b| old.iter().any(|a| same(a, b)))
        .collect();
    for (i, b) in new.iter().enumerate() {
        match old.iter().find(|a| same(a, b)) {
            Some(a) => {
                if !Arc::ptr_eq(a, b) {
                    diff_node(schema, a, b, parent_path, out);
                }
                let pos = kept_new.iter().position(|k| same(k, b));
                if pos.is_some_and(|p| !same(kept_old[p], b)) {
                    out.push(Change {
                        op: ChangeOp::Move,
                        path: step(schema, b, parent_path),
                        schema: b.schema,
                        old: None,
                        new: Some((skipped + i).to_string()),
                    });
                }
            }
            None => created(schema, b, parent_path, out),
        }
    }
}

fn diff_node(
    schema: &Schema,
    a: &DataNode,
    b: &DataNode,
    parent_path: &str,
    out: &mut Vec<Change>,
) {
    let path = step(schema, b, parent_path);
    match schema.node(b.schema).kind {
        NodeKind::Leaf | NodeKind::Anydata | NodeKind::Anyxml => {
            if a.value != b.value {
                out.push(Change {
                    op: ChangeOp::Modify,
                    path,
                    schema: b.schema,
                    old: a.value.clone(),
                    new: b.value.clone(),
                });
            }
        }
        NodeKind::LeafList => {}
        _ => {
            // Two versions of a long list share most of it at both ends: only the middle is
            // compared entry by entry.
            let (head, tail) = a.children.shared_ends(&b.children);
            if head == 0 && tail == 0 {
                diff_siblings(schema, &a.children, &b.children, &path, out);
            } else {
                let old = Window::new(&a.children, head, tail);
                let new = Window::new(&b.children, head, tail);
                diff_siblings(schema, &old, &new, &path, out);
            }
        }
    }
}

fn created(schema: &Schema, node: &DataNode, parent_path: &str, out: &mut Vec<Change>) {
    let path = step(schema, node, parent_path);
    out.push(Change {
        op: ChangeOp::Create,
        path: path.clone(),
        schema: node.schema,
        old: None,
        new: node.value.clone(),
    });
    for c in &node.children {
        created(schema, c, &path, out);
    }
}
