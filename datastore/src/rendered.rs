//! The chunks the candidate's last edit rendered for its journal record, kept for the commit
//! that follows: committing an edit of 10,000 entries writes the same XML again, so the commit
//! takes it from here instead of rendering every chunk a second time.
//!
//! The chunks are valid only for the very tree they were rendered from. The cache knows that
//! tree by the identity of its top-level nodes: trees are persistent (an edit copies the path
//! to what it changes, so a changed tree has new top-level nodes), and the cache holds weak
//! pointers to them, so their allocations cannot be reused by another tree while it lives.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use yang::data::{DataNode, DataTree};

/// A chunk key and its XML (None: absent).
pub(crate) type Chunk = (String, Option<String>);

#[derive(Default)]
pub(crate) struct Rendered {
    tree: Vec<Weak<DataNode>>,
    chunks: HashMap<String, Option<String>>,
}

impl Rendered {
    fn is_of(&self, tree: &DataTree) -> bool {
        self.tree.len() == tree.roots.len()
            && self
                .tree
                .iter()
                .zip(&tree.roots)
                .all(|(w, a)| std::ptr::eq(w.as_ptr(), Arc::as_ptr(a)))
    }

    /// An edit made `tree`, rendering `chunks` from it.
    pub(crate) fn edited(&mut self, tree: &DataTree, chunks: Vec<Chunk>) {
        self.tree = tree.roots.iter().map(Arc::downgrade).collect();
        self.chunks = chunks.into_iter().collect();
    }

    /// The chunks rendered from `tree`, if there are any; the cache is emptied either way.
    pub(crate) fn take_for(&mut self, tree: &DataTree) -> HashMap<String, Option<String>> {
        let of = self.is_of(tree);
        self.tree.clear();
        let chunks = std::mem::take(&mut self.chunks);
        if of {
            chunks
        } else {
            HashMap::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(xml: &str) -> DataTree {
        let schema = yang::SchemaBuilder::new().embedded().build().unwrap();
        let els = yang::xml::parse_fragment(xml).unwrap();
        let mut t = DataTree::new();
        yang::data::apply_edit(&schema, &mut t, &els, yang::data::EditOp::Merge).unwrap();
        t
    }

    #[test]
    fn chunks_are_used_only_for_the_tree_they_came_from() {
        let mg = r#"<monitor-groups xmlns="urn:ne-agent:yang:ne-monitor-group"><monitor-group><name>a</name></monitor-group></monitor-groups>"#;
        let t = tree(mg);
        let same_content = tree(mg);
        let mut r = Rendered::default();
        r.edited(&t, vec![("k".into(), Some("x".into()))]);
        // A tree equal in content but built apart is another tree.
        assert!(r.take_for(&same_content).is_empty());
        // Taken once: the cache is empty afterwards.
        r.edited(&t, vec![("k".into(), Some("x".into()))]);
        let copy = t.clone();
        assert_eq!(r.take_for(&copy).get("k"), Some(&Some("x".into())));
        assert!(r.take_for(&copy).is_empty());
    }
}
