//! Writes under an access check (`Datastore::checked`): the check sees each change before it is
//! validated or written, and a refusal leaves every datastore as it was.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;

use datastore::{CommitMeta, Datastore, StoreError, Target, WriteCheck};
use yang::data::{self, DataError, DataTree, EditOp, EncodeOptions, ErrorTag};
use yang::diff::{Change, ChangeOp};
use yang::SchemaBuilder;

const BFD: &str = r#"xmlns="urn:ne-agent:yang:ne-bfd""#;

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open(tag: &str) -> (TempDir, Datastore) {
    let p = std::env::temp_dir().join(format!("ne-ds-checked-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    let schema = Arc::new(SchemaBuilder::new().embedded().build().unwrap());
    let (ds, _) = Datastore::open(&p, schema).unwrap();
    (TempDir(p), ds)
}

fn meta() -> CommitMeta {
    CommitMeta {
        user: "u".into(),
        session: 1,
        comment: None,
    }
}

fn bfd(name: &str, disc: u32) -> Vec<yang::xml::Element> {
    yang::xml::parse_fragment(&format!(
        "<bfd {BFD}><session><name>{name}</name><peer-ip>10.0.0.{disc}</peer-ip><local-discriminator>{disc}</local-discriminator></session></bfd>"
    ))
    .unwrap()
}

fn xml(ds: &Datastore, t: Target) -> String {
    data::encode(
        ds.schema(),
        &ds.get(t).unwrap_or_default(),
        EncodeOptions::default(),
    )
}

/// Refuses any change whose path contains `deny`, and records what it saw.
struct Refuse {
    deny: &'static str,
    seen: RefCell<Vec<(ChangeOp, String)>>,
}

impl Refuse {
    fn new(deny: &'static str) -> Refuse {
        Refuse {
            deny,
            seen: RefCell::new(Vec::new()),
        }
    }
}

impl WriteCheck for Refuse {
    fn check(&self, _: &DataTree, _: &DataTree, changes: &[Change]) -> Result<(), DataError> {
        self.seen
            .borrow_mut()
            .extend(changes.iter().map(|c| (c.op, c.path.clone())));
        match changes.iter().find(|c| c.path.contains(self.deny)) {
            Some(c) => Err(DataError::new(ErrorTag::AccessDenied, "no").path(c.path.clone())),
            None => Ok(()),
        }
    }
}

fn denied(r: Result<impl std::fmt::Debug, StoreError>) -> DataError {
    match r {
        Err(StoreError::Denied(e)) => e,
        other => panic!("expected a denial, got {other:?}"),
    }
}

#[test]
fn a_refused_candidate_edit_changes_nothing() {
    let (_dir, ds) = open("candidate");
    let allow = Refuse::new("never");
    ds.checked(&allow)
        .edit_candidate(1, &bfd("a", 1), EditOp::Merge)
        .unwrap();
    assert!(allow
        .seen
        .borrow()
        .iter()
        .any(|(op, p)| *op == ChangeOp::Create && p.ends_with("session[bfd:name='a']")));
    let before = xml(&ds, Target::Candidate);
    let deny = Refuse::new("'b'");
    let e = denied(
        ds.checked(&deny)
            .edit_candidate(1, &bfd("b", 2), EditOp::Merge),
    );
    assert_eq!(e.tag, ErrorTag::AccessDenied);
    assert_eq!(xml(&ds, Target::Candidate), before);
    // Replacing the candidate deletes 'a'.
    let e = denied(
        ds.checked(&Refuse::new("/bfd:bfd"))
            .set_candidate(1, DataTree::new()),
    );
    assert_eq!(e.path.as_deref(), Some("/bfd:bfd"));
    assert_eq!(xml(&ds, Target::Candidate), before);
    // Nothing seen when nothing changes.
    let quiet = Refuse::new("never");
    ds.checked(&quiet)
        .edit_candidate(1, &bfd("a", 1), EditOp::Merge)
        .unwrap();
    assert!(quiet.seen.borrow().is_empty());
}

#[test]
fn a_refused_write_of_running_or_startup_changes_nothing() {
    let (_dir, ds) = open("running");
    ds.edit_running(&bfd("a", 1), EditOp::Merge, &meta(), &mut [])
        .unwrap();
    let generation = ds.generation();
    let before = xml(&ds, Target::Running);
    let deny = Refuse::new("'b'");
    denied(
        ds.checked(&deny)
            .edit_running(&bfd("b", 2), EditOp::Merge, &meta(), &mut []),
    );
    let tree = ds.get(Target::Running).unwrap();
    let mut bigger = tree.clone();
    data::apply_edit(ds.schema(), &mut bigger, &bfd("b", 2), EditOp::Merge).unwrap();
    denied(
        ds.checked(&deny)
            .commit_tree(bigger.clone(), &meta(), &mut []),
    );
    assert_eq!(
        (ds.generation(), xml(&ds, Target::Running)),
        (generation, before)
    );

    // Rollback is a write of running too.
    ds.commit_tree(bigger, &meta(), &mut []).unwrap();
    let deny_delete = Refuse::new("'b'");
    denied(
        ds.checked(&deny_delete)
            .rollback(generation, &meta(), &mut []),
    );
    assert!(xml(&ds, Target::Running).contains("<name>b</name>"));

    // Startup: copy, set and delete are checked against what startup holds.
    ds.checked(&Refuse::new("never"))
        .copy_running_to_startup()
        .unwrap();
    let deny_a = Refuse::new("/bfd:bfd");
    denied(ds.checked(&deny_a).delete_startup());
    denied(ds.checked(&deny_a).set_startup(DataTree::new()));
    assert!(xml(&ds, Target::Startup).contains("<name>a</name>"));
    ds.checked(&Refuse::new("never")).delete_startup().unwrap();
    assert!(ds.get(Target::Startup).is_none());
}
