//! An agent process for integration tests: a loopback port, its own data directory, its log kept.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Agent {
    pub child: Child,
    pub port: u16,
    /// The RESTCONF port (on 127.0.0.1), unless the test turned RESTCONF off.
    pub restconf_port: Option<u16>,
    pub dir: PathBuf,
    /// Everything the agent logged so far.
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Agent {
    /// Start `ne-agent --listen 127.0.0.1:0 --data-dir DIR ARGS...` and wait for its address.
    /// RESTCONF listens on a port of its own too (`--restconf-listen 127.0.0.1:0`) unless ARGS
    /// say where, or turn it off.
    pub fn start(tag: &str, args: &[&str]) -> Agent {
        Agent::launch(tag, args, true)
    }

    /// Stop this agent and start another on its data directory (`tag` as it was started).
    pub fn restart(mut self, tag: &str, args: &[&str]) -> Agent {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Dropping it would remove the directory the next one starts on.
        std::mem::forget(self);
        Agent::launch(tag, args, false)
    }

    fn launch(tag: &str, args: &[&str], fresh: bool) -> Agent {
        let dir = std::env::temp_dir().join(format!("ne-agent-{tag}-{}", std::process::id()));
        if fresh {
            let _ = std::fs::remove_dir_all(&dir);
        }
        std::fs::create_dir_all(&dir).unwrap();
        // Generating the 4096-bit RSA host key takes seconds in a debug build; give the agent a
        // small one made by ssh-keygen (the agent keeps and uses whatever key it finds).
        if fresh {
            let _ = Command::new("ssh-keygen")
                .args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f"])
                .arg(dir.join("ssh_host_rsa_key"))
                .status();
        }
        let restconf = !args.contains(&"--restconf-off");
        let own_port = restconf && !args.contains(&"--restconf-listen");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ne-agent"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&dir)
            .args(if own_port {
                &["--restconf-listen", "127.0.0.1:0"][..]
            } else {
                &[]
            })
            .args(args)
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ne-agent");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let (rc_tx, rc_rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let kept = std::sync::Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut l) = kept.lock() {
                    l.push_str(&line);
                    l.push('\n');
                }
                if let Some(rest) = line.split("https=").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                    let _ = rc_tx.send(addr);
                }
                if let Some(rest) = line.split(" listen=").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the agent did not report its listening address");
        let port = addr.rsplit(':').next().unwrap().parse().unwrap();
        // RESTCONF's address is logged right after NETCONF's.
        let restconf_port = restconf
            .then(|| rc_rx.recv_timeout(Duration::from_secs(10)).ok())
            .flatten()
            .and_then(|a| a.rsplit(':').next().and_then(|p| p.parse().ok()));
        Agent {
            child,
            port,
            restconf_port,
            dir,
            log,
        }
    }

    /// The log once it holds every one of `texts`, or as it is after `within` (the log is
    /// read by a thread of its own, so a line can arrive after what the test saw happen).
    pub fn log_with(&self, texts: &[&str], within: Duration) -> String {
        let started = std::time::Instant::now();
        loop {
            let log = self.log();
            if texts.iter().all(|t| log.contains(t)) || started.elapsed() >= within {
                return log;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The generated password of the recovery user.
    pub fn password(&self) -> String {
        std::fs::read_to_string(self.dir.join("initial-admin-password"))
            .unwrap()
            .trim()
            .to_string()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A python3 that can import `module`, or None (a failure when NE_REQUIRE_TOOLS is set).
pub fn python_with(module: &str) -> Option<PathBuf> {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(PathBuf::from("python3"));
    }
    assert!(
        std::env::var_os("NE_REQUIRE_TOOLS").is_none(),
        "{module} is required (NE_REQUIRE_TOOLS) but python3 cannot import it"
    );
    eprintln!("SKIPPED: {module} not installed (tests/run installs it)");
    None
}

/// A program on PATH, or None (a failure when NE_REQUIRE_TOOLS is set).
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("NE_REQUIRE_TOOLS").is_none(),
            "{name} is required (NE_REQUIRE_TOOLS) but not on PATH"
        );
        eprintln!("SKIPPED: {name} not installed (tests/run and .ci/run install it)");
    }
    found
}

impl Agent {
    /// OpenSSH's `ssh` toward this agent with the key `identity`: no configuration file, no
    /// known-hosts checks, batch mode, errors only. The caller adds its own options, then the
    /// destination (`admin@127.0.0.1`) and any command.
    pub fn openssh(&self, identity: &Path) -> Command {
        let mut cmd = Command::new("ssh");
        cmd.args([
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
        ])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .args(["-o", "LogLevel=ERROR", "-i"])
        .arg(identity)
        .args(["-p", &self.port.to_string()]);
        cmd
    }
}
