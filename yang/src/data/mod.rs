//! Instance data trees bound to a [`Schema`].
//!
//! Subtrees are reference counted ([`Arc`]) so a candidate copied from running shares everything it
//! does not change; an edit copies only the path to what it touches, and a diff skips shared
//! subtrees, so both cost what changed rather than the size of the datastore.
//!
//! Siblings are kept in schema order; list entries of an `ordered-by system` list are kept sorted
//! by key and leaf-list entries by value (deterministic output whatever the edit history);
//! `ordered-by user` entries stay in the order given.

mod build;
mod children;
mod decode;
mod defaults;
mod edit;
mod encode;
mod error;
pub mod json;
mod merge;
mod overlay;
mod rows;

use std::cmp::Ordering;
use std::sync::Arc;

pub use build::NodeBuilder;
pub use children::{Children, Iter as ChildrenIter};
pub use decode::{decode, decode_elements, DecodeOptions};
pub use defaults::{add_defaults, WithDefaults};
pub use edit::{apply_edit, EditOp};
pub use encode::{encode, encode_nodes, module_for_prefix, EncodeOptions};
pub use error::{DataError, ErrorTag};
pub use merge::merge;
pub use rows::{lay_rows, RowTable, RowTableBuilder, TreeWithRows};

use crate::schema::{NodeId, NodeKind, Schema};

/// One data node: container, list entry, leaf, leaf-list entry, anydata/anyxml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataNode {
    pub schema: NodeId,
    /// Canonical value of a leaf or leaf-list entry; serialized XML content of anydata/anyxml.
    pub value: Option<String>,
    /// The child nodes, in schema order (see [`Children`]: long lists are held in shared
    /// chunks).
    pub children: Children,
    /// Created by the server for a schema default (RFC 6243 "default node").
    pub default: bool,
}

impl DataNode {
    pub fn inner(schema: NodeId) -> DataNode {
        DataNode {
            schema,
            value: None,
            children: Children::new(),
            default: false,
        }
    }

    pub fn leaf(schema: NodeId, value: impl Into<String>) -> DataNode {
        DataNode {
            schema,
            value: Some(value.into()),
            children: Children::new(),
            default: false,
        }
    }

    /// Key values of a list entry, in key order.
    pub fn keys<'a>(&'a self, schema: &Schema) -> Vec<&'a str> {
        schema
            .node(self.schema)
            .keys
            .iter()
            .map(|&k| {
                self.children
                    .iter()
                    .find(|c| c.schema == k)
                    .and_then(|c| c.value.as_deref())
                    .unwrap_or("")
            })
            .collect()
    }

    /// The children that are instances of schema node `id` (adjacent, as siblings are sorted),
    /// as one slice. For a long list this builds a copy of the entry pointers on first use:
    /// [`DataNode::entries`] walks them where they are.
    pub fn instances(&self, schema: &Schema, id: NodeId) -> &[Arc<DataNode>] {
        let range = instance_range(&self.children, schema, id);
        &self.children[range]
    }

    /// The children that are instances of schema node `id`, without copying anything.
    pub fn entries(&self, schema: &Schema, id: NodeId) -> ChildrenIter<'_> {
        self.children
            .range(instance_range(&self.children, schema, id))
    }

    pub fn child(&self, schema: &Schema, id: NodeId) -> Option<&Arc<DataNode>> {
        let range = instance_range(&self.children, schema, id);
        self.children.get(range.start).filter(|_| !range.is_empty())
    }

    /// Is this node or any descendant explicitly set (not a default)?
    pub fn has_explicit(&self) -> bool {
        !self.default || self.children.iter().any(|c| c.has_explicit())
    }

    /// Number of nodes in this subtree.
    pub fn count(&self) -> usize {
        1 + self.children.iter().map(|c| c.count()).sum::<usize>()
    }
}

/// A whole data tree: the top-level nodes of every module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataTree {
    pub roots: Vec<Arc<DataNode>>,
}

impl DataTree {
    pub fn new() -> DataTree {
        DataTree::default()
    }

    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    pub fn instances(&self, schema: &Schema, id: NodeId) -> &[Arc<DataNode>] {
        let range = instance_range(&self.roots, schema, id);
        &self.roots[range]
    }

    /// Number of nodes in the tree.
    pub fn count(&self) -> usize {
        self.roots.iter().map(|r| r.count()).sum()
    }

    /// The node at an instance-identifier (module prefixes, as diff and error paths write them).
    pub fn find(&self, schema: &Schema, path: &str) -> Option<&Arc<DataNode>> {
        self.find_chain(schema, path)?.pop()
    }

    /// The nodes from a top-level one down to the node at an instance-identifier: its
    /// ancestors, then the node [`DataTree::find`] returns.
    pub fn find_chain(&self, schema: &Schema, path: &str) -> Option<Vec<&Arc<DataNode>>> {
        let resolver = |p: &str| module_for_prefix(schema, p);
        let steps = crate::instance_id::parse(schema, path, &resolver).ok()?;
        let mut chain: Vec<&Arc<DataNode>> = Vec::with_capacity(steps.len());
        for step in &steps {
            let hit = match chain.last() {
                None => self.roots.at(find_step(&self.roots, schema, step)?),
                Some(parent) => parent
                    .children
                    .at(find_step(&parent.children, schema, step)?),
            };
            chain.push(hit);
        }
        Some(chain)
    }

    /// Put `node` at the instance-identifier `path` in place of what is there, or remove what
    /// is there (`None`; nothing there is fine). Every ancestor must exist. Only the path to
    /// the node is copied (the rest stays shared), so this costs the path, not the tree.
    pub fn put(
        &mut self,
        schema: &Schema,
        path: &str,
        node: Option<Arc<DataNode>>,
    ) -> Result<(), DataError> {
        let resolver = |p: &str| module_for_prefix(schema, p);
        let steps = crate::instance_id::parse(schema, path, &resolver)
            .map_err(|e| DataError::new(ErrorTag::InvalidValue, format!("{path}: {e}")))?;
        let Some((last, above)) = steps.split_last() else {
            return Err(DataError::new(ErrorTag::InvalidValue, "empty path"));
        };
        let missing = || {
            DataError::new(
                ErrorTag::DataMissing,
                format!("the parent of {path} does not exist"),
            )
            .path(path)
        };
        let Some((first, rest)) = above.split_first() else {
            put_among(&mut self.roots, schema, last, node);
            return Ok(());
        };
        let i = find_step(&self.roots, schema, first).ok_or_else(missing)?;
        let mut siblings = &mut Arc::make_mut(&mut self.roots[i]).children;
        for step in rest {
            let i = find_step(siblings, schema, step).ok_or_else(missing)?;
            siblings = &mut Arc::make_mut(siblings.at_mut(i)).children;
        }
        put_among(siblings, schema, last, node);
        Ok(())
    }
}

fn put_among<S: SeqMut + ?Sized>(
    siblings: &mut S,
    schema: &Schema,
    last: &crate::instance_id::Step,
    node: Option<Arc<DataNode>>,
) {
    match (find_step(siblings, schema, last), node) {
        (Some(i), Some(n)) => *siblings.at_mut(i) = n,
        (Some(i), None) => {
            siblings.remove_at(i);
        }
        (None, Some(n)) => {
            // Not found, so no equal node is there: this inserts.
            let _ = insert_sorted(siblings, schema, n);
        }
        (None, None) => {}
    }
}

/// A sequence of sibling nodes: the top-level nodes of a tree (a vector) or a node's
/// [`Children`]. The tree's walks are written once for both.
pub(crate) trait Seq {
    fn len(&self) -> usize;
    fn at(&self, i: usize) -> &Arc<DataNode>;
    fn get_at(&self, i: usize) -> Option<&Arc<DataNode>> {
        (i < self.len()).then(|| self.at(i))
    }
    /// As [`slice::partition_point`].
    fn point(&self, pred: &mut dyn FnMut(&Arc<DataNode>) -> bool) -> usize;
    /// The run of consecutive entries held together around `i` (`i < len`) and the index of
    /// its first entry (a slice: the whole of it).
    fn leaf_at(&self, _i: usize) -> (&[Arc<DataNode>], usize);
    /// Where this sequence starts in the one it is a part of (see `diff::Window`).
    fn offset(&self) -> usize {
        0
    }
    /// [`Seq::point`] in the whole sequence this is a part of, as an index in it.
    fn absolute_point(&self, pred: &mut dyn FnMut(&Arc<DataNode>) -> bool) -> usize {
        self.point(pred)
    }
    /// The shared pieces that start at `i`, largest first (see [`Children::pieces_at`]).
    fn pieces_at(&self, _i: usize, out: &mut Vec<children::PieceId>) {
        out.clear();
    }
}

/// A [`Seq`] that can change.
pub(crate) trait SeqMut: Seq {
    fn insert_at(&mut self, i: usize, n: Arc<DataNode>);
    fn remove_at(&mut self, i: usize) -> Arc<DataNode>;
    fn at_mut(&mut self, i: usize) -> &mut Arc<DataNode>;
    /// Visit the entries of `range` an edit may have copied (see
    /// [`Children::for_each_owned`]).
    fn for_each_owned(
        &mut self,
        range: std::ops::Range<usize>,
        f: &mut dyn FnMut(&mut Arc<DataNode>),
    );
    /// Keep the entries `keep` is true for, visiting only those an edit may have copied
    /// (see [`Children::retain_owned`]).
    fn retain_owned(&mut self, keep: &mut dyn FnMut(&mut Arc<DataNode>) -> bool);
}

impl Seq for [Arc<DataNode>] {
    fn len(&self) -> usize {
        <[Arc<DataNode>]>::len(self)
    }
    fn leaf_at(&self, _i: usize) -> (&[Arc<DataNode>], usize) {
        (self, 0)
    }
    fn at(&self, i: usize) -> &Arc<DataNode> {
        &self[i]
    }
    fn point(&self, pred: &mut dyn FnMut(&Arc<DataNode>) -> bool) -> usize {
        self.partition_point(pred)
    }
}

impl Seq for Vec<Arc<DataNode>> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn leaf_at(&self, _i: usize) -> (&[Arc<DataNode>], usize) {
        (self, 0)
    }
    fn at(&self, i: usize) -> &Arc<DataNode> {
        &self[i]
    }
    fn point(&self, pred: &mut dyn FnMut(&Arc<DataNode>) -> bool) -> usize {
        self.partition_point(pred)
    }
}

impl SeqMut for Vec<Arc<DataNode>> {
    fn insert_at(&mut self, i: usize, n: Arc<DataNode>) {
        self.insert(i, n)
    }
    fn remove_at(&mut self, i: usize) -> Arc<DataNode> {
        self.remove(i)
    }
    fn at_mut(&mut self, i: usize) -> &mut Arc<DataNode> {
        &mut self[i]
    }
    fn for_each_owned(
        &mut self,
        range: std::ops::Range<usize>,
        f: &mut dyn FnMut(&mut Arc<DataNode>),
    ) {
        self[range].iter_mut().for_each(f)
    }
    fn retain_owned(&mut self, keep: &mut dyn FnMut(&mut Arc<DataNode>) -> bool) {
        self.retain_mut(keep)
    }
}

impl Seq for Children {
    fn len(&self) -> usize {
        Children::len(self)
    }
    fn leaf_at(&self, i: usize) -> (&[Arc<DataNode>], usize) {
        Children::leaf_at(self, i)
    }
    fn at(&self, i: usize) -> &Arc<DataNode> {
        &self[i]
    }
    fn get_at(&self, i: usize) -> Option<&Arc<DataNode>> {
        self.get(i)
    }
    fn point(&self, pred: &mut dyn FnMut(&Arc<DataNode>) -> bool) -> usize {
        self.partition_point(pred)
    }
    fn pieces_at(&self, i: usize, out: &mut Vec<children::PieceId>) {
        Children::pieces_at(self, i, out)
    }
}

impl SeqMut for Children {
    fn insert_at(&mut self, i: usize, n: Arc<DataNode>) {
        self.insert(i, n)
    }
    fn remove_at(&mut self, i: usize) -> Arc<DataNode> {
        self.remove(i)
    }
    fn at_mut(&mut self, i: usize) -> &mut Arc<DataNode> {
        &mut self[i]
    }
    fn for_each_owned(
        &mut self,
        range: std::ops::Range<usize>,
        f: &mut dyn FnMut(&mut Arc<DataNode>),
    ) {
        Children::for_each_owned(self, range, f)
    }
    fn retain_owned(&mut self, keep: &mut dyn FnMut(&mut Arc<DataNode>) -> bool) {
        Children::retain_owned(self, keep)
    }
}

/// Index among `siblings` of the instance an instance-identifier step names: a binary search
/// for keyed or valued steps of sorted lists, a scan otherwise.
pub(crate) fn find_step<S: Seq + ?Sized>(
    siblings: &S,
    schema: &Schema,
    step: &crate::instance_id::Step,
) -> Option<usize> {
    use crate::instance_id::Predicate;
    let keys: Vec<&str> = step
        .predicates
        .iter()
        .filter_map(|p| match p {
            Predicate::Key { value, .. } => Some(value.as_str()),
            Predicate::Value(v) => Some(v.as_str()),
            Predicate::Position(_) => None,
        })
        .collect();
    if keys.is_empty() {
        return instance_range(siblings, schema, step.node)
            .find(|&i| step_matches(schema, siblings.at(i), step));
    }
    match find_slot(siblings, schema, step.node, &keys) {
        Slot::Found(i) => Some(i),
        Slot::Insert(_) => None,
    }
}

fn step_matches(schema: &Schema, n: &DataNode, step: &crate::instance_id::Step) -> bool {
    use crate::instance_id::Predicate;
    step.predicates.iter().all(|p| match p {
        Predicate::Key { name, value, .. } => n
            .children
            .iter()
            .any(|c| schema.node(c.schema).name == *name && c.value.as_deref() == Some(value)),
        Predicate::Value(v) => n.value.as_deref() == Some(v),
        Predicate::Position(_) => true,
    })
}

/// Index range of the instances of `id` among sorted siblings.
pub(crate) fn instance_range<S: Seq + ?Sized>(
    siblings: &S,
    schema: &Schema,
    id: NodeId,
) -> std::ops::Range<usize> {
    let key = schema.order(id);
    let start = siblings.point(&mut |c| schema.order(c.schema) < key);
    let end = siblings.point(&mut |c| schema.order(c.schema) <= key);
    start..end.max(start)
}

/// Compare two key (or leaf-list) values: integers in canonical form first, numerically, then
/// everything else as text. A total order that is `Equal` only for equal strings: a string key
/// such as "05" or "+5" is not the same entry as "5", and mixing numbers with text ("9", "10",
/// "1a") cannot make the order cyclic.
pub fn compare_values(a: &str, b: &str) -> Ordering {
    fn canonical_int(s: &str) -> Option<i128> {
        let digits = s.strip_prefix('-').unwrap_or(s);
        let canonical = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'))
            && s != "-0";
        canonical.then(|| s.parse().ok()).flatten()
    }
    match (canonical_int(a), canonical_int(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Where a list entry or leaf-list value sits among the instances of its schema node.
pub(crate) enum Slot {
    /// An equal entry exists at this index.
    Found(usize),
    /// Not present; insert at this index to keep the order.
    Insert(usize),
}

/// Locate an entry with `keys` (list) or `value` (leaf-list) among `siblings`.
pub(crate) fn find_slot<S: Seq + ?Sized>(
    siblings: &S,
    schema: &Schema,
    id: NodeId,
    keys: &[&str],
) -> Slot {
    let range = instance_range(siblings, schema, id);
    let sn = schema.node(id);
    // The entry's i-th key value (leaf-list: its value), borrowed: no allocation per probe.
    fn key_of<'n>(sn: &crate::schema::SchemaNode, n: &'n DataNode, i: usize) -> &'n str {
        if sn.kind == NodeKind::LeafList {
            return n.value.as_deref().unwrap_or("");
        }
        let Some(&k) = sn.keys.get(i) else { return "" };
        n.children
            .iter()
            .find(|c| c.schema == k)
            .and_then(|c| c.value.as_deref())
            .unwrap_or("")
    }
    let compare = |n: &DataNode| -> Ordering {
        for (i, want) in keys.iter().enumerate() {
            match compare_values(key_of(sn, n, i), want) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        Ordering::Equal
    };
    let equal = |n: &DataNode| {
        keys.iter()
            .enumerate()
            .all(|(i, want)| key_of(sn, n, i) == *want)
    };
    if sn.ordered_by_user || !matches!(sn.kind, NodeKind::List | NodeKind::LeafList) {
        for i in range.clone() {
            if equal(siblings.at(i)) {
                return Slot::Found(i);
            }
        }
        return Slot::Insert(range.end);
    }
    // Entries mostly come in order (a load, a configuration built in key order): an entry
    // past the last one goes at the end without a search.
    if let Some(last) = range.end.checked_sub(1).filter(|&l| l >= range.start) {
        match compare(siblings.at(last)) {
            Ordering::Less => return Slot::Insert(range.end),
            Ordering::Equal => return Slot::Found(last),
            Ordering::Greater => {}
        }
    }
    // The first entry not below `keys` (the instances are sorted and adjacent).
    let i = siblings.point(&mut |n| {
        let o = schema.order(n.schema).cmp(&schema.order(id));
        o == Ordering::Less || (o == Ordering::Equal && compare(n) == Ordering::Less)
    });
    match siblings.get_at(i) {
        Some(n) if i < range.end && compare(n) == Ordering::Equal => Slot::Found(i),
        _ => Slot::Insert(i.clamp(range.start, range.end)),
    }
}

/// Insert a node among siblings at its ordered place. Returns Err(index) if an equal
/// node (same leaf/container, same list keys, same leaf-list value) already exists.
pub(crate) fn insert_sorted<S: SeqMut + ?Sized>(
    siblings: &mut S,
    schema: &Schema,
    node: Arc<DataNode>,
) -> Result<usize, usize> {
    // Built in order (state, a load): a node after the last sibling goes at the end, found
    // with one comparison instead of a search.
    let len = siblings.len();
    if let Some(last) = len.checked_sub(1).map(|i| siblings.at(i)) {
        if merge::sibling_order(schema, last, &node) == Some(Ordering::Less) {
            siblings.insert_at(len, node);
            return Ok(len);
        }
    }
    let sn = schema.node(node.schema);
    match sn.kind {
        NodeKind::List | NodeKind::LeafList => {
            let keys: Vec<String> = if sn.kind == NodeKind::LeafList {
                vec![node.value.clone().unwrap_or_default()]
            } else {
                node.keys(schema).into_iter().map(str::to_string).collect()
            };
            let k: Vec<&str> = keys.iter().map(String::as_str).collect();
            match find_slot(siblings, schema, node.schema, &k) {
                Slot::Found(i) => Err(i),
                Slot::Insert(i) => {
                    siblings.insert_at(i, node);
                    Ok(i)
                }
            }
        }
        _ => {
            let range = instance_range(siblings, schema, node.schema);
            if !range.is_empty() {
                return Err(range.start);
            }
            siblings.insert_at(range.start, node);
            Ok(range.start)
        }
    }
}
