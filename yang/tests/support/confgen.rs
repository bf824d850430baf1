//! A generator of random valid configurations of the embedded models (interfaces with IPv4
//! addresses, VRRP groups and tracking, BFD sessions, monitoring groups, multicast), written as
//! XML in any sibling order and namespace style: shared by the XML and JSON codec properties.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::sample::Index;

pub const IF: &str = "urn:ne-agent:yang:ne-interfaces";
pub const VRRP: &str = "urn:ne-agent:yang:ne-vrrp";
pub const BFD: &str = "urn:ne-agent:yang:ne-bfd";
pub const MG: &str = "urn:ne-agent:yang:ne-monitor-group";
pub const MC: &str = "urn:ne-agent:yang:ne-multicast";

// ---------------------------------------------------------------------------------------------
// Generated configuration
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Conf {
    pub ifaces: BTreeMap<String, Iface>,
    pub sessions: BTreeMap<String, Session>,
    /// Local discriminators are `(seed + i * 7919) % 16384 + 1`: distinct for every session.
    pub disc_seed: u16,
    pub groups: BTreeMap<String, MonitorGroup>,
    /// None: no `<multicast>`; Some(None): an empty one; Some(Some(b)): routing-enable b.
    pub multicast: Option<Option<bool>>,
}

#[derive(Debug, Clone)]
pub struct Iface {
    pub description: Option<String>,
    pub enabled: Option<bool>,
    /// None: no `<ipv4>`; Some(empty): an explicit empty container.
    ipv4: Option<BTreeMap<u32, u8>>,
    pub vrrp: Option<BTreeMap<u8, Group>>,
    pub igmp: Option<Igmp>,
    pub pim: Option<Pim>,
    /// Binds to some admin-vrrp group, if any exists and routing is enabled.
    pub track_admin: Option<Index>,
    /// State: oper-status index and an in-packets counter.
    pub oper: (u8, Option<u64>),
}

#[derive(Debug, Clone)]
pub struct Group {
    pub vips: BTreeSet<u32>,
    pub priority: Option<u8>,
    pub preempt: Option<(Option<bool>, Option<u16>)>,
    pub advertise: Option<u32>,
    pub version: Option<u8>,
    pub exclude_pseudo_header: Option<bool>,
    /// Some: admin-vrrp present, with ignore-if-down maybe.
    pub admin: Option<Option<bool>>,
    pub track: Option<Track>,
}

#[derive(Debug, Clone)]
pub struct Track {
    /// (session, increase?, priority-change)
    pub bfd: Vec<(Index, Option<bool>, Option<u8>)>,
    /// (group, failure-ratio, link?, priority-change)
    pub mg: Vec<(Index, u8, Option<bool>, Option<u8>)>,
}

#[derive(Debug, Clone)]
pub struct Igmp {
    pub enabled: Option<bool>,
    pub version: Option<u8>,
    pub query_interval: Option<u16>,
    pub max_response: Option<u8>,
    pub robustness: Option<u8>,
    pub last_member: Option<u8>,
}

#[derive(Debug, Clone)]
pub struct Pim {
    pub sm: Option<bool>,
    pub dr_priority: Option<u32>,
    pub hello: Option<u16>,
    pub ignore_dr: Option<bool>,
    pub ignore_assert: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub peer: u32,
    pub interface: Option<Index>,
    pub source: Option<u32>,
    pub remote: Option<u32>,
    pub min_tx: Option<u32>,
    pub min_rx: Option<u32>,
    pub multiplier: Option<u8>,
    pub admin_down: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct MonitorGroup {
    pub enabled: Option<bool>,
    pub bindings: Vec<(Index, Option<u16>)>,
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// ne-types:interface-name: 1..15 characters, no '/', ':', white space or control characters,
/// not "." or "..". Includes characters that need escaping and all-digit names (sorted
/// numerically among themselves).
pub fn interface_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9]{0,5}(\\.[0-9]{1,4})?",
        "[0-9]{1,4}",
        "[a-zA-Z0-9_.&<>'\"+\u{e9}\u{4e2d}-]{1,15}",
    ]
    .prop_filter("'.' and '..' are not interface names", |s| {
        s != "." && s != ".."
    })
}

/// A free string of `lo..=hi` characters, spaces included (and kept: strings are not trimmed).
pub fn text(lo: usize, hi: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[ a-zA-Z0-9_&<>'\"\u{e9}.-]{{{lo},{hi}}}"))
        .expect("valid regex")
}

pub fn ipv4() -> impl Strategy<Value = u32> {
    any::<u32>()
}

pub fn group() -> impl Strategy<Value = Group> {
    let track = (
        prop::collection::vec(
            (
                any::<Index>(),
                prop::option::of(any::<bool>()),
                prop::option::of(1u8..=254),
            ),
            0..3,
        ),
        prop::collection::vec(
            (
                any::<Index>(),
                1u8..=100,
                prop::option::of(any::<bool>()),
                prop::option::of(1u8..=254),
            ),
            0..5,
        ),
    )
        .prop_map(|(bfd, mg)| Track { bfd, mg });
    (
        prop::collection::btree_set(ipv4(), 0..3),
        prop::option::of(1u8..=254),
        prop::option::of((
            prop::option::of(any::<bool>()),
            prop::option::of(0u16..=3600),
        )),
        prop::option::of((1u32..=4095).prop_map(|n| n * 10)),
        prop::option::of(2u8..=3),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::option::of(any::<bool>())),
        prop::option::of(track),
    )
        .prop_map(
            |(vips, priority, preempt, advertise, version, exclude, admin, track)| Group {
                vips,
                priority,
                preempt,
                advertise,
                version,
                exclude_pseudo_header: exclude,
                admin,
                track,
            },
        )
}

pub fn iface() -> impl Strategy<Value = Iface> {
    let igmp = (
        prop::option::of(any::<bool>()),
        prop::option::of(2u8..=3),
        prop::option::of(1u16..=18000),
        prop::option::of(1u8..=25),
        prop::option::of(2u8..=7),
        prop::option::of(1u8..=25),
    )
        .prop_map(|(enabled, version, q, mr, rb, lm)| Igmp {
            enabled,
            version,
            query_interval: q,
            max_response: mr,
            robustness: rb,
            last_member: lm,
        });
    let pim = (
        prop::option::of(any::<bool>()),
        prop::option::of(any::<u32>()),
        prop::option::of(1u16..=18000),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(sm, dr, hello, idr, ias)| Pim {
            sm,
            dr_priority: dr,
            hello,
            ignore_dr: idr,
            ignore_assert: ias,
        });
    (
        prop::option::of(text(0, 12)),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::collection::btree_map(ipv4(), 0u8..=32, 0..3)),
        prop::option::of(prop::collection::btree_map(1u8..=255, group(), 0..3)),
        prop::option::of(igmp),
        prop::option::of(pim),
        prop::option::of(any::<Index>()),
        (0u8..3, prop::option::of(any::<u64>())),
    )
        .prop_map(
            |(description, enabled, ipv4, vrrp, igmp, pim, track_admin, oper)| Iface {
                description,
                enabled,
                ipv4,
                vrrp,
                igmp,
                pim,
                track_admin,
                oper,
            },
        )
}

pub fn session() -> impl Strategy<Value = Session> {
    (
        ipv4(),
        prop::option::of(any::<Index>()),
        prop::option::of(ipv4()),
        prop::option::of(1u32..=u32::MAX),
        prop::option::of(3u32..=20000),
        prop::option::of(3u32..=20000),
        prop::option::of(3u8..=50),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            |(peer, interface, source, remote, min_tx, min_rx, multiplier, admin_down)| Session {
                peer,
                interface,
                source,
                remote,
                min_tx,
                min_rx,
                multiplier,
                admin_down,
            },
        )
}

pub fn monitor_group() -> impl Strategy<Value = MonitorGroup> {
    (
        prop::option::of(any::<bool>()),
        prop::collection::vec((any::<Index>(), prop::option::of(1u16..=1000)), 0..4),
    )
        .prop_map(|(enabled, bindings)| MonitorGroup { enabled, bindings })
}

pub fn config() -> impl Strategy<Value = Conf> {
    (
        prop::collection::btree_map(interface_name(), iface(), 0..5),
        prop::collection::btree_map(text(1, 15), session(), 0..4),
        any::<u16>(),
        prop::collection::btree_map(text(1, 31), monitor_group(), 0..3),
        prop::option::of(prop::option::of(any::<bool>())),
    )
        .prop_map(|(ifaces, sessions, disc_seed, groups, multicast)| Conf {
            ifaces,
            sessions,
            disc_seed,
            groups,
            multicast,
        })
}

// ---------------------------------------------------------------------------------------------
// Rendering as XML
// ---------------------------------------------------------------------------------------------

/// An element to be written: its namespace, text and children; the first `keys` children are the
/// list keys, which stay first when siblings are shuffled.
#[derive(Debug, Clone)]
pub struct El {
    pub ns: &'static str,
    pub name: &'static str,
    pub text: Option<String>,
    pub children: Vec<El>,
    pub keys: usize,
}

pub fn el(ns: &'static str, name: &'static str, children: Vec<El>) -> El {
    El {
        ns,
        name,
        text: None,
        children,
        keys: 0,
    }
}

pub fn entry(ns: &'static str, name: &'static str, keys: usize, children: Vec<El>) -> El {
    El {
        ns,
        name,
        text: None,
        children,
        keys,
    }
}

pub fn leaf(ns: &'static str, name: &'static str, value: impl ToString) -> El {
    El {
        ns,
        name,
        text: Some(value.to_string()),
        children: Vec::new(),
        keys: 0,
    }
}

pub fn opt_leaf<T: ToString>(
    out: &mut Vec<El>,
    ns: &'static str,
    name: &'static str,
    v: &Option<T>,
) {
    if let Some(v) = v {
        out.push(leaf(ns, name, v.to_string()));
    }
}

pub fn ip(v: u32) -> String {
    std::net::Ipv4Addr::from(v).to_string()
}

pub fn pick<'a>(names: &'a [&'a String], i: &Index) -> Option<&'a String> {
    (!names.is_empty()).then(|| names[i.index(names.len())])
}

/// The configuration as top-level elements, valid by construction; `state` adds config false
/// nodes.
pub fn render(c: &Conf, state: bool) -> Vec<El> {
    let if_names: Vec<&String> = c.ifaces.keys().collect();
    let session_names: Vec<&String> = c.sessions.keys().collect();
    let group_names: Vec<&String> = c.groups.keys().collect();
    let routing = c.multicast == Some(Some(true));
    // (interface, vrid) of every admin-vrrp group.
    let admin_groups: Vec<(&String, u8)> = c
        .ifaces
        .iter()
        .flat_map(|(n, i)| {
            i.vrrp
                .iter()
                .flatten()
                .filter(|(_, g)| g.admin.is_some())
                .map(move |(v, _)| (n, *v))
        })
        .collect();

    let mut top = Vec::new();
    let mut interfaces = Vec::new();
    for (name, i) in &c.ifaces {
        let mut ch = vec![leaf(IF, "name", name)];
        opt_leaf(&mut ch, IF, "description", &i.description);
        opt_leaf(&mut ch, IF, "enabled", &i.enabled);
        if let Some(addrs) = &i.ipv4 {
            let list = addrs
                .iter()
                .map(|(&a, &len)| {
                    entry(
                        IF,
                        "address",
                        1,
                        vec![leaf(IF, "ip", ip(a)), leaf(IF, "prefix-length", len)],
                    )
                })
                .collect();
            ch.push(el(IF, "ipv4", list));
        }
        if state {
            let status = ["up", "down", "not-present"][i.oper.0 as usize];
            ch.push(leaf(IF, "oper-status", status));
            if let Some(n) = i.oper.1 {
                ch.push(el(IF, "statistics", vec![leaf(IF, "in-packets", n)]));
            }
        }
        if let Some(groups) = &i.vrrp {
            let list = groups
                .iter()
                .map(|(&vrid, g)| render_group(vrid, g, &session_names, &group_names, state))
                .collect();
            ch.push(el(VRRP, "vrrp", list));
        }
        if let Some(g) = &i.igmp {
            let mut v = Vec::new();
            // enabled true requires routing-enable.
            let enabled = g.enabled.map(|e| e && routing);
            opt_leaf(&mut v, MC, "enabled", &enabled);
            opt_leaf(&mut v, MC, "version", &g.version);
            opt_leaf(&mut v, MC, "query-interval", &g.query_interval);
            opt_leaf(&mut v, MC, "max-response-time", &g.max_response);
            opt_leaf(&mut v, MC, "robustness", &g.robustness);
            opt_leaf(&mut v, MC, "last-member-query-interval", &g.last_member);
            ch.push(el(MC, "igmp", v));
        }
        if let Some(p) = &i.pim {
            let mut v = Vec::new();
            let sm = p.sm.map(|s| s && routing);
            opt_leaf(&mut v, MC, "sm", &sm);
            opt_leaf(&mut v, MC, "dr-priority", &p.dr_priority);
            opt_leaf(&mut v, MC, "hello-interval", &p.hello);
            opt_leaf(&mut v, MC, "ignore-dr-state", &p.ignore_dr);
            opt_leaf(&mut v, MC, "ignore-assert-state", &p.ignore_assert);
            ch.push(el(MC, "pim", v));
        }
        if let (Some(t), true, false) = (&i.track_admin, routing, admin_groups.is_empty()) {
            let (ifn, vrid) = admin_groups[t.index(admin_groups.len())];
            ch.push(el(
                MC,
                "track-admin-vrrp",
                vec![leaf(MC, "interface", ifn), leaf(MC, "vrid", vrid)],
            ));
        }
        interfaces.push(entry(IF, "interface", 1, ch));
    }
    if !c.ifaces.is_empty() {
        top.push(el(IF, "interfaces", interfaces));
    }

    if !c.groups.is_empty() {
        let list = c
            .groups
            .iter()
            .map(|(name, g)| {
                let mut ch = vec![leaf(MG, "name", name)];
                opt_leaf(&mut ch, MG, "enabled", &g.enabled);
                let mut bound = BTreeSet::new();
                for (i, weight) in &g.bindings {
                    let Some(ifn) = pick(&if_names, i) else {
                        continue;
                    };
                    if bound.insert(ifn) {
                        let mut b = vec![leaf(MG, "name", ifn)];
                        opt_leaf(&mut b, MG, "down-weight", weight);
                        ch.push(entry(MG, "binding-interface", 1, b));
                    }
                }
                entry(MG, "monitor-group", 1, ch)
            })
            .collect();
        top.push(el(MG, "monitor-groups", list));
    }

    if !c.sessions.is_empty() {
        let list = c
            .sessions
            .iter()
            .enumerate()
            .map(|(n, (name, s))| {
                let disc = (c.disc_seed as u32 + n as u32 * 7919) % 16384 + 1;
                let mut ch = vec![leaf(BFD, "name", name), leaf(BFD, "peer-ip", ip(s.peer))];
                if let Some(ifn) = s.interface.as_ref().and_then(|i| pick(&if_names, i)) {
                    ch.push(leaf(BFD, "interface", ifn));
                }
                opt_leaf(&mut ch, BFD, "source-ip", &s.source.map(ip));
                ch.push(leaf(BFD, "local-discriminator", disc));
                opt_leaf(&mut ch, BFD, "remote-discriminator", &s.remote);
                opt_leaf(&mut ch, BFD, "min-tx-interval", &s.min_tx);
                opt_leaf(&mut ch, BFD, "min-rx-interval", &s.min_rx);
                opt_leaf(&mut ch, BFD, "detect-multiplier", &s.multiplier);
                opt_leaf(&mut ch, BFD, "admin-down", &s.admin_down);
                if state {
                    ch.push(leaf(BFD, "state", "up"));
                }
                entry(BFD, "session", 1, ch)
            })
            .collect();
        top.push(el(BFD, "bfd", list));
    }

    if let Some(re) = c.multicast {
        let mut ch = Vec::new();
        opt_leaf(&mut ch, MC, "routing-enable", &re);
        top.push(el(MC, "multicast", ch));
    }
    top
}

pub fn render_group(
    vrid: u8,
    g: &Group,
    session_names: &[&String],
    group_names: &[&String],
    state: bool,
) -> El {
    let mut ch = vec![leaf(VRRP, "vrid", vrid)];
    for &a in &g.vips {
        ch.push(entry(
            VRRP,
            "virtual-ip",
            1,
            vec![leaf(VRRP, "address", ip(a))],
        ));
    }
    opt_leaf(&mut ch, VRRP, "priority", &g.priority);
    if let Some((enabled, delay)) = &g.preempt {
        let mut p = Vec::new();
        opt_leaf(&mut p, VRRP, "enabled", enabled);
        opt_leaf(&mut p, VRRP, "delay", delay);
        ch.push(el(VRRP, "preempt", p));
    }
    opt_leaf(&mut ch, VRRP, "advertise-interval", &g.advertise);
    opt_leaf(&mut ch, VRRP, "version", &g.version);
    let mode = g.exclude_pseudo_header.map(|x| {
        if x {
            "exclude-pseudo-header"
        } else {
            "include-pseudo-header"
        }
    });
    opt_leaf(&mut ch, VRRP, "checksum-mode", &mode);
    if let Some(ignore) = &g.admin {
        let mut a = Vec::new();
        opt_leaf(&mut a, VRRP, "ignore-if-down", ignore);
        ch.push(el(VRRP, "admin-vrrp", a));
    }
    if let Some(t) = &g.track {
        let mut tr = Vec::new();
        // Track entries need admin-vrrp; without it the container stays empty.
        if g.admin.is_some() {
            let mut seen = BTreeSet::new();
            for (i, increase, change) in &t.bfd {
                let Some(name) = pick(session_names, i) else {
                    continue;
                };
                if seen.insert(name) {
                    let mut e = vec![leaf(VRRP, "session", name)];
                    let mode = increase.map(|x| if x { "increase" } else { "reduce" });
                    opt_leaf(&mut e, VRRP, "mode", &mode);
                    opt_leaf(&mut e, VRRP, "priority-change", change);
                    tr.push(entry(VRRP, "bfd-session", 1, e));
                }
            }
            let mut seen = BTreeSet::new();
            let mut link_used = false;
            for (i, ratio, link, change) in &t.mg {
                let Some(name) = pick(group_names, i) else {
                    continue;
                };
                if seen.len() == 3 || !seen.insert(name) {
                    continue;
                }
                // At most one tracked group in link mode.
                let link = link.map(|l| {
                    let l = l && !link_used;
                    link_used |= l;
                    l
                });
                let mut e = vec![leaf(VRRP, "name", name), leaf(VRRP, "failure-ratio", ratio)];
                let mode = link.map(|x| if x { "link" } else { "reduce" });
                opt_leaf(&mut e, VRRP, "mode", &mode);
                opt_leaf(&mut e, VRRP, "priority-change", change);
                tr.push(entry(VRRP, "monitor-group", 1, e));
            }
        }
        ch.push(el(VRRP, "track", tr));
    }
    if state {
        ch.push(leaf(VRRP, "state", "backup"));
    }
    entry(VRRP, "group", 1, ch)
}

/// A small deterministic generator for the shuffles and prefix choices.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Write elements as XML. Without an rng: siblings in the given order, each namespace declared
/// as the default namespace where it changes. With one: siblings (other than list keys)
/// shuffled, and each element's namespace given at random as the inherited default, a new
/// default, a fresh prefix, or a prefix already in scope.
pub fn write(els: &[El], rng: &mut Option<Rng>) -> String {
    let mut out = String::new();
    let mut scope: Vec<(String, &'static str)> = Vec::new();
    let mut counter = 0;
    let mut order: Vec<usize> = (0..els.len()).collect();
    if let Some(r) = rng.as_mut() {
        shuffle(&mut order, 0, r);
    }
    for i in order {
        write_el(&els[i], "", &mut scope, rng, &mut counter, &mut out);
    }
    out
}

pub fn shuffle(v: &mut [usize], fixed: usize, r: &mut Rng) {
    for i in (fixed + 1..v.len()).rev() {
        let j = fixed + r.below(i - fixed + 1);
        v.swap(i, j);
    }
}

pub fn write_el(
    e: &El,
    default_ns: &str,
    scope: &mut Vec<(String, &'static str)>,
    rng: &mut Option<Rng>,
    counter: &mut usize,
    out: &mut String,
) {
    let style = rng.as_mut().map_or(0, |r| r.below(4));
    let mut decls = String::new();
    let mut new_default = default_ns.to_string();
    let scope_len = scope.len();
    let qname = match style {
        // Inherited or newly declared default namespace.
        0 | 1 => {
            if default_ns != e.ns || style == 1 {
                decls.push_str(&format!(" xmlns=\"{}\"", e.ns));
                new_default = e.ns.to_string();
            }
            e.name.to_string()
        }
        // A prefix in scope for this namespace (the innermost binding of that prefix), else new.
        _ => {
            let existing = (style == 3)
                .then(|| {
                    scope
                        .iter()
                        .rev()
                        .find(|(p, ns)| {
                            *ns == e.ns
                                && scope.iter().rev().find(|(q, _)| q == p).map(|(_, n)| *n)
                                    == Some(e.ns)
                        })
                        .map(|(p, _)| p.clone())
                })
                .flatten();
            let prefix = match existing {
                Some(p) => p,
                None => {
                    // Reuse a small set of prefix names so that rebinding happens.
                    *counter += 1;
                    let p = format!("p{}", *counter % 3);
                    decls.push_str(&format!(" xmlns:{p}=\"{}\"", e.ns));
                    scope.push((p.clone(), e.ns));
                    p
                }
            };
            format!("{prefix}:{}", e.name)
        }
    };
    out.push('<');
    out.push_str(&qname);
    out.push_str(&decls);
    if e.text.is_none() && e.children.is_empty() {
        out.push_str("/>");
    } else {
        out.push('>');
        if let Some(t) = &e.text {
            yang::xml::escape_text_into(t, out);
        }
        let mut order: Vec<usize> = (0..e.children.len()).collect();
        if let Some(r) = rng.as_mut() {
            shuffle(&mut order, e.keys, r);
        }
        for i in order {
            write_el(&e.children[i], &new_default, scope, rng, counter, out);
        }
        out.push_str("</");
        out.push_str(&qname);
        out.push('>');
    }
    scope.truncate(scope_len);
}
