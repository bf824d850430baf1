//! VRRP tracking: the effective priority of an mVRRP group from its configured priority, the
//! BFD sessions it tracks and the monitor groups it tracks (Huawei semantics, MODELS.md).

use super::config::TrackMode;

/// One tracked BFD session as tracking sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BfdInput {
    pub mode: TrackMode,
    pub change: u8,
    /// The session went from Up to Down (not AdminDown) and has not come back. A session that
    /// has not been Up since the track was configured is never "failed" (no start-up claim).
    pub failed: bool,
}

/// One tracked monitor group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorInput {
    pub mode: TrackMode,
    pub change: u8,
    pub threshold: u8,
    pub ratio: u8,
}

/// The priority the group runs with: configured +/- the changes of failed tracks, clamped to
/// 1..254; 0 while a link-mode monitor group is at or above its failure ratio.
pub fn effective_priority(configured: u8, bfd: &[BfdInput], monitors: &[MonitorInput]) -> u8 {
    let mut p = i32::from(configured);
    for b in bfd.iter().filter(|b| b.failed) {
        match b.mode {
            TrackMode::Increase => p += i32::from(b.change),
            TrackMode::Reduce | TrackMode::Link => p -= i32::from(b.change),
        }
    }
    for m in monitors.iter().filter(|m| m.ratio >= m.threshold) {
        match m.mode {
            TrackMode::Link => return 0,
            TrackMode::Reduce | TrackMode::Increase => p -= i32::from(m.change),
        }
    }
    p.clamp(1, 254) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bfd(mode: TrackMode, change: u8, failed: bool) -> BfdInput {
        BfdInput {
            mode,
            change,
            failed,
        }
    }

    #[test]
    fn seed_backup_rises_above_the_master_when_bfd_fails() {
        assert_eq!(
            effective_priority(100, &[bfd(TrackMode::Increase, 40, false)], &[]),
            100
        );
        assert_eq!(
            effective_priority(100, &[bfd(TrackMode::Increase, 40, true)], &[]),
            140
        );
    }

    #[test]
    fn changes_add_up_and_clamp() {
        let b = [
            bfd(TrackMode::Reduce, 10, true),
            bfd(TrackMode::Reduce, 200, true),
        ];
        assert_eq!(effective_priority(100, &b, &[]), 1);
        assert_eq!(
            effective_priority(250, &[bfd(TrackMode::Increase, 40, true)], &[]),
            254
        );
    }

    #[test]
    fn monitor_groups_reduce_or_force_zero() {
        let m = |mode, ratio| MonitorInput {
            mode,
            change: 10,
            threshold: 50,
            ratio,
        };
        assert_eq!(
            effective_priority(120, &[], &[m(TrackMode::Reduce, 49)]),
            120
        );
        assert_eq!(
            effective_priority(120, &[], &[m(TrackMode::Reduce, 50)]),
            110
        );
        assert_eq!(effective_priority(120, &[], &[m(TrackMode::Link, 100)]), 0);
        assert_eq!(effective_priority(120, &[], &[m(TrackMode::Link, 0)]), 120);
    }
}
