//! RFC 8341 Appendix A, user by user, and how users get their rule-lists.

use super::*;

#[test]
fn defaults_are_those_of_rfc_8341() {
    let n = Nacm::default();
    assert!(n.enable_nacm && n.enable_external_groups);
    assert_eq!(
        (n.read_default, n.write_default, n.exec_default),
        (Permit, Deny, Permit)
    );
    let a = n.for_user("nobody", &[], false);
    let node = [seg("ne-vrrp", "vrrp")];
    assert_eq!(
        a.data(Read, &node[..], None).by,
        By::Default("read-default")
    );
    assert!(a.data(Read, &node[..], None).allowed);
    assert!(!a.data(Update, &node[..], None).allowed);
    assert!(a.rpc(NC, "get-config", None).allowed);
    assert!(a.notification("ne-vrrp", "vrrp-state-change", None).allowed);
}

#[test]
fn appendix_a_admin_may_do_everything() {
    let nacm = appendix_a();
    for user in ["admin", "andy"] {
        let a = nacm.for_user(user, &[], false);
        let all = by_rule("admin-acl", "permit-all");
        for op in [Create, Read, Update, Delete] {
            assert_eq!(
                a.data(op, &interface(ETH0)[..], None),
                Decision {
                    allowed: true,
                    by: all
                }
            );
            assert!(a.data(op, &nacm_node()[..], Some(DefaultDeny::All)).allowed);
            assert!(a.data(op, &ncm_sessions()[..], None).allowed);
        }
        assert!(a.rpc(NC, "kill-session", None).allowed);
        assert!(a.rpc(NC, "delete-config", None).allowed);
        assert_eq!(a.notification(ACME_SYS, "sys-config-change", None).by, all);
    }
}

#[test]
fn appendix_a_limited_group() {
    let nacm = appendix_a();
    let a = nacm.for_user("wilma", &[], false);
    // A.2: monitoring data readable, not writable.
    assert_eq!(
        a.data(Read, &ncm_sessions()[..], None).by,
        by_rule("limited-acl", "permit-ncm")
    );
    assert_eq!(
        a.data(Update, &ncm_sessions()[..], None).by,
        By::Default("write-default")
    );
    // A.2 permit-exec, but A.3 denies kill-session and delete-config first.
    assert_eq!(
        a.rpc(NC, "get", None).by,
        by_rule("limited-acl", "permit-exec")
    );
    assert_eq!(
        a.rpc(NC, "edit-config", None).by,
        by_rule("limited-acl", "permit-exec")
    );
    let kill = a.rpc(NC, "kill-session", None);
    assert_eq!(
        (kill.allowed, kill.by),
        (false, by_rule("guest-limited-acl", "deny-kill-session"))
    );
    assert!(!a.rpc(NC, "delete-config", None).allowed);
    // A.4: the acme configuration parameters fully, the dummy interface read and update only.
    for op in [Create, Read, Update, Delete] {
        let d = a.data(op, &acme_config()[..], None);
        assert_eq!(
            (d.allowed, d.by),
            (true, by_rule("limited-acl", "permit-acme-config"))
        );
    }
    assert!(a.data(Update, &interface(DUMMY)[..], None).allowed);
    assert_eq!(
        a.data(Create, &interface(DUMMY)[..], None).by,
        By::Default("write-default")
    );
    assert!(!a.data(Delete, &interface(DUMMY)[..], None).allowed);
    // /nacm: no rule for limited; read by read-default, write by write-default.
    assert_eq!(
        a.data(Read, &nacm_node()[..], None).by,
        By::Default("read-default")
    );
    assert!(!a.data(Update, &nacm_node()[..], None).allowed);
    // A.5.
    assert_eq!(
        a.notification(ACME_SYS, "sys-config-change", None).by,
        by_rule("sys-acl", "deny-config-change")
    );
    assert!(a.notification(ACME_SYS, "sys-reboot", None).allowed);
}

#[test]
fn appendix_a_guest_group() {
    let nacm = appendix_a();
    for user in ["guest", "guest@example.com"] {
        let a = nacm.for_user(user, &[], false);
        // A.2: no access at all to the monitoring module, rpcs included.
        for op in [Read, Update] {
            assert_eq!(
                a.data(op, &ncm_sessions()[..], None).by,
                by_rule("guest-acl", "deny-ncm")
            );
        }
        assert_eq!(
            a.rpc(NCM, "get-schema", None).by,
            by_rule("guest-acl", "deny-ncm")
        );
        // A.4: /nacm denied, the dummy interface readable and updatable, other interfaces
        // readable by read-default only.
        let d = a.data(Read, &nacm_node()[..], None);
        assert_eq!(
            (d.allowed, d.by),
            (false, by_rule("guest-acl", "deny-nacm"))
        );
        let deeper = [seg(NACM, "nacm"), seg(NACM, "groups")];
        assert!(!a.data(Read, &deeper[..], None).allowed);
        assert!(a.data(Read, &interface(DUMMY)[..], None).allowed);
        assert!(a.data(Update, &interface(DUMMY)[..], None).allowed);
        assert!(!a.data(Delete, &interface(DUMMY)[..], None).allowed);
        assert_eq!(
            a.data(Read, &interface(ETH0)[..], None).by,
            By::Default("read-default")
        );
        assert!(!a.data(Update, &acme_config()[..], None).allowed);
        // A.3 and exec-default.
        assert!(!a.rpc(NC, "kill-session", None).allowed);
        assert!(!a.rpc(NC, "delete-config", None).allowed);
        assert_eq!(a.rpc(NC, "get", None).by, By::Default("exec-default"));
        assert!(!a.notification(ACME_SYS, "sys-config-change", None).allowed);
    }
}

#[test]
fn a_user_in_no_group_gets_the_defaults_and_not_the_star_rule_lists() {
    let mut nacm = appendix_a();
    nacm.rule_lists.insert(
        0,
        rule_list(
            "everyone",
            &["*"],
            vec![rule("deny-all", "*", Target::Any, "*", Deny)],
        ),
    );
    let a = nacm.for_user("mallory", &[], false);
    assert_eq!(
        a.data(Read, &ncm_sessions()[..], None).by,
        By::Default("read-default")
    );
    assert_eq!(
        a.rpc(NC, "kill-session", None).by,
        By::KillSessionOrDeleteConfig
    );
}

#[test]
fn a_star_rule_list_applies_to_every_user_with_a_group() {
    let mut nacm = appendix_a();
    nacm.rule_lists.insert(
        0,
        rule_list(
            "everyone",
            &["*"],
            vec![rule("deny-ncm-all", NCM, Target::Any, "*", Deny)],
        ),
    );
    for user in ["admin", "wilma", "guest"] {
        let a = nacm.for_user(user, &[], false);
        assert_eq!(
            a.data(Read, &ncm_sessions()[..], None).by,
            by_rule("everyone", "deny-ncm-all")
        );
    }
}

#[test]
fn external_groups_join_the_configured_ones() {
    let nacm = appendix_a();
    let radius = ["admin".to_string()];
    let a = nacm.for_user("radius-user", &radius, false);
    assert_eq!(
        a.rpc(NC, "kill-session", None).by,
        by_rule("admin-acl", "permit-all")
    );
    // Both a configured and an external group: rule-lists of both, in configuration order.
    let both = nacm.for_user("wilma", &radius, false);
    assert_eq!(
        both.rpc(NC, "kill-session", None).by,
        by_rule("guest-limited-acl", "deny-kill-session")
    );
    assert!(!both.rpc(NC, "delete-config", None).allowed);
    assert_eq!(
        both.data(Delete, &interface(ETH0)[..], None).by,
        by_rule("admin-acl", "permit-all")
    );
}

#[test]
fn external_groups_are_ignored_when_disabled() {
    let mut nacm = appendix_a();
    nacm.enable_external_groups = false;
    let a = nacm.for_user("radius-user", &["admin".to_string()], false);
    assert_eq!(
        a.rpc(NC, "kill-session", None).by,
        By::KillSessionOrDeleteConfig
    );
    assert_eq!(
        a.data(Update, &interface(ETH0)[..], None).by,
        By::Default("write-default")
    );
}
