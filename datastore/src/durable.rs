//! Commits made durable off the caller's thread.
//!
//! A commit is written to sled's log under the state lock and is durable once sled has flushed
//! that log to disk. A flush blocks for the disk's write latency. An async front end whose few
//! runtime workers each wait for a flush serves nobody meanwhile, and only as many commits as it
//! has workers can share a flush. Inside [`deferring_flush`] a commit skips its
//! own flush and leaves a [`Durable`] future instead: one flusher thread flushes for every commit
//! written before it starts and then wakes their futures, so the commits that arrive while the
//! disk is busy share the next flush, however many sessions made them.
//!
//! sled's log is recovered as a prefix, so one flush after commit `n` makes every commit up to
//! `n` durable, and a crash never keeps a later commit without an earlier one.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tracing::warn;

use crate::error::StoreError;

/// How many failed flushes are remembered for the commits still waiting on them.
const FAILURES_KEPT: usize = 16;

/// The least time from one flush's start to the next's. Each sled flush wakes all of sled's
/// seven IO threads (its pool signals every idle thread per job), about 25 context switches:
/// under a stream of commits from many sessions the commits that arrive in this time share one
/// flush instead. A lone session's commits are further apart than this and never wait for it.
const FLUSH_SPACING: Duration = Duration::from_millis(2);

/// The flusher thread and what its callers wait on.
pub(crate) struct Flusher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<Progress>,
    /// Signalled when a flush is wanted or the flusher must stop.
    wanted: Condvar,
    /// Signalled when a flush ends (for [`Durable::wait`]).
    flushed: Condvar,
}

#[derive(Default)]
struct Progress {
    /// The highest commit id whose caller asked for a flush.
    wanted: u64,
    /// Every commit up to this id has been through a flush (durable unless it failed).
    done: u64,
    /// Flushes that failed: the commits in `(from, to]` are applied but not known durable.
    failed: VecDeque<(u64, u64, String)>,
    /// Futures waiting for their commit's flush.
    waiters: Vec<(u64, Waker)>,
    /// When the latest flush (the thread's or a caller's own) started.
    last_start: Option<Instant>,
    stop: bool,
}

impl Progress {
    fn outcome(&self, id: u64) -> Result<(), StoreError> {
        match self
            .failed
            .iter()
            .find(|(from, to, _)| *from < id && id <= *to)
        {
            Some((_, _, why)) => Err(StoreError::Storage(format!(
                "commit {id} is applied but could not be flushed to disk: {why}"
            ))),
            None => Ok(()),
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Progress> {
        // Every update is a few plain assignments: a panic cannot leave it half-made.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Flusher {
    pub(crate) fn start(db: sled::Db) -> Flusher {
        let shared = Arc::new(Shared {
            state: Mutex::new(Progress::default()),
            wanted: Condvar::new(),
            flushed: Condvar::new(),
        });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("ds-flusher".into())
            .spawn(move || run(&worker, &db))
            .ok();
        Flusher { shared, thread }
    }

    /// Commit `id` is written (not flushed): a future that is ready once it is durable, or
    /// `None` when the caller should flush at once itself. That is when no other commit waits
    /// and none was flushed within [`FLUSH_SPACING`]: a lone session's commit then skips two
    /// thread hand-offs, and a worker blocks for one flush only when commits are rare. (Also
    /// `None` without the thread, if it could not be spawned.)
    pub(crate) fn request(&self, id: u64) -> Option<Durable> {
        self.thread.as_ref()?;
        let mut st = self.shared.lock();
        let quiet =
            st.wanted <= st.done && st.last_start.is_none_or(|t| t.elapsed() >= FLUSH_SPACING);
        if quiet {
            st.last_start = Some(Instant::now());
            return None;
        }
        if id > st.wanted {
            st.wanted = id;
            self.shared.wanted.notify_one();
        }
        Some(Durable {
            shared: Arc::clone(&self.shared),
            id,
        })
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        // Flushes still wanted are made before the thread ends.
        self.shared.lock().stop = true;
        self.shared.wanted.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(shared: &Shared, db: &sled::Db) {
    let mut st = shared.lock();
    loop {
        while st.wanted <= st.done && !st.stop {
            st = shared.wanted.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        if st.wanted <= st.done {
            return;
        }
        if let Some(wait) = st
            .last_start
            .and_then(|t| FLUSH_SPACING.checked_sub(t.elapsed()))
        {
            if !st.stop {
                drop(st);
                std::thread::sleep(wait);
                st = shared.lock();
            }
        }
        st.last_start = Some(Instant::now());
        // Every commit up to `target` is in sled's log already; later ones may ride along.
        let target = st.wanted;
        drop(st);
        let flushed = db.flush();
        st = shared.lock();
        if let Err(e) = flushed {
            warn!(error = %e, upto = target, "could not flush committed configuration to disk");
            let from = st.done;
            st.failed.push_back((from, target, e.to_string()));
            if st.failed.len() > FAILURES_KEPT {
                st.failed.pop_front();
            }
        }
        st.done = target;
        let (ready, waiting): (Vec<_>, Vec<_>) =
            st.waiters.drain(..).partition(|(id, _)| *id <= target);
        st.waiters = waiting;
        shared.flushed.notify_all();
        drop(st);
        for (_, w) in ready {
            w.wake();
        }
        st = shared.lock();
    }
}

/// A commit that is applied and written; ready once it is durable. Dropping it does not undo
/// or cancel anything: the flush happens all the same.
#[must_use = "a reply must wait for its commit to be durable"]
pub struct Durable {
    shared: Arc<Shared>,
    id: u64,
}

impl std::fmt::Debug for Durable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Durable").field("commit", &self.id).finish()
    }
}

impl Durable {
    /// The commit this waits for.
    pub fn commit(&self) -> u64 {
        self.id
    }

    /// Block the calling thread until the commit is durable.
    pub fn wait(self) -> Result<(), StoreError> {
        let mut st = self.shared.lock();
        while st.done < self.id {
            st = self
                .shared
                .flushed
                .wait(st)
                .unwrap_or_else(|p| p.into_inner());
        }
        st.outcome(self.id)
    }
}

impl Future for Durable {
    type Output = Result<(), StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut st = self.shared.lock();
        if st.done >= self.id {
            return Poll::Ready(st.outcome(self.id));
        }
        let id = self.id;
        match st
            .waiters
            .iter_mut()
            .find(|(i, w)| *i == id && w.will_wake(cx.waker()))
        {
            Some(_) => {}
            None => st.waiters.push((id, cx.waker().clone())),
        }
        Poll::Pending
    }
}

thread_local! {
    /// Set inside [`deferring_flush`]: the commits made there, not flushed.
    static DEFERRED: RefCell<Option<Vec<Durable>>> = const { RefCell::new(None) };
}

/// Run `f` with commits' flushes deferred; returns what it returned and what its commits wait
/// for (nothing if it committed nothing).
pub fn deferring_flush<T>(f: impl FnOnce() -> T) -> (T, Unflushed) {
    struct Scope(Option<Vec<Durable>>);
    impl Drop for Scope {
        fn drop(&mut self) {
            // Restores the enclosing scope's state, also when `f` panics.
            let outer = self.0.take();
            DEFERRED.with(|d| *d.borrow_mut() = outer);
        }
    }
    let outer = DEFERRED.with(|d| d.borrow_mut().replace(Vec::new()));
    let scope = Scope(outer);
    let out = f();
    let mine = DEFERRED.with(|d| d.borrow_mut().take()).unwrap_or_default();
    drop(scope);
    (out, Unflushed(mine))
}

/// Whether this thread is inside [`deferring_flush`].
#[cfg(test)]
fn deferred_here() -> bool {
    DEFERRED.with(|d| d.borrow().is_some())
}

/// Inside a [`deferring_flush`] scope, hand the commit's durability to it: `request` gives
/// the future (see [`Flusher::request`]). False, without calling `request`, outside a scope,
/// and when `request` says the caller should flush itself.
pub(crate) fn defer_in_scope(request: impl FnOnce() -> Option<Durable>) -> bool {
    DEFERRED.with(|cell| match cell.borrow_mut().as_mut() {
        Some(scope) => request().map(|d| scope.push(d)).is_some(),
        None => false,
    })
}

/// What the commits of one [`deferring_flush`] scope wait for.
#[derive(Debug, Default)]
#[must_use = "a reply must wait for its commits to be durable"]
pub struct Unflushed(Vec<Durable>);

impl Unflushed {
    /// Whether a commit was made in the scope.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Wait (asynchronously) until every commit of the scope is durable; the first failure.
    pub async fn durable(self) -> Result<(), StoreError> {
        let mut first = Ok(());
        for d in self.0 {
            first = first.and(d.await);
        }
        first
    }

    /// Block until every commit of the scope is durable; the first failure.
    pub fn wait(self) -> Result<(), StoreError> {
        // Every commit is waited for, also after a failure.
        let mut first = Ok(());
        for d in self.0 {
            first = first.and(d.wait());
        }
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> sled::Db {
        sled::Config::new().temporary(true).open().unwrap()
    }

    #[test]
    fn a_lone_commit_flushes_itself_and_a_stream_shares_the_thread() {
        let db = db();
        let flusher = Flusher::start(db.clone());
        // Nothing flushed lately: the caller flushes at once, no hand-off.
        assert!(flusher.request(1).is_none());
        // Right after it, commits are handed to the thread and wait for its flush.
        db.insert(b"k2", b"v2").unwrap();
        let d2 = flusher.request(2).expect("within the spacing: deferred");
        db.insert(b"k3", b"v3").unwrap();
        let d3 = flusher.request(3).expect("a flush is wanted: deferred");
        assert_eq!((d2.commit(), d3.commit()), (2, 3));
        d3.wait().unwrap();
        d2.wait().unwrap();
        let st = flusher.shared.lock();
        assert_eq!(st.done, 3);
        assert!(st.waiters.is_empty());
    }

    #[test]
    fn the_future_is_woken_by_the_flush() {
        let db = db();
        let flusher = Flusher::start(db.clone());
        assert!(flusher.request(1).is_none());
        let d = flusher.request(2).expect("deferred");
        // A minimal executor: poll, park until woken, poll again.
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut d = Box::pin(d);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Poll::Ready(r) = d.as_mut().poll(&mut cx) {
                r.unwrap();
                break;
            }
            assert!(Instant::now() < deadline, "never woken");
            std::thread::park_timeout(Duration::from_millis(100));
        }
    }

    #[test]
    fn a_failed_flush_is_reported_to_the_commits_it_covered_only() {
        let mut p = Progress::default();
        p.failed.push_back((4, 6, "disk on fire".into()));
        p.done = 9;
        assert!(p.outcome(4).is_ok());
        assert!(
            matches!(p.outcome(5), Err(StoreError::Storage(m)) if m.contains("commit 5") && m.contains("disk on fire"))
        );
        assert!(p.outcome(6).is_err());
        assert!(p.outcome(7).is_ok());
    }

    #[test]
    fn a_scope_collects_only_its_own_commits_and_restores_the_outer_one() {
        assert!(!deferred_here());
        let ((), outer) = deferring_flush(|| {
            assert!(deferred_here());
            let ((), inner) = deferring_flush(|| assert!(deferred_here()));
            assert!(inner.is_empty());
            assert!(deferred_here(), "the outer scope is back");
        });
        assert!(outer.is_empty());
        assert!(!deferred_here());
    }
}
