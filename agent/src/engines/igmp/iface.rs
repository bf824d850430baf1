//! One IGMP router interface: querier election and queries (RFC 2236 §3,
//! RFC 3376 §6.6), and per-group membership state in the IGMPv3 model
//! (RFC 3376 §6.2–§6.5) with the group compatibility modes of §7.3.2.
//!
//! The interface is sans-I/O: every entry point takes the current time and
//! returns [`Action`]s; the caller owns the socket (adding the IPv4 header
//! with TTL 1 and Router Alert, checking both on reception), calls
//! [`Interface::on_timer`] at [`Interface::next_deadline`], and recomputes
//! multicast forwarding for a group when told by [`Action::Membership`],
//! asking [`Interface::wants`] / [`Interface::wants_any`].
//!
//! Choices where the RFCs leave room (each has a test):
//! * Membership is always kept in the IGMPv3 form. A version 1/2 Report is
//!   IS_EX({}) and a Leave is TO_IN({}) (RFC 3376 §7.3.2), so an IGMPv2
//!   group is EXCLUDE({}) with a group timer.
//! * Reports and Leaves are processed by the querier and by non-queriers
//!   alike; only the querier performs the "Send Q(..)" table actions
//!   (sending, and lowering timers). A non-querier lowers timers when it
//!   receives the querier's specific queries without the S flag (RFC 3376
//!   §6.6.1, RFC 2236 §3), to its own Last Member Query Time; it does not
//!   adopt the querier's QRV/QQIC (identical timers are assumed).
//! * Election: a query from a lower address than ours makes us non-querier;
//!   queries from a higher address, from 0.0.0.0 (snooping switches) or from
//!   ourselves are ignored altogether, for timer lowering too.
//! * Configured version 2: queries are version 2 and group state carries no
//!   sources. Version 3 records map to a join (IS_EX, TO_EX, and IS_IN /
//!   ALLOW / TO_IN with sources), a leave (TO_IN({})) or nothing (BLOCK,
//!   empty IS_IN / ALLOW). Since version 2 queries have no S flag, a pending
//!   Group-Specific Query is dropped once a report has raised the group
//!   timer above the Last Member Query Time, so non-queriers are not misled.
//! * Compatibility (RFC 3376 §7.3.2): in IGMPv2 or IGMPv1 group mode BLOCK
//!   is ignored and TO_EX(x) is TO_EX({}); in IGMPv1 mode Leaves and
//!   TO_IN({}) are ignored. The router-side compatibility of §7.3.1 (older
//!   querier present) is left to configuration.
//! * Addressing: unicast destinations are accepted for every message.
//!   Otherwise v1/v2 Reports must go to the reported group, Leaves to
//!   224.0.0.2 or the group, v3 Reports to 224.0.0.22, General Queries to
//!   224.0.0.1 and specific queries to 224.0.0.1 or the group. Groups that
//!   are not multicast or lie in 224.0.0.0/24 (never routed) are ignored.
//! * An interface whose address is 0.0.0.0 never becomes querier.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Instant;

use super::packet::{
    GroupRecord, Message, Query, RecordType, ALL_IGMPV3_ROUTERS, ALL_ROUTERS, ALL_SYSTEMS,
};

pub use super::group::GroupState;
use super::group::{query, routable, Group, Signature};
pub use super::{Action, Config, FilterMode};

/// One IGMP router interface (see the module documentation).
#[derive(Debug, Clone)]
pub struct Interface {
    cfg: Config,
    local: Ipv4Addr,
    is_querier: bool,
    /// The other router that is querier, while we are not.
    other_querier: Option<Ipv4Addr>,
    other_querier_expires: Option<Instant>,
    /// Next General Query, while querier.
    query_at: Option<Instant>,
    /// Startup queries still to send (RFC 3376 §8.7).
    startup_left: u32,
    groups: BTreeMap<Ipv4Addr, Group>,
}

impl Interface {
    /// A new interface with no groups, querier (unless `local` is 0.0.0.0),
    /// starting with Startup Query Count General Queries at the Startup
    /// Query Interval (RFC 3376 §8.6, §8.7); the first is due at `now`.
    pub fn new(cfg: Config, local: Ipv4Addr, now: Instant) -> Interface {
        let mut i = Interface {
            cfg,
            local,
            is_querier: false,
            other_querier: None,
            other_querier_expires: None,
            query_at: None,
            startup_left: 0,
            groups: BTreeMap::new(),
        };
        if !local.is_unspecified() {
            i.start_querying(now, true);
        }
        i
    }

    // ---- accessors -------------------------------------------------------

    /// The querier's address: ours when querier, the other one's when heard.
    pub fn querier(&self) -> Option<Ipv4Addr> {
        if self.is_querier {
            Some(self.local)
        } else {
            self.other_querier
        }
    }

    pub fn is_querier(&self) -> bool {
        self.is_querier
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn local(&self) -> Ipv4Addr {
        self.local
    }

    /// All groups, in address order.
    pub fn groups(&self) -> impl Iterator<Item = &GroupState> {
        self.groups.values().map(|g| &g.st)
    }

    pub fn group(&self, group: Ipv4Addr) -> Option<&GroupState> {
        self.groups.get(&group).map(|g| &g.st)
    }

    /// RFC 3376 §6.3 / RFC 7761 local_receiver_include: does this interface
    /// have a listener that wants (source, group)? INCLUDE mode: the source
    /// is listed; EXCLUDE mode (and every IGMPv2 group): it is not excluded.
    pub fn wants(&self, source: Ipv4Addr, group: Ipv4Addr) -> bool {
        self.groups.get(&group).is_some_and(|g| match g.st.mode {
            FilterMode::Include => g.has_source(source),
            FilterMode::Exclude => !g.is_excluded(source),
        })
    }

    /// Same, for (*,G): the group is in EXCLUDE mode (or IGMPv2).
    pub fn wants_any(&self, group: Ipv4Addr) -> bool {
        self.groups
            .get(&group)
            .is_some_and(|g| g.st.mode == FilterMode::Exclude)
    }

    /// The earliest instant at which [`Interface::on_timer`] has work to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        let query = self.query_at.filter(|_| self.is_querier);
        [query, self.other_querier_expires]
            .into_iter()
            .chain(self.groups.values().map(Group::deadline))
            .flatten()
            .min()
    }

    // ---- events ----------------------------------------------------------

    /// Applies a new configuration; an identical one does nothing. New
    /// timer values apply to timers started from now on, except that a
    /// shorter query interval brings the next General Query forward. A
    /// change between versions 2 and 3 restarts the startup queries in the
    /// new version (when querier), and going to version 2 turns every group
    /// into EXCLUDE({}) with its latest timer.
    pub fn reconfigure(&mut self, cfg: Config, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if cfg == self.cfg {
            return out;
        }
        let old = std::mem::replace(&mut self.cfg, cfg);
        if old.v3() != cfg.v3() {
            let groups: Vec<Ipv4Addr> = self.groups.keys().copied().collect();
            self.tracked(&groups, &mut out, |me, _| {
                for g in me.groups.values_mut() {
                    if !cfg.v3() {
                        // Source timers may outlive the group timer.
                        if let Some(latest) = g.st.sources.iter().map(|(_, t)| *t).max() {
                            g.st.expires = g.st.expires.max(latest);
                        }
                        g.st.mode = FilterMode::Exclude;
                        g.st.sources.clear();
                        g.st.excluded.clear();
                        g.cancel_queries();
                    }
                    g.update_compat(&cfg);
                }
            });
            if self.is_querier {
                self.start_querying(now, true);
            }
        } else if old.query_interval != cfg.query_interval && self.startup_left == 0 {
            let next = now + cfg.query_interval;
            self.query_at = self.query_at.map(|at| at.min(next));
        }
        out
    }

    /// The interface's primary address changed. A querier stays querier
    /// with the new address; a non-querier whose new address is below the
    /// current querier's takes over at once (startup queries); 0.0.0.0 stops
    /// querying.
    pub fn set_local(&mut self, local: Ipv4Addr, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if local == self.local {
            return out;
        }
        let before = self.querier_view();
        self.local = local;
        if local.is_unspecified() {
            if self.is_querier {
                self.stop_querying();
            }
        } else if !self.is_querier && self.other_querier.is_none_or(|q| local < q) {
            self.start_querying(now, true);
        }
        self.notify(before, &mut out);
        out
    }

    /// A message received on the interface from `src` to `dst`, with TTL,
    /// Router Alert and checksum already checked by the I/O layer.
    pub fn receive(
        &mut self,
        msg: &Message,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        now: Instant,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        match msg {
            Message::Query(q) => self.receive_query(q, src, dst, now, &mut out),
            Message::V1Report { group } => {
                self.receive_old_report(1, *group, src, dst, now, &mut out)
            }
            Message::V2Report { group } => {
                self.receive_old_report(2, *group, src, dst, now, &mut out)
            }
            Message::Leave { group } => self.receive_leave(*group, dst, now, &mut out),
            Message::V3Report(records) => self.receive_v3_report(records, src, dst, now, &mut out),
        }
        out
    }

    /// Runs the timers due at `now`.
    pub fn on_timer(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.other_querier_expires.is_some_and(|t| t <= now) {
            // RFC 3376 §6.6.2 / RFC 2236 §3: the other querier is gone.
            let before = self.querier_view();
            self.other_querier_expires = None;
            self.other_querier = None;
            if !self.local.is_unspecified() {
                self.start_querying(now, false);
            }
            self.notify(before, &mut out);
        }
        if let Some(at) = self.query_at.filter(|at| self.is_querier && *at <= now) {
            out.push(Action::Send {
                dst: ALL_SYSTEMS,
                msg: query(
                    &self.cfg,
                    Ipv4Addr::UNSPECIFIED,
                    self.cfg.max_response,
                    false,
                    Vec::new(),
                ),
            });
            self.startup_left = self.startup_left.saturating_sub(1);
            let interval = if self.startup_left > 0 {
                self.cfg.startup_query_interval()
            } else {
                self.cfg.query_interval
            };
            let next = at + interval;
            self.query_at = Some(if next > now { next } else { now + interval });
        }
        let due: Vec<Ipv4Addr> = self
            .groups
            .iter()
            .filter(|(_, g)| g.deadline().is_some_and(|d| d <= now))
            .map(|(a, _)| *a)
            .collect();
        for group in due {
            self.tracked(&[group], &mut out, |me, out| {
                me.group_timers(group, now, out)
            });
        }
        out
    }

    // ---- internals -------------------------------------------------------

    fn querier_view(&self) -> (Option<Ipv4Addr>, bool) {
        (self.querier(), self.is_querier)
    }

    fn notify(&self, before: (Option<Ipv4Addr>, bool), out: &mut Vec<Action>) {
        let (querier, is_querier) = self.querier_view();
        if (querier, is_querier) != before {
            out.push(Action::QuerierChange {
                querier,
                is_querier,
            });
        }
    }

    fn start_querying(&mut self, now: Instant, startup: bool) {
        self.is_querier = true;
        self.other_querier = None;
        self.other_querier_expires = None;
        self.query_at = Some(now);
        self.startup_left = if startup { self.cfg.rv() } else { 0 };
    }

    fn stop_querying(&mut self) {
        self.is_querier = false;
        self.query_at = None;
        self.startup_left = 0;
        for g in self.groups.values_mut() {
            g.cancel_queries();
        }
    }

    fn signature(&self, group: Ipv4Addr) -> Option<Signature> {
        self.groups.get(&group).map(Group::signature)
    }

    /// Runs `f` and reports [`Action::Membership`] for each of `groups`
    /// (distinct) whose forwarding-relevant state it changed.
    fn tracked(
        &mut self,
        groups: &[Ipv4Addr],
        out: &mut Vec<Action>,
        f: impl FnOnce(&mut Self, &mut Vec<Action>),
    ) {
        let before: Vec<Option<Signature>> = groups.iter().map(|g| self.signature(*g)).collect();
        f(self, out);
        for (group, before) in groups.iter().zip(before) {
            if self.signature(*group) != before {
                out.push(Action::Membership { group: *group });
            }
        }
    }

    fn receive_query(
        &mut self,
        q: &Query,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let general = q.group.is_unspecified();
        let dst_ok = !dst.is_multicast() || dst == ALL_SYSTEMS || (!general && dst == q.group);
        let wins = self.local.is_unspecified() || src < self.local;
        if src.is_unspecified() || !dst_ok || !wins {
            return;
        }
        // The sender wins the election (RFC 3376 §6.6.2, RFC 2236 §3).
        let before = self.querier_view();
        if self.is_querier {
            self.stop_querying();
        }
        self.other_querier = Some(src);
        self.other_querier_expires = Some(now + self.cfg.other_querier_present_interval());
        self.notify(before, out);

        // Non-queriers lower their timers on specific queries without the
        // S flag (RFC 3376 §6.6.1; RFC 2236 §3 for version 2 queries).
        if general || q.s_flag {
            return;
        }
        let lmqt = now + self.cfg.last_member_query_time();
        let Some(g) = self.groups.get_mut(&q.group) else {
            return;
        };
        if q.sources.is_empty() {
            if g.st.mode == FilterMode::Exclude {
                g.st.expires = g.st.expires.min(lmqt);
            }
        } else {
            for s in &q.sources {
                if let Ok(i) = g.source_index(*s) {
                    let t = &mut g.st.sources[i].1;
                    *t = (*t).min(lmqt);
                }
            }
            self.settle(q.group);
        }
    }

    fn receive_old_report(
        &mut self,
        version: u8,
        group: Ipv4Addr,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        if !routable(group) || (dst.is_multicast() && dst != group) {
            return;
        }
        self.tracked(&[group], out, |me, out| {
            let cfg = me.cfg;
            let g = me.entry(group, now);
            let host_present = Some(now + cfg.group_membership_interval());
            if version == 1 {
                g.v1_host = host_present;
            } else {
                g.v2_host = host_present;
            }
            g.update_compat(&cfg);
            me.apply_record(group, RecordType::ModeIsExclude, &[], Some(src), now, out);
        });
    }

    fn receive_leave(
        &mut self,
        group: Ipv4Addr,
        dst: Ipv4Addr,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let dst_ok = !dst.is_multicast() || dst == ALL_ROUTERS || dst == group;
        if !routable(group) || !dst_ok || self.compat(group) == 1 {
            return;
        }
        self.tracked(&[group], out, |me, out| {
            me.apply_record(group, RecordType::ChangeToInclude, &[], None, now, out)
        });
    }

    fn receive_v3_report(
        &mut self,
        records: &[GroupRecord],
        src: Ipv4Addr,
        dst: Ipv4Addr,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        if dst.is_multicast() && dst != ALL_IGMPV3_ROUTERS {
            return;
        }
        let mut groups: Vec<Ipv4Addr> = records
            .iter()
            .map(|r| r.group)
            .filter(|g| routable(*g))
            .collect();
        groups.sort_unstable();
        groups.dedup();
        self.tracked(&groups, out, |me, out| {
            for r in records.iter().filter(|r| routable(r.group)) {
                if let Some((kind, sources)) = me.translate(r) {
                    me.apply_record(r.group, kind, &sources, Some(src), now, out);
                }
            }
        });
    }

    /// The group's compatibility mode, or the configured version's for a
    /// group without state.
    fn compat(&self, group: Ipv4Addr) -> u8 {
        match self.groups.get(&group) {
            Some(g) => g.st.compat,
            None if self.cfg.v3() => 3,
            None => 2,
        }
    }

    /// The record actually processed for `r`, or `None` to ignore it (see
    /// the module documentation).
    fn translate(&self, r: &GroupRecord) -> Option<(RecordType, Vec<Ipv4Addr>)> {
        use RecordType::*;
        let compat = self.compat(r.group);
        let empty = r.sources.is_empty();
        let leave_ignored = compat == 1;
        if !self.cfg.v3() {
            return match r.kind {
                ModeIsExclude | ChangeToExclude => Some((ModeIsExclude, Vec::new())),
                ModeIsInclude | AllowNewSources | ChangeToInclude if !empty => {
                    Some((ModeIsExclude, Vec::new()))
                }
                ChangeToInclude if !leave_ignored => Some((ChangeToInclude, Vec::new())),
                _ => None,
            };
        }
        match (compat, r.kind) {
            (1 | 2, BlockOldSources) => None,
            (1 | 2, ChangeToExclude) => Some((ChangeToExclude, Vec::new())),
            (1, ChangeToInclude) if empty => None,
            _ => Some((r.kind, r.sources.clone())),
        }
    }

    fn entry(&mut self, group: Ipv4Addr, now: Instant) -> &mut Group {
        let cfg = self.cfg;
        self.groups
            .entry(group)
            .or_insert_with(|| Group::new(group, now, &cfg))
    }

    /// Processes one record (RFC 3376 §6.4), creating the group in
    /// INCLUDE({}) if needed; only the querier carries out "Send Q(..)".
    fn apply_record(
        &mut self,
        group: Ipv4Addr,
        kind: RecordType,
        sources: &[Ipv4Addr],
        reporter: Option<Ipv4Addr>,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let cfg = self.cfg;
        let querier = self.is_querier;
        let mut b = sources.to_vec();
        b.sort_unstable();
        b.dedup();
        let g = self.entry(group, now);
        if let Some(r) = reporter {
            g.st.last_reporter = r;
        }
        let (query_sources, query_group) =
            g.transition(kind, &b, now + cfg.group_membership_interval());
        if querier {
            if !query_sources.is_empty() {
                g.start_source_query(&cfg, &query_sources, now, out);
            }
            if query_group {
                g.start_group_query(&cfg, now, out);
            }
        }
        self.settle(group);
    }

    /// Deletes an INCLUDE group without sources, and keeps an INCLUDE
    /// group's `expires` at its latest source timer.
    fn settle(&mut self, group: Ipv4Addr) {
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        if g.st.mode == FilterMode::Include {
            match g.st.sources.iter().map(|(_, t)| *t).max() {
                Some(latest) => g.st.expires = latest,
                None => {
                    self.groups.remove(&group);
                }
            }
        }
    }

    /// Timer expiry for one group (RFC 3376 §6.3, §6.5, §7.3.2) and its
    /// query retransmissions (§6.6.3).
    fn group_timers(&mut self, group: Ipv4Addr, now: Instant, out: &mut Vec<Action>) {
        let cfg = self.cfg;
        let querier = self.is_querier;
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        if g.v1_host.is_some_and(|t| t <= now) {
            g.v1_host = None;
        }
        if g.v2_host.is_some_and(|t| t <= now) {
            g.v2_host = None;
        }
        g.update_compat(&cfg);
        // Expired sources: deleted in INCLUDE mode, excluded in EXCLUDE mode.
        let (expired, running): (Vec<_>, Vec<_>) = std::mem::take(&mut g.st.sources)
            .into_iter()
            .partition(|(_, t)| *t <= now);
        g.st.sources = running;
        if g.st.mode == FilterMode::Exclude {
            if g.st.expires <= now {
                // Group timer expiry: INCLUDE with the running sources.
                g.st.mode = FilterMode::Include;
                g.st.excluded.clear();
                g.group_query = None;
            } else {
                for (s, _) in expired {
                    if let Err(i) = g.st.excluded.binary_search(&s) {
                        g.st.excluded.insert(i, s);
                    }
                }
            }
        }
        if querier {
            g.send_group_query(&cfg, now, out);
            g.send_source_queries(&cfg, now, out);
        }
        self.settle(group);
    }
}

#[cfg(test)]
mod tests {
    use super::super::packet::decode;
    use super::*;
    use std::collections::VecDeque;
    use std::time::Duration;

    use FilterMode::{Exclude, Include};
    use RecordType::*;

    const ME: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
    const LOWER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const HIGHER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);
    const HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
    const G: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 1);
    const S1: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const S2: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
    const S3: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 3);
    const S4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 4);
    const ANY: Ipv4Addr = Ipv4Addr::UNSPECIFIED;

    // With the defaults: GMI 130 s, Other Querier Present 125 s, startup
    // interval 15 s, Last Member Query Time 2 s.
    fn cfg(version: u8) -> Config {
        Config {
            version,
            ..Config::default()
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn ms(m: u64) -> Duration {
        Duration::from_millis(m)
    }

    /// A querier at `t0` whose first startup query has gone out.
    fn iface(version: u8) -> (Interface, Instant) {
        let t0 = Instant::now();
        let mut i = Interface::new(cfg(version), ME, t0);
        assert_eq!(queries(&i.on_timer(t0)).len(), 1);
        (i, t0)
    }

    /// Like [`iface`], but LOWER is querier (heard at `t0`).
    fn non_querier(version: u8) -> (Interface, Instant) {
        let (mut i, t0) = iface(version);
        i.receive(&general(version), LOWER, ALL_SYSTEMS, t0);
        assert!(!i.is_querier());
        (i, t0)
    }

    /// Fires every timer up to `until`.
    fn run(i: &mut Interface, until: Instant) -> Vec<(Instant, Action)> {
        let mut log = Vec::new();
        while let Some(d) = i.next_deadline().filter(|d| *d <= until) {
            log.extend(i.on_timer(d).into_iter().map(|a| (d, a)));
        }
        log
    }

    fn queries<'a>(actions: impl IntoIterator<Item = &'a Action>) -> Vec<(Ipv4Addr, Query)> {
        actions
            .into_iter()
            .filter_map(|a| match a {
                Action::Send {
                    dst,
                    msg: Message::Query(q),
                } => Some((*dst, q.clone())),
                _ => None,
            })
            .collect()
    }

    fn memberships<'a>(actions: impl IntoIterator<Item = &'a Action>) -> Vec<Ipv4Addr> {
        actions
            .into_iter()
            .filter_map(|a| match a {
                Action::Membership { group } => Some(*group),
                _ => None,
            })
            .collect()
    }

    fn general(version: u8) -> Message {
        specific(version, ANY, &[], false)
    }

    fn specific(version: u8, group: Ipv4Addr, sources: &[Ipv4Addr], s_flag: bool) -> Message {
        Message::Query(Query {
            max_resp_ds: if group == ANY { 100 } else { 10 },
            group,
            version,
            s_flag,
            qrv: if version == 3 { 2 } else { 0 },
            qqic_s: if version == 3 { 60 } else { 0 },
            sources: sources.to_vec(),
        })
    }

    fn v3(i: &mut Interface, kind: RecordType, sources: &[Ipv4Addr], now: Instant) -> Vec<Action> {
        let records = vec![GroupRecord {
            kind,
            group: G,
            sources: sources.to_vec(),
        }];
        i.receive(&Message::V3Report(records), HOST, ALL_IGMPV3_ROUTERS, now)
    }

    fn v2_report(i: &mut Interface, now: Instant) -> Vec<Action> {
        i.receive(&Message::V2Report { group: G }, HOST, G, now)
    }

    fn leave(i: &mut Interface, now: Instant) -> Vec<Action> {
        i.receive(&Message::Leave { group: G }, HOST, ALL_ROUTERS, now)
    }

    fn mode(i: &Interface) -> FilterMode {
        i.group(G).unwrap().mode
    }

    /// Source timers of G as offsets from `t0`.
    fn timers(i: &Interface, t0: Instant) -> Vec<(Ipv4Addr, Duration)> {
        let g = i.group(G).unwrap();
        g.sources.iter().map(|(s, t)| (*s, *t - t0)).collect()
    }

    fn expires(i: &Interface, t0: Instant) -> Duration {
        i.group(G).unwrap().expires - t0
    }

    fn excluded(i: &Interface) -> Vec<Ipv4Addr> {
        i.group(G).unwrap().excluded.clone()
    }

    // ---- querier election and General Queries ----------------------------

    #[test]
    fn startup_queries_then_query_interval() {
        let t0 = Instant::now();
        let mut i = Interface::new(cfg(2), ME, t0);
        assert_eq!((i.querier(), i.is_querier()), (Some(ME), true));
        assert_eq!(i.next_deadline(), Some(t0));
        let log = run(&mut i, t0 + secs(200));
        let times: Vec<u64> = log.iter().map(|(t, _)| (*t - t0).as_secs()).collect();
        assert_eq!(times, [0, 15, 75, 135, 195]);
        for (_, a) in &log {
            assert_eq!(
                *a,
                Action::Send {
                    dst: ALL_SYSTEMS,
                    msg: general(2)
                }
            );
        }
    }

    #[test]
    fn v3_general_query_carries_qrv_and_qqic() {
        let t0 = Instant::now();
        let mut i = Interface::new(cfg(3), ME, t0);
        let a = i.on_timer(t0);
        assert_eq!(
            a,
            [Action::Send {
                dst: ALL_SYSTEMS,
                msg: general(3)
            }]
        );
        let q = &queries(&a)[0].1;
        assert_eq!((q.version, q.qrv, q.qqic_s, q.max_resp_ds), (3, 2, 60, 100));
        let bytes = Message::Query(q.clone()).encode();
        assert_eq!(bytes.len(), 12);
        assert_eq!(decode(&bytes).unwrap(), general(3));
    }

    #[test]
    fn query_from_lower_address_makes_us_non_querier() {
        let (mut i, t0) = iface(2);
        let now = t0 + secs(5);
        let a = i.receive(&general(2), LOWER, ALL_SYSTEMS, now);
        assert_eq!(
            a,
            [Action::QuerierChange {
                querier: Some(LOWER),
                is_querier: false
            }]
        );
        assert_eq!((i.querier(), i.is_querier()), (Some(LOWER), false));
        // Only the Other Querier Present timer remains: no more queries.
        assert_eq!(i.next_deadline(), Some(now + secs(125)));
        // The querier's next query refreshes it silently.
        assert!(i
            .receive(&general(2), LOWER, ALL_SYSTEMS, now + secs(60))
            .is_empty());
        assert_eq!(i.next_deadline(), Some(now + secs(185)));
    }

    #[test]
    fn other_querier_present_expiry_makes_us_querier_again() {
        let (mut i, t0) = non_querier(2);
        assert!(run(&mut i, t0 + secs(124)).is_empty());
        let log = run(&mut i, t0 + secs(125));
        let actions: Vec<Action> = log.into_iter().map(|(_, a)| a).collect();
        assert_eq!(
            actions,
            [
                Action::QuerierChange {
                    querier: Some(ME),
                    is_querier: true
                },
                Action::Send {
                    dst: ALL_SYSTEMS,
                    msg: general(2)
                }
            ]
        );
        // No startup burst this time: the next query is a Query Interval away.
        assert_eq!(i.next_deadline(), Some(t0 + secs(185)));
    }

    #[test]
    fn higher_unspecified_own_and_misaddressed_queries_are_ignored() {
        let (mut i, t0) = iface(2);
        let before = i.next_deadline();
        let now = t0 + secs(1);
        assert!(i.receive(&general(2), HIGHER, ALL_SYSTEMS, now).is_empty());
        assert!(i.receive(&general(2), ANY, ALL_SYSTEMS, now).is_empty());
        assert!(i.receive(&general(2), ME, ALL_SYSTEMS, now).is_empty());
        assert!(i.receive(&general(2), LOWER, G, now).is_empty());
        assert!(i.is_querier());
        assert_eq!(i.next_deadline(), before);
    }

    // ---- a shared LAN: routers exchange encoded messages -----------------

    struct Lan {
        t0: Instant,
        now: Instant,
        routers: Vec<(Ipv4Addr, Interface, bool)>,
        log: Vec<(Duration, usize, Action)>,
    }

    impl Lan {
        fn new(ips: &[Ipv4Addr], c: Config) -> Lan {
            let t0 = Instant::now();
            let routers = ips
                .iter()
                .map(|ip| (*ip, Interface::new(c, *ip, t0), true))
                .collect();
            Lan {
                t0,
                now: t0,
                routers,
                log: Vec::new(),
            }
        }

        /// Delivers (through encode/decode) to every live router but `from`.
        fn deliver(&mut self, from: Option<usize>, src: Ipv4Addr, dst: Ipv4Addr, msg: &Message) {
            let mut queue = VecDeque::from([(from, src, dst, msg.clone())]);
            while let Some((from, src, dst, msg)) = queue.pop_front() {
                let msg = decode(&msg.encode()).unwrap();
                for j in 0..self.routers.len() {
                    if Some(j) == from || !self.routers[j].2 {
                        continue;
                    }
                    let now = self.now;
                    for a in self.routers[j].1.receive(&msg, src, dst, now) {
                        if let Action::Send { dst, msg } = &a {
                            queue.push_back((Some(j), self.routers[j].0, *dst, msg.clone()));
                        }
                        self.log.push((now - self.t0, j, a));
                    }
                }
            }
        }

        fn host(&mut self, msg: Message, dst: Ipv4Addr) {
            self.deliver(None, HOST, dst, &msg);
        }

        fn run_until(&mut self, t: Duration) {
            let end = self.t0 + t;
            loop {
                let next = self
                    .routers
                    .iter()
                    .filter(|r| r.2)
                    .filter_map(|r| r.1.next_deadline())
                    .min();
                let Some(d) = next.filter(|d| *d <= end) else {
                    break;
                };
                self.now = self.now.max(d);
                for j in 0..self.routers.len() {
                    let due = self.routers[j]
                        .1
                        .next_deadline()
                        .is_some_and(|d| d <= self.now);
                    if !self.routers[j].2 || !due {
                        continue;
                    }
                    let now = self.now;
                    for a in self.routers[j].1.on_timer(now) {
                        self.log.push((now - self.t0, j, a.clone()));
                        if let Action::Send { dst, msg } = a {
                            let src = self.routers[j].0;
                            self.deliver(Some(j), src, dst, &msg);
                        }
                    }
                }
            }
            self.now = end;
        }

        fn sends(&self, j: usize) -> Vec<(u64, Ipv4Addr)> {
            self.log
                .iter()
                .filter_map(|(t, r, a)| match a {
                    Action::Send { dst, .. } if *r == j => Some((t.as_millis() as u64, *dst)),
                    _ => None,
                })
                .collect()
        }

        fn memberships(&self, j: usize) -> Vec<u64> {
            self.log
                .iter()
                .filter(|(_, r, a)| *r == j && matches!(a, Action::Membership { .. }))
                .map(|(t, _, _)| t.as_millis() as u64)
                .collect()
        }
    }

    #[test]
    fn lan_election_and_takeover() {
        let mut lan = Lan::new(&[LOWER, ME], cfg(2));
        lan.run_until(secs(300));
        let me = &lan.routers[1].1;
        assert_eq!((me.querier(), me.is_querier()), (Some(LOWER), false));
        assert!(lan.routers[0].1.is_querier());
        // Only the lower address queries: startup at 0 and 15 s, then every 60 s.
        let times: Vec<u64> = lan.sends(0).iter().map(|(t, _)| t / 1000).collect();
        assert_eq!(times, [0, 15, 75, 135, 195, 255]);
        assert!(lan.sends(1).is_empty());
        // The querier dies; the other takes over 125 s after its last query.
        lan.routers[0].2 = false;
        lan.run_until(secs(400));
        assert_eq!(lan.sends(1), [(380_000, ALL_SYSTEMS)]);
        assert!(lan.routers[1].1.is_querier());
    }

    #[test]
    fn lan_hot_standby_follows_the_querier_on_leave() {
        let mut lan = Lan::new(&[LOWER, ME], cfg(2));
        lan.run_until(secs(10));
        lan.host(Message::V2Report { group: G }, G);
        assert_eq!(lan.memberships(0), [10_000]);
        assert_eq!(lan.memberships(1), [10_000]);
        lan.run_until(secs(50));
        lan.host(Message::Leave { group: G }, ALL_ROUTERS);
        lan.run_until(secs(60));
        // The querier asks twice; the backup ignored the Leave itself but
        // lowered its timer on the querier's query, so both drop the group
        // at the same instant.
        assert_eq!(lan.sends(0)[2..], [(50_000, G), (51_000, G)]);
        assert_eq!(lan.memberships(0), [10_000, 52_000]);
        assert_eq!(lan.memberships(1), [10_000, 52_000]);
        assert!(!lan.routers[1].1.wants_any(G));
    }

    #[test]
    fn lan_v2_querier_stops_asking_once_a_member_answers() {
        let mut lan = Lan::new(&[LOWER, ME], cfg(2));
        lan.run_until(secs(10));
        lan.host(Message::V2Report { group: G }, G);
        lan.run_until(secs(50));
        lan.host(Message::Leave { group: G }, ALL_ROUTERS);
        lan.run_until(Duration::from_millis(50_500));
        lan.host(Message::V2Report { group: G }, G);
        lan.run_until(secs(60));
        // The second query is not sent: it would lower the backup's timer.
        assert_eq!(lan.sends(0)[2..], [(50_000, G)]);
        for j in 0..2 {
            assert_eq!(lan.memberships(j), [10_000]);
            let g = lan.routers[j].1.group(G).unwrap();
            assert_eq!(g.expires - lan.t0, ms(50_500) + secs(130));
        }
    }

    #[test]
    fn lan_v3_backup_honours_the_s_flag_after_an_answer() {
        let mut lan = Lan::new(&[LOWER, ME], cfg(3));
        lan.run_until(secs(10));
        let record = |kind| {
            Message::V3Report(vec![GroupRecord {
                kind,
                group: G,
                sources: vec![],
            }])
        };
        lan.host(record(ModeIsExclude), ALL_IGMPV3_ROUTERS);
        lan.run_until(secs(50));
        lan.host(record(ChangeToInclude), ALL_IGMPV3_ROUTERS);
        lan.run_until(ms(50_500));
        // Another member answers the first query; the querier's second
        // query then carries the S flag and the backup keeps its timer.
        lan.host(record(ModeIsExclude), ALL_IGMPV3_ROUTERS);
        lan.run_until(secs(60));
        let specific: Vec<bool> = lan
            .log
            .iter()
            .filter_map(|(_, r, a)| match a {
                Action::Send {
                    msg: Message::Query(q),
                    ..
                } if *r == 0 && q.group == G => Some(q.s_flag),
                _ => None,
            })
            .collect();
        assert_eq!(specific, [false, true]);
        for j in 0..2 {
            assert_eq!(lan.memberships(j), [10_000]);
            let g = lan.routers[j].1.group(G).unwrap();
            assert_eq!(g.expires - lan.t0, ms(50_500) + secs(130));
        }
    }

    // ---- version 2 membership --------------------------------------------

    #[test]
    fn report_creates_group_refresh_keeps_it_expiry_removes_it() {
        let (mut i, t0) = iface(2);
        let now = t0 + secs(1);
        assert_eq!(v2_report(&mut i, now), [Action::Membership { group: G }]);
        let g = i.group(G).unwrap();
        assert_eq!((g.mode, g.last_reporter, g.compat), (Exclude, HOST, 2));
        assert_eq!(g.expires, now + secs(130));
        assert!(g.sources.is_empty() && g.excluded.is_empty());
        assert!(i.wants_any(G) && i.wants(S1, G));
        // A refresh is not a membership change.
        assert!(v2_report(&mut i, now + secs(60)).is_empty());
        assert_eq!(expires(&i, t0), secs(191));
        let log = run(&mut i, t0 + secs(400));
        let removed: Vec<(Duration, Ipv4Addr)> = log
            .iter()
            .filter(|(_, a)| matches!(a, Action::Membership { .. }))
            .map(|(t, _)| (*t - t0, G))
            .collect();
        assert_eq!(removed, [(secs(191), G)]);
        assert_eq!(i.groups().count(), 0);
        assert!(!i.wants_any(G) && !i.wants(S1, G));
    }

    #[test]
    fn querier_leave_sends_group_specific_queries_then_removes() {
        let (mut i, t0) = iface(2);
        v2_report(&mut i, t0 + secs(1));
        let now = t0 + secs(10);
        let a = leave(&mut i, now);
        assert_eq!(
            a,
            [Action::Send {
                dst: G,
                msg: specific(2, G, &[], false)
            }]
        );
        assert_eq!(expires(&i, t0), secs(12));
        let log = run(&mut i, t0 + secs(14));
        let actions: Vec<Action> = log.iter().map(|(_, a)| a.clone()).collect();
        assert_eq!(queries(&actions), queries(&a));
        assert_eq!(log[0].0 - t0, secs(11));
        assert_eq!(memberships(&actions), [G]);
        assert_eq!(log[1].0 - t0, secs(12));
        assert!(i.group(G).is_none());
    }

    #[test]
    fn leave_for_unknown_group_does_nothing() {
        let (mut i, t0) = iface(2);
        assert!(leave(&mut i, t0 + secs(1)).is_empty());
        assert!(i.group(G).is_none());
    }

    #[test]
    fn non_querier_keeps_reports_ignores_leaves_and_follows_group_queries() {
        let (mut i, t0) = non_querier(2);
        let now = t0 + secs(1);
        assert_eq!(v2_report(&mut i, now), [Action::Membership { group: G }]);
        assert!(leave(&mut i, now + secs(1)).is_empty());
        assert_eq!(expires(&i, t0), secs(131));
        // The querier's Group-Specific Query lowers the timer to LMQT.
        let q = specific(2, G, &[], false);
        assert!(i.receive(&q, LOWER, G, now + secs(1)).is_empty());
        assert_eq!(expires(&i, t0), secs(4));
        let log = run(&mut i, t0 + secs(10));
        assert_eq!(log, [(t0 + secs(4), Action::Membership { group: G })]);
    }

    #[test]
    fn non_querier_honours_the_s_flag() {
        let (mut i, t0) = non_querier(3);
        v3(&mut i, ModeIsExclude, &[], t0 + secs(1));
        let suppressed = specific(3, G, &[], true);
        i.receive(&suppressed, LOWER, G, t0 + secs(2));
        assert_eq!(expires(&i, t0), secs(131));
        let plain = specific(3, G, &[], false);
        i.receive(&plain, LOWER, G, t0 + secs(2));
        assert_eq!(expires(&i, t0), secs(4));
    }

    #[test]
    fn non_querier_lowers_source_timers_on_group_and_source_query() {
        let (mut i, t0) = non_querier(3);
        v3(&mut i, AllowNewSources, &[S1, S2], t0 + secs(1));
        let q = specific(3, G, &[S1], false);
        assert!(i.receive(&q, LOWER, G, t0 + secs(2)).is_empty());
        assert_eq!(timers(&i, t0), [(S1, secs(4)), (S2, secs(131))]);
        let log = run(&mut i, t0 + secs(5));
        assert_eq!(log, [(t0 + secs(4), Action::Membership { group: G })]);
        assert!(!i.wants(S1, G) && i.wants(S2, G));
    }

    #[test]
    fn misaddressed_and_unroutable_reports_are_ignored() {
        let (mut i, t0) = iface(3);
        let now = t0 + secs(1);
        let other = Ipv4Addr::new(239, 9, 9, 9);
        let mdns = Ipv4Addr::new(224, 0, 0, 251);
        assert!(i
            .receive(&Message::V2Report { group: G }, HOST, other, now)
            .is_empty());
        assert!(i
            .receive(&Message::V2Report { group: mdns }, HOST, mdns, now)
            .is_empty());
        assert!(i
            .receive(&Message::V1Report { group: HOST }, HOST, HOST, now)
            .is_empty());
        let records = vec![GroupRecord {
            kind: ModeIsExclude,
            group: G,
            sources: vec![],
        }];
        let v3_report = Message::V3Report(records);
        assert!(i.receive(&v3_report, HOST, ALL_SYSTEMS, now).is_empty());
        assert_eq!(i.groups().count(), 0);
        // Unicast to the router is accepted.
        assert_eq!(
            i.receive(&v3_report, HOST, ME, now),
            [Action::Membership { group: G }]
        );
        // A Leave to some other multicast group is ignored.
        let l = Message::Leave { group: G };
        assert!(i
            .receive(&l, HOST, Ipv4Addr::new(224, 0, 0, 5), now)
            .is_empty());
        assert_eq!(expires(&i, t0), secs(131));
    }

    // ---- version 3: RFC 3376 §6.4 --------------------------------------

    #[test]
    fn v3_include_allow_and_wants() {
        let (mut i, t0) = iface(3);
        let now = t0 + secs(1);
        assert_eq!(
            v3(&mut i, AllowNewSources, &[S2, S1, S2], now),
            [Action::Membership { group: G }]
        );
        assert_eq!(mode(&i), Include);
        assert_eq!(timers(&i, t0), [(S1, secs(131)), (S2, secs(131))]);
        assert_eq!(expires(&i, t0), secs(131));
        assert_eq!(i.group(G).unwrap().compat, 3);
        assert!(i.wants(S1, G) && i.wants(S2, G) && !i.wants(S3, G));
        assert!(!i.wants_any(G));
        // IS_IN adds without a membership change for known sources.
        assert!(v3(&mut i, ModeIsInclude, &[S1], t0 + secs(5)).is_empty());
        assert_eq!(timers(&i, t0), [(S1, secs(135)), (S2, secs(131))]);
        // Empty records create nothing.
        assert!(i
            .receive(
                &Message::V3Report(vec![GroupRecord {
                    kind: ModeIsInclude,
                    group: Ipv4Addr::new(239, 2, 2, 2),
                    sources: vec![]
                }]),
                HOST,
                ALL_IGMPV3_ROUTERS,
                now
            )
            .is_empty());
        assert_eq!(i.groups().count(), 1);
    }

    #[test]
    fn v3_include_block_queries_sources_then_drops_them() {
        let (mut i, t0) = iface(3);
        v3(&mut i, AllowNewSources, &[S1, S2], t0 + secs(1));
        let now = t0 + secs(10);
        // INCLUDE(A) + BLOCK(B) -> INCLUDE(A), Send Q(G, A*B).
        let a = v3(&mut i, BlockOldSources, &[S2, S3], now);
        let Message::Query(q) = specific(3, G, &[S2], false) else {
            unreachable!()
        };
        assert_eq!(queries(&a), [(G, q.clone())]);
        assert_eq!(timers(&i, t0), [(S1, secs(131)), (S2, secs(12))]);
        let log = run(&mut i, t0 + secs(13));
        assert_eq!(log[0], (t0 + secs(11), a[0].clone()));
        assert_eq!(log[1], (t0 + secs(12), Action::Membership { group: G }));
        assert_eq!(log.len(), 2);
        assert_eq!(timers(&i, t0), [(S1, secs(131))]);
    }

    #[test]
    fn v3_include_to_exclude() {
        let (mut i, t0) = iface(3);
        v3(&mut i, AllowNewSources, &[S1, S2], t0 + secs(1));
        let now = t0 + secs(10);
        // INCLUDE(A) + TO_EX(B) -> EXCLUDE(A*B, B-A), delete A-B,
        // Send Q(G, A*B), group timer = GMI.
        let a = v3(&mut i, ChangeToExclude, &[S2, S3], now);
        let Message::Query(q) = specific(3, G, &[S2], false) else {
            unreachable!()
        };
        assert_eq!(queries(&a), [(G, q)]);
        assert_eq!(memberships(&a), [G]);
        assert_eq!(mode(&i), Exclude);
        assert_eq!(timers(&i, t0), [(S2, secs(12))]);
        assert_eq!(excluded(&i), [S3]);
        assert_eq!(expires(&i, t0), secs(140));
        assert!(i.wants(S1, G) && i.wants(S2, G) && !i.wants(S3, G) && i.wants_any(G));
        // In EXCLUDE mode an expired source moves to the exclude list.
        let log = run(&mut i, t0 + secs(12));
        assert_eq!(
            log.last(),
            Some(&(t0 + secs(12), Action::Membership { group: G }))
        );
        assert_eq!(excluded(&i), [S2, S3]);
        assert!(timers(&i, t0).is_empty());
        assert!(!i.wants(S2, G) && i.wants(S1, G));
    }

    #[test]
    fn v3_include_is_exclude_keeps_timers() {
        let (mut i, t0) = iface(3);
        v3(&mut i, AllowNewSources, &[S1, S2], t0 + secs(1));
        // INCLUDE(A) + IS_EX(B) -> EXCLUDE(A*B, B-A): no query.
        let a = v3(&mut i, ModeIsExclude, &[S2, S3], t0 + secs(10));
        assert_eq!(a, [Action::Membership { group: G }]);
        assert_eq!(timers(&i, t0), [(S2, secs(131))]);
        assert_eq!(excluded(&i), [S3]);
        assert_eq!(expires(&i, t0), secs(140));
    }

    /// EXCLUDE(X = {S1, S2}, Y = {S3}), sources timed from t0 + 1 s.
    fn exclude_state() -> (Interface, Instant) {
        let (mut i, t0) = iface(3);
        v3(&mut i, AllowNewSources, &[S1, S2], t0 + secs(1));
        v3(&mut i, ModeIsExclude, &[S1, S2, S3], t0 + secs(2));
        assert_eq!(timers(&i, t0), [(S1, secs(131)), (S2, secs(131))]);
        assert_eq!(excluded(&i), [S3]);
        (i, t0)
    }

    #[test]
    fn v3_exclude_is_exclude() {
        let (mut i, t0) = exclude_state();
        // EXCLUDE(X,Y) + IS_EX(A) -> EXCLUDE(A-Y, Y*A), (A-X-Y) = GMI,
        // delete X-A and Y-A, group timer = GMI.
        let a = v3(&mut i, ModeIsExclude, &[S2, S3, S4], t0 + secs(10));
        assert_eq!(a, [Action::Membership { group: G }]);
        assert_eq!(timers(&i, t0), [(S2, secs(131)), (S4, secs(140))]);
        assert_eq!(excluded(&i), [S3]);
        assert_eq!(expires(&i, t0), secs(140));
    }

    #[test]
    fn v3_exclude_block() {
        let (mut i, t0) = exclude_state();
        let mut i2 = i.clone();
        // EXCLUDE(X,Y) + BLOCK(A) -> EXCLUDE(X+(A-Y), Y),
        // (A-X-Y) = group timer, Send Q(G, A-Y).
        let a = v3(&mut i, BlockOldSources, &[S1, S3, S4], t0 + secs(10));
        let Message::Query(q) = specific(3, G, &[S1, S4], false) else {
            unreachable!()
        };
        assert_eq!(queries(&a), [(G, q)]);
        assert_eq!(
            timers(&i, t0),
            [(S1, secs(12)), (S2, secs(131)), (S4, secs(12))]
        );
        assert_eq!(excluded(&i), [S3]);
        assert_eq!(expires(&i, t0), secs(132));
        // A non-querier takes the new source at the group timer, unqueried.
        i2.receive(&general(3), LOWER, ALL_SYSTEMS, t0 + secs(3));
        let a = v3(&mut i2, BlockOldSources, &[S1, S3, S4], t0 + secs(10));
        assert_eq!(memberships(&a), [G]);
        assert!(queries(&a).is_empty());
        assert_eq!(
            timers(&i2, t0),
            [(S1, secs(131)), (S2, secs(131)), (S4, secs(132))]
        );
    }

    #[test]
    fn v3_exclude_to_exclude() {
        let (mut i, t0) = exclude_state();
        let mut backup = i.clone();
        // EXCLUDE(X,Y) + TO_EX(A) -> EXCLUDE(A-Y, Y*A), (A-X-Y) = group
        // timer, delete X-A and Y-A, Send Q(G, A-Y), group timer = GMI.
        let a = v3(&mut i, ChangeToExclude, &[S3, S4], t0 + secs(10));
        let Message::Query(q) = specific(3, G, &[S4], false) else {
            unreachable!()
        };
        assert_eq!(queries(&a), [(G, q)]);
        assert_eq!(timers(&i, t0), [(S4, secs(12))]);
        assert_eq!(excluded(&i), [S3]);
        assert_eq!(expires(&i, t0), secs(140));
        // Without the query (non-querier) the new source keeps the old
        // group timer.
        backup.receive(&general(3), LOWER, ALL_SYSTEMS, t0 + secs(3));
        let a = v3(&mut backup, ChangeToExclude, &[S3, S4], t0 + secs(10));
        assert!(queries(&a).is_empty());
        assert_eq!(timers(&backup, t0), [(S4, secs(132))]);
    }

    #[test]
    fn v3_exclude_to_include_then_group_timer_switches_to_include() {
        let (mut i, t0) = exclude_state();
        // EXCLUDE(X,Y) + TO_IN(A) -> EXCLUDE(X+A, Y-A), (A) = GMI,
        // Send Q(G, X-A), Send Q(G).
        let now = t0 + secs(10);
        let a = v3(&mut i, ChangeToInclude, &[S2, S3], now);
        let Message::Query(qs) = specific(3, G, &[S1], false) else {
            unreachable!()
        };
        let Message::Query(qg) = specific(3, G, &[], false) else {
            unreachable!()
        };
        assert_eq!(queries(&a), [(G, qs.clone()), (G, qg.clone())]);
        assert_eq!(memberships(&a), [G]);
        assert_eq!(
            timers(&i, t0),
            [(S1, secs(12)), (S2, secs(140)), (S3, secs(140))]
        );
        assert!(excluded(&i).is_empty());
        assert_eq!(expires(&i, t0), secs(12));
        // Retransmissions at 11 s, then the group timer expires at 12 s:
        // INCLUDE with the sources still running.
        let log = run(&mut i, t0 + secs(13));
        let at11: Vec<Action> = log
            .iter()
            .filter(|(t, _)| *t == t0 + secs(11))
            .map(|(_, a)| a.clone())
            .collect();
        assert_eq!(queries(&at11), [(G, qg), (G, qs)]);
        assert_eq!(
            log.last(),
            Some(&(t0 + secs(12), Action::Membership { group: G }))
        );
        assert_eq!(mode(&i), Include);
        assert_eq!(timers(&i, t0), [(S2, secs(140)), (S3, secs(140))]);
        assert!(!i.wants(S1, G) && i.wants(S2, G) && !i.wants_any(G));
    }

    #[test]
    fn v3_exclude_group_timer_expiry_without_sources_removes_group() {
        let (mut i, t0) = iface(3);
        v3(&mut i, ModeIsExclude, &[S1], t0 + secs(1));
        assert_eq!(excluded(&i), [S1]);
        let log = run(&mut i, t0 + secs(131));
        assert_eq!(memberships(log.iter().map(|(_, a)| a)), [G]);
        assert!(i.group(G).is_none());
    }

    #[test]
    fn source_query_retransmission_splits_on_the_s_flag() {
        let (mut i, t0) = iface(3);
        v3(&mut i, AllowNewSources, &[S1, S2], t0 + secs(1));
        v3(&mut i, BlockOldSources, &[S1, S2], t0 + secs(10));
        // S1 is still wanted: its timer goes back to GMI before the
        // retransmission, which then lists it with the S flag set.
        v3(&mut i, AllowNewSources, &[S1], t0 + ms(10_500));
        let log = run(&mut i, t0 + secs(11));
        let actions: Vec<Action> = log.iter().map(|(_, a)| a.clone()).collect();
        let Message::Query(probe) = specific(3, G, &[S2], false) else {
            unreachable!()
        };
        let Message::Query(suppressed) = specific(3, G, &[S1], true) else {
            unreachable!()
        };
        assert_eq!(queries(&actions), [(G, probe), (G, suppressed)]);
        run(&mut i, t0 + secs(12));
        assert_eq!(timers(&i, t0), [(S1, ms(140_500))]);
    }

    // ---- compatibility modes (RFC 3376 §7.3.2) and version 2 routers ----

    #[test]
    fn v2_host_puts_group_in_v2_compat_mode_until_its_timer_expires() {
        let (mut i, t0) = iface(3);
        v2_report(&mut i, t0 + secs(1));
        assert_eq!(i.group(G).unwrap().compat, 2);
        // BLOCK is ignored; TO_EX(x) is TO_EX({}): no source state, no query.
        assert!(v3(&mut i, BlockOldSources, &[S1], t0 + secs(2)).is_empty());
        assert!(v3(&mut i, ChangeToExclude, &[S1], t0 + secs(3)).is_empty());
        assert!(timers(&i, t0).is_empty() && excluded(&i).is_empty());
        assert_eq!(expires(&i, t0), secs(133));
        // A v3 host keeps the group; the v2 host's timer runs out at 131 s.
        v3(&mut i, ModeIsExclude, &[], t0 + secs(100));
        run(&mut i, t0 + secs(131));
        assert_eq!(i.group(G).unwrap().compat, 3);
        let a = v3(&mut i, BlockOldSources, &[S1], t0 + secs(140));
        assert_eq!(queries(&a).len(), 1);
        assert_eq!(timers(&i, t0), [(S1, secs(142))]);
    }

    #[test]
    fn v1_host_makes_leaves_ignored() {
        let (mut i, t0) = iface(3);
        i.receive(&Message::V1Report { group: G }, HOST, G, t0 + secs(1));
        assert_eq!(i.group(G).unwrap().compat, 1);
        assert!(leave(&mut i, t0 + secs(2)).is_empty());
        assert!(v3(&mut i, ChangeToInclude, &[], t0 + secs(2)).is_empty());
        assert_eq!(expires(&i, t0), secs(131));
    }

    #[test]
    fn configured_v2_maps_v3_records_to_joins_and_leaves() {
        let (mut i, t0) = iface(2);
        let a = v3(&mut i, AllowNewSources, &[S1], t0 + secs(1));
        assert_eq!(a, [Action::Membership { group: G }]);
        let g = i.group(G).unwrap();
        assert_eq!((g.mode, g.compat), (Exclude, 2));
        assert!(g.sources.is_empty() && i.wants(S4, G));
        assert!(v3(&mut i, BlockOldSources, &[S1], t0 + secs(2)).is_empty());
        assert!(v3(&mut i, ChangeToExclude, &[S1], t0 + secs(3)).is_empty());
        assert!(excluded(&i).is_empty());
        assert_eq!(expires(&i, t0), secs(133));
        let a = v3(&mut i, ChangeToInclude, &[], t0 + secs(4));
        assert_eq!(
            a,
            [Action::Send {
                dst: G,
                msg: specific(2, G, &[], false)
            }]
        );
        assert_eq!(expires(&i, t0), secs(6));
    }

    // ---- configuration and address changes ------------------------------

    #[test]
    fn reconfigure_with_the_same_config_changes_nothing() {
        let (mut i, t0) = exclude_state();
        let before = (i.next_deadline(), i.groups().cloned().collect::<Vec<_>>());
        assert!(i.reconfigure(cfg(3), t0 + secs(20)).is_empty());
        let after = (i.next_deadline(), i.groups().cloned().collect::<Vec<_>>());
        assert_eq!(before, after);
        assert!(i.is_querier());
    }

    #[test]
    fn reconfigure_to_v2_collapses_sources_and_restarts_queries() {
        let (mut i, t0) = iface(3);
        v3(&mut i, AllowNewSources, &[S1], t0 + secs(1));
        v3(&mut i, AllowNewSources, &[S2], t0 + secs(5));
        let now = t0 + secs(10);
        assert_eq!(
            i.reconfigure(cfg(2), now),
            [Action::Membership { group: G }]
        );
        let g = i.group(G).unwrap();
        assert_eq!((g.mode, g.compat), (Exclude, 2));
        assert!(g.sources.is_empty() && g.excluded.is_empty());
        assert_eq!(expires(&i, t0), secs(135));
        assert_eq!(i.next_deadline(), Some(now));
        assert_eq!(queries(&i.on_timer(now))[0].1.version, 2);
        assert_eq!(i.next_deadline(), Some(now + secs(15)));
    }

    #[test]
    fn shorter_query_interval_brings_the_next_query_forward() {
        let (mut i, t0) = iface(2);
        run(&mut i, t0 + secs(20));
        assert_eq!(i.next_deadline(), Some(t0 + secs(75)));
        let c = Config {
            query_interval: secs(30),
            ..cfg(2)
        };
        assert!(i.reconfigure(c, t0 + secs(20)).is_empty());
        assert_eq!(i.next_deadline(), Some(t0 + secs(50)));
    }

    #[test]
    fn set_local_changes_roles() {
        let (mut i, t0) = non_querier(2);
        let now = t0 + secs(1);
        // Still above the querier: nothing changes.
        assert!(i.set_local(HIGHER, now).is_empty());
        // Below it: take over with startup queries.
        let lowest = Ipv4Addr::new(10, 0, 0, 0);
        assert_eq!(
            i.set_local(lowest, now),
            [Action::QuerierChange {
                querier: Some(lowest),
                is_querier: true
            }]
        );
        assert_eq!(i.next_deadline(), Some(now));
        assert_eq!(queries(&i.on_timer(now)).len(), 1);
        assert_eq!(i.next_deadline(), Some(now + secs(15)));
        // No address: no querying.
        assert_eq!(
            i.set_local(ANY, now),
            [Action::QuerierChange {
                querier: None,
                is_querier: false
            }]
        );
        assert_eq!(i.next_deadline(), None);
        // Any query then names the querier.
        i.receive(&general(2), HIGHER, ALL_SYSTEMS, now);
        assert_eq!((i.querier(), i.is_querier()), (Some(HIGHER), false));
    }
}
