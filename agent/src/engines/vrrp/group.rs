//! One VRRP router instance for one virtual router on one interface (IPv4):
//! the state machine of RFC 9568 §6.4 (RFC 3768 §6.4 for version 2), plus
//! the vendor preemption behaviour described at [`Group`].
//!
//! The instance is sans-I/O: every entry point takes the current time and
//! returns [`Action`]s; the caller owns sockets and timers, calls
//! [`Group::on_timer`] at [`Group::next_deadline`], and encodes
//! [`Action::SendAdvert`] with [`Group::advert`].
//!
//! About 650 lines because it is one state machine (RFC 9568 §6.4) with the vendor rules
//! (preemption delay, mVRRP link handling) that change its transitions.

use std::fmt;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::packet::{v2_interval_secs, v3_interval_cs, Advert, ChecksumMode};

/// Protocol state (RFC 9568 §6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Waiting for a startup event (link up, usable priority).
    Initialize,
    /// Monitoring the master.
    Backup,
    /// Forwarding for the virtual addresses and advertising.
    Master,
}

impl State {
    /// Lower-case name, as in the ietf-vrrp YANG model (RFC 8347).
    pub fn name(self) -> &'static str {
        match self {
            State::Initialize => "initialize",
            State::Backup => "backup",
            State::Master => "master",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why the last state change happened (the ietf-vrrp `new-master-reason`
/// values of RFC 8347, plus `tracking`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Not (or no longer) master: start-up, link events, shutdown.
    NotMaster,
    /// An advertisement with a better priority (or equal priority and
    /// higher address) was received (RFC 9568 §6.4.3).
    Priority,
    /// This router preempted a lower-priority master (vendor rule).
    Preempted,
    /// The Master_Down_Timer fired (RFC 9568 §6.4.2).
    NoResponse,
    /// Interface tracking dropped the priority to 0 or restored it.
    Tracking,
}

impl Reason {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Reason::NotMaster => "not-master",
            Reason::Priority => "priority",
            Reason::Preempted => "preempted",
            Reason::NoResponse => "no-response",
            Reason::Tracking => "tracking",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Configuration of one virtual router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupConfig {
    /// Virtual Router Identifier, 1..=255.
    pub vrid: u8,
    /// Protocol version, 2 (RFC 3768) or 3 (RFC 9568).
    pub version: u8,
    /// Configured priority, 1..=254 (255, the address owner, is not
    /// supported; values outside the range are clamped).
    pub priority: u8,
    /// Preempt_Mode (RFC 9568 §6.1).
    pub preempt: bool,
    /// Vendor preemption delay (see [`Group`]).
    pub preempt_delay: Duration,
    /// Advertisement_Interval in centiseconds. Version 2 uses whole seconds
    /// (`interval / 100`, at least 1); version 3 uses 1..=4095.
    pub advert_interval_cs: u16,
    /// Checksum form used when sending version 3 advertisements.
    pub checksum: ChecksumMode,
    /// The virtual IPv4 addresses.
    pub virtual_ips: Vec<Ipv4Addr>,
    /// Accept received version 3 advertisements with either checksum form.
    pub accept_any_checksum: bool,
}

impl GroupConfig {
    /// Whether a received advertisement whose checksum verified in `mode`
    /// (see [`Advert::decode`]) is acceptable for this configuration.
    pub fn checksum_acceptable(&self, mode: ChecksumMode) -> bool {
        self.version == 2 || self.accept_any_checksum || mode == self.checksum
    }

    /// The advertisement interval as put on the wire, in centiseconds
    /// (version 2: whole seconds times 100).
    pub fn wire_interval_cs(&self) -> u16 {
        if self.version == 2 {
            u16::from(v2_interval_secs(self.advert_interval_cs)) * 100
        } else {
            v3_interval_cs(self.advert_interval_cs)
        }
    }
}

/// What the I/O layer must do on behalf of the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send an advertisement with this priority; build it with
    /// [`Group::advert`] (current configuration's interval and addresses).
    SendAdvert { priority: u8 },
    /// Send a gratuitous ARP for every virtual address (RFC 9568 §6.4.1).
    SendGarp,
    /// The protocol state changed.
    StateChange {
        old: State,
        new: State,
        reason: Reason,
    },
}

/// Statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Transitions into Master.
    pub master_transitions: u64,
    /// Advertisements sent (including priority 0).
    pub adverts_sent: u64,
    /// Advertisements handed to [`Group::receive`].
    pub adverts_received: u64,
    /// Priority-0 advertisements sent.
    pub priority_zero_sent: u64,
    /// Priority-0 advertisements received.
    pub priority_zero_received: u64,
    /// Version 2 advertisements discarded because their interval differs
    /// from the configured one (RFC 3768 §7.1).
    pub interval_errors: u64,
}

/// One VRRP router for one virtual router (RFC 9568 §6.4, IPv4).
///
/// Timers (RFC 9568 §6.1, §6.2):
/// * Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256
///   centiseconds, Master_Down_Interval = 3 * Master_Adver_Interval +
///   Skew_Time; Master_Adver_Interval is learned from the master's
///   advertisements while in Backup. Version 2 (RFC 3768 §6.1) uses the
///   configured interval and Skew_Time = (256 - Priority) / 256 seconds.
/// * Priority is the current (effective) priority set by
///   [`Group::set_priority`], initially the configured one.
///
/// Vendor rule (in addition to the RFC): a Backup with preempt enabled
/// whose priority is above the priority last heard from the master (because
/// its own priority was raised or the master advertised a lower one) becomes
/// Master with reason [`Reason::Preempted`] once `preempt_delay` has elapsed,
/// without waiting for the Master_Down_Timer (immediately when the delay is
/// zero). The pending preemption is cancelled when it no longer holds. It
/// never applies on equal priority, nor before any master has been heard.
///
/// Within one call, actions are returned in the order of RFC 9568 §6.4:
/// sends first, then the [`Action::StateChange`].
#[derive(Debug, Clone)]
pub struct Group {
    cfg: GroupConfig,
    local_ip: Ipv4Addr,
    state: State,
    /// Effective priority (0 = tracking says "down").
    priority: u8,
    link_up: bool,
    link_ever_up: bool,
    ignore_if_down: bool,
    shut: bool,
    /// Master_Adver_Interval (version 3; version 2 always uses the config).
    master_adver_interval_cs: u16,
    /// Last master heard with a non-zero priority, while in Backup.
    master: Option<(Ipv4Addr, u8)>,
    master_down_at: Option<Instant>,
    advert_at: Option<Instant>,
    /// When the pending vendor preemption started.
    preempt_since: Option<Instant>,
    last_reason: Reason,
    counters: Counters,
}

fn clamp_priority(p: u8) -> u8 {
    p.clamp(1, 254)
}

impl Group {
    /// A new instance in Initialize, link assumed down.
    pub fn new(cfg: GroupConfig, local_ip: Ipv4Addr, _now: Instant) -> Group {
        let priority = clamp_priority(cfg.priority);
        let mai = cfg.wire_interval_cs();
        Group {
            cfg,
            local_ip,
            state: State::Initialize,
            priority,
            link_up: false,
            link_ever_up: false,
            ignore_if_down: false,
            shut: false,
            master_adver_interval_cs: mai,
            master: None,
            master_down_at: None,
            advert_at: None,
            preempt_since: None,
            last_reason: Reason::NotMaster,
            counters: Counters::default(),
        }
    }

    // ---- accessors -------------------------------------------------------

    /// Current protocol state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Current effective priority.
    pub fn current_priority(&self) -> u8 {
        self.priority
    }

    /// The master's address: ours when Master, the last one heard when
    /// Backup, none in Initialize.
    pub fn master_ip(&self) -> Option<Ipv4Addr> {
        match self.state {
            State::Master => Some(self.local_ip),
            State::Backup => self.master.map(|(ip, _)| ip),
            State::Initialize => None,
        }
    }

    /// The master's priority, like [`Group::master_ip`].
    pub fn master_priority(&self) -> Option<u8> {
        match self.state {
            State::Master => Some(self.priority),
            State::Backup => self.master.map(|(_, p)| p),
            State::Initialize => None,
        }
    }

    /// Master_Down_Interval for the current priority and
    /// Master_Adver_Interval (RFC 9568 §6.1; RFC 3768 §6.1 for version 2).
    pub fn master_down_interval(&self) -> Duration {
        cs(self.mai_cs()) * 3 + self.skew_time()
    }

    /// Skew_Time (RFC 9568 §6.1; RFC 3768 §6.1 for version 2).
    pub fn skew_time(&self) -> Duration {
        let weight = 256 - u64::from(self.priority);
        if self.cfg.version == 2 {
            Duration::from_nanos(weight * 1_000_000_000 / 256)
        } else {
            let skew_cs = weight * u64::from(self.mai_cs()) / 256;
            Duration::from_millis(skew_cs * 10)
        }
    }

    /// Master_Adver_Interval in centiseconds.
    pub fn master_adver_interval_cs(&self) -> u16 {
        self.mai_cs()
    }

    /// Reason of the last state change.
    pub fn last_reason(&self) -> Reason {
        self.last_reason
    }

    /// Statistics.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The current configuration.
    pub fn config(&self) -> &GroupConfig {
        &self.cfg
    }

    /// The advertisement to send for [`Action::SendAdvert`]: current
    /// version, VRID, configured interval and virtual addresses.
    pub fn advert(&self, priority: u8) -> Advert {
        Advert {
            version: self.cfg.version,
            vrid: self.cfg.vrid,
            priority,
            interval_cs: self.cfg.wire_interval_cs(),
            addresses: self.cfg.virtual_ips.clone(),
        }
    }

    /// The earliest instant at which [`Group::on_timer`] has work to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        [self.advert_at, self.master_down_at, self.preempt_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    // ---- events ----------------------------------------------------------

    /// Interface link state. Link up leaves Initialize for Backup
    /// (RFC 9568 §6.4.1; priority 255 is not supported, so never straight to
    /// Master). Link down goes to Initialize (a Master cannot send any more),
    /// unless `ignore_if_down`, in which case the protocol keeps running on
    /// its timers.
    pub fn set_link(&mut self, up: bool, ignore_if_down: bool, now: Instant) -> Vec<Action> {
        self.link_up = up;
        self.link_ever_up |= up;
        self.ignore_if_down = ignore_if_down;
        let mut out = Vec::new();
        if self.shut {
            return out;
        }
        if up {
            if self.state == State::Initialize && self.priority > 0 {
                self.enter_backup_fresh(now, Reason::NotMaster, &mut out);
            }
        } else if !ignore_if_down && self.state != State::Initialize {
            self.enter_initialize(Reason::NotMaster, &mut out);
        }
        out
    }

    /// Effective priority from tracking: 1..=254, or 0 when a tracked link
    /// failed. Priority 0 sends Initialize (after a priority-0 advertisement
    /// when Master, RFC 9568 §6.4.3 "Shutdown"); a non-zero priority with
    /// the link usable brings an Initialize instance back to Backup.
    /// A Master whose priority is lowered stays Master and advertises the new
    /// value with its next advertisement.
    pub fn set_priority(&mut self, effective: u8, now: Instant) -> Vec<Action> {
        let p = if effective == 0 {
            0
        } else {
            clamp_priority(effective)
        };
        let mut out = Vec::new();
        if p == self.priority {
            return out;
        }
        self.priority = p;
        if self.shut {
            return out;
        }
        if p == 0 {
            match self.state {
                State::Master => {
                    out.push(self.send_advert(0));
                    self.enter_initialize(Reason::Tracking, &mut out);
                }
                State::Backup => self.enter_initialize(Reason::Tracking, &mut out),
                State::Initialize => {}
            }
        } else {
            match self.state {
                State::Initialize if self.link_usable() => {
                    self.enter_backup_fresh(now, Reason::Tracking, &mut out)
                }
                State::Backup => self.evaluate_preempt(now, &mut out),
                _ => {}
            }
        }
        out
    }

    /// The primary address of the interface (source of advertisements,
    /// tie-breaker on equal priority).
    pub fn set_local_ip(&mut self, ip: Ipv4Addr) {
        self.local_ip = ip;
    }

    /// The address advertisements are sent from.
    pub fn local_ip(&self) -> Ipv4Addr {
        self.local_ip
    }

    /// Applies a new configuration. An identical configuration does nothing.
    /// Priority, preempt, delay, interval, checksum and address changes are
    /// applied in place (a Master stays Master; a changed configured priority
    /// replaces the effective one unless tracking holds it at 0, and the
    /// caller re-applies tracking afterwards; new addresses are announced by
    /// gratuitous ARP when Master). A VRID or version change restarts the
    /// instance through Initialize.
    pub fn reconfigure(&mut self, cfg: GroupConfig, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if cfg == self.cfg {
            return out;
        }
        let old = std::mem::replace(&mut self.cfg, cfg);
        if self.shut {
            return out;
        }
        if old.vrid != self.cfg.vrid || old.version != self.cfg.version {
            if self.priority != 0 {
                self.priority = clamp_priority(self.cfg.priority);
            }
            if self.state != State::Initialize {
                self.enter_initialize(Reason::NotMaster, &mut out);
            }
            if self.link_usable() && self.priority > 0 {
                self.enter_backup_fresh(now, Reason::NotMaster, &mut out);
            }
            return out;
        }
        if old.priority != self.cfg.priority && self.priority != 0 {
            self.priority = clamp_priority(self.cfg.priority);
        }
        if old.wire_interval_cs() != self.cfg.wire_interval_cs() {
            match self.state {
                State::Master => {
                    let next = now + cs(self.cfg.wire_interval_cs());
                    self.advert_at = Some(self.advert_at.map_or(next, |at| at.min(next)));
                }
                _ if self.master.is_none() => {
                    self.master_adver_interval_cs = self.cfg.wire_interval_cs();
                }
                _ => {}
            }
        }
        if self.state == State::Master && old.virtual_ips != self.cfg.virtual_ips {
            out.push(Action::SendGarp);
        }
        if self.state == State::Backup {
            self.evaluate_preempt(now, &mut out);
        }
        out
    }

    /// A received advertisement for this VRID whose TTL and checksum the
    /// I/O layer has verified (RFC 9568 §6.4.2, §6.4.3).
    pub fn receive(&mut self, adv: &Advert, src: Ipv4Addr, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        self.counters.adverts_received += 1;
        if adv.priority == 0 {
            self.counters.priority_zero_received += 1;
        }
        if self.shut || self.state == State::Initialize || adv.version != self.cfg.version {
            return out;
        }
        if self.cfg.version == 2 && adv.interval_cs != self.cfg.wire_interval_cs() {
            // RFC 3768 §7.1: the interval must match the configured one.
            self.counters.interval_errors += 1;
            return out;
        }
        match self.state {
            State::Backup => {
                if adv.priority == 0 {
                    // The master is resigning. RFC 9568: take over after Skew_Time. The vendor
                    // rule (a preempting backup above the priority last heard from the master
                    // takes over after its preempt delay) applies to priority 0 as well, so a
                    // preempting backup does not wait for the skew: that wait only spreads out
                    // several backups, and an mVRRP pair has one.
                    self.master = self.master.map(|(ip, _)| (ip, 0)).or(Some((src, 0)));
                    self.master_down_at = Some(now + self.skew_time());
                    self.evaluate_preempt(now, &mut out);
                    return out;
                }
                self.master = Some((src, adv.priority));
                // RFC 9568 discards a lower-priority advert when preempting, letting the
                // master-down timer take over. Here the vendor rule preempts (after the
                // preempt delay), so the live master keeps the timer from firing early and a
                // long preempt delay is honoured.
                self.master_adver_interval_cs = adv.interval_cs.max(1);
                self.master_down_at = Some(now + self.master_down_interval());
                self.evaluate_preempt(now, &mut out);
            }
            State::Master => {
                if adv.priority == 0 {
                    out.push(self.send_advert(self.priority));
                    self.advert_at = Some(now + self.advert_interval());
                } else if adv.priority > self.priority
                    || (adv.priority == self.priority && src > self.local_ip)
                {
                    self.advert_at = None;
                    self.master = Some((src, adv.priority));
                    self.master_adver_interval_cs = adv.interval_cs.max(1);
                    self.change_state(State::Backup, Reason::Priority, &mut out);
                    self.master_down_at = Some(now + self.master_down_interval());
                }
            }
            State::Initialize => {}
        }
        out
    }

    /// Runs the timers due at `now`.
    pub fn on_timer(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.shut {
            return out;
        }
        match self.state {
            State::Master => {
                if let Some(at) = self.advert_at.filter(|at| *at <= now) {
                    out.push(self.send_advert(self.priority));
                    let interval = self.advert_interval();
                    let next = at + interval;
                    self.advert_at = Some(if next > now { next } else { now + interval });
                }
            }
            State::Backup => {
                let preempt = self.preempt_deadline().filter(|at| *at <= now);
                let down = self.master_down_at.filter(|at| *at <= now);
                match (preempt, down) {
                    (Some(p), Some(d)) if d < p => {
                        self.become_master(now, Reason::NoResponse, &mut out)
                    }
                    (Some(_), _) => self.become_master(now, Reason::Preempted, &mut out),
                    (None, Some(_)) => self.become_master(now, Reason::NoResponse, &mut out),
                    (None, None) => {}
                }
            }
            State::Initialize => {}
        }
        out
    }

    /// Administrative shutdown (RFC 9568 §6.4.2/§6.4.3 "Shutdown"): a Master
    /// sends a priority-0 advertisement; the instance goes to Initialize and
    /// stays there.
    pub fn shutdown(&mut self, _now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.shut {
            return out;
        }
        if self.state == State::Master {
            out.push(self.send_advert(0));
        }
        if self.state != State::Initialize {
            self.enter_initialize(Reason::NotMaster, &mut out);
        }
        self.shut = true;
        out
    }

    // ---- internals -------------------------------------------------------

    fn mai_cs(&self) -> u16 {
        if self.cfg.version == 2 {
            self.cfg.wire_interval_cs()
        } else {
            self.master_adver_interval_cs
        }
    }

    fn advert_interval(&self) -> Duration {
        cs(self.cfg.wire_interval_cs())
    }

    fn link_usable(&self) -> bool {
        self.link_up || (self.ignore_if_down && self.link_ever_up)
    }

    fn preempt_deadline(&self) -> Option<Instant> {
        self.preempt_since.map(|t| t + self.cfg.preempt_delay)
    }

    fn send_advert(&mut self, priority: u8) -> Action {
        self.counters.adverts_sent += 1;
        if priority == 0 {
            self.counters.priority_zero_sent += 1;
        }
        Action::SendAdvert { priority }
    }

    fn change_state(&mut self, new: State, reason: Reason, out: &mut Vec<Action>) {
        let old = self.state;
        self.state = new;
        self.last_reason = reason;
        if new == State::Master {
            self.counters.master_transitions += 1;
        }
        out.push(Action::StateChange { old, new, reason });
    }

    /// Initialize -> Backup (RFC 9568 §6.4.1): Master_Adver_Interval =
    /// Advertisement_Interval, Master_Down_Timer = Master_Down_Interval.
    fn enter_backup_fresh(&mut self, now: Instant, reason: Reason, out: &mut Vec<Action>) {
        self.master = None;
        self.preempt_since = None;
        self.advert_at = None;
        self.master_adver_interval_cs = self.cfg.wire_interval_cs();
        self.change_state(State::Backup, reason, out);
        self.master_down_at = Some(now + self.master_down_interval());
    }

    fn enter_initialize(&mut self, reason: Reason, out: &mut Vec<Action>) {
        self.master = None;
        self.preempt_since = None;
        self.advert_at = None;
        self.master_down_at = None;
        self.change_state(State::Initialize, reason, out);
    }

    /// Backup -> Master (RFC 9568 §6.4.2): advertise, gratuitous ARP, start
    /// the Adver_Timer.
    fn become_master(&mut self, now: Instant, reason: Reason, out: &mut Vec<Action>) {
        out.push(self.send_advert(self.priority));
        out.push(Action::SendGarp);
        self.master = None;
        self.preempt_since = None;
        self.master_down_at = None;
        self.advert_at = Some(now + self.advert_interval());
        self.change_state(State::Master, reason, out);
    }

    /// The vendor preemption rule (see [`Group`]): arm, keep, fire or cancel.
    fn evaluate_preempt(&mut self, now: Instant, out: &mut Vec<Action>) {
        let applies = self.state == State::Backup
            && self.cfg.preempt
            && self.priority > 0
            && self.master.is_some_and(|(_, p)| self.priority > p);
        if !applies {
            self.preempt_since = None;
            return;
        }
        let since = *self.preempt_since.get_or_insert(now);
        if since + self.cfg.preempt_delay <= now {
            self.become_master(now, Reason::Preempted, out);
        }
    }
}

fn cs(centis: u16) -> Duration {
    Duration::from_millis(u64::from(centis) * 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    const IP_A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const IP_B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
    const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 254);

    fn cfg(priority: u8) -> GroupConfig {
        GroupConfig {
            vrid: 10,
            version: 3,
            priority,
            preempt: true,
            preempt_delay: Duration::ZERO,
            advert_interval_cs: 100,
            checksum: ChecksumMode::ExcludePseudoHeader,
            virtual_ips: vec![VIP],
            accept_any_checksum: true,
        }
    }

    /// Exact to the nanosecond for the decimal literals used below.
    fn secs(s: f64) -> Duration {
        Duration::from_nanos((s * 1e9).round() as u64)
    }

    fn state_changes(actions: &[Action]) -> Vec<(State, State, Reason)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::StateChange { old, new, reason } => Some((*old, *new, *reason)),
                _ => None,
            })
            .collect()
    }

    // ---- a simulated LAN ---------------------------------------------------

    struct Node {
        g: Group,
        ip: Ipv4Addr,
        alive: bool,
        changes: Vec<(Duration, State, Reason)>,
        sent: Vec<(Duration, u8)>,
        garps: usize,
    }

    struct Sim {
        t0: Instant,
        now: Instant,
        nodes: Vec<Node>,
        connected: bool,
    }

    impl Sim {
        fn new(routers: Vec<(GroupConfig, Ipv4Addr)>) -> Sim {
            let t0 = Instant::now();
            let nodes = routers
                .into_iter()
                .map(|(c, ip)| Node {
                    g: Group::new(c, ip, t0),
                    ip,
                    alive: true,
                    changes: Vec::new(),
                    sent: Vec::new(),
                    garps: 0,
                })
                .collect();
            Sim {
                t0,
                now: t0,
                nodes,
                connected: true,
            }
        }

        fn elapsed(&self) -> Duration {
            self.now - self.t0
        }

        /// All routers' links come up at the current time.
        fn link_up_all(&mut self) {
            for i in 0..self.nodes.len() {
                self.call(i, |g, now| g.set_link(true, false, now));
            }
        }

        fn call(&mut self, i: usize, f: impl FnOnce(&mut Group, Instant) -> Vec<Action>) {
            let now = self.now;
            let actions = f(&mut self.nodes[i].g, now);
            self.apply(i, actions);
        }

        /// Executes actions, delivering advertisements through
        /// encode/decode to every other live router.
        fn apply(&mut self, from: usize, actions: Vec<Action>) {
            let mut queue: VecDeque<(usize, Action)> =
                actions.into_iter().map(|a| (from, a)).collect();
            while let Some((i, action)) = queue.pop_front() {
                let t = self.elapsed();
                match action {
                    Action::StateChange { new, reason, .. } => {
                        self.nodes[i].changes.push((t, new, reason))
                    }
                    Action::SendGarp => self.nodes[i].garps += 1,
                    Action::SendAdvert { priority } => {
                        self.nodes[i].sent.push((t, priority));
                        if !self.connected {
                            continue;
                        }
                        let src = self.nodes[i].ip;
                        let g = &self.nodes[i].g;
                        let bytes = g.advert(priority).encode(src, g.config().checksum);
                        let (adv, mode) = Advert::decode(&bytes, src).unwrap();
                        for j in 0..self.nodes.len() {
                            if j == i || !self.nodes[j].alive {
                                continue;
                            }
                            assert!(self.nodes[j].g.config().checksum_acceptable(mode));
                            let now = self.now;
                            for a in self.nodes[j].g.receive(&adv, src, now) {
                                queue.push_back((j, a));
                            }
                        }
                    }
                }
            }
        }

        /// Advances the clock to `t` (since start), firing timers exactly
        /// at their deadlines.
        fn run_until(&mut self, t: Duration) {
            let end = self.t0 + t;
            loop {
                let next = self
                    .nodes
                    .iter()
                    .filter(|n| n.alive)
                    .filter_map(|n| n.g.next_deadline())
                    .min();
                match next {
                    Some(d) if d <= end => {
                        self.now = self.now.max(d);
                        for i in 0..self.nodes.len() {
                            let due = self.nodes[i]
                                .g
                                .next_deadline()
                                .is_some_and(|d| d <= self.now);
                            if self.nodes[i].alive && due {
                                let now = self.now;
                                let actions = self.nodes[i].g.on_timer(now);
                                self.apply(i, actions);
                            }
                        }
                    }
                    _ => break,
                }
            }
            self.now = end;
        }

        fn state(&self, i: usize) -> State {
            self.nodes[i].g.state()
        }

        fn last_change(&self, i: usize) -> (Duration, State, Reason) {
            *self.nodes[i].changes.last().unwrap()
        }

        fn last_sent(&self, i: usize) -> Duration {
            self.nodes[i].sent.last().unwrap().0
        }
    }

    /// A = 10.0.0.1 priority 120, B = 10.0.0.2 priority 100 (preempt, delay
    /// `delay`), both up at 0 and run to 10 s: A is Master.
    fn a_master_b_backup(delay: Duration) -> Sim {
        let mut b = cfg(100);
        b.preempt_delay = delay;
        let mut sim = Sim::new(vec![(cfg(120), IP_A), (b, IP_B)]);
        sim.link_up_all();
        sim.run_until(secs(10.0));
        assert_eq!(sim.state(0), State::Master);
        assert_eq!(sim.state(1), State::Backup);
        sim
    }

    // ---- timers --------------------------------------------------------------

    #[test]
    fn timer_formulas_v3() {
        let now = Instant::now();
        let mut g = Group::new(cfg(100), IP_A, now);
        // Skew = 156 * 100 / 256 = 60 cs; MDI = 300 + 60 cs.
        assert_eq!(g.skew_time(), secs(0.60));
        assert_eq!(g.master_down_interval(), secs(3.60));
        g.set_priority(254, now);
        // 2 * 100 / 256 = 0 cs.
        assert_eq!(g.master_down_interval(), secs(3.0));
        g.set_priority(1, now);
        // 255 * 100 / 256 = 99 cs.
        assert_eq!(g.master_down_interval(), secs(3.99));
    }

    #[test]
    fn timer_formulas_v2_use_seconds() {
        let now = Instant::now();
        let mut c = cfg(100);
        c.version = 2;
        c.advert_interval_cs = 250; // whole seconds on the wire: 2 s
        let g = Group::new(c, IP_A, now);
        assert_eq!(g.master_adver_interval_cs(), 200);
        // Skew = 156/256 s = 0.609375 s, independent of the interval.
        assert_eq!(g.skew_time(), Duration::from_nanos(609_375_000));
        assert_eq!(
            g.master_down_interval(),
            secs(6.0) + Duration::from_nanos(609_375_000)
        );
    }

    #[test]
    fn backup_learns_master_adver_interval_v3() {
        let now = Instant::now();
        let mut g = Group::new(cfg(100), IP_B, now);
        g.set_link(true, false, now);
        let mut adv = g.advert(120);
        adv.interval_cs = 200;
        let t = now + secs(1.0);
        assert!(g.receive(&adv, IP_A, t).is_empty());
        assert_eq!(g.master_adver_interval_cs(), 200);
        // 600 + 156 * 200 / 256 = 600 + 121 cs.
        assert_eq!(g.master_down_interval(), secs(7.21));
        assert_eq!(g.next_deadline(), Some(t + secs(7.21)));
    }

    // ---- single router ---------------------------------------------------------

    #[test]
    fn starts_in_initialize_and_link_up_goes_backup() {
        let now = Instant::now();
        let mut g = Group::new(cfg(100), IP_A, now);
        assert_eq!(g.state(), State::Initialize);
        assert_eq!(g.next_deadline(), None);
        assert!(g.on_timer(now + secs(100.0)).is_empty());
        let a = g.set_link(true, false, now);
        assert_eq!(
            a,
            vec![Action::StateChange {
                old: State::Initialize,
                new: State::Backup,
                reason: Reason::NotMaster
            }]
        );
        assert_eq!(g.next_deadline(), Some(now + secs(3.6)));
        assert_eq!(g.master_ip(), None);
    }

    #[test]
    fn lone_router_becomes_master_and_advertises() {
        let now = Instant::now();
        let mut g = Group::new(cfg(100), IP_A, now);
        g.set_link(true, false, now);
        let t = now + secs(3.6);
        assert!(g.on_timer(t - secs(0.01)).is_empty());
        let a = g.on_timer(t);
        assert_eq!(
            a,
            vec![
                Action::SendAdvert { priority: 100 },
                Action::SendGarp,
                Action::StateChange {
                    old: State::Backup,
                    new: State::Master,
                    reason: Reason::NoResponse
                }
            ]
        );
        assert_eq!(g.master_ip(), Some(IP_A));
        assert_eq!(g.master_priority(), Some(100));
        assert_eq!(g.next_deadline(), Some(t + secs(1.0)));
        assert_eq!(
            g.on_timer(t + secs(1.0)),
            vec![Action::SendAdvert { priority: 100 }]
        );
        // A late timer call keeps the cadence.
        assert_eq!(g.on_timer(t + secs(2.3)).len(), 1);
        assert_eq!(g.next_deadline(), Some(t + secs(3.0)));
        let c = g.counters();
        assert_eq!((c.master_transitions, c.adverts_sent), (1, 3));
    }

    #[test]
    fn initialize_ignores_adverts_but_counts_them() {
        let now = Instant::now();
        let mut g = Group::new(cfg(100), IP_A, now);
        let adv = g.advert(0);
        assert!(g.receive(&adv, IP_B, now).is_empty());
        assert_eq!(g.state(), State::Initialize);
        assert_eq!(g.counters().adverts_received, 1);
        assert_eq!(g.counters().priority_zero_received, 1);
    }

    #[test]
    fn backup_priority_zero_without_preempt_waits_for_skew_time() {
        let now = Instant::now();
        let mut c = cfg(100);
        c.preempt = false;
        let mut g = Group::new(c, IP_B, now);
        g.set_link(true, false, now);
        let t = now + secs(2.0);
        g.receive(&g.advert(0), IP_A, t);
        assert_eq!(g.next_deadline(), Some(t + secs(0.6)));
        let a = g.on_timer(t + secs(0.6));
        assert_eq!(
            state_changes(&a),
            vec![(State::Backup, State::Master, Reason::NoResponse)]
        );
    }

    #[test]
    fn preempting_backup_takes_over_from_a_resigning_master_after_its_delay() {
        let now = Instant::now();
        let mut g = Group::new(cfg(100), IP_B, now);
        g.set_link(true, false, now);
        let t = now + secs(2.0);
        g.receive(&g.advert(120), IP_A, t);
        let a = g.receive(&g.advert(0), IP_A, t + secs(0.05));
        assert_eq!(
            state_changes(&a),
            vec![(State::Backup, State::Master, Reason::Preempted)]
        );
        // With a delay, the delay decides (and the skew timer is the RFC's fallback).
        let mut c = cfg(100);
        c.preempt_delay = secs(2.0);
        let mut g = Group::new(c, IP_B, now);
        g.set_link(true, false, now);
        g.receive(&g.advert(120), IP_A, t);
        assert!(g.receive(&g.advert(0), IP_A, t).is_empty());
        assert_eq!(g.next_deadline(), Some(t + secs(0.6)));
    }

    #[test]
    fn a_long_preempt_delay_is_honoured_while_the_lower_master_lives() {
        let now = Instant::now();
        let mut c = cfg(100);
        c.preempt_delay = secs(60.0);
        let mut g = Group::new(c, IP_B, now);
        g.set_link(true, false, now);
        // The master advertises 90 every second: its adverts keep the master-down timer from
        // firing, and the vendor rule waits out the 60 s delay.
        let mut t = now;
        for _ in 0..59 {
            t += secs(1.0);
            assert!(g.receive(&g.advert(90), IP_A, t).is_empty());
            assert_eq!(g.master_priority(), Some(90));
            let due: Vec<Action> = g.on_timer(t);
            assert!(due.is_empty(), "took over early at {:?}", t - now);
        }
        assert_eq!(g.state(), State::Backup);
        let a = g.on_timer(now + secs(61.0));
        assert!(a.contains(&Action::StateChange {
            old: State::Backup,
            new: State::Master,
            reason: Reason::Preempted
        }));
    }

    #[test]
    fn master_answers_priority_zero_at_once() {
        let now = Instant::now();
        let mut g = Group::new(cfg(100), IP_A, now);
        g.set_link(true, false, now);
        let t = now + secs(3.6);
        g.on_timer(t);
        let t2 = t + secs(0.5);
        let a = g.receive(&g.advert(0), IP_B, t2);
        assert_eq!(a, vec![Action::SendAdvert { priority: 100 }]);
        assert_eq!(g.next_deadline(), Some(t2 + secs(1.0)));
        assert_eq!(g.state(), State::Master);
    }

    #[test]
    fn master_yields_to_higher_priority_and_discards_lower() {
        let now = Instant::now();
        let mut g = Group::new(cfg(100), IP_A, now);
        g.set_link(true, false, now);
        let t = now + secs(3.6);
        g.on_timer(t);
        assert!(g.receive(&g.advert(99), IP_B, t).is_empty());
        let mut adv = g.advert(101);
        adv.interval_cs = 50;
        let a = g.receive(&adv, IP_B, t);
        assert_eq!(
            a,
            vec![Action::StateChange {
                old: State::Master,
                new: State::Backup,
                reason: Reason::Priority
            }]
        );
        assert_eq!(g.master_ip(), Some(IP_B));
        assert_eq!(g.master_priority(), Some(101));
        assert_eq!(g.master_adver_interval_cs(), 50);
        // 150 + 156 * 50 / 256 = 150 + 30 cs.
        assert_eq!(g.next_deadline(), Some(t + secs(1.8)));
    }

    #[test]
    fn master_tie_broken_by_source_address() {
        let now = Instant::now();
        let mut g = Group::new(cfg(100), IP_B, now);
        g.set_link(true, false, now);
        let t = now + secs(3.6);
        g.on_timer(t);
        // Equal priority from a lower address: discard.
        assert!(g.receive(&g.advert(100), IP_A, t).is_empty());
        assert_eq!(g.state(), State::Master);
        // Equal priority from a higher address: yield.
        let a = g.receive(&g.advert(100), Ipv4Addr::new(10, 0, 0, 3), t);
        assert_eq!(
            state_changes(&a),
            vec![(State::Master, State::Backup, Reason::Priority)]
        );
    }

    #[test]
    fn v2_interval_mismatch_discarded_and_counted() {
        let now = Instant::now();
        let mut c = cfg(100);
        c.version = 2;
        let mut g = Group::new(c, IP_B, now);
        g.set_link(true, false, now);
        let first = g.next_deadline();
        let mut adv = g.advert(200);
        adv.interval_cs = 200;
        assert!(g.receive(&adv, IP_A, now + secs(1.0)).is_empty());
        assert_eq!(g.next_deadline(), first);
        assert_eq!(g.master_ip(), None);
        let c = g.counters();
        assert_eq!((c.adverts_received, c.interval_errors), (1, 1));
        // The matching interval is accepted.
        g.receive(&g.advert(200), IP_A, now + secs(1.0));
        assert_eq!(g.master_ip(), Some(IP_A));
        assert_eq!(g.counters().interval_errors, 1);
        // Another version is ignored.
        let mut v3 = g.advert(200);
        v3.version = 3;
        g.receive(&v3, Ipv4Addr::new(10, 0, 0, 9), now + secs(1.5));
        assert_eq!(g.master_ip(), Some(IP_A));
    }

    #[test]
    fn link_down_and_ignore_if_down() {
        let now = Instant::now();
        let mut g = Group::new(cfg(100), IP_A, now);
        // Never up: ignore_if_down keeps Initialize.
        assert!(g.set_link(false, true, now).is_empty());
        assert_eq!(g.state(), State::Initialize);
        g.set_link(true, true, now);
        g.on_timer(now + secs(3.6));
        assert_eq!(g.state(), State::Master);
        // ignore_if_down: stays Master and keeps advertising.
        assert!(g.set_link(false, true, now + secs(4.0)).is_empty());
        assert_eq!(g.on_timer(now + secs(4.6)).len(), 1);
        // Normal link down: Initialize without sending anything.
        let a = g.set_link(false, false, now + secs(5.0));
        assert_eq!(
            a,
            vec![Action::StateChange {
                old: State::Master,
                new: State::Initialize,
                reason: Reason::NotMaster
            }]
        );
        assert_eq!(g.next_deadline(), None);
        let a = g.set_link(true, false, now + secs(6.0));
        assert_eq!(
            state_changes(&a),
            vec![(State::Initialize, State::Backup, Reason::NotMaster)]
        );
        assert_eq!(g.counters().adverts_sent, 2);
    }

    #[test]
    fn tracking_priority_zero_on_master_and_back() {
        let now = Instant::now();
        let mut g = Group::new(cfg(100), IP_A, now);
        g.set_link(true, false, now);
        g.on_timer(now + secs(3.6));
        let t = now + secs(4.0);
        let a = g.set_priority(0, t);
        assert_eq!(
            a,
            vec![
                Action::SendAdvert { priority: 0 },
                Action::StateChange {
                    old: State::Master,
                    new: State::Initialize,
                    reason: Reason::Tracking
                }
            ]
        );
        assert_eq!(g.counters().priority_zero_sent, 1);
        assert_eq!(g.last_reason(), Reason::Tracking);
        // Link events do not revive it while the priority is 0.
        assert!(g.set_link(true, false, t).is_empty());
        let a = g.set_priority(100, t + secs(1.0));
        assert_eq!(
            state_changes(&a),
            vec![(State::Initialize, State::Backup, Reason::Tracking)]
        );
        assert_eq!(g.next_deadline(), Some(t + secs(1.0) + secs(3.6)));
        // Priority 0 while the link is down, then restored: stays Initialize.
        g.set_link(false, false, t + secs(2.0));
        g.set_priority(0, t + secs(2.0));
        assert!(g.set_priority(100, t + secs(3.0)).is_empty());
        assert_eq!(g.state(), State::Initialize);
    }

    #[test]
    fn shutdown_sends_priority_zero_and_stays_down() {
        let now = Instant::now();
        let mut g = Group::new(cfg(100), IP_A, now);
        g.set_link(true, false, now);
        g.on_timer(now + secs(3.6));
        let a = g.shutdown(now + secs(4.0));
        assert_eq!(a[0], Action::SendAdvert { priority: 0 });
        assert_eq!(g.state(), State::Initialize);
        assert!(g.set_link(true, false, now + secs(5.0)).is_empty());
        assert!(g.set_priority(50, now + secs(5.0)).is_empty());
        assert_eq!(g.next_deadline(), None);
        assert!(g.shutdown(now + secs(6.0)).is_empty());
        // A Backup shuts down silently.
        let mut g = Group::new(cfg(100), IP_A, now);
        g.set_link(true, false, now);
        let a = g.shutdown(now);
        assert_eq!(
            a,
            vec![Action::StateChange {
                old: State::Backup,
                new: State::Initialize,
                reason: Reason::NotMaster
            }]
        );
    }

    #[test]
    fn reconfigure_in_place() {
        let now = Instant::now();
        let mut g = Group::new(cfg(100), IP_A, now);
        g.set_link(true, false, now);
        let t = now + secs(3.6);
        g.on_timer(t);
        // Unchanged: nothing at all.
        assert!(g.reconfigure(cfg(100), t).is_empty());
        assert_eq!(g.next_deadline(), Some(t + secs(1.0)));
        // New interval and priority: still Master, faster cadence.
        let mut c = cfg(90);
        c.advert_interval_cs = 50;
        assert!(g.reconfigure(c.clone(), t + secs(0.1)).is_empty());
        assert_eq!(g.state(), State::Master);
        assert_eq!(g.current_priority(), 90);
        assert_eq!(g.next_deadline(), Some(t + secs(0.6)));
        assert_eq!(g.advert(90).interval_cs, 50);
        assert_eq!(
            g.on_timer(t + secs(0.6)),
            vec![Action::SendAdvert { priority: 90 }]
        );
        // New address while Master: gratuitous ARP.
        c.virtual_ips.push(Ipv4Addr::new(10, 0, 0, 253));
        assert_eq!(
            g.reconfigure(c.clone(), t + secs(0.7)),
            vec![Action::SendGarp]
        );
        // Version change: restart through Initialize.
        c.version = 2;
        let a = g.reconfigure(c, t + secs(0.8));
        assert_eq!(
            state_changes(&a),
            vec![
                (State::Master, State::Initialize, Reason::NotMaster),
                (State::Initialize, State::Backup, Reason::NotMaster)
            ]
        );
        assert_eq!(g.counters().master_transitions, 1);
    }

    #[test]
    fn reconfigure_priority_and_preempt_drive_vendor_rule() {
        let now = Instant::now();
        let mut c = cfg(100);
        c.preempt = false;
        let mut g = Group::new(c.clone(), IP_B, now);
        g.set_link(true, false, now);
        g.receive(&g.advert(120), IP_A, now + secs(1.0));
        // Priority raised without preempt: no preemption.
        c.priority = 130;
        assert!(g.reconfigure(c.clone(), now + secs(1.1)).is_empty());
        assert_eq!(g.state(), State::Backup);
        // Preempt switched on: immediate preemption (delay 0).
        c.preempt = true;
        let a = g.reconfigure(c, now + secs(1.2));
        assert_eq!(
            state_changes(&a),
            vec![(State::Backup, State::Master, Reason::Preempted)]
        );
    }

    #[test]
    fn vendor_rule_needs_a_heard_master() {
        let now = Instant::now();
        let mut g = Group::new(cfg(100), IP_A, now);
        g.set_link(true, false, now);
        assert!(g.set_priority(200, now + secs(1.0)).is_empty());
        assert_eq!(g.state(), State::Backup);
        // The Master_Down_Timer armed at start-up governs (with the old
        // priority's Master_Down_Interval).
        assert_eq!(g.next_deadline(), Some(now + secs(3.6)));
    }

    // ---- two routers through encode/decode ------------------------------------

    #[test]
    fn higher_priority_wins() {
        let sim = a_master_b_backup(Duration::ZERO);
        // A: 300 + 136 * 100 / 256 = 353 cs.
        assert_eq!(
            sim.last_change(0),
            (secs(3.53), State::Master, Reason::NoResponse)
        );
        assert_eq!(sim.nodes[1].changes.len(), 1);
        assert_eq!(sim.nodes[1].g.master_ip(), Some(IP_A));
        assert_eq!(sim.nodes[1].g.master_priority(), Some(120));
        assert_eq!(sim.nodes[0].garps, 1);
        // Adverts at 3.53, 4.53, ..., 9.53.
        assert_eq!(sim.nodes[0].g.counters().adverts_sent, 7);
        assert_eq!(sim.nodes[1].g.counters().adverts_received, 7);
        assert_eq!(sim.nodes[1].g.counters().adverts_sent, 0);
    }

    #[test]
    fn master_dies_backup_takes_over_after_master_down_interval() {
        let mut sim = a_master_b_backup(Duration::ZERO);
        sim.nodes[0].alive = false;
        let last = sim.last_sent(0);
        assert_eq!(last, secs(9.53));
        let mdi = sim.nodes[1].g.master_down_interval();
        assert_eq!(mdi, secs(3.6));
        sim.run_until(last + mdi - secs(0.001));
        assert_eq!(sim.state(1), State::Backup);
        sim.run_until(secs(20.0));
        assert_eq!(
            sim.last_change(1),
            (last + mdi, State::Master, Reason::NoResponse)
        );
        assert_eq!(sim.nodes[1].garps, 1);
    }

    #[test]
    fn priority_zero_hands_over_at_once_to_a_preempting_backup() {
        let mut sim = a_master_b_backup(Duration::ZERO);
        sim.call(0, |g, now| g.shutdown(now));
        assert_eq!(sim.state(0), State::Initialize);
        sim.run_until(secs(15.0));
        assert_eq!(
            sim.last_change(1),
            (secs(10.0), State::Master, Reason::Preempted)
        );
        assert_eq!(sim.nodes[0].g.counters().priority_zero_sent, 1);
        assert_eq!(sim.nodes[1].g.counters().priority_zero_received, 1);
    }

    #[test]
    fn tracking_link_failure_then_recovery_preempts() {
        let mut sim = a_master_b_backup(Duration::ZERO);
        // A's tracked uplink fails: priority 0 advert, B (preempt, delay 0) takes over.
        sim.call(0, |g, now| g.set_priority(0, now));
        assert_eq!(
            sim.last_change(0),
            (secs(10.0), State::Initialize, Reason::Tracking)
        );
        sim.run_until(secs(12.0));
        assert_eq!(
            sim.last_change(1),
            (secs(10.0), State::Master, Reason::Preempted)
        );
        // Uplink back: A returns to Backup, hears B at 100 < 120 and, with
        // preempt and delay 0, preempts at once.
        sim.call(0, |g, now| g.set_priority(120, now));
        assert_eq!(
            sim.last_change(0),
            (secs(12.0), State::Backup, Reason::Tracking)
        );
        sim.run_until(secs(13.5));
        // B became master at 10.0 and advertises every second: 11.0, 12.0, 13.0.
        assert_eq!(
            sim.last_change(0),
            (secs(13.0), State::Master, Reason::Preempted)
        );
        assert_eq!(
            sim.last_change(1),
            (secs(13.0), State::Backup, Reason::Priority)
        );
        sim.run_until(secs(30.0));
        assert_eq!(sim.state(0), State::Master);
        assert_eq!(sim.state(1), State::Backup);
    }

    #[test]
    fn recovery_after_link_flap_preempts_lower_master() {
        let mut sim = a_master_b_backup(Duration::ZERO);
        sim.call(0, |g, now| g.set_link(false, false, now));
        assert_eq!(sim.nodes[0].g.counters().priority_zero_sent, 0);
        sim.run_until(secs(20.0));
        // A's last advert at 9.53; B takes over at 9.53 + 3.6.
        assert_eq!(
            sim.last_change(1),
            (secs(13.13), State::Master, Reason::NoResponse)
        );
        sim.call(0, |g, now| g.set_link(true, false, now));
        sim.run_until(secs(21.5));
        // B advertises at 20.13: A preempts on the first advert it hears.
        assert_eq!(
            sim.last_change(0),
            (secs(20.13), State::Master, Reason::Preempted)
        );
        assert_eq!(sim.state(1), State::Backup);
    }

    #[test]
    fn vendor_rule_raised_priority_preempts_at_once() {
        let mut sim = a_master_b_backup(Duration::ZERO);
        sim.call(1, |g, now| g.set_priority(140, now));
        assert_eq!(
            sim.last_change(1),
            (secs(10.0), State::Master, Reason::Preempted)
        );
        assert_eq!(
            sim.last_change(0),
            (secs(10.0), State::Backup, Reason::Priority)
        );
        assert_eq!(sim.nodes[0].g.master_ip(), Some(IP_B));
        assert_eq!(sim.nodes[0].g.master_priority(), Some(140));
        sim.run_until(secs(30.0));
        // A (preempt on, 120 < 140) stays Backup.
        assert_eq!(sim.state(0), State::Backup);
        assert_eq!(sim.state(1), State::Master);
    }

    #[test]
    fn vendor_rule_with_preempt_delay() {
        let mut sim = a_master_b_backup(secs(2.0));
        sim.call(1, |g, now| g.set_priority(140, now));
        assert_eq!(sim.state(1), State::Backup);
        assert_eq!(sim.nodes[1].g.next_deadline(), Some(sim.t0 + secs(12.0)));
        sim.run_until(secs(11.999));
        assert_eq!(sim.state(1), State::Backup);
        sim.run_until(secs(12.5));
        assert_eq!(
            sim.last_change(1),
            (secs(12.0), State::Master, Reason::Preempted)
        );
        assert_eq!(sim.state(0), State::Backup);
    }

    #[test]
    fn vendor_rule_cancelled_when_priority_drops_again() {
        let mut sim = a_master_b_backup(secs(2.0));
        sim.call(1, |g, now| g.set_priority(140, now));
        sim.run_until(secs(11.0));
        sim.call(1, |g, now| g.set_priority(100, now));
        sim.run_until(secs(30.0));
        assert_eq!(sim.state(1), State::Backup);
        assert_eq!(sim.state(0), State::Master);
        assert_eq!(sim.nodes[1].changes.len(), 1);
    }

    #[test]
    fn vendor_rule_cancelled_by_better_advert() {
        let mut sim = a_master_b_backup(secs(2.0));
        sim.call(1, |g, now| g.set_priority(140, now));
        sim.run_until(secs(11.0));
        // A's next advert (11.53) carries 150 >= 140.
        sim.call(0, |g, now| g.set_priority(150, now));
        sim.run_until(secs(30.0));
        assert_eq!(sim.state(1), State::Backup);
        assert_eq!(sim.nodes[1].g.master_priority(), Some(150));
    }

    #[test]
    fn vendor_rule_not_on_equal_priority_nor_without_preempt() {
        let mut sim = a_master_b_backup(Duration::ZERO);
        sim.call(1, |g, now| g.set_priority(120, now));
        sim.run_until(secs(30.0));
        assert_eq!(sim.state(1), State::Backup);

        let mut b = cfg(100);
        b.preempt = false;
        let mut sim = Sim::new(vec![(cfg(120), IP_A), (b, IP_B)]);
        sim.link_up_all();
        sim.run_until(secs(10.0));
        sim.call(1, |g, now| g.set_priority(140, now));
        sim.run_until(secs(30.0));
        assert_eq!(sim.state(1), State::Backup);
        assert_eq!(sim.state(0), State::Master);
    }

    #[test]
    fn lowered_master_priority_lets_peer_preempt() {
        let mut sim = a_master_b_backup(Duration::ZERO);
        sim.call(0, |g, now| g.set_priority(90, now));
        assert_eq!(sim.state(0), State::Master);
        assert_eq!(sim.nodes[0].changes.len(), 2, "backup, master: no change");
        sim.run_until(secs(11.0));
        // A's advert at 10.53 carries 90; B (100, preempt) takes over.
        assert_eq!(sim.nodes[0].sent.last(), Some(&(secs(10.53), 90)));
        assert_eq!(
            sim.last_change(1),
            (secs(10.53), State::Master, Reason::Preempted)
        );
        assert_eq!(
            sim.last_change(0),
            (secs(10.53), State::Backup, Reason::Priority)
        );
    }

    #[test]
    fn equal_priority_tie_broken_by_address() {
        // Partitioned, both become Master; when the LAN heals the higher
        // address keeps mastership.
        let mut sim = Sim::new(vec![(cfg(100), IP_A), (cfg(100), IP_B)]);
        sim.connected = false;
        sim.link_up_all();
        sim.run_until(secs(5.0));
        assert_eq!((sim.state(0), sim.state(1)), (State::Master, State::Master));
        sim.connected = true;
        sim.run_until(secs(20.0));
        assert_eq!(sim.state(0), State::Backup);
        assert_eq!(sim.state(1), State::Master);
        assert_eq!(
            sim.last_change(0),
            (secs(5.6), State::Backup, Reason::Priority)
        );
        // Equal priority never preempts afterwards.
        assert_eq!(sim.nodes[0].changes.len(), 3);
    }

    #[test]
    fn two_routers_v2_with_pseudo_header_config() {
        let mut a = cfg(120);
        a.version = 2;
        a.checksum = ChecksumMode::IncludePseudoHeader; // ignored for v2
        let mut b = cfg(100);
        b.version = 2;
        let mut sim = Sim::new(vec![(a, IP_A), (b, IP_B)]);
        sim.link_up_all();
        sim.run_until(secs(10.0));
        // A: 3 s + 136/256 s = 3.53125 s.
        assert_eq!(
            sim.last_change(0),
            (
                Duration::from_micros(3_531_250),
                State::Master,
                Reason::NoResponse
            )
        );
        assert_eq!(sim.state(1), State::Backup);
        sim.nodes[0].alive = false;
        let last = sim.last_sent(0);
        sim.run_until(secs(20.0));
        assert_eq!(
            sim.last_change(1),
            (
                last + Duration::from_micros(3_609_375),
                State::Master,
                Reason::NoResponse
            )
        );
        assert_eq!(sim.nodes[1].g.counters().interval_errors, 0);
    }

    #[test]
    fn checksum_acceptance() {
        let mut c = cfg(100);
        c.checksum = ChecksumMode::IncludePseudoHeader;
        assert!(c.checksum_acceptable(ChecksumMode::ExcludePseudoHeader));
        c.accept_any_checksum = false;
        assert!(!c.checksum_acceptable(ChecksumMode::ExcludePseudoHeader));
        assert!(c.checksum_acceptable(ChecksumMode::IncludePseudoHeader));
        c.version = 2;
        assert!(c.checksum_acceptable(ChecksumMode::ExcludePseudoHeader));
    }

    #[test]
    fn names() {
        assert_eq!(State::Initialize.name(), "initialize");
        assert_eq!(State::Backup.to_string(), "backup");
        assert_eq!(State::Master.name(), "master");
        let names: Vec<_> = [
            Reason::NotMaster,
            Reason::Priority,
            Reason::Preempted,
            Reason::NoResponse,
            Reason::Tracking,
        ]
        .iter()
        .map(|r| r.name())
        .collect();
        assert_eq!(
            names,
            [
                "not-master",
                "priority",
                "preempted",
                "no-response",
                "tracking"
            ]
        );
    }
}
