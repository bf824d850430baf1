//! The engines' one pseudo-random source, for timer jitter (BFD transmit intervals, PIM hellos
//! and Join/Prune periods): xorshift64 (Marsaglia), seeded by its owner, so a core given the same
//! seed and inputs behaves the same (tests and simulations rely on that). Not for security.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed` (0, which xorshift cannot leave, is replaced).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x2545_f491_4f6c_dd1d
        } else {
            seed
        })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A delay spread uniformly over [0, max).
    pub fn below(&mut self, max: Duration) -> Duration {
        let r = self.next_u64();
        let nanos = max.as_nanos() as u64;
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(r % nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_nonzero_and_bounded() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        assert_eq!(xs, (0..5).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert!(xs.iter().all(|&x| x != 0));
        assert_ne!(Rng::new(0).next_u64(), 0);
        let max = Duration::from_millis(250);
        assert!((0..1000).all(|_| a.below(max) < max));
        assert_eq!(a.below(Duration::ZERO), Duration::ZERO);
    }
}
