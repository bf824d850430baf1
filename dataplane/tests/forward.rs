//! The ring and the forwarder on veth pairs between network namespaces (needs root and
//! iproute2; skipped with a message otherwise, unless NE_REQUIRE_TOOLS=1).
//!
//! ```text
//!   ns S (sender)            ns F (forwarder)             ns D1 / D2 (receivers)
//!   s0 10.0.1.1/24  <---->  r0 (iif)
//!   s3 10.0.3.1/24  <---->  r3 (another upstream)
//!                           r1 (oif)  <---------------->  d1 (in D1)
//!                           r2 (oif)  <---------------->  d2 (in D2)
//! ```

use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dataplane::forward::{classify, Class, Forwarder, FwdConfig, FwdIf, Ports};
use dataplane::mfib::{Mfib, Oif, Route, Table};
use dataplane::netlink::{Handle, Link};
use dataplane::netns::run_in;
use dataplane::ring::{RingConfig, RingFilter, RxRing};
use dataplane::sock::{Ipv4Socket, PacketSocket, UdpOptions};
use dataplane::wire::ipv4_header_checksum;

/// Why these tests cannot run here, if they cannot.
fn unavailable() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().next().map(str::to_string));
    if uid.as_deref() != Some("0") {
        return Some("needs root (namespaces, AF_PACKET)".into());
    }
    if Command::new("ip").arg("-V").output().is_err() {
        return Some("needs iproute2 (ip)".into());
    }
    None
}

fn require() -> bool {
    match unavailable() {
        None => true,
        Some(why) if std::env::var("NE_REQUIRE_TOOLS").as_deref() == Ok("1") => {
            panic!("{why} (NE_REQUIRE_TOOLS=1)")
        }
        Some(why) => {
            eprintln!("SKIPPED: {why}");
            false
        }
    }
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// Namespaces named `dp<pid>-<test>-<name>`, deleted (with their veths) on drop.
struct Namespaces {
    names: Vec<String>,
}

impl Namespaces {
    fn new(test: &str, short: &[&str]) -> Namespaces {
        let mut ns = Namespaces { names: Vec::new() };
        for s in short {
            let name = format!("dp{}-{test}-{s}", std::process::id());
            let _ = Command::new("ip").args(["netns", "del", &name]).output();
            ip(&["netns", "add", &name]);
            ns.names.push(name.clone());
            ip(&["-n", &name, "link", "set", "lo", "up"]);
        }
        ns
    }

    fn name(&self, short: &str) -> &str {
        self.names
            .iter()
            .find(|n| n.ends_with(&format!("-{short}")))
            .expect("namespace")
    }

    /// A veth pair `a` (in ns `na`) <-> `b` (in ns `nb`), both up.
    fn veth(&self, na: &str, a: &str, nb: &str, b: &str) {
        let (na, nb) = (self.name(na), self.name(nb));
        ip(&[
            "link", "add", a, "netns", na, "type", "veth", "peer", "name", b, "netns", nb,
        ]);
        ip(&["-n", na, "link", "set", a, "up"]);
        ip(&["-n", nb, "link", "set", b, "up"]);
    }

    fn links(&self, ns: &str) -> Vec<Link> {
        run_in(self.name(ns), || Handle::open()?.links())
            .expect("enter namespace")
            .expect("list links")
    }

    fn link(&self, ns: &str, name: &str) -> Link {
        self.links(ns)
            .into_iter()
            .find(|l| l.name == name)
            .unwrap_or_else(|| panic!("no {name} in {ns}"))
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for n in &self.names {
            let _ = Command::new("ip").args(["netns", "del", n]).output();
        }
    }
}

/// Poll `cond` every 10 ms until it holds or `limit` passes.
fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

const PORT: u16 = 5001;

/// Source S (s0 10.0.1.1/24 to the forwarder's r0), forwarder F, receivers D1 (r1 to d1) and
/// D2 (r2 to d2).
fn topology(test: &str) -> Namespaces {
    let lab = Namespaces::new(test, &["s", "f", "d1", "d2"]);
    lab.veth("s", "s0", "f", "r0");
    lab.veth("f", "r1", "d1", "d1");
    lab.veth("f", "r2", "d2", "d2");
    ip(&[
        "-n",
        lab.name("s"),
        "addr",
        "add",
        "10.0.1.1/24",
        "dev",
        "s0",
    ]);
    lab
}

/// The forwarder's view of an interface of `ns`, by name.
fn fwd_ifs(lab: &Namespaces, ns: &str) -> impl Fn(&str) -> FwdIf {
    let links = lab.links(ns);
    move |name: &str| {
        let l = links.iter().find(|l| l.name == name).unwrap();
        FwdIf {
            ifindex: l.index,
            name: name.into(),
            mac: l.mac.unwrap(),
        }
    }
}

/// A UDP sender in `ns` leaving through `ifname` with multicast TTL `ttl`.
fn sender(lab: &Namespaces, ns: &str, ifname: &str, ttl: u8) -> Ipv4Socket {
    let ifindex = lab.link(ns, ifname).index;
    run_in(lab.name(ns), move || -> std::io::Result<Ipv4Socket> {
        let s = Ipv4Socket::udp(&UdpOptions {
            bind: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
            device: None,
            ttl: None,
            recv_meta: false,
            reuse_addr: false,
        })?;
        s.multicast_out(ifindex, ttl)?;
        Ok(s)
    })
    .unwrap()
    .unwrap()
}

fn send(s: &Ipv4Socket, group: Ipv4Addr, n: usize, tag: u8) {
    for i in 0..n {
        let payload = [tag, i as u8, 0xab, 0xcd, 0xef, 0x01, 0x02, 0x03];
        s.send_to(&payload, SocketAddrV4::new(group, PORT)).unwrap();
    }
}

/// A packet socket for IPv4 frames arriving on `ifname` in `ns`.
fn receiver(lab: &Namespaces, ns: &str, ifname: &str) -> PacketSocket {
    let ifindex = lab.link(ns, ifname).index;
    run_in(lab.name(ns), move || {
        PacketSocket::open(ifindex, Some(0x0800))
    })
    .unwrap()
    .unwrap()
}

/// Frames to `group`:PORT received on `rx` until `want` arrived or `limit` passed.
fn collect(rx: &PacketSocket, group: Ipv4Addr, want: usize, limit: Duration) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    let end = Instant::now() + limit;
    while got.len() < want && Instant::now() < end {
        match rx.recv(&mut buf).unwrap() {
            Some(n) => {
                let f = &buf[..n];
                if matches!(classify(f), Class::Data(d) if d.group == group)
                    && f.len() >= 14 + 28
                    && u16::from_be_bytes([f[36], f[37]]) == PORT
                {
                    got.push(f.to_vec());
                }
            }
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    }
    got
}

/// Check a forwarded copy: TTL `ttl`, valid header checksum, source MAC `mac`, the group's
/// multicast MAC as destination, payload tag `tag`.
fn check_copy(f: &[u8], ttl: u8, mac: [u8; 6], group: Ipv4Addr, tag: u8) {
    let g = group.octets();
    assert_eq!(&f[0..6], &[0x01, 0x00, 0x5e, g[1] & 0x7f, g[2], g[3]]);
    assert_eq!(&f[6..12], &mac, "source MAC is the oif's");
    let ip = &f[14..34];
    assert_eq!(ip[8], ttl, "TTL");
    assert_eq!(
        u16::from_be_bytes([ip[10], ip[11]]),
        ipv4_header_checksum(ip),
        "header checksum"
    );
    assert_eq!(f[42], tag);
}

#[test]
fn ring_filters_counts_and_accumulates_drops() {
    if !require() {
        return;
    }
    let lab = Namespaces::new("ring", &["a", "b"]);
    lab.veth("a", "a0", "b", "b0");
    let b0 = lab.link("b", "b0").index;
    let a0 = lab.link("a", "a0");
    let tiny = RingConfig {
        block_size: 4096,
        block_count: 2,
        frame_size: 2048,
        retire_timeout_ms: 1,
        ..RingConfig::default()
    };
    let mut filtered = run_in(lab.name("b"), move || RxRing::open(b0, tiny))
        .unwrap()
        .unwrap();
    let mut raw = run_in(lab.name("b"), move || {
        RxRing::open(
            b0,
            RingConfig {
                filter: RingFilter::None,
                ..RingConfig::default()
            },
        )
    })
    .unwrap()
    .unwrap();
    let tx = run_in(lab.name("a"), move || PacketSocket::open(a0.index, None))
        .unwrap()
        .unwrap();

    let build = |dst: [u8; 4], seq: u8| -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 8 + 60];
        f[0..6].copy_from_slice(&[0x01, 0x00, 0x5e, dst[1] & 0x7f, dst[2], dst[3]]);
        f[6..12].copy_from_slice(&a0.mac.unwrap());
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        let total = (f.len() - 14) as u16;
        let ip = &mut f[14..34];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip[8] = 5;
        ip[9] = 17;
        ip[12..16].copy_from_slice(&[10, 9, 9, 9]);
        ip[16..20].copy_from_slice(&dst);
        let c = ipv4_header_checksum(ip);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        f[42] = seq;
        f
    };

    // One each of data, link-local multicast and unicast: the filtered ring sees the first.
    let data = build([239, 1, 2, 3], 1);
    tx.send(&data).unwrap();
    tx.send(&build([224, 0, 0, 18], 2)).unwrap();
    tx.send(&build([10, 9, 9, 10], 3)).unwrap();
    let mut seen = Vec::new();
    let mut raw_seen = 0;
    assert!(wait_for(Duration::from_secs(2), || {
        filtered.for_each_frame(8, |f| {
            assert_eq!(f.wire_len as usize, f.data.len());
            assert_eq!(f.vlan_tci, None);
            seen.push(f.data.to_vec());
        });
        raw_seen += raw.for_each_frame(8, |_| ());
        !seen.is_empty() && raw_seen >= 3
    }));
    assert_eq!(seen, vec![data]);
    std::thread::sleep(Duration::from_millis(50));
    raw_seen += raw.for_each_frame(8, |_| ());
    assert_eq!(raw_seen, 3);
    assert_eq!(filtered.stats().unwrap().packets, 1);

    // Overrun the tiny ring (two 4 KiB blocks) without reading it: the kernel drops and
    // freezes; the statistics add up across reads.
    for i in 0..200u8 {
        tx.send(&build([239, 1, 2, 3], i)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(100));
    let s1 = filtered.stats().unwrap();
    assert_eq!(s1.packets, 201, "{s1:?}");
    assert!(s1.drops > 100, "{s1:?}");
    assert!(s1.freeze_q_cnt >= 1, "{s1:?}");
    assert_eq!(
        filtered.stats().unwrap(),
        s1,
        "cumulative, not reset by reading"
    );
    let mut n = 0;
    assert!(wait_for(Duration::from_secs(1), || {
        n += filtered.for_each_frame(8, |_| ());
        n as u64 == s1.packets - 1 - s1.drops
    }));
}

#[test]
fn forwards_gates_falls_back_and_checks_rpf() {
    if !require() {
        return;
    }
    let lab = topology("fwd");
    lab.veth("s", "s3", "f", "r3");
    ip(&[
        "-n",
        lab.name("s"),
        "addr",
        "add",
        "10.0.3.1/24",
        "dev",
        "s3",
    ]);

    let fwd_if = fwd_ifs(&lab, "f");
    let (r0, r1, r2, r3) = (fwd_if("r0"), fwd_if("r1"), fwd_if("r2"), fwd_if("r3"));
    let g1 = Ipv4Addr::new(239, 1, 1, 1);
    let g2 = Ipv4Addr::new(239, 1, 1, 2);
    let s = Ipv4Addr::new(10, 0, 1, 1);

    let mfib = Arc::new(Mfib::new());
    let mut t = Table::new();
    t.insert(Route::new(
        s,
        g1,
        r0.ifindex,
        vec![Oif::new(r1.ifindex, true), Oif::new(r2.ifindex, true)],
    ));
    mfib.publish(t);

    // Rings and sockets are made inside ns F; the thread is started from here, outside it.
    let ifs = vec![r0.clone(), r1.clone(), r2.clone(), r3.clone()];
    let ports = run_in(lab.name("f"), move || {
        Ports::open(&ifs, &FwdConfig::default())
    })
    .unwrap()
    .unwrap();
    let fwd = Forwarder::spawn(ports, mfib.clone(), FwdConfig::default()).unwrap();

    let rx1 = receiver(&lab, "d1", "d1");
    let rx2 = receiver(&lab, "d2", "d2");
    let tx = sender(&lab, "s", "s0", 8);
    let wait = Duration::from_secs(3);
    let quiet = Duration::from_millis(300);

    // 1. (S,G) to both oifs: TTL 8 -> 7, checksum valid, source MAC of the oif.
    send(&tx, g1, 20, 1);
    let (c1, c2) = (collect(&rx1, g1, 20, wait), collect(&rx2, g1, 20, wait));
    assert_eq!((c1.len(), c2.len()), (20, 20), "{:?}", fwd.counters());
    c1.iter().for_each(|f| check_copy(f, 7, r1.mac, g1, 1));
    c2.iter().for_each(|f| check_copy(f, 7, r2.mac, g1, 1));
    assert!(collect(&rx1, g1, 1, quiet).is_empty(), "no extra copies");

    // 2. The gate: r2 blocked, r1 still served; the route's counters go on.
    mfib.update(|t| t.get_mut(s, g1).unwrap().set_forwarding(r2.ifindex, false));
    send(&tx, g1, 20, 2);
    assert_eq!(collect(&rx1, g1, 20, wait).len(), 20);
    assert!(
        collect(&rx2, g1, 1, quiet).is_empty(),
        "a gated oif gets nothing"
    );
    let counters = mfib.snapshot().get(s, g1).unwrap().counters.clone();
    assert_eq!(counters.get(), (40, 40 * 36));

    // 3. (*,G) fallback for g2; g1 now has no route at all.
    let mut t = Table::new();
    t.insert(Route::new(
        Ipv4Addr::UNSPECIFIED,
        g2,
        r0.ifindex,
        vec![Oif::new(r1.ifindex, true), Oif::new(r2.ifindex, true)],
    ));
    mfib.publish(t);
    send(&tx, g2, 20, 3);
    let (c1, c2) = (collect(&rx1, g2, 20, wait), collect(&rx2, g2, 20, wait));
    assert_eq!((c1.len(), c2.len()), (20, 20));
    c1.iter().for_each(|f| check_copy(f, 7, r1.mac, g2, 3));
    c2.iter().for_each(|f| check_copy(f, 7, r2.mac, g2, 3));
    send(&tx, g1, 10, 4);
    assert!(wait_for(wait, || fwd.counters().no_route == 10));

    // 4. RPF: g2 arriving on r3 instead of r0 is dropped.
    let tx3 = sender(&lab, "s", "s3", 8);
    send(&tx3, g2, 10, 5);
    assert!(wait_for(wait, || fwd.counters().rpf_fail == 10));

    // 5. TTL 1 is not forwarded.
    let tx_ttl1 = sender(&lab, "s", "s0", 1);
    send(&tx_ttl1, g2, 10, 6);
    assert!(wait_for(wait, || fwd.counters().ttl_expired == 10));

    // 6. Link-local multicast never reaches the forwarder (the ring's filter).
    let before = fwd.counters().received;
    send(&tx, Ipv4Addr::new(224, 0, 0, 99), 10, 7);
    std::thread::sleep(quiet);
    assert_eq!(fwd.counters().received, before);
    assert!(collect(&rx1, g2, 1, quiet).is_empty());
    assert!(collect(&rx2, g2, 1, quiet).is_empty());

    let st = fwd.stop();
    assert_eq!(st.received, 20 + 20 + 20 + 10 + 10 + 10, "{st:?}");
    assert_eq!(st.forwarded, 40 + 20 + 40, "{st:?}");
    assert_eq!(
        (st.tx_errors, st.ignored, st.malformed, st.ring_drops),
        (0, 0, 0, 0),
        "{st:?}"
    );
    assert_eq!(
        mfib.snapshot()
            .get(Ipv4Addr::UNSPECIFIED, g2)
            .unwrap()
            .counters
            .get()
            .0,
        20
    );
}

/// Replacing the forwarder (a commit that adds an interface to multicast) hands over at an
/// instant of arrival while the stream flows: the receiver misses nothing and gets nothing
/// twice, although the new rings take tens of milliseconds to open.
#[test]
fn a_relaunch_hands_over_without_loss_or_duplicates() {
    if !require() {
        return;
    }
    let lab = topology("fwdre");
    let fwd_if = fwd_ifs(&lab, "f");
    let (r0, r1, r2) = (fwd_if("r0"), fwd_if("r1"), fwd_if("r2"));
    let g = Ipv4Addr::new(239, 1, 1, 7);
    let mfib = Arc::new(Mfib::new());
    let mut t = Table::new();
    t.insert(Route::new(
        Ipv4Addr::new(10, 0, 1, 1),
        g,
        r0.ifindex,
        vec![Oif::new(r1.ifindex, true)],
    ));
    mfib.publish(t);
    let launch = |ifs: Vec<FwdIf>, after: Option<Forwarder>| {
        let mfib = mfib.clone();
        // The thread opens its rings in the namespace of the thread that starts it.
        run_in(lab.name("f"), move || {
            Forwarder::launch(ifs, mfib, FwdConfig::default(), None, after)
        })
        .unwrap()
        .unwrap()
    };
    let first = launch(vec![r0.clone(), r1.clone()], None);
    let rx = receiver(&lab, "d1", "d1");
    let tx = sender(&lab, "s", "s0", 8);
    // Until the first forwarder serves, probes.
    assert!(
        wait_for(Duration::from_secs(5), || {
            send(&tx, g, 1, 0);
            !collect(&rx, g, 1, Duration::from_millis(20)).is_empty()
        }),
        "the first forwarder never forwarded"
    );
    while !collect(&rx, g, 1, Duration::from_millis(100)).is_empty() {}

    // 3000 numbered packets, one every 100 us; the forwarder is replaced 100 ms in.
    const N: u32 = 3000;
    let sending = std::thread::spawn(move || {
        for i in 0..N {
            let mut payload = [9u8; 8];
            payload[1..5].copy_from_slice(&i.to_be_bytes());
            tx.send_to(&payload, SocketAddrV4::new(g, PORT)).unwrap();
            std::thread::sleep(Duration::from_micros(100));
        }
    });
    let replacing = {
        let (r0, r1, r2) = (r0.clone(), r1.clone(), r2.clone());
        let launch = &launch;
        std::thread::scope(|sc| {
            let h = sc.spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                launch(vec![r0, r1, r2], Some(first))
            });
            let got = collect(&rx, g, N as usize + 10, Duration::from_secs(5));
            (h.join().unwrap(), got)
        })
    };
    sending.join().unwrap();
    let (second, got) = replacing;
    let mut seqs: Vec<u32> = got
        .iter()
        .filter(|f| f[42] == 9)
        .map(|f| u32::from_be_bytes([f[43], f[44], f[45], f[46]]))
        .collect();
    let copies = seqs.len();
    seqs.sort_unstable();
    seqs.dedup();
    let dups = copies - seqs.len();
    let missing: Vec<u32> = (0..N).filter(|i| seqs.binary_search(i).is_err()).collect();
    assert!(
        missing.is_empty() && dups == 0,
        "{} missing (first {:?}), {dups} duplicated; {:?}",
        missing.len(),
        &missing[..missing.len().min(10)],
        second.counters()
    );
    assert!(
        second.counters().forwarded > 0,
        "the new forwarder took over"
    );
}
