//! A flat, index-addressed view of a data tree for XPath evaluation and error paths.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::data::{DataNode, DataTree};
use crate::instance_id::quote;
use crate::pattern::Pattern;
use crate::schema::{NodeId, Schema, TypeKind};
use crate::xpath::{self, Document};

pub(crate) struct Flat<'t> {
    pub node: Option<&'t DataNode>,
    pub parent: u32,
    pub first_child: u32,
    pub child_count: u32,
}

/// The tree flattened breadth-first, so each node's children are contiguous.
pub struct FlatDoc<'s, 't> {
    pub(crate) schema: &'s Schema,
    pub(crate) nodes: Vec<Flat<'t>>,
    /// Parsed leafref paths, by leaf schema node.
    leafref_paths: HashMap<NodeId, Option<xpath::Expr>>,
    /// Prefix -> namespace for every module (instance-identifier values, identityref prefixes).
    all_prefixes: HashMap<String, String>,
}

pub const ROOT: u32 = 0;

impl<'s, 't> FlatDoc<'s, 't> {
    pub fn new(schema: &'s Schema, tree: &'t DataTree) -> Self {
        let mut nodes = vec![Flat {
            node: None,
            parent: ROOT,
            first_child: 1,
            child_count: tree.roots.len() as u32,
        }];
        for r in &tree.roots {
            nodes.push(Flat {
                node: Some(r),
                parent: ROOT,
                first_child: 0,
                child_count: 0,
            });
        }
        let mut i = 1;
        while i < nodes.len() {
            let Some(n) = nodes[i].node else {
                i += 1;
                continue;
            };
            nodes[i].first_child = nodes.len() as u32;
            nodes[i].child_count = n.children.len() as u32;
            for c in &n.children {
                nodes.push(Flat {
                    node: Some(c),
                    parent: i as u32,
                    first_child: 0,
                    child_count: 0,
                });
            }
            i += 1;
        }
        let mut all_prefixes = HashMap::new();
        for m in schema.modules.iter().rev() {
            all_prefixes.insert(m.prefix.clone(), m.namespace.clone());
        }
        for m in schema.modules.iter().filter(|m| m.implemented) {
            all_prefixes.insert(m.prefix.clone(), m.namespace.clone());
        }
        FlatDoc {
            schema,
            nodes,
            leafref_paths: HashMap::new(),
            all_prefixes,
        }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
    }

    pub fn data(&self, i: u32) -> Option<&'t DataNode> {
        self.nodes[i as usize].node
    }

    pub fn schema_of(&self, i: u32) -> Option<NodeId> {
        self.data(i).map(|n| n.schema)
    }

    pub fn child_range(&self, i: u32) -> std::ops::Range<u32> {
        let f = &self.nodes[i as usize];
        f.first_child..f.first_child + f.child_count
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
            cur = self.nodes[cur as usize].parent;
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
        (n != ROOT).then(|| self.nodes[n as usize].parent)
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
