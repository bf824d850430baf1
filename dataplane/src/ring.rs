//! An AF_PACKET TPACKET_V3 receive ring on one interface.
//!
//! The kernel fills fixed-size blocks of a shared memory map with frames and hands a block to
//! user space when it is full or when `retire_timeout_ms` has passed since its first frame. We
//! read the frames in place and give the block back; nothing is copied or allocated per frame.
//! Control packets do not belong here (a block may wait for its timeout): see ARCHITECTURE.md,
//! "Control vs data packets".
//!
//! ```text
//!   block 0                  block 1                   ...  block N-1
//!  +------------------------+------------------------+     +-----------
//!  | tpacket_block_desc     | block_status: USER/KERNEL, num_pkts, offset_to_first_pkt
//!  |  tpacket3_hdr + frame -+-> tp_next_offset -> tpacket3_hdr + frame -> ...
//!  +------------------------+
//! ```

use std::io;
use std::mem;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::sock::{cvt, new_socket, setsockopt};

/// EtherType wildcard: every frame.
pub const ETH_P_ALL: u16 = 0x0003;
/// EtherType of IPv4.
pub const ETH_P_IP: u16 = 0x0800;

/// Which frames the kernel puts into the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingFilter {
    /// Every frame of the bound EtherType.
    None,
    /// Only untagged IPv4 frames to 224.0.0.0/4 outside 224.0.0.0/24 (multicast data: no
    /// link-local control traffic such as IGMP, PIM hellos or VRRP), by a classic BPF program.
    Ipv4MulticastData,
}

/// Geometry and behaviour of an [`RxRing`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingConfig {
    /// Bytes per block: a multiple of the page size (the kernel wants a power-of-two number of
    /// pages).
    pub block_size: u32,
    pub block_count: u32,
    /// The V3 frame slot size the kernel checks against the header size (a multiple of 16);
    /// frames themselves are packed back to back and may be up to about a block long.
    pub frame_size: u32,
    /// A partly filled block is handed over after this long (0: the kernel's default, which
    /// derives from the link speed and is several milliseconds).
    pub retire_timeout_ms: u32,
    /// EtherType to bind to ([`ETH_P_IP`] or [`ETH_P_ALL`]).
    pub protocol: u16,
    pub filter: RingFilter,
    /// Ask the interface for all multicast frames (PACKET_MR_ALLMULTI), as a multicast router
    /// must on a NIC that filters by MAC; undone when the ring is closed.
    pub all_multicast: bool,
}

impl Default for RingConfig {
    /// 64 blocks of 64 KiB (4 MiB, about 2500 full-size or 29000 small frames), 1 ms retire.
    ///
    /// Many small blocks rather than a few large ones: a block is handed over when full or
    /// after the retire timeout, so it holds at most a millisecond of traffic below about
    /// 450,000 small frames/s. 16 blocks of 256 KiB would buffer 16 ms at 500,000 frames/s
    /// (each block a quarter full); 64 of 64 KiB buffer 58 ms, time for the forwarding thread
    /// to come back from a preemption (the scheduler's fair server takes the CPU from a
    /// real-time thread for up to 50 ms when normal threads have been starved).
    fn default() -> RingConfig {
        RingConfig {
            block_size: 1 << 16,
            block_count: 64,
            frame_size: 2048,
            retire_timeout_ms: 1,
            protocol: ETH_P_IP,
            filter: RingFilter::Ipv4MulticastData,
            all_multicast: true,
        }
    }
}

/// Cumulative PACKET_STATISTICS of a ring (the kernel resets its own on every read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RingStats {
    /// Frames that passed the filter, including those dropped.
    pub packets: u64,
    /// Frames dropped because no block was free.
    pub drops: u64,
    /// Times the ring filled up and froze until user space returned a block.
    pub freeze_q_cnt: u64,
}

/// Now on the clock the receive rings stamp frames with ([`Frame::ts_ns`]: CLOCK_REALTIME,
/// nanoseconds), for instants of arrival compared with those stamps.
pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// One received frame, borrowed from its block.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// The frame from the Ethernet header on (at most the snap length).
    pub data: &'a [u8],
    /// The frame's length on the wire; larger than `data.len()` when it was truncated.
    pub wire_len: u32,
    /// The 802.1Q tag the kernel took out of the frame, if any.
    pub vlan_tci: Option<u16>,
    /// TP_STATUS_CSUMNOTREADY: the transport checksum is not filled in yet (the packet was
    /// sent on this host, or through a veth, with checksum offload); whoever sends it on must
    /// complete it.
    pub csum_not_ready: bool,
    /// When the kernel received it (CLOCK_REALTIME, nanoseconds; 0 if it gave no time).
    pub ts_ns: u64,
}

/// A TPACKET_V3 receive ring bound to one interface. Dropping it unmaps the ring and closes the
/// socket.
#[derive(Debug)]
pub struct RxRing {
    fd: OwnedFd,
    map: NonNull<u8>,
    map_len: usize,
    block_size: usize,
    block_count: usize,
    /// The next block we expect the kernel to hand over.
    next: usize,
    ifindex: u32,
    stats: RingStats,
}

// SAFETY: the mapping is owned by this value alone (no other handle to it exists in the
// process) and is only touched through `&mut self`, so moving the ring to another thread is
// sound; the kernel side is synchronised through the block status words.
unsafe impl Send for RxRing {}

/// Classic BPF: accept untagged IPv4 to 224.0.0.0/4 except 224.0.0.0/24 and except IGMP
/// (a v2 report goes to the group address itself; it is control, not data).
fn multicast_data_filter() -> [libc::sock_filter; 14] {
    const fn op(code: u32, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
        libc::sock_filter {
            code: code as u16,
            jt,
            jf,
            k,
        }
    }
    use libc::{
        BPF_ABS, BPF_ALU, BPF_AND, BPF_B, BPF_H, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W,
    };
    let vlan = (libc::SKF_AD_OFF + libc::SKF_AD_VLAN_TAG_PRESENT) as u32;
    // Instruction 13 drops; each jf/jt counts the instructions skipped.
    [
        op(BPF_LD | BPF_W | BPF_ABS, 0, 0, vlan), // 0: A = vlan tag present
        op(BPF_JMP | BPF_JEQ | BPF_K, 0, 11, 0),  // 1: tagged -> drop
        op(BPF_LD | BPF_H | BPF_ABS, 0, 0, 12),   // 2: A = EtherType
        op(BPF_JMP | BPF_JEQ | BPF_K, 0, 9, 0x0800), // 3: not IPv4 -> drop
        op(BPF_LD | BPF_W | BPF_ABS, 0, 0, 30),   // 4: A = IPv4 destination
        op(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0xf000_0000), // 5
        op(BPF_JMP | BPF_JEQ | BPF_K, 0, 6, 0xe000_0000), // 6: not 224/4 -> drop
        op(BPF_LD | BPF_W | BPF_ABS, 0, 0, 30),   // 7
        op(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0xffff_ff00), // 8
        op(BPF_JMP | BPF_JEQ | BPF_K, 3, 0, 0xe000_0000), // 9: 224.0.0.0/24 -> drop
        op(BPF_LD | BPF_B | BPF_ABS, 0, 0, 23),   // 10: A = IP protocol
        op(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 2),   // 11: IGMP -> drop
        op(BPF_RET | BPF_K, 0, 0, u32::MAX),      // 12: accept the whole frame
        op(BPF_RET | BPF_K, 0, 0, 0),             // 13: drop
    ]
}

/// Classic BPF for a control socket: untagged IPv4 carrying IGMP (2) or PIM (103).
pub(crate) fn control_filter() -> [libc::sock_filter; 9] {
    const fn op(code: u32, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
        libc::sock_filter {
            code: code as u16,
            jt,
            jf,
            k,
        }
    }
    use libc::{BPF_ABS, BPF_B, BPF_H, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};
    let vlan = (libc::SKF_AD_OFF + libc::SKF_AD_VLAN_TAG_PRESENT) as u32;
    [
        op(BPF_LD | BPF_W | BPF_ABS, 0, 0, vlan),    // 0
        op(BPF_JMP | BPF_JEQ | BPF_K, 0, 6, 0),      // 1: tagged -> drop
        op(BPF_LD | BPF_H | BPF_ABS, 0, 0, 12),      // 2
        op(BPF_JMP | BPF_JEQ | BPF_K, 0, 4, 0x0800), // 3: not IPv4 -> drop
        op(BPF_LD | BPF_B | BPF_ABS, 0, 0, 23),      // 4: A = IP protocol
        op(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 2),      // 5: IGMP -> accept
        op(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 103),    // 6: not PIM -> drop
        op(BPF_RET | BPF_K, 0, 0, u32::MAX),         // 7: accept
        op(BPF_RET | BPF_K, 0, 0, 0),                // 8: drop
    ]
}

pub(crate) fn attach_filter(fd: RawFd, prog: &mut [libc::sock_filter]) -> io::Result<()> {
    let fprog = libc::sock_fprog {
        len: prog.len() as libc::c_ushort,
        filter: prog.as_mut_ptr(),
    };
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)
}

/// The status word of the block starting at `block`, shared with the kernel (hence atomic).
///
/// # Safety
/// `block` must be the start of a block of a ring mapping that stays mapped for `'a`.
unsafe fn block_status<'a>(block: NonNull<u8>) -> &'a AtomicU32 {
    // SAFETY: per the contract, `block` points to a live, page-aligned tpacket_block_desc;
    // `hdr.bh1.block_status` is an aligned u32 inside it, which the kernel only accesses as a
    // whole word, so viewing it as an AtomicU32 is sound.
    unsafe {
        let desc = block.as_ptr().cast::<libc::tpacket_block_desc>();
        AtomicU32::from_ptr(std::ptr::addr_of_mut!((*desc).hdr.bh1.block_status))
    }
}

impl RxRing {
    /// Open a ring on `ifindex` in the calling thread's network namespace. Frames the host sends
    /// on the interface are never put into the ring.
    pub fn open(ifindex: u32, cfg: RingConfig) -> io::Result<RxRing> {
        if cfg.block_size == 0 || cfg.block_count == 0 || cfg.frame_size == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "ring sizes must not be zero",
            ));
        }
        // Protocol 0: nothing is queued until bind(), so no unfiltered frame slips in.
        let fd = new_socket(libc::AF_PACKET, libc::SOCK_RAW, 0)?;
        let raw = fd.as_raw_fd();
        if cfg.filter == RingFilter::Ipv4MulticastData {
            attach_filter(raw, &mut multicast_data_filter())?;
        }
        let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        setsockopt(raw, libc::SOL_PACKET, libc::PACKET_VERSION, &version)?;
        let frames_per_block = cfg.block_size / cfg.frame_size;
        let req = libc::tpacket_req3 {
            tp_block_size: cfg.block_size,
            tp_block_nr: cfg.block_count,
            tp_frame_size: cfg.frame_size,
            tp_frame_nr: frames_per_block.saturating_mul(cfg.block_count),
            tp_retire_blk_tov: cfg.retire_timeout_ms,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        setsockopt(raw, libc::SOL_PACKET, libc::PACKET_RX_RING, &req)?;
        setsockopt(
            raw,
            libc::SOL_PACKET,
            libc::PACKET_IGNORE_OUTGOING,
            &1 as &libc::c_int,
        )?;
        let map_len = cfg.block_size as usize * cfg.block_count as usize;
        let map = map_ring(raw, map_len)?;
        // From here on Drop unmaps.
        let ring = RxRing {
            fd,
            map,
            map_len,
            block_size: cfg.block_size as usize,
            block_count: cfg.block_count as usize,
            next: 0,
            ifindex,
            stats: RingStats::default(),
        };
        if cfg.all_multicast {
            let mreq = libc::packet_mreq {
                mr_ifindex: ifindex as libc::c_int,
                mr_type: libc::PACKET_MR_ALLMULTI as libc::c_ushort,
                mr_alen: 0,
                mr_address: [0; 8],
            };
            setsockopt(raw, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mreq)?;
        }
        // SAFETY: all-zero is a valid sockaddr_ll.
        let mut sll: libc::sockaddr_ll = unsafe { mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = cfg.protocol.to_be();
        sll.sll_ifindex = ifindex as libc::c_int;
        // SAFETY: `sll` is a valid sockaddr_ll and the length matches it.
        cvt(unsafe {
            libc::bind(
                raw,
                (&sll as *const libc::sockaddr_ll).cast(),
                mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        })?;
        Ok(ring)
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    fn block_ptr(&self, i: usize) -> NonNull<u8> {
        // SAFETY: i < block_count, so the offset stays inside the mapping.
        unsafe { self.map.add(i * self.block_size) }
    }

    /// Whether the next block is ready (then [`RxRing::next_block`] returns it).
    pub fn ready(&self) -> bool {
        // SAFETY: block_ptr gives a block start inside the mapping, which lives with `self`.
        let status = unsafe { block_status(self.block_ptr(self.next)) };
        status.load(Ordering::Acquire) & libc::TP_STATUS_USER != 0
    }

    /// The next block the kernel has handed over, or None. Dropping the [`Block`] gives it back.
    pub fn next_block(&mut self) -> Option<Block<'_>> {
        if !self.ready() {
            return None;
        }
        let ptr = self.block_ptr(self.next);
        self.next = (self.next + 1) % self.block_count;
        Some(Block {
            ptr,
            size: self.block_size,
            _ring: std::marker::PhantomData,
        })
    }

    /// Run `f` on every frame of up to `max_blocks` ready blocks, giving each block back after
    /// its frames; returns the number of frames.
    pub fn for_each_frame(&mut self, max_blocks: usize, mut f: impl FnMut(Frame<'_>)) -> usize {
        let mut n = 0;
        for _ in 0..max_blocks {
            let Some(block) = self.next_block() else {
                break;
            };
            for frame in block.frames() {
                f(frame);
                n += 1;
            }
        }
        n
    }

    /// Cumulative statistics (reads and adds up the kernel's counters, which it then resets).
    pub fn stats(&mut self) -> io::Result<RingStats> {
        let mut st = libc::tpacket_stats_v3 {
            tp_packets: 0,
            tp_drops: 0,
            tp_freeze_q_cnt: 0,
        };
        let mut len = mem::size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: `st`/`len` describe a writable tpacket_stats_v3, the V3 statistics layout.
        cvt(unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut st as *mut libc::tpacket_stats_v3).cast(),
                &mut len,
            )
        })?;
        self.stats.packets += u64::from(st.tp_packets);
        self.stats.drops += u64::from(st.tp_drops);
        self.stats.freeze_q_cnt += u64::from(st.tp_freeze_q_cnt);
        Ok(self.stats)
    }
}

impl AsRawFd for RxRing {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl Drop for RxRing {
    fn drop(&mut self) {
        // SAFETY: `map`/`map_len` are exactly what mmap returned, and no Block (which borrows
        // the ring) can be alive here. The socket closes after this, when `fd` is dropped.
        unsafe {
            libc::munmap(self.map.as_ptr().cast(), self.map_len);
        }
    }
}

/// A block handed over by the kernel; given back when dropped.
#[derive(Debug)]
pub struct Block<'a> {
    ptr: NonNull<u8>,
    size: usize,
    _ring: std::marker::PhantomData<&'a mut RxRing>,
}

impl Block<'_> {
    fn desc(&self) -> &libc::tpacket_hdr_v1 {
        // SAFETY: the block belongs to user space until dropped, so the kernel does not write
        // its descriptor meanwhile; the pointer is page aligned and inside the live mapping.
        unsafe {
            &(*self.ptr.as_ptr().cast::<libc::tpacket_block_desc>())
                .hdr
                .bh1
        }
    }

    /// The number of frames in the block.
    pub fn len(&self) -> usize {
        self.desc().num_pkts as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The frames, in arrival order.
    pub fn frames(&self) -> Frames<'_> {
        let d = self.desc();
        Frames {
            block: self.ptr,
            size: self.size,
            offset: d.offset_to_first_pkt as usize,
            left: d.num_pkts,
            _block: std::marker::PhantomData,
        }
    }
}

impl Drop for Block<'_> {
    fn drop(&mut self) {
        // Release: our reads of the frames happen before the kernel may refill the block.
        // SAFETY: `ptr` is a block start; the Block borrows the ring, so the mapping is alive.
        let status = unsafe { block_status(self.ptr) };
        status.store(libc::TP_STATUS_KERNEL, Ordering::Release);
    }
}

/// Iterator over the frames of a [`Block`].
#[derive(Debug)]
pub struct Frames<'a> {
    block: NonNull<u8>,
    size: usize,
    offset: usize,
    left: u32,
    _block: std::marker::PhantomData<&'a Block<'a>>,
}

impl<'a> Iterator for Frames<'a> {
    type Item = Frame<'a>;

    fn next(&mut self) -> Option<Frame<'a>> {
        const HDR: usize = mem::size_of::<libc::tpacket3_hdr>();
        if self.left == 0 || self.offset.checked_add(HDR)? > self.size {
            return None;
        }
        // SAFETY: offset + HDR is within the block (checked above) and the kernel aligns
        // frame headers to TPACKET_ALIGNMENT; the block is ours while the Block lives.
        let h = unsafe {
            &*self
                .block
                .as_ptr()
                .add(self.offset)
                .cast::<libc::tpacket3_hdr>()
        };
        let start = self.offset + usize::from(h.tp_mac);
        let end = start.checked_add(h.tp_snaplen as usize)?;
        if end > self.size {
            // A corrupt descriptor: stop rather than read outside the block.
            self.left = 0;
            return None;
        }
        // SAFETY: [start, end) lies inside the block, checked above.
        let data =
            unsafe { std::slice::from_raw_parts(self.block.as_ptr().add(start), end - start) };
        let vlan_tci =
            (h.tp_status & libc::TP_STATUS_VLAN_VALID != 0).then_some(h.hv1.tp_vlan_tci as u16);
        self.left -= 1;
        if h.tp_next_offset == 0 {
            self.left = 0;
        }
        self.offset += h.tp_next_offset as usize;
        Some(Frame {
            data,
            wire_len: h.tp_len,
            vlan_tci,
            csum_not_ready: h.tp_status & libc::TP_STATUS_CSUMNOTREADY != 0,
            ts_ns: u64::from(h.tp_sec) * 1_000_000_000 + u64::from(h.tp_nsec),
        })
    }
}

/// Map the ring the kernel just allocated for packet socket `fd` (`len`: exactly its size, the
/// only ring on the socket). The caller unmaps it.
pub(crate) fn map_ring(fd: libc::c_int, len: usize) -> io::Result<NonNull<u8>> {
    // SAFETY: a fresh shared mapping of the socket's ring; `len` is the ring's size as the
    // caller configured it. Checked for MAP_FAILED below.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    NonNull::new(p.cast::<u8>()).ok_or_else(|| io::Error::other("mmap gave null"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run the classic BPF program the way the kernel would on `frame` (no VLAN tag).
    fn run_filter(prog: &[libc::sock_filter], frame: &[u8]) -> u32 {
        let mut a: u32 = 0;
        let mut pc = 0;
        let load = |k: u32, n: usize| -> Option<u32> {
            if k == (libc::SKF_AD_OFF + libc::SKF_AD_VLAN_TAG_PRESENT) as u32 {
                return Some(0);
            }
            let b = frame.get(k as usize..k as usize + n)?;
            Some(b.iter().fold(0, |acc, &x| acc << 8 | u32::from(x)))
        };
        loop {
            let i = prog[pc];
            let code = u32::from(i.code);
            pc += 1;
            match code {
                c if c == libc::BPF_LD | libc::BPF_W | libc::BPF_ABS => match load(i.k, 4) {
                    Some(v) => a = v,
                    None => return 0,
                },
                c if c == libc::BPF_LD | libc::BPF_B | libc::BPF_ABS => match load(i.k, 1) {
                    Some(v) => a = v,
                    None => return 0,
                },
                c if c == libc::BPF_LD | libc::BPF_H | libc::BPF_ABS => match load(i.k, 2) {
                    Some(v) => a = v,
                    None => return 0,
                },
                c if c == libc::BPF_ALU | libc::BPF_AND | libc::BPF_K => a &= i.k,
                c if c == libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K => {
                    pc += usize::from(if a == i.k { i.jt } else { i.jf });
                }
                c if c == libc::BPF_RET | libc::BPF_K => return i.k,
                _ => panic!("unexpected opcode {code:#x}"),
            }
        }
    }

    fn frame(ethertype: u16, dst: [u8; 4]) -> Vec<u8> {
        let mut f = vec![0u8; 42];
        f[12..14].copy_from_slice(&ethertype.to_be_bytes());
        f[14] = 0x45;
        f[30..34].copy_from_slice(&dst);
        f
    }

    #[test]
    fn data_filter_leaves_igmp_to_the_control_plane() {
        let prog = multicast_data_filter();
        let mut f = frame(0x0800, [239, 1, 1, 1]);
        f[23] = 2;
        assert_eq!(run_filter(&prog, &f), 0, "an IGMPv2 report is not data");
        f[23] = 17;
        assert_ne!(run_filter(&prog, &f), 0);
        let ctl = control_filter();
        for (proto, pass) in [(2u8, true), (103, true), (17, false), (112, false)] {
            f[23] = proto;
            assert_eq!(run_filter(&ctl, &f) != 0, pass, "protocol {proto}");
        }
        assert_eq!(run_filter(&ctl, &frame(0x0806, [239, 1, 1, 1])), 0);
    }

    #[test]
    fn filter_keeps_only_multicast_data() {
        let prog = multicast_data_filter();
        let pass = |f: &[u8]| run_filter(&prog, f) != 0;
        assert!(pass(&frame(0x0800, [239, 1, 1, 1])));
        assert!(pass(&frame(0x0800, [224, 0, 1, 1])));
        assert!(pass(&frame(0x0800, [239, 255, 255, 255])));
        assert!(!pass(&frame(0x0800, [224, 0, 0, 5])));
        assert!(!pass(&frame(0x0800, [224, 0, 0, 18])));
        assert!(!pass(&frame(0x0800, [10, 0, 0, 1])));
        assert!(!pass(&frame(0x0800, [240, 0, 0, 1])));
        assert!(!pass(&frame(0x86dd, [239, 1, 1, 1])));
        assert!(!pass(&frame(0x0800, [239, 1, 1, 1])[..32]));
    }

    #[test]
    fn zero_sizes_are_refused() {
        let cfg = RingConfig {
            block_count: 0,
            ..RingConfig::default()
        };
        assert_eq!(
            RxRing::open(1, cfg).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }

    /// Frames carry the time the kernel received them, on the realtime clock the mVRRP gates
    /// switch by (see `mfib::Oif::since_ns`).
    #[test]
    fn frames_are_stamped_with_their_arrival_time() {
        use crate::testns::{require_root, Namespaces};
        use std::time::{Duration, Instant};
        if !require_root() {
            return;
        }
        let lab = Namespaces::new("rxts", &["a", "b"]);
        lab.veth("a", "a0", "b", "b0");
        let (a0, b0) = (lab.ifindex("a", "a0"), lab.ifindex("b", "b0"));
        let cfg = RingConfig {
            protocol: 0x88b5,
            filter: RingFilter::None,
            all_multicast: false,
            ..RingConfig::default()
        };
        let mut rx = lab.run("b", move || RxRing::open(b0, cfg)).unwrap();
        let tx = lab
            .run("a", move || crate::sock::PacketSocket::open(a0, None))
            .unwrap();
        let mut frame = vec![0u8; 60];
        frame[0..6].copy_from_slice(&[0xff; 6]);
        frame[12..14].copy_from_slice(&0x88b5u16.to_be_bytes());
        // A fresh veth refuses frames (ENOBUFS) until its carrier is up.
        let mut sent = None;
        for _ in 0..200 {
            let before = now_ns();
            if tx.send(&frame).is_ok() {
                sent = Some((before, now_ns()));
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let (before, after) = sent.expect("the veth never took a frame");
        let mut stamps = Vec::new();
        let end = Instant::now() + Duration::from_secs(2);
        while stamps.is_empty() && Instant::now() < end {
            rx.for_each_frame(4, |f| stamps.push(f.ts_ns));
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(stamps.len(), 1);
        assert!(
            stamps[0] >= before && stamps[0] <= after,
            "stamp {} not within the send [{before}, {after}]",
            stamps[0]
        );
    }
}
