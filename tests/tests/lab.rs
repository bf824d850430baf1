//! The two-device lab end to end (LAB.md): both agents configured over NETCONF with the
//! MODELS.md seed configuration, then failures injected for real (kill -9, links down) and the
//! outcome read back over NETCONF. Needs root; skips visibly otherwise (never in CI).

use std::time::Duration;

use ne_lab::lab::{bfd_state, leaf_after, pim_sm_edit, require, vrrp_state, wait_for, Lab};
use ne_lab::netconf::Blocking;

const SETTLE: Duration = Duration::from_secs(30);

fn steady(ca: &mut Blocking, cb: &mut Blocking) {
    let ok = ne_lab::lab::steady(ca, cb, SETTLE);
    assert!(
        ok,
        "no steady state: A {:?} B {:?} BFD {:?}/{:?}",
        vrrp_state(ca, "a-ic", 1),
        vrrp_state(cb, "b-ic", 1),
        bfd_state(ca, "to-b"),
        bfd_state(cb, "to-a")
    );
}

fn group(c: &mut Blocking, ifname: &str) -> String {
    c.get(Some(&format!(
        "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>{ifname}</name>\
         <vrrp xmlns=\"urn:ne-agent:yang:ne-vrrp\"/></interface></interfaces>"
    )))
    .expect("get vrrp")
}

fn bfd(c: &mut Blocking) -> String {
    c.get(Some("<bfd xmlns=\"urn:ne-agent:yang:ne-bfd\"/>"))
        .expect("get bfd")
}

fn num(xml: &str, anchor: &str, leaf: &str) -> u64 {
    leaf_after(xml, anchor, leaf)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {leaf} in {xml}"))
}

#[test]
fn seed_steady_state_node_failure_recovery_and_reconcile() {
    if !require() {
        return;
    }
    let (mut lab, mut ca, mut cb) = Lab::seed().expect("lab");
    steady(&mut ca, &mut cb);

    // No start-up glitch: A brings a-up admin up at its first commit, and its monitor group
    // waits for the link instead of reading 100 % failure for an instant (which took A's
    // priority to 0 and back, issue 20).
    let log = std::fs::read_to_string(&lab.a.log).unwrap_or_default();
    assert!(
        !log.lines()
            .any(|l| l.contains("monitor group status") && l.contains("ratio=100")),
        "A's uplink group read as failed at start-up:\n{}",
        lab.a.log_tail(40)
    );

    // Steady state as B sees it: A is master at 120, B waits at 100 with BFD up.
    let g = group(&mut cb, "b-ic");
    assert_eq!(
        leaf_after(&g, "<group>", "master-ip"),
        Some("10.0.0.1"),
        "{g}"
    );
    assert_eq!(leaf_after(&g, "<group>", "master-priority"), Some("120"));
    assert_eq!(leaf_after(&g, "<group>", "current-priority"), Some("100"));
    assert_eq!(leaf_after(&g, "<bfd-session>", "session-state"), Some("up"));
    let a = group(&mut ca, "a-ic");
    assert_eq!(
        leaf_after(&a, "<group>", "virtual-mac"),
        Some("00:00:5e:00:01:01")
    );
    assert!(num(&a, "<statistics>", "adverts-sent") > 0);

    // Interface state comes from the kernel.
    let i = ca
        .get(Some(
            "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>a-up</name></interface></interfaces>",
        ))
        .unwrap();
    assert_eq!(
        leaf_after(&i, "<interface>", "oper-status"),
        Some("up"),
        "{i}"
    );
    assert!(lab
        .exec("a", &["ip", "-br", "addr", "show", "a-up"])
        .unwrap()
        .contains("10.1.0.1/24"));

    // Reconcile: a VRRP priority change leaves the BFD session alone (no restart, no flap).
    let before = bfd(&mut ca);
    let tx0 = num(&before, "<session>", "tx-packets");
    assert_eq!(num(&before, "<session>", "up-transitions"), 1, "{before}");
    let mt0 = num(
        &group(&mut ca, "a-ic"),
        "<statistics>",
        "master-transitions",
    );
    ca.edit_running(
        "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>a-ic</name>\
         <vrrp xmlns=\"urn:ne-agent:yang:ne-vrrp\"><group><vrid>1</vrid><priority>110</priority></group></vrrp>\
         </interface></interfaces>",
    )
    .expect("priority change");
    assert!(wait_for(Duration::from_secs(5), || {
        let g = group(&mut cb, "b-ic");
        leaf_after(&g, "<group>", "master-priority") == Some("110")
    }));
    let after = bfd(&mut ca);
    assert_eq!(num(&after, "<session>", "up-transitions"), 1, "{after}");
    assert_eq!(leaf_after(&after, "<session>", "state"), Some("up"));
    assert!(
        num(&after, "<session>", "tx-packets") > tx0,
        "the session kept sending"
    );
    assert_eq!(num(&after, "<session>", "tx-errors"), 0, "{after}");

    // A session on an interface that is configured but not present sends nothing: its
    // packets count as errors, not as sent.
    ca.edit_running(
        "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>a-ghost</name></interface></interfaces>\
         <bfd xmlns=\"urn:ne-agent:yang:ne-bfd\"><session><name>ghost</name><peer-ip>10.77.0.2</peer-ip>\
         <interface>a-ghost</interface><local-discriminator>77</local-discriminator>\
         <min-tx-interval>100</min-tx-interval></session></bfd>",
    )
    .expect("a session on a missing interface");
    assert!(
        wait_for(Duration::from_secs(5), || {
            let b = bfd(&mut ca);
            leaf_after(&b, "<name>ghost</name>", "tx-errors").is_some_and(|v| v != "0")
        }),
        "{}",
        bfd(&mut ca)
    );
    let b = bfd(&mut ca);
    assert_eq!(
        leaf_after(&b, "<name>ghost</name>", "tx-packets"),
        Some("0"),
        "{b}"
    );
    ca.edit_running(
        "<bfd xmlns=\"urn:ne-agent:yang:ne-bfd\" xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\
         <session nc:operation=\"delete\"><name>ghost</name></session></bfd>\
         <interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\" xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\
         <interface nc:operation=\"delete\"><name>a-ghost</name></interface></interfaces>",
    )
    .expect("remove the session on a missing interface");
    let g = group(&mut ca, "a-ic");
    assert_eq!(num(&g, "<statistics>", "master-transitions"), mt0, "{g}");
    assert_eq!(leaf_after(&g, "<group>", "state"), Some("master"));

    // Neither restarting the multicast forwarding plane (a fourth interface joins and leaves
    // it: its rings close and reopen) nor a burst of `<get>`s holds up the protocol thread long enough for a 30 ms
    // BFD detection time to expire on either side.
    let up_b = num(&bfd(&mut cb), "<session>", "up-transitions");
    for add in [true, false, true, false] {
        ca.edit_running(&pim_sm_edit("a-ic", add))
            .expect("PIM on a-ic");
        for _ in 0..10 {
            ca.get(None).expect("get");
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    let a_bfd = bfd(&mut ca);
    assert_eq!(
        num(&a_bfd, "<session>", "up-transitions"),
        1,
        "{a_bfd}\nA log: {}",
        lab.a.log_tail(20)
    );
    let b_bfd = bfd(&mut cb);
    assert_eq!(
        num(&b_bfd, "<session>", "up-transitions"),
        up_b,
        "{b_bfd}\nB log: {}",
        lab.b.log_tail(20)
    );

    // A commit the engines cannot apply is refused whole: a source address A does not have.
    let r = ca
        .rpc(
            "<edit-config><target><running/></target><config><bfd xmlns=\"urn:ne-agent:yang:ne-bfd\">\
             <session><name>bad</name><peer-ip>10.0.0.3</peer-ip><interface>a-ic</interface>\
             <source-ip>10.9.9.9</source-ip><local-discriminator>77</local-discriminator></session>\
             </bfd><interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>a-ic</name>\
             <description>should not stay</description></interface></interfaces></config></edit-config>",
        )
        .unwrap();
    assert!(
        r.contains("<rpc-error>") && r.contains("operation-failed"),
        "{r}"
    );
    assert!(r.contains("10.9.9.9"), "the reason names the address: {r}");
    let running = ca
        .rpc("<get-config><source><running/></source></get-config>")
        .unwrap();
    assert!(!running.contains("<name>bad</name>") && !running.contains("should not stay"));

    // Node failure: kill -9 A. B's BFD goes down, tracking lifts B to 140, B takes over.
    lab.a.kill9();
    assert!(
        wait_for(SETTLE, || vrrp_state(&mut cb, "b-ic", 1).as_deref()
            == Ok("master")),
        "B did not take over: {}",
        group(&mut cb, "b-ic")
    );
    let g = group(&mut cb, "b-ic");
    assert_eq!(
        leaf_after(&g, "<group>", "current-priority"),
        Some("140"),
        "{g}"
    );
    assert_eq!(
        leaf_after(&g, "<group>", "new-master-reason"),
        Some("preempted")
    );
    assert_eq!(bfd_state(&mut cb, "to-a").unwrap(), "down");

    // Recovery: A restarts from its persisted running, BFD comes up, B drops back to 100
    // and A (preempt, delay 0) takes mastership back.
    lab.a.start().unwrap();
    let mut ca = lab.a.connect().expect("A back");
    steady(&mut ca, &mut cb);
    let g = group(&mut cb, "b-ic");
    assert_eq!(
        leaf_after(&g, "<group>", "current-priority"),
        Some("100"),
        "{g}"
    );
    assert_eq!(leaf_after(&g, "<group>", "master-ip"), Some("10.0.0.1"));
}

#[test]
fn uplink_failure_in_link_mode_hands_over_and_back() {
    if !require() {
        return;
    }
    let (lab, mut ca, mut cb) = Lab::seed().expect("lab");
    steady(&mut ca, &mut cb);
    // The uplink loses carrier (the switch port goes down): ratio 100 % >= 100 in link mode.
    lab.link("sw-up", "up-a", false).unwrap();
    assert!(
        wait_for(SETTLE, || vrrp_state(&mut cb, "b-ic", 1).as_deref()
            == Ok("master")),
        "B did not take over"
    );
    let g = group(&mut ca, "a-ic");
    assert_eq!(
        leaf_after(&g, "<group>", "state"),
        Some("initialize"),
        "{g}"
    );
    assert_eq!(leaf_after(&g, "<group>", "current-priority"), Some("0"));
    assert!(num(&g, "<statistics>", "priority-zero-sent") >= 1);
    let m = ca
        .get(Some(
            "<monitor-groups xmlns=\"urn:ne-agent:yang:ne-monitor-group\"/>",
        ))
        .unwrap();
    assert_eq!(
        leaf_after(&m, "<monitor-group>", "failure-ratio"),
        Some("100"),
        "{m}"
    );
    let gb = group(&mut cb, "b-ic");
    assert!(
        num(&gb, "<statistics>", "priority-zero-received") >= 1,
        "{gb}"
    );
    // BFD between the devices is unaffected.
    assert_eq!(bfd_state(&mut ca, "to-b").unwrap(), "up");

    lab.link("sw-up", "up-a", true).unwrap();
    steady(&mut ca, &mut cb);
    let m = ca
        .get(Some(
            "<monitor-groups xmlns=\"urn:ne-agent:yang:ne-monitor-group\"/>",
        ))
        .unwrap();
    assert_eq!(
        leaf_after(&m, "<monitor-group>", "failure-ratio"),
        Some("0")
    );
}

#[test]
fn interconnect_cable_pulled_is_reported_as_it_is() {
    if !require() {
        return;
    }
    let (lab, mut ca, mut cb) = Lab::seed().expect("lab");
    steady(&mut ca, &mut cb);
    // Both ends of the a-ic/b-ic link go down: both devices lose the link and BFD.
    lab.link("a", "a-ic", false).unwrap();
    lab.link("b", "b-ic", false).unwrap();
    assert!(wait_for(SETTLE, || {
        bfd_state(&mut ca, "to-b").as_deref() == Ok("down")
            && bfd_state(&mut cb, "to-a").as_deref() == Ok("down")
    }));
    // Without ignore-if-down an mVRRP on a down interface is Initialize on both devices: no
    // split brain, and no master either (the seed configuration's documented behaviour).
    assert!(wait_for(SETTLE, || {
        vrrp_state(&mut ca, "a-ic", 1).as_deref() == Ok("initialize")
            && vrrp_state(&mut cb, "b-ic", 1).as_deref() == Ok("initialize")
    }));
    let g = group(&mut cb, "b-ic");
    // B's tracked session failed after having been up: its priority is lifted all the same.
    assert_eq!(
        leaf_after(&g, "<group>", "current-priority"),
        Some("140"),
        "{g}"
    );
    let i = cb
        .get(Some(
            "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>b-ic</name></interface></interfaces>",
        ))
        .unwrap();
    assert_eq!(
        leaf_after(&i, "<interface>", "oper-status"),
        Some("down"),
        "{i}"
    );

    // The cable is back: BFD up, B back to 100, A master again.
    lab.link("a", "a-ic", true).unwrap();
    lab.link("b", "b-ic", true).unwrap();
    steady(&mut ca, &mut cb);
}

/// An ARP request for `target` sent out of `ifname` in namespace `ns`; the sender MAC of the
/// reply, if one comes within `limit`.
fn arp_who_has(ns: &str, ifname: &str, target: [u8; 4], limit: Duration) -> Option<[u8; 6]> {
    let name = ifname.to_string();
    let sock = dataplane::netns::run_in(ns, move || {
        let idx = dataplane::sock::ifindex(&name)?;
        dataplane::sock::PacketSocket::open(idx, Some(dataplane::sock::ETH_P_ARP)).ok()
    })
    .ok()??;
    let me = [0x02, 0x00, 0x00, 0x00, 0x00, 0x99];
    let mut f = Vec::with_capacity(42);
    f.extend_from_slice(&[0xff; 6]);
    f.extend_from_slice(&me);
    f.extend_from_slice(&[0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]);
    f.extend_from_slice(&me);
    f.extend_from_slice(&[10, 0, 0, 5]);
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&target);
    sock.send(&f).ok()?;
    let end = std::time::Instant::now() + limit;
    let mut buf = [0u8; 256];
    while std::time::Instant::now() < end {
        match sock.recv(&mut buf) {
            Ok(Some(n)) if n >= 42 && buf[20..22] == [0, 2] && buf[28..32] == target => {
                let mut mac = [0u8; 6];
                mac.copy_from_slice(&buf[22..28]);
                return Some(mac);
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => return None,
        }
    }
    None
}

#[test]
fn arp_for_the_virtual_ip_notifications_and_a_clean_stop() {
    if !require() {
        return;
    }
    let (mut lab, mut ca, mut cb) = Lab::seed().expect("lab");
    steady(&mut ca, &mut cb);
    let vmac = [0x00, 0x00, 0x5e, 0x00, 0x01, 0x01];
    // The master answers ARP for the virtual IP with the virtual MAC...
    assert_eq!(
        arp_who_has(&lab.ns("b"), "b-ic", [10, 0, 0, 6], Duration::from_secs(2)),
        Some(vmac),
        "no ARP reply from the master"
    );
    // ...the backup does not.
    assert_eq!(
        arp_who_has(
            &lab.ns("a"),
            "a-ic",
            [10, 0, 0, 6],
            Duration::from_millis(500)
        ),
        None,
        "the backup answered ARP for the virtual IP"
    );

    let r = cb
        .rpc("<create-subscription xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\"/>")
        .unwrap();
    assert!(r.contains("<ok/>"), "{r}");

    // A clean stop: A sends priority 0 and BFD AdminDown. B takes over through the
    // priority-0 advert; BFD AdminDown must not move B's priority (RFC 5882).
    lab.a.stop();
    let mut seen = String::new();
    let ok = wait_for(SETTLE, || {
        while let Ok(Some(n)) = cb.next_notification(Duration::from_millis(50)) {
            seen.push_str(&n);
        }
        seen.contains("<new-state>master</new-state>")
    });
    assert!(ok, "no VRRP state-change notification: {seen}");
    assert!(
        seen.contains("urn:ne-agent:yang:ne-vrrp") && seen.contains("<interface>b-ic</interface>")
    );
    assert!(
        seen.contains("<session-state-change") && seen.contains("<name>to-a</name>"),
        "no BFD notification: {seen}"
    );
    let g = group(&mut cb, "b-ic");
    assert_eq!(leaf_after(&g, "<group>", "state"), Some("master"), "{g}");
    assert_eq!(
        leaf_after(&g, "<group>", "current-priority"),
        Some("100"),
        "{g}"
    );
    assert!(num(&g, "<statistics>", "priority-zero-received") >= 1);
    let b = bfd(&mut cb);
    assert_eq!(
        leaf_after(&b, "<session>", "remote-state"),
        Some("admin-down"),
        "{b}"
    );
}

/// A single-hop BFD session whose peer never answers ARP: no packet leaves (the kernel holds
/// them for resolution, then drops them), so tx-packets stays 0 and tx-errors counts them with
/// the reason; the detection time reads as configured, not 0 (issue 20: tx-packets rose to 23
/// with nothing on the wire, and detection-time read 0 while down).
#[test]
fn bfd_to_a_peer_that_never_answers_arp_counts_nothing_as_sent() {
    if !require() {
        return;
    }
    let (_lab, mut ca, _cb) = Lab::seed().expect("lab");
    ca.edit_running(
        "<bfd xmlns=\"urn:ne-agent:yang:ne-bfd\"><session><name>ghost</name>\
         <peer-ip>192.168.1.77</peer-ip><interface>a-dn</interface>\
         <local-discriminator>77</local-discriminator></session></bfd>",
    )
    .expect("configure the ghost session");
    let session = |c: &mut Blocking| {
        c.get(Some(
            "<bfd xmlns=\"urn:ne-agent:yang:ne-bfd\"><session><name>ghost</name></session></bfd>",
        ))
        .expect("get")
    };
    // Down, it sends once a second; ARP gives up after about 3 s.
    assert!(
        wait_for(Duration::from_secs(20), || {
            let s = session(&mut ca);
            leaf_after(&s, "<statistics>", "tx-errors")
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|n| n >= 3)
        }),
        "{}",
        session(&mut ca)
    );
    let s = session(&mut ca);
    assert_eq!(num(&s, "<statistics>", "tx-packets"), 0, "{s}");
    assert!(
        leaf_after(&s, "<session>", "last-tx-error")
            .is_some_and(|r| r.contains("ARP for 192.168.1.77 on a-dn failed")),
        "{s}"
    );
    assert_eq!(leaf_after(&s, "<session>", "state"), Some("down"), "{s}");
    // Never heard: the detection time the session will use (3 x 10 ms), in both units.
    assert_eq!(num(&s, "<session>", "detection-time"), 30_000, "{s}");
    assert_eq!(
        leaf_after(&s, "<session>", "detection-time-ms"),
        Some("30.0"),
        "{s}"
    );
    assert_eq!(
        leaf_after(&s, "<session>", "actual-tx-interval-ms"),
        Some("1000.0"),
        "{s}"
    );
    // The seed session to B resolved its peer: what it sent left.
    let b = bfd(&mut ca);
    assert!(num(&b, "<name>to-b</name>", "tx-packets") > 0, "{b}");
}

/// Packets that do not decode are counted where `<get>` shows them (issue 15 item 6): a BFD
/// Control packet of the wrong version from B, a VRRP advertisement of version 4 from B, an IGMP
/// message with a bad checksum from the receiver and a PIM message with a bad checksum from the
/// source, each sent once to A.
#[test]
fn malformed_control_packets_are_counted() {
    if !require() {
        return;
    }
    let (lab, mut ca, mut cb) = Lab::seed().expect("lab");
    steady(&mut ca, &mut cb);
    let send = |role: &str, script: &str| {
        lab.exec(role, &["python3", "-c", script])
            .unwrap_or_else(|e| panic!("send from {role}: {e}"))
    };
    // UDP to A's single-hop BFD port: version 0, not 1.
    send(
        "b",
        "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); \
         s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 255); \
         s.sendto(bytes(24), ('10.0.0.1', 3784))",
    );
    // IP protocol 112 to the VRRP group out of b-ic, for vrid 1: version 4.
    send(
        "b",
        "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_RAW, 112); \
         s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255); \
         s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('10.0.0.2')); \
         s.sendto(bytes([0x41, 1, 100, 1, 0, 100, 0, 0, 10, 0, 0, 6]), ('224.0.0.18', 0))",
    );
    // IP protocol 2 (IGMP) to A's downstream address: a v2 report with a wrong checksum.
    send(
        "rcv",
        "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_RAW, 2); \
         s.sendto(bytes([0x16, 0, 0xde, 0xad, 239, 1, 1, 9]), ('192.168.1.1', 0))",
    );
    // IP protocol 103 (PIM) to A's uplink address from the source: a Hello with a wrong checksum.
    send(
        "src",
        "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_RAW, 103); \
         s.sendto(bytes([0x20, 0, 0xde, 0xad]), ('10.1.0.1', 0))",
    );
    let counted = |c: &mut Blocking, filter: &str, anchor: &str| -> u64 {
        c.get(Some(filter))
            .ok()
            .and_then(|x| leaf_after(&x, anchor, "rx-malformed").and_then(|v| v.parse().ok()))
            .unwrap_or(0)
    };
    let bfd_filter = "<bfd xmlns=\"urn:ne-agent:yang:ne-bfd\"><statistics/></bfd>";
    let vrrp_filter = "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>a-ic</name>\
                       <vrrp xmlns=\"urn:ne-agent:yang:ne-vrrp\"><statistics/></vrrp></interface></interfaces>";
    let pim_filter = "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>a-up</name>\
                      <pim xmlns=\"urn:ne-agent:yang:ne-multicast\"><statistics/></pim></interface></interfaces>";
    let igmp_filter = "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>a-dn</name>\
                       <igmp xmlns=\"urn:ne-agent:yang:ne-multicast\"><statistics/></igmp></interface></interfaces>";
    assert!(
        wait_for(Duration::from_secs(10), || {
            counted(&mut ca, bfd_filter, "<statistics>") >= 1
                && counted(&mut ca, vrrp_filter, "<statistics>") >= 1
                && counted(&mut ca, igmp_filter, "<statistics>") >= 1
                && counted(&mut ca, pim_filter, "<statistics>") >= 1
        }),
        "BFD {} VRRP {} IGMP {} PIM {}",
        counted(&mut ca, bfd_filter, "<statistics>"),
        counted(&mut ca, vrrp_filter, "<statistics>"),
        counted(&mut ca, igmp_filter, "<statistics>"),
        counted(&mut ca, pim_filter, "<statistics>")
    );
    // The session to B and the mVRRP group took no harm.
    assert_eq!(bfd_state(&mut ca, "to-b").as_deref(), Ok("up"));
    assert_eq!(vrrp_state(&mut ca, "a-ic", 1).as_deref(), Ok("master"));
}
