//! Running's chunks, brought up to date off the commit path.
//!
//! A commit is durable once its log record (which holds every chunk it changed, before and
//! after) and the new generation are written: one batch, whatever the size of the change.
//! Running's own chunk keys (`r...`) then lag behind; they describe the configuration at the
//! *base* generation (`m:base`), and loading replays the records after it. This thread moves the
//! base forward: it writes the chunks of the records after it and the new base in one batch,
//! then drops log records that are both older than the history keeps and folded into the base.
//! A record is never deleted before the base covers it, so load always finds what to replay.
//!
//! Running's chunks are kept in [`BUCKETS`] buckets (`R` + bucket number), each holding the
//! chunks whose key hashes to it: folding a commit of 10,000 entries rewrites at most that many
//! sled values instead of 10,000 keys, and a one-entry commit rewrites one bucket.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use tracing::{debug, warn};

use crate::codec::{CodecError, Reader, Writer};
use crate::error::StoreError;
use crate::log::{CommitRecord, HISTORY};

/// How long the thread waits after a commit for others to fold with it.
const FOLD_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// How many buckets running's chunks are spread over.
pub(crate) const BUCKETS: u64 = 1024;

/// The bucket of a chunk key: FNV-1a, stable across builds and platforms.
pub(crate) fn bucket_of(key: &str) -> u16 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % BUCKETS) as u16
}

pub(crate) fn bucket_key(bucket: u16) -> [u8; 3] {
    let [hi, lo] = bucket.to_be_bytes();
    [b'R', hi, lo]
}

fn encode_bucket(chunks: &BTreeMap<String, String>) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(1);
    w.u32(chunks.len() as u32);
    for (k, v) in chunks {
        w.str(k);
        w.str(v);
    }
    w.buf
}

pub(crate) fn decode_bucket(buf: &[u8]) -> Result<BTreeMap<String, String>, CodecError> {
    let mut r = Reader::new(buf);
    if r.u8()? != 1 {
        return Err(CodecError("unknown bucket format"));
    }
    let n = r.u32()? as usize;
    let mut out = BTreeMap::new();
    for _ in 0..n {
        let k = r.str()?;
        out.insert(k, r.str()?);
    }
    r.done()?;
    Ok(out)
}

/// Running's stored chunks (at the base generation), by key: the buckets, and the per-chunk
/// keys (`r` + key) of databases written before buckets existed.
pub(crate) fn stored_chunks(db: &sled::Db) -> Result<BTreeMap<String, String>, StoreError> {
    let mut out = BTreeMap::new();
    for kv in db.scan_prefix(b"r") {
        let (k, v) = kv?;
        out.insert(
            String::from_utf8_lossy(&k[1..]).into_owned(),
            String::from_utf8_lossy(&v).into_owned(),
        );
    }
    for kv in db.scan_prefix(b"R") {
        let (_, v) = kv?;
        out.extend(decode_bucket(&v).map_err(|e| StoreError::Storage(e.to_string()))?);
    }
    Ok(out)
}

/// Move per-chunk keys of an older database into buckets, in one batch (before any commit).
pub(crate) fn migrate(db: &sled::Db) -> Result<(), StoreError> {
    if db.scan_prefix(b"r").next().is_none() {
        return Ok(());
    }
    let chunks = stored_chunks(db)?;
    let mut buckets: BTreeMap<u16, BTreeMap<String, String>> = BTreeMap::new();
    for (k, v) in chunks {
        buckets.entry(bucket_of(&k)).or_default().insert(k, v);
    }
    let mut batch = sled::Batch::default();
    for kv in db.scan_prefix(b"r") {
        batch.remove(kv?.0);
    }
    for (b, chunks) in &buckets {
        batch.insert(&bucket_key(*b), encode_bucket(chunks));
    }
    db.apply_batch(batch)?;
    db.flush()?;
    Ok(())
}

/// Free space a write needs besides its own size: sled writes in segments of up to 512 KiB and
/// must be able to start new ones.
const MIN_FREE_BYTES: u64 = 8 * 1024 * 1024;

/// sled 0.34 does not fail cleanly when the disk fills up (its flusher blocks), so a write is
/// refused up front unless there is ample room for it and for sled's segments.
pub(crate) fn check_room(dir: &std::path::Path, bytes: u64) -> Result<(), StoreError> {
    let free = fs2::available_space(dir).map_err(|e| {
        StoreError::Storage(format!("cannot check free space in {}: {e}", dir.display()))
    })?;
    let need = MIN_FREE_BYTES + 4 * bytes;
    if free < need {
        return Err(StoreError::Storage(format!(
            "disk full: {free} bytes free in {}, at least {need} needed",
            dir.display()
        )));
    }
    Ok(())
}

pub(crate) const BASE: &[u8] = b"m:base";

/// The id of the newest commit record in the log (0 if none).
pub(crate) fn last_logged(db: &sled::Db) -> Result<u64, StoreError> {
    Ok(db
        .scan_prefix(b"l")
        .keys()
        .next_back()
        .transpose()?
        .and_then(|k| {
            k.get(1..9)
                .map(|b| u64::from_be_bytes(b.try_into().unwrap_or([0; 8])))
        })
        .unwrap_or(0))
}

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
    paused: AtomicBool,
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
            paused: AtomicBool::new(false),
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
            // A wake per commit costs more than a fold when commits stream in: the ones that
            // come within the pause are folded in the same pass (a clean stop still folds
            // nothing it was not told of; load replays the log either way).
            std::thread::sleep(FOLD_PAUSE);
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
        let folded = chunks.len();
        let mut by_bucket: BTreeMap<u16, Vec<(String, Option<String>)>> = BTreeMap::new();
        for (key, xml) in chunks {
            by_bucket
                .entry(bucket_of(&key))
                .or_default()
                .push((key, xml));
        }
        let mut batch = sled::Batch::default();
        let mut bytes = 0u64;
        for (b, updates) in by_bucket {
            let key = bucket_key(b);
            let mut bucket = match self.db.get(key)? {
                Some(v) => decode_bucket(&v).map_err(|e| StoreError::Storage(e.to_string()))?,
                None => BTreeMap::new(),
            };
            for (k, xml) in updates {
                match xml {
                    Some(x) => bucket.insert(k, x),
                    None => bucket.remove(&k),
                };
            }
            if bucket.is_empty() {
                batch.remove(&key);
            } else {
                let v = encode_bucket(&bucket);
                bytes += v.len() as u64;
                batch.insert(&key, v);
            }
        }
        batch.insert(BASE, &generation.to_be_bytes());
        // Records older than the history keeps go, now that the base covers them.
        let trim_to = generation.saturating_sub(HISTORY as u64);
        for id in self.trimmed + 1..=trim_to {
            batch.remove(log_key(id));
        }
        check_room(&self.dir, bytes)?;
        self.db.apply_batch(batch)?;
        self.trimmed = self.trimmed.max(trim_to);
        self.base.store(generation, Ordering::Release);
        debug!(
            base = generation,
            chunks = folded,
            "running's stored chunks up to date"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_round_trip_and_spread() {
        let mut m = BTreeMap::new();
        m.insert("/a:x[a:n='1']".to_string(), "<x><n>1</n></x>".to_string());
        m.insert("/a:y".to_string(), String::new());
        assert_eq!(decode_bucket(&encode_bucket(&m)).unwrap(), m);
        assert!(decode_bucket(&encode_bucket(&m)[..4]).is_err());
        // A stable hash: the same key always lands in the same bucket, and keys spread.
        assert_eq!(
            bucket_of("/mg:monitor-groups/mg:monitor-group[mg:name='a']"),
            bucket_of("/mg:monitor-groups/mg:monitor-group[mg:name='a']")
        );
        let used: std::collections::BTreeSet<u16> = (0..10_000)
            .map(|i| {
                bucket_of(&format!(
                    "/mg:monitor-groups/mg:monitor-group[mg:name='mg{i}']"
                ))
            })
            .collect();
        assert!(used.len() > 1000, "{}", used.len());
    }

    /// A database written before buckets (one `r` key per chunk) reads the same and is moved
    /// into buckets, its old keys gone.
    #[test]
    fn per_chunk_keys_of_an_older_database_move_into_buckets() {
        let dir = std::env::temp_dir().join(format!("ne-ds-migrate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let db = sled::Config::new().path(&dir).open().unwrap();
        let chunks = [
            (
                "/bfd:bfd/bfd:session[bfd:name='a']",
                "<bfd><session><name>a</name></session></bfd>",
            ),
            (
                "/bfd:bfd/bfd:session[bfd:name='b']",
                "<bfd><session><name>b</name></session></bfd>",
            ),
        ];
        for (k, v) in chunks {
            db.insert(prefixed(b'r', k), v.as_bytes()).unwrap();
        }
        let before = stored_chunks(&db).unwrap();
        assert_eq!(before.len(), 2);
        migrate(&db).unwrap();
        assert!(db.scan_prefix(b"r").next().is_none());
        assert!(db.scan_prefix(b"R").next().is_some());
        assert_eq!(stored_chunks(&db).unwrap(), before);
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
