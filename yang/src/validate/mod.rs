//! Whole-tree validation (RFC 7950 §8): mandatory nodes, choices, min/max-elements, unique,
//! leafref and instance-identifier require-instance, and `must`/`when` through XPath.
//!
//! Types were already checked when the tree was built (decode or edit); this pass checks what
//! needs the whole tree. Every error carries an RFC 7950 §15 / RFC 6241 error-tag and app-tag.

mod doc;

use std::collections::{HashMap, HashSet};
use std::ops::Range;

pub use doc::FlatDoc;

use crate::data::{DataError, DataTree, ErrorTag};
use crate::schema::{Constraint, NodeId, NodeKind, PrefixTableId, Schema, TypeKind};
use crate::xpath;

#[derive(Debug, Clone, Copy)]
pub struct ValidateOptions {
    /// Validate configuration only: `config false` nodes are not required (nor checked).
    pub config_only: bool,
    /// Stop after this many errors.
    pub max_errors: usize,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        ValidateOptions {
            config_only: true,
            max_errors: 50,
        }
    }
}

/// Validate a tree; `Err` holds every error found (up to `max_errors`), in document order.
pub fn validate(
    schema: &Schema,
    tree: &DataTree,
    opts: ValidateOptions,
) -> Result<(), Vec<DataError>> {
    let mut v = Validator::new(schema, tree, opts);
    v.doc.materialize_all();
    v.check_children(doc::ROOT, None);
    for i in 1..v.doc.len() as u32 {
        if v.errors.len() >= opts.max_errors {
            break;
        }
        v.check_node(i);
    }
    if v.errors.is_empty() {
        Ok(())
    } else {
        v.errors.truncate(opts.max_errors);
        Err(v.errors)
    }
}

/// Validate `tree` after `changes` turned a valid tree into it: only the changed nodes, their
/// parents' child rules (mandatory, choice, counts, unique), their ancestors' constraints, and the
/// constraints elsewhere whose expressions name a changed node are checked. The cost follows the
/// change, not the size of the tree.
pub fn validate_changes(
    schema: &Schema,
    tree: &DataTree,
    changes: &[crate::diff::Change],
    opts: ValidateOptions,
) -> Result<(), Vec<DataError>> {
    use crate::diff::ChangeOp;
    use crate::instance_id::split_steps;
    use std::collections::BTreeSet;

    let mut v = Validator::new(schema, tree, opts);
    // A large change is cheaper to check as a whole tree.
    if changes.len() > LARGE_CHANGE {
        return validate(schema, tree, opts);
    }
    let mut nodes = BTreeSet::new();
    let mut parents = BTreeSet::new();
    let mut ancestors = BTreeSet::new();
    let mut changed_names: HashSet<&str> = HashSet::new();
    let mut changed_qnames: HashSet<(crate::schema::ModuleId, &str)> = HashSet::new();
    for c in changes {
        let steps = split_steps(&c.path);
        for (k, s) in steps.iter().enumerate() {
            let name = s.trim_start_matches('/').split('[').next().unwrap_or(s);
            let (prefix, local) = name.split_once(':').unwrap_or(("", name));
            if k + 1 == steps.len() {
                // Only the node itself: a leaf changed inside a list entry does not touch the
                // list's entry set.
                changed_names.insert(local);
            }
            // A value modified in place changes no instance set of its ancestors: only
            // expressions that name the node itself can read a different value (a description
            // edited at 10,000 interfaces re-checked every leafref to an interface before).
            let instance_set_changes = c.op != ChangeOp::Modify || k + 1 == steps.len();
            if instance_set_changes {
                if let Some(m) = crate::data::module_for_prefix(schema, prefix) {
                    changed_qnames.insert((m, local));
                }
            }
        }
        let parent_path: String = steps[..steps.len().saturating_sub(1)].concat();
        let parent = if parent_path.is_empty() {
            Some(doc::ROOT)
        } else {
            v.doc.locate(&parent_path)
        };
        if let Some(p) = parent {
            parents.insert(p);
            let mut a = p;
            while a != doc::ROOT && ancestors.insert(a) {
                let up = v.doc.parent_of(a);
                // A leaf changed inside a list entry can break the list's unique rules, which
                // are checked with the list's parent.
                if v.doc
                    .schema_of(a)
                    .is_some_and(|id| schema.node(id).kind == NodeKind::List)
                {
                    parents.insert(up);
                }
                a = up;
            }
        }
        if c.op != ChangeOp::Delete {
            if let Some(i) = v.doc.locate(&c.path) {
                nodes.insert(i);
            }
        }
    }
    v.changed_names = Some(changed_names.iter().map(|n| n.to_string()).collect());
    v.touched = Some(nodes.iter().chain(&ancestors).copied().collect());
    // A parent that is itself a changed node is checked with its children by check_node below
    // (a created list entry is both): checking it here too reported its problems twice.
    for &p in parents.difference(&nodes) {
        let sid = v.doc.schema_of(p);
        if sid.is_none_or(|id| v.checked(id)) {
            v.check_children(p, sid);
        }
    }
    for &i in &nodes {
        v.check_node(i);
    }
    for &a in ancestors.difference(&nodes) {
        v.check_constraints(a);
    }
    // Constraints elsewhere that may read what changed.
    for (idx, n) in schema.nodes.iter().enumerate() {
        let id = NodeId(idx as u32);
        if n.detached
            || !n.kind.is_data()
            || !v.checked(id)
            || !depends_on(schema, n, &changed_qnames)
        {
            continue;
        }
        for i in v.doc.instances_of(id) {
            if !nodes.contains(&i) && !ancestors.contains(&i) {
                v.check_constraints(i);
            }
        }
    }
    if v.errors.is_empty() {
        Ok(())
    } else {
        Err(v.errors)
    }
}

/// The parent of an instance path in words: prefixes dropped, list keys as `[value]`, e.g.
/// `interfaces/interface[b-ic]/vrrp/group[1]/track/bfd-session[to-a]`.
fn readable_parent(path: &str) -> String {
    let steps = crate::instance_id::split_steps(path);
    let mut out = Vec::with_capacity(steps.len());
    for s in &steps[..steps.len().saturating_sub(1)] {
        let s = s.trim_start_matches('/');
        let (name, preds) = s.split_once('[').map_or((s, ""), |(n, p)| (n, p));
        let local = name.rsplit(':').next().unwrap_or(name);
        let keys: Vec<&str> = preds
            .split('[')
            .filter_map(|p| p.split_once('=').map(|(_, v)| v))
            .map(|v| {
                v.trim_end_matches(']')
                    .trim_matches(|c| c == '\'' || c == '"')
            })
            .collect();
        if keys.is_empty() {
            out.push(local.to_string());
        } else {
            out.push(format!("{local}[{}]", keys.join(",")));
        }
    }
    out.join("/")
}

/// Above this many changes, validate_changes checks the whole tree instead.
const LARGE_CHANGE: usize = 512;

/// Could this node's must/when/leafref read a node named in `changed` ((module, local name))?
/// Conservative: every name in the expression text counts (prefixes resolved through the
/// expression's own imports, unprefixed names in the node's module), and a wildcard makes it
/// depend on everything.
fn depends_on(
    schema: &Schema,
    n: &crate::schema::SchemaNode,
    changed: &HashSet<(crate::schema::ModuleId, &str)>,
) -> bool {
    let mut texts: Vec<(&str, PrefixTableId)> = n
        .musts
        .iter()
        .chain(&n.whens)
        .map(|c| (c.text.as_str(), c.prefixes))
        .collect();
    if let Some((path, table)) = n.ty.as_ref().and_then(leafref_path_and_table) {
        texts.push((path, table));
    }
    texts.iter().any(|&(t, table)| {
        t.contains('*')
            || t.split(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')))
                .filter(|tok| !tok.is_empty())
                .any(|tok| {
                    let (module, name) = match tok.split_once(':') {
                        Some((p, name)) => match schema.resolve_prefix(table, p) {
                            Some(m) => (m, name),
                            None => return true,
                        },
                        None => (n.module, tok),
                    };
                    changed.contains(&(module, name))
                })
    })
}

fn leafref_path_and_table(ty: &crate::schema::Type) -> Option<(&str, PrefixTableId)> {
    match &ty.kind {
        TypeKind::Leafref { path, prefixes, .. } => Some((path, *prefixes)),
        TypeKind::Union(m) => m.iter().find_map(leafref_path_and_table),
        _ => None,
    }
}

struct Validator<'s, 't> {
    doc: FlatDoc<'s, 't>,
    schema: &'s Schema,
    opts: ValidateOptions,
    errors: Vec<DataError>,
    /// Values present at a leafref target (for paths without predicates), by target schema node.
    target_values: HashMap<NodeId, HashSet<&'t str>>,
    prefix_maps: HashMap<u32, HashMap<String, String>>,
    /// Local names of the nodes a change touched (incremental validation); None: check all.
    changed_names: Option<HashSet<String>>,
    /// Nodes the change created or modified, and their ancestors (incremental validation).
    touched: Option<HashSet<u32>>,
}

impl<'s, 't> Validator<'s, 't> {
    fn new(schema: &'s Schema, tree: &'t DataTree, opts: ValidateOptions) -> Self {
        Validator {
            doc: FlatDoc::new(schema, tree),
            schema,
            opts,
            errors: Vec::new(),
            target_values: HashMap::new(),
            prefix_maps: HashMap::new(),
            changed_names: None,
            touched: None,
        }
    }

    fn err(&mut self, e: DataError) {
        if self.errors.len() < self.opts.max_errors {
            self.errors.push(e);
        }
    }

    fn checked(&self, id: NodeId) -> bool {
        !self.opts.config_only || self.schema.node(id).config
    }

    /// Every check of one node: its constraints, and for an interior node its children's.
    fn check_node(&mut self, i: u32) {
        self.check_constraints(i);
        if let Some(id) = self.doc.schema_of(i) {
            if self.checked(id)
                && matches!(
                    self.schema.node(id).kind,
                    NodeKind::Container | NodeKind::List
                )
            {
                self.check_children(i, Some(id));
            }
        }
    }

    /// when, must, leafref and instance-identifier checks of one node.
    fn check_constraints(&mut self, i: u32) {
        let Some(d) = self.doc.data(i) else { return };
        let id = d.schema;
        if !self.checked(id) {
            return;
        }
        let sn = self.schema.node(id);
        // when: the node's own, then those of the choices/cases between it and its parent.
        let mut whens: Vec<(&Constraint, bool)> =
            sn.whens.iter().map(|w| (w, w.on_parent)).collect();
        let mut p = sn.parent;
        while let Some(pid) = p {
            let pn = self.schema.node(pid);
            if !matches!(pn.kind, NodeKind::Choice | NodeKind::Case) {
                break;
            }
            whens.extend(pn.whens.iter().map(|w| (w, true)));
            p = pn.parent;
        }
        for (w, on_parent) in whens {
            let ctx_node = if on_parent { self.doc.parent_of(i) } else { i };
            match self.eval(w, id, ctx_node, i) {
                Ok(true) => {}
                Ok(false) if d.default => {}
                Ok(false) => {
                    let e = DataError::new(
                        ErrorTag::InvalidValue,
                        format!(
                            "'{}' exists although its when condition '{}' is false",
                            sn.name, w.text
                        ),
                    )
                    .app_tag("when-violation")
                    .path(self.doc.path(i));
                    self.err(e);
                }
                Err(e) => self.xpath_failure(i, &w.text, e),
            }
        }
        for m in &sn.musts {
            match self.eval(m, id, i, i) {
                Ok(true) => {}
                Ok(false) => {
                    let msg = m
                        .error_message
                        .clone()
                        .unwrap_or_else(|| format!("must condition '{}' is not satisfied", m.text));
                    let e = DataError::new(ErrorTag::OperationFailed, msg)
                        .app_tag(m.error_app_tag.as_deref().unwrap_or("must-violation"))
                        .path(self.doc.path(i));
                    self.err(e);
                }
                Err(e) => self.xpath_failure(i, &m.text, e),
            }
        }
        if matches!(sn.kind, NodeKind::Leaf | NodeKind::LeafList) {
            self.check_reference(i, id);
        }
    }

    fn xpath_failure(&mut self, i: u32, text: &str, e: xpath::XPathError) {
        let err = DataError::new(
            ErrorTag::OperationFailed,
            format!("cannot evaluate '{text}': {e}"),
        )
        .path(self.doc.path(i));
        self.err(err);
    }

    fn prefixes(&mut self, table: PrefixTableId) -> HashMap<String, String> {
        self.prefix_maps
            .entry(table.0)
            .or_insert_with(|| self.schema.xpath_prefixes(table))
            .clone()
    }

    fn eval(
        &mut self,
        c: &Constraint,
        id: NodeId,
        ctx_node: u32,
        current: u32,
    ) -> Result<bool, xpath::XPathError> {
        let prefixes = self.prefixes(c.prefixes);
        let ns = self.schema.namespace_of(id).to_string();
        let ctx = xpath::Context::new(&prefixes, &ns);
        xpath::evaluate_bool(&self.doc, &c.expr, &ctx, ctx_node, current)
    }

    /// leafref / instance-identifier require-instance.
    fn check_reference(&mut self, i: u32, id: NodeId) {
        let Some(ty) = self.schema.node(id).ty.as_ref() else {
            return;
        };
        let Some(value) = self.doc.data(i).and_then(|d| d.value.as_deref()) else {
            return;
        };
        match &ty.kind {
            TypeKind::Leafref {
                require_instance: true,
                target: Some(target),
                path,
                prefixes,
            } => {
                let found = if is_plain_absolute(path) {
                    self.target_values_of(*target).contains(value)
                } else {
                    self.leafref_by_xpath(i, id, *prefixes, value)
                };
                if !found {
                    // The message names the referring place in words (a deleted BFD session
                    // that a VRRP group still tracks: which interface, which group), not only
                    // in error-path.
                    let at = self.doc.path(i);
                    let e = DataError::new(
                        ErrorTag::DataMissing,
                        format!(
                            "'{}' of {} refers to '{value}', which does not exist (leafref {path}): \
                             create '{value}' or remove this reference",
                            self.schema.node(id).name,
                            readable_parent(&at)
                        ),
                    )
                    .app_tag("instance-required")
                    .path(at);
                    self.err(e);
                }
            }
            TypeKind::InstanceIdentifier {
                require_instance: true,
            } => {
                let exists = xpath::parse(value).ok().is_some_and(|expr| {
                    let prefixes = self.doc.all_prefixes().clone();
                    let ctx = xpath::Context::new(&prefixes, "");
                    matches!(
                        xpath::evaluate(&self.doc, &expr, &ctx, doc::ROOT, doc::ROOT),
                        Ok(xpath::Value::NodeSet(s)) if !s.is_empty()
                    )
                });
                if !exists {
                    let e = DataError::new(
                        ErrorTag::DataMissing,
                        format!("instance '{value}' does not exist"),
                    )
                    .app_tag("instance-required")
                    .path(self.doc.path(i));
                    self.err(e);
                }
            }
            _ => {}
        }
    }

    fn leafref_by_xpath(&mut self, i: u32, id: NodeId, table: PrefixTableId, value: &str) -> bool {
        let Some(expr) = self.doc.leafref_expr(id) else {
            return false;
        };
        let prefixes = self.prefixes(table);
        let ns = self.schema.namespace_of(id).to_string();
        let ctx = xpath::Context::new(&prefixes, &ns);
        match xpath::evaluate(&self.doc, &expr, &ctx, i, i) {
            Ok(xpath::Value::NodeSet(set)) => set
                .iter()
                .any(|&t| xpath::Document::value(&self.doc, t).as_deref() == Some(value)),
            _ => false,
        }
    }

    /// Every value present at `target` anywhere in the tree (absolute paths without predicates).
    fn target_values_of(&mut self, target: NodeId) -> &HashSet<&'t str> {
        if !self.target_values.contains_key(&target) {
            let mut set = HashSet::new();
            for i in self.doc.instances_of(target) {
                if let Some(v) = self.doc.data(i).and_then(|d| d.value.as_deref()) {
                    set.insert(v);
                }
            }
            self.target_values.insert(target, set);
        }
        &self.target_values[&target]
    }

    /// Checks on the children of one parent: mandatory nodes, choices, counts, unique.
    fn check_children(&mut self, parent: u32, parent_schema: Option<NodeId>) {
        let members: Vec<NodeId> = match parent_schema {
            Some(p) => self.schema.node(p).children.clone(),
            None => self
                .schema
                .modules
                .iter()
                .filter(|m| m.implemented)
                .flat_map(|m| m.data.iter().copied())
                .collect(),
        };
        let children = self.doc.child_range(parent);
        self.check_members(parent, &members, children, true);
    }

    /// The instances of `id` among sorted siblings (binary search on schema order).
    /// Two binary searches, so a list's entry count costs O(log n), not a walk.
    fn instances(&self, children: Range<u32>, id: NodeId) -> Range<u32> {
        let key = self.schema.order(id);
        let order = |c: u32| self.doc.schema_of(c).map_or(0, |s| self.schema.order(s));
        let start = partition_point(children.clone(), |c| order(c) < key);
        let end = partition_point(start..children.end, |c| order(c) <= key);
        start..end
    }

    /// `required`: false inside a case that is not active or a container that does not exist.
    fn check_members(
        &mut self,
        parent: u32,
        members: &[NodeId],
        children: Range<u32>,
        required: bool,
    ) {
        for &m in members {
            if !self.checked(m) {
                continue;
            }
            let sn = self.schema.node(m);
            // A node with a when condition is only required while the condition holds; to stay
            // conservative it is never reported missing.
            let conditional = !sn.whens.is_empty();
            match sn.kind {
                NodeKind::Choice => {
                    let active: Vec<NodeId> = sn
                        .children
                        .iter()
                        .copied()
                        .filter(|&case| self.case_has_data(case, children.clone()))
                        .collect();
                    if active.len() > 1 {
                        let names: Vec<&str> = active
                            .iter()
                            .map(|&c| self.schema.node(c).name.as_str())
                            .collect();
                        let e = DataError::new(
                            ErrorTag::InvalidValue,
                            format!(
                                "choice '{}' has data from more than one case ({})",
                                sn.name,
                                names.join(", ")
                            ),
                        )
                        .path(self.doc.path(parent));
                        self.err(e);
                    }
                    match active.first() {
                        Some(&case) => {
                            let case_children = self.schema.node(case).children.clone();
                            self.check_members(parent, &case_children, children.clone(), required);
                        }
                        None if sn.mandatory && required && !conditional => {
                            let e = DataError::new(
                                ErrorTag::DataMissing,
                                format!("mandatory choice '{}' has no case set", sn.name),
                            )
                            .app_tag("missing-choice")
                            .info("missing-choice", &sn.name)
                            .path(self.doc.path(parent));
                            self.err(e);
                        }
                        None => {}
                    }
                }
                NodeKind::Case => {}
                NodeKind::Leaf | NodeKind::Anydata | NodeKind::Anyxml
                    if sn.mandatory
                        && required
                        && !conditional
                        && self.instances(children.clone(), m).is_empty() =>
                {
                    let e = DataError::new(
                        ErrorTag::DataMissing,
                        format!("mandatory node '{}' is missing", sn.name),
                    )
                    .bad_element(&sn.name)
                    .path(self.doc.path(parent));
                    self.err(e);
                }
                NodeKind::Container => {
                    let inst = self.instances(children.clone(), m);
                    if inst.is_empty() && !sn.presence && required && !conditional {
                        // A non-presence container exists implicitly: its mandatory nodes count.
                        let inner = sn.children.clone();
                        self.check_members(parent, &inner, 0..0, required);
                    }
                }
                NodeKind::List | NodeKind::LeafList => {
                    let inst = self.instances(children.clone(), m);
                    let n = inst.len() as u32;
                    if required && !conditional && n < sn.min_elements {
                        let e = DataError::new(
                            ErrorTag::OperationFailed,
                            format!(
                                "'{}' has {n} entries, fewer than min-elements {}",
                                sn.name, sn.min_elements
                            ),
                        )
                        .app_tag("too-few-elements")
                        .path(self.doc.path(parent));
                        self.err(e);
                    }
                    if let Some(max) = sn.max_elements {
                        if n > max {
                            let e = DataError::new(
                                ErrorTag::OperationFailed,
                                format!(
                                    "'{}' has {n} entries, more than max-elements {max}",
                                    sn.name
                                ),
                            )
                            .app_tag("too-many-elements")
                            .path(self.doc.path(inst.start + max));
                            self.err(e);
                        }
                    }
                    if sn.kind == NodeKind::List && !sn.unique.is_empty() && self.unique_affected(m)
                    {
                        self.check_unique(m, inst);
                    }
                }
                _ => {}
            }
        }
    }

    fn case_has_data(&self, case: NodeId, children: Range<u32>) -> bool {
        self.schema
            .node(case)
            .children
            .iter()
            .any(|&c| match self.schema.node(c).kind {
                NodeKind::Choice | NodeKind::Case => {
                    self.schema
                        .node(c)
                        .children
                        .iter()
                        .any(|&cc| self.case_has_data(cc, children.clone()))
                        || self.case_has_data(c, children.clone())
                }
                _ => self
                    .instances(children.clone(), c)
                    .any(|ch| self.doc.data(ch).is_some_and(|d| d.has_explicit())),
            })
    }

    /// Could the change have broken a unique rule of this list (entries or unique leaves touched)?
    fn unique_affected(&self, list: NodeId) -> bool {
        let Some(names) = &self.changed_names else {
            return true;
        };
        let sn = self.schema.node(list);
        names.contains(&sn.name)
            || sn
                .unique
                .iter()
                .flatten()
                .any(|&l| names.contains(&self.schema.node(l).name))
    }

    fn check_unique(&mut self, list: NodeId, entries: Range<u32>) {
        let specs = self.schema.node(list).unique.clone();
        for spec in specs {
            let mut clashes: Vec<(u32, u32)> = Vec::new();
            match &self.touched {
                // After a change only the touched entries can clash: compare them with the rest.
                Some(touched) => {
                    let mut targets: Vec<(u32, Vec<&str>)> = touched
                        .iter()
                        .filter(|e| entries.contains(e))
                        .filter_map(|&e| Some((e, self.unique_values(e, &spec)?)))
                        .collect();
                    if targets.is_empty() {
                        continue;
                    }
                    targets.sort_by_key(|t| t.0);
                    for e in entries.clone() {
                        let Some(values) = self.unique_values(e, &spec) else {
                            continue;
                        };
                        for (t, tv) in &targets {
                            if *t != e && *tv == values && !clashes.contains(&(e, *t)) {
                                clashes.push((*t, e));
                            }
                        }
                    }
                }
                None => {
                    let mut seen: HashMap<Vec<&str>, u32> = HashMap::new();
                    for e in entries.clone() {
                        let Some(values) = self.unique_values(e, &spec) else {
                            continue;
                        };
                        match seen.get(&values) {
                            Some(&first) => clashes.push((first, e)),
                            None => {
                                seen.insert(values, e);
                            }
                        }
                    }
                }
            }
            let names: Vec<String> = spec
                .iter()
                .map(|&l| self.schema.node(l).name.clone())
                .collect();
            for (first, e) in clashes {
                let mut err = DataError::new(
                    ErrorTag::OperationFailed,
                    format!(
                        "entries {} and {} share the values of unique '{}'",
                        self.doc.path(first),
                        self.doc.path(e),
                        names.join(" ")
                    ),
                )
                .app_tag("data-not-unique")
                .path(self.doc.path(e));
                for p in [first, e] {
                    err = err.info("non-unique", self.doc.path(p));
                }
                self.err(err);
            }
        }
    }

    /// Values of the unique leaves under an entry; None if any is missing (then it is exempt).
    fn unique_values(&self, entry: u32, spec: &[NodeId]) -> Option<Vec<&'t str>> {
        let mut out = Vec::new();
        for &leaf in spec {
            out.push(self.find_descendant_value(entry, leaf)?);
        }
        Some(out)
    }

    /// The value of a unique leaf below an entry, read straight from the tree (no
    /// materialization: a unique check reads every entry of the list).
    fn find_descendant_value(&self, from: u32, leaf: NodeId) -> Option<&'t str> {
        let mut node = self.doc.data(from)?;
        'down: loop {
            for c in &node.children {
                if c.schema == leaf {
                    return c.value.as_deref();
                }
                if self.schema.is_ancestor(c.schema, leaf) {
                    node = c;
                    continue 'down;
                }
            }
            return None;
        }
    }
}

/// An absolute path without predicates, whose targets can be collected once per validation.
fn is_plain_absolute(path: &str) -> bool {
    path.trim_start().starts_with('/') && !path.contains('[')
}

/// The first index in `range` for which `pred` is false (`pred` holds on a prefix of it).
fn partition_point(range: Range<u32>, pred: impl Fn(u32) -> bool) -> u32 {
    let (mut lo, mut hi) = (range.start, range.end);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}
