//! `{+restconf}/operations` (RFC 8040 §3.3.2, §4.4.2): the device's RPCs (ne-system:rollback,
//! commit-diff, get-schema, ...), listed by GET and invoked by POST. An invocation is the same
//! RPC handler NETCONF runs, as the request's user (its access control, the commit pipeline,
//! the history and notifications), with the input and output in the request's encoding.

use std::sync::Arc;

use yang::data::{self, DataError, DataNode, EncodeOptions, ErrorTag};
use yang::schema::NodeKind;
use yang::xml::Element;
use yang::{NodeId, Schema};

use super::api::{self, Api, Reply, Request};
use super::errors::RestError;
use super::media::Encoding;
use super::query::Query;
use super::{path, RESTCONF_NS};
use crate::netconf::rpc::{self, Caller};
use crate::netconf::BASE_NS;

pub fn handle(api: &Api, req: &Request<'_>, rest: &str) -> Result<Reply, RestError> {
    let schema = &api.server.schema;
    Query::parse(req.query)?.only(&[])?;
    if rest.is_empty() {
        return match req.method {
            "GET" | "HEAD" => {
                let enc = req.reply_encoding()?;
                Ok(api::head_or_get(
                    req,
                    Reply::new(200).body(enc, list(schema, enc)),
                ))
            }
            "OPTIONS" => Ok(Reply::new(200).header("allow", api::ALLOW_READ)),
            _ => Err(api::not_allowed(api::ALLOW_READ)),
        };
    }
    let name = path::percent_decode(rest)?;
    let rpc =
        find(schema, &name).ok_or_else(|| RestError::not_found(&format!("operation '{name}'")))?;
    match req.method {
        "POST" => invoke(api, req, rpc),
        "OPTIONS" => Ok(Reply::new(200).header("allow", "POST, OPTIONS")),
        _ => Err(api::not_allowed("POST, OPTIONS")),
    }
}

fn rpcs(schema: &Schema) -> impl Iterator<Item = NodeId> + '_ {
    schema.modules.iter().flat_map(|m| m.rpcs.iter().copied())
}

fn find(schema: &Schema, name: &str) -> Option<NodeId> {
    let (module, op) = name.split_once(':')?;
    rpcs(schema).find(|&r| {
        let n = schema.node(r);
        n.name == op && schema.module(n.module).name == module
    })
}

fn list(schema: &Schema, enc: Encoding) -> String {
    let mut out = String::new();
    match enc {
        Encoding::Json => {
            out.push_str("{\"ietf-restconf:operations\":{");
            for (i, r) in rpcs(schema).enumerate() {
                let n = schema.node(r);
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&format!(
                    "\"{}:{}\":[null]",
                    schema.module(n.module).name,
                    n.name
                ));
            }
            out.push_str("}}");
        }
        Encoding::Xml => {
            out.push_str(&format!("<operations xmlns=\"{RESTCONF_NS}\">"));
            for r in rpcs(schema) {
                let n = schema.node(r);
                out.push_str(&format!(
                    "<{} xmlns=\"{}\"/>",
                    n.name,
                    yang::xml::escape_attr(&schema.module(n.module).namespace)
                ));
            }
            out.push_str("</operations>");
        }
    }
    out
}

fn child_of(schema: &Schema, rpc: NodeId, kind: NodeKind) -> Option<NodeId> {
    schema
        .node(rpc)
        .children
        .iter()
        .copied()
        .find(|&c| schema.node(c).kind == kind)
}

fn invoke(api: &Api, req: &Request<'_>, rpc_id: NodeId) -> Result<Reply, RestError> {
    let server = &api.server;
    let schema = &server.schema;
    let enc = req.reply_encoding()?;
    let sn = schema.node(rpc_id);
    let module = schema.module(sn.module);
    let ns = module.namespace.clone();
    let input = input_xml(schema, req, rpc_id, &module.name)?;
    let text = format!(
        "<rpc xmlns=\"{BASE_NS}\" message-id=\"restconf\"><{name} xmlns=\"{}\">{input}</{name}></rpc>",
        yang::xml::escape_attr(&ns),
        name = sn.name
    );
    let element = yang::xml::parse(&text)
        .map_err(|e| RestError::new(ErrorTag::MalformedMessage, e.to_string()))?;
    let caller = Caller {
        id: req.session,
        user: req.user,
        subscribed: false,
    };
    let reply = rpc::handle(server, &caller, &element);
    let reply = yang::xml::parse(&reply.xml)
        .map_err(|e| RestError::new(ErrorTag::OperationFailed, e.to_string()))?;
    let errors: Vec<DataError> = reply
        .children
        .iter()
        .filter(|c| c.name == "rpc-error")
        .map(error_of)
        .collect();
    if !errors.is_empty() {
        let mut e = RestError::from(errors);
        if e.errors
            .iter()
            .any(|x| x.tag == ErrorTag::OperationNotSupported)
        {
            e.status = 501;
        }
        return Err(e);
    }
    let out: Vec<&Element> = reply.children.iter().filter(|c| c.name != "ok").collect();
    if out.is_empty() {
        return Ok(Reply::new(204));
    }
    let body = match enc {
        Encoding::Xml => {
            let mut s = format!("<output xmlns=\"{}\">", yang::xml::escape_attr(&ns));
            for c in &out {
                s.push_str(&c.to_xml());
            }
            s.push_str("</output>");
            s
        }
        Encoding::Json => {
            let Some(output) = child_of(schema, rpc_id, NodeKind::Output) else {
                return Ok(Reply::new(204));
            };
            let nodes: Vec<Arc<DataNode>> = out
                .iter()
                .filter_map(|e| {
                    schema
                        .find_child(Some(output), &e.ns, &e.name)
                        .map(|id| element_node(schema, id, e))
                })
                .collect();
            let mut s = format!("{{\"{}:output\":", module.name);
            data::json::encode_nodes(
                schema,
                &nodes,
                Some(output),
                EncodeOptions::default(),
                &mut s,
            );
            s.push('}');
            s
        }
    };
    Ok(Reply::new(200).body(enc, body))
}

/// The RPC's input as XML content: the body's `module:input` (JSON) or `<input>` (XML),
/// decoded through the schema first so a bad input is refused with a precise error.
fn input_xml(
    schema: &Schema,
    req: &Request<'_>,
    rpc: NodeId,
    module: &str,
) -> Result<String, RestError> {
    let Some(enc) = req.body_encoding()? else {
        return Ok(String::new());
    };
    let Some(input) = child_of(schema, rpc, NodeKind::Input) else {
        return Err(RestError::new(
            ErrorTag::InvalidValue,
            "this operation takes no input",
        ));
    };
    let text = std::str::from_utf8(req.body)
        .map_err(|_| RestError::new(ErrorTag::MalformedMessage, "the body is not UTF-8"))?;
    let ns = &schema.module(schema.node(rpc).module).namespace;
    match enc {
        Encoding::Json => {
            let member = format!("{module}:input");
            let inner = super::patch::json_member(text, &member)?;
            let nodes =
                data::json::decode_nodes(schema, &inner, Some(input), "", Default::default())?;
            let mut out = String::new();
            data::encode_nodes(schema, &nodes, ns, EncodeOptions::default(), &mut out);
            Ok(out)
        }
        Encoding::Xml => {
            let el = yang::xml::parse(text)
                .map_err(|e| RestError::new(ErrorTag::MalformedMessage, e.to_string()))?;
            if el.name != "input" || &el.ns != ns {
                return Err(RestError::new(
                    ErrorTag::InvalidValue,
                    format!("the input is one <input xmlns=\"{ns}\"> element"),
                ));
            }
            Ok(el.children.iter().map(Element::to_xml).collect())
        }
    }
}

/// An element the server itself wrote (an RPC reply's output, a notification's content) as
/// the data node `id` of the schema; its values are the server's own, so already canonical.
/// Children the schema does not know are left out.
pub(super) fn element_node(schema: &Schema, id: NodeId, el: &Element) -> Arc<DataNode> {
    let node = match schema.node(id).kind {
        NodeKind::Leaf | NodeKind::LeafList => DataNode::leaf(id, el.text.trim()),
        _ => {
            let mut n = DataNode::inner(id);
            n.children = el
                .children
                .iter()
                .filter_map(|c| {
                    schema
                        .find_child(Some(id), &c.ns, &c.name)
                        .map(|cid| element_node(schema, cid, c))
                })
                .collect();
            n.children.sort_by_key(|c| schema.order(c.schema));
            n
        }
    };
    Arc::new(node)
}

/// An `<rpc-error>` as a data error.
fn error_of(e: &Element) -> DataError {
    let text = |name: &str| {
        e.children
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.text.trim().to_string())
    };
    let tag = text("error-tag")
        .and_then(|t| ErrorTag::from_name(&t))
        .unwrap_or(ErrorTag::OperationFailed);
    let mut d = DataError::new(tag, text("error-message").unwrap_or_default());
    if let Some(a) = text("error-app-tag") {
        d = d.app_tag(a);
    }
    if let Some(p) = text("error-path") {
        d = d.path(p);
    }
    if let Some(info) = e.children.iter().find(|c| c.name == "error-info") {
        for c in &info.children {
            d = d.info(&c.name, c.text.trim());
        }
    }
    d
}
