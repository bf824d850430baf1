//! The multicast engine inside the protocol thread: IGMP and PIM interfaces (their sans-I/O
//! cores), the sources learned from the dataplane's no-route upcalls, the
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
//! The engine is sans I/O, like [`HotBackup`](super::hot_backup::HotBackup): it touches no
//! socket or thread and takes its time from its inputs (`now`); the wall clock is read only
//! to stamp when a route appeared, for its uptime in state. What it needs done comes out
//! as [`Effect`]s, in order, from [`Multicast::effects`]: control frames to send, the set of
//! interfaces the forwarder must run on, reads of the routing table (the answer comes back
//! through [`Multicast::rib_loaded`]) and old copies of it to free elsewhere. The protocol
//! thread carries them out (`io.rs` owns the control sockets, the forwarder and the routing
//! table reader) and feeds back what they report: control frames
//! ([`Multicast::control_frame`]) and the forwarder's upcalls ([`Multicast::upcall`]). The
//! forwarding table itself is shared memory ([`Mfib`]): the engine publishes it in one swap
//! and the forwarder reads it.
//!
//! Where the rest is: the interfaces with their IGMP and PIM cores and timers in
//! `interfaces.rs`; the pure route decisions in `routes.rs`, the gates in `gates.rs`, the
//! sources in `sources.rs`; RPF and the copy of the routing table in `rpf.rs`; Asserts that
//! need the forwarding table in `asserts.rs`.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dataplane::forward::FwdIf;
use dataplane::mfib::{Mfib, Route, Table};
use dataplane::netlink::{Addr, Link, Rib};
use tracing::debug;

pub mod actions;
pub mod asserts;
pub mod bsr;
pub mod forwarding;
pub mod gates;
pub mod interfaces;
pub mod io;
pub mod register;
pub mod routes;
pub mod rpf;
pub mod sources;

use self::gates::Gates;
use self::interfaces::{IfEvent, Interfaces, Received, PIM_PROTO};
use self::routes::{ssm, Rpf};
use self::sources::Sources;
use crate::clock::now_ms;
use crate::engines::config;
use crate::engines::pim::iface::AssertState;
use crate::engines::pim::packet::ALL_PIM_ROUTERS;
use crate::engines::pim::tib::{Tib, TibAction};
use crate::engines::rib_copy::RibCopy;

/// Something the multicast engine needs done, in the order given.
pub enum Effect {
    /// Send this Ethernet frame on the control socket of `interface`.
    Frame { interface: String, frame: Vec<u8> },
    /// Run the forwarder on these interfaces (none: stop it); the same set again is no change.
    Forward(Vec<FwdIf>),
    /// Read the kernel's routing table; hand the result to [`Multicast::rib_loaded`], or call
    /// [`Multicast::rib_unavailable`] when it cannot be read at all.
    ReadRib,
    /// An old copy of the routing table, to be freed off the protocol thread.
    FreeRib(Rib),
    /// Unicast this PIM message (a Register, Register-Stop, Candidate-RP-Advertisement) to
    /// `to`; the kernel routes it and writes the IPv4 header, with `from` as its source
    /// address when given (a local address), else the outgoing interface's.
    Unicast {
        to: Ipv4Addr,
        from: Option<Ipv4Addr>,
        pim: Vec<u8>,
    },
}

pub struct Multicast {
    effects: Vec<Effect>,
    pub(in crate::engines) cfg: config::Multicast,
    pub(in crate::engines) ifs: Interfaces,
    /// The forwarding table the forwarder reads.
    mfib: Arc<Mfib>,
    pub(in crate::engines) sources: Sources,
    pub(in crate::engines) route_since: HashMap<(Ipv4Addr, Ipv4Addr), u64>,
    /// (interface, vrid) -> the gate is open (the mVRRP group is master).
    pub(in crate::engines) gates: Gates,
    pub(in crate::engines) tib: Tib,
    /// Memberships or sources changed: the table is rebuilt once, at [`Multicast::flush`].
    dirty: bool,
    /// The main routing table for RPF lookups: read when first needed, then updated entry by
    /// entry from route notifications, and read again when links, addresses or nexthop
    /// objects change or notifications were lost (the old copy serves until the new one is
    /// in).
    rib: RibCopy,
    /// Since when a fresh copy of the routing table has been waiting to be replayed onto
    /// (its next chunk is due at once: [`Multicast::next_deadline`]).
    replay_due: Option<Instant>,
    /// The bootstrap router mechanism (RFC 5059), from the first configuration on.
    bsr: Option<crate::engines::pim::bsr::Bsr>,
    /// Bootstrap messages waiting for the routing table for their RPF check.
    pending_bsm: Vec<bsr::PendingBsm>,
    /// Every address of the device (C-RP-Advertisements and unicast Bootstrap messages are
    /// taken only when sent to one of them).
    own_addrs: Vec<Ipv4Addr>,
    seed: u64,
    /// Register and Register-Stop, at the DR and at the RP (`register.rs`).
    pub(in crate::engines) reg: register::Registering,
}

impl Multicast {
    pub fn new(seed: u64) -> Multicast {
        Multicast {
            effects: Vec::new(),
            cfg: config::Multicast::default(),
            ifs: Interfaces::new(seed),
            mfib: Arc::new(Mfib::new()),
            sources: Sources::default(),
            route_since: HashMap::new(),
            gates: Gates::default(),
            tib: Tib::new(None, seed),
            dirty: false,
            rib: RibCopy::default(),
            replay_due: None,
            bsr: None,
            pending_bsm: Vec::new(),
            own_addrs: Vec::new(),
            seed,
            reg: register::Registering::new(seed),
        }
    }

    /// The forwarding table, shared with the forwarder.
    pub fn mfib(&self) -> &Arc<Mfib> {
        &self.mfib
    }

    /// The table the forwarder reads now.
    pub fn table(&self) -> Arc<Table> {
        self.mfib.snapshot()
    }

    /// What the engine needs done since the last call, in order (drained).
    pub fn effects(&mut self) -> std::vec::Drain<'_, Effect> {
        self.effects.drain(..)
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
        self.reg.set_suppression(cfg.register_suppression_s);
        let t = self.tib.set_rp(cfg.rp, now);
        self.tib_actions(t);
        self.ifs.configure(cfg);
        self.own_addrs = addrs.iter().map(|a| a.ip).collect();
        self.ifs.sync_links(links, addrs, now);
        self.ifs.sync_all_cores(now);
        self.absorb(now);
        self.apply_bsr(now);
        self.forward();
        self.recompute(now);
    }

    /// Interface index, MAC, address and oper state from the kernel's view.
    pub fn sync_links(&mut self, links: &BTreeMap<String, Link>, addrs: &[Addr], now: Instant) {
        self.own_addrs = addrs.iter().map(|a| a.ip).collect();
        self.ifs.sync_links(links, addrs, now);
        self.absorb(now);
        self.forward();
    }

    /// The forwarder runs on every multicast interface that exists.
    fn forward(&mut self) {
        let set = if self.cfg.routing_enable {
            self.ifs.forwarder_interfaces()
        } else {
            Vec::new()
        };
        self.effects.push(Effect::Forward(set));
    }

    /// Carry the interface table's events into the engine: frames out, routes to compute,
    /// upstream joins sent again toward a neighbor that came up.
    fn absorb(&mut self, now: Instant) {
        let events: Vec<IfEvent> = self.ifs.events().collect();
        for e in events {
            match e {
                IfEvent::Frame { interface, frame } => {
                    self.effects.push(Effect::Frame { interface, frame })
                }
                IfEvent::Changed => self.dirty = true,
                IfEvent::NeighborUp(n) => {
                    let t = self.tib.neighbor_restarted(n, now);
                    self.tib_actions(t);
                }
                IfEvent::NewNeighbor {
                    interface,
                    neighbor,
                } => self.prime_neighbor(&interface, neighbor),
            }
        }
    }

    /// The mVRRP group (interface, vrid) is master or not. The gate switches in one table swap,
    /// at an instant of *arrival*: a closing gate still forwards the frames that reached the
    /// rings before now, however late the forwarder gets to them. An opening gate in a
    /// `handover` (the old master is alive and keeps forwarding until it hears our first
    /// advert, which follows this call) forwards only frames that arrive from now on, and those
    /// that arrived earlier are the old master's: together every frame goes out once, plus
    /// the few that arrive while our advert is on its way. Without a handover (the old master
    /// failed or resigned) everything still queued is forwarded. `now_ns` is the instant on
    /// the rings' clock (`dataplane::ring::now_ns`).
    pub fn set_gate(
        &mut self,
        ifname: &str,
        vrid: u8,
        master: bool,
        handover: bool,
        now: Instant,
        now_ns: u64,
    ) {
        if !self.gates.set(ifname, vrid, master, handover, now, now_ns) {
            return;
        }
        if self.ifs.gated(ifname, vrid) {
            self.recompute(now);
        }
    }

    /// The multicast interfaces that exist (name, ifindex): each gets a control socket.
    pub fn control_interfaces(&self) -> impl Iterator<Item = (&str, u32)> + '_ {
        self.ifs.control_interfaces()
    }

    /// An upcall from the forwarder: data of a flow without a route (a new source), or data
    /// of a routed flow on another interface than its incoming one (the SPT taking over, or
    /// another router forwarding onto one of our outgoing interfaces: an Assert).
    pub fn upcall(&mut self, s: Ipv4Addr, g: Ipv4Addr, ifindex: u32, now: Instant) {
        let table = self.mfib.snapshot();
        if let Some(r) = table.get(s, g) {
            if r.iif != ifindex {
                let on_oif = r.oifs.iter().any(|o| o.ifindex == ifindex && o.forwarding);
                self.wrong_interface(s, g, ifindex, on_oif, now);
            }
            return;
        }
        if self.sources.heard(s, g, ifindex, now) {
            self.dirty = true;
            debug!(source = %s, group = %g, ifindex, "multicast flow heard");
        }
    }

    /// A frame received on the control socket of `name` (IGMP or PIM; others are ignored).
    pub fn control_frame(&mut self, name: &str, f: &[u8], now: Instant) {
        if f.len() < 34 {
            return;
        }
        let ip = &f[14..];
        let Some((ihl, total)) = dataplane::wire::ipv4_bounds(ip) else {
            return;
        };
        let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
        let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
        let received = self
            .ifs
            .receive(name, ip[9], src, dst, &ip[ihl..total], now);
        match received {
            None => {}
            Some(Received::Assert { src, assert }) => {
                let claim = self.assert_claim(name, &assert);
                self.ifs.receive_assert(name, src, &assert, claim, now);
            }
            Some(Received::OthersJoinPrune { ifindex, jp }) => {
                let t = self.tib.observe_join_prune(ifindex, &jp, now);
                self.tib_actions(t);
            }
            Some(Received::Bootstrap {
                ifindex,
                src,
                dst,
                bsm,
            }) => self.receive_bootstrap(ifindex, src, dst, bsm, now),
        }
        self.absorb(now);
    }

    fn tib_actions(&mut self, actions: Vec<TibAction>) {
        for a in actions {
            let TibAction::Send { upstream_if, msg } = a;
            let frame = self.ifs.name_of(upstream_if).and_then(|n| {
                let f = self
                    .ifs
                    .frame(&n, ALL_PIM_ROUTERS, PIM_PROTO, &msg.encode())?;
                Some((n, f))
            });
            if let Some((interface, frame)) = frame {
                self.effects.push(Effect::Frame { interface, frame });
            }
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.tib.next_deadline(),
            self.gates.next_deadline(),
            self.ifs.next_deadline(),
            self.bsr.as_ref().and_then(|b| b.next_deadline()),
            self.reg.next_deadline(),
            // A copy of the routing table still being replayed onto: the next chunk at once,
            // at an instant that does not move (one read from the clock here would always lie
            // ahead of the caller's `now`, and its loop would spin without running the timer).
            self.replay_due.filter(|_| self.rib_replaying()),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn on_timer(&mut self, now: Instant) {
        self.rib_replay();
        if self.gates.settle(now) {
            self.dirty = true;
        }
        self.ifs.on_timer(now);
        self.absorb(now);
        self.bsr_timer(now);
        if self.tib.next_deadline().is_some_and(|t| t <= now) {
            let a = self.tib.on_timer(now);
            self.tib_actions(a);
        }
        self.register_timers(now);
        // Sources: data keeps them alive (route counters move), silence expires them.
        if self.sources.expire(&self.mfib.snapshot(), now) {
            self.dirty = true;
        }
    }

    /// Rebuild the table if anything changed since the last call (once per pass of the
    /// protocol thread, however many reports arrived in it).
    pub fn flush(&mut self, now: Instant) {
        self.retry_pending_bootstraps(now);
        if std::mem::take(&mut self.dirty) {
            self.recompute(now);
        }
    }

    /// Rebuild the forwarding table and publish it (one swap), then bring the upstream joins
    /// in line: (*,G) toward the RP for groups with listeners or downstream (*,G) joins, and
    /// (S,G) toward each source that is not on a connected subnet and that we forward, that a
    /// downstream router joined, or that an IGMPv3 listener asked for by name (the SPT
    /// switchover of §4.2.1 with a threshold of zero, as most routers default to).
    fn recompute(&mut self, now: Instant) {
        let old = self.mfib.snapshot();
        let mut t = Table::new();
        let mut want: BTreeMap<(Option<Ipv4Addr>, Ipv4Addr), Rpf> = BTreeMap::new();
        if self.cfg.routing_enable {
            let mut star: Vec<Ipv4Addr> = Vec::new();
            let mut named: Vec<(Ipv4Addr, Ipv4Addr)> = Vec::new();
            for (_, e) in self.ifs.iter() {
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
            // RP(G) per group: the BSR's choice, else the static RP (the Tib's default).
            let mut paths: BTreeMap<Ipv4Addr, Option<Rpf>> = BTreeMap::new();
            self.set_group_rps(&star);
            for g in star {
                let Some(rp) = self.tib.group_rp(g) else {
                    continue;
                };
                let path = match paths.get(&rp) {
                    Some(p) => *p,
                    None => {
                        let p = self.rp_path(rp);
                        paths.insert(rp, p);
                        p
                    }
                };
                if let Some(r) = path.filter(|r| self.ifs.is_pim(r.ifindex)) {
                    want.insert((None, g), r);
                }
            }
            let flows: Vec<((Ipv4Addr, Ipv4Addr), u32, bool)> = self
                .sources
                .iter()
                .map(|(k, v)| (*k, v.ifindex, v.spt))
                .collect();
            let keys: Vec<(Ipv4Addr, Ipv4Addr)> = flows.iter().map(|f| f.0).collect();
            for ((s, g), arrived, spt) in flows {
                let rp_path = match self.rp_of(g) {
                    Some(rp) => match paths.get(&rp) {
                        Some(p) => *p,
                        None => {
                            let p = self.rp_path(rp);
                            paths.insert(rp, p);
                            p
                        }
                    },
                    None => None,
                };
                let rpf = self.rpf(s);
                let (iif, spt) =
                    routes::incoming(rpf, spt, arrived, rp_path, self.ifs.is_pim(arrived));
                self.sources.set_spt(s, g, spt);
                let Some(iif) = iif else { continue };
                let oifs = self.ifs.oifs_for(s, g, iif, &self.gates);
                if let Some(r) = rpf.filter(|r| r.neighbor.is_some() && !oifs.is_empty()) {
                    want.insert((Some(s), g), r);
                }
                let mut route = Route::new(s, g, iif, oifs);
                // On the RP tree: tell us when the data comes in on the shortest-path tree.
                route.watch_other_iifs = rpf.is_some_and(|r| r.ifindex != iif);
                route.register_to = self.register_tunnel(s, g, iif, rpf, now);
                let on_spt = rpf.is_some_and(|r| r.ifindex == iif);
                self.spt_switch(&mut route, on_spt, dataplane::ring::now_ns());
                t.insert(route);
            }
            self.register_forget(&keys, now);
            // At the RP: join toward the sources registered to us while they have receivers
            // (their Keepalive runs, §4.4.2 and §4.5.7), before their data arrives natively.
            for (s, g) in self.registered_flows() {
                if let Some(r) = self.rpf(s).filter(|r| r.neighbor.is_some()) {
                    if !self.ifs.oifs_for(s, g, r.ifindex, &self.gates).is_empty() {
                        want.insert((Some(s), g), r);
                    }
                }
            }
            for (s, g) in named {
                if let Some(r) = self.rpf(s).filter(|r| r.neighbor.is_some()) {
                    want.insert((Some(s), g), r);
                }
            }
            want.retain(|_, r| self.ifs.is_pim(r.ifindex));
        }
        self.reg.spt_since.retain(|k, _| t.get(k.0, k.1).is_some());
        t.adopt_counters(&old);
        let now_ms = now_ms();
        self.route_since.retain(|k, _| t.get(k.0, k.1).is_some());
        for r in t.routes() {
            self.route_since
                .entry((r.source, r.group))
                .or_insert(now_ms);
        }
        self.mfib.publish(t);
        self.end_stale_asserts(now);
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
                self.ifs.pim_at(r.ifindex).map(|p| p.assert_state(s, g))
            {
                r.neighbor = Some(winner);
            }
            let a = self
                .tib
                .set_join_desired(s, g, true, r.neighbor, r.ifindex, now);
            self.tib_actions(a);
        }
    }

    /// RP(G) in the upstream join state for the groups with (*,G) interest, from the BSR's RP
    /// set (none there: the static RP); groups no longer of interest go back to the static RP.
    /// Nothing is sent here: the (*,G) routes are all passed to the Tib again right after
    /// (wanted toward the new RP's path, or ended), which sends the Join and the Prune.
    fn set_group_rps(&mut self, star: &[Ipv4Addr]) {
        let gone: Vec<Ipv4Addr> = self
            .tib
            .groups_with_own_rp()
            .filter(|g| !star.contains(g))
            .collect();
        for g in gone {
            self.tib.assign_group_rp(g, None);
        }
        for &g in star {
            let rp = self.bsr.as_ref().and_then(|b| b.rp_for(g));
            self.tib.assign_group_rp(g, rp);
        }
    }

    /// Gate readiness: IGMP on every interface gated by this group has had one max-response
    /// time to relearn its receivers (after a restart, preempting earlier would cut them off).
    pub fn gate_ready(&self, ifname: &str, vrid: u8, now: Instant) -> Option<Duration> {
        self.ifs.gate_ready(ifname, vrid, now)
    }

    /// The name of our multicast interface with index `ifindex`.
    pub(in crate::engines) fn name_of(&self, ifindex: u32) -> Option<String> {
        self.ifs.name_of(ifindex)
    }

    /// A clean stop: PIM says goodbye on every interface (the frames come out as effects).
    pub fn stop(&mut self, now: Instant) {
        self.ifs.shutdown();
        self.absorb(now);
    }
}

#[cfg(test)]
mod tests;
