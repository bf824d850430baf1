//! A channel line-up in the lab (issue 19 item 7): many groups from several sources, received
//! on both receivers' LANs of [`Lab::seed_two_lans`], with a sequence number per group.
//!
//! Group `i` is 239.10.(i / 256).(i % 256), sent by source `i % sources` (10.1.0.10 + s on the
//! source namespace's src0) to UDP port [`PORT`]. The sender goes round-robin over the groups,
//! so at a total rate R every group gets R / groups packets per second; the rate can change
//! while it runs (the benchmark raises it around a failure for a finer per-group clock).

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dataplane::sock::{Ipv4Socket, UdpOptions};

use crate::lab::Lab;
use crate::netconf::Blocking;

/// The line-up's UDP port (the single-group lab stream uses 5000).
pub const PORT: u16 = 5001;
const MAGIC: &[u8; 4] = b"NELU";

/// The clock both ends of the line-up share (they run in one process): packets carry their
/// send time as nanoseconds since this instant.
fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// The `i`-th group of the line-up.
pub fn group(i: u32) -> Ipv4Addr {
    Ipv4Addr::new(239, 10, (i >> 8) as u8, i as u8)
}

/// The index of a line-up group, or `None` for any other address.
pub fn index(g: Ipv4Addr) -> Option<u32> {
    let o = g.octets();
    (o[0] == 239 && o[1] == 10).then(|| u32::from(o[2]) << 8 | u32::from(o[3]))
}

/// The `s`-th source address (on src0 in the source namespace).
pub fn source(s: u32) -> Ipv4Addr {
    Ipv4Addr::new(10, 1, 0, 10 + s as u8)
}

/// The sources' sockets in ns src, one per source address, and the thread that sends.
pub struct Sender {
    stop: Arc<AtomicBool>,
    rate: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl Sender {
    /// `groups` groups (at most 65,536) from `sources` sources (at most 100), `pps` packets
    /// per second in total.
    pub fn start(lab: &Lab, groups: u32, sources: u32, pps: u64) -> Result<Sender, String> {
        if groups == 0 || groups > 65_536 || sources == 0 || sources > 100 {
            return Err(format!(
                "{groups} groups from {sources} sources: 1..=65536 groups, 1..=100 sources"
            ));
        }
        for s in 1..sources {
            let addr = format!("{}/24", source(s));
            // 10.1.0.10 is the lab's own; the others may be there from an earlier start.
            if let Err(e) = lab.ip("src", &["addr", "add", &addr, "dev", "src0"]) {
                if !e.contains("File exists") {
                    return Err(e);
                }
            }
        }
        let socks = dataplane::netns::run_in(&lab.ns("src"), move || {
            let idx = dataplane::sock::ifindex("src0").ok_or(std::io::ErrorKind::NotFound)?;
            (0..sources)
                .map(|s| {
                    let sock = Ipv4Socket::udp(&UdpOptions {
                        bind: SocketAddrV4::new(source(s), 0),
                        device: None,
                        ttl: None,
                        recv_meta: false,
                        reuse_addr: false,
                    })?;
                    sock.multicast_out(idx, 16)?;
                    Ok(sock)
                })
                .collect::<std::io::Result<Vec<Ipv4Socket>>>()
        })
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("line-up sources: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let rate = Arc::new(AtomicU64::new(pps.max(1)));
        let (s2, r2) = (Arc::clone(&stop), Arc::clone(&rate));
        let thread = std::thread::spawn(move || send(&socks, groups, &s2, &r2));
        Ok(Sender {
            stop,
            rate,
            thread: Some(thread),
        })
    }

    /// Change the total rate (from the next packet on).
    pub fn set_rate(&self, pps: u64) {
        self.rate.store(pps.max(1), Ordering::Relaxed);
    }

    /// Stop; returns how many packets were sent.
    pub fn stop(mut self) -> u64 {
        self.halt()
    }

    fn halt(&mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().and_then(|t| t.join().ok()).unwrap_or(0)
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Round-robin over the groups at the current rate, paced against the time the rate was set
/// (bursts of whatever is due, then a sleep of at most 1 ms). Bounded: one hour.
fn send(socks: &[Ipv4Socket], groups: u32, stop: &AtomicBool, rate: &AtomicU64) -> u64 {
    let mut seqs = vec![0u64; groups as usize];
    let mut payload = [0u8; 32];
    payload[..4].copy_from_slice(MAGIC);
    let begun = Instant::now();
    let clock = epoch();
    let (mut epoch, mut epoch_rate, mut in_epoch) = (begun, rate.load(Ordering::Relaxed), 0u64);
    let (mut next, mut sent) = (0u32, 0u64);
    while !stop.load(Ordering::Relaxed) && begun.elapsed() < Duration::from_secs(3600) {
        let r = rate.load(Ordering::Relaxed);
        if r != epoch_rate {
            (epoch, epoch_rate, in_epoch) = (Instant::now(), r, 0);
        }
        let due = (epoch.elapsed().as_nanos() as u64).saturating_mul(r) / 1_000_000_000;
        if due > in_epoch {
            // At most 10 ms of packets at once, if the thread was held up.
            let burst = (due - in_epoch).min(r / 100 + 1);
            for _ in 0..burst {
                let g = next;
                next = (next + 1) % groups;
                let seq = &mut seqs[g as usize];
                payload[4..8].copy_from_slice(&g.to_be_bytes());
                payload[8..16].copy_from_slice(&seq.to_be_bytes());
                let ns = clock.elapsed().as_nanos() as u64;
                payload[16..24].copy_from_slice(&ns.to_be_bytes());
                *seq += 1;
                let sock = &socks[g as usize % socks.len()];
                let _ = sock.send_to(&payload, SocketAddrV4::new(group(g), PORT));
            }
            in_epoch += burst;
            sent += burst;
            continue;
        }
        // Until the next packet is due, at most 1 ms.
        let next_at = (in_epoch + 1).saturating_mul(1_000_000_000) / r;
        let now = epoch.elapsed().as_nanos() as u64;
        let wait = next_at.saturating_sub(now).clamp(20_000, 1_000_000);
        std::thread::sleep(Duration::from_nanos(wait));
    }
    sent
}

/// One packet of the line-up as a receiver got it.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub group: u32,
    pub seq: u64,
    /// When the sender sent it.
    pub sent: Instant,
    /// When the receiver got it.
    pub at: Instant,
}

/// A receiver host that joined every group of the line-up through the kernel's IGMP (one
/// UDP socket, one IP_ADD_MEMBERSHIP per group on the host's interface), logging arrivals.
pub struct Receiver {
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Arrival>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Raise the per-socket membership limit of a lab namespace (net.ipv4.igmp_max_memberships,
/// 20 by default, is per network namespace).
pub fn allow_memberships(lab: &Lab, role: &str, n: u32) -> Result<(), String> {
    lab.exec(
        role,
        &[
            "sysctl",
            "-q",
            "-w",
            &format!("net.ipv4.igmp_max_memberships={n}"),
        ],
    )
    .map(drop)
}

impl Receiver {
    /// Join groups `0..groups` in namespace `role` on `ifname`.
    pub fn start(lab: &Lab, role: &str, ifname: &'static str, groups: u32) -> Result<Self, String> {
        allow_memberships(lab, role, groups + 2048)?;
        let sock = dataplane::netns::run_in(&lab.ns(role), move || {
            let s = Ipv4Socket::udp(&UdpOptions {
                bind: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, PORT),
                device: None,
                ttl: None,
                recv_meta: false,
                reuse_addr: true,
            })?;
            // Room for a few hundred ms of the raised rate while this thread is not running.
            s.set_recv_buffer(16 << 20)?;
            let idx = dataplane::sock::ifindex(ifname).ok_or(std::io::ErrorKind::NotFound)?;
            for g in 0..groups {
                s.join_multicast(group(g), idx)?;
            }
            Ok::<_, std::io::Error>(s)
        })
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("line-up receiver in {role}: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (s2, l2) = (Arc::clone(&stop), Arc::clone(&log));
        let clock = epoch();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let mut ready = Vec::new();
            let mut batch = Vec::with_capacity(1024);
            while !s2.load(Ordering::Relaxed) {
                let _ = dataplane::poll::wait_readable(
                    &[std::os::fd::AsRawFd::as_raw_fd(&sock)],
                    &mut ready,
                    Duration::from_millis(20),
                );
                while let Ok(Some(m)) = sock.recv(&mut buf) {
                    let at = Instant::now();
                    if m.len >= 24 && &buf[..4] == MAGIC {
                        let g = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
                        let word = |at: usize| {
                            let mut w = [0u8; 8];
                            w.copy_from_slice(&buf[at..at + 8]);
                            u64::from_be_bytes(w)
                        };
                        batch.push(Arrival {
                            group: g,
                            seq: word(8),
                            sent: clock + Duration::from_nanos(word(16)),
                            at,
                        });
                    }
                    if batch.len() >= 1024 {
                        break;
                    }
                }
                if let Ok(mut l) = l2.lock() {
                    l.append(&mut batch);
                }
                batch.clear();
            }
        });
        Ok(Receiver {
            stop,
            log,
            thread: Some(thread),
        })
    }

    /// Everything received since the last call (the log is emptied).
    pub fn take(&self) -> Vec<Arrival> {
        self.log
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What one group's receiver saw in a window around a failure.
#[derive(Debug, Clone, Copy, Default)]
pub struct GroupSeen {
    /// Packets that arrived in the window.
    pub received: usize,
    /// Sequence numbers missing between the first and the last one received in the window.
    pub lost: u64,
    /// Sequence numbers that arrived more than once.
    pub duplicates: usize,
    /// The longest time between two consecutive arrivals in the window.
    pub longest_silence: Duration,
    /// Packets that arrived after `after` (the failure).
    pub after_failure: usize,
}

/// Per group `0..groups`: what arrived in `[from, to]` (arrival times), with `failure` the
/// instant of the failure.
pub fn per_group(
    log: &[Arrival],
    groups: u32,
    from: Instant,
    to: Instant,
    failure: Instant,
) -> Vec<GroupSeen> {
    let mut by_group: Vec<Vec<&Arrival>> = vec![Vec::new(); groups as usize];
    for a in log {
        if a.at >= from && a.at <= to && a.group < groups {
            by_group[a.group as usize].push(a);
        }
    }
    by_group
        .iter()
        .map(|arr| {
            let mut s = GroupSeen {
                received: arr.len(),
                after_failure: arr.iter().filter(|a| a.at > failure).count(),
                ..GroupSeen::default()
            };
            s.longest_silence = arr
                .windows(2)
                .map(|w| w[1].at.saturating_duration_since(w[0].at))
                .max()
                .unwrap_or_default();
            let mut seqs: Vec<u64> = arr.iter().map(|a| a.seq).collect();
            seqs.sort_unstable();
            let n = seqs.len();
            seqs.dedup();
            s.duplicates = n - seqs.len();
            if let (Some(lo), Some(hi)) = (seqs.first(), seqs.last()) {
                s.lost = hi - lo + 1 - seqs.len() as u64;
            }
            s
        })
        .collect()
}

/// When the packets lost in `[from, to]` (arrival times) were sent, all groups: each group's
/// missing sequence numbers, their send times interpolated between those of the packets
/// received around them (the sender is paced, so the error is its jitter).
pub fn lost_send_times(log: &[Arrival], groups: u32, from: Instant, to: Instant) -> Vec<Instant> {
    let mut by_group: Vec<Vec<&Arrival>> = vec![Vec::new(); groups as usize];
    for a in log {
        if a.at >= from && a.at <= to && a.group < groups {
            by_group[a.group as usize].push(a);
        }
    }
    let mut lost = Vec::new();
    for arr in &mut by_group {
        arr.sort_by_key(|a| a.seq);
        arr.dedup_by_key(|a| a.seq);
        for w in arr.windows(2) {
            let k = w[1].seq - w[0].seq;
            let step = w[1].sent.saturating_duration_since(w[0].sent) / k as u32;
            lost.extend((1..k).map(|j| w[0].sent + step * j as u32));
        }
    }
    lost
}

/// The line-up groups an interface's IGMP state lists (`<get>` of its `igmp` container).
pub fn igmp_groups(c: &mut Blocking, ifname: &str) -> Result<BTreeSet<Ipv4Addr>, String> {
    let r = c
        .get(Some(&format!(
            "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>{ifname}</name>\
             <igmp xmlns=\"urn:ne-agent:yang:ne-multicast\"/></interface></interfaces>"
        )))
        .map_err(|e| e.to_string())?;
    Ok(r.split("<group>")
        .skip(1)
        .filter_map(|g| {
            let s = g.find("<address>")? + "<address>".len();
            let e = g[s..].find('<')?;
            g[s..s + e].trim().parse().ok()
        })
        .collect())
}

/// How many of the line-up's groups `0..groups` an interface's IGMP state holds.
pub fn lineup_count(c: &mut Blocking, ifname: &str, groups: u32) -> Result<usize, String> {
    Ok(igmp_groups(c, ifname)?
        .into_iter()
        .filter(|g| index(*g).is_some_and(|i| i < groups))
        .count())
}

/// Membership churn from a receiver host: one socket that joins and leaves groups of its own
/// pool (239.20.x.y) through the kernel, so every operation is a real IP_ADD_MEMBERSHIP or
/// IP_DROP_MEMBERSHIP.
pub struct Churn {
    sock: Ipv4Socket,
    ifindex: u32,
    joined: Vec<bool>,
}

/// The `i`-th group of the churn pool.
pub fn churn_group(i: u32) -> Ipv4Addr {
    Ipv4Addr::new(239, 20, (i >> 8) as u8, i as u8)
}

impl Churn {
    /// A pool of `pool` groups for the host in namespace `role` on `ifname` (none joined).
    pub fn open(lab: &Lab, role: &str, ifname: &'static str, pool: u32) -> Result<Churn, String> {
        let (sock, ifindex) = dataplane::netns::run_in(&lab.ns(role), move || {
            let s = Ipv4Socket::udp(&UdpOptions {
                bind: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
                device: None,
                ttl: None,
                recv_meta: false,
                reuse_addr: false,
            })?;
            let idx = dataplane::sock::ifindex(ifname).ok_or(std::io::ErrorKind::NotFound)?;
            Ok::<_, std::io::Error>((s, idx))
        })
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("churn socket in {role}: {e}"))?;
        Ok(Churn {
            sock,
            ifindex,
            joined: vec![false; pool as usize],
        })
    }

    fn toggle(&mut self, i: usize) -> Result<(), String> {
        let g = churn_group(i as u32);
        let r = if self.joined[i] {
            self.sock.leave_multicast(g, self.ifindex)
        } else {
            self.sock.join_multicast(g, self.ifindex)
        };
        r.map_err(|e| format!("churn on {g}: {e}"))?;
        self.joined[i] = !self.joined[i];
        Ok(())
    }

    /// Join or leave (whichever the group's state calls for) round-robin over the pool at
    /// `rate` operations per second for `how_long`; returns the operations done.
    pub fn run(&mut self, rate: u64, how_long: Duration) -> Result<u64, String> {
        let n = self.joined.len();
        if n == 0 {
            return Ok(0);
        }
        let t0 = Instant::now();
        let mut done = 0u64;
        while t0.elapsed() < how_long {
            let due = (t0.elapsed().as_nanos() as u64).saturating_mul(rate) / 1_000_000_000;
            while done < due {
                self.toggle(done as usize % n)?;
                done += 1;
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        Ok(done)
    }

    /// End in a known state: the even-numbered groups of the pool joined, the odd ones left.
    /// Returns the groups that stay joined.
    pub fn settle(&mut self) -> Result<BTreeSet<Ipv4Addr>, String> {
        for i in 0..self.joined.len() {
            if self.joined[i] != (i % 2 == 0) {
                self.toggle(i)?;
            }
        }
        Ok((0..self.joined.len() as u32)
            .filter(|i| i % 2 == 0)
            .map(churn_group)
            .collect())
    }
}

/// The churn pool's groups in a set of groups.
pub fn churn_only(set: &BTreeSet<Ipv4Addr>) -> BTreeSet<Ipv4Addr> {
    set.iter()
        .copied()
        .filter(|g| g.octets()[..2] == [239, 20])
        .collect()
}
