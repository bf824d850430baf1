//! Data tree -> JSON, written straight into a `String` (no intermediate JSON value), in the same
//! order and views as the XML encoder: schema order, list keys first, RFC 6243 modes.

use std::sync::Arc;

use super::value::{write_string, write_value};
use crate::data::defaults::WithDefaults;
use crate::data::encode::{hidden, is_default_node};
use crate::data::{DataNode, DataTree, EncodeOptions};
use crate::schema::{ModuleId, NodeId, NodeKind, Schema};

/// The RFC 7952 annotation that marks a default (RFC 8040 §4.8.9, `report-all-tagged`).
const DEFAULT_ANNOTATION: &str = "{\"ietf-netconf-with-defaults:default\":true}";

/// The whole tree as one JSON object of module-qualified top-level members.
pub fn encode(schema: &Schema, tree: &DataTree, opts: EncodeOptions) -> String {
    let mut out = String::with_capacity(256);
    encode_nodes(schema, &tree.roots, None, opts, &mut out);
    out
}

/// Sibling nodes as one JSON object. `parent` is the schema node whose content the object is:
/// a member is module-qualified where its module differs from the parent's, and always at the
/// top level (`None`), which is what a RESTCONF resource's body starts with.
pub fn encode_nodes(
    schema: &Schema,
    nodes: &[Arc<DataNode>],
    parent: Option<NodeId>,
    opts: EncodeOptions,
    out: &mut String,
) {
    let w = Writer { schema, opts };
    let module = parent.map(|p| schema.node(p).module);
    out.push('{');
    let mut first = true;
    w.members(nodes, module, &[], &mut first, out);
    out.push('}');
}

struct Writer<'s> {
    schema: &'s Schema,
    opts: EncodeOptions,
}

impl Writer<'_> {
    /// Members for `nodes` (instances of one schema node are adjacent in a sorted tree, and
    /// become one array member), leaving out the schema nodes in `skip`.
    fn members<'n>(
        &self,
        nodes: impl IntoIterator<Item = &'n Arc<DataNode>>,
        parent_module: Option<ModuleId>,
        skip: &[NodeId],
        first: &mut bool,
        out: &mut String,
    ) {
        let mut group: Vec<&Arc<DataNode>> = Vec::new();
        for n in nodes {
            if group.first().is_some_and(|g| g.schema != n.schema) {
                if !skip.contains(&group[0].schema) {
                    self.member(&group, parent_module, first, out);
                }
                group.clear();
            }
            group.push(n);
        }
        if group.first().is_some_and(|g| !skip.contains(&g.schema)) {
            self.member(&group, parent_module, first, out);
        }
    }

    /// One member: every instance of one schema node.
    fn member(
        &self,
        group: &[&Arc<DataNode>],
        parent_module: Option<ModuleId>,
        first: &mut bool,
        out: &mut String,
    ) {
        let s = self.schema;
        let sn = s.node(group[0].schema);
        let visible = |n: &&Arc<DataNode>| !hidden(s, n, self.opts);
        let name = |out: &mut String, first: &mut bool, at: bool| {
            if !*first {
                out.push(',');
            }
            *first = false;
            out.push('"');
            if at {
                out.push('@');
            }
            if parent_module != Some(sn.module) {
                out.push_str(&s.module(sn.module).name);
                out.push(':');
            }
            out.push_str(&sn.name);
            out.push_str("\":");
        };
        let tagged = self.opts.with_defaults == WithDefaults::ReportAllTagged;
        match sn.kind {
            NodeKind::Leaf => {
                let Some(n) = group.iter().copied().find(visible) else {
                    return;
                };
                name(out, first, false);
                write_value(s, sn.ty.as_ref(), n.value.as_deref().unwrap_or(""), out);
                if tagged && is_default_node(s, n) {
                    name(out, first, true);
                    out.push_str(DEFAULT_ANNOTATION);
                }
            }
            NodeKind::LeafList => {
                let mut open = false;
                let mut any_default = false;
                for n in group.iter().copied().filter(visible) {
                    if open {
                        out.push(',');
                    } else {
                        name(out, first, false);
                        out.push('[');
                        open = true;
                    }
                    write_value(s, sn.ty.as_ref(), n.value.as_deref().unwrap_or(""), out);
                    any_default |= tagged && is_default_node(s, n);
                }
                if !open {
                    return;
                }
                out.push(']');
                if any_default {
                    // RFC 7952 §5.2.2: one entry per value, null where there is no annotation.
                    name(out, first, true);
                    out.push('[');
                    for (i, n) in group.iter().copied().filter(visible).enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        if is_default_node(s, n) {
                            out.push_str(DEFAULT_ANNOTATION);
                        } else {
                            out.push_str("null");
                        }
                    }
                    out.push(']');
                }
            }
            NodeKind::List => {
                let mut open = false;
                for n in group.iter().copied().filter(visible) {
                    if open {
                        out.push(',');
                    } else {
                        name(out, first, false);
                        out.push('[');
                        open = true;
                    }
                    self.object(n, out);
                }
                if open {
                    out.push(']');
                }
            }
            NodeKind::Container => {
                let Some(n) = group.iter().copied().find(visible) else {
                    return;
                };
                name(out, first, false);
                self.object(n, out);
            }
            NodeKind::Anydata | NodeKind::Anyxml => {
                let Some(n) = group.iter().copied().find(visible) else {
                    return;
                };
                name(out, first, false);
                self.anydata(n.value.as_deref().unwrap_or(""), out);
            }
            _ => {}
        }
    }

    /// A container or list entry as an object: list keys first, then schema order.
    fn object(&self, n: &DataNode, out: &mut String) {
        let s = self.schema;
        let sn = s.node(n.schema);
        let module = Some(sn.module);
        out.push('{');
        let mut first = true;
        for &k in &sn.keys {
            if let Some(i) = n.children.iter().position(|c| c.schema == k) {
                self.member(&[&n.children[i]], module, &mut first, out);
            }
        }
        self.members(&n.children, module, &sn.keys, &mut first, out);
        out.push('}');
    }

    /// anydata/anyxml content (kept as XML in the tree): YANG data the schema knows becomes a
    /// JSON object (RFC 7951 §5.5), bare text a JSON string; other XML content is written as a
    /// string of its XML text, since JSON has no form for it.
    fn anydata(&self, xml: &str, out: &mut String) {
        if xml.is_empty() {
            out.push_str("{}");
            return;
        }
        if !xml.contains('<') {
            let text = crate::xml::unescape(xml).unwrap_or_else(|_| xml.to_string());
            write_string(&text, out);
            return;
        }
        let modeled = crate::xml::parse_fragment(xml).ok().and_then(|els| {
            let opts = crate::data::DecodeOptions { config_only: false };
            crate::data::decode_elements(self.schema, &els, opts).ok()
        });
        match modeled {
            Some(tree) => {
                let all = EncodeOptions {
                    with_defaults: WithDefaults::Explicit,
                    config_only: false,
                };
                encode_nodes(self.schema, &tree.roots, None, all, out)
            }
            None => write_string(xml, out),
        }
    }
}
