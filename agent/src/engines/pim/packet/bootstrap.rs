//! Bootstrap and Candidate-RP-Advertisement (RFC 5059 §4.1, §4.2; RFC 7761 §4.9.7): the
//! messages of the bootstrap router mechanism that spreads the RP set.

use std::net::Ipv4Addr;

use super::{put_group, put_unicast, EncodedGroup, PacketError, Reader};

/// The No-Forward bit in the first byte after the type of a Bootstrap message (RFC 5059 §4.1).
pub(super) const BOOTSTRAP_NO_FORWARD: u8 = 0x80;

/// A Bootstrap message (RFC 5059 §4.1), or one fragment of one.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |PIM Ver| Type  |N|  Reserved   |           Checksum            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Fragment Tag          | Hash Mask Len | BSR Priority  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |             BSR Address (Encoded-Unicast format)              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Group Address 1 (Encoded-Group format)                |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | RP Count 1    | Frag RP Cnt 1 |         Reserved              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |             RP Address 1 (Encoded-Unicast format)             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          RP1 Holdtime         | RP1 Priority  |   Reserved    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// .                  more RPs, more group ranges                  .
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrap {
    /// N bit: the message must not be forwarded (RFC 5059 §3.3).
    pub no_forward: bool,
    /// The same in every fragment of one Bootstrap message.
    pub fragment_tag: u16,
    /// Mask length of the group-to-RP hash (RFC 7761 §4.7.2); 30 is usual for IPv4.
    pub hash_mask_len: u8,
    /// Priority of the BSR; higher wins the election.
    pub bsr_priority: u8,
    pub bsr_address: Ipv4Addr,
    /// Group ranges with (this fragment's share of) their RPs; at most 255 RPs each are
    /// encoded.
    pub groups: Vec<BsmGroup>,
}

/// One group range of a Bootstrap message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BsmGroup {
    pub group: EncodedGroup,
    /// How many RPs the range has in the whole message (all fragments).
    pub rp_count: u8,
    /// The RPs in this fragment (Frag RP Count is their number).
    pub rps: Vec<BsmRp>,
}

/// One RP of a group range in a Bootstrap message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BsmRp {
    pub address: Ipv4Addr,
    /// Seconds the mapping stays valid.
    pub holdtime: u16,
    /// Lower is preferred (RFC 7761 §4.7.1).
    pub priority: u8,
}

impl Bootstrap {
    pub(super) fn encode_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.fragment_tag.to_be_bytes());
        out.push(self.hash_mask_len);
        out.push(self.bsr_priority);
        put_unicast(out, self.bsr_address);
        for g in &self.groups {
            put_group(out, &g.group);
            let rps = &g.rps[..g.rps.len().min(255)];
            out.push(g.rp_count);
            out.push(rps.len() as u8);
            out.extend_from_slice(&[0, 0]);
            for rp in rps {
                put_unicast(out, rp.address);
                out.extend_from_slice(&rp.holdtime.to_be_bytes());
                out.push(rp.priority);
                out.push(0);
            }
        }
    }

    /// Decodes what follows the PIM header; `flags` is the header's second byte.
    pub(super) fn decode_body(flags: u8, body: &[u8]) -> Result<Bootstrap, PacketError> {
        let mut r = Reader { buf: body };
        let fragment_tag = r.u16()?;
        let hash_mask_len = r.u8()?;
        let bsr_priority = r.u8()?;
        let bsr_address = r.unicast()?;
        let mut groups = Vec::new();
        while !r.buf.is_empty() {
            let group = r.group()?;
            let rp_count = r.u8()?;
            let frag_rp_count = r.u8()?;
            let _reserved = r.u16()?;
            let rps = (0..frag_rp_count)
                .map(|_| {
                    Ok(BsmRp {
                        address: r.unicast()?,
                        holdtime: r.u16()?,
                        priority: {
                            let p = r.u8()?;
                            r.u8()?;
                            p
                        },
                    })
                })
                .collect::<Result<Vec<_>, PacketError>>()?;
            groups.push(BsmGroup {
                group,
                rp_count,
                rps,
            });
        }
        Ok(Bootstrap {
            no_forward: flags & BOOTSTRAP_NO_FORWARD != 0,
            fragment_tag,
            hash_mask_len,
            bsr_priority,
            bsr_address,
            groups,
        })
    }
}

/// A Candidate-RP-Advertisement (RFC 7761 §4.9.7, RFC 5059 §4.2), unicast by a candidate RP
/// to the elected BSR.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |PIM Ver| Type  |   Reserved    |           Checksum            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Prefix Count  |   Priority    |           Holdtime            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |             RP Address (Encoded-Unicast format)               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          Group Address 1 (Encoded-Group format)               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// .                  more group ranges                            .
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateRpAdv {
    /// Lower is preferred.
    pub priority: u8,
    /// Seconds the BSR keeps the candidate; 0 withdraws it.
    pub holdtime: u16,
    pub rp: Ipv4Addr,
    /// Group ranges served; empty (prefix count 0) means all of 224.0.0.0/4. At most 255
    /// are encoded.
    pub groups: Vec<EncodedGroup>,
}

impl CandidateRpAdv {
    pub(super) fn encode_body(&self, out: &mut Vec<u8>) {
        let groups = &self.groups[..self.groups.len().min(255)];
        out.push(groups.len() as u8);
        out.push(self.priority);
        out.extend_from_slice(&self.holdtime.to_be_bytes());
        put_unicast(out, self.rp);
        for g in groups {
            put_group(out, g);
        }
    }

    pub(super) fn decode_body(body: &[u8]) -> Result<CandidateRpAdv, PacketError> {
        let mut r = Reader { buf: body };
        let prefix_count = r.u8()?;
        let priority = r.u8()?;
        let holdtime = r.u16()?;
        let rp = r.unicast()?;
        let groups = (0..prefix_count)
            .map(|_| r.group())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CandidateRpAdv {
            priority,
            holdtime,
            rp,
            groups,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Message, Pdu};
    use super::*;

    /// A Bootstrap from BSR 10.0.0.1 (priority 64, hash mask 30, tag 0x1234) mapping
    /// 224.0.0.0/4 to RP 10.9.9.9 (holdtime 150, priority 192). The words sum to 0x21622,
    /// folded 0x1624, complement 0xe9db.
    const BOOTSTRAP: [u8; 36] = [
        0x24, 0x00, 0xe9, 0xdb, // v2, type 4, checksum
        0x12, 0x34, 30, 64, // fragment tag, hash mask length, BSR priority
        0x01, 0x00, 10, 0, 0, 1, // BSR address
        0x01, 0x00, 0x00, 0x04, 224, 0, 0, 0, // group 224.0.0.0/4
        1, 1, 0, 0, // RP count 1, fragment RP count 1
        0x01, 0x00, 10, 9, 9, 9, // RP
        0x00, 0x96, 192, 0, // holdtime 150, priority 192
    ];

    fn bootstrap() -> Bootstrap {
        Bootstrap {
            no_forward: false,
            fragment_tag: 0x1234,
            hash_mask_len: 30,
            bsr_priority: 64,
            bsr_address: Ipv4Addr::new(10, 0, 0, 1),
            groups: vec![BsmGroup {
                group: EncodedGroup {
                    address: Ipv4Addr::new(224, 0, 0, 0),
                    mask_len: 4,
                    bidir: false,
                    zone: false,
                },
                rp_count: 1,
                rps: vec![BsmRp {
                    address: Ipv4Addr::new(10, 9, 9, 9),
                    holdtime: 150,
                    priority: 192,
                }],
            }],
        }
    }

    /// C-RP-Adv of 10.9.9.9 for 239.0.0.0/8, priority 192, holdtime 150. The words sum to
    /// 0x12e70, folded 0x2e71, complement 0xd18e.
    const CRP_ADV: [u8; 22] = [
        0x28, 0x00, 0xd1, 0x8e, // v2, type 8, checksum
        1, 192, 0x00, 0x96, // prefix count, priority, holdtime
        0x01, 0x00, 10, 9, 9, 9, // RP
        0x01, 0x00, 0x00, 0x08, 239, 0, 0, 0, // group 239.0.0.0/8
    ];

    #[test]
    fn bootstrap_vector() {
        assert_eq!(dataplane::wire::internet(&BOOTSTRAP, 0), 0);
        let m = Pdu::Bootstrap(bootstrap());
        assert_eq!(m.encode(), BOOTSTRAP);
        assert_eq!(Pdu::decode(&BOOTSTRAP), Ok(m));
        assert_eq!(
            Message::decode(&BOOTSTRAP),
            Err(PacketError::UnsupportedType(4))
        );
    }

    #[test]
    fn bootstrap_no_forward_fragments_and_empty() {
        let mut b = bootstrap();
        b.no_forward = true;
        b.groups[0].rp_count = 3; // two more RPs in another fragment
        b.groups.push(BsmGroup {
            group: EncodedGroup {
                address: Ipv4Addr::new(239, 0, 0, 0),
                mask_len: 8,
                bidir: false,
                zone: true,
            },
            rp_count: 0,
            rps: vec![],
        });
        let bytes = Pdu::Bootstrap(b.clone()).encode();
        assert_eq!(bytes[1], 0x80);
        assert_eq!(bytes[22..24], [3, 1]);
        assert_eq!(Pdu::decode(&bytes), Ok(Pdu::Bootstrap(b.clone())));
        b.groups.clear();
        let bytes = Pdu::Bootstrap(b.clone()).encode();
        assert_eq!(bytes.len(), 14);
        assert_eq!(Pdu::decode(&bytes), Ok(Pdu::Bootstrap(b)));
    }

    #[test]
    fn bootstrap_truncated_rp_entry_is_short() {
        let mut b = BOOTSTRAP[..34].to_vec();
        b[2..4].copy_from_slice(&[0, 0]);
        let sum = dataplane::wire::internet(&b, 0);
        b[2..4].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(Pdu::decode(&b), Err(PacketError::Short));
    }

    #[test]
    fn candidate_rp_adv_vector() {
        let c = CandidateRpAdv {
            priority: 192,
            holdtime: 150,
            rp: Ipv4Addr::new(10, 9, 9, 9),
            groups: vec![EncodedGroup {
                address: Ipv4Addr::new(239, 0, 0, 0),
                mask_len: 8,
                bidir: false,
                zone: false,
            }],
        };
        let m = Pdu::CandidateRpAdv(c.clone());
        assert_eq!(m.encode(), CRP_ADV);
        assert_eq!(Pdu::decode(&CRP_ADV), Ok(m));
        // Prefix count 0: all groups.
        let all = CandidateRpAdv {
            groups: vec![],
            ..c
        };
        let bytes = Pdu::CandidateRpAdv(all.clone()).encode();
        assert_eq!(bytes[4], 0);
        assert_eq!(Pdu::decode(&bytes), Ok(Pdu::CandidateRpAdv(all)));
        let mut bad = CRP_ADV;
        bad[5] = 0;
        assert_eq!(Pdu::decode(&bad), Err(PacketError::Checksum));
    }

    #[test]
    fn unknown_types_and_link_local_messages_through_pdu() {
        assert_eq!(
            Pdu::decode(&[0x26, 0, 0xd9, 0xff]),
            Err(PacketError::UnsupportedType(6))
        );
        let hello = Message::Hello(Default::default());
        assert_eq!(
            Pdu::decode(&hello.encode()),
            Ok(Pdu::Message(hello.clone()))
        );
        assert_eq!(Pdu::Message(hello.clone()).encode(), hello.encode());
    }
}
