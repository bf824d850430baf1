//! Issue 17, acceptance 5: a 10,000-line batch of the VRP-style CLI (2,000 monitor groups, each
//! enabled with two bindings), typed into `ssh -T` as an engineer would, completes with its
//! commit in at most 2 s. Each run is a fresh agent (release build) on a loopback port and the
//! OpenSSH client; the time is the client's whole run: connection, login, every line, the
//! commit through the pipeline (validation, engines, history) and the session's end.
//!
//! `cargo bench -p agent --bench vrp_batch [-- GROUPS RUNS]` (default 2000 groups, 5 runs).
//! Also timed: the same batch without its commit, and an empty session (the SSH cost alone).

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::Agent;

/// The batch: `groups` monitor groups over 8 interfaces, 5 lines each, then `commit`.
fn batch(groups: usize, commit: bool) -> String {
    let mut b = String::from("system-view\n");
    for i in 0..8 {
        b.push_str(&format!("interface zq{i}\n quit\n"));
    }
    for i in 0..groups {
        b.push_str(&format!(
            "monitor-group g{i}\n monitor enable\n binding interface zq{} down-weight {}\n \
             binding interface zq{}\n quit\n",
            i % 8,
            i % 1000 + 1,
            (i + 1) % 8
        ));
    }
    if commit {
        b.push_str("commit comment vrp_batch bench\n");
    }
    b.push_str("return\n");
    b
}

/// `ssh -T admin@127.0.0.1 < input` against `agent`: the time it took; panics unless it
/// exits 0 with nothing on stderr but a warning.
fn ssh(agent: &Agent, key: &Path, input: &[u8]) -> Duration {
    let t = Instant::now();
    let mut child = agent
        .openssh(key)
        .args(["-T", "admin@127.0.0.1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ssh");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input).expect("write the batch");
    drop(stdin);
    let out = child.wait_with_output().expect("ssh output");
    let took = t.elapsed();
    assert!(
        out.status.success() && (out.stderr.is_empty() || out.stderr.starts_with(b"Warning: ")),
        "status {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn stats(name: &str, runs: &mut [Duration]) -> f64 {
    runs.sort();
    let median = ms(runs[runs.len() / 2]);
    println!(
        "  {name:48} median {median:7.1} ms   min {:7.1} ms   max {:7.1} ms",
        ms(runs[0]),
        ms(runs[runs.len() - 1])
    );
    median
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let groups = args.first().copied().unwrap_or(2000);
    let runs = args.get(1).copied().unwrap_or(5).max(1);
    if Command::new("ssh").arg("-V").output().is_err() {
        println!("vrp_batch: OpenSSH's ssh is not installed; nothing measured");
        return;
    }
    let dir: PathBuf = std::env::temp_dir().join(format!("vrp-batch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("key dir");
    let key = dir.join("id");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen");
    assert!(made.success(), "ssh-keygen");
    let public = format!("{}.pub", key.display());
    let with_commit = batch(groups, true);
    let without = batch(groups, false);
    println!(
        "VRP CLI batch over ssh -T: {groups} monitor groups, {} lines with the commit \
         ({} bytes); {runs} runs, each on a fresh agent",
        with_commit.lines().count(),
        with_commit.len()
    );
    let (mut full, mut edit_only, mut empty) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let agent = Agent::start(&format!("vrp-batch-{run}"), &["--authorized-keys", &public]);
        empty.push(ssh(&agent, &key, b"return\n"));
        edit_only.push(ssh(&agent, &key, without.as_bytes()));
        full.push(ssh(&agent, &key, with_commit.as_bytes()));
        // The commit reached running: the last group is there.
        let mut shown = agent
            .openssh(&key)
            .arg("admin@127.0.0.1")
            .arg(format!("display monitor-group g{}", groups - 1))
            .output()
            .expect("ssh");
        shown.stdout.truncate(200);
        assert!(
            String::from_utf8_lossy(&shown.stdout).contains("State            : enabled"),
            "{}",
            String::from_utf8_lossy(&shown.stdout)
        );
    }
    stats("empty session (connect, login, return)", &mut empty);
    stats(
        "the batch without commit (discarded at the end)",
        &mut edit_only,
    );
    let median = stats("the batch with its commit", &mut full);
    println!(
        "  {:.0} lines/s including the commit; goal <= 2000 ms: {}",
        with_commit.lines().count() as f64 / (median / 1000.0),
        if median <= 2000.0 { "met" } else { "NOT met" }
    );
    let _ = std::fs::remove_dir_all(&dir);
}
