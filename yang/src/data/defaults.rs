//! Schema defaults in data trees (RFC 7950 §7.6.1, §7.9.3) and the RFC 6243 with-defaults modes.

use std::sync::Arc;

use super::{insert_sorted, DataNode, DataTree, Seq, SeqMut};
use crate::schema::{NodeId, NodeKind, Schema};

/// RFC 6243 retrieval modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WithDefaults {
    ReportAll,
    /// The server's basic mode: what was set, whether or not it equals a default.
    #[default]
    Explicit,
    Trim,
    ReportAllTagged,
}

impl WithDefaults {
    pub fn parse(s: &str) -> Option<WithDefaults> {
        match s.trim() {
            "report-all" => Some(WithDefaults::ReportAll),
            "explicit" => Some(WithDefaults::Explicit),
            "trim" => Some(WithDefaults::Trim),
            "report-all-tagged" => Some(WithDefaults::ReportAllTagged),
            _ => None,
        }
    }
}

/// The canonical default of a leaf (its own `default`, else its type's), if any.
pub fn default_value(schema: &Schema, id: NodeId) -> Option<String> {
    schema.default_of(id).map(str::to_string)
}

/// Add default leaves, leaf-list defaults and the non-presence containers that hold them, marked
/// as defaults, wherever the tree lacks them. Subtrees shared with another tree (an [`Arc`] with
/// other owners) are assumed complete and skipped, so filling after an edit costs what the edit
/// touched.
pub fn add_defaults(schema: &Schema, tree: &mut DataTree) {
    let top: Vec<NodeId> = schema
        .modules
        .iter()
        .filter(|m| m.implemented)
        .flat_map(|m| m.data.iter().copied())
        .collect();
    fill(schema, &top, &mut tree.roots);
}

/// Apply defaults for the schema children `members` into `siblings`.
fn fill<S: SeqMut + ?Sized>(schema: &Schema, members: &[NodeId], siblings: &mut S) {
    for &m in members {
        let sn = schema.node(m);
        if !sn.config && sn.kind != NodeKind::Choice && sn.kind != NodeKind::Case {
            // State defaults are reported by the engines, not stored.
            continue;
        }
        match sn.kind {
            NodeKind::Leaf => {
                if sn.mandatory || present(schema, siblings, m) {
                    continue;
                }
                if let Some(v) = schema.default_of(m) {
                    let mut leaf = DataNode::leaf(m, v);
                    leaf.default = true;
                    let _ = insert_sorted(siblings, schema, Arc::new(leaf));
                }
            }
            NodeKind::LeafList => {
                if sn.defaults.is_empty() || present(schema, siblings, m) {
                    continue;
                }
                for v in schema.leaf_list_defaults(m) {
                    let mut leaf = DataNode::leaf(m, v);
                    leaf.default = true;
                    let _ = insert_sorted(siblings, schema, Arc::new(leaf));
                }
            }
            NodeKind::Container => {
                let range = super::instance_range(siblings, schema, m);
                if let Some(i) = range.clone().next() {
                    // Shared subtrees (unchanged since defaults were last added) are skipped.
                    if let Some(node) = Arc::get_mut(siblings.at_mut(i)) {
                        fill(schema, &sn.children, &mut node.children);
                    }
                } else if !sn.presence {
                    let mut node = DataNode::inner(m);
                    node.default = true;
                    fill(schema, &sn.children, &mut node.children);
                    if !node.children.is_empty() {
                        siblings.insert_at(range.start, Arc::new(node));
                    }
                }
            }
            NodeKind::List => {
                // Only entries an edit copied (in chunks no other tree shares) can lack
                // defaults: the walk costs what the edit touched, not the list.
                let range = super::instance_range(siblings, schema, m);
                siblings.for_each_owned(range, &mut |node| {
                    if let Some(node) = Arc::get_mut(node) {
                        fill(schema, &sn.children, &mut node.children);
                    }
                });
            }
            NodeKind::Choice => {
                let active = sn
                    .children
                    .iter()
                    .copied()
                    .find(|&case| case_present(schema, siblings, case));
                let case = active.or_else(|| {
                    sn.defaults.first().and_then(|d| {
                        sn.children
                            .iter()
                            .copied()
                            .find(|&c| schema.node(c).name == *d)
                    })
                });
                if let Some(case) = case {
                    fill(schema, &schema.node(case).children, siblings);
                }
            }
            NodeKind::Case => fill(schema, &sn.children, siblings),
            _ => {}
        }
    }
}

fn present<S: Seq + ?Sized>(schema: &Schema, siblings: &S, id: NodeId) -> bool {
    !super::instance_range(siblings, schema, id).is_empty()
}

/// Does any data node of this case (or nested choice) exist among the siblings, explicitly set?
pub(crate) fn case_present<S: Seq + ?Sized>(schema: &Schema, siblings: &S, case: NodeId) -> bool {
    schema
        .node(case)
        .children
        .iter()
        .any(|&c| match schema.node(c).kind {
            NodeKind::Choice | NodeKind::Case => case_present(schema, siblings, c),
            _ => super::instance_range(siblings, schema, c).any(|i| siblings.at(i).has_explicit()),
        })
}
