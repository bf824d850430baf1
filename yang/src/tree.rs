//! RFC 8340 tree diagrams, byte-compatible with `pyang -f tree` (default options).

use std::collections::HashSet;

use crate::schema::{NodeId, NodeKind, Schema, Status, TypeKind};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Data,
    Augment,
    Rpc,
    Input,
    Output,
    Notification,
}

/// Print the trees of the given source files (indices into [`Schema::sources`]), in order, the
/// way `pyang -f tree FILE...` does.
pub fn print(schema: &Schema, files: &[u32]) -> String {
    let printed_modules: HashSet<&str> = files
        .iter()
        .map(|&f| schema.sources[f as usize].module.as_str())
        .collect();
    let mut out = String::new();
    let mut previous_printed = false;
    for &f in files {
        let mut unit = String::new();
        print_unit(schema, f, &printed_modules, &mut unit);
        if previous_printed {
            out.push('\n');
        }
        previous_printed = !unit.is_empty();
        out.push_str(&unit);
    }
    out
}

/// The file and every submodule it includes, transitively.
fn unit_files(schema: &Schema, file: u32) -> Vec<u32> {
    let mut out = vec![file];
    let mut i = 0;
    while i < out.len() {
        let src = &schema.sources[out[i] as usize];
        if let Ok(st) = crate::stmt::parse(&src.text) {
            for inc in st.all("include") {
                if let Some(j) = schema
                    .sources
                    .iter()
                    .position(|s| s.is_submodule && s.name == inc.arg())
                {
                    if !out.contains(&(j as u32)) {
                        out.push(j as u32);
                    }
                }
            }
        }
        i += 1;
    }
    out
}

struct Printer<'s> {
    schema: &'s Schema,
    module: crate::schema::ModuleId,
    /// For a submodule printed on its own: the files pyang would have loaded for it.
    only_files: Option<Vec<u32>>,
    out: String,
}

fn print_unit(schema: &Schema, file: u32, printed: &HashSet<&str>, out: &mut String) {
    let src = &schema.sources[file as usize];
    let Some(module) = schema.module_by_name(&src.module) else {
        return;
    };
    let files = unit_files(schema, file);
    let header = if src.is_submodule {
        format!("submodule: {} (belongs-to {})\n", src.name, src.module)
    } else {
        format!("module: {}\n", src.name)
    };
    let mut p = Printer {
        schema,
        module,
        only_files: src.is_submodule.then(|| files.clone()),
        out: String::new(),
    };
    let m = schema.module(module);
    let in_unit = |n: &NodeId| files.contains(&schema.node(*n).origin);
    let data: Vec<NodeId> = m.data.iter().copied().filter(in_unit).collect();
    let mut header_done = false;
    let mut header_once = |p: &mut Printer| {
        if !header_done {
            p.out.push_str(&header);
            header_done = true;
        }
    };
    if !data.is_empty() {
        header_once(&mut p);
        p.children(&data, "", Mode::Data, 0);
    }
    let mut augments: Vec<&crate::schema::Augment> = m
        .augments
        .iter()
        .filter(|a| files.contains(&a.file))
        .filter(|a| {
            let tm = schema.module(schema.node(a.target).module);
            tm.name != m.name && !printed.contains(tm.name.as_str())
        })
        .collect();
    // The unit's own file first, then its submodules, each in source order.
    augments.sort_by_key(|a| (files.iter().position(|&f| f == a.file), a.line));
    let mut first = true;
    for a in augments {
        header_once(&mut p);
        if first {
            p.out.push('\n');
            first = false;
        }
        p.out.push_str(&format!("  augment {}:\n", a.target_path));
        let mode = match schema.node(a.target).kind {
            NodeKind::Input => Mode::Input,
            NodeKind::Output => Mode::Output,
            NodeKind::Notification => Mode::Notification,
            _ => Mode::Augment,
        };
        let nodes: Vec<NodeId> = a.nodes.iter().map(|&n| bare(schema, n)).collect();
        p.children(&nodes, "  ", mode, 0);
    }
    let rpcs: Vec<NodeId> = m.rpcs.iter().copied().filter(in_unit).collect();
    if !rpcs.is_empty() {
        header_once(&mut p);
        p.out.push_str("\n  rpcs:\n");
        p.children(&rpcs, "  ", Mode::Rpc, 0);
    }
    let notifs: Vec<NodeId> = m.notifications.iter().copied().filter(in_unit).collect();
    if !notifs.is_empty() {
        header_once(&mut p);
        p.out.push_str("\n  notifications:\n");
        p.children(&notifs, "  ", Mode::Notification, 0);
    }
    out.push_str(&p.out);
}

/// In an augment section a shorthand case added to a choice is printed as its bare member.
fn bare(schema: &Schema, id: NodeId) -> NodeId {
    let n = schema.node(id);
    match (n.shorthand, n.children.first()) {
        (true, Some(&c)) => c,
        _ => id,
    }
}

impl Printer<'_> {
    fn name(&self, id: NodeId) -> String {
        let n = self.schema.node(id);
        if n.module == self.module {
            n.name.clone()
        } else {
            format!(
                "{}:{}",
                self.schema.module(n.module).declared_prefix,
                n.name
            )
        }
    }

    /// A submodule printed alone does not see what its sibling submodules add.
    fn visible(&self, id: NodeId) -> bool {
        let n = self.schema.node(id);
        match &self.only_files {
            Some(files) => n.module != self.module || files.contains(&n.origin),
            None => true,
        }
    }

    fn width(&self, list: &[NodeId]) -> usize {
        list.iter()
            .map(|&c| {
                let n = self.schema.node(c);
                match n.kind {
                    NodeKind::Choice | NodeKind::Case => {
                        let visible: Vec<NodeId> = n
                            .children
                            .iter()
                            .copied()
                            .filter(|&c| self.visible(c))
                            .collect();
                        3 + self.width(&visible)
                    }
                    _ => self.name(c).len(),
                }
            })
            .max()
            .unwrap_or(0)
    }

    fn is_empty_io(&self, id: NodeId) -> bool {
        let n = self.schema.node(id);
        matches!(n.kind, NodeKind::Input | NodeKind::Output) && n.children.is_empty()
    }

    fn children(&mut self, list: &[NodeId], prefix: &str, mut mode: Mode, width: usize) {
        let width = if width == 0 { self.width(list) } else { width };
        let Some(&last_node) = list.last() else {
            return;
        };
        let last_is_empty_output =
            self.schema.node(last_node).kind == NodeKind::Output && self.is_empty_io(last_node);
        for &ch in list {
            if self.is_empty_io(ch) {
                continue;
            }
            let last = ch == last_node || last_is_empty_output;
            let newprefix = format!("{prefix}{}", if last { "   " } else { "  |" });
            match self.schema.node(ch).kind {
                NodeKind::Input => mode = Mode::Input,
                NodeKind::Output => mode = Mode::Output,
                _ => {}
            }
            self.node(ch, &newprefix, mode, width);
        }
    }

    fn in_operation(&self, id: NodeId) -> bool {
        let mut cur = Some(id);
        while let Some(c) = cur {
            let n = self.schema.node(c);
            if matches!(
                n.kind,
                NodeKind::Rpc | NodeKind::Action | NodeKind::Notification
            ) {
                return true;
            }
            cur = n.parent;
        }
        false
    }

    fn flags(&self, id: NodeId, mode: Mode) -> &'static str {
        let n = self.schema.node(id);
        if mode == Mode::Input {
            "-w"
        } else if matches!(n.kind, NodeKind::Rpc | NodeKind::Action) {
            "-x"
        } else if n.kind == NodeKind::Notification {
            "-n"
        } else if !self.in_operation(id) {
            if n.config {
                "rw"
            } else {
                "ro"
            }
        } else if matches!(mode, Mode::Output | Mode::Notification) {
            "ro"
        } else {
            ""
        }
    }

    fn type_string(&self, id: NodeId) -> String {
        let n = self.schema.node(id);
        match n.kind {
            NodeKind::Anydata => "<anydata>".into(),
            NodeKind::Anyxml => "<anyxml>".into(),
            NodeKind::Leaf | NodeKind::LeafList => match &n.ty {
                Some(t) if t.name == "leafref" => match &t.kind {
                    TypeKind::Leafref { path, .. } => {
                        format!(
                            "-> {}",
                            compact_path(path, &self.schema.module(n.module).declared_prefix)
                        )
                    }
                    _ => "leafref".into(),
                },
                Some(t) => t.name.clone(),
                None => String::new(),
            },
            _ => String::new(),
        }
    }

    fn is_key(&self, id: NodeId) -> bool {
        let n = self.schema.node(id);
        n.parent.is_some_and(|p| {
            let pn = self.schema.node(p);
            pn.kind == NodeKind::List && pn.keys.contains(&id)
        })
    }

    fn node(&mut self, id: NodeId, prefix: &str, mode: Mode, width: usize) {
        let n = self.schema.node(id);
        let status = match n.status {
            Status::Deprecated => 'x',
            Status::Obsolete => 'o',
            Status::Current => '+',
        };
        let mut line = format!("{}{status}--", &prefix[..prefix.len() - 1]);
        let flags = self.flags(id, mode);
        let name = self.name(id);
        match n.kind {
            NodeKind::List => {
                line.push_str(&format!("{flags} {name}*"));
                let keys = n
                    .key_arg
                    .as_deref()
                    .map(collapse_whitespace)
                    .unwrap_or_default();
                line.push_str(&format!(" [{keys}]"));
            }
            NodeKind::Container => {
                line.push_str(&format!(
                    "{flags} {name}{}",
                    if n.presence { "!" } else { "" }
                ));
            }
            NodeKind::Choice => {
                line.push_str(&format!(
                    "{flags} ({name}){}",
                    if n.mandatory { "" } else { "?" }
                ));
            }
            NodeKind::Case => line.push_str(&format!(":({name})")),
            _ => {
                let mut shown = name;
                if n.kind == NodeKind::LeafList {
                    shown.push('*');
                } else if (n.kind == NodeKind::Leaf && !self.is_key(id)
                    || matches!(n.kind, NodeKind::Anydata | NodeKind::Anyxml))
                    && !n.mandatory
                {
                    shown.push('?');
                }
                let ty = self.type_string(id);
                if ty.is_empty() {
                    line.push_str(&format!("{flags} {shown}"));
                } else {
                    line.push_str(&format!("{flags} {shown:<w$}   {ty}", w = width + 1));
                }
            }
        }
        if !n.if_features.is_empty() {
            line.push_str(&format!(" {{{}}}?", n.if_features.join(",")));
        }
        self.out.push_str(&line);
        self.out.push('\n');
        let children: Vec<NodeId> = n
            .children
            .iter()
            .copied()
            .filter(|&c| self.visible(c))
            .collect();
        match n.kind {
            NodeKind::Choice | NodeKind::Case => {
                self.children(&children, prefix, mode, width.saturating_sub(3))
            }
            _ => self.children(&children, prefix, mode, 0),
        }
    }
}

fn collapse_whitespace(s: &str) -> String {
    let mut out = String::new();
    let mut in_ws = false;
    for c in s.chars() {
        if c.is_whitespace() {
            if !in_ws {
                out.push(' ');
            }
            in_ws = true;
        } else {
            out.push(c);
            in_ws = false;
        }
    }
    out
}

/// pyang's leafref path shortening: a prefix is dropped while it equals the current one.
fn compact_path(path: &str, own_prefix: &str) -> String {
    let mut cur = own_prefix.to_string();
    let pieces: Vec<String> = path
        .split('/')
        .map(|piece| match piece.split_once(':') {
            None => piece.to_string(),
            Some((pfx, rest)) => {
                if pfx == cur {
                    rest.to_string()
                } else {
                    cur = pfx.to_string();
                    piece.to_string()
                }
            }
        })
        .collect();
    pieces.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacts_like_pyang() {
        assert_eq!(
            compact_path(
                "/nw:networks/nw:network[nw:network-id=current()/../network-ref]/nw:link/nw:link-id",
                "nt"
            ),
            "/nw:networks/network[nw:network-id=current()/../network-ref]/link/link-id"
        );
        assert_eq!(
            compact_path("/if:interfaces/if:interface/lne:bind-lne-name", "lne"),
            "/if:interfaces/interface/lne:bind-lne-name"
        );
        assert_eq!(
            compact_path("deref(../a:x)/../a:x", "a"),
            "deref(../x)/../x"
        );
        assert_eq!(collapse_whitespace("  x   y "), " x y ");
    }
}
