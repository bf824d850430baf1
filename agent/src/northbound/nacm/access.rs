//! One user's view of the NACM rules and the checks of RFC 8341 §3.4.4 (rpc), §3.4.5 (data
//! nodes) and §3.4.6 (notifications).

use std::fmt;

use super::path::{display_path, DataPath};
use super::trie::PathTrie;
use super::{Action, DefaultDeny, Nacm, Operation, Rule, Target};

/// The module that defines `close-session`, `kill-session` and `delete-config`.
const IETF_NETCONF: &str = "ietf-netconf";
/// The module of RFC 5277's `replayComplete` and `notificationComplete`.
const NC_NOTIFICATIONS: &str = "nc-notifications";

/// An access decision and what made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision<'a> {
    pub allowed: bool,
    pub by: By<'a>,
}

/// What decided a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By<'a> {
    /// The first matching rule.
    Rule { rule_list: &'a str, rule: &'a str },
    /// No rule matched: `read-default`, `write-default` or `exec-default`.
    Default(&'static str),
    /// No rule matched a node, rpc or notification marked `nacm:default-deny-all`.
    DefaultDenyAll,
    /// No rule matched a write of a node marked `nacm:default-deny-write`.
    DefaultDenyWrite,
    /// No rule matched `kill-session` or `delete-config`, which are denied by default.
    KillSessionOrDeleteConfig,
    /// The recovery session bypasses access control.
    Recovery,
    /// `enable-nacm` is false.
    Disabled,
    /// `close-session` is always permitted.
    CloseSession,
    /// `replayComplete` and `notificationComplete` are always sent.
    SubscriptionEvent,
}

impl Decision<'_> {
    fn permit(by: By<'_>) -> Decision<'_> {
        Decision { allowed: true, by }
    }

    fn deny(by: By<'_>) -> Decision<'_> {
        Decision { allowed: false, by }
    }
}

/// A rule of one of the user's rule-lists.
#[derive(Debug, Clone, Copy)]
struct Applicable<'a> {
    rule_list: &'a str,
    rule: &'a Rule,
}

/// How the user's requests are decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// By the rules and defaults.
    Rules,
    /// Everything is permitted: NACM is off.
    Disabled,
    /// Everything is permitted: the recovery session.
    Recovery,
}

/// The user's data-node rules for one operation, compiled for matching.
#[derive(Debug, Clone, Default)]
struct DataRules<'a> {
    /// Rules without a rule-type (module rules), by order.
    any: Vec<usize>,
    /// Rules with a path.
    paths: PathTrie<'a>,
}

impl<'a> DataRules<'a> {
    fn new(op: Operation, rules: &[Applicable<'a>]) -> Self {
        let mut out = DataRules::default();
        for (order, a) in rules.iter().enumerate() {
            if !a.rule.access.contains(op) {
                continue;
            }
            match &a.rule.target {
                Target::Any => out.any.push(order),
                Target::Path(p) => out.paths.insert(order, &a.rule.module_name, p),
                Target::Rpc(_) | Target::Notification(_) => {}
            }
        }
        out
    }
}

/// The NACM configuration as it applies to one user: the rules of the user's rule-lists in
/// order, and the defaults. Made by [`Nacm::for_user`]; every check borrows it.
#[derive(Debug, Clone)]
pub struct UserAccess<'a> {
    nacm: &'a Nacm,
    user: &'a str,
    mode: Mode,
    rules: Vec<Applicable<'a>>,
    /// Per [`Operation::index`].
    data: [DataRules<'a>; 5],
}

impl Nacm {
    /// Prepare the checks of `user`'s requests. The user's groups are the configured groups that
    /// name the user, plus `external_groups` (from the transport, e.g. a RADIUS reply) when
    /// `enable-external-groups` is true; the rule-lists kept are those naming one of these
    /// groups, or `*` when the user has any group (RFC 8341 §3.4.4 steps 4 to 6).
    pub fn for_user<'a>(
        &'a self,
        user: &'a str,
        external_groups: &[String],
        recovery: bool,
    ) -> UserAccess<'a> {
        let mode = if !self.enable_nacm {
            Mode::Disabled
        } else if recovery {
            Mode::Recovery
        } else {
            Mode::Rules
        };
        let external: &[String] = if self.enable_external_groups {
            external_groups
        } else {
            &[]
        };
        let in_group = |g: &str| {
            external.iter().any(|e| e == g)
                || self
                    .groups
                    .iter()
                    .any(|c| c.name == g && c.users.iter().any(|u| u == user))
        };
        let has_group = !external.is_empty()
            || self
                .groups
                .iter()
                .any(|c| c.users.iter().any(|u| u == user));
        let rules = self
            .rule_lists
            .iter()
            .filter(|_| mode == Mode::Rules && has_group)
            .filter(|l| l.groups.iter().any(|g| g == "*" || in_group(g)))
            .flat_map(|l| {
                l.rules.iter().map(|rule| Applicable {
                    rule_list: &l.name,
                    rule,
                })
            })
            .collect::<Vec<_>>();
        let data = Operation::ALL.map(|op| DataRules::new(op, &rules));
        UserAccess {
            nacm: self,
            user,
            mode,
            rules,
            data,
        }
    }
}

impl<'a> UserAccess<'a> {
    /// The user these checks are for.
    pub fn user(&self) -> &'a str {
        self.user
    }

    /// Is everything permitted (NACM off, or the recovery session)? A reader then need not
    /// look at the data at all.
    pub fn is_unrestricted(&self) -> bool {
        self.mode != Mode::Rules
    }

    /// May the user invoke the rpc `name` of `module` (§3.4.4)? `mark` is the rpc's NACM
    /// extension (only `default-deny-all` applies to an rpc).
    pub fn rpc(&self, module: &str, name: &str, mark: Option<DefaultDeny>) -> Decision<'a> {
        if let Some(d) = self.bypass() {
            return d;
        }
        if module == IETF_NETCONF && name == "close-session" {
            return Decision::permit(By::CloseSession);
        }
        let target = |t: &Target| match t {
            Target::Any => true,
            Target::Rpc(r) => r == "*" || r == name,
            _ => false,
        };
        if let Some(d) = self.first_rule(Operation::Exec, module, target) {
            return d;
        }
        if mark == Some(DefaultDeny::All) {
            return Decision::deny(By::DefaultDenyAll);
        }
        if module == IETF_NETCONF && matches!(name, "kill-session" | "delete-config") {
            return Decision::deny(By::KillSessionOrDeleteConfig);
        }
        self.default(self.nacm.exec_default, "exec-default")
    }

    /// May the user receive the notification `name` of `module` (§3.4.6)? `mark` is the
    /// notification's NACM extension (only `default-deny-all` applies).
    pub fn notification(
        &self,
        module: &str,
        name: &str,
        mark: Option<DefaultDeny>,
    ) -> Decision<'a> {
        if let Some(d) = self.bypass() {
            return d;
        }
        if module == NC_NOTIFICATIONS && matches!(name, "replayComplete" | "notificationComplete") {
            return Decision::permit(By::SubscriptionEvent);
        }
        let target = |t: &Target| match t {
            Target::Any => true,
            Target::Notification(n) => n == "*" || n == name,
            _ => false,
        };
        if let Some(d) = self.first_rule(Operation::Read, module, target) {
            return d;
        }
        if mark == Some(DefaultDeny::All) {
            return Decision::deny(By::DefaultDenyAll);
        }
        self.default(self.nacm.read_default, "read-default")
    }

    /// May the user do `op` on the data node `node` (§3.4.5)? `mark` is the NACM extension of the
    /// node or of its nearest marked ancestor. A read that is denied means the node and all its
    /// descendants are left out of the reply; a write is checked per node (create, update or
    /// delete as the edit does to that node). `Exec` is an action's invocation.
    pub fn data<P: DataPath + ?Sized>(
        &self,
        op: Operation,
        node: &P,
        mark: Option<DefaultDeny>,
    ) -> Decision<'a> {
        self.data_and_below(op, node, mark).0
    }

    /// Is every descendant of `node` decided for `op` as `node` itself is, as long as it is
    /// defined in the same module as `node` and carries the same NACM mark? True when no rule
    /// path names a node below `node` (key predicates that cannot match `node` rule a path out).
    ///
    /// A reader walking a subtree checks a node, asks this, and then needs to check a
    /// descendant again only where the module or the mark changes.
    pub fn uniform_below<P: DataPath + ?Sized>(&self, op: Operation, node: &P) -> bool {
        self.data_and_below(op, node, None).1
    }

    /// [`UserAccess::data`] and [`UserAccess::uniform_below`] in one pass over the rules: what
    /// a reader asks of each node it checks.
    pub fn data_and_below<P: DataPath + ?Sized>(
        &self,
        op: Operation,
        node: &P,
        mark: Option<DefaultDeny>,
    ) -> (Decision<'a>, bool) {
        if let Some(d) = self.bypass() {
            return (d, true);
        }
        let module = match node.depth() {
            0 => "",
            n => node.module(n - 1),
        };
        let rules = &self.data[op.index()];
        let paths = rules.paths.lookup(node, module);
        // The first module rule that comes before the first path rule, else that path rule.
        let any = rules.any.iter().copied().find(|&order| {
            paths.first.is_none_or(|p| order < p) && self.rules[order].rule.module_matches(module)
        });
        let decision = match any.or(paths.first) {
            Some(order) => self.decided_by(order),
            None => self.data_default(op, mark),
        };
        (decision, !paths.reaches_below)
    }

    /// No rule matched a data node: its mark, then the defaults (steps 10 to 13).
    fn data_default(&self, op: Operation, mark: Option<DefaultDeny>) -> Decision<'a> {
        match (mark, op) {
            (Some(DefaultDeny::All), _) => return Decision::deny(By::DefaultDenyAll),
            (Some(DefaultDeny::Write), op) if op.is_write() => {
                return Decision::deny(By::DefaultDenyWrite)
            }
            _ => {}
        }
        match op {
            Operation::Read => self.default(self.nacm.read_default, "read-default"),
            Operation::Exec => self.default(self.nacm.exec_default, "exec-default"),
            _ => self.default(self.nacm.write_default, "write-default"),
        }
    }

    /// The denial to report for a data-node decision; None when it permits.
    pub fn data_denial<P: DataPath + ?Sized>(
        &self,
        op: Operation,
        node: &P,
        decision: Decision<'a>,
    ) -> Option<Denial<'a>> {
        self.denial(Request::Data(op), display_path(node), decision)
    }

    /// The denial to report for an rpc decision; None when it permits.
    pub fn rpc_denial(
        &self,
        module: &str,
        name: &str,
        decision: Decision<'a>,
    ) -> Option<Denial<'a>> {
        self.denial(Request::Rpc, format!("/{module}:{name}"), decision)
    }

    /// The denial to report for a notification decision; None when it permits.
    pub fn notification_denial(
        &self,
        module: &str,
        name: &str,
        decision: Decision<'a>,
    ) -> Option<Denial<'a>> {
        self.denial(Request::Notification, format!("/{module}:{name}"), decision)
    }

    fn denial(
        &self,
        request: Request,
        target: String,
        decision: Decision<'a>,
    ) -> Option<Denial<'a>> {
        (!decision.allowed).then_some(Denial {
            user: self.user,
            request,
            target,
            by: decision.by,
        })
    }

    /// NACM off or the recovery session: everything is permitted (steps 1 and 2).
    fn bypass(&self) -> Option<Decision<'a>> {
        match self.mode {
            Mode::Rules => None,
            Mode::Disabled => Some(Decision::permit(By::Disabled)),
            Mode::Recovery => Some(Decision::permit(By::Recovery)),
        }
    }

    /// The first rule, in rule-list order then rule order, whose access bits hold `op`, whose
    /// module-name matches and whose rule-type matches (step 7).
    fn first_rule(
        &self,
        op: Operation,
        module: &str,
        target: impl Fn(&Target) -> bool,
    ) -> Option<Decision<'a>> {
        self.rules
            .iter()
            .position(|a| {
                a.rule.access.contains(op)
                    && a.rule.module_matches(module)
                    && target(&a.rule.target)
            })
            .map(|order| self.decided_by(order))
    }

    /// The decision of the user's rule at `order`.
    fn decided_by(&self, order: usize) -> Decision<'a> {
        let a = self.rules[order];
        Decision {
            allowed: a.rule.action == Action::Permit,
            by: By::Rule {
                rule_list: a.rule_list,
                rule: &a.rule.name,
            },
        }
    }

    fn default(&self, action: Action, leaf: &'static str) -> Decision<'a> {
        Decision {
            allowed: action == Action::Permit,
            by: By::Default(leaf),
        }
    }
}

/// What was asked, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// An operation on a data node.
    Data(Operation),
    /// Invoking an rpc.
    Rpc,
    /// Receiving a notification.
    Notification,
}

impl Request {
    /// The verb of "may not ...".
    fn verb(self) -> &'static str {
        match self {
            Request::Data(Operation::Exec) | Request::Rpc => "execute",
            Request::Data(op) => op.as_str(),
            Request::Notification => "receive",
        }
    }
}

/// A denied request, with what denied it; its `Display` is the rpc-error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial<'a> {
    pub user: &'a str,
    pub request: Request,
    /// The data path, or `/module:name` of the rpc or notification.
    pub target: String,
    pub by: By<'a>,
}

impl fmt::Display for Denial<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "access denied: user '{}' may not {} {}: ",
            self.user,
            self.request.verb(),
            self.target
        )?;
        match self.by {
            By::Rule { rule_list, rule } => {
                write!(f, "denied by rule '{rule}' of rule-list '{rule_list}'")
            }
            By::Default(leaf) => write!(f, "{leaf} is deny and no rule permits it"),
            By::DefaultDenyAll => {
                f.write_str("it is marked nacm:default-deny-all and no rule permits it")
            }
            By::DefaultDenyWrite => {
                f.write_str("it is marked nacm:default-deny-write and no rule permits it")
            }
            By::KillSessionOrDeleteConfig => {
                f.write_str("kill-session and delete-config are denied unless a rule permits them")
            }
            // Never denials; kept total for a caller that formats a permit by mistake.
            By::Recovery => f.write_str("the recovery session is not subject to access control"),
            By::Disabled => f.write_str("access control is disabled"),
            By::CloseSession => f.write_str("close-session is always permitted"),
            By::SubscriptionEvent => f.write_str("subscription events are always sent"),
        }
    }
}
