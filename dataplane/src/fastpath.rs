//! The in-kernel fast path: (S,G) and (*,G) routes forwarded by an eBPF classifier at tc
//! ingress of their incoming interface, with no trip through user space per packet.
//!
//! Two programs read one hash map of routes that [`FastPath::sync`] keeps equal to the
//! offloadable part of the MFIB:
//! - the *forwarder* (`SchedCls`, direct action, at ingress of each forwarding interface):
//!   for untagged IPv4 multicast data (not 224.0.0.0/24, not IGMP) whose (S,G), else (*,G),
//!   route has this interface as iif, it counts TTL <= 1 (no copies), else decrements the TTL with the
//!   incremental checksum update of RFC 1624 (as `ip_decrease_ttl` does) and, for each
//!   forwarding oif, writes the oif's MAC as source and `bpf_clone_redirect`s a copy out of
//!   it. Then it frees the frame (TC_ACT_SHOT), or with [`FastPath::set_local_delivery`]
//!   (the agent's `kernel-bypass` false) hands it to the host's IP stack (TC_ACT_OK; its TTL
//!   already decremented). Everything else goes on (TC_ACT_UNSPEC) to the classic filters
//!   (the kernel-bypass drop of [`crate::ingress`]) and the kernel.
//!   It is attached through a tcx link, which ends with the link's descriptor: when the
//!   forwarder stops, or the agent is killed, the kernel stops forwarding for it (a dead
//!   router must not go on forwarding beside the backup that took over).
//! - the *tap filter* (`SocketFilter`, on the forwarder's AF_PACKET receive rings in place of
//!   their classic filter): the taps see each frame before tc ingress, so it keeps what the
//!   classic filter kept (IPv4 multicast data) except the frames the forwarder program takes;
//!   those never reach user space, and misses (no route, another iif: upcalls, Asserts,
//!   Registers) still do. Both programs decide "ours" with the same emitted code
//!   ([`emit_route_match`]), so a frame is handled by exactly one path.
//!
//! Counters per route (packets, octets, copies sent, copies refused, TTL expired) live in an
//! array map indexed by a slot that a route keeps while it stays offloaded; the programs add
//! to them atomically. [`FastPath::fold_counters`] carries them into the MFIB's
//! [`RouteCounters`](crate::mfib::RouteCounters).
//!
//! Not offloaded (left to the AF_PACKET forwarder): routes with more than [`MAX_OIFS`]
//! forwarding oifs, an oif or iif the fast path is not attached to, or a register tunnel.
//! A gate (`Oif::forwarding`) is applied as it stands when the table is synced (the
//! forwarding thread is woken by each publication and syncs at once, and again when a switch
//! timed ahead, `Oif::since_ns`, comes due). A switch timed at an earlier instant of arrival
//! therefore takes effect at the sync, microseconds after the decision, not at that instant as
//! on the rings, which judge each queued frame by its timestamp.
//!
//! Handed on, not attached again: a forwarder that replaces another (an interface joins or
//! leaves multicast forwarding) shares its `FastPath` and attaches the program only to the
//! interfaces that join; the forwarder that ends last on an interface takes it off there
//! (`crate::forward::Forwarder::launch`, one `FastPath` for each line of forwarders). The kernel attaches and detaches
//! a tcx program under the RTNL lock and waits for an RCU grace period inside it, and every
//! netlink request that needs RTNL waits meanwhile. When each forwarder had a `FastPath` of its
//! own, all its interfaces were detached and attached again on each replacement, and in the
//! lab's forwarder-restart check (`lab::seed_steady_state_node_failure_recovery_and_reconcile`)
//! the agent's protocol thread stalled 48-57 ms in 2 of about 10 runs behind it, long enough
//! for BFD 10 ms x 3 to flap. That thread's own tc changes now run on a thread of their own too.
//!
//! Its work is softirq work, which the forwarding thread's busy pause does not pace as it
//! paces the rings. So the classifier sheds load itself: each CPU may make a budget of copies
//! per millisecond, and a frame whose copies would pass it is dropped whole and counted (a
//! per-CPU pacer entry; neither path sees the frame, as the tap filter already left it to
//! this one). [`crate::pacing`] sets the budget from the CPUs' input backlog drops and the
//! control traffic's lateness (late wake-ups, late BFD packets); without it, on veth, a
//! saturated fast path overflows the backlog or holds the CPU, and BFD flaps (BENCHMARKS.md,
//! issue 19 item 6).

use std::collections::HashMap;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;

use crate::bpf::{
    Alu, Asm, BpfError, Cond, Helper, Label, Link, Map, MapKind, ProgKind, Program, Size, Update,
    FP, F_NO_PREALLOC, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9,
};
use crate::ingress::{TC_ACT_SHOT, TC_ACT_UNSPEC};
use crate::mfib::Table;

/// The most forwarding oifs an offloaded route may have.
pub const MAX_OIFS: usize = 8;

// `struct __sk_buff` offsets (linux/bpf.h).
const SKB_LEN: i16 = 0;
const SKB_PROTOCOL: i16 = 16;
const SKB_VLAN_PRESENT: i16 = 20;
const SKB_IFINDEX: i16 = 40;

// The route value: iif, forwarding oif count, counter slot, then the oifs.
const V_IIF: i16 = 0;
const V_COUNT: i16 = 4;
const V_SLOT: i16 = 8;
const V_OIFS: i16 = 16;
const OIF_STRIDE: i16 = 16;
const OIF_MAC: i16 = 4;
const VALUE_LEN: usize = V_OIFS as usize + MAX_OIFS * OIF_STRIDE as usize;
/// Key: source and group as on the wire (0.0.0.0 for (*,G)).
const KEY_LEN: usize = 8;

// A counter slot: u64 packets, octets, copies, copy errors, TTL expired.
const C_PACKETS: i16 = 0;
const C_OCTETS: i16 = 8;
const C_COPIES: i16 = 16;
const C_COPY_ERRORS: i16 = 24;
const C_TTL_EXPIRED: i16 = 32;
const COUNTERS_LEN: usize = 40;

// Where the emitted code keeps the IPv4 header (20 bytes read from offset 14) on its stack.
const IP: i16 = -24;
const IP_TOTAL_LEN: i16 = IP + 2;
const IP_TTL: i16 = IP + 8;
const IP_PROTO: i16 = IP + 9;
const IP_CSUM: i16 = IP + 10;
/// Source and group: the route key, contiguous.
const IP_SOURCE: i16 = IP + 12;
const IP_GROUP: i16 = IP + 16;
/// The counter slot's key.
const SLOT_KEY: i16 = -32;

/// The forwarder pulls the Ethernet, IPv4 and UDP headers (no options) into the linear part
/// of frames at least [`PULL_MIN`] long.
const PULL_MAX: i32 = 14 + 20 + 8;
const PULL_MIN: i32 = 14 + 20;

/// Where the emitted code keeps `bpf_ktime_get_ns` of the frame, and the CPU's pacer key.
const NOW: i16 = -40;
const CPU_KEY: i16 = -44;

// The settings: u32 local delivery, u32 copy budget (copies per CPU per pacing slot;
// u32::MAX: unpaced), u64 heartbeat (CLOCK_MONOTONIC ns of the forwarder's last sign of
// life; 0: no watchdog).
const S_LOCAL: i16 = 0;
const S_BUDGET: i16 = 4;
const S_HEARTBEAT: i16 = 8;
const SETTINGS_LEN: usize = 16;
/// How long without a heartbeat before the classifier stops forwarding.
pub const WATCHDOG_NS: i32 = 10_000_000;

// A CPU's pacer (entry `smp_processor_id` of the pacers map, one cache line): u64 start of
// the current slot (CLOCK_MONOTONIC ns), u64 copies made in it, u64 copies admitted in all,
// u64 frames shed in all. Only that CPU's softirq writes it.
const P_START: i16 = 0;
const P_USED: i16 = 8;
const P_ADMITTED: i16 = 16;
const P_SHED: i16 = 24;
const PACER_LEN: usize = 64;
/// CPUs with a pacer; frames handled on a CPU beyond are unpaced.
const PACER_CPUS: u32 = 256;

const ETH_P_IP: u16 = 0x0800;
/// TC_ACT_OK: on to the host's IP stack, past every other filter.
const TC_ACT_OK: i32 = 0;
const IPPROTO_IGMP: i32 = 2;
/// `bpf_skb_store_bytes` flag: keep a CHECKSUM_COMPLETE skb's sum right.
const F_RECOMPUTE_CSUM: i32 = 1;

/// Emit the decision both programs share. On entry r1 is the `__sk_buff`; on the fall-through
/// r6 is the context, r7 points to the matched route's value and the IPv4 header is on the
/// stack at [`IP`]. Frames that are not multicast data (what the rings' classic filter
/// refused) go to `not_data`; data that no route of this interface takes, to `miss`.
pub fn emit_route_match(a: &mut Asm, routes: RawFd, not_data: Label, miss: Label) {
    let found = a.label();
    a.mov(R6, R1);
    a.load(Size::W, R1, R6, SKB_VLAN_PRESENT)
        .jump_imm(Cond::Ne, R1, 0, not_data);
    // The protocol field holds the EtherType in network order.
    a.load(Size::W, R1, R6, SKB_PROTOCOL).jump_imm(
        Cond::Ne,
        R1,
        i32::from(ETH_P_IP.to_be()),
        not_data,
    );
    a.mov(R1, R6)
        .mov_imm(R2, 14)
        .mov(R3, FP)
        .alu_imm(Alu::Add, R3, i32::from(IP))
        .mov_imm(R4, 20)
        .call(Helper::SkbLoadBytes)
        .jump_imm(Cond::Ne, R0, 0, not_data);
    // Group in 224.0.0.0/4 but not 224.0.0.0/24; not IGMP.
    a.load(Size::B, R1, FP, IP_GROUP)
        .alu_imm(Alu::And, R1, 0xf0)
        .jump_imm(Cond::Ne, R1, 0xe0, not_data);
    let mask = u32::from_ne_bytes([0xff, 0xff, 0xff, 0]) as i32;
    let link_local = u32::from_ne_bytes([224, 0, 0, 0]) as i32;
    a.load(Size::W, R1, FP, IP_GROUP)
        .alu_imm(Alu::And, R1, mask)
        .jump_imm(Cond::Eq, R1, link_local, not_data);
    a.load(Size::B, R1, FP, IP_PROTO)
        .jump_imm(Cond::Eq, R1, IPPROTO_IGMP, not_data);
    // Version 4 with a header of at least 20 bytes; others are the slow path's to count.
    a.load(Size::B, R1, FP, IP)
        .jump_imm(Cond::Lt, R1, 0x45, miss)
        .jump_imm(Cond::Gt, R1, 0x4f, miss);
    // (S,G), then (*,G).
    let lookup = |a: &mut Asm| {
        a.load_map_fd(R1, routes)
            .mov(R2, FP)
            .alu_imm(Alu::Add, R2, i32::from(IP_SOURCE))
            .call(Helper::MapLookupElem);
    };
    lookup(a);
    a.jump_imm(Cond::Ne, R0, 0, found);
    a.store_imm(Size::W, FP, IP_SOURCE, 0);
    lookup(a);
    a.jump_imm(Cond::Eq, R0, 0, miss);
    a.bind(found).mov(R7, R0);
    a.load(Size::W, R1, R7, V_IIF)
        .load(Size::W, R2, R6, SKB_IFINDEX)
        .jump(Cond::Ne, R1, R2, miss);
}

/// The tc ingress forwarder over `routes` and `counters`.
fn forwarder_program(
    routes: RawFd,
    counters: RawFd,
    settings: RawFd,
    pacers: RawFd,
) -> Result<Vec<crate::bpf::Insn>, BpfError> {
    let mut a = Asm::new();
    let (pass, shot, done) = (a.label(), a.label(), a.label());
    // Headers up to UDP's into the linear part first (a frame sent from a TX ring arrives
    // with them in page fragments): the loads below then copy from the head, the copies
    // carry linear headers to their receivers (no pull in each receiver's ip_rcv), and the
    // rewrites below work on a head that is the original's alone.
    let (short, pull) = (a.label(), a.label());
    a.mov(R6, R1)
        .load(Size::W, R2, R6, SKB_LEN)
        .jump_imm(Cond::Lt, R2, PULL_MIN, short)
        .jump_imm(Cond::Le, R2, PULL_MAX, pull)
        .mov_imm(R2, PULL_MAX)
        .bind(pull)
        .mov(R1, R6)
        .call(Helper::SkbPullData)
        .bind(short)
        .mov(R1, R6);
    emit_route_match(&mut a, routes, pass, pass);
    // r9 = the settings. With a heartbeat set, a forwarder that has not written one for
    // WATCHDOG_NS is dead or stuck, and this program steps aside (a killed agent's links close
    // only once its sockets have, which takes tens of milliseconds): the frame goes on to a
    // newer fast path, or to the kernel-bypass drop.
    let alive = a.label();
    a.store_imm(Size::W, FP, SLOT_KEY, 0)
        .load_map_fd(R1, settings)
        .mov(R2, FP)
        .alu_imm(Alu::Add, R2, i32::from(SLOT_KEY))
        .call(Helper::MapLookupElem)
        .jump_imm(Cond::Eq, R0, 0, shot)
        .mov(R9, R0)
        .call(Helper::KtimeGetNs)
        .store(Size::DW, FP, NOW, R0)
        .load(Size::DW, R1, R9, S_HEARTBEAT)
        .jump_imm(Cond::Eq, R1, 0, alive)
        // A heartbeat written after the clock was read here is later than it.
        .jump(Cond::Gt, R1, R0, alive)
        .alu(Alu::Sub, R0, R1)
        .jump_imm(Cond::Gt, R0, WATCHDOG_NS, pass)
        .bind(alive);
    // r8 = the route's counters (a slot the map always has; a missing one drops the frame,
    // which the tap filter already kept from user space).
    a.load(Size::W, R1, R7, V_SLOT)
        .store(Size::W, FP, SLOT_KEY, R1)
        .load_map_fd(R1, counters)
        .mov(R2, FP)
        .alu_imm(Alu::Add, R2, i32::from(SLOT_KEY))
        .call(Helper::MapLookupElem)
        .jump_imm(Cond::Eq, R0, 0, shot)
        .mov(R8, R0);
    let alive = a.label();
    a.load(Size::B, R1, FP, IP_TTL)
        .jump_imm(Cond::Gt, R1, 1, alive)
        .mov_imm(R1, 1)
        .atomic_add64(R8, C_TTL_EXPIRED, R1)
        .goto(done);
    a.bind(alive);
    emit_pacer(&mut a, pacers, shot);
    a.load(Size::B, R1, FP, IP_TTL);
    // packets += 1, octets += total length.
    a.mov_imm(R2, 1)
        .atomic_add64(R8, C_PACKETS, R2)
        .load(Size::B, R2, FP, IP_TOTAL_LEN)
        .alu_imm(Alu::Lsh, R2, 8)
        .load(Size::B, R3, FP, IP_TOTAL_LEN + 1)
        .alu(Alu::Or, R2, R3)
        .atomic_add64(R8, C_OCTETS, R2);
    // TTL - 1; the checksum (as a big-endian number) + 0x0100 with the end-around carry.
    let no_carry = a.label();
    a.alu_imm(Alu::Sub, R1, 1)
        .store(Size::B, FP, IP_TTL, R1)
        .load(Size::B, R2, FP, IP_CSUM)
        .alu_imm(Alu::Lsh, R2, 8)
        .load(Size::B, R3, FP, IP_CSUM + 1)
        .alu(Alu::Or, R2, R3)
        .alu_imm(Alu::Add, R2, 0x0100)
        .jump_imm(Cond::Lt, R2, 0xffff, no_carry)
        .alu_imm(Alu::Add, R2, 1)
        .bind(no_carry)
        .store(Size::B, FP, IP_CSUM + 1, R2)
        .alu_imm(Alu::Rsh, R2, 8)
        .store(Size::B, FP, IP_CSUM, R2);
    // Bytes 22..26 of the frame: TTL, protocol, checksum.
    a.mov(R1, R6)
        .mov_imm(R2, 14 + 8)
        .mov(R3, FP)
        .alu_imm(Alu::Add, R3, i32::from(IP_TTL))
        .mov_imm(R4, 4)
        .mov_imm(R5, F_RECOMPUTE_CSUM)
        .call(Helper::SkbStoreBytes)
        .jump_imm(Cond::Ne, R0, 0, shot);
    for i in 0..MAX_OIFS {
        let oif = V_OIFS + OIF_STRIDE * i as i16;
        let (refused, next) = (a.label(), a.label());
        a.load(Size::W, R1, R7, V_COUNT)
            .jump_imm(Cond::Le, R1, i as i32, done);
        // The source MAC (not covered by any checksum).
        a.mov(R1, R6)
            .mov_imm(R2, 6)
            .mov(R3, R7)
            .alu_imm(Alu::Add, R3, i32::from(oif + OIF_MAC))
            .mov_imm(R4, 6)
            .mov_imm(R5, 0)
            .call(Helper::SkbStoreBytes)
            .jump_imm(Cond::Ne, R0, 0, refused);
        a.mov(R1, R6)
            .load(Size::W, R2, R7, oif)
            .mov_imm(R3, 0)
            .call(Helper::CloneRedirect)
            .jump_imm(Cond::Ne, R0, 0, refused)
            .mov_imm(R1, 1)
            .atomic_add64(R8, C_COPIES, R1)
            .goto(next);
        a.bind(refused)
            .mov_imm(R1, 1)
            .atomic_add64(R8, C_COPY_ERRORS, R1);
        a.bind(next);
    }
    // Handled (forwarded, or TTL expired): freed here, or with local delivery on, handed to
    // the host's IP stack. Either verdict ends the tcx chain, so a second fast path attached
    // beside this one (a forwarder taking over) does not forward the frame again.
    let local = a.label();
    a.bind(done)
        .load(Size::W, R1, R9, S_LOCAL)
        .jump_imm(Cond::Ne, R1, 0, local);
    // Not handled although the tap filter kept it from user space (no counter slot, a failed
    // rewrite): dropped.
    a.bind(shot).mov_imm(R0, TC_ACT_SHOT as i32).exit();
    a.bind(local).mov_imm(R0, TC_ACT_OK).exit();
    a.bind(pass).mov_imm(R0, TC_ACT_UNSPEC as i32).exit();
    Ok(a.finish()?)
}

/// Emit the copy budget (see [`crate::pacing`]): with r7 the route, r9 the settings and the
/// clock at [`NOW`], a frame whose copies would take this CPU's copies in the current slot past
/// the budget is counted as shed and goes to `shed`; else its copies are added. Clobbers
/// r0-r5.
fn emit_pacer(a: &mut Asm, pacers: RawFd, shed: Label) {
    let (unpaced, same_slot, over) = (a.label(), a.label(), a.label());
    a.call(Helper::GetSmpProcessorId)
        .store(Size::W, FP, CPU_KEY, R0)
        .load_map_fd(R1, pacers)
        .mov(R2, FP)
        .alu_imm(Alu::Add, R2, i32::from(CPU_KEY))
        .call(Helper::MapLookupElem)
        .jump_imm(Cond::Eq, R0, 0, unpaced);
    // A new slot when this one is over (or the clock is behind its start).
    a.load(Size::DW, R1, FP, NOW)
        .load(Size::DW, R2, R0, P_START)
        .mov(R3, R1)
        .alu(Alu::Sub, R3, R2)
        .jump_imm(Cond::Le, R3, crate::pacing::SLOT_NS as i32, same_slot)
        .store(Size::DW, R0, P_START, R1)
        .store_imm(Size::DW, R0, P_USED, 0)
        .bind(same_slot);
    a.load(Size::DW, R2, R0, P_USED)
        .load(Size::W, R3, R7, V_COUNT)
        .alu(Alu::Add, R2, R3)
        .load(Size::W, R4, R9, S_BUDGET)
        .jump(Cond::Gt, R2, R4, over)
        .store(Size::DW, R0, P_USED, R2)
        .load(Size::DW, R2, R0, P_ADMITTED)
        .alu(Alu::Add, R2, R3)
        .store(Size::DW, R0, P_ADMITTED, R2)
        .goto(unpaced);
    a.bind(over)
        .load(Size::DW, R2, R0, P_SHED)
        .alu_imm(Alu::Add, R2, 1)
        .store(Size::DW, R0, P_SHED, R2)
        .goto(shed);
    a.bind(unpaced);
}

/// The receive rings' filter: IPv4 multicast data that the forwarder program leaves.
fn tap_filter_program(routes: RawFd) -> Result<Vec<crate::bpf::Insn>, BpfError> {
    let mut a = Asm::new();
    let (drop, keep) = (a.label(), a.label());
    emit_route_match(&mut a, routes, drop, keep);
    a.bind(drop).mov_imm(R0, 0).exit();
    // The whole frame.
    a.bind(keep).mov_imm(R0, -1).exit();
    Ok(a.finish()?)
}

/// A route's counters in the fast path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FastCounters {
    /// Packets forwarded (TTL > 1) and their octets (IPv4 total length).
    pub packets: u64,
    pub octets: u64,
    /// Copies handed to an oif, and copies that could not be made or sent.
    pub copies: u64,
    pub copy_errors: u64,
    /// Packets dropped for TTL <= 1.
    pub ttl_expired: u64,
}

/// The u64 at offset `o` of a map value.
fn u64_at(b: &[u8], o: i16) -> u64 {
    let o = o as usize;
    u64::from_ne_bytes(b[o..o + 8].try_into().expect("8 bytes"))
}

impl FastCounters {
    fn decode(b: &[u8]) -> FastCounters {
        let at = |o: i16| u64_at(b, o);
        FastCounters {
            packets: at(C_PACKETS),
            octets: at(C_OCTETS),
            copies: at(C_COPIES),
            copy_errors: at(C_COPY_ERRORS),
            ttl_expired: at(C_TTL_EXPIRED),
        }
    }

    fn minus(self, o: FastCounters) -> FastCounters {
        FastCounters {
            packets: self.packets.wrapping_sub(o.packets),
            octets: self.octets.wrapping_sub(o.octets),
            copies: self.copies.wrapping_sub(o.copies),
            copy_errors: self.copy_errors.wrapping_sub(o.copy_errors),
            ttl_expired: self.ttl_expired.wrapping_sub(o.ttl_expired),
        }
    }

    fn plus(&mut self, o: FastCounters) {
        self.packets += o.packets;
        self.octets += o.octets;
        self.copies += o.copies;
        self.copy_errors += o.copy_errors;
        self.ttl_expired += o.ttl_expired;
    }
}

/// What one [`FastPath::sync`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    /// Routes of the table left to the AF_PACKET path.
    pub not_offloaded: usize,
}

struct Offloaded {
    slot: u32,
    value: [u8; VALUE_LEN],
    /// The slot's counters when they were last folded into the MFIB.
    folded: FastCounters,
}

/// The loaded programs and maps, the interfaces they are attached to, and the routes they
/// hold. Dropping it takes the classifiers off the interfaces (their links close; the tap
/// filters go with the rings' sockets).
pub struct FastPath {
    routes: Map,
    counters: Map,
    /// Local delivery and the heartbeat (see [`S_LOCAL`], [`S_HEARTBEAT`]), and what was
    /// last written there.
    settings: Map,
    local_delivery: bool,
    /// Copies per CPU per pacing slot; None: unpaced.
    copy_budget: Option<u32>,
    heartbeat_ns: u64,
    /// Each CPU's pacer (see [`P_START`]).
    pacers: Map,
    programs: Attacher,
    capacity: u32,
    /// Interfaces routes may use (iif and oifs), and the source MAC of copies out of each.
    ports: HashMap<u32, [u8; 6]>,
    /// The forwarder program's attachments, by interface: those of the ports, and those of
    /// interfaces no longer ports until [`FastPath::take_unused_links`].
    links: HashMap<u32, Link>,
    offloaded: HashMap<[u8; KEY_LEN], Offloaded>,
    free_slots: Vec<u32>,
    /// The earliest gate switch still ahead (`Oif::since_ns` later than the last sync), when
    /// the routes must be synced again.
    next_switch_ns: Option<u64>,
    /// Counts of routes removed since the last [`FastPath::fold_counters`].
    unreported: FastCounters,
}

/// The fast path's two programs, shared: attaching them to another interface or ring needs no
/// access to the [`FastPath`], whose owner may be forwarding meanwhile (attaching at tc
/// ingress takes the RTNL lock across an RCU grace period, tens of milliseconds).
#[derive(Clone)]
pub struct Attacher {
    forwarder: Arc<Program>,
    tap_filter: Arc<Program>,
}

impl Attacher {
    /// Put the forwarder program at ingress of `ifindex` (in the calling thread's namespace).
    pub fn attach(&self, ifindex: u32) -> io::Result<Link> {
        Ok(self.forwarder.attach_tcx_ingress(ifindex)?)
    }

    /// Replace the classic filter of a receive ring's socket with the tap filter.
    pub fn filter_tap(&self, ring: RawFd) -> io::Result<()> {
        self.tap_filter.attach_to_socket(ring)
    }
}

impl std::fmt::Debug for FastPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastPath")
            .field("ports", &self.ports.keys().collect::<Vec<_>>())
            .field("routes", &self.offloaded.len())
            .finish()
    }
}

/// The counters of one slot of the counters map.
fn slot_counters(counters: &Map, slot: u32) -> Result<FastCounters, BpfError> {
    let mut b = [0u8; COUNTERS_LEN];
    counters.lookup(&slot.to_ne_bytes(), &mut b)?;
    Ok(FastCounters::decode(&b))
}

/// Add `delta` to the counters of the route with key `k` in `table`, if it has it.
fn fold_into(table: &Table, k: &[u8; KEY_LEN], delta: FastCounters) {
    let source = Ipv4Addr::new(k[0], k[1], k[2], k[3]);
    let group = Ipv4Addr::new(k[4], k[5], k[6], k[7]);
    if let Some(r) = table.get(source, group) {
        use std::sync::atomic::Ordering::Relaxed;
        r.counters.packets.fetch_add(delta.packets, Relaxed);
        r.counters.octets.fetch_add(delta.octets, Relaxed);
    }
}

/// CLOCK_MONOTONIC in ns, the clock of `bpf_ktime_get_ns`.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn key(source: Ipv4Addr, group: Ipv4Addr) -> [u8; KEY_LEN] {
    let mut k = [0u8; KEY_LEN];
    k[..4].copy_from_slice(&source.octets());
    k[4..].copy_from_slice(&group.octets());
    k
}

impl FastPath {
    /// Create the maps (room for `capacity` routes) and load both programs.
    pub fn load(capacity: u32) -> Result<FastPath, BpfError> {
        let capacity = capacity.max(1);
        let routes = Map::create(
            MapKind::Hash,
            KEY_LEN,
            VALUE_LEN,
            capacity,
            F_NO_PREALLOC,
            "ne_mroutes",
        )?;
        let counters = Map::create(MapKind::Array, 4, COUNTERS_LEN, capacity, 0, "ne_mcounters")?;
        let settings = Map::create(MapKind::Array, 4, SETTINGS_LEN, 1, 0, "ne_msettings")?;
        let pacers = Map::create(MapKind::Array, 4, PACER_LEN, PACER_CPUS, 0, "ne_mpacers")?;
        let forwarder = Arc::new(Program::load(
            ProgKind::SchedCls,
            "ne_mfwd",
            &forwarder_program(
                routes.as_raw_fd(),
                counters.as_raw_fd(),
                settings.as_raw_fd(),
                pacers.as_raw_fd(),
            )?,
        )?);
        let tap_filter = Arc::new(Program::load(
            ProgKind::SocketFilter,
            "ne_mtap",
            &tap_filter_program(routes.as_raw_fd())?,
        )?);
        let fast = FastPath {
            routes,
            counters,
            settings,
            local_delivery: false,
            copy_budget: None,
            heartbeat_ns: 0,
            pacers,
            programs: Attacher {
                forwarder,
                tap_filter,
            },
            capacity,
            ports: HashMap::new(),
            links: HashMap::new(),
            offloaded: HashMap::new(),
            free_slots: (0..capacity).rev().collect(),
            unreported: FastCounters::default(),
            next_switch_ns: None,
        };
        fast.write_settings()?;
        Ok(fast)
    }

    /// Put the forwarder program at ingress of `ifindex` (in the calling thread's namespace),
    /// whose copies go out with source `mac`; and make `ifindex` an oif routes may use.
    pub fn attach(&mut self, ifindex: u32, mac: [u8; 6]) -> io::Result<()> {
        let link = self.programs.attach(ifindex)?;
        self.add_port(ifindex, mac, link);
        Ok(())
    }

    /// The programs, to attach them where this fast path is in use (see [`Attacher`]).
    pub fn attacher(&self) -> Attacher {
        self.programs.clone()
    }

    /// Make `ifindex`, where `link` (from [`FastPath::attacher`]) put the forwarder program, a
    /// port: routes may use it as iif and oif, copies out of it with source `mac`.
    pub fn add_port(&mut self, ifindex: u32, mac: [u8; 6], link: Link) {
        self.links.insert(ifindex, link);
        self.ports.insert(ifindex, mac);
    }

    /// Whether routes may use `ifindex`.
    pub fn has_port(&self, ifindex: u32) -> bool {
        self.ports.contains_key(&ifindex)
    }

    /// The interfaces routes may use.
    pub fn ports(&self) -> impl Iterator<Item = u32> + '_ {
        self.ports.keys().copied()
    }

    /// Stop offering the interfaces not in `keep` to routes (the next [`FastPath::sync`]
    /// leaves the routes through them to the rings); their programs stay attached until
    /// [`FastPath::take_unused_links`]. Whether any went.
    pub fn retain_ports(&mut self, keep: &[u32]) -> bool {
        let before = self.ports.len();
        self.ports.retain(|i, _| keep.contains(i));
        self.ports.len() != before
    }

    /// The attachments of interfaces that are no longer ports, to be dropped (which detaches
    /// the program: under the RTNL lock, across an RCU grace period) once a sync has taken
    /// their routes out of the map.
    pub fn take_unused_links(&mut self) -> Vec<Link> {
        let (unused, kept): (HashMap<u32, Link>, _) = std::mem::take(&mut self.links)
            .into_iter()
            .partition(|(i, _)| !self.ports.contains_key(i));
        self.links = kept;
        unused.into_values().collect()
    }

    /// Whether frames the fast path forwards also go to the host's IP stack (for applications
    /// on the device that joined routed groups; `kernel-bypass` false) or are freed (the
    /// default).
    pub fn local_delivery(&self) -> bool {
        self.local_delivery
    }

    /// Sets [`FastPath::local_delivery`].
    pub fn set_local_delivery(&mut self, on: bool) -> Result<(), BpfError> {
        self.local_delivery = on;
        self.write_settings()
    }

    /// A sign of life from the forwarder: from the first one on, the classifier stops
    /// forwarding when none came for [`WATCHDOG_NS`].
    pub fn heartbeat(&mut self) -> Result<(), BpfError> {
        self.heartbeat_ns = monotonic_ns().max(1);
        self.write_settings()
    }

    /// The copies each CPU may make per pacing slot ([`crate::pacing::SLOT_NS`]); None:
    /// unpaced (the default). Frames whose copies would pass it are shed.
    pub fn set_copy_budget(&mut self, budget: Option<u32>) -> Result<(), BpfError> {
        self.copy_budget = budget;
        self.write_settings()
    }

    /// What the classifier counted on CPUs `0..cpus` (copies admitted, frames shed), cumulative.
    pub fn cpu_copies(&self, cpus: usize) -> Result<Vec<crate::pacing::CpuCopies>, BpfError> {
        (0..(cpus as u32).min(PACER_CPUS))
            .map(|cpu| {
                let mut b = [0u8; PACER_LEN];
                self.pacers.lookup(&cpu.to_ne_bytes(), &mut b)?;
                Ok(crate::pacing::CpuCopies {
                    admitted: u64_at(&b, P_ADMITTED),
                    shed: u64_at(&b, P_SHED),
                })
            })
            .collect()
    }

    fn write_settings(&self) -> Result<(), BpfError> {
        let mut v = [0u8; SETTINGS_LEN];
        v[S_LOCAL as usize..S_LOCAL as usize + 4]
            .copy_from_slice(&u32::from(self.local_delivery).to_ne_bytes());
        v[S_BUDGET as usize..S_BUDGET as usize + 4]
            .copy_from_slice(&self.copy_budget.unwrap_or(u32::MAX).to_ne_bytes());
        v[S_HEARTBEAT as usize..S_HEARTBEAT as usize + 8]
            .copy_from_slice(&self.heartbeat_ns.to_ne_bytes());
        self.settings.update(&0u32.to_ne_bytes(), &v, Update::Any)
    }

    /// Replace the classic filter of a receive ring's socket with the tap filter.
    pub fn filter_tap(&self, ring: RawFd) -> io::Result<()> {
        self.programs.filter_tap(ring)
    }

    /// The map value for `route`, or None when it cannot be offloaded.
    fn value_for(&self, route: &crate::mfib::Route, now_ns: u64) -> Option<[u8; VALUE_LEN]> {
        if route.register_to.is_some() || !self.ports.contains_key(&route.iif) {
            return None;
        }
        let mut v = [0u8; VALUE_LEN];
        v[0..4].copy_from_slice(&route.iif.to_ne_bytes());
        let mut n = 0;
        for oif in route.forwarding_oifs_at(now_ns) {
            let mac = self.ports.get(&oif)?;
            if n == MAX_OIFS {
                return None;
            }
            let at = (V_OIFS + OIF_STRIDE * n as i16) as usize;
            v[at..at + 4].copy_from_slice(&oif.to_ne_bytes());
            let m = at + OIF_MAC as usize;
            v[m..m + 6].copy_from_slice(mac);
            n += 1;
        }
        v[V_COUNT as usize..V_COUNT as usize + 4].copy_from_slice(&(n as u32).to_ne_bytes());
        Some(v)
    }

    /// Make the routes map hold the offloadable routes of `table`, gates as they stand at
    /// `now_ns` (CLOCK_REALTIME): new ones added, changed ones replaced in one update each,
    /// gone ones removed. Counters of a removed route are folded into the table's route
    /// first when it is still there, else into the totals.
    pub fn sync(&mut self, table: &Table, now_ns: u64) -> Result<SyncReport, BpfError> {
        let mut report = SyncReport::default();
        let mut wanted: HashMap<[u8; KEY_LEN], [u8; VALUE_LEN]> = HashMap::new();
        self.next_switch_ns = table
            .routes()
            .flat_map(|r| r.oifs.iter().map(|o| o.since_ns))
            .filter(|&t| t > now_ns)
            .min();
        for r in table.routes() {
            match self.value_for(r, now_ns) {
                Some(v) => {
                    wanted.insert(key(r.source, r.group), v);
                }
                None => report.not_offloaded += 1,
            }
        }
        // Removals first: their slots may serve the additions.
        let gone: Vec<[u8; KEY_LEN]> = self
            .offloaded
            .keys()
            .filter(|k| !wanted.contains_key(*k))
            .copied()
            .collect();
        for k in gone {
            self.routes.delete(&k)?;
            let o = self.offloaded.remove(&k).expect("listed above");
            // Packets already inside the program may still count into the slot; it is
            // zeroed again before it serves another route.
            let now = self.slot_counters(o.slot)?;
            let delta = now.minus(o.folded);
            fold_into(table, &k, delta);
            self.unreported.plus(delta);
            self.free_slots.push(o.slot);
            report.removed += 1;
        }
        for (k, v) in wanted {
            let mut v = v;
            if let Some(o) = self.offloaded.get_mut(&k) {
                v[V_SLOT as usize..V_SLOT as usize + 4].copy_from_slice(&o.slot.to_ne_bytes());
                if v != o.value {
                    self.routes.update(&k, &v, Update::Exist)?;
                    o.value = v;
                    report.changed += 1;
                }
                continue;
            }
            let Some(slot) = self.free_slots.pop() else {
                report.not_offloaded += 1;
                continue;
            };
            self.counters
                .update(&slot.to_ne_bytes(), &[0; COUNTERS_LEN], Update::Any)?;
            v[V_SLOT as usize..V_SLOT as usize + 4].copy_from_slice(&slot.to_ne_bytes());
            if let Err(e) = self.routes.update(&k, &v, Update::Any) {
                self.free_slots.push(slot);
                return Err(e);
            }
            self.offloaded.insert(
                k,
                Offloaded {
                    slot,
                    value: v,
                    folded: FastCounters::default(),
                },
            );
            report.added += 1;
        }
        Ok(report)
    }

    fn slot_counters(&self, slot: u32) -> Result<FastCounters, BpfError> {
        slot_counters(&self.counters, slot)
    }

    /// Add what the programs counted since the last fold to the routes of `table` (packets
    /// and octets) and return it, summed over the routes.
    pub fn fold_counters(&mut self, table: &Table) -> Result<FastCounters, BpfError> {
        let mut sum = std::mem::take(&mut self.unreported);
        for (k, o) in self.offloaded.iter_mut() {
            let now = slot_counters(&self.counters, o.slot)?;
            let delta = now.minus(o.folded);
            o.folded = now;
            fold_into(table, k, delta);
            sum.plus(delta);
        }
        Ok(sum)
    }

    /// The counters of the offloaded route (source, group), as the programs have them now.
    pub fn route_counters(
        &self,
        source: Ipv4Addr,
        group: Ipv4Addr,
    ) -> Result<Option<FastCounters>, BpfError> {
        match self.offloaded.get(&key(source, group)) {
            Some(o) => Ok(Some(self.slot_counters(o.slot)?)),
            None => Ok(None),
        }
    }

    /// Whether (source, group) is in the fast path.
    pub fn is_offloaded(&self, source: Ipv4Addr, group: Ipv4Addr) -> bool {
        self.offloaded.contains_key(&key(source, group))
    }

    /// When the routes must be synced again for a gate switch timed ahead of the last sync.
    pub fn next_switch_ns(&self) -> Option<u64> {
        self.next_switch_ns
    }

    /// Routes offloaded now.
    pub fn routes(&self) -> usize {
        self.offloaded.len()
    }

    /// The most routes the maps hold.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }
}

#[cfg(test)]
#[path = "fastpath_tests.rs"]
mod tests;
