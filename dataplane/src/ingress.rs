//! The tc ingress filter that keeps the kernel's own receive path off the multicast data the
//! forwarder already handles. The forwarder's rings are AF_PACKET taps (bound to all
//! protocols), which the kernel serves before tc ingress; a classic BPF classifier at ingress
//! that answers TC_ACT_SHOT for routed multicast data then frees each frame right after the
//! taps saw it, instead of handing it to `ip_rcv`, a route lookup and a drop. Control stays:
//! IGMP (2), PIM (103) and everything to 224.0.0.0/24 (VRRP, PIM hellos, mDNS) go on to the
//! kernel, as does all unicast (BFD).
//!
//! Built on rtnetlink directly (a `clsact` qdisc and one `bpf` filter in direct-action mode):
//! no `tc` binary, no BPF toolchain, no action module (kernels without `act_gact` still have
//! it). The filter sits at its own preference [`PREF`] so that other filters on the interface
//! are left alone; the `clsact` qdisc is removed with the filter when nothing else uses it.

use std::io;

use crate::netlink::Handle;

/// The filter's preference (priority) on the ingress hook: ours alone, so finding and
/// removing the agent's filter (also one a previous run left behind) touches nothing else.
pub const PREF: u16 = 0x4e45;

const RTM_NEWQDISC: u16 = 36;
const RTM_DELQDISC: u16 = 37;
const RTM_NEWTFILTER: u16 = 44;
const RTM_DELTFILTER: u16 = 45;
const RTM_GETTFILTER: u16 = 46;

const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;

/// linux/pkt_sched.h: the clsact qdisc's parent and handle, and its two hooks.
const TC_H_CLSACT: u32 = 0xffff_fff1;
const CLSACT_HANDLE: u32 = 0xffff_0000;
const CLSACT_INGRESS: u32 = 0xffff_fff2;
const CLSACT_EGRESS: u32 = 0xffff_fff3;

const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;
/// linux/pkt_cls.h `TCA_BPF_*`.
const TCA_BPF_OPS_LEN: u16 = 4;
const TCA_BPF_OPS: u16 = 5;
const TCA_BPF_FD: u16 = 6;
const TCA_BPF_NAME: u16 = 7;
const TCA_BPF_FLAGS: u16 = 8;
const TCA_BPF_FLAG_ACT_DIRECT: u32 = 1;
const NLA_F_NESTED: u16 = 0x8000;

/// TC_ACT_SHOT; TC_ACT_UNSPEC (-1) lets the next filter decide.
pub const TC_ACT_SHOT: u32 = 2;
pub const TC_ACT_UNSPEC: u32 = u32::MAX;

const ETH_P_IP: u16 = 0x0800;

/// Classic BPF run by `cls_bpf` at ingress, where the frame is seen from its Ethernet header
/// (the classifier pushes the MAC header back for the program). Only IPv4 frames reach it
/// (the filter's protocol). Routed multicast data is shot: destination in 224.0.0.0/4 but not
/// in 224.0.0.0/24, protocol neither IGMP nor PIM; anything else goes on.
pub fn program() -> [libc::sock_filter; 10] {
    const fn op(code: u32, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
        libc::sock_filter {
            code: code as u16,
            jt,
            jf,
            k,
        }
    }
    use libc::{BPF_ABS, BPF_ALU, BPF_AND, BPF_B, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};
    [
        op(BPF_LD | BPF_B | BPF_ABS, 0, 0, 23),   // 0: A = IP protocol
        op(BPF_JMP | BPF_JEQ | BPF_K, 7, 0, 2),   // 1: IGMP -> pass
        op(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 103), // 2: PIM -> pass
        op(BPF_LD | BPF_W | BPF_ABS, 0, 0, 30),   // 3: A = IPv4 destination
        op(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0xffff_ff00), // 4
        op(BPF_JMP | BPF_JEQ | BPF_K, 3, 0, 0xe000_0000), // 5: 224.0.0.0/24 -> pass
        op(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0xf000_0000), // 6
        op(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0xe000_0000), // 7: not 224/4 -> pass
        op(BPF_RET | BPF_K, 0, 0, TC_ACT_SHOT),   // 8: routed multicast data
        op(BPF_RET | BPF_K, 0, 0, TC_ACT_UNSPEC), // 9: pass
    ]
}

/// A netlink request under construction: header, `struct tcmsg`, attributes.
struct Request {
    buf: Vec<u8>,
    /// Start offsets of the nested attributes still open.
    open: Vec<usize>,
}

impl Request {
    fn new(kind: u16, flags: u16, ifindex: u32, parent: u32, handle: u32, info: u32) -> Request {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&0u32.to_ne_bytes()); // length, set by finish()
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&[0; 8]); // sequence (set by the handle), port id
                                        // struct tcmsg: family, 3 pad bytes, ifindex, handle, parent, info.
        buf.extend_from_slice(&[libc::AF_UNSPEC as u8, 0, 0, 0]);
        buf.extend_from_slice(&(ifindex as i32).to_ne_bytes());
        buf.extend_from_slice(&handle.to_ne_bytes());
        buf.extend_from_slice(&parent.to_ne_bytes());
        buf.extend_from_slice(&info.to_ne_bytes());
        Request {
            buf,
            open: Vec::new(),
        }
    }

    fn attr(&mut self, kind: u16, value: &[u8]) -> &mut Request {
        let len = 4 + value.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.pad();
        self
    }

    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }

    fn begin_nested(&mut self, kind: u16) -> &mut Request {
        self.open.push(self.buf.len());
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        self
    }

    fn end_nested(&mut self) -> &mut Request {
        if let Some(at) = self.open.pop() {
            let len = (self.buf.len() - at) as u16;
            self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        }
        self
    }

    fn finish(&mut self) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        std::mem::take(&mut self.buf)
    }
}

/// A new `bpf` classifier for IPv4 frames at clsact ingress of `ifindex` with preference
/// `pref` (its options follow).
fn new_ingress_bpf_filter(ifindex: u32, pref: u16) -> Request {
    let mut f = Request::new(
        RTM_NEWTFILTER,
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        ifindex,
        CLSACT_INGRESS,
        1,
        filter_info(pref, ETH_P_IP),
    );
    f.attr(TCA_KIND, b"bpf\0");
    f
}

/// tcm_info of a filter: its preference above, its protocol (network order) below.
fn filter_info(pref: u16, protocol: u16) -> u32 {
    (u32::from(pref) << 16) | u32::from(protocol.to_be())
}

fn ignore(r: io::Result<()>, errnos: &[i32]) -> io::Result<()> {
    match r {
        Err(e) if e.raw_os_error().is_some_and(|c| errnos.contains(&c)) => Ok(()),
        r => r,
    }
}

impl Handle {
    /// Add or delete (`msg`) the `clsact` qdisc of `ifindex`; the errors in `tolerated` count
    /// as done (it is there already, or gone).
    fn clsact(&mut self, ifindex: u32, msg: u16, flags: u16, tolerated: &[i32]) -> io::Result<()> {
        let mut q = Request::new(
            msg,
            NLM_F_REQUEST | NLM_F_ACK | flags,
            ifindex,
            TC_H_CLSACT,
            CLSACT_HANDLE,
            0,
        );
        q.attr(TCA_KIND, b"clsact\0");
        ignore(self.transact(&mut q.finish(), NLM_F_ACK, |_| ()), tolerated)
    }

    /// Install the data filter on `ifindex` (a `clsact` qdisc first if there is none), in
    /// place of one left there by an earlier run. Errors: the kernel has no clsact or
    /// cls_bpf (EOPNOTSUPP, ENOENT), no permission (EPERM), the interface is gone (ENODEV).
    pub fn install_data_filter(&mut self, ifindex: u32) -> io::Result<()> {
        let mut f = self.replacing_filter(ifindex, PREF)?;
        let mut prog = Vec::new();
        let ops = program();
        for i in ops.iter() {
            prog.extend_from_slice(&i.code.to_ne_bytes());
            prog.push(i.jt);
            prog.push(i.jf);
            prog.extend_from_slice(&i.k.to_ne_bytes());
        }
        f.begin_nested(TCA_OPTIONS)
            .attr(TCA_BPF_OPS_LEN, &(ops.len() as u16).to_ne_bytes())
            .attr(TCA_BPF_OPS, &prog)
            .attr(TCA_BPF_FLAGS, &TCA_BPF_FLAG_ACT_DIRECT.to_ne_bytes())
            .end_nested();
        self.transact(&mut f.finish(), NLM_F_ACK, |_| ())
    }

    /// The request for a `bpf` classifier at ingress of `ifindex` with preference `pref` (its
    /// options follow), once there is a `clsact` qdisc and no filter at that preference.
    fn replacing_filter(&mut self, ifindex: u32, pref: u16) -> io::Result<Request> {
        self.clsact(
            ifindex,
            RTM_NEWQDISC,
            NLM_F_CREATE | NLM_F_EXCL,
            &[libc::EEXIST],
        )?;
        self.delete_filter(ifindex, pref)?;
        Ok(new_ingress_bpf_filter(ifindex, pref))
    }

    /// Install the loaded eBPF classifier `prog` (a `SchedCls` program, run in direct-action
    /// mode on IPv4 frames) at ingress of `ifindex` with preference `pref`, in place of what
    /// was there at that preference (a `clsact` qdisc first if there is none). A lower `pref`
    /// runs first; the program's TC_ACT_UNSPEC hands the frame to the next filter.
    pub fn install_bpf_filter(
        &mut self,
        ifindex: u32,
        pref: u16,
        prog: std::os::fd::RawFd,
        name: &str,
    ) -> io::Result<()> {
        let mut f = self.replacing_filter(ifindex, pref)?;
        let mut label = name.as_bytes().to_vec();
        label.push(0);
        f.begin_nested(TCA_OPTIONS)
            .attr(TCA_BPF_FD, &(prog as u32).to_ne_bytes())
            .attr(TCA_BPF_NAME, &label)
            .attr(TCA_BPF_FLAGS, &TCA_BPF_FLAG_ACT_DIRECT.to_ne_bytes())
            .end_nested();
        self.transact(&mut f.finish(), NLM_F_ACK, |_| ())
    }

    /// Whether a filter with preference `pref` is at ingress of `ifindex`.
    pub fn has_filter(&mut self, ifindex: u32, pref: u16) -> io::Result<bool> {
        Ok(self
            .filters(ifindex, CLSACT_INGRESS)?
            .iter()
            .any(|&info| info >> 16 == u32::from(pref)))
    }

    /// Take the filter with preference `pref` off ingress of `ifindex`, and the clsact qdisc
    /// when no other filter remains on either of its hooks. Nothing there is not an error.
    pub fn remove_filter(&mut self, ifindex: u32, pref: u16) -> io::Result<()> {
        self.delete_filter(ifindex, pref)?;
        self.drop_clsact_if_unused(ifindex)
    }

    fn drop_clsact_if_unused(&mut self, ifindex: u32) -> io::Result<()> {
        if self.filters(ifindex, CLSACT_INGRESS)?.is_empty()
            && self.filters(ifindex, CLSACT_EGRESS)?.is_empty()
        {
            self.clsact(
                ifindex,
                RTM_DELQDISC,
                0,
                &[libc::ENOENT, libc::EINVAL, libc::ENODEV],
            )?;
        }
        Ok(())
    }

    fn delete_filter(&mut self, ifindex: u32, pref: u16) -> io::Result<()> {
        let mut d = Request::new(
            RTM_DELTFILTER,
            NLM_F_REQUEST | NLM_F_ACK,
            ifindex,
            CLSACT_INGRESS,
            0,
            filter_info(pref, ETH_P_IP),
        );
        // ENOENT/EINVAL: no such filter or no clsact at all; ENODEV: the interface is gone.
        ignore(
            self.transact(&mut d.finish(), NLM_F_ACK, |_| ()),
            &[libc::ENOENT, libc::EINVAL, libc::ENODEV],
        )
    }

    /// Whether the agent's data filter is on `ifindex`.
    pub fn has_data_filter(&mut self, ifindex: u32) -> io::Result<bool> {
        self.has_filter(ifindex, PREF)
    }

    /// The tcm_info of each filter on a clsact hook of `ifindex` (none without clsact).
    fn filters(&mut self, ifindex: u32, parent: u32) -> io::Result<Vec<u32>> {
        let mut g = Request::new(
            RTM_GETTFILTER,
            NLM_F_REQUEST | NLM_F_DUMP,
            ifindex,
            parent,
            0,
            0,
        );
        let mut out = Vec::new();
        let r = self.transact(&mut g.finish(), NLM_F_DUMP, |m| {
            if u16::from_ne_bytes([m[4], m[5]]) == RTM_NEWTFILTER && m.len() >= 36 {
                out.push(u32::from_ne_bytes([m[32], m[33], m[34], m[35]]));
            }
        });
        ignore(r, &[libc::ENOENT, libc::EINVAL, libc::ENODEV])?;
        Ok(out)
    }

    /// Take the agent's data filter off `ifindex`, and the clsact qdisc when no other filter
    /// remains on either of its hooks. Nothing there is not an error.
    pub fn remove_data_filter(&mut self, ifindex: u32) -> io::Result<()> {
        self.remove_filter(ifindex, PREF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run the program as the kernel would on `frame` (the few opcodes it uses).
    fn run(frame: &[u8]) -> u32 {
        let prog = program();
        let mut a: u32 = 0;
        let mut pc = 0;
        loop {
            let i = prog[pc];
            let code = u32::from(i.code);
            let k = i.k as usize;
            pc += 1;
            match code {
                c if c == libc::BPF_LD | libc::BPF_B | libc::BPF_ABS => a = u32::from(frame[k]),
                c if c == libc::BPF_LD | libc::BPF_W | libc::BPF_ABS => {
                    a = u32::from_be_bytes([frame[k], frame[k + 1], frame[k + 2], frame[k + 3]])
                }
                c if c == libc::BPF_ALU | libc::BPF_AND | libc::BPF_K => a &= i.k,
                c if c == libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K => {
                    pc += usize::from(if a == i.k { i.jt } else { i.jf })
                }
                c if c == libc::BPF_RET | libc::BPF_K => return i.k,
                c => panic!("opcode {c:#x}"),
            }
        }
    }

    fn frame(proto: u8, dst: [u8; 4]) -> Vec<u8> {
        let mut f = vec![0u8; 60];
        f[12..14].copy_from_slice(&ETH_P_IP.to_be_bytes());
        f[14] = 0x45;
        f[23] = proto;
        f[26..30].copy_from_slice(&[10, 0, 0, 1]);
        f[30..34].copy_from_slice(&dst);
        f
    }

    #[test]
    fn shoots_routed_multicast_data_only() {
        assert_eq!(run(&frame(17, [239, 1, 2, 3])), TC_ACT_SHOT);
        assert_eq!(run(&frame(17, [224, 0, 1, 1])), TC_ACT_SHOT);
        assert_eq!(run(&frame(6, [232, 9, 9, 9])), TC_ACT_SHOT);
        // Control and link-local groups go on to the kernel.
        assert_eq!(run(&frame(2, [239, 1, 2, 3])), TC_ACT_UNSPEC); // IGMPv2 report
        assert_eq!(run(&frame(103, [232, 1, 1, 1])), TC_ACT_UNSPEC); // PIM
        assert_eq!(run(&frame(112, [224, 0, 0, 18])), TC_ACT_UNSPEC); // VRRP
        assert_eq!(run(&frame(17, [224, 0, 0, 251])), TC_ACT_UNSPEC); // mDNS
                                                                      // Unicast (BFD) and broadcast.
        assert_eq!(run(&frame(17, [10, 0, 0, 2])), TC_ACT_UNSPEC);
        assert_eq!(run(&frame(17, [255, 255, 255, 255])), TC_ACT_UNSPEC);
        assert_eq!(run(&frame(17, [240, 0, 0, 1])), TC_ACT_UNSPEC);
    }

    #[test]
    fn filter_info_puts_pref_above_protocol() {
        // The protocol is in network byte order in the low half.
        let info = filter_info(0x4e45, ETH_P_IP);
        assert_eq!(info >> 16, 0x4e45);
        assert_eq!((info as u16).to_ne_bytes(), [0x08, 0x00]);
    }

    /// Ethernet + IPv4 frame from 10.9.0.1 to `dst` carrying `proto` and 8 bytes (UDP to port
    /// 5000 with no checksum when `proto` is 17), with a correct header checksum.
    fn wire_frame(proto: u8, dst: [u8; 4]) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 8];
        f[0..6].copy_from_slice(&[0x01, 0x00, 0x5e, dst[1] & 0x7f, dst[2], dst[3]]);
        f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        f[12..14].copy_from_slice(&ETH_P_IP.to_be_bytes());
        let ip = &mut f[14..];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&28u16.to_be_bytes());
        ip[8] = 1;
        ip[9] = proto;
        ip[12..16].copy_from_slice(&[10, 9, 0, 1]);
        ip[16..20].copy_from_slice(&dst);
        let c = crate::wire::ipv4_header_checksum(&ip[..20]);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        if proto == 17 {
            ip[20..22].copy_from_slice(&4000u16.to_be_bytes());
            ip[22..24].copy_from_slice(&5000u16.to_be_bytes());
            ip[24..26].copy_from_slice(&8u16.to_be_bytes());
        }
        f
    }

    /// `Ip: InReceives` of the calling thread's namespace.
    fn in_receives() -> u64 {
        let snmp = std::fs::read_to_string("/proc/thread-self/net/snmp").unwrap();
        let mut lines = snmp.lines().filter(|l| l.starts_with("Ip:"));
        let (names, values) = (lines.next().unwrap(), lines.next().unwrap());
        let at = names
            .split_whitespace()
            .position(|n| n == "InReceives")
            .unwrap();
        values.split_whitespace().nth(at).unwrap().parse().unwrap()
    }

    /// With the filter on, routed multicast data still reaches an AF_PACKET tap bound to all
    /// protocols (the forwarder's ring) but no longer the kernel's IP layer (a UDP socket that
    /// joined the group gets nothing, IP InReceives does not move), while IGMP and PIM still
    /// reach their raw sockets; after removal the kernel gets the data again and the clsact
    /// qdisc the filter needed is gone too.
    #[test]
    fn data_skips_the_kernel_but_not_the_tap_nor_control() {
        use crate::ring::{RingConfig, RxRing, ETH_P_ALL};
        use crate::sock::{Ipv4Socket, PacketSocket, UdpOptions};
        use crate::testns::{ip, require_root, Namespaces};
        use std::net::{Ipv4Addr, SocketAddrV4};
        use std::sync::mpsc;
        use std::time::{Duration, Instant};
        if !require_root() {
            return;
        }
        let lab = Namespaces::new("ingress", &["s", "r"]);
        lab.veth("s", "s0", "r", "r0");
        ip(&[
            "-n",
            lab.name("r"),
            "addr",
            "add",
            "10.9.0.2/24",
            "dev",
            "r0",
        ]);
        let (s0, r0) = (lab.ifindex("s", "s0"), lab.ifindex("r", "r0"));
        let tx = lab.run("s", move || PacketSocket::open(s0, None)).unwrap();
        let group = Ipv4Addr::new(239, 1, 2, 3);

        // The router side, on one thread inside its namespace: it answers each probe with
        // (data frames on the tap, UDP datagrams, IGMP, PIM, InReceives delta).
        let (probe_tx, probe_rx) = mpsc::channel::<Probe>();
        let (seen_tx, seen_rx) = mpsc::channel::<Seen>();
        let r_ns = lab.name("r").to_string();
        let router = std::thread::spawn(move || {
            crate::netns::run_in(&r_ns, move || {
                let udp = Ipv4Socket::udp(&UdpOptions {
                    bind: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 5000),
                    device: None,
                    ttl: None,
                    recv_meta: false,
                    reuse_addr: true,
                })
                .unwrap();
                udp.join_multicast(group, r0).unwrap();
                let igmp = Ipv4Socket::raw(2, Some("r0")).unwrap();
                let pim = Ipv4Socket::raw(103, Some("r0")).unwrap();
                // ip_rcv keeps link-local groups the interface has not joined from sockets.
                pim.join_multicast(Ipv4Addr::new(224, 0, 0, 13), r0)
                    .unwrap();
                let cfg = RingConfig {
                    protocol: ETH_P_ALL,
                    ..RingConfig::default()
                };
                let mut ring = RxRing::open(r0, cfg).unwrap();
                let mut h = Handle::open().unwrap();
                let count = |s: &Ipv4Socket, b: &mut [u8]| {
                    let mut n = 0;
                    while s.recv(b).unwrap().is_some() {
                        n += 1;
                    }
                    n
                };
                let mut b = vec![0u8; 2048];
                for p in probe_rx {
                    match p {
                        Probe::Install => h.install_data_filter(r0).unwrap(),
                        Probe::Remove => h.remove_data_filter(r0).unwrap(),
                        Probe::Restart => {
                            // A new handle, as a restarted agent has: it finds the filter
                            // by its preference alone.
                            let mut fresh = Handle::open().unwrap();
                            fresh.remove_data_filter(r0).unwrap();
                        }
                        Probe::Mark => {
                            // Drain what came before this probe.
                            ring.for_each_frame(usize::MAX, |_| ());
                            for s in [&udp, &igmp, &pim] {
                                count(s, &mut b);
                            }
                            seen_tx.send(Seen::Marked(in_receives())).unwrap();
                        }
                        Probe::Count { since, data } => {
                            let mut tap = 0;
                            let end = Instant::now() + Duration::from_secs(5);
                            while tap < data && Instant::now() < end {
                                ring.for_each_frame(usize::MAX, |f| {
                                    if f.data.get(30) == Some(&239) {
                                        tap += 1;
                                    }
                                });
                                std::thread::sleep(Duration::from_millis(2));
                            }
                            // The kernel's side had the same time to deliver.
                            std::thread::sleep(Duration::from_millis(100));
                            seen_tx
                                .send(Seen::Counts {
                                    tap,
                                    udp: count(&udp, &mut b),
                                    igmp: count(&igmp, &mut b),
                                    pim: count(&pim, &mut b),
                                    ip_in: in_receives() - since,
                                    filter: h.has_data_filter(r0).unwrap(),
                                })
                                .unwrap();
                        }
                    }
                }
            })
            .unwrap()
        });

        let send = |f: &[u8]| {
            // A fresh veth refuses frames (ENOBUFS) until its carrier is up.
            for _ in 0..300 {
                if tx.send(f).is_ok() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            panic!("the veth never took a frame");
        };
        const DATA: usize = 200;
        let round = |what: Option<Probe>| {
            if let Some(p) = what {
                probe_tx.send(p).unwrap();
            }
            probe_tx.send(Probe::Mark).unwrap();
            let Seen::Marked(since) = seen_rx.recv().unwrap() else {
                panic!("out of step")
            };
            for _ in 0..DATA {
                send(&wire_frame(17, group.octets()));
            }
            send(&wire_frame(2, group.octets())); // an IGMPv2 report
            send(&wire_frame(103, [224, 0, 0, 13])); // a PIM hello
            probe_tx.send(Probe::Count { since, data: DATA }).unwrap();
            match seen_rx.recv().unwrap() {
                Seen::Counts {
                    tap,
                    udp,
                    igmp,
                    pim,
                    ip_in,
                    filter,
                } => (tap, udp, igmp, pim, ip_in, filter),
                Seen::Marked(_) => panic!("out of step"),
            }
        };

        let (tap, udp, igmp, pim, ip_in, filter) = round(None);
        assert!(!filter);
        assert_eq!((tap, igmp, pim), (DATA, 1, 1));
        assert_eq!(udp, DATA, "without the filter the kernel delivers the data");
        assert!(ip_in >= DATA as u64 + 2);

        let (tap, udp, igmp, pim, ip_in, filter) = round(Some(Probe::Install));
        assert!(filter, "the filter is on r0");
        assert_eq!(tap, DATA, "the tap still sees every data frame");
        assert_eq!(udp, 0, "the kernel's IP layer got no data");
        assert_eq!((igmp, pim), (1, 1), "control still reaches the kernel");
        assert_eq!(ip_in, 2, "only the two control packets entered ip_rcv");

        // Installing again (a restarted agent) replaces the filter rather than adding one.
        let (_, udp, igmp, _, _, filter) = round(Some(Probe::Install));
        assert!(filter);
        assert_eq!((udp, igmp), (0, 1));

        let (tap, udp, igmp, pim, _, filter) = round(Some(Probe::Remove));
        assert!(!filter, "the filter is gone");
        assert_eq!((tap, udp, igmp, pim), (DATA, DATA, 1, 1));
        let tc_show = |ns: &str| {
            std::process::Command::new("tc")
                .args(["-n", ns, "qdisc", "show", "dev", "r0"])
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        };
        if let Some(q) = tc_show(lab.name("r")) {
            assert!(!q.contains("clsact"), "the clsact qdisc stays: {q}");
        }

        // What an earlier run left behind is found and removed by a new handle.
        let (_, udp, ..) = round(Some(Probe::Install));
        assert_eq!(udp, 0);
        let (_, udp, _, _, _, filter) = round(Some(Probe::Restart));
        assert!(!filter);
        assert_eq!(udp, DATA);

        drop(probe_tx);
        router.join().unwrap();
    }

    enum Probe {
        Install,
        Remove,
        Restart,
        Mark,
        Count { since: u64, data: usize },
    }

    enum Seen {
        Marked(u64),
        Counts {
            tap: usize,
            udp: usize,
            igmp: usize,
            pim: usize,
            ip_in: u64,
            filter: bool,
        },
    }
}
