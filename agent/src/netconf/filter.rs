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
                children: Vec::new(),
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

/// Subtree filtering of schema-less XML (state the agent builds without a YANG module, such as
/// netconf-state): the same selection/containment/content-match rules, on elements.
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

/// Leaves that key the lists of the schema-less state trees (netconf-state, the YANG library):
/// kept with an entry that is on the way to a selected node, as a list entry's keys are.
const STATE_KEYS: &[&str] = &[
    "name",
    "identifier",
    "version",
    "format",
    "revision",
    "session-id",
];

/// XPath filtering of schema-less XML (netconf-state, the YANG library): the selected elements
/// with their subtrees, inside their ancestors. `None` when the expression selects nothing in
/// this tree.
pub fn apply_xpath_elements(
    el: &Element,
    select: &str,
    scope: &[(String, String)],
) -> Result<Option<Element>, String> {
    let doc = ElementDoc::new(el);
    let Selection { chosen, on_path } = selection(&doc, select, scope)?;
    fn build(
        doc: &ElementDoc<'_>,
        i: u32,
        chosen: &std::collections::HashSet<u32>,
        on_path: &std::collections::HashSet<u32>,
    ) -> Option<Element> {
        let e = doc.elements[i as usize]?;
        if chosen.contains(&i) {
            return Some(e.clone());
        }
        if !on_path.contains(&i) {
            return None;
        }
        let children = doc.children[i as usize]
            .iter()
            .filter_map(|&c| {
                let ce = doc.elements[c as usize]?;
                if ce.children.is_empty() && STATE_KEYS.contains(&ce.name.as_str()) {
                    Some(ce.clone())
                } else {
                    build(doc, c, chosen, on_path)
                }
            })
            .collect();
        Some(Element {
            children,
            ..e.clone()
        })
    }
    Ok(build(&doc, 1, &chosen, &on_path))
}

/// An element tree as an XPath document: node 0 is the root, node 1 the element.
struct ElementDoc<'a> {
    elements: Vec<Option<&'a Element>>,
    parent: Vec<u32>,
    children: Vec<Vec<u32>>,
}

impl<'a> ElementDoc<'a> {
    fn new(el: &'a Element) -> ElementDoc<'a> {
        let mut d = ElementDoc {
            elements: vec![None],
            parent: vec![0],
            children: vec![Vec::new()],
        };
        d.push(el, 0);
        d
    }

    fn push(&mut self, el: &'a Element, parent: u32) {
        let i = self.elements.len() as u32;
        self.elements.push(Some(el));
        self.parent.push(parent);
        self.children.push(Vec::new());
        self.children[parent as usize].push(i);
        for c in &el.children {
            self.push(c, i);
        }
    }
}

impl yang::xpath::Document for ElementDoc<'_> {
    type Node = u32;

    fn root(&self) -> u32 {
        0
    }

    fn parent(&self, n: u32) -> Option<u32> {
        (n != 0).then(|| self.parent[n as usize])
    }

    fn children(&self, n: u32) -> Vec<u32> {
        self.children[n as usize].clone()
    }

    fn name(&self, n: u32) -> Option<(&str, &str)> {
        self.elements[n as usize].map(|e| (e.ns.as_str(), e.name.as_str()))
    }

    fn value(&self, n: u32) -> Option<std::borrow::Cow<'_, str>> {
        self.elements[n as usize]
            .filter(|e| e.children.is_empty())
            .map(|e| std::borrow::Cow::Borrowed(e.text.trim()))
    }

    fn deref(&self, _: u32) -> Option<u32> {
        None
    }

    fn identity_derived_from(&self, _: u32, _: &str, _: &str, _: bool) -> bool {
        false
    }

    fn enum_value(&self, _: u32) -> Option<i64> {
        None
    }

    fn re_match(&self, _: &str, _: &str) -> Result<bool, String> {
        Err("re-match() is not available on this state".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NCM: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring";

    fn state() -> Element {
        yang::xml::parse(&format!(
            "<netconf-state xmlns=\"{NCM}\"><schemas>\
             <schema><identifier>ne-bfd</identifier><version>1</version><format>yang</format><location>NETCONF</location></schema>\
             <schema><identifier>ne-vrrp</identifier><version>2</version><format>yang</format><location>NETCONF</location></schema>\
             </schemas><sessions><session><session-id>3</session-id><username>admin</username></session></sessions></netconf-state>"
        ))
        .expect("xml")
    }

    fn select(xpath: &str) -> Result<Option<String>, String> {
        let scope = [("ncm".to_string(), NCM.to_string())];
        apply_xpath_elements(&state(), xpath, &scope).map(|e| e.map(|e| e.to_xml()))
    }

    #[test]
    fn xpath_selects_inside_schema_less_state_with_list_keys() {
        let x = select(
            "/ncm:netconf-state/ncm:schemas/ncm:schema[ncm:identifier='ne-vrrp']/ncm:location",
        )
        .unwrap()
        .expect("selected");
        assert!(x.contains("<identifier>ne-vrrp</identifier>"), "{x}");
        assert!(
            x.contains("<version>2</version>") && x.contains("<location>"),
            "{x}"
        );
        assert!(!x.contains("ne-bfd") && !x.contains("<sessions"), "{x}");
        let x = select("/ncm:netconf-state/ncm:sessions")
            .unwrap()
            .expect("sessions");
        assert!(
            x.contains("<username>admin</username>") && !x.contains("<schemas"),
            "{x}"
        );
        assert_eq!(select("/ncm:netconf-state/ncm:bogus").unwrap(), None);
        let x = select("/netconf-state/sessions/session[session-id=3]/username")
            .unwrap()
            .expect("unprefixed names match any namespace");
        assert!(
            x.contains("<username>admin</username>") && !x.contains("<schemas"),
            "{x}"
        );
        assert!(select("/ncm:netconf-state[").is_err());
        assert!(select("count(/ncm:netconf-state)").is_err());
    }
}
