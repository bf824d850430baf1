//! Interop with FRR `pimd` as the upstream PIM router of both devices (LAB.md item 3): the
//! source sits behind pimd, which is also the (static) RP; A and B learn the receiver by IGMP,
//! both send (*,G) Joins to pimd, pimd forwards the stream onto br-up (kernel ipmr), and only
//! the mVRRP master forwards it down. Then A dies (kill -9) and B carries the stream.
//!
//! ```text
//!   ns src  src0 10.9.0.10/24
//!              |
//!   ns up   up-src 10.9.0.1/24   zebra + pimd (ip pim on both, RP 10.1.0.3 for 224.0.0.0/4)
//!           up-br  10.1.0.3/24
//!              |
//!   ns sw-up bridge br-up --- a-up 10.1.0.1 [ns a]   b-up 10.1.0.2 [ns b]   (as LAB.md below)
//! ```
//! The lab is lab.rs's (`nl<pid>x<n>-*`, the seed's src link replaced); the extra namespace is
//! `<prefix>-up`. Everything (daemons, namespaces, temp files) goes when the test ends, also
//! when it fails. Needs root, zebra/pimd/vtysh and the `frr` user; skips visibly otherwise
//! (fails instead under NE_REQUIRE_TOOLS=1).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ne_lab::lab::{
    analyse, leaf_after, require, run, seed_config, vrrp_state, wait_for, Lab, Receiver, Sender,
    GROUP,
};
use ne_lab::netconf::Blocking;
use ne_lab::peers::{signal, Daemon, FRR_TMP};

const ZEBRA: &str = "/usr/lib/frr/zebra";
const PIMD: &str = "/usr/lib/frr/pimd";
const VTYSH: &str = "/usr/bin/vtysh";

const RP: &str = "10.1.0.3";
const SRC_IP: std::net::Ipv4Addr = std::net::Ipv4Addr::new(10, 9, 0, 10);
const SRC_NET: &str = "10.9.0.0/24";
/// pimd's interfaces.
const UP_SRC: &str = "up-src";
const UP_BR: &str = "up-br";

// ---------------------------------------------------------------------------------------------
// Plumbing: tools, daemons, the topology
// ---------------------------------------------------------------------------------------------

/// FRR pimd forwards through the kernel's IP multicast routing; without it (no CONFIG_IP_MROUTE:
/// `MRT_INIT` fails with ENOPROTOOPT) the receiver would get nothing and the test would fail for
/// a reason that is not ours. `tests/run` leaves this binary out on such a kernel and says so;
/// run by hand, the test fails with this reason rather than "the receiver got 0 packets".
fn kernel_multicast_routing() -> bool {
    if Path::new("/proc/net/ip_mr_vif").exists() {
        return true;
    }
    panic!("this kernel has no IP multicast routing (no /proc/net/ip_mr_vif), which FRR pimd needs; tests/run leaves the pim_interop tests out on such a kernel");
}

fn peers_available() -> bool {
    ne_lab::peers::peers_available(&[ZEBRA, PIMD, VTYSH], Some("frr")) && kernel_multicast_routing()
}

/// The last `lines` lines of a daemon's log, without pimd's Register-Stop send errors: as its
/// own first-hop router and RP it sends itself a Register-Stop to 10.9.0.1 out of up-br for
/// every Register, which fails with EAGAIN and is logged once per data packet.
fn log_tail(d: &Daemon, lines: usize) -> String {
    let text = d.log_text();
    let all: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("pim_msg_send_frame: sendto() failure"))
        .collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// FRR daemons of test processes that no longer exist (killed before their `Drop` ran) in the
/// `nl<pid>x<n>-up` namespaces: kill them and remove their crash-log directories. lab.rs's own
/// sweep (in `Lab::build`) then deletes the namespaces.
fn sweep_stale_frr() {
    let Ok(list) = run("ip", &["netns", "list"]) else {
        return;
    };
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let dead = name.ends_with("-up")
            && name
                .strip_prefix("nl")
                .and_then(|r| r.split_once('x'))
                .and_then(|(p, _)| p.parse::<u32>().ok())
                .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
        if !dead {
            continue;
        }
        if let Ok(pids) = run("ip", &["netns", "pids", name]) {
            for p in pids.split_whitespace() {
                let comm = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
                signal("-KILL", p);
                if matches!(comm.trim(), "zebra" | "pimd") {
                    std::thread::sleep(Duration::from_millis(100));
                    let _ = std::fs::remove_dir_all(format!("{FRR_TMP}/{}.{p}", comm.trim()));
                }
            }
        }
        let _ = run("ip", &["netns", "del", name]);
    }
    let _ = std::fs::remove_dir(FRR_TMP);
}

/// lab.rs's lab with the source moved behind `<prefix>-up`, where zebra and pimd run.
struct Topo {
    daemons: Vec<Daemon>,
    up_ns: Option<String>,
    frr_dir: PathBuf,
    /// Dropped after `Drop::drop` below: agents, lab namespaces and the lab directory go.
    lab: Lab,
}

impl Drop for Topo {
    fn drop(&mut self) {
        self.lab.a.kill9();
        self.lab.b.kill9();
        for d in &mut self.daemons {
            d.stop();
        }
        self.daemons.clear();
        if let Some(ns) = self.up_ns.take() {
            let _ = run("ip", &["netns", "del", &ns]);
        }
        // Fails (and is left alone) while another FRR daemon still uses it.
        let _ = std::fs::remove_dir(FRR_TMP);
    }
}

impl Topo {
    fn build() -> Result<Topo, String> {
        sweep_stale_frr();
        let lab = Lab::build()?;
        let frr_dir = lab.dir.join("frr");
        let mut t = Topo {
            daemons: Vec::new(),
            up_ns: None,
            frr_dir,
            lab,
        };
        let up = t.lab.ns("up");
        let _ = run("ip", &["netns", "del", &up]);
        run("ip", &["netns", "add", &up])?;
        t.up_ns = Some(up.clone());
        let ip = |args: &[&str]| run("ip", args).map(drop);
        ip(&["-n", &up, "link", "set", "lo", "up"])?;
        let (src, sw) = (t.lab.ns("src"), t.lab.ns("sw-up"));
        // The seed's source port on br-up goes (its peer up-src in sw-up with it).
        ip(&["-n", &src, "link", "del", "src0"])?;
        ip(&[
            "link", "add", "src0", "netns", &src, "type", "veth", "peer", "name", UP_SRC, "netns",
            &up,
        ])?;
        ip(&[
            "link", "add", UP_BR, "netns", &up, "type", "veth", "peer", "name", "up-rtr", "netns",
            &sw,
        ])?;
        ip(&["-n", &sw, "link", "set", "up-rtr", "master", "br-up"])?;
        ip(&["-n", &sw, "link", "set", "up-rtr", "up"])?;
        ip(&["-n", &src, "addr", "add", "10.9.0.10/24", "dev", "src0"])?;
        ip(&["-n", &src, "link", "set", "src0", "up"])?;
        ip(&["-n", &src, "route", "add", "default", "via", "10.9.0.1"])?;
        ip(&["-n", &up, "addr", "add", "10.9.0.1/24", "dev", UP_SRC])?;
        ip(&["-n", &up, "addr", "add", &format!("{RP}/24"), "dev", UP_BR])?;
        ip(&["-n", &up, "link", "set", UP_SRC, "up"])?;
        ip(&["-n", &up, "link", "set", UP_BR, "up"])?;
        run(
            "ip",
            &[
                "netns",
                "exec",
                &up,
                "sysctl",
                "-qw",
                "net.ipv4.ip_forward=1",
            ],
        )?;
        Ok(t)
    }

    fn up(&self) -> &str {
        self.up_ns.as_deref().unwrap_or_default()
    }

    fn frr_path(&self, f: &str) -> String {
        self.frr_dir.join(f).to_string_lossy().into_owned()
    }

    /// zebra, then pimd (RP = its own br-up address), every path of theirs under the lab dir
    /// (owned by the `frr` user they drop privileges to).
    fn start_frr(&mut self) -> Result<(), String> {
        self.start_frr_with(RP, "", "")
    }

    /// zebra and pimd with `rp` as the RP of every group, `src_if` (extra lines) on the
    /// source-side interface and `more` (whole sections) at the end of the configuration.
    fn start_frr_with(&mut self, rp: &str, src_if: &str, more: &str) -> Result<(), String> {
        std::fs::create_dir_all(&self.frr_dir).map_err(|e| e.to_string())?;
        run("chown", &["frr:frr", &self.frr_path("")])?;
        std::fs::write(self.frr_dir.join("zebra.conf"), "").map_err(|e| e.to_string())?;
        std::fs::write(
            self.frr_dir.join("pimd.conf"),
            format!(
                "debug pim packets joins\n!\nip pim rp {rp} 224.0.0.0/4\n!\n\
                 interface {UP_SRC}\n ip pim\n{src_if}!\ninterface {UP_BR}\n ip pim\n!\n{more}"
            ),
        )
        .map_err(|e| e.to_string())?;
        for name in ["zebra", "pimd"] {
            let args: Vec<String> = [
                "-u",
                "frr",
                "-g",
                "frr",
                "-z",
                &self.frr_path("zserv.api"),
                "-i",
                &self.frr_path(&format!("{name}.pid")),
                "--vty_socket",
                &self.frr_path(""),
                "-P",
                "0",
                "-f",
                &self.frr_path(&format!("{name}.conf")),
                "--log",
                "stdout",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            let log = self.lab.dir.join(format!("{name}.log"));
            let d = Daemon::spawn(
                self.up(),
                name,
                &format!("/usr/lib/frr/{name}"),
                &args,
                &log,
            )?;
            self.daemons.push(d);
            if name == "zebra" {
                let sock = self.frr_dir.join("zserv.api");
                let z = self.daemon("zebra");
                if !(wait_for(Duration::from_secs(10), || sock.exists() || !z.running())
                    && z.running())
                {
                    return Err(format!(
                        "zebra did not open its socket:\n{}",
                        log_tail(z, 20)
                    ));
                }
            }
        }
        Ok(())
    }

    fn daemon(&mut self, name: &str) -> &mut Daemon {
        self.daemons
            .iter_mut()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no daemon {name}"))
    }

    /// A pimd show command as JSON (None while pimd does not answer; 5 s at most).
    fn pimd(&self, cmd: &str) -> Option<Json> {
        Json::parse(&self.pimd_raw(cmd))
    }

    /// A pimd show command's text output (empty while pimd does not answer; 5 s at most).
    fn pimd_raw(&self, cmd: &str) -> String {
        run(
            "timeout",
            &[
                "5",
                VTYSH,
                "--vty_socket",
                &self.frr_path(""),
                "-d",
                "pimd",
                "-c",
                cmd,
            ],
        )
        .unwrap_or_default()
    }

    fn pimd_text(&self, cmd: &str) -> String {
        self.pimd(cmd).map(|j| format!("{j:?}")).unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// A small JSON reader for vtysh's output (no JSON crate in this workspace)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn parse(text: &str) -> Option<Json> {
        let b = text.as_bytes();
        let mut at = 0;
        let v = Self::value(b, &mut at)?;
        Self::ws(b, &mut at);
        (at == b.len()).then_some(v)
    }

    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// `get` along a path of keys.
    fn at(&self, path: &[&str]) -> Option<&Json> {
        path.iter().try_fold(self, |j, k| j.get(k))
    }

    fn str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    fn ws(b: &[u8], at: &mut usize) {
        while *at < b.len() && b[*at].is_ascii_whitespace() {
            *at += 1;
        }
    }

    fn value(b: &[u8], at: &mut usize) -> Option<Json> {
        Self::ws(b, at);
        match *b.get(*at)? {
            b'{' => {
                *at += 1;
                let mut m = Vec::new();
                loop {
                    Self::ws(b, at);
                    if b.get(*at) == Some(&b'}') {
                        *at += 1;
                        return Some(Json::Obj(m));
                    }
                    if !m.is_empty() {
                        (b.get(*at) == Some(&b',')).then_some(())?;
                        *at += 1;
                        Self::ws(b, at);
                    }
                    let Json::Str(k) = Self::value(b, at)? else {
                        return None;
                    };
                    Self::ws(b, at);
                    (b.get(*at) == Some(&b':')).then_some(())?;
                    *at += 1;
                    m.push((k, Self::value(b, at)?));
                }
            }
            b'[' => {
                *at += 1;
                let mut v = Vec::new();
                loop {
                    Self::ws(b, at);
                    if b.get(*at) == Some(&b']') {
                        *at += 1;
                        return Some(Json::Arr(v));
                    }
                    if !v.is_empty() {
                        (b.get(*at) == Some(&b',')).then_some(())?;
                        *at += 1;
                    }
                    v.push(Self::value(b, at)?);
                }
            }
            b'"' => {
                *at += 1;
                let mut s = Vec::new();
                loop {
                    match *b.get(*at)? {
                        b'"' => {
                            *at += 1;
                            return Some(Json::Str(String::from_utf8_lossy(&s).into_owned()));
                        }
                        b'\\' => {
                            let e = *b.get(*at + 1)?;
                            *at += 2;
                            match e {
                                b'n' => s.push(b'\n'),
                                b't' => s.push(b'\t'),
                                b'r' => s.push(b'\r'),
                                b'b' => s.push(8),
                                b'f' => s.push(12),
                                b'u' => {
                                    let hex = std::str::from_utf8(b.get(*at..*at + 4)?).ok()?;
                                    let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)
                                        .unwrap_or('?');
                                    s.extend_from_slice(c.to_string().as_bytes());
                                    *at += 4;
                                }
                                other => s.push(other),
                            }
                        }
                        c => {
                            s.push(c);
                            *at += 1;
                        }
                    }
                }
            }
            b't' if b[*at..].starts_with(b"true") => {
                *at += 4;
                Some(Json::Bool(true))
            }
            b'f' if b[*at..].starts_with(b"false") => {
                *at += 5;
                Some(Json::Bool(false))
            }
            b'n' if b[*at..].starts_with(b"null") => {
                *at += 4;
                Some(Json::Null)
            }
            _ => {
                let start = *at;
                while *at < b.len()
                    && matches!(b[*at], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    *at += 1;
                }
                std::str::from_utf8(&b[start..*at])
                    .ok()?
                    .parse()
                    .ok()
                    .map(Json::Num)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Traffic and the wire
// ---------------------------------------------------------------------------------------------

/// One group record of a PIM Join/Prune: group, joined sources, pruned sources (each source
/// with its S|W|R flag byte).
type JpGroup = (
    std::net::Ipv4Addr,
    Vec<(std::net::Ipv4Addr, u8)>,
    Vec<(std::net::Ipv4Addr, u8)>,
);

/// A Join/Prune seen on the wire: sender, upstream neighbor field, groups.
#[derive(Debug, Clone)]
struct SeenJp {
    from: std::net::Ipv4Addr,
    upstream: std::net::Ipv4Addr,
    groups: Vec<JpGroup>,
}

/// Decode an IPv4 packet carrying a PIMv2 Join/Prune (RFC 7761 §4.9.5); None for anything else.
fn decode_jp(p: &[u8]) -> Option<SeenJp> {
    let v4 = |b: &[u8]| std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]);
    let ihl = usize::from(*p.first()? & 0x0f) * 4;
    if p.get(9) != Some(&103) || p.len() < ihl + 14 {
        return None;
    }
    let from = v4(&p[12..16]);
    let m = &p[ihl..];
    if m[0] != 0x23 || m[4] != 1 || m[5] != 0 {
        return None; // not version 2 type 3, or not an IPv4 native encoded-unicast upstream
    }
    let upstream = v4(&m[6..10]);
    let ngroups = usize::from(m[11]);
    let mut at = 14;
    let mut groups = Vec::new();
    for _ in 0..ngroups {
        let g = m.get(at..at + 12)?;
        let group = v4(&g[4..8]);
        let nj = usize::from(u16::from_be_bytes([g[8], g[9]]));
        let np = usize::from(u16::from_be_bytes([g[10], g[11]]));
        at += 12;
        let mut srcs = Vec::new();
        for _ in 0..nj + np {
            let s = m.get(at..at + 8)?;
            srcs.push((v4(&s[4..8]), s[2]));
            at += 8;
        }
        let prunes = srcs.split_off(nj);
        groups.push((group, srcs, prunes));
    }
    Some(SeenJp {
        from,
        upstream,
        groups,
    })
}

/// Every PIM Join/Prune that reaches pimd's br-up side, read with a raw socket of our own in
/// ns up (the kernel hands each PIM packet to every raw socket of protocol 103).
struct JpWatch {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<SeenJp>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl JpWatch {
    fn start(ns: &str) -> Result<JpWatch, String> {
        let sock =
            dataplane::netns::run_in(ns, || dataplane::sock::Ipv4Socket::raw(103, Some(UP_BR)))
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (s2, l2) = (Arc::clone(&stop), Arc::clone(&seen));
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 9000];
            let mut ready = Vec::new();
            while !s2.load(Ordering::Relaxed) {
                let _ = dataplane::poll::wait_readable(
                    &[std::os::fd::AsRawFd::as_raw_fd(&sock)],
                    &mut ready,
                    Duration::from_millis(50),
                );
                while let Ok(Some(m)) = sock.recv(&mut buf) {
                    if let Some(jp) = decode_jp(&buf[..m.len.min(buf.len())]) {
                        if let Ok(mut l) = l2.lock() {
                            l.push(jp);
                        }
                    }
                }
            }
        });
        Ok(JpWatch {
            stop,
            seen,
            thread: Some(thread),
        })
    }

    fn seen(&self) -> Vec<SeenJp> {
        self.seen.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Has `from` sent an (S,G) Join for (`source`, `group`) to pimd (upstream neighbor pimd's
    /// address, joined source = `source` with neither the WC nor the RPT bit)?
    fn sg_join_from(
        &self,
        from: std::net::Ipv4Addr,
        source: std::net::Ipv4Addr,
        group: std::net::Ipv4Addr,
    ) -> bool {
        let rp: std::net::Ipv4Addr = RP.parse().expect("RP");
        self.seen().iter().any(|jp| {
            jp.from == from
                && jp.upstream == rp
                && jp.groups.iter().any(|(g, joins, _)| {
                    *g == group && joins.iter().any(|&(s, f)| s == source && f & 0x03 == 0)
                })
        })
    }

    /// Has `from` sent a (*,G) Join for `group` to the RP through pimd (upstream neighbor
    /// pimd's address, joined source = the RP with the WC and RPT bits)?
    fn star_g_join_from(&self, from: std::net::Ipv4Addr, group: std::net::Ipv4Addr) -> bool {
        let rp: std::net::Ipv4Addr = RP.parse().expect("RP");
        self.seen().iter().any(|jp| {
            jp.from == from
                && jp.upstream == rp
                && jp.groups.iter().any(|(g, joins, _)| {
                    *g == group && joins.iter().any(|&(s, f)| s == rp && f & 0x03 == 0x03)
                })
        })
    }
}

impl Drop for JpWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Agent state
// ---------------------------------------------------------------------------------------------

fn config(device: char) -> String {
    seed_config(device).replace(
        "<routing-enable>true</routing-enable></multicast>",
        &format!("<routing-enable>true</routing-enable><rp-address>{RP}</rp-address></multicast>"),
    )
}

/// The agents do not configure unicast routes: the way from A and B to the source's network
/// (via pimd on br-up) is the test's, once their uplinks have their addresses.
fn route_to_source_via_pimd(lab: &Lab) {
    for (dev, ifname) in [("a", "a-up"), ("b", "b-up")] {
        let ns = lab.ns(dev);
        let routed = wait_for(Duration::from_secs(15), || {
            run(
                "ip",
                &[
                    "-n", &ns, "route", "replace", SRC_NET, "via", RP, "dev", ifname,
                ],
            )
            .is_ok()
        });
        assert!(
            routed,
            "no route to {SRC_NET} in {ns}: {ifname} never got its address"
        );
    }
}

fn pim_state(c: &mut Blocking, ifname: &str) -> String {
    ne_lab::lab::pim_state(c, ifname).unwrap_or_default()
}

fn has_neighbor(c: &mut Blocking, ifname: &str, addr: &str) -> bool {
    pim_state(c, ifname).contains(&format!("<neighbor><address>{addr}</address>"))
}

fn routes(c: &mut Blocking) -> String {
    ne_lab::lab::multicast_state(c).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

#[test]
fn frr_pimd_upstream_rp_feeds_both_devices_and_only_the_master_forwards() {
    if !require() || !peers_available() {
        return;
    }
    let t0 = Instant::now();
    let mut t = Topo::build().expect("topology");
    t.start_frr().expect("zebra + pimd");
    let (mut ca, mut cb) = t.lab.start_agents().expect("agents");
    ca.edit_running(&config('a')).expect("configure A");
    cb.edit_running(&config('b')).expect("configure B");
    route_to_source_via_pimd(&t.lab);
    let watch = JpWatch::start(t.up()).expect("raw PIM socket in ns up");

    // pimd is its own RP (it logs "No Path to RP" while reading its configuration, before
    // zebra told it its addresses; the RP resolves right after).
    let rp_ok = wait_for(Duration::from_secs(10), || {
        t.pimd("show ip pim rp-info json")
            .and_then(|j| match j.get(RP) {
                Some(Json::Arr(v)) => v.first().and_then(|e| e.get("iAmRP")).cloned(),
                _ => None,
            })
            .is_some_and(|v| v == Json::Bool(true))
    });
    assert!(
        rp_ok,
        "pimd is not the RP: {}",
        t.pimd_text("show ip pim rp-info json")
    );

    assert!(
        wait_for(Duration::from_secs(30), || {
            vrrp_state(&mut ca, "a-ic", 1).as_deref() == Ok("master")
                && vrrp_state(&mut cb, "b-ic", 1).as_deref() == Ok("backup")
        }),
        "mVRRP: A {:?} B {:?}",
        vrrp_state(&mut ca, "a-ic", 1),
        vrrp_state(&mut cb, "b-ic", 1)
    );

    // (1) PIM adjacencies both ways.
    let neighbours = wait_for(Duration::from_secs(30), || {
        let n = t.pimd("show ip pim neighbor json");
        let pimd_sees = |a: &str| n.as_ref().and_then(|j| j.at(&[UP_BR, a])).is_some();
        pimd_sees("10.1.0.1")
            && pimd_sees("10.1.0.2")
            && has_neighbor(&mut ca, "a-up", RP)
            && has_neighbor(&mut cb, "b-up", RP)
    });
    assert!(
        neighbours,
        "PIM adjacencies: pimd {}\nA {}\nB {}\npimd:\n{}",
        t.pimd_text("show ip pim neighbor json"),
        pim_state(&mut ca, "a-up"),
        pim_state(&mut cb, "b-up"),
        log_tail(t.daemon("pimd"), 30)
    );
    eprintln!("[{:>5.1} s] PIM adjacencies up", t0.elapsed().as_secs_f64());
    let pa = pim_state(&mut ca, "a-up");
    assert_eq!(leaf_after(&pa, "<pim", "dr-address"), Some(RP), "{pa}");

    // (2) The receiver joins: both devices join (*,G) towards the RP, pimd has the join state.
    let rcv = Receiver::start(&t.lab).expect("receiver");
    let a_ip: std::net::Ipv4Addr = "10.1.0.1".parse().expect("ip");
    let b_ip: std::net::Ipv4Addr = "10.1.0.2".parse().expect("ip");
    let group = GROUP.to_string();
    let joined = wait_for(Duration::from_secs(20), || {
        watch.star_g_join_from(a_ip, GROUP)
            && watch.star_g_join_from(b_ip, GROUP)
            && t.pimd("show ip pim join json")
                .and_then(|j| {
                    j.at(&[UP_BR, &group, "*", "channelJoinName"])
                        .and_then(|s| s.str().map(str::to_string))
                })
                .as_deref()
                == Some("JOIN")
    });
    assert!(
        joined,
        "(*,G) joins: seen on the wire {:?}\npimd join {}\nA {}\nB {}\npimd:\n{}",
        watch.seen(),
        t.pimd_text("show ip pim join json"),
        lab_log(&t.lab.a),
        lab_log(&t.lab.b),
        log_tail(t.daemon("pimd"), 30)
    );
    eprintln!(
        "[{:>5.1} s] (*,G) joins from A and B",
        t0.elapsed().as_secs_f64()
    );

    // (3) The stream: pimd forwards it onto br-up, only A forwards it down.
    let src = Sender::start_from(&t.lab, SRC_IP, 1000).expect("sender");
    if let Ok(s) = std::env::var("NE_LAB_PAUSE") {
        eprintln!("PAUSED: lab {} (up ns {})", t.lab.prefix, t.up());
        std::thread::sleep(Duration::from_secs(s.parse().unwrap_or(60)));
    }
    let flowing = wait_for(Duration::from_secs(20), || rcv.count() > 500);
    assert!(
        flowing,
        "the receiver got {} packets\npimd mroute {}\npimd join {}\nA {}\nB {}\nA log:\n{}\npimd:\n{}",
        rcv.count(),
        t.pimd_text("show ip mroute json"),
        t.pimd_text("show ip pim join json"),
        routes(&mut ca),
        routes(&mut cb),
        t.lab.a.log_tail(20),
        log_tail(t.daemon("pimd"), 30)
    );
    eprintln!(
        "[{:>5.1} s] stream at the receiver",
        t0.elapsed().as_secs_f64()
    );
    let mroute = t.pimd("show ip mroute json");
    let oil_up_br = mroute
        .as_ref()
        .and_then(|j| j.at(&[&group, &SRC_IP.to_string(), "oil", UP_BR]))
        .is_some();
    let iif = mroute
        .as_ref()
        .and_then(|j| j.at(&[&group, &SRC_IP.to_string(), "iif"]))
        .and_then(Json::str)
        .map(str::to_string);
    assert!(
        oil_up_br && iif.as_deref() == Some(UP_SRC),
        "pimd's (S,G): {}",
        t.pimd_text("show ip mroute json")
    );
    let ra = routes(&mut ca);
    let rb = routes(&mut cb);
    for (r, up) in [(&ra, "a-up"), (&rb, "b-up")] {
        assert!(
            r.contains(&format!("<source>{SRC_IP}</source>"))
                && r.contains(&format!("<group>{GROUP}</group>")),
            "{r}"
        );
        assert_eq!(
            leaf_after(r, "<route>", "incoming-interface"),
            Some(up),
            "{r}"
        );
    }
    assert_eq!(
        leaf_after(&ra, "<outgoing-interface>", "state"),
        Some("forwarding"),
        "{ra}"
    );
    assert_eq!(
        leaf_after(&rb, "<outgoing-interface>", "state"),
        Some("blocked-by-vrrp"),
        "{rb}"
    );
    // Data from the source switches both to the shortest-path tree: each sends an (S,G) Join
    // to pimd (the RPF neighbour toward 10.9.0.0/24), and the route names it upstream.
    let sg = wait_for(Duration::from_secs(10), || {
        watch.sg_join_from(a_ip, SRC_IP, GROUP) && watch.sg_join_from(b_ip, SRC_IP, GROUP)
    });
    assert!(sg, "(S,G) joins seen on the wire: {:?}", watch.seen());
    let ra = routes(&mut ca);
    assert_eq!(
        leaf_after(&ra, "<route>", "upstream-neighbor"),
        Some(RP),
        "{ra}"
    );
    let (s0, s1, steady) = rcv.over(Duration::from_secs(2));
    eprintln!("steady state over 2 s: {steady:?}");
    assert!(s1 > s0 + 1500, "stream stalled: {s0} -> {s1}");
    assert_eq!(steady.duplicates, 0, "{steady:?}");
    assert_eq!(steady.lost, 0, "{steady:?}");

    // (4) A dies without a word: B's BFD sees it, B becomes master and forwards what it
    // already receives (its Join is in pimd's state).
    let before = rcv.last_seq();
    t.lab.a.kill9();
    let resumed = wait_for(Duration::from_secs(10), || rcv.last_seq() > before + 1000);
    assert!(
        resumed,
        "no stream through B after A died: received up to {} (killed at {before})\nB {}\nB log:\n{}",
        rcv.last_seq(),
        routes(&mut cb),
        t.lab.b.log_tail(20)
    );
    let after = rcv.last_seq();
    let node = analyse(&rcv.received(), before, after);
    eprintln!(
        "node failure (kill -9 A): {node:?}: gap {} ms at 1000 packets/s",
        node.longest_gap
    );
    assert_eq!(node.duplicates, 0, "{node:?}");
    let rb = routes(&mut cb);
    assert_eq!(
        leaf_after(&rb, "<outgoing-interface>", "state"),
        Some("forwarding"),
        "{rb}"
    );
    assert_eq!(vrrp_state(&mut cb, "b-ic", 1).unwrap_or_default(), "master");
    drop(src);
    eprintln!("[{:>5.1} s] done", t0.elapsed().as_secs_f64());
}

/// FRR pimd as a **downstream** router: the receiver sits behind pimd (kernel IGMP join on
/// src0, `ip igmp` on pimd's up-src), the source on the devices' LAN, and A is the RP. pimd
/// joins (*,G) to A, then (S,G) once data flows; A's downstream join state puts a-up in the
/// route, and pimd's prunes after the receiver leaves take it out again (after the LAN's
/// override interval: three PIM routers share br-up).
#[test]
fn frr_pimd_downstream_joins_through_us() {
    if !require() || !peers_available() {
        return;
    }
    const OUR_RP: &str = "10.1.0.1";
    let lan_src: std::net::Ipv4Addr = "192.168.1.100".parse().expect("ip");
    let mut t = Topo::build().expect("topology");
    // pimd reaches the LAN through A.
    run(
        "ip",
        &[
            "-n",
            t.up(),
            "route",
            "add",
            "192.168.1.0/24",
            "via",
            OUR_RP,
        ],
    )
    .expect("route to the LAN in ns up");
    t.start_frr_with(OUR_RP, " ip igmp\n", "")
        .expect("zebra + pimd");
    let (mut ca, mut cb) = t.lab.start_agents().expect("agents");
    let config = |dev: char| {
        seed_config(dev).replace(
            "<routing-enable>true</routing-enable></multicast>",
            &format!(
                "<routing-enable>true</routing-enable><rp-address>{OUR_RP}</rp-address></multicast>"
            ),
        )
    };
    ca.edit_running(&config('a')).expect("configure A");
    cb.edit_running(&config('b')).expect("configure B");
    assert!(
        wait_for(Duration::from_secs(30), || has_neighbor(
            &mut ca, "a-up", RP
        )),
        "no adjacency with pimd: {}",
        pim_state(&mut ca, "a-up")
    );

    // The receiver behind pimd joins; pimd joins (*,G) to us, the RP.
    let rcv = Receiver::start_in(&t.lab, "src", "src0").expect("receiver behind pimd");
    let star_joined = wait_for(Duration::from_secs(30), || {
        pim_state(&mut ca, "a-up").contains(&format!(
            "<join><source>0.0.0.0</source><group>{GROUP}</group><state>join</state>"
        ))
    });
    assert!(
        star_joined,
        "no (*,G) join from pimd: A {}\npimd join {}\npimd:\n{}",
        pim_state(&mut ca, "a-up"),
        t.pimd_text("show ip pim join json"),
        log_tail(t.daemon("pimd"), 30)
    );

    // The source on the LAN: A forwards up to pimd, which forwards to the receiver.
    let src = Sender::start_in(&t.lab, "rcv", "rcv0", lan_src, 500).expect("sender on the LAN");
    let flowing = wait_for(Duration::from_secs(20), || rcv.count() > 300);
    let ra = routes(&mut ca);
    assert!(
        flowing,
        "the receiver behind pimd got {} packets\nA {ra}\npimd mroute {}\nA log:\n{}",
        rcv.count(),
        t.pimd_text("show ip mroute json"),
        t.lab.a.log_tail(20)
    );
    assert!(
        ra.contains("<outgoing-interface><name>a-up</name><state>forwarding</state>"),
        "{ra}"
    );
    assert_eq!(
        leaf_after(&ra, "<route>", "incoming-interface"),
        Some("a-dn"),
        "{ra}"
    );
    // pimd switches to the shortest-path tree: its RPF neighbour toward the source is A too.
    let sg_joined = wait_for(Duration::from_secs(20), || {
        pim_state(&mut ca, "a-up").contains(&format!(
            "<join><source>{lan_src}</source><group>{GROUP}</group><state>join</state>"
        ))
    });
    assert!(
        sg_joined,
        "no (S,G) join from pimd: {}",
        pim_state(&mut ca, "a-up")
    );
    // B is not on pimd's path: no downstream state there.
    let pb = pim_state(&mut cb, "b-up");
    assert!(!pb.contains("<join>"), "{pb}");

    // The receiver leaves. pimd prunes (*,G) and (S,G), then (FRR 8.4) sends a last Join(*,G)
    // carrying an (S,G,rpt) Prune for the source: A keeps the (*,G) state until its holdtime,
    // but leaves the source out of it, so a-up goes out of the route.
    drop(rcv);
    let pruned = wait_for(Duration::from_secs(30), || {
        let p = pim_state(&mut ca, "a-up");
        !p.contains(&format!("<join><source>{lan_src}</source>"))
            && routes(&mut ca)
                .contains("<outgoing-interface><name>a-up</name><state>pruned</state>")
    });
    assert!(
        pruned,
        "still forwarding to pimd after the receiver left: {}\n{}\npimd igmp {}\npimd upstream {}\nA log:\n{}\npimd:\n{}",
        pim_state(&mut ca, "a-up"),
        routes(&mut ca),
        t.pimd_text("show ip igmp groups json"),
        t.pimd_text("show ip pim upstream json"),
        t.lab.a.log_tail(60),
        log_tail(t.daemon("pimd"), 40)
    );
    drop(src);
}

/// PIM Assert (RFC 7761 §4.6) against FRR pimd on the receivers' LAN. pimd gets a third leg on
/// br-dn (192.168.1.3, `ip igmp`: the LAN's DR, as its highest address) and, as the source's
/// first-hop router, forwards the stream onto it for the receiver there. A and B
/// (`ignore-dr-state`, but without the seed's `ignore-assert-state` and mVRRP gate: a gated
/// interface leaves the choice of forwarder to mVRRP and does not assert) join for the same
/// receiver through pimd and forward it there too. Each sees the others' copies arrive on an
/// interface it forwards onto and asserts; pimd's metric is the better one (the source is
/// connected to it, our route to it goes through it), so A and B must lose and stop, and the
/// receiver then gets every packet once.
///
/// The receiver joins source-specifically in the SSM range (232.1.1.1, INCLUDE {10.9.0.10}),
/// so A and B join (S,G) only, never (*,G) (checked on the wire):
/// FRR 8.4 creates no state for a source-specific join in the ASM range, and does not assert
/// on an interface it forwards onto for (*,G) only ("show ip pim assert-internal": CouldAssert
/// no), so with the lab's 239.1.1.1 pimd never asserts.
#[test]
fn frr_pimd_wins_an_assert_on_the_lan_and_we_stop_forwarding() {
    if !require() || !peers_available() {
        return;
    }
    const UP_DN: &str = "up-dn";
    const PIMD_LAN: &str = "192.168.1.3";
    let ssm_group: std::net::Ipv4Addr = "232.1.1.1".parse().expect("ip");
    let mut t = Topo::build().expect("topology");
    let sw_dn = t.lab.ns("sw-dn");
    let up = t.up().to_string();
    for args in [
        vec![
            "link", "add", UP_DN, "netns", &up, "type", "veth", "peer", "name", "dn-up", "netns",
            &sw_dn,
        ],
        vec!["-n", &sw_dn, "link", "set", "dn-up", "master", "br-dn"],
        vec!["-n", &sw_dn, "link", "set", "dn-up", "up"],
        vec!["-n", &up, "addr", "add", "192.168.1.3/24", "dev", UP_DN],
        vec!["-n", &up, "link", "set", UP_DN, "up"],
    ] {
        run("ip", &args).expect("pimd's leg on br-dn");
    }
    t.start_frr_with(
        RP,
        "",
        &format!("interface {UP_DN}\n ip pim\n ip igmp\n!\n"),
    )
    .expect("zebra + pimd");
    let (mut ca, mut cb) = t.lab.start_agents().expect("agents");
    let asserting = |dev: char| {
        let me = if dev == 'a' { "a" } else { "b" };
        config(dev)
            .replace("<ignore-assert-state>true</ignore-assert-state>", "")
            .replace(
                &format!(
                    "<track-admin-vrrp xmlns=\"urn:ne-agent:yang:ne-multicast\"><interface>{me}-ic</interface><vrid>1</vrid></track-admin-vrrp>"
                ),
                "",
            )
            .replace(
                "<igmp xmlns=\"urn:ne-agent:yang:ne-multicast\"><enabled>true</enabled>",
                "<igmp xmlns=\"urn:ne-agent:yang:ne-multicast\"><enabled>true</enabled><version>3</version>",
            )
    };
    let (cfg_a, cfg_b) = (asserting('a'), asserting('b'));
    assert!(!cfg_a.contains("ignore-assert") && !cfg_b.contains("track-admin"));
    assert!(cfg_a.contains("<version>3</version>"));
    ca.edit_running(&cfg_a).expect("configure A");
    cb.edit_running(&cfg_b).expect("configure B");
    route_to_source_via_pimd(&t.lab);
    let ready = wait_for(Duration::from_secs(40), || {
        has_neighbor(&mut ca, "a-dn", PIMD_LAN)
            && has_neighbor(&mut cb, "b-dn", PIMD_LAN)
            && has_neighbor(&mut ca, "a-up", RP)
            && has_neighbor(&mut cb, "b-up", RP)
    });
    assert!(
        ready,
        "adjacencies: a-dn {}\na-up {}\nb-dn {}\npimd:\n{}",
        pim_state(&mut ca, "a-dn"),
        pim_state(&mut ca, "a-up"),
        pim_state(&mut cb, "b-dn"),
        log_tail(t.daemon("pimd"), 30)
    );
    let pa = pim_state(&mut ca, "a-dn");
    assert_eq!(
        leaf_after(&pa, "<pim", "dr-address"),
        Some(PIMD_LAN),
        "{pa}"
    );

    let watch = JpWatch::start(t.up()).expect("raw PIM socket in ns up");
    let rcv = Receiver::start_source_specific(&t.lab, ssm_group, SRC_IP).expect("receiver");
    let src = Sender::start_to(&t.lab, "src", "src0", SRC_IP, ssm_group, 1000).expect("sender");
    let group = ssm_group.to_string();
    // All three forward for a moment, then A and B lose the assert to pimd.
    let loser = |c: &mut Blocking, ifname: &str| {
        pim_state(c, ifname).contains(&format!(
            "<source>{SRC_IP}</source><group>{group}</group><state>loser</state><winner>{PIMD_LAN}</winner>"
        ))
    };
    let lost = wait_for(Duration::from_secs(30), || {
        loser(&mut ca, "a-dn") && loser(&mut cb, "b-dn")
    });
    assert!(
        lost,
        "A and B did not both lose the assert: A {}\nB {}\nA {}\nreceived {}\npimd assert {}\npimd mroute {}\nA log:\n{}\npimd:\n{}",
        pim_state(&mut ca, "a-dn"),
        pim_state(&mut cb, "b-dn"),
        routes(&mut ca),
        rcv.count(),
        t.pimd_raw("show ip pim assert") + &t.pimd_raw("show ip pim assert-internal"),
        t.pimd_raw("show ip mroute"),
        t.lab.a.log_tail(30),
        log_tail(t.daemon("pimd"), 30)
    );
    // The listener named its source: A and B join (S,G) toward it and never (*,G) toward
    // the RP, which has no part in the SSM range.
    let a_ip: std::net::Ipv4Addr = "10.1.0.1".parse().expect("ip");
    let b_ip: std::net::Ipv4Addr = "10.1.0.2".parse().expect("ip");
    assert!(
        wait_for(Duration::from_secs(10), || {
            watch.sg_join_from(a_ip, SRC_IP, ssm_group)
                && watch.sg_join_from(b_ip, SRC_IP, ssm_group)
        }),
        "(S,G) joins seen: {:?}",
        watch.seen()
    );
    assert!(
        !watch.star_g_join_from(a_ip, ssm_group) && !watch.star_g_join_from(b_ip, ssm_group),
        "a (*,G) join for an SSM group: {:?}",
        watch.seen()
    );
    // pimd holds the winner's side of the same assert.
    let pimd_wins = wait_for(Duration::from_secs(10), || {
        t.pimd_raw("show ip pim assert")
            .lines()
            .any(|l| l.contains(UP_DN) && l.contains(&group) && l.contains("WINNER"))
    });
    assert!(pimd_wins, "pimd: {}", t.pimd_raw("show ip pim assert"));
    // From then on the receiver gets the stream once: pimd's copy.
    std::thread::sleep(Duration::from_millis(300));
    let (s0, s1, steady) = rcv.over(Duration::from_secs(2));
    eprintln!("after the assert, 2 s: {steady:?}");
    assert!(s1 > s0 + 1500, "stream stalled: {s0} -> {s1}");
    assert_eq!(steady.duplicates, 0, "{steady:?}\nA {}", routes(&mut ca));
    assert_eq!(steady.lost, 0, "{steady:?}");
    for (c, dn) in [(&mut ca, "a-dn"), (&mut cb, "b-dn")] {
        let r = routes(c);
        assert!(
            !r.contains(&format!("<name>{dn}</name><state>forwarding</state>")),
            "{r}"
        );
    }
    drop(src);
}

fn lab_log(a: &ne_lab::lab::Agent) -> String {
    a.log_tail(15)
}
