//! Failed-login penalties by source address, for every front end that authenticates.
//!
//! A few failures are free (typos); after that each further attempt from the same address waits
//! before it is answered, the wait doubling per failure up to a cap. A success clears the address,
//! and an address not heard from for a while is forgotten. Other addresses are never delayed. The
//! table is bounded: when it is full the address idle longest is dropped. IPv6 sources count per
//! /64, the block one host usually holds. Pure: the caller passes `now`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

/// The penalty policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Failures that cost nothing.
    pub free_failures: u32,
    /// The wait after the first failure beyond the free ones; doubles per further failure.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// An address idle this long starts afresh.
    pub forget_after: Duration,
    /// Addresses tracked at most.
    pub max_sources: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            free_failures: 2,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            forget_after: Duration::from_secs(15 * 60),
            max_sources: 4096,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Instant,
}

/// The failure counts by source.
#[derive(Debug)]
pub struct Throttle {
    policy: Policy,
    sources: HashMap<IpAddr, Entry>,
}

impl Throttle {
    pub fn new(policy: Policy) -> Throttle {
        Throttle {
            policy,
            sources: HashMap::new(),
        }
    }

    /// How long an attempt from `addr` waits before it is answered.
    pub fn delay(&self, addr: IpAddr, now: Instant) -> Duration {
        self.failures(addr, now)
            .checked_sub(self.policy.free_failures + 1)
            .map_or(Duration::ZERO, |doublings| {
                let factor = 1u32.checked_shl(doublings.min(31)).unwrap_or(u32::MAX);
                self.policy
                    .first_delay
                    .saturating_mul(factor)
                    .min(self.policy.max_delay)
            })
    }

    /// Failures counted for `addr` (0 once forgotten).
    pub fn failures(&self, addr: IpAddr, now: Instant) -> u32 {
        self.sources
            .get(&source(addr))
            .filter(|e| now.saturating_duration_since(e.last) < self.policy.forget_after)
            .map_or(0, |e| e.failures)
    }

    /// A failed attempt from `addr`; returns its failure count.
    pub fn failed(&mut self, addr: IpAddr, now: Instant) -> u32 {
        let key = source(addr);
        let failures = self.failures(addr, now).saturating_add(1);
        if !self.sources.contains_key(&key) && self.sources.len() >= self.policy.max_sources {
            self.make_room(now);
        }
        self.sources.insert(
            key,
            Entry {
                failures,
                last: now,
            },
        );
        failures
    }

    /// A successful login from `addr`: its failures are cleared.
    pub fn succeeded(&mut self, addr: IpAddr) {
        self.sources.remove(&source(addr));
    }

    /// Addresses tracked.
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Drop the forgotten addresses, or else the one idle longest.
    fn make_room(&mut self, now: Instant) {
        let forget = self.policy.forget_after;
        self.sources
            .retain(|_, e| now.saturating_duration_since(e.last) < forget);
        if self.sources.len() >= self.policy.max_sources {
            if let Some(oldest) = self
                .sources
                .iter()
                .min_by_key(|(_, e)| e.last)
                .map(|(k, _)| *k)
            {
                self.sources.remove(&oldest);
            }
        }
    }
}

/// The key an address counts under: IPv4 as is (also when mapped into IPv6), IPv6 by /64.
fn source(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn two_failures_are_free_then_the_wait_doubles_up_to_the_cap() {
        let mut t = Throttle::new(Policy::default());
        let now = Instant::now();
        let a = ip("192.0.2.1");
        let mut waits = Vec::new();
        for _ in 0..10 {
            waits.push(t.delay(a, now).as_millis());
            t.failed(a, now);
        }
        assert_eq!(waits, [0, 0, 0, 500, 1000, 2000, 4000, 8000, 16000, 30000]);
        for _ in 0..100 {
            t.failed(a, now);
        }
        assert_eq!(t.delay(a, now), Duration::from_secs(30));
    }

    #[test]
    fn other_addresses_are_not_delayed_and_success_clears() {
        let mut t = Throttle::new(Policy::default());
        let now = Instant::now();
        for _ in 0..5 {
            t.failed(ip("127.0.0.1"), now);
        }
        assert!(t.delay(ip("127.0.0.1"), now) > Duration::ZERO);
        assert_eq!(t.delay(ip("127.0.0.2"), now), Duration::ZERO);
        t.succeeded(ip("127.0.0.1"));
        assert_eq!(t.delay(ip("127.0.0.1"), now), Duration::ZERO);
        assert!(t.is_empty());
    }

    #[test]
    fn idle_addresses_are_forgotten() {
        let mut t = Throttle::new(Policy::default());
        let now = Instant::now();
        for _ in 0..5 {
            t.failed(ip("192.0.2.1"), now);
        }
        let later = now + Duration::from_secs(15 * 60);
        assert_eq!(t.delay(ip("192.0.2.1"), later), Duration::ZERO);
        assert_eq!(t.failed(ip("192.0.2.1"), later), 1);
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let mut t = Throttle::new(Policy::default());
        let now = Instant::now();
        for i in 0..5 {
            t.failed(ip(&format!("2001:db8:1:2::{i}")), now);
        }
        assert_eq!(t.failures(ip("2001:db8:1:2:ffff::1"), now), 5);
        assert_eq!(t.failures(ip("2001:db8:1:3::1"), now), 0);
        t.failed(ip("::ffff:192.0.2.7"), now);
        assert_eq!(t.failures(ip("192.0.2.7"), now), 1);
    }

    #[test]
    fn the_table_is_bounded_and_drops_the_idlest() {
        let mut t = Throttle::new(Policy {
            max_sources: 3,
            ..Policy::default()
        });
        let now = Instant::now();
        for (i, a) in ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]
            .into_iter()
            .enumerate()
        {
            t.failed(ip(a), now + Duration::from_secs(i as u64));
        }
        assert_eq!(t.len(), 3);
        let at = now + Duration::from_secs(10);
        assert_eq!(t.failures(ip("10.0.0.1"), at), 0);
        assert_eq!(t.failures(ip("10.0.0.4"), at), 1);
    }
}
