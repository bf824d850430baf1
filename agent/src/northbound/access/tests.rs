//! The pieces of access control that need no server: the groups file, the schema's
//! homogeneous subtrees, and that pruning shares what it keeps.

use std::sync::Arc;

use yang::data::{decode, DecodeOptions};

use super::*;

fn schema() -> Arc<Schema> {
    Arc::new(yang::SchemaBuilder::new().embedded().build().unwrap())
}

#[test]
fn the_groups_file_is_one_line_per_user() {
    let users =
        groups::parse("# comment\nalice: ops noc\n\nbob:noc, ops # trailing\nalice: ops admin\n")
            .unwrap();
    assert_eq!(users["alice"], ["ops", "noc", "admin"]);
    assert_eq!(users["bob"], ["noc", "ops"]);
    assert_eq!(
        groups::parse("alice ops\n").unwrap_err(),
        "line 1: expected 'user: group...', got 'alice ops'"
    );
    assert!(groups::parse("two words: g\n").is_err());
}

#[test]
fn homogeneous_subtrees_are_of_one_module_without_marks() {
    let s = schema();
    let h = homogeneous(&s);
    let top = |ns: &str, name: &str| s.find_child(None, ns, name).unwrap();
    let bfd = top("urn:ne-agent:yang:ne-bfd", "bfd");
    let interfaces = top("urn:ne-agent:yang:ne-interfaces", "interfaces");
    let nacm = top(NAMESPACE, "nacm");
    assert!(h[bfd.0 as usize], "ne-bfd only");
    assert!(!h[interfaces.0 as usize], "VRRP, IGMP and PIM augment it");
    assert!(h[nacm.0 as usize], "its mark is on the container itself");
}

/// A reader that leaves one entry out copies only the path to it; the rest is shared.
#[test]
fn pruning_shares_what_it_keeps() {
    let s = schema();
    let xml = r#"<bfd xmlns="urn:ne-agent:yang:ne-bfd">
        <session><name>a</name><peer-ip>10.0.0.1</peer-ip><local-discriminator>1</local-discriminator></session>
        <session><name>b</name><peer-ip>10.0.0.2</peer-ip><local-discriminator>2</local-discriminator></session>
      </bfd>
      <monitor-groups xmlns="urn:ne-agent:yang:ne-monitor-group"><monitor-group><name>m</name></monitor-group></monitor-groups>"#;
    let tree = decode(&s, xml, DecodeOptions::default()).unwrap();
    let control = AccessControl::new(Arc::clone(&s), &DataTree::new());
    let nacm = Nacm {
        groups: vec![crate::northbound::nacm::Group {
            name: "g".into(),
            users: vec!["u".into()],
        }],
        rule_lists: vec![crate::northbound::nacm::RuleList {
            name: "l".into(),
            groups: vec!["g".into()],
            rules: vec![crate::northbound::nacm::Rule {
                name: "hide-a".into(),
                module_name: "*".into(),
                target: Nacm::compile_path(
                    "l",
                    "hide-a",
                    "/ne-bfd:bfd/session[name='a']",
                    &crate::northbound::nacm::schema_resolver(&s),
                )
                .unwrap(),
                access: crate::northbound::nacm::AccessSet::ALL,
                action: Action::Deny,
                comment: None,
            }],
        }],
        ..Nacm::default()
    };
    let check = control.checker(&nacm, "u", 1, false);
    let read = check.read(&tree);
    let named = |t: &DataTree, name: &str| {
        Arc::clone(
            t.roots
                .iter()
                .find(|r| s.node(r.schema).name == name)
                .unwrap(),
        )
    };
    let (bfd, mg) = (named(&read, "bfd"), named(&read, "monitor-groups"));
    let old_bfd = named(&tree, "bfd");
    assert!(
        Arc::ptr_eq(&mg, &named(&tree, "monitor-groups")),
        "untouched subtree shared"
    );
    assert!(
        !Arc::ptr_eq(&bfd, &old_bfd),
        "the path to the pruned entry is new"
    );
    assert_eq!(bfd.children.len(), 1);
    assert!(Arc::ptr_eq(&bfd.children[0], &old_bfd.children[1]));
    // Nothing left out: the very same nodes.
    let everyone = Nacm::default();
    let all = control.checker(&everyone, "u", 1, false).read(&tree);
    assert!(all
        .roots
        .iter()
        .zip(&tree.roots)
        .all(|(a, b)| Arc::ptr_eq(a, b)));
}
