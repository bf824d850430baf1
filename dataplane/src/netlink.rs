//! rtnetlink: link and IPv4 address events (pushed by the kernel, not polled), dumps, and the
//! few changes the agent makes to a netdev (admin state, IPv4 addresses). Messages are built
//! and parsed with `netlink-packet-route`; the socket is `netlink-sys`, used synchronously.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, RawFd};

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage, State};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

/// Kernel multicast groups (linux/rtnetlink.h `RTNLGRP_*`).
const RTNLGRP_LINK: u32 = 1;
const RTNLGRP_IPV4_IFADDR: u32 = 5;
const RTNLGRP_IPV4_ROUTE: u32 = 7;

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
    /// An IPv4 route was added or removed (what changed is not parsed: RPF users look again).
    RouteChanged,
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

fn decode_all(buf: &[u8], out: &mut Vec<NetlinkMessage<RouteNetlinkMessage>>) -> io::Result<()> {
    let mut at = 0;
    while at + 16 <= buf.len() {
        let len = u32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]) as usize;
        if len < 16 || at + len > buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "truncated netlink message",
            ));
        }
        // A message type this crate does not know is skipped.
        if let Ok(m) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf[at..at + len]) {
            out.push(m);
        }
        at += (len + 3) & !3;
    }
    Ok(())
}

/// A subscription to link, IPv4 address and IPv4 route events.
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
        sock.set_non_blocking(true)?;
        let _ = sock.set_rx_buf_sz(4 << 20);
        Ok(Monitor {
            sock,
            buf: vec![0; 1 << 16],
        })
    }

    /// Every event waiting on the socket. An overrun (ENOBUFS: events were lost) is reported as
    /// an error so the caller re-reads the whole state with [`Handle::links`] and
    /// [`Handle::addrs`].
    pub fn read(&mut self) -> io::Result<Vec<Event>> {
        let mut events = Vec::new();
        let mut msgs = Vec::new();
        loop {
            let mut b = &mut self.buf[..];
            let n = match self.sock.recv(&mut b, libc::MSG_DONTWAIT) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            };
            msgs.clear();
            decode_all(&self.buf[..n], &mut msgs)?;
            for m in msgs.drain(..) {
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
                        RouteNetlinkMessage::NewRoute(_) | RouteNetlinkMessage::DelRoute(_)
                            if events.last() != Some(&Event::RouteChanged) =>
                        {
                            events.push(Event::RouteChanged)
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

    /// Send one request and collect the replies until the ACK (or DONE for a dump).
    fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> io::Result<Vec<RouteNetlinkMessage>> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.seq;
        let mut m = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        m.finalize();
        let mut out = vec![0u8; m.buffer_len()];
        m.serialize(&mut out);
        self.sock.send(&out, 0)?;
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut replies = Vec::new();
        let mut msgs = Vec::new();
        loop {
            let mut b = &mut self.buf[..];
            let n = self.sock.recv(&mut b, 0)?;
            msgs.clear();
            decode_all(&self.buf[..n], &mut msgs)?;
            for m in msgs.drain(..) {
                if m.header.sequence_number != self.seq {
                    continue;
                }
                match m.payload {
                    NetlinkPayload::InnerMessage(inner) => replies.push(inner),
                    NetlinkPayload::Done(_) => return Ok(replies),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(replies),
                            Some(_) => Err(e.to_io()),
                        }
                    }
                    _ => {}
                }
            }
            if !dump && replies.is_empty() && flags & NLM_F_ACK == 0 {
                return Ok(replies);
            }
        }
    }

    /// Every netdev.
    pub fn links(&mut self) -> io::Result<Vec<Link>> {
        let r = self.request(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        Ok(r.iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(link_from(l)),
                _ => None,
            })
            .collect())
    }

    /// Every IPv4 address.
    pub fn addrs(&mut self) -> io::Result<Vec<Addr>> {
        let mut req = AddressMessage::default();
        req.header.family = AddressFamily::Inet;
        let r = self.request(
            RouteNetlinkMessage::GetAddress(req),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        Ok(r.iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) => addr_from(a),
                _ => None,
            })
            .collect())
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
        let r = self.request(RouteNetlinkMessage::GetRoute(m), NLM_F_REQUEST | NLM_F_DUMP)?;
        Ok(r.iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewRoute(r)
                    if r.header.kind == RouteType::Unicast && route_table(r) == MAIN_TABLE =>
                {
                    Some(route_from(r))
                }
                _ => None,
            })
            .collect())
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

/// An in-memory copy of the main routing table for longest-prefix-match lookups: one hash map
/// per prefix length, so a lookup costs at most 33 probes, whatever the table size.
#[derive(Debug, Default, Clone)]
pub struct Rib {
    by_len: Vec<(u8, std::collections::HashMap<u32, Route>)>,
}

impl Rib {
    pub fn new(routes: Vec<Route>) -> Rib {
        let mut maps: std::collections::BTreeMap<u8, std::collections::HashMap<u32, Route>> =
            std::collections::BTreeMap::new();
        for r in routes {
            let len = r.prefix_len.min(32);
            let key = u32::from(r.dst) & mask(len);
            let m = maps.entry(len).or_default();
            // Several entries for one prefix: the lowest metric is the one in use.
            if m.get(&key).is_none_or(|o| r.metric < o.metric) {
                m.insert(key, r);
            }
        }
        Rib {
            by_len: maps.into_iter().rev().collect(),
        }
    }

    /// The most specific route toward `addr`.
    pub fn lookup(&self, addr: Ipv4Addr) -> Option<&Route> {
        let a = u32::from(addr);
        self.by_len
            .iter()
            .find_map(|(len, m)| m.get(&(a & mask(*len))))
    }

    pub fn len(&self) -> usize {
        self.by_len.iter().map(|(_, m)| m.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn mask(len: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(len.min(32)))
        .unwrap_or(0)
}

fn route_from(r: &RouteMessage) -> Route {
    let mut out = Route {
        dst: Ipv4Addr::UNSPECIFIED,
        oif: 0,
        gateway: None,
        prefix_len: r.header.destination_prefix_length,
        metric: 0,
        protocol: u8::from(r.header.protocol),
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
        let r = |dst: [u8; 4], len: u8, metric: u32, oif: u32| Route {
            dst: Ipv4Addr::from(dst),
            oif,
            gateway: None,
            prefix_len: len,
            metric,
            protocol: 4,
        };
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

    /// A namespace of our own (a veth pair) with a connected prefix and a static route.
    #[test]
    fn route_get_reports_gateway_metric_and_protocol() {
        use std::process::Command;
        let ns = format!("ne-rtget-{}", std::process::id());
        let ip = |args: &[&str]| {
            let mut full = vec!["-n", ns.as_str()];
            full.extend_from_slice(args);
            Command::new("ip")
                .args(&full)
                .status()
                .is_ok_and(|s| s.success())
        };
        if !Command::new("ip")
            .args(["netns", "add", &ns])
            .status()
            .is_ok_and(|s| s.success())
        {
            eprintln!("skipped: cannot create a network namespace (not root?)");
            return;
        }
        struct Remove(String);
        impl Drop for Remove {
            fn drop(&mut self) {
                let _ = std::process::Command::new("ip")
                    .args(["netns", "del", &self.0])
                    .status();
            }
        }
        let guard = Remove(ns.clone());
        let ok = ip(&["link", "add", "d0", "type", "veth", "peer", "name", "d1"])
            && ip(&["link", "set", "d1", "up"])
            && ip(&["link", "set", "d0", "up"])
            && ip(&["addr", "add", "10.77.0.1/24", "dev", "d0"])
            && ip(&[
                "route",
                "add",
                "10.88.0.0/16",
                "via",
                "10.77.0.2",
                "metric",
                "20",
                "proto",
                "static",
            ]);
        let got = ok.then(|| {
            crate::netns::run_in(&ns, || {
                let mut h = Handle::open().unwrap();
                (
                    h.route_get(Ipv4Addr::new(10, 88, 1, 1)).unwrap(),
                    h.route_get(Ipv4Addr::new(10, 77, 0, 5)).unwrap(),
                    h.route_get(Ipv4Addr::new(192, 0, 2, 1)).unwrap(),
                    crate::sock::ifindex("d0"),
                    Rib::new(h.routes().unwrap()),
                )
            })
        });
        drop(guard);
        assert!(ok, "lab setup failed");
        let (via, connected, none, d0, rib) = got.unwrap().unwrap();
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
}
