//! rtnetlink: link, IPv4 address, IPv4 route and IPv4 neighbour (ARP) events (pushed by the kernel, not polled),
//! dumps, and the few changes the agent makes to a netdev (admin state, IPv4 addresses).
//! Messages are built and parsed with `netlink-packet-route`; the socket is `netlink-sys`, used
//! synchronously. Nexthop objects (RTM_*NEXTHOP, which that crate does not model) are read from
//! their raw attributes.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, RawFd};

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage, State};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

/// Kernel multicast groups (linux/rtnetlink.h `RTNLGRP_*`).
const RTNLGRP_LINK: u32 = 1;
const RTNLGRP_NEIGH: u32 = 3;
const RTNLGRP_IPV4_IFADDR: u32 = 5;
const RTNLGRP_IPV4_ROUTE: u32 = 7;
const RTNLGRP_NEXTHOP: u32 = 32;

/// Nexthop object messages and attributes (linux/nexthop.h).
const RTM_NEWNEXTHOP: u16 = 104;
const RTM_DELNEXTHOP: u16 = 105;
const RTM_GETNEXTHOP: u16 = 106;
const NHA_ID: u16 = 1;
const NHA_GROUP: u16 = 2;
const NHA_OIF: u16 = 5;
const NHA_GATEWAY: u16 = 6;
/// netlink control messages (linux/netlink.h).
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// Set on a route notification when the route replaced one with the same key.
const NLM_F_REPLACE: u16 = 0x100;

/// Interface counters (IFLA_STATS64).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_dropped: u64,
}

/// One netdev as the kernel reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub admin_up: bool,
    /// Able to pass packets: administratively up with carrier (RFC 2863 oper status up).
    pub oper_up: bool,
    pub mac: Option<[u8; 6]>,
    pub stats: LinkStats,
}

/// One IPv4 address on a netdev.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Addr {
    pub index: u32,
    pub ip: Ipv4Addr,
    pub prefix_len: u8,
}

/// The unicast route the kernel uses toward an address (RTM_GETROUTE with RTM_F_FIB_MATCH: the
/// matching FIB entry itself, so its protocol and metric are the configured ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Destination prefix of the entry.
    pub dst: Ipv4Addr,
    /// Outgoing interface.
    pub oif: u32,
    /// Next hop; `None` for a directly connected destination.
    pub gateway: Option<Ipv4Addr>,
    /// Prefix length of the matching entry.
    pub prefix_len: u8,
    /// The entry's metric (RTA_PRIORITY), 0 when unset.
    pub metric: u32,
    /// Who installed it (RTPROT_*): 2 kernel (connected), 3 boot, 4 static, others by daemon.
    pub protocol: u8,
    /// The nexthop object the entry uses (RTA_NH_ID), as routing daemons such as FRR's zebra
    /// install them. With `net.ipv4.nexthop_compat_mode` 0 the kernel then reports no
    /// interface or gateway with the route: [`Rib`] resolves them from the object.
    pub nh_id: Option<u32>,
}

/// A change the kernel announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Link(Link),
    LinkRemoved {
        index: u32,
        name: String,
    },
    AddrAdded(Addr),
    AddrRemoved(Addr),
    /// An IPv4 route of the main table was added (`replace`: in place of the entry with the
    /// same prefix and metric) or removed. Routes that send nowhere (blackhole, unreachable,
    /// prohibit, throw) come with interface 0; other tables and route types are not reported.
    Route {
        route: Route,
        removed: bool,
        replace: bool,
    },
    /// A nexthop object was added, changed or removed: routes using it may lead elsewhere now.
    NexthopChanged,
    /// An IPv4 neighbour (ARP) entry changed or went away.
    Neighbour(Neighbour),
}

/// What the kernel knows of an IPv4 neighbour's link-layer address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Known (reachable, stale, being re-probed, permanent or needing none): packets to it
    /// leave at once.
    Resolved,
    /// Being resolved: packets to it wait in the kernel's queue.
    Incomplete,
    /// Resolution failed: the packets that waited were dropped.
    Failed,
    /// No entry (removed): the next packet starts a resolution.
    Gone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neighbour {
    pub index: u32,
    pub ip: Ipv4Addr,
    pub resolution: Resolution,
}

fn neighbour_from(m: &NeighbourMessage, removed: bool) -> Option<Neighbour> {
    if m.header.family != AddressFamily::Inet {
        return None;
    }
    let ip = m.attributes.iter().find_map(|a| match a {
        NeighbourAttribute::Destination(NeighbourAddress::Inet(ip)) => Some(*ip),
        _ => None,
    })?;
    let resolution = if removed {
        Resolution::Gone
    } else {
        match m.header.state {
            NeighbourState::Incomplete => Resolution::Incomplete,
            NeighbourState::Failed => Resolution::Failed,
            NeighbourState::None => Resolution::Gone,
            _ => Resolution::Resolved,
        }
    };
    Some(Neighbour {
        index: m.header.ifindex,
        ip,
        resolution,
    })
}

fn link_from(m: &LinkMessage) -> Link {
    let mut l = Link {
        index: m.header.index,
        admin_up: m.header.flags.contains(LinkFlags::Up),
        ..Link::default()
    };
    let lower_up = m.header.flags.contains(LinkFlags::LowerUp);
    let mut oper = None;
    for a in &m.attributes {
        match a {
            LinkAttribute::IfName(n) => l.name = n.clone(),
            LinkAttribute::Address(mac) if mac.len() == 6 => {
                let mut b = [0u8; 6];
                b.copy_from_slice(mac);
                l.mac = Some(b);
            }
            LinkAttribute::OperState(s) => oper = Some(*s),
            LinkAttribute::Stats64(s) => {
                l.stats = LinkStats {
                    rx_packets: s.rx_packets,
                    tx_packets: s.tx_packets,
                    rx_bytes: s.rx_bytes,
                    tx_bytes: s.tx_bytes,
                    rx_dropped: s.rx_dropped,
                }
            }
            _ => {}
        }
    }
    // Loopback and some virtual devices report "unknown" while working.
    l.oper_up =
        l.admin_up && lower_up && matches!(oper, Some(State::Up) | Some(State::Unknown) | None);
    l
}

fn addr_from(m: &AddressMessage) -> Option<Addr> {
    if m.header.family != AddressFamily::Inet {
        return None;
    }
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on point-to-point links.
    let mut local = None;
    let mut address = None;
    for a in &m.attributes {
        match a {
            AddressAttribute::Local(IpAddr::V4(ip)) => local = Some(*ip),
            AddressAttribute::Address(IpAddr::V4(ip)) => address = Some(*ip),
            _ => {}
        }
    }
    Some(Addr {
        index: m.header.index,
        ip: local.or(address)?,
        prefix_len: m.header.prefix_len,
    })
}

/// The netlink messages in one datagram, whole (header included).
fn split(buf: &[u8]) -> io::Result<Vec<&[u8]>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 16 <= buf.len() {
        let len = u32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]) as usize;
        if len < 16 || at + len > buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "truncated netlink message",
            ));
        }
        out.push(&buf[at..at + len]);
        at += (len + 3) & !3;
    }
    Ok(out)
}

fn msg_type(m: &[u8]) -> u16 {
    u16::from_ne_bytes([m[4], m[5]])
}

/// The route a notification or dump entry describes, if it is an IPv4 route of the main table
/// that lookups can end on: unicast, or one that sends nowhere (blackhole, unreachable,
/// prohibit, throw), which keeps its interface 0 so that a lookup ending there finds no path,
/// as the kernel's does.
fn main_route(r: &RouteMessage) -> Option<Route> {
    if r.header.address_family != AddressFamily::Inet || route_table(r) != MAIN_TABLE {
        return None;
    }
    match r.header.kind {
        RouteType::Unicast => Some(route_from(r)),
        RouteType::BlackHole | RouteType::Unreachable | RouteType::Prohibit | RouteType::Throw => {
            Some(Route {
                oif: 0,
                gateway: None,
                nh_id: None,
                ..route_from(r)
            })
        }
        _ => None,
    }
}

/// Where a nexthop object leads: an interface and gateway, or the members of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nexthop {
    Via { oif: u32, gateway: Option<Ipv4Addr> },
    Group(Vec<u32>),
}

/// The nexthop object in an RTM_NEWNEXTHOP message (header included).
fn nexthop_from(m: &[u8]) -> Option<(u32, Nexthop)> {
    // nlmsghdr (16) + nhmsg (family, scope, protocol, resvd, flags: 8), then attributes.
    let mut at = 24;
    let (mut id, mut oif, mut gateway, mut group) = (None, 0, None, None);
    while at + 4 <= m.len() {
        let len = u16::from_ne_bytes([m[at], m[at + 1]]) as usize;
        let kind = u16::from_ne_bytes([m[at + 2], m[at + 3]]) & 0x3fff;
        if len < 4 || at + len > m.len() {
            return None;
        }
        let v = &m[at + 4..at + len];
        let u32_of = |v: &[u8]| {
            v.get(..4)
                .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        };
        match kind {
            NHA_ID => id = u32_of(v),
            NHA_OIF => oif = u32_of(v).unwrap_or(0),
            NHA_GATEWAY if v.len() == 4 => gateway = Some(Ipv4Addr::new(v[0], v[1], v[2], v[3])),
            // struct nexthop_grp: u32 id, u8 weight, u8, u16 (8 bytes each).
            NHA_GROUP => group = Some(v.chunks_exact(8).filter_map(u32_of).collect()),
            _ => {}
        }
        at += (len + 3) & !3;
    }
    let nh = match group {
        Some(members) => Nexthop::Group(members),
        None => Nexthop::Via { oif, gateway },
    };
    Some((id?, nh))
}

/// How many datagrams one [`Monitor::read`] takes at most: a few hundred notifications, well
/// under a millisecond of parsing and applying.
pub const MAX_DATAGRAMS_PER_READ: usize = 256;

/// A subscription to link, IPv4 address, IPv4 route and nexthop object events.
pub struct Monitor {
    sock: Socket,
    buf: Vec<u8>,
}

impl AsRawFd for Monitor {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl Monitor {
    pub fn open() -> io::Result<Monitor> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        sock.bind(&SocketAddr::new(0, 0))?;
        sock.add_membership(RTNLGRP_LINK)?;
        sock.add_membership(RTNLGRP_IPV4_IFADDR)?;
        sock.add_membership(RTNLGRP_IPV4_ROUTE)?;
        sock.add_membership(RTNLGRP_NEIGH)?;
        // Kernels without nexthop objects (before 5.3) have no such group.
        let _ = sock.add_membership(RTNLGRP_NEXTHOP);
        sock.set_non_blocking(true)?;
        let _ = sock.set_rx_buf_sz(4 << 20);
        Ok(Monitor {
            sock,
            buf: vec![0; 1 << 16],
        })
    }

    /// The events waiting on the socket, at most [`MAX_DATAGRAMS_PER_READ`] datagrams of them
    /// (the kernel sends a notification per datagram): while a full BGP table churns the kernel
    /// may send faster than they are taken, and a caller reading until the socket is empty would
    /// not get back to its timers (BFD's are tens of milliseconds) until the churn ends. The
    /// socket stays readable with the rest, so a `poll` loop comes back for them after its
    /// other work. An overrun (ENOBUFS: events were lost) is reported as an error so the caller
    /// re-reads the whole state with [`Handle::links`], [`Handle::addrs`] and
    /// [`Rib::from_kernel`].
    pub fn read(&mut self) -> io::Result<Vec<Event>> {
        let mut events = Vec::new();
        for _ in 0..MAX_DATAGRAMS_PER_READ {
            let mut b = &mut self.buf[..];
            let n = match self.sock.recv(&mut b, libc::MSG_DONTWAIT) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            };
            for raw in split(&self.buf[..n])? {
                if matches!(msg_type(raw), RTM_NEWNEXTHOP | RTM_DELNEXTHOP) {
                    if events.last() != Some(&Event::NexthopChanged) {
                        events.push(Event::NexthopChanged);
                    }
                    continue;
                }
                // A message type the crate does not know is skipped.
                let Ok(m) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(raw) else {
                    continue;
                };
                let replace = m.header.flags & NLM_F_REPLACE != 0;
                if let NetlinkPayload::InnerMessage(inner) = m.payload {
                    match inner {
                        RouteNetlinkMessage::NewLink(l) => events.push(Event::Link(link_from(&l))),
                        RouteNetlinkMessage::DelLink(l) => {
                            let l = link_from(&l);
                            events.push(Event::LinkRemoved {
                                index: l.index,
                                name: l.name,
                            })
                        }
                        RouteNetlinkMessage::NewAddress(a) => {
                            events.extend(addr_from(&a).map(Event::AddrAdded))
                        }
                        RouteNetlinkMessage::DelAddress(a) => {
                            events.extend(addr_from(&a).map(Event::AddrRemoved))
                        }
                        RouteNetlinkMessage::NewRoute(r) => {
                            events.extend(main_route(&r).map(|route| Event::Route {
                                route,
                                removed: false,
                                replace,
                            }))
                        }
                        RouteNetlinkMessage::DelRoute(r) => {
                            events.extend(main_route(&r).map(|route| Event::Route {
                                route,
                                removed: true,
                                replace: false,
                            }))
                        }
                        RouteNetlinkMessage::NewNeighbour(n) => {
                            events.extend(neighbour_from(&n, false).map(Event::Neighbour))
                        }
                        RouteNetlinkMessage::DelNeighbour(n) => {
                            events.extend(neighbour_from(&n, true).map(Event::Neighbour))
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(events)
    }
}

/// A request socket: dumps and changes, each acknowledged by the kernel.
pub struct Handle {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl Handle {
    pub fn open() -> io::Result<Handle> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        Ok(Handle {
            sock,
            seq: 0,
            buf: vec![0; 1 << 16],
        })
    }

    /// Send one request (a whole netlink message; its sequence number is set here) and hand
    /// each reply (header included) to `each`, until the ACK, the DONE of a dump, or an error.
    pub(crate) fn transact(
        &mut self,
        req: &mut [u8],
        flags: u16,
        mut each: impl FnMut(&[u8]),
    ) -> io::Result<()> {
        self.seq = self.seq.wrapping_add(1);
        req[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        self.sock.send(req, 0)?;
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut any = false;
        loop {
            let mut b = &mut self.buf[..];
            let n = self.sock.recv(&mut b, 0)?;
            for m in split(&self.buf[..n])? {
                if u32::from_ne_bytes([m[8], m[9], m[10], m[11]]) != self.seq {
                    continue;
                }
                match msg_type(m) {
                    NLMSG_DONE => return Ok(()),
                    NLMSG_ERROR => {
                        // struct nlmsgerr: a negative errno, 0 for an ACK.
                        let code = m
                            .get(16..20)
                            .map_or(0, |b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                        return match code {
                            0 => Ok(()),
                            c => Err(io::Error::from_raw_os_error(-c)),
                        };
                    }
                    _ => {
                        any = true;
                        each(m);
                    }
                }
            }
            if !dump && !any && flags & NLM_F_ACK == 0 {
                return Ok(());
            }
        }
    }

    /// Send one request and collect the replies until the ACK (or DONE for a dump).
    fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> io::Result<Vec<RouteNetlinkMessage>> {
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        let mut m = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        m.finalize();
        let mut out = vec![0u8; m.buffer_len()];
        m.serialize(&mut out);
        let mut replies = Vec::new();
        self.transact(&mut out, flags, |raw| {
            // A message type the crate does not know is skipped.
            if let Ok(NetlinkPayload::InnerMessage(inner)) =
                NetlinkMessage::<RouteNetlinkMessage>::deserialize(raw).map(|m| m.payload)
            {
                replies.push(inner);
            }
        })?;
        Ok(replies)
    }

    /// A dump request, each reply turned into a `T` by `pick` (the others skipped).
    fn dump<T>(
        &mut self,
        req: RouteNetlinkMessage,
        pick: impl Fn(&RouteNetlinkMessage) -> Option<T>,
    ) -> io::Result<Vec<T>> {
        let r = self.request(req, NLM_F_REQUEST | NLM_F_DUMP)?;
        Ok(r.iter().filter_map(pick).collect())
    }

    /// Every netdev.
    pub fn links(&mut self) -> io::Result<Vec<Link>> {
        self.dump(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            |m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(link_from(l)),
                _ => None,
            },
        )
    }

    /// Every IPv4 neighbour (ARP) entry.
    pub fn neighbours(&mut self) -> io::Result<Vec<Neighbour>> {
        let mut req = NeighbourMessage::default();
        req.header.family = AddressFamily::Inet;
        self.dump(RouteNetlinkMessage::GetNeighbour(req), |m| match m {
            RouteNetlinkMessage::NewNeighbour(n) => neighbour_from(n, false),
            _ => None,
        })
    }

    /// Every IPv4 address.
    pub fn addrs(&mut self) -> io::Result<Vec<Addr>> {
        let mut req = AddressMessage::default();
        req.header.family = AddressFamily::Inet;
        self.dump(RouteNetlinkMessage::GetAddress(req), |m| match m {
            RouteNetlinkMessage::NewAddress(a) => addr_from(a),
            _ => None,
        })
    }

    /// The route toward `dst` in the main table, if there is a unicast one.
    pub fn route_get(&mut self, dst: Ipv4Addr) -> io::Result<Option<Route>> {
        let mut m = RouteMessage::default();
        m.header.address_family = AddressFamily::Inet;
        m.header.destination_prefix_length = 32;
        m.header.flags = RouteFlags::FibMatch;
        m.attributes
            .push(RouteAttribute::Destination(RouteAddress::Inet(dst)));
        let replies =
            match self.request(RouteNetlinkMessage::GetRoute(m), NLM_F_REQUEST | NLM_F_ACK) {
                Ok(r) => r,
                // No route at all.
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::ENETUNREACH | libc::EHOSTUNREACH)
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(e),
            };
        Ok(replies.iter().find_map(|r| match r {
            RouteNetlinkMessage::NewRoute(r) if r.header.kind == RouteType::Unicast => {
                Some(route_from(r))
            }
            _ => None,
        }))
    }

    /// Every unicast IPv4 route of the main table (one dump; see [`Rib`]).
    pub fn routes(&mut self) -> io::Result<Vec<Route>> {
        let mut m = RouteMessage::default();
        m.header.address_family = AddressFamily::Inet;
        self.dump(RouteNetlinkMessage::GetRoute(m), |m| match m {
            RouteNetlinkMessage::NewRoute(r) => main_route(r),
            _ => None,
        })
    }

    /// Every nexthop object, by id (empty on a kernel without them).
    pub fn nexthops(&mut self) -> io::Result<HashMap<u32, Nexthop>> {
        // nlmsghdr + an all-zero nhmsg (every family).
        let mut req = [0u8; 24];
        req[..4].copy_from_slice(&24u32.to_ne_bytes());
        req[4..6].copy_from_slice(&RTM_GETNEXTHOP.to_ne_bytes());
        let flags = NLM_F_REQUEST | NLM_F_DUMP;
        req[6..8].copy_from_slice(&flags.to_ne_bytes());
        let mut out = HashMap::new();
        let done = self.transact(&mut req, flags, |m| {
            if msg_type(m) == RTM_NEWNEXTHOP {
                out.extend(nexthop_from(m));
            }
        });
        match done {
            Ok(()) => Ok(out),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::EINVAL)) => {
                Ok(HashMap::new())
            }
            Err(e) => Err(e),
        }
    }

    /// Set a netdev administratively up or down.
    pub fn set_up(&mut self, index: u32, up: bool) -> io::Result<()> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.header.change_mask = LinkFlags::Up;
        if up {
            m.header.flags = LinkFlags::Up;
        }
        self.request(RouteNetlinkMessage::SetLink(m), NLM_F_REQUEST | NLM_F_ACK)
            .map(drop)
    }

    fn addr_message(a: &Addr) -> AddressMessage {
        let mut m = AddressMessage::default();
        m.header.family = AddressFamily::Inet;
        m.header.prefix_len = a.prefix_len;
        m.header.index = a.index;
        m.attributes.push(AddressAttribute::Local(IpAddr::V4(a.ip)));
        m.attributes
            .push(AddressAttribute::Address(IpAddr::V4(a.ip)));
        if a.prefix_len < 31 {
            let mask = u32::MAX.checked_shr(u32::from(a.prefix_len)).unwrap_or(0);
            let bcast = Ipv4Addr::from(u32::from(a.ip) | mask);
            m.attributes.push(AddressAttribute::Broadcast(bcast));
        }
        m
    }

    /// Add an IPv4 address (an address that is already there is not an error).
    pub fn add_addr(&mut self, a: &Addr) -> io::Result<()> {
        match self.request(
            RouteNetlinkMessage::NewAddress(Self::addr_message(a)),
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        ) {
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => Ok(()),
            r => r.map(drop),
        }
    }

    /// Remove an IPv4 address (one that is not there is not an error).
    pub fn del_addr(&mut self, a: &Addr) -> io::Result<()> {
        match self.request(
            RouteNetlinkMessage::DelAddress(Self::addr_message(a)),
            NLM_F_REQUEST | NLM_F_ACK,
        ) {
            Err(e) if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) => Ok(()),
            r => r.map(drop),
        }
    }
}

const MAIN_TABLE: u32 = 254;

fn route_table(r: &RouteMessage) -> u32 {
    r.attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Table(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(u32::from(r.header.table))
}

pub use crate::rib::Rib;

fn route_from(r: &RouteMessage) -> Route {
    let mut out = Route {
        dst: Ipv4Addr::UNSPECIFIED,
        oif: 0,
        gateway: None,
        prefix_len: r.header.destination_prefix_length,
        metric: 0,
        protocol: u8::from(r.header.protocol),
        nh_id: None,
    };
    for a in &r.attributes {
        match a {
            RouteAttribute::Destination(RouteAddress::Inet(d)) => out.dst = *d,
            RouteAttribute::Oif(i) => out.oif = *i,
            // ECMP: the first next hop stands for the route.
            RouteAttribute::MultiPath(hops) if out.oif == 0 => {
                if let Some(h) = hops.first() {
                    out.oif = h.interface_index;
                    for a in &h.attributes {
                        if let RouteAttribute::Gateway(RouteAddress::Inet(g)) = a {
                            out.gateway = Some(*g);
                        }
                    }
                }
            }
            RouteAttribute::Gateway(RouteAddress::Inet(g)) => out.gateway = Some(*g),
            RouteAttribute::Priority(p) => out.metric = *p,
            RouteAttribute::NhId(id) => out.nh_id = Some(*id),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dumps_loopback() {
        let mut h = Handle::open().unwrap();
        let links = h.links().unwrap();
        let lo = links.iter().find(|l| l.name == "lo").expect("lo listed");
        assert_eq!(Some(lo.index), crate::sock::ifindex("lo"));
        let addrs = h.addrs().unwrap();
        if lo.admin_up {
            assert!(addrs
                .iter()
                .any(|a| a.index == lo.index && a.ip == Ipv4Addr::LOCALHOST && a.prefix_len == 8));
        }
    }

    #[test]
    fn rib_prefers_the_longest_prefix_then_the_lowest_metric() {
        let r = route;
        let rib = Rib::new(vec![
            r([0, 0, 0, 0], 0, 0, 1),
            r([10, 0, 0, 0], 8, 0, 2),
            r([10, 1, 0, 0], 16, 50, 3),
            r([10, 1, 0, 0], 16, 10, 4),
            r([10, 1, 2, 3], 32, 0, 5),
        ]);
        let oif = |a: [u8; 4]| rib.lookup(Ipv4Addr::from(a)).map(|r| r.oif);
        assert_eq!(oif([10, 1, 2, 3]), Some(5));
        assert_eq!(oif([10, 1, 2, 4]), Some(4));
        assert_eq!(oif([10, 2, 0, 1]), Some(2));
        assert_eq!(oif([192, 0, 2, 1]), Some(1));
        assert_eq!(rib.len(), 4);
        assert_eq!(Rib::new(Vec::new()).lookup(Ipv4Addr::LOCALHOST), None);
    }

    fn route(dst: [u8; 4], len: u8, metric: u32, oif: u32) -> Route {
        Route {
            dst: Ipv4Addr::from(dst),
            oif,
            gateway: None,
            prefix_len: len,
            metric,
            protocol: 4,
            nh_id: None,
        }
    }

    #[test]
    fn rib_follows_added_replaced_and_removed_routes() {
        let mut rib = Rib::new(vec![route([0, 0, 0, 0], 0, 0, 1)]);
        let oif = |rib: &Rib, a: [u8; 4]| rib.lookup(Ipv4Addr::from(a)).map(|r| r.oif);
        assert!(rib.apply(route([10, 1, 0, 0], 16, 50, 3), false, false));
        assert_eq!(oif(&rib, [10, 1, 2, 3]), Some(3));
        // A second entry for the prefix with a lower metric takes over; removing it brings the
        // first back, and removing that one leaves the default route.
        assert!(rib.apply(route([10, 1, 0, 0], 16, 10, 4), false, false));
        assert_eq!(oif(&rib, [10, 1, 2, 3]), Some(4));
        assert_eq!(rib.len(), 2, "one prefix, two entries");
        assert!(rib.apply(route([10, 1, 0, 0], 16, 10, 4), true, false));
        assert_eq!(oif(&rib, [10, 1, 2, 3]), Some(3));
        // A replacement takes the place of the entry with its metric.
        assert!(rib.apply(route([10, 1, 0, 0], 16, 50, 7), false, true));
        assert_eq!(oif(&rib, [10, 1, 2, 3]), Some(7));
        assert!(rib.apply(route([10, 1, 0, 0], 16, 50, 7), true, false));
        assert_eq!(oif(&rib, [10, 1, 2, 3]), Some(1));
        assert_eq!(rib.len(), 1);
        // The same entry twice (a dump overlapping a notification) is one entry.
        rib.apply(route([10, 2, 0, 0], 16, 0, 5), false, false);
        rib.apply(route([10, 2, 0, 0], 16, 0, 5), false, false);
        rib.apply(route([10, 2, 0, 0], 16, 0, 5), true, false);
        assert_eq!(oif(&rib, [10, 2, 0, 9]), Some(1));
        // Removing what is not there changes nothing.
        rib.apply(route([10, 3, 0, 0], 16, 0, 5), true, false);
        rib.apply(route([0, 0, 0, 0], 0, 99, 1), true, false);
        assert_eq!(oif(&rib, [10, 3, 0, 1]), Some(1));
        // A route that sends nowhere ends the lookup there: no path, not the default route.
        assert!(rib.apply(route([10, 6, 0, 0], 16, 0, 0), false, false));
        assert_eq!(oif(&rib, [10, 6, 0, 1]), Some(0));
        // A route naming an unknown nexthop object: the copy must be read again.
        let mut nh = route([10, 4, 0, 0], 16, 0, 0);
        nh.nh_id = Some(9);
        assert!(!rib.apply(nh, false, false));
        rib.nexthops.insert(
            9,
            Nexthop::Via {
                oif: 6,
                gateway: Some(Ipv4Addr::new(192, 0, 2, 1)),
            },
        );
        rib.nexthops.insert(10, Nexthop::Group(vec![11, 9]));
        assert!(rib.apply(nh, false, false));
        let got = rib.lookup(Ipv4Addr::new(10, 4, 1, 1)).unwrap();
        assert_eq!(
            (got.oif, got.gateway),
            (6, Some(Ipv4Addr::new(192, 0, 2, 1)))
        );
        nh.nh_id = Some(10);
        nh.dst = Ipv4Addr::new(10, 5, 0, 0);
        assert!(rib.apply(nh, false, false));
        assert_eq!(
            oif(&rib, [10, 5, 0, 1]),
            Some(6),
            "first usable group member"
        );
        nh.dst = Ipv4Addr::new(10, 4, 0, 0);
        nh.nh_id = Some(9);
        assert!(rib.apply(nh, true, false));
        assert_eq!(oif(&rib, [10, 4, 1, 1]), Some(1));
    }

    #[test]
    fn nexthop_messages_parse() {
        // RTM_NEWNEXTHOP: id 7 via 10.77.0.2 dev 3; then a group of 7 and 8.
        let mut m = vec![0u8; 24];
        let attr = |m: &mut Vec<u8>, kind: u16, v: &[u8]| {
            m.extend_from_slice(&((4 + v.len()) as u16).to_ne_bytes());
            m.extend_from_slice(&kind.to_ne_bytes());
            m.extend_from_slice(v);
            while m.len() % 4 != 0 {
                m.push(0);
            }
        };
        attr(&mut m, NHA_ID, &7u32.to_ne_bytes());
        attr(&mut m, NHA_OIF, &3u32.to_ne_bytes());
        attr(&mut m, NHA_GATEWAY, &[10, 77, 0, 2]);
        assert_eq!(
            nexthop_from(&m),
            Some((
                7,
                Nexthop::Via {
                    oif: 3,
                    gateway: Some(Ipv4Addr::new(10, 77, 0, 2))
                }
            ))
        );
        let mut g = vec![0u8; 24];
        attr(&mut g, NHA_ID, &9u32.to_ne_bytes());
        let mut members = Vec::new();
        for id in [7u32, 8] {
            members.extend_from_slice(&id.to_ne_bytes());
            members.extend_from_slice(&[1, 0, 0, 0]);
        }
        attr(&mut g, NHA_GROUP, &members);
        assert_eq!(nexthop_from(&g), Some((9, Nexthop::Group(vec![7, 8]))));
        // Truncated attribute: no object.
        let mut bad = vec![0u8; 24];
        bad.extend_from_slice(&[40, 0, 1, 0, 7, 0, 0, 0]);
        assert_eq!(nexthop_from(&bad), None);
    }

    /// A namespace of our own for a test: a veth pair d0-d1, both up, d0 with 10.77.0.1/24. `None`
    /// (skipped) without root or iproute2.
    fn routing_ns(test: &str) -> Option<crate::testns::Namespaces> {
        if !crate::testns::require_root() {
            return None;
        }
        let ns = crate::testns::Namespaces::new(test, &["n"]);
        ns.veth("n", "d0", "n", "d1");
        crate::testns::ip(&[
            "-n",
            ns.name("n"),
            "addr",
            "add",
            "10.77.0.1/24",
            "dev",
            "d0",
        ]);
        Some(ns)
    }

    /// `ip -n <ns> <cmd>`, the command given as one string.
    fn ip_in(ns: &str, cmd: &str) {
        let mut args = vec!["-n", ns];
        args.extend(cmd.split_whitespace());
        crate::testns::ip(&args);
    }

    /// A connected prefix and a static route, as route_get and the dump see them.
    #[test]
    fn route_get_reports_gateway_metric_and_protocol() {
        let Some(nss) = routing_ns("rtget") else {
            return;
        };
        let ns = nss.name("n").to_string();
        ip_in(
            &ns,
            "route add 10.88.0.0/16 via 10.77.0.2 metric 20 proto static",
        );
        let (via, connected, none, d0, rib) = crate::netns::run_in(&ns, || {
            let mut h = Handle::open().unwrap();
            (
                h.route_get(Ipv4Addr::new(10, 88, 1, 1)).unwrap(),
                h.route_get(Ipv4Addr::new(10, 77, 0, 5)).unwrap(),
                h.route_get(Ipv4Addr::new(192, 0, 2, 1)).unwrap(),
                crate::sock::ifindex("d0"),
                Rib::new(h.routes().unwrap()),
            )
        })
        .unwrap();
        // The dumped table answers the same.
        assert_eq!(rib.lookup(Ipv4Addr::new(10, 88, 1, 1)), via.as_ref());
        assert_eq!(
            rib.lookup(Ipv4Addr::new(10, 77, 0, 5))
                .map(|r| (r.gateway, r.prefix_len)),
            Some((None, 24))
        );
        assert_eq!(rib.lookup(Ipv4Addr::new(192, 0, 2, 1)), None);
        let via = via.expect("route via the gateway");
        assert_eq!(via.gateway, Some(Ipv4Addr::new(10, 77, 0, 2)));
        assert_eq!((via.metric, via.protocol, via.prefix_len), (20, 4, 16));
        assert_eq!(via.dst, Ipv4Addr::new(10, 88, 0, 0));
        assert_eq!(Some(via.oif), d0);
        let connected = connected.expect("connected route");
        assert_eq!((connected.gateway, connected.protocol), (None, 2));
        assert_eq!(none, None);
    }

    /// Route notifications as the kernel sends them (add, replace, delete; other tables left
    /// out), and routes that name only a nexthop object (`nexthop_compat_mode` 0, as some FRR
    /// setups run) resolved from a dump of the objects.
    #[test]
    fn monitor_reports_routes_and_nexthop_routes_resolve() {
        use std::process::Command;
        let Some(nss) = routing_ns("rtmon") else {
            return;
        };
        let ns = nss.name("n").to_string();
        let ip = |cmd: &str| ip_in(&ns, cmd);
        let mut mon = crate::netns::run_in(&ns, Monitor::open).unwrap().unwrap();
        let d0 = nss.ifindex("n", "d0");
        let _ = mon.read().unwrap();
        let gw = |last: u8| Some(Ipv4Addr::new(10, 77, 0, last));
        ip("route add 10.88.0.0/16 via 10.77.0.2 metric 20");
        ip("route replace 10.88.0.0/16 via 10.77.0.3 metric 20");
        ip("route add 10.66.0.0/16 via 10.77.0.2 table 100");
        ip("route del 10.88.0.0/16 metric 20");
        let sysctl = Command::new("ip")
            .args(["netns", "exec", &ns, "sysctl", "-qw"])
            .arg("net.ipv4.nexthop_compat_mode=0")
            .status()
            .is_ok_and(|s| s.success());
        assert!(sysctl, "sysctl nexthop_compat_mode");
        ip("nexthop add id 7 via 10.77.0.2 dev d0");
        ip("nexthop add id 8 group 7");
        ip("route add 10.99.0.0/16 nhid 8");
        ip("route add unreachable 10.55.0.0/16");
        let mut events = Vec::new();
        for _ in 0..50 {
            events.extend(mon.read().unwrap());
            if events.len() >= 6 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        type Seen = (Ipv4Addr, Option<Ipv4Addr>, bool, bool, Option<u32>);
        let routes: Vec<Seen> = events
            .iter()
            .filter_map(|e| match e {
                Event::Route {
                    route,
                    removed,
                    replace,
                } => Some((route.dst, route.gateway, *removed, *replace, route.nh_id)),
                _ => None,
            })
            .collect();
        let net = |a: u8| Ipv4Addr::new(10, a, 0, 0);
        assert_eq!(
            routes,
            vec![
                (net(88), gw(2), false, false, None),
                (net(88), gw(3), false, true, None),
                (net(88), gw(3), true, false, None),
                (net(99), None, false, false, Some(8)),
                (net(55), None, false, false, None),
            ],
            "{events:?}"
        );
        assert!(events.contains(&Event::NexthopChanged), "{events:?}");
        let rib = crate::netns::run_in(&ns, || Rib::from_kernel(&mut Handle::open()?))
            .unwrap()
            .unwrap();
        let got = rib.lookup(Ipv4Addr::new(10, 99, 1, 1)).expect("resolved");
        assert_eq!((got.oif, got.gateway, got.nh_id), (d0, gw(2), Some(8)));
        assert_eq!(rib.lookup(Ipv4Addr::new(10, 88, 1, 1)), None);
        assert_eq!(rib.lookup(Ipv4Addr::new(10, 66, 1, 1)), None, "table 100");
        let unreachable = rib.lookup(Ipv4Addr::new(10, 55, 1, 1));
        assert_eq!(unreachable.map(|r| (r.oif, r.prefix_len)), Some((0, 16)));
    }

    /// A burst of route notifications (a BGP table churning) is taken a bounded batch per
    /// read, so the caller's poll loop gets back to its timers; the next reads bring the rest,
    /// none lost.
    #[test]
    fn a_burst_of_route_notifications_is_read_in_bounded_batches() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let Some(nss) = routing_ns("rtburst") else {
            return;
        };
        let ns = nss.name("n").to_string();
        let mut mon = crate::netns::run_in(&ns, Monitor::open).unwrap().unwrap();
        let _ = mon.read().unwrap();
        let burst = 3 * MAX_DATAGRAMS_PER_READ;
        let mut batch = String::new();
        for i in 0..burst {
            batch += &format!(
                "route add 10.{}.{}.0/24 via 10.77.0.2\n",
                100 + i / 256,
                i % 256
            );
        }
        let mut child = Command::new("ip")
            .args(["-n", &ns, "-batch", "-"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("ip");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(batch.as_bytes())
            .expect("batch");
        assert!(child.wait().is_ok_and(|s| s.success()), "ip -batch");
        // The kernel queued every notification before `ip` got its answers.
        let routes = |events: Vec<Event>| {
            events
                .into_iter()
                .filter(|e| matches!(e, Event::Route { removed: false, .. }))
                .count()
        };
        let first = routes(mon.read().unwrap());
        assert!(first > 0, "nothing read");
        assert!(
            first <= MAX_DATAGRAMS_PER_READ,
            "{first} notifications in one read"
        );
        let (mut got, mut reads) = (first, 1);
        for _ in 0..100 {
            if got >= burst {
                break;
            }
            got += routes(mon.read().unwrap());
            reads += 1;
        }
        assert_eq!(got, burst, "in {reads} reads");
        assert!(reads >= 3, "{reads} reads");
    }
}
