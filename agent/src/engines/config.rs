//! What the engines need from the running configuration, read out of a validated data tree into
//! plain typed structs. Reconcile compares these structs object by object, so a commit touches
//! only the objects whose configuration changed.
//!
//! About 630 lines: the typed form of every module the engines read and the one walk from the
//! data tree to it; kept together so the models' shape is in one place.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use yang::data::{DataNode, DataTree};
use yang::Schema;

use super::pim::bsr::{BsrConfig, CandidateBsr, CandidateRp};
use super::pim::rp_set::GroupRange;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multicast {
    pub routing_enable: bool,
    pub rp: Option<Ipv4Addr>,
    /// `register-suppression-time` (seconds; 0 until configured reads as the default, 60).
    pub register_suppression_s: u16,
    /// `kernel-bypass`: a tc ingress filter on each forwarding interface keeps the kernel's
    /// own receive path off the data the forwarder takes from its rings.
    pub kernel_bypass: bool,
    /// Interfaces with IGMP enabled, PIM-SM, or a gate; keyed by name.
    pub interfaces: BTreeMap<String, McInterface>,
    /// `c-bsr` and `c-rp` (RFC 5059).
    pub bsr: BsrConfig,
}

/// The leaves directly under `multicast` that a delta carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McGlobal {
    pub routing_enable: bool,
    pub rp: Option<Ipv4Addr>,
    pub register_suppression_s: u16,
    pub kernel_bypass: bool,
}

impl Default for McGlobal {
    fn default() -> McGlobal {
        McGlobal {
            routing_enable: false,
            rp: None,
            register_suppression_s: 60,
            kernel_bypass: true,
        }
    }
}

impl McGlobal {
    /// The leaves of the `multicast` container `m` (None: absent, every leaf at its default).
    fn of(schema: &Schema, m: Option<&DataNode>) -> McGlobal {
        McGlobal {
            routing_enable: m.is_some_and(|m| flag(schema, m, "routing-enable", false)),
            rp: m
                .and_then(|m| text(schema, m, "rp-address"))
                .and_then(|a| a.parse().ok()),
            register_suppression_s: m
                .and_then(|m| text(schema, m, "register-suppression-time"))
                .and_then(|a| a.parse().ok())
                .unwrap_or(60),
            kernel_bypass: m.is_none_or(|m| flag(schema, m, "kernel-bypass", true)),
        }
    }
}

impl Multicast {
    fn set_global(&mut self, g: &McGlobal) {
        self.routing_enable = g.routing_enable;
        self.rp = g.rp;
        self.register_suppression_s = g.register_suppression_s;
        self.kernel_bypass = g.kernel_bypass;
    }
}

impl Default for Multicast {
    fn default() -> Multicast {
        Multicast {
            routing_enable: false,
            rp: None,
            register_suppression_s: 0,
            kernel_bypass: true,
            interfaces: BTreeMap::new(),
            bsr: BsrConfig::default(),
        }
    }
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
                if let Some((name, parts)) = interface_parts(schema, i) {
                    c.insert_interface(name, parts);
                }
            }
        }
        if let Some(mgs) = root(schema, tree, "monitor-groups") {
            for g in kids(schema, mgs, "monitor-group") {
                if let Some((name, mg)) = monitor_group(schema, g) {
                    c.monitor_groups.insert(name, mg);
                }
            }
        }
        if let Some(m) = root(schema, tree, "multicast") {
            c.multicast.set_global(&McGlobal::of(schema, Some(m)));
            c.multicast.bsr = bsr_config(schema, m);
        }
        if let Some(bfd) = root(schema, tree, "bfd") {
            for n in kids(schema, bfd, "session") {
                if let Some((name, b)) = bfd_session(schema, n) {
                    c.bfd.insert(name, b);
                }
            }
        }
        c
    }
}

/// Everything the engines read from one `interface` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceParts {
    pub interface: Interface,
    pub vrrp: BTreeMap<u8, VrrpGroup>,
    pub mc: Option<McInterface>,
}

impl Config {
    fn insert_interface(&mut self, name: String, p: InterfaceParts) {
        for (vrid, g) in p.vrrp {
            self.vrrp.insert((name.clone(), vrid), g);
        }
        if let Some(mc) = p.mc {
            self.multicast.interfaces.insert(name.clone(), mc);
        }
        self.interfaces.insert(name, p.interface);
    }

    fn remove_interface(&mut self, name: &str) {
        self.interfaces.remove(name);
        self.multicast.interfaces.remove(name);
        let keys: Vec<(String, u8)> = self
            .vrrp
            .range((name.to_string(), 0)..=(name.to_string(), 255))
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            self.vrrp.remove(&k);
        }
    }

    /// Apply `delta` in place; returns what it touched.
    pub fn apply_delta(&mut self, delta: &Delta) -> Touched {
        if let Some(full) = &delta.full {
            let t = Touched::between(self, full);
            *self = full.clone();
            return t;
        }
        let mut t = Touched::default();
        for (name, parts) in &delta.interfaces {
            self.remove_interface(name);
            if let Some(p) = parts {
                self.insert_interface(name.clone(), p.clone());
            }
            t.interfaces.insert(name.clone());
        }
        for (name, mg) in &delta.monitor_groups {
            match mg {
                Some(m) => self.monitor_groups.insert(name.clone(), m.clone()),
                None => self.monitor_groups.remove(name),
            };
        }
        for (name, b) in &delta.bfd {
            match b {
                Some(b) => self.bfd.insert(name.clone(), b.clone()),
                None => self.bfd.remove(name),
            };
            t.bfd.insert(name.clone());
        }
        if let Some(g) = &delta.multicast_global {
            self.multicast.set_global(g);
        }
        if let Some(b) = &delta.multicast_bsr {
            self.multicast.bsr = b.clone();
        }
        t
    }
}

/// A change of the engine configuration: either whole, or the objects a commit touched
/// (`None` = the object is gone). Built from the commit's change list, so its size follows the
/// change, not the datastore.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    pub full: Option<Config>,
    pub interfaces: BTreeMap<String, Option<InterfaceParts>>,
    pub monitor_groups: BTreeMap<String, Option<MonitorGroup>>,
    pub bfd: BTreeMap<String, Option<BfdSession>>,
    /// The leaves directly under `multicast`, when anything under it changed.
    pub multicast_global: Option<McGlobal>,
    /// `c-bsr` and `c-rp`, when anything under `multicast` changed.
    pub multicast_bsr: Option<BsrConfig>,
}

impl Delta {
    /// The BFD sessions after this delta is applied to `cfg`: the touched ones from it, the
    /// others as they are.
    pub fn bfd_after<'a>(
        &'a self,
        cfg: &'a Config,
    ) -> Box<dyn Iterator<Item = (&'a String, &'a BfdSession)> + 'a> {
        match &self.full {
            Some(f) => Box::new(f.bfd.iter()),
            None => Box::new(
                cfg.bfd
                    .iter()
                    .filter(|(n, _)| !self.bfd.contains_key(*n))
                    .chain(
                        self.bfd
                            .iter()
                            .filter_map(|(n, b)| b.as_ref().map(|b| (n, b))),
                    ),
            ),
        }
    }

    /// The interfaces this delta touches with their new configuration (None: removed); a
    /// full reload lists every configured interface.
    pub fn interfaces_after(&self) -> Vec<(String, Option<InterfaceParts>)> {
        let Some(f) = &self.full else {
            return self
                .interfaces
                .iter()
                .map(|(n, i)| (n.clone(), i.clone()))
                .collect();
        };
        f.interfaces
            .iter()
            .map(|(name, i)| {
                let parts = InterfaceParts {
                    interface: i.clone(),
                    vrrp: f
                        .vrrp
                        .range((name.clone(), 0)..=(name.clone(), 255))
                        .map(|((_, v), g)| (*v, g.clone()))
                        .collect(),
                    mc: f.multicast.interfaces.get(name).cloned(),
                };
                (name.clone(), Some(parts))
            })
            .collect()
    }

    /// The BFD sessions this delta touches with their new configuration (None: removed).
    pub fn sessions_after(&self) -> Vec<(String, Option<BfdSession>)> {
        match &self.full {
            Some(f) => f
                .bfd
                .iter()
                .map(|(n, b)| (n.clone(), Some(b.clone())))
                .collect(),
            None => self
                .bfd
                .iter()
                .map(|(n, b)| (n.clone(), b.clone()))
                .collect(),
        }
    }
}

/// The interfaces and BFD sessions a delta touched (the objects reconcile must look at).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touched {
    pub interfaces: std::collections::BTreeSet<String>,
    pub bfd: std::collections::BTreeSet<String>,
}

impl Touched {
    /// What applying `delta` to `cfg` touches.
    pub fn of(cfg: &Config, delta: &Delta) -> Touched {
        match &delta.full {
            Some(f) => Touched::between(cfg, f),
            None => Touched {
                interfaces: delta.interfaces.keys().cloned().collect(),
                bfd: delta.bfd.keys().cloned().collect(),
            },
        }
    }

    fn between(old: &Config, new: &Config) -> Touched {
        let mut t = Touched::default();
        for k in old.interfaces.keys().chain(new.interfaces.keys()) {
            t.interfaces.insert(k.clone());
        }
        for (k, _) in old.vrrp.keys().chain(new.vrrp.keys()) {
            t.interfaces.insert(k.clone());
        }
        for k in old
            .multicast
            .interfaces
            .keys()
            .chain(new.multicast.interfaces.keys())
        {
            t.interfaces.insert(k.clone());
        }
        for k in old.bfd.keys().chain(new.bfd.keys()) {
            t.bfd.insert(k.clone());
        }
        t
    }
}

impl Delta {
    pub fn full(c: Config) -> Delta {
        Delta {
            full: Some(c),
            ..Delta::default()
        }
    }

    /// The delta of a commit, from its change list and the new tree.
    pub fn from_changes(schema: &Schema, new: &DataTree, changes: &[yang::diff::Change]) -> Delta {
        let mut d = Delta::default();
        for c in changes {
            let p = c.path.as_str();
            let key = |list: &str| -> Option<String> {
                let rest = p.strip_prefix(list)?;
                let q = rest.chars().next()?;
                let rest = &rest[q.len_utf8()..];
                Some(rest[..rest.find(q)?].to_string())
            };
            if let Some(name) = key("/if:interfaces/if:interface[if:name=") {
                d.interfaces.entry(name).or_insert(None);
            } else if let Some(name) = key("/mg:monitor-groups/mg:monitor-group[mg:name=") {
                d.monitor_groups.entry(name).or_insert(None);
            } else if let Some(name) = key("/bfd:bfd/bfd:session[bfd:name=") {
                d.bfd.entry(name).or_insert(None);
            } else if p.starts_with("/mc:multicast") {
                d.multicast_global = Some(McGlobal::default());
                d.multicast_bsr = Some(BsrConfig::default());
            } else if p == "/if:interfaces" || p == "/mg:monitor-groups" || p == "/bfd:bfd" {
                return Delta::full(Config::from_tree(schema, new));
            }
        }
        let q = |v: &str| {
            if v.contains('\'') {
                format!("\"{v}\"")
            } else {
                format!("'{v}'")
            }
        };
        for (name, slot) in d.interfaces.iter_mut() {
            let path = format!("/if:interfaces/if:interface[if:name={}]", q(name));
            *slot = new
                .find(schema, &path)
                .and_then(|n| interface_parts(schema, n))
                .map(|(_, p)| p);
        }
        for (name, slot) in d.monitor_groups.iter_mut() {
            let path = format!("/mg:monitor-groups/mg:monitor-group[mg:name={}]", q(name));
            *slot = new
                .find(schema, &path)
                .and_then(|n| monitor_group(schema, n))
                .map(|(_, m)| m);
        }
        for (name, slot) in d.bfd.iter_mut() {
            let path = format!("/bfd:bfd/bfd:session[bfd:name={}]", q(name));
            *slot = new
                .find(schema, &path)
                .and_then(|n| bfd_session(schema, n))
                .map(|(_, b)| b);
        }
        if d.multicast_global.is_some() {
            let m = root(schema, new, "multicast");
            d.multicast_global = Some(McGlobal::of(schema, m));
            d.multicast_bsr = Some(m.map(|m| bsr_config(schema, m)).unwrap_or_default());
        }
        d
    }
}

/// `c-bsr` and `c-rp` of the `multicast` container (defaults as the model gives them).
fn bsr_config(schema: &Schema, m: &DataNode) -> BsrConfig {
    let candidate_bsr = kid(schema, m, "c-bsr").and_then(|c| {
        Some(CandidateBsr {
            address: text(schema, c, "address")?.parse().ok()?,
            priority: parse(schema, c, "priority", 0),
            hash_mask_len: parse(schema, c, "hash-length", 30),
        })
    });
    let candidate_rp = kid(schema, m, "c-rp").and_then(|c| {
        let groups = c
            .children
            .iter()
            .filter(|g| schema.node(g.schema).name == "group-range")
            .filter_map(|g| {
                let (prefix, len) = g.value.as_deref()?.split_once('/')?;
                Some(GroupRange::new(prefix.parse().ok()?, len.parse().ok()?))
            })
            .collect();
        Some(CandidateRp {
            address: text(schema, c, "address")?.parse().ok()?,
            priority: parse(schema, c, "priority", 192),
            groups,
            holdtime: parse(schema, c, "holdtime", 150),
            interval: std::time::Duration::from_secs(parse(
                schema,
                c,
                "advertisement-interval",
                60u64,
            )),
        })
    });
    BsrConfig {
        candidate_bsr,
        candidate_rp,
    }
}

fn interface_parts(schema: &Schema, i: &DataNode) -> Option<(String, InterfaceParts)> {
    let name = text(schema, i, "name")?;
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
    let mut mc = McInterface::default();
    if let Some(g) = kid(schema, i, "igmp").filter(|g| flag(schema, g, "enabled", false)) {
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
    let vrrp = kid(schema, i, "vrrp")
        .map(|v| {
            kids(schema, v, "group")
                .map(|g| (parse(schema, g, "vrid", 0), vrrp_group(schema, g)))
                .collect()
        })
        .unwrap_or_default();
    Some((
        name.to_string(),
        InterfaceParts {
            interface: Interface {
                enabled: flag(schema, i, "enabled", true),
                addrs,
            },
            vrrp,
            mc: (mc != McInterface::default()).then_some(mc),
        },
    ))
}

/// Every configured interface with its VRRP groups and multicast parts, from a whole tree.
pub fn interfaces_of(schema: &Schema, tree: &DataTree) -> Vec<(String, InterfaceParts)> {
    root(schema, tree, "interfaces")
        .map(|ifs| {
            kids(schema, ifs, "interface")
                .filter_map(|i| interface_parts(schema, i))
                .collect()
        })
        .unwrap_or_default()
}

/// One monitor group of a whole tree, by name.
pub fn monitor_group_of(schema: &Schema, tree: &DataTree, name: &str) -> Option<MonitorGroup> {
    kids(
        schema,
        root(schema, tree, "monitor-groups")?,
        "monitor-group",
    )
    .find(|g| text(schema, g, "name") == Some(name))
    .and_then(|g| monitor_group(schema, g))
    .map(|(_, g)| g)
}

fn monitor_group(schema: &Schema, g: &DataNode) -> Option<(String, MonitorGroup)> {
    let name = text(schema, g, "name")?;
    let bindings = kids(schema, g, "binding-interface")
        .filter_map(|b| {
            Some((
                text(schema, b, "name")?.to_string(),
                parse(schema, b, "down-weight", 10),
            ))
        })
        .collect();
    Some((
        name.to_string(),
        MonitorGroup {
            enabled: flag(schema, g, "enabled", false),
            bindings,
        },
    ))
}

fn bfd_session(schema: &Schema, s: &DataNode) -> Option<(String, BfdSession)> {
    let name = text(schema, s, "name")?;
    let peer = text(schema, s, "peer-ip")?.parse().ok()?;
    Some((
        name.to_string(),
        BfdSession {
            peer,
            interface: text(schema, s, "interface").map(str::to_string),
            source: text(schema, s, "source-ip").and_then(|p| p.parse().ok()),
            local_disc: parse(schema, s, "local-discriminator", 0),
            remote_disc: text(schema, s, "remote-discriminator").and_then(|d| d.parse().ok()),
            min_tx_ms: parse(schema, s, "min-tx-interval", 10),
            min_rx_ms: parse(schema, s, "min-rx-interval", 10),
            multiplier: parse(schema, s, "detect-multiplier", 3),
            admin_down: flag(schema, s, "admin-down", false),
        },
    ))
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

    /// The embedded models and device A's seed configuration as a data tree.
    fn seed_tree() -> (Schema, DataTree) {
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
        (schema, tree)
    }

    #[test]
    fn the_seed_configuration_reads_into_engine_config() {
        let (schema, tree) = seed_tree();
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
        assert!(c.multicast.kernel_bypass, "on by default");
        let dn = &c.multicast.interfaces["a-dn"];
        assert_eq!(dn.igmp.map(|i| i.query_interval_s), Some(60));
        assert!(dn.pim.is_some_and(|p| p.ignore_dr && p.ignore_assert));
        assert_eq!(dn.gate, Some(("a-ic".to_string(), 1)));
        assert!(c.multicast.interfaces["a-up"].pim.is_some());
    }

    /// A commit's delta names only what it touched, and applying it gives the same engine
    /// configuration as reading the whole new tree.
    #[test]
    fn deltas_follow_the_change_and_agree_with_a_full_read() {
        let (schema, mut old) = seed_tree();
        let edits = [
            r#"<interfaces xmlns="urn:ne-agent:yang:ne-interfaces"><interface><name>a-ic</name><vrrp xmlns="urn:ne-agent:yang:ne-vrrp"><group><vrid>1</vrid><priority>110</priority></group></vrrp></interface></interfaces>"#,
            r#"<bfd xmlns="urn:ne-agent:yang:ne-bfd"><session><name>x'y</name><peer-ip>10.0.0.3</peer-ip><local-discriminator>99</local-discriminator></session></bfd>"#,
            r#"<interfaces xmlns="urn:ne-agent:yang:ne-interfaces" xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><interface nc:operation="delete"><name>a-dn</name></interface></interfaces>"#,
            r#"<multicast xmlns="urn:ne-agent:yang:ne-multicast"><rp-address>10.1.0.3</rp-address></multicast>"#,
            r#"<multicast xmlns="urn:ne-agent:yang:ne-multicast"><kernel-bypass>false</kernel-bypass></multicast>"#,
        ];
        let mut cfg = Config::from_tree(&schema, &old);
        for e in edits {
            let mut new = old.clone();
            let el = yang::xml::parse(&format!("<config>{e}</config>")).unwrap();
            yang::data::apply_edit(&schema, &mut new, &el.children, yang::data::EditOp::Merge)
                .unwrap();
            let changes = yang::diff::diff(&schema, &old, &new);
            let d = Delta::from_changes(&schema, &new, &changes);
            assert!(d.full.is_none(), "{e}");
            assert!(d.interfaces.len() + d.bfd.len() <= 1, "{d:?}");
            cfg.apply_delta(&d);
            assert_eq!(cfg, Config::from_tree(&schema, &new), "{e}");
            old = new;
        }
        assert_eq!(cfg.vrrp[&("a-ic".to_string(), 1)].priority, 110);
        assert!(cfg.bfd.contains_key("x'y"));
        assert!(!cfg.multicast.interfaces.contains_key("a-dn"));
        assert_eq!(cfg.multicast.rp, Some("10.1.0.3".parse().unwrap()));
        assert!(!cfg.multicast.kernel_bypass);
    }
}
