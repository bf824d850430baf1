//! The compiled schema: every module resolved into one tree of schema nodes.
//!
//! Groupings are expanded, typedef chains flattened into [`Type`]s, augments and deviations applied,
//! features evaluated. Nodes live in an arena and are addressed by [`NodeId`].

mod compile;
mod loader;
pub mod types;

use std::collections::HashMap;
use std::fmt;

pub use compile::SchemaBuilder;
pub use loader::{embedded_modules, ModuleSource};
pub use types::{Type, TypeKind};

use crate::xpath;

/// Index of a schema node in [`Schema::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

/// Index of a module in [`Schema::modules`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleId(pub u32);

/// Index of an identity in [`Schema::identities`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdentityId(pub u32);

/// Index of a prefix table (one per source file) used to resolve prefixes in XPath expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrefixTableId(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Container,
    List,
    Leaf,
    LeafList,
    Choice,
    Case,
    Anydata,
    Anyxml,
    Rpc,
    Action,
    Input,
    Output,
    Notification,
}

impl NodeKind {
    /// Nodes that appear in instance data (choice and case do not; rpc/action/notification are
    /// operations, not data).
    pub fn is_data(self) -> bool {
        matches!(
            self,
            NodeKind::Container
                | NodeKind::List
                | NodeKind::Leaf
                | NodeKind::LeafList
                | NodeKind::Anydata
                | NodeKind::Anyxml
        )
    }

    pub fn keyword(self) -> &'static str {
        match self {
            NodeKind::Container => "container",
            NodeKind::List => "list",
            NodeKind::Leaf => "leaf",
            NodeKind::LeafList => "leaf-list",
            NodeKind::Choice => "choice",
            NodeKind::Case => "case",
            NodeKind::Anydata => "anydata",
            NodeKind::Anyxml => "anyxml",
            NodeKind::Rpc => "rpc",
            NodeKind::Action => "action",
            NodeKind::Input => "input",
            NodeKind::Output => "output",
            NodeKind::Notification => "notification",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Current,
    Deprecated,
    Obsolete,
}

/// An XPath constraint (`must` or `when`) with the context needed to evaluate it.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub text: String,
    pub expr: xpath::Expr,
    pub prefixes: PrefixTableId,
    pub error_message: Option<String>,
    pub error_app_tag: Option<String>,
    /// For `when` inherited from `uses`/`augment`: evaluated with the parent as context node.
    pub on_parent: bool,
}

#[derive(Debug, Clone)]
pub struct SchemaNode {
    pub kind: NodeKind,
    pub name: String,
    pub module: ModuleId,
    pub parent: Option<NodeId>,
    /// Schema children in schema order, including choice/case nodes.
    pub children: Vec<NodeId>,
    pub config: bool,
    pub mandatory: bool,
    pub presence: bool,
    /// List keys (leaf children), in key order.
    pub keys: Vec<NodeId>,
    pub min_elements: u32,
    pub max_elements: Option<u32>,
    pub ordered_by_user: bool,
    /// Each `unique` statement: descendant leaves (paths resolved to nodes).
    pub unique: Vec<Vec<NodeId>>,
    pub ty: Option<Type>,
    /// Leaf default (one), leaf-list defaults, or the default case name of a choice.
    pub defaults: Vec<String>,
    /// The file (and prefix table) where [`SchemaNode::defaults`] are written: the defining
    /// statement's file, or that of the refine or deviation that set them. Prefixes in the
    /// defaults resolve there, and an unprefixed identity belongs to that file's module.
    pub defaults_file: u32,
    pub musts: Vec<Constraint>,
    pub whens: Vec<Constraint>,
    /// if-feature expressions as written, for the tree printer.
    pub if_features: Vec<String>,
    pub status: Status,
    pub units: Option<String>,
    pub description: Option<String>,
    /// An implicit case made for a shorthand choice member (RFC 7950 §7.9.2).
    pub shorthand: bool,
    /// The `key` argument as written, for the tree printer.
    pub key_arg: Option<String>,
    /// The file whose top-level statement (data definition or augment) instantiated this node.
    pub origin: u32,
    /// Source position of the defining statement.
    pub file: u32,
    pub line: u32,
    /// Removed from the tree (by `deviate not-supported` or a refined `if-feature` that does
    /// not hold), with all its descendants. The node stays in [`Schema::nodes`] so that ids do
    /// not move, but it is no longer reachable from its parent or module and takes no part in
    /// anything that follows.
    pub detached: bool,
    /// Extension statements written on the node (`prefix:name arg;`), resolved to the module
    /// that defines the extension.
    pub extensions: Vec<ExtensionUse>,
    /// `nacm:default-deny-write` / `nacm:default-deny-all` written on this node (RFC 8341 §3.5).
    pub(crate) default_deny: Option<DefaultDeny>,
}

impl SchemaNode {
    /// The NACM mark written on this node itself (`nacm:default-deny-all` wins over
    /// `nacm:default-deny-write` when both are given). The mark covers the node's descendants
    /// too: [`Schema::effective_default_deny`] takes them into account.
    pub fn nacm_default_deny(&self) -> Option<DefaultDeny> {
        self.default_deny
    }
}

/// The NACM extensions of RFC 8341 §3.5.1 on a schema node: access that only the recovery
/// session has unless an explicit rule grants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DefaultDeny {
    /// `nacm:default-deny-write`: writes need an explicit permit rule.
    Write,
    /// `nacm:default-deny-all`: reads, writes and executions need an explicit permit rule.
    All,
}

/// The module that defines NACM's extensions.
pub const NACM_MODULE: &str = "ietf-netconf-acm";

/// One use of an extension on a schema node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionUse {
    /// The module that defines the extension.
    pub module: ModuleId,
    pub name: String,
    pub arg: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Identity {
    pub name: String,
    pub module: ModuleId,
    pub bases: Vec<IdentityId>,
    /// Every identity derived from this one, directly or not.
    pub derived: Vec<IdentityId>,
}

/// A top-level augment, kept for the tree printer.
#[derive(Debug, Clone)]
pub struct Augment {
    pub target_path: String,
    pub target: NodeId,
    pub nodes: Vec<NodeId>,
    pub if_features: Vec<String>,
    /// Where the augment is written.
    pub file: u32,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub struct Module {
    pub name: String,
    pub revision: Option<String>,
    pub namespace: String,
    /// The prefix that names the module in paths and values this schema writes (error paths,
    /// canonical identityref and instance-identifier values): the module's own prefix, unless
    /// a module loaded before it declares the same one (ne-system and ietf-system both say
    /// `sys`); then the module's name, which no other module has.
    pub prefix: String,
    /// The prefix as the module declares it.
    pub declared_prefix: String,
    pub yang_version: String,
    /// Given explicitly or made so by being an augment/deviation target.
    pub implemented: bool,
    pub is_submodule_parent: bool,
    pub submodules: Vec<String>,
    pub features: Vec<String>,
    pub enabled_features: Vec<String>,
    /// Top-level data nodes (including choices), rpcs and notifications, in source order.
    pub data: Vec<NodeId>,
    pub rpcs: Vec<NodeId>,
    pub notifications: Vec<NodeId>,
    pub augments: Vec<Augment>,
    pub deviated_by: Vec<ModuleId>,
    /// Index of the main file in [`Schema::sources`].
    pub file: u32,
}

/// The source text of every loaded file, for `get-schema` and error messages.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub path: String,
    pub text: String,
    pub module: String,
    pub revision: Option<String>,
    pub is_submodule: bool,
}

#[derive(Debug, Clone, Default)]
pub struct PrefixTable {
    pub map: HashMap<String, ModuleId>,
}

#[derive(Debug, Clone)]
pub struct Schema {
    pub modules: Vec<Module>,
    pub nodes: Vec<SchemaNode>,
    pub identities: Vec<Identity>,
    pub sources: Vec<SourceFile>,
    pub prefix_tables: Vec<PrefixTable>,
    pub(crate) module_by_ns: HashMap<String, ModuleId>,
    pub(crate) module_by_name: HashMap<String, ModuleId>,
    pub(crate) identity_index: HashMap<(ModuleId, String), IdentityId>,
    /// Data children of each node (through choice/case), filled after compilation.
    pub(crate) data_child_cache: Vec<Vec<NodeId>>,
    pub(crate) top_cache: Vec<NodeId>,
    /// Position of each data node among its data parent's data children (schema order).
    pub(crate) order: Vec<u32>,
    /// Canonical default values of leaves and leaf-lists.
    pub(crate) default_cache: Vec<Vec<String>>,
}

/// A compile error: the file, line and statement it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub file: String,
    pub line: u32,
    /// `keyword argument` of the statement at fault.
    pub statement: String,
    pub message: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.statement.is_empty() {
            write!(f, "{}:{}: error: {}", self.file, self.line, self.message)
        } else {
            write!(
                f,
                "{}:{}: error: {}: {}",
                self.file, self.line, self.statement, self.message
            )
        }
    }
}

impl std::error::Error for CompileError {}

/// All errors of one compilation.
#[derive(Debug, Clone)]
pub struct CompileErrors(pub Vec<CompileError>);

impl fmt::Display for CompileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CompileErrors {}

impl Schema {
    pub fn node(&self, id: NodeId) -> &SchemaNode {
        &self.nodes[id.0 as usize]
    }

    pub fn module(&self, id: ModuleId) -> &Module {
        &self.modules[id.0 as usize]
    }

    pub fn identity(&self, id: IdentityId) -> &Identity {
        &self.identities[id.0 as usize]
    }

    pub fn module_by_name(&self, name: &str) -> Option<ModuleId> {
        self.module_by_name.get(name).copied()
    }

    pub fn module_by_namespace(&self, ns: &str) -> Option<ModuleId> {
        self.module_by_ns.get(ns).copied()
    }

    pub fn namespace_of(&self, id: NodeId) -> &str {
        &self.module(self.node(id).module).namespace
    }

    /// Top-level data nodes of all implemented modules, seen through choices.
    pub fn top_data_nodes(&self) -> Vec<NodeId> {
        if !self.order.is_empty() {
            return self.top_cache.clone();
        }
        let mut out = Vec::new();
        for m in self.modules.iter().filter(|m| m.implemented) {
            for &n in &m.data {
                self.flatten_data(n, &mut out);
            }
        }
        out
    }

    /// Data children of a node, seen through choice and case nodes.
    pub fn data_children(&self, id: NodeId) -> Vec<NodeId> {
        if let Some(c) = self.data_child_cache.get(id.0 as usize) {
            return c.clone();
        }
        let mut out = Vec::new();
        for &c in &self.node(id).children {
            self.flatten_data(c, &mut out);
        }
        out
    }

    /// Data children without allocating (after compilation).
    pub fn data_children_ref(&self, parent: Option<NodeId>) -> &[NodeId] {
        match parent {
            Some(p) => &self.data_child_cache[p.0 as usize],
            None => &self.top_cache,
        }
    }

    /// Position of a data node among its data parent's data children.
    pub fn order(&self, id: NodeId) -> u32 {
        self.order[id.0 as usize]
    }

    /// Fill the lookup caches; called once compilation is complete.
    pub(crate) fn index(&mut self) {
        let mut cache = Vec::with_capacity(self.nodes.len());
        for i in 0..self.nodes.len() {
            let mut out = Vec::new();
            if self.nodes[i].detached {
                // Removed from the tree: nothing below it is data any more.
                cache.push(out);
                continue;
            }
            for &c in &self.nodes[i].children {
                self.flatten_data(c, &mut out);
            }
            cache.push(out);
        }
        let mut top = Vec::new();
        for m in self.modules.iter().filter(|m| m.implemented) {
            for &n in &m.data {
                self.flatten_data(n, &mut top);
            }
        }
        // Positions among a data parent's children (choice and case nodes have flattened lists
        // of their own, which must not overwrite those positions).
        let mut order = vec![0u32; self.nodes.len()];
        let parents = cache
            .iter()
            .enumerate()
            .filter(|(i, _)| !matches!(self.nodes[*i].kind, NodeKind::Choice | NodeKind::Case))
            .map(|(_, l)| l);
        for list in parents.chain(std::iter::once(&top)) {
            for (i, n) in list.iter().enumerate() {
                order[n.0 as usize] = i as u32;
            }
        }
        self.data_child_cache = cache;
        self.top_cache = top;
        self.order = order;
        let defaults = (0..self.nodes.len())
            .map(|i| self.compute_defaults(NodeId(i as u32)))
            .collect();
        self.default_cache = defaults;
    }

    fn compute_defaults(&self, id: NodeId) -> Vec<String> {
        let n = self.node(id);
        if n.detached {
            return Vec::new();
        }
        let Some((ty, raw, table)) = self.raw_defaults(n) else {
            return Vec::new();
        };
        let resolver = |p: &str| self.resolve_prefix(table, p);
        let module = self.file_module(table.0);
        raw.iter()
            .filter_map(|v| ty.canonical(self, v, &resolver, module).ok())
            .collect()
    }

    /// A leaf's or leaf-list's defaults as written, with its type and the prefix table of the
    /// file they are written in: the node's own defaults, else its type's (a leaf-list takes
    /// its type's default too, RFC 7950 §7.7.2).
    pub(crate) fn raw_defaults<'n>(
        &self,
        n: &'n SchemaNode,
    ) -> Option<(&'n Type, Vec<&'n str>, PrefixTableId)> {
        if !matches!(n.kind, NodeKind::Leaf | NodeKind::LeafList) {
            return None;
        }
        let ty = n.ty.as_ref()?;
        if n.defaults.is_empty() {
            let table = ty.default_prefixes.unwrap_or(PrefixTableId(n.file));
            Some((ty, ty.default.iter().map(String::as_str).collect(), table))
        } else {
            let raw = n.defaults.iter().map(String::as_str).collect();
            Some((ty, raw, PrefixTableId(n.defaults_file)))
        }
    }

    /// The module a source file belongs to (for a submodule, the module it is part of).
    pub fn file_module(&self, file: u32) -> Option<ModuleId> {
        let source = self.sources.get(file as usize)?;
        self.module_by_name(&source.module)
    }

    /// The canonical default of a leaf, if it has one.
    pub fn default_of(&self, id: NodeId) -> Option<&str> {
        if self.node(id).kind != NodeKind::Leaf {
            return None;
        }
        self.default_cache
            .get(id.0 as usize)
            .and_then(|d| d.first())
            .map(String::as_str)
    }

    /// The canonical defaults of a leaf-list.
    pub fn leaf_list_defaults(&self, id: NodeId) -> Vec<String> {
        self.default_cache
            .get(id.0 as usize)
            .cloned()
            .unwrap_or_default()
    }

    fn flatten_data(&self, id: NodeId, out: &mut Vec<NodeId>) {
        match self.node(id).kind {
            NodeKind::Choice | NodeKind::Case => {
                for &c in &self.node(id).children {
                    self.flatten_data(c, out);
                }
            }
            _ => out.push(id),
        }
    }

    /// Find a data child (through choices) by namespace and name; `parent` None = top level.
    pub fn find_child(&self, parent: Option<NodeId>, ns: &str, name: &str) -> Option<NodeId> {
        if self.order.is_empty() {
            let list = match parent {
                Some(p) => self.data_children(p),
                None => self.top_data_nodes(),
            };
            return list.into_iter().find(|&c| {
                let n = self.node(c);
                n.name == name && self.module(n.module).namespace == ns
            });
        }
        self.data_children_ref(parent).iter().copied().find(|&c| {
            let n = self.node(c);
            n.name == name && self.module(n.module).namespace == ns
        })
    }

    /// Find an rpc by namespace and name.
    pub fn find_rpc(&self, ns: &str, name: &str) -> Option<NodeId> {
        let m = self.module_by_namespace(ns)?;
        self.module(m)
            .rpcs
            .iter()
            .copied()
            .find(|&r| self.node(r).name == name)
    }

    /// The nearest ancestor that is a data node (skipping choice/case), if any.
    pub fn data_parent(&self, id: NodeId) -> Option<NodeId> {
        let mut p = self.node(id).parent;
        while let Some(pid) = p {
            match self.node(pid).kind {
                NodeKind::Choice | NodeKind::Case => p = self.node(pid).parent,
                _ => return Some(pid),
            }
        }
        None
    }

    /// Schema path `/prefix:a/prefix:b` (data nodes only) for messages.
    pub fn path(&self, id: NodeId) -> String {
        let mut parts = Vec::new();
        let mut cur = Some(id);
        while let Some(c) = cur {
            let n = self.node(c);
            if !matches!(n.kind, NodeKind::Choice | NodeKind::Case) {
                parts.push(format!("{}:{}", self.module(n.module).prefix, n.name));
            }
            cur = n.parent;
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }

    /// Is `ancestor` an ancestor of (or equal to) `id`?
    pub fn is_ancestor(&self, ancestor: NodeId, id: NodeId) -> bool {
        let mut cur = Some(id);
        while let Some(c) = cur {
            if c == ancestor {
                return true;
            }
            cur = self.node(c).parent;
        }
        false
    }

    /// The NACM mark that applies to a node: its own, or the strongest one of its ancestors
    /// (RFC 8341 §3.4.5: a marked node's descendants are covered by the mark).
    pub fn effective_default_deny(&self, id: NodeId) -> Option<DefaultDeny> {
        let mut mark = None;
        let mut cur = Some(id);
        while let Some(c) = cur {
            let n = self.node(c);
            mark = mark.max(n.default_deny);
            cur = n.parent;
        }
        mark
    }

    /// Is identity `id` equal to or derived from `base`?
    pub fn identity_derived(&self, id: IdentityId, base: IdentityId, or_self: bool) -> bool {
        (or_self && id == base) || self.identity(base).derived.contains(&id)
    }

    pub fn find_identity(&self, module: ModuleId, name: &str) -> Option<IdentityId> {
        self.identity_index
            .get(&(module, name.to_string()))
            .copied()
    }

    /// The module named by `prefix` in a prefix table.
    pub fn resolve_prefix(&self, table: PrefixTableId, prefix: &str) -> Option<ModuleId> {
        self.prefix_tables[table.0 as usize]
            .map
            .get(prefix)
            .copied()
    }

    /// Prefix -> namespace map for XPath evaluation.
    pub fn xpath_prefixes(&self, table: PrefixTableId) -> HashMap<String, String> {
        self.prefix_tables[table.0 as usize]
            .map
            .iter()
            .map(|(p, m)| (p.clone(), self.module(*m).namespace.clone()))
            .collect()
    }
}
