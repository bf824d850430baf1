//! The dual-device hot-backup core, sans I/O: the BFD sessions, the VRRP groups and the
//! interface monitor groups of one device, joined by the policy that makes an mVRRP group
//! follow them (tracking, the start-up hold, make-before-break handover).
//!
//! It never reads a clock or touches a socket. Every input takes `now`; what the device must
//! do comes out as [`Effect`]s, in order, from [`HotBackup::effects`]: packets to send, mVRRP
//! gates to open or close, notifications. The protocol thread carries them out against real
//! sockets and the multicast engine; the simulation (`engines::sim`) joins two of these over
//! simulated links on simulated time.
//!
//! The device's interfaces are seen through [`Links`].

pub mod handover;
pub mod monitor;
pub mod track;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use tracing::{debug, info};

use super::bfd::packet::{ControlPacket, Diag, State as BfdState};
use super::bfd::session::Action as BfdAction;
use super::bfd::sessions::{Resolution, Rx, Sent, SessionId, Sessions};
use super::config::{self, Config};
use super::vrrp::group::{Action as VrrpAction, Reason, State as VrrpState};
use super::vrrp::groups::{GroupId, Groups};
use monitor::{Binding, Monitors};

/// How long a monitor group waits for an interface the agent has just set admin up to report
/// its link (veth and most NICs: well under a second) before counting it as down.
pub const SETTLE_GRACE: Duration = Duration::from_secs(2);

/// The device's interfaces as the core needs to see them.
pub trait Links {
    fn ifindex(&self, ifname: &str) -> Option<u32>;
    /// The link can pass packets.
    fn oper_up(&self, ifname: &str) -> bool;
    /// VRRP can send and receive on it (its sockets are open).
    fn vrrp_ready(&self, ifname: &str) -> bool;
    /// The address VRRP advertises from (0.0.0.0 when it has none).
    fn local_ip(&self, ifname: &str) -> Ipv4Addr;
}

/// A notification of the device's modules, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    BfdStateChange {
        session: String,
        old: BfdState,
        new: BfdState,
        diag: Diag,
    },
    VrrpStateChange {
        interface: String,
        vrid: u8,
        old: VrrpState,
        new: VrrpState,
        reason: Reason,
    },
    MonitorStatus {
        group: String,
        failure_ratio: u8,
    },
}

/// Something the device must do, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send a BFD Control packet of session `id` (to its peer, on its transport), then report
    /// the outcome with [`HotBackup::bfd_sent`].
    Bfd {
        id: SessionId,
        packet: ControlPacket,
    },
    /// The session `name` was removed: send these AdminDown packets on its transport, then
    /// close it.
    BfdRemoved {
        name: String,
        cfg: config::BfdSession,
        farewell: Vec<ControlPacket>,
    },
    /// Send a VRRP advertisement (the payload of an IPv4 packet from `src` to 224.0.0.18,
    /// TTL 255, from the group's virtual MAC) on `interface`.
    Vrrp {
        interface: String,
        vrid: u8,
        src: Ipv4Addr,
        payload: Vec<u8>,
    },
    /// Send a gratuitous ARP for each virtual IP from the group's virtual MAC.
    Garp {
        interface: String,
        vrid: u8,
        vips: Vec<Ipv4Addr>,
    },
    /// Open or close the multicast gate of an mVRRP group. `handover`: opening while the old
    /// master still forwards (see [`handover`]).
    Gate {
        interface: String,
        vrid: u8,
        open: bool,
        handover: bool,
    },
    Notify(Notification),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Bfd(SessionId),
    Vrrp(GroupId),
}

/// One device's BFD, VRRP and monitor groups under the hot-backup policy.
pub struct HotBackup {
    pub bfd: Sessions,
    pub vrrp: Groups,
    pub monitors: Monitors,
    /// Interfaces the agent has just set admin up, until their link reports up or the grace
    /// time ends: monitor groups bound to them wait (see [`Binding::Settling`]).
    settling: BTreeMap<String, Instant>,
    timers: BinaryHeap<Reverse<(Instant, Timer)>>,
    effects: Vec<Effect>,
}

impl HotBackup {
    /// `seed` drives the BFD transmit jitter.
    pub fn new(seed: u64) -> HotBackup {
        HotBackup {
            bfd: Sessions::new(seed),
            vrrp: Groups::new(),
            monitors: Monitors::default(),
            settling: BTreeMap::new(),
            timers: BinaryHeap::new(),
            effects: Vec::new(),
        }
    }

    /// What the device must do now, in order (drained).
    pub fn effects(&mut self) -> std::vec::Drain<'_, Effect> {
        self.effects.drain(..)
    }

    /// The same as [`HotBackup::effects`] without an allocation per call: the effects are
    /// swapped into `buf` (which should be empty) and `buf`'s storage is kept for the next ones.
    pub fn swap_effects(&mut self, buf: &mut Vec<Effect>) {
        std::mem::swap(&mut self.effects, buf);
    }

    // ---- configuration ------------------------------------------------------------------------

    /// Bring the BFD sessions named in `names` to `cfg` (created, changed or removed).
    pub fn apply_bfd<'a>(
        &mut self,
        cfg: &Config,
        names: impl IntoIterator<Item = &'a String>,
        now: Instant,
    ) {
        for name in names {
            let Some(s) = cfg.bfd.get(name) else {
                if let Some((e, farewell)) = self.bfd.remove(name, now) {
                    self.effects.push(Effect::BfdRemoved {
                        name: e.name,
                        cfg: e.cfg,
                        farewell,
                    });
                }
                continue;
            };
            if let Some((id, actions)) = self.bfd.upsert(name, s, now) {
                self.bfd_actions(id, actions);
                self.arm(Timer::Bfd(id), now);
            }
        }
    }

    /// A session whose transport changed (new socket) starts afresh from its configuration.
    pub fn restart_bfd(&mut self, name: &str, now: Instant) {
        if let Some(id) = self.bfd.id(name) {
            self.arm(Timer::Bfd(id), now);
        }
    }

    /// Bring the VRRP groups of the interfaces in `ifnames` to `cfg`. `igmp_wait` says how long
    /// the IGMP behind a group's gate still needs to relearn its receivers (the start-up hold).
    pub fn apply_vrrp<'a>(
        &mut self,
        cfg: &Config,
        ifnames: impl IntoIterator<Item = &'a String>,
        links: &dyn Links,
        igmp_wait: &dyn Fn(&str, u8) -> Option<Duration>,
        now: Instant,
    ) {
        for ifname in ifnames {
            let gone: Vec<GroupId> = self
                .vrrp
                .on(ifname)
                .filter(|(_, e)| !cfg.vrrp.contains_key(&(ifname.clone(), e.vrid)))
                .map(|(id, _)| id)
                .collect();
            for id in gone {
                if let Some((e, actions)) = self.vrrp.remove(id, now) {
                    // The resigning advert (priority 0) and the closing gate.
                    self.removed_group_effects(&e, actions);
                }
            }
            for ((_, vrid), g) in cfg.vrrp.range((ifname.clone(), 0)..=(ifname.clone(), 255)) {
                match self.vrrp.id(ifname, *vrid) {
                    Some(id) => {
                        if let Some(actions) = self.vrrp.reconfigure(id, g, now) {
                            self.vrrp_actions(id, actions, now);
                        }
                        self.arm(Timer::Vrrp(id), now);
                    }
                    None => {
                        let id = self
                            .vrrp
                            .insert(ifname, *vrid, g, links.local_ip(ifname), now);
                        if g.admin.is_some() {
                            let configured = Duration::from_secs(u64::from(g.preempt_delay_s));
                            if let Some(wait) =
                                handover::start_hold(igmp_wait(ifname, *vrid), configured)
                            {
                                info!(interface = %ifname, vrid, hold_ms = wait.as_millis() as u64, "preemption held while IGMP relearns");
                                if let Some(actions) = self.vrrp.hold(id, wait, now) {
                                    self.vrrp_actions(id, actions, now);
                                }
                            }
                        }
                        self.link_to_vrrp(id, links, now);
                    }
                }
            }
        }
    }

    /// Evaluate the monitor groups: `only` the named ones (a commit that changed them; a group
    /// no longer configured is forgotten), or all of them (link events, a full reload).
    pub fn remonitor(
        &mut self,
        cfg: &Config,
        only: Option<&[String]>,
        links: &dyn Links,
        now: Instant,
    ) {
        self.settling.retain(|_, until| *until > now);
        let names: Vec<&String> = match only {
            None => {
                self.monitors.retain(|n| cfg.monitor_groups.contains_key(n));
                cfg.monitor_groups.keys().collect()
            }
            Some(names) => names.iter().collect(),
        };
        for name in names {
            let Some(g) = cfg.monitor_groups.get(name) else {
                self.monitors.forget(name);
                continue;
            };
            let settling = &self.settling;
            let binding = |i: &str| {
                if links.oper_up(i) {
                    Binding::Up
                } else if settling.contains_key(i) {
                    Binding::Settling
                } else {
                    Binding::Down
                }
            };
            if let Some(ratio) = self.monitors.evaluate(name, g, binding, now) {
                info!(group = %name, ratio, "monitor group status");
                self.effects
                    .push(Effect::Notify(Notification::MonitorStatus {
                        group: name.clone(),
                        failure_ratio: ratio,
                    }));
            } else if self.monitors.get(name).is_none() {
                debug!(group = %name, "monitor group waits for its interfaces to come up");
            }
        }
    }

    /// The agent set `ifname` admin up: monitor groups wait for its link a moment.
    pub fn settle(&mut self, ifname: &str, now: Instant) {
        self.settling.insert(ifname.to_string(), now + SETTLE_GRACE);
    }

    /// The link of `ifname` came up: it no longer settles. Whether it was settling.
    pub fn settled(&mut self, ifname: &str) -> bool {
        self.settling.remove(ifname).is_some()
    }

    /// An interface whose grace time has ended without its link coming up.
    pub fn settle_expired(&self, now: Instant) -> bool {
        self.settling.values().any(|&until| until <= now)
    }

    // ---- events -------------------------------------------------------------------------------

    /// Links came, went or changed state: re-evaluate every monitor group, tell every group
    /// about its link, recompute tracking.
    pub fn links_changed(&mut self, cfg: &Config, links: &dyn Links, now: Instant) {
        self.remonitor(cfg, None, links, now);
        for id in self.vrrp.ids() {
            self.link_to_vrrp(id, links, now);
        }
        self.retrack(now);
    }

    /// A BFD Control packet arrived.
    pub fn bfd_received(&mut self, bytes: &[u8], rx: Rx, links: &dyn Links, now: Instant) {
        let Some((id, actions)) = self.bfd.receive(bytes, rx, |i| links.ifindex(i), now) else {
            return;
        };
        let changed = self.bfd_actions(id, actions);
        self.arm(Timer::Bfd(id), now);
        if changed {
            self.retrack(now);
        }
    }

    /// An IPv4 packet of protocol 112 arrived on `ifname`.
    pub fn vrrp_received(&mut self, ifname: &str, packet: &[u8], now: Instant) {
        let Some((id, actions)) = self.vrrp.receive(ifname, packet, now) else {
            return;
        };
        self.vrrp_actions(id, actions, now);
        self.arm(Timer::Vrrp(id), now);
    }

    /// What became of a BFD packet the device was asked to send.
    pub fn bfd_sent(&mut self, id: SessionId, outcome: Sent) {
        self.bfd.sent(id, outcome);
    }

    /// The kernel's ARP resolution of a BFD peer ended.
    pub fn bfd_peer_resolved(&mut self, ifname: &str, peer: Ipv4Addr, outcome: Resolution) {
        self.bfd.resolved(ifname, peer, outcome);
    }

    /// The earliest timer.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((t, _))| *t)
    }

    /// Run the timers due at `now`. Returns how late the earliest of them ran.
    pub fn on_timers(&mut self, now: Instant) -> Option<Duration> {
        let mut late = None;
        while let Some(&Reverse((at, t))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            late.get_or_insert(now.saturating_duration_since(at));
            // An entry whose deadline moved is stale: the move armed another.
            if self.deadline(t).is_none_or(|d| d > now) {
                continue;
            }
            match t {
                Timer::Bfd(id) => {
                    let actions = self.bfd.on_timer(id, now);
                    if self.bfd_actions(id, actions) {
                        self.retrack(now);
                    }
                }
                Timer::Vrrp(id) => {
                    let actions = self.vrrp.on_timer(id, now);
                    self.vrrp_actions(id, actions, now);
                }
            }
            self.arm(t, now);
        }
        late
    }

    /// A clean stop: masters resign (priority 0), BFD sessions say AdminDown.
    pub fn shutdown(&mut self, now: Instant) {
        for id in self.vrrp.ids() {
            if let Some((e, actions)) = self.vrrp.remove(id, now) {
                self.removed_group_effects(&e, actions);
            }
        }
        let names: Vec<String> = self.bfd.iter().map(|(_, e)| e.name.clone()).collect();
        for n in names {
            if let Some((e, farewell)) = self.bfd.remove(&n, now) {
                self.effects.push(Effect::BfdRemoved {
                    name: e.name,
                    cfg: e.cfg,
                    farewell,
                });
            }
        }
    }

    /// Every group's gate as its state says (after a reconfiguration of the multicast side).
    pub fn sync_gates(&mut self) {
        for (_, e) in self.vrrp.iter() {
            self.effects.push(Effect::Gate {
                interface: e.ifname.clone(),
                vrid: e.vrid,
                open: e.is_master(),
                handover: false,
            });
        }
    }

    // ---- policy -------------------------------------------------------------------------------

    /// Tell group `id` whether its interface can pass packets, and its address.
    fn link_to_vrrp(&mut self, id: GroupId, links: &dyn Links, now: Instant) {
        let Some(e) = self.vrrp.get(id) else { return };
        let up = links.oper_up(&e.ifname) && links.vrrp_ready(&e.ifname);
        let ignore = e.cfg.admin.unwrap_or(false);
        let local = links.local_ip(&e.ifname);
        let actions = self.vrrp.with(id, now, |g| {
            g.set_local_ip(local);
            g.set_link(up, ignore, now)
        });
        self.vrrp_actions(id, actions, now);
        self.arm(Timer::Vrrp(id), now);
    }

    /// Recompute the effective priority of every tracking group.
    pub fn retrack(&mut self, now: Instant) {
        for id in self.vrrp.ids() {
            let Some(e) = self.vrrp.get_mut(id) else {
                continue;
            };
            let bfd = &self.bfd;
            let monitors = &self.monitors;
            let t = track::evaluate(
                &e.cfg,
                &mut e.seen_up,
                |s| bfd.client_state(s),
                |g| monitors.ratio(g),
            );
            if handover::lift_hold(e.hold_until.is_some(), t.bfd_failed) {
                info!(interface = %e.ifname, vrid = e.vrid, "tracked BFD failed: start-up preemption hold lifted");
                if let Some(actions) = self.vrrp.lift_hold(id, now) {
                    self.vrrp_actions(id, actions, now);
                }
                self.arm(Timer::Vrrp(id), now);
            }
            let Some(e) = self.vrrp.get(id) else { continue };
            if t.priority != e.core.current_priority() {
                info!(interface = %e.ifname, vrid = e.vrid, priority = t.priority, "tracking changed the priority");
                let actions = self.vrrp.with(id, now, |g| g.set_priority(t.priority, now));
                self.vrrp_actions(id, actions, now);
                self.arm(Timer::Vrrp(id), now);
            }
        }
    }

    /// Queue a session's actions; whether its state changed.
    fn bfd_actions(&mut self, id: SessionId, actions: Vec<BfdAction>) -> bool {
        let mut changed = false;
        for a in actions {
            match a {
                BfdAction::Send(packet) => self.effects.push(Effect::Bfd { id, packet }),
                BfdAction::StateChange { old, new, diag } => {
                    changed = true;
                    let Some(e) = self.bfd.get(id) else { continue };
                    info!(session = %e.name, old = old.name(), new = new.name(), diag = diag.name(), remote_disc = e.core.remote_disc(), "BFD state change");
                    self.effects
                        .push(Effect::Notify(Notification::BfdStateChange {
                            session: e.name.clone(),
                            old,
                            new,
                            diag,
                        }));
                }
            }
        }
        changed
    }

    /// Carry out a group's actions. Becoming master opens the gate before the advert goes
    /// out, so the old master (which closes when it hears us) never stops before we forward.
    fn vrrp_actions(&mut self, id: GroupId, actions: Vec<VrrpAction>, now: Instant) {
        let Some(e) = self.vrrp.get(id) else { return };
        let becomes_master = actions.iter().any(|a| {
            matches!(
                a,
                VrrpAction::StateChange {
                    new: VrrpState::Master,
                    ..
                }
            )
        });
        let handover = becomes_master && {
            let interval = Duration::from_millis(10 * u64::from(e.core.master_adver_interval_cs()));
            let bfd = &self.bfd;
            let failed = track::bfd_failed(&e.cfg, &e.seen_up, |s| bfd.client_state(s));
            handover::is_handover(e.heard, e.heard_lowered, interval, failed, now)
        };
        if becomes_master {
            self.effects.push(Effect::Gate {
                interface: e.ifname.clone(),
                vrid: e.vrid,
                open: true,
                handover,
            });
        }
        // Split borrows: the entry is read while effects are pushed.
        let Self { vrrp, effects, .. } = self;
        if let Some(e) = vrrp.get(id) {
            push_vrrp_effects(effects, e, actions, true);
        }
    }

    /// The effects of a removed group's last actions, then its gate closed.
    fn removed_group_effects(&mut self, e: &super::vrrp::groups::Entry, actions: Vec<VrrpAction>) {
        push_vrrp_effects(&mut self.effects, e, actions, false);
        self.effects.push(Effect::Gate {
            interface: e.ifname.clone(),
            vrid: e.vrid,
            open: false,
            handover: false,
        });
    }

    fn deadline(&self, t: Timer) -> Option<Instant> {
        match t {
            Timer::Bfd(id) => self.bfd.deadline(id),
            Timer::Vrrp(id) => self.vrrp.deadline(id),
        }
    }

    fn arm(&mut self, t: Timer, now: Instant) {
        if let Some(at) = self.deadline(t) {
            // A deadline already past (a received packet shortened an interval) is due now.
            self.timers.push(Reverse((at.max(now), t)));
        }
    }
}

fn push_vrrp_effects(
    effects: &mut Vec<Effect>,
    e: &super::vrrp::groups::Entry,
    actions: Vec<VrrpAction>,
    present: bool,
) {
    for a in actions {
        match a {
            VrrpAction::SendAdvert { priority } => effects.push(Effect::Vrrp {
                interface: e.ifname.clone(),
                vrid: e.vrid,
                src: e.core.local_ip(),
                payload: e.advert_payload(priority),
            }),
            VrrpAction::SendGarp => effects.push(Effect::Garp {
                interface: e.ifname.clone(),
                vrid: e.vrid,
                vips: e.cfg.virtual_ips.clone(),
            }),
            VrrpAction::StateChange { old, new, reason } => {
                if present {
                    effects.push(Effect::Gate {
                        interface: e.ifname.clone(),
                        vrid: e.vrid,
                        open: new == VrrpState::Master,
                        handover: false,
                    });
                }
                info!(interface = %e.ifname, vrid = e.vrid, old = old.name(), new = new.name(), reason = reason.name(), "VRRP state change");
                effects.push(Effect::Notify(Notification::VrrpStateChange {
                    interface: e.ifname.clone(),
                    vrid: e.vrid,
                    old,
                    new,
                    reason,
                }));
            }
        }
    }
}
