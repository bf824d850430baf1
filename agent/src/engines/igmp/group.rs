//! The membership state of one group on a router interface (RFC 3376 §6.2–§6.5, in the
//! IGMPv3 model for every version, with the group compatibility modes of §7.3.2), and the
//! Group-Specific and Group-and-Source-Specific Queries the querier sends for it. The
//! interface ([`super::iface`]) owns the groups and decides who is querier.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::packet::{Message, Query, RecordType};
use super::{Action, Config, FilterMode};

/// Most sources in one Group-and-Source-Specific Query, so that it fits a
/// 1500-byte MTU: (1500 - 24 (IPv4 with Router Alert) - 12) / 4.
const MAX_QUERY_SOURCES: usize = 366;

/// Membership state of one group (RFC 3376 §6.2.1), for operational state
/// and forwarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupState {
    pub group: Ipv4Addr,
    /// Source address of the last report for the group.
    pub last_reporter: Ipv4Addr,
    pub mode: FilterMode,
    /// EXCLUDE: the group timer. INCLUDE: when the last source expires.
    pub expires: Instant,
    /// Sources with a running timer, sorted: the include list in INCLUDE
    /// mode, the "requested list" in EXCLUDE mode (forwarded either way).
    pub sources: Vec<(Ipv4Addr, Instant)>,
    /// EXCLUDE mode only: the "exclude list" (timer 0, not forwarded),
    /// sorted.
    pub excluded: Vec<Ipv4Addr>,
    /// Group compatibility mode, 1, 2 or 3 (RFC 3376 §7.3.2), never above the
    /// configured version.
    pub compat: u8,
}

/// What forwarding depends on; a change means [`Action::Membership`].
pub(super) type Signature = (FilterMode, Vec<Ipv4Addr>, Vec<Ipv4Addr>);

#[derive(Debug, Clone)]
pub(super) struct Group {
    pub(super) st: GroupState,
    /// Older Version Host Present timers (RFC 3376 §7.3.2).
    pub(super) v1_host: Option<Instant>,
    pub(super) v2_host: Option<Instant>,
    /// Group-Specific Query transmissions left, and when the next is due.
    pub(super) group_query: Option<(u32, Instant)>,
    /// Group-and-Source-Specific Query transmissions left per source.
    pub(super) source_query: Vec<(Ipv4Addr, u32)>,
    pub(super) source_query_at: Option<Instant>,
}

impl Group {
    pub(super) fn new(group: Ipv4Addr, now: Instant, cfg: &Config) -> Group {
        Group {
            st: GroupState {
                group,
                last_reporter: Ipv4Addr::UNSPECIFIED,
                mode: FilterMode::Include,
                expires: now,
                sources: Vec::new(),
                excluded: Vec::new(),
                compat: if cfg.v3() { 3 } else { 2 },
            },
            v1_host: None,
            v2_host: None,
            group_query: None,
            source_query: Vec::new(),
            source_query_at: None,
        }
    }

    pub(super) fn signature(&self) -> Signature {
        let sources = self.st.sources.iter().map(|(s, _)| *s).collect();
        (self.st.mode, sources, self.st.excluded.clone())
    }

    pub(super) fn source_index(&self, s: Ipv4Addr) -> Result<usize, usize> {
        self.st.sources.binary_search_by_key(&s, |(a, _)| *a)
    }

    pub(super) fn has_source(&self, s: Ipv4Addr) -> bool {
        self.source_index(s).is_ok()
    }

    pub(super) fn set_source(&mut self, s: Ipv4Addr, t: Instant) {
        match self.source_index(s) {
            Ok(i) => self.st.sources[i].1 = t,
            Err(i) => self.st.sources.insert(i, (s, t)),
        }
    }

    pub(super) fn is_excluded(&self, s: Ipv4Addr) -> bool {
        self.st.excluded.binary_search(&s).is_ok()
    }

    /// (B) = t for every source of `b`, taking it off the exclude list.
    pub(super) fn refresh(&mut self, b: &[Ipv4Addr], t: Instant) {
        self.st.excluded.retain(|s| b.binary_search(s).is_err());
        for s in b {
            self.set_source(*s, t);
        }
    }

    pub(super) fn update_compat(&mut self, cfg: &Config) {
        let hosts = if self.v1_host.is_some() {
            1
        } else if self.v2_host.is_some() {
            2
        } else {
            3
        };
        self.st.compat = if cfg.v3() { hosts } else { hosts.min(2) };
    }

    /// The router state transitions of RFC 3376 §6.4.1 and §6.4.2 for a
    /// record with the sorted, deduplicated source list `b`; `gmi` is now +
    /// GMI. Returns the "Send Q(G,X)" sources and whether to "Send Q(G)".
    pub(super) fn transition(
        &mut self,
        kind: RecordType,
        b: &[Ipv4Addr],
        gmi: Instant,
    ) -> (Vec<Ipv4Addr>, bool) {
        use RecordType::*;
        let in_b = |s: &Ipv4Addr| b.binary_search(s).is_ok();
        let listed: Vec<Ipv4Addr> = self.st.sources.iter().map(|(s, _)| *s).collect();
        match (self.st.mode, kind) {
            // INCLUDE(A) + IS_IN/ALLOW(B) -> INCLUDE(A+B), (B)=GMI.
            // EXCLUDE(X,Y) + IS_IN/ALLOW(A) -> EXCLUDE(X+A,Y-A), (A)=GMI.
            (_, ModeIsInclude | AllowNewSources) => {
                self.refresh(b, gmi);
                (Vec::new(), false)
            }
            // INCLUDE(A) + TO_IN(B) -> INCLUDE(A+B), (B)=GMI, Q(G,A-B).
            (FilterMode::Include, ChangeToInclude) => {
                self.refresh(b, gmi);
                (listed.into_iter().filter(|s| !in_b(s)).collect(), false)
            }
            // INCLUDE(A) + BLOCK(B) -> INCLUDE(A), Q(G,A*B).
            (FilterMode::Include, BlockOldSources) => {
                (listed.into_iter().filter(|s| in_b(s)).collect(), false)
            }
            // INCLUDE(A) + IS_EX/TO_EX(B) -> EXCLUDE(A*B,B-A), (B-A)=0,
            // delete (A-B), group timer = GMI; TO_EX also Q(G,A*B).
            (FilterMode::Include, ModeIsExclude | ChangeToExclude) => {
                self.st.excluded = b.iter().copied().filter(|s| !self.has_source(*s)).collect();
                self.st.sources.retain(|(s, _)| in_b(s));
                self.st.mode = FilterMode::Exclude;
                self.st.expires = gmi;
                let query = if kind == ChangeToExclude {
                    self.st.sources.iter().map(|(s, _)| *s).collect()
                } else {
                    Vec::new()
                };
                (query, false)
            }
            // EXCLUDE(X,Y) + TO_IN(A) -> EXCLUDE(X+A,Y-A), (A)=GMI, Q(G,X-A),
            // Q(G).
            (FilterMode::Exclude, ChangeToInclude) => {
                self.refresh(b, gmi);
                (listed.into_iter().filter(|s| !in_b(s)).collect(), true)
            }
            // EXCLUDE(X,Y) + BLOCK(A) -> EXCLUDE(X+(A-Y),Y),
            // (A-X-Y)=group timer, Q(G,A-Y).
            (FilterMode::Exclude, BlockOldSources) => {
                let group_timer = self.st.expires;
                let query: Vec<Ipv4Addr> = b
                    .iter()
                    .copied()
                    .filter(|s| !self.is_excluded(*s))
                    .collect();
                for s in &query {
                    if !self.has_source(*s) {
                        self.set_source(*s, group_timer);
                    }
                }
                (query, false)
            }
            // EXCLUDE(X,Y) + IS_EX/TO_EX(A) -> EXCLUDE(A-Y,Y*A), delete (X-A)
            // and (Y-A), group timer = GMI. IS_EX: (A-X-Y)=GMI. TO_EX:
            // (A-X-Y)=group timer, Q(G,A-Y).
            (FilterMode::Exclude, ModeIsExclude | ChangeToExclude) => {
                let fresh = if kind == ModeIsExclude {
                    gmi
                } else {
                    self.st.expires
                };
                let sources: Vec<(Ipv4Addr, Instant)> = b
                    .iter()
                    .copied()
                    .filter(|s| !self.is_excluded(*s))
                    .map(|s| match self.source_index(s) {
                        Ok(i) => self.st.sources[i],
                        Err(_) => (s, fresh),
                    })
                    .collect();
                self.st.excluded.retain(|s| in_b(s));
                self.st.sources = sources;
                self.st.expires = gmi;
                let query = if kind == ChangeToExclude {
                    self.st.sources.iter().map(|(s, _)| *s).collect()
                } else {
                    Vec::new()
                };
                (query, false)
            }
        }
    }

    /// "Send Q(G)" (RFC 3376 §6.6.3.1): lower the group timer to LMQT and
    /// start LMQC Group-Specific Queries, unless a series is running.
    pub(super) fn start_group_query(&mut self, cfg: &Config, now: Instant, out: &mut Vec<Action>) {
        self.st.expires = self.st.expires.min(now + cfg.last_member_query_time());
        if self.group_query.is_none() {
            self.group_query = Some((cfg.rv(), now));
            self.send_group_query(cfg, now, out);
        }
    }

    pub(super) fn send_group_query(&mut self, cfg: &Config, now: Instant, out: &mut Vec<Action>) {
        let Some((left, at)) = self.group_query.filter(|(_, at)| *at <= now) else {
            return;
        };
        let suppress = self.st.expires > now + cfg.last_member_query_time();
        if suppress && !cfg.v3() {
            // A report answered: without an S flag, stop querying.
            self.group_query = None;
            return;
        }
        let msg = query(
            cfg,
            self.st.group,
            cfg.last_member_interval,
            suppress,
            Vec::new(),
        );
        out.push(Action::Send {
            dst: self.st.group,
            msg,
        });
        self.group_query = (left > 1).then(|| (left - 1, at + cfg.last_member_interval));
    }

    /// "Send Q(G,X)" (RFC 3376 §6.6.3.2): lower the source timers of X to
    /// LMQT and give each LMQC transmissions.
    pub(super) fn start_source_query(
        &mut self,
        cfg: &Config,
        x: &[Ipv4Addr],
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let lmqt = now + cfg.last_member_query_time();
        for s in x {
            let Ok(i) = self.source_index(*s) else {
                continue;
            };
            let t = &mut self.st.sources[i].1;
            *t = (*t).min(lmqt);
            match self.source_query.iter_mut().find(|(a, _)| a == s) {
                Some(entry) => entry.1 = cfg.rv(),
                None => self.source_query.push((*s, cfg.rv())),
            }
        }
        if !self.source_query.is_empty() {
            self.source_query_at = Some(now);
            self.send_source_queries(cfg, now, out);
        }
    }

    /// One transmission of the pending Group-and-Source-Specific Queries:
    /// sources whose timer is above LMQT go in a query with the S flag set,
    /// the others in one without (RFC 3376 §6.6.3.2).
    pub(super) fn send_source_queries(
        &mut self,
        cfg: &Config,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        if self.source_query_at.is_none_or(|at| at > now) {
            return;
        }
        let lmqt = now + cfg.last_member_query_time();
        let (mut probe, mut suppressed) = (Vec::new(), Vec::new());
        for (s, left) in &mut self.source_query {
            let Ok(i) = self.st.sources.binary_search_by_key(s, |(a, _)| *a) else {
                *left = 0;
                continue;
            };
            if self.st.sources[i].1 > lmqt {
                suppressed.push(*s);
            } else {
                probe.push(*s);
            }
            *left -= 1;
        }
        self.source_query.retain(|(_, left)| *left > 0);
        self.source_query_at =
            (!self.source_query.is_empty()).then(|| now + cfg.last_member_interval);
        for (list, s_flag) in [(probe, false), (suppressed, true)] {
            for chunk in list.chunks(MAX_QUERY_SOURCES) {
                let msg = query(
                    cfg,
                    self.st.group,
                    cfg.last_member_interval,
                    s_flag,
                    chunk.to_vec(),
                );
                out.push(Action::Send {
                    dst: self.st.group,
                    msg,
                });
            }
        }
    }

    pub(super) fn cancel_queries(&mut self) {
        self.group_query = None;
        self.source_query.clear();
        self.source_query_at = None;
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        let group_timer = (self.st.mode == FilterMode::Exclude).then_some(self.st.expires);
        [
            group_timer,
            self.st.sources.iter().map(|(_, t)| *t).min(),
            self.v1_host,
            self.v2_host,
            self.group_query.map(|(_, at)| at),
            self.source_query_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// A query in the configured version; `s_flag` only exists in version 3.
pub(super) fn query(
    cfg: &Config,
    group: Ipv4Addr,
    max_resp: Duration,
    s_flag: bool,
    sources: Vec<Ipv4Addr>,
) -> Message {
    let max_resp_ds = (max_resp.as_millis() / 100).clamp(1, u128::from(u16::MAX)) as u16;
    let q = if cfg.v3() {
        Query {
            max_resp_ds,
            group,
            version: 3,
            s_flag,
            // RFC 3376 §4.1.6: 0 when the Robustness Variable exceeds 7.
            qrv: if cfg.rv() > 7 { 0 } else { cfg.rv() as u8 },
            qqic_s: cfg.query_interval.as_secs().min(u64::from(u32::MAX)) as u32,
            sources,
        }
    } else {
        Query {
            max_resp_ds,
            group,
            version: 2,
            s_flag: false,
            qrv: 0,
            qqic_s: 0,
            sources: Vec::new(),
        }
    };
    Message::Query(q)
}

/// A group whose membership is tracked: multicast, outside 224.0.0.0/24.
pub(super) fn routable(group: Ipv4Addr) -> bool {
    let o = group.octets();
    group.is_multicast() && !(o[0] == 224 && o[1] == 0 && o[2] == 0)
}
