//! RPC dispatch: one `<rpc>` element in, one `<rpc-reply>` out (RFC 6241 §7, §8).

use datastore::{CommitMeta, CommitRequest, StoreError, Target};
use tracing::info;
use yang::data::{self, DataTree, DecodeOptions, EditOp, EncodeOptions, ErrorTag, WithDefaults};
use yang::validate::{validate, ValidateOptions};
use yang::xml::{escape_attr, Element};

use super::errors::{ErrorType, RpcError};
use super::event_filter::{EventFilter, XPathFilter};
use super::filter;
use super::notify;
use super::server::Server;
use super::state::NCM_NS;
use super::BASE_NS;
use crate::northbound::access::{Checker, IETF_NETCONF};
use crate::northbound::users;

const WD_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults";

/// What the session does after sending a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    Continue,
    Close,
    /// create-subscription accepted: start sending notifications (with replay from `start_ms`).
    Subscribe {
        start_ms: Option<u64>,
        stop_ms: Option<u64>,
        /// The filter (subtree or XPath) the notifications must pass.
        filter: Option<EventFilter>,
    },
}

/// The session calling an RPC.
pub struct Caller<'a> {
    pub id: u32,
    pub user: &'a str,
    /// The session already has a notification subscription.
    pub subscribed: bool,
}

/// A complete `<rpc-reply>` document and what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub xml: String,
    /// The reply carries `<rpc-error>`s (RFC 6022 counts these as out-rpc-errors).
    pub is_error: bool,
    pub after: After,
}

/// Handle one `<rpc>`; a commit it makes is flushed to disk before this returns.
pub fn handle(server: &Server, caller: &Caller<'_>, rpc: &Element) -> Reply {
    let attrs = reply_attrs(rpc);
    respond(server, caller, rpc, &attrs)
}

/// A reply whose commits are written but maybe not yet durable (see [`handle_deferred`]).
pub struct Deferred {
    reply: Reply,
    attrs: String,
    unflushed: datastore::Unflushed,
}

impl Deferred {
    /// A reply that waits for nothing.
    pub fn now(reply: Reply) -> Deferred {
        Deferred {
            reply,
            attrs: String::new(),
            unflushed: datastore::Unflushed::default(),
        }
    }

    /// The reply, once every commit the request made is durable; an `operation-failed` error
    /// instead if the disk refused the flush (the change is applied but may not survive a
    /// restart, and the client must not take it for a stored one).
    pub async fn durable(self, server: &Server) -> Reply {
        if self.unflushed.is_empty() {
            return self.reply;
        }
        match self.unflushed.durable().await {
            Ok(()) => self.reply,
            Err(e) => errors_reply(server, &self.attrs, &store_err(e)),
        }
    }
}

/// Handle one `<rpc>` leaving its commits' flushes to the datastore's flusher thread, so the
/// calling async worker can serve other sessions while the disk writes; concurrent commits
/// share a flush. The reply goes out after [`Deferred::durable`].
pub fn handle_deferred(server: &Server, caller: &Caller<'_>, rpc: &Element) -> Deferred {
    let attrs = reply_attrs(rpc);
    let (reply, unflushed) = datastore::deferring_flush(|| respond(server, caller, rpc, &attrs));
    Deferred {
        reply,
        attrs,
        unflushed,
    }
}

/// The `<rpc>`'s attributes, copied onto its `<rpc-reply>` (RFC 6241 §4.2).
fn reply_attrs(rpc: &Element) -> String {
    let mut attrs = String::new();
    for a in &rpc.attrs {
        if a.ns.is_empty() {
            attrs.push_str(&format!(" {}=\"{}\"", a.name, escape_attr(&a.value)));
        } else if a.ns != BASE_NS {
            attrs.push_str(&format!(
                " xmlns:e{n}=\"{}\" e{n}:{}=\"{}\"",
                escape_attr(&a.ns),
                a.name,
                escape_attr(&a.value),
                n = attrs.len()
            ));
        }
    }
    attrs
}

/// `<rpc-reply>` with the request's attributes around `body`.
fn rpc_reply(attrs: &str, body: &str) -> String {
    format!("<rpc-reply xmlns=\"{BASE_NS}\"{attrs}>{body}</rpc-reply>")
}

/// A reply carrying `errors`.
fn errors_reply(server: &Server, attrs: &str, errors: &[RpcError]) -> Reply {
    let body: String = errors.iter().map(|e| e.to_xml(&server.schema)).collect();
    Reply {
        xml: rpc_reply(attrs, &body),
        is_error: true,
        after: After::Continue,
    }
}

fn respond(server: &Server, caller: &Caller<'_>, rpc: &Element, attrs: &str) -> Reply {
    if rpc.attr("", "message-id").is_none() {
        let e = RpcError::protocol(
            ErrorTag::MissingAttribute,
            "<rpc> has no message-id attribute",
        )
        .info("bad-attribute", "message-id")
        .info("bad-element", "rpc");
        return errors_reply(server, attrs, &[e]);
    }
    // Access control (RFC 8341): one user's view of the rules in force, for this request.
    let nacm = server.access.current();
    let check = server.access.checker(
        &nacm,
        caller.user,
        caller.id,
        server.is_recovery(caller.user),
    );
    match dispatch(server, caller, &check, rpc) {
        Ok((body, after)) => Reply {
            xml: rpc_reply(attrs, &body),
            is_error: false,
            after,
        },
        Err(errors) => errors_reply(server, attrs, &errors),
    }
}

type RpcResult = Result<(String, After), Vec<RpcError>>;

fn ok() -> RpcResult {
    Ok(("<ok/>".to_string(), After::Continue))
}

fn store_err(e: StoreError) -> Vec<RpcError> {
    e.to_data_errors().into_iter().map(RpcError::from).collect()
}

fn one(e: RpcError) -> Vec<RpcError> {
    vec![e]
}

fn missing(element: &str, parent: &str) -> Vec<RpcError> {
    one(RpcError::protocol(
        ErrorTag::MissingElement,
        format!("<{parent}> needs a <{element}> parameter"),
    )
    .info("bad-element", element))
}

/// A child in the base namespace (or with no namespace, as some clients send).
fn param<'e>(el: &'e Element, name: &str) -> Option<&'e Element> {
    el.children
        .iter()
        .find(|c| c.name == name && (c.ns == BASE_NS || c.ns.is_empty()))
}

/// `<target>`/`<source>` naming a datastore.
fn datastore(el: &Element, which: &str, op: &str) -> Result<Target, Vec<RpcError>> {
    let p = param(el, which).ok_or_else(|| missing(which, op))?;
    let Some(d) = p.children.first() else {
        return Err(missing("running", which));
    };
    match d.name.as_str() {
        "running" => Ok(Target::Running),
        "candidate" => Ok(Target::Candidate),
        "startup" => Ok(Target::Startup),
        other => Err(one(RpcError::protocol(
            ErrorTag::InvalidValue,
            format!("'{other}' is not a datastore this server has"),
        )
        .info("bad-element", which))),
    }
}

/// The module that defines an operation element, for access control: the base operations
/// are ietf-netconf's, create-subscription RFC 5277's `notifications`, the others the schema's.
fn rpc_module<'s>(server: &'s Server, op: &Element) -> Option<&'s str> {
    match op.ns.as_str() {
        "" | BASE_NS => Some(IETF_NETCONF),
        notify::NOTIF_NS => Some("notifications"),
        ns => server
            .schema
            .module_by_namespace(ns)
            .map(|m| server.schema.module(m).name.as_str()),
    }
}

/// An access-denied rpc-error of a protocol operation (RFC 6241 Appendix A: error-type
/// protocol when the operation itself is refused).
fn exec_denied(e: yang::data::DataError) -> Vec<RpcError> {
    one(RpcError {
        error_type: ErrorType::Protocol,
        ..RpcError::from(e)
    })
}

fn dispatch(server: &Server, caller: &Caller<'_>, check: &Checker<'_>, rpc: &Element) -> RpcResult {
    let Some(op) = rpc.children.first() else {
        return Err(missing("operation", "rpc"));
    };
    // Every operation is checked before it does anything (RFC 8341 §3.4.4; close-session is
    // always allowed, kill-session and delete-config need a rule).
    if let Some(module) = rpc_module(server, op) {
        let rpc = server.schema.find_rpc(&op.ns, &op.name);
        check.exec(module, &op.name, rpc).map_err(exec_denied)?;
    }
    if op.ns == super::state::SYSTEM_NS && op.name == "rollback" {
        return rollback(server, caller, check, op);
    }
    if op.ns == super::state::SYSTEM_NS && op.name == "commit-diff" {
        return commit_diff(server, check, op);
    }
    if op.ns == NCM_NS && op.name == "get-schema" {
        return get_schema(server, check, op);
    }
    if op.ns == notify::NOTIF_NS && op.name == "create-subscription" {
        return create_subscription(caller, op);
    }
    // An operation element without a namespace is taken as a base operation (Ansible's
    // netconf_rpc sends `<discard-changes/>` that way unless told an xmlns).
    if op.ns != BASE_NS && !op.ns.is_empty() {
        return Err(one(RpcError::protocol(
            ErrorTag::OperationNotSupported,
            format!(
                "operation '{}' in namespace '{}' is not supported",
                op.name, op.ns
            ),
        )
        .info("bad-element", &op.name)));
    }
    let store = &server.store;
    let meta = || CommitMeta {
        user: caller.user.to_string(),
        session: caller.id,
        comment: None,
    };
    match op.name.as_str() {
        "get-config" => {
            let tree = stored(server, datastore(op, "source", "get-config")?)?;
            data_reply(server, op, &check.read(&tree), true)
        }
        "get" => {
            // Configuration, the management plane's state (commit history, netconf-state, the
            // YANG library) and the engines' state: one tree, filtered as one.
            let mut tree = store.get(Target::Running).unwrap_or_default();
            let state = super::state::tree(server).map_err(|e| one(e.into()))?;
            data::merge(&server.schema, &mut tree, state);
            if let Some(engines) = server.engines.get() {
                let state = engines.state().ok_or_else(|| {
                    one(RpcError::application(
                        ErrorTag::OperationFailed,
                        "the protocol engines did not answer in time",
                    ))
                })?;
                data::merge(&server.schema, &mut tree, state);
            }
            data_reply(server, op, &check.read(&tree), false)
        }
        "edit-config" => edit_config(server, caller, check, op),
        "copy-config" => copy_config(server, caller, check, op),
        "delete-config" => match datastore(op, "target", "delete-config")? {
            Target::Startup => store
                .checked(check)
                .delete_startup()
                .map_err(store_err)
                .and_then(|()| ok()),
            t => Err(one(RpcError::protocol(
                ErrorTag::OperationNotSupported,
                format!("the {} datastore cannot be deleted", t.name()),
            ))),
        },
        "lock" => {
            let t = datastore(op, "target", "lock")?;
            store
                .lock(t, caller.id)
                .map_err(store_err)
                .and_then(|()| ok())
        }
        "unlock" => {
            let t = datastore(op, "target", "unlock")?;
            store
                .unlock(t, caller.id)
                .map_err(store_err)
                .and_then(|()| ok())
        }
        "close-session" => Ok(("<ok/>".to_string(), After::Close)),
        "kill-session" => {
            let id = param(op, "session-id")
                .and_then(|s| s.text.trim().parse::<u32>().ok())
                .ok_or_else(|| missing("session-id", "kill-session"))?;
            if id == caller.id {
                return Err(one(RpcError::protocol(
                    ErrorTag::InvalidValue,
                    "a session cannot kill itself; use close-session",
                )));
            }
            if server.kill(id) {
                ok()
            } else {
                Err(one(RpcError::protocol(
                    ErrorTag::InvalidValue,
                    format!("no session {id}"),
                )))
            }
        }
        "validate" => {
            let tree = source_tree(server, op, "validate")?;
            validate(&server.schema, &tree, ValidateOptions::default())
                .map_err(|errs| errs.into_iter().map(RpcError::from).collect::<Vec<_>>())?;
            // A commit would refuse a /nacm whose rules do not compile.
            server
                .access
                .compile(&tree)
                .map_err(|e| one(e.into()))
                .and_then(|_| ok())
        }
        "commit" => {
            let confirmed = param(op, "confirmed").is_some();
            let timeout_s = match param(op, "confirm-timeout") {
                Some(t) => Some(
                    t.text
                        .trim()
                        .parse::<u32>()
                        .ok()
                        .filter(|&v| v > 0)
                        .ok_or_else(|| {
                            one(RpcError::protocol(
                                ErrorTag::InvalidValue,
                                "confirm-timeout must be 1..4294967295",
                            )
                            .info("bad-element", "confirm-timeout"))
                        })?,
                ),
                None => None,
            };
            let req = CommitRequest {
                confirmed,
                timeout_s,
                persist: param(op, "persist").map(|p| p.text.trim().to_string()),
                persist_id: param(op, "persist-id").map(|p| p.text.trim().to_string()),
            };
            // `<comment xmlns="urn:ne-agent:yang:ne-system">` on <commit>: recorded in
            // commit-history with the commit, as VRP's `commit comment TEXT`.
            let comment = op
                .children
                .iter()
                .find(|c| c.name == "comment" && c.ns == super::state::SYSTEM_NS)
                .map(|c| c.text.trim().to_string());
            let was_pending = store.pending_confirmed().is_some();
            let out = server
                .with_subscribers(|subs| {
                    store.commit_request(&req, &CommitMeta { comment, ..meta() }, subs)
                })
                .map_err(store_err)?;
            published(server, caller, &out);
            let event = match (was_pending, confirmed) {
                (false, true) => Some("start"),
                (true, true) => Some("extend"),
                (true, false) => Some("complete"),
                (false, false) => None,
            };
            if out.id.is_none() {
                info!(
                    user = caller.user,
                    session = caller.id,
                    "commit: nothing to change"
                );
            }
            if let Some(e) = event {
                let timeout = confirmed.then(|| timeout_s.unwrap_or(600));
                info!(
                    user = caller.user,
                    session = caller.id,
                    commit = ?out.id,
                    event = e,
                    timeout_s = ?timeout,
                    persist = ?req.persist,
                    "confirmed commit"
                );
                server
                    .events
                    .publish(notify::confirmed_commit(caller.user, caller.id, e, timeout));
            }
            ok()
        }
        "cancel-commit" => {
            let pid = param(op, "persist-id").map(|p| p.text.trim().to_string());
            let out = server
                .with_subscribers(|subs| store.cancel_commit(pid.as_deref(), &meta(), subs))
                .map_err(store_err)?;
            published(server, caller, &out);
            info!(
                user = caller.user,
                session = caller.id,
                commit = ?out.id,
                "confirmed commit cancelled: running reverted"
            );
            server.events.publish(notify::confirmed_commit(
                caller.user,
                caller.id,
                "cancel",
                None,
            ));
            ok()
        }
        "discard-changes" => store
            .discard_changes()
            .map_err(store_err)
            .and_then(|()| ok()),
        other => Err(one(RpcError::protocol(
            ErrorTag::OperationNotSupported,
            format!("operation '{other}' is not supported"),
        )
        .info("bad-element", other))),
    }
}

/// Announce a change of running (netconf-config-change).
fn published(server: &Server, caller: &Caller<'_>, out: &datastore::CommitOutcome) {
    if out.id.is_some() {
        server.events.publish(notify::config_change(
            caller.user,
            caller.id,
            &server.source_host(caller.id),
            &out.changes,
        ));
    }
}

/// create-subscription (RFC 5277 §2.1.1) on the NETCONF stream.
fn create_subscription(caller: &Caller<'_>, op: &Element) -> RpcResult {
    let leaf = |name: &str| {
        op.children
            .iter()
            .find(|c| c.name == name && (c.ns == notify::NOTIF_NS || c.ns.is_empty()))
    };
    if caller.subscribed {
        return Err(one(RpcError::protocol(
            ErrorTag::OperationFailed,
            "this session already has a subscription",
        )));
    }
    if let Some(s) = leaf("stream") {
        if s.text.trim() != "NETCONF" {
            return Err(one(RpcError::protocol(
                ErrorTag::InvalidValue,
                format!("no stream '{}'; the server has NETCONF", s.text.trim()),
            )
            .info("bad-element", "stream")));
        }
    }
    // RFC 5277 puts <filter> in the notification namespace; ncclient sends it in the base one.
    let filter_el = leaf("filter").or_else(|| {
        op.children
            .iter()
            .find(|c| c.name == "filter" && c.ns == BASE_NS)
    });
    let filter = match filter_el {
        None => None,
        Some(f) => match f.attr("", "type").unwrap_or("subtree") {
            "subtree" => Some(EventFilter::Subtree(f.to_xml())),
            // RFC 5277 §3.6 with :xpath: the expression in `select`, its prefixes from the
            // filter element's namespace declarations.
            "xpath" => {
                let select = xpath_select(f)?;
                let prefixes = f
                    .scope
                    .iter()
                    .filter(|(p, _)| !p.is_empty())
                    .cloned()
                    .collect();
                let x = XPathFilter::new(select, prefixes).map_err(|m| {
                    one(RpcError::protocol(ErrorTag::InvalidValue, m)
                        .info("bad-attribute", "select")
                        .info("bad-element", "filter"))
                })?;
                Some(EventFilter::XPath(x))
            }
            other => {
                return Err(one(RpcError::protocol(
                    ErrorTag::OperationNotSupported,
                    format!("'{other}' filters are not supported; use subtree or xpath"),
                )
                .info("bad-attribute", "type")
                .info("bad-element", "filter")))
            }
        },
    };
    let time = |name: &str| -> Result<Option<u64>, Vec<RpcError>> {
        match leaf(name) {
            None => Ok(None),
            Some(t) => notify::parse_time(&t.text).map(Some).ok_or_else(|| {
                one(RpcError::protocol(
                    ErrorTag::InvalidValue,
                    format!(
                        "{name} '{}' is not an RFC 3339 date-and-time",
                        t.text.trim()
                    ),
                )
                .info("bad-element", name))
            }),
        }
    };
    let start_ms = time("startTime")?;
    let stop_ms = time("stopTime")?;
    let now = crate::clock::now_ms();
    if stop_ms.is_some() && start_ms.is_none() {
        return Err(one(RpcError::protocol(
            ErrorTag::MissingElement,
            "stopTime needs a startTime",
        )
        .info("bad-element", "startTime")));
    }
    if start_ms.is_some_and(|s| s > now) || stop_ms.zip(start_ms).is_some_and(|(e, s)| e < s) {
        return Err(one(RpcError::protocol(
            ErrorTag::BadElement,
            "startTime must not be in the future nor after stopTime",
        )
        .info("bad-element", "startTime")));
    }
    Ok((
        "<ok/>".to_string(),
        After::Subscribe {
            start_ms,
            stop_ms,
            filter,
        },
    ))
}

/// get-schema (RFC 6022 §3.1): the source text of any module or submodule the server knows.
fn get_schema(server: &Server, check: &Checker<'_>, op: &Element) -> RpcResult {
    let leaf = |name: &str| {
        op.children
            .iter()
            .find(|c| c.name == name && (c.ns == NCM_NS || c.ns.is_empty()))
            .map(|c| c.text.trim().to_string())
    };
    let identifier = leaf("identifier").ok_or_else(|| missing("identifier", "get-schema"))?;
    let version = leaf("version").filter(|v| !v.is_empty());
    // The format is an identityref: "yang", or "ncm:yang" with any prefix (libnetconf2#420).
    if let Some(format) = leaf("format") {
        if format.rsplit(':').next() != Some("yang") {
            return Err(one(RpcError::protocol(
                ErrorTag::InvalidValue,
                format!("schema format '{format}' is not available; only yang is"),
            )
            .info("bad-element", "format")));
        }
    }
    // A module whose data the user may read none of is not shown either (RFC 8341 §3.4.5):
    // it is answered as unknown.
    let found: Vec<&yang::schema::SourceFile> = server
        .schema
        .sources
        .iter()
        .filter(|s| s.name == identifier)
        .filter(|s| check.may_read_module(&s.name))
        .filter(|s| version.is_none() || s.revision == version)
        .collect();
    match found.as_slice() {
        [one_source] => Ok((
            format!(
                "<data xmlns=\"{NCM_NS}\">{}</data>",
                yang::xml::escape_text(&one_source.text)
            ),
            After::Continue,
        )),
        [] => Err(one(RpcError::protocol(
            ErrorTag::InvalidValue,
            format!(
                "no schema '{identifier}'{}",
                version
                    .map(|v| format!(" revision {v}"))
                    .unwrap_or_default()
            ),
        ))),
        _ => Err(one(RpcError {
            app_tag: Some("data-not-unique".into()),
            ..RpcError::protocol(
                ErrorTag::OperationFailed,
                "several revisions: give a version",
            )
        })),
    }
}

/// ne-system:rollback: running as it was after a commit of the history, through the pipeline.
fn rollback(server: &Server, caller: &Caller<'_>, check: &Checker<'_>, op: &Element) -> RpcResult {
    let ns = super::state::SYSTEM_NS;
    let leaf = |name: &str| op.children.iter().find(|c| c.name == name && c.ns == ns);
    let id = leaf("id")
        .ok_or_else(|| missing("id", "rollback"))?
        .text
        .trim()
        .parse::<u64>()
        .map_err(|_| {
            one(
                RpcError::application(ErrorTag::InvalidValue, "id must be a commit number")
                    .info("bad-element", "id"),
            )
        })?;
    let meta = CommitMeta {
        user: caller.user.to_string(),
        session: caller.id,
        comment: Some(
            leaf("comment")
                .map(|c| c.text.clone())
                .unwrap_or_else(|| format!("rollback to commit {id}")),
        ),
    };
    let out = server
        .with_subscribers(|subs| server.store.checked(check).rollback(id, &meta, subs))
        .map_err(store_err)?;
    published(server, caller, &out);
    let body = match out.id {
        Some(n) => format!("<commit-id xmlns=\"{ns}\">{n}</commit-id>"),
        None => "<ok/>".to_string(),
    };
    Ok((body, After::Continue))
}

/// ne-system:commit-diff: the changes from one commit of the history to another (or to running).
fn commit_diff(server: &Server, check: &Checker<'_>, op: &Element) -> RpcResult {
    let ns = super::state::SYSTEM_NS;
    let id = |name: &str| -> Result<Option<u64>, Vec<RpcError>> {
        match op.children.iter().find(|c| c.name == name && c.ns == ns) {
            None => Ok(None),
            Some(e) => e.text.trim().parse::<u64>().map(Some).map_err(|_| {
                one(RpcError::application(
                    ErrorTag::InvalidValue,
                    format!("{name} must be a commit number"),
                )
                .info("bad-element", name))
            }),
        }
    };
    let from = id("from-id")?.ok_or_else(|| missing("from-id", "commit-diff"))?;
    let old = server.store.tree_at(from).map_err(store_err)?;
    let new = match id("to-id")? {
        Some(to) => server.store.tree_at(to).map_err(store_err)?,
        None => server.store.get(Target::Running).unwrap_or_default(),
    };
    // Only what the user may read (both sides pruned alike).
    let (old, new) = (check.read(&old), check.read(&new));
    let mut body = String::new();
    for c in yang::diff::diff(&server.schema, &old, &new) {
        body.push_str(&format!(
            "<change xmlns=\"{ns}\"><operation>{}</operation><path>{}</path>",
            c.op.name(),
            yang::xml::escape_text(&c.path)
        ));
        for (name, v) in [("old-value", &c.old), ("new-value", &c.new)] {
            if let Some(v) = v {
                body.push_str(&format!("<{name}>{}</{name}>", yang::xml::escape_text(v)));
            }
        }
        body.push_str("</change>");
    }
    if body.is_empty() {
        body.push_str("<ok/>");
    }
    Ok((body, After::Continue))
}

/// `<data>` for get/get-config, with subtree filter and with-defaults.
fn data_reply(server: &Server, op: &Element, tree: &DataTree, config_only: bool) -> RpcResult {
    let mode = match op
        .children
        .iter()
        .find(|c| c.name == "with-defaults" && c.ns == WD_NS)
    {
        Some(w) => WithDefaults::parse(&w.text).ok_or_else(|| {
            one(RpcError::protocol(
                ErrorTag::InvalidValue,
                format!("with-defaults '{}' is not a retrieval mode", w.text.trim()),
            )
            .info("bad-element", "with-defaults"))
        })?,
        None => WithDefaults::Explicit,
    };
    let selected;
    let tree = match param(op, "filter") {
        Some(f) => {
            selected = match f.attr("", "type").unwrap_or("subtree") {
                "subtree" => filter::apply(&server.schema, tree, &f.children),
                "xpath" => {
                    let select = xpath_select(f)?;
                    filter::apply_xpath(&server.schema, tree, select, &f.scope).map_err(|m| {
                        one(RpcError::protocol(ErrorTag::InvalidValue, m)
                            .info("bad-attribute", "select")
                            .info("bad-element", "filter"))
                    })?
                }
                other => {
                    return Err(one(RpcError::protocol(
                        ErrorTag::OperationNotSupported,
                        format!("filter type '{other}' is not supported"),
                    )
                    .info("bad-attribute", "type")
                    .info("bad-element", "filter")))
                }
            };
            &selected
        }
        None => tree,
    };
    let body = data::encode(
        &server.schema,
        tree,
        EncodeOptions {
            with_defaults: mode,
            config_only,
        },
    );
    Ok((format!("<data>{body}</data>"), After::Continue))
}

/// `<source>`: a datastore or an inline `<config>`.
fn source_tree(server: &Server, op: &Element, name: &str) -> Result<DataTree, Vec<RpcError>> {
    let src = param(op, "source").ok_or_else(|| missing("source", name))?;
    if let Some(cfg) = param(src, "config") {
        let mut tree = data::decode_elements(
            &server.schema,
            &cfg.children,
            DecodeOptions { config_only: true },
        )
        .map_err(|e| one(e.into()))?;
        data::add_defaults(&server.schema, &mut tree);
        return Ok(tree);
    }
    stored(server, datastore(op, "source", name)?)
}

/// The contents of a datastore (only startup can be missing).
fn stored(server: &Server, t: Target) -> Result<DataTree, Vec<RpcError>> {
    server.store.get(t).ok_or_else(|| {
        one(RpcError::application(
            ErrorTag::InvalidValue,
            "no startup configuration has been saved (copy-config running to startup saves one); \
             until then the agent boots from the last committed running",
        ))
    })
}

fn edit_config(
    server: &Server,
    caller: &Caller<'_>,
    check: &Checker<'_>,
    op: &Element,
) -> RpcResult {
    let target = datastore(op, "target", "edit-config")?;
    let default_op = match param(op, "default-operation") {
        Some(d) => match d.text.trim() {
            "merge" => EditOp::Merge,
            "replace" => EditOp::Replace,
            "none" => EditOp::None,
            other => {
                return Err(one(RpcError::protocol(
                    ErrorTag::InvalidValue,
                    format!("default-operation '{other}' is not merge, replace or none"),
                )
                .info("bad-element", "default-operation")))
            }
        },
        None => EditOp::Merge,
    };
    let test_only = match param(op, "test-option").map(|t| t.text.trim().to_string()) {
        None => false,
        Some(t) if t == "test-then-set" || t == "set" => false,
        Some(t) if t == "test-only" => true,
        Some(t) => {
            return Err(one(RpcError::protocol(
                ErrorTag::InvalidValue,
                format!("test-option '{t}'"),
            )
            .info("bad-element", "test-option")))
        }
    };
    // error-option is accepted; every edit is atomic (rollback-on-error).
    let Some(mut config) = param(op, "config") else {
        return Err(missing("config", "edit-config"));
    };
    // netconf-console2 and hand-written files often carry their own <config> wrapper inside
    // the one the client library adds.
    while let [inner] = config.children.as_slice() {
        if inner.name == "config" && (inner.ns == BASE_NS || inner.ns.is_empty()) {
            config = inner;
        } else {
            break;
        }
    }
    // Passwords: `$0$` cleartext hashed before the edit reaches a datastore; formats the device
    // cannot verify refused, naming the user.
    let edit = users::hash_cleartext_in_edit(&server.schema, &config.children)
        .map_err(|e| one(e.into()))?;
    let store = &server.store;
    let meta = CommitMeta {
        user: caller.user.to_string(),
        session: caller.id,
        comment: None,
    };
    match target {
        Target::Candidate if !test_only => store
            .checked(check)
            .edit_candidate(caller.id, &edit, default_op)
            .map_err(store_err)
            .and_then(|()| ok()),
        Target::Running if !test_only => {
            // Applied to running as it is under the datastore's lock: concurrent sessions
            // editing running never undo each other's changes.
            let out = server
                .with_subscribers(|subs| {
                    store
                        .checked(check)
                        .edit_running(&edit, default_op, &meta, subs)
                })
                .map_err(store_err)?;
            published(server, caller, &out);
            ok()
        }
        // test-only: the edit is checked against a copy and nothing is stored.
        Target::Candidate | Target::Running => {
            store.check_writable(target, caller.id).map_err(store_err)?;
            let old = store.get(target).unwrap_or_default();
            let mut tree = old.clone();
            data::apply_edit(&server.schema, &mut tree, &edit, default_op)
                .map_err(|e| one(e.into()))?;
            let changes = yang::diff::diff(&server.schema, &old, &tree);
            datastore::WriteCheck::check(check, &old, &tree, &changes)
                .map_err(|e| one(e.into()))?;
            validate(&server.schema, &tree, ValidateOptions::default())
                .map_err(|errs| errs.into_iter().map(RpcError::from).collect::<Vec<_>>())?;
            ok()
        }
        Target::Startup => Err(one(RpcError::protocol(
            ErrorTag::OperationNotSupported,
            "edit-config on startup is not supported; use copy-config",
        ))),
    }
}

fn copy_config(
    server: &Server,
    caller: &Caller<'_>,
    check: &Checker<'_>,
    op: &Element,
) -> RpcResult {
    let target = datastore(op, "target", "copy-config")?;
    let src = param(op, "source").ok_or_else(|| missing("source", "copy-config"))?;
    let inline = param(src, "config").is_some();
    if !inline && datastore(op, "source", "copy-config")? == target {
        return Err(one(RpcError::protocol(
            ErrorTag::InvalidValue,
            "source and target are the same datastore",
        )));
    }
    // A datastore source is copied as the user may read it (RFC 8341 §3.2.4); the target is
    // written node by node as the user may write it.
    let tree = source_tree(server, op, "copy-config")?;
    let mut tree = if inline { tree } else { check.read(&tree) };
    users::hash_cleartext_in_tree(&server.schema, &mut tree).map_err(|e| one(e.into()))?;
    let store = &server.store;
    store.check_writable(target, caller.id).map_err(store_err)?;
    let meta = CommitMeta {
        user: caller.user.to_string(),
        session: caller.id,
        comment: None,
    };
    let checked = store.checked(check);
    let result = match target {
        Target::Running => server
            .with_subscribers(|subs| checked.commit_tree(tree, &meta, subs))
            .map(|out| published(server, caller, &out)),
        Target::Candidate => checked.set_candidate(caller.id, tree),
        Target::Startup => checked.set_startup(tree),
    };
    result.map_err(store_err).and_then(|()| ok())
}

/// Used by the session on a message that is not an `<rpc>`.
pub fn malformed_reply(server: &Server, message: &str) -> Reply {
    error_reply(server, ErrorTag::MalformedMessage, message)
}

/// A reply carrying one protocol error, for messages that never became an RPC.
pub fn error_reply(server: &Server, tag: ErrorTag, message: &str) -> Reply {
    errors_reply(server, "", &[RpcError::protocol(tag, message.to_string())])
}

/// The expression of an xpath `<filter>` (its `select` attribute), for `<get>`, `<get-config>`
/// and `<create-subscription>` alike.
fn xpath_select(f: &Element) -> Result<&str, Vec<RpcError>> {
    f.attr("", "select").ok_or_else(|| {
        one(RpcError::protocol(
            ErrorTag::MissingAttribute,
            "an xpath filter needs a select attribute",
        )
        .info("bad-attribute", "select")
        .info("bad-element", "filter"))
    })
}
