//! Running, candidate and startup in one sled database, with locks and the commit log.
//!
//! Reads come from in-memory trees. A commit writes only the chunks it changed (see
//! [`crate::chunks`]), the commit-log entry and the new generation in one sled batch, and flushes
//! it before returning, so an acknowledged commit survives a crash and an unacknowledged one is
//! either wholly there or wholly absent.
//!
//! Key layout in the one sled tree: `r<chunk>` running, `c<chunk>` candidate chunks that differ
//! from running (an empty value: absent in the candidate), `s<chunk>` startup, `l<id>` commit log
//! (id as 8 big-endian bytes), `m:generation`, `m:startup` (present when startup exists), `m:validated` (see
//! [`crate::validated`]).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::{info, warn};
use yang::data::{apply_edit, DataTree, EditOp};
use yang::diff::{diff, ChangeOp};
use yang::validate::{validate, validate_changes, ValidateOptions};
use yang::xml::Element;
use yang::Schema;

use crate::checked::Unchecked;
use crate::chunks::{all_chunks, chunk_keys_under, load, ChunkKeys, Chunks};
use crate::commit::{CommitMeta, CommitOutcome, Subscriber, WriteCheck};
use crate::compactor::{self, check_room, log_key, prefixed, Compactor};
use crate::confirmed::{CommitRequest, Pending, DEFAULT_TIMEOUT_S};
use crate::durable::{self, Flusher};
use crate::error::StoreError;
use crate::journal;
use crate::log::{encode_record, ChunkImage, CommitInfo, CommitRecord, HISTORY};
use crate::rebase::{rebase, Rebase};
use crate::reclaim::Reclaimer;
use crate::rendered::Rendered;
use crate::validated::{self, VALIDATED};

const GENERATION: &[u8] = b"m:generation";
const STARTUP_PRESENT: &[u8] = b"m:startup";
const CONFIRMED: &[u8] = b"m:confirmed";

/// What a change set tells of a chunk it touches, without rendering it.
#[derive(Clone, Copy, Default)]
struct Touched {
    /// Created whole: not in the tree before the changes.
    absent_before: bool,
    /// Deleted whole, or below a deleted node: not in the tree after them.
    absent_after: bool,
}

impl Touched {
    fn learn(&mut self, t: Touched) {
        self.absent_before |= t.absent_before;
        self.absent_after |= t.absent_after;
    }
}

/// A sled batch and the number of bytes it writes (for the free-space check).
#[derive(Default)]
struct Writes {
    batch: sled::Batch,
    bytes: u64,
}

impl Writes {
    fn insert(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.bytes += (key.as_ref().len() + value.as_ref().len()) as u64;
        self.batch.insert(key.as_ref(), value.as_ref());
    }

    fn remove(&mut self, key: impl AsRef<[u8]>) {
        self.batch.remove(key.as_ref());
    }
}

/// What a commit does to the confirmed-commit state, in the same batch.
pub(crate) enum Confirm {
    Keep,
    /// Arm (first confirmed commit): save the rollback point.
    Arm(Pending),
    /// Follow-up confirmed commit: new deadline/persist, same rollback point.
    Extend(Pending),
    /// Confirmed, cancelled or timed out: drop the state and the rollback point.
    Clear,
}

/// The three configuration datastores (RFC 6241 §5.1, §8.3, §8.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Running,
    Candidate,
    Startup,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Running => "running",
            Target::Candidate => "candidate",
            Target::Startup => "startup",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What happened at boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootSource {
    Empty,
    Running,
    Startup,
    /// Startup did not validate; the last good running was used.
    StartupRefused(String),
}

pub(crate) struct State {
    running: DataTree,
    candidate: DataTree,
    candidate_dirty: bool,
    startup: Option<DataTree>,
    generation: u64,
    /// The commit log without its change sets (those are read from disk when asked for).
    history: VecDeque<CommitInfo>,
    locks: [Option<u32>; 3],
    /// When each lock was taken (unix ms).
    lock_times: [u64; 3],
    /// Running passed whole-tree validation (checked at boot), so commits validate changes only.
    running_valid: bool,
    pending: Option<Pending>,
    /// The next candidate journal record's number, and how many are stored.
    journal_next: u64,
    journal_len: usize,
    /// The chunks the candidate's last edit rendered, for the commit of that candidate.
    rendered: Rendered,
}

pub struct Datastore {
    schema: Arc<Schema>,
    db: sled::Db,
    dir: std::path::PathBuf,
    state: Mutex<State>,
    reclaim: Reclaimer,
    /// The generation running's stored chunks describe; the compactor moves it forward.
    base: Arc<std::sync::atomic::AtomicU64>,
    compactor: Compactor,
    /// Flushes for commits whose callers wait asynchronously (see [`crate::durable`]).
    flusher: Flusher,
    /// Whether boot validated the whole running (no mark for these models).
    checked_at_boot: bool,
    /// The models' fingerprint, for the mark of a validated running.
    fingerprint: [u8; 8],
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A lock on running (RFC 6241 §7.5) refuses another session's commit, rollback and
/// cancel-commit as it does an edit-config: they change running just the same. The agent's own
/// rollbacks (a confirmed commit timing out or losing its session) go ahead regardless.
fn running_writable(st: &State, session: u32) -> Result<(), StoreError> {
    match st.locks[Target::Running.index()] {
        Some(holder) if holder != session => Err(StoreError::Locked { holder }),
        _ => Ok(()),
    }
}

/// The changed paths of a commit for its log line: the first few, then how many more.
fn changed_paths(changes: &[yang::diff::Change]) -> String {
    const SHOWN: usize = 8;
    let mut s = changes
        .iter()
        .take(SHOWN)
        .map(|c| format!("{} {}", c.op.name(), c.path))
        .collect::<Vec<_>>()
        .join(", ");
    if changes.len() > SHOWN {
        s.push_str(&format!(", and {} more", changes.len() - SHOWN));
    }
    s
}

/// The confirmed-commit decision of a plain commit: the session may write running, and any
/// pending confirmed commit stays as it is.
pub(crate) fn plain_commit(
    session: u32,
) -> impl FnOnce(&State, u64) -> Result<Confirm, StoreError> {
    move |st, _| {
        running_writable(st, session)?;
        Ok(Confirm::Keep)
    }
}

impl Datastore {
    /// Open (or create) the database in `dir` and load the datastores.
    pub fn open(dir: &Path, schema: Arc<Schema>) -> Result<(Datastore, BootSource), StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Storage(format!("cannot create {}: {e}", dir.display())))?;
        let db = open_db(&dir.join("db"))?;
        let stored_generation = match db.get(GENERATION)? {
            Some(v) if v.len() == 8 => {
                let mut a = [0u8; 8];
                a.copy_from_slice(&v);
                u64::from_be_bytes(a)
            }
            _ => 0,
        };
        // A commit that changed nothing but running is its log record alone (see
        // `persist_commit`): the newest record is the generation when it is past the key.
        let generation = stored_generation.max(compactor::last_logged(&db)?);
        let base = compactor::stored_base(&db, generation)?;
        compactor::migrate(&db)?;
        let mut running_chunks = compactor::stored_chunks(&db)?;
        for (key, xml) in compactor::chunks_after(&db, base, generation)? {
            match xml {
                Some(x) => running_chunks.insert(key, x),
                None => running_chunks.remove(&key),
            };
        }
        let running =
            load(&schema, running_chunks.values().map(String::as_str)).map_err(StoreError::Edit)?;
        let (candidate, journal_next, journal_len) = load_candidate(&db, &schema, running_chunks)?;
        // A running committed under these very models was validated then (see
        // `crate::validated`); only other models, or no mark, need the whole-tree check.
        let fingerprint = validated::fingerprint(&schema);
        let marked = db.get(VALIDATED)?.is_some_and(|v| *v == fingerprint);
        let running_valid = marked
            || match validate(&schema, &running, ValidateOptions::default()) {
                Ok(()) => {
                    db.insert(VALIDATED, &fingerprint)?;
                    true
                }
                Err(errs) => {
                    warn!(errors = errs.len(), first = %errs[0], "the stored running configuration does not validate against the models");
                    false
                }
            };
        let pending = match db.get(CONFIRMED)? {
            Some(v) => match Pending::decode(&v) {
                Ok(p) => Some(p),
                Err(e) => {
                    warn!(error = %e, "unreadable confirmed-commit state; ignoring it");
                    None
                }
            },
            None => None,
        };
        let mut history = VecDeque::new();
        for kv in db.scan_prefix(b"l") {
            let (_, v) = kv?;
            match CommitInfo::decode(&v) {
                Ok(info) => history.push_back(info),
                Err(e) => warn!(error = %e, "skipping an unreadable commit-log entry"),
            }
        }
        // The log may hold more than the history while the compactor catches up.
        while history.len() > HISTORY {
            history.pop_front();
        }
        let base = Arc::new(std::sync::atomic::AtomicU64::new(base));
        // A startup that no longer fits the models is refused below, like one that does not
        // validate; a running that does not load is an error (there is nothing better to use).
        let startup = if db.contains_key(STARTUP_PRESENT)? {
            Some(load_prefix(&db, &schema, b's'))
        } else {
            None
        };
        let compactor = Compactor::start(db.clone(), dir.to_path_buf(), Arc::clone(&base));
        if base.load(std::sync::atomic::Ordering::Acquire) < generation {
            compactor.committed(generation);
        }
        let store = Datastore {
            schema: Arc::clone(&schema),
            flusher: Flusher::start(db.clone()),
            db,
            dir: dir.to_path_buf(),
            reclaim: Reclaimer::start(),
            base,
            compactor,
            checked_at_boot: !marked,
            fingerprint,
            state: Mutex::new(State {
                candidate_dirty: candidate
                    .as_ref()
                    .is_some_and(|c| !diff(&schema, &running, c).is_empty()),
                candidate: candidate.unwrap_or_else(|| running.clone()),
                running,
                startup: startup.clone().and_then(Result::ok),
                generation,
                history,
                locks: [None; 3],
                lock_times: [0; 3],
                running_valid,
                pending,
                journal_next,
                journal_len,
                rendered: Rendered::default(),
            }),
        };
        let mut source = if generation > 0 {
            BootSource::Running
        } else {
            BootSource::Empty
        };
        if let Some(startup) = startup {
            let checked = startup.and_then(|t| {
                validate(&schema, &t, ValidateOptions::default())
                    .map(|()| t)
                    .map_err(StoreError::Invalid)
            });
            match checked {
                Ok(startup) => {
                    let meta = CommitMeta {
                        user: "startup".into(),
                        session: 0,
                        comment: Some("loaded from startup at boot".into()),
                    };
                    let out = store.commit_tree(startup, &meta, &mut [])?;
                    if out.id.is_some() && generation > 0 {
                        // Commits made after the last save to startup are set aside, not lost.
                        warn!(
                            changes = out.changes.len(),
                            last_running = generation,
                            "booted from startup, which differs from the last committed running; \
                             ne-system:rollback to that commit restores it"
                        );
                    }
                    source = BootSource::Startup;
                }
                Err(e) => {
                    let why = e.to_string();
                    warn!(reason = %why, "startup configuration no longer validates; starting with the last good running instead");
                    source = BootSource::StartupRefused(why);
                }
            }
        }
        // A confirmed commit whose deadline passed while the agent was down rolls back now.
        if store
            .state()
            .pending
            .as_ref()
            .is_some_and(|p| p.deadline_ms <= now_ms())
        {
            warn!("the pending confirmed commit expired while the agent was down; rolling back");
            let meta = CommitMeta {
                user: "confirmed-commit".into(),
                session: 0,
                comment: Some("confirm-timeout expired while the agent was down".into()),
            };
            store.rollback_confirmed(&meta, &mut [])?;
        }
        info!(generation, source = ?source, "datastores loaded");
        Ok((store, source))
    }

    /// Whether this open validated the whole running (no mark of a validation under these
    /// models; see `crate::validated`).
    #[doc(hidden)]
    pub fn checked_at_boot(&self) -> bool {
        self.checked_at_boot
    }

    /// Whether running's stored chunks have caught up with the last commit (the compactor
    /// works in the background; until then loading replays the newer log records).
    pub fn compacted(&self) -> bool {
        self.base.load(std::sync::atomic::Ordering::Acquire) >= self.state().generation
    }

    /// Stop bringing running's stored chunks up to date (tests of the log replay at load).
    #[doc(hidden)]
    pub fn pause_compaction(&self) {
        self.compactor.pause();
    }

    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-written state behind (every
        // mutation is a whole-tree swap at the end), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drop `tree` on the thread that drops replaced datastores, not on the caller's: a
    /// reader's large tree (the engines' state of a GET) goes after its reply.
    pub fn release(&self, tree: DataTree) {
        self.reclaim.release(tree);
    }

    /// A snapshot of a datastore (cheap: trees share structure). Startup may not exist.
    pub fn get(&self, target: Target) -> Option<DataTree> {
        let st = self.state();
        match target {
            Target::Running => Some(st.running.clone()),
            Target::Candidate => Some(st.candidate.clone()),
            Target::Startup => st.startup.clone(),
        }
    }

    /// The id of the last commit (0 before the first).
    pub fn generation(&self) -> u64 {
        self.state().generation
    }

    /// Does the candidate differ from running?
    pub fn candidate_dirty(&self) -> bool {
        self.state().candidate_dirty
    }

    /// The commit log, oldest first.
    pub fn history(&self) -> Vec<CommitInfo> {
        self.state().history.iter().cloned().collect()
    }

    /// One commit-log entry with its change set.
    pub fn record(&self, id: u64) -> Result<CommitRecord, StoreError> {
        let bytes = self
            .db
            .get(log_key(id))?
            .ok_or(StoreError::UnknownCommit(id))?;
        CommitRecord::decode(&bytes).map_err(|e| StoreError::Storage(e.to_string()))
    }

    // ---- locks -----------------------------------------------------------------------------------

    pub fn lock_holder(&self, target: Target) -> Option<u32> {
        self.state().locks[target.index()]
    }

    /// When the current lock on a datastore was taken (unix ms).
    pub fn lock_time_ms(&self, target: Target) -> Option<u64> {
        let st = self.state();
        st.locks[target.index()].map(|_| st.lock_times[target.index()])
    }

    /// Lock a datastore for a session (RFC 6241 §7.5).
    pub fn lock(&self, target: Target, session: u32) -> Result<(), StoreError> {
        let mut st = self.state();
        if let Some(holder) = st.locks[target.index()] {
            return Err(StoreError::Locked { holder });
        }
        if target == Target::Candidate && st.candidate_dirty {
            return Err(StoreError::CandidateDirty);
        }
        st.locks[target.index()] = Some(session);
        st.lock_times[target.index()] = now_ms();
        Ok(())
    }

    pub fn unlock(&self, target: Target, session: u32) -> Result<(), StoreError> {
        let mut st = self.state();
        if st.locks[target.index()] != Some(session) {
            return Err(StoreError::NotLockHolder);
        }
        st.locks[target.index()] = None;
        Ok(())
    }

    /// Is a datastore locked by someone other than `session`?
    pub fn check_writable(&self, target: Target, session: u32) -> Result<(), StoreError> {
        match self.state().locks[target.index()] {
            Some(holder) if holder != session => Err(StoreError::Locked { holder }),
            _ => Ok(()),
        }
    }

    /// A session ended: release its locks; if it held the candidate lock, its uncommitted
    /// candidate edits are discarded (an automation run that died does not poison the next one);
    /// a confirmed commit it issued without `persist` is rolled back (RFC 6241 §8.4.1).
    pub fn session_ended(
        &self,
        session: u32,
        subscribers: &mut [&mut dyn Subscriber],
    ) -> Option<Result<CommitOutcome, StoreError>> {
        self.release_session(session);
        let owned = self
            .state()
            .pending
            .as_ref()
            .is_some_and(|p| p.persist.is_none() && p.session == session);
        owned.then(|| {
            let meta = CommitMeta {
                user: "confirmed-commit".into(),
                session,
                comment: Some("the session of an unconfirmed commit ended".into()),
            };
            self.rollback_confirmed(&meta, subscribers)
        })
    }

    fn release_session(&self, session: u32) {
        let mut st = self.state();
        if st.locks[Target::Candidate.index()] == Some(session) && st.candidate_dirty {
            info!(
                session,
                "discarding the uncommitted candidate of a session that ended holding its lock"
            );
            if let Err(e) = self.clear_candidate_overlay() {
                warn!(error = %e, "could not clear the stored candidate");
            }
            st.candidate = st.running.clone();
            st.candidate_dirty = false;
        }
        for l in st.locks.iter_mut() {
            if *l == Some(session) {
                *l = None;
            }
        }
    }

    // ---- candidate -------------------------------------------------------------------------------

    /// edit-config on the candidate: atomic, types checked; whole-tree validation waits for
    /// validate/commit.
    pub fn edit_candidate(
        &self,
        session: u32,
        config: &[Element],
        default_op: EditOp,
    ) -> Result<(), StoreError> {
        self.checked(&Unchecked)
            .edit_candidate(session, config, default_op)
    }

    /// Replace the candidate with a whole tree (copy-config to candidate).
    pub fn set_candidate(&self, session: u32, tree: DataTree) -> Result<(), StoreError> {
        self.checked(&Unchecked).set_candidate(session, tree)
    }

    /// The candidate, and whether `session` may edit it (no other session holds its lock).
    pub(crate) fn candidate_for(&self, session: u32) -> Result<MutexGuard<'_, State>, StoreError> {
        let st = self.state();
        if let Some(holder) = st.locks[Target::Candidate.index()].filter(|&h| h != session) {
            return Err(StoreError::Locked { holder });
        }
        Ok(st)
    }

    /// The candidate before an edit, to apply the edit to.
    pub(crate) fn candidate_tree(st: &State) -> DataTree {
        st.candidate.clone()
    }

    /// Make `tree` the candidate, persisting the chunks in which it differs from running;
    /// `check` sees the change first and may refuse it.
    pub(crate) fn store_candidate(
        &self,
        st: &mut State,
        tree: DataTree,
        check: &dyn WriteCheck,
    ) -> Result<(), StoreError> {
        let edit = diff(&self.schema, &st.candidate, &tree);
        let mut rendered: journal::Entry = Vec::new();
        if !edit.is_empty() {
            check
                .check(&st.candidate, &tree, &edit)
                .map_err(StoreError::Denied)?;
            // One journal record for the whole edit: the chunks it touched, as they are now.
            let mut chunks = Chunks::new(&self.schema, &tree);
            let touched = self.touched_chunks(&edit, &st.candidate);
            chunks.prefetch(
                touched
                    .iter()
                    .filter(|(_, t)| !t.absent_after)
                    .map(|(k, _)| k.as_str()),
            );
            rendered = touched
                .into_iter()
                .map(|(key, touched)| {
                    let xml = (!touched.absent_after).then(|| chunks.xml(&key)).flatten();
                    (key, xml)
                })
                .collect();
            let mut writes = Writes::default();
            writes.insert(journal::key(st.journal_next), journal::encode(&rendered));
            // Not flushed: NETCONF asks no durability of the candidate. sled writes it out within
            // half a second, at a clean stop, and with the next commit's flush; a crash may
            // lose the last uncommitted edits, never a commit.
            self.apply_unflushed(writes)?;
            st.journal_next += 1;
            st.journal_len += 1;
        }
        // A candidate equal to running differs from it after any change (the common case of
        // an edit after a commit, which spares a second diff of the whole edit).
        st.candidate_dirty = if edit.is_empty() {
            st.candidate_dirty
        } else {
            // A dirty candidate may be brought back to running by an edit: compare.
            !st.candidate_dirty || !diff(&self.schema, &st.running, &tree).is_empty()
        };
        if !edit.is_empty() {
            st.rendered.edited(&st.candidate, &tree, edit, rendered);
        }
        let old = std::mem::replace(&mut st.candidate, tree);
        self.reclaim.release(old);
        Ok(())
    }

    /// discard-changes: the candidate becomes running again.
    pub fn discard_changes(&self) -> Result<(), StoreError> {
        let mut st = self.state();
        self.clear_candidate_overlay()?;
        st.candidate = st.running.clone();
        st.candidate_dirty = false;
        Ok(())
    }

    fn clear_candidate_overlay(&self) -> Result<(), StoreError> {
        let mut writes = Writes::default();
        self.clear_journal(&mut writes)?;
        self.write(writes)
    }

    /// Remove the candidate's journal (and the per-chunk overlay of older databases).
    fn clear_journal(&self, batch: &mut Writes) -> Result<(), StoreError> {
        for prefix in [b"j", b"c"] {
            for kv in self.db.scan_prefix(prefix) {
                batch.remove(kv?.0);
            }
        }
        Ok(())
    }

    /// Validate a datastore as a whole.
    pub fn validate(&self, target: Target) -> Result<(), StoreError> {
        let tree = self.get(target).unwrap_or_default();
        validate(&self.schema, &tree, ValidateOptions::default()).map_err(StoreError::Invalid)
    }

    // ---- commit ----------------------------------------------------------------------------------

    /// Commit the candidate to running.
    pub fn commit(
        &self,
        meta: &CommitMeta,
        subscribers: &mut [&mut dyn Subscriber],
    ) -> Result<CommitOutcome, StoreError> {
        let session = meta.session;
        self.commit_inner(
            |st: &State| Ok(st.candidate.clone()),
            meta,
            subscribers,
            plain_commit(session),
            &Unchecked,
        )
    }

    /// edit-config on running: the edit is applied to running as it is when the commit takes
    /// the state lock, so concurrent editors of running never undo each other's changes.
    pub fn edit_running(
        &self,
        config: &[Element],
        default_op: EditOp,
        meta: &CommitMeta,
        subscribers: &mut [&mut dyn Subscriber],
    ) -> Result<CommitOutcome, StoreError> {
        self.checked(&Unchecked)
            .edit_running(config, default_op, meta, subscribers)
    }

    /// Make `new` the running configuration through the whole pipeline.
    pub fn commit_tree(
        &self,
        new: DataTree,
        meta: &CommitMeta,
        subscribers: &mut [&mut dyn Subscriber],
    ) -> Result<CommitOutcome, StoreError> {
        self.checked(&Unchecked).commit_tree(new, meta, subscribers)
    }

    /// Running after an edit: `config` applied to running as it is under the state lock.
    pub(crate) fn running_edited(
        &self,
        st: &State,
        config: &[Element],
        default_op: EditOp,
    ) -> Result<DataTree, StoreError> {
        let mut tree = st.running.clone();
        apply_edit(&self.schema, &mut tree, config, default_op).map_err(StoreError::Edit)?;
        Ok(tree)
    }

    /// Running with a private candidate's changes (see [`crate::rebase`]), under the state lock.
    pub(crate) fn running_rebased(
        &self,
        st: &State,
        base: &DataTree,
        candidate: &DataTree,
    ) -> Result<DataTree, StoreError> {
        rebase(&self.schema, base, candidate, &st.running).map_err(|e| match e {
            Rebase::Conflict(paths) => StoreError::Conflict(paths),
            Rebase::Failed(e) => StoreError::Edit(e),
        })
    }

    /// The pipeline; `confirm` decides, under the state lock, what happens to the
    /// confirmed-commit state (it may refuse the commit before anything is checked).
    /// `check` sees the change before anything else does and may refuse it.
    pub(crate) fn commit_inner(
        &self,
        new: impl FnOnce(&State) -> Result<DataTree, StoreError>,
        meta: &CommitMeta,
        subscribers: &mut [&mut dyn Subscriber],
        confirm: impl FnOnce(&State, u64) -> Result<Confirm, StoreError>,
        check: &dyn WriteCheck,
    ) -> Result<CommitOutcome, StoreError> {
        let mut st = self.state();
        let confirm = confirm(&st, st.generation)?;
        let new = new(&st)?;
        // From running to the candidate its last edit made: that edit's changes.
        let state = &mut *st;
        let changes = state
            .rendered
            .changes_between(&state.running, &new)
            .unwrap_or_else(|| diff(&self.schema, &state.running, &new));
        if !changes.is_empty() {
            check
                .check(&st.running, &new, &changes)
                .map_err(StoreError::Denied)?;
        }
        // Running is known valid, so only what changed (and what depends on it) is checked.
        if st.running_valid {
            validate_changes(&self.schema, &new, &changes, ValidateOptions::default())
        } else {
            validate(&self.schema, &new, ValidateOptions::default())
        }
        .map_err(StoreError::Invalid)?;
        if changes.is_empty() {
            let mut batch = Writes::default();
            self.clear_journal(&mut batch)?;
            self.confirm_ops(&st, &confirm, &mut batch)?;
            self.write(batch)?;
            Self::set_pending(&mut st, confirm);
            st.candidate = new;
            st.candidate_dirty = false;
            st.journal_len = 0;
            return Ok(CommitOutcome { id: None, changes });
        }
        for i in 0..subscribers.len() {
            if let Err(e) = subscribers[i].prepare(&changes, &new) {
                for s in subscribers[..i].iter_mut() {
                    s.abort();
                }
                return Err(StoreError::Vetoed(e));
            }
        }
        let persisted = self.persist_commit(&mut st, &new, &changes, meta, confirm);
        let id = match persisted {
            Ok(id) => id,
            Err(e) => {
                for s in subscribers.iter_mut() {
                    s.abort();
                }
                return Err(e);
            }
        };
        // Applied before the state lock goes: the next commit's prepare must not reach a
        // subscriber between this commit's prepare and apply (the engines keep one prepared
        // change at a time; a concurrent commit would replace it and this one would be lost).
        for s in subscribers.iter_mut() {
            s.apply(&changes, &new);
        }
        drop(st);
        // The reply waits for durability. Commits that came in meanwhile are in the same sled
        // log, so one flush makes them all durable; later commits only ever build on this one,
        // and sled recovers a prefix of its log, so a crash never keeps a later commit without
        // this one. Inside `deferring_flush` the flusher thread does it and the caller awaits.
        if durable::defer_in_scope(|| self.flusher.request(id)) {
            return Ok(CommitOutcome {
                id: Some(id),
                changes,
            });
        }
        self.db.flush().map_err(|e| {
            StoreError::Storage(format!(
                "commit {id} is applied but could not be flushed to disk: {e}"
            ))
        })?;
        Ok(CommitOutcome {
            id: Some(id),
            changes,
        })
    }

    /// Write running's changed chunks, the commit-log entry and the generation in one batch,
    /// then install `new` as running and candidate. Returns the new commit id.
    fn persist_commit(
        &self,
        st: &mut State,
        new: &DataTree,
        changes: &[yang::diff::Change],
        meta: &CommitMeta,
        confirm: Confirm,
    ) -> Result<u64, StoreError> {
        let id = st.generation + 1;
        let rendered = st.rendered.take_for(new);
        let chunks = self.changed_chunks(&st.running, new, changes, rendered)?;
        let info = CommitInfo {
            id,
            time_ms: now_ms(),
            user: meta.user.clone(),
            session: meta.session,
            comment: meta.comment.clone(),
            change_count: changes.len(),
        };
        // Encoded from the change list itself: no copy of its paths.
        let record = encode_record(
            &info,
            changes
                .iter()
                .map(|c| (c.op, c.path.as_str(), c.old.as_deref(), c.new.as_deref())),
            &chunks,
        );
        let confirmed = match &confirm {
            Confirm::Keep => "",
            Confirm::Arm(_) => "armed",
            Confirm::Extend(_) => "extended",
            Confirm::Clear => "cleared",
        };
        // The record holds the changed chunks: written, it is the commit (loading takes the
        // highest record's id as the generation). Running's own chunk keys are brought up to
        // date by the compactor, off this path.
        let alone = st.journal_len == 0 && st.running_valid && matches!(confirm, Confirm::Keep);
        if alone {
            // Nothing else changes with it: one key, no sled batch. (Each sled batch seals
            // sled's IO buffer and wakes all seven of its IO threads, about 25 context
            // switches, on top of the flush's own.)
            check_room(&self.dir, record.len() as u64)?;
            self.db.insert(log_key(id), record)?;
        } else {
            let mut batch = Writes::default();
            // After the commit the candidate equals running: its journal goes.
            if st.journal_len > 0 {
                self.clear_journal(&mut batch)?;
            }
            batch.insert(log_key(id), record);
            batch.insert(GENERATION, id.to_be_bytes());
            if !st.running_valid {
                // This commit validated the whole tree: from now on running carries the mark.
                batch.insert(VALIDATED, self.fingerprint);
            }
            self.confirm_ops(st, &confirm, &mut batch)?;
            self.apply_unflushed(batch)?;
        }
        // Durable once flushed, which commit_inner does after the state lock is released, so
        // that concurrent commits share one flush (group commit).
        // Every change of running, whatever made it (commit, edit of running, copy-config,
        // rollback, the revert of an unconfirmed commit), is logged once it is written.
        info!(
            commit = id,
            user = %meta.user,
            session = meta.session,
            changes = changes.len(),
            paths = %changed_paths(changes),
            comment = meta.comment.as_deref().unwrap_or(""),
            confirmed,
            "configuration committed"
        );
        Self::set_pending(st, confirm);
        st.generation = id;
        st.running_valid = true;
        st.journal_len = 0;
        self.compactor.committed(id);
        let old = std::mem::replace(&mut st.running, new.clone());
        self.reclaim.release(old);
        let old = std::mem::replace(&mut st.candidate, new.clone());
        self.reclaim.release(old);
        st.candidate_dirty = false;
        st.history.push_back(info);
        while st.history.len() > HISTORY {
            st.history.pop_front();
        }
        Ok(id)
    }

    /// The batch operations that carry a confirmed-commit state change.
    fn confirm_ops(
        &self,
        st: &State,
        confirm: &Confirm,
        batch: &mut Writes,
    ) -> Result<(), StoreError> {
        match confirm {
            Confirm::Keep => {}
            Confirm::Arm(p) => {
                for kv in self.db.scan_prefix(b"b") {
                    batch.remove(kv?.0);
                }
                for (k, v) in all_chunks(&self.schema, &st.running) {
                    batch.insert(prefixed(b'b', &k), v.as_bytes());
                }
                batch.insert(CONFIRMED, p.encode());
            }
            Confirm::Extend(p) => batch.insert(CONFIRMED, p.encode()),
            Confirm::Clear => {
                for kv in self.db.scan_prefix(b"b") {
                    batch.remove(kv?.0);
                }
                batch.remove(CONFIRMED);
            }
        }
        Ok(())
    }

    fn set_pending(st: &mut State, confirm: Confirm) {
        match confirm {
            Confirm::Keep => {}
            Confirm::Arm(p) | Confirm::Extend(p) => st.pending = Some(p),
            Confirm::Clear => st.pending = None,
        }
    }

    // ---- confirmed commit --------------------------------------------------------------------------

    /// commit, with the confirmed-commit parameters (RFC 6241 §8.4).
    pub fn commit_request(
        &self,
        req: &CommitRequest,
        meta: &CommitMeta,
        subscribers: &mut [&mut dyn Subscriber],
    ) -> Result<CommitOutcome, StoreError> {
        let session = meta.session;
        let timeout_ms = u64::from(req.timeout_s.unwrap_or(DEFAULT_TIMEOUT_S)) * 1000;
        let candidate = |st: &State| Ok(st.candidate.clone());
        let confirm = |st: &State, generation: u64| {
            running_writable(st, session)?;
            match (&st.pending, req.confirmed) {
                (None, false) => Ok(Confirm::Keep),
                (None, true) => Ok(Confirm::Arm(Pending {
                    deadline_ms: now_ms() + timeout_ms,
                    persist: req.persist.clone(),
                    session,
                    backup_generation: generation,
                })),
                (Some(p), true) => {
                    p.authorizes(session, req.persist_id.as_deref())
                        .map_err(StoreError::Confirm)?;
                    Ok(Confirm::Extend(Pending {
                        deadline_ms: now_ms() + timeout_ms,
                        persist: req.persist.clone().or_else(|| p.persist.clone()),
                        session,
                        backup_generation: p.backup_generation,
                    }))
                }
                (Some(p), false) => {
                    p.authorizes(session, req.persist_id.as_deref())
                        .map_err(StoreError::Confirm)?;
                    Ok(Confirm::Clear)
                }
            }
        };
        self.commit_inner(candidate, meta, subscribers, confirm, &Unchecked)
    }

    /// The pending confirmed commit, if any.
    pub fn pending_confirmed(&self) -> Option<Pending> {
        self.state().pending.clone()
    }

    /// cancel-commit (RFC 6241 §8.4.4.1): roll back to before the confirmed commit.
    pub fn cancel_commit(
        &self,
        persist_id: Option<&str>,
        meta: &CommitMeta,
        subscribers: &mut [&mut dyn Subscriber],
    ) -> Result<CommitOutcome, StoreError> {
        {
            let st = self.state();
            running_writable(&st, meta.session)?;
            let p = st
                .pending
                .as_ref()
                .ok_or_else(|| StoreError::Confirm("no confirmed commit is pending".into()))?;
            p.authorizes(meta.session, persist_id)
                .map_err(StoreError::Confirm)?;
        }
        self.rollback_confirmed(meta, subscribers)
    }

    /// Roll back a pending confirmed commit whose deadline has passed (the caller's timer).
    pub fn expire_confirmed(
        &self,
        subscribers: &mut [&mut dyn Subscriber],
    ) -> Option<Result<CommitOutcome, StoreError>> {
        let due = self
            .state()
            .pending
            .as_ref()
            .is_some_and(|p| p.deadline_ms <= now_ms());
        due.then(|| {
            let meta = CommitMeta {
                user: "confirmed-commit".into(),
                session: 0,
                comment: Some("confirm-timeout expired".into()),
            };
            self.rollback_confirmed(&meta, subscribers)
        })
    }

    /// Restore the rollback point saved by the first confirmed commit.
    fn rollback_confirmed(
        &self,
        meta: &CommitMeta,
        subscribers: &mut [&mut dyn Subscriber],
    ) -> Result<CommitOutcome, StoreError> {
        let backup = load_prefix(&self.db, &self.schema, b'b')?;
        let clear = |_: &State, _| Ok(Confirm::Clear);
        self.commit_inner(|_| Ok(backup), meta, subscribers, clear, &Unchecked)
    }

    /// Apply a batch without waiting for it to reach the disk.
    fn apply_unflushed(&self, writes: Writes) -> Result<(), StoreError> {
        check_room(&self.dir, writes.bytes)?;
        self.db.apply_batch(writes.batch)?;
        Ok(())
    }

    /// Apply a batch and flush it to disk.
    fn write(&self, writes: Writes) -> Result<(), StoreError> {
        self.apply_unflushed(writes)?;
        self.db.flush()?;
        Ok(())
    }

    /// Keys of the chunks a change set touches, with what the changes tell of each without
    /// looking. A deleted node also takes along the list-entry chunks below it in `old` (the
    /// tree the changes start from).
    fn touched_chunks(
        &self,
        changes: &[yang::diff::Change],
        old: &DataTree,
    ) -> BTreeMap<String, Touched> {
        let mut keys: BTreeMap<String, Touched> = BTreeMap::new();
        let mut chunk_keys = ChunkKeys::default();
        // Changes come in document order, a created entry before its children: a change below
        // the previous chunk when that chunk is a list entry (whose whole subtree it holds)
        // belongs to it, with no need to resolve its path again. (Below a container's shell
        // chunk there may be entries that are chunks of their own.)
        let mut last: Option<String> = None;
        for c in changes {
            let within = last.as_deref().is_some_and(|k| {
                k.ends_with(']')
                    && c.path.len() > k.len()
                    && c.path.starts_with(k)
                    && c.path.as_bytes()[k.len()] == b'/'
            });
            if !within {
                let key = chunk_keys.key(&self.schema, &c.path);
                // A node created or deleted whole at a chunk's own path: the chunk is absent
                // before or after.
                let whole = c.path == key;
                keys.entry(key.clone()).or_default().learn(Touched {
                    absent_before: whole && c.op == ChangeOp::Create,
                    absent_after: whole && c.op == ChangeOp::Delete,
                });
                last = Some(key);
            }
            if c.op == ChangeOp::Delete {
                for key in chunk_keys_under(&self.schema, old, &c.path) {
                    keys.entry(key).or_default().learn(Touched {
                        absent_before: false,
                        absent_after: true,
                    });
                }
            }
        }
        keys
    }

    /// Before/after images of every chunk the change set touches.
    fn changed_chunks(
        &self,
        old: &DataTree,
        new: &DataTree,
        changes: &[yang::diff::Change],
        mut rendered: HashMap<String, Option<String>>,
    ) -> Result<Vec<ChunkImage>, StoreError> {
        let keys = self.touched_chunks(changes, old);
        let (mut old_chunks, mut new_chunks) = (
            Chunks::new(&self.schema, old),
            Chunks::new(&self.schema, new),
        );
        old_chunks.prefetch(
            keys.iter()
                .filter(|(_, t)| !t.absent_before)
                .map(|(k, _)| k.as_str()),
        );
        new_chunks.prefetch(
            keys.iter()
                .filter(|(k, t)| !t.absent_after && !rendered.contains_key(*k))
                .map(|(k, _)| k.as_str()),
        );
        Ok(keys
            .into_iter()
            .map(|(key, touched)| ChunkImage {
                old: (!touched.absent_before)
                    .then(|| old_chunks.xml(&key))
                    .flatten(),
                new: match rendered.remove(&key) {
                    // Rendered from `new` by the edit that made it (`crate::rendered`).
                    Some(xml) => xml,
                    None if touched.absent_after => None,
                    None => new_chunks.xml(&key),
                },
                key,
            })
            .filter(|c| c.old != c.new)
            .collect())
    }

    /// The running configuration as it was right after commit `id`.
    pub fn tree_at(&self, id: u64) -> Result<DataTree, StoreError> {
        let st = self.state();
        if id == st.generation {
            return Ok(st.running.clone());
        }
        if !st.history.iter().any(|r| r.id == id) {
            return Err(StoreError::UnknownCommit(id));
        }
        let mut chunks: BTreeMap<String, String> = all_chunks(&self.schema, &st.running);
        // Undo newer commits, newest first; the oldest undo of a chunk wins.
        let newer: Vec<u64> = st
            .history
            .iter()
            .rev()
            .map(|r| r.id)
            .filter(|&r| r > id)
            .collect();
        for rid in newer {
            let r = self.record(rid)?;
            for c in &r.chunks {
                match &c.old {
                    Some(x) => chunks.insert(c.key.clone(), x.clone()),
                    None => chunks.remove(&c.key),
                };
            }
        }
        load(&self.schema, chunks.values().map(String::as_str)).map_err(StoreError::Edit)
    }

    /// Roll running back to the state after commit `id`, through the full pipeline.
    pub fn rollback(
        &self,
        id: u64,
        meta: &CommitMeta,
        subscribers: &mut [&mut dyn Subscriber],
    ) -> Result<CommitOutcome, StoreError> {
        self.checked(&Unchecked).rollback(id, meta, subscribers)
    }

    // ---- startup ---------------------------------------------------------------------------------

    /// copy-config running -> startup.
    pub fn copy_running_to_startup(&self) -> Result<(), StoreError> {
        self.checked(&Unchecked).copy_running_to_startup()
    }

    /// Replace startup with a tree (copy-config with inline config or from candidate).
    pub fn set_startup(&self, tree: DataTree) -> Result<(), StoreError> {
        self.checked(&Unchecked).set_startup(tree)
    }

    /// delete-config startup.
    pub fn delete_startup(&self) -> Result<(), StoreError> {
        self.checked(&Unchecked).delete_startup()
    }

    /// Make `tree` startup (None: delete it); `check` sees the change first and may refuse it.
    pub(crate) fn store_startup(
        &self,
        tree: Option<DataTree>,
        check: &dyn WriteCheck,
    ) -> Result<(), StoreError> {
        let mut st = self.state();
        let empty = DataTree::new();
        let old = st.startup.as_ref().unwrap_or(&empty);
        let changes = diff(&self.schema, old, tree.as_ref().unwrap_or(&empty));
        if !changes.is_empty() {
            check
                .check(old, tree.as_ref().unwrap_or(&empty), &changes)
                .map_err(StoreError::Denied)?;
        }
        self.write_startup(tree.as_ref())?;
        st.startup = tree;
        Ok(())
    }

    /// Running, for a copy to startup.
    pub(crate) fn running(&self) -> DataTree {
        self.state().running.clone()
    }

    fn write_startup(&self, tree: Option<&DataTree>) -> Result<(), StoreError> {
        let mut batch = Writes::default();
        for kv in self.db.scan_prefix(b"s") {
            let (k, _) = kv?;
            batch.remove(k);
        }
        match tree {
            Some(t) => {
                for (k, v) in all_chunks(&self.schema, t) {
                    batch.insert(prefixed(b's', &k), v.as_bytes());
                }
                batch.insert(STARTUP_PRESENT, b"1".as_slice());
            }
            None => batch.remove(STARTUP_PRESENT),
        }
        self.write(batch)
    }
}

/// The stored candidate (running overlaid with its differing chunks), if it differs.
/// Open sled. Its file lock can outlive a closed `Db` for a moment (background threads drop
/// their handles asynchronously), and a previous agent may still be exiting: a held lock is
/// retried for up to two seconds before it is reported.
fn open_db(path: &Path) -> Result<sled::Db, StoreError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match sled::Config::new()
            .path(path)
            .cache_capacity(8 * 1024 * 1024)
            .open()
        {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            r => return Ok(r?),
        }
    }
}

/// The candidate stored beside running: the per-chunk overlay of older databases, then the
/// journal's records in order, over running's chunks. Also the next journal number and the
/// number of records.
fn load_candidate(
    db: &sled::Db,
    schema: &Schema,
    mut chunks: BTreeMap<String, String>,
) -> Result<(Option<DataTree>, u64, usize), StoreError> {
    let mut touched = false;
    for kv in db.scan_prefix(b"c") {
        let (k, v) = kv?;
        let key = String::from_utf8_lossy(&k[1..]).into_owned();
        if v.is_empty() {
            chunks.remove(&key);
        } else {
            chunks.insert(key, String::from_utf8_lossy(&v).into_owned());
        }
        touched = true;
    }
    let mut next = 0;
    // An overlay of an older database counts as a record: the next commit or discard clears it.
    let mut len = usize::from(touched);
    for kv in db.scan_prefix(b"j") {
        let (k, v) = kv?;
        next = journal::seq_of(&k).map_or(next, |s| s + 1);
        len += 1;
        match journal::decode(&v) {
            Ok(entry) => {
                for (key, xml) in entry {
                    match xml {
                        Some(x) => chunks.insert(key, x),
                        None => chunks.remove(&key),
                    };
                }
                touched = true;
            }
            Err(e) => warn!(error = %e, "skipping an unreadable candidate journal record"),
        }
    }
    if !touched {
        return Ok((None, next, len));
    }
    match load(schema, chunks.values().map(String::as_str)) {
        Ok(t) => Ok((Some(t), next, len)),
        Err(e) => {
            warn!(error = %e, "the stored candidate no longer loads; starting from running");
            Ok((None, next, len))
        }
    }
}

fn load_prefix(db: &sled::Db, schema: &Schema, prefix: u8) -> Result<DataTree, StoreError> {
    let mut texts = Vec::new();
    for kv in db.scan_prefix([prefix]) {
        let (_, v) = kv?;
        texts.push(String::from_utf8_lossy(&v).into_owned());
    }
    load(schema, texts.iter().map(String::as_str)).map_err(StoreError::Edit)
}
