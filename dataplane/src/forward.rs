//! The multicast forwarding thread: TPACKET_V3 rings in, `sendmmsg` batches out.
//!
//! One thread polls the receive ring of every interface it serves. For each frame it checks
//! that it is untagged IPv4 multicast data (not 224.0.0.0/24), looks the route up in the
//! current [`Table`] ((S,G), then (*,G)), checks RPF (the frame's interface must be the route's
//! iif) and TTL, and queues one copy per forwarding oif: TTL decremented with an incremental
//! checksum update (RFC 1624), source MAC set to the oif's, destination MAC left as is. Copies go
//! out per interface either in `sendmmsg` batches on an AF_PACKET socket ([`TxMode::Sendmmsg`],
//! the default) or written in place into a TPACKET_V3 transmit ring with one kick per batch
//! ([`TxMode::Ring`], [`crate::txring`]); BENCHMARKS.md compares the two.
//!
//! Nothing on the per-frame path allocates: TX slots, `iovec`s and `mmsghdr`s (or the ring) are
//! allocated once when the thread starts, and the table is re-read once per turn of the loop.

use std::io;
use std::mem;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::bpf::Link;
use crate::fastpath::FastPath;
use crate::mfib::{Mfib, Table};
use crate::register::RegisterTx;
use crate::ring::{Frame, RingConfig, RingStats, RxRing, ETH_P_ALL};
use crate::sock::{setsockopt, PacketSocket};
use crate::txring::{TxRing, TxRingConfig};
use crate::wire::checksum_update;

const ETH_HLEN: usize = 14;

// ===== packet checks and rewriting =====

/// What a frame is, as far as forwarding cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// IPv4 multicast data that may be forwarded.
    Data(Ipv4Data),
    /// Not IPv4 (EtherType), or too short to hold an Ethernet header.
    NotIpv4,
    /// IPv4 with a bad version, header length or total length.
    Malformed,
    /// IPv4 to a non-multicast destination.
    NotMulticast,
    /// IPv4 to 224.0.0.0/24, which is never forwarded.
    LinkLocal,
}

/// The fields of a forwardable IPv4 multicast packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Data {
    pub source: Ipv4Addr,
    pub group: Ipv4Addr,
    pub ttl: u8,
    /// IPv4 total length; the frame is forwarded up to 14 + this (Ethernet padding is dropped).
    pub ip_len: usize,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Classify an Ethernet frame (no VLAN tag in the bytes). The IPv4 header checksum is trusted,
/// not verified: the incremental update keeps a bad one bad.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version|  IHL  |Type of Service|          Total Length         |
/// |         Identification        |Flags|      Fragment Offset    |
/// |  Time to Live |    Protocol   |         Header Checksum       |
/// |                       Source Address                          |
/// |                    Destination Address                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  (RFC 791)
/// ```
#[inline]
pub fn classify(frame: &[u8]) -> Class {
    if frame.len() < ETH_HLEN || be16(frame, 12) != 0x0800 {
        return Class::NotIpv4;
    }
    if frame.len() < ETH_HLEN + 20 {
        return Class::Malformed;
    }
    let ip = &frame[ETH_HLEN..];
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(be16(ip, 2));
    if ip[0] >> 4 != 4 || ihl < 20 || total < ihl || total > ip.len() {
        return Class::Malformed;
    }
    let dst = be32(ip, 16);
    if dst >> 28 != 0xe {
        return Class::NotMulticast;
    }
    if dst & 0xffff_ff00 == 0xe000_0000 {
        return Class::LinkLocal;
    }
    Class::Data(Ipv4Data {
        source: Ipv4Addr::from(be32(ip, 12)),
        group: Ipv4Addr::from(dst),
        ttl: ip[8],
        ip_len: total,
    })
}

/// The UDP checksum of an unfragmented IPv4/UDP packet (RFC 768, pseudo-header included),
/// with the offset of its field in `ip`; None for other packets. Used for packets whose
/// checksum the kernel left to be completed (checksum offload on the way in).
pub fn udp_checksum(ip: &[u8]) -> Option<(usize, u16)> {
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
    let fragmented = u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0;
    if ip[9] != 17 || fragmented || total > ip.len() || total < ihl + 8 {
        return None;
    }
    let udp = &ip[ihl..total];
    let mut sum: u32 = 0;
    for w in [&ip[12..16], &ip[16..20]] {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]))
            + u32::from(u16::from_be_bytes([w[2], w[3]]));
    }
    sum += 17 + udp.len() as u32;
    for (i, c) in udp.chunks(2).enumerate() {
        if i == 3 {
            continue; // the checksum field itself
        }
        sum += if c.len() == 2 {
            u32::from(u16::from_be_bytes([c[0], c[1]]))
        } else {
            u32::from(c[0]) << 8
        };
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let c = !(sum as u16);
    Some((ihl + 6, if c == 0 { 0xffff } else { c }))
}

/// TTL minus one and the header checksum updated for it, for the IPv4 header `ip` (TTL > 0).
#[inline]
fn ttl_decrement(ip: &[u8]) -> (u8, u16) {
    let ttl = ip[8];
    let old = u16::from_be_bytes([ttl, ip[9]]);
    let new = u16::from_be_bytes([ttl - 1, ip[9]]);
    (ttl - 1, checksum_update(be16(ip, 10), old, new))
}

/// Decrement the TTL of the IPv4 packet in `frame` (updating its checksum) and set the source
/// MAC. `frame` must be an Ethernet frame that [`classify`] called [`Class::Data`] with TTL > 0.
pub fn rewrite(frame: &mut [u8], src_mac: [u8; 6]) {
    let (ttl, csum) = ttl_decrement(&frame[ETH_HLEN..]);
    frame[6..12].copy_from_slice(&src_mac);
    frame[ETH_HLEN + 8] = ttl;
    frame[ETH_HLEN + 10..ETH_HLEN + 12].copy_from_slice(&csum.to_be_bytes());
}

// ===== counters =====

/// A forwarder's counters (a snapshot of [`Forwarder::counters`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FwdStats {
    /// Frames read from the rings.
    pub received: u64,
    /// Copies handed to the kernel for transmission (those of the fast path included).
    pub forwarded: u64,
    /// Packets dropped because they arrived on an interface other than the route's iif.
    pub rpf_fail: u64,
    /// Packets dropped because their TTL was 1 or 0.
    pub ttl_expired: u64,
    /// Multicast data without an (S,G) or (*,G) route.
    pub no_route: u64,
    /// Copies that could not be sent: send errors, a full socket buffer, an oif the forwarder
    /// has no socket for, or a frame larger than the TX slot.
    pub tx_errors: u64,
    /// Frames that are not forwardable data: not IPv4, VLAN-tagged, unicast, 224.0.0.0/24.
    pub ignored: u64,
    /// IPv4 frames with a bad header or a length that does not fit (also truncated frames).
    pub malformed: u64,
    /// Frames the kernel dropped because the ring was full (PACKET_STATISTICS).
    pub ring_drops: u64,
    /// Times a ring froze full (PACKET_STATISTICS tp_freeze_q_cnt).
    pub ring_freezes: u64,
    /// Data packets encapsulated in a PIM Register and sent to the RP (the register tunnel).
    pub registers_sent: u64,
    /// Registers that could not be sent (no raw socket, a send error, a full buffer).
    pub register_errors: u64,
    /// Pauses the saturated thread took ([`FwdConfig::busy_slice`]).
    pub busy_pauses: u64,
    /// Packets forwarded by the in-kernel fast path ([`FwdConfig::fast_path`]), which never
    /// reach the rings (not in `received`); its TTL drops count in `ttl_expired` and the
    /// copies it could not make in `tx_errors`.
    pub fast_received: u64,
    /// Copies the fast path sent (also in `forwarded`).
    pub fast_forwarded: u64,
    /// Routes the fast path holds (the others are forwarded from the rings).
    pub fast_routes: u64,
    /// Frames the fast path shed: their copies would have passed its copy budget
    /// ([`FwdConfig::fast_path_pacing`]); the fast path's counterpart of `ring_drops`.
    pub fast_shed: u64,
    /// Times the fast path's copy budget was cut for congestion.
    pub fast_budget_cuts: u64,
    /// The copy budget in force (copies per CPU per millisecond; 0: unpaced).
    pub fast_budget: u64,
}

#[derive(Debug, Default)]
struct SharedStats {
    received: AtomicU64,
    forwarded: AtomicU64,
    rpf_fail: AtomicU64,
    ttl_expired: AtomicU64,
    no_route: AtomicU64,
    tx_errors: AtomicU64,
    ignored: AtomicU64,
    malformed: AtomicU64,
    ring_drops: AtomicU64,
    ring_freezes: AtomicU64,
    registers_sent: AtomicU64,
    register_errors: AtomicU64,
    busy_pauses: AtomicU64,
    fast_received: AtomicU64,
    fast_forwarded: AtomicU64,
    fast_routes: AtomicU64,
    fast_shed: AtomicU64,
    fast_budget_cuts: AtomicU64,
    fast_budget: AtomicU64,
}

macro_rules! each_counter {
    ($m:ident) => {
        $m!(
            received,
            forwarded,
            rpf_fail,
            ttl_expired,
            no_route,
            tx_errors,
            ignored,
            malformed,
            ring_drops,
            ring_freezes,
            registers_sent,
            register_errors,
            busy_pauses,
            fast_received,
            fast_forwarded,
            fast_routes,
            fast_shed,
            fast_budget_cuts,
            fast_budget
        )
    };
}

impl SharedStats {
    /// The forwarding thread is the only writer, so plain stores of its running totals suffice.
    fn store(&self, s: &FwdStats) {
        macro_rules! st {
            ($($f:ident),*) => { $(self.$f.store(s.$f, Ordering::Relaxed);)* };
        }
        each_counter!(st);
    }

    fn load(&self) -> FwdStats {
        macro_rules! ld {
            ($($f:ident),*) => { FwdStats { $($f: self.$f.load(Ordering::Relaxed)),* } };
        }
        each_counter!(ld)
    }
}

// ===== transmit queues =====

/// How copies are handed to the kernel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TxMode {
    /// Copies gathered in a buffer per output interface, sent with one `sendmmsg` per batch.
    #[default]
    Sendmmsg,
    /// Copies written in place into a TPACKET_V3 transmit ring per output interface, one
    /// `send` kick per batch ([`crate::txring`]).
    Ring,
}

/// Write the copy of `frame` for an output interface into `slot` (same length): source MAC,
/// TTL and header checksum, and the UDP checksum when it had to be completed.
#[inline]
fn write_copy(
    slot: &mut [u8],
    frame: &[u8],
    mac: &[u8; 6],
    ttl: u8,
    csum: [u8; 2],
    l4: Option<(usize, [u8; 2])>,
) {
    slot.copy_from_slice(frame);
    slot[6..12].copy_from_slice(mac);
    slot[ETH_HLEN + 8] = ttl;
    slot[ETH_HLEN + 10..ETH_HLEN + 12].copy_from_slice(&csum);
    if let Some((at, value)) = l4 {
        slot[at..at + 2].copy_from_slice(&value);
    }
}

/// Copies waiting for one output interface.
struct TxQueue {
    ifindex: u32,
    mac: [u8; 6],
    /// The largest copy the queue takes.
    slot_len: usize,
    /// Copies per `sendmmsg` or per kick.
    batch: usize,
    /// Copies queued since the last send or kick.
    queued: usize,
    out: TxOut,
}

enum TxOut {
    Mmsg(Mmsg),
    Ring(TxRing),
}

/// The `sendmmsg` buffers: `batch` slots of `slot_len` bytes and their headers.
struct Mmsg {
    fd: RawFd,
    /// The socket behind `fd`, when the queue owns it.
    _sock: Option<PacketSocket>,
    buf: Vec<u8>,
    lens: Vec<usize>,
    iovs: Vec<libc::iovec>,
    msgs: Vec<libc::mmsghdr>,
}

impl TxQueue {
    /// A `sendmmsg` queue on `fd`, which must stay open as long as the queue is used.
    fn new(fd: RawFd, ifindex: u32, mac: [u8; 6], batch: usize, slot_len: usize) -> TxQueue {
        let batch = batch.max(1);
        TxQueue {
            ifindex,
            mac,
            slot_len,
            batch,
            queued: 0,
            out: TxOut::Mmsg(Mmsg {
                fd,
                _sock: None,
                buf: vec![0; batch * slot_len],
                lens: vec![0; batch],
                iovs: (0..batch)
                    .map(|_| libc::iovec {
                        iov_base: std::ptr::null_mut(),
                        iov_len: 0,
                    })
                    .collect(),
                // SAFETY: all-zero is a valid mmsghdr (null pointers, zero lengths).
                msgs: (0..batch).map(|_| unsafe { mem::zeroed() }).collect(),
            }),
        }
    }

    /// A `sendmmsg` queue that owns its socket.
    fn owning(sock: PacketSocket, mac: [u8; 6], batch: usize, slot_len: usize) -> TxQueue {
        let mut q = TxQueue::new(sock.as_raw_fd(), sock.ifindex(), mac, batch, slot_len);
        if let TxOut::Mmsg(m) = &mut q.out {
            m._sock = Some(sock);
        }
        q
    }

    /// A queue on a transmit ring: copies go straight into its slots.
    fn ring(ring: TxRing, mac: [u8; 6], batch: usize, max_frame: usize) -> TxQueue {
        TxQueue {
            ifindex: ring.ifindex(),
            mac,
            slot_len: max_frame.min(ring.max_frame_len()),
            batch: batch.max(1),
            queued: 0,
            out: TxOut::Ring(ring),
        }
    }

    /// Queue a copy of `frame` rewritten for this interface (TTL and checksum given); sends
    /// a full batch first.
    #[inline]
    fn push(
        &mut self,
        frame: &[u8],
        ttl: u8,
        csum: [u8; 2],
        l4: Option<(usize, [u8; 2])>,
        stats: &mut FwdStats,
    ) {
        if self.queued >= self.batch {
            self.flush(stats);
        }
        let mac = self.mac;
        match &mut self.out {
            TxOut::Mmsg(m) => {
                let i = self.queued;
                let at = i * self.slot_len;
                write_copy(&mut m.buf[at..at + frame.len()], frame, &mac, ttl, csum, l4);
                m.lens[i] = frame.len();
                self.queued += 1;
            }
            TxOut::Ring(r) => {
                let fill = |slot: &mut [u8]| write_copy(slot, frame, &mac, ttl, csum, l4);
                if r.push(frame.len(), fill) {
                    self.queued += 1;
                    stats.forwarded += 1;
                    return;
                }
                // Full: have the kernel send what it has (on a veth that also frees the
                // slots), then try once more.
                if self.queued > 0 || r.unsent() {
                    let _ = r.kick();
                    self.queued = 0;
                }
                let fill = |slot: &mut [u8]| write_copy(slot, frame, &mac, ttl, csum, l4);
                if r.push(frame.len(), fill) {
                    self.queued += 1;
                    stats.forwarded += 1;
                } else {
                    stats.tx_errors += 1;
                }
            }
        }
    }

    /// Frames requested from a ring that no kick has sent yet (the last one failed).
    fn unsent(&self) -> bool {
        matches!(&self.out, TxOut::Ring(r) if r.unsent())
    }

    /// Send everything queued; counts what went out and what failed (for a ring, copies count
    /// as forwarded when they are written, and those the device refuses are sent again by
    /// the next kick).
    fn flush(&mut self, stats: &mut FwdStats) {
        let n = self.queued;
        self.queued = 0;
        match &mut self.out {
            TxOut::Ring(r) => {
                if n > 0 || r.unsent() {
                    let _ = r.kick();
                }
            }
            TxOut::Mmsg(m) => m.send(n, self.slot_len, stats),
        }
    }
}

impl Mmsg {
    /// `sendmmsg` the first `n` slots.
    fn send(&mut self, n: usize, slot_len: usize, stats: &mut FwdStats) {
        if n == 0 {
            return;
        }
        let base = self.buf.as_mut_ptr();
        for i in 0..n {
            self.iovs[i] = libc::iovec {
                // SAFETY: slot i lies inside `buf` (i < batch, buf holds batch slots).
                iov_base: unsafe { base.add(i * slot_len) }.cast(),
                iov_len: self.lens[i],
            };
            let h = &mut self.msgs[i].msg_hdr;
            h.msg_iov = &mut self.iovs[i];
            h.msg_iovlen = 1;
            self.msgs[i].msg_len = 0;
        }
        let mut off = 0;
        let mut interrupted = 0;
        while off < n {
            // SAFETY: msgs[off..n] are initialised mmsghdrs whose iovecs point into `buf`,
            // all alive for the call; the socket is bound to the interface, so no address.
            let r = unsafe {
                libc::sendmmsg(
                    self.fd,
                    self.msgs.as_mut_ptr().add(off),
                    (n - off) as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if r > 0 {
                stats.forwarded += r as u64;
                off += r as usize;
                continue;
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) if interrupted < 3 => interrupted += 1,
                // The socket buffer or the device queue is full: drop the rest of the batch.
                Some(libc::EAGAIN) | Some(libc::ENOBUFS) | Some(libc::EINTR) => {
                    stats.tx_errors += (n - off) as u64;
                    off = n;
                }
                // Something wrong with this one copy (too big for the MTU, device down): skip it.
                _ => {
                    stats.tx_errors += 1;
                    off += 1;
                }
            }
        }
    }
}

// ===== the per-frame work =====

/// The forwarding state of one thread: transmit queues and running counters.
struct Engine {
    txq: Vec<TxQueue>,
    /// (ifindex, index into txq), sorted by ifindex.
    by_ifindex: Vec<(u32, usize)>,
    stats: FwdStats,
    upcall: Option<Upcalls>,
    /// Sends the Registers of routes with a register tunnel (`None`: the raw socket could not
    /// be opened; such Registers count as errors).
    register: Option<RegisterTx>,
    /// The arrival times (CLOCK_REALTIME ns) of the frames this forwarder is responsible for:
    /// from when it took over from the one it replaced, until the one replacing it took over.
    /// Frames outside are the other forwarder's (see [`Forwarder::launch`]).
    from_ns: u64,
    until_ns: u64,
    /// Frames handled inside the window since the last [`Engine::take_in_window`].
    in_window: u64,
}

/// Reports of data without a route (like ipmr's NOCACHE upcall) or on another interface than
/// its route's incoming one (ipmr's WRONGVIF) to the control plane: one
/// 12-byte datagram (source, group, ifindex) per flow at most every [`UPCALL_EVERY`], sent
/// without blocking and without allocating; a full socket drops the report.
struct Upcalls {
    sock: UnixDatagram,
    recent: [(u32, u32, u32, Option<Instant>); 16],
    next: usize,
}

/// The shortest time between two reports of the same flow.
pub const UPCALL_EVERY: Duration = Duration::from_secs(1);

impl Upcalls {
    fn report(&mut self, source: Ipv4Addr, group: Ipv4Addr, ifindex: u32) {
        let key = (u32::from(source), u32::from(group), ifindex);
        let now = Instant::now();
        if let Some(e) = self
            .recent
            .iter_mut()
            .find(|e| (e.0, e.1, e.2) == key && e.3.is_some())
        {
            if e.3.is_some_and(|t| now.duration_since(t) < UPCALL_EVERY) {
                return;
            }
            e.3 = Some(now);
        } else {
            self.recent[self.next] = (key.0, key.1, key.2, Some(now));
            self.next = (self.next + 1) % self.recent.len();
        }
        let _ = self.sock.send(&encode_upcall(source, group, ifindex));
    }
}

/// The datagram of one upcall.
pub fn encode_upcall(source: Ipv4Addr, group: Ipv4Addr, ifindex: u32) -> [u8; 12] {
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&source.octets());
    b[4..8].copy_from_slice(&group.octets());
    b[8..].copy_from_slice(&ifindex.to_be_bytes());
    b
}

/// (source, group, ifindex) of an upcall datagram.
pub fn decode_upcall(b: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr, u32)> {
    if b.len() != 12 {
        return None;
    }
    Some((
        Ipv4Addr::new(b[0], b[1], b[2], b[3]),
        Ipv4Addr::new(b[4], b[5], b[6], b[7]),
        u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
    ))
}

impl Engine {
    fn new(txq: Vec<TxQueue>) -> Engine {
        let mut by_ifindex: Vec<(u32, usize)> = txq
            .iter()
            .enumerate()
            .map(|(i, q)| (q.ifindex, i))
            .collect();
        by_ifindex.sort_unstable();
        Engine {
            txq,
            by_ifindex,
            stats: FwdStats::default(),
            upcall: None,
            register: None,
            from_ns: 0,
            until_ns: u64::MAX,
            in_window: 0,
        }
    }

    /// Take the cut set by a forwarder replacing this one (`0`: none yet); true once taken.
    #[inline]
    fn see_cut(&mut self, cut: &AtomicU64) -> bool {
        if self.until_ns == u64::MAX {
            let at = cut.load(Ordering::Acquire);
            if at != 0 {
                self.until_ns = at;
            }
        }
        self.until_ns != u64::MAX
    }

    fn take_in_window(&mut self) -> u64 {
        std::mem::take(&mut self.in_window)
    }

    fn queue_for(&self, ifindex: u32) -> Option<usize> {
        self.by_ifindex
            .binary_search_by_key(&ifindex, |&(i, _)| i)
            .ok()
            .map(|k| self.by_ifindex[k].1)
    }

    /// Handle one frame received on `in_ifindex`.
    #[inline]
    fn handle(&mut self, table: &Table, in_ifindex: u32, frame: Frame<'_>) {
        // A frame without a receive time counts as arriving now.
        let ts = if frame.ts_ns == 0 {
            u64::MAX
        } else {
            frame.ts_ns
        };
        // (`until_ns` MAX: no cut yet; a frame without a time is then this forwarder's.)
        if ts < self.from_ns || (ts >= self.until_ns && self.until_ns != u64::MAX) {
            return;
        }
        self.in_window += 1;
        self.stats.received += 1;
        if frame.vlan_tci.is_some() {
            self.stats.ignored += 1;
            return;
        }
        let d = match classify(frame.data) {
            Class::Data(d) => d,
            Class::Malformed => {
                self.stats.malformed += 1;
                return;
            }
            Class::NotIpv4 | Class::NotMulticast | Class::LinkLocal => {
                self.stats.ignored += 1;
                return;
            }
        };
        let Some(route) = table.lookup(d.source, d.group) else {
            self.stats.no_route += 1;
            if let Some(u) = &mut self.upcall {
                u.report(d.source, d.group, in_ifindex);
            }
            return;
        };
        if route.iif != in_ifindex {
            self.stats.rpf_fail += 1;
            // The control plane wants to know of another router forwarding onto one of our
            // outgoing interfaces (a PIM Assert) and, when it asked, of data on the way to the
            // shortest-path tree. Anything else (e.g. the active router's copies reaching the
            // backup's blocked LAN port) is only counted.
            let on_oif = route
                .oifs
                .iter()
                .any(|o| o.ifindex == in_ifindex && o.forwarding);
            if on_oif || route.watch_other_iifs {
                if let Some(u) = &mut self.upcall {
                    u.report(d.source, d.group, in_ifindex);
                }
            }
            return;
        }
        if d.ttl <= 1 {
            self.stats.ttl_expired += 1;
            return;
        }
        route.counters.add(d.ip_len as u64);
        let bytes = &frame.data[..ETH_HLEN + d.ip_len];
        let (ttl, csum) = ttl_decrement(&bytes[ETH_HLEN..]);
        let l4 = if frame.csum_not_ready {
            udp_checksum(&bytes[ETH_HLEN..]).map(|(at, c)| (ETH_HLEN + at, c.to_be_bytes()))
        } else {
            None
        };
        for oif in route.forwarding_oifs_at(ts) {
            let Some(q) = self.queue_for(oif) else {
                self.stats.tx_errors += 1;
                continue;
            };
            let q = &mut self.txq[q];
            if bytes.len() > q.slot_len {
                self.stats.tx_errors += 1;
                continue;
            }
            q.push(bytes, ttl, csum.to_be_bytes(), l4, &mut self.stats);
        }
        if let Some(rp) = route.register_to {
            // The packet as it arrived (the RP decrements the TTL when it forwards it), with
            // a UDP checksum left to offload completed.
            let fix = l4.map(|(at, c)| (at - ETH_HLEN, c));
            let sent = self
                .register
                .as_mut()
                .is_some_and(|r| r.send(rp, &bytes[ETH_HLEN..], fix).is_ok());
            if sent {
                self.stats.registers_sent += 1;
            } else {
                self.stats.register_errors += 1;
            }
        }
    }

    fn flush(&mut self) {
        for q in &mut self.txq {
            q.flush(&mut self.stats);
        }
    }

    /// Whether a ring holds copies that its last kick could not send.
    fn unsent(&self) -> bool {
        self.txq.iter().any(TxQueue::unsent)
    }
}

// ===== sockets and the thread =====

/// One interface the forwarder serves: it receives on it and sends copies out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FwdIf {
    pub ifindex: u32,
    /// For logs and the thread's diagnostics only.
    pub name: String,
    /// Source MAC of the copies sent out of this interface.
    pub mac: [u8; 6],
}

/// Tuning of a forwarder.
#[derive(Debug, Clone)]
pub struct FwdConfig {
    pub ring: RingConfig,
    /// How copies are sent: `sendmmsg` batches or a transmit ring per output interface. Chosen
    /// when the [`Ports`] are opened.
    pub tx: TxMode,
    /// Geometry of each transmit ring ([`TxMode::Ring`]).
    pub tx_ring: TxRingConfig,
    /// Copies queued per output interface before a `sendmmsg` (or a ring's kick).
    pub tx_batch: usize,
    /// The largest frame forwarded (Ethernet header included); larger ones count as tx_errors.
    pub max_frame: usize,
    /// Blocks taken from one ring before moving to the next (fairness between interfaces).
    pub blocks_per_turn: usize,
    /// How long the idle thread sleeps in poll() before checking for stop.
    pub idle_wait: Duration,
    /// PACKET_QDISC_BYPASS on the transmit sockets: faster on NICs with a qdisc, but copies then
    /// skip traffic control and are not seen by captures on the output interface.
    pub qdisc_bypass: bool,
    /// SO_SNDBUF(FORCE) of each transmit socket.
    pub send_buffer: usize,
    /// After this long busy without a pause (the rings never ran dry), the thread sleeps for
    /// [`FwdConfig::busy_pause`]. A real-time thread that keeps a CPU 100 % busy starves the
    /// normal threads there, and the kernel's fair server (Linux >= 6.12) then takes that CPU
    /// from every real-time thread, the protocol thread's BFD included, for up to 50 ms a
    /// second; short regular pauses give the normal threads their share first. `None`: never.
    pub busy_slice: Option<Duration>,
    /// How long each such pause lasts.
    pub busy_pause: Duration,
    /// Forward the routes that can be offloaded in the kernel ([`crate::fastpath`]): an eBPF
    /// classifier at tc ingress of each interface, the rings keeping the rest. When the
    /// programs cannot be loaded or attached, the forwarder logs why and uses the rings alone.
    /// Off here (the benches choose); on in the agent (`NE_FAST_PATH=0` turns it off there).
    pub fast_path: bool,
    /// The most routes the fast path holds.
    pub fast_path_routes: u32,
    /// Frames the fast path forwards also go to the host's IP stack (see
    /// [`Forwarder::set_local_delivery`], which changes it while the forwarder runs).
    pub fast_path_local_delivery: bool,
    /// Shed the fast path's load when its copies overflow the CPUs' input backlogs or control
    /// traffic runs late ([`crate::pacing`]), as the busy pause paces the rings: without it, a
    /// saturated fast path on veth drops control frames with its data or holds up the threads
    /// that send them.
    pub fast_path_pacing: bool,
    /// The CPUs a forwarder launched with [`Forwarder::launch`] keeps its thread on (its rings
    /// are opened there too); `None`: any. The agent takes them from `NE_FORWARDING_CPUS`.
    pub cpus: Option<Vec<usize>>,
    /// Times the device's control traffic was late (its threads' wake-ups, a BFD peer's
    /// packets), counted by the control plane: the pacing's signal that the fast path starves
    /// it (see [`crate::pacing`]).
    pub control_late: Option<Arc<AtomicU64>>,
}

impl Default for FwdConfig {
    fn default() -> FwdConfig {
        FwdConfig {
            // Bound to every EtherType (the filter keeps IPv4 multicast data): a socket bound
            // to all protocols is a tap the kernel serves before its own ip_rcv, which then gets
            // the frame unshared. Bound to IPv4 only, the ring would be served after ip_rcv,
            // which would find the frame shared with it and clone it first: one more skb per
            // frame, for a frame the host drops anyway.
            ring: RingConfig {
                protocol: ETH_P_ALL,
                ..RingConfig::default()
            },
            tx: TxMode::default(),
            tx_ring: TxRingConfig::default(),
            tx_batch: 64,
            max_frame: 1522,
            blocks_per_turn: 4,
            idle_wait: Duration::from_millis(50),
            // At most about 90 % of a CPU when saturated: more than the fair server's 5 %.
            busy_slice: Some(Duration::from_millis(10)),
            busy_pause: Duration::from_millis(1),
            qdisc_bypass: false,
            send_buffer: 4 << 20,
            fast_path: false,
            fast_path_routes: 4096,
            fast_path_local_delivery: false,
            fast_path_pacing: true,
            cpus: None,
            control_late: None,
        }
    }
}

/// The transmit side of a port.
enum Tx {
    Socket(PacketSocket),
    Ring(TxRing),
}

impl Tx {
    fn raw_fd(&self) -> RawFd {
        match self {
            Tx::Socket(s) => s.as_raw_fd(),
            Tx::Ring(r) => r.as_raw_fd(),
        }
    }
}

struct Port {
    ifindex: u32,
    name: String,
    mac: [u8; 6],
    ring: RxRing,
    tx: Tx,
}

/// The rings and transmit sockets of a forwarder, opened in the calling thread's network
/// namespace. They keep that namespace (they are bound to its netdevs), so the forwarding
/// thread may then run anywhere: open them with [`crate::netns::run_in`], spawn from outside.
pub struct Ports {
    ports: Vec<Port>,
    /// Sends the Registers of routes with a register tunnel, in the same namespace (`None`:
    /// the raw socket could not be opened, e.g. no CAP_NET_RAW; such Registers then count in
    /// `register_errors`).
    register: Option<RegisterTx>,
    /// The in-kernel fast path on these ports ([`FwdConfig::fast_path`]).
    fast: Option<FastClaim>,
}

/// The fast path and its load shedding, shared by a forwarder and the one that replaces it
/// ([`Forwarder::launch`]): the new one attaches the programs only where the old one had not,
/// and they come off an interface when no forwarder runs on it any more. Replacing a forwarder
/// so costs one tcx attach or detach per interface that joins or leaves, not one per interface
/// of each forwarder: each holds the kernel's RTNL lock across an RCU grace period, and every
/// other netlink user (the agent's protocol thread) waits meanwhile.
struct FastShared {
    path: FastPath,
    pacing: Option<Pacing>,
    /// The interfaces each forwarder using it runs on, by [`FastClaim::id`].
    claims: Vec<(u64, Vec<u32>)>,
    /// Ports were taken away: the routes map must be synced again.
    dirty: bool,
}

impl std::fmt::Debug for FastShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.path.fmt(f)
    }
}

type SharedFast = Arc<Mutex<FastShared>>;

/// The fast path of a line of forwarders, each launched after the one before
/// ([`Forwarder::launch`]): made by the first that opens its ports, taken up by the others.
type FastCell = Arc<Mutex<Option<SharedFast>>>;

/// One forwarder's use of a [`FastShared`]: dropping it (the forwarder ends) takes the
/// programs off the interfaces no other forwarder runs on.
struct FastClaim {
    shared: SharedFast,
    id: u64,
}

/// Claim ids.
static NEXT_CLAIM: AtomicU64 = AtomicU64::new(1);

impl Drop for FastClaim {
    fn drop(&mut self) {
        let unused = {
            let mut g = lock_fast(&self.shared);
            g.claims.retain(|(id, _)| *id != self.id);
            let claimed: Vec<u32> = g.claims.iter().flat_map(|(_, c)| c.clone()).collect();
            g.dirty |= g.path.retain_ports(&claimed);
            if g.claims.is_empty() {
                // No forwarder left: no route either, for the next one to start from.
                if let Err(e) = g.path.sync(&Table::new(), crate::ring::now_ns()) {
                    tracing::warn!(error = %e, "fast path: routes not cleared");
                }
            }
            g.path.take_unused_links()
        };
        // Detached outside the lock (a forwarder still running may want it for a heartbeat
        // meanwhile), on this thread, which is ending.
        if !unused.is_empty() {
            tracing::debug!(interfaces = unused.len(), "fast path leaving interfaces");
        }
        drop(unused);
    }
}

fn lock_fast(f: &SharedFast) -> MutexGuard<'_, FastShared> {
    f.lock().unwrap_or_else(PoisonError::into_inner)
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.ports.iter().map(|p| (&p.name, p.ifindex)))
            .finish()
    }
}

impl Ports {
    pub fn open(interfaces: &[FwdIf], cfg: &FwdConfig) -> io::Result<Ports> {
        Ports::open_with(interfaces, cfg, None)
    }

    /// Like [`Ports::open`], on the fast path of the line of forwarders `cell` when there is
    /// one (made here when it has none yet).
    fn open_with(
        interfaces: &[FwdIf],
        cfg: &FwdConfig,
        cell: Option<&FastCell>,
    ) -> io::Result<Ports> {
        let mut ports = Vec::with_capacity(interfaces.len());
        for i in interfaces {
            let ctx = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", i.name));
            let ring = RxRing::open(i.ifindex, cfg.ring).map_err(ctx)?;
            let tx = match cfg.tx {
                TxMode::Sendmmsg => Tx::Socket(PacketSocket::open(i.ifindex, None).map_err(ctx)?),
                TxMode::Ring => Tx::Ring(TxRing::open(i.ifindex, cfg.tx_ring).map_err(ctx)?),
            };
            let raw = tx.raw_fd();
            let sb = libc::c_int::try_from(cfg.send_buffer).unwrap_or(libc::c_int::MAX);
            if setsockopt(raw, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, &sb).is_err() {
                setsockopt(raw, libc::SOL_SOCKET, libc::SO_SNDBUF, &sb).map_err(ctx)?;
            }
            if cfg.qdisc_bypass {
                setsockopt(
                    raw,
                    libc::SOL_PACKET,
                    libc::PACKET_QDISC_BYPASS,
                    &1 as &libc::c_int,
                )
                .map_err(ctx)?;
            }
            ports.push(Port {
                ifindex: i.ifindex,
                name: i.name.clone(),
                mac: i.mac,
                ring,
                tx,
            });
        }
        let fast = if !cfg.fast_path {
            None
        } else if let Some(cell) = cell {
            let shared = {
                let mut c = cell.lock().unwrap_or_else(PoisonError::into_inner);
                if c.is_none() {
                    *c = new_fast_path(cfg);
                }
                c.clone()
            };
            shared.and_then(|s| adopt_fast_path(&ports, s))
        } else {
            new_fast_path(cfg).and_then(|s| adopt_fast_path(&ports, s))
        };
        Ok(Ports {
            ports,
            register: RegisterTx::open().ok(),
            fast,
        })
    }

    /// Whether the in-kernel fast path is on (asked for, loaded and attached).
    pub fn fast_path(&self) -> bool {
        self.fast.is_some()
    }
}

/// Load the fast path (on no interface yet); None, logged, when it cannot be loaded: the rings
/// then forward everything.
fn new_fast_path(cfg: &FwdConfig) -> Option<SharedFast> {
    let mut path = match FastPath::load(cfg.fast_path_routes) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e, "fast path not loaded; forwarding from the rings");
            return None;
        }
    };
    if let Err(e) = path.set_local_delivery(cfg.fast_path_local_delivery) {
        tracing::warn!(error = %e, "fast path settings not written; forwarding from the rings");
        return None;
    }
    let pacing = cfg
        .fast_path_pacing
        .then(|| Pacing::new(cfg.control_late.clone()));
    Some(Arc::new(Mutex::new(FastShared {
        path,
        pacing,
        claims: Vec::new(),
        dirty: false,
    })))
}

/// Put the fast path on the ports: the classifier at ingress of each one it is not on yet
/// (without holding the fast path, which a forwarder being replaced may be using), the tap
/// filter on each ring. A port where either cannot be put is left out (logged): routes
/// through it stay with the rings, which see all its data. None when no port is in.
fn adopt_fast_path(ports: &[Port], shared: SharedFast) -> Option<FastClaim> {
    let id = NEXT_CLAIM.fetch_add(1, Ordering::Relaxed);
    let (programs, had): (_, Vec<u32>) = {
        let mut g = lock_fast(&shared);
        // Claimed first: a forwarder ending meanwhile leaves these interfaces their programs.
        g.claims
            .push((id, ports.iter().map(|p| p.ifindex).collect()));
        let had = ports
            .iter()
            .map(|p| p.ifindex)
            .filter(|&i| g.path.has_port(i))
            .collect();
        (g.path.attacher(), had)
    };
    let mut added: Vec<(u32, [u8; 6], Link)> = Vec::new();
    let mut left_out = Vec::new();
    for p in ports {
        let link = if had.contains(&p.ifindex) {
            None
        } else {
            match programs.attach(p.ifindex) {
                Ok(l) => Some(l),
                Err(e) => {
                    tracing::warn!(interface = %p.name, error = %e,
                        "fast path not attached; the rings forward this interface's routes");
                    continue;
                }
            }
        };
        if let Err(e) = programs.filter_tap(p.ring.as_raw_fd()) {
            // The ring keeps its classic filter and sees every frame: no route through the
            // interface may be offloaded. (A new link drops here, off again.)
            tracing::warn!(interface = %p.name, error = %e,
                "fast path: tap filter not set; the rings forward this interface's routes");
            left_out.push(p.ifindex);
            continue;
        }
        if let Some(l) = link {
            added.push((p.ifindex, p.mac, l));
        }
    }
    let claim = FastClaim {
        shared: Arc::clone(&shared),
        id,
    };
    let mut g = lock_fast(&shared);
    for (ifindex, mac, link) in added {
        g.path.add_port(ifindex, mac, link);
    }
    let keep: Vec<u32> = ports
        .iter()
        .map(|p| p.ifindex)
        .filter(|i| !left_out.contains(i) && g.path.has_port(*i))
        .collect();
    if !left_out.is_empty() {
        let others: Vec<u32> = (g.path.ports()).filter(|i| !left_out.contains(i)).collect();
        g.dirty |= g.path.retain_ports(&others);
    }
    drop(g);
    if keep.is_empty() {
        tracing::warn!("fast path on no interface; forwarding from the rings");
        return None;
    }
    tracing::info!(interfaces = keep.len(), "fast path on");
    Some(claim)
}

/// What a forwarding thread runs on.
type ThreadInput = (Ports, Arc<Mfib>, FwdConfig, Option<UnixDatagram>);

/// A running forwarding thread. Dropping it stops the thread too.
#[derive(Debug)]
pub struct Forwarder {
    stop: Arc<AtomicBool>,
    stats: Arc<SharedStats>,
    ring_stats: Arc<std::sync::Mutex<Vec<(u32, RingStats)>>>,
    /// Why a [`Forwarder::launch`]ed thread could not open its ports.
    failure: Arc<std::sync::Mutex<Option<String>>>,
    /// Set by the forwarder that replaces this one: the arrival time from which frames are
    /// the new one's (0: none yet).
    cut: Arc<AtomicU64>,
    /// The arrival time from which this one forwards, once it does (0: not yet; `u64::MAX`:
    /// it ended without forwarding).
    started: Arc<AtomicU64>,
    /// See [`Signals::local_delivery`].
    local_delivery: Arc<AtomicU8>,
    /// The fast path of this forwarder's line: a forwarder replacing it takes it over.
    fast: FastCell,
    thread: Option<JoinHandle<()>>,
}

/// How long a replaced forwarder goes on serving the frames that arrived before the cut: its
/// rings hand blocks over on a 1 ms timer that the kernel rounds up to a jiffy (4 ms at 250 Hz).
const HANDOFF_DRAIN: Duration = Duration::from_millis(20);
/// The cut is set this far ahead of the moment it is stored, so that the old forwarder sees
/// it before it handles any frame that arrived from it on.
const HANDOFF_LEAD: Duration = Duration::from_millis(1);
/// A replaced forwarder ends this long after the cut whatever it still sees (a clock stepped
/// back would otherwise keep it serving).
const HANDOFF_MAX: Duration = Duration::from_secs(1);

impl Forwarder {
    /// Open rings and sockets on `interfaces` (in the calling thread's namespace) and start
    /// forwarding by the routes in `mfib`, with the default [`FwdConfig`].
    pub fn start(interfaces: Vec<FwdIf>, mfib: Arc<Mfib>) -> io::Result<Forwarder> {
        Forwarder::start_with(&interfaces, mfib, FwdConfig::default())
    }

    pub fn start_with(
        interfaces: &[FwdIf],
        mfib: Arc<Mfib>,
        cfg: FwdConfig,
    ) -> io::Result<Forwarder> {
        let ports = Ports::open(interfaces, &cfg)?;
        Forwarder::spawn(ports, mfib, cfg)
    }

    /// Start the forwarding thread on already opened `ports`.
    pub fn spawn(ports: Ports, mfib: Arc<Mfib>, cfg: FwdConfig) -> io::Result<Forwarder> {
        Forwarder::spawn_with_upcalls(ports, mfib, cfg, None)
    }

    /// Like [`Forwarder::spawn`]; data without a route is reported on `upcalls` (see
    /// [`decode_upcall`]), which should be non-blocking.
    pub fn spawn_with_upcalls(
        ports: Ports,
        mfib: Arc<Mfib>,
        cfg: FwdConfig,
        upcalls: Option<UnixDatagram>,
    ) -> io::Result<Forwarder> {
        let ifindexes = ports.ports.iter().map(|p| p.ifindex).collect();
        Forwarder::start_thread(ifindexes, FastCell::default(), move |_| {
            Ok(Some(((ports, mfib, cfg, upcalls), Handoff::default())))
        })
    }

    /// Start a forwarding thread that opens its own rings and sockets on `interfaces` and
    /// takes over from `after` (the forwarder it replaces, still running) make-before-break:
    /// once its rings are open, and so receive every frame the old ones do, it picks an
    /// instant of arrival; the old forwarder serves the frames that arrived before it and then
    /// ends, the new one those that arrived from it on. No frame is lost or sent twice, and
    /// forwarding does not pause while rings open and close (RCU grace periods, tens of
    /// milliseconds a set); the caller (the protocol thread) waits for neither. A retired
    /// `after` is simply waited for. When the ports cannot be opened the thread ends, `after`
    /// is stopped, and [`Forwarder::failure`] says why. With [`FwdConfig::fast_path`], a
    /// forwarder and all those launched after it share one fast path.
    pub fn launch(
        interfaces: Vec<FwdIf>,
        mfib: Arc<Mfib>,
        cfg: FwdConfig,
        upcalls: Option<UnixDatagram>,
        after: Option<Forwarder>,
    ) -> io::Result<Forwarder> {
        let ifindexes = interfaces.iter().map(|i| i.ifindex).collect();
        let cell = after
            .as_ref()
            .map(|a| Arc::clone(&a.fast))
            .unwrap_or_default();
        let line = Arc::clone(&cell);
        Forwarder::start_thread(ifindexes, cell, move |stop: &AtomicBool| {
            if let Some(cpus) = &cfg.cpus {
                if let Err(e) = crate::sock::set_cpu_affinity(cpus) {
                    tracing::warn!(error = %e, ?cpus, "the forwarding thread stays on every CPU");
                }
            }
            let ports = Ports::open_with(&interfaces, &cfg, Some(&line))?;
            if stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            let handoff = Handoff::take_over(after, stop);
            Ok(Some(((ports, mfib, cfg, upcalls), handoff)))
        })
    }

    /// The thread: `open` gives it its ports (in the thread; `None`: stopped before it
    /// started), then it forwards until stopped.
    fn start_thread<F>(ifindexes: Vec<u32>, fast: FastCell, open: F) -> io::Result<Forwarder>
    where
        F: FnOnce(&AtomicBool) -> io::Result<Option<(ThreadInput, Handoff)>> + Send + 'static,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(SharedStats::default());
        let ring_stats = Arc::new(std::sync::Mutex::new(
            ifindexes
                .into_iter()
                .map(|i| (i, RingStats::default()))
                .collect(),
        ));
        let failure = Arc::new(std::sync::Mutex::new(None));
        let (cut, started) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let local_delivery = Arc::new(AtomicU8::new(0));
        let thread = {
            let (stop, stats, ring_stats, failure, cut, started, local_delivery) = (
                stop.clone(),
                stats.clone(),
                ring_stats.clone(),
                failure.clone(),
                cut.clone(),
                started.clone(),
                local_delivery.clone(),
            );
            std::thread::Builder::new()
                .name("ne-fwd".into())
                .spawn(move || {
                    // Below the protocol thread (50) that starts it, above everything else:
                    // forwarding keeps up when the cores are busy, and opening the rings does
                    // not compete with BFD. Without CAP_SYS_NICE it stays a normal thread.
                    let _ = crate::sock::set_realtime(40);
                    match open(&stop) {
                        Ok(None) => {}
                        Ok(Some(((ports, mfib, cfg, upcalls), handoff))) => {
                            started.store(handoff.from_ns.max(1), Ordering::Release);
                            run(
                                ports,
                                &mfib,
                                &cfg,
                                Signals {
                                    stop: &stop,
                                    cut: &cut,
                                    local_delivery: &local_delivery,
                                },
                                &stats,
                                &ring_stats,
                                upcalls,
                                handoff,
                            )
                        }
                        Err(e) => {
                            *failure
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                                Some(e.to_string());
                        }
                    }
                    // Ended: a forwarder waiting to take over from this one need not.
                    let _ =
                        started.compare_exchange(0, u64::MAX, Ordering::AcqRel, Ordering::Relaxed);
                })?
        };
        Ok(Forwarder {
            cut,
            started,
            local_delivery,
            fast,
            stop,
            stats,
            ring_stats,
            failure,
            thread: Some(thread),
        })
    }

    /// Why the thread ended without being told to stop: its ports could not be opened (see
    /// [`Forwarder::launch`]) or it panicked. `None` while it runs.
    pub fn failure(&self) -> Option<String> {
        let ended = self.thread.as_ref().is_some_and(|t| t.is_finished());
        if !ended || self.stop.load(Ordering::Relaxed) {
            return None;
        }
        let why = self
            .failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        Some(why.unwrap_or_else(|| "the forwarding thread ended".into()))
    }

    /// Whether the frames the fast path forwards also go to the host's IP stack (the agent's
    /// `kernel-bypass` false); applied by the thread within a turn of its loop. No effect
    /// without the fast path (the rings' frames are the kernel-bypass filter's business).
    pub fn set_local_delivery(&self, on: bool) {
        self.local_delivery
            .store(if on { 2 } else { 1 }, Ordering::Relaxed);
    }

    /// Tell the thread to stop without waiting for it; pass the result as `after` to the next
    /// [`Forwarder::launch`] (or drop it, which waits).
    pub fn retire(self) -> Forwarder {
        self.stop.store(true, Ordering::Relaxed);
        self
    }

    /// The counters as last published by the thread (once per turn of its loop; ring counters
    /// about every 100 ms).
    pub fn counters(&self) -> FwdStats {
        self.stats.load()
    }

    /// Cumulative ring statistics per interface (ifindex, stats), about every 100 ms.
    pub fn ring_stats(&self) -> Vec<(u32, RingStats)> {
        self.ring_stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Stop the thread, wait for it and return the final counters.
    pub fn stop(mut self) -> FwdStats {
        self.halt();
        self.counters()
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.halt();
    }
}

const RING_STATS_EVERY: Duration = Duration::from_millis(100);
/// How often the thread tells the fast path it is alive (its watchdog allows
/// [`crate::fastpath::WATCHDOG_NS`]).
const FAST_HEARTBEAT_EVERY: Duration = Duration::from_millis(1);

/// The receive side of a port, in the thread.
struct RxPort {
    ifindex: u32,
    ring: RxRing,
}

/// What a forwarding thread is told by others: stop now, or (`cut`) stop serving frames that
/// arrived from then on, as a new forwarder has taken over.
struct Signals<'a> {
    stop: &'a AtomicBool,
    cut: &'a AtomicU64,
    /// [`Forwarder::set_local_delivery`]: 0 not called, 1 off, 2 on.
    local_delivery: &'a AtomicU8,
}

/// How a forwarder took over from the one it replaced.
#[derive(Default)]
struct Handoff {
    /// Arrival time from which frames are this forwarder's (0: all).
    from_ns: u64,
    /// The forwarder it replaced, still serving the frames from before `from_ns`; dropped
    /// (joined) once it has ended.
    old: Option<Forwarder>,
}

impl Handoff {
    /// Called once this forwarder's rings are open: wait until `old` has a window of its own
    /// (it may still be taking over from its predecessor), then cut after it.
    fn take_over(old: Option<Forwarder>, stop: &AtomicBool) -> Handoff {
        let Some(old) = old else {
            return Handoff::default();
        };
        let deadline = Instant::now() + HANDOFF_MAX;
        let old_from = loop {
            let from = old.started.load(Ordering::Acquire);
            if from != 0 || old.stop.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed) {
                break from;
            }
            if Instant::now() >= deadline {
                // Still opening after a second: it has forwarded nothing; stop it.
                old.stop.store(true, Ordering::Relaxed);
                break 0;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        // A forwarder that ended or was stopped hands nothing over.
        if old_from == u64::MAX || old.stop.load(Ordering::Relaxed) {
            return Handoff {
                from_ns: 0,
                old: Some(old),
            };
        }
        let from_ns = (crate::ring::now_ns() + HANDOFF_LEAD.as_nanos() as u64).max(old_from + 1);
        old.cut.store(from_ns, Ordering::Release);
        Handoff {
            from_ns,
            old: Some(old),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    ports: Ports,
    mfib: &Mfib,
    cfg: &FwdConfig,
    signals: Signals<'_>,
    shared: &SharedStats,
    ring_stats: &std::sync::Mutex<Vec<(u32, RingStats)>>,
    upcalls: Option<UnixDatagram>,
    mut handoff: Handoff,
) {
    let Ports {
        ports,
        register,
        fast,
    } = ports;
    let slot_len = cfg.max_frame.max(ETH_HLEN + 20);
    let mut txq = Vec::with_capacity(ports.len());
    let mut ports: Vec<RxPort> = ports
        .into_iter()
        .map(|p| {
            txq.push(match p.tx {
                Tx::Socket(s) => TxQueue::owning(s, p.mac, cfg.tx_batch, slot_len),
                Tx::Ring(r) => TxQueue::ring(r, p.mac, cfg.tx_batch, slot_len),
            });
            RxPort {
                ifindex: p.ifindex,
                ring: p.ring,
            }
        })
        .collect();
    let mut engine = Engine::new(txq);
    engine.from_ns = handoff.from_ns;
    engine.upcall = upcalls.map(|sock| Upcalls {
        sock,
        recent: [(0, 0, 0, None); 16],
        next: 0,
    });
    engine.register = register;
    let mut pfds: Vec<libc::pollfd> = ports
        .iter()
        .map(|p| libc::pollfd {
            fd: p.ring.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // With the fast path, a new table (a gate switch) must reach the kernel's routes map at
    // once: the thread also polls the MFIB's waker.
    let waker = fast.as_ref().and_then(|_| match mfib.waker() {
        Ok(fd) => Some(fd),
        Err(e) => {
            tracing::warn!(error = %e, "no MFIB waker: fast path syncs within a millisecond");
            None
        }
    });
    if let Some(fd) = waker {
        pfds.push(libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        });
    }
    let mut rstats = vec![RingStats::default(); ports.len()];
    // With the fast path, the rings stay idle while routed data flows; look every millisecond
    // for the heartbeat and the pacing.
    let idle_ms = if fast.is_some() {
        1
    } else {
        cfg.idle_wait.as_millis().clamp(1, 1000) as libc::c_int
    };
    let mut reader = mfib.reader();
    let mut last_ring_stats = Instant::now();

    // Replaced: when the cut was seen (monotonic), for the deadlines of the drain.
    let mut cut_seen: Option<Instant> = None;
    // Since when the thread has been busy without sleeping (see `FwdConfig::busy_slice`).
    let mut busy_since = Instant::now();
    let mut fast_synced = false;
    let mut last_heartbeat: Option<Instant> = None;
    while !signals.stop.load(Ordering::Relaxed) {
        let changed = reader.refresh(mfib);
        let table = reader.table();
        if let Some(claim) = fast.as_ref() {
            // Shared with the forwarder this one replaces, or replaced by, while both run
            // (the drain, HANDOFF_DRAIN): each does the same from the same table.
            let mut g = lock_fast(&claim.shared);
            let FastShared {
                path: f,
                pacing,
                dirty,
                ..
            } = &mut *g;
            let switch_due = f
                .next_switch_ns()
                .is_some_and(|t| crate::ring::now_ns() >= t);
            let want = match signals.local_delivery.load(Ordering::Relaxed) {
                0 => cfg.fast_path_local_delivery,
                v => v == 2,
            };
            if last_heartbeat.is_none_or(|t| t.elapsed() >= FAST_HEARTBEAT_EVERY) {
                last_heartbeat = Some(Instant::now());
                if let Err(e) = f.heartbeat() {
                    tracing::warn!(error = %e, "fast path: no heartbeat");
                }
            }
            if want != f.local_delivery() {
                if let Err(e) = f.set_local_delivery(want) {
                    tracing::warn!(error = %e, "fast path: local delivery not changed");
                }
            }
            if changed || !fast_synced || switch_due || *dirty {
                fast_synced = true;
                *dirty = false;
                sync_fast_path(f, table, &mut engine.stats);
            }
            if let Some(p) = pacing.as_mut() {
                p.tick(f, &mut engine.stats);
            }
        }
        let mut frames = 0;
        for p in &mut ports {
            let ifindex = p.ifindex;
            frames += p.ring.for_each_frame(cfg.blocks_per_turn, |f| {
                // Looked at per frame until set: the cut lies a little ahead of the moment
                // it is set, so no frame from it on is judged without it.
                engine.see_cut(signals.cut);
                engine.handle(table, ifindex, f);
            });
        }
        engine.flush();
        let served = engine.take_in_window();
        if handoff
            .old
            .as_ref()
            .is_some_and(|o| o.thread.as_ref().is_none_or(|t| t.is_finished()))
        {
            handoff.old = None;
        }
        if cut_seen.is_none() && engine.see_cut(signals.cut) {
            cut_seen = Some(Instant::now());
        }
        // (Frames that arrived after the cut still reach this forwarder's rings until it
        // closes them; they are the new one's, skipped uncounted.)
        if let Some(at) = cut_seen {
            // Done once the frames from before the cut have all been served: nothing of
            // them in this pass, and every ring has handed over its blocks since.
            let waited = at.elapsed();
            if (waited >= HANDOFF_DRAIN && served == 0) || waited >= HANDOFF_MAX {
                break;
            }
        }

        if last_ring_stats.elapsed() >= RING_STATS_EVERY {
            last_ring_stats = Instant::now();
            update_ring_stats(&mut ports, &mut rstats, &mut engine.stats, ring_stats);
            if let Some(c) = fast.as_ref() {
                fold_fast_counters(&mut lock_fast(&c.shared).path, table, &mut engine.stats);
            }
        }
        shared.store(&engine.stats);

        if frames == 0 {
            // Copies a ring could not send yet (the device refused one) are retried by the
            // next flush: come back within a millisecond.
            let wait = if engine.unsent() || cut_seen.is_some() {
                1
            } else {
                idle_ms
            };
            // SAFETY: `pfds` is a live array of pollfd structs of the length given.
            unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, wait) };
            if let (Some(fd), Some(p)) = (waker, pfds.last()) {
                if p.revents & libc::POLLIN != 0 {
                    crate::mfib::drain_waker(fd);
                }
            }
            busy_since = Instant::now();
        } else if cfg.busy_slice.is_some_and(|s| busy_since.elapsed() >= s) {
            // Saturated: let the CPU's normal threads run for a moment (the rings buffer
            // tens of milliseconds meanwhile).
            std::thread::sleep(cfg.busy_pause);
            engine.stats.busy_pauses += 1;
            busy_since = Instant::now();
        }
    }
    engine.flush();
    update_ring_stats(&mut ports, &mut rstats, &mut engine.stats, ring_stats);
    if let Some(c) = fast.as_ref() {
        fold_fast_counters(
            &mut lock_fast(&c.shared).path,
            reader.table(),
            &mut engine.stats,
        );
    }
    shared.store(&engine.stats);
}

/// The fast path's load shedding: every [`crate::pacing::TICK_NS`], the CPUs' backlogs and
/// the classifier's counts go to the [`Pacer`](crate::pacing::Pacer), whose budget goes to the
/// classifier.
struct Pacing {
    pacer: crate::pacing::Pacer,
    cpus: usize,
    next: Instant,
    /// Frames shed as last counted, for the stats.
    shed: u64,
    control_late: Option<Arc<AtomicU64>>,
    softnet: crate::pacing::SoftnetReader,
}

impl Pacing {
    fn new(control_late: Option<Arc<AtomicU64>>) -> Pacing {
        // SAFETY: sysconf has no memory effects.
        let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) }.max(1) as usize;
        Pacing {
            pacer: crate::pacing::Pacer::new(),
            cpus,
            next: Instant::now(),
            shed: 0,
            control_late,
            softnet: crate::pacing::SoftnetReader::new(),
        }
    }

    fn tick(&mut self, fast: &mut FastPath, stats: &mut FwdStats) {
        let now = Instant::now();
        if now < self.next {
            return;
        }
        self.next = now + Duration::from_nanos(crate::pacing::TICK_NS);
        let copies = match fast.cpu_copies(self.cpus) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "fast path: pacers unreadable");
                return;
            }
        };
        let shed: u64 = copies.iter().map(|c| c.shed).sum();
        stats.fast_shed += shed.saturating_sub(self.shed);
        self.shed = shed;
        let seen = crate::pacing::Observation {
            at_ns: crate::fastpath::monotonic_ns(),
            softnet: self.softnet.read(),
            copies,
            control_late: self
                .control_late
                .as_ref()
                .map_or(0, |c| c.load(Ordering::Relaxed)),
        };
        let Some(budget) = self.pacer.observe(seen) else {
            return;
        };
        stats.fast_budget_cuts = self.pacer.cuts();
        stats.fast_budget = budget.map_or(0, u64::from);
        tracing::debug!(budget = ?budget, cuts = self.pacer.cuts(), "fast path copy budget");
        if let Err(e) = fast.set_copy_budget(budget) {
            tracing::warn!(error = %e, "fast path: copy budget not set");
        }
    }
}

/// Make the fast path hold the offloadable routes of `table` (gates as they stand now).
fn sync_fast_path(fast: &mut FastPath, table: &Table, stats: &mut FwdStats) {
    match fast.sync(table, crate::ring::now_ns()) {
        Ok(r) => {
            stats.fast_routes = fast.routes() as u64;
            tracing::debug!(
                added = r.added,
                changed = r.changed,
                removed = r.removed,
                not_offloaded = r.not_offloaded,
                "fast path synced"
            );
        }
        // Both programs read the same map, so a partial sync still sends each frame one way.
        Err(e) => tracing::warn!(error = %e, "fast path sync failed"),
    }
}

fn fold_fast_counters(fast: &mut FastPath, table: &Table, stats: &mut FwdStats) {
    match fast.fold_counters(table) {
        Ok(d) => {
            stats.fast_received += d.packets;
            stats.fast_forwarded += d.copies;
            stats.forwarded += d.copies;
            stats.tx_errors += d.copy_errors;
            stats.ttl_expired += d.ttl_expired;
        }
        Err(e) => tracing::warn!(error = %e, "fast path counters unreadable"),
    }
}

fn update_ring_stats(
    ports: &mut [RxPort],
    rstats: &mut [RingStats],
    stats: &mut FwdStats,
    out: &std::sync::Mutex<Vec<(u32, RingStats)>>,
) {
    for (p, r) in ports.iter_mut().zip(rstats.iter_mut()) {
        if let Ok(s) = p.ring.stats() {
            *r = s;
        }
    }
    stats.ring_drops = rstats.iter().map(|r| r.drops).sum();
    stats.ring_freezes = rstats.iter().map(|r| r.freeze_q_cnt).sum();
    if let Ok(mut o) = out.try_lock() {
        for ((_, dst), src) in o.iter_mut().zip(rstats.iter()) {
            *dst = *src;
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn udp_checksum_matches_a_known_packet() {
        // 10.1.0.10:52454 -> 239.1.1.1:5000, 4 bytes of payload.
        let mut ip = vec![
            0x45, 0, 0, 32, 0, 0, 0x40, 0, 16, 17, 0, 0, 10, 1, 0, 10, 239, 1, 1, 1,
        ];
        ip.extend_from_slice(&[0xcc, 0xe6, 0x13, 0x88, 0, 12, 0, 0, 1, 2, 3, 4]);
        let (at, c) = udp_checksum(&ip).unwrap();
        assert_eq!(at, 26);
        // Verify: the one's complement sum over pseudo-header and datagram with the checksum
        // in place is 0xffff.
        ip[at..at + 2].copy_from_slice(&c.to_be_bytes());
        let mut sum: u32 = 0x0a01 + 0x000a + 0xef01 + 0x0101 + 17 + 12;
        for w in ip[20..].chunks(2) {
            sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        while sum >> 16 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        assert_eq!(sum, 0xffff);
        ip[9] = 6;
        assert_eq!(udp_checksum(&ip), None, "UDP only");
    }

    #[test]
    fn upcalls_report_each_flow_once_per_interval() {
        let (tx, rx) = UnixDatagram::pair().unwrap();
        tx.set_nonblocking(true).unwrap();
        rx.set_nonblocking(true).unwrap();
        let mut u = Upcalls {
            sock: tx,
            recent: [(0, 0, 0, None); 16],
            next: 0,
        };
        let (s, g) = (Ipv4Addr::new(10, 1, 0, 10), Ipv4Addr::new(239, 1, 1, 1));
        for _ in 0..100 {
            u.report(s, g, 7);
        }
        u.report(s, Ipv4Addr::new(239, 1, 1, 2), 7);
        let mut b = [0u8; 64];
        let n = rx.recv(&mut b).unwrap();
        assert_eq!(decode_upcall(&b[..n]), Some((s, g, 7)));
        let n = rx.recv(&mut b).unwrap();
        assert_eq!(
            decode_upcall(&b[..n]),
            Some((s, Ipv4Addr::new(239, 1, 1, 2), 7))
        );
        assert!(rx.recv(&mut b).is_err(), "one report per flow");
    }
    use super::*;
    use crate::mfib::{Oif, Route};
    use crate::wire::ipv4_header_checksum;
    use std::cell::Cell;

    /// Counts the allocations of the current thread, to prove the per-frame path makes none.
    struct CountingAlloc;

    thread_local! {
        static ALLOCS: Cell<u64> = const { Cell::new(0) };
    }

    // SAFETY: every call is forwarded unchanged to the system allocator; the thread-local
    // counter has a const initialiser and no destructor, so touching it never allocates.
    unsafe impl std::alloc::GlobalAlloc for CountingAlloc {
        unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
            let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
            // SAFETY: the caller upholds GlobalAlloc::alloc's contract, passed on as is.
            unsafe { std::alloc::System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
            // SAFETY: as above, for dealloc.
            unsafe { std::alloc::System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(
            &self,
            ptr: *mut u8,
            layout: std::alloc::Layout,
            new_size: usize,
        ) -> *mut u8 {
            let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
            // SAFETY: as above, for realloc.
            unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static ALLOC: CountingAlloc = CountingAlloc;

    fn allocs() -> u64 {
        ALLOCS.with(Cell::get)
    }

    /// A small xorshift generator, so the tests need no extra crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn byte(&mut self) -> u8 {
            self.next() as u8
        }
    }

    /// An Ethernet + IPv4 + `payload` frame with a correct header checksum.
    fn frame(src: [u8; 4], dst: [u8; 4], ttl: u8, payload: usize) -> Vec<u8> {
        let mut f = vec![0u8; ETH_HLEN + 20 + payload];
        f[0..6].copy_from_slice(&[0x01, 0x00, 0x5e, dst[1] & 0x7f, dst[2], dst[3]]);
        f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        let ip = &mut f[ETH_HLEN..];
        ip[0] = 0x45;
        let total = (20 + payload) as u16;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip[8] = ttl;
        ip[9] = 17;
        ip[12..16].copy_from_slice(&src);
        ip[16..20].copy_from_slice(&dst);
        let c = ipv4_header_checksum(&ip[..20]);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        f
    }

    #[test]
    fn incremental_checksum_matches_full_recomputation() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..200_000 {
            let ihl = 5 + (rng.next() % 11) as usize;
            let mut h = vec![0u8; ihl * 4];
            for b in h.iter_mut() {
                *b = rng.byte();
            }
            h[0] = 0x40 | ihl as u8;
            h[8] = 1 + rng.byte() % 255; // TTL >= 1
            if rng.next() % 8 == 0 {
                h[8] = [1, 2, 255][(rng.next() % 3) as usize];
            }
            let c = ipv4_header_checksum(&h);
            h[10..12].copy_from_slice(&c.to_be_bytes());

            let mut f = vec![0u8; ETH_HLEN];
            f.extend_from_slice(&h);
            rewrite(&mut f, [2, 0, 0, 0, 0, 9]);
            let after = &f[ETH_HLEN..];
            assert_eq!(after[8], h[8] - 1);
            assert_eq!(
                be16(after, 10),
                ipv4_header_checksum(after),
                "header {h:02x?}"
            );
            assert_eq!(&f[6..12], &[2, 0, 0, 0, 0, 9]);
        }
    }

    #[test]
    fn checksum_update_of_any_word() {
        let mut rng = Rng(12345);
        for _ in 0..100_000 {
            let mut words: Vec<u16> = (0..10).map(|_| rng.next() as u16).collect();
            words[0] |= 0x4000; // never all zero, like a real header
            let bytes = |w: &[u16]| w.iter().flat_map(|x| x.to_be_bytes()).collect::<Vec<u8>>();
            let c = ipv4_header_checksum(&bytes(&words));
            words[5] = c;
            let k = [0usize, 1, 2, 3, 4, 6, 7, 8, 9][(rng.next() % 9) as usize];
            let old = words[k];
            let new = rng.next() as u16;
            words[k] = new;
            assert_eq!(
                checksum_update(c, old, new),
                ipv4_header_checksum(&bytes(&words))
            );
        }
    }

    #[test]
    fn classification() {
        let data = frame([10, 0, 0, 1], [239, 1, 1, 1], 64, 8);
        assert_eq!(
            classify(&data),
            Class::Data(Ipv4Data {
                source: Ipv4Addr::new(10, 0, 0, 1),
                group: Ipv4Addr::new(239, 1, 1, 1),
                ttl: 64,
                ip_len: 28,
            })
        );
        // Ethernet padding after the IP packet is fine.
        let mut padded = data.clone();
        padded.extend_from_slice(&[0; 18]);
        assert!(matches!(classify(&padded), Class::Data(d) if d.ip_len == 28));
        // 224.0.1.0 is not link-local.
        assert!(matches!(
            classify(&frame([10, 0, 0, 1], [224, 0, 1, 1], 64, 0)),
            Class::Data(_)
        ));
        assert_eq!(
            classify(&frame([10, 0, 0, 1], [224, 0, 0, 5], 1, 0)),
            Class::LinkLocal
        );
        assert_eq!(
            classify(&frame([10, 0, 0, 1], [10, 0, 0, 2], 64, 0)),
            Class::NotMulticast
        );
        assert_eq!(
            classify(&frame([10, 0, 0, 1], [240, 0, 0, 1], 64, 0)),
            Class::NotMulticast
        );
        let mut arp = data.clone();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(classify(&arp), Class::NotIpv4);
        assert_eq!(classify(&data[..10]), Class::NotIpv4);
        assert_eq!(classify(&data[..30]), Class::Malformed);
        // Truncated: total length beyond the frame.
        assert_eq!(classify(&data[..data.len() - 1]), Class::Malformed);
        let mut v6 = data.clone();
        v6[ETH_HLEN] = 0x65;
        assert_eq!(classify(&v6), Class::Malformed);
        let mut short_ihl = data.clone();
        short_ihl[ETH_HLEN] = 0x44;
        assert_eq!(classify(&short_ihl), Class::Malformed);
        let mut long_ihl = data.clone();
        long_ihl[ETH_HLEN] = 0x4f; // 60-byte header in a 28-byte packet
        assert_eq!(classify(&long_ihl), Class::Malformed);
    }

    fn datagram_pair() -> (
        std::os::unix::net::UnixDatagram,
        std::os::unix::net::UnixDatagram,
    ) {
        let (a, b) = std::os::unix::net::UnixDatagram::pair().unwrap();
        b.set_nonblocking(true).unwrap();
        (a, b)
    }

    fn drain(sock: &std::os::unix::net::UnixDatagram) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = [0u8; 2048];
        while let Ok(n) = sock.recv(&mut buf) {
            out.push(buf[..n].to_vec());
        }
        out
    }

    #[test]
    fn engine_forwards_by_route_rpf_ttl_and_gate_without_allocating() {
        // Two "interfaces" whose transmit sockets are datagram socket pairs.
        let (tx2, rx2) = datagram_pair();
        let (tx3, rx3) = datagram_pair();
        let (tx4, rx4) = datagram_pair();
        let mac = |i: u8| [2, 0, 0, 0, 0, i];
        let mut engine = Engine::new(vec![
            TxQueue::new(tx2.as_raw_fd(), 2, mac(2), 4, 1522),
            TxQueue::new(tx3.as_raw_fd(), 3, mac(3), 4, 1522),
            TxQueue::new(tx4.as_raw_fd(), 4, mac(4), 4, 1522),
        ]);
        let s = Ipv4Addr::new(10, 0, 0, 1);
        let g = Ipv4Addr::new(239, 1, 1, 1);
        let g2 = Ipv4Addr::new(239, 2, 2, 2);
        let mut t = Table::new();
        t.insert(Route::new(
            s,
            g,
            1,
            vec![
                Oif::new(1, true), // the iif itself: never a copy
                Oif::new(2, true),
                Oif::new(3, true),
                Oif::new(4, false), // gated
                Oif::new(9, true),  // no socket for it
            ],
        ));
        t.insert(Route::new(
            Ipv4Addr::UNSPECIFIED,
            g2,
            2,
            vec![Oif::new(3, true)],
        ));
        let counters = t.get(s, g).unwrap().counters.clone();

        let good = frame([10, 0, 0, 1], [239, 1, 1, 1], 9, 100);
        let other_src = frame([10, 0, 0, 7], [239, 1, 1, 1], 9, 100);
        let star = frame([10, 0, 0, 7], [239, 2, 2, 2], 9, 50);
        let ttl1 = frame([10, 0, 0, 1], [239, 1, 1, 1], 1, 10);
        let linklocal = frame([10, 0, 0, 1], [224, 0, 0, 22], 1, 10);
        fn f(d: &[u8]) -> Frame<'_> {
            Frame {
                data: d,
                wire_len: d.len() as u32,
                vlan_tci: None,
                csum_not_ready: false,
                ts_ns: 0,
            }
        }

        let before = allocs();
        for _ in 0..10 {
            engine.handle(&t, 1, f(&good)); // -> 2, 3 (+1 tx error for oif 9)
        }
        engine.handle(&t, 5, f(&good)); // RPF failure
        engine.handle(&t, 1, f(&other_src)); // (*,G) for 239.1.1.1 absent: no route
        engine.handle(&t, 2, f(&star)); // (*,G) 239.2.2.2 via iif 2 -> 3
        engine.handle(&t, 1, f(&ttl1));
        engine.handle(&t, 1, f(&linklocal));
        engine.handle(
            &t,
            1,
            Frame {
                data: &good,
                wire_len: good.len() as u32,
                vlan_tci: Some(5),
                csum_not_ready: false,
                ts_ns: 0,
            },
        );
        engine.flush();
        assert_eq!(allocs(), before, "the per-frame path allocated");

        let st = engine.stats;
        assert_eq!(st.received, 16);
        assert_eq!(st.forwarded, 21);
        assert_eq!(st.tx_errors, 10);
        assert_eq!(st.rpf_fail, 1);
        assert_eq!(st.no_route, 1);
        assert_eq!(st.ttl_expired, 1);
        assert_eq!(st.ignored, 2);
        assert_eq!(counters.get(), (10, 10 * 120));

        let on2 = drain(&rx2);
        let on3 = drain(&rx3);
        assert_eq!(on2.len(), 10);
        assert_eq!(on3.len(), 11);
        assert!(drain(&rx4).is_empty());
        for (copy, m) in on2.iter().map(|c| (c, 2)).chain(on3.iter().map(|c| (c, 3))) {
            let orig = if copy.len() == good.len() {
                &good
            } else {
                &star
            };
            assert_eq!(&copy[6..12], &mac(m));
            assert_eq!(&copy[0..6], &orig[0..6]);
            let ip = &copy[ETH_HLEN..ETH_HLEN + 20];
            assert_eq!(ip[8], 8);
            assert_eq!(be16(ip, 10), ipv4_header_checksum(ip));
            // Apart from MAC, TTL and checksum, the copy is the original.
            assert_eq!(&copy[ETH_HLEN + 12..], &orig[ETH_HLEN + 12..]);
        }
    }

    /// The whole thread on veths, once per transmit mode: ns S sends on s0, the forwarder in
    /// ns F receives on r0 and sends out of r1 and r2 to ns D (d1, d2); every copy arrives
    /// once, in order, rewritten (TTL, source MAC, header checksum) and otherwise intact.
    #[test]
    fn forwarder_sends_intact_copies_in_both_tx_modes() {
        use crate::testns::{require_root, Namespaces};
        if !require_root() {
            return;
        }
        for mode in [TxMode::Sendmmsg, TxMode::Ring] {
            let lab = Namespaces::new(&format!("fwd{}", mode as u8), &["s", "f", "d"]);
            lab.veth("s", "s0", "f", "r0");
            lab.veth("f", "r1", "d", "d1");
            lab.veth("f", "r2", "d", "d2");
            let idx = |ns: &str, n: &str| lab.ifindex(ns, n);
            let (s0, d1, d2) = (idx("s", "s0"), idx("d", "d1"), idx("d", "d2"));
            let ifs: Vec<FwdIf> = ["r0", "r1", "r2"]
                .iter()
                .enumerate()
                .map(|(i, n)| FwdIf {
                    ifindex: idx("f", n),
                    name: n.to_string(),
                    mac: [2, 0, 0, 0, 0xf0, i as u8],
                })
                .collect();
            let (s, g) = (Ipv4Addr::new(10, 0, 1, 1), Ipv4Addr::new(239, 1, 2, 3));
            let mfib = Arc::new(Mfib::new());
            let mut t = Table::new();
            t.insert(Route::new(
                s,
                g,
                ifs[0].ifindex,
                vec![
                    Oif::new(ifs[1].ifindex, true),
                    Oif::new(ifs[2].ifindex, true),
                ],
            ));
            mfib.publish(t);
            let cfg = FwdConfig {
                tx: mode,
                // Small: 300 frames wrap the rings several times.
                tx_ring: TxRingConfig {
                    block_size: 4096,
                    block_count: 16,
                    frame_size: 2048,
                },
                tx_batch: 8,
                ..FwdConfig::default()
            };
            let ports = {
                let (ifs, cfg) = (ifs.clone(), cfg.clone());
                lab.run("f", move || Ports::open(&ifs, &cfg)).unwrap()
            };
            let fwd = Forwarder::spawn(ports, mfib, cfg).unwrap();
            let tx = lab.run("s", move || PacketSocket::open(s0, None)).unwrap();
            let rx1 = lab
                .run("d", move || PacketSocket::open(d1, Some(0x0800)))
                .unwrap();
            let rx2 = lab
                .run("d", move || PacketSocket::open(d2, Some(0x0800)))
                .unwrap();

            let sizes = [0usize, 1, 18, 100, 1000, 1472];
            let sent: Vec<Vec<u8>> = (0..300usize)
                .map(|i| {
                    let mut f = frame([10, 0, 1, 1], [239, 1, 2, 3], 9, sizes[i % sizes.len()] + 4);
                    let n = f.len();
                    f[n - 4..].copy_from_slice(&(i as u32).to_be_bytes());
                    f
                })
                .collect();
            let mut got: [Vec<Vec<u8>>; 2] = [Vec::new(), Vec::new()];
            let mut buf = [0u8; 2048];
            let end = Instant::now() + Duration::from_secs(10);
            for chunk in sent.chunks(20) {
                for f in chunk {
                    tx.send(f).unwrap();
                }
                // Read each burst before the next: the receive sockets' queues are small.
                let want = got[0].len() + chunk.len();
                while (got[0].len() < want || got[1].len() < want) && Instant::now() < end {
                    let mut idle = true;
                    for (k, rx) in [&rx1, &rx2].into_iter().enumerate() {
                        while let Some(n) = rx.recv(&mut buf).unwrap() {
                            if matches!(classify(&buf[..n]), Class::Data(d) if d.group == g) {
                                got[k].push(buf[..n].to_vec());
                                idle = false;
                            }
                        }
                    }
                    if idle {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            }
            let st = fwd.stop();
            for (k, copies) in got.iter().enumerate() {
                assert_eq!(copies.len(), sent.len(), "{mode:?}: oif {k}: {st:?}");
                for (i, (c, o)) in copies.iter().zip(&sent).enumerate() {
                    assert_eq!(c.len(), o.len(), "{mode:?}: copy {i}");
                    assert_eq!(&c[..6], &o[..6], "{mode:?}: destination MAC");
                    assert_eq!(&c[6..12], &ifs[k + 1].mac, "{mode:?}: source MAC");
                    let ip = &c[ETH_HLEN..ETH_HLEN + 20];
                    assert_eq!(ip[8], 8, "{mode:?}: TTL");
                    assert_eq!(be16(ip, 10), ipv4_header_checksum(ip), "{mode:?}: checksum");
                    assert_eq!(
                        &c[ETH_HLEN + 12..],
                        &o[ETH_HLEN + 12..],
                        "{mode:?}: copy {i}"
                    );
                }
            }
            assert_eq!(
                (st.received, st.forwarded, st.tx_errors),
                (300, 600, 0),
                "{mode:?}"
            );
        }
    }

    /// A thread that has been busy for `busy_slice` pauses (so that a saturated forwarder
    /// leaves the CPU's normal threads their share before the kernel's fair server takes the
    /// CPU from every real-time thread); with a zero slice every pass that found frames
    /// pauses, without one none does, and nothing is lost either way.
    #[test]
    fn a_busy_forwarder_pauses_after_its_slice() {
        use crate::testns::{require_root, Namespaces};
        if !require_root() {
            return;
        }
        for (slice, pauses) in [(Some(Duration::ZERO), true), (None, false)] {
            let lab = Namespaces::new(&format!("fwdp{}", u8::from(pauses)), &["s", "f", "d"]);
            lab.veth("s", "s0", "f", "r0");
            lab.veth("f", "r1", "d", "d1");
            let idx = |ns: &str, n: &str| lab.ifindex(ns, n);
            let s0 = idx("s", "s0");
            let ifs: Vec<FwdIf> = ["r0", "r1"]
                .iter()
                .enumerate()
                .map(|(i, n)| FwdIf {
                    ifindex: idx("f", n),
                    name: n.to_string(),
                    mac: [2, 0, 0, 0, 0xf1, i as u8],
                })
                .collect();
            let (s, g) = (Ipv4Addr::new(10, 0, 1, 1), Ipv4Addr::new(239, 1, 2, 4));
            let mfib = Arc::new(Mfib::new());
            let mut t = Table::new();
            t.insert(Route::new(
                s,
                g,
                ifs[0].ifindex,
                vec![Oif::new(ifs[1].ifindex, true)],
            ));
            mfib.publish(t);
            let cfg = FwdConfig {
                busy_slice: slice,
                ..FwdConfig::default()
            };
            let ports = {
                let (ifs, cfg) = (ifs.clone(), cfg.clone());
                lab.run("f", move || Ports::open(&ifs, &cfg)).unwrap()
            };
            let fwd = Forwarder::spawn(ports, mfib, cfg).unwrap();
            let tx = lab.run("s", move || PacketSocket::open(s0, None)).unwrap();
            let f = frame([10, 0, 1, 1], [239, 1, 2, 4], 9, 18);
            for _ in 0..200 {
                tx.send(&f).unwrap();
            }
            let end = Instant::now() + Duration::from_secs(10);
            while fwd.counters().forwarded < 200 && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(5));
            }
            let st = fwd.stop();
            assert_eq!((st.received, st.forwarded), (200, 200), "{st:?}");
            assert_eq!(st.busy_pauses > 0, pauses, "{st:?}");
        }
    }

    #[test]
    fn a_launched_forwarder_reports_ports_it_cannot_open() {
        let ifs = vec![FwdIf {
            ifindex: 0x7fff_fff0,
            name: "no-such-port".into(),
            mac: [2, 0, 0, 0, 0, 1],
        }];
        let mfib = Arc::new(Mfib::new());
        // The forwarder it replaces is stopped and waited for first.
        let old = Forwarder::launch(ifs.clone(), mfib.clone(), FwdConfig::default(), None, None)
            .expect("thread");
        let new = Forwarder::launch(ifs, mfib, FwdConfig::default(), None, Some(old.retire()))
            .expect("thread");
        let end = std::time::Instant::now() + Duration::from_secs(5);
        let why = loop {
            if let Some(why) = new.failure() {
                break why;
            }
            assert!(std::time::Instant::now() < end, "no failure reported");
            std::thread::sleep(Duration::from_millis(5));
        };
        assert!(why.contains("no-such-port"), "{why}");
        // A retired forwarder that ended is not a failure.
        assert!(new.retire().failure().is_none());
    }
}
