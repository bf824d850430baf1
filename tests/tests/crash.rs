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

/// The same under concurrent load (issue 14 item 6): 50 writers commit at once, sharing
/// flushes; after each kill every writer's last acknowledged commit is there (or its next one,
/// in flight when the kill came) and none is half-applied.
#[test]
fn kill_9_during_concurrent_commits_keeps_every_acknowledged_commit() {
    const WRITERS: u32 = 50;
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

/// The agent itself under the load of issue 14 item 6: 50 NETCONF sessions (SSH, the project's
/// client) each committing edit-config on running as fast as replies come, so that commits
/// share flushes; the agent is killed with SIGKILL at a random moment, its datastore opened
/// and checked, and the agent started again on it, `NE_CRASH_AGENT_ROUNDS` times (3 by
/// default). Session `w` sets the description of interfaces `wNa` and `wNb` (two chunks) to
/// its counter in each commit. After each kill:
/// - every session's last acknowledged commit is there, or its next one (in flight when the
///   kill came; a session has at most one), and never less than before;
/// - no commit is half-applied (`wNa` and `wNb` agree);
/// - the commit count (the generation) grew by exactly the commits found (none lost between
///   them, none counted twice);
/// - the commit log lists each session's commits in the order the session made them, ending
///   at the value running holds (commit order = history order).
#[test]
fn kill_9_of_the_agent_under_50_netconf_sessions_keeps_every_acknowledged_commit() {
    use ne_lab::lab::{require, Agent, Netns};
    use ne_lab::netconf::Blocking;
    use std::sync::atomic::{AtomicU64, Ordering};

    const SESSIONS: u32 = 50;
    if !require() {
        return;
    }
    let rounds: usize = std::env::var("NE_CRASH_AGENT_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let (dir, schema, mut rng) = setup("ne-crash-agent", "agent crash test");
    std::fs::create_dir_all(&dir).unwrap();
    let ns = Netns::new("crash").expect("namespace");
    let mut agent = Agent::new(&ns.0, &dir, "a").expect("agent");
    let store_dir = agent.data_dir.join("store");
    let mut last = vec![0u64; SESSIONS as usize];
    // generation - (sum of the sessions' values): the agent's own commits; constant after the
    // first round.
    let mut offset: Option<u64> = None;
    let mut total_acks = 0u64;
    for round in 0..rounds {
        agent.start().expect("start the agent");
        // Wait until it serves, then open every session before any of them commits.
        drop(agent.connect().expect("the agent serves NETCONF"));
        let acked: Arc<Vec<AtomicU64>> =
            Arc::new((0..SESSIONS).map(|_| AtomicU64::new(0)).collect());
        let barrier = Arc::new(std::sync::Barrier::new(SESSIONS as usize + 1));
        // One login at a time: the agent drops connections beyond 16 not yet logged in.
        let gate = Arc::new(std::sync::Mutex::new(()));
        let writers: Vec<_> = (0..SESSIONS)
            .map(|w| {
                let (ns, acked, barrier) = (ns.0.clone(), Arc::clone(&acked), Arc::clone(&barrier));
                let gate = Arc::clone(&gate);
                let from = last[w as usize] + 1;
                std::thread::spawn(move || {
                    let open = move || {
                        dataplane::netns::run_in(&ns, || {
                            std::net::TcpStream::connect_timeout(
                                &"127.0.0.1:8300".parse().expect("address"),
                                Duration::from_secs(5),
                            )
                        })?
                    };
                    let c = {
                        let _one = gate.lock().unwrap_or_else(|p| p.into_inner());
                        Blocking::connect(open, "admin", "lab")
                    };
                    barrier.wait();
                    let mut c = c.unwrap_or_else(|e| panic!("session {w}: {e}"));
                    for n in from.. {
                        let edit = format!(
                            r#"<interfaces xmlns="urn:ne-agent:yang:ne-interfaces"><interface><name>w{w}a</name><description>{n}</description></interface><interface><name>w{w}b</name><description>{n}</description></interface></interfaces>"#
                        );
                        match c.edit_running(&edit) {
                            Ok(()) => acked[w as usize].store(n, Ordering::SeqCst),
                            // The agent was killed (or refused: then the check below fails).
                            Err(_) => break,
                        }
                    }
                })
            })
            .collect();
        barrier.wait();
        // Every session has had a commit acknowledged, then a random moment later: SIGKILL.
        let all_acked = ne_lab::lab::wait_for(Duration::from_secs(120), || {
            acked.iter().all(|a| a.load(Ordering::SeqCst) > 0)
        });
        assert!(
            all_acked,
            "round {round}: not every session had a commit acknowledged in 120 s; agent log:\n{}",
            agent.log_tail(30)
        );
        std::thread::sleep(Duration::from_micros(rng.next() % 50_000));
        agent.kill9();
        for t in writers {
            t.join().expect("writer thread");
        }
        let acked: Vec<u64> = acked.iter().map(|a| a.load(Ordering::SeqCst)).collect();
        total_acks += acked.iter().zip(&last).map(|(a, l)| a - l).sum::<u64>();

        let (ds, _) = Datastore::open(&store_dir, Arc::clone(&schema))
            .unwrap_or_else(|e| panic!("round {round}: the sled files do not open: {e}"));
        for w in 0..SESSIONS {
            let (a, b) = writer_values(&ds, w);
            assert_eq!(a, b, "round {round}: session {w}'s commit is half-applied");
            let v = a.unwrap_or(0);
            let want = acked[w as usize];
            assert!(
                v == want || v == want + 1,
                "round {round}: session {w} holds {v} but commit {want} was acknowledged"
            );
            assert!(
                v >= last[w as usize],
                "round {round}: session {w} went back from {} to {v}",
                last[w as usize]
            );
            last[w as usize] = v;
        }
        let sum: u64 = last.iter().sum();
        let own = ds.generation() - sum;
        assert!(
            offset.is_none_or(|o| o == own),
            "round {round}: generation {} for {sum} session commits: {} commits before, {own} now",
            ds.generation(),
            offset.unwrap_or(0)
        );
        offset = Some(own);
        history_in_session_order(&ds, &last, round);
        drop(ds);
    }
    eprintln!("{rounds} kills of the agent under {SESSIONS} NETCONF sessions, {total_acks} acknowledged commits");
    drop(agent);
    drop(ns);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The commit log (its last entries) lists each writer's values in increasing steps of one,
/// and the last of them is what running holds.
fn history_in_session_order(ds: &Datastore, values: &[u64], round: usize) {
    let mut seen: Vec<Option<u64>> = vec![None; values.len()];
    let history = ds.history();
    assert!(!history.is_empty(), "round {round}: empty commit log");
    for info in history {
        let record = ds.record(info.id).expect("commit record");
        for (w, prev) in seen.iter_mut().enumerate() {
            let value = record
                .changes
                .iter()
                .filter(|c| {
                    c.path.contains(&format!("='w{w}a']/")) && c.path.ends_with(":description")
                })
                .find_map(|c| c.new.as_deref()?.parse::<u64>().ok());
            if let Some(v) = value {
                assert!(
                    prev.is_none_or(|p| v == p + 1),
                    "round {round}: commit {} sets session {w} to {v} after {prev:?}",
                    info.id
                );
                *prev = Some(v);
            }
        }
    }
    for (w, (seen, v)) in seen.iter().zip(values).enumerate() {
        assert!(
            seen.is_none_or(|s| s == *v),
            "round {round}: the last logged commit of session {w} set {seen:?}, running holds {v}"
        );
    }
}
