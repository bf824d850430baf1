//! RFC 8341 Appendix A's example rule set, loaded into running and exercised user by user. The
//! example's acme modules are the device's own: `acme-interfaces` is ne-interfaces, A.4's
//! `acme-netconf` configuration parameters are the monitor groups, and A.5's
//! `sys-config-change` is RFC 6470's netconf-config-change.

use super::*;

/// A.1 groups, A.2 module rules, A.3 protocol operation rules, A.4 data node rules and A.5
/// notification rules. The rule-list of A.3's denials comes before the limited group's
/// `permit-exec`, so that kill-session and delete-config stay denied to it.
pub fn appendix_a() -> String {
    [
        groups(&[
            group("admin", &["admin", "andy"]),
            group("limited", &["wilma", "bam-bam"]),
            group("guest", &["guest", "guest@example.com"]),
        ]),
        rule_list(
            "guest-limited-acl",
            &["limited", "guest"],
            &[
                rule(
                    "deny-kill-session",
                    "<module-name>ietf-netconf</module-name><rpc-name>kill-session</rpc-name>\
                     <access-operations>exec</access-operations><action>deny</action>",
                ),
                rule(
                    "deny-delete-config",
                    "<module-name>ietf-netconf</module-name><rpc-name>delete-config</rpc-name>\
                     <access-operations>exec</access-operations><action>deny</action>",
                ),
                rule(
                    "permit-dummy-interface",
                    "<module-name>*</module-name>\
                     <path>/ne-interfaces:interfaces/interface[name='dummy']</path>\
                     <access-operations>read update</access-operations><action>permit</action>",
                ),
            ],
        ),
        rule_list(
            "guest-acl",
            &["guest"],
            &[
                rule(
                    "deny-ncm",
                    "<module-name>ietf-netconf-monitoring</module-name>\
                     <access-operations>*</access-operations><action>deny</action>",
                ),
                rule(
                    "deny-nacm",
                    "<path>/ietf-netconf-acm:nacm</path><access-operations>*</access-operations>\
                     <action>deny</action>",
                ),
            ],
        ),
        rule_list(
            "limited-acl",
            &["limited"],
            &[
                rule(
                    "permit-ncm",
                    "<module-name>ietf-netconf-monitoring</module-name>\
                     <access-operations>read</access-operations><action>permit</action>",
                ),
                rule(
                    "permit-exec",
                    "<module-name>*</module-name><access-operations>exec</access-operations>\
                     <action>permit</action>",
                ),
                rule(
                    "permit-edit-config",
                    "<module-name>ietf-netconf</module-name><rpc-name>edit-config</rpc-name>\
                     <access-operations>exec</access-operations><action>permit</action>",
                ),
                rule(
                    "permit-monitor-groups",
                    "<path>/ne-monitor-group:monitor-groups</path>\
                     <access-operations>read create update delete</access-operations>\
                     <action>permit</action>",
                ),
            ],
        ),
        rule_list(
            "admin-acl",
            &["admin"],
            &[
                rule(
                    "permit-all",
                    "<module-name>*</module-name><access-operations>*</access-operations>\
                     <action>permit</action>",
                ),
                rule(
                    "permit-interface",
                    "<path>/ne-interfaces:interfaces/interface</path>\
                     <access-operations>*</access-operations><action>permit</action>",
                ),
            ],
        ),
        rule_list(
            "sys-acl",
            &["limited", "guest"],
            &[rule(
                "deny-config-change",
                "<module-name>ietf-netconf-notifications</module-name>\
                 <notification-name>netconf-config-change</notification-name>\
                 <access-operations>read</access-operations><action>deny</action>",
            )],
        ),
    ]
    .concat()
}

fn device(tag: &str) -> Device {
    let d = Device::new(tag);
    d.nacm(&appendix_a());
    d
}

const KILL_99: &str = "<kill-session><session-id>99</session-id></kill-session>";
const GET: &str = "<get/>";

#[test]
fn the_rule_set_loads_as_written() {
    let d = device("a-load");
    let nacm = d.server.access.current();
    let lists: Vec<&str> = nacm.rule_lists.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        lists,
        [
            "guest-limited-acl",
            "guest-acl",
            "limited-acl",
            "admin-acl",
            "sys-acl"
        ],
        "rule-lists keep their configured (user) order"
    );
    assert_eq!(nacm.groups.len(), 3);
    assert!(d.running().contains("<name>deny-kill-session</name>"));
}

/// The admin group (andy is not the recovery user) may do everything, /nacm included.
#[test]
fn the_admin_group_may_do_everything() {
    let d = device("a-admin");
    // kill-session gets past access control (the session does not exist).
    let r = d.call("andy", KILL_99);
    assert!(r.xml.contains("no session 99"), "{}", r.xml);
    assert!(d
        .get_config("andy")
        .contains("<name>deny-kill-session</name>"));
    d.ok(
        "andy",
        &edit(
            "running",
            &format!("<interfaces xmlns=\"{IF_NS}\"><interface><name>eth2</name></interface></interfaces>"),
        ),
    );
    assert!(d.running().contains("<name>eth2</name>"));
}

/// A.2/A.3: the limited group executes anything but kill-session and delete-config, and reads
/// the monitoring data but not /nacm.
#[test]
fn the_limited_group_executes_reads_monitoring_but_not_nacm() {
    let d = device("a-limited");
    for user in ["wilma", "bam-bam"] {
        let x = d.denied(user, KILL_99);
        assert!(
            x.contains("denied by rule 'deny-kill-session' of rule-list 'guest-limited-acl'"),
            "{x}"
        );
        assert!(x.contains("<error-type>protocol</error-type>"), "{x}");
        d.denied(
            user,
            "<delete-config><target><startup/></target></delete-config>",
        );
        let all = d.ok(user, GET);
        assert!(all.contains("<netconf-state"), "permit-ncm: {all}");
        assert!(!all.contains("<nacm"), "nacm:default-deny-all: {all}");
        assert!(all.contains("<bfd"), "read-default permit: {all}");
    }
}

/// A.4: the limited group writes the monitor groups, and only updates the dummy interface.
#[test]
fn the_limited_group_writes_only_what_its_rules_permit() {
    let d = device("a-limited-write");
    d.ok(
        "wilma",
        &edit(
            "running",
            &format!("<monitor-groups xmlns=\"{MG_NS}\"><monitor-group><name>new</name><enabled>true</enabled></monitor-group></monitor-groups>"),
        ),
    );
    assert!(d.running().contains("<name>new</name>"));
    // The dummy interface: update yes (its description exists after the recovery user sets it),
    // create no.
    let describe = |what: &str| {
        edit(
            "running",
            &format!("<interfaces xmlns=\"{IF_NS}\"><interface><name>dummy</name><description>{what}</description></interface></interfaces>"),
        )
    };
    let x = d.denied("wilma", &describe("first"));
    assert!(
        x.contains("may not create /ne-interfaces:interfaces/interface[name='dummy']/description"),
        "{x}"
    );
    d.ok(ADMIN, &describe("first"));
    d.ok("wilma", &describe("second"));
    assert!(d.running().contains("<description>second</description>"));
    // Any other interface: write-default deny.
    let x = d.denied(
        "wilma",
        &edit(
            "running",
            &format!("<interfaces xmlns=\"{IF_NS}\"><interface><name>eth0</name><description>x</description></interface></interfaces>"),
        ),
    );
    assert!(
        x.contains("write-default is deny and no rule permits it"),
        "{x}"
    );
}

/// A.2/A.4: the guest group reads neither the monitoring data nor /nacm, and may not run the
/// monitoring module's get-schema.
#[test]
fn the_guest_group_reads_no_monitoring_data() {
    let d = device("a-guest");
    for user in ["guest", "guest@example.com"] {
        let all = d.ok(user, GET);
        assert!(!all.contains("<netconf-state"), "deny-ncm: {all}");
        assert!(!all.contains("<nacm"), "deny-nacm: {all}");
        assert!(all.contains("<interfaces"), "{all}");
        let x = d.denied(
            user,
            &format!("<get-schema xmlns=\"{NCM_NS}\"><identifier>ne-bfd</identifier></get-schema>"),
        );
        assert!(
            x.contains("denied by rule 'deny-ncm' of rule-list 'guest-acl'"),
            "{x}"
        );
        // get-config is exec-permitted by exec-default (guest has no permit-exec rule).
        d.ok(user, "<get-config><source><running/></source></get-config>");
    }
}

/// A.5: netconf-config-change is withheld from the limited and guest groups, not from admin.
#[test]
fn config_change_notifications_follow_the_notification_rule() {
    let d = device("a-notif");
    let access = &d.server.access;
    let nc_notif = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications";
    assert!(access.may_receive("andy", false, nc_notif, "netconf-config-change"));
    let before = d.counter("denied-notifications");
    assert!(!access.may_receive("wilma", false, nc_notif, "netconf-config-change"));
    assert!(!access.may_receive("guest", false, nc_notif, "netconf-config-change"));
    assert_eq!(d.counter("denied-notifications"), before + 2);
    // Other notifications: read-default permit.
    assert!(access.may_receive("wilma", false, nc_notif, "netconf-session-start"));
    assert!(access.may_receive("wilma", false, VRRP_NS, "state-change"));
}
