//! Downstream Join/Prune state of one PIM interface: which routes the
//! routers behind this interface asked us to forward onto it. RFC 7761
//! §4.5.1 is the (*,G) machine, §4.5.2 the (S,G) machine (they were §4.5.2
//! and §4.5.3 in RFC 4601, before (*,*,RP) state was dropped).
//!
//! The state is sans-I/O: every entry point takes the current time and
//! returns [`Action`]s; the caller owns the socket and the clock, calls
//! [`Downstream::on_timer`] at [`Downstream::next_deadline`] and re-reads
//! the deadline after every call.
//!
//! Per route ((*,G), or (S,G)) the state is NoInfo, Join or Prune-Pending;
//! only Join and Prune-Pending are stored. Only Join/Prune messages whose
//! upstream neighbor field is our address on the interface count:
//! * Join in NoInfo: Join, with the Expiry Timer (ET) set to the message's
//!   holdtime;
//! * Join in Join or Prune-Pending: Join (the Prune-Pending Timer, PPT, is
//!   cancelled), ET restarted at the later of its current expiry and the
//!   message's holdtime, so a Join never shortens the state;
//! * Prune in Join: Prune-Pending, PPT set to J/P_Override_Interval when the
//!   interface has more than one PIM neighbor, else to zero (the prune takes
//!   effect at once); ET keeps running;
//! * Prune in NoInfo or Prune-Pending: nothing (the PPT is not restarted);
//! * PPT expiry: NoInfo, and a PruneEcho when there was more than one
//!   neighbor at the time of the Prune: the Prune repeated with our own
//!   address as upstream neighbor, so that a router whose Join override was
//!   lost gets another chance (sent as [`Action::Send`]);
//! * ET expiry: NoInfo (also in Prune-Pending, without PruneEcho).
//!
//! The route is in this interface's downstream join set (joins(*,G) or
//! joins(S,G) of RFC 7761 §4.1.6) in Join and Prune-Pending alike: we keep
//! forwarding while other routers may still override the Prune.
//! [`Action::Changed`] reports every change of that answer.
//!
//! Entries of a Join/Prune message, per group record (joins first, then
//! prunes, in message order):
//! * W and R set: (*,G); the address is the RP the sender uses;
//! * W and R clear: (S,G);
//! * R set, W clear: (S,G,rpt) (§4.5.3, simplified): a Prune puts the
//!   source in Prune-Pending (for the override interval on a LAN), then
//!   Pruned until its holdtime runs out; a Join(S,G,rpt) ends it, and so
//!   does a Join(*,G) whose message does not repeat the Prune (PruneTmp).
//!   Pruned sources are left out of the (*,G) forwarding
//!   ([`Downstream::forwards`], [`Action::RptChanged`]). Their Prune-Pending
//!   expiry sends no PruneEcho (§4.5.4 has none for (S,G,rpt));
//! * W set, R clear (meaningless), a source mask length other than 32, or an
//!   (S,G) source that is not a unicast address: skipped, counted in
//!   [`Counters::ignored`]. A group record whose group mask length is not 32
//!   or whose group is not multicast is skipped whole (same counter). The
//!   S bit is not checked.
//!
//! Holdtime 0xffff keeps the state until a Prune; a Join with holdtime 0
//! creates no state (it would expire at once). At most [`MAX_ROUTES`]
//! routes are kept: a Join for a new route beyond that is dropped and
//! counted in [`Counters::dropped`].
//!
//! Left to the caller: accepting Join/Prunes only from known PIM neighbors
//! (§4.5), checking that a (*,G) Join or Prune names the RP we use for G
//! (§4.5.1; [`Entry::rp`] tells which RP the last one named), computing J/P_Override_Interval
//! from the neighbors' LAN Prune Delay options (§4.3.3), combining (*,G)
//! and (S,G) state into outgoing interfaces ([`Downstream::forwards`]), and
//! DR / assert conditions. Not implemented: matching the upstream neighbor
//! field against secondary addresses.
//!
//! One file of about 700 lines because the (*,G), (S,G) and (S,G,rpt) downstream machines of
//! RFC 7761 §4.5 are one table whose entries refer to each other.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::packet::{pack_join_prune, EncodedGroup, EncodedSource, JoinPrune, HOLDTIME_INFINITE};

/// Most routes ((*,G) plus (S,G)) kept per interface.
pub const MAX_ROUTES: usize = 65536;
/// J/P_Override_Interval with the default LAN Prune Delay values:
/// Propagation_Delay 0.5 s + Override_Interval 2.5 s (§4.11).
pub const DEFAULT_JP_OVERRIDE_INTERVAL: Duration = Duration::from_millis(3000);
/// The largest J/P_Override_Interval a LAN can announce: a 15-bit
/// Propagation_Delay plus a 16-bit Override_Interval, in milliseconds
/// (§4.9.2). Longer values given to [`Downstream::receive_join_prune`] are
/// cut to this.
pub const MAX_JP_OVERRIDE_INTERVAL: Duration = Duration::from_millis(0x7fff + 0xffff);
/// Largest PruneEcho message built (PIM header included), as for our
/// upstream Joins: room for the IPv4 header within a 1500-byte MTU.
pub const MAX_ECHO_LEN: usize = 1400;

/// Downstream state of a route on this interface (§4.5.1, §4.5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DownstreamState {
    /// No downstream router asked for the route.
    NoInfo,
    /// Joined: forward the route onto the interface.
    Join,
    /// A Prune arrived; still forwarding until the Prune-Pending Timer
    /// expires, unless another router overrides it with a Join.
    PrunePending,
}

/// What the caller must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The interface entered (`joined`) or left the downstream join set of
    /// the route (`source` `None` = (*,G)): recompute its outgoing
    /// interfaces.
    Changed {
        source: Option<Ipv4Addr>,
        group: Ipv4Addr,
        joined: bool,
    },
    /// Send this PruneEcho out of the interface to ALL-PIM-ROUTERS (its
    /// upstream neighbor field is our own address).
    Send(JoinPrune),
    /// The (S,G,rpt) Prune state of a source changed (`pruned`: the routers
    /// behind this interface that joined (*,G) do not want this source's
    /// data from the RP tree): recompute the route's outgoing interfaces.
    RptChanged {
        source: Ipv4Addr,
        group: Ipv4Addr,
        pruned: bool,
    },
}

/// Statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Joins for new routes refused because [`MAX_ROUTES`] routes were kept.
    pub dropped: u64,
    /// (S,G,rpt) Prunes for new sources refused because [`MAX_ROUTES`]
    /// (S,G,rpt) entries were kept.
    pub ignored_rpt: u64,
    /// Malformed group records and entries addressed to us, skipped (see
    /// the module documentation).
    pub ignored: u64,
    /// PruneEcho messages returned in [`Action::Send`].
    pub prune_echoes: u64,
}

/// A pending Prune (§4.5.1, §4.5.2 Prune-Pending state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PendingPrune {
    /// When the Prune-Pending Timer expires.
    at: Instant,
    /// Send a PruneEcho on expiry (more than one neighbor at Prune time).
    echo: bool,
    /// Holdtime of the Prune, repeated in the PruneEcho.
    holdtime: u16,
    /// The Prune entry, repeated in the PruneEcho.
    entry: EncodedSource,
}

/// The downstream state of one route in Join or Prune-Pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    source: Option<Ipv4Addr>,
    group: Ipv4Addr,
    rp: Option<Ipv4Addr>,
    since: Instant,
    expires: Option<Instant>,
    prune: Option<PendingPrune>,
}

impl Entry {
    /// The source; `None` for (*,G).
    pub fn source(&self) -> Option<Ipv4Addr> {
        self.source
    }

    pub fn group(&self) -> Ipv4Addr {
        self.group
    }

    /// Join or Prune-Pending (a stored route is never NoInfo).
    pub fn state(&self) -> DownstreamState {
        if self.prune.is_some() {
            DownstreamState::PrunePending
        } else {
            DownstreamState::Join
        }
    }

    /// The RP address carried by the last (*,G) Join or Prune; `None` for
    /// (S,G).
    pub fn rp(&self) -> Option<Ipv4Addr> {
        self.rp
    }

    /// When the route went from NoInfo to Join.
    pub fn since(&self) -> Instant {
        self.since
    }

    /// When the Expiry Timer fires; `None` for holdtime 0xffff (never).
    pub fn expires(&self) -> Option<Instant> {
        self.expires
    }

    /// When the Prune-Pending Timer fires, in Prune-Pending.
    pub fn prune_pending_until(&self) -> Option<Instant> {
        self.prune.map(|p| p.at)
    }

    /// The earliest of its timers.
    fn deadline(&self) -> Option<Instant> {
        [self.expires, self.prune_pending_until()]
            .into_iter()
            .flatten()
            .min()
    }
}

/// Key order: by group, (*,G) before its (S,G)s.
type Key = (Ipv4Addr, Option<Ipv4Addr>);

/// PruneEchoes to build: holdtime -> group -> entries.
type EchoBatch = BTreeMap<u16, BTreeMap<Ipv4Addr, Vec<EncodedSource>>>;

/// What a Join/Prune entry stands for.
enum Target {
    /// (*,G) via this RP.
    StarG(Ipv4Addr),
    /// (S,G) for this source.
    Source(Ipv4Addr),
    /// (S,G,rpt) for this source.
    Rpt(Ipv4Addr),
    /// Malformed.
    Invalid,
}

fn classify(s: &EncodedSource) -> Target {
    if s.mask_len != 32 {
        return Target::Invalid;
    }
    match (s.wildcard, s.rpt) {
        (true, true) => Target::StarG(s.address),
        (false, false) if is_unicast(s.address) => Target::Source(s.address),
        (false, true) if is_unicast(s.address) => Target::Rpt(s.address),
        _ => Target::Invalid,
    }
}

fn is_unicast(a: Ipv4Addr) -> bool {
    !(a.is_unspecified() || a.is_multicast() || a.is_broadcast())
}

fn valid_group(g: &EncodedGroup) -> bool {
    g.mask_len == 32 && g.address.is_multicast()
}

/// When state with `holdtime` seconds expires; `None` = never.
fn expiry(holdtime: u16, now: Instant) -> Option<Instant> {
    if holdtime == HOLDTIME_INFINITE {
        None
    } else {
        Some(now + Duration::from_secs(u64::from(holdtime)))
    }
}

/// The later of two expiries, `None` (never) being the latest.
fn later(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    Some(a?.max(b?))
}

/// (S,G,rpt) state of one source (§4.5.3): Prune-Pending while `pending`
/// runs, Pruned after; `tmp` marks PruneTmp during the message that carried
/// a Join(*,G) (the state ends unless the same message repeats the Prune).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RptEntry {
    pending: Option<Instant>,
    expires: Option<Instant>,
    tmp: bool,
}

impl RptEntry {
    fn pruned(&self) -> bool {
        self.pending.is_none()
    }
}

/// The downstream Join/Prune state of one PIM interface.
#[derive(Debug, Clone)]
pub struct Downstream {
    local: Ipv4Addr,
    routes: BTreeMap<Key, Entry>,
    /// (S,G,rpt) Prune state, by (group, source).
    rpt: BTreeMap<(Ipv4Addr, Ipv4Addr), RptEntry>,
    counters: Counters,
}

impl Downstream {
    /// Empty state for an interface whose address is `local`.
    pub fn new(local: Ipv4Addr) -> Downstream {
        Downstream {
            local,
            routes: BTreeMap::new(),
            rpt: BTreeMap::new(),
            counters: Counters::default(),
        }
    }

    // ---- accessors -------------------------------------------------------

    /// Our address on the interface: the upstream neighbor field that
    /// addresses us, and the one PruneEchoes carry.
    pub fn local(&self) -> Ipv4Addr {
        self.local
    }

    /// Changes our address. The state stays (the routers behind refresh it
    /// toward the new address once their RPF neighbor changes, or it
    /// expires).
    pub fn set_local(&mut self, local: Ipv4Addr) {
        self.local = local;
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The route's state (`source` `None` = (*,G)).
    pub fn state(&self, source: Option<Ipv4Addr>, group: Ipv4Addr) -> DownstreamState {
        self.routes
            .get(&(group, source))
            .map_or(DownstreamState::NoInfo, Entry::state)
    }

    /// Whether the interface is in the route's downstream join set (Join or
    /// Prune-Pending): joins(*,G) for `source` `None`, joins(S,G) otherwise.
    pub fn joined(&self, source: Option<Ipv4Addr>, group: Ipv4Addr) -> bool {
        self.routes.contains_key(&(group, source))
    }

    /// Whether (S,G) traffic should go out of this interface as far as
    /// downstream Join state says (§4.1.6): joined for (S,G), or joined for
    /// (*,G) without an (S,G,rpt) Prune in effect for the source.
    pub fn forwards(&self, source: Ipv4Addr, group: Ipv4Addr) -> bool {
        self.joined(Some(source), group)
            || (self.joined(None, group) && !self.rpt_pruned(source, group))
    }

    /// Is an (S,G,rpt) Prune in effect (state Pruned; Prune-Pending still
    /// forwards)?
    pub fn rpt_pruned(&self, source: Ipv4Addr, group: Ipv4Addr) -> bool {
        self.rpt.get(&(group, source)).is_some_and(RptEntry::pruned)
    }

    /// Sources with an (S,G,rpt) Prune in effect, as (source, group).
    pub fn rpt_prunes(&self) -> impl Iterator<Item = (Ipv4Addr, Ipv4Addr)> + '_ {
        self.rpt
            .iter()
            .filter(|(_, e)| e.pruned())
            .map(|(&(g, s), _)| (s, g))
    }

    /// One route, when in Join or Prune-Pending.
    pub fn entry(&self, source: Option<Ipv4Addr>, group: Ipv4Addr) -> Option<&Entry> {
        self.routes.get(&(group, source))
    }

    /// Routes in Join or Prune-Pending, in (group, source) order, (*,G)
    /// first.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.routes.values()
    }

    /// How many routes are in Join or Prune-Pending.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// No route is in Join or Prune-Pending.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The earliest instant at which [`Downstream::on_timer`] has work to
    /// do.
    pub fn next_deadline(&self) -> Option<Instant> {
        let rpt = self
            .rpt
            .values()
            .flat_map(|e| [e.pending, e.expires])
            .flatten();
        self.routes
            .values()
            .filter_map(Entry::deadline)
            .chain(rpt)
            .min()
    }

    // ---- events ----------------------------------------------------------

    /// A Join/Prune message received on the interface. Only one whose
    /// upstream neighbor is our address changes anything. `lan_neighbors`
    /// is the number of PIM neighbors on the interface now and
    /// `override_interval` its J/P_Override_Interval (§4.3.3; cut to
    /// [`MAX_JP_OVERRIDE_INTERVAL`]). A Prune on an interface with at most
    /// one neighbor takes effect at once.
    pub fn receive_join_prune(
        &mut self,
        jp: &JoinPrune,
        lan_neighbors: usize,
        override_interval: Duration,
        now: Instant,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        if jp.upstream_neighbor != self.local {
            return out;
        }
        let ppt = if lan_neighbors > 1 {
            override_interval.min(MAX_JP_OVERRIDE_INTERVAL)
        } else {
            Duration::ZERO
        };
        let echo = lan_neighbors > 1;
        let mut echoes = EchoBatch::new();
        for rec in &jp.groups {
            if !valid_group(&rec.group) {
                self.counters.ignored += 1;
                continue;
            }
            let group = rec.group.address;
            for s in &rec.joins {
                match classify(s) {
                    Target::StarG(rp) => {
                        self.join(None, group, Some(rp), jp.holdtime, now, &mut out);
                        // Pruned -> PruneTmp and Prune-Pending -> Prune-Pending-Tmp until the
                        // end of the message.
                        for e in self.rpt.range_mut(
                            (group, Ipv4Addr::UNSPECIFIED)..=(group, Ipv4Addr::BROADCAST),
                        ) {
                            e.1.tmp = true;
                        }
                    }
                    Target::Source(src) => {
                        self.join(Some(src), group, None, jp.holdtime, now, &mut out)
                    }
                    Target::Rpt(src) => self.rpt_join(src, group, &mut out),
                    Target::Invalid => self.counters.ignored += 1,
                }
            }
            for s in &rec.prunes {
                let (source, rp) = match classify(s) {
                    Target::StarG(rp) => (None, Some(rp)),
                    Target::Source(src) => (Some(src), None),
                    Target::Rpt(src) => {
                        self.rpt_prune(src, group, jp.holdtime, now + ppt, now, &mut out);
                        continue;
                    }
                    Target::Invalid => {
                        self.counters.ignored += 1;
                        continue;
                    }
                };
                let prune = PendingPrune {
                    at: now + ppt,
                    echo,
                    holdtime: jp.holdtime,
                    entry: match (rp, source) {
                        (Some(rp), _) => EncodedSource::wildcard_rp(rp),
                        (None, Some(src)) => EncodedSource::source(src),
                        (None, None) => continue,
                    },
                };
                self.prune((group, source), rp, prune, now, &mut out, &mut echoes);
            }
            // End of the group's record: PruneTmp that was not repeated ends.
            let ended: Vec<(Ipv4Addr, bool)> = self
                .rpt
                .range((group, Ipv4Addr::UNSPECIFIED)..=(group, Ipv4Addr::BROADCAST))
                .filter(|(_, e)| e.tmp)
                .map(|(&(_, s), e)| (s, e.pruned()))
                .collect();
            for (source, was_pruned) in ended {
                self.rpt.remove(&(group, source));
                if was_pruned {
                    out.push(Action::RptChanged {
                        source,
                        group,
                        pruned: false,
                    });
                }
            }
        }
        self.pack_echoes(echoes, &mut out);
        out
    }

    /// Runs the timers that are due: Prune-Pending Timer expiry (NoInfo,
    /// PruneEcho on a LAN) and Expiry Timer expiry (NoInfo).
    pub fn on_timer(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        let mut echoes = EchoBatch::new();
        let due: Vec<Key> = self
            .routes
            .iter()
            .filter(|(_, e)| e.deadline().is_some_and(|d| d <= now))
            .map(|(k, _)| *k)
            .collect();
        for key in due {
            self.expire(key, now, &mut out, &mut echoes);
        }
        self.pack_echoes(echoes, &mut out);
        // (S,G,rpt): Prune-Pending -> Pruned when the PPT expires; the ET
        // ends the state.
        let mut gone = Vec::new();
        for (&(group, source), e) in self.rpt.iter_mut() {
            if e.expires.is_some_and(|t| t <= now) {
                gone.push((group, source, e.pruned()));
            } else if e.pending.is_some_and(|t| t <= now) {
                e.pending = None;
                out.push(Action::RptChanged {
                    source,
                    group,
                    pruned: true,
                });
            }
        }
        for (group, source, was_pruned) in gone {
            self.rpt.remove(&(group, source));
            if was_pruned {
                out.push(Action::RptChanged {
                    source,
                    group,
                    pruned: false,
                });
            }
        }
        out
    }

    /// The interface went down (or PIM was disabled on it): every route
    /// goes back to NoInfo, without PruneEcho.
    pub fn clear(&mut self) -> Vec<Action> {
        self.rpt.clear();
        std::mem::take(&mut self.routes)
            .into_values()
            .map(|e| Action::Changed {
                source: e.source,
                group: e.group,
                joined: false,
            })
            .collect()
    }

    // ---- state machine ---------------------------------------------------

    /// Receive Join(*,G) (§4.5.1) or Join(S,G) (§4.5.2).
    fn join(
        &mut self,
        source: Option<Ipv4Addr>,
        group: Ipv4Addr,
        rp: Option<Ipv4Addr>,
        holdtime: u16,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let hold = expiry(holdtime, now);
        if let Some(e) = self.routes.get_mut(&(group, source)) {
            // Join or Prune-Pending -> Join: PPT cancelled, ET extended.
            e.prune = None;
            e.expires = later(e.expires, hold);
            e.rp = rp;
            return;
        }
        // NoInfo -> Join, ET = holdtime.
        if holdtime == 0 {
            return;
        }
        if self.routes.len() >= MAX_ROUTES {
            self.counters.dropped += 1;
            return;
        }
        self.routes.insert(
            (group, source),
            Entry {
                source,
                group,
                rp,
                since: now,
                expires: hold,
                prune: None,
            },
        );
        out.push(Action::Changed {
            source,
            group,
            joined: true,
        });
    }

    /// Receive Join(S,G,rpt) (§4.5.3): back to NoInfo.
    fn rpt_join(&mut self, source: Ipv4Addr, group: Ipv4Addr, out: &mut Vec<Action>) {
        if let Some(e) = self.rpt.remove(&(group, source)) {
            if e.pruned() {
                out.push(Action::RptChanged {
                    source,
                    group,
                    pruned: false,
                });
            }
        }
    }

    /// Receive Prune(S,G,rpt) (§4.5.3): NoInfo -> Prune-Pending (Pruned at
    /// once when `pending_until` is now: a point-to-point link); PruneTmp
    /// -> Pruned; Pruned and Prune-Pending extend the ET.
    fn rpt_prune(
        &mut self,
        source: Ipv4Addr,
        group: Ipv4Addr,
        holdtime: u16,
        pending_until: Instant,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let hold = expiry(holdtime, now);
        if let Some(e) = self.rpt.get_mut(&(group, source)) {
            e.tmp = false;
            e.expires = later(e.expires, hold);
            return;
        }
        if holdtime == 0 {
            return;
        }
        if self.rpt.len() >= MAX_ROUTES {
            self.counters.ignored_rpt += 1;
            return;
        }
        let pending = (pending_until > now).then_some(pending_until);
        self.rpt.insert(
            (group, source),
            RptEntry {
                pending,
                expires: hold,
                tmp: false,
            },
        );
        if pending.is_none() {
            out.push(Action::RptChanged {
                source,
                group,
                pruned: true,
            });
        }
    }

    /// Receive Prune(*,G) (§4.5.1) or Prune(S,G) (§4.5.2).
    fn prune(
        &mut self,
        key: Key,
        rp: Option<Ipv4Addr>,
        prune: PendingPrune,
        now: Instant,
        out: &mut Vec<Action>,
        echoes: &mut EchoBatch,
    ) {
        // NoInfo: nothing. Prune-Pending: the PPT keeps running.
        let Some(e) = self.routes.get_mut(&key) else {
            return;
        };
        if e.prune.is_some() {
            return;
        }
        // Join -> Prune-Pending; ET keeps running.
        e.prune = Some(prune);
        e.rp = rp;
        if prune.at <= now {
            self.expire(key, now, out, echoes);
        }
    }

    /// Timer expiry of a due route: whichever of PPT and ET fired first
    /// takes it to NoInfo; only the PPT sends a PruneEcho.
    fn expire(&mut self, key: Key, now: Instant, out: &mut Vec<Action>, echoes: &mut EchoBatch) {
        let Some(e) = self.routes.get(&key) else {
            return;
        };
        let et = e.expires.filter(|at| *at <= now);
        let ppt = e.prune.filter(|p| p.at <= now);
        let echo = match (ppt, et) {
            (Some(p), Some(et)) if p.at <= et => Some(p),
            (Some(p), None) => Some(p),
            (_, Some(_)) => None,
            (None, None) => return,
        };
        self.routes.remove(&key);
        if let Some(p) = echo.filter(|p| p.echo) {
            echoes
                .entry(p.holdtime)
                .or_default()
                .entry(key.0)
                .or_default()
                .push(p.entry);
        }
        out.push(Action::Changed {
            source: key.1,
            group: key.0,
            joined: false,
        });
    }

    /// Builds PruneEcho messages (Prunes with our address as upstream
    /// neighbor), one per holdtime, split at [`MAX_ECHO_LEN`] bytes and 255
    /// group records.
    fn pack_echoes(&mut self, batch: EchoBatch, out: &mut Vec<Action>) {
        for (holdtime, groups) in batch {
            let entries = groups
                .into_iter()
                .flat_map(|(g, sources)| sources.into_iter().map(move |s| (g, s)));
            for jp in pack_join_prune(self.local, holdtime, entries, false, MAX_ECHO_LEN) {
                out.push(Action::Send(jp));
                self.counters.prune_echoes += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::packet::{JpGroup, Message};
    use super::*;

    const ME: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 1);
    const OTHER: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 9);
    const RP: Ipv4Addr = Ipv4Addr::new(10, 9, 9, 9);
    const G1: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 1);
    const G2: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 2);
    const SRC: Ipv4Addr = Ipv4Addr::new(10, 2, 2, 2);
    const SRC2: Ipv4Addr = Ipv4Addr::new(10, 2, 2, 3);
    const OI: Duration = DEFAULT_JP_OVERRIDE_INTERVAL;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn wc() -> EncodedSource {
        EncodedSource::wildcard_rp(RP)
    }

    fn src(s: Ipv4Addr) -> EncodedSource {
        EncodedSource::source(s)
    }

    fn jp(
        upstream: Ipv4Addr,
        holdtime: u16,
        group: Ipv4Addr,
        joins: &[EncodedSource],
        prunes: &[EncodedSource],
    ) -> JoinPrune {
        JoinPrune {
            upstream_neighbor: upstream,
            holdtime,
            groups: vec![JpGroup {
                group: EncodedGroup::host(group),
                joins: joins.to_vec(),
                prunes: prunes.to_vec(),
            }],
        }
    }

    fn join(group: Ipv4Addr, s: EncodedSource) -> JoinPrune {
        jp(ME, 210, group, &[s], &[])
    }

    fn prune(group: Ipv4Addr, s: EncodedSource) -> JoinPrune {
        jp(ME, 210, group, &[], &[s])
    }

    fn changed(source: Option<Ipv4Addr>, group: Ipv4Addr, joined: bool) -> Action {
        Action::Changed {
            source,
            group,
            joined,
        }
    }

    fn sent(out: &[Action]) -> Vec<&JoinPrune> {
        out.iter()
            .filter_map(|a| match a {
                Action::Send(m) => Some(m),
                Action::Changed { .. } | Action::RptChanged { .. } => None,
            })
            .collect()
    }

    /// Runs every timer up to and including `until`.
    fn run_until(d: &mut Downstream, until: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        while let Some(at) = d.next_deadline().filter(|at| *at <= until) {
            out.extend(d.on_timer(at));
        }
        out
    }

    #[test]
    fn star_g_join_reports_changed() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        assert_eq!(d.state(None, G1), DownstreamState::NoInfo);
        let out = d.receive_join_prune(&join(G1, wc()), 1, OI, t0);
        assert_eq!(out, vec![changed(None, G1, true)]);
        assert_eq!(d.state(None, G1), DownstreamState::Join);
        assert!(d.joined(None, G1));
        assert!(d.forwards(SRC, G1));
        assert!(!d.joined(Some(SRC), G1));
        let e = d.entry(None, G1).unwrap();
        assert_eq!(
            (e.rp(), e.since(), e.expires()),
            (Some(RP), t0, Some(t0 + secs(210)))
        );
        assert_eq!(d.next_deadline(), Some(t0 + secs(210)));
        // The same Join again is a refresh, not a change.
        assert!(d
            .receive_join_prune(&join(G1, wc()), 1, OI, t0 + secs(1))
            .is_empty());
    }

    #[test]
    fn expiry_timer_ends_the_join() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        d.receive_join_prune(&join(G1, wc()), 1, OI, t0);
        assert!(d.on_timer(t0 + secs(209)).is_empty());
        assert!(d.joined(None, G1));
        let out = d.on_timer(t0 + secs(210));
        assert_eq!(out, vec![changed(None, G1, false)]);
        assert_eq!(d.state(None, G1), DownstreamState::NoInfo);
        assert_eq!(d.next_deadline(), None);
        assert!(d.is_empty());
    }

    #[test]
    fn refresh_extends_never_shortens() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        d.receive_join_prune(&join(G1, wc()), 1, OI, t0);
        // Periodic refresh at 60 s: ET now 270 s.
        d.receive_join_prune(&join(G1, wc()), 1, OI, t0 + secs(60));
        assert_eq!(d.next_deadline(), Some(t0 + secs(270)));
        // A shorter holdtime does not shorten it.
        d.receive_join_prune(&jp(ME, 10, G1, &[wc()], &[]), 1, OI, t0 + secs(61));
        assert_eq!(d.next_deadline(), Some(t0 + secs(270)));
        assert!(run_until(&mut d, t0 + secs(269)).is_empty());
        assert_eq!(d.on_timer(t0 + secs(270)), vec![changed(None, G1, false)]);
    }

    #[test]
    fn message_for_another_upstream_neighbor_changes_nothing() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        assert!(d
            .receive_join_prune(&jp(OTHER, 210, G1, &[wc()], &[]), 3, OI, t0)
            .is_empty());
        assert!(d.is_empty());
        d.receive_join_prune(&join(G1, wc()), 3, OI, t0);
        assert!(d
            .receive_join_prune(&jp(OTHER, 210, G1, &[], &[wc()]), 3, OI, t0)
            .is_empty());
        assert_eq!(d.state(None, G1), DownstreamState::Join);
        assert_eq!(d.counters(), Counters::default());
    }

    #[test]
    fn prune_point_to_point_removes_at_once() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        d.receive_join_prune(&join(G1, wc()), 1, OI, t0);
        let out = d.receive_join_prune(&prune(G1, wc()), 1, OI, t0 + secs(5));
        assert_eq!(out, vec![changed(None, G1, false)]);
        assert_eq!(d.state(None, G1), DownstreamState::NoInfo);
        assert_eq!(d.next_deadline(), None);
        assert_eq!(d.counters().prune_echoes, 0);
    }

    #[test]
    fn prune_on_lan_pends_then_echoes() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        d.receive_join_prune(&join(G1, wc()), 3, OI, t0);
        let t1 = t0 + secs(5);
        assert!(d.receive_join_prune(&prune(G1, wc()), 3, OI, t1).is_empty());
        assert_eq!(d.state(None, G1), DownstreamState::PrunePending);
        assert!(d.joined(None, G1));
        assert_eq!(
            d.entry(None, G1).unwrap().prune_pending_until(),
            Some(t1 + OI)
        );
        assert_eq!(d.next_deadline(), Some(t1 + OI));
        // A second Prune does not restart the Prune-Pending Timer.
        assert!(d
            .receive_join_prune(&prune(G1, wc()), 3, OI, t1 + secs(1))
            .is_empty());
        assert_eq!(d.next_deadline(), Some(t1 + OI));
        assert!(d.on_timer(t1 + OI - Duration::from_millis(1)).is_empty());
        let out = d.on_timer(t1 + OI);
        assert_eq!(
            out,
            vec![
                changed(None, G1, false),
                Action::Send(jp(ME, 210, G1, &[], &[wc()]))
            ]
        );
        assert_eq!(d.state(None, G1), DownstreamState::NoInfo);
        assert_eq!(d.counters().prune_echoes, 1);
    }

    #[test]
    fn join_during_prune_pending_overrides() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        d.receive_join_prune(&join(G1, src(SRC)), 2, OI, t0);
        d.receive_join_prune(&prune(G1, src(SRC)), 2, OI, t0 + secs(100));
        assert_eq!(d.state(Some(SRC), G1), DownstreamState::PrunePending);
        let t2 = t0 + secs(101);
        // The override Join: no change reported, back to Join.
        assert!(d
            .receive_join_prune(&join(G1, src(SRC)), 2, OI, t2)
            .is_empty());
        assert_eq!(d.state(Some(SRC), G1), DownstreamState::Join);
        assert_eq!(d.entry(Some(SRC), G1).unwrap().prune_pending_until(), None);
        assert_eq!(d.next_deadline(), Some(t2 + secs(210)));
        assert!(run_until(&mut d, t2 + secs(209)).is_empty());
        assert!(d.joined(Some(SRC), G1));
    }

    #[test]
    fn expiry_timer_in_prune_pending_sends_no_echo() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        d.receive_join_prune(&jp(ME, 2, G1, &[wc()], &[]), 3, OI, t0);
        d.receive_join_prune(&prune(G1, wc()), 3, OI, t0 + secs(1));
        // ET (2 s) fires before the PPT (4 s).
        let out = run_until(&mut d, t0 + secs(10));
        assert_eq!(out, vec![changed(None, G1, false)]);
        assert_eq!(d.counters().prune_echoes, 0);
    }

    #[test]
    fn source_join_independent_of_star_g() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        let both = jp(ME, 210, G1, &[wc(), src(SRC)], &[]);
        let out = d.receive_join_prune(&both, 1, OI, t0);
        assert_eq!(
            out,
            vec![changed(None, G1, true), changed(Some(SRC), G1, true)]
        );
        assert_eq!(d.entry(Some(SRC), G1).unwrap().rp(), None);
        // Pruning (*,G) leaves (S,G).
        let out = d.receive_join_prune(&prune(G1, wc()), 1, OI, t0 + secs(1));
        assert_eq!(out, vec![changed(None, G1, false)]);
        assert!(d.joined(Some(SRC), G1));
        assert!(d.forwards(SRC, G1));
        assert!(!d.forwards(SRC2, G1));
        // Other groups and sources are unaffected.
        assert!(!d.joined(Some(SRC), G2));
        let entries: Vec<_> = d
            .entries()
            .map(|e| (e.source(), e.group(), e.state(), e.expires()))
            .collect();
        assert_eq!(
            entries,
            vec![(Some(SRC), G1, DownstreamState::Join, Some(t0 + secs(210)))]
        );
    }

    #[test]
    fn infinite_holdtime_never_expires() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        let forever = jp(ME, HOLDTIME_INFINITE, G1, &[wc()], &[]);
        d.receive_join_prune(&forever, 1, OI, t0);
        assert_eq!(d.entry(None, G1).unwrap().expires(), None);
        assert_eq!(d.next_deadline(), None);
        assert!(d.on_timer(t0 + secs(1_000_000)).is_empty());
        // A later finite Join does not make it finite.
        d.receive_join_prune(&join(G1, wc()), 1, OI, t0 + secs(1));
        assert_eq!(d.next_deadline(), None);
        // But a Prune still removes it.
        let out = d.receive_join_prune(&prune(G1, wc()), 1, OI, t0 + secs(2));
        assert_eq!(out, vec![changed(None, G1, false)]);
    }

    #[test]
    fn prune_for_unknown_route_does_nothing() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        assert!(d.receive_join_prune(&prune(G1, wc()), 3, OI, t0).is_empty());
        assert!(d
            .receive_join_prune(&prune(G1, src(SRC)), 1, OI, t0)
            .is_empty());
        assert!(d.is_empty());
        assert_eq!(d.next_deadline(), None);
    }

    #[test]
    fn zero_holdtime_join_creates_nothing() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        assert!(d
            .receive_join_prune(&jp(ME, 0, G1, &[wc()], &[]), 1, OI, t0)
            .is_empty());
        assert!(d.is_empty());
    }

    #[test]
    fn malformed_records_and_entries_are_ignored() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        let mut m = join(G1, wc());
        m.groups[0].group.mask_len = 24;
        assert!(d.receive_join_prune(&m, 1, OI, t0).is_empty());
        // A unicast "group".
        assert!(d
            .receive_join_prune(&join(SRC, src(SRC2)), 1, OI, t0)
            .is_empty());
        // Source mask 24, W without R, multicast source.
        let mut wide = src(SRC);
        wide.mask_len = 24;
        let mut w_only = wc();
        w_only.rpt = false;
        let m = jp(ME, 210, G1, &[wide, w_only, src(G2)], &[wide]);
        assert!(d.receive_join_prune(&m, 1, OI, t0).is_empty());
        assert!(d.is_empty());
        assert_eq!(d.counters().ignored, 6);
        // Valid records in the same message still count.
        let mut m = join(G1, wc());
        m.groups
            .insert(0, jp(ME, 210, G2, &[wide], &[]).groups.remove(0));
        m.groups[0].group.mask_len = 8;
        let out = d.receive_join_prune(&m, 1, OI, t0);
        assert_eq!(out, vec![changed(None, G1, true)]);
        assert_eq!(d.counters().ignored, 7);
    }

    fn rpt(s: Ipv4Addr) -> EncodedSource {
        let mut e = src(s);
        e.rpt = true;
        e
    }

    #[test]
    fn rpt_prune_leaves_one_source_out_of_the_star_g_forwarding() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        // Point to point: the (S,G,rpt) Prune takes effect at once.
        let m = jp(ME, 210, G1, &[wc()], &[rpt(SRC)]);
        let out = d.receive_join_prune(&m, 1, OI, t0);
        assert_eq!(
            out,
            vec![
                changed(None, G1, true),
                Action::RptChanged {
                    source: SRC,
                    group: G1,
                    pruned: true
                }
            ]
        );
        assert!(!d.forwards(SRC, G1));
        assert!(d.forwards(SRC2, G1));
        // The periodic Join(*,G) that repeats the Prune keeps it.
        let out = d.receive_join_prune(&m, 1, OI, t0 + secs(60));
        assert!(out.is_empty(), "{out:?}");
        assert!(d.rpt_pruned(SRC, G1));
        // A Join(*,G) without it ends it (PruneTmp -> NoInfo at the end of the message).
        let out = d.receive_join_prune(&join(G1, wc()), 1, OI, t0 + secs(61));
        assert_eq!(
            out,
            vec![Action::RptChanged {
                source: SRC,
                group: G1,
                pruned: false
            }]
        );
        assert!(d.forwards(SRC, G1));
    }

    #[test]
    fn rpt_prune_on_a_lan_waits_for_overrides_and_expires() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        d.receive_join_prune(&join(G1, wc()), 3, OI, t0);
        let out = d.receive_join_prune(&jp(ME, 30, G1, &[], &[rpt(SRC)]), 3, OI, t0);
        assert!(out.is_empty());
        assert!(d.forwards(SRC, G1), "Prune-Pending still forwards");
        assert_eq!(d.next_deadline(), Some(t0 + OI));
        let out = d.on_timer(t0 + OI);
        assert_eq!(
            out,
            vec![Action::RptChanged {
                source: SRC,
                group: G1,
                pruned: true
            }]
        );
        assert!(!d.forwards(SRC, G1));
        assert_eq!(d.rpt_prunes().collect::<Vec<_>>(), vec![(SRC, G1)]);
        // Its holdtime (30 s) ends it.
        let out = d.on_timer(t0 + secs(30));
        assert_eq!(
            out,
            vec![Action::RptChanged {
                source: SRC,
                group: G1,
                pruned: false
            }]
        );
        assert!(d.forwards(SRC, G1));
        // Prune-Pending ends too when a Join(*,G) comes without the Prune.
        d.receive_join_prune(&jp(ME, 210, G1, &[], &[rpt(SRC2)]), 3, OI, t0 + secs(31));
        assert!(d
            .receive_join_prune(&join(G1, wc()), 3, OI, t0 + secs(32))
            .is_empty());
        assert!(d.on_timer(t0 + secs(31) + OI).is_empty());
        assert!(!d.rpt_pruned(SRC2, G1));
        // A Join(S,G,rpt) ends a Prune too.
        d.receive_join_prune(&jp(ME, 210, G1, &[], &[rpt(SRC)]), 1, OI, t0 + secs(40));
        assert!(d.rpt_pruned(SRC, G1));
        d.receive_join_prune(&jp(ME, 210, G1, &[rpt(SRC)], &[]), 1, OI, t0 + secs(41));
        assert!(!d.rpt_pruned(SRC, G1));
        // An (S,G) join forwards whatever the (S,G,rpt) state.
        d.receive_join_prune(
            &jp(ME, 210, G1, &[src(SRC)], &[rpt(SRC)]),
            1,
            OI,
            t0 + secs(42),
        );
        assert!(d.rpt_pruned(SRC, G1) && d.forwards(SRC, G1));
    }

    #[test]
    fn max_routes_bound() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        let sources: Vec<EncodedSource> = (0..MAX_ROUTES as u32)
            .map(|i| src(Ipv4Addr::from(0x0a00_0000 + i)))
            .collect();
        let out = d.receive_join_prune(&jp(ME, 210, G1, &sources, &[]), 1, OI, t0);
        assert_eq!(out.len(), MAX_ROUTES);
        assert_eq!(d.len(), MAX_ROUTES);
        // One more is refused; a refresh of a known one is fine.
        assert!(d.receive_join_prune(&join(G2, wc()), 1, OI, t0).is_empty());
        assert_eq!(d.counters().dropped, 1);
        assert!(d
            .receive_join_prune(&join(G1, sources[7]), 1, OI, t0 + secs(1))
            .is_empty());
        assert_eq!(d.counters().dropped, 1);
        // Room again after a Prune.
        d.receive_join_prune(&prune(G1, sources[0]), 1, OI, t0 + secs(2));
        let out = d.receive_join_prune(&join(G2, wc()), 1, OI, t0 + secs(2));
        assert_eq!(out, vec![changed(None, G2, true)]);
        assert_eq!(d.len(), MAX_ROUTES);
    }

    #[test]
    fn clear_drops_everything() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        d.receive_join_prune(&jp(ME, 210, G2, &[wc(), src(SRC)], &[]), 3, OI, t0);
        d.receive_join_prune(&join(G1, src(SRC)), 3, OI, t0);
        d.receive_join_prune(&prune(G1, src(SRC)), 3, OI, t0);
        let out = d.clear();
        assert_eq!(
            out,
            vec![
                changed(Some(SRC), G1, false),
                changed(None, G2, false),
                changed(Some(SRC), G2, false),
            ]
        );
        assert!(d.is_empty());
        assert_eq!(d.next_deadline(), None);
        assert!(d.clear().is_empty());
        // No PruneEcho after all.
        assert!(d.on_timer(t0 + secs(10)).is_empty());
    }

    #[test]
    fn echoes_due_together_share_a_message() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        d.receive_join_prune(&jp(ME, 210, G1, &[wc(), src(SRC)], &[]), 2, OI, t0);
        d.receive_join_prune(&join(G2, src(SRC2)), 2, OI, t0);
        let mut m = jp(ME, 210, G1, &[], &[wc(), src(SRC)]);
        m.groups.push(prune(G2, src(SRC2)).groups.remove(0));
        assert!(d.receive_join_prune(&m, 2, OI, t0).is_empty());
        let out = d.on_timer(t0 + OI);
        assert_eq!(
            out.iter()
                .filter(|a| matches!(a, Action::Changed { .. }))
                .count(),
            3
        );
        let echoes = sent(&out);
        assert_eq!(echoes.len(), 1);
        assert_eq!(*echoes[0], m);
    }

    #[test]
    fn many_echoes_are_split() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        let sources: Vec<EncodedSource> = (0..400u32)
            .map(|i| src(Ipv4Addr::from(0x0a00_0000 + i)))
            .collect();
        d.receive_join_prune(&jp(ME, 210, G1, &sources, &[]), 2, OI, t0);
        d.receive_join_prune(&jp(ME, 210, G1, &[], &sources), 2, OI, t0);
        let out = d.on_timer(t0 + OI);
        let echoes = sent(&out);
        assert!(echoes.len() > 1);
        let mut back = Vec::new();
        for m in &echoes {
            assert!(m.encoded_len() <= MAX_ECHO_LEN);
            assert_eq!(m.upstream_neighbor, ME);
            for g in &m.groups {
                assert_eq!(g.group, EncodedGroup::host(G1));
                back.extend(g.prunes.iter().copied());
            }
        }
        assert_eq!(back, sources);
        assert_eq!(d.counters().prune_echoes, echoes.len() as u64);
    }

    #[test]
    fn zero_override_interval_on_lan_prunes_at_once_with_echo() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        d.receive_join_prune(&join(G1, wc()), 2, OI, t0);
        let out = d.receive_join_prune(&prune(G1, wc()), 2, Duration::ZERO, t0);
        assert_eq!(
            out,
            vec![
                changed(None, G1, false),
                Action::Send(jp(ME, 210, G1, &[], &[wc()]))
            ]
        );
    }

    #[test]
    fn huge_override_interval_is_capped() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        d.receive_join_prune(&join(G1, wc()), 2, OI, t0);
        d.receive_join_prune(&prune(G1, wc()), 2, Duration::MAX, t0);
        assert_eq!(d.next_deadline(), Some(t0 + MAX_JP_OVERRIDE_INTERVAL));
    }

    #[test]
    fn set_local_changes_who_we_answer_to() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        d.receive_join_prune(&join(G1, wc()), 2, OI, t0);
        d.set_local(OTHER);
        assert_eq!(d.local(), OTHER);
        // Addressed to the old address: ignored now.
        assert!(d.receive_join_prune(&prune(G1, wc()), 2, OI, t0).is_empty());
        assert_eq!(d.state(None, G1), DownstreamState::Join);
        let m = jp(OTHER, 210, G1, &[], &[wc()]);
        d.receive_join_prune(&m, 2, OI, t0);
        // The PruneEcho names the new address.
        let out = d.on_timer(t0 + OI);
        assert_eq!(sent(&out), vec![&m]);
    }

    #[test]
    fn decoded_bytes_drive_the_state() {
        let t0 = Instant::now();
        let mut d = Downstream::new(ME);
        let mut rpt = src(SRC2);
        rpt.rpt = true;
        let msg = Message::JoinPrune(jp(ME, 210, G1, &[wc(), src(SRC), rpt], &[]));
        let bytes = msg.encode();
        // Group record 239.1.1.1/32, 3 joins, 0 prunes.
        assert_eq!(&bytes[14..26], &[1, 0, 0, 32, 239, 1, 1, 1, 0, 3, 0, 0]);
        // (*,G): S|W|R; (S,G): S; (S,G,rpt): S|R.
        assert_eq!(&bytes[26..34], &[1, 0, 0x07, 32, 10, 9, 9, 9]);
        assert_eq!(&bytes[34..42], &[1, 0, 0x04, 32, 10, 2, 2, 2]);
        assert_eq!(&bytes[42..50], &[1, 0, 0x05, 32, 10, 2, 2, 3]);
        let Ok(Message::JoinPrune(m)) = Message::decode(&bytes) else {
            panic!("bad join/prune");
        };
        let out = d.receive_join_prune(&m, 3, OI, t0);
        assert_eq!(
            out,
            vec![changed(None, G1, true), changed(Some(SRC), G1, true)]
        );
        assert!(!d.rpt_pruned(SRC2, G1));
        // A Prune(*,G) by bytes, then the PruneEcho through the codec.
        let bytes = Message::JoinPrune(prune(G1, wc())).encode();
        let Ok(Message::JoinPrune(m)) = Message::decode(&bytes) else {
            panic!("bad prune");
        };
        d.receive_join_prune(&m, 3, OI, t0 + secs(1));
        let out = d.on_timer(t0 + secs(1) + OI);
        let echo = Message::JoinPrune(sent(&out)[0].clone()).encode();
        // Upstream neighbor is us; the pruned entry keeps S|W|R.
        assert_eq!(&echo[4..10], &[1, 0, 10, 1, 0, 1]);
        assert_eq!(&echo[22..34], &[0, 0, 0, 1, 1, 0, 0x07, 32, 10, 9, 9, 9]);
        // The Prune was addressed to us, so the echo is the same message.
        assert_eq!(Message::decode(&echo), Ok(Message::JoinPrune(m)));
    }
}
