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
mod decode;
mod defaults;
mod edit;
mod encode;
mod error;
pub mod json;

use std::cmp::Ordering;
use std::sync::Arc;

pub use build::NodeBuilder;
pub use decode::{decode, decode_elements, DecodeOptions};
pub use defaults::{add_defaults, WithDefaults};
pub use edit::{apply_edit, EditOp};
pub use encode::{encode, encode_nodes, module_for_prefix, EncodeOptions};
pub use error::{DataError, ErrorTag};

use crate::schema::{NodeId, NodeKind, Schema};

/// One data node: container, list entry, leaf, leaf-list entry, anydata/anyxml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataNode {
    pub schema: NodeId,
    /// Canonical value of a leaf or leaf-list entry; serialized XML content of anydata/anyxml.
    pub value: Option<String>,
    pub children: Vec<Arc<DataNode>>,
    /// Created by the server for a schema default (RFC 6243 "default node").
    pub default: bool,
}

impl DataNode {
    pub fn inner(schema: NodeId) -> DataNode {
        DataNode {
            schema,
            value: None,
            children: Vec::new(),
            default: false,
        }
    }

    pub fn leaf(schema: NodeId, value: impl Into<String>) -> DataNode {
        DataNode {
            schema,
            value: Some(value.into()),
            children: Vec::new(),
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

    /// The children that are instances of schema node `id` (adjacent, as siblings are sorted).
    pub fn instances(&self, schema: &Schema, id: NodeId) -> &[Arc<DataNode>] {
        let range = instance_range(&self.children, schema, id);
        &self.children[range]
    }

    pub fn child(&self, schema: &Schema, id: NodeId) -> Option<&Arc<DataNode>> {
        self.instances(schema, id).first()
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
        let resolver = |p: &str| module_for_prefix(schema, p);
        let steps = crate::instance_id::parse(schema, path, &resolver).ok()?;
        let mut siblings = &self.roots;
        let mut found = None;
        for step in &steps {
            let hit = &siblings[find_step(siblings, schema, step)?];
            found = Some(hit);
            siblings = &hit.children;
        }
        found
    }

    /// The nodes from a top-level one down to the node at an instance-identifier: its
    /// ancestors, then the node [`DataTree::find`] returns.
    pub fn find_chain(&self, schema: &Schema, path: &str) -> Option<Vec<&Arc<DataNode>>> {
        let resolver = |p: &str| module_for_prefix(schema, p);
        let steps = crate::instance_id::parse(schema, path, &resolver).ok()?;
        let mut siblings = &self.roots;
        let mut chain = Vec::with_capacity(steps.len());
        for step in &steps {
            let hit = &siblings[find_step(siblings, schema, step)?];
            chain.push(hit);
            siblings = &hit.children;
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
        let mut siblings = &mut self.roots;
        for step in above {
            let Some(i) = find_step(siblings, schema, step) else {
                return Err(DataError::new(
                    ErrorTag::DataMissing,
                    format!("the parent of {path} does not exist"),
                )
                .path(path));
            };
            siblings = &mut Arc::make_mut(&mut siblings[i]).children;
        }
        match (find_step(siblings, schema, last), node) {
            (Some(i), Some(n)) => siblings[i] = n,
            (Some(i), None) => {
                siblings.remove(i);
            }
            (None, Some(n)) => {
                // Not found, so no equal node is there: this inserts.
                let _ = insert_sorted(siblings, schema, n);
            }
            (None, None) => {}
        }
        Ok(())
    }
}

/// Index among `siblings` of the instance an instance-identifier step names: a binary search
/// for keyed or valued steps of sorted lists, a scan otherwise.
pub(crate) fn find_step(
    siblings: &[Arc<DataNode>],
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
            .find(|&i| step_matches(schema, &siblings[i], step));
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
pub(crate) fn instance_range(
    siblings: &[Arc<DataNode>],
    schema: &Schema,
    id: NodeId,
) -> std::ops::Range<usize> {
    let key = schema.order(id);
    let start = siblings.partition_point(|c| schema.order(c.schema) < key);
    let end = start + siblings[start..].partition_point(|c| c.schema == id);
    start..end
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
pub(crate) fn find_slot(
    siblings: &[Arc<DataNode>],
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
            if equal(&siblings[i]) {
                return Slot::Found(i);
            }
        }
        return Slot::Insert(range.end);
    }
    let slice = &siblings[range.clone()];
    match slice.binary_search_by(|n| compare(n)) {
        Ok(i) => Slot::Found(range.start + i),
        Err(i) => Slot::Insert(range.start + i),
    }
}

/// Insert a node among siblings at its ordered place. Returns Err(index) if an equal
/// node (same leaf/container, same list keys, same leaf-list value) already exists.
pub(crate) fn insert_sorted(
    siblings: &mut Vec<Arc<DataNode>>,
    schema: &Schema,
    node: Arc<DataNode>,
) -> Result<usize, usize> {
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
                    siblings.insert(i, node);
                    Ok(i)
                }
            }
        }
        _ => {
            let range = instance_range(siblings, schema, node.schema);
            if !range.is_empty() {
                return Err(range.start);
            }
            siblings.insert(range.start, node);
            Ok(range.start)
        }
    }
}

/// Merge `add` into `base`: containers and list entries (matched by keys) are merged
/// recursively, leaves and leaf-list entries of `add` are set. Used to lay operational state
/// over the configuration it belongs to.
pub fn merge(schema: &Schema, base: &mut DataTree, add: DataTree) {
    for n in add.roots {
        merge_into(schema, &mut base.roots, n);
    }
}

fn merge_into(schema: &Schema, siblings: &mut Vec<Arc<DataNode>>, n: Arc<DataNode>) {
    let sn = schema.node(n.schema);
    let slot = match sn.kind {
        NodeKind::List => {
            let keys = n.keys(schema);
            find_slot(siblings, schema, n.schema, &keys)
        }
        NodeKind::LeafList => {
            let v = n.value.as_deref().unwrap_or("");
            find_slot(siblings, schema, n.schema, &[v])
        }
        _ => {
            let range = instance_range(siblings, schema, n.schema);
            if range.is_empty() {
                Slot::Insert(range.start)
            } else {
                Slot::Found(range.start)
            }
        }
    };
    match slot {
        Slot::Insert(i) => siblings.insert(i, n),
        Slot::Found(i) => {
            if n.children.is_empty() {
                if n.value.is_some() {
                    siblings[i] = n;
                }
                return;
            }
            let target = Arc::make_mut(&mut siblings[i]);
            let n = Arc::unwrap_or_clone(n);
            for c in n.children {
                merge_into(schema, &mut target.children, c);
            }
        }
    }
}
