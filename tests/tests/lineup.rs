//! A channel line-up in the lab (issue 19 item 7), reduced: 200 groups from 10 sources to two
//! receivers' LANs, kernel IGMP joins on both; both devices learn every membership on both
//! LANs, every group reaches both LANs, and after kill -9 of the master every group reaches
//! both LANs again through the backup, with nothing duplicated. Needs root; skips visibly
//! otherwise (never in CI). No time assertions: `ne-lab bench-channels` measures the gaps.

use std::time::{Duration, Instant};

use ne_lab::lab::{require, vrrp_state, wait_for, Lab};
use ne_lab::lineup::{self, Receiver, Sender};
use ne_lab::netconf::Blocking;

const GROUPS: u32 = 200;

fn counts(ca: &mut Blocking, cb: &mut Blocking) -> [usize; 4] {
    [
        lineup::lineup_count(ca, "a-dn", GROUPS).expect("get a-dn"),
        lineup::lineup_count(ca, "a-dn2", GROUPS).expect("get a-dn2"),
        lineup::lineup_count(cb, "b-dn", GROUPS).expect("get b-dn"),
        lineup::lineup_count(cb, "b-dn2", GROUPS).expect("get b-dn2"),
    ]
}

/// Groups of `0..GROUPS` that received nothing in what `r` logged since its last `take`.
fn undelivered(r: &Receiver) -> Vec<u32> {
    let mut seen = vec![false; GROUPS as usize];
    for a in r.take() {
        if let Some(s) = seen.get_mut(a.group as usize) {
            *s = true;
        }
    }
    (0..GROUPS).filter(|&g| !seen[g as usize]).collect()
}

#[test]
fn lineup_of_200_groups_on_two_lans_survives_kill_of_the_master() {
    if !require() {
        return;
    }
    let (mut lab, mut ca, mut cb) = Lab::seed_two_lans().expect("lab");
    assert!(
        ne_lab::lab::steady(&mut ca, &mut cb, Duration::from_secs(60)),
        "no steady state: A {:?} B {:?}",
        vrrp_state(&mut ca, "a-ic", 1),
        vrrp_state(&mut cb, "b-ic", 1)
    );
    // Past A's preemption hold after its start, so the roles no longer swap.
    std::thread::sleep(Duration::from_secs(12));
    assert!(ne_lab::lab::steady(
        &mut ca,
        &mut cb,
        Duration::from_secs(60)
    ));

    let rcvs = [
        Receiver::start(&lab, "rcv", "rcv0", GROUPS).expect("receiver on LAN 1"),
        Receiver::start(&lab, "rcv2", "rcv0", GROUPS).expect("receiver on LAN 2"),
    ];
    // 2,000 packets/s in total (10 per group per second), so a few seconds see every group
    // many times.
    let src = Sender::start(&lab, GROUPS, 10, 2000).expect("sources");

    // Both devices hold every membership on both LANs (the non-querier too).
    let mut last = [0; 4];
    let all = wait_for(Duration::from_secs(60), || {
        last = counts(&mut ca, &mut cb);
        last.iter().all(|&n| n == GROUPS as usize)
    });
    assert!(
        all,
        "memberships a-dn, a-dn2, b-dn, b-dn2: {last:?} of {GROUPS}"
    );
    // The CLI shows them too.
    let text = lab
        .b
        .cli("display igmp group")
        .expect("display igmp group on B");
    let listed = text.lines().filter(|l| l.contains("239.10.")).count();
    assert_eq!(
        listed,
        2 * GROUPS as usize,
        "B's display igmp group:\n{text}"
    );

    // Every group reaches both LANs through A.
    std::thread::sleep(Duration::from_secs(1));
    for r in &rcvs {
        r.take();
    }
    std::thread::sleep(Duration::from_secs(2));
    for (lan, r) in rcvs.iter().enumerate() {
        let missing = undelivered(r);
        assert!(
            missing.is_empty(),
            "LAN {}: groups not delivered before the failure: {missing:?}",
            lan + 1
        );
    }

    // Node failure: every group reaches both LANs again through B, none twice.
    let kill = Instant::now();
    lab.a.kill9();
    let mut master = None;
    assert!(
        wait_for(Duration::from_secs(10), || {
            let m = vrrp_state(&mut cb, "b-ic", 1).as_deref() == Ok("master");
            if m {
                master = Some(Instant::now());
            }
            m
        }),
        "B did not become master"
    );
    std::thread::sleep(Duration::from_secs(3));
    let end = Instant::now();
    for (lan, r) in rcvs.iter().enumerate() {
        let log = r.take();
        // What arrived after B was seen as master came through B (A is dead).
        let since = master.expect("B master");
        let seen = lineup::per_group(&log, GROUPS, kill - Duration::from_secs(2), end, since);
        let silent: Vec<usize> = (0..seen.len())
            .filter(|&g| seen[g].after_failure == 0)
            .collect();
        assert!(
            silent.is_empty(),
            "LAN {}: groups with nothing through B after the failover: {silent:?}",
            lan + 1
        );
        let dups: usize = seen.iter().map(|s| s.duplicates).sum();
        assert_eq!(dups, 0, "LAN {}: duplicates after a node failure", lan + 1);
    }
    // B kept every membership.
    for ifname in ["b-dn", "b-dn2"] {
        assert_eq!(
            lineup::lineup_count(&mut cb, ifname, GROUPS).expect("get"),
            GROUPS as usize,
            "B's {ifname} after the failover"
        );
    }
    drop(src);
}
