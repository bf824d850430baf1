//! Leafref paths (RFC 7950 §9.9.2): finding the schema node a path points at.

use crate::schema::{NodeId, NodeKind, PrefixTableId, Schema};

/// Steps of a path with predicates removed: (`..` or `prefix:name`).
fn steps(path: &str) -> Result<(bool, Vec<String>), String> {
    let mut clean = String::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for c in path.chars() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '[' => depth += 1,
            ']' => depth = depth.checked_sub(1).ok_or("unbalanced ']'")?,
            '\'' | '"' if depth > 0 => quote = Some(c),
            c if depth == 0 && !c.is_whitespace() => clean.push(c),
            _ => {}
        }
    }
    if depth != 0 || quote.is_some() {
        return Err("unbalanced predicate".into());
    }
    if clean.starts_with("deref(") {
        return Err("deref() in a leafref path is not supported".into());
    }
    let absolute = clean.starts_with('/');
    let parts = clean
        .trim_start_matches('/')
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .map(str::to_string)
        .collect();
    Ok((absolute, parts))
}

/// The schema node (a leaf or leaf-list) a leafref path points at, from `leaf`.
pub fn resolve_target(
    schema: &Schema,
    leaf: NodeId,
    path: &str,
    prefixes: PrefixTableId,
) -> Result<NodeId, String> {
    let (absolute, parts) = steps(path)?;
    let own_module = schema.node(leaf).module;
    // `None` stands for the root of the data tree.
    let mut cur: Option<NodeId> = if absolute { None } else { Some(leaf) };
    for part in &parts {
        if part == ".." {
            let c = cur.ok_or("'..' above the root")?;
            cur = data_parent_or_op(schema, c);
            continue;
        }
        let (module, name) = match part.split_once(':') {
            Some((p, n)) => (
                schema
                    .resolve_prefix(prefixes, p)
                    .ok_or_else(|| format!("unknown prefix '{p}'"))?,
                n,
            ),
            None => (own_module, part.as_str()),
        };
        let candidates = match cur {
            Some(c) => schema.data_children(c),
            None => all_top(schema),
        };
        let ns = &schema.module(module).namespace;
        let hit = candidates
            .iter()
            .copied()
            .find(|&c| schema.node(c).name == name && schema.namespace_of(c) == ns)
            .or_else(|| {
                // Unprefixed names inside groupings used by another module.
                (!part.contains(':'))
                    .then(|| {
                        candidates
                            .iter()
                            .copied()
                            .find(|&c| schema.node(c).name == name)
                    })
                    .flatten()
            })
            .ok_or_else(|| format!("node '{part}' not found"))?;
        cur = Some(hit);
    }
    let target = cur.ok_or("path points at the root")?;
    match schema.node(target).kind {
        NodeKind::Leaf | NodeKind::LeafList => Ok(target),
        k => Err(format!("path points at a {}, not a leaf", k.keyword())),
    }
}

fn all_top(schema: &Schema) -> Vec<NodeId> {
    let mut out = Vec::new();
    for m in &schema.modules {
        for &n in &m.data {
            out.push(n);
        }
    }
    let mut flat = Vec::new();
    for n in out {
        match schema.node(n).kind {
            NodeKind::Choice | NodeKind::Case => flat.extend(schema.data_children(n)),
            _ => flat.push(n),
        }
    }
    flat
}

/// The parent for `..`: skips choice/case; input/output and their operation count as nodes.
fn data_parent_or_op(schema: &Schema, id: NodeId) -> Option<NodeId> {
    let mut p = schema.node(id).parent;
    while let Some(pid) = p {
        match schema.node(pid).kind {
            NodeKind::Choice | NodeKind::Case => p = schema.node(pid).parent,
            _ => return Some(pid),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::steps;

    #[test]
    fn predicates_are_removed() {
        let (abs, parts) =
            steps("/if:interfaces/if:interface[if:name = current()/../ifname]/if:enabled").unwrap();
        assert!(abs);
        assert_eq!(parts, ["if:interfaces", "if:interface", "if:enabled"]);
        let (abs, parts) = steps("../../x:a[k='[]']/x:b").unwrap();
        assert!(!abs);
        assert_eq!(parts, ["..", "..", "x:a", "x:b"]);
        assert!(steps("/a[b").is_err());
    }
}
