//! Crash consistency, for real: a process commits in a loop and is killed with SIGKILL at random
//! moments; after each kill the sled files must open cleanly and running must hold the last
//! acknowledged commit (or the one in flight when the kill came), never a mix of two commits and
//! never an older one.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datastore::{Datastore, Target};

const KILLS: usize = 200;

/// Small deterministic PRNG (xorshift), seeded from the clock; the seed is printed.
struct Rng(u64);

/// A fresh directory, the models and a PRNG seeded from the clock (the seed is printed).
fn setup(tag: &str, label: &str) -> (std::path::PathBuf, Arc<yang::Schema>, Rng) {
    let dir = std::env::temp_dir().join(format!("{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let schema = Arc::new(yang::SchemaBuilder::new().embedded().build().unwrap());
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("{label} seed {seed}");
    (dir, schema, Rng(seed))
}

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn descriptions(ds: &Datastore) -> Vec<u64> {
    let running = ds.get(Target::Running).unwrap_or_default();
    let xml = yang::data::encode(ds.schema(), &running, Default::default());
    xml.split("<description>")
        .skip(1)
        .filter_map(|s| s.split('<').next()?.parse().ok())
        .collect()
}

#[test]
fn kill_9_during_commits_never_loses_or_mixes_acknowledged_commits() {
    kill_rounds("ne-crash", KILLS, None, Duration::from_secs(20));
}

/// The same with 100,000 monitor groups in running besides the two interfaces (issue 14 item
/// 5): every restart loads them, and after every kill all of them are there. Slow in a debug
/// build (each restart loads the 100,000): run it on its own, in release,
/// `cargo nextest run --release -p ne-lab --test crash --run-ignored only`
/// (`NE_CRASH_KILLS` kills, 10 by default).
#[test]
#[ignore]
fn kill_9_during_commits_at_100000_monitor_groups() {
    let kills = std::env::var("NE_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(10);
    kill_rounds(
        "ne-crash-100k",
        kills,
        Some(100_000),
        Duration::from_secs(600),
    );
}

/// Monitor groups in running.
fn groups(ds: &Datastore) -> usize {
    let running = ds.get(Target::Running).unwrap_or_default();
    running
        .find(ds.schema(), "/mg:monitor-groups")
        .map_or(0, |c| c.children.len())
}

/// `kills` rounds of: start the committer (with `groups` monitor groups preloaded), wait up to
/// `first` for its first acknowledged commit, kill it at a random moment, check the datastore.
fn kill_rounds(tag: &str, kills: usize, groups_wanted: Option<usize>, first_ack: Duration) {
    let (dir, schema, mut rng) = setup(tag, "crash test");
    // The preload is one commit more than the counter counts.
    let offset = u64::from(groups_wanted.is_some());
    let mut last_ack = 0u64;
    let mut total_acks = 0u64;
    let started = Instant::now();
    for round in 0..kills {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash-committer"))
            .arg(&dir)
            .args(
                groups_wanted
                    .map(|g| vec!["--groups".to_string(), g.to_string()])
                    .unwrap_or_default(),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn crash-committer");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(n) = line
                    .strip_prefix("ack ")
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    let _ = tx.send(n);
                }
            }
        });
        // Wait for the first ack of this round (bounded), then kill at a random moment.
        let first = rx.recv_timeout(first_ack);
        assert!(
            first.is_ok(),
            "round {round}: no commit acknowledged within {first_ack:?}"
        );
        std::thread::sleep(Duration::from_micros(rng.next() % 30_000));
        child.kill().expect("SIGKILL");
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "round {round}: the committer exited on its own"
        );
        reader.join().unwrap();
        let acks: Vec<u64> = std::iter::once(first.unwrap())
            .chain(rx.try_iter())
            .collect();
        assert!(
            acks.windows(2).all(|w| w[1] == w[0] + 1),
            "acks out of order: {acks:?}"
        );
        assert!(
            acks[0] == last_ack + 1 || round == 0,
            "round {round}: resumed at {} after {last_ack}",
            acks[0]
        );
        let acked = *acks.last().unwrap();
        total_acks += acks.len() as u64;

        let (ds, _) = Datastore::open(&dir, Arc::clone(&schema))
            .unwrap_or_else(|e| panic!("round {round}: the sled files do not open: {e}"));
        let d = descriptions(&ds);
        assert_eq!(
            d.len(),
            2,
            "round {round}: running lost an interface: {d:?}"
        );
        assert_eq!(
            d[0], d[1],
            "round {round}: running mixes two commits: {d:?}"
        );
        assert!(
            d[0] == acked || d[0] == acked + 1,
            "round {round}: running holds {} but commit {acked} was acknowledged",
            d[0]
        );
        assert_eq!(
            ds.generation(),
            d[0] + offset,
            "round {round}: generation and content disagree"
        );
        if let Some(g) = groups_wanted {
            assert_eq!(groups(&ds), g, "round {round}: monitor groups lost");
        }
        last_ack = d[0];
    }
    eprintln!(
        "{kills} kills, {total_acks} acknowledged commits, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writer `w`'s two values in running (`wNa`, `wNb`).
fn writer_values(ds: &Datastore, w: u32) -> (Option<u64>, Option<u64>) {
    let running = ds.get(Target::Running).unwrap_or_default();
    let xml = yang::data::encode(ds.schema(), &running, Default::default());
    let value = |suffix: &str| {
        let anchor = format!("<name>w{w}{suffix}</name><description>");
        xml.split(anchor.as_str())
            .nth(1)
            .and_then(|s| s.split('<').next())
            .and_then(|v| v.parse().ok())
    };
    (value("a"), value("b"))
}

/// The same under concurrent load (issue 14): 8 writers commit at once, sharing flushes; after
/// each kill every writer's last acknowledged commit is there (or its next one, in flight when
/// the kill came) and none is half-applied.
#[test]
fn kill_9_during_concurrent_commits_keeps_every_acknowledged_commit() {
    const WRITERS: u32 = 8;
    const ROUNDS: usize = 40;
    let (dir, schema, mut rng) = setup("ne-crash-conc", "concurrent crash test");
    let mut total_acks = 0u64;
    let mut last = [0u64; WRITERS as usize];
    for round in 0..ROUNDS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash-committer"))
            .arg(&dir)
            .args(["--writers", &WRITERS.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn crash-committer");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let mut f = line.split_whitespace();
                if let (Some("ack"), Some(w), Some(n)) = (f.next(), f.next(), f.next()) {
                    if let (Ok(w), Ok(n)) = (w.parse::<u32>(), n.parse::<u64>()) {
                        let _ = tx.send((w, n));
                    }
                }
            }
        });
        let first = rx.recv_timeout(Duration::from_secs(20));
        assert!(first.is_ok(), "round {round}: nothing acknowledged in 20 s");
        std::thread::sleep(Duration::from_micros(rng.next() % 50_000));
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        reader.join().unwrap();
        let mut acked = [0u64; WRITERS as usize];
        for (w, n) in std::iter::once(first.unwrap()).chain(rx.try_iter()) {
            acked[w as usize] = acked[w as usize].max(n);
            total_acks += 1;
        }
        let (ds, _) = Datastore::open(&dir, Arc::clone(&schema))
            .unwrap_or_else(|e| panic!("round {round}: the sled files do not open: {e}"));
        for w in 0..WRITERS {
            let (a, b) = writer_values(&ds, w);
            assert_eq!(a, b, "round {round}: writer {w}'s commit is half-applied");
            let v = a.unwrap_or(0);
            let want = acked[w as usize];
            assert!(
                want == 0 || v == want || v == want + 1,
                "round {round}: writer {w} holds {v} but commit {want} was acknowledged"
            );
            assert!(
                v >= last[w as usize],
                "round {round}: writer {w} went back from {} to {v}",
                last[w as usize]
            );
            last[w as usize] = v;
        }
    }
    eprintln!("{ROUNDS} kills under {WRITERS} writers, {total_acks} acknowledged commits");
    let _ = std::fs::remove_dir_all(&dir);
}
