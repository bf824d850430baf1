//! How a configuration tree is stored: as chunks, so a commit writes what it changed.
//!
//! A chunk is either a top-most list entry (`/bfd:bfd/bfd:session[bfd:name='to-b']`, with its
//! whole subtree) or the "shell" of a top-level node: that node with every list entry below it
//! left out (those are chunks of their own). Each chunk is kept as XML wrapped in its ancestor
//! containers, so loading a datastore is one merge of all its chunks into an empty tree.

use std::collections::BTreeMap;
use std::sync::Arc;

use yang::data::{self, apply_edit, DataError, DataNode, DataTree, EditOp, EncodeOptions};
use yang::instance_id::split_steps;
use yang::{NodeKind, Schema};

/// The chunk a node (by instance-identifier) belongs to.
pub fn chunk_key(path: &str) -> String {
    let steps = split_steps(path);
    for (i, s) in steps.iter().enumerate() {
        if let Some(p) = s.find('[') {
            if !s[p..].starts_with("[.") || i == 0 {
                return steps[..=i].concat();
            }
        }
    }
    steps.first().map(|s| s.to_string()).unwrap_or_default()
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
        children: Vec::new(),
        default: node.default,
    };
    for c in &node.children {
        match schema.node(c.schema).kind {
            NodeKind::List => {}
            NodeKind::Container => out.children.push(Arc::new(shell(schema, c))),
            _ => out.children.push(Arc::clone(c)),
        }
    }
    out
}

/// XML of the chunk `key` in `tree`, wrapped in its ancestors; None if it does not exist.
pub fn chunk_xml(schema: &Schema, tree: &DataTree, key: &str) -> Option<String> {
    let node = tree.find(schema, key)?;
    let steps = split_steps(key);
    let mut ancestors = Vec::new();
    for i in 1..steps.len() {
        let a = tree.find(schema, &steps[..i].concat())?;
        ancestors.push(a.schema);
    }
    let body = if is_entry(schema, node) || !ancestors.is_empty() {
        Arc::clone(node)
    } else {
        Arc::new(shell(schema, node))
    };
    let mut out = String::new();
    let mut parent_ns = "";
    for &a in &ancestors {
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
    keys.into_iter()
        .filter_map(|k| chunk_xml(schema, tree, &k).map(|x| (k, x)))
        .collect()
}

fn step_of(schema: &Schema, node: &DataNode, parent: &str) -> String {
    let sn = schema.node(node.schema);
    let mut s = format!("{parent}/{}:{}", schema.module(sn.module).prefix, sn.name);
    if sn.kind == NodeKind::List {
        for (&k, v) in sn.keys.iter().zip(node.keys(schema)) {
            let kn = schema.node(k);
            s.push_str(&format!(
                "[{}:{}={}]",
                schema.module(kn.module).prefix,
                kn.name,
                yang::instance_id::quote(v)
            ));
        }
    } else if sn.kind == NodeKind::LeafList {
        s.push_str(&format!(
            "[.={}]",
            yang::instance_id::quote(node.value.as_deref().unwrap_or(""))
        ));
    }
    s
}

fn collect_keys(schema: &Schema, node: &DataNode, parent: &str, out: &mut Vec<String>) {
    let path = step_of(schema, node, parent);
    let kind = schema.node(node.schema).kind;
    if parent.is_empty() || kind == NodeKind::List {
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
    let mut tree = DataTree::new();
    apply_edit(schema, &mut tree, &elements, EditOp::Merge)?;
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stop_at_the_first_list_entry() {
        assert_eq!(
            chunk_key("/bfd:bfd/bfd:session[bfd:name='a/b']/bfd:detect-multiplier"),
            "/bfd:bfd/bfd:session[bfd:name='a/b']"
        );
        assert_eq!(
            chunk_key("/mc:multicast/mc:routing-enable"),
            "/mc:multicast"
        );
        assert_eq!(chunk_key("/x:c/x:tags[.='a']"), "/x:c");
        assert_eq!(
            chunk_key("/x:top[x:k='1']/x:inner[x:j='2']"),
            "/x:top[x:k='1']"
        );
    }
}
