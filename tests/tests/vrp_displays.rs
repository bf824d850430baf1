//! The VRP-style CLI's displays of the engines' state (issue 17) on the two-device lab, with
//! real state: both agents configured with the seed, BFD up, mVRRP settled, a kernel receiver
//! joined to 239.1.1.1 and a 1000 packets/s stream. Each display is run through an SSH exec
//! request, as `ssh -p 8300 admin@host 'display ...'` does, and its rows are checked against
//! what the lab must show.

use std::time::Duration;

use ne_lab::lab::{bfd_state, require, vrrp_state, wait_for, Lab, Receiver, Sender};

/// The display's output; panics with the error text.
fn cli(agent: &ne_lab::lab::Agent, line: &str) -> String {
    agent.cli(line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// Every row of `want` is a line of `text` (leading and trailing blanks aside).
fn has_rows(line: &str, text: &str, want: &[&str]) {
    let rows: Vec<&str> = text.lines().map(str::trim).collect();
    for w in want {
        assert!(rows.contains(&w.trim()), "{line}: no row {w:?} in\n{text}");
    }
}

#[test]
fn displays_show_the_lab_state() {
    if !require() {
        return;
    }
    let (lab, mut ca, mut cb) = Lab::seed().expect("lab");
    let mut steady = || {
        wait_for(Duration::from_secs(60), || {
            vrrp_state(&mut ca, "a-ic", 1).as_deref() == Ok("master")
                && vrrp_state(&mut cb, "b-ic", 1).as_deref() == Ok("backup")
                && bfd_state(&mut cb, "to-a").as_deref() == Ok("up")
        })
    };
    assert!(steady(), "no steady state");
    // The agents started together: whichever came up first may be master for a while, and A
    // holds preemption for one IGMP max-response time (11 s) after its start.
    std::thread::sleep(Duration::from_secs(12));
    assert!(steady(), "no steady state after A's preemption hold");
    let rcv = Receiver::start(&lab).expect("receiver");
    let _src = Sender::start(&lab, 1000).expect("sender");
    assert!(
        wait_for(Duration::from_secs(30), || rcv.count() > 500),
        "the receiver gets nothing"
    );
    // PIM hellos both ways on the shared segments (30 s apart at worst, one sent at start).
    assert!(
        wait_for(Duration::from_secs(40), || {
            let n = cli(&lab.a, "display pim neighbor");
            n.contains("Total Number of Neighbors = 2")
        }),
        "{}",
        cli(&lab.a, "display pim neighbor")
    );

    let line = "display vrrp verbose";
    let a = cli(&lab.a, line);
    has_rows(
        line,
        &a,
        &[
            "a-ic | Virtual Router 1",
            "State             : Master",
            "Virtual IP        : 10.0.0.6",
            "Master IP         : 10.0.0.1",
            "Local IP          : 10.0.0.1",
            "PriorityRun       : 120",
            "PriorityConfig    : 120",
            "TimerRun          : 100 ms",
            "Virtual MAC       : 0000-5e00-0101",
            "Config Type       : admin-vrrp",
            "Track MonitorGroup: uplinks         Failure ratio : 100 %   link",
            "MonitorGroup State: normal",
        ],
    );
    let line = "display vrrp interface b-ic vrid 1";
    let b = cli(&lab.b, line);
    has_rows(
        line,
        &b,
        &[
            "b-ic | Virtual Router 1",
            "State             : Backup",
            "Master IP         : 10.0.0.1",
            "MasterPriority    : 120",
            "PriorityRun       : 100",
            "Track BFD         : to-a            Priority increased : 40",
            "BFD-session State : UP",
        ],
    );
    let line = "display vrrp brief";
    has_rows(
        line,
        &cli(&lab.b, line),
        &["1     Backup       b-ic                     Admin    10.0.0.6"],
    );

    let line = "display bfd session all verbose";
    let a = cli(&lab.a, line);
    has_rows(
        line,
        &a,
        &[
            "Session Name : to-b                  (One Hop) State : Up",
            "Local Discriminator    : 10             Remote Discriminator   : 20",
            "BFD Bind Type          : Interface(a-ic)",
            "Bind Peer IP Address   : 10.0.0.2",
            "Local Detect Multi     : 3              Remote State           : Up",
            "Total UP/DOWN Session Number : 1/0",
        ],
    );

    let line = "display igmp group";
    let a = cli(&lab.a, line);
    assert!(a.contains(" a-dn(192.168.1.1):\n"), "{line}:\n{a}");
    assert!(
        a.lines().any(|l| l
            .trim_start()
            .starts_with("239.1.1.1       192.168.1.100   ")),
        "{line}:\n{a}"
    );
    let line = "display igmp group verbose";
    has_rows(
        line,
        &cli(&lab.a, line),
        &["Group: 239.1.1.1", "Last reporter: 192.168.1.100"],
    );
    let line = "display igmp interface";
    let a = cli(&lab.a, line);
    has_rows(
        line,
        &a,
        &[
            "a-dn(192.168.1.1):",
            "IGMP is enabled",
            "Current IGMP version is 2",
            "IGMP state: up",
        ],
    );
    // A (192.168.1.1) has the lower address on the downstream segment: it is the querier.
    assert!(
        a.contains("Querier for IGMP: 192.168.1.1 (this router)"),
        "{line}:\n{a}"
    );
    // B: A once it heard A's query (until then B queries too, as IGMP's start-up has it).
    let b = cli(&lab.b, line);
    assert!(
        b.contains("Querier for IGMP: 192.168.1.1\n")
            || b.contains("Querier for IGMP: 192.168.1.2 (this router)\n"),
        "{line}:\n{b}"
    );

    let line = "display pim neighbor";
    let a = cli(&lab.a, line);
    for (neighbor, interface) in [("192.168.1.2", "a-dn"), ("10.1.0.2", "a-up")] {
        assert!(
            a.lines()
                .any(|l| l.starts_with(&format!(" {neighbor:<16}{interface:<20}"))),
            "{line}: {neighbor} on {interface} in\n{a}"
        );
    }
    let line = "display pim interface";
    let a = cli(&lab.a, line);
    assert!(
        a.lines()
            .any(|l| l.starts_with(" a-dn                up    1      30 ")),
        "{line}:\n{a}"
    );

    let line = "display multicast routing-table";
    let a = cli(&lab.a, line);
    has_rows(
        line,
        &a,
        &[
            "00001. (10.1.0.10, 239.1.1.1)",
            "Upstream Interface: a-up",
            "1:  a-dn (forwarding)",
        ],
    );
    let b = cli(&lab.b, line);
    has_rows(
        line,
        &b,
        &["Upstream Interface: b-up", "1:  b-dn (blocked-by-vrrp)"],
    );
    let line = "display pim routing-table";
    has_rows(
        line,
        &cli(&lab.a, line),
        &[
            "(10.1.0.10, 239.1.1.1)",
            "Upstream interface: a-up",
            "1: a-dn",
            "State: forwarding",
        ],
    );

    let line = "display interface brief";
    let a = cli(&lab.a, line);
    for name in ["a-dn", "a-ic", "a-up"] {
        assert!(
            a.lines()
                .any(|l| l.starts_with(&format!("{name:<24}up      up "))),
            "{line}: {name} up in\n{a}"
        );
    }
    // The kernel's counters: A forwards the stream out of a-dn and receives it on a-up.
    let counter = |name: &str, column: usize| -> u64 {
        a.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .and_then(|l| l.split_whitespace().nth(column))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{line}: no counter {column} of {name} in\n{a}"))
    };
    assert!(counter("a-dn", 4) > 500, "{line}: a-dn OutPackets in\n{a}");
    assert!(counter("a-up", 3) > 500, "{line}: a-up InPackets in\n{a}");
}
