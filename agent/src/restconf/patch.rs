//! YANG Patch (RFC 8072): a PATCH with `application/yang-patch+json` or `+xml` carries an
//! ordered list of edits of the target resource. They are applied in order to one copy of the
//! datastore and committed as one change: if any edit fails, the reply's `yang-patch-status`
//! names that edit with its errors and nothing is applied.

use std::sync::Arc;

use yang::data::json::{parse, write_string, Value};
use yang::data::{self, DataError, DataNode, DataTree, ErrorTag};
use yang::xml::Element;
use yang::Schema;

use super::api::{self, preconditions, Api, Ds, Reply, Request};
use super::edit::{self, step_of};
use super::errors::RestError;
use super::media::Encoding;
use super::path;
use super::query::{Insert, Query};
use super::view;

pub const YANG_PATCH_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-yang-patch";

/// RFC 8072 §2.5 edit operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Create,
    Delete,
    Insert,
    Merge,
    Move,
    Replace,
    Remove,
}

impl Op {
    fn named(s: &str) -> Option<Op> {
        Some(match s {
            "create" => Op::Create,
            "delete" => Op::Delete,
            "insert" => Op::Insert,
            "merge" => Op::Merge,
            "move" => Op::Move,
            "replace" => Op::Replace,
            "remove" => Op::Remove,
            _ => return None,
        })
    }
}

/// One edit as it came, its value still in the body's encoding.
struct Edit {
    id: String,
    op: Op,
    target: String,
    point: Option<String>,
    place: Option<Insert>,
    value: Option<Body>,
}

enum Body {
    Json(String),
    Xml(String),
}

struct Patch {
    id: String,
    comment: Option<String>,
    edits: Vec<Edit>,
}

fn bad(m: impl Into<String>) -> RestError {
    RestError::new(ErrorTag::InvalidValue, m)
}

fn malformed(m: impl Into<String>) -> RestError {
    RestError::new(ErrorTag::MalformedMessage, m)
}

/// A JSON value written back as text (for a member to decode on its own).
pub fn value_text(v: &Value<'_>, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(n),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                value_text(x, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (k, x)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                value_text(x, out);
            }
            out.push('}');
        }
    }
}

/// The text of the one member `name` of a JSON object body (the member alone: `Err` names
/// what it should have been).
pub fn json_member(text: &str, name: &str) -> Result<String, RestError> {
    let v = parse(text).map_err(|e| malformed(e.to_string()))?;
    match &v {
        Value::Object(m) if m.len() == 1 && m[0].0 == name => {
            let mut out = String::new();
            value_text(&m[0].1, &mut out);
            Ok(out)
        }
        _ => Err(bad(format!("the body is one \"{name}\" member"))),
    }
}

fn parse_json(text: &str) -> Result<Patch, RestError> {
    let v = parse(text).map_err(|e| malformed(e.to_string()))?;
    let Value::Object(top) = &v else {
        return Err(bad(
            "a YANG Patch is one \"ietf-yang-patch:yang-patch\" object",
        ));
    };
    let Some((_, Value::Object(p))) = top.iter().find(|(k, _)| k == "ietf-yang-patch:yang-patch")
    else {
        return Err(bad(
            "a YANG Patch is one \"ietf-yang-patch:yang-patch\" object",
        ));
    };
    let string = |m: &[(std::borrow::Cow<'_, str>, Value<'_>)], name: &str| -> Option<String> {
        m.iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| match v {
                Value::String(s) => Some(s.to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    };
    let id = string(p, "patch-id").ok_or_else(|| bad("the patch has no patch-id"))?;
    let mut edits = Vec::new();
    if let Some((_, v)) = p.iter().find(|(k, _)| k == "edit") {
        let Value::Array(items) = v else {
            return Err(bad("edit is a list (a JSON array)"));
        };
        for item in items {
            let Value::Object(e) = item else {
                return Err(bad("an edit is an object"));
            };
            let eid = string(e, "edit-id").ok_or_else(|| bad("an edit has no edit-id"))?;
            let op = string(e, "operation")
                .and_then(|o| Op::named(&o))
                .ok_or_else(|| bad(format!("edit {eid}: operation is not one of RFC 8072's")))?;
            let target =
                string(e, "target").ok_or_else(|| bad(format!("edit {eid} has no target")))?;
            let value = e.iter().find(|(k, _)| k == "value").map(|(_, v)| {
                let mut s = String::new();
                value_text(v, &mut s);
                Body::Json(s)
            });
            edits.push(Edit {
                place: where_of(string(e, "where").as_deref(), &eid)?,
                point: string(e, "point"),
                id: eid,
                op,
                target,
                value,
            });
        }
    }
    Ok(Patch {
        id,
        comment: string(p, "comment"),
        edits,
    })
}

fn where_of(w: Option<&str>, eid: &str) -> Result<Option<Insert>, RestError> {
    Ok(match w {
        None => None,
        Some("before") => Some(Insert::Before),
        Some("after") => Some(Insert::After),
        Some("first") => Some(Insert::First),
        Some("last") => Some(Insert::Last),
        Some(o) => return Err(bad(format!("edit {eid}: where '{o}'"))),
    })
}

fn parse_xml(text: &str) -> Result<Patch, RestError> {
    let root = yang::xml::parse(text).map_err(|e| malformed(e.to_string()))?;
    if root.name != "yang-patch" || root.ns != YANG_PATCH_NS {
        return Err(bad(format!(
            "a YANG Patch is one <yang-patch xmlns=\"{YANG_PATCH_NS}\">"
        )));
    }
    let leaf = |e: &Element, n: &str| {
        e.children
            .iter()
            .find(|c| c.name == n)
            .map(|c| c.text.trim().to_string())
    };
    let id = leaf(&root, "patch-id").ok_or_else(|| bad("the patch has no patch-id"))?;
    let mut edits = Vec::new();
    for e in root.children.iter().filter(|c| c.name == "edit") {
        let eid = leaf(e, "edit-id").ok_or_else(|| bad("an edit has no edit-id"))?;
        let op = leaf(e, "operation")
            .and_then(|o| Op::named(&o))
            .ok_or_else(|| bad(format!("edit {eid}: operation is not one of RFC 8072's")))?;
        let target = leaf(e, "target").ok_or_else(|| bad(format!("edit {eid} has no target")))?;
        let value = e
            .children
            .iter()
            .find(|c| c.name == "value")
            .map(|v| Body::Xml(v.children.iter().map(Element::to_xml).collect()));
        edits.push(Edit {
            place: where_of(leaf(e, "where").as_deref(), &eid)?,
            point: leaf(e, "point"),
            id: eid,
            op,
            target,
            value,
        });
    }
    Ok(Patch {
        id,
        comment: leaf(&root, "comment"),
        edits,
    })
}

pub fn handle(api: &Api, req: &Request<'_>, ds: Ds, api_path: &str) -> Result<Reply, RestError> {
    let schema = &api.server.schema;
    Query::parse(req.query)?.only(&[])?;
    let enc = req.reply_encoding()?;
    let text = std::str::from_utf8(req.body).map_err(|_| malformed("the body is not UTF-8"))?;
    let body_enc = req.body_encoding()?.unwrap_or(Encoding::Json);
    let patch = match body_enc {
        Encoding::Json => parse_json(text)?,
        Encoding::Xml => parse_xml(text)?,
    };
    let res = path::resolve(schema, api_path)?;
    let base = api.stored(ds)?;
    let tag = api::select(schema, &base, &res).map(|n| view::etag(&n));
    if let Some(r) = preconditions(req, tag.as_deref(), api.modified_ms(ds, &res), false)? {
        return Ok(r);
    }
    let mut new = base.clone();
    for e in &patch.edits {
        if let Err(err) = apply(schema, &mut new, api_path, e) {
            return Ok(status_reply(
                schema,
                enc,
                &patch,
                Some((&e.id, &err)),
                err.status,
            ));
        }
    }
    if let Err(err) = edit::commit(api, req, ds, &base, new) {
        let body = status_body(schema, enc, &patch, None, Some(&err));
        return Ok(Reply::new(err.status).body(enc, body));
    }
    tracing::info!(user = req.user, patch = %patch.id, comment = ?patch.comment, edits = patch.edits.len(), "yang patch committed");
    let now = api.stored(ds)?;
    let mut r = status_reply(schema, enc, &patch, None, 200)
        .header("last-modified", api::http_date(api.modified_ms(ds, &res)));
    if let Some(n) = api::select(schema, &now, &res) {
        r = r.header("etag", view::etag(&n));
    }
    Ok(r)
}

/// Apply one edit to `tree`.
fn apply(schema: &Schema, tree: &mut DataTree, api_path: &str, e: &Edit) -> Result<(), RestError> {
    let target = e.target.trim_start_matches('/');
    let full = match (api_path.trim_end_matches('/'), target) {
        (p, "") => p.to_string(),
        ("", t) => t.to_string(),
        (p, t) => format!("{p}/{t}"),
    };
    let res = path::resolve(schema, &full)?;
    if res.is_root() || res.all_entries {
        return Err(bad(format!(
            "edit {}: the target names no single data node",
            e.id
        )));
    }
    let exists = tree
        .find(schema, &res.path)
        .is_some_and(|n| n.has_explicit());
    let at = |d: DataError| RestError::from(d.path(res.path.clone()));
    let node = || -> Result<Arc<DataNode>, RestError> {
        let nodes = match &e.value {
            None => {
                return Err(at(DataError::new(
                    ErrorTag::MissingElement,
                    format!("edit {}: {:?} needs a value", e.id, e.op),
                )))
            }
            Some(Body::Json(t)) => data::json::decode_nodes(
                schema,
                t,
                res.parent_node(schema),
                &res.parent_path,
                data::DecodeOptions { config_only: true },
            )?,
            Some(Body::Xml(t)) => edit::decode_xml_under(schema, t, &res.parent_path)?,
        };
        match nodes.as_slice() {
            [n] if format!("{}{}", res.parent_path, step_of(schema, n)) == res.path => {
                Ok(Arc::clone(n))
            }
            _ => Err(at(DataError::new(
                ErrorTag::InvalidValue,
                format!(
                    "edit {}: the value must be the target node alone, with the target's keys",
                    e.id
                ),
            ))),
        }
    };
    match e.op {
        Op::Create | Op::Insert if exists => {
            return Err(at(DataError::new(
                ErrorTag::DataExists,
                "the target exists already",
            )))
        }
        Op::Delete | Op::Move if !exists => {
            return Err(at(DataError::new(
                ErrorTag::DataMissing,
                "the target does not exist",
            )))
        }
        _ => {}
    }
    if !matches!(e.op, Op::Delete | Op::Remove | Op::Move) {
        edit::ensure_parents(schema, tree, &res.parent_path)?;
    }
    match e.op {
        Op::Delete | Op::Remove => tree.put(schema, &res.path, None)?,
        Op::Create | Op::Replace => tree.put(schema, &res.path, Some(node()?))?,
        Op::Merge => {
            let new = node()?;
            let merged = match tree.find(schema, &res.path).cloned() {
                Some(old) => {
                    let mut t = DataTree { roots: vec![old] };
                    data::merge(schema, &mut t, DataTree { roots: vec![new] });
                    t.roots.pop().ok_or_else(|| bad("merge lost the node"))?
                }
                None => new,
            };
            tree.put(schema, &res.path, Some(merged))?;
        }
        Op::Insert | Op::Move => {
            let n = match e.op {
                Op::Insert => node()?,
                _ => tree
                    .find(schema, &res.path)
                    .cloned()
                    .ok_or_else(|| bad("gone"))?,
            };
            let point = e.point.as_ref().map(|p| {
                let rel = p.trim_start_matches('/');
                match api_path.trim_end_matches('/') {
                    "" => rel.to_string(),
                    base => format!("{base}/{rel}"),
                }
            });
            let q = Query {
                insert: Some(e.place.unwrap_or(Insert::Last)),
                point,
                ..Query::default()
            };
            edit::put_at(schema, tree, &res, n, &q)?;
        }
    }
    Ok(())
}

fn status_reply(
    schema: &Schema,
    enc: Encoding,
    patch: &Patch,
    failed: Option<(&str, &RestError)>,
    status: u16,
) -> Reply {
    let body = status_body(schema, enc, patch, failed, None);
    Reply::new(status).body(enc, body)
}

/// `yang-patch-status` (RFC 8072 §2.3): ok, the errors of the edit that failed, or the
/// patch's own errors.
fn status_body(
    schema: &Schema,
    enc: Encoding,
    patch: &Patch,
    failed: Option<(&str, &RestError)>,
    global: Option<&RestError>,
) -> String {
    // The errors object as RFC 8040 writes it, without its outer member name.
    let errors = |e: &RestError| -> String {
        let full = e.body(schema, enc);
        match enc {
            Encoding::Json => full
                .strip_prefix("{\"ietf-restconf:errors\":")
                .and_then(|s| s.strip_suffix('}'))
                .unwrap_or(&full)
                .to_string(),
            Encoding::Xml => full,
        }
    };
    match enc {
        Encoding::Json => {
            let mut s = String::from("{\"ietf-yang-patch:yang-patch-status\":{\"patch-id\":");
            write_string(&patch.id, &mut s);
            match (failed, global) {
                (Some((id, e)), _) => {
                    s.push_str(",\"edit-status\":{\"edit\":[{\"edit-id\":");
                    write_string(id, &mut s);
                    s.push_str(",\"errors\":");
                    s.push_str(&errors(e));
                    s.push_str("}]}");
                }
                (None, Some(e)) => {
                    s.push_str(",\"errors\":");
                    s.push_str(&errors(e));
                }
                (None, None) => s.push_str(",\"ok\":[null]"),
            }
            s.push_str("}}");
            s
        }
        Encoding::Xml => {
            let mut s = format!(
                "<yang-patch-status xmlns=\"{YANG_PATCH_NS}\"><patch-id>{}</patch-id>",
                yang::xml::escape_text(&patch.id)
            );
            match (failed, global) {
                (Some((id, e)), _) => s.push_str(&format!(
                    "<edit-status><edit><edit-id>{}</edit-id>{}</edit></edit-status>",
                    yang::xml::escape_text(id),
                    errors(e)
                )),
                (None, Some(e)) => s.push_str(&errors(e)),
                (None, None) => s.push_str("<ok/>"),
            }
            s.push_str("</yang-patch-status>");
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_encodings_alike() {
        let j = parse_json(
            r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p","edit":[
                {"edit-id":"1","operation":"merge","target":"/x","value":{"a:b":{"c":1}}},
                {"edit-id":"2","operation":"delete","target":"/y"}]}}"#,
        )
        .unwrap();
        assert_eq!(j.id, "p");
        assert_eq!(j.edits.len(), 2);
        assert!(matches!(&j.edits[0].value, Some(Body::Json(t)) if t == r#"{"a:b":{"c":1}}"#));
        let x = parse_xml(&format!(
            r#"<yang-patch xmlns="{YANG_PATCH_NS}"><patch-id>p</patch-id>
               <edit><edit-id>1</edit-id><operation>remove</operation><target>/x</target></edit></yang-patch>"#
        ))
        .unwrap();
        assert_eq!(x.edits[0].op, Op::Remove);
        assert!(parse_json(r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p","edit":[{"edit-id":"1","operation":"frob","target":"/"}]}}"#).is_err());
    }
}
