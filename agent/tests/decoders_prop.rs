//! The wire decoders of the control protocols against arbitrary input (issue 15 item 6): no
//! input makes them panic, and whatever they accept comes back the same through its encoder
//! (decode(encode(m)) == m). BFD and IGMP are fed random bytes with their fixed fields or
//! checksum fixed up (random bytes rarely pass them); PIM Hellos and VRRP adverts are generated
//! as values (random bytes almost never form their TLVs and address lists). The PIM `Pdu`
//! decoder (Register, Register-Stop, Bootstrap, Candidate-RP-Advertisement) gets both: random
//! bytes with the header and checksum fixed up, and generated Bootstrap and C-RP-Adv values.

use std::net::Ipv4Addr;

use agent::engines::bfd::packet::ControlPacket;
use agent::engines::igmp::packet as igmp;
use agent::engines::pim::packet as pim;
use agent::engines::vrrp::packet::{self as vrrp, Advert};
use dataplane::wire::internet;
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

/// Write the Internet checksum of `b` into bytes `at..at + 2` (when there is room).
fn fix_checksum(b: &mut [u8], at: usize) {
    if b.len() >= at + 2 {
        b[at] = 0;
        b[at + 1] = 0;
        let c = internet(b, 0);
        b[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn no_input_makes_a_decoder_panic(b in bytes(600)) {
        let _ = ControlPacket::decode(&b);
        let _ = igmp::decode(&b);
        let _ = pim::Message::decode(&b);
        let _ = pim::Pdu::decode(&b);
        let _ = Advert::decode(&b, Ipv4Addr::new(10, 0, 0, 1));
        let _ = vrrp::parse_arp_request(&b);
    }

    #[test]
    fn bfd_round_trips(mut b in proptest::collection::vec(any::<u8>(), 24..40)) {
        // Version 1, length 24, no authentication or multipoint, non-zero multiplier.
        b[0] = (1 << 5) | (b[0] & 0x1f);
        b[1] &= !0x05;
        b[2] |= 1;
        b[3] = 24;
        if let Ok(p) = ControlPacket::decode(&b) {
            prop_assert_eq!(ControlPacket::decode(&p.encode()), Ok(p));
        }
    }

    #[test]
    fn igmp_round_trips(mut b in bytes(300)) {
        fix_checksum(&mut b, 2);
        if let Ok(m) = igmp::decode(&b) {
            prop_assert_eq!(igmp::decode(&m.encode()), Ok(m));
        }
    }

    #[test]
    fn pim_hello_round_trips(
        holdtime in proptest::option::of(any::<u16>()),
        lpd in proptest::option::of((any::<bool>(), 0u16..0x8000, any::<u16>())),
        dr_priority in proptest::option::of(any::<u32>()),
        generation_id in proptest::option::of(any::<u32>()),
        secondary in proptest::collection::vec(any::<[u8; 4]>(), 0..8),
    ) {
        let h = pim::Hello {
            holdtime,
            lan_prune_delay: lpd.map(|(tracking, propagation_delay_ms, override_interval_ms)| {
                pim::LanPruneDelay { tracking, propagation_delay_ms, override_interval_ms }
            }),
            dr_priority,
            generation_id,
            secondary_addresses: secondary.into_iter().map(Ipv4Addr::from).collect(),
        };
        let m = pim::Message::Hello(h);
        prop_assert_eq!(pim::Message::decode(&m.encode()), Ok(m));
    }

    #[test]
    fn pim_pdu_round_trips(
        mut b in bytes(400),
        typ in prop::sample::select(vec![1u8, 2, 4, 8]),
    ) {
        // PIM version 2, the type given; the checksum over the first 8 bytes of a Register
        // (RFC 7761 §4.9.3), over the whole message otherwise.
        if b.len() < 8 {
            b.resize(8, 0);
        }
        b[0] = (2 << 4) | typ;
        let covered = if typ == 1 { 8 } else { b.len() };
        fix_checksum(&mut b[..covered], 2);
        if let Ok(m) = pim::Pdu::decode(&b) {
            prop_assert_eq!(pim::Pdu::decode(&m.encode()), Ok(m));
        }
    }

    #[test]
    fn pim_bootstrap_and_crp_adv_round_trip(
        no_forward in any::<bool>(),
        tag in any::<u16>(),
        hash_mask_len in 0u8..=32,
        bsr_priority in any::<u8>(),
        bsr in any::<[u8; 4]>(),
        ranges in proptest::collection::vec(
            (any::<[u8; 4]>(), 0u8..=32, any::<bool>(), any::<bool>(), any::<u8>(),
             proptest::collection::vec((any::<[u8; 4]>(), any::<u16>(), any::<u8>()), 0..5)),
            0..6,
        ),
        priority in any::<u8>(),
        holdtime in any::<u16>(),
    ) {
        let group = |a: [u8; 4], mask_len, bidir, zone| pim::EncodedGroup {
            address: Ipv4Addr::from(a),
            mask_len,
            bidir,
            zone,
        };
        let groups: Vec<pim::BsmGroup> = ranges
            .iter()
            .map(|(a, m, bidir, zone, rp_count, rps)| pim::BsmGroup {
                group: group(*a, *m, *bidir, *zone),
                rp_count: *rp_count,
                rps: rps
                    .iter()
                    .map(|&(rp, holdtime, priority)| pim::BsmRp {
                        address: Ipv4Addr::from(rp),
                        holdtime,
                        priority,
                    })
                    .collect(),
            })
            .collect();
        let bsm = pim::Pdu::Bootstrap(pim::Bootstrap {
            no_forward,
            fragment_tag: tag,
            hash_mask_len,
            bsr_priority,
            bsr_address: Ipv4Addr::from(bsr),
            groups,
        });
        prop_assert_eq!(pim::Pdu::decode(&bsm.encode()), Ok(bsm));
        let adv = pim::Pdu::CandidateRpAdv(pim::CandidateRpAdv {
            priority,
            holdtime,
            rp: Ipv4Addr::from(bsr),
            groups: ranges
                .iter()
                .map(|(a, m, bidir, zone, _, _)| group(*a, *m, *bidir, *zone))
                .collect(),
        });
        prop_assert_eq!(pim::Pdu::decode(&adv.encode()), Ok(adv));
    }

    #[test]
    fn vrrp_round_trips(
        v3 in any::<bool>(),
        vrid in 1u8..=255,
        priority in any::<u8>(),
        interval in 1u16..=0x0fff,
        addresses in proptest::collection::vec(any::<[u8; 4]>(), 1..16),
        pseudo in any::<bool>(),
    ) {
        let a = Advert {
            version: if v3 { 3 } else { 2 },
            vrid,
            priority,
            // Version 2 carries whole seconds (1..255).
            interval_cs: if v3 { interval } else { (interval % 255 + 1) * 100 },
            addresses: addresses.into_iter().map(Ipv4Addr::from).collect(),
        };
        let src = Ipv4Addr::new(10, 0, 0, 1);
        let mode = if pseudo && v3 {
            vrrp::ChecksumMode::IncludePseudoHeader
        } else {
            vrrp::ChecksumMode::ExcludePseudoHeader
        };
        let (back, got) = Advert::decode(&a.encode(src, mode), src).expect("decodes");
        prop_assert_eq!(back, a);
        prop_assert_eq!(got, mode);
    }
}

/// The two round-trip properties over fixed-up random bytes are not vacuous: a fair share of
/// the inputs decodes (counted over a fixed pseudo-random sample).
#[test]
fn fixed_up_random_inputs_do_decode() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (mut bfd, mut igmp_ok) = (0, 0);
    for i in 0..4000 {
        let len = (next() % 64) as usize + 8;
        let b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let mut c = b.clone();
        c.resize(24.max(c.len()), 0);
        c[0] = (1 << 5) | (c[0] & 0x1f);
        c[1] &= !0x05;
        c[2] |= 1;
        c[3] = 24;
        bfd += usize::from(ControlPacket::decode(&c).is_ok());
        let mut g = b;
        g.truncate(8 + 4 * (i % 3));
        fix_checksum(&mut g, 2);
        igmp_ok += usize::from(igmp::decode(&g).is_ok());
    }
    eprintln!("decoded of 4000: bfd {bfd}, igmp {igmp_ok}");
    assert!(
        bfd >= 1000,
        "bfd: only {bfd} of 4000 fixed-up inputs decoded"
    );
    assert!(
        igmp_ok >= 20,
        "igmp: only {igmp_ok} of 4000 fixed-up inputs decoded"
    );
}
