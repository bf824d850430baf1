//! A flat, index-addressed view of a data tree for XPath evaluation and error paths.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use crate::data::{DataNode, DataTree, Seq};
use crate::instance_id::quote;
use crate::pattern::Pattern;
use crate::schema::{NodeId, Schema, TypeKind};
use crate::xpath::{self, Document};

/// The children of one materialized node: they hold the indices `first..first + kids.len()`.
#[derive(Clone, Copy)]
struct Block<'t> {
    first: u32,
    parent: u32,
    /// The children (a node's, found by index without copying; or the tree's roots).
    kids: &'t dyn Seq,
    len: u32,
}

/// A run of consecutive children (a leaf piece of a long list) and the index of its first.
type Run<'t> = (u32, &'t [Arc<DataNode>]);

/// An index-addressed view of a data tree, materialized lazily: a node's children get a block of
/// contiguous indices when a walk first reaches them. A block records only the slice it stands
/// for, so reaching one list entry among 10,000 siblings costs the same as among ten.
pub struct FlatDoc<'s, 't> {
    pub(crate) schema: &'s Schema,
    tree: &'t DataTree,
    /// Blocks in index order (each is allocated past the previous one).
    blocks: RefCell<Vec<Block<'t>>>,
    /// Index range of the children of each materialized node.
    ranges: RefCell<HashMap<u32, (u32, u32)>>,
    /// The next free index.
    next: Cell<u32>,
    /// The block of the last lookup (walks stay local).
    last: Cell<usize>,
    /// The run of entries of the last lookup, by the index of its first (a long list's leaf
    /// piece, so a walk along it does not search the list for every entry).
    leaf: Cell<Option<Run<'t>>>,
    /// Parsed leafref paths, by leaf schema node.
    leafref_paths: HashMap<NodeId, Option<xpath::Expr>>,
    /// Prefix -> namespace for every module (instance-identifier values, identityref prefixes).
    all_prefixes: HashMap<String, String>,
}

pub const ROOT: u32 = 0;

impl<'s, 't> FlatDoc<'s, 't> {
    pub fn new(schema: &'s Schema, tree: &'t DataTree) -> Self {
        let mut all_prefixes = HashMap::new();
        for m in schema.modules.iter().rev() {
            all_prefixes.insert(m.prefix.clone(), m.namespace.clone());
        }
        for m in schema.modules.iter().filter(|m| m.implemented) {
            all_prefixes.insert(m.prefix.clone(), m.namespace.clone());
        }
        FlatDoc {
            schema,
            tree,
            blocks: RefCell::new(Vec::new()),
            ranges: RefCell::new(HashMap::new()),
            next: Cell::new(ROOT + 1),
            last: Cell::new(0),
            leaf: Cell::new(None),
            leafref_paths: HashMap::new(),
            all_prefixes,
        }
    }

    /// Materialize every node (for a whole-tree validation).
    pub fn materialize_all(&self) {
        let mut i = 0;
        while i < self.len() as u32 {
            self.child_range(i);
            i += 1;
        }
    }

    /// Number of nodes materialized so far.
    pub fn len(&self) -> usize {
        self.next.get() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.tree.roots.is_empty()
    }

    /// The block holding index `i` (not the root).
    fn block(&self, i: u32) -> Block<'t> {
        let blocks = self.blocks.borrow();
        let last = self.last.get();
        if let Some(b) = blocks.get(last) {
            if b.first <= i && i < b.first + b.len {
                return *b;
            }
        }
        let at = blocks.partition_point(|b| b.first <= i) - 1;
        self.last.set(at);
        blocks[at]
    }

    pub fn data(&self, i: u32) -> Option<&'t DataNode> {
        if i == ROOT {
            return None;
        }
        if let Some((first, run)) = self.leaf.get() {
            if first <= i && ((i - first) as usize) < run.len() {
                return Some(&run[(i - first) as usize]);
            }
        }
        let b = self.block(i);
        let (run, start) = b.kids.leaf_at((i - b.first) as usize);
        let first = b.first + start as u32;
        self.leaf.set(Some((first, run)));
        Some(&run[(i - first) as usize])
    }

    pub fn parent_of(&self, i: u32) -> u32 {
        if i == ROOT {
            return ROOT;
        }
        self.block(i).parent
    }

    pub fn schema_of(&self, i: u32) -> Option<NodeId> {
        self.data(i).map(|n| n.schema)
    }

    /// The data children of index `i`.
    fn kids(&self, i: u32) -> &'t dyn Seq {
        match self.data(i) {
            Some(n) => &n.children,
            None => &self.tree.roots,
        }
    }

    /// Indices of the children of `i`, materializing them on first use.
    pub fn child_range(&self, i: u32) -> std::ops::Range<u32> {
        if let Some(&(first, count)) = self.ranges.borrow().get(&i) {
            return first..first + count;
        }
        let first = self.next.get();
        let kids = self.kids(i);
        let count = kids.len() as u32;
        if count > 0 {
            self.blocks.borrow_mut().push(Block {
                first,
                parent: i,
                kids,
                len: count,
            });
        }
        self.next.set(first + count);
        self.ranges.borrow_mut().insert(i, (first, count));
        first..first + count
    }

    /// The node at an instance-identifier, if it exists.
    pub fn locate(&self, path: &str) -> Option<u32> {
        let resolver = |p: &str| crate::data::module_for_prefix(self.schema, p);
        let steps = crate::instance_id::parse(self.schema, path, &resolver).ok()?;
        let mut cur = ROOT;
        for step in &steps {
            let range = self.child_range(cur);
            let idx = crate::data::find_step(self.kids(cur), self.schema, step)?;
            cur = range.start + idx as u32;
        }
        Some(cur)
    }

    /// Every instance of a schema node, found by walking down its schema path.
    pub fn instances_of(&self, id: NodeId) -> Vec<u32> {
        let mut chain = vec![id];
        let mut cur = id;
        while let Some(p) = self.schema.data_parent(cur) {
            if !self.schema.node(p).kind.is_data() {
                return Vec::new();
            }
            chain.push(p);
            cur = p;
        }
        chain.reverse();
        let mut level = vec![ROOT];
        for sid in chain {
            let mut next = Vec::new();
            for n in level {
                next.extend(
                    self.child_range(n)
                        .filter(|&c| self.schema_of(c) == Some(sid)),
                );
            }
            level = next;
        }
        level
    }

    /// Instance-identifier of node `i`.
    pub fn path(&self, i: u32) -> String {
        let mut parts = Vec::new();
        let mut cur = i;
        while cur != ROOT {
            let Some(n) = self.data(cur) else { break };
            let sn = self.schema.node(n.schema);
            let mut step = format!("/{}:{}", self.schema.module(sn.module).prefix, sn.name);
            for &k in &sn.keys {
                let v = n
                    .children
                    .iter()
                    .find(|c| c.schema == k)
                    .and_then(|c| c.value.as_deref())
                    .unwrap_or("");
                let kn = self.schema.node(k);
                step.push_str(&format!(
                    "[{}:{}={}]",
                    self.schema.module(kn.module).prefix,
                    kn.name,
                    quote(v)
                ));
            }
            if sn.kind == crate::schema::NodeKind::LeafList {
                step.push_str(&format!("[.={}]", quote(n.value.as_deref().unwrap_or(""))));
            }
            parts.push(step);
            cur = self.parent_of(cur);
        }
        parts.reverse();
        if parts.is_empty() {
            "/".to_string()
        } else {
            parts.concat()
        }
    }

    /// Parse (once) the path of a leafref leaf.
    pub(crate) fn leafref_expr(&mut self, leaf: NodeId) -> Option<xpath::Expr> {
        if let Some(e) = self.leafref_paths.get(&leaf) {
            return e.clone();
        }
        let e = leafref_path(self.schema, leaf).and_then(|p| xpath::parse(&p).ok());
        self.leafref_paths.insert(leaf, e.clone());
        e
    }

    pub(crate) fn all_prefixes(&self) -> &HashMap<String, String> {
        &self.all_prefixes
    }
}

/// The path text of a leafref leaf's type (looking through unions for the first leafref).
pub(crate) fn leafref_path(schema: &Schema, leaf: NodeId) -> Option<String> {
    fn find(t: &crate::schema::Type) -> Option<String> {
        match &t.kind {
            TypeKind::Leafref { path, .. } => Some(path.clone()),
            TypeKind::Union(m) => m.iter().find_map(find),
            _ => None,
        }
    }
    schema.node(leaf).ty.as_ref().and_then(find)
}

impl Document for FlatDoc<'_, '_> {
    type Node = u32;

    fn root(&self) -> u32 {
        ROOT
    }

    fn parent(&self, n: u32) -> Option<u32> {
        (n != ROOT).then(|| self.parent_of(n))
    }

    fn children(&self, n: u32) -> Vec<u32> {
        self.child_range(n).collect()
    }

    fn name(&self, n: u32) -> Option<(&str, &str)> {
        let d = self.data(n)?;
        let sn = self.schema.node(d.schema);
        Some((self.schema.namespace_of(d.schema), sn.name.as_str()))
    }

    fn value(&self, n: u32) -> Option<Cow<'_, str>> {
        let d = self.data(n)?;
        match self.schema.node(d.schema).kind {
            crate::schema::NodeKind::Leaf | crate::schema::NodeKind::LeafList => {
                d.value.as_deref().map(Cow::Borrowed)
            }
            _ => None,
        }
    }

    fn deref(&self, n: u32) -> Option<u32> {
        let d = self.data(n)?;
        let value = d.value.as_deref()?;
        let path = leafref_path(self.schema, d.schema)?;
        let expr = xpath::parse(&path).ok()?;
        let (prefixes, ns) = self.leaf_context(d.schema);
        let ctx = xpath::Context::new(&prefixes, ns);
        match xpath::evaluate(self, &expr, &ctx, n, n).ok()? {
            xpath::Value::NodeSet(set) => set
                .into_iter()
                .find(|&t| self.value(t).as_deref() == Some(value)),
            _ => None,
        }
    }

    fn identity_derived_from(&self, n: u32, base_ns: &str, base_name: &str, or_self: bool) -> bool {
        let Some(value) = self.data(n).and_then(|d| d.value.as_deref()) else {
            return false;
        };
        let Some((prefix, name)) = value.split_once(':') else {
            return false;
        };
        let schema = self.schema;
        let Some(m) = crate::data::module_for_prefix(schema, prefix) else {
            return false;
        };
        let (Some(id), Some(base)) = (
            schema.find_identity(m, name),
            schema
                .module_by_namespace(base_ns)
                .and_then(|bm| schema.find_identity(bm, base_name)),
        ) else {
            return false;
        };
        schema.identity_derived(id, base, or_self)
    }

    fn enum_value(&self, n: u32) -> Option<i64> {
        let d = self.data(n)?;
        self.schema
            .node(d.schema)
            .ty
            .as_ref()?
            .enum_value(d.value.as_deref()?)
    }

    fn re_match(&self, value: &str, pattern: &str) -> Result<bool, String> {
        Pattern::new(pattern, false)
            .map(|p| p.is_match(value))
            .map_err(|e| e.to_string())
    }
}

impl FlatDoc<'_, '_> {
    /// Prefix map and default namespace for expressions attached to schema node `id`.
    pub(crate) fn leaf_context(&self, id: NodeId) -> (HashMap<String, String>, &str) {
        let n = self.schema.node(id);
        let prefixes = self
            .schema
            .xpath_prefixes(crate::schema::PrefixTableId(n.file));
        (prefixes, self.schema.namespace_of(id))
    }
}
