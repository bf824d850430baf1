//! Reading a data tree by module namespace and node name, as the renderer and the commands
//! that look at the candidate need it.

use std::sync::Arc;

use yang::data::{DataNode, DataTree};
use yang::schema::Schema;

pub struct Nav<'s> {
    schema: &'s Schema,
}

impl<'s> Nav<'s> {
    pub fn new(schema: &'s Schema) -> Nav<'s> {
        Nav { schema }
    }

    /// A top-level container.
    pub fn top<'t>(&self, tree: &'t DataTree, ns: &str, name: &str) -> Option<&'t DataNode> {
        let id = self.schema.find_child(None, ns, name)?;
        tree.instances(self.schema, id).first().map(|n| &**n)
    }

    /// A child container or leaf.
    pub fn child<'t>(&self, node: &'t DataNode, ns: &str, name: &str) -> Option<&'t DataNode> {
        self.entries(node, ns, name).first().map(|n| &**n)
    }

    /// The entries of a child list (or leaf-list).
    pub fn entries<'t>(&self, node: &'t DataNode, ns: &str, name: &str) -> &'t [Arc<DataNode>] {
        match self.schema.find_child(Some(node.schema), ns, name) {
            Some(id) => node.instances(self.schema, id),
            None => &[],
        }
    }

    /// The entry of a child list with a one-leaf key equal to `key`.
    pub fn entry<'t>(
        &self,
        node: &'t DataNode,
        ns: &str,
        name: &str,
        key: &str,
    ) -> Option<&'t DataNode> {
        let entries = self.entries(node, ns, name);
        let schema = self.schema;
        let i = entries
            .binary_search_by(|e| {
                yang::data::compare_values(e.keys(schema).first().copied().unwrap_or(""), key)
            })
            .ok()?;
        Some(&entries[i])
    }

    /// A leaf's value, set or default.
    pub fn value<'t>(&self, node: &'t DataNode, ns: &str, name: &str) -> Option<&'t str> {
        self.child(node, ns, name).and_then(|n| n.value.as_deref())
    }

    /// A leaf's value if it was set (not a default the server filled in).
    pub fn explicit<'t>(&self, node: &'t DataNode, ns: &str, name: &str) -> Option<&'t str> {
        self.child(node, ns, name)
            .filter(|n| !n.default)
            .and_then(|n| n.value.as_deref())
    }
}
