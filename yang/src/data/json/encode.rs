//! Data tree -> JSON, written straight into a `String` (no intermediate JSON value), in the same
//! order and views as the XML encoder: schema order, list keys first, RFC 6243 modes.

use std::cell::RefCell;
use std::sync::Arc;

use super::value::{write_string, write_value};
use crate::data::defaults::WithDefaults;
use crate::data::encode::{hidden, is_default_node};
use crate::data::overlay::{Laid, Overlay, Pair};
use crate::data::RowTable;
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
    let w = Writer::new(schema, opts);
    let nodes: Vec<&DataNode> = nodes.iter().map(|n| &**n).collect();
    w.object_of(&nodes, parent, out);
}

/// What [`encode_nodes`] writes for the siblings `base` with `add` merged into them as
/// [`crate::data::merge`] would (operational state over the configuration), without building the
/// merged nodes. False (and `out` as it was) where the merge is not the one-pass join that
/// this reads ([`crate::data::merge`] takes such input node by node): merge, then encode.
pub fn encode_overlay(
    schema: &Schema,
    base: &[Arc<DataNode>],
    add: &[Arc<DataNode>],
    parent: Option<NodeId>,
    opts: EncodeOptions,
    out: &mut String,
) -> bool {
    encode_overlay_rows(schema, base, add, &[], parent, opts, out)
}

/// [`encode_overlay`] with state that also has the rows of `tables` (each a list's entries
/// below the containers of `add` that [`RowTable::chain`] names): what merging `add` with the
/// rows laid in ([`crate::data::lay_rows`]) and then encoding writes. False (and `out` as it
/// was) also where a table's containers are not in `add`.
pub fn encode_overlay_rows(
    schema: &Schema,
    base: &[Arc<DataNode>],
    add: &[Arc<DataNode>],
    tables: &[&RowTable],
    parent: Option<NodeId>,
    opts: EncodeOptions,
    out: &mut String,
) -> bool {
    let held = |t: &&RowTable| {
        let (top, below) = t
            .chain()
            .split_first()
            .expect("a table's list has a parent");
        let mut at = add.iter().find(|n| n.schema == *top);
        for id in below {
            at = at.and_then(|n| n.children.iter().find(|c| c.schema == *id));
        }
        at.is_some()
    };
    if !tables.iter().all(held) {
        return false;
    }
    let overlay = Overlay::new(schema, tables);
    let mut nodes = Vec::new();
    overlay.siblings(schema, base, add, &mut nodes);
    let start = out.len();
    if !overlay.failed() {
        Writer::new(schema, opts).object_of(&nodes, parent, out);
    }
    if overlay.failed() {
        out.truncate(start);
        return false;
    }
    true
}

/// What the writer reads of a node: one of a tree, or one of two trees laid over each other.
trait Shown<'a>: Copy + 'a {
    fn id(self) -> NodeId;
    fn value(self) -> Option<&'a str>;
    /// Left out of the view `opts` (see `crate::data::encode::hidden`).
    fn hidden(self, schema: &Schema, opts: EncodeOptions) -> bool;
    /// A leaf or leaf-list entry that is a default (RFC 6243).
    fn is_default(self, schema: &Schema) -> bool;
    /// Append the children, in order, to `out`.
    fn children(self, schema: &Schema, out: &mut Vec<Self>);
}

impl<'a> Shown<'a> for &'a DataNode {
    fn id(self) -> NodeId {
        self.schema
    }

    fn value(self) -> Option<&'a str> {
        self.value.as_deref()
    }

    fn hidden(self, schema: &Schema, opts: EncodeOptions) -> bool {
        hidden(schema, self, opts)
    }

    fn is_default(self, schema: &Schema) -> bool {
        is_default_node(schema, self)
    }

    fn children(self, _: &Schema, out: &mut Vec<Self>) {
        out.extend(self.children.iter().map(|c| &**c));
    }
}

impl<'a> Shown<'a> for Laid<'a> {
    fn id(self) -> NodeId {
        self.schema()
    }

    fn value(self) -> Option<&'a str> {
        Laid::value(self)
    }

    /// A node of one tree as it is; a merged container or list entry as `hidden` would see it.
    fn hidden(self, schema: &Schema, opts: EncodeOptions) -> bool {
        if let Pair::One(n) = self.node {
            return hidden(schema, n, opts);
        }
        let sn = schema.node(self.schema());
        if opts.config_only && !sn.config {
            return true;
        }
        match opts.with_defaults {
            WithDefaults::ReportAll | WithDefaults::ReportAllTagged => false,
            WithDefaults::Explicit => !self.has_explicit(schema),
            WithDefaults::Trim => match sn.kind {
                NodeKind::Leaf | NodeKind::LeafList => Shown::is_default(self, schema),
                NodeKind::Container if !sn.presence => {
                    let mut kids = Vec::new();
                    self.children(schema, &mut kids);
                    kids.into_iter().all(|c| Shown::hidden(c, schema, opts))
                }
                _ => false,
            },
        }
    }

    fn is_default(self, schema: &Schema) -> bool {
        match self.node {
            Pair::One(n) => is_default_node(schema, n),
            // A leaf of a row: a default when it has the schema's default value.
            Pair::Cell(t, r, c) => {
                let d = schema.default_of(t.columns()[c]);
                d.is_some() && d == t.cell(r, c)
            }
            // Only containers and list entries are in both trees.
            Pair::Both(..) | Pair::Grown(_) | Pair::Row(..) => false,
        }
    }

    fn children(self, schema: &Schema, out: &mut Vec<Self>) {
        Laid::children(self, schema, out)
    }
}

struct Writer<'s, N> {
    schema: &'s Schema,
    opts: EncodeOptions,
    /// Children buffers, reused from object to object.
    spare: RefCell<Vec<Vec<N>>>,
}

impl<'s, 'a, N: Shown<'a>> Writer<'s, N> {
    fn new(schema: &'s Schema, opts: EncodeOptions) -> Self {
        Writer {
            schema,
            opts,
            spare: RefCell::new(Vec::new()),
        }
    }

    /// Sibling nodes as one object; `parent` as in [`encode_nodes`].
    fn object_of(&self, nodes: &[N], parent: Option<NodeId>, out: &mut String) {
        let module = parent.map(|p| self.schema.node(p).module);
        out.push('{');
        let mut first = true;
        self.members(nodes, module, &[], &mut first, out);
        out.push('}');
    }

    /// Members for `nodes` (instances of one schema node are adjacent in a sorted tree, and
    /// become one array member), leaving out the schema nodes in `skip`.
    fn members(
        &self,
        nodes: &[N],
        parent_module: Option<ModuleId>,
        skip: &[NodeId],
        first: &mut bool,
        out: &mut String,
    ) {
        let mut start = 0;
        for i in 1..=nodes.len() {
            if i < nodes.len() && nodes[i].id() == nodes[start].id() {
                continue;
            }
            if !skip.contains(&nodes[start].id()) {
                self.member(&nodes[start..i], parent_module, first, out);
            }
            start = i;
        }
    }

    /// One member: every instance of one schema node.
    fn member(
        &self,
        group: &[N],
        parent_module: Option<ModuleId>,
        first: &mut bool,
        out: &mut String,
    ) {
        let s = self.schema;
        let sn = s.node(group[0].id());
        let visible = |n: &N| !n.hidden(s, self.opts);
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
                write_value(s, sn.ty.as_ref(), n.value().unwrap_or(""), out);
                if tagged && n.is_default(s) {
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
                    write_value(s, sn.ty.as_ref(), n.value().unwrap_or(""), out);
                    any_default |= tagged && n.is_default(s);
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
                        if n.is_default(s) {
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
                anydata(s, n.value().unwrap_or(""), out);
            }
            _ => {}
        }
    }

    /// A container or list entry as an object: list keys first, then schema order.
    fn object(&self, n: N, out: &mut String) {
        let s = self.schema;
        let sn = s.node(n.id());
        let module = Some(sn.module);
        let mut kids = self.spare.borrow_mut().pop().unwrap_or_default();
        n.children(s, &mut kids);
        out.push('{');
        let mut first = true;
        for &k in &sn.keys {
            if let Some(i) = kids.iter().position(|c| c.id() == k) {
                self.member(&kids[i..=i], module, &mut first, out);
            }
        }
        self.members(&kids, module, &sn.keys, &mut first, out);
        out.push('}');
        kids.clear();
        self.spare.borrow_mut().push(kids);
    }
}

/// anydata/anyxml content (kept as XML in the tree): YANG data the schema knows becomes a
/// JSON object (RFC 7951 §5.5), bare text a JSON string; other XML content is written as a
/// string of its XML text, since JSON has no form for it.
fn anydata(schema: &Schema, xml: &str, out: &mut String) {
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
        crate::data::decode_elements(schema, &els, opts).ok()
    });
    match modeled {
        Some(tree) => {
            let all = EncodeOptions {
                with_defaults: WithDefaults::Explicit,
                config_only: false,
            };
            encode_nodes(schema, &tree.roots, None, all, out)
        }
        None => write_string(xml, out),
    }
}
