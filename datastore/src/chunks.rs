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

/// The containers above the chunks of one parent path, rendered once: the opening tags, the
/// namespace the chunk's own node is encoded in, and the closing tags.
struct Frame<'t> {
    open: String,
    close: String,
    ns: &'t str,
    /// No containers: the chunk is a top-level node.
    top: bool,
}

/// Below this many keys under one parent, [`Chunks::prefetch`] leaves the parent alone.
const WALK_MIN: usize = 64;

/// Renders many chunks of one tree: the ancestors of a chunk (the containers above a list
/// entry) are looked up and rendered once per parent path, not once per chunk.
pub struct Chunks<'t> {
    schema: &'t Schema,
    tree: &'t DataTree,
    frames: HashMap<String, Option<Frame<'t>>>,
    /// Parents whose entries [`Chunks::prefetch`] read in one pass, and the entries it found
    /// there, by key.
    walked: std::collections::HashSet<String>,
    entries: HashMap<String, &'t Arc<DataNode>>,
}

impl<'t> Chunks<'t> {
    pub fn new(schema: &'t Schema, tree: &'t DataTree) -> Chunks<'t> {
        Chunks {
            schema,
            tree,
            frames: HashMap::new(),
            walked: Default::default(),
            entries: HashMap::new(),
        }
    }

    /// Make the chunks `keys` cheap to render: where many of them are entries under one parent
    /// (at least an eighth of its children), the parent's children are read in one pass instead
    /// of each key being parsed and searched for (an edit of 10,000 entries).
    pub fn prefetch<'k>(&mut self, keys: impl IntoIterator<Item = &'k str>) {
        let mut groups: HashMap<String, std::collections::HashSet<&'k str>> = HashMap::new();
        for key in keys {
            let steps = split_steps(key);
            if steps.len() < 2 {
                continue;
            }
            let parent = steps[..steps.len() - 1].concat();
            groups.entry(parent).or_default().insert(key);
        }
        let (schema, tree) = (self.schema, self.tree);
        for (parent, keys) in groups {
            if keys.len() < WALK_MIN || self.walked.contains(&parent) {
                continue;
            }
            let Some(node) = tree.find(schema, &parent) else {
                continue;
            };
            if keys.len() * 8 < node.children.len() {
                continue;
            }
            for c in &node.children {
                if !is_chunk_list(schema, c.schema) {
                    continue;
                }
                let key = yang::diff::step(schema, c, &parent);
                if keys.contains(key.as_str()) {
                    self.entries.insert(key, c);
                }
            }
            self.walked.insert(parent);
        }
    }

    /// The frame of the containers along `parent` (a chunk key's parent path), if they exist
    /// in the tree.
    fn frame(&mut self, parent: &str) -> Option<&Frame<'t>> {
        if !self.frames.contains_key(parent) {
            let steps = split_steps(parent);
            let ids: Option<Vec<yang::NodeId>> = (1..=steps.len())
                .map(|i| {
                    self.tree
                        .find(self.schema, &steps[..i].concat())
                        .map(|a| a.schema)
                })
                .collect();
            let frame = ids.map(|ids| frame(self.schema, &ids));
            self.frames.insert(parent.to_string(), frame);
        }
        self.frames.get(parent)?.as_ref()
    }

    /// XML of the chunk `key`, wrapped in its ancestors; None if it does not exist.
    pub fn xml(&mut self, key: &str) -> Option<String> {
        let (schema, tree) = (self.schema, self.tree);
        let steps = split_steps(key);
        let parent = steps[..steps.len().saturating_sub(1)].concat();
        let prefetched = self.entries.get(key).copied();
        // Without its parent (looked up once per parent) the chunk is not there either.
        let frame = self.frame(&parent)?;
        let node = match prefetched {
            Some(n) => n,
            None => tree.find(schema, key)?,
        };
        render(schema, node, frame)
    }
}

fn frame<'t>(schema: &'t Schema, ancestors: &[yang::NodeId]) -> Frame<'t> {
    let mut open = String::new();
    let mut ns = "";
    for &a in ancestors {
        let a_ns = schema.namespace_of(a);
        open.push('<');
        open.push_str(&schema.node(a).name);
        if a_ns != ns {
            open.push_str(" xmlns=\"");
            open.push_str(&yang::xml::escape_attr(a_ns));
            open.push('"');
        }
        open.push('>');
        ns = a_ns;
    }
    let mut close = String::new();
    for &a in ancestors.iter().rev() {
        close.push_str("</");
        close.push_str(&schema.node(a).name);
        close.push('>');
    }
    Frame {
        open,
        close,
        ns,
        top: ancestors.is_empty(),
    }
}

fn render(schema: &Schema, node: &Arc<DataNode>, frame: &Frame<'_>) -> Option<String> {
    let body = if is_entry(schema, node) || !frame.top {
        Arc::clone(node)
    } else {
        Arc::new(shell(schema, node))
    };
    let mut out = String::with_capacity(frame.open.len() + frame.close.len() + 128);
    out.push_str(&frame.open);
    let before = out.len();
    data::encode_nodes(
        schema,
        &[body],
        frame.ns,
        EncodeOptions::default(),
        &mut out,
    );
    if out.len() == before {
        return None;
    }
    out.push_str(&frame.close);
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
    fn prefetched_chunks_render_as_looked_up_ones() {
        let schema = yang::SchemaBuilder::new().embedded().build().unwrap();
        let mut xml =
            String::from(r#"<monitor-groups xmlns="urn:ne-agent:yang:ne-monitor-group">"#);
        for i in 0..200 {
            xml.push_str(&format!(
                "<monitor-group><name>g{i}</name><enabled>false</enabled></monitor-group>"
            ));
        }
        xml.push_str("</monitor-groups>");
        let tree = load(&schema, [xml.as_str()]).unwrap();
        let all = all_chunks(&schema, &tree);
        assert_eq!(all.len(), 201);
        let mut keys: Vec<String> = all.keys().cloned().collect();
        let entry = keys.iter().find(|k| k.contains("'g7'")).unwrap().clone();
        keys.push(entry.replace("'g7'", "'absent'"));
        keys.push(entry.replace("'g7'", "'g7'][x:y='1'"));
        let mut plain = Chunks::new(&schema, &tree);
        let mut fetched = Chunks::new(&schema, &tree);
        fetched.prefetch(keys.iter().map(String::as_str));
        assert_eq!(fetched.entries.len(), 200, "the list was read in one pass");
        for k in &keys {
            assert_eq!(fetched.xml(k), plain.xml(k), "{k}");
        }
        assert_eq!(
            fetched.xml(&entry).as_deref(),
            all.get(&entry).map(String::as_str)
        );
        // A few keys are looked up one by one.
        let mut few = Chunks::new(&schema, &tree);
        few.prefetch(keys.iter().take(3).map(String::as_str));
        assert!(few.entries.is_empty());
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
