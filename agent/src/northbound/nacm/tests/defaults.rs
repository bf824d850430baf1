//! What decides when no rule matches, and what bypasses the rules (§3.4.4 to §3.4.6).

use super::*;

#[test]
fn every_default_decides_when_no_rule_matches() {
    let nacm = Nacm {
        read_default: Deny,
        write_default: Permit,
        exec_default: Deny,
        ..Nacm::default()
    };
    let a = nacm.for_user("u", &[], false);
    let node = [seg("ne-vrrp", "vrrp")];
    let d = a.data(Read, &node[..], None);
    assert_eq!((d.allowed, d.by), (false, By::Default("read-default")));
    for op in [Create, Update, Delete] {
        let d = a.data(op, &node[..], None);
        assert_eq!((d.allowed, d.by), (true, By::Default("write-default")));
    }
    let d = a.data(Exec, &node[..], None);
    assert_eq!((d.allowed, d.by), (false, By::Default("exec-default")));
    assert_eq!(
        a.rpc(NC, "get", None),
        Decision {
            allowed: false,
            by: By::Default("exec-default")
        }
    );
    let d = a.notification("ne-vrrp", "state-change", None);
    assert_eq!((d.allowed, d.by), (false, By::Default("read-default")));
}

#[test]
fn default_deny_all_denies_everything_a_rule_does_not_permit() {
    let nacm = rules(vec![rule(
        "permit-read-users",
        "*",
        path("/ietf-system:system/authentication"),
        "read",
        Permit,
    )]);
    let nacm = Nacm {
        write_default: Permit,
        ..nacm
    };
    let a = nacm.for_user("u", &[], false);
    let auth = [
        seg("ietf-system", "system"),
        seg("ietf-system", "authentication"),
    ];
    let all = Some(DefaultDeny::All);
    assert_eq!(
        a.data(Read, &auth[..], all).by,
        by_rule("l", "permit-read-users")
    );
    for op in [Create, Update, Delete, Exec] {
        assert_eq!(
            a.data(op, &auth[..], all),
            Decision {
                allowed: false,
                by: By::DefaultDenyAll
            }
        );
    }
    assert_eq!(a.data(Read, &nacm_node()[..], all).by, By::DefaultDenyAll);
    assert_eq!(a.rpc("ne-system", "reboot", all).by, By::DefaultDenyAll);
    assert_eq!(
        a.notification("ne-system", "secret", all).by,
        By::DefaultDenyAll
    );
}

#[test]
fn default_deny_write_denies_writes_only() {
    let nacm = Nacm {
        write_default: Permit,
        ..rules(vec![rule(
            "permit-hostname",
            "*",
            path("/ietf-system:system/hostname"),
            "update",
            Permit,
        )])
    };
    let a = nacm.for_user("u", &[], false);
    let w = Some(DefaultDeny::Write);
    let hostname = [seg("ietf-system", "system"), seg("ietf-system", "hostname")];
    let clock = [seg("ietf-system", "system"), seg("ietf-system", "clock")];
    assert_eq!(
        a.data(Update, &hostname[..], w).by,
        by_rule("l", "permit-hostname")
    );
    assert_eq!(a.data(Create, &hostname[..], w).by, By::DefaultDenyWrite);
    assert_eq!(
        a.data(Delete, &clock[..], w),
        Decision {
            allowed: false,
            by: By::DefaultDenyWrite
        }
    );
    assert_eq!(a.data(Read, &clock[..], w).by, By::Default("read-default"));
    // It does not apply to rpcs: exec-default decides.
    assert_eq!(
        a.rpc("ietf-system", "set-current-datetime", w).by,
        By::Default("exec-default")
    );
}

#[test]
fn the_recovery_session_may_do_everything() {
    let mut nacm = appendix_a();
    nacm.read_default = Deny;
    nacm.exec_default = Deny;
    let a = nacm.for_user("guest", &[], true);
    let recovery = Decision {
        allowed: true,
        by: By::Recovery,
    };
    assert_eq!(
        a.data(Read, &nacm_node()[..], Some(DefaultDeny::All)),
        recovery
    );
    assert_eq!(a.data(Delete, &ncm_sessions()[..], None), recovery);
    assert_eq!(a.rpc(NC, "kill-session", None), recovery);
    assert_eq!(
        a.notification(ACME_SYS, "sys-config-change", None),
        recovery
    );
    assert!(a.uniform_below(Read, &[seg(NACM, "nacm")][..]));
}

#[test]
fn with_nacm_disabled_everything_is_permitted() {
    let mut nacm = appendix_a();
    nacm.enable_nacm = false;
    let a = nacm.for_user("guest", &[], false);
    let off = Decision {
        allowed: true,
        by: By::Disabled,
    };
    assert_eq!(a.data(Read, &nacm_node()[..], None), off);
    assert_eq!(
        a.data(Update, &ncm_sessions()[..], Some(DefaultDeny::Write)),
        off
    );
    assert_eq!(a.rpc(NC, "delete-config", None), off);
    assert_eq!(a.notification(ACME_SYS, "sys-config-change", None), off);
    assert_eq!(
        nacm.for_user("guest", &[], true).rpc(NC, "get", None).by,
        By::Disabled
    );
}

#[test]
fn close_session_is_always_permitted() {
    let nacm = Nacm {
        exec_default: Deny,
        ..rules(vec![rule("deny-all", "*", Target::Any, "*", Deny)])
    };
    let a = nacm.for_user("u", &[], false);
    assert_eq!(
        a.rpc(NC, "close-session", Some(DefaultDeny::All)),
        Decision {
            allowed: true,
            by: By::CloseSession
        }
    );
    assert_eq!(a.rpc(NC, "get", None).by, by_rule("l", "deny-all"));
    // Only the ietf-netconf one.
    assert_eq!(
        a.rpc("ne-cli", "close-session", None).by,
        by_rule("l", "deny-all")
    );
}

#[test]
fn kill_session_and_delete_config_are_denied_unless_a_rule_permits() {
    let nacm = rules(vec![rule(
        "permit-kill",
        NC,
        Target::Rpc("kill-session".into()),
        "exec",
        Permit,
    )]);
    let a = nacm.for_user("u", &[], false);
    assert_eq!(
        a.rpc(NC, "kill-session", None).by,
        by_rule("l", "permit-kill")
    );
    let d = a.rpc(NC, "delete-config", None);
    assert_eq!((d.allowed, d.by), (false, By::KillSessionOrDeleteConfig));
    assert_eq!(
        a.rpc(NC, "get-config", None).by,
        By::Default("exec-default")
    );
    // Another module's rpc of the same name is an ordinary rpc.
    assert!(a.rpc("ne-cli", "kill-session", None).allowed);
}

#[test]
fn subscription_events_are_always_sent() {
    let nacm = Nacm {
        read_default: Deny,
        ..rules(vec![rule("deny-all", "*", Target::Any, "*", Deny)])
    };
    let a = nacm.for_user("u", &[], false);
    for name in ["replayComplete", "notificationComplete"] {
        assert_eq!(
            a.notification("nc-notifications", name, None).by,
            By::SubscriptionEvent
        );
    }
    assert!(!a.notification("ne-vrrp", "replayComplete", None).allowed);
}
