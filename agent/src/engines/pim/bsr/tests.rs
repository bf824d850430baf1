//! The BSR state machines (RFC 5059 §3.1.1, §3.1.2), the RP set at the elected BSR and at
//! the other routers, fragments, and a small domain simulated against virtual time.

use super::*;
use crate::engines::pim::packet::{EncodedGroup, Pdu};

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const C: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);
const RP1: Ipv4Addr = Ipv4Addr::new(10, 9, 9, 1);
const RP2: Ipv4Addr = Ipv4Addr::new(10, 9, 9, 2);
const G: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 1);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

const RPF: BsmArrival = BsmArrival {
    interface: 1,
    unicast: false,
    from_rpf_neighbor: true,
};

fn bsm(bsr: Ipv4Addr, priority: u8, tag: u16, rps: &[(Ipv4Addr, u8, u16)]) -> Bootstrap {
    Bootstrap {
        no_forward: false,
        fragment_tag: tag,
        hash_mask_len: 30,
        bsr_priority: priority,
        bsr_address: bsr,
        groups: vec![BsmGroup {
            group: GroupRange::ALL.to_encoded(),
            rp_count: rps.len() as u8,
            rps: rps
                .iter()
                .map(|&(address, priority, holdtime)| BsmRp {
                    address,
                    holdtime,
                    priority,
                })
                .collect(),
        }],
    }
}

fn cbsr(address: Ipv4Addr, priority: u8) -> BsrConfig {
    BsrConfig {
        candidate_bsr: Some(CandidateBsr {
            address,
            priority,
            hash_mask_len: 30,
        }),
        candidate_rp: None,
    }
}

fn crp(address: Ipv4Addr, priority: u8) -> CandidateRp {
    CandidateRp {
        address,
        priority,
        groups: vec![],
        holdtime: C_RP_HOLDTIME,
        interval: C_RP_ADV_PERIOD,
    }
}

fn adv(rp: Ipv4Addr, priority: u8, holdtime: u16) -> CandidateRpAdv {
    CandidateRpAdv {
        priority,
        holdtime,
        rp,
        groups: vec![],
    }
}

fn floods(actions: &[BsrAction]) -> Vec<&Bootstrap> {
    actions
        .iter()
        .filter_map(|a| match a {
            BsrAction::Flood { msg, .. } => Some(msg),
            _ => None,
        })
        .collect()
}

#[test]
fn non_candidate_accepts_a_bsr_then_only_preferred_ones() {
    let t0 = Instant::now();
    let mut r = Bsr::new(BsrConfig::default(), t0, 1);
    assert_eq!(r.state(), BsrState::NoInfo);
    assert_eq!(r.next_deadline(), None);
    // Not from the RPF neighbor toward the BSR: dropped.
    let off_path = BsmArrival {
        from_rpf_neighbor: false,
        ..RPF
    };
    let m = bsm(B, 10, 1, &[(RP1, 0, 150)]);
    assert_eq!(
        r.receive_bootstrap(m.clone(), off_path, t0),
        Err(BsrDrop::NotFromRpfNeighbor)
    );
    // The first one: Accept-Preferred, RP set stored, forwarded out of every interface,
    // the arrival one included (RFC 5059 §3.4).
    let acts = r.receive_bootstrap(m.clone(), RPF, t0).expect("accepted");
    assert_eq!(
        acts,
        vec![
            BsrAction::RpSetChanged,
            BsrAction::Flood {
                except: None,
                msg: m.clone()
            }
        ]
    );
    assert_eq!(r.state(), BsrState::AcceptPreferred);
    assert_eq!(r.elected_bsr(), Some((B, 10)));
    assert_eq!(r.rp_for(G), Some(RP1));
    // The same again: forwarded, mapping unchanged.
    let acts = r
        .receive_bootstrap(m, RPF, t0 + secs(60))
        .expect("accepted");
    assert_eq!(floods(&acts).len(), 1);
    assert!(!acts.contains(&BsrAction::RpSetChanged));
    // A worse BSR (lower priority; equal priority and lower address) is not taken.
    let worse = bsm(C, 9, 1, &[(RP2, 0, 150)]);
    assert_eq!(
        r.receive_bootstrap(worse, RPF, t0),
        Err(BsrDrop::NotPreferred)
    );
    let worse = bsm(A, 10, 1, &[(RP2, 0, 150)]);
    assert_eq!(
        r.receive_bootstrap(worse, RPF, t0),
        Err(BsrDrop::NotPreferred)
    );
    // A unicast or No-Forward one once a message was accepted is not either, even from a
    // better BSR and within BS_Period of start-up (RFC 5059 §3.1.3).
    let unicast = BsmArrival {
        unicast: true,
        from_rpf_neighbor: false,
        ..RPF
    };
    assert_eq!(
        r.receive_bootstrap(bsm(C, 200, 1, &[]), unicast, t0),
        Err(BsrDrop::NotAtStartup)
    );
    let mut no_forward = bsm(C, 200, 1, &[]);
    no_forward.no_forward = true;
    assert_eq!(
        r.receive_bootstrap(no_forward, RPF, t0),
        Err(BsrDrop::NotAtStartup)
    );
    // A better one is: equal priority, higher address.
    let better = bsm(C, 10, 7, &[(RP2, 0, 150)]);
    assert!(r.receive_bootstrap(better, RPF, t0).is_ok());
    assert_eq!(r.elected_bsr(), Some((C, 10)));
    assert_eq!(r.rp_for(G), Some(RP2));
}

#[test]
fn no_forward_and_unicast_bootstrap_to_a_new_router() {
    let t0 = Instant::now();
    let mut r = Bsr::new(BsrConfig::default(), t0, 1);
    let mut m = bsm(B, 10, 1, &[(RP1, 0, 150)]);
    m.no_forward = true;
    let unicast = BsmArrival {
        interface: 3,
        unicast: true,
        from_rpf_neighbor: false,
    };
    let acts = r.receive_bootstrap(m.clone(), unicast, t0).expect("taken");
    // Taken at start-up, not forwarded.
    assert_eq!(acts, vec![BsrAction::RpSetChanged]);
    assert_eq!(r.rp_for(G), Some(RP1));
    // What this router hands its own new neighbors: the message, No-Forward set.
    assert_eq!(r.stored_bootstrap(), vec![m.clone()]);
    // A multicast No-Forward message skips the RPF check (§3.5.1) but is only taken at
    // start-up: not once one was accepted, not after BS_Period since start-up (§3.1.3).
    let off_path = BsmArrival {
        from_rpf_neighbor: false,
        ..RPF
    };
    assert_eq!(
        r.receive_bootstrap(m.clone(), off_path, t0 + secs(1)),
        Err(BsrDrop::NotAtStartup)
    );
    let mut fresh = Bsr::new(BsrConfig::default(), t0, 1);
    assert_eq!(
        fresh.receive_bootstrap(m.clone(), off_path, t0 + BS_PERIOD + secs(1)),
        Err(BsrDrop::NotAtStartup)
    );
    let mut fresh = Bsr::new(BsrConfig::default(), t0, 1);
    let acts = fresh
        .receive_bootstrap(m.clone(), off_path, t0 + BS_PERIOD)
        .expect("taken within BS_Period of start-up");
    assert_eq!(acts, vec![BsrAction::RpSetChanged]);
    // The stored message of a plain router and of the elected BSR both carry No-Forward.
    let mut m2 = m.clone();
    m2.no_forward = false;
    let mut plain = Bsr::new(BsrConfig::default(), t0, 1);
    plain.receive_bootstrap(m2, RPF, t0).expect("accepted");
    assert!(plain.stored_bootstrap().iter().all(|b| b.no_forward));
    let mut a = Bsr::new(cbsr(A, 5), t0, 1);
    a.on_timer(t0 + secs(5));
    assert_eq!(a.state(), BsrState::ElectedBsr);
    let stored = a.stored_bootstrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].no_forward && stored[0].bsr_address == A);
}

/// RFC 5059 §3.5: the DR primes a new neighbor; when the newcomer is the DR, the router
/// that would be DR without it does.
#[test]
fn who_primes_a_new_neighbor() {
    // DR is A, B joins: A sends, C does not.
    assert!(primes_new_neighbor(A, B, A, A));
    assert!(!primes_new_neighbor(C, B, A, A));
    // C joins and becomes DR; without it A would be DR: A sends, B and C do not.
    assert!(primes_new_neighbor(A, C, C, A));
    assert!(!primes_new_neighbor(B, C, C, A));
    assert!(!primes_new_neighbor(C, C, C, A));
}

/// RFC 5059 §3.1.1: Pending-BSR forwards a non-preferred message and keeps its timer.
#[test]
fn pending_bsr_forwards_a_non_preferred_message() {
    let t0 = Instant::now();
    let mut b = Bsr::new(cbsr(B, 6), t0, 1);
    let worse = bsm(A, 6, 1, &[(RP1, 0, 150)]);
    let acts = b
        .receive_bootstrap(worse.clone(), RPF, t0)
        .expect("forwarded");
    assert_eq!(
        acts,
        vec![BsrAction::Flood {
            except: None,
            msg: worse
        }]
    );
    assert_eq!(b.state(), BsrState::PendingBsr);
    assert_eq!(b.rp_for(G), None);
    assert_eq!(b.next_deadline(), Some(t0 + secs(5)));
}

#[test]
fn non_candidate_bsr_timeout_accept_any_and_scope_zone() {
    let t0 = Instant::now();
    let mut r = Bsr::new(BsrConfig::default(), t0, 1);
    r.receive_bootstrap(bsm(C, 10, 1, &[(RP1, 0, 0xffff)]), RPF, t0)
        .expect("accepted");
    assert_eq!(r.next_deadline(), Some(t0 + BS_TIMEOUT));
    r.on_timer(t0 + BS_TIMEOUT);
    assert_eq!(r.state(), BsrState::AcceptAny);
    // The RP set outlives the BSR (its holdtimes decide).
    assert_eq!(r.rp_for(G), Some(RP1));
    // Accept-Any takes a worse BSR.
    let t1 = t0 + BS_TIMEOUT + secs(1);
    assert!(r
        .receive_bootstrap(bsm(A, 1, 1, &[(RP2, 0, 0xffff)]), RPF, t1)
        .is_ok());
    assert_eq!(r.state(), BsrState::AcceptPreferred);
    assert_eq!(r.rp_for(G), Some(RP2));
    // Silence: Accept-Any after BS_Timeout, No-Info after SZ_Timeout.
    r.on_timer(t1 + BS_TIMEOUT);
    assert_eq!(r.state(), BsrState::AcceptAny);
    r.on_timer(t1 + SZ_TIMEOUT);
    assert_eq!(r.state(), BsrState::NoInfo);
    assert_eq!(r.elected_bsr(), None);
}

#[test]
fn lone_candidate_gets_elected_and_originates_periodically() {
    let t0 = Instant::now();
    let mut a = Bsr::new(cbsr(A, 5), t0, 3);
    // RFC 5059 §3.1.1: Pending-BSR with the Bootstrap Timer at BS_Rand_Override, 5 s with
    // no BSR known (5 + 2 log2(1) + log2(1) / 16).
    assert_eq!(a.state(), BsrState::PendingBsr);
    assert_eq!(a.next_deadline(), Some(t0 + secs(5)));
    assert!(a.on_timer(t0 + secs(4)).is_empty());
    let acts = a.on_timer(t0 + BS_TIMEOUT);
    assert_eq!(a.state(), BsrState::ElectedBsr);
    assert_eq!(a.elected_bsr(), Some((A, 5)));
    let m = floods(&acts);
    assert_eq!(m.len(), 1);
    assert_eq!((m[0].bsr_address, m[0].bsr_priority), (A, 5));
    assert!(m[0].groups.is_empty());
    assert!(acts
        .iter()
        .all(|x| matches!(x, BsrAction::Flood { except: None, .. })));
    let tag = m[0].fragment_tag;
    // Every BS_Period, with a new fragment tag.
    assert_eq!(a.next_deadline(), Some(t0 + BS_TIMEOUT + BS_PERIOD));
    let acts = a.on_timer(t0 + BS_TIMEOUT + BS_PERIOD);
    assert_eq!(floods(&acts)[0].fragment_tag, tag.wrapping_add(1));
    // Its own message coming back is ignored.
    assert_eq!(
        a.receive_bootstrap(floods(&acts)[0].clone(), RPF, t0),
        Err(BsrDrop::OwnMessage)
    );
}

#[test]
fn election_priority_then_address() {
    let t0 = Instant::now();
    // B has the higher priority: A (pending) yields to it.
    let mut a = Bsr::new(cbsr(A, 5), t0, 1);
    assert!(a.receive_bootstrap(bsm(B, 6, 1, &[]), RPF, t0).is_ok());
    assert_eq!(a.state(), BsrState::CandidateBsr);
    // Equal priority: the higher address wins. C beats B's 6 at equal priority 6.
    // A worse one while pending is only forwarded (RFC 5059 §3.1.1, P-BSR state).
    let mut b = Bsr::new(cbsr(B, 6), t0, 1);
    let acts = b
        .receive_bootstrap(bsm(A, 6, 1, &[]), RPF, t0)
        .expect("forwarded");
    assert_eq!(floods(&acts).len(), 1);
    assert_eq!(b.state(), BsrState::PendingBsr);
    assert_eq!(b.elected_bsr(), None);
    assert!(b.receive_bootstrap(bsm(C, 6, 1, &[]), RPF, t0).is_ok());
    assert_eq!(b.state(), BsrState::CandidateBsr);
    assert_eq!(b.elected_bsr(), Some((C, 6)));
    // In Candidate-BSR, an even better BSR takes over; a worse one that is not the elected
    // BSR is ignored.
    assert!(b.receive_bootstrap(bsm(A, 7, 2, &[]), RPF, t0).is_ok());
    assert_eq!(b.elected_bsr(), Some((A, 7)));
    assert_eq!(
        b.receive_bootstrap(bsm(C, 6, 3, &[]), RPF, t0),
        Err(BsrDrop::NotPreferred)
    );
}

#[test]
fn elected_bsr_answers_a_worse_one_and_yields_to_a_better_one() {
    let t0 = Instant::now();
    let mut b = Bsr::new(cbsr(B, 6), t0, 1);
    b.on_timer(t0 + BS_TIMEOUT);
    assert_eq!(b.state(), BsrState::ElectedBsr);
    let t1 = t0 + BS_TIMEOUT + secs(10);
    let acts = b
        .receive_bootstrap(bsm(A, 6, 1, &[]), RPF, t1)
        .expect("answered");
    let m = floods(&acts);
    assert_eq!((m.len(), m[0].bsr_address), (1, B));
    assert_eq!(b.next_deadline(), Some(t1 + BS_PERIOD));
    assert!(b.receive_bootstrap(bsm(A, 7, 1, &[]), RPF, t1).is_ok());
    assert_eq!(b.state(), BsrState::CandidateBsr);
    assert_eq!(b.next_deadline(), Some(t1 + BS_TIMEOUT));
}

/// rand_override against values worked out from the formula.
#[test]
fn rand_override_orders_the_candidates() {
    let t0 = Instant::now();
    let after_bsr_lost = |me: Ipv4Addr, prio: u8, bsr: Ipv4Addr, bsr_prio: u8| {
        let mut x = Bsr::new(cbsr(me, prio), t0, 1);
        x.receive_bootstrap(bsm(bsr, bsr_prio, 1, &[]), RPF, t0)
            .expect("better BSR accepted");
        assert_eq!(x.state(), BsrState::CandidateBsr);
        x.on_timer(t0 + BS_TIMEOUT);
        assert_eq!(x.state(), BsrState::PendingBsr);
        x.next_deadline().expect("bootstrap timer") - (t0 + BS_TIMEOUT)
    };
    // RFC 5059 §5, IPv4, equal priorities: addrDelay = log2(1 + bestAddr - myAddr) / 16.
    // The lost BSR 65535 addresses higher: 5 + 0 + log2(65536) / 16 = 6 s.
    let d = after_bsr_lost(A, 6, Ipv4Addr::new(10, 1, 0, 0), 6);
    assert!((d.as_secs_f64() - 6.0).abs() < 1e-6, "{d:?}");
    // 1 address higher: 5 + log2(2) / 16 = 5.0625 s.
    let d = after_bsr_lost(A, 6, B, 6);
    assert!((d.as_secs_f64() - 5.0625).abs() < 1e-6, "{d:?}");
    // 3 addresses higher: 5 + log2(4) / 16 = 5.125 s.
    let d = after_bsr_lost(A, 6, Ipv4Addr::new(10, 0, 0, 4), 6);
    assert!((d.as_secs_f64() - 5.125).abs() < 1e-6, "{d:?}");
    // Priority 1 lower than the lost BSR's, address 10.0.0.1 (167772161):
    // 5 + 2 log2(2) + 2 - 167772161 / 2^31 = 9 - 0.078125000465... = 8.921874999534...
    let d = after_bsr_lost(A, 5, B, 6);
    assert!((d.as_secs_f64() - 8.921_874_999_534).abs() < 1e-6, "{d:?}");
    // Priority 3 lower: 5 + 2 log2(4) + 1.921875 = 10.921875 s.
    let d = after_bsr_lost(A, 3, B, 6);
    assert!((d.as_secs_f64() - 10.921_874_999_534).abs() < 1e-6, "{d:?}");
}

#[test]
fn elected_bsr_that_got_worse_is_challenged_after_rand_override() {
    let t0 = Instant::now();
    let mut a = Bsr::new(cbsr(A, 5), t0, 1);
    a.receive_bootstrap(bsm(B, 6, 1, &[]), RPF, t0).expect("ok");
    // B now announces priority 4, below ours: its message is forwarded, then Pending-BSR
    // with BS_Rand_Override, then elected. bestPriority is ours, and bestAddr is the higher
    // of the stored and our address whatever the priorities (RFC 5059 §5):
    // 5 + 2 log2(1) + log2(1 + B - A) / 16 = 5.0625 s.
    let worse = bsm(B, 4, 2, &[]);
    assert_eq!(
        a.receive_bootstrap(worse.clone(), RPF, t0),
        Ok(vec![BsrAction::Flood {
            except: None,
            msg: worse
        }])
    );
    assert_eq!(a.state(), BsrState::PendingBsr);
    assert_eq!(
        a.next_deadline(),
        Some(t0 + Duration::from_micros(5_062_500))
    );
    a.on_timer(t0 + secs(5));
    assert_eq!(a.state(), BsrState::PendingBsr);
    a.on_timer(t0 + Duration::from_micros(5_062_500));
    assert_eq!(a.state(), BsrState::ElectedBsr);
}

#[test]
fn elected_bsr_assembles_the_rp_set_from_advertisements() {
    let t0 = Instant::now();
    let mut a = Bsr::new(cbsr(A, 5), t0, 1);
    assert_eq!(
        a.receive_candidate_rp_adv(&adv(RP1, 10, 150), t0),
        Err(BsrDrop::NotElected)
    );
    a.on_timer(t0 + BS_TIMEOUT);
    let t1 = t0 + BS_TIMEOUT;
    assert_eq!(
        a.receive_candidate_rp_adv(&adv(RP1, 10, 150), t1),
        Ok(vec![BsrAction::RpSetChanged])
    );
    let mut narrow = adv(RP2, 20, 100);
    narrow.groups = vec![EncodedGroup {
        address: Ipv4Addr::new(239, 1, 0, 0),
        mask_len: 16,
        bidir: false,
        zone: false,
    }];
    assert_eq!(
        a.receive_candidate_rp_adv(&narrow, t1),
        Ok(vec![BsrAction::RpSetChanged])
    );
    // Longest match first: 239.1/16 goes to RP2 despite its worse priority.
    assert_eq!(a.rp_for(G), Some(RP2));
    assert_eq!(a.rp_for(Ipv4Addr::new(239, 2, 1, 1)), Some(RP1));
    // A refresh changes nothing in the mapping.
    assert_eq!(
        a.receive_candidate_rp_adv(&narrow, t1 + secs(60)),
        Ok(vec![])
    );
    // The next Bootstrap message carries both ranges with the advertised holdtimes, RP2's
    // 100 s raised to 2.5 x BS_Period = 150 s (RFC 5059 §3.3).
    let acts = a.on_timer(t1 + BS_PERIOD);
    let m = floods(&acts);
    assert_eq!(m.len(), 1);
    let got: Vec<(GroupRange, u8, Vec<BsmRp>)> = m[0]
        .groups
        .iter()
        .map(|g| {
            (
                GroupRange::from_encoded(&g.group),
                g.rp_count,
                g.rps.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                GroupRange::ALL,
                1,
                vec![BsmRp {
                    address: RP1,
                    holdtime: 150,
                    priority: 10
                }]
            ),
            (
                GroupRange::new(Ipv4Addr::new(239, 1, 0, 0), 16),
                1,
                vec![BsmRp {
                    address: RP2,
                    holdtime: 150,
                    priority: 20
                }]
            ),
        ]
    );
    // Holdtime 0 withdraws RP2; moving RP1 to another range drops its old one.
    assert_eq!(
        a.receive_candidate_rp_adv(&adv(RP2, 20, 0), t1),
        Ok(vec![BsrAction::RpSetChanged])
    );
    assert_eq!(a.rp_for(G), Some(RP1));
    let mut moved = adv(RP1, 10, 150);
    moved.groups = narrow.groups.clone();
    a.receive_candidate_rp_adv(&moved, t1).expect("elected");
    assert_eq!(a.rp_for(Ipv4Addr::new(239, 2, 1, 1)), None);
    assert_eq!(a.rp_for(G), Some(RP1));
}

#[test]
fn rp_failover_follows_the_bsr_rp_set() {
    let t0 = Instant::now();
    let mut a = Bsr::new(cbsr(A, 5), t0, 1);
    a.on_timer(t0 + BS_TIMEOUT);
    let t1 = t0 + BS_TIMEOUT;
    // Two RPs of equal priority: the one with the higher hash for G serves it.
    a.receive_candidate_rp_adv(&adv(RP1, 0, 150), t1)
        .expect("ok");
    a.receive_candidate_rp_adv(&adv(RP2, 0, 150), t1)
        .expect("ok");
    let hash = |rp| crate::engines::pim::rp_set::hash_value(G, 30, rp);
    let (winner, loser) = if hash(RP1) > hash(RP2) {
        (RP1, RP2)
    } else {
        (RP2, RP1)
    };
    assert_eq!(a.rp_for(G), Some(winner));
    // A router takes the BSR's next message and maps alike.
    let mut r = Bsr::new(BsrConfig::default(), t0, 2);
    let msg = floods(&a.on_timer(t1 + BS_PERIOD))[0].clone();
    r.receive_bootstrap(msg, RPF, t1 + BS_PERIOD).expect("ok");
    assert_eq!(r.rp_for(G), Some(winner));
    // Only the loser keeps advertising; the winner expires at the BSR 150 s after its
    // last advertisement and G fails over.
    a.receive_candidate_rp_adv(&adv(loser, 0, 150), t1 + secs(60))
        .expect("ok");
    a.receive_candidate_rp_adv(&adv(loser, 0, 150), t1 + secs(120))
        .expect("ok");
    let msg = floods(&a.on_timer(t1 + secs(120)))[0].clone();
    assert_eq!(msg.groups[0].rps.len(), 2);
    assert_eq!(a.next_deadline(), Some(t1 + secs(150)));
    assert!(a
        .on_timer(t1 + secs(150))
        .contains(&BsrAction::RpSetChanged));
    assert_eq!(a.rp_for(G), Some(loser));
    // The BSR's next message leaves the winner out; the router follows it.
    let msg = floods(&a.on_timer(t1 + secs(180)))[0].clone();
    assert_eq!(msg.groups[0].rps.len(), 1);
    let acts = r.receive_bootstrap(msg, RPF, t1 + secs(180)).expect("ok");
    assert!(acts.contains(&BsrAction::RpSetChanged));
    assert_eq!(r.rp_for(G), Some(loser));
}

#[test]
fn router_fails_over_when_a_holdtime_from_the_bsr_runs_out() {
    let t0 = Instant::now();
    let hash = |rp| crate::engines::pim::rp_set::hash_value(G, 30, rp);
    let (winner, loser) = if hash(RP1) > hash(RP2) {
        (RP1, RP2)
    } else {
        (RP2, RP1)
    };
    let mut r = Bsr::new(BsrConfig::default(), t0, 2);
    let m = bsm(B, 1, 1, &[(winner, 0, 100), (loser, 0, 150)]);
    r.receive_bootstrap(m, RPF, t0).expect("ok");
    assert_eq!(r.rp_for(G), Some(winner));
    assert_eq!(r.next_deadline(), Some(t0 + secs(100)));
    assert!(r.on_timer(t0 + secs(99)).is_empty());
    assert_eq!(r.on_timer(t0 + secs(100)), vec![BsrAction::RpSetChanged]);
    assert_eq!(r.rp_for(G), Some(loser));
    assert_eq!(r.on_timer(t0 + secs(150)), vec![BsrAction::RpSetChanged]);
    assert_eq!(r.rp_for(G), None);
}

#[test]
fn fragments_split_and_reassemble() {
    let t0 = Instant::now();
    let rps: Vec<BsmRp> = (1..=5)
        .map(|i| BsmRp {
            address: Ipv4Addr::new(10, 9, 9, i),
            holdtime: 150,
            priority: 0,
        })
        .collect();
    let other = GroupRange::new(Ipv4Addr::new(239, 2, 0, 0), 16);
    let empty = bsm(B, 10, 42, &[]);
    let empty = Bootstrap {
        groups: vec![],
        ..empty
    };
    // Room for the fixed part, one group header and two RPs per message: 14 + 12 + 20.
    let frags = fragment(
        empty,
        vec![(GroupRange::ALL, rps.clone()), (other, rps[..1].to_vec())],
        46,
    );
    assert_eq!(frags.len(), 4);
    for f in &frags {
        assert!(Pdu::Bootstrap(f.clone()).encode().len() <= 46);
        assert!(f.groups.iter().all(|g| g.rp_count == 5 || g.rps.len() == 1));
        assert_eq!(f.fragment_tag, 42);
    }
    // Received out of order: the /4 range changes only when all five RPs are in.
    let mut r = Bsr::new(BsrConfig::default(), t0, 1);
    r.receive_bootstrap(frags[3].clone(), RPF, t0).expect("ok");
    assert_eq!(r.rp_for(Ipv4Addr::new(239, 2, 0, 1)), Some(rps[0].address));
    assert_eq!(r.rp_for(G), None);
    r.receive_bootstrap(frags[0].clone(), RPF, t0).expect("ok");
    r.receive_bootstrap(frags[1].clone(), RPF, t0).expect("ok");
    assert_eq!(r.rp_for(G), None);
    let acts = r.receive_bootstrap(frags[2].clone(), RPF, t0).expect("ok");
    assert!(acts.contains(&BsrAction::RpSetChanged));
    assert_eq!(r.rp_set().rps(GroupRange::ALL).len(), 5);
    assert_eq!(r.stored_bootstrap().len(), 4);
}

#[test]
fn candidate_rp_advertises_to_the_elected_bsr() {
    let t0 = Instant::now();
    let config = BsrConfig {
        candidate_bsr: None,
        candidate_rp: Some(crp(RP1, 7)),
    };
    let mut r = Bsr::new(config, t0, 1);
    // No BSR yet: nothing to send, but the timer runs.
    assert_eq!(r.next_deadline(), Some(t0 + C_RP_ADV_PERIOD));
    assert!(r.on_timer(t0 + C_RP_ADV_PERIOD).is_empty());
    // A BSR appears: advertise at once.
    let t1 = t0 + secs(70);
    let acts = r
        .receive_bootstrap(bsm(B, 1, 1, &[]), RPF, t1)
        .expect("accepted");
    // No ranges configured: all groups, as a C-RP-Adv must carry at least one range
    // (RFC 5059 §3.2).
    let all_groups = |hold| CandidateRpAdv {
        groups: vec![GroupRange::ALL.to_encoded()],
        ..adv(RP1, 7, hold)
    };
    let expect = BsrAction::SendCandidateRpAdv {
        bsr: B,
        adv: all_groups(C_RP_HOLDTIME),
    };
    assert!(acts.contains(&expect), "{acts:?}");
    // Then every interval.
    assert_eq!(r.on_timer(t1 + C_RP_ADV_PERIOD), vec![expect]);
    // Withdrawn by configuration: holdtime 0.
    let acts = r.reconfigure(BsrConfig::default(), t1 + secs(61));
    assert_eq!(
        acts,
        vec![BsrAction::SendCandidateRpAdv {
            bsr: B,
            adv: all_groups(0),
        }]
    );
}

/// A domain of three routers on one LAN, messages delivered instantly, time virtual: C-BSRs
/// A (priority 5) and B (priority 6, also a candidate RP) and a plain router C (candidate
/// RP too). B is elected and both RPs reach every router's RP set. Then B dies: A takes
/// over after B's BS_Timeout and rand_override, C accepts A once its own BS_Timeout ran out,
/// and B's RP fails over to C's when its holdtime expires.
#[test]
fn domain_elects_spreads_and_fails_over() {
    let t0 = Instant::now();
    let mut routers = [
        (A, Bsr::new(cbsr(A, 5), t0, 1), true),
        (
            B,
            Bsr::new(
                BsrConfig {
                    candidate_rp: Some(crp(B, 0)),
                    ..cbsr(B, 6)
                },
                t0,
                2,
            ),
            true,
        ),
        (
            C,
            Bsr::new(
                BsrConfig {
                    candidate_bsr: None,
                    candidate_rp: Some(crp(C, 0)),
                },
                t0,
                3,
            ),
            true,
        ),
    ];
    let mut now = t0;
    let run_until = |routers: &mut [(Ipv4Addr, Bsr, bool); 3], now: &mut Instant, end| loop {
        let next = routers
            .iter()
            .filter(|r| r.2)
            .filter_map(|r| r.1.next_deadline())
            .min();
        let Some(t) = next.filter(|t| *t <= end) else {
            *now = end;
            return;
        };
        *now = t;
        let mut queue: Vec<(usize, BsrAction)> = Vec::new();
        for (i, r) in routers.iter_mut().enumerate() {
            if r.2 && r.1.next_deadline().is_some_and(|d| d <= t) {
                queue.extend(r.1.on_timer(t).into_iter().map(|a| (i, a)));
            }
        }
        while let Some((from, a)) = queue.pop() {
            match a {
                BsrAction::Flood { msg, .. } => {
                    for (i, r) in routers.iter_mut().enumerate() {
                        if i != from && r.2 {
                            let arrival = BsmArrival {
                                interface: 1,
                                unicast: false,
                                from_rpf_neighbor: true,
                            };
                            if let Ok(acts) = r.1.receive_bootstrap(msg.clone(), arrival, t) {
                                // On one LAN, forwarding reaches no one new.
                                queue.extend(
                                    acts.into_iter()
                                        .filter(|a| !matches!(a, BsrAction::Flood { .. }))
                                        .map(|a| (i, a)),
                                );
                            }
                        }
                    }
                }
                BsrAction::SendCandidateRpAdv { bsr, adv } => {
                    if let Some(r) = routers.iter_mut().find(|r| r.0 == bsr && r.2) {
                        if let Ok(acts) = r.1.receive_candidate_rp_adv(&adv, t) {
                            let i = routers.iter().position(|r| r.0 == bsr).unwrap_or(0);
                            queue.extend(acts.into_iter().map(|a| (i, a)));
                        }
                    }
                }
                BsrAction::RpSetChanged => {}
            }
        }
    };
    run_until(&mut routers, &mut now, t0 + secs(300));
    assert_eq!(routers[1].1.state(), BsrState::ElectedBsr);
    assert_eq!(routers[0].1.state(), BsrState::CandidateBsr);
    assert_eq!(routers[2].1.state(), BsrState::AcceptPreferred);
    let hash = |rp| crate::engines::pim::rp_set::hash_value(G, 30, rp);
    let winner = if hash(B) > hash(C) { B } else { C };
    for r in &routers {
        assert_eq!(r.1.elected_bsr(), Some((B, 6)));
        assert_eq!(r.1.rp_set().rps(GroupRange::ALL).len(), 2, "{:?}", r.0);
        assert_eq!(r.1.rp_for(G), Some(winner));
    }
    // B dies.
    routers[1].2 = false;
    let died = now;
    run_until(&mut routers, &mut now, died + secs(400));
    assert_eq!(routers[0].1.state(), BsrState::ElectedBsr);
    assert_eq!(routers[2].1.state(), BsrState::AcceptPreferred);
    for i in [0, 2] {
        assert_eq!(routers[i].1.elected_bsr(), Some((A, 5)));
        assert_eq!(routers[i].1.rp_set().rps(GroupRange::ALL).len(), 1);
        assert_eq!(routers[i].1.rp_for(G), Some(C));
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Ev {
        Bsm(u8, u8, u16, Vec<(u8, u8, u16)>, bool),
        Adv(u8, u8, u16),
        Advance(u16),
        Reconfigure(Option<u8>, bool),
    }

    fn ev() -> impl Strategy<Value = Ev> {
        prop_oneof![
            (
                0u8..4,
                0u8..4,
                0u16..3,
                proptest::collection::vec((0u8..4, 0u8..3, 0u16..300), 0..4),
                any::<bool>()
            )
                .prop_map(|(b, p, t, rps, u)| Ev::Bsm(b, p, t, rps, u)),
            (0u8..4, 0u8..3, 0u16..300).prop_map(|(r, p, h)| Ev::Adv(r, p, h)),
            (0u16..200).prop_map(Ev::Advance),
            (proptest::option::of(0u8..4), any::<bool>()).prop_map(|(p, c)| Ev::Reconfigure(p, c)),
        ]
    }

    proptest! {
        /// Any sequence of messages, timers and reconfigurations: no panic, RP(G) is always
        /// one of the RPs in the set, the elected BSR is us when Elected, and
        /// `on_timer` never leaves a deadline at or before the time it ran.
        #[test]
        fn bsr_invariants(events in proptest::collection::vec(ev(), 0..50), seed in any::<u64>()) {
            let t0 = Instant::now();
            let mut now = t0;
            let bsrs = [A, B, C, Ipv4Addr::new(10, 0, 0, 4)];
            let rps = [RP1, RP2, Ipv4Addr::new(10, 9, 9, 3), Ipv4Addr::new(10, 9, 9, 4)];
            let me = B;
            let mut b = Bsr::new(cbsr(me, 2), t0, seed);
            for e in events {
                match e {
                    Ev::Bsm(bsr, prio, tag, list, unicast) => {
                        let list: Vec<_> = list
                            .into_iter()
                            .map(|(r, p, h)| (rps[usize::from(r)], p, h))
                            .collect();
                        let m = bsm(bsrs[usize::from(bsr)], prio, tag, &list);
                        let arrival = BsmArrival { unicast, ..RPF };
                        let _ = b.receive_bootstrap(m, arrival, now);
                    }
                    Ev::Adv(r, p, h) => {
                        let _ = b.receive_candidate_rp_adv(&adv(rps[usize::from(r)], p, h), now);
                    }
                    Ev::Advance(secs) => {
                        now += Duration::from_secs(u64::from(secs));
                        while let Some(d) = b.next_deadline().filter(|d| *d <= now) {
                            b.on_timer(d);
                            prop_assert!(b.next_deadline().is_none_or(|n| n > d));
                        }
                    }
                    Ev::Reconfigure(prio, crp_on) => {
                        let config = BsrConfig {
                            candidate_bsr: prio.map(|p| CandidateBsr {
                                address: me,
                                priority: p,
                                hash_mask_len: 30,
                            }),
                            candidate_rp: crp_on.then(|| crp(rps[3], 1)),
                        };
                        b.reconfigure(config, now);
                    }
                }
                if let Some(rp) = b.rp_for(G) {
                    prop_assert!(b
                        .rp_set()
                        .ranges()
                        .any(|(r, mut e)| r.contains(G) && e.any(|x| x.rp == rp)));
                }
                if b.state() == BsrState::ElectedBsr {
                    prop_assert!(b.elected_bsr().is_some_and(|(a, _)| a == me));
                }
            }
        }
    }
}
