//! Building operational state as a YANG data tree directly, top down: nodes are found by name
//! in the schema as they are added (augmentations by namespace), and [`yang::data::NodeBuilder`]
//! makes the values canonical and orders the siblings when the tree is finished. No XML is
//! written or parsed on the way.

use std::fmt::Display;

use yang::data::{DataError, DataNode, DataTree, NodeBuilder};
use yang::{NodeId, Schema};

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

    /// The finished data node, None if it (or a value in it) did not fit the schema: values
    /// are made canonical and siblings ordered by [`NodeBuilder`].
    pub fn finish(self) -> Option<DataNode> {
        let schema = self.schema;
        let id = self.id?;
        let built = self.build(id).map(NodeBuilder::finish);
        match built {
            Ok(n) => Some(n),
            Err(e) => {
                debug_assert!(false, "state under {}: {e}", schema.path(id));
                tracing::error!(node = %schema.path(id), error = %e, "state does not fit its model; left out");
                None
            }
        }
    }

    fn build(self, id: NodeId) -> Result<NodeBuilder<'s>, DataError> {
        let mut b = NodeBuilder::at(self.schema, id)?;
        for kid in self.kids {
            let Some(kid_id) = kid.id else { continue };
            match kid.value {
                Some(v) => {
                    b.leaf(&self.schema.node(kid_id).name, v)?;
                }
                None => {
                    b.push(kid.build(kid_id)?)?;
                }
            }
        }
        Ok(b)
    }
}

/// A tree of finished top-level nodes.
pub fn tree<'s>(schema: &Schema, roots: impl IntoIterator<Item = Node<'s>>) -> DataTree {
    let mut t = DataTree::default();
    for n in roots.into_iter().filter(|n| !n.is_empty()) {
        if let Some(d) = n.finish() {
            if let Err(e) = t.insert(schema, d) {
                tracing::error!(error = %e, "state root twice; left out");
            }
        }
    }
    t
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
