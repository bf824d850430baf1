//! Which rule matches: order, module-name, access-operations, rule-type and path.

use super::*;

#[test]
fn the_first_matching_rule_of_a_list_wins() {
    let nacm = Nacm {
        groups: vec![group("ops", &["noc"])],
        rule_lists: vec![rule_list(
            "ops-rules",
            &["ops"],
            vec![
                rule(
                    "deny-eth0",
                    "*",
                    path("/if:interfaces/interface[name='eth0']"),
                    "update",
                    Deny,
                ),
                rule(
                    "permit-interfaces",
                    "ietf-interfaces",
                    Target::Any,
                    "*",
                    Permit,
                ),
                rule("deny-interfaces", "ietf-interfaces", Target::Any, "*", Deny),
            ],
        )],
        ..Nacm::default()
    };
    let a = nacm.for_user("noc", &[], false);
    let eth0 = [
        seg("ietf-interfaces", "interfaces"),
        entry("ietf-interfaces", "interface", ETH0),
    ];
    let eth1 = [
        seg("ietf-interfaces", "interfaces"),
        entry("ietf-interfaces", "interface", &[("name", "eth1")]),
    ];
    assert_eq!(
        a.data(Update, &eth0[..], None).by,
        by_rule("ops-rules", "deny-eth0")
    );
    assert_eq!(
        a.data(Read, &eth0[..], None).by,
        by_rule("ops-rules", "permit-interfaces")
    );
    assert_eq!(
        a.data(Update, &eth1[..], None).by,
        by_rule("ops-rules", "permit-interfaces")
    );
}

#[test]
fn an_earlier_rule_list_wins_over_a_later_one() {
    let lists = |first: Action, second: Action| Nacm {
        groups: vec![group("a", &["u"]), group("b", &["u"])],
        rule_lists: vec![
            rule_list(
                "first",
                &["b"],
                vec![rule("r1", "ne-vrrp", Target::Any, "*", first)],
            ),
            rule_list(
                "second",
                &["a"],
                vec![rule("r2", "ne-vrrp", Target::Any, "*", second)],
            ),
        ],
        ..Nacm::default()
    };
    let node = [seg("ne-vrrp", "vrrp")];
    for (first, second) in [(Permit, Deny), (Deny, Permit)] {
        let nacm = lists(first, second);
        let d = nacm.for_user("u", &[], false).data(Update, &node[..], None);
        assert_eq!((d.allowed, d.by), (first == Permit, by_rule("first", "r1")));
    }
}

#[test]
fn module_name_must_match_unless_star() {
    let nacm = Nacm {
        groups: vec![group("g", &["u"])],
        rule_lists: vec![rule_list(
            "l",
            &["g"],
            vec![
                rule("permit-vrrp", "ne-vrrp", Target::Any, "*", Permit),
                rule("deny-rest", "*", Target::Any, "read", Deny),
            ],
        )],
        ..Nacm::default()
    };
    let a = nacm.for_user("u", &[], false);
    assert_eq!(
        a.data(Update, &[seg("ne-vrrp", "vrrp")][..], None).by,
        by_rule("l", "permit-vrrp")
    );
    assert_eq!(
        a.data(Read, &[seg("ne-bfd", "bfd")][..], None).by,
        by_rule("l", "deny-rest")
    );
    assert_eq!(
        a.data(Update, &[seg("ne-bfd", "bfd")][..], None).by,
        By::Default("write-default")
    );
    assert_eq!(
        a.rpc("ne-bfd", "clear", None).by,
        By::Default("exec-default")
    );
    // A module rule applies to an augmenting module's node by that node's own module.
    let augmented = [seg("ne-vrrp", "vrrp"), seg("ne-bfd", "bfd-session")];
    assert_eq!(
        a.data(Read, &augmented[..], None).by,
        by_rule("l", "deny-rest")
    );
}

#[test]
fn access_operations_must_hold_the_operation_unless_star() {
    let nacm = Nacm {
        groups: vec![group("g", &["u"])],
        rule_lists: vec![rule_list(
            "l",
            &["g"],
            vec![
                rule(
                    "permit-create-delete",
                    "ne-vrrp",
                    Target::Any,
                    "create delete",
                    Permit,
                ),
                rule("deny-everything", "ne-vrrp", Target::Any, "*", Deny),
            ],
        )],
        write_default: Permit,
        ..Nacm::default()
    };
    let a = nacm.for_user("u", &[], false);
    let node = [seg("ne-vrrp", "vrrp")];
    assert!(a.data(Create, &node[..], None).allowed);
    assert!(a.data(Delete, &node[..], None).allowed);
    for op in [Read, Update, Exec] {
        assert_eq!(
            a.data(op, &node[..], None).by,
            by_rule("l", "deny-everything"),
            "{op:?}"
        );
    }
    assert_eq!(
        a.rpc("ne-vrrp", "switchover", None).by,
        by_rule("l", "deny-everything")
    );
}

#[test]
fn access_sets_parse_bits_and_star() {
    assert_eq!(AccessSet::parse("*"), Some(AccessSet::ALL));
    assert_eq!(
        AccessSet::parse(" read  update "),
        Some(AccessSet::of(&[Read, Update]))
    );
    assert_eq!(AccessSet::parse(""), Some(AccessSet::NONE));
    assert_eq!(AccessSet::parse("read write"), None);
    let all = AccessSet::parse("create read update delete exec");
    assert_eq!(all, Some(AccessSet::ALL));
    assert!(!AccessSet::of(&[Read]).contains(Update));
}

#[test]
fn rpc_rules_match_by_name_or_star_and_never_data() {
    let nacm = Nacm {
        groups: vec![group("g", &["u"])],
        rule_lists: vec![rule_list(
            "l",
            &["g"],
            vec![
                rule(
                    "deny-switchover",
                    "ne-vrrp",
                    Target::Rpc("switchover".into()),
                    "exec",
                    Deny,
                ),
                rule(
                    "permit-vrrp-rpcs",
                    "ne-vrrp",
                    Target::Rpc("*".into()),
                    "*",
                    Permit,
                ),
            ],
        )],
        exec_default: Deny,
        ..Nacm::default()
    };
    let a = nacm.for_user("u", &[], false);
    assert_eq!(
        a.rpc("ne-vrrp", "switchover", None).by,
        by_rule("l", "deny-switchover")
    );
    assert_eq!(
        a.rpc("ne-vrrp", "clear-statistics", None).by,
        by_rule("l", "permit-vrrp-rpcs")
    );
    assert_eq!(
        a.rpc("ne-bfd", "clear", None).by,
        By::Default("exec-default")
    );
    // An rpc rule is not a data rule, nor a notification rule.
    assert_eq!(
        a.data(Update, &[seg("ne-vrrp", "vrrp")][..], None).by,
        By::Default("write-default")
    );
    assert_eq!(
        a.notification("ne-vrrp", "switchover", None).by,
        By::Default("read-default")
    );
}

#[test]
fn notification_rules_match_by_name_or_star() {
    let nacm = Nacm {
        groups: vec![group("g", &["u"])],
        rule_lists: vec![rule_list(
            "l",
            &["g"],
            vec![
                rule(
                    "permit-state",
                    "ne-vrrp",
                    Target::Notification("state-change".into()),
                    "read",
                    Permit,
                ),
                rule(
                    "deny-vrrp",
                    "ne-vrrp",
                    Target::Notification("*".into()),
                    "read",
                    Deny,
                ),
                rule(
                    "deny-exec-only",
                    "*",
                    Target::Notification("*".into()),
                    "exec",
                    Deny,
                ),
            ],
        )],
        ..Nacm::default()
    };
    let a = nacm.for_user("u", &[], false);
    assert_eq!(
        a.notification("ne-vrrp", "state-change", None).by,
        by_rule("l", "permit-state")
    );
    assert_eq!(
        a.notification("ne-vrrp", "fault", None).by,
        by_rule("l", "deny-vrrp")
    );
    assert_eq!(
        a.notification("ne-bfd", "down", None).by,
        By::Default("read-default")
    );
    assert_eq!(
        a.rpc("ne-vrrp", "fault", None).by,
        By::Default("exec-default")
    );
}

#[test]
fn a_path_rule_with_keys_covers_that_entry_and_its_descendants_only() {
    let nacm = rules(vec![rule(
        "deny-eth0",
        "*",
        path("/ietf-interfaces:interfaces/interface[name='eth0']"),
        "*",
        Deny,
    )]);
    let a = nacm.for_user("u", &[], false);
    let m = "ietf-interfaces";
    let eth0 = [seg(m, "interfaces"), entry(m, "interface", ETH0)];
    let eth0_mtu = [
        seg(m, "interfaces"),
        entry(m, "interface", ETH0),
        seg(m, "mtu"),
    ];
    let eth1 = [
        seg(m, "interfaces"),
        entry(m, "interface", &[("name", "eth1")]),
    ];
    let top = [seg(m, "interfaces")];
    assert_eq!(a.data(Read, &eth0[..], None).by, by_rule("l", "deny-eth0"));
    assert!(!a.data(Read, &eth0_mtu[..], None).allowed);
    assert!(a.data(Read, &eth1[..], None).allowed);
    assert!(a.data(Read, &top[..], None).allowed, "not the ancestor");
    // The same key name in another module is not this rule's.
    let other = [
        seg("ne-if", "interfaces"),
        entry("ne-if", "interface", ETH0),
    ];
    assert!(a.data(Read, &other[..], None).allowed);
}

#[test]
fn a_path_rule_without_keys_covers_every_entry() {
    let nacm = rules(vec![rule(
        "permit-ifs",
        "*",
        path("/if:interfaces/if:interface"),
        "update",
        Permit,
    )]);
    let a = nacm.for_user("u", &[], false);
    let m = "ietf-interfaces";
    for name in ["eth0", "eth1", "lo"] {
        let keys = [("name", name)];
        let node = [
            seg(m, "interfaces"),
            entry(m, "interface", &keys),
            seg(m, "enabled"),
        ];
        assert_eq!(
            a.data(Update, &node[..], None).by,
            by_rule("l", "permit-ifs")
        );
    }
    assert_eq!(
        a.data(Update, &[seg(m, "interfaces")][..], None).by,
        By::Default("write-default")
    );
}

#[test]
fn path_predicates_on_several_keys_and_leaf_list_values() {
    let nacm = rules(vec![
        rule(
            "deny-route",
            "*",
            path("/ne-rib:rib/route[prefix='10.0.0.0/8'][table=\"main\"]"),
            "read",
            Deny,
        ),
        rule(
            "deny-dns",
            "*",
            path("/ne-system:system/dns-server[.='192.0.2.1']"),
            "read",
            Deny,
        ),
    ]);
    let a = nacm.for_user("u", &[], false);
    let keys = [("prefix", "10.0.0.0/8"), ("table", "main")];
    let route = [seg("ne-rib", "rib"), entry("ne-rib", "route", &keys)];
    assert!(!a.data(Read, &route[..], None).allowed);
    let other_table = [("prefix", "10.0.0.0/8"), ("table", "mgmt")];
    let route2 = [seg("ne-rib", "rib"), entry("ne-rib", "route", &other_table)];
    assert!(a.data(Read, &route2[..], None).allowed);
    let dns = [
        seg("ne-system", "system"),
        entry("ne-system", "dns-server", &[(".", "192.0.2.1")]),
    ];
    assert_eq!(a.data(Read, &dns[..], None).by, by_rule("l", "deny-dns"));
    let dns2 = [
        seg("ne-system", "system"),
        entry("ne-system", "dns-server", &[(".", "192.0.2.2")]),
    ];
    assert!(a.data(Read, &dns2[..], None).allowed);
}

#[test]
fn the_root_path_covers_every_node() {
    let nacm = Nacm {
        read_default: Deny,
        ..rules(vec![rule("read-all", "*", path("/"), "read", Permit)])
    };
    let a = nacm.for_user("u", &[], false);
    assert!(a.data(Read, &[seg("ne-vrrp", "vrrp")][..], None).allowed);
    assert!(a.data(Read, &acme_config()[..], None).allowed);
    assert!(!a.data(Update, &acme_config()[..], None).allowed);
    assert!(NodePath::parse(" / ", &resolve).expect("root").is_root());
}

#[test]
fn module_rules_and_path_rules_interleave_in_order() {
    let m = "ietf-interfaces";
    let nacm = rules(vec![
        rule("permit-if-read", m, Target::Any, "read", Permit),
        rule(
            "deny-eth0",
            "*",
            path("/if:interfaces/interface[name='eth0']"),
            "*",
            Deny,
        ),
        rule("deny-if", m, Target::Any, "*", Deny),
    ]);
    let a = nacm.for_user("u", &[], false);
    let eth0 = [seg(m, "interfaces"), entry(m, "interface", ETH0)];
    let eth1 = [
        seg(m, "interfaces"),
        entry(m, "interface", &[("name", "eth1")]),
    ];
    assert_eq!(
        a.data(Read, &eth0[..], None).by,
        by_rule("l", "permit-if-read")
    );
    assert_eq!(
        a.data(Update, &eth0[..], None).by,
        by_rule("l", "deny-eth0")
    );
    assert_eq!(a.data(Update, &eth1[..], None).by, by_rule("l", "deny-if"));
}

#[test]
fn overlapping_paths_are_decided_by_rule_order() {
    let m = "ietf-interfaces";
    let nacm = rules(vec![
        rule("vrrp-only", "ne-vrrp", path("/if:interfaces"), "*", Permit),
        rule(
            "permit-all-ifs",
            "*",
            path("/if:interfaces/interface"),
            "update",
            Permit,
        ),
        rule(
            "deny-eth0",
            "*",
            path("/if:interfaces/interface[name='eth0']"),
            "*",
            Deny,
        ),
        rule(
            "permit-eth0-later",
            "*",
            path("/if:interfaces/interface[name='eth0']"),
            "*",
            Permit,
        ),
        rule("deny-ifs", "*", path("/if:interfaces"), "*", Deny),
    ]);
    let a = nacm.for_user("u", &[], false);
    let eth0 = [seg(m, "interfaces"), entry(m, "interface", ETH0)];
    let eth0_mtu = [
        seg(m, "interfaces"),
        entry(m, "interface", ETH0),
        seg(m, "mtu"),
    ];
    // The module-name of a path rule must match too: vrrp-only never applies here.
    assert_eq!(
        a.data(Update, &eth0[..], None).by,
        by_rule("l", "permit-all-ifs")
    );
    assert_eq!(
        a.data(Read, &eth0_mtu[..], None).by,
        by_rule("l", "deny-eth0")
    );
    assert_eq!(
        a.data(Read, &[seg(m, "interfaces")][..], None).by,
        by_rule("l", "deny-ifs")
    );
    // A node of ne-vrrp augmented below /interfaces matches vrrp-only.
    let augmented = [seg(m, "interfaces"), seg("ne-vrrp", "vrrp")];
    assert_eq!(
        a.data(Read, &augmented[..], None).by,
        by_rule("l", "vrrp-only")
    );
}
