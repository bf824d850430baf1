//! A private candidate's commit (`Checked::commit_private`, the CLI's two-stage commit): its
//! changes are laid over running as it is; changes others committed meanwhile to other nodes
//! stay, and changes to the same nodes are a conflict that commits nothing.

use std::path::PathBuf;
use std::sync::Arc;

use datastore::{CommitMeta, Datastore, StoreError, Target, WriteCheck};
use yang::data::{self, DataError, DataTree, EditOp, EncodeOptions, ErrorTag};
use yang::diff::Change;
use yang::SchemaBuilder;

const BFD: &str = r#"xmlns="urn:ne-agent:yang:ne-bfd""#;
const NC: &str = r#"xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0""#;

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open(tag: &str) -> (TempDir, Datastore) {
    let p = std::env::temp_dir().join(format!("ne-ds-private-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    let schema = Arc::new(SchemaBuilder::new().embedded().build().unwrap());
    let (ds, _) = Datastore::open(&p, schema).unwrap();
    (TempDir(p), ds)
}

fn meta(session: u32) -> CommitMeta {
    CommitMeta {
        user: "u".into(),
        session,
        comment: Some("cli".into()),
    }
}

fn edit(ds: &Datastore, tree: &mut DataTree, xml: &str) {
    let els = yang::xml::parse_fragment(&format!("<bfd {BFD} {NC}>{xml}</bfd>")).unwrap();
    data::apply_edit(ds.schema(), tree, &els, EditOp::Merge).unwrap();
}

fn session(name: &str, disc: u32) -> String {
    format!("<session><name>{name}</name><peer-ip>10.0.0.{disc}</peer-ip><local-discriminator>{disc}</local-discriminator></session>")
}

/// Commit `xml` to running as another session would (edit-config on running).
fn others(ds: &Datastore, xml: &str) {
    let els = yang::xml::parse_fragment(&format!("<bfd {BFD} {NC}>{xml}</bfd>")).unwrap();
    ds.edit_running(&els, EditOp::Merge, &meta(9), &mut [])
        .unwrap();
}

fn running(ds: &Datastore) -> String {
    data::encode(
        ds.schema(),
        &ds.get(Target::Running).unwrap_or_default(),
        EncodeOptions::default(),
    )
}

struct Allow;

impl WriteCheck for Allow {
    fn check(&self, _: &DataTree, _: &DataTree, _: &[Change]) -> Result<(), DataError> {
        Ok(())
    }
}

/// Running as the store has it: a session's starting point.
fn base(ds: &Datastore) -> DataTree {
    ds.get(Target::Running).unwrap_or_default()
}

#[test]
fn unchanged_running_takes_the_candidate() {
    let (_d, ds) = open("plain");
    let base = base(&ds);
    let mut cand = base.clone();
    edit(&ds, &mut cand, &session("a", 1));
    let out = ds
        .checked(&Allow)
        .commit_private(&base, &cand, &meta(1), &mut [])
        .unwrap();
    assert_eq!(out.id, Some(1));
    assert!(running(&ds).contains("<name>a</name>"));
    assert_eq!(ds.history()[0].comment.as_deref(), Some("cli"));
}

#[test]
fn changes_of_others_to_other_nodes_stay() {
    let (_d, ds) = open("merge");
    others(&ds, &session("a", 1));
    let base = base(&ds);
    let mut cand = base.clone();
    // This session: a new session b, and a's multiplier.
    edit(
        &ds,
        &mut cand,
        &format!(
            "{}<session><name>a</name><detect-multiplier>5</detect-multiplier></session>",
            session("b", 2)
        ),
    );
    // Meanwhile others: session c, and a's tx interval.
    others(
        &ds,
        &format!(
            "{}<session><name>a</name><min-tx-interval>50</min-tx-interval></session>",
            session("c", 3)
        ),
    );
    ds.checked(&Allow)
        .commit_private(&base, &cand, &meta(1), &mut [])
        .unwrap();
    let xml = running(&ds);
    for want in [
        "<name>a</name>",
        "<name>b</name>",
        "<name>c</name>",
        "<detect-multiplier>5</detect-multiplier>",
        "<min-tx-interval>50</min-tx-interval>",
    ] {
        assert!(xml.contains(want), "{want} in {xml}");
    }
}

#[test]
fn changes_of_others_to_the_same_nodes_conflict() {
    let (_d, ds) = open("conflict");
    others(&ds, &session("a", 1));
    let base = base(&ds);
    let mut cand = base.clone();
    edit(
        &ds,
        &mut cand,
        "<session><name>a</name><detect-multiplier>5</detect-multiplier></session>",
    );
    others(
        &ds,
        "<session><name>a</name><detect-multiplier>7</detect-multiplier></session>",
    );
    let before = running(&ds);
    let generation = ds.generation();
    match ds
        .checked(&Allow)
        .commit_private(&base, &cand, &meta(1), &mut [])
    {
        Err(e @ StoreError::Conflict(_)) => {
            let StoreError::Conflict(paths) = &e else {
                unreachable!()
            };
            assert_eq!(
                paths,
                &["/bfd:bfd/bfd:session[bfd:name='a']/bfd:detect-multiplier".to_string()]
            );
            let de = &e.to_data_errors()[0];
            assert_eq!(de.tag, ErrorTag::OperationFailed);
            assert_eq!(de.app_tag.as_deref(), Some("commit-conflict"));
            assert!(de.message.contains("changed by another session"), "{de}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(running(&ds), before);
    assert_eq!(ds.generation(), generation);

    // The session deletes what others changed (the only session: /bfd goes with it): a
    // conflict too.
    let mut cand = base.clone();
    let els = yang::xml::parse_fragment(&format!(
        "<bfd {BFD} {NC}><session nc:operation=\"delete\"><name>a</name></session></bfd>"
    ))
    .unwrap();
    data::apply_edit(ds.schema(), &mut cand, &els, EditOp::Merge).unwrap();
    let r = ds
        .checked(&Allow)
        .commit_private(&base, &cand, &meta(1), &mut []);
    assert!(
        matches!(&r, Err(StoreError::Conflict(p)) if p == &["/bfd:bfd"]),
        "{r:?}"
    );
}

#[test]
fn the_same_change_on_both_sides_is_no_conflict() {
    let (_d, ds) = open("same");
    others(&ds, &session("a", 1));
    let base = base(&ds);
    let mut cand = base.clone();
    let change = "<session><name>a</name><detect-multiplier>5</detect-multiplier></session>";
    edit(&ds, &mut cand, change);
    others(&ds, change);
    let out = ds
        .checked(&Allow)
        .commit_private(&base, &cand, &meta(1), &mut [])
        .unwrap();
    assert_eq!(out.id, None, "nothing left to change");
}
