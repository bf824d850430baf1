use super::*;

impl<'a> Compiler<'a> {
    pub(super) fn set_origin(&mut self, first: usize, file: u32) {
        for n in &mut self.schema.nodes[first..] {
            n.origin = file;
        }
    }

    /// The member node of an implicit case, or the node itself.
    pub(super) fn unwrap_shorthand(&self, id: NodeId) -> NodeId {
        let n = &self.schema.nodes[id.0 as usize];
        match (n.shorthand, n.children.first()) {
            (true, Some(&c)) => c,
            _ => id,
        }
    }

    pub(super) fn validation_order(
        &self,
        i: usize,
        seen: &mut HashSet<usize>,
        order: &mut Vec<usize>,
    ) {
        if !seen.insert(i) {
            return;
        }
        for dep in self.file_stmt(i).substmts.iter() {
            if dep.keyword == "import" || dep.keyword == "include" {
                if let Some(j) = self.files.iter().position(|p| p.source.name == dep.arg()) {
                    self.validation_order(j, seen, order);
                }
            }
        }
        order.push(i);
    }

    pub(super) fn augments(&mut self) {
        // pyang's order: a module's imports are validated (and their augments applied) before
        // the module itself, starting from the files in the order they were given.
        let mut order = Vec::new();
        let mut seen = HashSet::new();
        for i in 0..self.files.len() {
            self.validation_order(i, &mut seen, &mut order);
        }
        let mut pending: Vec<(u32, &'a Stmt)> = Vec::new();
        for i in order {
            for a in self.file_stmt(i).all("augment") {
                pending.push((i as u32, a));
            }
        }
        loop {
            let mut progress = false;
            let mut still = Vec::new();
            for (file, a) in pending {
                if !self.if_features_hold(file, a) {
                    continue;
                }
                match self.absolute(file, a.arg()) {
                    Some(target) => {
                        let module = self.file_module[file as usize];
                        let top = self.top_scope(file);
                        let first = self.schema.nodes.len();
                        let nodes = self.augment_into(target, a, &top, module, true);
                        self.set_origin(first, file);
                        self.schema.modules[module.0 as usize]
                            .augments
                            .push(Augment {
                                target_path: a.arg().to_string(),
                                target,
                                nodes,
                                if_features: a
                                    .all("if-feature")
                                    .map(|f| f.arg().to_string())
                                    .collect(),
                                file,
                                line: a.line,
                            });
                        progress = true;
                    }
                    None => still.push((file, a)),
                }
            }
            pending = still;
            if pending.is_empty() || !progress {
                break;
            }
        }
        for (file, a) in pending {
            self.error(file, a, "augment target node not found");
        }
    }

    pub(super) fn deviations(&mut self) {
        for i in 0..self.files.len() {
            let file = i as u32;
            let st = self.file_stmt(i);
            for d in st.all("deviation") {
                // A target an if-feature removed is found too; deviating it changes nothing.
                let Some(target) = self.absolute_in(file, d.arg(), true) else {
                    self.error(file, d, "deviation target node not found");
                    continue;
                };
                let by = self.file_module[i];
                let tmod = self.schema.nodes[target.0 as usize].module;
                if !self.schema.modules[tmod.0 as usize]
                    .deviated_by
                    .contains(&by)
                {
                    self.schema.modules[tmod.0 as usize].deviated_by.push(by);
                }
                for dv in d.all("deviate") {
                    self.deviate(target, dv, file);
                }
            }
        }
    }

    pub(super) fn deviate(&mut self, target: NodeId, dv: &'a Stmt, file: u32) {
        let idx = target.0 as usize;
        let scope_top = self.top_scope(file);
        let scope = Scope {
            file,
            stmt: dv,
            parent: Some(&scope_top),
        };
        match dv.arg() {
            "not-supported" => self.remove_node(target),
            "add" | "replace" => {
                let replace = dv.arg() == "replace";
                for s in &dv.substmts {
                    match s.keyword.as_str() {
                        "default" => {
                            if replace
                                || self.schema.nodes[idx].kind != NodeKind::LeafList
                                    && !self.schema.nodes[idx].defaults.is_empty()
                            {
                                self.schema.nodes[idx].defaults.clear();
                            }
                            self.schema.nodes[idx].defaults.push(s.arg().to_string());
                            self.schema.nodes[idx].defaults_file = file;
                        }
                        "type" => {
                            if let Some(ty) = self.resolve_type(s, &scope) {
                                self.schema.nodes[idx].ty = Some(ty);
                            }
                        }
                        "units" | "config" | "mandatory" | "min-elements" | "max-elements"
                        | "must" | "unique" => self.node_property(target, s, &scope),
                        _ => {}
                    }
                }
            }
            "delete" => {
                for s in &dv.substmts {
                    let n = &mut self.schema.nodes[idx];
                    match s.keyword.as_str() {
                        "default" => n.defaults.retain(|v| v != s.arg()),
                        "units" => n.units = None,
                        "must" => n.musts.retain(|m| m.text != s.arg()),
                        "unique" => {
                            self.pending_unique
                                .retain(|(node, u)| !(*node == target && u == s.arg()));
                        }
                        _ => {}
                    }
                }
            }
            other => self.error(file, dv, format!("unknown deviate '{other}'")),
        }
    }

    /// Take a node out of the tree (`deviate not-supported`, a refined `if-feature` that does not
    /// hold). It stays in the arena, marked detached with all its descendants, so that the
    /// finishing passes skip it.
    pub(super) fn remove_node(&mut self, target: NodeId) {
        let mut stack = vec![target];
        while let Some(n) = stack.pop() {
            let node = &mut self.schema.nodes[n.0 as usize];
            node.detached = true;
            stack.extend(node.children.iter().copied());
        }
        let parent = self.schema.nodes[target.0 as usize].parent;
        match parent {
            Some(p) => self.schema.nodes[p.0 as usize]
                .children
                .retain(|&c| c != target),
            None => {
                for m in &mut self.schema.modules {
                    m.data.retain(|&c| c != target);
                    m.rpcs.retain(|&c| c != target);
                    m.notifications.retain(|&c| c != target);
                }
            }
        }
        for m in &mut self.schema.modules {
            for a in &mut m.augments {
                a.nodes.retain(|&c| c != target);
            }
        }
    }
}
