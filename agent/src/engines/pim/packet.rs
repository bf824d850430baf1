//! PIM version 2 wire formats over IPv4 (RFC 7761 §4.9): the common header,
//! Hello with its options, Join/Prune and Assert, plus the encoded address
//! formats of §4.9.1. [`register`] holds Register and Register-Stop, [`bootstrap`]
//! the BSR messages (Bootstrap, Candidate-RP-Advertisement); [`Pdu`] decodes all of them.
//!
//! Everything here is pure byte manipulation on the PIM message (what
//! follows the IPv4 header): no sockets, no clocks. The IP layer sends with
//! protocol [`IPPROTO_PIM`] and TTL 1 to [`ALL_PIM_ROUTERS`].
//!
//! About 650 lines: the codec of every PIM-SM message type this device handles, which share
//! the encoded-address formats of RFC 7761 §4.9.1.

use std::fmt;
use std::net::Ipv4Addr;

pub mod bootstrap;
mod pdu;
#[cfg(test)]
mod proptests;
pub mod register;

pub use bootstrap::{Bootstrap, BsmGroup, BsmRp, CandidateRpAdv};
pub use pdu::Pdu;
pub use register::{Register, RegisterStop};

/// IP protocol number of PIM.
pub const IPPROTO_PIM: u8 = 103;
/// ALL-PIM-ROUTERS (RFC 7761 §4.9): destination of Hello, Join/Prune and
/// Assert messages.
pub const ALL_PIM_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 13);
/// The only PIM version handled.
pub const PIM_VERSION: u8 = 2;

/// PIM message type Hello (RFC 7761 §4.9).
pub const TYPE_HELLO: u8 = 0;
/// PIM message type Register (decoded by [`Pdu::decode`], refused by [`Message::decode`]).
pub const TYPE_REGISTER: u8 = 1;
/// PIM message type Register-Stop.
pub const TYPE_REGISTER_STOP: u8 = 2;
/// PIM message type Join/Prune.
pub const TYPE_JOIN_PRUNE: u8 = 3;
/// PIM message type Bootstrap (RFC 5059).
pub const TYPE_BOOTSTRAP: u8 = 4;
/// PIM message type Assert.
pub const TYPE_ASSERT: u8 = 5;
/// PIM message type Candidate-RP-Advertisement.
pub const TYPE_CANDIDATE_RP_ADV: u8 = 8;

/// Hello option Holdtime (RFC 7761 §4.9.2).
pub const OPT_HOLDTIME: u16 = 1;
/// Hello option LAN Prune Delay.
pub const OPT_LAN_PRUNE_DELAY: u16 = 2;
/// Hello option DR Priority.
pub const OPT_DR_PRIORITY: u16 = 19;
/// Hello option Generation ID.
pub const OPT_GENERATION_ID: u16 = 20;
/// Hello option Address List (secondary addresses, §4.3.4).
pub const OPT_ADDRESS_LIST: u16 = 24;

/// Hello holdtime meaning "never time this neighbor out" (§4.9.2).
pub const HOLDTIME_INFINITE: u16 = 0xffff;

/// Address family numbers (IANA) used in encoded addresses (§4.9.1).
const AF_IPV4: u8 = 1;
const AF_IPV6: u8 = 2;
/// The native encoding of the family (§4.9.1).
const ENCODING_NATIVE: u8 = 0;

const HEADER_LEN: usize = 4;
const ENC_UNICAST_LEN: usize = 6;
const ENC_GROUP_LEN: usize = 8;
const ENC_SOURCE_LEN: usize = 8;
/// Join/Prune fixed part after the header: upstream neighbor, reserved,
/// number of groups, holdtime.
const JP_FIXED_LEN: usize = ENC_UNICAST_LEN + 4;
/// Per group record: encoded group, number of joined and pruned sources.
const JP_GROUP_FIXED_LEN: usize = ENC_GROUP_LEN + 4;

/// Encoded-Group flag bits (§4.9.1).
const GROUP_FLAG_BIDIR: u8 = 0x80;
const GROUP_FLAG_ZONE: u8 = 0x01;
/// Encoded-Source flag bits (§4.9.1).
const SOURCE_FLAG_SPARSE: u8 = 0x04;
const SOURCE_FLAG_WILDCARD: u8 = 0x02;
const SOURCE_FLAG_RPT: u8 = 0x01;

/// The R bit in front of the Assert metric preference (§4.9.6).
const ASSERT_RPT_BIT: u32 = 0x8000_0000;

/// Why a PIM message was rejected by [`Message::decode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketError {
    /// Fewer bytes than the header, or a field runs past the end.
    Short,
    /// PIM version other than 2.
    Version(u8),
    /// A message type this implementation does not handle (Register,
    /// Register-Stop, Bootstrap, Graft, Candidate-RP-Advertisement, ...).
    UnsupportedType(u8),
    /// The checksum does not verify.
    Checksum,
    /// An encoded address of a family other than IPv4 where IPv4 is needed.
    AddressFamily(u8),
    /// An encoded address with a non-native encoding type.
    EncodingType(u8),
    /// A known Hello option with a length it cannot have.
    OptionLength { option: u16, length: u16 },
    /// A Register whose inner packet is not an IPv4 packet to a multicast group.
    InnerPacket,
}

impl fmt::Display for PacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PacketError::Short => write!(f, "PIM message truncated"),
            PacketError::Version(v) => write!(f, "unsupported PIM version {v}"),
            PacketError::UnsupportedType(t) => write!(f, "unsupported PIM message type {t}"),
            PacketError::Checksum => write!(f, "bad PIM checksum"),
            PacketError::AddressFamily(a) => {
                write!(f, "unsupported address family {a} in PIM encoded address")
            }
            PacketError::EncodingType(e) => {
                write!(f, "unsupported encoding type {e} in PIM encoded address")
            }
            PacketError::OptionLength { option, length } => {
                write!(f, "PIM Hello option {option} with bad length {length}")
            }
            PacketError::InnerPacket => {
                write!(f, "PIM Register without an IPv4 multicast packet inside")
            }
        }
    }
}

impl std::error::Error for PacketError {}

/// LAN Prune Delay option value (§4.9.2, option 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LanPruneDelay {
    /// T bit: the sender can disable Join suppression.
    pub tracking: bool,
    /// Propagation_Delay in milliseconds (15 bits).
    pub propagation_delay_ms: u16,
    /// Override_Interval in milliseconds.
    pub override_interval_ms: u16,
}

/// A Hello message (§4.9.2). Options not listed here are skipped on
/// decode and never encoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hello {
    /// Holdtime option, in seconds; [`HOLDTIME_INFINITE`] = never expire,
    /// 0 = the sender is going away. `None` = option absent (the receiver
    /// then uses the default Hello holdtime).
    pub holdtime: Option<u16>,
    /// LAN Prune Delay option.
    pub lan_prune_delay: Option<LanPruneDelay>,
    /// DR Priority option.
    pub dr_priority: Option<u32>,
    /// Generation ID option.
    pub generation_id: Option<u32>,
    /// Address List option (secondary addresses of the sender); entries of
    /// other families are dropped on decode. Encoded only when non-empty.
    pub secondary_addresses: Vec<Ipv4Addr>,
}

/// Encoded-Group address (§4.9.1), IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EncodedGroup {
    pub address: Ipv4Addr,
    /// Mask length: 32 for a single group.
    pub mask_len: u8,
    /// B bit (BIDIR-PIM group range).
    pub bidir: bool,
    /// Z bit (admin scope zone).
    pub zone: bool,
}

impl EncodedGroup {
    /// One group: mask length 32, no flags.
    pub fn host(address: Ipv4Addr) -> EncodedGroup {
        EncodedGroup {
            address,
            mask_len: 32,
            bidir: false,
            zone: false,
        }
    }
}

/// Encoded-Source address (§4.9.1), IPv4, as used in Join/Prune lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EncodedSource {
    pub address: Ipv4Addr,
    /// Mask length: 32 for a source.
    pub mask_len: u8,
    /// S bit (Sparse, always 1 for PIM-SM).
    pub sparse: bool,
    /// W bit (WildCard: a (*,G) entry, the address is the RP).
    pub wildcard: bool,
    /// R bit (RPT: sent toward the RP).
    pub rpt: bool,
}

impl EncodedSource {
    /// The (*,G) entry: the RP address with S, W and R set (§4.9.5.1).
    pub fn wildcard_rp(rp: Ipv4Addr) -> EncodedSource {
        EncodedSource {
            address: rp,
            mask_len: 32,
            sparse: true,
            wildcard: true,
            rpt: true,
        }
    }

    /// An (S,G) entry: the source with S set, W and R clear (§4.9.5.1).
    pub fn source(source: Ipv4Addr) -> EncodedSource {
        EncodedSource {
            address: source,
            mask_len: 32,
            sparse: true,
            wildcard: false,
            rpt: false,
        }
    }
}

/// One group record of a Join/Prune message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JpGroup {
    pub group: EncodedGroup,
    /// Joined sources (at most 65535 are encoded).
    pub joins: Vec<EncodedSource>,
    /// Pruned sources (at most 65535 are encoded).
    pub prunes: Vec<EncodedSource>,
}

/// A Join/Prune message (§4.9.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinPrune {
    /// The router the message is meant for (RPF'), although it is sent to
    /// ALL-PIM-ROUTERS.
    pub upstream_neighbor: Ipv4Addr,
    /// How long the receiver keeps the state, in seconds (0xffff = forever).
    pub holdtime: u16,
    /// Group records (at most 255 are encoded).
    pub groups: Vec<JpGroup>,
}

impl JoinPrune {
    /// Length of the encoded message, header included.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN
            + JP_FIXED_LEN
            + self
                .groups
                .iter()
                .take(255)
                .map(JpGroup::encoded_len)
                .sum::<usize>()
    }
}

impl JpGroup {
    /// Length of this group record on the wire.
    pub fn encoded_len(&self) -> usize {
        JP_GROUP_FIXED_LEN
            + ENC_SOURCE_LEN * (self.joins.len().min(0xffff) + self.prunes.len().min(0xffff))
    }
}

/// Join/Prune messages toward `upstream_neighbor` carrying `entries` ((group, source) pairs
/// in group order) as joins (`join`) or prunes, as few as fit: each at most `max_len` bytes
/// (PIM header included) and 255 group records.
pub fn pack_join_prune(
    upstream_neighbor: Ipv4Addr,
    holdtime: u16,
    entries: impl IntoIterator<Item = (Ipv4Addr, EncodedSource)>,
    join: bool,
    max_len: usize,
) -> Vec<JoinPrune> {
    let empty = || JoinPrune {
        upstream_neighbor,
        holdtime,
        groups: Vec::new(),
    };
    let mut out = Vec::new();
    let mut msg = empty();
    let mut len = msg.encoded_len();
    for (group, s) in entries {
        let mut open = msg.groups.last().is_some_and(|g| g.group.address == group);
        let cost = ENC_SOURCE_LEN + if open { 0 } else { JP_GROUP_FIXED_LEN };
        if !msg.groups.is_empty() && (len + cost > max_len || (!open && msg.groups.len() == 255)) {
            out.push(std::mem::replace(&mut msg, empty()));
            len = msg.encoded_len();
            open = false;
        }
        if !open {
            msg.groups.push(JpGroup {
                group: EncodedGroup::host(group),
                joins: Vec::new(),
                prunes: Vec::new(),
            });
            len += JP_GROUP_FIXED_LEN;
        }
        if let Some(rec) = msg.groups.last_mut() {
            if join {
                rec.joins.push(s);
            } else {
                rec.prunes.push(s);
            }
        }
        len += ENC_SOURCE_LEN;
    }
    if !msg.groups.is_empty() {
        out.push(msg);
    }
    out
}

/// An Assert message (§4.9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assert {
    pub group: EncodedGroup,
    /// The source; 0.0.0.0 in a (*,G) Assert sent by this implementation.
    pub source: Ipv4Addr,
    /// R bit: the metric is toward the RP (a (*,G) Assert).
    pub rpt: bool,
    /// Metric preference (31 bits; higher bits are dropped on encode).
    pub metric_preference: u32,
    pub metric: u32,
}

impl Assert {
    /// AssertCancel: an Assert with infinite metric (§4.6.1, R bit set).
    pub fn is_cancel(&self) -> bool {
        self.metric_preference & !ASSERT_RPT_BIT == 0x7fff_ffff && self.metric == u32::MAX
    }
}

/// A decoded PIM message of a supported type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Hello(Hello),
    JoinPrune(JoinPrune),
    Assert(Assert),
}

/// The message type of a PIM version 2 message, once its common header is there and names
/// version 2 (RFC 7761 §4.9); the checksum is the caller's, as its coverage depends on the type.
pub(crate) fn header_type(bytes: &[u8]) -> Result<u8, PacketError> {
    if bytes.len() < HEADER_LEN {
        return Err(PacketError::Short);
    }
    let version = bytes[0] >> 4;
    if version != PIM_VERSION {
        return Err(PacketError::Version(version));
    }
    Ok(bytes[0] & 0x0f)
}

impl Message {
    /// The PIM message type number.
    pub fn message_type(&self) -> u8 {
        match self {
            Message::Hello(_) => TYPE_HELLO,
            Message::JoinPrune(_) => TYPE_JOIN_PRUNE,
            Message::Assert(_) => TYPE_ASSERT,
        }
    }

    /// Encodes the message with its header and checksum (over the whole
    /// message, §4.9).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![(PIM_VERSION << 4) | self.message_type(), 0, 0, 0];
        match self {
            Message::Hello(h) => encode_hello(h, &mut out),
            Message::JoinPrune(jp) => encode_join_prune(jp, &mut out),
            Message::Assert(a) => encode_assert(a, &mut out),
        }
        let sum = dataplane::wire::internet(&out, 0);
        out[2..4].copy_from_slice(&sum.to_be_bytes());
        out
    }

    /// Decodes and validates a PIM message (what follows the IPv4 header).
    /// Bytes after the last field of a Join/Prune or Assert are ignored.
    pub fn decode(bytes: &[u8]) -> Result<Message, PacketError> {
        let typ = header_type(bytes)?;
        if !matches!(typ, TYPE_HELLO | TYPE_JOIN_PRUNE | TYPE_ASSERT) {
            return Err(PacketError::UnsupportedType(typ));
        }
        if dataplane::wire::internet(bytes, 0) != 0 {
            return Err(PacketError::Checksum);
        }
        let mut r = Reader {
            buf: &bytes[HEADER_LEN..],
        };
        match typ {
            TYPE_HELLO => decode_hello(&mut r).map(Message::Hello),
            TYPE_JOIN_PRUNE => decode_join_prune(&mut r).map(Message::JoinPrune),
            _ => decode_assert(&mut r).map(Message::Assert),
        }
    }
}

// ---- encoding -------------------------------------------------------------

fn put_option(out: &mut Vec<u8>, option: u16, value: &[u8]) {
    out.extend_from_slice(&option.to_be_bytes());
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
}

fn put_unicast(out: &mut Vec<u8>, a: Ipv4Addr) {
    out.push(AF_IPV4);
    out.push(ENCODING_NATIVE);
    out.extend_from_slice(&a.octets());
}

fn put_group(out: &mut Vec<u8>, g: &EncodedGroup) {
    out.push(AF_IPV4);
    out.push(ENCODING_NATIVE);
    let mut flags = 0;
    if g.bidir {
        flags |= GROUP_FLAG_BIDIR;
    }
    if g.zone {
        flags |= GROUP_FLAG_ZONE;
    }
    out.push(flags);
    out.push(g.mask_len);
    out.extend_from_slice(&g.address.octets());
}

fn put_source(out: &mut Vec<u8>, s: &EncodedSource) {
    out.push(AF_IPV4);
    out.push(ENCODING_NATIVE);
    let mut flags = 0;
    if s.sparse {
        flags |= SOURCE_FLAG_SPARSE;
    }
    if s.wildcard {
        flags |= SOURCE_FLAG_WILDCARD;
    }
    if s.rpt {
        flags |= SOURCE_FLAG_RPT;
    }
    out.push(flags);
    out.push(s.mask_len);
    out.extend_from_slice(&s.address.octets());
}

/// Options in ascending type order: Holdtime, LAN Prune Delay, DR Priority,
/// Generation ID, Address List.
fn encode_hello(h: &Hello, out: &mut Vec<u8>) {
    if let Some(t) = h.holdtime {
        put_option(out, OPT_HOLDTIME, &t.to_be_bytes());
    }
    if let Some(d) = h.lan_prune_delay {
        let first = (d.propagation_delay_ms & 0x7fff) | if d.tracking { 0x8000 } else { 0 };
        let mut v = [0u8; 4];
        v[0..2].copy_from_slice(&first.to_be_bytes());
        v[2..4].copy_from_slice(&d.override_interval_ms.to_be_bytes());
        put_option(out, OPT_LAN_PRUNE_DELAY, &v);
    }
    if let Some(p) = h.dr_priority {
        put_option(out, OPT_DR_PRIORITY, &p.to_be_bytes());
    }
    if let Some(g) = h.generation_id {
        put_option(out, OPT_GENERATION_ID, &g.to_be_bytes());
    }
    if !h.secondary_addresses.is_empty() {
        // The option length is 16 bits: at most 10922 six-byte entries.
        let mut v = Vec::new();
        for a in h.secondary_addresses.iter().take(0xffff / ENC_UNICAST_LEN) {
            put_unicast(&mut v, *a);
        }
        put_option(out, OPT_ADDRESS_LIST, &v);
    }
}

fn encode_join_prune(jp: &JoinPrune, out: &mut Vec<u8>) {
    put_unicast(out, jp.upstream_neighbor);
    out.push(0); // reserved
    let groups = &jp.groups[..jp.groups.len().min(255)];
    out.push(groups.len() as u8);
    out.extend_from_slice(&jp.holdtime.to_be_bytes());
    for g in groups {
        put_group(out, &g.group);
        let joins = &g.joins[..g.joins.len().min(0xffff)];
        let prunes = &g.prunes[..g.prunes.len().min(0xffff)];
        out.extend_from_slice(&(joins.len() as u16).to_be_bytes());
        out.extend_from_slice(&(prunes.len() as u16).to_be_bytes());
        for s in joins.iter().chain(prunes) {
            put_source(out, s);
        }
    }
}

fn encode_assert(a: &Assert, out: &mut Vec<u8>) {
    put_group(out, &a.group);
    put_unicast(out, a.source);
    let pref = (a.metric_preference & !ASSERT_RPT_BIT) | if a.rpt { ASSERT_RPT_BIT } else { 0 };
    out.extend_from_slice(&pref.to_be_bytes());
    out.extend_from_slice(&a.metric.to_be_bytes());
}

// ---- decoding -------------------------------------------------------------

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PacketError> {
        if self.buf.len() < n {
            return Err(PacketError::Short);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, PacketError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, PacketError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, PacketError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn ipv4(&mut self) -> Result<Ipv4Addr, PacketError> {
        let b = self.take(4)?;
        Ok(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }

    fn family(&mut self) -> Result<(), PacketError> {
        let family = self.u8()?;
        let encoding = self.u8()?;
        if family != AF_IPV4 {
            return Err(PacketError::AddressFamily(family));
        }
        if encoding != ENCODING_NATIVE {
            return Err(PacketError::EncodingType(encoding));
        }
        Ok(())
    }

    fn unicast(&mut self) -> Result<Ipv4Addr, PacketError> {
        self.family()?;
        self.ipv4()
    }

    fn group(&mut self) -> Result<EncodedGroup, PacketError> {
        self.family()?;
        let flags = self.u8()?;
        let mask_len = self.u8()?;
        Ok(EncodedGroup {
            address: self.ipv4()?,
            mask_len,
            bidir: flags & GROUP_FLAG_BIDIR != 0,
            zone: flags & GROUP_FLAG_ZONE != 0,
        })
    }

    fn source(&mut self) -> Result<EncodedSource, PacketError> {
        self.family()?;
        let flags = self.u8()?;
        let mask_len = self.u8()?;
        Ok(EncodedSource {
            address: self.ipv4()?,
            mask_len,
            sparse: flags & SOURCE_FLAG_SPARSE != 0,
            wildcard: flags & SOURCE_FLAG_WILDCARD != 0,
            rpt: flags & SOURCE_FLAG_RPT != 0,
        })
    }
}

fn decode_hello(r: &mut Reader<'_>) -> Result<Hello, PacketError> {
    let mut h = Hello::default();
    while !r.buf.is_empty() {
        let option = r.u16()?;
        let length = r.u16()?;
        let value = r.take(usize::from(length))?;
        let bad = PacketError::OptionLength { option, length };
        match option {
            OPT_HOLDTIME => {
                let v: [u8; 2] = value.try_into().map_err(|_| bad)?;
                h.holdtime = Some(u16::from_be_bytes(v));
            }
            OPT_LAN_PRUNE_DELAY => {
                let v: [u8; 4] = value.try_into().map_err(|_| bad)?;
                let first = u16::from_be_bytes([v[0], v[1]]);
                h.lan_prune_delay = Some(LanPruneDelay {
                    tracking: first & 0x8000 != 0,
                    propagation_delay_ms: first & 0x7fff,
                    override_interval_ms: u16::from_be_bytes([v[2], v[3]]),
                });
            }
            OPT_DR_PRIORITY => {
                let v: [u8; 4] = value.try_into().map_err(|_| bad)?;
                h.dr_priority = Some(u32::from_be_bytes(v));
            }
            OPT_GENERATION_ID => {
                let v: [u8; 4] = value.try_into().map_err(|_| bad)?;
                h.generation_id = Some(u32::from_be_bytes(v));
            }
            OPT_ADDRESS_LIST => h.secondary_addresses.extend(address_list(value)),
            _ => {} // unknown options are skipped (§4.9.2)
        }
    }
    Ok(h)
}

/// The IPv4 entries of an Address List option. IPv6 entries are skipped; an
/// entry of an unknown family or encoding ends the list (its length is
/// unknown), keeping what was read before.
fn address_list(mut value: &[u8]) -> Vec<Ipv4Addr> {
    let mut out = Vec::new();
    while value.len() >= 2 {
        let len = match (value[0], value[1]) {
            (AF_IPV4, ENCODING_NATIVE) => 4,
            (AF_IPV6, ENCODING_NATIVE) => 16,
            _ => break,
        };
        if value.len() < 2 + len {
            break;
        }
        if len == 4 {
            out.push(Ipv4Addr::new(value[2], value[3], value[4], value[5]));
        }
        value = &value[2 + len..];
    }
    out
}

fn decode_join_prune(r: &mut Reader<'_>) -> Result<JoinPrune, PacketError> {
    let upstream_neighbor = r.unicast()?;
    let _reserved = r.u8()?;
    let num_groups = r.u8()?;
    let holdtime = r.u16()?;
    let mut groups = Vec::with_capacity(usize::from(num_groups));
    for _ in 0..num_groups {
        let group = r.group()?;
        let num_joins = r.u16()?;
        let num_prunes = r.u16()?;
        let joins = (0..num_joins)
            .map(|_| r.source())
            .collect::<Result<Vec<_>, _>>()?;
        let prunes = (0..num_prunes)
            .map(|_| r.source())
            .collect::<Result<Vec<_>, _>>()?;
        groups.push(JpGroup {
            group,
            joins,
            prunes,
        });
    }
    Ok(JoinPrune {
        upstream_neighbor,
        holdtime,
        groups,
    })
}

fn decode_assert(r: &mut Reader<'_>) -> Result<Assert, PacketError> {
    let group = r.group()?;
    let source = r.unicast()?;
    let pref = r.u32()?;
    let metric = r.u32()?;
    Ok(Assert {
        group,
        source,
        rpt: pref & ASSERT_RPT_BIT != 0,
        metric_preference: pref & !ASSERT_RPT_BIT,
        metric,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROUP: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 1);

    /// Hello from a router with the defaults and GenID 0x12345678. The
    /// checksum was summed by hand: the 16-bit words add up to 0x9506,
    /// whose complement is 0x6af9.
    const HELLO: [u8; 34] = [
        0x20, 0x00, 0x6a, 0xf9, // v2, type 0, checksum
        0x00, 0x01, 0x00, 0x02, 0x00, 0x69, // holdtime 105
        0x00, 0x02, 0x00, 0x04, 0x01, 0xf4, 0x09, 0xc4, // LAN prune delay 500/2500
        0x00, 0x13, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, // DR priority 1
        0x00, 0x14, 0x00, 0x04, 0x12, 0x34, 0x56, 0x78, // GenID
    ];

    fn hello() -> Hello {
        Hello {
            holdtime: Some(105),
            lan_prune_delay: Some(LanPruneDelay {
                tracking: false,
                propagation_delay_ms: 500,
                override_interval_ms: 2500,
            }),
            dr_priority: Some(1),
            generation_id: Some(0x1234_5678),
            secondary_addresses: vec![],
        }
    }

    /// Join(*,G) for 239.1.1.1 via RP 10.9.9.9 to upstream 10.1.0.2,
    /// holdtime 210. Words sum to 0x13b2b, folded 0x3b2c, complement 0xc4d3.
    const JOIN_STAR_G: [u8; 34] = [
        0x23, 0x00, 0xc4, 0xd3, // v2, type 3, checksum
        0x01, 0x00, 10, 1, 0, 2, // upstream neighbor
        0x00, 0x01, 0x00, 0xd2, // reserved, 1 group, holdtime 210
        0x01, 0x00, 0x00, 0x20, 239, 1, 1, 1, // group/32
        0x00, 0x01, 0x00, 0x00, // 1 join, 0 prunes
        0x01, 0x00, 0x07, 0x20, 10, 9, 9, 9, // RP with S|W|R, /32
    ];

    fn join_star_g() -> JoinPrune {
        JoinPrune {
            upstream_neighbor: Ipv4Addr::new(10, 1, 0, 2),
            holdtime: 210,
            groups: vec![JpGroup {
                group: EncodedGroup::host(GROUP),
                joins: vec![EncodedSource::wildcard_rp(Ipv4Addr::new(10, 9, 9, 9))],
                prunes: vec![],
            }],
        }
    }

    /// Assert(S,G) 10.2.2.2/239.1.1.1, preference 110, metric 20. Words sum
    /// to 0x123a8, folded 0x23a9, complement 0xdc56.
    const ASSERT_SG: [u8; 26] = [
        0x25, 0x00, 0xdc, 0x56, // v2, type 5, checksum
        0x01, 0x00, 0x00, 0x20, 239, 1, 1, 1, // group/32
        0x01, 0x00, 10, 2, 2, 2, // source
        0x00, 0x00, 0x00, 0x6e, // R=0, preference 110
        0x00, 0x00, 0x00, 0x14, // metric 20
    ];

    fn assert_sg() -> Assert {
        Assert {
            group: EncodedGroup::host(GROUP),
            source: Ipv4Addr::new(10, 2, 2, 2),
            rpt: false,
            metric_preference: 110,
            metric: 20,
        }
    }

    #[test]
    fn hello_vector() {
        let m = Message::Hello(hello());
        assert_eq!(m.encode(), HELLO);
        assert_eq!(Message::decode(&HELLO), Ok(m));
    }

    #[test]
    fn join_prune_vector() {
        let m = Message::JoinPrune(join_star_g());
        assert_eq!(m.encode(), JOIN_STAR_G);
        assert_eq!(Message::decode(&JOIN_STAR_G), Ok(m.clone()));
        if let Message::JoinPrune(jp) = &m {
            assert_eq!(jp.encoded_len(), JOIN_STAR_G.len());
        }
    }

    #[test]
    fn assert_vector() {
        let m = Message::Assert(assert_sg());
        assert_eq!(m.encode(), ASSERT_SG);
        assert_eq!(Message::decode(&ASSERT_SG), Ok(m));
        assert!(!assert_sg().is_cancel());
    }

    #[test]
    fn assert_cancel_rpt_bit() {
        let a = Assert {
            group: EncodedGroup::host(GROUP),
            source: Ipv4Addr::UNSPECIFIED,
            rpt: true,
            metric_preference: 0x7fff_ffff,
            metric: u32::MAX,
        };
        let bytes = Message::Assert(a).encode();
        assert_eq!(&bytes[18..26], &[0xff; 8]);
        assert_eq!(Message::decode(&bytes), Ok(Message::Assert(a)));
        assert!(a.is_cancel());
    }

    #[test]
    fn join_prune_several_groups_and_prunes_round_trip() {
        let jp = JoinPrune {
            upstream_neighbor: Ipv4Addr::new(10, 1, 0, 2),
            holdtime: 0,
            groups: vec![
                JpGroup {
                    group: EncodedGroup::host(GROUP),
                    joins: vec![EncodedSource::source(Ipv4Addr::new(10, 2, 2, 2))],
                    prunes: vec![EncodedSource::wildcard_rp(Ipv4Addr::new(10, 9, 9, 9))],
                },
                JpGroup {
                    group: EncodedGroup {
                        address: Ipv4Addr::new(239, 0, 0, 0),
                        mask_len: 8,
                        bidir: true,
                        zone: true,
                    },
                    joins: vec![],
                    prunes: vec![EncodedSource::source(Ipv4Addr::new(10, 3, 3, 3))],
                },
            ],
        };
        let bytes = Message::JoinPrune(jp.clone()).encode();
        assert_eq!(bytes.len(), jp.encoded_len());
        // The second group's flags byte carries B and Z.
        assert_eq!(bytes[14 + 12 + 16 + 2], 0x81);
        // An (S,G) source has only the S bit.
        assert_eq!(bytes[14 + 8 + 4 + 2], 0x04);
        assert_eq!(Message::decode(&bytes), Ok(Message::JoinPrune(jp)));
    }

    #[test]
    fn hello_skips_unknown_options_and_reads_address_list() {
        let mut h = hello();
        h.secondary_addresses = vec![Ipv4Addr::new(10, 0, 0, 9)];
        let mut bytes = Message::Hello(h.clone()).encode();
        // Unknown option 65000 with 3 bytes, then an IPv6 entry and a second
        // IPv4 entry in another Address List (both lists are kept).
        bytes.extend_from_slice(&[0xfd, 0xe8, 0x00, 0x03, 1, 2, 3]);
        bytes.extend_from_slice(&[0x00, 0x18, 0x00, 24]);
        bytes.extend_from_slice(&[2, 0]);
        bytes.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        bytes.extend_from_slice(&[1, 0, 10, 0, 0, 10]);
        bytes[2..4].copy_from_slice(&[0, 0]);
        let sum = dataplane::wire::internet(&bytes, 0);
        bytes[2..4].copy_from_slice(&sum.to_be_bytes());
        h.secondary_addresses.push(Ipv4Addr::new(10, 0, 0, 10));
        assert_eq!(Message::decode(&bytes), Ok(Message::Hello(h)));
    }

    #[test]
    fn empty_hello_and_holdtime_zero() {
        let h = Hello {
            holdtime: Some(0),
            ..Hello::default()
        };
        let bytes = Message::Hello(h.clone()).encode();
        assert_eq!(
            bytes,
            [0x20, 0x00, 0xdf, 0xfc, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00]
        );
        assert_eq!(Message::decode(&bytes), Ok(Message::Hello(h)));
        let bare = Message::Hello(Hello::default()).encode();
        assert_eq!(bare, [0x20, 0x00, 0xdf, 0xff]);
        assert_eq!(Message::decode(&bare), Ok(Message::Hello(Hello::default())));
    }

    #[test]
    fn lan_prune_delay_t_bit() {
        let mut h = hello();
        h.lan_prune_delay = Some(LanPruneDelay {
            tracking: true,
            propagation_delay_ms: 0x7fff,
            override_interval_ms: 1,
        });
        let bytes = Message::Hello(h.clone()).encode();
        assert_eq!(&bytes[14..18], &[0xff, 0xff, 0x00, 0x01]);
        assert_eq!(Message::decode(&bytes), Ok(Message::Hello(h)));
    }

    #[test]
    fn decode_errors() {
        assert_eq!(Message::decode(&[0x20, 0]), Err(PacketError::Short));
        let mut v1 = HELLO;
        v1[0] = 0x10;
        assert_eq!(Message::decode(&v1), Err(PacketError::Version(1)));
        // A Register is refused before its (header-only) checksum matters.
        assert_eq!(
            Message::decode(&[0x21, 0, 0, 0, 0, 0, 0, 0]),
            Err(PacketError::UnsupportedType(TYPE_REGISTER))
        );
        let mut bad = HELLO;
        bad[33] ^= 1;
        assert_eq!(Message::decode(&bad), Err(PacketError::Checksum));

        let fix = |mut b: Vec<u8>| {
            b[2..4].copy_from_slice(&[0, 0]);
            let sum = dataplane::wire::internet(&b, 0);
            b[2..4].copy_from_slice(&sum.to_be_bytes());
            b
        };
        // Holdtime option with 4 bytes.
        let b = fix(vec![0x20, 0, 0, 0, 0, 1, 0, 4, 0, 0, 0, 0]);
        assert_eq!(
            Message::decode(&b),
            Err(PacketError::OptionLength {
                option: 1,
                length: 4
            })
        );
        // Option running past the end.
        let b = fix(vec![0x20, 0, 0, 0, 0, 20, 0, 4, 0, 0]);
        assert_eq!(Message::decode(&b), Err(PacketError::Short));
        // IPv6 upstream neighbor in a Join/Prune.
        let mut jp = JOIN_STAR_G.to_vec();
        jp[4] = 2;
        assert_eq!(
            Message::decode(&fix(jp)),
            Err(PacketError::AddressFamily(2))
        );
        let mut jp = JOIN_STAR_G.to_vec();
        jp[27] = 1;
        assert_eq!(Message::decode(&fix(jp)), Err(PacketError::EncodingType(1)));
        // One group announced, none present.
        let jp = fix(JOIN_STAR_G[..14].to_vec());
        assert_eq!(Message::decode(&jp), Err(PacketError::Short));
        // Truncated Assert.
        let a = fix(ASSERT_SG[..22].to_vec());
        assert_eq!(Message::decode(&a), Err(PacketError::Short));
        assert_eq!(
            PacketError::UnsupportedType(1).to_string(),
            "unsupported PIM message type 1"
        );
    }
}
