//! The management plane's own state for `<get>`: the commit history (ne-system), NETCONF
//! monitoring (RFC 6022 `netconf-state`), the YANG library (RFC 8525 `yang-library`, with
//! RFC 7895 `modules-state`) and the access-control counters (RFC 8341 `/nacm`), built as data
//! trees from the live server. `<get>` merges them with the configuration and the engines'
//! state, and one filter path serves them all.

mod library;
mod monitoring;
#[cfg(test)]
mod tests;

use yang::data::{DataError, DataNode, DataTree, NodeBuilder};

use super::server::Server;
use crate::clock::rfc3339;

pub use library::module_set_id;

pub const SYSTEM_NS: &str = "urn:ne-agent:yang:ne-system";
/// The ietf-netconf-monitoring namespace (RFC 6022).
pub const NCM_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring";
/// The ietf-yang-library namespace (RFC 8525).
pub const YANG_LIBRARY_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-yang-library";

/// Every state tree of the management plane.
pub fn tree(server: &Server) -> Result<DataTree, DataError> {
    tree_of(server, None)
}

/// The state trees of the management plane under the top-level nodes of the module with
/// namespace `scope` (None: all of them): a read of another module's data builds none.
pub fn tree_of(server: &Server, scope: Option<&str>) -> Result<DataTree, DataError> {
    let schema = &server.schema;
    let wants = |ns: &str| scope.is_none_or(|s| s == ns);
    let mut tree = DataTree::new();
    if wants(SYSTEM_NS) {
        tree.insert(schema, commit_history(server)?)?;
    }
    if wants(NCM_NS) {
        tree.insert(schema, monitoring::netconf_state(server)?)?;
    }
    if wants(YANG_LIBRARY_NS) {
        for root in library::trees(schema)? {
            tree.insert(schema, root)?;
        }
    }
    if wants(crate::northbound::nacm::NAMESPACE) {
        tree.insert(schema, server.access.state()?)?;
    }
    Ok(tree)
}

/// `ne-system:commit-history`: the commits the datastore remembers.
pub fn commit_history(server: &Server) -> Result<DataNode, DataError> {
    let mut history = NodeBuilder::top(&server.schema, SYSTEM_NS, "commit-history")?;
    for c in server.store.history() {
        let mut commit = history.inner("commit")?;
        commit
            .leaf("id", c.id)?
            .leaf("time", rfc3339(c.time_ms))?
            .leaf("user", &c.user)?
            .leaf("session-id", c.session)?;
        if let Some(comment) = &c.comment {
            commit.leaf("comment", comment)?;
        }
        commit.leaf("change-count", c.change_count)?;
        history.push(commit)?;
    }
    Ok(history.finish())
}
