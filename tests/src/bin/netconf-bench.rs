//! `netconf-bench`: the NETCONF server measured with the project's own client (SSH, base:1.1
//! framing), against an agent started in its own network namespace.
//!
//! - session setup: TCP connect to the first rpc-reply, sequential;
//! - `<get-config>` of the whole running datastore holding N list entries;
//! - one-entry edit-config (candidate) + commit at N entries, sequential;
//! - C concurrent sessions each doing K edit+commit cycles on running.
//!
//! Then, in the same invocation, the same measurements against a baseline: yuma123 `netconfd`
//! (Debian package `netconfd`) in its own namespace, behind an OpenSSH `sshd` on the namespace's
//! loopback that spawns `netconf-subsystem` for the `netconf` subsystem. A throwaway user
//! (`nebench`, random password) is created for the run and removed at the end. netconfd has one
//! edit target, so it runs with `--target=candidate` for the sequential phases and is restarted
//! with `--target=running` (N entries in its startup file) for the concurrent phase. Its slow
//! phases are capped (printed); `--no-baseline` skips it.
//!
//! `cargo build --release -p agent -p ne-lab && sudo target/release/netconf-bench
//! [--entries 10000] [--sessions 50] [--cycles 200] [--no-baseline]
//! [--nc-cycles 5] [--nc-sessions 5] [--nc-conc-cycles 5] [--nc-budget 60]`
//! (root: it creates namespaces; the baseline also needs `apt-get install netconfd openssh-server`).
//!
//! `--ncclient [--python .venv/bin/python] [--procs 8]`: instead, the workload of issue 14
//! through ncclient (`tests/bench/ncclient_bench.py`, paramiko transport) against both servers,
//! set up as above; it prints a table of both and the ratios ne-agent / netconfd. Monitor groups
//! (`ne-monitor-group`) are the list; `--entries`, `--sessions` and `--cycles` apply, and
//! `--nc-budget` caps the slow phases (for both servers; only netconfd reaches it).
//!
//! `--nacm`: instead, what access control costs (`netconf-bench/nacm.rs`): get-config of
//! `--entries` monitor groups as the recovery user and as a user restricted by 20 path rules,
//! and `--cycles` one-entry edit+commit cycles with NACM on and off; ours only.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ne_lab::lab::{run as sh, unavailable, Agent, Netns};
use ne_lab::netconf::{ok, Client};

#[path = "netconf-bench/nacm.rs"]
mod nacm;

const IF_NS: &str = "urn:ne-agent:yang:ne-interfaces";
/// Bound on one RPC (netconfd needs seconds per edit at 10,000 entries).
const RPC_LIMIT: Duration = Duration::from_secs(300);
const SETUP_SESSIONS: usize = 50;
const GET_RUNS: usize = 20;

struct Opts {
    entries: usize,
    sessions: usize,
    cycles: usize,
    baseline: bool,
    nc_cycles: usize,
    nc_sessions: usize,
    nc_conc_cycles: usize,
    nc_budget: Duration,
    ncclient: bool,
    nacm: bool,
    python: Option<PathBuf>,
    procs: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str, default: usize| -> usize {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    if let Some(why) = unavailable() {
        eprintln!("netconf-bench: {why}");
        std::process::exit(2);
    }
    let o = Opts {
        entries: flag("--entries", 10_000),
        sessions: flag("--sessions", 50),
        cycles: flag("--cycles", 200),
        baseline: !args.iter().any(|a| a == "--no-baseline"),
        nc_cycles: flag("--nc-cycles", 5),
        nc_sessions: flag("--nc-sessions", 5),
        nc_conc_cycles: flag("--nc-conc-cycles", 5),
        nc_budget: Duration::from_secs(flag("--nc-budget", 60) as u64),
        ncclient: args.iter().any(|a| a == "--ncclient"),
        nacm: args.iter().any(|a| a == "--nacm"),
        python: args
            .iter()
            .position(|a| a == "--python")
            .and_then(|i| args.get(i + 1))
            .map(PathBuf::from),
        procs: flag("--procs", 8),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if let Err(e) = rt.block_on(run(o)) {
        eprintln!("netconf-bench: {e}");
        std::process::exit(1);
    }
}

/// Where and how to log in.
#[derive(Clone)]
struct Target {
    ns: String,
    port: u16,
    user: String,
    password: String,
}

async fn connect(t: &Target) -> Result<Client, String> {
    let ns = t.ns.clone();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], t.port));
    let std_stream = tokio::task::spawn_blocking(move || {
        dataplane::netns::run_in(&ns, move || {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        })
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    std_stream
        .set_nonblocking(true)
        .map_err(|e| e.to_string())?;
    std_stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let tcp = tokio::net::TcpStream::from_std(std_stream).map_err(|e| e.to_string())?;
    tokio::time::timeout(
        Duration::from_secs(30),
        Client::connect(tcp, &t.user, &t.password),
    )
    .await
    .map_err(|_| "login timed out (30 s)".to_string())?
    .map_err(|e| e.to_string())
}

async fn call(c: &mut Client, body: &str) -> Result<String, String> {
    tokio::time::timeout(RPC_LIMIT, c.rpc(body))
        .await
        .map_err(|_| format!("no reply within {} s", RPC_LIMIT.as_secs()))?
        .map_err(|e| e.to_string())
}

async fn call_ok(c: &mut Client, body: &str) -> Result<String, String> {
    let r = call(c, body).await?;
    ok(&r).map_err(|e| e.to_string())?;
    Ok(r)
}

async fn close(c: Client) -> Result<(), String> {
    tokio::time::timeout(Duration::from_secs(30), c.close())
        .await
        .map_err(|_| "close-session timed out".to_string())?
        .map_err(|e| e.to_string())
}

/// Connect until it works, up to `limit`.
async fn wait_reachable(
    t: &Target,
    limit: Duration,
    alive: &mut dyn FnMut() -> bool,
) -> Result<(), String> {
    let end = Instant::now() + limit;
    loop {
        match connect(t).await {
            Ok(c) => return close(c).await,
            Err(e) if Instant::now() > end || !alive() => {
                return Err(format!("server not reachable: {e}"))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

fn pct(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v[((q / 100.0) * (v.len() as f64 - 1.0)).round() as usize]
}

fn stats(v: &[f64]) -> String {
    format!(
        "p50 {:7.2} ms  p99 {:7.2} ms  max {:7.2} ms",
        pct(v, 50.0),
        pct(v, 99.0),
        pct(v, 100.0)
    )
}

fn ratio(a: f64, b: f64) -> String {
    let r = a / b;
    match r {
        r if r >= 100.0 => format!("{r:7.0}x"),
        r if r >= 10.0 => format!("{r:7.1}x"),
        r if r >= 1.0 => format!("{r:7.2}x"),
        r => format!("{r:7.3}x"),
    }
}

/// netconfd/ours for p50, p99, max.
fn ratios(ours: &[f64], theirs: &[f64]) -> String {
    format!(
        "p50 {}     p99 {}     max {}",
        ratio(pct(theirs, 50.0), pct(ours, 50.0)),
        ratio(pct(theirs, 99.0), pct(ours, 99.0)),
        ratio(pct(theirs, 100.0), pct(ours, 100.0))
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn entries_xml(n: usize) -> String {
    let mut x = format!("<interfaces xmlns=\"{IF_NS}\">");
    for i in 0..n {
        x.push_str(&format!(
            "<interface><name>bench{i}</name><description>entry {i}</description></interface>"
        ));
    }
    x.push_str("</interfaces>");
    x
}

fn one_edit(name: &str, value: usize) -> String {
    format!(
        "<config><interfaces xmlns=\"{IF_NS}\"><interface><name>{name}</name>\
         <description>v{value}</description></interface></interfaces></config>"
    )
}

// ---------------------------------------------------------------------------------------------
// The phases, shared by both servers.

async fn phase_setup(t: &Target, n: usize) -> Result<Vec<f64>, String> {
    let mut setup = Vec::new();
    for _ in 0..n {
        let t0 = Instant::now();
        let mut c = connect(t).await?;
        let r = call(&mut c, &format!(
            "<get-config><source><running/></source><filter type=\"subtree\"><interfaces xmlns=\"{IF_NS}\"><interface><name>none</name></interface></interfaces></filter></get-config>"
        ))
        .await?;
        setup.push(ms(t0.elapsed()));
        ok(&r).map_err(|e| e.to_string())?;
        close(c).await?;
    }
    Ok(sorted(setup))
}

async fn phase_load(c: &mut Client, entries: usize) -> Result<f64, String> {
    let t0 = Instant::now();
    call_ok(
        c,
        &format!(
            "<edit-config><target><candidate/></target><config>{}</config></edit-config>",
            entries_xml(entries)
        ),
    )
    .await?;
    call_ok(c, "<commit/>").await?;
    Ok(ms(t0.elapsed()))
}

async fn phase_get(c: &mut Client, runs: usize) -> Result<(Vec<f64>, usize), String> {
    let mut get = Vec::new();
    let mut size = 0;
    for _ in 0..runs {
        let t0 = Instant::now();
        let r = call_ok(c, "<get-config><source><running/></source></get-config>").await?;
        get.push(ms(t0.elapsed()));
        size = r.len();
    }
    Ok((sorted(get), size))
}

/// Up to `cycles` one-entry edit+commit cycles, stopping early after `budget`.
async fn phase_edit(
    c: &mut Client,
    entries: usize,
    cycles: usize,
    budget: Option<Duration>,
) -> Result<Vec<f64>, String> {
    let start = Instant::now();
    let mut edit = Vec::new();
    for i in 0..cycles {
        if budget.is_some_and(|b| start.elapsed() > b) {
            break;
        }
        let t0 = Instant::now();
        call_ok(
            c,
            &format!(
                "<edit-config><target><candidate/></target>{}</edit-config>",
                one_edit(&format!("bench{}", i % entries.max(1)), i)
            ),
        )
        .await?;
        call_ok(c, "<commit/>").await?;
        edit.push(ms(t0.elapsed()));
    }
    Ok(sorted(edit))
}

struct Conc {
    sessions: usize,
    cycles: usize,
    lat: Vec<f64>,
    secs: f64,
}

impl Conc {
    fn rate(&self) -> f64 {
        self.lat.len() as f64 / self.secs
    }
}

/// How many sessions of the concurrent phase log in at the same time.
const LOGINS_AT_ONCE: usize = 8;

/// `sessions` concurrent sessions x up to `cycles` edit-config(running); with a budget, each
/// session starts no new edit after it. The sessions are logged in before the clock starts.
async fn phase_conc(
    t: &Target,
    sessions: usize,
    cycles: usize,
    budget: Option<Duration>,
) -> Result<Conc, String> {
    // Log in a few at a time before the clock starts: a server caps connections that have not
    // authenticated yet (ours at 16, OpenSSH's MaxStartups at 10), and logins are not commits.
    let mut clients = Vec::with_capacity(sessions);
    for first in (0..sessions).step_by(LOGINS_AT_ONCE) {
        let batch: Vec<_> = (first..sessions.min(first + LOGINS_AT_ONCE))
            .map(|_| {
                let t = t.clone();
                tokio::spawn(async move { connect(&t).await })
            })
            .collect();
        for b in batch {
            clients.push(b.await.map_err(|e| e.to_string())??);
        }
    }
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for (s, mut c) in clients.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(cycles);
            for i in 0..cycles {
                if budget.is_some_and(|b| t0.elapsed() > b) {
                    break;
                }
                let t1 = Instant::now();
                call_ok(
                    &mut c,
                    &format!(
                        "<edit-config><target><running/></target>{}</edit-config>",
                        one_edit(&format!("conc{s}"), i)
                    ),
                )
                .await?;
                lat.push(ms(t1.elapsed()));
            }
            close(c).await?;
            Ok::<Vec<f64>, String>(lat)
        }));
    }
    let mut all = Vec::new();
    let mut first_err = None;
    for task in tasks {
        match task.await.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok(l) => all.extend(l),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    Ok(Conc {
        sessions,
        cycles,
        lat: sorted(all),
        secs: t0.elapsed().as_secs_f64(),
    })
}

// ---------------------------------------------------------------------------------------------
// Printing, the same lines for both servers.

struct Figures {
    setup: Vec<f64>,
    load_ms: f64,
    get: Vec<f64>,
    get_bytes: usize,
    edit: Vec<f64>,
    conc: Conc,
}

fn line_setup(f: &Figures) {
    println!(
        "session setup (TCP connect to first rpc-reply), {} sessions: {}",
        f.setup.len(),
        stats(&f.setup)
    );
}

fn line_load(entries: usize, f: &Figures) {
    println!(
        "{entries} entries in one edit-config + commit: {:.0} ms",
        f.load_ms
    );
}

fn line_get(entries: usize, f: &Figures) {
    println!(
        "get-config of {entries} entries ({:.1} MB reply), {} runs: {}",
        f.get_bytes as f64 / 1e6,
        f.get.len(),
        stats(&f.get)
    );
}

fn line_edit(entries: usize, f: &Figures) {
    println!(
        "one-entry edit-config + commit at {entries} entries, {} cycles: {}",
        f.edit.len(),
        stats(&f.edit)
    );
}

fn line_conc(c: &Conc) {
    let done = if c.lat.len() < c.sessions * c.cycles {
        format!(
            " ({} of {} done within the budget)",
            c.lat.len(),
            c.sessions * c.cycles
        )
    } else {
        String::new()
    };
    let prec = if c.rate() < 10.0 { 2 } else { 0 };
    println!(
        "{} concurrent sessions x {} edit-config (running) each: {:.prec$} commits/s; per commit {}{done}",
        c.sessions,
        c.cycles,
        c.rate(),
        stats(&c.lat)
    );
}

// ---------------------------------------------------------------------------------------------

async fn run(o: Opts) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("ne-netconf-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let r = if o.ncclient {
        ncclient::run(&o, &dir).await
    } else if o.nacm {
        nacm::run(&o, &dir).await
    } else {
        run_in_dir(&o, &dir).await
    };
    let _ = std::fs::remove_dir_all(&dir);
    r
}

async fn run_in_dir(o: &Opts, dir: &Path) -> Result<(), String> {
    let entries = o.entries;
    println!("== ne-agent (ours) ==");
    let (ours, ours_capped) = {
        let ns = Netns::new("ncb")?;
        let mut agent = Agent::new(&ns.0, dir, "agent")?;
        agent.start()?;
        let t = Target {
            ns: ns.0.clone(),
            port: 8300,
            user: "admin".into(),
            password: "lab".into(),
        };
        let r = measure_ours(o, &t, &mut agent).await;
        agent.stop();
        r.map_err(|e| format!("{e}; agent log:\n{}", agent.log_tail(20)))?
    };
    if !o.baseline {
        return Ok(());
    }

    println!();
    let version = sh("dpkg-query", &["-W", "-f", "${Version}", "netconfd"]).unwrap_or_default();
    println!(
        "== yuma123 netconfd {version} (baseline, behind OpenSSH sshd + netconf-subsystem) =="
    );
    let theirs = {
        let mut nc = Netconfd::new(dir, &IF_STANDIN)?;
        let r = measure_netconfd(o, &mut nc).await;
        if r.is_err() {
            eprintln!("netconfd log tail:\n{}", nc.log_tail(20));
        }
        drop(nc);
        r?
    };

    println!();
    println!(
        "== ratios netconfd / ours (>1: netconfd slower, except commits/s: >1 netconfd faster) =="
    );
    println!(
        "session setup (TCP connect to first rpc-reply): {}",
        ratios(&ours.setup, &theirs.setup)
    );
    println!(
        "{entries} entries in one edit-config + commit: {}",
        ratio(theirs.load_ms, ours.load_ms)
    );
    println!(
        "get-config of {entries} entries: {}",
        ratios(&ours.get, &theirs.get)
    );
    println!(
        "one-entry edit-config + commit at {entries} entries (ours {} cycles, netconfd {}): {}",
        ours.edit.len(),
        theirs.edit.len(),
        ratios(&ours.edit, &theirs.edit)
    );
    let same = ours_capped.as_ref().unwrap_or(&ours.conc);
    println!(
        "{} concurrent sessions x {} edit-config (running) each (ours at the same shape): commits/s {}; per commit {}",
        theirs.conc.sessions,
        theirs.conc.cycles,
        ratio(theirs.conc.rate(), same.rate()),
        ratios(&same.lat, &theirs.conc.lat)
    );
    Ok(())
}

/// The concurrency shape the baseline gets.
fn nc_shape(o: &Opts) -> (usize, usize) {
    (
        o.sessions.min(o.nc_sessions),
        o.cycles.min(o.nc_conc_cycles),
    )
}

async fn measure_ours(
    o: &Opts,
    t: &Target,
    agent: &mut Agent,
) -> Result<(Figures, Option<Conc>), String> {
    let entries = o.entries;
    wait_reachable(t, Duration::from_secs(60), &mut || agent.running()).await?;
    let setup = phase_setup(t, SETUP_SESSIONS).await?;
    let mut c = connect(t).await?;
    let load_ms = phase_load(&mut c, entries).await?;
    let (get, get_bytes) = phase_get(&mut c, GET_RUNS).await?;
    let edit = phase_edit(&mut c, entries, o.cycles, None).await?;
    close(c).await?;
    let mut f = Figures {
        setup,
        load_ms,
        get,
        get_bytes,
        edit,
        conc: Conc {
            sessions: 0,
            cycles: 0,
            lat: Vec::new(),
            secs: 1.0,
        },
    };
    line_setup(&f);
    line_load(entries, &f);
    line_get(entries, &f);
    line_edit(entries, &f);
    f.conc = phase_conc(t, o.sessions, o.cycles, None).await?;
    line_conc(&f.conc);
    // The baseline's concurrency phase is capped: measure ours at that shape too.
    let (s, k) = nc_shape(o);
    let capped = if o.baseline && (s, k) != (o.sessions, o.cycles) {
        let c = phase_conc(t, s, k, None).await?;
        print!("  same shape as the capped baseline: ");
        line_conc(&c);
        Some(c)
    } else {
        None
    };
    Ok((f, capped))
}

async fn measure_netconfd(o: &Opts, nc: &mut Netconfd) -> Result<Figures, String> {
    let entries = o.entries;
    let seq_cycles = o.cycles.min(o.nc_cycles);
    let (s, k) = nc_shape(o);
    println!(
        "caps: sequential edit+commit {seq_cycles} cycles (ours {}); concurrency {s} sessions x {k} edits \
         (ours {} x {}); each capped phase also stops starting new edits after {} s",
        o.cycles,
        o.sessions,
        o.cycles,
        o.nc_budget.as_secs()
    );
    nc.start("candidate", "").await?;
    println!("YANG: {}", nc.yang_note);
    let t = nc.target();
    let setup = phase_setup(&t, SETUP_SESSIONS).await?;
    let mut c = connect(&t).await?;
    let load_ms = phase_load(&mut c, entries).await?;
    let (get, get_bytes) = phase_get(&mut c, GET_RUNS).await?;
    let edit = phase_edit(&mut c, entries, seq_cycles, Some(o.nc_budget)).await?;
    close(c).await?;
    let mut f = Figures {
        setup,
        load_ms,
        get,
        get_bytes,
        edit,
        conc: Conc {
            sessions: 0,
            cycles: 0,
            lat: Vec::new(),
            secs: 1.0,
        },
    };
    line_setup(&f);
    line_load(entries, &f);
    line_get(entries, &f);
    line_edit(entries, &f);
    // netconfd has a single edit target: restart it on running, with the N entries at startup.
    let t0 = Instant::now();
    nc.stop();
    nc.start("running", &entries_xml(entries)).await?;
    println!(
        "(restarted with --target=running and the {entries} entries in its startup file: {:.1} s)",
        t0.elapsed().as_secs_f64()
    );
    f.conc = phase_conc(&nc.target(), s, k, Some(o.nc_budget)).await?;
    line_conc(&f.conc);
    Ok(f)
}

// ---------------------------------------------------------------------------------------------
// The baseline: netconfd + sshd in a namespace, a throwaway user.

const NC_USER: &str = "nebench";
const NC_PORT: u16 = 830;

/// A module netconfd serves, with the YANG 1.0 stand-in it gets when it cannot load ours.
struct Standin {
    module: &'static str,
    yang: &'static str,
    shape: &'static str,
}

const IF_STANDIN: Standin = Standin {
    module: "ne-interfaces",
    yang: MINIMAL_YANG,
    shape: "interfaces/interface: name key string 1..15, description, enabled",
};

const MINIMAL_YANG: &str = r#"module ne-interfaces {
  namespace "urn:ne-agent:yang:ne-interfaces";
  prefix if;
  description
    "netconf-bench stand-in for ne-interfaces (YANG 1.0): the same interface list shape,
     config leaves only.";
  revision 2026-11-26 { description "Stand-in."; }
  container interfaces {
    list interface {
      key "name";
      leaf name { type string { length "1..15"; } }
      leaf description { type string; }
      leaf enabled { type boolean; default "true"; }
    }
  }
}
"#;

struct Netconfd {
    dir: PathBuf,
    run_dir: PathBuf,
    log: PathBuf,
    uid: String,
    gid: String,
    password: String,
    user_made: bool,
    run_sshd_made: bool,
    sshd: Option<Child>,
    netconfd: Option<Child>,
    /// modpath to use once known (the project's modules, or the stand-in).
    modpath: Option<PathBuf>,
    /// The module netconfd loads (`--module`), and its YANG 1.0 stand-in.
    standin: &'static Standin,
    yang_note: String,
    ns: Netns,
}

fn project_modules() -> PathBuf {
    if let Ok(p) = std::env::var("NE_YANG_DIR") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../yang/modules")
}

fn random_password() -> Result<String, String> {
    use std::io::Read;
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

fn chown(path: &Path, uid: &str, gid: &str) -> Result<(), String> {
    let (u, g) = (
        uid.parse::<u32>().map_err(|e| e.to_string())?,
        gid.parse::<u32>().map_err(|e| e.to_string())?,
    );
    std::os::unix::fs::chown(path, Some(u), Some(g)).map_err(|e| format!("chown {path:?}: {e}"))
}

fn stop_child(child: &mut Option<Child>) {
    if let Some(mut c) = child.take() {
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .stderr(Stdio::null())
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

impl Netconfd {
    /// User, directories, host key, sshd (started); netconfd is started by `start` and serves
    /// `standin.module` (the project's, or the stand-in if netconfd cannot load the project's
    /// modules).
    fn new(base: &Path, standin: &'static Standin) -> Result<Netconfd, String> {
        for bin in [
            "/usr/sbin/netconfd",
            "/usr/sbin/netconf-subsystem",
            "/usr/sbin/sshd",
        ] {
            if !Path::new(bin).exists() {
                return Err(format!(
                    "{bin} missing: apt-get install -y netconfd openssh-server (or use --no-baseline)"
                ));
            }
        }
        let ns = Netns::new("ncd")?;
        let dir = base.join("netconfd");
        let run_dir = dir.join("run");
        let home = dir.join("home");
        for d in [&dir, &run_dir, &home] {
            std::fs::create_dir_all(d).map_err(|e| e.to_string())?;
        }
        let mut nc = Netconfd {
            log: dir.join("netconfd.log"),
            dir: dir.clone(),
            run_dir: run_dir.clone(),
            uid: String::new(),
            gid: String::new(),
            password: random_password()?,
            user_made: false,
            run_sshd_made: false,
            sshd: None,
            netconfd: None,
            modpath: None,
            standin,
            yang_note: String::new(),
            ns,
        };
        // A user left by a killed earlier run goes first.
        if sh("id", &["-u", NC_USER]).is_ok() {
            sh("userdel", &[NC_USER])
                .map_err(|e| format!("a user {NC_USER} exists and cannot be removed: {e}"))?;
        }
        sh(
            "useradd",
            &[
                "-M",
                "-U",
                "-s",
                "/bin/sh",
                "-d",
                &home.to_string_lossy(),
                NC_USER,
            ],
        )?;
        nc.user_made = true;
        let mut chpasswd = Command::new("chpasswd")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("chpasswd: {e}"))?;
        {
            use std::io::Write;
            let mut stdin = chpasswd.stdin.take().ok_or("chpasswd stdin")?;
            writeln!(stdin, "{NC_USER}:{}", nc.password).map_err(|e| e.to_string())?;
        }
        if !chpasswd.wait().map_err(|e| e.to_string())?.success() {
            return Err("chpasswd failed".into());
        }
        nc.uid = sh("id", &["-u", NC_USER])?.trim().to_string();
        nc.gid = sh("id", &["-g", NC_USER])?.trim().to_string();
        chown(&home, &nc.uid, &nc.gid)?;
        chown(&run_dir, &nc.uid, &nc.gid)?;

        // sshd: own config, host key, loopback port of the namespace.
        if !Path::new("/run/sshd").exists() {
            std::fs::create_dir_all("/run/sshd").map_err(|e| e.to_string())?;
            nc.run_sshd_made = true;
        }
        let key = dir.join("ssh_host_ed25519_key");
        sh(
            "ssh-keygen",
            &[
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-f",
                &key.to_string_lossy(),
            ],
        )?;
        let sock = run_dir.join("ncxserver.sock");
        let cfg = dir.join("sshd_config");
        std::fs::write(
            &cfg,
            format!(
                "Port {NC_PORT}\nListenAddress 127.0.0.1\nHostKey {key}\nPidFile none\n\
                 UsePAM no\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\n\
                 PubkeyAuthentication no\nAuthorizedKeysFile none\nPermitRootLogin no\n\
                 AllowUsers {NC_USER}\nMaxStartups 200:30:400\nMaxSessions 10\nUseDNS no\n\
                 PrintMotd no\nLogLevel ERROR\n\
                 Subsystem netconf /usr/sbin/netconf-subsystem --ncxserver-sockname={NC_PORT}@{sock}\n",
                key = key.display(),
                sock = sock.display()
            ),
        )
        .map_err(|e| e.to_string())?;
        sh("/usr/sbin/sshd", &["-t", "-f", &cfg.to_string_lossy()])?;
        let sshd_log = std::fs::File::create(dir.join("sshd.log")).map_err(|e| e.to_string())?;
        nc.sshd = Some(
            Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &nc.ns.0,
                    "/usr/sbin/sshd",
                    "-D",
                    "-e",
                    "-f",
                ])
                .arg(&cfg)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(sshd_log)
                .spawn()
                .map_err(|e| format!("sshd: {e}"))?,
        );
        Ok(nc)
    }

    fn target(&self) -> Target {
        Target {
            ns: self.ns.0.clone(),
            port: NC_PORT,
            user: NC_USER.into(),
            password: self.password.clone(),
        }
    }

    fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn spawn(&mut self, target: &str, modpath: &Path) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| e.to_string())?;
        let sock = self.run_dir.join("ncxserver.sock");
        let _ = std::fs::remove_file(&sock);
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns.0, "setpriv"])
            .arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.gid))
            .args(["--clear-groups", "/usr/sbin/netconfd"])
            .arg(format!("--modpath={}", modpath.display()))
            .arg(format!("--module={}", self.standin.module))
            .arg(format!("--ncxserver-sockname={}", sock.display()))
            .arg(format!("--port={NC_PORT}"))
            .arg(format!("--target={target}"))
            .arg(format!(
                "--startup={}",
                self.run_dir.join("startup-cfg.xml").display()
            ))
            .arg("--access-control=off")
            .arg("--log-level=warn")
            .env("HOME", self.dir.join("home"))
            .env("USER", NC_USER)
            .env("LOGNAME", NC_USER)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("netconfd: {e}"))?;
        self.netconfd = Some(child);
        // Ready when the socket exists; a module it cannot load makes it exit.
        let end = Instant::now() + Duration::from_secs(180);
        loop {
            if sock.exists() {
                return Ok(());
            }
            let exited = self
                .netconfd
                .as_mut()
                .is_some_and(|c| !matches!(c.try_wait(), Ok(None)));
            if exited {
                self.netconfd = None;
                return Err(self
                    .log_tail(40)
                    .lines()
                    .filter(|l| l.contains("rror") || l.contains("failed"))
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" | "));
            }
            if Instant::now() > end {
                stop_child(&mut self.netconfd);
                return Err("netconfd did not open its socket within 180 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Start netconfd with `target` and `config` (XML inside `<config>`) as its startup.
    async fn start(&mut self, target: &str, config: &str) -> Result<(), String> {
        let startup = self.run_dir.join("startup-cfg.xml");
        std::fs::write(
            &startup,
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <config xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">{config}</config>\n"
            ),
        )
        .map_err(|e| e.to_string())?;
        chown(&startup, &self.uid, &self.gid)?;
        let modpath = match self.modpath.clone() {
            Some(m) => m,
            None => {
                let ours = project_modules();
                match self.spawn(target, &ours) {
                    Ok(()) => {
                        self.yang_note =
                            format!("the project's modules loaded from {}", ours.display());
                        self.modpath = Some(ours.clone());
                        ours
                    }
                    Err(why) => {
                        let min = self.dir.join("yang");
                        std::fs::create_dir_all(&min).map_err(|e| e.to_string())?;
                        let file = min.join(format!("{}.yang", self.standin.module));
                        std::fs::write(file, self.standin.yang).map_err(|e| e.to_string())?;
                        self.yang_note = format!(
                            "netconfd could not load the project's YANG 1.1 modules ({why}); \
                             using a minimal YANG 1.0 module {} with the same namespace and \
                             list shape ({})",
                            self.standin.module, self.standin.shape
                        );
                        self.modpath = Some(min.clone());
                        min
                    }
                }
            }
        };
        if self.netconfd.is_none() {
            self.spawn(target, &modpath)
                .map_err(|e| format!("netconfd did not start: {e}"))?;
        }
        let t = self.target();
        let nc = &mut self.netconfd;
        let sshd = &mut self.sshd;
        let mut alive = || {
            [&mut *nc, &mut *sshd]
                .into_iter()
                .all(|c| c.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None))))
        };
        wait_reachable(&t, Duration::from_secs(60), &mut alive).await
    }

    fn stop(&mut self) {
        stop_child(&mut self.netconfd);
    }
}

impl Drop for Netconfd {
    fn drop(&mut self) {
        stop_child(&mut self.netconfd);
        stop_child(&mut self.sshd);
        // Session children of sshd, if any are left: everything in our namespace is ours.
        if let Ok(pids) = sh("ip", &["netns", "pids", &self.ns.0]) {
            for p in pids.split_whitespace() {
                let _ = sh("kill", &["-9", p]);
            }
        }
        if self.user_made {
            let end = Instant::now() + Duration::from_secs(10);
            while sh("userdel", &[NC_USER]).is_err() && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(200));
            }
            if sh("id", &["-u", NC_USER]).is_ok() {
                eprintln!("netconf-bench: could not remove user {NC_USER}; run: userdel {NC_USER}");
            }
        }
        if self.run_sshd_made {
            let _ = std::fs::remove_dir("/run/sshd");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        // self.ns (the namespace) is deleted after this.
    }
}

// ---------------------------------------------------------------------------------------------
// `--ncclient`: the issue-14 workload through ncclient, against both servers.

mod ncclient {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};
    use std::time::Duration;

    use super::{sh, wait_reachable, Agent, Netconfd, Netns, Opts, Standin, Target};

    const MG_NS: &str = "urn:ne-agent:yang:ne-monitor-group";

    const MG_STANDIN: Standin = Standin {
        module: "ne-monitor-group",
        yang: MINIMAL_MG_YANG,
        shape: "monitor-groups/monitor-group: name key string 1..31, enabled default false; \
                no binding-interface list, which refers to ne-interfaces",
    };

    const MINIMAL_MG_YANG: &str = r#"module ne-monitor-group {
  namespace "urn:ne-agent:yang:ne-monitor-group";
  prefix mg;
  description
    "netconf-bench stand-in for ne-monitor-group (YANG 1.0): the same monitor-group list
     shape, config leaves only, without binding-interface (a leafref into ne-interfaces).";
  revision 2026-11-26 { description "Stand-in."; }
  container monitor-groups {
    list monitor-group {
      key "name";
      leaf name { type string { length "1..31"; } }
      leaf enabled { type boolean; default "false"; }
    }
  }
}
"#;

    /// Header of the column of netopeer2 2.4.5 figures published in issue 14 (not measured here).
    const NETOPEER2: &str = "netopeer2 2.4.5 (published)";

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// The figures one run of the script printed: a flat JSON object.
    #[derive(Default)]
    struct Figures(BTreeMap<String, Val>);

    enum Val {
        Num(f64),
        Str(String),
        Bool(bool),
    }

    impl Figures {
        fn num(&self, k: &str) -> f64 {
            match self.0.get(k) {
                Some(Val::Num(n)) => *n,
                _ => f64::NAN,
            }
        }
        fn yes(&self, k: &str) -> bool {
            matches!(self.0.get(k), Some(Val::Bool(true)))
        }
        fn text(&self, k: &str) -> String {
            match self.0.get(k) {
                Some(Val::Str(s)) => s.clone(),
                Some(Val::Num(n)) => format!("{n}"),
                Some(Val::Bool(b)) => format!("{b}"),
                None => String::new(),
            }
        }
        fn merge(&mut self, other: Figures) {
            self.0.extend(other.0);
        }
    }

    /// A JSON object of numbers, strings, booleans and nulls (what the script prints).
    fn parse_flat(s: &str) -> Result<Figures, String> {
        let b: Vec<char> = s.trim().chars().collect();
        let mut i = 0;
        let ws = |i: &mut usize| {
            while *i < b.len() && b[*i].is_whitespace() {
                *i += 1;
            }
        };
        let string = |i: &mut usize| -> Result<String, String> {
            if b.get(*i) != Some(&'"') {
                return Err(format!("expected a string at {i}"));
            }
            *i += 1;
            let mut out = String::new();
            while let Some(&c) = b.get(*i) {
                *i += 1;
                match c {
                    '"' => return Ok(out),
                    '\\' => {
                        let e = *b.get(*i).ok_or("escape at the end")?;
                        *i += 1;
                        out.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            'b' => '\u{8}',
                            'f' => '\u{c}',
                            'u' => {
                                let hex: String = b.iter().skip(*i).take(4).collect();
                                *i += 4;
                                u32::from_str_radix(&hex, 16)
                                    .ok()
                                    .and_then(char::from_u32)
                                    .unwrap_or('?')
                            }
                            other => other,
                        });
                    }
                    c => out.push(c),
                }
            }
            Err("unterminated string".into())
        };
        let mut f = Figures::default();
        ws(&mut i);
        if b.get(i) != Some(&'{') {
            return Err("not a JSON object".into());
        }
        i += 1;
        loop {
            ws(&mut i);
            match b.get(i) {
                Some('}') => return Ok(f),
                Some(',') => {
                    i += 1;
                    continue;
                }
                _ => {}
            }
            let key = string(&mut i)?;
            ws(&mut i);
            if b.get(i) != Some(&':') {
                return Err(format!("expected ':' after {key}"));
            }
            i += 1;
            ws(&mut i);
            let v = match b.get(i) {
                Some('"') => Some(Val::Str(string(&mut i)?)),
                Some(_) => {
                    let start = i;
                    while i < b.len() && !matches!(b[i], ',' | '}') && !b[i].is_whitespace() {
                        i += 1;
                    }
                    let word: String = b[start..i].iter().collect();
                    match word.as_str() {
                        "true" => Some(Val::Bool(true)),
                        "false" => Some(Val::Bool(false)),
                        "null" => None,
                        "NaN" => Some(Val::Num(f64::NAN)),
                        w => Some(Val::Num(
                            w.parse::<f64>().map_err(|e| format!("{key}: {w:?}: {e}"))?,
                        )),
                    }
                }
                None => return Err("object not closed".into()),
            };
            if let Some(v) = v {
                f.0.insert(key, v);
            }
        }
    }

    struct Script {
        python: PathBuf,
        path: PathBuf,
    }

    impl Script {
        fn find(o: &Opts) -> Result<Script, String> {
            let python = o
                .python
                .clone()
                .unwrap_or_else(|| repo().join(".venv/bin/python"));
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/ncclient_bench.py");
            let check = Command::new(&python)
                .args(["-c", "import ncclient; print(ncclient.__version__)"])
                .output();
            match check {
                Ok(out) if out.status.success() => {}
                _ => {
                    return Err(format!(
                        "{} cannot import ncclient: python3 -m venv .venv && \
                         .venv/bin/pip install -r tests/requirements.txt (or --python PATH)",
                        python.display()
                    ))
                }
            }
            if !path.exists() {
                return Err(format!("{} missing", path.display()));
            }
            Ok(Script { python, path })
        }

        /// Run the script in `t`'s namespace; its progress lines go to our stdout.
        fn run(
            &self,
            o: &Opts,
            t: &Target,
            phases: &str,
            budget_conc: bool,
        ) -> Result<Figures, String> {
            let mut cmd = Command::new("ip");
            cmd.args(["netns", "exec", &t.ns])
                .arg(&self.python)
                .arg(&self.path)
                .args(["--host", "127.0.0.1", "--port", &t.port.to_string()])
                .args(["--user", &t.user, "--phases", phases])
                .args(["--entries", &o.entries.to_string()])
                .args(["--sessions", &o.sessions.to_string()])
                .args(["--cycles", &o.cycles.to_string()])
                .args(["--procs", &o.procs.to_string()])
                .args(["--budget", &o.nc_budget.as_secs().to_string()])
                .env("NCB_PASSWORD", &t.password)
                .stdin(Stdio::null())
                .stderr(Stdio::from(std::io::stdout()));
            if budget_conc {
                cmd.arg("--budget-conc");
            }
            use std::io::Write;
            let _ = std::io::stdout().flush();
            let out = cmd
                .output()
                .map_err(|e| format!("{}: {e}", self.path.display()))?;
            let stdout = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() {
                return Err(format!(
                    "ncclient_bench.py ({phases}) failed: {}; stdout: {}",
                    out.status,
                    stdout.trim()
                ));
            }
            let last = stdout.lines().rev().find(|l| !l.trim().is_empty());
            parse_flat(last.unwrap_or_default()).map_err(|e| format!("script output: {e}"))
        }
    }

    fn entries_xml(n: usize) -> String {
        let mut x = format!("<monitor-groups xmlns=\"{MG_NS}\">");
        for i in 0..n {
            x.push_str(&format!(
                "<monitor-group><name>mg{i}</name></monitor-group>"
            ));
        }
        x.push_str("</monitor-groups>");
        x
    }

    /// The commit the binary's source is at, and what is changed under agent/ (at run time).
    fn source_state() -> String {
        let dir = repo();
        let dir = dir.to_string_lossy();
        let head = sh("git", &["-C", &dir, "rev-parse", "--short", "HEAD"])
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "?".into());
        let status = sh("git", &["-C", &dir, "status", "--short", "agent/"]).unwrap_or_default();
        let files: Vec<&str> = status.lines().collect();
        if files.is_empty() {
            format!("{head}, agent/ clean")
        } else {
            format!(
                "{head} + {} changed file(s) under agent/: {}",
                files.len(),
                files
                    .iter()
                    .map(|l| l.trim())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }

    pub async fn run(o: &Opts, dir: &Path) -> Result<(), String> {
        let script = Script::find(o)?;
        println!(
            "netconf-bench --ncclient: the issue-14 workload through ncclient ({}), {} entries \
             (monitor groups), {} sessions x {} edits; source tree at run time: {}",
            script.path.display(),
            o.entries,
            o.sessions,
            o.cycles,
            source_state()
        );
        println!("== ne-agent ==");
        let ours = {
            let ns = Netns::new("ncb")?;
            let mut agent = Agent::new(&ns.0, dir, "agent")?;
            agent.start()?;
            let t = Target {
                ns: ns.0.clone(),
                port: 8300,
                user: "admin".into(),
                password: "lab".into(),
            };
            let ready = wait_reachable(&t, Duration::from_secs(60), &mut || agent.running()).await;
            let r = ready.and_then(|()| script.run(o, &t, "seq,conc", false));
            agent.stop();
            r.map_err(|e| format!("{e}; agent log:\n{}", agent.log_tail(20)))?
        };
        let version = sh("dpkg-query", &["-W", "-f", "${Version}", "netconfd"]).unwrap_or_default();
        println!();
        println!("== yuma123 netconfd {version} (behind OpenSSH sshd + netconf-subsystem) ==");
        let theirs = {
            let mut nc = Netconfd::new(dir, &MG_STANDIN)?;
            let r = async {
                nc.start("candidate", "").await?;
                println!("YANG: {}", nc.yang_note);
                let mut f = script.run(o, &nc.target(), "seq", true)?;
                // One edit target: restart on running, with the entries in its startup file.
                nc.stop();
                nc.start("running", &entries_xml(o.entries)).await?;
                println!(
                    "(netconfd restarted with --target=running and the {} entries at startup)",
                    o.entries
                );
                f.merge(script.run(o, &nc.target(), "conc", true)?);
                Ok::<Figures, String>(f)
            }
            .await;
            if r.is_err() {
                eprintln!("netconfd log tail:\n{}", nc.log_tail(20));
            }
            drop(nc);
            r?
        };
        println!();
        print_table(o, &ours, &theirs, &version);
        Ok(())
    }

    fn msf(v: f64) -> String {
        match v {
            v if v.is_nan() => "-".into(),
            v if v >= 10_000.0 => format!("{:.1} s", v / 1e3),
            v if v >= 100.0 => format!("{v:.0} ms"),
            v if v >= 10.0 => format!("{v:.1} ms"),
            v => format!("{v:.2} ms"),
        }
    }

    fn ratio(a: f64, b: f64) -> String {
        let r = a / b;
        match r {
            r if r.is_nan() => "-".into(),
            r if r >= 100.0 => format!("{r:.0}"),
            r if r >= 10.0 => format!("{r:.1}"),
            r if r >= 0.1 => format!("{r:.2}"),
            r if r >= 0.01 => format!("{r:.3}"),
            r => format!("{r:.4}"),
        }
    }

    fn meets(ok: bool) -> &'static str {
        if ok {
            "meets"
        } else {
            "misses"
        }
    }

    /// " (n of N, capped)" when a phase stopped at the budget.
    fn done(f: &Figures, prefix: &str) -> String {
        let n = f.num(&format!("{prefix}_n"));
        if f.yes(&format!("{prefix}_capped")) {
            format!(
                " ({n} of {}, capped)",
                f.num(&format!("{prefix}_requested"))
            )
        } else {
            format!(" (n={n})")
        }
    }

    fn print_table(o: &Opts, ours: &Figures, theirs: &Figures, version: &str) {
        let e = o.entries;
        let mut rows: Vec<[String; 6]> = vec![[
            "number".into(),
            "ne-agent".into(),
            format!("netconfd {version}"),
            "ne-agent / netconfd".into(),
            "goal (ne-agent)".into(),
            NETOPEER2.into(),
        ]];
        let mut row = |name: String, a: String, b: String, r: String, goal: String, np: &str| {
            rows.push([name, a, b, r, goal, np.into()]);
        };
        let p50 = |f: &Figures, p: &str| f.num(&format!("{p}_p50_ms"));
        let cell = |f: &Figures, p: &str| format!("{}{}", msf(p50(f, p)), done(f, p));
        let timed = |p: &str| ratio(p50(ours, p), p50(theirs, p));
        let goal_ms =
            |p: &str, limit: f64| format!("<= {} ms: {}", limit, meets(p50(ours, p) <= limit));
        row(
            "1 session setup, TCP connect to first get-config reply (median)".into(),
            cell(ours, "setup"),
            cell(theirs, "setup"),
            timed("setup"),
            goal_ms("setup", 30.0),
            "63 ms",
        );
        row(
            "2 one-entry edit-config (candidate) + commit, empty datastore (median)".into(),
            cell(ours, "edit0"),
            cell(theirs, "edit0"),
            timed("edit0"),
            String::new(),
            "4.5 ms",
        );
        row(
            format!("3 {e} monitor groups in one edit-config + commit (median)"),
            cell(ours, "load"),
            cell(theirs, "load"),
            timed("load"),
            format!("<= 0.15 s: {}", meets(p50(ours, "load") <= 150.0)),
            "0.17 s",
        );
        row(
            format!("4 get-config of {e} entries (median)"),
            format!(
                "{}{}, {:.2} MB",
                msf(p50(ours, "get")),
                done(ours, "get"),
                ours.num("get_bytes") / 1e6
            ),
            format!(
                "{}{}, {:.2} MB",
                msf(p50(theirs, "get")),
                done(theirs, "get"),
                theirs.num("get_bytes") / 1e6
            ),
            timed("get"),
            goal_ms("get", 12.0),
            "14 ms",
        );
        row(
            format!("5 one-entry edit-config (candidate) + commit at {e} entries (median)"),
            cell(ours, "edit10k"),
            cell(theirs, "edit10k"),
            timed("edit10k"),
            goal_ms("edit10k", 5.0),
            "66 ms",
        );
        row(
            "6 growth (5) / (2)".into(),
            format!("{:.2}x", ours.num("growth")),
            format!("{:.1}x", theirs.num("growth")),
            ratio(ours.num("growth"), theirs.num("growth")),
            format!("<= 1.3x: {}", meets(ours.num("growth") <= 1.3)),
            "14.8x",
        );
        let b2b = |f: &Figures| {
            format!(
                "{:.2}: {} per RPC, alone {} (max {}; {:.2} MB)",
                f.num("b2b_ratio"),
                msf(f.num("b2b_per_rpc_ms")),
                msf(f.num("b2b_alone_p50_ms")),
                msf(f.num("b2b_max_ms")),
                f.num("b2b_bytes") / 1e6
            )
        };
        row(
            "7 100 back-to-back get-config of them: time per RPC / one RPC alone (median of 20)"
                .into(),
            b2b(ours),
            b2b(theirs),
            ratio(ours.num("b2b_ratio"), theirs.num("b2b_ratio")),
            format!("<= 1.2: {}", meets(ours.num("b2b_ratio") <= 1.2)),
            "",
        );
        let conc = |f: &Figures| {
            let capped = if f.yes("conc_capped") {
                format!(
                    ", capped: {} of {} in the {} s budget",
                    f.num("conc_n"),
                    f.num("conc_requested"),
                    o.nc_budget.as_secs()
                )
            } else {
                String::new()
            };
            let errors = if f.num("conc_errors") > 0.0 {
                format!(", {} errors", f.num("conc_errors"))
            } else {
                String::new()
            };
            format!(
                "{:.0} commits/s; p50 {}, p99 {}{capped}{errors}",
                f.num("conc_rate"),
                msf(p50(f, "conc")),
                msf(f.num("conc_p99_ms")),
            )
        };
        row(
            format!(
                "8 {} sessions x {} edit-config (running) each, at {e} entries",
                o.sessions, o.cycles
            ),
            conc(ours),
            conc(theirs),
            format!(
                "commits/s {}; p99 {}",
                ratio(ours.num("conc_rate"), theirs.num("conc_rate")),
                ratio(ours.num("conc_p99_ms"), theirs.num("conc_p99_ms"))
            ),
            format!(
                ">= 1,500 commits/s, p99 <= 100 ms: {}",
                meets(ours.num("conc_rate") >= 1500.0 && ours.num("conc_p99_ms") <= 100.0)
            ),
            "",
        );
        let widths: Vec<usize> = (0..6)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        for (i, r) in rows.iter().enumerate() {
            let cells: Vec<String> = r
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            println!("| {} |", cells.join(" | "));
            if i == 0 {
                let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
                println!("|-{}-|", rule.join("-|-"));
            }
        }
        println!();
        println!(
            "ratio < 1: ne-agent takes less time (for commits/s: > 1, ne-agent commits more). \
             Client: ncclient {} with ncclient.transport.session.TICK = {} (was {}: its send \
             poll, or every RPC waits up to 0.1 s in the client); every figure includes \
             ncclient's and paramiko's own work. Client CPU: sequential phases ne-agent {} s, \
             netconfd {} s; concurrent phase ne-agent {} s, netconfd {} s ({} client processes; \
             the {} sessions idle, before the phase, took {} % / {} % of a core).",
            ours.text("ncclient"),
            ours.text("tick_s"),
            ours.text("tick_was_s"),
            ours.text("seq_client_cpu_s"),
            theirs.text("seq_client_cpu_s"),
            ours.text("conc_client_cpu_s"),
            theirs.text("conc_client_cpu_s"),
            ours.text("conc_procs"),
            o.sessions,
            ours.text("conc_idle_cpu_pct"),
            theirs.text("conc_idle_cpu_pct"),
        );
        let cpu = |f: &Figures| {
            [
                ("setup", 1),
                ("edit0", 2),
                ("load", 3),
                ("get", 4),
                ("edit10k", 5),
                ("b2b", 7),
            ]
            .iter()
            .map(|(p, i)| format!("({i}) {}", msf(f.num(&format!("{p}_client_cpu_ms")))))
            .collect::<Vec<_>>()
            .join(", ")
        };
        println!(
            "client CPU per operation (ncclient + paramiko, whole client process): ne-agent {}; \
             netconfd {}",
            cpu(ours),
            cpu(theirs)
        );
        println!(
            "phase 3 runs: ne-agent {} ms; netconfd {} ms",
            ours.text("load_runs_ms"),
            theirs.text("load_runs_ms")
        );
        for (who, f) in [("ne-agent", ours), ("netconfd", theirs)] {
            let first = f.text("conc_first_error");
            if !first.is_empty() {
                println!("{who}: first error of phase 8: {first}");
            }
        }
    }
}
