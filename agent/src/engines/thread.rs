//! The protocol thread: one `poll(2)` loop (SCHED_FIFO when permitted) so protocol deadlines
//! never wait behind NETCONF work. It owns the sockets, the rtnetlink view of the interfaces
//! and the two engines, and only routes: packets and link events in, the engines' effects out
//! to sockets, the multicast gates and the notification channel. What the device decides lives
//! in [`HotBackup`] (BFD, VRRP, monitor groups and the hot-backup policy, sans I/O) and
//! [`Multicast`] (IGMP, PIM, the gates and the forwarding table, sans I/O); the thread starts
//! and stops the multicast forwarder and the routing table reader, through [`McIo`], as the
//! multicast engine's effects ask. Configuration arrives as prepare/apply commands from the
//! commit pipeline.
//!
//! Why one file of about 700 lines: it is the I/O shell, and all of it is routing between the
//! poll set, rtnetlink and the tables that own the state ([`HotBackup`], [`Multicast`],
//! `sockets.rs`, `netdevs.rs`); splitting it would spread one poll loop over several files.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dataplane::netlink::{self, Addr, Link, LinkStats};
use dataplane::sock;
use tracing::{debug, error, info, warn};

use super::bfd::io as bfd_io;
use super::bfd::sessions::{Resolution, Rx};
use super::config::{self, Config, Delta, Touched};
use super::hot_backup::{Effect, HotBackup, Links};
use super::ifconfig::{self, Op};
use super::mcast::io::McIo;
use super::mcast::Multicast;
use super::netdevs::{Changes, Netdevs};
use super::sockets::{Reserved, Sockets};
use super::state;
use super::vrrp::io::VrrpIo;
use super::vrrp::packet as vpkt;
use crate::clock::now_ms;

/// Work between two looks at the sockets longer than this is logged: at the shortest BFD
/// intervals a peer's detection time is 30 ms.
const BUSY_WARNING: Duration = Duration::from_millis(10);

/// Requests from the commit pipeline and `<get>`.
pub enum Command {
    /// Check that `Config` can be applied and reserve what it needs; the reply is the veto.
    Prepare(Box<Delta>, Sender<Result<(), String>>),
    /// Apply the prepared configuration.
    Apply,
    /// Forget the prepared configuration.
    Abort,
    /// Operational state (interfaces, monitor groups, BFD, VRRP, multicast), with the
    /// interface counters by ifindex as the requester read them.
    State(
        HashMap<u32, LinkStats>,
        state::Scope,
        Sender<state::Snapshot>,
    ),
    /// Send what a clean shutdown sends (priority-0 adverts, BFD AdminDown) and stop.
    Stop(Sender<()>),
}

/// Log work on the protocol thread that took longer than [`BUSY_WARNING`] since `started`:
/// while it runs no BFD or VRRP packet is sent or read.
fn busy(work: &'static str, started: Instant) {
    let took = started.elapsed();
    if took > BUSY_WARNING {
        warn!(
            work,
            took_ms = took.as_millis() as u64,
            "protocol thread was busy; peers may time out"
        );
    }
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Prepare(..) => "prepare",
            Command::Apply => "apply",
            Command::Abort => "abort",
            Command::State(..) => "state",
            Command::Stop(_) => "stop",
        }
    }
}

/// What prepare reserved for apply.
struct Pending {
    delta: Delta,
    reserved: Reserved,
}

/// The interfaces as the hot-backup core sees them, over the thread's netlink view.
struct View<'a> {
    cfg: &'a Config,
    links: &'a BTreeMap<String, Link>,
    addrs: &'a [Addr],
    vrrp_io: &'a HashMap<String, VrrpIo>,
}

impl Links for View<'_> {
    fn ifindex(&self, ifname: &str) -> Option<u32> {
        self.links.get(ifname).map(|l| l.index)
    }

    fn oper_up(&self, ifname: &str) -> bool {
        self.links.get(ifname).is_some_and(|l| l.oper_up)
    }

    fn vrrp_ready(&self, ifname: &str) -> bool {
        self.vrrp_io.contains_key(ifname)
    }

    /// The interface's first configured address, else the first the kernel reports.
    fn local_ip(&self, ifname: &str) -> Ipv4Addr {
        if let Some(&(ip, _)) = self
            .cfg
            .interfaces
            .get(ifname)
            .and_then(|i| i.addrs.first())
        {
            return ip;
        }
        self.links
            .get(ifname)
            .and_then(|l| self.addrs.iter().find(|a| a.index == l.index))
            .map_or(Ipv4Addr::UNSPECIFIED, |a| a.ip)
    }
}

/// The thread's view as [`Links`], borrowing only the fields it needs (so the engines can be
/// borrowed mutably beside it).
macro_rules! view {
    ($s:expr) => {
        View {
            cfg: &$s.cfg,
            links: &$s.dev.links,
            addrs: &$s.dev.addrs,
            vrrp_io: &$s.sock.vrrp_io,
        }
    };
}

pub struct Thread {
    cfg: Arc<Config>,
    pending: Option<Pending>,
    commands: Receiver<Command>,
    wake: UnixDatagram,
    events: Sender<String>,
    nl: Option<netlink::Monitor>,
    nlh: Option<netlink::Handle>,
    dev: Netdevs,
    sock: Sockets,
    hb: HotBackup,
    /// The buffer [`Thread::carry_out`] swaps the engines' effects into.
    effects: Vec<Effect>,
    mc: Multicast,
    /// The multicast engine's sockets, forwarder and routing table reader.
    mcio: McIo,
    /// [`Sessions::late_arrivals`](super::bfd::sessions::Sessions::late_arrivals) as last
    /// passed on to the forwarder.
    bfd_late_seen: u64,
    buf: Vec<u8>,
    /// Wall-clock times in state snapshots (see [`state::WallAnchor`]).
    wall: state::WallAnchor,
    /// Moves on every change of `cfg` (the state's memo compares it).
    cfg_version: u64,
    /// The monitor groups' last state rows.
    memo: state::Memo,
}

impl Thread {
    pub fn new(commands: Receiver<Command>, wake: UnixDatagram, events: Sender<String>) -> Thread {
        let nl = netlink::Monitor::open()
            .map_err(|e| warn!(error = %e, "no rtnetlink events: interface state is unknown"))
            .ok();
        let nlh = netlink::Handle::open()
            .map_err(|e| warn!(error = %e, "no rtnetlink requests"))
            .ok();
        let seed = now_ms() ^ u64::from(std::process::id()) << 32;
        let mc = Multicast::new(now_ms());
        let mcio = McIo::new(&mc);
        let mut d = Thread {
            cfg: Arc::new(Config::default()),
            pending: None,
            commands,
            wake,
            events,
            nl,
            nlh,
            dev: Netdevs::default(),
            sock: Sockets::default(),
            hb: HotBackup::new(seed),
            effects: Vec::new(),
            mc,
            mcio,
            bfd_late_seen: 0,
            buf: vec![0; 65536],
            wall: state::WallAnchor::new(),
            cfg_version: 0,
            memo: state::Memo::default(),
        };
        d.resync_links();
        d
    }

    /// Re-read every link and address (at start and after a netlink overrun).
    fn resync_links(&mut self) {
        if let Some(h) = self.nlh.as_mut() {
            self.dev.resync(h);
        }
    }

    pub fn run(mut self) {
        match sock::set_realtime(50) {
            Ok(()) => info!("protocol thread runs SCHED_FIFO 50"),
            Err(e) => info!(error = %e, "protocol thread runs at normal priority"),
        }
        pin_protocol_thread();
        let mut fds = Vec::new();
        let mut ready = Vec::new();
        loop {
            let mut now = Instant::now();
            if self.next_deadline().is_some_and(|t| t <= now) {
                // Whatever arrived while this thread was busy (a commit, a `<get>`, a late
                // wake-up) arrived in time: hear it before any deadline is judged, or a BFD
                // detection time or a VRRP master-down timer would expire on packets that are
                // sitting in the socket.
                self.pump(&mut fds, &mut ready, Duration::ZERO);
                now = Instant::now();
            }
            if let Some(late) = self.hb.on_timers(now).filter(|l| *l > BUSY_WARNING) {
                warn!(
                    late_ms = late.as_millis() as u64,
                    "protocol timers ran late"
                );
            }
            self.carry_out();
            busy("timers", now);
            let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
            if due(self.mc.next_deadline()) || due(self.mcio.next_deadline()) {
                let at = Instant::now();
                self.mcio.on_timer(now);
                self.mc.on_timer(now);
                self.mc_carry_out();
                busy("multicast timers", at);
            }
            let timeout = self
                .next_deadline()
                .map(|t| t.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_secs(1))
                .min(Duration::from_secs(1));
            self.pump(&mut fds, &mut ready, timeout);
            // The wake-up is drained here, not in `pump`: the read before due timers must leave
            // it readable, or the commands it announces would wait for the next timer (up to a
            // second without BFD). A command queued after this drain sends a wake-up of its own.
            let mut b = [0u8; 64];
            while self.wake.recv(&mut b).is_ok() {}
            loop {
                match self.commands.try_recv() {
                    Ok(Command::Stop(done)) => {
                        self.shutdown();
                        let _ = done.send(());
                        return;
                    }
                    Ok(c) => {
                        let (what, at) = (c.name(), Instant::now());
                        self.command(c);
                        busy(what, at);
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        self.shutdown();
                        return;
                    }
                }
            }
            // An interface that did not come up within its grace time counts as down now.
            let now = Instant::now();
            if self.hb.settle_expired(now) {
                self.hb.remonitor(&self.cfg, None, &view!(self), now);
                self.hb.retrack(now);
                self.carry_out();
            }
        }
    }

    /// The earliest protocol deadline: a BFD or VRRP timer, or a multicast one.
    fn next_deadline(&self) -> Option<Instant> {
        self.hb
            .next_deadline()
            .into_iter()
            .chain(self.mc.next_deadline())
            .chain(self.mcio.next_deadline())
            .min()
    }

    /// Wait up to `timeout` for packets, netlink events or a wake-up, and read what is ready.
    fn pump(&mut self, fds: &mut Vec<i32>, ready: &mut Vec<bool>, timeout: Duration) {
        fds.clear();
        fds.push(self.wake.as_raw_fd());
        fds.push(self.nl.as_ref().map_or(-1, |n| n.as_raw_fd()));
        fds.push(self.sock.rx_single.as_ref().map_or(-1, |s| s.as_raw_fd()));
        fds.push(self.sock.rx_multi.as_ref().map_or(-1, |s| s.as_raw_fd()));
        let vrrp_ifs: Vec<String> = self.sock.vrrp_io.keys().cloned().collect();
        for name in &vrrp_ifs {
            let io = &self.sock.vrrp_io[name];
            fds.push(io.raw.as_raw_fd());
            fds.push(io.arp.as_raw_fd());
        }
        let mc_fds = self.mcio.fds();
        let mc_at = fds.len();
        fds.extend(mc_fds.iter().map(|(fd, _)| *fd));
        let waited = Instant::now();
        let r = dataplane::poll::wait_readable(fds, ready, timeout);
        let over = waited.elapsed().saturating_sub(timeout);
        if over.as_nanos() > u128::from(dataplane::pacing::LATE_NS) {
            self.mcio.fwd.control_was_late();
        }
        if over > BUSY_WARNING {
            warn!(
                over_ms = over.as_millis() as u64,
                timeout_ms = timeout.as_millis() as u64,
                "protocol thread woke late"
            );
        }
        if let Err(e) = r {
            error!(error = %e, "poll failed");
            std::thread::sleep(Duration::from_millis(10));
            return;
        }
        let at = Instant::now();
        if ready[1] {
            self.read_netlink();
            busy("netlink events", at);
        }
        let at = Instant::now();
        if ready[2] {
            self.read_bfd(true);
        }
        if ready[3] {
            self.read_bfd(false);
        }
        if ready[2] || ready[3] {
            // A peer's packets held back while a saturated fast path runs: it sheds load.
            let late = self.hb.bfd.late_arrivals();
            if late > self.bfd_late_seen {
                self.bfd_late_seen = late;
                self.mcio.fwd.control_was_late();
            }
        }
        for (i, name) in vrrp_ifs.iter().enumerate() {
            if ready[4 + 2 * i] {
                self.read_vrrp(name);
            }
            if ready[5 + 2 * i] {
                self.read_arp(name);
            }
        }
        busy("BFD and VRRP packets", at);
        let at = Instant::now();
        for (i, (_, tag)) in mc_fds.iter().enumerate() {
            if ready[mc_at + i] {
                self.mcio.readable(tag, &mut self.mc);
            }
        }
        let now = Instant::now();
        self.mcio.check(now);
        self.mc.flush(now);
        self.mc_carry_out();
        busy("multicast packets", at);
    }

    fn command(&mut self, c: Command) {
        match c {
            Command::Prepare(delta, reply) => {
                let r = self.prepare(*delta);
                let _ = reply.send(r);
            }
            Command::Apply => {
                if let Some(p) = self.pending.take() {
                    self.apply(p);
                }
            }
            Command::Abort => self.pending = None,
            Command::State(stats, scope, reply) => {
                let _ = reply.send(self.state(&stats, &scope));
            }
            Command::Stop(_) => {}
        }
    }

    // ---- prepare / apply ----------------------------------------------------------------------

    fn prepare(&mut self, delta: Delta) -> Result<(), String> {
        self.check_bsr(&delta)?;
        let reserved = self.sock.reserve(
            &self.cfg,
            &delta,
            &self.dev.links,
            &self.dev.addrs,
            &self.hb.bfd,
        )?;
        self.pending = Some(Pending { delta, reserved });
        Ok(())
    }

    /// The addresses of `c-bsr` and `c-rp` after `delta` are the device's own: in the kernel
    /// now, or configured on an interface by the same configuration.
    fn check_bsr(&self, delta: &Delta) -> Result<(), String> {
        let (bsr, ifs) = match &delta.full {
            Some(full) => (&full.multicast.bsr, &full.interfaces),
            None => (
                delta
                    .multicast_bsr
                    .as_ref()
                    .unwrap_or(&self.cfg.multicast.bsr),
                &self.cfg.interfaces,
            ),
        };
        if bsr.candidate_bsr.is_none() && bsr.candidate_rp.is_none() {
            return Ok(());
        }
        let own = |a: Ipv4Addr| {
            let configured = |i: &config::Interface| i.addrs.iter().any(|&(x, _)| x == a);
            let in_delta = delta.full.is_none()
                && delta
                    .interfaces
                    .values()
                    .flatten()
                    .any(|p| configured(&p.interface));
            self.dev.addrs.iter().any(|x| x.ip == a)
                || in_delta
                || ifs
                    .iter()
                    .filter(|(n, _)| delta.full.is_some() || !delta.interfaces.contains_key(*n))
                    .any(|(_, i)| configured(i))
        };
        super::checks::bsr_addresses(bsr, own).map_err(|r| format!("{} ({})", r.message, r.path))
    }

    fn apply(&mut self, p: Pending) {
        let now = Instant::now();
        let touched = Touched::of(&self.cfg, &p.delta);
        // The monitor groups this commit changed (all of them for a full reload): only those
        // are looked at, so a commit costs what it changed, not the size of the table.
        let groups: Option<Vec<String>> = p
            .delta
            .full
            .is_none()
            .then(|| p.delta.monitor_groups.keys().cloned().collect());
        let old_ifs: BTreeMap<String, Option<config::Interface>> = touched
            .interfaces
            .iter()
            .map(|n| (n.clone(), self.cfg.interfaces.get(n).cloned()))
            .collect();
        Arc::make_mut(&mut self.cfg).apply_delta(&p.delta);
        self.cfg_version += 1;
        let new_tx = self.sock.take(p.reserved);
        let cfg = Arc::clone(&self.cfg);
        // Interfaces whose configuration changed.
        for (name, old) in &old_ifs {
            if old.as_ref() != cfg.interfaces.get(name) {
                self.apply_interface(name, old.as_ref());
            }
        }
        // BFD sessions (a removed one says AdminDown on its old socket first).
        self.hb.apply_bfd(&cfg, &touched.bfd, now);
        self.carry_out();
        for name in new_tx {
            self.hb.restart_bfd(&name, now);
        }
        // Multicast (before VRRP: a new mVRRP group asks it whether IGMP is warm).
        self.mc
            .apply(&cfg.multicast, &self.dev.links, &self.dev.addrs, now);
        self.mcio.ctl.sync(self.mc.control_interfaces(), now);
        self.mc_carry_out();
        let mc = &self.mc;
        let igmp_wait = |i: &str, v: u8| mc.gate_ready(i, v, now);
        self.hb
            .apply_vrrp(&cfg, &touched.interfaces, &view!(self), &igmp_wait, now);
        // Sockets of an interface without VRRP any more.
        for ifname in &touched.interfaces {
            if self.hb.vrrp.on(ifname).next().is_none() {
                self.sock.vrrp_io.remove(ifname);
            }
        }
        self.sock.prune(&cfg);
        self.hb
            .remonitor(&cfg, groups.as_deref(), &view!(self), now);
        self.hb.retrack(now);
        self.hb.sync_gates();
        self.carry_out();
    }

    /// Carry out what the engines asked for, in order.
    fn carry_out(&mut self) {
        // The effects are swapped out (no allocation per packet on the receive path), carried
        // out, and the buffer given back.
        let mut effects = std::mem::take(&mut self.effects);
        self.hb.swap_effects(&mut effects);
        for e in effects.drain(..) {
            match e {
                Effect::Bfd { id, packet } => {
                    let Some(s) = self.hb.bfd.get(id) else {
                        continue;
                    };
                    // Single-hop: does the packet leave now, or wait for the peer's ARP?
                    let resolved = s
                        .cfg
                        .interface
                        .as_ref()
                        .is_none_or(|i| self.dev.resolved(i, s.cfg.peer));
                    let sent =
                        bfd_io::send(self.sock.bfd_tx.get(&s.name), &s.cfg, &packet, resolved);
                    self.hb.bfd_sent(id, sent);
                }
                Effect::BfdRemoved {
                    name,
                    cfg,
                    farewell,
                } => {
                    let tx = self.sock.bfd_tx.remove(&name);
                    for p in &farewell {
                        // The session's counters went with it: whether these leave is not shown.
                        let _ = bfd_io::send(tx.as_ref(), &cfg, p, true);
                    }
                }
                Effect::Vrrp {
                    interface,
                    vrid,
                    src,
                    payload,
                } => {
                    if let Some(io) = self.sock.vrrp_io.get(&interface) {
                        io.advert(&interface, vrid, src, &payload);
                    }
                }
                Effect::Garp {
                    interface,
                    vrid,
                    vips,
                } => {
                    if let Some(io) = self.sock.vrrp_io.get(&interface) {
                        io.garp(vrid, &vips);
                    }
                }
                Effect::Gate {
                    interface,
                    vrid,
                    open,
                    handover,
                } => self.mc.set_gate(
                    &interface,
                    vrid,
                    open,
                    handover,
                    Instant::now(),
                    dataplane::ring::now_ns(),
                ),
                Effect::Notify(n) => {
                    let _ = self.events.send(state::notification_xml(&n));
                }
            }
        }
        self.effects = effects;
        self.mc_carry_out();
    }

    /// Carry out what the multicast engine asked for (frames, the forwarder's interfaces,
    /// routing table reads).
    fn mc_carry_out(&mut self) {
        self.mcio.carry_out(&mut self.mc);
    }

    // ---- packets ------------------------------------------------------------------------------

    fn read_bfd(&mut self, single_hop: bool) {
        for _ in 0..1024 {
            let sock = if single_hop {
                self.sock.rx_single.as_ref()
            } else {
                self.sock.rx_multi.as_ref()
            };
            let Some(sock) = sock else { return };
            let meta = match sock.recv(&mut self.buf) {
                Ok(Some(m)) => m,
                Ok(None) => return,
                Err(e) => {
                    debug!(error = %e, "BFD receive error");
                    return;
                }
            };
            let rx = Rx {
                src: *meta.src.ip(),
                single_hop,
                ttl: meta.ttl,
                ifindex: meta.ifindex,
            };
            let now = Instant::now();
            let view = view!(self);
            self.hb.bfd_received(&self.buf[..meta.len], rx, &view, now);
            self.carry_out();
        }
    }

    fn read_vrrp(&mut self, ifname: &str) {
        for _ in 0..256 {
            let Some(io) = self.sock.vrrp_io.get(ifname) else {
                return;
            };
            let meta = match io.raw.recv(&mut self.buf) {
                Ok(Some(m)) => m,
                Ok(None) => return,
                Err(e) => {
                    debug!(error = %e, "VRRP receive error");
                    return;
                }
            };
            self.hb
                .vrrp_received(ifname, &self.buf[..meta.len], Instant::now());
            self.carry_out();
        }
    }

    fn read_arp(&mut self, ifname: &str) {
        for _ in 0..256 {
            let Some(io) = self.sock.vrrp_io.get(ifname) else {
                return;
            };
            let n = match io.arp.recv(&mut self.buf) {
                Ok(Some(n)) => n,
                _ => return,
            };
            let Some((mac, ip, target)) = vpkt::parse_arp_request(&self.buf[..n]) else {
                continue;
            };
            // Answer for a virtual IP only while its group is master (RFC 9568 §6.4.3).
            if let Some(vrid) = self.hb.vrrp.arp_owner(ifname, target) {
                io.arp_reply(vrid, target, mac, ip);
            }
        }
    }

    /// The kernel's ARP entry for a neighbour changed: packets single-hop BFD sessions handed
    /// over while it was being resolved have now left (resolved) or were dropped (failed).
    fn neighbour_changed(&mut self, n: &netlink::Neighbour) {
        let outcome = match n.resolution {
            netlink::Resolution::Resolved => Resolution::Resolved,
            netlink::Resolution::Failed => Resolution::Failed,
            netlink::Resolution::Incomplete | netlink::Resolution::Gone => return,
        };
        if let Some(name) = self.dev.name_of(n.index) {
            self.hb.bfd_peer_resolved(name, n.ip, outcome);
        }
    }

    // ---- interfaces ---------------------------------------------------------------------------

    /// Admin state and addresses of one configured interface, when its netdev exists.
    fn apply_interface(&mut self, name: &str, old: Option<&config::Interface>) {
        let Some(link) = self.dev.links.get(name) else {
            return;
        };
        let Some(h) = self.nlh.as_mut() else { return };
        let ops = ifconfig::plan(link, &self.dev.addrs, self.cfg.interfaces.get(name), old);
        for op in ops {
            match op {
                Op::AddAddr(a) => match h.add_addr(&a) {
                    Ok(()) => {
                        info!(interface = %name, address = %a.ip, prefix = a.prefix_len, "address added")
                    }
                    Err(e) => {
                        error!(interface = %name, address = %a.ip, error = %e, "cannot add address")
                    }
                },
                Op::DelAddr(a) => match h.del_addr(&a) {
                    Ok(()) => info!(interface = %name, address = %a.ip, "address removed"),
                    Err(e) => {
                        error!(interface = %name, address = %a.ip, error = %e, "cannot remove address")
                    }
                },
                Op::SetUp(up) => match h.set_up(link.index, up) {
                    Ok(()) => {
                        info!(interface = %name, up, "admin state set");
                        if up {
                            self.hb.settle(name, Instant::now());
                        }
                    }
                    Err(e) => error!(interface = %name, error = %e, "cannot set admin state"),
                },
            }
        }
    }

    fn read_netlink(&mut self) {
        let Some(nl) = self.nl.as_mut() else { return };
        // The kernel drops routes through a link that went down or an address that went away
        // without a notification for each: the routing table is read again after such events,
        // and after lost events.
        let c = match nl.read() {
            Ok(events) => self.dev.apply(events),
            Err(e) => {
                warn!(error = %e, "rtnetlink events lost; re-reading interfaces and routes");
                self.resync_links();
                Changes {
                    topology_changed: true,
                    ..Changes::default()
                }
            }
        };
        let now = Instant::now();
        let routes_only =
            !c.links_seen && !c.topology_changed && c.neighbours.is_empty() && !c.routes.is_empty();
        for name in &c.removed {
            self.sock.link_removed(name, &self.hb.bfd);
        }
        for (route, removed, replace) in c.routes {
            self.mc.route_event(route, removed, replace);
        }
        for n in &c.neighbours {
            self.neighbour_changed(n);
        }
        // A link the agent set up reporting up ends its settling: a change for monitor groups.
        let mut link_changed = c.link_changed;
        for name in &c.reported_up {
            if self.hb.settled(name) {
                debug!(interface = %name, "link up after the agent set it up");
                link_changed = true;
            }
        }
        if c.topology_changed || link_changed || !c.appeared.is_empty() {
            self.mc.routes_changed();
        }
        for name in &c.appeared {
            self.interface_appeared(name);
        }
        if routes_only {
            // Links and addresses are as they were.
            return;
        }
        self.mc.sync_links(&self.dev.links, &self.dev.addrs, now);
        self.mcio.ctl.sync(self.mc.control_interfaces(), now);
        self.mc_carry_out();
        if link_changed || !c.appeared.is_empty() {
            self.hb.links_changed(&self.cfg, &view!(self), now);
            self.carry_out();
        }
    }

    /// A configured netdev came into existence: configure it and start what is bound to it.
    fn interface_appeared(&mut self, name: &str) {
        if self.cfg.interfaces.contains_key(name) {
            info!(interface = %name, "configured interface appeared");
            self.apply_interface(name, None);
        }
        if let Some(l) = self.dev.links.get(name) {
            self.sock
                .link_appeared(name, l.index, &self.cfg, &self.hb.bfd);
        }
    }

    fn shutdown(&mut self) {
        self.hb.shutdown(Instant::now());
        self.carry_out();
        // Last: stopping the forwarder takes a moment, and BFD must not time out first.
        self.mc.stop(Instant::now());
        self.mc_carry_out();
        self.mcio.stop();
    }

    fn state(&mut self, stats: &HashMap<u32, LinkStats>, scope: &state::Scope) -> state::Snapshot {
        let sources = state::Sources {
            cfg: &self.cfg,
            cfg_version: self.cfg_version,
            links: &self.dev.links,
            stats,
            hb: &self.hb,
            mc: &self.mc,
            fwd: &self.mcio.fwd,
        };
        self.wall = self.wall.checked();
        state::snapshot(
            &sources,
            state::At {
                now: Instant::now(),
                wall: self.wall,
            },
            scope,
            &mut self.memo,
        )
    }
}

/// `NE_PROTOCOL_CPUS` (CPU numbers, comma-separated, ranges with `-`): keep the protocol thread
/// on these CPUs, away from the ones that take the network's receive work (NIC interrupts,
/// RPS). On a kernel without preemption, receive softirq work that runs on the protocol thread's
/// CPU holds it for milliseconds at a time under a flood (issue 19 item 6).
fn pin_protocol_thread() {
    let Ok(spec) = std::env::var("NE_PROTOCOL_CPUS") else {
        return;
    };
    match parse_cpu_list(&spec).map(|cpus| (sock::set_cpu_affinity(&cpus), cpus)) {
        Some((Ok(()), cpus)) => info!(?cpus, "protocol thread kept on these CPUs"),
        Some((Err(e), cpus)) => {
            warn!(error = %e, ?cpus, "NE_PROTOCOL_CPUS: the protocol thread stays on every CPU")
        }
        None => warn!(
            spec,
            "NE_PROTOCOL_CPUS is not a CPU list such as 0 or 0,2-3; ignored"
        ),
    }
}

/// A CPU list as the kernel writes one (`0`, `0,2-3`); None when malformed or empty.
pub(crate) fn parse_cpu_list(spec: &str) -> Option<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in spec.split(',').map(str::trim) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                if a > b || b - a > 4096 {
                    return None;
                }
                cpus.extend(a..=b);
            }
            None => cpus.push(part.parse().ok()?),
        }
    }
    (!cpus.is_empty()).then_some(cpus)
}

#[cfg(test)]
mod tests {
    use super::parse_cpu_list;

    #[test]
    fn cpu_lists_read_as_the_kernel_writes_them() {
        assert_eq!(parse_cpu_list("0"), Some(vec![0]));
        assert_eq!(parse_cpu_list("0,2-3"), Some(vec![0, 2, 3]));
        assert_eq!(parse_cpu_list(" 1 , 4-5 "), Some(vec![1, 4, 5]));
        for bad in ["", "a", "3-1", "0,", "-1", "1-", "0-99999"] {
            assert_eq!(parse_cpu_list(bad), None, "{bad:?}");
        }
    }
}
