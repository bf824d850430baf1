//! How a configuration tree is stored: as chunks, so a commit writes what it changed.
//!
//! A chunk is either a top-most entry of an `ordered-by system` list reached through containers
//! only (`/bfd:bfd/bfd:session[bfd:name='to-b']`, with its whole subtree) or the "shell" of a
//! top-level node: that node with those list entries left out (they are chunks of their own).
//! Entries of `ordered-by user` lists stay inside their shell or entry, so their order is kept. Each chunk is kept as XML wrapped in its ancestor
//! containers, so loading a datastore is one merge of all its chunks into an empty tree.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use yang::data::{self, apply_edit, DataError, DataNode, DataTree, EditOp, EncodeOptions};
use yang::instance_id::split_steps;
use yang::xml::Element;
use yang::{NodeKind, Schema};

/// Is this a list whose entries are chunks of their own?
fn is_chunk_list(schema: &Schema, id: yang::NodeId) -> bool {
    let n = schema.node(id);
    n.kind == NodeKind::List && !n.ordered_by_user
}

/// The chunk a node (by instance-identifier) belongs to ([`ChunkKeys`] for many).
#[cfg(test)]
pub fn chunk_key(schema: &Schema, path: &str) -> String {
    let steps = split_steps(path);
    if steps.is_empty() {
        return String::new();
    }
    steps[..=cut_at(schema, path, &steps)].concat()
}

/// The last step of the chunk key of `path` (see [`chunk_key`]).
fn cut_at(schema: &Schema, path: &str, steps: &[&str]) -> usize {
    let resolver = |p: &str| data::module_for_prefix(schema, p);
    let nodes = yang::instance_id::parse(schema, path, &resolver)
        .map(|v| v.into_iter().map(|s| s.node).collect::<Vec<_>>())
        .unwrap_or_default();
    for i in 0..steps.len() {
        let Some(&id) = nodes.get(i) else { break };
        match schema.node(id).kind {
            NodeKind::List if is_chunk_list(schema, id) => return i,
            NodeKind::Container => continue,
            // A top-level leaf-list entry or user-ordered list entry is its own chunk; deeper
            // ones belong to the shell.
            _ => break,
        }
    }
    0
}

/// Chunk keys of many paths. Where a path is cut depends only on the schema nodes along it,
/// so it is worked out (the path parsed and resolved) once per path without its predicates:
/// the 10,000 entries of one list cost one parse, not 10,000.
#[derive(Default)]
pub struct ChunkKeys {
    cuts: HashMap<String, usize>,
}

impl ChunkKeys {
    pub fn key(&mut self, schema: &Schema, path: &str) -> String {
        let steps = split_steps(path);
        if steps.is_empty() {
            return String::new();
        }
        let mut names = String::with_capacity(path.len());
        for s in &steps {
            names.push_str(s.split('[').next().unwrap_or(s));
        }
        let cut = match self.cuts.get(&names) {
            Some(&i) => i,
            None => {
                let i = cut_at(schema, path, &steps);
                self.cuts.insert(names, i);
                i
            }
        };
        steps[..=cut.min(steps.len() - 1)].concat()
    }
}

fn is_entry(schema: &Schema, node: &DataNode) -> bool {
    matches!(
        schema.node(node.schema).kind,
        NodeKind::List | NodeKind::LeafList
    )
}

/// The node without the list entries below it (through containers).
fn shell(schema: &Schema, node: &DataNode) -> DataNode {
    let mut out = DataNode {
        schema: node.schema,
        value: node.value.clone(),
        children: Default::default(),
        default: node.default,
    };
    for c in &node.children {
        match schema.node(c.schema).kind {
            NodeKind::List if is_chunk_list(schema, c.schema) => {}
            NodeKind::Container => out.children.push(Arc::new(shell(schema, c))),
            _ => out.children.push(Arc::clone(c)),
        }
    }
    out
}

/// Renders many chunks of one tree: the ancestors of a chunk (the containers above a list
/// entry) are looked up once per parent path, not once per chunk.
pub struct Chunks<'t> {
    schema: &'t Schema,
    tree: &'t DataTree,
    ancestors: std::collections::HashMap<String, Option<Vec<yang::NodeId>>>,
}

impl<'t> Chunks<'t> {
    pub fn new(schema: &'t Schema, tree: &'t DataTree) -> Chunks<'t> {
        Chunks {
            schema,
            tree,
            ancestors: std::collections::HashMap::new(),
        }
    }

    /// The schema nodes of the containers along `parent` (a chunk key's parent path), if
    /// they exist in the tree.
    fn ancestors_of(&mut self, parent: &str) -> Option<Vec<yang::NodeId>> {
        if let Some(a) = self.ancestors.get(parent) {
            return a.clone();
        }
        let steps = split_steps(parent);
        let found: Option<Vec<yang::NodeId>> = (1..=steps.len())
            .map(|i| {
                self.tree
                    .find(self.schema, &steps[..i].concat())
                    .map(|a| a.schema)
            })
            .collect();
        self.ancestors.insert(parent.to_string(), found.clone());
        found
    }

    /// XML of the chunk `key`, wrapped in its ancestors; None if it does not exist.
    pub fn xml(&mut self, key: &str) -> Option<String> {
        let schema = self.schema;
        let steps = split_steps(key);
        let parent = steps[..steps.len().saturating_sub(1)].concat();
        // Without its parent (looked up once per parent) the chunk is not there either.
        let ancestors = self.ancestors_of(&parent)?;
        let node = self.tree.find(schema, key)?;
        render(schema, node, &ancestors)
    }
}

fn render(schema: &Schema, node: &Arc<DataNode>, ancestors: &[yang::NodeId]) -> Option<String> {
    let body = if is_entry(schema, node) || !ancestors.is_empty() {
        Arc::clone(node)
    } else {
        Arc::new(shell(schema, node))
    };
    let mut out = String::new();
    let mut parent_ns = "";
    for &a in ancestors {
        let ns = schema.namespace_of(a);
        out.push('<');
        out.push_str(&schema.node(a).name);
        if ns != parent_ns {
            out.push_str(&format!(" xmlns=\"{}\"", yang::xml::escape_attr(ns)));
        }
        out.push('>');
        parent_ns = ns;
    }
    let before = out.len();
    data::encode_nodes(
        schema,
        &[body],
        parent_ns,
        EncodeOptions::default(),
        &mut out,
    );
    if out.len() == before {
        return None;
    }
    for &a in ancestors.iter().rev() {
        out.push_str(&format!("</{}>", schema.node(a).name));
    }
    Some(out)
}

/// Every chunk of a tree, by key.
pub fn all_chunks(schema: &Schema, tree: &DataTree) -> BTreeMap<String, String> {
    let mut keys = Vec::new();
    for root in &tree.roots {
        collect_keys(schema, root, "", &mut keys);
    }
    let mut chunks = Chunks::new(schema, tree);
    keys.into_iter()
        .filter_map(|k| chunks.xml(&k).map(|x| (k, x)))
        .collect()
}

/// Keys of the list-entry chunks at or below the node at `path` in `tree` (what goes with it
/// when it is deleted), without rendering any chunk.
pub fn chunk_keys_under(schema: &Schema, tree: &DataTree, path: &str) -> Vec<String> {
    let Some(node) = tree.find(schema, path) else {
        return Vec::new();
    };
    let steps = split_steps(path);
    let parent = steps[..steps.len().saturating_sub(1)].concat();
    let mut keys = Vec::new();
    collect_keys(schema, node, &parent, &mut keys);
    keys
}

fn collect_keys(schema: &Schema, node: &DataNode, parent: &str, out: &mut Vec<String>) {
    let path = yang::diff::step(schema, node, parent);
    let kind = schema.node(node.schema).kind;
    // An entry of an `ordered-by user` list below the top is part of its shell or entry, not a
    // chunk of its own.
    if parent.is_empty() || is_chunk_list(schema, node.schema) {
        out.push(path.clone());
    }
    if kind == NodeKind::List {
        return;
    }
    for c in &node.children {
        if matches!(
            schema.node(c.schema).kind,
            NodeKind::List | NodeKind::Container
        ) {
            collect_keys(schema, c, &path, out);
        }
    }
}

/// Build a tree from chunk XML texts (with defaults added).
pub fn load<'a>(
    schema: &Schema,
    chunks: impl IntoIterator<Item = &'a str>,
) -> Result<DataTree, DataError> {
    let mut text = String::new();
    for c in chunks {
        text.push_str(c);
    }
    let elements = yang::xml::parse_fragment(&text)
        .map_err(|e| DataError::new(data::ErrorTag::OperationFailed, e.to_string()))?;
    // Chunks of one list repeat the containers above it: merged into one element each, the
    // edit walks down to the list once, not once per entry.
    let mut merged: Vec<Element> = Vec::new();
    for el in elements {
        absorb(schema, None, &mut merged, el);
    }
    let mut tree = DataTree::new();
    apply_edit(schema, &mut tree, &merged, EditOp::Merge)?;
    Ok(tree)
}

/// Add `el` after `siblings`, merged into the last of them when both are the same container
/// (a merge edit of the two is the merge of their contents, in order).
fn absorb(schema: &Schema, parent: Option<yang::NodeId>, siblings: &mut Vec<Element>, el: Element) {
    let container = schema
        .find_child(parent, &el.ns, &el.name)
        .filter(|&id| schema.node(id).kind == NodeKind::Container);
    if let (Some(id), Some(last)) = (container, siblings.last_mut()) {
        let same = last.ns == el.ns
            && last.name == el.name
            && last.attrs.is_empty()
            && el.attrs.is_empty()
            && last.text.trim().is_empty()
            && el.text.trim().is_empty();
        if same {
            for c in el.children {
                absorb(schema, Some(id), &mut last.children, c);
            }
            return;
        }
    }
    siblings.push(el);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_of_one_list_load_through_one_container_element() {
        let schema = yang::SchemaBuilder::new().embedded().build().unwrap();
        let mg = r#"<monitor-groups xmlns="urn:ne-agent:yang:ne-monitor-group">"#;
        let chunks: Vec<String> = (0..3)
            .map(|i| {
                format!("{mg}<monitor-group><name>g{i}</name></monitor-group></monitor-groups>")
            })
            .collect();
        let elements = yang::xml::parse_fragment(&chunks.concat()).unwrap();
        let mut merged = Vec::new();
        for el in elements {
            absorb(&schema, None, &mut merged, el);
        }
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].children.len(), 3);
        let tree = load(&schema, chunks.iter().map(String::as_str)).unwrap();
        let xml = data::encode(&schema, &tree, EncodeOptions::default());
        assert_eq!(xml.matches("<monitor-group>").count(), 3, "{xml}");
    }

    #[test]
    fn keys_stop_at_the_first_system_ordered_entry() {
        let schema = yang::SchemaBuilder::new()
            .without_embedded()
            .source(
                "x.yang",
                r#"module x { yang-version 1.1; namespace "urn:x"; prefix x;
                  container c {
                    leaf-list tags { type string; }
                    list rule { key n; ordered-by user; leaf n { type string; }
                      list inner { key k; leaf k { type string; } } }
                    list item { key n; leaf n { type string; }
                      list sub { key k; leaf k { type string; } } }
                  }
                  list top { key k; leaf k { type string; } }
                }"#,
            )
            .build()
            .unwrap();
        let key = |p: &str| chunk_key(&schema, p);
        assert_eq!(
            key("/x:c/x:item[x:n='a/b']/x:sub[x:k='1']"),
            "/x:c/x:item[x:n='a/b']"
        );
        assert_eq!(key("/x:c/x:rule[x:n='r']/x:inner[x:k='1']"), "/x:c");
        assert_eq!(key("/x:c/x:tags[.='a']"), "/x:c");
        assert_eq!(key("/x:top[x:k='1']/x:k"), "/x:top[x:k='1']");
        // The cached cut agrees with chunk_key, whatever the predicates.
        let mut keys = ChunkKeys::default();
        for p in [
            "/x:c/x:item[x:n='a/b']/x:sub[x:k='1']",
            "/x:c/x:item[x:n='c[d]']/x:sub[x:k='2']",
            "/x:c/x:item[x:n='e']",
            "/x:c/x:rule[x:n='r']/x:inner[x:k='1']",
            "/x:c/x:rule[x:n='s']/x:inner[x:k='2']",
            "/x:c/x:tags[.='a']",
            "/x:c/x:tags[.='b']",
            "/x:top[x:k='1']/x:k",
            "/x:top[x:k='2']/x:k",
            "/x:top[x:k='3']",
            "/x:c",
            "",
        ] {
            assert_eq!(keys.key(&schema, p), key(p), "{p}");
        }
    }
}
