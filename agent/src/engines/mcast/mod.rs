//! The multicast engine inside the protocol thread: IGMP and PIM interfaces (their sans-I/O
//! cores and control sockets), the sources learned from the dataplane's no-route upcalls, the
//! multicast forwarding table it computes from both, and the mVRRP gates
//! (`track-admin-vrrp`) that open and close outgoing interfaces in one table swap.
//!
//! Route computation (RFC 7761 §4.1.6 with the vendor knobs): a source's incoming interface
//! is its RPF interface (a connected subnet, else the kernel's unicast route, from a copy of
//! the main table dumped over rtnetlink, kept current from route notifications and read again
//! after an address or link change, which the kernel may follow with routes it drops
//! silently), or the RPF interface toward
//! the RP until its data arrives on the shortest-path tree; a source with no route at all is
//! accepted from the PIM interface it arrives on. The outgoing interfaces are the IGMP
//! interfaces with a listener that wants (S,G) where this router may forward (I_am_DR, or `pim
//! ignore-dr-state`, or no PIM on the interface) and the PIM interfaces with a downstream join,
//! less those where another router won the Assert; each is `forwarding` unless its gate's
//! mVRRP group is not master (`blocked-by-vrrp`).
//!
//! Upstream, (*,G) Joins go toward the static RP for groups with listeners or downstream (*,G)
//! joins, and (S,G) Joins toward every routed source we forward, that a downstream router
//! joined, or that an IGMPv3 listener named. Data of a routed flow on another interface comes
//! back from the forwarder as an upcall: on the RPF interface toward the source it completes
//! the SPT switchover; on an outgoing interface it triggers an Assert (unless `pim
//! ignore-assert-state`).
//!
//! Why this file is still about 1,200 lines: it holds the IGMP/PIM control plane of every
//! interface (the joins and asserts they exchange, timers), the forwarder's upcalls and the
//! route recomputation that joins them. It no longer touches the control sockets (the protocol
//! thread reads them into [`Multicast::control_frame`] and sends what [`Multicast::take_frames`]
//! hands it, through `io.rs`); the pure decisions are out (`routes.rs`, `gates.rs`,
//! `sources.rs`), and so is the dataplane side (`forwarding.rs`). The next cut is a table of
//! multicast interfaces that owns each one's cores.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use dataplane::forward::FwdIf;
use dataplane::mfib::{Oif, Route, Table};
use dataplane::netlink::{self, Addr, Link, Rib};
use tracing::{debug, error, info, warn};

pub mod forwarding;
pub mod gates;
pub mod io;
pub mod routes;
pub mod sources;

use self::forwarding::Forwarding;
use self::gates::{Gate, Gates};
use self::routes::{igmp_wants, pim_wants, ssm, Rpf};
use self::sources::Sources;
use crate::clock::now_ms;
use crate::engines::config;
use crate::engines::igmp::iface::{self as igmp, Action as IgmpAction};
use crate::engines::pim::downstream::{
    Action as DsAction, Downstream, DEFAULT_JP_OVERRIDE_INTERVAL,
};
use crate::engines::pim::iface::{self as pim, Action as PimAction, AssertState, RouteMetric};
use crate::engines::pim::packet::{JoinPrune, Message as PimMessage};
use crate::engines::pim::tib::{Tib, TibAction};
use crate::engines::rib_copy::{RibCopy, Update};
use crate::engines::rib_loader::RibLoader;

const IGMP_PROTO: u8 = 2;
const PIM_PROTO: u8 = 103;
/// Upcalls handled per pass of the protocol thread.
const UPCALLS_PER_PASS: usize = 512;

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

/// What the protocol thread learns from the multicast engine.
pub enum Event {
    /// A notification to publish (XML).
    Notify(String),
}

pub struct Multicast {
    /// Frames to send on the interfaces' control sockets, in order (see [`Multicast::take_frames`]).
    pub(in crate::engines) out: Vec<(String, Vec<u8>)>,
    pub(in crate::engines) cfg: config::Multicast,
    pub(in crate::engines) ifs: BTreeMap<String, McIf>,
    pub(in crate::engines) fwd: Forwarding,
    pub(in crate::engines) sources: Sources,
    pub(in crate::engines) route_since: HashMap<(Ipv4Addr, Ipv4Addr), u64>,
    /// (interface, vrid) -> the gate is open (the mVRRP group is master).
    pub(in crate::engines) gates: Gates,
    pub(in crate::engines) tib: Tib,
    pub(in crate::engines) seed: u64,
    /// Memberships or sources changed: the table is rebuilt once, at [`Multicast::flush`].
    pub(in crate::engines) dirty: bool,
    /// Reads the routing table on its own thread (started on first use).
    pub(in crate::engines) loader: Option<RibLoader>,
    /// The main routing table for RPF lookups: read when first needed, then updated entry by
    /// entry from route notifications, and read again when links, addresses or nexthop
    /// objects change or notifications were lost (the old copy serves until the new one is
    /// in).
    pub(in crate::engines) rib: RibCopy,
}

/// What a descriptor of [`Multicast::fds`] is, for [`Multicast::readable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum McFd {
    /// Data upcalls from the forwarder.
    Upcalls,
    /// A copy of the routing table is ready.
    Rib,
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

/// The Ethernet multicast address of an IPv4 group (RFC 1112 §6.4).
fn group_mac(g: Ipv4Addr) -> [u8; 6] {
    let o = g.octets();
    [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]
}

impl Multicast {
    pub fn new(seed: u64) -> Multicast {
        Multicast {
            out: Vec::new(),
            cfg: config::Multicast::default(),
            ifs: BTreeMap::new(),
            fwd: Forwarding::default(),
            sources: Sources::default(),
            route_since: HashMap::new(),
            gates: Gates::default(),
            tib: Tib::new(None, seed),
            seed,
            dirty: false,
            loader: None,
            rib: RibCopy::default(),
        }
    }

    /// Apply a new multicast configuration.
    pub fn apply(
        &mut self,
        cfg: &config::Multicast,
        links: &BTreeMap<String, Link>,
        addrs: &[Addr],
        now: Instant,
    ) {
        if *cfg == self.cfg {
            return;
        }
        self.cfg = cfg.clone();
        let t = self.tib.set_rp(cfg.rp, now);
        self.tib_actions(t);
        let enabled = cfg.routing_enable;
        self.ifs
            .retain(|n, _| enabled && cfg.interfaces.contains_key(n));
        if enabled {
            for (name, c) in &cfg.interfaces {
                let e = self.ifs.entry(name.clone()).or_insert_with(|| McIf {
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
                });
                e.cfg = c.clone();
            }
        }
        self.sync_links(links, addrs, now);
        for name in self.ifs.keys().cloned().collect::<Vec<_>>() {
            self.sync_cores(&name, now);
        }
        self.sync_forwarder();
        self.recompute(now);
    }

    /// Interface index, MAC, address and oper state from the kernel's view.
    pub fn sync_links(&mut self, links: &BTreeMap<String, Link>, addrs: &[Addr], now: Instant) {
        let names: Vec<String> = self.ifs.keys().cloned().collect();
        for name in names {
            let Some(e) = self.ifs.get_mut(&name) else {
                continue;
            };
            match links.get(&name) {
                Some(l) => {
                    e.index = Some(l.index);
                    e.mac = l.mac.unwrap_or([0; 6]);
                    if e.up && !l.oper_up {
                        // Downstream routers on a dead link cannot hold their joins.
                        if let Some(d) = e.ds.as_mut() {
                            d.clear();
                            self.dirty = true;
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
                        self.pim_actions(&name, pim_out.unwrap_or_default(), now);
                        self.igmp_actions(&name, igmp_out.unwrap_or_default());
                    }
                }
                None => {
                    e.index = None;
                    e.up = false;
                    if let Some(d) = e.ds.as_mut() {
                        d.clear();
                        self.dirty = true;
                    }
                }
            }
        }
        self.sync_forwarder();
    }

    /// Create, reconfigure or drop the IGMP and PIM cores of one interface.
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
                self.dirty = true;
            }
            (None, None) => {}
        }
        self.igmp_actions(name, igmp_out);
        self.pim_actions(name, pim_out, now);
    }

    /// (Re)start the forwarder when the set of multicast interfaces changes.
    fn sync_forwarder(&mut self) {
        let interfaces: Vec<FwdIf> = if self.cfg.routing_enable {
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
        } else {
            Vec::new()
        };
        self.fwd.sync(interfaces);
    }

    /// The mVRRP group (interface, vrid) is master or not. The gate switches in one table swap,
    /// at an instant of *arrival*: a closing gate still forwards the frames that reached the
    /// rings before now, however late the forwarder gets to them. An opening gate in a
    /// `handover` (the old master is alive and keeps forwarding until it hears our first
    /// advert, which follows this call) forwards only frames that arrive from now on, and those
    /// that arrived earlier are the old master's: together every frame goes out once, plus
    /// the few that arrive while our advert is on its way. Without a handover (the old master
    /// failed or resigned) everything still queued is forwarded.
    pub fn set_gate(&mut self, ifname: &str, vrid: u8, master: bool, handover: bool, now: Instant) {
        if !self.gates.set(
            ifname,
            vrid,
            master,
            handover,
            now,
            dataplane::ring::now_ns(),
        ) {
            return;
        }
        let used = self.ifs.values().any(|e| {
            e.cfg
                .gate
                .as_ref()
                .is_some_and(|(i, v)| i == ifname && *v == vrid)
        });
        if used {
            self.recompute(now);
        }
    }

    /// Descriptors to poll, with a tag for [`Multicast::readable`].
    pub fn fds(&self) -> Vec<(RawFd, McFd)> {
        let mut v = Vec::new();
        if let Some(u) = self.fwd.upcall_fd() {
            v.push((u, McFd::Upcalls));
        }
        if let Some(l) = &self.loader {
            v.push((l.fd(), McFd::Rib));
        }
        v
    }

    /// The multicast interfaces that exist (name, ifindex): each gets a control socket.
    pub fn control_interfaces(&self) -> impl Iterator<Item = (&str, u32)> + '_ {
        self.ifs
            .iter()
            .filter_map(|(n, e)| Some((n.as_str(), e.index?)))
    }

    /// The frames to send (interface, Ethernet frame), in order (drained).
    pub fn take_frames(&mut self) -> Vec<(String, Vec<u8>)> {
        std::mem::take(&mut self.out)
    }

    pub fn readable(&mut self, tag: &McFd, now: Instant) {
        match tag {
            McFd::Upcalls => self.read_upcalls(now),
            McFd::Rib => self.rib_loaded(),
        }
    }

    /// Ask the loader for a fresh copy of the routing table.
    fn load_rib(&mut self) {
        if !self.rib.want_read() {
            return;
        }
        if let Some(l) = &self.loader {
            if l.request() {
                return;
            }
            error!("the routing table reader ended; starting a new one");
        }
        self.loader = RibLoader::start()
            .map_err(|e| error!(error = %e, "cannot start the routing table reader"))
            .ok();
        match &self.loader {
            Some(l) => {
                l.request();
            }
            // Connected sources only; no retry (and error) per lookup.
            None => self.rib.no_reader(),
        }
    }

    /// A copy of the routing table is in: RPF is computed again with it.
    fn rib_loaded(&mut self) {
        let Some(r) = self.loader.as_ref().and_then(RibLoader::take) else {
            return;
        };
        let routes = r.as_ref().map_or(0, Rib::len);
        let again = match self.rib.loaded(r) {
            Ok(l) => {
                debug!(routes, replayed = l.replayed, "routing table read");
                if let (Some(old), Some(loader)) = (l.free, self.loader.as_ref()) {
                    loader.free(old);
                }
                l.again
            }
            Err((e, again)) => {
                warn!(error = %e, "cannot read the routing table");
                again
            }
        };
        if again {
            self.load_rib();
        }
        self.dirty = true;
    }

    /// Upcalls from the forwarder: data of a flow without a route (a new source), or data of a
    /// routed flow on another interface than its incoming one (the SPT taking over, or another
    /// router forwarding onto one of our outgoing interfaces: an Assert).
    fn read_upcalls(&mut self, now: Instant) {
        let table = self.fwd.snapshot();
        // Bounded per pass, so a flood of new flows cannot hold the protocol thread (and the
        // BFD and VRRP timers behind it); the rest waits for the next pass.
        for _ in 0..UPCALLS_PER_PASS {
            let Some(upcall) = self.fwd.next_upcall() else {
                break;
            };
            let Some((s, g, ifindex)) = upcall else {
                continue;
            };
            if let Some(r) = table.get(s, g) {
                if r.iif != ifindex {
                    let on_oif = r.oifs.iter().any(|o| o.ifindex == ifindex && o.forwarding);
                    self.wrong_interface(s, g, ifindex, on_oif, now);
                }
                continue;
            }
            if self.sources.heard(s, g, ifindex, now) {
                self.dirty = true;
                debug!(source = %s, group = %g, ifindex, "multicast flow heard");
            }
        }
    }

    /// Data of the routed flow (s, g) arrived on `ifindex`, not its incoming interface.
    fn wrong_interface(
        &mut self,
        s: Ipv4Addr,
        g: Ipv4Addr,
        ifindex: u32,
        on_oif: bool,
        now: Instant,
    ) {
        let rpf = self.rpf(s);
        if rpf.is_some_and(|r| r.ifindex == ifindex) {
            // On the shortest-path tree now: accept it there from here on (RFC 7761 §4.2.2).
            if self.sources.on_spt(s, g, ifindex, now) {
                self.dirty = true;
                debug!(source = %s, group = %g, ifindex, "switched to the shortest-path tree");
            }
            return;
        }
        let (Some(rpf), true) = (rpf, on_oif) else {
            return;
        };
        // Another router forwards the flow onto a LAN we forward it onto (§4.6.1). Not on an
        // mVRRP-gated interface: there the gate decides who forwards, and both routers forward
        // for an instant in every handover.
        let Some((name, e)) = self.ifs.iter_mut().find(|(_, e)| e.index == Some(ifindex)) else {
            return;
        };
        if e.cfg.gate.is_some() {
            return;
        }
        if e.pim.is_none() {
            return;
        }
        let name = name.clone();
        // A route still on the RP tree (its data comes in where the RP's path does, not on the
        // RPF interface toward the source) asserts as (*,G), with the RPT bit and the metric
        // toward the RP (§4.6.2); on the shortest-path tree as (S,G) (§4.6.1).
        let on_rpt = self
            .fwd
            .snapshot()
            .get(s, g)
            .is_some_and(|r| r.iif != rpf.ifindex);
        let (source, mine) = if on_rpt {
            match self.cfg.rp.and_then(|rp| self.rpf(rp)) {
                Some(r) => (
                    None,
                    RouteMetric {
                        rpt: true,
                        ..r.metric
                    },
                ),
                None => return,
            }
        } else {
            (Some(s), rpf.metric)
        };
        let Some(p) = self.ifs.get_mut(&name).and_then(|e| e.pim.as_mut()) else {
            return;
        };
        let a = p.data_on_outgoing(source, g, mine, now);
        self.pim_actions(&name, a, now);
    }

    /// A frame received on the control socket of `name` (IGMP or PIM; others are ignored).
    pub fn control_frame(&mut self, name: &str, f: &[u8], now: Instant) {
        {
            if f.len() < 34 {
                return;
            }
            let ip = &f[14..];
            let Some((ihl, total)) = dataplane::wire::ipv4_bounds(ip) else {
                return;
            };
            let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
            let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
            let payload = &ip[ihl..total];
            match ip[9] {
                IGMP_PROTO => {
                    let msg = match super::igmp::packet::decode(payload) {
                        Ok(m) => m,
                        Err(err) => {
                            if let Some(e) = self.ifs.get_mut(name) {
                                e.igmp_malformed += 1;
                            }
                            debug!(interface = %name, source = %src, error = %err, "malformed IGMP message dropped");
                            return;
                        }
                    };
                    let Some(i) = self.ifs.get_mut(name).and_then(|e| e.igmp.as_mut()) else {
                        return;
                    };
                    let a = i.receive(&msg, src, dst, now);
                    self.igmp_actions(name, a);
                }
                PIM_PROTO => {
                    let msg = match PimMessage::decode(payload) {
                        Ok(m) => m,
                        Err(err) => {
                            if let Some(e) = self.ifs.get_mut(name) {
                                e.pim_malformed += 1;
                            }
                            debug!(interface = %name, source = %src, error = %err, "malformed PIM message dropped");
                            return;
                        }
                    };
                    let Some(p) = self.ifs.get_mut(name).and_then(|e| e.pim.as_mut()) else {
                        return;
                    };
                    let a = match &msg {
                        PimMessage::Hello(h) => p.receive_hello(src, h, now),
                        PimMessage::Assert(a) => {
                            let a = *a;
                            let mine = self.assert_metric(name, &a);
                            let source = (!a.rpt).then_some(a.source);
                            let idx = self.ifs.get(name).and_then(|e| e.index);
                            let track = self.tracks_asserts(idx, source, a.group.address);
                            match self.ifs.get_mut(name).and_then(|e| e.pim.as_mut()) {
                                Some(p) => p.receive_assert(src, &a, mine, track, now),
                                None => Vec::new(),
                            }
                        }
                        PimMessage::JoinPrune(jp) => {
                            self.join_prune(name, src, jp, now);
                            Vec::new()
                        }
                    };
                    self.pim_actions(name, a, now);
                }
                _ => {}
            }
        }
    }

    /// AssertTrackingDesired (§4.6.1) on the interface with index `ifindex`: it is the upstream
    /// interface of a route we join, so an Assert winner there is our RPF' (§4.1.6).
    fn tracks_asserts(
        &self,
        ifindex: Option<u32>,
        source: Option<Ipv4Addr>,
        group: Ipv4Addr,
    ) -> bool {
        self.tib
            .entry(source, group)
            .is_some_and(|e| e.join_desired() && Some(e.upstream_if()) == ifindex)
    }

    /// Our Assert metric for the route an Assert on `name` is about, if we forward it onto that
    /// interface (CouldAssert, §4.6): toward the source for an (S,G) Assert, toward the RP for
    /// a (*,G) one (any source of the group forwarded there counts).
    fn assert_metric(&mut self, name: &str, a: &super::pim::packet::Assert) -> Option<RouteMetric> {
        let e = self.ifs.get(name)?;
        if e.cfg.gate.is_some() {
            return None;
        }
        let ifindex = e.index?;
        let table = self.fwd.snapshot();
        let group = a.group.address;
        let forwards = |r: &Route| r.oifs.iter().any(|o| o.ifindex == ifindex && o.forwarding);
        if a.rpt {
            let rp = self.cfg.rp?;
            if !table.routes().any(|r| r.group == group && forwards(r)) {
                return None;
            }
            return self.rpf(rp).map(|r| RouteMetric {
                rpt: true,
                ..r.metric
            });
        }
        let iif = table.get(a.source, group).filter(|r| forwards(r))?.iif;
        let rpf = self.rpf(a.source)?;
        if iif != rpf.ifindex {
            // On the RP tree our claim is the (*,G) one, which an (S,G) Assert always beats
            // (§4.6.1): the winner's Assert prunes the source from what we forward there.
            let rp = self.rpf(self.cfg.rp?)?;
            return Some(RouteMetric {
                rpt: true,
                ..rp.metric
            });
        }
        Some(rpf.metric)
    }

    /// A Join/Prune from neighbor `src` on `name`: ours to act on when it names us as the
    /// upstream neighbor (downstream state, §4.5.1-§4.5.2), otherwise seen for prune override
    /// of our own joins toward the same neighbor (§4.5.5-§4.5.6).
    fn join_prune(&mut self, name: &str, src: Ipv4Addr, jp: &JoinPrune, now: Instant) {
        let Some(e) = self.ifs.get_mut(name) else {
            return;
        };
        let (Some(p), Some(idx)) = (e.pim.as_ref(), e.index) else {
            return;
        };
        // Only from PIM neighbors (§4.5).
        if p.neighbor_primary(src).is_none() {
            debug!(interface = %name, from = %src, "Join/Prune from a non-neighbor ignored");
            return;
        }
        debug!(interface = %name, from = %src, upstream = %jp.upstream_neighbor, message = ?jp, "Join/Prune");
        if jp.upstream_neighbor == e.local {
            let neighbors = p.neighbors().count();
            let interval = override_interval(p);
            let a =
                e.ds.as_mut()
                    .map(|d| d.receive_join_prune(jp, neighbors, interval, now))
                    .unwrap_or_default();
            self.ds_actions(name, a);
        } else {
            let t = self.tib.observe_join_prune(idx, jp, now);
            self.tib_actions(t);
        }
    }

    fn ds_actions(&mut self, name: &str, actions: Vec<DsAction>) {
        for a in actions {
            match a {
                DsAction::Changed {
                    source,
                    group,
                    joined,
                } => {
                    info!(interface = %name, source = ?source, group = %group, joined, "PIM downstream join state");
                    self.dirty = true;
                }
                DsAction::RptChanged {
                    source,
                    group,
                    pruned,
                } => {
                    info!(interface = %name, source = %source, group = %group, pruned, "PIM (S,G,rpt) prune state");
                    self.dirty = true;
                }
                DsAction::Send(jp) => self.send(
                    name,
                    super::pim::packet::ALL_PIM_ROUTERS,
                    PIM_PROTO,
                    &PimMessage::JoinPrune(jp).encode(),
                ),
            }
        }
    }

    /// Queue an IGMP/PIM message out of `name` (TTL 1; IGMP with the Router Alert option,
    /// RFC 2113): the protocol thread sends it on the interface's control socket.
    fn send(&mut self, name: &str, dst: Ipv4Addr, proto: u8, payload: &[u8]) {
        let Some(e) = self.ifs.get(name) else { return };
        if !e.up || e.local.is_unspecified() {
            return;
        }
        let options: &[u8] = if proto == IGMP_PROTO {
            &[0x94, 0x04, 0x00, 0x00]
        } else {
            &[]
        };
        let f = dataplane::wire::ipv4_frame(
            e.mac,
            group_mac(dst),
            e.local,
            dst,
            1,
            proto,
            options,
            payload,
        );
        self.out.push((name.to_string(), f));
    }

    fn igmp_actions(&mut self, name: &str, actions: Vec<IgmpAction>) {
        let mut membership = false;
        for a in actions {
            match a {
                IgmpAction::Send { dst, msg } => self.send(name, dst, IGMP_PROTO, &msg.encode()),
                IgmpAction::Membership { group } => {
                    debug!(interface = %name, group = %group, "IGMP membership changed");
                    membership = true;
                }
                IgmpAction::QuerierChange {
                    querier,
                    is_querier,
                } => {
                    info!(interface = %name, querier = ?querier, is_querier, "IGMP querier");
                }
            }
        }
        if membership {
            self.dirty = true;
        }
    }

    fn pim_actions(&mut self, name: &str, actions: Vec<PimAction>, now: Instant) {
        let mut recompute = false;
        for a in actions {
            match a {
                PimAction::Send { dst, msg } => self.send(name, dst, PIM_PROTO, &msg.encode()),
                PimAction::NeighborUp(n) => {
                    info!(interface = %name, neighbor = %n, "PIM neighbor up");
                    let t = self.tib.neighbor_restarted(n, now);
                    self.tib_actions(t);
                    recompute = true;
                }
                PimAction::NeighborDown(n) => {
                    info!(interface = %name, neighbor = %n, "PIM neighbor down");
                    recompute = true;
                }
                PimAction::DrChange { dr, is_dr } => {
                    info!(interface = %name, dr = %dr, is_dr, "PIM DR");
                    recompute = true;
                }
                PimAction::AssertWon { source, group } => {
                    info!(interface = %name, source = ?source, group = %group, "PIM assert won");
                    recompute = true;
                }
                PimAction::AssertLost {
                    source,
                    group,
                    winner,
                } => {
                    info!(interface = %name, source = ?source, group = %group, winner = %winner, "PIM assert lost");
                    recompute = true;
                }
                PimAction::AssertCleared { source, group } => {
                    debug!(interface = %name, source = ?source, group = %group, "PIM assert cleared");
                    recompute = true;
                }
            }
        }
        if recompute {
            self.dirty = true;
        }
    }

    fn tib_actions(&mut self, actions: Vec<TibAction>) {
        for a in actions {
            let TibAction::Send { upstream_if, msg } = a;
            if let Some(n) = self.name_of(upstream_if) {
                self.send(
                    &n,
                    super::pim::packet::ALL_PIM_ROUTERS,
                    PIM_PROTO,
                    &msg.encode(),
                );
            }
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        let mut d: Option<Instant> = self.tib.next_deadline();
        if let Some(t) = self.fwd.next_deadline() {
            d = Some(d.map_or(t, |x| x.min(t)));
        }
        if let Some(t) = self.gates.next_deadline() {
            d = Some(d.map_or(t, |x| x.min(t)));
        }
        for e in self.ifs.values() {
            for t in [
                e.igmp.as_ref().and_then(|i| i.next_deadline()),
                e.pim.as_ref().and_then(|p| p.next_deadline()),
                e.ds.as_ref().and_then(|d| d.next_deadline()),
            ]
            .into_iter()
            .flatten()
            {
                d = Some(d.map_or(t, |x| x.min(t)));
            }
        }
        d
    }

    pub fn on_timer(&mut self, now: Instant) {
        if self.fwd.retry_due(now) {
            self.sync_forwarder();
        }
        if self.gates.settle(now) {
            self.dirty = true;
        }
        let names: Vec<String> = self.ifs.keys().cloned().collect();
        for n in &names {
            let due = self
                .ifs
                .get(n)
                .and_then(|e| e.igmp.as_ref())
                .and_then(|i| i.next_deadline())
                .is_some_and(|t| t <= now);
            if due {
                let a = self
                    .ifs
                    .get_mut(n)
                    .and_then(|e| e.igmp.as_mut())
                    .map(|i| i.on_timer(now));
                self.igmp_actions(n, a.unwrap_or_default());
            }
            let due = self
                .ifs
                .get(n)
                .and_then(|e| e.pim.as_ref())
                .and_then(|p| p.next_deadline())
                .is_some_and(|t| t <= now);
            if due {
                let a = self
                    .ifs
                    .get_mut(n)
                    .and_then(|e| e.pim.as_mut())
                    .map(|p| p.on_timer(now));
                self.pim_actions(n, a.unwrap_or_default(), now);
            }
            let due = self
                .ifs
                .get(n)
                .and_then(|e| e.ds.as_ref())
                .and_then(|d| d.next_deadline())
                .is_some_and(|t| t <= now);
            if due {
                let a = self
                    .ifs
                    .get_mut(n)
                    .and_then(|e| e.ds.as_mut())
                    .map(|d| d.on_timer(now));
                self.ds_actions(n, a.unwrap_or_default());
            }
        }
        if self.tib.next_deadline().is_some_and(|t| t <= now) {
            let a = self.tib.on_timer(now);
            self.tib_actions(a);
        }
        // Sources: data keeps them alive (route counters move), silence expires them.
        if self.sources.expire(&self.fwd.snapshot(), now) {
            self.dirty = true;
        }
    }

    /// Rebuild the table if anything changed since the last call (once per pass of the
    /// protocol thread, however many reports arrived in it).
    pub fn flush(&mut self, now: Instant) {
        self.fwd.check(now);
        if std::mem::take(&mut self.dirty) {
            self.recompute(now);
        }
    }

    /// Addresses, links or nexthop objects changed, or route notifications were lost: the
    /// routing table is read again when next needed.
    pub fn routes_changed(&mut self) {
        if self.rib.in_use() {
            self.load_rib();
        }
    }

    /// A route notification: the copy of the table takes the change (or, if it cannot, is read
    /// again) and the routes are recomputed with it.
    pub fn route_event(&mut self, route: netlink::Route, removed: bool, replace: bool) {
        match self.rib.route_event(route, removed, replace) {
            Update::None => {}
            Update::Applied => self.dirty = true,
            Update::Reread => {
                self.load_rib();
                self.dirty = true;
            }
        }
    }

    /// Reverse path toward `addr`: a connected subnet of one of our multicast interfaces, else
    /// the kernel's unicast route if it leaves through one of them.
    fn rpf(&mut self, addr: Ipv4Addr) -> Option<Rpf> {
        let connected = self
            .ifs
            .values()
            .filter_map(|e| Some((e.index?, e.prefixes.as_slice())));
        if let Some(r) = routes::connected_rpf(addr, connected) {
            return Some(r);
        }
        if !self.rib.has_table() {
            // Read in the background; until it is in, only connected sources have a path.
            if !self.rib.is_reading() {
                self.load_rib();
            }
            return None;
        }
        let route = self.rib.lookup(addr)?;
        routes::routed_rpf(route, |i| self.ifs.values().any(|e| e.index == Some(i)))
    }

    /// The reverse path toward the RP for (*,G) joins: a PIM interface and neighbor (the RP
    /// itself when it is on a connected subnet). `None` when we are the RP or it is not
    /// reached through PIM.
    fn rp_path(&mut self, rp: Ipv4Addr) -> Option<Rpf> {
        if self
            .ifs
            .values()
            .any(|e| e.prefixes.iter().any(|&(a, _)| a == rp))
        {
            return None;
        }
        let r = self.rpf(rp)?;
        Some(Rpf {
            neighbor: Some(r.neighbor.unwrap_or(rp)),
            ..r
        })
    }

    /// Is `ifindex` a PIM interface of ours?
    fn is_pim(&self, ifindex: u32) -> bool {
        self.pim_at(ifindex).is_some()
    }

    /// PIM on the interface with this index, if it runs there.
    fn pim_at(&self, ifindex: u32) -> Option<&pim::Interface> {
        self.ifs
            .values()
            .find(|e| e.index == Some(ifindex))?
            .pim
            .as_ref()
    }

    /// Outgoing interfaces of (s, g) arriving on `iif` (RFC 7761 §4.1.6, with the vendor
    /// knobs): IGMP listeners where we may forward (I_am_DR, `ignore-dr-state`, or no PIM)
    /// and PIM downstream joins ((S,G) or (*,G)), less the interfaces where another router won
    /// the Assert; each is forwarding unless its mVRRP gate is closed.
    fn oifs_for(&self, s: Ipv4Addr, g: Ipv4Addr, iif: u32) -> Vec<Oif> {
        self.ifs
            .values()
            .filter_map(|e| {
                let i = routes::Interface {
                    ifindex: e.index?,
                    igmp: e.igmp.as_ref(),
                    pim: e.pim.as_ref(),
                    downstream: e.ds.as_ref(),
                    gate: match &e.cfg.gate {
                        Some((gi, gv)) => self.gates.get(gi, *gv),
                        None => Gate::NONE,
                    },
                };
                routes::oif(&i, s, g, iif)
            })
            .collect()
    }

    /// Assert state for routes that no longer (could) forward onto the interface ends
    /// (CouldAssert false, §4.6.1): a winner sends AssertCancel, a loser forgets, so a router
    /// that stopped forwarding never keeps the LAN from the others.
    fn end_stale_asserts(&mut self) {
        let table = self.fwd.snapshot();
        let mut ended: Vec<(String, Option<Ipv4Addr>, Ipv4Addr)> = Vec::new();
        for (name, e) in &self.ifs {
            let (Some(p), Some(idx)) = (e.pim.as_ref(), e.index) else {
                continue;
            };
            for (s, g, st) in p.asserts() {
                // The winner upstream of a route we join stays known (RPF').
                if matches!(st, AssertState::Loser { .. }) && self.tracks_asserts(Some(idx), s, g) {
                    continue;
                }
                // Would the interface be an outgoing one but for the assert?
                let wanted = |src: Ipv4Addr, iif: u32| {
                    iif != idx
                        && (e.igmp.as_ref().is_some_and(|i| igmp_wants(i, src, g))
                            || e.ds.as_ref().is_some_and(|d| pim_wants(d, src, g)))
                };
                let could = match s {
                    Some(s) => table.get(s, g).is_some_and(|r| wanted(s, r.iif)),
                    None => table
                        .routes()
                        .any(|r| r.group == g && wanted(r.source, r.iif)),
                };
                if !could {
                    ended.push((name.clone(), s, g));
                }
            }
        }
        for (name, s, g) in ended {
            let a = self
                .ifs
                .get_mut(&name)
                .and_then(|e| e.pim.as_mut())
                .map(|p| p.could_assert_false(s, g));
            self.pim_actions(&name, a.unwrap_or_default(), Instant::now());
        }
    }

    /// Rebuild the forwarding table and publish it (one swap), then bring the upstream joins
    /// in line: (*,G) toward the RP for groups with listeners or downstream (*,G) joins, and
    /// (S,G) toward each source that is not on a connected subnet and that we forward, that a
    /// downstream router joined, or that an IGMPv3 listener asked for by name (the SPT
    /// switchover of §4.2.1 with a threshold of zero, as most routers default to).
    fn recompute(&mut self, now: Instant) {
        let old = self.fwd.snapshot();
        let mut t = Table::new();
        let mut want: BTreeMap<(Option<Ipv4Addr>, Ipv4Addr), Rpf> = BTreeMap::new();
        if self.cfg.routing_enable {
            let rp_path = self.cfg.rp.and_then(|rp| self.rp_path(rp));
            let mut star: Vec<Ipv4Addr> = Vec::new();
            let mut named: Vec<(Ipv4Addr, Ipv4Addr)> = Vec::new();
            for e in self.ifs.values() {
                if let Some(i) = e.igmp.as_ref() {
                    for gs in i.groups() {
                        // INCLUDE mode names its sources: (S,G) joins only, not the whole
                        // RP tree.
                        if gs.mode == crate::engines::igmp::iface::FilterMode::Include {
                            named.extend(gs.sources.iter().map(|(s, _)| (*s, gs.group)));
                        } else if !ssm(gs.group) {
                            star.push(gs.group);
                        }
                    }
                }
                if let Some(d) = e.ds.as_ref() {
                    for en in d.entries() {
                        match en.source() {
                            None if !ssm(en.group()) => star.push(en.group()),
                            None => {}
                            Some(s) => named.push((s, en.group())),
                        }
                    }
                }
            }
            if let Some(r) = rp_path.filter(|r| self.is_pim(r.ifindex)) {
                for g in star {
                    want.insert((None, g), r);
                }
            }
            let flows: Vec<((Ipv4Addr, Ipv4Addr), u32, bool)> = self
                .sources
                .iter()
                .map(|(k, v)| (*k, v.ifindex, v.spt))
                .collect();
            for ((s, g), arrived, spt) in flows {
                let rpf = self.rpf(s);
                let (iif, spt) = routes::incoming(rpf, spt, arrived, rp_path, self.is_pim(arrived));
                self.sources.set_spt(s, g, spt);
                let Some(iif) = iif else { continue };
                let oifs = self.oifs_for(s, g, iif);
                if let Some(r) = rpf.filter(|r| r.neighbor.is_some() && !oifs.is_empty()) {
                    want.insert((Some(s), g), r);
                }
                let mut route = Route::new(s, g, iif, oifs);
                // On the RP tree: tell us when the data comes in on the shortest-path tree.
                route.watch_other_iifs = rpf.is_some_and(|r| r.ifindex != iif);
                t.insert(route);
            }
            for (s, g) in named {
                if let Some(r) = self.rpf(s).filter(|r| r.neighbor.is_some()) {
                    want.insert((Some(s), g), r);
                }
            }
            want.retain(|_, r| self.is_pim(r.ifindex));
        }
        t.adopt_counters(&old);
        let now_ms = now_ms();
        self.route_since.retain(|k, _| t.get(k.0, k.1).is_some());
        for r in t.routes() {
            self.route_since
                .entry((r.source, r.group))
                .or_insert(now_ms);
        }
        self.fwd.publish(t);
        self.end_stale_asserts();
        let stale: Vec<(Option<Ipv4Addr>, Ipv4Addr)> = self
            .tib
            .entries()
            .map(|e| (e.source(), e.group()))
            .filter(|k| !want.contains_key(k))
            .collect();
        for (s, g) in stale {
            let a = self.tib.set_join_desired(s, g, false, None, 0, now);
            self.tib_actions(a);
        }
        for ((s, g), mut r) in want {
            // RPF' (§4.1.6): toward the Assert winner when another router won the Assert on
            // the RPF interface, since it is the one that forwards onto that LAN.
            if let Some(AssertState::Loser { winner }) =
                self.pim_at(r.ifindex).map(|p| p.assert_state(s, g))
            {
                r.neighbor = Some(winner);
            }
            let a = self
                .tib
                .set_join_desired(s, g, true, r.neighbor, r.ifindex, now);
            self.tib_actions(a);
        }
    }

    /// Gate readiness: IGMP on every interface gated by this group has had one max-response
    /// time to relearn its receivers (after a restart, preempting earlier would cut them off).
    pub fn gate_ready(&self, ifname: &str, vrid: u8, now: Instant) -> Option<Duration> {
        self.ifs
            .values()
            .filter(|e| {
                e.cfg
                    .gate
                    .as_ref()
                    .is_some_and(|(i, v)| i == ifname && *v == vrid)
            })
            .filter_map(|e| {
                let c = e.cfg.igmp.as_ref()?;
                let max_response = Duration::from_secs(u64::from(c.max_response_s));
                routes::relearn_wait(e.igmp_since, max_response, now)
            })
            .max()
    }

    /// The name of our multicast interface with index `ifindex`.
    pub(in crate::engines) fn name_of(&self, ifindex: u32) -> Option<String> {
        self.ifs
            .iter()
            .find(|(_, e)| e.index == Some(ifindex))
            .map(|(n, _)| n.clone())
    }

    pub fn stop(&mut self) {
        let names: Vec<String> = self.ifs.keys().cloned().collect();
        for n in names {
            let a = self
                .ifs
                .get_mut(&n)
                .and_then(|e| e.pim.as_mut())
                .map(|p| p.shutdown());
            self.pim_actions(&n, a.unwrap_or_default(), Instant::now());
        }
        self.fwd.stop();
    }
}
