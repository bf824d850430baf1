//! `ne-lab demo`, the program README gives a new user, runs to the end and tells the story it
//! promises: steady state, node failure, A's recovery step by step, uplink failure.

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
}
