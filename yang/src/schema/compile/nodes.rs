use super::*;

impl<'a> Compiler<'a> {
    // ---- node instantiation -------------------------------------------------------------------

    pub(super) fn instantiate_modules(&mut self) {
        for i in 0..self.files.len() {
            if !self.files[i].source.is_submodule {
                let mut seen = HashSet::new();
                self.instantiate_file(i, &mut seen);
            }
        }
    }

    /// A file's top-level nodes, after those of the submodules it includes (pyang's order).
    pub(super) fn instantiate_file(&mut self, i: usize, seen: &mut HashSet<usize>) {
        if !seen.insert(i) {
            return;
        }
        let st = self.file_stmt(i);
        for inc in st.all("include") {
            if let Some(j) = self
                .files
                .iter()
                .position(|p| p.source.is_submodule && p.source.name == inc.arg())
            {
                self.instantiate_file(j, seen);
            }
        }
        let fid = i as u32;
        let module = self.file_module[i];
        let top = self.top_scope(fid);
        for s in &st.substmts {
            let mut out = Vec::new();
            let first = self.schema.nodes.len();
            self.data_def(s, &top, None, module, &mut out);
            self.set_origin(first, fid);
            let m = &mut self.schema.modules[module.0 as usize];
            match s.keyword.as_str() {
                "rpc" => m.rpcs.extend(out),
                "notification" => m.notifications.extend(out),
                _ => m.data.extend(out),
            }
        }
    }

    pub(super) fn new_node(
        &mut self,
        kind: NodeKind,
        st: &Stmt,
        file: u32,
        parent: Option<NodeId>,
        module: ModuleId,
    ) -> NodeId {
        let id = NodeId(self.schema.nodes.len() as u32);
        let name = match kind {
            NodeKind::Input | NodeKind::Output => kind.keyword().to_string(),
            _ => st.arg().to_string(),
        };
        self.schema.nodes.push(SchemaNode {
            kind,
            name,
            module,
            parent,
            children: Vec::new(),
            config: true,
            mandatory: false,
            presence: false,
            keys: Vec::new(),
            min_elements: 0,
            max_elements: None,
            ordered_by_user: false,
            unique: Vec::new(),
            ty: None,
            defaults: Vec::new(),
            defaults_file: file,
            musts: Vec::new(),
            whens: Vec::new(),
            if_features: st.all("if-feature").map(|f| f.arg().to_string()).collect(),
            status: Status::Current,
            units: None,
            description: st.find_arg("description").map(str::to_string),
            shorthand: false,
            origin: file,
            key_arg: st.find_arg("key").map(str::to_string),
            file,
            line: st.line,
            detached: false,
            extensions: Vec::new(),
            default_deny: None,
        });
        self.explicit_config.push(None);
        if let Some(p) = parent {
            self.schema.nodes[p.0 as usize].children.push(id);
        }
        id
    }

    /// Instantiate one data definition statement (or `uses`) under `parent`.
    pub(super) fn data_def(
        &mut self,
        st: &'a Stmt,
        scope: &Scope<'_, 'a>,
        parent: Option<NodeId>,
        module: ModuleId,
        out: &mut Vec<NodeId>,
    ) {
        if !self.if_features_hold(scope.file, st) {
            self.feature_removed(st, scope, parent, module);
            return;
        }
        self.data_def_enabled(st, scope, parent, module, out);
    }

    /// A data definition whose if-feature does not hold: instantiated and detached at once, so
    /// that a deviation naming it (or a node below it) finds its target and changes nothing.
    /// Its problems are not reported: with the feature off it is not part of the schema.
    fn feature_removed(
        &mut self,
        st: &'a Stmt,
        scope: &Scope<'_, 'a>,
        parent: Option<NodeId>,
        module: ModuleId,
    ) {
        let errors = self.errors.len();
        let mut created = Vec::new();
        self.data_def_enabled(st, scope, parent, module, &mut created);
        self.errors.truncate(errors);
        for c in created {
            self.remove_node(c);
            self.feature_removed.entry(parent).or_default().push(c);
        }
    }

    fn data_def_enabled(
        &mut self,
        st: &'a Stmt,
        scope: &Scope<'_, 'a>,
        parent: Option<NodeId>,
        module: ModuleId,
        out: &mut Vec<NodeId>,
    ) {
        let file = scope.file;
        let kind = match st.keyword.as_str() {
            "container" => NodeKind::Container,
            "list" => NodeKind::List,
            "leaf" => NodeKind::Leaf,
            "leaf-list" => NodeKind::LeafList,
            "choice" => NodeKind::Choice,
            "case" => NodeKind::Case,
            "anydata" => NodeKind::Anydata,
            "anyxml" => NodeKind::Anyxml,
            "rpc" => NodeKind::Rpc,
            "action" => NodeKind::Action,
            "input" => NodeKind::Input,
            "output" => NodeKind::Output,
            "notification" => NodeKind::Notification,
            "uses" => {
                self.uses(st, scope, parent, module, out);
                return;
            }
            _ => return,
        };
        // A data node directly under a choice gets an implicit case (shorthand, RFC 7950 §7.9.2).
        let parent_is_choice =
            parent.is_some_and(|p| self.schema.nodes[p.0 as usize].kind == NodeKind::Choice);
        if parent_is_choice && kind != NodeKind::Case {
            let case = self.new_node(NodeKind::Case, st, file, parent, module);
            let cn = &mut self.schema.nodes[case.0 as usize];
            cn.if_features.clear();
            cn.shorthand = true;
            cn.key_arg = None;
            cn.status = status_of(st);
            out.push(case);
            let mut inner = Vec::new();
            self.data_def(st, scope, Some(case), module, &mut inner);
            return;
        }
        let id = self.new_node(kind, st, file, parent, module);
        out.push(id);
        let inner = Scope {
            file,
            stmt: st,
            parent: Some(scope),
        };
        for s in &st.substmts {
            self.node_property(id, s, &inner);
        }
        // The input/output of rpcs and actions exist even when not written; like pyang, the
        // implicit ones are created first.
        if matches!(kind, NodeKind::Rpc | NodeKind::Action) {
            for k in ["input", "output"] {
                if st.find(k).is_none() {
                    let implicit = Stmt {
                        keyword: k.to_string(),
                        arg: None,
                        line: st.line,
                        substmts: Vec::new(),
                    };
                    let kind = if k == "input" {
                        NodeKind::Input
                    } else {
                        NodeKind::Output
                    };
                    self.new_node(kind, &implicit, file, Some(id), module);
                }
            }
        }
        for s in &st.substmts {
            let mut ignored = Vec::new();
            match s.keyword.as_str() {
                "container" | "leaf" | "leaf-list" | "list" | "choice" | "case" | "anydata"
                | "anyxml" | "uses" | "action" | "notification" | "input" | "output" => {
                    self.data_def(s, &inner, Some(id), module, &mut ignored)
                }
                _ => {}
            }
        }
        if let (NodeKind::Choice, Some(d)) = (kind, st.find("default")) {
            // The default case must exist, unless an if-feature removed it.
            let exists = self.schema.nodes[id.0 as usize]
                .children
                .iter()
                .any(|&c| self.schema.nodes[c.0 as usize].name == d.arg());
            let written = st.substmts.iter().any(|s| {
                s.arg() == d.arg()
                    && matches!(
                        s.keyword.as_str(),
                        "case"
                            | "container"
                            | "leaf"
                            | "leaf-list"
                            | "list"
                            | "choice"
                            | "anydata"
                            | "anyxml"
                    )
            });
            if !exists && !written {
                self.error(file, d, format!("default case '{}' not found", d.arg()));
            }
        }
        if kind == NodeKind::Leaf && self.schema.nodes[id.0 as usize].ty.is_none() {
            self.error(file, st, "leaf has no type");
        }
        if kind == NodeKind::List
            && st.find("key").is_none()
            && self.in_config_context(id)
            && self.explicit_config[id.0 as usize] != Some(false)
        {
            // RFC 7950 §7.8.2: a config list must have keys; checked after config inheritance.
            self.pending_keys.push((id, String::new()));
        }
    }

    pub(super) fn in_config_context(&self, id: NodeId) -> bool {
        let mut cur = Some(id);
        while let Some(c) = cur {
            let n = &self.schema.nodes[c.0 as usize];
            if matches!(
                n.kind,
                NodeKind::Rpc
                    | NodeKind::Action
                    | NodeKind::Notification
                    | NodeKind::Input
                    | NodeKind::Output
            ) {
                return false;
            }
            cur = n.parent;
        }
        true
    }

    /// Apply one substatement that describes a property of node `id`.
    pub(super) fn node_property(&mut self, id: NodeId, s: &'a Stmt, scope: &Scope<'_, 'a>) {
        let file = scope.file;
        let idx = id.0 as usize;
        match s.keyword.as_str() {
            "config" => match s.arg() {
                "true" => self.explicit_config[idx] = Some(true),
                "false" => self.explicit_config[idx] = Some(false),
                _ => self.error(file, s, "config must be true or false"),
            },
            "mandatory" => self.schema.nodes[idx].mandatory = s.arg() == "true",
            "presence" => self.schema.nodes[idx].presence = true,
            "min-elements" => match s.arg().parse() {
                Ok(v) => self.schema.nodes[idx].min_elements = v,
                Err(_) => self.error(file, s, "min-elements must be a non-negative integer"),
            },
            "max-elements" => match s.arg() {
                "unbounded" => self.schema.nodes[idx].max_elements = None,
                a => match a.parse() {
                    Ok(v) => self.schema.nodes[idx].max_elements = Some(v),
                    Err(_) => self.error(file, s, "max-elements must be a positive integer"),
                },
            },
            "ordered-by" => self.schema.nodes[idx].ordered_by_user = s.arg() == "user",
            "key" => self.pending_keys.push((id, s.arg().to_string())),
            "unique" => self.pending_unique.push((id, s.arg().to_string())),
            "default" => self.schema.nodes[idx].defaults.push(s.arg().to_string()),
            "units" => self.schema.nodes[idx].units = Some(s.arg().to_string()),
            "status" => self.schema.nodes[idx].status = status_of_arg(s.arg()),
            "must" => self.add_xpath(id, s, file, false, false),
            "when" => self.add_xpath(id, s, file, false, true),
            "type" => {
                let ty = self.resolve_type(s, scope);
                if let Some(mut ty) = ty {
                    if self.schema.nodes[idx].units.is_none() {
                        self.schema.nodes[idx].units = ty.units.take();
                    }
                    self.schema.nodes[idx].ty = Some(ty);
                }
            }
            _ if s.is_extension() => self.extension_use(id, s, file),
            k if !KEYWORDS.contains(&k) => self.error(file, s, format!("unknown statement '{k}'")),
            _ => {}
        }
    }

    /// Record an extension statement on a node; the extension must be defined by the module
    /// its prefix names, and take an argument exactly when its definition says so.
    pub(super) fn extension_use(&mut self, id: NodeId, s: &Stmt, file: u32) {
        let Some((module, name)) = self.resolve_qname(file, &s.keyword) else {
            let prefix = s.keyword.split(':').next().unwrap_or_default();
            self.error(file, s, format!("unknown prefix '{prefix}'"));
            return;
        };
        let Some(&(_, def)) = self.extensions.get(&(module, name)) else {
            let mname = &self.schema.modules[module.0 as usize].name;
            let message = format!("extension '{name}' is not defined in module '{mname}'");
            self.error(file, s, message);
            return;
        };
        match (def.find("argument").is_some(), s.arg.is_some()) {
            (true, false) => self.error(file, s, "the extension takes an argument"),
            (false, true) => self.error(file, s, "the extension takes no argument"),
            _ => {}
        }
        let is_nacm = self.schema.modules[module.0 as usize].name == NACM_MODULE;
        let node = &mut self.schema.nodes[id.0 as usize];
        let mark = match name {
            "default-deny-write" if is_nacm => Some(DefaultDeny::Write),
            "default-deny-all" if is_nacm => Some(DefaultDeny::All),
            _ => None,
        };
        node.default_deny = node.default_deny.max(mark);
        node.extensions.push(ExtensionUse {
            module,
            name: name.to_string(),
            arg: s.arg.clone(),
        });
    }

    pub(super) fn add_xpath(
        &mut self,
        id: NodeId,
        s: &Stmt,
        file: u32,
        on_parent: bool,
        is_when: bool,
    ) {
        let info = ErrorInfo {
            message: s.find_arg("error-message").map(str::to_string),
            app_tag: s.find_arg("error-app-tag").map(str::to_string),
        };
        match xpath::parse(s.arg()) {
            Ok(expr) => {
                let c = Constraint {
                    text: s.arg().to_string(),
                    expr,
                    prefixes: PrefixTableId(file),
                    error_message: info.message,
                    error_app_tag: info.app_tag,
                    on_parent,
                };
                let n = &mut self.schema.nodes[id.0 as usize];
                if is_when {
                    n.whens.push(c);
                } else {
                    n.musts.push(c);
                }
            }
            Err(e) => self.error(file, s, format!("invalid XPath: {e}")),
        }
    }

    pub(super) fn uses(
        &mut self,
        st: &'a Stmt,
        scope: &Scope<'_, 'a>,
        parent: Option<NodeId>,
        module: ModuleId,
        out: &mut Vec<NodeId>,
    ) {
        let file = scope.file;
        let Some(found) = self.lookup(scope, "grouping", st.arg()) else {
            match st.arg().split_once(':') {
                Some((p, _)) if self.resolve_qname(file, st.arg()).is_none() => {
                    self.error(file, st, format!("unknown prefix '{p}'"))
                }
                _ => self.error(file, st, "grouping not found"),
            }
            return;
        };
        let mut created = Vec::new();
        match found {
            Found::Local(def_scope, g) => {
                let gs = Scope {
                    file: def_scope.file,
                    stmt: g,
                    parent: Some(def_scope),
                };
                self.grouping_body(g, &gs, parent, module, &mut created);
            }
            Found::Top(gfile, g) => {
                let top = self.top_scope(gfile);
                let gs = Scope {
                    file: gfile,
                    stmt: g,
                    parent: Some(&top),
                };
                self.grouping_body(g, &gs, parent, module, &mut created);
            }
        }
        let uses_features: Vec<String> =
            st.all("if-feature").map(|f| f.arg().to_string()).collect();
        for &c in &created {
            append_features(&mut self.schema.nodes[c.0 as usize], &uses_features);
        }
        // when on uses applies to every node it brings, with the parent as context node.
        for w in st.all("when") {
            for &c in &created {
                self.add_xpath(c, w, file, true, true);
            }
        }
        let inner = Scope {
            file,
            stmt: st,
            parent: Some(scope),
        };
        for r in st.all("refine") {
            match self.descendant(&created, file, r.arg()) {
                // A refined if-feature that does not hold removes the node (RFC 7950 §7.13.2).
                Some(target) if !self.if_features_hold(file, r) => {
                    self.remove_node(target);
                    created.retain(|&c| c != target);
                }
                Some(target) => self.refine(target, r, &inner),
                None => self.error(file, r, "refine target not found"),
            }
        }
        for a in st.all("augment") {
            if !self.if_features_hold(file, a) {
                continue;
            }
            match self.descendant(&created, file, a.arg()) {
                Some(target) => {
                    self.augment_into(target, a, &inner, module, false);
                }
                None => self.error(file, a, "augment target not found"),
            }
        }
        out.extend(created);
    }

    pub(super) fn grouping_body(
        &mut self,
        g: &'a Stmt,
        gs: &Scope<'_, 'a>,
        parent: Option<NodeId>,
        module: ModuleId,
        created: &mut Vec<NodeId>,
    ) {
        for s in &g.substmts {
            if matches!(
                s.keyword.as_str(),
                "container"
                    | "leaf"
                    | "leaf-list"
                    | "list"
                    | "choice"
                    | "anydata"
                    | "anyxml"
                    | "uses"
                    | "action"
                    | "notification"
            ) {
                self.data_def(s, gs, parent, module, created);
            } else if !s.is_extension() && !KEYWORDS.contains(&s.keyword.as_str()) {
                self.error(gs.file, s, format!("unknown statement '{}'", s.keyword));
            }
        }
    }

    pub(super) fn refine(&mut self, target: NodeId, r: &'a Stmt, scope: &Scope<'_, 'a>) {
        let idx = target.0 as usize;
        let defaults: Vec<String> = r.all("default").map(|d| d.arg().to_string()).collect();
        if !defaults.is_empty() {
            self.schema.nodes[idx].defaults = defaults;
            self.schema.nodes[idx].defaults_file = scope.file;
        }
        for s in &r.substmts {
            match s.keyword.as_str() {
                "default" => {}
                "description" => self.schema.nodes[idx].description = Some(s.arg().to_string()),
                "if-feature" => self.schema.nodes[idx].if_features.push(s.arg().to_string()),
                "config" | "mandatory" | "presence" | "min-elements" | "max-elements" | "must" => {
                    self.node_property(target, s, scope)
                }
                _ if s.is_extension() => self.extension_use(target, s, scope.file),
                _ => {}
            }
        }
    }

    /// Resolve a descendant schema node identifier (`a/p:b/c`) starting from `roots`.
    pub(super) fn descendant(&self, roots: &[NodeId], file: u32, path: &str) -> Option<NodeId> {
        self.descendant_in(roots, file, path, false)
    }

    /// [`Self::descendant`], optionally looking among the nodes an if-feature removed too.
    fn descendant_in(
        &self,
        roots: &[NodeId],
        file: u32,
        path: &str,
        feature_removed: bool,
    ) -> Option<NodeId> {
        let mut candidates: Vec<NodeId> = roots.to_vec();
        let mut found = None;
        for part in path.trim().trim_start_matches("./").split('/') {
            let (m, name) = self.resolve_qname(file, part.trim())?;
            let ns = &self.schema.modules[m.0 as usize].namespace;
            let hit = candidates.iter().copied().find(|&c| {
                let n = &self.schema.nodes[c.0 as usize];
                n.name == name && &self.schema.modules[n.module.0 as usize].namespace == ns
            })?;
            found = Some(hit);
            candidates = self.schema.nodes[hit.0 as usize].children.clone();
            if feature_removed {
                candidates.extend(self.feature_removed.get(&Some(hit)).into_iter().flatten());
            }
        }
        found
    }

    /// Resolve an absolute schema node identifier (`/p:a/p:b`).
    pub(super) fn absolute(&self, file: u32, path: &str) -> Option<NodeId> {
        self.absolute_in(file, path, false)
    }

    /// [`Self::absolute`], optionally looking among the nodes an if-feature removed too (a
    /// deviation may name them).
    pub(super) fn absolute_in(
        &self,
        file: u32,
        path: &str,
        feature_removed: bool,
    ) -> Option<NodeId> {
        let path = path.trim();
        let rest = path.strip_prefix('/')?;
        let first = rest.split('/').next()?;
        let (m, _) = self.resolve_qname(file, first)?;
        let module = &self.schema.modules[m.0 as usize];
        let mut roots: Vec<NodeId> = module
            .data
            .iter()
            .chain(&module.rpcs)
            .chain(&module.notifications)
            .copied()
            .collect();
        if feature_removed {
            let removed = self.feature_removed.get(&None).into_iter().flatten();
            roots.extend(removed.filter(|&&n| self.schema.nodes[n.0 as usize].module == m));
        }
        self.descendant_in(&roots, file, rest, feature_removed)
    }

    /// Add an augment's data definitions under `target`.
    pub(super) fn augment_into(
        &mut self,
        target: NodeId,
        a: &'a Stmt,
        scope: &Scope<'_, 'a>,
        module: ModuleId,
        top_level: bool,
    ) -> Vec<NodeId> {
        let file = scope.file;
        let inner = Scope {
            file,
            stmt: a,
            parent: Some(scope),
        };
        let mut created = Vec::new();
        for s in &a.substmts {
            let keyword = s.keyword.as_str();
            if matches!(
                keyword,
                "container"
                    | "leaf"
                    | "leaf-list"
                    | "list"
                    | "choice"
                    | "case"
                    | "anydata"
                    | "anyxml"
                    | "uses"
                    | "action"
                    | "notification"
            ) {
                self.data_def(s, &inner, Some(target), module, &mut created);
            } else if !s.is_extension() && !KEYWORDS.contains(&keyword) {
                self.error(file, s, format!("unknown statement '{keyword}'"));
            }
        }
        for w in a.all("when") {
            for &c in &created {
                self.add_xpath(c, w, file, true, true);
            }
        }
        let aug_features: Vec<String> = a.all("if-feature").map(|f| f.arg().to_string()).collect();
        for &c in &created {
            let c = self.unwrap_shorthand(c);
            append_features(&mut self.schema.nodes[c.0 as usize], &aug_features);
        }
        if top_level {
            let tmod = self.schema.nodes[target.0 as usize].module;
            if tmod != module {
                self.schema.modules[tmod.0 as usize].implemented = true;
            }
        }
        created
    }
}

/// Append if-feature expressions not already present (pyang's rule for uses and augment).
pub(super) fn append_features(node: &mut SchemaNode, features: &[String]) {
    for f in features {
        if !node.if_features.contains(f) {
            node.if_features.push(f.clone());
        }
    }
}
