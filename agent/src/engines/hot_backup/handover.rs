//! When an mVRRP group changes hands, how the multicast gate opens, and when preemption waits.
//!
//! - **Make before break.** A group that becomes master opens its gate *before* its first
//!   advertisement goes out, and the old master closes its own gate only when it hears that
//!   advertisement. While both are open, each forwards a frame only once: in a *handover* (the
//!   old master is alive and still forwarding) the new master forwards only frames that arrive
//!   from the switch on, so nothing queued earlier is sent twice; when the old master failed
//!   everything still queued goes out.
//! - **Start-up hold.** A device that starts (or gets the group configured) would otherwise
//!   preempt before IGMP has relearned the receivers and cut them off: its preemption waits
//!   one IGMP max-response time, unless a tracked BFD session says the peer is gone.

use std::time::{Duration, Instant};

/// Becoming master now: is it a handover from a master that is alive and forwarding until it
/// hears us? That master advertised within three of its intervals, with a priority other than
/// 0 (0: it resigned), and no tracked BFD session of ours says it is gone. Nor did it lower its
/// priority (`lowered`, see [`Entry::heard_lowered`](crate::engines::vrrp::groups::Entry)):
/// decrement-mode tracking lowers it when a path the old master tracks failed (its uplink, a
/// BFD session, a monitor group), so what it still forwards cannot be counted on, and what is
/// queued here goes out rather than being lost.
pub fn is_handover(
    heard: Option<(Instant, u8)>,
    lowered: bool,
    master_adver_interval: Duration,
    tracked_bfd_failed: bool,
    now: Instant,
) -> bool {
    let recent = heard.is_some_and(|(at, prio)| {
        prio > 0 && now.saturating_duration_since(at) <= 3 * master_adver_interval
    });
    recent && !lowered && !tracked_bfd_failed
}

/// The preemption hold a new mVRRP group needs: `igmp_wait` is how long the IGMP of its gated
/// interfaces still needs to relearn the receivers (None: nothing to relearn). None when the
/// configured preemption delay already covers it.
pub fn start_hold(igmp_wait: Option<Duration>, configured_delay: Duration) -> Option<Duration> {
    igmp_wait.filter(|&w| w > configured_delay)
}

/// Whether a running start-up hold should end now: a tracked BFD session failed, so the peer is
/// gone, nobody forwards, and waiting protects no receiver.
pub fn lift_hold(holding: bool, tracked_bfd_failed: bool) -> bool {
    holding && tracked_bfd_failed
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn a_recent_advert_with_priority_makes_a_handover() {
        let now = Instant::now() + 10 * SEC;
        assert!(is_handover(Some((now - SEC, 100)), false, SEC, false, now));
        assert!(is_handover(
            Some((now - 3 * SEC, 100)),
            false,
            SEC,
            false,
            now
        ));
    }

    #[test]
    fn a_silent_or_resigned_master_is_no_handover() {
        let now = Instant::now() + 10 * SEC;
        // Silent for longer than three intervals: it failed.
        assert!(!is_handover(
            Some((now - 3 * SEC - Duration::from_millis(1), 100)),
            false,
            SEC,
            false,
            now
        ));
        // Priority 0: it resigned (shutdown, or link-mode tracking took it to 0).
        assert!(!is_handover(Some((now, 0)), false, SEC, false, now));
        // Never heard anybody.
        assert!(!is_handover(None, false, SEC, false, now));
    }

    /// The old master's adverts went from 120 down to 90 (decrement-mode tracking: its uplink
    /// failed) and we preempt: it is alive but its path is not, so no handover.
    #[test]
    fn a_master_that_lowered_its_priority_is_no_handover() {
        let now = Instant::now() + 10 * SEC;
        assert!(!is_handover(
            Some((now - SEC / 10, 90)),
            true,
            SEC,
            false,
            now
        ));
        assert!(is_handover(
            Some((now - SEC / 10, 90)),
            false,
            SEC,
            false,
            now
        ));
    }

    #[test]
    fn bfd_down_beats_a_recent_advert() {
        // BFD detects the node failure in 30 ms, well before the adverts stop looking recent:
        // the old master is gone, so everything queued is forwarded.
        let now = Instant::now() + 10 * SEC;
        assert!(!is_handover(
            Some((now - SEC / 10, 100)),
            false,
            SEC,
            true,
            now
        ));
    }

    #[test]
    fn the_interval_scales_the_window() {
        let now = Instant::now() + 10 * SEC;
        let heard = Some((now - Duration::from_millis(400), 100));
        assert!(is_handover(
            heard,
            false,
            Duration::from_millis(200),
            false,
            now
        ));
        assert!(!is_handover(
            heard,
            false,
            Duration::from_millis(100),
            false,
            now
        ));
    }

    #[test]
    fn the_start_hold_covers_what_the_configured_delay_does_not() {
        assert_eq!(start_hold(Some(11 * SEC), Duration::ZERO), Some(11 * SEC));
        assert_eq!(start_hold(Some(11 * SEC), 20 * SEC), None);
        assert_eq!(start_hold(None, Duration::ZERO), None);
    }

    #[test]
    fn only_a_bfd_failure_lifts_a_running_hold() {
        assert!(lift_hold(true, true));
        assert!(!lift_hold(true, false));
        assert!(!lift_hold(false, true));
    }
}
