//! Interface monitor groups: the failure ratio their consumers (VRRP tracking) act on, and the
//! table of evaluated groups.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::engines::config;

/// Failure ratio in percent: the down-weights of the bindings that are down, times 100, over
/// the sum of all down-weights (rounded down). A disabled group, or one without bindings,
/// reports 0: its consumers see "no failure".
pub fn failure_ratio(enabled: bool, bindings: &[(u16, bool)]) -> u8 {
    let total: u32 = bindings.iter().map(|&(w, _)| u32::from(w)).sum();
    if !enabled || total == 0 {
        return 0;
    }
    let down: u32 = bindings
        .iter()
        .filter(|&&(_, up)| !up)
        .map(|&(w, _)| u32::from(w))
        .sum();
    (down * 100 / total) as u8
}

/// A bound interface as the group sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    Up,
    Down,
    /// The agent has just set the interface admin up and its link state has not caught up yet
    /// (carrier and the kernel's link watch take up to about a second): neither up nor down.
    Settling,
}

/// The failure ratio, or None while a binding of an enabled group is still settling: the group
/// is then left as it was, so that the agent's own start-up (interfaces brought up after the
/// first check) does not read as 100 % failure for an instant and move VRRP priorities.
pub fn settled_failure_ratio(enabled: bool, bindings: &[(u16, Binding)]) -> Option<u8> {
    if enabled && bindings.iter().any(|&(_, b)| b == Binding::Settling) {
        return None;
    }
    let plain: Vec<(u16, bool)> = bindings
        .iter()
        .map(|&(w, b)| (w, b == Binding::Up))
        .collect();
    Some(failure_ratio(enabled, &plain))
}

/// What a group last evaluated to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub ratio: u8,
    /// Bindings not up.
    pub down: u16,
    pub changed_at: Instant,
}

/// The evaluated monitor groups, by name.
#[derive(Default)]
pub struct Monitors {
    groups: BTreeMap<String, Status>,
    /// Moves on every change of `groups`, so a reader can tell it has seen them as they are.
    generation: u64,
}

impl Monitors {
    pub fn get(&self, name: &str) -> Option<&Status> {
        self.groups.get(name)
    }

    /// The failure ratio tracking sees (0 for a group not evaluated yet).
    pub fn ratio(&self, name: &str) -> u8 {
        self.groups.get(name).map_or(0, |s| s.ratio)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Status)> + '_ {
        self.groups.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// A number that differs from every earlier one after any change of the groups.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn forget(&mut self, name: &str) {
        if self.groups.remove(name).is_some() {
            self.generation += 1;
        }
    }

    /// Forget the groups `keep` says no.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        let before = self.groups.len();
        self.groups.retain(|n, _| keep(n));
        if self.groups.len() != before {
            self.generation += 1;
        }
    }

    /// Evaluate group `name` with its bindings as `binding` sees them. `Some(ratio)` when its
    /// failure ratio changed (or it is new and failing): the change to announce. A group with
    /// a settling binding is left as it was.
    pub fn evaluate(
        &mut self,
        name: &str,
        g: &config::MonitorGroup,
        binding: impl Fn(&str) -> Binding,
        now: Instant,
    ) -> Option<u8> {
        let bindings: Vec<(u16, Binding)> =
            g.bindings.iter().map(|(i, w)| (*w, binding(i))).collect();
        let ratio = settled_failure_ratio(g.enabled, &bindings)?;
        let down = bindings.iter().filter(|(_, b)| *b != Binding::Up).count() as u16;
        let prev = self.groups.get(name).copied();
        if prev.is_some_and(|p| p.ratio == ratio && p.down == down) {
            return None;
        }
        self.generation += 1;
        self.groups.insert(
            name.to_string(),
            Status {
                ratio,
                down,
                changed_at: now,
            },
        );
        let announce = match prev {
            Some(p) => p.ratio != ratio,
            None => ratio > 0,
        };
        announce.then_some(ratio)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_of_the_table_moves_its_generation() {
        let g = config::MonitorGroup {
            enabled: true,
            bindings: [("eth0".to_string(), 10)].into_iter().collect(),
        };
        let now = Instant::now();
        let mut m = Monitors::default();
        let mut last = m.generation();
        let mut moved = |m: &Monitors| {
            let moved = m.generation() != last;
            last = m.generation();
            moved
        };
        m.evaluate("a", &g, |_| Binding::Up, now);
        assert!(moved(&m));
        // Evaluated the same: nothing changed.
        m.evaluate("a", &g, |_| Binding::Up, now);
        assert!(!moved(&m));
        m.evaluate("a", &g, |_| Binding::Down, now);
        assert!(moved(&m));
        m.forget("nonexistent");
        m.retain(|_| true);
        assert!(!moved(&m));
        m.evaluate("b", &g, |_| Binding::Up, now);
        m.forget("b");
        assert!(moved(&m));
        m.retain(|n| n != "a");
        assert!(moved(&m) && m.is_empty());
    }

    #[test]
    fn a_settling_binding_leaves_an_enabled_group_unevaluated() {
        use Binding::*;
        assert_eq!(settled_failure_ratio(true, &[(10, Settling)]), None);
        assert_eq!(
            settled_failure_ratio(true, &[(10, Down), (10, Settling)]),
            None
        );
        assert_eq!(
            settled_failure_ratio(true, &[(10, Down), (10, Up)]),
            Some(50)
        );
        assert_eq!(settled_failure_ratio(true, &[(10, Up)]), Some(0));
        // A disabled group reports 0 whatever its bindings do.
        assert_eq!(settled_failure_ratio(false, &[(10, Settling)]), Some(0));
    }

    #[test]
    fn weights_decide_the_ratio() {
        assert_eq!(failure_ratio(true, &[(10, true)]), 0);
        assert_eq!(failure_ratio(true, &[(10, false)]), 100);
        assert_eq!(failure_ratio(true, &[(10, false), (30, true)]), 25);
        assert_eq!(failure_ratio(true, &[(1, false), (2, true)]), 33);
        assert_eq!(failure_ratio(true, &[(1000, false); 32]), 100);
    }

    #[test]
    fn disabled_or_empty_groups_report_no_failure() {
        assert_eq!(failure_ratio(false, &[(10, false)]), 0);
        assert_eq!(failure_ratio(true, &[]), 0);
    }
    fn group(enabled: bool, names: &[(&str, u16)]) -> config::MonitorGroup {
        config::MonitorGroup {
            enabled,
            bindings: names.iter().map(|(n, w)| (n.to_string(), *w)).collect(),
        }
    }

    #[test]
    fn the_table_announces_ratio_changes_only() {
        let now = Instant::now();
        let mut t = Monitors::default();
        let g = group(true, &[("up1", 10), ("up2", 10)]);
        let all_up = |_: &str| Binding::Up;
        // New and healthy: recorded, nothing to announce.
        assert_eq!(t.evaluate("m", &g, all_up, now), None);
        assert_eq!(t.get("m").unwrap().ratio, 0);
        let one_down = |i: &str| {
            if i == "up1" {
                Binding::Down
            } else {
                Binding::Up
            }
        };
        assert_eq!(t.evaluate("m", &g, one_down, now), Some(50));
        assert_eq!(t.evaluate("m", &g, one_down, now), None);
        // Still settling: left at 50.
        let settling = |i: &str| {
            if i == "up1" {
                Binding::Settling
            } else {
                Binding::Up
            }
        };
        assert_eq!(t.evaluate("m", &g, settling, now), None);
        assert_eq!(t.ratio("m"), 50);
        // A new group already failing is announced.
        assert_eq!(t.evaluate("n", &g, |_: &str| Binding::Down, now), Some(100));
        t.forget("n");
        assert_eq!(t.ratio("n"), 0);
    }
}
