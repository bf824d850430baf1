//! Read access (RFC 8341 §3.4.5): a data tree without what the user may not read.
//!
//! One walk with one [`TreePath`]: a node is checked where its decision may differ from the
//! node above (a rule path reaches below that node, or the module or NACM mark changes), and a
//! subtree the user may read whole is kept as it is (the same `Arc`), so the permit path
//! allocates nothing. Only the nodes on the way to something left out are copied.

use std::sync::Arc;

use yang::data::{DataNode, DataTree};
use yang::Schema;

use super::{decide, Above};
use crate::northbound::nacm::{Operation, TreePath, UserAccess};

/// `tree` as `access` may read it.
pub(super) fn prune(
    schema: &Schema,
    homogeneous: &[bool],
    access: &UserAccess<'_>,
    tree: &DataTree,
) -> DataTree {
    let mut r = Reader {
        schema,
        homogeneous,
        access,
        path: TreePath::new(schema),
    };
    let roots = r.try_siblings(&tree.roots, None, &[]).ok().flatten();
    DataTree {
        roots: roots.unwrap_or_else(|| tree.roots.clone()),
    }
}

/// May `access` read all of the top-level node `top` and everything below it, so that
/// [`prune`] would keep it as it is, whatever data it holds? (Its decision is allowed and
/// holds uniformly below it, and its subtree is of one module without NACM marks.)
pub(super) fn whole(
    schema: &Schema,
    homogeneous: &[bool],
    access: &UserAccess<'_>,
    top: &DataNode,
) -> bool {
    let mut path = TreePath::new(schema);
    path.push(top);
    let (decision, here) = decide(access, schema, Operation::Read, &path, top.schema, None);
    decision.is_some_and(|d| d.allowed) && here.uniform && homogeneous[top.schema.0 as usize]
}

/// What became of a node.
enum Pruned {
    /// Kept as it is.
    Same,
    /// Left out, with its subtree.
    Gone,
    /// Kept with part of its subtree left out.
    Changed(Arc<DataNode>),
}

struct Reader<'s, 'a, 'd> {
    schema: &'s Schema,
    homogeneous: &'s [bool],
    access: &'s UserAccess<'a>,
    path: TreePath<'s, 'd>,
}

impl<'s, 'd> Reader<'s, '_, 'd> {
    /// The siblings `nodes` pruned: None when all are kept as they are (nothing allocated),
    /// Err when a list key among them (`keys`) is left out: its entry goes whole.
    fn try_siblings(
        &mut self,
        nodes: &'d [Arc<DataNode>],
        above: Option<Above>,
        keys: &[yang::NodeId],
    ) -> Result<Option<Vec<Arc<DataNode>>>, ()> {
        let mut out: Option<Vec<Arc<DataNode>>> = None;
        let copy = |i: usize| {
            let mut v = Vec::with_capacity(nodes.len());
            v.extend_from_slice(&nodes[..i]);
            v
        };
        for (i, n) in nodes.iter().enumerate() {
            match self.node(n, above) {
                Pruned::Same => {
                    if let Some(v) = out.as_mut() {
                        v.push(Arc::clone(n));
                    }
                }
                Pruned::Gone => {
                    if keys.contains(&n.schema) {
                        return Err(());
                    }
                    out.get_or_insert_with(|| copy(i));
                }
                Pruned::Changed(c) => out.get_or_insert_with(|| copy(i)).push(c),
            }
        }
        Ok(out)
    }

    fn node(&mut self, n: &'d Arc<DataNode>, above: Option<Above>) -> Pruned {
        self.path.push(n);
        let pruned = self.check(n, above);
        self.path.pop();
        pruned
    }

    /// `n` is the last node of the path.
    fn check(&mut self, n: &'d Arc<DataNode>, above: Option<Above>) -> Pruned {
        let (decision, here) = decide(
            self.access,
            self.schema,
            Operation::Read,
            &self.path,
            n.schema,
            above,
        );
        if decision.is_some_and(|d| !d.allowed) {
            return Pruned::Gone;
        }
        if n.children.is_empty() || (here.uniform && self.homogeneous[n.schema.0 as usize]) {
            return Pruned::Same;
        }
        let keys = &self.schema.node(n.schema).keys;
        match self.try_siblings(&n.children, Some(here), keys) {
            Err(()) => Pruned::Gone,
            Ok(None) => Pruned::Same,
            Ok(Some(children)) => Pruned::Changed(Arc::new(DataNode {
                schema: n.schema,
                value: n.value.clone(),
                children: children.into(),
                default: n.default,
            })),
        }
    }
}
