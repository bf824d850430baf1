//! `ne-lab bench-saturation [--seconds S] [--bypass on|off|both] [--generator G] [--batch B]
//! [--lans N] [--rps]`: issue 19 item 6.
//! The seed lab (BFD 10 ms x 3 between A and B on the interconnect, mVRRP, IGMP on the
//! receivers' LAN with a kernel member joined, PIM-SM on both LANs) with a flood of 60-byte
//! frames to the lab group from ns src, flat out, for S seconds: both forwarders take every
//! frame from their rings (A forwards, B's gate is closed). With `--lans N` the lab has N
//! receivers' LANs ([`Lab::seed_lans`]), a member on each, so A sends N copies of every frame:
//! the way to load the forwarder past what it can take, since no generator here outruns a
//! one-copy forwarder while leaving the machine its share. The members are [`Sink`]s (joined,
//! the frames dropped at their interface's tc ingress). Reports what the flood offered, what
//! A's ring on a-up took and dropped (drops: the forwarder is saturated) and what A forwarded
//! per LAN, BFD flaps (extra up-transitions on either side) and one-second samples where a
//! session was not up, VRRP master changes, and whether every IGMP membership and the PIM
//! neighbour survived. The agents inherit the environment (`NE_FAST_PATH=0`: the rings alone).
//! `--bypass` runs it with the agents' `kernel-bypass` on, off, or both (a fresh lab each).
//! `--generator ring` (the default) floods through a TPACKET transmit ring with qdisc bypass,
//! up to `--batch` frames per `send` (default 1,024; [`Flood::start_ring_batched`]); `ring-rt` the same from a thread at
//! SCHED_FIFO 30 pinned to cpu0, pausing 1 ms every 10 ms; `sockets` sends each frame with
//! its own `send` over 8 sockets, as before. `--rps` steers A's and B's upstream receive work
//! to cpu1 (RPS), off the real-time generator's cpu0: on veth that work (the fast path's
//! copies included) otherwise runs inside the generator's own send, as a NIC's receive queue
//! would not have it. Also reports the CPUs' input backlog drops.

use std::time::{Duration, Instant};

use ne_lab::lab::{
    bfd_state, bfd_up_transitions, cpu_shares, forwarded, lan_ifname, leaf_after, pim_state,
    ring_counters, thread_ticks, vrrp_state, wait_for, Flood, Lab, Sink,
};
use ne_lab::netconf::Blocking;

fn igmp_has_group(c: &mut Blocking, ifname: &str) -> bool {
    c.get(Some(&format!(
        "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>{ifname}</name>\
         <igmp xmlns=\"urn:ne-agent:yang:ne-multicast\"/></interface></interfaces>"
    )))
    .is_ok_and(|g| g.contains("<address>239.1.1.1</address>"))
}

fn pim_neighbour(c: &mut Blocking, ifname: &str, neighbour: &str) -> bool {
    pim_state(c, ifname).is_ok_and(|p| p.contains(neighbour))
}

fn master_transitions(c: &mut Blocking, ifname: &str) -> Result<u64, String> {
    let g = c
        .get(Some(&format!(
            "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>{ifname}</name>\
             <vrrp xmlns=\"urn:ne-agent:yang:ne-vrrp\"/></interface></interfaces>"
        )))
        .map_err(|e| e.to_string())?;
    leaf_after(&g, "<statistics>", "master-transitions")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no master-transitions in {g}"))
}

fn flaps(before: &[u64], after: &[u64]) -> u64 {
    after
        .iter()
        .sum::<u64>()
        .saturating_sub(before.iter().sum())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// `--rps`: the CPUs that take the routers' upstream receive work (cpu1; the real-time
/// generator is on cpu0).
const RPS_MASK: &str = "2";

/// How the flood is generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generator {
    /// A `send` per frame over 8 sockets ([`Flood::start`]).
    Sockets,
    /// A TX ring ([`Flood::start_ring_batched`]), at normal priority or at SCHED_FIFO 30 on
    /// cpu0, at most `batch` frames per `send`.
    Ring { realtime: bool, batch: u64 },
}

pub fn bench(
    seconds: u64,
    modes: &[bool],
    generator: Generator,
    lans: usize,
    rps: bool,
) -> Result<(), String> {
    for &bypass in modes {
        run(seconds, bypass, generator, lans, rps)?;
    }
    Ok(())
}

fn run(
    seconds: u64,
    bypass: bool,
    generator: Generator,
    lans: usize,
    rps: bool,
) -> Result<(), String> {
    let (lab, mut ca, mut cb) = Lab::seed_lans(lans)?;
    if rps {
        lab.steer_upstream_receive(RPS_MASK)?;
    }
    if !bypass {
        let off = "<multicast xmlns=\"urn:ne-agent:yang:ne-multicast\">\
                   <kernel-bypass>false</kernel-bypass></multicast>";
        ca.edit_running(off).map_err(|e| e.to_string())?;
        cb.edit_running(off).map_err(|e| e.to_string())?;
    }
    super::steady(&mut ca, &mut cb)?;
    let _members = Sink::on_every_lan(&lab)?;
    let memberships = |ca: &mut Blocking, cb: &mut Blocking| {
        (
            (1..=lans).all(|k| igmp_has_group(ca, &lan_ifname('a', k))),
            (1..=lans).all(|k| igmp_has_group(cb, &lan_ifname('b', k))),
        )
    };
    if !wait_for(Duration::from_secs(60), || {
        memberships(&mut ca, &mut cb) == (true, true)
            && pim_neighbour(&mut ca, "a-up", "10.1.0.2")
            && pim_neighbour(&mut cb, "b-up", "10.1.0.1")
    }) {
        return Err("no IGMP membership or PIM neighbour before the flood".into());
    }
    let ups = (
        bfd_up_transitions(&mut ca).map_err(|e| e.to_string())?,
        bfd_up_transitions(&mut cb).map_err(|e| e.to_string())?,
    );
    let b_masters = master_transitions(&mut cb, "b-ic")?;
    let fwd0 = forwarded(&mut ca).map_err(|e| e.to_string())?;
    let port0 = ring_counters(&mut ca, "a-up")?;
    let a_pid = lab.a.pid().ok_or("agent A is not running")?;
    let cpu0 = thread_ticks(a_pid);
    let load_before = load_average();
    let mut softnet = dataplane::pacing::SoftnetReader::new();
    let softnet0 = softnet.read();
    let t0 = Instant::now();
    let flood = match generator {
        Generator::Ring { realtime, batch } => Flood::start_ring_batched(&lab, realtime, batch)?,
        Generator::Sockets => Flood::start(&lab, None)?,
    };
    let mut not_up = 0u64;
    let mut samples = 0u64;
    while t0.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_secs(1));
        samples += 1;
        if bfd_state(&mut ca, "to-b").as_deref() != Ok("up")
            || bfd_state(&mut cb, "to-a").as_deref() != Ok("up")
        {
            not_up += 1;
        }
    }
    let fwd1 = forwarded(&mut ca).map_err(|e| e.to_string())?;
    let secs = t0.elapsed().as_secs_f64();
    let cpu1 = thread_ticks(a_pid);
    let port1 = ring_counters(&mut ca, "a-up")?;
    let softnet1 = softnet.read();
    let longest_send = flood.longest_send();
    let sent = flood.stop();
    let after = (
        bfd_up_transitions(&mut ca).map_err(|e| e.to_string())?,
        bfd_up_transitions(&mut cb).map_err(|e| e.to_string())?,
    );
    let masters = master_transitions(&mut cb, "b-ic")? - b_masters;
    let a_master = vrrp_state(&mut ca, "a-ic", 1).map_err(|e| e.to_string())? == "master";
    let igmp = memberships(&mut ca, &mut cb);
    let pim = (
        pim_neighbour(&mut ca, "a-up", "10.1.0.2"),
        pim_neighbour(&mut cb, "b-up", "10.1.0.1"),
    );
    let yes = |b: bool| if b { "kept" } else { "LOST" };
    let kpps = |n: u64| n as f64 / secs / 1e3;
    // The ring's `packets` count the frames it dropped too (PACKET_STATISTICS).
    let dropped = port1.1.saturating_sub(port0.1);
    let taken = port1.0.saturating_sub(port0.0).saturating_sub(dropped);
    println!(
        "bench-saturation, kernel-bypass {}{}{}, {lans} receivers' LAN(s): flood ({}) flat out \
         for {secs:.1} s from ns src (60-byte frames to 239.1.1.1), offered {:.1} kpps",
        if bypass { "on" } else { "off" },
        if std::env::var_os("NE_FAST_PATH").is_some_and(|v| v == "0") {
            ", NE_FAST_PATH=0 (rings only)"
        } else {
            ", fast path"
        },
        if rps {
            ", RPS of a-up and b-up to cpu1"
        } else {
            ""
        },
        match generator {
            Generator::Ring { realtime, batch } => format!(
                "TX ring, qdisc bypass, {batch} frames per send (longest send {:.1} ms){}",
                longest_send.as_secs_f64() * 1e3,
                if realtime {
                    ", SCHED_FIFO 30 on cpu0"
                } else {
                    ""
                }
            ),
            Generator::Sockets => "a send per frame".to_string(),
        },
        kpps(sent),
    );
    println!(
        "  A's ring on a-up: took {:.1} kpps, dropped {:.1} kpps ({:.1} % of what reached it); \
         A forwarded {:.1} kpps per LAN ({:.1} kpps of copies in all); A's threads: {}",
        kpps(taken),
        kpps(dropped),
        100.0 * dropped as f64 / (taken + dropped).max(1) as f64,
        kpps(fwd1.saturating_sub(fwd0)) / lans as f64,
        kpps(fwd1.saturating_sub(fwd0)),
        cpu_shares(&["ne-fwd", "protocols"], &cpu0, &cpu1, secs),
    );
    let backlog_drops: Vec<String> = softnet1
        .iter()
        .map(|s| {
            let before = softnet0
                .iter()
                .find(|b| b.cpu == s.cpu)
                .map_or(0, |b| b.dropped);
            format!("cpu{} {}", s.cpu, s.dropped.wrapping_sub(before))
        })
        .collect();
    println!(
        "  input backlog drops (/proc/net/softnet_stat): {}",
        backlog_drops.join(", ")
    );
    println!(
        "  BFD 10 ms x 3 A<->B: flaps A {}, B {}; 1 s samples with a session not up {not_up} of \
         {samples}",
        flaps(&ups.0, &after.0),
        flaps(&ups.1, &after.1)
    );
    println!(
        "  VRRP: B became master {masters} time(s); A master at the end: {a_master}; IGMP \
         memberships (all LANs) A {}, B {}; PIM neighbour A {}, B {}",
        yes(igmp.0),
        yes(igmp.1),
        yes(pim.0),
        yes(pim.1)
    );
    println!(
        "  machine load average (1 min) {load_before} before, {} after",
        load_average()
    );
    drop(lab);
    Ok(())
}
