//! The RP set and the group-to-RP mapping (RFC 7761 §4.7.1, §4.7.2).
//!
//! An [`RpSet`] holds group ranges, each with its candidate RPs (priority, holdtime and when
//! the mapping expires). RP(G) ([`RpSet::rp_for`]) is chosen as §4.7.1 says:
//! 1. the longest group range that contains G and has an RP;
//! 2. among its RPs, the best priority (the lowest number);
//! 3. among those, the highest hash value ([`hash_value`], §4.7.2) over G masked with the
//!    hash mask length;
//! 4. among those, the highest RP address.
//!
//! An RP whose holdtime runs out leaves the set ([`RpSet::expire`]); groups it served move
//! to the next RP by the same rules, which is how RP failover follows the BSR's RP set.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::packet::EncodedGroup;

/// A group range: prefix and mask length, the prefix's host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupRange {
    prefix: Ipv4Addr,
    len: u8,
}

impl GroupRange {
    /// All multicast groups, 224.0.0.0/4: what a C-RP-Adv with no prefixes means.
    pub const ALL: GroupRange = GroupRange {
        prefix: Ipv4Addr::new(224, 0, 0, 0),
        len: 4,
    };

    /// The range `prefix`/`len` (host bits cleared, lengths above 32 taken as 32).
    pub fn new(prefix: Ipv4Addr, len: u8) -> GroupRange {
        let len = len.min(32);
        GroupRange {
            prefix: Ipv4Addr::from(u32::from(prefix) & mask(len)),
            len,
        }
    }

    pub fn prefix(&self) -> Ipv4Addr {
        self.prefix
    }

    /// The mask length.
    pub fn mask_len(&self) -> u8 {
        self.len
    }

    pub fn contains(&self, group: Ipv4Addr) -> bool {
        u32::from(group) & mask(self.len) == u32::from(self.prefix)
    }

    /// The range of an encoded group address (flags ignored).
    pub fn from_encoded(g: &EncodedGroup) -> GroupRange {
        GroupRange::new(g.address, g.mask_len)
    }

    /// The encoded form (no B or Z flag).
    pub fn to_encoded(self) -> EncodedGroup {
        EncodedGroup {
            address: self.prefix,
            mask_len: self.len,
            bidir: false,
            zone: false,
        }
    }
}

impl fmt::Display for GroupRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.prefix, self.len)
    }
}

/// The network mask of a prefix length (0..=32).
fn mask(len: u8) -> u32 {
    match len.min(32) {
        0 => 0,
        l => u32::MAX << (32 - u32::from(l)),
    }
}

/// The hash of RFC 7761 §4.7.2 for group `group`, hash mask length `mask_len` and RP `rp`:
/// Value(G,M,C) = (1103515245 * ((1103515245 * (G&M) + 12345) XOR C) + 12345) mod 2^31.
/// Computing modulo 2^32 and keeping 31 bits gives the same value: 2^31 divides 2^32, and
/// bit 31 of the inner term only adds a multiple of 2^31 after the multiplication.
pub fn hash_value(group: Ipv4Addr, mask_len: u8, rp: Ipv4Addr) -> u32 {
    const A: u32 = 1_103_515_245;
    const B: u32 = 12_345;
    let gm = u32::from(group) & mask(mask_len);
    let inner = A.wrapping_mul(gm).wrapping_add(B);
    A.wrapping_mul(inner ^ u32::from(rp)).wrapping_add(B) & 0x7fff_ffff
}

/// One RP of a group range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RpEntry {
    pub rp: Ipv4Addr,
    /// Lower is preferred.
    pub priority: u8,
    /// The holdtime it was announced with, in seconds.
    pub holdtime: u16,
    /// When the mapping expires; `None` = never (0xffff holdtime).
    pub expires: Option<Instant>,
}

impl RpEntry {
    /// The holdtime left at `now`, in seconds (rounded up), for re-announcing the entry.
    pub fn holdtime_left(&self, now: Instant) -> u16 {
        match self.expires {
            None => self.holdtime,
            Some(t) => {
                let left = t.saturating_duration_since(now);
                let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
                secs.min(u64::from(self.holdtime)) as u16
            }
        }
    }
}

/// Group ranges and their RPs, with the hash mask length the mapping uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpSet {
    hash_mask_len: u8,
    ranges: BTreeMap<GroupRange, BTreeMap<Ipv4Addr, RpEntry>>,
}

/// The holdtime that never expires.
const HOLDTIME_FOREVER: u16 = 0xffff;

impl RpSet {
    /// An empty set using `hash_mask_len` (30 is usual for IPv4).
    pub fn new(hash_mask_len: u8) -> RpSet {
        RpSet {
            hash_mask_len: hash_mask_len.min(32),
            ranges: BTreeMap::new(),
        }
    }

    pub fn hash_mask_len(&self) -> u8 {
        self.hash_mask_len
    }

    pub fn set_hash_mask_len(&mut self, len: u8) {
        self.hash_mask_len = len.min(32);
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The ranges with their RPs, in range order.
    pub fn ranges(&self) -> impl Iterator<Item = (GroupRange, impl Iterator<Item = &RpEntry>)> {
        self.ranges.iter().map(|(r, rps)| (*r, rps.values()))
    }

    /// The RPs of one range.
    pub fn rps(&self, range: GroupRange) -> Vec<RpEntry> {
        self.ranges
            .get(&range)
            .map(|m| m.values().copied().collect())
            .unwrap_or_default()
    }

    /// Adds or refreshes `rp` for `range`; a holdtime of 0 removes it instead.
    pub fn insert(
        &mut self,
        range: GroupRange,
        rp: Ipv4Addr,
        priority: u8,
        holdtime: u16,
        now: Instant,
    ) {
        if holdtime == 0 {
            self.remove(range, rp);
            return;
        }
        let expires =
            (holdtime != HOLDTIME_FOREVER).then(|| now + Duration::from_secs(u64::from(holdtime)));
        self.ranges.entry(range).or_default().insert(
            rp,
            RpEntry {
                rp,
                priority,
                holdtime,
                expires,
            },
        );
    }

    /// Removes `rp` from `range`.
    pub fn remove(&mut self, range: GroupRange, rp: Ipv4Addr) {
        if let Some(m) = self.ranges.get_mut(&range) {
            m.remove(&rp);
            if m.is_empty() {
                self.ranges.remove(&range);
            }
        }
    }

    /// Replaces the RPs of `range` with `rps` (rp, priority, holdtime).
    pub fn replace_range(
        &mut self,
        range: GroupRange,
        rps: impl IntoIterator<Item = (Ipv4Addr, u8, u16)>,
        now: Instant,
    ) {
        self.ranges.remove(&range);
        for (rp, priority, holdtime) in rps {
            self.insert(range, rp, priority, holdtime, now);
        }
    }

    /// The earliest expiry of an RP.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.ranges
            .values()
            .flat_map(|m| m.values())
            .filter_map(|e| e.expires)
            .min()
    }

    /// Drops the RPs whose holdtime ran out by `now`; whether any did.
    pub fn expire(&mut self, now: Instant) -> bool {
        let before: usize = self.ranges.values().map(BTreeMap::len).sum();
        for m in self.ranges.values_mut() {
            m.retain(|_, e| e.expires.is_none_or(|t| t > now));
        }
        self.ranges.retain(|_, m| !m.is_empty());
        before != self.ranges.values().map(BTreeMap::len).sum::<usize>()
    }

    /// RP(G) by the rules of §4.7.1 (see the module documentation); `None` when no range
    /// contains G.
    pub fn rp_for(&self, group: Ipv4Addr) -> Option<Ipv4Addr> {
        let (_, rps) = self
            .ranges
            .iter()
            .filter(|(r, m)| r.contains(group) && !m.is_empty())
            .max_by_key(|(r, _)| r.len)?;
        let best = rps.values().map(|e| e.priority).min()?;
        rps.values()
            .filter(|e| e.priority == best)
            .max_by_key(|e| (hash_value(group, self.hash_mask_len, e.rp), e.rp))
            .map(|e| e.rp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(a: [u8; 4], len: u8) -> GroupRange {
        GroupRange::new(Ipv4Addr::from(a), len)
    }

    /// Values computed by hand from the formula with Python's unbounded integers:
    /// `(1103515245 * ((1103515245 * (G & M) + 12345) ^ C) + 12345) % 2**31`.
    #[test]
    fn hash_matches_the_formula() {
        let g = Ipv4Addr::new(239, 1, 1, 1);
        // G&M for mask length 30: 239.1.1.0 = 4009820416.
        // 1103515245 * 4009820416 + 12345 = 4424897958768254265;
        // XOR 10.0.0.1 (167772161) = 4424897958868917560;
        // * 1103515245 + 12345 = 4882942355181233484108214545; mod 2^31 = 1679372561.
        assert_eq!(hash_value(g, 30, Ipv4Addr::new(10, 0, 0, 1)), 1_679_372_561);
        assert_eq!(hash_value(g, 30, Ipv4Addr::new(10, 0, 0, 2)), 694_951_000);
        assert_eq!(hash_value(g, 30, Ipv4Addr::new(10, 0, 0, 3)), 1_738_919_403);
        // Mask length 0: G&M = 0, (12345 XOR 167772161) * 1103515245 + 12345
        // = 185152758038775825, mod 2^31 = 1410713617, for every group.
        assert_eq!(hash_value(g, 0, Ipv4Addr::new(10, 0, 0, 1)), 1_410_713_617);
        assert_eq!(
            hash_value(Ipv4Addr::new(224, 0, 0, 1), 0, Ipv4Addr::new(10, 0, 0, 1)),
            1_410_713_617
        );
        // Mask length 32 uses the whole group (4009820417).
        assert_eq!(hash_value(g, 32, Ipv4Addr::new(10, 0, 0, 1)), 239_626_324);
        // Groups that agree under the mask hash alike.
        assert_eq!(
            hash_value(Ipv4Addr::new(239, 1, 1, 2), 30, Ipv4Addr::new(10, 0, 0, 1)),
            1_679_372_561
        );
    }

    #[test]
    fn longest_match_then_priority_then_hash_then_address() {
        let t0 = Instant::now();
        let g = Ipv4Addr::new(239, 1, 1, 1);
        let (a, b, c) = (
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            Ipv4Addr::new(10, 0, 0, 3),
        );
        let mut set = RpSet::new(30);
        assert_eq!(set.rp_for(g), None);
        set.insert(GroupRange::ALL, c, 0, 150, t0);
        assert_eq!(set.rp_for(g), Some(c));
        // A longer range wins even with a worse priority.
        set.insert(range([239, 0, 0, 0], 8), a, 200, 150, t0);
        assert_eq!(set.rp_for(g), Some(a));
        assert_eq!(set.rp_for(Ipv4Addr::new(238, 1, 1, 1)), Some(c));
        // Within the range, the lower priority number wins.
        set.insert(range([239, 0, 0, 0], 8), b, 100, 150, t0);
        assert_eq!(set.rp_for(g), Some(b));
        // Equal priority: the higher hash. For 239.1.1.1 with mask 30, c (1738919403) beats
        // a (1679372561) beats b (694951000).
        set.insert(range([239, 0, 0, 0], 8), a, 100, 150, t0);
        assert_eq!(set.rp_for(g), Some(a));
        set.insert(range([239, 0, 0, 0], 8), c, 100, 150, t0);
        assert_eq!(set.rp_for(g), Some(c));
        // Equal hash: multiplying by the odd 1103515245 is a bijection modulo 2^31, so two
        // RPs tie exactly when their addresses differ only in the top bit, as 10.0.0.1 and
        // 138.0.0.1 do. Then the higher address wins.
        let high = Ipv4Addr::new(138, 0, 0, 1);
        assert_eq!(hash_value(g, 30, a), hash_value(g, 30, high));
        set.remove(range([239, 0, 0, 0], 8), c);
        set.insert(range([239, 0, 0, 0], 8), high, 100, 150, t0);
        assert_eq!(set.rp_for(g), Some(high));
        set.remove(range([239, 0, 0, 0], 8), high);
        assert_eq!(set.rp_for(g), Some(a));
    }

    #[test]
    fn hash_spreads_groups_over_equal_rps() {
        let t0 = Instant::now();
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let mut set = RpSet::new(30);
        set.insert(GroupRange::ALL, a, 0, 150, t0);
        set.insert(GroupRange::ALL, b, 0, 150, t0);
        let mut count = [0, 0];
        for i in 0..64u32 {
            let g = Ipv4Addr::from(0xef00_0000 | (i << 2));
            let rp = set.rp_for(g).expect("an RP");
            let expect = if hash_value(g, 30, a) > hash_value(g, 30, b) {
                a
            } else {
                b
            };
            assert_eq!(rp, expect);
            count[usize::from(rp == b)] += 1;
            // The four groups of one /30 block share their RP.
            assert_eq!(set.rp_for(Ipv4Addr::from(u32::from(g) | 3)), Some(rp));
        }
        assert!(count[0] > 10 && count[1] > 10, "{count:?}");
    }

    #[test]
    fn rp_failover_when_a_holdtime_expires() {
        let t0 = Instant::now();
        let g = Ipv4Addr::new(239, 1, 1, 1);
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let mut set = RpSet::new(30);
        set.insert(GroupRange::ALL, a, 0, 100, t0);
        set.insert(GroupRange::ALL, b, 0, 150, t0);
        assert_eq!(set.rp_for(g), Some(a));
        assert_eq!(set.next_deadline(), Some(t0 + Duration::from_secs(100)));
        assert!(!set.expire(t0 + Duration::from_secs(99)));
        assert!(set.expire(t0 + Duration::from_secs(100)));
        assert_eq!(set.rp_for(g), Some(b));
        assert!(set.expire(t0 + Duration::from_secs(150)));
        assert_eq!(set.rp_for(g), None);
        assert!(set.is_empty());
        // Holdtime 0 withdraws, 0xffff never expires.
        set.insert(GroupRange::ALL, a, 0, 0xffff, t0);
        assert_eq!(set.next_deadline(), None);
        set.insert(GroupRange::ALL, a, 0, 0, t0);
        assert!(set.is_empty());
    }

    #[test]
    fn ranges_are_normalised_and_holdtime_left_rounds_up() {
        let r = range([239, 1, 2, 3], 16);
        assert_eq!(r, range([239, 1, 0, 0], 16));
        assert_eq!(r.to_string(), "239.1.0.0/16");
        assert!(r.contains(Ipv4Addr::new(239, 1, 200, 1)));
        assert!(!r.contains(Ipv4Addr::new(239, 2, 0, 1)));
        assert_eq!(range([1, 2, 3, 4], 40).mask_len(), 32);
        assert!(range([0, 0, 0, 0], 0).contains(Ipv4Addr::new(239, 1, 1, 1)));
        let t0 = Instant::now();
        let mut set = RpSet::new(30);
        set.insert(r, Ipv4Addr::new(10, 0, 0, 1), 1, 150, t0);
        let e = set.rps(r)[0];
        assert_eq!(e.holdtime_left(t0), 150);
        assert_eq!(e.holdtime_left(t0 + Duration::from_millis(100_500)), 50);
        assert_eq!(e.holdtime_left(t0 + Duration::from_secs(200)), 0);
    }
}
