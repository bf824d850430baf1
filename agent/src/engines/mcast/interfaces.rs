//! The table of multicast interfaces: each one's kernel view (index, MAC, addresses, oper
//! state), its IGMP and PIM cores with their downstream Join/Prune state, and their timers.
//! It owns the entries and turns what the cores decide into [`IfEvent`]s (`actions.rs`), in
//! order: frames to send (with the interface's MAC and address), "the routes must be computed
//! again", and PIM neighbors that came up (the engine's upstream state joins toward them
//! again). What needs the engine's view (the forwarding table, RPF, the upstream state) comes
//! back as a [`Received`] for the engine to finish.
//!
//! Sans I/O: no socket, no clock; every input takes `now`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dataplane::forward::FwdIf;
use dataplane::mfib::Oif;
use dataplane::netlink::{Addr, Link};
use tracing::{debug, info};

use super::gates::{Gate, Gates};
use super::routes;
use crate::engines::config;
use crate::engines::igmp::iface as igmp;
use crate::engines::pim::downstream::{Downstream, DEFAULT_JP_OVERRIDE_INTERVAL};
use crate::engines::pim::iface::{self as pim, RouteMetric};
use crate::engines::pim::packet::{Assert, Bootstrap, JoinPrune, Message as PimMessage, Pdu};

pub const IGMP_PROTO: u8 = 2;
pub const PIM_PROTO: u8 = 103;

/// One interface with IGMP, PIM or a gate.
pub(in crate::engines) struct McIf {
    pub(in crate::engines) cfg: config::McInterface,
    pub(in crate::engines) index: Option<u32>,
    pub(in crate::engines) mac: [u8; 6],
    pub(in crate::engines) local: Ipv4Addr,
    pub(in crate::engines) prefixes: Vec<(Ipv4Addr, u8)>,
    pub(in crate::engines) up: bool,
    pub(in crate::engines) igmp: Option<igmp::Interface>,
    pub(in crate::engines) pim: Option<pim::Interface>,
    /// Downstream Join/Prune state (with PIM).
    pub(in crate::engines) ds: Option<Downstream>,
    pub(in crate::engines) igmp_since: Option<Instant>,
    /// IGMP and PIM messages received on this interface that did not decode.
    pub(in crate::engines) igmp_malformed: u64,
    pub(in crate::engines) pim_malformed: u64,
}

impl McIf {
    fn new() -> McIf {
        McIf {
            cfg: config::McInterface::default(),
            index: None,
            mac: [0; 6],
            local: Ipv4Addr::UNSPECIFIED,
            prefixes: Vec::new(),
            up: false,
            igmp: None,
            pim: None,
            ds: None,
            igmp_since: None,
            igmp_malformed: 0,
            pim_malformed: 0,
        }
    }

    /// Gated by the mVRRP group (ifname, vrid)?
    pub(in crate::engines) fn gated_by(&self, ifname: &str, vrid: u8) -> bool {
        self.cfg
            .gate
            .as_ref()
            .is_some_and(|(i, v)| i == ifname && *v == vrid)
    }
}

/// What the table asks of the engine, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfEvent {
    /// Send this Ethernet frame on the control socket of `interface`.
    Frame { interface: String, frame: Vec<u8> },
    /// Memberships, downstream joins, neighbors, the DR or an Assert changed: the routes are
    /// computed again.
    Changed,
    /// A PIM neighbor came up or restarted: upstream joins toward it are sent again.
    NeighborUp(Ipv4Addr),
    /// The same, with its interface: the stored Bootstrap message may be owed to it (RFC 5059
    /// §3.5).
    NewNeighbor {
        interface: String,
        neighbor: Ipv4Addr,
    },
}

/// A PIM message that needs the engine's view to be acted on.
pub enum Received {
    /// An Assert from `src`: the engine works out our metric and whether we track Asserts
    /// for its route, then hands it to [`Interfaces::receive_assert`].
    Assert { src: Ipv4Addr, assert: Assert },
    /// A Join/Prune from neighbor `src` that names another upstream neighbor than us: seen for
    /// prune override of our own joins on the interface with this index.
    OthersJoinPrune { ifindex: u32, jp: JoinPrune },
    /// A Bootstrap message from PIM neighbor `src` to `dst` (ALL-PIM-ROUTERS, or one of our
    /// addresses) on the interface with this index: for the BSR machinery (RFC 5059).
    Bootstrap {
        ifindex: u32,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        bsm: Bootstrap,
    },
}

pub(crate) fn igmp_config(c: &config::Igmp) -> igmp::Config {
    igmp::Config {
        version: c.version,
        query_interval: Duration::from_secs(u64::from(c.query_interval_s)),
        max_response: Duration::from_secs(u64::from(c.max_response_s)),
        robustness: c.robustness,
        last_member_interval: Duration::from_secs(u64::from(c.last_member_interval_s)),
    }
}

pub(crate) fn pim_config(c: &config::Pim) -> pim::Config {
    pim::Config {
        dr_priority: c.dr_priority,
        hello_interval: Duration::from_secs(u64::from(c.hello_interval_s)),
        ignore_dr: c.ignore_dr,
        ignore_assert: c.ignore_assert,
    }
}

/// J/P_Override_Interval of a LAN (RFC 7761 §4.3.3): from the neighbors' LAN Prune Delay
/// options when all of them sent one, else the default.
fn override_interval(p: &pim::Interface) -> Duration {
    let mut prop = 0u16;
    let mut over = 0u16;
    for n in p.neighbors() {
        let Some(d) = n.lan_prune_delay else {
            return DEFAULT_JP_OVERRIDE_INTERVAL;
        };
        prop = prop.max(d.propagation_delay_ms);
        over = over.max(d.override_interval_ms);
    }
    if prop == 0 && over == 0 {
        return DEFAULT_JP_OVERRIDE_INTERVAL;
    }
    Duration::from_millis(u64::from(prop) + u64::from(over))
}

/// The multicast interfaces by name.
pub struct Interfaces {
    ifs: BTreeMap<String, McIf>,
    /// Seeds each new PIM interface's generation ID.
    seed: u64,
    events: Vec<IfEvent>,
}

impl Interfaces {
    pub fn new(seed: u64) -> Interfaces {
        Interfaces {
            ifs: BTreeMap::new(),
            seed,
            events: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, e: IfEvent) {
        self.events.push(e);
    }

    /// What the table asks of the engine since the last call, in order (drained).
    pub fn events(&mut self) -> std::vec::Drain<'_, IfEvent> {
        self.events.drain(..)
    }

    pub(in crate::engines) fn get(&self, name: &str) -> Option<&McIf> {
        self.ifs.get(name)
    }

    pub(in crate::engines) fn iter(&self) -> impl Iterator<Item = (&String, &McIf)> + '_ {
        self.ifs.iter()
    }

    /// The interface with index `ifindex`.
    pub(in crate::engines) fn by_index(&self, ifindex: u32) -> Option<(&String, &McIf)> {
        self.ifs.iter().find(|(_, e)| e.index == Some(ifindex))
    }

    /// The name of our multicast interface with index `ifindex`.
    pub fn name_of(&self, ifindex: u32) -> Option<String> {
        self.by_index(ifindex).map(|(n, _)| n.clone())
    }

    /// PIM on the interface with this index, if it runs there.
    pub fn pim_at(&self, ifindex: u32) -> Option<&pim::Interface> {
        self.by_index(ifindex)?.1.pim.as_ref()
    }

    pub fn is_pim(&self, ifindex: u32) -> bool {
        self.pim_at(ifindex).is_some()
    }

    /// Is `addr` one of our interfaces' addresses?
    pub fn is_local(&self, addr: Ipv4Addr) -> bool {
        self.ifs
            .values()
            .any(|e| e.prefixes.iter().any(|&(a, _)| a == addr))
    }

    /// The connected subnets, by ifindex.
    pub fn connected(&self) -> impl Iterator<Item = (u32, &[(Ipv4Addr, u8)])> + '_ {
        self.ifs
            .values()
            .filter_map(|e| Some((e.index?, e.prefixes.as_slice())))
    }

    /// The multicast interfaces that exist (name, ifindex): each gets a control socket.
    pub fn control_interfaces(&self) -> impl Iterator<Item = (&str, u32)> + '_ {
        self.ifs
            .iter()
            .filter_map(|(n, e)| Some((n.as_str(), e.index?)))
    }

    /// The interfaces the forwarder runs on.
    pub fn forwarder_interfaces(&self) -> Vec<FwdIf> {
        self.ifs
            .iter()
            .filter_map(|(n, e)| {
                e.index.map(|i| FwdIf {
                    ifindex: i,
                    name: n.clone(),
                    mac: e.mac,
                })
            })
            .collect()
    }

    /// Is any interface gated by the mVRRP group (ifname, vrid)?
    pub fn gated(&self, ifname: &str, vrid: u8) -> bool {
        self.ifs.values().any(|e| e.gated_by(ifname, vrid))
    }

    /// Gate readiness: IGMP on every interface gated by this group has had one max-response
    /// time to relearn its receivers (after a restart, preempting earlier would cut them off).
    pub fn gate_ready(&self, ifname: &str, vrid: u8, now: Instant) -> Option<Duration> {
        self.ifs
            .values()
            .filter(|e| e.gated_by(ifname, vrid))
            .filter_map(|e| {
                let c = e.cfg.igmp.as_ref()?;
                let max_response = Duration::from_secs(u64::from(c.max_response_s));
                routes::relearn_wait(e.igmp_since, max_response, now)
            })
            .max()
    }

    /// Outgoing interfaces of (s, g) arriving on `iif` (RFC 7761 §4.1.6, with the vendor
    /// knobs): IGMP listeners where we may forward (I_am_DR, `ignore-dr-state`, or no PIM)
    /// and PIM downstream joins ((S,G) or (*,G)), less the interfaces where another router won
    /// the Assert; each is forwarding unless its mVRRP gate is closed.
    pub fn oifs_for(&self, s: Ipv4Addr, g: Ipv4Addr, iif: u32, gates: &Gates) -> Vec<Oif> {
        self.ifs
            .values()
            .filter_map(|e| {
                let i = routes::Interface {
                    ifindex: e.index?,
                    igmp: e.igmp.as_ref(),
                    pim: e.pim.as_ref(),
                    downstream: e.ds.as_ref(),
                    gate: match &e.cfg.gate {
                        Some((gi, gv)) => gates.get(gi, *gv),
                        None => Gate::NONE,
                    },
                };
                routes::oif(&i, s, g, iif)
            })
            .collect()
    }

    /// Apply the interfaces of a new configuration (none when routing is off): entries are
    /// created, reconfigured or dropped, and so are their cores.
    pub fn configure(&mut self, cfg: &config::Multicast) {
        let enabled = cfg.routing_enable;
        self.ifs
            .retain(|n, _| enabled && cfg.interfaces.contains_key(n));
        if enabled {
            for (name, c) in &cfg.interfaces {
                self.ifs.entry(name.clone()).or_insert_with(McIf::new).cfg = c.clone();
            }
        }
    }

    /// Create, reconfigure or drop the IGMP and PIM cores of every interface.
    pub fn sync_all_cores(&mut self, now: Instant) {
        let names: Vec<String> = self.ifs.keys().cloned().collect();
        for name in names {
            self.sync_cores(&name, now);
        }
    }

    fn sync_cores(&mut self, name: &str, now: Instant) {
        let Some(e) = self.ifs.get_mut(name) else {
            return;
        };
        let mut igmp_out = Vec::new();
        match (&e.cfg.igmp, e.igmp.as_mut()) {
            (Some(c), Some(i)) => igmp_out = i.reconfigure(igmp_config(c), now),
            (Some(c), None) => {
                let mut i = igmp::Interface::new(igmp_config(c), e.local, now);
                igmp_out = i.on_timer(now);
                e.igmp = Some(i);
                e.igmp_since = Some(now);
                info!(interface = %name, "IGMP enabled");
            }
            (None, Some(_)) => {
                e.igmp = None;
                e.igmp_since = None;
            }
            (None, None) => {}
        }
        let mut pim_out = Vec::new();
        match (&e.cfg.pim, e.pim.as_mut()) {
            (Some(c), Some(p)) => pim_out = p.reconfigure(pim_config(c), now),
            (Some(c), None) => {
                self.seed = self
                    .seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let p = pim::Interface::new(pim_config(c), e.local, now, (self.seed >> 32) as u32);
                e.pim = Some(p);
                e.ds = Some(Downstream::new(e.local));
                info!(interface = %name, "PIM-SM enabled");
            }
            (None, Some(p)) => {
                pim_out = p.shutdown();
                e.pim = None;
                e.ds = None;
                self.events.push(IfEvent::Changed);
            }
            (None, None) => {}
        }
        self.igmp_actions(name, igmp_out);
        self.pim_actions(name, pim_out);
    }

    /// Interface index, MAC, address and oper state from the kernel's view.
    pub fn sync_links(&mut self, links: &BTreeMap<String, Link>, addrs: &[Addr], now: Instant) {
        let names: Vec<String> = self.ifs.keys().cloned().collect();
        for name in names {
            let Some(e) = self.ifs.get_mut(&name) else {
                continue;
            };
            let Some(l) = links.get(&name) else {
                e.index = None;
                e.up = false;
                if let Some(d) = e.ds.as_mut() {
                    d.clear();
                    self.events.push(IfEvent::Changed);
                }
                continue;
            };
            e.index = Some(l.index);
            e.mac = l.mac.unwrap_or([0; 6]);
            if e.up && !l.oper_up {
                // Downstream routers on a dead link cannot hold their joins.
                if let Some(d) = e.ds.as_mut() {
                    d.clear();
                    self.events.push(IfEvent::Changed);
                }
            }
            e.up = l.oper_up;
            e.prefixes = addrs
                .iter()
                .filter(|a| a.index == l.index)
                .map(|a| (a.ip, a.prefix_len))
                .collect();
            let local = e.prefixes.first().map_or(Ipv4Addr::UNSPECIFIED, |p| p.0);
            if local != e.local {
                e.local = local;
                if let Some(d) = e.ds.as_mut() {
                    d.set_local(local);
                }
                let pim_out = e.pim.as_mut().map(|p| p.set_local(local));
                let igmp_out = e.igmp.as_mut().map(|i| i.set_local(local, now));
                self.pim_actions(&name, pim_out.unwrap_or_default());
                self.igmp_actions(&name, igmp_out.unwrap_or_default());
            }
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.ifs
            .values()
            .flat_map(|e| {
                [
                    e.igmp.as_ref().and_then(|i| i.next_deadline()),
                    e.pim.as_ref().and_then(|p| p.next_deadline()),
                    e.ds.as_ref().and_then(|d| d.next_deadline()),
                ]
            })
            .flatten()
            .min()
    }

    /// Run the cores' timers that are due.
    pub fn on_timer(&mut self, now: Instant) {
        let names: Vec<String> = self.ifs.keys().cloned().collect();
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        for n in &names {
            let Some(e) = self.ifs.get_mut(n) else {
                continue;
            };
            let igmp_out = match e.igmp.as_mut() {
                Some(i) if due(i.next_deadline()) => i.on_timer(now),
                _ => Vec::new(),
            };
            self.igmp_actions(n, igmp_out);
            let Some(e) = self.ifs.get_mut(n) else {
                continue;
            };
            let pim_out = match e.pim.as_mut() {
                Some(p) if due(p.next_deadline()) => p.on_timer(now),
                _ => Vec::new(),
            };
            self.pim_actions(n, pim_out);
            let Some(e) = self.ifs.get_mut(n) else {
                continue;
            };
            let ds_out = match e.ds.as_mut() {
                Some(d) if due(d.next_deadline()) => d.on_timer(now),
                _ => Vec::new(),
            };
            self.ds_actions(n, ds_out);
        }
    }

    /// An IGMP or PIM message received on `name` (an IPv4 payload from `src` to `dst`): IGMP
    /// and PIM Hellos and Join/Prunes for us are handled here; what needs the engine comes back.
    pub fn receive(
        &mut self,
        name: &str,
        proto: u8,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        payload: &[u8],
        now: Instant,
    ) -> Option<Received> {
        let e = self.ifs.get_mut(name)?;
        match proto {
            IGMP_PROTO => {
                let msg = match crate::engines::igmp::packet::decode(payload) {
                    Ok(m) => m,
                    Err(err) => {
                        e.igmp_malformed += 1;
                        debug!(interface = %name, source = %src, error = %err, "malformed IGMP message dropped");
                        return None;
                    }
                };
                let a = e.igmp.as_mut()?.receive(&msg, src, dst, now);
                self.igmp_actions(name, a);
                None
            }
            PIM_PROTO => {
                // Unicast to us: read from the raw PIM socket ([`Multicast::unicast_pim`]).
                if super::register::raw_socket_message(payload) {
                    return None;
                }
                let msg = match Pdu::decode(payload) {
                    Ok(Pdu::Message(m)) => m,
                    Ok(Pdu::Bootstrap(bsm)) => {
                        // Only from a directly connected PIM neighbor (RFC 5059 §3.1.3).
                        let p = e.pim.as_ref()?;
                        if p.neighbor_primary(src).is_none() {
                            debug!(interface = %name, from = %src, "Bootstrap message from a non-neighbor dropped");
                            return None;
                        }
                        let ifindex = e.index?;
                        return Some(Received::Bootstrap {
                            ifindex,
                            src,
                            dst,
                            bsm,
                        });
                    }
                    Ok(other) => {
                        debug!(interface = %name, source = %src, message_type = other.message_type(), "PIM message not handled here");
                        return None;
                    }
                    Err(err) => {
                        e.pim_malformed += 1;
                        debug!(interface = %name, source = %src, error = %err, "malformed PIM message dropped");
                        return None;
                    }
                };
                let p = e.pim.as_mut()?;
                match msg {
                    PimMessage::Hello(h) => {
                        let a = p.receive_hello(src, &h, now);
                        self.pim_actions(name, a);
                        None
                    }
                    PimMessage::Assert(assert) => Some(Received::Assert { src, assert }),
                    PimMessage::JoinPrune(jp) => self.join_prune(name, src, jp, now),
                }
            }
            _ => None,
        }
    }

    /// A malformed PIM message that arrived on `name` through another socket.
    pub fn count_pim_malformed(&mut self, name: &str) {
        if let Some(e) = self.ifs.get_mut(name) {
            e.pim_malformed += 1;
        }
    }

    /// A Join/Prune from neighbor `src` on `name`: ours to act on when it names us as the
    /// upstream neighbor (downstream state, §4.5.1-§4.5.2); otherwise handed back, to be seen
    /// for prune override of our own joins toward the same neighbor (§4.5.5-§4.5.6).
    fn join_prune(
        &mut self,
        name: &str,
        src: Ipv4Addr,
        jp: JoinPrune,
        now: Instant,
    ) -> Option<Received> {
        let e = self.ifs.get_mut(name)?;
        let (Some(p), Some(ifindex)) = (e.pim.as_ref(), e.index) else {
            return None;
        };
        // Only from PIM neighbors (§4.5).
        if p.neighbor_primary(src).is_none() {
            debug!(interface = %name, from = %src, "Join/Prune from a non-neighbor ignored");
            return None;
        }
        debug!(interface = %name, from = %src, upstream = %jp.upstream_neighbor, message = ?jp, "Join/Prune");
        if jp.upstream_neighbor != e.local {
            return Some(Received::OthersJoinPrune { ifindex, jp });
        }
        let neighbors = p.neighbors().count();
        let interval = override_interval(p);
        let a =
            e.ds.as_mut()
                .map(|d| d.receive_join_prune(&jp, neighbors, interval, now))
                .unwrap_or_default();
        self.ds_actions(name, a);
        None
    }

    /// An Assert on `name`, with what we could claim for its route (CouldAssert and our
    /// metric, AssertTrackingDesired, our SPT claim for the source an R-bit Assert names).
    pub fn receive_assert(
        &mut self,
        name: &str,
        src: Ipv4Addr,
        a: &Assert,
        claim: pim::Claim,
        now: Instant,
    ) {
        let Some(p) = self.ifs.get_mut(name).and_then(|e| e.pim.as_mut()) else {
            return;
        };
        let out = p.receive_assert(src, a, claim, now);
        self.pim_actions(name, out);
    }

    /// Data of a route we forward onto `name` arrived there from another router (§4.6.1).
    pub fn data_on_outgoing(
        &mut self,
        name: &str,
        source: Option<Ipv4Addr>,
        g: Ipv4Addr,
        mine: RouteMetric,
        now: Instant,
    ) {
        let Some(p) = self.ifs.get_mut(name).and_then(|e| e.pim.as_mut()) else {
            return;
        };
        let out = p.data_on_outgoing(source, g, mine, now);
        self.pim_actions(name, out);
    }

    /// CouldAssert turned false for (source, g) on `name` (§4.6.1).
    pub fn could_assert_false(&mut self, name: &str, source: Option<Ipv4Addr>, g: Ipv4Addr) {
        let Some(p) = self.ifs.get_mut(name).and_then(|e| e.pim.as_mut()) else {
            return;
        };
        let out = p.could_assert_false(source, g);
        self.pim_actions(name, out);
    }

    /// A clean stop: PIM says goodbye (a Hello with a zero hold time) on every interface.
    pub fn shutdown(&mut self) {
        let names: Vec<String> = self.ifs.keys().cloned().collect();
        for n in names {
            let out = self
                .ifs
                .get_mut(&n)
                .and_then(|e| e.pim.as_mut())
                .map(|p| p.shutdown());
            self.pim_actions(&n, out.unwrap_or_default());
        }
    }
}
