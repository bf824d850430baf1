//! Register and Register-Stop (RFC 7761 §4.4): how data from a directly connected source
//! reaches the RP before the shortest-path tree to the source exists.
//!
//! * [`DrRegisters`] is the source's designated router: the per-(S,G) Register state machine
//!   of §4.4.1 (NoInfo, Join, Join-Pending, Prune) with its Register-Stop Timer. In Join the
//!   register tunnel is in the route's outgoing list and data packets are encapsulated
//!   ([`DrRegisters::encapsulate`]); a Register-Stop moves it to Prune for a random
//!   0.5-1.5 x Register_Suppression_Time, of which the last Register_Probe_Time is spent in
//!   Join-Pending after a Null-Register asked the RP whether it still wants data.
//! * [`RpRegisters`] is the RP receiving Registers (§4.4.2): it decides whether to forward
//!   the decapsulated packet down the shared tree, to start the (S,G) Keepalive Timer (which
//!   makes the RP join toward the source while there are receivers), and to answer with a
//!   Register-Stop: once the packets arrive natively (SPTbit set), or at once when nobody
//!   wants the group.
//!
//! Both are pure: the caller computes the inputs the RFC takes from elsewhere (CouldRegister
//! from DR election, the Keepalive Timer and the connected subnets; SPTbit and the outgoing
//! lists from the route table) and carries out the actions.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::packet::{Register, RegisterStop};
use crate::engines::rng::Rng;

/// Register_Suppression_Time (§4.11).
pub const REGISTER_SUPPRESSION_TIME: Duration = Duration::from_secs(60);
/// Register_Probe_Time (§4.11): how long before the Register-Stop Timer expires the DR sends
/// a Null-Register.
pub const REGISTER_PROBE_TIME: Duration = Duration::from_secs(5);
/// Keepalive_Period (§4.11).
pub const KEEPALIVE_PERIOD: Duration = Duration::from_secs(210);
/// RP_Keepalive_Period (§4.11): 3 x Register_Suppression_Time + Register_Probe_Time; the
/// Keepalive Timer the RP sets when it has just sent a Register-Stop.
pub const RP_KEEPALIVE_PERIOD: Duration = Duration::from_secs(3 * 60 + 5);

/// Register state of one (S,G) at the DR (§4.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegisterState {
    /// Not registering.
    NoInfo,
    /// Registering: the register tunnel is in the outgoing list.
    Join,
    /// Registers stopped by the RP; a Null-Register went out and the DR waits for another
    /// Register-Stop before the timer brings it back to Join.
    JoinPending,
    /// Registers stopped by the RP.
    Prune,
}

/// What the DR's I/O layer must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrAction {
    /// The register tunnel toward `rp` is now in the outgoing list of (S,G): encapsulate the
    /// route's data ([`DrRegisters::encapsulate`]). Also sent when the RP changes.
    TunnelUp {
        source: Ipv4Addr,
        group: Ipv4Addr,
        rp: Ipv4Addr,
    },
    /// The register tunnel left the outgoing list of (S,G).
    TunnelDown { source: Ipv4Addr, group: Ipv4Addr },
    /// Unicast `register` (a Null-Register) to `rp`.
    SendRegister { rp: Ipv4Addr, register: Register },
}

/// Timers of the DR side; the RFC defaults by [`Default`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrConfig {
    /// Register_Suppression_Time.
    pub suppression_time: Duration,
    /// Register_Probe_Time (kept below half the suppression time).
    pub probe_time: Duration,
}

impl Default for DrConfig {
    fn default() -> DrConfig {
        DrConfig {
            suppression_time: REGISTER_SUPPRESSION_TIME,
            probe_time: REGISTER_PROBE_TIME,
        }
    }
}

/// One (S,G) the DR registers or did register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrEntry {
    pub source: Ipv4Addr,
    pub group: Ipv4Addr,
    pub state: RegisterState,
    /// RP(G), where Registers go.
    pub rp: Ipv4Addr,
    /// The Register-Stop Timer, when running.
    pub register_stop_timer: Option<Instant>,
}

/// The Register state machines of a designated router, one per (S,G) of a directly
/// connected source.
#[derive(Debug, Clone)]
pub struct DrRegisters {
    config: DrConfig,
    /// (group, source) -> entry; an entry in NoInfo is removed.
    entries: BTreeMap<(Ipv4Addr, Ipv4Addr), DrEntry>,
    rng: Rng,
}

impl DrRegisters {
    /// No (S,G) registered; `seed` drives the Register-Stop Timer's randomness.
    pub fn new(config: DrConfig, seed: u64) -> DrRegisters {
        let probe_time = config.probe_time.min(config.suppression_time / 2);
        DrRegisters {
            config: DrConfig {
                probe_time,
                ..config
            },
            entries: BTreeMap::new(),
            rng: Rng::new(seed),
        }
    }

    /// The register state of (S,G): NoInfo when there is no entry.
    pub fn state(&self, source: Ipv4Addr, group: Ipv4Addr) -> RegisterState {
        self.entries
            .get(&(group, source))
            .map_or(RegisterState::NoInfo, |e| e.state)
    }

    /// The (S,G)s not in NoInfo, in (group, source) order.
    pub fn entries(&self) -> impl Iterator<Item = &DrEntry> {
        self.entries.values()
    }

    /// The earliest instant at which [`DrRegisters::on_timer`] has work to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.entries
            .values()
            .filter_map(|e| e.register_stop_timer)
            .min()
    }

    /// Sets CouldRegister(S,G) together with RP(G): `register_to` is `Some(rp)` when
    /// CouldRegister(S,G) holds (we are DR on the source's interface, the source is directly
    /// connected and the Keepalive Timer runs) and G has an RP that is not this router;
    /// `None` otherwise. Covers the "CouldRegister -> True/False" and "RP changed" events.
    pub fn update(
        &mut self,
        source: Ipv4Addr,
        group: Ipv4Addr,
        register_to: Option<Ipv4Addr>,
        _now: Instant,
    ) -> Vec<DrAction> {
        let key = (group, source);
        let Some(rp) = register_to else {
            // CouldRegister -> False: back to NoInfo from any state.
            return match self.entries.remove(&key) {
                Some(e) if e.state == RegisterState::Join => {
                    vec![DrAction::TunnelDown { source, group }]
                }
                _ => Vec::new(),
            };
        };
        match self.entries.get_mut(&key) {
            None => {
                self.entries.insert(
                    key,
                    DrEntry {
                        source,
                        group,
                        state: RegisterState::Join,
                        rp,
                        register_stop_timer: None,
                    },
                );
                vec![DrAction::TunnelUp { source, group, rp }]
            }
            Some(e) if e.rp == rp => Vec::new(),
            Some(e) => {
                // RP changed: Join from every state, with the tunnel to the new RP; a
                // Register-Stop from the old RP says nothing about the new one.
                e.rp = rp;
                e.state = RegisterState::Join;
                e.register_stop_timer = None;
                vec![DrAction::TunnelUp { source, group, rp }]
            }
        }
    }

    /// A Register-Stop arrived from `from`. It stops only the (S,G)s registered to `from`:
    /// a Register-Stop from any other address (a forged one, or one from an old RP) changes
    /// nothing. A wildcard source (0.0.0.0) stops every source of the group; the group may
    /// be a range (its mask length).
    pub fn receive_register_stop(
        &mut self,
        from: Ipv4Addr,
        stop: &RegisterStop,
        now: Instant,
    ) -> Vec<DrAction> {
        let mut out = Vec::new();
        let config = self.config;
        for e in self.entries.values_mut() {
            let source_matches = stop.source.is_unspecified() || stop.source == e.source;
            if e.rp != from
                || !source_matches
                || !in_range(e.group, stop.group.address, stop.group.mask_len)
            {
                continue;
            }
            match e.state {
                RegisterState::Join => {
                    e.state = RegisterState::Prune;
                    e.register_stop_timer = Some(now + suppression(&mut self.rng, config));
                    out.push(DrAction::TunnelDown {
                        source: e.source,
                        group: e.group,
                    });
                }
                RegisterState::JoinPending => {
                    e.state = RegisterState::Prune;
                    e.register_stop_timer = Some(now + suppression(&mut self.rng, config));
                }
                RegisterState::Prune | RegisterState::NoInfo => {}
            }
        }
        out
    }

    /// Runs the Register-Stop Timers that expired by `now`.
    pub fn on_timer(&mut self, now: Instant) -> Vec<DrAction> {
        let mut out = Vec::new();
        for e in self.entries.values_mut() {
            if e.register_stop_timer.is_none_or(|t| t > now) {
                continue;
            }
            match e.state {
                RegisterState::Prune => {
                    // Probe: ask the RP whether it still wants Registers.
                    e.state = RegisterState::JoinPending;
                    e.register_stop_timer = Some(now + self.config.probe_time);
                    out.push(DrAction::SendRegister {
                        rp: e.rp,
                        register: Register::null(e.source, e.group),
                    });
                }
                RegisterState::JoinPending => {
                    // No Register-Stop answered the probe: register again.
                    e.state = RegisterState::Join;
                    e.register_stop_timer = None;
                    out.push(DrAction::TunnelUp {
                        source: e.source,
                        group: e.group,
                        rp: e.rp,
                    });
                }
                RegisterState::Join | RegisterState::NoInfo => e.register_stop_timer = None,
            }
        }
        out
    }

    /// The Register carrying `packet` (a data packet of (S,G)) and the RP to unicast it to,
    /// when the register tunnel of (S,G) is up (Join state); `None` otherwise.
    pub fn encapsulate(
        &self,
        source: Ipv4Addr,
        group: Ipv4Addr,
        packet: &[u8],
    ) -> Option<(Ipv4Addr, Register)> {
        let e = self.entries.get(&(group, source))?;
        (e.state == RegisterState::Join).then(|| (e.rp, Register::data(packet.to_vec())))
    }
}

/// The Register-Stop Timer after a Register-Stop (§4.4.1, note (*)): random in
/// 0.5-1.5 x Register_Suppression_Time, less Register_Probe_Time (spent in Join-Pending).
fn suppression(rng: &mut Rng, c: DrConfig) -> Duration {
    (c.suppression_time / 2 + rng.below(c.suppression_time)).saturating_sub(c.probe_time)
}

/// Whether `addr` is in `prefix`/`len` (lengths above 32 count as 32).
pub(crate) fn in_range(addr: Ipv4Addr, prefix: Ipv4Addr, len: u8) -> bool {
    let mask = match len.min(32) {
        0 => 0,
        l => u32::MAX << (32 - u32::from(l)),
    };
    u32::from(addr) & mask == u32::from(prefix) & mask
}

/// The facts about (S,G) the RP takes from its route table when a Register arrives (§4.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RegisterContext {
    /// I_am_RP(G) and the Register was sent to RP(G) (the caller has already dropped
    /// Registers to addresses that are not ours).
    pub i_am_rp: bool,
    /// SPTbit(S,G): (S,G) data already arrives natively on the shortest-path tree.
    pub spt_bit: bool,
    /// SwitchToSptDesired(S,G): policy; an RP usually always wants the source tree.
    pub switch_to_spt_desired: bool,
    /// inherited_olist(S,G) is empty: nobody downstream wants (S,G).
    pub no_receivers: bool,
}

/// What the RP's I/O layer must do after a Register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RpAction {
    /// Unicast a Register-Stop for (S,G) to `to` (the Register's sender).
    SendRegisterStop { to: Ipv4Addr, stop: RegisterStop },
    /// Set the Keepalive Timer of (S,G) to `period` (creating the (S,G) state). While it
    /// runs and inherited_olist(S,G) is not empty, JoinDesired(S,G) holds (§4.5.7).
    SetKeepalive {
        source: Ipv4Addr,
        group: Ipv4Addr,
        period: Duration,
    },
    /// Join toward the source (SPT): (S,G) has receivers and the RP wants the source tree
    /// but the data does not arrive natively yet. Repeated with every such Register.
    JoinSource { source: Ipv4Addr, group: Ipv4Addr },
    /// Forward the decapsulated `packet` on inherited_olist(S,G,rpt), down the shared tree.
    Forward {
        source: Ipv4Addr,
        group: Ipv4Addr,
        packet: Vec<u8>,
    },
}

/// Why a Register was not processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// The inner packet has no IPv4 header naming S and G.
    #[error("Register without an IPv4 header inside")]
    InnerPacket,
}

/// The RP side of registering: the PIM Multicast Border Router each (S,G) is registered by
/// (§4.4.2), forgotten [`RP_KEEPALIVE_PERIOD`] after its last border Register.
#[derive(Debug, Clone, Default)]
pub struct RpRegisters {
    /// (group, source) -> (PMBR, expiry).
    pmbr: BTreeMap<(Ipv4Addr, Ipv4Addr), (Ipv4Addr, Instant)>,
}

impl RpRegisters {
    pub fn new() -> RpRegisters {
        RpRegisters::default()
    }

    /// The PMBR of (S,G), if one registers it.
    pub fn pmbr(&self, source: Ipv4Addr, group: Ipv4Addr) -> Option<Ipv4Addr> {
        self.pmbr.get(&(group, source)).map(|(a, _)| *a)
    }

    /// The earliest instant at which [`RpRegisters::on_timer`] has work to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pmbr.values().map(|(_, t)| *t).min()
    }

    /// Forgets PMBRs not heard from for [`RP_KEEPALIVE_PERIOD`].
    pub fn on_timer(&mut self, now: Instant) {
        self.pmbr.retain(|_, (_, t)| *t > now);
    }

    /// A Register from `outer_src` (the DR), unicast to one of our addresses (§4.4.2,
    /// packet_arrives_on_rp_tunnel). `register` is consumed: its packet is what gets
    /// forwarded.
    pub fn receive_register(
        &mut self,
        outer_src: Ipv4Addr,
        register: Register,
        ctx: RegisterContext,
        now: Instant,
    ) -> Result<Vec<RpAction>, RegisterError> {
        let (source, group) = register.source_group().ok_or(RegisterError::InnerPacket)?;
        let stop = RpAction::SendRegisterStop {
            to: outer_src,
            stop: RegisterStop {
                group: super::packet::EncodedGroup::host(group),
                source,
            },
        };
        if !ctx.i_am_rp {
            // Not the RP for G (any more): tell the DR to stop.
            return Ok(vec![stop]);
        }
        let mut out = Vec::new();
        if register.border {
            let expiry = now + RP_KEEPALIVE_PERIOD;
            match self.pmbr.get_mut(&(group, source)) {
                None => {
                    self.pmbr.insert((group, source), (outer_src, expiry));
                }
                Some((pmbr, t)) if *pmbr == outer_src => *t = expiry,
                Some(_) => return Ok(vec![stop]),
            }
        }
        let mut sent_stop = false;
        if ctx.spt_bit || (ctx.switch_to_spt_desired && ctx.no_receivers) {
            out.push(stop);
            sent_stop = true;
        }
        if ctx.spt_bit || ctx.switch_to_spt_desired {
            let period = if sent_stop {
                RP_KEEPALIVE_PERIOD
            } else {
                KEEPALIVE_PERIOD
            };
            out.push(RpAction::SetKeepalive {
                source,
                group,
                period,
            });
            if !ctx.spt_bit && !ctx.no_receivers {
                out.push(RpAction::JoinSource { source, group });
            }
        }
        if !ctx.spt_bit && !register.null {
            out.push(RpAction::Forward {
                source,
                group,
                packet: register.packet,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
