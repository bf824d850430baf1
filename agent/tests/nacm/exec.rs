//! Protocol operation access (RFC 8341 §3.4.4): every rpc is checked by module and name
//! before it does anything.

use super::*;

const KILL_99: &str = "<kill-session><session-id>99</session-id></kill-session>";
const GET_CONFIG: &str = "<get-config><source><running/></source></get-config>";

/// The RFC defaults: exec permitted, kill-session and delete-config denied unless a rule
/// permits them, to a user in no group at all.
#[test]
fn defaults_permit_exec_but_kill_session_and_delete_config() {
    let d = Device::new("x-defaults");
    d.ok("nobody", GET_CONFIG);
    d.ok("nobody", "<get/>");
    d.ok("nobody", "<lock><target><candidate/></target></lock>");
    d.ok("nobody", "<unlock><target><candidate/></target></unlock>");
    let before = d.counter("denied-operations");
    let x = d.denied("nobody", KILL_99);
    assert!(
        x.contains("access denied: user 'nobody' may not execute /ietf-netconf:kill-session: kill-session and delete-config are denied unless a rule permits them"),
        "{x}"
    );
    assert!(x.contains("<error-type>protocol</error-type>"), "{x}");
    let x = d.denied(
        "nobody",
        "<delete-config><target><startup/></target></delete-config>",
    );
    assert!(x.contains("/ietf-netconf:delete-config"), "{x}");
    assert_eq!(d.counter("denied-operations"), before + 2);
}

/// The recovery user is never stopped: kill-session reaches the operation itself.
#[test]
fn the_recovery_user_is_not_subject_to_access_control() {
    let d = Device::new("x-recovery");
    d.nacm(
        "<exec-default>deny</exec-default><read-default>deny</read-default>\
         <write-default>deny</write-default>",
    );
    let r = d.call(ADMIN, KILL_99);
    assert!(r.xml.contains("no session 99"), "{}", r.xml);
    assert!(d.running().contains("<bfd"));
    d.ok(ADMIN, &edit("running", &bfd(&bfd_session("c", 3))));
}

/// exec-default deny: only what a rule permits runs; close-session always does.
#[test]
fn exec_default_deny_leaves_rule_permitted_operations_and_close_session() {
    let d = Device::new("x-exec-deny");
    d.nacm(&format!(
        "<exec-default>deny</exec-default>{}{}",
        groups(&[group("noc", &["noc"])]),
        rule_list(
            "noc",
            &["noc"],
            &[rule(
                "permit-get-config",
                "<module-name>ietf-netconf</module-name><rpc-name>get-config</rpc-name>\
                 <access-operations>exec</access-operations><action>permit</action>",
            )]
        )
    ));
    d.ok("noc", GET_CONFIG);
    let x = d.denied("noc", "<get/>");
    assert!(
        x.contains(
            "may not execute /ietf-netconf:get: exec-default is deny and no rule permits it"
        ),
        "{x}"
    );
    // A user in no group has no rules at all: exec-default.
    d.denied("nobody", GET_CONFIG);
    let r = d.call("noc", "<close-session/>");
    assert!(r.xml.contains("<ok/>"), "{}", r.xml);
}

/// A rule by rpc name denies that operation and no other; a module rule denies every
/// operation of its module (ne-system's rollback and commit-diff).
#[test]
fn rules_by_rpc_name_and_by_module() {
    let d = Device::new("x-names");
    d.nacm(&format!(
        "{}{}",
        groups(&[group("ops", &["olive"])]),
        rule_list(
            "ops",
            &["ops"],
            &[
                rule(
                    "no-validate",
                    "<module-name>ietf-netconf</module-name><rpc-name>validate</rpc-name>\
                     <access-operations>exec</access-operations><action>deny</action>",
                ),
                rule(
                    "no-ne-system",
                    "<module-name>ne-system</module-name>\
                     <access-operations>exec</access-operations><action>deny</action>",
                ),
            ]
        )
    ));
    let x = d.denied(
        "olive",
        "<validate><source><candidate/></source></validate>",
    );
    assert!(
        x.contains("denied by rule 'no-validate' of rule-list 'ops'"),
        "{x}"
    );
    d.ok("olive", "<discard-changes/>");
    let x = d.denied(
        "olive",
        &format!("<rollback xmlns=\"{NE_SYS_NS}\"><id>1</id></rollback>"),
    );
    assert!(x.contains("/ne-system:rollback"), "{x}");
    d.denied(
        "olive",
        &format!("<commit-diff xmlns=\"{NE_SYS_NS}\"><from-id>1</from-id></commit-diff>"),
    );
    // Someone outside the group is not concerned.
    d.ok(
        "nobody",
        "<validate><source><candidate/></source></validate>",
    );
}

/// A permit rule for kill-session lifts its default denial (netopeer2's test_nacm
/// "kill-session" case).
#[test]
fn a_rule_may_permit_kill_session() {
    let d = Device::new("x-kill");
    d.nacm(&format!(
        "{}{}",
        groups(&[group("ops", &["olive"])]),
        rule_list(
            "ops",
            &["ops"],
            &[rule(
                "may-kill",
                "<module-name>ietf-netconf</module-name><rpc-name>kill-session</rpc-name>\
                 <access-operations>exec</access-operations><action>permit</action>",
            )]
        )
    ));
    let victim = d.session("nobody");
    let r = d.call(
        "olive",
        &format!(
            "<kill-session><session-id>{}</session-id></kill-session>",
            victim.id
        ),
    );
    assert!(r.xml.contains("<ok/>"), "{}", r.xml);
}

/// An operation with `access-operations` that does not hold exec is not decided by the rule.
#[test]
fn a_rule_without_exec_does_not_decide_an_operation() {
    let d = Device::new("x-bits");
    d.nacm(&format!(
        "<exec-default>deny</exec-default>{}{}",
        groups(&[group("ops", &["olive"])]),
        rule_list(
            "ops",
            &["ops"],
            &[rule(
                "read-only-get",
                "<module-name>ietf-netconf</module-name><rpc-name>get</rpc-name>\
                 <access-operations>read</access-operations><action>permit</action>",
            )]
        )
    ));
    let x = d.denied("olive", "<get/>");
    assert!(x.contains("exec-default is deny"), "{x}");
}

/// enable-nacm false: nobody is checked, for any operation, read or write.
#[test]
fn disabled_nacm_permits_everything() {
    let d = Device::new("x-disabled");
    d.nacm("<enable-nacm>false</enable-nacm>");
    let r = d.call("nobody", KILL_99);
    assert!(r.xml.contains("no session 99"), "{}", r.xml);
    assert!(d.get_config("nobody").contains("<nacm"));
    d.ok("nobody", &edit("running", &bfd(&bfd_session("c", 3))));
}
