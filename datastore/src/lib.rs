//! Running, candidate and startup datastores persisted in sled, locks, the commit log and the
//! commit pipeline's contract with the engines (see ARCHITECTURE.md, "Data flow").

mod checked;
mod chunks;
mod codec;
pub mod commit;
mod compactor;
pub mod confirmed;
mod durable;
mod error;
mod journal;
pub mod log;
mod rebase;
mod reclaim;
mod rendered;
mod store;
mod validated;

pub use checked::Checked;
pub use commit::{CommitMeta, CommitOutcome, Subscriber, WriteCheck};
pub use confirmed::{CommitRequest, Pending};
pub use durable::{deferring_flush, Durable, Unflushed};
pub use error::StoreError;
pub use store::{BootSource, Datastore, Target};
