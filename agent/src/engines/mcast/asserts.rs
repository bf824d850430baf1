//! The multicast engine's side of PIM Asserts (RFC 7761 §4.6), where they need the forwarding
//! table, RPF and the upstream state: data of a routed flow on an outgoing interface, our
//! metric for a received Assert (CouldAssert), AssertTrackingDesired, and Assert state that no
//! route justifies any more. The per-interface Assert state machines are the PIM cores'
//! (`pim/iface.rs`, owned by `interfaces.rs`).

use std::net::Ipv4Addr;
use std::time::Instant;

use dataplane::mfib::Route;
use tracing::debug;

use super::routes::{igmp_wants, pim_wants};
use super::Multicast;
use crate::engines::pim::iface::{AssertState, Claim, RouteMetric};
use crate::engines::pim::packet::Assert;

impl Multicast {
    /// Data of the routed flow (s, g) arrived on `ifindex`, not its incoming interface.
    pub(super) fn wrong_interface(
        &mut self,
        s: Ipv4Addr,
        g: Ipv4Addr,
        ifindex: u32,
        on_oif: bool,
        now: Instant,
    ) {
        let rpf = self.rpf(s);
        if rpf.is_some_and(|r| r.ifindex == ifindex) {
            // On the shortest-path tree now: accept it there from here on (RFC 7761 §4.2.2).
            if self.sources.on_spt(s, g, ifindex, now) {
                self.dirty = true;
                debug!(source = %s, group = %g, ifindex, "switched to the shortest-path tree");
            }
            return;
        }
        let (Some(rpf), true) = (rpf, on_oif) else {
            return;
        };
        // Another router forwards the flow onto a LAN we forward it onto (§4.6.1). Not on an
        // mVRRP-gated interface: there the gate decides who forwards, and both routers forward
        // for an instant in every handover.
        let Some((name, e)) = self.ifs.by_index(ifindex) else {
            return;
        };
        if e.cfg.gate.is_some() || e.pim.is_none() {
            return;
        }
        let name = name.clone();
        // A route still on the RP tree (its data comes in where the RP's path does, not on the
        // RPF interface toward the source) asserts as (*,G), with the RPT bit and the metric
        // toward the RP (§4.6.2); on the shortest-path tree as (S,G) (§4.6.1).
        let on_rpt = self
            .mfib
            .snapshot()
            .get(s, g)
            .is_some_and(|r| r.iif != rpf.ifindex);
        let (source, mine) = if on_rpt {
            match self.cfg.rp.and_then(|rp| self.rpf(rp)) {
                Some(r) => (
                    None,
                    RouteMetric {
                        rpt: true,
                        ..r.metric
                    },
                ),
                None => return,
            }
        } else {
            (Some(s), rpf.metric)
        };
        self.ifs.data_on_outgoing(&name, source, g, mine, now);
        self.absorb(now);
    }

    /// AssertTrackingDesired (§4.6.1) on the interface with index `ifindex`: it is the upstream
    /// interface of a route we join, so an Assert winner there is our RPF' (§4.1.6).
    pub(super) fn tracks_asserts(
        &self,
        ifindex: Option<u32>,
        source: Option<Ipv4Addr>,
        group: Ipv4Addr,
    ) -> bool {
        self.tib
            .entry(source, group)
            .is_some_and(|e| e.join_desired() && Some(e.upstream_if()) == ifindex)
    }

    /// What we could claim for the route an Assert on `name` is about (§4.6): our metric if we
    /// forward it there, AssertTrackingDesired, and for an R-bit Assert naming a source our
    /// shortest-path claim for that (S,G) (CouldAssert(S,G,I), §4.6.1).
    pub(super) fn assert_claim(&mut self, name: &str, a: &Assert) -> Claim {
        let mine = self.assert_metric(name, a);
        let source = (!a.rpt).then_some(a.source);
        let idx = self.ifs.get(name).and_then(|e| e.index);
        let track = self.tracks_asserts(idx, source, a.group.address);
        let spt = if a.rpt && !a.source.is_unspecified() {
            self.spt_claim(name, a.source, a.group.address)
        } else {
            None
        };
        Claim { mine, track, spt }
    }

    /// Our (S,G) metric toward `s` if we forward (s, g) onto `name` on the shortest-path tree
    /// (its data comes in on the RPF interface toward the source): CouldAssert(S,G,I).
    fn spt_claim(&mut self, name: &str, s: Ipv4Addr, g: Ipv4Addr) -> Option<RouteMetric> {
        let e = self.ifs.get(name)?;
        if e.cfg.gate.is_some() {
            return None;
        }
        let ifindex = e.index?;
        let table = self.mfib.snapshot();
        let forwards = |r: &&Route| r.oifs.iter().any(|o| o.ifindex == ifindex && o.forwarding);
        let iif = table.get(s, g).filter(forwards)?.iif;
        let rpf = self.rpf(s)?;
        (iif == rpf.ifindex).then_some(rpf.metric)
    }

    /// Our Assert metric for the route an Assert on `name` is about, if we forward it onto that
    /// interface (CouldAssert, §4.6): toward the source for an (S,G) Assert, toward the RP for
    /// a (*,G) one (any source of the group forwarded there counts).
    pub(super) fn assert_metric(&mut self, name: &str, a: &Assert) -> Option<RouteMetric> {
        let e = self.ifs.get(name)?;
        if e.cfg.gate.is_some() {
            return None;
        }
        let ifindex = e.index?;
        let table = self.mfib.snapshot();
        let group = a.group.address;
        let forwards = |r: &Route| r.oifs.iter().any(|o| o.ifindex == ifindex && o.forwarding);
        if a.rpt {
            let rp = self.cfg.rp?;
            if !table.routes().any(|r| r.group == group && forwards(r)) {
                return None;
            }
            return self.rpf(rp).map(|r| RouteMetric {
                rpt: true,
                ..r.metric
            });
        }
        let iif = table.get(a.source, group).filter(|r| forwards(r))?.iif;
        let rpf = self.rpf(a.source)?;
        if iif != rpf.ifindex {
            // On the RP tree our claim is the (*,G) one, which an (S,G) Assert always beats
            // (§4.6.1): the winner's Assert prunes the source from what we forward there.
            let rp = self.rpf(self.cfg.rp?)?;
            return Some(RouteMetric {
                rpt: true,
                ..rp.metric
            });
        }
        Some(rpf.metric)
    }

    /// Assert state for routes that no longer (could) forward onto the interface ends
    /// (CouldAssert false, §4.6.1): a winner sends AssertCancel, a loser forgets, so a router
    /// that stopped forwarding never keeps the LAN from the others.
    pub(super) fn end_stale_asserts(&mut self, now: Instant) {
        let table = self.mfib.snapshot();
        let mut ended: Vec<(String, Option<Ipv4Addr>, Ipv4Addr)> = Vec::new();
        for (name, e) in self.ifs.iter() {
            let (Some(p), Some(idx)) = (e.pim.as_ref(), e.index) else {
                continue;
            };
            for (s, g, st) in p.asserts() {
                // The winner upstream of a route we join stays known (RPF').
                if matches!(st, AssertState::Loser { .. }) && self.tracks_asserts(Some(idx), s, g) {
                    continue;
                }
                // Would the interface be an outgoing one but for the assert?
                let wanted = |src: Ipv4Addr, iif: u32| {
                    iif != idx
                        && (e.igmp.as_ref().is_some_and(|i| igmp_wants(i, src, g))
                            || e.ds.as_ref().is_some_and(|d| pim_wants(d, src, g)))
                };
                let could = match s {
                    Some(s) => table.get(s, g).is_some_and(|r| wanted(s, r.iif)),
                    None => table
                        .routes()
                        .any(|r| r.group == g && wanted(r.source, r.iif)),
                };
                if !could {
                    ended.push((name.clone(), s, g));
                }
            }
        }
        for (name, s, g) in ended {
            self.ifs.could_assert_false(&name, s, g);
        }
        self.absorb(now);
    }
}
