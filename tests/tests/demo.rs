//! `ne-lab demo`, the program README gives a new user, runs to the end and tells the story it
//! promises: steady state, node failure, A's recovery step by step, uplink failure; and the
//! devices' `display vrrp brief` and `display multicast routing-table` at each step.

use ne_lab::lab::require;

#[test]
fn the_demo_runs_through_every_step() {
    if !require() {
        return;
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ne-lab"))
        .arg("demo")
        .output()
        .expect("run ne-lab demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in [
        "a-dn forwarding; B: b-dn blocked-by-vrrp",
        "failover at the receiver:",
        "A is up: mVRRP backup",
        "A: BFD to B up",
        "a-dn blocked-by-vrrp (hot standby)",
        "A preempted back: mVRRP master",
        "handover back to A at the receiver:",
        "B is master; at the receiver:",
        "cleaning up",
    ] {
        assert!(stdout.contains(step), "no '{step}' in:\n{stdout}");
    }
    // At each step the devices' CLI displays (through SSH exec requests): each device's VRRP
    // group and the stream's route with its downstream interface's state. (What the states
    // are at each step is the story above; on a loaded machine a display may catch a moment
    // between two of them, so only the failover's is checked here, where the demo waited for
    // it. tests/vrp_displays.rs checks the displays' rows against a settled lab.)
    let between = |from: &str, to: &str| -> &str {
        let start = stdout.find(from).unwrap_or(0);
        let end = stdout[start..].find(to).map_or(stdout.len(), |e| start + e);
        &stdout[start..end]
    };
    let vrrp_row = |part: &str, ifname: &str| {
        ["Master", "Backup", "Initialize"]
            .iter()
            .any(|st| part.contains(&format!("1     {st:<13}{ifname:<25}Admin    10.0.0.6")))
    };
    let route = |part: &str, ifname: &str| {
        part.contains("00001. (10.1.0.10, 239.1.1.1)")
            && ["forwarding", "blocked-by-vrrp"]
                .iter()
                .any(|st| part.contains(&format!("1:  {ifname} ({st})")))
    };
    for (from, to, devices) in [
        ("2 s of steady state", "kill -9 agent A", &["A", "B"][..]),
        ("failover at the receiver", "restarting agent A", &["B"][..]),
        ("A relearned the receiver", "A preempted back", &["A"][..]),
        (
            "handover back to A",
            "uplink a-up loses carrier",
            &["A", "B"][..],
        ),
        (
            "B is master; at the receiver",
            "cleaning up",
            &["A", "B"][..],
        ),
    ] {
        let part = between(from, to);
        for d in devices {
            let (ic, dn) = if *d == "A" {
                ("a-ic", "a-dn")
            } else {
                ("b-ic", "b-dn")
            };
            assert!(
                part.contains(&format!("<{d}>display vrrp brief"))
                    && part.contains(&format!("<{d}>display multicast routing-table"))
                    && vrrp_row(part, ic)
                    && route(part, dn),
                "{d}'s displays after '{from}' in:\n{part}"
            );
        }
    }
    let standby = between("A relearned the receiver", "A preempted back");
    assert!(
        standby.contains("1     Backup       a-ic ")
            && standby.contains("1:  a-dn (blocked-by-vrrp)"),
        "A backup and hot (its route blocked by VRRP) before it preempts:\n{standby}"
    );
    let failover = between("failover at the receiver", "restarting agent A");
    assert!(
        failover.contains("1     Master       b-ic ") && failover.contains("1:  b-dn (forwarding)"),
        "B master and forwarding after the failover:\n{failover}"
    );
}
