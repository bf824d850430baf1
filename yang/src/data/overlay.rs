//! A tree with operational state laid over it as [`super::merge`] would make it, read without
//! building it: a reader (the JSON encoder's [`super::json::encode_overlay`]) walks both trees
//! at once, so a GET of running with 10,000 entries of state allocates no merged entry. The
//! state is data nodes, and tables of rows ([`RowTable`]) read in place of the list entries
//! they stand for (as [`super::rows::lay_rows`] would make them).
//!
//! Only what the merge's one-pass join makes is read this way: where a run of the state's
//! siblings is not strictly sorted (an entry twice, a list ordered by the user), or a table's
//! list also has entries as nodes, the view gives up ([`Overlay::failed`]) and the caller
//! merges as usual.

use std::cell::Cell;
use std::cmp::Ordering;
use std::sync::Arc;

use super::merge::{entry_key, sibling_order};
use super::rows::RowTable;
use super::{compare_values, DataNode};
use crate::schema::{NodeId, NodeKind, Schema};

/// A node of the merged tree (see the module documentation).
#[derive(Clone, Copy)]
pub(crate) struct Laid<'a> {
    pub(crate) node: Pair<'a>,
    ov: &'a Overlay<'a>,
}

#[derive(Clone, Copy)]
pub(crate) enum Pair<'a> {
    /// In one tree only, or a leaf of the state that replaces the base's: the node as it is.
    One(&'a DataNode),
    /// A container or list entry in both: the base's node with the children of both merged.
    Both(&'a DataNode, &'a DataNode),
    /// A container of the state only, with a table's rows below it.
    Grown(&'a DataNode),
    /// A table's row as a list entry, laid over the base's entry with its keys if any.
    Row(Option<&'a DataNode>, &'a RowTable, usize),
    /// A cell of a table's row (row, column) as a leaf.
    Cell(&'a RowTable, usize, usize),
}

/// What the state side of a join offers.
#[derive(Clone, Copy)]
enum Item<'a> {
    Node(&'a DataNode),
    Row(&'a RowTable, usize),
    Cell(&'a RowTable, usize, usize),
}

/// The state's tables and where the view gave up.
pub(crate) struct Overlay<'t> {
    failed: Cell<bool>,
    /// By their list's schema order.
    tables: Vec<&'t RowTable>,
    /// The schema nodes with a table somewhere below them.
    holders: Vec<NodeId>,
}

impl<'t> Overlay<'t> {
    /// An overlay whose state has the rows of `tables` besides its nodes; the containers above
    /// each table's list must be in the state (`RowTable::chain`).
    pub(crate) fn new(schema: &Schema, tables: &[&'t RowTable]) -> Overlay<'t> {
        let mut tables = tables.to_vec();
        tables.sort_by_key(|t| schema.order(t.list()));
        let twice = tables.windows(2).any(|w| w[0].list() == w[1].list());
        let mut holders: Vec<NodeId> = tables.iter().flat_map(|t| t.chain()).copied().collect();
        holders.sort_unstable_by_key(|id| id.0);
        holders.dedup();
        Overlay {
            failed: Cell::new(twice),
            tables,
            holders,
        }
    }

    pub(crate) fn failed(&self) -> bool {
        self.failed.get()
    }

    fn holds(&self, id: NodeId) -> bool {
        !self.holders.is_empty() && self.holders.contains(&id)
    }

    /// The siblings `base` with the siblings `add` merged in, appended to `out`.
    pub(crate) fn siblings<'a>(
        &'a self,
        schema: &Schema,
        base: &'a [Arc<DataNode>],
        add: &'a [Arc<DataNode>],
        out: &mut Vec<Laid<'a>>,
    ) {
        let items = add.iter().map(|n| Item::Node(n));
        join(schema, self, base.iter(), items, out)
    }
}

impl<'a> Laid<'a> {
    /// The node's schema node.
    pub(crate) fn schema(self) -> NodeId {
        match self.node {
            Pair::One(n) | Pair::Both(n, _) | Pair::Grown(n) => n.schema,
            Pair::Row(_, t, _) => t.list(),
            Pair::Cell(t, _, c) => t.columns()[c],
        }
    }

    /// The merged node's value: the base's for a node in both.
    pub(crate) fn value(self) -> Option<&'a str> {
        match self.node {
            Pair::One(n) | Pair::Both(n, _) | Pair::Grown(n) => n.value.as_deref(),
            Pair::Row(b, ..) => b.and_then(|b| b.value.as_deref()),
            Pair::Cell(t, r, c) => t.cell(r, c),
        }
    }

    /// The children of the merged node, appended to `out`.
    pub(crate) fn children(self, schema: &Schema, out: &mut Vec<Laid<'a>>) {
        let ov = self.ov;
        match self.node {
            Pair::One(n) => out.extend(n.children.iter().map(|c| Laid {
                node: Pair::One(c),
                ov,
            })),
            Pair::Both(b, n) => children_of_holder(schema, ov, Some(b), n, out),
            Pair::Grown(n) => children_of_holder(schema, ov, None, n, out),
            Pair::Row(b, t, r) => {
                let cells = (0..t.columns().len())
                    .filter(move |&c| t.cell(r, c).is_some())
                    .map(move |c| Item::Cell(t, r, c));
                join(
                    schema,
                    ov,
                    b.into_iter().flat_map(|b| b.children.iter()),
                    cells,
                    out,
                )
            }
            Pair::Cell(..) => {}
        }
    }

    /// [`DataNode::has_explicit`] of the merged node.
    pub(crate) fn has_explicit(self, schema: &Schema) -> bool {
        let own_default = match self.node {
            Pair::One(n) => return n.has_explicit(),
            Pair::Cell(..) | Pair::Row(None, ..) => return true,
            Pair::Both(b, _) | Pair::Row(Some(b), ..) => b.default,
            Pair::Grown(n) => n.default,
        };
        if !own_default {
            return true;
        }
        let mut kids = Vec::new();
        self.children(schema, &mut kids);
        kids.into_iter().any(|c| c.has_explicit(schema))
    }
}

/// The children of `n` of the state (laid over `b` of the base, if any), with the rows of the
/// tables whose list is a child of `n`.
fn children_of_holder<'a>(
    schema: &Schema,
    ov: &'a Overlay<'a>,
    b: Option<&'a DataNode>,
    n: &'a DataNode,
    out: &mut Vec<Laid<'a>>,
) {
    let base = b.into_iter().flat_map(|b| b.children.iter());
    let mut here = ov
        .tables
        .iter()
        .filter(|t| t.parent() == n.schema)
        .peekable();
    if here.peek().is_none() {
        return join(
            schema,
            ov,
            base,
            n.children.iter().map(|c| Item::Node(c)),
            out,
        );
    }
    let mut items = Vec::new();
    let mut kids = n.children.iter().peekable();
    for &t in here {
        let at = schema.order(t.list());
        while let Some(k) = kids.next_if(|k| schema.order(k.schema) < at) {
            items.push(Item::Node(k));
        }
        if kids.peek().is_some_and(|k| k.schema == t.list()) {
            // Entries of the list as nodes too: not what one table stands for.
            ov.failed.set(true);
            return;
        }
        items.extend((0..t.len()).map(|r| Item::Row(t, r)));
    }
    items.extend(kids.map(|k| Item::Node(k)));
    join(schema, ov, base, items.into_iter(), out)
}

/// The order of a base node and a state item, as `sibling_order` of their nodes.
fn order_of(schema: &Schema, b: &DataNode, item: Item<'_>) -> Option<Ordering> {
    let id = match item {
        Item::Node(n) => return sibling_order(schema, b, n),
        Item::Row(t, _) => t.list(),
        Item::Cell(t, _, c) => t.columns()[c],
    };
    let (oa, ob) = (schema.order(b.schema), schema.order(id));
    if oa != ob {
        return Some(oa.cmp(&ob));
    }
    if b.schema != id {
        return None;
    }
    let Item::Row(t, r) = item else {
        return Some(Ordering::Equal);
    };
    for (i, &k) in schema.node(id).keys.iter().enumerate() {
        match compare_values(entry_key(b, k), t.key(r, i)) {
            Ordering::Equal => continue,
            o => return Some(o),
        }
    }
    Some(Ordering::Equal)
}

/// The merge's one-pass join (`merge::join`) as a view: the same sequence, with nodes of both
/// sides paired instead of merged.
fn join<'a>(
    schema: &Schema,
    ov: &'a Overlay<'a>,
    base: impl Iterator<Item = &'a Arc<DataNode>>,
    add: impl Iterator<Item = Item<'a>>,
    out: &mut Vec<Laid<'a>>,
) {
    let laid = |node| Laid { node, ov };
    let mut base = base.peekable();
    let mut last: Option<&DataNode> = None;
    for item in add {
        if let Item::Node(n) = item {
            // What `strictly_sorted` asks before a join (a shorter run merged node by node
            // gives the same for such a run); anything else the view does not follow. (A node
            // compares with itself unless it is an entry of a list or leaf-list ordered by the
            // user.) A table's rows are sorted and unique by construction.
            let sn = schema.node(n.schema);
            let by_user =
                sn.ordered_by_user && matches!(sn.kind, NodeKind::List | NodeKind::LeafList);
            let sorted = !by_user
                && last.is_none_or(|p| sibling_order(schema, p, n) == Some(Ordering::Less));
            if !sorted {
                ov.failed.set(true);
                return;
            }
            last = Some(n);
        }
        // Each base node is compared with the item once, as in `join`.
        loop {
            match base.peek().map(|b| order_of(schema, b, item)) {
                Some(Some(Ordering::Less)) => out.extend(base.next().map(|b| laid(Pair::One(b)))),
                Some(Some(Ordering::Equal)) => {
                    let b = base.next().expect("peeked");
                    out.push(laid(match item {
                        Item::Node(n) if ov.holds(n.schema) => Pair::Both(b, n),
                        Item::Node(n) if n.children.is_empty() => {
                            Pair::One(if n.value.is_some() { n } else { b })
                        }
                        Item::Node(n) => Pair::Both(b, n),
                        Item::Row(t, r) => Pair::Row(Some(b), t, r),
                        Item::Cell(t, r, c) => Pair::Cell(t, r, c),
                    }));
                    break;
                }
                _ => {
                    out.push(laid(match item {
                        Item::Node(n) if ov.holds(n.schema) => Pair::Grown(n),
                        Item::Node(n) => Pair::One(n),
                        Item::Row(t, r) => Pair::Row(None, t, r),
                        Item::Cell(t, r, c) => Pair::Cell(t, r, c),
                    }));
                    break;
                }
            }
        }
    }
    out.extend(base.map(|b| laid(Pair::One(b))));
}
