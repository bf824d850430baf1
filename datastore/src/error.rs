//! Datastore errors, each mapping to one NETCONF rpc-error.

use std::fmt;

use yang::data::{DataError, ErrorTag};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The candidate does not validate; every problem found.
    Invalid(Vec<DataError>),
    /// An edit was refused (bad data, missing node, ...).
    Edit(DataError),
    /// The write check refused the change (access control): nothing was written.
    Denied(DataError),
    /// An engine refused the change in `prepare`.
    Vetoed(DataError),
    /// The datastore is locked by another session.
    Locked { holder: u32 },
    /// Locking a candidate with uncommitted changes (RFC 6241 §7.5).
    CandidateDirty,
    /// The session does not hold the lock it tries to release.
    NotLockHolder,
    /// No commit with that id in the history.
    UnknownCommit(u64),
    /// Confirmed-commit protocol violations (wrong persist-id, nothing to confirm, ...).
    Confirm(String),
    /// Disk or database trouble; nothing was changed.
    Storage(String),
    /// A private candidate's changes meet changes committed meanwhile by others to the same
    /// nodes (their instance-identifiers): nothing was changed.
    Conflict(Vec<String>),
}

impl StoreError {
    /// The rpc-errors for this failure.
    pub fn to_data_errors(&self) -> Vec<DataError> {
        match self {
            StoreError::Invalid(errs) => errs.clone(),
            StoreError::Edit(e) | StoreError::Vetoed(e) | StoreError::Denied(e) => vec![e.clone()],
            StoreError::Locked { holder } => vec![DataError::new(
                ErrorTag::LockDenied,
                format!("the datastore is locked by session {holder}"),
            )
            .info("session-id", holder.to_string())],
            StoreError::CandidateDirty => vec![DataError::new(
                ErrorTag::LockDenied,
                "the candidate has uncommitted changes; commit or discard-changes first",
            )
            .info("session-id", "0")],
            StoreError::NotLockHolder => vec![DataError::new(
                ErrorTag::OperationFailed,
                "this session does not hold the lock",
            )],
            StoreError::UnknownCommit(id) => vec![DataError::new(
                ErrorTag::InvalidValue,
                format!("no commit {id} in the history"),
            )],
            StoreError::Confirm(m) => vec![DataError::new(ErrorTag::InvalidValue, m.clone())],
            StoreError::Conflict(paths) => {
                let mut e = DataError::new(
                    ErrorTag::OperationFailed,
                    format!(
                        "the configuration was changed by another session since this one's \
                         changes were made from it, at {}; nothing was committed",
                        paths.join(", ")
                    ),
                )
                .app_tag("commit-conflict");
                if let Some(first) = paths.first() {
                    e = e.path(first.clone());
                }
                vec![e]
            }
            StoreError::Storage(m) => vec![DataError::new(
                ErrorTag::OperationFailed,
                format!("storage failure, nothing was changed: {m}"),
            )],
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errs = self.to_data_errors();
        for (i, e) in errs.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for StoreError {}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Storage(e.to_string())
    }
}
