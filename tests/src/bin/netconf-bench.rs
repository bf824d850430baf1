//! `netconf-bench`: the NETCONF server measured with the project's own client (SSH, base:1.1
//! framing), against an agent started in its own network namespace.
//!
//! - session setup: TCP connect to the first rpc-reply, sequential;
//! - `<get-config>` of the whole running datastore holding N list entries;
//! - one-entry edit-config (candidate) + commit at N entries, sequential;
//! - C concurrent sessions each doing K edit+commit cycles on running.
//!
//! `cargo build --release -p agent -p ne-lab && sudo target/release/netconf-bench
//! [--entries 10000] [--sessions 50] [--cycles 200]` (root: it creates a namespace).

use std::sync::Arc;
use std::time::{Duration, Instant};

use ne_lab::lab::{unavailable, Agent, Netns};
use ne_lab::netconf::{ok, Client};

const IF_NS: &str = "urn:ne-agent:yang:ne-interfaces";

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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if let Err(e) = rt.block_on(run(
        flag("--entries", 10_000),
        flag("--sessions", 50),
        flag("--cycles", 200),
    )) {
        eprintln!("netconf-bench: {e}");
        std::process::exit(1);
    }
}

async fn connect(ns: &str) -> Result<Client, String> {
    let ns = ns.to_string();
    let std_stream = tokio::task::spawn_blocking(move || {
        dataplane::netns::run_in(&ns, || std::net::TcpStream::connect("127.0.0.1:8300"))
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
    Client::connect(tcp, "admin", "lab")
        .await
        .map_err(|e| e.to_string())
}

fn stats(v: &mut [f64]) -> String {
    v.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| v[((q / 100.0) * (v.len() as f64 - 1.0)).round() as usize];
    format!(
        "p50 {:7.2} ms  p99 {:7.2} ms  max {:7.2} ms",
        p(50.0),
        p(99.0),
        p(100.0)
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

async fn run(entries: usize, sessions: usize, cycles: usize) -> Result<(), String> {
    let ns = Netns::new("ncb")?;
    let dir = std::env::temp_dir().join(format!("ne-netconf-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut agent = Agent::new(&ns.0, &dir, "agent")?;
    agent.start()?;
    // Wait until it listens.
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        match connect(&ns.0).await {
            Ok(c) => {
                c.close().await.map_err(|e| e.to_string())?;
                break;
            }
            Err(e) if Instant::now() > end => return Err(format!("agent not reachable: {e}")),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }

    // Session setup, sequential.
    let mut setup = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let mut c = connect(&ns.0).await?;
        let r = c
            .rpc(&format!(
                "<get-config><source><running/></source><filter type=\"subtree\"><interfaces xmlns=\"{IF_NS}\"><interface><name>none</name></interface></interfaces></filter></get-config>"
            ))
            .await
            .map_err(|e| e.to_string())?;
        setup.push(ms(t.elapsed()));
        ok(&r).map_err(|e| e.to_string())?;
        c.close().await.map_err(|e| e.to_string())?;
    }
    println!(
        "session setup (TCP connect to first rpc-reply), 50 sessions: {}",
        stats(&mut setup)
    );

    // Load N entries in one edit + commit.
    let mut c = connect(&ns.0).await?;
    let t = Instant::now();
    ok(&c
        .rpc(&format!(
            "<edit-config><target><candidate/></target><config>{}</config></edit-config>",
            entries_xml(entries)
        ))
        .await
        .map_err(|e| e.to_string())?)
    .map_err(|e| e.to_string())?;
    ok(&c.rpc("<commit/>").await.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    println!(
        "{entries} entries in one edit-config + commit: {:.0} ms",
        ms(t.elapsed())
    );

    // get-config of everything.
    let mut get = Vec::new();
    let mut size = 0;
    for _ in 0..20 {
        let t = Instant::now();
        let r = c
            .rpc("<get-config><source><running/></source></get-config>")
            .await
            .map_err(|e| e.to_string())?;
        get.push(ms(t.elapsed()));
        size = r.len();
    }
    println!(
        "get-config of {entries} entries ({:.1} MB reply), 20 runs: {}",
        size as f64 / 1e6,
        stats(&mut get)
    );

    // One-entry edit + commit, sequential.
    let mut edit = Vec::new();
    for i in 0..cycles {
        let t = Instant::now();
        let r = c
            .rpc(&format!(
                "<edit-config><target><candidate/></target>{}</edit-config>",
                one_edit(&format!("bench{}", i % entries.max(1)), i)
            ))
            .await
            .map_err(|e| e.to_string())?;
        ok(&r).map_err(|e| e.to_string())?;
        ok(&c.rpc("<commit/>").await.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        edit.push(ms(t.elapsed()));
    }
    println!(
        "one-entry edit-config + commit at {entries} entries, {cycles} cycles: {}",
        stats(&mut edit)
    );
    c.close().await.map_err(|e| e.to_string())?;

    // Concurrent sessions.
    let ns_name = Arc::new(ns.0.clone());
    let t = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..sessions {
        let ns_name = Arc::clone(&ns_name);
        tasks.push(tokio::spawn(async move {
            let mut c = connect(&ns_name).await?;
            let mut lat = Vec::with_capacity(cycles);
            for i in 0..cycles {
                let t = Instant::now();
                let r = c
                    .rpc(&format!(
                        "<edit-config><target><running/></target>{}</edit-config>",
                        one_edit(&format!("conc{s}"), i)
                    ))
                    .await
                    .map_err(|e| e.to_string())?;
                ok(&r).map_err(|e| e.to_string())?;
                lat.push(ms(t.elapsed()));
            }
            c.close().await.map_err(|e| e.to_string())?;
            Ok::<Vec<f64>, String>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())??);
    }
    let el = t.elapsed().as_secs_f64();
    println!(
        "{sessions} concurrent sessions x {cycles} edit-config (running) each: {:.0} commits/s; per commit {}",
        all.len() as f64 / el,
        stats(&mut all)
    );
    agent.stop();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
