//! Long lists (held in shared chunks, see `yang::data::Children`) behave as short ones: random
//! edits through `apply_edit` give the tree a plain model predicts, and the diff of two versions
//! that share most chunks equals the diff of fresh copies that share nothing.

use std::collections::BTreeMap;

use proptest::prelude::*;
use yang::data::{self, apply_edit, DataTree, DecodeOptions, EditOp, EncodeOptions, WithDefaults};
use yang::diff::diff;
use yang::validate::{validate, validate_changes, ValidateOptions};
use yang::{Schema, SchemaBuilder};

const MG: &str = "urn:ne-agent:yang:ne-monitor-group";

fn schema() -> &'static Schema {
    static S: std::sync::OnceLock<Schema> = std::sync::OnceLock::new();
    S.get_or_init(|| SchemaBuilder::new().embedded().build().unwrap())
}

fn edit(s: &Schema, tree: &mut DataTree, xml: &str) {
    let els = yang::xml::parse_fragment(xml).unwrap();
    apply_edit(s, tree, &els, EditOp::Merge).unwrap_or_else(|e| panic!("{e}: {xml}"));
}

fn all(s: &Schema, t: &DataTree) -> String {
    data::encode(
        s,
        t,
        EncodeOptions {
            with_defaults: WithDefaults::ReportAll,
            config_only: false,
        },
    )
}

/// A copy that shares no node with `t`.
fn fresh(s: &Schema, t: &DataTree) -> DataTree {
    let xml = data::encode(s, t, EncodeOptions::default());
    let mut f = data::decode(s, &xml, DecodeOptions { config_only: true }).unwrap();
    data::add_defaults(s, &mut f);
    f
}

/// The configuration the model describes: group name -> enabled (None: left to the default).
fn model_xml(m: &BTreeMap<u32, Option<bool>>) -> String {
    let mut x = format!(r#"<monitor-groups xmlns="{MG}">"#);
    for (k, e) in m {
        x.push_str(&format!("<monitor-group><name>g{k:05}</name>"));
        if let Some(e) = e {
            x.push_str(&format!("<enabled>{e}</enabled>"));
        }
        x.push_str("</monitor-group>");
    }
    x.push_str("</monitor-groups>");
    x
}

#[derive(Debug, Clone)]
enum Op {
    Enable(usize, bool),
    Create(u32),
    Delete(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<usize>(), any::<bool>()).prop_map(|(i, b)| Op::Enable(i, b)),
        3 => (0u32..2000).prop_map(Op::Create),
        3 => any::<usize>().prop_map(Op::Delete),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn random_edits_of_a_long_list_match_a_model(
        start in 100usize..700,
        ops in proptest::collection::vec(op(), 1..25),
    ) {
        let s = schema();
        let mut m: BTreeMap<u32, Option<bool>> = (0..start as u32).map(|k| (k * 3, None)).collect();
        let mut tree = data::decode(s, &model_xml(&m), DecodeOptions { config_only: true }).unwrap();
        data::add_defaults(s, &mut tree);
        for o in ops {
            let before = tree.clone();
            let xml = match o {
                Op::Enable(i, b) if !m.is_empty() => {
                    let k = *m.keys().nth(i % m.len()).unwrap();
                    m.insert(k, Some(b));
                    format!(r#"<monitor-groups xmlns="{MG}"><monitor-group><name>g{k:05}</name><enabled>{b}</enabled></monitor-group></monitor-groups>"#)
                }
                Op::Create(k) => {
                    m.entry(k).or_insert(None);
                    format!(r#"<monitor-groups xmlns="{MG}"><monitor-group><name>g{k:05}</name></monitor-group></monitor-groups>"#)
                }
                Op::Delete(i) if !m.is_empty() => {
                    let k = *m.keys().nth(i % m.len()).unwrap();
                    m.remove(&k);
                    format!(r#"<monitor-groups xmlns="{MG}" xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><monitor-group nc:operation="delete"><name>g{k:05}</name></monitor-group></monitor-groups>"#)
                }
                _ => continue,
            };
            edit(s, &mut tree, &xml);
            // The tree is the model's.
            let mut expect = data::decode(s, &model_xml(&m), DecodeOptions { config_only: true }).unwrap();
            data::add_defaults(s, &mut expect);
            prop_assert_eq!(all(s, &tree), all(s, &expect));
            prop_assert!(tree == expect, "trees differ in structure");
            // The diff of shared versions is the diff of unshared copies.
            let shared = diff(s, &before, &tree);
            let unshared = diff(s, &fresh(s, &before), &fresh(s, &tree));
            prop_assert_eq!(&shared, &unshared);
            prop_assert!(validate_changes(s, &tree, &shared, ValidateOptions::default()).is_ok());
            // The version before the edit is unchanged.
            let mut was = fresh(s, &before);
            data::add_defaults(s, &mut was);
            prop_assert!(before == was);
        }
        prop_assert!(validate(s, &tree, ValidateOptions::default()).is_ok());
        // Lookups by path reach entries in every chunk.
        for k in m.keys().step_by(37) {
            let path = format!("/mg:monitor-groups/mg:monitor-group[mg:name='g{k:05}']");
            prop_assert!(tree.find(s, &path).is_some(), "{}", path);
        }
    }
}

const ORDERED: &str = r#"module o {
  yang-version 1.1; namespace "urn:o"; prefix o;
  container c {
    list rule { key name; ordered-by user; leaf name { type string; } leaf v { type int32; } }
  }
}"#;

fn names(s: &Schema, t: &DataTree) -> Vec<String> {
    let x = data::encode(s, t, EncodeOptions::default());
    x.split("<name>")
        .skip(1)
        .map(|p| p.split('<').next().unwrap().to_string())
        .collect()
}

#[test]
fn a_long_user_ordered_list_keeps_the_order_given() {
    let s = SchemaBuilder::new()
        .without_embedded()
        .source("o.yang", ORDERED)
        .build()
        .unwrap();
    let mut model: Vec<String> = (0..400).map(|i| format!("r{i}")).collect();
    let body: String = model
        .iter()
        .map(|n| format!("<rule><name>{n}</name></rule>"))
        .collect();
    let mut tree = data::decode(
        &s,
        &format!(r#"<c xmlns="urn:o">{body}</c>"#),
        DecodeOptions { config_only: true },
    )
    .unwrap();
    assert_eq!(names(&s, &tree), model);
    let y = r#"xmlns:yang="urn:ietf:params:xml:ns:yang:1""#;
    type Step = (String, Box<dyn Fn(&mut Vec<String>)>);
    let steps: Vec<Step> = vec![
        (
            format!(
                r#"<c xmlns="urn:o" {y}><rule yang:insert="first"><name>new-first</name></rule></c>"#
            ),
            Box::new(|m: &mut Vec<String>| m.insert(0, "new-first".into())),
        ),
        (
            format!(
                r#"<c xmlns="urn:o" {y}><rule yang:insert="after" yang:key="[name='r200']"><name>after-200</name></rule></c>"#
            ),
            Box::new(|m: &mut Vec<String>| {
                let i = m.iter().position(|n| n == "r200").unwrap();
                m.insert(i + 1, "after-200".into());
            }),
        ),
        (
            format!(
                r#"<c xmlns="urn:o" {y}><rule yang:insert="before" yang:key="[name='r5']"><name>r390</name></rule></c>"#
            ),
            Box::new(|m: &mut Vec<String>| {
                let j = m.iter().position(|n| n == "r390").unwrap();
                let moved = m.remove(j);
                let i = m.iter().position(|n| n == "r5").unwrap();
                m.insert(i, moved);
            }),
        ),
        (
            r#"<c xmlns="urn:o"><rule><name>r300</name><v>7</v></rule></c>"#.to_string(),
            Box::new(|_: &mut Vec<String>| {}),
        ),
    ];
    for (xml, apply) in steps {
        let before = tree.clone();
        edit(&s, &mut tree, &xml);
        apply(&mut model);
        assert_eq!(names(&s, &tree), model, "after {xml}");
        let (a, b) = (
            diff(&s, &before, &tree),
            diff(&s, &fresh(&s, &before), &fresh(&s, &tree)),
        );
        let first = a.iter().zip(&b).position(|(x, y)| x != y);
        assert!(
            a == b,
            "after {xml}: {} vs {} changes, first difference at {first:?}: {:?} / {:?}",
            a.len(),
            b.len(),
            first.map(|i| &a[i]),
            first.map(|i| &b[i])
        );
    }
}
