//! Property tests of the PIM codecs added for the RP and BSR machinery: no input makes
//! [`Pdu::decode`] panic, and every message comes back the same through its encoder.

use std::net::Ipv4Addr;

use proptest::prelude::*;

use super::*;

fn group() -> impl Strategy<Value = EncodedGroup> {
    (any::<[u8; 4]>(), any::<u8>(), any::<bool>(), any::<bool>()).prop_map(|(a, m, b, z)| {
        EncodedGroup {
            address: Ipv4Addr::from(a),
            mask_len: m,
            bidir: b,
            zone: z,
        }
    })
}

fn multicast() -> impl Strategy<Value = Ipv4Addr> {
    (224u8..240, any::<[u8; 3]>()).prop_map(|(a, r)| Ipv4Addr::new(a, r[0], r[1], r[2]))
}

fn register() -> impl Strategy<Value = Register> {
    (
        any::<[u8; 4]>(),
        multicast(),
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(s, g, border, null, payload)| {
            let mut r = Register::null(Ipv4Addr::from(s), g);
            let total = (r.packet.len() + payload.len()) as u16;
            r.packet[2..4].copy_from_slice(&total.to_be_bytes());
            r.packet.extend_from_slice(&payload);
            r.border = border;
            r.null = null;
            r
        })
}

fn bootstrap() -> impl Strategy<Value = Bootstrap> {
    let rp = (any::<[u8; 4]>(), any::<u16>(), any::<u8>()).prop_map(|(a, h, p)| BsmRp {
        address: Ipv4Addr::from(a),
        holdtime: h,
        priority: p,
    });
    let range = (group(), any::<u8>(), proptest::collection::vec(rp, 0..6)).prop_map(
        |(group, rp_count, rps)| BsmGroup {
            group,
            rp_count,
            rps,
        },
    );
    (
        any::<bool>(),
        any::<u16>(),
        any::<u8>(),
        any::<u8>(),
        any::<[u8; 4]>(),
        proptest::collection::vec(range, 0..5),
    )
        .prop_map(|(no_forward, tag, mask, prio, bsr, groups)| Bootstrap {
            no_forward,
            fragment_tag: tag,
            hash_mask_len: mask,
            bsr_priority: prio,
            bsr_address: Ipv4Addr::from(bsr),
            groups,
        })
}

fn pdu() -> impl Strategy<Value = Pdu> {
    prop_oneof![
        register().prop_map(Pdu::Register),
        (group(), any::<[u8; 4]>()).prop_map(|(group, s)| Pdu::RegisterStop(RegisterStop {
            group,
            source: Ipv4Addr::from(s),
        })),
        bootstrap().prop_map(Pdu::Bootstrap),
        (
            any::<u8>(),
            any::<u16>(),
            any::<[u8; 4]>(),
            proptest::collection::vec(group(), 0..8)
        )
            .prop_map(|(priority, holdtime, rp, groups)| {
                Pdu::CandidateRpAdv(CandidateRpAdv {
                    priority,
                    holdtime,
                    rp: Ipv4Addr::from(rp),
                    groups,
                })
            }),
    ]
}

/// Random bytes made to look like a message of one of the new types: version 2, the type,
/// and a checksum that verifies (over 8 bytes for a Register), so the body decoders run. A
/// Register whose second byte is even also gets an IPv4 multicast header inside.
fn fixed_up(mut b: Vec<u8>, typ: u8) -> Vec<u8> {
    if typ == TYPE_REGISTER && b.len() >= 28 && b[1] % 2 == 0 {
        b[8] = 0x45;
        b[10] = 0;
        b[11] = 20 + b[11] % 16;
        b[24] = 0xe0 | (b[24] & 0x0f);
    }
    if b.len() >= HEADER_LEN {
        b[0] = (PIM_VERSION << 4) | typ;
        b[2] = 0;
        b[3] = 0;
        let covered = if typ == TYPE_REGISTER {
            b.len().min(register::REGISTER_HEADER_LEN)
        } else {
            b.len()
        };
        let sum = dataplane::wire::internet(&b[..covered], 0);
        b[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Pdu::decode(&b);
    }

    #[test]
    fn fixed_up_bytes_never_panic_and_round_trip(
        b in proptest::collection::vec(any::<u8>(), 0..200),
        t in prop::sample::select(vec![
            TYPE_REGISTER, TYPE_REGISTER_STOP, TYPE_BOOTSTRAP, TYPE_CANDIDATE_RP_ADV,
        ]),
    ) {
        if let Ok(m) = Pdu::decode(&fixed_up(b, t)) {
            prop_assert_eq!(Pdu::decode(&m.encode()), Ok(m));
        }
    }

    #[test]
    fn messages_round_trip(m in pdu()) {
        prop_assert_eq!(Pdu::decode(&m.encode()), Ok(m));
    }
}

/// The fixed-up round trip is not vacuous: a share of such inputs does decode.
#[test]
fn fixed_up_inputs_do_decode() {
    let mut rng = crate::engines::rng::Rng::new(42);
    let mut ok = [0usize; 4];
    let types = [
        TYPE_REGISTER,
        TYPE_REGISTER_STOP,
        TYPE_BOOTSTRAP,
        TYPE_CANDIDATE_RP_ADV,
    ];
    for i in 0..4000 {
        let len = (rng.next_u64() % 40) as usize + 4;
        let mut b: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        // Encoded addresses are IPv4/native more often than not in real traffic.
        for k in (4..b.len()).step_by(2) {
            if rng.next_u64() % 2 == 0 {
                b[k] = 1;
                if k + 1 < b.len() {
                    b[k + 1] = 0;
                }
            }
        }
        ok[i % 4] += usize::from(Pdu::decode(&fixed_up(b, types[i % 4])).is_ok());
    }
    assert!(ok.iter().all(|&n| n > 0), "decoded per type: {ok:?}");
}
