//! Building operational state as a YANG data tree directly: nodes are found by name in the
//! schema as they are added, leaf values are checked and made canonical by their type, and
//! siblings are put in schema order (list entries by key) when the tree is finished. No XML
//! is written or parsed on the way.

use std::cmp::Ordering;
use std::fmt::Display;
use std::sync::Arc;

use yang::data::{compare_values, DataNode, DataTree};
use yang::schema::ModuleId;
use yang::{NodeId, NodeKind, Schema};

/// A node under construction. A name the schema does not have makes a node that is dropped
/// (with its subtree) when the tree is finished: a mistake in this module, which the tests
/// catch, never a partial reply.
pub struct Node<'s> {
    schema: &'s Schema,
    id: Option<NodeId>,
    value: Option<String>,
    kids: Vec<Node<'s>>,
}

impl<'s> Node<'s> {
    /// A top-level node of the module with namespace `ns`.
    pub fn root(schema: &'s Schema, ns: &str, name: &str) -> Node<'s> {
        let id = schema.find_child(None, ns, name);
        debug_assert!(id.is_some(), "no top-level {name} in {ns}");
        Node {
            schema,
            id,
            value: None,
            kids: Vec::new(),
        }
    }

    /// A child in this node's namespace.
    pub fn add(&mut self, name: &str) -> &mut Node<'s> {
        let ns = self
            .id
            .map(|id| self.schema.namespace_of(id).to_string())
            .unwrap_or_default();
        self.add_ns(&ns, name)
    }

    /// A child from another module (an augmentation).
    pub fn add_ns(&mut self, ns: &str, name: &str) -> &mut Node<'s> {
        let id = self
            .id
            .and_then(|p| self.schema.find_child(Some(p), ns, name));
        debug_assert!(
            self.id.is_none() || id.is_some(),
            "no {name} in {ns} under {:?}",
            self.id.map(|p| self.schema.path(p))
        );
        self.kids.push(Node {
            schema: self.schema,
            id,
            value: None,
            kids: Vec::new(),
        });
        self.kids.last_mut().expect("just pushed")
    }

    /// A leaf (or leaf-list entry) with `value`.
    pub fn leaf(&mut self, name: &str, value: impl Display) -> &mut Node<'s> {
        self.add(name).value = Some(value.to_string());
        self
    }

    /// A leaf when there is a value.
    pub fn leaf_opt(&mut self, name: &str, value: Option<impl Display>) -> &mut Node<'s> {
        if let Some(v) = value {
            self.leaf(name, v);
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.kids.is_empty()
    }

    /// The finished data node, None if it (or a value in it) did not fit the schema.
    pub fn finish(self) -> Option<DataNode> {
        let id = self.id?;
        let sn = self.schema.node(id);
        let mut node = DataNode::inner(id);
        if let Some(raw) = self.value {
            let Some(ty) = &sn.ty else {
                node.value = Some(raw);
                return Some(node);
            };
            let module = sn.module;
            let same = |p: &str| -> Option<ModuleId> {
                self.schema
                    .module_by_name(p)
                    .or_else(|| (p.is_empty()).then_some(module))
            };
            match ty.canonical(self.schema, &raw, &same, Some(module)) {
                Ok(v) => node.value = Some(v),
                Err(e) => {
                    debug_assert!(false, "{}: {raw:?}: {}", sn.name, e.message);
                    tracing::error!(leaf = %sn.name, value = %raw, error = %e.message, "state value does not fit its type; left out");
                    return None;
                }
            }
            return Some(node);
        }
        let schema = self.schema;
        let mut kids: Vec<Arc<DataNode>> = self
            .kids
            .into_iter()
            .filter_map(Node::finish)
            .map(Arc::new)
            .collect();
        kids.sort_by(|a, b| sibling_order(schema, a, b));
        node.children = kids;
        Some(node)
    }
}

/// Schema order; list entries by key and leaf-list entries by value, unless ordered by user
/// (then as added: the sort is stable).
fn sibling_order(schema: &Schema, a: &DataNode, b: &DataNode) -> Ordering {
    match schema.order(a.schema).cmp(&schema.order(b.schema)) {
        Ordering::Equal => {}
        o => return o,
    }
    let sn = schema.node(a.schema);
    if sn.ordered_by_user {
        return Ordering::Equal;
    }
    match sn.kind {
        NodeKind::LeafList => compare_values(
            a.value.as_deref().unwrap_or(""),
            b.value.as_deref().unwrap_or(""),
        ),
        NodeKind::List => {
            for (x, y) in a.keys(schema).iter().zip(b.keys(schema).iter()) {
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

/// A tree of finished top-level nodes, in schema order.
pub fn tree<'s>(schema: &Schema, roots: impl IntoIterator<Item = Node<'s>>) -> DataTree {
    let mut roots: Vec<Arc<DataNode>> = roots
        .into_iter()
        .filter(|n| !n.is_empty())
        .filter_map(Node::finish)
        .map(Arc::new)
        .collect();
    roots.sort_by(|a, b| sibling_order(schema, a, b));
    DataTree { roots }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        yang::SchemaBuilder::new()
            .embedded()
            .build()
            .expect("embedded models compile")
    }

    const BFD: &str = "urn:ne-agent:yang:ne-bfd";

    #[test]
    fn values_are_canonical_and_siblings_in_schema_order() {
        let s = schema();
        let mut bfd = Node::root(&s, BFD, "bfd");
        for name in ["to-z", "to-a"] {
            let e = bfd.add("session");
            // Added out of schema order, with a non-canonical decimal64.
            e.leaf("detection-time-ms", "30.000").leaf("name", name);
        }
        let t = tree(&s, [bfd]);
        let xml = yang::data::encode(&s, &t, yang::data::EncodeOptions::default());
        let a = xml.find("<name>to-a</name>").expect(&xml);
        let z = xml.find("<name>to-z</name>").expect(&xml);
        assert!(a < z, "list entries by key: {xml}");
        assert!(
            xml.contains("<name>to-a</name><detection-time-ms>30.0</detection-time-ms>"),
            "{xml}"
        );
        // The same as decoding the XML (what the old path did).
        let back = yang::data::decode(&s, &xml, yang::data::DecodeOptions { config_only: false })
            .expect("decodes");
        assert_eq!(back, t);
    }

    #[test]
    #[should_panic(expected = "no nonsense")]
    fn an_unknown_name_is_a_mistake_caught_in_tests() {
        let s = schema();
        let mut bfd = Node::root(&s, BFD, "bfd");
        bfd.add("nonsense");
    }
}
