//! The `fields` query parameter (RFC 8040 §4.8.3): `a/b(c;d);e` selects descendants of the
//! target resource; what is not selected is left out (list entries keep their keys).

use std::sync::Arc;

use yang::data::{DataError, DataNode, ErrorTag};
use yang::{NodeId, Schema};

use super::errors::RestError;

/// Selected names below one node; `all` when the node was named as a whole.
#[derive(Debug, Default, PartialEq, Eq)]
struct Trie {
    all: bool,
    children: Vec<(String, Trie)>,
}

fn bad(m: String) -> RestError {
    RestError::from(DataError::new(ErrorTag::InvalidValue, m).info("bad-attribute", "fields"))
}

/// The paths an expression names, one per selected node (`a/b/c`, `a/b/d`, `e`).
fn expand(expr: &str) -> Result<Vec<String>, RestError> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    let mut items = Vec::new();
    for (i, c) in expr.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ';' if depth == 0 => {
                items.push(&expr[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return Err(bad(format!("fields '{expr}' has an unbalanced ')'")));
        }
    }
    if depth != 0 {
        return Err(bad(format!("fields '{expr}' has an unbalanced '('")));
    }
    items.push(&expr[start..]);
    for item in items {
        let item = item.trim();
        match item.find('(') {
            Some(open) => {
                let Some(inner) = item[open + 1..].strip_suffix(')') else {
                    return Err(bad(format!("fields: '{item}' has text after its ')'")));
                };
                let prefix = item[..open].trim_end_matches('/');
                if prefix.is_empty() {
                    return Err(bad(format!("fields: '{item}' has no path before '('")));
                }
                for p in expand(inner)? {
                    out.push(format!("{prefix}/{p}"));
                }
            }
            None if item.is_empty() || item.split('/').any(str::is_empty) => {
                return Err(bad(format!("fields '{expr}' has an empty path")))
            }
            None => out.push(item.to_string()),
        }
    }
    Ok(out)
}

fn build(paths: &[String]) -> Trie {
    let mut root = Trie::default();
    for p in paths {
        let mut t = &mut root;
        for seg in p.split('/') {
            let i = match t.children.iter().position(|(n, _)| n == seg) {
                Some(i) => i,
                None => {
                    t.children.push((seg.to_string(), Trie::default()));
                    t.children.len() - 1
                }
            };
            t = &mut t.children[i].1;
        }
        t.all = true;
    }
    root
}

/// Does a name from the expression (`name` or `module:name`) name schema node `id`?
fn names(schema: &Schema, name: &str, id: NodeId) -> bool {
    let sn = schema.node(id);
    match name.split_once(':') {
        Some((m, n)) => n == sn.name && schema.module(sn.module).name == m,
        None => name == sn.name,
    }
}

/// Every name must name a data node where it stands.
fn check(schema: &Schema, parent: Option<NodeId>, t: &Trie) -> Result<(), RestError> {
    let candidates = match parent {
        Some(p) => schema.data_children(p),
        None => schema.top_data_nodes(),
    };
    for (name, sub) in &t.children {
        let Some(&id) = candidates.iter().find(|&&c| names(schema, name, c)) else {
            return Err(bad(format!("fields: no data node '{name}' here")));
        };
        check(schema, Some(id), sub)?;
    }
    Ok(())
}

/// The target nodes (or, for the datastore, its top-level nodes) with only what `expr` selects.
pub fn select(
    schema: &Schema,
    target: Option<NodeId>,
    nodes: &[Arc<DataNode>],
    expr: &str,
) -> Result<Vec<Arc<DataNode>>, RestError> {
    let trie = build(&expand(expr)?);
    check(schema, target, &trie)?;
    if target.is_none() {
        return Ok(keep(schema, nodes, &trie, &[]));
    }
    Ok(nodes
        .iter()
        .map(|n| {
            let mut copy = (**n).clone();
            copy.children = keep(schema, &n.children, &trie, &schema.node(n.schema).keys).into();
            Arc::new(copy)
        })
        .collect())
}

fn keep(schema: &Schema, nodes: &[Arc<DataNode>], t: &Trie, keys: &[NodeId]) -> Vec<Arc<DataNode>> {
    let mut out = Vec::new();
    for n in nodes {
        if keys.contains(&n.schema) {
            out.push(Arc::clone(n));
            continue;
        }
        let Some((_, sub)) = t
            .children
            .iter()
            .find(|(name, _)| names(schema, name, n.schema))
        else {
            continue;
        };
        if sub.all {
            out.push(Arc::clone(n));
            continue;
        }
        let children = keep(schema, &n.children, sub, &schema.node(n.schema).keys);
        let own_keys = &schema.node(n.schema).keys;
        if children.iter().any(|c| !own_keys.contains(&c.schema)) {
            let mut copy = (**n).clone();
            copy.children = children.into();
            out.push(Arc::new(copy));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_nested_expressions() {
        assert_eq!(
            expand("a/b(c;d/e);f").unwrap(),
            vec!["a/b/c", "a/b/d/e", "f"]
        );
        assert_eq!(expand("x(y(z;w))").unwrap(), vec!["x/y/z", "x/y/w"]);
        for bad in ["a(b", "a)b", "a;;b", "(b)", "a(b)c"] {
            assert!(expand(bad).is_err(), "{bad}");
        }
    }
}
