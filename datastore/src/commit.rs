//! The commit pipeline's contract with the protocol engines.
//!
//! validate the whole new tree -> diff against running -> `prepare` on every subscriber (any may
//! veto; nothing changes) -> persist running and the commit-log entry in one flushed batch ->
//! `apply` on every subscriber (infallible) -> the caller notifies.

use yang::data::{DataError, DataTree};
use yang::diff::Change;

/// A consumer of configuration changes (a protocol engine).
pub trait Subscriber {
    /// Check that the change can be applied (sockets can be opened, resources exist). An error
    /// refuses the whole commit.
    fn prepare(&mut self, changes: &[Change], new: &DataTree) -> Result<(), DataError>;
    /// Apply the change; called only after it is persisted.
    fn apply(&mut self, changes: &[Change], new: &DataTree);
    /// The commit was refused after this subscriber's `prepare` succeeded (another subscriber
    /// vetoed, or persisting failed): release what `prepare` reserved.
    fn abort(&mut self) {}
}

/// Access control of writes (RFC 8341 §3.4.5): sees a datastore before and after a change with
/// the change list, under the datastore's lock and before validation, so what it allows is what
/// is written. An error refuses the change and nothing is written.
pub trait WriteCheck {
    fn check(&self, old: &DataTree, new: &DataTree, changes: &[Change]) -> Result<(), DataError>;
}

/// Who commits, for the commit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitMeta {
    pub user: String,
    pub session: u32,
    pub comment: Option<String>,
}

/// What a commit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitOutcome {
    /// The new commit id, or None when there was nothing to change.
    pub id: Option<u64>,
    pub changes: Vec<Change>,
}
