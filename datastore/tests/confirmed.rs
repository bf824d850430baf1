//! Confirmed commit (RFC 6241 §8.4), including the netopeer2 bug list (netconf.md §1.5):
//! a follow-up confirmed commit must keep the original rollback point (#1207), a failed confirmed
//! commit arms nothing (#1826), and the pending state survives a restart (#1345).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use datastore::{CommitMeta, CommitRequest, Datastore, StoreError, Target};
use yang::data::{self, EditOp, EncodeOptions};
use yang::{Schema, SchemaBuilder};

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("ne-cc-{tag}-{}", std::process::id()));
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

fn meta(session: u32) -> CommitMeta {
    CommitMeta {
        user: "admin".into(),
        session,
        comment: None,
    }
}

/// Set the description of interface eth0 in the candidate.
fn set(ds: &Datastore, session: u32, desc: &str) {
    let xml = format!(
        r#"<interfaces xmlns="urn:ne-agent:yang:ne-interfaces"><interface><name>eth0</name><description>{desc}</description></interface></interfaces>"#
    );
    ds.edit_candidate(
        session,
        &yang::xml::parse_fragment(&xml).unwrap(),
        EditOp::Merge,
    )
    .unwrap();
}

fn running(ds: &Datastore) -> String {
    let x = data::encode(
        ds.schema(),
        &ds.get(Target::Running).unwrap(),
        EncodeOptions::default(),
    );
    x.split("<description>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or("")
        .to_string()
}

fn confirmed(timeout_s: u32, persist: Option<&str>, persist_id: Option<&str>) -> CommitRequest {
    CommitRequest {
        confirmed: true,
        timeout_s: Some(timeout_s),
        persist: persist.map(str::to_string),
        persist_id: persist_id.map(str::to_string),
    }
}

fn plain(persist_id: Option<&str>) -> CommitRequest {
    CommitRequest {
        persist_id: persist_id.map(str::to_string),
        ..CommitRequest::default()
    }
}

#[test]
fn confirming_commit_makes_it_stick() {
    let dir = TempDir::new("confirm");
    let (ds, _) = Datastore::open(&dir.0, schema()).unwrap();
    set(&ds, 1, "a");
    ds.commit(&meta(1), &mut []).unwrap();
    set(&ds, 1, "b");
    ds.commit_request(&confirmed(600, None, None), &meta(1), &mut [])
        .unwrap();
    assert_eq!(running(&ds), "b");
    assert!(ds.pending_confirmed().is_some());
    // Another session cannot confirm a non-persistent confirmed commit.
    let e = ds
        .commit_request(&plain(None), &meta(2), &mut [])
        .unwrap_err();
    assert!(matches!(e, StoreError::Confirm(_)), "{e:?}");
    ds.commit_request(&plain(None), &meta(1), &mut []).unwrap();
    assert!(ds.pending_confirmed().is_none());
    assert!(ds.expire_confirmed(&mut []).is_none());
    assert_eq!(running(&ds), "b");
    assert!(matches!(
        ds.cancel_commit(None, &meta(1), &mut []),
        Err(StoreError::Confirm(_))
    ));
}

#[test]
fn timeout_rolls_back() {
    let dir = TempDir::new("timeout");
    let (ds, _) = Datastore::open(&dir.0, schema()).unwrap();
    set(&ds, 1, "a");
    ds.commit(&meta(1), &mut []).unwrap();
    set(&ds, 1, "b");
    ds.commit_request(&confirmed(1, None, None), &meta(1), &mut [])
        .unwrap();
    assert!(ds.expire_confirmed(&mut []).is_none(), "not yet due");
    std::thread::sleep(Duration::from_millis(1100));
    ds.expire_confirmed(&mut []).unwrap().unwrap();
    assert_eq!(running(&ds), "a");
    assert!(ds.pending_confirmed().is_none());
}

#[test]
fn follow_up_confirmed_commit_keeps_the_original_rollback_point() {
    let dir = TempDir::new("followup");
    let (ds, _) = Datastore::open(&dir.0, schema()).unwrap();
    set(&ds, 1, "a");
    ds.commit(&meta(1), &mut []).unwrap();
    set(&ds, 1, "b");
    ds.commit_request(&confirmed(600, None, None), &meta(1), &mut [])
        .unwrap();
    let first_deadline = ds.pending_confirmed().unwrap().deadline_ms;
    set(&ds, 1, "c");
    std::thread::sleep(Duration::from_millis(5));
    ds.commit_request(&confirmed(900, None, None), &meta(1), &mut [])
        .unwrap();
    assert_eq!(running(&ds), "c");
    assert!(
        ds.pending_confirmed().unwrap().deadline_ms > first_deadline,
        "timer re-armed"
    );
    ds.cancel_commit(None, &meta(1), &mut []).unwrap();
    assert_eq!(
        running(&ds),
        "a",
        "back to before the first confirmed commit, not to b"
    );
}

#[test]
fn a_failed_confirmed_commit_arms_nothing() {
    let dir = TempDir::new("failed");
    let (ds, _) = Datastore::open(&dir.0, schema()).unwrap();
    set(&ds, 1, "a");
    ds.commit(&meta(1), &mut []).unwrap();
    // Two BFD sessions with one discriminator: the commit fails validation.
    let bad = r#"<bfd xmlns="urn:ne-agent:yang:ne-bfd"><session><name>x</name><peer-ip>10.0.0.1</peer-ip><local-discriminator>1</local-discriminator></session><session><name>y</name><peer-ip>10.0.0.2</peer-ip><local-discriminator>1</local-discriminator></session></bfd>"#;
    ds.edit_candidate(1, &yang::xml::parse_fragment(bad).unwrap(), EditOp::Merge)
        .unwrap();
    let e = ds
        .commit_request(&confirmed(1, None, None), &meta(1), &mut [])
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
    assert!(ds.pending_confirmed().is_none());
    std::thread::sleep(Duration::from_millis(1100));
    assert!(ds.expire_confirmed(&mut []).is_none());
    assert_eq!(running(&ds), "a");
    drop(ds);
    let (ds, _) = Datastore::open(&dir.0, schema()).unwrap();
    assert!(ds.pending_confirmed().is_none());
}

#[test]
fn persist_lets_another_session_confirm_and_outlives_the_session() {
    let dir = TempDir::new("persist");
    let (ds, _) = Datastore::open(&dir.0, schema()).unwrap();
    set(&ds, 1, "a");
    ds.commit(&meta(1), &mut []).unwrap();
    set(&ds, 1, "b");
    ds.commit_request(&confirmed(600, Some("tok"), None), &meta(1), &mut [])
        .unwrap();
    assert!(
        ds.session_ended(1, &mut []).is_none(),
        "a persistent commit outlives its session"
    );
    assert_eq!(running(&ds), "b");
    let e = ds
        .commit_request(&plain(Some("wrong")), &meta(2), &mut [])
        .unwrap_err();
    assert!(matches!(e, StoreError::Confirm(_)));
    ds.commit_request(&plain(Some("tok")), &meta(2), &mut [])
        .unwrap();
    assert!(ds.pending_confirmed().is_none());
    assert_eq!(running(&ds), "b");
}

#[test]
fn the_issuing_session_ending_rolls_back() {
    let dir = TempDir::new("session");
    let (ds, _) = Datastore::open(&dir.0, schema()).unwrap();
    set(&ds, 1, "a");
    ds.commit(&meta(1), &mut []).unwrap();
    set(&ds, 3, "b");
    ds.commit_request(&confirmed(600, None, None), &meta(3), &mut [])
        .unwrap();
    assert!(ds.session_ended(4, &mut []).is_none());
    ds.session_ended(3, &mut []).unwrap().unwrap();
    assert_eq!(running(&ds), "a");
}

#[test]
fn pending_state_survives_a_restart() {
    let dir = TempDir::new("restart");
    let s = schema();
    {
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        set(&ds, 1, "a");
        ds.commit(&meta(1), &mut []).unwrap();
        set(&ds, 1, "b");
        ds.commit_request(&confirmed(600, Some("tok"), None), &meta(1), &mut [])
            .unwrap();
    }
    {
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        let p = ds.pending_confirmed().expect("pending after restart");
        assert_eq!(p.persist.as_deref(), Some("tok"));
        assert_eq!(running(&ds), "b");
        ds.cancel_commit(Some("tok"), &meta(9), &mut []).unwrap();
        assert_eq!(running(&ds), "a");
    }
    // Expired while down: rolled back at boot.
    {
        let (ds, _) = Datastore::open(&dir.0, Arc::clone(&s)).unwrap();
        set(&ds, 1, "c");
        ds.commit_request(&confirmed(1, Some("t2"), None), &meta(1), &mut [])
            .unwrap();
        assert_eq!(running(&ds), "c");
    }
    std::thread::sleep(Duration::from_millis(1100));
    let (ds, _) = Datastore::open(&dir.0, s).unwrap();
    assert!(ds.pending_confirmed().is_none());
    assert_eq!(running(&ds), "a");
}
