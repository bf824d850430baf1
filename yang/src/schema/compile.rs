//! Compilation of parsed modules into a [`Schema`].
//!
//! Phases: load every file (imports and includes found on the search path), register modules and
//! their prefix tables, identities, then instantiate data nodes (expanding groupings), apply
//! top-level augments until no more resolve, apply deviations, and finish with the passes that need
//! the whole tree: config inheritance, list keys, unique, leafref targets, XPath parsing, defaults.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use super::loader::{find_module, ModuleSource};
use super::types::{ErrorInfo, PatternRestriction, Type, TypeKind};
use super::{
    Augment, CompileError, CompileErrors, Constraint, Identity, IdentityId, Module, ModuleId,
    NodeId, NodeKind, PrefixTable, PrefixTableId, Schema, SchemaNode, SourceFile, Status,
};
use crate::pattern::Pattern;
use crate::stmt::{self, Stmt};
use crate::xpath;

/// Collects what to compile, then compiles it.
#[derive(Debug, Clone, Default)]
pub struct SchemaBuilder {
    dirs: Vec<PathBuf>,
    no_embedded: bool,
    files: Vec<ModuleSource>,
    modules: Vec<String>,
    disabled_features: HashMap<String, HashSet<String>>,
}

impl SchemaBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a directory to the module search path (searched before the embedded modules).
    pub fn search_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dirs.push(dir.into());
        self
    }

    /// Do not consult the embedded project modules when resolving imports.
    pub fn without_embedded(mut self) -> Self {
        self.no_embedded = true;
        self
    }

    /// Compile (and implement) the module in this text.
    pub fn source(mut self, path: impl Into<String>, text: impl Into<String>) -> Self {
        self.files.push(ModuleSource {
            path: path.into(),
            text: text.into(),
        });
        self
    }

    /// Compile (and implement) a module found by name on the search path.
    pub fn module(mut self, name: impl Into<String>) -> Self {
        self.modules.push(name.into());
        self
    }

    /// The project's own modules, all implemented.
    pub fn embedded(mut self) -> Self {
        for (name, _) in super::embedded_modules() {
            self.modules.push((*name).to_string());
        }
        self
    }

    /// Turn a feature off (all features are on by default).
    pub fn disable_feature(mut self, module: &str, feature: &str) -> Self {
        self.disabled_features
            .entry(module.to_string())
            .or_default()
            .insert(feature.to_string());
        self
    }

    pub fn build(self) -> Result<Schema, CompileErrors> {
        let (parsed, implemented) = self.load()?;
        let mut c = Compiler::new(&parsed, &self.disabled_features);
        c.register(&implemented);
        c.identities();
        c.instantiate_modules();
        c.augments();
        c.deviations();
        c.finish();
        if c.errors.is_empty() {
            let mut schema = c.schema;
            schema.index();
            Ok(schema)
        } else {
            Err(CompileErrors(c.errors))
        }
    }

    /// Read and parse every file needed, following imports and includes.
    fn load(&self) -> Result<(Vec<Parsed>, Vec<String>), CompileErrors> {
        let mut parsed: Vec<Parsed> = Vec::new();
        let mut errors = Vec::new();
        let mut implemented = Vec::new();
        let mut queue: Vec<(ModuleSource, Option<String>)> = Vec::new();
        for f in &self.files {
            queue.push((f.clone(), None));
        }
        for m in &self.modules {
            match find_module(&self.dirs, !self.no_embedded, m, None) {
                Some(src) => queue.push((src, None)),
                None => errors.push(CompileError {
                    file: m.clone(),
                    line: 0,
                    statement: String::new(),
                    message: format!("module '{m}' not found on the search path"),
                }),
            }
        }
        let explicit = queue.len();
        let mut idx = 0;
        while idx < queue.len() {
            let (src, expected) = queue[idx].clone();
            idx += 1;
            let st = match stmt::parse(&src.text) {
                Ok(s) => s,
                Err(e) => {
                    errors.push(CompileError {
                        file: src.path.clone(),
                        line: e.line,
                        statement: String::new(),
                        message: e.message,
                    });
                    continue;
                }
            };
            let name = st.arg().to_string();
            if let Some(exp) = &expected {
                if exp != &name {
                    errors.push(CompileError {
                        file: src.path.clone(),
                        line: st.line,
                        statement: format!("{} {}", st.keyword, name),
                        message: format!("file was expected to hold '{exp}'"),
                    });
                    continue;
                }
            }
            if idx <= explicit && st.keyword == "module" {
                implemented.push(name.clone());
            }
            if parsed.iter().any(|p| p.stmt.arg() == name) {
                continue;
            }
            // Queue imports, includes, and the module a submodule belongs to.
            for dep in st.substmts.iter() {
                if dep.keyword != "import"
                    && dep.keyword != "include"
                    && dep.keyword != "belongs-to"
                {
                    continue;
                }
                let dname = dep.arg();
                let queued = parsed.iter().any(|p| p.stmt.arg() == dname)
                    || queue.iter().skip(idx).any(|(s, e)| {
                        e.as_deref() == Some(dname) || s.path.ends_with(&format!("/{dname}.yang"))
                    });
                if queued {
                    continue;
                }
                let rev = dep.find_arg("revision-date");
                match find_module(&self.dirs, !self.no_embedded, dname, rev) {
                    Some(s) => queue.push((s, Some(dname.to_string()))),
                    None => errors.push(CompileError {
                        file: src.path.clone(),
                        line: dep.line,
                        statement: format!("{} {}", dep.keyword, dname),
                        message: format!("module '{dname}' not found on the search path"),
                    }),
                }
            }
            let revision = st.all("revision").map(|r| r.arg().to_string()).max();
            parsed.push(Parsed {
                source: SourceFile {
                    name: name.clone(),
                    path: src.path.clone(),
                    text: src.text.clone(),
                    module: if st.keyword == "submodule" {
                        st.find("belongs-to")
                            .map(|b| b.arg().to_string())
                            .unwrap_or_default()
                    } else {
                        name.clone()
                    },
                    revision,
                    is_submodule: st.keyword == "submodule",
                },
                stmt: st,
            });
        }
        if errors.is_empty() {
            Ok((parsed, implemented))
        } else {
            Err(CompileErrors(errors))
        }
    }
}

struct Parsed {
    source: SourceFile,
    stmt: Stmt,
}

/// Lexical scope for typedef/grouping lookup: a chain of enclosing statements.
#[derive(Clone, Copy)]
struct Scope<'s, 'a> {
    file: u32,
    stmt: &'a Stmt,
    parent: Option<&'s Scope<'s, 'a>>,
}

/// A definition found by lookup: either inside an enclosing statement of the current chain, or
/// at the top level of some module's file.
enum Found<'s, 'a> {
    Local(&'s Scope<'s, 'a>, &'a Stmt),
    Top(u32, &'a Stmt),
}

const KEYWORDS: &[&str] = &[
    "action",
    "anydata",
    "anyxml",
    "argument",
    "augment",
    "base",
    "belongs-to",
    "bit",
    "case",
    "choice",
    "config",
    "contact",
    "container",
    "default",
    "description",
    "deviate",
    "deviation",
    "enum",
    "error-app-tag",
    "error-message",
    "extension",
    "feature",
    "fraction-digits",
    "grouping",
    "identity",
    "if-feature",
    "import",
    "include",
    "input",
    "key",
    "leaf",
    "leaf-list",
    "length",
    "list",
    "mandatory",
    "max-elements",
    "min-elements",
    "modifier",
    "module",
    "must",
    "namespace",
    "notification",
    "ordered-by",
    "organization",
    "output",
    "path",
    "pattern",
    "position",
    "prefix",
    "presence",
    "range",
    "reference",
    "refine",
    "require-instance",
    "revision",
    "revision-date",
    "rpc",
    "status",
    "submodule",
    "type",
    "typedef",
    "unique",
    "units",
    "uses",
    "value",
    "when",
    "yang-version",
    "yin-element",
];

struct Compiler<'a> {
    files: &'a [Parsed],
    disabled: &'a HashMap<String, HashSet<String>>,
    schema: Schema,
    errors: Vec<CompileError>,
    /// Module of each file.
    file_module: Vec<ModuleId>,
    typedefs: HashMap<(ModuleId, &'a str), (u32, &'a Stmt)>,
    groupings: HashMap<(ModuleId, &'a str), (u32, &'a Stmt)>,
    features: HashMap<(ModuleId, &'a str), (u32, &'a Stmt)>,
    identity_index: HashMap<(ModuleId, String), IdentityId>,
    typedef_cache: HashMap<usize, Option<Type>>,
    explicit_config: Vec<Option<bool>>,
    pending_keys: Vec<(NodeId, String)>,
    pending_unique: Vec<(NodeId, String)>,
}

impl<'a> Compiler<'a> {
    fn new(files: &'a [Parsed], disabled: &'a HashMap<String, HashSet<String>>) -> Self {
        Compiler {
            files,
            disabled,
            schema: Schema {
                modules: Vec::new(),
                nodes: Vec::new(),
                identities: Vec::new(),
                sources: files.iter().map(|p| p.source.clone()).collect(),
                prefix_tables: vec![PrefixTable::default(); files.len()],
                module_by_ns: HashMap::new(),
                module_by_name: HashMap::new(),
                identity_index: HashMap::new(),
                data_child_cache: Vec::new(),
                top_cache: Vec::new(),
                order: Vec::new(),
                default_cache: Vec::new(),
            },
            errors: Vec::new(),
            file_module: Vec::new(),
            typedefs: HashMap::new(),
            groupings: HashMap::new(),
            features: HashMap::new(),
            identity_index: HashMap::new(),
            typedef_cache: HashMap::new(),
            explicit_config: Vec::new(),
            pending_keys: Vec::new(),
            pending_unique: Vec::new(),
        }
    }

    fn error(&mut self, file: u32, st: &Stmt, message: impl Into<String>) {
        let statement = match &st.arg {
            Some(a) if a.len() <= 60 && !a.contains('\n') => format!("{} {}", st.keyword, a),
            _ => st.keyword.clone(),
        };
        self.errors.push(CompileError {
            file: self.files[file as usize].source.path.clone(),
            line: st.line,
            statement,
            message: message.into(),
        });
    }

    fn top_scope<'s>(&self, file: u32) -> Scope<'s, 'a> {
        let files: &'a [Parsed] = self.files;
        Scope {
            file,
            stmt: &files[file as usize].stmt,
            parent: None,
        }
    }

    fn file_stmt(&self, file: usize) -> &'a Stmt {
        let files: &'a [Parsed] = self.files;
        &files[file].stmt
    }

    // ---- registration ------------------------------------------------------------------------

    fn register(&mut self, implemented: &[String]) {
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

    fn feature_enabled(&self, module: ModuleId, name: &str) -> bool {
        let mname = &self.schema.modules[module.0 as usize].name;
        !self
            .disabled
            .get(mname)
            .is_some_and(|set| set.contains(name))
    }

    /// Evaluate every `if-feature` substatement of `st` (RFC 7950 §7.20.2 expressions).
    fn if_features_hold(&self, file: u32, st: &Stmt) -> bool {
        st.all("if-feature")
            .all(|f| self.eval_feature_expr(file, f.arg(), 0).unwrap_or(false))
    }

    fn eval_feature_expr(&self, file: u32, expr: &str, depth: u32) -> Option<bool> {
        if depth > 16 {
            return Some(false);
        }
        let tokens = feature_tokens(expr);
        let mut pos = 0;
        let v = self.feature_or(file, &tokens, &mut pos, depth)?;
        (pos == tokens.len()).then_some(v)
    }

    fn feature_or(&self, file: u32, t: &[String], pos: &mut usize, d: u32) -> Option<bool> {
        let mut v = self.feature_and(file, t, pos, d)?;
        while t.get(*pos).map(String::as_str) == Some("or") {
            *pos += 1;
            let r = self.feature_and(file, t, pos, d)?;
            v = v || r;
        }
        Some(v)
    }

    fn feature_and(&self, file: u32, t: &[String], pos: &mut usize, d: u32) -> Option<bool> {
        let mut v = self.feature_not(file, t, pos, d)?;
        while t.get(*pos).map(String::as_str) == Some("and") {
            *pos += 1;
            let r = self.feature_not(file, t, pos, d)?;
            v = v && r;
        }
        Some(v)
    }

    fn feature_not(&self, file: u32, t: &[String], pos: &mut usize, d: u32) -> Option<bool> {
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
    fn resolve_qname<'n>(&self, file: u32, qname: &'n str) -> Option<(ModuleId, &'n str)> {
        match qname.split_once(':') {
            Some((p, n)) => Some((*self.schema.prefix_tables[file as usize].map.get(p)?, n)),
            None => Some((self.file_module[file as usize], qname)),
        }
    }

    fn identities(&mut self) {
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

    fn find_identity(&self, file: u32, qname: &str) -> Option<IdentityId> {
        let (m, n) = self.resolve_qname(file, qname)?;
        self.identity_index.get(&(m, n.to_string())).copied()
    }

    // ---- node instantiation -------------------------------------------------------------------

    fn instantiate_modules(&mut self) {
        for i in 0..self.files.len() {
            if !self.files[i].source.is_submodule {
                let mut seen = HashSet::new();
                self.instantiate_file(i, &mut seen);
            }
        }
    }

    /// A file's top-level nodes, after those of the submodules it includes (pyang's order).
    fn instantiate_file(&mut self, i: usize, seen: &mut HashSet<usize>) {
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

    fn new_node(
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
        });
        self.explicit_config.push(None);
        if let Some(p) = parent {
            self.schema.nodes[p.0 as usize].children.push(id);
        }
        id
    }

    /// Instantiate one data definition statement (or `uses`) under `parent`.
    fn data_def(
        &mut self,
        st: &'a Stmt,
        scope: &Scope<'_, 'a>,
        parent: Option<NodeId>,
        module: ModuleId,
        out: &mut Vec<NodeId>,
    ) {
        let file = scope.file;
        if !self.if_features_hold(file, st) {
            return;
        }
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

    fn in_config_context(&self, id: NodeId) -> bool {
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
    fn node_property(&mut self, id: NodeId, s: &'a Stmt, scope: &Scope<'_, 'a>) {
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
            k if !s.is_extension() && !KEYWORDS.contains(&k) => {
                self.error(file, s, format!("unknown statement '{k}'"))
            }
            _ => {}
        }
    }

    fn add_xpath(&mut self, id: NodeId, s: &Stmt, file: u32, on_parent: bool, is_when: bool) {
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

    fn uses(
        &mut self,
        st: &'a Stmt,
        scope: &Scope<'_, 'a>,
        parent: Option<NodeId>,
        module: ModuleId,
        out: &mut Vec<NodeId>,
    ) {
        let file = scope.file;
        let Some(found) = self.lookup(scope, "grouping", st.arg()) else {
            self.error(file, st, "grouping not found");
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

    fn grouping_body(
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
            }
        }
    }

    fn refine(&mut self, target: NodeId, r: &'a Stmt, scope: &Scope<'_, 'a>) {
        let idx = target.0 as usize;
        let defaults: Vec<String> = r.all("default").map(|d| d.arg().to_string()).collect();
        if !defaults.is_empty() {
            self.schema.nodes[idx].defaults = defaults;
        }
        for s in &r.substmts {
            match s.keyword.as_str() {
                "default" => {}
                "description" => self.schema.nodes[idx].description = Some(s.arg().to_string()),
                "if-feature" => self.schema.nodes[idx].if_features.push(s.arg().to_string()),
                "config" | "mandatory" | "presence" | "min-elements" | "max-elements" | "must" => {
                    self.node_property(target, s, scope)
                }
                _ => {}
            }
        }
    }

    /// Resolve a descendant schema node identifier (`a/p:b/c`) starting from `roots`.
    fn descendant(&self, roots: &[NodeId], file: u32, path: &str) -> Option<NodeId> {
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
        }
        found
    }

    /// Resolve an absolute schema node identifier (`/p:a/p:b`).
    fn absolute(&self, file: u32, path: &str) -> Option<NodeId> {
        let path = path.trim();
        let rest = path.strip_prefix('/')?;
        let first = rest.split('/').next()?;
        let (m, _) = self.resolve_qname(file, first)?;
        let module = &self.schema.modules[m.0 as usize];
        let roots: Vec<NodeId> = module
            .data
            .iter()
            .chain(&module.rpcs)
            .chain(&module.notifications)
            .copied()
            .collect();
        self.descendant(&roots, file, rest)
    }

    /// Add an augment's data definitions under `target`.
    fn augment_into(
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

    fn set_origin(&mut self, first: usize, file: u32) {
        for n in &mut self.schema.nodes[first..] {
            n.origin = file;
        }
    }

    /// The member node of an implicit case, or the node itself.
    fn unwrap_shorthand(&self, id: NodeId) -> NodeId {
        let n = &self.schema.nodes[id.0 as usize];
        match (n.shorthand, n.children.first()) {
            (true, Some(&c)) => c,
            _ => id,
        }
    }

    fn validation_order(&self, i: usize, seen: &mut HashSet<usize>, order: &mut Vec<usize>) {
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

    fn augments(&mut self) {
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

    fn deviations(&mut self) {
        for i in 0..self.files.len() {
            let file = i as u32;
            let st = self.file_stmt(i);
            for d in st.all("deviation") {
                let Some(target) = self.absolute(file, d.arg()) else {
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

    fn deviate(&mut self, target: NodeId, dv: &'a Stmt, file: u32) {
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

    fn remove_node(&mut self, target: NodeId) {
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

    // ---- lookups ------------------------------------------------------------------------------

    fn lookup<'s>(
        &self,
        scope: &'s Scope<'s, 'a>,
        keyword: &str,
        qname: &str,
    ) -> Option<Found<'s, 'a>> {
        let file = scope.file;
        let (module, name) = self.resolve_qname(file, qname)?;
        let table = if keyword == "typedef" {
            &self.typedefs
        } else {
            &self.groupings
        };
        if module == self.file_module[file as usize] {
            // Walk the lexical chain; at the top, any file of the module.
            let mut cur: Option<&'s Scope<'s, 'a>> = Some(scope);
            while let Some(sc) = cur {
                if sc.parent.is_none() {
                    break;
                }
                if let Some(d) = sc
                    .stmt
                    .substmts
                    .iter()
                    .find(|s| s.keyword == keyword && s.arg() == name)
                {
                    return Some(Found::Local(sc, d));
                }
                cur = sc.parent;
            }
        }
        table.get(&(module, name)).map(|&(f, s)| Found::Top(f, s))
    }

    // ---- types ----------------------------------------------------------------------------------

    fn resolve_type(&mut self, tst: &'a Stmt, scope: &Scope<'_, 'a>) -> Option<Type> {
        let file = scope.file;
        let name = tst.arg();
        let is_builtin = !name.contains(':') && TypeKind::from_builtin(name).is_some();
        let mut ty = if is_builtin {
            Type::new(name, TypeKind::from_builtin(name)?)
        } else {
            let found = match self.lookup(scope, "typedef", name) {
                Some(f) => f,
                None => {
                    self.error(file, tst, format!("type '{name}' not found"));
                    return None;
                }
            };
            let mut base = match found {
                Found::Local(def_scope, td) => {
                    let s = Scope {
                        file: def_scope.file,
                        stmt: td,
                        parent: Some(def_scope),
                    };
                    self.typedef(td, &s)?
                }
                Found::Top(tfile, td) => {
                    let top = self.top_scope(tfile);
                    let s = Scope {
                        file: tfile,
                        stmt: td,
                        parent: Some(&top),
                    };
                    self.typedef(td, &s)?
                }
            };
            base.name = name.to_string();
            base
        };
        self.restrict(&mut ty, tst, scope, is_builtin);
        Some(ty)
    }

    fn typedef(&mut self, td: &'a Stmt, scope: &Scope<'_, 'a>) -> Option<Type> {
        let key = td as *const Stmt as usize;
        if let Some(t) = self.typedef_cache.get(&key) {
            return t.clone();
        }
        // Guard against typedef cycles: a cached None while resolving.
        self.typedef_cache.insert(key, None);
        let resolved = match td.find("type") {
            Some(t) => self.resolve_type(t, scope).map(|mut ty| {
                if let Some(d) = td.find_arg("default") {
                    ty.default = Some(d.to_string());
                }
                if let Some(u) = td.find_arg("units") {
                    ty.units = Some(u.to_string());
                }
                ty
            }),
            None => {
                self.error(scope.file, td, "typedef has no type");
                None
            }
        };
        self.typedef_cache.insert(key, resolved.clone());
        resolved
    }

    /// Apply the restrictions written in a `type` statement.
    fn restrict(&mut self, ty: &mut Type, tst: &'a Stmt, scope: &Scope<'_, 'a>, builtin: bool) {
        let file = scope.file;
        if let Some(fd) = tst.find("fraction-digits") {
            match (&mut ty.kind, fd.arg().parse::<u8>()) {
                (TypeKind::Decimal64 { fraction_digits }, Ok(v))
                    if builtin && (1..=18).contains(&v) =>
                {
                    *fraction_digits = v
                }
                _ => self.error(file, fd, "fraction-digits must be 1..18 on decimal64"),
            }
        } else if builtin && matches!(ty.kind, TypeKind::Decimal64 { .. }) {
            self.error(file, tst, "decimal64 needs fraction-digits");
        }
        for s in &tst.substmts {
            match s.keyword.as_str() {
                "range" => match self.parse_ranges(ty, s.arg()) {
                    Ok(r) => {
                        ty.ranges.push(r);
                        ty.range_error = error_info(s);
                    }
                    Err(e) => self.error(file, s, e),
                },
                "length" => match parse_lengths(ty, s.arg()) {
                    Ok(r) => {
                        ty.lengths.push(r);
                        ty.length_error = error_info(s);
                    }
                    Err(e) => self.error(file, s, e),
                },
                "pattern" => {
                    let invert = s.find_arg("modifier") == Some("invert-match");
                    match Pattern::new(s.arg(), invert) {
                        Ok(pattern) => ty.patterns.push(PatternRestriction {
                            pattern,
                            error: error_info(s),
                        }),
                        Err(e) => self.error(file, s, format!("invalid pattern: {e}")),
                    }
                }
                "path" => {
                    if let TypeKind::Leafref { path, prefixes, .. } = &mut ty.kind {
                        *path = s.arg().to_string();
                        *prefixes = PrefixTableId(file);
                    }
                }
                "require-instance" => match &mut ty.kind {
                    TypeKind::Leafref {
                        require_instance, ..
                    }
                    | TypeKind::InstanceIdentifier { require_instance } => {
                        *require_instance = s.arg() == "true"
                    }
                    _ => self.error(file, s, "require-instance on a type that has none"),
                },
                "base" => {
                    if let TypeKind::IdentityRef(bases) = &mut ty.kind {
                        match self
                            .resolve_qname(file, s.arg())
                            .and_then(|(m, n)| self.identity_index.get(&(m, n.to_string())))
                        {
                            Some(&id) => bases.push(id),
                            None => self.error(file, s, "base identity not found"),
                        }
                    }
                }
                "type" => {
                    if let Some(member) = self.resolve_type(s, scope) {
                        if let TypeKind::Union(members) = &mut ty.kind {
                            members.push(member);
                        }
                    }
                }
                _ => {}
            }
        }
        self.enums_and_bits(ty, tst, file, builtin);
        if builtin {
            let missing = match &ty.kind {
                TypeKind::Leafref { path, .. } if path.is_empty() => Some("leafref needs a path"),
                TypeKind::IdentityRef(b) if b.is_empty() => Some("identityref needs a base"),
                TypeKind::Enumeration(e) if e.is_empty() => Some("enumeration needs enums"),
                TypeKind::Union(m) if m.is_empty() => Some("union needs member types"),
                _ => None,
            };
            if let Some(msg) = missing {
                self.error(file, tst, msg);
            }
        }
    }

    fn enums_and_bits(&mut self, ty: &mut Type, tst: &'a Stmt, file: u32, builtin: bool) {
        if tst.find("enum").is_some() {
            let TypeKind::Enumeration(existing) = &ty.kind else {
                self.error(file, tst, "enum on a type that is not an enumeration");
                return;
            };
            let mut out: Vec<(String, i64)> = Vec::new();
            let mut next: i64 = 0;
            for e in tst.all("enum") {
                if !self.if_features_hold(file, e) {
                    continue;
                }
                let value = match e.find_arg("value").map(|v| v.trim().parse::<i64>()) {
                    Some(Ok(v)) => v,
                    Some(Err(_)) => {
                        self.error(file, e, "enum value must be an integer");
                        continue;
                    }
                    None if builtin => next,
                    None => match existing.iter().find(|(n, _)| n == e.arg()) {
                        Some((_, v)) => *v,
                        None => {
                            self.error(file, e, "enum is not in the base enumeration");
                            continue;
                        }
                    },
                };
                if !builtin && !existing.iter().any(|(n, v)| n == e.arg() && *v == value) {
                    self.error(file, e, "enum is not in the base enumeration");
                    continue;
                }
                if out.iter().any(|(n, _)| n == e.arg()) {
                    self.error(file, e, "duplicate enum name");
                    continue;
                }
                next = value.saturating_add(1);
                out.push((e.arg().to_string(), value));
            }
            ty.kind = TypeKind::Enumeration(out);
        }
        if tst.find("bit").is_some() {
            let TypeKind::Bits(existing) = &ty.kind else {
                self.error(file, tst, "bit on a type that is not bits");
                return;
            };
            let mut out: Vec<(String, u32)> = Vec::new();
            let mut next: u32 = 0;
            for b in tst.all("bit") {
                if !self.if_features_hold(file, b) {
                    continue;
                }
                let pos = match b.find_arg("position").map(|v| v.trim().parse::<u32>()) {
                    Some(Ok(v)) => v,
                    Some(Err(_)) => {
                        self.error(file, b, "bit position must be 0..4294967295");
                        continue;
                    }
                    None if builtin => next,
                    None => match existing.iter().find(|(n, _)| n == b.arg()) {
                        Some((_, v)) => *v,
                        None => {
                            self.error(file, b, "bit is not in the base type");
                            continue;
                        }
                    },
                };
                next = pos.saturating_add(1);
                out.push((b.arg().to_string(), pos));
            }
            ty.kind = TypeKind::Bits(out);
        }
    }

    fn parse_ranges(&self, ty: &Type, arg: &str) -> Result<Vec<(i128, i128)>, String> {
        let (lo_b, hi_b) = match ty.ranges.last() {
            Some(level) => (
                level.first().map(|r| r.0).unwrap_or(0),
                level.last().map(|r| r.1).unwrap_or(0),
            ),
            None => ty
                .kind
                .bounds()
                .ok_or_else(|| format!("range on type {}", ty.kind.builtin_name()))?,
        };
        let fd = match ty.kind {
            TypeKind::Decimal64 { fraction_digits } => Some(fraction_digits),
            _ => None,
        };
        let value = |s: &str| -> Result<i128, String> {
            match s.trim() {
                "min" => Ok(lo_b),
                "max" => Ok(hi_b),
                v => match fd {
                    Some(d) => super::types::parse_decimal(v, d)
                        .ok_or_else(|| format!("bad decimal64 bound '{v}'")),
                    None => super::types::parse_integer(v)
                        .ok_or_else(|| format!("bad range bound '{v}'")),
                },
            }
        };
        let mut out = Vec::new();
        for part in arg.split('|') {
            let (lo, hi) = match part.split_once("..") {
                Some((a, b)) => (value(a)?, value(b)?),
                None => {
                    let v = value(part)?;
                    (v, v)
                }
            };
            if lo > hi {
                return Err(format!("range '{}' is empty", part.trim()));
            }
            if let Some(&(_, prev_hi)) = out.last() {
                if lo <= prev_hi {
                    return Err("range parts must be ascending and disjoint".into());
                }
            }
            // A derived range must lie within the base type's range (RFC 7950 §9.2.4).
            let base_ok = match ty.ranges.last() {
                Some(level) => level.iter().any(|&(a, b)| lo >= a && hi <= b),
                None => lo >= lo_b && hi <= hi_b,
            };
            if !base_ok {
                return Err(format!(
                    "range '{}' is not within the base type's range",
                    part.trim()
                ));
            }
            out.push((lo, hi));
        }
        Ok(out)
    }

    // ---- finishing passes -----------------------------------------------------------------------

    fn finish(&mut self) {
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

    fn inherit_config(&mut self, id: NodeId, parent_config: bool) {
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

    fn node_error(&mut self, id: NodeId, message: impl Into<String>) {
        let n = &self.schema.nodes[id.0 as usize];
        self.errors.push(CompileError {
            file: self.files[n.file as usize].source.path.clone(),
            line: n.line,
            statement: format!("{} {}", n.kind.keyword(), n.name),
            message: message.into(),
        });
    }

    fn resolve_keys(&mut self) {
        let pending = std::mem::take(&mut self.pending_keys);
        for (list, keys) in pending {
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

    fn resolve_unique(&mut self) {
        let pending = std::mem::take(&mut self.pending_unique);
        for (list, spec) in pending {
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

    fn resolve_leafrefs(&mut self) {
        for i in 0..self.schema.nodes.len() {
            let Some(mut ty) = self.schema.nodes[i].ty.take() else {
                continue;
            };
            self.resolve_leafref_type(NodeId(i as u32), &mut ty);
            self.schema.nodes[i].ty = Some(ty);
        }
    }

    fn resolve_leafref_type(&mut self, leaf: NodeId, ty: &mut Type) {
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

    fn check_defaults(&mut self) {
        for i in 0..self.schema.nodes.len() {
            let n = &self.schema.nodes[i];
            if !matches!(n.kind, NodeKind::Leaf | NodeKind::LeafList) {
                continue;
            }
            let Some(ty) = &n.ty else { continue };
            let mut values = n.defaults.clone();
            if values.is_empty() {
                if let Some(d) = &ty.default {
                    values.push(d.clone());
                }
            }
            let table = PrefixTableId(n.file);
            let module = n.module;
            let mut bad = Vec::new();
            for v in &values {
                let resolver = |p: &str| {
                    self.schema.prefix_tables[table.0 as usize]
                        .map
                        .get(p)
                        .copied()
                };
                if let Err(e) = ty.canonical(&self.schema, v, &resolver, Some(module)) {
                    bad.push(format!("default '{v}' is invalid: {e}"));
                }
            }
            for b in bad {
                self.node_error(NodeId(i as u32), b);
            }
        }
    }
}

fn status_of_arg(arg: &str) -> Status {
    match arg {
        "deprecated" => Status::Deprecated,
        "obsolete" => Status::Obsolete,
        _ => Status::Current,
    }
}

fn status_of(st: &Stmt) -> Status {
    st.find_arg("status").map_or(Status::Current, status_of_arg)
}

/// Append if-feature expressions not already present (pyang's rule for uses and augment).
fn append_features(node: &mut SchemaNode, features: &[String]) {
    for f in features {
        if !node.if_features.contains(f) {
            node.if_features.push(f.clone());
        }
    }
}

fn error_info(s: &Stmt) -> ErrorInfo {
    ErrorInfo {
        message: s.find_arg("error-message").map(str::to_string),
        app_tag: s.find_arg("error-app-tag").map(str::to_string),
    }
}

fn parse_lengths(ty: &Type, arg: &str) -> Result<Vec<(u64, u64)>, String> {
    if !matches!(ty.kind, TypeKind::String | TypeKind::Binary) {
        return Err(format!("length on type {}", ty.kind.builtin_name()));
    }
    let (lo_b, hi_b) = match ty.lengths.last() {
        Some(level) => (
            level.first().map(|r| r.0).unwrap_or(0),
            level.last().map(|r| r.1).unwrap_or(0),
        ),
        None => (0, u64::MAX),
    };
    let value = |s: &str| -> Result<u64, String> {
        match s.trim() {
            "min" => Ok(lo_b),
            "max" => Ok(hi_b),
            v => v
                .parse::<u64>()
                .map_err(|_| format!("bad length bound '{v}'")),
        }
    };
    let mut out = Vec::new();
    for part in arg.split('|') {
        let (lo, hi) = match part.split_once("..") {
            Some((a, b)) => (value(a)?, value(b)?),
            None => {
                let v = value(part)?;
                (v, v)
            }
        };
        if lo > hi {
            return Err(format!("length '{}' is empty", part.trim()));
        }
        let base_ok = match ty.lengths.last() {
            Some(level) => level.iter().any(|&(a, b)| lo >= a && hi <= b),
            None => true,
        };
        if !base_ok {
            return Err(format!(
                "length '{}' is not within the base type's length",
                part.trim()
            ));
        }
        out.push((lo, hi));
    }
    Ok(out)
}

/// Tokens of an if-feature expression: names, `(`, `)`, and the operators as words.
fn feature_tokens(expr: &str) -> Vec<String> {
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
