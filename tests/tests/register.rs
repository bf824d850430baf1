//! PIM Register and Register-Stop between two agents (RFC 7761 §4.4, issue 19 item 1): the
//! source is on A's LAN only, B is the RP with a kernel IGMP receiver behind it. The stream
//! reaches the receiver first through A's Registers (decapsulated by B), then natively once
//! B's (S,G) Join reached A and B stopped A's Registers; the receiver counts each sequence
//! number once.
//!
//! Interop with FRR both ways: `pim_frr.rs`.

use std::time::Duration;

use ne_lab::lab::{
    analyse, counter, leaf_after, multicast_state, pim_state, require, wait_for, Lab, Receiver,
    Sender,
};
use ne_lab::netconf::Blocking;

const MC: &str = "urn:ne-agent:yang:ne-multicast";

fn interface(name: &str, addr: &str, len: u8, extra: &str) -> String {
    format!(
        "<interface><name>{name}</name><ipv4><address><ip>{addr}</ip>\
         <prefix-length>{len}</prefix-length></address></ipv4>{extra}</interface>"
    )
}

fn pim() -> String {
    format!("<pim xmlns=\"{MC}\"><sm>true</sm></pim>")
}

/// A: the source's DR (PIM on the source LAN a-up and on the interconnect a-ic).
fn config_a() -> String {
    format!(
        "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\">{}{}</interfaces>\
         <multicast xmlns=\"{MC}\"><routing-enable>true</routing-enable>\
         <rp-address>192.168.1.2</rp-address><register-suppression-time>60</register-suppression-time></multicast>",
        interface("a-up", "10.1.0.1", 24, &pim()),
        interface("a-ic", "10.0.0.1", 29, &pim()),
    )
}

/// B: the RP, at its address on the receivers' LAN (not the interconnect's, so its
/// Register-Stops must be sent from the RP address the Registers came to: A accepts them
/// from its RP only), IGMP toward the receiver; b-up is left unconfigured (down), so B hears
/// the source only through A.
fn config_b() -> String {
    format!(
        "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\">{}{}</interfaces>\
         <multicast xmlns=\"{MC}\"><routing-enable>true</routing-enable>\
         <rp-address>192.168.1.2</rp-address></multicast>",
        interface("b-ic", "10.0.0.2", 29, &pim()),
        interface(
            "b-dn",
            "192.168.1.2",
            24,
            &format!("<igmp xmlns=\"{MC}\"><enabled>true</enabled></igmp>")
        ),
    )
}

fn state(c: &mut Blocking) -> String {
    multicast_state(c).expect("get multicast")
}

#[test]
fn a_source_on_the_drs_lan_reaches_the_rp_through_registers_then_natively() {
    if !require() {
        return;
    }
    let mut lab = Lab::build().expect("lab");
    let (mut ca, mut cb) = lab.start_agents().expect("agents");
    ca.edit_running(&config_a()).expect("configure A");
    cb.edit_running(&config_b()).expect("configure B");
    assert!(
        wait_for(Duration::from_secs(60), || {
            pim_state(&mut ca, "a-ic").is_ok_and(|p| p.contains("<address>10.0.0.2</address>"))
                && pim_state(&mut cb, "b-ic")
                    .is_ok_and(|p| p.contains("<address>10.0.0.1</address>"))
        }),
        "no PIM adjacency on the interconnect"
    );
    // A reaches the RP address through B.
    lab.ip(
        "a",
        &["route", "replace", "192.168.1.0/24", "via", "10.0.0.2"],
    )
    .expect("route on A");
    let rcv = Receiver::start(&lab).expect("receiver");
    std::thread::sleep(Duration::from_millis(500));
    let src = Sender::start(&lab, 1000).expect("sender");

    // Phase 1: B has no route toward the source yet, so it cannot join toward it: the
    // stream reaches the receiver through A's Registers only.
    let registered = wait_for(Duration::from_secs(30), || rcv.count() > 1000);
    let (sa, sb) = (state(&mut ca), state(&mut cb));
    assert!(
        registered,
        "receiver got {} through Registers; A {sa}\nB {sb}\nA log {}\nB log {}",
        rcv.count(),
        lab.a.log_tail(30),
        lab.b.log_tail(30)
    );
    assert!(sa.contains("<register-state>join</register-state>"), "{sa}");
    assert!(
        !sb.contains("<route><source>10.1.0.10</source>"),
        "B has the data natively already: {sb}"
    );
    assert!(
        counter(&sa, "<forwarding-plane>", "registers-sent") > 1000,
        "{sa}"
    );
    let (_, _, via_registers) = rcv.over(Duration::from_secs(1));
    assert_eq!(via_registers.duplicates, 0, "{via_registers:?}");

    // Phase 2: B's unicast route toward the source's LAN: B joins toward the source, the
    // data arrives natively, B stops A's Registers.
    lab.ip("b", &["route", "replace", "10.1.0.0/24", "via", "10.0.0.1"])
        .expect("route on B");
    let switched = wait_for(Duration::from_secs(30), || {
        state(&mut ca).contains("<register-state>prune</register-state>")
    });
    let (sa, sb) = (state(&mut ca), state(&mut cb));
    assert!(switched, "A still registers: A {sa}\nB {sb}");
    // Two more seconds of native forwarding: A sends no more Registers.
    let regs_a = counter(&sa, "<forwarding-plane>", "registers-sent");
    let (s0, s1, steady) = rcv.over(Duration::from_secs(2));
    let sent = src.stop();
    std::thread::sleep(Duration::from_millis(300));
    let (sa, sb) = (state(&mut ca), state(&mut cb));
    let (pa, pb) = (
        pim_state(&mut ca, "a-ic").expect("pim A"),
        pim_state(&mut cb, "b-ic").expect("pim B"),
    );
    eprintln!("A {sa}\nB {sb}\nA pim {pa}\nB pim {pb}");
    assert!(
        s1 > s0 + 1500,
        "stream stalled after the switch: {s0} -> {s1}"
    );
    assert_eq!(steady.duplicates, 0, "{steady:?}");
    assert_eq!(
        counter(&sa, "<forwarding-plane>", "registers-sent"),
        regs_a,
        "A still registers after the Register-Stop"
    );
    assert!(regs_a > 0, "A never registered: {sa}");

    // The whole run at the receiver: every packet at most once; the first ones came through
    // Registers (more packets reached the receiver than B forwarded natively).
    let log = rcv.received();
    let first = log.iter().map(|&(s, _)| s).min().expect("packets");
    let last = log.iter().map(|&(s, _)| s).max().expect("packets");
    let seen = analyse(&log, first, last);
    let native_b = leaf_after(&sb, "<route><source>10.1.0.10</source>", "packets")
        .and_then(|v| v.parse::<u64>().ok())
        .expect("B's (S,G) route");
    eprintln!(
        "sent {sent}, received {} ({first}..={last}), B forwarded natively {native_b}: {seen:?}",
        log.len()
    );
    assert_eq!(seen.duplicates, 0, "{seen:?}");
    assert!(
        first < 100,
        "the first packets were lost: first received {first}"
    );
    assert!(
        (log.len() as u64) > native_b + 1000,
        "nothing came through Registers: received {}, native {native_b}",
        log.len()
    );
    // Counters at both ends.
    assert!(counter(&pb, "<statistics>", "rx-register") > 0, "{pb}");
    assert!(counter(&pb, "<statistics>", "tx-register-stop") > 0, "{pb}");
    assert!(counter(&pa, "<statistics>", "rx-register-stop") > 0, "{pa}");
    assert!(
        sb.contains("<incoming-interface>b-ic</incoming-interface>"),
        "B's (S,G) route is not on the SPT: {sb}"
    );
}
