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
    // The candidate display is not in the user view (its commit list is).
    run(&mut s, "return");
    assert_eq!(
        error(&mut s, "display configuration candidate"),
        (ErrorKind::Unrecognized, Some(22))
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

/// `display vrrp brief` and `display bfd session all` from running with the engines' state
/// (as `<get>` merges them); the commit list from `ne-system:commit-history`.
#[test]
fn operational_displays() {
    use crate::vrp::show;
    let schema = schema();
    let mut tree = decode_config(A_XML);
    let state = yang::xml::parse(
        r#"<data><interfaces xmlns="urn:ne-agent:yang:ne-interfaces"><interface><name>a-ic</name>
        <vrrp xmlns="urn:ne-agent:yang:ne-vrrp"><group><vrid>1</vrid><state>master</state>
        </group></vrrp></interface></interfaces>
        <bfd xmlns="urn:ne-agent:yang:ne-bfd"><session><name>to-b</name><state>up</state>
        </session></bfd></data>"#,
    )
    .unwrap();
    let state = decode_elements(
        &schema,
        &state.children,
        DecodeOptions { config_only: false },
    )
    .unwrap();
    yang::data::merge(&schema, &mut tree, state);
    assert_eq!(
        show::vrrp_brief(&schema, &tree),
        "Total:1     Master:1     Backup:0     Non-active:0
VRID  State        Interface                Type     Virtual IP
--------------------------------------------------------------------------------
1     Master       a-ic                     Admin    10.0.0.6
"
    );
    assert_eq!(
        show::bfd_sessions(&schema, &tree),
        "--------------------------------------------------------------------------------
Local Remote     PeerIpAddr      State     Type        InterfaceName
--------------------------------------------------------------------------------
10    20         10.0.0.2        Up        S_IP_IF     a-ic
--------------------------------------------------------------------------------
     Total UP/DOWN Session Number : 1/0
"
    );
    // Without state (no engines): not active, down.
    let config = decode_config(B_XML);
    assert!(show::vrrp_brief(&schema, &config).contains("\n1     Initialize   b-ic "));
    assert!(show::bfd_sessions(&schema, &config).contains(" Down      S_IP_IF     b-ic\n"));
    let history = yang::xml::parse(
        r#"<data><commit-history xmlns="urn:ne-agent:yang:ne-system">
        <commit><id>1</id><time>2026-12-07T09:23:58.123Z</time><user>admin</user>
        <session-id>3</session-id><change-count>4</change-count></commit>
        <commit><id>2</id><time>2026-12-07T09:24:00Z</time><user>olive</user>
        <session-id>4</session-id><comment>vrrp priority for the lab</comment>
        <change-count>1</change-count></commit></commit-history></data>"#,
    )
    .unwrap();
    let history = decode_elements(
        &schema,
        &history.children,
        DecodeOptions { config_only: false },
    )
    .unwrap();
    assert_eq!(
        show::commit_list(&schema, &history),
        "Total commit records: 2
--------------------------------------------------------------------------------
No.   CommitId  User            Time                  Comment
--------------------------------------------------------------------------------
1     2         olive           2026-12-07 09:24:00   vrrp priority for the lab
2     1         admin           2026-12-07 09:23:58   -
--------------------------------------------------------------------------------
"
    );
}

#[test]
fn display_monitor_group_shows_ratio_state_and_bindings() {
    use crate::vrp::show;
    let schema = schema();
    let mut tree = decode_config(A_XML);
    let state = yang::xml::parse(
        r#"<data><monitor-groups xmlns="urn:ne-agent:yang:ne-monitor-group"><monitor-group>
        <name>uplinks</name><failure-ratio>100</failure-ratio><down-interfaces>1</down-interfaces>
        </monitor-group></monitor-groups></data>"#,
    )
    .unwrap();
    let state = decode_elements(
        &schema,
        &state.children,
        DecodeOptions { config_only: false },
    )
    .unwrap();
    yang::data::merge(&schema, &mut tree, state);
    let all = show::monitor_groups(&schema, &tree, None);
    assert!(all.starts_with("Monitor group : uplinks\n"), "{all}");
    assert!(all.contains("  State            : enabled\n"), "{all}");
    assert!(all.contains("  Failure ratio    : 100%\n"), "{all}");
    assert!(all.contains("  Down interfaces  : 1\n"), "{all}");
    assert!(all.contains("    a-up"), "{all}");
    assert_eq!(show::monitor_groups(&schema, &tree, Some("uplinks")), all);
    assert_eq!(
        show::monitor_groups(&schema, &tree, Some("nope")),
        "Info: The monitor group nope does not exist.\n"
    );
    assert_eq!(
        show::monitor_groups(&schema, &decode_config(B_XML), None),
        "Info: No monitor group is configured.\n"
    );
}

#[test]
fn display_monitor_group_parses_with_and_without_a_name() {
    use crate::vrp::Show;
    let mut s = session();
    assert_eq!(
        s.line("display monitor-group"),
        Outcome::Show(Show::MonitorGroup(None))
    );
    assert_eq!(
        s.line("disp monitor-group uplinks"),
        Outcome::Show(Show::MonitorGroup(Some("uplinks".into())))
    );
}
