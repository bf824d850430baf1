//! Releasing replaced trees off the commit path.
//!
//! A new running tree shares every unchanged subtree with the one it replaces, but dropping the
//! old one still walks the sibling vectors of the nodes on the changed path (10,000 reference
//! counts for a 10,000-entry list). That work does not change what the client sees, so a
//! background thread does it after the reply.

use std::sync::mpsc::{channel, Sender};

use yang::data::DataTree;

/// How long the thread lets released trees gather before it drops them.
const PAUSE: std::time::Duration = std::time::Duration::from_millis(10);

pub(crate) struct Reclaimer {
    tx: Option<Sender<DataTree>>,
}

impl Reclaimer {
    pub(crate) fn start() -> Reclaimer {
        let (tx, rx) = channel::<DataTree>();
        let spawned = std::thread::Builder::new()
            .name("ds-reclaim".into())
            .spawn(move || {
                while let Ok(tree) = rx.recv() {
                    drop(tree);
                    // Trees released meanwhile wait for the next pass: a wake per commit
                    // costs more than the drops.
                    std::thread::sleep(PAUSE);
                    while let Ok(tree) = rx.try_recv() {
                        drop(tree);
                    }
                }
            });
        Reclaimer {
            // Without the thread, trees are simply dropped where they are replaced.
            tx: spawned.ok().map(|_| tx),
        }
    }

    /// Drop `tree` on the reclaim thread.
    pub(crate) fn release(&self, tree: DataTree) {
        if let Some(tx) = &self.tx {
            // A send fails only if the thread is gone; the tree then drops here.
            let _ = tx.send(tree);
        }
    }
}
