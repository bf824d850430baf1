//! Register and Register-Stop in the multicast engine (RFC 7761 §4.4), around the pure
//! cores of `pim/register.rs`:
//!
//! * DR side: for a flow from a directly connected source on an interface where we are the
//!   PIM DR, with an RP that is not us, the route gets a register tunnel
//!   ([`Route::register_to`](dataplane::mfib::Route)): the forwarding thread encapsulates
//!   each packet in a Register and unicasts it to the RP (fast path, no trip through this
//!   thread). A Register-Stop takes the tunnel out of the route; the Register-Stop Timer
//!   and the Null-Register probe are [`DrRegisters`]'s.
//! * RP side: a Register to our RP address is decapsulated and its packet sent down the
//!   outgoing interfaces of (S,G) from here (a slow path, bounded by [`DECAP_RATE`]); the
//!   Keepalive it starts makes [`Multicast::recompute`] join toward the source; once the
//!   data arrives natively on the shortest-path tree (the forwarding table has (S,G) with
//!   its RPF interface toward S), Registers are answered with a Register-Stop and their
//!   packets dropped.
//!
//! Registers and Register-Stops come and go on one raw IPPROTO_PIM socket (`io.rs`), as
//! [`Multicast::unicast_pim`] and [`Effect::Unicast`].

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use tracing::{debug, info};

use super::routes::{ssm, Rpf};
use super::{Effect, Multicast};
use crate::engines::pim::packet::{Pdu, Register};
use crate::engines::pim::register::{
    DrAction, DrConfig, DrRegisters, RegisterContext, RegisterState, RpAction, RpRegisters,
    REGISTER_PROBE_TIME,
};

/// Decapsulated packets the RP forwards per second at most (the slow path through the
/// protocol thread; the rest are dropped and counted). Registers only carry a flow until
/// the shortest-path tree is up, a few round trips.
pub const DECAP_RATE: u32 = 5000;
/// Burst of [`DECAP_RATE`].
const DECAP_BURST: u32 = 500;

/// The PIM messages the raw socket reads and the per-interface control sockets leave to it:
/// Register, Register-Stop, Candidate-RP-Advertisement (unicast, by any interface).
pub(super) fn raw_socket_message(pim: &[u8]) -> bool {
    use crate::engines::pim::packet::{
        header_type, TYPE_CANDIDATE_RP_ADV, TYPE_REGISTER, TYPE_REGISTER_STOP,
    };
    matches!(
        header_type(pim),
        Ok(TYPE_REGISTER | TYPE_REGISTER_STOP | TYPE_CANDIDATE_RP_ADV)
    )
}

/// A Register or Register-Stop.
fn is_register(pim: &[u8]) -> bool {
    use crate::engines::pim::packet::{header_type, TYPE_REGISTER, TYPE_REGISTER_STOP};
    matches!(header_type(pim), Ok(TYPE_REGISTER | TYPE_REGISTER_STOP))
}

/// Register counters of one interface (`pim/statistics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegisterCounters {
    pub rx_register: u64,
    pub rx_null_register: u64,
    pub rx_register_stop: u64,
    pub tx_register_stop: u64,
    pub tx_null_register: u64,
}

/// The Register machinery of one router.
#[derive(Debug)]
pub(in crate::engines) struct Registering {
    pub(in crate::engines) dr: DrRegisters,
    rp: RpRegisters,
    /// (S,G) registered to us as the RP -> when its Keepalive Timer expires. While it runs
    /// and (S,G) has receivers, we join toward S (§4.5.7).
    pub(in crate::engines) keepalive: BTreeMap<(Ipv4Addr, Ipv4Addr), Instant>,
    /// (S,G) registered to us whose data now arrives natively -> the instant (on the
    /// rings' clock, CLOCK_REALTIME ns) its route first went out with the RPF interface
    /// toward S. Native frames that arrived from then on are the forwarder's; Registers the
    /// kernel received before then are still decapsulated (their packets' native copies
    /// arrived before there was a route to forward them): each packet goes out once.
    pub(in crate::engines) spt_since: BTreeMap<(Ipv4Addr, Ipv4Addr), u64>,
    /// By ifindex.
    pub(in crate::engines) counters: BTreeMap<u32, RegisterCounters>,
    /// Decapsulated packets not forwarded: over [`DECAP_RATE`].
    pub(in crate::engines) decap_dropped: u64,
    /// Registers that could not be used (no IPv4 packet inside, not for an RP of ours), and
    /// Register-Stops from an address we do not register to.
    pub(in crate::engines) rx_errors: u64,
    tokens: u32,
    refilled: Option<Instant>,
    suppression_s: u16,
    seed: u64,
}

impl Registering {
    pub(in crate::engines) fn new(seed: u64) -> Registering {
        Registering {
            dr: DrRegisters::new(DrConfig::default(), seed),
            rp: RpRegisters::new(),
            keepalive: BTreeMap::new(),
            spt_since: BTreeMap::new(),
            counters: BTreeMap::new(),
            decap_dropped: 0,
            rx_errors: 0,
            tokens: DECAP_BURST,
            refilled: None,
            suppression_s: 60,
            seed,
        }
    }

    /// A new Register_Suppression_Time (seconds): the DR state starts over (a running
    /// Register-Stop Timer was drawn with the old time).
    pub(in crate::engines) fn set_suppression(&mut self, secs: u16) {
        let secs = if secs == 0 { 60 } else { secs };
        if secs == self.suppression_s {
            return;
        }
        self.suppression_s = secs;
        self.dr = DrRegisters::new(
            DrConfig {
                suppression_time: Duration::from_secs(u64::from(secs.max(1))),
                probe_time: REGISTER_PROBE_TIME,
            },
            self.seed,
        );
    }

    pub(in crate::engines) fn next_deadline(&self) -> Option<Instant> {
        [
            self.dr.next_deadline(),
            self.rp.next_deadline(),
            self.keepalive.values().min().copied(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// One token of the decapsulation budget, if left.
    fn take_token(&mut self, now: Instant) -> bool {
        let last = *self.refilled.get_or_insert(now);
        let earned = now.saturating_duration_since(last).as_micros() as u64 * u64::from(DECAP_RATE)
            / 1_000_000;
        if earned > 0 {
            self.tokens = (u64::from(self.tokens) + earned).min(u64::from(DECAP_BURST)) as u32;
            self.refilled = Some(now);
        }
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }

    fn count(&mut self, ifindex: Option<u32>) -> Option<&mut RegisterCounters> {
        ifindex.map(|i| self.counters.entry(i).or_default())
    }
}

impl Multicast {
    /// The register tunnel of a flow, while computing the routes: CouldRegister(S,G) (§4.4.1)
    /// holds when the source is on a connected subnet of `iif` (its RPF interface), we are
    /// the DR there, the group is not SSM and has an RP that is not us. The RP to put in the
    /// route while the state is Join.
    pub(super) fn register_tunnel(
        &mut self,
        s: Ipv4Addr,
        g: Ipv4Addr,
        iif: u32,
        rpf: Option<Rpf>,
        now: Instant,
    ) -> Option<Ipv4Addr> {
        let connected = rpf.is_some_and(|r| r.ifindex == iif && r.neighbor.is_none())
            && self.ifs.connected().any(|(i, p)| {
                i == iif && p.iter().any(|&(n, l)| super::routes::in_prefix(s, n, l))
            });
        let dr = self.ifs.pim_at(iif).is_some_and(|p| p.is_dr());
        let rp = self
            .rp_of(g)
            .filter(|rp| !self.ifs.is_local(*rp) && connected && dr && !ssm(g));
        let actions = self.reg.dr.update(s, g, rp, now);
        for a in &actions {
            debug!(source = %s, group = %g, action = ?a, "register state");
        }
        (self.reg.dr.state(s, g) == RegisterState::Join)
            .then_some(rp)
            .flatten()
    }

    /// The switch instant of a flow registered to us whose route now has its RPF interface
    /// toward the source (`spt`): set when first seen (`now_ns`, the rings' clock) and kept
    /// while the route is; the route's forwarding oifs take only frames from then on.
    pub(super) fn spt_switch(
        &mut self,
        route: &mut dataplane::mfib::Route,
        spt: bool,
        now_ns: u64,
    ) {
        let key = (route.source, route.group);
        if !spt || !self.reg.keepalive.contains_key(&key) && !self.reg.spt_since.contains_key(&key)
        {
            return;
        }
        let at = *self.reg.spt_since.entry(key).or_insert(now_ns);
        for o in route.oifs.iter_mut().filter(|o| o.forwarding) {
            o.since_ns = o.since_ns.max(at);
        }
    }

    /// After the routes were computed: flows that are gone stop registering.
    pub(super) fn register_forget(&mut self, flows: &[(Ipv4Addr, Ipv4Addr)], now: Instant) {
        let gone: Vec<(Ipv4Addr, Ipv4Addr)> = self
            .reg
            .dr
            .entries()
            .map(|e| (e.source, e.group))
            .filter(|k| !flows.contains(k))
            .collect();
        for (s, g) in gone {
            self.reg.dr.update(s, g, None, now);
        }
    }

    /// The (S,G)s whose Register Keepalive runs: the routes join toward their sources.
    pub(super) fn registered_flows(&self) -> Vec<(Ipv4Addr, Ipv4Addr)> {
        self.reg.keepalive.keys().copied().collect()
    }

    /// Register state of (S,G) at this router as the DR.
    pub fn register_state(&self, s: Ipv4Addr, g: Ipv4Addr) -> RegisterState {
        self.reg.dr.state(s, g)
    }

    /// Register timers: the Register-Stop Timer (probe, then register again), the RP's
    /// PMBR memory and Keepalives.
    pub(super) fn register_timers(&mut self, now: Instant) {
        let actions = self.reg.dr.on_timer(now);
        self.dr_actions(actions);
        self.reg.rp.on_timer(now);
        let before = self.reg.keepalive.len();
        self.reg.keepalive.retain(|_, t| *t > now);
        if self.reg.keepalive.len() != before {
            self.dirty = true;
        }
    }

    fn dr_actions(&mut self, actions: Vec<DrAction>) {
        for a in actions {
            match a {
                DrAction::TunnelUp { .. } | DrAction::TunnelDown { .. } => self.dirty = true,
                DrAction::SendRegister { rp, register } => {
                    let via = self.rpf(rp).map(|r| r.ifindex);
                    if let Some(c) = self.reg.count(via) {
                        c.tx_null_register += 1;
                    }
                    self.effects.push(Effect::Unicast {
                        to: rp,
                        from: None,
                        pim: Pdu::Register(register).encode(),
                    });
                }
            }
        }
    }

    /// A PIM message unicast to us (`dst`), from the raw PIM socket, which hears it whatever
    /// interface it came by: Registers, Register-Stops and Candidate-RP-Advertisements are
    /// handled here (and left alone by the per-interface control sockets, which exist on
    /// PIM and IGMP interfaces only); other types are ignored. `ifindex`: where it arrived.
    /// `arrived_ns`: when the kernel received it, on the rings' clock (SO_TIMESTAMPNS).
    pub fn unicast_pim(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        ifindex: Option<u32>,
        arrived_ns: Option<u64>,
        pim: &[u8],
        now: Instant,
    ) {
        use crate::engines::pim::packet::{header_type, TYPE_CANDIDATE_RP_ADV};
        if !self.cfg.routing_enable {
            return;
        }
        if header_type(pim) == Ok(TYPE_CANDIDATE_RP_ADV) {
            // To the BSR at any of our addresses (a loopback's too).
            match Pdu::decode(pim) {
                Ok(Pdu::CandidateRpAdv(adv)) => self.receive_candidate_rp_adv(dst, &adv, now),
                Ok(_) => {}
                Err(err) => {
                    self.count_malformed(ifindex);
                    debug!(from = %src, error = %err, "malformed Candidate-RP-Advertisement dropped");
                }
            }
            return;
        }
        if !is_register(pim) || !self.ifs.is_local(dst) {
            return;
        }
        match Pdu::decode(pim) {
            Ok(Pdu::Register(r)) => self.receive_register(src, dst, ifindex, arrived_ns, r, now),
            Ok(Pdu::RegisterStop(stop)) => {
                if let Some(c) = self.reg.count(ifindex) {
                    c.rx_register_stop += 1;
                }
                if !self.reg.dr.entries().any(|e| e.rp == src) {
                    // Not from an RP we register to (RFC 7761 §6.1: forged Register-Stops
                    // would cut a source off): dropped and counted.
                    self.reg.rx_errors += 1;
                    debug!(from = %src, source = %stop.source, group = %stop.group.address,
                        "Register-Stop not from an RP we register to: dropped");
                    return;
                }
                info!(from = %src, source = %stop.source, group = %stop.group.address, "Register-Stop");
                let a = self.reg.dr.receive_register_stop(src, &stop, now);
                self.dr_actions(a);
            }
            Ok(_) => {}
            Err(err) => {
                self.reg.rx_errors += 1;
                self.count_malformed(ifindex);
                debug!(from = %src, error = %err, "malformed Register or Register-Stop dropped");
            }
        }
    }

    /// A malformed PIM message counted on the interface it came by (if it is ours).
    fn count_malformed(&mut self, ifindex: Option<u32>) {
        if let Some(e) = ifindex.and_then(|i| self.ifs.name_of(i)) {
            self.ifs.count_pim_malformed(&e);
        }
    }

    /// A Register from the DR `src` (§4.4.2).
    fn receive_register(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        ifindex: Option<u32>,
        arrived_ns: Option<u64>,
        r: Register,
        now: Instant,
    ) {
        if let Some(c) = self.reg.count(ifindex) {
            c.rx_register += 1;
            if r.null {
                c.rx_null_register += 1;
            }
        }
        let Some((s, g)) = r.source_group() else {
            self.reg.rx_errors += 1;
            return;
        };
        let rpf = self.rpf(s);
        let iif = rpf.map_or(0, |r| r.ifindex);
        let oifs = self.ifs.oifs_for(s, g, iif, &self.gates);
        let table = self.mfib.snapshot();
        // SPTbit(S,G): the forwarder forwards (S,G) as it arrives on the RPF interface
        // toward S, and did so when this Register arrived.
        let since = self.reg.spt_since.get(&(s, g)).copied().unwrap_or(0);
        let spt_bit = rpf.is_some_and(|r| table.get(s, g).is_some_and(|t| t.iif == r.ifindex))
            && arrived_ns.is_none_or(|t| t >= since);
        let ctx = RegisterContext {
            i_am_rp: self.rp_of(g) == Some(dst) && !ssm(g),
            spt_bit,
            switch_to_spt_desired: true,
            no_receivers: oifs.is_empty(),
        };
        let actions = match self.reg.rp.receive_register(src, r, ctx, now) {
            Ok(a) => a,
            Err(err) => {
                self.reg.rx_errors += 1;
                debug!(from = %src, error = %err, "Register dropped");
                return;
            }
        };
        for a in actions {
            match a {
                RpAction::SendRegisterStop { to, stop } => {
                    debug!(to = %to, source = %s, group = %g, spt_bit, "Register-Stop sent");
                    let via = self.rpf(to).map(|r| r.ifindex).or(ifindex);
                    if let Some(c) = self.reg.count(via) {
                        c.tx_register_stop += 1;
                    }
                    // From the address the Register came to, our RP address: the DR
                    // accepts Register-Stops from its RP only.
                    self.effects.push(Effect::Unicast {
                        to,
                        from: Some(dst),
                        pim: Pdu::RegisterStop(stop).encode(),
                    });
                }
                RpAction::SetKeepalive {
                    source,
                    group,
                    period,
                } => {
                    if self
                        .reg
                        .keepalive
                        .insert((source, group), now + period)
                        .is_none()
                    {
                        self.dirty = true;
                    }
                }
                // The Keepalive above makes the route computation join toward S.
                RpAction::JoinSource { .. } => {}
                RpAction::Forward { packet, .. } => {
                    for o in oifs.iter().filter(|o| o.forwarding) {
                        if !self.reg.take_token(now) {
                            self.reg.decap_dropped += 1;
                            continue;
                        }
                        if let Some((interface, frame)) =
                            self.decapsulated_frame(o.ifindex, &packet)
                        {
                            self.effects.push(Effect::Frame { interface, frame });
                        }
                    }
                }
            }
        }
    }

    /// The Ethernet frame that carries a decapsulated `packet` out of `ifindex`: to the
    /// group's MAC, TTL decremented (none when it would reach 0).
    fn decapsulated_frame(&self, ifindex: u32, packet: &[u8]) -> Option<(String, Vec<u8>)> {
        let (ihl, total) = dataplane::wire::ipv4_bounds(packet)?;
        let ip = &packet[..total];
        if ip[8] <= 1 || ihl < 20 {
            return None;
        }
        let (name, e) = self.ifs.by_index(ifindex)?;
        if !e.up {
            return None;
        }
        let g = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
        let mut f = Vec::with_capacity(14 + ip.len());
        f.extend_from_slice(&super::actions::group_mac(g));
        f.extend_from_slice(&e.mac);
        f.extend_from_slice(&0x0800u16.to_be_bytes());
        f.extend_from_slice(ip);
        let old = u16::from_be_bytes([f[14 + 8], f[14 + 9]]);
        f[14 + 8] -= 1;
        let new = u16::from_be_bytes([f[14 + 8], f[14 + 9]]);
        let sum = u16::from_be_bytes([f[14 + 10], f[14 + 11]]);
        let sum = dataplane::wire::checksum_update(sum, old, new);
        f[14 + 10..14 + 12].copy_from_slice(&sum.to_be_bytes());
        Some((name.clone(), f))
    }
}
