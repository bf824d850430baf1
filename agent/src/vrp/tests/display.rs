//! `display current-configuration`, `display this`, `display configuration candidate`.

use super::seed::{A_XML, B_XML};
use super::*;

const A_TEXT: &str = "#
monitor-group uplinks
 monitor enable
 binding interface a-up
#
bfd to-b bind peer-ip 10.0.0.2 interface a-ic
 discriminator local 10
 discriminator remote 20
#
multicast routing-enable
#
interface a-dn
 ip address 192.168.1.1 255.255.255.0
 pim sm
 pim ignore dr-state
 pim ignore assert-state
 igmp enable
 multicast track admin-vrrp interface a-ic vrid 1
#
interface a-ic
 ip address 10.0.0.1 255.255.255.248
 vrrp vrid 1 virtual-ip 10.0.0.6
 admin-vrrp vrid 1
 vrrp vrid 1 priority 120
 vrrp vrid 1 timer advertise millisecond 100
 vrrp vrid 1 track monitor-group uplinks failure-ratio 100 link
#
interface a-up
 ip address 10.1.0.1 255.255.255.0
 pim sm
#
return
";

fn on_a() -> Session {
    Session::new(schema(), &decode_config(A_XML), "ne-agent")
}

fn output(s: &mut Session, line: &str) -> String {
    match s.line(line) {
        Outcome::Output(text) => text,
        o => panic!("{line:?} gave {o:?}"),
    }
}

#[test]
fn current_configuration_of_the_seed() {
    assert_eq!(display(&decode_config(A_XML)), A_TEXT);
    let mut s = on_a();
    // In the user view too, abbreviated as VRP allows.
    assert_eq!(output(&mut s, "display current-configuration"), A_TEXT);
    assert_eq!(output(&mut s, "dis cu"), A_TEXT);
    let b = display(&decode_config(B_XML));
    assert!(b.contains(
        "\ninterface b-ic
 ip address 10.0.0.2 255.255.255.248
 vrrp vrid 1 virtual-ip 10.0.0.6
 admin-vrrp vrid 1
 vrrp vrid 1 priority 100
 vrrp vrid 1 timer advertise millisecond 100
 vrrp vrid 1 track bfd-session session-name to-a increased 40
#\n"
    ));
    assert!(!b.contains("monitor-group"), "{b}");
}

#[test]
fn sections_and_interfaces() {
    let mut s = on_a();
    assert_eq!(
        output(&mut s, "display current-configuration interface a-up"),
        "#\ninterface a-up\n ip address 10.1.0.1 255.255.255.0\n pim sm\n#\nreturn\n"
    );
    run(&mut s, "system-view");
    assert_eq!(
        output(&mut s, "display current-configuration configuration bfd"),
        "#
bfd to-b bind peer-ip 10.0.0.2 interface a-ic
 discriminator local 10
 discriminator remote 20
#
return
"
    );
    assert_eq!(
        output(&mut s, "dis cur conf mon uplinks"),
        "#\nmonitor-group uplinks\n monitor enable\n binding interface a-up\n#\nreturn\n"
    );
    assert_eq!(output(&mut s, "dis cur conf mon nosuch"), "#\nreturn\n");
    assert_eq!(
        output(
            &mut s,
            "display current-configuration configuration multicast"
        ),
        "#\nmulticast routing-enable\n#\nreturn\n"
    );
    let interfaces = output(&mut s, "dis cur conf interface");
    assert_eq!(
        interfaces.matches("\ninterface ").count(),
        3,
        "{interfaces}"
    );
}

#[test]
fn display_this() {
    let mut s = on_a();
    run(&mut s, "system-view\nbfd to-b");
    assert_eq!(
        output(&mut s, "display this"),
        "#
bfd to-b bind peer-ip 10.0.0.2 interface a-ic
 discriminator local 10
 discriminator remote 20
#
return
"
    );
    run(&mut s, "quit\nmonitor-group uplinks");
    assert_eq!(
        output(&mut s, "dis th"),
        "#\nmonitor-group uplinks\n monitor enable\n binding interface a-up\n#\nreturn\n"
    );
    // A view of something not committed yet: its head only.
    run(&mut s, "interface a-new");
    assert_eq!(
        output(&mut s, "display this"),
        "#\ninterface a-new\n#\nreturn\n"
    );
    run(&mut s, "pim\nstatic-rp 10.1.0.10");
    assert_eq!(output(&mut s, "display this"), "#\npim\n#\nreturn\n");
    // The system view's `display this` is the whole configuration.
    run(&mut s, "quit");
    assert_eq!(output(&mut s, "display this"), A_TEXT);
}

/// The display commands show the running configuration; the candidate's changes are shown by
/// `display configuration candidate`, the whole candidate by `... merge`.
#[test]
fn candidate_changes() {
    let mut s = on_a();
    run(&mut s, "system-view");
    assert_eq!(output(&mut s, "display configuration candidate"), "");
    run(
        &mut s,
        "sysname dev-a
interface a-ic
 vrrp vrid 1 priority 110
 vrrp vrid 1 preempt-mode timer delay 5
 undo vrrp vrid 1 timer advertise
interface a-x
 description spare port
undo bfd to-b
pim
 static-rp 10.1.0.10",
    );
    let want = "#
+sysname dev-a
#
-bfd to-b bind peer-ip 10.0.0.2 interface a-ic
- discriminator local 10
- discriminator remote 20
#
interface a-ic
- vrrp vrid 1 priority 120
- vrrp vrid 1 timer advertise millisecond 100
+ vrrp vrid 1 priority 110
+ vrrp vrid 1 preempt-mode timer delay 5
#
+interface a-x
+ description spare port
#
+pim
+ static-rp 10.1.0.10
#
return
";
    assert_eq!(output(&mut s, "display configuration candidate"), want);
    assert_eq!(
        output(&mut s, "display configuration candidate changes"),
        want
    );
    // display current-configuration still shows the running configuration.
    assert_eq!(output(&mut s, "display current-configuration"), A_TEXT);
    let merged = output(&mut s, "display configuration candidate merge");
    assert!(merged.starts_with("#\nsysname dev-a\n#\nmonitor-group uplinks\n"));
    assert!(merged.contains("interface a-x\n description spare port\n"));
    // The candidate display is not in the user view.
    run(&mut s, "return");
    assert_eq!(
        error(&mut s, "display configuration candidate"),
        (ErrorKind::Unrecognized, Some(8))
    );
}

/// `sysname` sets /ietf-system:system/hostname; the prompt shows it once committed.
#[test]
fn sysname_and_the_prompt() {
    let mut s = session();
    run(&mut s, "system-view\nsysname dev-a");
    assert_eq!(s.prompt(), "[*ne-agent]");
    assert_eq!(
        s.line("commit comment rename the device"),
        Outcome::Commit {
            comment: Some("rename the device".into())
        }
    );
    let running = s.candidate().clone();
    let schema = schema();
    let nav = crate::vrp::nav::Nav::new(&schema);
    let system = nav
        .top(&running, crate::vrp::commands::SYS, "system")
        .unwrap();
    assert_eq!(
        nav.value(system, crate::vrp::commands::SYS, "hostname"),
        Some("dev-a")
    );
    s.committed(&running);
    assert_eq!(s.prompt(), "[~dev-a]");
    assert_eq!(
        s.line("commit description another"),
        Outcome::Commit {
            comment: Some("another".into())
        }
    );
    run(&mut s, "undo sysname\nreturn");
    assert_eq!(s.prompt(), "<dev-a>");
    s.committed(&s.candidate().clone());
    assert_eq!(s.prompt(), "<ne-agent>");
    // quit in the user view ends the session.
    assert_eq!(s.line("quit"), Outcome::Quit);
}

/// Another session's commit: the display shows it; a candidate without changes follows it.
#[test]
fn running_changed_under_the_session() {
    let mut s = session();
    run(&mut s, "system-view");
    s.set_running(&decode_config(A_XML));
    assert_eq!(output(&mut s, "display current-configuration"), A_TEXT);
    assert_eq!(s.candidate(), &decode_config(A_XML));
    run(&mut s, "interface a-dn\n undo pim sm");
    let b = decode_config(B_XML);
    s.set_running(&b);
    // The candidate keeps its changes and its base.
    assert!(s.has_changes());
    assert_eq!(s.base(), &decode_config(A_XML));
}
