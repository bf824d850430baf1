//! Multicast route decisions, sans I/O: which interface gets a copy of (S,G) (RFC 7761
//! §4.1.6 with the vendor knobs), and how long an mVRRP group's preemption waits for IGMP to
//! relearn. The multicast engine (`mcast/mod.rs`) and the two-device simulation both decide
//! with these.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dataplane::mfib::Oif;

use super::gates::Gate;
use crate::engines::igmp::iface as igmp;
use crate::engines::pim::downstream::Downstream;
use crate::engines::pim::iface::{self as pim, AssertState};

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
}
