//! Data tree -> XML, deterministic (schema order; list keys first), with RFC 6243 views.

use std::sync::Arc;

use super::defaults::{default_value, WithDefaults};
use super::{DataNode, DataTree};
use crate::schema::{ModuleId, NodeId, NodeKind, Schema, TypeKind};
use crate::xml::{escape_attr_into, escape_text_into};

/// Namespace of the RFC 6243 `default` attribute.
pub const WD_NS: &str = "urn:ietf:params:xml:ns:netconf:default:1.0";

#[derive(Debug, Clone, Copy, Default)]
pub struct EncodeOptions {
    pub with_defaults: WithDefaults,
    /// Leave out `config false` nodes.
    pub config_only: bool,
}

/// Encode the whole tree as a sequence of top-level elements.
pub fn encode(schema: &Schema, tree: &DataTree, opts: EncodeOptions) -> String {
    let mut out = String::new();
    encode_nodes(schema, &tree.roots, "", opts, &mut out);
    out
}

/// Encode sibling nodes whose parent element is in namespace `parent_ns`.
pub fn encode_nodes(
    schema: &Schema,
    nodes: &[Arc<DataNode>],
    parent_ns: &str,
    opts: EncodeOptions,
    out: &mut String,
) {
    for n in nodes {
        encode_node(schema, n, parent_ns, opts, out);
    }
}

/// Is a node left out of this view?
pub(crate) fn hidden(schema: &Schema, node: &DataNode, opts: EncodeOptions) -> bool {
    let sn = schema.node(node.schema);
    if opts.config_only && !sn.config {
        return true;
    }
    match opts.with_defaults {
        WithDefaults::ReportAll | WithDefaults::ReportAllTagged => false,
        WithDefaults::Explicit => !node.has_explicit(),
        WithDefaults::Trim => match sn.kind {
            NodeKind::Leaf | NodeKind::LeafList => is_default_node(schema, node),
            NodeKind::Container if !sn.presence => {
                node.children.iter().all(|c| hidden(schema, c, opts))
            }
            _ => false,
        },
    }
}

/// Is this leaf or leaf-list entry a "default" in the RFC 6243 sense (left out by `trim`, tagged
/// by `report-all-tagged`)? A leaf is when its value equals the schema default; a leaf-list entry
/// when the server created it from the schema defaults (a leaf-list's defaults apply only as a
/// whole set, so an explicitly set entry is never one).
pub(crate) fn is_default_node(schema: &Schema, node: &DataNode) -> bool {
    match schema.node(node.schema).kind {
        NodeKind::Leaf => is_default_value(schema, node),
        NodeKind::LeafList => node.default,
        _ => false,
    }
}

fn is_default_value(schema: &Schema, node: &DataNode) -> bool {
    match (default_value(schema, node.schema), &node.value) {
        (Some(d), Some(v)) => &d == v,
        _ => false,
    }
}

fn encode_node(
    schema: &Schema,
    node: &DataNode,
    parent_ns: &str,
    opts: EncodeOptions,
    out: &mut String,
) {
    if hidden(schema, node, opts) {
        return;
    }
    let sn = schema.node(node.schema);
    let ns = schema.namespace_of(node.schema);
    out.push('<');
    out.push_str(&sn.name);
    if ns != parent_ns {
        out.push_str(" xmlns=\"");
        escape_attr_into(ns, out);
        out.push('"');
    }
    match sn.kind {
        NodeKind::Leaf | NodeKind::LeafList => {
            let value = node.value.as_deref().unwrap_or("");
            for (prefix, pns) in value_prefixes(schema, node.schema, value) {
                out.push_str(&format!(" xmlns:{prefix}=\""));
                escape_attr_into(&pns, out);
                out.push('"');
            }
            if opts.with_defaults == WithDefaults::ReportAllTagged && is_default_node(schema, node)
            {
                out.push_str(&format!(" xmlns:wd=\"{WD_NS}\" wd:default=\"true\""));
            }
            if value.is_empty() {
                out.push_str("/>");
            } else {
                out.push('>');
                escape_text_into(value, out);
                close(out, &sn.name);
            }
        }
        NodeKind::Anydata | NodeKind::Anyxml => {
            let value = node.value.as_deref().unwrap_or("");
            if value.is_empty() {
                out.push_str("/>");
            } else {
                out.push('>');
                // Already serialized XML content.
                out.push_str(value);
                close(out, &sn.name);
            }
        }
        _ => {
            // Children in output order (list keys first), each left out if hidden; an element
            // left with no content is written empty.
            out.push('>');
            let open = out.len();
            let keys = &sn.keys;
            for &k in keys {
                if let Some(c) = node.children.iter().find(|c| c.schema == k) {
                    encode_node(schema, c, ns, opts, out);
                }
            }
            for c in &node.children {
                if !keys.contains(&c.schema) {
                    encode_node(schema, c, ns, opts, out);
                }
            }
            if out.len() == open {
                out.truncate(open - 1);
                out.push_str("/>");
            } else {
                close(out, &sn.name);
            }
        }
    }
}

fn close(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Namespace declarations a value needs (identityref and instance-identifier prefixes).
fn value_prefixes(schema: &Schema, id: NodeId, value: &str) -> Vec<(String, String)> {
    let Some(ty) = &schema.node(id).ty else {
        return Vec::new();
    };
    if !carries_prefixes(schema, &ty.kind) || !value.contains(':') {
        return Vec::new();
    }
    let mut out: Vec<(String, String)> = Vec::new();
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'-' | b'.'))
            {
                i += 1;
            }
            let preceded_ok = start == 0 || matches!(bytes[start - 1], b'/' | b'[' | b' ');
            if preceded_ok && bytes.get(i) == Some(&b':') {
                let prefix = &value[start..i];
                if let Some(m) = module_for_prefix(schema, prefix) {
                    if !out.iter().any(|(p, _)| p == prefix) {
                        out.push((prefix.to_string(), schema.module(m).namespace.clone()));
                    }
                }
            }
        } else if c == b'\'' || c == b'"' {
            // Skip quoted predicate values.
            i += 1;
            while i < bytes.len() && bytes[i] != c {
                i += 1;
            }
        }
        i += 1;
    }
    out
}

fn carries_prefixes(schema: &Schema, kind: &TypeKind) -> bool {
    match kind {
        TypeKind::IdentityRef(_) | TypeKind::InstanceIdentifier { .. } => true,
        TypeKind::Union(m) => m.iter().any(|t| carries_prefixes(schema, &t.kind)),
        // A leafref's value is its target's: an identity's prefix needs declaring too.
        TypeKind::Leafref {
            target: Some(t), ..
        } => schema
            .node(*t)
            .ty
            .as_ref()
            .is_some_and(|tt| carries_prefixes(schema, &tt.kind)),
        _ => false,
    }
}

/// The module that uses `prefix` as its own prefix (implemented modules first).
pub fn module_for_prefix(schema: &Schema, prefix: &str) -> Option<ModuleId> {
    let mut fallback = None;
    for (i, m) in schema.modules.iter().enumerate() {
        if m.prefix == prefix {
            if m.implemented {
                return Some(ModuleId(i as u32));
            }
            fallback.get_or_insert(ModuleId(i as u32));
        }
    }
    fallback
}
