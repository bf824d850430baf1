//! The monitor groups' state as typed rows: the protocol thread copies each group's status
//! (no text), and keeps the copy while nothing it shows changes, so a read of 10,000 groups
//! costs the protocol thread a reference count; the requester turns new rows into a table of
//! the list (`yang::data::RowTable`) once and reads that until the rows change again.

use std::sync::Arc;

use yang::data::{DataError, RowTable};
use yang::Schema;

use super::{At, Sources, Stamps, WallAnchor, MON_NS};

/// One monitor group's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorRow {
    pub name: String,
    pub failure_ratio: u8,
    /// The configured `enabled` (the state's `monitoring`).
    pub enabled: bool,
    pub down_interfaces: u16,
    /// Wall-clock ms of the last change of the failure ratio.
    pub last_change_ms: u64,
}

/// Every evaluated group's row, in the monitors table's (name) order.
#[derive(Debug, PartialEq, Eq)]
pub struct MonitorRows(pub Vec<MonitorRow>);

/// What the rows last copied were copied from: while it is the same, so are they.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    monitors: u64,
    cfg: u64,
    wall: WallAnchor,
}

/// The protocol thread's last rows and what they were made from.
#[derive(Default)]
pub struct Memo {
    last: Option<(Seen, Arc<MonitorRows>)>,
}

impl Memo {
    /// The rows as the groups are now: the last ones if nothing they show has changed.
    pub fn rows(&mut self, s: &Sources<'_>, at: At) -> Arc<MonitorRows> {
        let seen = Seen {
            monitors: s.hb.monitors.generation(),
            cfg: s.cfg_version,
            wall: at.wall,
        };
        self.get(seen, || copy(s, at))
    }

    fn get(&mut self, seen: Seen, copy: impl FnOnce() -> MonitorRows) -> Arc<MonitorRows> {
        match &self.last {
            Some((was, rows)) if *was == seen => Arc::clone(rows),
            _ => {
                let rows = Arc::new(copy());
                self.last = Some((seen, Arc::clone(&rows)));
                rows
            }
        }
    }
}

/// The rows, copied.
pub fn copy(s: &Sources<'_>, at: At) -> MonitorRows {
    let rows =
        s.hb.monitors
            .iter()
            .map(|(name, m)| MonitorRow {
                name: name.clone(),
                failure_ratio: m.ratio,
                enabled: s.cfg.monitor_groups.get(name).is_some_and(|g| g.enabled),
                down_interfaces: m.down,
                last_change_ms: at.wall(m.changed_at),
            })
            .collect();
    MonitorRows(rows)
}

/// The requester's table of the last rows it was given.
#[derive(Default)]
pub struct TableCache {
    last: Option<(Arc<MonitorRows>, Arc<RowTable>)>,
}

impl TableCache {
    /// The table of `rows`: the last one made if they are the same rows (the protocol thread
    /// hands over the same `Arc` while nothing changed; equal rows count too).
    pub fn table(
        &mut self,
        schema: &Schema,
        rows: Arc<MonitorRows>,
    ) -> Result<Arc<RowTable>, DataError> {
        if let Some((was, table)) = &self.last {
            if Arc::ptr_eq(was, &rows) || **was == *rows {
                return Ok(Arc::clone(table));
            }
        }
        let table = Arc::new(table(schema, &rows)?);
        self.last = Some((rows, Arc::clone(&table)));
        Ok(table)
    }
}

/// `ne-monitor-group`'s `monitor-group` entries of the rows.
pub fn table(schema: &Schema, rows: &MonitorRows) -> Result<RowTable, DataError> {
    let missing = || {
        DataError::new(
            yang::data::ErrorTag::UnknownElement,
            "no monitor-groups/monitor-group in the schema",
        )
    };
    let top = schema
        .find_child(None, MON_NS, "monitor-groups")
        .ok_or_else(missing)?;
    let list = schema
        .find_child(Some(top), MON_NS, "monitor-group")
        .ok_or_else(missing)?;
    const COLUMNS: [&str; 5] = [
        "name",
        "failure-ratio",
        "monitoring",
        "down-interfaces",
        "last-change",
    ];
    let mut b = RowTable::builder(schema, list, &COLUMNS)?;
    let mut stamps = Stamps::default();
    for r in &rows.0 {
        b.row()
            .cell(0, &r.name)?
            .cell(1, r.failure_ratio)?
            .cell(2, if r.enabled { "enabled" } else { "disabled" })?
            .cell(3, r.down_interfaces)?
            .cell(4, stamps.of(r.last_change_ms))?;
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::super::build::{self, Node};
    use super::*;
    use yang::data::{lay_rows, DataTree};

    fn schema() -> Schema {
        yang::SchemaBuilder::new()
            .embedded()
            .build()
            .expect("embedded models compile")
    }

    fn row(name: &str, ratio: u8, enabled: bool, down: u16, ms: u64) -> MonitorRow {
        MonitorRow {
            name: name.to_string(),
            failure_ratio: ratio,
            enabled,
            down_interfaces: down,
            last_change_ms: ms,
        }
    }

    /// What the state was before the rows: a snapshot of text nodes built into a tree.
    fn as_nodes(schema: &Schema, rows: &MonitorRows) -> DataTree {
        let mut root = Node::root(MON_NS, "monitor-groups");
        for r in &rows.0 {
            root.add("monitor-group")
                .leaf("name", &r.name)
                .leaf("failure-ratio", r.failure_ratio)
                .leaf("monitoring", if r.enabled { "enabled" } else { "disabled" })
                .leaf("down-interfaces", r.down_interfaces)
                .leaf("last-change", crate::clock::rfc3339(r.last_change_ms));
        }
        build::tree(schema, vec![root])
    }

    #[test]
    fn the_table_lays_as_the_text_snapshot_built() {
        let s = schema();
        // In the monitors table's order (by bytes), which is not the data's (numbers first).
        let rows = MonitorRows(vec![
            row("10", 0, false, 0, 1_765_000_000_000),
            row("9", 100, true, 2, 1_765_000_000_123),
            row("a&b<c>\"d", 33, true, 1, 1_765_000_000_123),
            row("g10", 50, true, 1, 1_765_000_001_999),
            row("g9", 0, true, 0, 1_765_000_001_999),
        ]);
        let table = table(&s, &rows).expect("rows fit the model");
        let mut laid = DataTree::default();
        lay_rows(&s, &mut laid, &[&table]);
        assert_eq!(laid, as_nodes(&s, &rows));
        // A value the model refuses is an error, not a table.
        let bad = MonitorRows(vec![row("g", 101, true, 0, 0)]);
        assert!(super::table(&s, &bad).is_err());
    }

    #[test]
    fn rows_are_copied_again_only_when_what_they_show_changed() {
        let wall = WallAnchor::new();
        let seen = Seen {
            monitors: 1,
            cfg: 1,
            wall,
        };
        let mut memo = Memo::default();
        let mut copies = 0;
        let mut copy = || {
            copies += 1;
            MonitorRows(vec![row("g", copies, true, 0, 0)])
        };
        let first = memo.get(seen, &mut copy);
        let again = memo.get(seen, &mut copy);
        assert!(Arc::ptr_eq(&first, &again));
        let monitors = memo.get(
            Seen {
                monitors: 2,
                ..seen
            },
            &mut copy,
        );
        let cfg = memo.get(
            Seen {
                monitors: 2,
                cfg: 2,
                ..seen
            },
            &mut copy,
        );
        assert!(!Arc::ptr_eq(&first, &monitors) && !Arc::ptr_eq(&monitors, &cfg));
        assert_eq!(cfg.0[0].failure_ratio, 3);

        // The requester's table follows the rows.
        let s = schema();
        let mut cache = TableCache::default();
        let t1 = cache.table(&s, Arc::clone(&first)).unwrap();
        let t2 = cache.table(&s, first).unwrap();
        assert!(Arc::ptr_eq(&t1, &t2));
        let t3 = cache.table(&s, Arc::clone(&cfg)).unwrap();
        assert!(!Arc::ptr_eq(&t1, &t3));
        assert_eq!(t3.cell(0, 1), Some("3"));
        // Equal rows in a new Arc: the same table.
        let same = Arc::new(MonitorRows(cfg.0.clone()));
        assert!(Arc::ptr_eq(&t3, &cache.table(&s, same).unwrap()));
    }
}
