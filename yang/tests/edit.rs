//! edit-config semantics on data trees (RFC 6241 §7.2), against the project's models.

use std::sync::Arc;

use yang::data::{self, apply_edit, DataTree, EditOp, EncodeOptions, ErrorTag, WithDefaults};
use yang::{Schema, SchemaBuilder};

const IF: &str = r#"xmlns="urn:ne-agent:yang:ne-interfaces""#;
const BFD: &str = r#"xmlns="urn:ne-agent:yang:ne-bfd""#;
const NC: &str = r#"xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0""#;

fn schema() -> Schema {
    SchemaBuilder::new().embedded().build().unwrap()
}

fn edit(s: &Schema, tree: &mut DataTree, xml: &str, op: EditOp) -> Result<(), data::DataError> {
    let els = yang::xml::parse_fragment(xml).unwrap();
    apply_edit(s, tree, &els, op)
}

fn explicit(s: &Schema, t: &DataTree) -> String {
    data::encode(s, t, EncodeOptions::default())
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

fn session(name: &str, disc: u32) -> String {
    format!(
        "<session><name>{name}</name><peer-ip>10.0.{}.{}</peer-ip><local-discriminator>{disc}</local-discriminator></session>",
        disc / 256,
        disc % 256
    )
}

#[test]
fn merge_creates_then_updates() {
    let s = schema();
    let mut t = DataTree::new();
    edit(
        &s,
        &mut t,
        &format!("<bfd {BFD}>{}</bfd>", session("a", 1)),
        EditOp::Merge,
    )
    .unwrap();
    assert!(explicit(&s, &t).contains("<local-discriminator>1</local-discriminator>"));
    assert!(
        all(&s, &t).contains("<detect-multiplier>3</detect-multiplier>"),
        "defaults filled"
    );
    edit(&s, &mut t, &format!("<bfd {BFD}><session><name>a</name><detect-multiplier>5</detect-multiplier></session></bfd>"), EditOp::Merge).unwrap();
    let x = explicit(&s, &t);
    assert!(
        x.contains("<detect-multiplier>5</detect-multiplier>")
            && x.contains("<peer-ip>10.0.0.1</peer-ip>"),
        "{x}"
    );
}

#[test]
fn replace_drops_what_is_not_given() {
    let s = schema();
    let mut t = DataTree::new();
    edit(&s, &mut t, &format!("<bfd {BFD}><session><name>a</name><peer-ip>10.0.0.1</peer-ip><local-discriminator>1</local-discriminator><detect-multiplier>5</detect-multiplier></session></bfd>"), EditOp::Merge).unwrap();
    edit(&s, &mut t, &format!("<bfd {BFD} {NC}><session nc:operation=\"replace\"><name>a</name><peer-ip>10.0.0.9</peer-ip><local-discriminator>1</local-discriminator></session></bfd>"), EditOp::Merge).unwrap();
    let x = explicit(&s, &t);
    assert!(
        !x.contains("detect-multiplier") && x.contains("10.0.0.9"),
        "{x}"
    );
    // default-operation replace: the whole datastore becomes the given content.
    edit(
        &s,
        &mut t,
        &format!("<interfaces {IF}><interface><name>eth0</name></interface></interfaces>"),
        EditOp::Replace,
    )
    .unwrap();
    let x = explicit(&s, &t);
    assert!(
        !x.contains("<bfd") && x.contains("<name>eth0</name>"),
        "{x}"
    );
}

#[test]
fn create_delete_remove_rules() {
    let s = schema();
    let mut t = DataTree::new();
    let create = format!("<bfd {BFD} {NC}><session nc:operation=\"create\"><name>a</name><peer-ip>10.0.0.1</peer-ip><local-discriminator>1</local-discriminator></session></bfd>");
    edit(&s, &mut t, &create, EditOp::Merge).unwrap();
    let e = edit(&s, &mut t, &create, EditOp::Merge).unwrap_err();
    assert_eq!(e.tag, ErrorTag::DataExists);
    assert_eq!(
        e.path.as_deref(),
        Some("/bfd:bfd/bfd:session[bfd:name='a']")
    );
    let delete_b =
        format!("<bfd {BFD} {NC}><session nc:operation=\"delete\"><name>b</name></session></bfd>");
    let e = edit(&s, &mut t, &delete_b, EditOp::Merge).unwrap_err();
    assert_eq!(e.tag, ErrorTag::DataMissing);
    let remove_b = delete_b.replace("\"delete\"", "\"remove\"");
    let before = t.clone();
    edit(&s, &mut t, &remove_b, EditOp::Merge).unwrap();
    assert_eq!(t, before);
    let delete_a =
        format!("<bfd {BFD} {NC}><session nc:operation=\"delete\"><name>a</name></session></bfd>");
    edit(&s, &mut t, &delete_a, EditOp::Merge).unwrap();
    assert!(
        !explicit(&s, &t).contains("<session>"),
        "{}",
        explicit(&s, &t)
    );
}

#[test]
fn deleting_a_defaulted_leaf_restores_the_default() {
    let s = schema();
    let mut t = DataTree::new();
    edit(&s, &mut t, &format!("<bfd {BFD}><session><name>a</name><peer-ip>10.0.0.1</peer-ip><local-discriminator>1</local-discriminator><detect-multiplier>7</detect-multiplier></session></bfd>"), EditOp::Merge).unwrap();
    edit(&s, &mut t, &format!("<bfd {BFD} {NC}><session><name>a</name><detect-multiplier nc:operation=\"delete\"/></session></bfd>"), EditOp::Merge).unwrap();
    assert!(!explicit(&s, &t).contains("detect-multiplier"));
    assert!(all(&s, &t).contains("<detect-multiplier>3</detect-multiplier>"));
    // A default leaf counts as absent: deleting it again is data-missing, creating it works.
    let e = edit(&s, &mut t, &format!("<bfd {BFD} {NC}><session><name>a</name><detect-multiplier nc:operation=\"delete\"/></session></bfd>"), EditOp::Merge).unwrap_err();
    assert_eq!(e.tag, ErrorTag::DataMissing);
    edit(&s, &mut t, &format!("<bfd {BFD} {NC}><session><name>a</name><detect-multiplier nc:operation=\"create\">4</detect-multiplier></session></bfd>"), EditOp::Merge).unwrap();
    assert!(explicit(&s, &t).contains("<detect-multiplier>4</detect-multiplier>"));
}

#[test]
fn default_operation_none_only_navigates() {
    let s = schema();
    let mut t = DataTree::new();
    edit(
        &s,
        &mut t,
        &format!("<bfd {BFD}>{}</bfd>", session("a", 1)),
        EditOp::Merge,
    )
    .unwrap();
    let before = t.clone();
    // Elements without an operation change nothing under default-operation none.
    edit(&s, &mut t, &format!("<bfd {BFD}><session><name>a</name><detect-multiplier>9</detect-multiplier></session></bfd>"), EditOp::None).unwrap();
    assert_eq!(explicit(&s, &t), explicit(&s, &before));
    edit(&s, &mut t, &format!("<bfd {BFD} {NC}><session><name>a</name><detect-multiplier nc:operation=\"merge\">9</detect-multiplier></session></bfd>"), EditOp::None).unwrap();
    assert!(explicit(&s, &t).contains("<detect-multiplier>9</detect-multiplier>"));
}

#[test]
fn failed_edits_change_nothing() {
    let s = schema();
    let mut t = DataTree::new();
    edit(
        &s,
        &mut t,
        &format!("<bfd {BFD}>{}</bfd>", session("a", 1)),
        EditOp::Merge,
    )
    .unwrap();
    let before = t.clone();
    let bad = [
        (format!("<bfd {BFD}>{}<session><name>b</name><detect-multiplier>99</detect-multiplier></session></bfd>", session("c", 3)), ErrorTag::InvalidValue),
        (format!("<bfd {BFD} {NC}><session nc:operation=\"frob\"><name>a</name></session></bfd>"), ErrorTag::BadAttribute),
        (format!("<bfd {BFD}><session><name>a</name><state>up</state></session></bfd>"), ErrorTag::InvalidValue),
        (format!("<bfd {BFD}><session><peer-ip>10.0.0.1</peer-ip></session></bfd>"), ErrorTag::MissingElement),
        (format!("<bfd {BFD}><sessions/></bfd>"), ErrorTag::UnknownElement),
    ];
    for (xml, tag) in bad {
        let e = edit(&s, &mut t, &xml, EditOp::Merge).unwrap_err();
        assert_eq!(e.tag, tag, "{xml}: {e}");
        assert_eq!(t, before, "{xml}");
    }
}

#[test]
fn edits_share_untouched_subtrees() {
    let s = schema();
    let mut t = DataTree::new();
    let many: String = (1..=1000).map(|i| session(&format!("s{i}"), i)).collect();
    edit(
        &s,
        &mut t,
        &format!("<bfd {BFD}>{many}</bfd>"),
        EditOp::Merge,
    )
    .unwrap();
    let before = t.clone();
    edit(&s, &mut t, &format!("<bfd {BFD}><session><name>s500</name><min-tx-interval>100</min-tx-interval></session></bfd>"), EditOp::Merge).unwrap();
    let changes = yang::diff::diff(&s, &before, &t);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        changes[0].path,
        "/bfd:bfd/bfd:session[bfd:name='s500']/bfd:min-tx-interval"
    );
    assert_eq!(
        (changes[0].old.as_deref(), changes[0].new.as_deref()),
        (Some("10"), Some("100"))
    );
    let (old_bfd, new_bfd) = (&before.roots[0], &t.roots[0]);
    let shared = old_bfd
        .children
        .iter()
        .zip(&new_bfd.children)
        .filter(|(a, b)| Arc::ptr_eq(a, b))
        .count();
    assert_eq!(shared, 999);
}

const ORDERED: &str = r#"module o {
  yang-version 1.1; namespace "urn:o"; prefix o;
  container c {
    list rule { key name; ordered-by user; leaf name { type string; } }
    leaf-list tag { type string; ordered-by user; }
  }
}"#;

#[test]
fn insert_positions_user_ordered_entries() {
    let s = SchemaBuilder::new()
        .without_embedded()
        .source("o.yang", ORDERED)
        .build()
        .unwrap();
    let mut t = DataTree::new();
    let y = r#"xmlns:yang="urn:ietf:params:xml:ns:yang:1""#;
    edit(&s, &mut t, r#"<c xmlns="urn:o"><rule><name>b</name></rule><rule><name>a</name></rule><tag>x</tag></c>"#, EditOp::Merge).unwrap();
    edit(&s, &mut t, &format!(r#"<c xmlns="urn:o" {y}><rule yang:insert="first"><name>z</name></rule><rule yang:insert="after" yang:key="[o:name='b']"><name>m</name></rule><tag yang:insert="before" yang:value="x">w</tag></c>"#), EditOp::Merge).unwrap();
    let x = explicit(&s, &t);
    let names: Vec<&str> = x
        .match_indices("<name>")
        .map(|(i, _)| &x[i + 6..i + 7])
        .collect();
    assert_eq!(names, ["z", "b", "m", "a"], "{x}");
    assert!(x.contains("<tag>w</tag><tag>x</tag>"), "{x}");
    let e = edit(&s, &mut t, &format!(r#"<c xmlns="urn:o" {y}><rule yang:insert="after" yang:key="[o:name='nope']"><name>q</name></rule></c>"#), EditOp::Merge).unwrap_err();
    assert_eq!(
        (e.tag, e.app_tag.as_deref()),
        (ErrorTag::BadAttribute, Some("missing-instance"))
    );
}

/// `put` sets, replaces and removes one node at an instance-identifier, copying only its path.
#[test]
fn put_sets_replaces_and_removes_a_node() {
    let s = schema();
    let mut t = DataTree::new();
    edit(
        &s,
        &mut t,
        &format!("<bfd {BFD}>{}{}</bfd>", session("a", 1), session("c", 3)),
        EditOp::Merge,
    )
    .unwrap();
    let before = t.clone();
    let mut other = DataTree::new();
    edit(
        &s,
        &mut other,
        &format!("<bfd {BFD}>{}</bfd>", session("b", 2)),
        EditOp::Merge,
    )
    .unwrap();
    let b = "/bfd:bfd/bfd:session[bfd:name='b']";
    let new_b = other.find(&s, b).unwrap().clone();
    // Inserted in key order, between a and c.
    t.put(&s, b, Some(new_b)).unwrap();
    let xml = explicit(&s, &t);
    let (ia, ib, ic) = (
        xml.find("<name>a</name>").unwrap(),
        xml.find("<name>b</name>").unwrap(),
        xml.find("<name>c</name>").unwrap(),
    );
    assert!(ia < ib && ib < ic, "{xml}");
    // A leaf replaced: the untouched entry stays shared with the old tree.
    let leaf = "/bfd:bfd/bfd:session[bfd:name='a']/bfd:detect-multiplier";
    let five = Arc::new(data::DataNode::leaf(t.find(&s, leaf).unwrap().schema, "5"));
    t.put(&s, leaf, Some(five)).unwrap();
    assert!(explicit(&s, &t).contains("<detect-multiplier>5</detect-multiplier>"));
    let c = "/bfd:bfd/bfd:session[bfd:name='c']";
    assert!(Arc::ptr_eq(
        t.find(&s, c).unwrap(),
        before.find(&s, c).unwrap()
    ));
    // Removed; removing what is not there is no error.
    t.put(&s, b, None).unwrap();
    t.put(&s, b, None).unwrap();
    assert!(t.find(&s, b).is_none());
    // A node whose parent is missing is refused.
    let e = t
        .put(
            &s,
            "/bfd:bfd/bfd:session[bfd:name='x']/bfd:detect-multiplier",
            None,
        )
        .unwrap_err();
    assert_eq!(e.tag, ErrorTag::DataMissing);
}
