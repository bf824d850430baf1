//! The two-device lab end to end (LAB.md): both agents configured over NETCONF with the
//! MODELS.md seed configuration, then failures injected for real (kill -9, links down) and the
//! outcome read back over NETCONF. Needs root; skips visibly otherwise (never in CI).

use std::time::Duration;

use ne_lab::lab::{bfd_state, leaf_after, require, vrrp_state, wait_for, Lab};
use ne_lab::netconf::Blocking;

const SETTLE: Duration = Duration::from_secs(30);

fn steady(ca: &mut Blocking, cb: &mut Blocking) {
    let ok = wait_for(SETTLE, || {
        vrrp_state(ca, "a-ic", 1).as_deref() == Ok("master")
            && vrrp_state(cb, "b-ic", 1).as_deref() == Ok("backup")
            && bfd_state(ca, "to-b").as_deref() == Ok("up")
            && bfd_state(cb, "to-a").as_deref() == Ok("up")
    });
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
    let g = group(&mut ca, "a-ic");
    assert_eq!(num(&g, "<statistics>", "master-transitions"), mt0, "{g}");
    assert_eq!(leaf_after(&g, "<group>", "state"), Some("master"));

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
