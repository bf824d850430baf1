//! What the management front ends (NETCONF today; RESTCONF and the CLI in this round) need of
//! the rest of the agent, as traits: they see the protocol engines only through
//! [`Protocols`]. The wiring (`agent.rs`) implements it for the engines. Also here: the users
//! and their credentials (`users`, `crypt`), failed-login penalties (`throttle`) and access
//! control (`nacm`), shared by every front end.

pub mod access;
pub mod crypt;
pub mod nacm;
pub mod throttle;
pub mod users;

/// The protocol engines as a front end sees them.
pub trait Protocols: Send + Sync {
    /// Their operational state, as data of the device's modules; None if they did not answer
    /// in time.
    fn state(&self) -> Option<yang::data::DataTree>;

    /// The part of their state under the top-level node of the module with namespace `ns`
    /// (None: all of it), so that a read of one subtree does not build the others.
    fn state_of(&self, ns: Option<&str>) -> Option<yang::data::DataTree> {
        let _ = ns;
        self.state()
    }

    /// [`Protocols::state_of`] with some lists left as tables of rows, for a reader that reads
    /// rows (`yang::data::json::encode_overlay_rows`); laid in, they give `state_of`'s tree.
    fn state_rows(&self, ns: Option<&str>) -> Option<yang::data::TreeWithRows> {
        self.state_of(ns).map(|tree| yang::data::TreeWithRows {
            tree,
            tables: Vec::new(),
        })
    }

    /// A subscriber to the commit pipeline for one commit (prepare may veto; apply reconciles).
    fn subscriber(&self) -> Box<dyn datastore::Subscriber + '_>;
}
