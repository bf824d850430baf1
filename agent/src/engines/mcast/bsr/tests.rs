//! The BSR wiring of the multicast engine driven with frames: Bootstrap messages in change
//! RP(G) and the (*,G) Join's target, an elected BSR floods the candidate RPs it heard, a
//! candidate RP advertises itself to the BSR it learned, a new neighbor gets the stored
//! Bootstrap message.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::super::interfaces::PIM_PROTO;
use super::super::tests::{addrs, cfg_pim_uplink, hello, links, report, G, LAN, UP, UP_IDX};
use super::super::{Effect, Multicast};
use crate::engines::pim::bsr::{BsrState, CandidateBsr, CandidateRp, BS_PERIOD};
use crate::engines::pim::packet::{
    Bootstrap, BsmGroup, BsmRp, CandidateRpAdv, EncodedGroup, Hello, Message, Pdu,
};
use crate::engines::pim::rp_set::GroupRange;

/// Our uplink address (`addrs()`).
const ME: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
/// A neighbor on the uplink, and the BSR in most tests.
const PEER: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 254);
const STATIC_RP: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 200);
const BSR_RP: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 77);

fn frame(src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
    let dst_mac = if dst.is_multicast() {
        let o = dst.octets();
        [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]
    } else {
        [2, 0, 0, 0, 0, UP_IDX as u8]
    };
    dataplane::wire::ipv4_frame(
        [2, 0, 0, 0, 0x99, 1],
        dst_mac,
        src,
        dst,
        1,
        PIM_PROTO,
        &[],
        payload,
    )
}

/// A Bootstrap message from `bsr` announcing `rps` for all groups.
fn bootstrap(bsr: Ipv4Addr, rps: &[(Ipv4Addr, u8)]) -> Bootstrap {
    Bootstrap {
        no_forward: false,
        fragment_tag: 1,
        hash_mask_len: 30,
        bsr_priority: 5,
        bsr_address: bsr,
        groups: vec![BsmGroup {
            group: GroupRange::ALL.to_encoded(),
            rp_count: rps.len() as u8,
            rps: rps
                .iter()
                .map(|&(address, priority)| BsmRp {
                    address,
                    holdtime: 150,
                    priority,
                })
                .collect(),
        }],
    }
}

/// The PIM messages of the frames sent out of `name`, and the unicast ones (destination,
/// message), drained from the effects.
fn sent(mc: &mut Multicast, name: &str) -> (Vec<Pdu>, Vec<(Ipv4Addr, Pdu)>) {
    let mut frames = Vec::new();
    let mut unicast = Vec::new();
    for e in mc.effects() {
        match e {
            Effect::Frame { interface, frame } if interface == name && frame[23] == PIM_PROTO => {
                frames.push(Pdu::decode(&frame[34..]).expect("a valid PIM message"));
            }
            Effect::Unicast { to, pim, .. } => {
                unicast.push((to, Pdu::decode(&pim).expect("a valid PIM message")));
            }
            _ => {}
        }
    }
    (frames, unicast)
}

/// (joined, pruned) wildcard addresses (RPs) for G in the Join/Prunes among `msgs`, with the
/// upstream neighbors they went to.
/// (RP named, upstream neighbor it went to).
type Sent = Vec<(Ipv4Addr, Ipv4Addr)>;

fn star_g(msgs: &[Pdu]) -> (Sent, Sent) {
    let mut joins = Vec::new();
    let mut prunes = Vec::new();
    for m in msgs {
        let Pdu::Message(Message::JoinPrune(jp)) = m else {
            continue;
        };
        for g in jp.groups.iter().filter(|g| g.group.address == G) {
            let to = jp.upstream_neighbor;
            joins.extend(
                g.joins
                    .iter()
                    .filter(|s| s.wildcard)
                    .map(|s| (s.address, to)),
            );
            prunes.extend(
                g.prunes
                    .iter()
                    .filter(|s| s.wildcard)
                    .map(|s| (s.address, to)),
            );
        }
    }
    (joins, prunes)
}

fn bootstraps(msgs: &[Pdu]) -> Vec<&Bootstrap> {
    msgs.iter()
        .filter_map(|m| match m {
            Pdu::Bootstrap(b) => Some(b),
            _ => None,
        })
        .collect()
}

/// A listener for G on the LAN, PIM toward PEER on the uplink, the static RP as given.
fn with_listener(mut cfg: crate::engines::config::Multicast, now: Instant) -> Multicast {
    cfg.rp = Some(STATIC_RP);
    let mut mc = Multicast::new(1);
    mc.apply(&cfg, &links(), &addrs(), now);
    mc.control_frame(UP, &hello(PEER), now);
    mc.control_frame(LAN, &report(G), now);
    mc.flush(now);
    mc
}

#[test]
fn a_bootstrap_message_moves_rp_g_and_the_star_g_join_and_is_forwarded() {
    let now = Instant::now();
    let mut mc = with_listener(cfg_pim_uplink(), now);
    let (out, _) = sent(&mut mc, UP);
    assert_eq!(star_g(&out).0, vec![(STATIC_RP, STATIC_RP)], "{out:?}");
    // The BSR is PEER itself (a connected neighbor: it is the RPF neighbor toward itself).
    let bsm = bootstrap(PEER, &[(BSR_RP, 0)]);
    mc.control_frame(
        UP,
        &frame(
            PEER,
            Ipv4Addr::new(224, 0, 0, 13),
            &Pdu::Bootstrap(bsm.clone()).encode(),
        ),
        now,
    );
    mc.flush(now);
    let b = mc.bsr().expect("BSR machinery");
    assert_eq!(b.state(), BsrState::AcceptPreferred);
    assert_eq!(b.elected_bsr(), Some((PEER, 5)));
    assert_eq!(mc.tib.group_rp(G), Some(BSR_RP));
    let (out, _) = sent(&mut mc, UP);
    let (joins, prunes) = star_g(&out);
    assert_eq!(
        joins,
        vec![(BSR_RP, BSR_RP)],
        "Join toward the BSR's RP: {out:?}"
    );
    assert!(prunes.contains(&(STATIC_RP, STATIC_RP)), "{out:?}");
    let e = mc.tib.entry(None, G).expect("(*,G)");
    assert_eq!(e.rpf_neighbor(), Some(BSR_RP));
    // Forwarded out of every PIM interface, the arrival one included (RFC 5059 §3.4).
    assert_eq!(bootstraps(&out), vec![&bsm]);
    // From another neighbor that is not the RPF neighbor toward the BSR: dropped.
    let other = Ipv4Addr::new(10, 1, 0, 9);
    mc.control_frame(UP, &hello(other), now);
    let worse = bootstrap(PEER, &[(other, 0)]);
    mc.control_frame(
        UP,
        &frame(
            other,
            Ipv4Addr::new(224, 0, 0, 13),
            &Pdu::Bootstrap(worse).encode(),
        ),
        now,
    );
    mc.flush(now);
    assert_eq!(mc.tib.group_rp(G), Some(BSR_RP));
    // The RP's holdtime runs out with no new message (the listener and PEER still there):
    // back to the static RP.
    let later = now + Duration::from_secs(151);
    mc.control_frame(UP, &hello(PEER), later);
    mc.control_frame(LAN, &report(G), later);
    mc.on_timer(later);
    mc.flush(later);
    assert_eq!(mc.bsr().and_then(|b| b.rp_for(G)), None);
    assert_eq!(mc.tib.group_rp(G), Some(STATIC_RP));
    let e = mc.tib.entry(None, G).expect("(*,G)");
    assert_eq!(e.rpf_neighbor(), Some(STATIC_RP));
}

#[test]
fn a_candidate_rp_advertisement_at_the_elected_bsr_is_in_its_flooded_bootstrap() {
    let now = Instant::now();
    let mut cfg = cfg_pim_uplink();
    cfg.bsr.candidate_bsr = Some(CandidateBsr {
        address: ME,
        priority: 1,
        hash_mask_len: 30,
    });
    let mut mc = with_listener(cfg, now);
    assert_eq!(mc.bsr().map(|b| b.state()), Some(BsrState::PendingBsr));
    // BS_Rand_Override with no other BSR known: 5 s.
    let elected = now + Duration::from_secs(6);
    mc.on_timer(elected);
    mc.flush(elected);
    assert_eq!(mc.bsr().map(|b| b.state()), Some(BsrState::ElectedBsr));
    let (out, _) = sent(&mut mc, UP);
    let first = bootstraps(&out);
    assert_eq!(first.len(), 1, "{out:?}");
    assert_eq!((first[0].bsr_address, first[0].groups.len()), (ME, 0));
    // PEER advertises itself for 239/8, unicast to our address. The raw PIM socket hears it,
    // here by an interface without PIM (index 99): the per-interface control sockets leave
    // it to that socket (a copy on the uplink's is not handled twice).
    let adv = CandidateRpAdv {
        priority: 7,
        holdtime: 150,
        rp: PEER,
        groups: vec![EncodedGroup {
            address: Ipv4Addr::new(239, 0, 0, 0),
            mask_len: 8,
            bidir: false,
            zone: false,
        }],
    };
    let at = elected + Duration::from_secs(1);
    let adv = Pdu::CandidateRpAdv(adv).encode();
    mc.control_frame(UP, &frame(PEER, ME, &adv), at);
    mc.flush(at);
    assert_ne!(mc.tib.group_rp(G), Some(PEER));
    mc.unicast_pim(PEER, ME, Some(99), None, &adv, at);
    mc.flush(at);
    assert_eq!(mc.tib.group_rp(G), Some(PEER));
    let (out, _) = sent(&mut mc, UP);
    assert_eq!(star_g(&out).0, vec![(PEER, PEER)], "{out:?}");
    // The next periodic Bootstrap message carries it.
    let next = elected + BS_PERIOD;
    mc.control_frame(UP, &hello(PEER), next);
    mc.on_timer(next);
    mc.flush(next);
    let (out, _) = sent(&mut mc, UP);
    let b = bootstraps(&out);
    assert_eq!(b.len(), 1, "{out:?}");
    assert_eq!(b[0].bsr_address, ME);
    let g = &b[0].groups;
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(
        GroupRange::from_encoded(&g[0].group),
        GroupRange::new(Ipv4Addr::new(239, 0, 0, 0), 8)
    );
    assert_eq!(g[0].rps.len(), 1);
    assert_eq!((g[0].rps[0].address, g[0].rps[0].priority), (PEER, 7));
    // An advertisement to another address (passing through us) is not ours to take.
    let withdraw = CandidateRpAdv {
        priority: 7,
        holdtime: 0,
        rp: PEER,
        groups: Vec::new(),
    };
    let elsewhere = Ipv4Addr::new(10, 1, 0, 50);
    let withdraw = Pdu::CandidateRpAdv(withdraw).encode();
    mc.unicast_pim(PEER, elsewhere, Some(UP_IDX), None, &withdraw, next);
    mc.flush(next);
    assert_eq!(mc.tib.group_rp(G), Some(PEER));
    // Its withdrawal (holdtime 0) to us: back to the static RP.
    mc.unicast_pim(PEER, ME, Some(UP_IDX), None, &withdraw, next);
    mc.flush(next);
    assert_eq!(mc.tib.group_rp(G), Some(STATIC_RP));
}

#[test]
fn a_candidate_rp_advertises_itself_to_the_bsr_it_learns_and_primes_a_restarted_neighbor() {
    let now = Instant::now();
    let mut cfg = cfg_pim_uplink();
    cfg.bsr.candidate_rp = Some(CandidateRp {
        address: ME,
        priority: 3,
        groups: Vec::new(),
        holdtime: 90,
        interval: Duration::from_secs(30),
    });
    let mut mc = with_listener(cfg, now);
    let (_, unicast) = sent(&mut mc, UP);
    assert!(unicast.is_empty(), "no BSR known yet: {unicast:?}");
    let bsm = bootstrap(PEER, &[]);
    mc.control_frame(
        UP,
        &frame(
            PEER,
            Ipv4Addr::new(224, 0, 0, 13),
            &Pdu::Bootstrap(bsm).encode(),
        ),
        now,
    );
    mc.flush(now);
    let (_, unicast) = sent(&mut mc, UP);
    let want = CandidateRpAdv {
        priority: 3,
        holdtime: 90,
        rp: ME,
        groups: vec![GroupRange::ALL.to_encoded()],
    };
    assert_eq!(unicast, vec![(PEER, Pdu::CandidateRpAdv(want))]);
    // PEER restarts (new Generation ID). It is the DR of the link, and we would be without
    // it, so the stored message goes to it, unicast with the No-Forward bit.
    let restarted = Hello {
        holdtime: Some(105),
        generation_id: Some(8),
        ..Default::default()
    };
    let h = frame(
        PEER,
        Ipv4Addr::new(224, 0, 0, 13),
        &Message::Hello(restarted).encode(),
    );
    mc.control_frame(UP, &h, now);
    mc.flush(now);
    let (_, unicast) = sent(&mut mc, UP);
    let primed: Vec<&Bootstrap> = unicast
        .iter()
        .filter_map(|(dst, m)| match m {
            Pdu::Bootstrap(b) if *dst == PEER => Some(b),
            _ => None,
        })
        .collect();
    assert_eq!(primed.len(), 1, "{unicast:?}");
    assert!(primed[0].no_forward);
    assert_eq!(primed[0].bsr_address, PEER);
}
