use super::*;

impl<'a> Compiler<'a> {
    // ---- registration ------------------------------------------------------------------------

    pub(super) fn register(&mut self, implemented: &[String]) {
        // Modules first, so submodules and prefix tables can refer to them.
        for (i, p) in self.files.iter().enumerate() {
            if p.source.is_submodule {
                continue;
            }
            let st = &p.stmt;
            let id = ModuleId(self.schema.modules.len() as u32);
            let namespace = st.find_arg("namespace").unwrap_or_default().to_string();
            self.schema.module_by_ns.insert(namespace.clone(), id);
            self.schema.module_by_name.insert(st.arg().to_string(), id);
            self.schema.modules.push(Module {
                name: st.arg().to_string(),
                revision: p.source.revision.clone(),
                namespace,
                prefix: st.find_arg("prefix").unwrap_or_default().to_string(),
                declared_prefix: st.find_arg("prefix").unwrap_or_default().to_string(),
                yang_version: st.find_arg("yang-version").unwrap_or("1").to_string(),
                implemented: implemented.iter().any(|n| n == st.arg()),
                is_submodule_parent: st.find("include").is_some(),
                submodules: st.all("include").map(|s| s.arg().to_string()).collect(),
                features: Vec::new(),
                enabled_features: Vec::new(),
                data: Vec::new(),
                rpcs: Vec::new(),
                notifications: Vec::new(),
                augments: Vec::new(),
                deviated_by: Vec::new(),
                file: i as u32,
            });
            if st.find("namespace").is_none() {
                self.error(i as u32, st, "module has no namespace");
            }
        }
        self.distinct_prefixes();
        for (i, p) in self.files.iter().enumerate() {
            let module = self.schema.module_by_name.get(&p.source.module).copied();
            let Some(module) = module else {
                self.error(
                    i as u32,
                    &p.stmt,
                    format!("belongs to '{}', which is not loaded", p.source.module),
                );
                self.file_module.push(ModuleId(0));
                continue;
            };
            self.file_module.push(module);
        }
        if !self.errors.is_empty() {
            return;
        }
        for (i, p) in self.files.iter().enumerate() {
            let fid = i as u32;
            let st = &p.stmt;
            let module = self.file_module[i];
            let own_prefix = if p.source.is_submodule {
                st.find("belongs-to").and_then(|b| b.find_arg("prefix"))
            } else {
                st.find_arg("prefix")
            };
            let mut table = PrefixTable::default();
            if let Some(pfx) = own_prefix {
                table.map.insert(pfx.to_string(), module);
            }
            for imp in st.all("import") {
                match self.schema.module_by_name.get(imp.arg()) {
                    Some(&m) => {
                        if let Some(pfx) = imp.find_arg("prefix") {
                            table.map.insert(pfx.to_string(), m);
                        }
                    }
                    None => self.error(fid, imp, "imported module is not a module"),
                }
            }
            self.schema.prefix_tables[i] = table;
            for s in &st.substmts {
                if !s.is_extension() && !KEYWORDS.contains(&s.keyword.as_str()) {
                    self.error(fid, s, format!("unknown statement '{}'", s.keyword));
                }
                let key = (module, s.arg());
                match s.keyword.as_str() {
                    "typedef" => {
                        self.typedefs.insert(key, (fid, s));
                    }
                    "grouping" => {
                        self.groupings.insert(key, (fid, s));
                    }
                    "extension" => {
                        self.extensions.insert(key, (fid, s));
                    }
                    "feature" => {
                        self.features.insert(key, (fid, s));
                        self.schema.modules[module.0 as usize]
                            .features
                            .push(s.arg().to_string());
                    }
                    _ => {}
                }
            }
        }
        for m in 0..self.schema.modules.len() {
            let feats = self.schema.modules[m].features.clone();
            let mid = ModuleId(m as u32);
            let file = self.schema.modules[m].file;
            let enabled = feats
                .into_iter()
                .filter(|f| {
                    let fst = self.features.get(&(mid, f.as_str())).map(|x| x.1);
                    fst.is_some_and(|fst| self.if_features_hold(file, fst))
                        && self.feature_enabled(mid, f)
                })
                .collect();
            self.schema.modules[m].enabled_features = enabled;
        }
    }

    /// Prefixes are only unique within a module's imports, but paths and values written with
    /// module prefixes need one per module: a module whose prefix an earlier module already
    /// has is named by its module name instead.
    fn distinct_prefixes(&mut self) {
        let mut taken = HashSet::new();
        for m in &mut self.schema.modules {
            if !taken.insert(m.prefix.clone()) {
                let mut prefix = m.name.clone();
                let mut n = 2;
                while taken.contains(&prefix) {
                    prefix = format!("{}{n}", m.name);
                    n += 1;
                }
                taken.insert(prefix.clone());
                m.prefix = prefix;
            }
        }
    }

    pub(super) fn feature_enabled(&self, module: ModuleId, name: &str) -> bool {
        let mname = &self.schema.modules[module.0 as usize].name;
        self.selection.enabled(mname, name)
    }

    /// Every feature named in an exact feature set exists in its module.
    pub(super) fn check_feature_selection(&mut self) {
        let mut named: Vec<(&String, &String)> = self
            .selection
            .only
            .iter()
            .flat_map(|(m, fs)| fs.iter().map(move |f| (m, f)))
            .collect();
        named.sort();
        for (module, feature) in named {
            let message = match self.schema.module_by_name.get(module) {
                Some(&m) if self.schema.modules[m.0 as usize].features.contains(feature) => {
                    continue
                }
                Some(_) => format!("feature '{feature}' is not defined in module '{module}'"),
                None => format!("features are given for module '{module}', which is not loaded"),
            };
            self.errors.push(CompileError {
                file: module.clone(),
                line: 0,
                statement: String::new(),
                message,
            });
        }
    }

    /// Evaluate every `if-feature` substatement of `st` (RFC 7950 §7.20.2 expressions).
    pub(super) fn if_features_hold(&self, file: u32, st: &Stmt) -> bool {
        st.all("if-feature")
            .all(|f| self.eval_feature_expr(file, f.arg(), 0).unwrap_or(false))
    }

    pub(super) fn eval_feature_expr(&self, file: u32, expr: &str, depth: u32) -> Option<bool> {
        if depth > 16 {
            return Some(false);
        }
        let tokens = feature_tokens(expr);
        let mut pos = 0;
        let v = self.feature_or(file, &tokens, &mut pos, depth)?;
        (pos == tokens.len()).then_some(v)
    }

    pub(super) fn feature_or(
        &self,
        file: u32,
        t: &[String],
        pos: &mut usize,
        d: u32,
    ) -> Option<bool> {
        let mut v = self.feature_and(file, t, pos, d)?;
        while t.get(*pos).map(String::as_str) == Some("or") {
            *pos += 1;
            let r = self.feature_and(file, t, pos, d)?;
            v = v || r;
        }
        Some(v)
    }

    pub(super) fn feature_and(
        &self,
        file: u32,
        t: &[String],
        pos: &mut usize,
        d: u32,
    ) -> Option<bool> {
        let mut v = self.feature_not(file, t, pos, d)?;
        while t.get(*pos).map(String::as_str) == Some("and") {
            *pos += 1;
            let r = self.feature_not(file, t, pos, d)?;
            v = v && r;
        }
        Some(v)
    }

    pub(super) fn feature_not(
        &self,
        file: u32,
        t: &[String],
        pos: &mut usize,
        d: u32,
    ) -> Option<bool> {
        let tok = t.get(*pos)?.as_str();
        *pos += 1;
        match tok {
            "not" => Some(!self.feature_not(file, t, pos, d)?),
            "(" => {
                let v = self.feature_or(file, t, pos, d)?;
                (t.get(*pos).map(String::as_str) == Some(")")).then(|| {
                    *pos += 1;
                    v
                })
            }
            name => {
                let (module, fname) = self.resolve_qname(file, name)?;
                let (ffile, fst) = *self.features.get(&(module, fname))?;
                // A feature's own if-features must hold too.
                let deps = fst
                    .all("if-feature")
                    .all(|f| self.eval_feature_expr(ffile, f.arg(), d + 1) == Some(true));
                Some(deps && self.feature_enabled(module, fname))
            }
        }
    }

    /// `prefix:name` or `name` -> (module, name), using the file's prefix table.
    pub(super) fn resolve_qname<'n>(
        &self,
        file: u32,
        qname: &'n str,
    ) -> Option<(ModuleId, &'n str)> {
        match qname.split_once(':') {
            Some((p, n)) => Some((*self.schema.prefix_tables[file as usize].map.get(p)?, n)),
            None => Some((self.file_module[file as usize], qname)),
        }
    }

    pub(super) fn identities(&mut self) {
        let mut stmts = Vec::new();
        for (i, p) in self.files.iter().enumerate() {
            let module = self.file_module[i];
            for s in p.stmt.all("identity") {
                if !self.if_features_hold(i as u32, s) {
                    continue;
                }
                let id = IdentityId(self.schema.identities.len() as u32);
                self.schema.identities.push(Identity {
                    name: s.arg().to_string(),
                    module,
                    bases: Vec::new(),
                    derived: Vec::new(),
                });
                self.identity_index
                    .insert((module, s.arg().to_string()), id);
                stmts.push((id, i as u32, s));
            }
        }
        for (id, file, s) in stmts {
            for b in s.all("base") {
                match self.find_identity(file, b.arg()) {
                    Some(base) => self.schema.identities[id.0 as usize].bases.push(base),
                    None => self.error(file, b, "base identity not found"),
                }
            }
        }
        // Transitive closure: add each identity to the `derived` list of all its ancestors.
        for i in 0..self.schema.identities.len() {
            let id = IdentityId(i as u32);
            let mut stack = self.schema.identities[i].bases.clone();
            let mut seen = HashSet::new();
            while let Some(b) = stack.pop() {
                if !seen.insert(b) || b == id {
                    continue;
                }
                self.schema.identities[b.0 as usize].derived.push(id);
                stack.extend(self.schema.identities[b.0 as usize].bases.iter().copied());
            }
        }
        self.schema.identity_index = self.identity_index.clone();
    }

    pub(super) fn find_identity(&self, file: u32, qname: &str) -> Option<IdentityId> {
        let (m, n) = self.resolve_qname(file, qname)?;
        self.identity_index.get(&(m, n.to_string())).copied()
    }
}

/// Tokens of an if-feature expression: names, `(`, `)`, and the operators as words.
pub(super) fn feature_tokens(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in expr.chars() {
        match c {
            '(' | ')' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                out.push(c.to_string());
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}
