//! The two-device lab of LAB.md, built from network namespaces, veth pairs and Linux bridges
//! with iproute2, and torn down when the [`Lab`] is dropped (also when a test fails).
//!
//! ```text
//!            ns src (10.1.0.10)
//!                 |
//!        ns sw-up: bridge br-up
//!          |                |
//!     a-up 10.1.0.1      b-up 10.1.0.2
//!   [ns a] a-ic 10.0.0.1/29 -- b-ic 10.0.0.2/29 [ns b]
//!     a-dn 192.168.1.1   b-dn 192.168.1.2
//!          |                |
//!        ns sw-dn: bridge br-dn (IGMP snooping off)
//!                 |
//!            ns rcv (192.168.1.100)
//! ```
//! Every namespace name carries a per-lab prefix, so labs of concurrent tests never meet.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::netconf::{Blocking, Error};

/// Why the lab cannot run here, if it cannot (not root, no iproute2).
pub fn unavailable() -> Option<String> {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().next().map(str::to_string))
        })
        .unwrap_or_default();
    if uid != "0" {
        return Some("the namespace lab needs root".into());
    }
    if Command::new("ip")
        .arg("-V")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        return Some("the namespace lab needs iproute2 (ip)".into());
    }
    None
}

/// Skip (with a visible message) when the lab cannot run, unless NE_REQUIRE_TOOLS=1 (CI).
pub fn require() -> bool {
    require_that(unavailable())
}

/// Go on when `missing` is None; otherwise skip with its reason (a visible message), or fail
/// with it under NE_REQUIRE_TOOLS=1 (CI).
pub fn require_that(missing: Option<String>) -> bool {
    match missing {
        None => true,
        Some(why) if std::env::var("NE_REQUIRE_TOOLS").as_deref() == Ok("1") => {
            panic!("{why} (NE_REQUIRE_TOOLS=1)")
        }
        Some(why) => {
            eprintln!("SKIPPED: {why}");
            false
        }
    }
}

/// A numeric leaf `leaf` after `anchor` in a reply, 0 when it is not there.
pub fn counter(xml: &str, anchor: &str, leaf: &str) -> u64 {
    leaf_after(xml, anchor, leaf)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Run a command, failing with its stderr.
pub fn run(cmd: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn ip(args: &[&str]) -> Result<(), String> {
    run("ip", args).map(drop)
}

/// Poll `cond` every 20 ms until it holds or `limit` passes.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `ne-agent` binary next to the test executable (target/<profile>/ne-agent).
pub fn agent_binary() -> PathBuf {
    if let Ok(p) = std::env::var("NE_AGENT_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let mut dir = exe.parent().expect("exe dir").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("ne-agent")
}

static LABS: AtomicU32 = AtomicU32::new(0);

/// One network namespace, deleted on drop.
pub struct Netns(pub String);

impl Netns {
    /// A fresh namespace named `<tag><pid>x<n>` with loopback up.
    pub fn new(tag: &str) -> Result<Netns, String> {
        sweep_stale();
        let n = LABS.fetch_add(1, Ordering::Relaxed);
        let name = format!("nl{}x{n}-{tag}", std::process::id());
        ip(&["netns", "add", &name])?;
        let ns = Netns(name);
        ip(&["-n", &ns.0, "link", "set", "lo", "up"])?;
        Ok(ns)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.0]);
    }
}

/// One agent process inside a device namespace.
pub struct Agent {
    pub ns: String,
    pub data_dir: PathBuf,
    pub log: PathBuf,
    password_file: PathBuf,
    child: Option<Child>,
    starts: u32,
}

impl Agent {
    /// An agent for namespace `ns`, with its data dir, password file and log under `dir`.
    pub fn new(ns: &str, dir: &Path, name: &str) -> Result<Agent, String> {
        let data_dir = dir.join(name);
        std::fs::create_dir_all(&data_dir).map_err(|e| e.to_string())?;
        let password_file = dir.join(format!("{name}.password"));
        std::fs::write(&password_file, "lab\n").map_err(|e| e.to_string())?;
        // A pre-made RSA host key: generating one in a debug build takes seconds.
        let rsa = data_dir.join("ssh_host_rsa_key");
        if !rsa.exists() {
            let _ = Command::new("ssh-keygen")
                .args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f"])
                .arg(&rsa)
                .stdout(Stdio::null())
                .status();
        }
        Ok(Agent {
            ns: ns.to_string(),
            log: dir.join(format!("{name}.log")),
            data_dir,
            password_file,
            child: None,
            starts: 0,
        })
    }

    /// Start `ne-agent run` in the namespace (listening on its loopback, port 8300).
    pub fn start(&mut self) -> Result<(), String> {
        self.starts += 1;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| e.to_string())?;
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns])
            .arg(agent_binary())
            .args(["run", "--listen", "127.0.0.1:8300", "--data-dir"])
            .arg(&self.data_dir)
            .arg("--password-file")
            .arg(&self.password_file)
            .env(
                "RUST_LOG",
                std::env::var("NE_LAB_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start ne-agent: {e}"))?;
        self.child = Some(child);
        Ok(())
    }

    /// The agent's process id while it runs (`ip netns exec` execs it in place).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL (node failure: nothing is sent on the way down).
    /// Send SIGKILL and return at once, without waiting for the process to be gone (its exit
    /// can take a while on a loaded machine, while its peers already see it silent); reap it
    /// with [`Agent::kill9`].
    pub fn kill9_nowait(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
        }
    }

    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait (a clean stop sends priority-0 adverts and BFD AdminDown).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let end = Instant::now() + Duration::from_secs(10);
            while Instant::now() < end {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// A NETCONF session to this agent (retried until it listens, up to 60 s).
    pub fn connect(&mut self) -> Result<Blocking, Error> {
        let end = Instant::now() + Duration::from_secs(60);
        loop {
            let ns = self.ns.clone();
            let open = move || {
                dataplane::netns::run_in(&ns, || {
                    std::net::TcpStream::connect_timeout(
                        &"127.0.0.1:8300".parse().expect("address"),
                        Duration::from_secs(5),
                    )
                })?
            };
            match Blocking::connect(open, "admin", "lab") {
                Ok(c) => return Ok(c),
                Err(e) if Instant::now() < end && self.running() => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(Error(format!("{e}; agent log:\n{}", self.log_tail(30)))),
            }
        }
    }

    /// One VRP-style CLI command line run on this agent by an SSH `exec` request (as `ssh -p
    /// 8300 admin@host 'display vrrp'` does): its output, or its error text.
    pub fn cli(&self, line: &str) -> Result<String, String> {
        self.cli_login()?.run(line)
    }

    /// A logged-in SSH connection to this agent's CLI, for several command lines.
    pub fn cli_login(&self) -> Result<CliLogin, String> {
        let ns = self.ns.clone();
        let tcp = dataplane::netns::run_in(&ns, || {
            std::net::TcpStream::connect_timeout(
                &"127.0.0.1:8300".parse().expect("address"),
                Duration::from_secs(5),
            )
        })
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        tcp.set_nonblocking(true).map_err(|e| e.to_string())?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let ssh = rt.block_on(async move {
            let tcp = tokio::net::TcpStream::from_std(tcp).map_err(|e| e.to_string())?;
            tokio::time::timeout(Duration::from_secs(30), cli_login(tcp))
                .await
                .map_err(|_| "the login did not finish in 30 s".to_string())?
        })?;
        Ok(CliLogin { rt, ssh: Some(ssh) })
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Accepts any host key: the lab starts agents with fresh keys.
struct AnyHostKey;

impl russh::client::Handler for AnyHostKey {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// An SSH connection logged in as the lab's admin: each command line an `exec` request on a
/// channel of its own.
pub struct CliLogin {
    rt: tokio::runtime::Runtime,
    ssh: Option<russh::client::Handle<AnyHostKey>>,
}

impl CliLogin {
    /// Run `line`: standard output on exit status 0, standard error otherwise.
    pub fn run(&mut self, line: &str) -> Result<String, String> {
        let ssh = self.ssh.as_mut().ok_or("closed")?;
        self.rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(30), cli_exec(ssh, line))
                .await
                .map_err(|_| "the CLI did not answer in 30 s".to_string())?
        })
    }
}

impl Drop for CliLogin {
    fn drop(&mut self) {
        // The connection closes itself with a spawned task: drop it inside the runtime.
        let _guard = self.rt.enter();
        self.ssh.take();
    }
}

async fn cli_login(
    tcp: tokio::net::TcpStream,
) -> Result<russh::client::Handle<AnyHostKey>, String> {
    let config = std::sync::Arc::new(russh::client::Config::default());
    let mut ssh = russh::client::connect_stream(config, tcp, AnyHostKey)
        .await
        .map_err(|e| format!("ssh: {e}"))?;
    let auth = ssh
        .authenticate_password("admin", "lab")
        .await
        .map_err(|e| format!("authentication: {e}"))?;
    if !auth.success() {
        return Err("password refused".into());
    }
    Ok(ssh)
}

async fn cli_exec(
    ssh: &mut russh::client::Handle<AnyHostKey>,
    line: &str,
) -> Result<String, String> {
    use russh::ChannelMsg;
    let mut channel = ssh
        .channel_open_session()
        .await
        .map_err(|e| format!("channel: {e}"))?;
    channel
        .exec(true, line)
        .await
        .map_err(|e| format!("exec: {e}"))?;
    let (mut out, mut err, mut status) = (Vec::new(), Vec::new(), None);
    while let Some(msg) = channel.wait().await {
        match msg {
            ChannelMsg::Data { data } => out.extend_from_slice(&data),
            ChannelMsg::ExtendedData { data, .. } => err.extend_from_slice(&data),
            ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
            _ => {}
        }
    }
    match status {
        Some(0) => Ok(String::from_utf8_lossy(&out).into_owned()),
        _ => Err(String::from_utf8_lossy(&err).into_owned()),
    }
}

/// The LAB.md topology with one agent per device.
pub struct Lab {
    pub prefix: String,
    pub dir: PathBuf,
    namespaces: Vec<String>,
    /// Receivers' LANs ([`Lab::seed_lans`]).
    lans: usize,
    pub a: Agent,
    pub b: Agent,
}

impl Lab {
    /// Namespace name of a role ("a", "b", "src", "rcv", "sw-up", "sw-dn").
    pub fn ns(&self, role: &str) -> String {
        format!("{}-{role}", self.prefix)
    }

    /// Build the namespaces and links; agents are created but not started.
    pub fn build() -> Result<Lab, String> {
        Lab::build_with(1)
    }

    /// The same with `lans` receivers' LANs in all (see [`Lab::seed_lans`]).
    pub fn build_lans(lans: usize) -> Result<Lab, String> {
        Lab::build_with(lans)
    }

    fn build_with(lans: usize) -> Result<Lab, String> {
        if !(1..=LANS_MAX).contains(&lans) {
            return Err(format!("1 to {LANS_MAX} receivers' LANs, not {lans}"));
        }
        sweep_stale();
        let n = LABS.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("nl{}x{n}", std::process::id());
        let dir = std::env::temp_dir().join(format!("ne-lab-{prefix}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let ns = |r: &str| format!("{prefix}-{r}");
        let mut lab = Lab {
            a: Agent::new(&ns("a"), &dir, "a")?,
            b: Agent::new(&ns("b"), &dir, "b")?,
            prefix: prefix.clone(),
            dir,
            namespaces: Vec::new(),
            lans,
        };
        let mut roles: Vec<String> = ["a", "b", "src", "rcv", "sw-up", "sw-dn"]
            .map(String::from)
            .into();
        for k in 2..=lans {
            roles.extend([lan_host(k), format!("sw-dn{k}")]);
        }
        for role in &roles {
            let name = ns(role);
            let _ = ip(&["netns", "del", &name]);
            ip(&["netns", "add", &name])?;
            lab.namespaces.push(name.clone());
            ip(&["-n", &name, "link", "set", "lo", "up"])?;
        }
        let mut switches: Vec<(String, String)> = vec![
            ("sw-up".into(), "br-up".into()),
            ("sw-dn".into(), "br-dn".into()),
        ];
        for k in 2..=lans {
            switches.push((format!("sw-dn{k}"), format!("br-dn{k}")));
        }
        for (sw, br) in &switches {
            let (s, br) = (ns(sw), br.as_str());
            ip(&[
                "-n",
                &s,
                "link",
                "add",
                br,
                "type",
                "bridge",
                "mcast_snooping",
                "0",
            ])?;
            ip(&["-n", &s, "link", "set", br, "up"])?;
        }
        // (device ns, device end, switch ns, switch end, bridge)
        let ports = vec![
            ("a", "a-up", "sw-up", "up-a", "br-up"),
            ("b", "b-up", "sw-up", "up-b", "br-up"),
            ("src", "src0", "sw-up", "up-src", "br-up"),
            ("a", "a-dn", "sw-dn", "dn-a", "br-dn"),
            ("b", "b-dn", "sw-dn", "dn-b", "br-dn"),
            ("rcv", "rcv0", "sw-dn", "dn-rcv", "br-dn"),
        ];
        let mut ports: Vec<[String; 5]> = ports
            .into_iter()
            .map(|(d, e, s, p, b)| [d, e, s, p, b].map(String::from))
            .collect();
        for k in 2..=lans {
            for (dev, end, port) in [
                ("a".to_string(), lan_ifname('a', k), format!("dn{k}-a")),
                ("b".to_string(), lan_ifname('b', k), format!("dn{k}-b")),
                (lan_host(k), "rcv0".to_string(), format!("dn{k}-rcv")),
            ] {
                ports.push([dev, end, format!("sw-dn{k}"), port, format!("br-dn{k}")]);
            }
        }
        for [dev, end, sw, port, br] in &ports {
            let (d, s) = (ns(dev), ns(sw));
            let (end, port, br) = (end.as_str(), port.as_str(), br.as_str());
            ip(&[
                "link", "add", end, "netns", &d, "type", "veth", "peer", "name", port, "netns", &s,
            ])?;
            ip(&["-n", &s, "link", "set", port, "master", br])?;
            ip(&["-n", &s, "link", "set", port, "up"])?;
        }
        ip(&[
            "link",
            "add",
            "a-ic",
            "netns",
            &ns("a"),
            "type",
            "veth",
            "peer",
            "name",
            "b-ic",
            "netns",
            &ns("b"),
        ])?;
        // Hosts: addresses and default routes are the lab's; the devices' are the agents'.
        let mut hosts: Vec<(String, &str, String, String)> = vec![
            (
                "src".into(),
                "src0",
                "10.1.0.10/24".into(),
                "10.1.0.1".into(),
            ),
            (
                "rcv".into(),
                "rcv0",
                "192.168.1.100/24".into(),
                "192.168.1.1".into(),
            ),
        ];
        for k in 2..=lans {
            hosts.push((
                lan_host(k),
                "rcv0",
                format!("192.168.{k}.100/24"),
                format!("192.168.{k}.1"),
            ));
        }
        for (h, ifname, addr, gw) in &hosts {
            let hn = ns(h);
            ip(&["-n", &hn, "addr", "add", addr, "dev", ifname])?;
            ip(&["-n", &hn, "link", "set", ifname, "up"])?;
            ip(&["-n", &hn, "route", "add", "default", "via", gw])?;
        }
        Ok(lab)
    }

    /// Start both agents (unconfigured) and open a NETCONF session to each.
    pub fn start_agents(&mut self) -> Result<(Blocking, Blocking), String> {
        self.a.start()?;
        self.b.start()?;
        let ca = self.a.connect().map_err(|e| format!("NETCONF to A: {e}"))?;
        let cb = self.b.connect().map_err(|e| format!("NETCONF to B: {e}"))?;
        Ok((ca, cb))
    }

    /// Build, start both agents and configure them with the seed configuration
    /// (`examples/seed/`, see [`seed_config`]).
    pub fn seed() -> Result<(Lab, Blocking, Blocking), String> {
        let mut lab = Lab::build()?;
        let (mut ca, mut cb) = lab.start_agents()?;
        ca.edit_running(&seed_config('a'))
            .map_err(|e| format!("configuring A: {e}"))?;
        cb.edit_running(&seed_config('b'))
            .map_err(|e| format!("configuring B: {e}"))?;
        Ok((lab, ca, cb))
    }

    /// [`Lab::seed`] with a second receivers' LAN: ns sw-dn2 (bridge br-dn2, IGMP snooping
    /// off) joins a-dn2 192.168.2.1/24, b-dn2 192.168.2.2/24 and ns rcv2 (192.168.2.100 on its
    /// rcv0). Both agents run IGMP on it and gate it with the same mVRRP group as the first
    /// LAN (`track-admin-vrrp` a-ic/b-ic vrid 1): one admin VRRP group, two service LANs.
    pub fn seed_two_lans() -> Result<(Lab, Blocking, Blocking), String> {
        Lab::seed_lans(2)
    }

    /// [`Lab::seed`] with `lans` receivers' LANs in all (1 to [`LANS_MAX`]): LAN k >= 2 is ns
    /// sw-dn{k} (bridge br-dn{k}, IGMP snooping off) joining a-dn{k} 192.168.{k}.1/24, b-dn{k}
    /// 192.168.{k}.2/24 and ns rcv{k} (192.168.{k}.100 on its rcv0), configured as
    /// [`lan_interface`] says: IGMP, gated by the one mVRRP group.
    pub fn seed_lans(lans: usize) -> Result<(Lab, Blocking, Blocking), String> {
        let mut lab = Lab::build_lans(lans)?;
        let (mut ca, mut cb) = lab.start_agents()?;
        for (c, dev) in [(&mut ca, 'a'), (&mut cb, 'b')] {
            let mut config = seed_config(dev);
            let close = "</interfaces>";
            let at = config
                .find(close)
                .ok_or("the seed configuration has no interfaces")?;
            let extra: String = (2..=lans).map(|k| lan_interface(dev, k)).collect();
            config.insert_str(at, &extra);
            c.edit_running(&config)
                .map_err(|e| format!("configuring {}: {e}", dev.to_ascii_uppercase()))?;
        }
        Ok((lab, ca, cb))
    }

    /// Steer the routers' receive work on their upstream interfaces (a-up, b-up) to the CPUs
    /// of `mask` (RPS, a hexadecimal CPU mask), as a NIC's own receive queue would have it: on
    /// veth it otherwise runs inside the sender's own send, on the sender's CPU.
    pub fn steer_upstream_receive(&self, mask: &str) -> Result<(), String> {
        self.steer_receive(&[("a", "a-up"), ("b", "b-up")], mask)
    }

    /// Steer the receive work of each (role, interface) to the CPUs of `mask` (RPS).
    pub fn steer_receive(&self, interfaces: &[(&str, &str)], mask: &str) -> Result<(), String> {
        for (role, ifname) in interfaces {
            let path = format!("/sys/class/net/{ifname}/queues/rx-0/rps_cpus");
            self.exec(role, &["sh", "-c", &format!("echo {mask} > {path}")])?;
        }
        Ok(())
    }

    /// Run a command inside a lab namespace.
    pub fn exec(&self, role: &str, args: &[&str]) -> Result<String, String> {
        let ns = self.ns(role);
        let mut all = vec!["netns", "exec", ns.as_str()];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// `ip -n <namespace of role> args...`, failing with its stderr.
    pub fn ip(&self, role: &str, args: &[&str]) -> Result<(), String> {
        let ns = self.ns(role);
        let mut all = vec!["-n", ns.as_str()];
        all.extend_from_slice(args);
        ip(&all)
    }

    /// Set a link in a lab namespace up or down.
    pub fn link(&self, role: &str, ifname: &str, up: bool) -> Result<(), String> {
        self.ip(
            role,
            &["link", "set", ifname, if up { "up" } else { "down" }],
        )
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.a.kill9();
        self.b.kill9();
        for n in &self.namespaces {
            let _ = ip(&["netns", "del", n]);
        }
        if std::env::var("NE_LAB_KEEP").is_err() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Delete lab namespaces left by test processes that no longer exist (a test killed before its
/// `Drop` ran). Names are `nl<pid>x<n>-<role>`.
fn sweep_stale() {
    let Ok(list) = run("ip", &["netns", "list"]) else {
        return;
    };
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let pid = name
            .strip_prefix("nl")
            .and_then(|r| r.split('x').next())
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                // Processes of the dead test (agents, peers) go with their namespace.
                if let Ok(pids) = run("ip", &["netns", "pids", name]) {
                    for p in pids.split_whitespace() {
                        let _ = run("kill", &["-9", p]);
                    }
                }
                let _ = ip(&["netns", "del", name]);
            }
        }
    }
}

/// The seed configuration for device 'a' (master side) or 'b' (its mirror): the shipped
/// `examples/seed/device-{a,b}.xml` (README.md, "Configure the seed scenario"), as the contents
/// of their `<config>` element with the whitespace between elements taken out (the tests edit
/// it with plain string replacements).
pub fn seed_config(device: char) -> String {
    let file = if device == 'a' {
        include_str!("../../examples/seed/device-a.xml")
    } else {
        include_str!("../../examples/seed/device-b.xml")
    };
    let body = file
        .split_once("<config xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">")
        .and_then(|(_, rest)| rest.rsplit_once("</config>"))
        .map(|(body, _)| body)
        .expect("examples/seed/device-*.xml is a NETCONF <config> document");
    // Whitespace-only text between tags goes; text with anything else in it stays as it is.
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(lt) = rest.find('<') {
        if !rest[..lt].trim().is_empty() {
            out.push_str(&rest[..lt]);
        }
        let gt = rest[lt..].find('>').map_or(rest.len(), |g| lt + g + 1);
        out.push_str(&rest[lt..gt]);
        rest = &rest[gt..];
    }
    out.push_str(rest.trim());
    out
}

/// The most receivers' LANs a lab has (their subnets are 192.168.1-16.0/24).
pub const LANS_MAX: usize = 16;

/// Device `device`'s interface on receivers' LAN `k` (1 is the seed's `a-dn`/`b-dn`).
pub fn lan_ifname(device: char, k: usize) -> String {
    if k == 1 {
        format!("{device}-dn")
    } else {
        format!("{device}-dn{k}")
    }
}

/// The role of the receivers' host on LAN `k` (its interface is `rcv0`).
pub fn lan_host(k: usize) -> String {
    if k == 1 {
        "rcv".into()
    } else {
        format!("rcv{k}")
    }
}

/// Device `device`'s interface on receivers' LAN `k` >= 2 ([`Lab::seed_lans`]), as an
/// `<interface>` element of ne-interfaces.
pub fn lan_interface(device: char, k: usize) -> String {
    let last = if device == 'a' { 1 } else { 2 };
    format!(
        "<interface><name>{}</name><ipv4><address><ip>192.168.{k}.{last}</ip>\
         <prefix-length>24</prefix-length></address></ipv4>\
         <igmp xmlns=\"urn:ne-agent:yang:ne-multicast\"><enabled>true</enabled></igmp>\
         <pim xmlns=\"urn:ne-agent:yang:ne-multicast\"><sm>true</sm><ignore-dr-state>true</ignore-dr-state>\
         <ignore-assert-state>true</ignore-assert-state></pim>\
         <track-admin-vrrp xmlns=\"urn:ne-agent:yang:ne-multicast\"><interface>{device}-ic</interface>\
         <vrid>1</vrid></track-admin-vrrp></interface>",
        lan_ifname(device, k)
    )
}

/// An edit that enables PIM-SM on `ifname` or deletes its PIM configuration (with PIM on one
/// interface more or less the multicast forwarding plane restarts).
pub fn pim_sm_edit(ifname: &str, on: bool) -> String {
    let pim = if on {
        "<pim xmlns=\"urn:ne-agent:yang:ne-multicast\"><sm>true</sm></pim>"
    } else {
        "<pim xmlns=\"urn:ne-agent:yang:ne-multicast\" \
         xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\" nc:operation=\"delete\"/>"
    };
    format!(
        "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>{ifname}</name>{pim}</interface></interfaces>"
    )
}

/// The text of the first `<name>` element after `anchor` in `xml` (crude, for state checks).
pub fn leaf_after<'a>(xml: &'a str, anchor: &str, name: &str) -> Option<&'a str> {
    let at = xml.find(anchor)?;
    let rest = &xml[at..];
    let open = format!("<{name}>");
    let s = rest.find(&open)? + open.len();
    let e = rest[s..].find('<')?;
    Some(rest[s..s + e].trim())
}

/// VRRP state of group `vrid` on `ifname` as `<get>` reports it.
pub fn vrrp_state(c: &mut Blocking, ifname: &str, vrid: u8) -> Result<String, Error> {
    let r = c.get(Some(&format!(
        "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>{ifname}</name>\
         <vrrp xmlns=\"urn:ne-agent:yang:ne-vrrp\"><group><vrid>{vrid}</vrid></group></vrrp></interface></interfaces>"
    )))?;
    Ok(leaf_after(&r, "<group>", "state").unwrap_or("").to_string())
}

/// An interface's `pim` state (neighbours, DR, joins, asserts) as `<get>` reports it.
pub fn pim_state(c: &mut Blocking, ifname: &str) -> Result<String, Error> {
    c.get(Some(&format!(
        "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>{ifname}</name>\
         <pim xmlns=\"urn:ne-agent:yang:ne-multicast\"/></interface></interfaces>"
    )))
}

/// The `multicast` state (forwarding-plane counters, routes) as `<get>` reports it.
pub fn multicast_state(c: &mut Blocking) -> Result<String, Error> {
    c.get(Some(
        "<multicast xmlns=\"urn:ne-agent:yang:ne-multicast\"/>",
    ))
}

/// Wait up to `limit` for the seed lab's steady state: A master and B backup on vrid 1, BFD
/// up on both, and B has heard A's advert since it last entered Backup.
pub fn steady(ca: &mut Blocking, cb: &mut Blocking, limit: Duration) -> bool {
    wait_for(limit, || {
        vrrp_state(ca, "a-ic", 1).as_deref() == Ok("master")
            && vrrp_state(cb, "b-ic", 1).as_deref() == Ok("backup")
            && bfd_state(ca, "to-b").as_deref() == Ok("up")
            && bfd_state(cb, "to-a").as_deref() == Ok("up")
            && cb
                .get(Some(
                    "<interfaces xmlns=\"urn:ne-agent:yang:ne-interfaces\"><interface><name>b-ic</name>\
                     <vrrp xmlns=\"urn:ne-agent:yang:ne-vrrp\"/></interface></interfaces>",
                ))
                .is_ok_and(|g| g.contains("<master-ip>10.0.0.1</master-ip>"))
    })
}

/// BFD session state as `<get>` reports it.
pub fn bfd_state(c: &mut Blocking, session: &str) -> Result<String, Error> {
    let r = c.get(Some(&format!(
        "<bfd xmlns=\"urn:ne-agent:yang:ne-bfd\"><session><name>{session}</name></session></bfd>"
    )))?;
    Ok(leaf_after(&r, "<session>", "state")
        .unwrap_or("")
        .to_string())
}

// ---- multicast traffic ---------------------------------------------------------------------

/// The group and port of the lab stream.
pub const GROUP: std::net::Ipv4Addr = std::net::Ipv4Addr::new(239, 1, 1, 1);
pub const PORT: u16 = 5000;

/// The flood's frame: 60 bytes of UDP from the lab's source to the lab group, from `src_mac`.
fn flood_frame(src_mac: [u8; 6]) -> Vec<u8> {
    let g = GROUP.octets();
    let mut udp = [0u8; 26];
    udp[0..2].copy_from_slice(&40000u16.to_be_bytes());
    udp[2..4].copy_from_slice(&PORT.to_be_bytes());
    udp[4..6].copy_from_slice(&26u16.to_be_bytes());
    dataplane::wire::ipv4_frame(
        src_mac,
        [0x01, 0x00, 0x5e, g[1] & 0x7f, g[2], g[3]],
        std::net::Ipv4Addr::new(10, 1, 0, 10),
        GROUP,
        16,
        17,
        &[],
        &udp,
    )
}

/// A load generator in ns src: prebuilt 60-byte frames (UDP from 10.1.0.10 to 239.1.1.1:5000)
/// written on AF_PACKET sockets of src0 by one thread, flat out (`rate` None) or paced in
/// bursts of 32 to `rate` frames/s, until stopped. The frames carry no sequence number (a
/// [`Receiver`] is not meant to run beside it).
pub struct Flood {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
    /// The longest one `send` took, in microseconds (ring floods only).
    longest_send_us: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Flood {
    /// The flood through a TPACKET transmit ring with PACKET_QDISC_BYPASS instead of one
    /// `send` per frame: every slot holds the frame from the first lap on, and one `send` hands
    /// the kernel up to 1,024 of them; with `realtime` the thread runs at SCHED_FIFO 30
    /// pinned to cpu0. Flat out; a frame the switch's veth refuses (its backlog
    /// is full) stays requested and goes at the next kick. Bounded at ten minutes, like
    /// [`Flood::start`]. Counts the frames the kernel took.
    pub fn start_ring(lab: &Lab, realtime: bool) -> Result<Flood, String> {
        Flood::start_ring_batched(lab, realtime, 1024)
    }

    /// [`Flood::start_ring`] handing the kernel at most `batch` frames per `send`. One `send`
    /// runs the receive work of its whole batch on the sender's CPU (veth: the switch's and
    /// both routers'), and this kernel (no preemption) lets nothing else run there until it
    /// returns ([`Flood::longest_send`] says how long that was). A NIC's receive comes in polls
    /// of 64 frames and at most 2 ms (`netdev_budget_usecs`); a batch of 64 is the nearer
    /// model of a flood arriving from the wire.
    pub fn start_ring_batched(lab: &Lab, realtime: bool, batch: u64) -> Result<Flood, String> {
        use dataplane::txring::{TxRing, TxRingConfig};
        use std::sync::atomic::{AtomicBool, Ordering};
        let ns = lab.ns("src");
        let (mut ring, mac) = dataplane::netns::run_in(&ns, || {
            let idx = dataplane::sock::ifindex("src0").ok_or(std::io::ErrorKind::NotFound)?;
            let mac = dataplane::netlink::Handle::open()?
                .links()?
                .into_iter()
                .find(|l| l.index == idx)
                .and_then(|l| l.mac)
                .ok_or(std::io::ErrorKind::NotFound)?;
            let cfg = TxRingConfig {
                block_size: 1 << 16,
                block_count: 16,
                frame_size: 128,
            };
            let ring = TxRing::open(idx, cfg)?;
            ring.set_qdisc_bypass()?;
            Ok::<_, std::io::Error>((ring, mac))
        })
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("flood ring: {e}"))?;
        let frame = flood_frame(mac);
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let s2 = std::sync::Arc::clone(&stop);
        let longest_send_us = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let longest = std::sync::Arc::clone(&longest_send_us);
        let thread = std::thread::spawn(move || {
            // Not at the mercy of other work on the machine: SCHED_FIFO 30 (below the agents'
            // protocol and forwarding threads, 50 and 40) on cpu0 where there are two or more,
            // so that the agents share the others. Best effort.
            if realtime {
                let _ = dataplane::sock::set_realtime(30);
            }
            if realtime && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1) {
                if let Ok(me) = std::fs::read_link("/proc/thread-self") {
                    if let Some(tid) = me.file_name().and_then(|t| t.to_str()) {
                        let _ = run("taskset", &["-pc", "0", tid]);
                    }
                }
            }
            let start = Instant::now();
            let mut pushed: u64 = 0;
            let mut slice = Instant::now();
            while !s2.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(600) {
                if realtime && slice.elapsed() >= Duration::from_millis(10) {
                    // As the forwarder does: a real-time thread that never sleeps starves the
                    // CPU's normal threads until the kernel's fair server takes the CPU from
                    // every real-time thread (the agents' too) for up to 50 ms.
                    std::thread::sleep(Duration::from_millis(1));
                    slice = Instant::now();
                }
                let n = ring.push_copies(&frame, batch, pushed);
                pushed += n;
                if n > 0 || ring.unsent() {
                    // ENOBUFS/EAGAIN: the rest goes at the next kick.
                    let t = Instant::now();
                    let _ = ring.kick();
                    longest.fetch_max(t.elapsed().as_micros() as u64, Ordering::Relaxed);
                }
                if n == 0 {
                    std::thread::yield_now();
                }
            }
            pushed.saturating_sub(ring.requested() as u64)
        });
        Ok(Flood {
            stop,
            thread: Some(thread),
            longest_send_us,
        })
    }

    pub fn start(lab: &Lab, rate: Option<u64>) -> Result<Flood, String> {
        use std::sync::atomic::{AtomicBool, Ordering};
        let ns = lab.ns("src");
        let (socks, mac) = dataplane::netns::run_in(&ns, || {
            let idx = dataplane::sock::ifindex("src0").ok_or(std::io::ErrorKind::NotFound)?;
            let mac = dataplane::netlink::Handle::open()?
                .links()?
                .into_iter()
                .find(|l| l.index == idx)
                .and_then(|l| l.mac)
                .ok_or(std::io::ErrorKind::NotFound)?;
            // Several sockets: a veth charges a frame to its socket until the far side frees
            // it, so one socket's send buffer would pace the flood at the forwarders' speed.
            let socks = (0..8)
                .map(|_| dataplane::sock::PacketSocket::open(idx, None))
                .collect::<std::io::Result<Vec<_>>>()?;
            Ok::<_, std::io::Error>((socks, mac))
        })
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("flood sockets: {e}"))?;
        let frame = flood_frame(mac);
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let s2 = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let mut sent: u64 = 0;
            let mut i = 0;
            // Bounded: at most ten minutes.
            while !s2.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(600) {
                for _ in 0..32 {
                    if socks[i % socks.len()].send(&frame).is_ok() {
                        sent += 1;
                    }
                    i += 1;
                }
                if let Some(r) = rate {
                    let due =
                        start + Duration::from_nanos(sent.saturating_mul(1_000_000_000) / r.max(1));
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                }
            }
            sent
        });
        Ok(Flood {
            stop,
            thread: Some(thread),
            longest_send_us: Default::default(),
        })
    }

    /// The longest one `send` of a ring flood took so far (zero for [`Flood::start`]).
    pub fn longest_send(&self) -> Duration {
        Duration::from_micros(
            self.longest_send_us
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// Stop; returns how many frames the sockets took.
    pub fn stop(mut self) -> u64 {
        self.halt()
    }

    fn halt(&mut self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.take().and_then(|t| t.join().ok()).unwrap_or(0)
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.halt();
    }
}

/// A `/proc/.../stat` line's command name and CPU time (user + system, clock ticks).
pub fn stat_ticks(stat: &str) -> Option<(&str, u64)> {
    // "pid (comm) state ppid ...": utime and stime are fields 14 and 15.
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let f: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some((&stat[open + 1..close], ticks))
}

/// CPU time (clock ticks) of process `pid`'s threads, by thread name.
pub fn thread_ticks(pid: u32) -> Vec<(String, u64)> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out: Vec<(String, u64)> = Vec::new();
    for t in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(t.path().join("stat")) else {
            continue;
        };
        let Some((name, ticks)) = stat_ticks(&stat) else {
            continue;
        };
        match out.iter_mut().find(|(n, _)| n == name) {
            Some((_, t)) => *t += ticks,
            None => out.push((name.to_string(), ticks)),
        }
    }
    out
}

/// The forwarder's receive ring on `port` as `<get>` reports it: (`packets`, `ring-drops`);
/// `packets` counts the dropped frames too.
pub fn ring_counters(c: &mut Blocking, port: &str) -> Result<(u64, u64), String> {
    let s = multicast_state(c).map_err(|e| e.to_string())?;
    let anchor = format!("<name>{port}</name>");
    let leaf = |name| {
        leaf_after(&s, &anchor, name)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("no {name} for port {port} in {s}"))
    };
    Ok((leaf("packets")?, leaf("ring-drops")?))
}

/// The share of one CPU each named thread of `pid` used between two [`thread_ticks`] readings
/// `secs` apart, e.g. "ne-fwd 91 %".
pub fn cpu_shares(
    names: &[&str],
    before: &[(String, u64)],
    after: &[(String, u64)],
    secs: f64,
) -> String {
    let hz = 100.0; // USER_HZ
    names
        .iter()
        .map(|name| {
            let t = |v: &[(String, u64)]| v.iter().find(|(n, _)| n == name).map_or(0, |x| x.1);
            let share = t(after).saturating_sub(t(before)) as f64 / hz / secs * 100.0;
            format!("{name} {share:.0} %")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `up-transitions` of every BFD session, in `<get>` order.
pub fn bfd_up_transitions(c: &mut Blocking) -> Result<Vec<u64>, Error> {
    let r = c.get(Some("<bfd xmlns=\"urn:ne-agent:yang:ne-bfd\"/>"))?;
    Ok(r.split("<up-transitions>")
        .skip(1)
        .filter_map(|s| s.split('<').next()?.parse().ok())
        .collect())
}

/// The forwarding plane's `forwarded` counter, 0 when it reports none.
pub fn forwarded(c: &mut Blocking) -> Result<u64, Error> {
    let r = multicast_state(c)?;
    Ok(leaf_after(&r, "<forwarding-plane>", "forwarded")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// A sender in ns src: UDP to 239.1.1.1:5000 carrying a sequence number, at `rate` packets/s.
pub struct Sender {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl Sender {
    pub fn start(lab: &Lab, rate: u32) -> Result<Sender, String> {
        Sender::start_from(lab, std::net::Ipv4Addr::new(10, 1, 0, 10), rate)
    }

    /// The same from another address of ns src (a variant of the lab).
    pub fn start_from(lab: &Lab, source: std::net::Ipv4Addr, rate: u32) -> Result<Sender, String> {
        Sender::start_in(lab, "src", "src0", source, rate)
    }

    /// A sender in another lab namespace `role`, out of `ifname` from `source`.
    pub fn start_in(
        lab: &Lab,
        role: &str,
        ifname: &'static str,
        source: std::net::Ipv4Addr,
        rate: u32,
    ) -> Result<Sender, String> {
        Sender::start_to(lab, role, ifname, source, GROUP, rate)
    }

    /// The same to another `group`.
    pub fn start_to(
        lab: &Lab,
        role: &str,
        ifname: &'static str,
        source: std::net::Ipv4Addr,
        group: std::net::Ipv4Addr,
        rate: u32,
    ) -> Result<Sender, String> {
        use dataplane::sock::{Ipv4Socket, UdpOptions};
        let sock = dataplane::netns::run_in(&lab.ns(role), move || {
            let s = Ipv4Socket::udp(&UdpOptions {
                bind: std::net::SocketAddrV4::new(source, 0),
                device: None,
                ttl: None,
                recv_meta: false,
                reuse_addr: false,
            })?;
            let idx = dataplane::sock::ifindex(ifname).ok_or(std::io::ErrorKind::NotFound)?;
            s.multicast_out(idx, 16)?;
            Ok::<_, std::io::Error>(s)
        })
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s2 = std::sync::Arc::clone(&stop);
        let period = Duration::from_nanos(1_000_000_000 / u64::from(rate.max(1)));
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let mut seq: u64 = 0;
            let mut payload = [0u8; 32];
            // Bounded: at most one hour of packets.
            while !s2.load(Ordering::Relaxed) && seq < 3_600 * u64::from(rate) {
                payload[..8].copy_from_slice(&seq.to_be_bytes());
                let _ = sock.send_to(&payload, std::net::SocketAddrV4::new(group, PORT));
                seq += 1;
                let next = start + period * seq as u32;
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                }
            }
            seq
        });
        Ok(Sender {
            stop,
            thread: Some(thread),
        })
    }

    /// Stop; returns how many packets were sent.
    pub fn stop(mut self) -> u64 {
        self.halt()
    }

    fn halt(&mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().and_then(|t| t.join().ok()).unwrap_or(0)
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.halt();
    }
}

/// A member of the lab group on a receivers' LAN that costs its host nothing per packet: a
/// UDP socket joined on `ifname` in ns `role` (the host's IGMP answers the queries) and the
/// dataplane's tc ingress data filter on that interface, which ends the group's frames there.
/// For floods, where a [`Receiver`] would spend a CPU logging them.
pub struct Sink {
    _sock: dataplane::sock::Ipv4Socket,
}

impl Sink {
    pub fn start(lab: &Lab, role: &str, ifname: &'static str) -> Result<Sink, String> {
        use dataplane::sock::{Ipv4Socket, UdpOptions};
        let sock = dataplane::netns::run_in(&lab.ns(role), move || {
            let idx = dataplane::sock::ifindex(ifname).ok_or(std::io::ErrorKind::NotFound)?;
            dataplane::netlink::Handle::open()?.install_data_filter(idx)?;
            let s = Ipv4Socket::udp(&UdpOptions {
                bind: std::net::SocketAddrV4::new(GROUP, PORT),
                device: None,
                ttl: None,
                recv_meta: false,
                reuse_addr: true,
            })?;
            s.join_multicast(GROUP, idx)?;
            Ok::<_, std::io::Error>(s)
        })
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("sink in {role}: {e}"))?;
        Ok(Sink { _sock: sock })
    }

    /// A sink on the host of every receivers' LAN of `lab`.
    pub fn on_every_lan(lab: &Lab) -> Result<Vec<Sink>, String> {
        (1..=lab.lans)
            .map(|k| Sink::start(lab, &lan_host(k), "rcv0"))
            .collect()
    }
}

/// A receiver in ns rcv that joined 239.1.1.1 through the kernel's IGMP: every sequence
/// number it gets, with the arrival time.
pub struct Receiver {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    log: std::sync::Arc<std::sync::Mutex<Vec<(u64, Instant)>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    pub fn start(lab: &Lab) -> Result<Receiver, String> {
        Receiver::start_in(lab, "rcv", "rcv0")
    }

    /// A receiver in another lab namespace `role`, joined on `ifname`.
    pub fn start_in(lab: &Lab, role: &str, ifname: &'static str) -> Result<Receiver, String> {
        Receiver::start_joined(lab, role, ifname, GROUP, None)
    }

    /// A receiver in lab namespace `role` joined to `group` on `ifname`.
    pub fn start_group(
        lab: &Lab,
        role: &str,
        ifname: &'static str,
        group: std::net::Ipv4Addr,
    ) -> Result<Receiver, String> {
        Receiver::start_joined(lab, role, ifname, group, None)
    }

    /// The receiver in ns rcv joined to `group` for `source`'s traffic only (an IGMPv3
    /// INCLUDE {source} record: the LAN's querier must speak IGMPv3).
    pub fn start_source_specific(
        lab: &Lab,
        group: std::net::Ipv4Addr,
        source: std::net::Ipv4Addr,
    ) -> Result<Receiver, String> {
        let local = std::net::Ipv4Addr::new(192, 168, 1, 100);
        Receiver::start_joined(lab, "rcv", "rcv0", group, Some((source, local)))
    }

    /// `source`: (source, address of `ifname`) for a source-specific join.
    fn start_joined(
        lab: &Lab,
        role: &str,
        ifname: &'static str,
        group: std::net::Ipv4Addr,
        source: Option<(std::net::Ipv4Addr, std::net::Ipv4Addr)>,
    ) -> Result<Receiver, String> {
        use dataplane::sock::{Ipv4Socket, UdpOptions};
        let sock = dataplane::netns::run_in(&lab.ns(role), move || {
            let s = Ipv4Socket::udp(&UdpOptions {
                bind: std::net::SocketAddrV4::new(group, PORT),
                device: None,
                ttl: None,
                recv_meta: false,
                reuse_addr: true,
            })?;
            match source {
                Some((src, local)) => s.join_source(group, src, local)?,
                None => {
                    let idx =
                        dataplane::sock::ifindex(ifname).ok_or(std::io::ErrorKind::NotFound)?;
                    s.join_multicast(group, idx)?;
                }
            }
            Ok::<_, std::io::Error>(s)
        })
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (s2, l2) = (std::sync::Arc::clone(&stop), std::sync::Arc::clone(&log));
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let mut ready = Vec::new();
            while !s2.load(Ordering::Relaxed) {
                let _ = dataplane::poll::wait_readable(
                    &[std::os::fd::AsRawFd::as_raw_fd(&sock)],
                    &mut ready,
                    Duration::from_millis(20),
                );
                while let Ok(Some(m)) = sock.recv(&mut buf) {
                    if m.len >= 8 {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(&buf[..8]);
                        if let Ok(mut l) = l2.lock() {
                            l.push((u64::from_be_bytes(b), Instant::now()));
                        }
                    }
                }
            }
        });
        Ok(Receiver {
            stop,
            log,
            thread: Some(thread),
        })
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<(u64, Instant)> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn count(&self) -> usize {
        self.log.lock().map(|l| l.len()).unwrap_or(0)
    }

    /// The highest sequence number received so far (0 before any).
    pub fn last_seq(&self) -> u64 {
        self.log
            .lock()
            .map(|l| l.iter().map(|&(s, _)| s).max().unwrap_or(0))
            .unwrap_or(0)
    }

    /// What arrives over the next `window`: (first and last sequence number, analysis).
    pub fn over(&self, window: Duration) -> (u64, u64, Seen) {
        let s0 = self.last_seq();
        std::thread::sleep(window);
        let s1 = self.last_seq();
        (s0, s1, analyse(&self.received(), s0, s1))
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What a receiver saw in a window: the longest run of missing sequence numbers, and how many
/// arrived more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub received: usize,
    pub lost: u64,
    pub longest_gap: u64,
    pub duplicates: usize,
}

pub fn analyse(log: &[(u64, Instant)], from_seq: u64, to_seq: u64) -> Seen {
    let mut seqs: Vec<u64> = log
        .iter()
        .map(|&(s, _)| s)
        .filter(|&s| s >= from_seq && s <= to_seq)
        .collect();
    let received = seqs.len();
    seqs.sort_unstable();
    let before = seqs.len();
    seqs.dedup();
    let duplicates = before - seqs.len();
    let mut longest = 0;
    let mut lost = 0;
    let mut prev = from_seq.wrapping_sub(1);
    for &s in seqs.iter().chain(std::iter::once(&(to_seq + 1))) {
        let gap = s.saturating_sub(prev).saturating_sub(1);
        lost += gap;
        longest = longest.max(gap);
        prev = s;
    }
    Seen {
        received,
        lost,
        longest_gap: longest,
        duplicates,
    }
}
