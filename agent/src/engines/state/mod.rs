//! Operational state and notifications of the device's modules: the only place that writes
//! the engines' YANG data. Input is the tables as they are (typed); the state is built as a
//! data tree directly ([`build`]), except the monitor groups, which are handed over as typed
//! rows kept between reads and read as a table of their list ([`monitors`]); times the cores
//! keep as `Instant`s become wall-clock date-and-time values here.

mod build;
mod mcast;
mod monitors;

pub use monitors::{Memo, MonitorRow, MonitorRows, TableCache};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use dataplane::netlink::{Link, LinkStats};
use yang::data::TreeWithRows;
use yang::xml::escape_text as esc;
use yang::Schema;

use super::bfd::packet::State as BfdState;
use super::config::Config;
use super::hot_backup::{HotBackup, Notification};
use super::mcast::forwarding::Forwarding;
use super::mcast::Multicast;
use super::vrrp::groups::Entry as VrrpEntry;
use super::vrrp::packet as vpkt;
use crate::clock::rfc3339;
use build::Node;

/// The clocks a snapshot is taken at: the cores' monotonic `now`, and the anchor that turns
/// their instants into wall-clock times.
#[derive(Debug, Clone, Copy)]
pub struct At {
    pub now: Instant,
    pub wall: WallAnchor,
}

impl At {
    /// The wall-clock time (ms since the epoch) of a monotonic instant.
    fn wall(&self, then: Instant) -> u64 {
        self.wall.of(then)
    }
}

/// A monotonic instant and the wall clock (ms since the epoch) read at it, kept by the protocol
/// thread. Every snapshot maps an instant to a wall-clock time through the same anchor, so a
/// `last-change` reads the same in every snapshot; a fresh pair of readings per snapshot moved
/// it by a millisecond from one read to the next (two truncations to ms), which changed the
/// reply and its entity tag with nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallAnchor {
    at: Instant,
    wall_ms: u64,
}

impl WallAnchor {
    /// How far the wall clock may be from what the anchor predicts before it is read again
    /// (it was stepped or slewed).
    const DRIFT_MS: u64 = 100;

    pub fn new() -> WallAnchor {
        WallAnchor {
            at: Instant::now(),
            wall_ms: crate::clock::now_ms(),
        }
    }

    /// This anchor, or a new one if the wall clock has moved away from it.
    pub fn checked(self) -> WallAnchor {
        let wall_ms = crate::clock::now_ms();
        if self.of(Instant::now()).abs_diff(wall_ms) > Self::DRIFT_MS {
            WallAnchor::new()
        } else {
            self
        }
    }

    fn of(&self, then: Instant) -> u64 {
        if then >= self.at {
            self.wall_ms + (then - self.at).as_millis() as u64
        } else {
            self.wall_ms
                .saturating_sub((self.at - then).as_millis() as u64)
        }
    }
}

impl Default for WallAnchor {
    fn default() -> WallAnchor {
        WallAnchor::new()
    }
}

/// Microseconds as a decimal64 of milliseconds with three fraction digits (`10.000`).
fn us_as_ms(us: u32) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}

fn mac(m: [u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

/// What the state is made of.
pub struct Sources<'a> {
    pub cfg: &'a Config,
    /// Moves on every change of `cfg`.
    pub cfg_version: u64,
    pub links: &'a BTreeMap<String, Link>,
    /// Interface counters by ifindex as the requester read them.
    pub stats: &'a HashMap<u32, LinkStats>,
    pub hb: &'a HotBackup,
    pub mc: &'a Multicast,
    /// The multicast forwarder (its counters).
    pub fwd: &'a Forwarding,
}

const IF_NS: &str = "urn:ne-agent:yang:ne-interfaces";
const MON_NS: &str = "urn:ne-agent:yang:ne-monitor-group";
const BFD_NS: &str = "urn:ne-agent:yang:ne-bfd";
const VRRP_NS: &str = "urn:ne-agent:yang:ne-vrrp";
const MC_NS: &str = "urn:ne-agent:yang:ne-multicast";

/// A snapshot of the engines' state, made on the protocol thread; [`Snapshot::state`] turns
/// it into data on the requester's.
pub struct Snapshot {
    nodes: Vec<Node>,
    /// The monitor groups (the same `Arc` while they do not change).
    monitors: Option<Arc<MonitorRows>>,
}

impl Snapshot {
    /// The snapshot as data, the monitor groups' rows as a table (`cache` keeps the last).
    pub fn state(self, schema: &Schema, cache: &Mutex<TableCache>) -> TreeWithRows {
        let mut tree = build::tree(schema, self.nodes);
        let mut tables = Vec::new();
        if let Some(rows) = self.monitors.filter(|r| !r.0.is_empty()) {
            // Held while a new table is made: two readers of the same new rows make it once.
            let table = cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .table(schema, rows);
            match table {
                Ok(t) => {
                    // The table's containers, for the rows to be laid in.
                    let mut top = yang::data::DataNode::inner(t.parent());
                    for &id in t.chain().iter().rev().skip(1) {
                        let mut outer = yang::data::DataNode::inner(id);
                        outer.children.push(Arc::new(top));
                        top = outer;
                    }
                    match tree.insert(schema, top) {
                        Ok(()) => tables.push(t),
                        Err(e) => tracing::error!(error = %e, "state root twice; left out"),
                    }
                }
                Err(e) => {
                    debug_assert!(false, "monitor groups' rows: {e}");
                    tracing::error!(error = %e, "monitor groups' state does not fit its model; left out");
                }
            }
        }
        TreeWithRows { tree, tables }
    }
}

/// Which of the state's top-level trees a request needs: all of them, or those of one module
/// (a RESTCONF resource or a filter under one top-level node), so that a read of one subtree
/// does not copy, build and merge the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// The namespace of the one top-level node asked for; None: everything.
    ns: Option<String>,
}

impl Scope {
    /// Every tree.
    pub fn all() -> Scope {
        Scope::default()
    }

    /// The trees under the top-level node of the module with namespace `ns` (with their
    /// augmentations from other modules).
    pub fn module(ns: &str) -> Scope {
        Scope {
            ns: Some(ns.to_string()),
        }
    }

    fn wants(&self, ns: &str) -> bool {
        self.ns.as_deref().is_none_or(|n| n == ns)
    }

    /// Whether the interfaces (and so the kernel's counters) are asked for.
    pub fn interfaces(&self) -> bool {
        self.wants(IF_NS)
    }
}

/// Interfaces (every one of the device, configured or not, and the configured ones that are
/// not present), monitor groups, BFD, VRRP and multicast, as far as `scope` asks.
/// `memo` keeps the monitor groups' rows from one snapshot to the next.
pub fn snapshot(s: &Sources<'_>, at: At, scope: &Scope, memo: &mut Memo) -> Snapshot {
    let mut roots = Vec::new();
    if scope.wants(IF_NS) {
        roots.push(interfaces(s, at));
    }
    let monitors = scope.wants(MON_NS).then(|| memo.rows(s, at));
    if scope.wants(BFD_NS) {
        roots.push(bfd(s, at));
    }
    if scope.wants(MC_NS) && (mcast::any(s.mc, s.fwd) || mcast::bsr_shown(s.mc)) {
        let mut m = Node::root(MC_NS, "multicast");
        mcast::forwarding_plane(s.mc, s.fwd, &mut m);
        mcast::routes(s.mc, &mut m);
        mcast::bsr(s.mc, &mut m, at.now);
        roots.push(m);
    }
    Snapshot {
        nodes: roots,
        monitors,
    }
}

fn interfaces(s: &Sources<'_>, at: At) -> Node {
    let mut ifs = Node::root(IF_NS, "interfaces");
    let names: BTreeSet<&String> = s.cfg.interfaces.keys().chain(s.links.keys()).collect();
    for name in names {
        let i = ifs.add("interface");
        i.leaf("name", name);
        match s.links.get(name) {
            Some(l) => {
                i.leaf("oper-status", if l.oper_up { "up" } else { "down" })
                    .leaf("if-index", l.index)
                    .leaf_opt("phys-address", l.mac.map(mac));
                let c = s.stats.get(&l.index).copied().unwrap_or(l.stats);
                i.add("statistics")
                    .leaf("in-packets", c.rx_packets)
                    .leaf("out-packets", c.tx_packets)
                    .leaf("in-octets", c.rx_bytes)
                    .leaf("out-octets", c.tx_bytes)
                    .leaf("in-discards", c.rx_dropped);
            }
            None => {
                i.leaf("oper-status", "not-present");
            }
        }
        mcast::interface(s.mc, name, i, at.now);
        let malformed = s.hb.vrrp.malformed.get(name.as_str()).copied().unwrap_or(0);
        let mut groups = s.hb.vrrp.on(name).peekable();
        if groups.peek().is_some() || malformed > 0 {
            let v = i.add_ns(VRRP_NS, "vrrp");
            v.add("statistics").leaf("rx-malformed", malformed);
            for (_, e) in groups {
                vrrp_group(s, e, at, v.add("group"));
            }
        }
    }
    ifs
}

/// rfc3339 of wall-clock times, the last one kept: the entries of a long list mostly changed
/// at the same few instants (a commit, a link event), so most are a copy, not a formatting.
#[derive(Default)]
struct Stamps {
    last: Option<(u64, String)>,
}

impl Stamps {
    fn of(&mut self, ms: u64) -> &str {
        if self.last.as_ref().is_none_or(|(at, _)| *at != ms) {
            self.last = Some((ms, rfc3339(ms)));
        }
        self.last.as_ref().map_or("", |(_, text)| text)
    }
}

fn bfd(s: &Sources<'_>, at: At) -> Node {
    let t = &s.hb.bfd;
    let mut root = Node::root(BFD_NS, "bfd");
    if t.is_empty() && t.malformed == 0 {
        return root;
    }
    root.add("statistics").leaf("rx-malformed", t.malformed);
    for (_, e) in t.iter() {
        let c = e.core.counters();
        let n = root.add("session");
        n.leaf("name", &e.name)
            .leaf("state", e.core.state().name())
            .leaf("remote-state", e.core.remote_state().name())
            .leaf("local-diagnostic", e.core.local_diag().name())
            .leaf("actual-tx-interval", e.core.actual_tx_interval_us())
            .leaf(
                "actual-tx-interval-ms",
                us_as_ms(e.core.actual_tx_interval_us()),
            )
            .leaf("detection-time", e.core.detection_time_us())
            .leaf("detection-time-ms", us_as_ms(e.core.detection_time_us()))
            .leaf_opt("last-tx-error", e.last_tx_error.as_ref())
            .leaf("up-transitions", c.up_transitions)
            .leaf("last-state-change", rfc3339(at.wall(e.changed_at)));
        n.add("statistics")
            .leaf("tx-packets", e.tx_packets())
            .leaf("tx-errors", e.tx_errors)
            .leaf("rx-packets", c.rx_packets)
            .leaf("rx-discarded", c.rx_discarded + e.io_discards);
    }
    root
}

fn vrrp_group(s: &Sources<'_>, e: &VrrpEntry, at: At, g: &mut Node) {
    let c = e.core.counters();
    g.leaf("vrid", e.vrid)
        .leaf("state", e.core.state().name())
        .leaf("current-priority", e.core.current_priority())
        .leaf_opt("master-ip", e.core.master_ip())
        .leaf_opt("master-priority", e.core.master_priority())
        .leaf("virtual-mac", mac(vpkt::virtual_mac(e.vrid)))
        .leaf(
            "master-down-interval",
            e.core.master_down_interval().as_millis(),
        )
        .leaf("last-change", rfc3339(at.wall(e.changed_at)))
        .leaf("new-master-reason", e.core.last_reason().name());
    if !e.cfg.track_bfd.is_empty() || !e.cfg.track_monitor.is_empty() {
        let t = g.add("track");
        for m in &e.cfg.track_monitor {
            let enabled = s
                .cfg
                .monitor_groups
                .get(&m.group)
                .is_some_and(|g| g.enabled);
            let ratio = s.hb.monitors.ratio(&m.group);
            let state = if !enabled {
                "disabled"
            } else if ratio >= m.failure_ratio {
                "failed"
            } else {
                "normal"
            };
            t.add("monitor-group")
                .leaf("name", &m.group)
                .leaf("group-state", state);
        }
        for b in &e.cfg.track_bfd {
            let st =
                s.hb.bfd
                    .by_name(&b.session)
                    .map_or(BfdState::Down, |x| x.core.state());
            t.add("bfd-session")
                .leaf("session", &b.session)
                .leaf("session-state", st.name());
        }
    }
    g.add("statistics")
        .leaf("master-transitions", c.master_transitions)
        .leaf("adverts-sent", c.adverts_sent)
        .leaf("adverts-received", c.adverts_received)
        .leaf("priority-zero-sent", c.priority_zero_sent)
        .leaf("priority-zero-received", c.priority_zero_received)
        .leaf("checksum-errors", e.checksum_errors)
        .leaf("ttl-errors", e.ttl_errors)
        .leaf("interval-errors", c.interval_errors);
}

/// A notification's XML (the body of `<notification>` after `eventTime`).
pub fn notification_xml(n: &Notification) -> String {
    match n {
        Notification::BfdStateChange {
            session,
            old,
            new,
            diag,
        } => format!(
            "<session-state-change xmlns=\"urn:ne-agent:yang:ne-bfd\"><name>{}</name>\
             <old-state>{}</old-state><new-state>{}</new-state><diagnostic>{}</diagnostic>\
             </session-state-change>",
            esc(session),
            old.name(),
            new.name(),
            diag.name()
        ),
        Notification::VrrpStateChange {
            interface,
            vrid,
            old,
            new,
            reason,
        } => format!(
            "<state-change xmlns=\"urn:ne-agent:yang:ne-vrrp\"><interface>{}</interface>\
             <vrid>{vrid}</vrid><old-state>{}</old-state><new-state>{}</new-state>\
             <reason>{}</reason></state-change>",
            esc(interface),
            old.name(),
            new.name(),
            reason.name()
        ),
        Notification::MonitorStatus {
            group,
            failure_ratio,
        } => format!(
            "<status-change xmlns=\"urn:ne-agent:yang:ne-monitor-group\"><name>{}</name>\
             <failure-ratio>{failure_ratio}</failure-ratio></status-change>",
            esc(group)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn an_instant_reads_the_same_wall_time_in_every_snapshot() {
        let anchor = WallAnchor::new();
        let changed = anchor.at + Duration::from_micros(1_500);
        let first = At {
            now: Instant::now(),
            wall: anchor.checked(),
        };
        std::thread::sleep(Duration::from_millis(3));
        let second = At {
            now: Instant::now(),
            wall: anchor.checked(),
        };
        assert_eq!(first.wall(changed), anchor.wall_ms + 1);
        assert_eq!(first.wall(changed), second.wall(changed));
        // The clock did not move away: the anchor is kept, not read again.
        assert_eq!(second.wall.at, anchor.at);
        // Before the anchor, too.
        let earlier = anchor.at.checked_sub(Duration::from_millis(2_000));
        if let Some(earlier) = earlier {
            assert_eq!(first.wall(earlier), anchor.wall_ms - 2_000);
        }
    }
}
