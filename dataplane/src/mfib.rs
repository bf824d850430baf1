//! The multicast forwarding table (MFIB) that forwarding threads read.
//!
//! The control plane (IGMP/PIM/VRRP engines) builds a whole [`Table`] and publishes it; a
//! forwarding thread holds an `Arc<Table>` for a batch of packets and never takes a lock on the
//! packet path. [`MfibReader`] makes the per-batch check a single atomic load: it re-reads the
//! table (one short lock and one `Arc` clone) only when the generation changed.
//!
//! Per-route counters live in an `Arc<RouteCounters>` that a route keeps across publications:
//! [`Mfib::update`] clones the current table (the clone shares the counters) and
//! [`Table::adopt_counters`] carries them over into a table built from scratch.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Packets and octets (IP total length) forwarded by one route; shared by every table version
/// that holds the route.
#[derive(Debug, Default)]
pub struct RouteCounters {
    pub packets: AtomicU64,
    pub octets: AtomicU64,
}

impl RouteCounters {
    /// Count one packet of `octets` bytes.
    #[inline]
    pub fn add(&self, octets: u64) {
        self.packets.fetch_add(1, Ordering::Relaxed);
        self.octets.fetch_add(octets, Ordering::Relaxed);
    }

    /// (packets, octets).
    pub fn get(&self) -> (u64, u64) {
        (
            self.packets.load(Ordering::Relaxed),
            self.octets.load(Ordering::Relaxed),
        )
    }
}

/// One outgoing interface of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Oif {
    pub ifindex: u32,
    /// false: the interface stays in the route but gets no copies (the mVRRP gate,
    /// "blocked-by-vrrp", or any other reason the control plane holds it back).
    pub forwarding: bool,
    /// Arrival time (CLOCK_REALTIME ns, as the receive ring stamps frames) from which
    /// `forwarding` holds; frames that arrived earlier get the previous state. A gate handed
    /// over between two routers switches at an instant of arrival, not of processing, so
    /// frames still queued in the rings at the handover go out exactly once. 0: always.
    pub since_ns: u64,
}

impl Oif {
    pub fn new(ifindex: u32, forwarding: bool) -> Oif {
        Oif {
            ifindex,
            forwarding,
            since_ns: 0,
        }
    }

    /// An oif whose state switched to `forwarding` for frames that arrived from `since_ns` on.
    pub fn switched(ifindex: u32, forwarding: bool, since_ns: u64) -> Oif {
        Oif {
            ifindex,
            forwarding,
            since_ns,
        }
    }

    /// Does a frame that arrived at `ts_ns` get a copy?
    #[inline]
    pub fn forwards_at(&self, ts_ns: u64) -> bool {
        self.forwarding == (ts_ns >= self.since_ns)
    }
}

/// An (S,G) route, or a (*,G) route when `source` is 0.0.0.0.
#[derive(Debug, Clone)]
pub struct Route {
    pub source: Ipv4Addr,
    pub group: Ipv4Addr,
    /// The RPF interface: packets arriving elsewhere are dropped.
    pub iif: u32,
    pub oifs: Vec<Oif>,
    /// Report data that arrives on another interface than `iif` to the control plane (the
    /// route is on the RP tree and waits for the shortest-path tree). Data arriving on one of
    /// the route's forwarding oifs is always reported (a PIM Assert).
    pub watch_other_iifs: bool,
    /// The register tunnel (RFC 7761 §4.4.1): each packet forwarded by this route is also
    /// encapsulated in a PIM Register unicast to this RP (we are the source's designated
    /// router and the RP has not sent a Register-Stop).
    pub register_to: Option<Ipv4Addr>,
    pub counters: Arc<RouteCounters>,
}

impl Route {
    /// A route with fresh (zero) counters.
    pub fn new(source: Ipv4Addr, group: Ipv4Addr, iif: u32, oifs: Vec<Oif>) -> Route {
        Route {
            source,
            group,
            iif,
            oifs,
            watch_other_iifs: false,
            register_to: None,
            counters: Arc::default(),
        }
    }

    /// A (*,G) route.
    pub fn any_source(&self) -> bool {
        self.source.is_unspecified()
    }

    /// The interfaces that get a copy of a packet that arrived on `iif` (never `iif` itself).
    pub fn forwarding_oifs(&self) -> impl Iterator<Item = u32> + '_ {
        self.forwarding_oifs_at(u64::MAX)
    }

    /// The outgoing interfaces that get a copy of a frame that arrived at `ts_ns` (see
    /// [`Oif::since_ns`]).
    #[inline]
    pub fn forwarding_oifs_at(&self, ts_ns: u64) -> impl Iterator<Item = u32> + '_ {
        self.oifs
            .iter()
            .filter(move |o| o.forwards_at(ts_ns) && o.ifindex != self.iif)
            .map(|o| o.ifindex)
    }

    /// Set the gate of `ifindex`; false when the route has no such oif.
    pub fn set_forwarding(&mut self, ifindex: u32, forwarding: bool) -> bool {
        match self.oifs.iter_mut().find(|o| o.ifindex == ifindex) {
            Some(o) => {
                o.forwarding = forwarding;
                o.since_ns = 0;
                true
            }
            None => false,
        }
    }
}

fn key(source: Ipv4Addr, group: Ipv4Addr) -> u64 {
    (u64::from(u32::from(source)) << 32) | u64::from(u32::from(group))
}

/// A hasher for the table's u64 keys: the splitmix64 finaliser, a few multiplies instead of
/// SipHash on the per-packet lookup. Keys are installed by the control plane, not chosen by the
/// packets being looked up, so flooding resistance is not needed here.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type KeyMap = HashMap<u64, Route, BuildHasherDefault<KeyHasher>>;

/// One immutable version of the forwarding table.
#[derive(Debug, Clone, Default)]
pub struct Table {
    routes: KeyMap,
}

impl Table {
    pub fn new() -> Table {
        Table::default()
    }

    /// Add or replace the route for (route.source, route.group); returns the one replaced.
    pub fn insert(&mut self, route: Route) -> Option<Route> {
        self.routes.insert(key(route.source, route.group), route)
    }

    pub fn remove(&mut self, source: Ipv4Addr, group: Ipv4Addr) -> Option<Route> {
        self.routes.remove(&key(source, group))
    }

    /// The route installed for exactly (source, group) (0.0.0.0 for (*,G)).
    pub fn get(&self, source: Ipv4Addr, group: Ipv4Addr) -> Option<&Route> {
        self.routes.get(&key(source, group))
    }

    pub fn get_mut(&mut self, source: Ipv4Addr, group: Ipv4Addr) -> Option<&mut Route> {
        self.routes.get_mut(&key(source, group))
    }

    /// The route for a packet from `source` to `group`: (S,G) first, then (*,G).
    #[inline]
    pub fn lookup(&self, source: Ipv4Addr, group: Ipv4Addr) -> Option<&Route> {
        self.lookup_raw(u32::from(source), u32::from(group))
    }

    /// [`Table::lookup`] on host-order addresses, as the forwarder reads them.
    #[inline]
    pub fn lookup_raw(&self, source: u32, group: u32) -> Option<&Route> {
        if self.routes.is_empty() {
            return None;
        }
        let g = u64::from(group);
        self.routes
            .get(&(u64::from(source) << 32 | g))
            .or_else(|| self.routes.get(&g))
    }

    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.values()
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Give every route that `old` also has (same source and group) the counters of its old
    /// version, so a table rebuilt from scratch keeps counting where the last one stopped.
    pub fn adopt_counters(&mut self, old: &Table) {
        for (k, r) in &mut self.routes {
            if let Some(o) = old.routes.get(k) {
                r.counters = Arc::clone(&o.counters);
            }
        }
    }
}

/// The current table plus a generation number that changes with every publication.
#[derive(Debug, Default)]
pub struct Mfib {
    current: Mutex<Arc<Table>>,
    generation: AtomicU64,
    /// An eventfd each publication signals, made by the first [`Mfib::waker`]: a forwarder that
    /// must act on a new table at once (the fast path's routes map) polls it.
    waker: OnceLock<OwnedFd>,
}

impl Mfib {
    pub fn new() -> Mfib {
        Mfib::default()
    }

    /// Make `table` the current one; returns the previous version.
    pub fn publish(&self, table: Table) -> Arc<Table> {
        let new = Arc::new(table);
        let mut cur = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        let old = std::mem::replace(&mut *cur, new);
        // Bumped under the lock, so a reader that sees the new number and then takes the lock
        // gets this table or a newer one.
        self.generation.fetch_add(1, Ordering::Release);
        drop(cur);
        self.wake();
        old
    }

    /// Clone the current table (routes keep their counters), change it with `f` and publish
    /// the result. Serialised with other `update`s and `publish`es.
    pub fn update<R>(&self, f: impl FnOnce(&mut Table) -> R) -> R {
        let mut cur = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        let mut t = Table::clone(&cur);
        let r = f(&mut t);
        *cur = Arc::new(t);
        self.generation.fetch_add(1, Ordering::Release);
        drop(cur);
        self.wake();
        r
    }

    /// A descriptor that polls readable once a table was published after the last
    /// [`drain_waker`] of it.
    pub fn waker(&self) -> io::Result<RawFd> {
        if let Some(fd) = self.waker.get() {
            return Ok(fd.as_raw_fd());
        }
        // SAFETY: eventfd takes no pointers; the descriptor it returns is checked below.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // Another thread may have set one meanwhile; then `fd` is closed and theirs is used.
        Ok(self.waker.get_or_init(|| fd).as_raw_fd())
    }

    fn wake(&self) {
        if let Some(fd) = self.waker.get() {
            let one = 1u64.to_ne_bytes();
            // SAFETY: `one` is 8 readable bytes; a full counter (EAGAIN) is as good as a write.
            unsafe { libc::write(fd.as_raw_fd(), one.as_ptr().cast(), one.len()) };
        }
    }

    /// The current table.
    pub fn snapshot(&self) -> Arc<Table> {
        Arc::clone(&self.current.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// How many tables have been published.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A reader holding the current table.
    pub fn reader(&self) -> MfibReader {
        let cur = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        MfibReader {
            generation: self.generation.load(Ordering::Acquire),
            table: Arc::clone(&cur),
        }
    }
}

/// Reset a [`Mfib::waker`] descriptor that polled readable.
pub fn drain_waker(fd: RawFd) {
    let mut b = [0u8; 8];
    // SAFETY: `b` is 8 writable bytes; the descriptor is non-blocking.
    unsafe { libc::read(fd, b.as_mut_ptr().cast(), b.len()) };
}

/// A forwarding thread's cached table: [`MfibReader::refresh`] once per batch costs one atomic
/// load unless a new table was published.
#[derive(Debug)]
pub struct MfibReader {
    generation: u64,
    table: Arc<Table>,
}

impl MfibReader {
    /// Pick up a newer table if there is one; true when it changed.
    #[inline]
    pub fn refresh(&mut self, mfib: &Mfib) -> bool {
        if mfib.generation.load(Ordering::Acquire) == self.generation {
            return false;
        }
        let cur = mfib.current.lock().unwrap_or_else(PoisonError::into_inner);
        self.generation = mfib.generation.load(Ordering::Acquire);
        self.table = Arc::clone(&cur);
        true
    }

    pub fn table(&self) -> &Table {
        &self.table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn lookup_prefers_source_specific_then_falls_back_to_any_source() {
        let mut t = Table::new();
        t.insert(Route::new(
            a("10.0.0.1"),
            a("239.1.1.1"),
            1,
            vec![Oif::new(2, true)],
        ));
        t.insert(Route::new(
            a("0.0.0.0"),
            a("239.1.1.1"),
            3,
            vec![Oif::new(4, true)],
        ));
        t.insert(Route::new(a("10.0.0.9"), a("239.9.9.9"), 5, vec![]));
        assert_eq!(t.lookup(a("10.0.0.1"), a("239.1.1.1")).unwrap().iif, 1);
        let star = t.lookup(a("10.0.0.2"), a("239.1.1.1")).unwrap();
        assert_eq!((star.iif, star.any_source()), (3, true));
        assert!(t.lookup(a("10.0.0.1"), a("239.9.9.9")).is_none());
        assert!(t.lookup(a("10.0.0.1"), a("239.2.2.2")).is_none());
        assert_eq!(t.len(), 3);
        assert!(t.remove(a("0.0.0.0"), a("239.1.1.1")).is_some());
        assert!(t.lookup(a("10.0.0.2"), a("239.1.1.1")).is_none());
        assert!(Table::new().lookup(a("10.0.0.1"), a("239.1.1.1")).is_none());
    }

    #[test]
    fn gated_and_incoming_interfaces_get_no_copy() {
        let mut r = Route::new(
            a("10.0.0.1"),
            a("239.1.1.1"),
            1,
            vec![Oif::new(1, true), Oif::new(2, true), Oif::new(3, false)],
        );
        assert_eq!(r.forwarding_oifs().collect::<Vec<_>>(), vec![2]);
        assert!(r.set_forwarding(3, true));
        assert!(!r.set_forwarding(9, true));
        assert_eq!(r.forwarding_oifs().collect::<Vec<_>>(), vec![2, 3]);
    }

    #[test]
    fn counters_survive_updates_and_rebuilds() {
        let mfib = Mfib::new();
        let mut t = Table::new();
        t.insert(Route::new(
            a("10.0.0.1"),
            a("239.1.1.1"),
            1,
            vec![Oif::new(2, true)],
        ));
        mfib.publish(t);
        let mut reader = mfib.reader();
        assert!(!reader.refresh(&mfib));
        reader
            .table()
            .lookup(a("10.0.0.1"), a("239.1.1.1"))
            .unwrap()
            .counters
            .add(100);

        mfib.update(|t| {
            t.get_mut(a("10.0.0.1"), a("239.1.1.1"))
                .unwrap()
                .set_forwarding(2, false)
        });
        assert!(reader.refresh(&mfib));
        let r = reader
            .table()
            .lookup(a("10.0.0.1"), a("239.1.1.1"))
            .unwrap();
        assert_eq!(r.forwarding_oifs().count(), 0);
        assert_eq!(r.counters.get(), (1, 100));

        // Rebuilt from scratch: counters carried over for the route that persists only.
        let mut fresh = Table::new();
        fresh.insert(Route::new(a("10.0.0.1"), a("239.1.1.1"), 1, vec![]));
        fresh.insert(Route::new(a("10.0.0.2"), a("239.1.1.1"), 1, vec![]));
        fresh.adopt_counters(&mfib.snapshot());
        mfib.publish(fresh);
        assert!(reader.refresh(&mfib));
        let t = reader.table();
        assert_eq!(
            t.get(a("10.0.0.1"), a("239.1.1.1")).unwrap().counters.get(),
            (1, 100)
        );
        assert_eq!(
            t.get(a("10.0.0.2"), a("239.1.1.1")).unwrap().counters.get(),
            (0, 0)
        );
        assert_eq!(mfib.generation(), 3);
    }

    #[test]
    fn readers_see_a_whole_table_while_writers_publish() {
        let mfib = Arc::new(Mfib::new());
        let writer = {
            let mfib = Arc::clone(&mfib);
            std::thread::spawn(move || {
                for n in 1..=200u32 {
                    let mut t = Table::new();
                    for i in 0..n {
                        t.insert(Route::new(Ipv4Addr::from(i), a("239.1.1.1"), n, vec![]));
                    }
                    mfib.publish(t);
                }
            })
        };
        let mut reader = mfib.reader();
        let mut seen = 0;
        let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while seen < 200 && std::time::Instant::now() < end {
            reader.refresh(&mfib);
            let t = reader.table();
            // Every route of one version carries that version's iif, and there are iif of them.
            let n = t.len() as u32;
            assert!(t.routes().all(|r| r.iif == n));
            seen = n;
        }
        writer.join().unwrap();
        assert_eq!(seen, 200);
    }

    #[test]
    fn a_switched_gate_splits_frames_by_arrival_time() {
        let closing = Oif::switched(2, false, 1_000);
        assert!(
            closing.forwards_at(999),
            "arrived before the switch: still the old state"
        );
        assert!(!closing.forwards_at(1_000));
        let opening = Oif::switched(3, true, 1_000);
        assert!(!opening.forwards_at(999));
        assert!(opening.forwards_at(1_000));
        let r = Route::new(
            "10.0.0.1".parse().unwrap(),
            "239.1.1.1".parse().unwrap(),
            1,
            vec![closing, opening, Oif::new(4, true)],
        );
        assert_eq!(r.forwarding_oifs_at(999).collect::<Vec<_>>(), vec![2, 4]);
        assert_eq!(r.forwarding_oifs_at(5_000).collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(r.forwarding_oifs().collect::<Vec<_>>(), vec![3, 4]);
    }

    #[test]
    fn the_waker_polls_readable_after_each_publication_until_drained() {
        let readable = |fd: RawFd| {
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one live pollfd.
            unsafe { libc::poll(&mut p, 1, 0) == 1 }
        };
        let m = Mfib::new();
        m.publish(Table::new());
        let fd = m.waker().unwrap();
        assert_eq!(m.waker().unwrap(), fd, "one waker");
        assert!(
            !readable(fd),
            "publications before it was made do not count"
        );
        m.publish(Table::new());
        assert!(readable(fd));
        drain_waker(fd);
        assert!(!readable(fd));
        m.update(|t| t.insert(Route::new(a("10.0.0.1"), a("239.1.1.1"), 1, vec![])));
        m.publish(Table::new());
        assert!(readable(fd));
        drain_waker(fd);
        assert!(!readable(fd), "one drain for any number of publications");
    }
}
