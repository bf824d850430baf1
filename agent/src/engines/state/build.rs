//! Operational state in two steps. The protocol thread records a *snapshot*: a tree of names
//! and values ([`Node`]), cheap to make (no schema lookups, no value parsing), so it is busy for
//! as short a time as possible. The requester's thread then turns the snapshot into a YANG data
//! tree ([`tree`]): names are found in the schema (augmentations by namespace), and
//! [`yang::data::NodeBuilder`] makes the values canonical and orders the siblings. No XML is
//! written or parsed on the way.

use std::fmt::Display;

use yang::data::{DataError, DataNode, DataTree, NodeBuilder};
use yang::{NodeId, Schema};

/// A node of a snapshot: a container or list entry with children, or a leaf with a value.
#[derive(Debug, Clone)]
pub struct Node {
    /// Set on top-level nodes and augmentations; the others are in their parent's namespace.
    ns: Option<&'static str>,
    name: &'static str,
    value: Option<String>,
    kids: Vec<Node>,
}

impl Node {
    /// A top-level node of the module with namespace `ns`.
    pub fn root(ns: &'static str, name: &'static str) -> Node {
        Node {
            ns: Some(ns),
            name,
            value: None,
            kids: Vec::new(),
        }
    }

    /// A child in this node's namespace.
    pub fn add(&mut self, name: &'static str) -> &mut Node {
        self.push(None, name)
    }

    /// A child from another module (an augmentation).
    pub fn add_ns(&mut self, ns: &'static str, name: &'static str) -> &mut Node {
        self.push(Some(ns), name)
    }

    fn push(&mut self, ns: Option<&'static str>, name: &'static str) -> &mut Node {
        self.kids.push(Node {
            ns,
            name,
            value: None,
            kids: Vec::new(),
        });
        self.kids.last_mut().expect("just pushed")
    }

    /// A leaf (or leaf-list entry) with `value`.
    pub fn leaf(&mut self, name: &'static str, value: impl Display) -> &mut Node {
        self.add(name).value = Some(value.to_string());
        self
    }

    /// A leaf when there is a value.
    pub fn leaf_opt(&mut self, name: &'static str, value: Option<impl Display>) -> &mut Node {
        if let Some(v) = value {
            self.leaf(name, v);
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.kids.is_empty()
    }

    /// The data node of this snapshot node under `parent` (None: top level). An error is a
    /// mistake in the state code (a name or value the model does not have), which the tests
    /// catch: the subtree is left out and logged, never a partial node.
    fn finish(self, schema: &Schema, parent: Option<NodeId>) -> Option<DataNode> {
        let name = self.name;
        let built = self
            .resolve(schema, parent)
            .and_then(|id| self.build(schema, id));
        match built {
            Ok(b) => Some(b.finish()),
            Err(e) => {
                debug_assert!(false, "state {name}: {e}");
                tracing::error!(node = name, error = %e, "state does not fit its model; left out");
                None
            }
        }
    }

    fn resolve(&self, schema: &Schema, parent: Option<NodeId>) -> Result<NodeId, DataError> {
        let ns = match (self.ns, parent) {
            (Some(ns), _) => ns,
            (None, Some(p)) => schema.namespace_of(p),
            (None, None) => "",
        };
        schema.find_child(parent, ns, self.name).ok_or_else(|| {
            DataError::new(
                yang::data::ErrorTag::UnknownElement,
                format!("no '{}' in {ns}", self.name),
            )
        })
    }

    fn build(self, schema: &Schema, id: NodeId) -> Result<NodeBuilder<'_>, DataError> {
        let mut b = NodeBuilder::at(schema, id)?;
        for kid in self.kids {
            match (&kid.value, kid.ns) {
                (Some(v), None) => {
                    b.leaf(kid.name, v)?;
                }
                _ => {
                    let kid_id = kid.resolve(schema, Some(id))?;
                    b.push(kid.build(schema, kid_id)?)?;
                }
            }
        }
        Ok(b)
    }
}

/// The data tree of a snapshot's top-level nodes.
pub fn tree(schema: &Schema, roots: Vec<Node>) -> DataTree {
    let mut t = DataTree::default();
    for n in roots.into_iter().filter(|n| !n.is_empty()) {
        if let Some(d) = n.finish(schema, None) {
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
        let mut bfd = Node::root(BFD, "bfd");
        for name in ["to-z", "to-a"] {
            let e = bfd.add("session");
            // Added out of schema order, with a non-canonical decimal64.
            e.leaf("detection-time-ms", "30.000").leaf("name", name);
        }
        let t = tree(&s, vec![bfd]);
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
    #[should_panic(expected = "no 'nonsense'")]
    fn an_unknown_name_is_a_mistake_caught_in_tests() {
        let s = schema();
        let mut bfd = Node::root(BFD, "bfd");
        bfd.add("nonsense");
        tree(&s, vec![bfd]);
    }
}
