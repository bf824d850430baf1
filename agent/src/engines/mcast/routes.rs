//! Multicast route decisions, sans I/O: which interface gets a copy of (S,G) (RFC 7761
//! §4.1.6 with the vendor knobs), and how long an mVRRP group's preemption waits for IGMP to
//! relearn. The multicast engine (`mcast/mod.rs`) and the two-device simulation both decide
//! with these.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dataplane::mfib::Oif;

use dataplane::netlink::Route as KernelRoute;

use super::gates::Gate;
use crate::engines::igmp::iface as igmp;
use crate::engines::pim::downstream::Downstream;
use crate::engines::pim::iface::{self as pim, AssertState, RouteMetric};

/// Reverse-path information toward an address: the interface, the PIM neighbor to join
/// through (`None` when the address is on a connected subnet) and the Assert metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rpf {
    pub ifindex: u32,
    pub neighbor: Option<Ipv4Addr>,
    pub metric: RouteMetric,
}

/// The Assert metric preference of a kernel route, by who installed it (the administrative
/// distances routers use: connected 0, static 1, eBGP 20, OSPF 110, IS-IS 115, RIP 120).
pub fn preference(protocol: u8, connected: bool) -> u32 {
    match protocol {
        _ if connected => 0,
        186 => 20,
        187 => 115,
        188 => 110,
        189 => 120,
        _ => 1,
    }
}

pub fn in_prefix(a: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    };
    u32::from(a) & mask == u32::from(net) & mask
}

/// RPF toward `addr` when it is on a connected subnet of one of our multicast interfaces
/// (given as (ifindex, its prefixes)).
pub fn connected_rpf<'a>(
    addr: Ipv4Addr,
    mut interfaces: impl Iterator<Item = (u32, &'a [(Ipv4Addr, u8)])>,
) -> Option<Rpf> {
    let (ifindex, _) =
        interfaces.find(|(_, prefixes)| prefixes.iter().any(|&(n, l)| in_prefix(addr, n, l)))?;
    Some(Rpf {
        ifindex,
        neighbor: None,
        metric: RouteMetric {
            rpt: false,
            preference: 0,
            metric: 0,
        },
    })
}

/// RPF from the kernel's unicast route toward an address, when it leaves through one of our
/// multicast interfaces (`ours`).
pub fn routed_rpf(route: &KernelRoute, ours: impl Fn(u32) -> bool) -> Option<Rpf> {
    ours(route.oif).then(|| Rpf {
        ifindex: route.oif,
        neighbor: route.gateway,
        metric: RouteMetric {
            rpt: false,
            preference: preference(route.protocol, route.gateway.is_none()),
            metric: route.metric,
        },
    })
}

/// Where a flow is accepted (its incoming interface, None: not routed) and whether it is on
/// the shortest-path tree, from its RPF toward the source, its SPT bit, the interface its data
/// `arrived` on, the RPF toward the RP and whether `arrived` runs PIM:
/// - on the SPT (data came in on the RPF interface toward the source): that interface;
/// - the unicast path moved away from where the data arrives: back to the RP tree;
/// - still on the RP tree (data comes in where the RP's path does): accepted there;
/// - no route at all to the source: accepted from the PIM interface it comes in on.
pub fn incoming(
    rpf: Option<Rpf>,
    spt: bool,
    arrived: u32,
    rp_path: Option<Rpf>,
    arrived_is_pim: bool,
) -> (Option<u32>, bool) {
    let spt = spt && rpf.is_some_and(|r| r.ifindex == arrived);
    let iif = match rpf {
        Some(r)
            if !spt && r.ifindex != arrived && rp_path.is_some_and(|rp| rp.ifindex == arrived) =>
        {
            Some(arrived)
        }
        Some(r) => Some(r.ifindex),
        None if arrived_is_pim => Some(arrived),
        None => None,
    };
    (iif, spt)
}

/// The source-specific range 232/8: any-source listeners and (*,G) Joins for these groups are
/// ignored (RFC 4604 §2.2.1, RFC 7761 §4.8.3).
pub fn ssm(group: Ipv4Addr) -> bool {
    group.octets()[0] == 232
}

/// local_receiver_include(S,G,I), with any-source listeners not counting in the SSM range.
pub fn igmp_wants(i: &igmp::Interface, s: Ipv4Addr, g: Ipv4Addr) -> bool {
    // In INCLUDE mode `wants` means the source is listed; EXCLUDE mode is any-source.
    i.wants(s, g) && !(ssm(g) && i.wants_any(g))
}

/// A downstream router's Join covers (S,G): its (S,G) Join, or outside the SSM range its
/// (*,G) Join without an (S,G,rpt) Prune.
pub fn pim_wants(d: &Downstream, s: Ipv4Addr, g: Ipv4Addr) -> bool {
    if ssm(g) {
        d.joined(Some(s), g)
    } else {
        d.forwards(s, g)
    }
}

/// What one interface runs, as the outgoing-interface decision needs it.
#[derive(Clone, Copy)]
pub struct Interface<'a> {
    pub ifindex: u32,
    pub igmp: Option<&'a igmp::Interface>,
    pub pim: Option<&'a pim::Interface>,
    pub downstream: Option<&'a Downstream>,
    /// Its mVRRP gate ([`Gate::NONE`] when not gated).
    pub gate: Gate,
}

/// The interface as an outgoing interface of (s, g) arriving on `iif`, or None: IGMP
/// listeners where we may forward (I_am_DR, `ignore-dr-state`, or no PIM) or a PIM downstream
/// join, unless another router won the Assert there; forwarding unless its gate is closed.
pub fn oif(i: &Interface<'_>, s: Ipv4Addr, g: Ipv4Addr, iif: u32) -> Option<Oif> {
    if i.ifindex == iif {
        return None;
    }
    let lost = i.pim.is_some_and(|p| {
        p.lost_assert(Some(s), g)
            || (p.lost_assert(None, g) && p.assert_state(Some(s), g) != AssertState::Winner)
    });
    if lost {
        return None;
    }
    let by_igmp =
        i.igmp.is_some_and(|m| igmp_wants(m, s, g)) && i.pim.is_none_or(|p| p.i_am_dr_for_oifs());
    let by_pim = i.downstream.is_some_and(|d| pim_wants(d, s, g));
    (by_igmp || by_pim).then(|| i.gate.oif(i.ifindex))
}

/// How long IGMP that has run since `igmp_since` with a Query Response Interval of
/// `max_response` still needs to have heard every receiver's report (one max-response time,
/// plus a second): None when it has.
pub fn relearn_wait(
    igmp_since: Option<Instant>,
    max_response: Duration,
    now: Instant,
) -> Option<Duration> {
    let since = igmp_since?;
    let left = (since + max_response + Duration::from_secs(1)).saturating_duration_since(now);
    (!left.is_zero()).then_some(left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::igmp::packet::Message;

    const G: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 1);
    const S: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 10);

    fn igmp_with_listener(now: Instant) -> igmp::Interface {
        let mut i =
            igmp::Interface::new(igmp::Config::default(), Ipv4Addr::new(192, 168, 1, 1), now);
        let _ = i.receive(
            &Message::V2Report { group: G },
            Ipv4Addr::new(192, 168, 1, 100),
            G,
            now,
        );
        assert!(i.wants(S, G));
        i
    }

    #[test]
    fn a_listener_makes_an_outgoing_interface_as_its_gate_says() {
        let now = Instant::now();
        let m = igmp_with_listener(now);
        let mut i = Interface {
            ifindex: 4,
            igmp: Some(&m),
            pim: None,
            downstream: None,
            gate: Gate::NONE,
        };
        let o = oif(&i, S, G, 2).expect("an oif");
        assert!(o.forwards_at(1));
        i.gate = Gate::CLOSED;
        let o = oif(&i, S, G, 2).expect("still an oif, blocked by VRRP");
        assert!(!o.forwards_at(1));
        // Never back out of the incoming interface, and not for a group nobody joined.
        assert!(oif(&i, S, G, 4).is_none());
        assert!(oif(&i, S, Ipv4Addr::new(239, 9, 9, 9), 2).is_none());
    }

    #[test]
    fn any_source_listeners_do_not_count_in_the_ssm_range() {
        let now = Instant::now();
        let g = Ipv4Addr::new(232, 1, 1, 1);
        let mut m =
            igmp::Interface::new(igmp::Config::default(), Ipv4Addr::new(192, 168, 1, 1), now);
        let _ = m.receive(
            &Message::V2Report { group: g },
            Ipv4Addr::new(192, 168, 1, 100),
            g,
            now,
        );
        assert!(!igmp_wants(&m, S, g));
        assert!(ssm(g) && !ssm(G));
    }

    #[test]
    fn relearning_takes_one_max_response_time_and_a_second() {
        let t0 = Instant::now();
        let mr = Duration::from_secs(10);
        assert_eq!(
            relearn_wait(Some(t0), mr, t0),
            Some(Duration::from_secs(11))
        );
        assert_eq!(
            relearn_wait(Some(t0), mr, t0 + Duration::from_secs(4)),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            relearn_wait(Some(t0), mr, t0 + Duration::from_secs(11)),
            None
        );
        assert_eq!(relearn_wait(None, mr, t0), None);
    }
    fn rpf(ifindex: u32, neighbor: Option<[u8; 4]>) -> Rpf {
        Rpf {
            ifindex,
            neighbor: neighbor.map(Ipv4Addr::from),
            metric: RouteMetric {
                rpt: false,
                preference: 1,
                metric: 0,
            },
        }
    }

    #[test]
    fn rpf_prefers_a_connected_subnet_and_takes_only_our_interfaces_routes() {
        let p1 = [(Ipv4Addr::new(10, 1, 0, 1), 24)];
        let p2 = [(Ipv4Addr::new(192, 168, 1, 1), 24)];
        let ifs = || [(2u32, &p1[..]), (3u32, &p2[..])].into_iter();
        let r = connected_rpf(Ipv4Addr::new(10, 1, 0, 10), ifs()).expect("connected");
        assert_eq!((r.ifindex, r.neighbor, r.metric.preference), (2, None, 0));
        assert!(connected_rpf(Ipv4Addr::new(10, 9, 0, 10), ifs()).is_none());
        let route = KernelRoute {
            dst: Ipv4Addr::new(10, 9, 0, 0),
            oif: 2,
            gateway: Some(Ipv4Addr::new(10, 1, 0, 2)),
            prefix_len: 16,
            metric: 20,
            protocol: 188,
            nh_id: None,
        };
        let r = routed_rpf(&route, |i| i == 2).expect("through ours");
        assert_eq!(r.neighbor, Some(Ipv4Addr::new(10, 1, 0, 2)));
        assert_eq!((r.metric.preference, r.metric.metric), (110, 20), "OSPF");
        assert!(routed_rpf(&route, |i| i == 3).is_none(), "not one of ours");
        assert!(in_prefix(
            Ipv4Addr::new(1, 2, 3, 4),
            Ipv4Addr::UNSPECIFIED,
            0
        ));
    }

    #[test]
    fn a_flow_moves_from_the_rp_tree_to_the_spt_and_back() {
        // RP reached through 2, the source through 3.
        let to_rp = Some(rpf(2, Some([10, 0, 0, 1])));
        let to_s = Some(rpf(3, Some([10, 0, 1, 1])));
        // Data arrives down the RP tree: accepted there, not on the SPT yet.
        assert_eq!(incoming(to_s, false, 2, to_rp, true), (Some(2), false));
        // Data arrived on the RPF interface toward the source (the SPT bit was set): there.
        assert_eq!(incoming(to_s, true, 3, to_rp, true), (Some(3), true));
        // The unicast path toward the source moved to 4 while data still comes on 3: back
        // to the RPF interface, SPT bit cleared until data comes the new way.
        let moved = Some(rpf(4, Some([10, 0, 2, 1])));
        assert_eq!(incoming(moved, true, 3, to_rp, true), (Some(4), false));
    }

    #[test]
    fn a_flow_without_any_route_is_accepted_only_from_pim() {
        assert_eq!(incoming(None, false, 5, None, true), (Some(5), false));
        assert_eq!(incoming(None, true, 5, None, false), (None, false));
    }
}
