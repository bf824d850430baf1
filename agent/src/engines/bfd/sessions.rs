//! The table of configured BFD sessions, sans I/O: it owns each session's state machine and
//! counters, finds the session a received packet belongs to (by Your Discriminator, else by
//! peer address), applies the RFC 5881 §5 checks (TTL 255 and the session's interface for
//! single-hop), and answers with [`Action`]s tagged by session. Sockets stay with the caller,
//! which reports what became of each packet it was asked to send ([`Sessions::sent`]).

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::time::Instant;

use tracing::{debug, info};

use super::packet::ControlPacket;
use super::session::{Action, ClientState, Session, SessionConfig};
use crate::engines::config;

/// A session's handle in the table (stable while the session exists).
pub type SessionId = u32;

/// One configured session.
pub struct Entry {
    pub name: String,
    pub cfg: config::BfdSession,
    pub core: Session,
    /// When the state last changed (or the session was created).
    pub changed_at: Instant,
    /// Packets dropped before the state machine: the RFC 5881 §5 checks (TTL, interface) or a
    /// packet that matched by discriminator but came from another address or hop mode.
    pub io_discards: u64,
    /// Control packets that did not leave: the kernel refused them, there was no socket to
    /// send them on, or they waited for the peer's ARP resolution and were dropped when it
    /// failed. The rest of what the core asked to send (its `tx_packets`), less
    /// `unconfirmed`, went out.
    pub tx_errors: u64,
    /// Packets handed to the kernel while the peer's ARP entry was not resolved: they wait in
    /// the kernel's queue and leave if resolution succeeds, or become `tx_errors` if it fails.
    pub unconfirmed: u64,
    /// Why the last packet that did not leave did not.
    pub last_tx_error: Option<String>,
}

impl Entry {
    /// Packets that left (as far as the caller could tell).
    pub fn tx_packets(&self) -> u64 {
        self.core
            .counters()
            .tx_packets
            .saturating_sub(self.tx_errors + self.unconfirmed)
    }
}

/// Where a received packet came from, as the receive socket reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rx {
    pub src: Ipv4Addr,
    /// Arrived on the single-hop port (3784) rather than the multi-hop one (4784).
    pub single_hop: bool,
    pub ttl: Option<u8>,
    pub ifindex: Option<u32>,
}

/// What became of a packet the caller was asked to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The kernel took it and the peer's link-layer address is known: it left.
    Left,
    /// The kernel took it but holds it until the peer's ARP entry resolves.
    Queued,
    /// It did not leave; why.
    Failed(String),
}

/// The outcome of the kernel's ARP resolution for a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Resolved,
    Failed,
}

pub fn session_config(c: &config::BfdSession) -> SessionConfig {
    SessionConfig {
        local_disc: c.local_disc,
        remote_disc: c.remote_disc,
        desired_min_tx_us: c.min_tx_ms.saturating_mul(1000),
        required_min_rx_us: c.min_rx_ms.saturating_mul(1000),
        detect_mult: c.multiplier,
        admin_down: c.admin_down,
    }
}

/// The configured sessions.
pub struct Sessions {
    entries: HashMap<SessionId, Entry>,
    by_name: BTreeMap<String, SessionId>,
    by_disc: HashMap<u32, SessionId>,
    next_id: SessionId,
    seed: u64,
    /// Control packets that did not decode (before any session could be found for them).
    pub malformed: u64,
    /// Late packets ([`Counters::rx_late`](super::session::Counters)) over every session, ever
    /// (removed sessions included).
    late: u64,
}

impl Sessions {
    /// An empty table; `seed` drives the sessions' transmit jitter.
    pub fn new(seed: u64) -> Sessions {
        Sessions {
            entries: HashMap::new(),
            by_name: BTreeMap::new(),
            by_disc: HashMap::new(),
            next_id: 1,
            seed,
            malformed: 0,
            late: 0,
        }
    }

    pub fn get(&self, id: SessionId) -> Option<&Entry> {
        self.entries.get(&id)
    }

    pub fn id(&self, name: &str) -> Option<SessionId> {
        self.by_name.get(name).copied()
    }

    pub fn by_name(&self, name: &str) -> Option<&Entry> {
        self.id(name).and_then(|id| self.entries.get(&id))
    }

    /// The sessions in name order.
    pub fn iter(&self) -> impl Iterator<Item = (SessionId, &Entry)> + '_ {
        self.by_name
            .values()
            .filter_map(|id| Some((*id, self.entries.get(id)?)))
    }

    /// Late packets ([`Counters::rx_late`](super::session::Counters)) over every session,
    /// cumulative.
    pub fn late_arrivals(&self) -> u64 {
        self.late
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What a tracking client sees of the session `name` (None: not configured).
    pub fn client_state(&self, name: &str) -> Option<ClientState> {
        self.by_name(name).map(|e| e.core.client_state())
    }

    /// The session holding local discriminator `disc`, if any.
    pub fn holder_of(&self, disc: u32) -> Option<&Entry> {
        self.by_disc.get(&disc).and_then(|id| self.entries.get(id))
    }

    /// Create the session `name` or bring it to `cfg`. None when nothing changed.
    pub fn upsert(
        &mut self,
        name: &str,
        cfg: &config::BfdSession,
        now: Instant,
    ) -> Option<(SessionId, Vec<Action>)> {
        match self.by_name.get(name).copied() {
            Some(id) => {
                let e = self.entries.get_mut(&id)?;
                if e.cfg == *cfg {
                    return None;
                }
                if e.cfg.local_disc != cfg.local_disc {
                    self.by_disc.remove(&e.cfg.local_disc);
                    self.by_disc.insert(cfg.local_disc, id);
                }
                e.cfg = cfg.clone();
                let actions = e.core.reconfigure(session_config(cfg), now);
                self.noted(id, &actions, now);
                Some((id, actions))
            }
            None => {
                let id = self.next_id;
                self.next_id += 1;
                self.seed = self.seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                let core = Session::new(session_config(cfg), now, self.seed);
                self.entries.insert(
                    id,
                    Entry {
                        name: name.to_string(),
                        cfg: cfg.clone(),
                        core,
                        changed_at: now,
                        io_discards: 0,
                        tx_errors: 0,
                        unconfirmed: 0,
                        last_tx_error: None,
                    },
                );
                self.by_name.insert(name.to_string(), id);
                self.by_disc.insert(cfg.local_disc, id);
                info!(session = %name, peer = %cfg.peer, "BFD session created");
                Some((id, Vec::new()))
            }
        }
    }

    /// Remove the session `name`, with the AdminDown packets that tell its peer it is going
    /// away administratively (RFC 5880 §6.8.16) rather than failing.
    pub fn remove(&mut self, name: &str, now: Instant) -> Option<(Entry, Vec<ControlPacket>)> {
        let id = self.by_name.remove(name)?;
        let mut e = self.entries.remove(&id)?;
        self.by_disc.remove(&e.cfg.local_disc);
        let mut c = session_config(&e.cfg);
        c.admin_down = true;
        let packets = e
            .core
            .reconfigure(c, now)
            .into_iter()
            .filter_map(|a| match a {
                Action::Send(p) => Some(p),
                Action::StateChange { .. } => None,
            })
            .collect();
        info!(session = %name, "BFD session removed");
        Some((e, packets))
    }

    /// A received Control packet: decode it, find its session and check where it came from.
    /// `ifindex_of` gives an interface's index (for the single-hop interface check). None when
    /// the packet was dropped (counted).
    pub fn receive(
        &mut self,
        bytes: &[u8],
        rx: Rx,
        ifindex_of: impl Fn(&str) -> Option<u32>,
        now: Instant,
    ) -> Option<(SessionId, Vec<Action>)> {
        let pkt = match ControlPacket::decode(bytes) {
            Ok(p) => p,
            Err(err) => {
                self.malformed += 1;
                debug!(source = %rx.src, error = %err, "malformed BFD packet dropped");
                return None;
            }
        };
        let id = if pkt.your_disc != 0 {
            self.by_disc.get(&pkt.your_disc).copied()
        } else {
            self.entries.iter().find_map(|(&id, e)| {
                (e.cfg.peer == rx.src && e.cfg.interface.is_some() == rx.single_hop).then_some(id)
            })
        }?;
        let e = self.entries.get_mut(&id)?;
        if e.cfg.interface.is_some() != rx.single_hop || e.cfg.peer != rx.src {
            e.io_discards += 1;
            return None;
        }
        // RFC 5881 §5 (GTSM): single-hop packets arrive with TTL 255, on the session's
        // interface.
        if rx.single_hop {
            let expected = e.cfg.interface.as_deref().and_then(&ifindex_of);
            if rx.ttl != Some(255) || (expected.is_some() && rx.ifindex != expected) {
                e.io_discards += 1;
                return None;
            }
        }
        let late = e.core.counters().rx_late;
        let actions = e.core.receive(&pkt, now);
        self.late += e.core.counters().rx_late - late;
        self.noted(id, &actions, now);
        Some((id, actions))
    }

    /// Run the session's timer if it is due.
    pub fn on_timer(&mut self, id: SessionId, now: Instant) -> Vec<Action> {
        let Some(e) = self.entries.get_mut(&id) else {
            return Vec::new();
        };
        if e.core.next_deadline() > now {
            return Vec::new();
        }
        let actions = e.core.on_timer(now);
        self.noted(id, &actions, now);
        actions
    }

    pub fn deadline(&self, id: SessionId) -> Option<Instant> {
        self.entries.get(&id).map(|e| e.core.next_deadline())
    }

    /// What became of a packet of session `id` the caller was asked to send.
    pub fn sent(&mut self, id: SessionId, outcome: Sent) {
        let Some(e) = self.entries.get_mut(&id) else {
            return;
        };
        match outcome {
            Sent::Left => {}
            Sent::Queued => e.unconfirmed += 1,
            Sent::Failed(why) => {
                e.tx_errors += 1;
                if e.tx_errors.is_power_of_two() {
                    debug!(session = %e.name, error = %why, errors = e.tx_errors, "BFD send failed");
                }
                e.last_tx_error = Some(why);
            }
        }
    }

    /// The kernel resolved (or failed to resolve) `peer` on the interface `on`: packets the
    /// single-hop sessions to it handed over meanwhile have now left, or were dropped.
    pub fn resolved(&mut self, on: &str, peer: Ipv4Addr, outcome: Resolution) {
        for e in self.entries.values_mut() {
            if e.cfg.peer != peer || e.cfg.interface.as_deref() != Some(on) || e.unconfirmed == 0 {
                continue;
            }
            match outcome {
                Resolution::Resolved => e.unconfirmed = 0,
                Resolution::Failed => {
                    let dropped = std::mem::take(&mut e.unconfirmed);
                    e.tx_errors += dropped;
                    e.last_tx_error = Some(format!(
                        "ARP for {peer} on {on} failed: {dropped} packet(s) dropped"
                    ));
                    debug!(session = %e.name, dropped, "BFD packets dropped: peer not resolved");
                }
            }
        }
    }

    /// Keep the time of the last state change.
    fn noted(&mut self, id: SessionId, actions: &[Action], now: Instant) {
        if actions
            .iter()
            .any(|a| matches!(a, Action::StateChange { .. }))
        {
            if let Some(e) = self.entries.get_mut(&id) {
                e.changed_at = now;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::packet::State;
    use super::*;

    fn cfg(peer: [u8; 4], disc: u32, interface: Option<&str>) -> config::BfdSession {
        config::BfdSession {
            peer: Ipv4Addr::from(peer),
            interface: interface.map(str::to_string),
            source: None,
            local_disc: disc,
            remote_disc: None,
            min_tx_ms: 10,
            min_rx_ms: 10,
            multiplier: 3,
            admin_down: false,
        }
    }

    /// A Down packet from the peer's session `my_disc` addressed to `your_disc`.
    fn packet(my_disc: u32, your_disc: u32) -> Vec<u8> {
        let mut s = Session::new(
            SessionConfig {
                local_disc: my_disc,
                remote_disc: (your_disc != 0).then_some(your_disc),
                desired_min_tx_us: 10_000,
                required_min_rx_us: 10_000,
                detect_mult: 3,
                admin_down: false,
            },
            Instant::now(),
            7,
        );
        let p = s
            .on_timer(Instant::now())
            .into_iter()
            .find_map(|a| match a {
                Action::Send(p) => Some(p),
                _ => None,
            })
            .expect("a first packet");
        p.encode().to_vec()
    }

    fn rx(src: [u8; 4], ttl: u8, ifindex: u32) -> Rx {
        Rx {
            src: Ipv4Addr::from(src),
            single_hop: true,
            ttl: Some(ttl),
            ifindex: Some(ifindex),
        }
    }

    fn ifindex(name: &str) -> Option<u32> {
        (name == "ic").then_some(7)
    }

    #[test]
    fn a_packet_finds_its_session_by_peer_then_by_discriminator() {
        let now = Instant::now();
        let mut t = Sessions::new(1);
        t.upsert("to-b", &cfg([10, 0, 0, 2], 11, Some("ic")), now);
        t.upsert("to-c", &cfg([10, 0, 0, 3], 12, Some("ic")), now);
        // No Your Discriminator yet: by source address.
        let (id, actions) = t
            .receive(&packet(21, 0), rx([10, 0, 0, 2], 255, 7), ifindex, now)
            .expect("accepted");
        assert_eq!(t.get(id).unwrap().name, "to-b");
        assert!(actions.iter().any(|a| matches!(
            a,
            Action::StateChange {
                new: State::Init,
                ..
            }
        )));
        // Your Discriminator 12 is to-c's, whatever else the packet says.
        let (id, _) = t
            .receive(&packet(31, 12), rx([10, 0, 0, 3], 255, 7), ifindex, now)
            .expect("accepted");
        assert_eq!(t.get(id).unwrap().name, "to-c");
        assert_eq!(t.get(id).unwrap().core.counters().rx_packets, 1);
    }

    #[test]
    fn gtsm_drops_single_hop_packets_with_a_lower_ttl_or_on_another_interface() {
        let now = Instant::now();
        let mut t = Sessions::new(1);
        t.upsert("to-b", &cfg([10, 0, 0, 2], 11, Some("ic")), now);
        assert!(t
            .receive(&packet(21, 11), rx([10, 0, 0, 2], 254, 7), ifindex, now)
            .is_none());
        assert!(t
            .receive(&packet(21, 11), rx([10, 0, 0, 2], 255, 8), ifindex, now)
            .is_none());
        let e = t.by_name("to-b").unwrap();
        assert_eq!(e.io_discards, 2);
        assert_eq!(e.core.counters().rx_packets, 0, "never reached the core");
        assert!(t
            .receive(&packet(21, 11), rx([10, 0, 0, 2], 255, 7), ifindex, now)
            .is_some());
    }

    #[test]
    fn a_discriminator_match_from_another_peer_or_hop_mode_is_discarded() {
        let now = Instant::now();
        let mut t = Sessions::new(1);
        t.upsert("to-b", &cfg([10, 0, 0, 2], 11, Some("ic")), now);
        assert!(t
            .receive(&packet(21, 11), rx([10, 0, 0, 9], 255, 7), ifindex, now)
            .is_none());
        let multi = Rx {
            single_hop: false,
            ..rx([10, 0, 0, 2], 255, 7)
        };
        assert!(t.receive(&packet(21, 11), multi, ifindex, now).is_none());
        assert_eq!(t.by_name("to-b").unwrap().io_discards, 2);
        // An unknown discriminator belongs to nobody: not counted against any session.
        assert!(t
            .receive(&packet(21, 99), rx([10, 0, 0, 2], 255, 7), ifindex, now)
            .is_none());
        assert_eq!(t.by_name("to-b").unwrap().io_discards, 2);
    }

    #[test]
    fn garbage_is_counted_as_malformed() {
        let now = Instant::now();
        let mut t = Sessions::new(1);
        t.upsert("to-b", &cfg([10, 0, 0, 2], 11, Some("ic")), now);
        assert!(t
            .receive(&[0x20, 0x40, 3], rx([10, 0, 0, 2], 255, 7), ifindex, now)
            .is_none());
        assert_eq!(t.malformed, 1);
    }

    #[test]
    fn a_removed_session_says_admin_down_and_frees_its_discriminator() {
        let now = Instant::now();
        let mut t = Sessions::new(1);
        t.upsert("to-b", &cfg([10, 0, 0, 2], 11, Some("ic")), now);
        let (_, farewell) = t.remove("to-b", now).expect("existed");
        assert!(farewell.iter().all(|p| p.state == State::AdminDown));
        assert!(!farewell.is_empty());
        assert!(t.holder_of(11).is_none());
        t.upsert("other", &cfg([10, 0, 0, 3], 11, None), now);
        assert_eq!(t.holder_of(11).unwrap().name, "other");
    }

    #[test]
    fn a_new_discriminator_moves_the_index() {
        let now = Instant::now();
        let mut t = Sessions::new(1);
        t.upsert("to-b", &cfg([10, 0, 0, 2], 11, Some("ic")), now);
        assert!(t
            .upsert("to-b", &cfg([10, 0, 0, 2], 11, Some("ic")), now)
            .is_none());
        t.upsert("to-b", &cfg([10, 0, 0, 2], 15, Some("ic")), now);
        assert!(t.holder_of(11).is_none());
        assert_eq!(t.holder_of(15).unwrap().name, "to-b");
    }

    #[test]
    fn queued_packets_count_as_errors_when_arp_fails_and_as_sent_when_it_resolves() {
        let now = Instant::now();
        let mut t = Sessions::new(1);
        let (id, _) = t
            .upsert("to-b", &cfg([10, 0, 0, 2], 11, Some("ic")), now)
            .unwrap();
        let _ = t.on_timer(id, now);
        let _ = t.on_timer(id, now + std::time::Duration::from_secs(2));
        t.sent(id, Sent::Queued);
        t.sent(id, Sent::Queued);
        t.resolved("ic", Ipv4Addr::new(10, 0, 0, 2), Resolution::Failed);
        let e = t.get(id).unwrap();
        assert_eq!((e.tx_errors, e.unconfirmed, e.tx_packets()), (2, 0, 0));
        assert!(e
            .last_tx_error
            .as_deref()
            .unwrap()
            .contains("ARP for 10.0.0.2 on ic failed"));
        let _ = t.on_timer(id, now + std::time::Duration::from_secs(4));
        t.sent(id, Sent::Queued);
        t.resolved("ic", Ipv4Addr::new(10, 0, 0, 2), Resolution::Resolved);
        let e = t.get(id).unwrap();
        assert_eq!((e.tx_errors, e.unconfirmed, e.tx_packets()), (2, 0, 1));
    }
}
