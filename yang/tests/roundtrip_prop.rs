//! Property test: random valid configurations of the embedded models (interfaces with IPv4
//! addresses, VRRP groups and tracking, BFD sessions, monitoring groups, multicast) survive
//! encode -> decode in every with-defaults view that keeps all information, and encoding is
//! deterministic: the same data written with siblings shuffled and namespaces declared in any
//! style (default namespace, fresh prefixes, inherited prefixes) encodes identically.

mod support;

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use proptest::test_runner::Config;

use yang::data::{self, DataNode, DataTree, DecodeOptions, EncodeOptions, WithDefaults};
use yang::validate::{validate, ValidateOptions};
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

// ---------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------

const CONFIG: DecodeOptions = DecodeOptions { config_only: true };
const ALL: DecodeOptions = DecodeOptions { config_only: false };

fn view(with_defaults: WithDefaults) -> EncodeOptions {
    EncodeOptions {
        with_defaults,
        config_only: false,
    }
}

fn decode(xml: &str, opts: DecodeOptions) -> Result<DataTree, TestCaseError> {
    data::decode(schema(), xml, opts)
        .map_err(|e| TestCaseError::fail(format!("decode failed: {e}\n{xml}")))
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

/// A copy sharing nothing with the original: `add_defaults` skips subtrees shared with another
/// tree (it takes them as already complete).
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

fn check(c: &Conf, seed: u64) -> Result<(), TestCaseError> {
    let s = schema();
    let els = render(c, false);
    let plain = write(&els, &mut None);
    let shuffled = write(&els, &mut Some(Rng(seed | 1)));

    let tree = decode(&plain, CONFIG)?;
    let other = decode(&shuffled, CONFIG)?;
    prop_assert_eq!(&tree, &other, "shuffled document:\n{}", shuffled);

    // explicit, before defaults: everything there is explicit.
    let explicit = data::encode(s, &tree, view(WithDefaults::Explicit));
    prop_assert_eq!(
        &data::encode(s, &other, view(WithDefaults::Explicit)),
        &explicit
    );
    prop_assert_eq!(
        &decode(&explicit, CONFIG)?,
        &tree,
        "explicit view:\n{}",
        explicit
    );
    prop_assert_eq!(
        &data::encode(s, &decode(&explicit, CONFIG)?, view(WithDefaults::Explicit)),
        &explicit
    );
    prop_assert!(yang::diff::diff(s, &tree, &other).is_empty());
    let created = yang::diff::diff(s, &DataTree::new(), &tree);
    prop_assert_eq!(created.len(), tree.count());

    // With defaults: valid, and report-all keeps everything.
    let mut full = unshared(&tree);
    data::add_defaults(s, &mut full);
    if let Err(errs) = validate(s, &full, ValidateOptions::default()) {
        return Err(TestCaseError::fail(format!(
            "generated configuration is invalid: {errs:#?}\n{plain}"
        )));
    }
    let mut other_full = unshared(&other);
    data::add_defaults(s, &mut other_full);
    prop_assert_eq!(&other_full, &full);
    for mode in [
        WithDefaults::ReportAll,
        WithDefaults::ReportAllTagged,
        WithDefaults::Explicit,
        WithDefaults::Trim,
    ] {
        prop_assert_eq!(
            data::encode(s, &full, view(mode)),
            data::encode(s, &other_full, view(mode)),
            "{:?} output depends on the input order",
            mode
        );
    }
    for mode in [WithDefaults::ReportAll, WithDefaults::ReportAllTagged] {
        let out = data::encode(s, &full, view(mode));
        let back = decode(&out, CONFIG)?;
        prop_assert_eq!(
            without_default_flags(&back),
            without_default_flags(&full),
            "{:?} view:\n{}",
            mode,
            out
        );
        // Nothing is missing: adding defaults again changes nothing.
        let mut again = unshared(&back);
        data::add_defaults(s, &mut again);
        prop_assert_eq!(&again, &back);
    }
    // explicit after defaults: exactly what was configured.
    let explicit_after = data::encode(s, &full, view(WithDefaults::Explicit));
    prop_assert_eq!(&explicit_after, &explicit);
    let mut back = decode(&explicit_after, CONFIG)?;
    prop_assert_eq!(&back, &tree);
    data::add_defaults(s, &mut back);
    prop_assert_eq!(&back, &full);

    // With state data: a config view of it is the configuration.
    let stated = render(c, true);
    let with_state = decode(
        &write(&stated, &mut Some(Rng(seed.rotate_left(17) | 1))),
        ALL,
    )?;
    let config_view = data::encode(
        s,
        &with_state,
        EncodeOptions {
            with_defaults: WithDefaults::Explicit,
            config_only: true,
        },
    );
    prop_assert_eq!(&config_view, &explicit);
    let all = data::encode(s, &with_state, view(WithDefaults::Explicit));
    prop_assert_eq!(&decode(&all, ALL)?, &with_state);
    if !c.ifaces.is_empty() {
        prop_assert!(all.contains("<oper-status>"));
        prop_assert!(data::decode(s, &all, CONFIG).is_err());
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
    fn valid_configurations_round_trip(c in config(), seed in any::<u64>()) {
        check(&c, seed)?;
    }
}

/// The generator's output is not trivial: a fixed case has every kind of node.
#[test]
fn a_rich_case_round_trips() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut seen_vrrp = false;
    let mut seen_track = false;
    for _ in 0..64 {
        let c = config().new_tree(&mut runner).unwrap().current();
        let xml = write(&render(&c, false), &mut None);
        seen_vrrp |= xml.contains("<group>");
        seen_track |= xml.contains("<failure-ratio>") || xml.contains("<session>");
        check(&c, 7).unwrap();
    }
    assert!(
        seen_vrrp && seen_track,
        "the generator never made VRRP tracking"
    );
}
