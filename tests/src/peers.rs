//! Peer daemons no one here wrote (FRR's zebra, bfdd and pimd; keepalived), run in the
//! lab's namespaces by the interop tests, and stopped and cleaned up when dropped.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::lab::run;

/// Where FRR daemons leave a crash-log directory `<daemon>.<pid>` when they are killed.
pub const FRR_TMP: &str = "/var/tmp/frr";

/// Whether the peer programs are here; skip visibly otherwise (panic under NE_REQUIRE_TOOLS=1).
pub fn peers_available(paths: &[&str], user: Option<&str>) -> bool {
    let mut missing: Vec<String> = paths
        .iter()
        .filter(|p| !Path::new(p).exists())
        .map(|p| p.to_string())
        .collect();
    if let Some(u) = user {
        if run("id", &["-u", u]).is_err() {
            missing.push(format!("user {u}"));
        }
    }
    if missing.is_empty() {
        return true;
    }
    let why = format!("interop peers missing: {}", missing.join(", "));
    if std::env::var("NE_REQUIRE_TOOLS").as_deref() == Ok("1") {
        panic!("{why} (NE_REQUIRE_TOOLS=1)");
    }
    eprintln!("SKIPPED: {why}");
    false
}

pub fn signal(sig: &str, target: &str) {
    let _ = Command::new("kill")
        .args([sig, "--", target])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A peer daemon run in the foreground inside a namespace, in its own process group (so that
/// keepalived's children die with it). `ip netns exec` execs the daemon: the child's pid is the
/// daemon's pid and the group id.
pub struct Daemon {
    pub name: String,
    log: PathBuf,
    child: Option<Child>,
    /// FRR daemons leave `/var/tmp/frr/<name>.<pid>` behind when killed.
    frr: bool,
}

impl Daemon {
    pub fn spawn(
        ns: &str,
        name: &str,
        program: &str,
        args: &[String],
        log: &Path,
    ) -> Result<Daemon, String> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let child = Command::new("ip")
            .args(["netns", "exec", ns, program])
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().map_err(|e| e.to_string())?)
            .stderr(out)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        Ok(Daemon {
            name: name.to_string(),
            log: log.to_path_buf(),
            child: Some(child),
            frr: program.starts_with("/usr/lib/frr/"),
        })
    }

    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// SIGKILL to the whole process group: the peer vanishes without a word on the wire.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            // The group leader is not reaped before the signal, so its id cannot be reused.
            signal("-KILL", &format!("-{}", c.id()));
            let _ = c.kill();
            let _ = c.wait();
            self.forget(c.id());
        }
    }

    /// SIGTERM (a clean stop), bounded; SIGKILL after 5 s.
    pub fn stop(&mut self) {
        let Some(c) = self.child.as_mut() else {
            return;
        };
        let pid = c.id();
        signal("-TERM", &format!("-{pid}"));
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if let Ok(Some(_)) = c.try_wait() {
                self.child = None;
                // keepalived's parent exits only after its children did.
                self.forget(pid);
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill9();
    }

    fn forget(&self, pid: u32) {
        if self.frr {
            let _ = std::fs::remove_dir_all(format!("{FRR_TMP}/{}.{pid}", self.name));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = self.log_text();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}
