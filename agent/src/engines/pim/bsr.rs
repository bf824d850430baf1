//! The bootstrap router mechanism (RFC 5059) for one PIM domain (a single scope zone): BSR
//! election, the RP set it spreads, and the candidate-RP side.
//!
//! * A router configured as candidate BSR runs the state machine of RFC 5059 §3.1.1:
//!   Pending-BSR (no better BSR heard; the Bootstrap Timer, at BS_Rand_Override at start-up
//!   and after losing the BSR, decides when it takes over), Candidate-BSR (a better BSR is
//!   elected) and
//!   Elected-BSR (it originates a Bootstrap message every [`BS_PERIOD`], with the RP set
//!   assembled from the Candidate-RP-Advertisements it received, and answers a worse BSR's
//!   message with one of its own at once).
//! * Any other router runs §3.1.2: No-Info, Accept-Preferred (a BSR is known; only messages
//!   from it or a better one are taken) and Accept-Any (the BSR went quiet for
//!   [`BS_TIMEOUT`]: the next message from anyone is taken). The scope-zone timer only
//!   brings Accept-Any back to No-Info after [`SZ_TIMEOUT`].
//! * Bootstrap messages pass the checks of §3.1.3 (a multicast one without the No-Forward
//!   bit from the RPF neighbor toward its BSR; a No-Forward or unicast one only at start-up)
//!   and accepted multicast ones without the No-Forward bit are forwarded out of every PIM
//!   interface, the arrival one included (§3.4); their RP set is stored. Fragments are reassembled per group range: a
//!   range's RPs replace the stored ones once all of them (its RP Count) arrived under one
//!   fragment tag. Ranges the BSR stops announcing fade with their RPs' holdtimes.
//! * A candidate RP unicasts a Candidate-RP-Advertisement to the elected BSR every
//!   advertisement interval and at once when a new BSR is elected; removing the candidate
//!   sends one with holdtime 0.
//!
//! RP(G) comes from [`super::rp_set::RpSet::rp_for`]; [`BsrAction::RpSetChanged`] tells the
//! caller to re-evaluate it for the groups in use (RP failover).
//!
//! Simplified or missing: admin scope zones (Z-bit ranges are handled as global ones); the
//! sending of the stored Bootstrap message to a new neighbor is left to the caller
//! ([`Bsr::stored_bootstrap`], [`primes_new_neighbor`]); C-RP-Advertisements are sent
//! without C_RP_Adv_Backoff jitter; BS_Min_Interval between originated messages is not
//! enforced.
//!
//! Why this file is about 770 lines: the three roles of RFC 5059 (candidate BSR, any other
//! router, candidate RP) share one stored RP set and one Bootstrap Timer, and a message's
//! acceptance decides both the election and the RP set; split apart they would need each
//! other's state. The RP set itself and the hash are in `rp_set.rs`, the codecs in `packet/`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::packet::{Bootstrap, BsmGroup, BsmRp, CandidateRpAdv};
use super::rp_set::{GroupRange, RpSet};
use crate::engines::rng::Rng;

/// BS_Period: how often the elected BSR originates a Bootstrap message (RFC 5059 §5).
pub const BS_PERIOD: Duration = Duration::from_secs(60);
/// BS_Timeout: how long a BSR stays elected without its Bootstrap messages (§5).
pub const BS_TIMEOUT: Duration = Duration::from_secs(130);
/// SZ_Timeout: how long a scope zone is remembered without Bootstrap messages (§5).
pub const SZ_TIMEOUT: Duration = Duration::from_secs(1300);
/// C_RP_Adv_Period: how often a candidate RP advertises itself (§5).
pub const C_RP_ADV_PERIOD: Duration = Duration::from_secs(60);
/// Holdtime of a candidate RP's advertisements: 2.5 x [`C_RP_ADV_PERIOD`] (RFC 5059 §4.2).
pub const C_RP_HOLDTIME: u16 = 150;
/// The usual IPv4 hash mask length (RFC 7761 §4.7.2).
pub const DEFAULT_HASH_MASK_LEN: u8 = 30;
/// The default candidate-RP priority (RFC 5059 §3.2).
pub const DEFAULT_C_RP_PRIORITY: u8 = 192;
/// Largest Bootstrap message built (PIM header included), leaving room for the IPv4 header
/// within a 1500-byte MTU.
pub const MAX_BSM_LEN: usize = 1400;

/// This router as candidate BSR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CandidateBsr {
    pub address: Ipv4Addr,
    /// Higher wins the election; equal priorities go to the higher address.
    pub priority: u8,
    pub hash_mask_len: u8,
}

/// This router as candidate RP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateRp {
    pub address: Ipv4Addr,
    /// Lower is preferred.
    pub priority: u8,
    /// The ranges served; empty = all multicast groups (advertised as 224.0.0.0/4, since a
    /// C-RP-Adv must carry at least one range, RFC 5059 §3.2).
    pub groups: Vec<GroupRange>,
    /// Holdtime announced, in seconds.
    pub holdtime: u16,
    /// How often to advertise.
    pub interval: Duration,
}

/// The BSR configuration of the router.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BsrConfig {
    pub candidate_bsr: Option<CandidateBsr>,
    pub candidate_rp: Option<CandidateRp>,
}

/// Where the router stands in the BSR mechanism (RFC 5059 §3.1.1, §3.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BsrState {
    /// Not a candidate; no BSR known.
    NoInfo,
    /// Not a candidate; the BSR timed out, any BSR is accepted.
    AcceptAny,
    /// Not a candidate; a BSR is known and only it or a better one is accepted.
    AcceptPreferred,
    /// Candidate; a better BSR is elected.
    CandidateBsr,
    /// Candidate; no better BSR known, waiting for the Bootstrap Timer to take over.
    PendingBsr,
    /// Candidate and the elected BSR.
    ElectedBsr,
}

/// How a Bootstrap message reached us. The caller has already dropped messages whose
/// source is not a directly connected PIM neighbor with Hello state (RFC 5059 §3.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BsmArrival {
    /// The interface it arrived on.
    pub interface: u32,
    /// Unicast to one of our addresses (from a neighbor) rather than to ALL-PIM-ROUTERS.
    pub unicast: bool,
    /// The sender is our RPF neighbor toward the message's BSR address (only checked for a
    /// multicast message without the No-Forward bit).
    pub from_rpf_neighbor: bool,
}

/// What the I/O layer must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BsrAction {
    /// Send `msg` to ALL-PIM-ROUTERS (TTL 1) on every PIM interface with neighbors except
    /// `except`. Forwarded and originated messages always go out of every interface, the
    /// one a forwarded message arrived on included (RFC 5059 §3.4: routers on a LAN may
    /// disagree on RPF(BSR)), so `except` is `None` for them.
    Flood { except: Option<u32>, msg: Bootstrap },
    /// Unicast `adv` to the elected BSR `bsr`.
    SendCandidateRpAdv { bsr: Ipv4Addr, adv: CandidateRpAdv },
    /// The group-to-RP mapping changed: re-evaluate RP(G) ([`Bsr::rp_for`]).
    RpSetChanged,
}

/// Why a BSR message was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BsrDrop {
    /// A multicast Bootstrap message without the No-Forward bit not from the RPF neighbor
    /// toward its BSR (RFC 5059 §3.1.3).
    #[error("Bootstrap message not from the RPF neighbor toward the BSR")]
    NotFromRpfNeighbor,
    /// A No-Forward or unicast Bootstrap message after start-up: one was accepted before,
    /// or more than BS_Period has passed since start-up (RFC 5059 §3.1.3).
    #[error("No-Forward or unicast Bootstrap message after start-up")]
    NotAtStartup,
    /// Our own Bootstrap message came back.
    #[error("own Bootstrap message")]
    OwnMessage,
    /// From a BSR worse than the one we accept.
    #[error("Bootstrap message from a BSR that is not preferred")]
    NotPreferred,
    /// A Candidate-RP-Advertisement while we are not the elected BSR.
    #[error("Candidate-RP-Advertisement while not the elected BSR")]
    NotElected,
}

/// A BSR as compared in the election: priority first, then address.
type Weight = (u8, Ipv4Addr);

/// Fragments of one Bootstrap message being put together.
#[derive(Debug, Clone)]
struct Assembly {
    bsr: Ipv4Addr,
    tag: u16,
    /// Ranges still incomplete: announced RP Count and the RPs received so far.
    partial: BTreeMap<GroupRange, (u8, Vec<BsmRp>)>,
    /// The fragments received, for [`Bsr::stored_bootstrap`].
    fragments: Vec<Bootstrap>,
}

/// The BSR machinery of one router.
#[derive(Debug, Clone)]
pub struct Bsr {
    config: BsrConfig,
    state: BsrState,
    /// The elected BSR (ours when Elected).
    elected: Option<Weight>,
    bootstrap_timer: Option<Instant>,
    scope_zone_timer: Option<Instant>,
    /// The group-to-RP mapping in use.
    rp_set: RpSet,
    /// At the elected BSR: the candidate RPs heard (the RP set it originates).
    candidates: RpSet,
    assembly: Option<Assembly>,
    /// Our last originated message, in fragments.
    originated: Vec<Bootstrap>,
    crp_timer: Option<Instant>,
    fragment_tag: u16,
    /// When this router started: No-Forward and unicast Bootstrap messages are only taken
    /// within BS_Period of it.
    started: Instant,
    /// Whether any Bootstrap message was accepted.
    accepted_any: bool,
}

impl Bsr {
    /// A router with `config` started at `now`. A candidate BSR starts in Pending-BSR with
    /// the Bootstrap Timer at BS_Rand_Override (RFC 5059 §3.1.1), 5 s with no BSR known;
    /// others start in No-Info. `seed` picks the first fragment tag.
    pub fn new(config: BsrConfig, now: Instant, seed: u64) -> Bsr {
        let mut b = Bsr {
            config: BsrConfig::default(),
            state: BsrState::NoInfo,
            elected: None,
            bootstrap_timer: None,
            scope_zone_timer: None,
            rp_set: RpSet::new(DEFAULT_HASH_MASK_LEN),
            candidates: RpSet::new(DEFAULT_HASH_MASK_LEN),
            assembly: None,
            originated: Vec::new(),
            crp_timer: None,
            fragment_tag: Rng::new(seed).next_u64() as u16,
            started: now,
            accepted_any: false,
        };
        b.reconfigure(config, now);
        b
    }

    pub fn state(&self) -> BsrState {
        self.state
    }

    /// The elected BSR's address and priority.
    pub fn elected_bsr(&self) -> Option<(Ipv4Addr, u8)> {
        self.elected.map(|(p, a)| (a, p))
    }

    /// The group-to-RP mapping in use.
    pub fn rp_set(&self) -> &RpSet {
        &self.rp_set
    }

    /// RP(G) from the BSR's RP set (RFC 7761 §4.7.1).
    pub fn rp_for(&self, group: Ipv4Addr) -> Option<Ipv4Addr> {
        self.rp_set.rp_for(group)
    }

    /// The Bootstrap message (fragments) last originated or accepted, with the No-Forward
    /// bit set: what to send a new or rebooted neighbor (RFC 5059 §3.5, §3.5.1) to
    /// ALL-PIM-ROUTERS on its interface, once our triggered Hello went out there; a
    /// unicast copy is the backward-compatible alternative (§3.5.2). Only one router of the
    /// LAN sends it: see [`primes_new_neighbor`].
    pub fn stored_bootstrap(&self) -> Vec<Bootstrap> {
        let msgs = if self.state == BsrState::ElectedBsr {
            self.originated.clone()
        } else {
            self.assembly
                .as_ref()
                .map(|a| a.fragments.clone())
                .unwrap_or_default()
        };
        msgs.into_iter()
            .map(|mut m| {
                m.no_forward = true;
                m
            })
            .collect()
    }

    /// The earliest instant at which [`Bsr::on_timer`] has work to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.bootstrap_timer,
            self.scope_zone_timer,
            self.crp_timer,
            self.rp_set.next_deadline(),
            self.candidates.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Applies a new configuration. Becoming a candidate BSR starts in Pending-BSR with the
    /// Bootstrap Timer at BS_Rand_Override, computed against the BSR known if any (RFC 5059
    /// §3.1.1: the same at start-up and on a later reconfiguration; a known better BSR's
    /// next message moves us to Candidate-BSR); ceasing to be one falls back to
    /// Accept-Preferred (a BSR known) or No-Info. A withdrawn candidate RP is advertised
    /// with holdtime 0.
    pub fn reconfigure(&mut self, config: BsrConfig, now: Instant) -> Vec<BsrAction> {
        let mut out = Vec::new();
        let old = std::mem::replace(&mut self.config, config);
        if old.candidate_bsr != self.config.candidate_bsr {
            match self.config.candidate_bsr {
                Some(c) if self.state == BsrState::ElectedBsr => {
                    // Still elected under the new priority or address until a better BSR
                    // speaks; tell the domain at once.
                    self.candidates.set_hash_mask_len(c.hash_mask_len);
                    self.elected = Some((c.priority, c.address));
                    out.extend(self.refresh_own_rp_set());
                    self.bootstrap_timer = Some(now + BS_PERIOD);
                    out.extend(self.originate());
                }
                Some(c) => {
                    self.candidates.set_hash_mask_len(c.hash_mask_len);
                    self.state = BsrState::PendingBsr;
                    self.bootstrap_timer = Some(now + self.rand_override());
                }
                None => {
                    if self.state == BsrState::ElectedBsr {
                        self.elected = None;
                    }
                    self.state = if self.elected.is_some() {
                        BsrState::AcceptPreferred
                    } else {
                        BsrState::NoInfo
                    };
                    if self.elected.is_none() {
                        self.bootstrap_timer = None;
                    }
                    self.scope_zone_timer = Some(now + SZ_TIMEOUT);
                }
            }
        }
        if old.candidate_rp != self.config.candidate_rp {
            if let Some(old_rp) = &old.candidate_rp {
                let withdraw = CandidateRpAdv {
                    holdtime: 0,
                    ..advert(old_rp)
                };
                out.extend(self.advertise(withdraw, now));
            }
            self.crp_timer = self.config.candidate_rp.as_ref().map(|_| now);
            out.extend(self.on_crp_timer(now));
        }
        out
    }

    /// A Bootstrap message (or fragment) arrived.
    pub fn receive_bootstrap(
        &mut self,
        bsm: Bootstrap,
        arrival: BsmArrival,
        now: Instant,
    ) -> Result<Vec<BsrAction>, BsrDrop> {
        if self
            .config
            .candidate_bsr
            .is_some_and(|c| c.address == bsm.bsr_address)
        {
            return Err(BsrDrop::OwnMessage);
        }
        // RFC 5059 §3.1.3: the RPF check applies to multicast messages without the
        // No-Forward bit only (§3.5.1); No-Forward and unicast ones prime a router that just
        // started and are taken only before any other was and within BS_Period of start-up.
        if !arrival.unicast && !bsm.no_forward {
            if !arrival.from_rpf_neighbor {
                return Err(BsrDrop::NotFromRpfNeighbor);
            }
        } else if self.accepted_any || now.saturating_duration_since(self.started) > BS_PERIOD {
            return Err(BsrDrop::NotAtStartup);
        }
        let w: Weight = (bsm.bsr_priority, bsm.bsr_address);
        let current = self.elected;
        let Some(me) = self.config.candidate_bsr.map(|c| (c.priority, c.address)) else {
            // Not a candidate (§3.1.2): No-Info and Accept-Any take any message,
            // Accept-Preferred one from the current BSR or a better one.
            if self.state == BsrState::AcceptPreferred && current.is_some_and(|c| w < c) {
                return Err(BsrDrop::NotPreferred);
            }
            self.state = BsrState::AcceptPreferred;
            self.scope_zone_timer = Some(now + SZ_TIMEOUT);
            return Ok(self.accept(bsm, arrival, now));
        };
        match self.state {
            BsrState::CandidateBsr => {
                let from_elected = current.is_some_and(|c| c.1 == w.1);
                if current.is_none_or(|c| w >= c) || (from_elected && w > me) {
                    Ok(self.accept(bsm, arrival, now))
                } else if from_elected {
                    // The elected BSR got worse than us: forward its message and compete
                    // after BS_Rand_Override (§3.1.1, C-BSR state).
                    self.state = BsrState::PendingBsr;
                    self.elected = Some(w);
                    self.bootstrap_timer = Some(now + self.rand_override());
                    Ok(forward(bsm, arrival))
                } else {
                    Err(BsrDrop::NotPreferred)
                }
            }
            _ if w > me => {
                // A better BSR, whatever we were; the candidates we collected as BSR are its
                // business now.
                if self.state == BsrState::ElectedBsr {
                    self.candidates = RpSet::new(self.candidates.hash_mask_len());
                }
                self.state = BsrState::CandidateBsr;
                Ok(self.accept(bsm, arrival, now))
            }
            BsrState::ElectedBsr => {
                // A worse BSR speaks: remind the domain who is elected.
                self.bootstrap_timer = Some(now + BS_PERIOD);
                Ok(self.originate())
            }
            // Pending-BSR forwards a non-preferred message and stays pending, its timer
            // untouched (§3.1.1, P-BSR state).
            BsrState::PendingBsr => Ok(forward(bsm, arrival)),
            _ => Err(BsrDrop::NotPreferred),
        }
    }

    /// A Candidate-RP-Advertisement arrived (unicast to us). Only the elected BSR takes it:
    /// the RP's ranges are replaced by the advertised ones (all groups when none), holdtime
    /// 0 removes the RP.
    pub fn receive_candidate_rp_adv(
        &mut self,
        adv: &CandidateRpAdv,
        now: Instant,
    ) -> Result<Vec<BsrAction>, BsrDrop> {
        if self.state != BsrState::ElectedBsr {
            return Err(BsrDrop::NotElected);
        }
        self.store_candidate(adv, now);
        Ok(self.refresh_own_rp_set())
    }

    /// Runs the timers due by `now`.
    pub fn on_timer(&mut self, now: Instant) -> Vec<BsrAction> {
        let mut out = Vec::new();
        if self.bootstrap_timer.is_some_and(|t| t <= now) {
            self.bootstrap_timer = None;
            match self.state {
                BsrState::CandidateBsr => {
                    // The elected BSR went quiet.
                    self.state = BsrState::PendingBsr;
                    self.bootstrap_timer = Some(now + self.rand_override());
                }
                BsrState::PendingBsr => {
                    self.state = BsrState::ElectedBsr;
                    self.become_elected(now);
                    out.extend(self.refresh_own_rp_set());
                    self.bootstrap_timer = Some(now + BS_PERIOD);
                    out.extend(self.originate());
                    // Candidate RPs learn their new BSR from our message; ours is local.
                    out.extend(self.on_crp_timer(now));
                }
                BsrState::ElectedBsr => {
                    self.bootstrap_timer = Some(now + BS_PERIOD);
                    out.extend(self.originate());
                }
                BsrState::AcceptPreferred => self.state = BsrState::AcceptAny,
                BsrState::NoInfo | BsrState::AcceptAny => {}
            }
        }
        if self.scope_zone_timer.is_some_and(|t| t <= now) {
            self.scope_zone_timer = None;
            if self.state == BsrState::AcceptAny {
                self.state = BsrState::NoInfo;
                self.elected = None;
            }
        }
        if self.crp_timer.is_some_and(|t| t <= now) {
            out.extend(self.on_crp_timer(now));
        }
        let expired_candidates = self.candidates.expire(now);
        if self.state == BsrState::ElectedBsr && expired_candidates {
            out.extend(self.refresh_own_rp_set());
        } else if self.state != BsrState::ElectedBsr && self.rp_set.expire(now) {
            out.push(BsrAction::RpSetChanged);
        }
        out
    }

    /// BS_Rand_Override (RFC 5059 §5): the Bootstrap Timer of a candidate in Pending-BSR,
    /// shorter for better candidates so the best one takes over first:
    /// 5 + 2 log2(1 + bestPriority - myPriority) + addrDelay seconds, between 5 and 23,
    /// where bestPriority = max(storedPriority, myPriority), bestAddr = max(storedAddr,
    /// myAddr) and, for IPv4, addrDelay = log2(1 + bestAddr - myAddr) / 16 when
    /// bestPriority equals myPriority, else 2 - myAddr / 2^31. With no stored BSR the
    /// stored values are our own (5 s).
    fn rand_override(&self) -> Duration {
        let Some(me) = self.config.candidate_bsr else {
            return BS_TIMEOUT;
        };
        let (stored_prio, stored_addr) = self.elected.unwrap_or((me.priority, me.address));
        let best_prio = stored_prio.max(me.priority);
        let my_addr = f64::from(u32::from(me.address));
        let addr_delay = if best_prio == me.priority {
            let best_addr = u32::from(stored_addr).max(u32::from(me.address));
            (1.0 + f64::from(best_addr) - my_addr).log2() / 16.0
        } else {
            2.0 - my_addr / f64::from(1u32 << 31)
        };
        let prio_delay = 2.0 * (1.0 + f64::from(best_prio - me.priority)).log2();
        Duration::from_secs_f64(5.0 + prio_delay + addr_delay)
    }

    /// Takes `bsm` from the BSR we follow: stores its RP set, forwards it, restarts the
    /// Bootstrap Timer, and advertises our candidate RP to a newly elected BSR.
    fn accept(&mut self, bsm: Bootstrap, arrival: BsmArrival, now: Instant) -> Vec<BsrAction> {
        let mut out = Vec::new();
        let new_bsr = self.elected.map(|(_, a)| a) != Some(bsm.bsr_address);
        self.elected = Some((bsm.bsr_priority, bsm.bsr_address));
        self.bootstrap_timer = Some(now + BS_TIMEOUT);
        self.accepted_any = true;
        if self.store(&bsm, now) {
            out.push(BsrAction::RpSetChanged);
        }
        out.extend(forward(bsm, arrival));
        if new_bsr && self.config.candidate_rp.is_some() {
            self.crp_timer = Some(now);
            out.extend(self.on_crp_timer(now));
        }
        out
    }

    /// Adds a fragment to the message being assembled; whether the mapping changed.
    fn store(&mut self, bsm: &Bootstrap, now: Instant) -> bool {
        let before = mapping(&self.rp_set);
        self.rp_set.set_hash_mask_len(bsm.hash_mask_len);
        let fresh = self
            .assembly
            .as_ref()
            .is_none_or(|a| a.tag != bsm.fragment_tag || a.bsr != bsm.bsr_address);
        if fresh {
            self.assembly = Some(Assembly {
                bsr: bsm.bsr_address,
                tag: bsm.fragment_tag,
                partial: BTreeMap::new(),
                fragments: Vec::new(),
            });
        }
        let Some(a) = self.assembly.as_mut() else {
            return false;
        };
        if !a.fragments.contains(bsm) {
            a.fragments.push(bsm.clone());
        }
        for g in &bsm.groups {
            let range = GroupRange::from_encoded(&g.group);
            let entry = a
                .partial
                .entry(range)
                .or_insert_with(|| (g.rp_count, Vec::new()));
            if entry.0 != g.rp_count {
                *entry = (g.rp_count, Vec::new());
            }
            for rp in &g.rps {
                if !entry.1.iter().any(|r| r.address == rp.address) {
                    entry.1.push(*rp);
                }
            }
            if entry.1.len() >= usize::from(entry.0) {
                let rps = entry.1.iter().map(|r| (r.address, r.priority, r.holdtime));
                self.rp_set.replace_range(range, rps, now);
            }
        }
        before != mapping(&self.rp_set)
    }

    /// Just elected: start from the RP set of the previous BSR (its candidates keep their
    /// remaining holdtimes) until the candidate RPs advertise to us.
    fn become_elected(&mut self, now: Instant) {
        let Some(me) = self.config.candidate_bsr else {
            return;
        };
        self.elected = Some((me.priority, me.address));
        let mut candidates = RpSet::new(me.hash_mask_len);
        for (range, rps) in self.rp_set.ranges() {
            for e in rps {
                candidates.insert(range, e.rp, e.priority, e.holdtime_left(now), now);
            }
        }
        self.candidates = candidates;
    }

    /// At the elected BSR: the mapping in use is the candidates heard.
    fn refresh_own_rp_set(&mut self) -> Vec<BsrAction> {
        let before = mapping(&self.rp_set);
        self.rp_set = self.candidates.clone();
        if before != mapping(&self.rp_set) {
            vec![BsrAction::RpSetChanged]
        } else {
            Vec::new()
        }
    }

    fn store_candidate(&mut self, adv: &CandidateRpAdv, now: Instant) {
        let ranges: Vec<GroupRange> = self.candidates.ranges().map(|(r, _)| r).collect::<Vec<_>>();
        for r in ranges {
            self.candidates.remove(r, adv.rp);
        }
        if adv.groups.is_empty() {
            self.candidates
                .insert(GroupRange::ALL, adv.rp, adv.priority, adv.holdtime, now);
        }
        for g in &adv.groups {
            let range = GroupRange::from_encoded(g);
            self.candidates
                .insert(range, adv.rp, adv.priority, adv.holdtime, now);
        }
    }

    /// Our candidate RP's advertisement is due: to the elected BSR, or into our own RP set
    /// when we are it.
    fn on_crp_timer(&mut self, now: Instant) -> Vec<BsrAction> {
        let Some(c) = self.config.candidate_rp.clone() else {
            self.crp_timer = None;
            return Vec::new();
        };
        // At least a second apart, so a zero interval cannot spin the caller's timer loop.
        self.crp_timer = Some(now + c.interval.max(Duration::from_secs(1)));
        self.advertise(advert(&c), now)
    }

    fn advertise(&mut self, adv: CandidateRpAdv, now: Instant) -> Vec<BsrAction> {
        match (self.state, self.elected) {
            (BsrState::ElectedBsr, _) => {
                self.store_candidate(&adv, now);
                self.refresh_own_rp_set()
            }
            (_, Some((_, bsr))) => vec![BsrAction::SendCandidateRpAdv { bsr, adv }],
            (_, None) => Vec::new(),
        }
    }

    /// The elected BSR's Bootstrap message, in fragments of at most [`MAX_BSM_LEN`] bytes.
    fn originate(&mut self) -> Vec<BsrAction> {
        let Some(me) = self.config.candidate_bsr else {
            return Vec::new();
        };
        self.fragment_tag = self.fragment_tag.wrapping_add(1);
        let ranges: Vec<(GroupRange, Vec<BsmRp>)> = self
            .candidates
            .ranges()
            .map(|(r, rps)| {
                let rps = rps
                    .map(|e| BsmRp {
                        address: e.rp,
                        holdtime: announced_holdtime(e.holdtime),
                        priority: e.priority,
                    })
                    .take(255)
                    .collect();
                (r, rps)
            })
            .collect();
        let empty = Bootstrap {
            no_forward: false,
            fragment_tag: self.fragment_tag,
            hash_mask_len: me.hash_mask_len,
            bsr_priority: me.priority,
            bsr_address: me.address,
            groups: Vec::new(),
        };
        self.originated = fragment(empty, ranges, MAX_BSM_LEN);
        self.originated
            .iter()
            .map(|m| BsrAction::Flood {
                except: None,
                msg: m.clone(),
            })
            .collect()
    }
}

/// The RP-Holdtime a BSR announces for a candidate's holdtime: at least 2.5 x BS_Period
/// (RFC 5059 §3.3: it must exceed BS_Period and should exceed 2.5 x BS_Period so a lost
/// Bootstrap message or two does not drop the RP); 0 still withdraws at once.
fn announced_holdtime(candidate: u16) -> u16 {
    const MIN: u16 = (BS_PERIOD.as_secs() * 5 / 2) as u16;
    if candidate == 0 {
        0
    } else {
        candidate.max(MIN)
    }
}

/// Forward BSM (RFC 5059 §3.1.5, §3.4): a multicast message without the No-Forward bit goes
/// out of every PIM interface, the one it arrived on included; No-Forward and unicast
/// messages are not forwarded.
fn forward(bsm: Bootstrap, arrival: BsmArrival) -> Vec<BsrAction> {
    if bsm.no_forward || arrival.unicast {
        return Vec::new();
    }
    vec![BsrAction::Flood {
        except: None,
        msg: bsm,
    }]
}

/// Whether this router (`me` on the interface) sends its stored Bootstrap message
/// ([`Bsr::stored_bootstrap`]) to `neighbor`, new or rebooted (new GenID) on that interface
/// (RFC 5059 §3.5): the DR of the LAN does, or, when the neighbor is itself the DR, the
/// router that would be DR without it (`dr_without_neighbor`).
pub fn primes_new_neighbor(
    me: Ipv4Addr,
    neighbor: Ipv4Addr,
    dr: Ipv4Addr,
    dr_without_neighbor: Ipv4Addr,
) -> bool {
    if dr == neighbor {
        me == dr_without_neighbor
    } else {
        me == dr
    }
}

/// The advertisement of a candidate RP; no ranges configured advertises all multicast
/// groups, as a C-RP-Adv without ranges must not be sent (RFC 5059 §3.2, §4.2).
fn advert(c: &CandidateRp) -> CandidateRpAdv {
    let groups = if c.groups.is_empty() {
        vec![GroupRange::ALL.to_encoded()]
    } else {
        c.groups.iter().map(|g| g.to_encoded()).collect()
    };
    CandidateRpAdv {
        priority: c.priority,
        holdtime: c.holdtime,
        rp: c.address,
        groups,
    }
}

/// What the group-to-RP mapping depends on: hash mask length and each range's
/// (RP, priority) pairs.
type Mapping = (u8, Vec<(GroupRange, Vec<(Ipv4Addr, u8)>)>);

fn mapping(set: &RpSet) -> Mapping {
    let ranges = set
        .ranges()
        .map(|(r, rps)| (r, rps.map(|e| (e.rp, e.priority)).collect()))
        .collect();
    (set.hash_mask_len(), ranges)
}

/// Lengths on the wire: PIM header with the Bootstrap fixed part; a group range's header;
/// one RP.
const BSM_FIXED_LEN: usize = 4 + 4 + 6;
const BSM_GROUP_LEN: usize = 8 + 4;
const BSM_RP_LEN: usize = 6 + 4;

/// Splits the ranges into Bootstrap messages like `empty` of at most `max_len` bytes
/// (RFC 5059 §3.6): whole ranges where they fit, a range's RPs spread over several
/// fragments (each with the full RP Count) where they do not. Always at least one message.
pub fn fragment(
    empty: Bootstrap,
    ranges: Vec<(GroupRange, Vec<BsmRp>)>,
    max_len: usize,
) -> Vec<Bootstrap> {
    let max_len = max_len.max(BSM_FIXED_LEN + BSM_GROUP_LEN + BSM_RP_LEN);
    let mut out = Vec::new();
    let mut msg = empty.clone();
    let mut len = BSM_FIXED_LEN;
    for (range, rps) in ranges {
        let rp_count = rps.len().min(255) as u8;
        let mut rest = &rps[..usize::from(rp_count)];
        loop {
            let need = BSM_GROUP_LEN + BSM_RP_LEN.min(rest.len() * BSM_RP_LEN);
            if !msg.groups.is_empty() && len + need > max_len {
                out.push(std::mem::replace(&mut msg, empty.clone()));
                len = BSM_FIXED_LEN;
            }
            let room = (max_len - len - BSM_GROUP_LEN) / BSM_RP_LEN;
            let take = rest.len().min(room);
            msg.groups.push(BsmGroup {
                group: range.to_encoded(),
                rp_count,
                rps: rest[..take].to_vec(),
            });
            len += BSM_GROUP_LEN + take * BSM_RP_LEN;
            rest = &rest[take..];
            if rest.is_empty() {
                break;
            }
        }
    }
    out.push(msg);
    out
}

#[cfg(test)]
mod tests;
