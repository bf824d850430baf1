//! Property test of the JSON encoder's overlay (`json::encode_overlay`, the GET-with-state fast
//! path): for random configurations (with their schema defaults) and random state laid over
//! them, it writes byte for byte what merging (`data::merge`) and then encoding writes, in every
//! with-defaults view and with or without state, for the whole tree and for each top-level
//! node alone. The state holds entries of the configuration, entries of its own, and the
//! configuration misses some of its entries; names need escaping in XML and JSON.

mod support;

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use proptest::test_runner::Config;

use yang::data::{
    self, json, DataNode, DataTree, DecodeOptions, EncodeOptions, RowTable, WithDefaults,
};
use yang::{Schema, SchemaBuilder};

use support::confgen::{config, render, write, Conf, Rng};

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        SchemaBuilder::new()
            .embedded()
            .build()
            .expect("embedded models compile")
    })
}

const ALL: DecodeOptions = DecodeOptions { config_only: false };

fn decode(xml: &str) -> Result<DataTree, TestCaseError> {
    data::decode(schema(), xml, ALL)
        .map_err(|e| TestCaseError::fail(format!("XML decode failed: {e}\n{xml}")))
}

const VIEWS: [WithDefaults; 4] = [
    WithDefaults::Explicit,
    WithDefaults::ReportAll,
    WithDefaults::ReportAllTagged,
    WithDefaults::Trim,
];

/// The overlay of `add` on `base` against merge-then-encode, in every view.
fn same_as_merged(base: &[Arc<DataNode>], add: &[Arc<DataNode>]) -> Result<(), TestCaseError> {
    let s = schema();
    let mut merged = DataTree {
        roots: base.to_vec(),
    };
    data::merge(
        s,
        &mut merged,
        DataTree {
            roots: add.to_vec(),
        },
    );
    for with_defaults in VIEWS {
        for config_only in [false, true] {
            let opts = EncodeOptions {
                with_defaults,
                config_only,
            };
            let mut want = String::new();
            json::encode_nodes(s, &merged.roots, None, opts, &mut want);
            let mut got = String::from("prefix");
            let laid = json::encode_overlay(s, base, add, None, opts, &mut got);
            prop_assert!(laid, "the overlay gave up on sorted trees");
            prop_assert_eq!(&got["prefix".len()..], want.as_str(), "{:?}", opts);
        }
    }
    Ok(())
}

/// `c` without some of its interfaces and monitor groups, with those of `other` added.
fn state_of(c: &Conf, other: &Conf, drop: u64) -> Conf {
    let mut st = c.clone();
    let mut bit = 0;
    st.ifaces.retain(|_, _| {
        bit += 1;
        drop >> (bit % 64) & 1 == 0
    });
    st.groups.retain(|_, _| {
        bit += 1;
        drop >> (bit % 64) & 1 == 0
    });
    for (k, v) in &other.ifaces {
        st.ifaces.entry(k.clone()).or_insert_with(|| v.clone());
    }
    for (k, v) in &other.groups {
        st.groups.entry(k.clone()).or_insert_with(|| v.clone());
    }
    st
}

fn check(c: &Conf, other: &Conf, drop: u64, seed: u64) -> Result<(), TestCaseError> {
    let s = schema();
    let mut base = decode(&write(&render(c, false), &mut Some(Rng(seed | 1))))?;
    data::add_defaults(s, &mut base);
    let add = decode(&write(
        &render(&state_of(c, other, drop), true),
        &mut Some(Rng(seed.rotate_left(7) | 1)),
    ))?;
    same_as_merged(&base.roots, &add.roots)?;
    // Each top-level node as a resource: the node of each tree that has it.
    let ids: std::collections::BTreeSet<_> = base
        .roots
        .iter()
        .chain(&add.roots)
        .map(|n| n.schema)
        .collect();
    for id in ids {
        same_as_merged(base.instances(s, id), add.instances(s, id))?;
    }
    Ok(())
}

const MG: &str = "urn:ne-agent:yang:ne-monitor-group";

/// The columns of the monitor groups' rows, as the agent fills them.
const COLUMNS: [&str; 6] = [
    "name",
    "enabled",
    "failure-ratio",
    "monitoring",
    "down-interfaces",
    "last-change",
];

/// The monitor groups of `add` as rows (their names and `enabled`, and state leaves made up
/// from `seed`, some missing) with `add` left holding an empty `monitor-groups`; and the same
/// state as data nodes, decoded from XML. None without monitor groups.
fn as_rows(add: &DataTree, seed: u64) -> Option<(DataTree, RowTable, DataTree)> {
    let s = schema();
    let top = s.find_child(None, MG, "monitor-groups")?;
    let list = s.find_child(Some(top), MG, "monitor-group")?;
    let at = add.roots.iter().position(|n| n.schema == top)?;
    let entries: Vec<Arc<DataNode>> = add.roots[at].children.to_vec();
    let mut rows = RowTable::builder(s, list, &COLUMNS).expect("columns of the model");
    let mut xml = format!("<monitor-groups xmlns=\"{MG}\">");
    for (i, e) in entries.iter().enumerate() {
        let leaf = |name: &str| {
            e.children
                .iter()
                .find(|c| s.node(c.schema).name == name)
                .and_then(|c| c.value.clone())
        };
        let h = seed.rotate_left(i as u32 * 7) ^ i as u64;
        let made = [
            leaf("name"),
            leaf("enabled"),
            (h % 5 != 0).then(|| (h % 101).to_string()),
            (h % 7 != 0).then(|| if h % 2 == 0 { "enabled" } else { "disabled" }.to_string()),
            (h % 3 != 0).then(|| (h % 40).to_string()),
            (h % 4 != 0).then(|| format!("2026-12-07T19:{:02}:00.{:03}Z", h % 60, h % 1000)),
        ];
        rows.row();
        xml.push_str("<monitor-group>");
        for (c, v) in made.iter().enumerate() {
            if let Some(v) = v {
                rows.cell(c, v).expect("a value of the model");
                let name = COLUMNS[c];
                xml.push_str(&format!("<{name}>{}</{name}>", yang::xml::escape_text(v)));
            }
        }
        xml.push_str("</monitor-group>");
    }
    xml.push_str("</monitor-groups>");
    let table = rows.finish().expect("names are unique");
    let mut rest = add.clone();
    Arc::make_mut(&mut rest.roots[at]).children = Default::default();
    let mut nodes = rest.clone();
    data::merge(
        s,
        &mut nodes,
        data::decode(s, &xml, ALL).expect("rows as XML decode"),
    );
    Some((rest, table, nodes))
}

/// The overlay of `add` with the rows of `table` on `base` against merging the same state as
/// data nodes (`nodes`) and encoding, in every view; and the rows laid as nodes
/// (`data::lay_rows`) are those nodes.
fn rows_same_as_merged(
    base: &[Arc<DataNode>],
    add: &[Arc<DataNode>],
    table: &RowTable,
    nodes: &[Arc<DataNode>],
) -> Result<(), TestCaseError> {
    let s = schema();
    let mut laid = DataTree {
        roots: add.to_vec(),
    };
    data::lay_rows(s, &mut laid, &[table]);
    prop_assert_eq!(&laid.roots[..], nodes, "rows laid as nodes");
    let mut merged = DataTree {
        roots: base.to_vec(),
    };
    data::merge(
        s,
        &mut merged,
        DataTree {
            roots: nodes.to_vec(),
        },
    );
    for with_defaults in VIEWS {
        for config_only in [false, true] {
            let opts = EncodeOptions {
                with_defaults,
                config_only,
            };
            let mut want = String::new();
            json::encode_nodes(s, &merged.roots, None, opts, &mut want);
            let mut got = String::from("prefix");
            let laid = json::encode_overlay_rows(s, base, add, &[table], None, opts, &mut got);
            prop_assert!(laid, "the overlay gave up on rows");
            prop_assert_eq!(&got["prefix".len()..], want.as_str(), "{:?}", opts);
        }
    }
    Ok(())
}

fn check_rows(c: &Conf, other: &Conf, drop: u64, seed: u64) -> Result<(), TestCaseError> {
    let s = schema();
    let mut base = decode(&write(&render(c, false), &mut Some(Rng(seed | 1))))?;
    data::add_defaults(s, &mut base);
    let add = decode(&write(
        &render(&state_of(c, other, drop), true),
        &mut Some(Rng(seed.rotate_left(7) | 1)),
    ))?;
    let Some((rest, table, nodes)) = as_rows(&add, seed) else {
        return Ok(());
    };
    rows_same_as_merged(&base.roots, &rest.roots, &table, &nodes.roots)?;
    // The monitor groups alone, as a resource.
    let top = table.chain()[0];
    rows_same_as_merged(
        base.instances(s, top),
        rest.instances(s, top),
        &table,
        nodes.instances(s, top),
    )
}

proptest! {
    #![proptest_config(Config { cases: 96, ..Config::default() })]

    /// State whose monitor groups are rows: the same bytes as the rows as nodes merged.
    #[test]
    fn the_overlay_with_rows_writes_what_the_merged_tree_encodes(
        c in config(),
        other in config(),
        drop in any::<u64>(),
        seed in any::<u64>(),
    ) {
        check_rows(&c, &other, drop, seed)?;
    }

    #[test]
    fn the_overlay_writes_what_the_merged_tree_encodes(
        c in config(),
        other in config(),
        drop in any::<u64>(),
        seed in any::<u64>(),
    ) {
        check(&c, &other, drop, seed)?;
    }
}

/// 2,000 monitor groups of configuration (with defaults) and the state of most of them and of
/// some others, as the engines report it: what a GET with state shows.
#[test]
fn a_long_list_with_state_on_most_entries() {
    let s = schema();
    const MG: &str = "urn:ne-agent:yang:ne-monitor-group";
    let mut cfg = format!("<monitor-groups xmlns=\"{MG}\">");
    let mut st = cfg.clone();
    for i in 0..2000 {
        cfg.push_str(&format!(
            "<monitor-group><name>mg{i}&amp;&quot;\\</name><enabled>{}</enabled></monitor-group>",
            i % 3 == 0
        ));
    }
    for i in (0..2100).filter(|i| i % 11 != 0) {
        st.push_str(&format!(
            "<monitor-group><name>mg{i}&amp;&quot;\\</name><failure-ratio>{}</failure-ratio>\
             <monitoring>enabled</monitoring><down-interfaces>0</down-interfaces>\
             <last-change>2026-12-07T16:00:00.{:03}Z</last-change></monitor-group>",
            i % 101,
            i % 1000
        ));
    }
    cfg.push_str("</monitor-groups>");
    st.push_str("</monitor-groups>");
    let mut base = data::decode(s, &cfg, ALL).unwrap();
    data::add_defaults(s, &mut base);
    let add = data::decode(s, &st, ALL).unwrap();
    same_as_merged(&base.roots, &add.roots).unwrap();
}

/// Entries of a list ordered by the user are merged node by node, which the overlay does not
/// follow: it says so and writes nothing.
#[test]
fn a_list_ordered_by_the_user_is_left_to_the_merge() {
    let s = schema();
    const NACM: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-acm";
    let tree = |names: &[&str]| {
        let mut x = format!("<nacm xmlns=\"{NACM}\">");
        for n in names {
            x.push_str(&format!("<rule-list><name>{n}</name></rule-list>"));
        }
        x.push_str("</nacm>");
        data::decode(s, &x, ALL).unwrap()
    };
    let base = tree(&["b", "a"]);
    let add = tree(&["a", "c"]);
    let mut out = String::from("kept");
    let opts = EncodeOptions::default();
    assert!(!json::encode_overlay(
        s,
        &base.roots,
        &add.roots,
        None,
        opts,
        &mut out
    ));
    assert_eq!(out, "kept");
}
