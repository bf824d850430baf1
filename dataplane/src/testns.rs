//! Network namespaces and veth pairs for the crate's own tests (root and iproute2 needed;
//! without them a test is skipped with a message, unless NE_REQUIRE_TOOLS=1).

use std::process::Command;

use crate::netns::run_in;

/// Whether the test can run here; prints why not when it cannot.
pub(crate) fn require_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().next())
        == Some("0");
    let why = if !root {
        "needs root (namespaces, AF_PACKET)"
    } else if Command::new("ip").arg("-V").output().is_err() {
        "needs iproute2 (ip)"
    } else {
        return true;
    };
    if std::env::var("NE_REQUIRE_TOOLS").as_deref() == Ok("1") {
        panic!("{why} (NE_REQUIRE_TOOLS=1)");
    }
    eprintln!("SKIPPED: {why}");
    false
}

pub(crate) fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// Namespaces named `dpu<pid>-<test>-<name>`, deleted (with their veths) on drop.
pub(crate) struct Namespaces {
    names: Vec<String>,
}

impl Namespaces {
    pub(crate) fn new(test: &str, short: &[&str]) -> Namespaces {
        let mut ns = Namespaces { names: Vec::new() };
        for s in short {
            let name = format!("dpu{}-{test}-{s}", std::process::id());
            let _ = Command::new("ip").args(["netns", "del", &name]).output();
            ip(&["netns", "add", &name]);
            ns.names.push(name.clone());
            // No IPv6: nothing but the test's own frames crosses the veths.
            let _ = Command::new("ip")
                .args(["netns", "exec", &name, "sysctl", "-qw"])
                .args([
                    "net.ipv6.conf.all.disable_ipv6=1",
                    "net.ipv6.conf.default.disable_ipv6=1",
                ])
                .output();
            ip(&["-n", &name, "link", "set", "lo", "up"]);
        }
        ns
    }

    pub(crate) fn name(&self, short: &str) -> &str {
        self.names
            .iter()
            .find(|n| n.ends_with(&format!("-{short}")))
            .expect("namespace")
    }

    /// A veth pair `a` (in ns `na`) <-> `b` (in ns `nb`), both up.
    pub(crate) fn veth(&self, na: &str, a: &str, nb: &str, b: &str) {
        let (na, nb) = (self.name(na), self.name(nb));
        ip(&[
            "link", "add", a, "netns", na, "type", "veth", "peer", "name", b, "netns", nb,
        ]);
        ip(&["-n", na, "link", "set", a, "up"]);
        ip(&["-n", nb, "link", "set", b, "up"]);
    }

    pub(crate) fn ifindex(&self, ns: &str, ifname: &str) -> u32 {
        let n = ifname.to_string();
        run_in(self.name(ns), move || crate::sock::ifindex(&n))
            .expect("enter namespace")
            .unwrap_or_else(|| panic!("no {ifname} in {ns}"))
    }

    /// Run `f` (which opens sockets) inside namespace `ns`.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        ns: &str,
        f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
    ) -> std::io::Result<T> {
        run_in(self.name(ns), f)?
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for n in &self.names {
            let _ = Command::new("ip").args(["netns", "del", n]).output();
        }
    }
}
