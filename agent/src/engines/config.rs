//! What the engines need from the running configuration, read out of a validated data tree into
//! plain typed structs. Reconcile compares these structs object by object, so a commit touches
//! only the objects whose configuration changed.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use yang::data::{DataNode, DataTree};
use yang::Schema;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub interfaces: BTreeMap<String, Interface>,
    pub monitor_groups: BTreeMap<String, MonitorGroup>,
    pub bfd: BTreeMap<String, BfdSession>,
    /// Keyed by (interface, vrid).
    pub vrrp: BTreeMap<(String, u8), VrrpGroup>,
    pub multicast: Multicast,
}

/// `multicast` and the per-interface `igmp`, `pim` and `track-admin-vrrp`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Multicast {
    pub routing_enable: bool,
    pub rp: Option<Ipv4Addr>,
    /// Interfaces with IGMP enabled, PIM-SM, or a gate; keyed by name.
    pub interfaces: BTreeMap<String, McInterface>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McInterface {
    pub igmp: Option<Igmp>,
    pub pim: Option<Pim>,
    /// `track-admin-vrrp`: (interface, vrid) of the mVRRP group that gates forwarding.
    pub gate: Option<(String, u8)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Igmp {
    pub version: u8,
    pub query_interval_s: u16,
    pub max_response_s: u8,
    pub robustness: u8,
    pub last_member_interval_s: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pim {
    pub dr_priority: u32,
    pub hello_interval_s: u16,
    pub ignore_dr: bool,
    pub ignore_assert: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub enabled: bool,
    pub addrs: Vec<(Ipv4Addr, u8)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorGroup {
    pub enabled: bool,
    /// (interface, down-weight)
    pub bindings: Vec<(String, u16)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BfdSession {
    pub peer: Ipv4Addr,
    /// Present: single-hop on that interface; absent: multi-hop.
    pub interface: Option<String>,
    pub source: Option<Ipv4Addr>,
    pub local_disc: u32,
    pub remote_disc: Option<u32>,
    pub min_tx_ms: u32,
    pub min_rx_ms: u32,
    pub multiplier: u8,
    pub admin_down: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackMode {
    Increase,
    Reduce,
    /// Monitor groups only: Initialize and priority 0 while failed.
    Link,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackBfd {
    pub session: String,
    pub mode: TrackMode,
    pub change: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackMonitor {
    pub group: String,
    pub failure_ratio: u8,
    pub mode: TrackMode,
    pub change: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpGroup {
    pub virtual_ips: Vec<Ipv4Addr>,
    pub priority: u8,
    pub preempt: bool,
    pub preempt_delay_s: u16,
    pub advertise_interval_ms: u32,
    pub version: u8,
    pub exclude_pseudo_header: bool,
    /// `Some(ignore_if_down)` for an mVRRP (admin-vrrp) group.
    pub admin: Option<bool>,
    pub track_bfd: Vec<TrackBfd>,
    pub track_monitor: Vec<TrackMonitor>,
}

/// Children of `n` named `name` (names are unique among siblings in these models).
fn kids<'a>(
    schema: &'a Schema,
    n: &'a DataNode,
    name: &'a str,
) -> impl Iterator<Item = &'a DataNode> + 'a {
    n.children
        .iter()
        .filter(move |c| schema.node(c.schema).name == name)
        .map(|c| &**c)
}

fn kid<'a>(schema: &'a Schema, n: &'a DataNode, name: &'a str) -> Option<&'a DataNode> {
    kids(schema, n, name).next()
}

fn text<'a>(schema: &Schema, n: &'a DataNode, name: &str) -> Option<&'a str> {
    n.children
        .iter()
        .find(|c| schema.node(c.schema).name == name)
        .and_then(|c| c.value.as_deref())
}

fn parse<T: std::str::FromStr>(schema: &Schema, n: &DataNode, name: &str, default: T) -> T {
    text(schema, n, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn flag(schema: &Schema, n: &DataNode, name: &str, default: bool) -> bool {
    text(schema, n, name).map_or(default, |v| v == "true")
}

fn root<'a>(schema: &Schema, tree: &'a DataTree, name: &str) -> Option<&'a DataNode> {
    tree.roots
        .iter()
        .find(|r| schema.node(r.schema).name == name)
        .map(|r| &**r)
}

impl Config {
    pub fn from_tree(schema: &Schema, tree: &DataTree) -> Config {
        let mut c = Config::default();
        if let Some(ifs) = root(schema, tree, "interfaces") {
            for i in kids(schema, ifs, "interface") {
                let Some(name) = text(schema, i, "name") else {
                    continue;
                };
                let addrs = kid(schema, i, "ipv4")
                    .map(|v4| {
                        kids(schema, v4, "address")
                            .filter_map(|a| {
                                Some((
                                    text(schema, a, "ip")?.parse().ok()?,
                                    parse(schema, a, "prefix-length", 32),
                                ))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                c.interfaces.insert(
                    name.to_string(),
                    Interface {
                        enabled: flag(schema, i, "enabled", true),
                        addrs,
                    },
                );
                let mut mc = McInterface::default();
                if let Some(g) =
                    kid(schema, i, "igmp").filter(|g| flag(schema, g, "enabled", false))
                {
                    mc.igmp = Some(Igmp {
                        version: parse(schema, g, "version", 2),
                        query_interval_s: parse(schema, g, "query-interval", 60),
                        max_response_s: parse(schema, g, "max-response-time", 10),
                        robustness: parse(schema, g, "robustness", 2),
                        last_member_interval_s: parse(schema, g, "last-member-query-interval", 1),
                    });
                }
                if let Some(p) = kid(schema, i, "pim").filter(|p| flag(schema, p, "sm", false)) {
                    mc.pim = Some(Pim {
                        dr_priority: parse(schema, p, "dr-priority", 1),
                        hello_interval_s: parse(schema, p, "hello-interval", 30),
                        ignore_dr: flag(schema, p, "ignore-dr-state", false),
                        ignore_assert: flag(schema, p, "ignore-assert-state", false),
                    });
                }
                if let Some(t) = kid(schema, i, "track-admin-vrrp") {
                    if let Some(ifn) = text(schema, t, "interface") {
                        mc.gate = Some((ifn.to_string(), parse(schema, t, "vrid", 0)));
                    }
                }
                if mc != McInterface::default() {
                    c.multicast.interfaces.insert(name.to_string(), mc);
                }
                if let Some(v) = kid(schema, i, "vrrp") {
                    for g in kids(schema, v, "group") {
                        let vrid: u8 = parse(schema, g, "vrid", 0);
                        c.vrrp
                            .insert((name.to_string(), vrid), vrrp_group(schema, g));
                    }
                }
            }
        }
        if let Some(mgs) = root(schema, tree, "monitor-groups") {
            for g in kids(schema, mgs, "monitor-group") {
                let Some(name) = text(schema, g, "name") else {
                    continue;
                };
                let bindings = kids(schema, g, "binding-interface")
                    .filter_map(|b| {
                        Some((
                            text(schema, b, "name")?.to_string(),
                            parse(schema, b, "down-weight", 10),
                        ))
                    })
                    .collect();
                c.monitor_groups.insert(
                    name.to_string(),
                    MonitorGroup {
                        enabled: flag(schema, g, "enabled", false),
                        bindings,
                    },
                );
            }
        }
        if let Some(m) = root(schema, tree, "multicast") {
            c.multicast.routing_enable = flag(schema, m, "routing-enable", false);
            c.multicast.rp = text(schema, m, "rp-address").and_then(|a| a.parse().ok());
        }
        if let Some(bfd) = root(schema, tree, "bfd") {
            for s in kids(schema, bfd, "session") {
                let (Some(name), Some(peer)) = (
                    text(schema, s, "name"),
                    text(schema, s, "peer-ip").and_then(|p| p.parse().ok()),
                ) else {
                    continue;
                };
                c.bfd.insert(
                    name.to_string(),
                    BfdSession {
                        peer,
                        interface: text(schema, s, "interface").map(str::to_string),
                        source: text(schema, s, "source-ip").and_then(|p| p.parse().ok()),
                        local_disc: parse(schema, s, "local-discriminator", 0),
                        remote_disc: text(schema, s, "remote-discriminator")
                            .and_then(|d| d.parse().ok()),
                        min_tx_ms: parse(schema, s, "min-tx-interval", 10),
                        min_rx_ms: parse(schema, s, "min-rx-interval", 10),
                        multiplier: parse(schema, s, "detect-multiplier", 3),
                        admin_down: flag(schema, s, "admin-down", false),
                    },
                );
            }
        }
        c
    }
}

fn vrrp_group(schema: &Schema, g: &DataNode) -> VrrpGroup {
    let preempt = kid(schema, g, "preempt");
    let track = kid(schema, g, "track");
    let mode = |n: &DataNode| match text(schema, n, "mode") {
        Some("increase") => TrackMode::Increase,
        Some("link") => TrackMode::Link,
        _ => TrackMode::Reduce,
    };
    VrrpGroup {
        virtual_ips: kids(schema, g, "virtual-ip")
            .filter_map(|v| text(schema, v, "address")?.parse().ok())
            .collect(),
        priority: parse(schema, g, "priority", 100),
        preempt: preempt.is_none_or(|p| flag(schema, p, "enabled", true)),
        preempt_delay_s: preempt.map_or(0, |p| parse(schema, p, "delay", 0)),
        advertise_interval_ms: parse(schema, g, "advertise-interval", 1000),
        version: parse(schema, g, "version", 3),
        exclude_pseudo_header: text(schema, g, "checksum-mode") == Some("exclude-pseudo-header"),
        admin: kid(schema, g, "admin-vrrp").map(|a| flag(schema, a, "ignore-if-down", false)),
        track_bfd: track
            .map(|t| {
                kids(schema, t, "bfd-session")
                    .filter_map(|b| {
                        Some(TrackBfd {
                            session: text(schema, b, "session")?.to_string(),
                            mode: mode(b),
                            change: parse(schema, b, "priority-change", 10),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default(),
        track_monitor: track
            .map(|t| {
                kids(schema, t, "monitor-group")
                    .filter_map(|m| {
                        Some(TrackMonitor {
                            group: text(schema, m, "name")?.to_string(),
                            failure_ratio: parse(schema, m, "failure-ratio", 100),
                            mode: mode(m),
                            change: parse(schema, m, "priority-change", 10),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Does any change touch what the engines read?
pub fn relevant(changes: &[yang::diff::Change]) -> bool {
    const ROOTS: [&str; 4] = [
        "/if:interfaces",
        "/mg:monitor-groups",
        "/bfd:bfd",
        "/mc:multicast",
    ];
    changes
        .iter()
        .any(|c| ROOTS.iter().any(|r| c.path.starts_with(r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_configuration_reads_into_engine_config() {
        let schema = yang::SchemaBuilder::new().embedded().build().unwrap();
        let xml = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../yang/tests/fixtures/seed-a.xml"
        ))
        .unwrap();
        let el = yang::xml::parse(&xml).unwrap();
        let mut tree = DataTree::new();
        yang::data::apply_edit(&schema, &mut tree, &el.children, yang::data::EditOp::Merge)
            .unwrap();
        let c = Config::from_tree(&schema, &tree);
        assert_eq!(c.bfd["to-b"].local_disc, 10);
        assert_eq!(c.bfd["to-b"].remote_disc, Some(20));
        let g = &c.vrrp[&("a-ic".to_string(), 1)];
        assert_eq!(
            (g.priority, g.advertise_interval_ms, g.admin),
            (120, 100, Some(false))
        );
        assert_eq!(g.track_monitor[0].mode, TrackMode::Link);
        assert!(c.multicast.routing_enable);
        let dn = &c.multicast.interfaces["a-dn"];
        assert_eq!(dn.igmp.map(|i| i.query_interval_s), Some(60));
        assert!(dn.pim.is_some_and(|p| p.ignore_dr && p.ignore_assert));
        assert_eq!(dn.gate, Some(("a-ic".to_string(), 1)));
        assert!(c.multicast.interfaces["a-up"].pim.is_some());
    }
}
