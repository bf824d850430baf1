//! Checks across objects that the YANG models cannot express, made at commit before the engines
//! take a configuration: refusals (a commit that would configure something that cannot work)
//! and warnings (accepted, but probably not what the operator meant). Pure: typed configuration
//! in, findings out.

use std::net::Ipv4Addr;

use super::config::InterfaceParts;
use super::pim::bsr::BsrConfig;

/// Why a configuration is refused: the message names every place involved; `path` is the
/// instance-identifier of the offending node for `error-path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub path: String,
}

fn vip_path(ifname: &str, vrid: u8, vip: Ipv4Addr) -> String {
    format!(
        "/if:interfaces/if:interface[if:name='{ifname}']/vrrp:vrrp/vrrp:group[vrrp:vrid='{vrid}']/vrrp:virtual-ip[vrrp:address='{vip}']"
    )
}

fn in_subnet(addr: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    };
    u32::from(addr) & mask == u32::from(net) & mask
}

/// Each virtual IP lies in a subnet of its own interface (VRP refuses one outside), and no
/// virtual IP is configured twice (two groups would answer ARP for it).
pub fn virtual_ips(interfaces: &[(String, InterfaceParts)]) -> Result<(), Refusal> {
    let mut seen: Vec<(Ipv4Addr, &str, u8)> = Vec::new();
    for (ifname, parts) in interfaces {
        let addrs = &parts.interface.addrs;
        for (&vrid, group) in &parts.vrrp {
            for &vip in &group.virtual_ips {
                if !addrs.iter().any(|&(a, len)| in_subnet(vip, a, len)) {
                    let subnets = if addrs.is_empty() {
                        format!("{ifname} has no IPv4 address")
                    } else {
                        let list: Vec<String> =
                            addrs.iter().map(|(a, l)| format!("{a}/{l}")).collect();
                        format!("{ifname} has {}", list.join(", "))
                    };
                    return Err(Refusal {
                        message: format!(
                            "virtual IP {vip} of VRRP group {vrid} on {ifname} is outside every subnet of {ifname} ({subnets}); a virtual IP must be in a subnet of its interface"
                        ),
                        path: vip_path(ifname, vrid, vip),
                    });
                }
                if let Some(&(_, other_if, other_vrid)) = seen.iter().find(|(v, ..)| *v == vip) {
                    return Err(Refusal {
                        message: format!(
                            "virtual IP {vip} is configured twice: VRRP group {other_vrid} on {other_if} and VRRP group {vrid} on {ifname}"
                        ),
                        path: vip_path(ifname, vrid, vip),
                    });
                }
                seen.push((vip, ifname, vrid));
            }
        }
    }
    Ok(())
}

/// The addresses of `c-bsr` and `c-rp` are the device's own (`own`): a BSR or RP address
/// nobody answers at would black-hole the domain's C-RP-Advertisements or (*,G) Joins.
pub fn bsr_addresses(bsr: &BsrConfig, own: impl Fn(Ipv4Addr) -> bool) -> Result<(), Refusal> {
    let candidates = [
        bsr.candidate_bsr.map(|c| ("c-bsr", c.address)),
        bsr.candidate_rp.as_ref().map(|c| ("c-rp", c.address)),
    ];
    for (what, addr) in candidates.into_iter().flatten() {
        if !own(addr) {
            return Err(Refusal {
                message: format!(
                    "{what} address {addr} is not an address of this device; a candidate BSR or RP must use one of its own IPv4 addresses"
                ),
                path: format!("/mc:multicast/mc:{what}/mc:address"),
            });
        }
    }
    Ok(())
}

/// VRRP groups that track a monitor group which is not enabled: accepted (VRP accepts it too),
/// but such a track never moves the priority. `enabled(name)` is None for a group that does
/// not exist (the leafref refuses that before). Returns (interface, vrid, group).
pub fn tracks_of_disabled_groups(
    interfaces: &[(String, InterfaceParts)],
    enabled: impl Fn(&str) -> Option<bool>,
) -> Vec<(String, u8, String)> {
    let mut out = Vec::new();
    for (ifname, parts) in interfaces {
        for (&vrid, group) in &parts.vrrp {
            for t in &group.track_monitor {
                if enabled(&t.group) == Some(false) {
                    out.push((ifname.clone(), vrid, t.group.clone()));
                }
            }
        }
    }
    out
}

/// Local discriminators are unique: among the sessions a commit sets (`touched`), and
/// against the sessions it leaves alone (`holder` names the current holder of a
/// discriminator; `untouched` says whether that session is outside the commit).
pub fn bfd_discriminators<'a>(
    touched: impl IntoIterator<Item = (&'a str, u32)>,
    holder: impl Fn(u32) -> Option<&'a str>,
    untouched: impl Fn(&str) -> bool,
) -> Result<(), String> {
    let mut seen: std::collections::HashMap<u32, &str> = std::collections::HashMap::new();
    for (name, disc) in touched {
        let clash = seen
            .insert(disc, name)
            .or_else(|| holder(disc).filter(|h| *h != name && untouched(h)));
        if let Some(other) = clash {
            return Err(format!(
                "BFD sessions {other} and {name} use the same local discriminator {disc}"
            ));
        }
    }
    Ok(())
}

/// Whether a change can alter what [`virtual_ips`] and [`tracks_of_disabled_groups`] look at:
/// an interface's addresses or VRRP groups, a monitor group's `enabled`, or a whole interface or
/// monitor group (created or deleted). A change of anything else (a description, a BFD
/// session, 9,999 untouched entries) needs no walk over every interface. Unsure means yes.
pub fn may_affect_cross_checks(path: &str) -> bool {
    let below_entry = |list: &str| {
        let rest = path.strip_prefix(list)?;
        // The entry's key predicate ends at the first "']/"; Linux interface names cannot
        // hold '/', and a monitor group whose name does is only ever judged "affected".
        rest.find("']/").map(|i| &rest[i + 3..])
    };
    if path.starts_with("/if:interfaces") {
        return match below_entry("/if:interfaces/if:interface[") {
            Some(inner) => {
                inner.starts_with("vrrp:")
                    || inner.starts_with("if:ipv4")
                    || inner.contains("address")
            }
            None => true,
        };
    }
    if path.starts_with("/mg:monitor-groups") {
        return match below_entry("/mg:monitor-groups/mg:monitor-group[") {
            Some(inner) => inner == "mg:enabled",
            None => true,
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::config::{Interface, TrackMode, TrackMonitor, VrrpGroup};
    use std::collections::BTreeMap;

    fn group(vips: &[&str], track: Option<&str>) -> VrrpGroup {
        VrrpGroup {
            virtual_ips: vips.iter().map(|v| v.parse().unwrap()).collect(),
            priority: 100,
            preempt: true,
            preempt_delay_s: 0,
            advertise_interval_ms: 1000,
            version: 3,
            exclude_pseudo_header: false,
            admin: Some(false),
            track_bfd: vec![],
            track_monitor: track
                .map(|g| TrackMonitor {
                    group: g.into(),
                    failure_ratio: 100,
                    mode: TrackMode::Link,
                    change: 10,
                })
                .into_iter()
                .collect(),
        }
    }

    fn iface(
        name: &str,
        addrs: &[(&str, u8)],
        groups: Vec<(u8, VrrpGroup)>,
    ) -> (String, InterfaceParts) {
        (
            name.into(),
            InterfaceParts {
                interface: Interface {
                    enabled: true,
                    addrs: addrs
                        .iter()
                        .map(|(a, l)| (a.parse().unwrap(), *l))
                        .collect(),
                },
                vrrp: groups.into_iter().collect::<BTreeMap<_, _>>(),
                mc: None,
            },
        )
    }

    #[test]
    fn the_seed_virtual_ip_is_accepted() {
        let ifs = [iface(
            "a-ic",
            &[("10.0.0.1", 29)],
            vec![(1, group(&["10.0.0.6"], None))],
        )];
        assert_eq!(virtual_ips(&ifs), Ok(()));
    }

    #[test]
    fn a_virtual_ip_outside_the_interface_subnets_is_refused_naming_both() {
        let ifs = [iface(
            "a-ic",
            &[("10.0.0.1", 29)],
            vec![(1, group(&["10.0.0.9"], None))],
        )];
        let r = virtual_ips(&ifs).unwrap_err();
        assert!(
            r.message.contains("10.0.0.9") && r.message.contains("10.0.0.1/29"),
            "{r:?}"
        );
        assert!(r.message.contains("group 1 on a-ic"), "{r:?}");
        assert!(
            r.path.ends_with("vrrp:virtual-ip[vrrp:address='10.0.0.9']"),
            "{r:?}"
        );
        let bare = [iface("a-ic", &[], vec![(1, group(&["10.0.0.6"], None))])];
        assert!(virtual_ips(&bare)
            .unwrap_err()
            .message
            .contains("a-ic has no IPv4 address"));
    }

    #[test]
    fn the_same_virtual_ip_twice_is_refused_naming_both_places() {
        let ifs = [
            iface(
                "a-ic",
                &[("10.0.0.1", 29)],
                vec![(1, group(&["10.0.0.6"], None))],
            ),
            iface(
                "a-x",
                &[("10.0.0.2", 29)],
                vec![(7, group(&["10.0.0.6"], None))],
            ),
        ];
        let r = virtual_ips(&ifs).unwrap_err();
        assert!(
            r.message.contains("group 1 on a-ic") && r.message.contains("group 7 on a-x"),
            "{r:?}"
        );
        let same_if = [iface(
            "a-ic",
            &[("10.0.0.1", 29)],
            vec![
                (1, group(&["10.0.0.6"], None)),
                (2, group(&["10.0.0.6"], None)),
            ],
        )];
        assert!(virtual_ips(&same_if).is_err());
    }

    #[test]
    fn subnet_edges() {
        let a = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert!(in_subnet(a("10.0.0.7"), a("10.0.0.1"), 29));
        assert!(!in_subnet(a("10.0.0.8"), a("10.0.0.1"), 29));
        assert!(in_subnet(a("1.2.3.4"), a("10.0.0.1"), 0));
        assert!(in_subnet(a("10.0.0.1"), a("10.0.0.1"), 32));
        assert!(!in_subnet(a("10.0.0.2"), a("10.0.0.1"), 32));
    }

    #[test]
    fn tracking_a_disabled_monitor_group_is_found() {
        let ifs = [iface(
            "a-ic",
            &[("10.0.0.1", 29)],
            vec![(1, group(&["10.0.0.6"], Some("uplinks")))],
        )];
        let found = tracks_of_disabled_groups(&ifs, |_| Some(false));
        assert_eq!(found, vec![("a-ic".to_string(), 1, "uplinks".to_string())]);
        assert!(tracks_of_disabled_groups(&ifs, |_| Some(true)).is_empty());
        assert!(tracks_of_disabled_groups(&ifs, |_| None).is_empty());
    }

    #[test]
    fn a_discriminator_is_used_once() {
        let none = |_: u32| None;
        assert!(bfd_discriminators([("a", 1), ("b", 2)], none, |_| true).is_ok());
        let e = bfd_discriminators([("a", 1), ("b", 1)], none, |_| true).unwrap_err();
        assert_eq!(e, "BFD sessions a and b use the same local discriminator 1");
        // Held by a session outside the commit: refused; held by one the commit changes (or by
        // the session itself): fine.
        let held = |d: u32| (d == 5).then_some("old");
        let e = bfd_discriminators([("new", 5)], held, |n| n == "old").unwrap_err();
        assert!(e.contains("old and new"), "{e}");
        assert!(bfd_discriminators([("new", 5)], held, |_| false).is_ok());
        let own = |d: u32| (d == 5).then_some("new");
        assert!(bfd_discriminators([("new", 5)], own, |_| true).is_ok());
    }

    #[test]
    fn only_changes_of_addresses_vrrp_enabled_or_whole_entries_need_the_cross_checks() {
        let e = "/if:interfaces/if:interface[if:name='eth1']";
        for p in [
            "/if:interfaces".to_string(),
            e.to_string(),
            format!("{e}/if:ipv4/if:address[if:ip='10.0.0.1']"),
            format!("{e}/if:ipv4"),
            format!(
                "{e}/vrrp:vrrp/vrrp:group[vrrp:vrid='1']/vrrp:virtual-ip[vrrp:address='10.0.0.9']"
            ),
            "/mg:monitor-groups".to_string(),
            "/mg:monitor-groups/mg:monitor-group[mg:name='g']".to_string(),
            "/mg:monitor-groups/mg:monitor-group[mg:name='g']/mg:enabled".to_string(),
            "/mg:monitor-groups/mg:monitor-group[mg:name='a/b']".to_string(),
        ] {
            assert!(may_affect_cross_checks(&p), "{p}");
        }
        for p in [
            format!("{e}/if:description"),
            format!("{e}/if:enabled"),
            "/mg:monitor-groups/mg:monitor-group[mg:name='g']/mg:binding-interface[mg:name='eth1']"
                .to_string(),
            "/bfd:bfd/bfd:session[bfd:name='s']".to_string(),
        ] {
            assert!(!may_affect_cross_checks(&p), "{p}");
        }
    }
}
