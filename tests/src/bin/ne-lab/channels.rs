//! `ne-lab bench-channels`: a channel line-up (issue 19 item 7) in the lab with two receivers'
//! LANs ([`Lab::seed_two_lans`]).
//!
//! How the per-group gap is measured: at the line-up's own rate (1,000 packets/s over 1,000
//! groups) a group gets one packet a second, so a gap measured on it has a resolution of one
//! second. Around each kill the sources therefore send faster (`--window-pps`, 20,000/s by
//! default: one packet every 50 ms per group) from 1 s before the kill to 1.5 s after it. A
//! group's gap is the longest time between two consecutive arrivals of that group at the
//! receiver (kernel socket, arrival times) in that window, minus the nominal interval: 0 when
//! nothing was lost, and it errs by at most one interval either way (the outage falls
//! somewhere between two packets). The whole line-up merged (all groups of one LAN) has a
//! clock of 1 / window-pps: its longest silence is the outage seen by the LAN. The baseline is
//! the lab's single group 239.1.1.1 at 1,000 packets/s, measured the same way in the same
//! kills (and by counting lost sequence numbers, as `bench-switchover` does).

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use ne_lab::lab::{analyse, vrrp_state, wait_for, Lab, Receiver, Sender};
use ne_lab::lineup::{self, Churn, GroupSeen};
use ne_lab::netconf::Blocking;

use super::{ipv4, ms, percentile, up_transitions};

pub struct Options {
    pub groups: u32,
    pub sources: u32,
    pub pps: u64,
    pub window_pps: u64,
    pub trials: u64,
    pub churn: u64,
    pub churn_seconds: u64,
}

/// The line-up groups on A's and B's downstream interfaces of both LANs.
fn memberships(ca: &mut Blocking, cb: &mut Blocking, groups: u32) -> Result<[usize; 4], String> {
    Ok([
        lineup::lineup_count(ca, "a-dn", groups)?,
        lineup::lineup_count(ca, "a-dn2", groups)?,
        lineup::lineup_count(cb, "b-dn", groups)?,
        lineup::lineup_count(cb, "b-dn2", groups)?,
    ])
}

/// Wait (up to `limit`) until both devices hold every line-up membership on both LANs.
fn all_memberships(
    ca: &mut Blocking,
    cb: &mut Blocking,
    groups: u32,
    limit: Duration,
) -> Result<[usize; 4], String> {
    let mut last = [0; 4];
    let ok = wait_for(limit, || {
        if let Ok(m) = memberships(ca, cb, groups) {
            last = m;
        }
        last.iter().all(|&n| n == groups as usize)
    });
    if ok {
        Ok(last)
    } else {
        Err(format!(
            "memberships after {limit:?}: a-dn {} a-dn2 {} b-dn {} b-dn2 {} of {groups}",
            last[0], last[1], last[2], last[3]
        ))
    }
}

/// A master, B backup, BFD up: twice, past A's preemption hold after its start.
fn settled(ca: &mut Blocking, cb: &mut Blocking) -> Result<(), String> {
    let limit = Duration::from_secs(90);
    if !ne_lab::lab::steady(ca, cb, limit) {
        return Err("the lab did not reach its steady state".into());
    }
    std::thread::sleep(Duration::from_secs(12));
    if !ne_lab::lab::steady(ca, cb, limit) {
        return Err("the lab did not stay in its steady state".into());
    }
    Ok(())
}

/// UDP receive-queue overflows (RcvbufErrors) of a lab namespace: packets the receiver host
/// dropped itself, which would otherwise pass for losses in the network.
fn rcvbuf_errors(lab: &Lab, role: &str) -> u64 {
    let text = lab
        .exec(role, &["cat", "/proc/net/snmp"])
        .unwrap_or_default();
    let udp: Vec<&str> = text.lines().filter(|l| l.starts_with("Udp:")).collect();
    let (Some(head), Some(vals)) = (udp.first(), udp.get(1)) else {
        return 0;
    };
    head.split_whitespace()
        .zip(vals.split_whitespace())
        .find(|(h, _)| *h == "RcvbufErrors")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// The longest time between consecutive arrivals in `[from, to]`, all groups merged.
fn merged_silence(log: &[lineup::Arrival], from: Instant, to: Instant) -> Duration {
    let mut t: Vec<Instant> = log
        .iter()
        .map(|a| a.at)
        .filter(|&a| a >= from && a <= to)
        .collect();
    t.sort_unstable();
    t.windows(2).map(|w| w[1] - w[0]).max().unwrap_or_default()
}

/// The line-up's outage in send time: from the last packet delivered before the first lost
/// one to the first delivered after the last lost one, all groups merged; and how many
/// packets sent inside the span of the losses (give or take [`SLACK`]) were delivered (0: every
/// group was out at once, so none was out longer than the line-up).
fn common_outage(
    log: &[lineup::Arrival],
    groups: u32,
    from: Instant,
    to: Instant,
) -> Option<(Duration, usize)> {
    let lost = lineup::lost_send_times(log, groups, from, to);
    let (first, last) = (*lost.iter().min()?, *lost.iter().max()?);
    let sent: Vec<Instant> = log
        .iter()
        .filter(|a| a.at >= from && a.at <= to && a.group < groups)
        .map(|a| a.sent)
        .collect();
    let before = sent.iter().filter(|&&t| t < first).max()?;
    let after = sent.iter().filter(|&&t| t > last).min()?;
    let inside = sent
        .iter()
        .filter(|&&t| t > first + SLACK && t + SLACK < last)
        .count();
    Some((*after - *before, inside))
}

/// Slack around the common outage for the interpolated send times of a group's lost packets.
const SLACK: Duration = Duration::from_millis(2);

/// Sum of the forwarding plane's `leaf` counters over its ports (`ring-drops`) or its own
/// (`tx-errors`), as B's `<get>` reports them.
fn counter(c: &mut Blocking, leaf: &str) -> u64 {
    let open = format!("<{leaf}>");
    ne_lab::lab::multicast_state(c)
        .unwrap_or_default()
        .split(&open)
        .skip(1)
        .filter_map(|v| v.split('<').next()?.trim().parse::<u64>().ok())
        .sum()
}

/// What one kill gave.
#[derive(Default)]
struct Trial {
    /// Per (LAN, group): gap in ms (longest silence minus the nominal interval).
    gaps: Vec<f64>,
    lost: u64,
    duplicates: usize,
    /// (LAN, group) pairs that received nothing after the kill.
    silent_after: Vec<(usize, u32)>,
    merged: [f64; 2],
    /// The line-up's outage per LAN in send time (ms).
    outage: [f64; 2],
    /// Packets delivered although sent inside the span of the losses (+- SLACK).
    outside: usize,
    single_lost_run: u64,
    single_silence: f64,
    single_duplicates: usize,
    /// B's ring drops and transmit errors over the trial.
    b_drops: (u64, u64),
}

fn kill_trial(
    lab: &mut Lab,
    cb: &mut Blocking,
    o: &Options,
    rcvs: &[lineup::Receiver; 2],
    src: &lineup::Sender,
    single: &Receiver,
) -> Result<Trial, String> {
    let interval = Duration::from_secs_f64(f64::from(o.groups) / o.window_pps as f64);
    let drops0 = (counter(cb, "ring-drops"), counter(cb, "tx-errors"));
    src.set_rate(o.window_pps);
    std::thread::sleep(Duration::from_millis(500));
    for r in rcvs {
        r.take();
    }
    let single_from = single.last_seq();
    std::thread::sleep(Duration::from_millis(500));
    let kill = Instant::now();
    lab.a.kill9_nowait();
    std::thread::sleep(Duration::from_millis(1500));
    let to = Instant::now();
    src.set_rate(o.pps);
    lab.a.kill9();
    let from = kill - Duration::from_millis(400);
    let mut t = Trial {
        b_drops: (
            counter(cb, "ring-drops").saturating_sub(drops0.0),
            counter(cb, "tx-errors").saturating_sub(drops0.1),
        ),
        ..Trial::default()
    };
    for (lan, r) in rcvs.iter().enumerate() {
        let log = r.take();
        if let Some((span, inside)) = common_outage(&log, o.groups, from, to) {
            t.outage[lan] = ms(span) - 1000.0 / o.window_pps as f64;
            t.outside += inside;
        }
        let seen: Vec<GroupSeen> = lineup::per_group(&log, o.groups, from, to, kill);
        for (g, s) in seen.iter().enumerate() {
            t.gaps.push(ms(s.longest_silence.saturating_sub(interval)));
            t.lost += s.lost;
            t.duplicates += s.duplicates;
            if s.after_failure == 0 {
                t.silent_after.push((lan, g as u32));
            }
        }
        t.merged[lan] = ms(merged_silence(&log, from, to));
    }
    let got = single.received();
    let s = analyse(&got, single_from + 1, single.last_seq());
    t.single_lost_run = s.longest_gap;
    t.single_duplicates = s.duplicates;
    let mut at: Vec<Instant> = got
        .iter()
        .filter(|&&(q, _)| q > single_from)
        .map(|&(_, a)| a)
        .filter(|&a| a >= from && a <= to)
        .collect();
    at.sort_unstable();
    t.single_silence = at.windows(2).map(|w| ms(w[1] - w[0])).fold(0.0, f64::max) - 1.0;
    Ok(t)
}

pub fn bench(o: &Options) -> Result<(), String> {
    if o.groups == 0 || o.pps == 0 || o.window_pps < u64::from(o.groups) {
        return Err("--groups and --pps must be > 0 and --window-pps >= --groups".into());
    }
    let load0 = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let (mut lab, mut ca, mut cb) = Lab::seed_two_lans()?;
    settled(&mut ca, &mut cb)?;
    let t = Instant::now();
    let rcvs = [
        lineup::Receiver::start(&lab, "rcv", "rcv0", o.groups)?,
        lineup::Receiver::start(&lab, "rcv2", "rcv0", o.groups)?,
    ];
    let single = Receiver::start(&lab)?;
    let _single_src = Sender::start(&lab, 1000)?;
    let src = lineup::Sender::start(&lab, o.groups, o.sources, o.pps)?;
    let m = all_memberships(&mut ca, &mut cb, o.groups, Duration::from_secs(60))?;
    let learned = t.elapsed();
    let cli = lab
        .b
        .cli("display igmp group")
        .map(|text| text.lines().filter(|l| l.contains("239.10.")).count());
    // Every group delivered on both LANs at the line-up's own rate.
    for r in &rcvs {
        r.take();
    }
    let steady_for = Duration::from_secs_f64((2.0 * f64::from(o.groups) / o.pps as f64).max(2.0));
    std::thread::sleep(steady_for);
    let mut undelivered = [0usize; 2];
    for (lan, r) in rcvs.iter().enumerate() {
        let mut seen = vec![false; o.groups as usize];
        for a in r.take() {
            if let Some(s) = seen.get_mut(a.group as usize) {
                *s = true;
            }
        }
        undelivered[lan] = seen.iter().filter(|&&s| !s).count();
    }
    eprintln!(
        "memberships a-dn {} a-dn2 {} b-dn {} b-dn2 {} in {:.1} s; undelivered in {:.1} s of steady state: LAN 1 {}, LAN 2 {}",
        m[0], m[1], m[2], m[3], learned.as_secs_f64(), steady_for.as_secs_f64(), undelivered[0], undelivered[1]
    );
    let drops0 = [rcvbuf_errors(&lab, "rcv"), rcvbuf_errors(&lab, "rcv2")];
    let mut trials = Vec::new();
    for i in 0..o.trials {
        if i > 0 {
            lab.a.start()?;
            ca = lab.a.connect().map_err(|e| e.to_string())?;
            settled(&mut ca, &mut cb)?;
            all_memberships(&mut ca, &mut cb, o.groups, Duration::from_secs(60))?;
        }
        let before = memberships(&mut ca, &mut cb, o.groups)?;
        let t = kill_trial(&mut lab, &mut cb, o, &rcvs, &src, &single)?;
        let mut g = t.gaps.clone();
        eprintln!(
            "trial {i:2}: memberships before {:?}; line-up outage in send time {:.1} / {:.1} ms, delivered inside the loss span {}; per-group gap worst {:.1} ms p50 {:.1} p99 {:.1}; lost {} dup {}; silent after the kill {}; merged LAN silences {:.1} / {:.1} ms; single group gap {} pkts, silence {:.1} ms; B ring drops {} tx errors {}",
            before,
            t.outage[0],
            t.outage[1],
            t.outside,
            percentile(&mut g, 100.0),
            percentile(&mut g, 50.0),
            percentile(&mut g, 99.0),
            t.lost,
            t.duplicates,
            t.silent_after.len(),
            t.merged[0],
            t.merged[1],
            t.single_lost_run,
            t.single_silence,
            t.b_drops.0,
            t.b_drops.1
        );
        trials.push(t);
    }
    let drops = [
        rcvbuf_errors(&lab, "rcv") - drops0[0],
        rcvbuf_errors(&lab, "rcv2") - drops0[1],
    ];
    // A back for the churn (and a clean end state).
    if o.trials > 0 {
        lab.a.start()?;
        ca = lab.a.connect().map_err(|e| e.to_string())?;
        settled(&mut ca, &mut cb)?;
        all_memberships(&mut ca, &mut cb, o.groups, Duration::from_secs(60))?;
    }
    let churned = if o.churn > 0 {
        Some(churn(&lab, o, &mut ca, &mut cb, &rcvs)?)
    } else {
        None
    };
    let load1 = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    let interval_ms = f64::from(o.groups) * 1000.0 / o.window_pps as f64;
    println!(
        "channel line-up: {} groups from {} sources to 2 receivers' LANs (kernel IGMP joins), {} packets/s in total ({:.2} per group)",
        o.groups,
        o.sources,
        o.pps,
        o.pps as f64 / f64::from(o.groups)
    );
    println!(
        "  memberships: A a-dn {} a-dn2 {}, B b-dn {} b-dn2 {} of {} (all learned {:.1} s after the receivers started joining); B's `display igmp group` lists {} line-up groups",
        m[0],
        m[1],
        m[2],
        m[3],
        o.groups,
        learned.as_secs_f64(),
        cli.map_or_else(|e| format!("? ({})", e.trim()), |n| n.to_string())
    );
    println!(
        "  steady state ({:.1} s at {} packets/s): groups not delivered: LAN 1 {}, LAN 2 {}",
        steady_for.as_secs_f64(),
        o.pps,
        undelivered[0],
        undelivered[1]
    );
    if !trials.is_empty() {
        let mut gaps: Vec<f64> = trials.iter().flat_map(|t| t.gaps.iter().copied()).collect();
        let over = gaps.iter().filter(|&&g| g > 50.0).count();
        let mut worst: Vec<f64> = trials
            .iter()
            .map(|t| t.gaps.iter().copied().fold(0.0, f64::max))
            .collect();
        let mut merged: Vec<f64> = trials.iter().flat_map(|t| t.merged).collect();
        let mut outage: Vec<f64> = trials.iter().flat_map(|t| t.outage).collect();
        let outside: usize = trials.iter().map(|t| t.outside).sum();
        let mut single_run: Vec<f64> = trials.iter().map(|t| t.single_lost_run as f64).collect();
        let mut single_sil: Vec<f64> = trials.iter().map(|t| t.single_silence).collect();
        let silent: usize = trials.iter().map(|t| t.silent_after.len()).sum();
        println!(
            "  kill -9 of the master, {} trials; sources at {} packets/s from 1 s before the kill to 1.5 s after (one packet every {:.0} ms per group);",
            trials.len(),
            o.window_pps,
            interval_ms
        );
        println!(
            "  per-group gap = longest silence between consecutive arrivals of the group minus {interval_ms:.0} ms (resolution +-{interval_ms:.0} ms), {} (LAN, group) pairs per trial:",
            2 * o.groups
        );
        println!(
            "    worst group {:.1} ms; p50 {:.1} ms; p99 {:.1} ms; worst group per trial p50 {:.1} ms; pairs over 50 ms {over} of {}",
            percentile(&mut gaps, 100.0),
            percentile(&mut gaps, 50.0),
            percentile(&mut gaps, 99.0),
            percentile(&mut worst, 50.0),
            gaps.len()
        );
        println!(
            "    pairs with nothing after the kill {silent}; packets lost {}; duplicates {} (bound for a node failure: 0, the old master is dead)",
            trials.iter().map(|t| t.lost).sum::<u64>(),
            trials.iter().map(|t| t.duplicates).sum::<usize>()
        );
        println!(
            "    whole line-up per LAN (all groups merged, clock {:.2} ms): longest silence p50 {:.1} ms max {:.1} ms",
            1000.0 / o.window_pps as f64,
            percentile(&mut merged, 50.0),
            percentile(&mut merged, 100.0)
        );
        println!(
            "    the line-up's outage per LAN in send time (from the last packet delivered before the first lost one to the first delivered after the last lost one, all groups merged): p50 {:.1} ms max {:.1} ms;",
            percentile(&mut outage, 50.0),
            percentile(&mut outage, 100.0)
        );
        println!(
            "    packets of any group delivered although sent inside the span of the losses (+-{} ms): {outside} (0: all groups were out together, none longer than that outage)",
            SLACK.as_millis()
        );
        let b50 = percentile(&mut single_sil, 50.0);
        println!(
            "  baseline in the same kills, single group 239.1.1.1 at 1000 packets/s: lost run p50 {:.0} ms max {:.0} ms; longest silence - 1 ms p50 {b50:.1} ms max {:.1} ms; duplicates {}",
            percentile(&mut single_run, 50.0),
            percentile(&mut single_run, 100.0),
            percentile(&mut single_sil, 100.0),
            trials.iter().map(|t| t.single_duplicates).sum::<usize>()
        );
        println!(
            "  ratio line-up / single group at p50: whole line-up silence {:.2}x; worst group {:.2}x",
            percentile(&mut merged, 50.0) / b50,
            percentile(&mut worst, 50.0) / b50
        );
        println!(
            "  receiver hosts' own UDP queue overflows during the trials: rcv {}, rcv2 {}; B's forwarding plane over the trials: ring drops {}, transmit errors {}",
            drops[0],
            drops[1],
            trials.iter().map(|t| t.b_drops.0).sum::<u64>(),
            trials.iter().map(|t| t.b_drops.1).sum::<u64>()
        );
    }
    if let Some(c) = churned {
        println!("{c}");
    }
    println!(
        "  load average at start: {}; at end: {}",
        load0
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        load1
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(())
}

/// IGMP messages from the receiver (192.168.1.100) seen on A's a-dn, by type, until `stop`.
fn igmp_counter(
    lab: &Lab,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Result<std::thread::JoinHandle<[u64; 4]>, String> {
    use std::sync::atomic::Ordering;
    let sock = super::capture(&lab.ns("a"), "a-dn")?;
    Ok(std::thread::spawn(move || {
        // v2 reports, v2 leaves, v3 reports, v3 group records
        let mut n = [0u64; 4];
        let mut buf = vec![0u8; 4096];
        let mut ready = Vec::new();
        let host = Ipv4Addr::new(192, 168, 1, 100);
        while !stop.load(Ordering::Relaxed) {
            let _ = dataplane::poll::wait_readable(
                &[std::os::fd::AsRawFd::as_raw_fd(&sock)],
                &mut ready,
                Duration::from_millis(5),
            );
            while let Ok(Some(len)) = sock.recv(&mut buf) {
                let Some((src, 2, igmp)) = ipv4(&buf[..len]) else {
                    continue;
                };
                if src != host {
                    continue;
                }
                match igmp[0] {
                    0x16 => n[0] += 1,
                    0x17 => n[1] += 1,
                    0x22 => {
                        n[2] += 1;
                        n[3] += u64::from(u16::from_be_bytes([igmp[6], igmp[7]]));
                    }
                    _ => {}
                }
            }
        }
        n
    }))
}

/// Membership churn from ns rcv while BFD 10 ms x 3 runs; the report's text.
fn churn(
    lab: &Lab,
    o: &Options,
    ca: &mut Blocking,
    cb: &mut Blocking,
    rcvs: &[lineup::Receiver; 2],
) -> Result<String, String> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let pool = 1000;
    let before = (up_transitions(ca)?, up_transitions(cb)?);
    let mut c = Churn::open(lab, "rcv", "rcv0", pool)?;
    for r in rcvs {
        r.take();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let counter = igmp_counter(lab, Arc::clone(&stop))?;
    let t0 = Instant::now();
    let ops = c.run(o.churn, Duration::from_secs(o.churn_seconds))?;
    let took = t0.elapsed();
    let expect = c.settle()?;
    let end = Instant::now();
    // The line-up during the churn (its own rate: losses only, the clock is 1 s per group).
    let mut lost = [0u64; 2];
    for (lan, r) in rcvs.iter().enumerate() {
        let log = r.take();
        lost[lan] = lineup::per_group(&log, o.groups, t0, end, t0)
            .iter()
            .map(|s| s.lost)
            .sum();
    }
    // Converged: each device's churn-pool groups on a-dn / b-dn equal what stays joined
    // (leaves take the last-member query time, 2 x 1 s, and B follows A's queries).
    let t1 = Instant::now();
    let none = || Err::<std::collections::BTreeSet<Ipv4Addr>, String>("not read".into());
    let (mut got_a, mut got_b) = (none(), none());
    let converged = wait_for(Duration::from_secs(60), || {
        got_a = lineup::igmp_groups(ca, "a-dn").map(|s| lineup::churn_only(&s));
        got_b = lineup::igmp_groups(cb, "b-dn").map(|s| lineup::churn_only(&s));
        got_a.as_ref() == Ok(&expect) && got_b.as_ref() == Ok(&expect)
    });
    let conv = t1.elapsed();
    stop.store(true, Ordering::Relaxed);
    let seen = counter.join().map_err(|_| "capture thread")?;
    let after = (up_transitions(ca)?, up_transitions(cb)?);
    let flaps = (
        after.0.iter().sum::<u64>() - before.0.iter().sum::<u64>(),
        after.1.iter().sum::<u64>() - before.1.iter().sum::<u64>(),
    );
    let bfd_now = (
        ne_lab::lab::bfd_state(ca, "to-b").unwrap_or_default(),
        ne_lab::lab::bfd_state(cb, "to-a").unwrap_or_default(),
    );
    let lineup_after = memberships(ca, cb, o.groups)?;
    let diff = |got: &Result<std::collections::BTreeSet<Ipv4Addr>, String>| match got {
        Ok(s) => format!(
            "{} missing, {} extra",
            expect.difference(s).count(),
            s.difference(&expect).count()
        ),
        Err(e) => e.clone(),
    };
    let vrrp = (
        vrrp_state(ca, "a-ic", 1).unwrap_or_default(),
        vrrp_state(cb, "b-ic", 1).unwrap_or_default(),
    );
    Ok(format!(
        "  churn: {ops} joins/leaves (IP_ADD/DROP_MEMBERSHIP on one socket in ns rcv, pool of {pool} groups) in {:.2} s = {:.0}/s, then the even half of the pool left joined;\n    \
         IGMP from the host on the wire at a-dn: {} v2 reports, {} v2 leaves, {} v3 reports ({} records) = {:.0} messages/s;\n    \
         BFD 10 ms x 3: up-transitions during the churn A {}, B {} (flaps), state now {} / {}; VRRP A {} B {};\n    \
         IGMP state after: {} ({:.1} s after the churn; A: {}; B: {}); line-up memberships still a-dn {} a-dn2 {} b-dn {} b-dn2 {};\n    \
         line-up packets lost during the churn: LAN 1 {}, LAN 2 {}",
        took.as_secs_f64(),
        ops as f64 / took.as_secs_f64(),
        seen[0],
        seen[1],
        seen[2],
        seen[3],
        (seen[0] + seen[1] + seen[2]) as f64 / took.as_secs_f64(),
        flaps.0,
        flaps.1,
        bfd_now.0,
        bfd_now.1,
        vrrp.0,
        vrrp.1,
        if converged { "converged" } else { "NOT converged" },
        ms(conv) / 1000.0,
        diff(&got_a),
        diff(&got_b),
        lineup_after[0],
        lineup_after[1],
        lineup_after[2],
        lineup_after[3],
        lost[0],
        lost[1]
    ))
}
