//! Compilation of parsed modules into a [`Schema`].
//!
//! Phases: load every file (imports and includes found on the search path), register modules and
//! their prefix tables, identities, then instantiate data nodes (expanding groupings), apply
//! top-level augments until no more resolve, apply deviations, and finish with the passes that need
//! the whole tree: config inheritance, list keys, unique, leafref targets, XPath parsing, defaults.

mod augment;
mod finish;
mod nodes;
mod register;
mod typeres;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use super::loader::{find_module, newest_revision, ModuleSource};
use super::types::{ErrorInfo, PatternRestriction, Type, TypeKind};
use super::{
    Augment, CompileError, CompileErrors, Constraint, DefaultDeny, ExtensionUse, Identity,
    IdentityId, Module, ModuleId, NodeId, NodeKind, PrefixTable, PrefixTableId, Schema, SchemaNode,
    SourceFile, Status, NACM_MODULE,
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
    features: FeatureSelection,
}

/// Which features are on: all of them, except those turned off one by one and, for a module
/// given an exact set, those outside it.
#[derive(Debug, Clone, Default)]
struct FeatureSelection {
    disabled: HashMap<String, HashSet<String>>,
    only: HashMap<String, HashSet<String>>,
}

impl FeatureSelection {
    fn enabled(&self, module: &str, feature: &str) -> bool {
        !self
            .disabled
            .get(module)
            .is_some_and(|s| s.contains(feature))
            && self.only.get(module).is_none_or(|s| s.contains(feature))
    }
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

    /// The device's modules: the embedded ones, implemented except those only imported
    /// (type libraries), with the features the device supports.
    pub fn embedded(mut self) -> Self {
        for (name, _) in super::embedded_modules() {
            if !super::loader::EMBEDDED_IMPORT_ONLY.contains(name) {
                self.modules.push((*name).to_string());
            }
        }
        for (module, features) in super::loader::EMBEDDED_FEATURES {
            self = self.features(module, features.iter().copied());
        }
        self
    }

    /// Turn a feature off (all features are on by default).
    pub fn disable_feature(mut self, module: &str, feature: &str) -> Self {
        self.features
            .disabled
            .entry(module.to_string())
            .or_default()
            .insert(feature.to_string());
        self
    }

    /// Enable exactly these features of `module` (its other features are off). Naming a
    /// feature the module does not define is a compile error.
    pub fn features<'f>(
        mut self,
        module: &str,
        features: impl IntoIterator<Item = &'f str>,
    ) -> Self {
        self.features.only.insert(
            module.to_string(),
            features.into_iter().map(str::to_string).collect(),
        );
        self
    }

    pub fn build(self) -> Result<Schema, CompileErrors> {
        let (parsed, implemented) = self.load()?;
        let mut c = Compiler::new(&parsed, &self.features);
        c.register(&implemented);
        c.check_feature_selection();
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
    ///
    /// Every file is parsed when it is queued, so an import or include is recognised as already
    /// queued by the name of the module or submodule a queued file holds, whatever its path and
    /// wherever it stands in the queue.
    fn load(&self) -> Result<(Vec<Parsed>, Vec<String>), CompileErrors> {
        let mut parsed: Vec<Parsed> = Vec::new();
        let mut errors = Vec::new();
        let mut implemented = Vec::new();
        let mut queue: Vec<Queued> = Vec::new();
        // Given files that do not parse, by file name (`NAME.yang`, `NAME@REV.yang`): an import
        // of NAME is not looked up on the search path, which would only add a second error.
        let mut unparsed: Vec<String> = Vec::new();
        for f in &self.files {
            match Queued::parse(f.clone(), None, &mut errors) {
                Some(q) => queue.push(q),
                None => unparsed.extend(
                    std::path::Path::new(&f.path)
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .and_then(|s| s.split('@').next())
                        .map(str::to_string),
                ),
            }
        }
        for m in &self.modules {
            if queue.iter().any(|q| q.provides(m)) {
                continue;
            }
            match find_module(&self.dirs, !self.no_embedded, m, None) {
                Some(src) => queue.extend(Queued::parse(src, None, &mut errors)),
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
            let item = idx;
            idx += 1;
            let Queued {
                src,
                expected,
                stmt: st,
            } = queue[item].clone();
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
            if item < explicit && st.keyword == "module" {
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
                let rev = dep.find_arg("revision-date");
                let dep_error = |message: String| CompileError {
                    file: src.path.clone(),
                    line: dep.line,
                    statement: format!("{} {}", dep.keyword, dname),
                    message,
                };
                // The first queued file holding `dname` is the one compiled.
                if let Some(q) = queue.iter().find(|q| q.provides(dname)) {
                    if let Some(rev) = rev {
                        let have = newest_revision(&q.stmt);
                        if have.as_deref() != Some(rev) {
                            let have = match have {
                                Some(h) => format!("revision {h}"),
                                None => "no revision".to_string(),
                            };
                            errors.push(dep_error(format!(
                                "revision {rev} of '{dname}' is not available: {} has {have}",
                                q.src.path
                            )));
                        }
                    }
                    continue;
                }
                if unparsed.iter().any(|u| u == dname) {
                    continue;
                }
                match find_module(&self.dirs, !self.no_embedded, dname, rev) {
                    Some(s) => queue.extend(Queued::parse(s, Some(dname.to_string()), &mut errors)),
                    None => errors.push(dep_error(match rev {
                        Some(rev) => {
                            format!("module '{dname}' revision {rev} not found on the search path")
                        }
                        None => format!("module '{dname}' not found on the search path"),
                    })),
                }
            }
            let revision = newest_revision(&st);
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

/// A file waiting to be compiled, parsed already so that its name is known.
#[derive(Clone)]
struct Queued {
    src: ModuleSource,
    /// The module or submodule the file was looked up for.
    expected: Option<String>,
    stmt: Stmt,
}

impl Queued {
    /// Parse a source; a syntax error is reported and the file is not queued.
    fn parse(
        src: ModuleSource,
        expected: Option<String>,
        errors: &mut Vec<CompileError>,
    ) -> Option<Queued> {
        match stmt::parse(&src.text) {
            Ok(stmt) => Some(Queued {
                src,
                expected,
                stmt,
            }),
            Err(e) => {
                errors.push(CompileError {
                    file: src.path.clone(),
                    line: e.line,
                    statement: String::new(),
                    message: e.message,
                });
                None
            }
        }
    }

    /// Will this file be compiled as module or submodule `name`? (A file looked up for another
    /// name is rejected.)
    fn provides(&self, name: &str) -> bool {
        self.stmt.arg() == name && self.expected.as_deref().is_none_or(|e| e == name)
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
    selection: &'a FeatureSelection,
    schema: Schema,
    errors: Vec<CompileError>,
    /// Module of each file.
    file_module: Vec<ModuleId>,
    typedefs: HashMap<(ModuleId, &'a str), (u32, &'a Stmt)>,
    groupings: HashMap<(ModuleId, &'a str), (u32, &'a Stmt)>,
    features: HashMap<(ModuleId, &'a str), (u32, &'a Stmt)>,
    extensions: HashMap<(ModuleId, &'a str), (u32, &'a Stmt)>,
    /// Nodes whose if-feature does not hold, by parent (None: top level): instantiated and
    /// detached at once, so that a deviation may still name them (pyang accepts that).
    feature_removed: HashMap<Option<NodeId>, Vec<NodeId>>,
    identity_index: HashMap<(ModuleId, String), IdentityId>,
    typedef_cache: HashMap<usize, Option<Type>>,
    explicit_config: Vec<Option<bool>>,
    pending_keys: Vec<(NodeId, String)>,
    pending_unique: Vec<(NodeId, String)>,
}

impl<'a> Compiler<'a> {
    fn new(files: &'a [Parsed], selection: &'a FeatureSelection) -> Self {
        Compiler {
            files,
            selection,
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
            extensions: HashMap::new(),
            feature_removed: HashMap::new(),
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
}

pub(super) fn status_of_arg(arg: &str) -> Status {
    match arg {
        "deprecated" => Status::Deprecated,
        "obsolete" => Status::Obsolete,
        _ => Status::Current,
    }
}

pub(super) fn status_of(st: &Stmt) -> Status {
    st.find_arg("status").map_or(Status::Current, status_of_arg)
}

pub(super) fn error_info(s: &Stmt) -> ErrorInfo {
    ErrorInfo {
        message: s.find_arg("error-message").map(str::to_string),
        app_tag: s.find_arg("error-app-tag").map(str::to_string),
    }
}
