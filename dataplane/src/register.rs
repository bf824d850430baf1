//! The register tunnel of the forwarding path (RFC 7761 §4.4.1): a designated router
//! encapsulates each data packet of a registering (S,G) in a PIM Register and unicasts it to
//! the RP. The forwarding thread does this itself, one `sendto` per packet on a raw socket
//! (IPPROTO_RAW: send-only, so no copy of received PIM traffic queues up on it), into a buffer
//! allocated once: no per-packet allocation and no trip through the control plane.
//!
//! A Register that does not fit the MTU toward the RP (a data packet near the MTU plus the
//! Register's 28 bytes) is sent as IPv4 fragments, which the RP reassembles (§4.4.1: the DR
//! fragments the Register rather than dropping it): an IP_HDRINCL socket does not fragment
//! by itself, so the fragments are built here, with an identification of our own.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};

use crate::sock::{Ipv4Socket, MtuProbe};

/// IPPROTO_PIM.
const PIM_PROTO: u8 = 103;
/// IPPROTO_RAW: a send-only raw socket whose caller writes the IPv4 header (IP_HDRINCL).
const RAW_PROTO: u8 = 255;
/// Outer IPv4 header (no options) plus the Register's 8 bytes (§4.9.3).
pub const REGISTER_OVERHEAD: usize = 20 + 8;
/// TTL of the outer (unicast) header.
const OUTER_TTL: u8 = 64;

/// Writes the outer IPv4 header and the Register header (type 1, no flags, checksum over the
/// 8 bytes of PIM header only, §4.9.3) in front of an inner packet of `inner_len` bytes. The
/// outer source and identification are left 0, which the kernel fills in on a raw
/// IP_HDRINCL socket (the source from the route toward `rp`), as it does the header checksum.
pub fn write_register_header(out: &mut [u8; REGISTER_OVERHEAD], rp: Ipv4Addr, inner_len: usize) {
    let total = (REGISTER_OVERHEAD + inner_len).min(usize::from(u16::MAX)) as u16;
    out.fill(0);
    out[0] = 0x45;
    out[2..4].copy_from_slice(&total.to_be_bytes());
    out[8] = OUTER_TTL;
    out[9] = PIM_PROTO;
    out[16..20].copy_from_slice(&rp.octets());
    let pim = &mut out[20..28];
    pim[0] = 0x21; // PIM version 2, type 1 (Register)
    let sum = crate::wire::internet(pim, 0);
    pim[2..4].copy_from_slice(&sum.to_be_bytes());
}

/// The MTU assumed toward an RP whose path MTU cannot be read.
const DEFAULT_MTU: usize = 1500;
/// The smallest MTU an IPv4 path may have (RFC 791): fragments are never made smaller.
const MIN_MTU: usize = 68;

/// The IPv4 fragments of a datagram of `total` bytes whose header (without options) is
/// `header`, for a path of `mtu` bytes, with identification `id`: (offset of the payload
/// piece in the datagram, its length, the fragment's header). Each piece but the last is a
/// multiple of 8 bytes.
pub fn fragments(
    header: [u8; 20],
    total: usize,
    mtu: usize,
    id: u16,
) -> impl Iterator<Item = (usize, usize, [u8; 20])> {
    let payload = total.saturating_sub(20);
    let piece = (mtu.max(MIN_MTU) - 20) / 8 * 8;
    (0..payload).step_by(piece).map(move |at| {
        let len = piece.min(payload - at);
        let more = at + len < payload;
        let mut h = header;
        h[2..4].copy_from_slice(&((20 + len) as u16).to_be_bytes());
        h[4..6].copy_from_slice(&id.to_be_bytes());
        let flags_offset = (u16::from(more) << 13) | (at / 8) as u16;
        h[6..8].copy_from_slice(&flags_offset.to_be_bytes());
        h[10..12].fill(0);
        (20 + at, len, h)
    })
}

/// The forwarding thread's sender of Registers.
pub struct RegisterTx {
    sock: Ipv4Socket,
    buf: Vec<u8>,
    /// Reads the MTU toward an RP in the socket's namespace.
    probe: MtuProbe,
    /// The MTU toward each RP, read when it is first sent to and again when a send is
    /// refused as too long.
    mtu: HashMap<Ipv4Addr, usize>,
    /// Identification of the next fragmented Register.
    next_id: u16,
}

impl RegisterTx {
    /// Open the raw socket (needs CAP_NET_RAW in the forwarder's network namespace).
    pub fn open() -> io::Result<RegisterTx> {
        Ok(RegisterTx {
            sock: Ipv4Socket::raw_send_only(RAW_PROTO)?,
            buf: vec![0; usize::from(u16::MAX)],
            probe: MtuProbe::new()?,
            mtu: HashMap::new(),
            next_id: 1,
        })
    }

    /// The MTU toward `rp` (the route's, read from the kernel; [`DEFAULT_MTU`] when it
    /// cannot be read), `fresh` to read it again.
    fn mtu(&mut self, rp: Ipv4Addr, fresh: bool) -> usize {
        if fresh {
            self.mtu.remove(&rp);
        }
        let probe = &self.probe;
        *self
            .mtu
            .entry(rp)
            .or_insert_with(|| probe.path_mtu(rp).unwrap_or(DEFAULT_MTU).max(MIN_MTU))
    }

    /// Encapsulate `packet` (a whole IPv4 data packet, as received) in a Register to `rp`
    /// and send it without blocking. `fix` patches the inner packet's copy (offset, two
    /// bytes) — a UDP checksum the sender's NIC left to offload. A packet that does not fit
    /// under 64 KiB with the Register's overhead is refused.
    pub fn send(
        &mut self,
        rp: Ipv4Addr,
        packet: &[u8],
        fix: Option<(usize, [u8; 2])>,
    ) -> io::Result<()> {
        let total = REGISTER_OVERHEAD + packet.len();
        if total > self.buf.len() {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let mut h = [0u8; REGISTER_OVERHEAD];
        write_register_header(&mut h, rp, packet.len());
        self.buf[..REGISTER_OVERHEAD].copy_from_slice(&h);
        self.buf[REGISTER_OVERHEAD..total].copy_from_slice(packet);
        if let Some((at, v)) = fix.filter(|(at, _)| at + 2 <= packet.len()) {
            self.buf[REGISTER_OVERHEAD + at..REGISTER_OVERHEAD + at + 2].copy_from_slice(&v);
        }
        let to = SocketAddrV4::new(rp, 0);
        if total <= self.mtu(rp, false) {
            match self.sock.send_to(&self.buf[..total], to) {
                Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => {
                    // The MTU toward the RP shrank: read it again and fragment.
                    self.mtu(rp, true);
                }
                r => return r.map(drop),
            }
        }
        let mtu = self.mtu(rp, false);
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let header: [u8; 20] = self.buf[..20].try_into().expect("20 bytes");
        // In place: each fragment's header goes over the 20 bytes before its piece, which
        // belong to the piece already sent.
        for (at, len, h) in fragments(header, total, mtu, id) {
            self.buf[at - 20..at].copy_from_slice(&h);
            self.sock.send_to(&self.buf[at - 20..at + len], to)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The forwarding thread on veths: ns S sends (S,G) data on s0, the forwarder in ns F
    /// has a route for it with no outgoing interface but a register tunnel to the RP
    /// (10.0.2.2 in ns D, behind r1): each packet reaches a raw PIM socket there, as a
    /// Register from F's address with the original packet inside, unchanged.
    #[test]
    fn the_forwarder_sends_each_packet_of_a_registering_route_to_the_rp() {
        use std::sync::Arc;
        use std::time::{Duration, Instant};

        use crate::forward::{Forwarder, FwdConfig, FwdIf, Ports};
        use crate::mfib::{Mfib, Route, Table};
        use crate::sock::PacketSocket;
        use crate::testns::{ip, require_root, Namespaces};
        if !require_root() {
            return;
        }
        let lab = Namespaces::new("reg", &["s", "f", "d"]);
        lab.veth("s", "s0", "f", "r0");
        lab.veth("f", "r1", "d", "d1");
        ip(&[
            "-n",
            lab.name("f"),
            "addr",
            "add",
            "10.0.2.1/24",
            "dev",
            "r1",
        ]);
        ip(&[
            "-n",
            lab.name("d"),
            "addr",
            "add",
            "10.0.2.2/24",
            "dev",
            "d1",
        ]);
        let rp = Ipv4Addr::new(10, 0, 2, 2);
        let (s, g) = (Ipv4Addr::new(10, 0, 1, 1), Ipv4Addr::new(239, 1, 2, 3));
        let r0 = FwdIf {
            ifindex: lab.ifindex("f", "r0"),
            name: "r0".into(),
            mac: [2, 0, 0, 0, 0xf0, 0],
        };
        let mfib = Arc::new(Mfib::new());
        let mut t = Table::new();
        let mut route = Route::new(s, g, r0.ifindex, Vec::new());
        route.register_to = Some(rp);
        t.insert(route);
        mfib.publish(t);
        let cfg = FwdConfig::default();
        let ports = {
            let cfg = cfg.clone();
            lab.run("f", move || Ports::open(&[r0], &cfg)).unwrap()
        };
        let fwd = Forwarder::spawn(ports, mfib, cfg).unwrap();
        let rx = lab.run("d", || Ipv4Socket::raw(PIM_PROTO, None)).unwrap();
        let s0 = lab.ifindex("s", "s0");
        let tx = lab.run("s", move || PacketSocket::open(s0, None)).unwrap();
        let sent: Vec<Vec<u8>> = (0..40u8)
            .map(|i| {
                crate::wire::ipv4_frame(
                    [2, 0, 0, 0, 0, 1],
                    [0x01, 0x00, 0x5e, 1, 2, 3],
                    s,
                    g,
                    9,
                    17,
                    &[],
                    &[0x13, 0x88, 0x13, 0x88, 0, 12, 0, 0, 0, 0, 0, i],
                )
            })
            .collect();
        let mut got: Vec<Vec<u8>> = Vec::new();
        let mut buf = [0u8; 2048];
        let end = Instant::now() + Duration::from_secs(10);
        for f in &sent {
            tx.send(f).unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
        while got.len() < sent.len() && Instant::now() < end {
            match rx.recv(&mut buf).unwrap() {
                Some(m) => got.push(buf[..m.len].to_vec()),
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        // The path toward the RP shrinks to 600 bytes: Registers of 1,000-byte packets go as
        // fragments, which the RP's kernel reassembles into whole Registers.
        ip(&["-n", lab.name("f"), "link", "set", "r1", "mtu", "600"]);
        let big: Vec<Vec<u8>> = (0..5u8)
            .map(|i| {
                let mut udp = vec![0x13, 0x88, 0x13, 0x88, 0x03, 0xd4, 0, 0];
                udp.extend((0..972u16).map(|b| (b as u8) ^ i));
                crate::wire::ipv4_frame(
                    [2, 0, 0, 0, 0, 1],
                    [0x01, 0x00, 0x5e, 1, 2, 3],
                    s,
                    g,
                    9,
                    17,
                    &[],
                    &udp,
                )
            })
            .collect();
        for f in &big {
            tx.send(f).unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
        let sent: Vec<Vec<u8>> = sent.into_iter().chain(big).collect();
        while got.len() < sent.len() && Instant::now() < end {
            match rx.recv(&mut buf).unwrap() {
                Some(m) => got.push(buf[..m.len].to_vec()),
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        let st = fwd.stop();
        assert_eq!(got.len(), sent.len(), "{st:?}");
        assert_eq!((st.registers_sent, st.register_errors), (45, 0), "{st:?}");
        assert_eq!(sent[44].len(), 14 + 1000);
        for (r, f) in got.iter().zip(&sent) {
            let (ihl, total) = crate::wire::ipv4_bounds(r).expect("IPv4");
            assert_eq!(r[9], PIM_PROTO);
            assert_eq!(&r[12..16], &[10, 0, 2, 1], "from F's address toward the RP");
            assert_eq!(&r[16..20], &rp.octets());
            let pim = &r[ihl..total];
            assert_eq!(pim[0], 0x21, "PIMv2 Register");
            assert_eq!(crate::wire::internet(&pim[..8], 0), 0);
            assert_eq!(&pim[8..], &f[14..], "the packet as it arrived");
        }
    }

    /// A 1,028-byte Register over a 576-byte path: two fragments of 552 and 456 bytes of
    /// payload, the same identification, More Fragments on the first only, offsets in
    /// 8-byte units; together they carry the payload once, in order.
    #[test]
    fn a_register_too_long_for_the_path_is_cut_into_fragments() {
        let mut h = [0u8; REGISTER_OVERHEAD];
        write_register_header(&mut h, Ipv4Addr::new(10, 0, 0, 2), 1000);
        let header: [u8; 20] = h[..20].try_into().unwrap();
        let total = REGISTER_OVERHEAD + 1000;
        let f: Vec<_> = fragments(header, total, 576, 0x1234).collect();
        assert_eq!(f.len(), 2);
        let (at0, len0, h0) = f[0];
        let (at1, len1, h1) = f[1];
        assert_eq!((at0, len0, at1, len1), (20, 552, 572, 456));
        assert_eq!(u16::from_be_bytes([h0[2], h0[3]]), 572);
        assert_eq!(u16::from_be_bytes([h1[2], h1[3]]), 476);
        assert_eq!(&h0[4..8], &[0x12, 0x34, 0x20, 0x00], "id, MF, offset 0");
        assert_eq!(
            &h1[4..8],
            &[0x12, 0x34, 0x00, 69],
            "id, last, offset 552 / 8"
        );
        for h in [h0, h1] {
            assert_eq!(h[9], 103);
            assert_eq!(&h[16..20], &[10, 0, 0, 2]);
        }
        // Whatever the MTU, the pieces tile the payload.
        for mtu in [68, 100, 576, 1027, 1028, 1500] {
            let mut next = 20;
            for (at, len, h) in fragments(header, total, mtu, 1) {
                assert_eq!(at, next);
                assert!(20 + len <= mtu.max(68));
                let more = h[6] & 0x20 != 0;
                assert_eq!(more, at + len < total, "mtu {mtu}");
                next += len;
            }
            assert_eq!(next, total, "mtu {mtu}");
        }
    }

    #[test]
    fn the_header_is_an_ipv4_pim_register_with_its_checksum_over_eight_bytes() {
        let mut h = [0u8; REGISTER_OVERHEAD];
        write_register_header(&mut h, Ipv4Addr::new(10, 0, 0, 2), 100);
        assert_eq!(h[0], 0x45);
        assert_eq!(u16::from_be_bytes([h[2], h[3]]), 128);
        assert_eq!(h[9], 103);
        assert_eq!(&h[16..20], &[10, 0, 0, 2]);
        assert_eq!(h[20], 0x21);
        assert_eq!(&h[24..28], &[0, 0, 0, 0], "no Border, no Null bit");
        assert_eq!(
            crate::wire::internet(&h[20..28], 0),
            0,
            "checksum over the PIM header"
        );
        // The Register's checksum: ~(0x2100) = 0xdeff.
        assert_eq!(&h[22..24], &[0xde, 0xff]);
    }
}
