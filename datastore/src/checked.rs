//! The writes of a datastore with an access check ([`WriteCheck`]): `store.checked(&check)`
//! has the same writing operations as the store, and each shows its change to the check under
//! the datastore's lock before anything is validated or written. A refusal leaves every
//! datastore as it was. The store's own methods are these with a check that allows everything.

use yang::data::{DataError, DataTree, EditOp};
use yang::diff::Change;
use yang::xml::Element;

use crate::commit::{CommitMeta, CommitOutcome, Subscriber, WriteCheck};
use crate::error::StoreError;
use crate::store::{plain_commit, Datastore};

/// The check that allows every write (the server's own changes, and the store's plain methods).
pub(crate) struct Unchecked;

impl WriteCheck for Unchecked {
    fn check(&self, _: &DataTree, _: &DataTree, _: &[Change]) -> Result<(), DataError> {
        Ok(())
    }
}

/// A datastore's writing operations under a write check.
pub struct Checked<'a> {
    store: &'a Datastore,
    check: &'a dyn WriteCheck,
}

impl Datastore {
    /// The writing operations, each checked by `check` first.
    pub fn checked<'a>(&'a self, check: &'a dyn WriteCheck) -> Checked<'a> {
        Checked { store: self, check }
    }
}

impl Checked<'_> {
    /// edit-config on the candidate: atomic, types checked; whole-tree validation waits for
    /// validate/commit.
    pub fn edit_candidate(
        &self,
        session: u32,
        config: &[Element],
        default_op: EditOp,
    ) -> Result<(), StoreError> {
        let mut st = self.store.candidate_for(session)?;
        let mut tree = Datastore::candidate_tree(&st);
        yang::data::apply_edit(self.store.schema(), &mut tree, config, default_op)
            .map_err(StoreError::Edit)?;
        self.store.store_candidate(&mut st, tree, self.check)
    }

    /// Replace the candidate with a whole tree (copy-config to candidate).
    pub fn set_candidate(&self, session: u32, tree: DataTree) -> Result<(), StoreError> {
        let mut st = self.store.candidate_for(session)?;
        self.store.store_candidate(&mut st, tree, self.check)
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
        self.store.commit_inner(
            |st| self.store.running_edited(st, config, default_op),
            meta,
            subscribers,
            plain_commit(meta.session),
            self.check,
        )
    }

    /// Make `new` the running configuration through the whole pipeline.
    pub fn commit_tree(
        &self,
        new: DataTree,
        meta: &CommitMeta,
        subscribers: &mut [&mut dyn Subscriber],
    ) -> Result<CommitOutcome, StoreError> {
        self.store.commit_inner(
            |_| Ok(new),
            meta,
            subscribers,
            plain_commit(meta.session),
            self.check,
        )
    }

    /// Commit a private candidate (the CLI's): `candidate` was made from running as it was
    /// (`base`), and its changes are applied to running as it is under the datastore's lock.
    /// Changes others committed meanwhile to other nodes stay; if they changed any of the
    /// same nodes differently, [`StoreError::Conflict`] names those nodes and nothing changes.
    pub fn commit_private(
        &self,
        base: &DataTree,
        candidate: &DataTree,
        meta: &CommitMeta,
        subscribers: &mut [&mut dyn Subscriber],
    ) -> Result<CommitOutcome, StoreError> {
        self.store.commit_inner(
            |st| self.store.running_rebased(st, base, candidate),
            meta,
            subscribers,
            plain_commit(meta.session),
            self.check,
        )
    }

    /// Roll running back to the state after commit `id`, through the full pipeline.
    pub fn rollback(
        &self,
        id: u64,
        meta: &CommitMeta,
        subscribers: &mut [&mut dyn Subscriber],
    ) -> Result<CommitOutcome, StoreError> {
        let tree = self.store.tree_at(id)?;
        self.commit_tree(tree, meta, subscribers)
    }

    /// copy-config running -> startup.
    pub fn copy_running_to_startup(&self) -> Result<(), StoreError> {
        self.store
            .store_startup(Some(self.store.running()), self.check)
    }

    /// Replace startup with a tree (copy-config with inline config or from candidate).
    pub fn set_startup(&self, tree: DataTree) -> Result<(), StoreError> {
        yang::validate::validate(
            self.store.schema(),
            &tree,
            yang::validate::ValidateOptions::default(),
        )
        .map_err(StoreError::Invalid)?;
        self.store.store_startup(Some(tree), self.check)
    }

    /// delete-config startup.
    pub fn delete_startup(&self) -> Result<(), StoreError> {
        self.store.store_startup(None, self.check)
    }
}
