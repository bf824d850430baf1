//! What configuring an interface takes, as a plan: the addresses to add or remove and the
//! admin state to set, from its configuration (new and previous) and the kernel's view of its
//! netdev. Pure; the protocol thread carries the plan out over rtnetlink.

use dataplane::netlink::{Addr, Link};

use super::config;

/// One change to a netdev.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    AddAddr(Addr),
    DelAddr(Addr),
    SetUp(bool),
}

/// The changes that bring `link` (with the kernel's `addrs`) to `new`, having been `old`:
/// configured addresses it lacks are added, the admin state is set, and addresses only the
/// old configuration had are removed (addresses the agent never configured are left alone).
pub fn plan(
    link: &Link,
    addrs: &[Addr],
    new: Option<&config::Interface>,
    old: Option<&config::Interface>,
) -> Vec<Op> {
    let on_link = |&(ip, prefix_len): &(std::net::Ipv4Addr, u8)| Addr {
        index: link.index,
        ip,
        prefix_len,
    };
    let mut ops = Vec::new();
    if let Some(ic) = new {
        ops.extend(
            ic.addrs
                .iter()
                .map(on_link)
                .filter(|a| !addrs.contains(a))
                .map(Op::AddAddr),
        );
        if ic.enabled != link.admin_up {
            ops.push(Op::SetUp(ic.enabled));
        }
    }
    if let Some(o) = old {
        ops.extend(
            o.addrs
                .iter()
                .filter(|a| new.is_none_or(|n| !n.addrs.contains(a)))
                .map(on_link)
                .map(Op::DelAddr),
        );
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn link(admin_up: bool) -> Link {
        Link {
            index: 7,
            name: "a-dn".into(),
            admin_up,
            oper_up: admin_up,
            mac: None,
            stats: Default::default(),
        }
    }

    fn ic(enabled: bool, addrs: &[[u8; 4]]) -> config::Interface {
        config::Interface {
            enabled,
            addrs: addrs.iter().map(|a| (Ipv4Addr::from(*a), 24)).collect(),
        }
    }

    fn addr(a: [u8; 4]) -> Addr {
        Addr {
            index: 7,
            ip: Ipv4Addr::from(a),
            prefix_len: 24,
        }
    }

    #[test]
    fn an_interface_in_step_with_its_configuration_needs_nothing() {
        let c = ic(true, &[[10, 0, 0, 1]]);
        assert!(plan(&link(true), &[addr([10, 0, 0, 1])], Some(&c), Some(&c)).is_empty());
    }

    #[test]
    fn missing_addresses_are_added_and_the_admin_state_set() {
        let c = ic(true, &[[10, 0, 0, 1], [10, 0, 1, 1]]);
        let ops = plan(&link(false), &[addr([10, 0, 0, 1])], Some(&c), None);
        assert_eq!(ops, vec![Op::AddAddr(addr([10, 0, 1, 1])), Op::SetUp(true)]);
        let down = ic(false, &[]);
        assert_eq!(
            plan(&link(true), &[], Some(&down), None),
            vec![Op::SetUp(false)]
        );
    }

    #[test]
    fn only_addresses_the_old_configuration_had_are_removed() {
        let old = ic(true, &[[10, 0, 0, 1], [10, 0, 1, 1]]);
        let new = ic(true, &[[10, 0, 0, 1]]);
        // 10.0.2.1 was put there by someone else: left alone.
        let have = [
            addr([10, 0, 0, 1]),
            addr([10, 0, 1, 1]),
            addr([10, 0, 2, 1]),
        ];
        assert_eq!(
            plan(&link(true), &have, Some(&new), Some(&old)),
            vec![Op::DelAddr(addr([10, 0, 1, 1]))]
        );
        // The interface's configuration removed: its addresses go, its admin state stays.
        assert_eq!(
            plan(&link(true), &have, None, Some(&new)),
            vec![Op::DelAddr(addr([10, 0, 0, 1]))]
        );
    }
}
