//! IGMP wire formats: the message that follows the IPv4 header (IP protocol
//! 2). Queries of all three versions (RFC 3376 §4.1 and the length rules of
//! §7.1), version 1 and 2 Membership Reports and Leave Group (RFC 2236 §2),
//! and version 3 Membership Reports (RFC 3376 §4.2).
//!
//! Everything here is pure byte manipulation: no sockets, no clocks. The IPv4
//! header (TTL 1, Router Alert) is the I/O layer's business.

use std::fmt;
use std::net::Ipv4Addr;

/// IP protocol number of IGMP.
pub const IPPROTO_IGMP: u8 = 2;
/// Destination of General Queries (RFC 3376 §4.1.12).
pub const ALL_SYSTEMS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 1);
/// Destination of version 2 Leave Group messages (RFC 2236 §3).
pub const ALL_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 2);
/// Destination of version 3 Reports (RFC 3376 §4.2.14).
pub const ALL_IGMPV3_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 22);

const TYPE_QUERY: u8 = 0x11;
const TYPE_V1_REPORT: u8 = 0x12;
const TYPE_V2_REPORT: u8 = 0x16;
const TYPE_LEAVE: u8 = 0x17;
const TYPE_V3_REPORT: u8 = 0x22;

/// Every IGMP message is at least this long (type, code, checksum, group).
const MIN_LEN: usize = 8;
/// Fixed part of a version 3 Query, before the source list.
const V3_QUERY_LEN: usize = 12;
/// Fixed part of a version 3 Group Record, before the source list.
const RECORD_HEADER_LEN: usize = 8;
/// Largest value the Max Resp Code / QQIC floating-point form can carry
/// (mantissa 0xf, exponent 7: `0x1f << 10`).
const MAX_FLOAT_VALUE: u32 = 31_744;

/// A decoded IGMP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Membership Query, any version.
    Query(Query),
    /// IGMPv1 Membership Report (RFC 1112 Appendix I).
    V1Report { group: Ipv4Addr },
    /// IGMPv2 Membership Report (RFC 2236 §2).
    V2Report { group: Ipv4Addr },
    /// IGMPv2 Leave Group (RFC 2236 §2).
    Leave { group: Ipv4Addr },
    /// IGMPv3 Membership Report (RFC 3376 §4.2), its group records in order.
    V3Report(Vec<GroupRecord>),
}

/// A Membership Query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Max Resp Time in tenths of a second. Version 3 carries it in the
    /// floating-point Max Resp Code form (RFC 3376 §4.1.1); version 1 always
    /// has 0 (hosts then use 10 s, RFC 2236 §4).
    pub max_resp_ds: u16,
    /// 0.0.0.0 for a General Query, otherwise the group queried.
    pub group: Ipv4Addr,
    /// 1, 2 or 3, from the length and Max Resp Code (RFC 3376 §7.1).
    /// [`Message::encode`] writes version 1 and 2 in the 8-byte form and any
    /// other value as version 3.
    pub version: u8,
    /// Suppress Router-Side Processing (version 3 only).
    pub s_flag: bool,
    /// Querier's Robustness Variable, 0..=7; 0 means "more than 7"
    /// (version 3 only, RFC 3376 §4.1.6).
    pub qrv: u8,
    /// Querier's Query Interval in seconds, decoded from QQIC (version 3
    /// only, RFC 3376 §4.1.7).
    pub qqic_s: u32,
    /// Sources of a Group-and-Source-Specific Query (version 3 only).
    pub sources: Vec<Ipv4Addr>,
}

/// Group Record Type (RFC 3376 §4.2.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    /// Current-state record "IS_IN".
    ModeIsInclude = 1,
    /// Current-state record "IS_EX".
    ModeIsExclude = 2,
    /// Filter-mode-change record "TO_IN".
    ChangeToInclude = 3,
    /// Filter-mode-change record "TO_EX".
    ChangeToExclude = 4,
    /// Source-list-change record "ALLOW".
    AllowNewSources = 5,
    /// Source-list-change record "BLOCK".
    BlockOldSources = 6,
}

impl RecordType {
    /// The record type for a wire value, `None` for unknown values.
    pub fn from_u8(v: u8) -> Option<RecordType> {
        Some(match v {
            1 => RecordType::ModeIsInclude,
            2 => RecordType::ModeIsExclude,
            3 => RecordType::ChangeToInclude,
            4 => RecordType::ChangeToExclude,
            5 => RecordType::AllowNewSources,
            6 => RecordType::BlockOldSources,
            _ => return None,
        })
    }
}

/// One Group Record of a version 3 Report. Auxiliary data is dropped on
/// decode and never encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    pub kind: RecordType,
    pub group: Ipv4Addr,
    pub sources: Vec<Ipv4Addr>,
}

/// Why [`decode`] rejected a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgmpError {
    /// Shorter than 8 bytes, or a version 3 Query or Report whose counts
    /// point past the end.
    Truncated,
    /// The checksum over the whole message does not verify.
    Checksum,
    /// An IGMP type this router does not handle (e.g. DVMRP, mtrace).
    UnknownType(u8),
    /// A Query of 9 to 11 bytes, which RFC 3376 §7.1 says to ignore.
    QueryLength(usize),
}

impl fmt::Display for IgmpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IgmpError::Truncated => write!(f, "IGMP message truncated"),
            IgmpError::Checksum => write!(f, "bad IGMP checksum"),
            IgmpError::UnknownType(t) => write!(f, "unsupported IGMP type {t:#04x}"),
            IgmpError::QueryLength(n) => write!(f, "IGMP query of invalid length {n}"),
        }
    }
}

impl std::error::Error for IgmpError {}

/// Decodes an IGMP message and verifies its checksum, which covers the whole
/// payload (RFC 2236 §2.3, RFC 3376 §4.1.2).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |      Type     | Max Resp Code |           Checksum            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Group Address                         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// Version 1/2 Reports and Leaves longer than 8 bytes are accepted and the
/// extra bytes ignored (RFC 2236 §2.5); so are bytes after a version 3 Query's
/// source list (RFC 3376 §4.1.10) or after the last group record. Group
/// records of an unknown type are skipped (RFC 3376 §4.2.12); the others of
/// the same Report are kept.
pub fn decode(payload: &[u8]) -> Result<Message, IgmpError> {
    if payload.len() < MIN_LEN {
        return Err(IgmpError::Truncated);
    }
    if dataplane::wire::internet(payload, 0) != 0 {
        return Err(IgmpError::Checksum);
    }
    let group = addr(&payload[4..8]);
    match payload[0] {
        TYPE_QUERY => decode_query(payload).map(Message::Query),
        TYPE_V1_REPORT => Ok(Message::V1Report { group }),
        TYPE_V2_REPORT => Ok(Message::V2Report { group }),
        TYPE_LEAVE => Ok(Message::Leave { group }),
        TYPE_V3_REPORT => decode_v3_report(payload).map(Message::V3Report),
        t => Err(IgmpError::UnknownType(t)),
    }
}

/// Version 3 Query (RFC 3376 §4.1); the first 8 bytes are the common header.
///
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Resv  |S| QRV |     QQIC      |     Number of Sources (N)     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  Source Address [1..N]                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
fn decode_query(p: &[u8]) -> Result<Query, IgmpError> {
    let group = addr(&p[4..8]);
    if p.len() == MIN_LEN {
        let code = p[1];
        return Ok(Query {
            max_resp_ds: u16::from(code),
            group,
            version: if code == 0 { 1 } else { 2 },
            s_flag: false,
            qrv: 0,
            qqic_s: 0,
            sources: Vec::new(),
        });
    }
    if p.len() < V3_QUERY_LEN {
        return Err(IgmpError::QueryLength(p.len()));
    }
    let n = usize::from(u16::from_be_bytes([p[10], p[11]]));
    let end = V3_QUERY_LEN + 4 * n;
    if p.len() < end {
        return Err(IgmpError::Truncated);
    }
    Ok(Query {
        max_resp_ds: decode_float(p[1]) as u16,
        group,
        version: 3,
        s_flag: p[8] & 0x08 != 0,
        qrv: p[8] & 0x07,
        qqic_s: decode_float(p[9]),
        sources: p[V3_QUERY_LEN..end].chunks_exact(4).map(addr).collect(),
    })
}

/// Version 3 Report (RFC 3376 §4.2) and its Group Records (§4.2.4).
///
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Type = 0x22  |    Reserved   |           Checksum            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Reserved            |  Number of Group Records (M)  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Record Type  |  Aux Data Len |     Number of Sources (N)     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Multicast Address                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |        Source Address [1..N], then Aux Data (32-bit words)    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
fn decode_v3_report(p: &[u8]) -> Result<Vec<GroupRecord>, IgmpError> {
    let m = usize::from(u16::from_be_bytes([p[6], p[7]]));
    let mut records = Vec::new();
    let mut at = MIN_LEN;
    for _ in 0..m {
        let head = p
            .get(at..at + RECORD_HEADER_LEN)
            .ok_or(IgmpError::Truncated)?;
        let aux_words = usize::from(head[1]);
        let n = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let sources_at = at + RECORD_HEADER_LEN;
        let end = sources_at + 4 * n + 4 * aux_words;
        if p.len() < end {
            return Err(IgmpError::Truncated);
        }
        if let Some(kind) = RecordType::from_u8(head[0]) {
            records.push(GroupRecord {
                kind,
                group: addr(&head[4..8]),
                sources: p[sources_at..sources_at + 4 * n]
                    .chunks_exact(4)
                    .map(addr)
                    .collect(),
            });
        }
        at = end;
    }
    Ok(records)
}

impl Message {
    /// Encodes the message with its checksum.
    ///
    /// Queries of version 1 or 2 are 8 bytes, with the Max Resp Time clamped
    /// to 255 tenths (version 1 sends 0). Other versions give a version 3
    /// Query: Max Resp Code and QQIC in the floating-point form of RFC 3376
    /// §4.1.1/§4.1.7 (rounded down to a representable value, at most 31744),
    /// QRV masked to 3 bits. Source and record counts are capped at 65535.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MIN_LEN);
        match self {
            Message::Query(q) => encode_query(q, &mut out),
            Message::V1Report { group } => header(&mut out, TYPE_V1_REPORT, 0, *group),
            Message::V2Report { group } => header(&mut out, TYPE_V2_REPORT, 0, *group),
            Message::Leave { group } => header(&mut out, TYPE_LEAVE, 0, *group),
            Message::V3Report(records) => {
                let records = &records[..records.len().min(usize::from(u16::MAX))];
                out.extend_from_slice(&[TYPE_V3_REPORT, 0, 0, 0, 0, 0]);
                out.extend_from_slice(&(records.len() as u16).to_be_bytes());
                for r in records {
                    let sources = &r.sources[..r.sources.len().min(usize::from(u16::MAX))];
                    out.push(r.kind as u8);
                    out.push(0); // Aux Data Len
                    out.extend_from_slice(&(sources.len() as u16).to_be_bytes());
                    out.extend_from_slice(&r.group.octets());
                    for s in sources {
                        out.extend_from_slice(&s.octets());
                    }
                }
            }
        }
        let sum = dataplane::wire::internet(&out, 0);
        out[2..4].copy_from_slice(&sum.to_be_bytes());
        out
    }
}

fn encode_query(q: &Query, out: &mut Vec<u8>) {
    match q.version {
        1 => header(out, TYPE_QUERY, 0, q.group),
        2 => {
            let code = q.max_resp_ds.min(255) as u8;
            header(out, TYPE_QUERY, code, q.group);
        }
        _ => {
            let code = encode_float(u32::from(q.max_resp_ds));
            header(out, TYPE_QUERY, code, q.group);
            let sources = &q.sources[..q.sources.len().min(usize::from(u16::MAX))];
            out.push((u8::from(q.s_flag) << 3) | (q.qrv & 0x07));
            out.push(encode_float(q.qqic_s));
            out.extend_from_slice(&(sources.len() as u16).to_be_bytes());
            for s in sources {
                out.extend_from_slice(&s.octets());
            }
        }
    }
}

/// The common 8-byte header with a zero checksum.
fn header(out: &mut Vec<u8>, kind: u8, code: u8, group: Ipv4Addr) {
    out.extend_from_slice(&[kind, code, 0, 0]);
    out.extend_from_slice(&group.octets());
}

/// Max Resp Code / QQIC value (RFC 3376 §4.1.1, §4.1.7): below 128 the code
/// is the value; otherwise `1 | exp (3 bits) | mant (4 bits)` stands for
/// `(mant | 0x10) << (exp + 3)`.
pub fn decode_float(code: u8) -> u32 {
    if code < 0x80 {
        u32::from(code)
    } else {
        let exp = u32::from((code >> 4) & 0x07);
        let mant = u32::from(code & 0x0f);
        (mant | 0x10) << (exp + 3)
    }
}

/// The inverse of [`decode_float`]: the code for the largest representable
/// value not above `value` (values above 31744 give 0xff).
pub fn encode_float(value: u32) -> u8 {
    if value < 0x80 {
        return value as u8;
    }
    let value = value.min(MAX_FLOAT_VALUE);
    // The smallest exponent that brings the mantissa (with its implicit
    // leading bit) into 16..=31.
    let mut exp = 0;
    while value >> (exp + 3) > 0x1f {
        exp += 1;
    }
    let mant = (value >> (exp + 3)) & 0x0f;
    0x80 | ((exp as u8) << 4) | mant as u8
}

fn addr(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 1);
    const S: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);

    fn query(version: u8, max_resp_ds: u16, group: Ipv4Addr) -> Query {
        Query {
            max_resp_ds,
            group,
            version,
            s_flag: false,
            qrv: 0,
            qqic_s: 0,
            sources: Vec::new(),
        }
    }

    /// Writes the checksum of a hand-built message (for malformed inputs).
    fn seal(mut bytes: Vec<u8>) -> Vec<u8> {
        bytes[2] = 0;
        bytes[3] = 0;
        let sum = dataplane::wire::internet(&bytes, 0);
        bytes[2..4].copy_from_slice(&sum.to_be_bytes());
        bytes
    }

    // Checksums are computed by hand: sum of 16-bit words, carries folded,
    // complemented.

    // 0x1164 -> !0x1164 = 0xee9b.
    #[test]
    fn v2_general_query_bytes() {
        let bytes = Message::Query(query(2, 100, Ipv4Addr::UNSPECIFIED)).encode();
        assert_eq!(bytes, [0x11, 0x64, 0xee, 0x9b, 0, 0, 0, 0]);
        assert_eq!(
            decode(&bytes).unwrap(),
            Message::Query(query(2, 100, Ipv4Addr::UNSPECIFIED))
        );
    }

    // 0x1100 -> 0xeeff; the 8-byte form with code 0 is a version 1 query.
    #[test]
    fn v1_query_bytes() {
        let bytes = Message::Query(query(1, 100, Ipv4Addr::UNSPECIFIED)).encode();
        assert_eq!(bytes, [0x11, 0x00, 0xee, 0xff, 0, 0, 0, 0]);
        assert_eq!(
            decode(&bytes).unwrap(),
            Message::Query(query(1, 0, Ipv4Addr::UNSPECIFIED))
        );
    }

    // 0x1600 + 0xef01 + 0x0101 = 0x10602 -> 0x0603 -> 0xf9fc.
    #[test]
    fn v2_report_bytes() {
        let bytes = Message::V2Report { group: G }.encode();
        assert_eq!(bytes, [0x16, 0x00, 0xf9, 0xfc, 239, 1, 1, 1]);
        assert_eq!(decode(&bytes).unwrap(), Message::V2Report { group: G });
    }

    // 0x1700 + 0xef01 + 0x0101 = 0x10702 -> 0x0703 -> 0xf8fc.
    #[test]
    fn leave_bytes() {
        let bytes = Message::Leave { group: G }.encode();
        assert_eq!(bytes, [0x17, 0x00, 0xf8, 0xfc, 239, 1, 1, 1]);
        assert_eq!(decode(&bytes).unwrap(), Message::Leave { group: G });
    }

    // 0x1200 + 0xef01 + 0x0101 = 0x10202 -> 0x0203 -> 0xfdfc.
    #[test]
    fn v1_report_bytes() {
        let bytes = Message::V1Report { group: G }.encode();
        assert_eq!(bytes, [0x12, 0x00, 0xfd, 0xfc, 239, 1, 1, 1]);
        assert_eq!(decode(&bytes).unwrap(), Message::V1Report { group: G });
    }

    // 0x1164 + 0x027d = 0x13e1 -> 0xec1e.
    #[test]
    fn v3_general_query_bytes() {
        let q = Query {
            qrv: 2,
            qqic_s: 125,
            ..query(3, 100, Ipv4Addr::UNSPECIFIED)
        };
        let bytes = Message::Query(q.clone()).encode();
        assert_eq!(
            bytes,
            [0x11, 0x64, 0xec, 0x1e, 0, 0, 0, 0, 0x02, 0x7d, 0, 0]
        );
        assert_eq!(decode(&bytes).unwrap(), Message::Query(q));
    }

    // 0x110a + 0xef01 + 0x0101 + 0x0a3c + 0x0001 + 0x0a00 + 0x0005 = 0x1154e
    // -> 0x154f -> 0xeab0.
    #[test]
    fn v3_group_and_source_query_bytes() {
        let q = Query {
            s_flag: true,
            qrv: 2,
            qqic_s: 60,
            sources: vec![S],
            ..query(3, 10, G)
        };
        let bytes = Message::Query(q.clone()).encode();
        assert_eq!(
            bytes,
            [0x11, 0x0a, 0xea, 0xb0, 239, 1, 1, 1, 0x0a, 0x3c, 0x00, 0x01, 10, 0, 0, 5]
        );
        assert_eq!(decode(&bytes).unwrap(), Message::Query(q));
    }

    // Max Resp 3000 ds: 3000 >> 7 = 23 = 0x10 | 7, exp 4 -> code 0xc7, which
    // stands for 23 << 7 = 2944. QQIC 300 s: 300 >> 4 = 18, exp 1 -> 0x92 =
    // 288 s. 0x11c7 + 0x0292 = 0x1459 -> 0xeba6.
    #[test]
    fn v3_query_float_codes_on_the_wire() {
        let q = Query {
            qrv: 2,
            qqic_s: 300,
            ..query(3, 3000, Ipv4Addr::UNSPECIFIED)
        };
        let bytes = Message::Query(q).encode();
        assert_eq!(
            bytes,
            [0x11, 0xc7, 0xeb, 0xa6, 0, 0, 0, 0, 0x02, 0x92, 0, 0]
        );
        let Message::Query(back) = decode(&bytes).unwrap() else {
            panic!("not a query");
        };
        assert_eq!(
            (back.max_resp_ds, back.qqic_s, back.version),
            (2944, 288, 3)
        );
    }

    #[test]
    fn float_code_values() {
        assert_eq!(encode_float(0), 0);
        assert_eq!(encode_float(127), 0x7f);
        assert_eq!(encode_float(128), 0x80);
        assert_eq!(decode_float(0x80), 128);
        assert_eq!(encode_float(200), 0x89);
        assert_eq!(decode_float(0x89), 200);
        assert_eq!(encode_float(255), 0x8f);
        assert_eq!(decode_float(0x8f), 248);
        assert_eq!(encode_float(256), 0x90);
        assert_eq!(encode_float(1000), 0xaf);
        assert_eq!(decode_float(0xaf), 992);
        assert_eq!(encode_float(31_744), 0xff);
        assert_eq!(encode_float(u32::MAX), 0xff);
        assert_eq!(decode_float(0xff), 31_744);
        // Every code survives a decode/encode round trip.
        for code in 0..=255u8 {
            assert_eq!(encode_float(decode_float(code)), code);
        }
        // Every value is rounded down to the nearest representable one.
        for v in 0..40_000u32 {
            let d = decode_float(encode_float(v));
            assert!(d <= v);
            assert!(v.min(MAX_FLOAT_VALUE) - d < (d >> 4).max(1));
        }
    }

    // 0x2200 + 0x0002 + 0x0400 + 0xef01 + 0x0101 + 0x0500 + 0x0001 + 0xe801
    // + 0x0101 + 0x0a00 + 0x0005 = 0x20e0c -> 0x0e0e -> 0xf1f1.
    #[test]
    fn v3_report_bytes() {
        let msg = Message::V3Report(vec![
            GroupRecord {
                kind: RecordType::ChangeToExclude,
                group: G,
                sources: vec![],
            },
            GroupRecord {
                kind: RecordType::AllowNewSources,
                group: Ipv4Addr::new(232, 1, 1, 1),
                sources: vec![S],
            },
        ]);
        let bytes = msg.encode();
        assert_eq!(
            bytes,
            [
                0x22, 0, 0xf1, 0xf1, 0, 0, 0, 2, //
                4, 0, 0, 0, 239, 1, 1, 1, //
                5, 0, 0, 1, 232, 1, 1, 1, 10, 0, 0, 5
            ]
        );
        assert_eq!(decode(&bytes).unwrap(), msg);
    }

    #[test]
    fn v3_report_skips_unknown_record_types_and_aux_data() {
        let bytes = seal(vec![
            0x22, 0, 0, 0, 0, 0, 0, 2, //
            7, 1, 0, 1, 239, 1, 1, 1, 10, 0, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd, //
            2, 1, 0, 0, 239, 2, 2, 2, 1, 2, 3, 4,
        ]);
        assert_eq!(
            decode(&bytes).unwrap(),
            Message::V3Report(vec![GroupRecord {
                kind: RecordType::ModeIsExclude,
                group: Ipv4Addr::new(239, 2, 2, 2),
                sources: vec![],
            }])
        );
    }

    #[test]
    fn decode_errors() {
        assert_eq!(decode(&[0x16, 0, 0, 0]), Err(IgmpError::Truncated));
        assert_eq!(
            decode(&[0x16, 0x00, 0xf9, 0xfd, 239, 1, 1, 1]),
            Err(IgmpError::Checksum)
        );
        let mtrace = seal(vec![0x1f, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(decode(&mtrace), Err(IgmpError::UnknownType(0x1f)));
        let ten = seal(vec![0x11, 0x64, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(decode(&ten), Err(IgmpError::QueryLength(10)));
        // A v3 query announcing two sources but carrying one.
        let short_query = seal(vec![0x11, 0x64, 0, 0, 0, 0, 0, 0, 2, 60, 0, 2, 10, 0, 0, 1]);
        assert_eq!(decode(&short_query), Err(IgmpError::Truncated));
        // A v3 report announcing two records but carrying one.
        let short_report = seal(vec![0x22, 0, 0, 0, 0, 0, 0, 2, 4, 0, 0, 0, 239, 1, 1, 1]);
        assert_eq!(decode(&short_report), Err(IgmpError::Truncated));
        // A record whose source count runs past the end.
        let short_record = seal(vec![0x22, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 239, 1, 1, 1]);
        assert_eq!(decode(&short_record), Err(IgmpError::Truncated));
        assert_eq!(
            IgmpError::UnknownType(0x1f).to_string(),
            "unsupported IGMP type 0x1f"
        );
    }

    #[test]
    fn trailing_bytes_are_ignored_but_checksummed() {
        let report = seal(vec![0x16, 0, 0, 0, 239, 1, 1, 1, 0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(decode(&report).unwrap(), Message::V2Report { group: G });
        let mut bad = report.clone();
        bad[11] ^= 1;
        assert_eq!(decode(&bad), Err(IgmpError::Checksum));
        let query = seal(vec![0x11, 0x64, 0, 0, 0, 0, 0, 0, 2, 60, 0, 0, 0xff]);
        let Message::Query(q) = decode(&query).unwrap() else {
            panic!("not a query");
        };
        assert_eq!((q.version, q.qrv, q.qqic_s), (3, 2, 60));
    }

    #[test]
    fn round_trips() {
        let msgs = [
            Message::Query(Query {
                s_flag: true,
                qrv: 7,
                qqic_s: 31_744,
                sources: vec![S, Ipv4Addr::new(192, 0, 2, 9)],
                ..query(3, 31_744, G)
            }),
            Message::Query(query(2, 255, G)),
            Message::V3Report(vec![]),
            Message::V3Report(vec![GroupRecord {
                kind: RecordType::BlockOldSources,
                group: G,
                sources: vec![S, S],
            }]),
        ];
        for m in msgs {
            assert_eq!(decode(&m.encode()).unwrap(), m);
        }
        // Values outside the wire range are clamped.
        let Message::Query(q) = decode(&Message::Query(query(2, 1000, G)).encode()).unwrap() else {
            panic!("not a query");
        };
        assert_eq!(q.max_resp_ds, 255);
    }
}
