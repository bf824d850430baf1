//! VRRP wire formats for IPv4: advertisements (RFC 3768 §5 for version 2,
//! RFC 9568 §5 for version 3), gratuitous ARP and ARP replies for the virtual
//! MAC (RFC 9568 §6.4.2, §7.2 and errata 7947/7949), and an Ethernet + IPv4
//! framer for sending advertisements from the virtual MAC through a packet
//! socket.
//!
//! Everything here is pure byte manipulation: no sockets, no clocks.

use std::fmt;
use std::net::Ipv4Addr;

/// IP protocol number of VRRP (RFC 9568 §5.2.4).
pub const IPPROTO_VRRP: u8 = 112;
/// Destination group of IPv4 advertisements (RFC 9568 §5.1.1.2).
pub const VRRP_MCAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// Ethernet destination for [`VRRP_MCAST_V4`] (RFC 1112 §6.4 mapping).
pub const VRRP_MCAST_MAC: [u8; 6] = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x12];
/// TTL every advertisement is sent and must be received with (RFC 9568 §5.1.1.3).
pub const VRRP_TTL: u8 = 255;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;
const ETH_HLEN: usize = 14;
const ARP_LEN: usize = 28;
const BROADCAST_MAC: [u8; 6] = [0xff; 6];

/// VRRP packet type "ADVERTISEMENT" (RFC 3768 §5.3.2, RFC 9568 §5.2.2).
const TYPE_ADVERTISEMENT: u8 = 1;
/// Fixed part of the header, before the address list (both versions).
const HEADER_LEN: usize = 8;
/// VRRPv2 trailing authentication data (RFC 3768 §5.3.10).
const V2_AUTH_LEN: usize = 8;

/// Which bytes the VRRPv3 IPv4 checksum covers (RFC 9568 §5.2.8).
///
/// RFC 5798 §5.2.8 defined the checksum over the message plus a pseudo-header
/// (source, destination 224.0.0.18, zero, protocol 112, VRRP length) for both
/// address families; RFC 9568 §5.2.8 restricts the pseudo-header to IPv6, so
/// for IPv4 it covers the VRRP message only. Deployed routers use both forms.
/// VRRPv2 (RFC 3768 §5.3.8) never uses a pseudo-header; the mode is ignored
/// for version 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumMode {
    /// RFC 5798 form: the IPv4 pseudo-header is included.
    IncludePseudoHeader,
    /// RFC 9568 form: the VRRP message only.
    ExcludePseudoHeader,
}

/// A decoded VRRP advertisement (IPv4), version-independent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    /// 2 (RFC 3768) or 3 (RFC 9568).
    pub version: u8,
    /// Virtual Router Identifier, 1..=255.
    pub vrid: u8,
    /// Sender's priority; 0 means "the master is resigning" (RFC 9568 §5.2.4).
    pub priority: u8,
    /// Advertisement interval in centiseconds. Version 2 carries whole seconds
    /// on the wire (RFC 3768 §5.3.7), so it is `seconds * 100` here.
    pub interval_cs: u16,
    /// The virtual IPv4 addresses (RFC 9568 §5.2.9).
    pub addresses: Vec<Ipv4Addr>,
}

/// Why an advertisement was rejected by [`Advert::decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvertError {
    /// Fewer bytes than the fixed header.
    Short,
    /// Version other than 2 or 3 (RFC 9568 §7.1).
    Version(u8),
    /// Type other than 1 = ADVERTISEMENT (RFC 9568 §5.2.2).
    Type(u8),
    /// Length does not match the Count IPvX Addr field.
    Length,
    /// Checksum does not verify (RFC 9568 §7.1).
    Checksum,
    /// VRRPv2 authentication type other than 0 = no authentication
    /// (RFC 3768 §5.3.6; types 1 and 2 were removed by that RFC).
    AuthType(u8),
    /// VRID 0 is not a valid virtual router (RFC 9568 §5.2.3).
    ZeroVrid,
}

impl fmt::Display for AdvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdvertError::Short => write!(f, "VRRP packet too short"),
            AdvertError::Version(v) => write!(f, "unsupported VRRP version {v}"),
            AdvertError::Type(t) => write!(f, "unsupported VRRP packet type {t}"),
            AdvertError::Length => {
                write!(f, "VRRP packet length does not match the address count")
            }
            AdvertError::Checksum => write!(f, "bad VRRP checksum"),
            AdvertError::AuthType(t) => write!(f, "unsupported VRRPv2 authentication type {t}"),
            AdvertError::ZeroVrid => write!(f, "VRRP virtual router id 0"),
        }
    }
}

impl std::error::Error for AdvertError {}

impl Advert {
    /// Encodes the VRRP payload (what follows the IPv4 header).
    ///
    /// Version 2 (RFC 3768 §5.1): type 1, auth type 0, Adver Int in seconds
    /// (`interval_cs / 100`, clamped to 1..=255), 8 zero bytes of auth data,
    /// checksum over the message; `mode` is ignored.
    /// Any other version is encoded as version 3 (RFC 9568 §5.1): 4 reserved
    /// zero bits, 12-bit Max Adver Int in centiseconds (clamped to 1..=4095),
    /// checksum per `mode` with `src` and 224.0.0.18 in the pseudo-header.
    /// At most 255 addresses are encoded (the count is one byte).
    pub fn encode(&self, src: Ipv4Addr, mode: ChecksumMode) -> Vec<u8> {
        let v2 = self.version == 2;
        let addrs = &self.addresses[..self.addresses.len().min(255)];
        let mut out =
            Vec::with_capacity(HEADER_LEN + 4 * addrs.len() + if v2 { V2_AUTH_LEN } else { 0 });
        let version = if v2 { 2 } else { 3 };
        out.push((version << 4) | TYPE_ADVERTISEMENT);
        out.push(self.vrid);
        out.push(self.priority);
        out.push(addrs.len() as u8);
        if v2 {
            out.push(0); // Auth Type: no authentication
            out.push(v2_interval_secs(self.interval_cs));
        } else {
            out.extend_from_slice(&v3_interval_cs(self.interval_cs).to_be_bytes());
        }
        out.extend_from_slice(&[0, 0]); // checksum, filled below
        for a in addrs {
            out.extend_from_slice(&a.octets());
        }
        if v2 {
            out.extend_from_slice(&[0; V2_AUTH_LEN]);
        }
        let sum = if v2 || mode == ChecksumMode::ExcludePseudoHeader {
            dataplane::wire::internet(&out, 0)
        } else {
            dataplane::wire::internet(&out, pseudo_header_sum(src, out.len()))
        };
        out[6..8].copy_from_slice(&sum.to_be_bytes());
        out
    }

    /// Decodes and validates a VRRP payload received from `src` (RFC 9568
    /// §7.1, RFC 3768 §7.1). For version 3 both checksum forms are accepted
    /// and the one that verified is returned; version 2 always reports
    /// [`ChecksumMode::ExcludePseudoHeader`].
    ///
    /// TTL, VRID match and interval checks are the caller's business.
    pub fn decode(payload: &[u8], src: Ipv4Addr) -> Result<(Advert, ChecksumMode), AdvertError> {
        if payload.len() < HEADER_LEN {
            return Err(AdvertError::Short);
        }
        let version = payload[0] >> 4;
        if version != 2 && version != 3 {
            return Err(AdvertError::Version(version));
        }
        let typ = payload[0] & 0x0f;
        if typ != TYPE_ADVERTISEMENT {
            return Err(AdvertError::Type(typ));
        }
        let count = usize::from(payload[3]);
        let trailer = if version == 2 { V2_AUTH_LEN } else { 0 };
        if payload.len() != HEADER_LEN + 4 * count + trailer {
            return Err(AdvertError::Length);
        }
        let mode = if version == 2 {
            if dataplane::wire::internet(payload, 0) != 0 {
                return Err(AdvertError::Checksum);
            }
            ChecksumMode::ExcludePseudoHeader
        } else if dataplane::wire::internet(payload, pseudo_header_sum(src, payload.len())) == 0 {
            ChecksumMode::IncludePseudoHeader
        } else if dataplane::wire::internet(payload, 0) == 0 {
            ChecksumMode::ExcludePseudoHeader
        } else {
            return Err(AdvertError::Checksum);
        };
        let interval_cs = if version == 2 {
            if payload[4] != 0 {
                return Err(AdvertError::AuthType(payload[4]));
            }
            u16::from(payload[5]) * 100
        } else {
            u16::from_be_bytes([payload[4], payload[5]]) & 0x0fff
        };
        if payload[1] == 0 {
            return Err(AdvertError::ZeroVrid);
        }
        let addresses = payload[HEADER_LEN..HEADER_LEN + 4 * count]
            .chunks_exact(4)
            .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
            .collect();
        Ok((
            Advert {
                version,
                vrid: payload[1],
                priority: payload[2],
                interval_cs,
                addresses,
            },
            mode,
        ))
    }
}

/// The VRRPv2 Adver Int byte for an interval in centiseconds (whole seconds,
/// at least 1; RFC 3768 §5.3.7).
pub fn v2_interval_secs(interval_cs: u16) -> u8 {
    (interval_cs / 100).clamp(1, 255) as u8
}

/// The VRRPv3 Max Adver Int for an interval in centiseconds (12 bits, at
/// least 1; RFC 9568 §5.2.7).
pub fn v3_interval_cs(interval_cs: u16) -> u16 {
    interval_cs.clamp(1, 0x0fff)
}

/// Sum of the IPv4 pseudo-header words (source, 224.0.0.18, zero, protocol
/// 112, VRRP length), as used by RFC 5798 §5.2.8.
fn pseudo_header_sum(src: Ipv4Addr, len: usize) -> u32 {
    let mut ph = [0u8; 12];
    ph[0..4].copy_from_slice(&src.octets());
    ph[4..8].copy_from_slice(&VRRP_MCAST_V4.octets());
    ph[9] = IPPROTO_VRRP;
    ph[10..12].copy_from_slice(&(len as u16).to_be_bytes());
    word_sum(&ph)
}

/// Plain 32-bit sum of big-endian 16-bit words (odd trailing byte padded).
fn word_sum(data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    let mut sum: u32 = 0;
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

/// The virtual router MAC for IPv4: 00-00-5E-00-01-{VRID} (RFC 9568 §7.3).
pub fn virtual_mac(vrid: u8) -> [u8; 6] {
    [0x00, 0x00, 0x5e, 0x00, 0x01, vrid]
}

fn ethernet_header(out: &mut Vec<u8>, dst: [u8; 6], src: [u8; 6], ethertype: u16) {
    out.extend_from_slice(&dst);
    out.extend_from_slice(&src);
    out.extend_from_slice(&ethertype.to_be_bytes());
}

/// ARP body for Ethernet/IPv4 (RFC 826).
fn arp_body(out: &mut Vec<u8>, op: u16, sha: [u8; 6], spa: Ipv4Addr, tha: [u8; 6], tpa: Ipv4Addr) {
    out.extend_from_slice(&1u16.to_be_bytes()); // htype Ethernet
    out.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes()); // ptype IPv4
    out.push(6); // hlen
    out.push(4); // plen
    out.extend_from_slice(&op.to_be_bytes());
    out.extend_from_slice(&sha);
    out.extend_from_slice(&spa.octets());
    out.extend_from_slice(&tha);
    out.extend_from_slice(&tpa.octets());
}

/// A complete Ethernet frame carrying a gratuitous ARP request for `vip`
/// from the virtual MAC (RFC 9568 §6.4.1/§6.4.2 with errata 7947/7949):
/// broadcast destination, source `vmac`, opcode 1, sender MAC `vmac`, sender
/// and target IP `vip`, target MAC zero. 42 bytes (the NIC pads to 60).
pub fn garp(vmac: [u8; 6], vip: Ipv4Addr) -> Vec<u8> {
    let mut out = Vec::with_capacity(ETH_HLEN + ARP_LEN);
    ethernet_header(&mut out, BROADCAST_MAC, vmac, ETHERTYPE_ARP);
    arp_body(&mut out, 1, vmac, vip, [0; 6], vip);
    out
}

/// The Ethernet frame of an advertisement (the encoded VRRP `payload`) of `vrid` from `src`:
/// from the virtual MAC to 224.0.0.18 with TTL 255 (RFC 9568 §5.1).
pub fn advert_frame(vrid: u8, src: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
    dataplane::wire::ipv4_frame(
        virtual_mac(vrid),
        VRRP_MCAST_MAC,
        src,
        VRRP_MCAST_V4,
        VRRP_TTL,
        IPPROTO_VRRP,
        &[],
        payload,
    )
}

/// A complete Ethernet frame answering an ARP request for `vip` with the
/// virtual MAC (RFC 9568 §7.2): unicast to the requester, opcode 2.
pub fn arp_reply(
    vmac: [u8; 6],
    vip: Ipv4Addr,
    requester_mac: [u8; 6],
    requester_ip: Ipv4Addr,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(ETH_HLEN + ARP_LEN);
    ethernet_header(&mut out, requester_mac, vmac, ETHERTYPE_ARP);
    arp_body(&mut out, 2, vmac, vip, requester_mac, requester_ip);
    out
}

/// Parses an Ethernet frame carrying an Ethernet/IPv4 ARP request and
/// returns `(sender MAC, sender IP, target IP)`. Anything else gives `None`.
pub fn parse_arp_request(frame: &[u8]) -> Option<([u8; 6], Ipv4Addr, Ipv4Addr)> {
    if frame.len() < ETH_HLEN + ARP_LEN {
        return None;
    }
    if u16::from_be_bytes([frame[12], frame[13]]) != ETHERTYPE_ARP {
        return None;
    }
    let arp = &frame[ETH_HLEN..ETH_HLEN + ARP_LEN];
    let htype = u16::from_be_bytes([arp[0], arp[1]]);
    let ptype = u16::from_be_bytes([arp[2], arp[3]]);
    let op = u16::from_be_bytes([arp[6], arp[7]]);
    if htype != 1 || ptype != ETHERTYPE_IPV4 || arp[4] != 6 || arp[5] != 4 || op != 1 {
        return None;
    }
    let mut sha = [0u8; 6];
    sha.copy_from_slice(&arp[8..14]);
    let spa = Ipv4Addr::new(arp[14], arp[15], arp[16], arp[17]);
    let tpa = Ipv4Addr::new(arp[24], arp[25], arp[26], arp[27]);
    Some((sha, spa, tpa))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    fn adv(version: u8, interval_cs: u16) -> Advert {
        Advert {
            version,
            vrid: 1,
            priority: 100,
            interval_cs,
            addresses: vec![Ipv4Addr::new(10, 0, 0, 1)],
        }
    }

    // Checksums below were computed by hand:
    // v2: words 0x2101 + 0x6401 + 0x0001 + 0x0a00 + 0x0001 = 0x8f04 -> !0x8f04 = 0x70fb.
    #[test]
    fn v2_encode_bytes() {
        let bytes = adv(2, 100).encode(SRC, ChecksumMode::IncludePseudoHeader);
        assert_eq!(
            bytes,
            [0x21, 0x01, 0x64, 0x01, 0x00, 0x01, 0x70, 0xfb, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    // v3 message words: 0x3101 + 0x6401 + 0x0064 + 0x0a00 + 0x0001 = 0x9f67 -> 0x6098.
    #[test]
    fn v3_encode_bytes_without_pseudo_header() {
        let bytes = adv(3, 100).encode(SRC, ChecksumMode::ExcludePseudoHeader);
        assert_eq!(
            bytes,
            [0x31, 0x01, 0x64, 0x01, 0x00, 0x64, 0x60, 0x98, 10, 0, 0, 1]
        );
    }

    // Pseudo-header words: 0x0a00 + 0x0002 + 0xe000 + 0x0012 + 0x0070 + 0x000c
    // = 0xea90; + 0x9f67 = 0x189f7 -> 0x89f8 -> !0x89f8 = 0x7607.
    #[test]
    fn v3_encode_bytes_with_pseudo_header() {
        let bytes = adv(3, 100).encode(SRC, ChecksumMode::IncludePseudoHeader);
        assert_eq!(
            bytes,
            [0x31, 0x01, 0x64, 0x01, 0x00, 0x64, 0x76, 0x07, 10, 0, 0, 1]
        );
    }

    #[test]
    fn round_trip_v2() {
        let a = Advert {
            version: 2,
            vrid: 200,
            priority: 254,
            interval_cs: 300,
            addresses: vec![Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2)],
        };
        let bytes = a.encode(SRC, ChecksumMode::IncludePseudoHeader);
        assert_eq!(bytes.len(), 8 + 8 + 8);
        let (b, mode) = Advert::decode(&bytes, SRC).unwrap();
        assert_eq!(a, b);
        assert_eq!(mode, ChecksumMode::ExcludePseudoHeader);
    }

    #[test]
    fn v2_interval_rounds_to_whole_seconds() {
        let bytes = adv(2, 150).encode(SRC, ChecksumMode::ExcludePseudoHeader);
        assert_eq!(bytes[5], 1);
        let bytes = adv(2, 50).encode(SRC, ChecksumMode::ExcludePseudoHeader);
        assert_eq!(bytes[5], 1, "minimum one second");
        let (b, _) = Advert::decode(&bytes, SRC).unwrap();
        assert_eq!(b.interval_cs, 100);
    }

    #[test]
    fn round_trip_v3_both_modes_reported() {
        let mut a = adv(3, 4095);
        a.addresses.push(Ipv4Addr::new(10, 0, 0, 3));
        for mode in [
            ChecksumMode::IncludePseudoHeader,
            ChecksumMode::ExcludePseudoHeader,
        ] {
            let bytes = a.encode(SRC, mode);
            let (b, got) = Advert::decode(&bytes, SRC).unwrap();
            assert_eq!(a, b);
            assert_eq!(got, mode);
        }
    }

    #[test]
    fn v3_interval_clamped_to_12_bits() {
        let bytes = adv(3, 5000).encode(SRC, ChecksumMode::ExcludePseudoHeader);
        assert_eq!(u16::from_be_bytes([bytes[4], bytes[5]]), 0x0fff);
    }

    #[test]
    fn pseudo_header_checksum_depends_on_source() {
        let bytes = adv(3, 100).encode(SRC, ChecksumMode::IncludePseudoHeader);
        assert_eq!(
            Advert::decode(&bytes, Ipv4Addr::new(10, 0, 0, 9)),
            Err(AdvertError::Checksum)
        );
    }

    #[test]
    fn corrupted_checksum_rejected() {
        for (v, mode) in [
            (2, ChecksumMode::ExcludePseudoHeader),
            (3, ChecksumMode::ExcludePseudoHeader),
            (3, ChecksumMode::IncludePseudoHeader),
        ] {
            let mut bytes = adv(v, 100).encode(SRC, mode);
            bytes[7] ^= 0x01;
            assert_eq!(Advert::decode(&bytes, SRC), Err(AdvertError::Checksum));
            let mut bytes = adv(v, 100).encode(SRC, mode);
            bytes[2] = 99; // priority changed in flight
            assert_eq!(Advert::decode(&bytes, SRC), Err(AdvertError::Checksum));
        }
    }

    /// Re-computes the checksum after a header edit so that a later check fires.
    fn refix(bytes: &mut [u8]) {
        bytes[6] = 0;
        bytes[7] = 0;
        let s = dataplane::wire::internet(bytes, 0);
        bytes[6..8].copy_from_slice(&s.to_be_bytes());
    }

    #[test]
    fn decode_errors() {
        assert_eq!(Advert::decode(&[0x31, 1, 2], SRC), Err(AdvertError::Short));

        let mut b = adv(3, 100).encode(SRC, ChecksumMode::ExcludePseudoHeader);
        b[0] = 0x41;
        assert_eq!(Advert::decode(&b, SRC), Err(AdvertError::Version(4)));

        let mut b = adv(3, 100).encode(SRC, ChecksumMode::ExcludePseudoHeader);
        b[0] = 0x32;
        assert_eq!(Advert::decode(&b, SRC), Err(AdvertError::Type(2)));

        let b = adv(3, 100).encode(SRC, ChecksumMode::ExcludePseudoHeader);
        assert_eq!(Advert::decode(&b[..11], SRC), Err(AdvertError::Length));
        let mut longer = b.clone();
        longer.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(Advert::decode(&longer, SRC), Err(AdvertError::Length));
        // A v2 packet without its authentication data.
        let b = adv(2, 100).encode(SRC, ChecksumMode::ExcludePseudoHeader);
        assert_eq!(Advert::decode(&b[..12], SRC), Err(AdvertError::Length));

        let mut b = adv(2, 100).encode(SRC, ChecksumMode::ExcludePseudoHeader);
        b[4] = 1;
        refix(&mut b);
        assert_eq!(Advert::decode(&b, SRC), Err(AdvertError::AuthType(1)));

        let mut b = adv(3, 100).encode(SRC, ChecksumMode::ExcludePseudoHeader);
        b[1] = 0;
        refix(&mut b);
        assert_eq!(Advert::decode(&b, SRC), Err(AdvertError::ZeroVrid));
    }

    #[test]
    fn error_display() {
        assert_eq!(
            AdvertError::AuthType(2).to_string(),
            "unsupported VRRPv2 authentication type 2"
        );
        let e: Box<dyn std::error::Error> = Box::new(AdvertError::Checksum);
        assert_eq!(e.to_string(), "bad VRRP checksum");
    }

    #[test]
    fn virtual_mac_layout() {
        assert_eq!(virtual_mac(7), [0x00, 0x00, 0x5e, 0x00, 0x01, 0x07]);
    }

    #[test]
    fn garp_bytes_and_not_a_reply_target() {
        let vip = Ipv4Addr::new(192, 0, 2, 1);
        let f = garp(virtual_mac(7), vip);
        let expect: Vec<u8> = [
            &[0xff; 6][..],
            &[0x00, 0x00, 0x5e, 0x00, 0x01, 0x07],
            &[0x08, 0x06],
            &[0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01],
            &[0x00, 0x00, 0x5e, 0x00, 0x01, 0x07],
            &[192, 0, 2, 1],
            &[0; 6],
            &[192, 0, 2, 1],
        ]
        .concat();
        assert_eq!(f, expect);
        // A gratuitous ARP is itself a well-formed request.
        assert_eq!(parse_arp_request(&f), Some((virtual_mac(7), vip, vip)));
    }

    #[test]
    fn arp_request_reply_cycle() {
        let host_mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
        let host_ip = Ipv4Addr::new(192, 0, 2, 50);
        let vip = Ipv4Addr::new(192, 0, 2, 1);
        // Build a request by hand: who-has vip tell host_ip.
        let mut req = Vec::new();
        ethernet_header(&mut req, BROADCAST_MAC, host_mac, ETHERTYPE_ARP);
        arp_body(&mut req, 1, host_mac, host_ip, [0; 6], vip);
        req.resize(60, 0); // Ethernet padding is tolerated
        assert_eq!(parse_arp_request(&req), Some((host_mac, host_ip, vip)));

        let vmac = virtual_mac(3);
        let reply = arp_reply(vmac, vip, host_mac, host_ip);
        assert_eq!(reply.len(), 42);
        assert_eq!(&reply[0..6], &host_mac);
        assert_eq!(&reply[6..12], &vmac);
        assert_eq!(&reply[12..14], &[0x08, 0x06]);
        assert_eq!(&reply[20..22], &[0x00, 0x02], "opcode reply");
        assert_eq!(&reply[22..28], &vmac);
        assert_eq!(&reply[28..32], &vip.octets());
        assert_eq!(&reply[32..38], &host_mac);
        assert_eq!(&reply[38..42], &host_ip.octets());
        // A reply is not a request.
        assert_eq!(parse_arp_request(&reply), None);
    }

    #[test]
    fn parse_arp_rejects_other_frames() {
        let f = garp(virtual_mac(1), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(parse_arp_request(&f[..41]), None);
        let mut bad = f.clone();
        bad[13] = 0x00; // ethertype 0x0800
        assert_eq!(parse_arp_request(&bad), None);
        let mut bad = f.clone();
        bad[15] = 6; // htype 6
        assert_eq!(parse_arp_request(&bad), None);
        let mut bad = f.clone();
        bad[18] = 8; // hlen 8
        assert_eq!(parse_arp_request(&bad), None);
        let mut bad = f;
        bad[17] = 0xdd; // ptype 0x08dd
        assert_eq!(parse_arp_request(&bad), None);
    }

    // Header words: 0x45c0 + 0x0020 + 0 + 0 + 0xff70 + 0 + 0x0a00 + 0x0002
    // + 0xe000 + 0x0012 = 0x22f64 -> 0x2f66 -> !0x2f66 = 0xd099.
    #[test]
    fn ipv4_frame_bytes() {
        let payload = adv(3, 100).encode(SRC, ChecksumMode::ExcludePseudoHeader);
        let f = dataplane::wire::ipv4_frame(
            virtual_mac(1),
            VRRP_MCAST_MAC,
            SRC,
            VRRP_MCAST_V4,
            VRRP_TTL,
            IPPROTO_VRRP,
            &[],
            &payload,
        );
        let expect: Vec<u8> = [
            &[0x01, 0x00, 0x5e, 0x00, 0x00, 0x12][..],
            &[0x00, 0x00, 0x5e, 0x00, 0x01, 0x01],
            &[0x08, 0x00],
            &[0x45, 0xc0, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00],
            &[0xff, 0x70, 0xd0, 0x99],
            &[10, 0, 0, 2, 224, 0, 0, 18],
            &payload,
        ]
        .concat();
        assert_eq!(f, expect);
        // The header verifies with the generic routine too.
        assert_eq!(dataplane::wire::internet(&f[14..34], 0), 0);
        // And the payload decodes back from the frame.
        let (a, _) = Advert::decode(&f[34..], SRC).unwrap();
        assert_eq!(a, adv(3, 100));
    }
}
