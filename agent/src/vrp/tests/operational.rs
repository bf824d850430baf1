//! The displays of the engines' state (`display vrrp verbose`, `bfd session all verbose`,
//! `igmp`, `pim`, `multicast routing-table`, `interface brief`), rendered from device A's
//! running configuration merged with state as the engines report it in `<get>`; and the
//! command lines that ask for them.

use super::seed::A_XML;
use super::*;
use crate::vrp::{show, Show};

/// Device A's state as `<get>` returns it (the engines' leaves, as in the lab's steady state).
const A_STATE: &str = r#"<data>
<interfaces xmlns="urn:ne-agent:yang:ne-interfaces">
 <interface><name>eth0</name><oper-status>up</oper-status>
  <statistics><in-packets>5</in-packets><out-packets>7</out-packets><in-discards>0</in-discards></statistics>
 </interface>
 <interface><name>a-dn</name><oper-status>up</oper-status>
  <statistics><in-packets>12</in-packets><out-packets>3400</out-packets><in-discards>0</in-discards></statistics>
  <igmp xmlns="urn:ne-agent:yang:ne-multicast"><querier>192.168.1.1</querier><is-querier>true</is-querier>
   <group><address>239.1.1.1</address><last-reporter>192.168.1.100</last-reporter>
    <filter-mode>exclude</filter-mode><expires>250</expires></group>
   <group><address>232.1.1.1</address><last-reporter>192.168.1.100</last-reporter>
    <filter-mode>include</filter-mode><expires>200</expires>
    <source><address>10.1.0.10</address><expires>199</expires></source></group>
  </igmp>
  <pim xmlns="urn:ne-agent:yang:ne-multicast"><dr-address>192.168.1.2</dr-address><is-dr>false</is-dr>
   <neighbor><address>192.168.1.2</address><dr-priority>1</dr-priority><expires>95</expires><uptime>3725</uptime></neighbor>
  </pim>
  <track-admin-vrrp xmlns="urn:ne-agent:yang:ne-multicast"><forwarding>true</forwarding></track-admin-vrrp>
 </interface>
 <interface><name>a-ic</name><oper-status>up</oper-status>
  <vrrp xmlns="urn:ne-agent:yang:ne-vrrp"><group><vrid>1</vrid><state>master</state>
   <current-priority>120</current-priority><master-ip>10.0.0.1</master-ip>
   <master-priority>120</master-priority><virtual-mac>00:00:5e:00:01:01</virtual-mac>
   <last-change>2026-12-07T09:23:58.5Z</last-change><new-master-reason>priority</new-master-reason>
   <track><monitor-group><name>uplinks</name><group-state>normal</group-state></monitor-group></track>
  </group></vrrp>
 </interface>
 <interface><name>a-up</name><oper-status>down</oper-status>
  <pim xmlns="urn:ne-agent:yang:ne-multicast"><dr-address>10.1.0.1</dr-address><is-dr>true</is-dr>
   <join><source>10.1.0.10</source><group>239.1.1.1</group><state>join</state><expires>180</expires></join>
   <join><source>0.0.0.0</source><group>239.9.9.9</group><state>prune-pending</state><expires>3</expires></join>
  </pim>
 </interface>
</interfaces>
<bfd xmlns="urn:ne-agent:yang:ne-bfd"><session><name>to-b</name><state>up</state>
 <remote-state>up</remote-state><local-diagnostic>none</local-diagnostic>
 <actual-tx-interval-ms>10</actual-tx-interval-ms><detection-time-ms>30</detection-time-ms>
 <up-transitions>1</up-transitions><last-state-change>2026-12-07T09:24:01Z</last-state-change>
 <statistics><tx-packets>5000</tx-packets><tx-errors>0</tx-errors><rx-packets>4990</rx-packets>
 <rx-discarded>2</rx-discarded></statistics></session></bfd>
<multicast xmlns="urn:ne-agent:yang:ne-multicast">
 <route><source>10.1.0.10</source><group>239.1.1.1</group><incoming-interface>a-up</incoming-interface>
  <outgoing-interface><name>a-dn</name><state>forwarding</state></outgoing-interface>
  <packets>3400</packets><octets>442000</octets><uptime>62</uptime></route>
</multicast>
</data>"#;

/// Device A's running configuration with [`A_STATE`] merged in, as the CLI's displays read it.
fn a_with_state() -> DataTree {
    let schema = schema();
    let mut tree = decode_config(A_XML);
    let state = yang::xml::parse(A_STATE).unwrap();
    let state = decode_elements(
        &schema,
        &state.children,
        DecodeOptions { config_only: false },
    )
    .unwrap();
    yang::data::merge(&schema, &mut tree, state);
    tree
}

#[test]
fn display_vrrp_verbose_shows_each_group() {
    let tree = a_with_state();
    let text = show::vrrp_verbose(&schema(), &tree, None, None);
    for row in [
        "a-ic | Virtual Router 1\n",
        "  State             : Master\n",
        "  Virtual IP        : 10.0.0.6\n",
        "  Master IP         : 10.0.0.1\n",
        "  Local IP          : 10.0.0.1\n",
        "  PriorityRun       : 120\n",
        "  PriorityConfig    : 120\n",
        "  Preempt           : YES   Delay Time : 0 s\n",
        "  TimerRun          : 100 ms\n",
        "  Virtual MAC       : 0000-5e00-0101\n",
        "  Config Type       : admin-vrrp\n",
        "  Track MonitorGroup: uplinks         Failure ratio : 100 %   link\n",
        "  MonitorGroup State: normal\n",
        "  Last Change Time  : 2026-12-07 09:23:58\n",
        "  Master Reason     : priority\n",
    ] {
        assert!(text.contains(row), "{row:?} in\n{text}");
    }
    assert_eq!(
        show::vrrp_verbose(&schema(), &tree, Some("a-ic"), Some("1")),
        text
    );
    assert_eq!(
        show::vrrp_verbose(&schema(), &tree, Some("a-ic"), Some("2")),
        "Info: The VRRP group does not exist.\n"
    );
    assert_eq!(
        show::vrrp_verbose(&schema(), &tree, Some("a-dn"), None),
        "Info: The VRRP group does not exist.\n"
    );
    // B's group tracks a BFD session: the tracking row, and the state as the engine has it.
    let b = decode_config(super::seed::B_XML);
    let text = show::vrrp_verbose(&schema(), &b, None, None);
    assert!(
        text.contains("  Track BFD         : to-a            Priority increased : 40\n"),
        "{text}"
    );
    assert!(
        text.contains("  State             : Initialize\n"),
        "{text}"
    );
    assert!(text.contains("  PriorityConfig    : 100\n"), "{text}");
}

#[test]
fn display_bfd_session_all_verbose() {
    let text = show::bfd_verbose(&schema(), &a_with_state());
    for row in [
        "  Session Name : to-b                  (One Hop) State : Up\n",
        "  Local Discriminator    : 10             Remote Discriminator   : 20\n",
        "  BFD Bind Type          : Interface(a-ic)\n",
        "  Bind Peer IP Address   : 10.0.0.2\n",
        "  Min Tx Interval (ms)   : 10             Min Rx Interval (ms)   : 10\n",
        "  Actual Tx Interval (ms): 10.0           Detect Interval (ms)   : 30.0\n",
        "  Local Detect Multi     : 3              Remote State           : Up\n",
        "  Last Local Diagnostic  : No Diagnostic\n",
        "  Packets Sent           : 5000           Packets Received       : 4990\n",
        "     Total UP/DOWN Session Number : 1/0\n",
    ] {
        assert!(text.contains(row), "{row:?} in\n{text}");
    }
}

#[test]
fn display_igmp_group_and_interface() {
    let tree = a_with_state();
    assert_eq!(
        show::igmp_groups(&schema(), &tree, false),
        "Interface group report information of VPN-Instance: public net
 a-dn(192.168.1.1):
  Total 2 IGMP Group reported
   Group Address   Last Reporter   Expires
   232.1.1.1       192.168.1.100   00:03:20
   239.1.1.1       192.168.1.100   00:04:10
"
    );
    let verbose = show::igmp_groups(&schema(), &tree, true);
    for row in [
        "   Group: 232.1.1.1\n     Expires: 00:03:20\n     Last reporter: 192.168.1.100\n     Group mode: include\n     Source list:\n       Source: 10.1.0.10       Expires: 00:03:19\n",
        "   Group: 239.1.1.1\n",
        "     Group mode: exclude\n",
    ] {
        assert!(verbose.contains(row), "{row:?} in\n{verbose}");
    }
    let interfaces = show::igmp_interfaces(&schema(), &tree, None);
    for row in [
        " a-dn(192.168.1.1):\n   IGMP is enabled\n   Current IGMP version is 2\n   IGMP state: up\n",
        "   Value of query interval for IGMP(in seconds): 60 s\n",
        "   Value of maximum query response time for IGMP(in seconds): 10 s\n",
        "   Querier for IGMP: 192.168.1.1 (this router)\n",
        "   Total 2 IGMP Group reported\n",
    ] {
        assert!(interfaces.contains(row), "{row:?} in\n{interfaces}");
    }
    assert!(!interfaces.contains("a-up"), "IGMP is not on a-up");
    assert_eq!(
        show::igmp_interfaces(&schema(), &tree, Some("a-dn")),
        interfaces
    );
    assert_eq!(
        show::igmp_interfaces(&schema(), &tree, Some("a-up")),
        "Info: IGMP is not enabled on interface a-up.\n"
    );
}

#[test]
fn display_pim_neighbor_interface_and_routing_table() {
    let tree = a_with_state();
    assert_eq!(
        show::pim_neighbors(&schema(), &tree),
        " VPN-Instance: public net
 Total Number of Neighbors = 1

 Neighbor        Interface           Uptime   Expires  Dr-Priority
 192.168.1.2     a-dn                01:02:05 00:01:35 1
"
    );
    assert_eq!(
        show::pim_interfaces(&schema(), &tree),
        " VPN-Instance: public net
 Interface           State NbrCnt HelloInt   DR-Pri     DR-Address
 a-dn                up    1      30         1          192.168.1.2
 a-up                down  0      30         1          10.1.0.1 (local)
"
    );
    let routes = show::pim_routes(&schema(), &tree);
    assert!(
        routes.starts_with(" VPN-Instance: public net\n Total 1 (*, G) entry; 1 (S, G) entry\n"),
        "{routes}"
    );
    for part in [
        "\n (10.1.0.10, 239.1.1.1)\n     RP: NULL\n     Protocol: pim-sm\n     UpTime: 00:01:02\n     Upstream interface: a-up\n         Upstream neighbor: NULL\n     Downstream interface(s) information:\n     Total number of downstreams: 2\n         1: a-dn\n             State: forwarding\n         2: a-up\n             Protocol: pim-sm, join, Expires: 00:03:00\n",
        "\n (*, 239.9.9.9)\n     RP: NULL\n     Protocol: pim-sm\n     Upstream interface: NULL\n",
        "         1: a-up\n             Protocol: pim-sm, prune-pending, Expires: 00:00:03\n",
    ] {
        assert!(routes.contains(part), "{part:?} in\n{routes}");
    }
}

#[test]
fn display_multicast_routing_table() {
    assert_eq!(
        show::multicast_routes(&schema(), &a_with_state()),
        "Multicast routing table of VPN-Instance: public net
 Total 1 entry

 00001. (10.1.0.10, 239.1.1.1)
       Uptime: 00:01:02
       Upstream Interface: a-up
       List of 1 downstream interface
           1:  a-dn (forwarding)
       Matched 3400 packets (442000 bytes)
"
    );
    assert_eq!(
        show::multicast_routes(&schema(), &decode_config(A_XML)),
        "Multicast routing table of VPN-Instance: public net\n Total 0 entries\n"
    );
}

#[test]
fn display_interface_brief() {
    let text = show::interface_brief(&schema(), &a_with_state());
    let rows: Vec<&str> = text.lines().skip(4).collect();
    assert_eq!(
        rows,
        [
            "Interface               PHY     Protocol     InPackets  OutPackets  InDiscards",
            "a-dn                    up      up                  12        3400           0",
            "a-ic                    up      up                   -           -           -",
            "a-up                    down    down                 -           -           -",
            // Only the kernel's state: its addresses are not this device's to report.
            "eth0                    up      -                    5           7           0",
        ]
    );
    // Shut down by configuration.
    let mut s = Session::new(schema(), &decode_config(A_XML), "ne-agent");
    run(&mut s, "system-view\ninterface a-up\nshutdown");
    let text = show::interface_brief(&schema(), s.candidate());
    assert!(
        text.contains("\na-up                    *down   down "),
        "{text}"
    );
}

/// Each display command line asks for its display, in the user view and the system view,
/// abbreviated as VRP allows.
#[test]
fn display_commands_ask_for_their_display() {
    let cases: &[(&str, Show)] = &[
        (
            "display vrrp",
            Show::Vrrp {
                interface: None,
                vrid: None,
            },
        ),
        (
            "display vrrp verbose",
            Show::Vrrp {
                interface: None,
                vrid: None,
            },
        ),
        (
            "dis vrrp int a-ic vrid 1",
            Show::Vrrp {
                interface: Some("a-ic".into()),
                vrid: Some("1".into()),
            },
        ),
        ("display vrrp brief", Show::VrrpBrief),
        (
            "display bfd session all verbose",
            Show::BfdSessions { verbose: true },
        ),
        (
            "display bfd session all",
            Show::BfdSessions { verbose: false },
        ),
        ("display igmp group", Show::IgmpGroups { verbose: false }),
        (
            "display igmp group verbose",
            Show::IgmpGroups { verbose: true },
        ),
        ("display igmp interface", Show::IgmpInterfaces(None)),
        (
            "display igmp interface a-dn",
            Show::IgmpInterfaces(Some("a-dn".into())),
        ),
        ("display pim neighbor", Show::PimNeighbors),
        ("display pim interface", Show::PimInterfaces),
        ("display pim routing-table", Show::PimRoutes),
        ("display pim bsr-info", Show::PimBsrInfo),
        ("display pim rp-info", Show::PimRpInfo),
        ("dis multicast routing-table", Show::MulticastRoutes),
        ("display interface brief", Show::InterfaceBrief),
    ];
    let mut s = session();
    for view in ["", "system-view", "interface x1"] {
        run(&mut s, view);
        for (line, want) in cases {
            assert_eq!(s.line(line), Outcome::Show(want.clone()), "{line}");
        }
    }
    assert_eq!(
        error(&mut s, "display vrrp vrid 1"),
        (ErrorKind::Unrecognized, Some(13))
    );
    assert_eq!(
        error(&mut s, "display vrrp interface a-ic vrid 256"),
        (ErrorKind::WrongParameter, Some(33))
    );
    assert_eq!(
        error(&mut s, "display pim"),
        (ErrorKind::Incomplete, Some(12))
    );
}
