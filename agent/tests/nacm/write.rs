//! Write access (RFC 8341 §3.4.5): every node an operation creates, updates or deletes is
//! checked on the datastore it writes; a denial names the first denied node in error-path and
//! changes nothing.

use super::*;

/// The ops group of the README: may write ne-vrrp, ne-bfd, ne-monitor-group and ne-multicast.
fn ops(d: &Device) {
    let module = |m: &str| {
        rule(
            &format!("write-{m}"),
            &format!(
                "<module-name>{m}</module-name><access-operations>create update delete</access-operations><action>permit</action>"
            ),
        )
    };
    d.nacm(&format!(
        "{}{}",
        groups(&[group("ops", &["olive"])]),
        rule_list(
            "ops",
            &["ops"],
            &[
                module("ne-vrrp"),
                module("ne-bfd"),
                module("ne-monitor-group"),
                module("ne-multicast"),
            ]
        )
    ));
}

fn vrrp_priority(iface: &str, priority: u8) -> String {
    edit(
        "running",
        &format!(
            "<interfaces xmlns=\"{IF_NS}\"><interface><name>{iface}</name><vrrp xmlns=\"{VRRP_NS}\"><group><vrid>1</vrid><virtual-ip><address>10.0.0.6</address></virtual-ip><priority>{priority}</priority></group></vrrp></interface></interfaces>"
        ),
    )
}

/// write-default deny: a user with no rule writes nothing; the error names the first node,
/// error-type application, and nothing changes (running, the commit history, the counter).
#[test]
fn write_default_deny_refuses_and_changes_nothing() {
    let d = Device::new("w-default");
    let (before, generation) = (d.running(), d.server.store.generation());
    let writes = d.counter("denied-data-writes");
    let x = d.denied("nobody", &edit("running", &bfd(&bfd_session("c", 3))));
    assert!(x.contains("<error-type>application</error-type>"), "{x}");
    assert!(
        x.contains("<error-path xmlns:bfd=\"urn:ne-agent:yang:ne-bfd\">/bfd:bfd/bfd:session[bfd:name='c']</error-path>"),
        "{x}"
    );
    assert!(
        x.contains("access denied: user 'nobody' may not create /ne-bfd:bfd/session[name='c']: write-default is deny and no rule permits it"),
        "{x}"
    );
    assert_eq!(d.running(), before);
    assert_eq!(d.server.store.generation(), generation);
    assert_eq!(d.counter("denied-data-writes"), writes + 1);
    // The candidate too, at edit time.
    d.denied("nobody", &edit("candidate", &bfd(&bfd_session("c", 3))));
    assert!(!d.server.store.candidate_dirty());
}

/// Writing what is already there is no write (RFC 8341 §3.2.5).
#[test]
fn an_edit_that_changes_nothing_needs_no_write_access() {
    let d = Device::new("w-same");
    d.ok("nobody", &edit("running", &bfd(&bfd_session("a", 1))));
}

/// The ops group writes its four modules and nothing else: a VRRP group inside an interface
/// (the interface is ne-interfaces', the group ne-vrrp's) yes, the interface itself no.
#[test]
fn module_rules_permit_writes_of_their_modules() {
    let d = Device::new("w-ops");
    ops(&d);
    d.ok("olive", &vrrp_priority("eth0", 110));
    d.ok("olive", &edit("running", &bfd(&bfd_session("c", 3))));
    d.ok(
        "olive",
        &edit(
            "running",
            &format!("<monitor-groups xmlns=\"{MG_NS}\"><monitor-group><name>uplinks</name><enabled>true</enabled></monitor-group></monitor-groups>"),
        ),
    );
    let x = d.denied("olive", &vrrp_priority("eth9", 110));
    assert!(
        x.contains("may not create /ne-interfaces:interfaces/interface[name='eth9']"),
        "{x}"
    );
    let x = d.denied(
        "olive",
        &edit(
            "running",
            &format!("<interfaces xmlns=\"{IF_NS}\"><interface><name>eth0</name><description>x</description></interface></interfaces>"),
        ),
    );
    assert!(x.contains("may not update"), "{x}");
    let running = d.running();
    assert!(running.contains("<priority>110</priority>") && !running.contains("eth9"));
}

/// A delete checks every node it removes: deleting the interface that holds a VRRP group
/// needs delete on the interface and on the group.
#[test]
fn a_delete_checks_the_whole_subtree() {
    let d = Device::new("w-delete");
    d.nacm(&format!(
        "{}{}",
        groups(&[group("g", &["u"])]),
        rule_list(
            "l",
            &["g"],
            &[rule(
                "interfaces",
                "<module-name>ne-interfaces</module-name><access-operations>create update delete</access-operations><action>permit</action>",
            )]
        )
    ));
    let delete = |name: &str| {
        edit(
            "running",
            &format!("<interfaces xmlns=\"{IF_NS}\" xmlns:nc=\"{BASE}\"><interface nc:operation=\"delete\"><name>{name}</name></interface></interfaces>"),
        )
    };
    let x = d.denied("u", &delete("eth0"));
    assert!(
        x.contains("may not delete /ne-interfaces:interfaces/interface[name='eth0']/ne-vrrp:vrrp"),
        "{x}"
    );
    assert!(d.running().contains("<name>eth0</name>"));
    // eth0 is also bound to a monitor group (a leafref): the recovery user moves it out first;
    // eth1 has nothing of another module.
    d.ok("u", &delete("eth1"));
    assert!(!d.running().contains("eth1"));
}

/// access-operations: create permitted, delete not.
#[test]
fn access_operations_select_the_operations() {
    let d = Device::new("w-bits");
    d.nacm(&format!(
        "{}{}",
        groups(&[group("g", &["u"])]),
        rule_list(
            "l",
            &["g"],
            &[rule(
                "create-bfd",
                "<path>/ne-bfd:bfd</path><access-operations>create</access-operations><action>permit</action>",
            )]
        )
    ));
    d.ok("u", &edit("running", &bfd(&bfd_session("c", 3))));
    let x = d.denied(
        "u",
        &edit(
            "running",
            &format!("<bfd xmlns=\"{BFD_NS}\" xmlns:nc=\"{BASE}\"><session nc:operation=\"delete\"><name>c</name></session></bfd>"),
        ),
    );
    assert!(
        x.contains("may not delete /ne-bfd:bfd/session[name='c']"),
        "{x}"
    );
    let x = d.denied(
        "u",
        &edit(
            "running",
            &bfd("<session><name>c</name><peer-ip>10.9.9.9</peer-ip></session>"),
        ),
    );
    assert!(
        x.contains("may not update /ne-bfd:bfd/session[name='c']/peer-ip"),
        "{x}"
    );
}

/// A path rule with a key: one session writable, the other not.
#[test]
fn a_path_with_a_key_permits_one_entry() {
    let d = Device::new("w-key");
    d.nacm(&format!(
        "{}{}",
        groups(&[group("g", &["u"])]),
        rule_list(
            "l",
            &["g"],
            &[rule(
                "session-a",
                "<path>/ne-bfd:bfd/session[name='a']</path><access-operations>update</access-operations><action>permit</action>",
            )]
        )
    ));
    let peer = |name: &str| {
        edit(
            "running",
            &bfd(&format!(
                "<session><name>{name}</name><peer-ip>10.1.1.1</peer-ip></session>"
            )),
        )
    };
    d.ok("u", &peer("a"));
    let x = d.denied("u", &peer("b"));
    assert!(x.contains("/ne-bfd:bfd/session[name='b']/peer-ip"), "{x}");
}

/// Rule order decides writes too: a deny of one entry before a module permit wins, after it
/// does not.
#[test]
fn rule_order_decides_writes() {
    let d = Device::new("w-order");
    let permit = rule(
        "permit-bfd",
        "<module-name>ne-bfd</module-name><access-operations>*</access-operations><action>permit</action>",
    );
    let deny = rule(
        "deny-b",
        "<path>/ne-bfd:bfd/session[name='b']</path><access-operations>*</access-operations><action>deny</action>",
    );
    let set = |first: &str, second: &str| {
        d.nacm(&format!(
            "{}{}",
            groups(&[group("g", &["u"])]),
            rule_list("l", &["g"], &[first.to_string(), second.to_string()])
        ))
    };
    let peer_b = edit(
        "running",
        &bfd("<session><name>b</name><peer-ip>10.2.2.2</peer-ip></session>"),
    );
    set(&deny, &permit);
    let x = d.denied("u", &peer_b);
    assert!(
        x.contains("denied by rule 'deny-b' of rule-list 'l'"),
        "{x}"
    );
    set(&permit, &deny);
    d.ok("u", &peer_b);
    // Across rule-lists: the earlier list wins (a new value: an unchanged one is no write).
    let peer_b = edit(
        "running",
        &bfd("<session><name>b</name><peer-ip>10.3.3.3</peer-ip></session>"),
    );
    d.nacm(&format!(
        "{}{}{}",
        groups(&[group("g", &["u"])]),
        rule_list("first", &["g"], std::slice::from_ref(&deny)),
        rule_list("second", &["*"], std::slice::from_ref(&permit))
    ));
    let x = d.denied("u", &peer_b);
    assert!(x.contains("rule-list 'first'"), "{x}");
}

/// default-deny-write (ietf-system authentication) and default-deny-all (/nacm): even with
/// write-default permit, only a rule lets a user write there.
#[test]
fn default_deny_marks_hold_against_write_default_permit() {
    let d = Device::new("w-marks");
    d.nacm(&format!(
        "<write-default>permit</write-default>{}",
        groups(&[group("g", &["u"])])
    ));
    d.ok("u", &edit("running", &bfd(&bfd_session("c", 3))));
    let x = d.denied(
        "u",
        &edit(
            "running",
            &format!("<system xmlns=\"{SYS_NS}\"><authentication><user><name>eve</name></user></authentication></system>"),
        ),
    );
    assert!(x.contains("marked nacm:default-deny-write"), "{x}");
    let x = d.denied(
        "u",
        &edit(
            "running",
            &format!("<nacm xmlns=\"{NACM_NS}\"><write-default>deny</write-default></nacm>"),
        ),
    );
    assert!(x.contains("marked nacm:default-deny-all"), "{x}");
    assert!(d
        .running()
        .contains("<write-default>permit</write-default>"));
}

/// copy-config, delete-config and rollback are writes of their target, node by node.
#[test]
fn copy_delete_and_rollback_are_checked_writes() {
    let d = Device::new("w-copy");
    ops(&d);
    // Startup from running (recovery), then a restricted user's copy of an inline config
    // without the interfaces: it would delete them.
    d.ok(
        ADMIN,
        "<copy-config><target><startup/></target><source><running/></source></copy-config>",
    );
    let x = d.denied(
        "olive",
        &format!(
            "<copy-config><target><running/></target><source><config>{}</config></source></copy-config>",
            bfd(&bfd_session("a", 1))
        ),
    );
    assert!(x.contains("may not delete"), "{x}");
    // delete-config: exec permitted by a rule, then the data check of startup.
    d.nacm(&format!(
        "{}{}",
        groups(&[group("ops", &["olive"])]),
        rule_list(
            "ops",
            &["ops"],
            &[rule(
                "may-delete-config",
                "<module-name>ietf-netconf</module-name><rpc-name>delete-config</rpc-name><access-operations>exec</access-operations><action>permit</action>",
            )]
        )
    ));
    let x = d.denied(
        "olive",
        "<delete-config><target><startup/></target></delete-config>",
    );
    assert!(x.contains("may not delete"), "{x}");
    assert!(d.get_config(ADMIN).contains("<name>eth0</name>"));
    // Rollback to before the bfd session c: deleting c needs delete on ne-bfd.
    ops(&d);
    let before_c = d.server.store.generation();
    d.ok("olive", &edit("running", &bfd(&bfd_session("c", 3))));
    d.nacm(&format!(
        "{}{}",
        groups(&[group("ops", &["olive"])]),
        rule_list(
            "ops",
            &["ops"],
            &[rule(
                "create-only",
                "<module-name>ne-bfd</module-name><access-operations>create</access-operations><action>permit</action>",
            )]
        )
    ));
    let x = d.denied(
        "olive",
        &format!("<rollback xmlns=\"{NE_SYS_NS}\"><id>{before_c}</id></rollback>"),
    );
    assert!(x.contains("denied"), "{x}");
}

/// A candidate edit is checked when it is made; the commit is an operation (exec) only, and
/// test-only edits are checked as real ones.
#[test]
fn candidate_and_test_only_edits_are_checked() {
    let d = Device::new("w-candidate");
    ops(&d);
    d.ok("olive", &edit("candidate", &bfd(&bfd_session("c", 3))));
    d.denied(
        "olive",
        &edit(
            "candidate",
            &format!("<interfaces xmlns=\"{IF_NS}\"><interface><name>eth7</name></interface></interfaces>"),
        ),
    );
    d.ok("olive", "<commit/>");
    assert!(d.running().contains("<name>c</name>") && !d.running().contains("eth7"));
    let test_only = format!(
        "<edit-config><target><running/></target><test-option>test-only</test-option><config><interfaces xmlns=\"{IF_NS}\"><interface><name>eth7</name></interface></interfaces></config></edit-config>"
    );
    d.denied("olive", &test_only);
    d.ok(ADMIN, &test_only);
}
