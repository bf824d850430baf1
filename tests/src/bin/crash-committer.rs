//! Test helper for the crash-consistency test: commits forever and acknowledges each commit.
//!
//! `crash-committer DIR`: opens the datastore in DIR and, from the generation found there, sets
//! the description of interfaces `a` and `b` (two separate storage chunks) to the same
//! counter value in each commit, printing `ack N` after commit N returned. The test kills it
//! with SIGKILL at random moments.

use std::io::Write;
use std::sync::Arc;

use datastore::{CommitMeta, Datastore, Target};
use yang::data::EditOp;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: crash-committer DIR");
    let schema = Arc::new(
        yang::SchemaBuilder::new()
            .embedded()
            .build()
            .expect("models"),
    );
    let (ds, _) = Datastore::open(std::path::Path::new(&dir), schema).expect("open datastore");
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
