//! One PIM-SM interface (IPv4): Hellos, the neighbor table, DR election
//! (RFC 7761 §4.3) and a per-route Assert state machine (§4.6, simplified),
//! with the vendor knobs `pim ignore dr-state` and `pim ignore assert-state`.
//!
//! The interface is sans-I/O: every entry point takes the current time and
//! returns [`Action`]s; the caller owns the socket and the clock, calls
//! [`Interface::on_timer`] at [`Interface::next_deadline`] and re-reads the
//! deadline after every call.
//!
//! Hellos (§4.3.1): the first one goes out after a random delay in
//! 0..[`TRIGGERED_HELLO_DELAY`], then every `hello_interval`, carrying
//! Holdtime (3.5 x the interval), LAN Prune Delay (500 ms / 2500 ms, T bit
//! clear), DR Priority and Generation ID. A Hello from a new neighbor, or
//! with a changed Generation ID, brings the next Hello forward to a random
//! point within [`TRIGGERED_HELLO_DELAY`] (never later than it was due).
//! A DR priority or hello interval change sends a Hello at once.
//! [`Interface::shutdown`] sends a Hello with holdtime 0.
//!
//! DR election (§4.3.2): highest DR priority, then highest address; if any
//! neighbor omitted the DR Priority option, highest address only.
//!
//! Asserts (§4.6.1, §4.6.2), simplified. What is implemented, per route
//! ((S,G) for Asserts with the R bit clear, (*,G) for those with it set):
//! the states NoInfo, Winner and Loser; a received inferior Assert (or a
//! data packet arriving on an outgoing interface, reported with
//! [`Interface::data_on_outgoing`]) makes a router that could assert send
//! its own Assert and become Winner; a preferred one makes it Loser; the
//! winner re-asserts every Assert_Time - Assert_Override_Interval (177 s);
//! the loser forgets after Assert_Time (180 s), on an inferior Assert or
//! AssertCancel from the winner, or when the winner goes away or restarts;
//! [`Interface::could_assert_false`] makes a winner send AssertCancel.
//! An R-bit Assert naming a source goes to that source's (S,G) machine first
//! (§4.6.1): in NoInfo with CouldAssert(S,G,I) (our [`Claim::spt`]) we answer
//! with Assert(S,G) and become Winner, a Winner re-asserts, a Loser whose
//! winner now asserts the RP tree goes back to NoInfo; only when that machine
//! neither was nor became anything but NoInfo does the (*,G) machine see it.
//! What is not: AssertTrackingDesired is taken to be CouldAssert (a router
//! that does not forward onto the LAN keeps no Loser state, so the assert
//! winner never replaces RPF' on an upstream LAN); "my metric becomes better than the
//! winner's" and "Join received from downstream" are not events here (the
//! caller may call [`Interface::could_assert_false`] to reset).
//! With `ignore_assert` no Assert is sent or acted upon, and
//! [`Interface::lost_assert`] is always false.
//!
//! One file of about 800 lines because it is one state machine: neighbors and DR election
//! (RFC 7761 §4.3) and the per-(S,G) Assert machine (§4.6) share the interface's state.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::packet::{
    Assert, EncodedGroup, Hello, LanPruneDelay, Message, ALL_PIM_ROUTERS, HOLDTIME_INFINITE,
};

/// Hello_Period default (§4.11).
pub const HELLO_PERIOD: Duration = Duration::from_secs(30);
/// Triggered_Hello_Delay (§4.11).
pub const TRIGGERED_HELLO_DELAY: Duration = Duration::from_secs(5);
/// Holdtime assumed for a neighbor whose Hello has no Holdtime option
/// (Default_Hello_Holdtime, §4.11).
pub const DEFAULT_HELLO_HOLDTIME: u16 = 105;
/// Assert_Time (§4.11).
pub const ASSERT_TIME: Duration = Duration::from_secs(180);
/// Assert_Override_Interval (§4.11).
pub const ASSERT_OVERRIDE_INTERVAL: Duration = Duration::from_secs(3);
/// Propagation_Delay advertised in our LAN Prune Delay option (§4.11).
pub const PROPAGATION_DELAY_MS: u16 = 500;
/// Override_Interval advertised in our LAN Prune Delay option (§4.11).
pub const OVERRIDE_INTERVAL_MS: u16 = 2500;

/// Per-interface configuration (ne-multicast `pim` container).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// DR priority advertised and used in the election (default 1).
    pub dr_priority: u32,
    /// Hello period (default 30 s); the holdtime sent is 3.5 times it.
    pub hello_interval: Duration,
    /// `pim ignore dr-state`: build outgoing interfaces as if DR.
    pub ignore_dr: bool,
    /// `pim ignore assert-state`: never send or act on Asserts.
    pub ignore_assert: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            dr_priority: 1,
            hello_interval: HELLO_PERIOD,
            ignore_dr: false,
            ignore_assert: false,
        }
    }
}

/// A PIM neighbor learned from its Hellos.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbor {
    /// Primary address (source of its Hellos).
    pub address: Ipv4Addr,
    /// DR Priority option, if it sent one.
    pub dr_priority: Option<u32>,
    /// Generation ID option, if it sent one.
    pub generation_id: Option<u32>,
    /// Holdtime of its last Hello, seconds.
    pub holdtime: u16,
    /// When it times out; `None` for holdtime 0xffff (never).
    pub expires: Option<Instant>,
    /// When it was first heard (or last restarted, i.e. changed GenID).
    pub since: Instant,
    /// LAN Prune Delay option, if it sent one.
    pub lan_prune_delay: Option<LanPruneDelay>,
    /// Secondary addresses from its Address List option.
    pub secondary_addresses: Vec<Ipv4Addr>,
}

/// Metric of the route used for Asserts (§4.6): compared as
/// (rpt, preference, metric), lower wins, then higher address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteMetric {
    /// The route is toward the RP (a (*,G) route).
    pub rpt: bool,
    /// Metric preference (administrative distance), 31 bits.
    pub preference: u32,
    /// Route metric.
    pub metric: u32,
}

impl RouteMetric {
    /// The infinite metric of an AssertCancel.
    pub const INFINITE: RouteMetric = RouteMetric {
        rpt: true,
        preference: 0x7fff_ffff,
        metric: u32::MAX,
    };

    fn rank(&self) -> (bool, u32, u32) {
        (self.rpt, self.preference & 0x7fff_ffff, self.metric)
    }
}

/// Whether `a` (sent by `a_addr`) beats `b` (sent by `b_addr`), §4.6.
fn better(a: RouteMetric, a_addr: Ipv4Addr, b: RouteMetric, b_addr: Ipv4Addr) -> bool {
    match a.rank().cmp(&b.rank()) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Equal => a_addr > b_addr,
    }
}

/// Assert state of one route on this interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssertState {
    /// No assert information.
    NoInfo,
    /// We won: we forward onto the LAN.
    Winner,
    /// `winner` won: we must not forward onto the LAN.
    Loser { winner: Ipv4Addr },
}

/// What this router could claim for a received Assert (§4.6), worked out by the caller, which
/// knows the routes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Claim {
    /// Our metric for the Assert's own route ((S,G) when its R bit is clear, (*,G) when set)
    /// if CouldAssert holds for it, i.e. the route forwards onto this interface.
    pub mine: Option<RouteMetric>,
    /// AssertTrackingDesired for that route (it is the upstream interface of a route we join).
    pub track: bool,
    /// For an R-bit Assert naming a source S: our shortest-path metric toward S when
    /// CouldAssert(S,G,I) holds (we forward S's data onto this interface on the SPT).
    pub spt: Option<RouteMetric>,
}

/// What the I/O layer must do on behalf of the interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send `msg` out of this interface to `dst` (always ALL-PIM-ROUTERS),
    /// TTL 1.
    Send { dst: Ipv4Addr, msg: Message },
    /// A new neighbor, or a known one that restarted (its Generation ID
    /// changed). Either way its upstream state may be missing: the caller
    /// should call `Tib::neighbor_restarted` for it.
    NeighborUp(Ipv4Addr),
    /// The neighbor timed out or said goodbye (holdtime 0).
    NeighborDown(Ipv4Addr),
    /// The elected DR changed.
    DrChange { dr: Ipv4Addr, is_dr: bool },
    /// We became the assert winner for the route (`source` `None` = (*,G)).
    AssertWon {
        source: Option<Ipv4Addr>,
        group: Ipv4Addr,
    },
    /// We lost the assert for the route to `winner` (also reported when the
    /// winner changes): stop forwarding it onto this interface.
    AssertLost {
        source: Option<Ipv4Addr>,
        group: Ipv4Addr,
        winner: Ipv4Addr,
    },
    /// The route's assert state went back to NoInfo.
    AssertCleared {
        source: Option<Ipv4Addr>,
        group: Ipv4Addr,
    },
}

/// Route key: (source, group), source `None` for (*,G).
type RouteKey = (Option<Ipv4Addr>, Ipv4Addr);

#[derive(Debug, Clone, Copy)]
enum AssertEntry {
    /// Our metric when we last asserted, and when to re-assert.
    Winner { mine: RouteMetric, at: Instant },
    /// The winner, its metric, and when the state expires.
    Loser {
        winner: Ipv4Addr,
        metric: RouteMetric,
        at: Instant,
    },
}

impl AssertEntry {
    fn deadline(&self) -> Instant {
        match self {
            AssertEntry::Winner { at, .. } | AssertEntry::Loser { at, .. } => *at,
        }
    }
}

/// One PIM interface.
#[derive(Debug, Clone)]
pub struct Interface {
    cfg: Config,
    local: Ipv4Addr,
    gen_id: u32,
    rng: crate::engines::rng::Rng,
    hello_at: Option<Instant>,
    neighbors: BTreeMap<Ipv4Addr, Neighbor>,
    dr: Ipv4Addr,
    asserts: BTreeMap<RouteKey, AssertEntry>,
    shut: bool,
}

impl Interface {
    /// A new interface with address `local` and Generation ID `gen_id`
    /// (random, chosen by the caller; it also seeds the jitter, so tests are
    /// deterministic). The first Hello is due after a random delay in
    /// 0..[`TRIGGERED_HELLO_DELAY`]; until a neighbor is heard we are DR.
    pub fn new(cfg: Config, local: Ipv4Addr, now: Instant, gen_id: u32) -> Interface {
        let seed = (u64::from(gen_id) << 32) | u64::from(u32::from(local));
        let mut ifc = Interface {
            cfg,
            local,
            gen_id,
            rng: crate::engines::rng::Rng::new(seed | 1),
            hello_at: None,
            neighbors: BTreeMap::new(),
            dr: local,
            asserts: BTreeMap::new(),
            shut: false,
        };
        let delay = ifc.jitter(TRIGGERED_HELLO_DELAY);
        ifc.hello_at = Some(now + delay);
        ifc
    }

    // ---- accessors -------------------------------------------------------

    /// The current configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Our address on the interface.
    pub fn local(&self) -> Ipv4Addr {
        self.local
    }

    /// Our Generation ID.
    pub fn generation_id(&self) -> u32 {
        self.gen_id
    }

    /// Neighbors in address order.
    pub fn neighbors(&self) -> impl Iterator<Item = &Neighbor> {
        self.neighbors.values()
    }

    /// The neighbor with this primary address.
    pub fn neighbor(&self, addr: Ipv4Addr) -> Option<&Neighbor> {
        self.neighbors.get(&addr)
    }

    /// The elected DR (ourselves when alone).
    pub fn dr(&self) -> Ipv4Addr {
        self.dr
    }

    /// Whether we won the DR election. An interface without an address (not present, or not
    /// numbered yet) takes part in no election and is never DR.
    pub fn is_dr(&self) -> bool {
        !self.local.is_unspecified() && self.dr == self.local
    }

    /// The DR's address, when there is an election (see [`Interface::is_dr`]).
    pub fn dr_address(&self) -> Option<Ipv4Addr> {
        (!self.dr.is_unspecified()).then_some(self.dr)
    }

    /// I_am_DR as used for oif computation: true when ignore_dr is set
    /// (RFC 7761 §4.1.6 with the vendor "pim ignore dr-state" knob).
    pub fn i_am_dr_for_oifs(&self) -> bool {
        self.cfg.ignore_dr || self.is_dr()
    }

    /// Whether `addr` is a live neighbor's primary or secondary address
    /// (an RPF neighbor must be one before Joins are sent to it).
    pub fn rpf_neighbor_known(&self, addr: Ipv4Addr) -> bool {
        self.neighbor_primary(addr).is_some()
    }

    /// The primary address of the neighbor owning `addr` (primary or from
    /// its Address List), to put in a Join's upstream neighbor field.
    pub fn neighbor_primary(&self, addr: Ipv4Addr) -> Option<Ipv4Addr> {
        if self.neighbors.contains_key(&addr) {
            return Some(addr);
        }
        self.neighbors
            .values()
            .find(|n| n.secondary_addresses.contains(&addr))
            .map(|n| n.address)
    }

    /// lost_assert for the route: we are assert loser (never with
    /// `ignore_assert`).
    pub fn lost_assert(&self, source: Option<Ipv4Addr>, group: Ipv4Addr) -> bool {
        matches!(self.assert_state(source, group), AssertState::Loser { .. })
    }

    /// The route's assert state (always NoInfo with `ignore_assert`).
    pub fn assert_state(&self, source: Option<Ipv4Addr>, group: Ipv4Addr) -> AssertState {
        if self.cfg.ignore_assert {
            return AssertState::NoInfo;
        }
        match self.asserts.get(&(source, group)) {
            None => AssertState::NoInfo,
            Some(AssertEntry::Winner { .. }) => AssertState::Winner,
            Some(AssertEntry::Loser { winner, .. }) => AssertState::Loser { winner: *winner },
        }
    }

    /// Every route with assert state, in (source, group) order.
    pub fn asserts(&self) -> impl Iterator<Item = (Option<Ipv4Addr>, Ipv4Addr, AssertState)> + '_ {
        self.asserts
            .keys()
            .map(|&(s, g)| (s, g, self.assert_state(s, g)))
    }

    /// The Hello we send now (with our current holdtime).
    pub fn hello(&self) -> Hello {
        self.make_hello(hello_holdtime(self.cfg.hello_interval))
    }

    /// The earliest instant at which [`Interface::on_timer`] has work to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.shut {
            return None;
        }
        let nbr = self.neighbors.values().filter_map(|n| n.expires).min();
        let ast = self.asserts.values().map(AssertEntry::deadline).min();
        [self.hello_at, nbr, ast].into_iter().flatten().min()
    }

    // ---- events ----------------------------------------------------------

    /// Our address on the interface changed (or became known: an interface is often created
    /// before its address is configured). The DR election runs again; assert state, which was
    /// won or lost with the old address, is dropped.
    pub fn set_local(&mut self, local: Ipv4Addr) -> Vec<Action> {
        let mut out = Vec::new();
        if local == self.local {
            return out;
        }
        if self.dr == self.local {
            self.dr = local;
        }
        self.local = local;
        for (source, group) in std::mem::take(&mut self.asserts).into_keys() {
            out.push(Action::AssertCleared { source, group });
        }
        if !self.shut {
            self.update_dr(&mut out);
        }
        out
    }

    /// Applies a new configuration. An identical one does nothing. A DR
    /// priority or hello interval change sends a Hello at once (and restarts
    /// the hello period); a DR priority change re-runs the election. Turning
    /// `ignore_assert` on drops all assert state ([`Action::AssertCleared`],
    /// no AssertCancel is sent). The caller re-evaluates its outgoing
    /// interfaces afterwards (`ignore_dr` may have changed).
    pub fn reconfigure(&mut self, cfg: Config, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if cfg == self.cfg {
            return out;
        }
        let old = std::mem::replace(&mut self.cfg, cfg);
        if self.shut {
            return out;
        }
        if old.dr_priority != cfg.dr_priority || old.hello_interval != cfg.hello_interval {
            self.send_hello(now, &mut out);
        }
        if old.dr_priority != cfg.dr_priority {
            self.update_dr(&mut out);
        }
        if cfg.ignore_assert && !old.ignore_assert {
            for (source, group) in std::mem::take(&mut self.asserts).into_keys() {
                out.push(Action::AssertCleared { source, group });
            }
        }
        out
    }

    /// A Hello from `src` (the caller has checked it arrived on this
    /// interface; our own looped-back Hellos are ignored). A new neighbor or
    /// a Generation ID change gives [`Action::NeighborUp`] and a triggered
    /// Hello; holdtime 0 removes the neighbor at once.
    pub fn receive_hello(&mut self, src: Ipv4Addr, h: &Hello, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.shut || src == self.local {
            return out;
        }
        let holdtime = h.holdtime.unwrap_or(DEFAULT_HELLO_HOLDTIME);
        if holdtime == 0 {
            if self.neighbors.remove(&src).is_some() {
                self.neighbor_gone(src, &mut out);
                self.update_dr(&mut out);
            }
            return out;
        }
        let expires = if holdtime == HOLDTIME_INFINITE {
            None
        } else {
            Some(now + Duration::from_secs(u64::from(holdtime)))
        };
        let mut up = false;
        let n = self.neighbors.entry(src).or_insert_with(|| {
            up = true;
            Neighbor {
                address: src,
                dr_priority: h.dr_priority,
                generation_id: h.generation_id,
                holdtime,
                expires,
                since: now,
                lan_prune_delay: h.lan_prune_delay,
                secondary_addresses: Vec::new(),
            }
        });
        let restarted = !up && n.generation_id != h.generation_id;
        if restarted {
            n.since = now;
        }
        n.dr_priority = h.dr_priority;
        n.generation_id = h.generation_id;
        n.holdtime = holdtime;
        n.expires = expires;
        n.lan_prune_delay = h.lan_prune_delay;
        n.secondary_addresses.clone_from(&h.secondary_addresses);
        if restarted {
            // Its view of the assert is gone with its state (§4.6.1).
            self.forget_winner(src, &mut out);
        }
        if up || restarted {
            out.push(Action::NeighborUp(src));
            self.trigger_hello(now);
        }
        self.update_dr(&mut out);
        out
    }

    /// An Assert from `src`, with what we could claim for its route (`claim`).
    pub fn receive_assert(
        &mut self,
        src: Ipv4Addr,
        a: &Assert,
        claim: Claim,
        now: Instant,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        if self.shut || self.cfg.ignore_assert || src == self.local {
            return out;
        }
        let source = if a.rpt { None } else { Some(a.source) };
        let group = a.group.address;
        let key = (source, group);
        let theirs = RouteMetric {
            rpt: a.rpt,
            preference: a.metric_preference,
            metric: a.metric,
        };
        let cancel = a.is_cancel();
        if a.rpt && !cancel && !a.source.is_unspecified() {
            let sg = (Some(a.source), group);
            if self.rpt_assert_for_source(sg, src, theirs, claim.spt, now, &mut out) {
                return out;
            }
        }
        let Claim { mine, track, .. } = claim;
        let local = self.local;
        let i_beat = |m: Option<RouteMetric>| m.is_some_and(|m| better(m, local, theirs, src));
        match self.asserts.get(&key).copied() {
            None => match mine {
                Some(m) if i_beat(mine) => self.assert_win(key, m, now, &mut out),
                Some(_) if !cancel => self.assert_lose(key, src, theirs, now, &mut out),
                // Not a party to it but downstream of it (AssertTrackingDesired: this is the
                // route's RPF interface and we join it): the winner is where our Joins go
                // (RPF', §4.1.6), so it is kept as a loser's state (§4.6.1).
                None if track && !cancel => self.assert_lose(key, src, theirs, now, &mut out),
                _ => {}
            },
            Some(AssertEntry::Winner { .. }) => match mine {
                None => self.assert_cancel(key, &mut out),
                Some(m) if i_beat(mine) => self.assert_refresh(key, m, now, &mut out),
                Some(_) => self.assert_lose(key, src, theirs, now, &mut out),
            },
            Some(AssertEntry::Loser { winner, metric, .. }) => {
                if !cancel && better(theirs, src, metric, winner) {
                    self.assert_lose(key, src, theirs, now, &mut out);
                } else if src == winner {
                    if cancel || i_beat(mine) {
                        self.asserts.remove(&key);
                        out.push(Action::AssertCleared { source, group });
                    } else {
                        self.assert_lose(key, src, theirs, now, &mut out);
                    }
                }
            }
        }
        out
    }

    /// An R-bit Assert from `src` naming the source of `sg`, for the (S,G) machine (§4.6.1),
    /// with `spt` our claim for it when CouldAssert(S,G,I). Returns whether the (S,G) machine
    /// was or became other than NoInfo: then it is that machine's alone, and the (*,G)
    /// machine does not see the Assert (an (S,G) entry overrides the (*,G) one).
    fn rpt_assert_for_source(
        &mut self,
        sg: RouteKey,
        src: Ipv4Addr,
        theirs: RouteMetric,
        spt: Option<RouteMetric>,
        now: Instant,
        out: &mut Vec<Action>,
    ) -> bool {
        let local = self.local;
        match self.asserts.get(&sg).copied() {
            // "Receive Assert with RPTbit set and CouldAssert(S,G,I)": our SPT claim beats
            // any RP-tree one; send Assert(S,G), become Winner.
            None => match spt {
                Some(m) if better(m, local, theirs, src) => {
                    self.assert_win(sg, m, now, out);
                    true
                }
                _ => false,
            },
            // An inferior Assert to the Winner: say so again, re-arm the timer.
            Some(AssertEntry::Winner { mine, .. }) => {
                if better(mine, local, theirs, src) {
                    self.assert_refresh(sg, mine, now, out);
                }
                true
            }
            // The winner now claims only the RP tree, which is inferior to its own SPT
            // claim: back to NoInfo (the Loser's "inferior Assert from the current winner").
            Some(AssertEntry::Loser { winner, metric, .. }) => {
                if src == winner && better(metric, winner, theirs, src) {
                    self.asserts.remove(&sg);
                    out.push(Action::AssertCleared {
                        source: sg.0,
                        group: sg.1,
                    });
                }
                true
            }
        }
    }

    /// A data packet of the route arrived on this interface although the
    /// route forwards onto it (the kernel's wrong-interface signal), `mine`
    /// being our metric for the route: in NoInfo we assert and become
    /// Winner (§4.6.1, §4.6.2). Nothing with `ignore_assert`.
    pub fn data_on_outgoing(
        &mut self,
        source: Option<Ipv4Addr>,
        group: Ipv4Addr,
        mine: RouteMetric,
        now: Instant,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        if self.shut || self.cfg.ignore_assert || self.asserts.contains_key(&(source, group)) {
            return out;
        }
        self.assert_win((source, group), mine, now, &mut out);
        out
    }

    /// CouldAssert became false for the route (it no longer forwards onto
    /// this interface): a Winner sends AssertCancel, a Loser forgets.
    pub fn could_assert_false(&mut self, source: Option<Ipv4Addr>, group: Ipv4Addr) -> Vec<Action> {
        let mut out = Vec::new();
        match self.asserts.get(&(source, group)) {
            Some(AssertEntry::Winner { .. }) => self.assert_cancel((source, group), &mut out),
            Some(AssertEntry::Loser { .. }) => {
                self.asserts.remove(&(source, group));
                out.push(Action::AssertCleared { source, group });
            }
            None => {}
        }
        out
    }

    /// Runs whatever is due: the Hello timer, neighbor expiry (then the DR
    /// election), assert timers.
    pub fn on_timer(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.shut {
            return out;
        }
        if self.hello_at.is_some_and(|t| t <= now) {
            self.send_hello(now, &mut out);
        }
        let expired: Vec<Ipv4Addr> = self
            .neighbors
            .values()
            .filter(|n| n.expires.is_some_and(|t| t <= now))
            .map(|n| n.address)
            .collect();
        for addr in &expired {
            self.neighbors.remove(addr);
            self.neighbor_gone(*addr, &mut out);
        }
        if !expired.is_empty() {
            self.update_dr(&mut out);
        }
        let due: Vec<(RouteKey, AssertEntry)> = self
            .asserts
            .iter()
            .filter(|(_, e)| e.deadline() <= now)
            .map(|(k, e)| (*k, *e))
            .collect();
        for (key, entry) in due {
            match entry {
                AssertEntry::Winner { mine, .. } => self.assert_refresh(key, mine, now, &mut out),
                AssertEntry::Loser { .. } => {
                    self.asserts.remove(&key);
                    out.push(Action::AssertCleared {
                        source: key.0,
                        group: key.1,
                    });
                }
            }
        }
        out
    }

    /// PIM is stopped on the interface: a Hello with holdtime 0, every
    /// neighbor reported down and assert state dropped. The interface stays
    /// inert afterwards (no deadline; events are ignored).
    pub fn shutdown(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        if self.shut {
            return out;
        }
        self.shut = true;
        self.hello_at = None;
        out.push(Action::Send {
            dst: ALL_PIM_ROUTERS,
            msg: Message::Hello(self.make_hello(0)),
        });
        for addr in std::mem::take(&mut self.neighbors).into_keys() {
            out.push(Action::NeighborDown(addr));
        }
        for (source, group) in std::mem::take(&mut self.asserts).into_keys() {
            out.push(Action::AssertCleared { source, group });
        }
        self.dr = self.local;
        out
    }

    // ---- internals -------------------------------------------------------

    fn make_hello(&self, holdtime: u16) -> Hello {
        Hello {
            holdtime: Some(holdtime),
            lan_prune_delay: Some(LanPruneDelay {
                tracking: false,
                propagation_delay_ms: PROPAGATION_DELAY_MS,
                override_interval_ms: OVERRIDE_INTERVAL_MS,
            }),
            dr_priority: Some(self.cfg.dr_priority),
            generation_id: Some(self.gen_id),
            secondary_addresses: Vec::new(),
        }
    }

    fn send_hello(&mut self, now: Instant, out: &mut Vec<Action>) {
        out.push(Action::Send {
            dst: ALL_PIM_ROUTERS,
            msg: Message::Hello(self.hello()),
        });
        self.hello_at = Some(now + self.cfg.hello_interval.max(Duration::from_secs(1)));
    }

    /// Brings the next Hello forward to a random point within
    /// Triggered_Hello_Delay, unless it is already due sooner.
    fn trigger_hello(&mut self, now: Instant) {
        let at = now + self.jitter(TRIGGERED_HELLO_DELAY);
        self.hello_at = Some(self.hello_at.map_or(at, |t| t.min(at)));
    }

    /// A neighbor left: report it and drop the assert losses to it.
    fn neighbor_gone(&mut self, addr: Ipv4Addr, out: &mut Vec<Action>) {
        out.push(Action::NeighborDown(addr));
        self.forget_winner(addr, out);
    }

    fn forget_winner(&mut self, addr: Ipv4Addr, out: &mut Vec<Action>) {
        let lost_to: Vec<RouteKey> = self
            .asserts
            .iter()
            .filter(|(_, e)| matches!(e, AssertEntry::Loser { winner, .. } if *winner == addr))
            .map(|(k, _)| *k)
            .collect();
        for (source, group) in lost_to {
            self.asserts.remove(&(source, group));
            out.push(Action::AssertCleared { source, group });
        }
    }

    fn elect(&self) -> Ipv4Addr {
        self.elect_without(None)
    }

    /// The DR the link would have without the neighbor `neighbor` (RFC 5059 §3.5: who sends
    /// the stored Bootstrap message to a new neighbor that is itself the DR).
    pub fn dr_without(&self, neighbor: Ipv4Addr) -> Ipv4Addr {
        self.elect_without(Some(neighbor))
    }

    fn elect_without(&self, excluded: Option<Ipv4Addr>) -> Ipv4Addr {
        let others = || {
            self.neighbors
                .values()
                .filter(move |n| Some(n.address) != excluded)
        };
        let use_priority = others().all(|n| n.dr_priority.is_some());
        let rank = |prio: Option<u32>, addr: Ipv4Addr| {
            (if use_priority { prio.unwrap_or(0) } else { 0 }, addr)
        };
        std::iter::once(rank(Some(self.cfg.dr_priority), self.local))
            .chain(others().map(|n| rank(n.dr_priority, n.address)))
            .max()
            .map_or(self.local, |(_, addr)| addr)
    }

    fn update_dr(&mut self, out: &mut Vec<Action>) {
        let dr = self.elect();
        if dr != self.dr {
            self.dr = dr;
            out.push(Action::DrChange {
                dr,
                is_dr: dr == self.local,
            });
        }
    }

    fn assert_msg(&self, key: RouteKey, m: RouteMetric) -> Message {
        Message::Assert(Assert {
            group: EncodedGroup::host(key.1),
            source: key.0.unwrap_or(Ipv4Addr::UNSPECIFIED),
            rpt: m.rpt,
            metric_preference: m.preference & 0x7fff_ffff,
            metric: m.metric,
        })
    }

    /// Action A1: send Assert, become (or stay) Winner.
    fn assert_win(
        &mut self,
        key: RouteKey,
        mine: RouteMetric,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        self.assert_refresh(key, mine, now, out);
        out.push(Action::AssertWon {
            source: key.0,
            group: key.1,
        });
    }

    /// Action A3: send Assert, re-arm the winner's timer.
    fn assert_refresh(
        &mut self,
        key: RouteKey,
        mine: RouteMetric,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        out.push(Action::Send {
            dst: ALL_PIM_ROUTERS,
            msg: self.assert_msg(key, mine),
        });
        let at = now + (ASSERT_TIME - ASSERT_OVERRIDE_INTERVAL);
        self.asserts.insert(key, AssertEntry::Winner { mine, at });
    }

    /// Action A2/A6: store the winner, (re)arm Assert_Time. Reports
    /// [`Action::AssertLost`] unless it merely refreshes the same winner.
    fn assert_lose(
        &mut self,
        key: RouteKey,
        winner: Ipv4Addr,
        metric: RouteMetric,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let at = now + ASSERT_TIME;
        let entry = AssertEntry::Loser { winner, metric, at };
        let prev = self.asserts.insert(key, entry);
        if !matches!(prev, Some(AssertEntry::Loser { winner: w, .. }) if w == winner) {
            out.push(Action::AssertLost {
                source: key.0,
                group: key.1,
                winner,
            });
        }
    }

    /// Action A4: send AssertCancel, back to NoInfo.
    fn assert_cancel(&mut self, key: RouteKey, out: &mut Vec<Action>) {
        out.push(Action::Send {
            dst: ALL_PIM_ROUTERS,
            msg: self.assert_msg(key, RouteMetric::INFINITE),
        });
        self.asserts.remove(&key);
        out.push(Action::AssertCleared {
            source: key.0,
            group: key.1,
        });
    }

    /// A uniformly spread delay in [0, max).
    fn jitter(&mut self, max: Duration) -> Duration {
        self.rng.below(max)
    }
}

/// Hello holdtime for a hello period: 3.5 times it, rounded up, in seconds
/// (at most 0xfffe, since 0xffff would mean "forever").
pub fn hello_holdtime(interval: Duration) -> u16 {
    let ms = interval.as_millis().max(1);
    ((ms * 7).div_ceil(2000)).min(0xfffe) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
    const LOW: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 0);
    const HIGH: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 2);
    const GROUP: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 1);
    const SRC: Ipv4Addr = Ipv4Addr::new(10, 2, 2, 2);

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn hello_from(prio: Option<u32>, gen: u32, holdtime: u16) -> Hello {
        Hello {
            holdtime: Some(holdtime),
            lan_prune_delay: None,
            dr_priority: prio,
            generation_id: Some(gen),
            secondary_addresses: vec![],
        }
    }

    fn sent_hellos(actions: &[Action]) -> Vec<Hello> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send {
                    dst,
                    msg: Message::Hello(h),
                } => {
                    assert_eq!(*dst, ALL_PIM_ROUTERS);
                    Some(h.clone())
                }
                _ => None,
            })
            .collect()
    }

    fn sent_asserts(actions: &[Action]) -> Vec<Assert> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send {
                    msg: Message::Assert(x),
                    ..
                } => Some(*x),
                _ => None,
            })
            .collect()
    }

    fn new_if(cfg: Config, t0: Instant) -> Interface {
        Interface::new(cfg, ME, t0, 0xdead_beef)
    }

    /// An interface that has already sent its first Hello.
    fn started(cfg: Config, t0: Instant) -> Interface {
        let mut i = new_if(cfg, t0);
        let first = i.next_deadline().unwrap();
        assert_eq!(sent_hellos(&i.on_timer(first)).len(), 1);
        i
    }

    fn metric(preference: u32, metric: u32) -> RouteMetric {
        RouteMetric {
            rpt: false,
            preference,
            metric,
        }
    }

    /// What we claim for a received Assert's own route, with no (S,G) claim besides.
    fn claim(mine: Option<RouteMetric>, track: bool) -> Claim {
        Claim {
            mine,
            track,
            spt: None,
        }
    }

    fn assert_from(m: RouteMetric) -> Assert {
        Assert {
            group: EncodedGroup::host(GROUP),
            source: SRC,
            rpt: m.rpt,
            metric_preference: m.preference,
            metric: m.metric,
        }
    }

    #[test]
    fn an_interface_without_an_address_is_not_dr() {
        let i = Interface::new(
            Config::default(),
            Ipv4Addr::UNSPECIFIED,
            Instant::now(),
            0xdead_beef,
        );
        assert!(!i.is_dr());
        assert_eq!(i.dr_address(), None);
        let i = new_if(Config::default(), Instant::now());
        assert!(i.is_dr());
        assert_eq!(i.dr_address(), Some(ME));
    }

    #[test]
    fn holdtime_is_three_and_a_half_intervals() {
        assert_eq!(hello_holdtime(secs(30)), 105);
        assert_eq!(hello_holdtime(secs(1)), 4);
        assert_eq!(hello_holdtime(secs(18000)), 63000);
        assert_eq!(hello_holdtime(secs(100_000)), 0xfffe);
    }

    #[test]
    fn first_hello_jittered_then_periodic() {
        let t0 = Instant::now();
        let mut i = new_if(Config::default(), t0);
        let first = i.next_deadline().unwrap();
        assert!(first >= t0 && first < t0 + TRIGGERED_HELLO_DELAY);
        // Deterministic for a given GenID and address.
        assert_eq!(new_if(Config::default(), t0).next_deadline(), Some(first));
        assert!(i.on_timer(first - Duration::from_millis(1)).is_empty());
        let out = i.on_timer(first);
        let hellos = sent_hellos(&out);
        assert_eq!(
            hellos,
            vec![Hello {
                holdtime: Some(105),
                lan_prune_delay: Some(LanPruneDelay {
                    tracking: false,
                    propagation_delay_ms: 500,
                    override_interval_ms: 2500,
                }),
                dr_priority: Some(1),
                generation_id: Some(0xdead_beef),
                secondary_addresses: vec![],
            }]
        );
        assert_eq!(i.next_deadline(), Some(first + secs(30)));
        assert_eq!(sent_hellos(&i.on_timer(first + secs(30))).len(), 1);
        assert!(i.is_dr());
        assert_eq!(i.dr(), ME);
    }

    #[test]
    fn new_neighbor_triggers_hello_and_neighbor_up() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        let now = t0 + secs(10);
        let out = i.receive_hello(HIGH, &hello_from(Some(1), 7, 105), now);
        assert!(out.contains(&Action::NeighborUp(HIGH)));
        let due = i.next_deadline().unwrap();
        assert!(due >= now && due < now + TRIGGERED_HELLO_DELAY);
        assert_eq!(sent_hellos(&i.on_timer(due)).len(), 1);
        assert_eq!(i.next_deadline(), Some(due + secs(30)));
        let n = i.neighbor(HIGH).unwrap();
        assert_eq!(n.since, now);
        assert_eq!(n.expires, Some(now + secs(105)));
        assert_eq!((n.dr_priority, n.generation_id), (Some(1), Some(7)));
        // A refresh with the same GenID is silent and does not re-trigger.
        let out = i.receive_hello(HIGH, &hello_from(Some(1), 7, 105), due + secs(1));
        assert!(out.is_empty());
        assert_eq!(i.next_deadline(), Some(due + secs(30)));
        assert_eq!(i.neighbor(HIGH).unwrap().expires, Some(due + secs(106)));
    }

    #[test]
    fn triggered_hello_never_later_than_scheduled() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        let periodic = i.next_deadline().unwrap();
        // 1 s before the periodic Hello: the trigger cannot postpone it.
        let out = i.receive_hello(HIGH, &hello_from(Some(1), 7, 105), periodic - secs(1));
        assert!(out.contains(&Action::NeighborUp(HIGH)));
        assert!(i.next_deadline().unwrap() <= periodic);
    }

    #[test]
    fn dr_highest_priority_wins() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        let out = i.receive_hello(LOW, &hello_from(Some(10), 1, 105), t0);
        assert!(out.contains(&Action::DrChange {
            dr: LOW,
            is_dr: false
        }));
        assert!(!i.is_dr());
        assert_eq!(i.dr(), LOW);
        // Our priority rises above it: we take over and tell the LAN.
        let cfg = Config {
            dr_priority: 20,
            ..Config::default()
        };
        let out = i.reconfigure(cfg, t0 + secs(1));
        assert_eq!(sent_hellos(&out)[0].dr_priority, Some(20));
        assert!(out.contains(&Action::DrChange {
            dr: ME,
            is_dr: true
        }));
        assert_eq!(i.next_deadline(), Some(t0 + secs(31)));
    }

    #[test]
    fn dr_tie_broken_by_highest_address() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        assert!(i
            .receive_hello(LOW, &hello_from(Some(1), 1, 105), t0)
            .iter()
            .all(|a| !matches!(a, Action::DrChange { .. })));
        assert!(i.is_dr());
        let out = i.receive_hello(HIGH, &hello_from(Some(1), 2, 105), t0);
        assert!(out.contains(&Action::DrChange {
            dr: HIGH,
            is_dr: false
        }));
    }

    #[test]
    fn dr_by_address_only_when_a_neighbor_lacks_priority() {
        let t0 = Instant::now();
        let cfg = Config {
            dr_priority: 100,
            ..Config::default()
        };
        let mut i = started(cfg, t0);
        i.receive_hello(LOW, &hello_from(Some(200), 1, 105), t0);
        assert_eq!(i.dr(), LOW);
        // HIGH sends no DR Priority: priorities are ignored, HIGH wins by
        // address although everyone else has a higher priority.
        let out = i.receive_hello(HIGH, &hello_from(None, 2, 105), t0);
        assert!(out.contains(&Action::DrChange {
            dr: HIGH,
            is_dr: false
        }));
        // HIGH leaves: back to priorities, LOW (200) wins over us (100).
        let out = i.receive_hello(HIGH, &hello_from(None, 2, 0), t0 + secs(1));
        assert!(out.contains(&Action::NeighborDown(HIGH)));
        assert!(out.contains(&Action::DrChange {
            dr: LOW,
            is_dr: false
        }));
    }

    #[test]
    fn neighbor_expiry() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        i.receive_hello(HIGH, &hello_from(Some(5), 1, 105), t0);
        assert_eq!(i.dr(), HIGH);
        let expiry = t0 + secs(105);
        // Run the hellos until just before expiry.
        while let Some(d) = i.next_deadline().filter(|d| *d < expiry) {
            assert!(!i.on_timer(d).contains(&Action::NeighborDown(HIGH)));
        }
        assert_eq!(i.next_deadline(), Some(expiry));
        let out = i.on_timer(expiry);
        assert_eq!(
            out,
            vec![
                Action::NeighborDown(HIGH),
                Action::DrChange {
                    dr: ME,
                    is_dr: true
                }
            ]
        );
        assert_eq!(i.neighbors().count(), 0);
        assert!(!i.rpf_neighbor_known(HIGH));
    }

    #[test]
    fn infinite_holdtime_never_expires() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        let hello_due = i.next_deadline();
        i.receive_hello(HIGH, &hello_from(Some(1), 1, HOLDTIME_INFINITE), t0);
        assert_eq!(i.neighbor(HIGH).unwrap().expires, None);
        let d = i.next_deadline().unwrap();
        assert!(d <= hello_due.unwrap());
        let out = i.on_timer(t0 + secs(100_000));
        assert!(!out.contains(&Action::NeighborDown(HIGH)));
        assert!(i.rpf_neighbor_known(HIGH));
    }

    #[test]
    fn missing_holdtime_option_uses_default() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        let mut h = hello_from(Some(1), 1, 0);
        h.holdtime = None;
        i.receive_hello(HIGH, &h, t0);
        assert_eq!(i.neighbor(HIGH).unwrap().expires, Some(t0 + secs(105)));
    }

    #[test]
    fn generation_id_change_is_a_restart() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        i.receive_hello(HIGH, &hello_from(Some(1), 1, 105), t0);
        let due = i.next_deadline().unwrap();
        i.on_timer(due);
        let later = due + secs(20);
        let out = i.receive_hello(HIGH, &hello_from(Some(1), 2, 105), later);
        assert_eq!(out, vec![Action::NeighborUp(HIGH)]);
        let n = i.neighbor(HIGH).unwrap();
        assert_eq!((n.generation_id, n.since), (Some(2), later));
        let d = i.next_deadline().unwrap();
        assert!(d >= later && d < later + TRIGGERED_HELLO_DELAY);
        assert_eq!(sent_hellos(&i.on_timer(d)).len(), 1);
    }

    #[test]
    fn goodbye_and_own_hellos() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        // Our own Hello looped back is not a neighbor.
        assert!(i.receive_hello(ME, &i.hello(), t0).is_empty());
        // A goodbye from an unknown router is nothing.
        assert!(i
            .receive_hello(HIGH, &hello_from(Some(1), 1, 0), t0)
            .is_empty());
        i.receive_hello(HIGH, &hello_from(Some(1), 1, 105), t0);
        let out = i.receive_hello(HIGH, &hello_from(Some(1), 1, 0), t0 + secs(1));
        assert_eq!(
            out,
            vec![
                Action::NeighborDown(HIGH),
                Action::DrChange {
                    dr: ME,
                    is_dr: true
                }
            ]
        );
    }

    #[test]
    fn ignore_dr_makes_oifs_as_dr_while_not_elected() {
        let t0 = Instant::now();
        let cfg = Config {
            ignore_dr: true,
            ..Config::default()
        };
        let mut i = started(cfg, t0);
        i.receive_hello(HIGH, &hello_from(Some(1), 1, 105), t0);
        assert!(!i.is_dr());
        assert_eq!(i.dr(), HIGH);
        assert!(i.i_am_dr_for_oifs());
        // Without the knob, a non-DR has no oifs.
        let out = i.reconfigure(Config::default(), t0 + secs(1));
        assert!(out.is_empty());
        assert!(!i.i_am_dr_for_oifs());
    }

    #[test]
    fn reconfigure_unchanged_does_nothing_interval_change_sends_hello() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        assert!(i.reconfigure(Config::default(), t0).is_empty());
        let cfg = Config {
            hello_interval: secs(10),
            ..Config::default()
        };
        let out = i.reconfigure(cfg, t0 + secs(2));
        assert_eq!(sent_hellos(&out)[0].holdtime, Some(35));
        assert_eq!(i.next_deadline(), Some(t0 + secs(12)));
    }

    #[test]
    fn shutdown_says_goodbye() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        i.receive_hello(HIGH, &hello_from(Some(1), 1, 105), t0);
        let out = i.shutdown();
        assert_eq!(sent_hellos(&out)[0].holdtime, Some(0));
        assert!(out.contains(&Action::NeighborDown(HIGH)));
        assert_eq!(i.next_deadline(), None);
        assert!(i.shutdown().is_empty());
        assert!(i
            .receive_hello(HIGH, &hello_from(Some(1), 1, 105), t0)
            .is_empty());
        assert!(i.on_timer(t0 + secs(1000)).is_empty());
    }

    #[test]
    fn secondary_addresses_identify_the_neighbor() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        let secondary = Ipv4Addr::new(172, 16, 0, 2);
        let mut h = hello_from(Some(1), 1, 105);
        h.secondary_addresses = vec![secondary];
        i.receive_hello(HIGH, &h, t0);
        assert!(i.rpf_neighbor_known(HIGH));
        assert!(i.rpf_neighbor_known(secondary));
        assert_eq!(i.neighbor_primary(secondary), Some(HIGH));
        assert!(!i.rpf_neighbor_known(LOW));
    }

    #[test]
    fn two_routers_agree_through_the_codec() {
        let t0 = Instant::now();
        let mut a = Interface::new(Config::default(), ME, t0, 1);
        let cfg_b = Config {
            dr_priority: 5,
            ..Config::default()
        };
        let mut b = Interface::new(cfg_b, LOW, t0, 2);
        let mut now = t0;
        while a.neighbors().count() + b.neighbors().count() < 2 {
            now = a.next_deadline().unwrap().min(b.next_deadline().unwrap());
            for (from, to, src) in [(0, 1, ME), (1, 0, LOW)] {
                let out = if from == 0 {
                    a.on_timer(now)
                } else {
                    b.on_timer(now)
                };
                for h in sent_hellos(&out) {
                    let bytes = Message::Hello(h).encode();
                    let Ok(Message::Hello(h)) = Message::decode(&bytes) else {
                        panic!("bad hello");
                    };
                    if to == 0 {
                        a.receive_hello(src, &h, now);
                    } else {
                        b.receive_hello(src, &h, now);
                    }
                }
            }
        }
        assert!(now < t0 + TRIGGERED_HELLO_DELAY * 2);
        assert_eq!((a.dr(), b.dr()), (LOW, LOW));
        assert!(b.is_dr() && !a.is_dr());
        assert_eq!(a.neighbor(LOW).unwrap().dr_priority, Some(5));
        assert_eq!(b.neighbor(ME).unwrap().generation_id, Some(1));
    }

    // ---- asserts -----------------------------------------------------------

    #[test]
    fn ignore_assert_never_sends_or_acts() {
        let t0 = Instant::now();
        let cfg = Config {
            ignore_assert: true,
            ..Config::default()
        };
        let mut i = started(cfg, t0);
        let a = assert_from(metric(1, 1));
        assert!(i
            .receive_assert(HIGH, &a, claim(Some(metric(110, 10)), false), t0)
            .is_empty());
        let weak = assert_from(metric(250, 1000));
        assert!(i
            .receive_assert(LOW, &weak, claim(Some(metric(110, 10)), false), t0)
            .is_empty());
        assert!(i
            .data_on_outgoing(Some(SRC), GROUP, metric(110, 10), t0)
            .is_empty());
        assert!(!i.lost_assert(Some(SRC), GROUP));
        assert_eq!(i.assert_state(Some(SRC), GROUP), AssertState::NoInfo);
    }

    #[test]
    fn inferior_assert_makes_us_winner_and_we_refresh() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        let mine = metric(110, 10);
        let out = i.receive_assert(
            HIGH,
            &assert_from(metric(120, 1)),
            claim(Some(mine), false),
            t0,
        );
        assert!(out.contains(&Action::AssertWon {
            source: Some(SRC),
            group: GROUP
        }));
        let sent = sent_asserts(&out);
        assert_eq!(sent.len(), 1);
        assert_eq!(
            (
                sent[0].source,
                sent[0].rpt,
                sent[0].metric_preference,
                sent[0].metric
            ),
            (SRC, false, 110, 10)
        );
        assert_eq!(i.assert_state(Some(SRC), GROUP), AssertState::Winner);
        // Re-asserts at Assert_Time - Assert_Override_Interval.
        let refresh = t0 + secs(177);
        while let Some(d) = i.next_deadline().filter(|d| *d < refresh) {
            assert!(sent_asserts(&i.on_timer(d)).is_empty());
        }
        assert_eq!(sent_asserts(&i.on_timer(refresh)).len(), 1);
        // Another inferior Assert: answered, still winner, no new AssertWon.
        let out = i.receive_assert(
            LOW,
            &assert_from(metric(110, 10)),
            claim(Some(mine), false),
            refresh,
        );
        assert_eq!(sent_asserts(&out).len(), 1);
        assert!(!out.iter().any(|a| matches!(a, Action::AssertWon { .. })));
    }

    #[test]
    fn preferred_assert_makes_us_loser_until_assert_time() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        let mine = metric(110, 10);
        i.data_on_outgoing(Some(SRC), GROUP, mine, t0);
        assert_eq!(i.assert_state(Some(SRC), GROUP), AssertState::Winner);
        let out = i.receive_assert(
            LOW,
            &assert_from(metric(20, 50)),
            claim(Some(mine), false),
            t0,
        );
        assert_eq!(
            out,
            vec![Action::AssertLost {
                source: Some(SRC),
                group: GROUP,
                winner: LOW
            }]
        );
        assert!(i.lost_assert(Some(SRC), GROUP));
        // The winner's refresh keeps us loser quietly.
        let t1 = t0 + secs(100);
        assert!(i
            .receive_assert(
                LOW,
                &assert_from(metric(20, 50)),
                claim(Some(mine), false),
                t1
            )
            .is_empty());
        let expiry = t1 + ASSERT_TIME;
        while let Some(d) = i.next_deadline().filter(|d| *d < expiry) {
            i.on_timer(d);
        }
        assert_eq!(
            i.on_timer(expiry),
            vec![Action::AssertCleared {
                source: Some(SRC),
                group: GROUP
            }]
        );
        assert!(!i.lost_assert(Some(SRC), GROUP));
    }

    #[test]
    fn equal_metrics_highest_address_wins() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        let mine = metric(110, 10);
        let out = i.receive_assert(LOW, &assert_from(mine), claim(Some(mine), false), t0);
        assert!(out.iter().any(|a| matches!(a, Action::AssertWon { .. })));
        let out = i.receive_assert(HIGH, &assert_from(mine), claim(Some(mine), false), t0);
        assert!(out.contains(&Action::AssertLost {
            source: Some(SRC),
            group: GROUP,
            winner: HIGH
        }));
        // An SPT metric beats any RPT metric.
        let mut rpt = metric(1, 1);
        rpt.rpt = true;
        let star = Assert {
            source: Ipv4Addr::UNSPECIFIED,
            ..assert_from(rpt)
        };
        let out = i.receive_assert(
            HIGH,
            &star,
            claim(Some(RouteMetric { rpt: true, ..mine }), false),
            t0,
        );
        assert!(out.contains(&Action::AssertLost {
            source: None,
            group: GROUP,
            winner: HIGH
        }));
        assert!(better(mine, LOW, rpt, HIGH));
    }

    /// RFC 7761 §4.6.1, (S,G) machine in Winner: an inferior Assert with the RPT bit set for
    /// the same source is answered with our Assert(S,G) (timer re-armed).
    #[test]
    fn spt_winner_answers_an_rpt_assert_for_its_source() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        let mine = metric(110, 10);
        i.data_on_outgoing(Some(SRC), GROUP, mine, t0);
        assert_eq!(i.assert_state(Some(SRC), GROUP), AssertState::Winner);
        // HIGH forwards the source down the RP tree (better preference, but RPT).
        let rpt = Assert {
            rpt: true,
            ..assert_from(metric(1, 1))
        };
        let t1 = t0 + secs(100);
        let out = i.receive_assert(HIGH, &rpt, claim(None, false), t1);
        let sent = sent_asserts(&out);
        assert_eq!(sent.len(), 1, "{out:?}");
        assert!(!sent[0].rpt);
        assert_eq!((sent[0].source, sent[0].metric_preference), (SRC, 110));
        assert_eq!(i.assert_state(Some(SRC), GROUP), AssertState::Winner);
        // An R-bit Assert without a source, or for another source, does not concern it.
        let other = Assert {
            source: Ipv4Addr::new(10, 7, 7, 7),
            ..rpt
        };
        assert!(sent_asserts(&i.receive_assert(HIGH, &other, claim(None, false), t1)).is_empty());
        let wildcard = Assert {
            source: Ipv4Addr::UNSPECIFIED,
            ..rpt
        };
        assert!(
            sent_asserts(&i.receive_assert(HIGH, &wildcard, claim(None, false), t1)).is_empty()
        );
        // The re-assert timer restarted: nothing due at the old time, our Assert at the new.
        let period = ASSERT_TIME - ASSERT_OVERRIDE_INTERVAL;
        assert!(sent_asserts(&i.on_timer(t0 + period)).is_empty());
        assert_eq!(sent_asserts(&i.on_timer(t1 + period)).len(), 1);
    }

    /// RFC 7761 §4.6.1, (S,G) machine in NoInfo: "Receive Assert with RPTbit set and
    /// CouldAssert(S,G,I)": we forward S onto the LAN on the shortest-path tree, another
    /// router forwards it there down the RP tree (with a better preference, which the RPT bit
    /// outweighs). We send Assert(S,G), become the (S,G) Winner, and the (*,G) machine does
    /// not also take the Assert (our (*,G) claim, worse than theirs, would have lost).
    #[test]
    fn an_rpt_assert_for_a_source_we_forward_on_the_spt_makes_us_the_sg_winner() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        let spt = metric(110, 10);
        let rpt = Assert {
            rpt: true,
            ..assert_from(metric(1, 1))
        };
        let ours_toward_rp = RouteMetric {
            rpt: true,
            ..metric(120, 20)
        };
        let c = Claim {
            mine: Some(ours_toward_rp),
            track: false,
            spt: Some(spt),
        };
        let out = i.receive_assert(HIGH, &rpt, c, t0);
        let sent = sent_asserts(&out);
        assert_eq!(sent.len(), 1, "{out:?}");
        assert!(!sent[0].rpt);
        assert_eq!(
            (sent[0].source, sent[0].metric_preference, sent[0].metric),
            (SRC, 110, 10)
        );
        assert!(out.contains(&Action::AssertWon {
            source: Some(SRC),
            group: GROUP
        }));
        assert_eq!(i.assert_state(Some(SRC), GROUP), AssertState::Winner);
        assert_eq!(i.assert_state(None, GROUP), AssertState::NoInfo);
        // Re-asserted before Assert_Time runs out, like any Winner.
        let period = ASSERT_TIME - ASSERT_OVERRIDE_INTERVAL;
        assert_eq!(sent_asserts(&i.on_timer(t0 + period)).len(), 1);
    }

    /// Without CouldAssert(S,G,I) (the source is not forwarded onto the LAN on the SPT) an
    /// R-bit Assert is the (*,G) machine's: a preferred one makes us the (*,G) loser.
    #[test]
    fn an_rpt_assert_without_an_spt_claim_goes_to_the_star_g_machine() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        let rpt = Assert {
            rpt: true,
            ..assert_from(metric(1, 1))
        };
        let ours_toward_rp = RouteMetric {
            rpt: true,
            ..metric(120, 20)
        };
        let out = i.receive_assert(HIGH, &rpt, claim(Some(ours_toward_rp), false), t0);
        assert!(sent_asserts(&out).is_empty());
        assert_eq!(i.assert_state(Some(SRC), GROUP), AssertState::NoInfo);
        assert_eq!(
            i.assert_state(None, GROUP),
            AssertState::Loser { winner: HIGH }
        );
    }

    /// (S,G) machine in Loser: the current winner now asserts only the RP tree for the source,
    /// which is inferior to the SPT claim it won with, so the loss is forgotten (§4.6.1).
    #[test]
    fn an_sg_loser_forgets_when_the_winner_falls_back_to_the_rp_tree() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        i.receive_assert(
            HIGH,
            &assert_from(metric(1, 1)),
            claim(Some(metric(110, 10)), false),
            t0,
        );
        assert_eq!(
            i.assert_state(Some(SRC), GROUP),
            AssertState::Loser { winner: HIGH }
        );
        let rpt = Assert {
            rpt: true,
            ..assert_from(metric(1, 1))
        };
        let out = i.receive_assert(HIGH, &rpt, claim(None, false), t0 + secs(1));
        assert!(out.contains(&Action::AssertCleared {
            source: Some(SRC),
            group: GROUP
        }));
        assert_eq!(i.assert_state(Some(SRC), GROUP), AssertState::NoInfo);
    }

    #[test]
    fn loser_forgets_on_cancel_or_winner_loss() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        let mine = metric(110, 10);
        let strong = assert_from(metric(1, 1));
        i.receive_hello(HIGH, &hello_from(Some(1), 1, 105), t0);
        i.receive_assert(HIGH, &strong, claim(Some(mine), false), t0);
        assert!(i.lost_assert(Some(SRC), GROUP));
        // AssertCancel from the winner.
        let cancel = Assert {
            rpt: true,
            metric_preference: 0x7fff_ffff,
            metric: u32::MAX,
            ..strong
        };
        let out = i.receive_assert(
            HIGH,
            &Assert {
                rpt: false,
                ..cancel
            },
            claim(Some(mine), false),
            t0,
        );
        assert_eq!(
            out,
            vec![Action::AssertCleared {
                source: Some(SRC),
                group: GROUP
            }]
        );
        // Lost again; the winner restarts (new GenID).
        i.receive_assert(HIGH, &strong, claim(Some(mine), false), t0);
        let out = i.receive_hello(HIGH, &hello_from(Some(1), 2, 105), t0 + secs(1));
        assert!(out.contains(&Action::AssertCleared {
            source: Some(SRC),
            group: GROUP
        }));
        // Lost again; the winner says goodbye.
        i.receive_assert(HIGH, &strong, claim(Some(mine), false), t0);
        let out = i.receive_hello(HIGH, &hello_from(Some(1), 2, 0), t0 + secs(2));
        assert!(out.contains(&Action::AssertCleared {
            source: Some(SRC),
            group: GROUP
        }));
        assert!(!i.lost_assert(Some(SRC), GROUP));
    }

    #[test]
    fn winner_cancels_when_it_stops_forwarding() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        i.data_on_outgoing(
            None,
            GROUP,
            RouteMetric {
                rpt: true,
                ..metric(110, 10)
            },
            t0,
        );
        let out = i.could_assert_false(None, GROUP);
        let sent = sent_asserts(&out);
        assert_eq!(sent.len(), 1);
        assert!(sent[0].is_cancel() && sent[0].rpt);
        assert_eq!(sent[0].source, Ipv4Addr::UNSPECIFIED);
        assert!(out.contains(&Action::AssertCleared {
            source: None,
            group: GROUP
        }));
        assert!(i.could_assert_false(None, GROUP).is_empty());
    }

    #[test]
    fn turning_ignore_assert_on_drops_state() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        i.receive_assert(
            HIGH,
            &assert_from(metric(1, 1)),
            claim(Some(metric(110, 10)), false),
            t0,
        );
        assert!(i.lost_assert(Some(SRC), GROUP));
        let cfg = Config {
            ignore_assert: true,
            ..Config::default()
        };
        let out = i.reconfigure(cfg, t0);
        assert_eq!(
            out,
            vec![Action::AssertCleared {
                source: Some(SRC),
                group: GROUP
            }]
        );
        assert!(!i.lost_assert(Some(SRC), GROUP));
    }

    #[test]
    fn no_loser_state_without_could_assert() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        assert!(i
            .receive_assert(HIGH, &assert_from(metric(1, 1)), claim(None, false), t0)
            .is_empty());
        assert_eq!(i.assert_state(Some(SRC), GROUP), AssertState::NoInfo);
    }

    /// Downstream of an Assert on the RPF interface (AssertTrackingDesired): the winner is kept
    /// as a loser's state (our Joins go to it, RPF'), until it cancels or another wins.
    #[test]
    fn asserts_on_the_rpf_interface_are_tracked_when_we_join() {
        let t0 = Instant::now();
        let mut i = started(Config::default(), t0);
        let out = i.receive_assert(LOW, &assert_from(metric(110, 10)), claim(None, true), t0);
        assert_eq!(
            i.assert_state(Some(SRC), GROUP),
            AssertState::Loser { winner: LOW }
        );
        assert!(sent_asserts(&out).is_empty(), "a tracker never asserts");
        // A better Assert from another router moves the winner; an inferior one does not.
        i.receive_assert(HIGH, &assert_from(metric(100, 10)), claim(None, true), t0);
        assert_eq!(
            i.assert_state(Some(SRC), GROUP),
            AssertState::Loser { winner: HIGH }
        );
        i.receive_assert(LOW, &assert_from(metric(120, 10)), claim(None, true), t0);
        assert_eq!(
            i.assert_state(Some(SRC), GROUP),
            AssertState::Loser { winner: HIGH }
        );
        // The winner's AssertCancel ends it.
        let cancel = Assert {
            rpt: false,
            ..assert_from(RouteMetric::INFINITE)
        };
        assert!(cancel.is_cancel());
        i.receive_assert(HIGH, &cancel, claim(None, true), t0);
        assert_eq!(i.assert_state(Some(SRC), GROUP), AssertState::NoInfo);
    }

    #[test]
    fn an_address_learned_late_reruns_the_dr_election() {
        let t0 = Instant::now();
        let mut i = Interface::new(Config::default(), Ipv4Addr::UNSPECIFIED, t0, 7);
        let h = Hello {
            holdtime: Some(105),
            dr_priority: Some(1),
            generation_id: Some(9),
            ..Hello::default()
        };
        i.receive_hello(Ipv4Addr::new(192, 168, 1, 1), &h, t0);
        assert_eq!(i.dr(), Ipv4Addr::new(192, 168, 1, 1));
        let out = i.set_local(Ipv4Addr::new(192, 168, 1, 2));
        assert!(i.is_dr());
        assert!(out.contains(&Action::DrChange {
            dr: Ipv4Addr::new(192, 168, 1, 2),
            is_dr: true
        }));
        assert!(i.set_local(Ipv4Addr::new(192, 168, 1, 2)).is_empty());
    }
}
