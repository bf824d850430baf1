//! The protocol thread: owns the BFD and VRRP state machines, their sockets, the monitor
//! groups and the interface view fed by rtnetlink events. One `poll(2)` loop with a timer heap,
//! on its own OS thread (SCHED_FIFO when permitted) so protocol deadlines never wait behind
//! NETCONF work. Configuration arrives as prepare/apply commands from the commit pipeline.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dataplane::netlink::{self, Addr, Link, LinkStats};
use dataplane::sock::{self, Ipv4Socket, PacketSocket, UdpOptions};
use tracing::{debug, error, info, warn};

use super::bfd::packet::{ControlPacket, State as BfdState};
use super::bfd::session::{Action as BfdAction, ClientState, Session, SessionConfig};
use super::config::{self, Config, Delta, Touched};
use super::vrrp::group::{Action as VrrpAction, Group, GroupConfig, State as VrrpState};
use super::vrrp::packet::{self as vpkt, Advert, ChecksumMode};
use super::{monitor, track};
use crate::clock::now_ms;
use crate::clock::rfc3339;

pub const BFD_SINGLE_HOP_PORT: u16 = 3784;
pub const BFD_MULTI_HOP_PORT: u16 = 4784;
use vpkt::{
    IPPROTO_VRRP as VRRP_PROTO, VRRP_MCAST_MAC as VRRP_GROUP_MAC, VRRP_MCAST_V4 as VRRP_GROUP,
};

/// Work between two looks at the sockets longer than this is logged: at the shortest BFD
/// intervals a peer's detection time is 30 ms.
const BUSY_WARNING: Duration = Duration::from_millis(10);
/// How long a monitor group waits for an interface the agent set admin up to report its link
/// (veth and most NICs: well under a second) before counting it as down.
const SETTLE_GRACE: Duration = Duration::from_secs(2);

/// Requests from the commit pipeline and `<get>`.
pub enum Command {
    /// Check that `Config` can be applied and reserve what it needs; the reply is the veto.
    Prepare(Box<Delta>, Sender<Result<(), String>>),
    /// Apply the prepared configuration.
    Apply,
    /// Forget the prepared configuration.
    Abort,
    /// Operational state as XML (interfaces, monitor groups, BFD, VRRP), with the interface
    /// counters by ifindex as the requester read them.
    State(HashMap<u32, LinkStats>, Sender<String>),
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Bfd(u32),
    Vrrp(u32),
}

struct BfdEntry {
    name: String,
    cfg: config::BfdSession,
    core: Session,
    tx: Option<Ipv4Socket>,
    last_change_ms: u64,
    /// Packets dropped before the state machine (GTSM, wrong interface).
    io_discards: u64,
    /// Control packets that did not leave: the kernel refused them, there was no socket to
    /// send them on, or they waited for the peer's ARP resolution and were dropped when it
    /// failed. The rest of what the core asked to send (its `tx_packets`), less `unconfirmed`,
    /// went out.
    tx_errors: u64,
    /// Packets handed to the kernel while the peer's ARP entry was not resolved: they wait in
    /// the kernel's queue and leave if resolution succeeds, or become `tx_errors` if it fails.
    unconfirmed: u64,
    /// Why the last packet that did not leave did not (for `<get>`).
    last_tx_error: Option<String>,
}

struct VrrpEntry {
    ifname: String,
    vrid: u8,
    cfg: config::VrrpGroup,
    core: Group,
    last_change_ms: u64,
    /// Tracked BFD sessions that have been Up since the track was configured.
    seen_up: HashSet<String>,
    checksum_errors: u64,
    ttl_errors: u64,
    /// Preemption held back until this time (IGMP relearning after a start; see
    /// [`super::mcast::Multicast::gate_ready`]).
    hold_until: Option<Instant>,
    /// The last advert heard from another router: when, and its priority.
    heard: Option<(Instant, u8)>,
}

/// Sockets for VRRP on one interface.
struct VrrpIo {
    raw: Ipv4Socket,
    tx: PacketSocket,
    arp: PacketSocket,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
struct MonitorState {
    ratio: u8,
    down: u16,
    last_change_ms: u64,
}

/// A touched interface or BFD session with its new configuration (None: removed).
type TouchedIf = (String, Option<config::InterfaceParts>);
type TouchedBfd = (String, Option<config::BfdSession>);

/// What prepare reserved for apply.
#[derive(Default)]
struct Pending {
    delta: Delta,
    bfd_tx: HashMap<String, Ipv4Socket>,
    vrrp_io: HashMap<String, VrrpIo>,
    rx_single: Option<Ipv4Socket>,
    rx_multi: Option<Ipv4Socket>,
}

pub struct Driver {
    cfg: Arc<Config>,
    pending: Option<Pending>,
    commands: Receiver<Command>,
    wake: UnixDatagram,
    events: Sender<String>,
    nl: Option<netlink::Monitor>,
    nlh: Option<netlink::Handle>,
    links: BTreeMap<String, Link>,
    addrs: Vec<Addr>,
    rx_single: Option<Ipv4Socket>,
    rx_multi: Option<Ipv4Socket>,
    bfd: HashMap<u32, BfdEntry>,
    bfd_ids: BTreeMap<String, u32>,
    by_disc: HashMap<u32, u32>,
    vrrp: HashMap<u32, VrrpEntry>,
    vrrp_ids: BTreeMap<(String, u8), u32>,
    vrrp_io: HashMap<String, VrrpIo>,
    monitors: BTreeMap<String, MonitorState>,
    /// BFD Control packets that did not decode (before any session could be found for them).
    bfd_malformed: u64,
    /// VRRP advertisements that did not decode, by interface.
    vrrp_malformed: HashMap<String, u64>,
    /// IPv4 neighbour (ARP) entries as the kernel reports them: whether a single-hop BFD
    /// packet to a peer leaves at once or waits for resolution.
    neighbours: HashMap<(u32, Ipv4Addr), netlink::Resolution>,
    /// Interfaces this agent has just set admin up, until their link reports up or the grace
    /// time ends: monitor groups bound to them wait (see [`monitor::Binding::Settling`]).
    settling: BTreeMap<String, Instant>,
    mc: super::mcast::Multicast,
    timers: BinaryHeap<Reverse<(Instant, Timer)>>,
    next_id: u32,
    seed: u64,
    buf: Vec<u8>,
}

/// Microseconds as a decimal64 of milliseconds with three fraction digits (`10.000`).
fn us_as_ms(us: u32) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}

/// Effective capabilities of this process (CapEff in /proc/self/status).
fn has_capability(bit: u32) -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .is_some_and(|caps| caps & (1 << bit) != 0)
}
const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;

fn bfd_session_config(c: &config::BfdSession) -> SessionConfig {
    SessionConfig {
        local_disc: c.local_disc,
        remote_disc: c.remote_disc,
        desired_min_tx_us: c.min_tx_ms.saturating_mul(1000),
        required_min_rx_us: c.min_rx_ms.saturating_mul(1000),
        detect_mult: c.multiplier,
        admin_down: c.admin_down,
    }
}

fn vrrp_group_config(vrid: u8, c: &config::VrrpGroup) -> GroupConfig {
    GroupConfig {
        vrid,
        version: c.version,
        priority: c.priority,
        preempt: c.preempt,
        preempt_delay: Duration::from_secs(u64::from(c.preempt_delay_s)),
        advert_interval_cs: (c.advertise_interval_ms / 10).clamp(1, 4095) as u16,
        checksum: if c.exclude_pseudo_header {
            ChecksumMode::ExcludePseudoHeader
        } else {
            ChecksumMode::IncludePseudoHeader
        },
        virtual_ips: c.virtual_ips.clone(),
        accept_any_checksum: true,
    }
}

/// The transport of a BFD session: UDP from a port of 49152..65535 unique on this system,
/// TTL 255 (RFC 5881 §4/§5, RFC 5883 §2), bound to the interface for single-hop sessions.
fn open_bfd_tx(c: &config::BfdSession) -> Result<Ipv4Socket, String> {
    let ip = c.source.unwrap_or(Ipv4Addr::UNSPECIFIED);
    let mut last = None;
    for port in 49152..=65535u16 {
        match Ipv4Socket::udp(&UdpOptions {
            bind: SocketAddrV4::new(ip, port),
            device: c.interface.as_deref(),
            ttl: Some(255),
            recv_meta: false,
            reuse_addr: false,
        }) {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last = Some(e),
            Err(e) => {
                return Err(match c.interface.as_deref() {
                    Some(i) => format!("cannot open the BFD socket on {i} from {ip}: {e}"),
                    None => format!("cannot open the BFD socket from {ip}: {e}"),
                })
            }
        }
    }
    Err(format!(
        "no free BFD source port in 49152..65535: {}",
        last.map(|e| e.to_string()).unwrap_or_default()
    ))
}

fn open_bfd_rx(port: u16) -> Result<Ipv4Socket, String> {
    Ipv4Socket::udp(&UdpOptions {
        bind: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port),
        device: None,
        ttl: None,
        recv_meta: true,
        reuse_addr: true,
    })
    .map_err(|e| format!("cannot listen for BFD on UDP port {port}: {e}"))
}

fn open_vrrp_io(ifname: &str, ifindex: u32) -> Result<VrrpIo, String> {
    let why = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            format!("VRRP on {ifname} needs CAP_NET_RAW: {e}")
        } else {
            format!("cannot open the VRRP sockets on {ifname}: {e}")
        }
    };
    let raw = Ipv4Socket::raw(VRRP_PROTO, Some(ifname)).map_err(why)?;
    raw.join_multicast(VRRP_GROUP, ifindex).map_err(why)?;
    let tx = PacketSocket::open(ifindex, None).map_err(why)?;
    let arp = PacketSocket::open(ifindex, Some(sock::ETH_P_ARP)).map_err(why)?;
    Ok(VrrpIo { raw, tx, arp })
}

impl Driver {
    pub fn new(commands: Receiver<Command>, wake: UnixDatagram, events: Sender<String>) -> Driver {
        let nl = netlink::Monitor::open()
            .map_err(|e| warn!(error = %e, "no rtnetlink events: interface state is unknown"))
            .ok();
        let nlh = netlink::Handle::open()
            .map_err(|e| warn!(error = %e, "no rtnetlink requests"))
            .ok();
        let mut d = Driver {
            cfg: Arc::new(Config::default()),
            pending: None,
            commands,
            wake,
            events,
            nl,
            nlh,
            links: BTreeMap::new(),
            addrs: Vec::new(),
            rx_single: None,
            rx_multi: None,
            bfd: HashMap::new(),
            bfd_ids: BTreeMap::new(),
            by_disc: HashMap::new(),
            vrrp: HashMap::new(),
            vrrp_ids: BTreeMap::new(),
            vrrp_io: HashMap::new(),
            monitors: BTreeMap::new(),
            bfd_malformed: 0,
            vrrp_malformed: HashMap::new(),
            neighbours: HashMap::new(),
            settling: BTreeMap::new(),
            mc: super::mcast::Multicast::new(now_ms()),
            timers: BinaryHeap::new(),
            next_id: 1,
            seed: now_ms() ^ u64::from(std::process::id()) << 32,
            buf: vec![0; 65536],
        };
        d.resync_links();
        d
    }

    /// Re-read every link and address (at start and after a netlink overrun).
    fn resync_links(&mut self) {
        let Some(h) = self.nlh.as_mut() else { return };
        match (h.links(), h.addrs()) {
            (Ok(links), Ok(addrs)) => {
                self.links = links.into_iter().map(|l| (l.name.clone(), l)).collect();
                self.addrs = addrs;
            }
            (Err(e), _) | (_, Err(e)) => warn!(error = %e, "cannot read interfaces"),
        }
        match h.neighbours() {
            Ok(ns) => {
                self.neighbours = ns
                    .into_iter()
                    .map(|n| ((n.index, n.ip), n.resolution))
                    .collect();
            }
            Err(e) => warn!(error = %e, "cannot read the ARP table"),
        }
    }

    pub fn run(mut self) {
        match sock::set_realtime(50) {
            Ok(()) => info!("protocol thread runs SCHED_FIFO 50"),
            Err(e) => info!(error = %e, "protocol thread runs at normal priority"),
        }
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
            self.run_timers(now);
            busy("timers", now);
            if self.mc.next_deadline().is_some_and(|t| t <= now) {
                let at = Instant::now();
                self.mc.on_timer(now);
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
            if self.settling.values().any(|&until| until <= now) {
                self.remonitor(None, now);
                self.retrack(now);
            }
        }
    }

    /// The earliest protocol deadline: a BFD or VRRP timer, or a multicast one.
    fn next_deadline(&self) -> Option<Instant> {
        let timer = self.timers.peek().map(|Reverse((t, _))| *t);
        timer.into_iter().chain(self.mc.next_deadline()).min()
    }

    /// Wait up to `timeout` for packets, netlink events or a wake-up, and read what is ready.
    fn pump(&mut self, fds: &mut Vec<i32>, ready: &mut Vec<bool>, timeout: Duration) {
        fds.clear();
        fds.push(self.wake.as_raw_fd());
        fds.push(self.nl.as_ref().map_or(-1, |n| n.as_raw_fd()));
        fds.push(self.rx_single.as_ref().map_or(-1, |s| s.as_raw_fd()));
        fds.push(self.rx_multi.as_ref().map_or(-1, |s| s.as_raw_fd()));
        let vrrp_ifs: Vec<String> = self.vrrp_io.keys().cloned().collect();
        for name in &vrrp_ifs {
            let io = &self.vrrp_io[name];
            fds.push(io.raw.as_raw_fd());
            fds.push(io.arp.as_raw_fd());
        }
        let mc_fds = self.mc.fds();
        let mc_at = fds.len();
        fds.extend(mc_fds.iter().map(|(fd, _)| *fd));
        let waited = Instant::now();
        let r = dataplane::poll::wait_readable(fds, ready, timeout);
        let over = waited.elapsed().saturating_sub(timeout);
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
                self.mc.readable(tag, Instant::now());
            }
        }
        self.mc.flush(Instant::now());
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
            Command::State(stats, reply) => {
                let _ = reply.send(self.state_xml(&stats));
            }
            Command::Stop(_) => {}
        }
    }

    // ---- prepare / apply ----------------------------------------------------------------------

    /// The BFD sessions after `delta`: the touched ones from it, the others as they are.
    fn bfd_after<'a>(
        &'a self,
        delta: &'a Delta,
    ) -> Box<dyn Iterator<Item = (&'a String, &'a config::BfdSession)> + 'a> {
        match &delta.full {
            Some(f) => Box::new(f.bfd.iter()),
            None => Box::new(
                self.cfg
                    .bfd
                    .iter()
                    .filter(|(n, _)| !delta.bfd.contains_key(*n))
                    .chain(
                        delta
                            .bfd
                            .iter()
                            .filter_map(|(n, b)| b.as_ref().map(|b| (n, b))),
                    ),
            ),
        }
    }

    fn prepare(&mut self, delta: Delta) -> Result<(), String> {
        let mut p = Pending::default();
        // The touched interfaces and BFD sessions, with their new configuration.
        let (ifs, sessions): (Vec<TouchedIf>, Vec<TouchedBfd>) = match &delta.full {
            Some(f) => {
                let mut ifs: BTreeMap<String, Option<config::InterfaceParts>> = BTreeMap::new();
                for (name, i) in &f.interfaces {
                    ifs.insert(
                        name.clone(),
                        Some(config::InterfaceParts {
                            interface: i.clone(),
                            vrrp: f
                                .vrrp
                                .range((name.clone(), 0)..=(name.clone(), 255))
                                .map(|((_, v), g)| (*v, g.clone()))
                                .collect(),
                            mc: f.multicast.interfaces.get(name).cloned(),
                        }),
                    );
                }
                (
                    ifs.into_iter().collect(),
                    f.bfd
                        .iter()
                        .map(|(n, b)| (n.clone(), Some(b.clone())))
                        .collect(),
                )
            }
            None => (
                delta
                    .interfaces
                    .iter()
                    .map(|(n, i)| (n.clone(), i.clone()))
                    .collect(),
                delta
                    .bfd
                    .iter()
                    .map(|(n, b)| (n.clone(), b.clone()))
                    .collect(),
            ),
        };
        // Interfaces: changing an existing netdev needs CAP_NET_ADMIN.
        for (name, parts) in &ifs {
            let (Some(parts), Some(link)) = (parts, self.links.get(name)) else {
                continue;
            };
            let ic = &parts.interface;
            let changes_state = ic.enabled != link.admin_up
                || ic.addrs.iter().any(|&(ip, len)| {
                    !self
                        .addrs
                        .iter()
                        .any(|a| a.index == link.index && a.ip == ip && a.prefix_len == len)
                });
            if changes_state && !has_capability(CAP_NET_ADMIN) {
                return Err(format!(
                    "configuring interface {name} needs CAP_NET_ADMIN, which the agent does not have"
                ));
            }
        }
        // BFD: receive sockets, then one transmit socket per new or re-addressed session.
        let single = self.bfd_after(&delta).any(|(_, s)| s.interface.is_some());
        let multi = self.bfd_after(&delta).any(|(_, s)| s.interface.is_none());
        if single && self.rx_single.is_none() {
            p.rx_single = Some(open_bfd_rx(BFD_SINGLE_HOP_PORT)?);
        }
        if multi && self.rx_multi.is_none() {
            p.rx_multi = Some(open_bfd_rx(BFD_MULTI_HOP_PORT)?);
        }
        let mut discs: HashMap<u32, &String> = HashMap::new();
        for (name, s) in sessions
            .iter()
            .filter_map(|(n, s)| s.as_ref().map(|s| (n, s)))
        {
            if let Some(other) = discs.insert(s.local_disc, name) {
                return Err(format!(
                    "BFD sessions {other} and {name} use the same local discriminator {}",
                    s.local_disc
                ));
            }
            // A session this change does not touch may hold the discriminator.
            if delta.full.is_none() {
                if let Some(holder) = self
                    .by_disc
                    .get(&s.local_disc)
                    .and_then(|id| self.bfd.get(id))
                {
                    if holder.name != *name && !delta.bfd.contains_key(&holder.name) {
                        return Err(format!(
                            "BFD sessions {} and {name} use the same local discriminator {}",
                            holder.name, s.local_disc
                        ));
                    }
                }
            }
            let old = self.bfd_ids.get(name).and_then(|id| self.bfd.get(id));
            let same_transport = old.is_some_and(|o| {
                o.tx.is_some()
                    && o.cfg.interface == s.interface
                    && o.cfg.source == s.source
                    && o.cfg.peer == s.peer
            });
            let present = s
                .interface
                .as_ref()
                .is_none_or(|i| self.links.contains_key(i));
            if !same_transport && present {
                p.bfd_tx.insert(name.clone(), open_bfd_tx(s)?);
            }
        }
        // VRRP: raw and packet sockets per interface that exists.
        for (ifname, parts) in &ifs {
            let Some(parts) = parts else { continue };
            if parts.vrrp.is_empty() || self.vrrp_io.contains_key(ifname) {
                continue;
            }
            match self.links.get(ifname) {
                Some(l) => {
                    p.vrrp_io
                        .insert(ifname.clone(), open_vrrp_io(ifname, l.index)?);
                }
                None if !has_capability(CAP_NET_RAW) => {
                    return Err(format!(
                        "VRRP on {ifname} needs CAP_NET_RAW, which the agent does not have"
                    ))
                }
                None => {}
            }
        }
        p.delta = delta;
        self.pending = Some(p);
        Ok(())
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
        if p.rx_single.is_some() {
            self.rx_single = p.rx_single;
        }
        if p.rx_multi.is_some() {
            self.rx_multi = p.rx_multi;
        }
        self.vrrp_io.extend(p.vrrp_io);
        let mut bfd_tx = p.bfd_tx;
        let cfg = Arc::clone(&self.cfg);
        // Interfaces whose configuration changed.
        for (name, old) in &old_ifs {
            if old.as_ref() != cfg.interfaces.get(name) {
                self.apply_interface(name, old.as_ref());
            }
        }
        // BFD sessions.
        for name in &touched.bfd {
            let Some(s) = cfg.bfd.get(name) else {
                self.remove_bfd(name);
                continue;
            };
            let tx = bfd_tx.remove(name);
            match self.bfd_ids.get(name).copied() {
                Some(id) => {
                    let e = self.bfd.get_mut(&id).expect("indexed session");
                    if e.cfg == *s && tx.is_none() {
                        continue;
                    }
                    if e.cfg.local_disc != s.local_disc {
                        self.by_disc.remove(&e.cfg.local_disc);
                        self.by_disc.insert(s.local_disc, id);
                    }
                    if tx.is_some() {
                        e.tx = tx;
                    }
                    e.cfg = s.clone();
                    let actions = e.core.reconfigure(bfd_session_config(s), now);
                    self.bfd_actions(id, actions, now);
                    self.arm(Timer::Bfd(id));
                }
                None => {
                    let id = self.next_id;
                    self.next_id += 1;
                    self.seed = self.seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    let core = Session::new(bfd_session_config(s), now, self.seed);
                    self.bfd.insert(
                        id,
                        BfdEntry {
                            name: name.clone(),
                            cfg: s.clone(),
                            core,
                            tx,
                            last_change_ms: now_ms(),
                            io_discards: 0,
                            tx_errors: 0,
                            unconfirmed: 0,
                            last_tx_error: None,
                        },
                    );
                    self.bfd_ids.insert(name.clone(), id);
                    self.by_disc.insert(s.local_disc, id);
                    info!(session = %name, peer = %s.peer, "BFD session created");
                    self.arm(Timer::Bfd(id));
                }
            }
        }
        // Multicast (before VRRP: a new mVRRP group asks it whether IGMP is warm).
        self.mc.apply(&cfg.multicast, &self.links, &self.addrs, now);
        // VRRP groups of the touched interfaces.
        for ifname in &touched.interfaces {
            let range = (ifname.clone(), 0)..=(ifname.clone(), 255);
            let gone: Vec<(String, u8)> = self
                .vrrp_ids
                .range(range.clone())
                .map(|(k, _)| k.clone())
                .filter(|k| !cfg.vrrp.contains_key(k))
                .collect();
            for key in gone {
                if let Some(id) = self.vrrp_ids.remove(&key) {
                    let actions = self
                        .vrrp
                        .get_mut(&id)
                        .map(|e| e.core.shutdown(now))
                        .unwrap_or_default();
                    self.vrrp_actions(id, actions, now);
                    self.vrrp.remove(&id);
                    info!(interface = %key.0, vrid = key.1, "VRRP group removed");
                }
            }
            for ((ifname, vrid), g) in cfg.vrrp.range(range) {
                let key = (ifname.clone(), *vrid);
                match self.vrrp_ids.get(&key).copied() {
                    Some(id) => {
                        let e = self.vrrp.get_mut(&id).expect("indexed group");
                        if e.cfg == *g {
                            continue;
                        }
                        let kept: HashSet<String> =
                            g.track_bfd.iter().map(|t| t.session.clone()).collect();
                        e.seen_up.retain(|s| kept.contains(s));
                        e.cfg = g.clone();
                        let actions = e.core.reconfigure(vrrp_group_config(*vrid, g), now);
                        self.vrrp_actions(id, actions, now);
                    }
                    None => {
                        let id = self.next_id;
                        self.next_id += 1;
                        let local = self.local_ip(ifname);
                        let core = Group::new(vrrp_group_config(*vrid, g), local, now);
                        self.vrrp.insert(
                            id,
                            VrrpEntry {
                                ifname: ifname.clone(),
                                vrid: *vrid,
                                cfg: g.clone(),
                                core,
                                last_change_ms: now_ms(),
                                seen_up: HashSet::new(),
                                checksum_errors: 0,
                                ttl_errors: 0,
                                hold_until: None,
                                heard: None,
                            },
                        );
                        self.vrrp_ids.insert(key.clone(), id);
                        self.hold_preemption(id, now);
                        info!(interface = %ifname, vrid, "VRRP group created");
                        self.link_to_vrrp(id, now);
                    }
                }
                if let Some(&id) = self.vrrp_ids.get(&key) {
                    self.arm(Timer::Vrrp(id));
                }
            }
            // Sockets of an interface without VRRP any more.
            if self
                .vrrp_ids
                .range((ifname.clone(), 0)..=(ifname.clone(), 255))
                .next()
                .is_none()
            {
                self.vrrp_io.remove(ifname);
            }
        }
        if !cfg.bfd.values().any(|s| s.interface.is_some()) {
            self.rx_single = None;
        }
        if !cfg.bfd.values().any(|s| s.interface.is_none()) {
            self.rx_multi = None;
        }
        self.remonitor(groups.as_deref(), now);
        self.retrack(now);
        self.sync_gates(now);
    }

    /// Tell the multicast engine which mVRRP groups are master.
    fn sync_gates(&mut self, now: Instant) {
        let states: Vec<(String, u8, bool)> = self
            .vrrp
            .values()
            .map(|e| {
                (
                    e.ifname.clone(),
                    e.vrid,
                    e.core.state() == VrrpState::Master,
                )
            })
            .collect();
        for (i, v, m) in states {
            self.mc.set_gate(&i, v, m, false, now);
        }
    }

    /// After a start, an mVRRP group whose gated interfaces run IGMP waits before preempting
    /// until IGMP has had one max-response time to relearn the receivers: preempting earlier
    /// would take forwarding away from a peer that has them.
    fn hold_preemption(&mut self, id: u32, now: Instant) {
        let Some(e) = self.vrrp.get(&id) else { return };
        if e.cfg.admin.is_none() {
            return;
        }
        let Some(wait) = self.mc.gate_ready(&e.ifname, e.vrid, now) else {
            return;
        };
        let e = self.vrrp.get_mut(&id).expect("checked");
        let mut c = vrrp_group_config(e.vrid, &e.cfg);
        if c.preempt_delay >= wait {
            return;
        }
        c.preempt_delay = wait;
        e.hold_until = Some(now + wait);
        let actions = e.core.reconfigure(c, now);
        info!(interface = %e.ifname, vrid = e.vrid, hold_ms = wait.as_millis() as u64, "preemption held while IGMP relearns");
        self.vrrp_actions(id, actions, now);
    }

    fn remove_bfd(&mut self, name: &str) {
        let Some(id) = self.bfd_ids.remove(name) else {
            return;
        };
        if let Some(mut e) = self.bfd.remove(&id) {
            self.by_disc.remove(&e.cfg.local_disc);
            // Tell the peer this end is going away administratively (RFC 5880 §6.8.16).
            let mut c = bfd_session_config(&e.cfg);
            c.admin_down = true;
            let actions = e.core.reconfigure(c, Instant::now());
            for a in actions {
                if let BfdAction::Send(p) = a {
                    // The session's counters go with it: whether this one leaves is not shown.
                    send_bfd(&mut e, &p, true);
                }
            }
            info!(session = %name, "BFD session removed");
        }
    }

    /// Admin state and addresses of one configured interface, when its netdev exists.
    fn apply_interface(&mut self, name: &str, old: Option<&config::Interface>) {
        let Some(link) = self.links.get(name).cloned() else {
            return;
        };
        let Some(h) = self.nlh.as_mut() else { return };
        let new = self.cfg.interfaces.get(name);
        if let Some(ic) = new {
            for &(ip, len) in &ic.addrs {
                let a = Addr {
                    index: link.index,
                    ip,
                    prefix_len: len,
                };
                if !self.addrs.contains(&a) {
                    match h.add_addr(&a) {
                        Ok(()) => {
                            info!(interface = %name, address = %ip, prefix = len, "address added")
                        }
                        Err(e) => {
                            error!(interface = %name, address = %ip, error = %e, "cannot add address")
                        }
                    }
                }
            }
            if ic.enabled != link.admin_up {
                match h.set_up(link.index, ic.enabled) {
                    Ok(()) => {
                        info!(interface = %name, up = ic.enabled, "admin state set");
                        if ic.enabled {
                            self.settling
                                .insert(name.to_string(), Instant::now() + SETTLE_GRACE);
                        }
                    }
                    Err(e) => error!(interface = %name, error = %e, "cannot set admin state"),
                }
            }
        }
        if let Some(o) = old {
            for &(ip, len) in &o.addrs {
                if new.is_some_and(|n| n.addrs.contains(&(ip, len))) {
                    continue;
                }
                let a = Addr {
                    index: link.index,
                    ip,
                    prefix_len: len,
                };
                match h.del_addr(&a) {
                    Ok(()) => info!(interface = %name, address = %ip, "address removed"),
                    Err(e) => {
                        error!(interface = %name, address = %ip, error = %e, "cannot remove address")
                    }
                }
            }
        }
    }

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

    // ---- timers -------------------------------------------------------------------------------

    fn arm(&mut self, t: Timer) {
        let at = match t {
            Timer::Bfd(id) => self.bfd.get(&id).map(|e| e.core.next_deadline()),
            Timer::Vrrp(id) => self.vrrp.get(&id).and_then(|e| {
                [e.core.next_deadline(), e.hold_until]
                    .into_iter()
                    .flatten()
                    .min()
            }),
        };
        if let Some(at) = at {
            // A deadline already past (a received packet shortened an interval) is due now;
            // clamped, the heap also tells how late the thread runs its timers.
            self.timers.push(Reverse((at.max(Instant::now()), t)));
        }
    }

    fn run_timers(&mut self, now: Instant) {
        // The earliest due timer says how late this thread got round to them.
        let mut late = None;
        while let Some(&Reverse((at, t))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            if late.is_none() {
                late = Some((now.saturating_duration_since(at), t));
            }
            match t {
                Timer::Bfd(id) => {
                    let Some(e) = self.bfd.get_mut(&id) else {
                        continue;
                    };
                    if e.core.next_deadline() > now {
                        continue;
                    }
                    let actions = e.core.on_timer(now);
                    self.bfd_actions(id, actions, now);
                }
                Timer::Vrrp(id) => {
                    let Some(e) = self.vrrp.get_mut(&id) else {
                        continue;
                    };
                    if e.hold_until.is_some_and(|h| h <= now) {
                        e.hold_until = None;
                        let c = vrrp_group_config(e.vrid, &e.cfg);
                        let actions = e.core.reconfigure(c, now);
                        self.vrrp_actions(id, actions, now);
                        // The group may have become master: its advert timer is new.
                        self.arm(t);
                    }
                    let Some(e) = self.vrrp.get_mut(&id) else {
                        continue;
                    };
                    if e.core.next_deadline().is_none_or(|d| d > now) {
                        continue;
                    }
                    let actions = e.core.on_timer(now);
                    self.vrrp_actions(id, actions, now);
                }
            }
            self.arm(t);
        }
        if let Some((late, t)) = late.filter(|(l, _)| *l > BUSY_WARNING) {
            warn!(timer = ?t, late_ms = late.as_millis() as u64, "protocol timers ran late");
        }
    }

    // ---- BFD I/O ------------------------------------------------------------------------------

    fn read_bfd(&mut self, single_hop: bool) {
        for _ in 0..1024 {
            let sock = if single_hop {
                self.rx_single.as_ref()
            } else {
                self.rx_multi.as_ref()
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
            let now = Instant::now();
            let pkt = match ControlPacket::decode(&self.buf[..meta.len]) {
                Ok(p) => p,
                Err(err) => {
                    self.bfd_malformed += 1;
                    debug!(source = %meta.src, error = %err, "malformed BFD packet dropped");
                    continue;
                }
            };
            let id = if pkt.your_disc != 0 {
                self.by_disc.get(&pkt.your_disc).copied()
            } else {
                self.bfd.iter().find_map(|(&id, e)| {
                    (e.cfg.peer == *meta.src.ip() && e.cfg.interface.is_some() == single_hop)
                        .then_some(id)
                })
            };
            let Some(id) = id else { continue };
            let ifindex = self
                .bfd
                .get(&id)
                .and_then(|e| e.cfg.interface.as_ref())
                .and_then(|i| self.links.get(i))
                .map(|l| l.index);
            let Some(e) = self.bfd.get_mut(&id) else {
                continue;
            };
            if e.cfg.interface.is_some() != single_hop || e.cfg.peer != *meta.src.ip() {
                e.io_discards += 1;
                continue;
            }
            // RFC 5881 §5 (GTSM): single-hop packets must arrive with TTL 255, on the session's
            // interface.
            if single_hop
                && (meta.ttl != Some(255) || (ifindex.is_some() && meta.ifindex != ifindex))
            {
                e.io_discards += 1;
                continue;
            }
            let actions = e.core.receive(&pkt, now);
            self.bfd_actions(id, actions, now);
            self.arm(Timer::Bfd(id));
        }
    }

    fn bfd_actions(&mut self, id: u32, actions: Vec<BfdAction>, _now: Instant) {
        let mut changed = false;
        for a in actions {
            let Some(e) = self.bfd.get_mut(&id) else {
                return;
            };
            match a {
                BfdAction::Send(p) => {
                    // Single-hop: does the packet leave now, or wait for the peer's ARP?
                    let resolved = match &e.cfg.interface {
                        Some(ifname) => self.links.get(ifname).is_some_and(|l| {
                            self.neighbours.get(&(l.index, e.cfg.peer))
                                == Some(&netlink::Resolution::Resolved)
                        }),
                        None => true,
                    };
                    send_bfd(e, &p, resolved)
                }
                BfdAction::StateChange { old, new, diag } => {
                    e.last_change_ms = now_ms();
                    info!(session = %e.name, old = old.name(), new = new.name(), diag = diag.name(), remote_disc = e.core.remote_disc(), "BFD state change");
                    let _ = self.events.send(format!(
                        "<session-state-change xmlns=\"urn:ne-agent:yang:ne-bfd\"><name>{}</name>\
                         <old-state>{}</old-state><new-state>{}</new-state><diagnostic>{}</diagnostic>\
                         </session-state-change>",
                        yang::xml::escape_text(&e.name),
                        old.name(),
                        new.name(),
                        diag.name()
                    ));
                    changed = true;
                }
            }
        }
        if changed {
            self.retrack(Instant::now());
        }
    }

    /// The kernel's ARP entry for a neighbour changed: packets single-hop BFD sessions handed
    /// over while it was being resolved have now left (resolved) or were dropped (failed).
    fn neighbour_changed(&mut self, n: netlink::Neighbour) {
        if n.resolution == netlink::Resolution::Gone {
            self.neighbours.remove(&(n.index, n.ip));
        } else {
            self.neighbours.insert((n.index, n.ip), n.resolution);
        }
        for e in self.bfd.values_mut() {
            let on_it = e.cfg.peer == n.ip
                && e.cfg
                    .interface
                    .as_ref()
                    .and_then(|i| self.links.get(i))
                    .is_some_and(|l| l.index == n.index);
            if !on_it || e.unconfirmed == 0 {
                continue;
            }
            match n.resolution {
                netlink::Resolution::Resolved => e.unconfirmed = 0,
                netlink::Resolution::Failed => {
                    let dropped = std::mem::take(&mut e.unconfirmed);
                    e.tx_errors += dropped;
                    let ifname = e.cfg.interface.as_deref().unwrap_or("");
                    e.last_tx_error = Some(format!(
                        "ARP for {} on {ifname} failed: {dropped} packet(s) dropped",
                        e.cfg.peer
                    ));
                    debug!(session = %e.name, dropped, "BFD packets dropped: peer not resolved");
                }
                netlink::Resolution::Incomplete | netlink::Resolution::Gone => {}
            }
        }
    }

    // ---- VRRP I/O -----------------------------------------------------------------------------

    fn read_vrrp(&mut self, ifname: &str) {
        for _ in 0..256 {
            let Some(io) = self.vrrp_io.get(ifname) else {
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
            let now = Instant::now();
            let b = &self.buf[..meta.len];
            let Some((ihl, total)) =
                dataplane::wire::ipv4_bounds(b).filter(|&(ihl, total)| total >= ihl + 8)
            else {
                *self.vrrp_malformed.entry(ifname.to_string()).or_default() += 1;
                debug!(interface = %ifname, len = b.len(), "malformed VRRP packet dropped: bad IPv4 header");
                continue;
            };
            let ttl = b[8];
            let dst = Ipv4Addr::new(b[16], b[17], b[18], b[19]);
            let src = Ipv4Addr::new(b[12], b[13], b[14], b[15]);
            let payload = &b[ihl..total];
            let vrid = payload[1];
            let Some(&id) = self.vrrp_ids.get(&(ifname.to_string(), vrid)) else {
                continue;
            };
            let decoded = Advert::decode(payload, src);
            let Some(e) = self.vrrp.get_mut(&id) else {
                continue;
            };
            if dst != VRRP_GROUP {
                continue;
            }
            // RFC 9568 §7.1: TTL must be 255.
            if ttl != vpkt::VRRP_TTL {
                e.ttl_errors += 1;
                continue;
            }
            let adv = match decoded {
                Ok((adv, mode)) if e.core.config().checksum_acceptable(mode) => adv,
                Ok(_) => {
                    e.checksum_errors += 1;
                    continue;
                }
                Err(vpkt::AdvertError::Checksum) => {
                    e.checksum_errors += 1;
                    continue;
                }
                Err(err) => {
                    *self.vrrp_malformed.entry(ifname.to_string()).or_default() += 1;
                    debug!(interface = %ifname, source = %src, error = %err, "malformed VRRP advertisement dropped");
                    continue;
                }
            };
            if adv.version != e.cfg.version {
                continue;
            }
            if src != e.core.local_ip() {
                e.heard = Some((now, adv.priority));
            }
            let actions = e.core.receive(&adv, src, now);
            self.vrrp_actions(id, actions, now);
            self.arm(Timer::Vrrp(id));
        }
    }

    fn read_arp(&mut self, ifname: &str) {
        for _ in 0..256 {
            let Some(io) = self.vrrp_io.get(ifname) else {
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
            let owner = self.vrrp.values().find(|e| {
                e.ifname == ifname
                    && e.core.state() == VrrpState::Master
                    && e.cfg.virtual_ips.contains(&target)
            });
            if let Some(e) = owner {
                let frame = vpkt::arp_reply(vpkt::virtual_mac(e.vrid), target, mac, ip);
                if let Err(err) = io.tx.send(&frame) {
                    debug!(error = %err, "cannot send ARP reply");
                }
            }
        }
    }

    fn vrrp_actions(&mut self, id: u32, actions: Vec<VrrpAction>, _now: Instant) {
        // Becoming master: open the multicast gate before the advert goes out, so the old
        // master (which closes when it hears us) never stops before we forward.
        if actions.iter().any(|a| {
            matches!(
                a,
                VrrpAction::StateChange {
                    new: VrrpState::Master,
                    ..
                }
            )
        }) {
            if let Some(e) = self.vrrp.get(&id) {
                let (gi, gv) = (e.ifname.clone(), e.vrid);
                let handover = self.handover(e, Instant::now());
                self.mc.set_gate(&gi, gv, true, handover, Instant::now());
            }
        }
        for a in actions {
            let Some(e) = self.vrrp.get_mut(&id) else {
                return;
            };
            let io = self.vrrp_io.get(&e.ifname);
            match a {
                VrrpAction::SendAdvert { priority } => {
                    let Some(io) = io else { continue };
                    let local = e.core.local_ip();
                    let adv = e.core.advert(priority);
                    let mode = if e.cfg.exclude_pseudo_header {
                        ChecksumMode::ExcludePseudoHeader
                    } else {
                        ChecksumMode::IncludePseudoHeader
                    };
                    let payload = adv.encode(local, mode);
                    let frame = dataplane::wire::ipv4_frame(
                        vpkt::virtual_mac(e.vrid),
                        VRRP_GROUP_MAC,
                        local,
                        VRRP_GROUP,
                        vpkt::VRRP_TTL,
                        VRRP_PROTO,
                        &[],
                        &payload,
                    );
                    if let Err(err) = io.tx.send(&frame) {
                        debug!(interface = %e.ifname, error = %err, "cannot send VRRP advert");
                    }
                }
                VrrpAction::SendGarp => {
                    let Some(io) = io else { continue };
                    for vip in &e.cfg.virtual_ips {
                        let _ = io.tx.send(&vpkt::garp(vpkt::virtual_mac(e.vrid), *vip));
                    }
                }
                VrrpAction::StateChange { old, new, reason } => {
                    e.last_change_ms = now_ms();
                    let (gi, gv) = (e.ifname.clone(), e.vrid);
                    self.mc
                        .set_gate(&gi, gv, new == VrrpState::Master, false, Instant::now());
                    let Some(e) = self.vrrp.get_mut(&id) else {
                        return;
                    };
                    info!(interface = %e.ifname, vrid = e.vrid, old = old.name(), new = new.name(), reason = reason.name(), "VRRP state change");
                    let _ = self.events.send(format!(
                        "<state-change xmlns=\"urn:ne-agent:yang:ne-vrrp\"><interface>{}</interface>\
                         <vrid>{}</vrid><old-state>{}</old-state><new-state>{}</new-state>\
                         <reason>{}</reason></state-change>",
                        e.ifname,
                        e.vrid,
                        old.name(),
                        new.name(),
                        reason.name()
                    ));
                }
            }
        }
    }

    /// Tell a group whether its interface can pass packets.
    fn link_to_vrrp(&mut self, id: u32, now: Instant) {
        let Some(e) = self.vrrp.get(&id) else { return };
        let up = self.links.get(&e.ifname).is_some_and(|l| l.oper_up)
            && self.vrrp_io.contains_key(&e.ifname);
        let ignore = e.cfg.admin.unwrap_or(false);
        let local = self.local_ip(&e.ifname);
        let e = self.vrrp.get_mut(&id).expect("checked");
        e.core.set_local_ip(local);
        let actions = e.core.set_link(up, ignore, now);
        self.vrrp_actions(id, actions, now);
        self.arm(Timer::Vrrp(id));
    }

    // ---- interfaces, monitor groups, tracking --------------------------------------------------

    fn read_netlink(&mut self) {
        let Some(nl) = self.nl.as_mut() else { return };
        // The kernel drops routes through a link that went down or an address that went away
        // without a notification for each: the routing table is read again after such events,
        // and after lost events.
        let mut topology_changed = false;
        let events = match nl.read() {
            Ok(ev) => ev,
            Err(e) => {
                warn!(error = %e, "rtnetlink events lost; re-reading interfaces and routes");
                self.resync_links();
                topology_changed = true;
                Vec::new()
            }
        };
        let now = Instant::now();
        let mut appeared = Vec::new();
        let mut link_changed = false;
        for ev in events {
            match ev {
                netlink::Event::Link(l) => {
                    let name = l.name.clone();
                    let prev = self.links.insert(name.clone(), l.clone());
                    match prev {
                        None => appeared.push(name),
                        _ if l.oper_up && self.settling.remove(&name).is_some() => {
                            debug!(interface = %name, "link up after the agent set it up");
                            link_changed = true;
                        }
                        Some(p) if p.oper_up != l.oper_up || p.admin_up != l.admin_up => {
                            debug!(interface = %name, up = l.oper_up, "link state");
                            link_changed = true;
                        }
                        _ => {}
                    }
                }
                netlink::Event::LinkRemoved { name, .. } => {
                    self.links.remove(&name);
                    self.vrrp_io.remove(&name);
                    for e in self.bfd.values_mut() {
                        if e.cfg.interface.as_deref() == Some(name.as_str()) {
                            e.tx = None;
                        }
                    }
                    link_changed = true;
                }
                netlink::Event::AddrAdded(a) => {
                    if !self.addrs.contains(&a) {
                        self.addrs.push(a);
                        topology_changed = true;
                    }
                }
                netlink::Event::AddrRemoved(a) => {
                    topology_changed |= self.addrs.contains(&a);
                    self.addrs.retain(|x| *x != a);
                }
                netlink::Event::Route {
                    route,
                    removed,
                    replace,
                } => self.mc.route_event(route, removed, replace),
                netlink::Event::NexthopChanged => topology_changed = true,
                netlink::Event::Neighbour(n) => self.neighbour_changed(n),
            }
        }
        if topology_changed || link_changed || !appeared.is_empty() {
            self.mc.routes_changed();
        }
        for name in &appeared {
            self.interface_appeared(name);
        }
        self.mc.sync_links(&self.links, &self.addrs, now);
        if link_changed || !appeared.is_empty() {
            self.remonitor(None, now);
            let ids: Vec<u32> = self.vrrp.keys().copied().collect();
            for id in ids {
                self.link_to_vrrp(id, now);
            }
            self.retrack(now);
        }
    }

    /// A configured netdev came into existence: configure it and start what is bound to it.
    fn interface_appeared(&mut self, name: &str) {
        if self.cfg.interfaces.contains_key(name) {
            info!(interface = %name, "configured interface appeared");
            self.apply_interface(name, None);
        }
        for e in self.bfd.values_mut() {
            if e.tx.is_none() && e.cfg.interface.as_deref() == Some(name) {
                match open_bfd_tx(&e.cfg) {
                    Ok(s) => e.tx = Some(s),
                    Err(err) => error!(session = %e.name, error = %err, "BFD session cannot start"),
                }
            }
        }
        let has_vrrp = self.cfg.vrrp.keys().any(|(i, _)| i == name);
        if has_vrrp && !self.vrrp_io.contains_key(name) {
            if let Some(l) = self.links.get(name) {
                match open_vrrp_io(name, l.index) {
                    Ok(io) => {
                        self.vrrp_io.insert(name.to_string(), io);
                    }
                    Err(err) => error!(interface = %name, error = %err, "VRRP cannot start"),
                }
            }
        }
    }

    /// Evaluate the monitor groups: `only` the named ones (a commit that changed them; a group
    /// no longer configured is forgotten), or all of them (link events, a full reload).
    fn remonitor(&mut self, only: Option<&[String]>, now: Instant) {
        let cfg = Arc::clone(&self.cfg);
        self.settling.retain(|_, until| *until > now);
        match only {
            None => {
                self.monitors
                    .retain(|n, _| cfg.monitor_groups.contains_key(n));
                for (name, g) in &cfg.monitor_groups {
                    self.evaluate_group(name, g);
                }
            }
            Some(names) => {
                for name in names {
                    match cfg.monitor_groups.get(name) {
                        Some(g) => self.evaluate_group(name, g),
                        None => {
                            self.monitors.remove(name);
                        }
                    }
                }
            }
        }
    }

    fn evaluate_group(&mut self, name: &str, g: &config::MonitorGroup) {
        let bindings: Vec<(u16, monitor::Binding)> = g
            .bindings
            .iter()
            .map(|(i, w)| {
                let b = if self.links.get(i).is_some_and(|l| l.oper_up) {
                    monitor::Binding::Up
                } else if self.settling.contains_key(i) {
                    monitor::Binding::Settling
                } else {
                    monitor::Binding::Down
                };
                (*w, b)
            })
            .collect();
        let Some(ratio) = monitor::settled_failure_ratio(g.enabled, &bindings) else {
            debug!(group = %name, "monitor group waits for its interfaces to come up");
            return;
        };
        let down = bindings
            .iter()
            .filter(|(_, b)| *b != monitor::Binding::Up)
            .count() as u16;
        let prev = self.monitors.get(name).copied();
        if prev.is_none_or(|p| p.ratio != ratio || p.down != down) {
            self.monitors.insert(
                name.to_string(),
                MonitorState {
                    ratio,
                    down,
                    last_change_ms: now_ms(),
                },
            );
            if prev.is_some_and(|p| p.ratio != ratio) || (prev.is_none() && ratio > 0) {
                info!(group = %name, ratio, "monitor group status");
                let _ = self.events.send(format!(
                    "<status-change xmlns=\"urn:ne-agent:yang:ne-monitor-group\"><name>{}</name>\
                     <failure-ratio>{ratio}</failure-ratio></status-change>",
                    yang::xml::escape_text(name)
                ));
            }
        }
    }

    /// Becoming master of `e` now: is the old master alive and forwarding until it hears us?
    /// It advertised recently with a non-zero priority, and no tracked BFD session says it is
    /// gone.
    fn handover(&self, e: &VrrpEntry, now: Instant) -> bool {
        let interval = Duration::from_millis(10 * u64::from(e.core.master_adver_interval_cs()));
        let recent = e.heard.is_some_and(|(at, prio)| {
            prio > 0 && now.saturating_duration_since(at) <= 3 * interval
        });
        let bfd_failed = e.cfg.track_bfd.iter().any(|t| {
            e.seen_up.contains(&t.session)
                && self
                    .bfd_ids
                    .get(&t.session)
                    .and_then(|sid| self.bfd.get(sid))
                    .is_some_and(|s| s.core.client_state() == ClientState::Down)
        });
        recent && !bfd_failed
    }

    /// Recompute the effective priority of every tracking group.
    fn retrack(&mut self, now: Instant) {
        let ids: Vec<u32> = self.vrrp.keys().copied().collect();
        for id in ids {
            let e = &self.vrrp[&id];
            let mut seen = e.seen_up.clone();
            let mut bfd_in = Vec::new();
            for t in &e.cfg.track_bfd {
                let client = self
                    .bfd_ids
                    .get(&t.session)
                    .and_then(|sid| self.bfd.get(sid))
                    .map(|s| s.core.client_state());
                if client == Some(ClientState::Up) {
                    seen.insert(t.session.clone());
                }
                bfd_in.push(track::BfdInput {
                    mode: t.mode,
                    change: t.change,
                    failed: seen.contains(&t.session) && client == Some(ClientState::Down),
                });
            }
            let mon_in: Vec<track::MonitorInput> = e
                .cfg
                .track_monitor
                .iter()
                .map(|t| track::MonitorInput {
                    mode: t.mode,
                    change: t.change,
                    threshold: t.failure_ratio,
                    ratio: self.monitors.get(&t.group).map_or(0, |m| m.ratio),
                })
                .collect();
            let p = track::effective_priority(e.cfg.priority, &bfd_in, &mon_in);
            let e = self.vrrp.get_mut(&id).expect("listed");
            e.seen_up = seen;
            // A failed tracked session means the master is gone: nobody is forwarding, so the
            // start-up hold on preemption no longer protects anything.
            if e.hold_until.is_some() && bfd_in.iter().any(|b| b.failed) {
                e.hold_until = None;
                let c = vrrp_group_config(e.vrid, &e.cfg);
                let actions = e.core.reconfigure(c, now);
                info!(interface = %e.ifname, vrid = e.vrid, "tracked BFD failed: start-up preemption hold lifted");
                self.vrrp_actions(id, actions, now);
                self.arm(Timer::Vrrp(id));
            }
            let Some(e) = self.vrrp.get_mut(&id) else {
                continue;
            };
            if p != e.core.current_priority() {
                info!(interface = %e.ifname, vrid = e.vrid, priority = p, "tracking changed the priority");
                let actions = e.core.set_priority(p, now);
                self.vrrp_actions(id, actions, now);
                self.arm(Timer::Vrrp(id));
            }
        }
    }

    fn shutdown(&mut self) {
        let now = Instant::now();
        let ids: Vec<u32> = self.vrrp.keys().copied().collect();
        for id in ids {
            let actions = self
                .vrrp
                .get_mut(&id)
                .map(|e| e.core.shutdown(now))
                .unwrap_or_default();
            self.vrrp_actions(id, actions, now);
        }
        let names: Vec<String> = self.bfd_ids.keys().cloned().collect();
        for n in names {
            self.remove_bfd(&n);
        }
        // Last: stopping the forwarder takes a moment, and BFD must not time out first.
        self.mc.stop();
    }

    // ---- state --------------------------------------------------------------------------------

    fn state_xml(&mut self, stats: &HashMap<u32, LinkStats>) -> String {
        use std::fmt::Write as _;
        let esc = yang::xml::escape_text;
        let mut x = String::new();
        // Every interface of the device, configured or not, and the configured ones that are
        // not present.
        let names: std::collections::BTreeSet<String> = self
            .cfg
            .interfaces
            .keys()
            .chain(self.links.keys())
            .cloned()
            .collect();
        if !names.is_empty() {
            x.push_str("<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\">");
        }
        for name in &names {
            let _ = write!(x, "<interface><name>{}</name>", esc(name));
            match self.links.get(name) {
                Some(l) => {
                    let _ = write!(
                        x,
                        "<oper-status>{}</oper-status><if-index>{}</if-index>",
                        if l.oper_up { "up" } else { "down" },
                        l.index
                    );
                    if let Some(m) = l.mac {
                        let _ = write!(
                            x,
                            "<phys-address>{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}</phys-address>",
                            m[0], m[1], m[2], m[3], m[4], m[5]
                        );
                    }
                    let s = stats.get(&l.index).copied().unwrap_or(l.stats);
                    let _ = write!(
                        x,
                        "<statistics><in-packets>{}</in-packets><out-packets>{}</out-packets>\
                         <in-octets>{}</in-octets><out-octets>{}</out-octets>\
                         <in-discards>{}</in-discards></statistics>",
                        s.rx_packets, s.tx_packets, s.rx_bytes, s.tx_bytes, s.rx_dropped
                    );
                }
                None => x.push_str("<oper-status>not-present</oper-status>"),
            }
            self.mc.interface_state(name, &mut x, Instant::now());
            let groups: Vec<&VrrpEntry> = self
                .vrrp_ids
                .range((name.clone(), 0)..=(name.clone(), 255))
                .filter_map(|(_, id)| self.vrrp.get(id))
                .collect();
            let malformed = self.vrrp_malformed.get(name.as_str()).copied().unwrap_or(0);
            if !groups.is_empty() || malformed > 0 {
                let _ = write!(
                    x,
                    "<vrrp xmlns=\"urn:ne-agent:yang:ne-vrrp\"><statistics><rx-malformed>{malformed}</rx-malformed></statistics>"
                );
                for e in groups {
                    self.vrrp_state(e, &mut x);
                }
                x.push_str("</vrrp>");
            }
            x.push_str("</interface>");
        }
        if !names.is_empty() {
            x.push_str("</interfaces>");
        }
        if !self.monitors.is_empty() {
            x.push_str("<monitor-groups xmlns=\"urn:ne-agent:yang:ne-monitor-group\">");
        }
        for (name, m) in &self.monitors {
            let enabled = self.cfg.monitor_groups.get(name).is_some_and(|g| g.enabled);
            let _ = write!(
                x,
                "<monitor-group><name>{}</name><failure-ratio>{}</failure-ratio>\
                 <monitoring>{}</monitoring>\
                 <down-interfaces>{}</down-interfaces><last-change>{}</last-change></monitor-group>",
                esc(name),
                m.ratio,
                if enabled { "enabled" } else { "disabled" },
                m.down,
                rfc3339(m.last_change_ms)
            );
        }
        if !self.monitors.is_empty() {
            x.push_str("</monitor-groups>");
        }
        let bfd_any = !self.bfd_ids.is_empty() || self.bfd_malformed > 0;
        if bfd_any {
            let _ = write!(
                x,
                "<bfd xmlns=\"urn:ne-agent:yang:ne-bfd\"><statistics><rx-malformed>{}</rx-malformed></statistics>",
                self.bfd_malformed
            );
        }
        for id in self.bfd_ids.values() {
            let Some(e) = self.bfd.get(id) else { continue };
            let c = e.core.counters();
            let _ = write!(
                x,
                "<session><name>{}</name><state>{}</state><remote-state>{}</remote-state>\
                 <local-diagnostic>{}</local-diagnostic><actual-tx-interval>{}</actual-tx-interval>\
                 <actual-tx-interval-ms>{}</actual-tx-interval-ms>\
                 <detection-time>{}</detection-time><detection-time-ms>{}</detection-time-ms>\
                 {}<up-transitions>{}</up-transitions>\
                 <last-state-change>{}</last-state-change><statistics><tx-packets>{}</tx-packets>\
                 <tx-errors>{}</tx-errors><rx-packets>{}</rx-packets><rx-discarded>{}</rx-discarded>\
                 </statistics></session>",
                esc(&e.name),
                e.core.state().name(),
                e.core.remote_state().name(),
                e.core.local_diag().name(),
                e.core.actual_tx_interval_us(),
                us_as_ms(e.core.actual_tx_interval_us()),
                e.core.detection_time_us(),
                us_as_ms(e.core.detection_time_us()),
                e.last_tx_error.as_ref().map_or(String::new(), |r| format!(
                    "<last-tx-error>{}</last-tx-error>",
                    esc(r)
                )),
                c.up_transitions,
                rfc3339(e.last_change_ms),
                c.tx_packets.saturating_sub(e.tx_errors + e.unconfirmed),
                e.tx_errors,
                c.rx_packets,
                c.rx_discarded + e.io_discards
            );
        }
        if bfd_any {
            x.push_str("</bfd>");
        }
        if self.mc.has_state() {
            x.push_str("<multicast xmlns=\"urn:ne-agent:yang:ne-multicast\">");
            self.mc.forwarding_state(&mut x);
            self.mc.routes_state(&mut x);
            x.push_str("</multicast>");
        }
        x
    }

    fn vrrp_state(&self, e: &VrrpEntry, x: &mut String) {
        use std::fmt::Write as _;
        let c = e.core.counters();
        let _ = write!(
            x,
            "<group><vrid>{}</vrid><state>{}</state><current-priority>{}</current-priority>",
            e.vrid,
            e.core.state().name(),
            e.core.current_priority()
        );
        if let Some(ip) = e.core.master_ip() {
            let _ = write!(x, "<master-ip>{ip}</master-ip>");
        }
        if let Some(p) = e.core.master_priority() {
            let _ = write!(x, "<master-priority>{p}</master-priority>");
        }
        let m = vpkt::virtual_mac(e.vrid);
        let _ = write!(
            x,
            "<virtual-mac>{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}</virtual-mac>\
             <master-down-interval>{}</master-down-interval><last-change>{}</last-change>\
             <new-master-reason>{}</new-master-reason>",
            m[0],
            m[1],
            m[2],
            m[3],
            m[4],
            m[5],
            e.core.master_down_interval().as_millis(),
            rfc3339(e.last_change_ms),
            e.core.last_reason().name()
        );
        if !e.cfg.track_bfd.is_empty() || !e.cfg.track_monitor.is_empty() {
            x.push_str("<track>");
            for t in &e.cfg.track_monitor {
                let enabled = self
                    .cfg
                    .monitor_groups
                    .get(&t.group)
                    .is_some_and(|g| g.enabled);
                let ratio = self.monitors.get(&t.group).map_or(0, |m| m.ratio);
                let state = if !enabled {
                    "disabled"
                } else if ratio >= t.failure_ratio {
                    "failed"
                } else {
                    "normal"
                };
                let _ = write!(
                    x,
                    "<monitor-group><name>{}</name><group-state>{state}</group-state></monitor-group>",
                    yang::xml::escape_text(&t.group),
                );
            }
            for t in &e.cfg.track_bfd {
                let st = self
                    .bfd_ids
                    .get(&t.session)
                    .and_then(|id| self.bfd.get(id))
                    .map_or(BfdState::Down, |s| s.core.state());
                let _ = write!(
                    x,
                    "<bfd-session><session>{}</session><session-state>{}</session-state></bfd-session>",
                    yang::xml::escape_text(&t.session),
                    st.name()
                );
            }
            x.push_str("</track>");
        }
        let _ = write!(
            x,
            "<statistics><master-transitions>{}</master-transitions><adverts-sent>{}</adverts-sent>\
             <adverts-received>{}</adverts-received><priority-zero-sent>{}</priority-zero-sent>\
             <priority-zero-received>{}</priority-zero-received><checksum-errors>{}</checksum-errors>\
             <ttl-errors>{}</ttl-errors><interval-errors>{}</interval-errors></statistics></group>",
            c.master_transitions,
            c.adverts_sent,
            c.adverts_received,
            c.priority_zero_sent,
            c.priority_zero_received,
            e.checksum_errors,
            e.ttl_errors,
            c.interval_errors
        );
    }
}

/// Send one control packet. `resolved`: the peer's link-layer address is known, so a packet
/// the kernel takes leaves at once; otherwise it waits for resolution (counted unconfirmed).
fn send_bfd(e: &mut BfdEntry, p: &ControlPacket, resolved: bool) {
    let Some(tx) = e.tx.as_ref() else {
        e.tx_errors += 1;
        e.last_tx_error = Some(match &e.cfg.interface {
            Some(i) => format!("no socket: interface {i} is not present"),
            None => "no socket for multi-hop packets".to_string(),
        });
        return;
    };
    let port = if e.cfg.interface.is_some() {
        BFD_SINGLE_HOP_PORT
    } else {
        BFD_MULTI_HOP_PORT
    };
    match tx.send_to(&p.encode(), SocketAddrV4::new(e.cfg.peer, port)) {
        Ok(_) if !resolved => e.unconfirmed += 1,
        Ok(_) => {}
        Err(err) => {
            e.tx_errors += 1;
            e.last_tx_error = Some(format!("the kernel refused the packet: {err}"));
            if e.tx_errors.is_power_of_two() {
                debug!(session = %e.name, error = %err, errors = e.tx_errors, "BFD send failed");
            }
        }
    }
}
