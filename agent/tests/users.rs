//! Users and SSH hardening (issue 16): the agent as a process on a loopback port, driven by
//! ncclient (paramiko) and raw TCP connections.

mod support;

use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::{python_with, tool, Agent};

/// Run a part of `netconf_users.py` against `agent`; it must pass. Returns its output.
fn run_part(part: &str, agent: &Agent, recovery_user: &str) -> String {
    let Some(python) = python_with("ncclient") else {
        return String::new();
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/netconf_users.py");
    let out = Command::new(python)
        .arg(script)
        .arg(part)
        .arg(agent.port.to_string())
        .arg(recovery_user)
        .arg(agent.password())
        .arg(&agent.dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("all checks passed"),
        "{part}: {stdout}\n{stderr}\nagent log:\n{}",
        agent.log()
    );
    stdout
}

/// Does any file under `dir` contain `needle`?
fn files_contain(dir: &Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            files_contain(&p, needle)
        } else {
            std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
        }
    })
}

/// A configured user logs in with its password and with its key right after the commit; the
/// commit is logged and notified with who, from where and what; a user that deletes itself
/// keeps its sessions while new logins fail.
#[test]
fn config_users_log_in_by_password_and_key_without_restart() {
    if tool("ssh-keygen").is_none() {
        return;
    }
    let agent = Agent::start("users", &[]);
    if run_part("users", &agent, "admin").is_empty() {
        return;
    }
    let log = agent.log();
    let lines = |all: &[&str]| log.lines().any(|l| all.iter().all(|n| l.contains(n)));
    for (what, needles) in [
        (
            "password login",
            &["login", "user=alice", "source=127.0.0.1", "transport=\"ssh\"", "method=\"password\"", "outcome=\"accepted\""][..],
        ),
        ("key login", &["login", "user=alice", "method=\"publickey\"", "outcome=\"accepted\""]),
        ("refusal", &["login", "user=\"alice\"", "outcome=\"refused\"", "reason=\"wrong password\""]),
        ("session end", &["ssh connection ended", "user=alice", "source=127.0.0.1", "outcome=\"ended\""]),
        ("netconf session", &["netconf{user=alice source=127.0.0.1 transport=\"ssh\"}", "netconf session started"]),
        ("commit", &["configuration committed", "user=admin", "session=", "commit=1", "ietf-system:user[ietf-system:name='alice']"]),
        ("deletion", &["configuration committed", "user=alice", "delete /ietf-system:system/ietf-system:authentication/ietf-system:user[ietf-system:name='alice']"]),
    ] {
        assert!(lines(needles), "{what} is logged with {needles:?}:\n{log}");
    }
    assert!(
        !log.contains("alice-pw"),
        "a password reached the log:\n{log}"
    );
}

/// `$0$` cleartext is stored hashed in every datastore and in no file; `$1$` and unknown formats
/// are refused with the user, the format and the accepted ones, and nothing changes.
#[test]
fn cleartext_is_hashed_and_unverifiable_formats_refused() {
    let agent = Agent::start("passwords", &[]);
    if run_part("passwords", &agent, "admin").is_empty() {
        return;
    }
    // Give sled its background flush of the (unflushed) candidate journal.
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        !files_contain(&agent.dir.join("store"), b"carol-cleartext-4711"),
        "the cleartext reached the datastore files"
    );
    assert!(!agent.log().contains("carol-cleartext-4711"));
}

/// Failed logins from 127.0.0.1 make its next attempt wait; 127.0.0.2 and an established
/// session are not slowed down.
#[test]
fn failed_logins_slow_down_that_address_only() {
    let agent = Agent::start("penalty", &[]);
    let out = run_part("penalty", &agent, "admin");
    if out.is_empty() {
        return;
    }
    eprintln!("{out}");
    let log = agent.log();
    assert!(
        log.lines()
            .any(|l| l.contains("outcome=\"refused\"") && l.contains("failures=6")),
        "{log}"
    );
}

/// `--recovery-user` renames the recovery user; a configured user of that name gives it a new
/// password, and deleting that user brings the generated one back; `ne-system:recovery-user`
/// renames it through the configuration (NACM follows), and removing the leaf names it back.
#[test]
fn recovery_user_renamed_and_given_a_new_password() {
    let agent = Agent::start("recovery", &["--recovery-user", "root"]);
    if run_part("recovery", &agent, "root").is_empty() {
        return;
    }
    let log = agent.log();
    assert!(
        log.contains("recovery_user=root")
            && log.contains("the recovery user's password is now the configured one")
            && log.contains(
                "the recovery user's password is the generated or --password-file one again"
            ),
        "{log}"
    );
}

/// A connection the agent closes without a word: EOF before any byte.
fn closed_at_once(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 64];
    matches!(s.read(&mut buf), Ok(0) | Err(_))
}

fn banner(s: &mut TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).to_string()
}

/// Beyond `--max-unauthenticated` a new connection is closed at once; a freed place is usable
/// again; an idle connection is closed after `--login-grace-time`.
#[test]
fn unauthenticated_connections_are_capped_and_timed_out() {
    let agent = Agent::start(
        "maxstartups",
        &["--max-unauthenticated", "3", "--login-grace-time", "3"],
    );
    let addr = ("127.0.0.1", agent.port);
    let mut idle: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
    for s in &mut idle {
        assert!(banner(s).starts_with("SSH-2.0-"));
    }
    let mut extra = TcpStream::connect(addr).unwrap();
    assert!(
        closed_at_once(&mut extra),
        "the 4th unauthenticated connection is closed"
    );
    // Closing one frees its place.
    drop(idle.pop());
    let started = Instant::now();
    let mut again = loop {
        let mut s = TcpStream::connect(addr).unwrap();
        let b = banner(&mut s);
        if b.starts_with("SSH-2.0-") {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "no place freed");
        std::thread::sleep(Duration::from_millis(100));
    };
    // The login grace time closes them all (they never even sent their SSH version).
    for s in idle.iter_mut().chain(std::iter::once(&mut again)) {
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut buf = [0u8; 64];
        assert!(
            matches!(s.read(&mut buf), Ok(0) | Err(_)),
            "closed after the grace time"
        );
    }
    let log = agent.log_with(
        &[
            "too many unauthenticated connections",
            "login grace time expired",
        ],
        Duration::from_secs(5),
    );
    assert!(
        log.contains("too many unauthenticated connections")
            && log.contains("login grace time expired"),
        "{log}"
    );
}

/// The host key fingerprints are logged as `ssh-keygen -lf` prints them.
#[test]
fn host_key_fingerprints_are_logged() {
    let Some(keygen) = tool("ssh-keygen") else {
        return;
    };
    let agent = Agent::start("fingerprints", &[]);
    let log = agent.log();
    for file in ["ssh_host_ed25519_key", "ssh_host_rsa_key"] {
        let out = Command::new(&keygen)
            .arg("-lf")
            .arg(agent.dir.join(file))
            .output()
            .unwrap();
        // "256 SHA256:... comment (ED25519)": bits, fingerprint, type.
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let words: Vec<&str> = text.split_whitespace().collect();
        let expected = format!("{} {} {}", words[0], words[1], words[words.len() - 1]);
        assert!(
            log.lines()
                .any(|l| l.contains("SSH host key")
                    && l.contains(&format!("fingerprint={expected}"))),
            "{expected} not in\n{log}"
        );
    }
}
