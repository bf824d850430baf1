//! The transitions of the Register state machine tables (RFC 7761 §4.4.1) one by one, and the
//! RP's decisions of §4.4.2.

use super::*;
use crate::engines::pim::packet::EncodedGroup;

const S: Ipv4Addr = Ipv4Addr::new(10, 2, 2, 2);
const S2: Ipv4Addr = Ipv4Addr::new(10, 2, 2, 3);
const G: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 1);
const RP: Ipv4Addr = Ipv4Addr::new(10, 9, 9, 9);
const RP2: Ipv4Addr = Ipv4Addr::new(10, 9, 9, 10);
const DR: Ipv4Addr = Ipv4Addr::new(10, 2, 2, 1);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn stop(source: Ipv4Addr) -> RegisterStop {
    RegisterStop {
        group: EncodedGroup::host(G),
        source,
    }
}

fn up(rp: Ipv4Addr) -> DrAction {
    DrAction::TunnelUp {
        source: S,
        group: G,
        rp,
    }
}

fn down() -> DrAction {
    DrAction::TunnelDown {
        source: S,
        group: G,
    }
}

/// A DR registering (S,G) to RP, in Join.
fn joined(t0: Instant) -> DrRegisters {
    let mut d = DrRegisters::new(DrConfig::default(), 7);
    assert_eq!(d.update(S, G, Some(RP), t0), vec![up(RP)]);
    assert_eq!(d.state(S, G), RegisterState::Join);
    d
}

/// The same DR after a Register-Stop, in Prune; returns when its timer expires.
fn pruned(t0: Instant) -> (DrRegisters, Instant) {
    let mut d = joined(t0);
    assert_eq!(d.receive_register_stop(RP, &stop(S), t0), vec![down()]);
    assert_eq!(d.state(S, G), RegisterState::Prune);
    let t = d.next_deadline().expect("Register-Stop Timer runs");
    (d, t)
}

/// In Join-Pending after the probe; returns when its timer expires.
fn join_pending(t0: Instant) -> (DrRegisters, Instant) {
    let (mut d, t) = pruned(t0);
    d.on_timer(t);
    assert_eq!(d.state(S, G), RegisterState::JoinPending);
    (d, t + REGISTER_PROBE_TIME)
}

#[test]
fn noinfo_could_register_joins_and_encapsulates() {
    let t0 = Instant::now();
    let mut d = DrRegisters::new(DrConfig::default(), 1);
    assert_eq!(d.state(S, G), RegisterState::NoInfo);
    assert_eq!(d.encapsulate(S, G, b"x"), None);
    // NoInfo ignores CouldRegister -> False, Register-Stop and timers.
    assert!(d.update(S, G, None, t0).is_empty());
    assert!(d.receive_register_stop(RP, &stop(S), t0).is_empty());
    assert!(d.on_timer(t0 + secs(1000)).is_empty());
    assert_eq!(d.next_deadline(), None);
    // CouldRegister -> True: Join, tunnel added.
    assert_eq!(d.update(S, G, Some(RP), t0), vec![up(RP)]);
    assert_eq!(d.state(S, G), RegisterState::Join);
    assert_eq!(d.next_deadline(), None);
    let (rp, reg) = d.encapsulate(S, G, b"packet").expect("tunnel up");
    assert_eq!(rp, RP);
    assert_eq!(reg, Register::data(b"packet".to_vec()));
    assert_eq!(d.encapsulate(S2, G, b"packet"), None);
    // CouldRegister still true: nothing new.
    assert!(d.update(S, G, Some(RP), t0).is_empty());
}

#[test]
fn join_transitions() {
    let t0 = Instant::now();
    // CouldRegister -> False: NoInfo, tunnel removed.
    let mut d = joined(t0);
    assert_eq!(d.update(S, G, None, t0), vec![down()]);
    assert_eq!(d.state(S, G), RegisterState::NoInfo);
    assert_eq!(d.entries().count(), 0);
    // RP changed: still Join, tunnel to the new RP.
    let mut d = joined(t0);
    assert_eq!(d.update(S, G, Some(RP2), t0), vec![up(RP2)]);
    assert_eq!(d.state(S, G), RegisterState::Join);
    assert_eq!(d.encapsulate(S, G, b"p").map(|(rp, _)| rp), Some(RP2));
    // Register-Stop: Prune, tunnel removed, Register-Stop Timer set (checked below).
    let (d, _) = pruned(t0);
    assert_eq!(d.encapsulate(S, G, b"p"), None);
}

#[test]
fn register_stop_timer_is_random_within_the_rfc_range() {
    // rand(0.5, 1.5) x 60 s less the 5 s probe: within [25 s, 85 s).
    let t0 = Instant::now();
    let mut seen = std::collections::BTreeSet::new();
    for seed in 1..40 {
        let mut d = DrRegisters::new(DrConfig::default(), seed);
        d.update(S, G, Some(RP), t0);
        d.receive_register_stop(RP, &stop(S), t0);
        let left = d.next_deadline().expect("timer") - t0;
        assert!(left >= secs(25) && left < secs(85), "{left:?}");
        seen.insert(left.as_secs());
    }
    assert!(seen.len() > 10, "not spread: {seen:?}");
}

#[test]
fn prune_transitions() {
    let t0 = Instant::now();
    // Timer expires: Join-Pending, Null-Register to the RP, timer = Register_Probe_Time.
    let (mut d, t) = pruned(t0);
    assert!(d.on_timer(t - Duration::from_millis(1)).is_empty());
    assert_eq!(
        d.on_timer(t),
        vec![DrAction::SendRegister {
            rp: RP,
            register: Register::null(S, G),
        }]
    );
    assert_eq!(d.state(S, G), RegisterState::JoinPending);
    assert_eq!(d.next_deadline(), Some(t + REGISTER_PROBE_TIME));
    assert_eq!(d.encapsulate(S, G, b"p"), None);
    // Register-Stop in Prune: nothing changes, the timer keeps running.
    let (mut d, t) = pruned(t0);
    assert!(d
        .receive_register_stop(RP, &stop(S), t0 + secs(1))
        .is_empty());
    assert_eq!(d.state(S, G), RegisterState::Prune);
    assert_eq!(d.next_deadline(), Some(t));
    // CouldRegister -> False: NoInfo (the tunnel was already down).
    let (mut d, _) = pruned(t0);
    assert!(d.update(S, G, None, t0).is_empty());
    assert_eq!(d.state(S, G), RegisterState::NoInfo);
    assert_eq!(d.next_deadline(), None);
    // RP changed: Join, tunnel to the new RP, timer cancelled.
    let (mut d, _) = pruned(t0);
    assert_eq!(d.update(S, G, Some(RP2), t0), vec![up(RP2)]);
    assert_eq!(d.state(S, G), RegisterState::Join);
    assert_eq!(d.next_deadline(), None);
}

#[test]
fn join_pending_transitions() {
    let t0 = Instant::now();
    // Timer expires (the RP did not answer the probe): Join, tunnel added.
    let (mut d, t) = join_pending(t0);
    assert_eq!(d.on_timer(t), vec![up(RP)]);
    assert_eq!(d.state(S, G), RegisterState::Join);
    assert_eq!(d.next_deadline(), None);
    assert!(d.encapsulate(S, G, b"p").is_some());
    // Register-Stop (the RP answered): Prune with a new suppression period.
    let (mut d, t) = join_pending(t0);
    let now = t - secs(1);
    assert!(d.receive_register_stop(RP, &stop(S), now).is_empty());
    assert_eq!(d.state(S, G), RegisterState::Prune);
    let left = d.next_deadline().expect("timer") - now;
    assert!(left >= secs(25) && left < secs(85));
    // CouldRegister -> False: NoInfo.
    let (mut d, _) = join_pending(t0);
    assert!(d.update(S, G, None, t0).is_empty());
    assert_eq!(d.state(S, G), RegisterState::NoInfo);
    // RP changed: Join, tunnel added, timer cancelled.
    let (mut d, _) = join_pending(t0);
    assert_eq!(d.update(S, G, Some(RP2), t0), vec![up(RP2)]);
    assert_eq!(d.state(S, G), RegisterState::Join);
    assert_eq!(d.next_deadline(), None);
}

#[test]
fn wildcard_and_range_register_stops() {
    let t0 = Instant::now();
    let mut d = DrRegisters::new(DrConfig::default(), 3);
    let g2 = Ipv4Addr::new(239, 2, 2, 2);
    d.update(S, G, Some(RP), t0);
    d.update(S2, G, Some(RP), t0);
    d.update(S, g2, Some(RP), t0);
    // Another source's Register-Stop leaves (S,G) alone.
    d.receive_register_stop(RP, &stop(S2), t0);
    assert_eq!(d.state(S, G), RegisterState::Join);
    assert_eq!(d.state(S2, G), RegisterState::Prune);
    // A wildcard source stops every source of the group, and only of that group.
    let acts = d.receive_register_stop(RP, &stop(Ipv4Addr::UNSPECIFIED), t0);
    assert_eq!(acts, vec![down()]);
    assert_eq!(d.state(S, g2), RegisterState::Join);
    // A range covers both groups.
    let range = RegisterStop {
        group: EncodedGroup {
            address: Ipv4Addr::new(239, 0, 0, 0),
            mask_len: 8,
            bidir: false,
            zone: false,
        },
        source: S,
    };
    d.receive_register_stop(RP, &range, t0);
    assert_eq!(d.state(S, g2), RegisterState::Prune);
}

/// Only the RP a flow registers to can stop it: a Register-Stop from any other address (a
/// forged one, the old RP's after an RP change) leaves the tunnel up.
#[test]
fn a_register_stop_from_another_address_changes_nothing() {
    let t0 = Instant::now();
    let mut d = joined(t0);
    assert!(d.receive_register_stop(DR, &stop(S), t0).is_empty());
    assert!(d.receive_register_stop(RP2, &stop(S), t0).is_empty());
    assert_eq!(d.state(S, G), RegisterState::Join);
    assert!(d.encapsulate(S, G, b"p").is_some());
    // After the RP changes to RP2, the old RP's Register-Stop is not RP2's.
    assert_eq!(d.update(S, G, Some(RP2), t0), vec![up(RP2)]);
    assert!(d.receive_register_stop(RP, &stop(S), t0).is_empty());
    assert_eq!(d.state(S, G), RegisterState::Join);
    assert_eq!(d.receive_register_stop(RP2, &stop(S), t0), vec![down()]);
    assert_eq!(d.state(S, G), RegisterState::Prune);
}

#[test]
fn short_suppression_time_keeps_the_probe_inside() {
    let t0 = Instant::now();
    let config = DrConfig {
        suppression_time: secs(6),
        probe_time: secs(5),
    };
    let mut d = DrRegisters::new(config, 9);
    d.update(S, G, Some(RP), t0);
    d.receive_register_stop(RP, &stop(S), t0);
    // Probe clamped to 3 s: the timer is 3..9 s less 3 s, never negative.
    let left = d.next_deadline().expect("timer") - t0;
    assert!(left < secs(6), "{left:?}");
}

// ---- RP side ----

fn data_register() -> Register {
    let mut r = Register::null(S, G);
    r.null = false;
    r.packet[2..4].copy_from_slice(&24u16.to_be_bytes());
    r.packet.extend_from_slice(b"data");
    r
}

fn rs_to(to: Ipv4Addr) -> RpAction {
    RpAction::SendRegisterStop { to, stop: stop(S) }
}

fn keepalive(period: Duration) -> RpAction {
    RpAction::SetKeepalive {
        source: S,
        group: G,
        period,
    }
}

fn forward(r: &Register) -> RpAction {
    RpAction::Forward {
        source: S,
        group: G,
        packet: r.packet.clone(),
    }
}

const RP_WANTS_SPT: RegisterContext = RegisterContext {
    i_am_rp: true,
    spt_bit: false,
    switch_to_spt_desired: true,
    no_receivers: false,
};

#[test]
fn rp_forwards_down_the_shared_tree_and_joins_toward_the_source() {
    let t0 = Instant::now();
    let mut rp = RpRegisters::new();
    let r = data_register();
    let acts = rp.receive_register(DR, r.clone(), RP_WANTS_SPT, t0);
    assert_eq!(
        acts,
        Ok(vec![
            keepalive(KEEPALIVE_PERIOD),
            RpAction::JoinSource {
                source: S,
                group: G
            },
            forward(&r),
        ])
    );
}

#[test]
fn rp_sends_register_stop_once_native_data_arrives() {
    let t0 = Instant::now();
    let mut rp = RpRegisters::new();
    let ctx = RegisterContext {
        spt_bit: true,
        ..RP_WANTS_SPT
    };
    // Register-Stop, Keepalive at RP_Keepalive_Period, nothing forwarded (the native copy
    // already went).
    assert_eq!(
        rp.receive_register(DR, data_register(), ctx, t0),
        Ok(vec![rs_to(DR), keepalive(RP_KEEPALIVE_PERIOD)])
    );
    // The same for the DR's probe.
    assert_eq!(
        rp.receive_register(DR, Register::null(S, G), ctx, t0),
        Ok(vec![rs_to(DR), keepalive(RP_KEEPALIVE_PERIOD)])
    );
}

#[test]
fn rp_without_receivers_stops_the_registers_at_once() {
    let t0 = Instant::now();
    let mut rp = RpRegisters::new();
    let ctx = RegisterContext {
        no_receivers: true,
        ..RP_WANTS_SPT
    };
    let r = data_register();
    assert_eq!(
        rp.receive_register(DR, r.clone(), ctx, t0),
        Ok(vec![rs_to(DR), keepalive(RP_KEEPALIVE_PERIOD), forward(&r)])
    );
    // A Null-Register is never forwarded.
    assert_eq!(
        rp.receive_register(DR, Register::null(S, G), ctx, t0),
        Ok(vec![rs_to(DR), keepalive(RP_KEEPALIVE_PERIOD)])
    );
}

#[test]
fn rp_staying_on_the_shared_tree_only_forwards() {
    let t0 = Instant::now();
    let mut rp = RpRegisters::new();
    let ctx = RegisterContext {
        switch_to_spt_desired: false,
        ..RP_WANTS_SPT
    };
    let r = data_register();
    assert_eq!(
        rp.receive_register(DR, r.clone(), ctx, t0),
        Ok(vec![forward(&r)])
    );
}

#[test]
fn not_the_rp_answers_with_register_stop() {
    let t0 = Instant::now();
    let mut rp = RpRegisters::new();
    let ctx = RegisterContext::default();
    assert_eq!(
        rp.receive_register(DR, data_register(), ctx, t0),
        Ok(vec![rs_to(DR)])
    );
    let mut junk = data_register();
    junk.packet.truncate(10);
    assert_eq!(
        rp.receive_register(DR, junk, RP_WANTS_SPT, t0),
        Err(RegisterError::InnerPacket)
    );
}

#[test]
fn border_registers_from_a_second_pmbr_are_refused() {
    let t0 = Instant::now();
    let mut rp = RpRegisters::new();
    let pmbr2 = Ipv4Addr::new(10, 3, 3, 3);
    let mut r = data_register();
    r.border = true;
    let first = rp.receive_register(DR, r.clone(), RP_WANTS_SPT, t0);
    assert!(first.is_ok_and(|a| a.contains(&forward(&r))));
    assert_eq!(rp.pmbr(S, G), Some(DR));
    assert_eq!(
        rp.receive_register(pmbr2, r.clone(), RP_WANTS_SPT, t0),
        Ok(vec![rs_to(pmbr2)])
    );
    // The PMBR is forgotten after RP_Keepalive_Period without its Registers.
    assert_eq!(rp.next_deadline(), Some(t0 + RP_KEEPALIVE_PERIOD));
    rp.on_timer(t0 + RP_KEEPALIVE_PERIOD);
    assert_eq!(rp.pmbr(S, G), None);
    let later = rp.receive_register(pmbr2, r.clone(), RP_WANTS_SPT, t0 + secs(200));
    assert!(later.is_ok_and(|a| a.contains(&forward(&r))));
    assert_eq!(rp.pmbr(S, G), Some(pmbr2));
}

/// A DR and an RP against each other: registering, the Register-Stop once the source tree
/// delivers, the probe every suppression period, and registering again when the RP stops
/// answering (it lost its receivers' SPT).
#[test]
fn dr_and_rp_together() {
    let t0 = Instant::now();
    let mut dr = DrRegisters::new(DrConfig::default(), 11);
    let mut rp = RpRegisters::new();
    let mut ctx = RP_WANTS_SPT;
    assert_eq!(dr.update(S, G, Some(RP), t0), vec![up(RP)]);
    let deliver = |dr: &mut DrRegisters, rp: &mut RpRegisters, reg: Register, ctx, now| {
        let acts = rp.receive_register(DR, reg, ctx, now).expect("valid");
        for a in &acts {
            if let RpAction::SendRegisterStop { stop, .. } = a {
                dr.receive_register_stop(RP, stop, now);
            }
        }
        acts
    };
    let (_, reg) = dr.encapsulate(S, G, &data_register().packet).expect("up");
    let acts = deliver(&mut dr, &mut rp, reg, ctx, t0);
    assert!(acts.contains(&RpAction::JoinSource {
        source: S,
        group: G
    }));
    assert_eq!(dr.state(S, G), RegisterState::Join);
    // The SPT delivers natively: the next Register is answered with a Register-Stop.
    ctx.spt_bit = true;
    let (_, reg) = dr.encapsulate(S, G, &data_register().packet).expect("up");
    deliver(&mut dr, &mut rp, reg, ctx, t0 + secs(1));
    assert_eq!(dr.state(S, G), RegisterState::Prune);
    // Probe, answered: back to Prune.
    let t = dr.next_deadline().expect("timer");
    let probe = dr.on_timer(t);
    let [DrAction::SendRegister { register, .. }] = &probe[..] else {
        panic!("expected a Null-Register: {probe:?}");
    };
    deliver(&mut dr, &mut rp, register.clone(), ctx, t);
    assert_eq!(dr.state(S, G), RegisterState::Prune);
    // Next probe goes unanswered (lost): Join again after Register_Probe_Time.
    let t = dr.next_deadline().expect("timer");
    dr.on_timer(t);
    assert_eq!(dr.state(S, G), RegisterState::JoinPending);
    assert_eq!(dr.on_timer(t + REGISTER_PROBE_TIME), vec![up(RP)]);
}

/// The DR registers to RP(G) from the BSR's RP set and follows it when the RP it used times
/// out there (the caller re-reads RP(G) on `BsrAction::RpSetChanged`).
#[test]
fn registers_follow_rp_failover_in_the_bsr_rp_set() {
    use crate::engines::pim::bsr::{BsmArrival, Bsr, BsrAction, BsrConfig};
    use crate::engines::pim::packet::{Bootstrap, BsmGroup, BsmRp};
    use crate::engines::pim::rp_set::{hash_value, GroupRange};
    let t0 = Instant::now();
    let (winner, backup) = if hash_value(G, 30, RP) > hash_value(G, 30, RP2) {
        (RP, RP2)
    } else {
        (RP2, RP)
    };
    let rp = |address, holdtime| BsmRp {
        address,
        holdtime,
        priority: 0,
    };
    let bsm = Bootstrap {
        no_forward: false,
        fragment_tag: 1,
        hash_mask_len: 30,
        bsr_priority: 1,
        bsr_address: Ipv4Addr::new(10, 0, 0, 9),
        groups: vec![BsmGroup {
            group: GroupRange::ALL.to_encoded(),
            rp_count: 2,
            rps: vec![rp(winner, 100), rp(backup, 150)],
        }],
    };
    let arrival = BsmArrival {
        interface: 1,
        unicast: false,
        from_rpf_neighbor: true,
    };
    let mut bsr = Bsr::new(BsrConfig::default(), t0, 1);
    bsr.receive_bootstrap(bsm, arrival, t0).expect("accepted");
    let mut dr = DrRegisters::new(DrConfig::default(), 5);
    assert_eq!(dr.update(S, G, bsr.rp_for(G), t0), vec![up(winner)]);
    let t1 = t0 + secs(100);
    assert!(bsr.on_timer(t1).contains(&BsrAction::RpSetChanged));
    assert_eq!(dr.update(S, G, bsr.rp_for(G), t1), vec![up(backup)]);
    assert_eq!(dr.encapsulate(S, G, b"p").map(|(rp, _)| rp), Some(backup));
    // The last RP gone: no RP(G), no registering.
    bsr.on_timer(t0 + secs(150));
    assert_eq!(dr.update(S, G, bsr.rp_for(G), t0 + secs(150)), vec![down()]);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Ev {
        Update(u8, Option<u8>),
        /// A Register-Stop for a source (or all of them) from one of the two RPs.
        Stop(u8, bool, u8),
        Advance(u16),
    }

    fn ev() -> impl Strategy<Value = Ev> {
        prop_oneof![
            (0u8..3, proptest::option::of(0u8..2)).prop_map(|(s, rp)| Ev::Update(s, rp)),
            (0u8..3, any::<bool>(), 0u8..2).prop_map(|(s, w, rp)| Ev::Stop(s, w, rp)),
            (0u16..120).prop_map(Ev::Advance),
        ]
    }

    proptest! {
        /// Any sequence of inputs: the tunnel is up exactly in Join, the Register-Stop Timer
        /// runs exactly in Prune and Join-Pending, timers never fall due in the past after
        /// `on_timer`, and TunnelUp/TunnelDown alternate per (S,G).
        #[test]
        fn dr_invariants(events in proptest::collection::vec(ev(), 0..60), seed in any::<u64>()) {
            let t0 = Instant::now();
            let mut now = t0;
            let mut dr = DrRegisters::new(DrConfig::default(), seed);
            let sources = [S, S2, Ipv4Addr::new(10, 2, 2, 4)];
            let rps = [RP, RP2];
            let mut up = std::collections::BTreeMap::new();
            for e in events {
                let acts = match e {
                    Ev::Update(s, rp) => dr.update(sources[usize::from(s)], G, rp.map(|r| rps[usize::from(r)]), now),
                    Ev::Stop(s, wildcard, rp) => {
                        let source = if wildcard { Ipv4Addr::UNSPECIFIED } else { sources[usize::from(s)] };
                        let from = rps[usize::from(rp)];
                        let before: Vec<DrEntry> = dr.entries().copied().collect();
                        let acts = dr.receive_register_stop(from, &stop(source), now);
                        // Entries registered to the other RP are untouched.
                        for e in before.iter().filter(|e| e.rp != from) {
                            prop_assert_eq!(dr.entries().find(|x| x.source == e.source), Some(e));
                        }
                        acts
                    }
                    Ev::Advance(secs) => {
                        now += Duration::from_secs(u64::from(secs));
                        let mut acts = Vec::new();
                        while let Some(d) = dr.next_deadline().filter(|d| *d <= now) {
                            acts.extend(dr.on_timer(d));
                            prop_assert!(dr.next_deadline().is_none_or(|n| n > d));
                        }
                        acts
                    }
                };
                for a in acts {
                    match a {
                        DrAction::TunnelUp { source, rp, .. } => { up.insert(source, rp); }
                        DrAction::TunnelDown { source, .. } => {
                            prop_assert!(up.remove(&source).is_some());
                        }
                        DrAction::SendRegister { register, .. } => prop_assert!(register.null),
                    }
                }
                for &s in &sources {
                    let state = dr.state(s, G);
                    let entry = dr.entries().find(|e| e.source == s);
                    prop_assert_eq!(dr.encapsulate(s, G, b"x").is_some(), state == RegisterState::Join);
                    prop_assert_eq!(up.contains_key(&s), state == RegisterState::Join);
                    let timer = entry.and_then(|e| e.register_stop_timer).is_some();
                    prop_assert_eq!(
                        timer,
                        matches!(state, RegisterState::Prune | RegisterState::JoinPending)
                    );
                    if let Some(e) = entry {
                        prop_assert_eq!(up.get(&s).copied().unwrap_or(e.rp), e.rp);
                    }
                }
            }
        }
    }
}
