//! Register and Register-Stop through the engine (RFC 7761 §4.4): the DR puts a register
//! tunnel in the route of a directly connected source and takes it out on a Register-Stop;
//! the RP forwards what Registers carry, joins toward the source and stops the DR once the
//! data arrives natively.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::*;
use crate::engines::pim::packet::{EncodedGroup, Pdu, Register, RegisterStop};
use crate::engines::pim::register::RegisterState;

/// The RP, beyond the uplink.
const RP: Ipv4Addr = Ipv4Addr::new(10, 9, 9, 9);
/// Our address on the uplink.
const UP_ADDR: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
/// The source's DR, registering to us (RP tests).
const DR: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 2);

/// PIM on the uplink (we are its DR: no other router there) and IGMP on the LAN, the static
/// RP `rp`.
fn cfg_rp(rp: Ipv4Addr, suppression_s: u16) -> config::Multicast {
    config::Multicast {
        rp: Some(rp),
        register_suppression_s: suppression_s,
        ..cfg_pim_uplink()
    }
}

/// A UDP data packet from `s` to `g` (an IPv4 packet, no Ethernet header).
fn data_packet(s: Ipv4Addr, g: Ipv4Addr, seq: u8) -> Vec<u8> {
    let mut udp = vec![0x13, 0x88, 0x13, 0x88, 0, 12, 0, 0];
    udp.extend_from_slice(&[0, 0, 0, seq]);
    dataplane::wire::ipv4_frame([0; 6], [0; 6], s, g, 16, 17, &[], &udp)[14..].to_vec()
}

fn route_register(mc: &Multicast, s: Ipv4Addr) -> Option<Ipv4Addr> {
    mc.table().get(s, G).expect("route").register_to
}

fn unicasts(mc: &mut Multicast) -> Vec<(Ipv4Addr, Pdu)> {
    mc.effects()
        .filter_map(|e| match e {
            Effect::Unicast { to, pim, .. } => Some((to, Pdu::decode(&pim).expect("valid PIM"))),
            _ => None,
        })
        .collect()
}

/// Runs the engine's timers up to `end`.
fn run_until(mc: &mut Multicast, from: Instant, end: Instant) -> Instant {
    let mut t = from;
    while let Some(d) = mc.next_deadline().filter(|d| *d <= end) {
        t = d.max(t);
        mc.on_timer(t);
        mc.flush(t);
    }
    end
}

#[test]
fn the_dr_registers_a_connected_source_until_a_register_stop_then_probes() {
    let now = Instant::now();
    let mut mc = Multicast::new(1);
    mc.apply(&cfg_rp(RP, 10), &links(), &addrs(), now);
    mc.upcall(CONNECTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    assert_eq!(
        route_register(&mc, CONNECTED_SOURCE),
        Some(RP),
        "register tunnel up"
    );
    assert_eq!(mc.register_state(CONNECTED_SOURCE, G), RegisterState::Join);

    // The RP says stop: the tunnel leaves the route.
    let stop = Pdu::RegisterStop(RegisterStop {
        group: EncodedGroup::host(G),
        source: CONNECTED_SOURCE,
    })
    .encode();
    // From an address that is not the RP (forged, or the DR's neighbour): dropped.
    mc.unicast_pim(DR, UP_ADDR, Some(UP_IDX), None, &stop, now);
    mc.flush(now);
    assert_eq!(route_register(&mc, CONNECTED_SOURCE), Some(RP));
    assert_eq!(mc.register_state(CONNECTED_SOURCE, G), RegisterState::Join);
    assert_eq!(mc.reg.rx_errors, 1);
    mc.unicast_pim(RP, UP_ADDR, Some(UP_IDX), None, &stop, now);
    mc.flush(now);
    assert_eq!(route_register(&mc, CONNECTED_SOURCE), None);
    assert_eq!(mc.register_state(CONNECTED_SOURCE, G), RegisterState::Prune);
    // Both were received; one was used.
    assert_eq!(mc.reg.counters[&UP_IDX].rx_register_stop, 2);
    let _ = mc.effects();

    // Register-Stop Timer (0.5-1.5 x 10 s, less the probe time): a Null-Register probes.
    // (The source's data keeps arriving: the route's counter moves.)
    let mut t = now;
    let mut probe = None;
    while probe.is_none() && t < now + Duration::from_secs(15) {
        t += Duration::from_millis(500);
        mc.table()
            .get(CONNECTED_SOURCE, G)
            .expect("route")
            .counters
            .add(100);
        mc.on_timer(t);
        mc.flush(t);
        probe = unicasts(&mut mc).into_iter().find_map(|(to, p)| match p {
            Pdu::Register(r) => Some((to, r)),
            _ => None,
        });
    }
    let (to, r) = probe.expect("a Null-Register within 1.5 x the suppression time");
    assert_eq!(to, RP);
    assert!(r.null);
    assert_eq!(r.source_group(), Some((CONNECTED_SOURCE, G)));
    assert_eq!(
        mc.register_state(CONNECTED_SOURCE, G),
        RegisterState::JoinPending
    );
    assert_eq!(
        route_register(&mc, CONNECTED_SOURCE),
        None,
        "no data while probing"
    );

    // No answer within the probe time: register again.
    let t = run_until(&mut mc, t, t + Duration::from_secs(6));
    let _ = t;
    assert_eq!(mc.register_state(CONNECTED_SOURCE, G), RegisterState::Join);
    assert_eq!(route_register(&mc, CONNECTED_SOURCE), Some(RP));
}

#[test]
fn no_register_tunnel_when_we_are_the_rp_or_the_source_is_not_connected_or_the_group_is_ssm() {
    let now = Instant::now();
    // We are the RP.
    let mut mc = Multicast::new(1);
    mc.apply(&cfg_rp(UP_ADDR, 0), &links(), &addrs(), now);
    mc.upcall(CONNECTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    assert_eq!(route_register(&mc, CONNECTED_SOURCE), None);
    // No RP.
    let mut mc = Multicast::new(1);
    mc.apply(&cfg_pim_uplink(), &links(), &addrs(), now);
    mc.upcall(CONNECTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    assert_eq!(route_register(&mc, CONNECTED_SOURCE), None);
    // A routed source: its own DR registers it, not us.
    let mut mc = Multicast::new(1);
    mc.apply(&cfg_rp(RP, 0), &links(), &addrs(), now);
    mc.rib_loaded(Ok(dataplane::netlink::Rib::new(vec![ROUTE])), now);
    mc.upcall(ROUTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    assert_eq!(route_register(&mc, ROUTED_SOURCE), None);
    // SSM never uses the RP.
    let ssm_g = Ipv4Addr::new(232, 1, 1, 1);
    mc.upcall(CONNECTED_SOURCE, ssm_g, UP_IDX, now);
    mc.flush(now);
    assert_eq!(
        mc.table()
            .get(CONNECTED_SOURCE, ssm_g)
            .expect("route")
            .register_to,
        None
    );
}

#[test]
fn not_the_dr_on_the_source_lan_no_register_tunnel() {
    let now = Instant::now();
    let mut mc = Multicast::new(1);
    mc.apply(&cfg_rp(RP, 0), &links(), &addrs(), now);
    // A neighbor with a higher address and the same priority is the DR.
    mc.control_frame(UP, &hello(Ipv4Addr::new(10, 1, 0, 200)), now);
    mc.upcall(CONNECTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    assert_eq!(route_register(&mc, CONNECTED_SOURCE), None);
    assert_eq!(
        mc.register_state(CONNECTED_SOURCE, G),
        RegisterState::NoInfo
    );
}

/// The RP: a routed source registered by its DR, a receiver on the LAN.
fn rp_with_receiver(now: Instant) -> Multicast {
    let mut mc = Multicast::new(1);
    mc.apply(&cfg_rp(UP_ADDR, 0), &links(), &addrs(), now);
    mc.control_frame(UP, &hello(ROUTE.gateway.expect("gateway")), now);
    mc.control_frame(LAN, &report(G), now);
    mc.rib_loaded(Ok(dataplane::netlink::Rib::new(vec![ROUTE])), now);
    mc.flush(now);
    let _ = mc.effects();
    mc
}

fn register(seq: u8) -> Vec<u8> {
    Pdu::Register(Register::data(data_packet(ROUTED_SOURCE, G, seq))).encode()
}

/// Frames the engine sends out of the LAN.
fn lan_frames(mc: &mut Multicast) -> Vec<Vec<u8>> {
    mc.effects()
        .filter_map(|e| match e {
            Effect::Frame { interface, frame } if interface == LAN => Some(frame),
            _ => None,
        })
        .collect()
}

#[test]
fn the_rp_forwards_registered_data_joins_toward_the_source_and_stops_the_dr_on_the_spt() {
    let now = Instant::now();
    let mut mc = rp_with_receiver(now);
    mc.unicast_pim(DR, UP_ADDR, Some(UP_IDX), None, &register(1), now);
    mc.flush(now);
    let effects: Vec<Effect> = mc.effects().collect();
    // The inner packet goes out of the LAN: to the group's MAC, from ours, TTL one less.
    let out: Vec<&Vec<u8>> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Frame { interface, frame } if interface == LAN && frame[14 + 9] == 17 => {
                Some(frame)
            }
            _ => None,
        })
        .collect();
    assert_eq!(out.len(), 1, "one decapsulated copy");
    let f = out[0];
    assert_eq!(f[..6], [0x01, 0x00, 0x5e, 1, 1, 1]);
    assert_eq!(f[6..12], [2, 0, 0, 0, 0, LAN_IDX as u8]);
    let inner = data_packet(ROUTED_SOURCE, G, 1);
    assert_eq!(f[14 + 8], inner[8] - 1, "TTL decremented");
    assert_eq!(
        dataplane::wire::internet(&f[14..34], 0),
        0,
        "header checksum valid"
    );
    assert_eq!(f[34..], inner[20..], "payload intact");
    // Not yet on the SPT: no Register-Stop; a (S,G) Join toward the source's next hop.
    assert!(!effects.iter().any(|e| matches!(e, Effect::Unicast { .. })));
    let e = mc
        .tib
        .entry(Some(ROUTED_SOURCE), G)
        .expect("(S,G) upstream state");
    assert!(e.join_desired());
    assert_eq!(e.rpf_neighbor(), ROUTE.gateway);
    assert_eq!(mc.reg.counters[&UP_IDX].rx_register, 1);

    // The data arrives natively on the RPF interface: the forwarder has the route.
    mc.upcall(ROUTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    assert_eq!(lan_oif(&mc, ROUTED_SOURCE), Some(true));
    let _ = mc.effects();
    // The next Register is not forwarded (its packet came natively) and stops the DR.
    mc.unicast_pim(DR, UP_ADDR, Some(UP_IDX), None, &register(2), now);
    mc.flush(now);
    let effects: Vec<Effect> = mc.effects().collect();
    assert!(!effects
        .iter()
        .any(|e| matches!(e, Effect::Frame { interface, frame } if interface == LAN && frame[14 + 9] == 17)));
    // Sent from the RP address the Register came to: the DR accepts its RP's only.
    let stops: Vec<(Ipv4Addr, Option<Ipv4Addr>, RegisterStop)> = effects
        .into_iter()
        .filter_map(|e| match e {
            Effect::Unicast { to, from, pim } => match Pdu::decode(&pim) {
                Ok(Pdu::RegisterStop(s)) => Some((to, from, s)),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(
        stops,
        vec![(
            DR,
            Some(UP_ADDR),
            RegisterStop {
                group: EncodedGroup::host(G),
                source: ROUTED_SOURCE
            }
        )]
    );
    assert_eq!(mc.reg.counters[&UP_IDX].tx_register_stop, 1);
}

#[test]
fn the_rp_stops_a_register_at_once_without_receivers_and_answers_null_registers() {
    let now = Instant::now();
    let mut mc = Multicast::new(1);
    mc.apply(&cfg_rp(UP_ADDR, 0), &links(), &addrs(), now);
    mc.rib_loaded(Ok(dataplane::netlink::Rib::new(vec![ROUTE])), now);
    let _ = mc.effects();
    mc.unicast_pim(DR, UP_ADDR, Some(UP_IDX), None, &register(1), now);
    mc.flush(now);
    let u = unicasts(&mut mc);
    assert!(
        matches!(&u[..], [(to, Pdu::RegisterStop(s))] if *to == DR && s.source == ROUTED_SOURCE),
        "{u:?}"
    );
    assert!(mc
        .tib
        .entry(Some(ROUTED_SOURCE), G)
        .is_none_or(|e| !e.join_desired()));

    // With a receiver, a Null-Register is not forwarded (nothing in it) and not stopped while
    // the data does not arrive natively.
    let mut mc = rp_with_receiver(now);
    let null = Pdu::Register(Register::null(ROUTED_SOURCE, G)).encode();
    mc.unicast_pim(DR, UP_ADDR, Some(UP_IDX), None, &null, now);
    mc.flush(now);
    assert!(lan_frames(&mut mc).iter().all(|f| f[14 + 9] != 17));
    assert_eq!(mc.reg.counters[&UP_IDX].rx_null_register, 1);
    // On the SPT: the Null-Register is answered with a Register-Stop.
    mc.upcall(ROUTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    let _ = mc.effects();
    mc.unicast_pim(DR, UP_ADDR, Some(UP_IDX), None, &null, now);
    mc.flush(now);
    assert!(unicasts(&mut mc)
        .iter()
        .any(|(to, p)| *to == DR && matches!(p, Pdu::RegisterStop(_))));
}

#[test]
fn registers_not_for_our_rp_address_are_stopped_and_bad_ones_counted() {
    let now = Instant::now();
    let mut mc = Multicast::new(1);
    // The RP is elsewhere: a Register to us is answered with a Register-Stop, not forwarded.
    mc.apply(&cfg_rp(RP, 0), &links(), &addrs(), now);
    mc.control_frame(LAN, &report(G), now);
    let _ = mc.effects();
    mc.unicast_pim(DR, UP_ADDR, Some(UP_IDX), None, &register(1), now);
    mc.flush(now);
    let effects: Vec<Effect> = mc.effects().collect();
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::Unicast { to, .. } if *to == DR)));
    assert!(!effects
        .iter()
        .any(|e| matches!(e, Effect::Frame { frame, .. } if frame[14 + 9] == 17)));
    // A Register whose checksum is wrong: counted as malformed on its interface.
    let mut bad = register(1);
    bad[2] ^= 0xff;
    let before = mc.ifs.get(UP).expect("uplink").pim_malformed;
    mc.unicast_pim(DR, UP_ADDR, Some(UP_IDX), None, &bad, now);
    assert_eq!(mc.ifs.get(UP).expect("uplink").pim_malformed, before + 1);
    assert!(mc.effects().next().is_none());
    // Registers received on the per-interface control socket are left to the raw socket:
    // not counted as malformed there.
    let frame = dataplane::wire::ipv4_frame(
        [2, 0, 0, 0, 0x99, 1],
        [2, 0, 0, 0, 0, UP_IDX as u8],
        DR,
        UP_ADDR,
        64,
        super::super::interfaces::PIM_PROTO,
        &[],
        &register(1),
    );
    mc.control_frame(UP, &frame, now);
    assert_eq!(mc.ifs.get(UP).expect("uplink").pim_malformed, before + 1);
}

/// The switch to the native path happens at one instant of arrival: native frames from the
/// instant the route went out, Registers the kernel received before it (their packets'
/// native copies came while there was no route): each packet goes out once, whatever the
/// order in which the protocol thread reads the two.
#[test]
fn the_rp_switches_to_native_data_at_an_instant_of_arrival() {
    let now = Instant::now();
    let mut mc = rp_with_receiver(now);
    mc.unicast_pim(DR, UP_ADDR, Some(UP_IDX), Some(1), &register(1), now);
    mc.flush(now);
    let _ = mc.effects();
    mc.upcall(ROUTED_SOURCE, G, UP_IDX, now);
    mc.flush(now);
    let t = mc.table();
    let lan = t
        .get(ROUTED_SOURCE, G)
        .expect("native route")
        .oifs
        .iter()
        .find(|o| o.ifindex == LAN_IDX)
        .copied()
        .expect("LAN oif");
    let switch = lan.since_ns;
    assert!(lan.forwarding && switch > 1, "{lan:?}");
    assert!(!lan.forwards_at(switch - 1) && lan.forwards_at(switch));
    // A Register received just before the switch, read after it: still decapsulated.
    mc.unicast_pim(
        DR,
        UP_ADDR,
        Some(UP_IDX),
        Some(switch - 1),
        &register(2),
        now,
    );
    mc.flush(now);
    let effects: Vec<Effect> = mc.effects().collect();
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::Frame { interface, frame } if interface == LAN && frame[14 + 9] == 17)));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Unicast { .. })));
    // One received at or after it: dropped, and the DR is stopped.
    mc.unicast_pim(DR, UP_ADDR, Some(UP_IDX), Some(switch), &register(3), now);
    mc.flush(now);
    let effects: Vec<Effect> = mc.effects().collect();
    assert!(!effects
        .iter()
        .any(|e| matches!(e, Effect::Frame { interface, frame } if interface == LAN && frame[14 + 9] == 17)));
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::Unicast { to, .. } if *to == DR)));
    // The instant stays with the route through later recomputations.
    mc.control_frame(LAN, &report(G), now);
    mc.flush(now);
    let t = mc.table();
    let r = t.get(ROUTED_SOURCE, G).expect("native route");
    assert!(r.oifs.iter().all(|o| o.since_ns == switch));
}
