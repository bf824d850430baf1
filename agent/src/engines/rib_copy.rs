//! The multicast engine's copy of the unicast routing table, for RPF: which copy serves
//! lookups, whether a fresh one is being read ([`super::rib_loader`] reads on a thread of its
//! own), and the route notifications that arrive during that read.
//!
//! A read takes a while (about 70 ms per 100,000 routes) and the kernel goes on changing the
//! table meanwhile: a notification may or may not be in the copy being read, and a prefix may be
//! read before, between or after the notifications that touched it. So every notification is
//! applied to the copy in use at once (lookups stay current), and the last one per entry (prefix
//! and metric) is kept and replayed onto the new copy when it is in, as a replacement or a
//! removal of that entry. That gives the entry's final state whatever the read saw of it:
//! replaying every notification in order would not, as a plain add re-applied after a later
//! replacement leaves the stale path in front (add via B, replace with C: the read has C, the
//! replayed add puts B beside it and the replayed replace then removes C).
//!
//! Replaying is on the protocol thread, so it goes [`REPLAY_CHUNK`] entries at a time: a
//! busy BGP table changes tens of thousands of entries during one read, and replaying them in
//! one go would hold BFD up for milliseconds. Meanwhile the copy in use serves lookups and new
//! notifications join the ones still to replay.
//!
//! Pure state: the caller asks the loader when [`RibCopy::want_read`] says so, hands the
//! result to [`RibCopy::loaded`], and calls [`RibCopy::replay`] while
//! [`RibCopy::is_replaying`].

use std::collections::HashMap;
use std::io;
use std::net::Ipv4Addr;

use dataplane::netlink::{Rib, Route};

/// Route notifications kept while a copy is read: beyond this, reading the table again is
/// cheaper than replaying them.
pub const MAX_PENDING_ROUTES: usize = 100_000;

/// Notifications replayed onto a fresh copy per call: a few hundred microseconds' work.
pub const REPLAY_CHUNK: usize = 2_000;

/// What a route notification asks of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// No copy yet: nothing to recompute (the notification is kept for the copy being read).
    None,
    /// The copy in use changed: recompute RPF.
    Applied,
    /// The copy in use could not take it (a nexthop object it does not know): recompute, and
    /// read the table again.
    Reread,
}

/// What a finished read asks of the caller.
#[derive(Debug)]
pub struct Loaded {
    /// The copy it replaced (or the new one, if it was not taken), to be freed off the protocol
    /// thread.
    pub free: Option<Rib>,
    /// Notifications replayed onto the new copy.
    pub replayed: usize,
    /// Read again: the table's links, addresses or nexthops changed during this read, too
    /// many notifications came in, or one could not be replayed.
    pub again: bool,
}

#[derive(Debug)]
pub struct RibCopy {
    /// The copy lookups use; `None` until the first read is in.
    table: Option<Rib>,
    /// A read is in flight; `Some(true)`: another must follow it.
    reading: Option<bool>,
    /// The last notification per entry (prefix length, masked prefix, metric) received during
    /// the read in flight: (route, removed).
    pending: HashMap<(u8, u32, u32), (Route, bool)>,
    /// More entries changed during the read than are kept: the new copy misses some.
    overflow: bool,
    max_pending: usize,
    /// A fresh copy being brought up to date from `pending`, and whether a notification could
    /// not be replayed onto it.
    fresh: Option<(Rib, bool)>,
    /// Notifications replayed onto `fresh` so far.
    replayed: usize,
    chunk: usize,
}

impl Default for RibCopy {
    fn default() -> Self {
        RibCopy::new(MAX_PENDING_ROUTES)
    }
}

impl RibCopy {
    pub fn new(max_pending: usize) -> RibCopy {
        RibCopy {
            table: None,
            reading: None,
            pending: HashMap::new(),
            overflow: false,
            max_pending,
            fresh: None,
            replayed: 0,
            chunk: REPLAY_CHUNK,
        }
    }

    /// With `chunk` notifications replayed per call (tests).
    pub fn with_chunk(max_pending: usize, chunk: usize) -> RibCopy {
        RibCopy {
            chunk: chunk.max(1),
            ..RibCopy::new(max_pending)
        }
    }

    /// A fresh copy is being brought up to date: call [`RibCopy::replay`].
    pub fn is_replaying(&self) -> bool {
        self.fresh.is_some()
    }

    /// A fresh copy is wanted. `true`: ask the loader now; `false`: a read is in flight, and
    /// another follows it (this one may have started before the change that wants it).
    pub fn want_read(&mut self) -> bool {
        match self.reading {
            Some(_) => {
                self.reading = Some(true);
                false
            }
            None => {
                self.reading = Some(false);
                true
            }
        }
    }

    /// No loader could be started: lookups see an empty table (connected sources only) until
    /// the next routing event asks again.
    pub fn no_reader(&mut self) {
        self.reading = None;
        self.pending.clear();
        self.fresh = None;
        self.table.get_or_insert_with(Rib::default);
    }

    /// The table was asked for at least once (a copy is in use or being read).
    pub fn in_use(&self) -> bool {
        self.table.is_some() || self.reading.is_some()
    }

    pub fn is_reading(&self) -> bool {
        self.reading.is_some()
    }

    pub fn has_table(&self) -> bool {
        self.table.is_some()
    }

    /// The most specific route toward `addr` in the copy in use.
    pub fn lookup(&self, addr: Ipv4Addr) -> Option<&Route> {
        self.table.as_ref()?.lookup(addr)
    }

    /// A route notification from the kernel.
    pub fn route_event(&mut self, route: Route, removed: bool, replace: bool) -> Update {
        if self.reading.is_some() && !self.overflow {
            let (len, prefix) = Rib::prefix(&route);
            let key = (len, prefix, route.metric);
            if self.pending.len() < self.max_pending || self.pending.contains_key(&key) {
                self.pending.insert(key, (route, removed));
            } else {
                self.pending.clear();
                self.overflow = true;
                self.reading = Some(true);
            }
        }
        match self
            .table
            .as_mut()
            .map(|t| t.apply(route, removed, replace))
        {
            None => Update::None,
            Some(true) => Update::Applied,
            Some(false) => Update::Reread,
        }
    }

    /// The read in flight ended. A copy replaces the one in use, with the notifications of its
    /// read replayed onto it. After an error the copy in use stays (it has every notification)
    /// or, with none yet, lookups see an empty table. So does it when more entries changed
    /// during the read than were kept: another read follows at once.
    /// `Ok(None)`: more notifications came in than one call replays; the copy is brought up to
    /// date by [`RibCopy::replay`], which answers in the same way when done.
    pub fn loaded(&mut self, read: io::Result<Rib>) -> Result<Option<Loaded>, (io::Error, bool)> {
        match read {
            Ok(rib) => {
                self.fresh = Some((rib, false));
                self.replayed = 0;
                Ok(self.replay())
            }
            Err(e) => {
                self.pending.clear();
                self.overflow = false;
                let again = self.reading.take() == Some(true);
                self.table.get_or_insert_with(Rib::default);
                Err((e, again))
            }
        }
    }

    /// Replay up to a chunk of notifications onto the fresh copy; when none are left it
    /// replaces the copy in use.
    pub fn replay(&mut self) -> Option<Loaded> {
        let (mut rib, mut failed) = self.fresh.take()?;
        if std::mem::take(&mut self.overflow) {
            self.pending.clear();
            self.reading = None;
            if self.table.is_some() {
                return Some(Loaded {
                    free: Some(rib),
                    replayed: 0,
                    again: true,
                });
            }
            // No copy in use: this one serves until the next read is in.
            return Some(Loaded {
                free: self.table.replace(rib),
                replayed: 0,
                again: true,
            });
        }
        let keys: Vec<_> = self.pending.keys().take(self.chunk).copied().collect();
        for k in keys {
            if let Some((route, removed)) = self.pending.remove(&k) {
                failed |= !rib.apply(route, removed, true);
                self.replayed += 1;
            }
        }
        if !self.pending.is_empty() {
            self.fresh = Some((rib, failed));
            return None;
        }
        let again = self.reading.take() == Some(true) || failed;
        Some(Loaded {
            free: self.table.replace(rib),
            replayed: std::mem::take(&mut self.replayed),
            again,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(dst: [u8; 4], len: u8, oif: u32, gw: [u8; 4]) -> Route {
        Route {
            dst: Ipv4Addr::from(dst),
            oif,
            gateway: Some(Ipv4Addr::from(gw)),
            prefix_len: len,
            metric: 0,
            protocol: 4,
            nh_id: None,
        }
    }

    fn gw(c: &RibCopy, a: [u8; 4]) -> Option<Ipv4Addr> {
        c.lookup(Ipv4Addr::from(a)).and_then(|r| r.gateway)
    }

    const SRC: [u8; 4] = [10, 9, 9, 9];

    /// The read started before a route was replaced and removed elsewhere: the copy it returns
    /// has the old route, and only the replay brings it up to date.
    #[test]
    fn notifications_during_a_read_are_replayed_onto_the_copy_it_returns() {
        let mut c = RibCopy::default();
        assert!(c.want_read());
        let old = route([10, 9, 0, 0], 16, 2, [10, 0, 0, 1]);
        let new = route([10, 9, 0, 0], 16, 3, [10, 0, 1, 1]);
        let gone = route([10, 8, 0, 0], 16, 2, [10, 0, 0, 1]);
        // No copy yet: nothing to recompute, the notifications are kept.
        assert_eq!(c.route_event(new, false, true), Update::None);
        assert_eq!(c.route_event(gone, true, false), Update::None);
        let stale = Rib::new(vec![old, gone]);
        let l = c.loaded(Ok(stale)).expect("a copy").expect("replayed");
        assert_eq!((l.replayed, l.again, l.free.is_none()), (2, false, true));
        assert_eq!(gw(&c, SRC), Some(Ipv4Addr::new(10, 0, 1, 1)));
        assert!(c.lookup(Ipv4Addr::new(10, 8, 1, 1)).is_none());
        assert!(!c.is_reading());
    }

    /// The same with a copy already in use: it takes the notification at once, and so does the
    /// fresh copy that did not see it; the replay is idempotent for one that did.
    #[test]
    fn the_copy_in_use_follows_notifications_and_replays_are_idempotent() {
        let mut c = RibCopy::default();
        let first = route([10, 9, 0, 0], 16, 2, [10, 0, 0, 1]);
        assert!(c.want_read());
        c.loaded(Ok(Rib::new(vec![first]))).expect("copy");
        assert!(c.want_read());
        let second = route([10, 9, 0, 0], 16, 3, [10, 0, 1, 1]);
        assert_eq!(c.route_event(second, false, true), Update::Applied);
        assert_eq!(gw(&c, SRC), Some(Ipv4Addr::new(10, 0, 1, 1)));
        // A read that saw the change.
        let l = c
            .loaded(Ok(Rib::new(vec![second])))
            .expect("copy")
            .expect("replayed");
        assert_eq!(l.free.map(|o| o.len()), Some(1));
        assert_eq!(gw(&c, SRC), Some(Ipv4Addr::new(10, 0, 1, 1)));
        // And one that did not, with the change being a removal.
        assert!(c.want_read());
        assert_eq!(c.route_event(second, true, false), Update::Applied);
        assert!(c.lookup(Ipv4Addr::from(SRC)).is_none());
        c.loaded(Ok(Rib::new(vec![second]))).expect("copy");
        assert!(
            c.lookup(Ipv4Addr::from(SRC)).is_none(),
            "the removal was lost"
        );
    }

    /// A change of links or addresses during a read may be missing from it: another read
    /// follows, and only one is in flight at a time.
    #[test]
    fn a_read_wanted_during_a_read_follows_it() {
        let mut c = RibCopy::default();
        assert!(c.want_read());
        assert!(!c.want_read());
        assert!(!c.want_read());
        let l = c
            .loaded(Ok(Rib::default()))
            .expect("copy")
            .expect("replayed");
        assert!(l.again);
        assert!(c.want_read());
        let l = c
            .loaded(Ok(Rib::default()))
            .expect("copy")
            .expect("replayed");
        assert!(!l.again);
    }

    /// Beyond the cap the notifications are dropped and the table is read again. The copy in
    /// use, which took every one of them, stays until then; with none, the new one serves.
    #[test]
    fn a_flood_of_notifications_during_a_read_reads_again() {
        let mut c = RibCopy::new(2);
        assert!(c.want_read());
        for i in 0..3u8 {
            c.route_event(route([10, i, 0, 0], 16, 2, [10, 0, 0, 1]), false, false);
        }
        let l = c
            .loaded(Ok(Rib::default()))
            .expect("copy")
            .expect("replayed");
        assert_eq!((l.replayed, l.again, l.free.is_none()), (0, true, true));
        assert!(c.has_table());

        assert!(c.want_read());
        for i in 0..3u8 {
            let r = route([10, 9, 0, 0], 16 + i, 2, [10, 0, 0, 1]);
            assert_eq!(c.route_event(r, false, false), Update::Applied);
        }
        let l = c
            .loaded(Ok(Rib::default()))
            .expect("copy")
            .expect("replayed");
        assert_eq!((l.again, l.free.map(|f| f.len())), (true, Some(0)));
        assert_eq!(
            gw(&c, SRC),
            Some(Ipv4Addr::new(10, 0, 0, 1)),
            "the current copy went"
        );
        // Changes to one entry count once.
        assert!(c.want_read());
        for i in 0..5u8 {
            c.route_event(route([10, 9, 0, 0], 16, 2, [10, 0, 0, i]), false, true);
        }
        let l = c
            .loaded(Ok(Rib::default()))
            .expect("copy")
            .expect("replayed");
        assert_eq!((l.replayed, l.again), (1, false));
        assert_eq!(gw(&c, SRC), Some(Ipv4Addr::new(10, 0, 0, 4)));
    }

    /// An entry added and then replaced (or removed and added again) during a read that saw the
    /// end result: the replay must give that result, not bring the intermediate path back.
    #[test]
    fn the_replay_gives_each_entry_its_last_state_whatever_the_read_saw() {
        let (b, cc) = ([10, 0, 0, 2], [10, 0, 0, 3]);
        let via = |g| route([10, 9, 0, 0], 16, 2, g);
        for saw in [vec![], vec![via(b)], vec![via(cc)]] {
            let mut c = RibCopy::default();
            assert!(c.want_read());
            c.route_event(via(b), false, false);
            c.route_event(via(cc), false, true);
            c.loaded(Ok(Rib::new(saw.clone()))).expect("copy");
            assert_eq!(gw(&c, SRC), Some(Ipv4Addr::from(cc)), "read saw {saw:?}");
        }
        for saw in [vec![via(b)], vec![], vec![via(cc)]] {
            let mut c = RibCopy::default();
            assert!(c.want_read());
            c.route_event(via(b), true, false);
            c.route_event(via(cc), false, false);
            c.loaded(Ok(Rib::new(saw.clone()))).expect("copy");
            assert_eq!(gw(&c, SRC), Some(Ipv4Addr::from(cc)), "read saw {saw:?}");
        }
    }

    /// A notification naming a nexthop object the fresh copy does not know cannot be replayed:
    /// the copy is incomplete and is read again.
    #[test]
    fn a_notification_the_copy_cannot_take_reads_again() {
        let mut c = RibCopy::default();
        assert!(c.want_read());
        let mut r = route([10, 9, 0, 0], 16, 0, [0, 0, 0, 0]);
        (r.gateway, r.nh_id) = (None, Some(77));
        assert_eq!(c.route_event(r, false, false), Update::None);
        let l = c
            .loaded(Ok(Rib::default()))
            .expect("copy")
            .expect("replayed");
        assert!(l.again);
        // The copy in use is just as unable: it says so at once.
        let mut r = route([10, 7, 0, 0], 16, 0, [0, 0, 0, 0]);
        (r.gateway, r.nh_id) = (None, Some(78));
        assert_eq!(c.route_event(r, false, false), Update::Reread);
    }

    /// A failed read keeps the copy in use (it has every notification); with none, lookups
    /// see an empty table rather than waiting for one forever.
    #[test]
    fn a_failed_read_keeps_the_copy_in_use() {
        let mut c = RibCopy::default();
        assert!(c.want_read());
        assert!(c.loaded(Err(io::Error::other("dump"))).is_err());
        assert!(c.has_table() && !c.is_reading());
        let r = route([10, 9, 0, 0], 16, 2, [10, 0, 0, 1]);
        assert_eq!(c.route_event(r, false, false), Update::Applied);
        assert!(c.want_read());
        assert!(!c.want_read());
        let (_, again) = c.loaded(Err(io::Error::other("dump"))).expect_err("failed");
        assert!(again);
        assert_eq!(gw(&c, SRC), Some(Ipv4Addr::new(10, 0, 0, 1)));
    }

    /// More notifications during a read than one call replays: the fresh copy is brought up
    /// to date a chunk per call, the copy in use serving (and following notifications) until
    /// it is done, and notifications arriving meanwhile are replayed too.
    #[test]
    fn a_long_replay_goes_a_chunk_at_a_time() {
        let mut c = RibCopy::with_chunk(100, 2);
        let old = route([10, 9, 0, 0], 16, 2, [10, 0, 0, 1]);
        assert!(c.want_read());
        c.loaded(Ok(Rib::new(vec![old])))
            .expect("copy")
            .expect("first");
        assert!(c.want_read());
        for i in 0..5u8 {
            c.route_event(
                route([10, 20 + i, 0, 0], 16, 2, [10, 0, 0, 1]),
                false,
                false,
            );
        }
        let new = route([10, 9, 0, 0], 16, 3, [10, 0, 1, 1]);
        c.route_event(new, false, true);
        // The read saw none of them: six to replay, two per call.
        assert!(c.loaded(Ok(Rib::new(vec![old]))).expect("copy").is_none());
        assert!(c.is_replaying() && c.is_reading());
        assert_eq!(gw(&c, SRC), Some(Ipv4Addr::new(10, 0, 1, 1)), "copy in use");
        assert!(c.replay().is_none());
        // A notification during the replay: applied at once, replayed as well.
        let late = route([10, 50, 0, 0], 16, 4, [10, 0, 0, 1]);
        assert_eq!(c.route_event(late, false, false), Update::Applied);
        assert_eq!(
            c.lookup(Ipv4Addr::new(10, 50, 1, 1)).map(|r| r.oif),
            Some(4)
        );
        assert!(c.replay().is_none());
        let l = c.replay().expect("done");
        assert_eq!((l.replayed, l.again), (7, false));
        assert_eq!(l.free.map(|f| f.len()), Some(7), "the copy that was in use");
        assert!(!c.is_replaying() && !c.is_reading());
        assert_eq!(
            c.lookup(Ipv4Addr::new(10, 21, 1, 1)).map(|r| r.oif),
            Some(2)
        );
        assert_eq!(
            c.lookup(Ipv4Addr::new(10, 50, 1, 1)).map(|r| r.oif),
            Some(4)
        );
        assert_eq!(gw(&c, SRC), Some(Ipv4Addr::new(10, 0, 1, 1)));
        // A flood during a replay: the fresh copy is dropped and read again.
        assert!(c.want_read());
        for i in 0..5u8 {
            c.route_event(
                route([10, 30 + i, 0, 0], 16, 2, [10, 0, 0, 1]),
                false,
                false,
            );
        }
        assert!(c.loaded(Ok(Rib::default())).expect("copy").is_none());
        for i in 0..200u8 {
            c.route_event(route([10, 40, i, 0], 24, 2, [10, 0, 0, 1]), false, false);
        }
        let l = c.replay().expect("given up");
        // The copy in use stays: it took every notification.
        let dropped = l.free.expect("the fresh copy");
        assert!(l.again && dropped.lookup(Ipv4Addr::new(10, 40, 9, 1)).is_none());
        assert!(!c.is_replaying() && !c.is_reading());
        assert_eq!(
            c.lookup(Ipv4Addr::new(10, 40, 9, 1)).map(|r| r.oif),
            Some(2)
        );
    }
}
