//! The RESTCONF resources (RFC 8040 §3) over the server's datastores: one request in, one reply
//! out, no HTTP machinery here (that is [`super::server`]'s). Reads go through the user's
//! access control like NETCONF's `<get>`; edits are [`super::edit`]'s.

use std::sync::Arc;

use datastore::Target;
use hyper::HeaderMap;
use yang::data::{self, DataNode, DataTree, EncodeOptions, ErrorTag, TreeWithRows, WithDefaults};

use super::errors::RestError;
use super::media::{negotiate, Encoding};
use super::modified::Modified;
use super::path::{self, Resource};
use super::query::{Content, Query};
use super::{view, RESTCONF_NS, YANG_LIBRARY_REVISION};
use crate::netconf::server::Server;
use crate::northbound::access::Checker;

/// The methods of a datastore that can be edited, and of one that cannot (RFC 8040 §4.1).
pub const ALLOW_EDIT: &str = "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE";
pub const ALLOW_READ: &str = "GET, HEAD, OPTIONS";
const ACCEPT_PATCH: &str = "application/yang-data+json, application/yang-data+xml, \
                            application/yang-patch+json, application/yang-patch+xml";

/// One authenticated request.
pub struct Request<'a> {
    pub method: &'a str,
    /// The path after `/restconf`, still percent-encoded.
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub user: &'a str,
    pub source: &'a str,
    /// The connection's session id, from the allocator NETCONF and the CLI use (so
    /// `changed-by` names it and a NETCONF lock is someone else's lock to it). A RESTCONF
    /// connection holds no locks and is not listed among the NETCONF sessions.
    pub session: u32,
    /// The authority the client used (Host, or HTTP/2's :authority), for absolute locations.
    pub host: &'a str,
}

impl Request<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The encoding of the request body (None without a body); 415 for a type we do not read.
    pub fn body_encoding(&self) -> Result<Option<Encoding>, RestError> {
        if self.body.is_empty() {
            return Ok(None);
        }
        match self.header("content-type") {
            None => Err(RestError::new(
                ErrorTag::InvalidValue,
                "a request body needs a Content-Type (application/yang-data+json or +xml)",
            )
            .with_status(415)),
            Some(t) => Encoding::of_media_type(t).map(Some).ok_or_else(|| {
                RestError::new(
                    ErrorTag::InvalidValue,
                    format!("Content-Type '{t}' is not a YANG data encoding"),
                )
                .with_status(415)
            }),
        }
    }

    /// The reply's encoding (Accept, else the body's, else JSON).
    pub fn reply_encoding(&self) -> Result<Encoding, RestError> {
        let body = self.body_encoding().ok().flatten();
        negotiate(self.header("accept"), body).map_err(|a| {
            RestError::new(
                ErrorTag::InvalidValue,
                format!("cannot answer in any type of Accept: {a}"),
            )
            .with_status(406)
        })
    }
}

/// A complete reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Reply {
    pub fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, enc: Encoding, body: String) -> Reply {
        self.headers
            .push(("content-type", enc.data_type().to_string()));
        self.body = body;
        self
    }

    pub fn error(schema: &yang::Schema, enc: Encoding, e: &RestError) -> Reply {
        Reply::new(e.status).body(enc, e.body(schema, enc))
    }
}

/// The datastore a data resource is in: `{+restconf}/data` (the unified view of RFC 8040) or
/// one of RFC 8527's `{+restconf}/ds/<datastore>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ds {
    Unified,
    Running,
    Candidate,
    Startup,
    Operational,
}

impl Ds {
    fn named(name: &str) -> Option<Ds> {
        match name {
            "ietf-datastores:running" => Some(Ds::Running),
            "ietf-datastores:candidate" => Some(Ds::Candidate),
            "ietf-datastores:startup" => Some(Ds::Startup),
            "ietf-datastores:operational" => Some(Ds::Operational),
            _ => None,
        }
    }

    pub fn writable(self) -> bool {
        matches!(self, Ds::Unified | Ds::Running | Ds::Candidate)
    }
}

/// The server's RESTCONF side.
pub struct Api {
    pub server: Arc<Server>,
    /// Last-Modified of each data resource, from the commit log.
    modified: Modified,
    /// Entity tags of the configuration last read.
    tags: view::TagCache,
}

impl Api {
    pub fn new(server: Arc<Server>) -> Api {
        Api {
            server,
            modified: Modified::new(),
            tags: view::TagCache::default(),
        }
    }

    /// The time running last changed (unix ms; the start of the server before any commit).
    pub fn last_modified_ms(&self) -> u64 {
        self.modified.of(&self.server, "")
    }

    /// Last-Modified of a resource of `ds` (unix ms): the last commit that changed it or
    /// anything under it. The candidate and startup keep running's last commit for all their
    /// resources (their edits are not commits).
    pub fn modified_ms(&self, ds: Ds, res: &Resource) -> u64 {
        match ds {
            Ds::Candidate | Ds::Startup => self.last_modified_ms(),
            Ds::Unified | Ds::Running | Ds::Operational => {
                self.modified.of(&self.server, &res.path)
            }
        }
    }

    /// The access checks of the request's user.
    pub fn with_checker<T>(&self, req: &Request<'_>, f: impl FnOnce(&Checker<'_>) -> T) -> T {
        let nacm = self.server.access.current();
        let user = req.user;
        let check =
            self.server
                .access
                .checker(&nacm, user, req.session, self.server.is_recovery(user));
        f(&check)
    }

    /// Route a request below `{+restconf}`.
    pub fn handle(&self, req: &Request<'_>) -> Reply {
        let schema = &self.server.schema;
        let enc = req.reply_encoding().unwrap_or(Encoding::Json);
        match self.route(req) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(
                    method = req.method,
                    path = req.path,
                    status = e.status,
                    "restconf request refused"
                );
                Reply::error(schema, enc, &e)
            }
        }
    }

    fn route(&self, req: &Request<'_>) -> Result<Reply, RestError> {
        let p = req.path.trim_end_matches('/');
        let (first, rest) = match p.trim_start_matches('/').split_once('/') {
            Some((a, b)) => (a, b),
            None => (p.trim_start_matches('/'), ""),
        };
        match first {
            "" => self.read_only(req, root),
            "yang-library-version" => self.read_only(req, |enc| {
                Ok(match enc {
                    Encoding::Json => format!(
                        "{{\"ietf-restconf:yang-library-version\":\"{YANG_LIBRARY_REVISION}\"}}"
                    ),
                    Encoding::Xml => format!(
                        "<yang-library-version xmlns=\"{RESTCONF_NS}\">{YANG_LIBRARY_REVISION}</yang-library-version>"
                    ),
                })
            }),
            "data" => self.data(req, Ds::Unified, rest),
            "ds" => {
                let (name, rest) = rest.split_once('/').unwrap_or((rest, ""));
                let name = path::percent_decode(name)?;
                let ds = Ds::named(&name).ok_or_else(|| {
                    RestError::not_found(&format!("datastore '{name}'"))
                })?;
                self.data(req, ds, rest)
            }
            "operations" => super::operations::handle(self, req, rest),
            _ => Err(RestError::not_found(&format!("resource '{}'", req.path))),
        }
    }

    /// A resource that only reads: GET, HEAD, OPTIONS.
    fn read_only(
        &self,
        req: &Request<'_>,
        body: impl FnOnce(Encoding) -> Result<String, RestError>,
    ) -> Result<Reply, RestError> {
        match req.method {
            "GET" | "HEAD" => {
                Query::parse(req.query)?.only(&[])?;
                let enc = req.reply_encoding()?;
                let text = body(enc)?;
                Ok(head_or_get(req, Reply::new(200).body(enc, text)))
            }
            "OPTIONS" => Ok(Reply::new(200).header("allow", ALLOW_READ)),
            _ => Err(not_allowed(ALLOW_READ)),
        }
    }

    fn data(&self, req: &Request<'_>, ds: Ds, api_path: &str) -> Result<Reply, RestError> {
        let allow = if ds.writable() {
            ALLOW_EDIT
        } else {
            ALLOW_READ
        };
        match req.method {
            "GET" | "HEAD" => self.get(req, ds, api_path),
            "OPTIONS" => {
                path::resolve(&self.server.schema, api_path)?;
                let mut r = Reply::new(200).header("allow", allow);
                if ds.writable() {
                    r = r.header("accept-patch", ACCEPT_PATCH);
                }
                Ok(r)
            }
            "POST" | "PUT" | "PATCH" | "DELETE" if ds.writable() => {
                super::edit::handle(self, req, ds, api_path)
            }
            _ => Err(not_allowed(allow)),
        }
    }

    /// Running with the management plane's and the engines' state, as `<get>` sees it; of the
    /// engines' state only the trees of the module with namespace `scope` (None: all).
    pub fn operational(
        &self,
        running: DataTree,
        scope: Option<&str>,
    ) -> Result<DataTree, RestError> {
        let (mut tree, state) = self.operational_parts(running, scope)?;
        if let Some(state) = state {
            let schema = &self.server.schema;
            data::merge(schema, &mut tree, state.laid(schema));
        }
        Ok(tree)
    }

    /// [`Api::operational`] before the engines' state is merged in: running with the
    /// management plane's state, and the engines' state with its tables of rows (None without
    /// engines).
    fn operational_parts(
        &self,
        running: DataTree,
        scope: Option<&str>,
    ) -> Result<(DataTree, Option<TreeWithRows>), RestError> {
        let server = &self.server;
        let mut tree = running;
        let state = crate::netconf::state::tree_of(server, scope)?;
        data::merge(&server.schema, &mut tree, state);
        let Some(engines) = server.engines.get() else {
            return Ok((tree, None));
        };
        let state = engines.state_rows(scope).ok_or_else(|| {
            RestError::new(
                ErrorTag::OperationFailed,
                "the protocol engines did not answer in time",
            )
        })?;
        Ok((tree, Some(state)))
    }

    /// The configuration a datastore resource holds (startup may not exist: 404).
    pub fn stored(&self, ds: Ds) -> Result<DataTree, RestError> {
        let store = &self.server.store;
        let t = match ds {
            Ds::Candidate => Target::Candidate,
            Ds::Startup => Target::Startup,
            _ => Target::Running,
        };
        store
            .get(t)
            .ok_or_else(|| RestError::not_found("the startup datastore (nothing saved to it yet)"))
    }

    /// A GET with state of a whole top-level node in JSON (the default read, and the largest),
    /// written straight from running and the engines' state laid over it
    /// ([`data::json::encode_overlay`]) instead of merging them into a new tree, filtering
    /// that for access control and encoding it: the same reply, for a user who may read the
    /// node whole. None where that does not hold (any other query, a node the user may read
    /// only in part, state the overlay does not follow): the caller merges.
    fn laid_reply(&self, check: &Checker<'_>, l: Laid<'_>) -> Result<Option<Reply>, RestError> {
        let schema = &self.server.schema;
        let top = l
            .res
            .node
            .is_some_and(|id| schema.node(id).parent.is_none());
        let plain = l.enc == Encoding::Json
            && l.ds == Ds::Unified
            && l.q.content.unwrap_or_default() == Content::All
            && l.q.fields.is_none()
            && l.q.depth.is_none();
        if !top || !plain || l.res.all_entries {
            return Ok(None);
        }
        let config = l.stored.find(schema, &l.res.path);
        let base = l.base.find(schema, &l.res.path);
        let state = l.state.tree.find(schema, &l.res.path);
        if base.is_none() && state.is_none() {
            return Ok(None);
        }
        if !base.into_iter().chain(state).all(|n| check.reads_whole(n)) {
            return Ok(None);
        }
        // As `get`: the tag of the configuration, else of the merged node (the state's, when
        // running holds nothing here).
        let tag = match (config, base, state) {
            (Some(c), _, _) => self.tags.etag(std::slice::from_ref(c)),
            (None, None, Some(s)) => view::etag(std::slice::from_ref(s)),
            _ => return Ok(None),
        };
        let modified = self.modified_ms(l.ds, l.res);
        if let Some(r) = preconditions(l.req, Some(&tag), modified, true)? {
            return Ok(Some(r));
        }
        let opts = EncodeOptions {
            with_defaults: l.q.with_defaults.unwrap_or(WithDefaults::Explicit),
            config_only: false,
        };
        let mut body = String::with_capacity(256);
        let (base, state) = (
            base.map(std::slice::from_ref),
            state.map(std::slice::from_ref),
        );
        let tables = l
            .res
            .node
            .map_or_else(Vec::new, |top| l.state.tables_under(top));
        let written = data::json::encode_overlay_rows(
            schema,
            base.unwrap_or_default(),
            state.unwrap_or_default(),
            &tables,
            None,
            opts,
            &mut body,
        );
        if !written {
            return Ok(None);
        }
        let reply = Reply::new(200)
            .body(l.enc, body)
            .header("etag", tag)
            .header("last-modified", http_date(modified));
        Ok(Some(head_or_get(l.req, reply)))
    }

    fn get(&self, req: &Request<'_>, ds: Ds, api_path: &str) -> Result<Reply, RestError> {
        let schema = &self.server.schema;
        let q = Query::parse(req.query)?;
        if let Some(part) = super::monitoring::part(api_path) {
            let part = part?;
            if !matches!(ds, Ds::Unified | Ds::Operational) {
                return Err(RestError::not_found(&format!("'{}' (state)", req.path)));
            }
            q.only(&[])?;
            let enc = req.reply_encoding()?;
            let start = self
                .server
                .events
                .replay(0, None)
                .first()
                .map_or(self.server.stats.start_ms, |e| {
                    e.time_ms.min(self.server.stats.start_ms)
                });
            let body = super::monitoring::render(req, enc, part, start);
            return Ok(head_or_get(req, Reply::new(200).body(enc, body)));
        }
        if ds == Ds::Unified {
            q.only(&["content", "depth", "fields", "with-defaults"])?;
        } else {
            q.only(&["depth", "fields", "with-defaults"])?;
        }
        let enc = req.reply_encoding()?;
        let res = path::resolve(schema, api_path)?;
        let content = q.content.unwrap_or_default();
        let stored = self.stored(ds)?;
        let with_state = (ds == Ds::Operational
            || (ds == Ds::Unified && content != Content::Config))
            && view::may_hold_state(schema, res.node);
        let read = self.with_checker(req, |check| {
            let full = if with_state {
                let scope = view::top_namespace(schema, res.node);
                let (mut tree, state) = self.operational_parts(stored.clone(), scope)?;
                if let Some(state) = state {
                    let laid = Laid {
                        req,
                        q: &q,
                        enc,
                        ds,
                        res: &res,
                        stored: &stored,
                        base: &tree,
                        state: &state,
                    };
                    // The state is freed elsewhere, after the reply.
                    match self.laid_reply(check, laid) {
                        Ok(None) => {}
                        Ok(Some(reply)) => {
                            self.server.store.release(state.tree);
                            return Ok(Read::Done(reply));
                        }
                        Err(e) => {
                            self.server.store.release(state.tree);
                            return Err(e);
                        }
                    }
                    data::merge(schema, &mut tree, state.laid(schema));
                }
                Some(check.read(&tree))
            } else {
                None
            };
            Ok::<_, RestError>(Read::Trees(check.read(&stored), full))
        })?;
        let (config, tree) = match read {
            Read::Done(reply) => return Ok(reply),
            Read::Trees(config, tree) => (config, tree),
        };
        // The entity tag covers the configuration of the resource (or its state, for a
        // resource that has none); it is what an edit's If-Match is compared with.
        let config_nodes = select(schema, &config, &res);
        let nodes = match &tree {
            Some(t) => select(schema, t, &res),
            None => config_nodes.clone(),
        };
        let Some(mut nodes) = nodes else {
            return Err(RestError::not_found(&format!("'{}'", req.path)));
        };
        let tag = match &config_nodes {
            Some(c) if ds != Ds::Operational => self.tags.etag(c),
            _ => view::etag(&nodes),
        };
        let modified = self.modified_ms(ds, &res);
        if let Some(r) = preconditions(req, Some(&tag), modified, true)? {
            return Ok(r);
        }
        if content == Content::Nonconfig {
            nodes = view::nonconfig(schema, &nodes);
            if nodes.is_empty() && !res.is_root() {
                return Err(RestError::not_found(&format!(
                    "state data at '{}'",
                    req.path
                )));
            }
        }
        if let Some(f) = &q.fields {
            nodes = super::fields::select(schema, res.node, &nodes, f)?;
        }
        if let Some(depth) = q.depth {
            let level = if res.is_root() { 2 } else { 1 };
            nodes = view::limit_depth(schema, &nodes, level, depth);
        }
        let opts = EncodeOptions {
            with_defaults: q.with_defaults.unwrap_or(WithDefaults::Explicit),
            config_only: content == Content::Config
                || matches!(ds, Ds::Running | Ds::Candidate | Ds::Startup),
        };
        let body = encode(schema, enc, &res, &nodes, opts)?;
        let reply = Reply::new(200)
            .body(enc, body)
            .header("etag", tag)
            .header("last-modified", http_date(modified));
        Ok(head_or_get(req, reply))
    }
}

/// What a GET with state reads, for [`Api::laid_reply`].
struct Laid<'a> {
    req: &'a Request<'a>,
    q: &'a Query,
    enc: Encoding,
    ds: Ds,
    res: &'a Resource,
    /// The datastore's configuration (the entity tag's).
    stored: &'a DataTree,
    /// It with the management plane's state.
    base: &'a DataTree,
    /// The engines' state.
    state: &'a TreeWithRows,
}

/// A read: answered already, or the trees (the configuration as the user may read it, and
/// with state if asked) to answer from.
enum Read {
    Done(Reply),
    Trees(DataTree, Option<DataTree>),
}

/// The nodes a resource names in a tree: the datastore's top-level nodes, one node, or every
/// entry of a list named without keys. None if there are none.
pub fn select(
    schema: &yang::Schema,
    tree: &DataTree,
    res: &Resource,
) -> Option<Vec<Arc<DataNode>>> {
    let Some(node) = res.node else {
        return Some(tree.roots.clone());
    };
    if res.all_entries {
        let entries = if res.parent_path.is_empty() {
            tree.instances(schema, node)
        } else {
            tree.find(schema, &res.parent_path)?.instances(schema, node)
        };
        return (!entries.is_empty()).then(|| entries.to_vec());
    }
    tree.find(schema, &res.path).map(|n| vec![Arc::clone(n)])
}

/// A resource's representation: the datastore wrapped in `ietf-restconf:data`, or the nodes as
/// their own top-level member (JSON) or element (XML).
pub fn encode(
    schema: &yang::Schema,
    enc: Encoding,
    res: &Resource,
    nodes: &[Arc<DataNode>],
    opts: EncodeOptions,
) -> Result<String, RestError> {
    let mut out = String::with_capacity(256);
    match enc {
        Encoding::Json => {
            if res.is_root() {
                out.push_str("{\"ietf-restconf:data\":");
            }
            data::json::encode_nodes(schema, nodes, None, opts, &mut out);
            if res.is_root() {
                out.push('}');
            }
        }
        Encoding::Xml => {
            if res.is_root() {
                out.push_str(&format!("<data xmlns=\"{RESTCONF_NS}\">"));
            } else if nodes.len() > 1 {
                return Err(RestError::new(
                    ErrorTag::InvalidValue,
                    "several list entries are no one XML document: name one entry by its keys, \
                     or ask for JSON",
                ));
            }
            data::encode_nodes(schema, nodes, "", opts, &mut out);
            if res.is_root() {
                out.push_str("</data>");
            }
        }
    }
    Ok(out)
}

/// `{+restconf}` itself (RFC 8040 §3.3).
fn root(enc: Encoding) -> Result<String, RestError> {
    Ok(match enc {
        Encoding::Json => format!(
            "{{\"ietf-restconf:restconf\":{{\"data\":{{}},\"operations\":{{}},\
             \"yang-library-version\":\"{YANG_LIBRARY_REVISION}\"}}}}"
        ),
        Encoding::Xml => format!(
            "<restconf xmlns=\"{RESTCONF_NS}\"><data/><operations/>\
             <yang-library-version>{YANG_LIBRARY_REVISION}</yang-library-version></restconf>"
        ),
    })
}

/// HEAD: the GET reply's status and headers without its body (RFC 8040 §4.2).
pub fn head_or_get(req: &Request<'_>, mut reply: Reply) -> Reply {
    if req.method == "HEAD" {
        reply
            .headers
            .push(("content-length", reply.body.len().to_string()));
        reply.body.clear();
    }
    reply
}

pub fn not_allowed(allow: &str) -> RestError {
    RestError::new(
        ErrorTag::OperationNotSupported,
        format!("the method is not allowed here; allowed: {allow}"),
    )
    .with_status(405)
}

/// The conditional headers (RFC 7232 §3, in its order of evaluation, §6) against a
/// resource's tag (None: it does not exist) and its last-modified time. A read whose
/// If-None-Match or If-Modified-Since holds is 304; any other failure is 412.
pub fn preconditions(
    req: &Request<'_>,
    tag: Option<&str>,
    modified_ms: u64,
    read: bool,
) -> Result<Option<Reply>, RestError> {
    let failed = |what: &str| {
        RestError::new(
            ErrorTag::OperationFailed,
            format!("the precondition {what} does not hold"),
        )
        .with_status(412)
    };
    let modified_s = modified_ms / 1000;
    let matches = |list: &str| {
        list.split(',').map(str::trim).any(|t| {
            t == "*" && tag.is_some()
                || tag.is_some_and(|tag| t == tag || t.strip_prefix("W/") == Some(tag))
        })
    };
    if let Some(m) = req.header("if-match") {
        if !matches(m) {
            return Err(failed("If-Match"));
        }
    } else if let Some(since) = req.header("if-unmodified-since").and_then(parse_http_date) {
        if modified_s > since {
            return Err(failed("If-Unmodified-Since"));
        }
    }
    if let Some(m) = req.header("if-none-match") {
        if matches(m) {
            if read {
                return Ok(Some(not_modified(tag, modified_ms)));
            }
            return Err(failed("If-None-Match"));
        }
    } else if read {
        if let Some(since) = req.header("if-modified-since").and_then(parse_http_date) {
            if modified_s <= since {
                return Ok(Some(not_modified(tag, modified_ms)));
            }
        }
    }
    Ok(None)
}

fn not_modified(tag: Option<&str>, modified_ms: u64) -> Reply {
    let mut r = Reply::new(304).header("last-modified", http_date(modified_ms));
    if let Some(t) = tag {
        r = r.header("etag", t);
    }
    r
}

/// An IMF-fixdate (RFC 7231 §7.1.1.1).
pub fn http_date(ms: u64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
}

/// Seconds since the epoch of an HTTP date.
fn parse_http_date(s: &str) -> Option<u64> {
    let t = httpdate::parse_http_date(s.trim()).ok()?;
    t.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}
