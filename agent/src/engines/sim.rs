//! A deterministic two-device simulation of the seed scenario, in the style of quinn-proto's
//! `Pair`: devices A and B run the production engines, configured from the shipped
//! `examples/seed/device-{a,b}.xml`: [`HotBackup`] (BFD sessions, VRRP groups, monitor groups
//! and the hot-backup policy) and [`Multicast`] (the multicast interfaces with their IGMP and
//! PIM cores, the mVRRP gates, the sources and the forwarding table it computes), joined by
//! simulated links on simulated time. Both engines are sans I/O: the simulation carries out
//! their effects (packets and control frames onto the simulated links, gates into the
//! multicast engine) as the protocol thread does against sockets. No sockets, no root, no
//! clock: a scenario of a minute runs in milliseconds.
//!
//! Topology (as LAB.md): the source sends one frame of (S, G) per millisecond onto the uplink
//! switch, heard by both devices' uplinks; the mVRRP group and BFD run on the interconnect;
//! the receiver sits on the downstream LAN with both devices. Every link has a one-way delay
//! of [`DELAY`]. A frame of a flow the engine has no route for is an upcall (as the
//! forwarder's), which makes the route; a device forwards a frame onto the LAN when it is
//! alive, its uplink and LAN port are up, and the route its engine published has the LAN
//! interface as an outgoing interface that forwards at the frame's arrival time (IGMP
//! listener, gate open).
//!
//! What every scenario checks ([`Pair::check_one_forwarder`]): at every frame at most one
//! device forwards it, except in the make-before-break overlap of a handover (the new master
//! opens its gate before its advert reaches the old master, which closes on hearing it).

#![cfg(test)]

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dataplane::netlink::{Addr, Link};

use super::bfd::sessions::{Rx, Sent};
use super::config::{Config, Delta, Touched};
use super::hot_backup::{Effect, HotBackup, Links};
use super::igmp::packet::{self as igmp_packet, Message};
use super::mcast::interfaces::IGMP_PROTO;
use super::mcast::{self, Multicast};
use super::pim::bsr::{BsrConfig, BsrState, CandidateBsr, CandidateRp, C_RP_HOLDTIME};
use super::pim::iface as pim;
use super::pim::rp_set::hash_value;
use super::vrrp::group::State as VrrpState;
use super::vrrp::packet as vpkt;

/// One-way delay of every simulated link.
const DELAY: Duration = Duration::from_micros(200);
/// The source's frame interval.
const FRAME: Duration = Duration::from_millis(1);
const S: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 10);
const G1: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 1);
const G2: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 2);
const RECEIVER: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 100);
/// How long the receiver waits before answering a query (well inside the max response time).
const REPORT_DELAY: Duration = Duration::from_millis(500);

fn schema() -> &'static yang::Schema {
    static SCHEMA: std::sync::OnceLock<yang::Schema> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        yang::SchemaBuilder::new()
            .embedded()
            .build()
            .expect("embedded models compile")
    })
}

/// The shipped seed configuration of device `d`, as the agent reads it.
fn seed(d: char) -> Config {
    let text = match d {
        'a' => include_str!("../../../examples/seed/device-a.xml"),
        _ => include_str!("../../../examples/seed/device-b.xml"),
    };
    let root = yang::xml::parse(text).expect("well-formed");
    let mut tree = yang::data::decode_elements(
        schema(),
        &root.children,
        yang::data::DecodeOptions { config_only: true },
    )
    .expect("valid");
    yang::data::add_defaults(schema(), &mut tree);
    Config::from_tree(schema(), &tree)
}

/// The ports of one device: oper state and address; ifindex by position.
struct Ports {
    cfg: Config,
    up: BTreeMap<String, bool>,
    /// 'a' or 'b', for the MAC addresses.
    d: char,
}

impl Ports {
    /// The ports as rtnetlink would report them.
    fn links(&self) -> BTreeMap<String, Link> {
        self.up
            .iter()
            .enumerate()
            .map(|(i, (name, up))| {
                let link = Link {
                    index: i as u32 + 1,
                    name: name.clone(),
                    admin_up: true,
                    oper_up: *up,
                    mac: Some([0x02, 0, 0, 0, self.d as u8, i as u8 + 1]),
                    stats: Default::default(),
                };
                (name.clone(), link)
            })
            .collect()
    }

    /// The configured addresses, as rtnetlink would report them.
    fn addrs(&self) -> Vec<Addr> {
        self.up
            .keys()
            .filter_map(|name| {
                let index = self.ifindex(name)?;
                let i = self.cfg.interfaces.get(name)?;
                Some(i.addrs.iter().map(move |&(ip, prefix_len)| Addr {
                    index,
                    ip,
                    prefix_len,
                }))
            })
            .flatten()
            .collect()
    }
}

impl Links for Ports {
    fn ifindex(&self, ifname: &str) -> Option<u32> {
        self.up
            .keys()
            .position(|n| n == ifname)
            .map(|i| i as u32 + 1)
    }

    fn oper_up(&self, ifname: &str) -> bool {
        self.up.get(ifname).copied().unwrap_or(false)
    }

    fn vrrp_ready(&self, ifname: &str) -> bool {
        self.up.contains_key(ifname)
    }

    fn local_ip(&self, ifname: &str) -> Ipv4Addr {
        self.cfg
            .interfaces
            .get(ifname)
            .and_then(|i| i.addrs.first())
            .map_or(Ipv4Addr::UNSPECIFIED, |a| a.0)
    }
}

/// One simulated device: the production engines and its ports.
struct Device {
    /// 'a' or 'b'; its interfaces are `{d}-up`, `{d}-ic`, `{d}-dn`.
    d: char,
    alive: bool,
    ports: Ports,
    hb: HotBackup,
    /// IGMP and PIM (the seed: `ignore-dr-state`, so the mVRRP master forwards whether or not
    /// it is the DR) on the LAN, the gate and the forwarding table.
    mc: Multicast,
}

impl Device {
    fn name(&self, port: &str) -> String {
        format!("{}-{port}", self.d)
    }

    /// A device starting at `now` with its seed configuration, and `bsr` (candidate BSR and
    /// RP) added to it.
    fn start(d: char, seed_no: u64, bsr: &BsrConfig, now: Instant) -> Device {
        let mut cfg = seed(d);
        cfg.multicast.bsr = bsr.clone();
        let up = ["up", "ic", "dn"]
            .iter()
            .map(|p| (format!("{d}-{p}"), true))
            .collect();
        let mut dev = Device {
            d,
            alive: true,
            ports: Ports { cfg, up, d },
            hb: HotBackup::new(seed_no),
            mc: Multicast::new(seed_no),
        };
        let cfg = dev.ports.cfg.clone();
        let touched = Touched::of(&Config::default(), &Delta::full(cfg.clone()));
        dev.hb.apply_bfd(&cfg, &touched.bfd, now);
        // Multicast before VRRP, as the protocol thread does: a new mVRRP group asks it
        // whether IGMP is warm.
        dev.mc
            .apply(&cfg.multicast, &dev.ports.links(), &dev.ports.addrs(), now);
        let mc = &dev.mc;
        let wait = |i: &str, v: u8| mc.gate_ready(i, v, now);
        dev.hb
            .apply_vrrp(&cfg, &touched.interfaces, &dev.ports, &wait, now);
        dev.hb.remonitor(&cfg, None, &dev.ports, now);
        dev.hb.retrack(now);
        dev.hb.sync_gates();
        dev
    }

    /// The mVRRP group's state.
    fn vrrp(&self) -> VrrpState {
        let (_, e) = self.hb.vrrp.iter().next().expect("one group");
        e.core.state()
    }

    fn priority(&self) -> u8 {
        let (_, e) = self.hb.vrrp.iter().next().expect("one group");
        e.core.current_priority()
    }

    /// PIM on the LAN.
    fn pim(&self) -> &pim::Interface {
        self.mc
            .ifs
            .get(&self.name("dn"))
            .and_then(|e| e.pim.as_ref())
            .expect("PIM on the LAN")
    }

    fn next_deadline(&self) -> Option<Instant> {
        if !self.alive {
            return None;
        }
        [self.hb.next_deadline(), self.mc.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Does this device forward a frame of (S, `g`) that reaches its uplink at `at` (`at_ns`)?
    /// By the route its multicast engine published.
    fn forwards(&self, g: Ipv4Addr, at_ns: u64) -> bool {
        let (up, dn) = (self.name("up"), self.name("dn"));
        if !self.alive || !self.ports.oper_up(&up) || !self.ports.oper_up(&dn) {
            return false;
        }
        let (Some(iif), Some(oif)) = (self.ports.ifindex(&up), self.ports.ifindex(&dn)) else {
            return false;
        };
        let table = self.mc.table();
        table.get(S, g).is_some_and(|r| {
            r.iif == iif
                && r.oifs
                    .iter()
                    .any(|o| o.ifindex == oif && o.forwards_at(at_ns))
        })
    }

    /// RP(G) as the multicast engine maps it (the BSR's RP set, else the static RP).
    fn rp_of(&self, g: Ipv4Addr) -> Option<Ipv4Addr> {
        self.mc.rp_of(g)
    }

    /// The BSR this device takes as elected, and whether it is that BSR itself.
    fn bsr(&self) -> (Option<Ipv4Addr>, BsrState) {
        let b = self.mc.bsr().expect("BSR configured");
        (b.elected_bsr().map(|(a, _)| a), b.state())
    }

    /// Which of this device's ports has the local address `ip`.
    fn port_of(&self, ip: Ipv4Addr) -> Option<String> {
        self.ports
            .up
            .keys()
            .find(|p| {
                self.ports
                    .cfg
                    .interfaces
                    .get(*p)
                    .is_some_and(|i| i.addrs.iter().any(|a| a.0 == ip))
            })
            .cloned()
    }

    /// Has the engine a route for (S, `g`)? (Without one, a frame is an upcall.)
    fn routed(&self, g: Ipv4Addr) -> bool {
        self.mc.table().get(S, g).is_some()
    }
}

/// Something in flight on a simulated link, or a scheduled host action.
#[derive(Debug, Clone)]
enum Ev {
    /// A BFD Control packet for device `to` on its interconnect, from `src`.
    Bfd {
        to: usize,
        src: Ipv4Addr,
        bytes: Vec<u8>,
    },
    /// A VRRP packet (IPv4, header included) for device `to` on its interconnect.
    Vrrp { to: usize, packet: Vec<u8> },
    /// An IGMP message from the receiver on the LAN, for device `to`.
    Igmp {
        to: usize,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        msg: Message,
    },
    /// A control frame (IGMP or PIM) a device sent on the LAN, for device `to` (2: the
    /// receiver).
    Control { to: usize, frame: Vec<u8> },
    /// The receiver reports its groups (a query's answer).
    Report,
    /// A PIM message unicast to device `to` (read by its raw PIM socket), arriving on `port`.
    Unicast {
        to: usize,
        port: String,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        pim: Vec<u8>,
    },
}

/// A handover opening seen: (device, when).
type Opening = (usize, Instant);

/// The two devices, the links between them, the receiver and the source.
struct Pair {
    t0: Instant,
    now: Instant,
    dev: [Device; 2],
    queue: BTreeMap<(Instant, u64), Ev>,
    seq: u64,
    /// Drop BFD packets on the interconnect until this time (a flap).
    bfd_loss_until: Option<Instant>,
    /// The receiver's groups.
    joined: Vec<Ipv4Addr>,
    /// Frames of each group sent so far, and the next frame's time.
    next_frame: Instant,
    frames: u64,
    /// Per group: the frames the receiver got (frame number, copies).
    got: BTreeMap<Ipv4Addr, BTreeMap<u64, u32>>,
    /// Per frame forwarded by both: when it was.
    doubles: Vec<Instant>,
    openings: Vec<Opening>,
    /// Each device's candidate BSR and RP configuration (kept over a restart).
    bsr: [BsrConfig; 2],
}

/// What the receiver saw of one group over a window.
#[derive(Debug)]
struct Seen {
    /// Frames sent in the window.
    sent: u64,
    received: u64,
    duplicates: u64,
    /// The longest run of consecutive frames missed, in frames (= ms).
    gap: u64,
}

impl Pair {
    /// Both devices started at the same moment; the receiver joins G1 at once.
    fn new() -> Pair {
        Pair::with_bsr([BsrConfig::default(), BsrConfig::default()])
    }

    /// [`Pair::new`] with candidate BSR and RP configuration on each device.
    fn with_bsr(bsr: [BsrConfig; 2]) -> Pair {
        let t0 = Instant::now();
        let mut p = Pair {
            t0,
            now: t0,
            dev: [
                Device::start('a', 1, &bsr[0], t0),
                Device::start('b', 2, &bsr[1], t0),
            ],
            queue: BTreeMap::new(),
            seq: 0,
            bfd_loss_until: None,
            joined: Vec::new(),
            next_frame: t0,
            frames: 0,
            got: BTreeMap::new(),
            doubles: Vec::new(),
            openings: Vec::new(),
            bsr,
        };
        p.flush(0);
        p.flush(1);
        p.join(G1);
        p
    }

    fn ns(&self, at: Instant) -> u64 {
        // A realtime clock far from 0, so that "since 0" means "every frame".
        1_000_000_000_000 + at.duration_since(self.t0).as_nanos() as u64
    }

    fn send(&mut self, delay: Duration, ev: Ev) {
        self.seq += 1;
        self.queue.insert((self.now + delay, self.seq), ev);
    }

    /// The receiver joins `g` (an unsolicited IGMPv2 report).
    fn join(&mut self, g: Ipv4Addr) {
        self.joined.push(g);
        self.got.entry(g).or_default();
        self.report(g);
    }

    /// The receiver's IGMPv2 report for `g`, heard by both devices.
    fn report(&mut self, g: Ipv4Addr) {
        for to in 0..2 {
            let msg = Message::V2Report { group: g };
            let (src, dst) = (RECEIVER, g);
            self.send(DELAY, Ev::Igmp { to, src, dst, msg });
        }
    }

    /// The receiver leaves `g`.
    fn leave(&mut self, g: Ipv4Addr) {
        self.joined.retain(|x| *x != g);
        let all_routers = Ipv4Addr::new(224, 0, 0, 2);
        for to in 0..2 {
            let msg = Message::Leave { group: g };
            self.send(
                DELAY,
                Ev::Igmp {
                    to,
                    src: RECEIVER,
                    dst: all_routers,
                    msg,
                },
            );
        }
    }

    /// Run until `until`, frames and all.
    fn run_until(&mut self, until: Instant) {
        let mut steps = 0u64;
        loop {
            steps += 1;
            assert!(steps < 50_000_000, "simulation does not settle");
            let queued = self.queue.first_key_value().map(|((t, _), _)| *t);
            let timers = self.dev.iter().filter_map(|d| d.next_deadline()).min();
            let next = [queued, timers, Some(self.next_frame)]
                .into_iter()
                .flatten()
                .min()
                .expect("frames never stop");
            if next > until {
                self.now = until;
                return;
            }
            self.now = next;
            if self.next_frame <= next {
                self.frame();
                continue;
            }
            if queued == Some(next) {
                let (_, ev) = self.queue.pop_first().expect("peeked");
                self.deliver(ev);
                continue;
            }
            for i in 0..2 {
                if self.dev[i].next_deadline().is_some_and(|t| t <= next) {
                    self.timers(i);
                }
            }
        }
    }

    fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    /// The source's next frame of each joined group reaches both uplinks.
    fn frame(&mut self) {
        let arrival = self.now + DELAY;
        let at_ns = self.ns(arrival);
        let n = self.frames;
        self.frames += 1;
        self.next_frame += FRAME;
        let groups: Vec<Ipv4Addr> = self.got.keys().copied().collect();
        for g in &groups {
            // A flow without a route reaches the engine as the forwarder's upcall.
            for i in 0..2 {
                let d = &mut self.dev[i];
                let up = d.name("up");
                if d.alive && d.ports.oper_up(&up) && !d.routed(*g) {
                    let iif = d.ports.ifindex(&up).expect("a port");
                    d.mc.upcall(S, *g, iif, self.now);
                    self.flush(i);
                }
            }
        }
        for g in groups {
            let by: Vec<usize> = (0..2).filter(|&i| self.dev[i].forwards(g, at_ns)).collect();
            if by.len() > 1 {
                self.doubles.push(self.now);
            }
            if !by.is_empty() && self.joined.contains(&g) {
                *self.got.get_mut(&g).expect("tracked").entry(n).or_default() += by.len() as u32;
            }
        }
    }

    fn deliver(&mut self, ev: Ev) {
        match ev {
            Ev::Bfd { to, src, bytes } => {
                let d = &mut self.dev[to];
                let ic = d.name("ic");
                if !d.alive || !d.ports.oper_up(&ic) {
                    return;
                }
                let rx = Rx {
                    src,
                    single_hop: true,
                    ttl: Some(255),
                    ifindex: d.ports.ifindex(&ic),
                };
                d.hb.bfd_received(&bytes, rx, &d.ports, self.now);
                self.flush(to);
            }
            Ev::Vrrp { to, packet } => {
                let d = &mut self.dev[to];
                let ic = d.name("ic");
                if !d.alive || !d.ports.oper_up(&ic) {
                    return;
                }
                d.hb.vrrp_received(&ic, &packet, self.now);
                self.flush(to);
            }
            Ev::Control { to: 2, frame } => {
                // The receiver answers a general query, or a query for a group it has.
                let Some(Message::Query(q)) = igmp_in(&frame) else {
                    return;
                };
                if q.group.is_unspecified() || self.joined.contains(&q.group) {
                    self.send(REPORT_DELAY, Ev::Report);
                }
            }
            Ev::Control { to, frame } => self.control(to, &frame),
            Ev::Igmp { to, src, dst, msg } => {
                // As the receiver's host stack sends it: TTL 1, Router Alert (RFC 2113).
                let frame = dataplane::wire::ipv4_frame(
                    RECEIVER_MAC,
                    group_mac(dst),
                    src,
                    dst,
                    1,
                    IGMP_PROTO,
                    &[0x94, 0x04, 0x00, 0x00],
                    &msg.encode(),
                );
                self.control(to, &frame);
            }
            Ev::Report => {
                for g in self.joined.clone() {
                    self.report(g);
                }
            }
            Ev::Unicast {
                to,
                port,
                src,
                dst,
                pim,
            } => {
                let d = &mut self.dev[to];
                if !d.alive || !d.ports.oper_up(&port) {
                    return;
                }
                let ifindex = d.ports.ifindex(&port);
                d.mc.unicast_pim(src, dst, ifindex, None, &pim, self.now);
                self.flush(to);
            }
        }
    }

    fn timers(&mut self, i: usize) {
        let now = self.now;
        let d = &mut self.dev[i];
        if d.hb.next_deadline().is_some_and(|t| t <= now) {
            d.hb.on_timers(now);
        }
        if d.mc.next_deadline().is_some_and(|t| t <= now) {
            d.mc.on_timer(now);
        }
        self.flush(i);
    }

    /// A control frame on device `to`'s LAN port.
    fn control(&mut self, to: usize, frame: &[u8]) {
        let d = &mut self.dev[to];
        let dn = d.name("dn");
        if !d.alive || !d.ports.oper_up(&dn) {
            return;
        }
        d.mc.control_frame(&dn, frame, self.now);
        self.flush(to);
    }

    /// Carry out device `i`'s effects on the simulated links.
    fn flush(&mut self, i: usize) {
        let now = self.now;
        let at_ns = self.ns(now);
        let effects: Vec<Effect> = self.dev[i].hb.effects().collect();
        if !self.dev[i].alive {
            let _ = self.dev[i].mc.effects();
            return;
        }
        let other = 1 - i;
        let ic_up = |p: &Pair| {
            p.dev[i].ports.oper_up(&p.dev[i].name("ic"))
                && p.dev[other].ports.oper_up(&p.dev[other].name("ic"))
        };
        for e in effects {
            match e {
                Effect::Bfd { id, packet } => {
                    let lost = self.bfd_loss_until.is_some_and(|t| now < t);
                    let d = &mut self.dev[i];
                    let src = d.ports.local_ip(&d.name("ic"));
                    d.hb.bfd_sent(id, Sent::Left);
                    if ic_up(self) && !lost {
                        let bytes = packet.encode().to_vec();
                        self.send(
                            DELAY,
                            Ev::Bfd {
                                to: other,
                                src,
                                bytes,
                            },
                        );
                    }
                }
                Effect::BfdRemoved { .. } | Effect::Garp { .. } | Effect::Notify(_) => {}
                Effect::Vrrp {
                    src, payload, vrid, ..
                } => {
                    let frame = vpkt::advert_frame(vrid, src, &payload);
                    if ic_up(self) {
                        let packet = frame[14..].to_vec();
                        self.send(DELAY, Ev::Vrrp { to: other, packet });
                    }
                }
                Effect::Gate {
                    interface,
                    vrid,
                    open,
                    handover,
                } => {
                    let mc = &mut self.dev[i].mc;
                    let was = mc.gates.is_open(&interface, vrid);
                    mc.set_gate(&interface, vrid, open, handover, now, at_ns);
                    if !was && open && handover {
                        self.openings.push((i, now));
                    }
                }
            }
        }
        // The multicast engine: routes computed once per pass, as the protocol thread does;
        // its frames onto the LAN.
        self.dev[i].mc.flush(now);
        let dn = self.dev[i].name("dn");
        let lan_up = self.dev[i].ports.oper_up(&dn);
        let effects: Vec<mcast::Effect> = self.dev[i].mc.effects().collect();
        for e in effects {
            match e {
                mcast::Effect::Frame { interface, frame } => {
                    if interface == dn && lan_up {
                        for to in [other, 2] {
                            let frame = frame.clone();
                            self.send(DELAY, Ev::Control { to, frame });
                        }
                    }
                }
                // No kernel table here: RPF is by connected subnets (the seed's source is on
                // the uplink's).
                mcast::Effect::ReadRib => self.dev[i].mc.rib_unavailable(),
                mcast::Effect::Unicast { to, from, pim } => self.unicast(i, to, from, pim),
                mcast::Effect::Forward(_) | mcast::Effect::FreeRib(_) => {}
            }
        }
    }

    /// Device `i` unicasts a PIM message to `to`: it reaches the other device when `to` is
    /// one of its addresses, over the first link up at both ends (the LAN, else the
    /// interconnect; the shared uplink carries only the source here), arriving on the port
    /// of that link, from `from` or the sending port's address. Anything else is lost.
    fn unicast(&mut self, i: usize, to: Ipv4Addr, from: Option<Ipv4Addr>, pim: Vec<u8>) {
        let other = 1 - i;
        if self.dev[other].port_of(to).is_none() {
            return;
        }
        let Some(link) = ["dn", "ic"].into_iter().find(|l| {
            self.dev[i].ports.oper_up(&self.dev[i].name(l))
                && self.dev[other].ports.oper_up(&self.dev[other].name(l))
        }) else {
            return;
        };
        let src = from.unwrap_or_else(|| self.dev[i].ports.local_ip(&self.dev[i].name(link)));
        let port = self.dev[other].name(link);
        self.send(
            DELAY,
            Ev::Unicast {
                to: other,
                port,
                src,
                dst: to,
                pim,
            },
        );
    }

    // ---- failures --------------------------------------------------------------------------

    /// Device `i` dies (kill -9): it sends nothing more and forwards nothing.
    fn kill(&mut self, i: usize) {
        self.dev[i].alive = false;
    }

    /// Device `i` starts again from its configuration.
    fn restart(&mut self, i: usize) {
        let d = self.dev[i].d;
        self.dev[i] = Device::start(d, 10 + i as u64, &self.bsr[i], self.now);
        self.flush(i);
    }

    /// Port `port` of device `i` goes down or up.
    fn link(&mut self, i: usize, port: &str, up: bool) {
        let name = self.dev[i].name(port);
        self.dev[i].ports.up.insert(name, up);
        let now = self.now;
        let d = &mut self.dev[i];
        let cfg = d.ports.cfg.clone();
        d.hb.links_changed(&cfg, &d.ports, now);
        let (links, addrs) = (d.ports.links(), d.ports.addrs());
        d.mc.sync_links(&links, &addrs, now);
        self.flush(i);
    }

    // ---- what the receiver saw -------------------------------------------------------------

    /// What the receiver got of `g` from frame `from` to the last one sent.
    fn seen(&self, g: Ipv4Addr, from: u64) -> Seen {
        let got = &self.got[&g];
        let to = self.frames;
        let (mut received, mut duplicates, mut gap, mut run) = (0, 0, 0, 0);
        for n in from..to {
            match got.get(&n) {
                Some(&c) => {
                    received += 1;
                    duplicates += u64::from(c.saturating_sub(1));
                    run = 0;
                }
                None => {
                    run += 1;
                    gap = gap.max(run);
                }
            }
        }
        Seen {
            sent: to - from,
            received,
            duplicates,
            gap,
        }
    }

    /// At most one device forwarded each frame, except in the make-before-break overlap of a
    /// handover: the frames the new master forwards before its advert reaches the old master
    /// (one link delay) and the old master closes.
    fn check_one_forwarder(&self) {
        let overlap = 2 * DELAY + FRAME;
        for &t in &self.doubles {
            let explained = self
                .openings
                .iter()
                .any(|&(_, at)| t >= at && t.duration_since(at) <= overlap);
            assert!(
                explained,
                "both devices forwarded at {:?} outside a handover (handovers at {:?})",
                t.duration_since(self.t0),
                self.openings
                    .iter()
                    .map(|(i, at)| (*i, at.duration_since(self.t0)))
                    .collect::<Vec<_>>()
            );
        }
    }

    fn at(&self) -> Duration {
        self.now.duration_since(self.t0)
    }
}

/// The IGMP message in an Ethernet frame, if it holds one that decodes.
fn igmp_in(frame: &[u8]) -> Option<Message> {
    let ip = frame.get(14..)?;
    let (ihl, total) = dataplane::wire::ipv4_bounds(ip)?;
    if ip[9] != IGMP_PROTO {
        return None;
    }
    igmp_packet::decode(&ip[ihl..total]).ok()
}

/// The Ethernet multicast address of an IPv4 group (RFC 1112 §6.4).
fn group_mac(g: Ipv4Addr) -> [u8; 6] {
    let o = g.octets();
    [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]
}

const RECEIVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x72, 1];

const SEC: Duration = Duration::from_secs(1);
const A: usize = 0;
const B: usize = 1;

/// Both started: A (priority 120) is master once B's adverts are heard and IGMP has relearned.
fn steady() -> Pair {
    let mut p = Pair::new();
    p.run_for(15 * SEC);
    assert_eq!(p.dev[A].vrrp(), VrrpState::Master, "at {:?}", p.at());
    assert_eq!(p.dev[B].vrrp(), VrrpState::Backup);
    p
}

#[test]
fn steady_state_only_the_master_forwards_every_frame_once() {
    let mut p = steady();
    let from = p.frames;
    p.run_for(5 * SEC);
    let s = p.seen(G1, from);
    assert_eq!((s.received, s.duplicates), (s.sent, 0), "{s:?}");
    assert!(p.dev[A].forwards(G1, p.ns(p.now)));
    assert!(!p.dev[B].forwards(G1, p.ns(p.now)));
    assert_eq!(p.dev[B].priority(), 100);
    // PIM on the LAN: the two are neighbors and B (the higher address) is the DR, yet A, the
    // mVRRP master, forwards: the seed's `pim ignore-dr-state`.
    assert_eq!(p.dev[A].pim().neighbors().count(), 1);
    assert_eq!(p.dev[B].pim().neighbors().count(), 1);
    assert!(p.dev[B].pim().is_dr() && !p.dev[A].pim().is_dr());
    p.check_one_forwarder();
}

#[test]
fn without_ignore_dr_state_the_master_that_is_not_dr_would_not_forward() {
    let mut p = steady();
    // The same state with the knob off on A (a commit): A is not the DR, so IGMP gives it no
    // oif.
    let set_ignore_dr = |p: &mut Pair, on: bool| {
        let now = p.now;
        let d = &mut p.dev[A];
        let mut cfg = d.ports.cfg.multicast.clone();
        let dn = d.name("dn");
        if let Some(pim) = cfg.interfaces.get_mut(&dn).and_then(|i| i.pim.as_mut()) {
            pim.ignore_dr = on;
        }
        let (links, addrs) = (d.ports.links(), d.ports.addrs());
        d.mc.apply(&cfg, &links, &addrs, now);
        p.flush(A);
    };
    set_ignore_dr(&mut p, false);
    assert!(!p.dev[A].forwards(G1, p.ns(p.now)));
    set_ignore_dr(&mut p, true);
    assert!(p.dev[A].forwards(G1, p.ns(p.now)));
}

#[test]
fn node_failure_moves_forwarding_within_the_bfd_detection_time() {
    let mut p = steady();
    let from = p.frames;
    p.kill(A);
    p.run_for(2 * SEC);
    assert_eq!(p.dev[B].vrrp(), VrrpState::Master);
    assert_eq!(p.dev[B].priority(), 140, "BFD down lifts B by 40");
    let s = p.seen(G1, from);
    // BFD at 10 ms x 3 detects in 30 ms; the lab measures a 25-30 ms receiver gap.
    assert!(s.gap <= 35, "receiver gap {} ms: {s:?}", s.gap);
    assert!(s.gap >= 20, "faster than BFD can detect? {s:?}");
    assert_eq!(s.duplicates, 0, "{s:?}");
    p.check_one_forwarder();
}

#[test]
fn a_returns_relearns_then_preempts_back_make_before_break() {
    let mut p = steady();
    p.kill(A);
    p.run_for(2 * SEC);
    p.restart(A);
    let from = p.frames;
    // A holds its preemption while IGMP relearns (max-response 10 s + 1 s).
    p.run_for(5 * SEC);
    assert_eq!(
        p.dev[B].vrrp(),
        VrrpState::Master,
        "A preempted during its hold"
    );
    assert_eq!(p.dev[B].priority(), 100, "BFD is up again");
    p.run_for(10 * SEC);
    assert_eq!(p.dev[A].vrrp(), VrrpState::Master);
    assert_eq!(p.dev[B].vrrp(), VrrpState::Backup);
    let s = p.seen(G1, from);
    // Make before break: nothing lost, at most the frames in the advert's flight twice.
    assert_eq!(s.received, s.sent, "{s:?}");
    assert!(s.duplicates <= 1, "{s:?}");
    assert_eq!(p.openings.iter().filter(|(i, _)| *i == A).count(), 1);
    p.check_one_forwarder();
}

#[test]
fn uplink_down_in_link_mode_hands_over_and_back() {
    let mut p = steady();
    let from = p.frames;
    p.link(A, "up", false);
    p.run_for(SEC);
    assert_eq!(p.dev[A].priority(), 0, "link mode: priority 0");
    assert_eq!(p.dev[B].vrrp(), VrrpState::Master);
    let s = p.seen(G1, from);
    // A resigns at once (priority 0 advert); B takes over after its skew time.
    assert!(s.gap <= 5, "{s:?}");
    assert_eq!(s.duplicates, 0, "{s:?}");
    // The uplink returns: A (120) preempts B (100) with a handover.
    let from = p.frames;
    p.link(A, "up", true);
    p.run_for(2 * SEC);
    assert_eq!(p.dev[A].vrrp(), VrrpState::Master);
    let s = p.seen(G1, from);
    assert_eq!(s.received, s.sent, "{s:?}");
    p.check_one_forwarder();
}

#[test]
fn interconnect_cut_on_both_ends_leaves_both_initialize_and_recovers() {
    let mut p = steady();
    p.link(A, "ic", false);
    p.link(B, "ic", false);
    p.run_for(SEC);
    // No split brain: an mVRRP on a down interface is Initialize (no ignore-if-down).
    assert_eq!(p.dev[A].vrrp(), VrrpState::Initialize);
    assert_eq!(p.dev[B].vrrp(), VrrpState::Initialize);
    assert_eq!(p.dev[B].priority(), 140, "B's tracked session failed");
    let now_ns = p.ns(p.now);
    assert!(!p.dev[A].forwards(G1, now_ns) && !p.dev[B].forwards(G1, now_ns));
    p.link(A, "ic", true);
    p.link(B, "ic", true);
    p.run_for(5 * SEC);
    assert_eq!(p.dev[A].vrrp(), VrrpState::Master);
    assert_eq!(p.dev[B].vrrp(), VrrpState::Backup);
    assert_eq!(p.dev[B].priority(), 100);
    p.check_one_forwarder();
}

#[test]
fn a_bfd_flap_during_the_hold_neither_splits_nor_cuts_the_stream() {
    let mut p = steady();
    p.kill(A);
    p.run_for(2 * SEC);
    p.restart(A);
    p.run_for(3 * SEC);
    let from = p.frames;
    // 100 ms without BFD on the interconnect (VRRP adverts still pass) while A holds.
    p.bfd_loss_until = Some(p.now + Duration::from_millis(100));
    p.run_for(Duration::from_millis(300));
    assert_eq!(p.dev[B].vrrp(), VrrpState::Master, "B keeps forwarding");
    p.run_for(12 * SEC);
    assert_eq!(
        p.dev[A].vrrp(),
        VrrpState::Master,
        "A preempts when its hold ends"
    );
    let s = p.seen(G1, from);
    assert_eq!(s.received, s.sent, "{s:?}");
    assert!(s.duplicates <= 1, "{s:?}");
    p.check_one_forwarder();
}

#[test]
fn igmp_join_and_leave_during_a_handover() {
    let mut p = steady();
    p.kill(A);
    p.run_for(2 * SEC);
    p.restart(A);
    // A preempts about 11 s after it starts: join G2 and leave G1 just before.
    p.run_for(Duration::from_millis(10_900));
    let from = p.frames;
    p.join(G2);
    p.leave(G1);
    p.run_for(4 * SEC);
    assert_eq!(p.dev[A].vrrp(), VrrpState::Master);
    let now_ns = p.ns(p.now);
    // The new master forwards the group joined during the handover...
    assert!(p.dev[A].forwards(G2, now_ns));
    assert!(!p.dev[B].forwards(G2, now_ns));
    // ...and neither forwards the one left (after the last-member queries).
    assert!(!p.dev[A].forwards(G1, now_ns) && !p.dev[B].forwards(G1, now_ns));
    let s = p.seen(G2, from);
    assert!(s.received + 10 >= s.sent, "G2 after the join: {s:?}");
    p.check_one_forwarder();
}

#[test]
fn the_simulation_is_deterministic() {
    let run = || {
        let mut p = steady();
        p.kill(A);
        p.run_for(SEC);
        (p.frames, p.seen(G1, 0).received, p.dev[B].priority())
    };
    assert_eq!(run(), run());
}

// ---- the bootstrap router: both devices candidate BSR and candidate RP --------------------

const A_LAN: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
const B_LAN: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 2);

/// Candidate BSR (with `priority`) and candidate RP for every group, at `ip`.
fn candidate(ip: Ipv4Addr, priority: u8) -> BsrConfig {
    BsrConfig {
        candidate_bsr: Some(CandidateBsr {
            address: ip,
            priority,
            hash_mask_len: 30,
        }),
        candidate_rp: Some(CandidateRp {
            address: ip,
            priority: 192,
            groups: Vec::new(),
            holdtime: C_RP_HOLDTIME,
            interval: Duration::from_secs(60),
        }),
    }
}

/// Groups of a line-up, one per hash mask (/30) so that each is hashed on its own.
fn lineup() -> Vec<Ipv4Addr> {
    (0..48u8)
        .map(|k| Ipv4Addr::new(239, 2, k / 32, (k % 32) * 4))
        .collect()
}

/// RP(G) by RFC 7761 §4.7.2 among candidates of equal priority: the highest hash value of
/// (G, mask, C), ties to the highest address.
fn expected_rp(g: Ipv4Addr, candidates: &[Ipv4Addr]) -> Ipv4Addr {
    *candidates
        .iter()
        .max_by_key(|&&c| (hash_value(g, 30, c), c))
        .expect("a candidate")
}

/// Every group of the line-up maps to the RP the hash gives among `candidates`, on each live
/// device; the groups that do not, with what each device says.
fn rp_disagreements(p: &Pair, candidates: &[Ipv4Addr]) -> Vec<String> {
    let mut wrong = Vec::new();
    for g in lineup() {
        let want = expected_rp(g, candidates);
        for (i, d) in p.dev.iter().enumerate().filter(|(_, d)| d.alive) {
            if d.rp_of(g) != Some(want) {
                wrong.push(format!("{g}: device {i} has {:?}, not {want}", d.rp_of(g)));
            }
        }
    }
    wrong
}

/// Run in steps of `step` until `done` holds or `limit` passes; when it first held.
fn run_until_holds(
    p: &mut Pair,
    step: Duration,
    limit: Duration,
    mut done: impl FnMut(&Pair) -> bool,
) -> Option<Duration> {
    let start = p.now;
    while p.now.duration_since(start) <= limit {
        if done(p) {
            return Some(p.now.duration_since(start));
        }
        p.run_for(step);
    }
    None
}

/// Runs until A is the elected BSR, B takes it as such, and both map every group to the RP
/// the hash gives among both (at most 300 s); how long that took.
fn a_elected_and_agreed(p: &mut Pair, when: &str) -> Duration {
    let both = [A_LAN, B_LAN];
    run_until_holds(p, SEC, Duration::from_secs(300), |p| {
        p.dev[A].bsr() == (Some(A_LAN), BsrState::ElectedBsr)
            && p.dev[B].bsr() == (Some(A_LAN), BsrState::CandidateBsr)
            && rp_disagreements(p, &both).is_empty()
    })
    .unwrap_or_else(|| {
        panic!(
            "no agreement {when}: A {:?}, B {:?}; {:?}",
            p.dev[A].bsr(),
            p.dev[B].bsr(),
            rp_disagreements(p, &both)
        )
    })
}

/// A network whose RP is chosen by BSR (RFC 5059), both devices candidates: A (the higher BSR
/// priority) is elected, both learn the same RP set and map every group of a line-up to the
/// RP the hash gives; when A dies, B takes over as BSR and every group moves to B once A's
/// candidacy times out; when A returns, it is the BSR again and the groups spread over both.
/// The hot-backup forwarding of the stream is unaffected throughout.
#[test]
fn bsr_elects_agrees_on_the_rp_set_and_fails_over() {
    let mut p = Pair::with_bsr([candidate(A_LAN, 20), candidate(B_LAN, 10)]);
    let both = [A_LAN, B_LAN];
    assert!(
        lineup().iter().any(|&g| expected_rp(g, &both) == A_LAN)
            && lineup().iter().any(|&g| expected_rp(g, &both) == B_LAN),
        "the line-up spreads over both RPs"
    );
    // Election (BS_Rand_Override, a few seconds) and the C-RP-Advertisements (at once, then
    // every 60 s) reach the BSR, whose next Bootstrap carries both.
    let agreed = a_elected_and_agreed(&mut p, "at start");
    let from = p.frames;
    p.run_for(60 * SEC);
    assert_eq!(rp_disagreements(&p, &both), Vec::<String>::new());
    let steady = p.seen(G1, from);
    assert_eq!((steady.gap, steady.duplicates), (0, 0), "{steady:?}");

    // A, the BSR and one of the RPs, dies.
    p.kill(A);
    let killed = p.frames;
    let took_over = run_until_holds(&mut p, SEC, Duration::from_secs(300), |p| {
        p.dev[B].bsr() == (Some(B_LAN), BsrState::ElectedBsr)
    })
    .expect("B becomes the BSR");
    let moved = run_until_holds(&mut p, SEC, Duration::from_secs(300), |p| {
        rp_disagreements(p, &[B_LAN]).is_empty()
    })
    .expect("every group moves to B");
    // B waits out the Bootstrap Timeout (130 s after A's last message, sent at most 60 s
    // before A died), then its random override (RFC 5059 §5: 5 s + 2 log2(1 + the priority
    // difference, 10) s, about 12 s); A's candidacy lasts its holdtime (150 s).
    assert!(
        took_over <= Duration::from_secs(130 + 13 + 1),
        "B took over {took_over:?} after A died"
    );
    assert!(
        took_over + moved <= Duration::from_secs(u64::from(C_RP_HOLDTIME) + 10),
        "groups moved to B {:?} after A died",
        took_over + moved
    );
    eprintln!(
        "BSR agreed after {agreed:?}; A killed: B the BSR after {took_over:?}, every group on \
         B after {:?}",
        took_over + moved
    );
    let after = p.seen(G1, killed);
    assert!(after.gap <= 30, "node failure gap {after:?}");

    // A returns: preferred as BSR, it takes over again; the groups spread over both again.
    p.restart(A);
    let back = a_elected_and_agreed(&mut p, "after A's restart");
    eprintln!("A restarted: elected again with both RPs after {back:?}");
    p.check_one_forwarder();
}
