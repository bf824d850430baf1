//! The bootstrap router mechanism (RFC 5059) in the multicast engine: the sans-I/O core
//! ([`Bsr`]) gets the Bootstrap messages our PIM neighbors send (with the RPF check toward
//! their BSR) and the Candidate-RP-Advertisements unicast to us, and what it decides goes out
//! as effects: Bootstrap messages to ALL-PIM-ROUTERS (TTL 1) on every PIM interface,
//! advertisements and the Bootstrap message owed to a new neighbor unicast through the
//! kernel's routing ([`Effect::Unicast`]). A change of the RP set makes the routes computed
//! again, so (*,G) Joins follow RP(G): the BSR's choice, else the static `rp-address`.

use std::net::Ipv4Addr;
use std::time::Instant;

use tracing::{debug, info};

use super::interfaces::PIM_PROTO;
use super::{Effect, Multicast};
use crate::engines::pim::bsr::{primes_new_neighbor, BsmArrival, Bsr, BsrAction, BsrDrop};
use crate::engines::pim::packet::{Bootstrap, CandidateRpAdv, Pdu, ALL_PIM_ROUTERS};

/// Bootstrap messages kept while the routing table is still being read for their RPF check.
const PENDING_MAX: usize = 16;

/// A Bootstrap message waiting for the routing table (its RPF check needs it).
#[derive(Debug, Clone)]
pub(super) struct PendingBsm {
    ifindex: u32,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    bsm: Bootstrap,
}

impl Multicast {
    /// The BSR machinery, once configured.
    pub fn bsr(&self) -> Option<&Bsr> {
        self.bsr.as_ref()
    }

    /// RP(G): the BSR's RP set, else the static RP.
    pub(in crate::engines) fn rp_of(&self, group: Ipv4Addr) -> Option<Ipv4Addr> {
        self.bsr
            .as_ref()
            .and_then(|b| b.rp_for(group))
            .or(self.cfg.rp)
    }

    /// Is `addr` one of this device's addresses (any interface)?
    pub(super) fn is_own(&self, addr: Ipv4Addr) -> bool {
        self.own_addrs.contains(&addr) || self.ifs.is_local(addr)
    }

    /// A new configuration for the BSR machinery (created at the first one: its start-up
    /// instant is the engine's).
    pub(super) fn apply_bsr(&mut self, now: Instant) {
        let cfg = self.cfg.bsr.clone();
        let actions = match self.bsr.as_mut() {
            Some(b) => b.reconfigure(cfg, now),
            None => {
                let mut b = Bsr::new(Default::default(), now, self.seed);
                let a = b.reconfigure(cfg, now);
                self.bsr = Some(b);
                a
            }
        };
        self.bsr_actions(actions);
    }

    /// A Bootstrap message from neighbor `src` on the interface `ifindex`.
    pub(super) fn receive_bootstrap(
        &mut self,
        ifindex: u32,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        bsm: Bootstrap,
        now: Instant,
    ) {
        let unicast = dst != ALL_PIM_ROUTERS;
        if unicast && !self.is_own(dst) {
            return;
        }
        let needs_rpf = !unicast && !bsm.no_forward;
        let from_rpf_neighbor = if needs_rpf {
            match self.rpf(bsm.bsr_address) {
                // RPF' toward the BSR: the gateway of the route, or the BSR itself on a
                // connected subnet.
                Some(r) => r.ifindex == ifindex && r.neighbor.unwrap_or(bsm.bsr_address) == src,
                None if !self.rib.has_table() => {
                    // The routing table is being read: check again once it is in.
                    if self.pending_bsm.len() < PENDING_MAX {
                        self.pending_bsm.push(PendingBsm {
                            ifindex,
                            src,
                            dst,
                            bsm,
                        });
                    }
                    return;
                }
                None => false,
            }
        } else {
            false
        };
        let Some(b) = self.bsr.as_mut() else { return };
        let arrival = BsmArrival {
            interface: ifindex,
            unicast,
            from_rpf_neighbor,
        };
        let bsr = bsm.bsr_address;
        match b.receive_bootstrap(bsm, arrival, now) {
            Ok(actions) => {
                debug!(from = %src, bsr = %bsr, "Bootstrap message accepted");
                self.bsr_actions(actions);
            }
            Err(BsrDrop::OwnMessage) => {}
            Err(why) => debug!(from = %src, bsr = %bsr, reason = %why, "Bootstrap message dropped"),
        }
    }

    /// Bootstrap messages that waited for the routing table, once it is in.
    pub(super) fn retry_pending_bootstraps(&mut self, now: Instant) {
        if self.pending_bsm.is_empty() || !self.rib.has_table() {
            return;
        }
        for p in std::mem::take(&mut self.pending_bsm) {
            self.receive_bootstrap(p.ifindex, p.src, p.dst, p.bsm, now);
        }
    }

    /// A Candidate-RP-Advertisement to `dst`: ours when `dst` is one of our addresses.
    pub(super) fn receive_candidate_rp_adv(
        &mut self,
        dst: Ipv4Addr,
        adv: &CandidateRpAdv,
        now: Instant,
    ) {
        if !self.is_own(dst) {
            return;
        }
        let Some(b) = self.bsr.as_mut() else { return };
        match b.receive_candidate_rp_adv(adv, now) {
            Ok(actions) => {
                debug!(rp = %adv.rp, holdtime = adv.holdtime, "Candidate-RP-Advertisement");
                self.bsr_actions(actions);
            }
            Err(why) => debug!(rp = %adv.rp, reason = %why, "Candidate-RP-Advertisement dropped"),
        }
    }

    /// A new or restarted PIM neighbor on `interface`: the stored Bootstrap message goes to it
    /// (unicast, with the No-Forward bit) when this router is the one to send it (§3.5).
    pub(super) fn prime_neighbor(&mut self, interface: &str, neighbor: Ipv4Addr) {
        let Some(b) = self.bsr.as_ref() else { return };
        let Some(e) = self.ifs.get(interface) else {
            return;
        };
        let Some(p) = e.pim.as_ref() else { return };
        if !primes_new_neighbor(e.local, neighbor, p.dr(), p.dr_without(neighbor)) {
            return;
        }
        let msgs = b.stored_bootstrap();
        if !msgs.is_empty() {
            debug!(interface, neighbor = %neighbor, fragments = msgs.len(), "Bootstrap message to a new neighbor");
        }
        for m in msgs {
            self.effects.push(Effect::Unicast {
                to: neighbor,
                from: None,
                pim: Pdu::Bootstrap(m).encode(),
            });
        }
    }

    /// Runs the BSR timers due by `now`.
    pub(super) fn bsr_timer(&mut self, now: Instant) {
        let Some(b) = self.bsr.as_mut() else { return };
        if b.next_deadline().is_some_and(|t| t <= now) {
            let actions = b.on_timer(now);
            self.bsr_actions(actions);
        }
    }

    fn bsr_actions(&mut self, actions: Vec<BsrAction>) {
        for a in actions {
            match a {
                BsrAction::Flood { except, msg } => {
                    let payload = Pdu::Bootstrap(msg).encode();
                    let names: Vec<String> = self
                        .ifs
                        .iter()
                        .filter(|(_, e)| e.pim.is_some() && e.index.is_some() && e.index != except)
                        .map(|(n, _)| n.clone())
                        .collect();
                    for interface in names {
                        if let Some(frame) =
                            self.ifs
                                .frame(&interface, ALL_PIM_ROUTERS, PIM_PROTO, &payload)
                        {
                            self.effects.push(Effect::Frame { interface, frame });
                        }
                    }
                }
                BsrAction::SendCandidateRpAdv { bsr, adv } => {
                    debug!(bsr = %bsr, rp = %adv.rp, holdtime = adv.holdtime, "Candidate-RP-Advertisement sent");
                    self.effects.push(Effect::Unicast {
                        to: bsr,
                        from: None,
                        pim: Pdu::CandidateRpAdv(adv).encode(),
                    });
                }
                BsrAction::RpSetChanged => {
                    if let Some(b) = &self.bsr {
                        info!(state = ?b.state(), bsr = ?b.elected_bsr(), ranges = b.rp_set().ranges().count(), "BSR RP set changed");
                    }
                    self.dirty = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
