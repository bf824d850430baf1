//! An AF_PACKET TPACKET_V3 transmit ring on one interface (PACKET_TX_RING, Linux >= 4.11).
//!
//! User space writes frames in place into fixed-size slots of a memory map shared with the
//! kernel, marks each one TP_STATUS_SEND_REQUEST, and one `send(fd, NULL, 0, MSG_DONTWAIT)`
//! ("kick") makes the kernel send every requested slot from its own head on, in ring order. A
//! slot is free again when the kernel has released the frame's buffer (TP_STATUS_AVAILABLE):
//! on a veth that is when the peer freed the packet; on a NIC, at transmit completion.
//!
//! ```text
//!   slot 0            slot 1            ...  (block_size / frame_size slots per block)
//!  +----------------+----------------+
//!  | tpacket3_hdr   | tpacket3_hdr   |   tp_status: AVAILABLE -> SEND_REQUEST (us)
//!  |  (48 bytes)    |                |              -> SENDING -> AVAILABLE (kernel)
//!  | frame ...      | frame ...      |   tp_len: frame length; tp_next_offset must be 0
//!  +----------------+----------------+
//! ```
//!
//! V3 transmit is V2's slot ring with the V3 header: no variable-size slots, and the ring
//! request must leave the RX-only fields (retire timeout, private area, features) at zero.
//! Two kernel behaviours shape the API:
//! - PACKET_LOSS is set, so a malformed frame is skipped instead of stopping the ring;
//! - when the device refuses a frame (a veth whose peer's backlog is full), the kernel puts it
//!   back to SEND_REQUEST, leaves its head on it and fails the kick with ENOBUFS: the frame and
//!   those after it go out at the next kick. [`TxRing::kick`] remembers that ([`TxRing::unsent`]).

use std::io;
use std::mem;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::sock::{bind_packet, new_socket, setsockopt};

/// Where the frame starts in a slot: TPACKET_ALIGN(sizeof(tpacket3_hdr)), which is what the
/// kernel uses when PACKET_TX_HAS_OFF is not set (tp_hdrlen minus the sockaddr_ll).
pub const TX_DATA_OFFSET: usize = (mem::size_of::<libc::tpacket3_hdr>() + libc::TPACKET_ALIGNMENT
    - 1)
    & !(libc::TPACKET_ALIGNMENT - 1);

/// Status bits that mean the kernel still owns a slot.
const BUSY: u32 =
    libc::TP_STATUS_SEND_REQUEST | libc::TP_STATUS_SENDING | libc::TP_STATUS_WRONG_FORMAT;

/// Geometry of a [`TxRing`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxRingConfig {
    /// Bytes per block: a multiple of the page size.
    pub block_size: u32,
    pub block_count: u32,
    /// Bytes per slot, header included: a multiple of 16; the largest frame is this minus
    /// [`TX_DATA_OFFSET`].
    pub frame_size: u32,
}

impl Default for TxRingConfig {
    /// 512 slots of 2 KiB (frames up to 2000 bytes) in 16 blocks of 64 KiB: 1 MiB.
    fn default() -> TxRingConfig {
        TxRingConfig {
            block_size: 1 << 16,
            block_count: 16,
            frame_size: 2048,
        }
    }
}

/// A TPACKET_V3 transmit ring bound to one interface. Dropping it unmaps the ring and closes
/// the socket (frames requested but not kicked are not sent).
#[derive(Debug)]
pub struct TxRing {
    fd: OwnedFd,
    map: NonNull<u8>,
    map_len: usize,
    block_size: usize,
    frame_size: usize,
    frames_per_block: usize,
    frame_count: usize,
    /// The next slot we fill; the kernel sends in the same order.
    next: usize,
    /// Slots requested and not yet covered by a successful kick.
    unsent: bool,
    ifindex: u32,
}

// SAFETY: as for RxRing: the mapping is owned by this value alone and only touched through
// `&mut self` (or `&self` for atomic reads of status words), so it may move between threads;
// the kernel side is synchronised through the slot status words.
unsafe impl Send for TxRing {}

impl TxRing {
    /// Open a ring on `ifindex` in the calling thread's network namespace. The socket has no
    /// protocol, so it receives nothing.
    pub fn open(ifindex: u32, cfg: TxRingConfig) -> io::Result<TxRing> {
        let fs = cfg.frame_size as usize;
        if cfg.block_count == 0
            || fs <= TX_DATA_OFFSET
            || fs % libc::TPACKET_ALIGNMENT != 0
            || cfg.block_size < cfg.frame_size
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "bad TX ring geometry",
            ));
        }
        let fd = new_socket(libc::AF_PACKET, libc::SOCK_RAW, 0)?;
        let raw = fd.as_raw_fd();
        let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        setsockopt(raw, libc::SOL_PACKET, libc::PACKET_VERSION, &version)?;
        setsockopt(raw, libc::SOL_PACKET, libc::PACKET_LOSS, &1 as &libc::c_int)?;
        let frames_per_block = cfg.block_size / cfg.frame_size;
        let req = libc::tpacket_req3 {
            tp_block_size: cfg.block_size,
            tp_block_nr: cfg.block_count,
            tp_frame_size: cfg.frame_size,
            tp_frame_nr: frames_per_block.saturating_mul(cfg.block_count),
            // Must be zero for a TX ring.
            tp_retire_blk_tov: 0,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        setsockopt(raw, libc::SOL_PACKET, libc::PACKET_TX_RING, &req)?;
        let map_len = cfg.block_size as usize * cfg.block_count as usize;
        // The socket has no RX ring: the mapping is the TX ring alone.
        let map = crate::ring::map_ring(raw, map_len)?;
        // From here on Drop unmaps.
        let ring = TxRing {
            fd,
            map,
            map_len,
            block_size: cfg.block_size as usize,
            frame_size: fs,
            frames_per_block: frames_per_block as usize,
            frame_count: (frames_per_block * cfg.block_count) as usize,
            next: 0,
            unsent: false,
            ifindex,
        };
        bind_packet(&ring.fd, ifindex, 0)?;
        Ok(ring)
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The number of slots.
    pub fn slots(&self) -> usize {
        self.frame_count
    }

    /// The largest frame a slot holds.
    pub fn max_frame_len(&self) -> usize {
        self.frame_size - TX_DATA_OFFSET
    }

    fn slot_ptr(&self, i: usize) -> NonNull<u8> {
        let off = (i / self.frames_per_block) * self.block_size
            + (i % self.frames_per_block) * self.frame_size;
        // SAFETY: i < frame_count, so the slot lies inside the mapping.
        unsafe { self.map.add(off) }
    }

    /// The status word of slot `i`, shared with the kernel.
    fn status(&self, i: usize) -> &AtomicU32 {
        let hdr = self.slot_ptr(i).as_ptr().cast::<libc::tpacket3_hdr>();
        // SAFETY: the slot starts with a tpacket3_hdr (16-byte aligned: slots are multiples of
        // 16 bytes from a page-aligned block start) inside the live mapping; the kernel reads
        // and writes `tp_status` only as a whole aligned u32, so an atomic view is sound.
        unsafe { AtomicU32::from_ptr(std::ptr::addr_of_mut!((*hdr).tp_status)) }
    }

    /// Whether the next slot is free.
    pub fn has_room(&self) -> bool {
        self.status(self.next).load(Ordering::Acquire) & BUSY == 0
    }

    /// Slots the kernel still owns (requested, or sent and not yet released). O(slots).
    pub fn in_flight(&self) -> usize {
        (0..self.frame_count)
            .filter(|&i| self.status(i).load(Ordering::Acquire) & BUSY != 0)
            .count()
    }

    /// Slots requested and not yet taken by the kernel (TP_STATUS_SEND_REQUEST). O(slots).
    pub fn requested(&self) -> usize {
        (0..self.frame_count)
            .filter(|&i| self.status(i).load(Ordering::Acquire) & libc::TP_STATUS_SEND_REQUEST != 0)
            .count()
    }

    /// PACKET_QDISC_BYPASS: frames go straight to the driver, skipping the qdisc layer (and
    /// captures on the interface).
    pub fn set_qdisc_bypass(&self) -> io::Result<()> {
        setsockopt(
            self.fd.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_QDISC_BYPASS,
            &1 as &libc::c_int,
        )
    }

    /// Whether frames were requested that no kick has sent yet (a kick failed or none was
    /// made since).
    pub fn unsent(&self) -> bool {
        self.unsent
    }

    /// Fill the next slot with a frame of `len` bytes (`fill` writes all of them) and request
    /// its transmission at the next [`TxRing::kick`]. False, without calling `fill`, when the
    /// ring is full or the frame does not fit a slot.
    #[inline]
    pub fn push(&mut self, len: usize, fill: impl FnOnce(&mut [u8])) -> bool {
        if len > self.max_frame_len() || len == 0 || !self.has_room() {
            return false;
        }
        let slot = self.slot_ptr(self.next).as_ptr();
        // SAFETY: the slot is free (status AVAILABLE, read with Acquire above), so the kernel
        // neither reads nor writes it until we set SEND_REQUEST; [TX_DATA_OFFSET,
        // TX_DATA_OFFSET + len) lies inside the slot (len <= max_frame_len).
        let data = unsafe { std::slice::from_raw_parts_mut(slot.add(TX_DATA_OFFSET), len) };
        fill(data);
        let hdr = slot.cast::<libc::tpacket3_hdr>();
        // SAFETY: as above, the header is ours until the status store below; these are plain
        // aligned field writes inside the slot.
        unsafe {
            (*hdr).tp_next_offset = 0;
            (*hdr).tp_len = len as u32;
            (*hdr).tp_snaplen = len as u32;
        }
        // Release: the frame and header writes happen before the kernel sees the request.
        self.status(self.next)
            .store(libc::TP_STATUS_SEND_REQUEST, Ordering::Release);
        self.next = (self.next + 1) % self.frame_count;
        self.unsent = true;
        true
    }

    /// Request up to `max` copies of `frame` (a flood of one frame). A slot keeps its bytes
    /// after it is sent, so only slots not yet written since the ring was opened are filled:
    /// `pushed` is how many frames were pushed before this call. Returns how many were
    /// requested (fewer when the ring fills up).
    pub fn push_copies(&mut self, frame: &[u8], max: u64, pushed: u64) -> u64 {
        let slots = self.slots() as u64;
        let mut n = 0;
        while n < max {
            let first_lap = pushed + n < slots;
            if !self.push(frame.len(), |d| {
                if first_lap {
                    d.copy_from_slice(frame);
                }
            }) {
                break;
            }
            n += 1;
        }
        n
    }

    /// Have the kernel send every requested slot, without waiting for completion. Ok(bytes
    /// sent). On an error the frames from the one that failed on stay requested and go out at
    /// the next kick: ENOBUFS (the device refused a frame), EAGAIN (the send buffer is full).
    pub fn kick(&mut self) -> io::Result<usize> {
        // SAFETY: a zero-length send with no buffer: with a TX ring the kernel takes the
        // frames from the mapping, not from the (null, empty) buffer.
        let r = unsafe { libc::send(self.fd.as_raw_fd(), std::ptr::null(), 0, libc::MSG_DONTWAIT) };
        if r < 0 {
            self.unsent = true;
            return Err(io::Error::last_os_error());
        }
        self.unsent = false;
        Ok(r as usize)
    }
}

impl AsRawFd for TxRing {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl Drop for TxRing {
    fn drop(&mut self) {
        // SAFETY: `map`/`map_len` are exactly what mmap returned and no slice into the mapping
        // outlives a `push` call. The socket closes after this, when `fd` is dropped; frames
        // still in flight hold their own page references.
        unsafe {
            libc::munmap(self.map.as_ptr().cast(), self.map_len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::{RingConfig, RingFilter, RxRing};
    use crate::testns::{require_root, Namespaces};
    use std::time::{Duration, Instant};

    #[test]
    fn header_offset_is_the_kernels() {
        // TPACKET3_HDRLEN - sizeof(struct sockaddr_ll) = 68 - 20.
        assert_eq!(TX_DATA_OFFSET, 48);
    }

    #[test]
    fn bad_geometry_is_refused() {
        for cfg in [
            TxRingConfig {
                frame_size: 40,
                ..TxRingConfig::default()
            },
            TxRingConfig {
                frame_size: 2050,
                ..TxRingConfig::default()
            },
            TxRingConfig {
                block_count: 0,
                ..TxRingConfig::default()
            },
        ] {
            assert_eq!(
                TxRing::open(1, cfg).unwrap_err().kind(),
                io::ErrorKind::InvalidInput
            );
        }
    }

    /// A frame of `len` bytes with a local-experimental EtherType, sequence `seq` and a
    /// pattern derived from both, so any corruption or reordering shows.
    fn test_frame(seq: u32, len: usize) -> Vec<u8> {
        let mut f = vec![0u8; len];
        f[0..6].copy_from_slice(&[0xff; 6]);
        f[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0xaa]);
        f[12..14].copy_from_slice(&0x88b5u16.to_be_bytes());
        f[14..18].copy_from_slice(&seq.to_be_bytes());
        for (i, b) in f[18..].iter_mut().enumerate() {
            *b = (i as u32).wrapping_mul(31).wrapping_add(seq) as u8;
        }
        f
    }

    /// Slots filled and not kicked are `requested` (not yet the kernel's to send); a kick hands
    /// them over, with qdisc bypass as without, and a slot written once can be sent again as
    /// it is (the frame data stays in the slot).
    #[test]
    fn requested_slots_until_the_kick_and_slots_resent_as_written() {
        if !require_root() {
            return;
        }
        let lab = Namespaces::new("txreq", &["a", "b"]);
        lab.veth("a", "a0", "b", "b0");
        let (a0, b0) = (lab.ifindex("a", "a0"), lab.ifindex("b", "b0"));
        let cfg = TxRingConfig {
            block_size: 4096,
            block_count: 2,
            frame_size: 2048,
        };
        let mut tx = lab.run("a", move || TxRing::open(a0, cfg)).unwrap();
        tx.set_qdisc_bypass().unwrap();
        let rx_cfg = RingConfig {
            protocol: 0x88b5,
            filter: RingFilter::None,
            all_multicast: false,
            ..RingConfig::default()
        };
        let mut rx = lab.run("b", move || RxRing::open(b0, rx_cfg)).unwrap();
        let f = test_frame(7, 60);
        for _ in 0..3 {
            assert!(tx.push(f.len(), |slot| slot.copy_from_slice(&f)));
        }
        assert_eq!(tx.requested(), 3);
        tx.kick().unwrap();
        assert_eq!(tx.requested(), 0);
        // The fourth slot is fresh, so push_copies writes it; then the first comes round
        // again and is sent as it was written (push_copies leaves it alone).
        assert_eq!(tx.push_copies(&f, 1, 3), 1);
        let t0 = Instant::now();
        while !tx.has_room() && t0.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(tx.push_copies(&[0u8; 60], 1, 4), 1);
        tx.kick().unwrap();
        let mut got: Vec<Vec<u8>> = Vec::new();
        let end = Instant::now() + Duration::from_secs(5);
        while got.len() < 5 && Instant::now() < end {
            rx.for_each_frame(16, |fr| got.push(fr.data.to_vec()));
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(got.len(), 5);
        assert!(got.iter().all(|g| *g == f));
    }

    #[test]
    fn frames_sent_through_the_ring_arrive_intact_and_in_order() {
        if !require_root() {
            return;
        }
        let lab = Namespaces::new("txring", &["a", "b"]);
        lab.veth("a", "a0", "b", "b0");
        let (a0, b0) = (lab.ifindex("a", "a0"), lab.ifindex("b", "b0"));
        // A small ring (16 slots of 2 KiB, 2 per block) so that 300 frames wrap it many times.
        let cfg = TxRingConfig {
            block_size: 4096,
            block_count: 8,
            frame_size: 2048,
        };
        let mut tx = lab.run("a", move || TxRing::open(a0, cfg)).unwrap();
        assert_eq!((tx.slots(), tx.max_frame_len()), (16, 2000));
        let rx_cfg = RingConfig {
            protocol: 0x88b5,
            filter: RingFilter::None,
            all_multicast: false,
            ..RingConfig::default()
        };
        let mut rx = lab.run("b", move || RxRing::open(b0, rx_cfg)).unwrap();

        assert!(!tx.push(2001, |_| panic!("too big: not filled")));
        assert!(!tx.push(0, |_| panic!("empty: not filled")));

        // Lengths from the minimum Ethernet frame to a full 1514-byte one.
        let lens = [60usize, 61, 64, 100, 333, 1000, 1514, 1513];
        let sent: Vec<Vec<u8>> = (0..300u32)
            .map(|i| test_frame(i, lens[i as usize % lens.len()]))
            .collect();
        let mut got: Vec<Vec<u8>> = Vec::new();
        let mut next = 0;
        let end = Instant::now() + Duration::from_secs(10);
        while got.len() < sent.len() && Instant::now() < end {
            // Fill what is free, a batch at most, then one kick for the batch.
            let mut batch = 0;
            while next < sent.len() && batch < 10 {
                let f = &sent[next];
                if !tx.push(f.len(), |slot| slot.copy_from_slice(f)) {
                    break;
                }
                next += 1;
                batch += 1;
            }
            if batch > 0 || tx.unsent() {
                let _ = tx.kick();
            }
            rx.for_each_frame(16, |f| got.push(f.data.to_vec()));
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(got.len(), sent.len(), "frames lost");
        for (i, (g, s)) in got.iter().zip(&sent).enumerate() {
            assert_eq!(g, s, "frame {i} differs");
        }
        assert!(!tx.unsent());
        // Every slot comes back once the peer has freed the frames.
        let t0 = Instant::now();
        while tx.in_flight() > 0 && t0.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(tx.in_flight(), 0);
        assert_eq!(rx.stats().unwrap().drops, 0);
    }
}
