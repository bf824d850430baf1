//! A full disk: the commit fails with operation-failed and says why; running in memory and on
//! disk stays the old one. Uses a small tmpfs the test mounts (root only; skipped otherwise).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use datastore::{CommitMeta, Datastore, StoreError, Target};
use yang::data::{self, EditOp, EncodeOptions, ErrorTag};

struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

fn sessions(from: u32, n: u32) -> String {
    let mut x = String::from(r#"<bfd xmlns="urn:ne-agent:yang:ne-bfd">"#);
    for i in from..from + n {
        x.push_str(&format!(
            "<session><name>s{i}</name><peer-ip>10.0.{}.{}</peer-ip><local-discriminator>{i}</local-discriminator><source-ip>10.9.9.9</source-ip></session>",
            i / 256,
            i % 256
        ));
    }
    x.push_str("</bfd>");
    x
}

#[test]
fn a_full_disk_fails_the_commit_and_keeps_the_old_running() {
    if !is_root() {
        assert!(
            std::env::var_os("NE_REQUIRE_TOOLS").is_none(),
            "this test needs root (tmpfs mount)"
        );
        eprintln!("SKIPPED: not root, cannot mount a small tmpfs");
        return;
    }
    let dir = std::env::temp_dir().join(format!("ne-diskfull-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=32m", "tmpfs"])
        .arg(&dir)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "mount tmpfs failed");
    let _mount = Mount(dir.clone());
    let schema = Arc::new(yang::SchemaBuilder::new().embedded().build().unwrap());
    let meta = CommitMeta {
        user: "admin".into(),
        session: 1,
        comment: None,
    };
    let (ds, _) = Datastore::open(&dir.join("store"), Arc::clone(&schema)).unwrap();
    ds.edit_candidate(
        1,
        &yang::xml::parse_fragment(&sessions(1, 10)).unwrap(),
        EditOp::Merge,
    )
    .unwrap();
    ds.commit(&meta, &mut []).unwrap();
    let before = data::encode(
        &schema,
        &ds.get(Target::Running).unwrap(),
        EncodeOptions::default(),
    );

    // Fill the file system (leave 2 MiB), then try to commit.
    let filler = dir.join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 30 << 20]);
    let mut failure = None;
    for round in 0..20 {
        // Edits are persisted too (the candidate survives restarts), so either may fail.
        let xml = sessions(100 + round * 200, 200);
        let step = ds
            .edit_candidate(1, &yang::xml::parse_fragment(&xml).unwrap(), EditOp::Merge)
            .and_then(|()| ds.commit(&meta, &mut []).map(|_| ()));
        if let Err(e) = step {
            failure = Some(e);
            break;
        }
    }
    let err = failure.expect("commits kept succeeding on a full disk");
    assert!(matches!(err, StoreError::Storage(_)), "{err:?}");
    let e = &err.to_data_errors()[0];
    assert_eq!(e.tag, ErrorTag::OperationFailed);
    assert!(e.message.contains("disk full"), "{}", e.message);
    let running = data::encode(
        &schema,
        &ds.get(Target::Running).unwrap(),
        EncodeOptions::default(),
    );
    let generation = ds.generation();
    drop(ds);
    std::fs::remove_file(&filler).unwrap();
    // On disk: the last successful commit, readable.
    let (ds, _) = Datastore::open(&dir.join("store"), schema.clone()).unwrap();
    assert_eq!(ds.generation(), generation);
    let reopened = data::encode(
        &schema,
        &ds.get(Target::Running).unwrap(),
        EncodeOptions::default(),
    );
    assert_eq!(reopened, running);
    assert!(reopened.len() >= before.len());
}
