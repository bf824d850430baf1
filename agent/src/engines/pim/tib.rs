//! Upstream join state of one router (the upstream half of the tree
//! information base): RFC 7761 §4.5.5 for (*,G) and §4.5.6 for (S,G),
//! simplified.
//!
//! Per route the caller states JoinDesired (it knows the local receivers
//! from IGMP and the outgoing interfaces) and the RPF neighbor with its
//! interface (it knows the unicast routes and the PIM neighbors). A route is
//! Joined when it is desired and has somewhere to send the Join: an RPF
//! neighbor, and for (*,G) an RP. Then:
//! * becoming Joined sends a Join at once and arms the Join Timer for
//!   [`T_PERIODIC`]; every expiry sends the Join again;
//! * leaving Joined sends a Prune to where the Join went;
//! * a change of RPF neighbor (or upstream interface, or RP for (*,G))
//!   while Joined sends a Join to the new one, then a Prune to the old one;
//!   RP(G) is the static RP unless [`Tib::set_group_rp`] gave the group its
//!   own (from the BSR's group-to-RP mapping);
//! * a restart of the upstream neighbor ([`Tib::neighbor_restarted`], on
//!   its Generation ID change) or a Prune for the route seen on the
//!   upstream LAN ([`Tib::observe_join_prune`], prune override) brings the
//!   Join Timer forward to a random t_override in 0..[`T_OVERRIDE_MAX`];
//! * another router's Join for the route to the same neighbor (Join suppression) holds ours
//!   back to t_joinsuppress: a random 1.1-1.4 [`T_PERIODIC`], at most that Join's holdtime.
//!   Suppression is always enabled: our Hellos do not offer join tracking (no T bit), which
//!   disables it only when every router on the LAN offers it (§4.3.3).
//!
//! Joins and Prunes carry holdtime [`JP_HOLDTIME`]. Joins that fall due
//! together are batched per (interface, neighbor) into as few messages as
//! fit in [`MAX_JP_LEN`] bytes. All messages go to ALL-PIM-ROUTERS with the
//! upstream neighbor field set to the RPF neighbor.
//!
//! The caller decides JoinDesired (with the SPT switchover) and RPF' (the Assert winner when
//! there is one); (S,G,rpt) prunes upstream are not sent. Downstream state (Joins received
//! from other routers) is [`super::downstream`]. The caller must feed only other routers'
//! messages to [`Tib::observe_join_prune`].

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::packet::{pack_join_prune, EncodedSource, JoinPrune, Message};

/// t_periodic: the period of Joins (RFC 7761 §4.11).
pub const T_PERIODIC: Duration = Duration::from_secs(60);
/// J/P_HoldTime: 3.5 x t_periodic (§4.11).
pub const JP_HOLDTIME: u16 = 210;
/// Upper bound of t_override, the delay of a Join after the upstream
/// neighbor restarted or another router's Prune was seen (the default
/// Effective_Override_Interval, §4.11).
pub const T_OVERRIDE_MAX: Duration = Duration::from_millis(2500);
/// Largest Join/Prune message built (PIM header included), leaving room
/// for the IPv4 header within a 1500-byte MTU.
pub const MAX_JP_LEN: usize = 1400;

/// What the I/O layer must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TibAction {
    /// Send this Join/Prune out of `upstream_if` to ALL-PIM-ROUTERS (its
    /// upstream neighbor field names the RPF neighbor).
    Send { upstream_if: u32, msg: Message },
}

/// Upstream state of a route (§4.5.7, §4.5.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpstreamState {
    NotJoined,
    Joined,
}

/// Where a route's Join goes and what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Target {
    upstream_if: u32,
    neighbor: Ipv4Addr,
    /// The RP with S, W, R for (*,G); the source with S for (S,G).
    address: EncodedSource,
}

/// The upstream state of one (*,G) or (S,G) route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    source: Option<Ipv4Addr>,
    group: Ipv4Addr,
    join_desired: bool,
    rpf_neighbor: Option<Ipv4Addr>,
    upstream_if: u32,
    joined: Option<Target>,
    join_timer: Option<Instant>,
}

impl Entry {
    /// The source; `None` for (*,G).
    pub fn source(&self) -> Option<Ipv4Addr> {
        self.source
    }

    pub fn group(&self) -> Ipv4Addr {
        self.group
    }

    /// JoinDesired as last given by the caller.
    pub fn join_desired(&self) -> bool {
        self.join_desired
    }

    /// The RPF neighbor as last given by the caller.
    pub fn rpf_neighbor(&self) -> Option<Ipv4Addr> {
        self.rpf_neighbor
    }

    /// The upstream (RPF) interface as last given by the caller.
    pub fn upstream_if(&self) -> u32 {
        self.upstream_if
    }

    pub fn state(&self) -> UpstreamState {
        if self.joined.is_some() {
            UpstreamState::Joined
        } else {
            UpstreamState::NotJoined
        }
    }

    pub fn joined(&self) -> bool {
        self.joined.is_some()
    }

    /// The neighbor our Join is in effect at (the upstream neighbor of the
    /// operational route), when Joined.
    pub fn upstream_neighbor(&self) -> Option<Ipv4Addr> {
        self.joined.map(|t| t.neighbor)
    }

    /// When the next periodic Join goes out, when Joined.
    pub fn join_timer(&self) -> Option<Instant> {
        self.join_timer
    }
}

/// Key order: by group, (*,G) before its (S,G)s.
type Key = (Ipv4Addr, Option<Ipv4Addr>);

/// Messages to build: (interface, neighbor) -> group -> sources.
type Batch = BTreeMap<(u32, Ipv4Addr), BTreeMap<Ipv4Addr, Vec<EncodedSource>>>;

/// The upstream join state of one router.
#[derive(Debug, Clone)]
pub struct Tib {
    rp: Option<Ipv4Addr>,
    /// RP(G) for groups whose RP is not the static one (from the BSR's RP set).
    group_rps: BTreeMap<Ipv4Addr, Ipv4Addr>,
    entries: BTreeMap<Key, Entry>,
    rng: crate::engines::rng::Rng,
}

impl Tib {
    /// An empty table using `rp` as the RP of every group; `seed` (any
    /// value) drives the t_override jitter.
    pub fn new(rp: Option<Ipv4Addr>, seed: u64) -> Tib {
        Tib {
            rp,
            group_rps: BTreeMap::new(),
            entries: BTreeMap::new(),
            rng: crate::engines::rng::Rng::new(seed | 1),
        }
    }

    /// The static RP.
    pub fn rp(&self) -> Option<Ipv4Addr> {
        self.rp
    }

    /// RP(G) as the (*,G) Join names it: the one set for the group with
    /// [`Tib::set_group_rp`], else the static RP.
    pub fn group_rp(&self, group: Ipv4Addr) -> Option<Ipv4Addr> {
        self.group_rps.get(&group).copied().or(self.rp)
    }

    /// Records RP(G) for one group (`None`: the static RP) without sending anything: for a
    /// caller that passes the (*,G) route's RPF neighbor toward the new RP right after with
    /// [`Tib::set_join_desired`] (or ends the route), which then sends one Join naming the new
    /// RP to the new neighbor and one Prune naming the old RP to the old one.
    pub fn assign_group_rp(&mut self, group: Ipv4Addr, rp: Option<Ipv4Addr>) {
        match rp {
            Some(rp) => self.group_rps.insert(group, rp),
            None => self.group_rps.remove(&group),
        };
    }

    /// The groups given their own RP with [`Tib::set_group_rp`] or [`Tib::assign_group_rp`].
    pub fn groups_with_own_rp(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.group_rps.keys().copied()
    }

    /// Routes in (group, source) order, (*,G) first.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// One route.
    pub fn entry(&self, source: Option<Ipv4Addr>, group: Ipv4Addr) -> Option<&Entry> {
        self.entries.get(&(group, source))
    }

    /// The earliest instant at which [`Tib::on_timer`] has work to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.entries.values().filter_map(|e| e.join_timer).min()
    }

    /// Sets JoinDesired and the RPF neighbor of a route (`source` `None` =
    /// (*,G), whose Join goes toward the RP). Sends what the change calls
    /// for (nothing when nothing changed). A route neither desired nor
    /// joined is forgotten.
    pub fn set_join_desired(
        &mut self,
        source: Option<Ipv4Addr>,
        group: Ipv4Addr,
        desired: bool,
        rpf_neighbor: Option<Ipv4Addr>,
        upstream_if: u32,
        now: Instant,
    ) -> Vec<TibAction> {
        let key = (group, source);
        if !desired && !self.entries.contains_key(&key) {
            return Vec::new();
        }
        let e = self.entries.entry(key).or_insert_with(|| Entry {
            source,
            group,
            join_desired: false,
            rpf_neighbor: None,
            upstream_if,
            joined: None,
            join_timer: None,
        });
        e.join_desired = desired;
        e.rpf_neighbor = rpf_neighbor;
        e.upstream_if = upstream_if;
        let mut joins = Batch::new();
        let mut prunes = Batch::new();
        let rp = self.group_rps.get(&group).copied().or(self.rp);
        reconcile(e, rp, now, &mut joins, &mut prunes);
        if !desired {
            self.entries.remove(&key);
        }
        pack_all(joins, prunes)
    }

    /// Changes the RP. Every joined (*,G) route sends a Join with the new
    /// RP address and a Prune with the old one (to its current RPF
    /// neighbor); with no RP they are pruned. The caller then passes the
    /// (*,G) routes' new RPF neighbors with [`Tib::set_join_desired`].
    pub fn set_rp(&mut self, rp: Option<Ipv4Addr>, now: Instant) -> Vec<TibAction> {
        if rp == self.rp {
            return Vec::new();
        }
        self.rp = rp;
        let mut joins = Batch::new();
        let mut prunes = Batch::new();
        let own_rp = &self.group_rps;
        for e in self
            .entries
            .values_mut()
            .filter(|e| e.source.is_none() && !own_rp.contains_key(&e.group))
        {
            reconcile(e, rp, now, &mut joins, &mut prunes);
        }
        pack_all(joins, prunes)
    }

    /// Sets RP(G) for one group (from the BSR's group-to-RP mapping); `None` returns the
    /// group to the static RP. A joined (*,G) route sends a Join naming the new RP and a
    /// Prune naming the old one, as [`Tib::set_rp`] does for all groups (RP failover); the
    /// caller then passes its RPF neighbor toward the new RP with [`Tib::set_join_desired`].
    pub fn set_group_rp(
        &mut self,
        group: Ipv4Addr,
        rp: Option<Ipv4Addr>,
        now: Instant,
    ) -> Vec<TibAction> {
        let before = self.group_rp(group);
        self.assign_group_rp(group, rp);
        let after = self.group_rp(group);
        let mut joins = Batch::new();
        let mut prunes = Batch::new();
        if before != after {
            if let Some(e) = self.entries.get_mut(&(group, None)) {
                reconcile(e, after, now, &mut joins, &mut prunes);
            }
        }
        pack_all(joins, prunes)
    }

    /// The upstream neighbor `neighbor` restarted (its Generation ID
    /// changed, or it reappeared): every route joined to it re-sends its
    /// Join within t_override (§4.5.5 "GenID change"). The Joins go out from
    /// [`Tib::on_timer`]; this returns nothing today.
    pub fn neighbor_restarted(&mut self, neighbor: Ipv4Addr, now: Instant) -> Vec<TibAction> {
        let keys: Vec<Key> = self
            .entries
            .iter()
            .filter(|(_, e)| e.joined.is_some_and(|t| t.neighbor == neighbor))
            .map(|(k, _)| *k)
            .collect();
        for k in keys {
            self.decrease_join_timer(k, now);
        }
        Vec::new()
    }

    /// A Join/Prune from another router seen on `upstream_if`, to our RPF neighbor there for
    /// one of our joined routes. A Prune is overridden: our Join goes out within t_override
    /// (§4.5.5, §4.5.7: Prune(*,G) for (*,G); Prune(S,G), Prune(S,G,rpt) or Prune(*,G) for
    /// (S,G)). A Join of the same route suppresses ours until t_joinsuppress (the Join
    /// Timer only moves later). Returns nothing today; the Joins go out from
    /// [`Tib::on_timer`].
    pub fn observe_join_prune(
        &mut self,
        upstream_if: u32,
        jp: &JoinPrune,
        now: Instant,
    ) -> Vec<TibAction> {
        let mut keys = Vec::new();
        let mut suppressed = Vec::new();
        for g in jp.groups.iter().filter(|g| g.group.mask_len == 32) {
            let group = g.group.address;
            let rp = self.group_rp(group);
            for (key, e) in self
                .entries
                .range((group, None)..=(group, Some(Ipv4Addr::BROADCAST)))
            {
                let Some(t) = e.joined else { continue };
                if t.upstream_if != upstream_if || t.neighbor != jp.upstream_neighbor {
                    continue;
                }
                let overridden = g.prunes.iter().any(|p| match e.source {
                    None => p.wildcard,
                    Some(s) => p.wildcard || p.address == s,
                });
                if overridden {
                    keys.push(*key);
                } else if g.joins.iter().any(|j| match e.source {
                    None => j.wildcard && j.rpt && Some(j.address) == rp,
                    Some(s) => !j.wildcard && !j.rpt && j.address == s,
                }) {
                    suppressed.push(*key);
                }
            }
        }
        for k in suppressed {
            self.increase_join_timer(k, jp.holdtime, now);
        }
        for k in keys {
            self.decrease_join_timer(k, now);
        }
        Vec::new()
    }

    /// Sends the Joins whose timer has expired, batched, and re-arms them.
    pub fn on_timer(&mut self, now: Instant) -> Vec<TibAction> {
        let mut joins = Batch::new();
        for e in self.entries.values_mut() {
            let (Some(t), Some(at)) = (e.joined, e.join_timer) else {
                continue;
            };
            if at <= now {
                add(&mut joins, &t, e.group);
                e.join_timer = Some(now + T_PERIODIC);
            }
        }
        pack(joins, true)
    }

    /// PIM stops: every joined route is pruned and the table emptied.
    pub fn shutdown(&mut self) -> Vec<TibAction> {
        let mut prunes = Batch::new();
        for e in std::mem::take(&mut self.entries).into_values() {
            if let Some(t) = e.joined {
                add(&mut prunes, &t, e.group);
            }
        }
        pack(prunes, false)
    }

    /// Join suppression: the Join Timer to at least t_joinsuppress from now (a random
    /// 1.1-1.4 t_periodic, at most the seen Join's holdtime in seconds).
    fn increase_join_timer(&mut self, key: Key, holdtime: u16, now: Instant) {
        let t = T_PERIODIC * 11 / 10 + self.rng.below(T_PERIODIC * 3 / 10);
        let at = now + t.min(Duration::from_secs(u64::from(holdtime)));
        if let Some(e) = self.entries.get_mut(&key) {
            e.join_timer = e.join_timer.map(|t| t.max(at));
        }
    }

    fn decrease_join_timer(&mut self, key: Key, now: Instant) {
        let at = now + self.rng.below(T_OVERRIDE_MAX);
        if let Some(e) = self.entries.get_mut(&key) {
            e.join_timer = e.join_timer.map(|t| t.min(at));
        }
    }
}

/// Where the route's Join should be in effect now.
fn target(e: &Entry, rp: Option<Ipv4Addr>) -> Option<Target> {
    if !e.join_desired {
        return None;
    }
    let neighbor = e.rpf_neighbor?;
    let address = match e.source {
        Some(s) => EncodedSource::source(s),
        None => EncodedSource::wildcard_rp(rp?),
    };
    Some(Target {
        upstream_if: e.upstream_if,
        neighbor,
        address,
    })
}

/// Moves the route to where its Join should be: Join to the new target,
/// Prune to the old one.
fn reconcile(
    e: &mut Entry,
    rp: Option<Ipv4Addr>,
    now: Instant,
    joins: &mut Batch,
    prunes: &mut Batch,
) {
    let new = target(e, rp);
    if new == e.joined {
        return;
    }
    if let Some(t) = &new {
        add(joins, t, e.group);
    }
    if let Some(t) = &e.joined {
        add(prunes, t, e.group);
    }
    e.joined = new;
    e.join_timer = new.map(|_| now + T_PERIODIC);
}

fn add(batch: &mut Batch, t: &Target, group: Ipv4Addr) {
    batch
        .entry((t.upstream_if, t.neighbor))
        .or_default()
        .entry(group)
        .or_default()
        .push(t.address);
}

/// Joins first, then Prunes (make before break).
fn pack_all(joins: Batch, prunes: Batch) -> Vec<TibAction> {
    let mut out = pack(joins, true);
    out.extend(pack(prunes, false));
    out
}

/// Builds Join (or Prune) messages from a batch, splitting at
/// [`MAX_JP_LEN`] bytes and 255 group records per message.
fn pack(batch: Batch, join: bool) -> Vec<TibAction> {
    let mut out = Vec::new();
    for ((upstream_if, neighbor), groups) in batch {
        let entries = groups
            .into_iter()
            .flat_map(|(g, sources)| sources.into_iter().map(move |s| (g, s)));
        for jp in pack_join_prune(neighbor, JP_HOLDTIME, entries, join, MAX_JP_LEN) {
            out.push(send(upstream_if, jp));
        }
    }
    out
}

fn send(upstream_if: u32, jp: JoinPrune) -> TibAction {
    TibAction::Send {
        upstream_if,
        msg: Message::JoinPrune(jp),
    }
}

#[cfg(test)]
mod tests {
    use super::super::packet::{EncodedGroup, JpGroup};
    use super::*;

    const RP: Ipv4Addr = Ipv4Addr::new(10, 9, 9, 9);
    const RP2: Ipv4Addr = Ipv4Addr::new(10, 9, 9, 10);
    const UP1: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 2);
    const UP2: Ipv4Addr = Ipv4Addr::new(10, 1, 1, 2);
    const G1: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 1);
    const G2: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 2);
    const SRC: Ipv4Addr = Ipv4Addr::new(10, 2, 2, 2);
    const IF1: u32 = 3;
    const IF2: u32 = 4;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// (interface, message) pairs.
    fn msgs(actions: &[TibAction]) -> Vec<(u32, JoinPrune)> {
        actions
            .iter()
            .map(|a| match a {
                TibAction::Send {
                    upstream_if,
                    msg: Message::JoinPrune(jp),
                } => (*upstream_if, jp.clone()),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    fn jp(
        neighbor: Ipv4Addr,
        group: Ipv4Addr,
        joins: &[EncodedSource],
        prunes: &[EncodedSource],
    ) -> JoinPrune {
        JoinPrune {
            upstream_neighbor: neighbor,
            holdtime: 210,
            groups: vec![JpGroup {
                group: EncodedGroup::host(group),
                joins: joins.to_vec(),
                prunes: prunes.to_vec(),
            }],
        }
    }

    fn wc() -> EncodedSource {
        EncodedSource::wildcard_rp(RP)
    }

    #[test]
    fn star_g_join_then_periodic_then_prune() {
        let t0 = Instant::now();
        let mut tib = Tib::new(Some(RP), 1);
        let out = tib.set_join_desired(None, G1, true, Some(UP1), IF1, t0);
        assert_eq!(msgs(&out), vec![(IF1, jp(UP1, G1, &[wc()], &[]))]);
        let e = tib.entry(None, G1).unwrap();
        assert_eq!(e.state(), UpstreamState::Joined);
        assert_eq!(e.upstream_neighbor(), Some(UP1));
        assert_eq!(tib.next_deadline(), Some(t0 + secs(60)));
        // Nothing changed: nothing sent.
        assert!(tib
            .set_join_desired(None, G1, true, Some(UP1), IF1, t0 + secs(1))
            .is_empty());
        assert!(tib.on_timer(t0 + secs(59)).is_empty());
        let out = tib.on_timer(t0 + secs(60));
        assert_eq!(msgs(&out), vec![(IF1, jp(UP1, G1, &[wc()], &[]))]);
        assert_eq!(tib.next_deadline(), Some(t0 + secs(120)));
        let out = tib.set_join_desired(None, G1, false, Some(UP1), IF1, t0 + secs(70));
        assert_eq!(msgs(&out), vec![(IF1, jp(UP1, G1, &[], &[wc()]))]);
        assert_eq!(tib.entries().count(), 0);
        assert_eq!(tib.next_deadline(), None);
        // Undesired and unknown: nothing.
        assert!(tib
            .set_join_desired(None, G2, false, Some(UP1), IF1, t0)
            .is_empty());
    }

    #[test]
    fn join_wire_format_holdtime_and_bits() {
        let t0 = Instant::now();
        let mut tib = Tib::new(Some(RP), 1);
        let out = tib.set_join_desired(Some(SRC), G1, true, Some(UP1), IF1, t0);
        let TibAction::Send { msg, .. } = &out[0];
        let bytes = msg.encode();
        // Holdtime 210 after the upstream neighbor.
        assert_eq!(&bytes[4..14], &[1, 0, 10, 1, 0, 2, 0, 1, 0, 210]);
        // The (S,G) source: S bit only, /32.
        assert_eq!(&bytes[26..34], &[1, 0, 0x04, 32, 10, 2, 2, 2]);
        assert_eq!(Message::decode(&bytes).as_ref(), Ok(msg));
    }

    #[test]
    fn rpf_neighbor_change_joins_new_then_prunes_old() {
        let t0 = Instant::now();
        let mut tib = Tib::new(Some(RP), 1);
        tib.set_join_desired(Some(SRC), G1, true, Some(UP1), IF1, t0);
        let t1 = t0 + secs(10);
        let out = tib.set_join_desired(Some(SRC), G1, true, Some(UP2), IF2, t1);
        let s = EncodedSource::source(SRC);
        assert_eq!(
            msgs(&out),
            vec![(IF2, jp(UP2, G1, &[s], &[])), (IF1, jp(UP1, G1, &[], &[s]))]
        );
        assert_eq!(tib.next_deadline(), Some(t1 + secs(60)));
        assert_eq!(
            tib.entry(Some(SRC), G1).unwrap().upstream_neighbor(),
            Some(UP2)
        );
    }

    #[test]
    fn losing_the_rpf_neighbor_prunes_and_keeps_desire() {
        let t0 = Instant::now();
        let mut tib = Tib::new(Some(RP), 1);
        tib.set_join_desired(None, G1, true, Some(UP1), IF1, t0);
        let out = tib.set_join_desired(None, G1, true, None, IF1, t0 + secs(1));
        assert_eq!(msgs(&out), vec![(IF1, jp(UP1, G1, &[], &[wc()]))]);
        let e = tib.entry(None, G1).unwrap();
        assert!(e.join_desired() && !e.joined());
        assert_eq!(tib.next_deadline(), None);
        let out = tib.set_join_desired(None, G1, true, Some(UP1), IF1, t0 + secs(2));
        assert_eq!(msgs(&out), vec![(IF1, jp(UP1, G1, &[wc()], &[]))]);
    }

    #[test]
    fn group_rp_overrides_the_static_rp_and_fails_over() {
        let t0 = Instant::now();
        let bsr_rp = Ipv4Addr::new(10, 9, 9, 1);
        let backup_rp = Ipv4Addr::new(10, 9, 9, 2);
        let mut tib = Tib::new(Some(RP), 1);
        tib.set_join_desired(None, G1, true, Some(UP1), IF1, t0);
        tib.set_join_desired(None, G2, true, Some(UP1), IF1, t0);
        // G1 moves to the BSR's RP: Join naming it, Prune naming the static one.
        let out = tib.set_group_rp(G1, Some(bsr_rp), t0);
        let wc1 = EncodedSource::wildcard_rp(bsr_rp);
        assert_eq!(
            msgs(&out),
            vec![
                (IF1, jp(UP1, G1, &[wc1], &[])),
                (IF1, jp(UP1, G1, &[], &[wc()]))
            ]
        );
        assert_eq!(tib.group_rp(G1), Some(bsr_rp));
        assert_eq!(tib.group_rp(G2), Some(RP));
        // Setting the same RP again sends nothing; a static RP change leaves G1 alone.
        assert!(tib.set_group_rp(G1, Some(bsr_rp), t0).is_empty());
        let new_static = Ipv4Addr::new(10, 8, 8, 8);
        let out = tib.set_rp(Some(new_static), t0);
        assert_eq!(msgs(&out).len(), 2);
        assert!(msgs(&out)
            .iter()
            .all(|(_, m)| m.groups[0].group.address == G2));
        // RP failover: the BSR's RP set now maps G1 to the backup.
        let out = tib.set_group_rp(G1, Some(backup_rp), t0 + secs(1));
        let wc2 = EncodedSource::wildcard_rp(backup_rp);
        assert_eq!(
            msgs(&out),
            vec![
                (IF1, jp(UP1, G1, &[wc2], &[])),
                (IF1, jp(UP1, G1, &[], &[wc1]))
            ]
        );
        // Another router's Join(*,G1) naming the group's RP suppresses ours.
        let due = tib.entry(None, G1).and_then(Entry::join_timer);
        tib.observe_join_prune(IF1, &jp(UP1, G1, &[wc2], &[]), t0 + secs(30));
        assert!(tib.entry(None, G1).and_then(Entry::join_timer) > due);
        // Back to the static RP.
        let out = tib.set_group_rp(G1, None, t0 + secs(40));
        let wc3 = EncodedSource::wildcard_rp(new_static);
        assert_eq!(
            msgs(&out),
            vec![
                (IF1, jp(UP1, G1, &[wc3], &[])),
                (IF1, jp(UP1, G1, &[], &[wc2]))
            ]
        );
    }

    #[test]
    fn no_rp_no_star_g_join_until_one_is_set() {
        let t0 = Instant::now();
        let mut tib = Tib::new(None, 1);
        assert!(tib
            .set_join_desired(None, G1, true, Some(UP1), IF1, t0)
            .is_empty());
        assert!(!tib.entry(None, G1).unwrap().joined());
        let out = tib.set_rp(Some(RP), t0 + secs(1));
        assert_eq!(msgs(&out), vec![(IF1, jp(UP1, G1, &[wc()], &[]))]);
        // A new RP: Join with it, Prune with the old one.
        let out = tib.set_rp(Some(RP2), t0 + secs(2));
        let wc2 = EncodedSource::wildcard_rp(RP2);
        assert_eq!(
            msgs(&out),
            vec![
                (IF1, jp(UP1, G1, &[wc2], &[])),
                (IF1, jp(UP1, G1, &[], &[wc()]))
            ]
        );
        assert!(tib.set_rp(Some(RP2), t0 + secs(3)).is_empty());
        let out = tib.set_rp(None, t0 + secs(4));
        assert_eq!(msgs(&out), vec![(IF1, jp(UP1, G1, &[], &[wc2]))]);
    }

    #[test]
    fn neighbor_restart_brings_the_join_forward() {
        let t0 = Instant::now();
        let mut tib = Tib::new(Some(RP), 7);
        tib.set_join_desired(None, G1, true, Some(UP1), IF1, t0);
        tib.set_join_desired(Some(SRC), G2, true, Some(UP2), IF2, t0);
        let t1 = t0 + secs(20);
        assert!(tib.neighbor_restarted(UP1, t1).is_empty());
        let due = tib.next_deadline().unwrap();
        assert!(due >= t1 && due < t1 + T_OVERRIDE_MAX);
        let out = tib.on_timer(due);
        assert_eq!(msgs(&out), vec![(IF1, jp(UP1, G1, &[wc()], &[]))]);
        // The other route keeps its period; the restarted one re-arms.
        assert_eq!(
            tib.entry(Some(SRC), G2).unwrap().join_timer(),
            Some(t0 + secs(60))
        );
        assert_eq!(
            tib.entry(None, G1).unwrap().join_timer(),
            Some(due + secs(60))
        );
        // An unknown neighbor changes nothing.
        tib.neighbor_restarted(Ipv4Addr::new(1, 1, 1, 1), t1);
        assert_eq!(tib.next_deadline(), Some(t0 + secs(60)));
    }

    #[test]
    fn prune_override() {
        let t0 = Instant::now();
        let mut tib = Tib::new(Some(RP), 3);
        tib.set_join_desired(Some(SRC), G1, true, Some(UP1), IF1, t0);
        let t1 = t0 + secs(5);
        // A Prune to another neighbor, or on another interface: ignored.
        let s = EncodedSource::source(SRC);
        tib.observe_join_prune(IF1, &jp(UP2, G1, &[], &[s]), t1);
        tib.observe_join_prune(IF2, &jp(UP1, G1, &[], &[s]), t1);
        assert_eq!(tib.next_deadline(), Some(t0 + secs(60)));
        // Prune(*,G) to our neighbor also covers (S,G).
        tib.observe_join_prune(IF1, &jp(UP1, G1, &[], &[wc()]), t1);
        let due = tib.next_deadline().unwrap();
        assert!(due >= t1 && due < t1 + T_OVERRIDE_MAX);
        assert_eq!(
            msgs(&tib.on_timer(due)),
            vec![(IF1, jp(UP1, G1, &[s], &[]))]
        );
    }

    #[test]
    fn another_routers_join_suppresses_ours() {
        let t0 = Instant::now();
        let mut tib = Tib::new(Some(RP), 5);
        tib.set_join_desired(Some(SRC), G1, true, Some(UP1), IF1, t0);
        tib.set_join_desired(None, G2, true, Some(UP1), IF1, t0);
        let s = EncodedSource::source(SRC);
        let t1 = t0 + secs(50);
        // To another neighbor, another source, or the (*,G) of the group: no effect on (S,G).
        tib.observe_join_prune(IF1, &jp(UP2, G1, &[s], &[]), t1);
        let other = EncodedSource::source(Ipv4Addr::new(10, 9, 9, 9));
        tib.observe_join_prune(IF1, &jp(UP1, G1, &[other, wc()], &[]), t1);
        assert_eq!(
            tib.entry(Some(SRC), G1).unwrap().join_timer(),
            Some(t0 + secs(60))
        );
        // The same Join to our neighbor: ours waits 66-84 s from now.
        tib.observe_join_prune(IF1, &jp(UP1, G1, &[s], &[]), t1);
        let at = tib.entry(Some(SRC), G1).unwrap().join_timer().unwrap();
        assert!(at >= t1 + secs(66) && at <= t1 + secs(84), "{:?}", at - t1);
        // Never earlier than it was: a second Join soon after keeps the later time.
        tib.observe_join_prune(IF1, &jp(UP1, G1, &[s], &[]), t1 + secs(1));
        assert!(tib.entry(Some(SRC), G1).unwrap().join_timer().unwrap() >= at);
        // A short holdtime bounds it; (*,G) is suppressed by a Join(*,G) to the same RP.
        let mut short = jp(UP1, G2, &[wc()], &[]);
        short.holdtime = 30;
        tib.observe_join_prune(IF1, &short, t1);
        assert_eq!(
            tib.entry(None, G2).unwrap().join_timer(),
            Some(t1 + secs(30))
        );
        // A Prune afterwards is still overridden within t_override.
        tib.observe_join_prune(IF1, &jp(UP1, G1, &[], &[s]), t1 + secs(2));
        let due = tib.entry(Some(SRC), G1).unwrap().join_timer().unwrap();
        assert!(due < t1 + secs(2) + T_OVERRIDE_MAX);
    }

    #[test]
    fn simultaneous_joins_are_batched() {
        let t0 = Instant::now();
        let mut tib = Tib::new(Some(RP), 1);
        tib.set_join_desired(None, G1, true, Some(UP1), IF1, t0);
        tib.set_join_desired(Some(SRC), G1, true, Some(UP1), IF1, t0);
        tib.set_join_desired(None, G2, true, Some(UP1), IF1, t0);
        tib.set_join_desired(None, G2, true, Some(UP2), IF2, t0);
        let out = msgs(&tib.on_timer(t0 + secs(60)));
        assert_eq!(out.len(), 2);
        let (ifx, m) = &out[0];
        assert_eq!((*ifx, m.upstream_neighbor), (IF1, UP1));
        assert_eq!(m.groups.len(), 1, "G2 on IF1 was moved to IF2");
        assert_eq!(m.groups[0].joins, vec![wc(), EncodedSource::source(SRC)]);
        assert_eq!(out[1], (IF2, jp(UP2, G2, &[wc()], &[])));
    }

    #[test]
    fn big_batches_are_split() {
        let t0 = Instant::now();
        let mut tib = Tib::new(Some(RP), 1);
        let n = 300u32;
        for i in 0..n {
            let g = Ipv4Addr::from(u32::from(Ipv4Addr::new(239, 2, 0, 0)) + i);
            tib.set_join_desired(None, g, true, Some(UP1), IF1, t0);
        }
        // One (*,G) per group: 20 bytes each after 14 of header.
        let out = msgs(&tib.on_timer(t0 + secs(60)));
        assert_eq!(out.len(), 5);
        let mut total = 0;
        for (_, m) in &out {
            let len = Message::JoinPrune(m.clone()).encode().len();
            assert!(len <= MAX_JP_LEN && m.groups.len() <= 255);
            assert_eq!(len, m.encoded_len());
            total += m.groups.len();
        }
        assert_eq!(total, n as usize);
        assert_eq!(out[0].1.groups.len(), (MAX_JP_LEN - 14) / 20);
        // Many sources of one group spill into a second record.
        let mut tib = Tib::new(Some(RP), 1);
        for i in 0..200u32 {
            let s = Ipv4Addr::from(u32::from(SRC) + i);
            tib.set_join_desired(Some(s), G1, true, Some(UP1), IF1, t0);
        }
        let out = msgs(&tib.on_timer(t0 + secs(60)));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].1.groups[0].joins.len(), (MAX_JP_LEN - 14 - 12) / 8);
        assert_eq!(
            out.iter()
                .map(|(_, m)| m.groups[0].joins.len())
                .sum::<usize>(),
            200
        );
    }

    #[test]
    fn shutdown_prunes_everything() {
        let t0 = Instant::now();
        let mut tib = Tib::new(Some(RP), 1);
        tib.set_join_desired(None, G1, true, Some(UP1), IF1, t0);
        tib.set_join_desired(Some(SRC), G1, true, Some(UP1), IF1, t0);
        tib.set_join_desired(None, G2, true, None, IF1, t0);
        let out = msgs(&tib.shutdown());
        assert_eq!(
            out,
            vec![(IF1, jp(UP1, G1, &[], &[wc(), EncodedSource::source(SRC)]))]
        );
        assert_eq!(tib.entries().count(), 0);
        assert_eq!(tib.next_deadline(), None);
    }
}
