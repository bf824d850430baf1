//! Which notifications a subscription receives: a subtree filter (RFC 5277 §3.6) or an XPath
//! expression (RFC 5277 §3.6 with :xpath, RFC 8040 §4.8.4 `filter`). One type for NETCONF's
//! create-subscription and RESTCONF's event streams.
//!
//! An XPath filter is evaluated with the root as context node; the notification's element
//! (`<state-change xmlns="urn:ne-agent:yang:ne-vrrp">...`) is the root's only child, so
//! `/ne-vrrp:state-change[ne-vrrp:new-state='master']` and `state-change/new-state='master'`
//! both select master transitions. The event passes when the result is true (XPath
//! `boolean()`: a non-empty node-set, a true comparison, ...).

use std::borrow::Cow;
use std::collections::HashMap;

use yang::xml::Element;
use yang::xpath::{self, Document, Expr};

/// A subscription's filter.
#[derive(Debug, Clone)]
pub enum EventFilter {
    /// The `<filter>` element as XML (its children are the subtree filter).
    Subtree(String),
    XPath(XPathFilter),
}

impl PartialEq for EventFilter {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (EventFilter::Subtree(a), EventFilter::Subtree(b)) => a == b,
            (EventFilter::XPath(a), EventFilter::XPath(b)) => {
                a.source == b.source && a.prefixes == b.prefixes
            }
            _ => false,
        }
    }
}

impl Eq for EventFilter {}

/// A parsed XPath filter with the namespaces its prefixes name.
#[derive(Debug, Clone)]
pub struct XPathFilter {
    source: String,
    expr: Expr,
    prefixes: HashMap<String, String>,
}

impl XPathFilter {
    /// Parse `source`; every prefix it uses must be in `prefixes`, and it must evaluate (on a
    /// document without events) without an error, so that a bad expression is refused when
    /// the subscription starts rather than silently dropping every event.
    pub fn new(source: &str, prefixes: HashMap<String, String>) -> Result<XPathFilter, String> {
        let expr = xpath::parse(source).map_err(|e| format!("invalid XPath '{source}': {e}"))?;
        if let Some(p) = xpath::referenced_prefixes(&expr)
            .into_iter()
            .find(|p| !prefixes.contains_key(p))
        {
            return Err(format!(
                "XPath '{source}': prefix '{p}' names no module or namespace"
            ));
        }
        let f = XPathFilter {
            source: source.to_string(),
            expr,
            prefixes,
        };
        f.evaluate(None)
            .map_err(|e| format!("cannot evaluate '{source}': {e}"))?;
        Ok(f)
    }

    fn evaluate(&self, event: Option<&Element>) -> Result<bool, xpath::XPathError> {
        let doc = EventDoc::new(event);
        let ctx = xpath::Context::new(&self.prefixes, "").unprefixed_any_namespace();
        xpath::evaluate_bool(&doc, &self.expr, &ctx, 0, 0)
    }
}

impl EventFilter {
    /// Does a notification's content (the event element as XML) pass?
    pub fn passes(&self, content: &str) -> bool {
        let Ok(event) = yang::xml::parse(content) else {
            return false;
        };
        match self {
            EventFilter::Subtree(f) => {
                let Ok(f) = yang::xml::parse(f) else {
                    return false;
                };
                super::filter::apply_elements(&event, &f.children).is_some()
            }
            EventFilter::XPath(x) => match x.evaluate(Some(&event)) {
                Ok(b) => b,
                Err(e) => {
                    tracing::debug!(filter = %x.source, error = %e, "event filter failed on an event");
                    false
                }
            },
        }
    }
}

/// A notification as an XPath document: node 0 is the root, the event element node 1, its
/// descendants after it in document order.
struct EventDoc<'a> {
    nodes: Vec<Node<'a>>,
}

struct Node<'a> {
    parent: Option<u32>,
    element: Option<&'a Element>,
    children: Vec<u32>,
}

impl<'a> EventDoc<'a> {
    fn new(event: Option<&'a Element>) -> EventDoc<'a> {
        let mut doc = EventDoc {
            nodes: vec![Node {
                parent: None,
                element: None,
                children: Vec::new(),
            }],
        };
        if let Some(e) = event {
            doc.add(0, e);
        }
        doc
    }

    fn add(&mut self, parent: u32, e: &'a Element) {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            parent: Some(parent),
            element: Some(e),
            children: Vec::new(),
        });
        self.nodes[parent as usize].children.push(id);
        for c in &e.children {
            self.add(id, c);
        }
    }

    fn element(&self, n: u32) -> Option<&'a Element> {
        self.nodes.get(n as usize).and_then(|x| x.element)
    }
}

impl Document for EventDoc<'_> {
    type Node = u32;

    fn root(&self) -> u32 {
        0
    }

    fn parent(&self, n: u32) -> Option<u32> {
        self.nodes.get(n as usize).and_then(|x| x.parent)
    }

    fn children(&self, n: u32) -> Vec<u32> {
        self.nodes
            .get(n as usize)
            .map(|x| x.children.clone())
            .unwrap_or_default()
    }

    fn name(&self, n: u32) -> Option<(&str, &str)> {
        self.element(n).map(|e| (e.ns.as_str(), e.name.as_str()))
    }

    /// An element without child elements is a leaf: its trimmed text is its value.
    fn value(&self, n: u32) -> Option<Cow<'_, str>> {
        let e = self.element(n)?;
        e.children.is_empty().then(|| Cow::Borrowed(e.text.trim()))
    }

    fn deref(&self, _: u32) -> Option<u32> {
        None
    }

    /// Without a schema an identity is only equal to itself (by local name).
    fn identity_derived_from(&self, n: u32, _: &str, base_name: &str, or_self: bool) -> bool {
        or_self
            && self.value(n).is_some_and(|v| {
                v.rsplit_once(':').map_or(v.as_ref(), |(_, name)| name) == base_name
            })
    }

    fn enum_value(&self, _: u32) -> Option<i64> {
        None
    }

    fn re_match(&self, value: &str, pattern: &str) -> Result<bool, String> {
        yang::pattern::Pattern::new(pattern, false)
            .map(|p| p.is_match(value))
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VRRP: &str =
        "<state-change xmlns=\"urn:ne-agent:yang:ne-vrrp\"><interface>a-ic</interface>\
                        <vrid>1</vrid><old-state>backup</old-state><new-state>master</new-state>\
                        </state-change>";

    fn xpath(s: &str) -> Result<EventFilter, String> {
        let prefixes = HashMap::from([(
            "ne-vrrp".to_string(),
            "urn:ne-agent:yang:ne-vrrp".to_string(),
        )]);
        XPathFilter::new(s, prefixes).map(EventFilter::XPath)
    }

    #[test]
    fn xpath_filters_select_events_by_name_and_content() {
        for (expr, passes) in [
            ("/ne-vrrp:state-change", true),
            ("/ne-vrrp:state-change[ne-vrrp:new-state='master']", true),
            ("state-change/new-state = 'master'", true),
            ("state-change[vrid > 1]", false),
            ("/state-change/new-state = 'backup'", false),
            ("/netconf-config-change", false),
            (
                "count(//interface) = 1 and re-match(//interface, 'a-.*')",
                true,
            ),
            ("false()", false),
        ] {
            assert_eq!(xpath(expr).unwrap().passes(VRRP), passes, "{expr}");
        }
    }

    #[test]
    fn bad_xpath_filters_are_refused_up_front() {
        for bad in [
            "/state-change[",
            "/nope:state-change",
            "no-such-function()",
            "$v",
        ] {
            assert!(xpath(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn subtree_filters_still_match_content() {
        let f = EventFilter::Subtree(
            "<filter><state-change xmlns=\"urn:ne-agent:yang:ne-vrrp\"><interface>a-ic</interface></state-change></filter>"
                .into(),
        );
        assert!(f.passes(VRRP));
        let g = EventFilter::Subtree(
            "<filter><state-change xmlns=\"urn:ne-agent:yang:ne-vrrp\"><interface>b-ic</interface></state-change></filter>"
                .into(),
        );
        assert!(!g.passes(VRRP));
    }
}
