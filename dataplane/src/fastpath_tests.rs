//! The fast path in namespaces: a sender, the router and three receivers' LANs.
//!
//! ```text
//!   ns s: s0 ---- r0 :ns f: r1 ---- d1 :ns d1
//!                           r2 ---- d2 :ns d2
//!                           r3 ---- d3 :ns d3
//! ```

use super::*;
use crate::mfib::{Oif, Route};
use crate::ring::{RingConfig, RxRing, ETH_P_ALL};
use crate::sock::PacketSocket;
use crate::testns::{require_root, Namespaces};
use std::time::{Duration, Instant};

const SOURCE: Ipv4Addr = Ipv4Addr::new(10, 9, 0, 1);
const GROUP: Ipv4Addr = Ipv4Addr::new(239, 1, 2, 3);
const SENDER_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

/// Ethernet + IPv4 + UDP (8 bytes of payload) from `source` to `group` with `ttl`, a correct
/// header checksum and no UDP checksum.
fn frame(source: Ipv4Addr, group: Ipv4Addr, ttl: u8, proto: u8) -> Vec<u8> {
    let g = group.octets();
    let mut f = vec![0u8; 14 + 20 + 8 + 8];
    f[0..6].copy_from_slice(&[0x01, 0x00, 0x5e, g[1] & 0x7f, g[2], g[3]]);
    f[6..12].copy_from_slice(&SENDER_MAC);
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    let ip = &mut f[14..];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&36u16.to_be_bytes());
    ip[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
    ip[8] = ttl;
    ip[9] = proto;
    ip[12..16].copy_from_slice(&source.octets());
    ip[16..20].copy_from_slice(&g);
    let c = crate::wire::ipv4_header_checksum(&ip[..20]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip[20..22].copy_from_slice(&4000u16.to_be_bytes());
    ip[22..24].copy_from_slice(&5000u16.to_be_bytes());
    ip[24..26].copy_from_slice(&16u16.to_be_bytes());
    f
}

struct Lab {
    ns: Namespaces,
    tx: PacketSocket,
    /// Receive sockets on d1..d3 (all EtherTypes).
    rx: Vec<PacketSocket>,
    r0: u32,
    r: Vec<(u32, [u8; 6])>,
}

fn mac_of(ns: &Namespaces, short: &str, ifname: &'static str) -> [u8; 6] {
    ns.run(short, move || {
        let links = crate::netlink::Handle::open()?.links()?;
        Ok(links
            .into_iter()
            .find(|l| l.name == ifname)
            .and_then(|l| l.mac)
            .expect("a MAC"))
    })
    .unwrap()
}

impl Lab {
    fn new(test: &str) -> Lab {
        let ns = Namespaces::new(test, &["s", "f", "d1", "d2", "d3"]);
        ns.veth("s", "s0", "f", "r0");
        ns.veth("f", "r1", "d1", "d1");
        ns.veth("f", "r2", "d2", "d2");
        ns.veth("f", "r3", "d3", "d3");
        let s0 = ns.ifindex("s", "s0");
        let tx = ns.run("s", move || PacketSocket::open(s0, None)).unwrap();
        let mut rx = Vec::new();
        for d in ["d1", "d2", "d3"] {
            let i = ns.ifindex(d, d);
            rx.push(
                ns.run(d, move || PacketSocket::open(i, Some(ETH_P_ALL)))
                    .unwrap(),
            );
        }
        let r = ["r1", "r2", "r3"]
            .iter()
            .map(|n| (ns.ifindex("f", n), mac_of(&ns, "f", n)))
            .collect();
        let r0 = ns.ifindex("f", "r0");
        Lab { ns, tx, rx, r0, r }
    }

    fn send(&self, f: &[u8], n: usize) {
        let mut sent = 0;
        let end = Instant::now() + Duration::from_secs(5);
        while sent < n {
            // A fresh veth refuses frames (ENOBUFS) until its carrier is up.
            match self.tx.send(f) {
                Ok(_) => sent += 1,
                Err(_) if Instant::now() < end => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => panic!("send: {e}"),
            }
        }
    }

    /// The frames to `group` each receiver got until `expect` frames in all arrived (or a
    /// second passed), then 100 ms more for strays.
    fn received(&self, group: Ipv4Addr, expect: usize) -> Vec<Vec<Vec<u8>>> {
        let mut got: Vec<Vec<Vec<u8>>> = vec![Vec::new(); self.rx.len()];
        let mut b = vec![0u8; 2048];
        let mut settle = None;
        let end = Instant::now() + Duration::from_secs(1);
        loop {
            for (i, s) in self.rx.iter().enumerate() {
                while let Some(n) = s.recv(&mut b).unwrap() {
                    if n >= 34 && b[30..34] == group.octets() {
                        got[i].push(b[..n].to_vec());
                    }
                }
            }
            let total: usize = got.iter().map(Vec::len).sum();
            if settle.is_none() && (total >= expect || Instant::now() > end) {
                settle = Some(Instant::now() + Duration::from_millis(100));
            }
            if settle.is_some_and(|t| Instant::now() > t) {
                return got;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Frames to `group` the ring has.
fn ring_frames(ring: &mut RxRing, group: Ipv4Addr) -> usize {
    let mut n = 0;
    // The ring hands a block over on its timeout.
    let end = Instant::now() + Duration::from_millis(200);
    while Instant::now() < end {
        ring.for_each_frame(usize::MAX, |f| {
            if f.data.get(30..34) == Some(&group.octets()[..]) {
                n += 1;
            }
        });
        std::thread::sleep(Duration::from_millis(5));
    }
    n
}

fn route(lab: &Lab, oifs: &[(usize, bool)]) -> Route {
    Route::new(
        SOURCE,
        GROUP,
        lab.r0,
        oifs.iter()
            .map(|&(i, on)| Oif::new(lab.r[i].0, on))
            .collect(),
    )
}

/// The forwarder's set-up in ns f: the fast path on r0..r3 and the tap ring on r0.
fn router(lab: &Lab) -> (FastPath, RxRing) {
    let mut fp = FastPath::load(64).unwrap();
    let (r0, r) = (lab.r0, lab.r.clone());
    let (fp, ring) = lab
        .ns
        .run("f", move || {
            fp.attach(r0, [2, 0, 0, 0, 0, 0xf0])?;
            for (i, mac) in r {
                fp.attach(i, mac)?;
            }
            let ring = RxRing::open(
                r0,
                RingConfig {
                    protocol: ETH_P_ALL,
                    ..RingConfig::default()
                },
            )?;
            fp.filter_tap(ring.as_raw_fd())?;
            Ok((fp, ring))
        })
        .unwrap();
    (fp, ring)
}

/// Each receiver's copy: TTL one less, a header checksum that verifies, the oif's MAC as
/// source and the rest of the frame as sent.
fn check_copy(copy: &[u8], sent: &[u8], oif_mac: [u8; 6]) {
    assert_eq!(copy.len(), sent.len());
    assert_eq!(&copy[0..6], &sent[0..6], "destination MAC kept");
    assert_eq!(copy[6..12], oif_mac, "source MAC is the oif's");
    assert_eq!(copy[14 + 8], sent[14 + 8] - 1, "TTL decremented");
    let mut hdr = copy[14..34].to_vec();
    let field = [hdr[10], hdr[11]];
    hdr[10..12].copy_from_slice(&[0, 0]);
    assert_eq!(
        crate::wire::ipv4_header_checksum(&hdr).to_be_bytes(),
        field,
        "header checksum"
    );
    assert_eq!(&copy[12..22], &sent[12..22]);
    assert_eq!(&copy[23..24], &sent[23..24]);
    assert_eq!(&copy[26..], &sent[26..], "addresses and payload");
}

/// Offloaded (S,G): the copies reach the forwarding oifs rewritten, a gated oif gets none,
/// the tap sees none (user space would send them twice), counters count; a gate switch
/// applies at the next sync; a miss, and a removed route, go to the tap again and nowhere
/// else; TTL 1 is dropped and counted. Detaching removes the classifier.
#[test]
fn offloaded_routes_forward_in_the_kernel_and_misses_reach_the_tap() {
    if !require_root() {
        return;
    }
    let lab = Lab::new("fastfwd");
    let (mut fp, mut ring) = router(&lab);
    let mut table = Table::new();
    table.insert(route(&lab, &[(0, true), (1, true), (2, false)]));
    let report = fp.sync(&table, 0).unwrap();
    assert_eq!((report.added, report.not_offloaded), (1, 0));
    assert!(fp.is_offloaded(SOURCE, GROUP));

    const N: usize = 40;
    let f = frame(SOURCE, GROUP, 8, 17);
    lab.send(&f, N);
    let got = lab.received(GROUP, 2 * N);
    assert_eq!(got[0].len(), N, "d1");
    assert_eq!(got[1].len(), N, "d2");
    assert_eq!(got[2].len(), 0, "d3 is gated");
    for (i, copies) in got.iter().enumerate().take(2) {
        for c in copies {
            check_copy(c, &f, lab.r[i].1);
        }
    }
    assert_eq!(ring_frames(&mut ring, GROUP), 0, "the tap left them alone");
    let c = fp.route_counters(SOURCE, GROUP).unwrap().unwrap();
    assert_eq!((c.packets, c.octets), (N as u64, 36 * N as u64));
    assert_eq!(
        (c.copies, c.copy_errors, c.ttl_expired),
        (2 * N as u64, 0, 0)
    );
    // Folded into the MFIB's route.
    let folded = fp.fold_counters(&table).unwrap();
    assert_eq!(folded.packets, N as u64);
    assert_eq!(
        table.get(SOURCE, GROUP).unwrap().counters.get(),
        (N as u64, 36 * N as u64)
    );

    // The gate moves from d1 to d3 (as a handover does): in effect at the sync.
    table.insert(route(&lab, &[(0, false), (1, true), (2, true)]));
    let report = fp.sync(&table, 0).unwrap();
    assert_eq!((report.added, report.changed), (0, 1));
    lab.send(&f, N);
    let got = lab.received(GROUP, 2 * N);
    assert_eq!(
        got.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![0, N, N],
        "after the switch"
    );
    for c in &got[2] {
        check_copy(c, &f, lab.r[2].1);
    }

    // TTL 1: dropped, counted, not on the tap either.
    lab.send(&frame(SOURCE, GROUP, 1, 17), 3);
    assert_eq!(lab.received(GROUP, 0).concat().len(), 0);
    assert_eq!(ring_frames(&mut ring, GROUP), 0);
    let c = fp.route_counters(SOURCE, GROUP).unwrap().unwrap();
    assert_eq!(c.ttl_expired, 3);

    // A group without a route, and IGMP to the routed group: the slow path's and the
    // kernel's; the fast path forwards neither.
    let other = Ipv4Addr::new(239, 9, 9, 9);
    lab.send(&frame(SOURCE, other, 8, 17), 5);
    assert_eq!(lab.received(other, 0).concat().len(), 0);
    assert_eq!(ring_frames(&mut ring, other), 5, "a miss reaches the tap");
    lab.send(&frame(SOURCE, GROUP, 8, 2), 2);
    assert_eq!(lab.received(GROUP, 0).concat().len(), 0, "IGMP is not data");

    // A (*,G) route catches another source.
    let mut star = route(&lab, &[(1, true)]);
    star.source = Ipv4Addr::UNSPECIFIED;
    table.insert(star);
    assert_eq!(fp.sync(&table, 0).unwrap().added, 1);
    let f2 = frame(Ipv4Addr::new(10, 9, 0, 7), GROUP, 8, 17);
    lab.send(&f2, N);
    let got = lab.received(GROUP, N);
    assert_eq!(
        got.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![0, N, 0],
        "(*,G)"
    );

    // Removed: back to the tap.
    table.remove(SOURCE, GROUP);
    table.remove(Ipv4Addr::UNSPECIFIED, GROUP);
    let report = fp.sync(&table, 0).unwrap();
    assert_eq!(report.removed, 2);
    lab.send(&f, N);
    assert_eq!(lab.received(GROUP, 0).concat().len(), 0);
    assert_eq!(
        ring_frames(&mut ring, GROUP),
        N,
        "the slow path has it again"
    );

    assert_eq!(programs_on(&lab, lab.r0), 1);
    drop(fp);
    assert_eq!(
        programs_on(&lab, lab.r0),
        0,
        "the classifier went with its link"
    );
}

/// A copy budget: in a burst, frames whose copies pass the CPU's budget for the millisecond are
/// shed (neither forwarded nor on the tap) and counted; the frames the budget admits are
/// forwarded whole; without a budget every frame is forwarded again.
#[test]
fn a_copy_budget_sheds_the_frames_past_it_and_counts_them() {
    if !require_root() {
        return;
    }
    let lab = Lab::new("fastpace");
    let (mut fp, mut ring) = router(&lab);
    let mut table = Table::new();
    table.insert(route(&lab, &[(0, true), (1, true)]));
    fp.sync(&table, 0).unwrap();
    let cpus = 64;
    let before: u64 = fp
        .cpu_copies(cpus)
        .unwrap()
        .iter()
        .map(|c| c.admitted)
        .sum();

    // Room for one frame's two copies a millisecond; 200 frames take far less than 200 ms.
    fp.set_copy_budget(Some(2)).unwrap();
    const N: usize = 200;
    let f = frame(SOURCE, GROUP, 8, 17);
    lab.send(&f, N);
    let got = lab.received(GROUP, 2 * N);
    let (d1, d2) = (got[0].len(), got[1].len());
    assert_eq!(d1, d2, "a frame is copied to both oifs or shed whole");
    assert!((1..N / 2).contains(&d1), "{d1} of {N} forwarded");
    for c in &got[0] {
        check_copy(c, &f, lab.r[0].1);
    }
    assert_eq!(
        ring_frames(&mut ring, GROUP),
        0,
        "shed frames skip the tap too"
    );
    let counts = fp.cpu_copies(cpus).unwrap();
    let shed: u64 = counts.iter().map(|c| c.shed).sum();
    let admitted: u64 = counts.iter().map(|c| c.admitted).sum::<u64>() - before;
    assert_eq!(shed, (N - d1) as u64);
    assert_eq!(admitted, 2 * d1 as u64);
    let c = fp.route_counters(SOURCE, GROUP).unwrap().unwrap();
    assert_eq!(c.packets, d1 as u64, "shed frames are not the route's");

    fp.set_copy_budget(None).unwrap();
    lab.send(&f, 40);
    let got = lab.received(GROUP, 80);
    assert_eq!((got[0].len(), got[1].len()), (40, 40), "unpaced again");
}

/// What cannot be offloaded stays out of the map: a register tunnel, an oif without the
/// fast path, more oifs than the value holds, an iif without it.
#[test]
fn routes_the_fast_path_cannot_take_stay_on_the_slow_path() {
    if !require_root() {
        return;
    }
    let lab = Lab::new("fastskip");
    let (mut fp, _ring) = router(&lab);
    let mut table = Table::new();
    let mut reg = route(&lab, &[(0, true)]);
    reg.register_to = Some(Ipv4Addr::new(10, 0, 0, 9));
    table.insert(reg);
    let mut foreign = route(&lab, &[(0, true), (1, true)]);
    foreign.group = Ipv4Addr::new(239, 0, 0, 2);
    foreign.oifs.push(Oif::new(999, true));
    table.insert(foreign);
    let mut wide = route(&lab, &[(0, true)]);
    wide.group = Ipv4Addr::new(239, 0, 0, 3);
    wide.oifs = (0..=MAX_OIFS)
        .map(|i| Oif::new(lab.r[i % 3].0, true))
        .collect();
    table.insert(wide);
    let mut elsewhere = route(&lab, &[(0, true)]);
    elsewhere.group = Ipv4Addr::new(239, 0, 0, 4);
    elsewhere.iif = 999;
    table.insert(elsewhere);
    // A gated foreign oif does not matter.
    let mut gated = route(&lab, &[(0, true)]);
    gated.group = Ipv4Addr::new(239, 0, 0, 5);
    gated.oifs.push(Oif::new(999, false));
    table.insert(gated);
    // A gate that opens ahead of the sync: shut now, and the sync says when to look again.
    let mut ahead = route(&lab, &[(1, true)]);
    ahead.group = Ipv4Addr::new(239, 0, 0, 6);
    ahead.oifs = vec![Oif::switched(lab.r[1].0, true, 5_000)];
    table.insert(ahead);
    let report = fp.sync(&table, 1_000).unwrap();
    assert_eq!((report.added, report.not_offloaded), (2, 4));
    assert_eq!(fp.next_switch_ns(), Some(5_000));
    assert_eq!(
        fp.sync(&table, 5_000).unwrap().changed,
        1,
        "the gate opened"
    );
    assert_eq!(fp.next_switch_ns(), None);
    assert!(fp.is_offloaded(SOURCE, Ipv4Addr::new(239, 0, 0, 5)));
    assert!(!fp.is_offloaded(SOURCE, GROUP));
}

/// A forwarder replaced make-before-break: the new fast path attaches beside the old one,
/// which keeps taking the frames (once each) until its heartbeat stops or it goes; then the
/// new one takes them.
#[test]
fn a_new_fast_path_takes_over_when_the_old_one_goes() {
    if !require_root() {
        return;
    }
    let lab = Lab::new("fastnew");
    let mut table = Table::new();
    table.insert(route(&lab, &[(0, true)]));
    let (mut old, _ring) = router(&lab);
    old.sync(&table, 0).unwrap();
    let (mut new, _ring2) = router(&lab);
    new.sync(&table, 0).unwrap();
    assert_eq!(programs_on(&lab, lab.r0), 2);
    const N: usize = 20;
    let f = frame(SOURCE, GROUP, 8, 17);
    lab.send(&f, N);
    assert_eq!(
        lab.received(GROUP, N)[0].len(),
        N,
        "once each, by the old one"
    );
    assert_eq!(
        old.route_counters(SOURCE, GROUP).unwrap().unwrap().packets,
        N as u64
    );
    // The old one's forwarder stops beating (killed, stuck): it steps aside at once.
    old.heartbeat().unwrap();
    std::thread::sleep(Duration::from_nanos(3 * WATCHDOG_NS as u64));
    lab.send(&f, N);
    assert_eq!(
        lab.received(GROUP, N)[0].len(),
        N,
        "once each, by the new one"
    );
    assert_eq!(
        old.route_counters(SOURCE, GROUP).unwrap().unwrap().packets,
        N as u64
    );
    assert_eq!(
        new.route_counters(SOURCE, GROUP).unwrap().unwrap().packets,
        N as u64
    );
    drop(old);
    assert_eq!(programs_on(&lab, lab.r0), 1);
    lab.send(&f, N);
    assert_eq!(lab.received(GROUP, N)[0].len(), N);
    assert_eq!(
        new.route_counters(SOURCE, GROUP).unwrap().unwrap().packets,
        2 * N as u64
    );
    drop(new);
    assert_eq!(programs_on(&lab, lab.r0), 0);
    lab.send(&f, N);
    assert_eq!(
        lab.received(GROUP, 0)[0].len(),
        0,
        "nothing forwards any more"
    );
}

/// The forwarding thread with [`crate::forward::FwdConfig::fast_path`]: an offloadable route
/// is forwarded by the kernel (counted as fast), one with a register tunnel still from the
/// rings, both to the same receiver.
#[test]
fn the_forwarder_offloads_what_it_can_and_rings_forward_the_rest() {
    use crate::forward::{Forwarder, FwdConfig};
    use crate::mfib::Mfib;
    use std::sync::Arc;
    if !require_root() {
        return;
    }
    let lab = Lab::new("fastthr");
    let mfib = Arc::new(Mfib::new());
    let mut t = Table::new();
    t.insert(route(&lab, &[(0, true), (1, false)]));
    let slow_group = Ipv4Addr::new(239, 1, 2, 4);
    let mut slow = route(&lab, &[(0, true)]);
    slow.group = slow_group;
    slow.register_to = Some(Ipv4Addr::new(10, 255, 0, 1));
    t.insert(slow);
    mfib.publish(t);
    let ifs = fwd_ifs(&lab, &[0, 1, 2]);
    let cfg = FwdConfig {
        fast_path: true,
        ..FwdConfig::default()
    };
    let m = Arc::clone(&mfib);
    let fwd = lab
        .ns
        .run("f", move || Forwarder::start_with(&ifs, m, cfg))
        .unwrap();
    // The thread syncs the fast path before it reads its first ring.
    let end = Instant::now() + Duration::from_secs(5);
    while fwd.counters().fast_routes != 1 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(fwd.counters().fast_routes, 1);
    const N: usize = 30;
    let f = frame(SOURCE, GROUP, 8, 17);
    lab.send(&f, N);
    let got = lab.received(GROUP, N);
    assert_eq!(got[0].len(), N);
    assert_eq!(got[1].len(), 0, "d2 is gated");
    for c in &got[0] {
        check_copy(c, &f, lab.r[0].1);
    }
    // A handover: the gates swap in a new table, which the thread hands to the kernel
    // within its 1 ms poll.
    mfib.update(|t| {
        let r = t.get_mut(SOURCE, GROUP).unwrap();
        r.set_forwarding(lab.r[0].0, false);
        r.set_forwarding(lab.r[1].0, true);
    });
    std::thread::sleep(Duration::from_millis(50));
    lab.send(&f, N);
    let got = lab.received(GROUP, N);
    assert_eq!((got[0].len(), got[1].len()), (0, N), "after the switch");
    let fs = frame(SOURCE, slow_group, 8, 17);
    lab.send(&fs, N);
    let got = lab.received(slow_group, N);
    assert_eq!(got[0].len(), N, "the slow path forwards the register route");
    for c in &got[0] {
        check_copy(c, &fs, lab.r[0].1);
    }
    let s = fwd.stop();
    assert_eq!(s.fast_received, 2 * N as u64);
    assert_eq!(s.fast_forwarded, 2 * N as u64);
    assert_eq!(
        s.received, N as u64,
        "only the slow route's frames reached the rings"
    );
    assert_eq!(s.forwarded, 3 * N as u64, "both paths' copies");
    let fast_route = mfib.snapshot();
    assert_eq!(
        fast_route.get(SOURCE, GROUP).unwrap().counters.get().0,
        2 * N as u64,
        "the route's counters include the fast path's"
    );
}

/// The programs at tcx ingress of `ifindex` in ns f.
fn programs_on(lab: &Lab, ifindex: u32) -> u32 {
    tcx_on(lab, ifindex).0
}

/// The programs at tcx ingress of `ifindex` in ns f, and the revision of that list (one more
/// on each attach and detach).
fn tcx_on(lab: &Lab, ifindex: u32) -> (u32, u64) {
    lab.ns
        .run("f", move || Ok(crate::bpf::tcx_ingress(ifindex)?))
        .unwrap()
}

/// Wait (up to 5 s) until `ready` holds.
fn wait_until(mut ready: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(5);
    while !ready() {
        if Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// The forwarder's interfaces: r0 and the receivers' `oifs` (0: r1).
fn fwd_ifs(lab: &Lab, oifs: &[usize]) -> Vec<crate::forward::FwdIf> {
    let r0 = crate::forward::FwdIf {
        ifindex: lab.r0,
        name: "r0".into(),
        mac: [2, 0, 0, 0, 0, 0xf0],
    };
    std::iter::once(r0)
        .chain(oifs.iter().map(|&i| crate::forward::FwdIf {
            ifindex: lab.r[i].0,
            name: format!("r{}", i + 1),
            mac: lab.r[i].1,
        }))
        .collect()
}

/// A table of one route, r0 to r1.
fn one_route(lab: &Lab) -> std::sync::Arc<crate::mfib::Mfib> {
    let mfib = std::sync::Arc::new(crate::mfib::Mfib::new());
    let mut t = Table::new();
    t.insert(route(lab, &[(0, true)]));
    mfib.publish(t);
    mfib
}

/// A forwarder with the fast path on `ifs` in ns f, launched after `after`.
fn launch(
    lab: &Lab,
    mfib: &std::sync::Arc<crate::mfib::Mfib>,
    ifs: Vec<crate::forward::FwdIf>,
    after: Option<crate::forward::Forwarder>,
) -> crate::forward::Forwarder {
    let m = std::sync::Arc::clone(mfib);
    let cfg = crate::forward::FwdConfig {
        fast_path: true,
        ..crate::forward::FwdConfig::default()
    };
    lab.ns
        .run("f", move || {
            crate::forward::Forwarder::launch(ifs, m, cfg, None, after)
        })
        .unwrap()
}

/// Forwarders replaced make-before-break ([`crate::forward::Forwarder::launch`]) hand the fast
/// path on: the programs go on an interface that joins and come off one that leaves, and
/// those that stay are never attached twice (each attach or detach holds the kernel's RTNL
/// lock across an RCU grace period). The routes keep being forwarded by the kernel.
#[test]
fn replaced_forwarders_hand_the_fast_path_on() {
    use crate::forward::Forwarder;
    if !require_root() {
        return;
    }
    let lab = Lab::new("fasthand");
    let mfib = one_route(&lab);
    let (r0, r1, r2) = (lab.r0, lab.r[0].0, lab.r[1].0);
    const N: usize = 20;
    let f = frame(SOURCE, GROUP, 8, 17);
    let forwarded_fast = |fwd: &Forwarder, lab: &Lab| {
        assert!(
            wait_until(|| fwd.counters().fast_routes == 1),
            "{:?}",
            fwd.counters()
        );
        // The replaced forwarder, which counts what the kernel forwards while both run, has
        // ended by then (it drains for 20 ms).
        std::thread::sleep(Duration::from_millis(200));
        let before = fwd.counters().fast_received;
        lab.send(&f, N);
        assert_eq!(lab.received(GROUP, N)[0].len(), N, "once each");
        assert!(wait_until(
            || fwd.counters().fast_received >= before + N as u64
        ));
    };

    let a = launch(&lab, &mfib, fwd_ifs(&lab, &[0]), None);
    forwarded_fast(&a, &lab);
    assert_eq!(
        (
            programs_on(&lab, r0),
            programs_on(&lab, r1),
            programs_on(&lab, r2)
        ),
        (1, 1, 0)
    );
    // What r0 and r1, which stay, see from here: no attach or detach at all.
    let (r0_at, r1_at) = (tcx_on(&lab, r0), tcx_on(&lab, r1));

    // r2 joins: B attaches there alone, and takes over.
    let b = launch(&lab, &mfib, fwd_ifs(&lab, &[0, 1]), Some(a));
    forwarded_fast(&b, &lab);
    assert_eq!(
        (
            programs_on(&lab, r0),
            programs_on(&lab, r1),
            programs_on(&lab, r2)
        ),
        (1, 1, 1)
    );
    assert_eq!((tcx_on(&lab, r0), tcx_on(&lab, r1)), (r0_at, r1_at));

    // r1 leaves (the route moves to r2 with it): once B has ended, its program goes.
    mfib.update(|t| {
        let r = t.get_mut(SOURCE, GROUP).unwrap();
        r.oifs = vec![Oif::new(r2, true)];
    });
    let c = launch(&lab, &mfib, fwd_ifs(&lab, &[1]), Some(b));
    assert!(
        wait_until(|| programs_on(&lab, r1) == 0),
        "r1 keeps the program"
    );
    assert_eq!((programs_on(&lab, r0), programs_on(&lab, r2)), (1, 1));
    assert_eq!(tcx_on(&lab, r0), r0_at);
    assert!(wait_until(|| c.counters().fast_routes == 1));
    std::thread::sleep(Duration::from_millis(200));
    let before = c.counters().fast_received;
    lab.send(&f, N);
    let got = lab.received(GROUP, N);
    assert_eq!((got[0].len(), got[1].len()), (0, N));
    assert!(wait_until(
        || c.counters().fast_received >= before + N as u64
    ));

    // The last forwarder takes the fast path with it.
    drop(c);
    assert_eq!(
        (
            programs_on(&lab, r0),
            programs_on(&lab, r1),
            programs_on(&lab, r2)
        ),
        (0, 0, 0)
    );
}

/// Forwarders launched one after another before any has opened its rings (commits in quick
/// succession) share one fast path all the same: the programs go on each interface once.
#[test]
fn forwarders_launched_in_quick_succession_share_one_fast_path() {
    use crate::forward::Forwarder;
    if !require_root() {
        return;
    }
    let lab = Lab::new("fastquick");
    let mfib = one_route(&lab);
    let (r0, r1) = (lab.r0, lab.r[0].0);
    let before = tcx_on(&lab, r0).1;
    let mut fwd: Option<Forwarder> = None;
    for oifs in [&[0][..], &[], &[0], &[], &[0]] {
        fwd = Some(launch(&lab, &mfib, fwd_ifs(&lab, oifs), fwd.take()));
    }
    let fwd = fwd.unwrap();
    assert!(wait_until(|| fwd.counters().fast_routes == 1));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        tcx_on(&lab, r0),
        (1, before + 1),
        "r0: one program, attached once"
    );
    assert_eq!(programs_on(&lab, r1), 1);
    const N: usize = 20;
    lab.send(&frame(SOURCE, GROUP, 8, 17), N);
    assert_eq!(lab.received(GROUP, N)[0].len(), N, "once each");
    drop(fwd);
    assert_eq!((programs_on(&lab, r0), programs_on(&lab, r1)), (0, 0));
}
