//! Property test of the RFC 7951 JSON codec, on the random valid configurations of the XML
//! codec's property (tests/support/confgen.rs): XML -> tree -> JSON -> tree is the XML's tree;
//! JSON round-trips exactly in every with-defaults view that keeps all information, with state
//! data and in the config-only view; the same JSON with members and entries in any order, and
//! names module-qualified where they need not be, decodes to the same tree. A deterministic
//! sample is also checked against yanglint both ways.

mod support;

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use proptest::test_runner::Config;

use yang::data::json::{self, Value};
use yang::data::{self, DataNode, DataTree, DecodeOptions, EncodeOptions, WithDefaults};
use yang::{NodeKind, Schema, SchemaBuilder};

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

const CONFIG: DecodeOptions = DecodeOptions { config_only: true };
const ALL: DecodeOptions = DecodeOptions { config_only: false };

fn view(with_defaults: WithDefaults) -> EncodeOptions {
    EncodeOptions {
        with_defaults,
        config_only: false,
    }
}

fn xml_decode(xml: &str, opts: DecodeOptions) -> Result<DataTree, TestCaseError> {
    data::decode(schema(), xml, opts)
        .map_err(|e| TestCaseError::fail(format!("XML decode failed: {e}\n{xml}")))
}

fn json_decode(text: &str, opts: DecodeOptions) -> Result<DataTree, TestCaseError> {
    json::decode(schema(), text, opts)
        .map_err(|e| TestCaseError::fail(format!("JSON decode failed: {e}\n{text}")))
}

fn without_default_flags(t: &DataTree) -> DataTree {
    fn strip(nodes: &mut [Arc<DataNode>]) {
        for n in nodes {
            let n = Arc::make_mut(n);
            n.default = false;
            strip(&mut n.children);
        }
    }
    let mut t = t.clone();
    strip(&mut t.roots);
    t
}

/// A copy sharing nothing with the original (`add_defaults` skips shared subtrees).
fn unshared(t: &DataTree) -> DataTree {
    fn copy(n: &Arc<DataNode>) -> Arc<DataNode> {
        Arc::new(DataNode {
            children: n.children.iter().map(copy).collect(),
            ..(**n).clone()
        })
    }
    DataTree {
        roots: t.roots.iter().map(copy).collect(),
    }
}

fn without_empty_containers(s: &Schema, t: &DataTree) -> DataTree {
    fn prune(s: &Schema, nodes: &mut Vec<Arc<DataNode>>) {
        nodes.retain_mut(|n| {
            let n = Arc::make_mut(n);
            let mut children = std::mem::take(&mut n.children).into_vec();
            prune(s, &mut children);
            n.children = children.into();
            let sn = s.node(n.schema);
            !(sn.kind == NodeKind::Container && !sn.presence && n.children.is_empty())
        });
    }
    let mut t = t.clone();
    prune(s, &mut t.roots);
    t
}

/// Write a parsed JSON value back as text with object members and array entries shuffled and
/// some simple member names qualified with the module they inherit (both allowed on input).
/// Arrays of scalars are leaf-lists and arrays of objects lists, all ordered by the system
/// here, so their order carries nothing either.
fn rewrite(v: &Value<'_>, module: &str, rng: &mut Rng, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(n),
        Value::String(s) => json::write_string(s, out),
        Value::Array(items) => {
            let mut order: Vec<usize> = (0..items.len()).collect();
            shuffle(&mut order, rng);
            out.push('[');
            for (k, &i) in order.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                rewrite(&items[i], module, rng, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut order: Vec<usize> = (0..members.len()).collect();
            shuffle(&mut order, rng);
            out.push('{');
            for (k, &i) in order.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                let (name, value) = &members[i];
                let (m, local) = name.split_once(':').unwrap_or((module, name));
                let qualify = name.contains(':') || rng.below(3) == 0;
                let written = if qualify {
                    format!("{m}:{local}")
                } else {
                    local.to_string()
                };
                json::write_string(&written, out);
                // Insignificant white space here and there.
                out.push_str(if rng.below(4) == 0 { " :\n " } else { ":" });
                rewrite(value, m, rng, out);
            }
            out.push('}');
        }
    }
}

fn shuffle(v: &mut [usize], r: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = r.below(i + 1);
        v.swap(i, j);
    }
}

fn check(c: &Conf, seed: u64) -> Result<(), TestCaseError> {
    let s = schema();
    let xml = write(&render(c, false), &mut Some(Rng(seed | 1)));
    let tree = xml_decode(&xml, CONFIG)?;

    // XML -> tree -> JSON -> tree == XML -> tree, and the JSON is a fixed point.
    let out = json::encode(s, &tree, view(WithDefaults::Explicit));
    let back = json_decode(&out, CONFIG)?;
    prop_assert_eq!(&back, &tree, "JSON:\n{}", out);
    prop_assert_eq!(&json::encode(s, &back, view(WithDefaults::Explicit)), &out);

    // Any member order, entry order and (allowed) qualification decodes alike.
    let parsed = json::parse(&out).map_err(|e| TestCaseError::fail(format!("{e}\n{out}")))?;
    let mut other = String::new();
    rewrite(&parsed, "", &mut Rng(seed.rotate_left(29) | 1), &mut other);
    prop_assert_eq!(
        &json_decode(&other, CONFIG)?,
        &tree,
        "rewritten JSON:\n{}",
        other
    );

    // With defaults: report-all and report-all-tagged keep everything.
    let mut full = unshared(&tree);
    data::add_defaults(s, &mut full);
    for mode in [WithDefaults::ReportAll, WithDefaults::ReportAllTagged] {
        let out = json::encode(s, &full, view(mode));
        let back = json_decode(&out, CONFIG)?;
        prop_assert_eq!(
            without_default_flags(&back),
            without_default_flags(&full),
            "{:?} view:\n{}",
            mode,
            out
        );
    }
    // explicit after defaults: exactly what was configured; trim decodes to what, with the
    // defaults, trims to the same.
    prop_assert_eq!(&json::encode(s, &full, view(WithDefaults::Explicit)), &out);
    let trim = json::encode(s, &full, view(WithDefaults::Trim));
    let mut trimmed = json_decode(&trim, CONFIG)?;
    data::add_defaults(s, &mut trimmed);
    prop_assert_eq!(json::encode(s, &trimmed, view(WithDefaults::Trim)), trim);

    // With state data: round trip, and the config-only view is the configuration.
    let stated = xml_decode(
        &write(&render(c, true), &mut Some(Rng(seed.rotate_left(17) | 1))),
        ALL,
    )?;
    let all = json::encode(s, &stated, view(WithDefaults::Explicit));
    prop_assert_eq!(&json_decode(&all, ALL)?, &stated);
    let config_view = json::encode(
        s,
        &stated,
        EncodeOptions {
            with_defaults: WithDefaults::Explicit,
            config_only: true,
        },
    );
    prop_assert_eq!(&config_view, &out);
    if !c.ifaces.is_empty() {
        prop_assert!(all.contains("\"oper-status\":"));
        prop_assert!(json::decode(s, &all, CONFIG).is_err());
    }
    Ok(())
}

proptest! {
    #![proptest_config(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn json_round_trips(c in config(), seed in any::<u64>()) {
        check(&c, seed)?;
    }
}

/// A deterministic sample of configurations through yanglint: it accepts our JSON, and its
/// JSON of the XML decodes (with ours) to the tree the XML gives.
#[test]
fn yanglint_agrees_on_generated_configurations() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use std::process::Command;

    let exe = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("yanglint"))
        .find(|p| p.is_file());
    let Some(exe) = exe else {
        assert!(
            std::env::var_os("NE_REQUIRE_TOOLS").is_none(),
            "yanglint is required (NE_REQUIRE_TOOLS is set) but not on PATH"
        );
        eprintln!("SKIPPED: yanglint (libyang2-tools) not on PATH");
        return;
    };
    let s = schema();
    let dir = std::env::temp_dir().join(format!("yang-json-prop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let search = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("modules");
    let modules: Vec<_> = [
        "ne-types",
        "ne-interfaces",
        "ne-bfd",
        "ne-monitor-group",
        "ne-vrrp",
        "ne-multicast",
    ]
    .iter()
    .map(|m| search.join(format!("{m}.yang")))
    .collect();
    let run = |file: &std::path::Path, to_json: bool| -> String {
        let mut cmd = Command::new(&exe);
        cmd.args(["-t", "config", "-p"]).arg(&search);
        if to_json {
            cmd.args(["-f", "json"]);
        }
        let out = cmd
            .args(&modules)
            .arg(file)
            .output()
            .expect("yanglint runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !stderr.contains(" err"),
            "yanglint refused {}:\n{stderr}\n{}",
            file.display(),
            std::fs::read_to_string(file).unwrap_or_default()
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let mut runner = TestRunner::deterministic();
    for i in 0..24 {
        let c = config().new_tree(&mut runner).unwrap().current();
        let xml = write(&render(&c, false), &mut None);
        let tree = data::decode(s, &xml, CONFIG).unwrap();
        if tree.is_empty() {
            continue;
        }
        let ours = dir.join(format!("c{i}.json"));
        std::fs::write(&ours, json::encode(s, &tree, EncodeOptions::default())).unwrap();
        run(&ours, false);
        let xml_file = dir.join(format!("c{i}.xml"));
        std::fs::write(&xml_file, data::encode(s, &tree, EncodeOptions::default())).unwrap();
        let theirs = run(&xml_file, true);
        let decoded = json::decode(s, &theirs, CONFIG)
            .unwrap_or_else(|e| panic!("yanglint's JSON: {e}\n{theirs}"));
        // libyang leaves out empty non-presence containers, which carry nothing.
        assert_eq!(
            without_empty_containers(s, &decoded),
            without_empty_containers(s, &tree),
            "yanglint's JSON:\n{theirs}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
