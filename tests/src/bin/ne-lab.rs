//! `ne-lab`: the two-device lab as a program.
//!
//! - `ne-lab bench-failover [--trials N] [--baseline N]`: kill -9 agent A N times and measure,
//!   on the wire (a packet socket on A's side of the interconnect), how long B takes to send
//!   BFD Down and its first VRRP advertisement as master; the baseline is the same kill with
//!   B's BFD tracking removed (plain VRRP master-down timer).
//! - `ne-lab bench-bfd-load [--seconds S]`: the seed lab with both cores busy (a CPU hog in
//!   each device namespace) for S seconds; counts BFD flaps.
//! - `ne-lab bench-bfd-scale [--sessions N] [--seconds S]`: N BFD sessions at 100 ms x 3 between
//!   the two agents; counts flaps and prints the agents' CPU use.
//! - `ne-lab bench-reconcile [--commits N] [--routes R (--link-flaps F | --route-churn C [--churn-seconds S]) [--no-flow]]`: the longest silence in
//!   A's BFD transmissions (on the wire, seen from B's side) while A takes N commits that
//!   restart its multicast forwarding plane, each followed by `<get>`s, against the same time
//!   with A idle. With `--routes`, A's namespace first gets R static routes, and the busy part
//!   is F up/down flaps of a spare veth instead, with a multicast flow from a source A finds
//!   through that table (each flap makes A read the table again); `--no-flow` leaves the flow
//!   out, so A never reads the table: what the flaps cost by themselves. `--route-churn C`
//!   replaces the flaps with C route changes per second for S seconds (20), a BGP-like churn
//!   of the table A keeps a copy of (each change moves a route to the other next hop).
//!
//! - `ne-lab bench-channels [--groups G] [--sources S] [--pps P] [--window-pps W] [--trials N]
//!   [--churn R [--churn-seconds S]]`: a channel line-up of G groups from S sources on two
//!   receivers' LANs; memberships on both devices, per-group receiver gaps around kill -9 of
//!   the master against a single 1000 packets/s group in the same kills, and membership churn
//!   at R joins/leaves per second while BFD 10 ms x 3 runs (see `channels.rs`).
//!
//! - `ne-lab bench-saturation [--seconds S] [--bypass on|off|both] [--generator ring|ring-rt|sockets] [--batch B] [--lans N] [--rps]`:
//!   BFD 10 ms x 3, VRRP, IGMP and PIM between the two agents while a flood saturates their
//!   forwarders (see `saturation.rs`).
//!
//! Needs root (network namespaces). Run the release build for figures:
//! `cargo build --release -p agent -p ne-lab && sudo target/release/ne-lab bench-failover`.

use std::net::Ipv4Addr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dataplane::sock::PacketSocket;
use ne_lab::lab::{
    analyse, bfd_state, leaf_after, pim_sm_edit, unavailable, vrrp_state, wait_for, Lab, Receiver,
    Sender,
};
use ne_lab::netconf::Blocking;

#[path = "ne-lab/channels.rs"]
mod channels;
#[path = "ne-lab/saturation.rs"]
mod saturation;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(why) = unavailable() {
        eprintln!("ne-lab: {why}");
        std::process::exit(2);
    }
    let flag = |name: &str, default: u64| -> u64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let r = match args.first().map(String::as_str) {
        Some("bench-failover") => bench_failover(flag("--trials", 50), flag("--baseline", 10)),
        Some("bench-bfd-load") => bench_bfd_load(flag("--seconds", 600)),
        Some("bench-bfd-scale") => bench_bfd_scale(flag("--sessions", 1000), flag("--seconds", 60)),
        Some("bench-switchover") => bench_switchover(flag("--trials", 20)),
        Some("demo") => demo(),
        Some("bench-saturation") => saturation::bench(
            flag("--seconds", 30),
            match args
                .iter()
                .position(|a| a == "--bypass")
                .and_then(|i| args.get(i + 1))
                .map(String::as_str)
            {
                Some("on") => &[true],
                Some("off") => &[false],
                _ => &[true, false],
            },
            match args
                .iter()
                .position(|a| a == "--generator")
                .and_then(|i| args.get(i + 1))
                .map(String::as_str)
            {
                Some("sockets") => saturation::Generator::Sockets,
                generator => saturation::Generator::Ring {
                    realtime: generator == Some("ring-rt"),
                    batch: flag("--batch", 1024),
                },
            },
            flag("--lans", 1) as usize,
            args.iter().any(|a| a == "--rps"),
        ),
        Some("bench-igmp") => bench_igmp(flag("--joins", 10_000), flag("--rate", 5000)),
        Some("bench-channels") => channels::bench(&channels::Options {
            groups: flag("--groups", 1000) as u32,
            sources: flag("--sources", 10) as u32,
            pps: flag("--pps", 1000),
            window_pps: flag("--window-pps", 20_000),
            trials: flag("--trials", 5),
            churn: flag("--churn", 0),
            churn_seconds: flag("--churn-seconds", 10),
        }),
        Some("bench-reconcile") => bench_reconcile(&Reconcile {
            commits: flag("--commits", 100),
            routes: flag("--routes", 0),
            link_flaps: flag("--link-flaps", 0),
            route_churn: flag("--route-churn", 0),
            churn_seconds: flag("--churn-seconds", 20),
            flow_wanted: !args.iter().any(|a| a == "--no-flow"),
        }),
        _ => {
            eprintln!(
                "usage: ne-lab demo\n       \
                 ne-lab bench-switchover [--trials N]\n       \
                 ne-lab bench-igmp [--joins N] [--rate R]\n       \
                 ne-lab bench-channels [--groups G] [--sources S] [--pps P] [--window-pps W] [--trials N] [--churn R [--churn-seconds S]]\n       \
                 ne-lab bench-failover [--trials N] [--baseline N]\n       \
                 ne-lab bench-bfd-load [--seconds S]\n       \
                 ne-lab bench-saturation [--seconds S] [--bypass on|off|both] [--generator ring|ring-rt|sockets] [--batch B] [--lans N] [--rps]\n       \
                 ne-lab bench-bfd-scale [--sessions N] [--seconds S]\n       \
                 ne-lab bench-reconcile [--commits N] [--routes R (--link-flaps F | --route-churn C [--churn-seconds S]) [--no-flow]]"
            );
            std::process::exit(2);
        }
    };
    if let Err(e) = r {
        eprintln!("ne-lab: {e}");
        std::process::exit(1);
    }
}

fn steady(ca: &mut Blocking, cb: &mut Blocking) -> Result<(), String> {
    ne_lab::lab::steady(ca, cb, Duration::from_secs(60))
        .then_some(())
        .ok_or_else(|| "the lab did not reach its steady state".into())
}

/// A packet socket on `ifname` inside namespace `ns`, receiving IPv4 frames.
fn capture(ns: &str, ifname: &str) -> Result<PacketSocket, String> {
    let name = ifname.to_string();
    dataplane::netns::run_in(ns, move || {
        let idx = dataplane::sock::ifindex(&name).ok_or("no such interface")?;
        PacketSocket::open(idx, Some(0x0800)).map_err(|e| e.to_string())
    })
    .map_err(|e| e.to_string())?
    .map_err(|e: String| format!("capture on {ifname}: {e}"))
}

/// An Ethernet frame's IPv4 source, protocol and payload (at least 8 bytes: a UDP header or
/// the start of a VRRP advert), or `None` for anything else.
fn ipv4(frame: &[u8]) -> Option<(Ipv4Addr, u8, &[u8])> {
    if frame.len() < 34 || frame[12..14] != [0x08, 0x00] {
        return None;
    }
    let ip = &frame[14..];
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    if ihl < 20 || ip.len() < ihl + 8 {
        return None;
    }
    Some((
        Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]),
        ip[9],
        &ip[ihl..],
    ))
}

/// What B sent after the kill, as seen on the wire.
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    bfd_down: Option<Duration>,
    master_advert: Option<Duration>,
}

/// Watch frames from B (10.0.0.2) until its first VRRP advert with a priority above 120 (or
/// any advert, when `any_advert`: the baseline has no tracking) and its first BFD Down.
fn watch(sock: &PacketSocket, t0: Instant, limit: Duration, any_advert: bool) -> Seen {
    let mut s = Seen::default();
    let mut buf = vec![0u8; 2048];
    let b = Ipv4Addr::new(10, 0, 0, 2);
    while t0.elapsed() < limit {
        let mut ready = Vec::new();
        let _ = dataplane::poll::wait_readable(
            &[std::os::fd::AsRawFd::as_raw_fd(sock)],
            &mut ready,
            Duration::from_millis(5),
        );
        while let Ok(Some(n)) = sock.recv(&mut buf) {
            let at = t0.elapsed();
            let Some((src, proto, l4)) = ipv4(&buf[..n]) else {
                continue;
            };
            if src != b {
                continue;
            }
            match proto {
                112 if s.master_advert.is_none() && (any_advert || l4[2] > 120) => {
                    s.master_advert = Some(at)
                }
                17 if s.bfd_down.is_none() && l4.len() >= 8 + 24 => {
                    let dport = u16::from_be_bytes([l4[2], l4[3]]);
                    let state = l4[8 + 1] >> 6;
                    if dport == 3784 && state == 1 {
                        s.bfd_down = Some(at);
                    }
                }
                _ => {}
            }
        }
        if s.master_advert.is_some() && (s.bfd_down.is_some() || any_advert) {
            break;
        }
    }
    s
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((p / 100.0) * (v.len() as f64 - 1.0)).round() as usize;
    v[i.min(v.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn trials(
    lab: &mut Lab,
    cb: &mut Blocking,
    n: u64,
    baseline: bool,
) -> Result<(Vec<f64>, Vec<f64>), String> {
    let (mut det, mut take) = (Vec::new(), Vec::new());
    for i in 0..n {
        let mut ca = lab.a.connect().map_err(|e| e.to_string())?;
        if baseline {
            let ok = wait_for(Duration::from_secs(60), || {
                vrrp_state(&mut ca, "a-ic", 1).as_deref() == Ok("master")
                    && vrrp_state(cb, "b-ic", 1).as_deref() == Ok("backup")
            });
            if !ok {
                return Err("no steady state".into());
            }
        } else {
            steady(&mut ca, cb)?;
        }
        drop(ca);
        let sock = capture(&lab.ns("a"), "a-ic")?;
        // Let the capture start clean.
        while let Ok(Some(_)) = sock.recv(&mut [0u8; 2048]) {}
        let t0 = Instant::now();
        // Watch from the kill on: waiting for A's exit first would date B's packets by when
        // the exit was done, not when they crossed the wire.
        lab.a.kill9_nowait();
        let seen = watch(&sock, t0, Duration::from_secs(5), baseline);
        lab.a.kill9();
        let Some(t) = seen.master_advert else {
            return Err(format!("trial {i}: no advert from B as master within 5 s"));
        };
        take.push(ms(t));
        if let Some(d) = seen.bfd_down {
            det.push(ms(d));
        }
        eprintln!(
            "trial {i:3}: BFD down {:>7} ms, B master advert {:7.1} ms",
            seen.bfd_down
                .map_or("-".to_string(), |d| format!("{:.1}", ms(d))),
            ms(t)
        );
        lab.a.start()?;
    }
    Ok((det, take))
}

fn bench_failover(n: u64, baseline_n: u64) -> Result<(), String> {
    let (mut lab, mut ca, mut cb) = Lab::seed()?;
    steady(&mut ca, &mut cb)?;
    drop(ca);
    eprintln!("== seed configuration (BFD 10 ms x 3, B tracks BFD +40): {n} kills of agent A");
    let (mut det, mut take) = trials(&mut lab, &mut cb, n, false)?;
    let mut base = Vec::new();
    if baseline_n > 0 {
        eprintln!(
            "== baseline: B without BFD tracking (VRRP master-down timer only): {baseline_n} kills"
        );
        cb.edit_running(
            "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>b-ic</name>\
             <vrrp xmlns=\"urn:ne-agent:yang:ne-vrrp\"><group><vrid>1</vrid><track>\
             <bfd-session xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\" nc:operation=\"remove\">\
             <session>to-a</session></bfd-session></track></group></vrrp></interface></interfaces>",
        )
        .map_err(|e| e.to_string())?;
        base = trials(&mut lab, &mut cb, baseline_n, true)?.1;
    }
    println!(
        "failover, {} trials (kill -9 of A at t=0, times on the wire at A's side of a-ic)",
        take.len()
    );
    println!(
        "  BFD detection (B sends Down):      p50 {:6.1} ms  p99 {:6.1} ms  max {:6.1} ms  (target <= 40 ms p99)",
        percentile(&mut det, 50.0),
        percentile(&mut det, 99.0),
        percentile(&mut det, 100.0)
    );
    println!(
        "  mVRRP takeover (B's first advert):  p50 {:6.1} ms  p99 {:6.1} ms  max {:6.1} ms  (target <= 50 ms p99)",
        percentile(&mut take, 50.0),
        percentile(&mut take, 99.0),
        percentile(&mut take, 100.0)
    );
    if !base.is_empty() {
        let b50 = percentile(&mut base, 50.0);
        println!(
            "  baseline, plain VRRP (100 ms adverts, master-down timer), {} trials: p50 {:6.1} ms  p99 {:6.1} ms",
            base.len(),
            b50,
            percentile(&mut base, 99.0)
        );
        println!(
            "  ratio baseline/ours at p50: {:.1}x",
            b50 / percentile(&mut take, 50.0)
        );
    }
    Ok(())
}

/// Busy loops in a namespace, one per core.
struct Hog(Vec<Child>);

impl Hog {
    fn start(lab: &Lab, role: &str, n: usize) -> Result<Hog, String> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(
                Command::new("ip")
                    .args([
                        "netns",
                        "exec",
                        &lab.ns(role),
                        "sh",
                        "-c",
                        "while :; do :; done",
                    ])
                    .stdout(Stdio::null())
                    .spawn()
                    .map_err(|e| e.to_string())?,
            );
        }
        Ok(Hog(v))
    }
}

impl Drop for Hog {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn up_transitions(c: &mut Blocking) -> Result<Vec<u64>, String> {
    let r = c
        .get(Some("<bfd xmlns=\"urn:ne-agent:yang:ne-bfd\"/>"))
        .map_err(|e| e.to_string())?;
    Ok(r.split("<up-transitions>")
        .skip(1)
        .filter_map(|s| s.split('<').next()?.parse().ok())
        .collect())
}

fn bench_bfd_load(seconds: u64) -> Result<(), String> {
    let (lab, mut ca, mut cb) = Lab::seed()?;
    steady(&mut ca, &mut cb)?;
    let before = (up_transitions(&mut ca)?, up_transitions(&mut cb)?);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let _hog_a = Hog::start(&lab, "a", cores)?;
    let _hog_b = Hog::start(&lab, "b", cores)?;
    eprintln!(
        "BFD 10 ms x 3 for {seconds} s with {} busy loops in the device namespaces",
        2 * cores
    );
    let t0 = Instant::now();
    let mut downs = 0u64;
    while t0.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_secs(5));
        if bfd_state(&mut ca, "to-b").as_deref() != Ok("up") {
            downs += 1;
        }
    }
    let after = (up_transitions(&mut ca)?, up_transitions(&mut cb)?);
    let flaps_a = after.0.iter().sum::<u64>() - before.0.iter().sum::<u64>();
    let flaps_b = after.1.iter().sum::<u64>() - before.1.iter().sum::<u64>();
    println!(
        "BFD 10 ms x 3 under CPU load, {seconds} s: flaps (extra up-transitions) A {flaps_a}, B {flaps_b}; samples not up {downs}"
    );
    Ok(())
}

/// Arrival times of A's BFD Control packets (from 10.0.0.1 to port 3784) on B's interconnect
/// port, recorded by a thread until `stop`.
fn bfd_arrivals(
    lab: &Lab,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Result<std::thread::JoinHandle<Vec<Instant>>, String> {
    use std::sync::atomic::Ordering;
    let sock = capture(&lab.ns("b"), "b-ic")?;
    Ok(std::thread::spawn(move || {
        let a = Ipv4Addr::new(10, 0, 0, 1);
        let mut seen = Vec::new();
        let mut buf = vec![0u8; 2048];
        let mut ready = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let _ = dataplane::poll::wait_readable(
                &[std::os::fd::AsRawFd::as_raw_fd(&sock)],
                &mut ready,
                Duration::from_millis(5),
            );
            while let Ok(Some(n)) = sock.recv(&mut buf) {
                let at = Instant::now();
                if let Some((src, 17, udp)) = ipv4(&buf[..n]) {
                    if src == a && u16::from_be_bytes([udp[2], udp[3]]) == 3784 {
                        seen.push(at);
                    }
                }
            }
        }
        seen
    }))
}

/// Gaps between consecutive arrivals, in ms.
fn gaps(at: &[Instant]) -> Vec<f64> {
    at.windows(2).map(|w| ms(w[1] - w[0])).collect()
}

/// `n` host routes in 10.128.0.0/9 via B in ns a, added by one `ip -batch`.
fn add_routes(lab: &Lab, n: u64) -> Result<(), String> {
    let path = std::env::temp_dir().join(format!("ne-lab-routes-{}", std::process::id()));
    let mut text = String::with_capacity(n as usize * 48);
    for i in 0..n {
        let ip = Ipv4Addr::from(0x0a80_0000u32 + i as u32);
        text.push_str(&format!("route add {ip}/32 via 10.0.0.2 dev a-ic\n"));
    }
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    let r = lab.ip("a", &["-batch", &path.to_string_lossy()]);
    let _ = std::fs::remove_file(&path);
    r
}

/// `ne-lab bench-reconcile`'s options.
struct Reconcile {
    commits: u64,
    /// Host routes in A's namespace (0: none, and the busy phase is commits).
    routes: u64,
    link_flaps: u64,
    /// Route changes per second for `churn_seconds` (in place of link flaps).
    route_churn: u64,
    churn_seconds: u64,
    flow_wanted: bool,
}

/// BGP-like churn in A's table for `seconds`: every 100 ms one `ip -batch` replaces the next
/// `rate / 10` of [`add_routes`]' routes, sweep after sweep, each sweep moving them to the
/// other next hop (B on the interconnect, B on the uplink), so every line is a route change
/// the kernel announces. Returns the changes made (fewer than asked when `ip` falls behind).
fn churn_routes(lab: &Lab, routes: u64, rate: u64, seconds: u64) -> Result<u64, String> {
    let path = std::env::temp_dir().join(format!("ne-lab-churn-{}", std::process::id()));
    let per_tick = (rate / 10).max(1);
    let t0 = Instant::now();
    let mut done: u64 = 0;
    let mut tick: u32 = 0;
    while t0.elapsed() < Duration::from_secs(seconds) {
        let mut text = String::with_capacity(per_tick as usize * 56);
        for _ in 0..per_tick {
            let i = done % routes;
            let via = if (done / routes) % 2 == 0 {
                "10.1.0.2 dev a-up"
            } else {
                "10.0.0.2 dev a-ic"
            };
            let ip = Ipv4Addr::from(0x0a80_0000u32 + i as u32);
            text.push_str(&format!("route replace {ip}/32 via {via}\n"));
            done += 1;
        }
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        lab.ip("a", &["-batch", &path.to_string_lossy()])?;
        tick += 1;
        let due = t0 + Duration::from_millis(100) * tick;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let _ = std::fs::remove_file(&path);
    Ok(done)
}

fn bench_reconcile(opts: &Reconcile) -> Result<(), String> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let &Reconcile {
        commits,
        routes,
        link_flaps,
        route_churn,
        churn_seconds,
        flow_wanted,
    } = opts;
    let (lab, mut ca, mut cb) = Lab::seed()?;
    steady(&mut ca, &mut cb)?;
    if routes > 0 {
        let t = Instant::now();
        add_routes(&lab, routes)?;
        println!(
            "{routes} routes added in A's namespace in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        lab.ip(
            "a",
            &[
                "link",
                "add",
                "a-dummy",
                "type",
                "veth",
                "peer",
                "name",
                "a-dummy-p",
            ],
        )?;
        lab.link("a", "a-dummy-p", true)?;
        lab.ip("a", &["addr", "add", "10.99.0.1/24", "dev", "a-dummy"])?;
        std::thread::sleep(Duration::from_secs(2));
        steady(&mut ca, &mut cb)?;
    }
    // A multicast flow from a source that is not on a connected subnet (10.9.0.10 on the
    // sender's port, routed via 10.1.0.10), so A looks it up in its routing table.
    let mut flow = None;
    if routes > 0 && flow_wanted {
        lab.ip("src", &["addr", "add", "10.9.0.10/24", "dev", "src0"])?;
        for (dev, up) in [("a", "a-up"), ("b", "b-up")] {
            lab.ip(
                dev,
                &["route", "add", "10.9.0.0/24", "via", "10.1.0.10", "dev", up],
            )?;
        }
        let rcv = Receiver::start(&lab)?;
        let src = Sender::start_from(&lab, Ipv4Addr::new(10, 9, 0, 10), 100)?;
        if !wait_for(Duration::from_secs(20), || rcv.count() > 50) {
            return Err("no multicast at the receiver".into());
        }
        flow = Some((rcv, src));
    }
    let before = (up_transitions(&mut ca)?, up_transitions(&mut cb)?);
    // Busy: every commit adds a-ic to the multicast interfaces or takes it out again (the
    // forwarder's rings close and reopen, a control socket opens or closes), then 10 <get>s.
    let stop = Arc::new(AtomicBool::new(false));
    let capture = bfd_arrivals(&lab, Arc::clone(&stop))?;
    let a_pid = lab.a.pid().ok_or("agent A is not running")?;
    let cpu0 = ne_lab::lab::thread_ticks(a_pid);
    let t0 = Instant::now();
    let what = if routes > 0 && route_churn > 0 {
        let done = churn_routes(&lab, routes, route_churn, churn_seconds)?;
        format!(
            "{:.0} route changes/s, {routes} routes",
            done as f64 / t0.elapsed().as_secs_f64()
        )
    } else if routes > 0 {
        for i in 0..link_flaps {
            lab.link("a", "a-dummy", i % 2 == 0)?;
            std::thread::sleep(Duration::from_millis(100));
        }
        format!("{link_flaps} link flaps, {routes} routes")
    } else {
        for i in 0..commits {
            ca.edit_running(&pim_sm_edit("a-ic", i % 2 == 0))
                .map_err(|e| e.to_string())?;
            for _ in 0..10 {
                ca.get(None).map_err(|e| e.to_string())?;
            }
        }
        format!("{commits} commits + {} <get>s", 10 * commits)
    };
    let busy_for = t0.elapsed();
    let cpu = ne_lab::lab::cpu_shares(
        &["protocols", "ne-rib"],
        &cpu0,
        &ne_lab::lab::thread_ticks(a_pid),
        busy_for.as_secs_f64(),
    );
    stop.store(true, Ordering::Relaxed);
    let mut busy = gaps(&capture.join().map_err(|_| "capture thread")?);
    // Idle, as long: the baseline.
    let stop = Arc::new(AtomicBool::new(false));
    let capture = bfd_arrivals(&lab, Arc::clone(&stop))?;
    std::thread::sleep(busy_for);
    stop.store(true, Ordering::Relaxed);
    let mut idle = gaps(&capture.join().map_err(|_| "capture thread")?);
    let after = (up_transitions(&mut ca)?, up_transitions(&mut cb)?);
    let flaps_a = after.0.iter().sum::<u64>() - before.0.iter().sum::<u64>();
    let flaps_b = after.1.iter().sum::<u64>() - before.1.iter().sum::<u64>();
    drop(flow);
    let line = |name: &str, v: &mut Vec<f64>| {
        let n = v.len();
        let max = v.iter().copied().fold(0.0, f64::max);
        println!(
            "  {name:<34} {n:>6} gaps: p50 {:5.1} ms p99 {:5.1} ms p99.9 {:5.1} ms max {:5.1} ms",
            percentile(v, 50.0),
            percentile(v, 99.0),
            percentile(v, 99.9),
            max
        );
        max
    };
    println!(
        "A's BFD transmissions (10 ms, detection time 30 ms) seen on B's port, {:.1} s each:",
        busy_for.as_secs_f64()
    );
    let busy_max = line(&what, &mut busy);
    let idle_max = line("idle (baseline)", &mut idle);
    println!(
        "  longest silence busy / idle: {:.2}; BFD flaps (extra up-transitions) A {flaps_a}, B {flaps_b}",
        busy_max / idle_max
    );
    println!("  A's threads while busy: {cpu}");
    Ok(())
}

fn cpu_ticks(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| ne_lab::lab::stat_ticks(&s).map(|(_, t)| t))
        .unwrap_or(0)
}

fn sessions_xml(n: u64, me: char) -> String {
    let mut x = String::from("<bfd xmlns=\"urn:ne-agent:yang:ne-bfd\">");
    for i in 0..n {
        let (l, r) = if me == 'a' {
            (100 + i, 5000 + i)
        } else {
            (5000 + i, 100 + i)
        };
        let peer = if me == 'a' { "10.0.0.2" } else { "10.0.0.1" };
        x.push_str(&format!(
            "<session><name>s{i}</name><peer-ip>{peer}</peer-ip><interface>{me}-ic</interface>\
             <local-discriminator>{l}</local-discriminator><remote-discriminator>{r}</remote-discriminator>\
             <min-tx-interval>100</min-tx-interval><min-rx-interval>100</min-rx-interval></session>"
        ));
    }
    x.push_str("</bfd>");
    x
}

fn bench_bfd_scale(n: u64, seconds: u64) -> Result<(), String> {
    let (lab, mut ca, mut cb) = Lab::seed()?;
    steady(&mut ca, &mut cb)?;
    let t = Instant::now();
    ca.edit_running(&sessions_xml(n, 'a'))
        .map_err(|e| e.to_string())?;
    cb.edit_running(&sessions_xml(n, 'b'))
        .map_err(|e| e.to_string())?;
    eprintln!(
        "{n} sessions configured on each agent in {:.0} ms",
        ms(t.elapsed())
    );
    let up = wait_for(Duration::from_secs(120), || {
        ca.get(Some("<bfd xmlns=\"urn:ne-agent:yang:ne-bfd\"/>"))
            .map(|r| r.matches("<state>up</state>").count() as u64 > n)
            .unwrap_or(false)
    });
    if !up {
        return Err("not every session came up within 120 s".into());
    }
    let before = (up_transitions(&mut ca)?, up_transitions(&mut cb)?);
    let (pa, pb) = (lab.a.pid(), lab.b.pid());
    let ticks0 = (pa.map_or(0, cpu_ticks), pb.map_or(0, cpu_ticks));
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    let el = t0.elapsed().as_secs_f64();
    let ticks1 = (pa.map_or(0, cpu_ticks), pb.map_or(0, cpu_ticks));
    let after = (up_transitions(&mut ca)?, up_transitions(&mut cb)?);
    let hz = 100.0;
    let cpu = |a: u64, b: u64| (b - a) as f64 / hz / el * 100.0;
    let flaps = after.0.iter().sum::<u64>() - before.0.iter().sum::<u64>()
        + after.1.iter().sum::<u64>()
        - before.1.iter().sum::<u64>();
    let r = ca
        .get(Some("<bfd xmlns=\"urn:ne-agent:yang:ne-bfd\"/>"))
        .map_err(|e| e.to_string())?;
    println!(
        "{n} BFD sessions at 100 ms x 3 per agent, {seconds} s: flaps {flaps}; sessions up on A {}; CPU agent A {:.1} %, agent B {:.1} % of one core",
        r.matches("<state>up</state>").count(),
        cpu(ticks0.0, ticks1.0),
        cpu(ticks0.1, ticks1.1)
    );
    let _ = leaf_after(&r, "<session>", "state");
    Ok(())
}

/// Seed lab with the stream flowing to the receiver through A.
fn stream_lab() -> Result<(Lab, Blocking, Blocking, Receiver, Sender), String> {
    let (lab, mut ca, mut cb) = Lab::seed()?;
    let mut steady = || {
        wait_for(Duration::from_secs(60), || {
            vrrp_state(&mut ca, "a-ic", 1).as_deref() == Ok("master")
                && vrrp_state(&mut cb, "b-ic", 1).as_deref() == Ok("backup")
                && bfd_state(&mut cb, "to-a").as_deref() == Ok("up")
        })
    };
    // Twice, past A's preemption hold (one IGMP max-response time, 11 s, after its start):
    // until then the agents, started and configured one after the other, may still swap.
    if !steady() {
        return Err("no steady state".into());
    }
    std::thread::sleep(Duration::from_secs(12));
    if !steady() {
        return Err("no steady state".into());
    }
    let rcv = Receiver::start(&lab)?;
    let src = Sender::start(&lab, 1000)?;
    if !wait_for(Duration::from_secs(30), || rcv.count() > 500) {
        return Err("the receiver gets nothing".into());
    }
    Ok((lab, ca, cb, rcv, src))
}

/// Let the stream run `ms` after a failure and report what the receiver saw since `from`.
fn window(rcv: &Receiver, from: u64, ms: u64) -> ne_lab::lab::Seen {
    std::thread::sleep(Duration::from_millis(ms));
    analyse(&rcv.received(), from + 1, rcv.last_seq())
}

fn bench_switchover(n: u64) -> Result<(), String> {
    let (mut lab, ca, mut cb, rcv, _src) = stream_lab()?;
    drop(ca);
    let (mut node, mut node_dup, mut rec, mut rec_dup, mut up, mut up_dup) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for i in 0..n {
        // Node failure.
        let from = rcv.last_seq();
        lab.a.kill9();
        let s = window(&rcv, from, 1500);
        node.push(s.longest_gap as f64);
        node_dup.push(s.duplicates as f64);
        // Recovery: A restarts, relearns IGMP, preempts back.
        lab.a.start()?;
        let mut ca = lab.a.connect().map_err(|e| e.to_string())?;
        let from = rcv.last_seq();
        if !wait_for(Duration::from_secs(60), || {
            vrrp_state(&mut ca, "a-ic", 1).as_deref() == Ok("master")
        }) {
            return Err("A did not take mastership back".into());
        }
        let r = window(&rcv, from, 1000);
        rec.push(r.longest_gap as f64);
        rec_dup.push(r.duplicates as f64);
        // Uplink failure: a-up loses carrier, link mode hands over; then it comes back.
        let from = rcv.last_seq();
        lab.link("sw-up", "up-a", false)?;
        let u = window(&rcv, from, 1000);
        up.push(u.longest_gap as f64);
        up_dup.push(u.duplicates as f64);
        lab.link("sw-up", "up-a", true)?;
        if !wait_for(Duration::from_secs(30), || {
            vrrp_state(&mut ca, "a-ic", 1).as_deref() == Ok("master")
                && vrrp_state(&mut cb, "b-ic", 1).as_deref() == Ok("backup")
        }) {
            return Err("A did not come back after the uplink".into());
        }
        std::thread::sleep(Duration::from_millis(500));
        eprintln!(
            "trial {i:2}: node failure gap {:>3} pkts dup {}, recovery gap {} dup {}, uplink failure gap {} dup {}",
            s.longest_gap, s.duplicates, r.longest_gap, r.duplicates, u.longest_gap, u.duplicates
        );
    }
    println!("switchover at the receiver, 1000 packets/s (1 packet = 1 ms), {n} trials each:");
    for (name, gap, dup) in [
        ("node failure (kill -9 A)", &mut node, &mut node_dup),
        ("uplink failure (a-up carrier lost)", &mut up, &mut up_dup),
        (
            "recovery (A restarts, preempts back)",
            &mut rec,
            &mut rec_dup,
        ),
    ] {
        println!(
            "  {name:38} gap p50 {:5.0} ms p99 {:5.0} ms max {:5.0} ms; duplicates p50 {:.0} max {:.0}",
            percentile(gap, 50.0),
            percentile(gap, 99.0),
            percentile(gap, 100.0),
            percentile(dup, 50.0),
            percentile(dup, 100.0)
        );
    }
    println!("  baseline (../shared/reference/anchors-measured.md, keepalived + smcroute, same topology): node failure gap median 336 ms");
    Ok(())
}

/// What the receiver saw in a window, in the demo's words (1 packet = 1 ms at 1000 packets/s).
fn seen(s: &ne_lab::lab::Seen) -> String {
    format!(
        "{} lost (longest gap {} ms), {} duplicated",
        s.lost, s.longest_gap, s.duplicates
    )
}

/// What the operator would see on `device` ("A" or "B"): `display vrrp brief` and `display
/// multicast routing-table` through the agent's CLI (an SSH exec request on the NETCONF port).
fn cli_displays(device: &str, agent: &ne_lab::lab::Agent) {
    // One login for both (an SSH key exchange costs the agent more than the displays).
    let mut login = agent.cli_login();
    for line in ["display vrrp brief", "display multicast routing-table"] {
        println!("    <{device}>{line}");
        match login
            .as_mut()
            .map_err(|e| e.clone())
            .and_then(|l| l.run(line))
        {
            Ok(text) => {
                for l in text.lines() {
                    println!("    {l}");
                }
            }
            Err(e) => println!("    (the CLI did not answer: {})", e.trim()),
        }
    }
}

fn demo() -> Result<(), String> {
    let t0 = Instant::now();
    let at = || format!("{:7.2} s", t0.elapsed().as_secs_f64());
    println!("{} building the lab (README.md, \"Configure the seed scenario\"): namespaces src, sw-up, a, b, sw-dn, rcv; agents A and B; configuring both over NETCONF with examples/seed/device-a.xml and device-b.xml", at());
    let (mut lab, mut ca, mut cb, rcv, _src) = stream_lab()?;
    let ra = ca
        .get(Some(
            "<multicast xmlns=\"urn:ne-agent:yang:ne-multicast\"/>",
        ))
        .map_err(|e| e.to_string())?;
    let rb = cb
        .get(Some(
            "<multicast xmlns=\"urn:ne-agent:yang:ne-multicast\"/>",
        ))
        .map_err(|e| e.to_string())?;
    println!(
        "{} A is mVRRP master, B backup; BFD up; the receiver joined 239.1.1.1 and gets 1000 packets/s from 10.1.0.10",
        at()
    );
    println!(
        "{}   A: (10.1.0.10, 239.1.1.1) a-dn {}; B: b-dn {}",
        at(),
        leaf_after(&ra, "<outgoing-interface>", "state").unwrap_or("?"),
        leaf_after(&rb, "<outgoing-interface>", "state").unwrap_or("?")
    );
    let from = rcv.last_seq();
    let s = window(&rcv, from, 2000);
    println!(
        "{}   2 s of steady state: {} packets received; {}",
        at(),
        s.received,
        seen(&s)
    );
    cli_displays("A", &lab.a);
    cli_displays("B", &lab.b);
    let from = rcv.last_seq();
    println!("{} kill -9 agent A", at());
    let k = Instant::now();
    lab.a.kill9();
    let mut became = None;
    wait_for(Duration::from_secs(10), || {
        let m = vrrp_state(&mut cb, "b-ic", 1).as_deref() == Ok("master");
        if m && became.is_none() {
            became = Some(k.elapsed());
        }
        m
    });
    let s = window(&rcv, from, 1500);
    println!(
        "{}   failover at the receiver: {} (the stream stopped for about {} ms: B's BFD detection time, 3 x 10 ms from A's last BFD packet, then B's gate opens)",
        at(),
        seen(&s),
        s.longest_gap
    );
    println!(
        "{}   (this program, polling B over NETCONF, saw B master {} ms after the kill: a slower clock than the stream's)",
        at(),
        became.map_or("?".to_string(), |d| format!("{:.0}", ms(d)))
    );
    cli_displays("B", &lab.b);
    println!(
        "{} restarting agent A; it comes back as backup and holds preemption for one IGMP max-response time (11 s) so it relearns the receiver first",
        at()
    );
    lab.a.start()?;
    let mut ca = lab.a.connect().map_err(|e| e.to_string())?;
    let from = rcv.last_seq();
    // What A goes through, as its `<get>` shows it.
    let (mut said_backup, mut said_bfd, mut said_route) = (false, false, false);
    wait_for(Duration::from_secs(60), || {
        let state = vrrp_state(&mut ca, "a-ic", 1).unwrap_or_default();
        if state == "backup" && !said_backup {
            said_backup = true;
            println!("{}   A is up: mVRRP backup", at());
        }
        if !said_bfd && bfd_state(&mut ca, "to-b").as_deref() == Ok("up") {
            said_bfd = true;
            println!("{}   A: BFD to B up", at());
        }
        if !said_route {
            let r = ca
                .get(Some(
                    "<multicast xmlns=\"urn:ne-agent:yang:ne-multicast\"/>",
                ))
                .unwrap_or_default();
            // The route comes with the first data; a-dn joins it once a report is heard.
            if leaf_after(&r, "<outgoing-interface>", "state") == Some("blocked-by-vrrp") {
                said_route = true;
                println!(
                    "{}   A relearned the receiver from its IGMP reports: (10.1.0.10, 239.1.1.1) a-dn blocked-by-vrrp (hot standby)",
                    at()
                );
                cli_displays("A", &lab.a);
            }
        }
        state == "master"
    });
    println!("{}   A preempted back: mVRRP master", at());
    let s = window(&rcv, from, 1000);
    println!(
        "{}   handover back to A at the receiver: {} (duplicates: packets that arrived while A's first advert was on its way)",
        at(),
        seen(&s)
    );
    cli_displays("A", &lab.a);
    cli_displays("B", &lab.b);
    let from = rcv.last_seq();
    println!(
        "{} uplink a-up loses carrier (monitor group 100 %, link mode)",
        at()
    );
    lab.link("sw-up", "up-a", false)?;
    let s = window(&rcv, from, 1500);
    println!(
        "{}   B is {}; at the receiver: {} (A advertised priority 0 at once, B took over on that advert)",
        at(),
        vrrp_state(&mut cb, "b-ic", 1).unwrap_or_default(),
        seen(&s)
    );
    cli_displays("A", &lab.a);
    cli_displays("B", &lab.b);
    println!("{} cleaning up (agents stopped, namespaces deleted)", at());
    Ok(())
}

/// An IGMPv2 membership report for `group` from the receiver, as a whole Ethernet frame
/// (IPv4 with Router Alert, TTL 1; RFC 2236).
fn igmp_report(src_mac: [u8; 6], group: std::net::Ipv4Addr) -> Vec<u8> {
    let csum = |b: &[u8]| dataplane::wire::internet(b, 0);
    let g = group.octets();
    let mut f = vec![0x01, 0x00, 0x5e, g[1] & 0x7f, g[2], g[3]];
    f.extend_from_slice(&src_mac);
    f.extend_from_slice(&[0x08, 0x00]);
    let mut ip = vec![0x46, 0xc0, 0, 32, 0, 0, 0, 0, 1, 2, 0, 0, 192, 168, 1, 100];
    ip.extend_from_slice(&g);
    ip.extend_from_slice(&[0x94, 0x04, 0, 0]);
    let c = csum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut igmp = vec![0x16, 100, 0, 0];
    igmp.extend_from_slice(&g);
    let c = csum(&igmp);
    igmp[2..4].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&igmp);
    f
}

fn group_count(c: &mut Blocking, ifname: &str) -> Result<usize, String> {
    let r = c
        .get(Some(&format!(
            "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>{ifname}</name>\
             <igmp xmlns=\"urn:ne-agent:yang:ne-multicast\"/></interface></interfaces>"
        )))
        .map_err(|e| e.to_string())?;
    Ok(r.matches("<group>").count())
}

fn bench_igmp(joins: u64, rate: u64) -> Result<(), String> {
    let (lab, mut ca, mut cb) = Lab::seed()?;
    steady(&mut ca, &mut cb)?;
    let sock = dataplane::netns::run_in(&lab.ns("rcv"), || {
        let idx = dataplane::sock::ifindex("rcv0").ok_or("no rcv0")?;
        PacketSocket::open(idx, None).map_err(|e| e.to_string())
    })
    .map_err(|e| e.to_string())??;
    let mac = [0x02, 0, 0, 0, 0, 0x64];
    let frames: Vec<Vec<u8>> = (0..joins)
        .map(|i| {
            let g = std::net::Ipv4Addr::new(239, 2, (i >> 8) as u8, i as u8);
            igmp_report(mac, g)
        })
        .collect();
    let before = (group_count(&mut ca, "a-dn")?, group_count(&mut cb, "b-dn")?);
    let period = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let t0 = Instant::now();
    let mut sent = 0u64;
    for (i, f) in frames.iter().enumerate() {
        // Paced in bursts of 10 (sleep granularity).
        if i % 10 == 0 {
            let due = t0 + period * i as u32;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        if sock.send(f).is_ok() {
            sent += 1;
        }
    }
    let took = t0.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(1));
    let after = (group_count(&mut ca, "a-dn")?, group_count(&mut cb, "b-dn")?);
    println!(
        "IGMPv2 joins for {joins} distinct groups, offered at {:.0}/s ({sent} sent in {took:.2} s):",
        sent as f64 / took
    );
    println!(
        "  A (querier) learned {} groups, B (non-querier) learned {} groups; lost {} / {}",
        after.0 - before.0,
        after.1 - before.1,
        sent as usize - (after.0 - before.0),
        sent as usize - (after.1 - before.1)
    );
    Ok(())
}
