//! Load shedding for the in-kernel fast path: how many copies per millisecond each CPU's
//! classifier may make, chosen from what the CPUs' input backlogs show.
//!
//! The fast path's copies are softirq work. On devices whose received frames pass through a
//! CPU's input backlog (veth, RPS), every copy enters that backlog again on the way to its
//! receiver; past what the CPU drains, the backlog overflows and drops whatever comes next,
//! control frames (BFD, VRRP, PIM, IGMP) as much as data. The classifier therefore counts the
//! copies it makes in each millisecond on each CPU and drops a frame whose copies would pass
//! a budget (a counted shed, the fast path's ring drop). This module picks the budget from
//! `/proc/net/softnet_stat`, sampled every [`TICK`]:
//! - *congested*: a CPU's backlog dropped at least 1/[`DROP_SHARE`] of what it processed
//!   while the fast path's copies were a fair part ([`OUR_SHARE`]) of that; or control traffic
//!   was late (the agent counts its protocol thread waking more than [`LATE_NS`] past its time,
//!   and BFD packets from a peer coming more than half the Detection Time after the one
//!   before) while the fast path made at least [`MIN_BUDGET`] copies a millisecond on a CPU.
//!   Then the budget halves, from the copies actually made per millisecond (at most the old
//!   budget), no lower than [`MIN_BUDGET`], and holds for [`HOLD_TICKS`] while the backlog
//!   drains;
//! - *shedding, not congested*: the budget binds and the CPU keeps up, so it grows by 1/32
//!   per tick (doubling in about a quarter of a second);
//! - *neither* for [`CALM_TICKS`]: the load has gone, and the fast path runs unpaced again.
//!
//! Congestion that is not the fast path's (another source filling the backlog, late wake-ups
//! with next to no copies made) leaves the budget alone: cutting copies would not help.
//!
//! Late wake-ups are the signal on a veth lab whose sender shares the machine: the copies are
//! made in the softirq of the sender's own transmit call, which on a kernel without
//! preemption holds its CPU for the whole of a batch of frames, so a control thread woken
//! there waits for all of their copies (15-20 ms here at 4 copies a frame), and no backlog
//! overflows to show it.

/// How often the budget is looked at.
pub const TICK_NS: u64 = 10_000_000;
/// The classifier's accounting period: a budget is copies per CPU per slot.
pub const SLOT_NS: u64 = 1_000_000;
/// The lowest budget a cut gives (copies per CPU per millisecond).
pub const MIN_BUDGET: u32 = 16;
/// Budgets above this are lifted altogether.
pub const MAX_BUDGET: u32 = 1 << 20;
/// Ticks after a cut before the budget moves again (the backlog drains meanwhile).
pub const HOLD_TICKS: u32 = 2;
/// Ticks without shedding or congestion before the budget is lifted.
pub const CALM_TICKS: u32 = 100;
/// A control thread's wake-up this far past its time counts as congestion.
pub const LATE_NS: u64 = 5_000_000;
/// Backlog drops count as congestion from this share of what the backlog processed on: below
/// it a control frame is seldom among them, and twice in a row rarer still (a sender that
/// keeps the backlog full by itself causes a few).
pub const DROP_SHARE: u64 = 100;
/// The fast path's copies must be at least 1/OUR_SHARE of what a congested CPU's backlog
/// processed for the congestion to count as its own.
pub const OUR_SHARE: u64 = 8;

/// One CPU's line of `/proc/net/softnet_stat`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Softnet {
    pub cpu: usize,
    /// Frames taken from the backlog (a 32-bit counter that wraps).
    pub processed: u32,
    /// Frames dropped because the backlog was full (wraps too).
    pub dropped: u32,
}

/// The CPUs' lines of `/proc/net/softnet_stat` (hexadecimal columns: processed, dropped, ...;
/// the 13th is the CPU on kernels since 5.10, else the line's place is). Lines that do not
/// parse are skipped.
pub fn parse_softnet(text: &str) -> Vec<Softnet> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let cols: Vec<u32> = line
                .split_whitespace()
                .map(|c| u32::from_str_radix(c, 16))
                .collect::<Result<_, _>>()
                .ok()?;
            if cols.len() < 2 {
                return None;
            }
            Some(Softnet {
                cpu: cols.get(12).map_or(i, |&c| c as usize),
                processed: cols[0],
                dropped: cols[1],
            })
        })
        .collect()
}

/// `/proc/net/softnet_stat`, kept open and read again from its start (one open for the
/// life of a forwarder, not one per look).
#[derive(Debug, Default)]
pub struct SoftnetReader {
    file: Option<std::fs::File>,
    text: String,
}

impl SoftnetReader {
    pub fn new() -> SoftnetReader {
        SoftnetReader {
            file: std::fs::File::open("/proc/net/softnet_stat").ok(),
            text: String::new(),
        }
    }

    /// The CPUs' lines now; empty when the file cannot be read.
    pub fn read(&mut self) -> Vec<Softnet> {
        use std::io::{Read, Seek, SeekFrom};
        let Some(f) = self.file.as_mut() else {
            return Vec::new();
        };
        self.text.clear();
        if f.seek(SeekFrom::Start(0)).is_err() || f.read_to_string(&mut self.text).is_err() {
            return Vec::new();
        }
        parse_softnet(&self.text)
    }
}

/// What the classifier counted on one CPU, cumulative.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuCopies {
    /// Copies the budget let through.
    pub admitted: u64,
    /// Frames shed.
    pub shed: u64,
}

/// One look at the CPUs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    /// CLOCK_MONOTONIC.
    pub at_ns: u64,
    pub softnet: Vec<Softnet>,
    /// Indexed by CPU.
    pub copies: Vec<CpuCopies>,
    /// Times control traffic was late (see the module's text), cumulative.
    pub control_late: u64,
}

/// The budget controller.
#[derive(Debug, Clone, Default)]
pub struct Pacer {
    /// Copies per CPU per slot; None: unpaced.
    budget: Option<u32>,
    last: Option<Observation>,
    hold: u32,
    calm: u32,
    cuts: u64,
}

impl Pacer {
    /// Unpaced until the first congestion.
    pub fn new() -> Pacer {
        Pacer::default()
    }

    /// The budget in force.
    pub fn budget(&self) -> Option<u32> {
        self.budget
    }

    /// Times congestion cut the budget.
    pub fn cuts(&self) -> u64 {
        self.cuts
    }

    /// Take a look; Some(new budget) when it changes.
    pub fn observe(&mut self, now: Observation) -> Option<Option<u32>> {
        let last = self.last.replace(now);
        let (Some(last), Some(now)) = (last, self.last.as_ref()) else {
            return None;
        };
        let slots = (now.at_ns.saturating_sub(last.at_ns) / SLOT_NS).max(1);
        let copies = |cpu: usize| {
            let (a, b) = (now.copies.get(cpu), last.copies.get(cpu));
            match (a, b) {
                (Some(a), Some(b)) => (
                    a.admitted.saturating_sub(b.admitted),
                    a.shed.saturating_sub(b.shed),
                ),
                _ => (0, 0),
            }
        };
        let shedding = (0..now.copies.len()).any(|c| copies(c).1 > 0);
        // The copies per slot made on the congested CPUs that the fast path loads.
        let mut congested_rate: Option<u64> = None;
        for s in &now.softnet {
            let Some(before) = last.softnet.iter().find(|b| b.cpu == s.cpu) else {
                continue;
            };
            let dropped = u64::from(s.dropped.wrapping_sub(before.dropped));
            let processed = u64::from(s.processed.wrapping_sub(before.processed));
            if dropped == 0 || dropped * DROP_SHARE < processed {
                continue;
            }
            let (admitted, _) = copies(s.cpu);
            if admitted == 0 || admitted * OUR_SHARE < processed {
                continue;
            }
            let rate = admitted / slots;
            congested_rate = Some(congested_rate.map_or(rate, |r| r.max(rate)));
        }
        if now.control_late != last.control_late {
            let peak = (0..now.copies.len())
                .map(|c| copies(c).0 / slots)
                .max()
                .unwrap_or(0);
            if peak >= u64::from(MIN_BUDGET) {
                congested_rate = Some(congested_rate.map_or(peak, |r| r.max(peak)));
            }
        }
        if self.hold > 0 {
            self.hold -= 1;
            return None;
        }
        let old = self.budget;
        if let Some(rate) = congested_rate {
            let base = old.map_or(rate, |b| rate.min(u64::from(b)));
            self.budget = Some(((base / 2) as u32).max(MIN_BUDGET));
            self.hold = HOLD_TICKS;
            self.calm = 0;
            self.cuts += 1;
        } else if let (true, Some(b)) = (shedding, old) {
            self.calm = 0;
            let grown = b.saturating_add((b / 32).max(1));
            self.budget = (grown <= MAX_BUDGET).then_some(grown);
        } else if old.is_some() {
            self.calm += 1;
            if self.calm >= CALM_TICKS {
                self.budget = None;
                self.calm = 0;
            }
        }
        (self.budget != old).then_some(self.budget)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
227bdea9 000025c4 0000004b 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000
531a7a67 0073b515 00000088 00000000 00000000 00000000 00000000 00000000 00000000 0133ca02 00000000 000001f4 00000001 00000000 00000000
";

    #[test]
    fn softnet_lines_parse_per_cpu() {
        let s = parse_softnet(SAMPLE);
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[1],
            Softnet {
                cpu: 1,
                processed: 0x531a7a67,
                dropped: 0x73b515,
            }
        );
        assert_eq!((s[0].cpu, s[0].dropped), (0, 0x25c4));
        // An old kernel's short line: the line number is the CPU.
        let old = parse_softnet("00000010 00000002 00000000\n");
        assert_eq!(
            old,
            vec![Softnet {
                cpu: 0,
                processed: 16,
                dropped: 2,
            }]
        );
        assert!(parse_softnet("garbage\n\n").is_empty());
    }

    #[test]
    fn the_reader_reads_the_file_again_from_its_start() {
        let mut r = SoftnetReader::new();
        let first = r.read();
        assert!(!first.is_empty(), "every Linux has /proc/net/softnet_stat");
        let again = r.read();
        assert_eq!(
            again.iter().map(|s| s.cpu).collect::<Vec<_>>(),
            first.iter().map(|s| s.cpu).collect::<Vec<_>>()
        );
    }

    /// A machine of one CPU: `processed` and `dropped` cumulative, the fast path's copies and
    /// sheds cumulative, one tick after another.
    struct Cpu {
        at: u64,
        processed: u32,
        dropped: u32,
        copies: CpuCopies,
        late: u64,
    }

    impl Cpu {
        fn new() -> Cpu {
            Cpu {
                at: 1_000_000_000,
                processed: u32::MAX - 5,
                dropped: u32::MAX,
                copies: CpuCopies::default(),
                late: 0,
            }
        }

        /// One tick in which the backlog processed `processed`, dropped `dropped` and the
        /// classifier admitted `admitted` copies and shed `shed` frames.
        fn tick(&mut self, processed: u32, dropped: u32, admitted: u64, shed: u64) -> Observation {
            self.at += TICK_NS;
            self.processed = self.processed.wrapping_add(processed);
            self.dropped = self.dropped.wrapping_add(dropped);
            self.copies.admitted += admitted;
            self.copies.shed += shed;
            Observation {
                at_ns: self.at,
                softnet: vec![Softnet {
                    cpu: 0,
                    processed: self.processed,
                    dropped: self.dropped,
                }],
                copies: vec![self.copies],
                control_late: self.late,
            }
        }
    }

    /// A pacer that has had its first look at a CPU.
    fn looked_once() -> (Pacer, Cpu) {
        let mut p = Pacer::new();
        let mut cpu = Cpu::new();
        assert_eq!(p.observe(cpu.tick(0, 0, 0, 0)), None, "the first look");
        (p, cpu)
    }

    #[test]
    fn drops_under_our_copies_halve_the_copy_rate_then_it_grows_back() {
        let mut p = Pacer::new();
        let mut cpu = Cpu::new();
        assert_eq!(p.observe(cpu.tick(0, 0, 0, 0)), None, "the first look");
        // 10,000 copies in 10 ms (1,000 a millisecond) with 1 % backlog drops (the counters
        // wrapping): halved.
        assert_eq!(p.observe(cpu.tick(30_000, 300, 10_000, 0)), Some(Some(500)));
        assert_eq!(p.cuts(), 1);
        // Held while the backlog drains, even though drops still show.
        for _ in 0..HOLD_TICKS {
            assert_eq!(p.observe(cpu.tick(30_000, 3_000, 5_000, 40)), None);
        }
        // Still dropping: halved again, from the lower of the budget and the rate.
        assert_eq!(
            p.observe(cpu.tick(30_000, 2_000, 5_000, 40)),
            Some(Some(250))
        );
        for _ in 0..HOLD_TICKS {
            p.observe(cpu.tick(15_000, 0, 2_500, 80));
        }
        // Shedding without drops: +1/32 a tick.
        assert_eq!(p.observe(cpu.tick(15_000, 0, 2_500, 80)), Some(Some(257)));
        assert_eq!(p.observe(cpu.tick(15_000, 0, 2_570, 80)), Some(Some(265)));
    }

    #[test]
    fn a_cut_never_goes_below_the_floor() {
        let (mut p, mut cpu) = looked_once();
        assert_eq!(p.observe(cpu.tick(100, 5, 100, 0)), Some(Some(MIN_BUDGET)));
    }

    #[test]
    fn congestion_that_is_not_ours_leaves_the_budget() {
        let (mut p, mut cpu) = looked_once();
        // Drops, but no copies of ours.
        assert_eq!(p.observe(cpu.tick(50_000, 100, 0, 0)), None);
        // Drops, and our copies a small part of what the backlog carried.
        assert_eq!(p.observe(cpu.tick(80_000, 1_000, 9_000, 0)), None);
        // Our copies, and drops too few to matter.
        assert_eq!(p.observe(cpu.tick(20_000, 199, 10_000, 0)), None);
        assert_eq!(p.budget(), None);
        assert_eq!(p.observe(cpu.tick(20_000, 200, 10_000, 0)), Some(Some(500)));
    }

    #[test]
    fn late_control_threads_cut_a_copy_rate_that_matters() {
        let (mut p, mut cpu) = looked_once();
        // Late, with 10 copies a millisecond: not ours to fix.
        cpu.late += 1;
        assert_eq!(p.observe(cpu.tick(1_000, 0, 100, 0)), None);
        // Late, with 800 a millisecond and no backlog trouble: halved.
        cpu.late += 3;
        assert_eq!(p.observe(cpu.tick(8_000, 0, 8_000, 0)), Some(Some(400)));
        assert_eq!(p.cuts(), 1);
    }

    #[test]
    fn calm_lifts_the_budget_and_a_budget_that_grew_past_the_cap_goes() {
        let (mut p, mut cpu) = looked_once();
        p.observe(cpu.tick(30_000, 300, 10_000, 0));
        assert_eq!(p.budget(), Some(500));
        for i in 0..HOLD_TICKS + CALM_TICKS - 1 {
            assert_eq!(p.observe(cpu.tick(100, 0, 100, 0)), None, "tick {i}");
        }
        assert_eq!(p.observe(cpu.tick(100, 0, 100, 0)), Some(None));

        let mut p = Pacer::new();
        p.observe(cpu.tick(0, 0, 0, 0));
        p.budget = Some(MAX_BUDGET - 1);
        assert_eq!(p.observe(cpu.tick(100, 0, 100, 5)), Some(None));
    }
}
