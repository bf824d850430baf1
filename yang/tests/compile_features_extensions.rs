//! Exact feature sets, deviations of nodes a feature removed, and extension statements on
//! schema nodes (NACM's `default-deny-write` / `default-deny-all` in particular), and the
//! prefixes of modules that declare the same one.

use yang::schema::DefaultDeny;
use yang::{CompileError, NodeId, Schema, SchemaBuilder};

fn build(b: SchemaBuilder, sources: &[(&str, &str)]) -> Result<Schema, Vec<CompileError>> {
    let mut b = b.without_embedded();
    for (path, text) in sources {
        b = b.source(*path, *text);
    }
    b.build().map_err(|e| e.0)
}

fn ok(b: SchemaBuilder, sources: &[(&str, &str)]) -> Schema {
    build(b, sources).unwrap_or_else(|e| panic!("{}", show(&e)))
}

fn errors(b: SchemaBuilder, sources: &[(&str, &str)]) -> Vec<CompileError> {
    match build(b, sources) {
        Ok(_) => panic!("compiled, but an error was expected"),
        Err(e) => e,
    }
}

fn show(errors: &[CompileError]) -> String {
    errors.iter().map(|e| format!("{e}\n")).collect()
}

/// A schema node by its names from the top (choice and case nodes included).
fn try_node(s: &Schema, path: &str) -> Option<NodeId> {
    let mut cur: Vec<NodeId> = s
        .modules
        .iter()
        .flat_map(|m| m.data.iter().chain(&m.rpcs).chain(&m.notifications))
        .copied()
        .collect();
    let mut found = None;
    for part in path.trim_start_matches('/').split('/') {
        let hit = cur.iter().copied().find(|&c| s.node(c).name == part)?;
        found = Some(hit);
        cur = s.node(hit).children.clone();
    }
    found
}

fn node(s: &Schema, path: &str) -> NodeId {
    try_node(s, path).unwrap_or_else(|| panic!("no schema node {path}"))
}

// ---- exact feature sets -------------------------------------------------------------------

const FEATURED: &str = r#"module f {
  namespace "urn:f";
  prefix f;
  feature a;
  feature b;
  feature c { if-feature b; }
  container box {
    leaf with-a { if-feature a; type string; }
    leaf with-b { if-feature b; type string; }
    leaf with-c { if-feature c; type string; }
    leaf always { type string; }
  }
}
"#;

#[test]
fn an_exact_feature_set_enables_only_those_features() {
    let s = ok(SchemaBuilder::new(), &[("f.yang", FEATURED)]);
    let f = s.module(s.module_by_name("f").unwrap());
    assert_eq!(f.enabled_features, vec!["a", "b", "c"], "all on by default");

    let s = ok(
        SchemaBuilder::new().features("f", ["a"]),
        &[("f.yang", FEATURED)],
    );
    let f = s.module(s.module_by_name("f").unwrap());
    assert_eq!(f.enabled_features, vec!["a"]);
    assert!(try_node(&s, "/box/with-a").is_some());
    assert!(try_node(&s, "/box/with-b").is_none());
    assert!(try_node(&s, "/box/with-c").is_none());
    assert!(try_node(&s, "/box/always").is_some());

    // A feature's own if-feature still applies: c without b stays off.
    let s = ok(
        SchemaBuilder::new().features("f", ["c"]),
        &[("f.yang", FEATURED)],
    );
    assert!(s
        .module(s.module_by_name("f").unwrap())
        .enabled_features
        .is_empty());

    let s = ok(
        SchemaBuilder::new().features("f", []),
        &[("f.yang", FEATURED)],
    );
    assert!(s
        .module(s.module_by_name("f").unwrap())
        .enabled_features
        .is_empty());
    assert_eq!(
        s.data_children(node(&s, "/box")),
        vec![node(&s, "/box/always")]
    );
}

#[test]
fn an_exact_feature_set_names_existing_features() {
    let errs = errors(
        SchemaBuilder::new().features("f", ["a", "nope"]),
        &[("f.yang", FEATURED)],
    );
    assert_eq!(errs.len(), 1, "{}", show(&errs));
    assert_eq!(errs[0].file, "f");
    assert_eq!(
        errs[0].message,
        "feature 'nope' is not defined in module 'f'"
    );
    let errs = errors(
        SchemaBuilder::new().features("absent", ["a"]),
        &[("f.yang", FEATURED)],
    );
    assert!(
        errs[0]
            .message
            .contains("module 'absent', which is not loaded"),
        "{}",
        show(&errs)
    );
}

// ---- deviations of nodes a feature removed ------------------------------------------------

const DEVIATED: &str = r#"module dt {
  namespace "urn:dt";
  prefix dt;
  feature extra;
  container sys {
    leaf keep { type string; }
    container opt {
      if-feature extra;
      leaf inner { type string; }
      choice how { leaf one { type string; } }
    }
    leaf plain { type string; }
  }
  rpc reboot { if-feature extra; }
}
"#;

const DEVIATIONS: &str = r#"module devs {
  namespace "urn:devs";
  prefix d;
  import dt { prefix dt; }
  deviation /dt:sys/dt:opt/dt:inner { deviate replace { type uint8; } }
  deviation /dt:sys/dt:opt/dt:how/dt:one/dt:one { deviate not-supported; }
  deviation /dt:sys/dt:plain { deviate not-supported; }
  deviation /dt:reboot { deviate not-supported; }
}
"#;

#[test]
fn a_deviation_may_name_a_node_its_feature_removed() {
    let sources = [("dt.yang", DEVIATED), ("devs.yang", DEVIATIONS)];
    for (b, extra) in [
        (SchemaBuilder::new(), true),
        (SchemaBuilder::new().disable_feature("dt", "extra"), false),
    ] {
        let s = ok(b, &sources);
        assert_eq!(try_node(&s, "/sys/opt").is_some(), extra);
        let sys = node(&s, "/sys");
        let expected = match try_node(&s, "/sys/opt") {
            // Feature on: opt stays, with what the deviations left of it.
            Some(opt) => {
                assert_eq!(s.data_children(opt), vec![node(&s, "/sys/opt/inner")]);
                vec![node(&s, "/sys/keep"), opt]
            }
            None => vec![node(&s, "/sys/keep")],
        };
        assert_eq!(s.data_children(sys), expected);
        assert!(try_node(&s, "/reboot").is_none());
        let dt = s.module(s.module_by_name("dt").unwrap());
        assert!(dt.rpcs.is_empty());
        assert_eq!(dt.deviated_by, vec![s.module_by_name("devs").unwrap()]);
    }
    // A target that exists nowhere is still an error.
    let typo = DEVIATIONS.replace("dt:opt/dt:inner", "dt:opt/dt:innr");
    let errs = errors(
        SchemaBuilder::new().disable_feature("dt", "extra"),
        &[("dt.yang", DEVIATED), ("devs.yang", &typo)],
    );
    assert_eq!(errs.len(), 1, "{}", show(&errs));
    assert_eq!(errs[0].statement, "deviation /dt:sys/dt:opt/dt:innr");
    assert_eq!(errs[0].message, "deviation target node not found");
}

#[test]
fn problems_of_a_node_its_feature_removed_are_not_reported() {
    // With the feature off the identity does not exist, and neither does the leaf using it.
    let text = r#"module g {
  namespace "urn:g";
  prefix g;
  feature x;
  identity only-with-x { if-feature x; }
  leaf kind { if-feature x; type identityref { base only-with-x; } }
  list items { if-feature x; key id; leaf id { type string; } }
}
"#;
    let s = ok(
        SchemaBuilder::new().disable_feature("g", "x"),
        &[("g.yang", text)],
    );
    assert!(s.top_data_nodes().is_empty());
}

// ---- extensions on nodes --------------------------------------------------------------------

const NACM: &str = r#"module ietf-netconf-acm {
  namespace "urn:ietf:params:xml:ns:yang:ietf-netconf-acm";
  prefix nacm;
  extension default-deny-write;
  extension default-deny-all;
  container nacm { nacm:default-deny-all; leaf enable-nacm { type boolean; } }
}
"#;

const MARKED: &str = r#"module marked {
  namespace "urn:marked";
  prefix m;
  import ietf-netconf-acm { prefix ac; }
  import notes { prefix n; }
  container settings {
    ac:default-deny-write;
    n:note "sensitive";
    list user {
      key name;
      leaf name { type string; }
      leaf secret { type string; ac:default-deny-all; }
    }
    leaf both { type string; ac:default-deny-write; ac:default-deny-all; }
    uses n:marked-group;
  }
  leaf open { type string; n:flag; }
  rpc wipe { ac:default-deny-all; }
}
"#;

const NOTES: &str = r#"module notes {
  namespace "urn:notes";
  prefix no;
  import ietf-netconf-acm { prefix x; }
  extension note { argument text; }
  extension flag;
  grouping marked-group {
    leaf from-group { type string; x:default-deny-all; no:flag; }
  }
}
"#;

#[test]
fn nacm_marks_are_recorded_on_the_schema_nodes() {
    let s = ok(
        SchemaBuilder::new(),
        &[
            ("ietf-netconf-acm.yang", NACM),
            ("notes.yang", NOTES),
            ("marked.yang", MARKED),
        ],
    );
    let mark = |p: &str| s.node(node(&s, p)).nacm_default_deny();
    let effective = |p: &str| s.effective_default_deny(node(&s, p));
    assert_eq!(mark("/nacm"), Some(DefaultDeny::All));
    assert_eq!(mark("/nacm/enable-nacm"), None);
    assert_eq!(effective("/nacm/enable-nacm"), Some(DefaultDeny::All));
    assert_eq!(mark("/settings"), Some(DefaultDeny::Write));
    assert_eq!(mark("/settings/user"), None);
    assert_eq!(effective("/settings/user/name"), Some(DefaultDeny::Write));
    assert_eq!(mark("/settings/user/secret"), Some(DefaultDeny::All));
    assert_eq!(effective("/settings/user/secret"), Some(DefaultDeny::All));
    assert_eq!(mark("/settings/both"), Some(DefaultDeny::All), "all wins");
    // Written in a grouping of another module, with that module's prefix for NACM.
    assert_eq!(mark("/settings/from-group"), Some(DefaultDeny::All));
    assert_eq!(mark("/wipe"), Some(DefaultDeny::All));
    assert_eq!(mark("/open"), None);
    assert_eq!(effective("/open"), None);

    // Every extension use is kept, resolved to its module.
    let notes = s.module_by_name("notes").unwrap();
    let settings = s.node(node(&s, "/settings"));
    let uses: Vec<(&str, Option<&str>)> = settings
        .extensions
        .iter()
        .map(|e| (e.name.as_str(), e.arg.as_deref()))
        .collect();
    assert_eq!(
        uses,
        vec![("default-deny-write", None), ("note", Some("sensitive"))]
    );
    assert_eq!(settings.extensions[1].module, notes);
    let open = &s.node(node(&s, "/open")).extensions;
    assert_eq!((open[0].module, open[0].name.as_str()), (notes, "flag"));
}

#[test]
fn only_nacm_extensions_mark_nodes() {
    // An extension of the same name in another module is not NACM's.
    let other = r#"module other {
  namespace "urn:other";
  prefix o;
  extension default-deny-all;
  leaf x { type string; o:default-deny-all; }
}
"#;
    let s = ok(SchemaBuilder::new(), &[("other.yang", other)]);
    let x = s.node(node(&s, "/x"));
    assert_eq!(x.nacm_default_deny(), None);
    assert_eq!(x.extensions.len(), 1);
}

#[test]
fn extension_uses_are_checked() {
    let bad = r#"module bad {
  namespace "urn:bad";
  prefix b;
  import notes { prefix n; }
  leaf undefined { type string; n:nope; }
  leaf unknown-prefix { type string; zz:flag; }
  leaf missing-arg { type string; n:note; }
  leaf extra-arg { type string; n:flag "x"; }
}
"#;
    let errs = errors(
        SchemaBuilder::new(),
        &[
            ("ietf-netconf-acm.yang", NACM),
            ("notes.yang", NOTES),
            ("bad.yang", bad),
        ],
    );
    let at = |statement: &str| {
        errs.iter()
            .find(|e| e.statement == statement)
            .unwrap_or_else(|| panic!("no error on {statement}:\n{}", show(&errs)))
    };
    let e = at("n:nope");
    assert_eq!((e.file.as_str(), e.line), ("bad.yang", 5));
    assert_eq!(
        e.message,
        "extension 'nope' is not defined in module 'notes'"
    );
    assert_eq!(at("zz:flag").message, "unknown prefix 'zz'");
    assert_eq!(at("n:note").message, "the extension takes an argument");
    assert_eq!(at("n:flag x").message, "the extension takes no argument");
    assert_eq!(errs.len(), 4, "{}", show(&errs));
}

// ---- modules that declare the same prefix -----------------------------------------------

#[test]
fn modules_declaring_the_same_prefix_are_written_apart() {
    let first = r#"module first {
  namespace "urn:first";
  prefix p;
  identity kind;
  identity kind-a { base kind; }
  leaf a { type identityref { base kind; } }
}
"#;
    let second = r#"module second {
  namespace "urn:second";
  prefix p;
  identity kind;
  identity kind-b { base kind; }
  leaf b { type identityref { base kind; } }
}
"#;
    let s = ok(
        SchemaBuilder::new(),
        &[("first.yang", first), ("second.yang", second)],
    );
    let m = |n: &str| s.module(s.module_by_name(n).unwrap());
    assert_eq!(
        (
            m("first").prefix.as_str(),
            m("first").declared_prefix.as_str()
        ),
        ("p", "p")
    );
    assert_eq!(
        (
            m("second").prefix.as_str(),
            m("second").declared_prefix.as_str()
        ),
        ("second", "p")
    );
    assert_eq!(s.path(node(&s, "/b")), "/second:b");
    assert_eq!(s.path(node(&s, "/a")), "/p:a");
    // Identityref values keep their module through encoding and decoding.
    let xml = r#"<a xmlns="urn:first" xmlns:x="urn:first">x:kind-a</a><b xmlns="urn:second" xmlns:y="urn:second">y:kind-b</b>"#;
    let opts = yang::data::DecodeOptions { config_only: true };
    let tree = yang::data::decode(&s, xml, opts).unwrap();
    let out = yang::data::encode(&s, &tree, yang::data::EncodeOptions::default());
    assert!(out.contains(">second:kind-b</b>"), "{out}");
    assert!(out.contains(">p:kind-a</a>"), "{out}");
    let again = yang::data::decode(&s, &out, opts).unwrap();
    assert_eq!(
        yang::data::encode(&s, &again, yang::data::EncodeOptions::default()),
        out
    );
}
