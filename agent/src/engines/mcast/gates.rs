//! The mVRRP gates (`track-admin-vrrp`), sans I/O: for each mVRRP group, whether the
//! interfaces it gates forward, and from which frame on.
//!
//! A gate that switches records the switch time (CLOCK_REALTIME ns, the clock the dataplane
//! stamps frames with; see [`Oif::forwards_at`]) so that frames already queued in a ring when
//! it switched are judged by the state at their arrival: a closing gate still forwards what
//! arrived while it was open; an opening gate in a *handover* (the old master still forwards
//! until it hears us) forwards only what arrives from now on, while an opening gate after a
//! failure forwards everything still queued. The switch time is forgotten after
//! [`GATE_SETTLE`], when every frame queued before it is long gone, so that a later step of
//! the realtime clock cannot misplace new frames.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use dataplane::mfib::Oif;

/// How long a gate's switch time is kept: far longer than a frame stays in a ring.
pub const GATE_SETTLE: Duration = Duration::from_secs(1);

/// One gate: open or not, for frames that arrived from `since_ns` on (0: for every frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    pub open: bool,
    pub since_ns: u64,
    pub settle_at: Option<Instant>,
}

impl Gate {
    /// A gate nobody opened (its mVRRP group is not master, or does not exist).
    pub const CLOSED: Gate = Gate {
        open: false,
        since_ns: 0,
        settle_at: None,
    };
    /// What an interface without a gate has.
    pub const NONE: Gate = Gate {
        open: true,
        since_ns: 0,
        settle_at: None,
    };

    /// The outgoing interface `ifindex` under this gate.
    pub fn oif(&self, ifindex: u32) -> Oif {
        Oif::switched(ifindex, self.open, self.since_ns)
    }
}

/// The gates, by mVRRP group (interface, vrid).
#[derive(Debug, Default)]
pub struct Gates {
    gates: HashMap<(String, u8), Gate>,
}

impl Gates {
    /// The gate of group (`ifname`, `vrid`).
    pub fn get(&self, ifname: &str, vrid: u8) -> Gate {
        self.gates
            .get(&(ifname.to_string(), vrid))
            .copied()
            .unwrap_or(Gate::CLOSED)
    }

    pub fn is_open(&self, ifname: &str, vrid: u8) -> bool {
        self.get(ifname, vrid).open
    }

    /// Open (`master`) or close the gate of group (`ifname`, `vrid`) at `now` (`now_ns` on the
    /// realtime clock). `handover`: opening while the old master still forwards. Whether the
    /// gate changed.
    pub fn set(
        &mut self,
        ifname: &str,
        vrid: u8,
        master: bool,
        handover: bool,
        now: Instant,
        now_ns: u64,
    ) -> bool {
        let key = (ifname.to_string(), vrid);
        let was = self.gates.get(&key).copied();
        if was.map(|g| g.open) == Some(master) {
            return false;
        }
        let since_ns = match (master, was) {
            // Nothing was forwarded before: no earlier frames to split.
            (false, None) => 0,
            // The old master failed or resigned: everything still queued goes out.
            (true, _) if !handover => 0,
            _ => now_ns,
        };
        self.gates.insert(
            key,
            Gate {
                open: master,
                since_ns,
                settle_at: (since_ns != 0).then(|| now + GATE_SETTLE),
            },
        );
        true
    }

    /// When the next switch time is forgotten.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.gates.values().filter_map(|g| g.settle_at).min()
    }

    /// Forget the switch times due at `now`. Whether any was.
    pub fn settle(&mut self, now: Instant) -> bool {
        let mut any = false;
        for g in self.gates.values_mut() {
            if g.settle_at.is_some_and(|t| t <= now) {
                g.settle_at = None;
                g.since_ns = 0;
                any = true;
            }
        }
        any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: u64 = 1_000_000_000;

    #[test]
    fn an_unknown_gate_is_closed_and_an_ungated_interface_forwards() {
        let g = Gates::default();
        assert!(!g.get("ic", 1).oif(3).forwards_at(5));
        assert!(Gate::NONE.oif(3).forwards_at(5));
    }

    #[test]
    fn a_handover_opening_forwards_only_frames_from_the_switch_on() {
        let now = Instant::now();
        let mut g = Gates::default();
        assert!(g.set("ic", 1, true, true, now, 100 * NS));
        let oif = g.get("ic", 1).oif(3);
        assert!(
            !oif.forwards_at(100 * NS - 1),
            "queued before: the old master's"
        );
        assert!(oif.forwards_at(100 * NS));
        // The same state again changes nothing.
        assert!(!g.set("ic", 1, true, false, now, 101 * NS));
    }

    #[test]
    fn opening_after_a_failure_forwards_everything_queued() {
        let now = Instant::now();
        let mut g = Gates::default();
        g.set("ic", 1, true, false, now, 100 * NS);
        assert!(g.get("ic", 1).oif(3).forwards_at(1));
        assert_eq!(g.next_deadline(), None, "nothing to settle");
    }

    #[test]
    fn a_closing_gate_still_forwards_what_arrived_while_open() {
        let now = Instant::now();
        let mut g = Gates::default();
        g.set("ic", 1, true, false, now, 100 * NS);
        g.set("ic", 1, false, false, now, 200 * NS);
        let oif = g.get("ic", 1).oif(3);
        assert!(oif.forwards_at(200 * NS - 1));
        assert!(!oif.forwards_at(200 * NS));
        // A gate that was never open has nothing queued to split.
        g.set("lan", 2, false, false, now, 300 * NS);
        assert_eq!(g.get("lan", 2).since_ns, 0);
    }

    #[test]
    fn two_flips_within_the_settle_time_keep_the_latest_switch() {
        let t0 = Instant::now();
        let mut g = Gates::default();
        g.set("ic", 1, true, false, t0, 100 * NS);
        // Closed at 100.2 s, opened again (handover) at 100.5 s: both within GATE_SETTLE.
        g.set(
            "ic",
            1,
            false,
            false,
            t0 + Duration::from_millis(200),
            100 * NS + NS / 5,
        );
        g.set(
            "ic",
            1,
            true,
            true,
            t0 + Duration::from_millis(500),
            100 * NS + NS / 2,
        );
        let gate = g.get("ic", 1);
        assert!(gate.open);
        assert_eq!(gate.since_ns, 100 * NS + NS / 2);
        assert_eq!(
            gate.settle_at,
            Some(t0 + Duration::from_millis(500) + GATE_SETTLE)
        );
        // Frames that arrived while it was closed are not forwarded by this device.
        assert!(!gate.oif(3).forwards_at(100 * NS + NS / 3));
        // The first flip's settle time does not end the second's split.
        assert!(!g.settle(t0 + Duration::from_millis(1200)));
        assert_eq!(g.get("ic", 1).since_ns, 100 * NS + NS / 2);
        assert!(g.settle(t0 + Duration::from_millis(1500)));
        assert_eq!(g.get("ic", 1).since_ns, 0);
        assert!(g.get("ic", 1).oif(3).forwards_at(1));
    }
}
