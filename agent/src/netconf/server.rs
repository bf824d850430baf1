//! State shared by all NETCONF sessions: the datastores and the session table.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use datastore::Datastore;

use crate::clock::now_ms;
use crate::northbound::access::AccessControl;
use tokio::sync::watch;
use yang::Schema;

/// Limits and identity of the server.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_message: usize,
    pub max_sessions: usize,
    pub hello_timeout: std::time::Duration,
    pub idle_timeout: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message: 64 << 20,
            max_sessions: 64,
            hello_timeout: std::time::Duration::from_secs(60),
            idle_timeout: std::time::Duration::from_secs(3600),
        }
    }
}

struct SessionEntry {
    kill: watch::Sender<bool>,
    info: Arc<SessionInfo>,
}

/// How a session reached the server.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The `netconf` subsystem of the SSH server.
    #[default]
    NetconfSsh,
    /// The VRP-style CLI (an SSH shell or exec request). Its sessions share the session ids,
    /// the session limit and kill-session with NETCONF's, but are not NETCONF sessions:
    /// netconf-state does not list them and no netconf-session-start/-end is sent for them.
    CliSsh,
}

/// What netconf-state reports about a session (RFC 6022 §2.1.4).
#[derive(Debug, Default)]
pub struct SessionInfo {
    pub transport: Transport,
    pub user: String,
    pub source_host: String,
    pub login_ms: u64,
    pub in_rpcs: AtomicU64,
    pub in_bad_rpcs: AtomicU64,
    pub out_rpc_errors: AtomicU64,
    pub out_notifications: AtomicU64,
}

/// Server-wide counters (RFC 6022 §2.1.5).
#[derive(Debug, Default)]
pub struct Statistics {
    pub start_ms: u64,
    pub in_bad_hellos: AtomicU64,
    pub in_sessions: AtomicU64,
    pub dropped_sessions: AtomicU64,
    pub in_rpcs: AtomicU64,
    pub in_bad_rpcs: AtomicU64,
    pub out_rpc_errors: AtomicU64,
    pub out_notifications: AtomicU64,
}

pub struct Server {
    pub schema: Arc<Schema>,
    pub store: Arc<Datastore>,
    pub limits: Limits,
    next_id: AtomicU32,
    sessions: Mutex<HashMap<u32, SessionEntry>>,
    pub stats: Statistics,
    /// The NETCONF event stream (RFC 5277).
    pub events: super::notify::Stream,
    /// The protocol engines, once started (absent in management-only tests).
    pub engines: std::sync::OnceLock<Arc<dyn crate::northbound::Protocols>>,
    /// Access control (RFC 8341): the rules of running's `/nacm`, counters, external groups.
    pub access: AccessControl,
    /// The user database, once loaded; a commit that changes `/system` swaps it.
    pub users: std::sync::OnceLock<Arc<crate::northbound::users::Users>>,
}

/// A registered session; unregisters (and releases what it held) when dropped.
pub struct SessionGuard {
    pub id: u32,
    /// RFC 6470 termination-reason reported when the session ends.
    pub reason: &'static str,
    pub killed: watch::Receiver<bool>,
    pub info: Arc<SessionInfo>,
    server: Arc<Server>,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.server.end_session(self.id, &self.info.user);
        if self.info.transport != Transport::NetconfSsh {
            return;
        }
        self.server.events.publish(super::notify::session_event(
            false,
            &self.info.user,
            self.id,
            &self.info.source_host,
            self.reason,
        ));
    }
}

impl Server {
    pub fn new(schema: Arc<Schema>, store: Arc<Datastore>, limits: Limits) -> Arc<Server> {
        let running = store.get(datastore::Target::Running).unwrap_or_default();
        let access = AccessControl::new(Arc::clone(&schema), &running);
        Arc::new(Server {
            schema,
            store,
            limits,
            next_id: AtomicU32::new(1),
            sessions: Mutex::new(HashMap::new()),
            stats: Statistics {
                start_ms: now_ms(),
                ..Statistics::default()
            },
            events: super::notify::Stream::default(),
            engines: std::sync::OnceLock::new(),
            access,
            users: std::sync::OnceLock::new(),
        })
    }

    /// Is `user` the recovery user, whom access control never stops (RFC 8341 §3.4)? The
    /// user database names it (`--recovery-user`); a server without one (tests) has `admin`.
    pub fn is_recovery(&self, user: &str) -> bool {
        match self.users.get() {
            Some(u) => u.recovery_name() == user,
            None => user == "admin",
        }
    }

    /// Run a datastore operation with the user database, access control and the engines
    /// subscribed to the commit pipeline (the cheap checks that reserve nothing first: a bad
    /// user or a `/nacm` that does not compile is refused before the engines reserve
    /// anything).
    pub fn with_subscribers<T>(
        &self,
        f: impl FnOnce(&mut [&mut dyn datastore::Subscriber]) -> T,
    ) -> T {
        let mut users = self.users.get().map(|u| u.subscriber());
        let recovery = self.users.get().map(|u| u.recovery_name());
        let mut nacm = self.access.subscriber(recovery.as_deref());
        let mut engines = self.engines.get().map(|e| e.subscriber());
        let mut subs: Vec<&mut dyn datastore::Subscriber> = Vec::with_capacity(3);
        if let Some(u) = users.as_mut() {
            subs.push(u);
        }
        subs.push(&mut nacm);
        if let Some(e) = engines.as_mut() {
            subs.push(e.as_mut());
        }
        f(&mut subs)
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<u32, SessionEntry>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A session id for a front end that keeps no session state here (RESTCONF connections):
    /// unique among all sessions' ids, so logs and `changed-by` tell them apart.
    pub fn allocate_session_id(&self) -> u32 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Register a new NETCONF session, unless the session limit is reached.
    pub fn register(self: &Arc<Self>, user: &str, source_host: &str) -> Option<SessionGuard> {
        self.register_as(Transport::NetconfSsh, user, source_host)
    }

    /// Register a new session of `transport`, unless the session limit is reached.
    pub fn register_as(
        self: &Arc<Self>,
        transport: Transport,
        user: &str,
        source_host: &str,
    ) -> Option<SessionGuard> {
        let mut t = self.table();
        if t.len() >= self.limits.max_sessions {
            self.stats.dropped_sessions.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        self.stats.in_sessions.fetch_add(1, Ordering::Relaxed);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = watch::channel(false);
        let info = Arc::new(SessionInfo {
            transport,
            user: user.to_string(),
            source_host: source_host.to_string(),
            login_ms: now_ms(),
            ..SessionInfo::default()
        });
        t.insert(
            id,
            SessionEntry {
                kill: tx,
                info: Arc::clone(&info),
            },
        );
        if transport == Transport::NetconfSsh {
            self.events.publish(super::notify::session_event(
                true,
                user,
                id,
                source_host,
                "",
            ));
        }
        Some(SessionGuard {
            id,
            reason: "dropped",
            killed: rx,
            info,
            server: Arc::clone(self),
        })
    }

    /// Sessions by id, for netconf-state.
    pub fn sessions(&self) -> Vec<(u32, Arc<SessionInfo>)> {
        let mut v: Vec<(u32, Arc<SessionInfo>)> = self
            .table()
            .iter()
            .map(|(id, s)| (*id, Arc::clone(&s.info)))
            .collect();
        v.sort_by_key(|(id, _)| *id);
        v
    }

    /// The source address of a session ("" if unknown), for `changed-by` (RFC 6470).
    pub fn source_host(&self, id: u32) -> String {
        self.table()
            .get(&id)
            .map(|s| s.info.source_host.clone())
            .unwrap_or_default()
    }

    /// kill-session: ask a session to end. False if there is no such session.
    pub fn kill(&self, id: u32) -> bool {
        match self.table().get(&id) {
            Some(s) => {
                let _ = s.kill.send(true);
                true
            }
            None => false,
        }
    }

    fn end_session(&self, id: u32, user: &str) {
        self.table().remove(&id);
        match self.with_subscribers(|s| self.store.session_ended(id, s)) {
            Some(Ok(out)) => tracing::warn!(
                session = id,
                %user,
                commit = ?out.id,
                "the session of an unconfirmed confirmed commit ended: running reverted"
            ),
            Some(Err(e)) => {
                tracing::warn!(session = id, error = %e, "rolling back the confirmed commit of an ended session failed")
            }
            None => {}
        }
    }
}
