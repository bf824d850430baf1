//! The table of configured VRRP groups, sans I/O: it owns each group's state machine, its
//! counters and what the hot-backup policy remembers of it (the last advert heard from another
//! router, the start-up preemption hold, the tracked sessions seen Up), and applies the
//! receive checks of RFC 9568 §7.1 (IPv4 bounds, destination, TTL 255, checksum form, version)
//! before a packet reaches a state machine.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use tracing::{debug, info};

use super::group::{Action, Group, GroupConfig, State};
use super::packet::{self as vpkt, Advert, AdvertError, ChecksumMode};
use crate::engines::config;

/// A group's handle in the table (stable while the group exists).
pub type GroupId = u32;

/// One configured group.
pub struct Entry {
    pub ifname: String,
    pub vrid: u8,
    pub cfg: config::VrrpGroup,
    pub core: Group,
    /// When the state last changed (or the group was created).
    pub changed_at: Instant,
    /// Tracked BFD sessions that have been Up since the track was configured.
    pub seen_up: HashSet<String>,
    pub checksum_errors: u64,
    pub ttl_errors: u64,
    /// Preemption held back until this time (IGMP relearning after a start).
    pub hold_until: Option<Instant>,
    /// The last advert heard from another router: when, and its priority.
    pub heard: Option<(Instant, u8)>,
    /// The adverts heard went down in priority (not to 0) and have not gone up since: the
    /// master lowered its priority through decrement-mode tracking, because a path it tracks
    /// (its uplink, a BFD session, a monitor group) failed.
    pub heard_lowered: bool,
}

impl Entry {
    pub fn is_master(&self) -> bool {
        self.core.state() == State::Master
    }

    /// The checksum form this group sends.
    pub fn checksum_mode(&self) -> ChecksumMode {
        if self.cfg.exclude_pseudo_header {
            ChecksumMode::ExcludePseudoHeader
        } else {
            ChecksumMode::IncludePseudoHeader
        }
    }

    /// The advertisement to send with `priority`, encoded (VRRP payload, no IPv4 header).
    pub fn advert_payload(&self, priority: u8) -> Vec<u8> {
        self.core
            .advert(priority)
            .encode(self.core.local_ip(), self.checksum_mode())
    }
}

/// The group's state-machine configuration from the model's.
pub fn group_config(vrid: u8, c: &config::VrrpGroup) -> GroupConfig {
    GroupConfig {
        vrid,
        version: c.version,
        priority: c.priority,
        preempt: c.preempt,
        preempt_delay: Duration::from_secs(u64::from(c.preempt_delay_s)),
        advert_interval_cs: (c.advertise_interval_ms / 10).clamp(1, 4095) as u16,
        checksum: if c.exclude_pseudo_header {
            ChecksumMode::ExcludePseudoHeader
        } else {
            ChecksumMode::IncludePseudoHeader
        },
        virtual_ips: c.virtual_ips.clone(),
        accept_any_checksum: true,
    }
}

/// The configured groups.
#[derive(Default)]
pub struct Groups {
    entries: HashMap<GroupId, Entry>,
    by_key: BTreeMap<(String, u8), GroupId>,
    next_id: GroupId,
    /// Advertisements that did not decode, by interface.
    pub malformed: HashMap<String, u64>,
}

impl Groups {
    pub fn new() -> Groups {
        Groups {
            next_id: 1,
            ..Groups::default()
        }
    }

    pub fn get(&self, id: GroupId) -> Option<&Entry> {
        self.entries.get(&id)
    }

    pub fn get_mut(&mut self, id: GroupId) -> Option<&mut Entry> {
        self.entries.get_mut(&id)
    }

    pub fn id(&self, ifname: &str, vrid: u8) -> Option<GroupId> {
        self.by_key.get(&(ifname.to_string(), vrid)).copied()
    }

    pub fn ids(&self) -> Vec<GroupId> {
        self.by_key.values().copied().collect()
    }

    /// The groups in (interface, vrid) order.
    pub fn iter(&self) -> impl Iterator<Item = (GroupId, &Entry)> + '_ {
        self.by_key
            .values()
            .filter_map(|id| Some((*id, self.entries.get(id)?)))
    }

    /// The groups of one interface, by vrid.
    pub fn on(&self, ifname: &str) -> impl Iterator<Item = (GroupId, &Entry)> + '_ {
        self.by_key
            .range((ifname.to_string(), 0)..=(ifname.to_string(), 255))
            .filter_map(|(_, id)| Some((*id, self.entries.get(id)?)))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Add a group (Initialize; the caller tells it about its link).
    pub fn insert(
        &mut self,
        ifname: &str,
        vrid: u8,
        cfg: &config::VrrpGroup,
        local: Ipv4Addr,
        now: Instant,
    ) -> GroupId {
        let id = self.next_id;
        self.next_id += 1;
        self.entries.insert(
            id,
            Entry {
                ifname: ifname.to_string(),
                vrid,
                cfg: cfg.clone(),
                core: Group::new(group_config(vrid, cfg), local, now),
                changed_at: now,
                seen_up: HashSet::new(),
                checksum_errors: 0,
                ttl_errors: 0,
                hold_until: None,
                heard: None,
                heard_lowered: false,
            },
        );
        self.by_key.insert((ifname.to_string(), vrid), id);
        info!(interface = %ifname, vrid, "VRRP group created");
        id
    }

    /// Bring a group to a new configuration (None: unchanged).
    pub fn reconfigure(
        &mut self,
        id: GroupId,
        cfg: &config::VrrpGroup,
        now: Instant,
    ) -> Option<Vec<Action>> {
        let e = self.entries.get_mut(&id)?;
        if e.cfg == *cfg {
            return None;
        }
        let kept: HashSet<&str> = cfg.track_bfd.iter().map(|t| t.session.as_str()).collect();
        e.seen_up.retain(|s| kept.contains(s.as_str()));
        e.cfg = cfg.clone();
        let mut c = group_config(e.vrid, cfg);
        if let Some(until) = e.hold_until.filter(|&h| h > now) {
            c.preempt_delay = c.preempt_delay.max(until - now);
        }
        let actions = e.core.reconfigure(c, now);
        Self::noted(e, &actions, now);
        Some(actions)
    }

    /// Remove a group: what a resigning master sends (priority 0) is in the actions.
    pub fn remove(&mut self, id: GroupId, now: Instant) -> Option<(Entry, Vec<Action>)> {
        let mut e = self.entries.remove(&id)?;
        self.by_key.remove(&(e.ifname.clone(), e.vrid));
        let actions = e.core.shutdown(now);
        info!(interface = %e.ifname, vrid = e.vrid, "VRRP group removed");
        Some((e, actions))
    }

    /// A received IPv4 packet of protocol 112 on `ifname` (header included). None when it was
    /// dropped (counted where it says something about a group or the wire) or concerns no group.
    pub fn receive(
        &mut self,
        ifname: &str,
        packet: &[u8],
        now: Instant,
    ) -> Option<(GroupId, Vec<Action>)> {
        let Some((ihl, total)) =
            dataplane::wire::ipv4_bounds(packet).filter(|&(ihl, total)| total >= ihl + 8)
        else {
            *self.malformed.entry(ifname.to_string()).or_default() += 1;
            debug!(interface = %ifname, len = packet.len(), "malformed VRRP packet dropped: bad IPv4 header");
            return None;
        };
        let ttl = packet[8];
        let src = Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]);
        let dst = Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]);
        let payload = &packet[ihl..total];
        let id = self.id(ifname, payload[1])?;
        let decoded = Advert::decode(payload, src);
        let e = self.entries.get_mut(&id)?;
        if dst != vpkt::VRRP_MCAST_V4 {
            return None;
        }
        // RFC 9568 §7.1: TTL must be 255.
        if ttl != vpkt::VRRP_TTL {
            e.ttl_errors += 1;
            return None;
        }
        let adv = match decoded {
            Ok((adv, mode)) if e.core.config().checksum_acceptable(mode) => adv,
            Ok(_) | Err(AdvertError::Checksum) => {
                e.checksum_errors += 1;
                return None;
            }
            Err(err) => {
                *self.malformed.entry(ifname.to_string()).or_default() += 1;
                debug!(interface = %ifname, source = %src, error = %err, "malformed VRRP advertisement dropped");
                return None;
            }
        };
        if adv.version != e.cfg.version {
            return None;
        }
        if src != e.core.local_ip() {
            if let Some((_, before)) = e.heard {
                if adv.priority != before {
                    e.heard_lowered = adv.priority < before && adv.priority > 0;
                }
            }
            e.heard = Some((now, adv.priority));
        }
        let actions = e.core.receive(&adv, src, now);
        Self::noted(e, &actions, now);
        Some((id, actions))
    }

    /// The group's timers (its state machine's, and the end of a preemption hold) if due.
    pub fn on_timer(&mut self, id: GroupId, now: Instant) -> Vec<Action> {
        let Some(e) = self.entries.get_mut(&id) else {
            return Vec::new();
        };
        let mut actions = Vec::new();
        if e.hold_until.is_some_and(|h| h <= now) {
            e.hold_until = None;
            actions = e.core.reconfigure(group_config(e.vrid, &e.cfg), now);
        }
        if e.core.next_deadline().is_some_and(|d| d <= now) {
            actions.extend(e.core.on_timer(now));
        }
        Self::noted(e, &actions, now);
        actions
    }

    pub fn deadline(&self, id: GroupId) -> Option<Instant> {
        let e = self.entries.get(&id)?;
        [e.core.next_deadline(), e.hold_until]
            .into_iter()
            .flatten()
            .min()
    }

    /// Hold preemption of group `id` for `wait` from `now` (None: no change needed because
    /// its configured delay is as long).
    pub fn hold(&mut self, id: GroupId, wait: Duration, now: Instant) -> Option<Vec<Action>> {
        let e = self.entries.get_mut(&id)?;
        let mut c = group_config(e.vrid, &e.cfg);
        if c.preempt_delay >= wait {
            return None;
        }
        c.preempt_delay = wait;
        e.hold_until = Some(now + wait);
        let actions = e.core.reconfigure(c, now);
        Self::noted(e, &actions, now);
        Some(actions)
    }

    /// End a preemption hold early (None: there was none).
    pub fn lift_hold(&mut self, id: GroupId, now: Instant) -> Option<Vec<Action>> {
        let e = self.entries.get_mut(&id)?;
        e.hold_until.take()?;
        let actions = e.core.reconfigure(group_config(e.vrid, &e.cfg), now);
        Self::noted(e, &actions, now);
        Some(actions)
    }

    /// Run one of the group's state-machine inputs and keep the time of a state change.
    pub fn with(
        &mut self,
        id: GroupId,
        now: Instant,
        f: impl FnOnce(&mut Group) -> Vec<Action>,
    ) -> Vec<Action> {
        let Some(e) = self.entries.get_mut(&id) else {
            return Vec::new();
        };
        let actions = f(&mut e.core);
        Self::noted(e, &actions, now);
        actions
    }

    /// The vrid of the master group on `ifname` that owns the virtual IP `target`: who
    /// answers an ARP request for it (RFC 9568 §6.4.3).
    pub fn arp_owner(&self, ifname: &str, target: Ipv4Addr) -> Option<u8> {
        self.on(ifname)
            .find(|(_, e)| e.is_master() && e.cfg.virtual_ips.contains(&target))
            .map(|(_, e)| e.vrid)
    }

    fn noted(e: &mut Entry, actions: &[Action], now: Instant) {
        if actions
            .iter()
            .any(|a| matches!(a, Action::StateChange { .. }))
        {
            e.changed_at = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(priority: u8) -> config::VrrpGroup {
        config::VrrpGroup {
            virtual_ips: vec![Ipv4Addr::new(10, 1, 0, 254)],
            priority,
            preempt: true,
            preempt_delay_s: 0,
            advertise_interval_ms: 1000,
            version: 3,
            exclude_pseudo_header: false,
            admin: Some(false),
            track_bfd: Vec::new(),
            track_monitor: Vec::new(),
        }
    }

    /// An IPv4 packet carrying an advert of `vrid` from `src` with `ttl`.
    fn advert(vrid: u8, priority: u8, src: [u8; 4], ttl: u8) -> Vec<u8> {
        let adv = Advert {
            version: 3,
            vrid,
            priority,
            interval_cs: 100,
            addresses: vec![Ipv4Addr::new(10, 1, 0, 254)],
        };
        let src = Ipv4Addr::from(src);
        let payload = adv.encode(src, ChecksumMode::IncludePseudoHeader);
        let frame = dataplane::wire::ipv4_frame(
            [0; 6],
            [0; 6],
            src,
            vpkt::VRRP_MCAST_V4,
            ttl,
            vpkt::IPPROTO_VRRP,
            &[],
            &payload,
        );
        frame[14..].to_vec()
    }

    #[test]
    fn adverts_are_checked_before_the_state_machine() {
        let now = Instant::now();
        let mut t = Groups::new();
        let id = t.insert("lan", 1, &group(100), Ipv4Addr::new(10, 1, 0, 1), now);
        // TTL 64: counted, dropped.
        assert!(t
            .receive("lan", &advert(1, 120, [10, 1, 0, 2], 64), now)
            .is_none());
        assert_eq!(t.get(id).unwrap().ttl_errors, 1);
        // A corrupted checksum.
        let mut bad = advert(1, 120, [10, 1, 0, 2], 255);
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        assert!(t.receive("lan", &bad, now).is_none());
        assert_eq!(t.get(id).unwrap().checksum_errors, 1);
        // Another vrid: nobody's.
        assert!(t
            .receive("lan", &advert(2, 120, [10, 1, 0, 2], 255), now)
            .is_none());
        // A truncated IPv4 header is malformed on the interface.
        assert!(t.receive("lan", &[0x45, 0, 0], now).is_none());
        assert_eq!(t.malformed.get("lan"), Some(&1));
        // A good one reaches the group and is remembered as heard.
        let (got, _) = t
            .receive("lan", &advert(1, 120, [10, 1, 0, 2], 255), now)
            .expect("accepted");
        assert_eq!(got, id);
        assert_eq!(t.get(id).unwrap().heard, Some((now, 120)));
        assert_eq!(t.get(id).unwrap().core.counters().adverts_received, 1);
    }

    /// A master whose adverts drop from 120 to 90 lowered its priority through tracking; that
    /// stays known while it advertises 90, and ends when its priority goes up again. A drop to
    /// 0 is a resignation, not a lowering.
    #[test]
    fn a_priority_drop_in_the_adverts_heard_is_remembered_until_it_rises() {
        let now = Instant::now();
        let mut t = Groups::new();
        let id = t.insert("lan", 1, &group(100), Ipv4Addr::new(10, 1, 0, 1), now);
        let mut hear = |prio| {
            t.receive("lan", &advert(1, prio, [10, 1, 0, 2], 255), now)
                .expect("accepted");
            t.get(id).unwrap().heard_lowered
        };
        assert!(!hear(120));
        assert!(hear(90), "120 then 90");
        assert!(hear(90), "still lowered");
        assert!(!hear(120), "back up");
        assert!(!hear(0), "a resignation");
    }

    #[test]
    fn a_hold_delays_preemption_until_it_ends_or_is_lifted() {
        let now = Instant::now();
        let mut t = Groups::new();
        let id = t.insert("lan", 1, &group(100), Ipv4Addr::new(10, 1, 0, 1), now);
        assert!(t.hold(id, Duration::from_secs(3), now).is_some());
        assert_eq!(t.deadline(id), Some(now + Duration::from_secs(3)));
        // A reconfiguration keeps what is left of the hold.
        let mut g = group(110);
        g.preempt_delay_s = 1;
        t.reconfigure(id, &g, now + Duration::from_secs(1));
        assert_eq!(
            t.get(id).unwrap().core.config().preempt_delay,
            Duration::from_secs(2)
        );
        assert!(t.lift_hold(id, now + Duration::from_secs(1)).is_some());
        assert!(t.lift_hold(id, now + Duration::from_secs(1)).is_none());
        assert_eq!(
            t.get(id).unwrap().core.config().preempt_delay,
            Duration::from_secs(1)
        );
    }

    #[test]
    fn only_a_master_answers_arp_for_its_virtual_ip() {
        let now = Instant::now();
        let mut t = Groups::new();
        let id = t.insert("lan", 1, &group(100), Ipv4Addr::new(10, 1, 0, 1), now);
        let vip = Ipv4Addr::new(10, 1, 0, 254);
        assert_eq!(t.arp_owner("lan", vip), None);
        t.with(id, now, |g| g.set_link(true, false, now));
        let later = now + Duration::from_secs(4);
        let _ = t.on_timer(id, later);
        assert!(t.get(id).unwrap().is_master());
        assert_eq!(t.get(id).unwrap().changed_at, later);
        assert_eq!(t.arp_owner("lan", vip), Some(1));
        assert_eq!(t.arp_owner("lan", Ipv4Addr::new(10, 1, 0, 9)), None);
        assert_eq!(t.arp_owner("other", vip), None);
    }
}
