//! Access control (RFC 8341) as the front ends apply it: the compiled `/nacm` of running
//! (swapped by a commit subscriber when a commit changes it), the denial counters, the external
//! groups file, and one [`Checker`] per request that decides protocol operations, prunes what
//! is read, checks what is written and filters notifications. The decisions themselves are
//! [`super::nacm`]'s; this module brings them to the data trees and the datastores.

mod groups;
mod read;
mod write;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use tracing::info;
use yang::data::{DataError, DataNode, DataTree, ErrorTag, NodeBuilder};
use yang::diff::Change;
use yang::schema::{ModuleId, NodeId};
use yang::Schema;

use super::nacm::{Action, Decision, Denial, Nacm, NacmError, UserAccess, NAMESPACE};

pub use groups::ExternalGroups;

/// The module of the base protocol operations (RFC 6241).
pub const IETF_NETCONF: &str = "ietf-netconf";

/// RFC 8341 §3.1.2's global counters (`/nacm/denied-*`, config false).
#[derive(Debug, Default)]
pub struct Counters {
    pub denied_operations: AtomicU64,
    pub denied_data_writes: AtomicU64,
    pub denied_notifications: AtomicU64,
}

/// The server's access control.
pub struct AccessControl {
    schema: Arc<Schema>,
    nacm: RwLock<Arc<Nacm>>,
    pub counters: Counters,
    pub groups: ExternalGroups,
    /// Per schema node: every data node below it is of its module and carries no NACM mark,
    /// so a decision that holds uniformly below it holds for its whole subtree.
    homogeneous: Vec<bool>,
    nacm_module: Option<ModuleId>,
}

impl AccessControl {
    /// Access control as running's `/nacm` says. A `/nacm` that does not compile (a commit
    /// would have refused it; a model change can still break one) is logged, and then only
    /// the recovery user may do anything.
    pub fn new(schema: Arc<Schema>, running: &DataTree) -> AccessControl {
        let nacm = match Nacm::from_tree(&schema, running) {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "the stored access control rules do not compile: everything is denied to all but the recovery user until /nacm is fixed");
                Nacm {
                    read_default: Action::Deny,
                    write_default: Action::Deny,
                    exec_default: Action::Deny,
                    ..Nacm::default()
                }
            }
        };
        let homogeneous = homogeneous(&schema);
        let nacm_module = schema.module_by_name(yang::schema::NACM_MODULE);
        AccessControl {
            schema,
            nacm: RwLock::new(Arc::new(nacm)),
            counters: Counters::default(),
            groups: ExternalGroups::default(),
            homogeneous,
            nacm_module,
        }
    }

    /// The rules in force.
    pub fn current(&self) -> Arc<Nacm> {
        Arc::clone(&self.nacm.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Read `--nacm-groups FILE` (at start: an unreadable file is an error).
    pub fn load_groups(&self, path: PathBuf) -> Result<(), String> {
        self.groups.load(path)
    }

    /// The checks of one request of `user` (on session `session`; `recovery`: the recovery
    /// user, whom access control never stops) under the rules `nacm` (from
    /// [`AccessControl::current`]).
    pub fn checker<'a>(
        &'a self,
        nacm: &'a Nacm,
        user: &'a str,
        session: u32,
        recovery: bool,
    ) -> Checker<'a> {
        let groups = self.groups.groups_of(user);
        Checker {
            control: self,
            access: nacm.for_user(user, &groups, recovery),
            session,
        }
    }

    /// `/nacm` state: the counters, to merge into `<get>`.
    pub fn state(&self) -> Result<DataNode, DataError> {
        let c = &self.counters;
        let mut nacm = NodeBuilder::top(&self.schema, NAMESPACE, "nacm")?;
        nacm.leaf(
            "denied-operations",
            c.denied_operations.load(Ordering::Relaxed),
        )?
        .leaf(
            "denied-data-writes",
            c.denied_data_writes.load(Ordering::Relaxed),
        )?
        .leaf(
            "denied-notifications",
            c.denied_notifications.load(Ordering::Relaxed),
        )?;
        Ok(nacm.finish())
    }

    /// The commit pipeline's subscriber that compiles a changed `/nacm` (refusing the commit if
    /// a rule does not compile) and puts it in force once committed. `recovery` names the
    /// recovery user, for the log of the users the groups name.
    pub fn subscriber<'a>(&'a self, recovery: Option<&'a str>) -> NacmSubscriber<'a> {
        NacmSubscriber {
            control: self,
            recovery,
            staged: None,
        }
    }

    /// Compile `/nacm` of a tree, as a commit would (validate uses it).
    pub fn compile(&self, tree: &DataTree) -> Result<Nacm, DataError> {
        Nacm::from_tree(&self.schema, tree).map_err(|e| self.nacm_error(e))
    }

    /// The rpc-error of a `/nacm` that does not compile, at the offending leaf.
    fn nacm_error(&self, e: NacmError) -> DataError {
        let prefix = self
            .nacm_module
            .map(|m| self.schema.module(m).prefix.clone())
            .unwrap_or_else(|| "nacm".into());
        let q = yang::instance_id::quote;
        let path = match &e {
            NacmError::InvalidPath {
                rule_list, rule, ..
            } => format!(
                "/{prefix}:nacm/{prefix}:rule-list[{prefix}:name={}]/{prefix}:rule[{prefix}:name={}]/{prefix}:path",
                q(rule_list),
                q(rule)
            ),
            NacmError::InvalidValue { .. } => format!("/{prefix}:nacm"),
        };
        DataError::new(ErrorTag::InvalidValue, e.to_string())
            .path(path)
            .app_tag("invalid-nacm-rule")
    }

    /// Does a change touch `/nacm`?
    fn touches_nacm(&self, change: &Change) -> bool {
        Some(self.schema.node(change.schema).module) == self.nacm_module
    }

    /// May `user` receive a notification whose content element is `name` in namespace `ns`
    /// (RFC 8341 §3.4.6)? A refusal is counted.
    pub fn may_receive(&self, user: &str, recovery: bool, ns: &str, name: &str) -> bool {
        let nacm = self.current();
        let groups = self.groups.groups_of(user);
        let access = nacm.for_user(user, &groups, recovery);
        if access.is_unrestricted() {
            return true;
        }
        let (module, mark) = match self.schema.module_by_namespace(ns) {
            Some(m) => {
                let module = self.schema.module(m);
                let mark = module
                    .notifications
                    .iter()
                    .find(|&&n| self.schema.node(n).name == name)
                    .and_then(|&n| self.schema.node(n).nacm_default_deny());
                (module.name.as_str(), mark.map(Into::into))
            }
            None => (notification_module(ns), None),
        };
        let decision = access.notification(module, name, mark);
        if !decision.allowed {
            self.counters
                .denied_notifications
                .fetch_add(1, Ordering::Relaxed);
            if let Some(d) = access.notification_denial(module, name, decision) {
                tracing::debug!(%user, path = %d.target, denied_by = %by(&d), "notification withheld");
            }
        }
        decision.allowed
    }
}

/// The module of a notification namespace the schema does not hold (the base notifications).
fn notification_module(ns: &str) -> &str {
    match ns {
        "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications" => "ietf-netconf-notifications",
        "urn:ietf:params:xml:ns:netmod:notification" => "nc-notifications",
        "urn:ietf:params:xml:ns:netconf:notification:1.0" => "notifications",
        other => other,
    }
}

/// What denied a request, for the log: the Denial's message after its first colon-separated
/// parts is long; the log keeps the rule or default alone.
fn by(d: &Denial<'_>) -> String {
    use super::nacm::By;
    match d.by {
        By::Rule { rule_list, rule } => format!("rule '{rule}' of rule-list '{rule_list}'"),
        By::Default(leaf) => leaf.to_string(),
        By::DefaultDenyAll => "nacm:default-deny-all".into(),
        By::DefaultDenyWrite => "nacm:default-deny-write".into(),
        By::KillSessionOrDeleteConfig => "the kill-session/delete-config default".into(),
        other => format!("{other:?}"),
    }
}

/// The checks of one request.
pub struct Checker<'a> {
    control: &'a AccessControl,
    access: UserAccess<'a>,
    session: u32,
}

impl<'a> Checker<'a> {
    /// Is everything permitted (recovery user, or NACM disabled)?
    pub fn is_unrestricted(&self) -> bool {
        self.access.is_unrestricted()
    }

    /// May the user invoke the rpc `name` of `module` (RFC 8341 §3.4.4)? `rpc` is its schema
    /// node when the schema has it (for its NACM mark). A refusal is counted and logged; the
    /// error is the rpc-error's content (access-denied, the evaluator's message).
    pub fn exec(&self, module: &str, name: &str, rpc: Option<NodeId>) -> Result<(), DataError> {
        let mark = rpc.and_then(|id| self.control.schema.effective_default_deny(id));
        let decision = self.access.rpc(module, name, mark.map(Into::into));
        match self.access.rpc_denial(module, name, decision) {
            None => Ok(()),
            Some(d) => {
                self.control
                    .counters
                    .denied_operations
                    .fetch_add(1, Ordering::Relaxed);
                Err(self.denied("exec", &d, None))
            }
        }
    }

    /// `tree` without the nodes the user may not read (RFC 8341 §3.4.5): a denied node goes
    /// with its subtree, a list entry with a key that may not be read goes whole. Subtrees the
    /// user may read whole are shared with `tree`, not copied.
    pub fn read(&self, tree: &DataTree) -> DataTree {
        if self.is_unrestricted() {
            return tree.clone();
        }
        read::prune(
            &self.control.schema,
            &self.control.homogeneous,
            &self.access,
            tree,
        )
    }

    /// May the user read the top-level node `top` whole, whatever is below it (so that
    /// [`Checker::read`] would keep it as it is)? A reader that knows this may skip the walk.
    pub fn reads_whole(&self, top: &DataNode) -> bool {
        if self.is_unrestricted() {
            return true;
        }
        self.control.schema.node(top.schema).parent.is_none()
            && read::whole(
                &self.control.schema,
                &self.control.homogeneous,
                &self.access,
                top,
            )
    }

    /// May the user read any of the top-level data of `module` (by name; a submodule counts as
    /// its module's)? A module without top-level data (types, augments, operations and
    /// notifications only) may always be read. get-schema asks this: a module whose data is
    /// hidden is not shown either.
    pub fn may_read_module(&self, module: &str) -> bool {
        if self.is_unrestricted() {
            return true;
        }
        let schema = &self.control.schema;
        let id = schema.module_by_name(module).or_else(|| {
            schema
                .modules
                .iter()
                .position(|m| m.submodules.iter().any(|s| s == module))
                .map(|i| ModuleId(i as u32))
        });
        let Some(id) = id else {
            return true;
        };
        let name = schema.module(id).name.as_str();
        let tops: Vec<NodeId> = schema
            .top_data_nodes()
            .into_iter()
            .filter(|&n| schema.node(n).module == id)
            .collect();
        tops.is_empty()
            || tops.iter().any(|&n| {
                let node = schema.node(n);
                let path = [super::nacm::Segment {
                    module: name,
                    name: &node.name,
                    keys: &[],
                }];
                let mark = node.nacm_default_deny().map(Into::into);
                let (decision, uniform) =
                    self.access
                        .data_and_below(super::nacm::Operation::Read, &path[..], mark);
                // Not uniform: a rule below may let some of it be read.
                decision.allowed || !uniform
            })
    }

    /// Log a denial and make its rpc-error content.
    fn denied(&self, kind: &str, d: &Denial<'_>, error_path: Option<String>) -> DataError {
        info!(
            user = %d.user,
            session = self.session,
            access = kind,
            path = %d.target,
            denied_by = %by(d),
            "access denied"
        );
        let e = DataError::new(ErrorTag::AccessDenied, d.to_string());
        match error_path {
            Some(p) => e.path(p),
            None => e,
        }
    }
}

/// Data-node write access (RFC 8341 §3.4.5), checked by the datastore on each change of the
/// edited datastore: every node the change creates, updates or deletes. The first denied node
/// refuses the whole request (its error-path is that node), and is counted and logged.
impl datastore::WriteCheck for Checker<'_> {
    fn check(&self, old: &DataTree, new: &DataTree, changes: &[Change]) -> Result<(), DataError> {
        if self.is_unrestricted() {
            return Ok(());
        }
        let found = write::first_denied(
            &self.control.schema,
            &self.control.homogeneous,
            &self.access,
            old,
            new,
            changes,
        );
        match found {
            None => Ok(()),
            Some((denial, path)) => {
                self.control
                    .counters
                    .denied_data_writes
                    .fetch_add(1, Ordering::Relaxed);
                Err(self.denied("write", &denial, Some(path)))
            }
        }
    }
}

/// A commit's subscriber for `/nacm`.
pub struct NacmSubscriber<'a> {
    control: &'a AccessControl,
    recovery: Option<&'a str>,
    /// The compiled `/nacm` of the commit being prepared.
    staged: Option<Arc<Nacm>>,
}

impl datastore::Subscriber for NacmSubscriber<'_> {
    fn prepare(&mut self, changes: &[Change], new: &DataTree) -> Result<(), DataError> {
        if !changes.iter().any(|c| self.control.touches_nacm(c)) {
            return Ok(());
        }
        self.staged = Some(Arc::new(self.control.compile(new)?));
        Ok(())
    }

    fn apply(&mut self, _: &[Change], new: &DataTree) {
        let Some(nacm) = self.staged.take() else {
            return;
        };
        log_unknown_users(&self.control.schema, &nacm, new, self.recovery);
        info!(
            enable_nacm = nacm.enable_nacm,
            groups = nacm.groups.len(),
            rule_lists = nacm.rule_lists.len(),
            "access control rules in force"
        );
        *self.control.nacm.write().unwrap_or_else(|p| p.into_inner()) = nacm;
    }

    fn abort(&mut self) {
        self.staged = None;
    }
}

/// A group may name users the device does not know (they may log in through an external
/// directory): accepted, and said in the log.
fn log_unknown_users(schema: &Schema, nacm: &Nacm, config: &DataTree, recovery: Option<&str>) {
    let (configured, _) = crate::northbound::users::read(schema, config);
    let known = |u: &str| recovery == Some(u) || configured.iter().any(|c| c.name == u);
    for g in &nacm.groups {
        for u in g.users.iter().filter(|u| !known(u)) {
            info!(group = %g.name, user = %u, "a NACM group names a user that is not configured here (an external user?)");
        }
        if g.users.is_empty() {
            info!(group = %g.name, "a NACM group names no user");
        }
    }
}

/// [`AccessControl::homogeneous`] for every schema node.
fn homogeneous(schema: &Schema) -> Vec<bool> {
    let mut memo: Vec<Option<bool>> = vec![None; schema.nodes.len()];
    fn visit(schema: &Schema, id: NodeId, memo: &mut [Option<bool>]) -> bool {
        if let Some(h) = memo[id.0 as usize] {
            return h;
        }
        let node = schema.node(id);
        let mut h = true;
        for &c in &node.children {
            let child = schema.node(c);
            // Every child is visited (its own entry is needed too).
            let below = visit(schema, c, memo);
            h &= below && child.module == node.module && child.nacm_default_deny().is_none();
        }
        memo[id.0 as usize] = Some(h);
        h
    }
    for i in 0..schema.nodes.len() {
        visit(schema, NodeId(i as u32), &mut memo);
    }
    memo.into_iter().map(|h| h.unwrap_or(false)).collect()
}

/// The decision a reader or writer inherits from the node above.
#[derive(Debug, Clone, Copy)]
struct Above {
    /// The node above is permitted and decides its same-module, unmarked descendants.
    uniform: bool,
    module: ModuleId,
    /// The strongest NACM mark on the node above or its ancestors.
    mark: Option<yang::schema::DefaultDeny>,
}

/// What the walks ask of each node: the decision (inherited where it cannot differ from the
/// node above), and whether it holds for the node's same-module, unmarked descendants.
fn decide<'a, P: super::nacm::DataPath + ?Sized>(
    access: &UserAccess<'a>,
    schema: &Schema,
    op: super::nacm::Operation,
    path: &P,
    node: NodeId,
    above: Option<Above>,
) -> (Option<Decision<'a>>, Above) {
    let sn = schema.node(node);
    let own = sn.nacm_default_deny();
    let mark = above.and_then(|a| a.mark).max(own);
    let inherited = above.is_some_and(|a| a.uniform && a.module == sn.module && own.is_none());
    if inherited {
        return (
            None,
            Above {
                uniform: true,
                module: sn.module,
                mark,
            },
        );
    }
    let (decision, uniform) = access.data_and_below(op, path, mark.map(Into::into));
    (
        Some(decision),
        Above {
            uniform: uniform && decision.allowed,
            module: sn.module,
            mark,
        },
    )
}
