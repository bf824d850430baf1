//! Data trees built in code, for operational state: nodes are named under their parent's schema
//! node, values are checked and put in canonical form by the leaf's type, and siblings are kept
//! in schema order, so the result is the tree `decode` would make of the same XML.

use std::fmt::Display;
use std::sync::Arc;

use super::encode::module_for_prefix;
use super::{insert_sorted, DataError, DataNode, DataTree, ErrorTag, SeqMut};
use crate::schema::{ModuleId, NodeId, NodeKind, Schema};

/// A container or list entry under construction.
///
/// ```
/// # let schema = yang::SchemaBuilder::new().embedded().build().unwrap();
/// use yang::data::{DataTree, NodeBuilder};
/// let ncm = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring";
/// let mut state = NodeBuilder::top(&schema, ncm, "netconf-state")?;
/// let mut stats = state.inner("statistics")?;
/// stats.leaf("in-sessions", 3)?.leaf("in-bad-hellos", 0)?;
/// state.push(stats)?;
/// let mut tree = DataTree::new();
/// tree.insert(&schema, state.finish())?;
/// # Ok::<(), yang::data::DataError>(())
/// ```
#[derive(Debug, Clone)]
pub struct NodeBuilder<'s> {
    schema: &'s Schema,
    node: DataNode,
}

impl<'s> NodeBuilder<'s> {
    /// A top-level container or list entry of the module whose namespace is `ns`.
    pub fn top(schema: &'s Schema, ns: &str, name: &str) -> Result<NodeBuilder<'s>, DataError> {
        let id = schema.find_child(None, ns, name).ok_or_else(|| {
            DataError::new(
                ErrorTag::UnknownElement,
                format!("no top-level data node '{name}' in namespace '{ns}'"),
            )
            .bad_element(name)
        })?;
        NodeBuilder::at(schema, id)
    }

    /// A container or list entry of schema node `id`.
    pub fn at(schema: &'s Schema, id: NodeId) -> Result<NodeBuilder<'s>, DataError> {
        let sn = schema.node(id);
        if !matches!(sn.kind, NodeKind::Container | NodeKind::List) {
            return Err(DataError::new(
                ErrorTag::BadElement,
                format!("'{}' is not a container or list", sn.name),
            )
            .bad_element(&sn.name));
        }
        Ok(NodeBuilder {
            schema,
            node: DataNode::inner(id),
        })
    }

    /// The schema node being built.
    pub fn id(&self) -> NodeId {
        self.node.schema
    }

    /// A new container or list entry named `name` below this node, in this node's namespace;
    /// give it back with [`NodeBuilder::push`] once built.
    pub fn inner(&self, name: &str) -> Result<NodeBuilder<'s>, DataError> {
        NodeBuilder::at(self.schema, self.child_id(name)?)
    }

    /// Set leaf `name`, or add an entry to leaf-list `name`. The value is written as in XML;
    /// an identity of another module is qualified by that module's name or prefix
    /// (`ietf-datastores:running`).
    pub fn leaf(&mut self, name: &str, value: impl Display) -> Result<&mut Self, DataError> {
        let id = self.child_id(name)?;
        let sn = self.schema.node(id);
        if !matches!(sn.kind, NodeKind::Leaf | NodeKind::LeafList) {
            return Err(DataError::new(
                ErrorTag::BadElement,
                format!("'{name}' is not a leaf or leaf-list"),
            )
            .bad_element(name));
        }
        let raw = value.to_string();
        let value = match &sn.ty {
            None => raw,
            Some(ty) => {
                let schema = self.schema;
                let resolver = |p: &str| -> Option<ModuleId> {
                    schema
                        .module_by_name(p)
                        .or_else(|| module_for_prefix(schema, p))
                };
                ty.canonical(schema, &raw, &resolver, Some(sn.module))
                    .map_err(|e| {
                        DataError::new(
                            ErrorTag::InvalidValue,
                            format!("invalid value for '{name}': {}", e.message),
                        )
                        .bad_element(name)
                    })?
            }
        };
        self.node.insert(self.schema, DataNode::leaf(id, value))?;
        Ok(self)
    }

    /// Add a child built with [`NodeBuilder::inner`]. A list entry needs its keys.
    pub fn push(&mut self, child: NodeBuilder<'s>) -> Result<&mut Self, DataError> {
        let node = child.finish();
        let sn = self.schema.node(node.schema);
        if let Some(&missing) = sn
            .keys
            .iter()
            .find(|&&k| !node.children.iter().any(|c| c.schema == k))
        {
            let key = &self.schema.node(missing).name;
            return Err(DataError::new(
                ErrorTag::MissingElement,
                format!("an entry of '{}' lacks its key '{key}'", sn.name),
            )
            .bad_element(key));
        }
        self.node.insert(self.schema, node)?;
        Ok(self)
    }

    pub fn finish(self) -> DataNode {
        self.node
    }

    /// A data child of this node by name, in this node's namespace (through choices).
    fn child_id(&self, name: &str) -> Result<NodeId, DataError> {
        let ns = self.schema.namespace_of(self.node.schema);
        self.schema
            .find_child(Some(self.node.schema), ns, name)
            .ok_or_else(|| {
                DataError::new(
                    ErrorTag::UnknownElement,
                    format!(
                        "no schema node '{name}' under '{}'",
                        self.schema.node(self.node.schema).name
                    ),
                )
                .bad_element(name)
            })
    }
}

impl DataNode {
    /// Insert a child at its place among the children (schema order; list entries by key,
    /// leaf-list entries by value, unless ordered by user). A second instance of a leaf or
    /// container, or a list entry with the same keys, is an error.
    pub fn insert(
        &mut self,
        schema: &Schema,
        child: impl Into<Arc<DataNode>>,
    ) -> Result<(), DataError> {
        insert_unique(schema, &mut self.children, child.into())
    }
}

impl DataTree {
    /// Insert a top-level node at its place, as [`DataNode::insert`] does.
    pub fn insert(
        &mut self,
        schema: &Schema,
        root: impl Into<Arc<DataNode>>,
    ) -> Result<(), DataError> {
        insert_unique(schema, &mut self.roots, root.into())
    }
}

fn insert_unique<S: SeqMut + ?Sized>(
    schema: &Schema,
    siblings: &mut S,
    node: Arc<DataNode>,
) -> Result<(), DataError> {
    let id = node.schema;
    insert_sorted(siblings, schema, node)
        .map(|_| ())
        .map_err(|_| {
            let name = &schema.node(id).name;
            DataError::new(ErrorTag::DataExists, format!("'{name}' is already present"))
                .bad_element(name)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{decode, DecodeOptions};
    use crate::SchemaBuilder;

    const NCM: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring";
    const YL: &str = "urn:ietf:params:xml:ns:yang:ietf-yang-library";

    fn schema() -> Schema {
        SchemaBuilder::new().embedded().build().unwrap()
    }

    /// Built in any order, the tree is the one decode makes of the same XML.
    #[test]
    fn builds_what_decode_makes() {
        let s = schema();
        let mut state = NodeBuilder::top(&s, NCM, "netconf-state").unwrap();
        let mut sessions = state.inner("sessions").unwrap();
        for id in [9, 2] {
            let mut session = sessions.inner("session").unwrap();
            session
                .leaf("username", "u")
                .unwrap()
                .leaf("transport", "netconf-ssh")
                .unwrap()
                .leaf("session-id", id)
                .unwrap();
            sessions.push(session).unwrap();
        }
        state.push(sessions).unwrap();
        let mut stats = state.inner("statistics").unwrap();
        stats.leaf("in-sessions", 2).unwrap();
        state.push(stats).unwrap();
        let mut lib = NodeBuilder::top(&s, YL, "yang-library").unwrap();
        let mut ds = lib.inner("datastore").unwrap();
        ds.leaf("schema", "all")
            .unwrap()
            .leaf("name", "ietf-datastores:running")
            .unwrap();
        lib.push(ds).unwrap();
        let mut built = DataTree::new();
        built.insert(&s, lib.finish()).unwrap();
        built.insert(&s, state.finish()).unwrap();

        let xml = format!(
            "<netconf-state xmlns=\"{NCM}\"><sessions>\
             <session><session-id>2</session-id><transport xmlns:n=\"{NCM}\">n:netconf-ssh</transport><username>u</username></session>\
             <session><session-id>9</session-id><transport>netconf-ssh</transport><username>u</username></session>\
             </sessions><statistics><in-sessions>2</in-sessions></statistics></netconf-state>\
             <yang-library xmlns=\"{YL}\"><datastore><name xmlns:x=\"urn:ietf:params:xml:ns:yang:ietf-datastores\">x:running</name>\
             <schema>all</schema></datastore></yang-library>"
        );
        let decoded = decode(&s, &xml, DecodeOptions { config_only: false }).unwrap();
        assert_eq!(built, decoded);
    }

    #[test]
    fn refuses_what_the_schema_does_not_allow() {
        let s = schema();
        assert_eq!(
            NodeBuilder::top(&s, NCM, "bogus").unwrap_err().tag,
            ErrorTag::UnknownElement
        );
        let mut state = NodeBuilder::top(&s, NCM, "netconf-state").unwrap();
        assert_eq!(
            state.leaf("bogus", 1).unwrap_err().tag,
            ErrorTag::UnknownElement
        );
        // A container is not a leaf, a leaf is not a container.
        assert_eq!(
            state.leaf("sessions", 1).unwrap_err().tag,
            ErrorTag::BadElement
        );
        let mut stats = state.inner("statistics").unwrap();
        assert_eq!(
            stats.inner("in-rpcs").unwrap_err().tag,
            ErrorTag::BadElement
        );
        // Values are checked by type: in-rpcs is a counter32, session-id starts at 1.
        let e = stats.leaf("in-rpcs", 1u64 << 32).unwrap_err();
        assert_eq!(e.tag, ErrorTag::InvalidValue, "{e}");
        stats.leaf("in-rpcs", 1).unwrap();
        assert_eq!(
            stats.leaf("in-rpcs", 2).unwrap_err().tag,
            ErrorTag::DataExists
        );
        let sessions = state.inner("sessions").unwrap();
        let mut session = sessions.inner("session").unwrap();
        let e = session.leaf("session-id", 0).unwrap_err();
        assert_eq!(e.tag, ErrorTag::InvalidValue, "{e}");
        let e = session.leaf("transport", "ftp").unwrap_err();
        assert_eq!(e.tag, ErrorTag::InvalidValue, "{e}");
        // A list entry needs its keys.
        let mut sessions = state.inner("sessions").unwrap();
        session.leaf("username", "u").unwrap();
        let e = sessions.push(session).unwrap_err();
        assert_eq!(e.tag, ErrorTag::MissingElement, "{e}");
        assert!(e.message.contains("session-id"), "{e}");
    }
}
