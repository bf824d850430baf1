//! Wire helpers shared by the control protocols, the forwarding path and the lab: the Internet
//! checksum (RFC 1071), its incremental update (RFC 1624), and Ethernet + IPv4 framing for
//! packets sent through packet sockets. Plain functions over bytes: no sockets, no state.

use std::net::Ipv4Addr;

/// The one's complement of the one's complement sum of `data` (16-bit big-endian words, an odd
/// last byte padded with zero), plus an `initial` partial sum (e.g. a pseudo-header). Over data
/// that already holds a valid checksum the result is 0.
pub fn internet(data: &[u8], initial: u32) -> u16 {
    let mut chunks = data.chunks_exact(2);
    let mut sum = u64::from(initial);
    for c in &mut chunks {
        sum += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u64::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// RFC 1624, eqn. 3: the checksum `hc` after one 16-bit word of the data changed from `old` to
/// `new`: HC' = ~(~HC + ~m + m').
#[inline]
pub fn checksum_update(hc: u16, old: u16, new: u16) -> u16 {
    let mut sum = u32::from(!hc) + u32::from(!old) + u32::from(new);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    !(sum as u16)
}

/// The IPv4 header checksum of `hdr` (the whole header, IHL * 4 bytes), computed from scratch
/// with the checksum field taken as zero. For building test and benchmark frames.
pub fn ipv4_header_checksum(hdr: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for (i, w) in hdr.chunks(2).enumerate() {
        if i == 5 {
            continue;
        }
        let hi = u32::from(w[0]) << 8;
        sum += hi | w.get(1).copied().map_or(0, u32::from);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The header length and total length of an IPv4 packet (the total clamped to the bytes there
/// are), if it is version 4 with a header of at least 20 bytes that fits: the payload is
/// `&packet[ihl..total]`.
pub fn ipv4_bounds(packet: &[u8]) -> Option<(usize, usize)> {
    if packet.len() < 20 || packet[0] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(packet[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([packet[2], packet[3]])).min(packet.len());
    (ihl >= 20 && total >= ihl).then_some((ihl, total))
}

/// An Ethernet frame carrying an IPv4 packet: TOS 0xc0 (network control), no fragmentation
/// fields, the given TTL and protocol, IP `options` (a multiple of 4 bytes, e.g. Router Alert)
/// and a correct header checksum.
#[allow(clippy::too_many_arguments)]
pub fn ipv4_frame(
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    proto: u8,
    options: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    debug_assert!(options.len() % 4 == 0 && options.len() <= 40);
    let ihl = 20 + options.len();
    let total = (ihl + payload.len()).min(usize::from(u16::MAX)) as u16;
    let mut out = Vec::with_capacity(14 + ihl + payload.len());
    out.extend_from_slice(&dst_mac);
    out.extend_from_slice(&src_mac);
    out.extend_from_slice(&[0x08, 0x00]);
    out.push(0x40 | (ihl / 4) as u8);
    out.push(0xc0);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]); // identification, flags + fragment offset
    out.push(ttl);
    out.push(proto);
    out.extend_from_slice(&[0, 0]); // header checksum
    out.extend_from_slice(&src.octets());
    out.extend_from_slice(&dst.octets());
    out.extend_from_slice(options);
    let sum = internet(&out[14..], 0);
    out[24..26].copy_from_slice(&sum.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_1071_example_and_verification() {
        // RFC 1071 §3: the sum of 0001 f203 f4f5 f6f7 is ddf2 (checksum 220d).
        let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet(&d, 0), 0x220d);
        let mut with = d.to_vec();
        with.extend_from_slice(&0x220du16.to_be_bytes());
        assert_eq!(internet(&with, 0), 0);
        assert_eq!(internet(&[0x01], 0), !0x0100);
    }

    #[test]
    fn ipv4_bounds_of_good_and_bad_headers() {
        let mut p = vec![0x45, 0, 0, 28];
        p.resize(28, 0);
        assert_eq!(ipv4_bounds(&p), Some((20, 28)));
        // Total length beyond the bytes: clamped.
        p[3] = 200;
        assert_eq!(ipv4_bounds(&p), Some((20, 28)));
        // Header longer than the total, wrong version, too short.
        p[3] = 28;
        p[0] = 0x48;
        assert_eq!(ipv4_bounds(&p), None);
        p[0] = 0x65;
        assert_eq!(ipv4_bounds(&p), None);
        assert_eq!(ipv4_bounds(&p[..19]), None);
        assert_eq!(ipv4_bounds(&[0x44; 40]), None, "IHL 16 < 20");
    }

    #[test]
    fn ipv4_frame_with_router_alert() {
        let f = ipv4_frame(
            [2, 0, 0, 0, 0, 1],
            [1, 0, 0x5e, 0, 0, 1],
            Ipv4Addr::new(192, 168, 1, 1),
            Ipv4Addr::new(224, 0, 0, 1),
            1,
            2,
            &[0x94, 0x04, 0, 0],
            &[0x11, 0x64, 0xee, 0x9b, 0, 0, 0, 0],
        );
        assert_eq!(f.len(), 14 + 24 + 8);
        assert_eq!((f[14], f[16], f[17], f[22], f[23]), (0x46, 0, 32, 1, 2));
        assert_eq!(internet(&f[14..38], 0), 0, "header checksum");
        assert_eq!(&f[34..38], &[0x94, 0x04, 0, 0]);
    }
}
