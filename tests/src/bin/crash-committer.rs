//! Test helper for the crash-consistency test: commits forever and acknowledges each commit.
//!
//! `crash-committer DIR [--writers N]`: opens the datastore in DIR and, from the generation found there, sets
//! the description of interfaces `a` and `b` (two separate storage chunks) to the same
//! counter value in each commit, printing `ack N` after commit N returned. The test kills it
//! with SIGKILL at random moments.
//!
//! With `--groups N`, a datastore without monitor group `mg{N-1}` first gets monitor groups
//! `mg0`..`mg{N-1}` in one commit (not acknowledged): the same test at that size (issue 14
//! item 5).
//!
//! With `--writers N`, N threads commit at once, each with edit-config on running to
//! interfaces `wNa` and `wNb` of its own (two chunks again), printing `ack W N` after its commit
//! N returned: the concurrent load, where commits share flushes.

use std::io::Write;
use std::sync::Arc;

use datastore::{CommitMeta, Datastore, Target};
use yang::data::EditOp;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: crash-committer DIR [--writers N]");
    if let Some(n) = std::env::args()
        .skip_while(|a| a != "--writers")
        .nth(1)
        .and_then(|n| n.parse::<u32>().ok())
    {
        return concurrent(&dir, n);
    }
    let schema = Arc::new(
        yang::SchemaBuilder::new()
            .embedded()
            .build()
            .expect("models"),
    );
    let (ds, _) = Datastore::open(std::path::Path::new(&dir), schema).expect("open datastore");
    if let Some(groups) = std::env::args()
        .skip_while(|a| a != "--groups")
        .nth(1)
        .and_then(|n| n.parse::<usize>().ok())
    {
        preload(&ds, groups);
    }
    let mut n = current(&ds) + 1;
    let meta = CommitMeta {
        user: "crash-test".into(),
        session: 1,
        comment: None,
    };
    let mut out = std::io::stdout().lock();
    loop {
        let xml = format!(
            r#"<interfaces xmlns="urn:ne-agent:yang:ne-interfaces"><interface><name>a</name><description>{n}</description></interface><interface><name>b</name><description>{n}</description></interface></interfaces>"#
        );
        let els = yang::xml::parse_fragment(&xml).expect("xml");
        ds.edit_candidate(1, &els, EditOp::Merge).expect("edit");
        ds.commit(&meta, &mut []).expect("commit");
        writeln!(out, "ack {n}").expect("stdout");
        out.flush().expect("stdout");
        n += 1;
    }
}

/// Monitor groups `mg0`..`mg{n-1}` in one commit, unless the last of them is there.
fn preload(ds: &Datastore, n: usize) {
    let last = format!(
        "/mg:monitor-groups/mg:monitor-group[mg:name='mg{}']",
        n.saturating_sub(1)
    );
    let running = ds.get(Target::Running).unwrap_or_default();
    if n == 0 || running.find(ds.schema(), &last).is_some() {
        return;
    }
    let mut xml = String::from(r#"<monitor-groups xmlns="urn:ne-agent:yang:ne-monitor-group">"#);
    for i in 0..n {
        xml.push_str(&format!(
            "<monitor-group><name>mg{i}</name></monitor-group>"
        ));
    }
    xml.push_str("</monitor-groups>");
    let els = yang::xml::parse_fragment(&xml).expect("xml");
    let meta = CommitMeta {
        user: "crash-test".into(),
        session: 1,
        comment: Some("preload".into()),
    };
    ds.edit_candidate(1, &els, EditOp::Merge).expect("edit");
    ds.commit(&meta, &mut []).expect("commit");
}

/// The counter value in running (0 when empty).
fn current(ds: &Datastore) -> u64 {
    let running = ds.get(Target::Running).unwrap_or_default();
    let xml = yang::data::encode(ds.schema(), &running, Default::default());
    xml.split("<description>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// N writers, each editing running with its own two interfaces.
fn concurrent(dir: &str, writers: u32) {
    let schema = Arc::new(
        yang::SchemaBuilder::new()
            .embedded()
            .build()
            .expect("models"),
    );
    let (ds, _) = Datastore::open(std::path::Path::new(dir), schema).expect("open datastore");
    let ds = Arc::new(ds);
    let threads: Vec<_> = (0..writers)
        .map(|w| {
            let ds = Arc::clone(&ds);
            std::thread::spawn(move || {
                let mut n = writer_value(&ds, w) + 1;
                let meta = CommitMeta {
                    user: "crash-test".into(),
                    session: 100 + w,
                    comment: None,
                };
                loop {
                    let xml = format!(
                        r#"<interfaces xmlns="urn:ne-agent:yang:ne-interfaces"><interface><name>w{w}a</name><description>{n}</description></interface><interface><name>w{w}b</name><description>{n}</description></interface></interfaces>"#
                    );
                    let els = yang::xml::parse_fragment(&xml).expect("xml");
                    ds.edit_running(&els, EditOp::Merge, &meta, &mut [])
                        .expect("commit");
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {w} {n}").expect("stdout");
                    out.flush().expect("stdout");
                    n += 1;
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

/// Writer `w`'s value in running (0 when absent).
fn writer_value(ds: &Datastore, w: u32) -> u64 {
    let running = ds.get(Target::Running).unwrap_or_default();
    let xml = yang::data::encode(ds.schema(), &running, Default::default());
    let anchor = format!("<name>w{w}a</name><description>");
    xml.split(anchor.as_str())
        .nth(1)
        .and_then(|s| s.split('<').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
