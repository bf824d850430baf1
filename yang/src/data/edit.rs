//! NETCONF `edit-config` semantics on a data tree (RFC 6241 §7.2; RFC 7950 §7.8.6 and §7.7.9 for
//! `insert` on user-ordered lists and leaf-lists).
//!
//! An edit works copy-on-write: only the path to each touched node is copied, the rest stays
//! shared with the original tree. It is atomic: on any error the caller's tree is unchanged.

use std::sync::Arc;

use super::decode::{key_predicates, leaf_value, schema_child, step_name};
use super::{
    add_defaults, find_slot, insert_sorted, instance_range, DataError, DataNode, DataTree,
    ErrorTag, SeqMut, Slot,
};
use crate::schema::{NodeId, NodeKind, Schema};
use crate::xml::{self, Element};

/// The NETCONF base namespace, where the `operation` attribute lives.
pub const NC_NS: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";
/// The YANG XML namespace, where `insert`, `key` and `value` live.
pub const YANG_NS: &str = "urn:ietf:params:xml:ns:yang:1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditOp {
    Merge,
    Replace,
    Create,
    Delete,
    Remove,
    None,
}

impl EditOp {
    pub fn parse(s: &str) -> Option<EditOp> {
        Some(match s.trim() {
            "merge" => EditOp::Merge,
            "replace" => EditOp::Replace,
            "create" => EditOp::Create,
            "delete" => EditOp::Delete,
            "remove" => EditOp::Remove,
            "none" => EditOp::None,
            _ => return None,
        })
    }
}

/// Apply the children of an `edit-config` `<config>` to `tree`.
pub fn apply_edit(
    schema: &Schema,
    tree: &mut DataTree,
    config: &[Element],
    default_op: EditOp,
) -> Result<(), DataError> {
    // default-operation replace: the <config> content becomes the whole datastore.
    let mut work = if default_op == EditOp::Replace {
        DataTree::new()
    } else {
        tree.clone()
    };
    for el in config {
        edit_in(schema, &mut work.roots, None, "", el, default_op)?;
    }
    prune_empty(schema, &mut work.roots);
    add_defaults(schema, &mut work);
    *tree = work;
    Ok(())
}

/// Drop non-presence containers left empty by deletes. Only nodes this edit copied (uniquely
/// owned) are visited; shared subtrees were valid before and are untouched.
fn prune_empty<S: SeqMut + ?Sized>(schema: &Schema, siblings: &mut S) {
    siblings.retain_owned(&mut |n| {
        let Some(node) = Arc::get_mut(n) else {
            return true;
        };
        prune_empty(schema, &mut node.children);
        let sn = schema.node(node.schema);
        !(sn.kind == NodeKind::Container && !sn.presence && node.children.is_empty())
    });
}

/// The `operation` attribute: in the NETCONF base namespace, or unqualified as Ansible's
/// documented examples write it (accepted and treated the same).
fn operation_attr(el: &Element) -> Option<&str> {
    el.attr(NC_NS, "operation")
        .or_else(|| el.attr("", "operation"))
}

fn operation(el: &Element, inherited: EditOp, path: &str) -> Result<EditOp, DataError> {
    match operation_attr(el) {
        None => Ok(inherited),
        Some(v) => EditOp::parse(v).ok_or_else(|| {
            DataError::new(ErrorTag::BadAttribute, format!("unknown operation '{v}'"))
                .info("bad-attribute", "operation")
                .bad_element(&el.name)
                .path(path)
        }),
    }
}

/// Apply element `el` (and its subtree) among `siblings`, children of schema node `parent`.
fn edit_in<S: SeqMut + ?Sized>(
    schema: &Schema,
    siblings: &mut S,
    parent: Option<NodeId>,
    parent_path: &str,
    el: &Element,
    inherited: EditOp,
) -> Result<(), DataError> {
    let id = schema_child(schema, parent, el, parent_path)?;
    let sn = schema.node(id);
    let step = step_name(schema, id);
    let mut path = format!("{parent_path}/{step}");
    if !sn.config {
        return Err(DataError::new(
            ErrorTag::InvalidValue,
            format!(
                "'{}' is state data (config false) and cannot be edited",
                sn.name
            ),
        )
        .bad_element(&sn.name)
        .path(path));
    }
    let op = operation(el, inherited, &path)?;
    // The identity of the instance: list key values, or the leaf-list value.
    let mut identity: Vec<String> = Vec::new();
    // Locate the existing instance this element addresses.
    let slot = match sn.kind {
        NodeKind::List => {
            path.push_str(&key_predicates(schema, id, el, &path)?);
            let keys: Vec<String> = schema
                .node(id)
                .keys
                .iter()
                .map(|&k| {
                    let kn = schema.node(k);
                    let kel = el
                        .children
                        .iter()
                        .find(|c| c.name == kn.name && c.ns == schema.namespace_of(k));
                    kel.map(|kel| leaf_value(schema, k, kel, &path))
                        .transpose()
                        .map(Option::unwrap_or_default)
                })
                .collect::<Result<_, _>>()?;
            identity = keys;
            let k: Vec<&str> = identity.iter().map(String::as_str).collect();
            find_slot(siblings, schema, id, &k)
        }
        NodeKind::LeafList => {
            let v = leaf_value(schema, id, el, &path)?;
            path.push_str(&format!("[.={}]", crate::instance_id::quote(&v)));
            identity = vec![v];
            find_slot(siblings, schema, id, &[identity[0].as_str()])
        }
        _ => {
            let range = instance_range(siblings, schema, id);
            if range.is_empty() {
                Slot::Insert(range.start)
            } else {
                Slot::Found(range.start)
            }
        }
    };
    let existing = match slot {
        Slot::Found(i) => Some(i),
        Slot::Insert(_) => None,
    };
    // A node the server holds only as a default counts as absent for create and delete
    // (RFC 6243 §4.5.2 for the explicit basic mode).
    let exists_explicitly = existing.is_some_and(|i| siblings.at(i).has_explicit());
    match op {
        EditOp::Create if exists_explicitly => Err(DataError::new(
            ErrorTag::DataExists,
            format!("'{}' already exists", sn.name),
        )
        .bad_element(&sn.name)
        .path(path)),
        EditOp::Delete if !exists_explicitly => Err(DataError::new(
            ErrorTag::DataMissing,
            format!("'{}' does not exist", sn.name),
        )
        .bad_element(&sn.name)
        .path(path)),
        EditOp::Delete | EditOp::Remove => {
            if let Some(i) = existing {
                siblings.remove_at(i);
            }
            Ok(())
        }
        EditOp::Replace | EditOp::Create => {
            let node = build(schema, id, el, &path)?;
            if let Some(i) = existing {
                siblings.remove_at(i);
            }
            place(schema, siblings, node, el, &path).map(|_| ())
        }
        EditOp::Merge | EditOp::None => {
            let i = match existing {
                Some(i) => i,
                None if op == EditOp::None && !has_creating_descendant(el) => {
                    // Nothing to create and nothing to delete below: a no-op.
                    return Ok(());
                }
                None => {
                    let mut fresh = DataNode::inner(id);
                    match sn.kind {
                        NodeKind::Leaf => fresh.value = Some(leaf_value(schema, id, el, &path)?),
                        NodeKind::LeafList => fresh.value = identity.first().cloned(),
                        NodeKind::List => {
                            for (&k, v) in sn.keys.iter().zip(&identity) {
                                fresh.children.push(Arc::new(DataNode::leaf(k, v.clone())));
                            }
                            fresh.children.sort_by_key(|c| schema.order(c.schema));
                        }
                        _ => {}
                    }
                    match slot {
                        // A new entry of a system-ordered list goes where the search above
                        // found its place: one search per entry (an edit of 10,000 new entries
                        // searched three times for each).
                        Slot::Insert(at)
                            if matches!(sn.kind, NodeKind::List | NodeKind::LeafList)
                                && !sn.ordered_by_user
                                && el.attr(YANG_NS, "insert").is_none() =>
                        {
                            siblings.insert_at(at, Arc::new(fresh));
                            at
                        }
                        _ => place(schema, siblings, Arc::new(fresh), el, &path)?,
                    }
                }
            };
            if op == EditOp::None && siblings.at(i).value.is_some() {
                // A leaf under "none" is only an address.
                return Ok(());
            }
            let node = Arc::make_mut(siblings.at_mut(i));
            if op == EditOp::Merge {
                node.default = false;
            }
            match sn.kind {
                NodeKind::Leaf | NodeKind::LeafList => {
                    if op == EditOp::Merge {
                        node.value = Some(leaf_value(schema, id, el, &path)?);
                    }
                    Ok(())
                }
                NodeKind::Anydata | NodeKind::Anyxml => {
                    node.value = Some(anydata_content(el));
                    Ok(())
                }
                _ => {
                    for c in &el.children {
                        edit_in(schema, &mut node.children, Some(id), &path, c, op)?;
                    }
                    // A user-ordered entry that is merged may also be moved.
                    if el.attr(YANG_NS, "insert").is_some() {
                        let moved = siblings.remove_at(i);
                        place(schema, siblings, moved, el, &path)?;
                    }
                    Ok(())
                }
            }
        }
    }
}

/// Does this element (or a descendant) ask for something to be created or changed?
fn has_creating_descendant(el: &Element) -> bool {
    match operation_attr(el).and_then(EditOp::parse) {
        Some(EditOp::Merge | EditOp::Replace | EditOp::Create) => true,
        Some(EditOp::Delete) => true,
        _ => el.children.iter().any(has_creating_descendant),
    }
}

fn anydata_content(el: &Element) -> String {
    let mut content = xml::escape_text(el.text.trim());
    for c in &el.children {
        content.push_str(&c.to_xml());
    }
    content
}

/// Build a whole new subtree from `el` (replace/create), honouring nested operations: inside a
/// created subtree, `delete` is an error (nothing exists) and `remove` is a no-op.
fn build(
    schema: &Schema,
    id: NodeId,
    el: &Element,
    path: &str,
) -> Result<Arc<DataNode>, DataError> {
    let sn = schema.node(id);
    match sn.kind {
        NodeKind::Leaf | NodeKind::LeafList => Ok(Arc::new(DataNode::leaf(
            id,
            leaf_value(schema, id, el, path)?,
        ))),
        NodeKind::Anydata | NodeKind::Anyxml => {
            Ok(Arc::new(DataNode::leaf(id, anydata_content(el))))
        }
        _ => {
            let mut node = DataNode::inner(id);
            for c in &el.children {
                let op = operation(c, EditOp::Merge, path)?;
                match op {
                    EditOp::Remove => continue,
                    EditOp::Delete => {
                        return Err(DataError::new(
                            ErrorTag::DataMissing,
                            format!("'{}' does not exist", c.name),
                        )
                        .bad_element(&c.name)
                        .path(path))
                    }
                    _ => edit_in(schema, &mut node.children, Some(id), path, c, op)?,
                }
            }
            Ok(Arc::new(node))
        }
    }
}

/// Insert a node, honouring `yang:insert` for user-ordered lists and leaf-lists; where it went.
fn place<S: SeqMut + ?Sized>(
    schema: &Schema,
    siblings: &mut S,
    node: Arc<DataNode>,
    el: &Element,
    path: &str,
) -> Result<usize, DataError> {
    let sn = schema.node(node.schema);
    let insert = el.attr(YANG_NS, "insert");
    if !sn.ordered_by_user || insert.is_none() {
        if insert.is_some() {
            return Err(DataError::new(
                ErrorTag::BadAttribute,
                format!(
                    "'{}' is not ordered-by user; insert does not apply",
                    sn.name
                ),
            )
            .info("bad-attribute", "insert")
            .bad_element(&sn.name)
            .path(path));
        }
        return insert_sorted(siblings, schema, node)
            .map_err(|_| DataError::new(ErrorTag::DataExists, "entry already exists").path(path));
    }
    let range = instance_range(siblings, schema, node.schema);
    let at = match insert.unwrap_or("last") {
        "first" => range.start,
        "last" => range.end,
        pos @ ("before" | "after") => {
            let anchor_attr = if sn.kind == NodeKind::List {
                "key"
            } else {
                "value"
            };
            let Some(anchor) = el.attr(YANG_NS, anchor_attr) else {
                return Err(DataError::new(
                    ErrorTag::MissingAttribute,
                    format!("insert=\"{pos}\" needs the '{anchor_attr}' attribute"),
                )
                .info("bad-attribute", anchor_attr)
                .bad_element(&sn.name)
                .path(path));
            };
            let found = range
                .clone()
                .find(|&i| matches_anchor(schema, siblings.at(i), anchor));
            let Some(i) = found else {
                return Err(DataError::new(
                    ErrorTag::BadAttribute,
                    format!("the entry named by {anchor_attr}=\"{anchor}\" does not exist"),
                )
                .app_tag("missing-instance")
                .info("bad-attribute", anchor_attr)
                .bad_element(&sn.name)
                .path(path));
            };
            if pos == "before" {
                i
            } else {
                i + 1
            }
        }
        other => {
            return Err(DataError::new(
                ErrorTag::BadAttribute,
                format!("insert=\"{other}\" is not first, last, before or after"),
            )
            .info("bad-attribute", "insert")
            .bad_element(&sn.name)
            .path(path))
        }
    };
    siblings.insert_at(at, node);
    Ok(at)
}

/// `yang:key="[k1='a'][k2='b']"` (list) or `yang:value="v"` (leaf-list) against an entry.
fn matches_anchor(schema: &Schema, entry: &DataNode, anchor: &str) -> bool {
    let sn = schema.node(entry.schema);
    if sn.kind == NodeKind::LeafList {
        return entry.value.as_deref() == Some(anchor);
    }
    let keys = entry.keys(schema);
    let mut values = Vec::new();
    let mut rest = anchor.trim();
    while let Some(start) = rest.find('[') {
        let Some(eq) = rest[start..].find('=') else {
            return false;
        };
        let after = rest[start + eq + 1..].trim_start();
        let Some(q) = after.chars().next() else {
            return false;
        };
        let Some(end) = after[1..].find(q) else {
            return false;
        };
        values.push(&after[1..end + 1]);
        let Some(close) = after[end + 2..].find(']') else {
            return false;
        };
        rest = &after[end + 2 + close + 1..];
    }
    values == keys
}
