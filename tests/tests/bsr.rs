//! The bootstrap router mechanism (RFC 5059) between two real agents in the seed lab: A is the
//! candidate BSR (and a backup candidate RP), B the preferred candidate RP. Both learn the BSR,
//! A's RP(G) for the receiver's group becomes B (its (*,G) Join shows up as downstream join
//! state on B), and the RP fails over to A when B withdraws its candidacy and again when B is
//! killed (after B's holdtime). All read over NETCONF.
//!
//! FRR as the BSR: `pim_frr.rs`.

use std::time::Duration;

use ne_lab::lab::{pim_state, require, wait_for, Lab, Receiver};
use ne_lab::netconf::Blocking;

const MC: &str = "urn:ne-agent:yang:ne-multicast";

fn bsr(c: &mut Blocking) -> String {
    c.get(Some(&format!(
        "<multicast xmlns=\"{MC}\"><bsr/></multicast>"
    )))
    .expect("get bsr")
}

/// The `rp` entries of the `bsr` state as (group-range, address, priority).
fn rps(state: &str) -> Vec<(String, String, String)> {
    let leaf = |s: &str, name: &str| {
        let open = format!("<{name}>");
        let a = s.find(&open)? + open.len();
        let b = s[a..].find('<')? + a;
        Some(s[a..b].to_string())
    };
    state
        .split("<rp>")
        .skip(1)
        .filter_map(|r| {
            let r = &r[..r.find("</rp>")?];
            Some((
                leaf(r, "group-range")?,
                leaf(r, "address")?,
                leaf(r, "priority")?,
            ))
        })
        .collect()
}

fn has_rp(state: &str, address: &str, priority: &str) -> bool {
    rps(state)
        .iter()
        .any(|(g, a, p)| g == "224.0.0.0/4" && a == address && p == priority)
}

/// B's downstream (*,239.1.1.1) join state on b-up: A's Join toward B as RP.
fn star_g_join_at_b(cb: &mut Blocking) -> bool {
    pim_state(cb, "b-up")
        .expect("pim b-up")
        .contains("<join><source>0.0.0.0</source><group>239.1.1.1</group>")
}

fn multicast_edit(body: &str) -> String {
    format!("<multicast xmlns=\"{MC}\">{body}</multicast>")
}

fn delete(what: &str) -> String {
    multicast_edit(&format!(
        "<{what} xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\" nc:operation=\"delete\"/>"
    ))
}

const B_CRP: &str = "<c-rp><address>10.1.0.2</address><priority>100</priority>\
    <holdtime>20</holdtime><advertisement-interval>5</advertisement-interval></c-rp>";

#[test]
fn bsr_elects_spreads_the_rp_set_and_the_rp_fails_over() {
    if !require() {
        return;
    }
    let (mut lab, mut ca, mut cb) = Lab::seed().expect("lab");
    // A candidate's address must be the device's own.
    let err = ca
        .edit_running(&multicast_edit(
            "<c-bsr><address>10.99.0.1</address></c-bsr>",
        ))
        .expect_err("a foreign c-bsr address is refused");
    assert!(
        err.0
            .contains("c-bsr address 10.99.0.1 is not an address of this device"),
        "{err}"
    );
    assert!(!bsr(&mut ca).contains("<c-bsr>"));
    // PIM adjacency on the uplink LAN first (the Bootstrap message comes from a neighbor).
    assert!(
        wait_for(Duration::from_secs(40), || pim_state(&mut cb, "b-up")
            .expect("pim")
            .contains("<neighbor><address>10.1.0.1</address>")),
        "no PIM adjacency: {}",
        pim_state(&mut cb, "b-up").expect("pim")
    );
    let rcv = Receiver::start(&lab).expect("receiver");
    ca.edit_running(&multicast_edit(
        "<c-bsr><address>10.1.0.1</address><priority>10</priority></c-bsr>\
         <c-rp><address>10.1.0.1</address><priority>200</priority>\
         <holdtime>20</holdtime><advertisement-interval>5</advertisement-interval></c-rp>",
    ))
    .expect("A: c-bsr and c-rp");
    cb.edit_running(&multicast_edit(B_CRP)).expect("B: c-rp");
    // A takes over as BSR after BS_Rand_Override (5 s); B follows it.
    assert!(
        wait_for(Duration::from_secs(20), || {
            bsr(&mut ca).contains("<state>elected</state>")
                && bsr(&mut cb).contains("<state>accept-preferred</state>")
        }),
        "A {}\nB {}",
        bsr(&mut ca),
        bsr(&mut cb)
    );
    let b_state = bsr(&mut cb);
    assert!(
        b_state.contains("<elected-address>10.1.0.1</elected-address>")
            && b_state.contains("<elected-priority>10</elected-priority>"),
        "{b_state}"
    );
    // B's advertisement reaches A (unicast): A's RP set has both, and B (priority 100 < 200)
    // is RP(239.1.1.1): A's (*,G) Join goes to B.
    assert!(
        wait_for(Duration::from_secs(20), || {
            let a = bsr(&mut ca);
            has_rp(&a, "10.1.0.2", "100") && has_rp(&a, "10.1.0.1", "200")
        }),
        "A {}",
        bsr(&mut ca)
    );
    assert!(
        wait_for(Duration::from_secs(20), || star_g_join_at_b(&mut cb)),
        "no (*,G) join from A at B: {}\nA {}",
        pim_state(&mut cb, "b-up").expect("pim"),
        bsr(&mut ca)
    );
    // The same through A's VRP-style CLI.
    let info = lab
        .a
        .cli("display pim bsr-info")
        .expect("display pim bsr-info");
    assert!(
        info.contains(" Elected BSR Address: 10.1.0.1\n") && info.contains("     State: Elected\n"),
        "{info}"
    );
    let rp_info = lab
        .a
        .cli("display pim rp-info")
        .expect("display pim rp-info");
    assert!(
        rp_info.contains(" PIM-SM BSR RP Number:2\n") && rp_info.contains("     RP: 10.1.0.2\n"),
        "{rp_info}"
    );
    // The next periodic Bootstrap message (BS_Period 60 s) brings A's RP set to B.
    assert!(
        wait_for(Duration::from_secs(75), || {
            let b = bsr(&mut cb);
            has_rp(&b, "10.1.0.2", "100") && has_rp(&b, "10.1.0.1", "200")
        }),
        "B {}",
        bsr(&mut cb)
    );
    // B withdraws (a C-RP-Adv with holdtime 0): A becomes RP(G) itself and prunes toward B.
    cb.edit_running(&delete("c-rp")).expect("B: no c-rp");
    assert!(
        wait_for(Duration::from_secs(15), || {
            let a = bsr(&mut ca);
            !has_rp(&a, "10.1.0.2", "100") && has_rp(&a, "10.1.0.1", "200")
        }),
        "A {}",
        bsr(&mut ca)
    );
    assert!(
        wait_for(Duration::from_secs(15), || !star_g_join_at_b(&mut cb)),
        "A still joined at B: {}",
        pim_state(&mut cb, "b-up").expect("pim")
    );
    // B again, then killed: A drops it once its holdtime (20 s) runs out.
    cb.edit_running(&multicast_edit(B_CRP))
        .expect("B: c-rp again");
    assert!(
        wait_for(Duration::from_secs(20), || star_g_join_at_b(&mut cb)),
        "A did not join B again: {}",
        bsr(&mut ca)
    );
    lab.b.kill9();
    assert!(
        wait_for(Duration::from_secs(40), || !has_rp(
            &bsr(&mut ca),
            "10.1.0.2",
            "100"
        )),
        "A kept the dead RP: {}",
        bsr(&mut ca)
    );
    assert!(has_rp(&bsr(&mut ca), "10.1.0.1", "200"));
    drop(rcv);
}
