//! Each configuration command changes the candidate, and its `undo` form takes it back.

use super::*;
use crate::vrp::commands::{IF, VRRP};
use crate::vrp::nav::Nav;

const GROUP: &str = "interface x1\n vrrp vrid 1 virtual-ip 10.0.0.6";
const MVRRP: &str = "bfd to-a bind peer-ip 10.0.0.1
 discriminator local 20
interface x1
 vrrp vrid 1 virtual-ip 10.0.0.6
 admin-vrrp vrid 1";

/// (setup in the system view, command, its undo)
const CASES: &[(&str, &str, &str)] = &[
    ("", "sysname dev-a", "undo sysname"),
    ("", "interface x1", "undo interface x1"),
    ("", "monitor-group m1", "undo monitor-group m1"),
    (
        "",
        "bfd s1 bind peer-ip 10.0.0.2 interface x1 source-ip 10.0.0.1",
        "undo bfd s1",
    ),
    (
        "",
        "multicast routing-enable",
        "undo multicast routing-enable",
    ),
    ("pim", "static-rp 10.1.0.10", "undo static-rp"),
    ("pim", "static-rp 10.1.0.10", "undo static-rp 10.1.0.10"),
    ("pim", "static-rp 10.1.0.10", "undo pim"),
    ("", "pim static-rp 10.1.0.10", "undo pim static-rp"),
    ("monitor-group m1", "monitor enable", "undo monitor enable"),
    (
        "monitor-group m1",
        "binding interface x1 down-weight 20",
        "undo binding interface x1",
    ),
    (
        "monitor-group m1",
        "binding interface x1",
        "undo binding interface x1",
    ),
    (
        "bfd s1 bind peer-ip 10.0.0.2",
        "discriminator local 10",
        "undo discriminator local",
    ),
    (
        "bfd s1 bind peer-ip 10.0.0.2",
        "discriminator remote 20",
        "undo discriminator remote",
    ),
    (
        "bfd s1 bind peer-ip 10.0.0.2",
        "min-tx-interval 100",
        "undo min-tx-interval",
    ),
    (
        "bfd s1 bind peer-ip 10.0.0.2",
        "min-rx-interval 100",
        "undo min-rx-interval",
    ),
    (
        "bfd s1 bind peer-ip 10.0.0.2",
        "detect-multiplier 5",
        "undo detect-multiplier",
    ),
    ("bfd s1 bind peer-ip 10.0.0.2", "shutdown", "undo shutdown"),
    (
        "interface x1",
        "description to the core",
        "undo description",
    ),
    ("interface x1", "shutdown", "undo shutdown"),
    (
        "interface x1",
        "ip address 10.0.0.1 24",
        "undo ip address 10.0.0.1 24",
    ),
    (
        "interface x1",
        "ip address 10.0.0.1 255.255.255.0",
        "undo ip address",
    ),
    (
        "interface x1\n ip address 10.0.0.1 24",
        "ip address 10.0.1.1 24 sub",
        "undo ip address 10.0.1.1 255.255.255.0 sub",
    ),
    (
        "interface x1",
        "vrrp vrid 2 virtual-ip 10.0.0.9",
        "undo vrrp vrid 2",
    ),
    (
        GROUP,
        "vrrp vrid 1 virtual-ip 10.0.0.7",
        "undo vrrp vrid 1 virtual-ip 10.0.0.7",
    ),
    (
        GROUP,
        "vrrp vrid 1 priority 120",
        "undo vrrp vrid 1 priority",
    ),
    (
        GROUP,
        "vrrp vrid 1 preempt-mode disable",
        "undo vrrp vrid 1 preempt-mode",
    ),
    (
        GROUP,
        "vrrp vrid 1 preempt-mode disable",
        "undo vrrp vrid 1 preempt-mode disable",
    ),
    (
        GROUP,
        "vrrp vrid 1 preempt-mode timer delay 10",
        "undo vrrp vrid 1 preempt-mode timer delay",
    ),
    (
        GROUP,
        "vrrp vrid 1 timer advertise 2",
        "undo vrrp vrid 1 timer advertise",
    ),
    (
        GROUP,
        "vrrp vrid 1 timer advertise millisecond 200",
        "undo vrrp vrid 1 timer advertise millisecond",
    ),
    (GROUP, "vrrp vrid 1 version 2", "undo vrrp vrid 1 version"),
    (
        GROUP,
        "vrrp vrid 1 checksum-mode exclude-pseudo-header",
        "undo vrrp vrid 1 checksum-mode",
    ),
    (
        GROUP,
        "admin-vrrp vrid 1 ignore-if-down",
        "undo admin-vrrp vrid 1",
    ),
    (GROUP, "admin-vrrp vrid 1", "undo admin-vrrp vrid 1"),
    (
        MVRRP,
        "vrrp vrid 1 track bfd-session 20 increased 40",
        "undo vrrp vrid 1 track bfd-session 20",
    ),
    (
        MVRRP,
        "vrrp vrid 1 track bfd-session session-name to-a reduced 30",
        "undo vrrp vrid 1 track bfd-session session-name to-a",
    ),
    (
        MVRRP,
        "vrrp vrid 1 track bfd-session 20",
        "undo vrrp vrid 1 track bfd-session session-name to-a",
    ),
    (
        MVRRP,
        "vrrp vrid 1 track monitor-group m1 failure-ratio 50 reduced 20",
        "undo vrrp vrid 1 track monitor-group m1",
    ),
    (
        MVRRP,
        "vrrp vrid 1 track monitor-group m1 failure-ratio 100 link",
        "undo vrrp vrid 1 track monitor-group m1",
    ),
    ("interface x1", "pim sm", "undo pim sm"),
    (
        "interface x1",
        "pim hello-option dr-priority 5",
        "undo pim hello-option dr-priority",
    ),
    ("interface x1", "pim dr-priority 5", "undo pim dr-priority"),
    ("interface x1", "pim timer hello 10", "undo pim timer hello"),
    (
        "interface x1",
        "pim ignore dr-state",
        "undo pim ignore dr-state",
    ),
    (
        "interface x1",
        "pim ignore assert-state",
        "undo pim ignore assert-state",
    ),
    ("interface x1", "igmp enable", "undo igmp enable"),
    ("interface x1", "igmp version 3", "undo igmp version"),
    (
        "interface x1",
        "igmp timer query 30",
        "undo igmp timer query",
    ),
    (
        "interface x1",
        "igmp max-response-time 5",
        "undo igmp max-response-time",
    ),
    (
        "interface x1",
        "igmp robust-count 3",
        "undo igmp robust-count",
    ),
    (
        "interface x1",
        "igmp lastmember-queryinterval 2",
        "undo igmp lastmember-queryinterval",
    ),
    (
        "interface x1",
        "multicast track admin-vrrp interface x2 vrid 1",
        "undo multicast track admin-vrrp",
    ),
    (
        "interface x1",
        "multicast track admin-vrrp interface x2 vrid 1",
        "undo multicast track admin-vrrp interface x2 vrid 1",
    ),
];

#[test]
fn every_command_has_its_undo() {
    for &(setup, command, undo) in CASES {
        let mut s = session();
        run(&mut s, "system-view");
        run(&mut s, setup);
        let before = normalize(s.candidate());
        run(&mut s, command);
        assert_ne!(
            normalize(s.candidate()),
            before,
            "{command} changed nothing"
        );
        run(&mut s, undo);
        let after = normalize(s.candidate());
        assert!(
            after == before,
            "{command} / {undo}:\n{}",
            differences(&before, &after)
        );
    }
}

/// A command given again replaces what it states in full (a track, a binding, a BFD binding).
#[test]
fn commands_state_their_object_in_full() {
    let mut s = session();
    run(&mut s, "system-view");
    run(&mut s, MVRRP);
    run(
        &mut s,
        "vrrp vrid 1 track monitor-group m1 failure-ratio 50 reduced 20",
    );
    run(
        &mut s,
        "vrrp vrid 1 track monitor-group m1 failure-ratio 100 link",
    );
    let text = display(s.candidate());
    assert!(
        text.contains(" vrrp vrid 1 track monitor-group m1 failure-ratio 100 link\n"),
        "{text}"
    );
    run(
        &mut s,
        "bfd to-a bind peer-ip 10.0.0.1 interface x1 source-ip 10.0.0.2",
    );
    run(&mut s, "bfd to-a bind peer-ip 10.0.0.3");
    let text = display(s.candidate());
    assert!(text.contains("\nbfd to-a bind peer-ip 10.0.0.3\n discriminator local 20\n"));
}

/// `track bfd-session N` names the session whose local discriminator is N; without a keyword
/// it tracks "reduced 10", which are ne-vrrp's defaults.
#[test]
fn track_bfd_session_by_number() {
    let mut s = session();
    run(&mut s, "system-view");
    run(&mut s, MVRRP);
    run(&mut s, "vrrp vrid 1 track bfd-session 20");
    let tree = normalize(s.candidate());
    let schema = schema();
    let nav = Nav::new(&schema);
    let interfaces = nav.top(&tree, IF, "interfaces").unwrap();
    let x1 = nav.entry(interfaces, IF, "interface", "x1").unwrap();
    let group = nav
        .entry(nav.child(x1, VRRP, "vrrp").unwrap(), VRRP, "group", "1")
        .unwrap();
    let track = nav.child(group, VRRP, "track").unwrap();
    let entry = nav.entry(track, VRRP, "bfd-session", "to-a").unwrap();
    assert_eq!(nav.value(entry, VRRP, "mode"), Some("reduce"));
    assert_eq!(nav.value(entry, VRRP, "priority-change"), Some("10"));
    // A new session is found too, before it is committed.
    run(
        &mut s,
        "bfd to-c bind peer-ip 10.0.0.3\n discriminator local 30",
    );
    run(
        &mut s,
        "interface x1\n vrrp vrid 1 track bfd-session 30 increased 5",
    );
    assert!(display(s.candidate())
        .contains(" vrrp vrid 1 track bfd-session session-name to-c increased 5\n"));
}

/// On an empty device too, a command and its undo leave nothing to commit.
#[test]
fn nothing_left_to_commit() {
    let mut s = session();
    run(
        &mut s,
        "system-view\ninterface x1\n pim sm\n undo pim sm\n quit",
    );
    assert_eq!(s.prompt(), "[*ne-agent]");
    run(&mut s, "undo interface x1");
    assert_eq!(s.prompt(), "[~ne-agent]");
    assert!(!s.has_changes());
}

/// `clear configuration candidate` drops every uncommitted change.
#[test]
fn clear_configuration_candidate() {
    let mut s = session();
    run(
        &mut s,
        "system-view\nmonitor-group m1\n monitor enable\n clear configuration candidate",
    );
    assert!(!s.has_changes());
    assert_eq!(s.prompt(), "[~ne-agent-monitor-group-m1]");
    run(&mut s, "quit\nsysname r1");
    assert!(s.has_changes());
    run(&mut s, "clear configuration candidate");
    assert_eq!(s.base(), s.candidate());
}
