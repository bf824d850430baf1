//! An in-memory copy of the kernel's main IPv4 routing table for longest-prefix-match
//! lookups (RPF), kept current from route notifications.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use std::io;

use crate::netlink::{Handle, Nexthop, Route};

/// The entries of one prefix: the one in use (lowest metric) and any others, kept so that
/// removing the one in use brings the next one back, as in the kernel.
#[derive(Debug, Clone)]
struct Entries {
    best: Route,
    more: Vec<Route>,
}

impl Entries {
    fn into_vec(self) -> Vec<Route> {
        let mut all = self.more;
        all.insert(0, self.best);
        all
    }
}

/// An in-memory copy of the main routing table for longest-prefix-match lookups: one hash map
/// per prefix length, so a lookup costs at most 33 probes, whatever the table size. Read once
/// ([`Rib::from_kernel`]), then kept current from the kernel's route notifications
/// ([`Rib::apply`]), so that a routing change costs the entry it changes, not a new dump of a
/// table that may hold a million routes.
#[derive(Debug, Default, Clone)]
pub struct Rib {
    /// Longest prefix first.
    by_len: Vec<(u8, HashMap<u32, Entries>)>,
    /// The nexthop objects routes refer to, when the kernel reports some routes only by
    /// nexthop id.
    pub(crate) nexthops: HashMap<u32, Nexthop>,
}

impl Rib {
    pub fn new(routes: Vec<Route>) -> Rib {
        let mut rib = Rib::default();
        for r in routes {
            rib.insert(r, false);
        }
        rib
    }

    /// The main table as the kernel has it now, routes that name only a nexthop object
    /// resolved through a dump of those objects.
    pub fn from_kernel(h: &mut Handle) -> io::Result<Rib> {
        let routes = h.routes()?;
        let mut rib = Rib::default();
        if routes.iter().any(|r| r.oif == 0 && r.nh_id.is_some()) {
            rib.nexthops = h.nexthops()?;
        }
        for r in routes {
            if let Some(r) = rib.resolve(r) {
                rib.insert(r, false);
            }
        }
        Ok(rib)
    }

    /// Interface and gateway of a route that names only its nexthop object: the object's, or
    /// its group's first member with an interface (none for a blackhole object: interface 0).
    /// `None` when the object is unknown.
    fn resolve(&self, mut r: Route) -> Option<Route> {
        let Some(id) = r.nh_id.filter(|_| r.oif == 0) else {
            return Some(r);
        };
        let (oif, gateway) = match self.nexthops.get(&id)? {
            Nexthop::Group(members) => members
                .iter()
                .find_map(|m| match self.nexthops.get(m) {
                    Some(Nexthop::Via { oif, gateway }) if *oif != 0 => Some((*oif, *gateway)),
                    _ => None,
                })
                .unwrap_or((0, None)),
            Nexthop::Via { oif, gateway } => (*oif, *gateway),
        };
        (r.oif, r.gateway) = (oif, gateway);
        Some(r)
    }

    /// Apply a route notification ([`Event::Route`]). `false` when the route names a nexthop
    /// object this copy does not know: the copy is then incomplete and must be read again.
    pub fn apply(&mut self, route: Route, removed: bool, replace: bool) -> bool {
        let Some(route) = self.resolve(route) else {
            return false;
        };
        if removed {
            self.remove(&route);
        } else {
            self.insert(route, replace);
        }
        true
    }

    /// The prefix length and masked key of a route's prefix: which entry of the table a route
    /// (or a notification about one) is about.
    pub fn prefix(r: &Route) -> (u8, u32) {
        let len = r.prefix_len.min(32);
        (len, u32::from(r.dst) & mask(len))
    }

    fn insert(&mut self, r: Route, replace: bool) {
        let (len, key) = Rib::prefix(&r);
        let at = match self.by_len.binary_search_by(|(l, _)| len.cmp(l)) {
            Ok(i) => i,
            Err(i) => {
                self.by_len.insert(i, (len, HashMap::new()));
                i
            }
        };
        let m = &mut self.by_len[at].1;
        let Some(e) = m.remove(&key) else {
            m.insert(
                key,
                Entries {
                    best: r,
                    more: Vec::new(),
                },
            );
            return;
        };
        let mut all = e.into_vec();
        // A replacement takes the place of the entry with the same metric; anything else adds
        // an entry, unless the same one is there already (a dump and a notification overlap).
        if replace {
            if let Some(i) = all.iter().position(|o| o.metric == r.metric) {
                all.remove(i);
            }
        }
        if !all.iter().any(|o| o.metric == r.metric && same_path(o, &r)) {
            all.push(r);
        }
        m.insert(key, regroup(all).expect("not empty"));
    }

    /// Remove the entry with this route's metric (and path, when several share the metric).
    /// `false` when there was none.
    fn remove(&mut self, r: &Route) -> bool {
        let (len, key) = Rib::prefix(r);
        let Ok(at) = self.by_len.binary_search_by(|(l, _)| len.cmp(l)) else {
            return false;
        };
        let m = &mut self.by_len[at].1;
        let Some(e) = m.remove(&key) else {
            return false;
        };
        let mut all = e.into_vec();
        let found = all
            .iter()
            .position(|o| o.metric == r.metric && same_path(o, r))
            .or_else(|| all.iter().position(|o| o.metric == r.metric));
        if let Some(i) = found {
            all.remove(i);
        }
        match regroup(all) {
            Some(rest) => {
                m.insert(key, rest);
            }
            None if m.is_empty() => {
                self.by_len.remove(at);
            }
            None => {}
        }
        found.is_some()
    }

    /// The most specific route toward `addr` (interface 0: one that sends nowhere).
    pub fn lookup(&self, addr: Ipv4Addr) -> Option<&Route> {
        let a = u32::from(addr);
        self.by_len
            .iter()
            .find_map(|(len, m)| m.get(&(a & mask(*len))).map(|e| &e.best))
    }

    /// Prefixes in the table (several entries for one prefix count once).
    pub fn len(&self) -> usize {
        self.by_len.iter().map(|(_, m)| m.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The entries of one prefix with the lowest metric first (the first of equals stays first).
fn regroup(mut all: Vec<Route>) -> Option<Entries> {
    let i = (0..all.len()).min_by_key(|&i| all[i].metric)?;
    let best = all.remove(i);
    // A prefix with one entry (nearly all of them) keeps no allocation.
    all.shrink_to_fit();
    Some(Entries { best, more: all })
}

/// Same interface and gateway.
fn same_path(a: &Route, b: &Route) -> bool {
    a.oif == b.oif && a.gateway == b.gateway
}

fn mask(len: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(len.min(32)))
        .unwrap_or(0)
}
