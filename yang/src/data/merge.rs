//! Laying one tree over another ([`merge`]): operational state over the configuration it
//! belongs to, or a merge edit's nodes over a datastore.
//!
//! Both trees keep their siblings sorted (schema order, then keys or values), so a long
//! sequence of new siblings is merged in one pass over both sequences (a merge-join) rather
//! than by a search per node. A short one (a one-entry edit of a long list) is merged node by
//! node in place, which copies only the pieces of the long list it touches, so the result
//! still shares the rest with the tree it came from.

use std::cmp::Ordering;
use std::sync::Arc;

use super::{
    compare_values, find_slot, instance_range, Children, DataNode, DataTree, Seq, SeqMut, Slot,
};
use crate::schema::{NodeKind, Schema};

/// A run of new siblings at least this fraction (1/JOIN_RATIO) of the siblings it goes into is
/// merged in one pass; a shorter one node by node.
const JOIN_RATIO: usize = 8;

/// Merge `add` into `base`: containers and list entries (matched by keys) are merged
/// recursively, leaves and leaf-list entries of `add` are set. Used to lay operational state
/// over the configuration it belongs to.
pub fn merge(schema: &Schema, base: &mut DataTree, add: DataTree) {
    let mut roots = Children::from(std::mem::take(&mut base.roots));
    merge_siblings(schema, &mut roots, add.roots);
    base.roots = roots.into_vec();
}

/// The order of two siblings in a sorted sequence: by schema node, then by keys (list
/// entries) or value (leaf-list entries). None where the order is the user's (`ordered-by
/// user`), which no comparison can tell.
pub(crate) fn sibling_order(schema: &Schema, a: &DataNode, b: &DataNode) -> Option<Ordering> {
    let (oa, ob) = (schema.order(a.schema), schema.order(b.schema));
    if oa != ob {
        return Some(oa.cmp(&ob));
    }
    if a.schema != b.schema {
        return None;
    }
    let sn = schema.node(a.schema);
    match sn.kind {
        NodeKind::List | NodeKind::LeafList if sn.ordered_by_user => None,
        NodeKind::LeafList => Some(compare_values(
            a.value.as_deref().unwrap_or(""),
            b.value.as_deref().unwrap_or(""),
        )),
        NodeKind::List => {
            for &k in &sn.keys {
                match compare_values(entry_key(a, k), entry_key(b, k)) {
                    Ordering::Equal => continue,
                    o => return Some(o),
                }
            }
            Some(Ordering::Equal)
        }
        _ => Some(Ordering::Equal),
    }
}

/// The value of key `k` of list entry `n` as `find_slot` reads it: the first child of the
/// key's schema node, "" if none.
pub(crate) fn entry_key(n: &DataNode, k: crate::schema::NodeId) -> &str {
    // A key is most often the entry's first child (it sorts first): no search.
    let first = n.children.first().filter(|c| c.schema == k);
    first
        .or_else(|| n.children.iter().find(|c| c.schema == k))
        .and_then(|c| c.value.as_deref())
        .unwrap_or("")
}

/// Merge the nodes `add` into `siblings`.
fn merge_siblings(schema: &Schema, siblings: &mut Children, add: Vec<Arc<DataNode>>) {
    if add.len() * JOIN_RATIO >= siblings.len() && strictly_sorted(schema, &add) {
        let joined = join(schema, siblings, add);
        *siblings = Children::from(joined);
    } else {
        for n in add {
            merge_one(schema, siblings, n);
        }
    }
}

/// Are `nodes` in sibling order, with no two equal (no instance twice)? Only then does one pass
/// give what merging them one by one gives.
fn strictly_sorted(schema: &Schema, nodes: &[Arc<DataNode>]) -> bool {
    nodes
        .windows(2)
        .all(|w| sibling_order(schema, &w[0], &w[1]) == Some(Ordering::Less))
        && nodes.iter().all(|n| sibling_order(schema, n, n).is_some())
}

/// One pass over the sorted `siblings` and the sorted `add`: the merged sequence.
fn join(schema: &Schema, siblings: &Children, add: Vec<Arc<DataNode>>) -> Vec<Arc<DataNode>> {
    let mut out = Vec::with_capacity(siblings.len() + add.len());
    let mut base = siblings.iter().peekable();
    for n in add {
        // Each base node is compared with `n` once.
        loop {
            match base.peek().map(|b| sibling_order(schema, b, &n)) {
                Some(Some(Ordering::Less)) => out.extend(base.next().cloned()),
                Some(Some(Ordering::Equal)) => {
                    let b = base.next().expect("peeked");
                    out.push(merged(schema, b, n));
                    break;
                }
                _ => {
                    out.push(n);
                    break;
                }
            }
        }
    }
    out.extend(base.cloned());
    out
}

/// `n` laid over the equal node `b`: a leaf's value replaces `b`'s, children are merged.
fn merged(schema: &Schema, b: &Arc<DataNode>, n: Arc<DataNode>) -> Arc<DataNode> {
    if n.children.is_empty() {
        return if n.value.is_some() { n } else { Arc::clone(b) };
    }
    let mut children = b.children.clone();
    merge_siblings(schema, &mut children, into_children(n));
    Arc::new(DataNode {
        schema: b.schema,
        value: b.value.clone(),
        children,
        default: b.default,
    })
}

fn into_children(n: Arc<DataNode>) -> Vec<Arc<DataNode>> {
    match Arc::try_unwrap(n) {
        Ok(n) => n.children.into_vec(),
        Err(n) => n.children.to_vec(),
    }
}

/// Where `n` goes among `siblings`: the instance it merges into, or where to insert it.
fn slot_of<S: Seq + ?Sized>(schema: &Schema, siblings: &S, n: &DataNode) -> Slot {
    match schema.node(n.schema).kind {
        NodeKind::List => {
            let keys = n.keys(schema);
            find_slot(siblings, schema, n.schema, &keys)
        }
        NodeKind::LeafList => {
            let v = n.value.as_deref().unwrap_or("");
            find_slot(siblings, schema, n.schema, &[v])
        }
        _ => {
            let range = instance_range(siblings, schema, n.schema);
            if range.is_empty() {
                Slot::Insert(range.start)
            } else {
                Slot::Found(range.start)
            }
        }
    }
}

/// Merge one node into `siblings` in place: found by a search, only the pieces on its way
/// copied.
fn merge_one(schema: &Schema, siblings: &mut Children, n: Arc<DataNode>) {
    match slot_of(schema, &*siblings, &n) {
        Slot::Insert(i) => siblings.insert_at(i, n),
        Slot::Found(i) => {
            if n.children.is_empty() {
                if n.value.is_some() {
                    *siblings.at_mut(i) = n;
                }
                return;
            }
            let target = Arc::make_mut(siblings.at_mut(i));
            merge_siblings(schema, &mut target.children, into_children(n));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{decode, DecodeOptions, EncodeOptions};
    use crate::SchemaBuilder;
    use proptest::prelude::*;

    /// The merge as it was before the one-pass join: a search per node, recursively. The new
    /// merge must give the same tree.
    fn merge_by_search(schema: &Schema, base: &mut DataTree, add: DataTree) {
        for n in add.roots {
            merge_into(schema, &mut base.roots, n);
        }
    }

    fn merge_into<S: SeqMut + ?Sized>(schema: &Schema, siblings: &mut S, n: Arc<DataNode>) {
        match slot_of(schema, &*siblings, &n) {
            Slot::Insert(i) => siblings.insert_at(i, n),
            Slot::Found(i) => {
                if n.children.is_empty() {
                    if n.value.is_some() {
                        *siblings.at_mut(i) = n;
                    }
                    return;
                }
                let target = Arc::make_mut(siblings.at_mut(i));
                let n = Arc::unwrap_or_clone(n);
                for c in n.children {
                    merge_into(schema, &mut target.children, c);
                }
            }
        }
    }

    fn schema() -> Schema {
        SchemaBuilder::new().embedded().build().unwrap()
    }

    fn tree(schema: &Schema, xml: &str) -> DataTree {
        decode(schema, xml, DecodeOptions { config_only: false }).unwrap()
    }

    const MON: &str = "urn:ne-agent:yang:ne-monitor-group";
    const IF: &str = "urn:ne-agent:yang:ne-interfaces";
    const NACM: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-acm";

    /// Monitor groups (a long sorted list), interfaces (nested containers) and NACM rule-lists
    /// (ordered by the user: merged node by node) from the generated pieces.
    fn xml(groups: &[(u16, Option<bool>, Option<u8>)], ifs: &[(u8, bool)], rules: &[u8]) -> String {
        let mut s = String::new();
        if !groups.is_empty() {
            s.push_str(&format!("<monitor-groups xmlns=\"{MON}\">"));
            for (name, enabled, ratio) in groups {
                s.push_str(&format!("<monitor-group><name>g{name}</name>"));
                if let Some(e) = enabled {
                    s.push_str(&format!("<enabled>{e}</enabled>"));
                }
                if let Some(r) = ratio {
                    s.push_str(&format!("<failure-ratio>{r}</failure-ratio>"));
                }
                s.push_str("</monitor-group>");
            }
            s.push_str("</monitor-groups>");
        }
        if !ifs.is_empty() {
            s.push_str(&format!("<interfaces xmlns=\"{IF}\">"));
            for (name, stats) in ifs {
                s.push_str(&format!("<interface><name>{name}</name>"));
                if *stats {
                    s.push_str(&format!(
                        "<oper-status>up</oper-status><statistics><in-packets>{name}</in-packets>\
                         </statistics>"
                    ));
                } else {
                    s.push_str(&format!("<description>d{name}</description>"));
                }
                s.push_str("</interface>");
            }
            s.push_str("</interfaces>");
        }
        if !rules.is_empty() {
            s.push_str(&format!("<nacm xmlns=\"{NACM}\">"));
            for r in rules {
                s.push_str(&format!(
                    "<rule-list><name>r{r}</name><group>g{r}</group></rule-list>"
                ));
            }
            s.push_str("</nacm>");
        }
        s
    }

    type Pieces = (
        Vec<(u16, Option<bool>, Option<u8>)>,
        Vec<(u8, bool)>,
        Vec<u8>,
    );

    fn pieces(groups: usize) -> impl Strategy<Value = Pieces> {
        (
            prop::collection::btree_map(0u16..400, (any::<Option<bool>>(), 0u8..=100), 0..groups)
                .prop_map(|m| {
                    m.into_iter()
                        .map(|(k, (e, r))| (k, e, (k % 3 == 0).then_some(r)))
                        .collect::<Vec<_>>()
                }),
            prop::collection::btree_map(0u8..20, any::<bool>(), 0..6)
                .prop_map(|m| m.into_iter().collect::<Vec<_>>()),
            prop::collection::btree_set(0u8..8, 0..4).prop_map(|s| s.into_iter().collect()),
        )
    }

    fn check(schema: &Schema, base: &Pieces, add: &Pieces) {
        let base = tree(schema, &xml(&base.0, &base.1, &base.2));
        let add = tree(schema, &xml(&add.0, &add.1, &add.2));
        let mut old = base.clone();
        merge_by_search(schema, &mut old, add.clone());
        let mut new = base.clone();
        merge(schema, &mut new, add);
        assert_eq!(new, old);
        let opts = EncodeOptions::default();
        assert_eq!(
            crate::data::encode(schema, &new, opts),
            crate::data::encode(schema, &old, opts)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any two trees: the same result as the search per node, whichever way each level
        /// is merged (long lists, short additions, user-ordered lists).
        #[test]
        fn the_same_as_a_search_per_node(
            base in pieces(300),
            add in prop_oneof![pieces(300), pieces(3)],
        ) {
            let s = schema();
            check(&s, &base, &add);
        }
    }

    #[test]
    fn state_over_a_long_list_is_merged_in_one_pass_and_equals_the_search() {
        let s = schema();
        let config: Vec<_> = (0..1000).map(|i| (i, Some(i % 2 == 0), None)).collect();
        let state: Vec<_> = (0..1000)
            .filter(|i| i % 7 != 0)
            .map(|i| (i, None, Some((i % 100) as u8)))
            .chain((1000..1010).map(|i| (i, None, Some(1))))
            .collect();
        check(
            &s,
            &(config, vec![(1, false)], vec![]),
            &(state, vec![(1, true)], vec![]),
        );
    }

    #[test]
    fn an_unsorted_addition_is_merged_node_by_node() {
        let s = schema();
        let base = tree(
            &s,
            &xml(&[(1, Some(true), None), (5, Some(false), None)], &[], &[]),
        );
        // Added out of order and with an entry twice: one pass cannot take it.
        let mut add = tree(&s, &xml(&[(3, None, Some(9))], &[], &[]));
        let extra = tree(
            &s,
            &xml(&[(1, None, Some(4)), (3, None, Some(7))], &[], &[]),
        );
        let entries: &mut Children = &mut Arc::make_mut(&mut add.roots[0]).children;
        for e in extra.roots[0].children.iter() {
            entries.push(Arc::clone(e));
        }
        let mut old = base.clone();
        merge_by_search(&s, &mut old, add.clone());
        let mut new = base;
        merge(&s, &mut new, add);
        assert_eq!(new, old);
    }

    #[test]
    fn a_one_entry_edit_of_a_long_list_shares_the_rest() {
        let s = schema();
        let config: Vec<_> = (0..2000).map(|i| (i, Some(true), None)).collect();
        let base = tree(&s, &xml(&config, &[], &[]));
        let add = tree(&s, &xml(&[(1500, Some(false), None)], &[], &[]));
        let mut new = base.clone();
        merge(&s, &mut new, add);
        let (a, b) = (&base.roots[0].children, &new.roots[0].children);
        assert!(a.is_chunked() && b.is_chunked());
        // Only the piece holding the edited entry (and those above it) was copied.
        let (front, back) = a.shared_ends(b);
        assert!(front + back >= 1900, "shared {front} + {back} of 2000");
    }
}
