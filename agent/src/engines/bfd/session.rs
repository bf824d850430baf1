//! One BFD session in asynchronous mode (RFC 5880 §6.2, §6.8), sans I/O.
//!
//! The session never reads a clock or touches a socket: every entry point
//! takes `now`, and the result is a list of [`Action`]s for the caller to
//! carry out in order. The caller arranges to call [`Session::on_timer`] at
//! [`Session::next_deadline`].
//!
//! Not implemented: authentication, the Echo function, Demand mode on our
//! side (we never set D; the peer's D bit is honoured, §6.8.7) and the
//! passive role (we always send first).

use std::time::{Duration, Instant};

use super::packet::{ControlPacket, Diag, State};

/// Floor of bfd.DesiredMinTxInterval while the session is not Up
/// (RFC 5880 §6.8.3).
const SLOW_TX_US: u32 = 1_000_000;

/// Jitter factors are expressed in parts of this.
const JITTER_SCALE: u64 = 100_000;

/// Session parameters, as configured. Intervals are in microseconds.
///
/// `local_disc` must be non-zero and `detect_mult` at least 1 (a zero
/// multiplier is sent as 1); the caller validates the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// bfd.LocalDiscr.
    pub local_disc: u32,
    /// `Some`: a static session; the value is sent as Your Discriminator
    /// from the start and packets whose My Discriminator differs are
    /// discarded. `None`: learned from the peer's My Discriminator.
    pub remote_disc: Option<u32>,
    /// bfd.DesiredMinTxInterval while Up.
    pub desired_min_tx_us: u32,
    /// bfd.RequiredMinRxInterval.
    pub required_min_rx_us: u32,
    /// bfd.DetectMult.
    pub detect_mult: u8,
    /// Hold the session in AdminDown (RFC 5880 §6.8.16).
    pub admin_down: bool,
}

/// Something the caller has to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Transmit this packet to the peer now.
    Send(ControlPacket),
    /// bfd.SessionState changed; `diag` is the new bfd.LocalDiag.
    StateChange { old: State, new: State, diag: Diag },
}

/// What clients (e.g. VRRP tracking) should see, RFC 5882 §3.2: a session
/// that is AdminDown, locally or because the peer signalled AdminDown, must
/// not make clients act as if the path had failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    Up,
    Down,
    AdminDown,
}

/// Per-session statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Packets returned in [`Action::Send`].
    pub tx_packets: u64,
    /// Every packet given to [`Session::receive`], discarded or not.
    pub rx_packets: u64,
    /// Packets discarded by the §6.8.6 checks (a subset of `rx_packets`).
    pub rx_discarded: u64,
    /// Transitions into Up.
    pub up_transitions: u32,
    /// Accepted packets that came, while Up, more than half the Detection Time after the one
    /// before: the peer, or the path, held its packets back (a starved CPU on either side).
    pub rx_late: u64,
}

/// State of one BFD session (the bfd.* variables of RFC 5880 §6.8.1 plus
/// timers).
#[derive(Debug, Clone)]
pub struct Session {
    cfg: SessionConfig,
    state: State,
    local_diag: Diag,

    /// bfd.RemoteDiscr, 0 while unknown.
    remote_disc: u32,
    /// bfd.RemoteSessionState.
    remote_state: State,
    /// bfd.RemoteDemandMode.
    remote_demand: bool,
    /// bfd.RemoteMinRxInterval (initially 1, §6.8.1).
    remote_min_rx_us: u32,
    /// Desired Min TX Interval last received.
    remote_min_tx_us: u32,
    /// Detect Mult last received; 0 when nothing received recently.
    remote_mult: u8,
    /// When the last accepted packet arrived; `None` disarms detection.
    last_rx: Option<Instant>,

    /// Desired Min TX / Required Min RX as advertised in our packets.
    adv_tx_us: u32,
    adv_rx_us: u32,
    /// Values in force for our transmit interval and for detection; they
    /// lag the advertised ones during a Poll Sequence (§6.8.3).
    tx_us: u32,
    rx_us: u32,
    /// A Poll Sequence is in progress (§6.5).
    polling: bool,

    /// Next periodic transmission is at `tx_anchor` plus the transmit
    /// interval scaled by `tx_jitter / JITTER_SCALE`. Keeping the factor
    /// rather than an instant lets interval changes apply at once.
    tx_anchor: Instant,
    tx_jitter: u32,
    /// xorshift64 state, never 0.
    rng: crate::engines::rng::Rng,

    counters: Counters,
}

impl Session {
    /// A new session, Down (or AdminDown if so configured). The first packet
    /// is due at once: call [`Session::on_timer`] at `now`. `seed` drives the
    /// transmit jitter.
    pub fn new(cfg: SessionConfig, now: Instant, seed: u64) -> Session {
        let (state, local_diag) = if cfg.admin_down {
            (State::AdminDown, Diag::AdministrativelyDown)
        } else {
            (State::Down, Diag::None)
        };
        let rng = crate::engines::rng::Rng::new(seed ^ 0x9e37_79b9_7f4a_7c15);
        let mut s = Session {
            cfg,
            state,
            local_diag,
            remote_disc: cfg.remote_disc.unwrap_or(0),
            remote_state: State::Down,
            remote_demand: false,
            remote_min_rx_us: 1,
            remote_min_tx_us: 0,
            remote_mult: 0,
            last_rx: None,
            adv_tx_us: 0,
            adv_rx_us: 0,
            tx_us: 0,
            rx_us: 0,
            polling: false,
            tx_anchor: now,
            tx_jitter: 0,
            rng,
            counters: Counters::default(),
        };
        s.apply_params();
        s
    }

    /// Apply a new configuration. An identical configuration is a no-op.
    /// A changed discriminator restarts the session (Down, peer forgotten);
    /// changed timers while Up start a Poll Sequence (§6.8.3).
    pub fn reconfigure(&mut self, cfg: SessionConfig, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if cfg == self.cfg {
            return out;
        }
        let old = std::mem::replace(&mut self.cfg, cfg);

        if cfg.local_disc != old.local_disc || cfg.remote_disc != old.remote_disc {
            self.forget_peer();
            self.remote_state = State::Down;
            self.remote_disc = cfg.remote_disc.unwrap_or(0);
            self.polling = false;
            let (state, diag) = if cfg.admin_down {
                (State::AdminDown, Diag::AdministrativelyDown)
            } else {
                (State::Down, Diag::None)
            };
            if state == self.state {
                self.local_diag = diag;
                self.apply_params();
            } else {
                self.transition(state, diag, &mut out);
            }
            self.send(now, false, &mut out);
        } else if cfg.admin_down != old.admin_down {
            if cfg.admin_down {
                self.transition(State::AdminDown, Diag::AdministrativelyDown, &mut out);
            } else {
                self.transition(State::Down, Diag::None, &mut out);
            }
            self.send(now, false, &mut out);
        } else if self.apply_params() {
            // First packet of the Poll Sequence goes out at once.
            self.send(now, false, &mut out);
        }
        out
    }

    /// Process a received Control packet (already validated by
    /// [`ControlPacket::decode`]), RFC 5880 §6.8.6.
    pub fn receive(&mut self, pkt: &ControlPacket, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        self.counters.rx_packets += 1;
        if !self.accepts(pkt) {
            self.counters.rx_discarded += 1;
            return out;
        }

        self.remote_disc = pkt.my_disc;
        self.remote_state = pkt.state;
        self.remote_demand = pkt.demand;
        self.remote_min_rx_us = pkt.required_min_rx_us;
        self.remote_min_tx_us = pkt.desired_min_tx_us;
        self.remote_mult = pkt.detect_mult;
        if let (State::Up, Some(last), Some(d)) = (self.state, self.last_rx, self.detection_time())
        {
            if now.saturating_duration_since(last) > Duration::from_micros(d / 2) {
                self.counters.rx_late += 1;
            }
        }
        self.last_rx = Some(now);

        if self.polling && pkt.final_ {
            // §6.5: the Poll Sequence is over; the new values are in force.
            self.polling = false;
            self.tx_us = self.adv_tx_us;
            self.rx_us = self.adv_rx_us;
            // A change staged during the sequence starts the next one.
            self.apply_params();
        }

        // §6.8.6: "If bfd.SessionState is AdminDown: discard the packet".
        if self.state == State::AdminDown {
            return out;
        }

        let old = self.state;
        match (self.state, pkt.state) {
            (State::Init | State::Up, State::AdminDown) | (State::Up, State::Down) => {
                self.transition(State::Down, Diag::NeighborSignaledSessionDown, &mut out);
            }
            (State::Down, State::Down) => self.transition(State::Init, self.local_diag, &mut out),
            (State::Down, State::Init) | (State::Init, State::Init | State::Up) => {
                self.transition(State::Up, Diag::None, &mut out);
            }
            _ => {}
        }

        if pkt.poll {
            // §6.8.7: answer a Poll at once, whatever the state or timers.
            self.send(now, true, &mut out);
        } else if self.state != old {
            self.send(now, false, &mut out);
        }
        out
    }

    /// Run the timers: detection expiry (§6.8.4) and periodic transmission
    /// (§6.8.7). Does nothing when called before [`Session::next_deadline`];
    /// when called late, sends one packet (no catch-up burst).
    pub fn on_timer(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.detect_deadline().is_some_and(|d| now >= d) {
            self.detection_expired(now, &mut out);
        }
        if now >= self.next_tx() {
            if self.periodic_allowed() {
                self.send(now, false, &mut out);
            } else {
                // Nothing to send; look again one interval later.
                self.tx_anchor = now;
                self.tx_jitter = self.draw_jitter();
            }
        }
        out
    }

    /// The earliest of the next periodic transmission and the detection
    /// deadline. Right after [`Session::on_timer`] it is later than `now`;
    /// after `receive`/`reconfigure` it may be due already, meaning "call
    /// `on_timer` now".
    pub fn next_deadline(&self) -> Instant {
        let tx = self.next_tx();
        match self.detect_deadline() {
            Some(d) => d.min(tx),
            None => tx,
        }
    }

    /// bfd.SessionState.
    pub fn state(&self) -> State {
        self.state
    }

    /// bfd.RemoteSessionState.
    pub fn remote_state(&self) -> State {
        self.remote_state
    }

    /// bfd.LocalDiag.
    pub fn local_diag(&self) -> Diag {
        self.local_diag
    }

    /// The state clients should act on (RFC 5882 §3.2).
    pub fn client_state(&self) -> ClientState {
        match self.state {
            State::Up => ClientState::Up,
            State::AdminDown => ClientState::AdminDown,
            _ if self.remote_state == State::AdminDown => ClientState::AdminDown,
            _ => ClientState::Down,
        }
    }

    /// bfd.RemoteDiscr, 0 while unknown.
    pub fn remote_disc(&self) -> u32 {
        self.remote_disc
    }

    /// The periodic transmit interval in force, before jitter (§6.8.2,
    /// §6.8.7): the larger of our DesiredMinTx in use and the peer's
    /// RequiredMinRx.
    pub fn actual_tx_interval_us(&self) -> u32 {
        self.tx_us.max(self.remote_min_rx_us)
    }

    /// Detection Time (§6.8.4): the one in force while the peer's packets
    /// arrive; otherwise (never heard, or timed out) the one the session will
    /// use with a peer configured like itself, DetectMult times the larger of
    /// the configured intervals. It never reads 0 as if nothing were watched.
    pub fn detection_time_us(&self) -> u32 {
        let configured = || {
            u64::from(self.cfg.detect_mult)
                * u64::from(self.cfg.required_min_rx_us.max(self.cfg.desired_min_tx_us))
        };
        let d = self.detection_time().unwrap_or_else(configured);
        u32::try_from(d).unwrap_or(u32::MAX)
    }

    /// Whether [`Session::detection_time_us`] is the one in force (the peer's
    /// packets arrive) rather than the configured one.
    pub fn detection_in_force(&self) -> bool {
        self.remote_mult != 0
    }

    /// Statistics.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Session-dependent receive checks of §6.8.6. TTL and port checks are
    /// the I/O layer's business.
    fn accepts(&self, pkt: &ControlPacket) -> bool {
        // Normally caught by `ControlPacket::decode` already.
        if pkt.detect_mult == 0 || pkt.my_disc == 0 {
            return false;
        }
        // "If the Your Discriminator field is zero and the State field is
        // not Down or AdminDown, the packet MUST be discarded." The State
        // field is the packet's: a restarted peer says Down with Your
        // Discriminator 0, and that must bring us down quickly.
        if pkt.your_disc == 0 {
            if matches!(pkt.state, State::Init | State::Up) {
                return false;
            }
        } else if pkt.your_disc != self.cfg.local_disc {
            return false;
        }
        match self.cfg.remote_disc {
            Some(disc) => pkt.my_disc == disc,
            None => true,
        }
    }

    /// Nothing heard for a Detection Time (§6.8.4): Init/Up go Down, and the
    /// peer's learned values are forgotten (§6.8.1: bfd.RemoteDiscr is reset
    /// when no packet arrived within a Detection Time).
    fn detection_expired(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.forget_peer();
        if self.cfg.remote_disc.is_none() {
            self.remote_disc = 0;
        }
        if matches!(self.state, State::Init | State::Up) {
            self.transition(State::Down, Diag::ControlDetectionTimeExpired, out);
            self.send(now, false, out);
        }
    }

    /// Reset what we know of the peer to the §6.8.1 initial values, except
    /// the discriminator, and a remote AdminDown: a peer that said AdminDown
    /// and then went quiet stays AdminDown for clients (RFC 5882 §3.2).
    fn forget_peer(&mut self) {
        self.last_rx = None;
        self.remote_mult = 0;
        self.remote_min_tx_us = 0;
        self.remote_min_rx_us = 1;
        self.remote_demand = false;
        if self.remote_state != State::AdminDown {
            self.remote_state = State::Down;
        }
    }

    fn transition(&mut self, new: State, diag: Diag, out: &mut Vec<Action>) {
        let old = self.state;
        self.state = new;
        self.local_diag = diag;
        if new == State::Up {
            self.counters.up_transitions = self.counters.up_transitions.saturating_add(1);
        }
        self.apply_params();
        out.push(Action::StateChange { old, new, diag });
    }

    /// Bring the advertised and in-force intervals in line with the
    /// configuration and state (§6.8.3). Returns true if a Poll Sequence was
    /// started.
    ///
    /// Not Up: DesiredMinTx is at least 1 s and everything applies at once.
    /// Up: a change is advertised with a Poll Sequence; a lower DesiredMinTx
    /// and a higher RequiredMinRx apply at once, the opposite changes only
    /// when the Final arrives. While a sequence runs, further changes wait
    /// for it to end.
    fn apply_params(&mut self) -> bool {
        let rx = self.cfg.required_min_rx_us;
        if self.state != State::Up {
            let tx = self.cfg.desired_min_tx_us.max(SLOW_TX_US);
            self.polling = false;
            (self.adv_tx_us, self.tx_us) = (tx, tx);
            (self.adv_rx_us, self.rx_us) = (rx, rx);
            return false;
        }
        // Zero is reserved on the wire (§4.1).
        let tx = self.cfg.desired_min_tx_us.max(1);
        if self.polling || (tx == self.adv_tx_us && rx == self.adv_rx_us) {
            return false;
        }
        self.adv_tx_us = tx;
        self.adv_rx_us = rx;
        self.tx_us = self.tx_us.min(tx);
        self.rx_us = self.rx_us.max(rx);
        self.polling = true;
        true
    }

    /// §6.8.7: no periodic packets when the peer asked for none (Required
    /// Min RX 0) or is in Demand mode with both sides Up and no Poll
    /// Sequence running.
    fn periodic_allowed(&self) -> bool {
        let demand_quiet = self.remote_demand
            && self.state == State::Up
            && self.remote_state == State::Up
            && !self.polling;
        self.remote_min_rx_us != 0 && !demand_quiet
    }

    /// Emit a packet with the current state. A reply to a Poll carries F and
    /// never P (§6.5); otherwise P is set while our Poll Sequence runs.
    fn send(&mut self, now: Instant, final_: bool, out: &mut Vec<Action>) {
        let pkt = ControlPacket {
            diag: self.local_diag,
            state: self.state,
            poll: self.polling && !final_,
            final_,
            cpi: false,
            demand: false,
            detect_mult: self.cfg.detect_mult.max(1),
            my_disc: self.cfg.local_disc,
            your_disc: self.remote_disc,
            desired_min_tx_us: self.adv_tx_us,
            required_min_rx_us: self.adv_rx_us,
            required_min_echo_rx_us: 0,
        };
        out.push(Action::Send(pkt));
        self.counters.tx_packets += 1;
        self.tx_anchor = now;
        self.tx_jitter = self.draw_jitter();
    }

    fn next_tx(&self) -> Instant {
        let interval_ns = u64::from(self.actual_tx_interval_us()) * 1_000;
        self.tx_anchor
            + Duration::from_nanos(interval_ns * u64::from(self.tx_jitter) / JITTER_SCALE)
    }

    /// Detection Time in µs (§6.8.4, asynchronous mode): the peer's Detect
    /// Mult times the larger of our RequiredMinRx in force and the peer's
    /// last DesiredMinTx.
    fn detection_time(&self) -> Option<u64> {
        (self.remote_mult != 0)
            .then(|| u64::from(self.remote_mult) * u64::from(self.rx_us.max(self.remote_min_tx_us)))
    }

    fn detect_deadline(&self) -> Option<Instant> {
        let last = self.last_rx?;
        Some(last + Duration::from_micros(self.detection_time()?))
    }

    /// Per-packet jitter factor (§6.8.7): the interval is reduced by a
    /// random 0-25%, or by 10-25% when bfd.DetectMult is 1.
    fn draw_jitter(&mut self) -> u32 {
        let r = self.rng.next_u64();
        let scale = JITTER_SCALE;
        let (low, high) = if self.cfg.detect_mult <= 1 {
            (scale * 75 / 100, scale * 90 / 100)
        } else {
            (scale * 75 / 100, scale)
        };
        // Both bounds are at most JITTER_SCALE, so this fits in a u32.
        (low + r % (high - low + 1)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    const MS: u32 = 1_000;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn cfg(local: u32) -> SessionConfig {
        SessionConfig {
            local_disc: local,
            remote_disc: None,
            desired_min_tx_us: 300 * MS,
            required_min_rx_us: 300 * MS,
            detect_mult: 3,
            admin_down: false,
        }
    }

    fn sends(actions: &[Action]) -> Vec<ControlPacket> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send(p) => Some(*p),
                Action::StateChange { .. } => None,
            })
            .collect()
    }

    fn changes(actions: &[Action]) -> Vec<(State, State, Diag)> {
        actions
            .iter()
            .filter_map(|a| match *a {
                Action::StateChange { old, new, diag } => Some((old, new, diag)),
                Action::Send(_) => None,
            })
            .collect()
    }

    /// A packet from a fake peer with discriminator 100.
    fn peer(state: State, your_disc: u32) -> ControlPacket {
        ControlPacket {
            diag: Diag::None,
            state,
            poll: false,
            final_: false,
            cpi: false,
            demand: false,
            detect_mult: 3,
            my_disc: 100,
            your_disc,
            desired_min_tx_us: 300 * MS,
            required_min_rx_us: 300 * MS,
            required_min_echo_rx_us: 0,
        }
    }

    /// Session 1 brought Up by the fake peer, its Poll Sequence completed.
    /// Returns the session and the time of the last exchange.
    fn up_session(c: SessionConfig) -> (Session, Instant) {
        let t0 = Instant::now();
        let mut s = Session::new(c, t0, 7);
        s.on_timer(t0);
        s.receive(&peer(State::Init, c.local_disc), t0 + ms(10));
        assert_eq!(s.state(), State::Up);
        let fin = ControlPacket {
            final_: true,
            ..peer(State::Up, c.local_disc)
        };
        s.receive(&fin, t0 + ms(20));
        assert!(!s.polling);
        (s, t0 + ms(20))
    }

    /// Two sessions wired back to back through encode/decode, zero delay.
    struct Wire {
        a: Session,
        b: Session,
        now: Instant,
        /// (sent by a, time, packet)
        log: Vec<(bool, Instant, ControlPacket)>,
    }

    impl Wire {
        fn new(ca: SessionConfig, cb: SessionConfig) -> Wire {
            let now = Instant::now();
            Wire {
                a: Session::new(ca, now, 1),
                b: Session::new(cb, now, 2),
                now,
                log: Vec::new(),
            }
        }

        fn deliver(&mut self, from_a: bool, actions: Vec<Action>) {
            let mut queue: VecDeque<(bool, ControlPacket)> =
                sends(&actions).into_iter().map(|p| (from_a, p)).collect();
            while let Some((from_a, pkt)) = queue.pop_front() {
                self.log.push((from_a, self.now, pkt));
                let rx = ControlPacket::decode(&pkt.encode()).unwrap();
                let dst = if from_a { &mut self.b } else { &mut self.a };
                let replies = dst.receive(&rx, self.now);
                queue.extend(sends(&replies).into_iter().map(|p| (!from_a, p)));
            }
        }

        fn run_until(&mut self, end: Instant) {
            for _ in 0..100_000 {
                let t = self.a.next_deadline().min(self.b.next_deadline());
                if t > end {
                    self.now = end;
                    return;
                }
                self.now = self.now.max(t);
                let acts = self.a.on_timer(self.now);
                self.deliver(true, acts);
                let acts = self.b.on_timer(self.now);
                self.deliver(false, acts);
            }
            panic!("timers do not advance");
        }
    }

    #[test]
    fn three_way_handshake_back_to_back() {
        let mut w = Wire::new(cfg(1), cfg(2));
        let t0 = w.now;
        assert_eq!(w.a.client_state(), ClientState::Down);
        w.run_until(t0 + ms(3000));
        for (s, remote) in [(&w.a, 2), (&w.b, 1)] {
            assert_eq!(s.state(), State::Up);
            assert_eq!(s.remote_state(), State::Up);
            assert_eq!(s.remote_disc(), remote);
            assert_eq!(s.client_state(), ClientState::Up);
            assert_eq!(s.counters().up_transitions, 1);
            assert_eq!(s.actual_tx_interval_us(), 300 * MS);
            assert_eq!(s.detection_time_us(), 900 * MS);
            assert!(!s.polling);
        }
        // Handshake: Down (Your Disc 0), Init, Up, all at t0.
        let first: Vec<_> = w.log.iter().take(3).map(|e| (e.0, e.2.state)).collect();
        assert_eq!(
            first,
            [(true, State::Down), (false, State::Init), (true, State::Up)]
        );
        assert_eq!(w.log[0].2.your_disc, 0);
        assert_eq!(w.log[1].2.your_disc, 1);
        assert!(w.log.iter().all(|e| !(e.2.poll && e.2.final_)));
        // It stays up.
        w.run_until(t0 + ms(60_000));
        assert_eq!(w.a.counters().up_transitions, 1);
        assert_eq!(w.b.counters().up_transitions, 1);
        assert_eq!(w.a.counters().rx_discarded, 0);
    }

    #[test]
    fn static_sessions_come_up() {
        let ca = SessionConfig {
            remote_disc: Some(2),
            ..cfg(1)
        };
        let cb = SessionConfig {
            remote_disc: Some(1),
            ..cfg(2)
        };
        let mut w = Wire::new(ca, cb);
        assert_eq!(w.a.remote_disc(), 2);
        let t0 = w.now;
        w.run_until(t0 + ms(3000));
        assert_eq!(w.log[0].2.your_disc, 2);
        assert_eq!((w.a.state(), w.b.state()), (State::Up, State::Up));
    }

    #[test]
    fn peer_outage_and_recovery() {
        let mut w = Wire::new(cfg(1), cfg(2));
        let t0 = w.now;
        w.run_until(t0 + ms(2000));
        // B vanishes: A detects it, B is reborn with a new discriminator.
        w.b = Session::new(cfg(3), w.now, 9);
        let t = w.now;
        for _ in 0..200 {
            let d = w.a.next_deadline();
            w.now = d;
            let acts = w.a.on_timer(d);
            if !changes(&acts).is_empty() {
                assert_eq!(
                    changes(&acts),
                    [(State::Up, State::Down, Diag::ControlDetectionTimeExpired)]
                );
                break;
            }
        }
        assert_eq!(w.a.state(), State::Down);
        assert!(w.now - t <= ms(900));
        w.run_until(w.now + ms(5000));
        assert_eq!((w.a.state(), w.b.state()), (State::Up, State::Up));
        assert_eq!(w.a.remote_disc(), 3);
        assert_eq!(w.a.counters().up_transitions, 2);
    }

    #[test]
    fn down_rx_down_goes_init_and_sends_at_once() {
        let t0 = Instant::now();
        let mut s = Session::new(cfg(1), t0, 1);
        let acts = s.receive(&peer(State::Down, 0), t0 + ms(5));
        assert_eq!(changes(&acts), [(State::Down, State::Init, Diag::None)]);
        let pkts = sends(&acts);
        assert_eq!(pkts.len(), 1);
        assert_eq!(pkts[0].state, State::Init);
        assert_eq!(pkts[0].your_disc, 100);
        assert_eq!(pkts[0].my_disc, 1);
        assert!(matches!(acts[0], Action::StateChange { .. }));
        assert_eq!(s.remote_disc(), 100);
        assert_eq!(s.client_state(), ClientState::Down);
    }

    #[test]
    fn transitions_from_down_and_init() {
        let t0 = Instant::now();
        // Down + Init -> Up.
        let mut s = Session::new(cfg(1), t0, 1);
        let acts = s.receive(&peer(State::Init, 1), t0);
        assert_eq!(changes(&acts), [(State::Down, State::Up, Diag::None)]);
        assert_eq!(sends(&acts)[0].state, State::Up);
        // Down + Up -> nothing.
        let mut s = Session::new(cfg(1), t0, 1);
        assert!(s.receive(&peer(State::Up, 1), t0).is_empty());
        assert_eq!(s.state(), State::Down);
        // Init + Down -> stays Init; Init + Up -> Up.
        s.receive(&peer(State::Down, 0), t0);
        assert_eq!(s.state(), State::Init);
        assert!(s.receive(&peer(State::Down, 1), t0).is_empty());
        assert_eq!(s.state(), State::Init);
        let acts = s.receive(&peer(State::Up, 1), t0);
        assert_eq!(changes(&acts), [(State::Init, State::Up, Diag::None)]);
        // Init + Init -> Up.
        let mut s = Session::new(cfg(1), t0, 1);
        s.receive(&peer(State::Down, 0), t0);
        s.receive(&peer(State::Init, 1), t0);
        assert_eq!(s.state(), State::Up);
    }

    #[test]
    fn packets_late_by_half_the_detection_time_are_counted() {
        // The peer sends every 300 ms with multiplier 3: Detection Time 900 ms.
        let (mut s, t) = up_session(cfg(1));
        let up = peer(State::Up, 1);
        s.receive(&up, t + ms(300));
        s.receive(&up, t + ms(750));
        assert_eq!(s.counters().rx_late, 0, "450 ms is not more than half");
        s.receive(&up, t + ms(1201));
        assert_eq!(s.counters().rx_late, 1);
        assert_eq!(s.state(), State::Up);
    }

    #[test]
    fn up_rx_down_goes_down() {
        let (mut s, t) = up_session(cfg(1));
        let acts = s.receive(&peer(State::Down, 1), t + ms(10));
        assert_eq!(
            changes(&acts),
            [(State::Up, State::Down, Diag::NeighborSignaledSessionDown)]
        );
        let pkt = sends(&acts)[0];
        assert_eq!(
            (pkt.state, pkt.diag),
            (State::Down, Diag::NeighborSignaledSessionDown)
        );
        assert_eq!(pkt.desired_min_tx_us, 1_000 * MS);
        assert_eq!(s.client_state(), ClientState::Down);
    }

    #[test]
    fn restarted_peer_with_zero_your_disc_brings_us_down() {
        let (mut s, t) = up_session(cfg(1));
        let acts = s.receive(&peer(State::Down, 0), t + ms(10));
        assert_eq!(s.state(), State::Down);
        assert_eq!(changes(&acts).len(), 1);
    }

    #[test]
    fn peer_admin_down_is_admin_down_for_clients() {
        let (mut s, t) = up_session(cfg(1));
        let acts = s.receive(&peer(State::AdminDown, 1), t + ms(10));
        assert_eq!(
            changes(&acts),
            [(State::Up, State::Down, Diag::NeighborSignaledSessionDown)]
        );
        assert_eq!(s.client_state(), ClientState::AdminDown);
        // Still AdminDown for clients when the peer then falls silent.
        s.on_timer(t + ms(10_000));
        s.on_timer(t + ms(20_000));
        assert_eq!(s.remote_disc(), 0);
        assert_eq!(s.client_state(), ClientState::AdminDown);
        // Init + AdminDown -> Down as well.
        let t0 = Instant::now();
        let mut s = Session::new(cfg(1), t0, 1);
        s.receive(&peer(State::Down, 0), t0);
        let acts = s.receive(&peer(State::AdminDown, 1), t0);
        assert_eq!(
            changes(&acts),
            [(State::Init, State::Down, Diag::NeighborSignaledSessionDown)]
        );
        // The peer comes back: normal Down again.
        s.receive(&peer(State::Down, 1), t0);
        assert_eq!(s.client_state(), ClientState::Down);
    }

    #[test]
    fn local_admin_down() {
        let t0 = Instant::now();
        let c = SessionConfig {
            admin_down: true,
            ..cfg(1)
        };
        let mut s = Session::new(c, t0, 1);
        assert_eq!(s.state(), State::AdminDown);
        assert_eq!(s.local_diag(), Diag::AdministrativelyDown);
        assert_eq!(s.client_state(), ClientState::AdminDown);
        // Keeps sending AdminDown at the slow rate.
        let mut t = t0;
        let mut last = None;
        for _ in 0..5 {
            t = s.next_deadline();
            let pkts = sends(&s.on_timer(t));
            assert_eq!(pkts.len(), 1);
            assert_eq!(pkts[0].state, State::AdminDown);
            assert_eq!(pkts[0].diag, Diag::AdministrativelyDown);
            assert_eq!(pkts[0].desired_min_tx_us, 1_000 * MS);
            if let Some(l) = last {
                assert!(t - l >= ms(750));
            }
            last = Some(t);
        }
        // Received packets change nothing (not even a Poll is answered).
        for st in [State::Down, State::Init, State::Up] {
            let pkt = ControlPacket {
                poll: true,
                ..peer(st, 1)
            };
            assert!(s.receive(&pkt, t).is_empty());
        }
        assert_eq!(s.state(), State::AdminDown);
        assert_eq!(s.counters().rx_discarded, 0);
        // Leaving admin-down: Down, diag None, sent at once.
        let acts = s.reconfigure(cfg(1), t + ms(1));
        assert_eq!(
            changes(&acts),
            [(State::AdminDown, State::Down, Diag::None)]
        );
        assert_eq!(sends(&acts)[0].state, State::Down);
        assert_eq!(s.client_state(), ClientState::Down);
    }

    #[test]
    fn admin_down_from_up() {
        let (mut s, t) = up_session(cfg(1));
        let c = SessionConfig {
            admin_down: true,
            ..cfg(1)
        };
        let acts = s.reconfigure(c, t);
        assert_eq!(
            changes(&acts),
            [(State::Up, State::AdminDown, Diag::AdministrativelyDown)]
        );
        let pkt = sends(&acts)[0];
        assert_eq!(pkt.state, State::AdminDown);
        assert_eq!(pkt.your_disc, 100);
        assert_eq!(s.actual_tx_interval_us(), 1_000 * MS);
        assert_eq!(s.client_state(), ClientState::AdminDown);
    }

    #[test]
    fn slow_while_down_fast_after_up_and_poll() {
        let t0 = Instant::now();
        let mut s = Session::new(cfg(1), t0, 3);
        assert_eq!(s.next_deadline(), t0);
        assert_eq!(s.actual_tx_interval_us(), 1_000 * MS);
        let mut times = Vec::new();
        let mut t = t0;
        while t < t0 + ms(10_000) {
            t = s.next_deadline();
            for p in sends(&s.on_timer(t)) {
                assert_eq!((p.state, p.desired_min_tx_us), (State::Down, 1_000 * MS));
                assert_eq!(p.required_min_rx_us, 300 * MS);
                assert!(!p.poll);
                times.push(t);
            }
        }
        assert!(times.len() >= 10);
        for w in times.windows(2) {
            assert!(w[1] - w[0] >= ms(750) && w[1] - w[0] <= ms(1000));
        }

        // Up: the DesiredMinTx drop is advertised with a Poll Sequence.
        let acts = s.receive(&peer(State::Init, 1), t + ms(1));
        let pkt = sends(&acts)[0];
        assert_eq!(pkt.state, State::Up);
        assert!(pkt.poll);
        assert_eq!(pkt.desired_min_tx_us, 300 * MS);
        // Periodic packets repeat the Poll until the Final.
        let t = s.next_deadline();
        let pkt = sends(&s.on_timer(t))[0];
        assert!(pkt.poll && !pkt.final_);
        let fin = ControlPacket {
            final_: true,
            ..peer(State::Up, 1)
        };
        assert!(s.receive(&fin, t + ms(1)).is_empty());
        assert_eq!(s.actual_tx_interval_us(), 300 * MS);
        let mut prev = t;
        for _ in 0..20 {
            let t = s.next_deadline();
            let pkts = sends(&s.on_timer(t));
            s.receive(&peer(State::Up, 1), t);
            assert_eq!(pkts.len(), 1);
            assert!(!pkts[0].poll);
            assert!(t - prev >= ms(225) && t - prev <= ms(300));
            prev = t;
        }
    }

    #[test]
    fn slow_floor_does_not_poll_when_configured_slower() {
        let c = SessionConfig {
            desired_min_tx_us: 2_000 * MS,
            ..cfg(1)
        };
        let t0 = Instant::now();
        let mut s = Session::new(c, t0, 1);
        assert_eq!(s.actual_tx_interval_us(), 2_000 * MS);
        let acts = s.receive(&peer(State::Init, 1), t0);
        assert!(!sends(&acts)[0].poll);
        assert!(!s.polling);
    }

    #[test]
    fn poll_final_on_desired_tx_increase() {
        let (mut s, t) = up_session(cfg(1));
        let slower = SessionConfig {
            desired_min_tx_us: 600 * MS,
            ..cfg(1)
        };
        let acts = s.reconfigure(slower, t);
        assert!(changes(&acts).is_empty());
        let pkt = sends(&acts)[0];
        assert!(pkt.poll);
        assert_eq!(pkt.desired_min_tx_us, 600 * MS);
        // Old rate until the Final.
        assert_eq!(s.actual_tx_interval_us(), 300 * MS);
        let t1 = s.next_deadline();
        assert!(t1 - t <= ms(300));
        let pkt = sends(&s.on_timer(t1))[0];
        assert!(pkt.poll);
        let fin = ControlPacket {
            final_: true,
            ..peer(State::Up, 1)
        };
        s.receive(&fin, t1);
        assert_eq!(s.actual_tx_interval_us(), 600 * MS);
        let t2 = s.next_deadline();
        assert!(t2 - t1 >= ms(450));
        assert!(!sends(&s.on_timer(t2))[0].poll);
    }

    #[test]
    fn desired_tx_decrease_applies_at_once() {
        let (mut s, t) = up_session(cfg(1));
        let faster = SessionConfig {
            desired_min_tx_us: 100 * MS,
            ..cfg(1)
        };
        let acts = s.reconfigure(faster, t);
        assert!(sends(&acts)[0].poll);
        assert_eq!(s.actual_tx_interval_us(), 300 * MS); // the peer's RequiredMinRx
        let pkt = ControlPacket {
            required_min_rx_us: 50 * MS,
            ..peer(State::Up, 1)
        };
        s.receive(&pkt, t);
        assert_eq!(s.actual_tx_interval_us(), 100 * MS);
    }

    #[test]
    fn required_rx_decrease_waits_for_final_increase_does_not() {
        let (mut s, t) = up_session(cfg(1));
        let fast_peer = ControlPacket {
            desired_min_tx_us: 50 * MS,
            ..peer(State::Up, 1)
        };
        s.receive(&fast_peer, t);
        assert_eq!(s.detection_time_us(), 900 * MS);

        let lower = SessionConfig {
            required_min_rx_us: 100 * MS,
            ..cfg(1)
        };
        let pkt = sends(&s.reconfigure(lower, t))[0];
        assert!(pkt.poll);
        assert_eq!(pkt.required_min_rx_us, 100 * MS);
        assert_eq!(s.detection_time_us(), 900 * MS);
        s.receive(
            &ControlPacket {
                final_: true,
                ..fast_peer
            },
            t,
        );
        assert_eq!(s.detection_time_us(), 300 * MS);

        let higher = SessionConfig {
            required_min_rx_us: 500 * MS,
            ..cfg(1)
        };
        assert!(sends(&s.reconfigure(higher, t))[0].poll);
        assert_eq!(s.detection_time_us(), 1_500 * MS);
    }

    #[test]
    fn change_during_poll_waits_for_next_sequence() {
        let (mut s, t) = up_session(cfg(1));
        let c1 = SessionConfig {
            desired_min_tx_us: 600 * MS,
            ..cfg(1)
        };
        let c2 = SessionConfig {
            desired_min_tx_us: 900 * MS,
            ..cfg(1)
        };
        assert_eq!(sends(&s.reconfigure(c1, t)).len(), 1);
        // Staged: the current sequence keeps advertising 600 ms.
        assert!(s.reconfigure(c2, t).is_empty());
        let pkt = sends(&s.on_timer(s.next_deadline()))[0];
        assert_eq!((pkt.poll, pkt.desired_min_tx_us), (true, 600 * MS));
        let fin = ControlPacket {
            final_: true,
            ..peer(State::Up, 1)
        };
        s.receive(&fin, t + ms(300));
        assert_eq!(s.actual_tx_interval_us(), 600 * MS);
        // A second sequence for 900 ms.
        let pkt = sends(&s.on_timer(s.next_deadline()))[0];
        assert_eq!((pkt.poll, pkt.desired_min_tx_us), (true, 900 * MS));
        s.receive(&fin, t + ms(1000));
        assert_eq!(s.actual_tx_interval_us(), 900 * MS);
        assert!(!s.polling);
    }

    #[test]
    fn poll_is_answered_with_final_only() {
        let (mut s, t) = up_session(cfg(1));
        let poll = ControlPacket {
            poll: true,
            ..peer(State::Up, 1)
        };
        let pkts = sends(&s.receive(&poll, t));
        assert_eq!(pkts.len(), 1);
        assert!(pkts[0].final_ && !pkts[0].poll);
        // While our own sequence runs, the reply still has F only.
        let c = SessionConfig {
            required_min_rx_us: 400 * MS,
            ..cfg(1)
        };
        s.reconfigure(c, t);
        let pkts = sends(&s.receive(&poll, t + ms(1)));
        assert!(pkts[0].final_ && !pkts[0].poll);
        let pkt = sends(&s.on_timer(s.next_deadline()))[0];
        assert!(pkt.poll && !pkt.final_);
        // A Final with no sequence of ours running is harmless.
        let (mut s, t) = up_session(cfg(1));
        let fin = ControlPacket {
            final_: true,
            ..peer(State::Up, 1)
        };
        assert!(s.receive(&fin, t).is_empty());
    }

    #[test]
    fn remote_required_rx_applies_at_once() {
        let (mut s, t) = up_session(cfg(1));
        let slow = ControlPacket {
            required_min_rx_us: 1_000 * MS,
            ..peer(State::Up, 1)
        };
        s.receive(&slow, t);
        assert_eq!(s.actual_tx_interval_us(), 1_000 * MS);
        s.on_timer(s.next_deadline());
        let t1 = s.next_deadline();
        let faster = ControlPacket {
            poll: true,
            required_min_rx_us: 500 * MS,
            ..peer(State::Up, 1)
        };
        let pkts = sends(&s.receive(&faster, t1 - ms(600)));
        assert!(pkts[0].final_);
        assert_eq!(s.actual_tx_interval_us(), 500 * MS);
        assert!(s.next_deadline() <= t1 - ms(600) + ms(500));
    }

    #[test]
    fn no_periodic_tx_when_remote_required_rx_is_zero() {
        let (mut s, t) = up_session(cfg(1));
        let quiet = ControlPacket {
            required_min_rx_us: 0,
            ..peer(State::Up, 1)
        };
        s.receive(&quiet, t);
        let mut now = t;
        for _ in 0..20 {
            now += ms(100);
            assert!(s.on_timer(now).is_empty());
            s.receive(&quiet, now);
            assert!(s.next_deadline() > now);
        }
        // A Poll is still answered.
        let poll = ControlPacket {
            poll: true,
            ..quiet
        };
        assert!(sends(&s.receive(&poll, now))[0].final_);
    }

    #[test]
    fn remote_demand_mode_stops_periodic_tx() {
        let (mut s, t) = up_session(cfg(1));
        let demand = ControlPacket {
            demand: true,
            ..peer(State::Up, 1)
        };
        s.receive(&demand, t);
        let mut now = t;
        for _ in 0..10 {
            now += ms(200);
            assert!(s.on_timer(now).is_empty());
            s.receive(&demand, now);
        }
        // Our own Poll Sequence is transmitted regardless.
        let c = SessionConfig {
            desired_min_tx_us: 200 * MS,
            ..cfg(1)
        };
        assert!(sends(&s.reconfigure(c, now))[0].poll);
        now += ms(300);
        assert!(sends(&s.on_timer(now))[0].poll);
    }

    #[test]
    fn detection_expiry_exactly_at_detection_time() {
        let (mut s, t) = up_session(cfg(1));
        assert_eq!(s.detection_time_us(), 900 * MS);
        // Keep the transmit timer going, no packets from the peer.
        let deadline = t + ms(900);
        while s.next_deadline() < deadline {
            let d = s.next_deadline();
            assert!(changes(&s.on_timer(d)).is_empty());
        }
        assert_eq!(s.next_deadline(), deadline);
        assert!(changes(&s.on_timer(deadline - Duration::from_nanos(1))).is_empty());
        assert_eq!(s.state(), State::Up);
        let acts = s.on_timer(deadline);
        assert_eq!(
            changes(&acts),
            [(State::Up, State::Down, Diag::ControlDetectionTimeExpired)]
        );
        let pkt = sends(&acts)[0];
        assert_eq!(
            (pkt.state, pkt.diag),
            (State::Down, Diag::ControlDetectionTimeExpired)
        );
        assert_eq!(s.client_state(), ClientState::Down);
        assert_eq!(s.remote_state(), State::Down);
        // Nothing heard any more: the configured detection time (3 x 300 ms), not 0.
        assert!(!s.detection_in_force());
        assert_eq!(s.detection_time_us(), 900 * MS);
    }

    #[test]
    fn detection_time_uses_larger_of_local_rx_and_remote_tx() {
        let c = SessionConfig {
            required_min_rx_us: 500 * MS,
            ..cfg(1)
        };
        let t0 = Instant::now();
        let mut s = Session::new(c, t0, 1);
        // Peer still at the slow rate, multiplier 5.
        let pkt = ControlPacket {
            desired_min_tx_us: 1_000 * MS,
            detect_mult: 5,
            ..peer(State::Down, 0)
        };
        s.receive(&pkt, t0);
        assert_eq!(s.state(), State::Init);
        assert_eq!(s.detection_time_us(), 5_000 * MS);
        let pkt = ControlPacket {
            desired_min_tx_us: 300 * MS,
            detect_mult: 5,
            ..peer(State::Up, 1)
        };
        s.receive(&pkt, t0 + ms(100));
        assert_eq!(s.detection_time_us(), 2_500 * MS);
        assert!(changes(&s.on_timer(t0 + ms(2599))).is_empty());
        assert_eq!(changes(&s.on_timer(t0 + ms(2600))).len(), 1);
    }

    #[test]
    fn init_times_out_too() {
        let t0 = Instant::now();
        let mut s = Session::new(cfg(1), t0, 1);
        s.receive(&peer(State::Down, 0), t0);
        // Peer advertises 300 ms, mult 3.
        assert!(changes(&s.on_timer(t0 + ms(899))).is_empty());
        let acts = s.on_timer(t0 + ms(900));
        assert_eq!(
            changes(&acts),
            [(State::Init, State::Down, Diag::ControlDetectionTimeExpired)]
        );
    }

    #[test]
    fn learned_disc_forgotten_after_detection_time_while_down() {
        let t0 = Instant::now();
        let mut s = Session::new(cfg(1), t0, 1);
        // Down + Up: no transition, but the discriminator is learned.
        assert!(s.receive(&peer(State::Up, 1), t0).is_empty());
        assert_eq!(s.remote_disc(), 100);
        assert!(s
            .on_timer(t0 + ms(899))
            .iter()
            .all(|a| matches!(a, Action::Send(_))));
        assert_eq!(s.remote_disc(), 100);
        assert!(changes(&s.on_timer(t0 + ms(900))).is_empty());
        assert_eq!(s.remote_disc(), 0);
        assert_eq!(s.state(), State::Down);
        let pkt = sends(&s.on_timer(s.next_deadline()))[0];
        assert_eq!(pkt.your_disc, 0);

        // A static discriminator is kept.
        let c = SessionConfig {
            remote_disc: Some(100),
            ..cfg(1)
        };
        let mut s = Session::new(c, t0, 1);
        s.receive(&peer(State::Up, 1), t0);
        s.on_timer(t0 + ms(5000));
        assert_eq!(s.remote_disc(), 100);
    }

    #[test]
    fn discards() {
        let t0 = Instant::now();
        // Static remote discriminator mismatch.
        let c = SessionConfig {
            remote_disc: Some(99),
            ..cfg(1)
        };
        let mut s = Session::new(c, t0, 1);
        assert!(s.receive(&peer(State::Down, 0), t0).is_empty());
        assert_eq!((s.state(), s.remote_disc()), (State::Down, 99));
        assert!(!s.detection_in_force());

        let mut s = Session::new(cfg(1), t0, 1);
        // Your Discriminator not ours.
        assert!(s.receive(&peer(State::Down, 2), t0).is_empty());
        // Your Discriminator zero with State Init/Up.
        assert!(s.receive(&peer(State::Init, 0), t0).is_empty());
        assert!(s.receive(&peer(State::Up, 0), t0).is_empty());
        // Invalid packets built by hand.
        let bad = ControlPacket {
            detect_mult: 0,
            ..peer(State::Down, 0)
        };
        assert!(s.receive(&bad, t0).is_empty());
        let bad = ControlPacket {
            my_disc: 0,
            ..peer(State::Down, 0)
        };
        assert!(s.receive(&bad, t0).is_empty());
        assert_eq!(s.state(), State::Down);
        assert_eq!(s.remote_disc(), 0);
        assert_eq!(
            s.counters(),
            Counters {
                tx_packets: 0,
                rx_packets: 5,
                rx_discarded: 5,
                up_transitions: 0,
                rx_late: 0,
            }
        );
        // A discarded packet does not restart detection.
        let (mut s, t) = up_session(cfg(1));
        s.receive(&peer(State::Up, 7), t + ms(800));
        assert_eq!(changes(&s.on_timer(t + ms(900))).len(), 1);
    }

    #[test]
    fn reconfigure_unchanged_is_a_no_op() {
        let (mut s, t) = up_session(cfg(1));
        let before = format!("{s:?}");
        let deadline = s.next_deadline();
        assert!(s.reconfigure(cfg(1), t + ms(5)).is_empty());
        assert_eq!(format!("{s:?}"), before);
        assert_eq!(s.next_deadline(), deadline);
    }

    #[test]
    fn reconfigure_mult_needs_no_poll() {
        let (mut s, t) = up_session(cfg(1));
        let c = SessionConfig {
            detect_mult: 5,
            ..cfg(1)
        };
        assert!(s.reconfigure(c, t).is_empty());
        let pkt = sends(&s.on_timer(s.next_deadline()))[0];
        assert_eq!((pkt.detect_mult, pkt.poll), (5, false));
    }

    #[test]
    fn reconfigure_timers_while_down_apply_at_once() {
        let t0 = Instant::now();
        let mut s = Session::new(cfg(1), t0, 1);
        let c = SessionConfig {
            desired_min_tx_us: 3_000 * MS,
            required_min_rx_us: 100 * MS,
            ..cfg(1)
        };
        assert!(s.reconfigure(c, t0).is_empty());
        assert_eq!(s.actual_tx_interval_us(), 3_000 * MS);
        let pkt = sends(&s.on_timer(t0))[0];
        assert_eq!(
            (pkt.desired_min_tx_us, pkt.required_min_rx_us),
            (3_000 * MS, 100 * MS)
        );
        assert!(!pkt.poll);
    }

    #[test]
    fn reconfigure_discriminator_restarts() {
        let (mut s, t) = up_session(cfg(1));
        let acts = s.reconfigure(cfg(5), t);
        assert_eq!(changes(&acts), [(State::Up, State::Down, Diag::None)]);
        let pkt = sends(&acts)[0];
        assert_eq!((pkt.my_disc, pkt.your_disc, pkt.state), (5, 0, State::Down));
        assert!(!s.detection_in_force());
        assert_eq!(s.remote_state(), State::Down);
        // The peer's packets to the old discriminator are now discarded.
        assert!(s.receive(&peer(State::Up, 1), t).is_empty());
        assert_eq!(s.counters().rx_discarded, 1);

        // Becoming static while Down: no state change, new Your Disc sent.
        let c = SessionConfig {
            remote_disc: Some(42),
            ..cfg(5)
        };
        let acts = s.reconfigure(c, t);
        assert!(changes(&acts).is_empty());
        assert_eq!(sends(&acts)[0].your_disc, 42);
    }

    #[test]
    fn jitter_within_bounds() {
        let t0 = Instant::now();
        for (mult, high) in [(3u8, 100_000u32), (1, 90_000)] {
            let c = SessionConfig {
                detect_mult: mult,
                ..cfg(1)
            };
            let mut s = Session::new(c, t0, 12345);
            let (mut lo, mut hi) = (u32::MAX, 0);
            for _ in 0..10_000 {
                let j = s.draw_jitter();
                assert!((75_000..=high).contains(&j));
                lo = lo.min(j);
                hi = hi.max(j);
            }
            // The whole range is used.
            assert!(lo < 75_500 && hi > high - 500);
        }
    }

    #[test]
    fn periodic_gaps_within_75_to_100_percent() {
        let (mut s, _) = up_session(cfg(1));
        let mut prev: Option<Instant> = None;
        for _ in 0..2_000 {
            let t = s.next_deadline();
            assert_eq!(sends(&s.on_timer(t)).len(), 1);
            s.receive(&peer(State::Up, 1), t);
            if let Some(p) = prev {
                let gap = t - p;
                assert!(gap >= ms(225) && gap <= ms(300), "{gap:?}");
            }
            prev = Some(t);
        }
    }

    #[test]
    fn same_seed_same_schedule() {
        let t0 = Instant::now();
        let mut a = Session::new(cfg(1), t0, 99);
        let mut b = Session::new(cfg(1), t0, 99);
        let mut c = Session::new(cfg(1), t0, 100);
        let mut differs = false;
        for _ in 0..20 {
            let (ta, tb, tc) = (a.next_deadline(), b.next_deadline(), c.next_deadline());
            assert_eq!(ta, tb);
            differs |= ta != tc;
            a.on_timer(ta);
            b.on_timer(tb);
            c.on_timer(tc);
        }
        assert!(differs);
        // Seed 0 works too.
        let mut z = Session::new(cfg(1), t0, 0);
        z.on_timer(t0);
        assert!(z.next_deadline() > t0);
    }

    #[test]
    fn next_deadline_never_in_the_past_after_on_timer() {
        let t0 = Instant::now();
        let mut s = Session::new(cfg(1), t0, 5);
        let mut now = t0;
        // Early, exact and late calls, with packets now and then.
        let steps = [0u64, 1, 299, 700, 1_500, 3, 2_000, 10, 5_000, 50];
        for i in 0..400 {
            now += ms(steps[i % steps.len()]);
            match i % 7 {
                0 => {
                    s.receive(&peer(State::Down, 0), now);
                }
                3 => {
                    s.receive(&peer(State::Up, 1), now);
                }
                5 => {
                    let poll = ControlPacket {
                        poll: true,
                        final_: true,
                        ..peer(State::Init, 1)
                    };
                    s.receive(&poll, now);
                }
                _ => {}
            }
            s.on_timer(now);
            assert!(s.next_deadline() > now, "step {i}");
            if i % 5 == 0 {
                now = s.next_deadline();
                s.on_timer(now);
                assert!(s.next_deadline() > now);
            }
        }
        assert!(s.counters().up_transitions > 0);
    }
}
