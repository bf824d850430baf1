//! `register-bench`: how fast the designated router's register tunnel runs, against plain
//! forwarding of the same flow, in one invocation.
//!
//! ```text
//!   ns S: s0 ---- r0 :ns F (our forwarder): r1 10.0.2.1 ---- d1 10.0.2.2 :ns D
//! ```
//!
//! A sender thread writes 64-byte (S,G) frames flat out on an AF_PACKET socket in ns S for
//! each step. The forwarder in ns F has one route for the flow, either
//! - `native`: outgoing interface r1 (the baseline: one copy per packet onto a transmit
//!   queue, sent in batches), or
//! - `register`: no outgoing interface, a register tunnel to 10.0.2.2 (each packet
//!   encapsulated in a PIM Register and sent with one `sendto` on a raw socket, routed by the
//!   kernel to d1).
//!
//! Figures per step: what the sender offered, what the forwarder sent (FwdStats) and what
//! d1 received (its rx counter), in packets per second; then the ratio register / native
//! of the delivered rates (median over `--rounds N`, default 3; `--secs S` per step,
//! default 3). Needs root and iproute2. Release build:
//! `cargo build --release -p ne-lab --bin register-bench && target/release/register-bench`.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dataplane::forward::{Forwarder, FwdConfig, FwdIf, Ports};
use dataplane::mfib::{Mfib, Oif, Route, Table};
use dataplane::netlink::Handle;
use dataplane::netns::run_in;
use dataplane::sock::{self, PacketSocket};
use ne_lab::lab::{run, unavailable, Netns};

const SOURCE: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 1);
const GROUP: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 1);
const RP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);

fn ip(args: &[&str]) -> Result<(), String> {
    run("ip", args).map(drop)
}

fn rx_packets(ns: &str, name: &str) -> Result<u64, String> {
    let name = name.to_string();
    let links = run_in(ns, || Handle::open().and_then(|mut h| h.links()))
        .and_then(|r| r)
        .map_err(|e| e.to_string())?;
    links
        .iter()
        .find(|l| l.name == name)
        .map(|l| l.stats.rx_packets)
        .ok_or_else(|| format!("no {name} in {ns}"))
}

fn ifindex_in(ns: &str, name: &str) -> Result<u32, String> {
    let n = name.to_string();
    run_in(ns, move || sock::ifindex(&n))
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no {name} in {ns}"))
}

struct Topo {
    s: Netns,
    f: Netns,
    d: Netns,
}

impl Topo {
    fn build() -> Result<Topo, String> {
        let t = Topo {
            s: Netns::new("rbs")?,
            f: Netns::new("rbf")?,
            d: Netns::new("rbd")?,
        };
        for (a, na, b, nb) in [("s0", &t.s.0, "r0", &t.f.0), ("r1", &t.f.0, "d1", &t.d.0)] {
            ip(&[
                "link", "add", a, "netns", na, "type", "veth", "peer", "name", b, "netns", nb,
            ])?;
            ip(&["-n", na, "link", "set", a, "up"])?;
            ip(&["-n", nb, "link", "set", b, "up"])?;
        }
        ip(&["-n", &t.f.0, "addr", "add", "10.0.2.1/24", "dev", "r1"])?;
        ip(&["-n", &t.d.0, "addr", "add", "10.0.2.2/24", "dev", "d1"])?;
        Ok(t)
    }
}

/// A 64-byte frame (60 + FCS) of (S,G), TTL 16.
fn frame() -> Vec<u8> {
    dataplane::wire::ipv4_frame(
        [2, 0, 0, 0, 0, 1],
        [0x01, 0x00, 0x5e, 1, 1, 1],
        SOURCE,
        GROUP,
        16,
        17,
        &[],
        &[0u8; 26],
    )
}

struct Step {
    offered: f64,
    sent: f64,
    delivered: f64,
    /// CPU time of the forwarding thread per packet sent, microseconds.
    cpu_us: f64,
}

/// CPU time (user + system, seconds) of this process's forwarding threads (named `ne-fwd`).
/// The system time includes the sends: for a veth, the kernel's work up to the peer's
/// receive counter runs in the sending thread.
fn fwd_cpu_secs() -> f64 {
    let tick = 100.0; // USER_HZ
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    tasks
        .flatten()
        .filter_map(|t| {
            let comm = std::fs::read_to_string(t.path().join("comm")).ok()?;
            if comm.trim() != "ne-fwd" {
                return None;
            }
            let stat = std::fs::read_to_string(t.path().join("stat")).ok()?;
            // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
            let rest = &stat[stat.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            let u: f64 = f.get(11)?.parse().ok()?;
            let s: f64 = f.get(12)?.parse().ok()?;
            Some((u + s) / tick)
        })
        .sum()
}

fn step(t: &Topo, register: bool, secs: f64) -> Result<Step, String> {
    let r0 = ifindex_in(&t.f.0, "r0")?;
    let r1 = ifindex_in(&t.f.0, "r1")?;
    let s0 = ifindex_in(&t.s.0, "s0")?;
    let ifs: Vec<FwdIf> = [("r0", r0), ("r1", r1)]
        .into_iter()
        .enumerate()
        .map(|(i, (n, ifindex))| FwdIf {
            ifindex,
            name: n.into(),
            mac: [2, 0, 0, 0, 0xf0, i as u8],
        })
        .collect();
    let mfib = Arc::new(Mfib::new());
    let mut table = Table::new();
    let mut route = if register {
        Route::new(SOURCE, GROUP, r0, Vec::new())
    } else {
        Route::new(SOURCE, GROUP, r0, vec![Oif::new(r1, true)])
    };
    if register {
        route.register_to = Some(RP);
    }
    table.insert(route);
    mfib.publish(table);
    let cfg = FwdConfig::default();
    let ports = {
        let cfg = cfg.clone();
        run_in(&t.f.0, move || Ports::open(&ifs, &cfg))
            .and_then(|r| r)
            .map_err(|e| e.to_string())?
    };
    let fwd = Forwarder::spawn(ports, mfib, cfg).map_err(|e| e.to_string())?;
    let tx = run_in(&t.s.0, move || PacketSocket::open(s0, None))
        .and_then(|r| r)
        .map_err(|e| e.to_string())?;
    // Warm up (ARP toward the RP, rings).
    let f = frame();
    for _ in 0..100 {
        let _ = tx.send(&f);
    }
    std::thread::sleep(Duration::from_millis(300));
    let before_fwd = fwd.counters();
    let before_rx = rx_packets(&t.d.0, "d1")?;
    let cpu0 = fwd_cpu_secs();
    let stop = Arc::new(AtomicBool::new(false));
    let offered = Arc::new(AtomicU64::new(0));
    let sender = {
        let (stop, offered) = (Arc::clone(&stop), Arc::clone(&offered));
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                if tx.send(&f).is_ok() {
                    n += 1;
                }
            }
            offered.store(n, Ordering::Relaxed);
        })
    };
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    let _ = sender.join();
    let elapsed = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(300));
    let cpu = fwd_cpu_secs() - cpu0;
    let after = fwd.stop();
    let after_rx = rx_packets(&t.d.0, "d1")?;
    let sent = if register {
        after.registers_sent - before_fwd.registers_sent
    } else {
        after.forwarded - before_fwd.forwarded
    };
    Ok(Step {
        cpu_us: cpu * 1e6 / (sent.max(1) as f64),
        offered: offered.load(Ordering::Relaxed) as f64 / elapsed,
        sent: sent as f64 / elapsed,
        delivered: (after_rx - before_rx) as f64 / elapsed,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str, default: f64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let rounds = opt("--rounds", 3.0).max(1.0) as usize;
    let secs = opt("--secs", 3.0).max(0.5);
    if let Some(why) = unavailable() {
        eprintln!("register-bench: {why}");
        std::process::exit(2);
    }
    let t = match Topo::build() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("register-bench: topology: {e}");
            std::process::exit(1);
        }
    };
    println!("64-byte frames, sender flat out, {secs} s per step, {rounds} round(s); packets/s");
    println!(
        "{:<10} {:>12} {:>12} {:>12} {:>16}",
        "mode", "offered", "sent", "delivered", "fwd CPU us/pkt"
    );
    let (mut native, mut register) = (Vec::new(), Vec::new());
    let (mut native_cpu, mut register_cpu) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        for reg in [false, true] {
            match step(&t, reg, secs) {
                Ok(s) => {
                    println!(
                        "{:<10} {:>12.0} {:>12.0} {:>12.0} {:>16.2}",
                        if reg { "register" } else { "native" },
                        s.offered,
                        s.sent,
                        s.delivered,
                        s.cpu_us
                    );
                    if reg {
                        register.push(s.delivered);
                        register_cpu.push(s.cpu_us);
                    } else {
                        native.push(s.delivered);
                        native_cpu.push(s.cpu_us);
                    }
                }
                Err(e) => {
                    eprintln!("register-bench: step: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
    let (n, r) = (median(native), median(register));
    println!(
        "median delivered: native {n:.0}/s, register {r:.0}/s, register/native {:.2}",
        r / n
    );
    let (nc, rc) = (median(native_cpu), median(register_cpu));
    println!(
        "median forwarding-thread CPU per packet: native {nc:.2} us, register {rc:.2} us \
         (register/native {:.2}; one core at that cost: {:.0} Registers/s)",
        rc / nc,
        1e6 / rc
    );
}
