//! Operational state of a list as a table of rows ([`RowTable`]): each entry's leaves as
//! canonical text in one buffer, in key order. A state source that holds its entries as typed
//! records (the monitor groups' status) fills one without making a data node per entry; the
//! JSON overlay ([`super::json::encode_overlay_rows`]) reads the rows directly, and
//! [`lay_rows`] makes them data nodes for every other reader (the merge, XML, filters).
//!
//! A table is of a list whose ancestors are containers only (one instance of its parent), with
//! leaf columns; the list must be `ordered-by system` (its order is its keys').

use std::cmp::Ordering;
use std::fmt::{Display, Write};
use std::sync::{Arc, OnceLock};

use super::{compare_values, module_for_prefix, Children, DataError, DataNode, DataTree, ErrorTag};
use crate::schema::{ModuleId, NodeId, NodeKind, Schema};

/// No value in this cell.
const ABSENT: (u32, u32) = (u32::MAX, u32::MAX);

/// The rows of one list: see the module documentation.
#[derive(Debug, Clone)]
pub struct RowTable {
    list: NodeId,
    /// Leaf children of the list, in schema order.
    columns: Vec<NodeId>,
    /// The column of each key of the list, in the list's key order.
    keys: Vec<usize>,
    /// The list's ancestors, the top-level container first; the last is its parent.
    chain: Vec<NodeId>,
    text: String,
    /// Row-major: `(start, end)` in `text` of each row's cells, [`ABSENT`] where none.
    cells: Vec<(u32, u32)>,
    /// The rows as list entries, made on the first [`RowTable::entries`] (a table kept
    /// between reads gives every reader that needs nodes the same ones).
    nodes: OnceLock<Vec<Arc<DataNode>>>,
}

impl RowTable {
    /// A table of `list` with the leaves `columns` (by name, in any order; the keys among them).
    pub fn builder<'s>(
        schema: &'s Schema,
        list: NodeId,
        columns: &[&str],
    ) -> Result<RowTableBuilder<'s>, DataError> {
        let bad = |m: String| DataError::new(ErrorTag::UnknownElement, m);
        let ln = schema.node(list);
        if ln.kind != NodeKind::List || ln.ordered_by_user {
            return Err(bad(format!(
                "'{}' is not a list ordered by the system",
                ln.name
            )));
        }
        let mut chain = Vec::new();
        let mut up = ln.parent;
        while let Some(p) = up {
            let pn = schema.node(p);
            if pn.kind != NodeKind::Container {
                return Err(bad(format!("'{}' is not under containers only", ln.name)));
            }
            chain.push(p);
            up = pn.parent;
        }
        if chain.is_empty() {
            return Err(bad(format!("'{}' is a top-level list", ln.name)));
        }
        chain.reverse();
        let ns = schema.namespace_of(list);
        let mut cols = Vec::with_capacity(columns.len());
        for name in columns {
            let id = schema
                .find_child(Some(list), ns, name)
                .filter(|&id| schema.node(id).kind == NodeKind::Leaf)
                .ok_or_else(|| bad(format!("no leaf '{name}' in '{}'", ln.name)))?;
            cols.push((*name, id));
        }
        // The caller names its columns in its own order; the table keeps schema order.
        let mut order: Vec<usize> = (0..cols.len()).collect();
        order.sort_by_key(|&i| schema.order(cols[i].1));
        if order.windows(2).any(|w| cols[w[0]].1 == cols[w[1]].1) {
            return Err(bad(format!("a column of '{}' twice", ln.name)));
        }
        let columns: Vec<NodeId> = order.iter().map(|&i| cols[i].1).collect();
        let keys = ln
            .keys
            .iter()
            .map(|k| {
                columns
                    .iter()
                    .position(|c| c == k)
                    .ok_or_else(|| bad(format!("no column for key '{}'", schema.node(*k).name)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Where the caller's column i went.
        let mut slot = vec![0; cols.len()];
        for (at, &i) in order.iter().enumerate() {
            slot[i] = at;
        }
        Ok(RowTableBuilder {
            schema,
            table: RowTable {
                list,
                columns,
                keys,
                chain,
                text: String::new(),
                cells: Vec::new(),
                nodes: OnceLock::new(),
            },
            slot,
            raw: String::new(),
        })
    }

    /// The list the rows are entries of.
    pub fn list(&self) -> NodeId {
        self.list
    }

    /// The list's parent container.
    pub fn parent(&self) -> NodeId {
        *self.chain.last().expect("a table's list has a parent")
    }

    /// The list's ancestors, the top-level container first.
    pub fn chain(&self) -> &[NodeId] {
        &self.chain
    }

    pub fn columns(&self) -> &[NodeId] {
        &self.columns
    }

    pub fn len(&self) -> usize {
        self.cells.len() / self.columns.len().max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The value of row `row` in column `col` (an index into [`RowTable::columns`]).
    pub fn cell(&self, row: usize, col: usize) -> Option<&str> {
        let (a, b) = self.cells[row * self.columns.len() + col];
        (a != u32::MAX).then(|| &self.text[a as usize..b as usize])
    }

    /// The value of the list's `i`th key in row `row`.
    pub(crate) fn key(&self, row: usize, i: usize) -> &str {
        self.cell(row, self.keys[i]).unwrap_or("")
    }

    /// Row `row` as a list entry.
    pub fn entry(&self, row: usize) -> DataNode {
        let mut kids = Vec::with_capacity(self.columns.len());
        for (c, &id) in self.columns.iter().enumerate() {
            if let Some(v) = self.cell(row, c) {
                kids.push(Arc::new(DataNode::leaf(id, v)));
            }
        }
        let mut e = DataNode::inner(self.list);
        e.children = Children::from(kids);
        e
    }

    /// The rows as list entries, in order.
    pub fn entries(&self) -> Vec<Arc<DataNode>> {
        self.nodes
            .get_or_init(|| (0..self.len()).map(|r| Arc::new(self.entry(r))).collect())
            .clone()
    }

    /// The order of row `a` and row `b` by keys.
    fn row_order(&self, a: usize, b: usize) -> Ordering {
        for i in 0..self.keys.len() {
            match compare_values(self.key(a, i), self.key(b, i)) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        Ordering::Equal
    }
}

/// Tables are equal when their rows are (whether their nodes were made yet or not).
impl PartialEq for RowTable {
    fn eq(&self, other: &RowTable) -> bool {
        self.list == other.list
            && self.columns == other.columns
            && self.len() == other.len()
            && (0..self.len())
                .all(|r| (0..self.columns.len()).all(|c| self.cell(r, c) == other.cell(r, c)))
    }
}

impl Eq for RowTable {}

/// Fills a [`RowTable`] row by row: [`RowTableBuilder::row`], then its cells.
pub struct RowTableBuilder<'s> {
    schema: &'s Schema,
    table: RowTable,
    /// The table's column of each of the caller's.
    slot: Vec<usize>,
    raw: String,
}

impl RowTableBuilder<'_> {
    /// Start a row (its cells empty until set).
    pub fn row(&mut self) -> &mut Self {
        let n = self.table.columns.len();
        self.table.cells.extend(std::iter::repeat_n(ABSENT, n));
        self
    }

    /// Set column `col` (the caller's index) of the row last started. The value is written as
    /// in XML and made canonical by its type, as [`super::NodeBuilder::leaf`] does.
    pub fn cell(&mut self, col: usize, value: impl Display) -> Result<&mut Self, DataError> {
        let n = self.table.columns.len();
        let row =
            self.table.cells.len().checked_sub(n).ok_or_else(|| {
                DataError::new(ErrorTag::OperationFailed, "a cell before any row")
            })?;
        let c = self.slot[col];
        let id = self.table.columns[c];
        let sn = self.schema.node(id);
        self.raw.clear();
        let _ = write!(self.raw, "{value}");
        let start = self.table.text.len();
        match &sn.ty {
            None => self.table.text.push_str(&self.raw),
            Some(ty) => {
                let schema = self.schema;
                let resolver = |p: &str| -> Option<ModuleId> {
                    schema
                        .module_by_name(p)
                        .or_else(|| module_for_prefix(schema, p))
                };
                let v = ty
                    .canonical(schema, &self.raw, &resolver, Some(sn.module))
                    .map_err(|e| {
                        DataError::new(
                            ErrorTag::InvalidValue,
                            format!("invalid value for '{}': {}", sn.name, e.message),
                        )
                        .bad_element(&sn.name)
                    })?;
                self.table.text.push_str(&v);
            }
        }
        self.table.cells[row + c] = (start as u32, self.table.text.len() as u32);
        Ok(self)
    }

    /// The table, its rows sorted by key. An error for a row without a key or two rows with
    /// the same keys.
    pub fn finish(self) -> Result<RowTable, DataError> {
        let mut t = self.table;
        let name = &self.schema.node(t.list).name;
        for r in 0..t.len() {
            if t.keys.iter().any(|&k| t.cell(r, k).is_none()) {
                return Err(DataError::new(
                    ErrorTag::MissingElement,
                    format!("an entry of '{name}' without its key"),
                ));
            }
        }
        let sorted = (1..t.len()).all(|r| t.row_order(r - 1, r) == Ordering::Less);
        if !sorted {
            let mut order: Vec<usize> = (0..t.len()).collect();
            order.sort_by(|&a, &b| t.row_order(a, b));
            if order
                .windows(2)
                .any(|w| t.row_order(w[0], w[1]) == Ordering::Equal)
            {
                return Err(DataError::new(
                    ErrorTag::DataExists,
                    format!("two entries of '{name}' with the same keys"),
                ));
            }
            let n = t.columns.len();
            let mut cells = Vec::with_capacity(t.cells.len());
            for r in order {
                cells.extend_from_slice(&t.cells[r * n..(r + 1) * n]);
            }
            t.cells = cells;
        }
        Ok(t)
    }
}

/// Data with some lists as tables of rows: the tree holds the containers above each table's
/// list, not its entries.
#[derive(Debug, Clone, Default)]
pub struct TreeWithRows {
    pub tree: DataTree,
    pub tables: Vec<Arc<RowTable>>,
}

impl TreeWithRows {
    /// The rows laid into the tree as list entries ([`lay_rows`]): all of it as one tree.
    pub fn laid(self, schema: &Schema) -> DataTree {
        let mut tree = self.tree;
        let tables: Vec<&RowTable> = self.tables.iter().map(|t| &**t).collect();
        lay_rows(schema, &mut tree, &tables);
        tree
    }

    /// The tables of lists below the top-level node `top`.
    pub fn tables_under(&self, top: NodeId) -> Vec<&RowTable> {
        self.tables
            .iter()
            .filter(|t| t.chain().first() == Some(&top))
            .map(|t| &**t)
            .collect()
    }
}

/// Lay the rows of `tables` into `tree` as list entries (with the containers above them), as
/// merging the same entries as data nodes would.
pub fn lay_rows(schema: &Schema, tree: &mut DataTree, tables: &[&RowTable]) {
    for t in tables.iter().filter(|t| !t.is_empty()) {
        let mut node = DataNode::inner(t.parent());
        node.children = Children::from(t.entries());
        for &up in t.chain.iter().rev().skip(1) {
            let mut outer = DataNode::inner(up);
            outer.children = Children::from(vec![Arc::new(node)]);
            node = outer;
        }
        super::merge(
            schema,
            tree,
            DataTree {
                roots: vec![Arc::new(node)],
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SchemaBuilder;

    const MG: &str = "urn:ne-agent:yang:ne-monitor-group";

    fn schema() -> Schema {
        SchemaBuilder::new().embedded().build().unwrap()
    }

    fn list(s: &Schema) -> NodeId {
        let top = s.find_child(None, MG, "monitor-groups").unwrap();
        s.find_child(Some(top), MG, "monitor-group").unwrap()
    }

    #[test]
    fn rows_are_sorted_by_key_and_laid_as_the_decoded_entries() {
        let s = schema();
        let mut b = RowTable::builder(&s, list(&s), &["failure-ratio", "name"]).unwrap();
        for (name, ratio) in [("g10", "050"), ("g9", "7"), ("10", "0")] {
            b.row().cell(1, name).unwrap().cell(0, ratio).unwrap();
        }
        let t = b.finish().unwrap();
        // Numbers before names, then by name; values canonical; columns in schema order.
        assert_eq!(t.cell(0, 0), Some("10"));
        assert_eq!((t.cell(1, 0), t.cell(1, 1)), (Some("g10"), Some("50")));
        assert_eq!(t.cell(2, 0), Some("g9"));
        let mut laid = DataTree::default();
        lay_rows(&s, &mut laid, &[&t]);
        // The nodes are made once and shared by every later reader.
        assert!(Arc::ptr_eq(&t.entries()[0], &t.entries()[0]));
        let mut again = DataTree::default();
        lay_rows(&s, &mut again, &[&t]);
        assert_eq!(again, laid);
        assert_eq!(t, t.clone());
        let mut xml = format!("<monitor-groups xmlns=\"{MG}\">");
        for (n, r) in [("g9", 7), ("10", 0), ("g10", 50)] {
            xml.push_str(&format!(
                "<monitor-group><name>{n}</name><failure-ratio>{r}</failure-ratio></monitor-group>"
            ));
        }
        xml.push_str("</monitor-groups>");
        let want = crate::data::decode(&s, &xml, crate::data::DecodeOptions { config_only: false })
            .unwrap();
        assert_eq!(laid, want);
    }

    #[test]
    fn a_bad_value_a_missing_key_and_a_key_twice_are_errors() {
        let s = schema();
        let mut b = RowTable::builder(&s, list(&s), &["name", "failure-ratio"]).unwrap();
        b.row().cell(0, "g").unwrap();
        assert!(b.cell(1, 101).is_err());
        let mut b = RowTable::builder(&s, list(&s), &["name", "failure-ratio"]).unwrap();
        b.row().cell(1, 1).unwrap();
        assert!(b.finish().is_err());
        let mut b = RowTable::builder(&s, list(&s), &["name"]).unwrap();
        b.row().cell(0, "g").unwrap();
        b.row().cell(0, "a").unwrap();
        b.row().cell(0, "g").unwrap();
        assert!(b.finish().is_err());
        assert!(RowTable::builder(&s, list(&s), &["nonsense"]).is_err());
        assert!(RowTable::builder(&s, list(&s), &["failure-ratio"]).is_err());
    }
}
