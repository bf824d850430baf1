//! The multicast engine driven without sockets: configuration, links, control frames and
//! upcalls in; effects and the published table out.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dataplane::netlink::{Addr, Link};

use super::interfaces::IGMP_PROTO;
use super::{Effect, Multicast};
use crate::engines::config;
use crate::engines::igmp::packet::Message;

pub(super) const LAN: &str = "lan0";
pub(super) const UP: &str = "up0";
const LAN_IDX: u32 = 7;
pub(super) const UP_IDX: u32 = 8;
pub(super) const G: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 1);
/// On the uplink's subnet.
const CONNECTED_SOURCE: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 10);
/// Behind a router: RPF needs the routing table.
const ROUTED_SOURCE: Ipv4Addr = Ipv4Addr::new(172, 16, 0, 1);
/// The kernel's route toward it: 172.16/16 via 10.1.0.254 on the uplink.
const ROUTE: dataplane::netlink::Route = dataplane::netlink::Route {
    dst: Ipv4Addr::new(172, 16, 0, 0),
    oif: UP_IDX,
    gateway: Some(Ipv4Addr::new(10, 1, 0, 254)),
    prefix_len: 16,
    metric: 0,
    protocol: 4,
    nh_id: None,
};

fn igmp() -> config::Igmp {
    config::Igmp {
        version: 2,
        query_interval_s: 60,
        max_response_s: 10,
        robustness: 2,
        last_member_interval_s: 1,
    }
}

/// IGMP on the LAN (gated by `gate`, if given), the uplink a plain multicast interface.
fn cfg(gate: Option<(&str, u8)>) -> config::Multicast {
    let mut interfaces = BTreeMap::new();
    interfaces.insert(
        LAN.to_string(),
        config::McInterface {
            igmp: Some(igmp()),
            pim: None,
            gate: gate.map(|(i, v)| (i.to_string(), v)),
        },
    );
    interfaces.insert(UP.to_string(), config::McInterface::default());
    config::Multicast {
        routing_enable: true,
        rp: None,
        register_suppression_s: 0,
        kernel_bypass: true,
        interfaces,
        bsr: Default::default(),
    }
}

pub(super) fn links() -> BTreeMap<String, Link> {
    [(LAN, LAN_IDX), (UP, UP_IDX)]
        .into_iter()
        .map(|(name, index)| {
            let l = Link {
                index,
                name: name.to_string(),
                admin_up: true,
                oper_up: true,
                mac: Some([2, 0, 0, 0, 0, index as u8]),
                stats: Default::default(),
            };
            (name.to_string(), l)
        })
        .collect()
}

pub(super) fn addrs() -> Vec<Addr> {
    vec![
        Addr {
            index: LAN_IDX,
            ip: Ipv4Addr::new(192, 168, 1, 1),
            prefix_len: 24,
        },
        Addr {
            index: UP_IDX,
            ip: Ipv4Addr::new(10, 1, 0, 1),
            prefix_len: 24,
        },
    ]
}

fn started(gate: Option<(&str, u8)>, now: Instant) -> Multicast {
    let mut mc = Multicast::new(1);
    mc.apply(&cfg(gate), &links(), &addrs(), now);
    mc
}

/// A receiver's IGMPv2 report for `g` on the LAN, as an Ethernet frame.
pub(super) fn report(g: Ipv4Addr) -> Vec<u8> {
    let o = g.octets();
    dataplane::wire::ipv4_frame(
        [2, 0, 0, 0, 0x72, 1],
        [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]],
        Ipv4Addr::new(192, 168, 1, 100),
        g,
        1,
        IGMP_PROTO,
        &[0x94, 0x04, 0x00, 0x00],
        &Message::V2Report { group: g }.encode(),
    )
}

/// The LAN's outgoing interface in the route of (s, G): Some(forwarding) or None.
fn lan_oif(mc: &Multicast, s: Ipv4Addr) -> Option<bool> {
    let t = mc.table();
    let r = t.get(s, G)?;
    assert_eq!(r.iif, UP_IDX);
    r.oifs
        .iter()
        .find(|o| o.ifindex == LAN_IDX)
        .map(|o| o.forwarding)
}

#[test]
fn a_configuration_asks_for_the_forwarder_on_its_interfaces_and_queries_the_lan() {
    let now = Instant::now();
    let mut mc = started(None, now);
    let effects: Vec<Effect> = mc.effects().collect();
    let forward: Vec<Vec<u32>> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Forward(ifs) => Some(ifs.iter().map(|i| i.ifindex).collect()),
            _ => None,
        })
        .collect();
    assert_eq!(forward.last(), Some(&vec![LAN_IDX, UP_IDX]), "{forward:?}");
    // IGMP starts as querier: a general query out of the LAN, with the LAN's MAC.
    let frames: Vec<&Vec<u8>> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Frame { interface, frame } if interface == LAN => Some(frame),
            _ => None,
        })
        .collect();
    assert!(!frames.is_empty());
    assert_eq!(frames[0][6..12], [2, 0, 0, 0, 0, LAN_IDX as u8]);
    assert_eq!(frames[0][14 + 9], IGMP_PROTO);
    // Routing off: the forwarder stops.
    let off = config::Multicast {
        routing_enable: false,
        ..cfg(None)
    };
    mc.apply(&off, &links(), &addrs(), now);
    let mut last = mc.effects().filter_map(|e| match e {
        Effect::Forward(ifs) => Some(ifs.len()),
        _ => None,
    });
    assert_eq!(last.next_back(), Some(0));
}

#[test]
fn an_upcall_with_a_listener_makes_a_route_and_the_gate_switches_its_oif() {
    let now = Instant::now();
    let mut mc = started(Some(("ic0", 1)), now);
    mc.control_frame(LAN, &report(G), now);
    mc.upcall(CONNECTED_SOURCE, G, UP_IDX, now);
    assert_eq!(
        lan_oif(&mc, CONNECTED_SOURCE),
        None,
        "computed once per pass"
    );
    mc.flush(now);
    // No route lookup for a connected source.
    assert!(!mc.effects().any(|e| matches!(e, Effect::ReadRib)));
    assert_eq!(lan_oif(&mc, CONNECTED_SOURCE), Some(false), "gate closed");
    mc.set_gate("ic0", 1, true, false, now, 1);
    assert_eq!(lan_oif(&mc, CONNECTED_SOURCE), Some(true), "gate open");
    mc.set_gate("ic0", 1, false, false, now, 2);
    assert_eq!(
        lan_oif(&mc, CONNECTED_SOURCE),
        Some(false),
        "gate closed again"
    );
    // Another group's gate changes nothing.
    mc.set_gate("ic0", 2, true, false, now, 3);
    assert_eq!(lan_oif(&mc, CONNECTED_SOURCE), Some(false));
}

#[test]
fn a_listener_that_goes_silent_is_dropped_from_the_route() {
    let now = Instant::now();
    let mut mc = started(None, now);
    mc.control_frame(LAN, &report(G), now);
    mc.upcall(CONNECTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    assert_eq!(lan_oif(&mc, CONNECTED_SOURCE), Some(true));
    // Group membership interval: robustness x query interval + max response (130 s).
    let mut t = now;
    let end = now + Duration::from_secs(200);
    while let Some(d) = mc.next_deadline().filter(|d| *d <= end) {
        t = d.max(t);
        mc.on_timer(t);
        mc.flush(t);
    }
    assert_eq!(lan_oif(&mc, CONNECTED_SOURCE), None);
}

#[test]
fn a_routed_source_asks_for_the_routing_table_once_and_waits_for_it() {
    let now = Instant::now();
    let mut mc = started(None, now);
    mc.control_frame(LAN, &report(G), now);
    let _ = mc.effects();
    mc.upcall(ROUTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    mc.upcall(ROUTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    let reads = mc
        .effects()
        .filter(|e| matches!(e, Effect::ReadRib))
        .count();
    assert_eq!(reads, 1, "one read in flight");
    // Until the table is in, a source that is not connected has no path: no route.
    assert_eq!(lan_oif(&mc, ROUTED_SOURCE), None);
    // The table routes it through the uplink: the route is computed when it comes in.
    mc.rib_loaded(Ok(dataplane::netlink::Rib::new(vec![ROUTE])), now);
    mc.flush(now);
    assert_eq!(lan_oif(&mc, ROUTED_SOURCE), Some(true));
    assert!(!mc.effects().any(|e| matches!(e, Effect::ReadRib)));
    // A reader that cannot start: no read asked for again on every lookup.
    let mut mc = started(None, now);
    mc.upcall(ROUTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    assert!(mc.effects().any(|e| matches!(e, Effect::ReadRib)));
    mc.rib_unavailable();
    mc.upcall(Ipv4Addr::new(172, 16, 0, 2), G, UP_IDX, now);
    mc.flush(now);
    assert!(!mc.effects().any(|e| matches!(e, Effect::ReadRib)));
}

/// A PIM Hello from `src` on the uplink, as an Ethernet frame.
pub(super) fn hello(src: Ipv4Addr) -> Vec<u8> {
    let h = crate::engines::pim::packet::Hello {
        holdtime: Some(105),
        generation_id: Some(7),
        ..Default::default()
    };
    pim_frame(src, crate::engines::pim::packet::Message::Hello(h))
}

/// A PIM message from `src` to ALL-PIM-ROUTERS, as an Ethernet frame.
pub(super) fn pim_frame(src: Ipv4Addr, m: crate::engines::pim::packet::Message) -> Vec<u8> {
    dataplane::wire::ipv4_frame(
        [2, 0, 0, 0, 0x99, 1],
        [0x01, 0x00, 0x5e, 0, 0, 13],
        src,
        Ipv4Addr::new(224, 0, 0, 13),
        1,
        super::interfaces::PIM_PROTO,
        &[],
        &m.encode(),
    )
}

/// PIM on the uplink as well as IGMP on the LAN.
pub(super) fn cfg_pim_uplink() -> config::Multicast {
    let mut c = cfg(None);
    let pim = config::Pim {
        dr_priority: 1,
        hello_interval_s: 30,
        ignore_dr: false,
        ignore_assert: false,
    };
    c.interfaces.get_mut(UP).expect("uplink").pim = Some(pim);
    c
}

/// The uplink is point-to-point or unnumbered: the kernel routes the source `dev up0` with no
/// gateway, and the router at the other end (a PIM neighbor from another subnet) is the next
/// hop. The (S,G) Join goes to it; without a gateway it used to go nowhere.
#[test]
fn a_source_behind_a_point_to_point_link_is_joined_through_its_only_neighbor() {
    let now = Instant::now();
    let mut mc = Multicast::new(1);
    mc.apply(&cfg_pim_uplink(), &links(), &addrs(), now);
    let peer = Ipv4Addr::new(192, 0, 2, 1);
    mc.control_frame(UP, &hello(peer), now);
    mc.control_frame(LAN, &report(G), now);
    mc.flush(now);
    let _ = mc.effects();
    let p2p = dataplane::netlink::Route {
        gateway: None,
        ..ROUTE
    };
    mc.rib_loaded(Ok(dataplane::netlink::Rib::new(vec![p2p])), now);
    mc.upcall(ROUTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    assert_eq!(lan_oif(&mc, ROUTED_SOURCE), Some(true));
    let e = mc
        .tib
        .entry(Some(ROUTED_SOURCE), G)
        .expect("(S,G) upstream state");
    assert!(e.join_desired());
    assert_eq!(e.rpf_neighbor(), Some(peer));
    // A second neighbor on the link: which one is the next hop is unknown, so no Join.
    mc.control_frame(UP, &hello(Ipv4Addr::new(192, 0, 2, 2)), now);
    mc.flush(now);
    assert!(mc
        .tib
        .entry(Some(ROUTED_SOURCE), G)
        .is_none_or(|e| !e.join_desired()));
}

/// RPF' (RFC 7761 §4.1.6): another router on the upstream LAN wins the (S,G) Assert there, so
/// it is the one that forwards onto that LAN, and our Join goes to it instead of the unicast
/// next hop.
#[test]
fn the_join_follows_the_assert_winner_on_the_upstream_lan() {
    use crate::engines::pim::packet::{Assert, EncodedGroup, Message};
    let now = Instant::now();
    let mut mc = Multicast::new(1);
    mc.apply(&cfg_pim_uplink(), &links(), &addrs(), now);
    let next_hop = ROUTE.gateway.expect("gateway");
    let other = Ipv4Addr::new(10, 1, 0, 253);
    mc.control_frame(UP, &hello(next_hop), now);
    mc.control_frame(UP, &hello(other), now);
    mc.control_frame(LAN, &report(G), now);
    mc.rib_loaded(Ok(dataplane::netlink::Rib::new(vec![ROUTE])), now);
    mc.upcall(ROUTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    let rpf_neighbor = |mc: &Multicast| {
        mc.tib
            .entry(Some(ROUTED_SOURCE), G)
            .filter(|e| e.join_desired())
            .and_then(|e| e.rpf_neighbor())
    };
    assert_eq!(rpf_neighbor(&mc), Some(next_hop));
    let assert = Assert {
        group: EncodedGroup::host(G),
        source: ROUTED_SOURCE,
        rpt: false,
        metric_preference: 20,
        metric: 5,
    };
    mc.control_frame(UP, &pim_frame(other, Message::Assert(assert)), now);
    mc.flush(now);
    assert_eq!(rpf_neighbor(&mc), Some(other), "RPF' is the Assert winner");
}

/// PIM on both interfaces with the static RP `rp`; the LAN forwards whether or not we are
/// its DR (the vendor knob), as another router on it is.
fn with_rp_forwarding_on_the_lan(rp: Ipv4Addr, now: Instant) -> Multicast {
    let mut c = cfg_pim_uplink();
    c.rp = Some(rp);
    let lan_pim = c.interfaces[UP].pim.map(|p| config::Pim {
        ignore_dr: true,
        ..p
    });
    c.interfaces.get_mut(LAN).expect("lan").pim = lan_pim;
    let mut mc = Multicast::new(1);
    mc.apply(&c, &links(), &addrs(), now);
    mc
}

/// While a route is on the RP tree (its data comes in on the path toward the RP, not the one
/// toward the source), our claim in an (S,G) Assert is the RP tree's metric, with the RPT bit
/// that makes it lose to any shortest-path one (RFC 7761 §4.6.1-§4.6.2): a router asserting
/// a worse unicast metric toward the source than ours still wins the LAN.
#[test]
fn on_the_rp_tree_we_assert_with_the_rpt_metric_and_lose_to_a_shortest_path_claim() {
    use crate::engines::pim::iface::AssertState;
    use crate::engines::pim::packet::{Assert, EncodedGroup, Message};
    let now = Instant::now();
    let rp = Ipv4Addr::new(10, 9, 9, 9);
    let mut mc = with_rp_forwarding_on_the_lan(rp, now);
    // The RP behind the uplink; the source behind a router on the LAN.
    let to_rp = dataplane::netlink::Route {
        dst: Ipv4Addr::new(10, 9, 0, 0),
        ..ROUTE
    };
    let to_source = dataplane::netlink::Route {
        oif: LAN_IDX,
        gateway: Some(Ipv4Addr::new(192, 168, 1, 254)),
        ..ROUTE
    };
    mc.rib_loaded(
        Ok(dataplane::netlink::Rib::new(vec![to_rp, to_source])),
        now,
    );
    let other = Ipv4Addr::new(192, 168, 1, 253);
    mc.control_frame(UP, &hello(ROUTE.gateway.expect("gateway")), now);
    mc.control_frame(LAN, &hello(other), now);
    mc.control_frame(LAN, &report(G), now);
    // The source's data comes down the RP tree, in on the uplink, out onto the LAN.
    mc.upcall(ROUTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    assert_eq!(lan_oif(&mc, ROUTED_SOURCE), Some(true));
    let lan_assert = |mc: &Multicast| {
        mc.ifs
            .pim_at(LAN_IDX)
            .expect("PIM on the LAN")
            .assert_state(Some(ROUTED_SOURCE), G)
    };
    assert_eq!(lan_assert(&mc), AssertState::NoInfo);
    // Worse than our static route toward the source (preference 1, metric 0), but on the
    // shortest-path tree.
    let assert = Assert {
        group: EncodedGroup::host(G),
        source: ROUTED_SOURCE,
        rpt: false,
        metric_preference: 200,
        metric: 1000,
    };
    mc.control_frame(LAN, &pim_frame(other, Message::Assert(assert)), now);
    mc.flush(now);
    assert_eq!(lan_assert(&mc), AssertState::Loser { winner: other });
}

/// The Asserts sent on `name` among the effects.
fn asserts_sent(mc: &mut Multicast, name: &str) -> Vec<crate::engines::pim::packet::Assert> {
    use crate::engines::pim::packet::Message;
    mc.effects()
        .filter_map(|e| match e {
            Effect::Frame { interface, frame } if interface == name => Some(frame),
            _ => None,
        })
        .filter_map(|f| {
            let ip = f.get(14..)?;
            let (ihl, total) = dataplane::wire::ipv4_bounds(ip)?;
            (ip[9] == super::interfaces::PIM_PROTO).then_some(())?;
            match Message::decode(&ip[ihl..total]).ok()? {
                Message::Assert(a) => Some(a),
                _ => None,
            }
        })
        .collect()
}

/// Data of a route on the RP tree arriving on one of its outgoing interfaces (another router
/// forwards it there): we assert as (*,G), with the RPT bit and our metric toward the RP, not
/// the one toward the source (RFC 7761 §4.6.2).
#[test]
fn data_on_an_outgoing_interface_while_on_the_rp_tree_asserts_with_the_rpt_metric() {
    let now = Instant::now();
    let (side, side_idx) = ("side0", 9);
    let rp = Ipv4Addr::new(10, 9, 9, 9);
    let mut c = cfg_pim_uplink();
    c.rp = Some(rp);
    let pim = c.interfaces[UP].pim.map(|p| config::Pim {
        ignore_dr: true,
        ..p
    });
    c.interfaces.get_mut(LAN).expect("lan").pim = pim;
    c.interfaces.insert(
        side.to_string(),
        config::McInterface {
            pim,
            ..Default::default()
        },
    );
    let mut l = links();
    let mut side_link = l[UP].clone();
    (side_link.index, side_link.name) = (side_idx, side.to_string());
    l.insert(side.to_string(), side_link);
    let mut a = addrs();
    a.push(Addr {
        index: side_idx,
        ip: Ipv4Addr::new(10, 2, 0, 1),
        prefix_len: 24,
    });
    let mut mc = Multicast::new(1);
    mc.apply(&c, &l, &a, now);
    // The RP behind the uplink (preference 1, metric 7); the source behind the side link
    // (OSPF: preference 110, metric 30).
    let to_rp = dataplane::netlink::Route {
        dst: Ipv4Addr::new(10, 9, 0, 0),
        metric: 7,
        ..ROUTE
    };
    let to_source = dataplane::netlink::Route {
        oif: side_idx,
        gateway: Some(Ipv4Addr::new(10, 2, 0, 254)),
        protocol: 188,
        metric: 30,
        ..ROUTE
    };
    mc.rib_loaded(
        Ok(dataplane::netlink::Rib::new(vec![to_rp, to_source])),
        now,
    );
    mc.control_frame(LAN, &report(G), now);
    mc.upcall(ROUTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    assert_eq!(lan_oif(&mc, ROUTED_SOURCE), Some(true));
    let _ = mc.effects();
    // The same flow's data on the LAN, where we forward it.
    mc.upcall(ROUTED_SOURCE, G, LAN_IDX, now);
    mc.flush(now);
    let sent = asserts_sent(&mut mc, LAN);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let got = sent[0];
    assert!(got.rpt, "{got:?}");
    assert_eq!(
        (
            got.group.address,
            got.metric_preference & 0x7fff_ffff,
            got.metric
        ),
        (G, 1, 7),
        "{got:?}"
    );
}

/// RFC 7761 §4.6.1, (S,G) machine in NoInfo, "Receive Assert with RPTbit set and
/// CouldAssert(S,G,I)": we forward a source onto the LAN on the shortest-path tree, and
/// another router says it forwards the group there down the RP tree, with a better metric
/// toward its RP than ours. Our SPT claim beats any RP-tree one: we answer with Assert(S,G)
/// and keep forwarding. (Taken as a (*,G) Assert only, it made us the (*,G) loser and the
/// LAN was pruned from the source's route, while the other router, which never heard our
/// (S,G) claim, kept the source on its RP-tree path: the LAN got the source through the
/// worse path, or not at all once that router pruned it for the SPT.)
#[test]
fn an_rpt_assert_for_a_source_we_forward_on_the_spt_is_answered_with_our_sg_assert() {
    use crate::engines::pim::iface::AssertState;
    use crate::engines::pim::packet::{Assert, EncodedGroup, Message};
    let now = Instant::now();
    let rp = Ipv4Addr::new(10, 9, 9, 9);
    let mut mc = with_rp_forwarding_on_the_lan(rp, now);
    // The source and the RP both behind the uplink (static: preference 1; metrics 0 and 7).
    let to_rp = dataplane::netlink::Route {
        dst: Ipv4Addr::new(10, 9, 0, 0),
        metric: 7,
        ..ROUTE
    };
    mc.rib_loaded(Ok(dataplane::netlink::Rib::new(vec![to_rp, ROUTE])), now);
    let other = Ipv4Addr::new(192, 168, 1, 253);
    mc.control_frame(UP, &hello(ROUTE.gateway.expect("gateway")), now);
    mc.control_frame(LAN, &hello(other), now);
    mc.control_frame(LAN, &report(G), now);
    // The source's data comes in on the RPF interface toward it: on the SPT.
    mc.upcall(ROUTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    assert_eq!(lan_oif(&mc, ROUTED_SOURCE), Some(true));
    let _ = mc.effects();
    // The other router's RP-tree claim for the source: preference 1, metric 1 toward its RP.
    let rpt = Assert {
        group: EncodedGroup::host(G),
        source: ROUTED_SOURCE,
        rpt: true,
        metric_preference: 1,
        metric: 1,
    };
    mc.control_frame(LAN, &pim_frame(other, Message::Assert(rpt)), now);
    mc.flush(now);
    let sent = asserts_sent(&mut mc, LAN);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let got = sent[0];
    assert!(!got.rpt, "{got:?}");
    assert_eq!(
        (got.source, got.metric_preference & 0x7fff_ffff, got.metric),
        (ROUTED_SOURCE, 1, 0),
        "{got:?}"
    );
    let lan = mc.ifs.pim_at(LAN_IDX).expect("PIM on the LAN");
    assert_eq!(
        lan.assert_state(Some(ROUTED_SOURCE), G),
        AssertState::Winner
    );
    assert_eq!(lan.assert_state(None, G), AssertState::NoInfo);
    assert_eq!(lan_oif(&mc, ROUTED_SOURCE), Some(true), "still forwarding");
}

/// Many route notifications during a read of the routing table: the engine replays them onto
/// the fresh copy a chunk per timer run (due at once), not all in one go, and computes the
/// routes with it when it is done.
#[test]
fn a_long_replay_runs_from_the_timer_a_chunk_at_a_time() {
    let now = Instant::now();
    let mut mc = started(None, now);
    mc.control_frame(LAN, &report(G), now);
    mc.upcall(ROUTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    assert!(mc.effects().any(|e| matches!(e, Effect::ReadRib)));
    let many = crate::engines::rib_copy::REPLAY_CHUNK + 10;
    for i in 0..many as u32 {
        let r = dataplane::netlink::Route {
            dst: Ipv4Addr::from(0x0b00_0000 + (i << 8)),
            prefix_len: 24,
            ..ROUTE
        };
        mc.route_event(r, false, false);
    }
    mc.route_event(ROUTE, false, false);
    mc.rib_loaded(Ok(dataplane::netlink::Rib::default()), now);
    mc.flush(now);
    assert_eq!(lan_oif(&mc, ROUTED_SOURCE), None, "replay not done yet");
    // Due at the instant the copy came in, not at whatever instant the clock shows when
    // asked: the protocol loop judges deadlines against a `now` it took before asking.
    let due = mc.next_deadline().expect("the replay is due");
    assert!(due <= now, "the replay is due at once, not later");
    mc.on_timer(now);
    mc.flush(now);
    assert_eq!(lan_oif(&mc, ROUTED_SOURCE), Some(true));
    assert!(mc.next_deadline().is_none_or(|t| t > now));
}

mod register;
