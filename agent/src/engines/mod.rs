//! Protocol engines: sans-I/O cores (`bfd`, `vrrp`, `monitor`, `track`) and the driver thread
//! that runs them against real sockets. [`Engines`] is their handle: a commit-pipeline
//! subscriber (prepare may veto, apply reconciles only what changed) and the source of their
//! operational state for `<get>`.

pub mod bfd;
pub mod checks;
pub mod config;
pub mod hot_backup;
pub mod ifconfig;
pub mod igmp;
pub mod mcast;
pub mod netdevs;
pub mod pim;
pub mod rib_copy;
pub mod rib_loader;
pub mod rng;
mod sim;
pub mod sockets;
pub mod state;
pub mod thread;
pub mod vrrp;

use std::collections::HashMap;
use std::os::unix::net::UnixDatagram;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dataplane::netlink::{self, LinkStats};
use datastore::Subscriber;
use yang::data::{DataError, DataTree, ErrorTag};
use yang::diff::Change;
use yang::Schema;

use self::config::Config;
use self::thread::{Command, Thread};

/// The handle on the protocol thread.
pub struct Engines {
    schema: Arc<Schema>,
    commands: Mutex<Sender<Command>>,
    wake: UnixDatagram,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Interface counters are read here, in the requester's thread: a netlink dump can wait
    /// on kernel locks, and the protocol thread must not.
    stats_nl: Mutex<Option<netlink::Handle>>,
    /// The table of the monitor groups' last rows.
    tables: Mutex<state::TableCache>,
}

/// How long a NETCONF request waits for the protocol thread before giving up.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

impl Engines {
    /// Start the protocol thread with `running` as the initial configuration. Protocol
    /// notifications (XML) are sent to `events`.
    pub fn start(
        schema: Arc<Schema>,
        running: &DataTree,
        events: Sender<String>,
    ) -> std::io::Result<Engines> {
        let (tx, rx) = mpsc::channel();
        let (wake, wake_rx) = UnixDatagram::pair()?;
        wake.set_nonblocking(true)?;
        wake_rx.set_nonblocking(true)?;
        let thread = std::thread::Builder::new()
            .name("protocols".into())
            .spawn(move || Thread::new(rx, wake_rx, events).run())?;
        let engines = Engines {
            schema,
            commands: Mutex::new(tx),
            wake,
            thread: Mutex::new(Some(thread)),
            stats_nl: Mutex::new(None),
            tables: Mutex::new(state::TableCache::default()),
        };
        let delta = config::Delta::full(Config::from_tree(&engines.schema, running));
        match engines.request(|r| Command::Prepare(Box::new(delta), r)) {
            Some(Ok(())) => engines.send(Command::Apply),
            Some(Err(e)) => {
                tracing::error!(error = %e, "the running configuration cannot start its protocols")
            }
            None => tracing::error!("the protocol thread does not answer"),
        }
        Ok(engines)
    }

    fn send(&self, c: Command) {
        let sent = self
            .commands
            .lock()
            .map(|tx| tx.send(c).is_ok())
            .unwrap_or(false);
        if sent {
            let _ = self.wake.send(&[1]);
        }
    }

    fn request<T>(&self, make: impl FnOnce(Sender<T>) -> Command) -> Option<T> {
        let (tx, rx) = mpsc::channel();
        self.send(make(tx));
        rx.recv_timeout(REPLY_TIMEOUT).ok()
    }

    /// Operational state of interfaces, monitor groups, BFD, VRRP and multicast.
    pub fn state(&self) -> Option<DataTree> {
        self.state_of(&state::Scope::all())
    }

    /// The part of the state `scope` asks for (the kernel's counters are read only when the
    /// interfaces are asked for).
    pub fn state_of(&self, scope: &state::Scope) -> Option<DataTree> {
        Some(self.state_parts(scope)?.laid(&self.schema))
    }

    /// [`Engines::state_of`] with the lists that are tables of rows left as tables (a reader
    /// that can read rows does not need them as data nodes).
    pub fn state_parts(&self, scope: &state::Scope) -> Option<yang::data::TreeWithRows> {
        let stats = if scope.interfaces() {
            self.link_stats()
        } else {
            HashMap::new()
        };
        let scope = scope.clone();
        let snapshot = self.request(|r| Command::State(stats, scope, r))?;
        // Turned into data here, in the requester's thread: the protocol thread only copied.
        Some(snapshot.state(&self.schema, &self.tables))
    }

    /// The kernel's interface counters by ifindex; empty when netlink fails (the state then
    /// shows the counters of the last link event).
    fn link_stats(&self) -> HashMap<u32, LinkStats> {
        let Ok(mut nl) = self.stats_nl.lock() else {
            return HashMap::new();
        };
        if nl.is_none() {
            *nl = netlink::Handle::open().ok();
        }
        let Some(h) = nl.as_mut() else {
            return HashMap::new();
        };
        match h.links() {
            Ok(links) => links.into_iter().map(|l| (l.index, l.stats)).collect(),
            Err(e) => {
                tracing::debug!(error = %e, "interface counters unavailable");
                *nl = None;
                HashMap::new()
            }
        }
    }

    /// Send the shutdown packets (priority-0 adverts, BFD AdminDown) and stop the thread.
    pub fn stop(&self) {
        let _ = self.request(Command::Stop);
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }

    /// A subscriber view for one commit.
    pub fn subscriber(&self) -> EngineSubscriber<'_> {
        EngineSubscriber {
            engines: self,
            prepared: false,
        }
    }
}

/// The engines as a commit-pipeline subscriber.
pub struct EngineSubscriber<'a> {
    engines: &'a Engines,
    prepared: bool,
}

impl Subscriber for EngineSubscriber<'_> {
    fn prepare(&mut self, changes: &[Change], new: &DataTree) -> Result<(), DataError> {
        if changes
            .iter()
            .any(|c| checks::may_affect_cross_checks(&c.path))
        {
            let schema = &self.engines.schema;
            let ifs = config::interfaces_of(schema, new);
            checks::virtual_ips(&ifs).map_err(|r| {
                DataError::new(ErrorTag::InvalidValue, r.message)
                    .path(r.path)
                    .info("bad-element", "virtual-ip")
            })?;
            let enabled = |g: &str| config::monitor_group_of(schema, new, g).map(|m| m.enabled);
            for (ifname, vrid, group) in checks::tracks_of_disabled_groups(&ifs, enabled) {
                tracing::warn!(
                    interface = %ifname,
                    vrid,
                    monitor_group = %group,
                    "VRRP group tracks a monitor group that is not enabled: the track never moves the priority until the group is enabled"
                );
            }
        }
        if !config::relevant(changes) {
            return Ok(());
        }
        let delta = config::Delta::from_changes(&self.engines.schema, new, changes);
        match self
            .engines
            .request(|r| Command::Prepare(Box::new(delta), r))
        {
            Some(Ok(())) => {
                self.prepared = true;
                Ok(())
            }
            Some(Err(e)) => Err(DataError::new(ErrorTag::OperationFailed, e)),
            None => Err(DataError::new(
                ErrorTag::OperationFailed,
                "the protocol engines did not answer in time",
            )),
        }
    }

    fn apply(&mut self, _changes: &[Change], _new: &DataTree) {
        if std::mem::take(&mut self.prepared) {
            self.engines.send(Command::Apply);
        }
    }

    fn abort(&mut self) {
        if std::mem::take(&mut self.prepared) {
            self.engines.send(Command::Abort);
        }
    }
}
