//! Round trip: the text `display current-configuration` shows, typed into an empty device,
//! gives the same configuration back: exactly for the seed, and for generated configurations
//! (monitoring groups, BFD sessions, VRRP groups with tracks, IGMP and PIM settings) up to
//! which leaves were set explicitly to their default value.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use proptest::prelude::*;
use proptest::test_runner::Config;

use super::seed::{A_XML, B_XML};
use super::*;

/// The configuration that `text` gives when typed into an empty device.
fn replay(text: &str) -> DataTree {
    let mut s = session();
    run(&mut s, "system-view");
    run(&mut s, text);
    s.candidate().clone()
}

#[test]
fn seed_configurations() {
    for xml in [A_XML, B_XML] {
        let tree = decode_config(xml);
        let got = replay(&display(&tree));
        assert!(got == tree, "{}", differences(&tree, &got));
    }
}

/// Names with blanks are written in quotes, and read back.
#[test]
fn quoted_names() {
    let mut s = session();
    run(
        &mut s,
        "system-view
monitor-group \"up links\"
 binding interface a-up
interface a-ic
 vrrp vrid 1 virtual-ip 10.0.0.6
 admin-vrrp vrid 1
 vrrp vrid 1 track monitor-group \"up links\" failure-ratio 50",
    );
    let text = display(s.candidate());
    assert!(text.contains("\nmonitor-group \"up links\"\n binding interface a-up\n"));
    assert!(text.contains(" vrrp vrid 1 track monitor-group \"up links\" failure-ratio 50\n"));
    assert!(replay(&text) == *s.candidate());
}

#[derive(Debug, Clone)]
pub(super) struct Conf {
    hostname: Option<String>,
    monitor_groups: BTreeMap<String, MonitorGroup>,
    sessions: BTreeMap<String, Bfd>,
    interfaces: BTreeMap<String, Interface>,
    routing_enable: Option<bool>,
    rp_address: Option<String>,
}

#[derive(Debug, Clone)]
struct MonitorGroup {
    enabled: Option<bool>,
    bindings: BTreeMap<String, Option<u16>>,
}

#[derive(Debug, Clone)]
struct Bfd {
    peer: String,
    interface: Option<String>,
    source: Option<String>,
    remote: Option<u32>,
    min_tx: Option<u32>,
    min_rx: Option<u32>,
    multiplier: Option<u8>,
    admin_down: Option<bool>,
}

#[derive(Debug, Clone)]
struct Interface {
    description: Option<String>,
    enabled: Option<bool>,
    addresses: BTreeMap<String, u8>,
    groups: BTreeMap<u8, Group>,
    igmp: Option<Igmp>,
    pim: Option<Pim>,
    track_admin: Option<(String, u8)>,
}

#[derive(Debug, Clone)]
struct Group {
    vips: BTreeSet<String>,
    priority: Option<u8>,
    preempt: Option<bool>,
    delay: Option<u16>,
    advertise: Option<u32>,
    version: Option<u8>,
    checksum: Option<bool>,
    admin: Option<Option<bool>>,
    /// session -> (mode increase?, priority-change)
    bfd_tracks: BTreeMap<String, (Option<bool>, Option<u8>)>,
    /// group -> (failure-ratio, mode)
    mg_tracks: BTreeMap<String, (u8, MgMode)>,
}

#[derive(Debug, Clone)]
enum MgMode {
    Unset,
    Link,
    /// Mode reduce, with or without a priority-change.
    Reduce(Option<u8>),
}

#[derive(Debug, Clone)]
struct Igmp {
    enabled: Option<bool>,
    version: Option<u8>,
    query: Option<u16>,
    max_response: Option<u8>,
    robustness: Option<u8>,
    last_member: Option<u8>,
}

#[derive(Debug, Clone)]
struct Pim {
    sm: Option<bool>,
    dr_priority: Option<u32>,
    hello: Option<u16>,
    ignore_dr: Option<bool>,
    ignore_assert: Option<bool>,
}

fn ipv4() -> impl Strategy<Value = String> {
    any::<[u8; 4]>().prop_map(|[a, b, c, d]| format!("{a}.{b}.{c}.{d}"))
}

fn ifname() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,5}"
}

fn monitor_group() -> impl Strategy<Value = MonitorGroup> {
    (
        any::<Option<bool>>(),
        prop::collection::btree_map(ifname(), prop::option::of(1u16..=1000), 0..3),
    )
        .prop_map(|(enabled, bindings)| MonitorGroup { enabled, bindings })
}

fn bfd() -> impl Strategy<Value = Bfd> {
    (
        ipv4(),
        prop::option::of(ifname()),
        prop::option::of(ipv4()),
        prop::option::of(1u32..=u32::MAX),
        prop::option::of(3u32..=20000),
        prop::option::of(3u32..=20000),
        prop::option::of(3u8..=50),
        any::<Option<bool>>(),
    )
        .prop_map(
            |(peer, interface, source, remote, min_tx, min_rx, multiplier, admin_down)| Bfd {
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

fn group(sessions: Vec<String>, monitor_groups: Vec<String>) -> impl Strategy<Value = Group> {
    let bfd_tracks = if sessions.is_empty() {
        Just(BTreeMap::new()).boxed()
    } else {
        prop::collection::btree_map(
            prop::sample::select(sessions),
            (any::<Option<bool>>(), prop::option::of(1u8..=254)),
            0..3,
        )
        .boxed()
    };
    let mg_tracks = if monitor_groups.is_empty() {
        Just(BTreeMap::new()).boxed()
    } else {
        prop::collection::btree_map(
            prop::sample::select(monitor_groups),
            (
                1u8..=100,
                prop_oneof![
                    Just(MgMode::Unset),
                    Just(MgMode::Link),
                    prop::option::of(1u8..=254).prop_map(MgMode::Reduce),
                ],
            ),
            0..3,
        )
        .boxed()
    };
    (
        prop::collection::btree_set(ipv4(), 1..3),
        prop::option::of(1u8..=254),
        any::<Option<bool>>(),
        prop::option::of(0u16..=3600),
        prop::option::of((1u32..=4095).prop_map(|n| n * 10)),
        prop::option::of(2u8..=3),
        any::<Option<bool>>(),
        any::<Option<Option<bool>>>(),
        bfd_tracks,
        mg_tracks,
    )
        .prop_map(
            |(
                vips,
                priority,
                preempt,
                delay,
                advertise,
                version,
                checksum,
                admin,
                bfd_tracks,
                mg_tracks,
            )| Group {
                vips,
                priority,
                preempt,
                delay,
                advertise,
                version,
                checksum,
                admin,
                bfd_tracks,
                mg_tracks,
            },
        )
}

fn igmp() -> impl Strategy<Value = Igmp> {
    (
        any::<Option<bool>>(),
        prop::option::of(2u8..=3),
        prop::option::of(1u16..=18000),
        prop::option::of(1u8..=25),
        prop::option::of(2u8..=7),
        prop::option::of(1u8..=25),
    )
        .prop_map(
            |(enabled, version, query, max_response, robustness, last_member)| Igmp {
                enabled,
                version,
                query,
                max_response,
                robustness,
                last_member,
            },
        )
}

fn pim() -> impl Strategy<Value = Pim> {
    (
        any::<Option<bool>>(),
        any::<Option<u32>>(),
        prop::option::of(1u16..=18000),
        any::<Option<bool>>(),
        any::<Option<bool>>(),
    )
        .prop_map(|(sm, dr_priority, hello, ignore_dr, ignore_assert)| Pim {
            sm,
            dr_priority,
            hello,
            ignore_dr,
            ignore_assert,
        })
}

fn interface(
    sessions: Vec<String>,
    monitor_groups: Vec<String>,
) -> impl Strategy<Value = Interface> {
    (
        prop::option::of("[A-Za-z0-9]([A-Za-z0-9 ._/-]{0,12}[A-Za-z0-9])?"),
        any::<Option<bool>>(),
        prop::collection::btree_map(ipv4(), 0u8..=32, 0..3),
        prop::collection::btree_map(1u8..=255, group(sessions, monitor_groups), 0..3),
        prop::option::of(igmp()),
        prop::option::of(pim()),
        prop::option::of((ifname(), 1u8..=255)),
    )
        .prop_map(
            |(description, enabled, addresses, groups, igmp, pim, track_admin)| Interface {
                description,
                enabled,
                addresses,
                groups,
                igmp,
                pim,
                track_admin,
            },
        )
}

pub(super) fn conf() -> impl Strategy<Value = Conf> {
    (
        prop::option::of("[a-z]([a-z0-9-]{0,6}[a-z0-9])?"),
        // Group names may hold blanks: they are written quoted.
        prop::collection::btree_map("[a-z]([a-z0-9 -]{0,6}[a-z0-9])?", monitor_group(), 0..3),
        prop::collection::btree_map("[a-z][a-z0-9-]{0,6}", bfd(), 0..3),
        any::<Option<bool>>(),
        prop::option::of(ipv4()),
    )
        .prop_flat_map(
            |(hostname, monitor_groups, sessions, routing_enable, rp_address)| {
                let session_names: Vec<String> = sessions.keys().cloned().collect();
                let group_names: Vec<String> = monitor_groups.keys().cloned().collect();
                prop::collection::btree_map(ifname(), interface(session_names, group_names), 0..4)
                    .prop_map(move |interfaces| Conf {
                        hostname: hostname.clone(),
                        monitor_groups: monitor_groups.clone(),
                        sessions: sessions.clone(),
                        interfaces,
                        routing_enable,
                        rp_address: rp_address.clone(),
                    })
            },
        )
}

/// `<name>value</name>` if there is a value.
fn opt<T: std::fmt::Display>(out: &mut String, name: &str, v: &Option<T>) {
    if let Some(v) = v {
        let _ = write!(
            out,
            "<{name}>{}</{name}>",
            yang::xml::escape_text(&v.to_string())
        );
    }
}

pub(super) fn xml(c: &Conf) -> String {
    let mut x = String::from("<config>");
    if let Some(h) = &c.hostname {
        let _ = write!(
            x,
            "<system xmlns=\"urn:ietf:params:xml:ns:yang:ietf-system\"><hostname>{h}</hostname></system>"
        );
    }
    if !c.monitor_groups.is_empty() {
        x.push_str("<monitor-groups xmlns=\"urn:ne-agent:yang:ne-monitor-group\">");
        for (name, g) in &c.monitor_groups {
            let _ = write!(x, "<monitor-group><name>{name}</name>");
            opt(&mut x, "enabled", &g.enabled);
            for (b, w) in &g.bindings {
                let _ = write!(x, "<binding-interface><name>{b}</name>");
                opt(&mut x, "down-weight", w);
                x.push_str("</binding-interface>");
            }
            x.push_str("</monitor-group>");
        }
        x.push_str("</monitor-groups>");
    }
    if !c.sessions.is_empty() {
        x.push_str("<bfd xmlns=\"urn:ne-agent:yang:ne-bfd\">");
        for (i, (name, s)) in c.sessions.iter().enumerate() {
            let _ = write!(
                x,
                "<session><name>{name}</name><peer-ip>{}</peer-ip><local-discriminator>{}</local-discriminator>",
                s.peer,
                i * 7 + 1
            );
            opt(&mut x, "interface", &s.interface);
            opt(&mut x, "source-ip", &s.source);
            opt(&mut x, "remote-discriminator", &s.remote);
            opt(&mut x, "min-tx-interval", &s.min_tx);
            opt(&mut x, "min-rx-interval", &s.min_rx);
            opt(&mut x, "detect-multiplier", &s.multiplier);
            opt(&mut x, "admin-down", &s.admin_down);
            x.push_str("</session>");
        }
        x.push_str("</bfd>");
    }
    if c.routing_enable.is_some() || c.rp_address.is_some() {
        x.push_str("<multicast xmlns=\"urn:ne-agent:yang:ne-multicast\">");
        opt(&mut x, "routing-enable", &c.routing_enable);
        opt(&mut x, "rp-address", &c.rp_address);
        x.push_str("</multicast>");
    }
    if !c.interfaces.is_empty() {
        x.push_str("<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\">");
        for (name, i) in &c.interfaces {
            interface_xml(&mut x, name, i);
        }
        x.push_str("</interfaces>");
    }
    x.push_str("</config>");
    x
}

fn interface_xml(x: &mut String, name: &str, i: &Interface) {
    let _ = write!(x, "<interface><name>{name}</name>");
    opt(x, "description", &i.description);
    opt(x, "enabled", &i.enabled);
    if !i.addresses.is_empty() {
        x.push_str("<ipv4>");
        for (ip, len) in &i.addresses {
            let _ = write!(
                x,
                "<address><ip>{ip}</ip><prefix-length>{len}</prefix-length></address>"
            );
        }
        x.push_str("</ipv4>");
    }
    if !i.groups.is_empty() {
        x.push_str("<vrrp xmlns=\"urn:ne-agent:yang:ne-vrrp\">");
        for (vrid, g) in &i.groups {
            let _ = write!(x, "<group><vrid>{vrid}</vrid>");
            for vip in &g.vips {
                let _ = write!(x, "<virtual-ip><address>{vip}</address></virtual-ip>");
            }
            opt(x, "priority", &g.priority);
            if g.preempt.is_some() || g.delay.is_some() {
                x.push_str("<preempt>");
                opt(x, "enabled", &g.preempt);
                opt(x, "delay", &g.delay);
                x.push_str("</preempt>");
            }
            opt(x, "advertise-interval", &g.advertise);
            opt(x, "version", &g.version);
            let checksum = g.checksum.map(|exclude| {
                if exclude {
                    "exclude-pseudo-header"
                } else {
                    "include-pseudo-header"
                }
            });
            opt(x, "checksum-mode", &checksum);
            if let Some(ignore) = g.admin {
                x.push_str("<admin-vrrp>");
                opt(x, "ignore-if-down", &ignore);
                x.push_str("</admin-vrrp>");
            }
            if !g.bfd_tracks.is_empty() || !g.mg_tracks.is_empty() {
                x.push_str("<track>");
                for (session, (increase, change)) in &g.bfd_tracks {
                    let _ = write!(x, "<bfd-session><session>{session}</session>");
                    let mode = increase.map(|i| if i { "increase" } else { "reduce" });
                    opt(x, "mode", &mode);
                    opt(x, "priority-change", change);
                    x.push_str("</bfd-session>");
                }
                for (name, (ratio, mode)) in &g.mg_tracks {
                    let _ = write!(
                        x,
                        "<monitor-group><name>{}</name><failure-ratio>{ratio}</failure-ratio>",
                        yang::xml::escape_text(name)
                    );
                    match mode {
                        MgMode::Unset => {}
                        MgMode::Link => x.push_str("<mode>link</mode>"),
                        MgMode::Reduce(change) => {
                            x.push_str("<mode>reduce</mode>");
                            opt(x, "priority-change", change);
                        }
                    }
                    x.push_str("</monitor-group>");
                }
                x.push_str("</track>");
            }
            x.push_str("</group>");
        }
        x.push_str("</vrrp>");
    }
    if let Some(g) = &i.igmp {
        x.push_str("<igmp xmlns=\"urn:ne-agent:yang:ne-multicast\">");
        opt(x, "enabled", &g.enabled);
        opt(x, "version", &g.version);
        opt(x, "query-interval", &g.query);
        opt(x, "max-response-time", &g.max_response);
        opt(x, "robustness", &g.robustness);
        opt(x, "last-member-query-interval", &g.last_member);
        x.push_str("</igmp>");
    }
    if let Some(p) = &i.pim {
        x.push_str("<pim xmlns=\"urn:ne-agent:yang:ne-multicast\">");
        opt(x, "sm", &p.sm);
        opt(x, "dr-priority", &p.dr_priority);
        opt(x, "hello-interval", &p.hello);
        opt(x, "ignore-dr-state", &p.ignore_dr);
        opt(x, "ignore-assert-state", &p.ignore_assert);
        x.push_str("</pim>");
    }
    if let Some((ifname, vrid)) = &i.track_admin {
        let _ = write!(
            x,
            "<track-admin-vrrp xmlns=\"urn:ne-agent:yang:ne-multicast\"><interface>{ifname}</interface><vrid>{vrid}</vrid></track-admin-vrrp>"
        );
    }
    x.push_str("</interface>");
}

proptest! {
    #![proptest_config(Config { cases: 128, ..Config::default() })]

    #[test]
    fn generated_configurations(c in conf()) {
        let tree = decode_config(&xml(&c));
        let text = display(&tree);
        let got = replay(&text);
        prop_assert!(
            normalize(&got) == normalize(&tree),
            "{text}\n{}",
            differences(&normalize(&tree), &normalize(&got))
        );
        // What was typed displays as it was shown.
        prop_assert_eq!(display(&got), text);
    }
}

/// `c` with what the models require around it: multicast routing enabled, and every
/// interface it names configured (the generator picks names freely).
pub(super) fn completed(mut c: Conf) -> Conf {
    c.routing_enable = Some(true);
    let mut named: Vec<String> = Vec::new();
    for g in c.monitor_groups.values() {
        named.extend(g.bindings.keys().cloned());
    }
    for s in c.sessions.values() {
        named.extend(s.interface.clone());
    }
    for i in c.interfaces.values() {
        named.extend(i.track_admin.as_ref().map(|(name, _)| name.clone()));
    }
    // Tracking belongs to an mVRRP group; `multicast track admin-vrrp` names one.
    for i in c.interfaces.values_mut() {
        for g in i.groups.values_mut() {
            if (!g.bfd_tracks.is_empty() || !g.mg_tracks.is_empty()) && g.admin.is_none() {
                g.admin = Some(None);
            }
        }
    }
    let tracked: Vec<(String, u8)> = c
        .interfaces
        .values()
        .filter_map(|i| i.track_admin.clone())
        .collect();
    for (name, vrid) in tracked {
        match c
            .interfaces
            .get_mut(&name)
            .and_then(|i| i.groups.get_mut(&vrid))
        {
            Some(g) => {
                if g.admin.is_none() {
                    g.admin = Some(None);
                }
            }
            None => {
                for i in c.interfaces.values_mut() {
                    if i.track_admin.as_ref() == Some(&(name.clone(), vrid)) {
                        i.track_admin = None;
                    }
                }
            }
        }
    }
    for name in named {
        c.interfaces.entry(name).or_insert_with(|| Interface {
            description: None,
            enabled: None,
            addresses: BTreeMap::new(),
            groups: BTreeMap::new(),
            igmp: None,
            pim: None,
            track_admin: None,
        });
    }
    c
}
