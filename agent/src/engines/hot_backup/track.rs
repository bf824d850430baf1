//! VRRP tracking: the effective priority of an mVRRP group from its configured priority, the
//! BFD sessions it tracks and the monitor groups it tracks (Huawei semantics, MODELS.md).

use std::collections::HashSet;

use crate::engines::bfd::session::ClientState;
use crate::engines::config::{self, TrackMode};

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

/// What tracking makes of one VRRP group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracking {
    /// The priority the group should run with.
    pub priority: u8,
    /// A tracked BFD session failed: the peer it watches is gone.
    pub bfd_failed: bool,
}

/// Evaluate a group's tracks. `seen_up` is the group's memory of tracked sessions that have
/// been Up (updated here): a session never seen Up is not "failed", so a device that starts
/// alone does not claim a failure. `session` gives a tracked session's client state (None:
/// not configured), `ratio` a monitor group's failure ratio.
pub fn evaluate(
    cfg: &config::VrrpGroup,
    seen_up: &mut HashSet<String>,
    session: impl Fn(&str) -> Option<ClientState>,
    ratio: impl Fn(&str) -> u8,
) -> Tracking {
    let mut bfd_in = Vec::with_capacity(cfg.track_bfd.len());
    for t in &cfg.track_bfd {
        let client = session(&t.session);
        if client == Some(ClientState::Up) && !seen_up.contains(&t.session) {
            seen_up.insert(t.session.clone());
        }
        bfd_in.push(BfdInput {
            mode: t.mode,
            change: t.change,
            failed: seen_up.contains(&t.session) && client == Some(ClientState::Down),
        });
    }
    let mon_in: Vec<MonitorInput> = cfg
        .track_monitor
        .iter()
        .map(|t| MonitorInput {
            mode: t.mode,
            change: t.change,
            threshold: t.failure_ratio,
            ratio: ratio(&t.group),
        })
        .collect();
    Tracking {
        priority: effective_priority(cfg.priority, &bfd_in, &mon_in),
        bfd_failed: bfd_in.iter().any(|b| b.failed),
    }
}

/// Has a tracked session of `cfg` failed (seen Up, now Down)?
pub fn bfd_failed(
    cfg: &config::VrrpGroup,
    seen_up: &HashSet<String>,
    session: impl Fn(&str) -> Option<ClientState>,
) -> bool {
    cfg.track_bfd
        .iter()
        .any(|t| seen_up.contains(&t.session) && session(&t.session) == Some(ClientState::Down))
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
    fn seed_group() -> config::VrrpGroup {
        config::VrrpGroup {
            virtual_ips: Vec::new(),
            priority: 100,
            preempt: true,
            preempt_delay_s: 0,
            advertise_interval_ms: 1000,
            version: 3,
            exclude_pseudo_header: false,
            admin: Some(false),
            track_bfd: vec![config::TrackBfd {
                session: "to-a".into(),
                mode: TrackMode::Increase,
                change: 40,
            }],
            track_monitor: vec![config::TrackMonitor {
                group: "uplinks".into(),
                failure_ratio: 100,
                mode: TrackMode::Link,
                change: 0,
            }],
        }
    }

    #[test]
    fn a_session_never_seen_up_does_not_count_as_failed() {
        let g = seed_group();
        let mut seen = HashSet::new();
        let down = |_: &str| Some(ClientState::Down);
        let t = evaluate(&g, &mut seen, down, |_: &str| 0);
        assert_eq!((t.priority, t.bfd_failed), (100, false));
        // Up once, then Down: failed, the backup rises.
        evaluate(&g, &mut seen, |_: &str| Some(ClientState::Up), |_: &str| 0);
        let t = evaluate(&g, &mut seen, down, |_: &str| 0);
        assert_eq!((t.priority, t.bfd_failed), (140, true));
        assert!(bfd_failed(&g, &seen, down));
        // AdminDown (the peer removed the session) is not a failure (RFC 5882 §3.2).
        let t = evaluate(
            &g,
            &mut seen,
            |_: &str| Some(ClientState::AdminDown),
            |_: &str| 0,
        );
        assert_eq!((t.priority, t.bfd_failed), (100, false));
    }

    #[test]
    fn a_failed_uplink_group_in_link_mode_gives_priority_zero_whatever_bfd_says() {
        let g = seed_group();
        let mut seen = HashSet::new();
        evaluate(&g, &mut seen, |_: &str| Some(ClientState::Up), |_: &str| 0);
        let t = evaluate(
            &g,
            &mut seen,
            |_: &str| Some(ClientState::Down),
            |_: &str| 100,
        );
        assert_eq!(t.priority, 0);
        assert!(t.bfd_failed);
        let t = evaluate(&g, &mut seen, |_: &str| Some(ClientState::Up), |_: &str| 99);
        assert_eq!(t.priority, 100);
    }
}
