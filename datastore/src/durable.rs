//! Group commit: the commits that wait for the disk share flushes.
//!
//! A commit writes its batch to sled's log under the datastore's lock, releases the lock, then
//! waits here until a flush covers it. The first commit to wait flushes (the leader); commits
//! that come in while that flush runs wait for it to end, and then one of those not covered by
//! it flushes for all of them. So at most one flush runs at a time, and each covers every commit
//! written before it started: under load the number of flushes per commit falls, and nobody
//! waits for more than the flush in progress and the next one.
//!
//! Commit ids are given in order under the datastore's lock, and a commit's batch is in sled's
//! log before its id is [`Durability::written`]: a flush started after `written(n)` makes commit
//! `n` and every commit before it durable.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

#[derive(Default)]
struct Flushes {
    /// Every commit up to this id is on the disk.
    durable: u64,
    /// A flush is running.
    leader: bool,
    /// The last flush failed: the highest commit id it was to cover, and why.
    failed: Option<(u64, String)>,
    /// Flushes run (for the log and tests).
    count: u64,
}

pub(crate) struct Durability {
    /// The highest commit id whose batch is in sled's log.
    written: AtomicU64,
    flushes: Mutex<Flushes>,
    done: Condvar,
}

impl Durability {
    /// `durable`: the id of the last commit found on the disk at open.
    pub(crate) fn new(durable: u64) -> Durability {
        Durability {
            written: AtomicU64::new(durable),
            flushes: Mutex::new(Flushes {
                durable,
                ..Flushes::default()
            }),
            done: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Flushes> {
        // Every update of the state is a single assignment: a panic elsewhere cannot leave it
        // half-changed.
        self.flushes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Commit `id`'s batch is in sled's log (called under the datastore's lock, in id order).
    pub(crate) fn written(&self, id: u64) {
        self.written.fetch_max(id, Ordering::AcqRel);
    }

    /// Flushes run so far.
    pub(crate) fn flushes(&self) -> u64 {
        self.lock().count
    }

    /// Return once commit `id` is on the disk, flushing with `flush` if no flush in progress
    /// covers it. A failed flush fails every commit it was to cover (unless a later flush
    /// succeeded meanwhile).
    pub(crate) fn wait<T, E: std::fmt::Display>(
        &self,
        id: u64,
        flush: impl Fn() -> Result<T, E>,
    ) -> Result<(), String> {
        let mut f = self.lock();
        loop {
            if f.durable >= id {
                return Ok(());
            }
            if let Some((upto, why)) = &f.failed {
                if *upto >= id {
                    return Err(why.clone());
                }
            }
            if f.leader {
                f = self.done.wait(f).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            f.leader = true;
            // Read before the flush starts: everything written up to here is in the log the
            // flush writes out.
            let target = self.written.load(Ordering::Acquire);
            drop(f);
            let result = flush().map(drop);
            f = self.lock();
            f.leader = false;
            f.count += 1;
            match result {
                Ok(()) => {
                    f.durable = f.durable.max(target);
                    f.failed = None;
                }
                Err(e) => f.failed = Some((target, e.to_string())),
            }
            self.done.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    /// Commits that wait while a flush runs are covered by the next one: 40 waiters, each
    /// written before it waits, need far fewer flushes than commits, and nobody returns before
    /// a flush that started after its write ended.
    #[test]
    fn waiters_share_flushes_and_return_only_after_one_covering_them() {
        let d = Arc::new(Durability::new(0));
        // The highest id written when the last flush started, as the flush saw it.
        let flushed_upto = Arc::new(AtomicU64::new(0));
        let next = Arc::new(Mutex::new(0u64));
        let threads: Vec<_> = (0..40)
            .map(|_| {
                let (d, flushed_upto, next) =
                    (Arc::clone(&d), Arc::clone(&flushed_upto), Arc::clone(&next));
                std::thread::spawn(move || {
                    let id = {
                        let mut n = next.lock().unwrap();
                        *n += 1;
                        d.written(*n);
                        *n
                    };
                    d.wait(id, || {
                        let upto = d.written.load(Ordering::Acquire);
                        std::thread::sleep(Duration::from_millis(5));
                        flushed_upto.fetch_max(upto, Ordering::AcqRel);
                        Ok::<(), String>(())
                    })
                    .unwrap();
                    assert!(
                        flushed_upto.load(Ordering::Acquire) >= id,
                        "commit {id} returned before a flush covered it"
                    );
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let flushes = d.flushes();
        assert!(
            flushes >= 1 && flushes < 40,
            "{flushes} flushes for 40 commits"
        );
    }

    /// A failed flush fails the commits it was to cover, and a later one succeeds again.
    #[test]
    fn a_failed_flush_fails_its_commits_and_the_next_flush_recovers() {
        let d = Durability::new(3);
        assert_eq!(d.wait(2, || Err::<(), _>("unused")), Ok(()));
        d.written(4);
        assert_eq!(
            d.wait(4, || Err::<(), _>("disk full")),
            Err("disk full".to_string())
        );
        assert_eq!(
            d.wait(4, || Ok::<(), String>(())),
            Err("disk full".to_string())
        );
        d.written(5);
        assert_eq!(d.wait(5, || Ok::<(), String>(())), Ok(()));
        assert_eq!(d.wait(4, || Err::<(), _>("unused")), Ok(()));
        assert_eq!(d.flushes(), 2);
    }
}
