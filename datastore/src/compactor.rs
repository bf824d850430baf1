//! Running's chunks, brought up to date off the commit path.
//!
//! A commit is durable once its log record (which holds every chunk it changed, before and
//! after) and the new generation are written: one batch, whatever the size of the change.
//! Running's own chunk keys (`r...`) then lag behind; they describe the configuration at the
//! *base* generation (`m:base`), and loading replays the records after it. This thread moves the
//! base forward: it writes the chunks of the records after it and the new base in one batch,
//! then drops log records that are both older than the history keeps and folded into the base.
//! A record is never deleted before the base covers it, so load always finds what to replay.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use tracing::{debug, warn};

use crate::error::StoreError;
use crate::log::{CommitRecord, HISTORY};

pub(crate) const BASE: &[u8] = b"m:base";

pub(crate) fn log_key(id: u64) -> Vec<u8> {
    let mut k = vec![b'l'];
    k.extend_from_slice(&id.to_be_bytes());
    k
}

pub(crate) fn prefixed(prefix: u8, key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(prefix);
    k.extend_from_slice(key.as_bytes());
    k
}

/// The generation running's chunk keys describe. A database without one (new, or written
/// before the base existed, when every commit wrote running's chunks itself) is at its
/// generation: that is recorded before any commit can move the generation past it.
pub(crate) fn stored_base(db: &sled::Db, generation: u64) -> Result<u64, StoreError> {
    match db.get(BASE)? {
        Some(v) if v.len() == 8 => Ok(u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8]))),
        _ => {
            db.insert(BASE, &generation.to_be_bytes())?;
            db.flush()?;
            Ok(generation)
        }
    }
}

/// The records after `base` up to `generation`, in order: the chunks to lay over the base.
pub(crate) fn chunks_after(
    db: &sled::Db,
    base: u64,
    generation: u64,
) -> Result<BTreeMap<String, Option<String>>, StoreError> {
    let mut out = BTreeMap::new();
    for id in base + 1..=generation {
        let bytes = db.get(log_key(id))?.ok_or_else(|| {
            StoreError::Storage(format!(
                "commit {id} is missing from the log (running is stored up to {base})"
            ))
        })?;
        let r = CommitRecord::decode(&bytes).map_err(|e| StoreError::Storage(e.to_string()))?;
        for c in r.chunks {
            out.insert(c.key, c.new);
        }
    }
    Ok(out)
}

pub(crate) struct Compactor {
    tx: Option<Sender<u64>>,
    thread: Option<JoinHandle<()>>,
    /// Tests hold compaction back to exercise the replay of the log at load.
    paused: std::sync::atomic::AtomicBool,
}

struct Worker {
    db: sled::Db,
    dir: PathBuf,
    base: Arc<AtomicU64>,
    /// Log records up to this id are gone already.
    trimmed: u64,
}

impl Compactor {
    /// Start the thread; `base` is shared with the datastore (which only reads it).
    pub(crate) fn start(db: sled::Db, dir: PathBuf, base: Arc<AtomicU64>) -> Compactor {
        let (tx, rx) = mpsc::channel();
        let trimmed = db
            .scan_prefix(b"l")
            .keys()
            .next()
            .and_then(Result::ok)
            .and_then(|k| {
                k.get(1..9)
                    .map(|b| u64::from_be_bytes(b.try_into().unwrap_or([0; 8])))
            })
            .map_or(0, |first| first.saturating_sub(1));
        let mut w = Worker {
            db,
            dir,
            base,
            trimmed,
        };
        let thread = std::thread::Builder::new()
            .name("ne-compactor".into())
            .spawn(move || w.run(rx))
            .ok();
        Compactor {
            tx: Some(tx),
            thread,
            paused: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Commit `generation` is durable: fold it into the base when the thread gets to it.
    pub(crate) fn committed(&self, generation: u64) {
        if self.paused.load(Ordering::Relaxed) {
            return;
        }
        if let Some(tx) = &self.tx {
            let _ = tx.send(generation);
        }
    }
}

impl Compactor {
    pub(crate) fn pause(&self) {
        self.paused.store(true, Ordering::Relaxed);
    }
}

impl Drop for Compactor {
    fn drop(&mut self) {
        // The thread holds a handle on the database: it must be gone before the database can be
        // opened again. What it had not folded in is replayed at the next load.
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Worker {
    fn run(&mut self, rx: Receiver<u64>) {
        while let Ok(mut generation) = rx.recv() {
            // Commits that arrived meanwhile are folded in the same pass.
            while let Ok(g) = rx.try_recv() {
                generation = generation.max(g);
            }
            if let Err(e) = self.fold(generation) {
                warn!(error = %e, generation, "could not bring running's stored chunks up to date; the log keeps the commits");
            }
        }
    }

    fn fold(&mut self, generation: u64) -> Result<(), StoreError> {
        let base = self.base.load(Ordering::Acquire);
        if generation <= base {
            return Ok(());
        }
        let chunks = chunks_after(&self.db, base, generation)?;
        let mut batch = sled::Batch::default();
        let mut bytes = 0u64;
        for (key, xml) in &chunks {
            match xml {
                Some(x) => {
                    bytes += (key.len() + x.len()) as u64;
                    batch.insert(prefixed(b'r', key), x.as_bytes());
                }
                None => batch.remove(prefixed(b'r', key)),
            }
        }
        batch.insert(BASE, &generation.to_be_bytes());
        let keep_from = generation.saturating_sub(HISTORY as u64);
        let trim_to = keep_from.min(generation);
        for id in self.trimmed + 1..=trim_to {
            batch.remove(log_key(id));
        }
        crate::store::check_room(&self.dir, bytes)?;
        self.db.apply_batch(batch)?;
        self.trimmed = self.trimmed.max(trim_to);
        self.base.store(generation, Ordering::Release);
        debug!(
            base = generation,
            chunks = chunks.len(),
            "running's stored chunks up to date"
        );
        Ok(())
    }
}
