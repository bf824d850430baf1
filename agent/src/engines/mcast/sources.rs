//! The multicast sources (flows) the engine knows of, learned from the forwarder's no-route
//! upcalls: where each one's data arrives, whether it is on the shortest-path tree, and when it
//! was last heard. Bounded: flows beyond [`MAX_SOURCES`] are counted, not tracked.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dataplane::mfib::Table;

/// How long a source stays known without fresh data.
pub const SOURCE_LIFETIME: Duration = Duration::from_secs(210);
/// At most this many (S,G) flows are tracked; data of further flows is not routed (counted).
pub const MAX_SOURCES: usize = 16384;

/// One flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// Where its data last arrived.
    pub ifindex: u32,
    /// Data has arrived on the RPF interface toward the source itself (the SPT bit of RFC 7761
    /// §4.2.2): from then on only that interface is accepted.
    pub spt: bool,
    pub last: Instant,
    /// The route's packet counter when last looked at (data keeps the source alive).
    pub packets: u64,
}

/// The flows, by (source, group).
#[derive(Debug, Default)]
pub struct Sources {
    flows: BTreeMap<(Ipv4Addr, Ipv4Addr), Source>,
    /// Upcalls of flows beyond [`MAX_SOURCES`].
    pub dropped: u64,
}

impl Sources {
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    pub fn get(&self, s: Ipv4Addr, g: Ipv4Addr) -> Option<&Source> {
        self.flows.get(&(s, g))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&(Ipv4Addr, Ipv4Addr), &Source)> + '_ {
        self.flows.iter()
    }

    /// Data of (s, g) without a route arrived on `ifindex`. Whether the routes must be
    /// computed again: only a new flow or a new arrival interface changes anything (a flow that
    /// cannot be routed keeps reporting and must not force a rebuild each time).
    pub fn heard(&mut self, s: Ipv4Addr, g: Ipv4Addr, ifindex: u32, now: Instant) -> bool {
        if let Some(e) = self.flows.get_mut(&(s, g)) {
            e.last = now;
            let moved = e.ifindex != ifindex;
            e.ifindex = ifindex;
            return moved;
        }
        if self.flows.len() >= MAX_SOURCES {
            self.dropped += 1;
            return false;
        }
        self.flows.insert(
            (s, g),
            Source {
                ifindex,
                spt: false,
                last: now,
                packets: 0,
            },
        );
        true
    }

    /// Data of (s, g) arrived on the RPF interface toward the source: the flow is on the
    /// shortest-path tree from now on. Whether that is news.
    pub fn on_spt(&mut self, s: Ipv4Addr, g: Ipv4Addr, ifindex: u32, now: Instant) -> bool {
        let Some(e) = self.flows.get_mut(&(s, g)) else {
            return false;
        };
        if e.spt && e.ifindex == ifindex {
            return false;
        }
        e.spt = true;
        e.ifindex = ifindex;
        e.last = now;
        true
    }

    /// Set the SPT bit of (s, g) as the route computation decided.
    pub fn set_spt(&mut self, s: Ipv4Addr, g: Ipv4Addr, spt: bool) {
        if let Some(e) = self.flows.get_mut(&(s, g)) {
            e.spt = spt;
        }
    }

    /// Data keeps a flow alive (its route's packet counter moves); silence for
    /// [`SOURCE_LIFETIME`] ends it. Whether any ended.
    pub fn expire(&mut self, table: &Table, now: Instant) -> bool {
        for ((s, g), src) in self.flows.iter_mut() {
            if let Some(r) = table.get(*s, *g) {
                let (p, _) = r.counters.get();
                if p != src.packets {
                    src.packets = p;
                    src.last = now;
                }
            }
        }
        let before = self.flows.len();
        self.flows
            .retain(|_, src| now.duration_since(src.last) < SOURCE_LIFETIME);
        self.flows.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: Ipv4Addr = Ipv4Addr::new(239, 1, 1, 1);

    fn s(i: u32) -> Ipv4Addr {
        Ipv4Addr::from(0x0a00_0000 + i)
    }

    #[test]
    fn only_news_asks_for_a_recomputation() {
        let now = Instant::now();
        let mut t = Sources::default();
        assert!(t.heard(s(1), G, 3, now), "a new flow");
        assert!(!t.heard(s(1), G, 3, now), "the same again");
        assert!(t.heard(s(1), G, 4, now), "a new arrival interface");
        assert!(t.on_spt(s(1), G, 4, now));
        assert!(!t.on_spt(s(1), G, 4, now));
        assert!(t.get(s(1), G).unwrap().spt);
        assert!(
            !t.on_spt(s(9), G, 4, now),
            "unknown flows are not created here"
        );
    }

    #[test]
    fn flows_beyond_the_cap_are_counted_not_tracked() {
        let now = Instant::now();
        let mut t = Sources::default();
        for i in 0..MAX_SOURCES as u32 {
            t.heard(s(i), G, 3, now);
        }
        assert!(!t.heard(s(MAX_SOURCES as u32), G, 3, now));
        assert!(!t.heard(s(MAX_SOURCES as u32 + 1), G, 3, now));
        assert_eq!((t.len(), t.dropped), (MAX_SOURCES, 2));
        // A known flow is still heard.
        assert!(t.heard(s(0), G, 4, now));
    }

    #[test]
    fn silence_ends_a_flow() {
        let now = Instant::now();
        let mut t = Sources::default();
        t.heard(s(1), G, 3, now);
        let table = Table::new();
        assert!(!t.expire(&table, now + SOURCE_LIFETIME - Duration::from_secs(1)));
        assert!(t.expire(&table, now + SOURCE_LIFETIME));
        assert!(t.is_empty());
    }
}
