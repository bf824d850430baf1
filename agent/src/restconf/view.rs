//! What a GET shows of the data it selected: `depth` (RFC 8040 §4.8.2), `content=nonconfig`
//! (§4.8.1), and the entity tag of a resource (§3.5.2), each a pure function of the nodes.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use yang::data::DataNode;
use yang::schema::NodeKind;
use yang::{NodeId, Schema};

/// Keep `nodes` (at `level`; the target resource is level 1) and their descendants down to
/// level `depth`. A list entry kept keeps its keys, whatever the depth.
pub fn limit_depth(
    schema: &Schema,
    nodes: &[Arc<DataNode>],
    level: u32,
    depth: u32,
) -> Vec<Arc<DataNode>> {
    nodes
        .iter()
        .filter(|_| level <= depth)
        .map(|n| {
            if n.children.is_empty() {
                return Arc::clone(n);
            }
            let mut copy = DataNode::inner(n.schema);
            copy.default = n.default;
            copy.value = n.value.clone();
            let keys = &schema.node(n.schema).keys;
            if level < depth {
                copy.children = limit_depth(schema, &n.children, level + 1, depth).into();
            } else {
                copy.children = n
                    .children
                    .iter()
                    .filter(|c| keys.contains(&c.schema))
                    .cloned()
                    .collect();
            }
            Arc::new(copy)
        })
        .collect()
}

/// Only the `config false` nodes, with the ancestors (and list keys) that lead to them.
pub fn nonconfig(schema: &Schema, nodes: &[Arc<DataNode>]) -> Vec<Arc<DataNode>> {
    nodes.iter().filter_map(|n| state_of(schema, n)).collect()
}

fn state_of(schema: &Schema, n: &Arc<DataNode>) -> Option<Arc<DataNode>> {
    let sn = schema.node(n.schema);
    if !sn.config {
        return Some(Arc::clone(n));
    }
    if matches!(sn.kind, NodeKind::Leaf | NodeKind::LeafList) {
        return None;
    }
    let children = nonconfig(schema, &n.children);
    if children.is_empty() {
        return None;
    }
    let mut copy = DataNode::inner(n.schema);
    copy.children = n
        .children
        .iter()
        .filter(|c| sn.keys.contains(&c.schema))
        .cloned()
        .chain(children)
        .collect();
    copy.children.sort_by_key(|c| schema.order(c.schema));
    Some(Arc::new(copy))
}

/// Can the data below schema node `id` hold `config false` nodes? (None: the whole datastore.)
/// The namespace of the top-level node a resource is under (None: the datastore root): the
/// engines' state is collected for that module only.
pub fn top_namespace(schema: &Schema, id: Option<NodeId>) -> Option<&str> {
    let mut top = id?;
    while let Some(p) = schema.node(top).parent {
        top = p;
    }
    Some(schema.namespace_of(top))
}

/// A read of a resource that cannot skips collecting the state.
pub fn may_hold_state(schema: &Schema, id: Option<NodeId>) -> bool {
    let Some(id) = id else {
        return true;
    };
    if !schema.node(id).config {
        return true;
    }
    schema
        .data_children(id)
        .into_iter()
        .any(|c| may_hold_state(schema, Some(c)))
}

/// A strong entity tag of some nodes: a hash of their schema nodes and values, so equal data
/// has equal tags whatever the encoding asked for, and any change of it changes the tag.
pub fn etag(nodes: &[Arc<DataNode>]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    nodes.len().hash(&mut h);
    for n in nodes {
        hash_node(n, &mut h);
    }
    format!("\"{:016x}\"", h.finish())
}

/// The entity tags of the last few sets of configuration nodes asked for, kept while they are
/// the same nodes: a tree's nodes never change (a commit makes new ones), so the same `Arc`s
/// have the same tag, and a GET of an unchanged resource does not hash it again. The nodes
/// are held, so an address is not reused while its tag is kept.
#[derive(Default)]
pub struct TagCache {
    slots: std::sync::Mutex<TagSlots>,
}

#[derive(Default)]
struct TagSlots {
    tags: Vec<(Vec<Arc<DataNode>>, String)>,
    next: usize,
}

const TAG_SLOTS: usize = 4;

impl TagCache {
    /// [`etag`] of `nodes`.
    pub fn etag(&self, nodes: &[Arc<DataNode>]) -> String {
        let same = |held: &[Arc<DataNode>]| {
            held.len() == nodes.len() && held.iter().zip(nodes).all(|(a, b)| Arc::ptr_eq(a, b))
        };
        let Ok(slots) = self.slots.lock() else {
            return etag(nodes);
        };
        if let Some((_, tag)) = slots.tags.iter().find(|(held, _)| same(held)) {
            return tag.clone();
        }
        drop(slots);
        let tag = etag(nodes);
        let old = self.slots.lock().ok().map(|mut slots| {
            let entry = (nodes.to_vec(), tag.clone());
            if slots.tags.len() < TAG_SLOTS {
                slots.tags.push(entry);
                None
            } else {
                let i = slots.next;
                slots.next = (i + 1) % TAG_SLOTS;
                Some(std::mem::replace(&mut slots.tags[i], entry))
            }
        });
        // The nodes let go (maybe the last hold on an old configuration) are dropped here,
        // not under the lock.
        drop(old);
        tag
    }
}

fn hash_node(n: &DataNode, h: &mut impl Hasher) {
    n.schema.hash(h);
    n.value.hash(h);
    n.children.len().hash(h);
    for c in &n.children {
        hash_node(c, h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yang::data::DecodeOptions;

    fn tree(schema: &Schema, xml: &str) -> yang::data::DataTree {
        yang::data::decode(schema, xml, DecodeOptions::default()).unwrap()
    }

    #[test]
    fn depth_keeps_keys_and_cuts_below() {
        let s = yang::SchemaBuilder::new().embedded().build().unwrap();
        let t = tree(
            &s,
            r#"<interfaces xmlns="urn:ne-agent:yang:ne-interfaces"><interface><name>x0</name>
               <description>d</description></interface></interfaces>"#,
        );
        let one = limit_depth(&s, &t.roots, 1, 1);
        assert!(one[0].children.is_empty());
        let two = limit_depth(&s, &t.roots, 1, 2);
        assert_eq!(two[0].children.len(), 1);
        assert_eq!(two[0].children[0].children.len(), 1, "only the key");
        let all = limit_depth(&s, &t.roots, 1, 3);
        assert_eq!(all, t.roots);
    }

    /// Interface x0 with description `d`.
    fn described(s: &Schema, d: &str) -> yang::data::DataTree {
        tree(
            s,
            &format!(
                r#"<interfaces xmlns="urn:ne-agent:yang:ne-interfaces"><interface><name>x0</name>
                   <description>{d}</description></interface></interfaces>"#
            ),
        )
    }

    #[test]
    fn etag_follows_the_data() {
        let s = yang::SchemaBuilder::new().embedded().build().unwrap();
        let x = |d: &str| described(&s, d);
        assert_eq!(etag(&x("a").roots), etag(&x("a").roots));
        assert_ne!(etag(&x("a").roots), etag(&x("b").roots));
    }

    #[test]
    fn cached_tags_are_those_of_the_same_nodes() {
        let s = yang::SchemaBuilder::new().embedded().build().unwrap();
        let x = |d: &str| described(&s, d);
        let cache = TagCache::default();
        let (a, b) = (x("a"), x("b"));
        for _ in 0..2 {
            assert_eq!(cache.etag(&a.roots), etag(&a.roots));
            assert_eq!(cache.etag(&b.roots), etag(&b.roots));
        }
        // Equal data in other nodes has the same tag; more sets than slots are recomputed.
        let others: Vec<_> = (0..2 * TAG_SLOTS).map(|i| x(&format!("d{i}"))).collect();
        for t in others.iter().chain([&a, &x("a")]) {
            assert_eq!(cache.etag(&t.roots), etag(&t.roots));
        }
    }
}
