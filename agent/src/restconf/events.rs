//! Event streams as server-sent events (RFC 8040 §6): the NETCONF stream (configuration
//! changes, the engines' notifications, ...) at `{+restconf}/streams/NETCONF/xml` and `/json`,
//! with replay from `start-time`, an end at `stop-time`, and the user's access control
//! (RFC 8341 §3.4.6) and the `filter` query parameter (an XPath expression, RFC 8040 §4.8.4)
//! applied to every event.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Frame;
use tokio::sync::{broadcast, mpsc};
use yang::data::{EncodeOptions, ErrorTag};
use yang::xml::Element;
use yang::{NodeId, Schema};

use super::api::{Api, Request};
use super::errors::RestError;
use super::media::Encoding;
use super::query::Query;
use super::server::Body;
use crate::clock::{now_ms, rfc3339};
use crate::netconf::event_filter::{EventFilter, XPathFilter};
use crate::netconf::notify::{self, Event};
use crate::netconf::server::Server;

/// The stream's locations (RFC 8040 §9.3 `access/location`), below `{+restconf}`.
pub const NETCONF_XML: &str = "/streams/NETCONF/xml";
pub const NETCONF_JSON: &str = "/streams/NETCONF/json";

/// The body of an event stream: chunks as the forwarding task sends them.
struct Events(mpsc::Receiver<Bytes>);

impl hyper::body::Body for Events {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|c| c.map(|b| Ok(Frame::data(b))))
    }
}

/// A request for a stream: Some(the streaming reply, or why not); None for other resources.
pub fn open(api: &Api, req: &Request<'_>) -> Option<Result<hyper::Response<Body>, RestError>> {
    let enc = match req.path {
        NETCONF_XML => Encoding::Xml,
        NETCONF_JSON => Encoding::Json,
        _ => return None,
    };
    Some(start(api, req, enc))
}

fn start(api: &Api, req: &Request<'_>, enc: Encoding) -> Result<hyper::Response<Body>, RestError> {
    if req.method != "GET" {
        return Err(super::api::not_allowed("GET"));
    }
    let q = Query::parse(req.query)?;
    q.only(&["start-time", "stop-time", "filter"])?;
    let time = |name: &str, v: &Option<String>| -> Result<Option<u64>, RestError> {
        v.as_deref()
            .map(|t| {
                notify::parse_time(t).ok_or_else(|| {
                    RestError::new(
                        ErrorTag::InvalidValue,
                        format!("{name} '{t}' is not a date-and-time"),
                    )
                })
            })
            .transpose()
    };
    let (start, stop) = (
        time("start-time", &q.start_time)?,
        time("stop-time", &q.stop_time)?,
    );
    if stop.is_some() && start.is_none() {
        return Err(RestError::new(
            ErrorTag::InvalidValue,
            "stop-time needs start-time",
        ));
    }
    if let (Some(a), Some(b)) = (start, stop) {
        if b < a {
            return Err(RestError::new(
                ErrorTag::InvalidValue,
                "stop-time is before start-time",
            ));
        }
    }
    let filter = q
        .filter
        .as_deref()
        .map(|f| {
            XPathFilter::new(f, prefixes(&api.server.schema))
                .map(EventFilter::XPath)
                .map_err(|m| RestError::new(ErrorTag::InvalidValue, m))
        })
        .transpose()?;
    if start.is_some_and(|s| s > now_ms() + 1000) {
        return Err(RestError::new(
            ErrorTag::InvalidValue,
            "start-time is in the future",
        ));
    }
    let server = Arc::clone(&api.server);
    // Subscribe before reading the replay log, so nothing falls between the two.
    let live = server.events.subscribe();
    let replay = start
        .map(|s| server.events.replay(s, stop))
        .unwrap_or_default();
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let reader = Reader {
        server,
        user: req.user.to_string(),
        enc,
        filter,
    };
    tokio::spawn(forward(reader, replay, live, start.map(|_| stop), tx));
    let resp = hyper::Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Events(rx).boxed())
        .map_err(|e| RestError::new(ErrorTag::OperationFailed, e.to_string()))?;
    Ok(resp)
}

/// Who reads a stream, in which encoding, through which filter.
struct Reader {
    server: Arc<Server>,
    user: String,
    enc: Encoding,
    filter: Option<EventFilter>,
}

/// Send the replay, then live events, each as the user may receive it. `stop` is
/// Some(stop-time) for a replay subscription (which ends there).
async fn forward(
    reader: Reader,
    replay: Vec<Event>,
    mut live: broadcast::Receiver<Event>,
    stop: Option<Option<u64>>,
    tx: mpsc::Sender<Bytes>,
) {
    let user = &reader.user;
    let last_replayed = replay.last().map(|e| e.time_ms);
    for e in &replay {
        if !send(&reader, e, &tx).await {
            return;
        }
    }
    if let Some(Some(stop_ms)) = stop {
        if stop_ms <= now_ms() {
            return;
        }
    }
    let mut keepalive = tokio::time::interval(Duration::from_secs(30));
    keepalive.tick().await;
    loop {
        let deadline = match stop {
            Some(Some(s)) => Duration::from_millis(s.saturating_sub(now_ms())),
            _ => Duration::from_secs(3600),
        };
        tokio::select! {
            r = live.recv() => match r {
                Ok(e) => {
                    // Published after subscribing and also in the replay: already sent.
                    if last_replayed.is_some_and(|t| e.time_ms <= t) && replay.contains(&e) {
                        continue;
                    }
                    if !send(&reader, &e, &tx).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(%user, missed = n, "restconf event stream fell behind");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = keepalive.tick() => {
                if tx.send(Bytes::from_static(b": keep-alive\n\n")).await.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep(deadline), if matches!(stop, Some(Some(_))) => return,
        }
    }
}

async fn send(reader: &Reader, e: &Event, tx: &mpsc::Sender<Bytes>) -> bool {
    let Reader {
        server,
        user,
        enc,
        filter,
    } = reader;
    let allowed = match e.kind() {
        Some((ns, name)) => server
            .access
            .may_receive(user, server.is_recovery(user), ns, name),
        None => true,
    };
    if !allowed || filter.as_ref().is_some_and(|f| !f.passes(&e.content)) {
        return true;
    }
    let text = match enc {
        Encoding::Xml => e.to_xml(),
        Encoding::Json => json_event(&server.schema, e),
    };
    let mut chunk = format!("id: {}\n", e.time_ms);
    for line in text.lines() {
        chunk.push_str("data: ");
        chunk.push_str(line);
        chunk.push('\n');
    }
    chunk.push('\n');
    tx.send(Bytes::from(chunk)).await.is_ok()
}

/// The prefixes a `filter` expression may use (RFC 8040 §4.8.4 leaves them open): every
/// module's name, as in the JSON encoding and api-paths, and the modules of the notifications
/// the server sends without a schema of their own. Unprefixed names match any namespace.
fn prefixes(schema: &Schema) -> HashMap<String, String> {
    let mut p: HashMap<String, String> = schema
        .modules
        .iter()
        .map(|m| (m.name.clone(), m.namespace.clone()))
        .collect();
    p.entry("ietf-netconf-notifications".into())
        .or_insert_with(|| notify::NC_NOTIF_NS.into());
    p
}

/// An event in the RFC 8040 §6.4 JSON form:
/// `{"ietf-restconf:notification":{"eventTime":...,"module:name":{...}}}`.
pub fn json_event(schema: &Schema, e: &Event) -> String {
    let mut out = String::from("{\"ietf-restconf:notification\":{\"eventTime\":\"");
    out.push_str(&rfc3339(e.time_ms));
    out.push('"');
    let parsed = yang::xml::parse_fragment(&e.content).unwrap_or_default();
    for el in &parsed {
        let Some(id) = notification(schema, el) else {
            // A notification of a module the schema does not hold (ietf-netconf-notifications'
            // netconf-config-change, ...): its elements as RFC 7951 would write them, every
            // value a string.
            out.push(',');
            generic(schema, el, None, &mut out);
            continue;
        };
        // The notification itself is no data node: its name, then its content as an object.
        let node = super::operations::element_node(schema, id, el);
        out.push(',');
        yang::data::json::write_string(
            &format!("{}:{}", module_name(schema, &el.ns), el.name),
            &mut out,
        );
        out.push(':');
        yang::data::json::encode_nodes(
            schema,
            &node.children,
            Some(id),
            EncodeOptions::default(),
            &mut out,
        );
    }
    out.push_str("}}");
    out
}

/// The module name of a namespace: the schema's, else the last part of an IETF URN.
fn module_name<'a>(schema: &'a Schema, ns: &'a str) -> &'a str {
    match schema.module_by_namespace(ns) {
        Some(m) => &schema.module(m).name,
        None => ns.rsplit(':').next().unwrap_or(ns),
    }
}

/// `"name":value` of an element without a schema: text as a string, an empty element as
/// `[null]`, children as an object (repeated names as arrays).
fn generic(schema: &Schema, el: &Element, parent_ns: Option<&str>, out: &mut String) {
    if parent_ns != Some(el.ns.as_str()) {
        yang::data::json::write_string(
            &format!("{}:{}", module_name(schema, &el.ns), el.name),
            out,
        );
    } else {
        yang::data::json::write_string(&el.name, out);
    }
    out.push(':');
    generic_value(schema, el, out);
}

fn generic_value(schema: &Schema, el: &Element, out: &mut String) {
    if el.children.is_empty() {
        if el.text.trim().is_empty() {
            out.push_str("[null]");
        } else {
            yang::data::json::write_string(el.text.trim(), out);
        }
        return;
    }
    out.push('{');
    let mut done: Vec<(&str, &str)> = Vec::new();
    for c in &el.children {
        if done.contains(&(c.ns.as_str(), c.name.as_str())) {
            continue;
        }
        done.push((&c.ns, &c.name));
        if done.len() > 1 {
            out.push(',');
        }
        let same: Vec<&Element> = el
            .children
            .iter()
            .filter(|x| x.ns == c.ns && x.name == c.name)
            .collect();
        if same.len() == 1 {
            generic(schema, c, Some(&el.ns), out);
            continue;
        }
        let mut member = String::new();
        generic(schema, c, Some(&el.ns), &mut member);
        // The member's name, then every instance's value in an array.
        let name_end = member.find("\":").map_or(0, |i| i + 2);
        out.push_str(&member[..name_end]);
        out.push('[');
        for (i, x) in same.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            generic_value(schema, x, out);
        }
        out.push(']');
    }
    out.push('}');
}

fn notification(schema: &Schema, el: &Element) -> Option<NodeId> {
    let m = schema.module_by_namespace(&el.ns)?;
    schema
        .module(m)
        .notifications
        .iter()
        .copied()
        .find(|&n| schema.node(n).name == el.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_in_json_with_and_without_a_schema() {
        let schema = yang::SchemaBuilder::new().embedded().build().unwrap();
        let change = Event {
            time_ms: 0,
            content: "<netconf-config-change xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-notifications\">\
                      <changed-by><username>admin</username><session-id>7</session-id></changed-by>\
                      <datastore>running</datastore>\
                      <edit><target>/a</target><operation>create</operation></edit>\
                      <edit><target>/b</target><operation>delete</operation></edit>\
                      </netconf-config-change>"
                .into(),
        };
        assert_eq!(
            json_event(&schema, &change),
            "{\"ietf-restconf:notification\":{\"eventTime\":\"1970-01-01T00:00:00.000Z\",\
             \"ietf-netconf-notifications:netconf-config-change\":{\"changed-by\":{\"username\":\"admin\",\
             \"session-id\":\"7\"},\"datastore\":\"running\",\"edit\":[{\"target\":\"/a\",\"operation\":\
             \"create\"},{\"target\":\"/b\",\"operation\":\"delete\"}]}}}"
        );
        let vrrp = Event {
            time_ms: 0,
            content:
                "<state-change xmlns=\"urn:ne-agent:yang:ne-vrrp\"><interface>a-ic</interface>\
                      <vrid>1</vrid><old-state>backup</old-state><new-state>master</new-state>\
                      <reason>master-down</reason></state-change>"
                    .into(),
        };
        let j = json_event(&schema, &vrrp);
        assert!(
            j.contains("\"ne-vrrp:state-change\":{\"interface\":\"a-ic\",\"vrid\":1,"),
            "{j}"
        );
    }
}
