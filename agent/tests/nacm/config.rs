//! The NACM configuration itself: rules that do not compile are refused with nothing applied,
//! groups (configured, `*`, external), and the counters.

use super::*;

const BAD_PATH: &str = "/no-such-module:thing";

fn bad_rule_list() -> String {
    rule_list(
        "noc-rules",
        &["noc"],
        &[rule(
            "deny-thing",
            &format!("<path>{BAD_PATH}</path><access-operations>read</access-operations><action>deny</action>"),
        )],
    )
}

/// A commit whose /nacm has a rule path that does not compile is refused: the error names
/// the rule-list, the rule and the path, running and the rules in force stay as they were.
#[test]
fn a_rule_with_an_invalid_path_is_refused_and_nothing_changes() {
    let d = Device::new("c-bad-path");
    d.nacm(&groups(&[group("noc", &["noc"])]));
    let (before, in_force) = (d.running(), d.server.access.current());
    let r = d.call(
        ADMIN,
        &edit(
            "running",
            &format!(
                "<nacm xmlns=\"{NACM_NS}\">{}</nacm>{}",
                bad_rule_list(),
                bfd(&bfd_session("c", 3))
            ),
        ),
    );
    assert!(r.is_error, "{}", r.xml);
    assert!(
        r.xml.contains("rule 'deny-thing' of rule-list 'noc-rules': invalid path '/no-such-module:thing': unknown module or prefix 'no-such-module'"),
        "{}",
        r.xml
    );
    assert!(
        r.xml.contains("/nacm:nacm/nacm:rule-list[nacm:name='noc-rules']/nacm:rule[nacm:name='deny-thing']/nacm:path</error-path>"),
        "{}",
        r.xml
    );
    assert_eq!(d.running(), before, "nothing of the edit is applied");
    assert_eq!(d.server.access.current(), in_force);
    // The same through the candidate: edited, refused by validate and by commit.
    d.ok(
        ADMIN,
        &edit(
            "candidate",
            &format!("<nacm xmlns=\"{NACM_NS}\">{}</nacm>", bad_rule_list()),
        ),
    );
    for body in [
        "<validate><source><candidate/></source></validate>",
        "<commit/>",
    ] {
        let r = d.call(ADMIN, body);
        assert!(
            r.is_error && r.xml.contains("invalid path"),
            "{body}: {}",
            r.xml
        );
    }
    assert_eq!(d.running(), before);
    // The recovery user still works, and fixes it.
    d.ok(ADMIN, "<discard-changes/>");
    d.ok(ADMIN, &edit("running", &bfd(&bfd_session("c", 3))));
}

/// A path to a node the schema does not have (VRRP is under the interfaces, not at the top)
/// would never match: refused as invalid.
#[test]
fn a_rule_path_to_a_missing_node_is_refused() {
    let d = Device::new("c-missing-node");
    let r = d.call(
        ADMIN,
        &edit(
            "running",
            &format!(
                "<nacm xmlns=\"{NACM_NS}\">{}</nacm>",
                rule_list(
                    "noc",
                    &["noc"],
                    &[rule(
                        "hide-vrrp",
                        "<path>/vrrp:vrrp</path><access-operations>read</access-operations><action>deny</action>"
                    )]
                )
            ),
        ),
    );
    assert!(
        r.is_error
            && r.xml
                .contains("invalid path '/vrrp:vrrp': the schema has no node '/ne-vrrp:vrrp'"),
        "{}",
        r.xml
    );
    // The same rule with the path where VRRP is.
    d.nacm(&rule_list(
        "noc",
        &["noc"],
        &[rule(
            "hide-vrrp",
            "<path>/ne-interfaces:interfaces/interface/ne-vrrp:vrrp</path><access-operations>read</access-operations><action>deny</action>",
        )],
    ));
}

/// A group may name users the device does not know (external users): accepted; they get the
/// group's rules when they log in.
#[test]
fn a_group_naming_an_unknown_user_is_accepted() {
    let d = Device::new("c-unknown-user");
    d.nacm(&format!(
        "{}{}",
        groups(&[group("ops", &["nobody-here"]), group("empty", &[])]),
        rule_list(
            "ops",
            &["ops"],
            &[rule(
                "bfd",
                "<module-name>ne-bfd</module-name><access-operations>*</access-operations><action>permit</action>",
            )]
        )
    ));
    d.ok("nobody-here", &edit("running", &bfd(&bfd_session("c", 3))));
}

/// A rule-list for group `*` applies to every user that is in some group, and to nobody else.
#[test]
fn a_rule_list_for_every_group() {
    let d = Device::new("c-star");
    d.nacm(&format!(
        "{}{}",
        groups(&[group("g", &["u"])]),
        rule_list(
            "all",
            &["*"],
            &[rule(
                "bfd",
                "<module-name>ne-bfd</module-name><access-operations>*</access-operations><action>permit</action>",
            )]
        )
    ));
    d.ok("u", &edit("running", &bfd(&bfd_session("c", 3))));
    d.denied("nobody", &edit("running", &bfd(&bfd_session("d", 4))));
}

/// The recovery user gets through whatever the rules say, /nacm included.
#[test]
fn the_recovery_user_always_works() {
    let d = Device::new("c-recovery");
    d.nacm(&format!(
        "<read-default>deny</read-default><write-default>deny</write-default><exec-default>deny</exec-default>{}{}",
        groups(&[group("everyone", &["admin"])]),
        rule_list(
            "deny-all",
            &["*"],
            &[rule(
                "nothing",
                "<module-name>*</module-name><access-operations>*</access-operations><action>deny</action>",
            )]
        )
    ));
    assert!(d.running().contains("<name>nothing</name>"));
    d.ok(ADMIN, &edit("running", &bfd(&bfd_session("c", 3))));
    d.nacm("");
    d.ok("nobody", "<get/>");
}

/// External groups (`--nacm-groups`): used only while enable-external-groups is true; the
/// file is read again when it changes.
#[test]
fn external_groups_come_from_the_file() {
    let d = Device::new("c-external");
    let file = std::env::temp_dir().join(format!("ne-nacm-groups-{}", std::process::id()));
    std::fs::write(&file, "# user: groups\neve: ops noc\n").unwrap();
    d.server.access.load_groups(file.clone()).unwrap();
    let permit_ops = rule_list(
        "ops",
        &["ops"],
        &[rule(
            "bfd",
            "<module-name>ne-bfd</module-name><access-operations>*</access-operations><action>permit</action>",
        )],
    );
    d.nacm(&permit_ops);
    d.ok("eve", &edit("running", &bfd(&bfd_session("c", 3))));
    d.nacm(&format!(
        "<enable-external-groups>false</enable-external-groups>{permit_ops}"
    ));
    d.denied("eve", &edit("running", &bfd(&bfd_session("d", 4))));
    d.nacm(&permit_ops);
    // eve leaves ops: the file is read again at the next login (or on SIGHUP: reload).
    std::fs::write(&file, "eve: noc\nfrank: ops\n").unwrap();
    d.server.access.groups.reload();
    d.denied("eve", &edit("running", &bfd(&bfd_session("d", 4))));
    d.ok("frank", &edit("running", &bfd(&bfd_session("d", 4))));
    // A malformed file keeps the groups read before.
    std::fs::write(&file, "no colon here\n").unwrap();
    d.server.access.groups.reload();
    d.ok("frank", &edit("running", &bfd(&bfd_session("e", 5))));
    let _ = std::fs::remove_file(&file);
    assert!(d.server.access.load_groups(file).is_err());
}

/// The counters are /nacm state in <get>, read by the recovery user (and by users a rule lets
/// read /nacm).
#[test]
fn the_counters_count_each_kind_of_denial() {
    let d = Device::new("c-counters");
    let zero = |n: &str| d.counter(n);
    let (ops, writes) = (zero("denied-operations"), zero("denied-data-writes"));
    d.denied(
        "nobody",
        "<kill-session><session-id>9</session-id></kill-session>",
    );
    d.denied("nobody", &edit("running", &bfd(&bfd_session("c", 3))));
    d.denied("nobody", &edit("candidate", &bfd(&bfd_session("c", 3))));
    assert_eq!(d.counter("denied-operations"), ops + 1);
    assert_eq!(d.counter("denied-data-writes"), writes + 2);
    // A read that leaves things out is not a denial.
    d.get_config("nobody");
    assert_eq!(d.counter("denied-operations"), ops + 1);
}
