//! Edits of a datastore resource (RFC 8040 §4.4-§4.7): POST creates a child, PUT creates or
//! replaces, plain PATCH merges, DELETE removes. Each builds the datastore as it should be from
//! a snapshot of running and commits that through the same pipeline as NETCONF and the CLI
//! (`commit_private`: the user's access control, validation, the engines, the commit history,
//! netconf-config-change); changes committed meanwhile by others to other nodes stay, to the
//! same nodes they are a 409 conflict. A NETCONF lock on running or candidate is a 409
//! lock-denied. Nothing is changed by a refused request.

use std::sync::Arc;

use datastore::{CommitMeta, StoreError, Target};
use yang::data::{self, DataNode, DataTree, DecodeOptions, ErrorTag};
use yang::instance_id::{self, Predicate};
use yang::schema::NodeKind;
use yang::{NodeId, Schema};

use super::api::{self, preconditions, Api, Ds, Reply, Request};
use super::errors::RestError;
use super::media::Encoding;
use super::path::{self, Resource};
use super::query::{Insert, Query};
use super::{view, RESTCONF_NS};
use crate::netconf::notify;
use crate::northbound::users;

pub fn handle(api: &Api, req: &Request<'_>, ds: Ds, api_path: &str) -> Result<Reply, RestError> {
    let schema = &api.server.schema;
    let q = Query::parse(req.query)?;
    match req.method {
        "POST" | "PUT" => q.only(&["insert", "point"])?,
        _ => q.only(&[])?,
    }
    let res = path::resolve(schema, api_path)?;
    if res.all_entries {
        return Err(RestError::new(
            ErrorTag::InvalidValue,
            "an edit names one list entry by its keys (or its parent, for POST)",
        ));
    }
    let enc = req.body_encoding()?;
    if req.method == "PATCH" && enc.is_some() {
        if let Some(t) = req.header("content-type") {
            if t.to_ascii_lowercase().contains("yang-patch") {
                return super::patch::handle(api, req, ds, api_path);
            }
        }
    }
    let base = api.stored(ds)?;
    // A node the server only holds as a schema default does not exist for an edit (RFC 6243
    // §4.5.2): PUT creates it (201), POST may create it.
    let selected = api::select(schema, &base, &res)
        .filter(|n| res.is_root() || n.iter().any(|x| x.has_explicit()));
    let tag = selected.as_deref().map(view::etag);
    if let Some(r) = preconditions(req, tag.as_deref(), api.modified_ms(ds, &res), false)? {
        return Ok(r);
    }
    let exists = tag.is_some();
    let mut new = base.clone();
    let (status, location) = match req.method {
        "DELETE" => {
            if res.is_root() {
                return Err(api::not_allowed("GET, HEAD, OPTIONS, POST, PUT, PATCH"));
            }
            if !exists {
                return Err(missing(&res));
            }
            new.put(schema, &res.path, None)?;
            (204, None)
        }
        "PUT" => {
            let nodes = decode_body(schema, req, enc, &res)?;
            if res.is_root() {
                new = DataTree { roots: nodes };
            } else {
                let node = the_target(schema, &res, nodes)?;
                ensure_parents(schema, &mut new, &res.parent_path)?;
                put_at(schema, &mut new, &res, node, &q)?;
            }
            (if exists { 204 } else { 201 }, None)
        }
        "PATCH" => {
            if !exists {
                return Err(missing(&res));
            }
            let nodes = decode_body(schema, req, enc, &res)?;
            if res.is_root() {
                data::merge(schema, &mut new, DataTree { roots: nodes });
            } else {
                let node = the_target(schema, &res, nodes)?;
                let Some(old) = new.find(schema, &res.path).cloned() else {
                    return Err(missing(&res));
                };
                let mut merged = DataTree { roots: vec![old] };
                data::merge(schema, &mut merged, DataTree { roots: vec![node] });
                let node = merged.roots.pop().ok_or_else(|| missing(&res))?;
                new.put(schema, &res.path, Some(node))?;
            }
            (204, None)
        }
        "POST" => {
            if !res.is_root() && !exists {
                return Err(missing(&res));
            }
            let Some(enc) = enc else {
                return Err(RestError::new(
                    ErrorTag::MissingElement,
                    "POST needs a body: the resource to create",
                ));
            };
            let child = decode_child(schema, req, enc, &res)?;
            let child_res = Resource {
                node: Some(child.schema),
                path: format!("{}{}", res.path, step_of(schema, &child)),
                parent_path: res.path.clone(),
                all_entries: false,
            };
            if new
                .find(schema, &child_res.path)
                .is_some_and(|n| n.has_explicit())
            {
                return Err(RestError::from(
                    yang::data::DataError::new(
                        ErrorTag::DataExists,
                        "the resource to create exists already",
                    )
                    .path(child_res.path.clone()),
                ));
            }
            let location = format!(
                "/restconf{}{}",
                req.path.trim_end_matches('/'),
                api_segment(schema, res.node, &child)
            );
            put_at(schema, &mut new, &child_res, child, &q)?;
            (201, Some(location))
        }
        _ => return Err(api::not_allowed(api::ALLOW_EDIT)),
    };
    commit(api, req, ds, &base, new)?;
    let now = api.stored(ds)?;
    let mut reply =
        Reply::new(status).header("last-modified", api::http_date(api.modified_ms(ds, &res)));
    if let Some(n) = api::select(schema, &now, &res) {
        reply = reply.header("etag", view::etag(&n));
    }
    if let Some(l) = location {
        reply = reply.header("location", l);
    }
    Ok(reply)
}

/// Create the containers and list entries (with the keys the path gives) that lead to a node
/// about to be created, as an edit-config merge would.
pub fn ensure_parents(
    schema: &Schema,
    tree: &mut DataTree,
    parent_path: &str,
) -> Result<(), RestError> {
    if parent_path.is_empty() || tree.find(schema, parent_path).is_some() {
        return Ok(());
    }
    let resolver = |p: &str| data::module_for_prefix(schema, p);
    let steps = instance_id::parse(schema, parent_path, &resolver)
        .map_err(|e| RestError::new(ErrorTag::InvalidValue, e.0))?;
    for i in 0..steps.len() {
        let path = instance_id::format(schema, &steps[..=i]);
        if tree.find(schema, &path).is_some() {
            continue;
        }
        let step = &steps[i];
        let mut node = DataNode::inner(step.node);
        for p in &step.predicates {
            if let Predicate::Key { name, value, .. } = p {
                let key = schema
                    .node(step.node)
                    .keys
                    .iter()
                    .copied()
                    .find(|&k| schema.node(k).name == *name)
                    .ok_or_else(|| {
                        RestError::new(ErrorTag::InvalidValue, format!("no key '{name}'"))
                    })?;
                node.children
                    .push(Arc::new(DataNode::leaf(key, value.clone())));
            }
        }
        node.children.sort_by_key(|c| schema.order(c.schema));
        tree.put(schema, &path, Some(Arc::new(node)))?;
    }
    Ok(())
}

fn missing(res: &Resource) -> RestError {
    RestError::from(
        yang::data::DataError::new(ErrorTag::DataMissing, "the target resource does not exist")
            .path(res.path.clone()),
    )
    .with_status(404)
}

/// Put `node` at `res` (replacing what is there), placed as `insert`/`point` say when it is an
/// entry of an `ordered-by user` list or leaf-list (RFC 8040 §4.8.5, §4.8.6).
pub fn put_at(
    schema: &Schema,
    tree: &mut DataTree,
    res: &Resource,
    node: Arc<DataNode>,
    q: &Query,
) -> Result<(), RestError> {
    let Some(insert) = q.insert else {
        tree.put(schema, &res.path, Some(node))?;
        return Ok(());
    };
    let sn = schema.node(node.schema);
    if !(sn.ordered_by_user && matches!(sn.kind, NodeKind::List | NodeKind::LeafList)) {
        return Err(RestError::new(
            ErrorTag::InvalidValue,
            format!(
                "insert applies to an ordered-by user list or leaf-list; '{}' is not one",
                sn.name
            ),
        ));
    }
    let point = match &q.point {
        Some(p) => {
            let pres = path::resolve(schema, p.trim_start_matches('/'))?;
            if pres.node != Some(node.schema) || pres.parent_path != res.parent_path {
                return Err(RestError::new(
                    ErrorTag::InvalidValue,
                    format!("point '{p}' is not an entry of the same list"),
                ));
            }
            Some(pres.path)
        }
        None => None,
    };
    // Take the entry out, then put it back among its siblings where it belongs.
    tree.put(schema, &res.path, None)?;
    if res.parent_path.is_empty() {
        return place(schema, &mut tree.roots, "", node, insert, point.as_deref());
    }
    let mut parent = (**tree
        .find(schema, &res.parent_path)
        .ok_or_else(|| missing(res))?)
    .clone();
    // The siblings as one vector for the positional insert (an ordered-by-user list).
    let mut siblings = std::mem::take(&mut parent.children).into_vec();
    place(
        schema,
        &mut siblings,
        &res.parent_path,
        node,
        insert,
        point.as_deref(),
    )?;
    parent.children = siblings.into();
    tree.put(schema, &res.parent_path, Some(Arc::new(parent)))?;
    Ok(())
}

fn place(
    schema: &Schema,
    siblings: &mut Vec<Arc<DataNode>>,
    parent_path: &str,
    node: Arc<DataNode>,
    insert: Insert,
    point: Option<&str>,
) -> Result<(), RestError> {
    let id = node.schema;
    let start = siblings.partition_point(|c| schema.order(c.schema) < schema.order(id));
    let end = start + siblings[start..].partition_point(|c| c.schema == id);
    let at = match insert {
        Insert::First => start,
        Insert::Last => end,
        Insert::Before | Insert::After => {
            let want = point.unwrap_or("");
            let i = (start..end)
                .find(|&i| format!("{parent_path}{}", step_of(schema, &siblings[i])) == want)
                .ok_or_else(|| {
                    RestError::new(
                        ErrorTag::InvalidValue,
                        format!("point '{want}' does not exist"),
                    )
                })?;
            if insert == Insert::Before {
                i
            } else {
                i + 1
            }
        }
    };
    siblings.insert(at, node);
    Ok(())
}

/// The one node a PUT or PATCH body must hold: the target itself, with the URI's keys.
fn the_target(
    schema: &Schema,
    res: &Resource,
    mut nodes: Vec<Arc<DataNode>>,
) -> Result<Arc<DataNode>, RestError> {
    let want = res
        .node
        .ok_or_else(|| RestError::new(ErrorTag::InvalidValue, "no target"))?;
    if nodes.len() != 1 || nodes[0].schema != want {
        let got: Vec<&str> = nodes
            .iter()
            .map(|n| schema.node(n.schema).name.as_str())
            .collect();
        return Err(RestError::new(
            ErrorTag::InvalidValue,
            format!(
                "the body must hold the target resource '{}' alone; it holds [{}]",
                schema.node(want).name,
                got.join(", ")
            ),
        )
        .protocol());
    }
    let node = nodes.remove(0);
    let body_path = format!("{}{}", res.parent_path, step_of(schema, &node));
    if body_path != res.path {
        return Err(RestError::from(
            yang::data::DataError::new(
                ErrorTag::InvalidValue,
                format!(
                    "the key in the body ({}) is not the one in the URI ({})",
                    body_path.rsplit('/').next().unwrap_or(""),
                    res.path.rsplit('/').next().unwrap_or("")
                ),
            )
            .path(res.path.clone()),
        ));
    }
    Ok(node)
}

/// The child a POST body creates under `res`.
fn decode_child(
    schema: &Schema,
    req: &Request<'_>,
    enc: Encoding,
    res: &Resource,
) -> Result<Arc<DataNode>, RestError> {
    let child_parent = Resource {
        node: None,
        path: String::new(),
        parent_path: res.path.clone(),
        all_entries: false,
    };
    let mut nodes = decode_under(schema, req, enc, res.node, &child_parent.parent_path)?;
    if nodes.len() != 1 {
        return Err(RestError::new(
            ErrorTag::InvalidValue,
            format!(
                "a POST body holds one resource to create; this one holds {}",
                nodes.len()
            ),
        ));
    }
    Ok(nodes.remove(0))
}

/// A PUT or PATCH body: the datastore's content (in `ietf-restconf:data`) or the target.
fn decode_body(
    schema: &Schema,
    req: &Request<'_>,
    enc: Option<Encoding>,
    res: &Resource,
) -> Result<Vec<Arc<DataNode>>, RestError> {
    let Some(enc) = enc else {
        return Err(RestError::new(
            ErrorTag::MissingElement,
            "the request needs a body",
        ));
    };
    if res.is_root() {
        return decode_datastore(schema, req.body, enc);
    }
    decode_under(schema, req, enc, res.parent_node(schema), &res.parent_path)
}

fn text(body: &[u8]) -> Result<&str, RestError> {
    std::str::from_utf8(body)
        .map_err(|_| RestError::new(ErrorTag::MalformedMessage, "the body is not UTF-8"))
}

const CONFIG: DecodeOptions = DecodeOptions { config_only: true };

/// A whole datastore's content.
pub fn decode_datastore(
    schema: &Schema,
    body: &[u8],
    enc: Encoding,
) -> Result<Vec<Arc<DataNode>>, RestError> {
    let t = text(body)?;
    match enc {
        Encoding::Json => {
            let inner = super::patch::json_member(t, "ietf-restconf:data")?;
            Ok(data::json::decode(schema, &inner, CONFIG)?.roots)
        }
        Encoding::Xml => {
            let root = yang::xml::parse(t)
                .map_err(|e| RestError::new(ErrorTag::MalformedMessage, e.to_string()))?;
            if root.name != "data" || root.ns != RESTCONF_NS {
                return Err(RestError::new(
                    ErrorTag::InvalidValue,
                    format!("a datastore's content is one <data xmlns=\"{RESTCONF_NS}\"> element"),
                ));
            }
            Ok(data::decode_elements(schema, &root.children, CONFIG)?.roots)
        }
    }
}

/// Data nodes under `parent` (at `parent_path`) from a body. XML bodies are decoded inside
/// their ancestors (with the keys from the URI), so they are checked exactly where they go.
pub fn decode_under(
    schema: &Schema,
    req: &Request<'_>,
    enc: Encoding,
    parent: Option<NodeId>,
    parent_path: &str,
) -> Result<Vec<Arc<DataNode>>, RestError> {
    let t = text(req.body)?;
    match enc {
        Encoding::Json => Ok(data::json::decode_nodes(
            schema,
            t,
            parent,
            parent_path,
            CONFIG,
        )?),
        Encoding::Xml => decode_xml_under(schema, t, parent_path),
    }
}

pub fn decode_xml_under(
    schema: &Schema,
    t: &str,
    parent_path: &str,
) -> Result<Vec<Arc<DataNode>>, RestError> {
    let mut body = t.trim_start();
    if body.starts_with("<?xml") {
        body = body.find("?>").map_or("", |i| &body[i + 2..]);
    }
    let resolver = |p: &str| data::module_for_prefix(schema, p);
    let steps = instance_id::parse(schema, parent_path, &resolver)
        .map_err(|e| RestError::new(ErrorTag::InvalidValue, e.0))?;
    let (mut open, mut close) = (String::new(), String::new());
    let mut keys: Vec<NodeId> = Vec::new();
    for s in &steps {
        let ns = &schema.module(s.module).namespace;
        open.push_str(&format!(
            "<{} xmlns=\"{}\">",
            s.name,
            yang::xml::escape_attr(ns)
        ));
        keys = schema.node(s.node).keys.clone();
        for p in &s.predicates {
            if let Predicate::Key { name, value, .. } = p {
                open.push_str(&format!(
                    "<{name}>{}</{name}>",
                    yang::xml::escape_text(value)
                ));
            }
        }
        close.insert_str(0, &format!("</{}>", s.name));
    }
    // A body is one element: refuse several, or stray text, before wrapping.
    yang::xml::parse(body)
        .map_err(|e| RestError::new(ErrorTag::MalformedMessage, e.to_string()))?;
    let tree = data::decode(schema, &format!("{open}{body}{close}"), CONFIG)?;
    if steps.is_empty() {
        return Ok(tree.roots);
    }
    let parent = tree
        .find(schema, parent_path)
        .ok_or_else(|| RestError::new(ErrorTag::InvalidValue, "the body decodes to nothing"))?;
    Ok(parent
        .children
        .iter()
        .filter(|c| !keys.contains(&c.schema))
        .cloned()
        .collect())
}

/// The instance-identifier step of a node (`/p:name[p:key='v']`).
pub fn step_of(schema: &Schema, node: &DataNode) -> String {
    let sn = schema.node(node.schema);
    let prefix = &schema.module(sn.module).prefix;
    let mut s = format!("/{prefix}:{}", sn.name);
    match sn.kind {
        NodeKind::List => {
            for (&k, v) in sn.keys.iter().zip(node.keys(schema)) {
                let kn = schema.node(k);
                s.push_str(&format!(
                    "[{}:{}={}]",
                    schema.module(kn.module).prefix,
                    kn.name,
                    instance_id::quote(v)
                ));
            }
        }
        NodeKind::LeafList => {
            s.push_str(&format!(
                "[.={}]",
                instance_id::quote(node.value.as_deref().unwrap_or(""))
            ));
        }
        _ => {}
    }
    s
}

/// The api-path segment of a node under `parent` (`/module:name=key1,key2`, RFC 8040 §3.5.3).
fn api_segment(schema: &Schema, parent: Option<NodeId>, node: &DataNode) -> String {
    let sn = schema.node(node.schema);
    let mut s = String::from("/");
    if parent.is_none_or(|p| schema.node(p).module != sn.module) {
        s.push_str(&schema.module(sn.module).name);
        s.push(':');
    }
    s.push_str(&sn.name);
    let values: Vec<&str> = match sn.kind {
        NodeKind::List => node.keys(schema),
        NodeKind::LeafList => node.value.as_deref().into_iter().collect(),
        _ => Vec::new(),
    };
    if !values.is_empty() {
        s.push('=');
        let enc: Vec<String> = values.iter().map(|v| percent_encode(v)).collect();
        s.push_str(&enc.join(","));
    }
    s
}

fn percent_encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Commit `new` (made from `base`) as the request's user.
pub fn commit(
    api: &Api,
    req: &Request<'_>,
    ds: Ds,
    base: &DataTree,
    mut new: DataTree,
) -> Result<(), RestError> {
    let server = &api.server;
    let schema = &server.schema;
    users::hash_cleartext_in_tree(schema, &mut new)?;
    data::add_defaults(schema, &mut new);
    let store = &server.store;
    // A NETCONF session's lock on either datastore keeps RESTCONF edits out (RFC 8040 §1.4).
    store.check_writable(Target::Running, req.session)?;
    store.check_writable(Target::Candidate, req.session)?;
    api.with_checker(req, |check| {
        if ds == Ds::Candidate {
            store.checked(check).set_candidate(req.session, new)?;
            return Ok(());
        }
        let meta = CommitMeta {
            user: req.user.to_string(),
            session: req.session,
            comment: None,
        };
        let out = server
            .with_subscribers(|subs| store.checked(check).commit_private(base, &new, &meta, subs));
        let out = out.inspect_err(|e: &StoreError| {
            tracing::info!(user = req.user, error = %e, "restconf edit refused");
        })?;
        if out.id.is_some() {
            server.events.publish(notify::config_change(
                req.user,
                req.session,
                req.source,
                &out.changes,
            ));
        }
        Ok(())
    })
}
