//! Datastore rules, against real sled files in temporary directories.

use std::path::PathBuf;
use std::sync::Arc;

use datastore::{BootSource, CommitMeta, Datastore, StoreError, Subscriber, Target};
use yang::data::{self, DataError, DataTree, EditOp, EncodeOptions, ErrorTag};
use yang::diff::Change;
use yang::{Schema, SchemaBuilder};

const BFD: &str = r#"xmlns="urn:ne-agent:yang:ne-bfd""#;
const NC: &str = r#"xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0""#;

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "ne-ds-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn schema() -> Arc<Schema> {
    Arc::new(SchemaBuilder::new().embedded().build().unwrap())
}

fn meta() -> CommitMeta {
    CommitMeta {
        user: "admin".into(),
        session: 1,
        comment: None,
    }
}

fn session(name: &str, disc: u32) -> String {
    format!(
        "<session><name>{name}</name><peer-ip>10.0.{}.{}</peer-ip><local-discriminator>{disc}</local-discriminator></session>",
        disc / 256,
        disc % 256
    )
}

fn edit(ds: &Datastore, sid: u32, xml: &str) -> Result<(), StoreError> {
    let els = yang::xml::parse_fragment(xml).unwrap();
    ds.edit_candidate(sid, &els, EditOp::Merge)
}

fn xml(ds: &Datastore, t: Target) -> String {
    data::encode(
        ds.schema(),
        &ds.get(t).unwrap_or_default(),
        EncodeOptions::default(),
    )
}

#[test]
fn commits_survive_reopen_and_the_candidate_tracks_changes() {
    let dir = TempDir::new("reopen");
    let s = schema();
    {
        let (ds, boot) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        assert_eq!(boot, BootSource::Empty);
        edit(
            &ds,
            1,
            &format!("<bfd {BFD}>{}{}</bfd>", session("a", 1), session("b", 2)),
        )
        .unwrap();
        assert!(ds.candidate_dirty());
        assert_eq!(xml(&ds, Target::Running), "");
        let out = ds.commit(&meta(), &mut []).unwrap();
        assert_eq!(out.id, Some(1));
        assert!(!ds.candidate_dirty());
        // Nothing to commit: no new generation.
        assert_eq!(ds.commit(&meta(), &mut []).unwrap().id, None);
        edit(
            &ds,
            1,
            &format!(
                "<bfd {BFD} {NC}><session nc:operation=\"delete\"><name>a</name></session></bfd>"
            ),
        )
        .unwrap();
        ds.commit(&meta(), &mut []).unwrap();
        edit(&ds, 1, &format!("<bfd {BFD}><session><name>c</name><peer-ip>10.9.9.9</peer-ip><local-discriminator>9</local-discriminator></session></bfd>")).unwrap();
        ds.discard_changes().unwrap();
        assert!(!ds.candidate_dirty());
    }
    let (ds, boot) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
    assert_eq!(boot, BootSource::Running);
    assert_eq!(ds.generation(), 2);
    let x = xml(&ds, Target::Running);
    assert!(
        x.contains("<name>b</name>")
            && !x.contains("<name>a</name>")
            && !x.contains("<name>c</name>"),
        "{x}"
    );
    assert_eq!(ds.history().len(), 2);
    assert_eq!(xml(&ds, Target::Candidate), x);
}

#[test]
fn deleting_a_container_removes_its_entries_on_disk() {
    let dir = TempDir::new("container");
    let s = schema();
    {
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        edit(
            &ds,
            1,
            &format!("<bfd {BFD}>{}{}</bfd>", session("a", 1), session("b", 2)),
        )
        .unwrap();
        ds.commit(&meta(), &mut []).unwrap();
        edit(
            &ds,
            1,
            &format!("<bfd {BFD} {NC} nc:operation=\"delete\"/>"),
        )
        .unwrap();
        ds.commit(&meta(), &mut []).unwrap();
        assert_eq!(xml(&ds, Target::Running), "");
    }
    let (ds, _) = Datastore::open(&dir.0, s).unwrap();
    assert_eq!(xml(&ds, Target::Running), "");
}

#[test]
fn invalid_candidates_are_refused_and_change_nothing() {
    let dir = TempDir::new("invalid");
    let (ds, _) = Datastore::open(&dir.0, schema()).unwrap();
    edit(&ds, 1, &format!("<bfd {BFD}>{}</bfd>", session("a", 1))).unwrap();
    ds.commit(&meta(), &mut []).unwrap();
    // Same local discriminator twice: unique violation, found at commit.
    edit(&ds, 1, &format!("<bfd {BFD}>{}</bfd>", session("b", 1))).unwrap();
    let before = xml(&ds, Target::Running);
    let err = ds.commit(&meta(), &mut []).unwrap_err();
    let StoreError::Invalid(errs) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(errs[0].app_tag.as_deref(), Some("data-not-unique"));
    assert_eq!(xml(&ds, Target::Running), before);
    assert_eq!(ds.generation(), 1);
    assert!(ds.validate(Target::Candidate).is_err());
    assert!(ds.validate(Target::Running).is_ok());
}

#[derive(Default)]
struct Engine {
    veto: bool,
    prepared: usize,
    applied: Vec<Vec<Change>>,
}

impl Subscriber for Engine {
    fn prepare(&mut self, _: &[Change], _: &DataTree) -> Result<(), DataError> {
        self.prepared += 1;
        if self.veto {
            Err(DataError::new(
                ErrorTag::OperationFailed,
                "cannot open BFD socket: missing CAP_NET_RAW",
            ))
        } else {
            Ok(())
        }
    }
    fn apply(&mut self, changes: &[Change], _: &DataTree) {
        self.applied.push(changes.to_vec());
    }
}

#[test]
fn an_engine_veto_refuses_the_commit() {
    let dir = TempDir::new("veto");
    let s = schema();
    {
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        let mut ok = Engine::default();
        let mut bad = Engine {
            veto: true,
            ..Engine::default()
        };
        edit(&ds, 1, &format!("<bfd {BFD}>{}</bfd>", session("a", 1))).unwrap();
        let err = ds.commit(&meta(), &mut [&mut ok, &mut bad]).unwrap_err();
        assert!(
            matches!(&err, StoreError::Vetoed(e) if e.message.contains("CAP_NET_RAW")),
            "{err:?}"
        );
        assert_eq!((ok.prepared, bad.prepared), (1, 1));
        assert!(ok.applied.is_empty());
        assert_eq!(xml(&ds, Target::Running), "");
        assert!(ds.candidate_dirty(), "the candidate keeps the refused edit");
        let out = ds.commit(&meta(), &mut [&mut ok]).unwrap();
        assert_eq!(ok.applied.len(), 1);
        assert_eq!(ok.applied[0], out.changes);
    }
    let (ds, _) = Datastore::open(&dir.0, s).unwrap();
    assert_eq!(ds.generation(), 1, "the vetoed commit left nothing on disk");
}

#[test]
fn locks_follow_rfc_6241() {
    let dir = TempDir::new("locks");
    let (ds, _) = Datastore::open(&dir.0, schema()).unwrap();
    ds.lock(Target::Candidate, 7).unwrap();
    assert_eq!(
        ds.lock(Target::Candidate, 8).unwrap_err(),
        StoreError::Locked { holder: 7 }
    );
    let e = &StoreError::Locked { holder: 7 }.to_data_errors()[0];
    assert_eq!(e.tag, ErrorTag::LockDenied);
    assert_eq!(e.info, [("session-id".to_string(), "7".to_string())]);
    assert_eq!(
        edit(&ds, 8, &format!("<bfd {BFD}>{}</bfd>", session("a", 1))).unwrap_err(),
        StoreError::Locked { holder: 7 }
    );
    edit(&ds, 7, &format!("<bfd {BFD}>{}</bfd>", session("a", 1))).unwrap();
    assert_eq!(
        ds.unlock(Target::Candidate, 8).unwrap_err(),
        StoreError::NotLockHolder
    );
    // The holder dies with uncommitted edits: lock released, edits discarded.
    ds.session_ended(7, &mut []);
    assert_eq!(ds.lock_holder(Target::Candidate), None);
    assert!(!ds.candidate_dirty());
    // Locking a dirty candidate fails (RFC 6241 §7.5).
    edit(&ds, 8, &format!("<bfd {BFD}>{}</bfd>", session("a", 1))).unwrap();
    assert_eq!(
        ds.lock(Target::Candidate, 8).unwrap_err(),
        StoreError::CandidateDirty
    );
    // A session that ends without the lock does not lose the shared candidate.
    ds.session_ended(8, &mut []);
    assert!(ds.candidate_dirty());
    ds.lock(Target::Running, 9).unwrap();
    assert!(ds.check_writable(Target::Running, 10).is_err());
    assert!(ds.check_writable(Target::Running, 9).is_ok());
}

/// A lock on running refuses another session's commit and rollback, not only its edit-config
/// and copy-config; the holder's own go through.
#[test]
fn a_lock_on_running_refuses_other_sessions_commits_and_rollbacks() {
    let dir = TempDir::new("running-lock");
    let (ds, _) = Datastore::open(&dir.0, schema()).unwrap();
    edit(&ds, 1, &format!("<bfd {BFD}>{}</bfd>", session("a", 1))).unwrap();
    ds.commit(&meta(), &mut []).unwrap();
    let before = xml(&ds, Target::Running);
    ds.lock(Target::Running, 9).unwrap();
    edit(&ds, 1, &format!("<bfd {BFD}>{}</bfd>", session("b", 2))).unwrap();
    let mut engine = Engine::default();
    assert_eq!(
        ds.commit(&meta(), &mut [&mut engine]).unwrap_err(),
        StoreError::Locked { holder: 9 }
    );
    assert_eq!(
        ds.rollback(1, &meta(), &mut [&mut engine]).unwrap_err(),
        StoreError::Locked { holder: 9 }
    );
    assert_eq!(xml(&ds, Target::Running), before);
    assert!(engine.applied.is_empty(), "an engine saw a refused commit");
    let holder = CommitMeta {
        session: 9,
        ..meta()
    };
    ds.commit(&holder, &mut [&mut engine]).unwrap();
    assert_ne!(xml(&ds, Target::Running), before);
    ds.unlock(Target::Running, 9).unwrap();
    ds.rollback(1, &meta(), &mut [&mut engine]).unwrap();
    assert_eq!(xml(&ds, Target::Running), before);
}

#[test]
fn rollback_restores_an_earlier_commit_through_the_pipeline() {
    let dir = TempDir::new("rollback");
    let s = schema();
    let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
    edit(&ds, 1, &format!("<bfd {BFD}>{}</bfd>", session("a", 1))).unwrap();
    ds.commit(&meta(), &mut []).unwrap();
    let after_1 = xml(&ds, Target::Running);
    edit(&ds, 1, &format!("<bfd {BFD}>{}<session><name>a</name><detect-multiplier>9</detect-multiplier></session></bfd>", session("b", 2))).unwrap();
    ds.commit(&meta(), &mut []).unwrap();
    edit(
        &ds,
        1,
        &format!("<bfd {BFD} {NC}><session nc:operation=\"delete\"><name>a</name></session></bfd>"),
    )
    .unwrap();
    ds.commit(&meta(), &mut []).unwrap();
    let mut engine = Engine::default();
    let out = ds
        .rollback(
            1,
            &CommitMeta {
                comment: Some("back to 1".into()),
                ..meta()
            },
            &mut [&mut engine],
        )
        .unwrap();
    assert_eq!(out.id, Some(4));
    assert_eq!(xml(&ds, Target::Running), after_1);
    assert_eq!(engine.applied.len(), 1, "rollback ran the pipeline");
    assert_eq!(
        ds.history().last().unwrap().comment.as_deref(),
        Some("back to 1")
    );
    assert!(matches!(
        ds.rollback(99, &meta(), &mut []),
        Err(StoreError::UnknownCommit(99))
    ));
    drop(ds);
    let (ds, _) = Datastore::open(&dir.0, s).unwrap();
    assert_eq!(xml(&ds, Target::Running), after_1);
    assert_eq!(ds.history().len(), 4);
}

#[test]
fn the_log_keeps_the_last_fifty_commits() {
    let dir = TempDir::new("history");
    let s = schema();
    let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
    for i in 1..=55u32 {
        edit(
            &ds,
            1,
            &format!("<bfd {BFD}>{}</bfd>", session(&format!("s{i}"), i)),
        )
        .unwrap();
        ds.commit(&meta(), &mut []).unwrap();
    }
    let h = ds.history();
    assert_eq!((h.len(), h[0].id, h[49].id), (50, 6, 55));
    assert!(matches!(ds.tree_at(5), Err(StoreError::UnknownCommit(5))));
    let t6 = ds.tree_at(6).unwrap();
    let x = data::encode(&s, &t6, EncodeOptions::default());
    assert!(
        x.contains("<name>s6</name>") && !x.contains("<name>s7</name>"),
        "{x}"
    );
    drop(ds);
    let (ds, _) = Datastore::open(&dir.0, s).unwrap();
    assert_eq!(ds.history().len(), 50);
}

#[test]
fn startup_is_loaded_at_boot_and_refused_when_invalid() {
    let dir = TempDir::new("startup");
    let s = schema();
    {
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        edit(&ds, 1, &format!("<bfd {BFD}>{}</bfd>", session("saved", 1))).unwrap();
        ds.commit(&meta(), &mut []).unwrap();
        ds.copy_running_to_startup().unwrap();
        edit(
            &ds,
            1,
            &format!("<bfd {BFD}>{}</bfd>", session("unsaved", 2)),
        )
        .unwrap();
        ds.commit(&meta(), &mut []).unwrap();
    }
    {
        let (ds, boot) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        assert_eq!(boot, BootSource::Startup);
        let x = xml(&ds, Target::Running);
        assert!(x.contains("saved") && !x.contains("unsaved"), "{x}");
        ds.delete_startup().unwrap();
        edit(&ds, 1, &format!("<bfd {BFD}>{}</bfd>", session("later", 3))).unwrap();
        ds.commit(&meta(), &mut []).unwrap();
    }
    {
        let (ds, boot) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        assert_eq!(
            boot,
            BootSource::Running,
            "no startup: running as persisted"
        );
        assert!(xml(&ds, Target::Running).contains("later"));
        ds.copy_running_to_startup().unwrap();
        edit(&ds, 1, &format!("<bfd {BFD} {NC}><session nc:operation=\"delete\"><name>later</name></session></bfd>")).unwrap();
        ds.commit(&meta(), &mut []).unwrap();
    }
    // The models became stricter: the saved startup (discriminator 3) no longer validates,
    // the running configuration (discriminator 1 only) still does.
    let strict_bfd = yang::schema::embedded_modules()
        .iter()
        .find(|(n, _)| *n == "ne-bfd")
        .unwrap()
        .1
        .replace("range \"1..16384\"", "range \"1..2\"");
    let mut b = SchemaBuilder::new();
    for (name, text) in yang::schema::embedded_modules() {
        let text = if *name == "ne-bfd" {
            strict_bfd.clone()
        } else {
            text.to_string()
        };
        b = b.source(format!("{name}.yang"), text);
    }
    let strict = Arc::new(b.build().unwrap());
    let (ds, boot) = Datastore::open(&dir.0, strict).unwrap();
    assert!(matches!(boot, BootSource::StartupRefused(_)), "{boot:?}");
    let x = xml(&ds, Target::Running);
    assert!(
        x.contains("saved") && !x.contains("later"),
        "kept the last running: {x}"
    );
}

#[test]
fn user_ordered_entries_keep_their_order_across_commits_and_restarts() {
    let dir = TempDir::new("ordered");
    let s = Arc::new(
        SchemaBuilder::new()
            .without_embedded()
            .source(
                "acl.yang",
                r#"module acl { yang-version 1.1; namespace "urn:acl"; prefix acl;
                  container acls { list rule { key name; ordered-by user;
                    leaf name { type string; } leaf action { type string; } } } }"#,
            )
            .build()
            .unwrap(),
    );
    let names = |ds: &Datastore| -> Vec<String> {
        let x = xml(ds, Target::Running);
        x.split("<name>")
            .skip(1)
            .map(|p| p.split('<').next().unwrap().to_string())
            .collect()
    };
    let y = r#"xmlns:yang="urn:ietf:params:xml:ns:yang:1""#;
    {
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        edit(&ds, 1, r#"<acls xmlns="urn:acl"><rule><name>c</name></rule><rule><name>a</name></rule><rule><name>b</name></rule></acls>"#).unwrap();
        ds.commit(&meta(), &mut []).unwrap();
        assert_eq!(names(&ds), ["c", "a", "b"]);
        // Move b first: a reorder is a change of its own.
        edit(&ds, 1, &format!(r#"<acls xmlns="urn:acl" {y}><rule yang:insert="first"><name>b</name></rule></acls>"#)).unwrap();
        assert!(ds.candidate_dirty());
        let out = ds.commit(&meta(), &mut []).unwrap();
        assert!(
            out.changes
                .iter()
                .any(|c| c.op == yang::diff::ChangeOp::Move),
            "{:?}",
            out.changes
        );
        assert_eq!(names(&ds), ["b", "c", "a"]);
    }
    let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
    assert_eq!(names(&ds), ["b", "c", "a"]);
    let t1 = ds.tree_at(1).unwrap();
    let x = data::encode(&s, &t1, EncodeOptions::default());
    assert!(x.find("<name>c</name>") < x.find("<name>a</name>"), "{x}");
}

/// Entries of a user-ordered list inside another (NACM's rules inside a rule-list) are part of
/// their shell: deleting some leaves no chunk of their own behind, and an older commit's tree
/// (rollback, commit-diff) is rebuilt whole.
#[test]
fn deleted_nested_user_ordered_entries_rebuild_older_trees() {
    let dir = TempDir::new("nested-ordered");
    let (ds, _) = Datastore::open(&dir.0, schema()).unwrap();
    let nacm = |rules: &str| {
        yang::xml::parse_fragment(&format!(
            r#"<nacm xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-acm" {NC} nc:operation="replace"><rule-list><name>ops</name><group>ops</group>{rules}</rule-list></nacm>"#
        ))
        .unwrap()
    };
    let rule = |name: &str| format!("<rule><name>{name}</name><action>permit</action></rule>");
    ds.edit_running(
        &nacm(&format!("{}{}", rule("r1"), rule("r2"))),
        EditOp::Merge,
        &meta(),
        &mut [],
    )
    .unwrap();
    let first = ds.generation();
    ds.edit_running(&nacm(&rule("x")), EditOp::Merge, &meta(), &mut [])
        .unwrap();
    let keys: Vec<String> = ds
        .record(ds.generation())
        .unwrap()
        .chunks
        .into_iter()
        .map(|c| c.key)
        .collect();
    assert_eq!(keys, ["/nacm:nacm"]);
    let old = data::encode(
        ds.schema(),
        &ds.tree_at(first).unwrap(),
        EncodeOptions::default(),
    );
    assert!(
        old.contains("<name>r1</name>")
            && old.contains("<name>r2</name>")
            && !old.contains("<name>x</name>"),
        "{old}"
    );
}

#[test]
fn the_candidate_is_persisted_until_committed_or_discarded() {
    let dir = TempDir::new("candidate");
    let s = schema();
    {
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        edit(
            &ds,
            1,
            &format!("<bfd {BFD}>{}{}</bfd>", session("a", 1), session("b", 2)),
        )
        .unwrap();
        ds.commit(&meta(), &mut []).unwrap();
        edit(
            &ds,
            1,
            &format!(
                "<bfd {BFD} {NC}>{}<session nc:operation=\"delete\"><name>a</name></session></bfd>",
                session("c", 3)
            ),
        )
        .unwrap();
    }
    {
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        assert!(
            ds.candidate_dirty(),
            "the uncommitted edit survived the restart"
        );
        let cand = xml(&ds, Target::Candidate);
        assert!(
            cand.contains("<name>c</name>") && !cand.contains("<name>a</name>"),
            "{cand}"
        );
        assert!(xml(&ds, Target::Running).contains("<name>a</name>"));
        ds.discard_changes().unwrap();
    }
    {
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        assert!(!ds.candidate_dirty());
        assert_eq!(xml(&ds, Target::Candidate), xml(&ds, Target::Running));
        edit(&ds, 1, &format!("<bfd {BFD}>{}</bfd>", session("d", 4))).unwrap();
        ds.commit(&meta(), &mut []).unwrap();
    }
    let (ds, _) = Datastore::open(&dir.0, s).unwrap();
    assert!(
        !ds.candidate_dirty(),
        "a commit clears the stored candidate"
    );
    assert!(xml(&ds, Target::Candidate).contains("<name>d</name>"));
}

/// A commit is durable through its log record alone; running's own stored chunks are brought up
/// to date in the background. With that held back, a restart replays the log (creations,
/// changes, a deleted container with its entries, more commits than the history keeps); once
/// it has caught up, the log is trimmed to the history and a restart reads the same running.
#[test]
fn running_loads_from_the_log_while_its_chunks_lag_behind() {
    let dir = TempDir::new("replay");
    let s = schema();
    let expected;
    {
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        ds.pause_compaction();
        let all: String = (1..=20).map(|i| session(&format!("s{i}"), i)).collect();
        edit(&ds, 1, &format!("<bfd {BFD}>{all}</bfd>")).unwrap();
        ds.commit(&meta(), &mut []).unwrap();
        edit(
            &ds,
            1,
            &format!("<bfd {BFD} {NC} nc:operation=\"delete\"/>"),
        )
        .unwrap();
        ds.commit(&meta(), &mut []).unwrap();
        for i in 1..=60u32 {
            edit(&ds, 1, &format!("<bfd {BFD}>{}</bfd>", session("s1", i))).unwrap();
            ds.commit(&meta(), &mut []).unwrap();
        }
        edit(
            &ds,
            1,
            &format!("<bfd {BFD}>{}</bfd>", session("keep", 999)),
        )
        .unwrap();
        ds.commit(&meta(), &mut []).unwrap();
        // An uncommitted edit on top: the candidate journal replays over the replayed running.
        edit(
            &ds,
            1,
            &format!("<bfd {BFD}>{}</bfd>", session("pending", 777)),
        )
        .unwrap();
        assert!(!ds.compacted());
        expected = (xml(&ds, Target::Running), xml(&ds, Target::Candidate));
        assert!(expected.0.contains("<name>keep</name>") && !expected.0.contains("s20"));
    }
    {
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        assert_eq!(
            (xml(&ds, Target::Running), xml(&ds, Target::Candidate)),
            expected,
            "replayed from the log"
        );
        assert_eq!(ds.history().len(), 50);
        let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !ds.compacted() && std::time::Instant::now() < end {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(ds.compacted(), "the background pass caught up");
    }
    let (ds, _) = Datastore::open(&dir.0, s).unwrap();
    assert!(ds.compacted());
    assert_eq!(
        (xml(&ds, Target::Running), xml(&ds, Target::Candidate)),
        expected,
        "read from the chunks"
    );
    assert_eq!(ds.history().len(), 50);
}

/// A database written before the journal kept the uncommitted candidate as per-chunk `c` keys:
/// it loads, and the next commit clears it (left behind, it came back at the next start).
#[test]
fn an_older_databases_candidate_overlay_loads_and_goes_with_the_commit() {
    let dir = TempDir::new("legacy-overlay");
    let s = schema();
    {
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        edit(&ds, 1, &format!("<bfd {BFD}>{}</bfd>", session("a", 1))).unwrap();
        ds.commit(&meta(), &mut []).unwrap();
    }
    {
        // The older layout: the candidate's chunk with session b as a `c` key.
        let db = sled::Config::new().path(dir.0.join("db")).open().unwrap();
        let key = "/bfd:bfd/bfd:session[bfd:name='b']";
        let xml = format!("<bfd {BFD}>{}</bfd>", session("b", 2));
        let mut k = vec![b'c'];
        k.extend_from_slice(key.as_bytes());
        db.insert(k, xml.as_bytes()).unwrap();
        db.flush().unwrap();
    }
    {
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        assert!(ds.candidate_dirty());
        assert!(xml(&ds, Target::Candidate).contains("<name>b</name>"));
        ds.commit(&meta(), &mut []).unwrap();
        // Then a change of running itself (no candidate edit in between).
        let del = yang::xml::parse_fragment(&format!(
            "<bfd {BFD} {NC}><session nc:operation=\"delete\"><name>b</name></session></bfd>"
        ))
        .unwrap();
        ds.edit_running(&del, EditOp::Merge, &meta(), &mut [])
            .unwrap();
    }
    let (ds, _) = Datastore::open(&dir.0, s).unwrap();
    assert!(!ds.candidate_dirty(), "{}", xml(&ds, Target::Candidate));
    assert!(!xml(&ds, Target::Candidate).contains("<name>b</name>"));
}

/// Boot trusts a running committed under the same models (a mark written with it) and checks
/// the whole tree again when the models changed: a configuration the new models refuse is
/// found, and the next commit validates everything until one passes.
#[test]
fn boot_validates_running_only_when_the_models_changed() {
    let dir = TempDir::new("validated");
    // The entry rule is a `must`: a changed type would already fail the load itself.
    let models = |entry_rule: &str| {
        Arc::new(
            SchemaBuilder::new()
                .without_embedded()
                .source(
                    "x.yang",
                    format!(
                        r#"module x {{ yang-version 1.1; namespace "urn:x"; prefix x;
                          container items {{ list item {{ key n; {entry_rule}
                            leaf n {{ type string; }} leaf v {{ type string; }} }} }} }}"#
                    ),
                )
                .build()
                .unwrap(),
        )
    };
    let loose = models("");
    let strict = models(r#"must "string-length(x:v) <= 2";"#);
    let item = |n: &str, v: &str| {
        format!(r#"<items xmlns="urn:x"><item><n>{n}</n><v>{v}</v></item></items>"#)
    };
    {
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&loose)).unwrap();
        assert!(ds.checked_at_boot(), "a new database has no mark");
        edit(&ds, 1, &item("a", "long")).unwrap();
        ds.commit(&meta(), &mut []).unwrap();
    }
    {
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&loose)).unwrap();
        assert!(
            !ds.checked_at_boot(),
            "same models: the commit's validation holds"
        );
        assert!(xml(&ds, Target::Running).contains("<v>long</v>"));
    }
    {
        // The new models refuse the stored entry: boot finds it, and a commit of another
        // entry is refused for it (the whole tree is validated).
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&strict)).unwrap();
        assert!(ds.checked_at_boot());
        edit(&ds, 1, &item("b", "ok")).unwrap();
        match ds.commit(&meta(), &mut []) {
            Err(StoreError::Invalid(errs)) => assert!(
                errs.iter()
                    .any(|e| e.path.as_deref() == Some("/x:items/x:item[x:n='a']")),
                "{errs:?}"
            ),
            Err(e) => panic!("expected the stored entry to be refused, got {e}"),
            Ok(_) => panic!("a commit over an invalid running was accepted"),
        }
    }
    {
        // Still no mark for the new models (the refused commit wrote nothing): checked
        // again; a commit that fixes the entry passes and marks running.
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&strict)).unwrap();
        assert!(ds.checked_at_boot());
        edit(&ds, 1, &item("a", "ok")).unwrap();
        ds.commit(&meta(), &mut []).unwrap();
    }
    let (ds, _) = Datastore::open(&dir.0, Arc::clone(&strict)).unwrap();
    assert!(!ds.checked_at_boot(), "the fixing commit marked running");
    assert!(xml(&ds, Target::Running).contains("<v>ok</v>"));
}

/// Issue 14 item 6: 50 threads edit running at once, 20 commits each. Every edit lands (none
/// undoes another's), and each commit is logged once, in the order each writer made them.
#[test]
fn concurrent_edits_of_running_all_land_in_order() {
    const WRITERS: u32 = 50;
    const EACH: u64 = 20;
    let dir = TempDir::new("group-commit");
    let (ds, _) = Datastore::open(&dir.0, schema()).unwrap();
    let ds = Arc::new(ds);
    let threads: Vec<_> = (0..WRITERS)
        .map(|w| {
            let ds = Arc::clone(&ds);
            std::thread::spawn(move || {
                let meta = CommitMeta {
                    user: "admin".into(),
                    session: 100 + w,
                    comment: None,
                };
                for n in 1..=EACH {
                    let els = yang::xml::parse_fragment(&format!(
                        r#"<interfaces xmlns="urn:ne-agent:yang:ne-interfaces"><interface><name>w{w}</name><description>{n}</description></interface></interfaces>"#
                    ))
                    .unwrap();
                    let out = ds.edit_running(&els, EditOp::Merge, &meta, &mut []).unwrap();
                    assert!(out.id.is_some(), "writer {w}, commit {n} changed nothing");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let commits = u64::from(WRITERS) * EACH;
    assert_eq!(ds.generation(), commits);
    let running = xml(&ds, Target::Running);
    for w in 0..WRITERS {
        assert!(
            running.contains(&format!(
                "<name>w{w}</name><description>{EACH}</description>"
            )),
            "writer {w}'s last edit is missing: {running}"
        );
    }
    // The log (its last 50 entries): consecutive ids, each writer's values rising by one.
    let history = ds.history();
    assert!(history.windows(2).all(|p| p[1].id == p[0].id + 1));
    let mut last = std::collections::HashMap::new();
    for info in &history {
        let r = ds.record(info.id).unwrap();
        let c = r
            .changes
            .iter()
            .find(|c| c.path.ends_with(":description"))
            .expect("a description change");
        let v: u64 = c.new.as_deref().unwrap().parse().unwrap();
        if let Some(prev) = last.insert(r.session, v) {
            assert_eq!(v, prev + 1, "commit {}: session {}", r.id, r.session);
        }
    }
}

#[test]
fn deferred_flushes_wait_for_the_flusher_and_every_commit_survives_reopen() {
    let dir = TempDir::new("deferred");
    {
        let (ds, _) = Datastore::open(&dir.0, schema()).unwrap();
        let ds = Arc::new(ds);
        // Edits of running alone are a single log record; a commit of the candidate also clears
        // the candidate's journal, so it is a sled batch with the generation: both kinds mixed.
        let threads: Vec<_> = (0..8u32)
            .map(|w| {
                let ds = Arc::clone(&ds);
                std::thread::spawn(move || {
                    for n in 1..=10u32 {
                        let els = yang::xml::parse_fragment(&format!(
                            r#"<interfaces xmlns="urn:ne-agent:yang:ne-interfaces"><interface><name>w{w}</name><description>{n}</description></interface></interfaces>"#
                        ))
                        .unwrap();
                        let meta = CommitMeta {
                            user: "admin".into(),
                            session: 100 + w,
                            comment: None,
                        };
                        let (out, unflushed) = datastore::deferring_flush(|| {
                            ds.edit_running(&els, EditOp::Merge, &meta, &mut [])
                        });
                        assert!(out.unwrap().id.is_some());
                        // Deferred to the flusher, or (no other commit around) flushed already.
                        unflushed.wait().unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        edit(
            &ds,
            1,
            &format!("<bfd {BFD}>{}</bfd>", session("by-candidate", 7)),
        )
        .unwrap();
        let (out, unflushed) = datastore::deferring_flush(|| ds.commit(&meta(), &mut []));
        assert_eq!(out.unwrap().id, Some(81));
        unflushed.wait().unwrap();
        // Outside a scope a commit flushes before it returns, as before.
        let els = yang::xml::parse_fragment(
            r#"<interfaces xmlns="urn:ne-agent:yang:ne-interfaces"><interface><name>last</name></interface></interfaces>"#,
        )
        .unwrap();
        let out = ds
            .edit_running(&els, EditOp::Merge, &meta(), &mut [])
            .unwrap();
        assert_eq!(out.id, Some(82));
        // No commit, nothing to wait for.
        let ((), unflushed) = datastore::deferring_flush(|| ());
        assert!(unflushed.is_empty());
    }
    let (ds, _) = Datastore::open(&dir.0, schema()).unwrap();
    assert_eq!(
        ds.generation(),
        82,
        "the newest log record is the generation"
    );
    let running = xml(&ds, Target::Running);
    for w in 0..8 {
        assert!(
            running.contains(&format!("<name>w{w}</name><description>10</description>")),
            "writer {w}'s last edit is missing: {running}"
        );
    }
    assert!(running.contains("by-candidate") && running.contains("<name>last</name>"));
    // The next commit continues the numbering.
    let els = yang::xml::parse_fragment(
        r#"<interfaces xmlns="urn:ne-agent:yang:ne-interfaces"><interface><name>after</name></interface></interfaces>"#,
    )
    .unwrap();
    let out = ds
        .edit_running(&els, EditOp::Merge, &meta(), &mut [])
        .unwrap();
    assert_eq!(out.id, Some(83));
}

/// A commit takes its changes and chunks from the candidate's last edit when it commits the
/// very tree that edit made on the very running it started from; whatever came between, what
/// it reports and writes is what a fresh diff and rendering give (checked after a reopen, with
/// the commit log's change sets and a rollback).
#[test]
fn a_commit_reports_and_writes_the_same_whatever_the_edits_before_it() {
    let dir = TempDir::new("reuse");
    let s = schema();
    let mg = |names: &[&str]| {
        let entries: String = names
            .iter()
            .map(|n| format!("<monitor-group><name>{n}</name></monitor-group>"))
            .collect();
        format!(
            r#"<monitor-groups xmlns="urn:ne-agent:yang:ne-monitor-group">{entries}</monitor-groups>"#
        )
    };
    let many: Vec<String> = (0..300).map(|i| format!("g{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let mut expected = Vec::new();
    {
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        // 1. One edit, then its commit (the edit's changes and chunks are reused).
        edit(&ds, 1, &mg(&many)).unwrap();
        let before = ds.get(Target::Running).unwrap();
        let cand = ds.get(Target::Candidate).unwrap();
        let out = ds.commit(&meta(), &mut []).unwrap();
        assert_eq!(out.changes, yang::diff::diff(&s, &before, &cand));
        expected.push(xml(&ds, Target::Running));
        // 2. Two edits (the second one's changes alone are not the commit's).
        edit(&ds, 1, &mg(&["x1"])).unwrap();
        edit(&ds, 1, &mg(&["x2"])).unwrap();
        let before = ds.get(Target::Running).unwrap();
        let cand = ds.get(Target::Candidate).unwrap();
        let out = ds.commit(&meta(), &mut []).unwrap();
        assert_eq!(out.changes, yang::diff::diff(&s, &before, &cand));
        assert_eq!(
            out.changes
                .iter()
                .filter(|c| c.path.ends_with("']"))
                .count(),
            2
        );
        expected.push(xml(&ds, Target::Running));
        // 3. An edit of the candidate, then running changed under it by an edit of running
        // (which makes the candidate running again), then an edit and its commit.
        edit(&ds, 1, &mg(&["y1"])).unwrap();
        let els = yang::xml::parse_fragment(&mg(&["r1"])).unwrap();
        ds.edit_running(&els, EditOp::Merge, &meta(), &mut [])
            .unwrap();
        expected.push(xml(&ds, Target::Running));
        edit(&ds, 1, &mg(&["y2"])).unwrap();
        let before = ds.get(Target::Running).unwrap();
        let cand = ds.get(Target::Candidate).unwrap();
        let out = ds.commit(&meta(), &mut []).unwrap();
        assert_eq!(out.changes, yang::diff::diff(&s, &before, &cand));
        let running = xml(&ds, Target::Running);
        assert!(running.contains("<name>r1</name>") && running.contains("<name>y2</name>"));
        expected.push(running);
        // 4. Everything removed in one edit.
        edit(
            &ds,
            1,
            &format!(
                r#"<monitor-groups xmlns="urn:ne-agent:yang:ne-monitor-group" {NC} nc:operation="remove"/>"#
            ),
        )
        .unwrap();
        let out = ds.commit(&meta(), &mut []).unwrap();
        assert_eq!(out.changes.len(), 1);
        assert!(!xml(&ds, Target::Running).contains("monitor-group"));
    }
    let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
    assert!(!xml(&ds, Target::Running).contains("monitor-group"));
    // Each commit's stored chunks rebuild the running it made.
    let ids: Vec<u64> = ds.history().iter().map(|h| h.id).collect();
    for (id, want) in ids.iter().zip(&expected) {
        let tree = ds.tree_at(*id).unwrap();
        let got = data::encode(&s, &tree, EncodeOptions::default());
        assert!(
            &got == want,
            "commit {id}: {} bytes, want {}",
            got.len(),
            want.len()
        );
    }
    ds.rollback(ids[0], &meta(), &mut []).unwrap();
    assert_eq!(xml(&ds, Target::Running), expected[0]);
}
