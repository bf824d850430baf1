//! Operational state and notifications of the device's modules, as XML: the only place that
//! writes the engines' YANG data. Input is the tables as they are (typed); times the cores
//! keep as `Instant`s become wall-clock date-and-time values here.

mod mcast;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::time::Instant;

use dataplane::netlink::{Link, LinkStats};
use yang::xml::escape_text as esc;

use super::bfd::packet::State as BfdState;
use super::config::Config;
use super::hot_backup::{HotBackup, Notification};
use super::mcast::Multicast;
use super::vrrp::groups::Entry as VrrpEntry;
use super::vrrp::packet as vpkt;
use crate::clock::rfc3339;

/// The clocks a snapshot is taken at: the cores' monotonic `now` and the wall clock (ms since
/// the epoch) at the same moment.
#[derive(Debug, Clone, Copy)]
pub struct At {
    pub now: Instant,
    pub wall_ms: u64,
}

impl At {
    /// The wall-clock time (ms) of a monotonic instant in the past.
    fn wall(&self, then: Instant) -> u64 {
        self.wall_ms
            .saturating_sub(self.now.saturating_duration_since(then).as_millis() as u64)
    }
}

/// Microseconds as a decimal64 of milliseconds with three fraction digits (`10.000`).
fn us_as_ms(us: u32) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}

fn mac(m: [u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

/// What the state is made of.
pub struct Sources<'a> {
    pub cfg: &'a Config,
    pub links: &'a BTreeMap<String, Link>,
    /// Interface counters by ifindex as the requester read them.
    pub stats: &'a HashMap<u32, LinkStats>,
    pub hb: &'a HotBackup,
    pub mc: &'a Multicast,
}

/// Interfaces (every one of the device, configured or not, and the configured ones that are
/// not present), monitor groups, BFD, VRRP and multicast.
pub fn xml(s: &Sources<'_>, at: At) -> String {
    let mut x = String::new();
    interfaces(s, at, &mut x);
    monitor_groups(s, at, &mut x);
    bfd(s, at, &mut x);
    if mcast::any(s.mc) {
        x.push_str("<multicast xmlns=\"urn:ne-agent:yang:ne-multicast\">");
        mcast::forwarding_plane(s.mc, &mut x);
        mcast::routes(s.mc, &mut x);
        x.push_str("</multicast>");
    }
    x
}

fn interfaces(s: &Sources<'_>, at: At, x: &mut String) {
    let names: BTreeSet<&String> = s.cfg.interfaces.keys().chain(s.links.keys()).collect();
    if names.is_empty() {
        return;
    }
    x.push_str("<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\">");
    for name in names {
        let _ = write!(x, "<interface><name>{}</name>", esc(name));
        match s.links.get(name) {
            Some(l) => {
                let _ = write!(
                    x,
                    "<oper-status>{}</oper-status><if-index>{}</if-index>",
                    if l.oper_up { "up" } else { "down" },
                    l.index
                );
                if let Some(m) = l.mac {
                    let _ = write!(x, "<phys-address>{}</phys-address>", mac(m));
                }
                let c = s.stats.get(&l.index).copied().unwrap_or(l.stats);
                let _ = write!(
                    x,
                    "<statistics><in-packets>{}</in-packets><out-packets>{}</out-packets>\
                     <in-octets>{}</in-octets><out-octets>{}</out-octets>\
                     <in-discards>{}</in-discards></statistics>",
                    c.rx_packets, c.tx_packets, c.rx_bytes, c.tx_bytes, c.rx_dropped
                );
            }
            None => x.push_str("<oper-status>not-present</oper-status>"),
        }
        mcast::interface(s.mc, name, x, at.now);
        let malformed = s.hb.vrrp.malformed.get(name.as_str()).copied().unwrap_or(0);
        let mut groups = s.hb.vrrp.on(name).peekable();
        if groups.peek().is_some() || malformed > 0 {
            let _ = write!(
                x,
                "<vrrp xmlns=\"urn:ne-agent:yang:ne-vrrp\"><statistics><rx-malformed>{malformed}</rx-malformed></statistics>"
            );
            for (_, e) in groups {
                vrrp_group(s, e, at, x);
            }
            x.push_str("</vrrp>");
        }
        x.push_str("</interface>");
    }
    x.push_str("</interfaces>");
}

fn monitor_groups(s: &Sources<'_>, at: At, x: &mut String) {
    if s.hb.monitors.is_empty() {
        return;
    }
    x.push_str("<monitor-groups xmlns=\"urn:ne-agent:yang:ne-monitor-group\">");
    for (name, m) in s.hb.monitors.iter() {
        let enabled = s.cfg.monitor_groups.get(name).is_some_and(|g| g.enabled);
        let _ = write!(
            x,
            "<monitor-group><name>{}</name><failure-ratio>{}</failure-ratio>\
             <monitoring>{}</monitoring>\
             <down-interfaces>{}</down-interfaces><last-change>{}</last-change></monitor-group>",
            esc(name),
            m.ratio,
            if enabled { "enabled" } else { "disabled" },
            m.down,
            rfc3339(at.wall(m.changed_at))
        );
    }
    x.push_str("</monitor-groups>");
}

fn bfd(s: &Sources<'_>, at: At, x: &mut String) {
    let t = &s.hb.bfd;
    if t.is_empty() && t.malformed == 0 {
        return;
    }
    let _ = write!(
        x,
        "<bfd xmlns=\"urn:ne-agent:yang:ne-bfd\"><statistics><rx-malformed>{}</rx-malformed></statistics>",
        t.malformed
    );
    for (_, e) in t.iter() {
        let c = e.core.counters();
        let _ = write!(
            x,
            "<session><name>{}</name><state>{}</state><remote-state>{}</remote-state>\
             <local-diagnostic>{}</local-diagnostic><actual-tx-interval>{}</actual-tx-interval>\
             <actual-tx-interval-ms>{}</actual-tx-interval-ms>\
             <detection-time>{}</detection-time><detection-time-ms>{}</detection-time-ms>",
            esc(&e.name),
            e.core.state().name(),
            e.core.remote_state().name(),
            e.core.local_diag().name(),
            e.core.actual_tx_interval_us(),
            us_as_ms(e.core.actual_tx_interval_us()),
            e.core.detection_time_us(),
            us_as_ms(e.core.detection_time_us()),
        );
        if let Some(r) = &e.last_tx_error {
            let _ = write!(x, "<last-tx-error>{}</last-tx-error>", esc(r));
        }
        let _ = write!(
            x,
            "<up-transitions>{}</up-transitions>\
             <last-state-change>{}</last-state-change><statistics><tx-packets>{}</tx-packets>\
             <tx-errors>{}</tx-errors><rx-packets>{}</rx-packets><rx-discarded>{}</rx-discarded>\
             </statistics></session>",
            c.up_transitions,
            rfc3339(at.wall(e.changed_at)),
            e.tx_packets(),
            e.tx_errors,
            c.rx_packets,
            c.rx_discarded + e.io_discards
        );
    }
    x.push_str("</bfd>");
}

fn vrrp_group(s: &Sources<'_>, e: &VrrpEntry, at: At, x: &mut String) {
    let c = e.core.counters();
    let _ = write!(
        x,
        "<group><vrid>{}</vrid><state>{}</state><current-priority>{}</current-priority>",
        e.vrid,
        e.core.state().name(),
        e.core.current_priority()
    );
    if let Some(ip) = e.core.master_ip() {
        let _ = write!(x, "<master-ip>{ip}</master-ip>");
    }
    if let Some(p) = e.core.master_priority() {
        let _ = write!(x, "<master-priority>{p}</master-priority>");
    }
    let _ = write!(
        x,
        "<virtual-mac>{}</virtual-mac>\
         <master-down-interval>{}</master-down-interval><last-change>{}</last-change>\
         <new-master-reason>{}</new-master-reason>",
        mac(vpkt::virtual_mac(e.vrid)),
        e.core.master_down_interval().as_millis(),
        rfc3339(at.wall(e.changed_at)),
        e.core.last_reason().name()
    );
    if !e.cfg.track_bfd.is_empty() || !e.cfg.track_monitor.is_empty() {
        x.push_str("<track>");
        for t in &e.cfg.track_monitor {
            let enabled = s
                .cfg
                .monitor_groups
                .get(&t.group)
                .is_some_and(|g| g.enabled);
            let ratio = s.hb.monitors.ratio(&t.group);
            let state = if !enabled {
                "disabled"
            } else if ratio >= t.failure_ratio {
                "failed"
            } else {
                "normal"
            };
            let _ = write!(
                x,
                "<monitor-group><name>{}</name><group-state>{state}</group-state></monitor-group>",
                esc(&t.group),
            );
        }
        for t in &e.cfg.track_bfd {
            let st =
                s.hb.bfd
                    .by_name(&t.session)
                    .map_or(BfdState::Down, |b| b.core.state());
            let _ = write!(
                x,
                "<bfd-session><session>{}</session><session-state>{}</session-state></bfd-session>",
                esc(&t.session),
                st.name()
            );
        }
        x.push_str("</track>");
    }
    let _ = write!(
        x,
        "<statistics><master-transitions>{}</master-transitions><adverts-sent>{}</adverts-sent>\
         <adverts-received>{}</adverts-received><priority-zero-sent>{}</priority-zero-sent>\
         <priority-zero-received>{}</priority-zero-received><checksum-errors>{}</checksum-errors>\
         <ttl-errors>{}</ttl-errors><interval-errors>{}</interval-errors></statistics></group>",
        c.master_transitions,
        c.adverts_sent,
        c.adverts_received,
        c.priority_zero_sent,
        c.priority_zero_received,
        e.checksum_errors,
        e.ttl_errors,
        c.interval_errors
    );
}

/// A notification's XML (the body of `<notification>` after `eventTime`).
pub fn notification_xml(n: &Notification) -> String {
    match n {
        Notification::BfdStateChange {
            session,
            old,
            new,
            diag,
        } => format!(
            "<session-state-change xmlns=\"urn:ne-agent:yang:ne-bfd\"><name>{}</name>\
             <old-state>{}</old-state><new-state>{}</new-state><diagnostic>{}</diagnostic>\
             </session-state-change>",
            esc(session),
            old.name(),
            new.name(),
            diag.name()
        ),
        Notification::VrrpStateChange {
            interface,
            vrid,
            old,
            new,
            reason,
        } => format!(
            "<state-change xmlns=\"urn:ne-agent:yang:ne-vrrp\"><interface>{}</interface>\
             <vrid>{vrid}</vrid><old-state>{}</old-state><new-state>{}</new-state>\
             <reason>{}</reason></state-change>",
            esc(interface),
            old.name(),
            new.name(),
            reason.name()
        ),
        Notification::MonitorStatus {
            group,
            failure_ratio,
        } => format!(
            "<status-change xmlns=\"urn:ne-agent:yang:ne-monitor-group\"><name>{}</name>\
             <failure-ratio>{failure_ratio}</failure-ratio></status-change>",
            esc(group)
        ),
    }
}
