//! Register and Register-Stop (RFC 7761 §4.9.3, §4.9.4): the unicast messages between a
//! source's designated router and the RP.

use std::net::Ipv4Addr;

use super::{put_group, put_unicast, EncodedGroup, PacketError, Reader, HEADER_LEN};

/// Register flag: Border bit (the sender is a PIM Multicast Border Router).
const REGISTER_BORDER: u32 = 0x8000_0000;
/// Register flag: Null-Register bit (the inner packet is only a header, a probe).
const REGISTER_NULL: u32 = 0x4000_0000;
/// Header plus the flags word: what a Register's checksum covers (§4.9.3).
pub const REGISTER_HEADER_LEN: usize = HEADER_LEN + 4;
/// Length of an IPv4 header without options.
const IPV4_HEADER_LEN: usize = 20;

/// A Register message (§4.9.3): a multicast data packet encapsulated by the DR toward the RP.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |PIM Ver| Type  |   Reserved    |           Checksum            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |B|N|                       Reserved2                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// .                     Multicast data packet                     .
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The checksum covers the first 8 bytes only, not the data packet (§4.9.3). Decoding also
/// accepts a checksum over the whole message, which some older implementations send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    /// B bit: sent by a PIM Multicast Border Router for a source it stands for.
    pub border: bool,
    /// N bit: a Null-Register, which probes whether the RP still wants Registers.
    pub null: bool,
    /// The encapsulated IPv4 packet (for a Null-Register, a header with S and G).
    pub packet: Vec<u8>,
}

impl Register {
    /// A data Register carrying `packet` (a whole IPv4 multicast packet).
    pub fn data(packet: Vec<u8>) -> Register {
        Register {
            border: false,
            null: false,
            packet,
        }
    }

    /// A Null-Register for (S,G) (§4.4.1): N set, the payload a 20-byte IPv4 header from
    /// `source` to `group` with a valid header checksum and no data.
    pub fn null(source: Ipv4Addr, group: Ipv4Addr) -> Register {
        let mut h = vec![0u8; IPV4_HEADER_LEN];
        h[0] = 0x45;
        h[2..4].copy_from_slice(&(IPV4_HEADER_LEN as u16).to_be_bytes());
        h[8] = 1; // TTL
        h[9] = super::IPPROTO_PIM; // protocol: anything; the RP reads only S and G
        h[12..16].copy_from_slice(&source.octets());
        h[16..20].copy_from_slice(&group.octets());
        let sum = dataplane::wire::ipv4_header_checksum(&h);
        h[10..12].copy_from_slice(&sum.to_be_bytes());
        Register {
            border: false,
            null: true,
            packet: h,
        }
    }

    /// The (source, group) of the inner packet: its IPv4 source and destination addresses.
    /// `None` when the inner packet is not an IPv4 header (decoding refuses
    /// those, so a decoded Register always has them).
    pub fn source_group(&self) -> Option<(Ipv4Addr, Ipv4Addr)> {
        dataplane::wire::ipv4_bounds(&self.packet)?;
        let p = &self.packet;
        Some((
            Ipv4Addr::new(p[12], p[13], p[14], p[15]),
            Ipv4Addr::new(p[16], p[17], p[18], p[19]),
        ))
    }

    pub(super) fn encode_body(&self, out: &mut Vec<u8>) {
        let mut flags = 0;
        if self.border {
            flags |= REGISTER_BORDER;
        }
        if self.null {
            flags |= REGISTER_NULL;
        }
        out.extend_from_slice(&flags.to_be_bytes());
        out.extend_from_slice(&self.packet);
    }

    /// Decodes what follows the 4-byte PIM header; the checksum was checked by the caller.
    pub(super) fn decode_body(body: &[u8]) -> Result<Register, PacketError> {
        let mut r = Reader { buf: body };
        let flags = r.u32()?;
        let packet = r.buf;
        let multicast_dst = packet.len() >= IPV4_HEADER_LEN
            && Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]).is_multicast();
        if dataplane::wire::ipv4_bounds(packet).is_none() || !multicast_dst {
            return Err(PacketError::InnerPacket);
        }
        Ok(Register {
            border: flags & REGISTER_BORDER != 0,
            null: flags & REGISTER_NULL != 0,
            packet: packet.to_vec(),
        })
    }
}

/// A Register-Stop message (§4.9.4): the RP tells a DR to stop encapsulating (S,G).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |PIM Ver| Type  |   Reserved    |           Checksum            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |             Group Address (Encoded-Group format)              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |            Source Address (Encoded-Unicast format)            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterStop {
    pub group: EncodedGroup,
    /// The source; 0.0.0.0 stands for every source of the group.
    pub source: Ipv4Addr,
}

impl RegisterStop {
    pub(super) fn encode_body(&self, out: &mut Vec<u8>) {
        put_group(out, &self.group);
        put_unicast(out, self.source);
    }

    pub(super) fn decode_body(body: &[u8]) -> Result<RegisterStop, PacketError> {
        let mut r = Reader { buf: body };
        let group = r.group()?;
        let source = r.unicast()?;
        Ok(RegisterStop { group, source })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Message, Pdu};
    use super::*;

    const S: Ipv4Addr = Ipv4Addr::new(10, 2, 2, 2);
    const G: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 1);

    /// Null-Register for (10.2.2.2, 239.1.1.1). PIM checksum over the first 8 bytes: the
    /// words 0x2100 + 0x4000 sum to 0x6100, complement 0x9eff. The inner IPv4 header's words
    /// sum to 0x14281, folded 0x4282, complement 0xbd7d.
    const NULL_REGISTER: [u8; 28] = [
        0x21, 0x00, 0x9e, 0xff, // v2, type 1, checksum
        0x40, 0x00, 0x00, 0x00, // B=0, N=1
        0x45, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, // IPv4, length 20
        0x01, 0x67, 0xbd, 0x7d, // TTL 1, protocol 103, header checksum
        10, 2, 2, 2, 239, 1, 1, 1, // S, G
    ];

    /// Register-Stop (10.2.2.2, 239.1.1.1). Words sum to 0x12026, folded 0x2027, complement
    /// 0xdfd8.
    const REGISTER_STOP: [u8; 18] = [
        0x22, 0x00, 0xdf, 0xd8, // v2, type 2, checksum
        0x01, 0x00, 0x00, 0x20, 239, 1, 1, 1, // group/32
        0x01, 0x00, 10, 2, 2, 2, // source
    ];

    #[test]
    fn null_register_vector() {
        let r = Register::null(S, G);
        assert_eq!(Pdu::Register(r.clone()).encode(), NULL_REGISTER);
        assert_eq!(Pdu::decode(&NULL_REGISTER), Ok(Pdu::Register(r.clone())));
        assert_eq!(r.source_group(), Some((S, G)));
        assert!(r.null && !r.border);
        // The inner header is a valid IPv4 header.
        assert_eq!(dataplane::wire::internet(&NULL_REGISTER[8..], 0), 0);
    }

    #[test]
    fn register_checksum_covers_the_header_only() {
        let mut inner = Register::null(S, G).packet;
        inner[2..4].copy_from_slice(&28u16.to_be_bytes());
        inner.extend_from_slice(b"payload!");
        let mut reg = Register::data(inner);
        reg.border = true;
        let bytes = Pdu::Register(reg.clone()).encode();
        assert_eq!(&bytes[4..8], &[0x80, 0, 0, 0]);
        // Same checksum as any Register with these flags: the data does not count.
        assert_eq!(dataplane::wire::internet(&bytes[..8], 0), 0);
        assert_eq!(Pdu::decode(&bytes), Ok(Pdu::Register(reg.clone())));
        // Changing the data keeps the message valid...
        let mut changed = bytes.clone();
        let last = changed.len() - 1;
        changed[last] ^= 0xff;
        assert!(Pdu::decode(&changed).is_ok());
        // ...changing the flags does not.
        let mut flags = bytes.clone();
        flags[4] ^= 0x40;
        assert_eq!(Pdu::decode(&flags), Err(PacketError::Checksum));
        // A checksum over the whole message (older implementations) is accepted too.
        let mut whole = bytes;
        whole[2..4].copy_from_slice(&[0, 0]);
        let sum = dataplane::wire::internet(&whole, 0);
        whole[2..4].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(Pdu::decode(&whole), Ok(Pdu::Register(reg)));
    }

    #[test]
    fn register_needs_an_ipv4_multicast_packet_inside() {
        let fix = |mut b: Vec<u8>| {
            b[2..4].copy_from_slice(&[0, 0]);
            let sum = dataplane::wire::internet(&b[..8], 0);
            b[2..4].copy_from_slice(&sum.to_be_bytes());
            b
        };
        // Nothing inside.
        let b = fix(NULL_REGISTER[..8].to_vec());
        assert_eq!(Pdu::decode(&b), Err(PacketError::InnerPacket));
        // Truncated header.
        let b = fix(NULL_REGISTER[..20].to_vec());
        assert_eq!(Pdu::decode(&b), Err(PacketError::InnerPacket));
        // IPv6 version nibble.
        let mut b = NULL_REGISTER.to_vec();
        b[8] = 0x65;
        assert_eq!(Pdu::decode(&fix(b)), Err(PacketError::InnerPacket));
        // Unicast destination.
        let mut b = NULL_REGISTER.to_vec();
        b[24] = 10;
        assert_eq!(Pdu::decode(&fix(b)), Err(PacketError::InnerPacket));
        // Too short for the flags word.
        assert_eq!(
            Pdu::decode(&[0x21, 0, 0xde, 0xff, 0, 0]),
            Err(PacketError::Short)
        );
        // The link-local decoder still refuses it.
        assert_eq!(
            Message::decode(&NULL_REGISTER),
            Err(PacketError::UnsupportedType(1))
        );
    }

    #[test]
    fn register_stop_vector() {
        let rs = RegisterStop {
            group: EncodedGroup::host(G),
            source: S,
        };
        assert_eq!(Pdu::RegisterStop(rs).encode(), REGISTER_STOP);
        assert_eq!(Pdu::decode(&REGISTER_STOP), Ok(Pdu::RegisterStop(rs)));
        let mut bad = REGISTER_STOP;
        bad[17] ^= 1;
        assert_eq!(Pdu::decode(&bad), Err(PacketError::Checksum));
        assert_eq!(
            Pdu::decode(&REGISTER_STOP[..16]),
            Err(PacketError::Checksum)
        );
    }
}
