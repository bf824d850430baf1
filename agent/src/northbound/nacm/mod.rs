//! RFC 8341 NETCONF Access Control Model: the `/nacm` configuration as typed values and the
//! access decisions it makes, sans I/O.
//!
//! The configuration ([`Nacm`]) is prepared once per user and request ([`Nacm::for_user`]) into a
//! [`UserAccess`] that holds only the rules of the user's groups, in order; every check goes
//! through it and costs no allocation. Data nodes are given as a [`DataPath`] view the caller
//! implements over its own tree ([`TreePath`] for the `yang` data tree); the path rules are
//! merged into a prefix tree per operation, so a check reads each level of the node once. A
//! reader asks [`UserAccess::data_and_below`] of a node and skips the checks of its subtree
//! when no rule path reaches below it.
//!
//! Counters (`denied-operations` and the others) are the caller's business.

mod access;
mod path;
mod tree;
mod trie;

#[cfg(test)]
mod tests;

pub use access::{By, Decision, Denial, Request, UserAccess};
pub use path::{display_path, DataPath, NodePath, PathError, Segment};
pub use tree::{schema_resolver, TreePath, NAMESPACE};

/// `action-type`: what a matching rule, or a default, does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Permit,
    Deny,
}

impl Action {
    /// The YANG enum name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Permit => "permit",
            Action::Deny => "deny",
        }
    }
}

/// The kind of access a request makes of a data node, an rpc or a notification (RFC 8341
/// §3.2.2 `access-operations` bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Read,
    Update,
    Delete,
    Exec,
}

impl Operation {
    /// Every operation, in bit order.
    pub const ALL: [Operation; 5] = [
        Operation::Create,
        Operation::Read,
        Operation::Update,
        Operation::Delete,
        Operation::Exec,
    ];

    /// The bit name as written in `access-operations`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Exec => "exec",
        }
    }

    /// Create, update and delete: the operations `write-default` and `default-deny-write`
    /// govern.
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Operation::Create | Operation::Update | Operation::Delete
        )
    }

    /// Position in [`Operation::ALL`].
    fn index(self) -> usize {
        match self {
            Operation::Create => 0,
            Operation::Read => 1,
            Operation::Update => 2,
            Operation::Delete => 3,
            Operation::Exec => 4,
        }
    }

    fn bit(self) -> u8 {
        1 << self.index()
    }
}

/// A rule's `access-operations`: a set of [`Operation`]s (`*` is all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessSet(u8);

impl AccessSet {
    /// `*`.
    pub const ALL: AccessSet = AccessSet(31);
    /// No operation (an empty bits value).
    pub const NONE: AccessSet = AccessSet(0);

    /// The set holding these operations.
    pub fn of(ops: &[Operation]) -> AccessSet {
        AccessSet(ops.iter().fold(0, |acc, op| acc | op.bit()))
    }

    /// Parse the leaf value: `*` or space-separated bit names.
    pub fn parse(text: &str) -> Option<AccessSet> {
        if text.trim() == "*" {
            return Some(AccessSet::ALL);
        }
        let mut bits = 0;
        for word in text.split_whitespace() {
            bits |= match word {
                "create" => Operation::Create.bit(),
                "read" => Operation::Read.bit(),
                "update" => Operation::Update.bit(),
                "delete" => Operation::Delete.bit(),
                "exec" => Operation::Exec.bit(),
                _ => return None,
            };
        }
        Some(AccessSet(bits))
    }

    /// Does the set hold `op`?
    pub fn contains(self, op: Operation) -> bool {
        self.0 & op.bit() != 0
    }
}

/// A schema node's NACM extension (RFC 8341 §3.2.2); the caller knows its schema and passes
/// the mark of the node or of its nearest marked ancestor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultDeny {
    /// `nacm:default-deny-all`: no read, write or exec unless a rule permits it.
    All,
    /// `nacm:default-deny-write`: no write unless a rule permits it.
    Write,
}

/// `/nacm`: the whole access-control configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nacm {
    pub enable_nacm: bool,
    pub read_default: Action,
    pub write_default: Action,
    pub exec_default: Action,
    pub enable_external_groups: bool,
    pub groups: Vec<Group>,
    /// In configuration order (the list is `ordered-by user`): earlier lists win.
    pub rule_lists: Vec<RuleList>,
}

/// The RFC 8341 defaults: enabled, read and exec permitted, write denied, external groups used.
impl Default for Nacm {
    fn default() -> Self {
        Nacm {
            enable_nacm: true,
            read_default: Action::Permit,
            write_default: Action::Deny,
            exec_default: Action::Permit,
            enable_external_groups: true,
            groups: Vec::new(),
            rule_lists: Vec::new(),
        }
    }
}

/// `/nacm/groups/group`: a named set of users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub users: Vec<String>,
}

/// `/nacm/rule-list`: rules that apply to the users of some groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleList {
    pub name: String,
    /// Group names; `*` means every group.
    pub groups: Vec<String>,
    /// In configuration order: the first matching rule decides.
    pub rules: Vec<Rule>,
}

/// `/nacm/rule-list/rule`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    /// The module the requested node, rpc or notification is defined in; `*` is any.
    pub module_name: String,
    pub target: Target,
    pub access: AccessSet,
    pub action: Action,
    pub comment: Option<String>,
}

/// The `rule-type` choice of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// No rule-type: any rpc, notification or data node (of the rule's module).
    Any,
    /// `rpc-name` (`*` is any).
    Rpc(String),
    /// `notification-name` (`*` is any).
    Notification(String),
    /// `path`: a data node and its descendants.
    Path(NodePath),
}

/// A configuration the evaluator cannot use; the commit that brings it is refused with this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NacmError {
    /// A `path` that does not parse or names an unknown module or prefix.
    #[error("rule '{rule}' of rule-list '{rule_list}': invalid path '{path}': {reason}")]
    InvalidPath {
        rule_list: String,
        rule: String,
        path: String,
        reason: PathError,
    },
    /// A leaf of `/nacm` whose value is not of its type (the schema should have refused it).
    #[error("{path}: invalid value '{value}'")]
    InvalidValue { path: String, value: String },
}

impl Rule {
    /// Does this rule's `module-name` match a request of `module`?
    fn module_matches(&self, module: &str) -> bool {
        self.module_name == "*" || self.module_name == module
    }
}

impl Nacm {
    /// Compile a rule's `path` text, naming the rule in the error.
    pub fn compile_path(
        rule_list: &str,
        rule: &str,
        text: &str,
        resolve: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Target, NacmError> {
        NodePath::parse(text, resolve)
            .map(Target::Path)
            .map_err(|reason| NacmError::InvalidPath {
                rule_list: rule_list.to_string(),
                rule: rule.to_string(),
                path: text.to_string(),
                reason,
            })
    }
}
