//! The `yang` bridge: `/nacm` read from a data tree, and a reader's walk over [`TreePath`].
//!
//! `ietf-netconf-acm` here is a stand-in with the RFC's namespace and node names (the real
//! module arrives in the `yang` crate separately).

use std::sync::Arc;

use yang::data::{decode, DataNode, DataTree, DecodeOptions};
use yang::{Schema, SchemaBuilder};

use super::*;

const NACM_STAND_IN: &str = r#"module ietf-netconf-acm {
  yang-version 1.1;
  namespace "urn:ietf:params:xml:ns:yang:ietf-netconf-acm";
  prefix nacm;
  typedef action-type { type enumeration { enum permit; enum deny; } }
  container nacm {
    leaf enable-nacm { type boolean; default true; }
    leaf read-default { type action-type; default permit; }
    leaf write-default { type action-type; default deny; }
    leaf exec-default { type action-type; default permit; }
    leaf enable-external-groups { type boolean; default true; }
    container groups {
      list group { key name; leaf name { type string; } leaf-list user-name { type string; } }
    }
    list rule-list {
      key name; ordered-by user;
      leaf name { type string; }
      leaf-list group { type string; }
      list rule {
        key name; ordered-by user;
        leaf name { type string; }
        leaf module-name { type string; default "*"; }
        choice rule-type {
          case protocol-operation { leaf rpc-name { type string; } }
          case notification { leaf notification-name { type string; } }
          case data-node { leaf path { type string; mandatory true; } }
        }
        leaf access-operations { type string; default "*"; }
        leaf action { type action-type; mandatory true; }
        leaf comment { type string; }
      }
    }
  }
}"#;

const ACME: &str = r#"module acme-interfaces {
  yang-version 1.1;
  namespace "urn:acme:if";
  prefix acme;
  container interfaces {
    list interface {
      key name;
      leaf name { type string; }
      leaf mtu { type uint16; }
      leaf-list tag { type string; }
    }
  }
}"#;

fn schema() -> Schema {
    SchemaBuilder::new()
        .without_embedded()
        .source("ietf-netconf-acm.yang", NACM_STAND_IN)
        .source("acme-interfaces.yang", ACME)
        .build()
        .expect("test modules compile")
}

fn tree(schema: &Schema, xml: &str) -> DataTree {
    decode(schema, xml, DecodeOptions::default()).expect("test data decodes")
}

fn nacm_xml(rule_lists: &str) -> String {
    format!(
        r#"<nacm xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-acm">
             <read-default>deny</read-default>
             <enable-external-groups>false</enable-external-groups>
             <groups>
               <group><name>limited</name><user-name>wilma</user-name><user-name>bam-bam</user-name></group>
             </groups>
             {rule_lists}
           </nacm>"#
    )
}

#[test]
fn from_tree_reads_the_nacm_container() {
    let schema = schema();
    let xml = nacm_xml(
        r#"<rule-list><name>limited-acl</name><group>limited</group>
             <rule><name>permit-dummy</name><path>/acme:interfaces/interface[name='dummy']</path>
               <access-operations>read update</access-operations><action>permit</action>
               <comment>read and update the dummy interface</comment></rule>
             <rule><name>deny-kill</name><module-name>ietf-netconf</module-name>
               <rpc-name>kill-session</rpc-name><access-operations>exec</access-operations>
               <action>deny</action></rule>
             <rule><name>permit-events</name><notification-name>*</notification-name>
               <action>permit</action></rule>
             <rule><name>deny-acme</name><module-name>acme-interfaces</module-name>
               <action>deny</action></rule>
           </rule-list>
           <rule-list><name>everyone</name><group>*</group></rule-list>"#,
    );
    let nacm = Nacm::from_tree(&schema, &tree(&schema, &xml)).expect("valid");
    let resolve = schema_resolver(&schema);
    let dummy =
        NodePath::parse("/acme:interfaces/interface[name='dummy']", &resolve).expect("path");
    let expected = Nacm {
        read_default: Action::Deny,
        enable_external_groups: false,
        groups: vec![Group {
            name: "limited".into(),
            // user-name is ordered-by system: sorted.
            users: vec!["bam-bam".into(), "wilma".into()],
        }],
        rule_lists: vec![
            RuleList {
                name: "limited-acl".into(),
                groups: vec!["limited".into()],
                rules: vec![
                    Rule {
                        name: "permit-dummy".into(),
                        module_name: "*".into(),
                        target: Target::Path(dummy),
                        access: AccessSet::of(&[Operation::Read, Operation::Update]),
                        action: Action::Permit,
                        comment: Some("read and update the dummy interface".into()),
                    },
                    Rule {
                        name: "deny-kill".into(),
                        module_name: "ietf-netconf".into(),
                        target: Target::Rpc("kill-session".into()),
                        access: AccessSet::of(&[Operation::Exec]),
                        action: Action::Deny,
                        comment: None,
                    },
                    Rule {
                        name: "permit-events".into(),
                        module_name: "*".into(),
                        target: Target::Notification("*".into()),
                        access: AccessSet::ALL,
                        action: Action::Permit,
                        comment: None,
                    },
                    Rule {
                        name: "deny-acme".into(),
                        module_name: "acme-interfaces".into(),
                        target: Target::Any,
                        access: AccessSet::ALL,
                        action: Action::Deny,
                        comment: None,
                    },
                ],
            },
            RuleList {
                name: "everyone".into(),
                groups: vec!["*".into()],
                rules: Vec::new(),
            },
        ],
        ..Nacm::default()
    };
    assert_eq!(nacm, expected);
}

#[test]
fn from_tree_without_nacm_gives_the_defaults() {
    let schema = schema();
    let t = tree(&schema, r#"<interfaces xmlns="urn:acme:if"/>"#);
    assert_eq!(Nacm::from_tree(&schema, &t), Ok(Nacm::default()));
    assert_eq!(
        Nacm::from_tree(&schema, &DataTree::new()),
        Ok(Nacm::default())
    );
}

#[test]
fn from_tree_refuses_a_path_naming_an_unknown_module() {
    let schema = schema();
    let xml = nacm_xml(
        r#"<rule-list><name>noc-rules</name><group>limited</group>
             <rule><name>deny-vrrp</name><path>/ne-vrrp:vrrp</path><action>deny</action></rule>
           </rule-list>"#,
    );
    let err = Nacm::from_tree(&schema, &tree(&schema, &xml)).expect_err("unknown module");
    assert_eq!(
        err.to_string(),
        "rule 'deny-vrrp' of rule-list 'noc-rules': invalid path '/ne-vrrp:vrrp': \
         unknown module or prefix 'ne-vrrp'"
    );
}

#[test]
fn from_tree_refuses_a_path_to_a_node_the_schema_lacks() {
    let schema = schema();
    let rule = |path: &str| {
        nacm_xml(&format!(
            r#"<rule-list><name>l</name><group>limited</group>
                 <rule><name>r</name><path>{path}</path><action>deny</action></rule></rule-list>"#
        ))
    };
    let err = Nacm::from_tree(
        &schema,
        &tree(&schema, &rule("/acme:interfaces/interface/speed")),
    )
    .expect_err("no such leaf");
    assert_eq!(
        err.to_string(),
        "rule 'r' of rule-list 'l': invalid path '/acme:interfaces/interface/speed': \
         the schema has no node '/acme-interfaces:interfaces/interface/speed'"
    );
    for ok in [
        "/",
        "/acme:interfaces/interface[name='x']/tag",
        "/ietf-netconf-acm:nacm/groups",
    ] {
        assert!(
            Nacm::from_tree(&schema, &tree(&schema, &rule(ok))).is_ok(),
            "{ok}"
        );
    }
}

/// The interfaces `e0`..`e{n-1}`, each with a name, an mtu and a tag.
fn interfaces(schema: &Schema, n: usize) -> DataTree {
    let mut xml = String::from(r#"<interfaces xmlns="urn:acme:if">"#);
    for i in 0..n {
        xml.push_str(&format!(
            "<interface><name>e{i}</name><mtu>1500</mtu><tag>t{i}</tag></interface>"
        ));
    }
    xml.push_str("</interfaces>");
    tree(schema, &xml)
}

/// What a reader does: omit what may not be read, check a node only where the decision may
/// differ from its parent's. Returns the kept leaf paths and the number of checks made.
struct Walk<'a, 's, 'd> {
    access: &'a UserAccess<'a>,
    path: TreePath<'s, 'd>,
    checks: usize,
    kept: Vec<String>,
}

impl<'d> Walk<'_, '_, 'd> {
    fn nodes(&mut self, nodes: &'d [Arc<DataNode>], uniform: bool) {
        for n in nodes {
            self.path.push(n);
            let level = self.path.depth() - 1;
            let module_changed =
                level == 0 || self.path.module(level) != self.path.module(level - 1);
            let mut below = true;
            if !uniform || module_changed {
                self.checks += 1;
                let (decision, uniform_below) =
                    self.access
                        .data_and_below(Operation::Read, &self.path, None);
                if !decision.allowed {
                    self.path.pop();
                    continue;
                }
                below = uniform_below;
            }
            if n.children.is_empty() {
                self.kept.push(display_path(&self.path));
            }
            self.nodes(&n.children, below);
            self.path.pop();
        }
    }
}

fn walk<'a>(access: &'a UserAccess<'a>, schema: &Schema, t: &DataTree) -> (Vec<String>, usize) {
    let mut w = Walk {
        access,
        path: TreePath::new(schema),
        checks: 0,
        kept: Vec::new(),
    };
    w.nodes(&t.roots, false);
    (w.kept, w.checks)
}

/// 20 path rules: ten deny whole entries, one an entry's mtu, nine are about other modules.
fn restricted(schema: &Schema) -> Nacm {
    let resolve = schema_resolver(schema);
    let mut rules = Vec::new();
    for i in 0..10 {
        let text = format!("/acme:interfaces/interface[name='e{}']", i * 100);
        rules.push(Rule {
            name: format!("hide-e{}", i * 100),
            module_name: "*".into(),
            target: Nacm::compile_path("l", "r", &text, &resolve).expect("compiles"),
            access: AccessSet::of(&[Operation::Read]),
            action: Action::Deny,
            comment: None,
        });
    }
    let mtu = "/acme-interfaces:interfaces/interface[name='e5']/mtu";
    rules.push(Rule {
        name: "hide-e5-mtu".into(),
        module_name: "*".into(),
        target: Nacm::compile_path("l", "r", mtu, &resolve).expect("compiles"),
        access: AccessSet::ALL,
        action: Action::Deny,
        comment: None,
    });
    for i in 0..9 {
        rules.push(Rule {
            name: format!("other-{i}"),
            module_name: "*".into(),
            target: Nacm::compile_path("l", "r", "/ietf-netconf-acm:nacm/groups", &resolve)
                .expect("compiles"),
            access: AccessSet::ALL,
            action: Action::Deny,
            comment: None,
        });
    }
    Nacm {
        groups: vec![Group {
            name: "g".into(),
            users: vec!["noc".into()],
        }],
        rule_lists: vec![RuleList {
            name: "l".into(),
            groups: vec!["g".into()],
            rules,
        }],
        ..Nacm::default()
    }
}

#[test]
fn a_walk_checks_each_entry_once_and_skips_what_no_rule_reaches() {
    let schema = schema();
    let n = 1000;
    let data = interfaces(&schema, n);
    let nacm = restricted(&schema);
    let access = nacm.for_user("noc", &[], false);
    let (kept, checks) = walk(&access, &schema, &data);
    // The container, each entry, and the three children of e5 (the rule on its mtu).
    assert_eq!(checks, 1 + n + 3);
    // Ten entries gone with their three leaves each, and e5's mtu.
    assert_eq!(kept.len(), 3 * n - 3 * 10 - 1);
    assert!(
        kept.contains(&"/acme-interfaces:interfaces/interface[name='e5']/tag[.='t5']".to_string())
    );
    assert!(!kept.contains(&"/acme-interfaces:interfaces/interface[name='e5']/mtu".to_string()));
    assert!(!kept.iter().any(|p| p.contains("[name='e100']")));

    // Without path rules one check decides the whole subtree.
    let open = Nacm::default();
    let everyone = open.for_user("noc", &[], false);
    let (all, checks) = walk(&everyone, &schema, &data);
    assert_eq!((all.len(), checks), (3 * n, 1));
}

#[test]
fn tree_paths_read_keys_from_the_data() {
    let schema = schema();
    let data = interfaces(&schema, 2);
    let mut path = TreePath::new(&schema);
    let top = &data.roots[0];
    path.push(top);
    let e1 = &top.children[1];
    path.push(e1);
    assert_eq!(path.depth(), 2);
    assert_eq!(
        (path.module(1), path.name(1)),
        ("acme-interfaces", "interface")
    );
    assert_eq!(path.key_count(1), 1);
    assert_eq!(path.key(1, 0), ("name", "e1"));
    assert_eq!(path.key_value(1, "name"), Some("e1"));
    assert_eq!(path.key_count(0), 0);
    let tag = e1.children.last().expect("tag");
    path.push(tag);
    assert_eq!(
        display_path(&path),
        "/acme-interfaces:interfaces/interface[name='e1']/tag[.='t1']"
    );
    assert!(path.pop().is_some());
}
