//! The bridge to the `yang` data tree: `/nacm` of the running configuration into [`Nacm`], and
//! [`TreePath`], the [`DataPath`] of a node of a data tree.

use yang::data::{module_for_prefix, DataNode, DataTree};
use yang::{NodeKind, Schema};

use super::path::{DataPath, NodePath, PathError};
use super::{AccessSet, Action, Group, Nacm, NacmError, Rule, RuleList, Target};

/// The namespace of `ietf-netconf-acm`.
pub const NAMESPACE: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-acm";

/// The path of a node of a data tree: the nodes from a top-level one down, pushed and popped
/// by a walk. Reading it allocates nothing; reuse one for a whole walk.
#[derive(Debug, Clone)]
pub struct TreePath<'s, 'd> {
    schema: &'s Schema,
    nodes: Vec<&'d DataNode>,
}

impl<'s, 'd> TreePath<'s, 'd> {
    /// An empty path (the datastore root).
    pub fn new(schema: &'s Schema) -> Self {
        TreePath {
            schema,
            nodes: Vec::new(),
        }
    }

    /// Go down to a child of the current node (or to a top-level node from the root).
    pub fn push(&mut self, node: &'d DataNode) {
        self.nodes.push(node);
    }

    /// Go back up one level.
    pub fn pop(&mut self) -> Option<&'d DataNode> {
        self.nodes.pop()
    }

    /// The nodes from the top-level one down.
    pub fn nodes(&self) -> &[&'d DataNode] {
        &self.nodes
    }
}

impl DataPath for TreePath<'_, '_> {
    fn depth(&self) -> usize {
        self.nodes.len()
    }

    fn module(&self, level: usize) -> &str {
        let sn = self.schema.node(self.nodes[level].schema);
        &self.schema.module(sn.module).name
    }

    fn name(&self, level: usize) -> &str {
        &self.schema.node(self.nodes[level].schema).name
    }

    fn key_count(&self, level: usize) -> usize {
        let sn = self.schema.node(self.nodes[level].schema);
        match sn.kind {
            NodeKind::List => sn.keys.len(),
            NodeKind::LeafList => 1,
            _ => 0,
        }
    }

    fn key(&self, level: usize, index: usize) -> (&str, &str) {
        let node = self.nodes[level];
        let sn = self.schema.node(node.schema);
        if sn.kind == NodeKind::LeafList {
            return (".", node.value.as_deref().unwrap_or(""));
        }
        let Some(&key) = sn.keys.get(index) else {
            return ("", "");
        };
        let value = node
            .children
            .iter()
            .find(|c| c.schema == key)
            .and_then(|c| c.value.as_deref())
            .unwrap_or("");
        (&self.schema.node(key).name, value)
    }
}

/// The schema's mark of a node, as the evaluator takes it.
impl From<yang::schema::DefaultDeny> for super::DefaultDeny {
    fn from(mark: yang::schema::DefaultDeny) -> Self {
        match mark {
            yang::schema::DefaultDeny::All => super::DefaultDeny::All,
            yang::schema::DefaultDeny::Write => super::DefaultDeny::Write,
        }
    }
}

/// Resolve a rule path's prefixes against a schema: module names and modules' prefixes.
pub fn schema_resolver(schema: &Schema) -> impl Fn(&str) -> Option<String> + '_ {
    move |p: &str| {
        schema
            .module_by_name(p)
            .or_else(|| module_for_prefix(schema, p))
            .map(|m| schema.module(m).name.clone())
    }
}

impl Nacm {
    /// `/nacm` of a configuration tree (the RFC defaults where it is absent). A rule path that
    /// does not compile is an error naming the rule.
    pub fn from_tree(schema: &Schema, tree: &DataTree) -> Result<Nacm, NacmError> {
        let Some(top) = tree.roots.iter().find(|r| {
            schema.node(r.schema).name == "nacm" && schema.namespace_of(r.schema) == NAMESPACE
        }) else {
            return Ok(Nacm::default());
        };
        let resolve = schema_resolver(schema);
        let r = Reader { schema };
        let mut nacm = Nacm::default();
        let at = TOP;
        nacm.enable_nacm = r.boolean(top, "enable-nacm", nacm.enable_nacm, at)?;
        nacm.read_default = r.action(top, "read-default", nacm.read_default, at)?;
        nacm.write_default = r.action(top, "write-default", nacm.write_default, at)?;
        nacm.exec_default = r.action(top, "exec-default", nacm.exec_default, at)?;
        nacm.enable_external_groups = r.boolean(
            top,
            "enable-external-groups",
            nacm.enable_external_groups,
            at,
        )?;
        if let Some(groups) = r.children(top, "groups").next() {
            nacm.groups = r
                .children(groups, "group")
                .map(|g| Group {
                    name: r.text(g, "name").to_string(),
                    users: r.strings(g, "user-name"),
                })
                .collect();
        }
        nacm.rule_lists = r
            .children(top, "rule-list")
            .map(|l| r.rule_list(l, &resolve))
            .collect::<Result<_, _>>()?;
        Ok(nacm)
    }
}

/// Leaf access by local name within `/nacm` (every node there is of ietf-netconf-acm).
struct Reader<'s> {
    schema: &'s Schema,
}

impl Reader<'_> {
    fn rule_list(
        &self,
        list: &DataNode,
        resolve: &dyn Fn(&str) -> Option<String>,
    ) -> Result<RuleList, NacmError> {
        let name = self.text(list, "name");
        let rules = self
            .children(list, "rule")
            .map(|rule| self.rule(name, rule, resolve))
            .collect::<Result<_, _>>()?;
        Ok(RuleList {
            name: name.to_string(),
            groups: self.strings(list, "group"),
            rules,
        })
    }

    fn rule(
        &self,
        list: &str,
        rule: &DataNode,
        resolve: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Rule, NacmError> {
        let name = self.text(rule, "name");
        let at = format!("{TOP}/rule-list[name='{list}']/rule[name='{name}']");
        let target = if let Some(r) = self.leaf(rule, "rpc-name") {
            Target::Rpc(r.to_string())
        } else if let Some(n) = self.leaf(rule, "notification-name") {
            Target::Notification(n.to_string())
        } else if let Some(p) = self.leaf(rule, "path") {
            let target = Nacm::compile_path(list, name, p, resolve)?;
            if let Target::Path(path) = &target {
                self.in_schema(path)
                    .map_err(|reason| NacmError::InvalidPath {
                        rule_list: list.to_string(),
                        rule: name.to_string(),
                        path: p.to_string(),
                        reason,
                    })?;
            }
            target
        } else {
            Target::Any
        };
        let access_text = self.leaf(rule, "access-operations").unwrap_or("*");
        let access = AccessSet::parse(access_text)
            .ok_or_else(|| invalid(&at, "access-operations", access_text))?;
        Ok(Rule {
            name: name.to_string(),
            module_name: self.leaf(rule, "module-name").unwrap_or("*").to_string(),
            target,
            access,
            action: self.action(rule, "action", Action::Deny, &at)?,
            comment: self.leaf(rule, "comment").map(str::to_string),
        })
    }

    /// Does every step of a rule path name a node of the schema, below the step before it (a
    /// data node, or a top-level rpc or notification)? A path to nowhere would never match,
    /// and its rule would silently do nothing.
    fn in_schema(&self, path: &NodePath) -> Result<(), PathError> {
        let mut parent = None;
        for (i, step) in path.steps().iter().enumerate() {
            let unknown = || {
                let so_far = NodePath::display_steps(&path.steps()[..=i]);
                PathError::UnknownNode(so_far)
            };
            let module = self
                .schema
                .module_by_name(&step.module)
                .ok_or_else(unknown)?;
            let ns = &self.schema.module(module).namespace;
            if let Some(id) = self.schema.find_child(parent, ns, &step.name) {
                parent = Some(id);
                continue;
            }
            let m = self.schema.module(module);
            let operation = i == 0
                && m.rpcs
                    .iter()
                    .chain(&m.notifications)
                    .any(|&n| self.schema.node(n).name == step.name);
            if operation && i + 1 == path.steps().len() {
                return Ok(());
            }
            return Err(unknown());
        }
        Ok(())
    }

    fn children<'d>(
        &self,
        node: &'d DataNode,
        name: &'static str,
    ) -> impl Iterator<Item = &'d DataNode> + use<'d, '_> {
        node.children
            .iter()
            .filter(move |c| self.schema.node(c.schema).name == name)
            .map(|c| &**c)
    }

    fn leaf<'d>(&self, node: &'d DataNode, name: &'static str) -> Option<&'d str> {
        self.children(node, name)
            .next()
            .and_then(|c| c.value.as_deref())
    }

    fn text<'d>(&self, node: &'d DataNode, name: &'static str) -> &'d str {
        self.leaf(node, name).unwrap_or("")
    }

    fn strings(&self, node: &DataNode, name: &'static str) -> Vec<String> {
        self.children(node, name)
            .filter_map(|c| c.value.clone())
            .collect()
    }

    /// A boolean leaf of `node` (at path `at`), `default` when absent.
    fn boolean(
        &self,
        node: &DataNode,
        name: &'static str,
        default: bool,
        at: &str,
    ) -> Result<bool, NacmError> {
        match self.leaf(node, name) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(invalid(at, name, other)),
        }
    }

    /// An `action-type` leaf of `node` (at path `at`), `default` when absent.
    fn action(
        &self,
        node: &DataNode,
        name: &'static str,
        default: Action,
        at: &str,
    ) -> Result<Action, NacmError> {
        match self.leaf(node, name) {
            None => Ok(default),
            Some("permit") => Ok(Action::Permit),
            Some("deny") => Ok(Action::Deny),
            Some(other) => Err(invalid(at, name, other)),
        }
    }
}

/// The path of `/nacm`, for messages.
const TOP: &str = "/ietf-netconf-acm:nacm";

fn invalid(at: &str, leaf: &str, value: &str) -> NacmError {
    NacmError::InvalidValue {
        path: format!("{at}/{leaf}"),
        value: value.to_string(),
    }
}
