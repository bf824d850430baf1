//! Datastore benchmark: server-side cost of a one-entry commit at 100 and 10,000 entries,
//! 10,000 sequential one-entry commits, and resident memory with 10,000 entries.
//!
//! Run: `cargo run --release -p ne-lab --bin datastore-bench [-- DIR]` (DIR: where the sled
//! files go; default a fresh folder under the system temp dir).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datastore::{CommitMeta, Datastore};
use yang::data::EditOp;
use yang::SchemaBuilder;

const BFD: &str = r#"xmlns="urn:ne-agent:yang:ne-bfd""#;

fn session(i: usize, tx: u32) -> String {
    format!(
        "<session><name>s{i}</name><peer-ip>10.{}.{}.{}</peer-ip><local-discriminator>{}</local-discriminator><min-tx-interval>{tx}</min-tx-interval></session>",
        i / 65536,
        (i / 256) % 256,
        i % 256,
        i + 1
    )
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn meta() -> CommitMeta {
    CommitMeta {
        user: "bench".into(),
        session: 1,
        comment: None,
    }
}

fn edit(ds: &Datastore, xml: &str) {
    let els = yang::xml::parse_fragment(xml).unwrap();
    ds.edit_candidate(1, &els, EditOp::Merge).unwrap();
}

/// Timings of one-entry changes: the edit-config on the candidate and the commit.
#[derive(Default)]
struct Samples {
    edit: Vec<Duration>,
    commit: Vec<Duration>,
}

impl Samples {
    fn median(v: &mut [Duration]) -> Duration {
        v.sort();
        v[v.len() / 2]
    }
    fn p99(v: &mut [Duration]) -> Duration {
        v.sort();
        v[(v.len() * 99 / 100).min(v.len() - 1)]
    }
}

/// Change one entry (`round` picks which) and commit it, timing both steps.
fn one_entry_commit(ds: &Datastore, entries: usize, round: usize, out: &mut Samples) {
    let i = (round * 7919) % entries;
    let xml = format!("<bfd {BFD}>{}</bfd>", session(i, 11 + round as u32 % 1000));
    let els = yang::xml::parse_fragment(&xml).unwrap();
    let t = Instant::now();
    ds.edit_candidate(1, &els, EditOp::Merge).unwrap();
    out.edit.push(t.elapsed());
    let t = Instant::now();
    ds.commit(&meta(), &mut []).unwrap();
    out.commit.push(t.elapsed());
}

/// Median commit time of `runs` one-entry commits.
fn one_entry_commits(ds: &Datastore, entries: usize, runs: usize) -> Duration {
    let mut s = Samples::default();
    for r in 0..runs {
        one_entry_commit(ds, entries, r, &mut s);
    }
    Samples::median(&mut s.commit)
}

fn populate(ds: &Datastore, n: usize) {
    let all: String = (0..n).map(|i| session(i, 10)).collect();
    edit(ds, &format!("<bfd {BFD}>{all}</bfd>"));
    ds.commit(&meta(), &mut []).unwrap();
}

fn main() {
    // Child mode: open a datastore and report the resident size of an agent holding it.
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 3 && args[1] == "--rss" {
        let schema = Arc::new(SchemaBuilder::new().embedded().build().unwrap());
        let (ds, _) = Datastore::open(std::path::Path::new(&args[2]), schema).unwrap();
        let n = ds.get(datastore::Target::Running).unwrap().count();
        println!("{} {n}", rss_kib());
        return;
    }
    // Profiling mode: only one-entry commits against 10,000 entries.
    if args.len() == 3 && args[1] == "--profile-commit" {
        let schema = Arc::new(SchemaBuilder::new().embedded().build().unwrap());
        let (ds, _) = Datastore::open(std::path::Path::new(&args[2]), schema).unwrap();
        populate(&ds, 10_000);
        let t = one_entry_commits(&ds, 10_000, 3000);
        println!("median {:.3} ms", t.as_secs_f64() * 1000.0);
        return;
    }
    let base = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("ds-bench-{}", std::process::id())));
    let schema = Arc::new(SchemaBuilder::new().embedded().build().unwrap());
    let rss_before = rss_kib();

    let small_dir = base.join("small");
    let (small, _) = Datastore::open(&small_dir, Arc::clone(&schema)).unwrap();
    populate(&small, 100);
    let big_dir = base.join("big");
    let (big, _) = Datastore::open(&big_dir, Arc::clone(&schema)).unwrap();
    let t = Instant::now();
    populate(&big, 10_000);
    let t_populate = t.elapsed();
    // Alternate between the two datastores so both see the same disk and cache conditions
    // (the flush dominates and drifts over a run).
    const RUNS: usize = 1000;
    let (mut s100, mut s10k) = (Samples::default(), Samples::default());
    for r in 0..RUNS {
        one_entry_commit(&small, 100, r, &mut s100);
        one_entry_commit(&big, 10_000, r, &mut s10k);
    }
    drop(big);
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--rss")
        .arg(&big_dir)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&child.stdout);
    let mut it = out.split_whitespace();
    let rss: u64 = it.next().and_then(|v| v.parse().ok()).unwrap_or(0);
    let nodes: u64 = it.next().and_then(|v| v.parse().ok()).unwrap_or(0);

    // 10,000 sequential one-entry commits (each adds a new entry), edit + commit each.
    let seq_dir = base.join("seq");
    let (seq, _) = Datastore::open(&seq_dir, Arc::clone(&schema)).unwrap();
    let t = Instant::now();
    for i in 0..10_000 {
        edit(&seq, &format!("<bfd {BFD}>{}</bfd>", session(i, 10)));
        seq.commit(&meta(), &mut []).unwrap();
    }
    let t_seq = t.elapsed();

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "datastore-bench (sled files in {}, flushed per commit)",
        base.display()
    );
    let (c100, c10k) = (
        Samples::median(&mut s100.commit),
        Samples::median(&mut s10k.commit),
    );
    let (e100, e10k) = (
        Samples::median(&mut s100.edit),
        Samples::median(&mut s10k.edit),
    );
    println!("one-entry change, {RUNS} rounds alternating between the two datastores:");
    println!(
        "  commit, 100 entries      median {:>7.3} ms  p99 {:>7.3} ms",
        ms(c100),
        ms(Samples::p99(&mut s100.commit))
    );
    println!(
        "  commit, 10,000 entries   median {:>7.3} ms  p99 {:>7.3} ms  (goal < 2 ms; sysrepo ~23 ms)  ratio to 100 entries {:.2}x (goal < 2x)",
        ms(c10k),
        ms(Samples::p99(&mut s10k.commit)),
        ms(c10k) / ms(c100)
    );
    println!(
        "  edit-config, 100 / 10,000 entries  median {:.3} / {:.3} ms  ratio {:.2}x;  edit + commit ratio {:.2}x",
        ms(e100),
        ms(e10k),
        ms(e10k) / ms(e100),
        ms(e10k + c10k) / ms(e100 + c100)
    );
    println!(
        "10,000 sequential one-entry commits (edit+commit)    {:>8.2} s   (goal < 20 s; netopeer2 published 452 s)",
        t_seq.as_secs_f64()
    );
    println!(
        "initial commit of 10,000 entries                     {:>8.1} ms",
        ms(t_populate)
    );
    println!(
        "resident memory, process holding 10,000 entries      {:>8.1} MiB (goal < 100 MiB; {nodes} data nodes; this process at start {:.1} MiB)",
        rss as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );
    drop((small, seq));
    let _ = std::fs::remove_dir_all(&base);
}
