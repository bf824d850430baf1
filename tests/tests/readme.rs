//! README's commands, run as written from the workspace root (issue 14: round 1 shipped a run
//! command that failed from a fresh clone).
//!
//! - The run command (`cargo run --release`, the first block after "Run the agent") starts the
//!   agent with its embedded defaults: it listens on 127.0.0.1:8300, writes the admin password to
//!   `./var/ne-agent/initial-admin-password`, and a NETCONF session logs in with it and reads
//!   running. It runs inside a network namespace of its own (so 8300 is free whatever else runs
//!   here); the data directory is the README's, `./var/ne-agent`, removed afterwards when this
//!   test created it.
//! - Every other `cargo run` line README shows without placeholders (`--help`, `yang tree
//!   ne-vrrp`) succeeds and prints what README says it prints.
//!
//! `tests/run` builds the release binary first, so `cargo run --release` here only checks that it
//! is fresh. Needs root for the namespace (skips visibly otherwise, fails under
//! NE_REQUIRE_TOOLS=1).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ne_lab::lab::{require, Netns};
use ne_lab::netconf::Blocking;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("README.md")
}

/// The lines of README's fenced `sh` blocks, without trailing comments, continuation lines joined.
fn shell_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in text.lines() {
        let t = line.trim_end();
        if t.starts_with("```") {
            in_sh = !in_sh && t == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        if let Some(head) = t.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(t);
        let cmd = match pending.find("  #") {
            Some(i) => pending[..i].trim().to_string(),
            None => pending.trim().to_string(),
        };
        if !cmd.is_empty() {
            out.push(cmd);
        }
        pending.clear();
    }
    out
}

/// The command of the first `sh` block after the paragraph that starts with `marker`.
fn block_after(text: &str, marker: &str) -> String {
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("README has no '{marker}'"));
    shell_lines(&text[at..])
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("README has no command after '{marker}'"))
}

/// A shell command line run as written, in the workspace root, in its own process group.
fn spawn(line: &str, ns: Option<&str>, out: &Path) -> Child {
    let log = std::fs::File::create(out).expect("log file");
    let mut cmd = match ns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, "sh", "-c", line]);
            c
        }
        None => {
            let mut c = Command::new("sh");
            c.args(["-c", line]);
            c
        }
    };
    cmd.current_dir(root())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run '{line}': {e}"))
}

fn stop(child: &mut Child) {
    let pgid = child.id().to_string();
    let _ = Command::new("kill")
        .args(["-TERM", "--", &format!("-{pgid}")])
        .status();
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .status();
    let _ = child.wait();
}

#[test]
fn readme_run_command_starts_the_agent_with_its_defaults() {
    let text = readme();
    let line = block_after(&text, "Run the agent");
    assert_eq!(
        line, "cargo run --release",
        "README's run command changed; this test runs it as written"
    );
    if !require() {
        return;
    }
    let ns = Netns::new("readme").expect("namespace");
    let data = root().join("var/ne-agent");
    let created = !data.exists();
    let log = std::env::temp_dir().join(format!("ne-readme-{}.log", std::process::id()));
    let mut child = spawn(&line, Some(&ns.0), &log);

    // The release build is made by tests/run beforehand; allow for a build here all the same.
    let end = Instant::now() + Duration::from_secs(900);
    let password_file = data.join("initial-admin-password");
    let session = loop {
        let running = matches!(child.try_wait(), Ok(None));
        let tried = std::fs::read_to_string(&password_file)
            .ok()
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .map(|password| {
                let ns = ns.0.clone();
                Blocking::connect(
                    move || {
                        dataplane::netns::run_in(&ns, || {
                            std::net::TcpStream::connect_timeout(
                                &"127.0.0.1:8300".parse().expect("address"),
                                Duration::from_secs(5),
                            )
                        })?
                    },
                    "admin",
                    &password,
                )
            });
        match tried {
            Some(Ok(c)) => break Ok(c),
            Some(Err(e)) if !running || Instant::now() > end => break Err(e.to_string()),
            None if !running || Instant::now() > end => {
                break Err("the agent wrote no initial-admin-password".to_string())
            }
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    let result = session.and_then(|mut c| {
        c.rpc("<get-config><source><running/></source></get-config>")
            .map_err(|e| e.to_string())
    });
    stop(&mut child);
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    if created {
        let _ = std::fs::remove_dir_all(&data);
        let _ = std::fs::remove_dir(root().join("var"));
    }
    let reply = result.unwrap_or_else(|e| panic!("'{line}': {e}\noutput:\n{output}"));
    assert!(
        reply.contains("<data"),
        "get-config through the README's agent: {reply}"
    );
    assert!(
        output.contains("127.0.0.1:8300"),
        "the agent names its listen address at start:\n{output}"
    );
}

#[test]
fn every_other_cargo_run_line_in_readme_works() {
    let text = readme();
    let lines: Vec<String> = shell_lines(&text)
        .into_iter()
        .filter(|l| l.starts_with("cargo run --release -- "))
        // Lines with placeholders (DIR, FILE, module.yang ...) are templates, not commands.
        .filter(|l| !l.contains("...") && !l.contains(" DIR") && !l.contains("FILE"))
        .collect();
    assert!(
        lines.iter().any(|l| l.ends_with("yang tree ne-vrrp")),
        "README shows `cargo run --release -- yang tree ne-vrrp`: {lines:?}"
    );
    let mut all = lines.clone();
    // Named in README's prose rather than in a block.
    assert!(text.contains("`cargo run --release -- --help`"));
    all.push("cargo run --release -- --help".to_string());
    for line in all {
        let out = Command::new("sh")
            .args(["-c", &line])
            .current_dir(root())
            .output()
            .unwrap_or_else(|e| panic!("cannot run '{line}': {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "'{line}' failed: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        if line.ends_with("yang tree ne-vrrp") {
            assert!(stdout.contains("module: ne-vrrp"), "{line}:\n{stdout}");
        }
        if line.ends_with("--help") {
            assert!(stdout.contains("--listen"), "{line}:\n{stdout}");
        }
    }
}
