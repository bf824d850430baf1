use super::*;

impl<'a> Compiler<'a> {
    // ---- finishing passes -----------------------------------------------------------------------

    pub(super) fn finish(&mut self) {
        // Config inheritance, top-down.
        let roots: Vec<(NodeId, bool)> = self
            .schema
            .modules
            .iter()
            .flat_map(|m| {
                m.data
                    .iter()
                    .map(|&n| (n, true))
                    .chain(m.rpcs.iter().map(|&n| (n, false)))
                    .chain(m.notifications.iter().map(|&n| (n, false)))
                    .collect::<Vec<_>>()
            })
            .collect();
        for (root, cfg) in roots {
            self.inherit_config(root, cfg);
        }
        self.resolve_keys();
        self.resolve_unique();
        self.resolve_leafrefs();
        self.check_defaults();
    }

    pub(super) fn inherit_config(&mut self, id: NodeId, parent_config: bool) {
        let n = &self.schema.nodes[id.0 as usize];
        let in_op = matches!(
            n.kind,
            NodeKind::Rpc
                | NodeKind::Action
                | NodeKind::Notification
                | NodeKind::Input
                | NodeKind::Output
        );
        let cfg = if in_op {
            false
        } else {
            match self.explicit_config[id.0 as usize] {
                Some(true) if !parent_config => {
                    let (file, line) = (n.file, n.line);
                    self.errors.push(CompileError {
                        file: self.files[file as usize].source.path.clone(),
                        line,
                        statement: format!("{} {}", n.kind.keyword(), n.name),
                        message: "config true under a config false node".into(),
                    });
                    false
                }
                Some(v) => v,
                None => parent_config,
            }
        };
        self.schema.nodes[id.0 as usize].config = cfg;
        let children = self.schema.nodes[id.0 as usize].children.clone();
        for c in children {
            self.inherit_config(c, cfg);
        }
    }

    pub(super) fn node_error(&mut self, id: NodeId, message: impl Into<String>) {
        let n = &self.schema.nodes[id.0 as usize];
        self.errors.push(CompileError {
            file: self.files[n.file as usize].source.path.clone(),
            line: n.line,
            statement: format!("{} {}", n.kind.keyword(), n.name),
            message: message.into(),
        });
    }

    pub(super) fn resolve_keys(&mut self) {
        let pending = std::mem::take(&mut self.pending_keys);
        for (list, keys) in pending {
            if self.schema.nodes[list.0 as usize].detached {
                continue;
            }
            if keys.is_empty() {
                if self.schema.nodes[list.0 as usize].config
                    && self.schema.nodes[list.0 as usize].keys.is_empty()
                {
                    self.node_error(list, "a config list must have a key");
                }
                continue;
            }
            let children = self.schema.data_children(list);
            let mut resolved = Vec::new();
            for k in keys.split_whitespace() {
                let name = k.rsplit(':').next().unwrap_or(k);
                match children.iter().copied().find(|&c| {
                    let n = &self.schema.nodes[c.0 as usize];
                    n.name == name && n.kind == NodeKind::Leaf
                }) {
                    Some(leaf) => resolved.push(leaf),
                    None => self.node_error(list, format!("key leaf '{k}' not found")),
                }
            }
            self.schema.nodes[list.0 as usize].keys = resolved;
        }
    }

    pub(super) fn resolve_unique(&mut self) {
        let pending = std::mem::take(&mut self.pending_unique);
        for (list, spec) in pending {
            if self.schema.nodes[list.0 as usize].detached {
                continue;
            }
            let mut leaves = Vec::new();
            for path in spec.split_whitespace() {
                let children = self.schema.data_children(list);
                let mut cur = children;
                let mut hit = None;
                for part in path.split('/') {
                    let name = part.rsplit(':').next().unwrap_or(part);
                    hit = cur
                        .iter()
                        .copied()
                        .find(|&c| self.schema.nodes[c.0 as usize].name == name);
                    match hit {
                        Some(h) => cur = self.schema.data_children(h),
                        None => break,
                    }
                }
                match hit {
                    Some(h) => leaves.push(h),
                    None => self.node_error(list, format!("unique node '{path}' not found")),
                }
            }
            self.schema.nodes[list.0 as usize].unique.push(leaves);
        }
    }

    pub(super) fn resolve_leafrefs(&mut self) {
        for i in 0..self.schema.nodes.len() {
            if self.schema.nodes[i].detached {
                continue;
            }
            let Some(mut ty) = self.schema.nodes[i].ty.take() else {
                continue;
            };
            self.resolve_leafref_type(NodeId(i as u32), &mut ty);
            self.schema.nodes[i].ty = Some(ty);
        }
    }

    pub(super) fn resolve_leafref_type(&mut self, leaf: NodeId, ty: &mut Type) {
        match &mut ty.kind {
            TypeKind::Leafref {
                path,
                prefixes,
                target,
                ..
            } => match crate::leafref::resolve_target(&self.schema, leaf, path, *prefixes) {
                Ok(t) => *target = Some(t),
                Err(e) => {
                    let msg = format!("leafref path '{path}': {e}");
                    self.node_error(leaf, msg);
                }
            },
            TypeKind::Union(members) => {
                for m in members {
                    self.resolve_leafref_type(leaf, m);
                }
            }
            _ => {}
        }
    }

    pub(super) fn check_defaults(&mut self) {
        for i in 0..self.schema.nodes.len() {
            let n = &self.schema.nodes[i];
            if n.detached {
                continue;
            }
            // Defaults resolve in the file they are written in, which for a node from another
            // module's grouping or typedef is not the node's own module.
            let Some((ty, values, table)) = self.schema.raw_defaults(n) else {
                continue;
            };
            let module = Some(self.file_module[table.0 as usize]);
            let resolver = |p: &str| self.schema.resolve_prefix(table, p);
            let mut bad = Vec::new();
            for v in values {
                if let Err(e) = ty.canonical(&self.schema, v, &resolver, module) {
                    bad.push(format!("default '{v}' is invalid: {e}"));
                }
            }
            for b in bad {
                self.node_error(NodeId(i as u32), b);
            }
        }
    }
}
