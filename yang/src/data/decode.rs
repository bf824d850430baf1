//! XML -> data tree (RFC 7950 §7 XML encoding), with schema checks on the way in.

use std::sync::Arc;

use super::{insert_sorted, DataError, DataNode, DataTree, ErrorTag, SeqMut};
use crate::instance_id::quote;
use crate::schema::{ModuleId, NodeId, NodeKind, Schema, TypeKind};
use crate::xml::{self, Element};

#[derive(Debug, Clone, Copy, Default)]
pub struct DecodeOptions {
    /// Refuse `config false` nodes (edit-config, copy-config content).
    pub config_only: bool,
}

/// Decode a sequence of top-level elements given as XML text.
pub fn decode(schema: &Schema, text: &str, opts: DecodeOptions) -> Result<DataTree, DataError> {
    let elements = xml::parse_fragment(text)
        .map_err(|e| DataError::new(ErrorTag::MalformedMessage, e.to_string()))?;
    decode_elements(schema, &elements, opts)
}

/// Decode already-parsed top-level elements (e.g. the children of `<config>`).
pub fn decode_elements(
    schema: &Schema,
    elements: &[Element],
    opts: DecodeOptions,
) -> Result<DataTree, DataError> {
    let mut tree = DataTree::new();
    for el in elements {
        let node = decode_node(schema, el, None, "", opts)?;
        insert_child(schema, &mut tree.roots, node, "", el)?;
    }
    Ok(tree)
}

/// The module for a namespace bound in the element's scope (for values carrying prefixes).
pub(crate) fn scope_resolver<'a>(
    schema: &'a Schema,
    el: &'a Element,
) -> impl Fn(&str) -> Option<ModuleId> + 'a {
    move |prefix: &str| {
        let ns = el.lookup_prefix(prefix)?;
        schema.module_by_namespace(ns)
    }
}

/// Find the schema node for an element under `parent`, with the right error if there is none.
pub(crate) fn schema_child(
    schema: &Schema,
    parent: Option<NodeId>,
    el: &Element,
    parent_path: &str,
) -> Result<NodeId, DataError> {
    if let Some(id) = schema.find_child(parent, &el.ns, &el.name) {
        return Ok(id);
    }
    let err = if el.ns.is_empty() || schema.module_by_namespace(&el.ns).is_none() {
        DataError::new(
            ErrorTag::UnknownNamespace,
            format!(
                "element <{}> is in namespace '{}', which no loaded module defines",
                el.name, el.ns
            ),
        )
        .bad_element(&el.name)
        .info("bad-namespace", &el.ns)
    } else {
        let what = match parent {
            Some(p) => format!("under '{}'", schema.node(p).name),
            None => "at the top level".to_string(),
        };
        DataError::new(
            ErrorTag::UnknownElement,
            format!("no schema node '{}' {what}", el.name),
        )
        .bad_element(&el.name)
    };
    Err(err.path(if parent_path.is_empty() {
        "/".to_string()
    } else {
        parent_path.to_string()
    }))
}

pub(crate) fn step_name(schema: &Schema, id: NodeId) -> String {
    let n = schema.node(id);
    format!("{}:{}", schema.module(n.module).prefix, n.name)
}

/// Check and canonicalize a leaf value found in element `el`.
pub(crate) fn leaf_value(
    schema: &Schema,
    id: NodeId,
    el: &Element,
    path: &str,
) -> Result<String, DataError> {
    let n = schema.node(id);
    if !el.children.is_empty() {
        return Err(DataError::new(
            ErrorTag::BadElement,
            format!("'{}' is a leaf and cannot have child elements", n.name),
        )
        .bad_element(&n.name)
        .path(path));
    }
    let Some(ty) = &n.ty else {
        return Ok(el.text.clone());
    };
    let raw = match ty.kind {
        TypeKind::String | TypeKind::Union(_) | TypeKind::Leafref { .. } => el.text.as_str(),
        _ => el.text.trim(),
    };
    let resolver = scope_resolver(schema, el);
    let default_module = el
        .lookup_prefix("")
        .and_then(|ns| schema.module_by_namespace(ns));
    ty.canonical(schema, raw, &resolver, default_module)
        .map_err(|e| {
            let mut err = DataError::new(
                ErrorTag::InvalidValue,
                format!("invalid value for '{}': {}", n.name, e.message),
            )
            .bad_element(&n.name)
            .path(path);
            err.app_tag = e.app_tag;
            err
        })
}

fn decode_node(
    schema: &Schema,
    el: &Element,
    parent: Option<NodeId>,
    parent_path: &str,
    opts: DecodeOptions,
) -> Result<Arc<DataNode>, DataError> {
    let id = schema_child(schema, parent, el, parent_path)?;
    let sn = schema.node(id);
    let step = step_name(schema, id);
    if opts.config_only && !sn.config {
        return Err(DataError::new(
            ErrorTag::InvalidValue,
            format!(
                "'{}' is state data (config false) and cannot be configured",
                sn.name
            ),
        )
        .bad_element(&sn.name)
        .path(format!("{parent_path}/{step}")));
    }
    match sn.kind {
        NodeKind::Leaf | NodeKind::LeafList => {
            let path = format!("{parent_path}/{step}");
            let value = leaf_value(schema, id, el, &path)?;
            Ok(Arc::new(DataNode::leaf(id, value)))
        }
        NodeKind::Anydata | NodeKind::Anyxml => {
            let mut content = xml::escape_text(el.text.trim());
            for c in &el.children {
                content.push_str(&c.to_xml());
            }
            Ok(Arc::new(DataNode::leaf(id, content)))
        }
        NodeKind::Container | NodeKind::List => {
            if !el.text.trim().is_empty() {
                return Err(DataError::new(
                    ErrorTag::BadElement,
                    format!("'{}' cannot hold text", sn.name),
                )
                .bad_element(&sn.name)
                .path(format!("{parent_path}/{step}")));
            }
            let mut path = format!("{parent_path}/{step}");
            if sn.kind == NodeKind::List {
                path.push_str(&key_predicates(schema, id, el, &path)?);
            }
            let mut node = DataNode::inner(id);
            for c in &el.children {
                let child = decode_node(schema, c, Some(id), &path, opts)?;
                insert_child(schema, &mut node.children, child, &path, c)?;
            }
            Ok(Arc::new(node))
        }
        _ => Err(DataError::new(
            ErrorTag::UnknownElement,
            format!("'{}' is not a data node", sn.name),
        )
        .bad_element(&sn.name)
        .path(parent_path.to_string())),
    }
}

/// `[p:k='v']...` for a list entry element; a missing key is a `missing-element` error.
pub(crate) fn key_predicates(
    schema: &Schema,
    list: NodeId,
    el: &Element,
    path: &str,
) -> Result<String, DataError> {
    let mut out = String::new();
    for &k in &schema.node(list).keys {
        let kn = schema.node(k);
        let ns = schema.namespace_of(k);
        let Some(kel) = el.children.iter().find(|c| c.ns == ns && c.name == kn.name) else {
            return Err(DataError::new(
                ErrorTag::MissingElement,
                format!(
                    "list entry of '{}' lacks its key '{}'",
                    schema.node(list).name,
                    kn.name
                ),
            )
            .bad_element(&kn.name)
            .path(path));
        };
        let v = leaf_value(schema, k, kel, path)?;
        out.push_str(&format!("[{}={}]", step_name(schema, k), quote(&v)));
    }
    Ok(out)
}

fn insert_child<S: SeqMut + ?Sized>(
    schema: &Schema,
    siblings: &mut S,
    node: Arc<DataNode>,
    parent_path: &str,
    el: &Element,
) -> Result<(), DataError> {
    let kind = schema.node(node.schema).kind;
    let name = schema.node(node.schema).name.clone();
    insert_sorted(siblings, schema, node)
        .map(|_| ())
        .map_err(|_| {
            let what = match kind {
                NodeKind::List => "a list entry with the same keys",
                NodeKind::LeafList => "a leaf-list entry with the same value",
                _ => "this node",
            };
            DataError::new(
                ErrorTag::InvalidValue,
                format!("'{}' appears twice: {what} is already given", el.name),
            )
            .bad_element(name)
            .path(if parent_path.is_empty() {
                "/"
            } else {
                parent_path
            })
        })
}
