//! The rpc-error texts of denials.

use super::*;

#[test]
fn a_rule_denial_reads_well() {
    let nacm = noc();
    let a = nacm.for_user("noc", &[], false);
    let keys = [("interface", "eth0"), ("vrid", "1")];
    let node = [
        seg("ne-vrrp", "vrrp"),
        entry("ne-vrrp", "group", &keys),
        seg("ne-vrrp", "priority"),
    ];
    let d = a.data(Update, &node[..], None);
    let denial = a.data_denial(Update, &node[..], d).expect("denied");
    assert_eq!(
        denial.to_string(),
        "access denied: user 'noc' may not update /ne-vrrp:vrrp/group[interface='eth0'][vrid='1']/priority: \
         denied by rule 'deny-vrrp' of rule-list 'noc-rules'"
    );
}

#[test]
fn default_denials_read_well() {
    let nacm = noc();
    let a = nacm.for_user("noc", &[], false);
    let bfd = [seg("ne-bfd", "bfd"), seg("ne-bfd", "sessions")];
    let cases = [
        (
            a.data_denial(Create, &bfd[..], a.data(Create, &bfd[..], None)),
            "access denied: user 'noc' may not create /ne-bfd:bfd/sessions: write-default is deny and no rule permits it",
        ),
        (
            a.data_denial(Read, &bfd[..], a.data(Read, &bfd[..], None)),
            "access denied: user 'noc' may not read /ne-bfd:bfd/sessions: read-default is deny and no rule permits it",
        ),
        (
            a.rpc_denial("ne-bfd", "clear", a.rpc("ne-bfd", "clear", None)),
            "access denied: user 'noc' may not execute /ne-bfd:clear: exec-default is deny and no rule permits it",
        ),
        (
            a.rpc_denial(NC, "kill-session", a.rpc(NC, "kill-session", None)),
            "access denied: user 'noc' may not execute /ietf-netconf:kill-session: \
             kill-session and delete-config are denied unless a rule permits them",
        ),
        (
            a.notification_denial("ne-bfd", "down", a.notification("ne-bfd", "down", None)),
            "access denied: user 'noc' may not receive /ne-bfd:down: read-default is deny and no rule permits it",
        ),
        (
            a.data_denial(Delete, &nacm_node()[..], a.data(Delete, &nacm_node()[..], Some(DefaultDeny::All))),
            "access denied: user 'noc' may not delete /ietf-netconf-acm:nacm: \
             it is marked nacm:default-deny-all and no rule permits it",
        ),
        (
            a.data_denial(Update, &bfd[..], a.data(Update, &bfd[..], Some(DefaultDeny::Write))),
            "access denied: user 'noc' may not update /ne-bfd:bfd/sessions: \
             it is marked nacm:default-deny-write and no rule permits it",
        ),
    ];
    for (denial, text) in cases {
        assert_eq!(denial.expect("denied").to_string(), text);
    }
}

#[test]
fn a_permit_has_no_denial() {
    let nacm = noc();
    let a = nacm.for_user("noc", &[], false);
    let close = a.rpc(NC, "close-session", None);
    assert!(a.rpc_denial(NC, "close-session", close).is_none());
    let recovery = nacm.for_user("noc", &[], true);
    let node = [seg("ne-vrrp", "vrrp")];
    assert!(recovery
        .data_denial(Update, &node[..], recovery.data(Update, &node[..], None))
        .is_none());
    let root: [Segment; 0] = [];
    assert_eq!(display_path(&root[..]), "/");
}
