//! Subtree filtering (RFC 6241 §6) over a data tree.

use std::sync::Arc;

use yang::data::{DataNode, DataTree};
use yang::xml::Element;
use yang::Schema;

/// The parts of `tree` the filter selects. Filter elements without a namespace match any
/// namespace (clients such as Ansible send them that way).
pub fn apply(schema: &Schema, tree: &DataTree, filter: &[Element]) -> DataTree {
    DataTree {
        roots: select(schema, &tree.roots, filter),
    }
}

fn matches(schema: &Schema, node: &DataNode, f: &Element) -> bool {
    let sn = schema.node(node.schema);
    sn.name == f.name && (f.ns.is_empty() || schema.namespace_of(node.schema) == f.ns)
}

fn is_content_match(f: &Element) -> bool {
    f.children.is_empty() && !f.text.trim().is_empty()
}

/// Select among `nodes` with the sibling filter elements `filters`.
fn select(schema: &Schema, nodes: &[Arc<DataNode>], filters: &[Element]) -> Vec<Arc<DataNode>> {
    let mut out = Vec::new();
    for node in nodes {
        let mut keep: Option<DataNode> = None;
        let mut whole = false;
        for f in filters.iter().filter(|f| matches(schema, node, f)) {
            if is_content_match(f) {
                // A content match on a leaf selects it when the value matches.
                if node.value.as_deref() == Some(f.text.trim()) {
                    whole = true;
                }
                continue;
            }
            if f.children.is_empty() {
                whole = true; // selection node
                continue;
            }
            // Containment node: every content-match child must match.
            let content: Vec<&Element> =
                f.children.iter().filter(|c| is_content_match(c)).collect();
            let ok = content.iter().all(|c| {
                node.children
                    .iter()
                    .any(|d| matches(schema, d, c) && d.value.as_deref() == Some(c.text.trim()))
            });
            if !ok {
                continue;
            }
            let others: Vec<Element> = f
                .children
                .iter()
                .filter(|c| !is_content_match(c))
                .cloned()
                .collect();
            if others.is_empty() {
                whole = true; // only content matches: the whole entry
                continue;
            }
            let mut selected = select(schema, &node.children, &others);
            if selected.is_empty() {
                continue; // a containment node appears only with selected children
            }
            // Keys and content-match leaves come along with a selected list entry.
            for d in &node.children {
                let is_key = schema.node(node.schema).keys.contains(&d.schema);
                let is_matched = content.iter().any(|c| matches(schema, d, c));
                if (is_key || is_matched) && !selected.iter().any(|s| Arc::ptr_eq(s, d)) {
                    selected.push(Arc::clone(d));
                }
            }
            let entry = keep.get_or_insert_with(|| DataNode {
                children: Default::default(),
                ..(**node).clone()
            });
            for s in selected {
                if !entry.children.iter().any(|c| Arc::ptr_eq(c, &s)) {
                    entry.children.push(s);
                }
            }
        }
        if whole {
            out.push(Arc::clone(node));
        } else if let Some(mut e) = keep {
            e.children.sort_by_key(|c| schema.order(c.schema));
            out.push(Arc::new(e));
        }
    }
    out
}

/// XPath filtering (RFC 6241 §8.9, :xpath): the selected nodes with their whole subtrees, inside
/// their ancestors (list entries keep their keys). Prefixes come from the filter element's
/// namespace declarations; unprefixed names match in any namespace.
pub fn apply_xpath(
    schema: &Schema,
    tree: &DataTree,
    select: &str,
    scope: &[(String, String)],
) -> Result<DataTree, String> {
    use yang::validate::FlatDoc;
    use yang::xpath;

    let doc = FlatDoc::new(schema, tree);
    let root = xpath::Document::root(&doc);
    let Selection { chosen, on_path } = selection(&doc, select, scope)?;
    fn build(
        schema: &Schema,
        doc: &FlatDoc<'_, '_>,
        i: u32,
        chosen: &std::collections::HashSet<u32>,
        on_path: &std::collections::HashSet<u32>,
    ) -> Option<Arc<DataNode>> {
        let d = doc.data(i)?;
        if chosen.contains(&i) {
            return Some(Arc::new(d.clone()));
        }
        if !on_path.contains(&i) {
            return None;
        }
        let keys = &schema.node(d.schema).keys;
        let children = xpath::Document::children(doc, i)
            .into_iter()
            .filter_map(|c| {
                let cd = doc.data(c)?;
                if keys.contains(&cd.schema) {
                    Some(Arc::new(cd.clone()))
                } else {
                    build(schema, doc, c, chosen, on_path)
                }
            })
            .collect();
        Some(Arc::new(DataNode {
            children,
            ..d.clone()
        }))
    }
    let roots = xpath::Document::children(&doc, root)
        .into_iter()
        .filter_map(|r| build(schema, &doc, r, &chosen, &on_path))
        .collect();
    Ok(DataTree { roots })
}

/// Subtree filtering of XML without a data tree (the content of a notification, RFC 5277 §3.6):
/// the same selection/containment/content-match rules, on elements.
pub fn apply_elements(el: &Element, filters: &[Element]) -> Option<Element> {
    let mut keep: Option<Element> = None;
    for f in filters
        .iter()
        .filter(|f| f.name == el.name && (f.ns.is_empty() || f.ns == el.ns))
    {
        if is_content_match(f) {
            if el.text.trim() == f.text.trim() {
                return Some(el.clone());
            }
            continue;
        }
        if f.children.is_empty() {
            return Some(el.clone());
        }
        let content: Vec<&Element> = f.children.iter().filter(|c| is_content_match(c)).collect();
        let ok = content.iter().all(|c| {
            el.children
                .iter()
                .any(|d| d.name == c.name && d.text.trim() == c.text.trim())
        });
        if !ok {
            continue;
        }
        let others: Vec<Element> = f
            .children
            .iter()
            .filter(|c| !is_content_match(c))
            .cloned()
            .collect();
        if others.is_empty() {
            return Some(el.clone());
        }
        let mut selected: Vec<Element> = el
            .children
            .iter()
            .filter_map(|c| apply_elements(c, &others))
            .collect();
        if selected.is_empty() {
            continue;
        }
        for c in &content {
            if let Some(d) = el.children.iter().find(|d| d.name == c.name) {
                selected.insert(0, d.clone());
            }
        }
        let out = keep.get_or_insert_with(|| Element {
            children: Vec::new(),
            ..el.clone()
        });
        out.children.extend(selected);
    }
    keep
}

/// What an XPath filter selects in a document: the chosen nodes (kept whole) and the nodes on
/// the way to them from the root (kept as containers).
struct Selection {
    chosen: std::collections::HashSet<u32>,
    on_path: std::collections::HashSet<u32>,
}

/// Evaluate a filter's `select` on `doc`. Prefixes come from the filter element's namespace
/// declarations; unprefixed names match in any namespace.
fn selection<D: yang::xpath::Document<Node = u32>>(
    doc: &D,
    select: &str,
    scope: &[(String, String)],
) -> Result<Selection, String> {
    use yang::xpath;
    let expr = xpath::parse(select).map_err(|e| format!("invalid XPath '{select}': {e}"))?;
    let prefixes: std::collections::HashMap<String, String> = scope
        .iter()
        .filter(|(p, _)| !p.is_empty())
        .cloned()
        .collect();
    let ctx = xpath::Context::new(&prefixes, "").unprefixed_any_namespace();
    let root = doc.root();
    let selected = match xpath::evaluate(doc, &expr, &ctx, root, root) {
        Ok(xpath::Value::NodeSet(s)) => s,
        Ok(_) => return Err(format!("'{select}' does not select nodes")),
        Err(e) => return Err(format!("cannot evaluate '{select}': {e}")),
    };
    let mut on_path = std::collections::HashSet::new();
    for &n in &selected {
        let mut cur = n;
        while cur != root && on_path.insert(cur) {
            cur = doc.parent(cur).unwrap_or(root);
        }
    }
    Ok(Selection {
        chosen: selected.into_iter().collect(),
        on_path,
    })
}
