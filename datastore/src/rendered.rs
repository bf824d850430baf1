//! What the candidate's last edit worked out, kept for the commit that follows: its changes
//! and the chunks it rendered for its journal record. Committing an edit of 10,000 entries
//! diffs the same two trees and writes the same XML again, so the commit takes them from here.
//!
//! Both are valid only for the very trees they came from. The cache knows a tree by the
//! identity of its top-level nodes: trees are persistent (an edit copies the path to what it
//! changes, so a changed tree has new top-level nodes), and the cache holds weak pointers to
//! them, so their allocations cannot be reused by another tree while it lives. (Two trees
//! without top-level nodes are both empty, hence equal.)

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use yang::data::{DataNode, DataTree};
use yang::diff::Change;

/// A chunk key and its XML (None: absent).
pub(crate) type Chunk = (String, Option<String>);

/// A tree, known by the identity of its top-level nodes.
#[derive(Default)]
struct TreeId(Vec<Weak<DataNode>>);

impl TreeId {
    fn of(tree: &DataTree) -> TreeId {
        TreeId(tree.roots.iter().map(Arc::downgrade).collect())
    }

    fn is(&self, tree: &DataTree) -> bool {
        self.0.len() == tree.roots.len()
            && self
                .0
                .iter()
                .zip(&tree.roots)
                .all(|(w, a)| std::ptr::eq(w.as_ptr(), Arc::as_ptr(a)))
    }
}

#[derive(Default)]
pub(crate) struct Rendered {
    tree: TreeId,
    chunks: HashMap<String, Option<String>>,
    /// The tree the edit started from, and its changes from it to `tree`.
    edit: Option<(TreeId, Vec<Change>)>,
}

impl Rendered {
    /// An edit turned `before` into `tree` with `changes`, rendering `chunks` from `tree`.
    pub(crate) fn edited(
        &mut self,
        before: &DataTree,
        tree: &DataTree,
        changes: Vec<Change>,
        chunks: Vec<Chunk>,
    ) {
        self.tree = TreeId::of(tree);
        self.chunks = chunks.into_iter().collect();
        self.edit = Some((TreeId::of(before), changes));
    }

    /// The changes from `old` to `new`, if these are the trees of the last edit (once).
    pub(crate) fn changes_between(
        &mut self,
        old: &DataTree,
        new: &DataTree,
    ) -> Option<Vec<Change>> {
        match self.edit.take() {
            Some((before, changes)) if before.is(old) && self.tree.is(new) => Some(changes),
            _ => None,
        }
    }

    /// The chunks rendered from `tree`, if there are any; the cache is emptied either way.
    pub(crate) fn take_for(&mut self, tree: &DataTree) -> HashMap<String, Option<String>> {
        let of = self.tree.is(tree);
        let chunks = std::mem::take(&mut self.chunks);
        *self = Rendered::default();
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
    fn what_an_edit_worked_out_is_used_only_for_its_own_trees() {
        let mg = r#"<monitor-groups xmlns="urn:ne-agent:yang:ne-monitor-group"><monitor-group><name>a</name></monitor-group></monitor-groups>"#;
        let empty = DataTree::new();
        let t = tree(mg);
        let same_content = tree(mg);
        let change = Change {
            op: yang::diff::ChangeOp::Create,
            path: "/p".into(),
            schema: yang::NodeId(0),
            old: None,
            new: None,
        };
        let mut r = Rendered::default();
        r.edited(
            &empty,
            &t,
            vec![change.clone()],
            vec![("k".into(), Some("x".into()))],
        );
        // A tree equal in content but built apart is another tree.
        assert!(r.changes_between(&empty, &same_content).is_none());
        assert!(r.take_for(&same_content).is_empty());
        // The changes are handed out once, for the same two trees.
        r.edited(
            &empty,
            &t,
            vec![change.clone()],
            vec![("k".into(), Some("x".into()))],
        );
        assert!(r.changes_between(&t, &t).is_none());
        r.edited(
            &empty,
            &t,
            vec![change.clone()],
            vec![("k".into(), Some("x".into()))],
        );
        let copy = t.clone();
        assert_eq!(
            r.changes_between(&DataTree::new(), &copy),
            Some(vec![change])
        );
        assert!(r.changes_between(&DataTree::new(), &copy).is_none());
        // The chunks too; the cache is empty afterwards.
        assert_eq!(r.take_for(&copy).get("k"), Some(&Some("x".into())));
        assert!(r.take_for(&copy).is_empty());
    }
}
